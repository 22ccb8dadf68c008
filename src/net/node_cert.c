/* node_cert.c - chain CA, node keys, node TLS certificates and their binding. */
#include "net/node_cert.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "base/error.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"
#include "crypto/random.h"

#define NODE_KEY_FILE_MAX_BYTES (16u * 1024u)

int node_cert_p256_keygen(EVP_PKEY **out)
{
    *out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    return *out != NULL ? TC_OK : TC_ECRYPTO;
}

/* A random positive serial of 127 bits (RFC 5280 allows up to 20 bytes). */
static int set_random_serial(X509 *cert)
{
    uint8_t raw[16];
    int rc = TC_ECRYPTO;
    if (crypto_random(raw, sizeof(raw)) != TC_OK)
        return TC_ECRYPTO;
    raw[0] &= 0x7f;
    raw[0] |= 0x40; /* never zero, always 16 bytes long */
    BIGNUM *bn = BN_bin2bn(raw, sizeof(raw), NULL);
    if (bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL)
        rc = TC_OK;
    BN_free(bn);
    return rc;
}

static int set_name(X509_NAME *name, const char *cn)
{
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"TEEChain", -1,
                                    -1, 0))
        return TC_ECRYPTO;
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                    0))
        return TC_ECRYPTO;
    return TC_OK;
}

/* Version 3, random serial, validity from now, subject, public key. */
static X509 *new_cert(EVP_PKEY *subject_key, const char *cn)
{
    X509 *cert = X509_new();
    if (cert == NULL)
        return NULL;
    if (!X509_set_version(cert, X509_VERSION_3) || set_random_serial(cert) != TC_OK ||
        X509_gmtime_adj(X509_getm_notBefore(cert), 0) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(cert), NODE_CERT_VALID_DAYS, 0, NULL) == NULL ||
        set_name(X509_get_subject_name(cert), cn) != TC_OK || !X509_set_pubkey(cert, subject_key)) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

static int add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (ext == NULL)
        return TC_ECRYPTO;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? TC_OK : TC_ECRYPTO;
}

int node_cert_make_ca(EVP_PKEY *key, const char *cn, X509 **out, char *err, size_t err_len)
{
    X509V3_CTX ctx;
    X509 *cert = new_cert(key, cn);
    if (cert == NULL)
        goto fail;
    if (!X509_set_issuer_name(cert, X509_get_subject_name(cert)))
        goto fail_free_cert;
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    if (add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE") != TC_OK ||
        add_ext(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") != TC_OK ||
        add_ext(cert, &ctx, NID_subject_key_identifier, "hash") != TC_OK)
        goto fail_free_cert;
    if (X509_sign(cert, key, EVP_sha256()) <= 0)
        goto fail_free_cert;
    *out = cert;
    return TC_OK;
fail_free_cert:
    X509_free(cert);
fail:
    snprintf(err, err_len, "cannot create the CA certificate (OpenSSL error)");
    return TC_ECRYPTO;
}

int node_cert_binding_hash(EVP_PKEY *key, uint8_t hash[32])
{
    unsigned char *der = NULL;
    int der_len = i2d_PUBKEY(key, &der);
    if (der_len <= 0)
        return TC_ECRYPTO;
    struct keccak256_ctx kc;
    keccak256_init(&kc);
    keccak256_update(&kc, NODE_CERT_BINDING_DOMAIN, strlen(NODE_CERT_BINDING_DOMAIN));
    keccak256_update(&kc, der, (size_t)der_len);
    keccak256_final(&kc, hash);
    OPENSSL_free(der);
    return TC_OK;
}

int node_cert_binding_sign(const uint8_t node_seckey[32], EVP_PKEY *tls_key,
                           uint8_t sig[NODE_CERT_BINDING_BYTES])
{
    uint8_t hash[32];
    int recid = 0;
    int rc = node_cert_binding_hash(tls_key, hash);
    if (rc != TC_OK)
        return rc;
    rc = ecdsa_sign_recoverable(node_seckey, hash, sig, sig + 32, &recid);
    if (rc != TC_OK)
        return rc;
    sig[64] = (uint8_t)(27 + recid);
    return TC_OK;
}

static ASN1_OBJECT *binding_oid(void)
{
    return OBJ_txt2obj(NODE_CERT_BINDING_OID, 1);
}

int node_cert_set_binding(X509 *cert, const uint8_t sig[NODE_CERT_BINDING_BYTES])
{
    int rc = TC_ECRYPTO;
    unsigned char *der = NULL;
    ASN1_OBJECT *oid = binding_oid();
    ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING *outer = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    if (oid == NULL || inner == NULL || outer == NULL)
        goto out_free;
    for (int idx = X509_get_ext_by_OBJ(cert, oid, -1); idx >= 0;
         idx = X509_get_ext_by_OBJ(cert, oid, -1))
        X509_EXTENSION_free(X509_delete_ext(cert, idx));
    if (!ASN1_OCTET_STRING_set(inner, sig, NODE_CERT_BINDING_BYTES))
        goto out_free;
    int der_len = i2d_ASN1_OCTET_STRING(inner, &der);
    if (der_len <= 0 || !ASN1_OCTET_STRING_set(outer, der, der_len))
        goto out_free;
    ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, outer);
    if (ext != NULL && X509_add_ext(cert, ext, -1))
        rc = TC_OK;
out_free:
    X509_EXTENSION_free(ext);
    OPENSSL_free(der);
    ASN1_OCTET_STRING_free(outer);
    ASN1_OCTET_STRING_free(inner);
    ASN1_OBJECT_free(oid);
    return rc;
}

int node_cert_issue(EVP_PKEY *ca_key, X509 *ca_cert, const char *cn, const uint8_t node_seckey[32],
                    EVP_PKEY *tls_key, X509 **out, char *err, size_t err_len)
{
    uint8_t pub[64];
    uint8_t sig[NODE_CERT_BINDING_BYTES];
    char san[sizeof("URI:" NODE_CERT_URI_PREFIX) + 128];
    X509V3_CTX ctx;
    if (ecdsa_pubkey(node_seckey, pub) != TC_OK) {
        snprintf(err, err_len, "invalid node key");
        return TC_EINVAL;
    }
    memcpy(san, "URI:" NODE_CERT_URI_PREFIX, sizeof("URI:" NODE_CERT_URI_PREFIX) - 1);
    hex_encode(pub, 64, san + sizeof("URI:" NODE_CERT_URI_PREFIX) - 1);
    X509 *cert = new_cert(tls_key, cn);
    if (cert == NULL)
        goto fail;
    if (!X509_set_issuer_name(cert, X509_get_subject_name(ca_cert)))
        goto fail_free_cert;
    X509V3_set_ctx(&ctx, ca_cert, cert, NULL, NULL, 0);
    if (add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE") != TC_OK ||
        add_ext(cert, &ctx, NID_key_usage, "critical,digitalSignature") != TC_OK ||
        add_ext(cert, &ctx, NID_ext_key_usage, "serverAuth,clientAuth") != TC_OK ||
        add_ext(cert, &ctx, NID_subject_key_identifier, "hash") != TC_OK ||
        add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always") != TC_OK ||
        add_ext(cert, &ctx, NID_subject_alt_name, san) != TC_OK)
        goto fail_free_cert;
    if (node_cert_binding_sign(node_seckey, tls_key, sig) != TC_OK ||
        node_cert_set_binding(cert, sig) != TC_OK)
        goto fail_free_cert;
    if (X509_sign(cert, ca_key, EVP_sha256()) <= 0)
        goto fail_free_cert;
    *out = cert;
    return TC_OK;
fail_free_cert:
    X509_free(cert);
fail:
    snprintf(err, err_len, "cannot issue the certificate of %s (OpenSSL error)", cn);
    return TC_ECRYPTO;
}

/* The node ID of the certificate's single "teechain:node:" URI. */
static int claimed_node_id(X509 *cert, uint8_t node_id[64], char *err, size_t err_len)
{
    const size_t prefix_len = strlen(NODE_CERT_URI_PREFIX);
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    int found = 0;
    int rc = TC_OK;
    if (names == NULL) {
        snprintf(err, err_len, "certificate has no subjectAltName");
        return TC_EINVAL;
    }
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type != GEN_URI)
            continue;
        const char *uri = (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
        size_t uri_len = (size_t)ASN1_STRING_length(gn->d.uniformResourceIdentifier);
        if (uri_len < prefix_len || memcmp(uri, NODE_CERT_URI_PREFIX, prefix_len) != 0)
            continue;
        found++;
        size_t out_len = 0;
        if (uri_len != prefix_len + 128 ||
            hex_decode(uri + prefix_len, 128, node_id, 64, &out_len) != TC_OK) {
            snprintf(err, err_len, "malformed node URI in subjectAltName");
            rc = TC_EINVAL;
        }
    }
    GENERAL_NAMES_free(names);
    if (rc == TC_OK && found != 1) {
        snprintf(err, err_len, "certificate must name exactly one node ID (found %d)", found);
        rc = TC_EINVAL;
    }
    return rc;
}

/* The 65 bytes of the certificate's single binding extension. */
static int binding_signature(X509 *cert, uint8_t sig[NODE_CERT_BINDING_BYTES], char *err,
                             size_t err_len)
{
    int rc = TC_EINVAL;
    ASN1_OBJECT *oid = binding_oid();
    if (oid == NULL)
        return TC_ECRYPTO;
    int idx = X509_get_ext_by_OBJ(cert, oid, -1);
    if (idx < 0 || X509_get_ext_by_OBJ(cert, oid, idx) >= 0) {
        snprintf(err, err_len, "certificate must hold exactly one binding extension");
        goto out_free_oid;
    }
    ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
    const unsigned char *p = ASN1_STRING_get0_data(data);
    long len = ASN1_STRING_length(data);
    ASN1_OCTET_STRING *inner = d2i_ASN1_OCTET_STRING(NULL, &p, len);
    if (inner == NULL || p != ASN1_STRING_get0_data(data) + len ||
        ASN1_STRING_length(inner) != NODE_CERT_BINDING_BYTES) {
        snprintf(err, err_len, "malformed binding extension");
    } else {
        memcpy(sig, ASN1_STRING_get0_data(inner), NODE_CERT_BINDING_BYTES);
        rc = TC_OK;
    }
    ASN1_OCTET_STRING_free(inner);
out_free_oid:
    ASN1_OBJECT_free(oid);
    return rc;
}

int node_cert_verify_binding(X509 *cert, uint8_t node_id[64], char *err, size_t err_len)
{
    uint8_t claimed[64], recovered[64], sig[NODE_CERT_BINDING_BYTES], hash[32];
    int rc = claimed_node_id(cert, claimed, err, err_len);
    if (rc != TC_OK)
        return rc;
    rc = binding_signature(cert, sig, err, err_len);
    if (rc != TC_OK)
        return rc;
    if (sig[64] != 27 && sig[64] != 28) {
        snprintf(err, err_len, "binding signature: v must be 27 or 28");
        return TC_EINVAL;
    }
    EVP_PKEY *pub = X509_get0_pubkey(cert);
    if (pub == NULL || node_cert_binding_hash(pub, hash) != TC_OK) {
        snprintf(err, err_len, "cannot read the certificate's public key");
        return TC_ECRYPTO;
    }
    if (ecdsa_recover_pubkey(hash, sig, sig + 32, sig[64] - 27, true, recovered) != TC_OK ||
        memcmp(recovered, claimed, 64) != 0) {
        snprintf(err, err_len, "binding signature does not match the node ID");
        return TC_ECRYPTO;
    }
    memcpy(node_id, claimed, 64);
    return TC_OK;
}

int node_cert_verify_chain(X509 *cert, X509 *ca, char *err, size_t err_len)
{
    int rc = TC_ECRYPTO;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (store == NULL || ctx == NULL || !X509_STORE_add_cert(store, ca) ||
        !X509_STORE_CTX_init(ctx, store, cert, NULL)) {
        snprintf(err, err_len, "cannot set up certificate verification");
        goto out_free;
    }
    if (X509_verify_cert(ctx) == 1)
        rc = TC_OK;
    else
        snprintf(err, err_len, "certificate does not verify against the CA: %s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
out_free:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

/* An EVP_PKEY holding the secp256k1 key pair of seckey. */
static int secp256k1_pkey(const uint8_t seckey[32], EVP_PKEY **out)
{
    uint8_t pub[65];
    int rc = TC_ECRYPTO;
    pub[0] = 0x04;
    if (ecdsa_pubkey(seckey, pub + 1) != TC_OK)
        return TC_EINVAL;
    BIGNUM *priv = BN_secure_new();
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (priv == NULL || bld == NULL || ctx == NULL || BN_bin2bn(seckey, 32, priv) == NULL)
        goto out_free;
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "secp256k1", 0) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)))
        goto out_free;
    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL || EVP_PKEY_fromdata_init(ctx) <= 0)
        goto out_free;
    *out = NULL;
    if (EVP_PKEY_fromdata(ctx, out, EVP_PKEY_KEYPAIR, params) > 0)
        rc = TC_OK;
out_free:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(priv);
    return rc;
}

static int bio_to_bytes(BIO *bio, struct bytes *out)
{
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    if (len <= 0)
        return TC_ECRYPTO;
    return bytes_append(out, data, (size_t)len);
}

int node_cert_key_pem(EVP_PKEY *key, struct bytes *pem)
{
    int rc = TC_ECRYPTO;
    BIO *bio = BIO_new(BIO_s_secmem());
    if (bio != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
        rc = bio_to_bytes(bio, pem);
    BIO_free(bio);
    return rc;
}

int node_cert_pem(X509 *cert, struct bytes *pem)
{
    int rc = TC_ECRYPTO;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio != NULL && PEM_write_bio_X509(bio, cert))
        rc = bio_to_bytes(bio, pem);
    BIO_free(bio);
    return rc;
}

int node_key_to_pem(const uint8_t seckey[32], struct bytes *pem)
{
    EVP_PKEY *pkey = NULL;
    int rc = secp256k1_pkey(seckey, &pkey);
    if (rc != TC_OK)
        return rc;
    rc = node_cert_key_pem(pkey, pem);
    EVP_PKEY_free(pkey);
    return rc;
}

/* Refuses encrypted PEM instead of letting OpenSSL prompt on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *arg)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)arg;
    return -1;
}

int node_key_from_pem(const char *pem, size_t pem_len, uint8_t seckey[32])
{
    int rc = TC_EINVAL;
    char group[64];
    size_t group_len = 0;
    BIGNUM *priv = NULL;
    EVP_PKEY *pkey = NULL;
    if (pem_len > INT32_MAX)
        return TC_EINVAL;
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (bio == NULL)
        return TC_ECRYPTO;
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    if (pkey == NULL || !EVP_PKEY_is_a(pkey, "EC") ||
        !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                        &group_len) ||
        strcmp(group, "secp256k1") != 0)
        goto out_free;
    if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &priv) ||
        BN_bn2binpad(priv, seckey, 32) != 32)
        goto out_free;
    uint8_t pub[64];
    if (ecdsa_pubkey(seckey, pub) != TC_OK) {
        OPENSSL_cleanse(seckey, 32);
        goto out_free;
    }
    rc = TC_OK;
out_free:
    BN_clear_free(priv);
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    return rc;
}

/* Reads at most max bytes of path into out; TC_ETOOBIG if it is longer. */
static int read_small_file(const char *path, size_t max, struct bytes *out, char *err,
                           size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
        return TC_EIO;
    }
    int rc = bytes_reserve(out, max + 1);
    if (rc == TC_OK) {
        out->len = fread(out->ptr, 1, max + 1, f);
        if (ferror(f)) {
            snprintf(err, err_len, "cannot read %s", path);
            rc = TC_EIO;
        } else if (out->len > max) {
            snprintf(err, err_len, "%s: file too large", path);
            rc = TC_ETOOBIG;
        }
    }
    fclose(f);
    return rc;
}

int node_key_read_file(const char *path, uint8_t seckey[32], char *err, size_t err_len)
{
    struct bytes buf;
    bytes_init(&buf);
    int rc = read_small_file(path, NODE_KEY_FILE_MAX_BYTES, &buf, err, err_len);
    if (rc == TC_OK) {
        rc = node_key_from_pem((const char *)buf.ptr, buf.len, seckey);
        if (rc != TC_OK)
            snprintf(err, err_len, "%s: not a secp256k1 private key in PEM", path);
    }
    if (buf.ptr != NULL)
        OPENSSL_cleanse(buf.ptr, buf.cap);
    bytes_free(&buf);
    return rc;
}

int node_cert_read_file(const char *path, X509 **out, char *err, size_t err_len)
{
    struct bytes buf;
    bytes_init(&buf);
    int rc = read_small_file(path, NODE_KEY_FILE_MAX_BYTES, &buf, err, err_len);
    if (rc != TC_OK)
        goto out_free;
    BIO *bio = BIO_new_mem_buf(buf.ptr, (int)buf.len);
    *out = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (*out == NULL) {
        snprintf(err, err_len, "%s: not a PEM certificate", path);
        rc = TC_EINVAL;
    }
out_free:
    bytes_free(&buf);
    return rc;
}
