// OpenSSL's libcrypto, message digests only (EVP_Digest*). Debian: libssl-dev.
#include <openssl/evp.h>
