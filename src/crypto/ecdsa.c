/* ecdsa.c - secp256k1 signing and recovery over one shared, randomized context. */
#include "crypto/ecdsa.h"

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "base/error.h"
#include "crypto/keccak.h"
#include "crypto/random.h"

/* The group order n and n/2 (rounded down), big-endian (SEC 2 §2.4.1). */
static const uint8_t order_n[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};
static const uint8_t half_order_n[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
};

/* A keygen loop that draws 64 out-of-range keys in a row means a broken
 * generator (each draw is out of range with probability < 2^-127). */
#define KEYGEN_MAX_ATTEMPTS 64

static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static secp256k1_context *shared_ctx; /* read-only after ctx_init */
static int ctx_init_error;

static void ctx_init(void)
{
    uint8_t seed[32];
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (ctx == NULL) {
        ctx_init_error = TC_ENOMEM;
        return;
    }
    /* Blinding protects signing against side channels; it is seeded once. */
    if (crypto_random(seed, sizeof(seed)) != TC_OK || !secp256k1_context_randomize(ctx, seed)) {
        OPENSSL_cleanse(seed, sizeof(seed));
        secp256k1_context_destroy(ctx);
        ctx_init_error = TC_ECRYPTO;
        return;
    }
    OPENSSL_cleanse(seed, sizeof(seed));
    shared_ctx = ctx;
}

/* The shared context, or NULL with *err set when it could not be made. */
static const secp256k1_context *get_ctx(int *err)
{
    pthread_once(&ctx_once, ctx_init);
    *err = ctx_init_error;
    return shared_ctx;
}

/* Big-endian comparison of two 32-byte numbers; not constant time (public data). */
static int cmp32(const uint8_t a[32], const uint8_t b[32])
{
    return memcmp(a, b, 32);
}

static bool is_zero32(const uint8_t a[32])
{
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++)
        acc |= a[i];
    return acc == 0;
}

/* r and s in [1, n-1]; s <= n/2 when require_low_s. */
static bool signature_scalars_valid(const uint8_t r[32], const uint8_t s[32], bool require_low_s)
{
    if (is_zero32(r) || is_zero32(s) || cmp32(r, order_n) >= 0 || cmp32(s, order_n) >= 0)
        return false;
    return !(require_low_s && cmp32(s, half_order_n) > 0);
}

static void serialize_pub(const secp256k1_context *ctx, const secp256k1_pubkey *pk, uint8_t pub[64])
{
    uint8_t full[65];
    size_t full_len = sizeof(full);
    secp256k1_ec_pubkey_serialize(ctx, full, &full_len, pk, SECP256K1_EC_UNCOMPRESSED);
    memcpy(pub, full + 1, ECDSA_PUBKEY_BYTES);
}

int ecdsa_keygen(uint8_t seckey[32])
{
    int err;
    const secp256k1_context *ctx = get_ctx(&err);
    if (ctx == NULL)
        return err;
    for (int i = 0; i < KEYGEN_MAX_ATTEMPTS; i++) {
        if (crypto_random(seckey, ECDSA_SECKEY_BYTES) != TC_OK)
            return TC_ECRYPTO;
        if (secp256k1_ec_seckey_verify(ctx, seckey))
            return TC_OK;
    }
    OPENSSL_cleanse(seckey, ECDSA_SECKEY_BYTES);
    return TC_ECRYPTO;
}

int ecdsa_pubkey(const uint8_t seckey[32], uint8_t pub[64])
{
    int err;
    secp256k1_pubkey pk;
    const secp256k1_context *ctx = get_ctx(&err);
    if (ctx == NULL)
        return err;
    if (!secp256k1_ec_pubkey_create(ctx, &pk, seckey)) {
        OPENSSL_cleanse(pub, ECDSA_PUBKEY_BYTES);
        return TC_EINVAL;
    }
    serialize_pub(ctx, &pk, pub);
    OPENSSL_cleanse(&pk, sizeof(pk));
    return TC_OK;
}

int ecdsa_sign_recoverable(const uint8_t seckey[32], const uint8_t hash[32], uint8_t r[32],
                           uint8_t s[32], int *recid)
{
    int err;
    secp256k1_ecdsa_recoverable_signature sig;
    uint8_t compact[64];
    const secp256k1_context *ctx = get_ctx(&err);
    if (ctx == NULL)
        return err;
    /* A NULL nonce function selects RFC 6979; libsecp256k1 always emits
     * low-s signatures. */
    if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, hash, seckey, NULL, NULL))
        return TC_EINVAL;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, compact, recid, &sig);
    memcpy(r, compact, 32);
    memcpy(s, compact + 32, 32);
    OPENSSL_cleanse(&sig, sizeof(sig));
    OPENSSL_cleanse(compact, sizeof(compact));
    return TC_OK;
}

int ecdsa_recover_pubkey(const uint8_t hash[32], const uint8_t r[32], const uint8_t s[32],
                         int recid, bool require_low_s, uint8_t pub[64])
{
    int err;
    secp256k1_ecdsa_recoverable_signature sig;
    secp256k1_pubkey pk;
    uint8_t compact[64];

    if (recid < 0 || recid > 3 || !signature_scalars_valid(r, s, require_low_s))
        return TC_EINVAL;
    const secp256k1_context *ctx = get_ctx(&err);
    if (ctx == NULL)
        return err;
    memcpy(compact, r, 32);
    memcpy(compact + 32, s, 32);
    /* Cannot fail: r and s are below n and recid is in range. */
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &sig, compact, recid))
        return TC_EINVAL;
    if (!secp256k1_ecdsa_recover(ctx, &pk, &sig, hash))
        return TC_ECRYPTO;
    serialize_pub(ctx, &pk, pub);
    return TC_OK;
}

void eth_address_from_pubkey(const uint8_t pub[64], uint8_t address[20])
{
    uint8_t digest[32];
    keccak256(pub, ECDSA_PUBKEY_BYTES, digest);
    memcpy(address, digest + 12, ECDSA_ADDRESS_BYTES);
}

int ecdsa_recover_address(const uint8_t hash[32], const uint8_t r[32], const uint8_t s[32],
                          int recid, bool require_low_s, uint8_t address[20])
{
    uint8_t pub[64];
    int rc = ecdsa_recover_pubkey(hash, r, s, recid, require_low_s, pub);
    if (rc != TC_OK)
        return rc;
    eth_address_from_pubkey(pub, address);
    return TC_OK;
}

int ecdsa_address_from_seckey(const uint8_t seckey[32], uint8_t address[20])
{
    uint8_t pub[64];
    int rc = ecdsa_pubkey(seckey, pub);
    if (rc != TC_OK)
        return rc;
    eth_address_from_pubkey(pub, address);
    return TC_OK;
}
