/*
 * harness.c - processes, temporary chains, JSON-RPC and signing for the
 * node integration tests (see harness.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/error.h"
#include "base/rng.h"
#include "chain/tx.h"
#include "cli/cli_util.h"
#include "cli/rpc_client.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"

#define MAX_CHAINS     8
#define RPC_TIMEOUT_MS 5000
#define POLL_PERIOD_MS 50

static const char *node_binary;
static const char *cli_binary;

/* Every live chain, so that the exit and signal handlers can clean up. */
static struct itest_chain *chains[MAX_CHAINS];

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
    return remove(path);
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS);
}

static bool keep_tmp(void)
{
    const char *v = getenv("TC_KEEP_TMP");
    return v && *v && strcmp(v, "0") != 0;
}

/* Async-signal-safe: kills every registered node. */
static void kill_all_nodes(void)
{
    for (size_t i = 0; i < MAX_CHAINS; i++) {
        if (chains[i] && chains[i]->pid > 0)
            kill(chains[i]->pid, SIGKILL);
    }
}

static void on_exit_cleanup(void)
{
    for (size_t i = 0; i < MAX_CHAINS; i++) {
        if (chains[i])
            itest_chain_free(chains[i]);
    }
}

static void on_fatal_signal(int sig)
{
    kill_all_nodes();
    signal(sig, SIG_DFL);
    raise(sig);
}

void itest_init(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s TEECHAIND TEECHAIN\n", argv[0]);
        exit(2);
    }
    /* Absolute: the node runs from its own folder. */
    static char node_path[PATH_MAX], cli_path[PATH_MAX];
    if (!realpath(argv[1], node_path) || !realpath(argv[2], cli_path) ||
        access(node_path, X_OK) != 0 || access(cli_path, X_OK) != 0) {
        fprintf(stderr, "%s: %s or %s is not an executable\n", argv[0], argv[1], argv[2]);
        exit(2);
    }
    node_binary = node_path;
    cli_binary = cli_path;
    atexit(on_exit_cleanup);
    int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGALRM, SIGQUIT };
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], on_fatal_signal);
    /* A killed node must not make our writes to its sockets fatal. */
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
}

const char *itest_node_binary(void)
{
    return node_binary;
}

const char *itest_cli_binary(void)
{
    return cli_binary;
}

uint64_t itest_seed(const char *test_name)
{
    const char *env = getenv("TC_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 0) : rng_fresh_seed();
    printf("%s: seed %llu (TC_SEED=%llu replays the same choices)\n", test_name,
           (unsigned long long)seed, (unsigned long long)seed);
    return seed;
}

/* ---- files and processes ------------------------------------------------ */

char *itest_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct bytes b;
    bytes_init(&b);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        if (bytes_append(&b, buf, n) != TC_OK)
            break;
    }
    fclose(f);
    if (bytes_push(&b, 0) != TC_OK) {
        bytes_free(&b);
        return NULL;
    }
    size_t len;
    return (char *)bytes_take(&b, &len);
}

void itest_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    size_t len = strlen(text);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Waits for pid up to timeout_ms; true with *status when it exited. */
static bool wait_exit(pid_t pid, uint32_t timeout_ms, int *status)
{
    uint64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return true;
        if (r < 0 && errno != EINTR)
            return false;
        if (now_ms() >= deadline)
            return false;
        sleep_ms(10);
    }
}

int itest_run(char *const argv[], const char *cwd, uint32_t timeout_ms, char *out, size_t out_len,
              int *status)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return TC_EIO;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return TC_EIO;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        if (cwd && chdir(cwd) != 0)
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    uint64_t deadline = now_ms() + timeout_ms;
    bool timed_out = false;
    for (;;) {
        uint64_t now = now_ms();
        if (now >= deadline) {
            timed_out = true;
            break;
        }
        struct pollfd p = { .fd = fds[0], .events = POLLIN };
        int k = poll(&p, 1, (int)(deadline - now));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            continue;
        char buf[4096];
        ssize_t n = read(fds[0], buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t room = out_len > 0 ? out_len - 1 - used : 0;
        size_t take = (size_t)n < room ? (size_t)n : room;
        memcpy(out + used, buf, take);
        used += take;
    }
    close(fds[0]);
    if (out_len > 0)
        out[used] = '\0';
    if (timed_out) {
        kill(pid, SIGKILL);
        waitpid(pid, status, 0);
        return TC_ETIMEOUT;
    }
    /* The output closed: the program is ending; bound the wait anyway. */
    if (!wait_exit(pid, timeout_ms, status)) {
        kill(pid, SIGKILL);
        waitpid(pid, status, 0);
        return TC_ETIMEOUT;
    }
    return TC_OK;
}

/* ---- chains ------------------------------------------------------------- */

static void register_chain(struct itest_chain *c)
{
    for (size_t i = 0; i < MAX_CHAINS; i++) {
        if (!chains[i]) {
            chains[i] = c;
            return;
        }
    }
    fail_msg("more than %d chains at once", MAX_CHAINS);
}

static void unregister_chain(const struct itest_chain *c)
{
    for (size_t i = 0; i < MAX_CHAINS; i++) {
        if (chains[i] == c)
            chains[i] = NULL;
    }
}

/* Reads the key files of accounts/ into c->accounts, sorted by address. */
static void load_accounts(struct itest_chain *c, const char *dir, size_t expected)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".key") != 0)
            continue;
        assert_true(c->account_count < ITEST_MAX_ACCOUNTS);
        struct itest_account *a = &c->accounts[c->account_count++];
        char path[PATH_MAX + 300];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        char err[256];
        if (cli_read_key_file(path, a->key, err, sizeof(err)) != TC_OK)
            fail_msg("%s", err);
        assert_int_equal(ecdsa_address_from_seckey(a->key, a->address), TC_OK);
        itest_address_hex(a->address, a->hex);
        /* The file is named for the account's address. */
        char checksummed[CLI_ADDRESS_STR_LEN];
        cli_address_checksum(a->address, checksummed);
        assert_int_equal(strncmp(e->d_name, checksummed, 42), 0);
    }
    closedir(d);
    assert_int_equal(c->account_count, expected);
    for (size_t i = 1; i < c->account_count; i++) {
        for (size_t j = i;
             j > 0 && memcmp(c->accounts[j - 1].address, c->accounts[j].address, 20) > 0; j--) {
            struct itest_account t = c->accounts[j];
            c->accounts[j] = c->accounts[j - 1];
            c->accounts[j - 1] = t;
        }
    }
}

struct itest_chain *itest_chain_new(const char *name, unsigned port_offset, size_t accounts)
{
    assert_true(accounts >= 1 && accounts <= ITEST_MAX_ACCOUNTS);
    struct itest_chain *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    const char *tmp = getenv("TMPDIR");
    snprintf(c->root, sizeof(c->root), "%s/teechain-itest-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp",
             name);
    assert_non_null(mkdtemp(c->root));
    register_chain(c);
    c->p2p_port = (uint16_t)(ITEST_P2P_BASE + port_offset);
    c->rpc_port = (uint16_t)(ITEST_RPC_BASE + port_offset);
    snprintf(c->rpc_url, sizeof(c->rpc_url), "http://127.0.0.1:%u", c->rpc_port);
    snprintf(c->log_path, sizeof(c->log_path), "%s/node.log", c->root);

    char out_dir[PATH_MAX + 16], ports[32], count[16];
    snprintf(out_dir, sizeof(out_dir), "%s/chain", c->root);
    snprintf(ports, sizeof(ports), "%u,%u", c->p2p_port, c->rpc_port);
    snprintf(count, sizeof(count), "%zu", accounts);
    char *argv[] = {
        (char *)cli_binary, "build-chain", "-l",    "127.0.0.1:1",       "-o", out_dir, "-p", ports,
        "--accounts",       count,         "--bin", (char *)node_binary, NULL
    };
    char out[4096];
    int status = 0;
    int rc = itest_run(argv, NULL, 60000, out, sizeof(out), &status);
    if (rc != TC_OK || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("teechain build-chain failed (rc %d, status %d):\n%s", rc, status, out);
    snprintf(c->node_dir, sizeof(c->node_dir), "%s/chain/127.0.0.1/node0", c->root);
    char accounts_dir[PATH_MAX + 16];
    snprintf(accounts_dir, sizeof(accounts_dir), "%s/chain/accounts", c->root);
    load_accounts(c, accounts_dir, accounts);
    return c;
}

void itest_chain_free(struct itest_chain *c)
{
    if (!c)
        return;
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
        c->pid = 0;
    }
    unregister_chain(c);
    if (keep_tmp())
        printf("kept %s (TC_KEEP_TMP)\n", c->root);
    else
        remove_tree(c->root);
    free(c);
}

/* ---- the node process --------------------------------------------------- */

void itest_node_start(struct itest_chain *c)
{
    assert_int_equal(c->pid, 0);
    int log_fd = open(c->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    assert_true(log_fd >= 0);
    char banner[128];
    int n = snprintf(banner, sizeof(banner), "==== itest: starting teechaind\n");
    assert_int_equal(write(log_fd, banner, (size_t)n), n);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(log_fd, STDOUT_FILENO);
        dup2(log_fd, STDERR_FILENO);
        int null_fd = open("/dev/null", O_RDONLY);
        if (null_fd >= 0)
            dup2(null_fd, STDIN_FILENO);
        if (chdir(c->node_dir) != 0)
            _exit(126);
        char *argv[] = { (char *)node_binary, "-c", "config.ini", "-g", "config.genesis", NULL };
        execv(node_binary, argv);
        _exit(127);
    }
    close(log_fd);
    c->pid = pid;
}

bool itest_node_alive(struct itest_chain *c)
{
    if (c->pid <= 0)
        return false;
    int status;
    pid_t r = waitpid(c->pid, &status, WNOHANG);
    if (r == c->pid) {
        printf("teechaind (pid %d) exited: %s %d\n", (int)c->pid,
               WIFEXITED(status) ? "status" : "signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        c->pid = 0;
        return false;
    }
    return true;
}

void itest_print_log_tail(const struct itest_chain *c, size_t lines)
{
    char *text = itest_read_file(c->log_path);
    if (!text) {
        printf("(no node log at %s)\n", c->log_path);
        return;
    }
    size_t len = strlen(text), seen = 0;
    const char *start = text;
    for (size_t i = len; i > 0; i--) {
        if (text[i - 1] == '\n' && i != len && ++seen == lines) {
            start = text + i;
            break;
        }
    }
    printf("---- last lines of %s ----\n%s---- end of log ----\n", c->log_path, start);
    free(text);
}

bool itest_has_sanitizer_report(const char *text)
{
    return strstr(text, "AddressSanitizer") || strstr(text, "LeakSanitizer") ||
           strstr(text, "UndefinedBehaviorSanitizer") || strstr(text, "runtime error:");
}

void itest_assert_clean_log(const struct itest_chain *c)
{
    char *text = itest_read_file(c->log_path);
    assert_non_null(text);
    bool dirty = itest_has_sanitizer_report(text);
    free(text);
    if (dirty) {
        itest_print_log_tail(c, 60);
        fail_msg("the node's log holds a sanitizer report");
    }
}

int itest_node_wait_ready(struct itest_chain *c, uint32_t timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        if (!itest_node_alive(c)) {
            itest_print_log_tail(c, 30);
            return TC_ESTATE;
        }
        cJSON *r = itest_try_call(c->rpc_url, "eth_blockNumber", "[]", 1000, NULL, NULL, 0);
        if (r) {
            cJSON_Delete(r);
            return TC_OK;
        }
        if (now_ms() >= deadline) {
            printf("teechaind did not answer eth_blockNumber within %u ms\n", timeout_ms);
            itest_print_log_tail(c, 30);
            return TC_ETIMEOUT;
        }
        sleep_ms(POLL_PERIOD_MS);
    }
}

void itest_node_start_ready(struct itest_chain *c)
{
    itest_node_start(c);
    assert_int_equal(itest_node_wait_ready(c, ITEST_READY_TIMEOUT_MS), TC_OK);
}

void itest_node_kill9(struct itest_chain *c)
{
    assert_true(c->pid > 0);
    assert_int_equal(kill(c->pid, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
    c->pid = 0;
}

int itest_node_stop(struct itest_chain *c, uint32_t timeout_ms, int *status)
{
    assert_true(c->pid > 0);
    kill(c->pid, SIGTERM);
    bool exited = wait_exit(c->pid, timeout_ms, status);
    if (!exited) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, status, 0);
    }
    c->pid = 0;
    return exited ? TC_OK : TC_ETIMEOUT;
}

/* ---- JSON-RPC ----------------------------------------------------------- */

cJSON *itest_try_call(const char *url, const char *method, const char *params_json,
                      uint32_t timeout_ms, int64_t *code, char *err, size_t err_len)
{
    if (code)
        *code = 0;
    struct rpc_client client;
    if (rpc_client_init(&client, url, timeout_ms) != TC_OK) {
        if (err)
            snprintf(err, err_len, "%s", client.err);
        return NULL;
    }
    cJSON *params = cJSON_Parse(params_json);
    if (!params) {
        if (err)
            snprintf(err, err_len, "bad params text %s", params_json);
        return NULL;
    }
    cJSON *result = NULL;
    int rc = rpc_client_call(&client, method, params, &result);
    cJSON_Delete(params);
    if (rc != TC_OK) {
        if (code && client.has_rpc_error)
            *code = client.rpc_error_code;
        if (err)
            snprintf(err, err_len, "%s", client.err);
        return NULL;
    }
    return result;
}

cJSON *itest_call(const struct itest_chain *c, const char *method, const char *params_json)
{
    char err[512];
    cJSON *r =
        itest_try_call(c->rpc_url, method, params_json, RPC_TIMEOUT_MS, NULL, err, sizeof(err));
    if (!r)
        fail_msg("%s %s: %s", method, params_json, err);
    return r;
}

cJSON *itest_batch(const struct itest_chain *c, const char *method, char *const params[], size_t n)
{
    struct bytes body;
    bytes_init(&body);
    assert_int_equal(bytes_push(&body, '['), TC_OK);
    for (size_t i = 0; i < n; i++) {
        char head[160];
        int len = snprintf(head, sizeof(head),
                           "%s{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"%s\","
                           "\"params\":",
                           i ? "," : "", i, method);
        assert_int_equal(bytes_append(&body, head, (size_t)len), TC_OK);
        assert_int_equal(bytes_append(&body, params[i], strlen(params[i])), TC_OK);
        assert_int_equal(bytes_push(&body, '}'), TC_OK);
    }
    assert_int_equal(bytes_push(&body, ']'), TC_OK);
    struct rpc_client client;
    assert_int_equal(rpc_client_init(&client, c->rpc_url, RPC_TIMEOUT_MS * 2), TC_OK);
    char *response = NULL;
    size_t response_len = 0;
    int rc = rpc_client_post(&client, (const char *)body.ptr, body.len, &response, &response_len);
    bytes_free(&body);
    if (rc != TC_OK)
        fail_msg("batch of %zu %s: %s", n, method, client.err);
    cJSON *answers = cJSON_Parse(response);
    free(response);
    assert_non_null(answers);
    assert_true(cJSON_IsArray(answers));
    assert_int_equal(cJSON_GetArraySize(answers), n);
    cJSON *results = cJSON_CreateArray();
    assert_non_null(results);
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(results, cJSON_CreateNull());
    const cJSON *a;
    cJSON_ArrayForEach(a, answers)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
        assert_true(cJSON_IsNumber(id));
        assert_true(id->valuedouble >= 0 && id->valuedouble < (double)n);
        const cJSON *result = cJSON_GetObjectItemCaseSensitive(a, "result");
        if (result)
            cJSON_ReplaceItemInArray(results, (int)id->valuedouble, cJSON_Duplicate(result, true));
    }
    cJSON_Delete(answers);
    return results;
}

uint64_t itest_json_u64(const cJSON *item)
{
    if (!cJSON_IsString(item))
        fail_msg("expected a quantity, got %s", item ? "another JSON type" : "nothing");
    const char *s = item->valuestring;
    assert_true(s[0] == '0' && s[1] == 'x' && s[2] != '\0');
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s + 2, &end, 16);
    assert_int_equal(errno, 0);
    assert_true(*end == '\0');
    return (uint64_t)v;
}

u256 itest_json_u256(const cJSON *item)
{
    assert_true(cJSON_IsString(item));
    u256 v;
    if (u256_from_hex(item->valuestring, &v) != TC_OK)
        fail_msg("not a 256-bit quantity: %s", item->valuestring);
    return v;
}

const char *itest_json_str(const cJSON *obj, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsString(item))
        fail_msg("member %s is missing or not a string", name);
    return item->valuestring;
}

uint64_t itest_block_number(const struct itest_chain *c)
{
    cJSON *r = itest_call(c, "eth_blockNumber", "[]");
    uint64_t n = itest_json_u64(r);
    cJSON_Delete(r);
    return n;
}

cJSON *itest_wait_receipt(const struct itest_chain *c, const char *hash_hex, uint32_t timeout_ms)
{
    char params[96];
    snprintf(params, sizeof(params), "[\"%s\"]", hash_hex);
    uint64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        cJSON *r = itest_try_call(c->rpc_url, "eth_getTransactionReceipt", params, RPC_TIMEOUT_MS,
                                  NULL, NULL, 0);
        if (r && cJSON_IsObject(r))
            return r;
        cJSON_Delete(r);
        if (now_ms() >= deadline)
            return NULL;
        sleep_ms(POLL_PERIOD_MS);
    }
}

/* ---- transactions ------------------------------------------------------- */

void itest_address_hex(const uint8_t address[20], char out[43])
{
    out[0] = '0';
    out[1] = 'x';
    hex_encode(address, 20, out + 2);
}

char *itest_sign_transfer(const struct itest_transfer *t, const uint8_t key[32], char hash_hex[67])
{
    struct tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = t->legacy ? TX_LEGACY : TX_DYNAMIC_FEE;
    tx.chain_id = t->chain_id;
    tx.eip155 = t->legacy;
    tx.nonce = t->nonce;
    tx.gas_price = u256_zero();
    tx.max_fee_per_gas = u256_zero();
    tx.max_priority_fee_per_gas = u256_zero();
    tx.gas_limit = t->gas_limit;
    tx.has_to = true;
    memcpy(tx.to, t->to, 20);
    tx.value = t->value;
    tx.data = bytes_view_of(t->data, t->data_len);
    assert_int_equal(tx_sign(&tx, key), TC_OK);
    return itest_tx_hex(&tx, hash_hex);
}

char *itest_tx_hex(const struct tx *tx, char hash_hex[67])
{
    struct bytes raw;
    bytes_init(&raw);
    assert_int_equal(tx_encode(tx, &raw), TC_OK);
    uint8_t hash[32];
    keccak256(raw.ptr, raw.len, hash);
    hash_hex[0] = '0';
    hash_hex[1] = 'x';
    hex_encode(hash, 32, hash_hex + 2);
    char *out = malloc(2 * raw.len + 3);
    assert_non_null(out);
    out[0] = '0';
    out[1] = 'x';
    hex_encode(raw.ptr, raw.len, out + 2);
    bytes_free(&raw);
    return out;
}
