/* test_rlp.c - RLP encoder and strict decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "base/error.h"
#include "base/rng.h"
#include "base/u256.h"
#include "codec/rlp.h"

static uint64_t test_seed;

/* Decodes hex (no prefix) into a static buffer; returns a view of it. */
static struct bytes_view hexv(const char *hex)
{
    static uint8_t buf[4096];
    size_t n = 0;
    assert_int_equal(hex_decode(hex, strlen(hex), buf, sizeof(buf), &n), TC_OK);
    return bytes_view_of(buf, n);
}

static void assert_bytes_hex(const struct bytes *b, const char *hex)
{
    char out[2 * 1024 + 1];
    assert_true(b->len <= 1024);
    hex_encode(b->ptr, b->len, out);
    assert_string_equal(out, hex);
}

static void test_encode_single_byte_below_0x80_is_itself(void **state)
{
    struct bytes b;
    bytes_init(&b);
    uint8_t x = 0x7f, y = 0x80, z = 0x00;
    assert_int_equal(rlp_encode_bytes(&b, &x, 1), TC_OK);
    assert_int_equal(rlp_encode_bytes(&b, &y, 1), TC_OK);
    assert_int_equal(rlp_encode_bytes(&b, &z, 1), TC_OK);
    assert_int_equal(rlp_encode_bytes(&b, NULL, 0), TC_OK);
    assert_bytes_hex(&b, "7f818000"
                         "80");
    bytes_free(&b);
}

static void test_encode_string_header_switches_to_long_form_at_56(void **state)
{
    uint8_t data[1024];
    memset(data, 'a', sizeof(data));
    struct bytes b;
    bytes_init(&b);
    assert_int_equal(rlp_encode_bytes(&b, data, 55), TC_OK);
    assert_int_equal(b.len, 56);
    assert_int_equal(b.ptr[0], 0xb7);
    bytes_clear(&b);
    assert_int_equal(rlp_encode_bytes(&b, data, 56), TC_OK);
    assert_int_equal(b.len, 58);
    assert_int_equal(b.ptr[0], 0xb8);
    assert_int_equal(b.ptr[1], 56);
    bytes_clear(&b);
    assert_int_equal(rlp_encode_bytes(&b, data, 1024), TC_OK);
    assert_int_equal(b.ptr[0], 0xb9);
    assert_int_equal(b.ptr[1], 0x04);
    assert_int_equal(b.ptr[2], 0x00);
    assert_int_equal(b.len, 1027);
    bytes_free(&b);
}

static void test_encode_integers_minimal_big_endian(void **state)
{
    struct bytes b;
    bytes_init(&b);
    assert_int_equal(rlp_encode_u64(&b, 0), TC_OK);
    assert_int_equal(rlp_encode_u64(&b, 15), TC_OK);
    assert_int_equal(rlp_encode_u64(&b, 127), TC_OK);
    assert_int_equal(rlp_encode_u64(&b, 128), TC_OK);
    assert_int_equal(rlp_encode_u64(&b, 1024), TC_OK);
    assert_int_equal(rlp_encode_u64(&b, UINT64_MAX), TC_OK);
    assert_bytes_hex(&b, "80"
                         "0f"
                         "7f"
                         "8180"
                         "820400"
                         "88ffffffffffffffff");
    bytes_clear(&b);
    u256 v = u256_zero();
    v.w[3] = (uint64_t)1 << 63;
    assert_int_equal(rlp_encode_u256(&b, u256_zero()), TC_OK);
    assert_int_equal(rlp_encode_u256(&b, v), TC_OK);
    assert_bytes_hex(&b, "80"
                         "a0"
                         "8000000000000000000000000000000000000000000000000000000000000000");
    bytes_clear(&b);
    const uint8_t padded[] = { 0, 0, 0x01, 0x00 };
    assert_int_equal(rlp_encode_uint_be(&b, padded, sizeof(padded)), TC_OK);
    assert_bytes_hex(&b, "820100");
    bytes_free(&b);
}

static void test_list_end_writes_header_for_short_and_long_lists(void **state)
{
    struct bytes b;
    bytes_init(&b);
    /* [ "cat", ["dog"], [] ] */
    size_t outer = rlp_list_begin(&b);
    assert_int_equal(rlp_encode_bytes(&b, "cat", 3), TC_OK);
    size_t inner = rlp_list_begin(&b);
    assert_int_equal(rlp_encode_bytes(&b, "dog", 3), TC_OK);
    assert_int_equal(rlp_list_end(&b, inner), TC_OK);
    size_t empty = rlp_list_begin(&b);
    assert_int_equal(rlp_list_end(&b, empty), TC_OK);
    assert_int_equal(rlp_list_end(&b, outer), TC_OK);
    assert_bytes_hex(&b, "ca"
                         "83636174"
                         "c483646f67"
                         "c0");
    bytes_clear(&b);
    /* A list of 60 one-byte items: payload 60 > 55, header f83c. */
    size_t mark = rlp_list_begin(&b);
    for (int i = 0; i < 60; i++)
        assert_int_equal(rlp_encode_u64(&b, 1), TC_OK);
    assert_int_equal(rlp_list_end(&b, mark), TC_OK);
    assert_int_equal(b.len, 62);
    assert_int_equal(b.ptr[0], 0xf8);
    assert_int_equal(b.ptr[1], 60);
    assert_int_equal(b.ptr[2], 0x01);
    assert_int_equal(rlp_validate(bytes_as_view(&b), RLP_MAX_DEPTH), TC_OK);
    bytes_clear(&b);
    assert_int_equal(rlp_encode_list_header(&b, 60), TC_OK);
    assert_bytes_hex(&b, "f83c");
    assert_int_equal(rlp_header_size(55), 1);
    assert_int_equal(rlp_header_size(56), 2);
    assert_int_equal(rlp_header_size(65536), 4);
    bytes_free(&b);
}

static void test_decode_rejects_single_byte_wrapped_as_string(void **state)
{
    struct rlp_item item;
    assert_int_equal(rlp_decode_top(hexv("8105"), &item), TC_ENONCANONICAL);
    assert_int_equal(rlp_decode_top(hexv("8100"), &item), TC_ENONCANONICAL);
    assert_int_equal(rlp_decode_top(hexv("817f"), &item), TC_ENONCANONICAL);
    assert_int_equal(rlp_decode_top(hexv("8180"), &item), TC_OK);
    assert_int_equal(item.payload.len, 1);
    assert_int_equal(item.payload.ptr[0], 0x80);
}

static void test_decode_rejects_long_form_for_short_payload(void **state)
{
    struct rlp_item item;
    /* 0xb8 0x05: a 5-byte string in the long form. */
    assert_int_equal(rlp_decode_top(hexv("b8056162636465"), &item), TC_ENONCANONICAL);
    assert_int_equal(rlp_decode_top(hexv("f80180"), &item), TC_ENONCANONICAL);
    assert_int_equal(rlp_decode_top(hexv("b837"
                                         "00000000000000000000000000000000000000000000000000"
                                         "0000000000000000000000000000000000000000000000000000"
                                         "000000000000"),
                                    &item),
                     TC_ENONCANONICAL);
}

static void test_decode_rejects_leading_zero_in_length(void **state)
{
    char hex[2 * 300 + 16] = "b90040";
    for (int i = 0; i < 64; i++)
        strcat(hex, "61");
    struct rlp_item item;
    assert_int_equal(rlp_decode_top(hexv(hex), &item), TC_ENONCANONICAL);
    assert_int_equal(rlp_decode_top(hexv("f9004000"), &item), TC_ENONCANONICAL);
}

static void test_decode_rejects_lengths_past_the_input(void **state)
{
    struct rlp_item item;
    assert_int_equal(rlp_decode_top(bytes_view_of(NULL, 0), &item), TC_ETRUNCATED);
    assert_int_equal(rlp_decode_top(hexv("83616263"), &item), TC_OK);
    assert_int_equal(rlp_decode_top(hexv("836162"), &item), TC_ETRUNCATED);
    assert_int_equal(rlp_decode_top(hexv("81"), &item), TC_ETRUNCATED);
    assert_int_equal(rlp_decode_top(hexv("b9"), &item), TC_ETRUNCATED);
    assert_int_equal(rlp_decode_top(hexv("b901"), &item), TC_ETRUNCATED);
    assert_int_equal(rlp_decode_top(hexv("c3"), &item), TC_ETRUNCATED);
    /* Lengths near 2^64: must not wrap around when added to the header size. */
    assert_int_equal(rlp_decode_top(hexv("bfffffffffffffffff00"), &item), TC_ETRUNCATED);
    assert_int_equal(rlp_decode_top(hexv("fffffffffffffffff7"), &item), TC_ETRUNCATED);
    assert_int_equal(rlp_decode_top(hexv("bf0f000000000000021111"), &item), TC_ETRUNCATED);
}

static void test_decode_rejects_trailing_bytes_after_top_item(void **state)
{
    struct rlp_item item;
    assert_int_equal(rlp_decode_top(hexv("8361626300"), &item), TC_ETRAILING);
    assert_int_equal(rlp_validate(hexv("c0c0"), RLP_MAX_DEPTH), TC_ETRAILING);
    assert_int_equal(rlp_decode_item(hexv("8361626300"), &item), TC_OK);
    assert_int_equal(item.raw.len, 4);
}

static void test_validate_checks_nested_items(void **state)
{
    /* A list whose second item is a non-canonical string. */
    assert_int_equal(rlp_validate(hexv("c4"
                                       "01"
                                       "8105"
                                       "c0"),
                                  RLP_MAX_DEPTH),
                     TC_ENONCANONICAL);
    /* A nested list whose length overruns its parent. */
    assert_int_equal(rlp_validate(hexv("c2"
                                       "c3"
                                       "01"),
                                  RLP_MAX_DEPTH),
                     TC_ETRUNCATED);
    assert_int_equal(rlp_validate(hexv("c7c0c1c0c3c0c1c0"), RLP_MAX_DEPTH), TC_OK);
}

static void test_validate_rejects_nesting_beyond_bound(void **state)
{
    /* `depth` lists, each holding the next: [[[...[]...]]]. */
    for (size_t depth = RLP_MAX_DEPTH; depth <= RLP_MAX_DEPTH + 1; depth++) {
        struct bytes b;
        bytes_init(&b);
        size_t marks[RLP_MAX_DEPTH + 1];
        for (size_t i = 0; i < depth; i++)
            marks[i] = rlp_list_begin(&b);
        for (size_t i = depth; i-- > 0;)
            assert_int_equal(rlp_list_end(&b, marks[i]), TC_OK);
        int want = depth <= RLP_MAX_DEPTH ? TC_OK : TC_ETOODEEP;
        assert_int_equal(rlp_validate(bytes_as_view(&b), RLP_MAX_DEPTH), want);
        assert_int_equal(rlp_validate(bytes_as_view(&b), 3), TC_ETOODEEP);
        assert_int_equal(rlp_validate(bytes_as_view(&b), 1000), want);
        bytes_free(&b);
    }
    assert_int_equal(rlp_validate(hexv("c0"), 0), TC_ETOODEEP);
    assert_int_equal(rlp_validate(hexv("80"), 0), TC_OK);
}

static void test_decode_u64_rejects_leading_zeros_and_overflow(void **state)
{
    struct rlp_item item;
    uint64_t v;
    assert_int_equal(rlp_decode_top(hexv("820001"), &item), TC_OK);
    assert_int_equal(rlp_decode_u64(&item, &v), TC_ENONCANONICAL);
    assert_int_equal(rlp_decode_top(hexv("00"), &item), TC_OK);
    assert_int_equal(rlp_decode_u64(&item, &v), TC_ENONCANONICAL);
    assert_int_equal(rlp_decode_top(hexv("89010000000000000000"), &item), TC_OK);
    assert_int_equal(rlp_decode_u64(&item, &v), TC_ERANGE);
    assert_int_equal(rlp_decode_top(hexv("88ffffffffffffffff"), &item), TC_OK);
    assert_int_equal(rlp_decode_u64(&item, &v), TC_OK);
    assert_true(v == UINT64_MAX);
    assert_int_equal(rlp_decode_top(hexv("80"), &item), TC_OK);
    assert_int_equal(rlp_decode_u64(&item, &v), TC_OK);
    assert_true(v == 0);
    assert_int_equal(rlp_decode_top(hexv("c0"), &item), TC_OK);
    assert_int_equal(rlp_decode_u64(&item, &v), TC_EINVAL);
}

static void test_decode_u256_accepts_32_bytes_only(void **state)
{
    char hex[2 * 40] = "a1";
    for (int i = 0; i < 33; i++)
        strcat(hex, "01");
    struct rlp_item item;
    u256 v;
    assert_int_equal(rlp_decode_top(hexv(hex), &item), TC_OK);
    assert_int_equal(rlp_decode_u256(&item, &v), TC_ERANGE);
    hex[1] = '0'; /* a0 + 32 bytes */
    hex[strlen(hex) - 2] = '\0';
    assert_int_equal(rlp_decode_top(hexv(hex), &item), TC_OK);
    assert_int_equal(rlp_decode_u256(&item, &v), TC_OK);
    assert_true(v.w[0] == 0x0101010101010101ull && v.w[3] == 0x0101010101010101ull);
}

static void test_decode_bytes_fixed_checks_size_and_empty(void **state)
{
    struct rlp_item item;
    uint8_t addr[20];
    bool empty = true;
    assert_int_equal(rlp_decode_top(hexv("94"
                                         "095e7baea6a6c7c4c2dfeb977efac326af552d87"),
                                    &item),
                     TC_OK);
    assert_int_equal(rlp_decode_bytes_fixed(&item, 20, false, addr, &empty), TC_OK);
    assert_false(empty);
    assert_int_equal(addr[0], 0x09);
    assert_int_equal(rlp_decode_bytes_fixed(&item, 32, false, addr, NULL), TC_ERANGE);
    assert_int_equal(rlp_decode_top(hexv("80"), &item), TC_OK);
    assert_int_equal(rlp_decode_bytes_fixed(&item, 20, false, addr, NULL), TC_ERANGE);
    assert_int_equal(rlp_decode_bytes_fixed(&item, 20, true, addr, &empty), TC_OK);
    assert_true(empty);
    assert_int_equal(rlp_decode_top(hexv("c0"), &item), TC_OK);
    assert_int_equal(rlp_decode_bytes_fixed(&item, 20, true, addr, NULL), TC_EINVAL);
}

static void test_iter_walks_items_and_reports_end(void **state)
{
    struct rlp_item list, item;
    struct rlp_iter it;
    struct bytes_view s;
    size_t count = 0;
    assert_int_equal(rlp_decode_top(hexv("cc83646f6783676f6483636174"), &list), TC_OK);
    assert_int_equal(list.kind, RLP_LIST);
    assert_int_equal(rlp_list_count(&list, &count), TC_OK);
    assert_int_equal(count, 3);
    assert_int_equal(rlp_iter_init(&it, &list), TC_OK);
    assert_int_equal(rlp_iter_next(&it, &item), TC_OK);
    assert_int_equal(rlp_decode_string(&item, &s), TC_OK);
    assert_memory_equal(s.ptr, "dog", 3);
    assert_int_equal(rlp_iter_end(&it), TC_ETRAILING);
    assert_int_equal(rlp_iter_next(&it, &item), TC_OK);
    assert_int_equal(rlp_iter_next(&it, &item), TC_OK);
    assert_false(rlp_iter_has_next(&it));
    assert_int_equal(rlp_iter_end(&it), TC_OK);
    assert_int_equal(rlp_iter_next(&it, &item), TC_ENOTFOUND);
    assert_int_equal(rlp_decode_top(hexv("83636174"), &item), TC_OK);
    assert_int_equal(rlp_iter_init(&it, &item), TC_EINVAL);
}

/* Appends a random nested item (lists up to 6 deep) to b. */
static void random_item(struct rng *r, struct bytes *b, unsigned depth)
{
    if (depth < 6 && rng_below(r, 3) == 0) {
        size_t mark = rlp_list_begin(b);
        size_t n = rng_below(r, 6);
        for (size_t i = 0; i < n; i++)
            random_item(r, b, depth + 1);
        assert_int_equal(rlp_list_end(b, mark), TC_OK);
        return;
    }
    uint8_t data[200];
    size_t len = rng_below(r, 4) == 0 ? rng_below(r, sizeof(data)) : rng_below(r, 3);
    rng_fill(r, data, len);
    assert_int_equal(rlp_encode_bytes(b, data, len), TC_OK);
}

/* Re-encodes a validated item: canonical input must round-trip. */
static void reencode(const struct rlp_item *item, struct bytes *out)
{
    if (item->kind == RLP_STRING) {
        assert_int_equal(rlp_encode_bytes(out, item->payload.ptr, item->payload.len), TC_OK);
        return;
    }
    struct rlp_iter it;
    struct rlp_item child;
    size_t mark = rlp_list_begin(out);
    assert_int_equal(rlp_iter_init(&it, item), TC_OK);
    while (rlp_iter_has_next(&it)) {
        assert_int_equal(rlp_iter_next(&it, &child), TC_OK);
        reencode(&child, out);
    }
    assert_int_equal(rlp_list_end(out, mark), TC_OK);
}

static void test_random_structures_round_trip(void **state)
{
    struct rng r;
    rng_seed(&r, test_seed);
    struct bytes b, again;
    bytes_init(&b);
    bytes_init(&again);
    for (int i = 0; i < 2000; i++) {
        bytes_clear(&b);
        bytes_clear(&again);
        random_item(&r, &b, 0);
        assert_int_equal(rlp_validate(bytes_as_view(&b), RLP_MAX_DEPTH), TC_OK);
        struct rlp_item top;
        assert_int_equal(rlp_decode_top(bytes_as_view(&b), &top), TC_OK);
        reencode(&top, &again);
        assert_true(bytes_view_eq(bytes_as_view(&again), bytes_as_view(&b)));
        /* Any single-byte change must still be rejected or be canonical. */
        size_t at = rng_below(&r, b.len);
        b.ptr[at] ^= (uint8_t)(1 + rng_below(&r, 255));
        if (rlp_validate(bytes_as_view(&b), RLP_MAX_DEPTH) == TC_OK) {
            assert_int_equal(rlp_decode_top(bytes_as_view(&b), &top), TC_OK);
            bytes_clear(&again);
            reencode(&top, &again);
            assert_true(bytes_view_eq(bytes_as_view(&again), bytes_as_view(&b)));
        }
    }
    bytes_free(&again);
    bytes_free(&b);
}

int main(void)
{
    const char *env = getenv("TC_SEED");
    test_seed = env ? strtoull(env, NULL, 0) : 20261124;
    printf("test_rlp: seed %llu (set TC_SEED to replay)\n", (unsigned long long)test_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_single_byte_below_0x80_is_itself),
        cmocka_unit_test(test_encode_string_header_switches_to_long_form_at_56),
        cmocka_unit_test(test_encode_integers_minimal_big_endian),
        cmocka_unit_test(test_list_end_writes_header_for_short_and_long_lists),
        cmocka_unit_test(test_decode_rejects_single_byte_wrapped_as_string),
        cmocka_unit_test(test_decode_rejects_long_form_for_short_payload),
        cmocka_unit_test(test_decode_rejects_leading_zero_in_length),
        cmocka_unit_test(test_decode_rejects_lengths_past_the_input),
        cmocka_unit_test(test_decode_rejects_trailing_bytes_after_top_item),
        cmocka_unit_test(test_validate_checks_nested_items),
        cmocka_unit_test(test_validate_rejects_nesting_beyond_bound),
        cmocka_unit_test(test_decode_u64_rejects_leading_zeros_and_overflow),
        cmocka_unit_test(test_decode_u256_accepts_32_bytes_only),
        cmocka_unit_test(test_decode_bytes_fixed_checks_size_and_empty),
        cmocka_unit_test(test_iter_walks_items_and_reports_end),
        cmocka_unit_test(test_random_structures_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
