/* test_mac.c - HMAC-SHA256 against RFC 4231 section 4 test cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "base/error.h"
#include "crypto/mac.h"

struct vector {
    const char *key_hex;
    const char *data_hex;
    const char *mac_hex;
};

/* RFC 4231 §4.2-4.4, 4.6, 4.7 (4.5 is a truncated-output case). */
static const struct vector vectors[] = {
    { "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
    { "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
      "dddddddd",
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b"
      "6579204669727374",
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
};

static void decode(const char *hex, struct bytes *out)
{
    assert_int_equal(hex_decode_alloc(hex, true, out), TC_OK);
}

static void test_rfc4231_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        struct bytes key, data, want;
        decode(vectors[i].key_hex, &key);
        decode(vectors[i].data_hex, &data);
        decode(vectors[i].mac_hex, &want);
        uint8_t got[32];
        assert_int_equal(hmac_sha256(key.ptr, key.len, data.ptr, data.len, got), TC_OK);
        assert_memory_equal(got, want.ptr, 32);
        bytes_free(&key);
        bytes_free(&data);
        bytes_free(&want);
    }
}

static void test_keyed_object_equals_one_shot_over_parts(void **state)
{
    struct bytes key, data, want;
    decode(vectors[2].key_hex, &key);
    decode(vectors[2].data_hex, &data);
    decode(vectors[2].mac_hex, &want);
    struct hmac_sha256_key *k;
    assert_int_equal(hmac_sha256_key_new(key.ptr, key.len, &k), TC_OK);
    for (size_t split = 0; split <= data.len; split += 7) {
        const void *ptrs[2] = { data.ptr, data.ptr + split };
        size_t lens[2] = { split, data.len - split };
        uint8_t got[32];
        assert_int_equal(hmac_sha256_parts(k, ptrs, lens, 2, got), TC_OK);
        assert_memory_equal(got, want.ptr, 32);
    }
    /* The keyed object is reusable: a different message gives a different MAC. */
    const void *one = "x";
    size_t one_len = 1;
    uint8_t other[32];
    assert_int_equal(hmac_sha256_parts(k, &one, &one_len, 1, other), TC_OK);
    assert_memory_not_equal(other, want.ptr, 32);
    hmac_sha256_key_free(k);
    bytes_free(&key);
    bytes_free(&data);
    bytes_free(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4231_vectors),
        cmocka_unit_test(test_keyed_object_equals_one_shot_over_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
