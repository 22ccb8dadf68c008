/*
 * bn254_pairing.c - the bn256 pairing check precompile (0x08, EIP-197):
 * whether the product of e(P_i, Q_i) is 1, for P_i in G1 and Q_i in G2 of
 * the BN254 curve (alt_bn128).
 *
 * Arithmetic: F_p in 4x64-bit Montgomery form; F_p2 = F_p[i]/(i^2 + 1);
 * F_p12 = F_p2[w]/(w^6 - xi) with xi = 9 + i. G2 lives on the D-type twist
 * E': y^2 = x^3 + 3/xi over F_p2 and maps into E(F_p12) by
 * (x, y) -> (x w^2, y w^3). The pairing is the ate pairing with loop length
 * T = t - 1 = 6u^2 (t the trace of Frobenius), lines evaluated at P in
 * sparse form, followed by the final exponentiation to (p^12 - 1) / r (the
 * product of all pairs is exponentiated once). G2 inputs are checked to be
 * in the order-r subgroup by multiplying by r in Jacobian coordinates. Any non-degenerate bilinear
 * pairing gives the same answer to "is the product 1", which is all the precompile reports.
 *
 * Every value here lives on the C stack of one call: no global state.
 */
#include <string.h>

#include <openssl/bn.h>

#include "base/bytes.h"
#include "base/error.h"
#include "evm/evm_internal.h"

typedef u256 fp; /* Montgomery form, < p */

typedef struct {
    fp a, b; /* a + b i */
} fp2;

typedef struct {
    fp2 c[6]; /* sum of c[k] w^k */
} fp12;

struct pairing_ctx {
    fp p;
    uint64_t inv; /* -p^-1 mod 2^64 */
    fp r2;        /* 2^512 mod p */
    fp one;       /* 1 in Montgomery form */
    fp2 twist_b;  /* 3 / xi */
};

static const char P_HEX[] = "0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47";
static const char R_HEX[] = "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";
/* The BN parameter u of this curve; the ate loop length is 6 u^2. */
#define BN_U UINT64_C(4965661367192848881)

/* ---- F_p ----------------------------------------------------------------- */

static inline fp fp_reduce_once(const struct pairing_ctx *c, fp x)
{
    return u256_lt(x, c->p) ? x : u256_sub(x, c->p);
}

static inline fp fp_add(const struct pairing_ctx *c, fp a, fp b)
{
    /* a, b < p < 2^254: the sum cannot wrap */
    return fp_reduce_once(c, u256_add(a, b));
}

static inline fp fp_sub(const struct pairing_ctx *c, fp a, fp b)
{
    return u256_lt(a, b) ? u256_sub(u256_add(a, c->p), b) : u256_sub(a, b);
}

static inline fp fp_neg(const struct pairing_ctx *c, fp a)
{
    return u256_is_zero(a) ? a : u256_sub(c->p, a);
}

/* Montgomery product a * b / 2^256 mod p (CIOS). */
static fp fp_mul(const struct pairing_ctx *c, fp a, fp b)
{
    uint64_t t[6] = { 0, 0, 0, 0, 0, 0 };
    for (int i = 0; i < 4; i++) {
        unsigned __int128 s;
        uint64_t carry = 0;
        for (int j = 0; j < 4; j++) {
            s = (unsigned __int128)a.w[i] * b.w[j] + t[j] + carry;
            t[j] = (uint64_t)s;
            carry = (uint64_t)(s >> 64);
        }
        s = (unsigned __int128)t[4] + carry;
        t[4] = (uint64_t)s;
        t[5] = (uint64_t)(s >> 64);
        uint64_t m = t[0] * c->inv;
        s = (unsigned __int128)m * c->p.w[0] + t[0];
        carry = (uint64_t)(s >> 64);
        for (int j = 1; j < 4; j++) {
            s = (unsigned __int128)m * c->p.w[j] + t[j] + carry;
            t[j - 1] = (uint64_t)s;
            carry = (uint64_t)(s >> 64);
        }
        s = (unsigned __int128)t[4] + carry;
        t[3] = (uint64_t)s;
        t[4] = t[5] + (uint64_t)(s >> 64);
    }
    fp r = { { t[0], t[1], t[2], t[3] } };
    return fp_reduce_once(c, r);
}

static fp fp_to_mont(const struct pairing_ctx *c, fp a)
{
    return fp_mul(c, a, c->r2);
}

/* a^(p-2): the inverse of a non-zero a (Fermat). */
static fp fp_inv(const struct pairing_ctx *c, fp a)
{
    fp e = u256_sub(c->p, u256_from_u64(2));
    fp r = c->one;
    for (int bit = 255; bit >= 0; bit--) {
        r = fp_mul(c, r, r);
        if ((e.w[bit / 64] >> (bit % 64)) & 1)
            r = fp_mul(c, r, a);
    }
    return r;
}

static void ctx_init(struct pairing_ctx *c)
{
    u256_from_hex(P_HEX, &c->p);
    uint64_t x = 1;
    for (int i = 0; i < 6; i++)
        x *= 2 - c->p.w[0] * x; /* Newton: x = p^-1 mod 2^64 */
    c->inv = (uint64_t)0 - x;
    fp r = u256_one();
    for (int i = 0; i < 512; i++)
        r = fp_reduce_once(c, u256_add(r, r));
    c->r2 = r;
    c->one = fp_to_mont(c, u256_one());
}

/* ---- F_p2 ---------------------------------------------------------------- */

static inline fp2 fp2_add(const struct pairing_ctx *c, fp2 x, fp2 y)
{
    fp2 r = { fp_add(c, x.a, y.a), fp_add(c, x.b, y.b) };
    return r;
}

static inline fp2 fp2_sub(const struct pairing_ctx *c, fp2 x, fp2 y)
{
    fp2 r = { fp_sub(c, x.a, y.a), fp_sub(c, x.b, y.b) };
    return r;
}

static inline fp2 fp2_neg(const struct pairing_ctx *c, fp2 x)
{
    fp2 r = { fp_neg(c, x.a), fp_neg(c, x.b) };
    return r;
}

/* (a + b i)(c + d i) = (ac - bd) + (ad + bc) i, with Karatsuba. */
static fp2 fp2_mul(const struct pairing_ctx *c, fp2 x, fp2 y)
{
    fp ac = fp_mul(c, x.a, y.a);
    fp bd = fp_mul(c, x.b, y.b);
    fp cross = fp_mul(c, fp_add(c, x.a, x.b), fp_add(c, y.a, y.b));
    fp2 r = { fp_sub(c, ac, bd), fp_sub(c, fp_sub(c, cross, ac), bd) };
    return r;
}

static fp2 fp2_mul_fp(const struct pairing_ctx *c, fp2 x, fp k)
{
    fp2 r = { fp_mul(c, x.a, k), fp_mul(c, x.b, k) };
    return r;
}

/* x * xi with xi = 9 + i: (9a - b) + (a + 9b) i. */
static fp2 fp2_mul_xi(const struct pairing_ctx *c, fp2 x)
{
    fp a8 = fp_add(c, x.a, x.a), b8 = fp_add(c, x.b, x.b);
    a8 = fp_add(c, a8, a8);
    a8 = fp_add(c, a8, a8);
    b8 = fp_add(c, b8, b8);
    b8 = fp_add(c, b8, b8);
    fp2 r = { fp_sub(c, fp_add(c, a8, x.a), x.b), fp_add(c, x.a, fp_add(c, b8, x.b)) };
    return r;
}

static bool fp2_is_zero(fp2 x)
{
    return u256_is_zero(x.a) && u256_is_zero(x.b);
}

static bool fp2_eq(fp2 x, fp2 y)
{
    return u256_eq(x.a, y.a) && u256_eq(x.b, y.b);
}

/* 1 / (a + b i) = (a - b i) / (a^2 + b^2); x must be non-zero. */
static fp2 fp2_inv(const struct pairing_ctx *c, fp2 x)
{
    fp n = fp_add(c, fp_mul(c, x.a, x.a), fp_mul(c, x.b, x.b));
    fp ni = fp_inv(c, n);
    fp2 r = { fp_mul(c, x.a, ni), fp_neg(c, fp_mul(c, x.b, ni)) };
    return r;
}

/* ---- F_p12 --------------------------------------------------------------- */

static fp12 fp12_one(const struct pairing_ctx *c)
{
    fp12 r;
    memset(&r, 0, sizeof(r));
    r.c[0].a = c->one;
    return r;
}

static fp12 fp12_mul(const struct pairing_ctx *c, const fp12 *x, const fp12 *y)
{
    fp2 t[11];
    memset(t, 0, sizeof(t));
    for (int i = 0; i < 6; i++) {
        if (fp2_is_zero(x->c[i]))
            continue;
        for (int j = 0; j < 6; j++)
            if (!fp2_is_zero(y->c[j]))
                t[i + j] = fp2_add(c, t[i + j], fp2_mul(c, x->c[i], y->c[j]));
    }
    fp12 r;
    for (int k = 0; k < 6; k++)
        r.c[k] = k + 6 < 11 ? fp2_add(c, t[k], fp2_mul_xi(c, t[k + 6])) : t[k];
    return r;
}

static bool fp12_is_one(const struct pairing_ctx *c, const fp12 *x)
{
    fp12 one = fp12_one(c);
    for (int k = 0; k < 6; k++)
        if (!fp2_eq(x->c[k], one.c[k]))
            return false;
    return true;
}

/* ---- G2 on the twist (affine, with an explicit infinity) ---------------- */

struct g2 {
    fp2 x, y;
    bool inf;
};

static bool g2_on_curve(const struct pairing_ctx *c, const struct g2 *q)
{
    fp2 y2 = fp2_mul(c, q->y, q->y);
    fp2 x3 = fp2_mul(c, fp2_mul(c, q->x, q->x), q->x);
    return fp2_eq(y2, fp2_add(c, x3, c->twist_b));
}

/* The slope of the line through a and b (the tangent when a == b), or
   false when that line is vertical. */
static bool g2_slope(const struct pairing_ctx *c, const struct g2 *a, const struct g2 *b,
                     fp2 *lambda)
{
    if (fp2_eq(a->x, b->x)) {
        if (!fp2_eq(a->y, b->y) || fp2_is_zero(a->y))
            return false;
        fp2 x2 = fp2_mul(c, a->x, a->x);
        fp2 num = fp2_add(c, fp2_add(c, x2, x2), x2);
        *lambda = fp2_mul(c, num, fp2_inv(c, fp2_add(c, a->y, a->y)));
        return true;
    }
    *lambda = fp2_mul(c, fp2_sub(c, b->y, a->y), fp2_inv(c, fp2_sub(c, b->x, a->x)));
    return true;
}

/* a + b given the slope of the line through them. */
static struct g2 g2_add_with_slope(const struct pairing_ctx *c, const struct g2 *a,
                                   const struct g2 *b, fp2 lambda)
{
    struct g2 r;
    r.inf = false;
    r.x = fp2_sub(c, fp2_sub(c, fp2_mul(c, lambda, lambda), a->x), b->x);
    r.y = fp2_sub(c, fp2_mul(c, lambda, fp2_sub(c, a->x, r.x)), a->y);
    return r;
}

/* A twist point in Jacobian coordinates (x = X / Z^2, y = Y / Z^3); Z = 0
   is the point at infinity. Used where no line is needed, so that no step
   pays for an inversion. */
struct g2_jac {
    fp2 x, y, z;
};

static struct g2_jac g2_jac_double(const struct pairing_ctx *c, const struct g2_jac *p)
{
    if (fp2_is_zero(p->z) || fp2_is_zero(p->y)) {
        struct g2_jac inf;
        memset(&inf, 0, sizeof(inf));
        return inf;
    }
    fp2 a = fp2_mul(c, p->x, p->x);
    fp2 b = fp2_mul(c, p->y, p->y);
    fp2 cc = fp2_mul(c, b, b);
    fp2 t = fp2_add(c, p->x, b);
    fp2 d = fp2_sub(c, fp2_sub(c, fp2_mul(c, t, t), a), cc);
    d = fp2_add(c, d, d);
    fp2 e = fp2_add(c, fp2_add(c, a, a), a);
    fp2 f = fp2_mul(c, e, e);
    struct g2_jac r;
    r.x = fp2_sub(c, f, fp2_add(c, d, d));
    fp2 c8 = fp2_add(c, cc, cc);
    c8 = fp2_add(c, c8, c8);
    c8 = fp2_add(c, c8, c8);
    r.y = fp2_sub(c, fp2_mul(c, e, fp2_sub(c, d, r.x)), c8);
    fp2 yz = fp2_mul(c, p->y, p->z);
    r.z = fp2_add(c, yz, yz);
    return r;
}

/* p + q for an affine q not at infinity. */
static struct g2_jac g2_jac_add_affine(const struct pairing_ctx *c, const struct g2_jac *p,
                                       const struct g2 *q)
{
    struct g2_jac r;
    if (fp2_is_zero(p->z)) {
        r.x = q->x;
        r.y = q->y;
        r.z.a = c->one;
        r.z.b = u256_zero();
        return r;
    }
    fp2 z1z1 = fp2_mul(c, p->z, p->z);
    fp2 u2 = fp2_mul(c, q->x, z1z1);
    fp2 s2 = fp2_mul(c, fp2_mul(c, q->y, p->z), z1z1);
    fp2 h = fp2_sub(c, u2, p->x);
    fp2 rr = fp2_sub(c, s2, p->y);
    if (fp2_is_zero(h)) {
        if (fp2_is_zero(rr))
            return g2_jac_double(c, p);
        memset(&r, 0, sizeof(r));
        return r;
    }
    rr = fp2_add(c, rr, rr);
    fp2 hh = fp2_mul(c, h, h);
    fp2 i4 = fp2_add(c, hh, hh);
    i4 = fp2_add(c, i4, i4);
    fp2 j = fp2_mul(c, h, i4);
    fp2 v = fp2_mul(c, p->x, i4);
    r.x = fp2_sub(c, fp2_sub(c, fp2_mul(c, rr, rr), j), fp2_add(c, v, v));
    fp2 yj = fp2_mul(c, p->y, j);
    r.y = fp2_sub(c, fp2_mul(c, rr, fp2_sub(c, v, r.x)), fp2_add(c, yj, yj));
    fp2 zh = fp2_add(c, p->z, h);
    r.z = fp2_sub(c, fp2_sub(c, fp2_mul(c, zh, zh), z1z1), hh);
    return r;
}

/* True if r * q is the point at infinity (q is in the order-r subgroup). */
static bool g2_in_subgroup(const struct pairing_ctx *c, const struct g2 *q)
{
    u256 r;
    u256_from_hex(R_HEX, &r);
    struct g2_jac acc;
    memset(&acc, 0, sizeof(acc));
    for (int bit = 255; bit >= 0; bit--) {
        acc = g2_jac_double(c, &acc);
        if ((r.w[bit / 64] >> (bit % 64)) & 1)
            acc = g2_jac_add_affine(c, &acc, q);
    }
    return fp2_is_zero(acc.z);
}

/* ---- Miller loop --------------------------------------------------------- */

/* The line of slope lambda' through the untwisted t, at P = (xp, yp):
   yp - lambda' xp w + (lambda' x_t - y_t) w^3. */
static fp12 line_at(const struct pairing_ctx *c, const struct g2 *t, fp2 lambda, fp xp, fp yp)
{
    fp12 l;
    memset(&l, 0, sizeof(l));
    l.c[0].a = yp;
    l.c[1] = fp2_neg(c, fp2_mul_fp(c, lambda, xp));
    l.c[3] = fp2_sub(c, fp2_mul(c, lambda, t->x), t->y);
    return l;
}

/* f_{T,Q}(P) with T = 6 u^2; P affine in Montgomery form, Q on the twist,
   neither at infinity. *f is multiplied by the result. */
static void miller_loop(const struct pairing_ctx *c, fp xp, fp yp, const struct g2 *q, fp12 *f)
{
    unsigned __int128 t = (unsigned __int128)BN_U * BN_U * 6;
    int top = 127;
    while (top > 0 && ((t >> top) & 1) == 0)
        top--;
    struct g2 r = *q;
    fp12 acc = fp12_one(c);
    for (int bit = top - 1; bit >= 0; bit--) {
        fp2 lambda;
        acc = fp12_mul(c, &acc, &acc);
        if (g2_slope(c, &r, &r, &lambda)) {
            fp12 l = line_at(c, &r, lambda, xp, yp);
            acc = fp12_mul(c, &acc, &l);
            r = g2_add_with_slope(c, &r, &r, lambda);
        }
        if ((t >> bit) & 1) {
            if (g2_slope(c, &r, q, &lambda)) {
                fp12 l = line_at(c, &r, lambda, xp, yp);
                acc = fp12_mul(c, &acc, &l);
                r = g2_add_with_slope(c, &r, q, lambda);
            }
        }
    }
    *f = fp12_mul(c, f, &acc);
}

/* The inverse of x0 + x1 v + x2 v^2 in F_p6 = F_p2[v]/(v^3 - xi), v = w^2
   (x non-zero). */
static void fp6_inv(const struct pairing_ctx *c, const fp2 x[3], fp2 out[3])
{
    fp2 t0 = fp2_sub(c, fp2_mul(c, x[0], x[0]), fp2_mul_xi(c, fp2_mul(c, x[1], x[2])));
    fp2 t1 = fp2_sub(c, fp2_mul_xi(c, fp2_mul(c, x[2], x[2])), fp2_mul(c, x[0], x[1]));
    fp2 t2 = fp2_sub(c, fp2_mul(c, x[1], x[1]), fp2_mul(c, x[0], x[2]));
    fp2 det = fp2_add(c, fp2_mul(c, x[0], t0),
                      fp2_mul_xi(c, fp2_add(c, fp2_mul(c, x[2], t1), fp2_mul(c, x[1], t2))));
    fp2 di = fp2_inv(c, det);
    out[0] = fp2_mul(c, t0, di);
    out[1] = fp2_mul(c, t1, di);
    out[2] = fp2_mul(c, t2, di);
}

/* f^(p^6): w -> -w, coefficients fixed (they lie in F_p2). */
static fp12 fp12_conj(const struct pairing_ctx *c, const fp12 *f)
{
    fp12 r = *f;
    for (int k = 1; k < 6; k += 2)
        r.c[k] = fp2_neg(c, r.c[k]);
    return r;
}

/* f^-1 = conj(f) / (f conj(f)), the denominator lying in F_p6; f non-zero. */
static fp12 fp12_inv(const struct pairing_ctx *c, const fp12 *f)
{
    fp12 conj = fp12_conj(c, f);
    fp12 norm = fp12_mul(c, f, &conj);
    fp2 x[3] = { norm.c[0], norm.c[2], norm.c[4] }, y[3];
    fp6_inv(c, x, y);
    fp12 ni;
    memset(&ni, 0, sizeof(ni));
    ni.c[0] = y[0];
    ni.c[2] = y[1];
    ni.c[4] = y[2];
    return fp12_mul(c, &conj, &ni);
}

static fp12 fp12_pow(const struct pairing_ctx *c, const fp12 *f, const BIGNUM *e)
{
    fp12 acc = fp12_one(c);
    for (int bit = BN_num_bits(e) - 1; bit >= 0; bit--) {
        acc = fp12_mul(c, &acc, &acc);
        if (BN_is_bit_set(e, bit))
            acc = fp12_mul(c, &acc, f);
    }
    return acc;
}

static fp2 fp2_pow(const struct pairing_ctx *c, fp2 x, const BIGNUM *e)
{
    fp2 acc = { c->one, u256_zero() };
    for (int bit = BN_num_bits(e) - 1; bit >= 0; bit--) {
        acc = fp2_mul(c, acc, acc);
        if (BN_is_bit_set(e, bit))
            acc = fp2_mul(c, acc, x);
    }
    return acc;
}

/*
 * f^((p^12 - 1) / r) = f^((p^6 - 1) (p^2 + 1) ((p^4 - p^2 + 1) / r)): the
 * first two factors through conjugation, one inversion and the p^2
 * Frobenius (coefficient k times gamma^k, gamma = xi^((p^2 - 1) / 6)); the
 * last by square-and-multiply. f must be non-zero (a Miller loop output
 * is). Returns false if a BIGNUM could not be allocated.
 */
static bool final_exponentiation(const struct pairing_ctx *c, fp12 *f)
{
    bool ok = false;
    BN_CTX *bctx = BN_CTX_new();
    BIGNUM *p = NULL, *r = NULL, *p2 = BN_new(), *e = BN_new();
    if (bctx == NULL || p2 == NULL || e == NULL || !BN_hex2bn(&p, P_HEX + 2) ||
        !BN_hex2bn(&r, R_HEX + 2) || !BN_sqr(p2, p, bctx))
        goto out_free;
    /* gamma = xi^((p^2 - 1) / 6) */
    if (!BN_sub_word(p2, 1) || BN_div_word(p2, 6) == (BN_ULONG)-1 || !BN_copy(e, p2))
        goto out_free;
    fp2 xi = { fp_to_mont(c, u256_from_u64(9)), c->one };
    fp2 gamma = fp2_pow(c, xi, e);

    fp12 conj = fp12_conj(c, f), inv = fp12_inv(c, f);
    fp12 f1 = fp12_mul(c, &conj, &inv); /* f^(p^6 - 1) */
    fp12 frob = f1;
    fp2 g = gamma;
    for (int k = 1; k < 6; k++) {
        frob.c[k] = fp2_mul(c, frob.c[k], g);
        g = fp2_mul(c, g, gamma);
    }
    fp12 f2 = fp12_mul(c, &frob, &f1); /* f1^(p^2 + 1) */

    /* (p^4 - p^2 + 1) / r */
    if (!BN_sqr(p2, p, bctx) || !BN_sqr(e, p2, bctx) || !BN_sub(e, e, p2) || !BN_add_word(e, 1) ||
        !BN_div(e, NULL, e, r, bctx))
        goto out_free;
    *f = fp12_pow(c, &f2, e);
    ok = true;
out_free:
    BN_free(p);
    BN_free(r);
    BN_free(p2);
    BN_free(e);
    BN_CTX_free(bctx);
    return ok;
}

/* ---- the precompile ------------------------------------------------------ */

/* A field element from 32 big-endian bytes; false if it is not below p. */
static bool read_fp(const struct pairing_ctx *c, const uint8_t *in, fp *out)
{
    fp v = u256_from_be_bytes(in, 32);
    if (!u256_lt(v, c->p))
        return false;
    *out = fp_to_mont(c, v);
    return true;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

enum evm_status evm_bn256_pairing(const uint8_t *in, size_t len, struct bytes *out)
{
    struct pairing_ctx c;
    ctx_init(&c);
    fp three = fp_to_mont(&c, u256_from_u64(3));
    fp2 xi = { fp_to_mont(&c, u256_from_u64(9)), c.one };
    c.twist_b = fp2_mul(&c, (fp2){ three, u256_zero() }, fp2_inv(&c, xi));

    if (len % 192 != 0)
        return EVM_PRECOMPILE_FAILURE;
    fp12 f = fp12_one(&c);
    for (size_t off = 0; off < len; off += 192) {
        const uint8_t *e = in + off;
        fp xp, yp;
        struct g2 q;
        if (!read_fp(&c, e, &xp) || !read_fp(&c, e + 32, &yp) || !read_fp(&c, e + 64, &q.x.b) ||
            !read_fp(&c, e + 96, &q.x.a) || !read_fp(&c, e + 128, &q.y.b) ||
            !read_fp(&c, e + 160, &q.y.a))
            return EVM_PRECOMPILE_FAILURE;
        bool p_inf = all_zero(e, 64);
        q.inf = all_zero(e + 64, 128);
        if (!p_inf) {
            /* y^2 = x^3 + 3 */
            fp lhs = fp_mul(&c, yp, yp);
            fp rhs = fp_add(&c, fp_mul(&c, fp_mul(&c, xp, xp), xp), three);
            if (!u256_eq(lhs, rhs))
                return EVM_PRECOMPILE_FAILURE;
        }
        if (!q.inf && (!g2_on_curve(&c, &q) || !g2_in_subgroup(&c, &q)))
            return EVM_PRECOMPILE_FAILURE;
        if (p_inf || q.inf)
            continue; /* e(O, Q) = e(P, O) = 1 */
        miller_loop(&c, xp, yp, &q, &f);
    }
    if (!final_exponentiation(&c, &f))
        return EVM_PRECOMPILE_FAILURE;
    uint8_t word[32] = { 0 };
    word[31] = fp12_is_one(&c, &f) ? 1 : 0;
    if (bytes_append(out, word, sizeof(word)) != TC_OK)
        return EVM_PRECOMPILE_FAILURE;
    return EVM_SUCCESS;
}
