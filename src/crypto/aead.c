/* aead.c - AES-256-GCM seal/open on EVP, with the cipher fetched once. */
#include "crypto/aead.h"

#include <limits.h>
#include <pthread.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/error.h"

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *cipher_gcm; /* lives for the process; read-only once fetched */

static void fetch_cipher(void)
{
    cipher_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

/* Creates a context keyed for encryption (enc=1) or decryption (enc=0). */
static int gcm_begin(EVP_CIPHER_CTX **out, int enc, const uint8_t key[32], const uint8_t nonce[12],
                     size_t len, size_t aad_len)
{
    if (len > INT_MAX || aad_len > INT_MAX)
        return TC_ETOOBIG;
    pthread_once(&fetch_once, fetch_cipher);
    if (cipher_gcm == NULL)
        return TC_ECRYPTO;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return TC_ENOMEM;
    /* The default GCM IV length is 12 bytes, the length we use. */
    if (EVP_CipherInit_ex2(ctx, cipher_gcm, key, nonce, enc, NULL) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return TC_ECRYPTO;
    }
    *out = ctx;
    return TC_OK;
}

/* Feeds the associated data (no output) and then the message. */
static int gcm_process(EVP_CIPHER_CTX *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *in,
                       size_t len, uint8_t *out)
{
    int outl = 0;
    if (aad_len > 0 && EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
        return TC_ECRYPTO;
    if (len > 0 && (EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1 || (size_t)outl != len))
        return TC_ECRYPTO;
    return TC_OK;
}

int aead_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
              const uint8_t *pt, size_t len, uint8_t *ct, uint8_t tag[16])
{
    EVP_CIPHER_CTX *ctx;
    uint8_t no_output[AEAD_TAG_BYTES]; /* GCM's final step emits no bytes */
    int outl = 0;
    int rc = gcm_begin(&ctx, 1, key, nonce, len, aad_len);
    if (rc != TC_OK)
        return rc;
    rc = gcm_process(ctx, aad, aad_len, pt, len, ct);
    if (rc == TC_OK && (EVP_CipherFinal_ex(ctx, no_output, &outl) != 1 || outl != 0 ||
                        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AEAD_TAG_BYTES, tag) != 1))
        rc = TC_ECRYPTO;
    if (rc != TC_OK) {
        OPENSSL_cleanse(ct, len);
        OPENSSL_cleanse(tag, AEAD_TAG_BYTES);
    }
    EVP_CIPHER_CTX_free(ctx); /* also wipes the key schedule */
    return rc;
}

int aead_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
              const uint8_t *ct, size_t len, const uint8_t tag[16], uint8_t *pt)
{
    EVP_CIPHER_CTX *ctx;
    uint8_t no_output[AEAD_TAG_BYTES]; /* GCM's final step emits no bytes */
    int outl = 0;
    int rc = gcm_begin(&ctx, 0, key, nonce, len, aad_len);
    if (rc != TC_OK) {
        OPENSSL_cleanse(pt, len);
        return rc;
    }
    rc = gcm_process(ctx, aad, aad_len, ct, len, pt);
    /* The expected tag must be set before EVP_CipherFinal_ex, which compares
     * it in constant time; plaintext written so far is withheld until then. */
    if (rc == TC_OK &&
        (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AEAD_TAG_BYTES, (void *)tag) != 1 ||
         EVP_CipherFinal_ex(ctx, no_output, &outl) != 1 || outl != 0))
        rc = TC_ECRYPTO;
    if (rc != TC_OK)
        OPENSSL_cleanse(pt, len);
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}
