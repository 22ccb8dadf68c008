/* test_writeset.c - write-set canonical order, strict codec, digest and state-root chaining. */
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
#include "chain/writeset.h"
#include "codec/rlp.h"
#include "crypto/keccak.h"

static uint64_t test_seed;

static void assert_item(const struct writeset *ws, size_t i, enum writeset_ns ns, const char *key,
                        const char *value)
{
    struct writeset_item it;
    writeset_get(ws, i, &it);
    assert_int_equal(it.ns, ns);
    assert_int_equal(it.key.len, strlen(key));
    assert_memory_equal(it.key.ptr, key, it.key.len);
    if (!value) {
        assert_true(it.deleted);
        assert_int_equal(it.value.len, 0);
    } else {
        assert_false(it.deleted);
        assert_int_equal(it.value.len, strlen(value));
        if (it.value.len)
            assert_memory_equal(it.value.ptr, value, it.value.len);
    }
}

static void put(struct writeset *ws, enum writeset_ns ns, const char *key, const char *value)
{
    assert_int_equal(writeset_put(ws, ns, key, strlen(key), value, strlen(value)), TC_OK);
}

/* Entry a sorts strictly before entry b: namespace, then memcmp, then the shorter key. */
static bool strictly_before(const struct writeset *ws, size_t a, size_t b)
{
    struct writeset_item x, y;
    writeset_get(ws, a, &x);
    writeset_get(ws, b, &y);
    if (x.ns != y.ns)
        return x.ns < y.ns;
    size_t n = x.key.len < y.key.len ? x.key.len : y.key.len;
    int c = memcmp(x.key.ptr, y.key.ptr, n);
    return c < 0 || (c == 0 && x.key.len < y.key.len);
}

static void test_canonicalize_orders_by_namespace_then_key_with_prefix_first(void **state)
{
    (void)state;
    struct writeset ws;
    writeset_init(&ws);
    put(&ws, WRITESET_NS_CODE, "a", "code");
    put(&ws, WRITESET_NS_STORAGE, "kb", "2");
    put(&ws, WRITESET_NS_STORAGE, "k", "1");
    put(&ws, WRITESET_NS_ACCOUNT, "z", "acct");
    put(&ws, WRITESET_NS_STORAGE, "ka", "3");
    /* Keys equal in their first 8 bytes, and a key that differs only by a trailing zero byte. */
    assert_int_equal(writeset_put(&ws, WRITESET_NS_CODE, "01234567\x01", 9, "", 0), TC_OK);
    assert_int_equal(writeset_put(&ws, WRITESET_NS_CODE, "01234567\x00", 9, "", 0), TC_OK);
    assert_int_equal(writeset_put(&ws, WRITESET_NS_CODE, "a\x00", 2, "", 0), TC_OK);
    assert_int_equal(writeset_canonicalize(&ws), TC_OK);
    assert_int_equal(writeset_count(&ws), 8);
    for (size_t i = 1; i < 8; i++)
        assert_true(strictly_before(&ws, i - 1, i));
    assert_item(&ws, 0, WRITESET_NS_ACCOUNT, "z", "acct");
    assert_item(&ws, 1, WRITESET_NS_STORAGE, "k", "1");
    assert_item(&ws, 2, WRITESET_NS_STORAGE, "ka", "3");
    assert_item(&ws, 3, WRITESET_NS_STORAGE, "kb", "2");
    assert_item(&ws, 6, WRITESET_NS_CODE, "a", "code");
    struct writeset_item it;
    writeset_get(&ws, 4, &it);
    assert_memory_equal(it.key.ptr, "01234567\x00", 9);
    writeset_get(&ws, 7, &it);
    assert_int_equal(it.key.len, 2);
    writeset_free(&ws);
}

static void test_last_write_to_a_key_wins_including_deletions(void **state)
{
    (void)state;
    struct writeset ws;
    writeset_init(&ws);
    put(&ws, WRITESET_NS_STORAGE, "x", "old");
    put(&ws, WRITESET_NS_STORAGE, "y", "kept");
    put(&ws, WRITESET_NS_STORAGE, "x", "new");
    assert_int_equal(writeset_delete(&ws, WRITESET_NS_STORAGE, "y", 1), TC_OK);
    assert_int_equal(writeset_delete(&ws, WRITESET_NS_STORAGE, "z", 1), TC_OK);
    put(&ws, WRITESET_NS_STORAGE, "z", "revived");
    put(&ws, WRITESET_NS_ACCOUNT, "x", "other namespace");
    put(&ws, WRITESET_NS_STORAGE, "e", "");
    assert_int_equal(writeset_canonicalize(&ws), TC_OK);
    assert_int_equal(writeset_count(&ws), 5);
    assert_item(&ws, 0, WRITESET_NS_ACCOUNT, "x", "other namespace");
    assert_item(&ws, 1, WRITESET_NS_STORAGE, "e", "");
    assert_item(&ws, 2, WRITESET_NS_STORAGE, "x", "new");
    assert_item(&ws, 3, WRITESET_NS_STORAGE, "y", NULL);
    assert_item(&ws, 4, WRITESET_NS_STORAGE, "z", "revived");
    writeset_free(&ws);
}

/* A random write-set of n distinct keys, appended in a random order, is canonical the same way. */
static void test_canonical_encoding_is_independent_of_append_order(void **state)
{
    (void)state;
    struct rng rng;
    rng_seed(&rng, test_seed);
    enum { N = 300 };
    static uint8_t keys[N][52];
    static uint8_t values[N][40];
    static size_t key_len[N], value_len[N];
    static int ns[N], order[N];
    for (int i = 0; i < N; i++) {
        ns[i] = 1 + (int)rng_below(&rng, 3);
        key_len[i] = 1 + rng_below(&rng, 52);
        rng_fill(&rng, keys[i], key_len[i]);
        keys[i][0] = (uint8_t)i; /* distinct keys */
        key_len[i] = key_len[i] < 2 ? 2 : key_len[i];
        keys[i][1] = (uint8_t)(i >> 8);
        value_len[i] = rng_below(&rng, 41);
        rng_fill(&rng, values[i], value_len[i]);
        order[i] = i;
    }
    struct bytes enc[2];
    uint8_t digest[2][32];
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            for (int i = N - 1; i > 0; i--) {
                int j = (int)rng_below(&rng, (uint64_t)i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        struct writeset ws;
        writeset_init(&ws);
        for (int k = 0; k < N; k++) {
            int i = order[k];
            /* A stale write first, so that last-wins is exercised in both orders. */
            assert_int_equal(writeset_put(&ws, ns[i], keys[i], key_len[i], "stale", 5), TC_OK);
        }
        for (int k = 0; k < N; k++) {
            int i = order[k];
            assert_int_equal(writeset_put(&ws, ns[i], keys[i], key_len[i], values[i], value_len[i]),
                             TC_OK);
        }
        assert_int_equal(writeset_canonicalize(&ws), TC_OK);
        assert_int_equal(writeset_count(&ws), N);
        for (size_t i = 1; i < N; i++)
            assert_true(strictly_before(&ws, i - 1, i));
        bytes_init(&enc[round]);
        assert_int_equal(writeset_encode(&ws, &enc[round]), TC_OK);
        assert_int_equal(writeset_digest(&ws, digest[round]), TC_OK);
        writeset_free(&ws);
    }
    assert_true(bytes_view_eq(bytes_as_view(&enc[0]), bytes_as_view(&enc[1])));
    assert_memory_equal(digest[0], digest[1], 32);
    bytes_free(&enc[0]);
    bytes_free(&enc[1]);
}

static void test_round_trip_preserves_entries_and_digest_is_keccak_of_encoding(void **state)
{
    (void)state;
    struct writeset ws, back;
    writeset_init(&ws);
    uint8_t big[300];
    memset(big, 0xab, sizeof(big));
    put(&ws, WRITESET_NS_ACCOUNT, "\x01", "\x02");
    assert_int_equal(writeset_put(&ws, WRITESET_NS_CODE, "code-hash", 9, big, sizeof(big)), TC_OK);
    assert_int_equal(writeset_delete(&ws, WRITESET_NS_STORAGE, "slot", 4), TC_OK);
    put(&ws, WRITESET_NS_STORAGE, "empty", "");
    assert_int_equal(writeset_canonicalize(&ws), TC_OK);
    struct bytes enc;
    bytes_init(&enc);
    assert_int_equal(writeset_encode(&ws, &enc), TC_OK);
    const char *reason = NULL;
    assert_int_equal(writeset_decode(bytes_as_view(&enc), &back, &reason), TC_OK);
    assert_true(writeset_equal(&ws, &back));
    uint8_t d1[32], d2[32], want[32];
    keccak256(enc.ptr, enc.len, want);
    assert_int_equal(writeset_digest(&ws, d1), TC_OK);
    assert_int_equal(writeset_digest(&back, d2), TC_OK);
    assert_memory_equal(d1, want, 32);
    assert_memory_equal(d2, want, 32);
    struct bytes again;
    bytes_init(&again);
    assert_int_equal(writeset_encode(&back, &again), TC_OK);
    assert_true(bytes_view_eq(bytes_as_view(&enc), bytes_as_view(&again)));
    assert_int_equal(writeset_put(&back, WRITESET_NS_ACCOUNT, "k", 1, "v", 1), TC_ESTATE);
    bytes_free(&again);
    bytes_free(&enc);
    writeset_free(&back);
    writeset_free(&ws);
}

/* The empty write-set encodes as rlp([]) = 0xc0, whose keccak is the empty-ommers hash. */
static void test_empty_writeset_digest_is_keccak_of_empty_list(void **state)
{
    (void)state;
    struct writeset ws;
    writeset_init(&ws);
    uint8_t d[32], want[32];
    assert_int_equal(writeset_digest(&ws, d), TC_OK);
    assert_int_equal(
        hex_decode_exact("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347", want,
                         32),
        TC_OK);
    assert_memory_equal(d, want, 32);
    writeset_free(&ws);
}

static void test_state_root_chains_digests_from_zero_genesis(void **state)
{
    (void)state;
    uint8_t d0[32], d1[32], d2[32], buf[64], want[32];
    memset(d0, 0x10, 32);
    memset(d1, 0x11, 32);
    memset(d2, 0x12, 32);
    uint8_t r0[32], r1[32], r2[32], swapped[32], tmp[32];
    state_root_genesis(d0, r0);
    memset(buf, 0, 32);
    memcpy(buf + 32, d0, 32);
    keccak256(buf, 64, want);
    assert_memory_equal(r0, want, 32);
    state_root_next(r0, d1, r1);
    memcpy(buf, r0, 32);
    memcpy(buf + 32, d1, 32);
    keccak256(buf, 64, want);
    assert_memory_equal(r1, want, 32);
    state_root_next(r1, d2, r2);
    /* Order matters: the same digests applied in another order give another root. */
    state_root_next(r0, d2, tmp);
    state_root_next(tmp, d1, swapped);
    assert_memory_not_equal(r2, swapped, 32);
}

static void test_encode_and_digest_require_canonical_set(void **state)
{
    (void)state;
    struct writeset ws;
    writeset_init(&ws);
    put(&ws, WRITESET_NS_ACCOUNT, "a", "1");
    struct bytes out;
    bytes_init(&out);
    uint8_t d[32];
    assert_int_equal(writeset_encode(&ws, &out), TC_ESTATE);
    assert_int_equal(writeset_digest(&ws, d), TC_ESTATE);
    assert_int_equal(out.len, 0);
    bytes_free(&out);
    writeset_free(&ws);
}

static void test_put_rejects_bad_namespace_key_and_sizes(void **state)
{
    (void)state;
    struct writeset ws;
    writeset_init(&ws);
    static uint8_t big[WRITESET_MAX_VALUE_BYTES + 1];
    assert_int_equal(writeset_put(&ws, 0, "k", 1, "v", 1), TC_EINVAL);
    assert_int_equal(writeset_put(&ws, 4, "k", 1, "v", 1), TC_EINVAL);
    assert_int_equal(writeset_put(&ws, WRITESET_NS_ACCOUNT, "", 0, "v", 1), TC_EINVAL);
    assert_int_equal(
        writeset_put(&ws, WRITESET_NS_ACCOUNT, big, WRITESET_MAX_KEY_BYTES + 1, "v", 1),
        TC_ETOOBIG);
    assert_int_equal(writeset_put(&ws, WRITESET_NS_ACCOUNT, "k", 1, big, sizeof(big)), TC_ETOOBIG);
    assert_int_equal(writeset_put(&ws, WRITESET_NS_ACCOUNT, big, WRITESET_MAX_KEY_BYTES, big,
                                  WRITESET_MAX_VALUE_BYTES),
                     TC_OK);
    assert_int_equal(writeset_count(&ws), 1);
    writeset_free(&ws);
}

/* Hand-built encodings: each entry is (ns, key, value or NULL for a deletion). */
struct raw_entry {
    uint64_t ns;
    const char *key;
    const char *value;
};

static void encode_raw(const struct raw_entry *e, size_t n, struct bytes *out)
{
    size_t list = rlp_list_begin(out);
    for (size_t i = 0; i < n; i++) {
        size_t one = rlp_list_begin(out);
        assert_int_equal(rlp_encode_u64(out, e[i].ns), TC_OK);
        assert_int_equal(rlp_encode_bytes(out, e[i].key, strlen(e[i].key)), TC_OK);
        if (e[i].value)
            assert_int_equal(rlp_encode_bytes(out, e[i].value, strlen(e[i].value)), TC_OK);
        assert_int_equal(rlp_list_end(out, one), TC_OK);
    }
    assert_int_equal(rlp_list_end(out, list), TC_OK);
}

static int decode_raw(const struct raw_entry *e, size_t n, const char **reason)
{
    struct bytes b;
    struct writeset ws;
    bytes_init(&b);
    encode_raw(e, n, &b);
    int rc = writeset_decode(bytes_as_view(&b), &ws, reason);
    writeset_free(&ws);
    bytes_free(&b);
    return rc;
}

static void test_decode_rejects_unsorted_duplicate_and_malformed_entries(void **state)
{
    (void)state;
    const char *reason = NULL;
    const struct raw_entry good[] = { { 1, "a", "1" }, { 1, "ab", NULL }, { 2, "a", "" } };
    assert_int_equal(decode_raw(good, 3, &reason), TC_OK);

    const struct raw_entry unsorted_key[] = { { 1, "b", "1" }, { 1, "a", "1" } };
    assert_int_equal(decode_raw(unsorted_key, 2, &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "sorted"));
    const struct raw_entry unsorted_ns[] = { { 2, "a", "1" }, { 1, "b", "1" } };
    assert_int_equal(decode_raw(unsorted_ns, 2, &reason), TC_EINVAL);
    const struct raw_entry prefix_after[] = { { 1, "ab", "1" }, { 1, "a", "1" } };
    assert_int_equal(decode_raw(prefix_after, 2, &reason), TC_EINVAL);
    const struct raw_entry duplicate[] = { { 1, "a", "1" }, { 1, "a", NULL } };
    assert_int_equal(decode_raw(duplicate, 2, &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "sorted"));
    const struct raw_entry bad_ns[] = { { 7, "a", "1" } };
    assert_int_equal(decode_raw(bad_ns, 1, &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "namespace"));
    const struct raw_entry zero_ns[] = { { 0, "a", "1" } };
    assert_int_equal(decode_raw(zero_ns, 1, &reason), TC_EINVAL);
    const struct raw_entry empty_key[] = { { 1, "", "1" } };
    assert_int_equal(decode_raw(empty_key, 1, &reason), TC_EINVAL);
    assert_non_null(strstr(reason, "empty key"));

    char long_key[WRITESET_MAX_KEY_BYTES + 2];
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = 0;
    const struct raw_entry oversized_key[] = { { 1, long_key, "1" } };
    assert_int_equal(decode_raw(oversized_key, 1, &reason), TC_ETOOBIG);
}

static void test_decode_rejects_truncated_trailing_and_wrong_shapes(void **state)
{
    (void)state;
    const char *reason = NULL;
    struct writeset ws;
    struct bytes b;
    bytes_init(&b);
    const struct raw_entry good[] = { { 1, "key", "value" } };
    encode_raw(good, 1, &b);

    assert_int_equal(writeset_decode(bytes_view_of(b.ptr, b.len - 1), &ws, &reason), TC_ETRUNCATED);
    writeset_free(&ws);
    assert_int_equal(bytes_push(&b, 0x00), TC_OK);
    assert_int_equal(writeset_decode(bytes_as_view(&b), &ws, &reason), TC_ETRAILING);
    writeset_free(&ws);

    /* An entry with four fields, an entry that is a string, a top level that is a string. */
    static const uint8_t four_fields[] = { 0xc5, 0xc4, 0x01, 0x61, 0x62, 0x63 };
    assert_int_equal(writeset_decode(bytes_view_of(four_fields, sizeof(four_fields)), &ws, &reason),
                     TC_EINVAL);
    writeset_free(&ws);
    static const uint8_t string_entry[] = { 0xc1, 0x01 };
    assert_int_equal(
        writeset_decode(bytes_view_of(string_entry, sizeof(string_entry)), &ws, &reason),
        TC_EINVAL);
    writeset_free(&ws);
    static const uint8_t string_top[] = { 0x82, 0x01, 0x02 };
    assert_int_not_equal(
        writeset_decode(bytes_view_of(string_top, sizeof(string_top)), &ws, &reason), TC_OK);
    writeset_free(&ws);
    /* Namespace 1 written with a leading zero byte is non-canonical. */
    static const uint8_t padded_ns[] = { 0xc6, 0xc5, 0x82, 0x00, 0x01, 0x61, 0x62 };
    assert_int_equal(writeset_decode(bytes_view_of(padded_ns, sizeof(padded_ns)), &ws, &reason),
                     TC_ENONCANONICAL);
    writeset_free(&ws);
    bytes_free(&b);
}

int main(void)
{
    const char *env = getenv("TC_SEED");
    test_seed = env ? strtoull(env, NULL, 0) : 20261124;
    printf("test_writeset: seed %llu (set TC_SEED to replay)\n", (unsigned long long)test_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonicalize_orders_by_namespace_then_key_with_prefix_first),
        cmocka_unit_test(test_last_write_to_a_key_wins_including_deletions),
        cmocka_unit_test(test_canonical_encoding_is_independent_of_append_order),
        cmocka_unit_test(test_round_trip_preserves_entries_and_digest_is_keccak_of_encoding),
        cmocka_unit_test(test_empty_writeset_digest_is_keccak_of_empty_list),
        cmocka_unit_test(test_state_root_chains_digests_from_zero_genesis),
        cmocka_unit_test(test_encode_and_digest_require_canonical_set),
        cmocka_unit_test(test_put_rejects_bad_namespace_key_and_sizes),
        cmocka_unit_test(test_decode_rejects_unsorted_duplicate_and_malformed_entries),
        cmocka_unit_test(test_decode_rejects_truncated_trailing_and_wrong_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
