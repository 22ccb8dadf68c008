/*
 * bench_chain.c - costs of the chain data types on the commit path.
 *
 * The block entry holds 1,000 signed transfers (legacy, EIP-2930 and
 * EIP-1559 in turn), their receipts (every third with a log) and a write-set
 * of ~2,300 entries, as chain_fixture.h builds it. Measured per operation,
 * best of ROUNDS rounds:
 *   entry encode          block_entry_encode() into a reused buffer
 *   entry decode          block_entry_decode() (strict; parses every tx)
 *   entry check           block_entry_check(): tx and receipt roots, bloom,
 *                         gas arithmetic, write-set digest and stateRoot
 *   seal verify           block_verify_seal() (hash + secp256k1 recovery)
 * and for a write-set of n random storage writes (52-byte keys, 32-byte
 * values, appended in random order, 1 in 8 a rewrite of an earlier key):
 *   append                writeset_put() of all n into a cleared set
 *   sort                  writeset_canonicalize(): one sort, then de-duplication
 *   digest                writeset_digest(): keccak256 streamed over the encoding
 *
 * usage: bench_chain [rounds]   (default 20)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/rng.h"
#include "chain/entry.h"

#include "../tests/unit/chain/chain_fixture.h"

/* Keeps the compiler from discarding results. */
static volatile uint64_t sink;

static double us_since(uint64_t t0)
{
    return (double)(clock_monotonic_ns() - t0) / 1000.0;
}

static double min_d(double a, double b)
{
    return a < b ? a : b;
}

static int bench_entry(int rounds)
{
    struct chain_fixture f;
    if (chain_fixture_build(&f, 1000, 1) != 0) {
        fprintf(stderr, "fixture failed\n");
        return 1;
    }
    struct bytes enc;
    bytes_init(&enc);
    double t_enc = 1e300, t_dec = 1e300, t_chk = 1e300, t_seal = 1e300;
    uint8_t sealer[1][20];
    memcpy(sealer[0], f.block.header.coinbase, 20);
    for (int r = 0; r < rounds; r++) {
        bytes_clear(&enc);
        uint64_t t0 = clock_monotonic_ns();
        if (chain_fixture_encode(&f, &enc) != 0)
            return 1;
        t_enc = min_d(t_enc, us_since(t0));

        struct block_entry e;
        const char *reason = NULL;
        t0 = clock_monotonic_ns();
        if (block_entry_decode(bytes_as_view(&enc), &e, &reason) != 0) {
            fprintf(stderr, "decode: %s\n", reason);
            return 1;
        }
        t_dec = min_d(t_dec, us_since(t0));
        t0 = clock_monotonic_ns();
        if (block_entry_check(&e, f.parent_state_root, &reason) != 0) {
            fprintf(stderr, "check: %s\n", reason);
            return 1;
        }
        t_chk = min_d(t_chk, us_since(t0));
        t0 = clock_monotonic_ns();
        if (block_verify_seal(&e.block, (const uint8_t(*)[20])sealer, 1, &reason) != 0)
            return 1;
        t_seal = min_d(t_seal, us_since(t0));
        sink += e.receipt_count;
        block_entry_free(&e);
    }
    printf("block entry: %zu txs, %zu write-set entries, %zu bytes\n", f.n, writeset_count(&f.ws),
           enc.len);
    printf("  %-22s %10.1f us\n", "entry encode", t_enc);
    printf("  %-22s %10.1f us\n", "entry decode", t_dec);
    printf("  %-22s %10.1f us\n", "entry check", t_chk);
    printf("  %-22s %10.1f us\n", "seal verify", t_seal);
    bytes_free(&enc);
    chain_fixture_free(&f);
    return 0;
}

static int bench_writeset(size_t n, int rounds)
{
    struct rng rng;
    rng_seed(&rng, 42);
    uint8_t(*keys)[52] = malloc(n * sizeof(*keys));
    uint8_t(*values)[32] = malloc(n * sizeof(*values));
    if (!keys || !values)
        return 1;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && rng_below(&rng, 8) == 0)
            memcpy(keys[i], keys[rng_below(&rng, i)], 52);
        else
            rng_fill(&rng, keys[i], 52);
        rng_fill(&rng, values[i], 32);
    }
    struct writeset ws;
    writeset_init(&ws);
    double t_put = 1e300, t_sort = 1e300, t_digest = 1e300;
    uint8_t digest[32];
    for (int r = 0; r < rounds; r++) {
        writeset_clear(&ws);
        uint64_t t0 = clock_monotonic_ns();
        for (size_t i = 0; i < n; i++)
            if (writeset_put(&ws, WRITESET_NS_STORAGE, keys[i], 52, values[i], 32) != 0)
                return 1;
        t_put = min_d(t_put, us_since(t0));
        t0 = clock_monotonic_ns();
        writeset_canonicalize(&ws);
        t_sort = min_d(t_sort, us_since(t0));
        t0 = clock_monotonic_ns();
        if (writeset_digest(&ws, digest) != 0)
            return 1;
        t_digest = min_d(t_digest, us_since(t0));
        sink += digest[0];
    }
    printf("write-set: %zu writes, %zu distinct keys\n", n, writeset_count(&ws));
    printf("  %-22s %10.1f us\n", "append", t_put);
    printf("  %-22s %10.1f us\n", "sort (canonicalize)", t_sort);
    printf("  %-22s %10.1f us\n", "digest", t_digest);
    writeset_free(&ws);
    free(keys);
    free(values);
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    if (rounds <= 0)
        rounds = 20;
    printf("command: %s %d   (best of %d rounds)\n", argv[0], rounds, rounds);
    if (bench_entry(rounds) != 0 || bench_writeset(1000, rounds) != 0 ||
        bench_writeset(10000, rounds) != 0)
        return 1;
    return 0;
}
