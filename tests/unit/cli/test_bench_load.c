/*
 * test_bench_load.c - bench_run end to end against a fake node: a small
 * keep-alive HTTP JSON-RPC server in a thread that decodes and checks every
 * raw transaction (chain id, sender, nonce order, recipient, value), answers
 * its hash (or "nonce too low" for every k-th one when told to), and seals
 * the pending transactions into a new block on each eth_blockNumber. Checks
 * the counts, the commits, the error table, the closed-loop bound, that the
 * connections are kept alive, and the set-up failures. For the erc20 and kv
 * workloads it also answers eth_estimateGas (FAKE_GAS) and receipts (status
 * 1, or 0 when told to), and checks the set-up order: deploy, funding, their
 * receipts, then the measured calls.
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
#include "cli/bench.h"
#include "cli/cli_util.h"
#include "crypto/keccak.h"

#define CHAIN_ID      20200
#define BASE_NONCE    5
#define START_HEAD    7
#define MAX_CLIENTS   32
#define MAX_TXS       4096
#define MAX_BLOCKS    4096
#define MAX_SENDERS   8
#define CLIENT_BUFFER (1 << 20)
#define FAKE_GAS      50000 /* every eth_estimateGas answer */
#define CALL_GAS      75000 /* FAKE_GAS with the tool's 150 % margin */

/* What each received transaction was, in arrival order. */
enum tx_kind { KIND_TRANSFER, KIND_CREATE, KIND_FUNDING, KIND_CALL };

static const uint8_t fake_contract[20] = { 0xc0, 0x47, 0x7a, 0xc7 };

struct client {
    int fd;
    char *buf;
    size_t len;
};

struct fake_node {
    int listen_fd;
    int stop_pipe[2];
    uint16_t port;
    pthread_t thread;
    uint32_t reject_every; /* 0: accept all */
    size_t die_after;      /* > 0: exit after answering this many transaction batches */
    size_t batches;        /* requests carrying eth_sendRawTransaction answered */
    /* state, touched only by the server thread until it is joined */
    uint64_t head;
    uint8_t hashes[MAX_TXS][32]; /* accepted, in order; blocks cut this list */
    size_t hash_count;
    size_t block_end[MAX_BLOCKS + 1]; /* block START_HEAD + k ends at block_end[k] */
    size_t sealed;
    size_t received;
    size_t max_unsealed;
    size_t connections;
    uint8_t senders[MAX_SENDERS][20];
    size_t sender_count;
    bool nonce_seen[MAX_SENDERS][MAX_TXS]; /* nonce - BASE_NONCE used */
    size_t nonce_count[MAX_SENDERS];
    uint64_t last_nonce[MAX_SENDERS];
    size_t out_of_order;               /* a sender's nonce lower than its previous one */
    char bad[256];                     /* first problem seen in a transaction */
    uint8_t kind[MAX_TXS];             /* enum tx_kind of hashes[i] */
    uint8_t amount[MAX_TXS];           /* erc20: 1 when the call moved 1 token unit */
    bool fail_deploy;                  /* the creation's receipt has status 0 */
    uint32_t status0_every;            /* > 0: every k-th measured call's receipt has status 0 */
    size_t setup_receipts;             /* status-1 receipts of set-up transactions answered */
    size_t setup_receipts_before_call; /* of them, before the first measured call */
    size_t calls;                      /* measured contract calls received */
    size_t kv_keys_seen;               /* distinct kv keys (a bitmap over keys < MAX_TXS) */
    bool kv_key[MAX_TXS];
    size_t status0_answered;
};

static struct fake_node node;
static char accounts_dir[64];
static uint8_t account_addresses[3][20];

static void note_bad(const char *why)
{
    if (node.bad[0] == '\0')
        snprintf(node.bad, sizeof(node.bad), "%s", why);
}

static char *hex_quantity(uint64_t v)
{
    static char buf[24];
    snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
    return buf;
}

static cJSON *hash_json(const uint8_t h[32])
{
    char s[67] = "0x";
    hex_encode(h, 32, s + 2);
    return cJSON_CreateString(s);
}

static int sender_slot(const uint8_t address[20])
{
    for (size_t i = 0; i < node.sender_count; i++) {
        if (memcmp(node.senders[i], address, 20) == 0)
            return (int)i;
    }
    if (node.sender_count == MAX_SENDERS)
        return -1;
    memcpy(node.senders[node.sender_count], address, 20);
    return (int)node.sender_count++;
}

static uint64_t word_u64(const uint8_t word[32])
{
    uint64_t v = 0;
    for (int i = 24; i < 32; i++)
        v = v << 8 | word[i];
    return v;
}

/*
 * What a transaction is, checking the fields its kind must have: a value
 * transfer of 1 wei with gas 21000; a creation with CALL_GAS; a token
 * transfer or a kv set to the fake contract with CALL_GAS and no value.
 */
static enum tx_kind classify(const struct tx *tx)
{
    static const uint8_t transfer_sel[4] = { 0xa9, 0x05, 0x9c, 0xbb };
    static const uint8_t set_sel[4] = { 0x1a, 0xb0, 0x6e, 0xe5 };
    if (!tx->has_to) {
        if (tx->data.len == 0 || tx->gas_limit != CALL_GAS)
            note_bad("a creation without code or with the wrong gas");
        return KIND_CREATE;
    }
    if (tx->data.len == 0) {
        if (tx->gas_limit != 21000 || !u256_eq(tx->value, u256_one()))
            note_bad("unexpected transaction fields");
        return KIND_TRANSFER;
    }
    const uint8_t *d = tx->data.ptr;
    if (tx->data.len != 68 || memcmp(tx->to, fake_contract, 20) != 0 || tx->gas_limit != CALL_GAS ||
        !u256_is_zero(tx->value)) {
        note_bad("a call of the wrong shape");
        return KIND_CALL;
    }
    if (memcmp(d, transfer_sel, 4) == 0) {
        static const uint8_t zeros[12] = { 0 };
        if (memcmp(d + 4, zeros, 12) != 0)
            note_bad("transfer(): the address word is not padded");
        uint64_t amount = word_u64(d + 36);
        if (amount == 1)
            return KIND_CALL;
        if (amount != 1000000000000000000ull)
            note_bad("transfer(): an unexpected amount");
        return KIND_FUNDING;
    }
    if (memcmp(d, set_sel, 4) == 0) {
        uint64_t key = word_u64(d + 4);
        if (word_u64(d + 36) != key + 1)
            note_bad("set(): the value is not key + 1");
        if (key < MAX_TXS && !node.kv_key[key]) {
            node.kv_key[key] = true;
            node.kv_keys_seen++;
        }
        return KIND_CALL;
    }
    note_bad("a call of an unknown function");
    return KIND_CALL;
}

/* eth_sendRawTransaction: the hash, or an error message in *error. */
static cJSON *send_raw(const cJSON *params, const char **error)
{
    const cJSON *p = cJSON_GetArrayItem(params, 0);
    static uint8_t raw[4096]; /* the BenchToken creation fits */
    size_t len;
    struct tx tx;
    uint8_t sender[20], h[32];
    const char *reason = NULL;
    if (!cJSON_IsString(p) ||
        hex_decode_prefixed(p->valuestring, strlen(p->valuestring), raw, sizeof(raw), &len) !=
            TC_OK ||
        tx_decode(bytes_view_of(raw, len), &tx, &reason) != TC_OK ||
        tx_sender(&tx, sender, &reason) != TC_OK) {
        note_bad("undecodable transaction");
        *error = "invalid transaction";
        return NULL;
    }
    node.received++;
    if (node.reject_every != 0 && node.received % node.reject_every == 0) {
        *error = "nonce too low";
        return NULL;
    }
    int s = sender_slot(sender);
    enum tx_kind kind = classify(&tx);
    if (tx.type != TX_DYNAMIC_FEE || tx.chain_id != CHAIN_ID || s < 0)
        note_bad("unexpected transaction fields");
    if (kind == KIND_CALL && node.calls++ == 0)
        node.setup_receipts_before_call = node.setup_receipts;
    if (s >= 0) {
        /* Each nonce used once, from the pending nonce on, in order. */
        if (tx.nonce < BASE_NONCE || tx.nonce - BASE_NONCE >= MAX_TXS ||
            node.nonce_seen[s][tx.nonce - BASE_NONCE])
            note_bad("a nonce below the pending one or used twice");
        else
            node.nonce_seen[s][tx.nonce - BASE_NONCE] = true;
        if (node.nonce_count[s]++ > 0 && tx.nonce < node.last_nonce[s])
            node.out_of_order++;
        node.last_nonce[s] = tx.nonce;
    }
    if (node.hash_count == MAX_TXS) {
        *error = "txpool is full";
        return NULL;
    }
    keccak256(raw, len, h);
    node.kind[node.hash_count] = (uint8_t)kind;
    memcpy(node.hashes[node.hash_count++], h, 32);
    size_t unsealed = node.hash_count - node.sealed;
    if (unsealed > node.max_unsealed)
        node.max_unsealed = unsealed;
    return hash_json(h);
}

static cJSON *block_by_number(const cJSON *params)
{
    const cJSON *p = cJSON_GetArrayItem(params, 0);
    uint64_t n = 0;
    if (!cJSON_IsString(p) || sscanf(p->valuestring, "0x%llx", (unsigned long long *)&n) != 1 ||
        n <= START_HEAD || n > node.head)
        return cJSON_CreateNull();
    size_t k = (size_t)(n - START_HEAD);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "number", hex_quantity(n));
    cJSON *txs = cJSON_AddArrayToObject(b, "transactions");
    for (size_t i = node.block_end[k - 1]; i < node.block_end[k]; i++)
        cJSON_AddItemToArray(txs, hash_json(node.hashes[i]));
    return b;
}

static void seal_pending(void)
{
    if (node.hash_count > node.sealed && node.head - START_HEAD < MAX_BLOCKS) {
        node.head++;
        node.block_end[node.head - START_HEAD] = node.hash_count;
        node.sealed = node.hash_count;
    }
}

/* The receipt of a sealed transaction; null for one unknown or pending. */
static cJSON *receipt(const cJSON *params)
{
    const cJSON *p = cJSON_GetArrayItem(params, 0);
    uint8_t h[32];
    seal_pending();
    if (!cJSON_IsString(p) || hex_decode_exact(p->valuestring, h, 32) != TC_OK)
        return cJSON_CreateNull();
    size_t i = 0;
    while (i < node.sealed && memcmp(node.hashes[i], h, 32) != 0)
        i++;
    if (i == node.sealed)
        return cJSON_CreateNull();
    bool ok = true;
    if (node.kind[i] == KIND_CREATE && node.fail_deploy)
        ok = false;
    if (node.kind[i] != KIND_CREATE && node.kind[i] != KIND_FUNDING && node.status0_every > 0 &&
        (i + 1) % node.status0_every == 0)
        ok = false;
    if (ok && (node.kind[i] == KIND_CREATE || node.kind[i] == KIND_FUNDING))
        node.setup_receipts++;
    if (!ok)
        node.status0_answered++;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "status", ok ? "0x1" : "0x0");
    if (node.kind[i] == KIND_CREATE) {
        char a[43] = "0x";
        hex_encode(fake_contract, 20, a + 2);
        cJSON_AddStringToObject(r, "contractAddress", a);
    } else {
        cJSON_AddNullToObject(r, "contractAddress");
    }
    return r;
}

/* The pending nonce: BASE_NONCE plus the transactions the sender sent. */
static cJSON *pending_nonce(const cJSON *params)
{
    const cJSON *p = cJSON_GetArrayItem(params, 0);
    uint8_t a[20];
    uint64_t n = BASE_NONCE;
    if (cJSON_IsString(p) && hex_decode_exact(p->valuestring, a, 20) == TC_OK) {
        for (size_t i = 0; i < node.sender_count; i++) {
            if (memcmp(node.senders[i], a, 20) == 0)
                n += node.nonce_count[i];
        }
    }
    return cJSON_CreateString(hex_quantity(n));
}

static cJSON *handle_one(const cJSON *req)
{
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(req, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(req, "params");
    const char *m = cJSON_IsString(method) ? method->valuestring : "";
    const char *error = NULL;
    cJSON *result = NULL;
    if (strcmp(m, "eth_chainId") == 0) {
        result = cJSON_CreateString(hex_quantity(CHAIN_ID));
    } else if (strcmp(m, "eth_gasPrice") == 0) {
        result = cJSON_CreateString("0x0");
    } else if (strcmp(m, "eth_getTransactionCount") == 0) {
        result = pending_nonce(params);
    } else if (strcmp(m, "eth_estimateGas") == 0) {
        result = cJSON_CreateString(hex_quantity(FAKE_GAS));
    } else if (strcmp(m, "eth_getTransactionReceipt") == 0) {
        result = receipt(params);
    } else if (strcmp(m, "eth_blockNumber") == 0) {
        seal_pending();
        result = cJSON_CreateString(hex_quantity(node.head));
    } else if (strcmp(m, "eth_sendRawTransaction") == 0) {
        result = send_raw(params, &error);
    } else if (strcmp(m, "eth_getBlockByNumber") == 0) {
        result = block_by_number(params);
    } else {
        error = "the method does not exist";
    }
    cJSON *answer = cJSON_CreateObject();
    cJSON_AddStringToObject(answer, "jsonrpc", "2.0");
    cJSON_AddItemToObject(answer, "id",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(req, "id"), true));
    if (error != NULL) {
        cJSON *e = cJSON_AddObjectToObject(answer, "error");
        cJSON_AddNumberToObject(e, "code", -32000);
        cJSON_AddStringToObject(e, "message", error);
    } else {
        cJSON_AddItemToObject(answer, "result", result);
    }
    return answer;
}

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

/* Serves every complete request in c's buffer. Returns false to close. */
static bool serve(struct client *c)
{
    for (;;) {
        c->buf[c->len] = '\0';
        char *end = strstr(c->buf, "\r\n\r\n");
        if (end == NULL)
            return true;
        size_t head_len = (size_t)(end - c->buf) + 4;
        const char *cl = strcasestr(c->buf, "Content-Length:");
        size_t body_len = cl != NULL && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
        if (c->len < head_len + body_len)
            return true;
        bool close_after = strcasestr(c->buf, "Connection: close") != NULL &&
                           strcasestr(c->buf, "Connection: close") < end;
        cJSON *req = cJSON_ParseWithLength(c->buf + head_len, body_len);
        cJSON *answer;
        if (strstr(c->buf + head_len, "eth_sendRawTransaction") != NULL)
            node.batches++;
        if (cJSON_IsArray(req)) {
            answer = cJSON_CreateArray();
            const cJSON *item;
            cJSON_ArrayForEach(item, req)
            {
                cJSON_AddItemToArray(answer, handle_one(item));
            }
        } else {
            answer = handle_one(req);
        }
        char *text = cJSON_PrintUnformatted(answer);
        char header[160];
        int n = snprintf(header, sizeof(header),
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\n%s\r\n",
                         strlen(text), close_after ? "Connection: close\r\n" : "");
        send_all(c->fd, header, (size_t)n);
        send_all(c->fd, text, strlen(text));
        free(text);
        cJSON_Delete(answer);
        cJSON_Delete(req);
        memmove(c->buf, c->buf + head_len + body_len, c->len - head_len - body_len);
        c->len -= head_len + body_len;
        if (close_after)
            return false;
    }
}

static void *server_main(void *arg)
{
    (void)arg;
    struct client clients[MAX_CLIENTS];
    size_t count = 0;
    for (;;) {
        struct pollfd fds[MAX_CLIENTS + 2];
        fds[0] = (struct pollfd){ .fd = node.stop_pipe[0], .events = POLLIN };
        fds[1] = (struct pollfd){ .fd = node.listen_fd, .events = POLLIN };
        for (size_t i = 0; i < count; i++)
            fds[i + 2] = (struct pollfd){ .fd = clients[i].fd, .events = POLLIN };
        if (poll(fds, count + 2, 1000) < 0)
            break;
        if (fds[0].revents != 0 || (node.die_after > 0 && node.batches >= node.die_after))
            break;
        if ((fds[1].revents & POLLIN) != 0 && count < MAX_CLIENTS) {
            int fd = accept(node.listen_fd, NULL, NULL);
            if (fd >= 0) {
                clients[count++] = (struct client){ .fd = fd, .buf = malloc(CLIENT_BUFFER + 1) };
                node.connections++;
            }
        }
        /* Downwards, so that moving the last client into a freed slot
         * moves one already served in this round. */
        for (size_t i = count; i-- > 0;) {
            if (fds[i + 2].revents == 0)
                continue;
            struct client *c = &clients[i];
            ssize_t n = recv(c->fd, c->buf + c->len, CLIENT_BUFFER - c->len, 0);
            bool keep = n > 0;
            if (keep) {
                c->len += (size_t)n;
                keep = serve(c);
            }
            if (!keep) {
                close(c->fd);
                free(c->buf);
                clients[i] = clients[--count];
            }
        }
    }
    for (size_t i = 0; i < count; i++) {
        close(clients[i].fd);
        free(clients[i].buf);
    }
    /* A dead node refuses connections from now on. */
    close(node.listen_fd);
    node.listen_fd = -1;
    return NULL;
}

static int start_node(uint32_t reject_every)
{
    memset(&node, 0, sizeof(node));
    node.head = START_HEAD;
    node.reject_every = reject_every;
    node.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    if (node.listen_fd < 0 || bind(node.listen_fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(node.listen_fd, 64) != 0 ||
        getsockname(node.listen_fd, (struct sockaddr *)&a, &alen) != 0 || pipe(node.stop_pipe) != 0)
        return -1;
    node.port = ntohs(a.sin_port);
    return pthread_create(&node.thread, NULL, server_main, NULL) == 0 ? 0 : -1;
}

static void stop_node(void)
{
    ssize_t w = write(node.stop_pipe[1], "x", 1);
    (void)w;
    pthread_join(node.thread, NULL);
    close(node.stop_pipe[0]);
    close(node.stop_pipe[1]);
}

static int make_accounts(void **state)
{
    (void)state;
    char err[256];
    snprintf(accounts_dir, sizeof(accounts_dir), "/tmp/tc_bench_accounts_XXXXXX");
    if (mkdtemp(accounts_dir) == NULL)
        return -1;
    for (int i = 0; i < 3; i++) {
        if (cli_new_account(accounts_dir, account_addresses[i], err, sizeof(err)) != TC_OK)
            return -1;
    }
    return 0;
}

static int remove_accounts(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", accounts_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void config_for(struct bench_config *cfg, const char *const *extra)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)node.port);
    char *argv[40];
    int argc = 0;
    argv[argc++] = (char *)"bench";
    argv[argc++] = (char *)"--rpc";
    argv[argc++] = url;
    argv[argc++] = (char *)"--accounts";
    argv[argc++] = accounts_dir;
    argv[argc++] = (char *)"--poll-ms";
    argv[argc++] = (char *)"5";
    argv[argc++] = (char *)"--timeout";
    argv[argc++] = (char *)"20";
    for (size_t i = 0; extra[i] != NULL; i++)
        argv[argc++] = (char *)extra[i];
    argv[argc] = NULL;
    assert_int_equal(bench_parse_options(argc, argv, cfg), 0);
}

static void check_consistent(const struct bench_result *res)
{
    const struct bench_latency *lat = &res->latency;
    uint64_t sum = 0;
    for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++)
        sum += lat->hist[i];
    assert_int_equal(sum, res->committed);
    assert_int_equal(lat->count, res->committed);
    assert_true(lat->min_us <= lat->p50_us && lat->p50_us <= lat->p90_us &&
                lat->p90_us <= lat->p99_us && lat->p99_us <= lat->max_us);
    assert_true(res->committed <= res->sent);
    assert_int_equal(res->accepted + res->rejected, res->sent);
}

static void test_open_loop_run_commits_every_transaction(void **state)
{
    (void)state;
    assert_int_equal(start_node(0), 0);
    struct bench_config cfg;
    char pid[16];
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    const char *extra[] = { "--txs",    "600", "--connections", "2", "--batch", "50",
                            "--warmup", "0",   "--pid",         pid, NULL };
    config_for(&cfg, extra);
    struct bench_result *res = calloc(1, sizeof(*res));
    char err[256];
    int rc = bench_run(&cfg, res, NULL, err, sizeof(err));
    stop_node();
    if (rc != TC_OK)
        fail_msg("bench_run: %s", err);
    assert_string_equal(node.bad, "");
    assert_int_equal(res->chain_id, CHAIN_ID);
    assert_int_equal(res->senders, 3);
    assert_int_equal(res->start_block, START_HEAD);
    assert_true(res->end_block > START_HEAD);
    assert_int_equal(res->sent, 600);
    assert_int_equal(res->accepted, 600);
    assert_int_equal(res->rejected, 0);
    assert_int_equal(res->committed, 600);
    assert_false(res->timed_out);
    assert_int_equal(res->error_kinds, 0);
    check_consistent(res);
    /* Each sender's nonces were used once each from the pending one on,
     * without gaps, and arrived in order (a sender's transactions share one
     * connection). Two connections, three senders: groups {0, 2} and {1}. */
    assert_int_equal(node.out_of_order, 0);
    assert_int_equal(node.sender_count, 3);
    size_t total = 0;
    for (size_t i = 0; i < 3; i++) {
        assert_true(node.nonce_count[i] > 0);
        for (size_t k = 0; k < node.nonce_count[i]; k++)
            assert_true(node.nonce_seen[i][k]);
        total += node.nonce_count[i];
    }
    assert_int_equal(total, 600);
    /* Keep-alive: the set-up calls (chain id, gas price, head, 3 nonces),
     * the 2 sending connections, the poller and the receipt sample (6 of
     * 600, one connection each); never one per batch. */
    assert_int_equal(res->sample_size, 6);
    assert_int_equal(res->sample_status0, 0);
    assert_int_equal(res->sample_missing, 0);
    assert_true(node.connections <= 6 + 2 + 1 + 6);
    assert_true(res->has_usage);
    assert_true(res->usage.samples >= 2);
    assert_true(res->usage.rss_kib_max > 0);
    free(res);
}

static void test_rejections_are_counted_by_message(void **state)
{
    (void)state;
    assert_int_equal(start_node(10), 0);
    struct bench_config cfg;
    const char *extra[] = { "--txs", "200", "--batch", "20", "--senders", "1", NULL };
    config_for(&cfg, extra);
    struct bench_result *res = calloc(1, sizeof(*res));
    char err[256];
    int rc = bench_run(&cfg, res, NULL, err, sizeof(err));
    stop_node();
    if (rc != TC_OK)
        fail_msg("bench_run: %s", err);
    assert_int_equal(res->senders, 1);
    assert_int_equal(res->sent, 200);
    assert_int_equal(res->rejected, 20);
    assert_int_equal(res->accepted, 180);
    assert_int_equal(res->committed, 180);
    assert_int_equal(res->error_kinds, 1);
    assert_string_equal(res->errors[0].message, "nonce too low");
    assert_int_equal(res->errors[0].count, 20);
    assert_false(res->timed_out);
    check_consistent(res);
    free(res);
}

static void test_closed_loop_keeps_outstanding_bounded(void **state)
{
    (void)state;
    assert_int_equal(start_node(0), 0);
    struct bench_config cfg;
    const char *extra[] = { "--txs", "300", "--outstanding", "30", "--batch", "10", NULL };
    config_for(&cfg, extra);
    struct bench_result *res = calloc(1, sizeof(*res));
    char err[256];
    int rc = bench_run(&cfg, res, NULL, err, sizeof(err));
    stop_node();
    if (rc != TC_OK)
        fail_msg("bench_run: %s", err);
    assert_int_equal(res->committed, 300);
    assert_true(node.max_unsealed <= 30);
    assert_true(node.max_unsealed >= 10);
    check_consistent(res);
    free(res);
}

static void test_node_dying_mid_run_rejects_the_rest_and_times_out(void **state)
{
    (void)state;
    assert_int_equal(start_node(0), 0);
    node.die_after = 3;
    struct bench_config cfg;
    const char *extra[] = { "--txs",     "500", "--batch",  "50", "--senders", "1",
                            "--timeout", "0.5", "--warmup", "0",  NULL };
    config_for(&cfg, extra);
    struct bench_result *res = calloc(1, sizeof(*res));
    char err[256];
    int rc = bench_run(&cfg, res, NULL, err, sizeof(err));
    stop_node();
    if (rc != TC_OK)
        fail_msg("bench_run: %s", err);
    assert_int_equal(res->sent, 500);
    assert_int_equal(res->accepted, 150);
    assert_int_equal(res->rejected, 350);
    assert_true(res->error_kinds >= 1);
    uint64_t http_errors = 0;
    for (size_t i = 0; i < res->error_kinds; i++) {
        assert_memory_equal(res->errors[i].message, "HTTP: ", 6);
        http_errors += res->errors[i].count;
    }
    assert_int_equal(http_errors, 350);
    assert_true(res->committed <= 150);
    assert_true(res->timed_out == (res->committed < 150));
    check_consistent(res);
    free(res);
}

static void test_unreachable_node_fails_before_sending(void **state)
{
    (void)state;
    assert_int_equal(start_node(0), 0);
    stop_node(); /* the port is closed now */
    struct bench_config cfg;
    const char *extra[] = { "--txs", "10", NULL };
    config_for(&cfg, extra);
    struct bench_result *res = calloc(1, sizeof(*res));
    char err[256];
    assert_int_not_equal(bench_run(&cfg, res, NULL, err, sizeof(err)), TC_OK);
    assert_non_null(strstr(err, "cannot connect"));
    assert_int_equal(res->sent, 0);
    free(res);
}

static void test_erc20_deploys_and_funds_before_the_measured_transfers(void **state)
{
    (void)state;
    assert_int_equal(start_node(0), 0);
    struct bench_config cfg;
    const char *extra[] = { "--workload", "erc20", "--txs", "300", "--seed", "42", NULL };
    config_for(&cfg, extra);
    struct bench_result *res = calloc(1, sizeof(*res));
    char err[256];
    int rc = bench_run(&cfg, res, NULL, err, sizeof(err));
    stop_node();
    if (rc != TC_OK)
        fail_msg("bench_run: %s", err);
    assert_string_equal(node.bad, "");
    /* deploy, then one funding transfer per other sender, then the calls */
    assert_int_equal(node.hash_count, 1 + 2 + 300);
    assert_int_equal(node.kind[0], KIND_CREATE);
    assert_int_equal(node.kind[1], KIND_FUNDING);
    assert_int_equal(node.kind[2], KIND_FUNDING);
    for (size_t i = 3; i < node.hash_count; i++)
        assert_int_equal(node.kind[i], KIND_CALL);
    /* every set-up receipt was checked before the first measured call */
    assert_int_equal(node.setup_receipts_before_call, 3);
    char contract[43] = "0x";
    hex_encode(fake_contract, 20, contract + 2);
    assert_string_equal(res->contract, contract);
    assert_int_equal(res->measured_gas, FAKE_GAS);
    assert_int_equal(res->gas_limit, CALL_GAS);
    assert_int_equal(res->seed, 42);
    /* the set-up blocks are before the window: only the 300 calls count */
    assert_int_equal(res->sent, 300);
    assert_int_equal(res->committed, 300);
    assert_true(res->start_block > START_HEAD);
    assert_int_equal(node.out_of_order, 0);
    check_consistent(res);
    free(res);
}

static void test_kv_sets_distinct_keys(void **state)
{
    (void)state;
    assert_int_equal(start_node(0), 0);
    struct bench_config cfg;
    const char *extra[] = { "--workload", "kv", "--txs", "400", NULL };
    config_for(&cfg, extra);
    struct bench_result *res = calloc(1, sizeof(*res));
    char err[256];
    int rc = bench_run(&cfg, res, NULL, err, sizeof(err));
    stop_node();
    if (rc != TC_OK)
        fail_msg("bench_run: %s", err);
    assert_string_equal(node.bad, "");
    assert_int_equal(node.kind[0], KIND_CREATE);
    assert_int_equal(node.calls, 400);
    assert_int_equal(node.kv_keys_seen, 400);
    assert_int_equal(res->committed, 400);
    assert_int_equal(res->gas_limit, CALL_GAS);
    free(res);
}

static void test_failed_deploy_stops_before_measuring(void **state)
{
    (void)state;
    assert_int_equal(start_node(0), 0);
    node.fail_deploy = true;
    struct bench_config cfg;
    const char *extra[] = { "--workload", "erc20", "--txs", "50", NULL };
    config_for(&cfg, extra);
    struct bench_result *res = calloc(1, sizeof(*res));
    char err[256];
    int rc = bench_run(&cfg, res, NULL, err, sizeof(err));
    stop_node();
    assert_int_equal(rc, TC_EPERM);
    assert_non_null(strstr(err, "deploying BenchToken"));
    assert_non_null(strstr(err, "status 0"));
    assert_int_equal(node.hash_count, 1);
    assert_int_equal(res->sent, 0);
    free(res);
}

static void test_status0_receipts_are_counted_in_the_sample(void **state)
{
    (void)state;
    assert_int_equal(start_node(0), 0);
    node.status0_every = 1;
    struct bench_config cfg;
    const char *extra[] = { "--txs", "250", NULL };
    config_for(&cfg, extra);
    struct bench_result *res = calloc(1, sizeof(*res));
    char err[256];
    int rc = bench_run(&cfg, res, NULL, err, sizeof(err));
    stop_node();
    if (rc != TC_OK)
        fail_msg("bench_run: %s", err);
    assert_int_equal(res->committed, 250);
    assert_int_equal(res->sample_size, 3); /* 1 % of 250, rounded up */
    assert_int_equal(res->sample_status0, 3);
    assert_int_equal(res->sample_missing, 0);
    assert_int_equal(node.status0_answered, 3);
    free(res);
}

static void test_missing_accounts_are_an_error(void **state)
{
    (void)state;
    struct bench_config cfg;
    char *argv[] = { (char *)"bench", (char *)"--accounts", (char *)"/nonexistent/tc_accounts",
                     NULL };
    assert_int_equal(bench_parse_options(3, argv, &cfg), 0);
    struct bench_result *res = calloc(1, sizeof(*res));
    char err[256];
    assert_int_equal(bench_run(&cfg, res, NULL, err, sizeof(err)), TC_EIO);
    assert_non_null(strstr(err, "/nonexistent/tc_accounts"));
    char *argv2[] = { (char *)"bench",     (char *)"--accounts", accounts_dir,
                      (char *)"--senders", (char *)"4",          NULL };
    assert_int_equal(bench_parse_options(5, argv2, &cfg), 0);
    assert_int_equal(bench_run(&cfg, res, NULL, err, sizeof(err)), TC_EINVAL);
    assert_non_null(strstr(err, "only 3 key files"));
    free(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_loop_run_commits_every_transaction),
        cmocka_unit_test(test_rejections_are_counted_by_message),
        cmocka_unit_test(test_closed_loop_keeps_outstanding_bounded),
        cmocka_unit_test(test_node_dying_mid_run_rejects_the_rest_and_times_out),
        cmocka_unit_test(test_unreachable_node_fails_before_sending),
        cmocka_unit_test(test_erc20_deploys_and_funds_before_the_measured_transfers),
        cmocka_unit_test(test_kv_sets_distinct_keys),
        cmocka_unit_test(test_failed_deploy_stops_before_measuring),
        cmocka_unit_test(test_status0_receipts_are_counted_in_the_sample),
        cmocka_unit_test(test_missing_accounts_are_an_error),
    };
    return cmocka_run_group_tests(tests, make_accounts, remove_accounts);
}
