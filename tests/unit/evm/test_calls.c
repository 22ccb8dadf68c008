/*
 * test_calls.c - the message layer: CALL/CALLCODE/DELEGATECALL/STATICCALL
 * (63/64 rule, stipend, value transfer and new-account cost, static mode,
 * depth 1024, return data), CREATE/CREATE2 (addresses incl. the EIP-1014
 * vectors, deposit rules, EIP-3860 and EIP-3541, collisions), REVERT,
 * LOG0..LOG4 and SELFDESTRUCT per EIP-6780.
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

static evm_address hex_addr(const char *hex)
{
    evm_address a;
    if (hex_decode_exact(hex, a.bytes, 20) != 0)
        abort();
    return a;
}

static void set_balance(uint64_t id, uint64_t balance)
{
    evm_address a = th_addr(id);
    th_entry(g_th, &a)->balance = u256_from_u64(balance);
    th_entry(g_th, &a)->exists = true;
}

/* CALL(gas = all, OTHER, value, no input, output to [0, 32)), returns
   [success, first output word] as memory [0, 64): success at 32. */
#define CALL_OTHER(value_hex)                                                                      \
    "60205f5f5f" value_hex "6130005a"                                                              \
    "f1"                                                                                           \
    "602052"                                                                                       \
    "60405ff3"

static void test_call_returns_callee_output(void **state)
{
    (void)state;
    set_code_hex(OTHER_ID, "602a5f5260205ff3");
    struct evm_result res;
    assert_int_equal(run(CALL_OTHER("5f"), 100000, &res), EVM_SUCCESS);
    assert_int_equal(res.output_len, 64);
    assert_true(u256_eq(u256_from_be_bytes(res.output, 32), u256_from_u64(42)));
    assert_true(u256_eq(u256_from_be_bytes(res.output + 32, 32), u256_one()));
    /* RETURNDATASIZE after the call */
    assert_true(u256_eq(eval("5f5f5f5f5f6130005af1503d"), u256_from_u64(32)));
}

static void test_call_forwards_all_but_one_64th(void **state)
{
    (void)state;
    set_code_hex(OTHER_ID, "5a5f5260205ff3"); /* returns GAS at entry */
    struct evm_result res;
    /* 5 pushes (3 + 2*3 + 3... counted below), then CALL with gas = 2^256-1 */
    assert_int_equal(run("60205f5f5f5f6130005f19f15060205ff3", 100000, &res), EVM_SUCCESS);
    int64_t before_call = 100000 - (3 + 2 * 4 + 3 + 2 + 3);
    int64_t after_cost = before_call - (100 + 2500 + 3); /* access + 1 word of memory */
    int64_t forwarded = after_cost - after_cost / 64;
    assert_true(u256_eq(out_word(&res), u256_from_u64((uint64_t)(forwarded - 2))));
}

static void test_call_value_to_new_account_costs_34000_and_gives_stipend(void **state)
{
    (void)state;
    set_code_hex(CONTRACT_ID, "5f5f5f5f60016140005af100");
    set_balance(CONTRACT_ID, 1000);
    struct evm_message msg;
    memset(&msg, 0, sizeof(msg));
    msg.kind = EVM_CALL;
    msg.gas = 100000;
    msg.sender = th_addr(CALLER_ID);
    msg.recipient = th_addr(CONTRACT_ID);
    msg.code_address = msg.recipient;
    struct evm_result res;
    assert_int_equal(evm_execute(g_vm, &g_th->host, &g_th->tx, &msg, &res), TC_OK);
    assert_int_equal(res.status, EVM_SUCCESS);
    /* pushes 4*2 + 3 + 3 + GAS 2; CALL 100 + 2500 cold + 9000 value + 25000
       new account; the unused stipend of 2300 comes back to the caller */
    assert_int_equal(100000 - res.gas_left, 8 + 3 + 3 + 2 + 36600 - 2300);
    evm_address target = th_addr(0x4000);
    assert_true(u256_eq(th_get_balance(g_th, &target), u256_one()));
    /* a second call: the target exists and is warm now */
    uint64_t mark = th_snapshot(g_th);
    assert_int_equal(evm_execute(g_vm, &g_th->host, &g_th->tx, &msg, &res), TC_OK);
    assert_int_equal(100000 - res.gas_left, 8 + 3 + 3 + 2 + 100 + 9000 - 2300);
    th_revert_to(g_th, mark);
}

static void test_call_with_insufficient_balance_pushes_zero(void **state)
{
    (void)state;
    set_code_hex(OTHER_ID, "00");
    struct evm_result res;
    assert_int_equal(run(CALL_OTHER("6001"), 100000, &res), EVM_SUCCESS);
    assert_true(u256_is_zero(u256_from_be_bytes(res.output + 32, 32)));
}

static void test_staticcall_blocks_state_changes(void **state)
{
    (void)state;
    static const char *const writers[] = {
        "60015f55",               /* SSTORE */
        "60015f5d",               /* TSTORE */
        "5f5fa0",                 /* LOG0 */
        "613000ff",               /* SELFDESTRUCT */
        "5f5f5ff0",               /* CREATE */
        "5f5f5f5f60016130005af1", /* CALL with value */
    };
    evm_address other = th_addr(OTHER_ID);
    for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++) {
        set_code_hex(OTHER_ID, writers[i]);
        set_balance(OTHER_ID, 10);
        /* STATICCALL(all gas, OTHER, 0, 0, 0, 0) and return its flag */
        assert_true(u256_is_zero(eval("5f5f5f5f6130005afa")));
        assert_true(u256_is_zero(th_storage_get(g_th, &other, u256_zero())));
    }
    /* reads are fine */
    set_code_hex(OTHER_ID, "5f545f5260205ff3");
    assert_true(u256_eq(eval("5f5f5f5f6130005afa"), u256_one()));
}

static void test_delegatecall_runs_in_caller_context(void **state)
{
    (void)state;
    /* stores CALLER at 0, CALLVALUE at 1, ADDRESS at 2 */
    set_code_hex(OTHER_ID, "335f553460015530600255");
    set_code_hex(CONTRACT_ID, "5f5f5f5f6130005af400");
    set_balance(CALLER_ID, 1000);
    struct evm_message msg;
    memset(&msg, 0, sizeof(msg));
    msg.kind = EVM_CALL;
    msg.gas = 200000;
    msg.sender = th_addr(CALLER_ID);
    msg.recipient = th_addr(CONTRACT_ID);
    msg.code_address = msg.recipient;
    msg.value = u256_from_u64(5);
    struct evm_result res;
    assert_int_equal(evm_execute(g_vm, &g_th->host, &g_th->tx, &msg, &res), TC_OK);
    assert_int_equal(res.status, EVM_SUCCESS);
    evm_address self = th_addr(CONTRACT_ID), other = th_addr(OTHER_ID);
    assert_true(u256_eq(th_storage_get(g_th, &self, u256_zero()), u256_from_u64(CALLER_ID)));
    assert_true(u256_eq(th_storage_get(g_th, &self, u256_one()), u256_from_u64(5)));
    assert_true(u256_eq(th_storage_get(g_th, &self, u256_from_u64(2)), u256_from_u64(CONTRACT_ID)));
    assert_true(u256_is_zero(th_storage_get(g_th, &other, u256_zero())));
    assert_true(u256_eq(th_get_balance(g_th, &self), u256_from_u64(5)));
}

static void test_callcode_uses_caller_storage_and_self_as_sender(void **state)
{
    (void)state;
    set_code_hex(OTHER_ID, "335f55");
    struct evm_result res;
    assert_int_equal(run("5f5f5f5f5f6130005af200", 200000, &res), EVM_SUCCESS);
    evm_address self = th_addr(CONTRACT_ID);
    assert_true(u256_eq(th_storage_get(g_th, &self, u256_zero()), u256_from_u64(CONTRACT_ID)));
}

static void test_revert_in_callee_keeps_caller_going(void **state)
{
    (void)state;
    /* callee stores then reverts with 32 bytes of 0x..2a */
    set_code_hex(OTHER_ID, "60015f55602a5f5260205ffd");
    struct evm_result res;
    assert_int_equal(run(CALL_OTHER("5f"), 200000, &res), EVM_SUCCESS);
    assert_true(u256_eq(u256_from_be_bytes(res.output, 32), u256_from_u64(42)));
    assert_true(u256_is_zero(u256_from_be_bytes(res.output + 32, 32)));
    evm_address other = th_addr(OTHER_ID);
    assert_true(u256_is_zero(th_storage_get(g_th, &other, u256_zero())));
    assert_true(u256_eq(eval("5f5f5f5f5f6130005af1503d"), u256_from_u64(32)));
}

static void test_failed_callee_consumes_its_gas_only(void **state)
{
    (void)state;
    set_code_hex(OTHER_ID, "fe");
    struct evm_result res;
    /* CALL with 1000 gas to an INVALID: the 1000 are lost, not more */
    assert_int_equal(run("5f5f5f5f5f6130006103e8f100", 100000, &res), EVM_SUCCESS);
    assert_int_equal(100000 - res.gas_left, 2 * 5 + 3 + 3 + 2600 + 1000);
}

static void test_call_depth_limit_is_1024(void **state)
{
    (void)state;
    set_code_hex(OTHER_ID, "00");
    set_code_hex(CONTRACT_ID, "5f5f5f5f5f6130005af15f5260205ff3");
    struct evm_message msg;
    memset(&msg, 0, sizeof(msg));
    msg.kind = EVM_CALL;
    msg.gas = 100000;
    msg.sender = th_addr(CALLER_ID);
    msg.recipient = th_addr(CONTRACT_ID);
    msg.code_address = msg.recipient;
    struct evm_result res;
    msg.depth = 1023;
    assert_int_equal(evm_execute(g_vm, &g_th->host, &g_th->tx, &msg, &res), TC_OK);
    assert_true(u256_eq(out_word(&res), u256_one()));
    msg.depth = 1024;
    assert_int_equal(evm_execute(g_vm, &g_th->host, &g_th->tx, &msg, &res), TC_OK);
    assert_int_equal(res.status, EVM_SUCCESS);
    assert_true(u256_is_zero(out_word(&res)));
    msg.depth = 1025;
    assert_int_equal(evm_execute(g_vm, &g_th->host, &g_th->tx, &msg, &res), TC_EINVAL);
}

static void test_recursive_self_call_reaches_depth_1024(void **state)
{
    (void)state;
    /* slot 0 += 1, then CALL(all gas, ADDRESS, 0, 0, 0, 0, 0): with enough
       gas the 63/64 rule still lets 1025 frames (depths 0..1024) run; the
       call from depth 1024 fails and the chain unwinds successfully. */
    struct evm_result res;
    assert_int_equal(run("5f546001015f55"
                         "5f5f5f5f5f305af100",
                         INT64_MAX / 4, &res),
                     EVM_SUCCESS);
    evm_address self = th_addr(CONTRACT_ID);
    assert_true(u256_eq(th_storage_get(g_th, &self, u256_zero()), u256_from_u64(1025)));
}

static void test_create_address_vectors(void **state)
{
    (void)state;
    evm_address s = hex_addr("6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0");
    static const char *const expected[] = {
        "cd234a471b72ba2f1ccf0a70fcaba648a5eecd8d",
        "343c43a37d37dff08ae8c4a11544c718abb4fcf8",
        "f778b86fa74e846c4f0a1fbd1335fe81c00a0c91",
        "fffd933a0bc612844eaf0c6fe3e5b8e9b6c1d19c",
    };
    for (uint64_t n = 0; n < 4; n++) {
        evm_address got = evm_create_address(&s, n), want = hex_addr(expected[n]);
        assert_memory_equal(got.bytes, want.bytes, 20);
    }
}

static void test_create2_address_matches_eip1014_examples(void **state)
{
    (void)state;
    evm_bytes32 salt;
    memset(&salt, 0, sizeof(salt));
    uint8_t zero = 0;
    evm_address s0 = hex_addr("0000000000000000000000000000000000000000");
    evm_address s1 = hex_addr("deadbeef00000000000000000000000000000000");
    evm_address got = evm_create2_address(&s0, &salt, &zero, 1);
    evm_address want = hex_addr("4d1a2e2bb4f88f0250f26ffff098b0b30b26bf38");
    assert_memory_equal(got.bytes, want.bytes, 20);
    got = evm_create2_address(&s1, &salt, &zero, 1);
    want = hex_addr("b928f69bb1d91cd65274e3c79d8986362984fda3");
    assert_memory_equal(got.bytes, want.bytes, 20);
    got = evm_create2_address(&s0, &salt, NULL, 0);
    want = hex_addr("e33c0c7f7df4809055c3eba6c09cfe4baf1bd9e0");
    assert_memory_equal(got.bytes, want.bytes, 20);
}

/* initcode returning runtime 602a5f5500 (5 bytes), as PUSH13 at memory 19 */
#define INITCODE "64602a5f55005f526005601bf3"

static void test_create_deploys_code_at_rlp_address(void **state)
{
    (void)state;
    struct evm_result res;
    assert_int_equal(run("6c" INITCODE "5f52600d60135ff0"
                         "5f5260205ff3",
                         200000, &res),
                     EVM_SUCCESS);
    evm_address self = th_addr(CONTRACT_ID);
    evm_address want = evm_create_address(&self, 1);
    assert_true(u256_eq(out_word(&res), u256_from_be_bytes(want.bytes, 20)));
    struct th_account *acc = th_find(g_th, &want);
    assert_non_null(acc);
    assert_int_equal(acc->code_len, 5);
    assert_memory_equal(acc->code, "\x60\x2a\x5f\x55\x00", 5);
    assert_int_equal(acc->nonce, 1);
    assert_int_equal(th_get_nonce(g_th, &self), 2);
}

static void test_create2_opcode_uses_salt(void **state)
{
    (void)state;
    struct evm_result res;
    /* CREATE2(value 0, offset 19, size 13, salt 7) */
    assert_int_equal(run("6c" INITCODE "5f526007600d60135ff5"
                         "5f5260205ff3",
                         200000, &res),
                     EVM_SUCCESS);
    evm_address self = th_addr(CONTRACT_ID);
    evm_bytes32 salt;
    memset(&salt, 0, sizeof(salt));
    salt.bytes[31] = 7;
    uint8_t init[13];
    th_hex(INITCODE, init, sizeof(init));
    evm_address want = evm_create2_address(&self, &salt, init, sizeof(init));
    assert_true(u256_eq(out_word(&res), u256_from_be_bytes(want.bytes, 20)));
    /* the same salt again collides: 0 */
    assert_int_equal(run("6c" INITCODE "5f526007600d60135ff5"
                         "5f5260205ff3",
                         200000, &res),
                     EVM_SUCCESS);
    assert_true(u256_is_zero(out_word(&res)));
}

static enum evm_status create_tx(const char *initcode_hex, int64_t gas, struct evm_result *res)
{
    static uint8_t init[EVM_MAX_INITCODE_BYTES + 1];
    size_t n = th_hex(initcode_hex, init, sizeof(init));
    struct evm_message msg;
    memset(&msg, 0, sizeof(msg));
    msg.kind = EVM_CREATE;
    msg.gas = gas;
    msg.sender = th_addr(CALLER_ID);
    msg.input = init;
    msg.input_len = n;
    assert_int_equal(evm_execute(g_vm, &g_th->host, &g_th->tx, &msg, res), TC_OK);
    return res->status;
}

static void test_deposit_code_size_limit_and_ef_prefix(void **state)
{
    (void)state;
    struct evm_result res;
    /* RETURN(0, 24576): allowed, costs 200 per byte */
    assert_int_equal(create_tx("6160005ff3", 10000000, &res), EVM_SUCCESS);
    struct th_account *acc = th_find(g_th, &res.create_address);
    assert_int_equal(acc->code_len, 24576);
    assert_int_equal(create_tx("6160015ff3", 10000000, &res), EVM_CODE_SIZE_EXCEEDED);
    assert_int_equal(res.gas_left, 0);
    assert_int_equal(create_tx("60ef5f5360015ff3", 100000, &res), EVM_INVALID_CODE_PREFIX);
    assert_int_equal(create_tx("60fe5f5360015ff3", 100000, &res), EVM_SUCCESS);
    /* deposit out of gas: 1 byte needs 200 after the 3+2+3+3(mem)+3+2 = 16 */
    assert_int_equal(create_tx("60fe5f5360015ff3", 16 + 199, &res), EVM_OUT_OF_GAS);
    assert_int_equal(create_tx("60fe5f5360015ff3", 16 + 200, &res), EVM_SUCCESS);
    assert_int_equal(res.gas_left, 0);
}

static void test_create_with_revert_returns_data_and_nonce_still_moves(void **state)
{
    (void)state;
    struct evm_result res;
    evm_address caller = th_addr(CALLER_ID);
    uint64_t nonce = th_get_nonce(g_th, &caller);
    assert_int_equal(create_tx("602a5f5260205ffd", 100000, &res), EVM_REVERT);
    assert_int_equal(res.output_len, 32);
    assert_int_equal(th_get_nonce(g_th, &caller), nonce + 1);
    struct th_account *acc = th_find(g_th, &res.create_address);
    assert_true(acc == NULL || !acc->exists); /* the creation was rolled back */
}

static void test_initcode_size_limit_aborts_creating_frame(void **state)
{
    (void)state;
    struct evm_result res;
    /* CREATE(0, 0, 49152) succeeds (zero initcode deploys nothing) */
    assert_int_equal(run("61c0005f5ff0", 1000000, &res), EVM_SUCCESS);
    assert_int_equal(run("61c0015f5ff0", 1000000, &res), EVM_INITCODE_SIZE_EXCEEDED);
    assert_int_equal(res.gas_left, 0);
    /* the same bound on a creation message */
    static char big[2 * (EVM_MAX_INITCODE_BYTES + 1) + 1];
    memset(big, '0', sizeof(big) - 1);
    assert_int_equal(create_tx(big, 10000000, &res), EVM_INITCODE_SIZE_EXCEEDED);
}

static void test_create_collision_fails(void **state)
{
    (void)state;
    evm_address self = th_addr(CONTRACT_ID);
    evm_address target = evm_create_address(&self, 1);
    th_account_set(g_th, &target, u256_zero(), 1, NULL, 0);
    struct evm_result res;
    assert_int_equal(run("5f5f5ff0"
                         "5f5260205ff3",
                         200000, &res),
                     EVM_SUCCESS);
    assert_true(u256_is_zero(out_word(&res)));
    assert_int_equal(th_get_nonce(g_th, &self), 2);
    /* all the gas given to CREATE is lost: used = pushes + 32000 + the
       forwarded 63/64 */
    assert_true(200000 - res.gas_left > 32000 + (200000 - 32000) * 62 / 64);
}

static void test_log_records_topics_and_data_with_gas(void **state)
{
    (void)state;
    /* MSTORE 0xbeef at 0; LOG2(offset 30, size 2, topic1 = 1, topic2 = 2) */
    assert_int_equal(assert_exact_gas("61beef5f52"
                                      "60026001"
                                      "6002601e"
                                      "a2"),
                     3 + 2 + 3 + 3 + 3 + 3 + 3 + 3 + 375 + 2 * 375 + 8 * 2);
    struct evm_result res;
    assert_int_equal(run("61beef5f52"
                         "60026001"
                         "6002601e"
                         "a2",
                         100000, &res),
                     EVM_SUCCESS);
    assert_int_equal(g_th->n_logs, 1);
    struct th_log *l = &g_th->logs[0];
    assert_int_equal(l->topics_count, 2);
    assert_int_equal(l->topics[0].bytes[31], 1);
    assert_int_equal(l->topics[1].bytes[31], 2);
    assert_int_equal(l->data_len, 2);
    assert_memory_equal(l->data, "\xbe\xef", 2);
    assert_int_equal(run("5f5f5f5f5f5fa4fe", 100000, &res), EVM_INVALID_INSTRUCTION);
    assert_int_equal(g_th->n_logs, 1); /* reverted */
}

static void test_selfdestruct_of_old_contract_only_moves_balance(void **state)
{
    (void)state;
    set_balance(CONTRACT_ID, 500);
    struct evm_result res;
    /* SELFDESTRUCT(OTHER): 5000 + 2600 cold + 25000 (OTHER is dead) */
    assert_int_equal(run("613000ff", 100000, &res), EVM_SUCCESS);
    assert_int_equal(100000 - res.gas_left, 3 + 5000 + 2600 + 25000);
    evm_address self = th_addr(CONTRACT_ID), other = th_addr(OTHER_ID);
    assert_true(u256_eq(th_get_balance(g_th, &other), u256_from_u64(500)));
    assert_true(u256_is_zero(th_get_balance(g_th, &self)));
    assert_false(th_find(g_th, &self)->destructed);
    assert_int_equal(th_find(g_th, &self)->code_len, 4);
}

static void test_selfdestruct_in_creating_tx_deletes(void **state)
{
    (void)state;
    struct evm_result res;
    assert_int_equal(create_tx("613000ff", 100000, &res), EVM_SUCCESS);
    struct th_account *acc = th_find(g_th, &res.create_address);
    assert_non_null(acc);
    assert_true(acc->destructed);
}

static void test_call_to_identity_precompile(void **state)
{
    (void)state;
    struct evm_result res;
    /* MSTORE 0x2a at 0; CALL(all, 0x04, 0, in 0..32, out 32..64); return 32..64 */
    assert_int_equal(run("602a5f52"
                         "60206020"
                         "60205f"
                         "5f60045af1"
                         "5060206020f3",
                         100000, &res),
                     EVM_SUCCESS);
    assert_true(u256_eq(out_word(&res), u256_from_u64(42)));
}

static void test_call_to_point_evaluation_reports_unsupported(void **state)
{
    (void)state;
    struct evm_result res;
    /* the failed call consumes the gas it was given; the outer call goes on */
    assert_int_equal(run("5f5f5f5f5f600a6103e8f1"
                         "5f5260205ff3",
                         100000, &res),
                     EVM_SUCCESS);
    assert_true(u256_is_zero(out_word(&res)));
    assert_int_equal(res.unsupported_precompile, 0x0a);
    assert_int_equal(100000 - res.gas_left, 5 * 2 + 3 + 3 + 2600 + 1000 + 2 + 3 + 3 + 3 + 2);
    /* the pairing check (0x08) is implemented: an empty input answers 1 */
    assert_int_equal(run("60205f5f5f5f60085af1"
                         "505f515f5260205ff3",
                         100000, &res),
                     EVM_SUCCESS);
    assert_true(u256_eq(out_word(&res), u256_one()));
    assert_int_equal(res.unsupported_precompile, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
        T(test_call_returns_callee_output),
        T(test_call_forwards_all_but_one_64th),
        T(test_call_value_to_new_account_costs_34000_and_gives_stipend),
        T(test_call_with_insufficient_balance_pushes_zero),
        T(test_staticcall_blocks_state_changes),
        T(test_delegatecall_runs_in_caller_context),
        T(test_callcode_uses_caller_storage_and_self_as_sender),
        T(test_revert_in_callee_keeps_caller_going),
        T(test_failed_callee_consumes_its_gas_only),
        T(test_call_depth_limit_is_1024),
        T(test_recursive_self_call_reaches_depth_1024),
        T(test_create_address_vectors),
        T(test_create2_address_matches_eip1014_examples),
        T(test_create_deploys_code_at_rlp_address),
        T(test_create2_opcode_uses_salt),
        T(test_deposit_code_size_limit_and_ef_prefix),
        T(test_create_with_revert_returns_data_and_nonce_still_moves),
        T(test_initcode_size_limit_aborts_creating_frame),
        T(test_create_collision_fails),
        T(test_log_records_topics_and_data_with_gas),
        T(test_selfdestruct_of_old_contract_only_moves_balance),
        T(test_selfdestruct_in_creating_tx_deletes),
        T(test_call_to_identity_precompile),
        T(test_call_to_point_evaluation_reports_unsupported),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
