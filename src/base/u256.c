/*
 * u256.c - the out-of-line part of u256: division (Knuth's algorithm D on
 * 64-bit limbs, quotient limbs estimated with a precomputed reciprocal), the
 * wide reductions behind addmod and mulmod, exp, signextend, and the byte and
 * text conversions.
 */
#include "base/u256.h"

#include "base/bytes.h"

#include <string.h>

#include "base/error.h"

/* Limbs of a dividend for the wide reductions: a 512-bit product. */
#define WIDE_LIMBS 8

/*
 * (hi * 2^64 + lo) / d and its remainder. The caller guarantees hi < d, so
 * that the quotient fits in 64 bits. On x86-64 this is one DIV instruction;
 * the compiler's 128-bit division would call a general 128/128 routine.
 */
static inline uint64_t div_128_by_64(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem)
{
#if defined(__x86_64__)
    uint64_t q, r;
    __asm__("divq %[d]" : "=a"(q), "=d"(r) : [d] "rm"(d), "a"(lo), "d"(hi) : "cc");
    *rem = r;
    return q;
#else
    unsigned __int128 n = ((unsigned __int128)hi << 64) | lo;
    *rem = (uint64_t)(n % d);
    return (uint64_t)(n / d);
#endif
}

/* Number of limbs up to the most significant non-zero one (0 for zero). */
static unsigned limb_count(const uint64_t *x, unsigned n)
{
    while (n > 0 && x[n - 1] == 0)
        n--;
    return n;
}

/*
 * Divides u[0..m) by the single limb d != 0: quotient into q[0..m) (q may be
 * NULL, or alias u), returns the remainder. One hardware division per limb:
 * for the few limbs of a u256, current x86-64 cores do that faster than the
 * reciprocal method used for longer divisors below (measured with bench_u256).
 */
static uint64_t divrem_by_limb(const uint64_t *u, unsigned m, uint64_t d, uint64_t *q)
{
    uint64_t rem = 0;
    for (unsigned i = m; i-- > 0;) {
        uint64_t qi = div_128_by_64(rem, u[i], d, &rem);
        if (q != NULL)
            q[i] = qi;
    }
    return rem;
}

/*
 * Reciprocal of a normalised two-limb divisor d = (d1, d0), d1's top bit
 * set: floor((2^192 - 1) / d) - 2^64, which equals floor((2^192 - 1 - 2^64 d)
 * / d), a three-limb dividend (~d1, ~d0, ~0) whose top limb is below d1. One
 * hardware division by d1 estimates it; Knuth's test against d0 then makes
 * it exact (for a two-limb divisor it removes every overestimate, at most
 * two).
 */
static uint64_t reciprocal_3by2(uint64_t d1, uint64_t d0)
{
    uint64_t rhat;
    uint64_t v = div_128_by_64(~d1, ~d0, d1, &rhat);
    for (int i = 0; i < 2; i++) {
        if ((unsigned __int128)v * d0 <= (((unsigned __int128)rhat << 64) | ~UINT64_C(0)))
            break;
        v--;
        uint64_t before = rhat;
        rhat += d1;
        if (rhat < before) /* rhat >= 2^64: the test can no longer fail */
            break;
    }
    return v;
}

/*
 * (u2, u1, u0) / (d1, d0) for a normalised divisor with (u2, u1) < (d1, d0),
 * using its reciprocal v from reciprocal_3by2 (Moller and Granlund, "Improved
 * division by invariant integers", IEEE Trans. Computers 60(2), 2011,
 * algorithm 5): the quotient limb, exact, and the two-limb remainder in
 * (*r1, *r0). Multiplications replace the hardware division; the final
 * adjustments are rarely taken.
 */
static uint64_t div_3by2(uint64_t u2, uint64_t u1, uint64_t u0, uint64_t d1, uint64_t d0,
                         uint64_t v, uint64_t *r1, uint64_t *r0)
{
    const unsigned __int128 d = ((unsigned __int128)d1 << 64) | d0;
    unsigned __int128 q = (unsigned __int128)v * u2 + (((unsigned __int128)u2 << 64) | u1);
    uint64_t q1 = (uint64_t)(q >> 64), q0 = (uint64_t)q;
    uint64_t rem1 = u1 - q1 * d1;
    unsigned __int128 rem = (((unsigned __int128)rem1 << 64) | u0) - (unsigned __int128)d0 * q1 - d;
    q1++;
    if ((uint64_t)(rem >> 64) >= q0) {
        q1--;
        rem += d;
    }
    if (rem >= d) {
        q1++;
        rem -= d;
    }
    *r1 = (uint64_t)(rem >> 64);
    *r0 = (uint64_t)rem;
    return q1;
}

/* x[0..n) -= q * v[0..n); returns the limb still to subtract above x[n-1]. */
static uint64_t submul(uint64_t *x, const uint64_t *v, unsigned n, uint64_t q)
{
    uint64_t carry = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned __int128 p = (unsigned __int128)q * v[i] + carry;
        uint64_t lo = (uint64_t)p;
        /* p <= 2^128 - 2^64: a high limb of all ones comes with lo = 0, so
         * the borrow below never overflows carry. */
        carry = (uint64_t)(p >> 64) + (x[i] < lo);
        x[i] -= lo;
    }
    return carry;
}

/* x[0..n) += v[0..n); returns the carry out. */
static uint64_t add_back(uint64_t *x, const uint64_t *v, unsigned n)
{
    uint64_t carry = 0;
    for (unsigned i = 0; i < n; i++)
        x[i] = u256_add_limb(x[i], v[i], &carry);
    return carry;
}

/*
 * Long division (Knuth's algorithm D, TAOCP vol. 2, 4.3.1): u[0..m) / v[0..n)
 * with 2 <= n <= 4, n <= m <= WIDE_LIMBS and v[n-1] != 0. The quotient goes
 * to q[0..m-n] (m-n+1 limbs, q may be NULL), the remainder to r[0..n).
 *
 * Both operands are shifted left so that the divisor's top bit is set. Each
 * quotient limb comes from the top three limbs of the running remainder
 * divided by the top two divisor limbs (div_3by2, exact for that prefix, so
 * at most one too large for the whole divisor); the rest of the divisor is
 * then subtracted and, in the rare case that goes negative, added back.
 */
static void knuth_divrem(const uint64_t *u, unsigned m, const uint64_t *v, unsigned n, uint64_t *q,
                         uint64_t *r)
{
    uint64_t un[WIDE_LIMBS + 1], vn[4];
    unsigned s = (unsigned)__builtin_clzll(v[n - 1]);

    for (unsigned i = n - 1; i > 0; i--)
        vn[i] = s == 0 ? v[i] : (v[i] << s) | (v[i - 1] >> (64 - s));
    vn[0] = v[0] << s;
    un[m] = s == 0 ? 0 : u[m - 1] >> (64 - s);
    for (unsigned i = m - 1; i > 0; i--)
        un[i] = s == 0 ? u[i] : (u[i] << s) | (u[i - 1] >> (64 - s));
    un[0] = u[0] << s;

    const uint64_t d1 = vn[n - 1], d0 = vn[n - 2];
    const uint64_t recip = reciprocal_3by2(d1, d0);
    /* Invariant: the top n limbs of the running remainder, un[j+1..j+n], are
     * below vn; so (un[j+n], un[j+n-1]) <= (d1, d0), equal only when n > 2. */
    for (unsigned j = m - n + 1; j-- > 0;) {
        uint64_t *x = un + j;
        uint64_t u2 = x[n], u1 = x[n - 1], u0 = x[n - 2];
        uint64_t qhat;

        if (u2 == d1 && u1 == d0) {
            /* div_3by2 cannot take this prefix (its quotient would be 2^64).
             * The true limb is then exactly 2^64 - 1: the remainder x minus
             * (2^64 - 1) * vn is vn + (lower limbs of x) - 2^64 * (lower limbs
             * of vn), positive because d1 >= 2^63, and below vn by the
             * invariant. */
            qhat = UINT64_MAX;
            x[n] -= submul(x, vn, n, qhat);
        } else {
            uint64_t r1, r0;
            qhat = div_3by2(u2, u1, u0, d1, d0, recip, &r1, &r0);
            uint64_t borrow = submul(x, vn, n - 2, qhat);
            uint64_t b0 = r0 < borrow;
            r0 -= borrow;
            uint64_t b1 = r1 < b0;
            r1 -= b0;
            x[n - 2] = r0;
            x[n - 1] = r1;
            x[n] = 0;
            if (b1) {
                qhat--;
                add_back(x, vn, n); /* the carry out cancels the borrow */
            }
        }
        if (q != NULL)
            q[j] = qhat;
    }

    for (unsigned i = 0; i < n; i++)
        r[i] = s == 0 ? un[i] : (un[i] >> s) | (un[i + 1] << (64 - s));
}

void u256_div_rem(u256 a, u256 b, u256 *q, u256 *r)
{
    u256 qq = u256_zero(), rr = u256_zero();

    if (u256_is_zero(b)) {
        /* EVM: both quotient and remainder are 0. */
    } else if (u256_lt(a, b)) {
        rr = a;
    } else if (u256_fits_u64(a)) {
        qq.w[0] = a.w[0] / b.w[0];
        rr.w[0] = a.w[0] % b.w[0];
    } else if (u256_fits_u64(b)) {
        rr.w[0] = divrem_by_limb(a.w, limb_count(a.w, 4), b.w[0], qq.w);
    } else if ((a.w[2] | a.w[3]) == 0) {
        unsigned __int128 x = ((unsigned __int128)a.w[1] << 64) | a.w[0];
        unsigned __int128 y = ((unsigned __int128)b.w[1] << 64) | b.w[0];
        unsigned __int128 qx = x / y, rx = x % y;
        qq.w[0] = (uint64_t)qx;
        qq.w[1] = (uint64_t)(qx >> 64);
        rr.w[0] = (uint64_t)rx;
        rr.w[1] = (uint64_t)(rx >> 64);
    } else {
        knuth_divrem(a.w, limb_count(a.w, 4), b.w, limb_count(b.w, 4), qq.w, rr.w);
    }
    if (q != NULL)
        *q = qq;
    if (r != NULL)
        *r = rr;
}

u256 u256_div(u256 a, u256 b)
{
    u256 q;
    u256_div_rem(a, b, &q, NULL);
    return q;
}

u256 u256_mod(u256 a, u256 b)
{
    u256 r;
    u256_div_rem(a, b, NULL, &r);
    return r;
}

static inline u256 abs_value(u256 a)
{
    return u256_is_neg(a) ? u256_neg(a) : a;
}

u256 u256_sdiv(u256 a, u256 b)
{
    /* |MIN| wraps to MIN, read as 2^255 unsigned: MIN / -1 = 2^255 / 1,
     * negated back to MIN, which is the EVM's answer. */
    u256 q = u256_div(abs_value(a), abs_value(b));
    return u256_is_neg(a) != u256_is_neg(b) ? u256_neg(q) : q;
}

u256 u256_smod(u256 a, u256 b)
{
    u256 r = u256_mod(abs_value(a), abs_value(b));
    return u256_is_neg(a) ? u256_neg(r) : r;
}

/* u[0..ulen) mod m for m != 0 and ulen <= WIDE_LIMBS. */
static u256 reduce_wide(const uint64_t *u, unsigned ulen, u256 m)
{
    u256 r = u256_zero();
    unsigned m_len = limb_count(m.w, 4);
    ulen = limb_count(u, ulen);
    if (m_len == 1) {
        r.w[0] = divrem_by_limb(u, ulen, m.w[0], NULL);
    } else if (ulen < m_len) {
        memcpy(r.w, u, ulen * sizeof(uint64_t));
    } else {
        knuth_divrem(u, ulen, m.w, m_len, NULL, r.w);
    }
    return r;
}

u256 u256_addmod(u256 a, u256 b, u256 m)
{
    if (u256_is_zero(m))
        return u256_zero();
    u256 sum;
    bool carry = u256_add_overflow(a, b, &sum);
    if (u256_lt(a, m) && u256_lt(b, m)) {
        /* The exact sum is below 2m: one conditional subtraction. */
        if (carry || !u256_lt(sum, m))
            sum = u256_sub(sum, m);
        return sum;
    }
    if (!carry)
        return u256_mod(sum, m);
    uint64_t wide[5] = { sum.w[0], sum.w[1], sum.w[2], sum.w[3], 1 };
    return reduce_wide(wide, 5, m);
}

void u256_mul_full(u256 a, u256 b, u256 *hi, u256 *lo)
{
    uint64_t p[WIDE_LIMBS] = { 0 };
    for (int i = 0; i < 4; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < 4; j++) {
            unsigned __int128 t =
                (unsigned __int128)a.w[i] * b.w[j] + p[i + j] + (unsigned __int128)carry;
            p[i + j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        p[i + 4] = carry;
    }
    memcpy(lo->w, p, sizeof(lo->w));
    memcpy(hi->w, p + 4, sizeof(hi->w));
}

bool u256_mul_overflow(u256 a, u256 b, u256 *out)
{
    u256 hi;
    u256_mul_full(a, b, &hi, out);
    return !u256_is_zero(hi);
}

u256 u256_mulmod(u256 a, u256 b, u256 m)
{
    if (u256_is_zero(m))
        return u256_zero();
    u256 hi, lo;
    u256_mul_full(a, b, &hi, &lo);
    if (u256_is_zero(hi))
        return u256_mod(lo, m);
    uint64_t wide[WIDE_LIMBS];
    memcpy(wide, lo.w, sizeof(lo.w));
    memcpy(wide + 4, hi.w, sizeof(hi.w));
    return reduce_wide(wide, WIDE_LIMBS, m);
}

u256 u256_exp(u256 base, u256 exponent)
{
    unsigned bits = u256_bit_length(exponent);
    if (base.w[0] == 2 && (base.w[1] | base.w[2] | base.w[3]) == 0) {
        /* 2^e, common in Solidity (masks, 2**n), is a shift. */
        if (!u256_fits_u64(exponent) || exponent.w[0] >= 256)
            return u256_zero();
        return u256_shl_bits(u256_one(), (unsigned)exponent.w[0]);
    }
    /* Left-to-right square and multiply over the exponent's bits. */
    u256 result = u256_one();
    for (unsigned i = bits; i-- > 0;) {
        result = u256_mul(result, result);
        if ((exponent.w[i / 64] >> (i % 64)) & 1)
            result = u256_mul(result, base);
        if (u256_is_zero(result))
            break;
    }
    return result;
}

u256 u256_signextend(u256 byte_index, u256 x)
{
    if (!u256_fits_u64(byte_index) || byte_index.w[0] >= 31)
        return x;
    unsigned sign_bit = 8 * (unsigned)byte_index.w[0] + 7;
    unsigned limb = sign_bit / 64, bit = sign_bit % 64;
    uint64_t keep = bit == 63 ? UINT64_MAX : (UINT64_C(1) << (bit + 1)) - 1;
    uint64_t fill = ((x.w[limb] >> bit) & 1) ? UINT64_MAX : 0;
    x.w[limb] = (x.w[limb] & keep) | (fill & ~keep);
    for (unsigned i = limb + 1; i < 4; i++)
        x.w[i] = fill;
    return x;
}

u256 u256_from_be_bytes(const uint8_t *bytes, size_t len)
{
    u256 r = u256_zero();
    if (len > 32) {
        bytes += len - 32;
        len = 32;
    }
    for (size_t i = 0; i < len; i++)
        r.w[i / 8] |= (uint64_t)bytes[len - 1 - i] << (8 * (i % 8));
    return r;
}

void u256_to_be_bytes(u256 a, uint8_t out[32])
{
    for (unsigned i = 0; i < 32; i++)
        out[31 - i] = (uint8_t)(a.w[i / 8] >> (8 * (i % 8)));
}

size_t u256_to_be_trimmed(u256 a, uint8_t out[32])
{
    unsigned n = u256_byte_length(a);
    for (unsigned i = 0; i < n; i++)
        out[n - 1 - i] = (uint8_t)(a.w[i / 8] >> (8 * (i % 8)));
    return n;
}

/* *r = *r * mul + add; returns true if the exact result is >= 2^256. */
static bool mul_add_small(u256 *r, uint64_t mul, uint64_t add)
{
    uint64_t carry = add;
    for (int i = 0; i < 4; i++) {
        unsigned __int128 t = (unsigned __int128)r->w[i] * mul + carry;
        r->w[i] = (uint64_t)t;
        carry = (uint64_t)(t >> 64);
    }
    return carry != 0;
}

/* 10^19, the largest power of ten in a limb: decimal goes 19 digits at a time. */
#define DEC_CHUNK        UINT64_C(10000000000000000000)
#define DEC_CHUNK_DIGITS 19

int u256_from_dec(const char *s, u256 *out)
{
    if (s == NULL || s[0] == '\0')
        return TC_EINVAL;
    size_t len = 0;
    for (; s[len] != '\0'; len++) {
        if (s[len] < '0' || s[len] > '9')
            return TC_EINVAL;
    }
    u256 r = u256_zero();
    size_t i = 0;
    /* The first chunk takes the odd digits so that the rest are full. */
    size_t chunk = len % DEC_CHUNK_DIGITS == 0 ? DEC_CHUNK_DIGITS : len % DEC_CHUNK_DIGITS;
    while (i < len) {
        uint64_t value = 0, scale = 1;
        for (size_t k = 0; k < chunk; k++, i++) {
            value = value * 10 + (uint64_t)(s[i] - '0');
            scale *= 10;
        }
        if (mul_add_small(&r, scale, value))
            return TC_ERANGE;
        chunk = DEC_CHUNK_DIGITS;
    }
    *out = r;
    return TC_OK;
}

int u256_from_hex(const char *s, u256 *out)
{
    if (s == NULL || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return TC_EINVAL;
    const char *digits = s + 2;
    size_t len = 0;
    for (; digits[len] != '\0'; len++) {
        if (hex_digit_value(digits[len]) < 0)
            return TC_EINVAL;
    }
    if (len == 0)
        return TC_EINVAL;
    if (len > 64)
        return TC_ERANGE;
    u256 r = u256_zero();
    for (size_t i = 0; i < len; i++) {
        size_t nibble = len - 1 - i; /* position counted from the least significant */
        r.w[nibble / 16] |= (uint64_t)hex_digit_value(digits[i]) << (4 * (nibble % 16));
    }
    *out = r;
    return TC_OK;
}

void u256_to_dec(u256 a, char out[U256_DEC_LEN])
{
    /* 2^256 < 10^(19*5): at most five chunks of 19 digits, least significant first. */
    uint64_t chunks[5];
    unsigned count = 0;
    do {
        uint64_t rem = divrem_by_limb(a.w, limb_count(a.w, 4), DEC_CHUNK, a.w);
        chunks[count++] = rem;
    } while (!u256_is_zero(a));

    char *p = out;
    char tmp[DEC_CHUNK_DIGITS];
    for (unsigned c = count; c-- > 0;) {
        uint64_t v = chunks[c];
        unsigned n = 0;
        do {
            tmp[n++] = (char)('0' + v % 10);
            v /= 10;
        } while (v != 0);
        /* Every chunk below the most significant is zero-padded to 19 digits. */
        if (c != count - 1) {
            while (n < DEC_CHUNK_DIGITS)
                tmp[n++] = '0';
        }
        while (n > 0)
            *p++ = tmp[--n];
    }
    *p = '\0';
}

void u256_to_hex(u256 a, char out[U256_HEX_LEN])
{
    static const char digits[] = "0123456789abcdef";
    char *p = out;
    *p++ = '0';
    *p++ = 'x';
    unsigned nibbles = (u256_bit_length(a) + 3) / 4;
    if (nibbles == 0)
        *p++ = '0';
    for (unsigned i = nibbles; i-- > 0;)
        *p++ = digits[(a.w[i / 16] >> (4 * (i % 16))) & 0xf];
    *p = '\0';
}
