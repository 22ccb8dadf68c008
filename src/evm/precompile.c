/*
 * precompile.c - Cancun's precompiled contracts 0x01..0x0a with their gas
 * rules: ecrecover, sha256, ripemd160, identity, modexp (EIP-198 with
 * EIP-2565 pricing), bn256 add and scalar multiplication (EIP-196, EIP-1108
 * pricing) over OpenSSL's prime-field curves, the bn256 pairing check
 * (EIP-197, EIP-1108 pricing; bn254_pairing.c) and blake2f (EIP-152). The
 * KZG point evaluation (0x0a, EIP-4844) is not implemented: calling it
 * reports EVM_UNSUPPORTED_PRECOMPILE.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>

#include "base/bytes.h"
#include "base/error.h"
#include "crypto/ecdsa.h"
#include "crypto/hash.h"
#include "evm/evm.h"
#include "evm/evm_internal.h"

/* Reads in[off .. off + len) with zeros past in_len (inputs are virtually
   right-padded with zeros). */
static void read_padded(const uint8_t *in, size_t in_len, uint64_t off, uint8_t *dst, size_t len)
{
    memset(dst, 0, len);
    if (off >= in_len)
        return;
    size_t n = in_len - (size_t)off < len ? in_len - (size_t)off : len;
    memcpy(dst, in + off, n);
}

static int64_t words_of(size_t len)
{
    return (int64_t)((len + 31) / 32);
}

static enum evm_status put(struct bytes *out, const uint8_t *data, size_t len)
{
    if (len > 0 && bytes_append(out, data, len) != TC_OK)
        return EVM_PRECOMPILE_FAILURE;
    return EVM_SUCCESS;
}

/* ---- 0x01 ecrecover ------------------------------------------------------ */

static enum evm_status ecrecover(const uint8_t *in, size_t in_len, struct bytes *out)
{
    uint8_t buf[128];
    read_padded(in, in_len, 0, buf, sizeof(buf));
    /* v is a whole word: 27 or 28 and nothing else. */
    for (int i = 32; i < 63; i++)
        if (buf[i] != 0)
            return EVM_SUCCESS;
    if (buf[63] != 27 && buf[63] != 28)
        return EVM_SUCCESS;
    uint8_t addr[20];
    if (ecdsa_recover_address(buf, buf + 64, buf + 96, buf[63] - 27, false, addr) != TC_OK)
        return EVM_SUCCESS; /* an invalid signature returns no data */
    uint8_t word[32] = { 0 };
    memcpy(word + 12, addr, 20);
    return put(out, word, 32);
}

/* ---- 0x05 modexp --------------------------------------------------------- */

/* A 32-byte big-endian length as a size; false if it is 2^32 or more. */
static bool small_length(const uint8_t word[32], uint64_t *len)
{
    for (int i = 0; i < 28; i++)
        if (word[i] != 0)
            return false;
    *len = ((uint64_t)word[28] << 24) | ((uint64_t)word[29] << 16) | ((uint64_t)word[30] << 8) |
           word[31];
    return true;
}

static bool is_zero_word(const uint8_t *w, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (w[i] != 0)
            return false;
    return true;
}

/* EIP-2565 price; false when it exceeds INT64_MAX. */
static bool modexp_gas(const uint8_t *in, size_t in_len, uint64_t base_len, uint64_t exp_len,
                       uint64_t mod_len, int64_t *gas)
{
    uint64_t max_len = base_len > mod_len ? base_len : mod_len;
    unsigned __int128 words = (max_len + 7) / 8;
    unsigned __int128 mult = words * words;
    uint8_t head[32];
    size_t head_len = exp_len < 32 ? (size_t)exp_len : 32;
    read_padded(in, in_len, 96 + base_len, head, head_len);
    unsigned head_bits = 0;
    for (size_t i = 0; i < head_len; i++) {
        if (head[i] != 0) {
            head_bits = (unsigned)((head_len - i) * 8 - (size_t)__builtin_clz(head[i]) + 24);
            break;
        }
    }
    unsigned __int128 iter;
    if (exp_len <= 32)
        iter = head_bits == 0 ? 0 : head_bits - 1;
    else
        iter = (unsigned __int128)8 * (exp_len - 32) + (head_bits == 0 ? 0 : head_bits - 1);
    if (iter == 0)
        iter = 1;
    unsigned __int128 g = mult * iter / 3;
    if (g < 200)
        g = 200;
    if (g > (unsigned __int128)INT64_MAX)
        return false;
    *gas = (int64_t)g;
    return true;
}

static enum evm_status modexp_compute(const uint8_t *in, size_t in_len, uint64_t base_len,
                                      uint64_t exp_len, uint64_t mod_len, struct bytes *out)
{
    enum evm_status st = EVM_PRECOMPILE_FAILURE;
    uint8_t *buf = OPENSSL_zalloc((size_t)(base_len + exp_len + mod_len) + 1);
    BN_CTX *ctx = BN_CTX_new();
    if (buf == NULL || ctx == NULL)
        goto out_free;
    read_padded(in, in_len, 96, buf, (size_t)(base_len + exp_len + mod_len));
    BN_CTX_start(ctx);
    BIGNUM *b = BN_CTX_get(ctx), *e = BN_CTX_get(ctx), *m = BN_CTX_get(ctx), *r = BN_CTX_get(ctx);
    if (r == NULL || !BN_bin2bn(buf, (int)base_len, b) ||
        !BN_bin2bn(buf + base_len, (int)exp_len, e) ||
        !BN_bin2bn(buf + base_len + exp_len, (int)mod_len, m))
        goto out_end;
    if (BN_is_zero(m)) {
        BN_zero(r);
    } else if (!BN_mod_exp(r, b, e, m, ctx)) {
        goto out_end;
    }
    if (bytes_reserve(out, (size_t)mod_len) != TC_OK)
        goto out_end;
    if (BN_bn2binpad(r, out->ptr + out->len, (int)mod_len) < 0)
        goto out_end;
    out->len += (size_t)mod_len;
    st = EVM_SUCCESS;
out_end:
    BN_CTX_end(ctx);
out_free:
    BN_CTX_free(ctx);
    OPENSSL_free(buf);
    return st;
}

static enum evm_status modexp(const uint8_t *in, size_t in_len, int64_t gas, int64_t *used,
                              struct bytes *out)
{
    uint8_t hdr[96];
    uint64_t base_len, exp_len, mod_len;
    read_padded(in, in_len, 0, hdr, sizeof(hdr));
    bool small = small_length(hdr, &base_len) && small_length(hdr + 32, &exp_len) &&
                 small_length(hdr + 64, &mod_len);
    if (!small) {
        /* Only an empty base and modulus make a huge length affordable. */
        if (!is_zero_word(hdr, 32) || !is_zero_word(hdr + 64, 32))
            return EVM_OUT_OF_GAS;
        base_len = mod_len = 0;
        exp_len = 0;
    }
    int64_t price;
    if (!modexp_gas(in, in_len, base_len, exp_len, mod_len, &price) || price > gas)
        return EVM_OUT_OF_GAS;
    *used = price;
    if (mod_len == 0)
        return EVM_SUCCESS;
    return modexp_compute(in, in_len, base_len, exp_len, mod_len, out);
}

/* ---- 0x06, 0x07 bn256 add and scalar multiplication ---------------------- */

static const char BN254_P_HEX[] =
    "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47";
static const char BN254_R_HEX[] =
    "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";

struct bn254 {
    BN_CTX *ctx;
    EC_GROUP *group;
    BIGNUM *p;
};

static void bn254_free(struct bn254 *c)
{
    EC_GROUP_free(c->group);
    BN_free(c->p);
    BN_CTX_free(c->ctx);
}

/* The curve y^2 = x^3 + 3 over F_p with generator (1, 2) of order r. */
static bool bn254_init(struct bn254 *c)
{
    BIGNUM *a = NULL, *b = NULL, *r = NULL, *one = NULL, *two = NULL;
    EC_POINT *g = NULL;
    bool ok = false;
    memset(c, 0, sizeof(*c));
    c->ctx = BN_CTX_new();
    a = BN_new();
    b = BN_new();
    one = BN_new();
    two = BN_new();
    if (c->ctx == NULL || a == NULL || b == NULL || one == NULL || two == NULL ||
        !BN_hex2bn(&c->p, BN254_P_HEX) || !BN_hex2bn(&r, BN254_R_HEX) || !BN_set_word(b, 3) ||
        !BN_set_word(one, 1) || !BN_set_word(two, 2))
        goto out_free;
    BN_zero(a);
    c->group = EC_GROUP_new_curve_GFp(c->p, a, b, c->ctx);
    if (c->group == NULL)
        goto out_free;
    g = EC_POINT_new(c->group);
    if (g == NULL || !EC_POINT_set_affine_coordinates(c->group, g, one, two, c->ctx) ||
        !EC_GROUP_set_generator(c->group, g, r, one))
        goto out_free;
    ok = true;
out_free:
    EC_POINT_free(g);
    BN_free(a);
    BN_free(b);
    BN_free(r);
    BN_free(one);
    BN_free(two);
    if (!ok)
        bn254_free(c);
    return ok;
}

/* Decodes a 64-byte point: coordinates below p, on the curve, (0, 0) the
   point at infinity. Returns false for an invalid point. */
static bool bn254_decode(struct bn254 *c, const uint8_t enc[64], EC_POINT *pt)
{
    if (is_zero_word(enc, 64))
        return EC_POINT_set_to_infinity(c->group, pt) == 1;
    BN_CTX_start(c->ctx);
    BIGNUM *x = BN_CTX_get(c->ctx), *y = BN_CTX_get(c->ctx);
    bool ok = y != NULL && BN_bin2bn(enc, 32, x) && BN_bin2bn(enc + 32, 32, y) &&
              BN_cmp(x, c->p) < 0 && BN_cmp(y, c->p) < 0 &&
              EC_POINT_set_affine_coordinates(c->group, pt, x, y, c->ctx) == 1 &&
              EC_POINT_is_on_curve(c->group, pt, c->ctx) == 1;
    BN_CTX_end(c->ctx);
    return ok;
}

static enum evm_status bn254_encode(struct bn254 *c, const EC_POINT *pt, struct bytes *out)
{
    uint8_t enc[64] = { 0 };
    if (EC_POINT_is_at_infinity(c->group, pt) != 1) {
        BN_CTX_start(c->ctx);
        BIGNUM *x = BN_CTX_get(c->ctx), *y = BN_CTX_get(c->ctx);
        bool ok = y != NULL && EC_POINT_get_affine_coordinates(c->group, pt, x, y, c->ctx) == 1 &&
                  BN_bn2binpad(x, enc, 32) == 32 && BN_bn2binpad(y, enc + 32, 32) == 32;
        BN_CTX_end(c->ctx);
        if (!ok)
            return EVM_PRECOMPILE_FAILURE;
    }
    return put(out, enc, sizeof(enc));
}

static enum evm_status bn256_add_or_mul(const uint8_t *in, size_t in_len, bool is_mul,
                                        struct bytes *out)
{
    uint8_t buf[128];
    struct bn254 c;
    enum evm_status st = EVM_PRECOMPILE_FAILURE;
    EC_POINT *p1 = NULL, *p2 = NULL, *res = NULL;
    BIGNUM *k = NULL;
    read_padded(in, in_len, 0, buf, is_mul ? 96 : 128);
    if (!bn254_init(&c))
        return EVM_PRECOMPILE_FAILURE;
    p1 = EC_POINT_new(c.group);
    p2 = EC_POINT_new(c.group);
    res = EC_POINT_new(c.group);
    if (p1 == NULL || p2 == NULL || res == NULL || !bn254_decode(&c, buf, p1))
        goto out_free;
    if (is_mul) {
        k = BN_bin2bn(buf + 64, 32, NULL);
        if (k == NULL || !EC_POINT_mul(c.group, res, NULL, p1, k, c.ctx))
            goto out_free;
    } else {
        if (!bn254_decode(&c, buf + 64, p2) || !EC_POINT_add(c.group, res, p1, p2, c.ctx))
            goto out_free;
    }
    st = bn254_encode(&c, res, out);
out_free:
    BN_free(k);
    EC_POINT_free(p1);
    EC_POINT_free(p2);
    EC_POINT_free(res);
    bn254_free(&c);
    return st;
}

/* ---- 0x09 blake2f (EIP-152) ---------------------------------------------- */

static const uint64_t BLAKE2B_IV[8] = {
    UINT64_C(0x6a09e667f3bcc908), UINT64_C(0xbb67ae8584caa73b), UINT64_C(0x3c6ef372fe94f82b),
    UINT64_C(0xa54ff53a5f1d36f1), UINT64_C(0x510e527fade682d1), UINT64_C(0x9b05688c2b3e6c1f),
    UINT64_C(0x1f83d9abfb41bd6b), UINT64_C(0x5be0cd19137e2179),
};

static const uint8_t BLAKE2B_SIGMA[10][16] = {
    { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
    { 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
    { 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
    { 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
    { 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
    { 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
    { 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
    { 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
    { 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
    { 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static inline uint64_t rotr64(uint64_t x, unsigned n)
{
    return (x >> n) | (x << (64 - n));
}

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline void store_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void blake2_mix(uint64_t *v, int a, int b, int c, int d, uint64_t x, uint64_t y)
{
    v[a] = v[a] + v[b] + x;
    v[d] = rotr64(v[d] ^ v[a], 32);
    v[c] = v[c] + v[d];
    v[b] = rotr64(v[b] ^ v[c], 24);
    v[a] = v[a] + v[b] + y;
    v[d] = rotr64(v[d] ^ v[a], 16);
    v[c] = v[c] + v[d];
    v[b] = rotr64(v[b] ^ v[c], 63);
}

/* The BLAKE2b compression function F with a given number of rounds. */
static void blake2b_compress(uint64_t h[8], const uint64_t m[16], const uint64_t t[2], bool last,
                             uint32_t rounds)
{
    uint64_t v[16];
    for (int i = 0; i < 8; i++) {
        v[i] = h[i];
        v[i + 8] = BLAKE2B_IV[i];
    }
    v[12] ^= t[0];
    v[13] ^= t[1];
    if (last)
        v[14] = ~v[14];
    for (uint32_t r = 0; r < rounds; r++) {
        const uint8_t *s = BLAKE2B_SIGMA[r % 10];
        blake2_mix(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
        blake2_mix(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
        blake2_mix(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
        blake2_mix(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
        blake2_mix(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
        blake2_mix(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
        blake2_mix(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
        blake2_mix(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for (int i = 0; i < 8; i++)
        h[i] ^= v[i] ^ v[i + 8];
}

#define BLAKE2F_INPUT_BYTES 213

static enum evm_status blake2f(const uint8_t *in, size_t in_len, int64_t gas, int64_t *used,
                               struct bytes *out)
{
    if (in_len != BLAKE2F_INPUT_BYTES)
        return EVM_PRECOMPILE_FAILURE;
    uint32_t rounds =
        ((uint32_t)in[0] << 24) | ((uint32_t)in[1] << 16) | ((uint32_t)in[2] << 8) | in[3];
    if ((int64_t)rounds > gas)
        return EVM_OUT_OF_GAS;
    if (in[212] > 1)
        return EVM_PRECOMPILE_FAILURE;
    *used = rounds;
    uint64_t h[8], m[16], t[2];
    for (int i = 0; i < 8; i++)
        h[i] = load_le64(in + 4 + 8 * i);
    for (int i = 0; i < 16; i++)
        m[i] = load_le64(in + 68 + 8 * i);
    t[0] = load_le64(in + 196);
    t[1] = load_le64(in + 204);
    blake2b_compress(h, m, t, in[212] == 1, rounds);
    uint8_t res[64];
    for (int i = 0; i < 8; i++)
        store_le64(res + 8 * i, h[i]);
    return put(out, res, sizeof(res));
}

/* ---- dispatch ------------------------------------------------------------ */

bool evm_is_precompile(const evm_address *addr)
{
    for (int i = 0; i < 19; i++)
        if (addr->bytes[i] != 0)
            return false;
    return addr->bytes[19] >= 0x01 && addr->bytes[19] <= 0x0a;
}

enum evm_status evm_precompile_run(const evm_address *addr, const uint8_t *input, size_t input_len,
                                   int64_t gas, int64_t *gas_used, struct bytes *out)
{
    int64_t price = 0;
    uint8_t digest[32];
    bytes_clear(out);
    *gas_used = 0;
    switch (addr->bytes[19]) {
    case 0x01:
        price = 3000;
        break;
    case 0x02:
        price = 60 + 12 * words_of(input_len);
        break;
    case 0x03:
        price = 600 + 120 * words_of(input_len);
        break;
    case 0x04:
        price = 15 + 3 * words_of(input_len);
        break;
    case 0x05:
        return modexp(input, input_len, gas, gas_used, out);
    case 0x06:
        price = 150;
        break;
    case 0x07:
        price = 6000;
        break;
    case 0x08:
        price = 45000 + 34000 * (int64_t)(input_len / 192);
        break;
    case 0x09:
        return blake2f(input, input_len, gas, gas_used, out);
    default:
        return EVM_UNSUPPORTED_PRECOMPILE;
    }
    if (price > gas)
        return EVM_OUT_OF_GAS;
    *gas_used = price;
    switch (addr->bytes[19]) {
    case 0x01:
        return ecrecover(input, input_len, out);
    case 0x02:
        if (sha256(input, input_len, digest) != TC_OK)
            return EVM_PRECOMPILE_FAILURE;
        return put(out, digest, 32);
    case 0x03:
        memset(digest, 0, sizeof(digest));
        if (ripemd160(input, input_len, digest + 12) != TC_OK)
            return EVM_PRECOMPILE_FAILURE;
        return put(out, digest, 32);
    case 0x04:
        return put(out, input, input_len);
    case 0x06:
        return bn256_add_or_mul(input, input_len, false, out);
    case 0x08:
        return evm_bn256_pairing(input, input_len, out);
    default:
        return bn256_add_or_mul(input, input_len, true, out);
    }
}
