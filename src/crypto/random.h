/*
 * random.h - cryptographically secure random bytes.
 *
 * crypto_random() is the only source of key material, nonces and blinding
 * seeds in the node (OpenSSL's RAND_bytes, a DRBG seeded by the OS, or by
 * RDRAND inside an enclave). The seeded generator in base/rng.h is for tests
 * and simulation only and must never be used for keys. Thread-safe.
 */
#ifndef TC_CRYPTO_RANDOM_H
#define TC_CRYPTO_RANDOM_H

#include <stddef.h>

/*
 * Fills buf[0..len) with random bytes. Returns 0, or TC_ECRYPTO when the
 * generator fails (buf is then wiped, never left half-random).
 */
int crypto_random(void *buf, size_t len);

#endif
