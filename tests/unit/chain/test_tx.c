/* test_tx.c - transaction decoding, encoding, hashing, validation and signing. */
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
#include "chain/tx.h"
#include "codec/rlp.h"
#include "crypto/ecdsa.h"

static uint64_t test_seed;

static const struct tx_rules mainnet = { .chain_id = 1, .allow_unprotected = true };

/* Vitalik_1 (ethereum/tests ttSignature): EIP-155 legacy transfer, chain id 1. */
static const char vitalik_1[] =
    "f864808504a817c800825208943535353535353535353535353535353535353535808025a0044852b2a670"
    "ade5407e78fb2863c51de9fcb96542a07186fe3aeda6bb8a116da0044852b2a670ade5407e78fb2863c51de"
    "9fcb96542a07186fe3aeda6bb8a116d";

/* accessListStorage32Bytes (ttEIP2930): type 1 with one address and one key. */
static const char access_list_tx[] =
    "01f89a018001826a4094095e7baea6a6c7c4c2dfeb977efac326af552d878080f838f794a95e7baea6a6c7c4"
    "c2dfeb977efac326af552d87e1a0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    "ffff80a05cbd172231fc0735e0fb994dd5b1a4939170a260b36f0427a8a80866b063b948a07c230f7f578dd6"
    "1785c93361b9871c0706ebfa6d06e3f4491dc9558c5202ed36";

static struct bytes unhex(const char *hex)
{
    struct bytes b;
    assert_int_equal(hex_decode_alloc(hex, true, &b), TC_OK);
    return b;
}

static void assert_hex(const uint8_t *data, size_t len, const char *hex)
{
    uint8_t want[64];
    assert_true(len <= sizeof(want));
    assert_int_equal(hex_decode_exact(hex, want, len), TC_OK);
    assert_memory_equal(data, want, len);
}

static const uint8_t test_key[32] = {
    0x4c, 0x08, 0x83, 0xa6, 0x91, 0x02, 0x93, 0x7d, 0x62, 0x31, 0x47, 0x1b, 0x5d, 0xbb, 0x62, 0x04,
    0xfe, 0x51, 0x29, 0x61, 0x70, 0x82, 0x79, 0x2a, 0xe4, 0x68, 0xd0, 0x1a, 0x3f, 0x36, 0x23, 0x18,
};

/* A valid unsigned transfer of the given type. */
static struct tx transfer(enum tx_type type)
{
    struct tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = type;
    tx.chain_id = 1;
    tx.eip155 = type == TX_LEGACY;
    tx.nonce = 7;
    tx.gas_price = u256_from_u64(2000000000);
    tx.max_priority_fee_per_gas = u256_from_u64(1000000000);
    tx.max_fee_per_gas = u256_from_u64(type == TX_DYNAMIC_FEE ? 3000000000u : 2000000000u);
    tx.gas_limit = 21000;
    tx.has_to = true;
    memset(tx.to, 0x35, sizeof(tx.to));
    tx.value = u256_from_u64(1000000000000000000ull);
    return tx;
}

static void test_decode_eip155_legacy_fields_hash_and_sender(void **state)
{
    struct bytes raw = unhex(vitalik_1);
    struct tx tx;
    const char *reason = NULL;
    uint8_t hash[32], sender[20];
    assert_int_equal(tx_decode(bytes_as_view(&raw), &tx, &reason), TC_OK);
    assert_int_equal(tx.type, TX_LEGACY);
    assert_true(tx.eip155);
    assert_true(tx.chain_id == 1);
    assert_int_equal(tx.y_parity, 0);
    assert_true(tx.nonce == 0);
    assert_true(tx.gas_limit == 21000);
    assert_true(tx.has_to);
    assert_true(u256_eq(tx.gas_price, u256_from_u64(20000000000ull)));
    assert_int_equal(tx.data.len, 0);
    tx_hash(&tx, hash);
    assert_hex(hash, 32, "b1e2188bc490908a78184e4818dca53684167507417fdb4c09c2d64d32a9896a");
    assert_int_equal(tx_validate(&tx, &mainnet, sender, &reason), TC_OK);
    assert_hex(sender, 20, "f0f6f18bca1b28cd68e4357452947e021241e9ce");
    assert_true(tx_intrinsic_gas(&tx) == 21000);
    bytes_free(&raw);
}

static void test_decode_access_list_counts_entries_and_charges_gas(void **state)
{
    struct bytes raw = unhex(access_list_tx);
    struct tx tx;
    uint8_t hash[32], sender[20];
    assert_int_equal(tx_decode(bytes_as_view(&raw), &tx, NULL), TC_OK);
    assert_int_equal(tx.type, TX_ACCESS_LIST);
    assert_int_equal(tx.access_list_addresses, 1);
    assert_int_equal(tx.access_list_keys, 1);
    /* 21000 + 2400 + 1900 */
    assert_true(tx_intrinsic_gas(&tx) == 0x62d4);
    tx_hash(&tx, hash);
    assert_hex(hash, 32, "b4f8b14a7aaf85ec2f76be9fbe4155deae1f87b2da95af73be3c27ed8d4c8cb7");
    assert_int_equal(tx_validate(&tx, &mainnet, sender, NULL), TC_OK);
    assert_hex(sender, 20, "ebe76799923fd62804659fb00b4f0f1a94c0eb1e");
    bytes_free(&raw);
}

static void test_sign_encode_decode_recover_round_trip_each_type(void **state)
{
    uint8_t expected[20], sender[20];
    assert_int_equal(ecdsa_address_from_seckey(test_key, expected), TC_OK);
    static const uint8_t data[] = { 0xa9, 0x05, 0x9c, 0xbb, 0x00, 0x00, 0x01 };
    /* [[address, [key]]] */
    struct bytes al;
    bytes_init(&al);
    size_t outer = rlp_list_begin(&al);
    size_t entry = rlp_list_begin(&al);
    uint8_t addr[20], key[32];
    memset(addr, 0xaa, sizeof(addr));
    memset(key, 0x01, sizeof(key));
    assert_int_equal(rlp_encode_bytes(&al, addr, 20), TC_OK);
    size_t keys = rlp_list_begin(&al);
    assert_int_equal(rlp_encode_bytes(&al, key, 32), TC_OK);
    assert_int_equal(rlp_list_end(&al, keys), TC_OK);
    assert_int_equal(rlp_list_end(&al, entry), TC_OK);
    assert_int_equal(rlp_list_end(&al, outer), TC_OK);

    const enum tx_type types[] = { TX_LEGACY, TX_ACCESS_LIST, TX_DYNAMIC_FEE };
    for (int unprotected = 0; unprotected < 2; unprotected++) {
        for (size_t i = 0; i < 3; i++) {
            if (unprotected && types[i] != TX_LEGACY)
                continue;
            struct tx tx = transfer(types[i]), back;
            tx.data = bytes_view_of(data, sizeof(data));
            tx.gas_limit = 100000;
            if (unprotected) {
                tx.eip155 = false;
                tx.chain_id = 0;
            }
            if (types[i] != TX_LEGACY)
                tx.access_list = bytes_as_view(&al);
            assert_int_equal(tx_sign(&tx, test_key), TC_OK);
            struct bytes raw;
            bytes_init(&raw);
            assert_int_equal(tx_encode(&tx, &raw), TC_OK);
            if (types[i] != TX_LEGACY)
                assert_int_equal(raw.ptr[0], types[i]);
            assert_int_equal(tx_decode(bytes_as_view(&raw), &back, NULL), TC_OK);
            assert_int_equal(back.type, types[i]);
            assert_int_equal(back.eip155, tx.eip155);
            assert_true(back.chain_id == tx.chain_id);
            assert_int_equal(tx_validate(&back, &mainnet, sender, NULL), TC_OK);
            assert_memory_equal(sender, expected, 20);
            uint8_t h1[32], h2[32];
            tx_hash(&tx, h1);
            tx_hash(&back, h2);
            assert_memory_equal(h1, h2, 32);
            struct bytes again;
            bytes_init(&again);
            assert_int_equal(tx_encode(&back, &again), TC_OK);
            assert_true(bytes_view_eq(bytes_as_view(&again), bytes_as_view(&raw)));
            /* A changed field breaks the signature: another sender recovers. */
            back.nonce++;
            assert_int_equal(tx_sender(&back, sender, NULL), TC_OK);
            assert_memory_not_equal(sender, expected, 20);
            bytes_free(&again);
            bytes_free(&raw);
        }
    }
    bytes_free(&al);
}

static void test_rejects_blob_and_unknown_types(void **state)
{
    const uint8_t blob[] = { 0x03, 0xc0 }, four[] = { 0x04, 0xc0 }, high[] = { 0x7f, 0xc0 };
    struct tx tx;
    const char *reason = NULL;
    assert_int_equal(tx_decode(bytes_view_of(blob, 2), &tx, &reason), TC_EUNSUPPORTED);
    assert_string_equal(reason, "transaction type not supported");
    assert_int_equal(tx_decode(bytes_view_of(four, 2), &tx, &reason), TC_EUNSUPPORTED);
    assert_int_equal(tx_decode(bytes_view_of(high, 2), &tx, &reason), TC_EUNSUPPORTED);
    const uint8_t string[] = { 0x83, 'a', 'b', 'c' };
    assert_int_equal(tx_decode(bytes_view_of(string, 4), &tx, &reason), TC_EINVAL);
    assert_int_equal(tx_decode(bytes_view_of(NULL, 0), &tx, &reason), TC_ETRUNCATED);
}

/* Signs tx, encodes it, and returns what tx_decode + tx_validate say. */
static int roundtrip_validate(struct tx *tx, const struct tx_rules *rules, const char **reason)
{
    struct bytes raw;
    struct tx back;
    uint8_t sender[20];
    bytes_init(&raw);
    assert_int_equal(tx_sign(tx, test_key), TC_OK);
    assert_int_equal(tx_encode(tx, &raw), TC_OK);
    int rc = tx_decode(bytes_as_view(&raw), &back, reason);
    if (rc == 0)
        rc = tx_validate(&back, rules, sender, reason);
    bytes_free(&raw);
    return rc;
}

static void test_validation_rules(void **state)
{
    const char *reason;
    struct tx tx = transfer(TX_DYNAMIC_FEE);
    assert_int_equal(roundtrip_validate(&tx, &mainnet, &reason), TC_OK);

    tx = transfer(TX_DYNAMIC_FEE);
    tx.nonce = UINT64_MAX;
    assert_int_equal(roundtrip_validate(&tx, &mainnet, &reason), TC_ERANGE);
    tx.nonce = UINT64_MAX - 1;
    assert_int_equal(roundtrip_validate(&tx, &mainnet, &reason), TC_OK);

    tx = transfer(TX_DYNAMIC_FEE);
    tx.max_priority_fee_per_gas = u256_from_u64(3000000001u);
    assert_int_equal(roundtrip_validate(&tx, &mainnet, &reason), TC_EINVAL);
    assert_string_equal(reason, "maxPriorityFeePerGas above maxFeePerGas");

    tx = transfer(TX_DYNAMIC_FEE);
    tx.gas_limit = 20999;
    assert_int_equal(roundtrip_validate(&tx, &mainnet, &reason), TC_ERANGE);
    assert_string_equal(reason, "gasLimit below intrinsic gas");

    tx = transfer(TX_DYNAMIC_FEE);
    tx.max_fee_per_gas = u256_max();
    tx.max_priority_fee_per_gas = u256_zero();
    assert_int_equal(roundtrip_validate(&tx, &mainnet, &reason), TC_ERANGE);

    tx = transfer(TX_DYNAMIC_FEE);
    tx.chain_id = 5;
    assert_int_equal(roundtrip_validate(&tx, &mainnet, &reason), TC_EINVAL);
    struct tx_rules any = { .chain_id = 0, .allow_unprotected = false };
    assert_int_equal(roundtrip_validate(&tx, &any, &reason), TC_OK);

    tx = transfer(TX_LEGACY);
    tx.eip155 = false;
    tx.chain_id = 0;
    assert_int_equal(roundtrip_validate(&tx, &mainnet, &reason), TC_OK);
    assert_int_equal(roundtrip_validate(&tx, &any, &reason), TC_EINVAL);
}

static void test_intrinsic_gas_counts_calldata_and_initcode(void **state)
{
    static uint8_t code[TX_MAX_INITCODE_BYTES + 1];
    struct tx tx = transfer(TX_DYNAMIC_FEE);
    code[0] = 0x60;
    code[1] = 0x00;
    code[2] = 0x01;
    tx.data = bytes_view_of(code, 3);
    /* 21000 + 16 + 4 + 16 */
    assert_true(tx_intrinsic_gas(&tx) == 21036);
    tx.has_to = false;
    /* 53000 + 36 + one initcode word */
    assert_true(tx_intrinsic_gas(&tx) == 53038);
    tx.data = bytes_view_of(code, 33);
    assert_true(tx_intrinsic_gas(&tx) == 53000 + 16 * 2 + 4 * 31 + 2 * 2);

    const char *reason;
    tx.gas_limit = 10000000;
    tx.data = bytes_view_of(code, TX_MAX_INITCODE_BYTES);
    assert_int_equal(roundtrip_validate(&tx, &mainnet, &reason), TC_OK);
    tx.data = bytes_view_of(code, TX_MAX_INITCODE_BYTES + 1);
    assert_int_equal(roundtrip_validate(&tx, &mainnet, &reason), TC_ERANGE);
    assert_string_equal(reason, "initcode larger than 49152 bytes (EIP-3860)");
}

static void test_check_rejects_high_s_and_zero_r(void **state)
{
    struct bytes raw = unhex(vitalik_1);
    struct tx tx;
    const char *reason;
    assert_int_equal(tx_decode(bytes_as_view(&raw), &tx, NULL), TC_OK);
    assert_int_equal(tx_check(&tx, &mainnet, &reason), TC_OK);
    struct tx high = tx;
    memset(high.s, 0xff, 32);
    high.s[0] = 0x7f; /* above n/2 */
    assert_int_equal(tx_check(&high, &mainnet, &reason), TC_EINVAL);
    struct tx zero = tx;
    memset(zero.r, 0, 32);
    assert_int_equal(tx_check(&zero, &mainnet, &reason), TC_EINVAL);
    bytes_free(&raw);
}

static void test_decode_rejects_malformed_fields(void **state)
{
    struct tx tx;
    const char *reason;
    struct bytes raw = unhex(vitalik_1);
    /* One byte more at the end. */
    assert_int_equal(bytes_push(&raw, 0x00), TC_OK);
    assert_int_equal(tx_decode(bytes_as_view(&raw), &tx, &reason), TC_ETRAILING);
    bytes_free(&raw);

    /* Too few fields: [nonce, gasPrice]. */
    const uint8_t few[] = { 0xc2, 0x80, 0x80 };
    assert_int_equal(tx_decode(bytes_view_of(few, 3), &tx, &reason), TC_EINVAL);
    assert_string_equal(reason, "gasLimit: missing (too few fields)");

    /* Build a legacy tx with a tenth field. */
    struct tx t = transfer(TX_LEGACY);
    assert_int_equal(tx_sign(&t, test_key), TC_OK);
    struct bytes enc, longer;
    bytes_init(&enc);
    bytes_init(&longer);
    assert_int_equal(tx_encode(&t, &enc), TC_OK);
    struct rlp_item list;
    assert_int_equal(rlp_decode_top(bytes_as_view(&enc), &list), TC_OK);
    size_t mark = rlp_list_begin(&longer);
    assert_int_equal(rlp_encode_raw(&longer, list.payload.ptr, list.payload.len), TC_OK);
    assert_int_equal(rlp_encode_u64(&longer, 1), TC_OK);
    assert_int_equal(rlp_list_end(&longer, mark), TC_OK);
    assert_int_equal(tx_decode(bytes_as_view(&longer), &tx, &reason), TC_EINVAL);
    assert_string_equal(reason, "too many fields");
    bytes_free(&longer);

    /* `to` of 19 bytes. */
    bytes_clear(&longer);
    mark = rlp_list_begin(&longer);
    struct rlp_iter it;
    struct rlp_item item;
    assert_int_equal(rlp_iter_init(&it, &list), TC_OK);
    for (int i = 0; rlp_iter_next(&it, &item) == 0; i++) {
        if (i == 3)
            assert_int_equal(rlp_encode_bytes(&longer, t.to, 19), TC_OK);
        else
            assert_int_equal(rlp_encode_raw(&longer, item.raw.ptr, item.raw.len), TC_OK);
    }
    assert_int_equal(rlp_list_end(&longer, mark), TC_OK);
    assert_int_equal(tx_decode(bytes_as_view(&longer), &tx, &reason), TC_ERANGE);
    assert_string_equal(reason, "to: too large or wrong size for its field");
    bytes_free(&longer);
    bytes_free(&enc);
}

static void test_decode_rejects_bad_access_list_shapes(void **state)
{
    struct bytes raw = unhex(access_list_tx);
    struct tx tx;
    const char *reason;
    /* The storage key's header a0 (32 bytes) is at a fixed offset: find it. */
    size_t at = 0;
    for (size_t i = 0; i + 33 <= raw.len; i++) {
        if (raw.ptr[i] == 0xe1 && raw.ptr[i + 1] == 0xa0) {
            at = i + 1;
            break;
        }
    }
    assert_true(at != 0);
    /* Turn [key32] into [key31 + one stray byte]: a 31-byte key then a 1-byte item. */
    raw.ptr[at] = 0x9f;
    assert_int_equal(tx_decode(bytes_as_view(&raw), &tx, &reason), TC_EINVAL);
    assert_string_equal(reason, "accessList: a storage key is not 32 bytes");
    bytes_free(&raw);
}

static void test_random_field_values_round_trip(void **state)
{
    struct rng r;
    rng_seed(&r, test_seed);
    static uint8_t data[300];
    for (int i = 0; i < 200; i++) {
        struct tx tx = transfer((enum tx_type)rng_below(&r, 3)), back;
        tx.nonce = rng_next(&r) >> rng_below(&r, 64);
        tx.gas_limit = 1000000 + (rng_next(&r) >> 40);
        tx.value.w[0] = rng_next(&r) >> rng_below(&r, 64);
        tx.value.w[1] = rng_below(&r, 2) ? rng_next(&r) : 0;
        tx.has_to = rng_below(&r, 4) != 0;
        size_t n = rng_below(&r, sizeof(data));
        rng_fill(&r, data, n);
        tx.data = bytes_view_of(data, n);
        if (tx.type == TX_LEGACY && rng_below(&r, 2)) {
            tx.eip155 = false;
            tx.chain_id = 0;
        }
        struct bytes raw, again;
        bytes_init(&raw);
        bytes_init(&again);
        assert_int_equal(tx_sign(&tx, test_key), TC_OK);
        assert_int_equal(tx_encode(&tx, &raw), TC_OK);
        assert_int_equal(tx_decode(bytes_as_view(&raw), &back, NULL), TC_OK);
        assert_true(back.nonce == tx.nonce && back.gas_limit == tx.gas_limit);
        assert_true(u256_eq(back.value, tx.value));
        assert_int_equal(back.has_to, tx.has_to);
        assert_int_equal(back.data.len, n);
        assert_int_equal(tx_encode(&back, &again), TC_OK);
        assert_true(bytes_view_eq(bytes_as_view(&again), bytes_as_view(&raw)));
        bytes_free(&again);
        bytes_free(&raw);
    }
}

int main(void)
{
    const char *env = getenv("TC_SEED");
    test_seed = env ? strtoull(env, NULL, 0) : 20261124;
    printf("test_tx: seed %llu (set TC_SEED to replay)\n", (unsigned long long)test_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_eip155_legacy_fields_hash_and_sender),
        cmocka_unit_test(test_decode_access_list_counts_entries_and_charges_gas),
        cmocka_unit_test(test_sign_encode_decode_recover_round_trip_each_type),
        cmocka_unit_test(test_rejects_blob_and_unknown_types),
        cmocka_unit_test(test_validation_rules),
        cmocka_unit_test(test_intrinsic_gas_counts_calldata_and_initcode),
        cmocka_unit_test(test_check_rejects_high_s_and_zero_r),
        cmocka_unit_test(test_decode_rejects_malformed_fields),
        cmocka_unit_test(test_decode_rejects_bad_access_list_shapes),
        cmocka_unit_test(test_random_field_values_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
