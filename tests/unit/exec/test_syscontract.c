/*
 * test_syscontract.c - the consensus system contract at 0x...1003 run by the
 * executor on a real state: each function, each refusal (reason decoded from
 * the revert data), authorization, gas, storage layout and its loader, the
 * conformance rules, and exec_call.
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
#include "chain/genesis.h"
#include "chain/tx.h"
#include "chain/writeset.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"
#include "evm/evm.h"
#include "exec/exec.h"
#include "exec/syscontract.h"
#include "state/state.h"

static uint64_t test_seed = 1003;

/* Node ID n: 64 bytes all n (any 64 bytes act as an ID for the contract). */
static void node_id(uint8_t id[NODE_ID_BYTES], uint8_t n)
{
    memset(id, n, NODE_ID_BYTES);
}

static void node_address(uint8_t addr[20], uint8_t n)
{
    uint8_t id[NODE_ID_BYTES];
    node_id(id, n);
    eth_address_from_pubkey(id, addr);
}

/* Genesis: sealers 1 and 2 (weights 1 and 2), observer 3. */
static void genesis_init(struct genesis_config *g)
{
    memset(g, 0, sizeof(*g));
    g->chain_id = 20200;
    g->sealer_count = 2;
    node_id(g->sealers[0].id, 1);
    g->sealers[0].weight = 1;
    node_id(g->sealers[1].id, 2);
    g->sealers[1].weight = 2;
    g->observer_count = 1;
    node_id(g->observers[0].id, 3);
    g->observers[0].weight = 1;
}

struct chain {
    struct genesis_config g;
    struct state *base;
    struct state *s;
    struct exec *ex;
    struct exec_block_env env;
    uint64_t nonce[256]; /* next nonce of node n's address */
};

/* A contract at 0xee..09 that CALLs 0x1003 with no data and stores the CALL's
   success flag in its slot 0. */
static const uint8_t CALLER_CODE[] = { 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00,
                                       0x61, 0x10, 0x03, 0x5a, 0xf1, 0x60, 0x00, 0x55, 0x00 };

static void caller_address(uint8_t addr[20])
{
    memset(addr, 0, 20);
    addr[0] = 0xee;
    addr[19] = 9;
}

static void chain_init(struct chain *c, enum exec_rules_kind kind)
{
    struct state_reader empty, layer;
    memset(c, 0, sizeof(*c));
    genesis_init(&c->g);
    state_reader_empty(&empty);
    assert_int_equal(state_new(&empty, &c->base), 0);
    state_tx_begin(c->base);
    uint8_t a[20];
    caller_address(a);
    state_set_code(c->base, a, CALLER_CODE, sizeof(CALLER_CODE));
    state_set_nonce(c->base, a, 1);
    node_address(a, 1); /* to offer value */
    state_set_balance(c->base, a, u256_from_u64(1000));
    state_tx_end(c->base, false);
    state_as_reader(c->base, &layer);
    assert_int_equal(state_new(&layer, &c->s), 0);
    struct exec_rules rules = { .kind = kind, .tx_gas_limit = 0 };
    assert_int_equal(exec_new(&rules, &c->ex), 0);
    syscontract_exec_set_genesis(c->ex, &c->g);
    c->env.number = 1;
    c->env.gas_limit = 30000000;
    c->env.chain_id = u256_from_u64(20200);
    assert_int_equal(exec_begin(c->ex, c->s, &c->env), 0);
}

static void chain_free(struct chain *c)
{
    exec_free(c->ex);
    state_free(c->s);
    state_free(c->base);
}

/* ---- ABI encoding of calls ---------------------------------------------- */

static void put_word(struct bytes *b, uint64_t v)
{
    uint8_t w[32] = { 0 };
    for (int i = 0; i < 8; i++)
        w[31 - i] = (uint8_t)(v >> (8 * i));
    assert_int_equal(bytes_append(b, w, 32), 0);
}

static void put_selector(struct bytes *b, const char *sig)
{
    uint8_t h[32];
    keccak256(sig, strlen(sig), h);
    assert_int_equal(bytes_append(b, h, 4), 0);
}

/* sig(string text[, uint256 weight]) */
static void encode_text(struct bytes *b, const char *sig, const char *text, bool has_weight,
                        uint64_t weight)
{
    size_t n = strlen(text);
    uint8_t pad[32] = { 0 };
    put_selector(b, sig);
    put_word(b, has_weight ? 64 : 32);
    if (has_weight)
        put_word(b, weight);
    put_word(b, n);
    assert_int_equal(bytes_append(b, text, n), 0);
    assert_int_equal(bytes_append(b, pad, (32 - n % 32) % 32), 0);
}

static void encode_id(struct bytes *b, const char *sig, uint8_t n, bool has_weight, uint64_t weight)
{
    uint8_t id[NODE_ID_BYTES];
    char hex[2 * NODE_ID_BYTES + 1];
    node_id(id, n);
    hex_encode(id, NODE_ID_BYTES, hex);
    encode_text(b, sig, hex, has_weight, weight);
}

/* ---- running transactions ----------------------------------------------- */

static struct tx tx_to(const uint8_t to[20], const struct bytes *data, uint64_t gas_limit)
{
    struct tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = TX_LEGACY;
    tx.gas_limit = gas_limit;
    tx.has_to = true;
    memcpy(tx.to, to, 20);
    tx.data = bytes_as_view(data);
    return tx;
}

/* Sends data from node `from`'s address to 0x1003; returns the receipt's status. */
static bool send_from(struct chain *c, uint8_t from, const struct bytes *data,
                      struct exec_tx_result *r)
{
    uint8_t sender[20];
    node_address(sender, from);
    struct tx tx = tx_to(SYSCONTRACT_CONSENSUS, data, 200000);
    tx.nonce = c->nonce[from];
    assert_int_equal(exec_apply(c->ex, &tx, sender, r), 0);
    assert_true(r->included);
    c->nonce[from]++;
    return r->receipt.status;
}

/* Calls fn from node `from` with node `target`'s ID; returns the status. */
static bool call_fn(struct chain *c, uint8_t from, const char *sig, uint8_t target, bool has_weight,
                    uint64_t weight)
{
    struct bytes data;
    bytes_init(&data);
    encode_id(&data, sig, target, has_weight, weight);
    struct exec_tx_result r;
    bool ok = send_from(c, from, &data, &r);
    bytes_free(&data);
    return ok;
}

/* The Error(string) reason of output (asserts the shape). */
static void revert_reason(const uint8_t *out, size_t len, char *reason, size_t cap)
{
    uint8_t h[32];
    keccak256("Error(string)", 13, h);
    assert_true(len >= 68);
    assert_memory_equal(out, h, 4);
    assert_int_equal(out[4 + 31], 0x20);
    size_t n = (size_t)out[4 + 62] << 8 | out[4 + 63];
    assert_true(n < cap && 68 + n <= len);
    memcpy(reason, out + 68, n);
    reason[n] = '\0';
}

/* Runs data from node `from` as a call and asserts it reverts with want. */
static void assert_refused_data(struct chain *c, uint8_t from, const struct bytes *data, u256 value,
                                const char *want)
{
    uint8_t sender[20];
    node_address(sender, from);
    struct tx tx = tx_to(SYSCONTRACT_CONSENSUS, data, 200000);
    tx.value = value;
    struct exec_call_result cr;
    assert_int_equal(exec_call(c->ex, &tx, sender, &cr), 0);
    assert_null(cr.drop_reason);
    assert_int_equal(cr.evm_status, EVM_REVERT);
    char reason[128];
    revert_reason(cr.output, cr.output_len, reason, sizeof(reason));
    assert_string_equal(reason, want);
}

/* Runs fn as a transaction from `from` and asserts the receipt fails with want. */
static void assert_refused(struct chain *c, uint8_t from, const char *sig, uint8_t target,
                           bool has_weight, uint64_t weight, const char *want)
{
    struct bytes data;
    bytes_init(&data);
    encode_id(&data, sig, target, has_weight, weight);
    assert_refused_data(c, from, &data, u256_zero(), want);
    struct exec_tx_result r;
    assert_false(send_from(c, from, &data, &r));
    assert_int_equal(r.evm_status, EVM_REVERT);
    bytes_free(&data);
}

static void members(struct chain *c, struct consensus_members *m)
{
    struct consensus_members genesis;
    syscontract_members_genesis(&c->g, &genesis);
    assert_int_equal(syscontract_members_of_state(c->s, &genesis, m), 0);
}

static void assert_member(const struct consensus_members *m, size_t i, uint8_t n, uint8_t role,
                          uint32_t weight)
{
    uint8_t id[NODE_ID_BYTES];
    node_id(id, n);
    assert_true(i < m->count);
    assert_memory_equal(m->members[i].id, id, NODE_ID_BYTES);
    assert_int_equal(m->members[i].role, role);
    assert_int_equal(m->members[i].weight, weight);
}

static u256 slot(struct chain *c, uint64_t n)
{
    return state_storage(c->s, SYSCONTRACT_CONSENSUS, u256_from_u64(n));
}

/* ---- tests -------------------------------------------------------------- */

static void test_genesis_membership_applies_while_nothing_is_stored(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    struct consensus_members m;
    members(&c, &m);
    assert_int_equal(m.count, 3);
    assert_member(&m, 0, 1, CONSENSUS_SEALER, 1);
    assert_member(&m, 1, 2, CONSENSUS_SEALER, 2);
    assert_member(&m, 2, 3, CONSENSUS_OBSERVER, 0);
    struct state_reader empty;
    struct consensus_members loaded;
    state_reader_empty(&empty);
    assert_int_equal(syscontract_members_load(&empty, &c.g, &loaded), 0);
    assert_int_equal(loaded.count, 3);
    assert_memory_equal(&loaded, &m, sizeof(m));
    chain_free(&c);
}

static void test_add_observer_appends_and_stores_the_whole_list(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    assert_true(call_fn(&c, 1, "addObserver(string)", 4, false, 0));
    struct consensus_members m;
    members(&c, &m);
    assert_int_equal(m.count, 4);
    assert_member(&m, 0, 1, CONSENSUS_SEALER, 1);
    assert_member(&m, 1, 2, CONSENSUS_SEALER, 2);
    assert_member(&m, 2, 3, CONSENSUS_OBSERVER, 0);
    assert_member(&m, 3, 4, CONSENSUS_OBSERVER, 0);
    /* The layout: count, then three slots per member. */
    uint8_t id[NODE_ID_BYTES];
    node_id(id, 4);
    assert_true(u256_eq(slot(&c, 0), u256_from_u64(4)));
    assert_true(u256_eq(slot(&c, 1 + 3 * 3), u256_from_be_bytes(id, 32)));
    assert_true(u256_eq(slot(&c, 2 + 3 * 3), u256_from_be_bytes(id + 32, 32)));
    assert_true(u256_eq(slot(&c, 3 + 3 * 1), u256_from_u64((1ull << 32) | 2)));
    assert_true(u256_eq(slot(&c, 3 + 3 * 3), u256_from_u64(2ull << 32)));
    chain_free(&c);
}

static void test_add_sealer_promotes_an_observer_with_its_weight(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    assert_true(call_fn(&c, 2, "addSealer(string,uint256)", 3, true, 7));
    struct consensus_members m;
    members(&c, &m);
    assert_int_equal(m.count, 3);
    assert_member(&m, 2, 3, CONSENSUS_SEALER, 7);
    /* The new sealer may now change the membership itself. */
    assert_true(call_fn(&c, 3, "addObserver(string)", 5, false, 0));
    members(&c, &m);
    assert_member(&m, 3, 5, CONSENSUS_OBSERVER, 0);
    chain_free(&c);
}

static void test_remove_shifts_the_later_members_and_clears_the_tail(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    assert_true(call_fn(&c, 1, "remove(string)", 2, false, 0));
    struct consensus_members m;
    members(&c, &m);
    assert_int_equal(m.count, 2);
    assert_member(&m, 0, 1, CONSENSUS_SEALER, 1);
    assert_member(&m, 1, 3, CONSENSUS_OBSERVER, 0);
    assert_true(u256_eq(slot(&c, 0), u256_from_u64(2)));
    /* The slots of the old third member are zero again. */
    for (uint64_t k = 7; k <= 9; k++)
        assert_true(u256_is_zero(slot(&c, k)));
    assert_true(call_fn(&c, 1, "remove(string)", 3, false, 0));
    members(&c, &m);
    assert_int_equal(m.count, 1);
    for (uint64_t k = 4; k <= 6; k++)
        assert_true(u256_is_zero(slot(&c, k)));
    chain_free(&c);
}

static void test_set_weight_changes_a_sealers_weight(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    assert_true(call_fn(&c, 1, "setWeight(string,uint256)", 2, true, 4294967295u));
    struct consensus_members m;
    members(&c, &m);
    assert_member(&m, 1, 2, CONSENSUS_SEALER, 4294967295u);
    chain_free(&c);
}

static void test_membership_refusals_name_their_reason(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    assert_refused(&c, 1, "addObserver(string)", 2, false, 0, "node is already a member");
    assert_refused(&c, 1, "addObserver(string)", 3, false, 0, "node is already a member");
    assert_refused(&c, 1, "addSealer(string,uint256)", 9, true, 1,
                   "add the node as an observer first");
    assert_refused(&c, 1, "addSealer(string,uint256)", 2, true, 1, "node is already a sealer");
    assert_refused(&c, 1, "addSealer(string,uint256)", 3, true, 0,
                   "weight must be between 1 and 4294967295");
    assert_refused(&c, 1, "addSealer(string,uint256)", 3, true, 4294967296ull,
                   "weight must be between 1 and 4294967295");
    assert_refused(&c, 1, "remove(string)", 9, false, 0, "node is not a member");
    assert_refused(&c, 1, "setWeight(string,uint256)", 3, true, 5, "node is not a sealer");
    assert_refused(&c, 1, "setWeight(string,uint256)", 9, true, 5, "node is not a member");
    assert_refused(&c, 1, "setWeight(string,uint256)", 2, true, 0,
                   "weight must be between 1 and 4294967295");
    /* Nothing was stored by any refusal. */
    assert_true(u256_is_zero(slot(&c, 0)));
    assert_false(state_exists(c.s, SYSCONTRACT_CONSENSUS));
    chain_free(&c);
}

static void test_the_last_sealer_cannot_be_removed(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    assert_true(call_fn(&c, 2, "remove(string)", 1, false, 0));
    assert_refused(&c, 2, "remove(string)", 2, false, 0, "cannot remove the last sealer");
    /* The observer can still go. */
    assert_true(call_fn(&c, 2, "remove(string)", 3, false, 0));
    chain_free(&c);
}

static void test_membership_is_bounded(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    for (uint8_t n = 10; n < 10 + SYSCONTRACT_MAX_MEMBERS - 3; n++)
        assert_true(call_fn(&c, 1, "addObserver(string)", n, false, 0));
    struct consensus_members m;
    members(&c, &m);
    assert_int_equal(m.count, SYSCONTRACT_MAX_MEMBERS);
    assert_refused(&c, 1, "addObserver(string)", 200, false, 0, "membership is full");
    chain_free(&c);
}

static void test_only_a_sealer_may_change_the_membership(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    const char *want = "only a sealer may change the consensus membership";
    assert_refused(&c, 9, "addObserver(string)", 4, false, 0, want);
    /* An observer is not a sealer. */
    assert_refused(&c, 3, "addObserver(string)", 4, false, 0, want);
    /* A removed sealer loses the right. */
    assert_true(call_fn(&c, 1, "remove(string)", 2, false, 0));
    assert_refused(&c, 2, "addObserver(string)", 4, false, 0, want);
    chain_free(&c);
}

static void test_malformed_calls_are_refused(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    struct bytes d;
    bytes_init(&d);
    assert_refused_data(&c, 1, &d, u256_zero(), "unknown function");
    put_selector(&d, "addObserver(bytes)");
    put_word(&d, 32);
    assert_refused_data(&c, 1, &d, u256_zero(), "unknown function");
    bytes_clear(&d);
    put_selector(&d, "addObserver(string)");
    assert_refused_data(&c, 1, &d, u256_zero(), "malformed call data");
    put_word(&d, 4096); /* offset beyond the data */
    assert_refused_data(&c, 1, &d, u256_zero(), "malformed call data");
    bytes_clear(&d);
    put_selector(&d, "addObserver(string)");
    put_word(&d, 32);
    put_word(&d, 128); /* string longer than the data */
    put_word(&d, 0);
    assert_refused_data(&c, 1, &d, u256_zero(), "malformed call data");
    bytes_clear(&d);
    encode_text(&d, "addObserver(string)", "abc", false, 0);
    assert_refused_data(&c, 1, &d, u256_zero(), "invalid node ID");
    bytes_clear(&d);
    char bad[2 * NODE_ID_BYTES + 1];
    memset(bad, 'a', 2 * NODE_ID_BYTES);
    bad[2 * NODE_ID_BYTES] = '\0';
    bad[5] = 'g';
    encode_text(&d, "addObserver(string)", bad, false, 0);
    assert_refused_data(&c, 1, &d, u256_zero(), "invalid node ID");
    bytes_clear(&d);
    encode_id(&d, "addObserver(string)", 4, false, 0);
    assert_refused_data(&c, 1, &d, u256_from_u64(1), "value must be 0");
    bytes_free(&d);
    chain_free(&c);
}

static void test_node_id_may_be_prefixed_and_upper_case(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    char text[2 * NODE_ID_BYTES + 3] = "0X";
    memset(text + 2, 'A', 2 * NODE_ID_BYTES);
    text[2 + 2 * NODE_ID_BYTES] = '\0';
    struct bytes d;
    bytes_init(&d);
    encode_text(&d, "addObserver(string)", text, false, 0);
    struct exec_tx_result r;
    assert_true(send_from(&c, 1, &d, &r));
    struct consensus_members m;
    members(&c, &m);
    assert_member(&m, 3, 0xaa, CONSENSUS_OBSERVER, 0);
    bytes_free(&d);
    chain_free(&c);
}

static void test_a_call_costs_the_fixed_charge_on_top_of_intrinsic_gas(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    struct bytes d;
    bytes_init(&d);
    encode_id(&d, "addObserver(string)", 4, false, 0);
    struct tx probe = tx_to(SYSCONTRACT_CONSENSUS, &d, 200000);
    uint64_t intrinsic = tx_intrinsic_gas(&probe);
    struct exec_tx_result r;
    assert_true(send_from(&c, 1, &d, &r));
    assert_int_equal(r.receipt.gas_used, intrinsic + SYSCONTRACT_GAS);
    /* A refusal costs the same: REVERT returns the rest. */
    assert_false(send_from(&c, 1, &d, &r));
    assert_int_equal(r.receipt.gas_used, intrinsic + SYSCONTRACT_GAS);
    bytes_free(&d);
    chain_free(&c);
}

static void test_out_of_gas_below_the_charge_consumes_all_and_changes_nothing(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    struct bytes d;
    bytes_init(&d);
    encode_id(&d, "addObserver(string)", 4, false, 0);
    uint8_t sender[20];
    node_address(sender, 1);
    struct tx tx = tx_to(SYSCONTRACT_CONSENSUS, &d, 0);
    tx.gas_limit = tx_intrinsic_gas(&tx) + SYSCONTRACT_GAS - 1;
    struct exec_tx_result r;
    assert_int_equal(exec_apply(c.ex, &tx, sender, &r), 0);
    assert_true(r.included);
    assert_false(r.receipt.status);
    assert_int_equal(r.evm_status, EVM_OUT_OF_GAS);
    assert_int_equal(r.receipt.gas_used, tx.gas_limit);
    assert_true(u256_is_zero(slot(&c, 0)));
    /* Exactly the charge is enough. */
    tx.nonce = 1;
    tx.gas_limit++;
    assert_int_equal(exec_apply(c.ex, &tx, sender, &r), 0);
    assert_true(r.receipt.status);
    assert_int_equal(r.receipt.gas_used, tx.gas_limit);
    bytes_free(&d);
    chain_free(&c);
}

static void test_contract_account_survives_the_end_of_the_transaction(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    assert_true(call_fn(&c, 1, "addObserver(string)", 4, false, 0));
    assert_true(state_exists(c.s, SYSCONTRACT_CONSENSUS));
    assert_int_equal(state_nonce(c.s, SYSCONTRACT_CONSENSUS), 1);
    /* A later zero-value touch of the account (EIP-161) keeps it too. */
    state_tx_begin(c.s);
    state_touch(c.s, SYSCONTRACT_CONSENSUS);
    state_tx_end(c.s, true);
    assert_true(state_exists(c.s, SYSCONTRACT_CONSENSUS));
    struct writeset ws;
    writeset_init(&ws);
    assert_int_equal(exec_end(c.ex, &ws), 0);
    bool account = false;
    size_t slots = 0;
    for (size_t i = 0; i < writeset_count(&ws); i++) {
        struct writeset_item it;
        writeset_get(&ws, i, &it);
        if (it.key.len >= 20 && memcmp(it.key.ptr, SYSCONTRACT_CONSENSUS, 20) == 0) {
            account |= it.ns == WRITESET_NS_ACCOUNT && !it.deleted;
            slots += it.ns == WRITESET_NS_STORAGE;
        }
    }
    assert_true(account);
    assert_int_equal(slots, 1 + 3 * 4);
    writeset_free(&ws);
    chain_free(&c);
}

static void test_stored_membership_round_trips_through_a_reader(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    assert_true(call_fn(&c, 1, "addObserver(string)", 4, false, 0));
    assert_true(call_fn(&c, 1, "addSealer(string,uint256)", 4, true, 3));
    assert_true(call_fn(&c, 4, "remove(string)", 1, false, 0));
    struct consensus_members want, got;
    members(&c, &want);
    assert_int_equal(want.count, 3);
    struct state_reader r;
    state_as_reader(c.s, &r);
    assert_int_equal(syscontract_members_load(&r, &c.g, &got), 0);
    assert_int_equal(got.count, 3);
    assert_memory_equal(&got, &want, sizeof(got));
    assert_member(&got, 0, 2, CONSENSUS_SEALER, 2);
    assert_member(&got, 1, 3, CONSENSUS_OBSERVER, 0);
    assert_member(&got, 2, 4, CONSENSUS_SEALER, 3);
    chain_free(&c);
}

/* Writes raw slots of 0x1003 into a fresh state and loads them through its reader. */
static int load_raw(const uint64_t *slots, size_t n, const u256 *ids, size_t nid)
{
    struct state_reader empty, r;
    struct state *s;
    struct genesis_config g;
    genesis_init(&g);
    state_reader_empty(&empty);
    assert_int_equal(state_new(&empty, &s), 0);
    state_tx_begin(s);
    state_set_nonce(s, SYSCONTRACT_CONSENSUS, 1);
    for (size_t i = 0; i < n; i++)
        state_set_storage(s, SYSCONTRACT_CONSENSUS, u256_from_u64(i), u256_from_u64(slots[i]));
    for (size_t i = 0; i < nid; i++)
        state_set_storage(s, SYSCONTRACT_CONSENSUS, u256_from_u64(1 + 3 * i), ids[i]);
    state_tx_end(s, false);
    state_as_reader(s, &r);
    struct consensus_members m;
    int rc = syscontract_members_load(&r, &g, &m);
    state_free(s);
    return rc;
}

static void test_members_load_rejects_storage_that_does_not_decode(void **unused)
{
    (void)unused;
    const u256 two[] = { u256_from_u64(1), u256_from_u64(2) };
    const u256 same[] = { u256_from_u64(1), u256_from_u64(1) };
    const uint64_t ok[] = { 2, 0, 0, (1ull << 32) | 1, 0, 0, 2ull << 32 };
    assert_int_equal(load_raw(ok, 7, two, 2), 0);
    const uint64_t too_many[] = { SYSCONTRACT_MAX_MEMBERS + 1 };
    assert_int_equal(load_raw(too_many, 1, NULL, 0), TC_ECORRUPT);
    const uint64_t bad_role[] = { 2, 0, 0, (1ull << 32) | 1, 0, 0, 3ull << 32 };
    assert_int_equal(load_raw(bad_role, 7, two, 2), TC_ECORRUPT);
    assert_int_equal(load_raw(ok, 7, same, 2), TC_ECORRUPT);
    const uint64_t no_sealer[] = { 1, 0, 0, 2ull << 32 };
    assert_int_equal(load_raw(no_sealer, 4, two, 1), TC_ECORRUPT);
    const uint64_t zero_weight[] = { 1, 0, 0, 1ull << 32 };
    assert_int_equal(load_raw(zero_weight, 4, two, 1), TC_ECORRUPT);
    const uint64_t high_bits[] = { 1, 0, 0, (1ull << 40) | (1ull << 32) | 1 };
    assert_int_equal(load_raw(high_bits, 4, two, 1), TC_ECORRUPT);
}

static void test_conformance_rules_treat_the_address_as_ordinary(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CONFORMANCE);
    struct bytes d;
    bytes_init(&d);
    encode_id(&d, "addObserver(string)", 4, false, 0);
    struct exec_tx_result r;
    assert_true(send_from(&c, 9, &d, &r));
    struct tx probe = tx_to(SYSCONTRACT_CONSENSUS, &d, 200000);
    assert_int_equal(r.receipt.gas_used, tx_intrinsic_gas(&probe));
    assert_true(u256_is_zero(slot(&c, 0)));
    bytes_free(&d);
    chain_free(&c);
}

static void test_calls_from_contracts_are_not_special(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    uint8_t to[20], sender[20];
    caller_address(to);
    node_address(sender, 1);
    struct bytes none;
    bytes_init(&none);
    struct tx tx = tx_to(to, &none, 200000);
    struct exec_tx_result r;
    assert_int_equal(exec_apply(c.ex, &tx, sender, &r), 0);
    assert_true(r.receipt.status);
    /* The inner CALL (no data) succeeded: 0x1003 has no code for the EVM. */
    assert_true(u256_eq(state_storage(c.s, to, u256_zero()), u256_from_u64(1)));
    assert_true(u256_is_zero(slot(&c, 0)));
    chain_free(&c);
}

static void test_exec_call_dry_run_reports_and_undoes(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    struct bytes d;
    bytes_init(&d);
    encode_id(&d, "addObserver(string)", 4, false, 0);
    uint8_t sender[20];
    node_address(sender, 1);
    struct tx tx = tx_to(SYSCONTRACT_CONSENSUS, &d, 200000);
    struct exec_call_result cr;
    assert_int_equal(exec_call(c.ex, &tx, sender, &cr), 0);
    assert_null(cr.drop_reason);
    assert_int_equal(cr.evm_status, EVM_SUCCESS);
    assert_int_equal(cr.output_len, 0);
    assert_int_equal(cr.gas_used, tx_intrinsic_gas(&tx) + SYSCONTRACT_GAS);
    assert_true(u256_is_zero(slot(&c, 0)));
    assert_false(state_exists(c.s, SYSCONTRACT_CONSENSUS));
    bytes_free(&d);
    chain_free(&c);
}

static void test_without_a_genesis_every_change_is_refused(void **unused)
{
    (void)unused;
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    struct genesis_config none;
    memset(&none, 0, sizeof(none));
    syscontract_exec_set_genesis(c.ex, &none);
    assert_refused(&c, 1, "addObserver(string)", 4, false, 0,
                   "only a sealer may change the consensus membership");
    chain_free(&c);
}

/*
 * Random corruptions of valid calls (bytes flipped, truncated, extended)
 * never crash and always end as a success or a refusal with a well-formed
 * Error(string), at the fixed charge; a refusal stores nothing.
 */
static void test_corrupted_call_data_is_refused_or_applied_cleanly(void **unused)
{
    (void)unused;
    static const char *const sigs[] = { "addObserver(string)", "addSealer(string,uint256)",
                                        "remove(string)", "setWeight(string,uint256)" };
    struct rng r;
    rng_seed(&r, test_seed);
    struct chain c;
    chain_init(&c, EXEC_RULES_CHAIN);
    uint8_t sender[20];
    node_address(sender, 1);
    for (int round = 0; round < 2000; round++) {
        size_t f = (size_t)rng_below(&r, 4);
        struct bytes d;
        bytes_init(&d);
        encode_id(&d, sigs[f], (uint8_t)rng_range(&r, 1, 5), f % 2 == 1, rng_below(&r, 4));
        size_t flips = (size_t)rng_below(&r, 4);
        for (size_t k = 0; k < flips && d.len > 0; k++)
            d.ptr[rng_below(&r, d.len)] = (uint8_t)rng_next(&r);
        if (rng_chance(&r, 250000))
            d.len = (size_t)rng_below(&r, d.len + 1);
        if (rng_chance(&r, 100000)) {
            uint8_t junk[40];
            rng_fill(&r, junk, sizeof(junk));
            assert_int_equal(bytes_append(&d, junk, (size_t)rng_below(&r, sizeof(junk))), 0);
        }
        struct tx tx = tx_to(SYSCONTRACT_CONSENSUS, &d, 200000);
        struct exec_call_result cr;
        assert_int_equal(exec_call(c.ex, &tx, sender, &cr), 0);
        assert_null(cr.drop_reason);
        assert_int_equal(cr.gas_used, tx_intrinsic_gas(&tx) + SYSCONTRACT_GAS);
        if (cr.evm_status == EVM_REVERT) {
            char reason[128];
            revert_reason(cr.output, cr.output_len, reason, sizeof(reason));
            assert_true(strlen(reason) > 0);
        } else {
            assert_int_equal(cr.evm_status, EVM_SUCCESS);
            assert_int_equal(cr.output_len, 0);
        }
        assert_true(u256_is_zero(slot(&c, 0)));
        bytes_free(&d);
    }
    chain_free(&c);
}

int main(void)
{
    const char *env = getenv("TC_SEED");
    if (env != NULL)
        test_seed = strtoull(env, NULL, 0);
    printf("test_syscontract: seed %llu (set TC_SEED to replay)\n", (unsigned long long)test_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genesis_membership_applies_while_nothing_is_stored),
        cmocka_unit_test(test_add_observer_appends_and_stores_the_whole_list),
        cmocka_unit_test(test_add_sealer_promotes_an_observer_with_its_weight),
        cmocka_unit_test(test_remove_shifts_the_later_members_and_clears_the_tail),
        cmocka_unit_test(test_set_weight_changes_a_sealers_weight),
        cmocka_unit_test(test_membership_refusals_name_their_reason),
        cmocka_unit_test(test_the_last_sealer_cannot_be_removed),
        cmocka_unit_test(test_membership_is_bounded),
        cmocka_unit_test(test_only_a_sealer_may_change_the_membership),
        cmocka_unit_test(test_malformed_calls_are_refused),
        cmocka_unit_test(test_node_id_may_be_prefixed_and_upper_case),
        cmocka_unit_test(test_a_call_costs_the_fixed_charge_on_top_of_intrinsic_gas),
        cmocka_unit_test(test_out_of_gas_below_the_charge_consumes_all_and_changes_nothing),
        cmocka_unit_test(test_contract_account_survives_the_end_of_the_transaction),
        cmocka_unit_test(test_stored_membership_round_trips_through_a_reader),
        cmocka_unit_test(test_members_load_rejects_storage_that_does_not_decode),
        cmocka_unit_test(test_conformance_rules_treat_the_address_as_ordinary),
        cmocka_unit_test(test_calls_from_contracts_are_not_special),
        cmocka_unit_test(test_exec_call_dry_run_reports_and_undoes),
        cmocka_unit_test(test_without_a_genesis_every_change_is_refused),
        cmocka_unit_test(test_corrupted_call_data_is_refused_or_applied_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
