/*
 * test_bank.c - a 4-node Raft chain of real teechaind processes on loopback
 * under a bank workload: K funded accounts send random transfers to each
 * other through random nodes' RPC from a background thread, while the test
 * kills the leader with SIGKILL (and restarts it) or freezes a follower with
 * SIGSTOP for longer than the Raft log tail (and thaws it with SIGCONT).
 *
 * After every scenario: every transaction that got a receipt is in the
 * ledger of every node exactly once (same block number, hash and index from
 * eth_getTransactionReceipt everywhere; its block holds it once), all nodes
 * have the same block hash at every height up to the common head and the
 * same stateRoot there, the bank's total balance has not changed (gas
 * price is 0), and no transfer of the workload is left without a receipt
 * once the workload has stopped and waited for the ones in flight.
 *
 * Every wait is bounded and no timing is asserted. Randomness (transfer
 * targets and values, which node gets a request) comes from one seed,
 * printed, overridable with TC_SEED. Ports: P2P 32700.., RPC 22700.., four
 * per scenario. TC_KEEP_TMP=1 keeps the chain folders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/rng.h"
#include "base/u256.h"
#include "cli/cli_util.h"
#include "crypto/ecdsa.h"
#include "harness.h"

#define NODES            4
#define ACCOUNTS         16
#define TXS_PER_ACCOUNT  400
#define P2P_BASE         32700
#define RPC_BASE         22700
#define LOG_TAIL         8
#define KILL_ROUNDS      2
#define ELECTION_MS      600
#define HEARTBEAT_MS     60
#define RPC_TIMEOUT_MS   1000
#define RESEND_AFTER_MS  2000
#define PACE_MS          20
#define DRAIN_MS         15000
#define WAIT_LEADER_MS   30000
#define WAIT_PROGRESS_MS 30000
#define WAIT_CONVERGE_MS 60000
#define WAIT_ADVANCE_MS  60000
#define MAX_RECEIPTS     (ACCOUNTS * TXS_PER_ACCOUNT)
#define BATCH            64
#define TRANSFER_GAS     21000
#define INITIAL_BALANCE  "1000000000000000000000000"
#define SYNC_DONE_LINE   "block sync done"
#define SILENT_LINE      "disconnected: silent for"
#define WAIT_DROPPED_MS  30000

/* One pre-signed transfer: account a's transaction with nonce n. */
struct signed_tx {
    char *raw;
    char hash[67];
};

/* The bank's accounts and their pre-signed transfers. */
struct bank {
    struct itest_account accounts[ACCOUNTS];
    struct signed_tx txs[ACCOUNTS][TXS_PER_ACCOUNT];
};

/* The background workload: one transaction in flight per account. */
struct workload {
    pthread_t thread;
    bool running;
    atomic_bool stop;      /* stop sending new transactions, drain the ones in flight */
    atomic_bool up[NODES]; /* the nodes the workload may talk to */
    struct rng rng;        /* used by the workload thread only */
    pthread_mutex_t lock;
    char (*receipted)[67]; /* hashes of transactions that got a receipt */
    size_t receipted_count;
    uint64_t sent;
    uint64_t resent;
    /* Transactions still without a receipt when the drain ended. */
    const struct signed_tx *unreceipted[ACCOUNTS];
    size_t unreceipted_count;
};

struct cluster {
    char root[512];
    char chain_dir[600];
    struct itest_chain *nodes[NODES];
    struct bank *bank;
    struct workload wl;
    uint64_t seed;
};

static struct cluster *live_cluster;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = { ms / 1000u, (long)(ms % 1000u) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static bool keep_tmp(void)
{
    const char *v = getenv("TC_KEEP_TMP");
    return v && *v && strcmp(v, "0") != 0;
}

/* ---- the chain ---------------------------------------------------------- */

/* Replaces the line starting with `key = ` in text (malloc'ed) by `key = value`. */
static char *replace_key(char *text, const char *key, const char *value)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "\n%s = ", key);
    char *at = strstr(text, needle);
    if (!at)
        fail_msg("config.genesis has no key %s", key);
    char *end = strchr(at + 1, '\n');
    assert_non_null(end);
    size_t out_len = strlen(text) + strlen(value) + 64;
    char *out = malloc(out_len);
    assert_non_null(out);
    snprintf(out, out_len, "%.*s\n%s = %s%s", (int)(at - text), text, key, value, end);
    free(text);
    return out;
}

/* Faster elections in every config.genesis (identically) and a short log
 * tail in every config.ini, so that a frozen follower needs block sync. */
static void tune_node(const char *node_dir)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/config.genesis", node_dir);
    char *genesis = itest_read_file(path);
    assert_non_null(genesis);
    char v[32];
    snprintf(v, sizeof(v), "%d", ELECTION_MS);
    genesis = replace_key(genesis, "election_timeout_ms", v);
    snprintf(v, sizeof(v), "%d", HEARTBEAT_MS);
    genesis = replace_key(genesis, "heartbeat_ms", v);
    itest_write_file(path, genesis);
    free(genesis);

    snprintf(path, sizeof(path), "%s/config.ini", node_dir);
    char *ini = itest_read_file(path);
    assert_non_null(ini);
    assert_null(strstr(ini, "[consensus]"));
    size_t len = strlen(ini) + 64;
    char *out = malloc(len);
    assert_non_null(out);
    snprintf(out, len, "%s\n[consensus]\nlog_tail = %d\n", ini, LOG_TAIL);
    itest_write_file(path, out);
    free(out);
    free(ini);
}

static void load_accounts(struct bank *bank, const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".key") != 0)
            continue;
        assert_true(count < ACCOUNTS);
        struct itest_account *a = &bank->accounts[count++];
        char path[PATH_MAX + 300];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        char err[256];
        if (cli_read_key_file(path, a->key, err, sizeof(err)) != TC_OK)
            fail_msg("%s", err);
        assert_int_equal(ecdsa_address_from_seckey(a->key, a->address), TC_OK);
        itest_address_hex(a->address, a->hex);
    }
    closedir(d);
    assert_int_equal(count, ACCOUNTS);
}

/* Signs every account's transfers for nonces 0..TXS_PER_ACCOUNT-1: random
 * other account, random value of 1..1000 wei. */
static void presign(struct bank *bank, struct rng *rng)
{
    for (size_t a = 0; a < ACCOUNTS; a++) {
        for (size_t n = 0; n < TXS_PER_ACCOUNT; n++) {
            size_t to = (a + 1 + rng_below(rng, ACCOUNTS - 1)) % ACCOUNTS;
            struct itest_transfer t = {
                .chain_id = ITEST_CHAIN_ID,
                .nonce = n,
                .value = u256_from_u64(rng_range(rng, 1, 1000)),
                .gas_limit = TRANSFER_GAS,
                .legacy = rng_chance(rng, 250000) != 0,
            };
            memcpy(t.to, bank->accounts[to].address, 20);
            bank->txs[a][n].raw =
                itest_sign_transfer(&t, bank->accounts[a].key, bank->txs[a][n].hash);
        }
    }
}

static void cluster_free(struct cluster *c);

static struct cluster *cluster_new(const char *name, unsigned scenario)
{
    struct cluster *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    live_cluster = c;
    c->seed = itest_seed(name);
    rng_seed(&c->wl.rng, c->seed);
    pthread_mutex_init(&c->wl.lock, NULL);
    c->wl.receipted = calloc(MAX_RECEIPTS, sizeof(*c->wl.receipted));
    assert_non_null(c->wl.receipted);
    const char *tmp = getenv("TMPDIR");
    snprintf(c->root, sizeof(c->root), "%s/teechain-citest-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp",
             name);
    assert_non_null(mkdtemp(c->root));
    snprintf(c->chain_dir, sizeof(c->chain_dir), "%s/chain", c->root);

    unsigned p2p = P2P_BASE + scenario * NODES, rpc = RPC_BASE + scenario * NODES;
    char ports[32], count[16], hosts[32];
    snprintf(ports, sizeof(ports), "%u,%u", p2p, rpc);
    snprintf(count, sizeof(count), "%d", ACCOUNTS);
    snprintf(hosts, sizeof(hosts), "127.0.0.1:%d", NODES);
    char *argv[] = { (char *)itest_cli_binary(),
                     "build-chain",
                     "-l",
                     hosts,
                     "-o",
                     c->chain_dir,
                     "-p",
                     ports,
                     "--accounts",
                     count,
                     "--bin",
                     (char *)itest_node_binary(),
                     NULL };
    char out[4096];
    int status = 0;
    int rc = itest_run(argv, NULL, 60000, out, sizeof(out), &status);
    if (rc != TC_OK || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("teechain build-chain failed (rc %d, status %d):\n%s", rc, status, out);

    for (unsigned i = 0; i < NODES; i++) {
        struct itest_chain *n = calloc(1, sizeof(*n));
        assert_non_null(n);
        c->nodes[i] = n;
        snprintf(n->root, sizeof(n->root), "%s", c->root);
        snprintf(n->node_dir, sizeof(n->node_dir), "%s/127.0.0.1/node%u", c->chain_dir, i);
        snprintf(n->log_path, sizeof(n->log_path), "%s/node%u.log", c->root, i);
        n->p2p_port = (uint16_t)(p2p + i);
        n->rpc_port = (uint16_t)(rpc + i);
        snprintf(n->rpc_url, sizeof(n->rpc_url), "http://127.0.0.1:%u", n->rpc_port);
        tune_node(n->node_dir);
    }
    c->bank = calloc(1, sizeof(*c->bank));
    assert_non_null(c->bank);
    char accounts_dir[PATH_MAX + 16];
    snprintf(accounts_dir, sizeof(accounts_dir), "%s/accounts", c->chain_dir);
    load_accounts(c->bank, accounts_dir);
    presign(c->bank, &c->wl.rng);
    return c;
}

static void workload_stop(struct cluster *c);

static void cluster_free(struct cluster *c)
{
    if (!c)
        return;
    workload_stop(c);
    for (unsigned i = 0; i < NODES; i++) {
        struct itest_chain *n = c->nodes[i];
        if (!n)
            continue;
        if (n->pid > 0) {
            kill(n->pid, SIGKILL);
            waitpid(n->pid, NULL, 0);
        }
        free(n);
    }
    if (c->bank) {
        for (size_t a = 0; a < ACCOUNTS; a++)
            for (size_t k = 0; k < TXS_PER_ACCOUNT; k++)
                free(c->bank->txs[a][k].raw);
        free(c->bank);
    }
    if (c->root[0]) {
        if (keep_tmp())
            printf("kept %s (TC_KEEP_TMP)\n", c->root);
        else
            nftw(c->root, remove_entry, 32, FTW_DEPTH | FTW_PHYS);
    }
    free(c->wl.receipted);
    pthread_mutex_destroy(&c->wl.lock);
    if (live_cluster == c)
        live_cluster = NULL;
    free(c);
}

static void cleanup_at_exit(void)
{
    cluster_free(live_cluster);
}

static void start_all(struct cluster *c)
{
    for (unsigned i = 0; i < NODES; i++)
        itest_node_start(c->nodes[i]);
    for (unsigned i = 0; i < NODES; i++) {
        assert_int_equal(itest_node_wait_ready(c->nodes[i], ITEST_READY_TIMEOUT_MS), TC_OK);
        atomic_store(&c->wl.up[i], true);
    }
}

/* A member of getConsensusStatus on node i; NULL when it does not answer. */
static cJSON *consensus_status(const struct cluster *c, unsigned i)
{
    return itest_try_call(c->nodes[i]->rpc_url, "getConsensusStatus", "[]", RPC_TIMEOUT_MS, NULL,
                          NULL, 0);
}

/* Waits for a node other than `except` (NODES: any) among the up ones to
 * report isLeader; returns its index. Asserts. */
static unsigned wait_leader(struct cluster *c, unsigned except)
{
    uint64_t deadline = now_ms() + WAIT_LEADER_MS;
    while (now_ms() < deadline) {
        for (unsigned i = 0; i < NODES; i++) {
            if (i == except || !atomic_load(&c->wl.up[i]))
                continue;
            cJSON *st = consensus_status(c, i);
            bool leader = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "isLeader"));
            cJSON_Delete(st);
            if (leader)
                return i;
        }
        sleep_ms(50);
    }
    fail_msg("no leader among the running nodes within %d ms", WAIT_LEADER_MS);
    return NODES;
}

/* eth_blockNumber of node i, or false if it does not answer. */
static bool try_block_number(const struct cluster *c, unsigned i, uint64_t *number)
{
    cJSON *r = itest_try_call(c->nodes[i]->rpc_url, "eth_blockNumber", "[]", RPC_TIMEOUT_MS, NULL,
                              NULL, 0);
    bool ok = cJSON_IsString(r);
    if (ok)
        *number = strtoull(r->valuestring, NULL, 16);
    cJSON_Delete(r);
    return ok;
}

/* The first 16 hex digits of node i's node ID (how the logs name it). Asserts. */
static void node_id_prefix(const struct cluster *c, unsigned i, char out[17])
{
    cJSON *st = itest_call(c->nodes[i], "getConsensusStatus", "[]");
    const char *id = itest_json_str(st, "nodeID");
    if (id[0] == '0' && id[1] == 'x')
        id += 2;
    assert_true(strlen(id) >= 16);
    snprintf(out, 17, "%s", id);
    cJSON_Delete(st);
}

/* Waits until node `observer`'s log says that it dropped the connection of
 * the peer whose node ID starts with id, for silence. Asserts. */
static void wait_dropped(const struct cluster *c, unsigned observer, const char *id)
{
    assert_true(observer < NODES);
    char needle[64];
    snprintf(needle, sizeof(needle), "peer %s at", id);
    uint64_t deadline = now_ms() + WAIT_DROPPED_MS;
    for (;;) {
        char *log = itest_read_file(c->nodes[observer]->log_path);
        assert_non_null(log);
        bool dropped = false;
        for (const char *at = strstr(log, needle); at && !dropped; at = strstr(at + 1, needle)) {
            const char *eol = strchr(at, '\n');
            const char *silent = strstr(at, SILENT_LINE);
            dropped = silent && (!eol || silent < eol);
        }
        free(log);
        if (dropped)
            return;
        if (now_ms() >= deadline) {
            itest_print_log_tail(c->nodes[observer], 20);
            fail_msg("node%u did not drop the frozen peer %s within %d ms", observer, id,
                     WAIT_DROPPED_MS);
        }
        sleep_ms(100);
    }
}

/* ---- the workload ------------------------------------------------------- */

/* The index of a random node the workload may use, or NODES if none. */
static unsigned pick_node(struct workload *wl)
{
    unsigned start = (unsigned)rng_below(&wl->rng, NODES);
    for (unsigned k = 0; k < NODES; k++) {
        unsigned i = (start + k) % NODES;
        if (atomic_load(&wl->up[i]))
            return i;
    }
    return NODES;
}

static void send_tx(struct cluster *c, const struct signed_tx *tx)
{
    unsigned i = pick_node(&c->wl);
    if (i == NODES)
        return;
    char *params = malloc(strlen(tx->raw) + 8);
    if (!params)
        return;
    sprintf(params, "[\"%s\"]", tx->raw);
    /* An error (a node that just died, a transaction the pool already
     * holds) is fine: the transaction is sent again if no receipt comes. */
    cJSON_Delete(itest_try_call(c->nodes[i]->rpc_url, "eth_sendRawTransaction", params,
                                RPC_TIMEOUT_MS, NULL, NULL, 0));
    free(params);
}

static bool has_receipt(struct cluster *c, const struct signed_tx *tx)
{
    unsigned i = pick_node(&c->wl);
    if (i == NODES)
        return false;
    char params[80];
    snprintf(params, sizeof(params), "[\"%s\"]", tx->hash);
    cJSON *r = itest_try_call(c->nodes[i]->rpc_url, "eth_getTransactionReceipt", params,
                              RPC_TIMEOUT_MS, NULL, NULL, 0);
    bool ok = cJSON_IsObject(r);
    cJSON_Delete(r);
    return ok;
}

/* One transaction in flight per account: the next nonce is sent only after
 * the previous one got a receipt, so that a transaction lost with a killed
 * node never leaves a nonce gap; one without a receipt after
 * RESEND_AFTER_MS is sent again (the same bytes, so never twice in the
 * ledger). After `stop`, no new transaction is sent and the ones in flight
 * are waited for up to DRAIN_MS. */
static void *workload_main(void *arg)
{
    struct cluster *c = arg;
    struct workload *wl = &c->wl;
    uint64_t nonce[ACCOUNTS] = { 0 };
    uint64_t sent_at[ACCOUNTS] = { 0 };
    bool in_flight[ACCOUNTS] = { false };
    uint64_t drain_deadline = 0;
    for (;;) {
        bool stopping = atomic_load(&wl->stop);
        if (stopping && drain_deadline == 0)
            drain_deadline = now_ms() + DRAIN_MS;
        bool any_in_flight = false;
        for (size_t a = 0; a < ACCOUNTS; a++) {
            if (in_flight[a]) {
                const struct signed_tx *tx = &c->bank->txs[a][nonce[a]];
                if (has_receipt(c, tx)) {
                    pthread_mutex_lock(&wl->lock);
                    memcpy(wl->receipted[wl->receipted_count++], tx->hash, 67);
                    pthread_mutex_unlock(&wl->lock);
                    in_flight[a] = false;
                    nonce[a]++;
                } else if (now_ms() - sent_at[a] >= RESEND_AFTER_MS) {
                    send_tx(c, tx);
                    sent_at[a] = now_ms();
                    pthread_mutex_lock(&wl->lock);
                    wl->resent++;
                    pthread_mutex_unlock(&wl->lock);
                }
            }
            if (!in_flight[a] && !stopping && nonce[a] < TXS_PER_ACCOUNT) {
                send_tx(c, &c->bank->txs[a][nonce[a]]);
                sent_at[a] = now_ms();
                in_flight[a] = true;
                pthread_mutex_lock(&wl->lock);
                wl->sent++;
                pthread_mutex_unlock(&wl->lock);
            }
            any_in_flight |= in_flight[a];
        }
        if (stopping && (!any_in_flight || now_ms() >= drain_deadline)) {
            for (size_t a = 0; a < ACCOUNTS; a++) {
                if (in_flight[a])
                    wl->unreceipted[wl->unreceipted_count++] = &c->bank->txs[a][nonce[a]];
            }
            break;
        }
        sleep_ms(PACE_MS);
    }
    return NULL;
}

static void workload_start(struct cluster *c)
{
    atomic_store(&c->wl.stop, false);
    assert_int_equal(pthread_create(&c->wl.thread, NULL, workload_main, c), 0);
    c->wl.running = true;
}

static void workload_stop(struct cluster *c)
{
    if (!c->wl.running)
        return;
    atomic_store(&c->wl.stop, true);
    pthread_join(c->wl.thread, NULL);
    c->wl.running = false;
    printf("workload: %llu sent, %llu sent again, %zu got a receipt\n",
           (unsigned long long)c->wl.sent, (unsigned long long)c->wl.resent, c->wl.receipted_count);
}

static size_t receipted_count(struct cluster *c)
{
    pthread_mutex_lock(&c->wl.lock);
    size_t n = c->wl.receipted_count;
    pthread_mutex_unlock(&c->wl.lock);
    return n;
}

/* Waits until `more` transactions beyond `from` got a receipt. Asserts. */
static void wait_receipts(struct cluster *c, size_t from, size_t more, const char *what)
{
    uint64_t deadline = now_ms() + WAIT_PROGRESS_MS;
    while (receipted_count(c) < from + more) {
        if (now_ms() >= deadline)
            fail_msg("%s: %zu transactions got a receipt, waited for %zu", what,
                     receipted_count(c) - from, more);
        sleep_ms(50);
    }
}

/* ---- the checks after a scenario ---------------------------------------- */

/* Waits until every node reports the same head number and hash. Asserts. */
static uint64_t wait_converged(struct cluster *c)
{
    uint64_t deadline = now_ms() + WAIT_CONVERGE_MS;
    for (;;) {
        uint64_t numbers[NODES];
        bool same = true;
        for (unsigned i = 0; i < NODES && same; i++) {
            same = try_block_number(c, i, &numbers[i]) && numbers[i] == numbers[0];
        }
        if (same) {
            char params[64];
            snprintf(params, sizeof(params), "[\"0x%llx\",false]", (unsigned long long)numbers[0]);
            char first[67] = "";
            for (unsigned i = 0; i < NODES && same; i++) {
                cJSON *b = itest_try_call(c->nodes[i]->rpc_url, "eth_getBlockByNumber", params,
                                          RPC_TIMEOUT_MS, NULL, NULL, 0);
                const cJSON *h = cJSON_GetObjectItemCaseSensitive(b, "hash");
                if (!cJSON_IsString(h))
                    same = false;
                else if (i == 0)
                    snprintf(first, sizeof(first), "%s", h->valuestring);
                else
                    same = strcmp(first, h->valuestring) == 0;
                cJSON_Delete(b);
            }
            if (same)
                return numbers[0];
        }
        if (now_ms() >= deadline) {
            for (unsigned i = 0; i < NODES; i++) {
                uint64_t n = 0;
                bool ok = try_block_number(c, i, &n);
                printf("node%u: head %s%llu\n", i, ok ? "" : "(no answer) ", (unsigned long long)n);
                itest_print_log_tail(c->nodes[i], 15);
            }
            fail_msg("the nodes did not reach the same head within %d ms", WAIT_CONVERGE_MS);
        }
        sleep_ms(100);
    }
}

/* Blocks 0..head of node i (hashes of their transactions only). */
static cJSON *fetch_blocks(struct cluster *c, unsigned i, uint64_t head)
{
    cJSON *all = cJSON_CreateArray();
    assert_non_null(all);
    for (uint64_t from = 0; from <= head; from += BATCH) {
        size_t n = head - from + 1 < BATCH ? (size_t)(head - from + 1) : BATCH;
        char *params[BATCH];
        for (size_t k = 0; k < n; k++) {
            params[k] = malloc(48);
            assert_non_null(params[k]);
            snprintf(params[k], 48, "[\"0x%llx\",false]", (unsigned long long)(from + k));
        }
        cJSON *blocks = itest_batch(c->nodes[i], "eth_getBlockByNumber", params, n);
        for (size_t k = 0; k < n; k++)
            free(params[k]);
        while (cJSON_GetArraySize(blocks) > 0) {
            cJSON *b = cJSON_DetachItemFromArray(blocks, 0);
            if (!cJSON_IsObject(b))
                fail_msg("node%u: no block %llu", i, (unsigned long long)cJSON_GetArraySize(all));
            cJSON_AddItemToArray(all, b);
        }
        cJSON_Delete(blocks);
    }
    return all;
}

static int compare_hashes(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* How many times hash occurs in the sorted array. */
static size_t occurrences(const char **sorted, size_t n, const char *hash)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(sorted[mid], hash) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t count = 0;
    while (lo + count < n && strcmp(sorted[lo + count], hash) == 0)
        count++;
    return count;
}

/* Same block hash at every height up to head and the same stateRoot. */
static void check_same_blocks(cJSON *blocks[NODES], uint64_t head)
{
    for (uint64_t h = 0; h <= head; h++) {
        const cJSON *b0 = cJSON_GetArrayItem(blocks[0], (int)h);
        assert_int_equal(itest_json_u64(cJSON_GetObjectItemCaseSensitive(b0, "number")), h);
        for (unsigned i = 1; i < NODES; i++) {
            const cJSON *bi = cJSON_GetArrayItem(blocks[i], (int)h);
            if (strcmp(itest_json_str(b0, "hash"), itest_json_str(bi, "hash")) != 0)
                fail_msg("block %llu: node0 has %s, node%u has %s", (unsigned long long)h,
                         itest_json_str(b0, "hash"), i, itest_json_str(bi, "hash"));
            assert_string_equal(itest_json_str(b0, "stateRoot"), itest_json_str(bi, "stateRoot"));
        }
    }
}

/* Every receipted transaction: in the ledger exactly once, and the same
 * receipt position (block number, hash, index) on every node, pointing at
 * the block that holds it. */
static void check_receipted(struct cluster *c, cJSON *blocks[NODES], uint64_t head)
{
    size_t total = 0;
    for (uint64_t h = 0; h <= head; h++) {
        const cJSON *b = cJSON_GetArrayItem(blocks[0], (int)h);
        total += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(b, "transactions"));
    }
    const char **sorted = calloc(total + 1, sizeof(*sorted));
    assert_non_null(sorted);
    size_t k = 0;
    for (uint64_t h = 0; h <= head; h++) {
        const cJSON *b = cJSON_GetArrayItem(blocks[0], (int)h);
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(b, "transactions"))
        {
            assert_true(cJSON_IsString(t));
            sorted[k++] = t->valuestring;
        }
    }
    qsort(sorted, total, sizeof(*sorted), compare_hashes);

    size_t n = c->wl.receipted_count;
    printf("checking %zu receipted transactions in %llu blocks (%zu transactions) on %d nodes\n", n,
           (unsigned long long)head, total, NODES);
    for (size_t from = 0; from < n; from += BATCH) {
        size_t m = n - from < BATCH ? n - from : BATCH;
        char *params[BATCH];
        for (size_t j = 0; j < m; j++) {
            const char *hash = c->wl.receipted[from + j];
            size_t times = occurrences(sorted, total, hash);
            if (times != 1)
                fail_msg("transaction %s is in the ledger %zu times", hash, times);
            params[j] = malloc(80);
            assert_non_null(params[j]);
            snprintf(params[j], 80, "[\"%s\"]", hash);
        }
        cJSON *first = NULL;
        for (unsigned i = 0; i < NODES; i++) {
            cJSON *receipts = itest_batch(c->nodes[i], "eth_getTransactionReceipt", params, m);
            for (size_t j = 0; j < m; j++) {
                const cJSON *r = cJSON_GetArrayItem(receipts, (int)j);
                if (!cJSON_IsObject(r))
                    fail_msg("node%u has no receipt for %s", i, c->wl.receipted[from + j]);
                uint64_t number =
                    itest_json_u64(cJSON_GetObjectItemCaseSensitive(r, "blockNumber"));
                uint64_t index =
                    itest_json_u64(cJSON_GetObjectItemCaseSensitive(r, "transactionIndex"));
                assert_true(number <= head);
                const cJSON *b = cJSON_GetArrayItem(blocks[i], (int)number);
                assert_string_equal(itest_json_str(r, "blockHash"), itest_json_str(b, "hash"));
                const cJSON *at = cJSON_GetArrayItem(
                    cJSON_GetObjectItemCaseSensitive(b, "transactions"), (int)index);
                assert_true(cJSON_IsString(at));
                assert_string_equal(at->valuestring, c->wl.receipted[from + j]);
                if (first) {
                    const cJSON *r0 = cJSON_GetArrayItem(first, (int)j);
                    assert_string_equal(itest_json_str(r, "blockHash"),
                                        itest_json_str(r0, "blockHash"));
                    assert_string_equal(itest_json_str(r, "transactionIndex"),
                                        itest_json_str(r0, "transactionIndex"));
                    assert_string_equal(itest_json_str(r, "blockNumber"),
                                        itest_json_str(r0, "blockNumber"));
                }
            }
            if (first)
                cJSON_Delete(receipts);
            else
                first = receipts;
        }
        cJSON_Delete(first);
        for (size_t j = 0; j < m; j++)
            free(params[j]);
    }
    free(sorted);
}

/* The sum of the bank's balances on node i equals ACCOUNTS x the genesis
 * allocation. */
static void check_total_balance(struct cluster *c, unsigned i)
{
    char *params[ACCOUNTS];
    for (size_t a = 0; a < ACCOUNTS; a++) {
        params[a] = malloc(64);
        assert_non_null(params[a]);
        snprintf(params[a], 64, "[\"%s\",\"latest\"]", c->bank->accounts[a].hex);
    }
    cJSON *balances = itest_batch(c->nodes[i], "eth_getBalance", params, ACCOUNTS);
    u256 total = u256_zero(), each;
    assert_int_equal(u256_from_dec(INITIAL_BALANCE, &each), TC_OK);
    u256 expected = u256_mul(each, u256_from_u64(ACCOUNTS));
    for (size_t a = 0; a < ACCOUNTS; a++) {
        total = u256_add(total, itest_json_u256(cJSON_GetArrayItem(balances, (int)a)));
        free(params[a]);
    }
    cJSON_Delete(balances);
    if (!u256_eq(total, expected)) {
        char got[U256_DEC_LEN], want[U256_DEC_LEN];
        u256_to_dec(total, got);
        u256_to_dec(expected, want);
        fail_msg("node%u: the bank holds %s, it was given %s", i, got, want);
    }
}

/* Prints what every node knows of the transactions that got no receipt
 * while the workload drained (not a failure by itself: the workload stops
 * waiting after DRAIN_MS; a transaction is only checked once it has a
 * receipt). */
static void report_unreceipted(struct cluster *c)
{
    for (size_t k = 0; k < c->wl.unreceipted_count; k++) {
        const struct signed_tx *tx = c->wl.unreceipted[k];
        char params[80];
        snprintf(params, sizeof(params), "[\"%s\"]", tx->hash);
        printf("no receipt after the drain: %s\n", tx->hash);
        for (unsigned i = 0; i < NODES; i++) {
            cJSON *t = itest_try_call(c->nodes[i]->rpc_url, "eth_getTransactionByHash", params,
                                      RPC_TIMEOUT_MS, NULL, NULL, 0);
            cJSON *r = itest_try_call(c->nodes[i]->rpc_url, "eth_getTransactionReceipt", params,
                                      RPC_TIMEOUT_MS, NULL, NULL, 0);
            cJSON *p = itest_try_call(c->nodes[i]->rpc_url, "getPendingTxSize", "[]",
                                      RPC_TIMEOUT_MS, NULL, NULL, 0);
            const cJSON *nonce = cJSON_GetObjectItemCaseSensitive(t, "nonce");
            const cJSON *from = cJSON_GetObjectItemCaseSensitive(t, "from");
            char count_params[96];
            snprintf(count_params, sizeof(count_params), "[\"%s\",\"latest\"]",
                     cJSON_IsString(from) ? from->valuestring : "0x");
            cJSON *count = itest_try_call(c->nodes[i]->rpc_url, "eth_getTransactionCount",
                                          count_params, RPC_TIMEOUT_MS, NULL, NULL, 0);
            const cJSON *block = cJSON_GetObjectItemCaseSensitive(t, "blockNumber");
            char *ps = p ? cJSON_PrintUnformatted(p) : NULL;
            printf("  node%u: %s (nonce %s, sender's mined count %s, block %s), receipt %s, "
                   "getPendingTxSize %s\n",
                   i, cJSON_IsObject(t) ? "known" : "unknown",
                   cJSON_IsString(nonce) ? nonce->valuestring : "-",
                   cJSON_IsString(count) ? count->valuestring : "-",
                   cJSON_IsString(block) ? block->valuestring : "null",
                   cJSON_IsObject(r) ? "yes" : "no", ps ? ps : "(error)");
            free(ps);
            cJSON_Delete(count);
            cJSON_Delete(t);
            cJSON_Delete(r);
            cJSON_Delete(p);
        }
    }
}

/* Stops the workload (draining what is in flight) and runs every check. */
static void check_ledgers(struct cluster *c)
{
    workload_stop(c);
    assert_true(c->wl.receipted_count > 0);
    uint64_t head = wait_converged(c);
    report_unreceipted(c);
    cJSON *blocks[NODES];
    for (unsigned i = 0; i < NODES; i++)
        blocks[i] = fetch_blocks(c, i, head);
    check_same_blocks(blocks, head);
    check_receipted(c, blocks, head);
    for (unsigned i = 0; i < NODES; i++) {
        check_total_balance(c, i);
        cJSON_Delete(blocks[i]);
        itest_assert_clean_log(c->nodes[i]);
    }
    printf("all %d nodes agree on %llu blocks; %zu receipted transactions each there once; "
           "the bank's total is unchanged\n",
           NODES, (unsigned long long)head, c->wl.receipted_count);
    /* A valid transfer held by every pool, sent again for DRAIN_MS, must be
     * mined: the chain has a leader and nothing else to do. */
    if (c->wl.unreceipted_count > 0)
        fail_msg("%zu transaction(s) got no receipt within %d ms after the workload stopped "
                 "(see above)",
                 c->wl.unreceipted_count, DRAIN_MS);
}

/* ---- scenarios ---------------------------------------------------------- */

/* Frees the scenario's cluster, also when it failed before handing it over. */
static int teardown(void **state)
{
    cluster_free(live_cluster);
    *state = NULL;
    return 0;
}

/* kill -9 of the leader under load, KILL_ROUNDS times: each time a new
 * leader is elected, the workload's transactions get receipts again, and
 * the restarted node catches up (checked by check_ledgers at the end). */
static void test_killed_leader_is_replaced_and_catches_up_after_restart(void **state)
{
    struct cluster *c = cluster_new("kill-leader", 0);
    *state = c;
    start_all(c);
    unsigned leader = wait_leader(c, NODES);
    workload_start(c);
    wait_receipts(c, 0, 4 * ACCOUNTS, "before the first kill");

    for (unsigned round = 1; round <= KILL_ROUNDS; round++) {
        printf("round %u: kill -9 the leader, node%u\n", round, leader);
        atomic_store(&c->wl.up[leader], false);
        itest_node_kill9(c->nodes[leader]);
        unsigned next = wait_leader(c, leader);
        printf("node%u leads now\n", next);
        wait_receipts(c, receipted_count(c), 4 * ACCOUNTS, "after the kill");

        printf("restart node%u\n", leader);
        itest_node_start(c->nodes[leader]);
        assert_int_equal(itest_node_wait_ready(c->nodes[leader], ITEST_READY_TIMEOUT_MS), TC_OK);
        atomic_store(&c->wl.up[leader], true);
        wait_receipts(c, receipted_count(c), 4 * ACCOUNTS, "after the restart");
        leader = wait_leader(c, NODES);
    }
    check_ledgers(c);
}

/* kill -STOP of a follower until the chain is more than 3 x log_tail blocks
 * ahead of it; after kill -CONT it catches up by block sync. */
static void test_frozen_follower_catches_up_by_block_sync(void **state)
{
    struct cluster *c = cluster_new("stop-follower", 1);
    *state = c;
    start_all(c);
    unsigned leader = wait_leader(c, NODES);
    unsigned follower = (leader + 1 + (unsigned)(c->seed % (NODES - 1))) % NODES;
    workload_start(c);
    wait_receipts(c, 0, 2 * ACCOUNTS, "before the stop");

    uint64_t frozen_at = 0;
    assert_true(try_block_number(c, follower, &frozen_at));
    char follower_id[17];
    node_id_prefix(c, follower, follower_id);
    printf("kill -STOP node%u (follower) at block %llu\n", follower, (unsigned long long)frozen_at);
    atomic_store(&c->wl.up[follower], false);
    assert_int_equal(kill(c->nodes[follower]->pid, SIGSTOP), 0);

    uint64_t target = frozen_at + 3 * LOG_TAIL + 1;
    uint64_t deadline = now_ms() + WAIT_ADVANCE_MS;
    for (;;) {
        uint64_t h = 0;
        unsigned any = wait_leader(c, follower);
        if (try_block_number(c, any, &h) && h >= target)
            break;
        if (now_ms() >= deadline)
            fail_msg("the chain did not reach block %llu within %d ms (at %llu)",
                     (unsigned long long)target, WAIT_ADVANCE_MS, (unsigned long long)h);
        sleep_ms(100);
    }
    /* Until the peers drop the frozen node's connection (P2P
     * dead_peer_timeout_ms): before that, the leader's AppendEntries for
     * the whole gap sit in the frozen node's socket buffer (the in-flight
     * window is 8192 entries), and it would catch up from them without
     * needing the compacted entries. */
    printf("the chain passed block %llu; waiting for node%u's connection to be dropped\n",
           (unsigned long long)target, follower);
    wait_dropped(c, leader == follower ? NODES : leader, follower_id);
    printf("kill -CONT node%u\n", follower);
    assert_int_equal(kill(c->nodes[follower]->pid, SIGCONT), 0);
    atomic_store(&c->wl.up[follower], true);
    wait_receipts(c, receipted_count(c), 2 * ACCOUNTS, "after the thaw");
    check_ledgers(c);

    char *log = itest_read_file(c->nodes[follower]->log_path);
    assert_non_null(log);
    bool synced = strstr(log, SYNC_DONE_LINE) != NULL;
    free(log);
    if (!synced) {
        itest_print_log_tail(c->nodes[follower], 40);
        fail_msg("node%u caught up without \"%s\" in its log", follower, SYNC_DONE_LINE);
    }
}

int main(int argc, char **argv)
{
    itest_init(argc, argv);
    atexit(cleanup_at_exit);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_killed_leader_is_replaced_and_catches_up_after_restart,
                                  teardown),
        cmocka_unit_test_teardown(test_frozen_follower_catches_up_by_block_sync, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
