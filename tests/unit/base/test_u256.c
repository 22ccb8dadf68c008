/*
 * test_u256.c - u256 against OpenSSL's BIGNUM on seeded random operands
 * (every EVM operation, its semantics re-implemented on BIGNUM, signed ones
 * through two's complement), known answers for the EVM's edge cases, and the
 * strictness of the parsers.
 *
 * The seed is printed; TC_SEED=<n> in the environment replays a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "base/error.h"
#include "base/rng.h"
#include "base/u256.h"

/* Random cases per operation. */
#define ROUNDS 30000

static uint64_t g_seed;
static BN_CTX *g_ctx;
static BIGNUM *g_two256;
static BIGNUM *g_max; /* 2^256 - 1 */

/* ---- helpers ------------------------------------------------------------ */

static u256 mk(uint64_t w3, uint64_t w2, uint64_t w1, uint64_t w0)
{
    u256 r = { { w0, w1, w2, w3 } };
    return r;
}

static u256 pow2(unsigned n)
{
    u256 r = u256_zero();
    r.w[n / 64] = UINT64_C(1) << (n % 64);
    return r;
}

static u256 hex(const char *s)
{
    u256 r;
    int rc = u256_from_hex(s, &r);
    if (rc != TC_OK)
        fail_msg("bad test constant %s", s);
    return r;
}

static u256 small_neg(uint64_t x)
{
    return u256_neg(u256_from_u64(x));
}

/* Diagnostics use their own formatting, not u256_to_hex, which is under test. */
static void limbs_str(u256 a, char out[80])
{
    snprintf(out, 80, "%016" PRIx64 "_%016" PRIx64 "_%016" PRIx64 "_%016" PRIx64, a.w[3], a.w[2],
             a.w[1], a.w[0]);
}

#define assert_u256_equal(got, want)                                                               \
    do {                                                                                           \
        u256 got_ = (got), want_ = (want);                                                         \
        if (!u256_eq(got_, want_)) {                                                               \
            char g_[80], w_[80];                                                                   \
            limbs_str(got_, g_);                                                                   \
            limbs_str(want_, w_);                                                                  \
            fail_msg("%s:\n  got  %s\n  want %s", #got, g_, w_);                                   \
        }                                                                                          \
    } while (0)

/* Big-endian bytes written here rather than with u256_to_be_bytes, which is under test. */
static void be32_of(u256 a, uint8_t out[32])
{
    for (int limb = 0; limb < 4; limb++) {
        for (int k = 0; k < 8; k++)
            out[31 - (8 * limb + k)] = (uint8_t)(a.w[limb] >> (8 * k));
    }
}

static u256 u256_of_be32(const uint8_t in[32])
{
    u256 r = u256_zero();
    for (int i = 0; i < 32; i++)
        r.w[(31 - i) / 8] |= (uint64_t)in[i] << (8 * ((31 - i) % 8));
    return r;
}

static void bn_set_u256(BIGNUM *out, u256 a)
{
    uint8_t be[32];
    be32_of(a, be);
    assert_non_null(BN_bin2bn(be, 32, out));
}

/* a read as two's complement: a - 2^256 when bit 255 is set. */
static void bn_set_signed(BIGNUM *out, u256 a)
{
    bn_set_u256(out, a);
    if (a.w[3] >> 63)
        assert_true(BN_sub(out, out, g_two256));
}

/* x mod 2^256 (non-negative), for any sign of x. */
static u256 u256_of_bn(const BIGNUM *x)
{
    BIGNUM *t = BN_new();
    uint8_t be[32];
    assert_non_null(t);
    assert_true(BN_nnmod(t, x, g_two256, g_ctx));
    assert_int_equal(BN_bn2binpad(t, be, 32), 32);
    BN_free(t);
    return u256_of_be32(be);
}

/* ---- operand generation ------------------------------------------------- */

static const u256 *specials(size_t *count)
{
    static u256 list[32];
    static size_t n;
    if (n == 0) {
        list[n++] = u256_zero();
        list[n++] = u256_one();
        list[n++] = u256_from_u64(2);
        list[n++] = u256_from_u64(3);
        list[n++] = u256_from_u64(10);
        list[n++] = pow2(63);
        list[n++] = u256_from_u64(UINT64_MAX);
        list[n++] = pow2(64);
        list[n++] = u256_add(pow2(64), u256_one());
        list[n++] = pow2(127);
        list[n++] = u256_sub(pow2(128), u256_one());
        list[n++] = pow2(128);
        list[n++] = u256_add(pow2(128), u256_one());
        list[n++] = u256_sub(pow2(192), u256_one());
        list[n++] = pow2(192);
        list[n++] = u256_add(pow2(192), u256_one());
        list[n++] = u256_sub(pow2(255), u256_one());
        list[n++] = pow2(255);
        list[n++] = u256_add(pow2(255), u256_one());
        list[n++] = u256_sub(u256_max(), u256_one());
        list[n++] = u256_max();
        list[n++] = mk(0, 0, 0, UINT64_C(10000000000000000000));
        list[n++] = mk(0x7fffffffffffffff, UINT64_MAX, UINT64_MAX, UINT64_MAX);
        list[n++] = mk(1, 0, 0, 0);
        list[n++] = mk(0, 1, 0, 0);
    }
    *count = n;
    return list;
}

/* Limb values that provoke carries, borrows and quotient corrections. */
static uint64_t structured_limb(struct rng *r)
{
    static const uint64_t limbs[] = {
        0,
        1,
        2,
        UINT64_C(1) << 63,
        (UINT64_C(1) << 63) - 1,
        (UINT64_C(1) << 63) + 1,
        UINT64_MAX,
        UINT64_MAX - 1,
        UINT64_MAX >> 32,
        UINT64_C(1) << 32,
    };
    if (rng_chance(r, 200000))
        return rng_next(r);
    return limbs[rng_below(r, sizeof(limbs) / sizeof(limbs[0]))];
}

static u256 gen_operand(struct rng *r)
{
    size_t n_special;
    const u256 *special = specials(&n_special);
    u256 x = u256_zero();
    switch (rng_below(r, 7)) {
    case 0:
        return special[rng_below(r, n_special)];
    case 1: { /* a random number of limbs, 1..4 */
        unsigned limbs = (unsigned)rng_range(r, 1, 4);
        for (unsigned i = 0; i < limbs; i++)
            x.w[i] = rng_next(r);
        return x;
    }
    case 2: { /* a random bit length, 0..256 */
        unsigned bits = (unsigned)rng_below(r, 257);
        for (unsigned i = 0; i < 4; i++)
            x.w[i] = rng_next(r);
        return bits == 256 ? x : u256_and(x, u256_sub(pow2(bits), u256_one()));
    }
    case 3:
        for (unsigned i = 0; i < 4; i++)
            x.w[i] = structured_limb(r);
        return x;
    case 4: { /* next to a special value */
        u256 d = u256_from_u64(rng_below(r, 4));
        x = special[rng_below(r, n_special)];
        return rng_chance(r, 500000) ? u256_add(x, d) : u256_sub(x, d);
    }
    case 5: /* small */
        return u256_from_u64(rng_below(r, 1000));
    default:
        for (unsigned i = 0; i < 4; i++)
            x.w[i] = rng_next(r);
        return x;
    }
}

/* A second operand related to the first: one limb changed, just above or
 * below, a shifted copy (a divisor just below the dividend), or independent. */
static u256 gen_related(struct rng *r, u256 a)
{
    u256 b;
    switch (rng_below(r, 7)) {
    case 0:
        b = a;
        b.w[rng_below(r, 4)] = structured_limb(r);
        return b;
    case 1:
        return u256_add(a, u256_from_u64(rng_range(r, 1, 3)));
    case 2:
        return u256_sub(a, u256_from_u64(rng_range(r, 1, 3)));
    case 3: {
        unsigned shift = (unsigned)rng_range(r, 1, 255);
        b = u256_shr_bits(a, shift);
        return rng_chance(r, 500000) ? u256_add(b, u256_from_u64(rng_below(r, 3))) : b;
    }
    case 4:
        return a;
    default:
        return gen_operand(r);
    }
}

/* A shift amount or byte index: mostly near the interesting range, sometimes huge. */
static u256 gen_index(struct rng *r)
{
    if (rng_chance(r, 700000))
        return u256_from_u64(rng_below(r, 300));
    return gen_operand(r);
}

/* ---- the operations and their references -------------------------------- */

enum op {
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_ADD_OVERFLOW,
    OP_MUL_OVERFLOW,
    OP_MUL_FULL_HI,
    OP_NEG,
    OP_DIV,
    OP_MOD,
    OP_DIV_REM,
    OP_SDIV,
    OP_SMOD,
    OP_ADDMOD,
    OP_MULMOD,
    OP_EXP,
    OP_SIGNEXTEND,
    OP_SHL,
    OP_SHR,
    OP_SAR,
    OP_BYTE,
    OP_AND,
    OP_OR,
    OP_XOR,
    OP_NOT,
    OP_CMP,
    OP_LT,
    OP_GT,
    OP_SLT,
    OP_SGT,
    OP_EQ,
    OP_IS_ZERO,
    OP_BIT_LENGTH,
    OP_BYTE_LENGTH,
    OP_FITS_U64,
};

static const char *const op_names[] = {
    [OP_ADD] = "add",
    [OP_SUB] = "sub",
    [OP_MUL] = "mul",
    [OP_ADD_OVERFLOW] = "add_overflow",
    [OP_MUL_OVERFLOW] = "mul_overflow",
    [OP_MUL_FULL_HI] = "mul_full",
    [OP_NEG] = "neg",
    [OP_DIV] = "div",
    [OP_MOD] = "mod",
    [OP_DIV_REM] = "div_rem",
    [OP_SDIV] = "sdiv",
    [OP_SMOD] = "smod",
    [OP_ADDMOD] = "addmod",
    [OP_MULMOD] = "mulmod",
    [OP_EXP] = "exp",
    [OP_SIGNEXTEND] = "signextend",
    [OP_SHL] = "shl",
    [OP_SHR] = "shr",
    [OP_SAR] = "sar",
    [OP_BYTE] = "byte",
    [OP_AND] = "and",
    [OP_OR] = "or",
    [OP_XOR] = "xor",
    [OP_NOT] = "not",
    [OP_CMP] = "cmp",
    [OP_LT] = "lt",
    [OP_GT] = "gt",
    [OP_SLT] = "slt",
    [OP_SGT] = "sgt",
    [OP_EQ] = "eq",
    [OP_IS_ZERO] = "is_zero",
    [OP_BIT_LENGTH] = "bit_length",
    [OP_BYTE_LENGTH] = "byte_length",
    [OP_FITS_U64] = "fits_u64",
};

static u256 of_bool(bool b)
{
    return u256_from_u64(b ? 1 : 0);
}

/* Results that are not a u256 (flags, -1/0/1, a pair) are folded into one. */
static u256 implementation(enum op op, u256 a, u256 b, u256 c)
{
    u256 t, q, rem;
    switch (op) {
    case OP_ADD:
        return u256_add(a, b);
    case OP_SUB:
        return u256_sub(a, b);
    case OP_MUL:
        return u256_mul(a, b);
    case OP_ADD_OVERFLOW: {
        bool over = u256_add_overflow(a, b, &t);
        assert_u256_equal(t, u256_add(a, b));
        return of_bool(over);
    }
    case OP_MUL_OVERFLOW: {
        bool over = u256_mul_overflow(a, b, &t);
        assert_u256_equal(t, u256_mul(a, b));
        return of_bool(over);
    }
    case OP_MUL_FULL_HI:
        u256_mul_full(a, b, &t, &q);
        assert_u256_equal(q, u256_mul(a, b));
        return t;
    case OP_NEG:
        return u256_neg(a);
    case OP_DIV:
        return u256_div(a, b);
    case OP_MOD:
        return u256_mod(a, b);
    case OP_DIV_REM:
        /* The quotient is compared with the reference, the remainder with u256_mod
         * (itself checked against BIGNUM by OP_MOD). */
        u256_div_rem(a, b, &q, &rem);
        assert_u256_equal(rem, u256_mod(a, b));
        return q;
    case OP_SDIV:
        return u256_sdiv(a, b);
    case OP_SMOD:
        return u256_smod(a, b);
    case OP_ADDMOD:
        return u256_addmod(a, b, c);
    case OP_MULMOD:
        return u256_mulmod(a, b, c);
    case OP_EXP:
        return u256_exp(a, b);
    case OP_SIGNEXTEND:
        return u256_signextend(a, b);
    case OP_SHL:
        return u256_shl(a, b);
    case OP_SHR:
        return u256_shr(a, b);
    case OP_SAR:
        return u256_sar(a, b);
    case OP_BYTE:
        return u256_byte(a, b);
    case OP_AND:
        return u256_and(a, b);
    case OP_OR:
        return u256_or(a, b);
    case OP_XOR:
        return u256_xor(a, b);
    case OP_NOT:
        return u256_not(a);
    case OP_CMP:
        return u256_from_u64((uint64_t)(u256_cmp(a, b) + 1));
    case OP_LT:
        return of_bool(u256_lt(a, b));
    case OP_GT:
        return of_bool(u256_gt(a, b));
    case OP_SLT:
        return of_bool(u256_slt(a, b));
    case OP_SGT:
        return of_bool(u256_sgt(a, b));
    case OP_EQ:
        return of_bool(u256_eq(a, b));
    case OP_IS_ZERO:
        return of_bool(u256_is_zero(a));
    case OP_BIT_LENGTH:
        return u256_from_u64(u256_bit_length(a));
    case OP_BYTE_LENGTH:
        return u256_from_u64(u256_byte_length(a));
    case OP_FITS_U64:
        assert_int_equal(u256_low_u64(a), a.w[0]);
        return of_bool(u256_fits_u64(a));
    }
    fail_msg("unknown op %d", (int)op);
    return u256_zero();
}

/* An index operand as an integer, saturated at `limit`. */
static unsigned bn_small(const BIGNUM *x, unsigned limit)
{
    if (BN_num_bits(x) > 32)
        return limit;
    BN_ULONG v = BN_get_word(x);
    return v > limit ? limit : (unsigned)v;
}

/* x mod 2^bits (BN_mask_bits fails on numbers already shorter). */
static void bn_truncate(BIGNUM *x, int bits)
{
    if (BN_num_bits(x) > bits)
        assert_true(BN_mask_bits(x, bits));
}

/* Bitwise operations have no BIGNUM counterpart: byte by byte on big-endian arrays. */
static u256 bytewise(enum op op, u256 a, u256 b)
{
    uint8_t x[32], y[32], z[32];
    be32_of(a, x);
    be32_of(b, y);
    for (int i = 0; i < 32; i++) {
        switch (op) {
        case OP_AND:
            z[i] = x[i] & y[i];
            break;
        case OP_OR:
            z[i] = x[i] | y[i];
            break;
        default:
            z[i] = x[i] ^ y[i];
            break;
        }
    }
    return u256_of_be32(z);
}

static u256 reference(enum op op, u256 ua, u256 ub, u256 uc)
{
    BN_CTX_start(g_ctx);
    BIGNUM *a = BN_CTX_get(g_ctx), *b = BN_CTX_get(g_ctx), *c = BN_CTX_get(g_ctx);
    BIGNUM *sa = BN_CTX_get(g_ctx), *sb = BN_CTX_get(g_ctx), *r = BN_CTX_get(g_ctx);
    BIGNUM *t = BN_CTX_get(g_ctx);
    assert_non_null(t);
    bn_set_u256(a, ua);
    bn_set_u256(b, ub);
    bn_set_u256(c, uc);
    bn_set_signed(sa, ua);
    bn_set_signed(sb, ub);
    BN_zero(r);

    switch (op) {
    case OP_ADD:
        assert_true(BN_add(r, a, b));
        break;
    case OP_SUB:
        assert_true(BN_sub(r, a, b));
        break;
    case OP_MUL:
        assert_true(BN_mul(r, a, b, g_ctx));
        break;
    case OP_ADD_OVERFLOW:
        assert_true(BN_add(t, a, b));
        BN_set_word(r, BN_cmp(t, g_two256) >= 0);
        break;
    case OP_MUL_OVERFLOW:
        assert_true(BN_mul(t, a, b, g_ctx));
        BN_set_word(r, BN_cmp(t, g_two256) >= 0);
        break;
    case OP_MUL_FULL_HI:
        assert_true(BN_mul(t, a, b, g_ctx));
        assert_true(BN_rshift(r, t, 256));
        break;
    case OP_NEG:
        assert_true(BN_sub(r, r, a));
        break;
    case OP_DIV:
    case OP_DIV_REM:
        if (!BN_is_zero(b))
            assert_true(BN_div(r, NULL, a, b, g_ctx));
        break;
    case OP_MOD:
        if (!BN_is_zero(b))
            assert_true(BN_div(NULL, r, a, b, g_ctx));
        break;
    case OP_SDIV: /* BN_div truncates toward zero, as SDIV does */
        if (!BN_is_zero(sb))
            assert_true(BN_div(r, NULL, sa, sb, g_ctx));
        break;
    case OP_SMOD: /* BN_div's remainder takes the dividend's sign, as SMOD's does */
        if (!BN_is_zero(sb))
            assert_true(BN_div(NULL, r, sa, sb, g_ctx));
        break;
    case OP_ADDMOD:
        if (!BN_is_zero(c))
            assert_true(BN_mod_add(r, a, b, c, g_ctx));
        break;
    case OP_MULMOD:
        if (!BN_is_zero(c))
            assert_true(BN_mod_mul(r, a, b, c, g_ctx));
        break;
    case OP_EXP:
        assert_true(BN_mod_exp(r, a, b, g_two256, g_ctx));
        break;
    case OP_SIGNEXTEND: {
        unsigned k = bn_small(a, 31);
        assert_non_null(BN_copy(r, b));
        if (k < 31) {
            int bits = 8 * (int)k + 8;
            bn_truncate(r, bits);
            if (BN_is_bit_set(b, bits - 1)) {
                BN_zero(t);
                assert_true(BN_set_bit(t, bits));
                assert_true(BN_sub(t, g_two256, t));
                assert_true(BN_add(r, r, t));
            }
        }
        break;
    }
    case OP_SHL: {
        unsigned n = bn_small(a, 256);
        if (n < 256)
            assert_true(BN_lshift(r, b, (int)n));
        break;
    }
    case OP_SHR: {
        unsigned n = bn_small(a, 256);
        if (n < 256)
            assert_true(BN_rshift(r, b, (int)n));
        break;
    }
    case OP_SAR: {
        /* Floor division by 2^n: -ceil(|x| / 2^n) for a negative x. */
        unsigned n = bn_small(a, 256);
        if (!BN_is_negative(sb)) {
            if (n < 256)
                assert_true(BN_rshift(r, sb, (int)n));
        } else {
            BIGNUM *mag = BN_CTX_get(g_ctx);
            assert_non_null(mag);
            assert_non_null(BN_copy(mag, sb));
            BN_set_negative(mag, 0);
            BN_zero(t);
            assert_true(BN_set_bit(t, (int)n));
            assert_true(BN_sub_word(t, 1));
            assert_true(BN_add(mag, mag, t));
            assert_true(BN_rshift(r, mag, (int)n));
            BN_set_negative(r, 1);
        }
        break;
    }
    case OP_BYTE: {
        unsigned i = bn_small(a, 32);
        if (i < 32) {
            assert_true(BN_rshift(r, b, (int)(8 * (31 - i))));
            bn_truncate(r, 8);
        }
        break;
    }
    case OP_AND:
    case OP_OR:
    case OP_XOR:
        BN_CTX_end(g_ctx);
        return bytewise(op, ua, ub);
    case OP_NOT:
        assert_true(BN_sub(r, g_max, a));
        break;
    case OP_CMP:
        BN_set_word(r, (BN_ULONG)(BN_cmp(a, b) + 1));
        break;
    case OP_LT:
        BN_set_word(r, BN_cmp(a, b) < 0);
        break;
    case OP_GT:
        BN_set_word(r, BN_cmp(a, b) > 0);
        break;
    case OP_SLT:
        BN_set_word(r, BN_cmp(sa, sb) < 0);
        break;
    case OP_SGT:
        BN_set_word(r, BN_cmp(sa, sb) > 0);
        break;
    case OP_EQ:
        BN_set_word(r, BN_cmp(a, b) == 0);
        break;
    case OP_IS_ZERO:
        BN_set_word(r, BN_is_zero(a));
        break;
    case OP_BIT_LENGTH:
        BN_set_word(r, (BN_ULONG)BN_num_bits(a));
        break;
    case OP_BYTE_LENGTH:
        BN_set_word(r, (BN_ULONG)BN_num_bytes(a));
        break;
    case OP_FITS_U64:
        BN_set_word(r, BN_num_bits(a) <= 64);
        break;
    }
    u256 out = u256_of_bn(r);
    BN_CTX_end(g_ctx);
    return out;
}

/* Operands for one random case of `op`. */
static void gen_case(struct rng *r, enum op op, u256 *a, u256 *b, u256 *c)
{
    switch (op) {
    case OP_SIGNEXTEND:
    case OP_SHL:
    case OP_SHR:
    case OP_SAR:
    case OP_BYTE:
        *a = gen_index(r);
        *b = gen_operand(r);
        break;
    case OP_EXP:
        *a = gen_operand(r);
        *b = rng_chance(r, 300000) ? u256_from_u64(rng_below(r, 300)) : gen_operand(r);
        break;
    default:
        *a = gen_operand(r);
        *b = gen_related(r, *a);
        if (rng_chance(r, 500000)) {
            u256 t = *a;
            *a = *b;
            *b = t;
        }
        break;
    }
    /* The modulus of addmod/mulmod: independent, or near an operand. */
    *c = rng_chance(r, 700000) ? gen_operand(r) : gen_related(r, *b);
}

static void run_differential(enum op op, uint64_t stream)
{
    struct rng r;
    rng_seed(&r, g_seed ^ (stream * UINT64_C(0x9e3779b97f4a7c15)));
    for (int i = 0; i < ROUNDS; i++) {
        u256 a, b, c;
        gen_case(&r, op, &a, &b, &c);
        u256 got = implementation(op, a, b, c);
        u256 want = reference(op, a, b, c);
        if (!u256_eq(got, want)) {
            char sa[80], sb[80], sc[80], sg[80], sw[80];
            limbs_str(a, sa);
            limbs_str(b, sb);
            limbs_str(c, sc);
            limbs_str(got, sg);
            limbs_str(want, sw);
            fail_msg("%s differs from BIGNUM (TC_SEED=%" PRIu64 ", case %d)\n  a    %s\n  b    %s\n"
                     "  c    %s\n  got  %s\n  want %s",
                     op_names[op], g_seed, i, sa, sb, sc, sg, sw);
        }
    }
}

static void run_ops(const enum op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++)
        run_differential(ops[i], (uint64_t)ops[i] + 1);
}

/* ---- differential tests ------------------------------------------------- */

static void test_add_sub_mul_match_bignum(void **state)
{
    static const enum op ops[] = { OP_ADD,          OP_SUB,         OP_MUL, OP_ADD_OVERFLOW,
                                   OP_MUL_OVERFLOW, OP_MUL_FULL_HI, OP_NEG };
    run_ops(ops, sizeof(ops) / sizeof(ops[0]));
}

static void test_division_matches_bignum(void **state)
{
    static const enum op ops[] = { OP_DIV, OP_MOD, OP_DIV_REM, OP_SDIV, OP_SMOD };
    run_ops(ops, sizeof(ops) / sizeof(ops[0]));
}

static void test_addmod_mulmod_exp_match_bignum(void **state)
{
    static const enum op ops[] = { OP_ADDMOD, OP_MULMOD, OP_EXP };
    run_ops(ops, sizeof(ops) / sizeof(ops[0]));
}

static void test_shifts_byte_signextend_match_reference(void **state)
{
    static const enum op ops[] = { OP_SHL, OP_SHR, OP_SAR, OP_BYTE, OP_SIGNEXTEND };
    run_ops(ops, sizeof(ops) / sizeof(ops[0]));
}

static void test_bitwise_and_comparisons_match_reference(void **state)
{
    static const enum op ops[] = { OP_AND,     OP_OR,         OP_XOR,         OP_NOT,     OP_CMP,
                                   OP_LT,      OP_GT,         OP_SLT,         OP_SGT,     OP_EQ,
                                   OP_IS_ZERO, OP_BIT_LENGTH, OP_BYTE_LENGTH, OP_FITS_U64 };
    run_ops(ops, sizeof(ops) / sizeof(ops[0]));
}

/* Text and bytes: to_dec/to_hex/to_be_trimmed against BIGNUM's own
 * conversions, and every parser/encoder pair round-trips. */
static void test_conversions_match_bignum(void **state)
{
    struct rng r;
    rng_seed(&r, g_seed ^ UINT64_C(0xc0ffee));
    BIGNUM *x = BN_new(), *big = BN_new();
    assert_non_null(x);
    assert_non_null(big);
    for (int i = 0; i < ROUNDS; i++) {
        u256 a = gen_operand(&r), back;
        bn_set_u256(x, a);

        char dec[U256_DEC_LEN], hx[U256_HEX_LEN];
        u256_to_dec(a, dec);
        char *bn_dec = BN_bn2dec(x);
        assert_non_null(bn_dec);
        assert_string_equal(dec, bn_dec);
        OPENSSL_free(bn_dec);
        assert_int_equal(u256_from_dec(dec, &back), TC_OK);
        assert_u256_equal(back, a);

        u256_to_hex(a, hx);
        char *bn_hex = BN_bn2hex(x);
        assert_non_null(bn_hex);
        const char *digits = bn_hex;
        while (digits[0] == '0' && digits[1] != '\0')
            digits++;
        char want[U256_HEX_LEN + 2];
        snprintf(want, sizeof(want), "0x%s", BN_is_zero(x) ? "0" : digits);
        for (char *p = want; *p != '\0'; p++)
            *p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
        assert_string_equal(hx, want);
        OPENSSL_free(bn_hex);
        assert_int_equal(u256_from_hex(hx, &back), TC_OK);
        assert_u256_equal(back, a);

        uint8_t trimmed[32], bn_bytes[32], full[32];
        size_t n = u256_to_be_trimmed(a, trimmed);
        assert_int_equal(n, BN_num_bytes(x));
        assert_int_equal(BN_bn2bin(x, bn_bytes), n);
        assert_memory_equal(trimmed, bn_bytes, n);
        assert_u256_equal(u256_from_be_bytes(trimmed, n), a);
        u256_to_be_bytes(a, full);
        uint8_t expect_full[32];
        be32_of(a, expect_full);
        assert_memory_equal(full, expect_full, 32);
        assert_u256_equal(u256_from_be_bytes(full, 32), a);

        /* a + k * 2^256 for k >= 1 is out of range in decimal. */
        BN_set_word(big, (BN_ULONG)rng_range(&r, 1, 1000));
        assert_true(BN_mul(big, big, g_two256, g_ctx));
        assert_true(BN_add(big, big, x));
        char *too_big = BN_bn2dec(big);
        assert_non_null(too_big);
        assert_int_equal(u256_from_dec(too_big, &back), TC_ERANGE);
        OPENSSL_free(too_big);
    }
    BN_free(big);
    BN_free(x);
}

/* ---- known answers: the EVM's edge cases -------------------------------- */

static void test_division_by_zero_is_zero(void **state)
{
    const u256 xs[] = { u256_zero(), u256_one(), u256_max(), pow2(255), pow2(128) };
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
        assert_u256_equal(u256_div(xs[i], u256_zero()), u256_zero());
        assert_u256_equal(u256_mod(xs[i], u256_zero()), u256_zero());
        assert_u256_equal(u256_sdiv(xs[i], u256_zero()), u256_zero());
        assert_u256_equal(u256_smod(xs[i], u256_zero()), u256_zero());
        assert_u256_equal(u256_addmod(xs[i], u256_one(), u256_zero()), u256_zero());
        assert_u256_equal(u256_mulmod(xs[i], u256_max(), u256_zero()), u256_zero());
        u256 q = u256_one(), rem = u256_one();
        u256_div_rem(xs[i], u256_zero(), &q, &rem);
        assert_u256_equal(q, u256_zero());
        assert_u256_equal(rem, u256_zero());
    }
}

static void test_sdiv_min_by_minus_one_is_min(void **state)
{
    u256 min = pow2(255), minus_one = u256_max();
    assert_u256_equal(u256_sdiv(min, minus_one), min);
    assert_u256_equal(u256_smod(min, minus_one), u256_zero());
    assert_u256_equal(u256_sdiv(min, u256_one()), min);
    assert_u256_equal(u256_sdiv(min, min), u256_one());
    assert_u256_equal(u256_sdiv(minus_one, min), u256_zero());
}

static void test_sdiv_truncates_and_smod_takes_dividend_sign(void **state)
{
    u256 seven = u256_from_u64(7), three = u256_from_u64(3);
    assert_u256_equal(u256_sdiv(small_neg(7), three), small_neg(2));
    assert_u256_equal(u256_sdiv(seven, small_neg(3)), small_neg(2));
    assert_u256_equal(u256_sdiv(small_neg(7), small_neg(3)), u256_from_u64(2));
    assert_u256_equal(u256_smod(small_neg(7), three), small_neg(1));
    assert_u256_equal(u256_smod(seven, small_neg(3)), u256_one());
    assert_u256_equal(u256_smod(small_neg(7), small_neg(3)), small_neg(1));
    assert_u256_equal(u256_smod(small_neg(6), three), u256_zero());
    /* Unsigned division reads the same bits as huge numbers. */
    assert_u256_equal(u256_div(small_neg(7), three),
                      hex("0x5555555555555555555555555555555555555555555555555555555555555553"));
}

static void test_signextend_at_each_boundary(void **state)
{
    u256 x = hex("0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd80");
    assert_u256_equal(u256_signextend(u256_zero(), u256_from_u64(0xff)), u256_max());
    assert_u256_equal(u256_signextend(u256_zero(), u256_from_u64(0x7f)), u256_from_u64(0x7f));
    assert_u256_equal(u256_signextend(u256_zero(), u256_from_u64(0xab7f)), u256_from_u64(0x7f));
    assert_u256_equal(u256_signextend(u256_zero(), x), small_neg(0x80));
    assert_u256_equal(u256_signextend(u256_one(), u256_from_u64(0x8000)), small_neg(0x8000));
    /* Index 30: bit 247 decides the top byte. */
    assert_u256_equal(
        u256_signextend(u256_from_u64(30),
                        hex("0x0080000000000000000000000000000000000000000000000000000000000001")),
        hex("0xff80000000000000000000000000000000000000000000000000000000000001"));
    assert_u256_equal(
        u256_signextend(u256_from_u64(30),
                        hex("0xab7f000000000000000000000000000000000000000000000000000000000001")),
        hex("0x007f000000000000000000000000000000000000000000000000000000000001"));
    /* Index 7: the sign bit is the top bit of limb 0. */
    assert_u256_equal(u256_signextend(u256_from_u64(7), mk(5, 6, 7, UINT64_C(1) << 63)),
                      mk(UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_C(1) << 63));
    /* 31, 32 and huge indexes leave x unchanged. */
    assert_u256_equal(u256_signextend(u256_from_u64(31), x), x);
    assert_u256_equal(u256_signextend(u256_from_u64(32), x), x);
    assert_u256_equal(u256_signextend(pow2(255), x), x);
    assert_u256_equal(u256_signextend(u256_add(pow2(64), u256_one()), x), x);
    assert_u256_equal(u256_signextend(u256_max(), x), x);
}

static void test_shifts_by_0_255_256_and_huge(void **state)
{
    u256 x = hex("0x8000000000000000000000000000000000000000000000000000000000000f0f");
    u256 s255 = u256_from_u64(255), s256 = u256_from_u64(256);
    assert_u256_equal(u256_shl(u256_zero(), x), x);
    assert_u256_equal(u256_shr(u256_zero(), x), x);
    assert_u256_equal(u256_sar(u256_zero(), x), x);
    assert_u256_equal(u256_shl(s255, u256_one()), pow2(255));
    assert_u256_equal(u256_shl(s255, u256_from_u64(2)), u256_zero());
    assert_u256_equal(u256_shr(s255, x), u256_one());
    assert_u256_equal(u256_shl(s256, u256_one()), u256_zero());
    assert_u256_equal(u256_shr(s256, u256_max()), u256_zero());
    assert_u256_equal(u256_shl(pow2(255), u256_max()), u256_zero());
    assert_u256_equal(u256_shr(pow2(255), u256_max()), u256_zero());
    /* A large shift whose low limb is small must not be read as small. */
    assert_u256_equal(u256_shl(u256_add(pow2(64), u256_one()), u256_one()), u256_zero());
    assert_u256_equal(u256_shr(u256_add(pow2(128), u256_one()), u256_max()), u256_zero());
    assert_u256_equal(u256_shl(u256_from_u64(64), u256_one()), pow2(64));
    assert_u256_equal(u256_shr(u256_from_u64(4), u256_from_u64(0xf0)), u256_from_u64(0xf));
}

static void test_sar_of_negatives_rounds_down(void **state)
{
    u256 min = pow2(255);
    assert_u256_equal(u256_sar(u256_from_u64(255), min), u256_max());
    assert_u256_equal(u256_sar(u256_from_u64(254), min), small_neg(2));
    assert_u256_equal(u256_sar(u256_from_u64(256), min), u256_max());
    assert_u256_equal(u256_sar(pow2(255), u256_max()), u256_max());
    assert_u256_equal(u256_sar(u256_add(pow2(64), u256_one()), small_neg(5)), u256_max());
    assert_u256_equal(u256_sar(u256_one(), small_neg(2)), small_neg(1));
    assert_u256_equal(u256_sar(u256_one(), small_neg(3)), small_neg(2));
    assert_u256_equal(u256_sar(u256_from_u64(4), small_neg(16)), small_neg(1));
    assert_u256_equal(u256_sar(u256_from_u64(4), small_neg(17)), small_neg(2));
    assert_u256_equal(u256_sar(u256_from_u64(64), small_neg(1)), u256_max());
    /* Non-negative values shift in zeros and vanish at 256. */
    u256 max_pos = u256_sub(min, u256_one());
    assert_u256_equal(u256_sar(u256_from_u64(254), max_pos), u256_one());
    assert_u256_equal(u256_sar(u256_from_u64(256), max_pos), u256_zero());
}

static void test_byte_counts_from_most_significant(void **state)
{
    u256 x = hex("0x80112233445566778899aabbccddeeff00112233445566778899aabbccddeeab");
    assert_u256_equal(u256_byte(u256_zero(), x), u256_from_u64(0x80));
    assert_u256_equal(u256_byte(u256_one(), x), u256_from_u64(0x11));
    assert_u256_equal(u256_byte(u256_from_u64(8), x), u256_from_u64(0x88));
    assert_u256_equal(u256_byte(u256_from_u64(31), x), u256_from_u64(0xab));
    assert_u256_equal(u256_byte(u256_from_u64(32), x), u256_zero());
    assert_u256_equal(u256_byte(pow2(64), u256_max()), u256_zero());
    assert_u256_equal(u256_byte(u256_max(), u256_max()), u256_zero());
}

static void test_exp_edge_cases(void **state)
{
    assert_u256_equal(u256_exp(u256_zero(), u256_zero()), u256_one());
    assert_u256_equal(u256_exp(u256_zero(), u256_one()), u256_zero());
    assert_u256_equal(u256_exp(u256_max(), u256_zero()), u256_one());
    assert_u256_equal(u256_exp(u256_from_u64(2), u256_from_u64(255)), pow2(255));
    assert_u256_equal(u256_exp(u256_from_u64(2), u256_from_u64(256)), u256_zero());
    assert_u256_equal(u256_exp(u256_from_u64(2), pow2(64)), u256_zero());
    assert_u256_equal(u256_exp(u256_from_u64(10), u256_from_u64(18)),
                      u256_from_u64(UINT64_C(1000000000000000000)));
    assert_u256_equal(u256_exp(u256_max(), u256_max()), u256_max());
    assert_u256_equal(u256_exp(u256_max(), u256_from_u64(2)), u256_one());
    assert_u256_equal(u256_exp(u256_from_u64(3), u256_from_u64(160)),
                      hex("0x304d37f120d696c834550e63d9bb9c14b4f9165c9ede434e4644e3998d6db881"));
    /* The multiplicative order of 3 modulo 2^256 divides 2^254. */
    assert_u256_equal(u256_exp(u256_from_u64(3), u256_add(pow2(255), u256_one())),
                      u256_from_u64(3));
    assert_u256_equal(u256_exp(u256_from_u64(0xdeadbeef), u256_max()),
                      hex("0x6a3f4adc88701f3a023e96ecece7f707c18fed5c5442ce8ce102f06b904b300f"));
}

static void test_addmod_uses_the_257_bit_sum(void **state)
{
    u256 max = u256_max();
    /* (2^257 - 2) mod 7 = 2, while the wrapped sum 2^256 - 2 mod 7 = 0. */
    assert_u256_equal(u256_addmod(max, max, u256_from_u64(7)), u256_from_u64(2));
    assert_u256_equal(u256_addmod(max, u256_one(), max), u256_one());
    assert_u256_equal(u256_addmod(max, max, max), u256_zero());
    assert_u256_equal(u256_addmod(max, u256_from_u64(2), u256_from_u64(3)), u256_from_u64(2));
    assert_u256_equal(u256_addmod(pow2(255), pow2(255), u256_sub(max, u256_one())),
                      u256_from_u64(2));
    assert_u256_equal(u256_addmod(u256_from_u64(5), u256_from_u64(6), u256_from_u64(11)),
                      u256_zero());
}

static void test_mulmod_uses_the_512_bit_product(void **state)
{
    u256 max = u256_max();
    assert_u256_equal(u256_mulmod(max, max, u256_from_u64(12)), u256_from_u64(9));
    assert_u256_equal(u256_mulmod(max, max, max), u256_zero());
    assert_u256_equal(u256_mulmod(max, max, u256_sub(max, u256_one())), u256_one());
    assert_u256_equal(u256_mulmod(pow2(255), u256_from_u64(2), max), u256_one());
    assert_u256_equal(u256_mulmod(pow2(200), pow2(200), pow2(255)), u256_zero());
    assert_u256_equal(u256_mulmod(pow2(200), pow2(200), u256_add(pow2(128), u256_one())),
                      hex("0xffffffffffffffffffffffffffff0001"));
    assert_u256_equal(u256_mulmod(max, u256_one(), u256_from_u64(1)), u256_zero());
}

static void test_overflow_flags(void **state)
{
    u256 out;
    assert_true(u256_add_overflow(u256_max(), u256_one(), &out));
    assert_u256_equal(out, u256_zero());
    assert_false(u256_add_overflow(u256_sub(u256_max(), u256_one()), u256_one(), &out));
    assert_u256_equal(out, u256_max());
    assert_true(u256_mul_overflow(pow2(128), pow2(128), &out));
    assert_u256_equal(out, u256_zero());
    assert_false(u256_mul_overflow(pow2(128), pow2(127), &out));
    assert_u256_equal(out, pow2(255));
    assert_true(u256_mul_overflow(u256_max(), u256_from_u64(2), &out));
    assert_u256_equal(out, u256_sub(u256_max(), u256_one()));
    assert_false(u256_mul_overflow(u256_max(), u256_one(), &out));
}

/* Operands that take each rare branch of the long division, found by
 * instrumenting them; answers from Python's integers. */
static void check_div_rem(const char *a, const char *b, const char *q_want, const char *r_want)
{
    u256 q, rem;
    u256_div_rem(hex(a), hex(b), &q, &rem);
    assert_u256_equal(q, hex(q_want));
    assert_u256_equal(rem, hex(r_want));
}

static void test_division_rare_branches(void **state)
{
    /* The 3-by-2 step's final correction (remainder still >= divisor). */
    check_div_rem("0x800000000000000000000000000000027fffffffffffffffffffffffffffffff",
                  "0x2000000000000000100000000ffffffff", "0x3fffffffffffffffdfffffffe0000001",
                  "0xe00000003ffffffefffffffee0000000");
    /* Top two remainder limbs equal to the divisor's: quotient limb 2^64 - 1. */
    check_div_rem("0x8000000000000001000000010000000000000000000000010000000100000000",
                  "0x80000000000000010000000100000000ffffffffffffffff", "0xffffffffffffffff",
                  "0x8000000000000000000000010000000300000000ffffffff");
    check_div_rem("0x8000000000000001800000000000000000000000ffffffff00000000ffffffff",
                  "0x800000000000000180000000000000007fffffffffffffff", "0xffffffffffffffff",
                  "0x8000000000000001000000010000000080000000fffffffe");
    /* Quotient limb one too large for the whole divisor: add back. */
    check_div_rem("0xfffffffffffffffeffffffffffffffff00000000000000020000000000000000",
                  "0x100000000ffffffffffffffffffffffff", "0xfffffffeffffffffffffffffffffffff",
                  "0x10000000000000001ffffffffffffffff");
    check_div_rem("0x8000000000000001000000000000000000000000000000010000000100000000",
                  "0x100000000000000020000000000000001", "0x7fffffffffffffffffffffffffffffff",
                  "0x80000000000000030000000100000001");
}

/* ---- parsing ------------------------------------------------------------ */

static void test_from_dec_accepts_digits_only(void **state)
{
    u256 x;
    assert_int_equal(u256_from_dec("0", &x), TC_OK);
    assert_u256_equal(x, u256_zero());
    assert_int_equal(u256_from_dec("000123", &x), TC_OK);
    assert_u256_equal(x, u256_from_u64(123));
    assert_int_equal(u256_from_dec("10000000000000000000", &x), TC_OK);
    assert_u256_equal(x, mk(0, 0, 0, UINT64_C(10000000000000000000)));
    assert_int_equal(u256_from_dec("18446744073709551616", &x), TC_OK);
    assert_u256_equal(x, pow2(64));
    assert_int_equal(
        u256_from_dec(
            "115792089237316195423570985008687907853269984665640564039457584007913129639935", &x),
        TC_OK);
    assert_u256_equal(x, u256_max());
    char long_zeros[200];
    memset(long_zeros, '0', sizeof(long_zeros) - 2);
    long_zeros[sizeof(long_zeros) - 2] = '7';
    long_zeros[sizeof(long_zeros) - 1] = '\0';
    assert_int_equal(u256_from_dec(long_zeros, &x), TC_OK);
    assert_u256_equal(x, u256_from_u64(7));

    u256 untouched = u256_from_u64(42);
    x = untouched;
    static const char *const invalid[] = { "",     "-1",    "+1",  " 1",  "1 ", "1a",
                                           "0x10", "1_000", "1.5", "1e3", "\t1" };
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        if (u256_from_dec(invalid[i], &x) != TC_EINVAL)
            fail_msg("u256_from_dec accepted \"%s\"", invalid[i]);
    }
    assert_int_equal(u256_from_dec(NULL, &x), TC_EINVAL);
    assert_u256_equal(x, untouched);
}

static void test_from_dec_rejects_2_pow_256(void **state)
{
    u256 x = u256_from_u64(42);
    assert_int_equal(
        u256_from_dec(
            "115792089237316195423570985008687907853269984665640564039457584007913129639936", &x),
        TC_ERANGE);
    assert_int_equal(
        u256_from_dec(
            "1157920892373161954235709850086879078532699846656405640394575840079131296399350", &x),
        TC_ERANGE);
    assert_int_equal(
        u256_from_dec(
            "9999999999999999999999999999999999999999999999999999999999999999999999999999999999",
            &x),
        TC_ERANGE);
    /* A bad character is reported as such even in an out-of-range number. */
    assert_int_equal(
        u256_from_dec(
            "115792089237316195423570985008687907853269984665640564039457584007913129639936x", &x),
        TC_EINVAL);
    assert_u256_equal(x, u256_from_u64(42));
}

static void test_from_hex_requires_prefix_and_1_to_64_digits(void **state)
{
    u256 x;
    assert_int_equal(u256_from_hex("0x0", &x), TC_OK);
    assert_u256_equal(x, u256_zero());
    assert_int_equal(u256_from_hex("0X1F", &x), TC_OK);
    assert_u256_equal(x, u256_from_u64(31));
    assert_int_equal(u256_from_hex("0xaBcD", &x), TC_OK);
    assert_u256_equal(x, u256_from_u64(0xabcd));
    assert_int_equal(u256_from_hex("0x00001", &x), TC_OK);
    assert_u256_equal(x, u256_one());
    assert_int_equal(
        u256_from_hex("0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", &x),
        TC_OK);
    assert_u256_equal(x, u256_max());
    assert_int_equal(u256_from_hex("0x10000000000000000", &x), TC_OK);
    assert_u256_equal(x, pow2(64));

    u256 untouched = u256_from_u64(42);
    x = untouched;
    static const char *const invalid[] = { "",     "0x",   "0X",   "10",    "x10",
                                           "0",    "0x 1", " 0x1", "0x1 ",  "0x1g",
                                           "-0x1", "0x-1", "+0x1", "0x0x1", "00x1" };
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        if (u256_from_hex(invalid[i], &x) != TC_EINVAL)
            fail_msg("u256_from_hex accepted \"%s\"", invalid[i]);
    }
    assert_int_equal(u256_from_hex(NULL, &x), TC_EINVAL);
    /* 65 digits, with and without a significant leading digit. */
    assert_int_equal(
        u256_from_hex("0x10000000000000000000000000000000000000000000000000000000000000000", &x),
        TC_ERANGE);
    assert_int_equal(
        u256_from_hex("0x00000000000000000000000000000000000000000000000000000000000000001", &x),
        TC_ERANGE);
    assert_u256_equal(x, untouched);
}

static void test_to_dec_and_to_hex_known_values(void **state)
{
    char dec[U256_DEC_LEN], hx[U256_HEX_LEN];
    u256_to_dec(u256_zero(), dec);
    assert_string_equal(dec, "0");
    u256_to_dec(mk(0, 0, 0, UINT64_C(10000000000000000000)), dec);
    assert_string_equal(dec, "10000000000000000000");
    u256_to_dec(mk(0, 0, 0, UINT64_C(9999999999999999999)), dec);
    assert_string_equal(dec, "9999999999999999999");
    u256_to_dec(pow2(64), dec);
    assert_string_equal(dec, "18446744073709551616");
    u256_to_dec(u256_max(), dec);
    assert_string_equal(
        dec, "115792089237316195423570985008687907853269984665640564039457584007913129639935");

    u256_to_hex(u256_zero(), hx);
    assert_string_equal(hx, "0x0");
    u256_to_hex(u256_from_u64(31), hx);
    assert_string_equal(hx, "0x1f");
    u256_to_hex(pow2(64), hx);
    assert_string_equal(hx, "0x10000000000000000");
    u256_to_hex(u256_max(), hx);
    assert_string_equal(hx, "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
}

static void test_be_bytes_pad_trim_and_truncate(void **state)
{
    static const uint8_t two[] = { 0x01, 0x02 };
    assert_u256_equal(u256_from_be_bytes(two, 2), u256_from_u64(0x0102));
    assert_u256_equal(u256_from_be_bytes(two, 0), u256_zero());
    uint8_t long_in[33];
    for (int i = 0; i < 33; i++)
        long_in[i] = (uint8_t)(i + 1);
    /* Past 32 bytes only the last 32 count. */
    assert_u256_equal(u256_from_be_bytes(long_in, 33), u256_from_be_bytes(long_in + 1, 32));
    assert_u256_equal(u256_from_be_bytes(long_in + 1, 32),
                      hex("0x02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021"));

    uint8_t out[32];
    assert_int_equal(u256_to_be_trimmed(u256_zero(), out), 0);
    assert_int_equal(u256_to_be_trimmed(u256_from_u64(0x100), out), 2);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 0);
    assert_int_equal(u256_to_be_trimmed(u256_max(), out), 32);
    u256_to_be_bytes(u256_from_u64(0xabcd), out);
    for (int i = 0; i < 30; i++)
        assert_int_equal(out[i], 0);
    assert_int_equal(out[30], 0xab);
    assert_int_equal(out[31], 0xcd);
}

/* ---- main --------------------------------------------------------------- */

static int setup(void **state)
{
    const char *env = getenv("TC_SEED");
    g_seed = env != NULL ? strtoull(env, NULL, 0) : rng_fresh_seed();
    printf("test_u256: seed %" PRIu64 " (replay with TC_SEED=%" PRIu64 ")\n", g_seed, g_seed);
    g_ctx = BN_CTX_new();
    g_two256 = BN_new();
    g_max = BN_new();
    if (g_ctx == NULL || g_two256 == NULL || g_max == NULL)
        return -1;
    BN_zero(g_two256);
    if (!BN_set_bit(g_two256, 256) || !BN_sub(g_max, g_two256, BN_value_one()))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    BN_free(g_max);
    BN_free(g_two256);
    BN_CTX_free(g_ctx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_sub_mul_match_bignum),
        cmocka_unit_test(test_division_matches_bignum),
        cmocka_unit_test(test_addmod_mulmod_exp_match_bignum),
        cmocka_unit_test(test_shifts_byte_signextend_match_reference),
        cmocka_unit_test(test_bitwise_and_comparisons_match_reference),
        cmocka_unit_test(test_conversions_match_bignum),
        cmocka_unit_test(test_division_by_zero_is_zero),
        cmocka_unit_test(test_sdiv_min_by_minus_one_is_min),
        cmocka_unit_test(test_sdiv_truncates_and_smod_takes_dividend_sign),
        cmocka_unit_test(test_signextend_at_each_boundary),
        cmocka_unit_test(test_shifts_by_0_255_256_and_huge),
        cmocka_unit_test(test_sar_of_negatives_rounds_down),
        cmocka_unit_test(test_byte_counts_from_most_significant),
        cmocka_unit_test(test_exp_edge_cases),
        cmocka_unit_test(test_addmod_uses_the_257_bit_sum),
        cmocka_unit_test(test_mulmod_uses_the_512_bit_product),
        cmocka_unit_test(test_overflow_flags),
        cmocka_unit_test(test_division_rare_branches),
        cmocka_unit_test(test_from_dec_accepts_digits_only),
        cmocka_unit_test(test_from_dec_rejects_2_pow_256),
        cmocka_unit_test(test_from_hex_requires_prefix_and_1_to_64_digits),
        cmocka_unit_test(test_to_dec_and_to_hex_known_values),
        cmocka_unit_test(test_be_bytes_pad_trim_and_truncate),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
