/*
 * test_bad_input.c - integration.node.bad_input: a real teechaind answers bad
 * input over HTTP with the exact JSON-RPC error (code and message) and keeps
 * serving: malformed JSON, wrong request shapes, unknown methods, wrong
 * parameter types and counts, bad hex and quantities, a 100 MB body, 10,000
 * concurrent connections, and every txpool refusal reachable over RPC. At
 * the end the node still answers and mines a transfer.
 *
 * The raw-socket HTTP helpers come from tests/unit/rpc/rpc_test_util.h. The
 * seed (printed; TC_SEED replays it) picks values and the keys of unfunded
 * senders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "base/error.h"
#include "base/rng.h"
#include "harness.h"
#include "node/config.h"
#include "rpc/rpc_test_util.h"

#define ACCOUNTS           4
#define BODY_100MB         (100u * 1024 * 1024)
#define WANTED_CONNECTIONS 10000
#define RECEIPT_WAIT_MS    15000
#define RPC_SERVER_ERROR   (-32000)
#define MAX_TX_BYTES       (128u * 1024)

/* secp256k1 group order n. */
static const uint8_t SECP256K1_N[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

static struct itest_chain *node;
static struct rng rng;

static int setup_node(void **state)
{
    rng_seed(&rng, itest_seed("bad_input"));
    node = itest_chain_new("bad-input", ITEST_PORT_BAD_INPUT, ACCOUNTS);
    itest_node_start_ready(node);
    return 0;
}

static int teardown_node(void **state)
{
    itest_chain_free(node);
    node = NULL;
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

/* POSTs body to c; asserts HTTP 200 and a JSON answer, which the caller frees. */
static cJSON *post_to(const struct itest_chain *c, const char *body)
{
    int status = 0;
    cJSON *resp = rpc_post(c->rpc_port, body, &status);
    if (status != 200 || !resp)
        fail_msg("POST %.200s: HTTP %d, %s", body, status, resp ? "JSON" : "no JSON body");
    return resp;
}

static cJSON *post(const char *body)
{
    return post_to(node, body);
}

/* Asserts that resp is an error object with code; returns its message. */
static const char *error_of(const cJSON *resp, int code)
{
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(resp, "error");
    if (!cJSON_IsObject(error)) {
        char *text = cJSON_PrintUnformatted(resp);
        fail_msg("expected error %d, got %s", code, text);
    }
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(error, "code")->valueint, code);
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(error, "message");
    assert_true(cJSON_IsString(message));
    assert_true(message->valuestring[0] != '\0');
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(resp, "jsonrpc")->valuestring, "2.0");
    return message->valuestring;
}

/* POSTs body and asserts a single error with code and exactly message. */
static void expect_error(const char *body, int code, const char *message)
{
    cJSON *resp = post(body);
    const char *got = error_of(resp, code);
    if (strcmp(got, message) != 0)
        fail_msg("POST %.200s: message \"%s\", expected \"%s\"", body, got, message);
    cJSON_Delete(resp);
}

/* One call of method with params (JSON text); asserts -32602 and a message
 * that starts with prefix. */
static void expect_invalid_params(const char *method, const char *params, const char *prefix)
{
    char body[1024];
    snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"%s\",\"params\":%s}",
             method, params);
    cJSON *resp = post(body);
    const char *got = error_of(resp, -32602);
    if (strncmp(got, prefix, strlen(prefix)) != 0)
        fail_msg("%s %s: message \"%s\", expected it to start with \"%s\"", method, params, got,
                 prefix);
    printf("  %s %s -> -32602 \"%s\"\n", method, params, got);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(resp, "id")->valueint, 3);
    cJSON_Delete(resp);
}

/* The node answers eth_blockNumber; returns the head. */
static uint64_t assert_node_serves(void)
{
    assert_true(itest_node_alive(node));
    return itest_block_number(node);
}

/* eth_sendRawTransaction(raw) to c; the answer, which the caller frees. */
static cJSON *send_raw(const struct itest_chain *c, const char *raw)
{
    size_t len = strlen(raw) + 96;
    char *body = malloc(len);
    assert_non_null(body);
    snprintf(
        body, len,
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"eth_sendRawTransaction\",\"params\":[\"%s\"]}",
        raw);
    cJSON *resp = post_to(c, body);
    free(body);
    return resp;
}

/* Sends raw and asserts -32000 with exactly message. */
static void expect_refused(const struct itest_chain *c, const char *raw, const char *message,
                           const char *what)
{
    cJSON *resp = send_raw(c, raw);
    const char *got = error_of(resp, RPC_SERVER_ERROR);
    if (strcmp(got, message) != 0)
        fail_msg("%s: message \"%s\", expected \"%s\"", what, got, message);
    printf("  %s -> -32000 \"%s\"\n", what, got);
    cJSON_Delete(resp);
}

/* Sends raw and asserts it was admitted with hash. */
static void expect_admitted(const struct itest_chain *c, const char *raw, const char *hash)
{
    cJSON *resp = send_raw(c, raw);
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(resp, "result");
    if (!cJSON_IsString(result)) {
        char *text = cJSON_PrintUnformatted(resp);
        fail_msg("transaction %s was not admitted: %s", hash, text);
    }
    assert_string_equal(result->valuestring, hash);
    cJSON_Delete(resp);
}

static uint64_t pending_nonce(const struct itest_chain *c, size_t account)
{
    char params[96];
    snprintf(params, sizeof(params), "[\"%s\",\"pending\"]", c->accounts[account].hex);
    cJSON *r = itest_call(c, "eth_getTransactionCount", params);
    uint64_t n = itest_json_u64(r);
    cJSON_Delete(r);
    return n;
}

/* A signed transfer of account `from` to a random address. */
static char *transfer(const struct itest_chain *c, size_t from, uint64_t nonce, u256 value,
                      char hash[67])
{
    struct itest_transfer t = {
        .chain_id = ITEST_CHAIN_ID, .nonce = nonce, .value = value, .gas_limit = 21000
    };
    rng_fill(&rng, t.to, 20);
    return itest_sign_transfer(&t, c->accounts[from].key, hash);
}

/* A hand-built type-2 transfer of account `from`, signed, for tampering. */
static void signed_tx(size_t from, uint64_t nonce, struct tx *tx)
{
    memset(tx, 0, sizeof(*tx));
    tx->type = TX_DYNAMIC_FEE;
    tx->chain_id = ITEST_CHAIN_ID;
    tx->nonce = nonce;
    tx->gas_limit = 21000;
    tx->has_to = true;
    rng_fill(&rng, tx->to, 20);
    tx->value = u256_from_u64(rng_range(&rng, 1, 1000));
    assert_int_equal(tx_sign(tx, node->accounts[from].key), TC_OK);
}

static void mine_transfer(const struct itest_chain *c, size_t from)
{
    char hash[67];
    char *raw = transfer(c, from, pending_nonce(c, from), u256_from_u64(7), hash);
    expect_admitted(c, raw, hash);
    free(raw);
    cJSON *receipt = itest_wait_receipt(c, hash, RECEIPT_WAIT_MS);
    if (!receipt)
        fail_msg("transfer %s got no receipt within %d ms", hash, RECEIPT_WAIT_MS);
    assert_int_equal(itest_json_u64(cJSON_GetObjectItemCaseSensitive(receipt, "status")), 1);
    cJSON_Delete(receipt);
}

/* ---- JSON and JSON-RPC shapes ------------------------------------------- */

static void test_malformed_json_gets_parse_error_with_null_id(void **state)
{
    const char *bodies[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":",
        "not json at all",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\"} trailing",
        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\"},",
        "",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        cJSON *resp = post(bodies[i]);
        assert_string_equal(error_of(resp, -32700), "parse error");
        assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(resp, "id")));
        cJSON_Delete(resp);
    }
    assert_node_serves();
}

static void test_wrong_request_shapes_get_invalid_request(void **state)
{
    expect_error("1", -32600, "invalid request: not a JSON object");
    expect_error("\"eth_blockNumber\"", -32600, "invalid request: not a JSON object");
    expect_error("{\"id\":1,\"method\":\"eth_blockNumber\"}", -32600,
                 "invalid request: jsonrpc must be \"2.0\"");
    expect_error("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"eth_blockNumber\"}", -32600,
                 "invalid request: jsonrpc must be \"2.0\"");
    expect_error("{\"jsonrpc\":2.0,\"id\":1,\"method\":\"eth_blockNumber\"}", -32600,
                 "invalid request: jsonrpc must be \"2.0\"");
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"eth_blockNumber\"}", -32600,
                 "invalid request: id must be a string, number or null");
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"eth_blockNumber\"}", -32600,
                 "invalid request: id must be a string, number or null");
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"eth_blockNumber\"}", -32600,
                 "invalid request: id must be a string, number or null");
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":1}", -32600,
                 "invalid request: method must be a string");
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", -32600,
                 "invalid request: method must be a string");
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\",\"params\":5}",
                 -32600, "invalid request: params must be an array, an object or null");
    expect_error("[]", -32600, "empty batch");

    /* In a batch, each bad member gets its own error, in order. */
    cJSON *resp = post("[1,{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"eth_chainId\"},"
                       "{\"jsonrpc\":\"1.0\",\"id\":3,\"method\":\"eth_chainId\"}]");
    assert_true(cJSON_IsArray(resp));
    assert_int_equal(cJSON_GetArraySize(resp), 3);
    assert_string_equal(error_of(cJSON_GetArrayItem(resp, 0), -32600),
                        "invalid request: not a JSON object");
    const cJSON *ok = cJSON_GetArrayItem(resp, 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(ok, "id")->valueint, 2);
    assert_string_equal(itest_json_str(ok, "result"), "0x4ee8");
    assert_string_equal(error_of(cJSON_GetArrayItem(resp, 2), -32600),
                        "invalid request: jsonrpc must be \"2.0\"");
    cJSON_Delete(resp);
    assert_node_serves();
}

static void test_unknown_method_gets_method_not_found(void **state)
{
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_noSuchMethod\",\"params\":[]}",
                 -32601, "the method eth_noSuchMethod does not exist/is not available");
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"\"}", -32601,
                 "the method  does not exist/is not available");
    assert_node_serves();
}

static void test_wrong_parameter_types_and_counts_get_invalid_params(void **state)
{
    char two[160];
    snprintf(two, sizeof(two), "[\"%s\",\"latest\",1]", node->accounts[0].hex);
    expect_invalid_params("eth_getBalance", "[]", "missing value for required argument 0");
    expect_invalid_params("eth_getBalance", two, "too many arguments, want at most 2");
    expect_invalid_params("eth_blockNumber", "[1]", "too many arguments, want at most 0");
    expect_invalid_params("eth_getBalance", "[123,\"latest\"]", "invalid argument 0: ");
    expect_invalid_params("eth_getBalance", "[null,\"latest\"]", "invalid argument 0: ");
    expect_invalid_params("eth_getBlockByNumber", "[\"0x0\",\"yes\"]", "invalid argument 1: ");
    expect_invalid_params("eth_getBlockByNumber", "[{\"x\":1},false]", "invalid argument 0: ");
    expect_invalid_params("eth_getTransactionReceipt", "[42]", "invalid argument 0: ");
    expect_invalid_params("eth_sendRawTransaction", "[[\"0x00\"]]", "invalid argument 0: ");
    expect_invalid_params("eth_sendRawTransaction", "[]", "missing value for required argument 0");
    assert_node_serves();
}

static void test_bad_hex_and_quantities_get_invalid_params(void **state)
{
    /* Data: odd length, no prefix, bad digit; fixed sizes. */
    expect_invalid_params("eth_sendRawTransaction", "[\"0xabc\"]",
                          "invalid argument 0: hex string of odd length");
    expect_invalid_params("eth_sendRawTransaction", "[\"f86b80\"]",
                          "invalid argument 0: hex string without 0x prefix");
    expect_invalid_params("eth_sendRawTransaction", "[\"0xzz\"]", "invalid argument 0: ");
    expect_invalid_params("eth_getBalance", "[\"0xabc\",\"latest\"]", "invalid argument 0: ");
    expect_invalid_params("eth_getBalance",
                          "[\"1111111111111111111111111111111111111111\",\"latest\"]",
                          "invalid argument 0: ");
    expect_invalid_params("eth_getTransactionByHash", "[\"0x1234\"]", "invalid argument 0: ");
    /* Quantities: leading zeros, empty, no prefix, more than 64 bits. */
    expect_invalid_params("eth_getBlockByNumber", "[\"0x01\",false]", "invalid argument 0: ");
    expect_invalid_params("eth_getBlockByNumber", "[\"0x00\",false]", "invalid argument 0: ");
    expect_invalid_params("eth_getBlockByNumber", "[\"0x\",false]", "invalid argument 0: ");
    expect_invalid_params("eth_getBlockByNumber", "[\"1\",false]", "invalid argument 0: ");
    expect_invalid_params("eth_getBlockByNumber", "[\"0x10000000000000000\",false]",
                          "invalid argument 0: ");
    expect_invalid_params("eth_getBlockByNumber", "[\"0xg\",false]", "invalid argument 0: ");
    char balance_at[160];
    snprintf(balance_at, sizeof(balance_at), "[\"%s\",\"0x01\"]", node->accounts[0].hex);
    expect_invalid_params("eth_getBalance", balance_at, "invalid argument 1: ");
    /* Well-formed compact quantities still work. */
    cJSON *b = itest_call(node, "eth_getBlockByNumber", "[\"0x0\",false]");
    assert_true(cJSON_IsObject(b));
    cJSON_Delete(b);
    assert_node_serves();
}

/* ---- HTTP abuse --------------------------------------------------------- */

/* Sends head and then 100 MB of body in 64 KiB pieces (chunked or not);
 * returns the bytes of body sent before the server stopped reading. */
static size_t send_100mb(int fd, const char *head, bool chunked)
{
    enum { PIECE = 64 * 1024 };
    static char piece[PIECE];
    memset(piece, ' ', sizeof(piece));
    piece[0] = '[';
    if (!http_send_all(fd, head, strlen(head)))
        return 0;
    size_t sent = 0;
    while (sent < BODY_100MB) {
        bool ok;
        if (chunked) {
            char size_line[32];
            int n = snprintf(size_line, sizeof(size_line), "%x\r\n", PIECE);
            ok = http_send_all(fd, size_line, (size_t)n) && http_send_all(fd, piece, PIECE) &&
                 http_send_all(fd, "\r\n", 2);
        } else {
            ok = http_send_all(fd, piece, PIECE);
        }
        if (!ok)
            break;
        sent += PIECE;
    }
    return sent;
}

static void test_100mb_body_is_refused_with_413_and_node_keeps_serving(void **state)
{
    int fd = http_connect(node->rpc_port);
    assert_true(fd >= 0);
    char head[256];
    snprintf(head, sizeof(head),
             "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Content-Length: %u\r\n\r\n",
             BODY_100MB);
    size_t sent = send_100mb(fd, head, false);
    struct http_response r;
    bool answered = http_read_response(fd, &r);
    printf("  100 MB body (Content-Length): %zu bytes sent, %s %d\n", sent,
           answered ? "HTTP" : "no answer", answered ? r.status : 0);
    assert_true(answered);
    assert_int_equal(r.status, 413);
    http_response_free(&r);
    close(fd);
    assert_node_serves();

    /* Chunked: the limit trips once the chunks add up past it; 413 or, if we
     * were still sending, a closed connection. */
    fd = http_connect(node->rpc_port);
    assert_true(fd >= 0);
    sent = send_100mb(fd,
                      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n",
                      true);
    answered = http_read_response(fd, &r);
    printf("  100 MB body (chunked): %zu bytes sent, %s\n", sent,
           answered ? "answered" : "connection closed");
    assert_true(sent < BODY_100MB || answered);
    if (answered) {
        assert_int_equal(r.status, 413);
        http_response_free(&r);
    }
    close(fd);
    assert_node_serves();
}

static void test_http_paths_methods_and_content_types(void **state)
{
    struct http_response r;
    assert_true(http_exchange(node->rpc_port, "GET", "/health", NULL, NULL, &r));
    assert_int_equal(r.status, 200);
    cJSON *health = cJSON_Parse(r.body);
    assert_string_equal(itest_json_str(health, "status"), "ok");
    cJSON_Delete(health);
    http_response_free(&r);
    assert_true(http_exchange(node->rpc_port, "GET", "/metrics", NULL, NULL, &r));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "rpc_requests_total"));
    http_response_free(&r);
    assert_true(http_exchange(node->rpc_port, "POST", "/nowhere", "application/json", "{}", &r));
    assert_int_equal(r.status, 404);
    http_response_free(&r);
    assert_true(http_exchange(node->rpc_port, "PUT", "/", "application/json", "{}", &r));
    assert_int_equal(r.status, 405);
    http_response_free(&r);
    assert_true(http_exchange(node->rpc_port, "POST", "/", "text/plain",
                              "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}", &r));
    assert_int_equal(r.status, 415);
    http_response_free(&r);
    assert_node_serves();
}

static void raise_fd_limit(size_t wanted)
{
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    }
    if (rl.rlim_cur < wanted)
        fail_msg("RLIMIT_NOFILE hard limit %llu < %zu: cannot open the connections",
                 (unsigned long long)rl.rlim_max, wanted);
}

static void test_10000_concurrent_connections_and_the_node_keeps_serving(void **state)
{
    const size_t n = WANTED_CONNECTIONS;
    raise_fd_limit(n + 256);
    int *fds = malloc(n * sizeof(*fds));
    assert_non_null(fds);
    for (size_t i = 0; i < n; i++) {
        fds[i] = http_connect(node->rpc_port);
        if (fds[i] < 0)
            fail_msg("connection %zu of %zu failed: %s", i, n, strerror(errno));
    }
    /* All open and idle: a normal request on a new connection is served. */
    uint64_t head = assert_node_serves();

    char req[512];
    const char *body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}";
    int req_len = snprintf(req, sizeof(req),
                           "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
                           strlen(body), body);
    for (size_t i = 0; i < n; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        assert_int_equal(send(fds[i], req, (size_t)req_len, MSG_NOSIGNAL), req_len);
    }
    /* While the 10,000 are answered, another request is served too. */
    assert_true(assert_node_serves() >= head);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    assert_true(ep >= 0);
    for (size_t i = 0; i < n; i++) {
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };
        assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev), 0);
    }
    char **replies = calloc(n, sizeof(*replies));
    size_t *lens = calloc(n, sizeof(*lens));
    assert_non_null(replies);
    assert_non_null(lens);
    size_t done = 0;
    while (done < n) {
        struct epoll_event evs[256];
        int k = epoll_wait(ep, evs, 256, TEST_HTTP_IO_TIMEOUT_S * 1000);
        if (k <= 0)
            fail_msg("%zu of %zu connections answered, then nothing for %d s", done, n,
                     TEST_HTTP_IO_TIMEOUT_S);
        for (int j = 0; j < k; j++) {
            size_t i = evs[j].data.u64;
            char buf[1024];
            ssize_t got = recv(fds[i], buf, sizeof(buf), 0);
            if (got < 0 && errno == EAGAIN)
                continue;
            if (got <= 0) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
                close(fds[i]);
                done++;
                continue;
            }
            replies[i] = realloc(replies[i], lens[i] + (size_t)got + 1);
            assert_non_null(replies[i]);
            memcpy(replies[i] + lens[i], buf, (size_t)got);
            lens[i] += (size_t)got;
            replies[i][lens[i]] = '\0';
        }
    }
    close(ep);
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        if (replies[i] && strncmp(replies[i], "HTTP/1.1 200", 12) == 0 &&
            strstr(replies[i], "\"result\":\"0x4ee8\""))
            ok++;
        free(replies[i]);
    }
    free(replies);
    free(lens);
    free(fds);
    printf("  %zu concurrent connections, %zu answered correctly\n", n, ok);
    assert_int_equal(ok, n);
    assert_node_serves();
}

/* ---- txpool refusals ---------------------------------------------------- */

static void test_nonce_too_low(void **state)
{
    mine_transfer(node, 0);
    char hash[67];
    /* Nonce 0 again, another value: another transaction, an old nonce. */
    char *raw = transfer(node, 0, 0, u256_from_u64(rng_range(&rng, 100, 1000)), hash);
    expect_refused(node, raw, "nonce too low", "a mined nonce again");
    free(raw);
}

static void test_already_known(void **state)
{
    /* A future nonce stays in the pool, so the second copy meets the first. */
    char hash[67];
    char *raw = transfer(node, 1, pending_nonce(node, 1) + 5, u256_from_u64(1), hash);
    expect_admitted(node, raw, hash);
    expect_refused(node, raw, "already known", "the same transaction twice");
    free(raw);
}

static void test_insufficient_funds(void **state)
{
    /* An account that has nothing. */
    struct itest_transfer t = {
        .chain_id = ITEST_CHAIN_ID, .nonce = 0, .value = u256_from_u64(1), .gas_limit = 21000
    };
    uint8_t key[32];
    rng_fill(&rng, key, sizeof(key));
    key[0] = 0x01; /* below the group order */
    rng_fill(&rng, t.to, 20);
    char hash[67];
    char *raw = itest_sign_transfer(&t, key, hash);
    expect_refused(node, raw, "insufficient funds for gas * price + value",
                   "1 wei from an empty account");
    free(raw);
    /* A funded account sending more than it has (10^24 wei in the genesis). */
    u256 too_much;
    assert_int_equal(u256_from_dec("1000000000000000000000001", &too_much), TC_OK);
    raw = transfer(node, 2, pending_nonce(node, 2), too_much, hash);
    expect_refused(node, raw, "insufficient funds for gas * price + value",
                   "more than the genesis balance");
    free(raw);
}

static void test_invalid_chain_id(void **state)
{
    struct itest_transfer t = { .chain_id = 1,
                                .nonce = pending_nonce(node, 2),
                                .value = u256_from_u64(1),
                                .gas_limit = 21000 };
    rng_fill(&rng, t.to, 20);
    char hash[67];
    char *raw = itest_sign_transfer(&t, node->accounts[2].key, hash);
    expect_refused(node, raw, "invalid chain id", "type 2 with chain id 1");
    free(raw);
    t.legacy = true;
    t.chain_id = 20201;
    raw = itest_sign_transfer(&t, node->accounts[2].key, hash);
    expect_refused(node, raw, "invalid chain id", "legacy EIP-155 with chain id 20201");
    free(raw);
}

static void test_oversized_data(void **state)
{
    size_t len = MAX_TX_BYTES + 1;
    uint8_t *data = malloc(len);
    assert_non_null(data);
    memset(data, 0xab, len);
    struct itest_transfer t = { .chain_id = ITEST_CHAIN_ID,
                                .nonce = pending_nonce(node, 2),
                                .value = u256_from_u64(1),
                                .gas_limit = 21000 + 16 * (uint64_t)len,
                                .data = data,
                                .data_len = len };
    rng_fill(&rng, t.to, 20);
    char hash[67];
    char *raw = itest_sign_transfer(&t, node->accounts[2].key, hash);
    free(data);
    expect_refused(node, raw, "oversized data", "128 KiB + 1 of call data");
    free(raw);
}

static void test_invalid_sender(void **state)
{
    struct tx tx;
    char hash[67];
    /* High s: the same signature mirrored (s' = n - s) is not canonical. */
    signed_tx(2, pending_nonce(node, 2), &tx);
    uint8_t s2[32];
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = SECP256K1_N[i] - tx.s[i] - borrow;
        borrow = d < 0;
        s2[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
    memcpy(tx.s, s2, 32);
    tx.y_parity ^= 1;
    char *raw = itest_tx_hex(&tx, hash);
    expect_refused(node, raw, "invalid sender", "signature with s > n/2");
    free(raw);
    /* r = 5 is no point's x coordinate on secp256k1: nothing recovers. */
    signed_tx(2, pending_nonce(node, 2), &tx);
    memset(tx.r, 0, 32);
    tx.r[31] = 5;
    raw = itest_tx_hex(&tx, hash);
    expect_refused(node, raw, "invalid sender", "signature whose r is not on the curve");
    free(raw);
}

static void test_intrinsic_gas_too_low(void **state)
{
    struct itest_transfer t = { .chain_id = ITEST_CHAIN_ID,
                                .nonce = pending_nonce(node, 2),
                                .value = u256_from_u64(1),
                                .gas_limit = 20999 };
    rng_fill(&rng, t.to, 20);
    char hash[67];
    char *raw = itest_sign_transfer(&t, node->accounts[2].key, hash);
    expect_refused(node, raw, "intrinsic gas too low", "gas limit 20999");
    free(raw);
}

static void test_transaction_type_not_supported(void **state)
{
    /* Type 3 (blob): a bare envelope, and a signed type-2 payload relabelled
     * as type 3; then type 5, which no fork defines. */
    expect_refused(node, "0x03c0", "transaction type not supported", "type 3, empty list");
    struct tx tx;
    char hash[67];
    signed_tx(2, pending_nonce(node, 2), &tx);
    char *raw = itest_tx_hex(&tx, hash);
    assert_true(raw[2] == '0' && raw[3] == '2');
    raw[3] = '3';
    expect_refused(node, raw, "transaction type not supported", "type 3 with a type-2 body");
    raw[3] = '5';
    expect_refused(node, raw, "transaction type not supported", "type 5 with a type-2 body");
    free(raw);
    expect_refused(node, "0x05c0", "transaction type not supported", "type 5, empty list");
}

static void test_exceeds_block_gas_limit(void **state)
{
    char ini[PATH_MAX + 16], genesis[PATH_MAX + 16], err[512];
    snprintf(ini, sizeof(ini), "%s/config.ini", node->node_dir);
    snprintf(genesis, sizeof(genesis), "%s/config.genesis", node->node_dir);
    struct node_config cfg;
    if (node_config_load(&cfg, ini, genesis, err, sizeof(err)) != TC_OK)
        fail_msg("%s", err);
    uint64_t block_gas_limit = cfg.genesis.block_gas_limit;
    node_config_free(&cfg);
    struct itest_transfer t = { .chain_id = ITEST_CHAIN_ID,
                                .nonce = pending_nonce(node, 2),
                                .value = u256_from_u64(1),
                                .gas_limit = block_gas_limit + 1 };
    rng_fill(&rng, t.to, 20);
    char hash[67];
    char *raw = itest_sign_transfer(&t, node->accounts[2].key, hash);
    expect_refused(node, raw, "exceeds block gas limit", "gas limit = block gas limit + 1");
    free(raw);
}

/* A second node whose pool holds 3 transactions: future nonces fill it (they
 * are never sealed), and the next one is refused. */
static void test_txpool_is_full_on_a_tiny_pool(void **state)
{
    struct itest_chain *tiny = itest_chain_new("tiny-pool", ITEST_PORT_TINY_POOL, 3);
    *state = tiny;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/config.ini", tiny->node_dir);
    char *ini = itest_read_file(path);
    assert_non_null(ini);
    assert_null(strstr(ini, "[txpool]"));
    size_t len = strlen(ini) + 128;
    char *edited = malloc(len);
    assert_non_null(edited);
    snprintf(edited, len, "%s\n[txpool]\nlimit = 3\nper_sender_limit = 3\n", ini);
    itest_write_file(path, edited);
    free(edited);
    free(ini);
    itest_node_start_ready(tiny);

    char hash[67];
    const struct {
        size_t from;
        uint64_t nonce;
    } fill[] = { { 0, 1 }, { 0, 2 }, { 1, 1 } };
    for (size_t i = 0; i < sizeof(fill) / sizeof(fill[0]); i++) {
        char *raw = transfer(tiny, fill[i].from, fill[i].nonce, u256_from_u64(1), hash);
        expect_admitted(tiny, raw, hash);
        free(raw);
    }
    char *raw = transfer(tiny, 2, 1, u256_from_u64(1), hash);
    expect_refused(tiny, raw, "txpool is full", "a 4th transaction in a pool of 3");
    free(raw);
    assert_true(itest_node_alive(tiny));
    assert_int_equal(itest_block_number(tiny), 0);
    int status = 0;
    assert_int_equal(itest_node_stop(tiny, ITEST_STOP_TIMEOUT_MS, &status), TC_OK);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    itest_assert_clean_log(tiny);
}

static int teardown_tiny(void **state)
{
    itest_chain_free(*state);
    *state = NULL;
    return 0;
}

/* ---- and after all that ------------------------------------------------- */

static void test_node_still_serves_and_mines_after_the_suite(void **state)
{
    assert_true(itest_node_alive(node));
    uint64_t head = itest_block_number(node);
    mine_transfer(node, 3);
    assert_true(itest_block_number(node) > head);
    int status = 0;
    assert_int_equal(itest_node_stop(node, ITEST_STOP_TIMEOUT_MS, &status), TC_OK);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    itest_assert_clean_log(node);
}

int main(int argc, char **argv)
{
    itest_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_json_gets_parse_error_with_null_id),
        cmocka_unit_test(test_wrong_request_shapes_get_invalid_request),
        cmocka_unit_test(test_unknown_method_gets_method_not_found),
        cmocka_unit_test(test_wrong_parameter_types_and_counts_get_invalid_params),
        cmocka_unit_test(test_bad_hex_and_quantities_get_invalid_params),
        cmocka_unit_test(test_http_paths_methods_and_content_types),
        cmocka_unit_test(test_100mb_body_is_refused_with_413_and_node_keeps_serving),
        cmocka_unit_test(test_10000_concurrent_connections_and_the_node_keeps_serving),
        cmocka_unit_test(test_nonce_too_low),
        cmocka_unit_test(test_already_known),
        cmocka_unit_test(test_insufficient_funds),
        cmocka_unit_test(test_invalid_chain_id),
        cmocka_unit_test(test_oversized_data),
        cmocka_unit_test(test_invalid_sender),
        cmocka_unit_test(test_intrinsic_gas_too_low),
        cmocka_unit_test(test_transaction_type_not_supported),
        cmocka_unit_test(test_exceeds_block_gas_limit),
        cmocka_unit_test_teardown(test_txpool_is_full_on_a_tiny_pool, teardown_tiny),
        cmocka_unit_test(test_node_still_serves_and_mines_after_the_suite),
    };
    return cmocka_run_group_tests(tests, setup_node, teardown_node);
}
