/*
 * evm_test_util.h - shared fixture of the EVM unit tests: one interpreter,
 * one test host, and a helper that runs hex bytecode as the code of
 * CONTRACT called by CALLER (a transaction-level CALL, recipient warm as the
 * transaction layer would leave it).
 */
#ifndef TC_TESTS_EVM_TEST_UTIL_H
#define TC_TESTS_EVM_TEST_UTIL_H

#include "evm/test_host.h"

#define CONTRACT_ID 0x1000
#define CALLER_ID   0x2000
#define OTHER_ID    0x3000
#define CODE_CAP    65536

static struct evm *g_vm;
static struct test_host *g_th;
static uint8_t g_code[CODE_CAP];

static int fixture_setup(void **state)
{
    (void)state;
    g_vm = evm_new(0);
    g_th = test_host_new();
    if (g_vm == NULL)
        return -1;
    evm_address caller = th_addr(CALLER_ID), contract = th_addr(CONTRACT_ID);
    th_account_set(g_th, &caller, u256_from_u64(1000000000), 1, NULL, 0);
    th_warm(g_th, &caller);
    th_warm(g_th, &contract);
    g_th->tx.origin = caller;
    return 0;
}

static int fixture_teardown(void **state)
{
    (void)state;
    evm_free(g_vm);
    test_host_free(g_th);
    return 0;
}

/* Gives account `id` the code `hex` (nonce 1), keeping its balance. */
static inline void set_code_hex(uint64_t id, const char *hex)
{
    evm_address a = th_addr(id);
    size_t n = th_hex(hex, g_code, sizeof(g_code));
    struct th_account *acc = th_find(g_th, &a);
    u256 balance = acc != NULL ? acc->balance : u256_zero();
    th_account_set(g_th, &a, balance, 1, g_code, n);
}

/* Runs `hex` as CONTRACT's code with `gas`, calldata input[0..len). */
static inline enum evm_status run_with_input(const char *hex, int64_t gas, const uint8_t *input,
                                             size_t len, struct evm_result *res)
{
    set_code_hex(CONTRACT_ID, hex);
    struct evm_message msg;
    memset(&msg, 0, sizeof(msg));
    msg.kind = EVM_CALL;
    msg.gas = gas;
    msg.sender = th_addr(CALLER_ID);
    msg.recipient = th_addr(CONTRACT_ID);
    msg.code_address = msg.recipient;
    msg.input = input;
    msg.input_len = len;
    if (evm_execute(g_vm, &g_th->host, &g_th->tx, &msg, res) != TC_OK)
        return (enum evm_status) - 1;
    return res->status;
}

static inline enum evm_status run(const char *hex, int64_t gas, struct evm_result *res)
{
    return run_with_input(hex, gas, NULL, 0, res);
}

/* The 32-byte output as a word (fails the test if the output is not 32 bytes). */
static inline u256 out_word(const struct evm_result *res)
{
    assert_int_equal(res->output_len, 32);
    return u256_from_be_bytes(res->output, 32);
}

/* Runs code that leaves one word on the stack followed by "return it". */
static inline u256 eval(const char *hex_prefix)
{
    char buf[4096];
    struct evm_result res;
    snprintf(buf, sizeof(buf), "%s5f5260205ff3",
             hex_prefix); /* PUSH0 MSTORE PUSH1 32 PUSH0 RETURN */
    assert_int_equal(run(buf, 1000000, &res), EVM_SUCCESS);
    return out_word(&res);
}

static inline u256 hex_word(const char *hex)
{
    u256 v;
    if (u256_from_hex(hex, &v) != TC_OK)
        abort();
    return v;
}

/* Gas used by `hex` run with plenty of gas; asserts success. The state is
   rolled back afterwards, so that warm/cold and storage start equal. */
static inline int64_t gas_used(const char *hex)
{
    struct evm_result res;
    uint64_t mark = th_snapshot(g_th);
    assert_int_equal(run(hex, 10000000, &res), EVM_SUCCESS);
    th_revert_to(g_th, mark);
    return 10000000 - res.gas_left;
}

/* Asserts that `hex` succeeds with exactly its cost and fails out of gas
   with one unit less. Returns the cost. */
static inline int64_t assert_exact_gas(const char *hex)
{
    struct evm_result res;
    int64_t cost = gas_used(hex);
    uint64_t mark = th_snapshot(g_th);
    assert_int_equal(run(hex, cost, &res), EVM_SUCCESS);
    assert_int_equal(res.gas_left, 0);
    th_revert_to(g_th, mark);
    assert_int_equal(run(hex, cost - 1, &res), EVM_OUT_OF_GAS);
    assert_int_equal(res.gas_left, 0);
    th_revert_to(g_th, mark);
    return cost;
}

#endif
