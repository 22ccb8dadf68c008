/* test_entry.c - the Raft BLOCK entry: round trips, strict decoding and each consistency check. */
#include <dirent.h>
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
#include "chain/entry.h"
#include "codec/rlp.h"

#include "chain_fixture.h"

static void test_entry_round_trip_is_byte_exact_and_passes_checks(void **state)
{
    (void)state;
    static const size_t sizes[] = { 0, 1, 2, 25 };
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        struct chain_fixture f;
        assert_int_equal(chain_fixture_build(&f, sizes[k], 7), TC_OK);
        struct bytes enc, again;
        bytes_init(&enc);
        bytes_init(&again);
        assert_int_equal(chain_fixture_encode(&f, &enc), TC_OK);
        struct block_entry e;
        const char *reason = NULL;
        assert_int_equal(block_entry_decode(bytes_as_view(&enc), &e, &reason), TC_OK);
        assert_int_equal(e.block.tx_count, sizes[k]);
        assert_int_equal(e.receipt_count, sizes[k]);
        for (size_t i = 0; i < sizes[k]; i++)
            assert_true(receipt_equal(&e.receipts[i], &f.receipts[i]));
        assert_true(writeset_equal(&e.writeset, &f.ws));
        assert_int_equal(block_entry_check(&e, f.parent_state_root, &reason), TC_OK);
        uint8_t sealer[1][20];
        memcpy(sealer[0], f.block.header.coinbase, 20);
        assert_int_equal(block_verify_seal(&e.block, (const uint8_t(*)[20])sealer, 1, &reason),
                         TC_OK);
        assert_int_equal(
            block_entry_encode(&e.block, e.receipts, e.receipt_count, &e.writeset, &again), TC_OK);
        assert_true(bytes_view_eq(bytes_as_view(&enc), bytes_as_view(&again)));
        block_entry_free(&e);
        bytes_free(&again);
        bytes_free(&enc);
        chain_fixture_free(&f);
    }
}

enum corruption {
    CORRUPT_NONE,
    CORRUPT_RECEIPT_COUNT,
    CORRUPT_CUMULATIVE_GAS,
    CORRUPT_ZERO_GAS,
    CORRUPT_HEADER_GAS_USED,
    CORRUPT_RECEIPTS_ROOT,
    CORRUPT_RECEIPT_STATUS,
    CORRUPT_LOGS_BLOOM,
    CORRUPT_STATE_ROOT,
    CORRUPT_WRITESET,
    CORRUPT_TX_INDEX,
    CORRUPT_RECEIPT_TYPE,
    CORRUPT_TRANSACTIONS_ROOT,
};

/*
 * Builds a 6-transaction fixture, applies one corruption to what the leader
 * would encode (re-sealing, so that only the targeted check can fail), then
 * encodes, decodes and checks.
 */
static int check_with(enum corruption c, const char **reason)
{
    struct chain_fixture f;
    assert_int_equal(chain_fixture_build(&f, 6, 3), TC_OK);
    size_t n = f.n;
    uint8_t parent[32];
    memcpy(parent, f.parent_state_root, 32);
    switch (c) {
    case CORRUPT_NONE:
        break;
    case CORRUPT_RECEIPT_COUNT:
        n--;
        break;
    case CORRUPT_CUMULATIVE_GAS:
        f.receipts[2].cumulative_gas_used++;
        break;
    case CORRUPT_ZERO_GAS:
        f.receipts[5].gas_used = 0;
        f.receipts[5].cumulative_gas_used = f.receipts[4].cumulative_gas_used;
        break;
    case CORRUPT_HEADER_GAS_USED:
        f.block.header.gas_used--;
        break;
    case CORRUPT_RECEIPTS_ROOT:
        f.block.header.receipts_root[9] ^= 0x40;
        break;
    case CORRUPT_RECEIPT_STATUS:
        f.receipts[1].status = !f.receipts[1].status;
        break;
    case CORRUPT_LOGS_BLOOM:
        f.block.header.logs_bloom[100] ^= 0x01;
        break;
    case CORRUPT_STATE_ROOT:
        parent[0] ^= 1;
        break;
    case CORRUPT_WRITESET:
        assert_int_equal(writeset_put(&f.ws, WRITESET_NS_CODE, "extra", 5, "x", 1), TC_OK);
        writeset_canonicalize(&f.ws);
        break;
    case CORRUPT_TX_INDEX:
        f.receipts[4].tx_index = 3;
        break;
    case CORRUPT_RECEIPT_TYPE:
        f.receipts[1].type = (uint8_t)((f.receipts[1].type + 1) % 3);
        break;
    case CORRUPT_TRANSACTIONS_ROOT:
        f.block.header.transactions_root[31] ^= 0x80;
        break;
    }
    assert_int_equal(block_seal(&f.block, chain_fixture_key), TC_OK);
    struct bytes enc;
    bytes_init(&enc);
    assert_int_equal(block_entry_encode(&f.block, f.receipts, n, &f.ws, &enc), TC_OK);
    struct block_entry e;
    assert_int_equal(block_entry_decode(bytes_as_view(&enc), &e, reason), TC_OK);
    int rc = block_entry_check(&e, parent, reason);
    block_entry_free(&e);
    bytes_free(&enc);
    chain_fixture_free(&f);
    return rc;
}

static void expect_check_failure(enum corruption c, const char *needle)
{
    const char *reason = NULL;
    assert_int_equal(check_with(c, &reason), TC_EINVAL);
    assert_non_null(reason);
    if (!strstr(reason, needle))
        fail_msg("corruption %d: reason \"%s\" does not mention \"%s\"", (int)c, reason, needle);
}

static void test_each_consistency_check_fails_on_its_corruption(void **state)
{
    (void)state;
    const char *reason = NULL;
    assert_int_equal(check_with(CORRUPT_NONE, &reason), TC_OK);
    expect_check_failure(CORRUPT_RECEIPT_COUNT, "receipt count");
    expect_check_failure(CORRUPT_CUMULATIVE_GAS, "cumulativeGasUsed");
    expect_check_failure(CORRUPT_ZERO_GAS, "cumulativeGasUsed");
    expect_check_failure(CORRUPT_HEADER_GAS_USED, "gasUsed");
    expect_check_failure(CORRUPT_RECEIPTS_ROOT, "receiptsRoot");
    expect_check_failure(CORRUPT_RECEIPT_STATUS, "receiptsRoot");
    expect_check_failure(CORRUPT_LOGS_BLOOM, "logsBloom");
    expect_check_failure(CORRUPT_STATE_ROOT, "stateRoot");
    expect_check_failure(CORRUPT_WRITESET, "stateRoot");
    expect_check_failure(CORRUPT_TX_INDEX, "txIndex");
    expect_check_failure(CORRUPT_RECEIPT_TYPE, "type");
    expect_check_failure(CORRUPT_TRANSACTIONS_ROOT, "transactionsRoot");
}

/* Wraps raw item encodings (hex each) into the entry list. */
static int decode_parts(const struct chain_fixture *f, const char *version_hex, bool with_block,
                        const char *receipts_hex, const char *writeset_hex, const char *extra_hex,
                        const char **reason)
{
    struct bytes payload, part;
    bytes_init(&payload);
    const char *hexes[] = { version_hex, NULL, receipts_hex, writeset_hex, extra_hex };
    for (int i = 0; i < 5; i++) {
        if (i == 1) {
            if (with_block)
                assert_int_equal(block_encode(&f->block, &payload), TC_OK);
            continue;
        }
        if (!hexes[i])
            continue;
        assert_int_equal(hex_decode_alloc(hexes[i], true, &part), TC_OK);
        assert_int_equal(bytes_append(&payload, part.ptr, part.len), TC_OK);
        bytes_free(&part);
    }
    struct bytes out;
    bytes_init(&out);
    assert_int_equal(rlp_encode_list_header(&out, payload.len), TC_OK);
    assert_int_equal(bytes_append(&out, payload.ptr, payload.len), TC_OK);
    struct block_entry e;
    int rc = block_entry_decode(bytes_as_view(&out), &e, reason);
    block_entry_free(&e);
    bytes_free(&out);
    bytes_free(&payload);
    return rc;
}

static void test_decode_rejects_bad_version_shape_trailing_and_bad_parts(void **state)
{
    (void)state;
    struct chain_fixture f;
    assert_int_equal(chain_fixture_build(&f, 0, 1), TC_OK);
    const char *reason = NULL;
    assert_int_equal(decode_parts(&f, "01", true, "c0", "c0", NULL, &reason), TC_OK);
    assert_int_equal(decode_parts(&f, "02", true, "c0", "c0", NULL, &reason), TC_EUNSUPPORTED);
    assert_non_null(strstr(reason, "version"));
    assert_int_equal(decode_parts(&f, "80", true, "c0", "c0", NULL, &reason), TC_EUNSUPPORTED);
    assert_int_equal(decode_parts(&f, "01", true, "c0", NULL, NULL, &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "write-set"));
    assert_int_equal(decode_parts(&f, "01", false, "c0", "c0", NULL, &reason), TC_EINVAL);
    assert_int_equal(decode_parts(&f, "01", true, "c0", "c0", "80", &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "extra"));
    /* receipts for no transactions decode (the check rejects them), a malformed receipt does not */
    assert_int_equal(decode_parts(&f, "01", true,
                                  "cd"
                                  "cc0201825208825208800180c0",
                                  "c0", NULL, &reason),
                     TC_OK);
    assert_int_equal(decode_parts(&f, "01", true,
                                  "c3"
                                  "c20201",
                                  "c0", NULL, &reason),
                     TC_EINVAL);
    assert_non_null(strstr(reason, "receipt"));
    /* write-set with a repeated key, and one with an unknown namespace */
    assert_int_equal(decode_parts(&f, "01", true, "c0",
                                  "c8"
                                  "c3016161"
                                  "c3016261",
                                  NULL, &reason),
                     TC_OK);
    assert_int_equal(decode_parts(&f, "01", true, "c0",
                                  "c8"
                                  "c3016161"
                                  "c3016161",
                                  NULL, &reason),
                     TC_EINVAL);
    assert_non_null(strstr(reason, "sorted"));
    assert_int_equal(decode_parts(&f, "01", true, "c0",
                                  "c4"
                                  "c3096161",
                                  NULL, &reason),
                     TC_EINVAL);

    struct bytes enc;
    bytes_init(&enc);
    assert_int_equal(chain_fixture_encode(&f, &enc), TC_OK);
    struct block_entry e;
    assert_int_equal(block_entry_decode(bytes_view_of(enc.ptr, enc.len - 1), &e, &reason),
                     TC_ETRUNCATED);
    block_entry_free(&e);
    assert_int_equal(bytes_push(&enc, 0xc0), TC_OK);
    assert_int_equal(block_entry_decode(bytes_as_view(&enc), &e, &reason), TC_ETRAILING);
    block_entry_free(&e);
    assert_int_equal(
        block_entry_decode(bytes_view_of(enc.ptr, BLOCK_ENTRY_MAX_BYTES + 1), &e, &reason),
        TC_ETOOBIG);
    block_entry_free(&e);
    bytes_free(&enc);
    chain_fixture_free(&f);
}

static void test_encode_refuses_non_canonical_writeset(void **state)
{
    (void)state;
    struct chain_fixture f;
    assert_int_equal(chain_fixture_build(&f, 1, 1), TC_OK);
    assert_int_equal(writeset_put(&f.ws, WRITESET_NS_ACCOUNT, "k", 1, "v", 1), TC_OK);
    struct bytes enc;
    bytes_init(&enc);
    assert_int_equal(chain_fixture_encode(&f, &enc), TC_ESTATE);
    assert_int_equal(enc.len, 0);
    bytes_free(&enc);
    chain_fixture_free(&f);
}

/*
 * The fuzz seed corpus: every file must be a valid entry that re-encodes to
 * itself. With TC_WRITE_CORPUS=1 the seeds are (re)generated first.
 */
static const size_t corpus_sizes[] = { 0, 1, 3, 12 };

static void corpus_path(char *buf, size_t len, size_t n)
{
    snprintf(buf, len, "%s/tests/fuzz/corpus/fuzz_block_entry/entry_%zu_txs.bin", TC_SOURCE_DIR, n);
}

static void test_fuzz_seed_corpus_is_valid_entries(void **state)
{
    (void)state;
    const char *write = getenv("TC_WRITE_CORPUS");
    for (size_t k = 0; k < sizeof(corpus_sizes) / sizeof(corpus_sizes[0]); k++) {
        char path[1024];
        corpus_path(path, sizeof(path), corpus_sizes[k]);
        if (write && strcmp(write, "1") == 0) {
            struct chain_fixture f;
            struct bytes enc;
            bytes_init(&enc);
            assert_int_equal(chain_fixture_build(&f, corpus_sizes[k], 1 + k), TC_OK);
            assert_int_equal(chain_fixture_encode(&f, &enc), TC_OK);
            FILE *fp = fopen(path, "wb");
            assert_non_null(fp);
            assert_int_equal(fwrite(enc.ptr, 1, enc.len, fp), enc.len);
            assert_int_equal(fclose(fp), 0);
            bytes_free(&enc);
            chain_fixture_free(&f);
        }
        FILE *fp = fopen(path, "rb");
        if (!fp)
            fail_msg("missing seed %s (run with TC_WRITE_CORPUS=1)", path);
        static uint8_t buf[1 << 20];
        size_t len = fread(buf, 1, sizeof(buf), fp);
        fclose(fp);
        struct block_entry e;
        const char *reason = NULL;
        struct bytes again;
        bytes_init(&again);
        assert_int_equal(block_entry_decode(bytes_view_of(buf, len), &e, &reason), TC_OK);
        assert_int_equal(e.block.tx_count, corpus_sizes[k]);
        assert_int_equal(
            block_entry_encode(&e.block, e.receipts, e.receipt_count, &e.writeset, &again), TC_OK);
        assert_true(bytes_view_eq(bytes_as_view(&again), bytes_view_of(buf, len)));
        block_entry_free(&e);
        bytes_free(&again);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_round_trip_is_byte_exact_and_passes_checks),
        cmocka_unit_test(test_each_consistency_check_fails_on_its_corruption),
        cmocka_unit_test(test_decode_rejects_bad_version_shape_trailing_and_bad_parts),
        cmocka_unit_test(test_encode_refuses_non_canonical_writeset),
        cmocka_unit_test(test_fuzz_seed_corpus_is_valid_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
