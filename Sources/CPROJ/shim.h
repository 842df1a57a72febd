// PROJ's C API (coordinate operations). Debian: libproj-dev.
#include <proj.h>
