/*
 * test_node.c - a whole node in this process: build-chain writes a one-node
 * chain into a temporary folder, node_open() starts it (RPC on an ephemeral
 * loopback port), and the tests talk to it over JSON-RPC as a client would.
 *
 * Randomness (recipients, values) comes from a seeded RNG; the seed is printed
 * and TC_SEED replays it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"
#include "chain/tx.h"
#include "cli/chain_builder.h"
#include "cli/cli_util.h"
#include "cli/rpc_client.h"
#include "crypto/ecdsa.h"
#include "net/node_cert.h"
#include "node/node.h"
#include "node/node_internal.h"

#define WAIT_MS 20000u

struct fixture {
    char dir[256];
    char node_dir[300];
    char accounts_dir[300];
    struct node_config cfg;
    struct node *node;
    pthread_t loop;
    char url[64];
    uint8_t keys[3][32];
    uint8_t addrs[3][20];
    struct rng rng;
};

static uint64_t test_seed(void)
{
    const char *s = getenv("TC_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)clock_wall_ms();
    printf("seed %llu (TC_SEED=%llu replays it)\n", (unsigned long long)seed,
           (unsigned long long)seed);
    return seed;
}

static void *loop_main(void *arg)
{
    node_run(arg);
    return NULL;
}

/* Changes made to the loaded configuration before the node starts. */
typedef void (*tweak_fn)(struct node_config *cfg);

/* Loads the configuration from the node folder (cwd), applies tweak (may be
 * NULL), and starts the node with its RPC on an ephemeral port. */
static int start_node_tweaked(struct fixture *f, tweak_fn tweak, char *err, size_t err_len)
{
    int rc = node_config_load(&f->cfg, "config.ini", "config.genesis", err, err_len);
    if (rc != TC_OK)
        return rc;
    if (tweak)
        tweak(&f->cfg);
    f->cfg.local.rpc_listen.port = 0;
    f->cfg.local.log_path[0] = '\0';
    if ((rc = node_open(&f->cfg, &f->node, err, err_len)) != TC_OK) {
        node_config_free(&f->cfg);
        return rc;
    }
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u", (unsigned)node_rpc_port(f->node));
    assert_int_equal(pthread_create(&f->loop, NULL, loop_main, f->node), 0);
    return TC_OK;
}

static int start_node(struct fixture *f, char *err, size_t err_len)
{
    return start_node_tweaked(f, NULL, err, err_len);
}

static void stop_node(struct fixture *f)
{
    node_stop(f->node);
    pthread_join(f->loop, NULL);
    node_close(f->node);
    node_config_free(&f->cfg);
    f->node = NULL;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    rng_seed(&f->rng, test_seed());
    snprintf(f->dir, sizeof(f->dir), "/tmp/tc-test-node-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    struct chain_spec spec;
    chain_spec_defaults(&spec);
    char err[512];
    assert_int_equal(chain_parse_hosts("127.0.0.1:1", &spec, err, sizeof(err)), 0);
    spec.account_count = 3;
    snprintf(spec.out_dir, sizeof(spec.out_dir), "%s/nodes", f->dir);
    snprintf(spec.bin_path, sizeof(spec.bin_path), "/bin/true");
    assert_int_equal(chain_build(&spec, err, sizeof(err)), 0);
    snprintf(f->node_dir, sizeof(f->node_dir), "%s/nodes/127.0.0.1/node0", f->dir);
    snprintf(f->accounts_dir, sizeof(f->accounts_dir), "%s/nodes/accounts", f->dir);
    assert_int_equal(chdir(f->node_dir), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ecdsa_keygen(f->keys[i]), 0);
        assert_int_equal(ecdsa_address_from_seckey(f->keys[i], f->addrs[i]), 0);
    }
    /* Fund three keys of our own (build-chain's are random). */
    FILE *fp = fopen("config.genesis", "a");
    assert_non_null(fp);
    fputs("\n[alloc]\n", fp);
    for (int i = 0; i < 3; i++) {
        char hex[41];
        hex_encode(f->addrs[i], 20, hex);
        fprintf(fp, "0x%s = 1000000000000000000000\n", hex);
    }
    fclose(fp);
    log_set_level(LOG_WARN);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->node)
        stop_node(f);
    assert_int_equal(chdir("/"), 0);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static cJSON *call(struct fixture *f, const char *method, const char *params_json)
{
    struct rpc_client c;
    assert_int_equal(rpc_client_init(&c, f->url, 10000), 0);
    cJSON *params = cJSON_Parse(params_json);
    assert_non_null(params);
    cJSON *result = NULL;
    int rc = rpc_client_call(&c, method, params, &result);
    cJSON_Delete(params);
    if (rc != TC_OK)
        fail_msg("%s failed: %s", method, c.err);
    return result;
}

static uint64_t quantity(const cJSON *v)
{
    assert_true(cJSON_IsString(v));
    return strtoull(v->valuestring, NULL, 16);
}

/* Signs a transfer of `value` wei from key i and returns its raw hex. */
static void signed_transfer(struct fixture *f, int from, uint64_t nonce, const uint8_t to[20],
                            uint64_t value, char *hex_out, size_t cap, uint8_t hash[32])
{
    struct tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = TX_DYNAMIC_FEE;
    tx.chain_id = f->cfg.genesis.chain_id;
    tx.nonce = nonce;
    tx.gas_limit = 21000;
    tx.has_to = true;
    memcpy(tx.to, to, 20);
    tx.value = u256_from_u64(value);
    assert_int_equal(tx_sign(&tx, f->keys[from]), 0);
    struct bytes raw;
    bytes_init(&raw);
    assert_int_equal(tx_encode(&tx, &raw), 0);
    assert_true(2 * raw.len + 3 <= cap);
    hex_out[0] = '0';
    hex_out[1] = 'x';
    hex_encode(raw.ptr, raw.len, hex_out + 2);
    struct tx decoded;
    assert_int_equal(tx_decode(bytes_as_view(&raw), &decoded, NULL), 0);
    tx_hash(&decoded, hash);
    bytes_free(&raw);
}

static cJSON *wait_receipt(struct fixture *f, const uint8_t hash[32])
{
    char params[80] = "[\"0x";
    hex_encode(hash, 32, params + 4);
    strcat(params, "\"]");
    uint64_t deadline = clock_monotonic_ms() + WAIT_MS;
    while (clock_monotonic_ms() < deadline) {
        cJSON *r = call(f, "eth_getTransactionReceipt", params);
        if (!cJSON_IsNull(r))
            return r;
        cJSON_Delete(r);
        clock_sleep_ms(20);
    }
    fail_msg("no receipt within %u ms", WAIT_MS);
    return NULL;
}

static uint64_t balance_of(struct fixture *f, const uint8_t addr[20])
{
    char params[80] = "[\"0x";
    hex_encode(addr, 20, params + 4);
    strcat(params, "\", \"latest\"]");
    cJSON *r = call(f, "eth_getBalance", params);
    /* Balances here stay below 2^64 wei only for the recipients we create. */
    uint64_t v = quantity(r);
    cJSON_Delete(r);
    return v;
}

static void send_raw(struct fixture *f, const char *hex)
{
    char *params = malloc(strlen(hex) + 8);
    assert_non_null(params);
    sprintf(params, "[\"%s\"]", hex);
    cJSON_Delete(call(f, "eth_sendRawTransaction", params));
    free(params);
}

static void test_seal_rule(void **state)
{
    (void)state;
    uint64_t wait = 1000;
    assert_false(node_seal_due(0, 10, 5000, 0, 100, &wait));
    assert_int_equal(wait, 1000);
    assert_true(node_seal_due(10, 10, 5000, 4990, 100, &wait));
    assert_true(node_seal_due(1, 10, 5100, 5000, 100, &wait));
    assert_false(node_seal_due(1, 10, 5040, 5000, 100, &wait));
    assert_int_equal(wait, 60);
    assert_false(node_seal_due(9, 10, 5099, 5000, 100, &wait));
    assert_int_equal(wait, 1);
}

static void test_raft_id_is_never_none(void **state)
{
    (void)state;
    uint8_t id[64];
    memset(id, 0x11, sizeof(id));
    uint64_t a = node_raft_id(id);
    assert_true(a != 0);
    id[63] ^= 1;
    assert_true(node_raft_id(id) != a);
}

/* Transfers are mined with receipts; a restart keeps every block, receipt and
 * balance, and the node goes on mining. */
static void test_transfers_mined_and_kept_across_restart(void **state)
{
    struct fixture *f = *state;
    char err[512];
    assert_int_equal(start_node(f, err, sizeof(err)), 0);

    enum { N = 20 };
    uint8_t hashes[N][32];
    uint8_t to[N][20];
    uint64_t values[N];
    char hex[1024];
    for (int i = 0; i < N; i++) {
        for (int b = 0; b < 20; b++)
            to[i][b] = (uint8_t)rng_next(&f->rng);
        values[i] = 1 + rng_next(&f->rng) % 1000000;
        signed_transfer(f, i % 3, (uint64_t)(i / 3), to[i], values[i], hex, sizeof(hex), hashes[i]);
        send_raw(f, hex);
    }
    uint64_t blocks[N];
    for (int i = 0; i < N; i++) {
        cJSON *r = wait_receipt(f, hashes[i]);
        assert_int_equal(quantity(cJSON_GetObjectItem(r, "status")), 1);
        assert_int_equal(quantity(cJSON_GetObjectItem(r, "gasUsed")), 21000);
        blocks[i] = quantity(cJSON_GetObjectItem(r, "blockNumber"));
        assert_true(blocks[i] >= 1);
        cJSON_Delete(r);
        assert_int_equal(balance_of(f, to[i]), values[i]);
    }
    cJSON *head = call(f, "eth_getBlockByNumber", "[\"latest\", false]");
    char head_hash[67], head_root[67];
    snprintf(head_hash, sizeof(head_hash), "%s", cJSON_GetObjectItem(head, "hash")->valuestring);
    snprintf(head_root, sizeof(head_root), "%s",
             cJSON_GetObjectItem(head, "stateRoot")->valuestring);
    uint64_t head_number = quantity(cJSON_GetObjectItem(head, "number"));
    cJSON_Delete(head);
    /* No empty block: every block from 1 to the head holds a transaction. */
    for (uint64_t b = 1; b <= head_number; b++) {
        char params[64];
        snprintf(params, sizeof(params), "[\"0x%llx\"]", (unsigned long long)b);
        cJSON *c = call(f, "eth_getBlockTransactionCountByNumber", params);
        assert_true(quantity(c) >= 1);
        cJSON_Delete(c);
    }

    stop_node(f);
    assert_int_equal(start_node(f, err, sizeof(err)), 0);
    head = call(f, "eth_getBlockByNumber", "[\"latest\", false]");
    assert_string_equal(cJSON_GetObjectItem(head, "hash")->valuestring, head_hash);
    assert_string_equal(cJSON_GetObjectItem(head, "stateRoot")->valuestring, head_root);
    cJSON_Delete(head);
    for (int i = 0; i < N; i++) {
        cJSON *r = wait_receipt(f, hashes[i]);
        assert_int_equal(quantity(cJSON_GetObjectItem(r, "blockNumber")), blocks[i]);
        cJSON_Delete(r);
        assert_int_equal(balance_of(f, to[i]), values[i]);
    }
    /* Still mining: the next nonce of sender 0 after N/3 + 1 transfers. */
    uint8_t hash[32];
    signed_transfer(f, 0, (N + 2) / 3, to[0], 5, hex, sizeof(hex), hash);
    send_raw(f, hex);
    cJSON *r = wait_receipt(f, hash);
    assert_true(quantity(cJSON_GetObjectItem(r, "blockNumber")) > head_number);
    cJSON_Delete(r);
    assert_int_equal(balance_of(f, to[0]), values[0] + 5);
}

/* The node applies the committed tail of its Raft log before it answers any
 * request: a ledger one block behind the log (as after a crash between the
 * log's sync and the ledger's batch) is caught up inside node_open. */
static void test_log_ahead_of_ledger_is_applied_before_serving(void **state)
{
    struct fixture *f = *state;
    char err[512], hex[1024];
    uint8_t to[20], hash[32];
    memset(to, 0x77, sizeof(to));
    assert_int_equal(start_node(f, err, sizeof(err)), 0);
    signed_transfer(f, 0, 0, to, 11, hex, sizeof(hex), hash);
    send_raw(f, hex);
    cJSON_Delete(wait_receipt(f, hash));
    stop_node(f);
    /* The ledger as it is after block 1. */
    assert_int_equal(system("cp -a data/ledger ledger-at-1"), 0);
    assert_int_equal(start_node(f, err, sizeof(err)), 0);
    signed_transfer(f, 0, 1, to, 22, hex, sizeof(hex), hash);
    send_raw(f, hex);
    cJSON *r = wait_receipt(f, hash);
    uint64_t block = quantity(cJSON_GetObjectItem(r, "blockNumber"));
    cJSON_Delete(r);
    stop_node(f);
    assert_int_equal(system("rm -rf data/ledger && mv ledger-at-1 data/ledger"), 0);

    assert_int_equal(start_node(f, err, sizeof(err)), 0);
    /* No waiting: the very first answers already include the replayed block. */
    cJSON *n = call(f, "eth_blockNumber", "[]");
    assert_int_equal(quantity(n), block);
    cJSON_Delete(n);
    assert_int_equal(balance_of(f, to), 33);
    char params[80] = "[\"0x";
    hex_encode(f->addrs[0], 20, params + 4);
    strcat(params, "\", \"pending\"]");
    cJSON *nonce = call(f, "eth_getTransactionCount", params);
    assert_int_equal(quantity(nonce), 2);
    cJSON_Delete(nonce);
}

static void small_blocks(struct node_config *cfg)
{
    cfg->genesis.block_tx_count_limit = 4;
    cfg->genesis.min_seal_time_ms = 50;
}

/* Blocks never hold more than block_tx_count_limit transactions. */
static void test_blocks_respect_tx_count_limit(void **state)
{
    struct fixture *f = *state;
    char err[512];
    assert_int_equal(start_node_tweaked(f, small_blocks, err, sizeof(err)), 0);
    assert_int_equal(f->cfg.genesis.block_tx_count_limit, 4);
    enum { N = 15 };
    uint8_t hashes[N][32];
    uint8_t to[20];
    memset(to, 0xab, sizeof(to));
    char hex[1024];
    for (int i = 0; i < N; i++) {
        signed_transfer(f, 1, (uint64_t)i, to, 1, hex, sizeof(hex), hashes[i]);
        send_raw(f, hex);
    }
    uint64_t last_block = 0;
    uint64_t last_index = 0;
    for (int i = 0; i < N; i++) {
        cJSON *r = wait_receipt(f, hashes[i]);
        uint64_t b = quantity(cJSON_GetObjectItem(r, "blockNumber"));
        uint64_t idx = quantity(cJSON_GetObjectItem(r, "transactionIndex"));
        /* Nonce order across blocks and within each block. */
        assert_true(b > last_block || (b == last_block && idx == last_index + 1));
        last_block = b;
        last_index = idx;
        cJSON_Delete(r);
    }
    for (uint64_t b = 1; b <= last_block; b++) {
        char params[64];
        snprintf(params, sizeof(params), "[\"0x%llx\"]", (unsigned long long)b);
        cJSON *c = call(f, "eth_getBlockTransactionCountByNumber", params);
        uint64_t n = quantity(c);
        assert_true(n >= 1 && n <= 4);
        cJSON_Delete(c);
    }
    assert_true(last_block >= (N + 3) / 4);
    assert_int_equal(balance_of(f, to), N);
}

static void test_storage_key_file_forms(void **state)
{
    (void)state;
    uint8_t key[32];
    char err[256];
    FILE *fp = fopen("k1", "w");
    fputs("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", fp);
    fclose(fp);
    assert_int_equal(node_read_storage_key("k1", key, err, sizeof(err)), 0);
    assert_int_equal(key[31], 0xff);
    fp = fopen("k2", "w");
    fputs("0011", fp);
    fclose(fp);
    assert_int_equal(node_read_storage_key("k2", key, err, sizeof(err)), TC_EINVAL);
    assert_non_null(strstr(err, "k2"));
    assert_int_equal(node_read_storage_key("missing", key, err, sizeof(err)), TC_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seal_rule),
        cmocka_unit_test(test_raft_id_is_never_none),
        cmocka_unit_test_setup_teardown(test_transfers_mined_and_kept_across_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_blocks_respect_tx_count_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_ahead_of_ledger_is_applied_before_serving, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_storage_key_file_forms, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
