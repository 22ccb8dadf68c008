/*
 * rng.h - seeded deterministic random numbers (xoshiro256**).
 *
 * Not cryptographic: for simulation, tests, election jitter and benchmarks,
 * where a printed seed must replay the same sequence. Keys and nonces come
 * from the crypto module (OpenSSL's RAND_bytes), never from here.
 * A struct rng is plain data: copy it to fork a stream; not thread-safe.
 */
#ifndef TC_BASE_RNG_H
#define TC_BASE_RNG_H

#include <stddef.h>
#include <stdint.h>

struct rng {
    uint64_t s[4];
};

/* Same seed, same sequence, on every platform. */
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, bound); bound must be > 0. Unbiased (rejection sampling). */
uint64_t rng_below(struct rng *r, uint64_t bound);
/* Uniform in [lo, hi] inclusive; lo <= hi. */
uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi);
/* True with probability per_million / 1e6. */
int rng_chance(struct rng *r, uint32_t per_million);
void rng_fill(struct rng *r, void *buf, size_t len);
/* A seed from the OS clock and pid, for "pick one and print it". */
uint64_t rng_fresh_seed(void);

#endif
