/*
 * kdf.h - HKDF with SHA-256 (RFC 5869), through OpenSSL's EVP_KDF.
 *
 * Derives the storage key and the transaction-encryption key from the chain
 * secret, and session keys from X25519 shared secrets. Use a distinct `info`
 * string per purpose so that keys for different purposes are independent.
 *
 * All buffers are the caller's; nothing is allocated that outlives a call.
 * Thread-safe. Every output buffer is wiped when a call fails.
 */
#ifndef TC_CRYPTO_KDF_H
#define TC_CRYPTO_KDF_H

#include <stddef.h>
#include <stdint.h>

#define HKDF_SHA256_PRK_BYTES 32
/* RFC 5869 §2.3: L <= 255 * HashLen. */
#define HKDF_SHA256_MAX_OUT_BYTES (255 * 32)

/*
 * Extract-then-expand: out[0..out_len) = HKDF-Expand(HKDF-Extract(salt, ikm),
 * info, out_len). salt may be NULL/0 (RFC 5869: then HashLen zero bytes);
 * info may be NULL/0; ikm may be NULL only when ikm_len is 0.
 * Returns 0; TC_EINVAL when out_len is 0 or above HKDF_SHA256_MAX_OUT_BYTES;
 * TC_ECRYPTO when OpenSSL fails.
 */
int hkdf_sha256(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

/* HKDF-Extract only (RFC 5869 §2.2): prk = HMAC-SHA256(salt, ikm). Returns as above. */
int hkdf_sha256_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                        uint8_t prk[32]);

/*
 * HKDF-Expand only (RFC 5869 §2.3) from a pseudorandom key of prk_len
 * (>= 32) bytes. Returns as hkdf_sha256(); TC_EINVAL also for a short prk.
 */
int hkdf_sha256_expand(const uint8_t *prk, size_t prk_len, const uint8_t *info, size_t info_len,
                       uint8_t *out, size_t out_len);

#endif
