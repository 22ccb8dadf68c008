/*
 * ecdsa.h - secp256k1 ECDSA the Ethereum way: recoverable signatures,
 * public-key recovery and 20-byte addresses (libsecp256k1 + its recovery
 * module).
 *
 * Formats: a secret key is 32 big-endian bytes in [1, n-1]; a public key is
 * the 64-byte uncompressed point X||Y (without the 0x04 prefix), as Ethereum
 * hashes it; a signature is r, s (32 big-endian bytes each) and a recovery
 * id 0..3 (a transaction's v or y-parity is converted to it by the caller).
 * An address is keccak256(pub)[12..32].
 *
 * Errors: TC_EINVAL for malformed input (a secret key out of range; r or s
 * zero or >= n; recid outside 0..3; with require_low_s, s > n/2);
 * TC_ECRYPTO when a well-formed signature recovers no key; TC_ENOMEM /
 * TC_ECRYPTO when the shared context could not be set up.
 *
 * Threads: every function may be called from any number of threads at once.
 * The module holds one libsecp256k1 context, created and randomized (blinding
 * seeded from crypto_random) exactly once under pthread_once. libsecp256k1
 * only writes to a context in secp256k1_context_randomize and
 * secp256k1_context_destroy; signing, key creation, parsing and recovery take
 * it as const and only read it. Since this module randomizes only inside the
 * once-routine and never destroys the context, concurrent use is safe without
 * a lock, which is what the transaction pool's parallel sender recovery needs.
 *
 * Secrets: functions that take a secret key wipe their temporaries
 * (OPENSSL_cleanse); the caller owns and wipes its own key buffers.
 */
#ifndef TC_CRYPTO_ECDSA_H
#define TC_CRYPTO_ECDSA_H

#include <stdbool.h>
#include <stdint.h>

#define ECDSA_SECKEY_BYTES  32
#define ECDSA_PUBKEY_BYTES  64
#define ECDSA_ADDRESS_BYTES 20

/* A fresh random valid secret key from crypto_random(). Returns 0 or TC_ECRYPTO. */
int ecdsa_keygen(uint8_t seckey[32]);

/* pub = seckey * G, as X||Y. Returns 0 or TC_EINVAL for an invalid key (pub wiped). */
int ecdsa_pubkey(const uint8_t seckey[32], uint8_t pub[64]);

/*
 * Signs the 32-byte hash with a deterministic RFC 6979 nonce. The result is
 * always low-s (s <= n/2), as Ethereum transactions require. recid is 0..3
 * (in practice 0 or 1). Returns 0 or TC_EINVAL for an invalid key.
 */
int ecdsa_sign_recoverable(const uint8_t seckey[32], const uint8_t hash[32], uint8_t r[32],
                           uint8_t s[32], int *recid);

/*
 * Recovers the public key that signed hash. require_low_s=true is Ethereum's
 * rule for transactions (EIP-2); the ecrecover precompile passes false.
 * Returns 0, TC_EINVAL or TC_ECRYPTO (see above).
 */
int ecdsa_recover_pubkey(const uint8_t hash[32], const uint8_t r[32], const uint8_t s[32],
                         int recid, bool require_low_s, uint8_t pub[64]);

/* As ecdsa_recover_pubkey, then the address of that key. */
int ecdsa_recover_address(const uint8_t hash[32], const uint8_t r[32], const uint8_t s[32],
                          int recid, bool require_low_s, uint8_t address[20]);

/* address = keccak256(pub)[12..32]. Cannot fail. */
void eth_address_from_pubkey(const uint8_t pub[64], uint8_t address[20]);

/* The address of seckey's public key. Returns 0 or TC_EINVAL for an invalid key. */
int ecdsa_address_from_seckey(const uint8_t seckey[32], uint8_t address[20]);

#endif
