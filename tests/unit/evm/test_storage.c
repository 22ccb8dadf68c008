/*
 * test_storage.c - SLOAD/SSTORE gas and refunds (EIP-2929 warm/cold,
 * EIP-2200 net metering with the EIP-3529 refunds: every case of the
 * EIP-3529 table), the SSTORE stipend sentry, static mode, and transient
 * storage (EIP-1153) including its revert.
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

struct sstore_case {
    const char *code;
    uint64_t original;
    int64_t gas_used;
    int64_t refund;
};

/* EIP-3529's table (slot 0 already warm, as there). */
static const struct sstore_case SSTORE_CASES[] = {
    { "60006000556000600055", 0, 212, 0 },
    { "60006000556001600055", 0, 20112, 0 },
    { "60016000556000600055", 0, 20112, 19900 },
    { "60016000556002600055", 0, 20112, 0 },
    { "60016000556001600055", 0, 20112, 0 },
    { "60006000556000600055", 1, 3012, 4800 },
    { "60006000556001600055", 1, 3012, 2800 },
    { "60006000556002600055", 1, 3012, 0 },
    { "60026000556000600055", 1, 3012, 4800 },
    { "60026000556003600055", 1, 3012, 0 },
    { "60026000556001600055", 1, 3012, 2800 },
    { "60026000556002600055", 1, 3012, 0 },
    { "60016000556000600055", 1, 3012, 4800 },
    { "60016000556002600055", 1, 3012, 0 },
    { "60016000556001600055", 1, 212, 0 },
    { "600160005560006000556001600055", 0, 40118, 19900 },
    { "600060005560016000556000600055", 1, 5918, 7600 },
};

static void test_sstore_gas_and_refund_match_eip3529_table(void **state)
{
    (void)state;
    evm_address self = th_addr(CONTRACT_ID);
    for (size_t i = 0; i < sizeof(SSTORE_CASES) / sizeof(SSTORE_CASES[0]); i++) {
        const struct sstore_case *c = &SSTORE_CASES[i];
        th_storage_set(g_th, &self, u256_zero(), u256_from_u64(c->original));
        th_storage_warm(g_th, &self, u256_zero());
        struct evm_result res;
        uint64_t mark = th_snapshot(g_th);
        assert_int_equal(run(c->code, 100000, &res), EVM_SUCCESS);
        assert_int_equal(100000 - res.gas_left, c->gas_used);
        assert_int_equal(res.gas_refund, c->refund);
        th_revert_to(g_th, mark);
        /* one gas short of the cost fails */
        assert_int_equal(run(c->code, c->gas_used - 1, &res), EVM_OUT_OF_GAS);
        assert_int_equal(res.gas_refund, 0);
        th_revert_to(g_th, mark);
    }
}

static void test_sstore_cold_slot_adds_2100(void **state)
{
    (void)state;
    assert_int_equal(assert_exact_gas("60015f55"), 3 + 2 + 2100 + 20000);
    /* a cold no-op store: the sentry (gas > 2300) forbids an exact-gas run */
    assert_int_equal(gas_used("5f5f55"), 2 + 2 + 2100 + 100);
}

static void test_sstore_needs_more_than_stipend(void **state)
{
    (void)state;
    struct evm_result res;
    evm_address self = th_addr(CONTRACT_ID);
    th_storage_warm(g_th, &self, u256_zero());
    /* 2304 gas: 4 for the pushes leaves exactly 2300, which is not enough
       even for a 100-gas no-op store. */
    assert_int_equal(run("5f5f55", 2304, &res), EVM_OUT_OF_GAS);
    assert_int_equal(run("5f5f55", 2305, &res), EVM_SUCCESS);
    assert_int_equal(res.gas_left, 2305 - 4 - 100);
}

static void test_sload_cold_then_warm(void **state)
{
    (void)state;
    evm_address self = th_addr(CONTRACT_ID);
    th_storage_set(g_th, &self, u256_from_u64(5), u256_from_u64(77));
    assert_int_equal(assert_exact_gas("6005545060055450"), 3 + 2100 + 2 + 3 + 100 + 2);
    assert_true(u256_eq(eval("600554"), u256_from_u64(77)));
}

static void test_sstore_persists_and_exceptional_halt_reverts_it(void **state)
{
    (void)state;
    evm_address self = th_addr(CONTRACT_ID);
    struct evm_result res;
    assert_int_equal(run("602a600755", 100000, &res), EVM_SUCCESS);
    assert_true(u256_eq(th_storage_get(g_th, &self, u256_from_u64(7)), u256_from_u64(42)));
    assert_int_equal(run("602b600755fe", 100000, &res), EVM_INVALID_INSTRUCTION);
    assert_true(u256_eq(th_storage_get(g_th, &self, u256_from_u64(7)), u256_from_u64(42)));
    assert_int_equal(run("602b6007555f5ffd", 100000, &res), EVM_REVERT);
    assert_true(u256_eq(th_storage_get(g_th, &self, u256_from_u64(7)), u256_from_u64(42)));
    assert_int_equal(res.gas_refund, 0);
}

static void test_transient_storage_roundtrip_and_gas(void **state)
{
    (void)state;
    assert_true(u256_eq(eval("602a60055d60055c"), u256_from_u64(42)));
    assert_int_equal(assert_exact_gas("602a60055d60055c50"), 3 + 3 + 100 + 3 + 100 + 2);
    /* not persistent storage */
    evm_address self = th_addr(CONTRACT_ID);
    assert_true(u256_is_zero(th_storage_get(g_th, &self, u256_from_u64(5))));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
        T(test_sstore_gas_and_refund_match_eip3529_table),
        T(test_sstore_cold_slot_adds_2100),
        T(test_sstore_needs_more_than_stipend),
        T(test_sload_cold_then_warm),
        T(test_sstore_persists_and_exceptional_halt_reverts_it),
        T(test_transient_storage_roundtrip_and_gas),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
