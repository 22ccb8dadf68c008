/*
 * test_precompile.c - the precompiled contracts with known vectors and
 * their gas rules: ecrecover (a signature made with crypto/ecdsa and
 * malformed v), sha256 and ripemd160 (FIPS/RIPEMD reference digests),
 * identity, modexp (EIP-198 example, EIP-2565 price), bn256 add/mul (the
 * doubling of the generator (1, 2), infinity, invalid points), blake2f
 * (EIP-152 vector 5: BLAKE2b("abc")), the bn256 pairing check (bilinearity
 * and non-degeneracy with the generators of EIP-197) and the unsupported
 * KZG point evaluation.
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
#include "crypto/ecdsa.h"
#include "evm/evm.h"

static struct bytes g_out;

static enum evm_status call_pre(uint8_t which, const uint8_t *in, size_t len, int64_t gas,
                                int64_t *used)
{
    evm_address a;
    memset(&a, 0, sizeof(a));
    a.bytes[19] = which;
    return evm_precompile_run(&a, in, len, gas, used, &g_out);
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (hex_decode(hex, strlen(hex), out, cap, &n) != 0)
        abort();
    return n;
}

static void assert_out_hex(const char *hex)
{
    uint8_t want[256];
    size_t n = unhex(hex, want, sizeof(want));
    assert_int_equal(g_out.len, n);
    assert_memory_equal(g_out.ptr, want, n);
}

static int teardown(void **state)
{
    (void)state;
    bytes_free(&g_out);
    return 0;
}

static void test_is_precompile_covers_1_to_10(void **state)
{
    (void)state;
    evm_address a;
    memset(&a, 0, sizeof(a));
    assert_false(evm_is_precompile(&a));
    for (int i = 1; i <= 10; i++) {
        a.bytes[19] = (uint8_t)i;
        assert_true(evm_is_precompile(&a));
    }
    a.bytes[19] = 11;
    assert_false(evm_is_precompile(&a));
    a.bytes[19] = 1;
    a.bytes[0] = 1;
    assert_false(evm_is_precompile(&a));
}

static void test_sha256_and_gas(void **state)
{
    (void)state;
    int64_t used;
    assert_int_equal(call_pre(2, NULL, 0, 60, &used), EVM_SUCCESS);
    assert_int_equal(used, 60);
    assert_out_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(call_pre(2, (const uint8_t *)"abc", 3, 71, &used), EVM_OUT_OF_GAS);
    assert_int_equal(call_pre(2, (const uint8_t *)"abc", 3, 72, &used), EVM_SUCCESS);
    assert_out_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_ripemd160_left_padded(void **state)
{
    (void)state;
    int64_t used;
    assert_int_equal(call_pre(3, NULL, 0, 599, &used), EVM_OUT_OF_GAS);
    assert_int_equal(call_pre(3, NULL, 0, 600, &used), EVM_SUCCESS);
    assert_out_hex("0000000000000000000000009c1185a5c5e9fc54612808977ee8f548b2258d31");
}

static void test_identity_copies_and_charges_per_word(void **state)
{
    (void)state;
    uint8_t in[33];
    for (int i = 0; i < 33; i++)
        in[i] = (uint8_t)i;
    int64_t used;
    assert_int_equal(call_pre(4, in, 33, 20, &used), EVM_OUT_OF_GAS);
    assert_int_equal(call_pre(4, in, 33, 21, &used), EVM_SUCCESS);
    assert_int_equal(used, 21);
    assert_int_equal(g_out.len, 33);
    assert_memory_equal(g_out.ptr, in, 33);
}

static void test_ecrecover_recovers_signer_and_rejects_bad_v(void **state)
{
    (void)state;
    uint8_t seckey[32], hash[32], in[128], addr[20];
    memset(seckey, 0x11, 32);
    memset(hash, 0x22, 32);
    int recid;
    memset(in, 0, sizeof(in));
    memcpy(in, hash, 32);
    assert_int_equal(ecdsa_sign_recoverable(seckey, hash, in + 64, in + 96, &recid), 0);
    in[63] = (uint8_t)(27 + recid);
    assert_int_equal(ecdsa_address_from_seckey(seckey, addr), 0);
    int64_t used;
    assert_int_equal(call_pre(1, in, sizeof(in), 2999, &used), EVM_OUT_OF_GAS);
    assert_int_equal(call_pre(1, in, sizeof(in), 3000, &used), EVM_SUCCESS);
    assert_int_equal(g_out.len, 32);
    assert_memory_equal(g_out.ptr + 12, addr, 20);
    /* v = 29, or v with high bytes set: no output, gas still charged */
    in[63] = 29;
    assert_int_equal(call_pre(1, in, sizeof(in), 3000, &used), EVM_SUCCESS);
    assert_int_equal(used, 3000);
    assert_int_equal(g_out.len, 0);
    in[63] = (uint8_t)(27 + recid);
    in[32] = 1;
    assert_int_equal(call_pre(1, in, sizeof(in), 3000, &used), EVM_SUCCESS);
    assert_int_equal(g_out.len, 0);
}

static void test_modexp_eip198_example_and_eip2565_price(void **state)
{
    (void)state;
    uint8_t in[256];
    size_t n = unhex("0000000000000000000000000000000000000000000000000000000000000001"
                     "0000000000000000000000000000000000000000000000000000000000000020"
                     "0000000000000000000000000000000000000000000000000000000000000020"
                     "03"
                     "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2e"
                     "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f",
                     in, sizeof(in));
    int64_t used;
    /* ceil(32 / 8)^2 = 16 times 255 iterations, / 3 */
    assert_int_equal(call_pre(5, in, n, 1359, &used), EVM_OUT_OF_GAS);
    assert_int_equal(call_pre(5, in, n, 1360, &used), EVM_SUCCESS);
    assert_int_equal(used, 1360);
    assert_out_hex("0000000000000000000000000000000000000000000000000000000000000001");
}

static void test_modexp_small_and_degenerate_inputs(void **state)
{
    (void)state;
    uint8_t in[256];
    int64_t used;
    /* 2^10 mod 1000 = 24, with the minimum price 200 */
    size_t n = unhex("0000000000000000000000000000000000000000000000000000000000000001"
                     "0000000000000000000000000000000000000000000000000000000000000001"
                     "0000000000000000000000000000000000000000000000000000000000000002"
                     "020a03e8",
                     in, sizeof(in));
    assert_int_equal(call_pre(5, in, n, 200, &used), EVM_SUCCESS);
    assert_int_equal(used, 200);
    assert_out_hex("0018");
    /* modulus 0 gives zeros of the modulus length */
    n = unhex("0000000000000000000000000000000000000000000000000000000000000001"
              "0000000000000000000000000000000000000000000000000000000000000001"
              "0000000000000000000000000000000000000000000000000000000000000002"
              "02030000",
              in, sizeof(in));
    assert_int_equal(call_pre(5, in, n, 200, &used), EVM_SUCCESS);
    assert_out_hex("0000");
    /* a huge modulus length cannot be paid for */
    memset(in, 0, 96);
    in[31] = 1;
    in[63] = 1;
    memset(in + 64, 0xff, 32);
    assert_int_equal(call_pre(5, in, 96, INT64_MAX, &used), EVM_OUT_OF_GAS);
    /* empty input: every length 0, price 200, no output */
    assert_int_equal(call_pre(5, NULL, 0, 200, &used), EVM_SUCCESS);
    assert_int_equal(g_out.len, 0);
}

#define G1                                                                                         \
    "0000000000000000000000000000000000000000000000000000000000000001"                             \
    "0000000000000000000000000000000000000000000000000000000000000002"
#define G2X2                                                                                       \
    "030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd3"                             \
    "15ed738c0e0a7c92e7845f96b2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4"
#define INF                                                                                        \
    "0000000000000000000000000000000000000000000000000000000000000000"                             \
    "0000000000000000000000000000000000000000000000000000000000000000"

static void test_bn256_add_doubles_generator(void **state)
{
    (void)state;
    uint8_t in[128];
    int64_t used;
    size_t n = unhex(G1 G1, in, sizeof(in));
    assert_int_equal(call_pre(6, in, n, 149, &used), EVM_OUT_OF_GAS);
    assert_int_equal(call_pre(6, in, n, 150, &used), EVM_SUCCESS);
    assert_out_hex(G2X2);
    n = unhex(G1 INF, in, sizeof(in));
    assert_int_equal(call_pre(6, in, n, 150, &used), EVM_SUCCESS);
    assert_out_hex(G1);
    /* short input is zero-padded: G + infinity */
    assert_int_equal(call_pre(6, in, 64, 150, &used), EVM_SUCCESS);
    assert_out_hex(G1);
    assert_int_equal(call_pre(6, NULL, 0, 150, &used), EVM_SUCCESS);
    assert_out_hex(INF);
    /* P + (-P) = infinity: -G = (1, p - 2) */
    n = unhex(G1 "0000000000000000000000000000000000000000000000000000000000000001"
                 "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd45",
              in, sizeof(in));
    assert_int_equal(call_pre(6, in, n, 150, &used), EVM_SUCCESS);
    assert_out_hex(INF);
}

static void test_bn256_rejects_points_off_curve_or_out_of_field(void **state)
{
    (void)state;
    uint8_t in[128];
    int64_t used;
    size_t n = unhex(G1 G1, in, sizeof(in));
    in[63] = 3; /* (1, 3) is not on y^2 = x^3 + 3 */
    assert_int_equal(call_pre(6, in, n, 150, &used), EVM_PRECOMPILE_FAILURE);
    /* x = p is not a field element */
    n = unhex("30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47"
              "0000000000000000000000000000000000000000000000000000000000000002" G1,
              in, sizeof(in));
    assert_int_equal(call_pre(6, in, n, 150, &used), EVM_PRECOMPILE_FAILURE);
}

static void test_bn256_mul_matches_add_and_order_gives_infinity(void **state)
{
    (void)state;
    uint8_t in[96];
    int64_t used;
    size_t n = unhex(G1 "0000000000000000000000000000000000000000000000000000000000000002", in,
                     sizeof(in));
    assert_int_equal(call_pre(7, in, n, 5999, &used), EVM_OUT_OF_GAS);
    assert_int_equal(call_pre(7, in, n, 6000, &used), EVM_SUCCESS);
    assert_out_hex(G2X2);
    n = unhex(G1 "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001", in,
              sizeof(in));
    assert_int_equal(call_pre(7, in, n, 6000, &used), EVM_SUCCESS);
    assert_out_hex(INF);
    n = unhex(G1 "0000000000000000000000000000000000000000000000000000000000000000", in,
              sizeof(in));
    assert_int_equal(call_pre(7, in, n, 6000, &used), EVM_SUCCESS);
    assert_out_hex(INF);
    n = unhex(INF "0000000000000000000000000000000000000000000000000000000000000002", in,
              sizeof(in));
    assert_int_equal(call_pre(7, in, n, 6000, &used), EVM_SUCCESS);
    assert_out_hex(INF);
    /* a scalar above the group order wraps: (r + 2) G = 2 G */
    n = unhex(G1 "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000003", in,
              sizeof(in));
    assert_int_equal(call_pre(7, in, n, 6000, &used), EVM_SUCCESS);
    assert_out_hex(G2X2);
}

/* EIP-152 test vector 5: 12 rounds of F over "abc" = BLAKE2b-512("abc"). */
static size_t blake2f_abc_input(uint8_t in[213], uint32_t rounds, uint8_t final_flag)
{
    static const uint64_t iv[8] = {
        UINT64_C(0x6a09e667f3bcc908), UINT64_C(0xbb67ae8584caa73b), UINT64_C(0x3c6ef372fe94f82b),
        UINT64_C(0xa54ff53a5f1d36f1), UINT64_C(0x510e527fade682d1), UINT64_C(0x9b05688c2b3e6c1f),
        UINT64_C(0x1f83d9abfb41bd6b), UINT64_C(0x5be0cd19137e2179),
    };
    memset(in, 0, 213);
    in[0] = (uint8_t)(rounds >> 24);
    in[1] = (uint8_t)(rounds >> 16);
    in[2] = (uint8_t)(rounds >> 8);
    in[3] = (uint8_t)rounds;
    for (int i = 0; i < 8; i++) {
        uint64_t h = iv[i] ^ (i == 0 ? UINT64_C(0x01010040) : 0);
        for (int b = 0; b < 8; b++)
            in[4 + 8 * i + b] = (uint8_t)(h >> (8 * b));
    }
    memcpy(in + 68, "abc", 3);
    in[196] = 3; /* t0 = 3 bytes */
    in[212] = final_flag;
    return 213;
}

static void test_blake2f_eip152_vector(void **state)
{
    (void)state;
    uint8_t in[213];
    int64_t used;
    size_t n = blake2f_abc_input(in, 12, 1);
    assert_int_equal(call_pre(9, in, n, 11, &used), EVM_OUT_OF_GAS);
    assert_int_equal(call_pre(9, in, n, 12, &used), EVM_SUCCESS);
    assert_int_equal(used, 12);
    assert_out_hex("ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                   "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
}

static void test_blake2f_rejects_bad_length_and_flag(void **state)
{
    (void)state;
    uint8_t in[213];
    int64_t used;
    blake2f_abc_input(in, 12, 1);
    assert_int_equal(call_pre(9, in, 212, 100, &used), EVM_PRECOMPILE_FAILURE);
    blake2f_abc_input(in, 12, 2);
    assert_int_equal(call_pre(9, in, 213, 100, &used), EVM_PRECOMPILE_FAILURE);
}

#define G2GEN                                                                                      \
    "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"                             \
    "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"                             \
    "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"                             \
    "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"
#define NEG_G1                                                                                     \
    "0000000000000000000000000000000000000000000000000000000000000001"                             \
    "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd45"
#define ONE_WORD  "0000000000000000000000000000000000000000000000000000000000000001"
#define ZERO_WORD "0000000000000000000000000000000000000000000000000000000000000000"

static void test_pairing_is_non_degenerate_and_bilinear(void **state)
{
    (void)state;
    static uint8_t in[4 * 192];
    int64_t used;
    size_t n = unhex(G1 G2GEN, in, sizeof(in));
    assert_int_equal(call_pre(8, in, n, 79000, &used), EVM_SUCCESS);
    assert_int_equal(used, 45000 + 34000);
    assert_out_hex(ZERO_WORD);
    n = unhex(G1 G2GEN NEG_G1 G2GEN, in, sizeof(in));
    assert_int_equal(call_pre(8, in, n, 112999, &used), EVM_OUT_OF_GAS);
    assert_int_equal(call_pre(8, in, n, 113000, &used), EVM_SUCCESS);
    assert_out_hex(ONE_WORD);
    /* e(2 G1, G2) e(-G1, G2) e(-G1, G2) = 1 */
    n = unhex(G2X2 G2GEN NEG_G1 G2GEN NEG_G1 G2GEN, in, sizeof(in));
    assert_int_equal(call_pre(8, in, n, 1000000, &used), EVM_SUCCESS);
    assert_out_hex(ONE_WORD);
    /* e(2 G1, G2) e(-G1, G2) != 1 */
    n = unhex(G2X2 G2GEN NEG_G1 G2GEN, in, sizeof(in));
    assert_int_equal(call_pre(8, in, n, 1000000, &used), EVM_SUCCESS);
    assert_out_hex(ZERO_WORD);
}

static void test_pairing_of_empty_input_and_infinity_is_one(void **state)
{
    (void)state;
    static uint8_t in[192];
    int64_t used;
    assert_int_equal(call_pre(8, NULL, 0, 45000, &used), EVM_SUCCESS);
    assert_out_hex(ONE_WORD);
    size_t n = unhex(INF G2GEN, in, sizeof(in));
    assert_int_equal(call_pre(8, in, n, 79000, &used), EVM_SUCCESS);
    assert_out_hex(ONE_WORD);
}

static void test_pairing_rejects_bad_length_and_points(void **state)
{
    (void)state;
    static uint8_t in[192];
    int64_t used;
    size_t n = unhex(G1 G2GEN, in, sizeof(in));
    assert_int_equal(call_pre(8, in, n - 1, 79000, &used), EVM_PRECOMPILE_FAILURE);
    in[191] ^= 1; /* G2 point off the twist */
    assert_int_equal(call_pre(8, in, n, 79000, &used), EVM_PRECOMPILE_FAILURE);
    in[191] ^= 1;
    in[63] ^= 1; /* G1 point off the curve */
    assert_int_equal(call_pre(8, in, n, 79000, &used), EVM_PRECOMPILE_FAILURE);
}

static void test_point_evaluation_is_unsupported(void **state)
{
    (void)state;
    int64_t used;
    assert_int_equal(call_pre(10, NULL, 0, 1000000, &used), EVM_UNSUPPORTED_PRECOMPILE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_teardown(fn, teardown)
        T(test_is_precompile_covers_1_to_10),
        T(test_sha256_and_gas),
        T(test_ripemd160_left_padded),
        T(test_identity_copies_and_charges_per_word),
        T(test_ecrecover_recovers_signer_and_rejects_bad_v),
        T(test_modexp_eip198_example_and_eip2565_price),
        T(test_modexp_small_and_degenerate_inputs),
        T(test_bn256_add_doubles_generator),
        T(test_bn256_rejects_points_off_curve_or_out_of_field),
        T(test_bn256_mul_matches_add_and_order_gives_infinity),
        T(test_blake2f_eip152_vector),
        T(test_blake2f_rejects_bad_length_and_flag),
        T(test_pairing_is_non_degenerate_and_bilinear),
        T(test_pairing_of_empty_input_and_infinity_is_one),
        T(test_pairing_rejects_bad_length_and_points),
        T(test_point_evaluation_is_unsupported),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
