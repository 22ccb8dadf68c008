/*
 * test_x25519.c - X25519 against RFC 7748 §5.2 (scalar multiplication,
 * including the iterated vector to 1,000 rounds) and §6.1 (Diffie-Hellman),
 * the all-zero-output rejection of §6.1, and fresh key pairs agreeing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "base/error.h"
#include "crypto/x25519.h"

static void hex32(const char *hex, uint8_t out[32])
{
    assert_int_equal(hex_decode_exact(hex, out, 32), TC_OK);
}

static void assert_hex32(const uint8_t got[32], const char *hex)
{
    uint8_t want[32];
    hex32(hex, want);
    assert_memory_equal(got, want, 32);
}

static void test_rfc7748_section5_2_scalar_multiplication(void **state)
{
    uint8_t k[32], u[32], out[32];
    hex32("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", k);
    hex32("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", u);
    assert_int_equal(x25519_shared_secret(k, u, out), TC_OK);
    assert_hex32(out, "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");

    /* The u-coordinate's top bit is set here: it must be masked (§5). */
    hex32("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d", k);
    hex32("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493", u);
    assert_int_equal(x25519_shared_secret(k, u, out), TC_OK);
    assert_hex32(out, "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

static void test_rfc7748_section5_2_iterated_to_1000(void **state)
{
    /* k = u = 9; repeat: r = X25519(k, u), u = k, k = r. */
    uint8_t k[32] = { 9 }, u[32] = { 9 }, r[32];
    for (int i = 1; i <= 1000; i++) {
        assert_int_equal(x25519_shared_secret(k, u, r), TC_OK);
        memcpy(u, k, 32);
        memcpy(k, r, 32);
        if (i == 1)
            assert_hex32(k, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    }
    assert_hex32(k, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

static void test_rfc7748_section6_1_diffie_hellman(void **state)
{
    uint8_t alice[32], bob[32], alice_pub[32], bob_pub[32], s1[32], s2[32];
    hex32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", alice);
    hex32("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", bob);
    assert_int_equal(x25519_public_from_private(alice, alice_pub), TC_OK);
    assert_hex32(alice_pub, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    assert_int_equal(x25519_public_from_private(bob, bob_pub), TC_OK);
    assert_hex32(bob_pub, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    assert_int_equal(x25519_shared_secret(alice, bob_pub, s1), TC_OK);
    assert_int_equal(x25519_shared_secret(bob, alice_pub, s2), TC_OK);
    assert_hex32(s1, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    assert_memory_equal(s1, s2, 32);
}

static void test_low_order_peer_key_is_rejected(void **state)
{
    /* u = 0 and u = 1 are points of small order: X25519 gives all zeros for
     * every scalar, which §6.1 says to reject. The output must be wiped. */
    static const uint8_t zeros[32];
    uint8_t priv[32], pub[32], low[32] = { 0 }, out[32];
    assert_int_equal(x25519_keygen(priv, pub), TC_OK);
    memset(out, 0xaa, sizeof(out));
    assert_int_equal(x25519_shared_secret(priv, low, out), TC_ECRYPTO);
    assert_memory_equal(out, zeros, 32);
    low[0] = 1;
    memset(out, 0xaa, sizeof(out));
    assert_int_equal(x25519_shared_secret(priv, low, out), TC_ECRYPTO);
    assert_memory_equal(out, zeros, 32);
}

static void test_fresh_key_pairs_agree(void **state)
{
    uint8_t a[32], a_pub[32], b[32], b_pub[32], s1[32], s2[32], again[32];
    assert_int_equal(x25519_keygen(a, a_pub), TC_OK);
    assert_int_equal(x25519_keygen(b, b_pub), TC_OK);
    assert_memory_not_equal(a, b, 32);
    assert_int_equal(x25519_public_from_private(a, again), TC_OK);
    assert_memory_equal(again, a_pub, 32);
    assert_int_equal(x25519_shared_secret(a, b_pub, s1), TC_OK);
    assert_int_equal(x25519_shared_secret(b, a_pub, s2), TC_OK);
    assert_memory_equal(s1, s2, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7748_section5_2_scalar_multiplication),
        cmocka_unit_test(test_rfc7748_section5_2_iterated_to_1000),
        cmocka_unit_test(test_rfc7748_section6_1_diffie_hellman),
        cmocka_unit_test(test_low_order_peer_key_is_rejected),
        cmocka_unit_test(test_fresh_key_pairs_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
