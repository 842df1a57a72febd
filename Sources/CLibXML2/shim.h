// libxml2's C API (tree parser), used only to read *_MTL.xml. Debian: libxml2-dev.
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
