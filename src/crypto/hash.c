/* hash.c - SHA-256 and RIPEMD-160 through EVP, with digests fetched once. */
#include "crypto/hash.h"

#include <pthread.h>

#include <openssl/evp.h>
#include <openssl/provider.h>

#include "base/error.h"

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256;
static EVP_MD *md_ripemd160;

/*
 * Runs once. The fetched EVP_MDs live for the whole process (OpenSSL frees
 * them at exit), so they are never freed here.
 */
static void fetch_digests(void)
{
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    md_ripemd160 = EVP_MD_fetch(NULL, "RIPEMD160", NULL);
    if (md_ripemd160 == NULL) {
        /* OpenSSL < 3.0.7 has RIPEMD-160 only in the legacy provider.
         * Loading any provider explicitly stops the implicit load of
         * "default", so load it explicitly as well. */
        OSSL_PROVIDER_load(NULL, "default");
        if (OSSL_PROVIDER_load(NULL, "legacy") != NULL)
            md_ripemd160 = EVP_MD_fetch(NULL, "RIPEMD160", NULL);
    }
}

static int digest(const EVP_MD *md, const void *data, size_t len, uint8_t *out)
{
    static const uint8_t empty[1];
    if (len == 0)
        data = empty;
    if (EVP_Digest(data, len, out, NULL, md, NULL) != 1)
        return TC_ECRYPTO;
    return TC_OK;
}

int sha256(const void *data, size_t len, uint8_t out[32])
{
    pthread_once(&fetch_once, fetch_digests);
    if (md_sha256 == NULL)
        return TC_ECRYPTO;
    return digest(md_sha256, data, len, out);
}

int ripemd160(const void *data, size_t len, uint8_t out[20])
{
    pthread_once(&fetch_once, fetch_digests);
    if (md_ripemd160 == NULL)
        return TC_EUNSUPPORTED;
    return digest(md_ripemd160, data, len, out);
}
