/*
 * keccak.h - Keccak-256 as Ethereum uses it, and SHA3-256 on the same sponge.
 *
 * Ethereum's "keccak256" (addresses, transaction hashes, the SHA3 opcode,
 * trie nodes) is the original Keccak submission with capacity 512 and the
 * padding byte 0x01. FIPS 202 SHA3-256 differs only in its padding byte
 * (0x06), so the two give different digests for the same input. OpenSSL 3.0
 * has no Keccak-256, hence this implementation.
 *
 * Usage: keccak256() for a buffer at hand; for data that arrives in pieces,
 * keccak256_init(), keccak256_update() any number of times, then
 * keccak256_final(). A context is plain caller-owned memory (no allocation,
 * nothing to free); it is not thread-safe, but distinct contexts may be used
 * from distinct threads at once. After keccak256_final() the context is wiped
 * and must be re-initialised before reuse.
 */
#ifndef TC_CRYPTO_KECCAK_H
#define TC_CRYPTO_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define KECCAK256_DIGEST_BYTES 32
/* Bytes absorbed per permutation: (1600 - 2 * 256) / 8. */
#define KECCAK256_RATE_BYTES 136

struct keccak256_ctx {
    uint64_t state[25];
    uint8_t buf[KECCAK256_RATE_BYTES]; /* a partial block not yet absorbed */
    size_t buf_len;
};

/* One-shot Keccak-256 of data[0..len) into out. data may be NULL when len is 0. */
void keccak256(const void *data, size_t len, uint8_t out[32]);

/* Starts a new hash in ctx. */
void keccak256_init(struct keccak256_ctx *ctx);
/* Absorbs data[0..len); data may be NULL when len is 0. */
void keccak256_update(struct keccak256_ctx *ctx, const void *data, size_t len);
/* Writes the digest of everything absorbed since init, then wipes ctx. */
void keccak256_final(struct keccak256_ctx *ctx, uint8_t out[32]);

/*
 * FIPS 202 SHA3-256 (padding 0x06) on the same permutation and sponge code.
 * It exists so that the permutation can be checked against an independent
 * implementation (OpenSSL's SHA3-256); the node itself hashes with keccak256.
 */
void sha3_256(const void *data, size_t len, uint8_t out[32]);

#endif
