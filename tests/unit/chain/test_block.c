/* test_block.c - block header codec and hash, block codec, chain checks and the sealer's signature.
 */
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
#include "chain/block.h"
#include "codec/rlp.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"
#include "trie/trie.h"

#include "chain_fixture.h"

/* A header whose every field holds a distinct, recognisable value. */
static struct block_header distinct_header(void)
{
    struct block_header h;
    block_header_init(&h);
    memset(h.parent_hash, 0x01, 32);
    memset(h.coinbase, 0x03, 20);
    memset(h.state_root, 0x04, 32);
    memset(h.transactions_root, 0x05, 32);
    memset(h.receipts_root, 0x06, 32);
    memset(h.logs_bloom, 0x07, BLOOM_BYTES);
    h.difficulty = u256_from_u64(0x0808);
    h.number = 0x0909;
    h.gas_limit = 0x0a0a0a;
    h.gas_used = 0x0b0b;
    h.timestamp = 0x0c0c0c0c;
    h.extra_data_len = 32;
    memset(h.extra_data, 0x0d, 32);
    memset(h.mix_hash, 0x0e, 32);
    memset(h.nonce, 0x0f, 8);
    h.base_fee_per_gas = u256_from_u64(0x1010);
    h.blob_gas_used = 0x1212;
    h.excess_blob_gas = 0x1313;
    memset(h.parent_beacon_block_root, 0x14, 32);
    return h;
}

static void expect_string_item(struct rlp_iter *it, const uint8_t *want, size_t len)
{
    struct rlp_item item;
    struct bytes_view v;
    assert_int_equal(rlp_iter_next(it, &item), TC_OK);
    assert_int_equal(rlp_decode_string(&item, &v), TC_OK);
    assert_int_equal(v.len, len);
    if (len)
        assert_memory_equal(v.ptr, want, len);
}

static void expect_fill(struct rlp_iter *it, uint8_t byte, size_t len)
{
    uint8_t want[BLOOM_BYTES];
    memset(want, byte, len);
    expect_string_item(it, want, len);
}

/* The 20 Cancun fields, in Ethereum's order, as the RLP list items of the encoding. */
static void test_header_encodes_cancun_fields_in_ethereum_order(void **state)
{
    (void)state;
    struct block_header h = distinct_header();
    struct bytes enc;
    bytes_init(&enc);
    assert_int_equal(block_header_encode(&h, &enc), TC_OK);
    struct rlp_item list;
    struct rlp_iter it;
    assert_int_equal(rlp_decode_top(bytes_as_view(&enc), &list), TC_OK);
    assert_int_equal(rlp_iter_init(&it, &list), TC_OK);
    expect_fill(&it, 0x01, 32);
    expect_string_item(&it, block_empty_ommers_hash, 32);
    expect_fill(&it, 0x03, 20);
    expect_fill(&it, 0x04, 32);
    expect_fill(&it, 0x05, 32);
    expect_fill(&it, 0x06, 32);
    expect_fill(&it, 0x07, BLOOM_BYTES);
    expect_fill(&it, 0x08, 2);
    expect_fill(&it, 0x09, 2);
    expect_fill(&it, 0x0a, 3);
    expect_fill(&it, 0x0b, 2);
    expect_fill(&it, 0x0c, 4);
    expect_fill(&it, 0x0d, 32);
    expect_fill(&it, 0x0e, 32);
    expect_fill(&it, 0x0f, 8);
    expect_fill(&it, 0x10, 2);
    expect_string_item(&it, trie_empty_root, 32);
    expect_fill(&it, 0x12, 2);
    expect_fill(&it, 0x13, 2);
    expect_fill(&it, 0x14, 32);
    assert_int_equal(rlp_iter_end(&it), TC_OK);

    uint8_t hash[32], want[32];
    keccak256(enc.ptr, enc.len, want);
    assert_int_equal(block_header_hash(&h, hash), TC_OK);
    assert_memory_equal(hash, want, 32);

    struct block_header back;
    const char *reason = NULL;
    assert_int_equal(block_header_decode(bytes_as_view(&enc), &back, &reason), TC_OK);
    assert_memory_equal(&back, &h, sizeof(h));
    bytes_free(&enc);
}

/* keccak256(rlp([])) and the empty trie root are the published constants. */
static void test_chain_constants_are_ethereum_empty_hashes(void **state)
{
    (void)state;
    uint8_t empty_list = 0xc0, h[32];
    keccak256(&empty_list, 1, h);
    assert_memory_equal(h, block_empty_ommers_hash, 32);
    uint8_t want[32];
    assert_int_equal(
        hex_decode_exact("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347", want,
                         32),
        TC_OK);
    assert_memory_equal(block_empty_ommers_hash, want, 32);
}

/* Re-encodes h with field `index` replaced by `raw` (or dropped when raw is NULL, or an extra
 * appended). */
static int decode_with_field(int index, const char *raw_hex, bool append, const char **reason)
{
    struct block_header h = distinct_header();
    struct bytes enc, fields;
    bytes_init(&enc);
    bytes_init(&fields);
    assert_int_equal(block_header_encode(&h, &enc), TC_OK);
    struct rlp_item list, item;
    struct rlp_iter it;
    assert_int_equal(rlp_decode_top(bytes_as_view(&enc), &list), TC_OK);
    assert_int_equal(rlp_iter_init(&it, &list), TC_OK);
    for (int i = 0; rlp_iter_has_next(&it); i++) {
        assert_int_equal(rlp_iter_next(&it, &item), TC_OK);
        if (i == index && raw_hex) {
            struct bytes raw;
            assert_int_equal(hex_decode_alloc(raw_hex, true, &raw), TC_OK);
            assert_int_equal(bytes_append(&fields, raw.ptr, raw.len), TC_OK);
            bytes_free(&raw);
        } else if (i != index) {
            assert_int_equal(bytes_append(&fields, item.raw.ptr, item.raw.len), TC_OK);
        }
    }
    if (append)
        assert_int_equal(rlp_encode_bytes(&fields, block_empty_ommers_hash, 32), TC_OK);
    struct bytes out;
    bytes_init(&out);
    assert_int_equal(rlp_encode_list_header(&out, fields.len), TC_OK);
    assert_int_equal(bytes_append(&out, fields.ptr, fields.len), TC_OK);
    struct block_header back;
    int rc = block_header_decode(bytes_as_view(&out), &back, reason);
    bytes_free(&out);
    bytes_free(&fields);
    bytes_free(&enc);
    return rc;
}

static void test_header_decode_rejects_wrong_field_count_sizes_and_encodings(void **state)
{
    (void)state;
    const char *reason = NULL;
    assert_int_equal(decode_with_field(-1, NULL, false, &reason), TC_OK);
    /* 21 fields (a Prague requestsHash) and 19 fields (no parentBeaconBlockRoot) */
    assert_int_equal(decode_with_field(-1, NULL, true, &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "20"));
    assert_int_equal(decode_with_field(19, NULL, false, &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "parentBeaconBlockRoot"));
    /* coinbase of 19 bytes, nonce of 7 bytes, extraData of 33 bytes */
    assert_int_equal(
        decode_with_field(2, "9303030303030303030303030303030303030303", false, &reason),
        TC_ERANGE);
    assert_non_null(strstr(reason, "coinbase"));
    assert_int_equal(decode_with_field(14, "870f0f0f0f0f0f0f", false, &reason), TC_ERANGE);
    assert_int_equal(
        decode_with_field(12,
                          "a1"
                          "0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d",
                          false, &reason),
        TC_ETOOBIG);
    assert_non_null(strstr(reason, "extraData"));
    /* number over 64 bits, gasUsed with a leading zero, a list where a hash belongs */
    assert_int_equal(decode_with_field(8, "89010000000000000000", false, &reason), TC_ERANGE);
    assert_int_equal(decode_with_field(10, "820001", false, &reason), TC_ENONCANONICAL);
    assert_int_equal(decode_with_field(0, "c0", false, &reason), TC_EINVAL);

    struct block_header h = distinct_header(), back;
    struct bytes enc;
    bytes_init(&enc);
    assert_int_equal(block_header_encode(&h, &enc), TC_OK);
    assert_int_equal(block_header_decode(bytes_view_of(enc.ptr, enc.len - 1), &back, &reason),
                     TC_ETRUNCATED);
    assert_int_equal(bytes_push(&enc, 0x80), TC_OK);
    assert_int_equal(block_header_decode(bytes_as_view(&enc), &back, &reason), TC_ETRAILING);
    bytes_free(&enc);
}

static void test_block_round_trips_and_passes_chain_checks(void **state)
{
    (void)state;
    struct chain_fixture f;
    assert_int_equal(chain_fixture_build(&f, 9, 5), TC_OK);
    struct bytes enc;
    bytes_init(&enc);
    assert_int_equal(block_encode(&f.block, &enc), TC_OK);
    struct block back;
    const char *reason = NULL;
    assert_int_equal(block_decode(bytes_as_view(&enc), &back, &reason), TC_OK);
    assert_memory_equal(&back.header, &f.block.header, sizeof(back.header));
    assert_int_equal(back.tx_count, 9);
    for (size_t i = 0; i < 9; i++)
        assert_true(bytes_view_eq(back.txs[i], f.txs[i]));
    assert_int_equal(back.sig_recid, f.block.sig_recid);
    assert_memory_equal(back.sig_r, f.block.sig_r, 32);
    assert_memory_equal(back.sig_s, f.block.sig_s, 32);
    assert_int_equal(block_check(&back, &reason), TC_OK);
    struct bytes again;
    bytes_init(&again);
    assert_int_equal(block_encode(&back, &again), TC_OK);
    assert_true(bytes_view_eq(bytes_as_view(&enc), bytes_as_view(&again)));
    block_free(&back);
    bytes_free(&again);
    bytes_free(&enc);
    chain_fixture_free(&f);
}

static void test_block_check_rejects_each_broken_rule(void **state)
{
    (void)state;
    struct chain_fixture f;
    assert_int_equal(chain_fixture_build(&f, 4, 1), TC_OK);
    const char *reason = NULL;
    struct block b = f.block;
    assert_int_equal(block_check(&b, &reason), TC_OK);

    b.header.transactions_root[0] ^= 1;
    assert_int_equal(block_check(&b, &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "transactionsRoot"));
    b = f.block;
    b.tx_count = 3;
    assert_int_equal(block_check(&b, &reason), TC_EINVAL);
    b = f.block;
    b.header.ommers_hash[0] ^= 1;
    assert_int_equal(block_check(&b, &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "ommersHash"));
    b = f.block;
    b.header.difficulty = u256_one();
    assert_int_equal(block_check(&b, &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "difficulty"));
    b = f.block;
    b.header.nonce[7] = 1;
    assert_int_equal(block_check(&b, &reason), TC_EINVAL);
    b = f.block;
    b.header.withdrawals_root[3] ^= 1;
    assert_int_equal(block_check(&b, &reason), TC_EINVAL);
    b = f.block;
    b.header.excess_blob_gas = 1;
    assert_int_equal(block_check(&b, &reason), TC_EINVAL);
    b = f.block;
    b.header.parent_beacon_block_root[0] = 1;
    assert_int_equal(block_check(&b, &reason), TC_EINVAL);
    b = f.block;
    b.header.gas_used = b.header.gas_limit + 1;
    assert_int_equal(block_check(&b, &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "gasLimit"));
    chain_fixture_free(&f);
}

static void test_seal_verifies_for_sealer_and_fails_for_wrong_key_set_or_tampering(void **state)
{
    (void)state;
    struct chain_fixture f;
    assert_int_equal(chain_fixture_build(&f, 2, 1), TC_OK);
    const char *reason = NULL;
    uint8_t sealers[3][20], other_key[32];
    memset(sealers, 0x99, sizeof(sealers));
    assert_int_equal(ecdsa_address_from_seckey(chain_fixture_key, sealers[2]), TC_OK);
    assert_memory_equal(sealers[2], f.block.header.coinbase, 20);
    assert_int_equal(block_verify_seal(&f.block, (const uint8_t(*)[20])sealers, 3, &reason), TC_OK);
    /* Not in the sealer set. */
    assert_int_equal(block_verify_seal(&f.block, (const uint8_t(*)[20])sealers, 2, &reason),
                     TC_EPERM);
    assert_non_null(strstr(reason, "sealer set"));

    /* Tampered header: the signature now recovers some other key. */
    struct block b = f.block;
    b.header.timestamp++;
    assert_int_equal(block_verify_seal(&b, (const uint8_t(*)[20])sealers, 3, &reason), TC_ECRYPTO);

    /* Sealed by another key, but claiming the sealer's coinbase. */
    memset(other_key, 0x21, 32);
    b = f.block;
    assert_int_equal(block_seal(&b, other_key), TC_OK);
    uint8_t other_addr[20];
    assert_int_equal(ecdsa_address_from_seckey(other_key, other_addr), TC_OK);
    assert_memory_equal(b.header.coinbase, other_addr, 20);
    assert_int_equal(block_verify_seal(&b, (const uint8_t(*)[20])sealers, 3, &reason), TC_EPERM);
    memcpy(b.header.coinbase, sealers[2], 20);
    assert_int_equal(block_verify_seal(&b, (const uint8_t(*)[20])sealers, 3, &reason), TC_ECRYPTO);
    assert_non_null(strstr(reason, "coinbase"));

    /* A zeroed s is malformed. */
    b = f.block;
    memset(b.sig_s, 0, 32);
    assert_int_equal(block_verify_seal(&b, (const uint8_t(*)[20])sealers, 3, &reason), TC_EINVAL);
    chain_fixture_free(&f);
}

/* Replaces the block's transaction list or signature list with raw RLP, then decodes. */
static int decode_block_with(const struct chain_fixture *f, const char *txs_hex,
                             const char *sig_hex, const char **reason)
{
    struct bytes payload;
    bytes_init(&payload);
    assert_int_equal(block_header_encode(&f->block.header, &payload), TC_OK);
    struct bytes part;
    if (txs_hex) {
        assert_int_equal(hex_decode_alloc(txs_hex, true, &part), TC_OK);
        assert_int_equal(bytes_append(&payload, part.ptr, part.len), TC_OK);
        bytes_free(&part);
    } else {
        size_t m = rlp_list_begin(&payload);
        assert_int_equal(rlp_list_end(&payload, m), TC_OK);
    }
    if (sig_hex) {
        assert_int_equal(hex_decode_alloc(sig_hex, true, &part), TC_OK);
        assert_int_equal(bytes_append(&payload, part.ptr, part.len), TC_OK);
        bytes_free(&part);
    }
    struct bytes out;
    bytes_init(&out);
    assert_int_equal(rlp_encode_list_header(&out, payload.len), TC_OK);
    assert_int_equal(bytes_append(&out, payload.ptr, payload.len), TC_OK);
    struct block b;
    int rc = block_decode(bytes_as_view(&out), &b, reason);
    block_free(&b);
    bytes_free(&out);
    bytes_free(&payload);
    return rc;
}

#define SIG_R "a00101010101010101010101010101010101010101010101010101010101010101"
#define SIG_EMPTY_S                                                                                \
    "e3"                                                                                           \
    "01" SIG_R "80"

static void test_block_decode_rejects_bad_transactions_and_signature_shapes(void **state)
{
    (void)state;
    struct chain_fixture f;
    assert_int_equal(chain_fixture_build(&f, 1, 1), TC_OK);
    const char *reason = NULL;
    /* s must be 32 bytes: the well-formed control uses 32 bytes of 0x02. */
    const char *sig_ok =
        "f84301" SIG_R "a00202020202020202020202020202020202020202020202020202020202020202";
    assert_int_equal(decode_block_with(&f, "c0", sig_ok, &reason), TC_OK);
    assert_int_equal(decode_block_with(&f, "c0", NULL, &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "signature"));
    assert_int_equal(decode_block_with(&f, "c0", SIG_EMPTY_S, &reason), TC_ERANGE);
    const char *sig_recid2 =
        "f84302" SIG_R "a00202020202020202020202020202020202020202020202020202020202020202";
    assert_int_equal(decode_block_with(&f, "c0", sig_recid2, &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "recid"));
    /* A transaction that is garbage, an empty one, a list instead of a string. */
    assert_int_equal(decode_block_with(&f, "c3820102", sig_ok, &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "transaction"));
    assert_int_equal(decode_block_with(&f, "c180", sig_ok, &reason), TC_EINVAL);
    assert_int_equal(decode_block_with(&f, "c1c0", sig_ok, &reason), TC_EINVAL);
    chain_fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_encodes_cancun_fields_in_ethereum_order),
        cmocka_unit_test(test_chain_constants_are_ethereum_empty_hashes),
        cmocka_unit_test(test_header_decode_rejects_wrong_field_count_sizes_and_encodings),
        cmocka_unit_test(test_block_round_trips_and_passes_chain_checks),
        cmocka_unit_test(test_block_check_rejects_each_broken_rule),
        cmocka_unit_test(test_seal_verifies_for_sealer_and_fails_for_wrong_key_set_or_tampering),
        cmocka_unit_test(test_block_decode_rejects_bad_transactions_and_signature_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
