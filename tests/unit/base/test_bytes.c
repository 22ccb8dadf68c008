/* test_bytes.c - byte buffers and strict hex. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "base/error.h"

static void test_hex_round_trip(void **state)
{
    const uint8_t data[] = { 0x00, 0x01, 0xab, 0xff };
    char hex[9];
    hex_encode(data, sizeof(data), hex);
    assert_string_equal(hex, "0001abff");
    uint8_t out[4];
    size_t n = 0;
    assert_int_equal(hex_decode("0001ABff", 8, out, sizeof(out), &n), TC_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(out, data, 4);
}

static void test_hex_rejects_odd_length_and_bad_digits(void **state)
{
    uint8_t out[8];
    size_t n;
    assert_int_equal(hex_decode("abc", 3, out, sizeof(out), &n), TC_EINVAL);
    assert_int_equal(hex_decode("zz", 2, out, sizeof(out), &n), TC_EINVAL);
    assert_int_equal(hex_decode("0x12", 4, out, sizeof(out), &n), TC_EINVAL);
    assert_int_equal(hex_decode(" 1", 2, out, sizeof(out), &n), TC_EINVAL);
}

static void test_hex_prefix_rules(void **state)
{
    uint8_t out[8];
    size_t n;
    assert_int_equal(hex_decode_prefixed("0x", 2, out, sizeof(out), &n), TC_OK);
    assert_int_equal(n, 0);
    assert_int_equal(hex_decode_prefixed("1234", 4, out, sizeof(out), &n), TC_EINVAL);
    assert_int_equal(hex_decode_prefixed("0X1234", 6, out, sizeof(out), &n), TC_OK);
    assert_int_equal(n, 2);
    struct bytes b;
    assert_int_equal(hex_decode_alloc("1234", false, &b), TC_EINVAL);
    assert_int_equal(hex_decode_alloc("1234", true, &b), TC_OK);
    assert_int_equal(b.len, 2);
    bytes_free(&b);
    assert_int_equal(hex_decode_alloc("0x123", true, &b), TC_EINVAL);
}

static void test_hex_output_bound(void **state)
{
    uint8_t out[1];
    size_t n;
    assert_int_equal(hex_decode("1234", 4, out, sizeof(out), &n), TC_ETOOBIG);
    uint8_t exact[2];
    assert_int_equal(hex_decode_exact("0x1234", exact, 2), TC_OK);
    assert_int_equal(hex_decode_exact("0x123456", exact, 2), TC_EINVAL);
}

static void test_bytes_append_grows(void **state)
{
    struct bytes b;
    bytes_init(&b);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(bytes_push(&b, (uint8_t)i), TC_OK);
    assert_int_equal(b.len, 1000);
    assert_int_equal(b.ptr[999], (uint8_t)999);
    size_t len;
    uint8_t *p = bytes_take(&b, &len);
    assert_int_equal(len, 1000);
    assert_null(b.ptr);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex_round_trip),
        cmocka_unit_test(test_hex_rejects_odd_length_and_bad_digits),
        cmocka_unit_test(test_hex_prefix_rules),
        cmocka_unit_test(test_hex_output_bound),
        cmocka_unit_test(test_bytes_append_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
