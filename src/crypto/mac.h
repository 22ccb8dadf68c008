/*
 * mac.h - HMAC-SHA256 (OpenSSL 3 EVP_MAC).
 *
 * Two forms: a one-shot hmac_sha256(), and a keyed object that is set up
 * once and then used for many messages, from any number of threads at once
 * (each use works on a private copy of the keyed state), as the sealing
 * store does to hide every key it writes.
 *
 * Secrets: the keyed object holds the key inside OpenSSL's context until
 * hmac_sha256_key_free(); callers wipe their own key buffers.
 */
#ifndef TC_CRYPTO_MAC_H
#define TC_CRYPTO_MAC_H

#include <stddef.h>
#include <stdint.h>

#define HMAC_SHA256_BYTES 32

struct hmac_sha256_key;

/* HMAC-SHA256(key, data) into out. Returns 0 or TC_ECRYPTO. */
int hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, uint8_t out[32]);

/* Sets up a reusable keyed HMAC. Returns 0, TC_ENOMEM or TC_ECRYPTO; on
 * success the caller frees *out with hmac_sha256_key_free. */
int hmac_sha256_key_new(const void *key, size_t key_len, struct hmac_sha256_key **out);

/* HMAC of the concatenation of `count` parts (part i: ptrs[i], lens[i]).
 * Thread-safe on a shared key object. Returns 0 or TC_ECRYPTO. */
int hmac_sha256_parts(const struct hmac_sha256_key *k, const void *const *ptrs, const size_t *lens,
                      size_t count, uint8_t out[32]);

/* Frees the key object (NULL is fine). */
void hmac_sha256_key_free(struct hmac_sha256_key *k);

#endif
