/* test_kdf.c - HKDF-SHA256 against RFC 5869 Appendix A test cases 1-3, and its bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "base/error.h"
#include "crypto/kdf.h"

struct hkdf_case {
    const char *ikm, *salt, *info, *prk, *okm;
};

/* Hex fields of one RFC 5869 case; returns decoded lengths through the arrays. */
static size_t decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t len = 0;
    assert_int_equal(hex_decode(hex, strlen(hex), out, cap, &len), TC_OK);
    return len;
}

static void check_case(const struct hkdf_case *c)
{
    uint8_t ikm[128], salt[128], info[128], prk[32], okm[128];
    uint8_t got_prk[32], got_okm[128], got_okm2[128];
    size_t ikm_len = decode(c->ikm, ikm, sizeof(ikm));
    size_t salt_len = decode(c->salt, salt, sizeof(salt));
    size_t info_len = decode(c->info, info, sizeof(info));
    assert_int_equal(decode(c->prk, prk, sizeof(prk)), 32);
    size_t okm_len = decode(c->okm, okm, sizeof(okm));

    assert_int_equal(hkdf_sha256(salt_len ? salt : NULL, salt_len, ikm, ikm_len,
                                 info_len ? info : NULL, info_len, got_okm, okm_len),
                     TC_OK);
    assert_memory_equal(got_okm, okm, okm_len);

    assert_int_equal(hkdf_sha256_extract(salt_len ? salt : NULL, salt_len, ikm, ikm_len, got_prk),
                     TC_OK);
    assert_memory_equal(got_prk, prk, 32);
    assert_int_equal(
        hkdf_sha256_expand(got_prk, 32, info_len ? info : NULL, info_len, got_okm2, okm_len),
        TC_OK);
    assert_memory_equal(got_okm2, okm, okm_len);
}

static void test_rfc5869_case1_basic(void **state)
{
    /* RFC 5869 Appendix A.1: basic test case with SHA-256. */
    const struct hkdf_case c = {
        "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
        "000102030405060708090a0b0c",
        "f0f1f2f3f4f5f6f7f8f9",
        "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    };
    check_case(&c);
}

static void test_rfc5869_case2_long_inputs(void **state)
{
    /* RFC 5869 Appendix A.2: longer inputs and outputs (80-byte fields, L = 82). */
    const struct hkdf_case c = {
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
        "404142434445464748494a4b4c4d4e4f",
        "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
        "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
        "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
        "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
        "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
        "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
        "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
        "cc30c58179ec3e87c14c01d5c1f3434f1d87",
    };
    check_case(&c);
}

static void test_rfc5869_case3_empty_salt_and_info(void **state)
{
    /* RFC 5869 Appendix A.3: zero-length salt and info. */
    const struct hkdf_case c = {
        "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
        "",
        "",
        "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
    };
    check_case(&c);
}

static void test_output_length_bounds_are_enforced(void **state)
{
    uint8_t ikm[22] = { 0 }, prk[32] = { 0 };
    static uint8_t out[HKDF_SHA256_MAX_OUT_BYTES + 1];
    assert_int_equal(hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0, out, 0), TC_EINVAL);
    assert_int_equal(hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0, out, sizeof(out)), TC_EINVAL);
    assert_int_equal(hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0, out, sizeof(out) - 1), TC_OK);
    assert_int_equal(hkdf_sha256_expand(prk, 31, NULL, 0, out, 32), TC_EINVAL);
}

static void test_different_info_gives_independent_keys(void **state)
{
    uint8_t ikm[32] = { 1 }, a[32], b[32];
    assert_int_equal(hkdf_sha256(NULL, 0, ikm, 32, (const uint8_t *)"storage", 7, a, 32), TC_OK);
    assert_int_equal(hkdf_sha256(NULL, 0, ikm, 32, (const uint8_t *)"tx", 2, b, 32), TC_OK);
    assert_memory_not_equal(a, b, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5869_case1_basic),
        cmocka_unit_test(test_rfc5869_case2_long_inputs),
        cmocka_unit_test(test_rfc5869_case3_empty_salt_and_info),
        cmocka_unit_test(test_output_length_bounds_are_enforced),
        cmocka_unit_test(test_different_info_gives_independent_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
