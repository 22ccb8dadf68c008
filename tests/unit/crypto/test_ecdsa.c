/*
 * test_ecdsa.c - secp256k1 the Ethereum way: known keys and addresses, the
 * EIP-155 example signature, sign/recover round trips on seeded random keys,
 * the low-s rule, malformed r/s/recid, unrecoverable signatures, and
 * concurrent recovery through the shared context.
 *
 * Random keys and hashes come from rng.h (test keys only); the seed is
 * printed and can be replayed with TC_SEED=<seed>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "base/error.h"
#include "base/rng.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"

static uint64_t test_seed;

static uint64_t seed_from_env(void)
{
    const char *s = getenv("TC_SEED");
    uint64_t seed = s != NULL ? strtoull(s, NULL, 0) : rng_fresh_seed();
    printf("test_ecdsa: seed %llu (replay with TC_SEED=%llu)\n", (unsigned long long)seed,
           (unsigned long long)seed);
    return seed;
}

/* secp256k1 group order n (SEC 2 §2.4.1), big-endian. */
static const char order_hex[] = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

static void hex_exact(const char *hex, uint8_t *out, size_t len)
{
    assert_int_equal(hex_decode_exact(hex, out, len), TC_OK);
}

static void assert_hex(const uint8_t *got, size_t len, const char *hex)
{
    uint8_t want[64];
    assert_true(len <= sizeof(want));
    hex_exact(hex, want, len);
    assert_memory_equal(got, want, len);
}

/* out = n - s (s in [1, n-1]), big-endian. */
static void order_minus(const uint8_t s[32], uint8_t out[32])
{
    uint8_t n[32];
    hex_exact(order_hex, n, 32);
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = (int)n[i] - (int)s[i] - borrow;
        borrow = d < 0;
        out[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
}

/* A valid secret key drawn from the test RNG (never for real keys). */
static void test_seckey(struct rng *r, uint8_t seckey[32])
{
    uint8_t pub[64];
    do {
        rng_fill(r, seckey, 32);
    } while (ecdsa_pubkey(seckey, pub) != TC_OK);
}

static void test_private_key_one_has_known_address(void **state)
{
    /* The address of the generator point G (secret key 1). */
    uint8_t key[32] = { 0 }, addr[20];
    key[31] = 1;
    assert_int_equal(ecdsa_address_from_seckey(key, addr), TC_OK);
    assert_hex(addr, 20, "7e5f4552091a69125d5dfcb7b8c2659029395bdf");
}

static void test_eip155_example_key_and_signature(void **state)
{
    /* EIP-155 "Example": secret key 0x4646...46, chain id 1; the signing
     * hash of the example transaction and its signature (v = 37, so recid 0). */
    uint8_t key[32], addr[20], hash[32], r[32], s[32], rec[20];
    int recid = -1;
    memset(key, 0x46, sizeof(key));
    assert_int_equal(ecdsa_address_from_seckey(key, addr), TC_OK);
    assert_hex(addr, 20, "9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f");

    hex_exact("daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53", hash, 32);
    assert_int_equal(ecdsa_sign_recoverable(key, hash, r, s, &recid), TC_OK);
    assert_hex(r, 32, "28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276");
    assert_hex(s, 32, "67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
    assert_int_equal(recid, 37 - 35 - 2 * 1);

    assert_int_equal(ecdsa_recover_address(hash, r, s, recid, true, rec), TC_OK);
    assert_memory_equal(rec, addr, 20);
}

static void test_pubkey_hashes_to_the_address(void **state)
{
    uint8_t key[32], pub[64], addr1[20], addr2[20], digest[32];
    memset(key, 0x46, sizeof(key));
    assert_int_equal(ecdsa_pubkey(key, pub), TC_OK);
    eth_address_from_pubkey(pub, addr1);
    keccak256(pub, 64, digest);
    assert_memory_equal(addr1, digest + 12, 20);
    assert_int_equal(ecdsa_address_from_seckey(key, addr2), TC_OK);
    assert_memory_equal(addr1, addr2, 20);
}

static void test_sign_recover_round_trips_on_random_keys(void **state)
{
    uint8_t half[32], n[32];
    hex_exact(order_hex, n, 32);
    /* n/2 rounded down, big-endian: shift right by one bit. */
    for (int i = 0, carry = 0; i < 32; i++) {
        half[i] = (uint8_t)((n[i] >> 1) | (carry << 7));
        carry = n[i] & 1;
    }
    struct rng rg;
    rng_seed(&rg, test_seed);
    for (int i = 0; i < 200; i++) {
        uint8_t key[32], hash[32], r[32], s[32], addr[20], rec[20], pub[64], rec_pub[64];
        int recid = -1;
        test_seckey(&rg, key);
        rng_fill(&rg, hash, sizeof(hash));
        assert_int_equal(ecdsa_address_from_seckey(key, addr), TC_OK);
        assert_int_equal(ecdsa_sign_recoverable(key, hash, r, s, &recid), TC_OK);
        assert_true(recid >= 0 && recid <= 3);
        assert_true(memcmp(s, half, 32) <= 0); /* always low-s */
        assert_int_equal(ecdsa_recover_address(hash, r, s, recid, true, rec), TC_OK);
        assert_memory_equal(rec, addr, 20);
        assert_int_equal(ecdsa_recover_address(hash, r, s, recid, false, rec), TC_OK);
        assert_memory_equal(rec, addr, 20);
        assert_int_equal(ecdsa_pubkey(key, pub), TC_OK);
        assert_int_equal(ecdsa_recover_pubkey(hash, r, s, recid, true, rec_pub), TC_OK);
        assert_memory_equal(rec_pub, pub, 64);

        /* Signing is deterministic (RFC 6979). */
        uint8_t r2[32], s2[32];
        int recid2 = -1;
        assert_int_equal(ecdsa_sign_recoverable(key, hash, r2, s2, &recid2), TC_OK);
        assert_memory_equal(r2, r, 32);
        assert_memory_equal(s2, s, 32);
        assert_int_equal(recid2, recid);

        /* Another hash recovers another key. */
        hash[0] ^= 1;
        int rc = ecdsa_recover_address(hash, r, s, recid, true, rec);
        assert_true(rc == TC_ECRYPTO || (rc == TC_OK && memcmp(rec, addr, 20) != 0));
    }
}

static void test_high_s_rejected_only_when_low_s_required(void **state)
{
    struct rng rg;
    rng_seed(&rg, test_seed + 1);
    for (int i = 0; i < 20; i++) {
        uint8_t key[32], hash[32], r[32], s[32], high_s[32], addr[20], rec[20];
        int recid;
        test_seckey(&rg, key);
        rng_fill(&rg, hash, sizeof(hash));
        assert_int_equal(ecdsa_address_from_seckey(key, addr), TC_OK);
        assert_int_equal(ecdsa_sign_recoverable(key, hash, r, s, &recid), TC_OK);
        /* (r, n - s) with the other parity is the same signature's twin. */
        order_minus(s, high_s);
        assert_int_equal(ecdsa_recover_address(hash, r, high_s, recid ^ 1, true, rec), TC_EINVAL);
        assert_int_equal(ecdsa_recover_address(hash, r, high_s, recid ^ 1, false, rec), TC_OK);
        assert_memory_equal(rec, addr, 20);
    }
}

static void test_out_of_range_r_s_and_recid_are_invalid(void **state)
{
    uint8_t key[32], hash[32], r[32], s[32], bad[32], addr[20];
    int recid;
    memset(key, 0x46, sizeof(key));
    memset(hash, 0x11, sizeof(hash));
    assert_int_equal(ecdsa_sign_recoverable(key, hash, r, s, &recid), TC_OK);

    memset(bad, 0, sizeof(bad));
    for (int low_s = 0; low_s <= 1; low_s++) {
        assert_int_equal(ecdsa_recover_address(hash, bad, s, recid, low_s, addr), TC_EINVAL);
        assert_int_equal(ecdsa_recover_address(hash, r, bad, recid, low_s, addr), TC_EINVAL);
    }
    hex_exact(order_hex, bad, 32); /* exactly n */
    assert_int_equal(ecdsa_recover_address(hash, bad, s, recid, false, addr), TC_EINVAL);
    assert_int_equal(ecdsa_recover_address(hash, r, bad, recid, false, addr), TC_EINVAL);
    memset(bad, 0xff, sizeof(bad)); /* above n */
    assert_int_equal(ecdsa_recover_address(hash, bad, s, recid, false, addr), TC_EINVAL);
    assert_int_equal(ecdsa_recover_address(hash, r, bad, recid, false, addr), TC_EINVAL);

    assert_int_equal(ecdsa_recover_address(hash, r, s, -1, true, addr), TC_EINVAL);
    assert_int_equal(ecdsa_recover_address(hash, r, s, 4, true, addr), TC_EINVAL);
    assert_int_equal(ecdsa_recover_address(hash, r, s, 27, true, addr), TC_EINVAL);
}

static void test_wrong_recid_gives_another_address_or_an_error(void **state)
{
    uint8_t key[32], hash[32], r[32], s[32], addr[20], rec[20];
    int recid;
    memset(key, 0x46, sizeof(key));
    hex_exact("daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53", hash, 32);
    assert_int_equal(ecdsa_address_from_seckey(key, addr), TC_OK);
    assert_int_equal(ecdsa_sign_recoverable(key, hash, r, s, &recid), TC_OK);
    for (int other = 0; other <= 3; other++) {
        if (other == recid)
            continue;
        int rc = ecdsa_recover_address(hash, r, s, other, true, rec);
        assert_true(rc == TC_ECRYPTO || (rc == TC_OK && memcmp(rec, addr, 20) != 0));
    }
    /* recid 2 and 3 mean x = r + n, beyond the field for this r: no key. */
    assert_int_equal(ecdsa_recover_address(hash, r, s, 2, true, rec), TC_ECRYPTO);
}

static void test_r_off_the_curve_recovers_no_key(void **state)
{
    /* About half of all x have no point on the curve; among r = 1..64 some
     * must fail with TC_ECRYPTO and every other must recover some key. */
    uint8_t hash[32], r[32] = { 0 }, s[32] = { 0 }, addr[20];
    int failures = 0;
    memset(hash, 0x22, sizeof(hash));
    s[31] = 7;
    for (int x = 1; x <= 64; x++) {
        r[31] = (uint8_t)x;
        int rc = ecdsa_recover_address(hash, r, s, 0, true, addr);
        assert_true(rc == TC_OK || rc == TC_ECRYPTO);
        failures += rc == TC_ECRYPTO;
    }
    assert_true(failures > 0 && failures < 64);
}

static void test_invalid_secret_keys_are_rejected(void **state)
{
    uint8_t zero[32] = { 0 }, n[32], hash[32] = { 0 }, r[32], s[32], pub[64], addr[20];
    int recid;
    hex_exact(order_hex, n, 32);
    assert_int_equal(ecdsa_pubkey(zero, pub), TC_EINVAL);
    assert_int_equal(ecdsa_pubkey(n, pub), TC_EINVAL);
    assert_int_equal(ecdsa_address_from_seckey(n, addr), TC_EINVAL);
    assert_int_equal(ecdsa_sign_recoverable(zero, hash, r, s, &recid), TC_EINVAL);
    assert_int_equal(ecdsa_sign_recoverable(n, hash, r, s, &recid), TC_EINVAL);
}

static void test_keygen_gives_distinct_valid_keys(void **state)
{
    uint8_t a[32], b[32], pub[64];
    assert_int_equal(ecdsa_keygen(a), TC_OK);
    assert_int_equal(ecdsa_keygen(b), TC_OK);
    assert_memory_not_equal(a, b, 32);
    assert_int_equal(ecdsa_pubkey(a, pub), TC_OK);
    assert_int_equal(ecdsa_pubkey(b, pub), TC_OK);
}

#define RECOVER_THREADS 4
#define RECOVER_SIGS    64

struct recover_set {
    uint8_t hash[RECOVER_SIGS][32], r[RECOVER_SIGS][32], s[RECOVER_SIGS][32];
    int recid[RECOVER_SIGS];
    uint8_t addr[RECOVER_SIGS][20];
};

static void *recover_worker(void *arg)
{
    const struct recover_set *set = arg;
    intptr_t mismatches = 0;
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < RECOVER_SIGS; i++) {
            uint8_t rec[20];
            if (ecdsa_recover_address(set->hash[i], set->r[i], set->s[i], set->recid[i], true,
                                      rec) != TC_OK ||
                memcmp(rec, set->addr[i], 20) != 0)
                mismatches++;
        }
    }
    return (void *)mismatches;
}

static void test_concurrent_recovery_through_shared_context(void **state)
{
    static struct recover_set set;
    struct rng rg;
    rng_seed(&rg, test_seed + 2);
    for (int i = 0; i < RECOVER_SIGS; i++) {
        uint8_t key[32];
        test_seckey(&rg, key);
        rng_fill(&rg, set.hash[i], 32);
        assert_int_equal(ecdsa_address_from_seckey(key, set.addr[i]), TC_OK);
        assert_int_equal(
            ecdsa_sign_recoverable(key, set.hash[i], set.r[i], set.s[i], &set.recid[i]), TC_OK);
    }
    pthread_t threads[RECOVER_THREADS];
    for (int t = 0; t < RECOVER_THREADS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, recover_worker, &set), 0);
    for (int t = 0; t < RECOVER_THREADS; t++) {
        void *mismatches;
        assert_int_equal(pthread_join(threads[t], &mismatches), 0);
        assert_int_equal((intptr_t)mismatches, 0);
    }
}

int main(void)
{
    test_seed = seed_from_env();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_private_key_one_has_known_address),
        cmocka_unit_test(test_eip155_example_key_and_signature),
        cmocka_unit_test(test_pubkey_hashes_to_the_address),
        cmocka_unit_test(test_sign_recover_round_trips_on_random_keys),
        cmocka_unit_test(test_high_s_rejected_only_when_low_s_required),
        cmocka_unit_test(test_out_of_range_r_s_and_recid_are_invalid),
        cmocka_unit_test(test_wrong_recid_gives_another_address_or_an_error),
        cmocka_unit_test(test_r_off_the_curve_recovers_no_key),
        cmocka_unit_test(test_invalid_secret_keys_are_rejected),
        cmocka_unit_test(test_keygen_gives_distinct_valid_keys),
        cmocka_unit_test(test_concurrent_recovery_through_shared_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
