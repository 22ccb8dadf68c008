/*
 * bench.h - `teechain bench`, the load generator and measurement tool.
 *
 * A run has three steps:
 *   1. bench_parse_options() turns argv into a struct bench_config;
 *   2. bench_run() pre-signs every transfer (before the clock starts), sends
 *      them over keep-alive HTTP connections in JSON-RPC batches, at a target
 *      rate (open loop) or with a bound on unfinished transactions (closed
 *      loop), and stamps each transaction with the time its block was first
 *      seen by polling blocks; it fills a struct bench_result;
 *   3. bench_report_json() / bench_print_table() present it.
 * bench_command_run() does all three for `teechain bench` (commands.c), and
 * hands `teechain bench sweep` (offered-load sweeps over fresh chains) to
 * bench_sweep_command_run() (bench_sweep.h).
 *
 * Workloads (--workload): `transfer` (default) signs EIP-1559 (type 2) value
 * transfers of 1 wei, gas 21000; `erc20` first deploys BenchToken from the
 * first account, funds every sender with tokens (one transfer each, receipts
 * waited for and their status checked), then signs `transfer(address,
 * uint256)` calls of 1 token unit from the senders to recipients drawn from
 * the senders by a seeded RNG (--seed; the seed is printed); `kv` deploys
 * BenchKV and signs `set(key, value)` calls with distinct keys. The gas limit
 * of a contract call is measured once, during set-up, with eth_estimateGas of
 * the most expensive case (a transfer to a fresh recipient, a set of a fresh
 * key) times BENCH_GAS_MARGIN_PERCENT / 100; no per-transaction estimate.
 * Set-up is timed apart from the measured window. All: maxFeePerGas =
 * maxPriorityFeePerGas = eth_gasPrice, signed with tx_sign.
 *
 * Execution status: the tool polls blocks, not receipts. After the run it
 * fetches the receipts of a random sample of the committed transactions
 * (BENCH_STATUS_SAMPLE_PERMILLE per mille, at least one) and reports how
 * many have status 0 ("status 0 in sample: k of n").
 * Senders are split into min(K connections, M senders) groups, one per
 * connection; each batch holds transactions of one group, round-robin over
 * its senders, so that a sender's nonces (from its pending nonce on) always
 * travel in order on one connection. The recipient is the next sender.
 *
 * The figures are defined in bench_stats.h.
 */
#ifndef TC_CLI_BENCH_H
#define TC_CLI_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "base/rng.h"
#include "cli/bench_stats.h"

#define BENCH_MAX_URLS          16
#define BENCH_MAX_SENDERS       10000
#define BENCH_MAX_TXS           10000000u
#define BENCH_MAX_CONNECTIONS   256
#define BENCH_MAX_BATCH         1000 /* the node's default JSON-RPC batch limit */
#define BENCH_MAX_ERROR_KINDS   32   /* distinct messages kept; more count as "other" */
#define BENCH_ERROR_MESSAGE_LEN 160

#define BENCH_DEFAULT_ACCOUNTS    "nodes/accounts"
#define BENCH_DEFAULT_TXS         10000u
#define BENCH_DEFAULT_CONNECTIONS 16u
#define BENCH_DEFAULT_BATCH       50u
#define BENCH_DEFAULT_WARMUP_MS   1000u
#define BENCH_DEFAULT_TIMEOUT_MS  60000u
#define BENCH_DEFAULT_POLL_MS     10u

/* Gas limit of a contract call: the measured worst case times 150 %. */
#define BENCH_GAS_MARGIN_PERCENT 150u
/* Receipts sampled after the run: 10 per mille of the committed ones. */
#define BENCH_STATUS_SAMPLE_PERMILLE 10u
/* Tokens each erc20 sender gets; each measured transfer moves 1 unit. */
#define BENCH_TOKEN_FUNDING 1000000000000000000ull
/* Seconds to wait for each set-up receipt (deploy, funding). */
#define BENCH_SETUP_WAIT_S 60u

enum bench_workload { BENCH_WORKLOAD_TRANSFER, BENCH_WORKLOAD_ERC20, BENCH_WORKLOAD_KV };

struct bench_config {
    char rpc_list[1024];                /* --rpc as given, comma-separated */
    char rpc_urls[BENCH_MAX_URLS][512]; /* the URLs, split */
    size_t rpc_url_count;               /* >= 1 */
    char accounts_dir[512];             /* --accounts */
    uint32_t senders;                   /* --senders; 0 = every key file found */
    uint64_t txs;                       /* --txs */
    uint32_t rate_tps;                  /* --rate; 0 = as fast as possible */
    uint32_t outstanding;               /* --outstanding; > 0 = closed loop */
    uint32_t connections;               /* --connections */
    uint32_t batch;                     /* --batch (<= outstanding in closed loop) */
    uint32_t warmup_ms;                 /* --warmup */
    uint32_t timeout_ms;                /* --timeout: wait for commits after the last send */
    uint32_t poll_ms;                   /* --poll-ms: block polling period */
    uint32_t sign_threads;              /* --sign-threads; 0 = online CPUs */
    int32_t pid;                        /* --pid; 0 = none */
    char json_path[512];                /* --json; "" = none, "-" = stdout */
    enum bench_workload workload;       /* --workload */
    uint64_t seed;                      /* --seed (has_seed) or a fresh one */
    bool has_seed;
    char command_line[2048]; /* the command as typed, for the report */
};

struct bench_error_count {
    char message[BENCH_ERROR_MESSAGE_LEN];
    uint64_t count;
};

struct bench_result {
    uint64_t chain_id;
    uint32_t senders;             /* accounts that signed */
    uint64_t start_block;         /* head before the first send */
    uint64_t end_block;           /* last block seen */
    uint64_t blocks_seen;         /* blocks holding at least one of our transactions */
    double sign_s;                /* pre-signing time (not part of the measurement) */
    uint64_t first_send_us;       /* monotonic time of the first send (window origin) */
    uint64_t sent;                /* transactions posted */
    uint64_t accepted;            /* answered with their hash */
    uint64_t rejected;            /* answered with an error (or the batch failed) */
    uint64_t committed;           /* seen in a block */
    double send_duration_s;       /* first send to last send */
    double duration_s;            /* first send to the end of the run */
    double offered_tps;           /* sent / send duration */
    double overall_tps;           /* committed / (first send to last commit seen) */
    uint64_t max_send_lag_us;     /* open loop: worst lateness of a batch behind schedule */
    bool timed_out;               /* accepted transactions left uncommitted at --timeout */
    uint64_t poll_errors;         /* block polls that failed (the run goes on) */
    struct bench_window window;   /* steady window and committed TPS */
    struct bench_latency latency; /* commit seen - send, committed transactions */
    size_t error_kinds;
    struct bench_error_count errors[BENCH_MAX_ERROR_KINDS + 1]; /* the last: "other" */
    bool has_usage;                                             /* --pid given and sampled */
    uint64_t seed; /* of the recipient choice and the receipt sample */
    /* erc20 / kv set-up, outside the measured window */
    double setup_s;          /* deploy + funding, receipts included */
    char contract[43];       /* the deployed contract, 0x + hex; "" for transfer */
    uint64_t gas_limit;      /* of each measured transaction */
    uint64_t measured_gas;   /* eth_estimateGas of the worst case; 0 for transfer */
    uint64_t sample_size;    /* receipts fetched after the run */
    uint64_t sample_status0; /* of which status 0 */
    uint64_t sample_missing; /* of which could not be fetched */
    struct bench_usage usage;
    long ticks_per_s;
};

/* The machine the run was on, for the JSON report. */
struct bench_machine {
    long nproc;
    char cpu_model[128];
    char kernel[256];
};

/*
 * Parses `bench [options]` (argv[0] is "bench"). Returns 0 with *cfg filled,
 * 1 after printing the usage for --help, or 2 after printing a usage error
 * on stderr. Uses getopt_long: not reentrant.
 */
int bench_parse_options(int argc, char **argv, struct bench_config *cfg);

/*
 * Runs the benchmark of cfg and fills *res. Progress goes to `progress`
 * (a bar when it is a terminal, plain lines otherwise). Returns 0 when the
 * run took place (even with rejected or uncommitted transactions: see
 * res), or a negative TC_E* code when it could not start or run (err says
 * why: no accounts, node unreachable, ...).
 */
int bench_run(const struct bench_config *cfg, struct bench_result *res, FILE *progress, char *err,
              size_t err_len);

/*
 * The number of sending connections and sender groups: min(connections,
 * senders). Each sender's transactions go over one connection, in nonce
 * order (see bench_load.c), so fewer senders than --connections use fewer
 * connections.
 */
uint32_t bench_group_count(uint32_t connections, uint32_t senders);

/* The name of a workload ("transfer", "erc20", "kv"). */
const char *bench_workload_name(enum bench_workload w);

/*
 * Call data of the erc20 workload: transfer(to, amount), 68 bytes written
 * to out (selector a9059cbb, then the address and the amount as 32-byte
 * words).
 */
void bench_erc20_transfer_calldata(const uint8_t to[20], uint64_t amount, uint8_t out[68]);

/* Call data of the kv workload: set(key, value), 68 bytes written to out. */
void bench_kv_set_calldata(uint64_t key, uint64_t value, uint8_t out[68]);

/*
 * The recipient (a sender index) of measured transaction i from sender
 * `from`, for the erc20 workload: drawn from r, never `from` itself when
 * there are two senders or more.
 */
uint32_t bench_pick_recipient(struct rng *r, uint32_t from, uint32_t senders);

/* The gas limit from a measured cost: measured * BENCH_GAS_MARGIN_PERCENT / 100. */
uint64_t bench_gas_with_margin(uint64_t measured);

/* The size of the receipt sample for `committed` transactions: 1 % rounded
 * up, at least 1 when committed > 0, at most committed. */
uint64_t bench_sample_size(uint64_t committed);

/* Fills *m from sysconf, /proc/cpuinfo and uname; unknown parts are "unknown". */
void bench_machine_probe(struct bench_machine *m);

/* The tool's git commit (TC_GIT_COMMIT at compile time) or "unknown". */
const char *bench_git_commit(void);

/*
 * The JSON document of a run: "tool", "commit", "command", "config" (every
 * option), "machine", "chain", "result". Returns a new object (the caller
 * frees it with cJSON_Delete), or NULL when out of memory.
 */
cJSON *bench_report_json(const struct bench_config *cfg, const struct bench_result *res,
                         const struct bench_machine *m);

/* Prints the human-readable table of a run. */
void bench_print_table(FILE *out, const struct bench_config *cfg, const struct bench_result *res);

/* `teechain bench`: exit status 0 success, 1 failure or uncommitted
 * transactions at the timeout, 2 usage error. */
int bench_command_run(int argc, char **argv);

/* The text of `teechain bench --help`. */
extern const char bench_usage[];

#endif
