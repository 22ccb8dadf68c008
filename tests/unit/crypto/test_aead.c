/*
 * test_aead.c - AES-256-GCM against the 256-bit-key test cases of McGrew and
 * Viega, "The Galois/Counter Mode of Operation (GCM)", Appendix B (test cases
 * 13-16; 17 and 18 use 8- and 60-byte IVs, which this API does not take), and
 * tamper tests: no flipped bit of ciphertext, tag, AAD or nonce opens, and a
 * failed open releases no plaintext.
 *
 * Random messages come from rng.h; seed printed, replay with TC_SEED=<seed>.
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
#include "base/rng.h"
#include "crypto/aead.h"

static uint64_t test_seed;

static uint64_t seed_from_env(void)
{
    const char *s = getenv("TC_SEED");
    uint64_t seed = s != NULL ? strtoull(s, NULL, 0) : rng_fresh_seed();
    printf("test_aead: seed %llu (replay with TC_SEED=%llu)\n", (unsigned long long)seed,
           (unsigned long long)seed);
    return seed;
}

struct gcm_case {
    const char *key, *iv, *pt, *aad, *ct, *tag;
};

static size_t decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t len = 0;
    assert_int_equal(hex_decode(hex, strlen(hex), out, cap, &len), TC_OK);
    return len;
}

static void check_case(const struct gcm_case *c)
{
    uint8_t key[32], iv[12], pt[64], aad[32], ct[64], tag[16];
    uint8_t got_ct[64], got_tag[16], got_pt[64];
    assert_int_equal(decode(c->key, key, sizeof(key)), 32);
    assert_int_equal(decode(c->iv, iv, sizeof(iv)), 12);
    size_t pt_len = decode(c->pt, pt, sizeof(pt));
    size_t aad_len = decode(c->aad, aad, sizeof(aad));
    assert_int_equal(decode(c->ct, ct, sizeof(ct)), pt_len);
    assert_int_equal(decode(c->tag, tag, sizeof(tag)), 16);

    assert_int_equal(aead_seal(key, iv, aad_len ? aad : NULL, aad_len, pt_len ? pt : NULL, pt_len,
                               got_ct, got_tag),
                     TC_OK);
    assert_memory_equal(got_ct, ct, pt_len);
    assert_memory_equal(got_tag, tag, 16);
    assert_int_equal(
        aead_open(key, iv, aad_len ? aad : NULL, aad_len, pt_len ? ct : NULL, pt_len, tag, got_pt),
        TC_OK);
    assert_memory_equal(got_pt, pt, pt_len);
}

static void test_gcm_spec_case13_empty_message(void **state)
{
    const struct gcm_case c = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000",
        "",
        "",
        "",
        "530f8afbc74536b9a963b4f1c4cb738b",
    };
    check_case(&c);
}

static void test_gcm_spec_case14_one_zero_block(void **state)
{
    const struct gcm_case c = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000",
        "00000000000000000000000000000000",
        "",
        "cea7403d4d606b6e074ec5d3baf39d18",
        "d0d1c8a799996bf0265b98b5d48ab919",
    };
    check_case(&c);
}

static void test_gcm_spec_case15_four_blocks(void **state)
{
    const struct gcm_case c = {
        "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        "cafebabefacedbaddecaf888",
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
        "",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
        "b094dac5d93471bdec1a502270e3cc6c",
    };
    check_case(&c);
}

static void test_gcm_spec_case16_partial_block_with_aad(void **state)
{
    const struct gcm_case c = {
        "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        "cafebabefacedbaddecaf888",
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
        "76fc6ece0f4e1768cddf8853bb2d551b",
    };
    check_case(&c);
}

/* A random sealed message, for the tamper tests. */
struct sealed {
    uint8_t key[32], nonce[12], aad[24], pt[100], ct[100], tag[16];
};

static void make_sealed(struct sealed *m, struct rng *r)
{
    rng_fill(r, m->key, sizeof(m->key));
    rng_fill(r, m->nonce, sizeof(m->nonce));
    rng_fill(r, m->aad, sizeof(m->aad));
    rng_fill(r, m->pt, sizeof(m->pt));
    assert_int_equal(
        aead_seal(m->key, m->nonce, m->aad, sizeof(m->aad), m->pt, sizeof(m->pt), m->ct, m->tag),
        TC_OK);
}

/* Opens m and expects TC_ECRYPTO with an all-zero output buffer. */
static void assert_open_fails_and_wipes(const struct sealed *m)
{
    static const uint8_t zeros[sizeof(m->pt)];
    uint8_t out[sizeof(m->pt)];
    memset(out, 0xaa, sizeof(out));
    assert_int_equal(
        aead_open(m->key, m->nonce, m->aad, sizeof(m->aad), m->ct, sizeof(m->ct), m->tag, out),
        TC_ECRYPTO);
    assert_memory_equal(out, zeros, sizeof(out));
}

static void test_any_flipped_bit_is_rejected_without_releasing_plaintext(void **state)
{
    struct rng r;
    rng_seed(&r, test_seed);
    struct sealed m;
    make_sealed(&m, &r);
    uint8_t out[sizeof(m.pt)];
    assert_int_equal(
        aead_open(m.key, m.nonce, m.aad, sizeof(m.aad), m.ct, sizeof(m.ct), m.tag, out), TC_OK);
    assert_memory_equal(out, m.pt, sizeof(out));

    for (size_t bit = 0; bit < 8 * sizeof(m.ct); bit++) {
        struct sealed t = m;
        t.ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_open_fails_and_wipes(&t);
    }
    for (size_t bit = 0; bit < 8 * sizeof(m.tag); bit++) {
        struct sealed t = m;
        t.tag[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_open_fails_and_wipes(&t);
    }
    for (size_t bit = 0; bit < 8 * sizeof(m.aad); bit++) {
        struct sealed t = m;
        t.aad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_open_fails_and_wipes(&t);
    }
    for (size_t bit = 0; bit < 8 * sizeof(m.nonce); bit++) {
        struct sealed t = m;
        t.nonce[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_open_fails_and_wipes(&t);
    }
    struct sealed t = m;
    t.key[0] ^= 1;
    assert_open_fails_and_wipes(&t);
}

static void test_missing_or_extra_aad_is_rejected(void **state)
{
    struct rng r;
    rng_seed(&r, test_seed + 1);
    struct sealed m;
    make_sealed(&m, &r);
    uint8_t out[sizeof(m.pt)];
    assert_int_equal(aead_open(m.key, m.nonce, NULL, 0, m.ct, sizeof(m.ct), m.tag, out),
                     TC_ECRYPTO);
    assert_int_equal(
        aead_open(m.key, m.nonce, m.aad, sizeof(m.aad) - 1, m.ct, sizeof(m.ct), m.tag, out),
        TC_ECRYPTO);
    /* A truncated ciphertext is a different message: the tag fails. */
    assert_int_equal(
        aead_open(m.key, m.nonce, m.aad, sizeof(m.aad), m.ct, sizeof(m.ct) - 1, m.tag, out),
        TC_ECRYPTO);
}

static void test_seal_and_open_in_place_round_trip(void **state)
{
    struct rng r;
    rng_seed(&r, test_seed + 2);
    uint8_t key[32], nonce[12], buf[1000], orig[1000], tag[16];
    rng_fill(&r, key, sizeof(key));
    rng_fill(&r, nonce, sizeof(nonce));
    for (size_t len = 0; len <= sizeof(buf); len += 37) {
        rng_fill(&r, orig, len);
        memcpy(buf, orig, len);
        assert_int_equal(aead_seal(key, nonce, NULL, 0, buf, len, buf, tag), TC_OK);
        if (len > 0)
            assert_memory_not_equal(buf, orig, len);
        assert_int_equal(aead_open(key, nonce, NULL, 0, buf, len, tag, buf), TC_OK);
        assert_memory_equal(buf, orig, len);
    }
}

int main(void)
{
    test_seed = seed_from_env();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcm_spec_case13_empty_message),
        cmocka_unit_test(test_gcm_spec_case14_one_zero_block),
        cmocka_unit_test(test_gcm_spec_case15_four_blocks),
        cmocka_unit_test(test_gcm_spec_case16_partial_block_with_aad),
        cmocka_unit_test(test_any_flipped_bit_is_rejected_without_releasing_plaintext),
        cmocka_unit_test(test_missing_or_extra_aad_is_rejected),
        cmocka_unit_test(test_seal_and_open_in_place_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
