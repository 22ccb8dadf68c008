/*
 * test_hash.c - SHA-256 (FIPS 180-4 examples) and RIPEMD-160 (the test
 * vectors of Dobbertin, Bosselaers and Preneel's RIPEMD-160 paper).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "base/error.h"
#include "crypto/hash.h"

static void assert_hex(const uint8_t *got, size_t len, const char *hex)
{
    uint8_t want[32];
    assert_true(len <= sizeof(want));
    assert_int_equal(hex_decode_exact(hex, want, len), TC_OK);
    assert_memory_equal(got, want, len);
}

/* n copies of 'a', for the million-'a' vectors of both documents. */
static uint8_t *million_a(void)
{
    uint8_t *buf = malloc(1000000);
    assert_non_null(buf);
    memset(buf, 'a', 1000000);
    return buf;
}

static void test_sha256_fips180_examples(void **state)
{
    /* FIPS 180-4 examples (NIST CSRC "SHA256.pdf" example values, as in
     * FIPS 180-2 Appendix B.1-B.3): one block, two blocks, one million 'a'. */
    uint8_t out[32];
    assert_int_equal(sha256("abc", 3, out), TC_OK);
    assert_hex(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_int_equal(sha256(two, strlen(two), out), TC_OK);
    assert_hex(out, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

    uint8_t *a = million_a();
    assert_int_equal(sha256(a, 1000000, out), TC_OK);
    assert_hex(out, 32, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

static void test_sha256_of_empty_input(void **state)
{
    /* NIST CAVP SHAVS, SHA256ShortMsg.rsp, Len = 0. */
    uint8_t out[32];
    assert_int_equal(sha256(NULL, 0, out), TC_OK);
    assert_hex(out, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_ripemd160_paper_vectors(void **state)
{
    /* H. Dobbertin, A. Bosselaers, B. Preneel, "RIPEMD-160: A Strengthened
     * Version of RIPEMD", FSE 1996, Appendix (test values). */
    static const struct {
        const char *msg;
        const char *digest;
    } v[] = {
        { "", "9c1185a5c5e9fc54612808977ee8f548b2258d31" },
        { "a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe" },
        { "abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc" },
        { "message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36" },
        { "abcdefghijklmnopqrstuvwxyz", "f71c27109c692c1b56bbdceb5b9d2865b3708dbc" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "12a053384a9c0c88e405a06c27dcf49ada62eb2b" },
        { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
          "b0e20b6e3116640286ed3a87a5713079b21f5189" },
        { "1234567890123456789012345678901234567890123456789012345678901234567890123456789"
          "0",
          "9b752e45573d4b39f4dbd3323cab82bf63326bfb" },
    };
    uint8_t out[20];
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_int_equal(ripemd160(v[i].msg, strlen(v[i].msg), out), TC_OK);
        assert_hex(out, 20, v[i].digest);
    }
    uint8_t *a = million_a();
    assert_int_equal(ripemd160(a, 1000000, out), TC_OK);
    assert_hex(out, 20, "52783243c1697bdbe16d37f97f68f08325dc1528");
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_fips180_examples),
        cmocka_unit_test(test_sha256_of_empty_input),
        cmocka_unit_test(test_ripemd160_paper_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
