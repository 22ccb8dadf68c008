/* test_receipt.c - receipts and logs: consensus and stored codecs, blooms and receiptsRoot. */
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
#include "chain/receipt.h"
#include "codec/rlp.h"
#include "trie/trie.h"

static const uint8_t log_data[] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01 };

/* Two logs: one with 4 topics and data, one with no topics and no data. */
static void sample_logs(struct log logs[2])
{
    memset(logs, 0, 2 * sizeof(*logs));
    memset(logs[0].address, 0x11, 20);
    logs[0].topic_count = 4;
    for (int t = 0; t < 4; t++)
        memset(logs[0].topics[t], 0xa0 + t, 32);
    logs[0].data = bytes_view_of(log_data, sizeof(log_data));
    memset(logs[1].address, 0x22, 20);
}

static struct receipt sample_receipt(uint8_t type, struct log *logs, size_t n)
{
    struct receipt r;
    memset(&r, 0, sizeof(r));
    r.type = type;
    r.status = true;
    r.cumulative_gas_used = 21000 + 53000;
    r.logs = logs;
    r.log_count = n;
    r.gas_used = 53000;
    r.tx_index = 1;
    r.effective_gas_price = u256_from_u64(7000000000ull);
    receipt_compute_bloom(&r);
    return r;
}

static void test_consensus_round_trip_for_each_type(void **state)
{
    (void)state;
    struct log logs[2];
    sample_logs(logs);
    for (uint8_t type = 0; type <= 2; type++) {
        for (size_t n = 0; n <= 2; n++) {
            struct receipt r = sample_receipt(type, logs, n);
            r.status = n != 1;
            struct bytes enc;
            bytes_init(&enc);
            assert_int_equal(receipt_encode_consensus(&r, &enc), TC_OK);
            if (type == 0)
                assert_true(enc.ptr[0] >= 0xf8);
            else
                assert_int_equal(enc.ptr[0], type);
            struct receipt back;
            const char *reason = NULL;
            assert_int_equal(receipt_decode_consensus(bytes_as_view(&enc), &back, &reason), TC_OK);
            /* The consensus form carries no stored-only fields. */
            r.gas_used = 0;
            r.tx_index = 0;
            r.effective_gas_price = u256_zero();
            assert_true(receipt_equal(&r, &back));
            struct bytes again;
            bytes_init(&again);
            assert_int_equal(receipt_encode_consensus(&back, &again), TC_OK);
            assert_true(bytes_view_eq(bytes_as_view(&enc), bytes_as_view(&again)));
            receipt_free(&back);
            bytes_free(&again);
            bytes_free(&enc);
        }
    }
}

/* Byzantium status: success is the integer 1 (0x01), failure the empty string (0x80). */
static void test_status_encodes_as_one_or_empty_string(void **state)
{
    (void)state;
    struct receipt r = sample_receipt(0, NULL, 0);
    struct bytes enc;
    bytes_init(&enc);
    assert_int_equal(receipt_encode_consensus(&r, &enc), TC_OK);
    /* f9 LL LL: a 3-byte list header, then the status. */
    assert_int_equal(enc.ptr[0], 0xf9);
    assert_int_equal(enc.ptr[3], 0x01);
    bytes_clear(&enc);
    r.status = false;
    assert_int_equal(receipt_encode_consensus(&r, &enc), TC_OK);
    assert_int_equal(enc.ptr[3], 0x80);
    bytes_free(&enc);
}

static void test_stored_round_trip_keeps_extra_fields_and_recomputes_bloom(void **state)
{
    (void)state;
    struct log logs[2];
    sample_logs(logs);
    struct receipt r = sample_receipt(2, logs, 2);
    r.has_contract_address = true;
    memset(r.contract_address, 0xcc, 20);
    r.effective_gas_price = u256_max();
    r.tx_index = UINT32_MAX;
    struct bytes enc;
    bytes_init(&enc);
    assert_int_equal(receipt_encode_stored(&r, &enc), TC_OK);
    struct receipt back;
    const char *reason = NULL;
    assert_int_equal(receipt_decode_stored(bytes_as_view(&enc), &back, &reason), TC_OK);
    assert_true(receipt_equal(&r, &back));
    assert_true(bloom_contains(back.bloom, logs[0].address, 20));
    assert_true(bloom_contains(back.bloom, logs[0].topics[3], 32));
    assert_true(bloom_contains(back.bloom, logs[1].address, 20));
    receipt_free(&back);

    r.has_contract_address = false;
    bytes_clear(&enc);
    assert_int_equal(receipt_encode_stored(&r, &enc), TC_OK);
    assert_int_equal(receipt_decode_stored(bytes_as_view(&enc), &back, &reason), TC_OK);
    assert_false(back.has_contract_address);
    assert_true(receipt_equal(&r, &back));
    receipt_free(&back);
    bytes_free(&enc);
}

static void test_consensus_decode_rejects_bloom_that_does_not_match_logs(void **state)
{
    (void)state;
    struct log logs[2];
    sample_logs(logs);
    struct receipt r = sample_receipt(2, logs, 2);
    r.bloom[0] ^= 0x01;
    struct bytes enc;
    bytes_init(&enc);
    assert_int_equal(receipt_encode_consensus(&r, &enc), TC_OK);
    struct receipt back;
    const char *reason = NULL;
    assert_int_equal(receipt_decode_consensus(bytes_as_view(&enc), &back, &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "logsBloom"));
    assert_null(back.logs);
    bytes_free(&enc);
}

/* Encodes a stored receipt with the given field items appended raw (for malformed cases). */
static int decode_stored_fields(const char *hex_fields, const char **reason)
{
    struct bytes fields, enc;
    assert_int_equal(hex_decode_alloc(hex_fields, true, &fields), TC_OK);
    bytes_init(&enc);
    assert_int_equal(rlp_encode_list_header(&enc, fields.len), TC_OK);
    assert_int_equal(bytes_append(&enc, fields.ptr, fields.len), TC_OK);
    struct receipt r;
    int rc = receipt_decode_stored(bytes_as_view(&enc), &r, reason);
    receipt_free(&r);
    bytes_free(&enc);
    bytes_free(&fields);
    return rc;
}

static void test_stored_decode_rejects_out_of_range_and_malformed_fields(void **state)
{
    (void)state;
    const char *reason = NULL;
    /* type 2, status 1, cumulative 0x5208, gasUsed 0x5208, index 0, price 1, no contract, no logs
     */
    assert_int_equal(decode_stored_fields("0201825208825208800180c0", &reason), TC_OK);
    assert_int_equal(decode_stored_fields("0202825208825208800180c0", &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "status"));
    assert_int_equal(decode_stored_fields("0301825208825208800180c0", &reason), TC_EUNSUPPORTED);
    /* txIndex 2^32 does not fit in 32 bits */
    assert_int_equal(decode_stored_fields("02018252088252088501000000000180c0", &reason),
                     TC_ERANGE);
    /* a contract address of 19 bytes */
    assert_int_equal(decode_stored_fields("0201825208825208800193"
                                          "11111111111111111111111111111111111111"
                                          "c0",
                                          &reason),
                     TC_ERANGE);
    /* logs missing, an extra field, logs that are a string */
    assert_int_equal(decode_stored_fields("0201825208825208800180", &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "logs"));
    assert_int_equal(decode_stored_fields("0201825208825208800180c080", &reason), TC_EINVAL);
    assert_int_equal(decode_stored_fields("020182520882520880018080", &reason), TC_EINVAL);
    /* gasUsed with a leading zero byte */
    assert_int_equal(decode_stored_fields("020182520883005208800180c0", &reason), TC_ENONCANONICAL);
}

static void test_log_bounds_are_enforced_both_ways(void **state)
{
    (void)state;
    const char *reason = NULL;
    struct log logs[2];
    sample_logs(logs);
    struct receipt r = sample_receipt(0, logs, 1);
    struct bytes enc;
    bytes_init(&enc);
    logs[0].topic_count = 5;
    assert_int_equal(receipt_encode_stored(&r, &enc), TC_ETOOBIG);
    assert_int_equal(enc.len, 0);

    /* A log with five topics, written by hand: [addr, [t, t, t, t, t], ""]. */
    struct bytes fields;
    bytes_init(&fields);
    assert_int_equal(hex_decode_alloc("8001825208825208800180", true, &fields), TC_OK);
    size_t all_logs = rlp_list_begin(&fields);
    size_t one = rlp_list_begin(&fields);
    assert_int_equal(rlp_encode_bytes(&fields, logs[0].address, 20), TC_OK);
    size_t topics = rlp_list_begin(&fields);
    for (int t = 0; t < 5; t++)
        assert_int_equal(rlp_encode_bytes(&fields, logs[0].topics[0], 32), TC_OK);
    assert_int_equal(rlp_list_end(&fields, topics), TC_OK);
    assert_int_equal(rlp_encode_bytes(&fields, "", 0), TC_OK);
    assert_int_equal(rlp_list_end(&fields, one), TC_OK);
    assert_int_equal(rlp_list_end(&fields, all_logs), TC_OK);
    assert_int_equal(rlp_encode_list_header(&enc, fields.len), TC_OK);
    assert_int_equal(bytes_append(&enc, fields.ptr, fields.len), TC_OK);
    struct receipt back;
    assert_int_equal(receipt_decode_stored(bytes_as_view(&enc), &back, &reason), TC_ETOOBIG);
    assert_non_null(strstr(reason, "topics"));
    receipt_free(&back);
    bytes_free(&fields);
    bytes_free(&enc);
}

static void test_receipt_root_is_ordered_trie_of_consensus_encodings(void **state)
{
    (void)state;
    struct log logs[2];
    sample_logs(logs);
    struct receipt rs[3] = { sample_receipt(0, NULL, 0), sample_receipt(1, logs, 1),
                             sample_receipt(2, logs, 2) };
    struct bytes enc[3];
    struct bytes_view views[3];
    for (int i = 0; i < 3; i++) {
        bytes_init(&enc[i]);
        assert_int_equal(receipt_encode_consensus(&rs[i], &enc[i]), TC_OK);
        views[i] = bytes_as_view(&enc[i]);
    }
    uint8_t want[32], got[32];
    assert_int_equal(trie_ordered_root(views, 3, want), TC_OK);
    assert_int_equal(receipt_root(rs, 3, got), TC_OK);
    assert_memory_equal(got, want, 32);
    assert_int_equal(receipt_root(rs, 0, got), TC_OK);
    assert_memory_equal(got, trie_empty_root, 32);
    for (int i = 0; i < 3; i++)
        bytes_free(&enc[i]);

    uint8_t block_bloom[BLOOM_BYTES], want_bloom[BLOOM_BYTES];
    receipt_block_bloom(rs, 3, block_bloom);
    memcpy(want_bloom, rs[1].bloom, BLOOM_BYTES);
    bloom_or(want_bloom, rs[2].bloom);
    assert_memory_equal(block_bloom, want_bloom, BLOOM_BYTES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consensus_round_trip_for_each_type),
        cmocka_unit_test(test_status_encodes_as_one_or_empty_string),
        cmocka_unit_test(test_stored_round_trip_keeps_extra_fields_and_recomputes_bloom),
        cmocka_unit_test(test_consensus_decode_rejects_bloom_that_does_not_match_logs),
        cmocka_unit_test(test_stored_decode_rejects_out_of_range_and_malformed_fields),
        cmocka_unit_test(test_log_bounds_are_enforced_both_ways),
        cmocka_unit_test(test_receipt_root_is_ordered_trie_of_consensus_encodings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
