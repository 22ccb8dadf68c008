/*
 * bench_u256.c - nanoseconds per u256 operation on the EVM's hot path.
 *
 * Usage: bench_u256 [seed]
 *
 * Each operation runs over a table of seeded random operands of the stated
 * widths (so branch predictors see realistic variety), results folded into a
 * sink so that nothing is optimised away. The figure is the best of many
 * short passes: on a shared machine the fastest pass is the one that was not
 * preempted.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/clock.h"
#include "base/rng.h"
#include "base/u256.h"

#define TABLE    1024 /* operand sets, a power of two */
#define PASSES   40
#define DEC_TEXT 80

static u256 g_a[TABLE], g_b[TABLE], g_m[TABLE];
static char g_dec[TABLE][DEC_TEXT];
static volatile uint64_t g_sink;

/* A random number of exactly `bits` significant bits (top bit set). */
static u256 random_bits(struct rng *r, unsigned bits)
{
    u256 x;
    for (int i = 0; i < 4; i++)
        x.w[i] = rng_next(r);
    if (bits < 256)
        x = u256_and(x, u256_sub(u256_shl_bits(u256_one(), bits), u256_one()));
    x.w[(bits - 1) / 64] |= UINT64_C(1) << ((bits - 1) % 64);
    return x;
}

static uint64_t fold(u256 x)
{
    return x.w[0] ^ x.w[1] ^ x.w[2] ^ x.w[3];
}

enum bench_op {
    B_ADD,
    B_MUL,
    B_DIV,
    B_MULMOD,
    B_EXP,
    B_TO_DEC,
    B_FROM_DEC,
    B_TO_HEX,
};

/* One pass of `count` operations; returns elapsed nanoseconds. */
static uint64_t run_pass(enum bench_op op, uint64_t count)
{
    uint64_t sink = 0;
    uint64_t start = clock_monotonic_ns();
    for (uint64_t i = 0; i < count; i++) {
        size_t k = i & (TABLE - 1);
        switch (op) {
        case B_ADD:
            sink ^= fold(u256_add(g_a[k], g_b[k]));
            break;
        case B_MUL:
            sink ^= fold(u256_mul(g_a[k], g_b[k]));
            break;
        case B_DIV:
            sink ^= fold(u256_div(g_a[k], g_b[k]));
            break;
        case B_MULMOD:
            sink ^= fold(u256_mulmod(g_a[k], g_b[k], g_m[k]));
            break;
        case B_EXP:
            sink ^= fold(u256_exp(g_a[k], g_b[k]));
            break;
        case B_TO_DEC: {
            char out[U256_DEC_LEN];
            u256_to_dec(g_a[k], out);
            sink ^= (uint64_t)out[0] + (uint64_t)out[70];
            break;
        }
        case B_FROM_DEC: {
            u256 x;
            if (u256_from_dec(g_dec[k], &x) == 0)
                sink ^= fold(x);
            break;
        }
        case B_TO_HEX: {
            char out[U256_HEX_LEN];
            u256_to_hex(g_a[k], out);
            sink ^= (uint64_t)out[2] + (uint64_t)out[60];
            break;
        }
        }
    }
    uint64_t elapsed = clock_monotonic_ns() - start;
    g_sink ^= sink;
    return elapsed;
}

/* Fills the tables: a of a_bits, b of b_bits, m of m_bits (0: leave as is). */
static void fill(struct rng *r, unsigned a_bits, unsigned b_bits, unsigned m_bits)
{
    for (size_t i = 0; i < TABLE; i++) {
        g_a[i] = random_bits(r, a_bits);
        g_b[i] = random_bits(r, b_bits);
        if (m_bits != 0)
            g_m[i] = random_bits(r, m_bits);
    }
}

static void report(const char *name, const char *operands, enum bench_op op, uint64_t count)
{
    uint64_t best = UINT64_MAX;
    run_pass(op, count); /* warm-up */
    for (int p = 0; p < PASSES; p++) {
        uint64_t ns = run_pass(op, count);
        if (ns < best)
            best = ns;
    }
    printf("| %-12s | %-28s | %10.1f |\n", name, operands, (double)best / (double)count);
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
    struct rng r;
    rng_seed(&r, seed);

    printf("command:");
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\nseed: %" PRIu64 ", best of %d passes\n\n", seed, PASSES);
    printf("| %-12s | %-28s | %10s |\n", "operation", "operands (bits)", "ns/op");
    printf("|--------------|------------------------------|------------|\n");

    fill(&r, 256, 256, 0);
    report("add", "256 + 256", B_ADD, 1000000);
    report("mul", "256 * 256 (mod 2^256)", B_MUL, 500000);

    fill(&r, 256, 64, 0);
    report("div", "256 / 64", B_DIV, 100000);
    fill(&r, 256, 128, 0);
    report("div", "256 / 128", B_DIV, 100000);
    fill(&r, 256, 192, 0);
    report("div", "256 / 192", B_DIV, 100000);
    fill(&r, 256, 250, 0);
    report("div", "256 / 250", B_DIV, 100000);
    fill(&r, 128, 64, 0);
    report("div", "128 / 64", B_DIV, 100000);

    fill(&r, 256, 256, 256);
    report("mulmod", "256 * 256 % 256", B_MULMOD, 20000);
    fill(&r, 256, 256, 128);
    report("mulmod", "256 * 256 % 128", B_MULMOD, 20000);
    fill(&r, 256, 256, 64);
    report("mulmod", "256 * 256 % 64", B_MULMOD, 20000);

    fill(&r, 255, 256, 0);
    for (size_t i = 0; i < TABLE; i++)
        g_a[i].w[0] |= 1; /* odd bases: the product never collapses to zero */
    report("exp", "odd 255-bit ^ 256-bit", B_EXP, 1000);

    fill(&r, 256, 256, 0);
    for (size_t i = 0; i < TABLE; i++)
        u256_to_dec(g_a[i], g_dec[i]);
    report("to_dec", "256", B_TO_DEC, 20000);
    report("from_dec", "256 (78 digits)", B_FROM_DEC, 20000);
    report("to_hex", "256", B_TO_HEX, 50000);

    printf("\n(sink %" PRIx64 ")\n", (uint64_t)g_sink);
    return 0;
}
