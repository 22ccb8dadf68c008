/*
 * main.c - the raft-sim command line.
 *
 *   raft-sim [--nodes N] [--seed S | --seeds A..B | --seed S --runs K]
 *            [--events E] [--faults MIX] [--plant-bug NAME]...
 *            [--max-msg-entries K] [--skip-check commit-current-term]
 *            [--expect-violation [--expect-invariant INV]] [--verbose] [--trace]
 *
 * Runs one simulation per seed (sim.h). MIX is "all" (the default), "none" or
 * a comma list of loss,dup,reorder,partition,crash,slowdisk,membership,
 * transfer,churn. Without --seed or --seeds a fresh seed is picked and printed.
 * Exit status: 0 when every check held in every run, 1 when a run found a
 * violation (each is printed with its replay command), 2 on bad usage.
 * With --expect-violation (used with --plant-bug) the meaning flips: 0 when
 * at least one run found a violation (of invariant INV, with
 * --expect-invariant), 1 when none did.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/rng.h"
#include "consensus/raft/raft.h"
#include "sim.h"

#define MAX_REPORTS 5u /* full reports printed; later failures get one line */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: raft-sim [--nodes N] [--seed S | --seeds A..B | --seed S --runs K]\n"
            "                [--events E] [--faults MIX] [--plant-bug NAME]...\n"
            "                [--max-msg-entries K] [--skip-check commit-current-term]\n"
            "                [--expect-violation [--expect-invariant INV]] [--verbose] [--trace]\n"
            "  N: 1, 3, 4, 5 or 7 (any of 1..%u works; default 3)\n"
            "  E: events per run before the final heal (default %u)\n"
            "  K: entries per APPEND in every core (default: drawn from the seed)\n"
            "  MIX: all (default), none, or a comma list of\n"
            "       loss,dup,reorder,partition,crash,slowdisk,membership,transfer,churn\n"
            "  NAME: leader-counts-self-before-persist, commit-prev-term-by-count\n"
            "  INV: an invariant as named in a report, e.g. majority-durable\n"
            "exit: 0 all checks held, 1 a violation (see the replay line), 2 usage;\n"
            "      with --expect-violation: 0 if a violation (of INV) was\n"
            "      found, 1 if not\n",
            SIM_MAX_VOTERS, SIM_DEFAULT_EVENTS);
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return TC_EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return TC_EINVAL;
    *out = v;
    return TC_OK;
}

static int parse_range(const char *s, uint64_t *lo, uint64_t *hi)
{
    const char *dots = strstr(s, "..");
    if (!dots)
        return TC_EINVAL;
    char head[32];
    size_t len = (size_t)(dots - s);
    if (len == 0 || len >= sizeof(head))
        return TC_EINVAL;
    memcpy(head, s, len);
    head[len] = '\0';
    if (parse_u64(head, lo) || parse_u64(dots + 2, hi) || *hi < *lo)
        return TC_EINVAL;
    return TC_OK;
}

struct cli {
    struct sim_options opt;
    uint64_t first_seed;
    uint64_t runs;
    bool seed_given;
    bool expect_violation;
    const char *expect_invariant;
    bool verbose;
};

static int parse_args(int argc, char **argv, struct cli *c)
{
    sim_options_default(&c->opt);
    c->opt.program = argv[0];
    c->runs = 1;
    bool runs_given = false, range_given = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x;
        if (strcmp(a, "--expect-violation") == 0) {
            c->expect_violation = true;
            continue;
        }
        if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            c->verbose = true;
            continue;
        }
        if (strcmp(a, "--trace") == 0) {
            c->opt.trace_all = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        static const char *valued[] = { "--nodes",      "--seed",
                                        "--seeds",      "--runs",
                                        "--events",     "--faults",
                                        "--skip-check", "--expect-invariant",
                                        "--plant-bug",  "--max-msg-entries" };
        size_t k = 0;
        while (k < sizeof(valued) / sizeof(valued[0]) && strcmp(a, valued[k]) != 0)
            k++;
        if (k == sizeof(valued) / sizeof(valued[0])) {
            fprintf(stderr, "raft-sim: unknown option '%s'\n", a);
            return TC_EINVAL;
        }
        if (!v) {
            fprintf(stderr, "raft-sim: %s needs a value\n", a);
            return TC_EINVAL;
        }
        i++;
        if (strcmp(a, "--nodes") == 0) {
            if (parse_u64(v, &x) || x < 1 || x > SIM_MAX_VOTERS) {
                fprintf(stderr, "raft-sim: --nodes must be 1..%u\n", SIM_MAX_VOTERS);
                return TC_EINVAL;
            }
            c->opt.nodes = (uint32_t)x;
        } else if (strcmp(a, "--seed") == 0) {
            if (parse_u64(v, &c->first_seed)) {
                fprintf(stderr, "raft-sim: bad --seed '%s'\n", v);
                return TC_EINVAL;
            }
            c->seed_given = true;
        } else if (strcmp(a, "--seeds") == 0) {
            uint64_t lo, hi;
            if (parse_range(v, &lo, &hi) || hi - lo == UINT64_MAX) {
                fprintf(stderr, "raft-sim: --seeds wants A..B with A <= B\n");
                return TC_EINVAL;
            }
            c->first_seed = lo;
            c->runs = hi - lo + 1;
            c->seed_given = true;
            range_given = true;
        } else if (strcmp(a, "--runs") == 0) {
            if (parse_u64(v, &c->runs) || c->runs == 0) {
                fprintf(stderr, "raft-sim: --runs must be >= 1\n");
                return TC_EINVAL;
            }
            runs_given = true;
        } else if (strcmp(a, "--events") == 0) {
            if (parse_u64(v, &c->opt.events)) {
                fprintf(stderr, "raft-sim: bad --events '%s'\n", v);
                return TC_EINVAL;
            }
        } else if (strcmp(a, "--faults") == 0) {
            if (sim_parse_faults(v, &c->opt.faults)) {
                fprintf(stderr, "raft-sim: bad --faults '%s'\n", v);
                return TC_EINVAL;
            }
        } else if (strcmp(a, "--max-msg-entries") == 0) {
            if (parse_u64(v, &x) || x < 1 || x > RAFT_MSG_MAX_ENTRIES) {
                fprintf(stderr, "raft-sim: --max-msg-entries must be 1..%u\n",
                        RAFT_MSG_MAX_ENTRIES);
                return TC_EINVAL;
            }
            c->opt.max_msg_entries = (uint32_t)x;
        } else if (strcmp(a, "--skip-check") == 0) {
            if (strcmp(v, "commit-current-term") != 0) {
                fprintf(stderr, "raft-sim: only commit-current-term can be skipped\n");
                return TC_EINVAL;
            }
            c->opt.skip_commit_rule = true;
        } else if (strcmp(a, "--expect-invariant") == 0) {
            c->expect_invariant = v;
        } else { /* --plant-bug */
            uint32_t bug;
            if (sim_parse_bug(v, &bug)) {
                fprintf(stderr, "raft-sim: unknown bug '%s'\n", v);
                return TC_EINVAL;
            }
            c->opt.test_bugs |= bug;
        }
    }
    if (c->expect_invariant && !c->expect_violation) {
        fprintf(stderr, "raft-sim: --expect-invariant goes with --expect-violation\n");
        return TC_EINVAL;
    }
    if (runs_given && range_given) {
        fprintf(stderr, "raft-sim: --runs and --seeds exclude each other\n");
        return TC_EINVAL;
    }
    if (!c->seed_given) {
        c->first_seed = rng_fresh_seed() >> 16;
        printf("raft-sim: no seed given, using --seed %" PRIu64 "\n", c->first_seed);
    }
    return TC_OK;
}

int main(int argc, char **argv)
{
    struct cli c;
    memset(&c, 0, sizeof(c));
    if (parse_args(argc, argv, &c)) {
        usage(stderr);
        return 2;
    }
    char faults[128];
    sim_format_faults(c.opt.faults, faults, sizeof(faults));
    uint64_t failed = 0, first_failed = 0, expected = 0, first_expected = 0;
    struct sim_stats total;
    memset(&total, 0, sizeof(total));
    for (uint64_t k = 0; k < c.runs; k++) {
        struct sim_options o = c.opt;
        o.seed = c.first_seed + k;
        struct sim_result res;
        bool full = failed < MAX_REPORTS && (!c.expect_violation || expected == 0);
        int rc = sim_run(&o, &res, full || c.verbose ? stdout : NULL);
        if (rc) {
            fprintf(stderr, "raft-sim: %s\n", tc_strerror(rc));
            return 2;
        }
        if (res.violated) {
            if (failed == 0)
                first_failed = o.seed;
            failed++;
            if (!c.expect_invariant || strcmp(res.invariant, c.expect_invariant) == 0) {
                if (expected == 0)
                    first_expected = o.seed;
                expected++;
            }
            char replay[512];
            sim_format_replay(&o, replay, sizeof(replay));
            if (!full && !c.expect_violation)
                printf("raft-sim: seed %" PRIu64 ": VIOLATION [%s] %s\n  replay: %s\n", o.seed,
                       res.invariant, res.detail, replay);
        }
        if (c.verbose)
            printf("seed %" PRIu64 ": %s events %" PRIu64 " virtual %.1f ms committed %" PRIu64
                   " leaders %" PRIu64 " msgs %" PRIu64 " crashes %" PRIu64 " partitions %" PRIu64
                   " snapshots %" PRIu64 " compactions %" PRIu64 " reads %" PRIu64
                   " config %" PRIu64 " transfers %" PRIu64 " heals %" PRIu64 "\n",
                   o.seed, res.violated ? "VIOLATION" : "ok", res.stats.events,
                   (double)res.stats.virtual_us / 1000.0, res.stats.committed, res.stats.leaders,
                   res.stats.messages, res.stats.crashes, res.stats.partitions, res.stats.snapshots,
                   res.stats.compactions, res.stats.reads_ok, res.stats.config_changes,
                   res.stats.transfers, res.stats.heals);
        total.events += res.stats.events;
        total.committed += res.stats.committed;
        total.leaders += res.stats.leaders;
        total.crashes += res.stats.crashes;
        total.snapshots += res.stats.snapshots;
        total.heals += res.stats.heals;
    }
    printf("raft-sim: %" PRIu64 " run(s) of %" PRIu32 " nodes, seeds %" PRIu64 "..%" PRIu64
           ", faults %s, %" PRIu64 " events: %" PRIu64 " violation(s); %" PRIu64
           " entries committed, %" PRIu64 " leaders, %" PRIu64 " crashes, %" PRIu64
           " snapshots, %" PRIu64 " liveness checks passed\n",
           c.runs, c.opt.nodes, c.first_seed, c.first_seed + c.runs - 1, faults, total.events,
           failed, total.committed, total.leaders, total.crashes, total.snapshots, total.heals);
    if (c.expect_violation) {
        const char *what = c.expect_invariant ? c.expect_invariant : "any invariant";
        if (expected) {
            printf("raft-sim: planted bug caught by %s (first by seed %" PRIu64 ", %" PRIu64
                   " of %" PRIu64 " runs)\n",
                   what, first_expected, expected, c.runs);
            return 0;
        }
        printf("raft-sim: planted bug NOT caught by %s in seeds %" PRIu64 "..%" PRIu64 " (%" PRIu64
               " other violations, first by seed %" PRIu64 ")\n",
               what, c.first_seed, c.first_seed + c.runs - 1, failed, first_failed);
        return 1;
    }
    return failed ? 1 : 0;
}
