/* mac.c - HMAC-SHA256 through EVP_MAC, with a keyed template duplicated per use. */
#include "crypto/mac.h"

#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "base/error.h"

struct hmac_sha256_key {
    EVP_MAC *mac;
    EVP_MAC_CTX *keyed; /* initialised with the key; only ever duplicated */
};

int hmac_sha256_key_new(const void *key, size_t key_len, struct hmac_sha256_key **out)
{
    static const uint8_t empty[1];
    struct hmac_sha256_key *k = calloc(1, sizeof(*k));
    if (!k)
        return TC_ENOMEM;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    k->mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    if (k->mac)
        k->keyed = EVP_MAC_CTX_new(k->mac);
    if (!k->keyed || EVP_MAC_init(k->keyed, key_len ? key : empty, key_len, params) != 1) {
        hmac_sha256_key_free(k);
        return TC_ECRYPTO;
    }
    *out = k;
    return TC_OK;
}

int hmac_sha256_parts(const struct hmac_sha256_key *k, const void *const *ptrs, const size_t *lens,
                      size_t count, uint8_t out[32])
{
    size_t mac_len = 0;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(k->keyed);
    int ok = ctx != NULL;
    for (size_t i = 0; ok && i < count; i++)
        ok = lens[i] == 0 || EVP_MAC_update(ctx, ptrs[i], lens[i]) == 1;
    ok = ok && EVP_MAC_final(ctx, out, &mac_len, HMAC_SHA256_BYTES) == 1 &&
         mac_len == HMAC_SHA256_BYTES;
    EVP_MAC_CTX_free(ctx);
    return ok ? TC_OK : TC_ECRYPTO;
}

int hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, uint8_t out[32])
{
    struct hmac_sha256_key *k;
    int rc = hmac_sha256_key_new(key, key_len, &k);
    if (rc)
        return rc;
    rc = hmac_sha256_parts(k, &data, &len, 1, out);
    hmac_sha256_key_free(k);
    return rc;
}

void hmac_sha256_key_free(struct hmac_sha256_key *k)
{
    if (!k)
        return;
    EVP_MAC_CTX_free(k->keyed);
    EVP_MAC_free(k->mac);
    free(k);
}
