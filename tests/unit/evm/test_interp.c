/*
 * test_interp.c - the interpreter's opcode families without sub-calls:
 * arithmetic (signed edge cases included), comparison, bitwise and shifts,
 * KECCAK256, PUSH0..PUSH32, DUP/SWAP, jumps, memory (expansion costs,
 * MCOPY overlaps), call data, environment and block information, halting
 * opcodes, stack underflow/overflow and out of gas at exact boundaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "evm/evm_test_util.h"

static char g_buf[8192];

/* hex repeated n times into g_buf (after prefix), then suffix. */
static const char *repeat(const char *prefix, const char *unit, int n, const char *suffix)
{
    size_t len = 0;
    len += (size_t)snprintf(g_buf + len, sizeof(g_buf) - len, "%s", prefix);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(g_buf + len, sizeof(g_buf) - len, "%s", unit);
    snprintf(g_buf + len, sizeof(g_buf) - len, "%s", suffix);
    return g_buf;
}

static void test_sub_takes_top_minus_next(void **state)
{
    (void)state;
    assert_true(u256_eq(eval("6003600a03"), u256_from_u64(7)));
}

static void test_add_wraps_modulo_2_256(void **state)
{
    (void)state;
    assert_true(u256_is_zero(
        eval("7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff600101")));
}

static void test_mul_div_mod_basic_and_by_zero(void **state)
{
    (void)state;
    assert_true(u256_eq(eval("6007600602"), u256_from_u64(42)));
    assert_true(u256_eq(eval("6003600a04"), u256_from_u64(3)));
    assert_true(u256_eq(eval("6003600a06"), u256_from_u64(1)));
    assert_true(u256_is_zero(eval("5f600704")));
    assert_true(u256_is_zero(eval("5f600706")));
}

static void test_addmod_mulmod_use_exact_intermediates(void **state)
{
    (void)state;
    /* (2^256 - 1 + 2) % 3: the sum needs 257 bits. 2^256 + 1 = 2 mod 3. */
    assert_true(u256_eq(eval("6003600260001908"), u256_from_u64(2)));
    /* (2^256 - 1)^2 % 7 with a 512-bit product: (2^256-1) = 1 mod 7 (2^3 = 1). */
    assert_true(u256_eq(eval("600760001960001909"), u256_from_u64(1)));
    assert_true(u256_is_zero(eval("5f6003600408")));
}

static void test_sdiv_of_min_by_minus_one_is_min(void **state)
{
    (void)state;
    u256 min = u256_shl_bits(u256_one(), 255);
    assert_true(u256_eq(
        eval("5f197f800000000000000000000000000000000000000000000000000000000000000005"), min));
}

static void test_signed_division_rounds_toward_zero(void **state)
{
    (void)state;
    /* -7 / 2 = -3; -7 smod 3 = -1 (sign of the dividend). */
    assert_true(u256_eq(eval("600260075f0305"), u256_neg(u256_from_u64(3))));
    assert_true(u256_eq(eval("600360075f0307"), u256_max()));
}

static void test_exp_charges_50_gas_per_exponent_byte(void **state)
{
    (void)state;
    assert_int_equal(assert_exact_gas("61010060020a"), 3 + 3 + 10 + 50 * 2);
    assert_int_equal(assert_exact_gas("5f60020a"), 2 + 3 + 10);
    assert_true(u256_eq(eval("60ff60020a"), u256_shl_bits(u256_one(), 255)));
    assert_true(u256_is_zero(eval("61010060020a")));
}

static void test_signextend_extends_sign_of_byte(void **state)
{
    (void)state;
    assert_true(u256_eq(eval("60ff5f0b"), u256_max()));
    assert_true(u256_eq(eval("607f5f0b"), u256_from_u64(0x7f)));
    assert_true(u256_eq(eval("60ff601f0b"), u256_from_u64(0xff)));
}

static void test_comparisons_unsigned_and_signed(void **state)
{
    (void)state;
    assert_true(u256_eq(eval("6002600110"), u256_one())); /* 1 < 2 */
    assert_true(u256_eq(eval("6002600111"), u256_zero()));
    assert_true(u256_eq(eval("60015f1912"), u256_one()));  /* -1 < 1 signed */
    assert_true(u256_eq(eval("60015f1910"), u256_zero())); /* unsigned: max > 1 */
    assert_true(u256_eq(eval("60015f1913"), u256_zero()));
    assert_true(u256_eq(eval("6005600514"), u256_one()));
    assert_true(u256_eq(eval("5f15"), u256_one()));
    assert_true(u256_eq(eval("600915"), u256_zero()));
}

static void test_bitwise_ops(void **state)
{
    (void)state;
    assert_true(u256_eq(eval("600c600a16"), u256_from_u64(8)));
    assert_true(u256_eq(eval("600c600a17"), u256_from_u64(14)));
    assert_true(u256_eq(eval("600c600a18"), u256_from_u64(6)));
    assert_true(u256_eq(eval("5f19"), u256_max()));
}

static void test_shifts_follow_operand_order_and_saturate(void **state)
{
    (void)state;
    assert_true(u256_eq(eval("600160041b"), u256_from_u64(16)));
    assert_true(u256_eq(eval("601060021c"), u256_from_u64(4)));
    assert_true(u256_is_zero(eval("60016101001c")));
    assert_true(u256_is_zero(eval("60016101001b")));
    assert_true(u256_eq(eval("60105f0360021d"), u256_neg(u256_from_u64(4))));
    assert_true(u256_eq(eval("60105f036101001d"), u256_max()));
}

static void test_byte_counts_from_most_significant(void **state)
{
    (void)state;
    const char *x = "7f0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
    char code[256];
    snprintf(code, sizeof(code), "%s5f1a", x);
    assert_true(u256_eq(eval(code), u256_one()));
    snprintf(code, sizeof(code), "%s601f1a", x);
    assert_true(u256_eq(eval(code), u256_from_u64(0x20)));
    snprintf(code, sizeof(code), "%s60201a", x);
    assert_true(u256_is_zero(eval(code)));
}

static void test_keccak_of_empty_and_gas_per_word(void **state)
{
    (void)state;
    assert_true(u256_eq(eval("5f5f20"), hex_word("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82"
                                                 "273b7bfad8045d85a470")));
    /* KECCAK256 of 33 bytes: 30 + 6 * 2 words + memory for 2 words (6). */
    assert_int_equal(assert_exact_gas("60215f20"), 3 + 2 + 30 + 12 + 6);
}

static void test_push0_to_push32(void **state)
{
    (void)state;
    assert_true(u256_is_zero(eval("5f")));
    assert_true(u256_eq(eval("6142ff"), u256_from_u64(0x42ff)));
    assert_true(u256_eq(eval("670102030405060708"), u256_from_u64(0x0102030405060708)));
    assert_true(u256_eq(eval("68010203040506070809"), hex_word("0x010203040506070809")));
    assert_true(
        u256_eq(eval("7f0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"),
                hex_word("0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20")));
    assert_int_equal(assert_exact_gas("5f"), 2);
}

static void test_push_truncated_at_code_end_runs_into_stop(void **state)
{
    (void)state;
    assert_int_equal(assert_exact_gas("7fff"), 3);
}

static void test_dup16_and_swap16_reach_deepest_item(void **state)
{
    (void)state;
    char code[512] = "";
    for (int i = 1; i <= 16; i++)
        snprintf(code + strlen(code), sizeof(code) - strlen(code), "60%02x", i);
    char dup[600];
    snprintf(dup, sizeof(dup), "%s8f", code);
    assert_true(u256_eq(eval(dup), u256_one()));
    snprintf(dup, sizeof(dup), "6063%s9f", code);
    assert_true(u256_eq(eval(dup), u256_from_u64(0x63)));
}

static void test_stack_underflow_consumes_all_gas(void **state)
{
    (void)state;
    struct evm_result res;
    assert_int_equal(run("01", 1000, &res), EVM_STACK_UNDERFLOW);
    assert_int_equal(res.gas_left, 0);
    assert_int_equal(run("80", 1000, &res), EVM_STACK_UNDERFLOW);
    assert_int_equal(run("600190", 1000, &res), EVM_STACK_UNDERFLOW);
    assert_int_equal(run("60016001600108", 1000, &res), EVM_SUCCESS);
    assert_int_equal(run("600160010"
                         "8",
                         1000, &res),
                     EVM_STACK_UNDERFLOW);
}

static void test_stack_overflow_at_1025_items(void **state)
{
    (void)state;
    struct evm_result res;
    assert_int_equal(run(repeat("", "5f", 1024, ""), 100000, &res), EVM_SUCCESS);
    assert_int_equal(run(repeat("", "5f", 1025, ""), 100000, &res), EVM_STACK_OVERFLOW);
    assert_int_equal(res.gas_left, 0);
    assert_int_equal(run(repeat("", "5f", 1024, "80"), 100000, &res), EVM_STACK_OVERFLOW);
    assert_int_equal(run(repeat("", "5f", 1024, "90"), 100000, &res), EVM_SUCCESS);
}

static void test_jump_to_jumpdest(void **state)
{
    (void)state;
    struct evm_result res;
    assert_int_equal(run("600456fe5b00", 1000, &res), EVM_SUCCESS);
    assert_int_equal(1000 - res.gas_left, 3 + 8 + 1);
}

static void test_jump_into_push_data_fails(void **state)
{
    (void)state;
    struct evm_result res;
    assert_int_equal(run("600456615b00", 1000, &res), EVM_BAD_JUMP_DESTINATION);
    assert_int_equal(res.gas_left, 0);
    assert_int_equal(run("600356615b00", 1000, &res), EVM_BAD_JUMP_DESTINATION);
    assert_int_equal(run("606456", 1000, &res), EVM_BAD_JUMP_DESTINATION);
    assert_int_equal(run("680100000000000000005600", 1000, &res), EVM_BAD_JUMP_DESTINATION);
}

static void test_jumpi_falls_through_on_zero(void **state)
{
    (void)state;
    assert_true(u256_eq(eval("5f60ff576007"), u256_from_u64(7)));
    struct evm_result res;
    assert_int_equal(run("6001600657005b00", 1000, &res), EVM_SUCCESS);
    assert_int_equal(run("6001600557005b00", 1000, &res), EVM_BAD_JUMP_DESTINATION);
}

static void test_pc_and_gas_opcodes(void **state)
{
    (void)state;
    assert_true(u256_eq(eval("5f5058"), u256_from_u64(2)));
    struct evm_result res;
    assert_int_equal(run("5a5f5260205ff3", 100000, &res), EVM_SUCCESS);
    assert_true(u256_eq(out_word(&res), u256_from_u64(100000 - 2)));
}

static void test_mstore_expansion_exact_gas(void **state)
{
    (void)state;
    assert_int_equal(assert_exact_gas("60015f52"), 3 + 2 + 3 + 3);
    /* MSTORE8 at 1023: 32 words = 96 + 32 * 32 / 512 = 98. */
    assert_int_equal(assert_exact_gas("60016103ff53"), 3 + 3 + 3 + 98);
    /* A second store in already paid memory costs only the opcode. */
    assert_int_equal(assert_exact_gas("60015f5260025f52"), 3 + 2 + 3 + 3 + 3 + 2 + 3);
}

static void test_msize_rounds_up_to_words(void **state)
{
    (void)state;
    assert_true(u256_eq(eval("600160205359"), u256_from_u64(64)));
    assert_true(u256_eq(eval("59"), u256_zero()));
}

static void test_huge_memory_offsets_run_out_of_gas(void **state)
{
    (void)state;
    struct evm_result res;
    assert_int_equal(run("600163ffffffff52", 10000000, &res), EVM_OUT_OF_GAS);
    assert_int_equal(run("60016801000000000000000052", 10000000, &res), EVM_OUT_OF_GAS);
    /* A zero-length access never expands, whatever its offset. */
    assert_int_equal(run("5f680100000000000000002050"
                         "5f5f5f5e",
                         100000, &res),
                     EVM_SUCCESS);
}

static void test_mload_reads_what_mstore_wrote(void **state)
{
    (void)state;
    assert_true(u256_eq(eval("61beef602052602051"), u256_from_u64(0xbeef)));
    assert_true(u256_eq(eval("60ab601f535f51"), u256_from_u64(0xab)));
}

static void test_mcopy_overlapping_regions(void **state)
{
    (void)state;
    const char *x = "7f0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
    char code[256];
    /* forward overlap: copy [0, 31) to 1 */
    snprintf(code, sizeof(code), "%s5f52601f5f60015e5f51", x);
    assert_true(u256_eq(eval(code), hex_word("0x01010203040506070809"
                                             "0a0b0c0d0e0f10111213141516171819"
                                             "1a1b1c1d1e1f")));
    /* backward overlap: copy [1, 32) to 0 */
    snprintf(code, sizeof(code), "%s5f52601f60015f5e5f51", x);
    assert_true(u256_eq(eval(code),
                        hex_word("0x02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                                 "2020")));
    /* cost: 3 + 3 per word + expansion of the larger region (2 words = 6) */
    assert_int_equal(assert_exact_gas("60205f60205e"), 3 + 2 + 3 + 3 + 3 + 6);
}

static void test_calldata_load_pads_and_copy_costs(void **state)
{
    (void)state;
    uint8_t input[3] = { 1, 2, 3 };
    struct evm_result res;
    assert_int_equal(run_with_input("600135"
                                    "5f5260205ff3",
                                    1000, input, 3, &res),
                     EVM_SUCCESS);
    assert_true(u256_eq(out_word(&res), hex_word("0x0203000000000000000000000000000000000000000000"
                                                 "000000000000000000")));
    assert_int_equal(run_with_input("36"
                                    "5f5260205ff3",
                                    1000, input, 3, &res),
                     EVM_SUCCESS);
    assert_true(u256_eq(out_word(&res), u256_from_u64(3)));
    /* CALLDATACOPY 32 bytes from offset 2: 0x03 then zeros. */
    assert_int_equal(run_with_input("602060025f3760205ff3", 1000, input, 3, &res), EVM_SUCCESS);
    assert_true(u256_eq(out_word(&res), u256_shl_bits(u256_from_u64(3), 248)));
    assert_int_equal(run_with_input("6020680100000000000000005f37", 1000, input, 3, &res),
                     EVM_SUCCESS);
}

static void test_codecopy_and_codesize(void **state)
{
    (void)state;
    assert_true(u256_eq(eval("38"), u256_from_u64(7))); /* "38" + the 6-byte return */
    struct evm_result res;
    assert_int_equal(run("60205f5f3960205ff3", 1000, &res), EVM_SUCCESS);
    assert_int_equal(res.output[0], 0x60);
    assert_int_equal(res.output[8], 0xf3);
    assert_int_equal(res.output[9], 0x00);
    assert_int_equal(res.output[31], 0x00);
}

static void test_returndatacopy_out_of_bounds_fails(void **state)
{
    (void)state;
    struct evm_result res;
    assert_int_equal(run("3d"
                         "5f5260205ff3",
                         1000, &res),
                     EVM_SUCCESS);
    assert_true(u256_is_zero(out_word(&res)));
    assert_int_equal(run("60015f5f3e", 1000, &res), EVM_INVALID_MEMORY_ACCESS);
    assert_int_equal(res.gas_left, 0);
    assert_int_equal(run("5f5f5f3e", 1000, &res), EVM_SUCCESS);
}

static void test_environment_opcodes(void **state)
{
    (void)state;
    g_th->tx.base_fee = u256_from_u64(7);
    g_th->tx.blob_base_fee = u256_from_u64(9);
    g_th->tx.gas_price = u256_from_u64(11);
    g_th->tx.coinbase = th_addr(0xc0);
    memset(g_th->tx.prevrandao.bytes, 0x5a, 32);
    evm_bytes32 blobs[1];
    memset(blobs[0].bytes, 0x01, 32);
    g_th->tx.blob_hashes = blobs;
    g_th->tx.blob_hashes_count = 1;
    assert_true(u256_eq(eval("30"), u256_from_u64(CONTRACT_ID)));
    assert_true(u256_eq(eval("33"), u256_from_u64(CALLER_ID)));
    assert_true(u256_eq(eval("32"), u256_from_u64(CALLER_ID)));
    assert_true(u256_eq(eval("34"), u256_zero()));
    assert_true(u256_eq(eval("46"), u256_one()));
    assert_true(u256_eq(eval("48"), u256_from_u64(7)));
    assert_true(u256_eq(eval("4a"), u256_from_u64(9)));
    assert_true(u256_eq(eval("3a"), u256_from_u64(11)));
    assert_true(u256_eq(eval("41"), u256_from_u64(0xc0)));
    assert_true(u256_eq(eval("43"), u256_from_u64(1000)));
    assert_true(u256_eq(eval("42"), u256_from_u64(1700000000)));
    assert_true(u256_eq(eval("45"), u256_from_u64(30000000)));
    assert_true(u256_eq(eval("44"), u256_from_be_bytes(g_th->tx.prevrandao.bytes, 32)));
    assert_true(u256_eq(eval("5f49"), u256_from_be_bytes(blobs[0].bytes, 32)));
    assert_true(u256_is_zero(eval("600149")));
    assert_true(u256_is_zero(eval("47")));
    g_th->tx.blob_hashes = NULL;
    g_th->tx.blob_hashes_count = 0;
}

static void test_blockhash_covers_previous_256_blocks(void **state)
{
    (void)state;
    evm_bytes32 h = th_get_block_hash(NULL, 999);
    assert_true(u256_eq(eval("6103e740"), u256_from_be_bytes(h.bytes, 32)));
    h = th_get_block_hash(NULL, 744);
    assert_true(u256_eq(eval("6102e840"), u256_from_be_bytes(h.bytes, 32)));
    assert_true(u256_is_zero(eval("6102e740"))); /* 1000 - 257 */
    assert_true(u256_is_zero(eval("6103e840"))); /* the current block */
    assert_int_equal(assert_exact_gas("6103e740"), 3 + 20);
}

static void test_balance_cold_then_warm(void **state)
{
    (void)state;
    assert_int_equal(assert_exact_gas("61300031506130003150"), 3 + 2600 + 2 + 3 + 100 + 2);
}

static void test_invalid_and_undefined_consume_all_gas(void **state)
{
    (void)state;
    struct evm_result res;
    assert_int_equal(run("fe", 5000, &res), EVM_INVALID_INSTRUCTION);
    assert_int_equal(res.gas_left, 0);
    assert_int_equal(run("0c", 5000, &res), EVM_INVALID_INSTRUCTION);
    assert_int_equal(run("ef", 5000, &res), EVM_INVALID_INSTRUCTION);
    assert_int_equal(res.gas_left, 0);
}

static void test_revert_returns_data_and_gas(void **state)
{
    (void)state;
    struct evm_result res;
    assert_int_equal(run("602a5f5260205ffd", 5000, &res), EVM_REVERT);
    assert_int_equal(res.gas_left, 5000 - (3 + 2 + 3 + 3 + 3 + 2));
    assert_true(u256_eq(out_word(&res), u256_from_u64(42)));
}

static void test_out_of_gas_at_each_simple_boundary(void **state)
{
    (void)state;
    static const char *const programs[] = {
        "6001600201",
        "60016002026000",
        "600160020a",
        "5f5f20",
        "3031",
        "5f35",
        "600a5f5f37",
        "5f54",
        "60015f5d5f5c",
        "60205f5f5e",
        "6001600260035f5f5f5fa4",
        "60ff5f53",
    };
    for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
        assert_exact_gas(programs[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
        T(test_sub_takes_top_minus_next),
        T(test_add_wraps_modulo_2_256),
        T(test_mul_div_mod_basic_and_by_zero),
        T(test_addmod_mulmod_use_exact_intermediates),
        T(test_sdiv_of_min_by_minus_one_is_min),
        T(test_signed_division_rounds_toward_zero),
        T(test_exp_charges_50_gas_per_exponent_byte),
        T(test_signextend_extends_sign_of_byte),
        T(test_comparisons_unsigned_and_signed),
        T(test_bitwise_ops),
        T(test_shifts_follow_operand_order_and_saturate),
        T(test_byte_counts_from_most_significant),
        T(test_keccak_of_empty_and_gas_per_word),
        T(test_push0_to_push32),
        T(test_push_truncated_at_code_end_runs_into_stop),
        T(test_dup16_and_swap16_reach_deepest_item),
        T(test_stack_underflow_consumes_all_gas),
        T(test_stack_overflow_at_1025_items),
        T(test_jump_to_jumpdest),
        T(test_jump_into_push_data_fails),
        T(test_jumpi_falls_through_on_zero),
        T(test_pc_and_gas_opcodes),
        T(test_mstore_expansion_exact_gas),
        T(test_msize_rounds_up_to_words),
        T(test_huge_memory_offsets_run_out_of_gas),
        T(test_mload_reads_what_mstore_wrote),
        T(test_mcopy_overlapping_regions),
        T(test_calldata_load_pads_and_copy_costs),
        T(test_codecopy_and_codesize),
        T(test_returndatacopy_out_of_bounds_fails),
        T(test_environment_opcodes),
        T(test_blockhash_covers_previous_256_blocks),
        T(test_balance_cold_then_warm),
        T(test_invalid_and_undefined_consume_all_gas),
        T(test_revert_returns_data_and_gas),
        T(test_out_of_gas_at_each_simple_boundary),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
