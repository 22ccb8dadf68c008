/* x25519.c - X25519 on OpenSSL's raw-key EVP_PKEY interface. */
#include "crypto/x25519.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/error.h"
#include "crypto/random.h"

int x25519_public_from_private(const uint8_t priv[32], uint8_t pub[32])
{
    size_t pub_len = X25519_KEY_BYTES;
    int rc = TC_ECRYPTO;
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, X25519_KEY_BYTES);
    if (key == NULL)
        goto out_wipe;
    if (EVP_PKEY_get_raw_public_key(key, pub, &pub_len) == 1 && pub_len == X25519_KEY_BYTES)
        rc = TC_OK;
    EVP_PKEY_free(key); /* wipes its copy of the private key */
out_wipe:
    if (rc != TC_OK)
        OPENSSL_cleanse(pub, X25519_KEY_BYTES);
    return rc;
}

int x25519_keygen(uint8_t priv[32], uint8_t pub[32])
{
    int rc = crypto_random(priv, X25519_KEY_BYTES);
    if (rc == TC_OK)
        rc = x25519_public_from_private(priv, pub);
    if (rc != TC_OK) {
        OPENSSL_cleanse(priv, X25519_KEY_BYTES);
        OPENSSL_cleanse(pub, X25519_KEY_BYTES);
    }
    return rc;
}

int x25519_shared_secret(const uint8_t priv[32], const uint8_t peer_pub[32], uint8_t shared[32])
{
    static const uint8_t zeros[X25519_KEY_BYTES];
    size_t shared_len = X25519_KEY_BYTES;
    int rc = TC_ECRYPTO;
    EVP_PKEY *own = NULL, *peer = NULL;
    EVP_PKEY_CTX *ctx = NULL;

    own = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, X25519_KEY_BYTES);
    peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_pub, X25519_KEY_BYTES);
    if (own == NULL || peer == NULL)
        goto out_free_keys;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL);
    if (ctx == NULL) {
        rc = TC_ENOMEM;
        goto out_free_keys;
    }
    /* OpenSSL itself fails the derivation on an all-zero result; the
     * explicit check below keeps the rule independent of that. */
    if (EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
        EVP_PKEY_derive(ctx, shared, &shared_len) == 1 && shared_len == X25519_KEY_BYTES &&
        CRYPTO_memcmp(shared, zeros, X25519_KEY_BYTES) != 0)
        rc = TC_OK;
    EVP_PKEY_CTX_free(ctx);
out_free_keys:
    EVP_PKEY_free(peer);
    EVP_PKEY_free(own);
    if (rc != TC_OK)
        OPENSSL_cleanse(shared, X25519_KEY_BYTES);
    return rc;
}
