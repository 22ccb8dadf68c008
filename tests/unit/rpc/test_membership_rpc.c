/*
 * test_membership_rpc.c - getSealerList and getObserverList over HTTP read
 * the membership from the committed state: the genesis one first, then the
 * one a block stored in the consensus system contract (executed by the real
 * executor, applied with ledger_apply).
 *
 * The ledger fixture's contents derive from a seed: printed, and replayed
 * with TC_SEED=<n>.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>

#include "../store/test_ledger_fixture.h"
#include "rpc_test_util.h"

#include "base/threadpool.h"
#include "crypto/ecdsa.h"
#include "exec/exec.h"
#include "exec/syscontract.h"
#include "rpc/eth_api.h"
#include "txpool/txpool.h"

static uint64_t test_seed = 7;
static const uint8_t test_store_key[32] = { 9 };

struct fixture {
    char dir[64];
    char db[96];
    struct genesis_config g;
    struct genesis_alloc alloc[LFX_ACCOUNTS];
    struct store *s;
    struct ledger *l;
    struct threadpool *workers;
    struct txpool *pool;
    struct rpc_fixture rpc;
    struct eth_api_deps deps;
};

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int pool_account(void *ctx, const uint8_t addr[20], uint64_t *nonce, u256 *balance)
{
    struct state_account a;
    bool exists;
    int rc = ledger_account(ctx, addr, &a, &exists);
    if (rc)
        return rc;
    *nonce = exists ? a.nonce : 0;
    *balance = exists ? a.balance : u256_zero();
    return 0;
}

/* Genesis: lfx_genesis's sealer 0x11.., plus observer 0x22... */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/tc-members-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/db", f->dir);
    lfx_genesis(&f->g, f->alloc);
    f->g.observer_count = 1;
    memset(f->g.observers[0].id, 0x22, NODE_ID_BYTES);
    f->g.observers[0].weight = 1;
    struct store_options o = { .path = f->db };
    memcpy(o.master_key, test_store_key, 32);
    char err[512];
    assert_int_equal(store_open(&o, &f->s, err, sizeof(err)), TC_OK);
    assert_int_equal(ledger_open(f->s, &f->g, &f->l, err, sizeof(err)), TC_OK);
    assert_int_equal(threadpool_create(&f->workers, 1, 16), TC_OK);
    struct txpool_config cfg;
    txpool_config_default(&cfg);
    cfg.rules.chain_id = 20200;
    cfg.account = pool_account;
    cfg.account_ctx = f->l;
    cfg.workers = f->workers;
    cfg.block_gas_limit = 30000000;
    assert_int_equal(txpool_create(&cfg, &f->pool), TC_OK);
    struct rpc_server_options ro;
    rpc_server_options_init(&ro);
    assert_true(rpc_fixture_init(&f->rpc, &ro));
    f->deps.ledger = f->l;
    f->deps.txpool = f->pool;
    f->deps.genesis = &f->g;
    f->deps.client_version = "TEEChain/test";
    assert_int_equal(eth_api_register(f->rpc.server, &f->deps), TC_OK);
    assert_true(rpc_fixture_run(&f->rpc));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    txpool_destroy(f->pool);
    threadpool_destroy(f->workers);
    rpc_fixture_stop(&f->rpc);
    ledger_close(f->l);
    store_close(f->s);
    nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* The result of method(params) as compact JSON (caller frees). */
static char *result_text(struct fixture *f, const char *method, const char *params)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
             method, params);
    int status;
    cJSON *r = rpc_post(f->rpc.port, body, &status);
    assert_int_equal(status, 200);
    assert_non_null(r);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(r, "result");
    assert_non_null(res);
    char *t = cJSON_PrintUnformatted(res);
    cJSON_Delete(r);
    return t;
}

static void expect_result(struct fixture *f, const char *method, const char *params,
                          const char *want)
{
    char *got = result_text(f, method, params);
    assert_string_equal(got, want);
    free(got);
}

/* 128 hex digits of byte b. */
static void id_hex(char out[2 * NODE_ID_BYTES + 1], uint8_t b)
{
    uint8_t id[NODE_ID_BYTES];
    memset(id, b, NODE_ID_BYTES);
    hex_encode(id, NODE_ID_BYTES, out);
}

/* fn(string id[, uint256 weight]) call data. */
static void encode_call(struct bytes *d, const char *sig, uint8_t id, uint32_t weight)
{
    uint8_t w[32] = { 0 }, h[32];
    char hex[2 * NODE_ID_BYTES + 1];
    keccak256(sig, strlen(sig), h);
    assert_int_equal(bytes_append(d, h, 4), 0);
    bool has_weight = weight != 0;
    w[31] = has_weight ? 64 : 32;
    assert_int_equal(bytes_append(d, w, 32), 0);
    if (has_weight) {
        memset(w, 0, 32);
        w[28] = (uint8_t)(weight >> 24);
        w[29] = (uint8_t)(weight >> 16);
        w[30] = (uint8_t)(weight >> 8);
        w[31] = (uint8_t)weight;
        assert_int_equal(bytes_append(d, w, 32), 0);
    }
    memset(w, 0, 32);
    w[31] = 2 * NODE_ID_BYTES;
    assert_int_equal(bytes_append(d, w, 32), 0);
    id_hex(hex, id);
    assert_int_equal(bytes_append(d, hex, 2 * NODE_ID_BYTES), 0);
}

/* Runs the calls from the genesis sealer on the head state and applies the
   resulting write-set as block 1 (together with the fixture's own writes). */
static void apply_changes(struct fixture *f)
{
    struct state_reader r = ledger_state_reader(f->l);
    struct state *s;
    struct exec *ex;
    assert_int_equal(state_new(&r, &s), 0);
    struct exec_rules rules = { .kind = EXEC_RULES_CHAIN, .tx_gas_limit = f->g.tx_gas_limit };
    assert_int_equal(exec_new(&rules, &ex), 0);
    syscontract_exec_set_genesis(ex, &f->g);
    struct exec_block_env env;
    memset(&env, 0, sizeof(env));
    env.number = 1;
    env.gas_limit = 30000000;
    env.chain_id = u256_from_u64(20200);
    assert_int_equal(exec_begin(ex, s, &env), 0);
    uint8_t sender[20];
    eth_address_from_pubkey(f->g.sealers[0].id, sender);
    struct {
        const char *sig;
        uint8_t id;
        uint32_t weight;
    } calls[] = {
        { "addObserver(string)", 0x33, 0 },
        { "addSealer(string,uint256)", 0x22, 5 },
    };
    for (size_t i = 0; i < 2; i++) {
        struct bytes d;
        bytes_init(&d);
        encode_call(&d, calls[i].sig, calls[i].id, calls[i].weight);
        struct tx tx;
        memset(&tx, 0, sizeof(tx));
        tx.nonce = i;
        tx.gas_limit = 200000;
        tx.has_to = true;
        memcpy(tx.to, SYSCONTRACT_CONSENSUS, 20);
        tx.data = bytes_as_view(&d);
        struct exec_tx_result res;
        assert_int_equal(exec_apply(ex, &tx, sender, &res), 0);
        assert_true(res.included);
        assert_true(res.receipt.status);
        bytes_free(&d);
    }
    struct writeset ws;
    writeset_init(&ws);
    assert_int_equal(exec_end(ex, &ws), 0);

    struct lfx_block b;
    struct ledger_head h;
    ledger_head(f->l, &h);
    assert_int_equal(lfx_begin(&b, h.number + 1, 0, test_seed), TC_OK);
    for (size_t i = 0; i < writeset_count(&ws); i++) {
        struct writeset_item it;
        writeset_get(&ws, i, &it);
        if (it.deleted)
            assert_int_equal(writeset_delete(&b.ws, it.ns, it.key.ptr, it.key.len), 0);
        else
            assert_int_equal(
                writeset_put(&b.ws, it.ns, it.key.ptr, it.key.len, it.value.ptr, it.value.len), 0);
    }
    assert_int_equal(lfx_finish(&b, h.hash, h.state_root), TC_OK);
    assert_int_equal(ledger_apply(f->l, &b.entry, 1, 1), TC_OK);
    lfx_free(&b);
    writeset_free(&ws);
    exec_free(ex);
    state_free(s);
}

static void test_lists_answer_the_genesis_membership_before_any_change(void **state)
{
    struct fixture *f = *state;
    char a[2 * NODE_ID_BYTES + 1], b[2 * NODE_ID_BYTES + 1], want[512];
    id_hex(a, 0x11);
    id_hex(b, 0x22);
    snprintf(want, sizeof(want), "[{\"nodeID\":\"%s\",\"weight\":1}]", a);
    expect_result(f, "getSealerList", "[]", want);
    snprintf(want, sizeof(want), "[\"%s\"]", b);
    expect_result(f, "getObserverList", "[]", want);
    expect_result(f, "getObserverList", "[\"group0\"]", want);
}

static void test_lists_answer_the_membership_a_committed_block_stored(void **state)
{
    struct fixture *f = *state;
    apply_changes(f);
    char a[2 * NODE_ID_BYTES + 1], b[2 * NODE_ID_BYTES + 1], c[2 * NODE_ID_BYTES + 1];
    char want[640];
    id_hex(a, 0x11);
    id_hex(b, 0x22);
    id_hex(c, 0x33);
    snprintf(want, sizeof(want),
             "[{\"nodeID\":\"%s\",\"weight\":1},{\"nodeID\":\"%s\",\"weight\":5}]", a, b);
    expect_result(f, "getSealerList", "[\"group0\",\"node0\"]", want);
    snprintf(want, sizeof(want), "[\"%s\"]", c);
    expect_result(f, "getObserverList", "[]", want);
}

static void test_observer_list_checks_the_group(void **state)
{
    struct fixture *f = *state;
    const char *body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getObserverList\","
                       "\"params\":[\"other\"]}";
    int status;
    cJSON *r = rpc_post(f->rpc.port, body, &status);
    assert_non_null(r);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
    assert_non_null(e);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(e, "code")->valueint, -32602);
    cJSON_Delete(r);
}

int main(void)
{
    const char *env = getenv("TC_SEED");
    if (env)
        test_seed = strtoull(env, NULL, 0);
    printf("test_membership_rpc: seed %llu (set TC_SEED to replay)\n",
           (unsigned long long)test_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lists_answer_the_genesis_membership_before_any_change,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists_answer_the_membership_a_committed_block_stored,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_observer_list_checks_the_group, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
