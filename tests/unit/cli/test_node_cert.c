/* test_node_cert.c - chain CA, node certificates and the node-ID binding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/bytes.h"
#include "base/error.h"
#include "crypto/ecdsa.h"
#include "net/node_cert.h"

struct fixture {
    EVP_PKEY *ca_key;
    X509 *ca;
    EVP_PKEY *tls_key;
    uint8_t node_key[32];
    uint8_t node_id[64];
    X509 *cert;
};

static void fixed_key(uint8_t key[32], uint8_t first)
{
    for (size_t i = 0; i < 32; i++)
        key[i] = (uint8_t)(first + i);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[256];
    if (f == NULL || node_cert_p256_keygen(&f->ca_key) != TC_OK ||
        node_cert_make_ca(f->ca_key, "test CA", &f->ca, err, sizeof(err)) != TC_OK ||
        node_cert_p256_keygen(&f->tls_key) != TC_OK)
        return -1;
    fixed_key(f->node_key, 1);
    if (ecdsa_pubkey(f->node_key, f->node_id) != TC_OK ||
        node_cert_issue(f->ca_key, f->ca, "node0", f->node_key, f->tls_key, &f->cert, err,
                        sizeof(err)) != TC_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    X509_free(f->cert);
    X509_free(f->ca);
    EVP_PKEY_free(f->tls_key);
    EVP_PKEY_free(f->ca_key);
    free(f);
    return 0;
}

static void test_issued_cert_chains_to_ca_and_binds_node_id(void **state)
{
    struct fixture *f = *state;
    uint8_t id[64];
    char err[256] = "";
    assert_int_equal(node_cert_verify_chain(f->cert, f->ca, err, sizeof(err)), TC_OK);
    assert_int_equal(node_cert_verify_binding(f->cert, id, err, sizeof(err)), TC_OK);
    assert_memory_equal(id, f->node_id, 64);
}

static void test_ca_is_self_signed_ca(void **state)
{
    struct fixture *f = *state;
    char err[256];
    assert_int_equal(X509_check_ca(f->ca), 1);
    assert_int_equal(X509_check_ca(f->cert), 0);
    assert_int_equal(node_cert_verify_chain(f->ca, f->ca, err, sizeof(err)), TC_OK);
}

static void test_binding_signed_by_another_key_is_rejected(void **state)
{
    struct fixture *f = *state;
    uint8_t other[32], sig[NODE_CERT_BINDING_BYTES], id[64];
    char err[256];
    X509 *cert = X509_dup(f->cert);
    assert_non_null(cert);
    fixed_key(other, 100);
    assert_int_equal(node_cert_binding_sign(other, f->tls_key, sig), TC_OK);
    assert_int_equal(node_cert_set_binding(cert, sig), TC_OK);
    assert_true(X509_sign(cert, f->ca_key, EVP_sha256()) > 0);
    /* The CA signature is fine again; only the binding gives it away. */
    assert_int_equal(node_cert_verify_chain(cert, f->ca, err, sizeof(err)), TC_OK);
    assert_int_equal(node_cert_verify_binding(cert, id, err, sizeof(err)), TC_ECRYPTO);
    X509_free(cert);
}

static void test_swapped_tls_key_is_rejected(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *other = NULL;
    uint8_t id[64];
    char err[256];
    X509 *cert = X509_dup(f->cert);
    assert_non_null(cert);
    assert_int_equal(node_cert_p256_keygen(&other), TC_OK);
    assert_true(X509_set_pubkey(cert, other));
    assert_true(X509_sign(cert, f->ca_key, EVP_sha256()) > 0);
    assert_int_equal(node_cert_verify_chain(cert, f->ca, err, sizeof(err)), TC_OK);
    assert_int_equal(node_cert_verify_binding(cert, id, err, sizeof(err)), TC_ECRYPTO);
    X509_free(cert);
    EVP_PKEY_free(other);
}

static void test_tampered_cert_fails_ca_check(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *other = NULL;
    char err[256];
    X509 *cert = X509_dup(f->cert);
    assert_int_equal(node_cert_p256_keygen(&other), TC_OK);
    /* Swapped key without the CA re-signing: the CA signature breaks.
     * i2d_re_X509_tbs drops OpenSSL's cached encoding of the old fields. */
    assert_true(X509_set_pubkey(cert, other));
    assert_true(i2d_re_X509_tbs(cert, NULL) > 0);
    assert_int_equal(node_cert_verify_chain(cert, f->ca, err, sizeof(err)), TC_ECRYPTO);
    X509_free(cert);
    EVP_PKEY_free(other);
}

static void test_cert_of_another_ca_fails_chain(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *key = NULL;
    X509 *ca2 = NULL;
    char err[256];
    assert_int_equal(node_cert_p256_keygen(&key), TC_OK);
    assert_int_equal(node_cert_make_ca(key, "other CA", &ca2, err, sizeof(err)), TC_OK);
    assert_int_equal(node_cert_verify_chain(f->cert, ca2, err, sizeof(err)), TC_ECRYPTO);
    X509_free(ca2);
    EVP_PKEY_free(key);
}

static void test_cert_without_node_id_is_rejected(void **state)
{
    struct fixture *f = *state;
    uint8_t id[64];
    char err[256];
    /* The CA certificate has neither the node URI nor the binding. */
    assert_int_equal(node_cert_verify_binding(f->ca, id, err, sizeof(err)), TC_EINVAL);
}

static void test_binding_with_bad_v_is_rejected(void **state)
{
    struct fixture *f = *state;
    uint8_t sig[NODE_CERT_BINDING_BYTES], id[64];
    char err[256];
    X509 *cert = X509_dup(f->cert);
    assert_int_equal(node_cert_binding_sign(f->node_key, f->tls_key, sig), TC_OK);
    sig[64] = 29;
    assert_int_equal(node_cert_set_binding(cert, sig), TC_OK);
    assert_int_equal(node_cert_verify_binding(cert, id, err, sizeof(err)), TC_EINVAL);
    X509_free(cert);
}

static void test_node_key_pem_round_trips(void **state)
{
    struct fixture *f = *state;
    struct bytes pem;
    uint8_t back[32];
    bytes_init(&pem);
    assert_int_equal(node_key_to_pem(f->node_key, &pem), TC_OK);
    assert_non_null(memmem(pem.ptr, pem.len, "-----BEGIN PRIVATE KEY-----", 27));
    assert_int_equal(node_key_from_pem((const char *)pem.ptr, pem.len, back), TC_OK);
    assert_memory_equal(back, f->node_key, 32);
    bytes_free(&pem);
}

static void test_node_key_from_pem_rejects_other_curves(void **state)
{
    struct fixture *f = *state;
    struct bytes pem;
    uint8_t back[32];
    bytes_init(&pem);
    assert_int_equal(node_cert_key_pem(f->tls_key, &pem), TC_OK);
    assert_int_equal(node_key_from_pem((const char *)pem.ptr, pem.len, back), TC_EINVAL);
    assert_int_equal(node_key_from_pem("not a pem", 9, back), TC_EINVAL);
    bytes_free(&pem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_issued_cert_chains_to_ca_and_binds_node_id, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ca_is_self_signed_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binding_signed_by_another_key_is_rejected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_swapped_tls_key_is_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_cert_fails_ca_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cert_of_another_ca_fails_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cert_without_node_id_is_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binding_with_bad_v_is_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_key_pem_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_key_from_pem_rejects_other_curves, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
