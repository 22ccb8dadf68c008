/*
 * sim_internal.h - the simulator's own structures, shared by its files
 * (sim.c: the cluster, network, disks and faults; sim_check.c: the
 * invariants; sim_queue.c: the event queue; sim_trace.c: trace and report;
 * sim_options.c: option names) and by its unit tests.
 */
#ifndef TC_TESTS_SIM_SIM_INTERNAL_H
#define TC_TESTS_SIM_SIM_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/rng.h"
#include "consensus/raft/raft.h"
#include "sim.h"

/* ---- the event queue: a binary heap ordered by (time_us, seq) ---- */

enum sim_ev_kind {
    EV_TICK = 0,
    EV_DELIVER,       /* ptr: struct sim_msg */
    EV_DISK,          /* arg: persist seq whose write completed */
    EV_FETCH,         /* arg: snapshot index fetched; ptr: struct raft_snapshot_meta */
    EV_CLIENT,        /* a random client operation */
    EV_FAULT,         /* a random fault */
    EV_RESTART,       /* a crashed node restarts */
    EV_PARTITION_END, /* arg: partition generation */
    EV_SLOWDISK_END,  /* arg: slow-disk generation of the node */
    EV_HEAL,          /* end of a fault phase: heal everything, check liveness */
    EV_DEADLINE,      /* arg: heal number whose liveness bound expires */
    EV_FAULT_PHASE,   /* start of a fault phase */
    EV_KIND_COUNT
};

struct sim_event {
    uint64_t time_us;
    uint64_t seq; /* assigned by the queue: ties in time keep push order */
    uint8_t kind; /* enum sim_ev_kind */
    uint8_t node; /* slot */
    uint32_t inc; /* incarnation of the node the event belongs to */
    uint64_t arg;
    void *ptr; /* owned payload, freed with free() by whoever pops it */
};

struct sim_queue {
    struct sim_event *heap;
    size_t len;
    size_t cap;
    size_t max; /* bound: a push beyond it fails */
    uint64_t next_seq;
};

void sim_queue_init(struct sim_queue *q, size_t max);
/* Frees the heap and every payload still queued. */
void sim_queue_free(struct sim_queue *q);
/* Copies ev in (its seq is assigned here). TC_EFULL beyond max, TC_ENOMEM. */
int sim_queue_push(struct sim_queue *q, const struct sim_event *ev);
/* Removes the earliest event into *ev; false if empty. */
bool sim_queue_pop(struct sim_queue *q, struct sim_event *ev);

/* ---- messages in flight: one allocation holding the entries and data ---- */

struct sim_msg {
    struct raft_message m; /* m.entries points into this allocation */
};

/* ---- the simulated disk (what was reported durable) ---- */

struct sim_entry {
    uint64_t term;
    uint8_t type;
    uint32_t len;
    uint8_t *data; /* owned */
};

struct sim_disk {
    struct raft_hard_state hard;
    struct raft_snapshot_meta snap; /* the log starts after snap.index */
    struct sim_entry *ents;         /* ents[k] has index snap.index + 1 + k */
    size_t count;
    size_t cap;
};

/* One persist update waiting for its disk write to complete. */
struct sim_write {
    uint64_t seq;
    bool hard_changed;
    struct raft_hard_state hard;
    bool reset;
    struct raft_snapshot_meta reset_meta;
    uint64_t first_index;
    size_t count;
    struct sim_entry *ents; /* owned */
};

/* ---- the ledger (state machine): durable, applied in order ---- */

struct sim_rec {
    uint64_t term;
    uint64_t hash;  /* of type and data */
    uint64_t chain; /* hash of every record up to this one */
    uint8_t type;
    bool via_snapshot;
};

struct sim_conf {
    uint64_t index; /* CONFIG entry index (0: genesis) */
    struct raft_membership m;
};

struct sim_ledger {
    uint64_t applied;
    struct sim_rec *recs; /* recs[i] for index i in 1..applied (recs[0] unused) */
    size_t cap;
    struct sim_conf *confs; /* applied configurations, ascending index; confs[0] genesis */
    size_t nconf;
    size_t conf_cap;
};

/* ---- one simulated process ---- */

struct sim_node {
    uint64_t id;
    bool up;
    uint32_t inc; /* incremented on every crash: stale events are ignored */
    struct raft *r;
    struct sim_disk disk;
    struct sim_ledger ledger;
    struct sim_write *writes; /* FIFO of pending writes */
    size_t nwrites;
    size_t writes_cap;
    uint64_t disk_busy_until_us;
    uint64_t last_seq_issued;
    bool slow_disk;
    uint32_t slow_gen;
    uint64_t tick_us;        /* this incarnation's tick period (clock skew) */
    uint64_t fetching_index; /* snapshot being fetched, 0 if none */
    /* What the checker last saw of this core. */
    enum raft_role role;
    uint64_t term;
    uint64_t commit;
    uint64_t checked_commit; /* commit entries verified up to here */
    uint64_t leader_last;    /* last index while leader of `term` */
    uint64_t leader_last_term;
};

/* ---- the checker's global knowledge ---- */

struct sim_commit {
    uint64_t term;
    uint64_t hash;
    uint64_t chain;
    uint64_t in_term; /* term of the node that first reported it committed */
    uint8_t type;
};

struct sim_logkey {
    uint64_t index;
    uint64_t term; /* 0: free slot */
    uint64_t hash;
    uint64_t prev_term; /* term of the previous entry, UINT64_MAX if unknown */
};

struct sim_read {
    uint64_t context;
    uint32_t node;
    uint32_t inc;
    uint64_t start_commit; /* highest index committed anywhere at the request */
};

#define SIM_MAX_READS   64u
#define SIM_TRACE_RING  64u
#define SIM_TRACE_PRINT 30u

enum sim_trace_kind {
    TR_TICK = 0, /* a tick that changed the role or term */
    TR_DELIVER,
    TR_DROP,
    TR_PERSISTED,
    TR_PROPOSE,
    TR_READ,
    TR_READ_DONE,
    TR_CONFIG,
    TR_TRANSFER,
    TR_COMPACT,
    TR_CRASH,
    TR_RESTART,
    TR_PARTITION,
    TR_HEAL,
    TR_SLOWDISK,
    TR_SNAPSHOT,
    TR_MARKER,
    TR_LIVE,
    TR_FAULT_PHASE,
};

struct sim_trace_rec {
    uint64_t time_us;
    uint8_t kind; /* enum sim_trace_kind */
    uint8_t node;
    uint8_t msg_type;
    uint8_t role;
    bool flag;
    uint32_t count;
    uint64_t a, b, c, d, e, f;
    uint64_t term, last, commit; /* node state after the event */
};

enum sim_phase {
    PHASE_FAULTS = 0, /* faults are injected */
    PHASE_HEALED,     /* healed: waiting for a leader to commit a marker */
    PHASE_CALM,       /* liveness shown: no faults until the next phase */
};

struct sim {
    struct sim_options opt;
    struct sim_result *res;
    struct rng rng;
    struct sim_queue q;
    uint64_t now_us;
    uint64_t events;
    bool stop;

    /* Core configuration shared by all nodes of the run (seeded). */
    struct raft_config base_cfg;
    uint64_t tick_us;
    uint64_t liveness_bound_us;
    struct raft_membership genesis;

    struct sim_node nodes[SIM_MAX_SLOTS];
    uint32_t nslots;

    /* Network. */
    bool blocked[SIM_MAX_SLOTS][SIM_MAX_SLOTS]; /* [from][to] */
    uint64_t link_last_us[SIM_MAX_SLOTS][SIM_MAX_SLOTS];
    uint32_t loss_ppm;
    uint32_t dup_ppm;
    bool reorder;
    uint32_t partition_gen;

    /* Phases and liveness. */
    enum sim_phase phase;
    bool finishing;
    uint64_t heal_no;
    bool marker_pending;
    uint32_t marker_node;
    uint32_t marker_inc;
    uint64_t marker_index;
    uint64_t marker_term;
    uint64_t marker_hash;
    uint64_t heal_start_us;

    /* Client state. */
    uint64_t payload_counter;
    uint64_t read_context;
    struct sim_read reads[SIM_MAX_READS];
    uint32_t nreads;

    /* Checker. */
    struct sim_commit *commits; /* commits[i] for i in 1..commit_max */
    size_t commits_cap;
    uint64_t commit_max;
    uint64_t *leader_of_term; /* node id by term, 0 if none seen */
    size_t terms_cap;
    struct sim_logkey *keys; /* open addressing on (index, term) */
    size_t keys_cap;
    size_t keys_len;

    /* Trace ring. */
    struct sim_trace_rec trace[SIM_TRACE_RING];
    uint64_t trace_len;
};

/* sim.c */
uint64_t sim_disk_last(const struct sim_disk *d);
/* The entry at index on disk, or NULL (compacted or beyond the end). */
const struct sim_entry *sim_disk_entry(const struct sim_disk *d, uint64_t index);

/* sim_trace.c */
/* Records the first violation and stops the run. */
void sim_violation(struct sim *s, const char *invariant, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A new trace record (zeroed, with the node's state now); valid until
 * SIM_TRACE_RING more records are made. n may be NULL. */
struct sim_trace_rec *sim_trace(struct sim *s, uint8_t kind, const struct sim_node *n);
const char *sim_msg_name(uint8_t type);
void sim_print_rec(FILE *out, const struct sim_trace_rec *t);
/* The failure report: invariant, seed, replay line, trace, cluster state. */
void sim_print_report(struct sim *s, FILE *out);

/* sim_check.c */
/* Hash of an entry's type and data; chain of a history (prev_chain 0 at the
 * start). */
uint64_t sim_hash_entry(uint8_t type, const uint8_t *data, uint32_t len);
uint64_t sim_chain(uint64_t prev_chain, uint64_t term, uint64_t hash);
/* Verifies and registers entries the node's core now holds committed. */
void sim_check_commits(struct sim *s, struct sim_node *n);
/* Log matching, on the entries of a persist update. */
void sim_check_persist(struct sim *s, struct sim_node *n, const struct raft_update *u);
/* Per-node and per-term checks after every event. */
void sim_check_node(struct sim *s, struct sim_node *n);
/* State-machine safety for one committed entry handed to the node to apply. */
void sim_check_apply(struct sim *s, struct sim_node *n, const struct raft_entry *e);
/* Leader completeness, when n has just become leader. */
void sim_check_new_leader(struct sim *s, struct sim_node *n);
void sim_check_free(struct sim *s);

#endif
