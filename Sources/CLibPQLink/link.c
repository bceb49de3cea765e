#include <openssl/crypto.h>

#include "CLibPQLink.h"

int gmp_libpq_linked_statically(void) {
#ifdef GMP_LIBPQ_STATIC
    return 1;
#else
    return 0;
#endif
}

const char *gmp_openssl_version(void) {
    return OpenSSL_version(OPENSSL_VERSION);
}
