/* test_trie.c - Merkle Patricia Trie roots. */
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
#include "codec/rlp.h"
#include "crypto/keccak.h"
#include "trie/trie.h"

static uint64_t test_seed;

static struct trie_pair str_pair(const char *k, const char *v)
{
    struct trie_pair p = { bytes_view_of(k, strlen(k)), bytes_view_of(v, strlen(v)) };
    return p;
}

static void assert_root(const uint8_t root[32], const char *hex)
{
    uint8_t want[32];
    assert_int_equal(hex_decode_exact(hex, want, 32), TC_OK);
    assert_memory_equal(root, want, 32);
}

static void test_empty_trie_root_is_keccak_of_empty_string(void **state)
{
    uint8_t root[32], h[32];
    const uint8_t empty_string = 0x80;
    keccak256(&empty_string, 1, h);
    assert_memory_equal(trie_empty_root, h, 32);
    assert_int_equal(trie_root(NULL, 0, root), TC_OK);
    assert_root(root, "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
    assert_int_equal(trie_secure_root(NULL, 0, root), TC_OK);
    assert_memory_equal(root, trie_empty_root, 32);
    assert_int_equal(trie_ordered_root(NULL, 0, root), TC_OK);
    assert_memory_equal(root, trie_empty_root, 32);
}

/* Yellow Paper-style examples (values from ethereum/tests trieanyorder.json). */
static void test_root_of_leaf_extension_and_branch_nodes(void **state)
{
    uint8_t root[32];
    struct trie_pair one[] = { str_pair("A",
                                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") };
    assert_int_equal(trie_root(one, 1, root), TC_OK);
    assert_root(root, "d23786fb4a010da3ce639d66d5e904a11dbc02746d1ce25029e53290cabf28ab");

    /* Short nodes embedded in their parent; a branch holding a value. */
    struct trie_pair puppy[] = { str_pair("do", "verb"), str_pair("horse", "stallion"),
                                 str_pair("doge", "coin"), str_pair("dog", "puppy") };
    assert_int_equal(trie_root(puppy, 4, root), TC_OK);
    assert_root(root, "5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84");

    struct trie_pair dogs[] = { str_pair("doe", "reindeer"), str_pair("dog", "puppy"),
                                str_pair("dogglesworth", "cat") };
    assert_int_equal(trie_root(dogs, 3, root), TC_OK);
    assert_root(root, "8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3");
}

static void test_secure_root_hashes_keys(void **state)
{
    uint8_t root[32];
    struct trie_pair one[] = { str_pair("A",
                                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") };
    assert_int_equal(trie_secure_root(one, 1, root), TC_OK);
    assert_root(root, "e9e2935138352776cad724d31c9fa5266a5c593bb97726dd2a908fe6d53284df");
    struct trie_pair puppy[] = { str_pair("do", "verb"), str_pair("horse", "stallion"),
                                 str_pair("doge", "coin"), str_pair("dog", "puppy") };
    assert_int_equal(trie_secure_root(puppy, 4, root), TC_OK);
    assert_root(root, "29b235a58c3c25ab83010c327d5932bcf05324b7d6b1185e650798034783ca9d");
}

static void test_empty_values_are_absent(void **state)
{
    uint8_t with[32], without[32];
    struct trie_pair a[] = { str_pair("do", "verb"),        str_pair("ether", ""),
                             str_pair("horse", "stallion"), str_pair("doge", "coin"),
                             str_pair("dog", "puppy"),      str_pair("shaman", "") };
    assert_int_equal(trie_root(a, 6, with), TC_OK);
    assert_root(with, "5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84");
    struct trie_pair b[] = { str_pair("x", "") };
    assert_int_equal(trie_root(b, 1, without), TC_OK);
    assert_memory_equal(without, trie_empty_root, 32);
}

static void test_rejects_duplicate_and_oversized_keys(void **state)
{
    uint8_t root[32];
    struct trie_pair dup[] = { str_pair("dog", "a"), str_pair("cat", "b"), str_pair("dog", "c") };
    assert_int_equal(trie_root(dup, 3, root), TC_EINVAL);
    static uint8_t big[TRIE_MAX_KEY_BYTES + 1];
    struct trie_pair huge[] = { { bytes_view_of(big, sizeof(big)), bytes_view_of("v", 1) } };
    assert_int_equal(trie_root(huge, 1, root), TC_ETOOBIG);
    huge[0].key.len = TRIE_MAX_KEY_BYTES;
    assert_int_equal(trie_root(huge, 1, root), TC_OK);
}

static void test_root_does_not_depend_on_input_order(void **state)
{
    struct rng r;
    rng_seed(&r, test_seed);
    enum { N = 300 };
    static uint8_t keys[N][6], values[N][40];
    struct trie_pair pairs[N];
    for (size_t i = 0; i < N; i++) {
        rng_fill(&r, keys[i], sizeof(keys[i]));
        keys[i][0] = (uint8_t)(i & 0x0f); /* shared prefixes force extension nodes */
        keys[i][4] = (uint8_t)(i >> 8);   /* bytes 4 and 5 hold i: keys are distinct */
        keys[i][5] = (uint8_t)i;
        size_t vlen = 1 + rng_below(&r, sizeof(values[i]));
        rng_fill(&r, values[i], vlen);
        pairs[i].key = bytes_view_of(keys[i], 6);
        pairs[i].value = bytes_view_of(values[i], vlen);
    }
    uint8_t first[32], again[32];
    assert_int_equal(trie_root(pairs, N, first), TC_OK);
    for (int round = 0; round < 5; round++) {
        for (size_t i = N - 1; i > 0; i--) {
            size_t j = rng_below(&r, i + 1);
            struct trie_pair t = pairs[i];
            pairs[i] = pairs[j];
            pairs[j] = t;
        }
        assert_int_equal(trie_root(pairs, N, again), TC_OK);
        assert_memory_equal(first, again, 32);
    }
    /* Changing one value changes the root. */
    values[7][0] ^= 1;
    assert_int_equal(trie_root(pairs, N, again), TC_OK);
    assert_memory_not_equal(first, again, 32);
}

static void test_ordered_root_keys_are_rlp_indexes(void **state)
{
    enum { N = 300 }; /* past 127 and 255, where rlp(i) changes length */
    static uint8_t data[N][8];
    struct bytes_view values[N];
    struct trie_pair pairs[N];
    struct bytes keys;
    bytes_init(&keys);
    assert_int_equal(bytes_reserve(&keys, 9 * N), TC_OK);
    for (size_t i = 0; i < N; i++) {
        memset(data[i], (int)i, sizeof(data[i]));
        values[i] = bytes_view_of(data[i], sizeof(data[i]));
        size_t at = keys.len;
        assert_int_equal(rlp_encode_u64(&keys, i), TC_OK);
        pairs[i].key = bytes_view_of(keys.ptr + at, keys.len - at);
        pairs[i].value = values[i];
    }
    uint8_t a[32], b[32];
    assert_int_equal(trie_ordered_root(values, N, a), TC_OK);
    assert_int_equal(trie_root(pairs, N, b), TC_OK);
    assert_memory_equal(a, b, 32);
    assert_memory_not_equal(a, trie_empty_root, 32);
    bytes_free(&keys);
}

int main(void)
{
    const char *env = getenv("TC_SEED");
    test_seed = env ? strtoull(env, NULL, 0) : 20261124;
    printf("test_trie: seed %llu (set TC_SEED to replay)\n", (unsigned long long)test_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_trie_root_is_keccak_of_empty_string),
        cmocka_unit_test(test_root_of_leaf_extension_and_branch_nodes),
        cmocka_unit_test(test_secure_root_hashes_keys),
        cmocka_unit_test(test_empty_values_are_absent),
        cmocka_unit_test(test_rejects_duplicate_and_oversized_keys),
        cmocka_unit_test(test_root_does_not_depend_on_input_order),
        cmocka_unit_test(test_ordered_root_keys_are_rlp_indexes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
