/* random.c - crypto_random() on OpenSSL's RAND_bytes. */
#include "crypto/random.h"

#include <limits.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/error.h"

int crypto_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    size_t left = len;
    /* RAND_bytes takes an int length: draw in chunks. */
    while (left > 0) {
        int chunk = left > (size_t)INT_MAX ? INT_MAX : (int)left;
        if (RAND_bytes(p, chunk) != 1) {
            OPENSSL_cleanse(buf, len);
            return TC_ECRYPTO;
        }
        p += chunk;
        left -= (size_t)chunk;
    }
    return TC_OK;
}
