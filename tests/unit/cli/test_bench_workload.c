/*
 * test_bench_workload.c - the pieces of the erc20 and kv workloads of
 * `teechain bench` that need no node: their call data against the ABI
 * encoder, the recipient choice, the gas margin, the receipt sample size,
 * and the compiled-in bytecode against bench/contracts/<name>.bin.
 *
 * The recipient test draws from a seeded RNG: the seed is printed and can be
 * replayed with TC_SEED=<seed>.
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
#include "cli/abi.h"
#include "cli/bench.h"
#include "cli/bench_contracts.h"
#include "cli/cli_contract.h"

/* abi_encode_call of `signature` with the argument texts, into out (68 bytes). */
static void abi_call(const char *signature, const char *a, const char *b, uint8_t out[68])
{
    struct abi_signature sig;
    char err[256];
    if (abi_signature_parse(signature, &sig, err, sizeof(err)) != TC_OK)
        fail_msg("abi_signature_parse: %s", err);
    struct bytes data;
    bytes_init(&data);
    const char *const argv[] = { a, b };
    if (abi_encode_call(&sig, 2, argv, &data, err, sizeof(err)) != TC_OK)
        fail_msg("abi_encode_call: %s", err);
    assert_int_equal(data.len, 68);
    memcpy(out, data.ptr, 68);
    bytes_free(&data);
    abi_signature_free(&sig);
}

static void test_erc20_transfer_calldata_matches_the_abi(void **state)
{
    (void)state;
    uint8_t to[20];
    for (int i = 0; i < 20; i++)
        to[i] = (uint8_t)(0xf0 - i);
    char to_hex[43] = "0x";
    hex_encode(to, 20, to_hex + 2);
    static const uint64_t amounts[] = { 0, 1, 1000000000000000000ull, UINT64_MAX };
    static const char *const texts[] = { "0", "1", "1000000000000000000", "18446744073709551615" };
    for (size_t i = 0; i < 4; i++) {
        uint8_t ours[68], want[68];
        bench_erc20_transfer_calldata(to, amounts[i], ours);
        abi_call("transfer(address,uint256)", to_hex, texts[i], want);
        assert_memory_equal(ours, want, 68);
    }
}

static void test_kv_set_calldata_matches_the_abi(void **state)
{
    (void)state;
    static const uint64_t keys[] = { 0, 7, 4294967296ull, UINT64_MAX };
    static const char *const key_texts[] = { "0", "7", "4294967296", "18446744073709551615" };
    for (size_t i = 0; i < 4; i++) {
        uint8_t ours[68], want[68];
        bench_kv_set_calldata(keys[i], 12345, ours);
        abi_call("set(uint256,uint256)", key_texts[i], "12345", want);
        assert_memory_equal(ours, want, 68);
    }
}

static uint64_t test_seed(void)
{
    const char *env = getenv("TC_SEED");
    uint64_t seed = env != NULL ? strtoull(env, NULL, 10) : rng_fresh_seed();
    printf("seed %llu (replay with TC_SEED=%llu)\n", (unsigned long long)seed,
           (unsigned long long)seed);
    return seed;
}

static void test_recipient_is_another_sender_and_replays_from_the_seed(void **state)
{
    (void)state;
    uint64_t seed = test_seed();
    struct rng a, b;
    rng_seed(&a, seed);
    rng_seed(&b, seed);
    uint32_t hits[5] = { 0 };
    for (uint32_t i = 0; i < 5000; i++) {
        uint32_t from = i % 5;
        uint32_t to = bench_pick_recipient(&a, from, 5);
        assert_true(to < 5);
        assert_int_not_equal(to, from);
        assert_int_equal(bench_pick_recipient(&b, from, 5), to);
        hits[to]++;
    }
    /* every other sender is reachable: each gets about 1000 of 5000 */
    for (int k = 0; k < 5; k++)
        assert_true(hits[k] > 500);
    /* one sender: it pays itself */
    assert_int_equal(bench_pick_recipient(&a, 0, 1), 0);
}

static void test_gas_margin_is_one_and_a_half(void **state)
{
    (void)state;
    assert_int_equal(bench_gas_with_margin(0), 0);
    assert_int_equal(bench_gas_with_margin(21000), 31500);
    assert_int_equal(bench_gas_with_margin(51426), 77139);
    assert_int_equal(bench_gas_with_margin(101), 151);
}

static void test_sample_is_one_percent_rounded_up(void **state)
{
    (void)state;
    assert_int_equal(bench_sample_size(0), 0);
    assert_int_equal(bench_sample_size(1), 1);
    assert_int_equal(bench_sample_size(100), 1);
    assert_int_equal(bench_sample_size(101), 2);
    assert_int_equal(bench_sample_size(250), 3);
    assert_int_equal(bench_sample_size(20000), 200);
}

/* The compiled-in hex equals bench/contracts/<name>.bin and decodes. */
static void check_embedded(const char *embedded, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/bench/contracts/%s.bin", TC_SOURCE_DIR, name);
    struct bytes from_file, from_program;
    bytes_init(&from_file);
    bytes_init(&from_program);
    char err[256];
    if (cli_read_bytecode(path, &from_file, err, sizeof(err)) != TC_OK)
        fail_msg("%s: %s", path, err);
    assert_int_equal(hex_decode_alloc(embedded, true, &from_program), TC_OK);
    assert_true(from_program.len > 100);
    assert_int_equal(from_program.len, from_file.len);
    assert_memory_equal(from_program.ptr, from_file.ptr, from_file.len);
    bytes_free(&from_file);
    bytes_free(&from_program);
}

static void test_compiled_in_bytecode_matches_the_bin_files(void **state)
{
    (void)state;
    check_embedded(bench_token_creation_hex, "BenchToken");
    check_embedded(bench_kv_creation_hex, "BenchKV");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_erc20_transfer_calldata_matches_the_abi),
        cmocka_unit_test(test_kv_set_calldata_matches_the_abi),
        cmocka_unit_test(test_recipient_is_another_sender_and_replays_from_the_seed),
        cmocka_unit_test(test_gas_margin_is_one_and_a_half),
        cmocka_unit_test(test_sample_is_one_percent_rounded_up),
        cmocka_unit_test(test_compiled_in_bytecode_matches_the_bin_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
