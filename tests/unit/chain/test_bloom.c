/* test_bloom.c - the 2048-bit logs bloom against published vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "base/error.h"
#include "chain/bloom.h"
#include "crypto/keccak.h"

/*
 * keccak256("") = c5d2460186f7...: the pairs c5d2, 4601, 86f7 give bits
 * 1490, 1537 and 1783, i.e. bytes 69, 63 and 33 of the big-endian bloom.
 */
static void test_empty_item_sets_bits_from_first_three_hash_pairs(void **state)
{
    (void)state;
    uint8_t bloom[BLOOM_BYTES] = { 0 };
    uint8_t want[BLOOM_BYTES] = { 0 };
    bloom_add(bloom, "", 0);
    want[69] = 0x04;
    want[63] = 0x02;
    want[33] = 0x80;
    assert_memory_equal(bloom, want, BLOOM_BYTES);
}

/*
 * go-ethereum core/types/bloom9_test.go, TestBloomExtensively: 100 items,
 * keccak256 of the resulting bloom.
 */
static void test_hundred_items_match_go_ethereum_vector(void **state)
{
    (void)state;
    uint8_t bloom[BLOOM_BYTES] = { 0 };
    for (int i = 0; i < 100; i++) {
        char item[64];
        int n = snprintf(item, sizeof(item), "xxxxxxxxxx data %d yyyyyyyyyyyyyy", i);
        bloom_add(bloom, item, (size_t)n);
    }
    uint8_t digest[32], want[32];
    keccak256(bloom, sizeof(bloom), digest);
    assert_int_equal(
        hex_decode_exact("c8d3ca65cdb4874300a9e39475508f23ed6da09fdbc487f89a2dcf50b09eb263", want,
                         32),
        TC_OK);
    assert_memory_equal(digest, want, 32);
}

/* go-ethereum TestBloom: these positives, and these two negatives that do not collide. */
static void test_contains_added_items_and_rejects_absent_ones(void **state)
{
    (void)state;
    static const char *positive[] = { "testtest", "test", "hallo", "other" };
    static const char *negative[] = { "tes", "lo" };
    uint8_t bloom[BLOOM_BYTES] = { 0 };
    for (size_t i = 0; i < 4; i++)
        bloom_add(bloom, positive[i], strlen(positive[i]));
    for (size_t i = 0; i < 4; i++)
        assert_true(bloom_contains(bloom, positive[i], strlen(positive[i])));
    for (size_t i = 0; i < 2; i++)
        assert_false(bloom_contains(bloom, negative[i], strlen(negative[i])));
}

static void test_or_is_the_union_of_two_blooms(void **state)
{
    (void)state;
    uint8_t a[BLOOM_BYTES] = { 0 }, b[BLOOM_BYTES] = { 0 }, both[BLOOM_BYTES] = { 0 };
    bloom_add(a, "alpha", 5);
    bloom_add(b, "beta", 4);
    bloom_add(both, "alpha", 5);
    bloom_add(both, "beta", 4);
    assert_false(bloom_contains(a, "beta", 4));
    bloom_or(a, b);
    assert_memory_equal(a, both, BLOOM_BYTES);
    assert_true(bloom_contains(a, "beta", 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_item_sets_bits_from_first_three_hash_pairs),
        cmocka_unit_test(test_hundred_items_match_go_ethereum_vector),
        cmocka_unit_test(test_contains_added_items_and_rejects_absent_ones),
        cmocka_unit_test(test_or_is_the_union_of_two_blooms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
