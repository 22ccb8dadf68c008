/*
 * test_eth_call.c - eth_call, eth_estimateGas, eth_getCode, eth_getStorageAt
 * and eth_getLogs over HTTP, against a real ledger whose blocks were built by
 * the executor: a hand-written contract is deployed and called by signed
 * transactions, the blocks are applied with ledger_apply, and the methods
 * run on the call workers (large stacks) as the node runs them.
 *
 * The contract (runtime, 169 bytes; its initcode first sets slot 0 to 7):
 *   calldata empty or first byte 0x00  return slot 0 (one word)
 *   0x01 || word   store word in slot 0, LOG2(topics 0x7e..7e, word; data word), stop
 *   0x02           REVERT Error("nope")
 *   0x03           REVERT with a custom error: 0xdeadbeef || uint256(42)
 *   0x04           INVALID
 *   0x05           an endless loop (out of gas)
 * and a second contract that CALLs itself with all its gas until the gas
 * runs out, several hundred messages deep.
 *
 * Blocks: 1 = deploy, store 0x2a, revert ("nope": a failed transaction),
 * deploy the recursive contract; 2 = store 0x99. No randomness.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>

#include "../store/test_ledger_fixture.h"
#include "rpc_test_util.h"

#include "base/threadpool.h"
#include "exec/exec.h"
#include "rpc/eth_api.h"
#include "txpool/txpool.h"

static const char CONTRACT_INIT[] =
    "600760005560a9601160003960a96000f360003560f81c806001146034578060021460675780600314608d57"
    "8060041460a3578060051460a55760005460005260206000f35b60013580600055806000527f7e7e7e7e7e7e"
    "7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e60206000a2005b6308c379a060e01b600052"
    "60206004526004602452636e6f706560e01b60445260646000fd5b63deadbeef60e01b600052602a60045260"
    "246000fd5bfe5b60a556";
/* The runtime: CONTRACT_INIT after its 17-byte constructor. */
#define CONTRACT_RUNTIME (CONTRACT_INIT + 34)
static const char RECURSIVE_INIT[] = "6009600c60003960096000f35f5f5f5f5f305af100";

/* Error("nope"), ABI-encoded. */
static const char NOPE_DATA[] =
    "0x08c379a0000000000000000000000000000000000000000000000000000000000000002000000000000000"
    "000000000000000000000000000000000000000000000000046e6f7065000000000000000000000000000000"
    "00000000000000000000000000";
static const char CUSTOM_DATA[] =
    "0xdeadbeef000000000000000000000000000000000000000000000000000000000000002a";
static const char TOPIC0[] = "0x7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e";
static const char WORD1[] = "0x000000000000000000000000000000000000000000000000000000000000002a";
static const char WORD2[] = "0x0000000000000000000000000000000000000000000000000000000000000099";

static const uint8_t test_store_key[32] = { 9 };
static const uint8_t user_key[32] = { 0x11, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                      0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                      0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                      0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

#define TX_GAS_LIMIT    5000000ull
#define BLOCK_GAS_LIMIT 30000000ull
#define MAX_BLOCK_TXS   8

struct fixture {
    char dir[64];
    char db[96];
    struct genesis_config g;
    struct genesis_alloc alloc[LFX_ACCOUNTS];
    struct store *s;
    struct ledger *l;
    struct threadpool *workers;
    struct threadpool *call_workers;
    struct txpool *pool;
    struct rpc_fixture rpc;
    struct eth_api_deps deps;
    uint8_t user[20];
    uint64_t nonce;
    uint64_t raft_index;
    char user_hex[43];
    char contract_hex[43];
    char recursive_hex[43];
    uint8_t tx_hashes[8][32]; /* of the transactions mined by setup, in order */
    uint8_t block_hashes[3][32];
    uint64_t last_gas_used; /* of the last transaction mine() included */
};

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void hex0x(const uint8_t *p, size_t n, char *out)
{
    out[0] = '0';
    out[1] = 'x';
    hex_encode(p, n, out + 2);
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

/* A signed type-2 transaction of the user, nonce taken in order. */
static struct tx user_tx(struct fixture *f, const uint8_t *to, const char *data_hex,
                         struct bytes *data, uint64_t gas)
{
    struct tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = TX_DYNAMIC_FEE;
    tx.chain_id = 20200;
    tx.nonce = f->nonce++;
    tx.gas_limit = gas;
    if (to) {
        tx.has_to = true;
        memcpy(tx.to, to, 20);
    }
    bytes_free(data);
    assert_int_equal(hex_decode_alloc(data_hex, true, data), TC_OK);
    tx.data = bytes_as_view(data);
    assert_int_equal(tx_sign(&tx, user_key), TC_OK);
    return tx;
}

/*
 * Executes txs (all must be included) on the head state as the leader would,
 * builds and seals the block, and applies it. raws holds each tx's encoding.
 */
static void mine(struct fixture *f, const struct tx *txs, size_t n, uint8_t block_hash[32])
{
    assert_true(n <= MAX_BLOCK_TXS);
    struct ledger_head head;
    ledger_head(f->l, &head);
    struct state_reader reader = ledger_state_reader(f->l);
    struct state *s;
    struct exec *ex;
    assert_int_equal(state_new(&reader, &s), TC_OK);
    state_set_block_hashes(s, ledger_state_block_hash, f->l);
    struct exec_rules rules = { .kind = EXEC_RULES_CHAIN, .tx_gas_limit = TX_GAS_LIMIT };
    assert_int_equal(exec_new(&rules, &ex), TC_OK);
    struct exec_block_env env;
    memset(&env, 0, sizeof(env));
    env.number = head.number + 1;
    env.timestamp = 1764000000 + env.number;
    env.gas_limit = BLOCK_GAS_LIMIT;
    env.chain_id = u256_from_u64(20200);
    assert_int_equal(exec_begin(ex, s, &env), TC_OK);

    struct receipt receipts[MAX_BLOCK_TXS];
    struct bytes raw[MAX_BLOCK_TXS];
    struct bytes_view views[MAX_BLOCK_TXS];
    for (size_t i = 0; i < n; i++) {
        struct exec_tx_result r;
        assert_int_equal(exec_apply(ex, &txs[i], f->user, &r), TC_OK);
        if (!r.included)
            print_error("tx %zu dropped: %s\n", i, r.drop_reason);
        assert_true(r.included);
        receipts[i] = r.receipt;
        f->last_gas_used = r.receipt.gas_used;
        bytes_init(&raw[i]);
        assert_int_equal(tx_encode(&txs[i], &raw[i]), TC_OK);
        views[i] = bytes_as_view(&raw[i]);
    }
    struct writeset ws;
    writeset_init(&ws);
    assert_int_equal(exec_end(ex, &ws), TC_OK);

    struct block blk;
    memset(&blk, 0, sizeof(blk));
    block_header_init(&blk.header);
    memcpy(blk.header.parent_hash, head.hash, 32);
    blk.header.number = env.number;
    blk.header.gas_limit = env.gas_limit;
    blk.header.timestamp = env.timestamp;
    blk.txs = views;
    blk.tx_count = n;
    struct bytes payload;
    bytes_init(&payload);
    struct block_entry entry;
    const char *reason = NULL;
    assert_int_equal(block_entry_fill_header(&blk, receipts, n, &ws, head.state_root), TC_OK);
    assert_int_equal(block_seal(&blk, lfx_key), TC_OK);
    assert_int_equal(block_entry_encode(&blk, receipts, n, &ws, &payload), TC_OK);
    assert_int_equal(block_entry_decode(bytes_as_view(&payload), &entry, &reason), TC_OK);
    assert_int_equal(block_entry_check(&entry, head.state_root, &reason), TC_OK);
    assert_int_equal(ledger_apply(f->l, &entry, ++f->raft_index, 1), TC_OK);
    if (block_hash)
        assert_int_equal(block_header_hash(&blk.header, block_hash), TC_OK);
    block_entry_free(&entry);
    bytes_free(&payload);
    writeset_free(&ws);
    for (size_t i = 0; i < n; i++)
        bytes_free(&raw[i]);
    exec_free(ex);
    state_free(s);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/tc-ethcall-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/db", f->dir);

    /* The user's address, funded in the genesis in place of a pool account. */
    struct bytes data;
    bytes_init(&data);
    struct tx probe = user_tx(f, NULL, "0x", &data, 100000);
    f->nonce = 0;
    assert_int_equal(tx_sender(&probe, f->user, NULL), TC_OK);
    hex0x(f->user, 20, f->user_hex);
    lfx_genesis(&f->g, f->alloc);
    memcpy(f->alloc[0].address, f->user, 20);
    f->g.tx_gas_limit = TX_GAS_LIMIT;
    f->g.block_gas_limit = BLOCK_GAS_LIMIT;

    struct store_options o = { .path = f->db };
    memcpy(o.master_key, test_store_key, 32);
    char err[512];
    assert_int_equal(store_open(&o, &f->s, err, sizeof(err)), TC_OK);
    assert_int_equal(ledger_open(f->s, &f->g, &f->l, err, sizeof(err)), TC_OK);
    ledger_genesis_hash(f->l, f->block_hashes[0]);

    evm_address from, created;
    memcpy(from.bytes, f->user, 20);
    created = evm_create_address(&from, 0);
    hex0x(created.bytes, 20, f->contract_hex);
    uint8_t contract[20];
    memcpy(contract, created.bytes, 20);
    created = evm_create_address(&from, 3);
    hex0x(created.bytes, 20, f->recursive_hex);

    struct bytes d[4];
    for (size_t i = 0; i < 4; i++)
        bytes_init(&d[i]);
    struct tx b1[4];
    b1[0] = user_tx(f, NULL, CONTRACT_INIT, &d[0], 1000000);
    b1[1] =
        user_tx(f, contract, "0x01000000000000000000000000000000000000000000000000000000000000002a",
                &d[1], 100000);
    b1[2] = user_tx(f, contract, "0x02", &d[2], 100000);
    b1[3] = user_tx(f, NULL, RECURSIVE_INIT, &d[3], 1000000);
    for (size_t i = 0; i < 4; i++)
        tx_hash(&b1[i], f->tx_hashes[i]);
    mine(f, b1, 4, f->block_hashes[1]);
    struct tx b2 =
        user_tx(f, contract, "0x010000000000000000000000000000000000000000000000000000000000000099",
                &d[0], 100000);
    tx_hash(&b2, f->tx_hashes[4]);
    mine(f, &b2, 1, f->block_hashes[2]);
    for (size_t i = 0; i < 4; i++)
        bytes_free(&d[i]);
    bytes_free(&data);

    assert_int_equal(threadpool_create(&f->workers, 2, 64), TC_OK);
    assert_int_equal(eth_api_call_workers_create(&f->call_workers), TC_OK);
    struct txpool_config cfg;
    txpool_config_default(&cfg);
    cfg.rules.chain_id = 20200;
    cfg.account = pool_account;
    cfg.account_ctx = f->l;
    cfg.workers = f->workers;
    cfg.block_gas_limit = BLOCK_GAS_LIMIT;
    assert_int_equal(txpool_create(&cfg, &f->pool), TC_OK);

    struct rpc_server_options ro;
    rpc_server_options_init(&ro);
    assert_true(rpc_fixture_init(&f->rpc, &ro));
    f->deps.ledger = f->l;
    f->deps.txpool = f->pool;
    f->deps.genesis = &f->g;
    f->deps.client_version = "TEEChain/test";
    f->deps.call_workers = f->call_workers;
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
    threadpool_destroy(f->call_workers);
    rpc_fixture_stop(&f->rpc);
    ledger_close(f->l);
    store_close(f->s);
    nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* ---- helpers -------------------------------------------------------------- */

/* Calls method with params (JSON text, printf-style) and returns the response. */
static cJSON *call(struct fixture *f, const char *method, const char *params_fmt, ...)
    __attribute__((format(printf, 3, 4)));

static cJSON *call(struct fixture *f, const char *method, const char *params_fmt, ...)
{
    char params[4096];
    va_list ap;
    va_start(ap, params_fmt);
    int n = vsnprintf(params, sizeof(params), params_fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof(params));
    char body[4200];
    snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
             method, params);
    int status;
    cJSON *r = rpc_post(f->rpc.port, body, &status);
    assert_int_equal(status, 200);
    assert_non_null(r);
    return r;
}

/* The result as compact JSON text (caller frees); fails on an error answer. */
static char *result_text(cJSON *r)
{
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(r, "result");
    if (!res) {
        char *t = cJSON_PrintUnformatted(r);
        print_error("unexpected answer %s\n", t);
        free(t);
    }
    assert_non_null(res);
    char *t = cJSON_PrintUnformatted(res);
    cJSON_Delete(r);
    return t;
}

static void expect_text(char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        print_error("got %s\nwant %s\n", got, want);
    assert_string_equal(got, want);
    free(got);
}

/* Checks an error answer: code, message and (NULL: absent) data. */
static void expect_error(cJSON *r, int code, const char *message, const char *data)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
    if (!e) {
        char *t = cJSON_PrintUnformatted(r);
        print_error("expected an error, got %s\n", t);
        free(t);
    }
    assert_non_null(e);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(e, "code")->valueint, code);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "message")->valuestring, message);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "data");
    if (data) {
        assert_non_null(d);
        assert_string_equal(d->valuestring, data);
    } else {
        assert_null(d);
    }
    cJSON_Delete(r);
}

static uint64_t quantity(char *text)
{
    uint64_t v = strtoull(text + 1, NULL, 16); /* skips the opening quote */
    free(text);
    return v;
}

/* ---- eth_call ------------------------------------------------------------- */

static void test_call_returns_data_and_changes_nothing(void **state)
{
    struct fixture *f = *state;
    char want[80];
    snprintf(want, sizeof(want), "\"%s\"", WORD2);
    expect_text(result_text(call(f, "eth_call", "[{\"to\":\"%s\"},\"latest\"]", f->contract_hex)),
                want);
    expect_text(
        result_text(call(f, "eth_call", "[{\"to\":\"%s\",\"input\":\"0x00\"}]", f->contract_hex)),
        want);
    /* A store, as a call: runs (and would log), but the slot keeps its value. */
    expect_text(
        result_text(call(f, "eth_call",
                         "[{\"from\":\"%s\",\"to\":\"%s\",\"data\":\"0x01%064x\"},\"pending\"]",
                         f->user_hex, f->contract_hex, 5)),
        "\"0x\"");
    expect_text(
        result_text(call(f, "eth_getStorageAt", "[\"%s\",\"0x0\",\"latest\"]", f->contract_hex)),
        want);
    /* data and input may both be given when equal. */
    expect_text(result_text(call(f, "eth_call",
                                 "[{\"to\":\"%s\",\"data\":\"0x00\",\"input\":\"0x00\"},\"0x2\"]",
                                 f->contract_hex)),
                want);
    /* A creation returns what the initcode returns: the runtime code. */
    char code[600];
    snprintf(code, sizeof(code), "\"0x%s\"", CONTRACT_RUNTIME);
    expect_text(result_text(call(f, "eth_call", "[{\"from\":\"%s\",\"input\":\"0x%s\"}]",
                                 f->user_hex, CONTRACT_INIT)),
                code);
    /* Several hundred messages deep: the call workers' stacks hold it. */
    expect_text(result_text(call(f, "eth_call", "[{\"to\":\"%s\"}]", f->recursive_hex)), "\"0x\"");
}

static void test_call_revert_has_geth_shape(void **state)
{
    struct fixture *f = *state;
    expect_error(
        call(f, "eth_call", "[{\"to\":\"%s\",\"data\":\"0x02\"},\"latest\"]", f->contract_hex),
        RPC_EXECUTION_REVERTED, "execution reverted: nope", NOPE_DATA);
    expect_error(call(f, "eth_call", "[{\"to\":\"%s\",\"data\":\"0x03\"}]", f->contract_hex),
                 RPC_EXECUTION_REVERTED, "execution reverted", CUSTOM_DATA);
    expect_error(call(f, "eth_call", "[{\"to\":\"%s\",\"data\":\"0x04\"}]", f->contract_hex),
                 RPC_SERVER_ERROR, "invalid opcode", NULL);
    expect_error(call(f, "eth_call", "[{\"to\":\"%s\",\"data\":\"0x05\",\"gas\":\"0x10000\"}]",
                      f->contract_hex),
                 RPC_SERVER_ERROR, "out of gas", NULL);
    /* Panic(uint256) from an initcode: mstore(0, 0x4e487b71 << 224);
       mstore(4, code); revert(0, 0x24). */
    expect_error(call(f, "eth_call",
                      "[{\"input\":\"0x634e487b7160e01b6000526011600452602460"
                      "00fd\"}]"),
                 RPC_EXECUTION_REVERTED, "execution reverted: arithmetic underflow or overflow",
                 "0x4e487b71000000000000000000000000000000000000000000000000000000000000001"
                 "1");
    expect_error(call(f, "eth_call",
                      "[{\"input\":\"0x634e487b7160e01b6000526099600452602460"
                      "00fd\"}]"),
                 RPC_EXECUTION_REVERTED, "execution reverted: unknown panic code: 0x99",
                 "0x4e487b71000000000000000000000000000000000000000000000000000000000000009"
                 "9");
    /* Without data, a REVERT is geth's plain -32000 (initcode: REVERT(0, 0)). */
    expect_error(call(f, "eth_call", "[{\"input\":\"0x60006000fd\"}]"), RPC_SERVER_ERROR,
                 "execution reverted", NULL);
}

static void test_call_checks_parameters_and_state(void **state)
{
    struct fixture *f = *state;
    expect_error(call(f, "eth_call", "[{\"to\":\"%s\"},\"0x1\"]", f->contract_hex),
                 RPC_SERVER_ERROR, "historical state is not available", NULL);
    expect_error(call(f, "eth_call", "[{\"to\":\"%s\"},\"0x9\"]", f->contract_hex),
                 RPC_SERVER_ERROR, "header not found", NULL);
    expect_error(call(f, "eth_call", "[{\"to\":\"%s\",\"gas\":\"xyz\"}]", f->contract_hex),
                 RPC_INVALID_PARAMS, "invalid argument 0: gas: hex string without 0x prefix", NULL);
    expect_error(call(f, "eth_call", "[{\"to\":\"0x1234\"}]"), RPC_INVALID_PARAMS,
                 "invalid argument 0: to: hex string has length 4, want 40", NULL);
    expect_error(call(f, "eth_call", "[\"0x1\"]"), RPC_INVALID_PARAMS,
                 "invalid argument 0: expected a call object", NULL);
    expect_error(call(f, "eth_call", "[]"), RPC_INVALID_PARAMS,
                 "missing value for required argument 0", NULL);
    expect_error(call(f, "eth_call", "[{\"to\":\"%s\"},\"latest\",{}]", f->contract_hex),
                 RPC_INVALID_PARAMS, "too many arguments, want at most 2", NULL);
    expect_error(call(f, "eth_call", "[{\"to\":\"%s\",\"data\":\"0x00\",\"input\":\"0x01\"}]",
                      f->contract_hex),
                 RPC_SERVER_ERROR,
                 "both \"data\" and \"input\" are set and not equal. Please use \"input\" to pass "
                 "transaction call data",
                 NULL);
    expect_error(call(f, "eth_call",
                      "[{\"to\":\"%s\",\"gasPrice\":\"0x1\",\"maxFeePerGas\":\"0x1\"}]",
                      f->contract_hex),
                 RPC_SERVER_ERROR,
                 "both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified", NULL);
    /* The zero address holds nothing: a value needs a balance, a call does not. */
    expect_error(call(f, "eth_call", "[{\"to\":\"%s\",\"value\":\"0x1\"}]", f->contract_hex),
                 RPC_SERVER_ERROR, "insufficient funds for gas * price + value", NULL);
    expect_error(call(f, "eth_call", "[{\"to\":\"%s\",\"gas\":\"0x5000\"}]", f->contract_hex),
                 RPC_SERVER_ERROR, "intrinsic gas too low", NULL);
    /* Without call workers the node does not offer calls. */
    f->deps.call_workers = NULL;
    expect_error(call(f, "eth_call", "[{\"to\":\"%s\"}]", f->contract_hex), RPC_METHOD_NOT_FOUND,
                 "the method eth_call does not exist/is not available", NULL);
    f->deps.call_workers = f->call_workers;
}

/* ---- eth_estimateGas ---------------------------------------------------- */

static void test_estimate_is_the_exact_gas_of_the_transaction(void **state)
{
    struct fixture *f = *state;
    const char *store = "0x01000000000000000000000000000000000000000000000000000000000000abcd";
    uint64_t est = quantity(
        result_text(call(f, "eth_estimateGas", "[{\"from\":\"%s\",\"to\":\"%s\",\"input\":\"%s\"}]",
                         f->user_hex, f->contract_hex, store)));
    /* The lowest gas that works: one unit less runs out. */
    expect_error(call(f, "eth_call",
                      "[{\"from\":\"%s\",\"to\":\"%s\",\"input\":\"%s\",\"gas\":\"0x%llx\"}]",
                      f->user_hex, f->contract_hex, store, (unsigned long long)(est - 1)),
                 RPC_SERVER_ERROR, "out of gas", NULL);
    expect_text(
        result_text(call(f, "eth_call",
                         "[{\"from\":\"%s\",\"to\":\"%s\",\"input\":\"%s\",\"gas\":\"0x%llx\"}]",
                         f->user_hex, f->contract_hex, store, (unsigned long long)est)),
        "\"0x\"");
    /* The same message as a transaction with exactly that gas uses all of it. */
    struct bytes data;
    bytes_init(&data);
    uint8_t contract[20];
    assert_int_equal(hex_decode_exact(f->contract_hex, contract, 20), TC_OK);
    struct tx tx = user_tx(f, contract, store, &data, est);
    mine(f, &tx, 1, NULL);
    assert_int_equal(f->last_gas_used, est);
    bytes_free(&data);
    expect_text(result_text(call(f, "eth_getStorageAt", "[\"%s\",\"0x0\"]", f->contract_hex)),
                "\"0x000000000000000000000000000000000000000000000000000000000000abcd\"");

    /* Clearing the slot earns a refund: the estimate is above the gas used. */
    const char *clear = "0x010000000000000000000000000000000000000000000000000000000000000000";
    est = quantity(result_text(call(f, "eth_estimateGas",
                                    "[{\"from\":\"%s\",\"to\":\"%s\",\"input\":\"%s\"},\"latest\"]",
                                    f->user_hex, f->contract_hex, clear)));
    expect_error(call(f, "eth_call",
                      "[{\"from\":\"%s\",\"to\":\"%s\",\"input\":\"%s\",\"gas\":\"0x%llx\"}]",
                      f->user_hex, f->contract_hex, clear, (unsigned long long)(est - 1)),
                 RPC_SERVER_ERROR, "out of gas", NULL);
    tx = user_tx(f, contract, clear, &data, est);
    mine(f, &tx, 1, NULL);
    assert_true(f->last_gas_used < est);
    bytes_free(&data);
}

static void test_estimate_reports_reverts_and_allowance(void **state)
{
    struct fixture *f = *state;
    expect_text(
        result_text(call(f, "eth_estimateGas",
                         "[{\"from\":\"%s\",\"to\":\"0x5555555555555555555555555555555555555555\","
                         "\"value\":\"0x1\"}]",
                         f->user_hex)),
        "\"0x5208\"");
    expect_text(result_text(call(f, "eth_estimateGas",
                                 "[{\"to\":\"0x5555555555555555555555555555555555555555\","
                                 "\"data\":\"0x0001\"}]")),
                "\"0x521c\"");
    expect_error(call(f, "eth_estimateGas", "[{\"to\":\"%s\",\"data\":\"0x02\"}]", f->contract_hex),
                 RPC_EXECUTION_REVERTED, "execution reverted: nope", NOPE_DATA);
    expect_error(call(f, "eth_estimateGas", "[{\"to\":\"%s\",\"data\":\"0x03\"}]", f->contract_hex),
                 RPC_EXECUTION_REVERTED, "execution reverted", CUSTOM_DATA);
    expect_error(call(f, "eth_estimateGas", "[{\"to\":\"%s\",\"data\":\"0x04\"}]", f->contract_hex),
                 RPC_SERVER_ERROR, "invalid opcode", NULL);
    char msg[80];
    snprintf(msg, sizeof(msg), "gas required exceeds allowance (%llu)", TX_GAS_LIMIT);
    expect_error(call(f, "eth_estimateGas", "[{\"to\":\"%s\",\"data\":\"0x05\"}]", f->contract_hex),
                 RPC_SERVER_ERROR, msg, NULL);
    expect_error(call(f, "eth_estimateGas",
                      "[{\"to\":\"%s\",\"data\":\"0x01%064x\",\"gas\":\"0x5300\"}]",
                      f->contract_hex, 1),
                 RPC_SERVER_ERROR, "gas required exceeds allowance (21248)", NULL);
    /* A fee cap limits the gas to what the balance pays for. */
    expect_error(call(f, "eth_estimateGas",
                      "[{\"to\":\"%s\",\"data\":\"0x01%064x\",\"gasPrice\":\"0x1\"}]",
                      f->contract_hex, 1),
                 RPC_SERVER_ERROR, "insufficient funds for transfer", NULL);
    expect_error(call(f, "eth_estimateGas", "[{\"to\":\"%s\"},\"0x1\"]", f->contract_hex),
                 RPC_SERVER_ERROR, "historical state is not available", NULL);
    expect_error(call(f, "eth_estimateGas", "[\"0x1\"]"), RPC_INVALID_PARAMS,
                 "invalid argument 0: expected a call object", NULL);
}

/* A job that holds the only call worker until released. */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool open;
};

static void wait_at_gate(void *arg)
{
    struct gate *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void test_full_call_queue_answers_server_busy(void **state)
{
    struct fixture *f = *state;
    struct threadpool *small;
    assert_int_equal(threadpool_create_with_stack(&small, 1, 1, ETH_API_CALL_STACK_BYTES), TC_OK);
    struct gate g = { .open = false };
    pthread_mutex_init(&g.lock, NULL);
    pthread_cond_init(&g.cond, NULL);
    assert_int_equal(threadpool_submit(small, wait_at_gate, &g), TC_OK);
    f->deps.call_workers = small;
    struct threadpool_stats st;
    for (int i = 0; i < 20000; i++) {
        threadpool_get_stats(small, &st);
        if (st.running == 1)
            break;
        usleep(1000);
    }
    assert_int_equal(st.running, 1);

    char body[256];
    snprintf(body, sizeof(body),
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[{\"to\":\"%s\"}]}",
             f->contract_hex);
    /* With the worker held, the first call waits in the queue (its one slot)... */
    int first = http_connect(f->rpc.port);
    assert_true(first >= 0);
    assert_true(http_request(first, "POST", "/", "application/json", body, strlen(body)));
    for (int i = 0; i < 20000; i++) {
        threadpool_get_stats(small, &st);
        if (st.queued == 1)
            break;
        usleep(1000);
    }
    assert_int_equal(st.queued, 1);
    /* ...so the second finds it full. */
    expect_error(call(f, "eth_call", "[{\"to\":\"%s\"}]", f->contract_hex), RPC_SERVER_ERROR,
                 "server busy", NULL);
    pthread_mutex_lock(&g.lock);
    g.open = true;
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.lock);
    struct http_response r;
    assert_true(http_read_response(first, &r));
    close(first);
    cJSON *j = cJSON_Parse(r.body);
    http_response_free(&r);
    char want[80];
    snprintf(want, sizeof(want), "\"%s\"", WORD2);
    expect_text(result_text(j), want);
    threadpool_destroy(small);
    f->deps.call_workers = f->call_workers;
    pthread_cond_destroy(&g.cond);
    pthread_mutex_destroy(&g.lock);
}

/* ---- code and storage ----------------------------------------------------- */

static void test_code_and_storage_read_the_head(void **state)
{
    struct fixture *f = *state;
    char want[600];
    snprintf(want, sizeof(want), "\"0x%s\"", CONTRACT_RUNTIME);
    expect_text(result_text(call(f, "eth_getCode", "[\"%s\",\"latest\"]", f->contract_hex)), want);
    expect_text(result_text(call(f, "eth_getCode", "[\"%s\"]", f->user_hex)), "\"0x\"");
    expect_error(call(f, "eth_getCode", "[\"%s\",\"0x1\"]", f->contract_hex), RPC_SERVER_ERROR,
                 "historical state is not available", NULL);
    expect_error(call(f, "eth_getCode", "[\"0x12\"]"), RPC_INVALID_PARAMS,
                 "invalid argument 0: hex string has length 2, want 40", NULL);

    snprintf(want, sizeof(want), "\"%s\"", WORD2);
    const char *slots[] = { "0x0", "0x00", "0",
                            "0x0000000000000000000000000000000000000000000000000000000000000000" };
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
        expect_text(result_text(call(f, "eth_getStorageAt", "[\"%s\",\"%s\",\"latest\"]",
                                     f->contract_hex, slots[i])),
                    want);
    expect_text(result_text(call(f, "eth_getStorageAt", "[\"%s\",\"0x1\"]", f->contract_hex)),
                "\"0x0000000000000000000000000000000000000000000000000000000000000000\"");
    expect_error(call(f, "eth_getStorageAt", "[\"%s\",\"0xzz\"]", f->contract_hex),
                 RPC_INVALID_PARAMS, "invalid argument 1: hex string invalid", NULL);
    expect_error(call(f, "eth_getStorageAt", "[\"%s\",\"0x%066d\"]", f->contract_hex, 0),
                 RPC_INVALID_PARAMS,
                 "invalid argument 1: hex string too long, want at most 32 bytes", NULL);
    expect_error(call(f, "eth_getStorageAt", "[\"%s\",5]", f->contract_hex), RPC_INVALID_PARAMS,
                 "invalid argument 1: expected a storage slot string", NULL);
    expect_error(call(f, "eth_getStorageAt", "[\"%s\",\"0x0\",\"earliest\"]", f->contract_hex),
                 RPC_SERVER_ERROR, "historical state is not available", NULL);
}

/* ---- eth_getLogs ---------------------------------------------------------- */

/* The logs of a filter (JSON object text), as an array (caller frees). */
static cJSON *logs_of(struct fixture *f, const char *filter)
{
    char *t = result_text(call(f, "eth_getLogs", "[%s]", filter));
    cJSON *a = cJSON_Parse(t);
    free(t);
    assert_true(cJSON_IsArray(a));
    return a;
}

static void expect_log_count(struct fixture *f, const char *filter, int count)
{
    cJSON *a = logs_of(f, filter);
    if (cJSON_GetArraySize(a) != count)
        print_error("filter %s: %d logs, want %d\n", filter, cJSON_GetArraySize(a), count);
    assert_int_equal(cJSON_GetArraySize(a), count);
    cJSON_Delete(a);
}

static void test_logs_match_receipts_and_filters(void **state)
{
    struct fixture *f = *state;
    char filter[1024], hash[67];
    snprintf(filter, sizeof(filter),
             "{\"fromBlock\":\"0x1\",\"toBlock\":\"latest\",\"address\":\"%s\"}", f->contract_hex);
    cJSON *logs = logs_of(f, filter);
    assert_int_equal(cJSON_GetArraySize(logs), 2);
    /* Each log is exactly the receipt's. */
    for (int i = 0; i < 2; i++) {
        hex0x(f->tx_hashes[i == 0 ? 1 : 4], 32, hash);
        char *t = result_text(call(f, "eth_getTransactionReceipt", "[\"%s\"]", hash));
        cJSON *r = cJSON_Parse(t);
        free(t);
        const cJSON *rl = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "logs"), 0);
        char *a = cJSON_PrintUnformatted(rl),
             *b = cJSON_PrintUnformatted(cJSON_GetArrayItem(logs, i));
        assert_string_equal(a, b);
        free(a);
        free(b);
        cJSON_Delete(r);
    }
    const cJSON *l0 = cJSON_GetArrayItem(logs, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(l0, "logIndex")->valuestring, "0x0");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(l0, "transactionIndex")->valuestring,
                        "0x1");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(l0, "blockNumber")->valuestring, "0x1");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(l0, "data")->valuestring, WORD1);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(l0, "removed")));
    hex0x(f->block_hashes[1], 32, hash);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(l0, "blockHash")->valuestring, hash);
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive(l0, "topics");
    assert_int_equal(cJSON_GetArraySize(topics), 2);
    assert_string_equal(cJSON_GetArrayItem(topics, 0)->valuestring, TOPIC0);
    assert_string_equal(cJSON_GetArrayItem(topics, 1)->valuestring, WORD1);
    cJSON_Delete(logs);

    /* Range defaults to latest..latest; tags and numbers. */
    expect_log_count(f, "{}", 1);
    expect_log_count(f, "{\"fromBlock\":\"earliest\"}", 2);
    expect_log_count(f, "{\"fromBlock\":\"0x1\",\"toBlock\":\"0x1\"}", 1);
    expect_log_count(f, "{\"fromBlock\":\"0x3\",\"toBlock\":\"0x9\"}", 0);
    /* Addresses: one, a list, none matching. */
    snprintf(filter, sizeof(filter),
             "{\"fromBlock\":\"0x0\",\"address\":[\"0x0000000000000000000000000000000000000001\","
             "\"%s\"]}",
             f->contract_hex);
    expect_log_count(f, filter, 2);
    expect_log_count(
        f, "{\"fromBlock\":\"0x0\",\"address\":\"0x0000000000000000000000000000000000000001\"}", 0);
    /* Topics: by position, alternatives, wildcards. */
    snprintf(filter, sizeof(filter), "{\"fromBlock\":\"0x0\",\"topics\":[\"%s\"]}", TOPIC0);
    expect_log_count(f, filter, 2);
    snprintf(filter, sizeof(filter), "{\"fromBlock\":\"0x0\",\"topics\":[null,\"%s\"]}", WORD2);
    expect_log_count(f, filter, 1);
    snprintf(filter, sizeof(filter), "{\"fromBlock\":\"0x0\",\"topics\":[[],[\"%s\",\"%s\"]]}",
             WORD1, WORD2);
    expect_log_count(f, filter, 2);
    snprintf(filter, sizeof(filter), "{\"fromBlock\":\"0x0\",\"topics\":[[\"%s\",null]]}", WORD1);
    expect_log_count(f, filter, 2);
    snprintf(filter, sizeof(filter), "{\"fromBlock\":\"0x0\",\"topics\":[\"%s\"]}", WORD1);
    expect_log_count(f, filter, 0);
    snprintf(filter, sizeof(filter), "{\"fromBlock\":\"0x0\",\"topics\":[null,null,\"%s\"]}",
             TOPIC0);
    expect_log_count(f, filter, 0);
    /* By block hash. */
    hex0x(f->block_hashes[2], 32, hash);
    snprintf(filter, sizeof(filter), "{\"blockHash\":\"%s\"}", hash);
    logs = logs_of(f, filter);
    assert_int_equal(cJSON_GetArraySize(logs), 1);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(logs, 0), "data")->valuestring, WORD2);
    cJSON_Delete(logs);
}

static void test_logs_refuse_bad_filters_and_bound_queries(void **state)
{
    struct fixture *f = *state;
    char hash[67];
    hex0x(f->block_hashes[2], 32, hash);
    expect_error(call(f, "eth_getLogs", "[{\"blockHash\":\"%s\",\"fromBlock\":\"0x1\"}]", hash),
                 RPC_INVALID_PARAMS,
                 "invalid argument 0: cannot specify both BlockHash and FromBlock/ToBlock, choose "
                 "one or the other",
                 NULL);
    expect_error(call(f, "eth_getLogs",
                      "[{\"blockHash\":\"0x00000000000000000000000000000000000000000000000000000000"
                      "00000001\"}]"),
                 RPC_SERVER_ERROR, "unknown block", NULL);
    expect_error(call(f, "eth_getLogs", "[{\"fromBlock\":\"0x2\",\"toBlock\":\"0x1\"}]"),
                 RPC_SERVER_ERROR, "invalid block range params", NULL);
    expect_error(call(f, "eth_getLogs", "[{\"topics\":[null,null,null,null,null]}]"),
                 RPC_INVALID_PARAMS, "invalid argument 0: exceed max topics", NULL);
    expect_error(call(f, "eth_getLogs", "[{\"topics\":[5]}]"), RPC_INVALID_PARAMS,
                 "invalid argument 0: topics: expected a topic, an array of topics or null", NULL);
    expect_error(call(f, "eth_getLogs", "[{\"address\":5}]"), RPC_INVALID_PARAMS,
                 "invalid argument 0: invalid addresses in query", NULL);
    expect_error(call(f, "eth_getLogs", "[{\"address\":[\"0x01\"]}]"), RPC_INVALID_PARAMS,
                 "invalid argument 0: address: hex string has length 2, want 40", NULL);
    expect_error(call(f, "eth_getLogs", "[{\"fromBlock\":\"0x01\"}]"), RPC_INVALID_PARAMS,
                 "invalid argument 0: hex number with leading zero digits", NULL);
    expect_error(call(f, "eth_getLogs", "[\"latest\"]"), RPC_INVALID_PARAMS,
                 "invalid argument 0: expected a filter object", NULL);

    f->deps.logs_max_blocks = 2;
    expect_log_count(f, "{\"fromBlock\":\"0x1\",\"toBlock\":\"0x2\"}", 2);
    /* The range is cut at the head before it is bounded. */
    expect_log_count(f, "{\"fromBlock\":\"0x1\",\"toBlock\":\"0x50\"}", 2);
    expect_error(call(f, "eth_getLogs", "[{\"fromBlock\":\"0x0\",\"toBlock\":\"0x2\"}]"), -32005,
                 "query exceeds max block range 2", NULL);
    f->deps.logs_max_blocks = 0;
    f->deps.logs_max_results = 1;
    expect_log_count(f, "{\"fromBlock\":\"0x2\"}", 1);
    expect_error(call(f, "eth_getLogs", "[{\"fromBlock\":\"0x0\"}]"), -32005,
                 "query returned more than 1 results", NULL);
    f->deps.logs_max_results = 0;
}

/* ---- counters ------------------------------------------------------------- */

static void test_total_transaction_count_reports_failed_transactions(void **state)
{
    struct fixture *f = *state;
    expect_text(result_text(call(f, "getTotalTransactionCount", "[]")),
                "{\"blockNumber\":2,\"transactionCount\":5,\"failedTransactionCount\":1}");
    char hash[67];
    hex0x(f->tx_hashes[2], 32, hash);
    char *t = result_text(call(f, "eth_getTransactionReceipt", "[\"%s\"]", hash));
    cJSON *r = cJSON_Parse(t);
    free(t);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(r, "status")->valuestring, "0x0");
    cJSON_Delete(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_call_returns_data_and_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_call_revert_has_geth_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_checks_parameters_and_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_estimate_is_the_exact_gas_of_the_transaction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_estimate_reports_reverts_and_allowance, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_full_call_queue_answers_server_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_and_storage_read_the_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_match_receipts_and_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_refuse_bad_filters_and_bound_queries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_total_transaction_count_reports_failed_transactions,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
