/*
 * bench_load.c - the run of `teechain bench`: reads the sender keys, runs
 * the workload's set-up (bench_workload.c: deploy and fund, for erc20 and
 * kv), asks the node for chain id, gas price and nonces, pre-signs every
 * transaction on several threads, then drives one libevent loop that posts
 * JSON-RPC batches over keep-alive connections (paced by bench_pacer) and
 * polls blocks to stamp each transaction with the time its block was first
 * seen; last, it samples receipts for their status.
 */
#include "cli/bench.h"
#include "cli/bench_workload.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/mem.h"
#include "base/rng.h"
#include "base/u256.h"
#include "chain/tx.h"
#include "cli/cli_send.h"
#include "cli/cli_util.h"
#include "cli/rpc_client.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"

/* Per-request HTTP timeout: a node that stops answering fails the batch. */
#define HTTP_TIMEOUT_S 30
/* Blocks fetched per poll (one JSON-RPC batch). */
#define POLL_MAX_BLOCKS 64
/* Largest HTTP answer read (a batch of blocks with their hashes fits). */
#define MAX_RESPONSE_BYTES (64 << 20)
#define SAMPLE_PERIOD_MS   500
#define MAX_SIGN_THREADS   64

/* ---- senders and pre-signing ------------------------------------------ */

struct sender {
    uint8_t seckey[32];
    uint8_t address[20];
    uint64_t nonce; /* pending nonce before the run */
};

static bool is_key_file_name(const char *name)
{
    return strlen(name) == 46 && strncmp(name, "0x", 2) == 0 && strcmp(name + 42, ".key") == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the first cfg->senders key files (by name) of the accounts folder. */
static int load_senders(const struct bench_config *cfg, struct sender **out, uint32_t *out_count,
                        char *err, size_t err_len)
{
    DIR *d = opendir(cfg->accounts_dir);
    if (d == NULL) {
        tc_errorf(err, err_len, "cannot open the accounts folder %s: %s", cfg->accounts_dir,
                  strerror(errno));
        return TC_EIO;
    }
    char **names = xcalloc(BENCH_MAX_SENDERS, sizeof(*names));
    size_t n = 0;
    for (struct dirent *e = readdir(d); e != NULL && n < BENCH_MAX_SENDERS; e = readdir(d)) {
        if (is_key_file_name(e->d_name))
            names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    int rc = TC_OK;
    struct sender *s = NULL;
    uint32_t want = cfg->senders != 0 ? cfg->senders : (uint32_t)n;
    if (n == 0) {
        tc_errorf(err, err_len, "no account key files (0x<address>.key) in %s", cfg->accounts_dir);
        rc = TC_ENOTFOUND;
        goto out_free_names;
    }
    if (want > n) {
        tc_errorf(err, err_len, "--senders %u: only %zu key files in %s", (unsigned)want, n,
                  cfg->accounts_dir);
        rc = TC_EINVAL;
        goto out_free_names;
    }
    qsort(names, n, sizeof(*names), cmp_names);
    s = xcalloc(want, sizeof(*s));
    for (uint32_t i = 0; i < want; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", cfg->accounts_dir, names[i]);
        if ((rc = cli_read_key_file(path, s[i].seckey, err, err_len)) != TC_OK ||
            (rc = ecdsa_address_from_seckey(s[i].seckey, s[i].address)) != TC_OK) {
            if (rc != TC_OK && err[0] == '\0')
                tc_errorf(err, err_len, "%s: not a valid key", path);
            OPENSSL_cleanse(s, (size_t)want * sizeof(*s));
            free(s);
            s = NULL;
            goto out_free_names;
        }
    }
    *out = s;
    *out_count = want;
out_free_names:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int call_u256(struct rpc_client *c, const char *method, cJSON *params, u256 *out, char *err,
                     size_t err_len)
{
    cJSON *result = NULL;
    int rc = rpc_client_call(c, method, params, &result);
    if (rc != TC_OK) {
        tc_errorf(err, err_len, "%s: %s", method, c->err);
        return rc;
    }
    if (!cJSON_IsString(result) || u256_from_hex(result->valuestring, out) != TC_OK) {
        tc_errorf(err, err_len, "%s: expected a hex quantity in the answer", method);
        rc = TC_ECORRUPT;
    }
    cJSON_Delete(result);
    return rc;
}

static int call_u64(struct rpc_client *c, const char *method, cJSON *params, uint64_t *out,
                    char *err, size_t err_len)
{
    u256 v;
    int rc = call_u256(c, method, params, &v, err, err_len);
    if (rc == TC_OK && !u256_fits_u64(v)) {
        tc_errorf(err, err_len, "%s: answer beyond 64 bits", method);
        return TC_ECORRUPT;
    }
    if (rc == TC_OK)
        *out = v.w[0];
    return rc;
}

/* The chain id, gas price, head and each sender's pending nonce, from the first node. */
static int query_chain(const struct bench_config *cfg, struct sender *s, uint32_t count,
                       u256 *gas_price, struct bench_result *res, char *err, size_t err_len)
{
    struct rpc_client c;
    int rc = rpc_client_init(&c, cfg->rpc_urls[0], RPC_CLIENT_DEFAULT_TIMEOUT_MS);
    if (rc != TC_OK) {
        tc_errorf(err, err_len, "%s", c.err);
        return rc;
    }
    if ((rc = call_u64(&c, "eth_chainId", NULL, &res->chain_id, err, err_len)) != TC_OK ||
        (rc = call_u256(&c, "eth_gasPrice", NULL, gas_price, err, err_len)) != TC_OK ||
        (rc = call_u64(&c, "eth_blockNumber", NULL, &res->start_block, err, err_len)) != TC_OK)
        return rc;
    for (uint32_t i = 0; i < count && rc == TC_OK; i++) {
        char addr[43] = "0x";
        hex_encode(s[i].address, 20, addr + 2);
        cJSON *params = cJSON_CreateArray();
        if (params == NULL || !cJSON_AddItemToArray(params, cJSON_CreateString(addr)) ||
            !cJSON_AddItemToArray(params, cJSON_CreateString("pending"))) {
            cJSON_Delete(params);
            return TC_ENOMEM;
        }
        rc = call_u64(&c, "eth_getTransactionCount", params, &s[i].nonce, err, err_len);
        cJSON_Delete(params);
    }
    return rc;
}

struct signed_txs {
    uint64_t count;
    uint32_t *from;  /* sender of each transaction */
    uint32_t *to;    /* transfer, erc20: the recipient (a sender index) */
    uint64_t *nonce; /* its nonce */
    uint8_t (*hash)[32];
    char **hex; /* "0x" + raw transaction in hex, one malloc'ed string each */
};

/*
 * The send plan. Senders are split into G = min(connections, senders)
 * groups (sender s in group s mod G); batch k holds only transactions of
 * group k mod G and is sent on connection k mod G. A sender's transactions
 * thus travel on one connection, in nonce order, so that the tool never
 * makes nonce gaps of its own (which would park transactions in a node's
 * future queue). Within a group, transactions go round-robin over its
 * senders, nonces counting up from each sender's pending nonce.
 */
uint32_t bench_group_count(uint32_t connections, uint32_t senders)
{
    return connections < senders ? connections : senders;
}

static void plan_transactions(const struct sender *s, uint32_t count, uint32_t groups,
                              uint32_t batch, struct signed_txs *out)
{
    uint64_t *used = xcalloc(count, sizeof(*used));
    uint64_t *group_pos = xcalloc(groups, sizeof(*group_pos));
    uint64_t i = 0;
    for (uint64_t k = 0; i < out->count; k++) {
        uint32_t g = (uint32_t)(k % groups);
        uint32_t members = (count - g + groups - 1) / groups;
        for (uint32_t b = 0; b < batch && i < out->count; b++, i++) {
            uint32_t from = g + groups * (uint32_t)(group_pos[g]++ % members);
            out->from[i] = from;
            out->nonce[i] = s[from].nonce + used[from]++;
        }
    }
    free(group_pos);
    free(used);
}

struct sign_job {
    const struct bench_config *cfg;
    const uint8_t *contract; /* erc20, kv: the deployed contract */
    uint64_t gas_limit;
    const struct sender *senders;
    uint64_t chain_id;
    u256 gas_price;
    uint64_t first, end; /* transaction indexes [first, end) */
    struct signed_txs *out;
    atomic_uint_fast64_t *done;
    int rc;
};

static void *sign_range(void *arg)
{
    struct sign_job *j = arg;
    struct bytes raw;
    bytes_init(&raw);
    for (uint64_t i = j->first; i < j->end; i++) {
        uint32_t from = j->out->from[i];
        struct tx tx;
        memset(&tx, 0, sizeof(tx));
        tx.type = TX_DYNAMIC_FEE;
        tx.chain_id = j->chain_id;
        tx.nonce = j->out->nonce[i];
        tx.gas_price = j->gas_price;
        tx.max_fee_per_gas = j->gas_price;
        tx.max_priority_fee_per_gas = j->gas_price;
        tx.gas_limit = j->gas_limit;
        tx.has_to = true;
        uint8_t data[68];
        const uint8_t *to = j->senders[j->out->to[i]].address;
        switch (j->cfg->workload) {
        case BENCH_WORKLOAD_ERC20:
            memcpy(tx.to, j->contract, 20);
            bench_erc20_transfer_calldata(to, 1, data);
            tx.data = bytes_view_of(data, sizeof(data));
            break;
        case BENCH_WORKLOAD_KV:
            /* distinct keys: the transaction's index; a non-zero value */
            memcpy(tx.to, j->contract, 20);
            bench_kv_set_calldata(i, i + 1, data);
            tx.data = bytes_view_of(data, sizeof(data));
            break;
        case BENCH_WORKLOAD_TRANSFER:
        default:
            memcpy(tx.to, to, 20);
            tx.value = u256_one();
            break;
        }
        bytes_clear(&raw);
        if ((j->rc = tx_sign(&tx, j->senders[from].seckey)) != TC_OK ||
            (j->rc = tx_encode(&tx, &raw)) != TC_OK)
            break;
        keccak256(raw.ptr, raw.len, j->out->hash[i]);
        char *hex = xmalloc(raw.len * 2 + 3);
        hex[0] = '0';
        hex[1] = 'x';
        hex_encode(raw.ptr, raw.len, hex + 2);
        j->out->hex[i] = hex;
        atomic_fetch_add(j->done, 1);
    }
    bytes_free(&raw);
    return NULL;
}

/* A progress bar on a terminal, a line per tenth otherwise. */
static void show_progress(FILE *f, bool tty, const char *what, uint64_t done, uint64_t total,
                          unsigned *last_tenth)
{
    if (f == NULL || total == 0)
        return;
    unsigned pct = (unsigned)(done * 100 / total);
    if (tty) {
        char bar[41];
        unsigned fill = pct * 40 / 100;
        for (unsigned i = 0; i < 40; i++)
            bar[i] = i < fill ? '#' : ' ';
        bar[40] = '\0';
        fprintf(f, "\r%s [%s] %3u%% %" PRIu64 "/%" PRIu64, what, bar, pct, done, total);
        if (done == total)
            fputc('\n', f);
    } else if (pct / 10 > *last_tenth || done == total) {
        *last_tenth = pct / 10;
        fprintf(f, "%s: %u%% (%" PRIu64 "/%" PRIu64 ")\n", what, pct, done, total);
    }
    fflush(f);
}

static unsigned sign_thread_count(const struct bench_config *cfg, uint64_t txs)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned t = cfg->sign_threads != 0 ? cfg->sign_threads : (cpus > 0 ? (unsigned)cpus : 1);
    if (t > MAX_SIGN_THREADS)
        t = MAX_SIGN_THREADS;
    if (t > txs)
        t = (unsigned)txs;
    return t == 0 ? 1 : t;
}

/*
 * The recipient of each planned transaction: the next sender for value
 * transfers (as before the workloads existed), a random other sender for
 * erc20, unused for kv.
 */
static void choose_recipients(const struct bench_config *cfg, uint32_t count, struct rng *r,
                              struct signed_txs *out)
{
    for (uint64_t i = 0; i < out->count; i++) {
        uint32_t from = out->from[i];
        if (cfg->workload == BENCH_WORKLOAD_ERC20)
            out->to[i] = bench_pick_recipient(r, from, count);
        else
            out->to[i] = (from + 1) % count;
    }
}

static int presign(const struct bench_config *cfg, const struct sender *s, uint32_t count,
                   uint64_t chain_id, u256 gas_price, const uint8_t contract[20],
                   uint64_t gas_limit, struct rng *r, struct signed_txs *out, FILE *progress,
                   char *err, size_t err_len)
{
    out->count = cfg->txs;
    out->from = xcalloc(cfg->txs, sizeof(*out->from));
    out->to = xcalloc(cfg->txs, sizeof(*out->to));
    out->nonce = xcalloc(cfg->txs, sizeof(*out->nonce));
    plan_transactions(s, count, bench_group_count(cfg->connections, count), cfg->batch, out);
    choose_recipients(cfg, count, r, out);
    unsigned threads = sign_thread_count(cfg, cfg->txs);
    struct sign_job jobs[MAX_SIGN_THREADS];
    pthread_t tids[MAX_SIGN_THREADS];
    atomic_uint_fast64_t done = 0;
    unsigned started = 0, last_tenth = 0;
    bool tty = progress != NULL && isatty(fileno(progress));
    int rc = TC_OK;
    out->hash = xcalloc(cfg->txs, sizeof(*out->hash));
    out->hex = xcalloc(cfg->txs, sizeof(*out->hex));
    for (unsigned t = 0; t < threads; t++) {
        jobs[t] = (struct sign_job){
            .cfg = cfg,
            .contract = contract,
            .gas_limit = gas_limit,
            .senders = s,
            .chain_id = chain_id,
            .gas_price = gas_price,
            .first = cfg->txs * t / threads,
            .end = cfg->txs * (t + 1) / threads,
            .out = out,
            .done = &done,
        };
        if (pthread_create(&tids[t], NULL, sign_range, &jobs[t]) != 0) {
            tc_errorf(err, err_len, "cannot start a signing thread");
            rc = TC_EAGAIN;
            break;
        }
        started++;
    }
    uint64_t shown = UINT64_MAX;
    while (rc == TC_OK) {
        uint64_t d = atomic_load(&done);
        if (d != shown)
            show_progress(progress, tty, "signing", d, cfg->txs, &last_tenth);
        shown = d;
        if (d == cfg->txs)
            break;
        bool all_exited = true;
        for (unsigned t = 0; t < started; t++)
            all_exited = all_exited && jobs[t].rc != TC_OK;
        if (all_exited)
            break;
        clock_sleep_ms(100);
    }
    for (unsigned t = 0; t < started; t++) {
        pthread_join(tids[t], NULL);
        if (rc == TC_OK && jobs[t].rc != TC_OK) {
            tc_errorf(err, err_len, "cannot sign transaction: %s", tc_strerror(jobs[t].rc));
            rc = jobs[t].rc;
        }
    }
    return rc;
}

static void signed_txs_free(struct signed_txs *s)
{
    if (s->hex != NULL) {
        for (uint64_t i = 0; i < s->count; i++)
            free(s->hex[i]);
    }
    free(s->hex);
    s->hex = NULL;
    free(s->from);
    s->from = NULL;
    free(s->to);
    s->to = NULL;
    free(s->nonce);
    s->nonce = NULL;
}

/* ---- the load loop ------------------------------------------------------ */

enum tx_state { TXS_UNSENT, TXS_SENT, TXS_ACCEPTED, TXS_REJECTED };

struct load_batch {
    char *body; /* a JSON-RPC batch of eth_sendRawTransaction, ids = transaction indexes */
    size_t body_len;
    uint64_t first;
    uint32_t count;
};

struct load;

/* One keep-alive connection; at most one request in flight. */
struct load_conn {
    struct load *l;
    struct evhttp_connection *evcon;
    size_t url;
    bool busy;
    uint64_t batch;
    enum evhttp_request_error last_error;
    bool has_error;
};

struct load {
    const struct bench_config *cfg;
    struct bench_result *res;
    FILE *progress;
    bool tty;
    struct event_base *base;
    struct event *send_timer, *poll_timer, *tick_timer;
    struct rpc_client urls[BENCH_MAX_URLS]; /* parsed: host, port, path */
    struct load_conn conns[BENCH_MAX_CONNECTIONS];
    uint32_t conn_count; /* sending connections: bench_group_count() */

    uint64_t n;
    const uint8_t (*hash)[32];
    uint64_t *send_us;
    uint64_t *commit_us;
    uint8_t *state;
    uint8_t *error_kind;
    uint32_t *index; /* open addressing over hash: transaction index + 1, 0 = empty */
    uint64_t index_mask;

    struct load_batch *batches;
    uint64_t batch_count, next_batch, batches_done;
    struct bench_pacer pacer;

    uint64_t start_us, first_send_us, last_send_us, last_commit_us, sending_done_us;
    struct load_conn poller;
    uint64_t last_block;
    uint64_t ticks;
    bool sample_pid;
    bool stopped;
};

static uint64_t hash_key(const uint8_t h[32])
{
    uint64_t k;
    memcpy(&k, h, 8);
    return k;
}

static void index_build(struct load *l)
{
    uint64_t cap = 16;
    while (cap < l->n * 2)
        cap <<= 1;
    l->index = xcalloc(cap, sizeof(*l->index));
    l->index_mask = cap - 1;
    for (uint64_t i = 0; i < l->n; i++) {
        uint64_t slot = hash_key(l->hash[i]) & l->index_mask;
        while (l->index[slot] != 0)
            slot = (slot + 1) & l->index_mask;
        l->index[slot] = (uint32_t)(i + 1);
    }
}

/* The index of the transaction with hash h, or -1. */
static int64_t index_find(const struct load *l, const uint8_t h[32])
{
    uint64_t slot = hash_key(h) & l->index_mask;
    for (uint64_t probes = 0; probes <= l->index_mask; probes++) {
        uint32_t v = l->index[slot];
        if (v == 0)
            return -1;
        if (memcmp(l->hash[v - 1], h, 32) == 0)
            return (int64_t)v - 1;
        slot = (slot + 1) & l->index_mask;
    }
    return -1;
}

/* The error kind of message (added when new; "other" once the table is full). */
static uint8_t error_kind(struct bench_result *res, const char *message)
{
    for (size_t i = 0; i < res->error_kinds; i++) {
        if (strncmp(res->errors[i].message, message, BENCH_ERROR_MESSAGE_LEN - 1) == 0)
            return (uint8_t)i;
    }
    if (res->error_kinds < BENCH_MAX_ERROR_KINDS) {
        snprintf(res->errors[res->error_kinds].message, BENCH_ERROR_MESSAGE_LEN, "%s", message);
        return (uint8_t)res->error_kinds++;
    }
    snprintf(res->errors[BENCH_MAX_ERROR_KINDS].message, BENCH_ERROR_MESSAGE_LEN, "other");
    return BENCH_MAX_ERROR_KINDS;
}

static void reject_tx(struct load *l, uint64_t i, const char *message)
{
    if (l->state[i] != TXS_SENT)
        return;
    l->state[i] = TXS_REJECTED;
    l->error_kind[i] = error_kind(l->res, message);
    l->res->errors[l->error_kind[i]].count++;
    l->res->rejected++;
}

static uint64_t unfinished(const struct load *l)
{
    uint64_t done = l->res->committed + l->res->rejected;
    return l->res->sent > done ? l->res->sent - done : 0;
}

static const char *http_error_message(const struct load_conn *c, struct evhttp_request *req)
{
    static char buf[64];
    if (req != NULL && evhttp_request_get_response_code(req) != 0) {
        snprintf(buf, sizeof(buf), "HTTP status %d", evhttp_request_get_response_code(req));
        return buf;
    }
    if (!c->has_error)
        return "HTTP: connection failed or closed";
    switch (c->last_error) {
    case EVREQ_HTTP_TIMEOUT:
        return "HTTP: timeout";
    case EVREQ_HTTP_EOF:
        return "HTTP: connection closed";
    case EVREQ_HTTP_INVALID_HEADER:
        return "HTTP: invalid answer";
    case EVREQ_HTTP_BUFFER_ERROR:
        return "HTTP: connection failed";
    case EVREQ_HTTP_DATA_TOO_LONG:
        return "HTTP: answer too long";
    default:
        return "HTTP: request failed";
    }
}

static void on_request_error(enum evhttp_request_error e, void *arg)
{
    struct load_conn *c = arg;
    c->last_error = e;
    c->has_error = true;
}

/* POSTs body on c; cb gets the answer (or NULL). Returns 0 or -1 (request freed). */
static int post(struct load_conn *c, const char *body, size_t len,
                void (*cb)(struct evhttp_request *, void *))
{
    const struct rpc_client *u = &c->l->urls[c->url];
    struct evhttp_request *req = evhttp_request_new(cb, c);
    if (req == NULL)
        return -1;
    evhttp_request_set_error_cb(req, on_request_error);
    c->has_error = false;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char length[24];
    snprintf(length, sizeof(length), "%zu", len);
    evhttp_add_header(h, "Host", u->host);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "Content-Length", length);
    evbuffer_add_reference(evhttp_request_get_output_buffer(req), body, len, NULL, NULL);
    c->busy = true;
    if (evhttp_make_request(c->evcon, req, EVHTTP_REQ_POST, u->path) != 0)
        return -1;
    return 0;
}

/* The JSON answer of a finished request, or NULL (failed, not 200, not JSON). */
static cJSON *answer_json(struct evhttp_request *req)
{
    if (req == NULL || evhttp_request_get_response_code(req) != 200)
        return NULL;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *text = (const char *)evbuffer_pullup(in, -1);
    return text == NULL ? NULL : cJSON_ParseWithLength(text, len);
}

static void check_done(struct load *l);
static void pump(struct load *l);

static void finish_batch(struct load_conn *c, struct evhttp_request *req)
{
    struct load *l = c->l;
    if (!c->busy)
        return;
    c->busy = false;
    const struct load_batch *b = &l->batches[c->batch];
    cJSON *answer = answer_json(req);
    if (cJSON_IsArray(answer)) {
        const cJSON *item;
        cJSON_ArrayForEach(item, answer)
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
            if (!cJSON_IsNumber(id) || id->valuedouble < (double)b->first ||
                id->valuedouble >= (double)(b->first + b->count))
                continue;
            uint64_t i = (uint64_t)id->valuedouble;
            const cJSON *result = cJSON_GetObjectItemCaseSensitive(item, "result");
            const cJSON *error = cJSON_GetObjectItemCaseSensitive(item, "error");
            const cJSON *msg = cJSON_GetObjectItemCaseSensitive(error, "message");
            uint8_t h[32];
            if (cJSON_IsString(result) && hex_decode_exact(result->valuestring, h, 32) == TC_OK &&
                memcmp(h, l->hash[i], 32) == 0) {
                if (l->state[i] == TXS_SENT) {
                    l->state[i] = TXS_ACCEPTED;
                    l->res->accepted++;
                }
            } else if (cJSON_IsString(result)) {
                reject_tx(l, i, "the node answered another hash");
            } else {
                reject_tx(l, i, cJSON_IsString(msg) ? msg->valuestring : "malformed answer");
            }
        }
    }
    /* Transactions the answer did not cover: one reason for the whole batch. */
    const char *why = "no answer for it in the batch";
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(answer, "error"), "message");
    if (answer == NULL)
        why = http_error_message(c, req);
    else if (cJSON_IsString(msg))
        why = msg->valuestring;
    for (uint64_t i = b->first; i < b->first + b->count; i++)
        reject_tx(l, i, why);
    cJSON_Delete(answer);
    l->batches_done++;
    pump(l);
    check_done(l);
}

static void on_batch_answer(struct evhttp_request *req, void *arg)
{
    finish_batch(arg, req);
}

static void send_batch(struct load *l, struct load_conn *c, uint64_t k)
{
    const struct load_batch *b = &l->batches[k];
    uint64_t now = clock_monotonic_us();
    if (l->res->sent == 0)
        l->first_send_us = now;
    l->last_send_us = now;
    for (uint64_t i = b->first; i < b->first + b->count; i++) {
        l->send_us[i] = now;
        l->state[i] = TXS_SENT;
    }
    l->res->sent += b->count;
    c->batch = k;
    if (post(c, b->body, b->body_len, on_batch_answer) != 0)
        finish_batch(c, NULL);
}

static void pump(struct load *l)
{
    if (l->stopped)
        return;
    while (l->next_batch < l->batch_count) {
        const struct load_batch *b = &l->batches[l->next_batch];
        uint64_t elapsed = clock_monotonic_us() - l->start_us;
        if (!bench_pacer_may_send(&l->pacer, l->next_batch, elapsed, unfinished(l), b->count)) {
            if (l->pacer.outstanding == 0) {
                uint64_t wait = bench_pacer_due_us(&l->pacer, l->next_batch) - elapsed;
                struct timeval tv = { (time_t)(wait / 1000000), (suseconds_t)(wait % 1000000) };
                evtimer_add(l->send_timer, &tv);
            }
            return; /* closed loop: the next poll or answer resumes */
        }
        struct load_conn *c = &l->conns[l->next_batch % l->conn_count];
        if (c->busy)
            return; /* its answer resumes */
        uint64_t due = bench_pacer_due_us(&l->pacer, l->next_batch);
        if (l->pacer.outstanding == 0 && l->pacer.rate_tps > 0 && elapsed > due &&
            elapsed - due > l->res->max_send_lag_us)
            l->res->max_send_lag_us = elapsed - due;
        send_batch(l, c, l->next_batch++);
        if (l->next_batch == l->batch_count)
            l->sending_done_us = clock_monotonic_us();
    }
}

static void on_send_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pump(arg);
}

/* ---- block polling ------------------------------------------------------ */

static char poll_body[POLL_MAX_BLOCKS * 160 + 16];

static void on_blocks_answer(struct evhttp_request *req, void *arg);

static void stamp_block(struct load *l, const cJSON *block, uint64_t seen_us)
{
    const cJSON *txs = cJSON_GetObjectItemCaseSensitive(block, "transactions");
    const cJSON *t;
    bool ours = false;
    cJSON_ArrayForEach(t, txs)
    {
        uint8_t h[32];
        if (!cJSON_IsString(t) || hex_decode_exact(t->valuestring, h, 32) != TC_OK)
            continue;
        int64_t i = index_find(l, h);
        if (i < 0 || l->commit_us[i] != BENCH_NOT_COMMITTED)
            continue;
        l->commit_us[i] = seen_us;
        l->res->committed++;
        l->last_commit_us = seen_us;
        ours = true;
    }
    if (ours)
        l->res->blocks_seen++;
}

static void on_number_answer(struct evhttp_request *req, void *arg)
{
    struct load_conn *c = arg;
    struct load *l = c->l;
    if (!c->busy)
        return;
    c->busy = false;
    cJSON *answer = answer_json(req);
    uint64_t head = 0;
    if (cli_json_u64(cJSON_GetObjectItemCaseSensitive(answer, "result"), &head) != TC_OK) {
        l->res->poll_errors++;
        cJSON_Delete(answer);
        return;
    }
    cJSON_Delete(answer);
    if (head <= l->last_block || l->stopped)
        return;
    uint64_t last = head;
    if (last - l->last_block > POLL_MAX_BLOCKS)
        last = l->last_block + POLL_MAX_BLOCKS;
    size_t len = 0;
    poll_body[len++] = '[';
    for (uint64_t n = l->last_block + 1; n <= last; n++) {
        len += (size_t)snprintf(poll_body + len, sizeof(poll_body) - len,
                                "%s{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64
                                ",\"method\":\"eth_getBlockByNumber\",\"params\":[\"0x%" PRIx64
                                "\",false]}",
                                n == l->last_block + 1 ? "" : ",", n, n);
    }
    poll_body[len++] = ']';
    if (post(c, poll_body, len, on_blocks_answer) != 0) {
        c->busy = false;
        l->res->poll_errors++;
    }
}

static int cmp_block_ids(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    double ix = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "id"));
    double iy = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(y, "id"));
    return ix < iy ? -1 : ix > iy;
}

static void on_blocks_answer(struct evhttp_request *req, void *arg)
{
    struct load_conn *c = arg;
    struct load *l = c->l;
    if (!c->busy)
        return;
    c->busy = false;
    uint64_t seen_us = clock_monotonic_us();
    cJSON *answer = answer_json(req);
    int count = cJSON_IsArray(answer) ? cJSON_GetArraySize(answer) : 0;
    if (count == 0 || count > POLL_MAX_BLOCKS) {
        l->res->poll_errors++;
        cJSON_Delete(answer);
        return;
    }
    const cJSON *items[POLL_MAX_BLOCKS];
    int k = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, answer)
    {
        items[k++] = item;
    }
    qsort(items, (size_t)count, sizeof(items[0]), cmp_block_ids);
    /* Blocks in order; stop at the first one missing so it is asked again. */
    for (int i = 0; i < count; i++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(items[i], "id");
        const cJSON *block = cJSON_GetObjectItemCaseSensitive(items[i], "result");
        if (!cJSON_IsNumber(id) || id->valuedouble != (double)(l->last_block + 1) ||
            !cJSON_IsObject(block)) {
            l->res->poll_errors++;
            break;
        }
        stamp_block(l, block, seen_us);
        l->last_block++;
    }
    cJSON_Delete(answer);
    pump(l);
    check_done(l);
}

static const char number_body[] =
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\",\"params\":[]}";

static void on_poll_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct load *l = arg;
    check_done(l);
    if (l->stopped || l->poller.busy)
        return;
    if (post(&l->poller, number_body, sizeof(number_body) - 1, on_number_answer) != 0) {
        l->poller.busy = false;
        l->res->poll_errors++;
    }
}

/* ---- node sampling, progress, end --------------------------------------- */

static int read_text(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return TC_EIO;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0 ? TC_OK : TC_EIO;
}

static void sample_node(struct load *l)
{
    char path[64], stat_text[2048], status_text[8192];
    uint64_t ticks, rss_kib;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)l->cfg->pid);
    if (read_text(path, stat_text, sizeof(stat_text)) != TC_OK ||
        bench_proc_parse_cpu_ticks(stat_text, &ticks) != TC_OK)
        return;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)l->cfg->pid);
    if (read_text(path, status_text, sizeof(status_text)) != TC_OK ||
        bench_proc_parse_rss_kib(status_text, &rss_kib) != TC_OK)
        return;
    bench_usage_add(&l->res->usage, clock_monotonic_us(), ticks, rss_kib, l->res->ticks_per_s);
    l->res->has_usage = true;
}

static void show_status(struct load *l)
{
    if (l->progress == NULL)
        return;
    fprintf(l->progress,
            "%ssent %" PRIu64 "/%" PRIu64 "  accepted %" PRIu64 "  rejected %" PRIu64
            "  committed %" PRIu64 "  block %" PRIu64 "%s",
            l->tty ? "\r" : "", l->res->sent, l->n, l->res->accepted, l->res->rejected,
            l->res->committed, l->last_block, l->tty ? "   " : "\n");
    fflush(l->progress);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct load *l = arg;
    l->ticks++;
    if (l->sample_pid)
        sample_node(l);
    /* every second on a terminal, every 5 s otherwise */
    uint64_t every = (l->tty ? 1000 : 5000) / SAMPLE_PERIOD_MS;
    if (l->ticks % every == 0)
        show_status(l);
}

static void check_done(struct load *l)
{
    if (l->stopped || l->batches_done < l->batch_count)
        return;
    bool all_in = unfinished(l) == 0;
    bool late = clock_monotonic_us() - l->sending_done_us >= (uint64_t)l->cfg->timeout_ms * 1000;
    if (!all_in && !late)
        return;
    l->stopped = true;
    l->res->timed_out = !all_in;
    event_base_loopbreak(l->base);
}

/* ---- set-up and figures ------------------------------------------------- */

static void build_batches(struct load *l, struct signed_txs *s, uint32_t batch)
{
    l->batch_count = (l->n + batch - 1) / batch;
    l->batches = xcalloc(l->batch_count, sizeof(*l->batches));
    for (uint64_t k = 0; k < l->batch_count; k++) {
        struct load_batch *b = &l->batches[k];
        b->first = k * batch;
        b->count = (uint32_t)(l->n - b->first < batch ? l->n - b->first : batch);
        size_t cap = 2;
        for (uint64_t i = b->first; i < b->first + b->count; i++)
            cap += strlen(s->hex[i]) + 96;
        b->body = xmalloc(cap);
        size_t len = 0;
        b->body[len++] = '[';
        for (uint64_t i = b->first; i < b->first + b->count; i++) {
            len += (size_t)snprintf(b->body + len, cap - len,
                                    "%s{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64
                                    ",\"method\":\"eth_sendRawTransaction\",\"params\":[\"%s\"]}",
                                    i == b->first ? "" : ",", i, s->hex[i]);
            free(s->hex[i]); /* the body holds it now: keep one copy in memory */
            s->hex[i] = NULL;
        }
        b->body[len++] = ']';
        b->body_len = len;
    }
}

static int open_connections(struct load *l, char *err, size_t err_len)
{
    const struct bench_config *cfg = l->cfg;
    for (size_t u = 0; u < cfg->rpc_url_count; u++) {
        if (rpc_client_init(&l->urls[u], cfg->rpc_urls[u], RPC_CLIENT_DEFAULT_TIMEOUT_MS) !=
            TC_OK) {
            tc_errorf(err, err_len, "%s", l->urls[u].err);
            return TC_EINVAL;
        }
    }
    l->conn_count = bench_group_count(cfg->connections, l->res->senders);
    for (uint32_t i = 0; i <= l->conn_count; i++) {
        /* the last one, beyond the senders, is the block poller (first URL) */
        struct load_conn *c = i < l->conn_count ? &l->conns[i] : &l->poller;
        c->l = l;
        c->url = i < l->conn_count ? i % cfg->rpc_url_count : 0;
        const struct rpc_client *u = &l->urls[c->url];
        c->evcon = evhttp_connection_base_new(l->base, NULL, u->host,
                                              (uint16_t)strtoul(u->port, NULL, 10));
        if (c->evcon == NULL) {
            tc_errorf(err, err_len, "cannot create a connection to %s", u->url);
            return TC_ENOMEM;
        }
        evhttp_connection_set_timeout(c->evcon, HTTP_TIMEOUT_S);
        evhttp_connection_set_max_body_size(c->evcon, MAX_RESPONSE_BYTES);
    }
    return TC_OK;
}

static void close_connections(struct load *l)
{
    for (uint32_t i = 0; i < l->conn_count; i++) {
        if (l->conns[i].evcon != NULL)
            evhttp_connection_free(l->conns[i].evcon);
    }
    if (l->poller.evcon != NULL)
        evhttp_connection_free(l->poller.evcon);
}

static void compute_figures(struct load *l)
{
    struct bench_result *res = l->res;
    uint64_t end_us = clock_monotonic_us();
    uint64_t *lat = xcalloc(l->n > 0 ? l->n : 1, sizeof(*lat));
    size_t m = 0;
    for (uint64_t i = 0; i < l->n; i++) {
        if (l->commit_us[i] != BENCH_NOT_COMMITTED && l->state[i] != TXS_UNSENT)
            lat[m++] = l->commit_us[i] > l->send_us[i] ? l->commit_us[i] - l->send_us[i] : 0;
    }
    bench_latency_compute(lat, m, &res->latency);
    free(lat);
    bench_window_compute(l->first_send_us, l->last_send_us, (uint64_t)l->cfg->warmup_ms * 1000,
                         l->commit_us, l->n, &res->window);
    if (res->sent > 0) {
        res->send_duration_s = (double)(l->last_send_us - l->first_send_us) / 1e6;
        res->duration_s = (double)(end_us - l->first_send_us) / 1e6;
        if (l->last_send_us > l->first_send_us)
            res->offered_tps =
                (double)res->sent * 1e6 / (double)(l->last_send_us - l->first_send_us);
        if (res->committed > 0 && l->last_commit_us > l->first_send_us)
            res->overall_tps =
                (double)res->committed * 1e6 / (double)(l->last_commit_us - l->first_send_us);
    }
    res->end_block = l->last_block;
    res->first_send_us = l->first_send_us;
}

static int drive(struct load *l, char *err, size_t err_len)
{
    int rc = TC_ENOMEM;
    l->base = event_base_new();
    if (l->base == NULL)
        return TC_ENOMEM;
    l->send_timer = evtimer_new(l->base, on_send_timer, l);
    l->poll_timer = event_new(l->base, -1, EV_PERSIST, on_poll_timer, l);
    l->tick_timer = event_new(l->base, -1, EV_PERSIST, on_tick, l);
    if (l->send_timer == NULL || l->poll_timer == NULL || l->tick_timer == NULL)
        goto out_free_events;
    if ((rc = open_connections(l, err, err_len)) != TC_OK)
        goto out_close_connections;
    struct timeval poll_tv = { 0, (suseconds_t)l->cfg->poll_ms * 1000 };
    struct timeval tick_tv = { 0, SAMPLE_PERIOD_MS * 1000 };
    event_add(l->poll_timer, &poll_tv);
    event_add(l->tick_timer, &tick_tv);
    /* A node that closes a connection while a batch is being written must
     * fail that batch, not kill the tool with SIGPIPE. */
    struct sigaction ignore = { .sa_handler = SIG_IGN }, old;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &old);
    l->start_us = clock_monotonic_us();
    if (l->sample_pid)
        sample_node(l);
    pump(l);
    event_base_dispatch(l->base);
    sigaction(SIGPIPE, &old, NULL);
    if (l->sample_pid)
        sample_node(l);
    if (l->tty) {
        show_status(l);
        fputc('\n', l->progress);
    }
    compute_figures(l);
    rc = TC_OK;
out_close_connections:
    close_connections(l);
out_free_events:
    if (l->send_timer != NULL)
        event_free(l->send_timer);
    if (l->poll_timer != NULL)
        event_free(l->poll_timer);
    if (l->tick_timer != NULL)
        event_free(l->tick_timer);
    event_base_free(l->base);
    return rc;
}

/* The set-up of the contract workloads (bench_workload.c), from the sender keys. */
static int setup_workload(const struct bench_config *cfg, const struct sender *s, uint32_t count,
                          struct bench_result *res, uint8_t contract[20], FILE *progress, char *err,
                          size_t err_len)
{
    uint8_t(*keys)[32] = xcalloc(count, sizeof(*keys));
    uint8_t(*addresses)[20] = xcalloc(count, sizeof(*addresses));
    for (uint32_t i = 0; i < count; i++) {
        memcpy(keys[i], s[i].seckey, 32);
        memcpy(addresses[i], s[i].address, 20);
    }
    int rc = bench_workload_setup(cfg, (const uint8_t(*)[32])keys, (const uint8_t(*)[20])addresses,
                                  count, res, contract, progress, err, err_len);
    OPENSSL_cleanse(keys, (size_t)count * sizeof(*keys));
    free(keys);
    free(addresses);
    return rc;
}

/* Receipt statuses of a random sample of the committed transactions. */
static void sample_receipts(const struct bench_config *cfg, const struct load *l, struct rng *r,
                            struct bench_result *res)
{
    uint8_t(*committed)[32] = xcalloc(l->n > 0 ? l->n : 1, sizeof(*committed));
    uint64_t m = 0;
    for (uint64_t i = 0; i < l->n; i++) {
        if (l->commit_us[i] != BENCH_NOT_COMMITTED)
            memcpy(committed[m++], l->hash[i], 32);
    }
    bench_sample_receipts(cfg, (const uint8_t(*)[32])committed, m, r, res);
    free(committed);
}

int bench_run(const struct bench_config *cfg, struct bench_result *res, FILE *progress, char *err,
              size_t err_len)
{
    struct sender *senders = NULL;
    struct signed_txs signed_txs = { 0 };
    struct load *l = NULL;
    u256 gas_price;
    uint32_t count = 0;
    memset(res, 0, sizeof(*res));
    res->ticks_per_s = sysconf(_SC_CLK_TCK);
    if (err_len > 0)
        err[0] = '\0';
    int rc = load_senders(cfg, &senders, &count, err, err_len);
    if (rc != TC_OK)
        return rc;
    res->senders = count;
    res->seed = cfg->has_seed ? cfg->seed : rng_fresh_seed();
    struct rng rng;
    rng_seed(&rng, res->seed);
    if (progress != NULL)
        fprintf(progress, "workload %s, seed %" PRIu64 " (--seed %" PRIu64 " replays it)\n",
                bench_workload_name(cfg->workload), res->seed, res->seed);
    uint8_t contract[20] = { 0 };
    if ((rc = setup_workload(cfg, senders, count, res, contract, progress, err, err_len)) !=
            TC_OK ||
        (rc = query_chain(cfg, senders, count, &gas_price, res, err, err_len)) != TC_OK)
        goto out_free_senders;
    uint64_t t0 = clock_monotonic_us();
    rc = presign(cfg, senders, count, res->chain_id, gas_price, contract, res->gas_limit, &rng,
                 &signed_txs, progress, err, err_len);
    res->sign_s = (double)(clock_monotonic_us() - t0) / 1e6;
    if (rc != TC_OK)
        goto out_free_signed;

    l = xcalloc(1, sizeof(*l));
    l->cfg = cfg;
    l->res = res;
    l->progress = progress;
    l->tty = progress != NULL && isatty(fileno(progress));
    l->n = cfg->txs;
    l->hash = (const uint8_t(*)[32])signed_txs.hash;
    l->send_us = xcalloc(l->n, sizeof(*l->send_us));
    l->commit_us = xmalloc(l->n * sizeof(*l->commit_us));
    for (uint64_t i = 0; i < l->n; i++)
        l->commit_us[i] = BENCH_NOT_COMMITTED;
    l->state = xcalloc(l->n, 1);
    l->error_kind = xcalloc(l->n, 1);
    l->last_block = res->start_block;
    l->sample_pid = cfg->pid > 0;
    l->pacer.rate_tps = cfg->rate_tps;
    l->pacer.outstanding = cfg->outstanding;
    l->pacer.batch = cfg->batch;
    index_build(l);
    build_batches(l, &signed_txs, cfg->batch);
    signed_txs_free(&signed_txs);
    rc = drive(l, err, err_len);
    if (rc == TC_OK)
        sample_receipts(cfg, l, &rng, res);

    for (uint64_t k = 0; k < l->batch_count; k++)
        free(l->batches[k].body);
    free(l->batches);
    free(l->index);
    free(l->error_kind);
    free(l->state);
    free(l->commit_us);
    free(l->send_us);
    free(l);
out_free_signed:
    signed_txs_free(&signed_txs);
    free(signed_txs.hash);
out_free_senders:
    OPENSSL_cleanse(senders, (size_t)count * sizeof(*senders));
    free(senders);
    return rc;
}
