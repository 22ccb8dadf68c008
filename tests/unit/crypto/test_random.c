/* test_random.c - crypto_random fills whole buffers, and successive draws differ. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/error.h"
#include "crypto/random.h"

static void test_fills_the_whole_buffer(void **state)
{
    /* Every byte of a 4 KiB buffer is overwritten at least once in a few
     * draws: a stale 0x00 or 0xff byte surviving 8 draws has probability
     * 4096 * 2 * 2^-64. */
    uint8_t seen_not_zero[4096] = { 0 }, seen_not_ff[4096] = { 0 }, buf[4096];
    for (int draw = 0; draw < 8; draw++) {
        memset(buf, draw % 2 ? 0xff : 0x00, sizeof(buf));
        assert_int_equal(crypto_random(buf, sizeof(buf)), TC_OK);
        for (size_t i = 0; i < sizeof(buf); i++) {
            seen_not_zero[i] |= buf[i] != 0x00;
            seen_not_ff[i] |= buf[i] != 0xff;
        }
    }
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_true(seen_not_zero[i] && seen_not_ff[i]);
}

static void test_successive_draws_differ(void **state)
{
    uint8_t a[32], b[32];
    assert_int_equal(crypto_random(a, sizeof(a)), TC_OK);
    assert_int_equal(crypto_random(b, sizeof(b)), TC_OK);
    assert_memory_not_equal(a, b, sizeof(a));
}

static void test_zero_length_is_a_no_op(void **state)
{
    uint8_t guard = 0x5c;
    assert_int_equal(crypto_random(&guard, 0), TC_OK);
    assert_int_equal(guard, 0x5c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fills_the_whole_buffer),
        cmocka_unit_test(test_successive_draws_differ),
        cmocka_unit_test(test_zero_length_is_a_no_op),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
