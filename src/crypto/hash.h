/*
 * hash.h - SHA-256 and RIPEMD-160 (OpenSSL 3 EVP).
 *
 * Used by the EVM precompiles 0x02 (SHA-256) and 0x03 (RIPEMD-160), by the
 * TEE module (report data) and wherever a standard hash is needed; Ethereum's
 * own hash is keccak256() in keccak.h.
 *
 * The digests are fetched from OpenSSL once, on first use, and are then
 * shared read-only: the functions are thread-safe. RIPEMD-160 is in
 * OpenSSL's default provider from 3.0.7 on; on an older 3.0.x the fetch
 * fails and this module then loads the "legacy" provider (together with
 * "default", so that nothing else loses its algorithms) and fetches it from
 * there. If neither has it, ripemd160() returns TC_EUNSUPPORTED.
 */
#ifndef TC_CRYPTO_HASH_H
#define TC_CRYPTO_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_BYTES    32
#define RIPEMD160_DIGEST_BYTES 20

/*
 * SHA-256 of data[0..len) into out (data may be NULL when len is 0).
 * Returns 0, or TC_ECRYPTO when OpenSSL fails (out is then undefined).
 */
int sha256(const void *data, size_t len, uint8_t out[32]);

/*
 * RIPEMD-160 of data[0..len) into out. Returns 0, TC_EUNSUPPORTED when no
 * provider offers RIPEMD-160, or TC_ECRYPTO when OpenSSL fails.
 */
int ripemd160(const void *data, size_t len, uint8_t out[20]);

#endif
