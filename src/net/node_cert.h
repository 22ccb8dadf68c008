/*
 * node_cert.h - the chain CA, node keys and node TLS certificates that
 * `teechain build-chain` writes (src/cli/chain_builder.c), and the check that
 * binds a TLS certificate to a node ID. The P2P layer (net/p2p.c) has
 * OpenSSL verify a peer's chain to the CA during the TLS handshake (what
 * node_cert_verify_chain checks outside TLS), then runs
 * node_cert_verify_binding on the peer's certificate.
 *
 * Two keys per node. The node key (conf/node.pem) is secp256k1: its
 * uncompressed public key without the 0x04 prefix is the node ID that the
 * genesis lists. TLS 1.3 has no secp256k1 signature scheme, so the node also
 * has a P-256 TLS key (conf/ssl.key) whose certificate (conf/ssl.crt) is
 * signed by the chain CA (P-256, self-signed, ca/ca.crt).
 *
 * Binding format of a node certificate (X.509 v3):
 *   - subject CN = "nodeN", O = "TEEChain";
 *   - subjectAltName holds exactly one URI "teechain:node:<128 hex digits>",
 *     the node ID in lower case;
 *   - a non-critical extension with OID NODE_CERT_BINDING_OID (an arc of
 *     2.25, the UUID arc of ITU-T X.667, which needs no registration) whose
 *     extnValue is the DER of an OCTET STRING of 65 bytes r || s || v: an
 *     Ethereum-style recoverable signature (v = 27 + recovery id, low s) by
 *     the node key over
 *         keccak256("teechain-tls-binding" || DER SubjectPublicKeyInfo of
 *                   the certificate's public key).
 * The certificate proves that the CA admitted this TLS key; the binding
 * proves that the node key holder vouches for it. Swapping either key breaks
 * one of the two.
 *
 * Ownership: functions that return an OpenSSL object (EVP_PKEY, X509) give
 * the caller a reference to free with EVP_PKEY_free / X509_free. struct
 * bytes outputs are appended to and freed by the caller with bytes_free.
 * Secret keys passed in are not kept; temporaries are wiped.
 *
 * Errors: 0 or a negative TC_E* code; with an `err` buffer, a one-line reason.
 */
#ifndef TC_NET_NODE_CERT_H
#define TC_NET_NODE_CERT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/bytes.h"

#define NODE_CERT_BINDING_OID    "2.25.90279533810853187378615415828853064416"
#define NODE_CERT_BINDING_DOMAIN "teechain-tls-binding"
#define NODE_CERT_URI_PREFIX     "teechain:node:"
#define NODE_CERT_BINDING_BYTES  65
#define NODE_CERT_VALID_DAYS     3650

/* A fresh P-256 key (CA and TLS keys). Returns 0 or TC_ECRYPTO. */
int node_cert_p256_keygen(EVP_PKEY **out);

/*
 * A self-signed CA certificate for key (CN = cn, O = TEEChain;
 * basicConstraints critical CA:TRUE; keyUsage critical keyCertSign, cRLSign;
 * random 127-bit serial; valid NODE_CERT_VALID_DAYS from now).
 * Returns 0 or TC_ECRYPTO.
 */
int node_cert_make_ca(EVP_PKEY *key, const char *cn, X509 **out, char *err, size_t err_len);

/*
 * Issues the TLS certificate of a node: subject CN = cn, public key =
 * tls_key's, signed by ca_key/ca_cert, with the node ID of node_seckey in
 * the subjectAltName and the binding extension (see above).
 * Returns 0, TC_EINVAL (invalid node key) or TC_ECRYPTO.
 */
int node_cert_issue(EVP_PKEY *ca_key, X509 *ca_cert, const char *cn, const uint8_t node_seckey[32],
                    EVP_PKEY *tls_key, X509 **out, char *err, size_t err_len);

/* keccak256(NODE_CERT_BINDING_DOMAIN || DER SubjectPublicKeyInfo of key).
 * Returns 0 or TC_ECRYPTO. */
int node_cert_binding_hash(EVP_PKEY *key, uint8_t hash[32]);

/* The binding signature r || s || (27 + recid) of node_seckey over
 * node_cert_binding_hash(tls_key). Returns 0, TC_EINVAL or TC_ECRYPTO. */
int node_cert_binding_sign(const uint8_t node_seckey[32], EVP_PKEY *tls_key,
                           uint8_t sig[NODE_CERT_BINDING_BYTES]);

/* Adds the binding extension holding sig to cert, replacing any present one.
 * The certificate must be (re-)signed afterwards. Returns 0 or TC_ECRYPTO. */
int node_cert_set_binding(X509 *cert, const uint8_t sig[NODE_CERT_BINDING_BYTES]);

/*
 * Extracts the node ID a certificate claims (its one "teechain:node:" URI)
 * and checks the binding signature: it must recover to that node ID over the
 * certificate's own public key. Does NOT check the CA signature (see
 * node_cert_verify_chain). Returns 0 with node_id filled, TC_EINVAL (no or
 * several node URIs, malformed extension) or TC_ECRYPTO (the signature does
 * not recover to the claimed node ID).
 */
int node_cert_verify_binding(X509 *cert, uint8_t node_id[64], char *err, size_t err_len);

/* Checks that cert is signed by ca (and is within its validity period) with
 * OpenSSL's X509_verify_cert. Returns 0 or TC_ECRYPTO. */
int node_cert_verify_chain(X509 *cert, X509 *ca, char *err, size_t err_len);

/* The PKCS#8 "PRIVATE KEY" PEM of a secp256k1 secret key, appended to pem.
 * Returns 0, TC_EINVAL (invalid key) or TC_ECRYPTO. */
int node_key_to_pem(const uint8_t seckey[32], struct bytes *pem);

/* Parses a PEM private key that must be secp256k1 into seckey. Returns 0,
 * TC_EINVAL (not a PEM key, or another curve) or TC_ECRYPTO. */
int node_key_from_pem(const char *pem, size_t pem_len, uint8_t seckey[32]);

/* Reads a node.pem file (bounded to 16 KiB) into seckey. Returns 0, TC_EIO,
 * TC_ETOOBIG or a node_key_from_pem code. */
int node_key_read_file(const char *path, uint8_t seckey[32], char *err, size_t err_len);

/* The PEM of a private key (PKCS#8) / certificate, appended to pem.
 * Returns 0 or TC_ECRYPTO. */
int node_cert_key_pem(EVP_PKEY *key, struct bytes *pem);
int node_cert_pem(X509 *cert, struct bytes *pem);

/* Reads a PEM certificate file. Returns 0, TC_EIO or TC_EINVAL. */
int node_cert_read_file(const char *path, X509 **out, char *err, size_t err_len);

#endif
