/*
 * test_keccak.c - Keccak-256 (Ethereum's padding) and SHA3-256 on the same
 * permutation: published digests, Ethereum transaction hashes spanning
 * several rate blocks, incremental vs one-shot at random split points, and a
 * differential check of the permutation against OpenSSL's SHA3-256.
 *
 * Random inputs come from rng.h; the seed is printed and can be replayed with
 * TC_SEED=<seed>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "base/bytes.h"
#include "base/error.h"
#include "base/rng.h"
#include "crypto/keccak.h"

static uint64_t test_seed;

static uint64_t seed_from_env(void)
{
    const char *s = getenv("TC_SEED");
    uint64_t seed = s != NULL ? strtoull(s, NULL, 0) : rng_fresh_seed();
    printf("test_keccak: seed %llu (replay with TC_SEED=%llu)\n", (unsigned long long)seed,
           (unsigned long long)seed);
    return seed;
}

static void assert_digest_hex(const uint8_t digest[32], const char *hex)
{
    uint8_t want[32];
    assert_int_equal(hex_decode_exact(hex, want, sizeof(want)), TC_OK);
    assert_memory_equal(digest, want, sizeof(want));
}

static void test_keccak256_of_empty_input_is_ethereum_empty_hash(void **state)
{
    /* Keccak team round-3 KAT (KeccakKAT-3, ShortMsgKAT_256.txt, Len = 0); it
     * is also the hash of empty code that EIP-1052 (EXTCODEHASH) quotes. */
    uint8_t out[32];
    keccak256(NULL, 0, out);
    assert_digest_hex(out, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    keccak256("", 0, out);
    assert_digest_hex(out, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}

static void test_keccak256_of_abc(void **state)
{
    /* No standard lists Keccak-256("abc"); this is the value Ethereum tooling
     * pins (web3.sha3("abc")). The permutation itself is checked against
     * OpenSSL below and multi-block inputs against ethereum/tests. */
    uint8_t out[32];
    keccak256("abc", 3, out);
    assert_digest_hex(out, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

static void test_sha3_256_padding_gives_fips202_digests(void **state)
{
    /* FIPS 202 SHA3-256 examples (NIST CSRC "SHA3-256" example values):
     * the empty message and "abc". The same sponge with padding 0x06. */
    uint8_t out[32];
    sha3_256(NULL, 0, out);
    assert_digest_hex(out, "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
    sha3_256("abc", 3, out);
    assert_digest_hex(out, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
}

/* Loads a TransactionTests file and checks keccak256(txbytes) == result.*.hash. */
static void check_tx_hash_file(const char *rel_path, size_t expected_len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", TC_ETH_TESTS, rel_path);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "missing Ethereum test vector %s\n", path);
        fail();
    }
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';

    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    cJSON *test = root->child;
    assert_non_null(test);
    const char *txbytes = cJSON_GetStringValue(cJSON_GetObjectItem(test, "txbytes"));
    cJSON *result = cJSON_GetObjectItem(test, "result");
    assert_non_null(txbytes);
    assert_non_null(result);
    /* Forks where the transaction is invalid carry no hash; take the first
     * fork that has one (all forks agree on it). */
    const char *hash = NULL;
    for (cJSON *fork = result->child; fork != NULL && hash == NULL; fork = fork->next)
        hash = cJSON_GetStringValue(cJSON_GetObjectItem(fork, "hash"));
    assert_non_null(hash);

    struct bytes raw;
    bytes_init(&raw);
    assert_int_equal(hex_decode_alloc(txbytes, false, &raw), TC_OK);
    assert_int_equal(raw.len, expected_len);
    uint8_t out[32];
    keccak256(raw.ptr, raw.len, out);
    assert_digest_hex(out, hash);
    bytes_free(&raw);
    cJSON_Delete(root);
}

static void test_keccak256_reproduces_ethereum_tx_hashes_over_several_blocks(void **state)
{
    /* ethereum/tests TransactionTests: a transaction's hash is the Keccak-256
     * of its RLP. These two are 511 and 510 bytes: three full 136-byte blocks
     * plus a tail, on either side of a one-byte difference. */
    check_tx_hash_file("TransactionTests/ttData/dataTx_bcValidBlockTest.json", 511);
    check_tx_hash_file("TransactionTests/ttData/dataTx_bcValidBlockTestFrontier.json", 510);
}

static void test_incremental_matches_one_shot_at_random_split_points(void **state)
{
    /* Lengths around the 136-byte rate: one below, at, one above, two blocks. */
    static const size_t lengths[] = { 0, 1, 135, 136, 137, 271, 272, 273, 1000, 4096 };
    static uint8_t data[4096];
    struct rng r;
    rng_seed(&r, test_seed);
    for (size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
        size_t len = lengths[li];
        rng_fill(&r, data, len);
        uint8_t want[32], got[32];
        keccak256(data, len, want);
        for (int trial = 0; trial < 50; trial++) {
            struct keccak256_ctx ctx;
            keccak256_init(&ctx);
            size_t pos = 0;
            /* Up to four pieces, some possibly empty. */
            for (int piece = 0; piece < 3 && pos < len; piece++) {
                size_t take = (size_t)rng_below(&r, len - pos + 1);
                keccak256_update(&ctx, data + pos, take);
                pos += take;
            }
            keccak256_update(&ctx, data + pos, len - pos);
            keccak256_final(&ctx, got);
            assert_memory_equal(got, want, 32);
        }
        /* Byte by byte, the most fragmented split. */
        struct keccak256_ctx ctx;
        keccak256_init(&ctx);
        for (size_t i = 0; i < len; i++)
            keccak256_update(&ctx, data + i, 1);
        keccak256_final(&ctx, got);
        assert_memory_equal(got, want, 32);
    }
}

static void test_boundary_lengths_give_distinct_digests(void **state)
{
    /* 135, 136, 137 and 272 zero bytes: the padding lands in the same byte
     * (0x81), in a block of its own, or after a full block; each must give a
     * different digest, and differ from SHA3's. */
    static const uint8_t zeros[272];
    static const size_t lengths[] = { 135, 136, 137, 272 };
    uint8_t d[4][32], s[32];
    for (int i = 0; i < 4; i++) {
        keccak256(zeros, lengths[i], d[i]);
        sha3_256(zeros, lengths[i], s);
        assert_memory_not_equal(d[i], s, 32);
        for (int j = 0; j < i; j++)
            assert_memory_not_equal(d[i], d[j], 32);
    }
}

static void test_sha3_padding_matches_openssl_sha3_256_on_random_inputs(void **state)
{
    /* The only difference between keccak256 and SHA3-256 is the padding byte,
     * so agreement with OpenSSL's independent SHA3-256 on every length up to
     * five blocks checks the permutation, the sponge and the buffering. */
    static uint8_t data[5 * KECCAK256_RATE_BYTES + 1];
    struct rng r;
    rng_seed(&r, test_seed ^ 0x5a5a5a5aULL);
    for (size_t len = 0; len <= sizeof(data); len++) {
        rng_fill(&r, data, len);
        uint8_t ours[32], theirs[32];
        unsigned int theirs_len = 0;
        sha3_256(data, len, ours);
        assert_int_equal(EVP_Digest(data, len, theirs, &theirs_len, EVP_sha3_256(), NULL), 1);
        assert_int_equal(theirs_len, 32);
        assert_memory_equal(ours, theirs, 32);
    }
}

static void test_final_wipes_the_context(void **state)
{
    static const uint8_t zero_ctx[sizeof(struct keccak256_ctx)];
    struct keccak256_ctx ctx;
    uint8_t out[32];
    keccak256_init(&ctx);
    keccak256_update(&ctx, "secret material", 15);
    keccak256_final(&ctx, out);
    assert_memory_equal(&ctx, zero_ctx, sizeof(ctx));
}

int main(void)
{
    test_seed = seed_from_env();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keccak256_of_empty_input_is_ethereum_empty_hash),
        cmocka_unit_test(test_keccak256_of_abc),
        cmocka_unit_test(test_sha3_256_padding_gives_fips202_digests),
        cmocka_unit_test(test_keccak256_reproduces_ethereum_tx_hashes_over_several_blocks),
        cmocka_unit_test(test_incremental_matches_one_shot_at_random_split_points),
        cmocka_unit_test(test_boundary_lengths_give_distinct_digests),
        cmocka_unit_test(test_sha3_padding_matches_openssl_sha3_256_on_random_inputs),
        cmocka_unit_test(test_final_wipes_the_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
