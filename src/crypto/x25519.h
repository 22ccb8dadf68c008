/*
 * x25519.h - X25519 Diffie-Hellman (RFC 7748) through OpenSSL 3.
 *
 * Confidential transactions are encrypted to the chain's transaction key: the
 * client makes an ephemeral X25519 key pair, computes the shared secret with
 * the chain's public key, and derives an AES-256-GCM key from it with
 * hkdf_sha256() (kdf.h). Never use the raw shared secret as a key.
 *
 * Keys are raw 32-byte strings as in RFC 7748 (the private key is clamped
 * when used, not when stored). The caller owns all buffers and must wipe
 * private keys and shared secrets (OPENSSL_cleanse) when done. Thread-safe.
 */
#ifndef TC_CRYPTO_X25519_H
#define TC_CRYPTO_X25519_H

#include <stdint.h>

#define X25519_KEY_BYTES 32

/*
 * New key pair from crypto_random(). Returns 0, or TC_ECRYPTO / TC_ENOMEM
 * (both outputs are then wiped).
 */
int x25519_keygen(uint8_t priv[32], uint8_t pub[32]);

/* pub = X25519(priv, 9). Returns 0, or TC_ECRYPTO / TC_ENOMEM (pub wiped). */
int x25519_public_from_private(const uint8_t priv[32], uint8_t pub[32]);

/*
 * shared = X25519(priv, peer_pub). Returns 0; TC_ECRYPTO when the result is
 * all zeros (peer_pub is a low-order point: RFC 7748 §6.1 says to abort) or
 * OpenSSL fails; TC_ENOMEM. shared is wiped on any failure.
 */
int x25519_shared_secret(const uint8_t priv[32], const uint8_t peer_pub[32], uint8_t shared[32]);

#endif
