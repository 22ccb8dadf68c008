/* kdf.c - HKDF-SHA256 on OpenSSL's "HKDF" EVP_KDF, one derive call per request. */
#include "crypto/kdf.h"

#include <pthread.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "base/error.h"

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_KDF *kdf_hkdf; /* lives for the process; read-only once fetched */

static void fetch_kdf(void)
{
    kdf_hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
}

/*
 * Runs HKDF in the given OpenSSL mode. key is the IKM (extract modes) or the
 * PRK (expand only). OpenSSL treats an absent salt as HashLen zero bytes, as
 * RFC 5869 §2.2 says.
 */
static int hkdf_run(int mode, const uint8_t *salt, size_t salt_len, const uint8_t *key,
                    size_t key_len, const uint8_t *info, size_t info_len, uint8_t *out,
                    size_t out_len)
{
    static const uint8_t empty[1];
    OSSL_PARAM params[6];
    int n = 0;
    int rc = TC_ECRYPTO;

    pthread_once(&fetch_once, fetch_kdf);
    if (kdf_hkdf == NULL)
        return TC_ECRYPTO;
    EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf_hkdf);
    if (kctx == NULL)
        return TC_ENOMEM;

    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[n++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                    (void *)(key_len ? key : empty), key_len);
    if (salt != NULL && salt_len > 0)
        params[n++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    if (info != NULL && info_len > 0)
        params[n++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    params[n] = OSSL_PARAM_construct_end();

    if (EVP_KDF_derive(kctx, out, out_len, params) == 1)
        rc = TC_OK;
    else
        OPENSSL_cleanse(out, out_len);
    EVP_KDF_CTX_free(kctx);
    return rc;
}

int hkdf_sha256(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    if (out_len == 0 || out_len > HKDF_SHA256_MAX_OUT_BYTES)
        return TC_EINVAL;
    return hkdf_run(EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, salt, salt_len, ikm, ikm_len, info,
                    info_len, out, out_len);
}

int hkdf_sha256_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                        uint8_t prk[32])
{
    return hkdf_run(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, salt, salt_len, ikm, ikm_len, NULL, 0, prk,
                    HKDF_SHA256_PRK_BYTES);
}

int hkdf_sha256_expand(const uint8_t *prk, size_t prk_len, const uint8_t *info, size_t info_len,
                       uint8_t *out, size_t out_len)
{
    if (out_len == 0 || out_len > HKDF_SHA256_MAX_OUT_BYTES || prk == NULL ||
        prk_len < HKDF_SHA256_PRK_BYTES)
        return TC_EINVAL;
    return hkdf_run(EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, 0, prk, prk_len, info, info_len, out,
                    out_len);
}
