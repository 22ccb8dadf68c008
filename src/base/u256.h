/*
 * u256.h - 256-bit integers: the EVM's word type.
 *
 * A u256 is a plain value of four 64-bit limbs, w[0] least significant. It is
 * passed and returned by value; nothing here allocates, locks or fails except
 * the parsers. Arithmetic wraps modulo 2^256. The same bits read as a signed
 * (two's complement) number by the u256_s* functions: 2^255 is the signed
 * minimum and u256_max() is -1.
 *
 * Every EVM arithmetic, comparison, bitwise and shift opcode has a function
 * with the opcode's semantics, including its operand order (the shift amount
 * and the byte index come first, as on the EVM stack) and its total
 * definitions (x / 0 = 0, x % 0 = 0, mulmod/addmod with m = 0 is 0, shifts by
 * 256 or more, SDIV(MIN, -1) = MIN). Small hot operations are static inline
 * here; division, mulmod, exp and the conversions live in u256.c.
 *
 * Usage:
 *     u256 a = u256_from_u64(7), b;
 *     if (u256_from_hex("0x1f", &b) != TC_OK) ...;
 *     u256 c = u256_mulmod(a, b, u256_from_u64(10));
 *     char dec[U256_DEC_LEN];
 *     u256_to_dec(c, dec);
 *
 * Thread-safety: none needed, there is no shared state.
 */
#ifndef TC_BASE_U256_H
#define TC_BASE_U256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h" /* the parsers' return codes */

typedef struct {
    uint64_t w[4]; /* w[0] is the least significant limb */
} u256;

/* Output buffer sizes, NUL included: 78 decimal digits; "0x" + 64 hex digits. */
#define U256_DEC_LEN 79
#define U256_HEX_LEN 67

/* ---- constants and construction ---------------------------------------- */

static inline u256 u256_zero(void)
{
    u256 r = { { 0, 0, 0, 0 } };
    return r;
}

static inline u256 u256_one(void)
{
    u256 r = { { 1, 0, 0, 0 } };
    return r;
}

/* 2^256 - 1, which is -1 read as signed. */
static inline u256 u256_max(void)
{
    u256 r = { { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX } };
    return r;
}

static inline u256 u256_from_u64(uint64_t x)
{
    u256 r = { { x, 0, 0, 0 } };
    return r;
}

/* ---- predicates and comparison ----------------------------------------- */

static inline bool u256_is_zero(u256 a)
{
    return (a.w[0] | a.w[1] | a.w[2] | a.w[3]) == 0;
}

static inline bool u256_eq(u256 a, u256 b)
{
    return ((a.w[0] ^ b.w[0]) | (a.w[1] ^ b.w[1]) | (a.w[2] ^ b.w[2]) | (a.w[3] ^ b.w[3])) == 0;
}

/*
 * The hot operations below are written limb by limb rather than as loops:
 * GCC at -O2 does not unroll loops whose unrolled body is larger, and the
 * rolled loops cost two to four times as much.
 */

/* a - b - borrow_in for one limb; *borrow gets the borrow out (0 or 1). */
static inline uint64_t u256_sub_limb(uint64_t a, uint64_t b, uint64_t *borrow)
{
    unsigned __int128 t = (unsigned __int128)a - b - *borrow;
    *borrow = (uint64_t)(t >> 64) & 1;
    return (uint64_t)t;
}

/* a + b + carry_in for one limb; *carry gets the carry out (0 or 1). */
static inline uint64_t u256_add_limb(uint64_t a, uint64_t b, uint64_t *carry)
{
    unsigned __int128 t = (unsigned __int128)a + b + *carry;
    *carry = (uint64_t)(t >> 64);
    return (uint64_t)t;
}

/* Unsigned a < b: the borrow out of a - b, without branches. */
static inline bool u256_lt(u256 a, u256 b)
{
    uint64_t borrow = 0;
    u256_sub_limb(a.w[0], b.w[0], &borrow);
    u256_sub_limb(a.w[1], b.w[1], &borrow);
    u256_sub_limb(a.w[2], b.w[2], &borrow);
    u256_sub_limb(a.w[3], b.w[3], &borrow);
    return borrow != 0;
}

/* Unsigned comparison: -1 if a < b, 0 if equal, 1 if a > b. */
static inline int u256_cmp(u256 a, u256 b)
{
    return (int)u256_lt(b, a) - (int)u256_lt(a, b);
}

static inline bool u256_gt(u256 a, u256 b)
{
    return u256_lt(b, a);
}

/* True if a is negative read as two's complement (bit 255 set). */
static inline bool u256_is_neg(u256 a)
{
    return (a.w[3] >> 63) != 0;
}

/* Signed (two's complement) a < b, as the EVM's SLT. */
static inline bool u256_slt(u256 a, u256 b)
{
    /* Flipping the sign bits maps signed order onto unsigned order. */
    a.w[3] ^= UINT64_C(1) << 63;
    b.w[3] ^= UINT64_C(1) << 63;
    return u256_lt(a, b);
}

/* Signed a > b, as the EVM's SGT. */
static inline bool u256_sgt(u256 a, u256 b)
{
    return u256_slt(b, a);
}

/* True if a < 2^64, i.e. u256_low_u64 loses nothing. */
static inline bool u256_fits_u64(u256 a)
{
    return (a.w[1] | a.w[2] | a.w[3]) == 0;
}

/* The low 64 bits (a mod 2^64). */
static inline uint64_t u256_low_u64(u256 a)
{
    return a.w[0];
}

/* Number of significant bits: 0 for zero, 256 when bit 255 is set. */
static inline unsigned u256_bit_length(u256 a)
{
    if (a.w[3] != 0)
        return 256 - (unsigned)__builtin_clzll(a.w[3]);
    if (a.w[2] != 0)
        return 192 - (unsigned)__builtin_clzll(a.w[2]);
    if (a.w[1] != 0)
        return 128 - (unsigned)__builtin_clzll(a.w[1]);
    if (a.w[0] != 0)
        return 64 - (unsigned)__builtin_clzll(a.w[0]);
    return 0;
}

/* Number of significant bytes: 0 for zero, 32 at most. */
static inline unsigned u256_byte_length(u256 a)
{
    return (u256_bit_length(a) + 7) / 8;
}

/* ---- add, subtract, multiply (modulo 2^256) ----------------------------- */

/* a + b mod 2^256; *out gets the sum; returns true if it wrapped. */
static inline bool u256_add_overflow(u256 a, u256 b, u256 *out)
{
    uint64_t carry = 0;
    out->w[0] = u256_add_limb(a.w[0], b.w[0], &carry);
    out->w[1] = u256_add_limb(a.w[1], b.w[1], &carry);
    out->w[2] = u256_add_limb(a.w[2], b.w[2], &carry);
    out->w[3] = u256_add_limb(a.w[3], b.w[3], &carry);
    return carry != 0;
}

static inline u256 u256_add(u256 a, u256 b)
{
    u256 r;
    u256_add_overflow(a, b, &r);
    return r;
}

/* a - b mod 2^256. */
static inline u256 u256_sub(u256 a, u256 b)
{
    u256 r;
    uint64_t borrow = 0;
    r.w[0] = u256_sub_limb(a.w[0], b.w[0], &borrow);
    r.w[1] = u256_sub_limb(a.w[1], b.w[1], &borrow);
    r.w[2] = u256_sub_limb(a.w[2], b.w[2], &borrow);
    r.w[3] = u256_sub_limb(a.w[3], b.w[3], &borrow);
    return r;
}

/* Two's complement negation: 0 - a mod 2^256. */
static inline u256 u256_neg(u256 a)
{
    return u256_sub(u256_zero(), a);
}

/* x * y + add + carry_in as 128 bits: low limb returned, high into *carry.
 * Cannot overflow: (2^64 - 1)^2 + 2 (2^64 - 1) = 2^128 - 1. */
static inline uint64_t u256_mul_add_limb(uint64_t x, uint64_t y, uint64_t add, uint64_t *carry)
{
    unsigned __int128 t = (unsigned __int128)x * y + add + *carry;
    *carry = (uint64_t)(t >> 64);
    return (uint64_t)t;
}

/* a * b mod 2^256: schoolbook on the ten limb products that reach the low
 * half; the top limb needs only the low 64 bits of its products. */
static inline u256 u256_mul(u256 a, u256 b)
{
    u256 r;
    uint64_t c = 0;
    r.w[0] = u256_mul_add_limb(a.w[0], b.w[0], 0, &c);
    r.w[1] = u256_mul_add_limb(a.w[0], b.w[1], 0, &c);
    r.w[2] = u256_mul_add_limb(a.w[0], b.w[2], 0, &c);
    r.w[3] = a.w[0] * b.w[3] + c;
    c = 0;
    r.w[1] = u256_mul_add_limb(a.w[1], b.w[0], r.w[1], &c);
    r.w[2] = u256_mul_add_limb(a.w[1], b.w[1], r.w[2], &c);
    r.w[3] += a.w[1] * b.w[2] + c;
    c = 0;
    r.w[2] = u256_mul_add_limb(a.w[2], b.w[0], r.w[2], &c);
    r.w[3] += a.w[2] * b.w[1] + c;
    r.w[3] += a.w[3] * b.w[0];
    return r;
}

/* Full product a * b = 2^256 * hi + lo (the 512-bit result of 256 x 256). */
void u256_mul_full(u256 a, u256 b, u256 *hi, u256 *lo);

/* *out = a * b mod 2^256; returns true if the exact product is >= 2^256. */
bool u256_mul_overflow(u256 a, u256 b, u256 *out);

/* ---- division and modular arithmetic (u256.c) --------------------------- */

/*
 * Unsigned division: *q = a / b and *r = a % b (either pointer may be NULL).
 * b = 0 gives q = 0 and r = 0, as the EVM defines DIV and MOD.
 */
void u256_div_rem(u256 a, u256 b, u256 *q, u256 *r);
/* EVM DIV: a / b, 0 when b = 0. */
u256 u256_div(u256 a, u256 b);
/* EVM MOD: a % b, 0 when b = 0. */
u256 u256_mod(u256 a, u256 b);
/* EVM SDIV: signed quotient rounded toward zero; b = 0 gives 0; MIN / -1 = MIN. */
u256 u256_sdiv(u256 a, u256 b);
/* EVM SMOD: signed remainder with the sign of a; b = 0 gives 0. */
u256 u256_smod(u256 a, u256 b);
/* EVM ADDMOD: (a + b) % m over the exact 257-bit sum; m = 0 gives 0. */
u256 u256_addmod(u256 a, u256 b, u256 m);
/* EVM MULMOD: (a * b) % m over the exact 512-bit product; m = 0 gives 0. */
u256 u256_mulmod(u256 a, u256 b, u256 m);
/* EVM EXP: base^exponent mod 2^256 (0^0 = 1). */
u256 u256_exp(u256 base, u256 exponent);

/* ---- bitwise ------------------------------------------------------------ */

static inline u256 u256_and(u256 a, u256 b)
{
    u256 r = { { a.w[0] & b.w[0], a.w[1] & b.w[1], a.w[2] & b.w[2], a.w[3] & b.w[3] } };
    return r;
}

static inline u256 u256_or(u256 a, u256 b)
{
    u256 r = { { a.w[0] | b.w[0], a.w[1] | b.w[1], a.w[2] | b.w[2], a.w[3] | b.w[3] } };
    return r;
}

static inline u256 u256_xor(u256 a, u256 b)
{
    u256 r = { { a.w[0] ^ b.w[0], a.w[1] ^ b.w[1], a.w[2] ^ b.w[2], a.w[3] ^ b.w[3] } };
    return r;
}

static inline u256 u256_not(u256 a)
{
    u256 r = { { ~a.w[0], ~a.w[1], ~a.w[2], ~a.w[3] } };
    return r;
}

/* ---- shifts (EVM operand order: the shift amount first) ----------------- */

/* The shift amount as an int in [0, 256]; every amount >= 256 maps to 256. */
static inline unsigned u256_shift_amount(u256 shift)
{
    if ((shift.w[1] | shift.w[2] | shift.w[3]) != 0 || shift.w[0] >= 256)
        return 256;
    return (unsigned)shift.w[0];
}

/* x << n for n in [0, 256), filling with zeros: whole limbs first, then bits. */
static inline u256 u256_shl_bits(u256 x, unsigned n)
{
    u256 m;
    switch (n / 64) {
    case 0:
        m = x;
        break;
    case 1:
        m = (u256){ { 0, x.w[0], x.w[1], x.w[2] } };
        break;
    case 2:
        m = (u256){ { 0, 0, x.w[0], x.w[1] } };
        break;
    default:
        m = (u256){ { 0, 0, 0, x.w[0] } };
        break;
    }
    unsigned bits = n % 64;
    if (bits == 0)
        return m;
    u256 r = { { m.w[0] << bits, (m.w[1] << bits) | (m.w[0] >> (64 - bits)),
                 (m.w[2] << bits) | (m.w[1] >> (64 - bits)),
                 (m.w[3] << bits) | (m.w[2] >> (64 - bits)) } };
    return r;
}

/* x >> n for n in [0, 256), shifting in `fill` (0, or all ones for SAR of a
 * negative): whole limbs first, then bits. */
static inline u256 u256_shr_fill(u256 x, unsigned n, uint64_t fill)
{
    u256 m;
    switch (n / 64) {
    case 0:
        m = x;
        break;
    case 1:
        m = (u256){ { x.w[1], x.w[2], x.w[3], fill } };
        break;
    case 2:
        m = (u256){ { x.w[2], x.w[3], fill, fill } };
        break;
    default:
        m = (u256){ { x.w[3], fill, fill, fill } };
        break;
    }
    unsigned bits = n % 64;
    if (bits == 0)
        return m;
    u256 r = {
        { (m.w[0] >> bits) | (m.w[1] << (64 - bits)), (m.w[1] >> bits) | (m.w[2] << (64 - bits)),
          (m.w[2] >> bits) | (m.w[3] << (64 - bits)), (m.w[3] >> bits) | (fill << (64 - bits)) }
    };
    return r;
}

/* x >> n for n in [0, 256), filling with zeros. */
static inline u256 u256_shr_bits(u256 x, unsigned n)
{
    return u256_shr_fill(x, n, 0);
}

/* EVM SHL: x << shift; 0 when shift >= 256. */
static inline u256 u256_shl(u256 shift, u256 x)
{
    unsigned n = u256_shift_amount(shift);
    return n >= 256 ? u256_zero() : u256_shl_bits(x, n);
}

/* EVM SHR: logical x >> shift; 0 when shift >= 256. */
static inline u256 u256_shr(u256 shift, u256 x)
{
    unsigned n = u256_shift_amount(shift);
    return n >= 256 ? u256_zero() : u256_shr_fill(x, n, 0);
}

/* EVM SAR: arithmetic x >> shift; for shift >= 256, 0 or -1 by the sign of x. */
static inline u256 u256_sar(u256 shift, u256 x)
{
    uint64_t fill = u256_is_neg(x) ? UINT64_MAX : 0;
    unsigned n = u256_shift_amount(shift);
    if (n >= 256) {
        u256 r = { { fill, fill, fill, fill } };
        return r;
    }
    return u256_shr_fill(x, n, fill);
}

/* ---- byte-level EVM operations ------------------------------------------ */

/* EVM BYTE(index, x): byte `index` of x counted from the most significant
 * (index 0); 0 when index >= 32. */
static inline u256 u256_byte(u256 index, u256 x)
{
    if ((index.w[1] | index.w[2] | index.w[3]) != 0 || index.w[0] >= 32)
        return u256_zero();
    unsigned i = (unsigned)index.w[0];
    return u256_from_u64((x.w[3 - i / 8] >> (56 - 8 * (i % 8))) & 0xff);
}

/* EVM SIGNEXTEND(byte_index, x): extends the sign of byte `byte_index`
 * (0 = least significant) over the higher bytes; x unchanged when
 * byte_index >= 31. */
u256 u256_signextend(u256 byte_index, u256 x);

/* ---- bytes and text (u256.c) -------------------------------------------- */

/* The big-endian number in bytes[0..len). len <= 32 is the contract; when
 * len > 32 only the last 32 bytes count (the value mod 2^256). */
u256 u256_from_be_bytes(const uint8_t *bytes, size_t len);
/* 32 big-endian bytes, left-padded with zeros. */
void u256_to_be_bytes(u256 a, uint8_t out[32]);
/* Minimal big-endian bytes (no leading zero byte) into out[0..n); returns n,
 * 0 for zero. Bytes of out past n are left unspecified. */
size_t u256_to_be_trimmed(u256 a, uint8_t out[32]);

/*
 * Parses a decimal string: one or more ASCII digits and nothing else (no
 * sign, space, prefix or separator; leading zeros are accepted). Returns
 * TC_OK, TC_EINVAL for any other text (s NULL or empty included), TC_ERANGE
 * when the value is >= 2^256. *out is written only on success.
 */
int u256_from_dec(const char *s, u256 *out);
/*
 * Parses "0x" or "0X" followed by 1..64 hex digits of either case (leading
 * zeros accepted; the strict compact-quantity form of JSON-RPC is checked by
 * codec/, not here). Returns TC_OK, TC_EINVAL for a missing prefix, no digits
 * or a non-hex character, TC_ERANGE for more than 64 digits. *out is written
 * only on success.
 */
int u256_from_hex(const char *s, u256 *out);
/* Decimal digits without leading zeros ("0" for zero), NUL-terminated. */
void u256_to_dec(u256 a, char out[U256_DEC_LEN]);
/* Compact Ethereum quantity: "0x" and lower-case hex without leading zeros
 * ("0x0" for zero), NUL-terminated. */
void u256_to_hex(u256 a, char out[U256_HEX_LEN]);

#endif
