/*
 * bench_sweep.h - `teechain bench sweep`: offered-load sweeps over fresh chains.
 *
 * For each chain configuration (a name and the `build-chain` options that
 * make it, e.g. `raft4:-l 127.0.0.1:4`) and each offered load, the sweep
 *   1. builds a fresh chain with `teechain build-chain` in a temporary folder
 *      (its own ports, --ports), so that no run inherits another's state;
 *   2. starts every node of it (teechaind from --bin-dir, by default the
 *      folder of the running teechain) with fork/exec, each in its node
 *      folder, its stderr in the node folder's sweep-node.log;
 *   3. waits, bounded, until every node answers and one reports itself
 *      leader (getConsensusStatus.isLeader); a chain that fails to start
 *      is discarded and a new one tried, SWEEP_START_ATTEMPTS in all;
 *   4. runs the `teechain bench` measurement in-process (bench_run) at that
 *      rate, open loop, against the leader (or every node with --spread),
 *      sampling the leader's CPU and RSS;
 *   5. stops every node (SIGTERM, then SIGKILL after SWEEP_STOP_TIMEOUT_MS),
 *      also when a step failed, and removes the folder (unless --keep);
 *   6. writes the run's report (bench_report_json) with a "sweep" member
 *      (bench_sweep_annotate) to OUT/<name>-<workload>-<load>.json.
 * A run that fails is reported on stderr and the sweep goes on with the next;
 * the exit status says whether every run succeeded.
 *
 * The parsing and naming helpers below are pure and unit-tested
 * (tests/unit/cli/test_bench_sweep.c).
 */
#ifndef TC_CLI_BENCH_SWEEP_H
#define TC_CLI_BENCH_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cli/bench.h"

#define SWEEP_MAX_CONFIGS      16
#define SWEEP_MAX_LOADS        32
#define SWEEP_MAX_NODES        16
#define SWEEP_MAX_CHAIN_WORDS  32  /* words of one configuration's build-chain options */
#define SWEEP_NAME_LEN         48  /* a configuration name, NUL included */
#define SWEEP_OPTIONS_LEN      512 /* its build-chain options, NUL included */
#define SWEEP_MAX_LOAD_TPS     1000000u
#define SWEEP_DEFAULT_ACCOUNTS 100u
/* Port bases of the sweep's chains: away from build-chain's 30300/20200, so
 * that a sweep can run beside a chain built with the defaults, and below
 * the kernel's ephemeral range (32768..), where a busy machine's outgoing
 * connections can take a node's port before it listens. */
#define SWEEP_DEFAULT_P2P_PORT 23100u
#define SWEEP_DEFAULT_RPC_PORT 23000u
#define SWEEP_DEFAULT_SECONDS  5u
#define SWEEP_START_TIMEOUT_MS 30000u /* nodes answering and a leader elected */
#define SWEEP_STOP_TIMEOUT_MS  10000u /* after SIGTERM, before SIGKILL */
#define SWEEP_BUILD_TIMEOUT_MS 60000u /* build-chain */
#define SWEEP_START_ATTEMPTS   3u     /* fresh chains tried before a run fails */

/* One chain configuration: `NAME:OPTIONS`. */
struct sweep_chain {
    char name[SWEEP_NAME_LEN];       /* [A-Za-z0-9_.-]+, used in file names and legends */
    char options[SWEEP_OPTIONS_LEN]; /* as given, for the report */
    char words[SWEEP_MAX_CHAIN_WORDS][SWEEP_OPTIONS_LEN]; /* options split at blanks */
    size_t word_count;
};

struct sweep_config {
    struct sweep_chain chains[SWEEP_MAX_CONFIGS]; /* --config, in order */
    size_t chain_count;                           /* >= 1 */
    uint32_t loads_tps[SWEEP_MAX_LOADS];          /* --loads, in order */
    size_t load_count;                            /* >= 1 */
    enum bench_workload workload;                 /* --workload */
    uint64_t txs_per_load;                        /* --txs-per-load; 0 = from --seconds */
    uint32_t seconds;                             /* --seconds: txs = load * seconds */
    uint32_t accounts;                            /* --accounts: build-chain --accounts */
    uint32_t p2p_port;                            /* --ports P2P,RPC: bases */
    uint32_t rpc_port;
    uint32_t warmup_ms;  /* --warmup, passed to the measurement */
    uint32_t timeout_ms; /* --timeout, passed to the measurement */
    bool spread;         /* --spread: load over every node, not only the leader */
    bool keep;           /* --keep: leave the chain folders (their paths are printed) */
    bool has_seed;
    uint64_t seed;           /* --seed, passed to the measurement */
    char out_dir[512];       /* --out */
    char bin_dir[512];       /* --bin-dir; "" = the folder of the running teechain */
    char command_line[2048]; /* the sweep as typed, for the reports */
};

/*
 * Parses `NAME:OPTIONS` into *out. NAME is 1..47 characters of [A-Za-z0-9_.-];
 * OPTIONS are build-chain options split at blanks (no quoting), at least one,
 * and must not contain -o/--output, -p/--ports or --accounts, which the sweep
 * sets itself. Returns 0, or TC_EINVAL with err saying why.
 */
int bench_sweep_parse_chain(const char *arg, struct sweep_chain *out, char *err, size_t err_len);

/*
 * Parses a comma-separated list of offered loads in tx/s (each
 * 1..SWEEP_MAX_LOAD_TPS, at most cap of them) into loads[0..*count).
 * Returns 0, or TC_EINVAL (empty element, not a number, out of range, too
 * many).
 */
int bench_sweep_parse_loads(const char *arg, uint32_t *loads, size_t cap, size_t *count);

/* Transactions of a run at load_tps: txs_per_load when it is not 0, else
 * load_tps * seconds; in both cases at least 1 and at most BENCH_MAX_TXS. */
uint64_t bench_sweep_txs_for_load(uint64_t txs_per_load, uint32_t seconds, uint32_t load_tps);

/*
 * The report's file name of one run, "<chain>-<workload>-<load>.json", into
 * out. Returns 0 or TC_ETOOBIG when it does not fit in cap bytes.
 */
int bench_sweep_file_name(char *out, size_t cap, const char *chain, enum bench_workload w,
                          uint32_t load_tps);

/* What a sweep adds to a run's report: where the load went and on what chain. */
struct sweep_run_info {
    const struct sweep_chain *chain;
    uint32_t offered_load_tps;
    uint64_t txs;
    size_t node_count;
    size_t leader_index; /* node index, in build-chain order */
    bool spread;
    const char *sweep_command; /* the sweep's command line */
};

/*
 * Adds "sweep": {"config", "build_chain_options", "offered_load_tps", "txs",
 * "nodes", "leader", "target" ("leader" | "all"), "command"} to doc (a
 * bench_report_json document; doc keeps ownership). Returns 0 or TC_ENOMEM.
 */
int bench_sweep_annotate(cJSON *doc, const struct sweep_run_info *info);

/*
 * Parses `bench sweep [options]` (argv[0] is "sweep"). Returns 0 with *cfg
 * filled, 1 after printing the usage for --help, 2 after a usage error on
 * stderr. Uses getopt_long: not reentrant.
 */
int bench_sweep_parse_options(int argc, char **argv, struct sweep_config *cfg);

/* `teechain bench sweep`: exit status 0 when every run succeeded, 1 when
 * one failed or could not start, 2 usage error. */
int bench_sweep_command_run(int argc, char **argv);

/* The text of `teechain bench sweep --help`. */
extern const char bench_sweep_usage[];

#endif
