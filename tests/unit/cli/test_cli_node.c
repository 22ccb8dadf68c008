/*
 * test_cli_node.c - `teechain node` through cli_main: usage errors (exit 2,
 * nothing sent), and add/promote/remove/list against a small fake node on
 * 127.0.0.1 (ephemeral port) that runs the real executor and consensus
 * system contract on an in-memory state: eth_estimateGas is exec_call (a
 * refusal is geth's code 3 with the revert data), eth_sendRawTransaction is
 * exec_apply, getSealerList/getObserverList read the contract's membership.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "base/bytes.h"
#include "base/error.h"
#include "chain/tx.h"
#include "cli/cli_node.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli_run.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"
#include "exec/exec.h"
#include "exec/syscontract.h"
#include "net/node_cert.h"
#include "state/state.h"

struct fake_node {
    int fd;
    uint16_t port;
    pthread_t thread;
    pthread_mutex_t lock;
    struct genesis_config g;
    struct state *s;
    struct exec *ex;
    int sent;            /* eth_sendRawTransaction calls */
    bool last_status;    /* of the last applied transaction */
    uint64_t last_block; /* its block number */
};

static struct fake_node node;
static char url[64];
static char pem_path[160];   /* the genesis sealer's node.pem */
static char other_path[160]; /* a hex key file of a non-member */
static char tmp_dir[] = "/tmp/tc_cli_node_XXXXXX";
static char sealer_hex[2 * NODE_ID_BYTES + 1];
static char new_hex[2 * NODE_ID_BYTES + 1]; /* the node the tests add */

/* ---- the fake node -------------------------------------------------------- */

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

static char *read_request(int fd)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end == NULL)
            continue;
        char *cl = strcasestr(buf, "Content-Length:");
        size_t body_len = cl != NULL ? strtoul(cl + 15, NULL, 10) : 0;
        size_t have = len - (size_t)(end + 4 - buf);
        if (have >= body_len) {
            memmove(buf, end + 4, body_len);
            buf[body_len] = '\0';
            return buf;
        }
    }
    free(buf);
    return NULL;
}

static cJSON *hex_string(const uint8_t *data, size_t len)
{
    char *hex = malloc(2 * len + 3);
    hex[0] = '0';
    hex[1] = 'x';
    hex_encode(data, len, hex + 2);
    cJSON *s = cJSON_CreateString(hex);
    free(hex);
    return s;
}

static cJSON *quantity(uint64_t v)
{
    char q[32];
    snprintf(q, sizeof(q), "0x%llx", (unsigned long long)v);
    return cJSON_CreateString(q);
}

static cJSON *estimate(const cJSON *params, cJSON **error)
{
    const cJSON *obj = cJSON_GetArrayItem(params, 0);
    const cJSON *from = cJSON_GetObjectItem(obj, "from");
    const cJSON *to = cJSON_GetObjectItem(obj, "to");
    const cJSON *data = cJSON_GetObjectItem(obj, "data");
    struct tx tx;
    uint8_t sender[20];
    struct bytes d;
    bytes_init(&d);
    memset(&tx, 0, sizeof(tx));
    assert_int_equal(cli_parse_address(from->valuestring, sender), TC_OK);
    assert_int_equal(cli_parse_address(to->valuestring, tx.to), TC_OK);
    assert_int_equal(hex_decode_alloc(data->valuestring, false, &d), TC_OK);
    tx.has_to = true;
    tx.gas_limit = 1000000;
    tx.data = bytes_as_view(&d);
    struct exec_call_result r;
    assert_int_equal(exec_call(node.ex, &tx, sender, &r), 0);
    assert_null(r.drop_reason);
    cJSON *result = NULL;
    if (r.evm_status == EVM_SUCCESS) {
        result = quantity(r.gas_used);
    } else {
        *error = cJSON_CreateObject();
        cJSON_AddNumberToObject(*error, "code", 3);
        cJSON_AddStringToObject(*error, "message", "execution reverted");
        cJSON_AddItemToObject(*error, "data", hex_string(r.output, r.output_len));
    }
    bytes_free(&d);
    return result;
}

static cJSON *send_raw(const cJSON *params)
{
    const cJSON *raw = cJSON_GetArrayItem(params, 0);
    struct bytes b;
    struct tx tx;
    uint8_t sender[20], hash[32];
    const char *reason = NULL;
    bytes_init(&b);
    assert_int_equal(hex_decode_alloc(raw->valuestring, false, &b), TC_OK);
    assert_int_equal(tx_decode(bytes_as_view(&b), &tx, &reason), TC_OK);
    assert_int_equal(tx_sender(&tx, sender, &reason), TC_OK);
    struct exec_tx_result r;
    assert_int_equal(exec_apply(node.ex, &tx, sender, &r), 0);
    assert_true(r.included);
    node.sent++;
    node.last_status = r.receipt.status;
    node.last_block++;
    tx_hash(&tx, hash);
    bytes_free(&b);
    return hex_string(hash, 32);
}

static cJSON *member_list(enum consensus_role role)
{
    struct consensus_members genesis, m;
    syscontract_members_genesis(&node.g, &genesis);
    assert_int_equal(syscontract_members_of_state(node.s, &genesis, &m), 0);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < m.count; i++) {
        if (m.members[i].role != role)
            continue;
        char hex[2 * NODE_ID_BYTES + 1];
        hex_encode(m.members[i].id, NODE_ID_BYTES, hex);
        if (role == CONSENSUS_OBSERVER) {
            cJSON_AddItemToArray(arr, cJSON_CreateString(hex));
            continue;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "nodeID", hex);
        cJSON_AddNumberToObject(o, "weight", m.members[i].weight);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static cJSON *answer(const cJSON *req, cJSON **error)
{
    const char *method = cJSON_GetObjectItem(req, "method")->valuestring;
    const cJSON *params = cJSON_GetObjectItem(req, "params");
    if (strcmp(method, "eth_chainId") == 0)
        return cJSON_CreateString("0x4ee8");
    if (strcmp(method, "eth_gasPrice") == 0)
        return cJSON_CreateString("0x0");
    if (strcmp(method, "eth_getTransactionCount") == 0) {
        uint8_t addr[20];
        assert_int_equal(cli_parse_address(cJSON_GetArrayItem(params, 0)->valuestring, addr),
                         TC_OK);
        return quantity(state_nonce(node.s, addr));
    }
    if (strcmp(method, "eth_estimateGas") == 0)
        return estimate(params, error);
    if (strcmp(method, "eth_sendRawTransaction") == 0)
        return send_raw(params);
    if (strcmp(method, "eth_getTransactionReceipt") == 0) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddItemToObject(r, "transactionHash",
                              cJSON_Duplicate(cJSON_GetArrayItem(params, 0), 1));
        cJSON_AddStringToObject(r, "status", node.last_status ? "0x1" : "0x0");
        cJSON_AddItemToObject(r, "blockNumber", quantity(node.last_block));
        return r;
    }
    if (strcmp(method, "getSealerList") == 0)
        return member_list(CONSENSUS_SEALER);
    if (strcmp(method, "getObserverList") == 0)
        return member_list(CONSENSUS_OBSERVER);
    return NULL;
}

static void serve(int fd, const char *body)
{
    cJSON *req = cJSON_Parse(body);
    cJSON *resp = cJSON_CreateObject();
    cJSON *error = NULL;
    cJSON_AddStringToObject(resp, "jsonrpc", "2.0");
    cJSON_AddItemToObject(resp, "id", cJSON_Duplicate(cJSON_GetObjectItem(req, "id"), 1));
    pthread_mutex_lock(&node.lock);
    cJSON *result = answer(req, &error);
    pthread_mutex_unlock(&node.lock);
    if (result != NULL) {
        cJSON_AddItemToObject(resp, "result", result);
    } else if (error != NULL) {
        cJSON_AddItemToObject(resp, "error", error);
    } else {
        error = cJSON_CreateObject();
        cJSON_AddNumberToObject(error, "code", -32601);
        cJSON_AddStringToObject(error, "message", "the method does not exist");
        cJSON_AddItemToObject(resp, "error", error);
    }
    char *text = cJSON_PrintUnformatted(resp);
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     strlen(text));
    send_all(fd, head, (size_t)n);
    send_all(fd, text, strlen(text));
    free(text);
    cJSON_Delete(resp);
    cJSON_Delete(req);
}

static void *node_main(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(node.fd, NULL, NULL);
        if (c < 0)
            return NULL; /* listening socket shut down */
        char *body = read_request(c);
        if (body != NULL)
            serve(c, body);
        free(body);
        close(c);
    }
}

/* A fresh chain state: the sealer of pem_path alone, nothing stored. */
static void chain_reset(void)
{
    struct state_reader empty;
    struct exec_block_env env;
    pthread_mutex_lock(&node.lock);
    exec_free(node.ex);
    state_free(node.s);
    state_reader_empty(&empty);
    assert_int_equal(state_new(&empty, &node.s), 0);
    struct exec_rules rules = { .kind = EXEC_RULES_CHAIN, .tx_gas_limit = 0 };
    assert_int_equal(exec_new(&rules, &node.ex), 0);
    syscontract_exec_set_genesis(node.ex, &node.g);
    memset(&env, 0, sizeof(env));
    env.number = 1;
    env.gas_limit = 30000000;
    env.chain_id = u256_from_u64(20200);
    assert_int_equal(exec_begin(node.ex, node.s, &env), 0);
    node.sent = 0;
    node.last_block = 0;
    pthread_mutex_unlock(&node.lock);
}

static int write_text(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    struct sockaddr_in addr = { .sin_family = AF_INET };
    socklen_t len = sizeof(addr);
    uint8_t key[32], other[32], id[NODE_ID_BYTES];
    char err[256];
    struct bytes pem;
    memset(&node, 0, sizeof(node));
    pthread_mutex_init(&node.lock, NULL);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    node.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (node.fd < 0 || bind(node.fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(node.fd, 16) != 0 || getsockname(node.fd, (struct sockaddr *)&addr, &len) != 0)
        return -1;
    node.port = ntohs(addr.sin_port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)node.port);
    if (mkdtemp(tmp_dir) == NULL)
        return -1;
    /* Fixed keys: the genesis sealer's (as node.pem) and a stranger's. */
    memset(key, 0, sizeof(key));
    key[31] = 5;
    memset(other, 0, sizeof(other));
    other[31] = 6;
    if (ecdsa_pubkey(key, id) != TC_OK)
        return -1;
    hex_encode(id, NODE_ID_BYTES, sealer_hex);
    memset(new_hex, 'a', 2 * NODE_ID_BYTES);
    new_hex[2 * NODE_ID_BYTES] = '\0';
    node.g.chain_id = 20200;
    node.g.sealer_count = 1;
    memcpy(node.g.sealers[0].id, id, NODE_ID_BYTES);
    node.g.sealers[0].weight = 1;
    bytes_init(&pem);
    snprintf(pem_path, sizeof(pem_path), "%s/node.pem", tmp_dir);
    snprintf(other_path, sizeof(other_path), "%s/other.key", tmp_dir);
    if (node_key_to_pem(key, &pem) != TC_OK || write_text(pem_path, pem.ptr, pem.len) != 0 ||
        cli_write_key_file(other_path, other, err, sizeof(err)) != TC_OK)
        return -1;
    bytes_free(&pem);
    chain_reset();
    return pthread_create(&node.thread, NULL, node_main, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    shutdown(node.fd, SHUT_RDWR);
    pthread_join(node.thread, NULL);
    close(node.fd);
    exec_free(node.ex);
    state_free(node.s);
    pthread_mutex_destroy(&node.lock);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- running the CLI ------------------------------------------------------- */

/* Runs `teechain ARGS...` (NULL-terminated) with the output captured. */
#define run_cli(r, ...) cli_run_capture((r), tmp_dir, __VA_ARGS__)

static void expect_usage(struct cli_run *r, const char *fragment)
{
    if (r->status != 2 || strstr(r->err, fragment) == NULL)
        fail_msg("expected usage error '%s', got status %d, stderr: %s", fragment, r->status,
                 r->err);
    assert_int_equal(node.sent, 0);
}

static void expect_ok(struct cli_run *r)
{
    if (r->status != 0)
        fail_msg("expected success, got status %d, stderr: %s", r->status, r->err);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_node_usage_errors_send_nothing(void **state)
{
    (void)state;
    struct cli_run r;
    chain_reset();
    run_cli(&r, "node", NULL);
    expect_usage(&r, "missing action");
    run_cli(&r, "node", "join", NULL);
    expect_usage(&r, "unknown action: join");
    run_cli(&r, "node", "add", "--rpc", url, NULL);
    expect_usage(&r, "add needs a NODEID");
    run_cli(&r, "node", "add", "abcd", "--rpc", url, NULL);
    expect_usage(&r, "not a node ID");
    run_cli(&r, "node", "add", new_hex, "--weight", "2", "--rpc", url, NULL);
    expect_usage(&r, "--weight applies to promote only");
    run_cli(&r, "node", "promote", new_hex, "--weight", "0", NULL);
    expect_usage(&r, "--weight: expected 1..4294967295");
    run_cli(&r, "node", "promote", new_hex, "--weight", "4294967296", NULL);
    expect_usage(&r, "--weight: expected 1..4294967295");
    run_cli(&r, "node", "list", new_hex, NULL);
    expect_usage(&r, "unexpected argument");
    run_cli(&r, "node", "list", "--bogus", NULL);
    expect_usage(&r, "bad option");
    run_cli(&r, "node", "--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "teechain node add NODEID"));
}

static void test_parse_fills_defaults_and_accepts_prefixed_ids(void **state)
{
    (void)state;
    struct cli_node_args a;
    int status = -1;
    char id[2 * NODE_ID_BYTES + 3] = "0x";
    memcpy(id + 2, new_hex, sizeof(new_hex));
    char *argv[] = { "node", "promote", id, NULL };
    assert_int_equal(cli_node_parse(3, argv, &a, &status), 0);
    assert_int_equal(a.action, CLI_NODE_PROMOTE);
    assert_int_equal(a.weight, 1);
    assert_string_equal(a.key_file, CLI_NODE_DEFAULT_KEY);
    for (size_t i = 0; i < NODE_ID_BYTES; i++)
        assert_int_equal(a.node_id[i], 0xaa);
    /* The call data is the ABI encoding of addSealer(string, uint256). */
    struct bytes d;
    uint8_t sel[32];
    bytes_init(&d);
    assert_int_equal(cli_node_call_data(&a, &d), TC_OK);
    keccak256("addSealer(string,uint256)", 25, sel);
    assert_int_equal(d.len, 4 + 32 * 3 + 128);
    assert_memory_equal(d.ptr, sel, 4);
    assert_int_equal(d.ptr[4 + 31], 64);
    assert_int_equal(d.ptr[4 + 63], 1);
    assert_int_equal(d.ptr[4 + 95], 128);
    assert_memory_equal(d.ptr + 4 + 96, new_hex, 128);
    bytes_free(&d);
}

static void test_add_promote_remove_change_the_membership(void **state)
{
    (void)state;
    struct cli_run r;
    chain_reset();
    run_cli(&r, "node", "add", new_hex, "--key", pem_path, "--rpc", url, NULL);
    expect_ok(&r);
    assert_non_null(strstr(r.out, "success (1)"));
    assert_int_equal(node.sent, 1);
    run_cli(&r, "node", "list", "--rpc", url, NULL);
    expect_ok(&r);
    assert_non_null(strstr(r.out, "sealers (1)"));
    assert_non_null(strstr(r.out, "observers (1)"));
    assert_non_null(strstr(r.out, new_hex));

    run_cli(&r, "node", "promote", new_hex, "--weight", "3", "--key", pem_path, "--rpc", url, NULL);
    expect_ok(&r);
    run_cli(&r, "node", "list", "--rpc", url, "--json", NULL);
    expect_ok(&r);
    cJSON *j = cJSON_Parse(r.out);
    assert_non_null(j);
    const cJSON *sealers = cJSON_GetObjectItem(j, "sealers");
    assert_int_equal(cJSON_GetArraySize(sealers), 2);
    const cJSON *s1 = cJSON_GetArrayItem(sealers, 1);
    assert_string_equal(cJSON_GetObjectItem(s1, "nodeID")->valuestring, new_hex);
    assert_int_equal(cJSON_GetObjectItem(s1, "weight")->valueint, 3);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "observers")), 0);
    cJSON_Delete(j);

    run_cli(&r, "node", "remove", sealer_hex, "--key", pem_path, "--rpc", url, NULL);
    expect_ok(&r);
    run_cli(&r, "node", "list", "--rpc", url, NULL);
    expect_ok(&r);
    assert_non_null(strstr(r.out, "sealers (1)"));
    assert_null(strstr(r.out, sealer_hex));
    assert_int_equal(node.sent, 3);
}

static void test_refused_change_prints_the_reason_and_sends_nothing(void **state)
{
    (void)state;
    struct cli_run r;
    chain_reset();
    run_cli(&r, "node", "add", sealer_hex, "--key", pem_path, "--rpc", url, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "refused: node is already a member"));
    run_cli(&r, "node", "promote", new_hex, "--key", pem_path, "--rpc", url, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "refused: add the node as an observer first"));
    run_cli(&r, "node", "remove", sealer_hex, "--key", pem_path, "--rpc", url, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "refused: cannot remove the last sealer"));
    /* A hex account key that is not a sealer's. */
    run_cli(&r, "node", "add", new_hex, "--key", other_path, "--rpc", url, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "refused: only a sealer may change the consensus membership"));
    assert_int_equal(node.sent, 0);
}

static void test_missing_key_and_unreachable_node_fail_cleanly(void **state)
{
    (void)state;
    struct cli_run r;
    char missing[200];
    chain_reset();
    snprintf(missing, sizeof(missing), "%s/none.pem", tmp_dir);
    run_cli(&r, "node", "add", new_hex, "--key", missing, "--rpc", url, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "none.pem"));
    run_cli(&r, "node", "list", "--rpc", "http://127.0.0.1:1", "--timeout-ms", "2000", NULL);
    assert_int_equal(r.status, 1);
    assert_int_equal(node.sent, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_usage_errors_send_nothing),
        cmocka_unit_test(test_parse_fills_defaults_and_accepts_prefixed_ids),
        cmocka_unit_test(test_add_promote_remove_change_the_membership),
        cmocka_unit_test(test_refused_change_prints_the_reason_and_sends_nothing),
        cmocka_unit_test(test_missing_key_and_unreachable_node_fail_cleanly),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
