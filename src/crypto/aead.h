/*
 * aead.h - AES-256-GCM authenticated encryption (OpenSSL 3 EVP).
 *
 * Seals ledger values (with namespace and key as associated data) and the
 * payload of confidential transactions. Key 32 bytes, nonce 12 bytes, tag 16
 * bytes; ciphertext is as long as the plaintext.
 *
 * The caller owns every buffer. A (key, nonce) pair must never be used for
 * two different messages: GCM then leaks the XOR of the plaintexts and lets
 * an attacker forge tags. Draw nonces with crypto_random() or use a counter
 * that is never reset for the key's lifetime.
 *
 * aead_open() releases no plaintext unless the tag verifies: on any failure
 * the whole output buffer is wiped. Output may be the same buffer as input
 * (exactly, not partly overlapping). Thread-safe.
 */
#ifndef TC_CRYPTO_AEAD_H
#define TC_CRYPTO_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY_BYTES   32
#define AEAD_NONCE_BYTES 12
#define AEAD_TAG_BYTES   16

/*
 * Encrypts pt[0..len) into ct[0..len) and authenticates it together with
 * aad[0..aad_len); writes the tag. pt/aad may be NULL when their length is 0.
 * Returns 0; TC_ETOOBIG when len or aad_len exceeds INT_MAX; TC_ENOMEM;
 * TC_ECRYPTO when OpenSSL fails (ct and tag are then wiped).
 */
int aead_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
              const uint8_t *pt, size_t len, uint8_t *ct, uint8_t tag[16]);

/*
 * Checks tag over aad and ct[0..len) and decrypts into pt[0..len).
 * Returns 0; TC_ECRYPTO when the tag does not match (wrong key, nonce, aad,
 * ciphertext or tag) or OpenSSL fails; TC_ETOOBIG, TC_ENOMEM as aead_seal.
 * On any failure pt[0..len) is wiped.
 */
int aead_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
              const uint8_t *ct, size_t len, const uint8_t tag[16], uint8_t *pt);

#endif
