/*
 * test_eth_api.c - the eth_*, net_*, web3_* and FISCO-style methods of
 * eth_api.h over HTTP, against a real ledger (two applied blocks from the
 * ledger fixture) and a real txpool on a thread pool.
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
#include "rpc/eth_api.h"
#include "txpool/txpool.h"

static uint64_t test_seed = 42;

static const uint8_t test_store_key[32] = { 7 };
static const uint8_t user_key[32] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                      0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                      0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                      0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

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
    struct lfx_block blocks[2];
    uint8_t genesis_hash[32];
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

static uint64_t fake_peers(void *ctx)
{
    (void)ctx;
    return 3;
}

static cJSON *fake_node_info(void *ctx)
{
    (void)ctx;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "nodeName", "node0");
    return o;
}

static bool fake_syncing(void *ctx, uint64_t *starting, uint64_t *current, uint64_t *highest)
{
    (void)ctx;
    *starting = 1;
    *current = 2;
    *highest = 0x10;
    return true;
}

static cJSON *fake_consensus(void *ctx)
{
    (void)ctx;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "isLeader", true);
    return o;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/tc-ethapi-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/db", f->dir);
    lfx_genesis(&f->g, f->alloc);
    f->g.gas_price = u256_from_u64(0);
    struct store_options o = { .path = f->db };
    memcpy(o.master_key, test_store_key, 32);
    char err[512];
    assert_int_equal(store_open(&o, &f->s, err, sizeof(err)), TC_OK);
    assert_int_equal(ledger_open(f->s, &f->g, &f->l, err, sizeof(err)), TC_OK);
    ledger_genesis_hash(f->l, f->genesis_hash);
    size_t counts[2] = { 3, 2 };
    for (size_t i = 0; i < 2; i++) {
        struct ledger_head h;
        ledger_head(f->l, &h);
        assert_int_equal(lfx_begin(&f->blocks[i], h.number + 1, counts[i], test_seed), TC_OK);
        assert_int_equal(lfx_finish(&f->blocks[i], h.hash, h.state_root), TC_OK);
        assert_int_equal(ledger_apply(f->l, &f->blocks[i].entry, i + 1, 1), TC_OK);
    }
    assert_int_equal(threadpool_create(&f->workers, 2, 64), TC_OK);
    assert_int_equal(eth_api_call_workers_create(&f->call_workers), TC_OK);
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
    f->deps.peer_count = fake_peers;
    f->deps.node_info = fake_node_info;
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
    lfx_free(&f->blocks[0]);
    lfx_free(&f->blocks[1]);
    ledger_close(f->l);
    store_close(f->s);
    nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Calls method with params (JSON text) and returns the whole response. */
static cJSON *call(struct fixture *f, const char *method, const char *params)
{
    size_t len = strlen(method) + strlen(params) + 64;
    char *body = malloc(len);
    assert_non_null(body);
    snprintf(body, len, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}", method,
             params);
    int status;
    cJSON *r = rpc_post(f->rpc.port, body, &status);
    free(body);
    assert_int_equal(status, 200);
    assert_non_null(r);
    return r;
}

/* The result of a call, printed as compact JSON (caller frees). */
static char *result_text(struct fixture *f, const char *method, const char *params)
{
    cJSON *r = call(f, method, params);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(r, "result");
    if (!res) {
        char *t = cJSON_PrintUnformatted(r);
        print_error("%s %s -> %s\n", method, params, t);
        free(t);
    }
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

static void expect_error(struct fixture *f, const char *method, const char *params, int code,
                         const char *message)
{
    cJSON *r = call(f, method, params);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
    assert_non_null(e);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(e, "code")->valueint, code);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "message")->valuestring, message);
    cJSON_Delete(r);
}

static void hex0x(const uint8_t *p, size_t n, char *out)
{
    out[0] = '0';
    out[1] = 'x';
    hex_encode(p, n, out + 2);
}

/* A field of a result object, as compact JSON text (caller frees). */
static char *field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!v)
        print_error("missing field %s\n", name);
    assert_non_null(v);
    return cJSON_PrintUnformatted(v);
}

static void expect_field(const cJSON *o, const char *name, const char *want)
{
    char *got = field(o, name);
    if (strcmp(got, want) != 0)
        print_error("field %s: got %s want %s\n", name, got, want);
    assert_string_equal(got, want);
    free(got);
}

/* o has exactly the fields in names (a NULL-terminated list). */
static void expect_fields_exactly(const cJSON *o, const char *const *names)
{
    size_t n = 0;
    for (; names[n]; n++)
        if (!cJSON_GetObjectItemCaseSensitive(o, names[n])) {
            print_error("missing field %s\n", names[n]);
            fail();
        }
    assert_int_equal(cJSON_GetArraySize(o), n);
}

static const char *const block_fields[] = { "baseFeePerGas",
                                            "blobGasUsed",
                                            "difficulty",
                                            "excessBlobGas",
                                            "extraData",
                                            "gasLimit",
                                            "gasUsed",
                                            "hash",
                                            "logsBloom",
                                            "miner",
                                            "mixHash",
                                            "nonce",
                                            "number",
                                            "parentBeaconBlockRoot",
                                            "parentHash",
                                            "receiptsRoot",
                                            "sha3Uncles",
                                            "size",
                                            "stateRoot",
                                            "timestamp",
                                            "totalDifficulty",
                                            "transactions",
                                            "transactionsRoot",
                                            "uncles",
                                            "withdrawals",
                                            "withdrawalsRoot",
                                            NULL };

static const char *const receipt_fields[] = { "blockHash",
                                              "blockNumber",
                                              "contractAddress",
                                              "cumulativeGasUsed",
                                              "effectiveGasPrice",
                                              "from",
                                              "gasUsed",
                                              "logs",
                                              "logsBloom",
                                              "status",
                                              "to",
                                              "transactionHash",
                                              "transactionIndex",
                                              "type",
                                              NULL };

static const char *const legacy_tx_fields[] = {
    "blockHash", "blockNumber",      "from",  "gas",  "gasPrice", "hash", "input", "nonce",
    "to",        "transactionIndex", "value", "type", "chainId",  "v",    "r",     "s",
    NULL
};

static const char *const dynamic_fee_tx_fields[] = { "blockHash",
                                                     "blockNumber",
                                                     "from",
                                                     "gas",
                                                     "gasPrice",
                                                     "maxFeePerGas",
                                                     "maxPriorityFeePerGas",
                                                     "hash",
                                                     "input",
                                                     "nonce",
                                                     "to",
                                                     "transactionIndex",
                                                     "value",
                                                     "type",
                                                     "accessList",
                                                     "chainId",
                                                     "v",
                                                     "r",
                                                     "s",
                                                     "yParity",
                                                     NULL };

static cJSON *result_of(struct fixture *f, const char *method, const char *params)
{
    char *t = result_text(f, method, params);
    cJSON *o = cJSON_Parse(t);
    free(t);
    assert_non_null(o);
    return o;
}

static void test_chain_methods_answer_genesis_values(void **state)
{
    struct fixture *f = *state;
    expect_result(f, "eth_chainId", "[]", "\"0x4ee8\"");
    expect_result(f, "net_version", "[]", "\"20200\"");
    expect_result(f, "net_listening", "[]", "true");
    expect_result(f, "net_peerCount", "[]", "\"0x3\"");
    expect_result(f, "web3_clientVersion", "[]", "\"TEEChain/test\"");
    expect_result(f, "eth_syncing", "[]", "false");
    expect_result(f, "eth_accounts", "[]", "[]");
    expect_result(f, "eth_blockNumber", "[]", "\"0x2\"");
    expect_result(f, "eth_gasPrice", "[]", "\"0x0\"");
    expect_result(f, "eth_maxPriorityFeePerGas", "[]", "\"0x0\"");
    expect_error(f, "eth_chainId", "[1]", RPC_INVALID_PARAMS, "too many arguments, want at most 0");
}

static void test_balance_and_nonce_read_head_state(void **state)
{
    struct fixture *f = *state;
    struct state_account a;
    bool exists;
    uint8_t addr[20];
    char params[128], want[80], ahex[43];
    /* An account of the pool the blocks did not touch keeps its genesis balance. */
    for (size_t i = 0; i < LFX_ACCOUNTS; i++) {
        lfx_account_addr(i, addr);
        assert_int_equal(ledger_account(f->l, addr, &a, &exists), TC_OK);
        hex0x(addr, 20, ahex);
        snprintf(params, sizeof(params), "[\"%s\",\"latest\"]", ahex);
        cJSON *q = rpc_quantity_u256(exists ? a.balance : u256_zero());
        snprintf(want, sizeof(want), "\"%s\"", q->valuestring);
        cJSON_Delete(q);
        expect_result(f, "eth_getBalance", params, want);
        snprintf(want, sizeof(want), "\"0x%llx\"", (unsigned long long)(exists ? a.nonce : 0));
        expect_result(f, "eth_getTransactionCount", params, want);
    }
    expect_result(f, "eth_getBalance", "[\"0x00000000000000000000000000000000000000ff\",\"0x2\"]",
                  "\"0x0\"");
    expect_error(f, "eth_getBalance", "[\"0x00000000000000000000000000000000000000ff\",\"0x1\"]",
                 RPC_SERVER_ERROR, "historical state is not available");
    expect_error(f, "eth_getBalance", "[\"0x00000000000000000000000000000000000000ff\",\"0x9\"]",
                 RPC_SERVER_ERROR, "header not found");
    expect_error(f, "eth_getBalance", "[\"0x00ff\"]", RPC_INVALID_PARAMS,
                 "invalid argument 0: hex string has length 4, want 40");
}

static void sign_transfer(uint64_t nonce, uint64_t chain_id, uint64_t gas, uint64_t value,
                          struct bytes *raw, char *hex)
{
    struct tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = TX_DYNAMIC_FEE;
    tx.chain_id = chain_id;
    tx.nonce = nonce;
    tx.gas_limit = gas;
    tx.has_to = true;
    memset(tx.to, 0x55, 20);
    tx.value = u256_from_u64(value);
    assert_int_equal(tx_sign(&tx, user_key), TC_OK);
    bytes_clear(raw);
    assert_int_equal(tx_encode(&tx, raw), TC_OK);
    hex0x(raw->ptr, raw->len, hex);
}

static void test_send_raw_transaction_admits_and_reports_pool_errors(void **state)
{
    struct fixture *f = *state;
    struct bytes raw;
    bytes_init(&raw);
    char hex[600], params[700], want[80], hashhex[67];
    uint8_t hash[32];

    sign_transfer(0, 20200, 21000, 0, &raw, hex);
    keccak256(raw.ptr, raw.len, hash);
    hex0x(hash, 32, hashhex);
    snprintf(params, sizeof(params), "[\"%s\"]", hex);
    snprintf(want, sizeof(want), "\"%s\"", hashhex);
    expect_result(f, "eth_sendRawTransaction", params, want);
    expect_error(f, "eth_sendRawTransaction", params, RPC_SERVER_ERROR, "already known");

    /* Pending: known to the pool, not mined. */
    snprintf(params, sizeof(params), "[\"%s\"]", hashhex);
    cJSON *t = result_of(f, "eth_getTransactionByHash", params);
    expect_field(t, "blockHash", "null");
    expect_field(t, "blockNumber", "null");
    expect_field(t, "transactionIndex", "null");
    expect_field(t, "hash", want);
    expect_field(t, "nonce", "\"0x0\"");
    expect_field(t, "to", "\"0x5555555555555555555555555555555555555555\"");
    expect_field(t, "type", "\"0x2\"");
    cJSON_Delete(t);
    expect_result(f, "eth_getTransactionReceipt", params, "null");

    uint8_t sender[20];
    struct tx dec;
    assert_int_equal(tx_decode(bytes_as_view(&raw), &dec, NULL), TC_OK);
    assert_int_equal(tx_sender(&dec, sender, NULL), TC_OK);
    char shex[43];
    hex0x(sender, 20, shex);
    snprintf(params, sizeof(params), "[\"%s\",\"pending\"]", shex);
    expect_result(f, "eth_getTransactionCount", params, "\"0x1\"");
    snprintf(params, sizeof(params), "[\"%s\",\"latest\"]", shex);
    expect_result(f, "eth_getTransactionCount", params, "\"0x0\"");
    expect_result(f, "getPendingTxSize", "[]", "1");
    expect_result(f, "getPendingTxSize", "[\"group0\",\"node0\"]", "1");

    sign_transfer(1, 20201, 21000, 0, &raw, hex);
    snprintf(params, sizeof(params), "[\"%s\"]", hex);
    expect_error(f, "eth_sendRawTransaction", params, RPC_SERVER_ERROR, "invalid chain id");
    sign_transfer(1, 20200, 20000, 0, &raw, hex);
    snprintf(params, sizeof(params), "[\"%s\"]", hex);
    expect_error(f, "eth_sendRawTransaction", params, RPC_SERVER_ERROR, "intrinsic gas too low");
    sign_transfer(1, 20200, 40000000, 0, &raw, hex);
    snprintf(params, sizeof(params), "[\"%s\"]", hex);
    expect_error(f, "eth_sendRawTransaction", params, RPC_SERVER_ERROR, "exceeds block gas limit");
    sign_transfer(5000, 20200, 21000, 0, &raw, hex);
    snprintf(params, sizeof(params), "[\"%s\"]", hex);
    expect_error(f, "eth_sendRawTransaction", params, RPC_SERVER_ERROR, "nonce too high");
    sign_transfer(1, 20200, 21000, 5, &raw, hex);
    snprintf(params, sizeof(params), "[\"%s\"]", hex);
    expect_error(f, "eth_sendRawTransaction", params, RPC_SERVER_ERROR,
                 "insufficient funds for gas * price + value");
    expect_error(f, "eth_sendRawTransaction", "[\"0x1234\"]", RPC_SERVER_ERROR,
                 "transaction type not supported");
    expect_error(f, "eth_sendRawTransaction", "[\"1234\"]", RPC_INVALID_PARAMS,
                 "invalid argument 0: hex string without 0x prefix");
    expect_error(f, "eth_sendRawTransaction", "[]", RPC_INVALID_PARAMS,
                 "missing value for required argument 0");
    bytes_free(&raw);
}

static void test_mined_transaction_and_receipt_have_location(void **state)
{
    struct fixture *f = *state;
    const struct lfx_block *b = &f->blocks[0];
    char params[128], hashhex[67], bhex[67], q[80];
    for (size_t i = 0; i < b->n; i++) {
        struct tx tx;
        uint8_t hash[32], sender[20];
        assert_int_equal(tx_decode(b->txs[i], &tx, NULL), TC_OK);
        assert_int_equal(tx_sender(&tx, sender, NULL), TC_OK);
        tx_hash(&tx, hash);
        hex0x(hash, 32, hashhex);
        hex0x(b->hash, 32, bhex);
        snprintf(params, sizeof(params), "[\"%s\"]", hashhex);
        cJSON *t = result_of(f, "eth_getTransactionByHash", params);
        snprintf(q, sizeof(q), "\"%s\"", bhex);
        expect_field(t, "blockHash", q);
        expect_field(t, "blockNumber", "\"0x1\"");
        snprintf(q, sizeof(q), "\"0x%zx\"", i);
        expect_field(t, "transactionIndex", q);
        expect_field(t, "type", q);
        snprintf(q, sizeof(q), "\"0x%llx\"", (unsigned long long)tx.nonce);
        expect_field(t, "nonce", q);
        expect_field(t, "gas", "\"0x5208\"");
        expect_field(t, "input", "\"0x\"");
        char shex[43];
        hex0x(sender, 20, shex);
        snprintf(q, sizeof(q), "\"%s\"", shex);
        expect_field(t, "from", q);
        if (i == 0)
            expect_fields_exactly(t, legacy_tx_fields);
        if (i == 2)
            expect_fields_exactly(t, dynamic_fee_tx_fields);
        if (i == 0) {
            snprintf(q, sizeof(q), "\"0x%llx\"",
                     (unsigned long long)(35 + 2 * 20200 + tx.y_parity));
            expect_field(t, "v", q);
            assert_null(cJSON_GetObjectItemCaseSensitive(t, "yParity"));
        } else {
            expect_field(t, "accessList", "[]");
            expect_field(t, "chainId", "\"0x4ee8\"");
        }
        cJSON_Delete(t);

        cJSON *r = result_of(f, "eth_getTransactionReceipt", params);
        expect_fields_exactly(r, receipt_fields);
        snprintf(q, sizeof(q), "\"%s\"", bhex);
        expect_field(r, "blockHash", q);
        expect_field(r, "blockNumber", "\"0x1\"");
        snprintf(q, sizeof(q), "\"%s\"", hashhex);
        expect_field(r, "transactionHash", q);
        snprintf(q, sizeof(q), "\"0x%zx\"", i);
        expect_field(r, "transactionIndex", q);
        expect_field(r, "type", q);
        snprintf(q, sizeof(q), "\"0x%llx\"", (unsigned long long)(21000 * (i + 1)));
        expect_field(r, "cumulativeGasUsed", q);
        expect_field(r, "gasUsed", "\"0x5208\"");
        expect_field(r, "status", "\"0x1\"");
        expect_field(r, "contractAddress", "null");
        expect_field(r, "effectiveGasPrice", "\"0x0\"");
        hex0x(sender, 20, q + 1);
        q[0] = '"';
        strcat(q, "\"");
        expect_field(r, "from", q);
        const cJSON *logs = cJSON_GetObjectItemCaseSensitive(r, "logs");
        assert_int_equal(cJSON_GetArraySize(logs), b->receipts[i].log_count);
        if (b->receipts[i].log_count) {
            const cJSON *l = cJSON_GetArrayItem(logs, 0);
            static const char *const log_fields[] = {
                "address",          "topics",    "data",     "blockNumber", "transactionHash",
                "transactionIndex", "blockHash", "logIndex", "removed",     NULL
            };
            expect_fields_exactly(l, log_fields);
            expect_field(l, "removed", "false");
            expect_field(l, "blockNumber", "\"0x1\"");
            snprintf(q, sizeof(q), "\"0x%zx\"", i);
            expect_field(l, "transactionIndex", q);
            /* The fixture gives logs to every third transaction: tx 0 has the block's first. */
            expect_field(l, "logIndex", "\"0x0\"");
            const struct log *lg = &b->logs[i];
            assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(l, "topics")),
                             lg->topic_count);
        }
        char bloom[2 * 256 + 5];
        bloom[0] = '"';
        hex0x(b->receipts[i].bloom, 256, bloom + 1);
        strcat(bloom, "\"");
        expect_field(r, "logsBloom", bloom);
        cJSON_Delete(r);
    }
    expect_result(f, "eth_getTransactionByHash",
                  "[\"0x0000000000000000000000000000000000000000000000000000000000000001\"]",
                  "null");
    expect_result(f, "eth_getTransactionReceipt",
                  "[\"0x0000000000000000000000000000000000000000000000000000000000000001\"]",
                  "null");
    expect_error(f, "eth_getTransactionReceipt", "[\"0x01\"]", RPC_INVALID_PARAMS,
                 "invalid argument 0: hex string has length 2, want 64");
}

static void test_block_by_tag_number_and_hash(void **state)
{
    struct fixture *f = *state;
    const struct lfx_block *b = &f->blocks[1];
    char bhex[67], q[80], params[128];
    hex0x(b->hash, 32, bhex);
    const char *tags[] = { "\"latest\"", "\"pending\"", "\"safe\"", "\"finalized\"", "\"0x2\"" };
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
        snprintf(params, sizeof(params), "[%s,false]", tags[i]);
        cJSON *o = result_of(f, "eth_getBlockByNumber", params);
        snprintf(q, sizeof(q), "\"%s\"", bhex);
        expect_field(o, "hash", q);
        expect_fields_exactly(o, block_fields);
        expect_field(o, "number", "\"0x2\"");
        expect_field(o, "baseFeePerGas", "\"0x0\"");
        expect_field(o, "totalDifficulty", "\"0x0\"");
        expect_field(o, "difficulty", "\"0x0\"");
        expect_field(o, "uncles", "[]");
        expect_field(o, "withdrawals", "[]");
        expect_field(o, "nonce", "\"0x0000000000000000\"");
        expect_field(o, "gasUsed", "\"0xa410\"");
        snprintf(q, sizeof(q), "\"0x%llx\"", (unsigned long long)b->block.header.timestamp);
        expect_field(o, "timestamp", q);
        hex0x(b->block.header.parent_hash, 32, q + 1);
        q[0] = '"';
        strcat(q, "\"");
        expect_field(o, "parentHash", q);
        struct bytes enc;
        bytes_init(&enc);
        assert_int_equal(block_encode(&b->block, &enc), TC_OK);
        snprintf(q, sizeof(q), "\"0x%zx\"", enc.len);
        bytes_free(&enc);
        expect_field(o, "size", q);
        const cJSON *txs = cJSON_GetObjectItemCaseSensitive(o, "transactions");
        assert_int_equal(cJSON_GetArraySize(txs), 2);
        assert_true(cJSON_IsString(cJSON_GetArrayItem(txs, 0)));
        cJSON_Delete(o);
    }
    snprintf(params, sizeof(params), "[\"%s\",true]", bhex);
    cJSON *o = result_of(f, "eth_getBlockByHash", params);
    const cJSON *txs = cJSON_GetObjectItemCaseSensitive(o, "transactions");
    assert_int_equal(cJSON_GetArraySize(txs), 2);
    const cJSON *t1 = cJSON_GetArrayItem(txs, 1);
    expect_field(t1, "transactionIndex", "\"0x1\"");
    snprintf(q, sizeof(q), "\"%s\"", bhex);
    expect_field(t1, "blockHash", q);
    cJSON_Delete(o);

    o = result_of(f, "eth_getBlockByNumber", "[\"earliest\",false]");
    hex0x(f->genesis_hash, 32, q + 1);
    q[0] = '"';
    strcat(q, "\"");
    expect_field(o, "hash", q);
    expect_field(o, "number", "\"0x0\"");
    expect_field(o, "transactions", "[]");
    cJSON_Delete(o);

    expect_result(f, "eth_getBlockByNumber", "[\"0x3\",false]", "null");
    expect_result(f, "eth_getBlockByHash",
                  "[\"0x0000000000000000000000000000000000000000000000000000000000000001\",false]",
                  "null");
    expect_error(f, "eth_getBlockByNumber", "[\"0x2\"]", RPC_INVALID_PARAMS,
                 "missing value for required argument 1");
    expect_error(f, "eth_getBlockByNumber", "[\"0x02\",false]", RPC_INVALID_PARAMS,
                 "invalid argument 0: hex number with leading zero digits");

    expect_result(f, "eth_getBlockTransactionCountByNumber", "[\"0x1\"]", "\"0x3\"");
    expect_result(f, "eth_getBlockTransactionCountByNumber", "[\"latest\"]", "\"0x2\"");
    expect_result(f, "eth_getBlockTransactionCountByNumber", "[\"0x7\"]", "null");
    snprintf(params, sizeof(params), "[\"%s\"]", bhex);
    expect_result(f, "eth_getBlockTransactionCountByHash", params, "\"0x2\"");

    o = result_of(f, "eth_getTransactionByBlockNumberAndIndex", "[\"0x1\",\"0x2\"]");
    expect_field(o, "transactionIndex", "\"0x2\"");
    expect_field(o, "blockNumber", "\"0x1\"");
    cJSON_Delete(o);
    expect_result(f, "eth_getTransactionByBlockNumberAndIndex", "[\"0x1\",\"0x3\"]", "null");
    snprintf(params, sizeof(params), "[\"%s\",\"0x0\"]", bhex);
    o = result_of(f, "eth_getTransactionByBlockHashAndIndex", params);
    expect_field(o, "blockNumber", "\"0x2\"");
    cJSON_Delete(o);
}

static void test_fee_history_and_estimate_gas(void **state)
{
    struct fixture *f = *state;
    cJSON *o = result_of(f, "eth_feeHistory", "[\"0x2\",\"latest\",[10,50]]");
    expect_field(o, "oldestBlock", "\"0x1\"");
    expect_field(o, "baseFeePerGas", "[\"0x0\",\"0x0\",\"0x0\"]");
    expect_field(o, "reward", "[[\"0x0\",\"0x0\"],[\"0x0\",\"0x0\"]]");
    const cJSON *ratios = cJSON_GetObjectItemCaseSensitive(o, "gasUsedRatio");
    assert_int_equal(cJSON_GetArraySize(ratios), 2);
    const struct block_header *h1 = &f->blocks[0].block.header;
    assert_true(cJSON_GetArrayItem(ratios, 0)->valuedouble ==
                (double)h1->gas_used / (double)h1->gas_limit);
    cJSON_Delete(o);
    o = result_of(f, "eth_feeHistory", "[10,\"0x1\"]");
    expect_field(o, "oldestBlock", "\"0x0\"");
    assert_null(cJSON_GetObjectItemCaseSensitive(o, "reward"));
    cJSON_Delete(o);
    expect_error(f, "eth_feeHistory", "[\"0x2\",\"latest\",[50,10]]", RPC_INVALID_PARAMS,
                 "invalid argument 2: reward percentiles not in ascending order");

    /* The estimate now executes the call (as geth): a value needs a funded sender. */
    expect_result(f, "eth_estimateGas",
                  "[{\"from\":\"0xa0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a000\","
                  "\"to\":\"0x5555555555555555555555555555555555555555\",\"value\":\"0x1\"}]",
                  "\"0x5208\"");
    expect_error(f, "eth_estimateGas",
                 "[{\"to\":\"0x5555555555555555555555555555555555555555\",\"value\":\"0x1\"}]",
                 RPC_SERVER_ERROR, "insufficient funds for gas * price + value");
    expect_result(f, "eth_estimateGas",
                  "[{\"to\":\"0x5555555555555555555555555555555555555555\",\"data\":\"0x0001\"}]",
                  "\"0x521c\"");
    /* A creation: 53,000 + calldata 20 + initcode word 2 + PUSH1 3. */
    expect_result(f, "eth_estimateGas", "[{\"data\":\"0x6000\"}]", "\"0xcf21\"");
    expect_error(f, "eth_estimateGas", "[\"0x1\"]", RPC_INVALID_PARAMS,
                 "invalid argument 0: expected a call object");
}

static void test_fisco_methods_accept_group_and_node(void **state)
{
    struct fixture *f = *state;
    expect_result(f, "getBlockNumber", "[]", "2");
    expect_result(f, "getBlockNumber", "[\"group0\",\"node0\"]", "2");
    expect_result(f, "getBlockNumber", "[\"group0\"]", "2");
    expect_error(f, "getBlockNumber", "[\"group9\",\"node0\"]", RPC_INVALID_PARAMS,
                 "invalid argument 0: unknown group");
    expect_result(f, "getTotalTransactionCount", "[\"group0\",\"\"]",
                  "{\"blockNumber\":2,\"transactionCount\":5,\"failedTransactionCount\":0}");
    expect_result(f, "getSystemConfigByKey", "[\"group0\",\"node0\",\"tx_count_limit\"]",
                  "{\"blockNumber\":2,\"value\":\"1000\"}");
    expect_result(f, "getSystemConfigByKey", "[\"tx_gas_limit\"]",
                  "{\"blockNumber\":2,\"value\":\"3000000000\"}");
    expect_error(f, "getSystemConfigByKey", "[\"nope\"]", RPC_INVALID_PARAMS,
                 "invalid argument 0: unknown system config key");
    char want[256];
    snprintf(want, sizeof(want), "[{\"nodeID\":\"%0128d\",\"weight\":1}]", 0);
    memset(want + 12, '1', 128);
    expect_result(f, "getSealerList", "[]", want);
    expect_result(f, "getNodeInfo", "[\"group0\",\"node0\"]", "{\"nodeName\":\"node0\"}");
    expect_error(f, "getConsensusStatus", "[]", RPC_METHOD_NOT_FOUND,
                 "the method getConsensusStatus does not exist/is not available");
    expect_error(f, "getSyncStatus", "[]", RPC_METHOD_NOT_FOUND,
                 "the method getSyncStatus does not exist/is not available");
}

static void test_node_callbacks_answer_when_set(void **state)
{
    struct fixture *f = *state;
    f->deps.sync_progress = fake_syncing;
    f->deps.consensus_status = fake_consensus;
    f->deps.sync_status = fake_consensus;
    expect_result(f, "eth_syncing", "[]",
                  "{\"startingBlock\":\"0x1\",\"currentBlock\":\"0x2\",\"highestBlock\":\"0x10\"}");
    expect_result(f, "getConsensusStatus", "[\"group0\",\"node0\"]", "{\"isLeader\":true}");
    expect_result(f, "getSyncStatus", "[]", "{\"isLeader\":true}");
    f->deps.peer_count = NULL;
    expect_result(f, "net_peerCount", "[]", "\"0x0\"");
}

static void test_send_raw_transaction_refuses_oversized_data(void **state)
{
    struct fixture *f = *state;
    size_t n = ETH_API_MAX_RAW_TX_BYTES + 1;
    char *params = malloc(2 * n + 8);
    assert_non_null(params);
    memcpy(params, "[\"0x", 4);
    memset(params + 4, 'a', 2 * n);
    memcpy(params + 4 + 2 * n, "\"]", 3);
    expect_error(f, "eth_sendRawTransaction", params, RPC_SERVER_ERROR, "oversized data");
    free(params);
}

int main(void)
{
    const char *env = getenv("TC_SEED");
    if (env)
        test_seed = strtoull(env, NULL, 0);
    printf("test_eth_api: seed %llu (set TC_SEED to replay)\n", (unsigned long long)test_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain_methods_answer_genesis_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_balance_and_nonce_read_head_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_raw_transaction_admits_and_reports_pool_errors,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_mined_transaction_and_receipt_have_location, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_block_by_tag_number_and_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fee_history_and_estimate_gas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fisco_methods_accept_group_and_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_callbacks_answer_when_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_raw_transaction_refuses_oversized_data, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
