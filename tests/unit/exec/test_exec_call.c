/*
 * test_exec_call.c - exec_call(): a message run through the transaction
 * layer with geth's call rules, leaving the state as it was; its gas agrees
 * with exec_apply() of the same transaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/error.h"
#include "chain/tx.h"
#include "chain/writeset.h"
#include "evm/evm.h"
#include "exec/exec.h"
#include "state/state.h"

static const uint64_t GENESIS_BALANCE = 1000000000;

/*
 * Contract 9: stores CALLDATALOAD(0) in slot 0 and returns the slot's old
 * value; REVERTs with the 2 bytes 0xbeef when the word is 0xdead:
 *   PUSH1 0 CALLDATALOAD DUP1 PUSH2 0xdead EQ PUSH1 0x1b JUMPI
 *   PUSH1 0 SLOAD SWAP1 PUSH1 0 SSTORE PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 RETURN STOP
 *   0x1b: JUMPDEST PUSH2 0xbeef PUSH1 0 MSTORE PUSH1 2 PUSH1 0x1e REVERT
 */
static const uint8_t contract[] = { 0x60, 0x00, 0x35, 0x80, 0x61, 0xde, 0xad, 0x14, 0x60, 0x1b,
                                    0x57, 0x60, 0x00, 0x54, 0x90, 0x60, 0x00, 0x55, 0x60, 0x00,
                                    0x52, 0x60, 0x20, 0x60, 0x00, 0xf3, 0x00, 0x5b, 0x61, 0xbe,
                                    0xef, 0x60, 0x00, 0x52, 0x60, 0x02, 0x60, 0x1e, 0xfd };

static void addr_of(uint8_t addr[20], uint8_t n)
{
    memset(addr, 0, 20);
    addr[0] = 0xee;
    addr[19] = n;
}

struct chain {
    struct state *genesis;
    struct state *s;
    struct exec *ex;
};

/* Account 1 funded (nonce 4); contract 9 with slot 0 = 7. */
static void chain_init(struct chain *c)
{
    struct state_reader empty, layer;
    uint8_t a[20];
    state_reader_empty(&empty);
    assert_int_equal(state_new(&empty, &c->genesis), 0);
    state_tx_begin(c->genesis);
    addr_of(a, 1);
    state_set_balance(c->genesis, a, u256_from_u64(GENESIS_BALANCE));
    state_set_nonce(c->genesis, a, 4);
    addr_of(a, 9);
    state_set_code(c->genesis, a, contract, sizeof(contract));
    state_set_nonce(c->genesis, a, 1);
    state_set_storage(c->genesis, a, u256_zero(), u256_from_u64(7));
    state_tx_end(c->genesis, false);
    state_as_reader(c->genesis, &layer);
    assert_int_equal(state_new(&layer, &c->s), 0);
    struct exec_rules rules = { .kind = EXEC_RULES_CHAIN, .tx_gas_limit = 10000000 };
    assert_int_equal(exec_new(&rules, &c->ex), 0);
    struct exec_block_env env;
    memset(&env, 0, sizeof(env));
    env.number = 1;
    env.gas_limit = 30000000;
    env.chain_id = u256_from_u64(1);
    assert_int_equal(exec_begin(c->ex, c->s, &env), 0);
}

static void chain_free(struct chain *c)
{
    exec_free(c->ex);
    state_free(c->s);
    state_free(c->genesis);
}

static struct tx message(uint8_t to, uint64_t word, uint8_t *data)
{
    struct tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = TX_DYNAMIC_FEE;
    tx.gas_limit = 100000;
    tx.has_to = true;
    addr_of(tx.to, to);
    memset(data, 0, 32);
    for (int i = 0; i < 8; i++)
        data[31 - i] = (uint8_t)(word >> (8 * i));
    tx.data = bytes_view_of(data, 32);
    return tx;
}

static void test_call_returns_output_and_leaves_the_state_unchanged(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c);
    uint8_t data[32], from[20], to[20];
    addr_of(from, 1);
    addr_of(to, 9);
    struct tx tx = message(9, 42, data);
    tx.nonce = 99; /* ignored by a call */
    struct exec_call_result r;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(exec_call(c.ex, &tx, from, &r), 0);
        assert_null(r.drop_reason);
        assert_int_equal(r.evm_status, EVM_SUCCESS);
        assert_int_equal(r.output_len, 32);
        assert_int_equal(r.output[31], 7); /* the old value, both times */
    }
    assert_true(u256_eq(state_storage(c.s, to, u256_zero()), u256_from_u64(7)));
    assert_int_equal(state_nonce(c.s, from), 4);
    struct writeset ws;
    writeset_init(&ws);
    assert_int_equal(exec_end(c.ex, &ws), 0);
    assert_int_equal(writeset_count(&ws), 0);
    writeset_free(&ws);
    chain_free(&c);
}

static void test_call_gas_matches_the_applied_transaction(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c);
    uint8_t data[32], from[20];
    addr_of(from, 1);
    struct tx tx = message(9, 42, data);
    tx.nonce = 4;
    struct exec_call_result r;
    assert_int_equal(exec_call(c.ex, &tx, from, &r), 0);
    struct exec_tx_result applied;
    assert_int_equal(exec_apply(c.ex, &tx, from, &applied), 0);
    assert_true(applied.included);
    assert_int_equal(r.gas_used, applied.receipt.gas_used);
    assert_int_equal(exec_gas_used(c.ex), applied.receipt.gas_used);
    chain_free(&c);
}

static void test_call_reports_reverts_and_drops(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c);
    uint8_t data[32], from[20];
    addr_of(from, 1);
    struct tx tx = message(9, 0xdead, data);
    struct exec_call_result r;
    assert_int_equal(exec_call(c.ex, &tx, from, &r), 0);
    assert_int_equal(r.evm_status, EVM_REVERT);
    assert_int_equal(r.output_len, 2);
    assert_int_equal(r.output[0], 0xbe);
    assert_int_equal(r.output[1], 0xef);

    /* A contract may be the sender of a call (no EIP-3607 check)... */
    uint8_t contract_addr[20];
    addr_of(contract_addr, 9);
    tx = message(1, 0, data);
    assert_int_equal(exec_call(c.ex, &tx, contract_addr, &r), 0);
    assert_int_equal(r.evm_status, EVM_SUCCESS);
    /* ...but value and fees still need a balance. */
    uint8_t poor[20];
    addr_of(poor, 3);
    tx.value = u256_from_u64(1);
    assert_int_equal(exec_call(c.ex, &tx, poor, &r), 0);
    assert_string_equal(r.drop_reason, "insufficient funds for gas * price + value");
    tx.value = u256_zero();
    tx.gas_limit = 20000;
    assert_int_equal(exec_call(c.ex, &tx, poor, &r), 0);
    assert_string_equal(r.drop_reason, "intrinsic gas too low");
    chain_free(&c);
}

static void test_call_creation_returns_the_deployed_code(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c);
    /* initcode: return the one-byte code 0xaa */
    static const uint8_t initcode[] = {
        0x60, 0xaa, 0x60, 0x00, 0x53, 0x60, 0x01, 0x60, 0x00, 0xf3
    };
    struct tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = TX_DYNAMIC_FEE;
    tx.gas_limit = 100000;
    tx.data = bytes_view_of(initcode, sizeof(initcode));
    uint8_t from[20];
    addr_of(from, 1);
    struct exec_call_result r;
    assert_int_equal(exec_call(c.ex, &tx, from, &r), 0);
    assert_int_equal(r.evm_status, EVM_SUCCESS);
    assert_int_equal(r.output_len, 1);
    assert_int_equal(r.output[0], 0xaa);
    evm_address sender, created;
    memcpy(sender.bytes, from, 20);
    created = evm_create_address(&sender, 4);
    assert_false(state_exists(c.s, created.bytes));
    assert_int_equal(state_nonce(c.s, from), 4);
    chain_free(&c);
}

static void test_call_outside_a_block_is_refused(void **unused)
{
    (void)unused;
    struct exec *ex;
    struct exec_rules rules = { .kind = EXEC_RULES_CHAIN };
    assert_int_equal(exec_new(&rules, &ex), 0);
    uint8_t data[32], from[20] = { 0 };
    struct tx tx = message(9, 1, data);
    struct exec_call_result r;
    assert_int_equal(exec_call(ex, &tx, from, &r), TC_ESTATE);
    exec_free(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_returns_output_and_leaves_the_state_unchanged),
        cmocka_unit_test(test_call_gas_matches_the_applied_transaction),
        cmocka_unit_test(test_call_reports_reverts_and_drops),
        cmocka_unit_test(test_call_creation_returns_the_deployed_code),
        cmocka_unit_test(test_call_outside_a_block_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
