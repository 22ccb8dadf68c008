/*
 * test_cli_contract.c - `teechain deploy`, `teechain call` and the contract
 * form of `teechain send` through cli_main: usage errors (exit 2, nothing
 * sent), bytecode files, and the whole flow against a small fake Ethereum
 * node run in a thread on 127.0.0.1 (ephemeral port): the raw transaction it
 * receives is decoded with tx_decode and its data checked byte for byte; the
 * gas comes from eth_estimateGas; eth_call answers are decoded; reverts
 * print their reason and exit 1.
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
#include "cli/abi.h"
#include "cli/cli_contract.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli_run.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"

#define CONTRACT "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
#define ESTIMATE 0x1e240 /* what the fake node estimates: 123456 */

struct fake_node {
    int fd;
    uint16_t port;
    pthread_t thread;
    pthread_mutex_t lock;
    char raw_tx[16384];   /* hex of the last eth_sendRawTransaction */
    char call_data[4096]; /* data of the last eth_call / eth_estimateGas */
    char call_block[80];  /* block of the last eth_call */
    char call_from[64];   /* from of the last eth_call ("" if none) */
    int estimates;        /* eth_estimateGas calls */
    const char *status;   /* receipt status */
};

static struct fake_node node;
static char url[64];
static char key_path[128];
static char tmp_dir[] = "/tmp/tc_cli_contract_XXXXXX";

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

/* A 0x hex string of 4-byte selector + words, built from a signature. */
static char *encode_hex(const char *sig_text, int argc, const char *const *argv, bool selector)
{
    struct abi_signature sig;
    struct bytes out;
    char err[256];
    assert_int_equal(abi_signature_parse(sig_text, &sig, err, sizeof(err)), TC_OK);
    bytes_init(&out);
    int rc = selector ? abi_encode_call(&sig, argc, argv, &out, err, sizeof(err))
                      : abi_encode_args(sig.inputs, argc, argv, &out, err, sizeof(err));
    assert_int_equal(rc, TC_OK);
    char *hex = malloc(out.len * 2 + 3);
    hex[0] = '0';
    hex[1] = 'x';
    hex_encode(out.ptr, out.len, hex + 2);
    bytes_free(&out);
    abi_signature_free(&sig);
    return hex;
}

static cJSON *revert_error(const char *data_hex)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "code", 3);
    cJSON_AddStringToObject(e, "message", "execution reverted");
    cJSON_AddStringToObject(e, "data", data_hex);
    return e;
}

/* The answer to an eth_call or eth_estimateGas whose data starts with sel. */
static cJSON *answer_call(const char *data, bool estimate, cJSON **error)
{
    static const char nope[] = "nope()", boom[] = "boom()", empty[] = "empty()";
    char *sel_nope = encode_hex(nope, 0, NULL, true);
    char *sel_boom = encode_hex(boom, 0, NULL, true);
    char *sel_empty = encode_hex(empty, 0, NULL, true);
    cJSON *result = NULL;
    if (strncmp(data, sel_nope, 10) == 0) {
        const char *args[] = { "nope" };
        char *reason = encode_hex("Error(string)", 1, args, true);
        *error = revert_error(reason);
        free(reason);
    } else if (strncmp(data, sel_boom, 10) == 0) {
        const char *args[] = { "0x11" };
        char *panic = encode_hex("Panic(uint256)", 1, args, true);
        *error = revert_error(panic);
        free(panic);
    } else if (estimate) {
        char gas[32];
        snprintf(gas, sizeof(gas), "0x%x", ESTIMATE);
        result = cJSON_CreateString(gas);
    } else if (strncmp(data, sel_empty, 10) == 0) {
        result = cJSON_CreateString("0x");
    } else {
        /* anything else returns (42, "hi") */
        const char *args[] = { "42", "hi" };
        char *ret = encode_hex("r(uint256,string)", 2, args, false);
        result = cJSON_CreateString(ret);
        free(ret);
    }
    free(sel_nope);
    free(sel_boom);
    free(sel_empty);
    return result;
}

static cJSON *answer(const cJSON *req, cJSON **error)
{
    const char *method = cJSON_GetObjectItem(req, "method")->valuestring;
    const cJSON *params = cJSON_GetObjectItem(req, "params");
    if (strcmp(method, "eth_chainId") == 0)
        return cJSON_CreateString("0x4ee8");
    if (strcmp(method, "eth_gasPrice") == 0 || strcmp(method, "eth_getTransactionCount") == 0)
        return cJSON_CreateString("0x0");
    if (strcmp(method, "eth_call") == 0 || strcmp(method, "eth_estimateGas") == 0) {
        const cJSON *obj = cJSON_GetArrayItem(params, 0);
        const cJSON *data = cJSON_GetObjectItem(obj, "data");
        const cJSON *from = cJSON_GetObjectItem(obj, "from");
        const cJSON *block = cJSON_GetArrayItem(params, 1);
        bool estimate = strcmp(method, "eth_estimateGas") == 0;
        snprintf(node.call_data, sizeof(node.call_data), "%s",
                 cJSON_IsString(data) ? data->valuestring : "");
        snprintf(node.call_from, sizeof(node.call_from), "%s",
                 cJSON_IsString(from) ? from->valuestring : "");
        snprintf(node.call_block, sizeof(node.call_block), "%s",
                 cJSON_IsString(block) ? block->valuestring : "");
        if (estimate)
            node.estimates++;
        return answer_call(node.call_data, estimate, error);
    }
    if (strcmp(method, "eth_sendRawTransaction") == 0) {
        const cJSON *raw = cJSON_GetArrayItem(params, 0);
        struct bytes b;
        uint8_t hash[32];
        char hex[67] = "0x";
        snprintf(node.raw_tx, sizeof(node.raw_tx), "%s", raw->valuestring);
        if (hex_decode_alloc(raw->valuestring, false, &b) != TC_OK)
            return NULL;
        keccak256(b.ptr, b.len, hash);
        bytes_free(&b);
        hex_encode(hash, 32, hex + 2);
        return cJSON_CreateString(hex);
    }
    if (strcmp(method, "eth_getTransactionReceipt") == 0) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddItemToObject(r, "transactionHash",
                              cJSON_Duplicate(cJSON_GetArrayItem(params, 0), 1));
        cJSON_AddStringToObject(r, "status", node.status);
        cJSON_AddStringToObject(r, "blockNumber", "0x3");
        cJSON_AddStringToObject(r, "gasUsed", "0xa410");
        cJSON_AddStringToObject(r, "contractAddress", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
        cJSON_AddItemToObject(r, "logs", cJSON_CreateArray());
        return r;
    }
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

static int setup(void **state)
{
    (void)state;
    struct sockaddr_in addr = { .sin_family = AF_INET };
    socklen_t len = sizeof(addr);
    uint8_t key[32];
    char err[256];
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
    memset(key, 0, sizeof(key));
    key[31] = 7;
    snprintf(key_path, sizeof(key_path), "%s/sender.key", tmp_dir);
    if (cli_write_key_file(key_path, key, err, sizeof(err)) != TC_OK)
        return -1;
    return pthread_create(&node.thread, NULL, node_main, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    shutdown(node.fd, SHUT_RDWR);
    pthread_join(node.thread, NULL);
    close(node.fd);
    pthread_mutex_destroy(&node.lock);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void reset_node(const char *status)
{
    pthread_mutex_lock(&node.lock);
    node.raw_tx[0] = node.call_data[0] = node.call_block[0] = node.call_from[0] = '\0';
    node.estimates = 0;
    node.status = status;
    pthread_mutex_unlock(&node.lock);
}

/* ---- running the CLI ------------------------------------------------------- */

/* Runs `teechain ARGS...` (NULL-terminated) with the output captured. */
#define run_cli(r, ...) cli_run_capture((r), tmp_dir, __VA_ARGS__)

static void expect_usage(struct cli_run *r, const char *fragment)
{
    if (r->status != 2 || strstr(r->err, fragment) == NULL)
        fail_msg("expected usage error '%s', got status %d, stderr: %s", fragment, r->status,
                 r->err);
    assert_string_equal(node.raw_tx, "");
}

/* Decodes the last raw transaction the fake node received. */
static void last_tx(struct tx *tx, struct bytes *raw)
{
    const char *reason = NULL;
    bytes_init(raw);
    assert_int_equal(hex_decode_alloc(node.raw_tx, false, raw), TC_OK);
    assert_int_equal(tx_decode(bytes_as_view(raw), tx, &reason), TC_OK);
}

static char *write_file(const char *name, const char *text)
{
    static char path[200];
    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_call_usage_errors_send_nothing(void **state)
{
    (void)state;
    struct cli_run r;
    reset_node("0x1");
    run_cli(&r, "call", CONTRACT, NULL);
    expect_usage(&r, "expected ADDR 'sig(types)(return types)'");
    run_cli(&r, "call", "0x1234", "get()", "--rpc", url, NULL);
    expect_usage(&r, "contract address: not an address: 0x1234");
    run_cli(&r, "call", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "get()", NULL);
    expect_usage(&r, "EIP-55 checksum mismatch");
    run_cli(&r, "call", CONTRACT, "get(uint7)", "--rpc", url, NULL);
    expect_usage(&r, "bad signature: unknown type 'uint7'");
    run_cli(&r, "call", CONTRACT, "(uint256)", "1", NULL);
    expect_usage(&r, "needs a function name");
    run_cli(&r, "call", CONTRACT, "f(uint8)", "300", "--rpc", url, NULL);
    expect_usage(&r, "argument 1: 300 is out of range for uint8");
    run_cli(&r, "call", CONTRACT, "f(uint8,bool)", "1", NULL);
    expect_usage(&r, "expected 2 argument(s), got 1");
    run_cli(&r, "call", CONTRACT, "f()", "--block", "yesterday", NULL);
    expect_usage(&r, "--block: expected a tag or a number");
    run_cli(&r, "call", CONTRACT, "f()", "--from", "nobody", NULL);
    expect_usage(&r, "--from: not an address");
    assert_string_equal(node.call_data, "");
}

static void test_send_and_deploy_usage_errors_send_nothing(void **state)
{
    (void)state;
    struct cli_run r;
    reset_node("0x1");
    run_cli(&r, "send", "--key", key_path, "--rpc", url, NULL);
    expect_usage(&r, "--to ADDR (a transfer) or ADDR 'sig(types)' ARGS");
    run_cli(&r, "send", CONTRACT, "--key", key_path, NULL);
    expect_usage(&r, "expected a function signature after");
    run_cli(&r, "send", "--to", CONTRACT, CONTRACT, "set(uint256)", "1", "--key", key_path, NULL);
    expect_usage(&r, "a transfer takes no arguments");
    run_cli(&r, "send", CONTRACT, "set(uint256)", "1", NULL);
    expect_usage(&r, "give exactly one of --key FILE, --from-account ADDR");
    run_cli(&r, "send", CONTRACT, "set(uint256)", "-1", "--key", key_path, NULL);
    expect_usage(&r, "bad option or missing value: -1");
    run_cli(&r, "send", CONTRACT, "set(uint256)", "--key", key_path, "--", "-1", NULL);
    expect_usage(&r, "negative value '-1' for an unsigned type");
    run_cli(&r, "send", CONTRACT, "set(uint256)", "1", "--args", "constructor()", "--key", key_path,
            NULL);
    expect_usage(&r, "--args applies to deploy");
    run_cli(&r, "deploy", "--key", key_path, NULL);
    expect_usage(&r, "expected the bytecode file");
    run_cli(&r, "deploy", "x.bin", "7", "--key", key_path, NULL);
    expect_usage(&r, "constructor arguments need --args");
    run_cli(&r, "deploy", "x.bin", "--to", CONTRACT, "--key", key_path, NULL);
    expect_usage(&r, "--to does not apply to deploy");
    run_cli(&r, "deploy", "x.bin", "--args", "constructor(uint256)(bool)", "1", "--key", key_path,
            NULL);
    expect_usage(&r, "a constructor has no return types");
    char *bin = write_file("ok.bin", "6000\n");
    run_cli(&r, "deploy", bin, "--args", "constructor(uint256,bool)", "1", "--key", key_path,
            "--rpc", url, NULL);
    expect_usage(&r, "expected 2 argument(s), got 1");
    run_cli(&r, "deploy", bin, "--key", key_path, "--wait-s", "0", NULL);
    expect_usage(&r, "deploy waits for the receipt");
    run_cli(&r, "deploy", "--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "usage: teechain deploy FILE.bin"));
    run_cli(&r, "help", NULL);
    assert_non_null(strstr(r.out, "deploy"));
    assert_non_null(strstr(r.out, "call"));
}

static void test_bytecode_files_tolerate_whitespace_and_prefix(void **state)
{
    (void)state;
    struct bytes code;
    char err[256];
    bytes_init(&code);
    assert_int_equal(
        cli_read_bytecode(write_file("a.bin", "0x6080\n 6040\r\n52\n"), &code, err, sizeof(err)),
        TC_OK);
    assert_int_equal(code.len, 5);
    assert_memory_equal(code.ptr, "\x60\x80\x60\x40\x52", 5);
    bytes_free(&code);
    bytes_init(&code);
    assert_int_equal(cli_read_bytecode(write_file("b.bin", "60 8"), &code, err, sizeof(err)),
                     TC_EINVAL);
    assert_non_null(strstr(err, "odd number of hex digits"));
    assert_int_equal(cli_read_bytecode(write_file("c.bin", "6080zz"), &code, err, sizeof(err)),
                     TC_EINVAL);
    assert_non_null(strstr(err, "not a hex digit at digit 4"));
    assert_int_equal(cli_read_bytecode(write_file("d.bin", "73__$abc$__"), &code, err, sizeof(err)),
                     TC_EINVAL);
    assert_non_null(strstr(err, "unlinked library placeholder"));
    assert_int_equal(cli_read_bytecode(write_file("e.bin", " 0x \n"), &code, err, sizeof(err)),
                     TC_EINVAL);
    assert_non_null(strstr(err, "no bytecode"));
    assert_int_equal(cli_read_bytecode("/nonexistent/x.bin", &code, err, sizeof(err)), TC_EIO);
    assert_non_null(strstr(err, "cannot read /nonexistent/x.bin"));
    assert_int_equal(code.len, 0);
    bytes_free(&code);
    struct cli_run r;
    run_cli(&r, "deploy", "/nonexistent/x.bin", "--key", key_path, "--rpc", url, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "cannot read /nonexistent/x.bin"));
}

static void test_block_tags_and_numbers(void **state)
{
    (void)state;
    char out[U256_HEX_LEN];
    assert_int_equal(cli_parse_block_tag("latest", out), TC_OK);
    assert_string_equal(out, "latest");
    assert_int_equal(cli_parse_block_tag("finalized", out), TC_OK);
    assert_int_equal(cli_parse_block_tag("26", out), TC_OK);
    assert_string_equal(out, "0x1a");
    assert_int_equal(cli_parse_block_tag("0x1A", out), TC_OK);
    assert_string_equal(out, "0x1a");
    assert_int_equal(cli_parse_block_tag("Latest", out), TC_EINVAL);
    assert_int_equal(cli_parse_block_tag("-1", out), TC_EINVAL);
}

static void test_deploy_sends_code_and_constructor_args_and_prints_address(void **state)
{
    (void)state;
    struct cli_run r;
    struct tx tx;
    struct bytes raw;
    reset_node("0x1");
    char *bin = write_file("storage.bin", "0x60806040\n");
    run_cli(&r, "deploy", bin, "--args", "constructor(uint256,string)", "7", "seven", "--key",
            key_path, "--rpc", url, "--wait-s", "5", NULL);
    if (r.status != 0)
        fail_msg("deploy: %s", r.err);
    assert_non_null(strstr(r.out, "contract address   " CONTRACT));
    assert_non_null(strstr(r.out, "status             success (1)"));
    assert_int_equal(node.estimates, 1);
    last_tx(&tx, &raw);
    assert_false(tx.has_to);
    assert_int_equal(tx.gas_limit, ESTIMATE);
    const char *args[] = { "7", "seven" };
    char *enc = encode_hex("constructor(uint256,string)", 2, args, false);
    char *data = malloc(tx.data.len * 2 + 1);
    hex_encode(tx.data.ptr, tx.data.len, data);
    assert_memory_equal(data, "60806040", 8);
    assert_string_equal(data + 8, enc + 2);
    /* the estimate was asked for exactly that transaction */
    assert_string_equal(node.call_data + 2, data);
    free(data);
    free(enc);
    bytes_free(&raw);

    /* --gas skips the estimate; --json prints the receipt */
    reset_node("0x1");
    run_cli(&r, "deploy", bin, "--gas", "90000", "--key", key_path, "--rpc", url, "--json", NULL);
    assert_int_equal(r.status, 0);
    assert_int_equal(node.estimates, 0);
    last_tx(&tx, &raw);
    assert_int_equal(tx.gas_limit, 90000);
    assert_int_equal(tx.data.len, 4);
    cJSON *json = cJSON_Parse(r.out);
    assert_non_null(json);
    assert_string_equal(cJSON_GetObjectItem(json, "contractAddress")->valuestring,
                        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
    cJSON_Delete(json);
    bytes_free(&raw);
}

static void test_deploy_with_failed_receipt_exits_1(void **state)
{
    (void)state;
    struct cli_run r;
    reset_node("0x0");
    char *bin = write_file("bad.bin", "fe");
    run_cli(&r, "deploy", bin, "--key", key_path, "--rpc", url, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "failed (0)"));
    assert_non_null(strstr(r.err, "failed (status 0: reverted or out of gas)"));
}

static void test_send_contract_call_encodes_and_estimates(void **state)
{
    (void)state;
    struct cli_run r;
    struct tx tx;
    struct bytes raw;
    reset_node("0x1");
    run_cli(&r, "send", CONTRACT, "set(int256,string[])", "--key", key_path, "--rpc", url,
            "--value", "1gwei", "--", "-42", "[a, \"b,c\"]", NULL);
    if (r.status != 0)
        fail_msg("send: %s", r.err);
    assert_non_null(strstr(r.out, "gas used           42000"));
    assert_non_null(strstr(r.out, "logs               0"));
    last_tx(&tx, &raw);
    assert_true(tx.has_to);
    assert_int_equal(tx.gas_limit, ESTIMATE);
    assert_true(u256_eq(tx.value, u256_from_u64(1000000000)));
    uint8_t want_to[20];
    assert_int_equal(cli_parse_address(CONTRACT, want_to), TC_OK);
    assert_memory_equal(tx.to, want_to, 20);
    const char *args[] = { "-42", "[a,\"b,c\"]" };
    char *enc = encode_hex("set(int256,string[])", 2, args, true);
    char *data = malloc(tx.data.len * 2 + 3);
    data[0] = '0';
    data[1] = 'x';
    hex_encode(tx.data.ptr, tx.data.len, data + 2);
    assert_string_equal(data, enc);
    free(data);
    free(enc);
    bytes_free(&raw);

    /* a failed receipt is exit status 1 */
    reset_node("0x0");
    run_cli(&r, "send", CONTRACT, "set(uint256)", "1", "--key", key_path, "--rpc", url, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "status 0"));
}

static void test_send_that_would_revert_is_not_sent(void **state)
{
    (void)state;
    struct cli_run r;
    reset_node("0x1");
    run_cli(&r, "send", CONTRACT, "nope()", "--key", key_path, "--rpc", url, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "teechain send: execution reverted: nope"));
    assert_string_equal(node.raw_tx, "");
}

static void test_transfer_form_of_send_still_works(void **state)
{
    (void)state;
    struct cli_run r;
    struct tx tx;
    struct bytes raw;
    reset_node("0x1");
    run_cli(&r, "send", "--to", CONTRACT, "--value", "2", "--key", key_path, "--rpc", url, NULL);
    assert_int_equal(r.status, 0);
    assert_int_equal(node.estimates, 0);
    last_tx(&tx, &raw);
    assert_int_equal(tx.gas_limit, 21000);
    assert_int_equal(tx.data.len, 0);
    assert_true(u256_eq(tx.value, u256_from_u64(2)));
    bytes_free(&raw);
}

static void test_call_decodes_return_values(void **state)
{
    (void)state;
    struct cli_run r;
    reset_node("0x1");
    run_cli(&r, "call", CONTRACT, "get(address)(uint256,string)", "--rpc", url, "--from", CONTRACT,
            "--block", "12", CONTRACT, NULL);
    if (r.status != 0)
        fail_msg("call: %s", r.err);
    assert_string_equal(r.out, "42\nhi\n");
    assert_string_equal(node.call_block, "0xc");
    assert_string_equal(node.call_from, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
    const char *args[] = { CONTRACT };
    char *enc = encode_hex("get(address)", 1, args, true);
    assert_string_equal(node.call_data, enc);
    free(enc);

    run_cli(&r, "call", CONTRACT, "get()(uint256,string)", "--rpc", url, "--json", NULL);
    assert_int_equal(r.status, 0);
    cJSON *json = cJSON_Parse(r.out);
    char *flat = cJSON_PrintUnformatted(json);
    assert_string_equal(flat, "[\"42\",\"hi\"]");
    free(flat);
    cJSON_Delete(json);
    assert_string_equal(node.call_block, "latest");
    assert_string_equal(node.call_from, "");

    /* no return types: the raw data */
    run_cli(&r, "call", CONTRACT, "get()", "--rpc", url, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(
        strstr(r.out, "0x000000000000000000000000000000000000000000000000000000000000002a"));

    /* return types that do not fit the data */
    run_cli(&r, "call", CONTRACT, "empty()(uint256)", "--rpc", url, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "cannot decode the 0 byte(s) returned"));
    assert_non_null(strstr(r.err, "is the address a contract?"));
}

static void test_call_revert_prints_reason_and_exits_1(void **state)
{
    (void)state;
    struct cli_run r;
    reset_node("0x1");
    run_cli(&r, "call", CONTRACT, "nope()(uint256)", "--rpc", url, NULL);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.err, "teechain call: execution reverted: nope\n");
    assert_string_equal(r.out, "");
    run_cli(&r, "call", CONTRACT, "boom()", "--rpc", url, NULL);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.err,
                        "teechain call: execution reverted: panic 0x11: arithmetic overflow or "
                        "underflow\n");
}

static void test_call_reports_unreachable_node(void **state)
{
    (void)state;
    struct cli_run r;
    run_cli(&r, "call", CONTRACT, "get()", "--rpc", "http://127.0.0.1:1", "--timeout-ms", "2000",
            NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "teechain call: eth_call: cannot connect"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_usage_errors_send_nothing),
        cmocka_unit_test(test_send_and_deploy_usage_errors_send_nothing),
        cmocka_unit_test(test_bytecode_files_tolerate_whitespace_and_prefix),
        cmocka_unit_test(test_block_tags_and_numbers),
        cmocka_unit_test(test_deploy_sends_code_and_constructor_args_and_prints_address),
        cmocka_unit_test(test_deploy_with_failed_receipt_exits_1),
        cmocka_unit_test(test_send_contract_call_encodes_and_estimates),
        cmocka_unit_test(test_send_that_would_revert_is_not_sent),
        cmocka_unit_test(test_transfer_form_of_send_still_works),
        cmocka_unit_test(test_call_decodes_return_values),
        cmocka_unit_test(test_call_revert_prints_reason_and_exits_1),
        cmocka_unit_test(test_call_reports_unreachable_node),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
