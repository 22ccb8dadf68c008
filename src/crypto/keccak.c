/*
 * keccak.c - the Keccak-f[1600] permutation and the 1088-bit-rate sponge
 * behind keccak256() and sha3_256().
 *
 * The permutation keeps the 25 lanes in local variables and unrolls all 24
 * rounds, alternating between two sets of lanes (a*, e*) so that no round
 * copies state. It uses the "lane complementing" transform from the Keccak
 * team's implementation overview (Bertoni et al., "Keccak implementation
 * overview", v3.2): lanes 1, 2, 8, 12, 17 and 20 are held complemented
 * throughout the rounds, which turns most of chi's NOT-AND into a plain AND or
 * OR and leaves one NOT per row instead of five. The lanes are complemented
 * when loaded and stored, so the state in memory is always the plain FIPS 202
 * state; across the blocks of one update they stay in registers (or the
 * compiler's spill slots) and complemented.
 */
#include "crypto/keccak.h"

#include <string.h>

#include <openssl/crypto.h>

#define ROL64(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

/* FIPS 202 §3.2.5, the iota round constants RC[i] for i = 0..23. */
static const uint64_t round_constants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/*
 * One round from lanes in##0..24 to lanes out##0..24 (lane x + 5y), with the
 * complemented lanes above. On entry c0..c4 hold theta's column parities of
 * the input lanes; on exit they hold those of the output lanes, accumulated
 * as each output lane is produced, so that theta never re-reads all 25 lanes
 * (most of which live in spill slots). Per output row: rho and pi into
 * b0..b4, then chi; iota on lane 0.
 */
#define ROUND(in, out, rc)                                                                         \
    do {                                                                                           \
        d0 = c4 ^ ROL64(c1, 1);                                                                    \
        d1 = c0 ^ ROL64(c2, 1);                                                                    \
        d2 = c1 ^ ROL64(c3, 1);                                                                    \
        d3 = c2 ^ ROL64(c4, 1);                                                                    \
        d4 = c3 ^ ROL64(c0, 1);                                                                    \
        b0 = in##0 ^ d0;                                                                           \
        b1 = ROL64(in##6 ^ d1, 44);                                                                \
        b2 = ROL64(in##12 ^ d2, 43);                                                               \
        b3 = ROL64(in##18 ^ d3, 21);                                                               \
        b4 = ROL64(in##24 ^ d4, 14);                                                               \
        n2 = ~b2;                                                                                  \
        out##0 = b0 ^ (b1 | b2) ^ (rc);                                                            \
        c0 = out##0;                                                                               \
        out##1 = b1 ^ (n2 | b3);                                                                   \
        c1 = out##1;                                                                               \
        out##2 = b2 ^ (b3 & b4);                                                                   \
        c2 = out##2;                                                                               \
        out##3 = b3 ^ (b4 | b0);                                                                   \
        c3 = out##3;                                                                               \
        out##4 = b4 ^ (b0 & b1);                                                                   \
        c4 = out##4;                                                                               \
        b0 = ROL64(in##3 ^ d3, 28);                                                                \
        b1 = ROL64(in##9 ^ d4, 20);                                                                \
        b2 = ROL64(in##10 ^ d0, 3);                                                                \
        b3 = ROL64(in##16 ^ d1, 45);                                                               \
        b4 = ROL64(in##22 ^ d2, 61);                                                               \
        n4 = ~b4;                                                                                  \
        out##5 = b0 ^ (b1 | b2);                                                                   \
        c0 ^= out##5;                                                                              \
        out##6 = b1 ^ (b2 & b3);                                                                   \
        c1 ^= out##6;                                                                              \
        out##7 = b2 ^ (b3 | n4);                                                                   \
        c2 ^= out##7;                                                                              \
        out##8 = b3 ^ (b4 | b0);                                                                   \
        c3 ^= out##8;                                                                              \
        out##9 = b4 ^ (b0 & b1);                                                                   \
        c4 ^= out##9;                                                                              \
        b0 = ROL64(in##1 ^ d1, 1);                                                                 \
        b1 = ROL64(in##7 ^ d2, 6);                                                                 \
        b2 = ROL64(in##13 ^ d3, 25);                                                               \
        b3 = ROL64(in##19 ^ d4, 8);                                                                \
        b4 = ROL64(in##20 ^ d0, 18);                                                               \
        n3 = ~b3;                                                                                  \
        out##10 = b0 ^ (b1 | b2);                                                                  \
        c0 ^= out##10;                                                                             \
        out##11 = b1 ^ (b2 & b3);                                                                  \
        c1 ^= out##11;                                                                             \
        out##12 = b2 ^ (n3 & b4);                                                                  \
        c2 ^= out##12;                                                                             \
        out##13 = n3 ^ (b4 | b0);                                                                  \
        c3 ^= out##13;                                                                             \
        out##14 = b4 ^ (b0 & b1);                                                                  \
        c4 ^= out##14;                                                                             \
        b0 = ROL64(in##4 ^ d4, 27);                                                                \
        b1 = ROL64(in##5 ^ d0, 36);                                                                \
        b2 = ROL64(in##11 ^ d1, 10);                                                               \
        b3 = ROL64(in##17 ^ d2, 15);                                                               \
        b4 = ROL64(in##23 ^ d3, 56);                                                               \
        n3 = ~b3;                                                                                  \
        out##15 = b0 ^ (b1 & b2);                                                                  \
        c0 ^= out##15;                                                                             \
        out##16 = b1 ^ (b2 | b3);                                                                  \
        c1 ^= out##16;                                                                             \
        out##17 = b2 ^ (n3 | b4);                                                                  \
        c2 ^= out##17;                                                                             \
        out##18 = n3 ^ (b4 & b0);                                                                  \
        c3 ^= out##18;                                                                             \
        out##19 = b4 ^ (b0 | b1);                                                                  \
        c4 ^= out##19;                                                                             \
        b0 = ROL64(in##2 ^ d2, 62);                                                                \
        b1 = ROL64(in##8 ^ d3, 55);                                                                \
        b2 = ROL64(in##14 ^ d4, 39);                                                               \
        b3 = ROL64(in##15 ^ d0, 41);                                                               \
        b4 = ROL64(in##21 ^ d1, 2);                                                                \
        n1 = ~b1;                                                                                  \
        out##20 = b0 ^ (n1 & b2);                                                                  \
        c0 ^= out##20;                                                                             \
        out##21 = n1 ^ (b2 | b3);                                                                  \
        c1 ^= out##21;                                                                             \
        out##22 = b2 ^ (b3 & b4);                                                                  \
        c2 ^= out##22;                                                                             \
        out##23 = b3 ^ (b4 | b0);                                                                  \
        c3 ^= out##23;                                                                             \
        out##24 = b4 ^ (b0 & b1);                                                                  \
        c4 ^= out##24;                                                                             \
    } while (0)

#define ROUND_PAIR(i)                                                                              \
    ROUND(a, e, round_constants[i]);                                                               \
    ROUND(e, a, round_constants[(i) + 1])

static inline uint64_t load64_le(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/*
 * Absorbs `blocks` consecutive rate blocks from `in` into the state: the
 * lanes stay in local variables across blocks, and each block is XORed into
 * the first 17 lanes (complemented lanes take the XOR unchanged, since
 * ~a ^ m == ~(a ^ m)) before the 24 rounds.
 */
static void keccak_absorb(uint64_t st[25], const uint8_t *in, size_t blocks)
{
    uint64_t a0 = st[0], a1 = ~st[1], a2 = ~st[2], a3 = st[3], a4 = st[4];
    uint64_t a5 = st[5], a6 = st[6], a7 = st[7], a8 = ~st[8], a9 = st[9];
    uint64_t a10 = st[10], a11 = st[11], a12 = ~st[12], a13 = st[13], a14 = st[14];
    uint64_t a15 = st[15], a16 = st[16], a17 = ~st[17], a18 = st[18], a19 = st[19];
    uint64_t a20 = ~st[20], a21 = st[21], a22 = st[22], a23 = st[23], a24 = st[24];
    uint64_t e0, e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12;
    uint64_t e13, e14, e15, e16, e17, e18, e19, e20, e21, e22, e23, e24;
    uint64_t c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
    uint64_t b0, b1, b2, b3, b4, n1, n2, n3, n4;

    for (; blocks > 0; blocks--, in += KECCAK256_RATE_BYTES) {
        a0 ^= load64_le(in + 0), a1 ^= load64_le(in + 8), a2 ^= load64_le(in + 16);
        a3 ^= load64_le(in + 24), a4 ^= load64_le(in + 32), a5 ^= load64_le(in + 40);
        a6 ^= load64_le(in + 48), a7 ^= load64_le(in + 56), a8 ^= load64_le(in + 64);
        a9 ^= load64_le(in + 72), a10 ^= load64_le(in + 80), a11 ^= load64_le(in + 88);
        a12 ^= load64_le(in + 96), a13 ^= load64_le(in + 104), a14 ^= load64_le(in + 112);
        a15 ^= load64_le(in + 120), a16 ^= load64_le(in + 128);
        c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20;
        c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21;
        c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22;
        c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23;
        c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24;

        ROUND_PAIR(0);
        ROUND_PAIR(2);
        ROUND_PAIR(4);
        ROUND_PAIR(6);
        ROUND_PAIR(8);
        ROUND_PAIR(10);
        ROUND_PAIR(12);
        ROUND_PAIR(14);
        ROUND_PAIR(16);
        ROUND_PAIR(18);
        ROUND_PAIR(20);
        ROUND_PAIR(22);
    }

    st[0] = a0, st[1] = ~a1, st[2] = ~a2, st[3] = a3, st[4] = a4;
    st[5] = a5, st[6] = a6, st[7] = a7, st[8] = ~a8, st[9] = a9;
    st[10] = a10, st[11] = a11, st[12] = ~a12, st[13] = a13, st[14] = a14;
    st[15] = a15, st[16] = a16, st[17] = ~a17, st[18] = a18, st[19] = a19;
    st[20] = ~a20, st[21] = a21, st[22] = a22, st[23] = a23, st[24] = a24;
}

static inline void store64_le(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, sizeof(v));
}

void keccak256_init(struct keccak256_ctx *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
}

void keccak256_update(struct keccak256_ctx *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (len == 0)
        return;
    if (ctx->buf_len > 0) {
        size_t take = KECCAK256_RATE_BYTES - ctx->buf_len;
        if (take > len)
            take = len;
        memcpy(ctx->buf + ctx->buf_len, p, take);
        ctx->buf_len += take;
        p += take;
        len -= take;
        if (ctx->buf_len < KECCAK256_RATE_BYTES)
            return;
        keccak_absorb(ctx->state, ctx->buf, 1);
        ctx->buf_len = 0;
    }
    size_t blocks = len / KECCAK256_RATE_BYTES;
    if (blocks > 0) {
        keccak_absorb(ctx->state, p, blocks);
        p += blocks * KECCAK256_RATE_BYTES;
        len -= blocks * KECCAK256_RATE_BYTES;
    }
    memcpy(ctx->buf, p, len);
    ctx->buf_len = len;
}

/*
 * Pads the buffered tail with the domain byte (0x01 for Keccak, 0x06 for
 * SHA3), sets the last rate bit, absorbs, squeezes 32 bytes (less than one
 * rate block, so one squeeze), and wipes the context.
 */
static void sponge_final(struct keccak256_ctx *ctx, uint8_t pad, uint8_t out[32])
{
    memset(ctx->buf + ctx->buf_len, 0, KECCAK256_RATE_BYTES - ctx->buf_len);
    ctx->buf[ctx->buf_len] ^= pad;
    ctx->buf[KECCAK256_RATE_BYTES - 1] ^= 0x80;
    keccak_absorb(ctx->state, ctx->buf, 1);
    for (int i = 0; i < KECCAK256_DIGEST_BYTES / 8; i++)
        store64_le(out + 8 * i, ctx->state[i]);
    OPENSSL_cleanse(ctx, sizeof(*ctx));
}

void keccak256_final(struct keccak256_ctx *ctx, uint8_t out[32])
{
    sponge_final(ctx, 0x01, out);
}

void keccak256(const void *data, size_t len, uint8_t out[32])
{
    struct keccak256_ctx ctx;
    keccak256_init(&ctx);
    keccak256_update(&ctx, data, len);
    sponge_final(&ctx, 0x01, out);
}

void sha3_256(const void *data, size_t len, uint8_t out[32])
{
    struct keccak256_ctx ctx;
    keccak256_init(&ctx);
    keccak256_update(&ctx, data, len);
    sponge_final(&ctx, 0x06, out);
}
