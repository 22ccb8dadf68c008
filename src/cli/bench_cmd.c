/* bench_cmd.c - `teechain bench`: options, the JSON report and the human table. */
#include "cli/bench.h"
#include "cli/bench_sweep.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/mem.h"
#include "cli/cli_send.h"
#include "cli/cli_util.h"
#include "cli/rpc_client.h"

#define EXIT_USAGE 2

const char bench_usage[] =
    "usage: teechain bench [options]\n"
    "       teechain bench sweep ...   offered-load sweeps over fresh chains\n"
    "                                  (teechain bench sweep --help)\n"
    "\n"
    "Pre-signs --txs transactions of a workload from the chain's funded accounts,\n"
    "sends them\n"
    "at a target rate (open loop) or with a bound on outstanding transactions\n"
    "(closed loop), polls blocks to see them committed, and reports committed TPS\n"
    "over the steady window, latency percentiles and a histogram.\n"
    "\n"
    "      --rpc URL[,URL...]     nodes; load is spread round-robin over them\n"
    "                             (default " RPC_CLIENT_DEFAULT_URL ")\n"
    "      --accounts DIR         key files 0x<address>.key (default nodes/accounts)\n"
    "      --senders M            use the first M key files by name (default all)\n"
    "      --workload W           transfer: value transfers (default); erc20:\n"
    "                             deploy BenchToken from the first account, fund\n"
    "                             each sender, then token transfer() calls to\n"
    "                             random senders; kv: deploy BenchKV, then\n"
    "                             set(key, value) calls with distinct keys.\n"
    "                             Set-up is timed apart from the measurement\n"
    "      --seed S               seed of the recipient choice and the receipt\n"
    "                             sample (default: fresh, printed)\n"
    "      --txs N                transactions in all (default 10000)\n"
    "      --rate R               offered load in tx/s, open loop; 0 = as fast as\n"
    "                             possible (default 0)\n"
    "      --outstanding N        closed loop: keep at most N sent and not yet\n"
    "                             committed or rejected (excludes --rate)\n"
    "      --connections K        keep-alive HTTP connections (default 16)\n"
    "      --batch B              eth_sendRawTransaction calls per JSON-RPC batch\n"
    "                             (default 50, at most 1000)\n"
    "      --warmup S             seconds after the first send excluded from the\n"
    "                             steady window (default 1)\n"
    "      --timeout S            seconds to wait for commits after the last send\n"
    "                             (default 60)\n"
    "      --poll-ms MS           block polling period (default 10)\n"
    "      --sign-threads T       pre-signing threads (default: online CPUs)\n"
    "      --pid PID              sample this process's CPU% and RSS (the node)\n"
    "      --json FILE            also write the JSON report to FILE; '-' writes it\n"
    "                             to stdout instead of the table\n"
    "  -h, --help                 this text\n"
    "\n"
    "Exit status: 0 done, 1 failure or transactions still uncommitted at the\n"
    "timeout (the report is written anyway), 2 usage error.\n";

enum {
    OPT_RPC = 256,
    OPT_ACCOUNTS,
    OPT_SENDERS,
    OPT_TXS,
    OPT_RATE,
    OPT_OUTSTANDING,
    OPT_CONNECTIONS,
    OPT_BATCH,
    OPT_WARMUP,
    OPT_TIMEOUT,
    OPT_POLL_MS,
    OPT_SIGN_THREADS,
    OPT_PID,
    OPT_JSON,
    OPT_WORKLOAD,
    OPT_SEED,
};

static int usage_error(const char *fmt, const char *detail)
{
    fprintf(stderr, "teechain bench: ");
    fprintf(stderr, fmt, detail);
    fprintf(stderr, "\n(see teechain bench --help)\n");
    return EXIT_USAGE;
}

/* An integer in [lo, hi]. */
static bool parse_range(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    return cli_parse_u64(s, out) == TC_OK && *out >= lo && *out <= hi;
}

/* Seconds with up to three decimals ("1", "0.5", "2.125") into ms, at most max_s. */
static bool parse_seconds(const char *s, uint32_t max_s, uint32_t *ms)
{
    uint64_t whole = 0, frac = 0;
    size_t digits = 0, frac_digits = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9' && digits < 10; p++, digits++)
        whole = whole * 10 + (uint64_t)(*p - '0');
    if (digits == 0)
        return false;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9' && frac_digits < 3; p++, frac_digits++)
            frac = frac * 10 + (uint64_t)(*p - '0');
        if (frac_digits == 0)
            return false;
        for (size_t i = frac_digits; i < 3; i++)
            frac *= 10;
    }
    if (*p != '\0' || whole > max_s || (whole == max_s && frac > 0))
        return false;
    *ms = (uint32_t)(whole * 1000 + frac);
    return true;
}

static bool copy_str(char *dst, size_t cap, const char *src)
{
    return (size_t)snprintf(dst, cap, "%s", src) < cap;
}

/* Splits cfg->rpc_list into cfg->rpc_urls; checks each with rpc_client_init. */
static int split_urls(struct bench_config *cfg)
{
    char list[sizeof(cfg->rpc_list)];
    memcpy(list, cfg->rpc_list, sizeof(list));
    cfg->rpc_url_count = 0;
    char *save = NULL;
    for (char *u = strtok_r(list, ",", &save); u != NULL; u = strtok_r(NULL, ",", &save)) {
        struct rpc_client c;
        if (cfg->rpc_url_count == BENCH_MAX_URLS)
            return usage_error("--rpc: more than 16 URLs%s", "");
        if (rpc_client_init(&c, u, RPC_CLIENT_DEFAULT_TIMEOUT_MS) != TC_OK ||
            !copy_str(cfg->rpc_urls[cfg->rpc_url_count], sizeof(cfg->rpc_urls[0]), u))
            return usage_error("--rpc: not an http://HOST[:PORT][/PATH] URL: %s", u);
        cfg->rpc_url_count++;
    }
    if (cfg->rpc_url_count == 0)
        return usage_error("--rpc: no URL in %s", cfg->rpc_list);
    return 0;
}

static void record_command_line(struct bench_config *cfg, int argc, char **argv)
{
    size_t len = (size_t)snprintf(cfg->command_line, sizeof(cfg->command_line), "teechain");
    for (int i = 0; i < argc && len < sizeof(cfg->command_line); i++) {
        bool quote = argv[i][0] == '\0' || strpbrk(argv[i], " \t'\"$\\") != NULL;
        len += (size_t)snprintf(cfg->command_line + len, sizeof(cfg->command_line) - len,
                                quote ? " '%s'" : " %s", argv[i]);
    }
}

static void set_defaults(struct bench_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    copy_str(cfg->rpc_list, sizeof(cfg->rpc_list), RPC_CLIENT_DEFAULT_URL);
    copy_str(cfg->accounts_dir, sizeof(cfg->accounts_dir), BENCH_DEFAULT_ACCOUNTS);
    cfg->txs = BENCH_DEFAULT_TXS;
    cfg->connections = BENCH_DEFAULT_CONNECTIONS;
    cfg->batch = BENCH_DEFAULT_BATCH;
    cfg->warmup_ms = BENCH_DEFAULT_WARMUP_MS;
    cfg->timeout_ms = BENCH_DEFAULT_TIMEOUT_MS;
    cfg->poll_ms = BENCH_DEFAULT_POLL_MS;
}

/* One option's value into cfg. Returns 0 or the exit status of a usage error. */
static int apply_option(struct bench_config *cfg, int opt, const char *arg, bool *have_rate)
{
    uint64_t v;
    switch (opt) {
    case OPT_RPC:
        if (!copy_str(cfg->rpc_list, sizeof(cfg->rpc_list), arg))
            return usage_error("--rpc: list too long%s", "");
        return 0;
    case OPT_ACCOUNTS:
        if (!copy_str(cfg->accounts_dir, sizeof(cfg->accounts_dir), arg))
            return usage_error("--accounts: path too long: %s", arg);
        return 0;
    case OPT_SENDERS:
        if (!parse_range(arg, 1, BENCH_MAX_SENDERS, &v))
            return usage_error("--senders: expected 1..10000, got %s", arg);
        cfg->senders = (uint32_t)v;
        return 0;
    case OPT_TXS:
        if (!parse_range(arg, 1, BENCH_MAX_TXS, &v))
            return usage_error("--txs: expected 1..10000000, got %s", arg);
        cfg->txs = v;
        return 0;
    case OPT_RATE:
        if (!parse_range(arg, 0, 10000000, &v))
            return usage_error("--rate: expected 0..10000000 tx/s, got %s", arg);
        cfg->rate_tps = (uint32_t)v;
        *have_rate = true;
        return 0;
    case OPT_OUTSTANDING:
        if (!parse_range(arg, 1, BENCH_MAX_TXS, &v))
            return usage_error("--outstanding: expected 1..10000000, got %s", arg);
        cfg->outstanding = (uint32_t)v;
        return 0;
    case OPT_CONNECTIONS:
        if (!parse_range(arg, 1, BENCH_MAX_CONNECTIONS, &v))
            return usage_error("--connections: expected 1..256, got %s", arg);
        cfg->connections = (uint32_t)v;
        return 0;
    case OPT_BATCH:
        if (!parse_range(arg, 1, BENCH_MAX_BATCH, &v))
            return usage_error("--batch: expected 1..1000, got %s", arg);
        cfg->batch = (uint32_t)v;
        return 0;
    case OPT_WARMUP:
        if (!parse_seconds(arg, 3600, &cfg->warmup_ms))
            return usage_error("--warmup: expected seconds 0..3600 (e.g. 2 or 0.5), got %s", arg);
        return 0;
    case OPT_TIMEOUT:
        if (!parse_seconds(arg, 3600, &cfg->timeout_ms))
            return usage_error("--timeout: expected seconds 0..3600 (e.g. 30), got %s", arg);
        return 0;
    case OPT_POLL_MS:
        if (!parse_range(arg, 1, 1000, &v))
            return usage_error("--poll-ms: expected 1..1000, got %s", arg);
        cfg->poll_ms = (uint32_t)v;
        return 0;
    case OPT_SIGN_THREADS:
        if (!parse_range(arg, 1, 64, &v))
            return usage_error("--sign-threads: expected 1..64, got %s", arg);
        cfg->sign_threads = (uint32_t)v;
        return 0;
    case OPT_PID:
        if (!parse_range(arg, 1, INT32_MAX, &v))
            return usage_error("--pid: expected a process id, got %s", arg);
        cfg->pid = (int32_t)v;
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
    case OPT_SEED:
        if (cli_parse_u64(arg, &v) != TC_OK)
            return usage_error("--seed: expected an unsigned 64-bit integer, got %s", arg);
        cfg->seed = v;
        cfg->has_seed = true;
        return 0;
    case OPT_JSON:
        if (arg[0] == '\0' || !copy_str(cfg->json_path, sizeof(cfg->json_path), arg))
            return usage_error("--json: expected a file name or -, got '%s'", arg);
        return 0;
    default:
        return EXIT_USAGE;
    }
}

int bench_parse_options(int argc, char **argv, struct bench_config *cfg)
{
    static const struct option opts[] = {
        { "rpc", required_argument, NULL, OPT_RPC },
        { "accounts", required_argument, NULL, OPT_ACCOUNTS },
        { "senders", required_argument, NULL, OPT_SENDERS },
        { "txs", required_argument, NULL, OPT_TXS },
        { "rate", required_argument, NULL, OPT_RATE },
        { "outstanding", required_argument, NULL, OPT_OUTSTANDING },
        { "connections", required_argument, NULL, OPT_CONNECTIONS },
        { "batch", required_argument, NULL, OPT_BATCH },
        { "warmup", required_argument, NULL, OPT_WARMUP },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "poll-ms", required_argument, NULL, OPT_POLL_MS },
        { "sign-threads", required_argument, NULL, OPT_SIGN_THREADS },
        { "pid", required_argument, NULL, OPT_PID },
        { "json", required_argument, NULL, OPT_JSON },
        { "workload", required_argument, NULL, OPT_WORKLOAD },
        { "seed", required_argument, NULL, OPT_SEED },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool have_rate = false;
    set_defaults(cfg);
    record_command_line(cfg, argc, argv);
    optind = 0; /* glibc: 0 re-initialises the parser completely */
    opterr = 0;
    for (;;) {
        int opt = getopt_long(argc, argv, "+h", opts, NULL);
        if (opt == -1)
            break;
        if (opt == 'h') {
            fputs(bench_usage, stdout);
            return 1;
        }
        if (opt == '?' || opt == ':')
            return usage_error("bad option or missing value: %s", argv[optind - 1]);
        int status = apply_option(cfg, opt, optarg, &have_rate);
        if (status != 0)
            return status;
    }
    if (optind != argc)
        return usage_error("unexpected argument %s", argv[optind]);
    if (cfg->outstanding > 0 && have_rate)
        return usage_error("give --rate (open loop) or --outstanding (closed loop), not both%s",
                           "");
    if (cfg->outstanding > 0 && cfg->batch > cfg->outstanding)
        cfg->batch = cfg->outstanding;
    return split_urls(cfg);
}

/* ---- machine and commit -------------------------------------------------- */

const char *bench_git_commit(void)
{
#ifdef TC_GIT_COMMIT
    return TC_GIT_COMMIT;
#else
    return "unknown";
#endif
}

void bench_machine_probe(struct bench_machine *m)
{
    memset(m, 0, sizeof(*m));
    m->nproc = sysconf(_SC_NPROCESSORS_ONLN);
    copy_str(m->cpu_model, sizeof(m->cpu_model), "unknown");
    copy_str(m->kernel, sizeof(m->kernel), "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[512];
        while (fgets(line, sizeof(line), f) != NULL) {
            char *colon = strchr(line, ':');
            if (strncmp(line, "model name", 10) != 0 || colon == NULL)
                continue;
            colon++;
            while (*colon == ' ' || *colon == '\t')
                colon++;
            colon[strcspn(colon, "\n")] = '\0';
            copy_str(m->cpu_model, sizeof(m->cpu_model), colon);
            break;
        }
        fclose(f);
    }
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(m->kernel, sizeof(m->kernel), "%s %s %s", u.sysname, u.release, u.machine);
}

/* ---- JSON ------------------------------------------------------------------ */

static double us_to_ms(uint64_t us)
{
    return (double)us / 1000.0;
}

static cJSON *config_json(const struct bench_config *cfg, const struct bench_result *res)
{
    cJSON *c = cJSON_CreateObject();
    cJSON *urls = cJSON_AddArrayToObject(c, "rpc");
    for (size_t i = 0; urls != NULL && i < cfg->rpc_url_count; i++)
        cJSON_AddItemToArray(urls, cJSON_CreateString(cfg->rpc_urls[i]));
    cJSON_AddStringToObject(c, "accounts", cfg->accounts_dir);
    cJSON_AddNumberToObject(c, "senders", cfg->senders);
    cJSON_AddNumberToObject(c, "txs", (double)cfg->txs);
    cJSON_AddStringToObject(c, "mode", cfg->outstanding > 0 ? "closed" : "open");
    cJSON_AddNumberToObject(c, "rate_tps", cfg->rate_tps);
    cJSON_AddNumberToObject(c, "outstanding", cfg->outstanding);
    cJSON_AddNumberToObject(c, "connections", cfg->connections);
    cJSON_AddNumberToObject(c, "batch", cfg->batch);
    cJSON_AddNumberToObject(c, "warmup_s", cfg->warmup_ms / 1000.0);
    cJSON_AddNumberToObject(c, "timeout_s", cfg->timeout_ms / 1000.0);
    cJSON_AddNumberToObject(c, "poll_ms", cfg->poll_ms);
    cJSON_AddNumberToObject(c, "sign_threads", cfg->sign_threads);
    if (cfg->pid > 0)
        cJSON_AddNumberToObject(c, "pid", cfg->pid);
    else
        cJSON_AddNullToObject(c, "pid");
    cJSON_AddStringToObject(c, "json", cfg->json_path);
    cJSON_AddStringToObject(c, "workload", bench_workload_name(cfg->workload));
    cJSON_AddNumberToObject(c, "seed", (double)res->seed);
    cJSON_AddStringToObject(c, "tx_type", "eip1559");
    cJSON_AddNumberToObject(c, "value_wei", cfg->workload == BENCH_WORKLOAD_TRANSFER ? 1 : 0);
    cJSON_AddNumberToObject(c, "gas_limit", (double)res->gas_limit);
    return c;
}

static cJSON *latency_json(const struct bench_latency *lat)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "count", (double)lat->count);
    cJSON_AddNumberToObject(o, "min", us_to_ms(lat->min_us));
    cJSON_AddNumberToObject(o, "p50", us_to_ms(lat->p50_us));
    cJSON_AddNumberToObject(o, "p90", us_to_ms(lat->p90_us));
    cJSON_AddNumberToObject(o, "p99", us_to_ms(lat->p99_us));
    cJSON_AddNumberToObject(o, "max", us_to_ms(lat->max_us));
    cJSON_AddNumberToObject(o, "mean", lat->mean_us / 1000.0);
    return o;
}

static cJSON *histogram_json(const struct bench_latency *lat)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "bucket", bench_hist_label(i));
        cJSON_AddNumberToObject(b, "count", (double)lat->hist[i]);
        cJSON_AddItemToArray(a, b);
    }
    return a;
}

static cJSON *window_json(const struct bench_result *res)
{
    const struct bench_window *w = &res->window;
    cJSON *o = cJSON_CreateObject();
    double start = w->start_us >= res->first_send_us ? (w->start_us - res->first_send_us) / 1e6 : 0;
    double end = w->end_us >= res->first_send_us ? (w->end_us - res->first_send_us) / 1e6 : 0;
    cJSON_AddNumberToObject(o, "start_s", start);
    cJSON_AddNumberToObject(o, "end_s", end);
    cJSON_AddNumberToObject(o, "length_s", w->empty ? 0 : end - start);
    cJSON_AddBoolToObject(o, "empty", w->empty);
    cJSON_AddNumberToObject(o, "committed", (double)w->committed);
    cJSON_AddNumberToObject(o, "committed_tps", w->tps);
    return o;
}

static cJSON *node_json(const struct bench_config *cfg, const struct bench_result *res)
{
    if (!res->has_usage)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "pid", cfg->pid);
    cJSON_AddNumberToObject(o, "samples", res->usage.samples);
    cJSON_AddNumberToObject(o, "cpu_percent_max", res->usage.cpu_percent_max);
    cJSON_AddNumberToObject(o, "cpu_percent_avg",
                            bench_usage_cpu_avg(&res->usage, res->ticks_per_s));
    cJSON_AddNumberToObject(o, "rss_mib_max", (double)res->usage.rss_kib_max / 1024.0);
    cJSON_AddNumberToObject(o, "rss_mib_avg", bench_usage_rss_avg_kib(&res->usage) / 1024.0);
    return o;
}

static uint64_t uncommitted(const struct bench_result *res)
{
    uint64_t done = res->committed + res->rejected;
    return res->sent > done ? res->sent - done : 0;
}

static cJSON *result_json(const struct bench_config *cfg, const struct bench_result *res)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "senders", res->senders);
    cJSON_AddNumberToObject(r, "sign_s", res->sign_s);
    cJSON_AddNumberToObject(r, "sent", (double)res->sent);
    cJSON_AddNumberToObject(r, "accepted", (double)res->accepted);
    cJSON_AddNumberToObject(r, "rejected", (double)res->rejected);
    cJSON_AddNumberToObject(r, "committed", (double)res->committed);
    cJSON_AddNumberToObject(r, "uncommitted", (double)uncommitted(res));
    cJSON_AddBoolToObject(r, "timed_out", res->timed_out);
    cJSON_AddNumberToObject(r, "poll_errors", (double)res->poll_errors);
    cJSON_AddNumberToObject(r, "send_duration_s", res->send_duration_s);
    cJSON_AddNumberToObject(r, "duration_s", res->duration_s);
    cJSON_AddNumberToObject(r, "offered_tps", res->offered_tps);
    cJSON_AddNumberToObject(r, "committed_tps", res->window.tps);
    cJSON_AddNumberToObject(r, "overall_tps", res->overall_tps);
    cJSON_AddNumberToObject(r, "max_send_lag_ms", us_to_ms(res->max_send_lag_us));
    cJSON_AddItemToObject(r, "steady_window", window_json(res));
    cJSON_AddItemToObject(r, "latency_ms", latency_json(&res->latency));
    cJSON_AddItemToObject(r, "histogram_ms", histogram_json(&res->latency));
    cJSON *errors = cJSON_AddArrayToObject(r, "errors");
    size_t kinds = res->error_kinds + (res->errors[BENCH_MAX_ERROR_KINDS].count > 0);
    for (size_t i = 0; errors != NULL && i < kinds; i++) {
        const struct bench_error_count *e =
            &res->errors[i < res->error_kinds ? i : BENCH_MAX_ERROR_KINDS];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "message", e->message);
        cJSON_AddNumberToObject(o, "count", (double)e->count);
        cJSON_AddItemToArray(errors, o);
    }
    cJSON_AddItemToObject(r, "node", node_json(cfg, res));
    cJSON *setup = cJSON_AddObjectToObject(r, "setup");
    cJSON_AddNumberToObject(setup, "duration_s", res->setup_s);
    if (res->contract[0] != '\0')
        cJSON_AddStringToObject(setup, "contract", res->contract);
    else
        cJSON_AddNullToObject(setup, "contract");
    cJSON_AddNumberToObject(setup, "measured_gas", (double)res->measured_gas);
    cJSON_AddNumberToObject(setup, "gas_limit", (double)res->gas_limit);
    cJSON *sample = cJSON_AddObjectToObject(r, "status_sample");
    cJSON_AddNumberToObject(sample, "size", (double)res->sample_size);
    cJSON_AddNumberToObject(sample, "status0", (double)res->sample_status0);
    cJSON_AddNumberToObject(sample, "missing", (double)res->sample_missing);
    return r;
}

cJSON *bench_report_json(const struct bench_config *cfg, const struct bench_result *res,
                         const struct bench_machine *m)
{
    cJSON *doc = cJSON_CreateObject();
    if (doc == NULL)
        return NULL;
    cJSON_AddStringToObject(doc, "tool", "teechain bench");
    cJSON_AddNumberToObject(doc, "schema", 1);
    cJSON_AddStringToObject(doc, "commit", bench_git_commit());
    cJSON_AddStringToObject(doc, "command", cfg->command_line);
    cJSON_AddItemToObject(doc, "config", config_json(cfg, res));
    cJSON *machine = cJSON_AddObjectToObject(doc, "machine");
    cJSON_AddNumberToObject(machine, "nproc", (double)m->nproc);
    cJSON_AddStringToObject(machine, "cpu_model", m->cpu_model);
    cJSON_AddStringToObject(machine, "kernel", m->kernel);
    cJSON *chain = cJSON_AddObjectToObject(doc, "chain");
    cJSON_AddNumberToObject(chain, "chain_id", (double)res->chain_id);
    cJSON_AddNumberToObject(chain, "start_block", (double)res->start_block);
    cJSON_AddNumberToObject(chain, "end_block", (double)res->end_block);
    cJSON_AddNumberToObject(chain, "blocks_with_txs", (double)res->blocks_seen);
    cJSON_AddItemToObject(doc, "result", result_json(cfg, res));
    /* cJSON reports allocation failures only through missing members. */
    char *probe = cJSON_PrintUnformatted(doc);
    if (probe == NULL || cJSON_GetObjectItemCaseSensitive(doc, "result") == NULL) {
        free(probe);
        cJSON_Delete(doc);
        return NULL;
    }
    free(probe);
    return doc;
}

/* ---- table ----------------------------------------------------------------- */

void bench_print_table(FILE *out, const struct bench_config *cfg, const struct bench_result *res)
{
    const struct bench_latency *lat = &res->latency;
    fprintf(out, "%-16s %s\n", "command", cfg->command_line);
    fprintf(out, "%-16s %s (gas limit %" PRIu64 ", seed %" PRIu64 ")\n", "workload",
            bench_workload_name(cfg->workload), res->gas_limit, res->seed);
    if (cfg->workload != BENCH_WORKLOAD_TRANSFER)
        fprintf(out,
                "%-16s %.2f s (not measured): contract %s, estimated worst case %" PRIu64 " gas\n",
                "set-up", res->setup_s, res->contract, res->measured_gas);
    if (cfg->outstanding > 0)
        fprintf(out, "%-16s closed loop, %u outstanding", "load", (unsigned)cfg->outstanding);
    else if (cfg->rate_tps > 0)
        fprintf(out, "%-16s open loop at %u tx/s", "load", (unsigned)cfg->rate_tps);
    else
        fprintf(out, "%-16s open loop, as fast as possible", "load");
    fprintf(out, "; %u connections, batch %u, %u senders, %zu node(s)\n",
            (unsigned)cfg->connections, (unsigned)cfg->batch, (unsigned)res->senders,
            cfg->rpc_url_count);
    fprintf(out, "%-16s id %" PRIu64 ", blocks %" PRIu64 "..%" PRIu64 " (%" PRIu64 " with ours)\n",
            "chain", res->chain_id, res->start_block, res->end_block, res->blocks_seen);
    fprintf(out, "%-16s %.2f s (not measured)\n", "pre-signing", res->sign_s);
    fprintf(out, "%-16s %" PRIu64 " (offered %.1f tx/s over %.2f s, worst lag %.1f ms)\n", "sent",
            res->sent, res->offered_tps, res->send_duration_s, us_to_ms(res->max_send_lag_us));
    fprintf(out, "%-16s %" PRIu64 "\n", "accepted", res->accepted);
    fprintf(out, "%-16s %" PRIu64 "\n", "rejected", res->rejected);
    fprintf(out, "%-16s %" PRIu64 " of %" PRIu64 " sent (run %.2f s)%s\n", "committed",
            res->committed, res->sent, res->duration_s,
            res->timed_out ? ", TIMED OUT waiting for the rest" : "");
    if (res->window.empty)
        fprintf(out, "%-16s n/a: the warm-up (%.3f s) reaches past the last send\n",
                "committed TPS", cfg->warmup_ms / 1000.0);
    else
        fprintf(out, "%-16s %.1f (steady window %.3f s: %" PRIu64 " commits)\n", "committed TPS",
                res->window.tps, (double)(res->window.end_us - res->window.start_us) / 1e6,
                res->window.committed);
    fprintf(out, "%-16s %.1f (first send to last commit)\n", "overall TPS", res->overall_tps);
    fprintf(out,
            "%-16s min %.1f  p50 %.1f  p90 %.1f  p99 %.1f  max %.1f  mean %.1f  (%" PRIu64
            " txs)\n",
            "latency ms", us_to_ms(lat->min_us), us_to_ms(lat->p50_us), us_to_ms(lat->p90_us),
            us_to_ms(lat->p99_us), us_to_ms(lat->max_us), lat->mean_us / 1000.0, lat->count);
    for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
        double pct = lat->count > 0 ? 100.0 * (double)lat->hist[i] / (double)lat->count : 0;
        fprintf(out, "%-16s %-7s %10" PRIu64 "  %5.1f%%\n", i == 0 ? "histogram ms" : "",
                bench_hist_label(i), lat->hist[i], pct);
    }
    if (res->has_usage)
        fprintf(out, "%-16s pid %d: CPU max %.0f%% avg %.0f%%, RSS max %.1f MiB avg %.1f MiB\n",
                "node", (int)cfg->pid, res->usage.cpu_percent_max,
                bench_usage_cpu_avg(&res->usage, res->ticks_per_s),
                (double)res->usage.rss_kib_max / 1024.0,
                bench_usage_rss_avg_kib(&res->usage) / 1024.0);
    size_t kinds = res->error_kinds + (res->errors[BENCH_MAX_ERROR_KINDS].count > 0);
    for (size_t i = 0; i < kinds; i++) {
        const struct bench_error_count *e =
            &res->errors[i < res->error_kinds ? i : BENCH_MAX_ERROR_KINDS];
        fprintf(out, "%-16s %10" PRIu64 "  %s\n", i == 0 ? "errors" : "", e->count, e->message);
    }
    if (res->poll_errors > 0)
        fprintf(out, "%-16s %" PRIu64 "\n", "poll errors", res->poll_errors);
    fprintf(out, "%-16s status 0 in sample: %" PRIu64 " of %" PRIu64, "receipts",
            res->sample_status0, res->sample_size);
    if (res->sample_missing > 0)
        fprintf(out, " (%" PRIu64 " receipts could not be fetched)", res->sample_missing);
    fputc('\n', out);
}

/* ---- the command ------------------------------------------------------------ */

static int write_json(const char *path, const cJSON *doc)
{
    char *text = cJSON_Print(doc);
    if (text == NULL)
        return TC_ENOMEM;
    int rc = TC_OK;
    if (strcmp(path, "-") == 0) {
        printf("%s\n", text);
    } else {
        FILE *f = fopen(path, "w");
        if (f == NULL || fprintf(f, "%s\n", text) < 0)
            rc = TC_EIO;
        if (f != NULL && fclose(f) != 0)
            rc = TC_EIO;
    }
    free(text);
    return rc;
}

int bench_command_run(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "sweep") == 0)
        return bench_sweep_command_run(argc - 1, argv + 1);
    struct bench_config *cfg = xcalloc(1, sizeof(*cfg));
    struct bench_result *res = xcalloc(1, sizeof(*res));
    char err[1024];
    int status = bench_parse_options(argc, argv, cfg);
    if (status != 0) {
        status = status == 1 ? 0 : status;
        goto out_free;
    }
    int rc = bench_run(cfg, res, stderr, err, sizeof(err));
    if (rc != TC_OK) {
        fprintf(stderr, "teechain bench: %s\n", err[0] != '\0' ? err : tc_strerror(rc));
        status = 1;
        goto out_free;
    }
    status = res->timed_out ? 1 : 0;
    if (strcmp(cfg->json_path, "-") != 0)
        bench_print_table(stdout, cfg, res);
    if (cfg->json_path[0] != '\0') {
        struct bench_machine m;
        bench_machine_probe(&m);
        cJSON *doc = bench_report_json(cfg, res, &m);
        if (doc == NULL || write_json(cfg->json_path, doc) != TC_OK) {
            fprintf(stderr, "teechain bench: cannot write the JSON report to %s\n", cfg->json_path);
            status = 1;
        }
        cJSON_Delete(doc);
    }
    if (res->timed_out)
        fprintf(stderr, "teechain bench: %" PRIu64 " transactions not committed within %.3f s\n",
                uncommitted(res), cfg->timeout_ms / 1000.0);
out_free:
    free(res);
    free(cfg);
    return status;
}
