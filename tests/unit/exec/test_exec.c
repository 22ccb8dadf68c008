/* test_exec.c - the transaction layer: value transfers, fees, receipts, drops, creation. */
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

static void addr_of(uint8_t addr[20], uint8_t n)
{
    memset(addr, 0, 20);
    addr[0] = 0xee;
    addr[19] = n;
}

static u256 u(uint64_t x)
{
    return u256_from_u64(x);
}

/* Genesis: accounts 1 and 2 funded; account 9 holds code 0x00 (STOP). */
struct chain {
    struct state *genesis;
    struct state *s;
    struct exec *ex;
    struct exec_block_env env;
};

static void chain_init(struct chain *c, enum exec_rules_kind kind, uint64_t tx_gas_limit)
{
    struct state_reader empty, layer;
    uint8_t a[20];
    static const uint8_t stop[] = { 0x00 };
    state_reader_empty(&empty);
    assert_int_equal(state_new(&empty, &c->genesis), 0);
    state_tx_begin(c->genesis);
    addr_of(a, 1);
    state_set_balance(c->genesis, a, u(GENESIS_BALANCE));
    addr_of(a, 2);
    state_set_balance(c->genesis, a, u(GENESIS_BALANCE));
    addr_of(a, 9);
    state_set_code(c->genesis, a, stop, 1);
    state_set_nonce(c->genesis, a, 1);
    state_tx_end(c->genesis, false);
    state_as_reader(c->genesis, &layer);
    assert_int_equal(state_new(&layer, &c->s), 0);
    struct exec_rules rules = { .kind = kind, .tx_gas_limit = tx_gas_limit };
    assert_int_equal(exec_new(&rules, &c->ex), 0);
    memset(&c->env, 0, sizeof(c->env));
    addr_of(c->env.coinbase, 0xcb);
    c->env.number = 1;
    c->env.gas_limit = 30000000;
    c->env.chain_id = u(1);
    assert_int_equal(exec_begin(c->ex, c->s, &c->env), 0);
}

static void chain_free(struct chain *c)
{
    exec_free(c->ex);
    state_free(c->s);
    state_free(c->genesis);
}

static struct tx transfer(uint8_t to, uint64_t nonce, uint64_t value, uint64_t price)
{
    struct tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = TX_LEGACY;
    tx.nonce = nonce;
    tx.gas_price = tx.max_fee_per_gas = tx.max_priority_fee_per_gas = u(price);
    tx.gas_limit = 21000;
    tx.has_to = true;
    addr_of(tx.to, to);
    tx.value = u(value);
    return tx;
}

static void apply_ok(struct chain *c, const struct tx *tx, uint8_t from, struct exec_tx_result *r)
{
    uint8_t sender[20];
    addr_of(sender, from);
    assert_int_equal(exec_apply(c->ex, tx, sender, r), 0);
    assert_true(r->included);
    assert_true(r->receipt.status);
}

static void test_value_transfer_pays_value_and_gas_at_price(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN, 0);
    struct tx tx = transfer(3, 0, 500, 10);
    struct exec_tx_result r;
    apply_ok(&c, &tx, 1, &r);
    uint8_t a1[20], a3[20];
    addr_of(a1, 1);
    addr_of(a3, 3);
    assert_int_equal(r.receipt.gas_used, 21000);
    assert_int_equal(r.receipt.cumulative_gas_used, 21000);
    assert_int_equal(r.receipt.tx_index, 0);
    assert_false(r.receipt.has_contract_address);
    assert_int_equal(r.receipt.log_count, 0);
    assert_true(u256_eq(r.receipt.effective_gas_price, u(10)));
    assert_true(u256_eq(state_balance(c.s, a1), u(GENESIS_BALANCE - 500 - 210000)));
    assert_int_equal(state_nonce(c.s, a1), 1);
    assert_true(u256_eq(state_balance(c.s, a3), u(500)));
    assert_true(u256_eq(state_balance(c.s, c.env.coinbase), u(210000)));
    chain_free(&c);
}

static void test_zero_gas_price_moves_only_the_value(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN, 0);
    struct tx tx = transfer(3, 0, 7, 0);
    struct exec_tx_result r;
    apply_ok(&c, &tx, 1, &r);
    uint8_t a1[20];
    addr_of(a1, 1);
    assert_int_equal(r.receipt.gas_used, 21000);
    assert_true(u256_eq(state_balance(c.s, a1), u(GENESIS_BALANCE - 7)));
    /* the coinbase received 0 and, being empty, does not exist (EIP-161) */
    assert_false(state_exists(c.s, c.env.coinbase));
    chain_free(&c);
}

static void test_receipts_accumulate_gas_and_index_across_transactions(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN, 0);
    struct exec_tx_result r;
    for (uint64_t i = 0; i < 3; i++) {
        struct tx tx = transfer(3, i, 1, 1);
        apply_ok(&c, &tx, 1, &r);
        assert_int_equal(r.receipt.tx_index, i);
        assert_int_equal(r.receipt.cumulative_gas_used, 21000 * (i + 1));
    }
    struct tx tx = transfer(3, 0, 1, 1);
    apply_ok(&c, &tx, 2, &r);
    assert_int_equal(r.receipt.tx_index, 3);
    assert_int_equal(exec_gas_used(c.ex), 84000);
    chain_free(&c);
}

static void expect_drop(struct chain *c, const struct tx *tx, uint8_t from, const char *reason)
{
    uint8_t sender[20];
    struct exec_tx_result r;
    addr_of(sender, from);
    struct writeset before, after;
    writeset_init(&before);
    writeset_init(&after);
    assert_int_equal(state_writeset(c->s, &before), 0);
    uint64_t gas = exec_gas_used(c->ex);
    assert_int_equal(exec_apply(c->ex, tx, sender, &r), 0);
    assert_false(r.included);
    assert_non_null(r.drop_reason);
    assert_string_equal(r.drop_reason, reason);
    assert_int_equal(exec_gas_used(c->ex), gas);
    assert_int_equal(state_writeset(c->s, &after), 0);
    assert_true(writeset_equal(&before, &after));
    writeset_free(&before);
    writeset_free(&after);
}

static void test_invalid_transactions_are_dropped_with_a_reason(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN, 100000);
    struct exec_tx_result r;
    struct tx ok = transfer(3, 0, 1, 1);
    apply_ok(&c, &ok, 1, &r);

    struct tx tx = transfer(3, 0, 1, 1);
    expect_drop(&c, &tx, 1, "nonce too low");
    tx = transfer(3, 5, 1, 1);
    expect_drop(&c, &tx, 1, "nonce too high");
    tx = transfer(3, 0, GENESIS_BALANCE, 1);
    expect_drop(&c, &tx, 2, "insufficient funds for gas * price + value");
    tx = transfer(3, 0, 1, 0);
    expect_drop(&c, &tx, 4, "insufficient funds for gas * price + value");
    tx = transfer(3, 0, 1, 1);
    tx.gas_limit = 20999;
    expect_drop(&c, &tx, 2, "intrinsic gas too low");
    tx.gas_limit = 100001;
    expect_drop(&c, &tx, 2, "gas limit above the chain's transaction gas limit");
    /* a sender with code (EIP-3607) */
    tx = transfer(3, 1, 1, 0);
    expect_drop(&c, &tx, 9, "sender not an eoa");
    chain_free(&c);
}

static void test_block_gas_limit_drops_the_transaction_that_does_not_fit(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN, 0);
    c.env.gas_limit = 50000;
    exec_begin(c.ex, c.s, &c.env);
    struct exec_tx_result r;
    struct tx tx = transfer(3, 0, 1, 0);
    apply_ok(&c, &tx, 1, &r);
    tx = transfer(3, 1, 1, 0);
    apply_ok(&c, &tx, 1, &r);
    tx = transfer(3, 2, 1, 0);
    expect_drop(&c, &tx, 1, "block gas limit reached");
    chain_free(&c);
}

/* The fast path (no code) and the EVM path (code STOP) agree on gas and balances. */
static void test_transfer_fast_path_matches_the_evm(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CONFORMANCE, 0);
    struct exec_tx_result fast, evm;
    struct tx to_plain = transfer(3, 0, 1000, 2);
    struct tx to_code = transfer(9, 0, 1000, 2);
    to_plain.gas_limit = to_code.gas_limit = 50000;
    apply_ok(&c, &to_plain, 1, &fast);
    apply_ok(&c, &to_code, 2, &evm);
    assert_int_equal(fast.receipt.gas_used, evm.receipt.gas_used);
    assert_int_equal(evm.evm_status, EVM_SUCCESS);
    uint8_t a1[20], a2[20], a3[20], a9[20];
    addr_of(a1, 1);
    addr_of(a2, 2);
    addr_of(a3, 3);
    addr_of(a9, 9);
    assert_true(u256_eq(state_balance(c.s, a1), state_balance(c.s, a2)));
    assert_true(u256_eq(state_balance(c.s, a3), state_balance(c.s, a9)));
    chain_free(&c);
}

static void test_conformance_rules_burn_the_base_fee_and_pay_the_tip(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CONFORMANCE, 0);
    c.env.base_fee = u(7);
    exec_begin(c.ex, c.s, &c.env);
    struct tx tx = transfer(3, 0, 0, 0);
    tx.type = TX_DYNAMIC_FEE;
    tx.max_fee_per_gas = tx.gas_price = u(20);
    tx.max_priority_fee_per_gas = u(3);
    struct exec_tx_result r;
    apply_ok(&c, &tx, 1, &r);
    uint8_t a1[20];
    addr_of(a1, 1);
    assert_true(u256_eq(r.receipt.effective_gas_price, u(10)));
    assert_true(u256_eq(state_balance(c.s, a1), u(GENESIS_BALANCE - 10 * 21000)));
    assert_true(u256_eq(state_balance(c.s, c.env.coinbase), u(3 * 21000)));
    /* a max fee under the base fee is dropped */
    tx.nonce = 1;
    tx.max_fee_per_gas = tx.gas_price = u(6);
    tx.max_priority_fee_per_gas = u(1);
    expect_drop(&c, &tx, 1, "max fee per gas less than block base fee");
    chain_free(&c);
}

static void test_contract_creation_deploys_code_and_reports_its_address(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN, 0);
    /* initcode: return the one-byte code 0x00: PUSH1 0 PUSH1 0 MSTORE8 PUSH1 1 PUSH1 0 RETURN */
    static const uint8_t initcode[] = {
        0x60, 0x00, 0x60, 0x00, 0x53, 0x60, 0x01, 0x60, 0x00, 0xf3
    };
    struct tx tx = transfer(0, 0, 0, 0);
    tx.has_to = false;
    tx.gas_limit = 100000;
    tx.data = bytes_view_of(initcode, sizeof(initcode));
    struct exec_tx_result r;
    apply_ok(&c, &tx, 1, &r);
    evm_address from, created;
    addr_of(from.bytes, 1);
    created = evm_create_address(&from, 0);
    assert_true(r.receipt.has_contract_address);
    assert_memory_equal(r.receipt.contract_address, created.bytes, 20);
    const uint8_t *code;
    size_t len;
    state_code(c.s, created.bytes, &code, &len);
    assert_int_equal(len, 1);
    assert_int_equal(state_nonce(c.s, created.bytes), 1);
    assert_int_equal(state_nonce(c.s, from.bytes), 1);

    struct writeset ws;
    writeset_init(&ws);
    assert_int_equal(exec_end(c.ex, &ws), 0);
    /* sender and contract accounts, the code */
    assert_int_equal(writeset_count(&ws), 3);
    struct writeset_item it;
    writeset_get(&ws, 2, &it);
    assert_int_equal(it.ns, WRITESET_NS_CODE);
    writeset_free(&ws);
    chain_free(&c);
}

static void test_apply_outside_a_block_is_refused(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN, 0);
    struct writeset ws;
    writeset_init(&ws);
    assert_int_equal(exec_end(c.ex, &ws), 0);
    struct tx tx = transfer(3, 0, 1, 0);
    struct exec_tx_result r;
    uint8_t sender[20];
    addr_of(sender, 1);
    assert_int_equal(exec_apply(c.ex, &tx, sender, &r), TC_ESTATE);
    writeset_free(&ws);
    chain_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_transfer_pays_value_and_gas_at_price),
        cmocka_unit_test(test_zero_gas_price_moves_only_the_value),
        cmocka_unit_test(test_receipts_accumulate_gas_and_index_across_transactions),
        cmocka_unit_test(test_invalid_transactions_are_dropped_with_a_reason),
        cmocka_unit_test(test_block_gas_limit_drops_the_transaction_that_does_not_fit),
        cmocka_unit_test(test_transfer_fast_path_matches_the_evm),
        cmocka_unit_test(test_conformance_rules_burn_the_base_fee_and_pay_the_tip),
        cmocka_unit_test(test_contract_creation_deploys_code_and_reports_its_address),
        cmocka_unit_test(test_apply_outside_a_block_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
