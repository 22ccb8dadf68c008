/* test_rng.c - the seeded RNG replays, stays in bounds, and logging levels parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"

static void test_same_seed_same_sequence(void **state)
{
    struct rng a, b;
    rng_seed(&a, 42);
    rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(rng_next(&a), rng_next(&b));
    rng_seed(&b, 43);
    rng_seed(&a, 42);
    int same = 0;
    for (int i = 0; i < 100; i++)
        same += rng_next(&a) == rng_next(&b);
    assert_true(same < 2);
}

static void test_known_first_output(void **state)
{
    /* Pins the algorithm: a change of generator would silently change every
     * printed simulator seed's meaning. */
    struct rng r;
    rng_seed(&r, 0);
    uint64_t first = rng_next(&r);
    rng_seed(&r, 0);
    assert_int_equal(first, rng_next(&r));
    assert_int_equal(first, 0x99ec5f36cb75f2b4ULL);
}

static void test_below_and_range_stay_in_bounds(void **state)
{
    struct rng r;
    rng_seed(&r, 7);
    int hist[10] = { 0 };
    for (int i = 0; i < 100000; i++) {
        uint64_t x = rng_below(&r, 10);
        assert_true(x < 10);
        hist[x]++;
        uint64_t y = rng_range(&r, 5, 9);
        assert_true(y >= 5 && y <= 9);
    }
    for (int i = 0; i < 10; i++)
        assert_true(hist[i] > 9000 && hist[i] < 11000);
}

static void test_log_level_parse(void **state)
{
    enum log_level l;
    assert_int_equal(log_parse_level("WARNING", &l), TC_OK);
    assert_int_equal(l, LOG_WARN);
    assert_int_equal(log_parse_level("loud", &l), TC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_sequence),
        cmocka_unit_test(test_known_first_output),
        cmocka_unit_test(test_below_and_range_stay_in_bounds),
        cmocka_unit_test(test_log_level_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
