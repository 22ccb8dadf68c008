/* bench_sweep.c - `teechain bench sweep`: fresh chains, one bench run per offered load. */
#include "cli/bench_sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/mem.h"
#include "cli/cli_util.h"
#include "cli/rpc_client.h"

#define EXIT_USAGE       2
#define POLL_PERIOD_MS   100u
#define PROBE_TIMEOUT_MS 500u

const char bench_sweep_usage[] =
    "usage: teechain bench sweep --config NAME:OPTIONS [--config ...] --loads R1,R2,...\n"
    "                            --out DIR [options]\n"
    "\n"
    "For each configuration and each offered load: builds a fresh chain with\n"
    "`teechain build-chain OPTIONS` in a temporary folder, starts its nodes,\n"
    "waits for a leader, runs the `teechain bench` measurement at that rate (open\n"
    "loop), stops the nodes and writes the JSON report to\n"
    "DIR/<NAME>-<workload>-<load>.json, with a \"sweep\" member.\n"
    "\n"
    "      --config NAME:OPTIONS  a chain: NAME ([A-Za-z0-9_.-]) and build-chain\n"
    "                             options, e.g. 'raft4:-l 127.0.0.1:4' (repeatable,\n"
    "                             at most 16; not -o, -p or --accounts)\n"
    "      --loads R1,R2,...      offered loads in tx/s (at most 32)\n"
    "      --workload W           transfer (default) or erc20 (or kv)\n"
    "      --txs-per-load N       transactions per run (default: load x --seconds)\n"
    "      --seconds S            sending time per run when --txs-per-load is not\n"
    "                             given (default 5)\n"
    "      --out DIR              where the JSON reports go (created)\n"
    "      --bin-dir DIR          folder of teechaind (default: this program's)\n"
    "      --accounts N           funded accounts of each chain (default 100)\n"
    "      --ports P2P,RPC        port bases of the chains (default 23100,23000)\n"
    "      --spread               send to every node (default: the leader only)\n"
    "      --warmup S             measurement warm-up in seconds (default 1)\n"
    "      --timeout S            seconds to wait for commits after the last send\n"
    "                             (default 30)\n"
    "      --seed S               seed of the measurement (default: fresh)\n"
    "      --keep                 keep each chain's folder (path printed)\n"
    "  -h, --help                 this text\n"
    "\n"
    "Exit status: 0 every run done, 1 a run failed (the others are still made),\n"
    "2 usage error.\n";

enum {
    OPT_CONFIG = 256,
    OPT_LOADS,
    OPT_WORKLOAD,
    OPT_TXS_PER_LOAD,
    OPT_SECONDS,
    OPT_OUT,
    OPT_BIN_DIR,
    OPT_ACCOUNTS,
    OPT_PORTS,
    OPT_SPREAD,
    OPT_WARMUP,
    OPT_TIMEOUT,
    OPT_SEED,
    OPT_KEEP,
};

static bool copy_str(char *dst, size_t cap, const char *src)
{
    return (size_t)snprintf(dst, cap, "%s", src) < cap;
}

/* ---- pure parts -------------------------------------------------------------- */

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* Options the sweep sets itself, so that a configuration cannot override them. */
static bool is_reserved_option(const char *w)
{
    static const char *const reserved[] = { "-o", "--output", "-p", "--ports", "--accounts" };
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        size_t n = strlen(reserved[i]);
        if (strncmp(w, reserved[i], n) == 0 && (w[n] == '\0' || w[n] == '='))
            return true;
    }
    /* Short options glued to their value: -oDIR, -p30300,20200. */
    return (w[0] == '-' && (w[1] == 'o' || w[1] == 'p'));
}

int bench_sweep_parse_chain(const char *arg, struct sweep_chain *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    const char *colon = strchr(arg, ':');
    if (colon == NULL) {
        snprintf(err, err_len, "expected NAME:OPTIONS, got '%s'", arg);
        return TC_EINVAL;
    }
    size_t name_len = (size_t)(colon - arg);
    if (name_len == 0 || name_len >= sizeof(out->name)) {
        snprintf(err, err_len, "configuration name must be 1..%zu characters",
                 sizeof(out->name) - 1);
        return TC_EINVAL;
    }
    for (size_t i = 0; i < name_len; i++) {
        if (!is_name_char(arg[i])) {
            snprintf(err, err_len, "configuration name may hold only A-Z a-z 0-9 _ - .: '%.*s'",
                     (int)name_len, arg);
            return TC_EINVAL;
        }
    }
    memcpy(out->name, arg, name_len);
    if (!copy_str(out->options, sizeof(out->options), colon + 1)) {
        snprintf(err, err_len, "options of %s too long", out->name);
        return TC_EINVAL;
    }
    const char *p = colon + 1;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        size_t len = strcspn(p, " \t");
        if (out->word_count == SWEEP_MAX_CHAIN_WORDS) {
            snprintf(err, err_len, "more than %d options in %s", SWEEP_MAX_CHAIN_WORDS, out->name);
            return TC_EINVAL;
        }
        char *w = out->words[out->word_count];
        memcpy(w, p, len); /* len < sizeof(options) == sizeof(words[0]) */
        w[len] = '\0';
        if (is_reserved_option(w)) {
            snprintf(err, err_len, "%s: option %s is set by the sweep", out->name, w);
            return TC_EINVAL;
        }
        out->word_count++;
        p += len;
    }
    if (out->word_count == 0) {
        snprintf(err, err_len, "%s: no build-chain options (e.g. -l 127.0.0.1:1)", out->name);
        return TC_EINVAL;
    }
    return TC_OK;
}

int bench_sweep_parse_loads(const char *arg, uint32_t *loads, size_t cap, size_t *count)
{
    *count = 0;
    const char *p = arg;
    for (;;) {
        size_t len = strcspn(p, ",");
        char item[16];
        uint64_t v;
        if (len == 0 || len >= sizeof(item) || *count == cap)
            return TC_EINVAL;
        memcpy(item, p, len);
        item[len] = '\0';
        if (cli_parse_u64(item, &v) != TC_OK || v < 1 || v > SWEEP_MAX_LOAD_TPS)
            return TC_EINVAL;
        loads[(*count)++] = (uint32_t)v;
        if (p[len] == '\0')
            return TC_OK;
        p += len + 1;
    }
}

uint64_t bench_sweep_txs_for_load(uint64_t txs_per_load, uint32_t seconds, uint32_t load_tps)
{
    uint64_t txs = txs_per_load != 0 ? txs_per_load : (uint64_t)load_tps * seconds;
    if (txs < 1)
        return 1;
    return txs > BENCH_MAX_TXS ? BENCH_MAX_TXS : txs;
}

int bench_sweep_file_name(char *out, size_t cap, const char *chain, enum bench_workload w,
                          uint32_t load_tps)
{
    int n = snprintf(out, cap, "%s-%s-%" PRIu32 ".json", chain, bench_workload_name(w), load_tps);
    return n < 0 || (size_t)n >= cap ? TC_ETOOBIG : TC_OK;
}

int bench_sweep_annotate(cJSON *doc, const struct sweep_run_info *info)
{
    cJSON *s = cJSON_CreateObject();
    if (s == NULL)
        return TC_ENOMEM;
    cJSON_AddStringToObject(s, "config", info->chain->name);
    cJSON_AddStringToObject(s, "build_chain_options", info->chain->options);
    cJSON_AddNumberToObject(s, "offered_load_tps", info->offered_load_tps);
    cJSON_AddNumberToObject(s, "txs", (double)info->txs);
    cJSON_AddNumberToObject(s, "nodes", (double)info->node_count);
    cJSON_AddNumberToObject(s, "leader", (double)info->leader_index);
    cJSON_AddStringToObject(s, "target", info->spread ? "all" : "leader");
    cJSON_AddStringToObject(s, "command", info->sweep_command);
    /* cJSON reports allocation failures only through missing members. */
    if (cJSON_GetObjectItemCaseSensitive(s, "command") == NULL ||
        !cJSON_AddItemToObject(doc, "sweep", s)) {
        cJSON_Delete(s);
        return TC_ENOMEM;
    }
    return TC_OK;
}

/* ---- options ------------------------------------------------------------------ */

static int usage_error(const char *fmt, const char *detail)
{
    fprintf(stderr, "teechain bench sweep: ");
    fprintf(stderr, fmt, detail);
    fprintf(stderr, "\n(see teechain bench sweep --help)\n");
    return EXIT_USAGE;
}

/* Whole seconds, or seconds with up to three decimals, into ms (at most 3600 s). */
static bool parse_seconds_ms(const char *s, uint32_t *ms)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0 && v <= 3600))
        return false;
    *ms = (uint32_t)(v * 1000.0 + 0.5);
    return true;
}

static int apply_option(struct sweep_config *cfg, int opt, const char *arg)
{
    char err[256];
    uint64_t v;
    switch (opt) {
    case OPT_CONFIG:
        if (cfg->chain_count == SWEEP_MAX_CONFIGS)
            return usage_error("--config: at most 16 configurations%s", "");
        if (bench_sweep_parse_chain(arg, &cfg->chains[cfg->chain_count], err, sizeof(err)) != 0)
            return usage_error("--config: %s", err);
        for (size_t i = 0; i < cfg->chain_count; i++)
            if (strcmp(cfg->chains[i].name, cfg->chains[cfg->chain_count].name) == 0)
                return usage_error("--config: name %s given twice", cfg->chains[i].name);
        cfg->chain_count++;
        return 0;
    case OPT_LOADS:
        if (bench_sweep_parse_loads(arg, cfg->loads_tps, SWEEP_MAX_LOADS, &cfg->load_count) != 0)
            return usage_error("--loads: expected up to 32 loads 1..1000000 tx/s, e.g. "
                               "1000,2000, got %s",
                               arg);
        return 0;
    case OPT_WORKLOAD:
        if (strcmp(arg, "transfer") == 0)
            cfg->workload = BENCH_WORKLOAD_TRANSFER;
        else if (strcmp(arg, "erc20") == 0)
            cfg->workload = BENCH_WORKLOAD_ERC20;
        else if (strcmp(arg, "kv") == 0)
            cfg->workload = BENCH_WORKLOAD_KV;
        else
            return usage_error("--workload: expected transfer, erc20 or kv, got %s", arg);
        return 0;
    case OPT_TXS_PER_LOAD:
        if (cli_parse_u64(arg, &v) != TC_OK || v < 1 || v > BENCH_MAX_TXS)
            return usage_error("--txs-per-load: expected 1..10000000, got %s", arg);
        cfg->txs_per_load = v;
        return 0;
    case OPT_SECONDS:
        if (cli_parse_u64(arg, &v) != TC_OK || v < 1 || v > 3600)
            return usage_error("--seconds: expected 1..3600, got %s", arg);
        cfg->seconds = (uint32_t)v;
        return 0;
    case OPT_OUT:
        if (arg[0] == '\0' || !copy_str(cfg->out_dir, sizeof(cfg->out_dir), arg))
            return usage_error("--out: bad folder '%s'", arg);
        return 0;
    case OPT_BIN_DIR:
        if (arg[0] == '\0' || !copy_str(cfg->bin_dir, sizeof(cfg->bin_dir), arg))
            return usage_error("--bin-dir: bad folder '%s'", arg);
        return 0;
    case OPT_ACCOUNTS:
        if (cli_parse_u64(arg, &v) != TC_OK || v < 1 || v > BENCH_MAX_SENDERS)
            return usage_error("--accounts: expected 1..10000, got %s", arg);
        cfg->accounts = (uint32_t)v;
        return 0;
    case OPT_PORTS: {
        uint64_t p2p, rpc;
        char a[16], b[16];
        const char *comma = strchr(arg, ',');
        if (comma == NULL || (size_t)(comma - arg) >= sizeof(a) || strlen(comma + 1) >= sizeof(b))
            return usage_error("--ports: expected P2P,RPC, got %s", arg);
        memcpy(a, arg, (size_t)(comma - arg));
        a[comma - arg] = '\0';
        copy_str(b, sizeof(b), comma + 1);
        if (cli_parse_u64(a, &p2p) != TC_OK || cli_parse_u64(b, &rpc) != TC_OK || p2p < 1024 ||
            rpc < 1024 || p2p > 65000 || rpc > 65000)
            return usage_error("--ports: expected two port bases 1024..65000, got %s", arg);
        cfg->p2p_port = (uint32_t)p2p;
        cfg->rpc_port = (uint32_t)rpc;
        return 0;
    }
    case OPT_SPREAD:
        cfg->spread = true;
        return 0;
    case OPT_KEEP:
        cfg->keep = true;
        return 0;
    case OPT_WARMUP:
        if (!parse_seconds_ms(arg, &cfg->warmup_ms))
            return usage_error("--warmup: expected seconds 0..3600, got %s", arg);
        return 0;
    case OPT_TIMEOUT:
        if (!parse_seconds_ms(arg, &cfg->timeout_ms))
            return usage_error("--timeout: expected seconds 0..3600, got %s", arg);
        return 0;
    case OPT_SEED:
        if (cli_parse_u64(arg, &v) != TC_OK)
            return usage_error("--seed: expected an unsigned 64-bit integer, got %s", arg);
        cfg->seed = v;
        cfg->has_seed = true;
        return 0;
    default:
        return EXIT_USAGE;
    }
}

static void record_command_line(struct sweep_config *cfg, int argc, char **argv)
{
    size_t len = (size_t)snprintf(cfg->command_line, sizeof(cfg->command_line), "teechain bench");
    for (int i = 0; i < argc && len < sizeof(cfg->command_line); i++) {
        bool quote = argv[i][0] == '\0' || strpbrk(argv[i], " \t'\"$\\") != NULL;
        len += (size_t)snprintf(cfg->command_line + len, sizeof(cfg->command_line) - len,
                                quote ? " '%s'" : " %s", argv[i]);
    }
}

int bench_sweep_parse_options(int argc, char **argv, struct sweep_config *cfg)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, OPT_CONFIG },
        { "loads", required_argument, NULL, OPT_LOADS },
        { "workload", required_argument, NULL, OPT_WORKLOAD },
        { "txs-per-load", required_argument, NULL, OPT_TXS_PER_LOAD },
        { "seconds", required_argument, NULL, OPT_SECONDS },
        { "out", required_argument, NULL, OPT_OUT },
        { "bin-dir", required_argument, NULL, OPT_BIN_DIR },
        { "accounts", required_argument, NULL, OPT_ACCOUNTS },
        { "ports", required_argument, NULL, OPT_PORTS },
        { "spread", no_argument, NULL, OPT_SPREAD },
        { "warmup", required_argument, NULL, OPT_WARMUP },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "seed", required_argument, NULL, OPT_SEED },
        { "keep", no_argument, NULL, OPT_KEEP },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    memset(cfg, 0, sizeof(*cfg));
    cfg->seconds = SWEEP_DEFAULT_SECONDS;
    cfg->accounts = SWEEP_DEFAULT_ACCOUNTS;
    cfg->p2p_port = SWEEP_DEFAULT_P2P_PORT;
    cfg->rpc_port = SWEEP_DEFAULT_RPC_PORT;
    cfg->warmup_ms = BENCH_DEFAULT_WARMUP_MS;
    cfg->timeout_ms = 30000;
    record_command_line(cfg, argc, argv);
    optind = 0; /* glibc: 0 re-initialises the parser completely */
    opterr = 0;
    for (;;) {
        int opt = getopt_long(argc, argv, "+h", opts, NULL);
        if (opt == -1)
            break;
        if (opt == 'h') {
            fputs(bench_sweep_usage, stdout);
            return 1;
        }
        if (opt == '?' || opt == ':')
            return usage_error("bad option or missing value: %s", argv[optind - 1]);
        int status = apply_option(cfg, opt, optarg);
        if (status != 0)
            return status;
    }
    if (optind != argc)
        return usage_error("unexpected argument %s", argv[optind]);
    if (cfg->chain_count == 0)
        return usage_error("give at least one --config NAME:OPTIONS%s", "");
    if (cfg->load_count == 0)
        return usage_error("give --loads R1,R2,...%s", "");
    if (cfg->out_dir[0] == '\0')
        return usage_error("give --out DIR%s", "");
    return 0;
}

/* ---- processes ------------------------------------------------------------------ */

struct sweep_node {
    char dir[1024];
    char rpc_url[128];
    pid_t pid; /* 0 = not running */
};

struct sweep_chain_run {
    char work_dir[256]; /* the temporary folder */
    struct sweep_node nodes[SWEEP_MAX_NODES];
    size_t node_count;
    size_t leader;
};

/*
 * Starts argv[0] (a path) with argv in dir ("" = here), stdout and stderr to
 * log_path (appended). The child is killed if the sweep dies, so that no node
 * outlives it. Returns the pid or -1.
 */
static pid_t spawn(char *const argv[], const char *dir, const char *log_path)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (dir[0] != '\0' && chdir(dir) != 0)
        _exit(127);
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    int null_fd = open("/dev/null", O_RDONLY);
    if (fd < 0 || null_fd < 0)
        _exit(127);
    dup2(null_fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    execv(argv[0], argv);
    _exit(127);
}

/* Waits up to timeout_ms for pid; true with *status when it ended. */
static bool wait_bounded(pid_t pid, uint32_t timeout_ms, int *status)
{
    uint64_t deadline = clock_monotonic_ms() + timeout_ms;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return true;
        if (clock_monotonic_ms() >= deadline)
            return false;
        clock_sleep_ms(20);
    }
}

/* SIGTERM, then SIGKILL after SWEEP_STOP_TIMEOUT_MS; always reaps. */
static void stop_process(pid_t pid)
{
    int status;
    kill(pid, SIGTERM);
    if (!wait_bounded(pid, SWEEP_STOP_TIMEOUT_MS, &status)) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
}

static void stop_nodes(struct sweep_chain_run *run)
{
    /* Signal all first, so that they shut down in parallel, then reap each. */
    for (size_t i = 0; i < run->node_count; i++)
        if (run->nodes[i].pid > 0)
            kill(run->nodes[i].pid, SIGTERM);
    for (size_t i = 0; i < run->node_count; i++) {
        if (run->nodes[i].pid > 0)
            stop_process(run->nodes[i].pid);
        run->nodes[i].pid = 0;
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int run_build_chain(const struct sweep_config *cfg, const struct sweep_chain *chain,
                           const char *self, struct sweep_chain_run *run, char *err, size_t err_len)
{
    char out[512], ports[32], accounts[16], log_path[512];
    snprintf(out, sizeof(out), "%s/nodes", run->work_dir);
    snprintf(ports, sizeof(ports), "%u,%u", (unsigned)cfg->p2p_port, (unsigned)cfg->rpc_port);
    snprintf(accounts, sizeof(accounts), "%u", (unsigned)cfg->accounts);
    snprintf(log_path, sizeof(log_path), "%s/build-chain.log", run->work_dir);
    char *argv[SWEEP_MAX_CHAIN_WORDS + 10];
    size_t n = 0;
    argv[n++] = (char *)self;
    argv[n++] = "build-chain";
    for (size_t i = 0; i < chain->word_count; i++)
        argv[n++] = (char *)chain->words[i];
    argv[n++] = "-o";
    argv[n++] = out;
    argv[n++] = "-p";
    argv[n++] = ports;
    argv[n++] = "--accounts";
    argv[n++] = accounts;
    argv[n] = NULL;
    pid_t pid = spawn(argv, "", log_path);
    int status = 0;
    if (pid < 0) {
        snprintf(err, err_len, "cannot fork build-chain: %s", strerror(errno));
        return TC_EIO;
    }
    if (!wait_bounded(pid, SWEEP_BUILD_TIMEOUT_MS, &status)) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        snprintf(err, err_len, "build-chain did not finish in %u s", SWEEP_BUILD_TIMEOUT_MS / 1000);
        return TC_ETIMEOUT;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* The folder goes away with the chain: quote the log's first line. */
        char line[256] = "";
        FILE *f = fopen(log_path, "r");
        if (f != NULL) {
            if (fgets(line, sizeof(line), f) == NULL)
                line[0] = '\0';
            line[strcspn(line, "\n")] = '\0';
            fclose(f);
        }
        snprintf(err, err_len, "build-chain %s failed: %s", chain->options, line);
        return TC_EINVAL;
    }
    return TC_OK;
}

/* The [rpc] listen_ip and listen_port of a node's config.ini, as a URL. */
static bool node_rpc_url(const char *dir, char *url, size_t cap)
{
    char path[1100], line[512], ip[64] = "127.0.0.1";
    long port = -1;
    bool in_rpc = false;
    snprintf(path, sizeof(path), "%s/config.ini", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    while (fgets(line, sizeof(line), f) != NULL) {
        char key[64], value[64];
        if (line[0] == '[') {
            in_rpc = strncmp(line, "[rpc]", 5) == 0;
            continue;
        }
        if (!in_rpc || sscanf(line, " %63[a-z_] = %63s", key, value) != 2)
            continue;
        if (strcmp(key, "listen_ip") == 0)
            copy_str(ip, sizeof(ip), strcmp(value, "0.0.0.0") == 0 ? "127.0.0.1" : value);
        else if (strcmp(key, "listen_port") == 0)
            port = strtol(value, NULL, 10);
    }
    fclose(f);
    if (port <= 0 || port > 65535)
        return false;
    return (size_t)snprintf(url, cap, "http://%s:%ld", ip, port) < cap;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The node folders of the chain: nodes/<host>/node<i>, host by host in name order. */
static int find_nodes(struct sweep_chain_run *run, char *err, size_t err_len)
{
    char root[512];
    snprintf(root, sizeof(root), "%s/nodes", run->work_dir);
    DIR *d = opendir(root);
    if (d == NULL) {
        snprintf(err, err_len, "build-chain wrote no %s", root);
        return TC_EIO;
    }
    char *hosts[SWEEP_MAX_NODES];
    size_t host_count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && host_count < SWEEP_MAX_NODES) {
        char probe[1024];
        struct stat st;
        snprintf(probe, sizeof(probe), "%s/%s/node0/config.ini", root, e->d_name);
        if (e->d_name[0] != '.' && stat(probe, &st) == 0)
            hosts[host_count++] = xstrdup(e->d_name);
    }
    closedir(d);
    qsort(hosts, host_count, sizeof(hosts[0]), compare_names);
    run->node_count = 0;
    int rc = TC_OK;
    for (size_t h = 0; h < host_count; h++) {
        for (unsigned i = 0; rc == TC_OK; i++) {
            struct sweep_node *n = &run->nodes[run->node_count];
            struct stat st;
            char ini[1100];
            snprintf(n->dir, sizeof(n->dir), "%s/%s/node%u", root, hosts[h], i);
            snprintf(ini, sizeof(ini), "%s/config.ini", n->dir);
            if (stat(ini, &st) != 0)
                break;
            if (run->node_count == SWEEP_MAX_NODES) {
                snprintf(err, err_len, "more than %d nodes", SWEEP_MAX_NODES);
                rc = TC_EINVAL;
            } else if (!node_rpc_url(n->dir, n->rpc_url, sizeof(n->rpc_url))) {
                snprintf(err, err_len, "no [rpc] listen_port in %s", ini);
                rc = TC_EINVAL;
            } else {
                n->pid = 0;
                run->node_count++;
            }
        }
        free(hosts[h]);
    }
    if (rc == TC_OK && run->node_count == 0) {
        snprintf(err, err_len, "no node folder under %s", root);
        rc = TC_EIO;
    }
    return rc;
}

static int start_nodes(struct sweep_chain_run *run, const char *teechaind, char *err,
                       size_t err_len)
{
    for (size_t i = 0; i < run->node_count; i++) {
        struct sweep_node *n = &run->nodes[i];
        char log_path[1100];
        snprintf(log_path, sizeof(log_path), "%s/sweep-node.log", n->dir);
        char *argv[] = { (char *)teechaind, "-c", "config.ini", "-g", "config.genesis", NULL };
        n->pid = spawn(argv, n->dir, log_path);
        if (n->pid < 0) {
            n->pid = 0;
            snprintf(err, err_len, "cannot fork teechaind: %s", strerror(errno));
            return TC_EIO;
        }
    }
    return TC_OK;
}

/* 1 leader, 0 answered and not leader, -1 no answer. */
static int probe_leader(const char *url)
{
    struct rpc_client c;
    cJSON *res = NULL;
    if (rpc_client_init(&c, url, PROBE_TIMEOUT_MS) != TC_OK ||
        rpc_client_call(&c, "getConsensusStatus", NULL, &res) != TC_OK)
        return -1;
    const cJSON *leader = cJSON_GetObjectItemCaseSensitive(res, "isLeader");
    int answer = cJSON_IsTrue(leader) ? 1 : 0;
    cJSON_Delete(res);
    return answer;
}

/* Bounded: every node answers and one is leader, or an error (a node died, timeout). */
static int wait_for_leader(struct sweep_chain_run *run, char *err, size_t err_len)
{
    uint64_t deadline = clock_monotonic_ms() + SWEEP_START_TIMEOUT_MS;
    for (;;) {
        size_t answered = 0, leaders = 0;
        for (size_t i = 0; i < run->node_count; i++) {
            int status;
            if (waitpid(run->nodes[i].pid, &status, WNOHANG) == run->nodes[i].pid) {
                snprintf(err, err_len, "node %zu exited at start-up (see %s/sweep-node.log)", i,
                         run->nodes[i].dir);
                run->nodes[i].pid = 0;
                return TC_EIO;
            }
            int r = probe_leader(run->nodes[i].rpc_url);
            if (r >= 0)
                answered++;
            if (r == 1) {
                leaders++;
                run->leader = i;
            }
        }
        if (answered == run->node_count && leaders == 1)
            return TC_OK;
        if (clock_monotonic_ms() >= deadline) {
            snprintf(err, err_len, "%zu of %zu nodes answering, %zu leader(s) after %u s", answered,
                     run->node_count, leaders, SWEEP_START_TIMEOUT_MS / 1000);
            return TC_ETIMEOUT;
        }
        clock_sleep_ms(POLL_PERIOD_MS);
    }
}

/* The bench options of one run, parsed by bench_parse_options as if typed. */
static int measurement_config(const struct sweep_config *cfg, const struct sweep_chain_run *run,
                              uint32_t load, uint64_t txs, struct bench_config *bc)
{
    char rpc[1024] = "", accounts[512], txs_s[24], rate[16], pid[16], warmup[24], timeout[24],
         seed[24];
    size_t len = 0;
    for (size_t i = 0; i < run->node_count; i++) {
        if (!cfg->spread && i != run->leader)
            continue;
        len += (size_t)snprintf(rpc + len, sizeof(rpc) - len, "%s%s", len > 0 ? "," : "",
                                run->nodes[i].rpc_url);
        if (len >= sizeof(rpc))
            return TC_ETOOBIG;
    }
    snprintf(accounts, sizeof(accounts), "%s/nodes/accounts", run->work_dir);
    snprintf(txs_s, sizeof(txs_s), "%" PRIu64, txs);
    snprintf(rate, sizeof(rate), "%" PRIu32, load);
    snprintf(pid, sizeof(pid), "%d", (int)run->nodes[run->leader].pid);
    snprintf(warmup, sizeof(warmup), "%.3f", cfg->warmup_ms / 1000.0);
    snprintf(timeout, sizeof(timeout), "%.3f", cfg->timeout_ms / 1000.0);
    snprintf(seed, sizeof(seed), "%" PRIu64, cfg->seed);
    char *argv[] = { "bench",
                     "--rpc",
                     rpc,
                     "--accounts",
                     accounts,
                     "--txs",
                     txs_s,
                     "--rate",
                     rate,
                     "--pid",
                     pid,
                     "--warmup",
                     warmup,
                     "--timeout",
                     timeout,
                     "--workload",
                     (char *)bench_workload_name(cfg->workload),
                     "--seed",
                     seed,
                     NULL };
    int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
    if (!cfg->has_seed)
        argc -= 2; /* the last pair: a fresh seed per run */
    argv[argc] = NULL;
    return bench_parse_options(argc, argv, bc) == 0 ? TC_OK : TC_EINVAL;
}

static int write_report(const char *path, const cJSON *doc)
{
    char *text = cJSON_Print(doc);
    if (text == NULL)
        return TC_ENOMEM;
    int rc = TC_OK;
    FILE *f = fopen(path, "w");
    if (f == NULL || fprintf(f, "%s\n", text) < 0)
        rc = TC_EIO;
    if (f != NULL && fclose(f) != 0)
        rc = TC_EIO;
    free(text);
    return rc;
}

/* Measures one started chain at load and writes the report. */
static int measure(const struct sweep_config *cfg, const struct sweep_chain *chain,
                   const struct sweep_chain_run *run, uint32_t load, char *err, size_t err_len)
{
    struct bench_config *bc = xcalloc(1, sizeof(*bc));
    struct bench_result *res = xcalloc(1, sizeof(*res));
    uint64_t txs = bench_sweep_txs_for_load(cfg->txs_per_load, cfg->seconds, load);
    cJSON *doc = NULL;
    char name[256], path[1024];
    int rc = measurement_config(cfg, run, load, txs, bc);
    if (rc != TC_OK) {
        snprintf(err, err_len, "cannot form the measurement's options");
        goto out_free;
    }
    rc = bench_run(bc, res, stderr, err, err_len);
    if (rc != TC_OK)
        goto out_free;
    struct bench_machine m;
    bench_machine_probe(&m);
    doc = bench_report_json(bc, res, &m);
    struct sweep_run_info info = {
        .chain = chain,
        .offered_load_tps = load,
        .txs = txs,
        .node_count = run->node_count,
        .leader_index = run->leader,
        .spread = cfg->spread,
        .sweep_command = cfg->command_line,
    };
    if (doc == NULL || bench_sweep_annotate(doc, &info) != TC_OK) {
        rc = TC_ENOMEM;
        snprintf(err, err_len, "out of memory for the report");
        goto out_free;
    }
    rc = bench_sweep_file_name(name, sizeof(name), chain->name, cfg->workload, load);
    if (rc == TC_OK &&
        (size_t)snprintf(path, sizeof(path), "%s/%s", cfg->out_dir, name) >= sizeof(path))
        rc = TC_ETOOBIG;
    if (rc == TC_OK)
        rc = write_report(path, doc);
    if (rc != TC_OK) {
        snprintf(err, err_len, "cannot write the report %s/%s", cfg->out_dir, name);
        goto out_free;
    }
    const struct bench_latency *lat = &res->latency;
    printf("%-12s %-8s offered %7" PRIu32 " tx/s  committed %9.1f tx/s  p50 %7.1f  p99 %7.1f  "
           "max %7.1f ms  %" PRIu64 "/%" PRIu64 " committed%s  -> %s\n",
           chain->name, bench_workload_name(cfg->workload), load, res->window.tps,
           lat->p50_us / 1000.0, lat->p99_us / 1000.0, lat->max_us / 1000.0, res->committed,
           res->sent, res->timed_out ? " (TIMED OUT)" : "", path);
    fflush(stdout);
out_free:
    cJSON_Delete(doc);
    free(res);
    free(bc);
    return rc;
}

/* Stops the chain's nodes and removes its folder (unless --keep). */
static void discard_chain(const struct sweep_config *cfg, struct sweep_chain_run *run)
{
    stop_nodes(run);
    if (cfg->keep)
        fprintf(stderr, "teechain bench sweep: kept %s\n", run->work_dir);
    else
        nftw(run->work_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh chain in a new temporary folder, started, with a leader. On
 * failure the chain is already discarded. */
static int start_chain(const struct sweep_config *cfg, const struct sweep_chain *chain,
                       const char *self, const char *teechaind, struct sweep_chain_run *run,
                       bool *retryable, char *err, size_t err_len)
{
    *retryable = false;
    memset(run, 0, sizeof(*run));
    copy_str(run->work_dir, sizeof(run->work_dir), "/tmp/tc-sweep-XXXXXX");
    if (mkdtemp(run->work_dir) == NULL) {
        snprintf(err, err_len, "cannot make a temporary folder: %s", strerror(errno));
        return TC_EIO;
    }
    int rc = run_build_chain(cfg, chain, self, run, err, err_len);
    if (rc == TC_OK)
        rc = find_nodes(run, err, err_len);
    if (rc == TC_OK) {
        /* From here a failure can be the machine's (a port taken): worth a new chain. */
        *retryable = true;
        rc = start_nodes(run, teechaind, err, err_len);
    }
    if (rc == TC_OK)
        rc = wait_for_leader(run, err, err_len);
    if (rc != TC_OK)
        discard_chain(cfg, run);
    return rc;
}

/* One configuration at one load: fresh chain, start, measure, stop (always), clean.
 * A start that fails after build-chain is retried on a new chain: a node can find its port
 * taken by another program's outgoing connection (ports from 32768 are also
 * the kernel's ephemeral range). */
static int sweep_one(const struct sweep_config *cfg, const struct sweep_chain *chain, uint32_t load,
                     const char *self, const char *teechaind, char *err, size_t err_len)
{
    struct sweep_chain_run *run = xcalloc(1, sizeof(*run));
    int rc = TC_EIO;
    for (unsigned attempt = 1; attempt <= SWEEP_START_ATTEMPTS; attempt++) {
        bool retryable = false;
        rc = start_chain(cfg, chain, self, teechaind, run, &retryable, err, err_len);
        if (rc == TC_OK || !retryable)
            break;
        if (attempt < SWEEP_START_ATTEMPTS)
            fprintf(stderr,
                    "teechain bench sweep: start failed (%s); new chain, attempt %u of %u\n", err,
                    attempt + 1, SWEEP_START_ATTEMPTS);
    }
    if (rc == TC_OK) {
        rc = measure(cfg, chain, run, load, err, err_len);
        discard_chain(cfg, run);
    }
    free(run);
    return rc;
}

/* The folder of the running program, from /proc/self/exe. */
static bool self_paths(char *self, size_t cap, char *dir, size_t dir_cap)
{
    ssize_t n = readlink("/proc/self/exe", self, cap - 1);
    if (n <= 0 || (size_t)n >= cap - 1)
        return false;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash == NULL || (size_t)(slash - self) >= dir_cap)
        return false;
    memcpy(dir, self, (size_t)(slash - self));
    dir[slash - self] = '\0';
    return true;
}

int bench_sweep_command_run(int argc, char **argv)
{
    struct sweep_config *cfg = xcalloc(1, sizeof(*cfg));
    char self[1024], self_dir[1024], teechaind[PATH_MAX], err[4096];
    int status = bench_sweep_parse_options(argc, argv, cfg);
    if (status != 0) {
        status = status == 1 ? 0 : status;
        goto out_free;
    }
    if (!self_paths(self, sizeof(self), self_dir, sizeof(self_dir))) {
        fprintf(stderr, "teechain bench sweep: cannot find this program's path\n");
        status = 1;
        goto out_free;
    }
    char given[1100];
    snprintf(given, sizeof(given), "%s/teechaind",
             cfg->bin_dir[0] != '\0' ? cfg->bin_dir : self_dir);
    /* Absolute: each node is started from inside its own folder. */
    if (realpath(given, teechaind) == NULL || access(teechaind, X_OK) != 0) {
        fprintf(stderr, "teechain bench sweep: no executable %s (see --bin-dir)\n", given);
        status = 1;
        goto out_free;
    }
    if (mkdir(cfg->out_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "teechain bench sweep: cannot create %s: %s\n", cfg->out_dir,
                strerror(errno));
        status = 1;
        goto out_free;
    }
    size_t failed = 0, total = cfg->chain_count * cfg->load_count;
    for (size_t c = 0; c < cfg->chain_count; c++) {
        for (size_t l = 0; l < cfg->load_count; l++) {
            const struct sweep_chain *chain = &cfg->chains[c];
            uint32_t load = cfg->loads_tps[l];
            fprintf(stderr, "== sweep %s (%s), %s at %" PRIu32 " tx/s\n", chain->name,
                    chain->options, bench_workload_name(cfg->workload), load);
            err[0] = '\0';
            int rc = sweep_one(cfg, chain, load, self, teechaind, err, sizeof(err));
            if (rc != TC_OK) {
                failed++;
                fprintf(stderr, "teechain bench sweep: %s at %" PRIu32 " tx/s: %s\n", chain->name,
                        load, err[0] != '\0' ? err : tc_strerror(rc));
            }
        }
    }
    fprintf(stderr, "teechain bench sweep: %zu of %zu runs done, reports in %s\n", total - failed,
            total, cfg->out_dir);
    status = failed == 0 ? 0 : 1;
out_free:
    free(cfg);
    return status;
}
