// How gmp's libpq is linked (Package.swift, "libpq's link"): libpq, its pgcommon and
// pgport, libssl and libcrypto from their static archives, and libpq's GSSAPI and LDAP
// calls through forwarders that load those libraries on first use (deferred_auth.c).
#ifndef GMP_CLIBPQLINK_H
#define GMP_CLIBPQLINK_H

/// 1 when libpq is linked into gmp from its static archive, 0 when gmp loads libpq.so.5.
int gmp_libpq_linked_statically(void);

/// The OpenSSL version gmp runs with ("OpenSSL 3.0.19 27 Jan 2026"): the linked-in one when
/// static, the loaded libcrypto.so's otherwise.
const char *gmp_openssl_version(void);

#endif
