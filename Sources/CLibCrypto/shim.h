// OpenSSL's libcrypto (Debian's libssl-dev; libpq loads libcrypto.so.3 already), for
// what gmp needs of it: SHA-256, Ed25519 and random bytes (SystemCrypto wraps them).
// SHA-256 through its low-level API: its context is a plain struct a Swift value copies
// (HMAC's keyed pads, once per key), where an EVP_MD_CTX is a heap object to duplicate.
// That API is deprecated in OpenSSL 3, not removed; the warnings are silenced here only.
#ifndef GMP_CLIBCRYPTO_SHIM_H
#define GMP_CLIBCRYPTO_SHIM_H
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/hmac.h>  // for tests: an independent HMAC and SHA-256 (EVP) to compare with

// Ed25519 (RFC 8032) from a 32-byte private key (the seed), through EVP. Each returns 1
// on success, 0 otherwise.

/// The 32-byte public key of `seed`.
static inline int gmp_ed25519_public_key(const unsigned char seed[32], unsigned char out[32]) {
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    if (key == NULL) return 0;
    size_t length = 32;
    int ok = EVP_PKEY_get_raw_public_key(key, out, &length) == 1 && length == 32;
    EVP_PKEY_free(key);
    return ok;
}

/// The 64-byte signature of `message` by `seed`.
static inline int gmp_ed25519_sign(const unsigned char seed[32], const unsigned char *message, size_t count,
                                   unsigned char signature[64]) {
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    size_t length = 64;
    int ok = key != NULL && context != NULL
        && EVP_DigestSignInit(context, NULL, NULL, NULL, key) == 1
        && EVP_DigestSign(context, signature, &length, message, count) == 1 && length == 64;
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(key);
    return ok;
}

/// Whether `signature` (64 bytes) is `public_key`'s of `message`.
static inline int gmp_ed25519_verify(const unsigned char public_key[32], const unsigned char *message, size_t count,
                                     const unsigned char signature[64]) {
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key, 32);
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    int ok = key != NULL && context != NULL
        && EVP_DigestVerifyInit(context, NULL, NULL, NULL, key) == 1
        && EVP_DigestVerify(context, signature, 64, message, count) == 1;
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(key);
    return ok;
}

#endif
