/*
 * sim.h - raft-sim, the deterministic Raft cluster simulator.
 *
 * What it is. sim_run() runs one cluster of 1 to 7 voters (plus spare
 * processes that membership changes may add) of the pure Raft core
 * (consensus/raft/raft.h) in one process, on virtual time: a discrete-event
 * loop over ticks, message deliveries, disk completions, snapshot fetches,
 * client operations and faults. Everything random is drawn from one struct
 * rng seeded with options.seed, so a seed replays the same run bit for bit.
 * The network delays, loses, duplicates and reorders messages and can be
 * partitioned (both ways or one way); nodes crash (losing every write not yet
 * reported durable) and restart from their in-memory "disk"; disks can be
 * slow. After every event the invariants are checked: one leader per term,
 * leader append-only, log matching, leader completeness, state-machine
 * safety, monotonic commit, majority-durable commits, ReadIndex
 * linearizability, the persistence contract of raft.h. Fault phases alternate
 * with healed phases in which a leader must commit a new proposal within a
 * bound of virtual time (liveness).
 *
 * How to use it. Fill a struct sim_options (sim_options_default gives the
 * defaults), call sim_run, read res->violated. On a violation sim_run prints
 * to `out` the invariant, the seed, the exact replay command line and the
 * last events of the trace. The options of the CLI (main.c) map one to one.
 *
 * Thread-safety: sim_run keeps no global state, so separate runs may proceed
 * on separate threads.
 */
#ifndef TC_TESTS_SIM_SIM_H
#define TC_TESTS_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Fault kinds, selected by --faults (a comma list of their names). */
enum sim_fault {
    SIM_FAULT_LOSS = 1u << 0,       /* messages lost */
    SIM_FAULT_DUP = 1u << 1,        /* messages delivered twice */
    SIM_FAULT_REORDER = 1u << 2,    /* links stop being FIFO */
    SIM_FAULT_PARTITION = 1u << 3,  /* symmetric and one-way partitions */
    SIM_FAULT_CRASH = 1u << 4,      /* crash (losing unreported writes) and restart */
    SIM_FAULT_SLOWDISK = 1u << 5,   /* disk writes take tens of milliseconds */
    SIM_FAULT_MEMBERSHIP = 1u << 6, /* add learner/voter, promote, remove */
    SIM_FAULT_TRANSFER = 1u << 7,   /* leadership transfers */
    SIM_FAULT_CHURN = 1u << 8,      /* leaders crash and restart within tens of ms */
};
#define SIM_FAULT_ALL 0x1ffu

#define SIM_DEFAULT_EVENTS 5000u
#define SIM_MAX_VOTERS     7u /* initial voters (--nodes) */
#define SIM_MAX_SLOTS      9u /* processes: initial voters plus spares */

struct sim_options {
    uint32_t nodes; /* initial voters: 1..SIM_MAX_VOTERS */
    uint64_t seed;
    uint64_t events;          /* events to run before the final heal */
    uint32_t faults;          /* enum sim_fault mask */
    uint32_t test_bugs;       /* RAFT_BUG_* planted in every core (tests only) */
    uint32_t max_msg_entries; /* if not 0: every core's max_msg_entries */
    bool skip_commit_rule;    /* do not check commit-current-term (to let a
                               * planted Figure 8 bug reach a safety violation) */
    const char *program;      /* argv[0], for the replay command line */
    bool trace_all;           /* print every trace record as it happens */
};

struct sim_stats {
    uint64_t events;
    uint64_t virtual_us;
    uint64_t committed; /* highest committed index */
    uint64_t leaders;   /* distinct (term, leader) pairs */
    uint64_t messages;  /* messages delivered */
    uint64_t crashes;
    uint64_t partitions;
    uint64_t snapshots; /* snapshots installed */
    uint64_t compactions;
    uint64_t reads_ok;       /* confirmed ReadIndex reads */
    uint64_t config_changes; /* membership changes accepted by a leader */
    uint64_t transfers;      /* leadership transfers accepted */
    uint64_t heals;          /* liveness checks passed */
};

struct sim_result {
    bool violated;
    char invariant[48]; /* short name of the violated invariant */
    char detail[320];
    struct sim_stats stats;
};

/* Defaults: 3 nodes, seed 1, SIM_DEFAULT_EVENTS events, all faults. */
void sim_options_default(struct sim_options *o);

/* Parses "all", "none" or a comma list of fault names into *mask.
 * TC_EINVAL for an unknown name or an empty item. */
int sim_parse_faults(const char *spec, uint32_t *mask);
/* Writes the canonical spec of mask ("all", "none" or a comma list). */
void sim_format_faults(uint32_t mask, char *buf, size_t cap);

/* Parses a planted-bug name (leader-counts-self-before-persist,
 * commit-prev-term-by-count) into its RAFT_BUG_* bit. TC_EINVAL if unknown. */
int sim_parse_bug(const char *name, uint32_t *bug);
/* Name of one RAFT_BUG_* bit, or NULL. */
const char *sim_bug_name(uint32_t bug);

/* Writes the command line that replays the run of o into buf. */
void sim_format_replay(const struct sim_options *o, char *buf, size_t cap);

/*
 * Runs one simulation. Returns 0 when the run took place (read
 * res->violated), TC_EINVAL for bad options, TC_ENOMEM. On a violation, and
 * if out is not NULL, prints the report (invariant, seed, replay command,
 * last trace records) to out.
 */
int sim_run(const struct sim_options *o, struct sim_result *res, FILE *out);

#endif
