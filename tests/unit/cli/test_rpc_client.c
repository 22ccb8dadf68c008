/*
 * test_rpc_client.c - the CLI's JSON-RPC client and `send`, against a tiny
 * HTTP server run in a thread on 127.0.0.1 (ephemeral port). Each test sets
 * the server's behaviour; the server answers one request per connection.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
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
#include "cli/cli_send.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/rpc_client.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"

enum mode {
    MODE_RESULT,    /* {"result": "0x2a"} */
    MODE_RPC_ERROR, /* JSON-RPC error -32000 */
    MODE_HTTP_500,
    MODE_HUGE,    /* a 256 KiB body */
    MODE_HANG,    /* never answer; wait for the client to go away */
    MODE_CHUNKED, /* the answer in chunked transfer encoding */
    MODE_NOT_JSON,
    MODE_CHAIN, /* a small Ethereum node for `send`, `tx`, `status` */
};

struct server {
    int fd;
    uint16_t port;
    pthread_t thread;
    enum mode mode;
    pthread_mutex_t lock;
    /* MODE_CHAIN state */
    char raw_tx[4096];     /* hex of the last eth_sendRawTransaction */
    char sender[43];       /* expected eth_getTransactionCount address */
    int receipt_polls;     /* eth_getTransactionReceipt calls so far */
    int requests;          /* requests served */
    bool bad_count_params; /* eth_getTransactionCount had unexpected params */
};

static struct server srv;

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

static void reply(int fd, int status, const char *body)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, strlen(body));
    send_all(fd, head, (size_t)n);
    send_all(fd, body, strlen(body));
}

/* Reads one request; returns its body (malloc'ed) or NULL. */
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

static cJSON *chain_result(const cJSON *req)
{
    const char *method = cJSON_GetObjectItem(req, "method")->valuestring;
    const cJSON *params = cJSON_GetObjectItem(req, "params");
    if (strcmp(method, "eth_chainId") == 0)
        return cJSON_CreateString("0x4ee8"); /* 20200 */
    if (strcmp(method, "eth_gasPrice") == 0)
        return cJSON_CreateString("0x0");
    if (strcmp(method, "eth_blockNumber") == 0)
        return cJSON_CreateString("0x10");
    if (strcmp(method, "net_peerCount") == 0)
        return cJSON_CreateString("0x3");
    if (strcmp(method, "eth_getTransactionCount") == 0) {
        const cJSON *addr = cJSON_GetArrayItem(params, 0);
        const cJSON *tag = cJSON_GetArrayItem(params, 1);
        if (!cJSON_IsString(addr) || strcasecmp(addr->valuestring, srv.sender) != 0 ||
            !cJSON_IsString(tag) || strcmp(tag->valuestring, "pending") != 0)
            srv.bad_count_params = true;
        return cJSON_CreateString("0x7");
    }
    if (strcmp(method, "eth_sendRawTransaction") == 0) {
        const cJSON *raw = cJSON_GetArrayItem(params, 0);
        struct bytes b;
        uint8_t hash[32];
        char hex[67] = "0x";
        snprintf(srv.raw_tx, sizeof(srv.raw_tx), "%s", raw->valuestring);
        bytes_init(&b);
        if (hex_decode_alloc(raw->valuestring, false, &b) != TC_OK)
            return NULL;
        keccak256(b.ptr, b.len, hash);
        bytes_free(&b);
        hex_encode(hash, 32, hex + 2);
        return cJSON_CreateString(hex);
    }
    if (strcmp(method, "eth_getTransactionReceipt") == 0) {
        /* Not mined at the first poll, mined at the second. */
        if (srv.receipt_polls++ == 0)
            return cJSON_CreateNull();
        cJSON *r = cJSON_CreateObject();
        cJSON_AddItemToObject(r, "transactionHash",
                              cJSON_Duplicate(cJSON_GetArrayItem(params, 0), 1));
        cJSON_AddStringToObject(r, "status", "0x1");
        cJSON_AddStringToObject(r, "blockNumber", "0x5");
        cJSON_AddStringToObject(r, "gasUsed", "0x5208");
        cJSON_AddItemToObject(r, "logs", cJSON_CreateArray());
        return r;
    }
    if (strcmp(method, "eth_getTransactionByHash") == 0) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddItemToObject(t, "hash", cJSON_Duplicate(cJSON_GetArrayItem(params, 0), 1));
        cJSON_AddStringToObject(t, "from", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
        cJSON_AddStringToObject(t, "value", "0xde0b6b3a7640000");
        cJSON_AddItemToObject(t, "blockNumber", cJSON_CreateNull());
        return t;
    }
    return NULL; /* method not found */
}

static void serve_chain(int fd, const char *body)
{
    cJSON *req = cJSON_Parse(body);
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddStringToObject(resp, "jsonrpc", "2.0");
    cJSON_AddItemToObject(resp, "id", cJSON_Duplicate(cJSON_GetObjectItem(req, "id"), 1));
    pthread_mutex_lock(&srv.lock);
    cJSON *result = chain_result(req);
    pthread_mutex_unlock(&srv.lock);
    if (result != NULL) {
        cJSON_AddItemToObject(resp, "result", result);
    } else {
        cJSON *err = cJSON_CreateObject();
        cJSON_AddNumberToObject(err, "code", -32601);
        cJSON_AddStringToObject(err, "message", "the method does not exist");
        cJSON_AddItemToObject(resp, "error", err);
    }
    char *text = cJSON_PrintUnformatted(resp);
    reply(fd, 200, text);
    free(text);
    cJSON_Delete(resp);
    cJSON_Delete(req);
}

static void serve(int fd, const char *body)
{
    switch (srv.mode) {
    case MODE_RESULT:
        reply(fd, 200, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x2a\"}");
        break;
    case MODE_RPC_ERROR:
        reply(fd, 200,
              "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32000,\"message\":\"nonce too "
              "low\"}}");
        break;
    case MODE_HTTP_500:
        reply(fd, 500, "oops");
        break;
    case MODE_HUGE: {
        size_t n = 256 * 1024;
        char *big = malloc(n + 1);
        memset(big, ' ', n);
        big[n] = '\0';
        reply(fd, 200, big);
        free(big);
        break;
    }
    case MODE_HANG: {
        char c;
        while (recv(fd, &c, 1, 0) > 0)
            ;
        break;
    }
    case MODE_CHUNKED: {
        const char *msg = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "11\r\n{\"jsonrpc\":\"2.0\",\r\n"
                          "1b\r\n\"id\":1,\"result\":[1,2,3]}   \r\n"
                          "0\r\n\r\n";
        send_all(fd, msg, strlen(msg));
        break;
    }
    case MODE_NOT_JSON:
        reply(fd, 200, "<html>hello</html>");
        break;
    case MODE_CHAIN:
        serve_chain(fd, body);
        break;
    }
}

static void *server_main(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(srv.fd, NULL, NULL);
        if (c < 0)
            return NULL; /* listening socket shut down */
        char *body = read_request(c);
        if (body != NULL) {
            serve(c, body);
            pthread_mutex_lock(&srv.lock);
            srv.requests++;
            pthread_mutex_unlock(&srv.lock);
        }
        free(body);
        close(c);
    }
}

static int start_server(void **state)
{
    (void)state;
    struct sockaddr_in addr = { .sin_family = AF_INET };
    socklen_t len = sizeof(addr);
    memset(&srv, 0, sizeof(srv));
    pthread_mutex_init(&srv.lock, NULL);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (srv.fd < 0 || bind(srv.fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(srv.fd, 16) != 0 || getsockname(srv.fd, (struct sockaddr *)&addr, &len) != 0)
        return -1;
    srv.port = ntohs(addr.sin_port);
    return pthread_create(&srv.thread, NULL, server_main, NULL) == 0 ? 0 : -1;
}

static int stop_server(void **state)
{
    (void)state;
    shutdown(srv.fd, SHUT_RDWR);
    pthread_join(srv.thread, NULL);
    close(srv.fd);
    pthread_mutex_destroy(&srv.lock);
    return 0;
}

static void set_mode(enum mode m)
{
    pthread_mutex_lock(&srv.lock);
    srv.mode = m;
    srv.receipt_polls = 0;
    srv.raw_tx[0] = '\0';
    srv.bad_count_params = false;
    pthread_mutex_unlock(&srv.lock);
}

static void client(struct rpc_client *c, uint32_t timeout_ms)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)srv.port);
    assert_int_equal(rpc_client_init(c, url, timeout_ms), TC_OK);
}

static void test_call_returns_result(void **state)
{
    (void)state;
    struct rpc_client c;
    cJSON *result = NULL;
    set_mode(MODE_RESULT);
    client(&c, 5000);
    assert_int_equal(rpc_client_call(&c, "eth_blockNumber", NULL, &result), TC_OK);
    assert_true(cJSON_IsString(result));
    assert_string_equal(result->valuestring, "0x2a");
    cJSON_Delete(result);
}

static void test_chunked_response_is_reassembled(void **state)
{
    (void)state;
    struct rpc_client c;
    cJSON *result = NULL;
    set_mode(MODE_CHUNKED);
    client(&c, 5000);
    assert_int_equal(rpc_client_call(&c, "x", NULL, &result), TC_OK);
    assert_true(cJSON_IsArray(result));
    assert_int_equal(cJSON_GetArraySize(result), 3);
    cJSON_Delete(result);
}

static void test_json_rpc_error_gives_code_and_message(void **state)
{
    (void)state;
    struct rpc_client c;
    cJSON *result = NULL;
    set_mode(MODE_RPC_ERROR);
    client(&c, 5000);
    assert_int_equal(rpc_client_call(&c, "eth_sendRawTransaction", NULL, &result), TC_EPERM);
    assert_null(result);
    assert_true(c.has_rpc_error);
    assert_int_equal(c.rpc_error_code, -32000);
    assert_non_null(strstr(c.err, "-32000"));
    assert_non_null(strstr(c.err, "nonce too low"));
}

static void test_http_error_status_is_reported(void **state)
{
    (void)state;
    struct rpc_client c;
    cJSON *result = NULL;
    set_mode(MODE_HTTP_500);
    client(&c, 5000);
    assert_int_equal(rpc_client_call(&c, "eth_blockNumber", NULL, &result), TC_EIO);
    assert_non_null(strstr(c.err, "HTTP status 500"));
    assert_false(c.has_rpc_error);
}

static void test_oversized_response_is_refused(void **state)
{
    (void)state;
    struct rpc_client c;
    cJSON *result = NULL;
    set_mode(MODE_HUGE);
    client(&c, 5000);
    c.max_response_bytes = 4096;
    assert_int_equal(rpc_client_call(&c, "eth_blockNumber", NULL, &result), TC_ETOOBIG);
    assert_null(result);
}

static void test_non_json_answer_is_corrupt(void **state)
{
    (void)state;
    struct rpc_client c;
    cJSON *result = NULL;
    set_mode(MODE_NOT_JSON);
    client(&c, 5000);
    assert_int_equal(rpc_client_call(&c, "eth_blockNumber", NULL, &result), TC_ECORRUPT);
}

static void test_silent_server_times_out(void **state)
{
    (void)state;
    struct rpc_client c;
    cJSON *result = NULL;
    set_mode(MODE_HANG);
    client(&c, 200);
    assert_int_equal(rpc_client_call(&c, "eth_blockNumber", NULL, &result), TC_ETIMEOUT);
    assert_null(result);
}

static void test_connection_refused_names_the_url(void **state)
{
    (void)state;
    struct sockaddr_in addr = { .sin_family = AF_INET };
    socklen_t len = sizeof(addr);
    struct rpc_client c;
    cJSON *result = NULL;
    char url[64], expect[128];
    /* A port that was just bound and released, with nothing listening. */
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)ntohs(addr.sin_port));
    assert_int_equal(rpc_client_init(&c, url, 2000), TC_OK);
    assert_int_equal(rpc_client_call(&c, "eth_blockNumber", NULL, &result), TC_EIO);
    snprintf(expect, sizeof(expect), "cannot connect to %s: Connection refused", url);
    assert_string_equal(c.err, expect);
}

static void test_bad_urls_are_rejected(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "https://127.0.0.1:20200", "127.0.0.1:20200", "http://",         "http://host:0",
        "http://host:99999",       "http://[::1",     "http://host:12ab"
    };
    struct rpc_client c;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(rpc_client_init(&c, bad[i], 1000), TC_EINVAL);
    assert_int_equal(rpc_client_init(&c, "http://[::1]:8545/rpc", 1000), TC_OK);
    assert_string_equal(c.host, "::1");
    assert_string_equal(c.port, "8545");
    assert_string_equal(c.path, "/rpc");
}

/* The fixed test sender and recipient. */
static void sender_key(uint8_t key[32], uint8_t address[20])
{
    for (size_t i = 0; i < 32; i++)
        key[i] = (uint8_t)(0x40 + i);
    assert_int_equal(ecdsa_address_from_seckey(key, address), TC_OK);
    pthread_mutex_lock(&srv.lock);
    srv.sender[0] = '0';
    srv.sender[1] = 'x';
    hex_encode(address, 20, srv.sender + 2);
    pthread_mutex_unlock(&srv.lock);
}

static const uint8_t recipient[20] = { 0xde, 0xad, 0xbe, 0xef, 1,  2,  3,  4,  5,  6,
                                       7,    8,    9,    10,   11, 12, 13, 14, 15, 16 };

/* Decodes what the server received and checks it against the flow. */
static void check_submitted(enum tx_type type, const uint8_t sender[20], u256 value)
{
    struct bytes raw;
    struct tx tx;
    uint8_t from[20];
    const char *reason = NULL;
    struct tx_rules rules = { .chain_id = 20200, .allow_unprotected = false };
    bytes_init(&raw);
    pthread_mutex_lock(&srv.lock);
    assert_int_equal(hex_decode_alloc(srv.raw_tx, false, &raw), TC_OK);
    assert_false(srv.bad_count_params);
    pthread_mutex_unlock(&srv.lock);
    assert_int_equal(tx_decode(bytes_as_view(&raw), &tx, &reason), TC_OK);
    assert_int_equal(tx.type, type);
    assert_int_equal(tx.chain_id, 20200);
    assert_int_equal(tx.nonce, 7);
    assert_true(tx.has_to);
    assert_memory_equal(tx.to, recipient, 20);
    assert_true(u256_eq(tx.value, value));
    assert_int_equal(tx.gas_limit, CLI_SEND_DEFAULT_GAS);
    assert_int_equal(tx_validate(&tx, &rules, from, &reason), TC_OK);
    assert_memory_equal(from, sender, 20);
    bytes_free(&raw);
}

static void test_send_signs_submits_and_waits_for_receipt(void **state)
{
    (void)state;
    struct cli_send_opts o;
    struct cli_send_result r;
    uint8_t sender[20];
    char url[64], err[512] = "";
    uint64_t v = 0;
    set_mode(MODE_CHAIN);
    memset(&o, 0, sizeof(o));
    sender_key(o.seckey, sender);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)srv.port);
    o.rpc_url = url;
    memcpy(o.to, recipient, 20);
    o.value = u256_from_u64(12345);
    o.wait_s = 10;
    o.poll_ms = 10;
    if (cli_send(&o, &r, err, sizeof(err)) != TC_OK)
        fail_msg("cli_send: %s", err);
    assert_true(r.submitted);
    assert_non_null(r.receipt);
    assert_int_equal(cli_json_u64(cJSON_GetObjectItem(r.receipt, "blockNumber"), &v), TC_OK);
    assert_int_equal(v, 5);
    assert_int_equal(srv.receipt_polls, 2);
    check_submitted(TX_DYNAMIC_FEE, sender, o.value);
    /* The hash reported is keccak256 of what was sent. */
    struct bytes raw;
    uint8_t hash[32];
    bytes_init(&raw);
    assert_int_equal(hex_decode_alloc(srv.raw_tx, false, &raw), TC_OK);
    keccak256(raw.ptr, raw.len, hash);
    assert_memory_equal(hash, r.hash, 32);
    bytes_free(&raw);
    cli_send_result_free(&r);
}

static void test_send_legacy_uses_eip155(void **state)
{
    (void)state;
    struct cli_send_opts o;
    struct cli_send_result r;
    uint8_t sender[20];
    char url[64], err[512] = "";
    set_mode(MODE_CHAIN);
    memset(&o, 0, sizeof(o));
    sender_key(o.seckey, sender);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)srv.port);
    o.rpc_url = url;
    memcpy(o.to, recipient, 20);
    o.value = u256_from_u64(1);
    o.legacy = true;
    o.wait_s = 0;
    if (cli_send(&o, &r, err, sizeof(err)) != TC_OK)
        fail_msg("cli_send: %s", err);
    assert_true(r.submitted);
    assert_null(r.receipt);
    assert_int_equal(srv.receipt_polls, 0);
    check_submitted(TX_LEGACY, sender, o.value);
    cli_send_result_free(&r);
}

static void test_send_reports_rpc_failure(void **state)
{
    (void)state;
    struct cli_send_opts o;
    struct cli_send_result r;
    uint8_t sender[20];
    char url[64], err[512] = "";
    set_mode(MODE_RPC_ERROR);
    memset(&o, 0, sizeof(o));
    sender_key(o.seckey, sender);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)srv.port);
    o.rpc_url = url;
    assert_int_equal(cli_send(&o, &r, err, sizeof(err)), TC_EPERM);
    assert_false(r.submitted);
    assert_non_null(strstr(err, "eth_chainId"));
    cli_send_result_free(&r);
}

static void test_send_command_reads_key_file_and_units(void **state)
{
    (void)state;
    char dir[] = "/tmp/tc_cli_send_XXXXXX";
    char key_path[128], url[64], to[CLI_ADDRESS_STR_LEN], err[256], cmd[128];
    uint8_t key[32], sender[20];
    u256 value;
    assert_non_null(mkdtemp(dir));
    set_mode(MODE_CHAIN);
    sender_key(key, sender);
    snprintf(key_path, sizeof(key_path), "%s/sender.key", dir);
    assert_int_equal(cli_write_key_file(key_path, key, err, sizeof(err)), TC_OK);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)srv.port);
    cli_address_checksum(recipient, to);
    char *argv[] = { "teechain", "send",  "--to", to,         "--value", "1.5ether", "--key",
                     key_path,   "--rpc", url,    "--wait-s", "10",      NULL };
    assert_int_equal(cli_main(12, argv), 0);
    assert_int_equal(cli_parse_value("1.5ether", &value), TC_OK);
    check_submitted(TX_DYNAMIC_FEE, sender, value);
    /* A wrong EIP-55 checksum in --to is a usage error; nothing is sent. */
    set_mode(MODE_CHAIN);
    to[2] = (char)(to[2] ^ 0x20); /* the first digit is 'd' or 'D': a letter */
    assert_int_equal(cli_main(12, argv), 2);
    assert_string_equal(srv.raw_tx, "");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_status_tolerates_missing_fisco_methods(void **state)
{
    (void)state;
    char url[64];
    set_mode(MODE_CHAIN);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)srv.port);
    char *argv[] = { "teechain", "status", "--rpc", url, NULL };
    assert_int_equal(cli_main(4, argv), 0);
    char *json[] = { "teechain", "status", "--json", "--rpc", url, NULL };
    assert_int_equal(cli_main(5, json), 0);
    /* A real JSON-RPC error (not "method not found") fails the command. */
    set_mode(MODE_RPC_ERROR);
    assert_int_equal(cli_main(4, argv), 1);
}

static void test_lookup_commands_validate_and_print(void **state)
{
    (void)state;
    char url[64];
    const char *hash = "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    set_mode(MODE_CHAIN);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)srv.port);
    char *tx[] = { "teechain", "tx", (char *)hash, "--rpc", url, NULL };
    assert_int_equal(cli_main(5, tx), 0);
    char *bad[] = { "teechain", "tx", "0x1234", "--rpc", url, NULL };
    assert_int_equal(cli_main(5, bad), 2);
    /* The fake node answers the first receipt query with null, which --json
     * prints as it is; the second query finds the receipt. */
    char *receipt[] = { "teechain", "receipt", (char *)hash, "--rpc", url, "--json", NULL };
    assert_int_equal(cli_main(6, receipt), 0);
    char *human[] = { "teechain", "receipt", (char *)hash, "--rpc", url, NULL };
    assert_int_equal(cli_main(5, human), 0);
    char *block[] = { "teechain", "block", "latest", "--rpc", url, NULL };
    assert_int_equal(cli_main(5, block), 1); /* the fake node has no eth_getBlockByNumber */
    char *refused[] = { "teechain", "status", "--rpc", "http://127.0.0.1:1", NULL };
    assert_int_equal(cli_main(4, refused), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_returns_result),
        cmocka_unit_test(test_chunked_response_is_reassembled),
        cmocka_unit_test(test_json_rpc_error_gives_code_and_message),
        cmocka_unit_test(test_http_error_status_is_reported),
        cmocka_unit_test(test_oversized_response_is_refused),
        cmocka_unit_test(test_non_json_answer_is_corrupt),
        cmocka_unit_test(test_silent_server_times_out),
        cmocka_unit_test(test_connection_refused_names_the_url),
        cmocka_unit_test(test_bad_urls_are_rejected),
        cmocka_unit_test(test_send_signs_submits_and_waits_for_receipt),
        cmocka_unit_test(test_send_legacy_uses_eip155),
        cmocka_unit_test(test_send_reports_rpc_failure),
        cmocka_unit_test(test_send_command_reads_key_file_and_units),
        cmocka_unit_test(test_status_tolerates_missing_fisco_methods),
        cmocka_unit_test(test_lookup_commands_validate_and_print),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
