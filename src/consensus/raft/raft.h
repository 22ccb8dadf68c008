/*
 * raft.h - the pure Raft consensus core.
 *
 * What it is. One struct raft is one node's view of the Raft protocol
 * (extended Raft paper and Ongaro's thesis): randomized elections with
 * pre-vote and check-quorum, log replication with fast back-off, per-follower
 * progress (probe / replicate / snapshot) with a bounded in-flight window,
 * batching, leadership transfer, log compaction with catch-up by snapshot,
 * single-server membership changes with learners, and linearizable reads by
 * ReadIndex. It does no I/O, reads no clock, keeps no global state and draws
 * its randomness from a struct rng seeded from the config: the same inputs
 * give the same outputs, so that a simulator can drive it.
 *
 * How to drive it. The node calls one event function at a time:
 *   raft_tick             every tick (e.g. every 100 ms: the timeouts below are in ticks)
 *   raft_receive          for each message from a peer (decoded with raft_codec.h)
 *   raft_propose          to append blocks (leader only)
 *   raft_persisted        when the persistence of an update has completed
 *   raft_snapshot_installed   when a snapshot asked for has been installed
 *   raft_transfer_leadership, raft_read_index, raft_change_membership, raft_compact
 * Each event function fills a struct raft_update with what the node must do:
 *   (1) persist: hard state, then log entries (persist_seq names this work);
 *   (2) send `messages` now, in any order, over any transport;
 *   (3) apply the newly committed entries `committed` in order;
 *   (4) answer the read requests in `reads` once the applied index reaches
 *       their index;
 *   (5) fetch and install the snapshot in `snapshot`, if any.
 * A typical single-threaded loop: event -> send messages -> write (1) ->
 * fsync -> raft_persisted(seq) -> send its messages -> apply committed. The
 * persist may also run on another thread: the core accepts any number of
 * calls between an update and its raft_persisted.
 *
 * The persistence contract (enforced by the core, not left to the caller).
 *   - Updates that carry persist work are numbered by persist_seq (1, 2, 3 ...
 *     in the order the core issues them). The node makes them durable in that
 *     order, each update's hard state no later than its entries, and then
 *     calls raft_persisted(seq): "every update with persist_seq <= seq is
 *     durable". A node that crashes loses exactly what was not reported.
 *   - Messages whose meaning depends on local state (votes, vote requests,
 *     append and heartbeat acknowledgements, anything carrying a newly
 *     adopted term) are HELD by the core until every update issued so far is
 *     durable; raft_persisted releases them in its update's `messages`. So
 *     the `messages` of any update may always be sent at once.
 *   - Exceptions, on purpose: a leader's APPEND, HEARTBEAT, SNAPSHOT and
 *     TIMEOUT_NOW leave immediately, so that followers write while the leader
 *     writes; pre-vote requests and answers change no state and leave
 *     immediately too. The leader counts its own log toward the commit
 *     quorum only up to what raft_persisted has reported
 *     (raft_persisted_index()).
 *   - A candidate counts its own vote only once its term and vote are durable.
 *   - `committed` never reaches beyond the locally durable log, so an entry is
 *     applied only after it is both committed and on this node's disk.
 *
 * Memory. The core copies proposed data and received entries (one allocation
 * per batch, not per entry). Every pointer in an update (entries, messages,
 * their entries, committed, reads) points into core-owned memory and stays
 * valid until the next call of any non-const function on the same struct
 * raft: copy what must live longer. The caller owns the struct raft_update
 * itself (usually one on the stack, reused).
 *
 * The log. Index 0 is the empty log. The core keeps every entry after the
 * last compaction or installed snapshot in memory (it needs the terms to
 * match logs and the data to send); raft_compact(index) lets it drop entries
 * up to an applied index. Entry types: RAFT_ENTRY_BLOCK (opaque data from
 * raft_propose), RAFT_ENTRY_NOOP (appended by each new leader, empty) and
 * RAFT_ENTRY_CONFIG (a membership, encoded by raft_membership_encode of
 * raft_codec.h; created only by raft_change_membership).
 *
 * Membership. A configuration lists voters and learners (non-voting members
 * that receive the log). Changes are single-server (thesis §4.1): add voter,
 * add learner, promote learner, remove. A node uses the latest CONFIG entry in
 * its log as soon as it is appended (committed or not), and falls back to the
 * previous one if that entry is truncated. Invariant: at most one CONFIG entry
 * is uncommitted at a time, and a leader proposes one only after it has
 * committed an entry of its own term; so any two consecutive configurations
 * differ by one server and their majorities overlap. A leader that removes
 * itself keeps leading (without counting itself) until the change commits,
 * then steps down. Learners never campaign, and a candidate counts only the
 * votes of voters in its own configuration; any node answers vote requests
 * (it may have been promoted by an entry it has not received yet). A node
 * removed by a change that is not yet committed may still campaign: it may
 * hold that very entry, which the remaining voters need.
 *
 * Errors. Event functions return 0 or a negative TC_* code (base/error.h).
 * On error the core's Raft state is unchanged, and the update (still filled:
 * handle it) carries nothing new. A malformed message (wrong recipient, bad
 * entry numbering or terms, undecodable CONFIG entry) is TC_EINVAL; stale or
 * duplicated messages are not errors, they are handled (usually ignored). An
 * APPEND that would overwrite a committed entry cannot come from a correct
 * leader and is ignored. Running out of memory in the middle of a state
 * transition is fatal (log_fatal), as everywhere in the node (base/mem.h).
 *
 * Thread-safety: none; one thread drives one struct raft.
 */
#ifndef TC_CONSENSUS_RAFT_RAFT_H
#define TC_CONSENSUS_RAFT_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"

/* Bounds that every node and the codec share. */
#define RAFT_MAX_NODES       32u         /* members (voters + learners) */
#define RAFT_MSG_MAX_ENTRIES 4096u       /* entries in one APPEND */
#define RAFT_ENTRY_MAX_BYTES (16u << 20) /* data of one entry */
#define RAFT_MSG_MAX_BYTES   (64u << 20) /* one encoded message */

/* Node id 0 means "none" (no vote, no known leader). */
#define RAFT_NONE 0u

enum raft_entry_type {
    RAFT_ENTRY_NOOP = 0,
    RAFT_ENTRY_BLOCK = 1,
    RAFT_ENTRY_CONFIG = 2,
};

/* One log entry. data is borrowed (see "Memory" above). */
struct raft_entry {
    uint64_t term;
    uint64_t index;
    uint8_t type; /* enum raft_entry_type */
    const uint8_t *data;
    uint32_t len;
};

enum raft_member_role {
    RAFT_VOTER = 1,
    RAFT_LEARNER = 2,
};

struct raft_member {
    uint64_t id;
    uint8_t role; /* enum raft_member_role */
};

/* A configuration. Members are unique and non-zero, in no particular order. */
struct raft_membership {
    uint32_t count;
    struct raft_member members[RAFT_MAX_NODES];
};

/* What a snapshot stands for: the log up to `index` (whose entry had `term`),
 * with `membership` in force at that index. The snapshot's content (the
 * ledger up to that entry) is opaque to the core. */
struct raft_snapshot_meta {
    uint64_t index;
    uint64_t term;
    struct raft_membership membership;
};

/* State that must be durable before dependent messages leave. */
struct raft_hard_state {
    uint64_t term;
    uint64_t vote; /* candidate voted for in `term`, or RAFT_NONE */
};

enum raft_msg_type {
    RAFT_MSG_PREVOTE = 1,        /* index/log_term: candidate's last entry; term: term+1 */
    RAFT_MSG_PREVOTE_RESP = 2,   /* reject */
    RAFT_MSG_VOTE = 3,           /* index/log_term: candidate's last entry; transfer */
    RAFT_MSG_VOTE_RESP = 4,      /* reject */
    RAFT_MSG_APPEND = 5,         /* index/log_term: previous entry; commit; entries */
    RAFT_MSG_APPEND_RESP = 6,    /* see struct raft_message */
    RAFT_MSG_HEARTBEAT = 7,      /* commit; context (ReadIndex round) */
    RAFT_MSG_HEARTBEAT_RESP = 8, /* context echoed */
    RAFT_MSG_SNAPSHOT = 9,       /* snapshot: catch up by installing it */
    RAFT_MSG_TIMEOUT_NOW = 10,   /* leadership transfer: campaign at once */
};
#define RAFT_MSG_TYPE_MAX 10

/*
 * One message. A flat struct: each type uses the fields listed, the others are
 * zero (the codec encodes only the fields of the type).
 *   PREVOTE, VOTE     index = last log index, log_term = last log term,
 *                     transfer = sent because of a leadership transfer (voters
 *                     then ignore their leader lease). A PREVOTE carries the
 *                     term the sender would campaign in (its term + 1).
 *   PREVOTE_RESP, VOTE_RESP   reject. A granted PREVOTE_RESP carries the
 *                     requested term; a rejection carries the voter's term.
 *   APPEND            index = index of the entry before `entries`, log_term =
 *                     its term, commit = leader's commit index, entries =
 *                     entry_count entries numbered index+1, index+2, ...
 *   APPEND_RESP       reject = false: index = the follower's log matches the
 *                     leader's up to index (durable). reject = true: index =
 *                     the rejected previous index; hint_term = the term the
 *                     follower has at that index (0 if its log is shorter),
 *                     hint_index = first index of hint_term in its log (or its
 *                     last index + 1 when hint_term is 0).
 *   HEARTBEAT         commit = min(leader commit, follower's match), context.
 *   HEARTBEAT_RESP    context = the heartbeat's context.
 *   SNAPSHOT          snapshot = the metadata of the leader's snapshot.
 *   TIMEOUT_NOW       (term only).
 */
struct raft_message {
    uint8_t type; /* enum raft_msg_type */
    uint64_t from;
    uint64_t to;
    uint64_t term;
    uint64_t index;
    uint64_t log_term;
    uint64_t commit;
    uint64_t context;
    uint64_t hint_term;
    uint64_t hint_index;
    bool reject;
    bool transfer;
    const struct raft_entry *entries; /* borrowed; see "Memory" */
    uint32_t entry_count;
    struct raft_snapshot_meta snapshot;
};

/* The answer to one raft_read_index request. */
struct raft_read {
    uint64_t context; /* as passed to raft_read_index */
    uint64_t index;   /* serve the read once applied up to here */
    bool ok;          /* false: leadership was lost; retry elsewhere */
};

/*
 * What the node must do after an event. Every pointer stays valid until the
 * next non-const call on the core.
 */
struct raft_update {
    /* (1) Persist, if persist_seq != 0: first the hard state (if
     * hard_state_changed), then, if log_reset, drop the whole log and record
     * that it now starts after reset.index / reset.term (a snapshot was
     * installed), then the entries: drop every stored entry with index >=
     * entries[0].index, append entries[0..entry_count). Then raft_persisted. */
    uint64_t persist_seq;
    bool hard_state_changed;
    struct raft_hard_state hard_state;
    bool log_reset;
    struct raft_snapshot_meta reset;
    const struct raft_entry *entries;
    size_t entry_count;

    /* (2) Messages that may be sent now. */
    const struct raft_message *messages;
    size_t message_count;

    /* (3) Newly committed entries, in order, contiguous, to apply. */
    const struct raft_entry *committed;
    size_t committed_count;

    /* (4) Confirmed (or failed) reads, in the order they were asked. */
    const struct raft_read *reads;
    size_t read_count;

    /* (5) A snapshot to fetch from `snapshot_from` and install, then call
     * raft_snapshot_installed(&snapshot). Repeated requests for the same
     * snapshot may occur (lost messages are resent): install it once. */
    bool snapshot_wanted;
    uint64_t snapshot_from;
    struct raft_snapshot_meta snapshot;
};

/* Test-only bug switches (struct raft_config.test_bugs). They exist so that
 * the simulator can prove it catches a broken core. Always 0 in production. */
#define RAFT_BUG_LEADER_COUNTS_SELF_BEFORE_PERSIST (1u << 0)
#define RAFT_BUG_COMMIT_PREV_TERM_BY_COUNT         (1u << 1)

struct raft_config {
    uint64_t id; /* this node, != RAFT_NONE */
    /* Election timeout: a follower that hears nothing from a leader for a
     * random number of ticks in [election_ticks, 2 * election_ticks) starts
     * an election; a leader that has not heard from a majority within
     * election_ticks steps down (check-quorum). >= 2 * heartbeat_ticks. */
    uint32_t election_ticks;
    uint32_t heartbeat_ticks; /* leader heartbeat period, >= 1 */
    /* Replication: one APPEND carries at most max_msg_entries entries
     * (<= RAFT_MSG_MAX_ENTRIES) and at most max_msg_bytes of entry data (but
     * at least one entry). A follower in replicate state has at most
     * max_inflight_entries unacknowledged entries and at most
     * max_inflight_bytes of their data in flight (one entry larger than that
     * may still go alone). Zero picks the defaults below. */
    uint32_t max_msg_entries;
    uint64_t max_msg_bytes;
    uint32_t max_inflight_entries;
    uint64_t max_inflight_bytes;
    uint64_t seed;      /* seeds the core's struct rng (election jitter), mixed with id */
    uint32_t test_bugs; /* RAFT_BUG_* for tests only; 0 in production */
};

#define RAFT_DEFAULT_MAX_MSG_ENTRIES      1024u
#define RAFT_DEFAULT_MAX_MSG_BYTES        (4u << 20)
#define RAFT_DEFAULT_MAX_INFLIGHT_ENTRIES 8192u
#define RAFT_DEFAULT_MAX_INFLIGHT_BYTES   (32u << 20)

/* What the node found on its disk at start-up (all zero for a brand new node
 * except membership). */
struct raft_boot {
    struct raft_hard_state hard_state;
    /* The log starts after snapshot.index (0 and term 0 for a new chain);
     * snapshot.membership is the configuration in force there: the initial
     * members for a new chain, empty for a node that waits to be added. */
    struct raft_snapshot_meta snapshot;
    /* Durable entries after the snapshot, numbered snapshot.index + 1, ...
     * (copied by raft_create). */
    const struct raft_entry *entries;
    size_t entry_count;
    /* Highest index already applied to the ledger (>= snapshot.index, <= the
     * last entry): the core reports committed entries only after it. */
    uint64_t applied_index;
};

enum raft_role {
    RAFT_FOLLOWER = 0,
    RAFT_PRECANDIDATE = 1,
    RAFT_CANDIDATE = 2,
    RAFT_LEADER = 3,
};

enum raft_change {
    RAFT_ADD_VOTER = 1,
    RAFT_ADD_LEARNER = 2,
    RAFT_PROMOTE = 3, /* learner -> voter */
    RAFT_REMOVE = 4,
};

struct raft;

/*
 * Creates a core from its config and what is on disk. TC_EINVAL if the config
 * or boot state is inconsistent (id 0, bad timeouts, entries not numbered
 * from snapshot.index + 1, terms decreasing, vote without term...),
 * TC_ENOMEM. On success *out is owned by the caller: raft_destroy.
 * Every node starts as a follower.
 */
int raft_create(const struct raft_config *config, const struct raft_boot *boot, struct raft **out);
/* Frees the core and everything it owns. NULL is fine. */
void raft_destroy(struct raft *r);

/* One tick of logical time. */
int raft_tick(struct raft *r, struct raft_update *u);

/* Handles a message addressed to this node (m->to == own id; TC_EINVAL else).
 * m and its entries are only read during the call (the core copies). */
int raft_receive(struct raft *r, const struct raft_message *m, struct raft_update *u);

/*
 * Appends `count` blocks (data copied) as BLOCK entries in one batch: one
 * persist, shared APPEND messages. *first_index (if not NULL) gets the index
 * of the first. TC_ESTATE if not leader, TC_EAGAIN during a leadership
 * transfer, TC_ETOOBIG if a block exceeds RAFT_ENTRY_MAX_BYTES, TC_EINVAL if
 * count is 0, TC_ENOMEM.
 */
int raft_propose(struct raft *r, const struct bytes_view *blocks, size_t count,
                 uint64_t *first_index, struct raft_update *u);

/* Reports that every update with persist_seq <= seq is durable. TC_EINVAL if
 * seq was never issued; an old seq is a no-op. Releases held messages,
 * counts the leader's own log, may commit and report committed entries. */
int raft_persisted(struct raft *r, uint64_t seq, struct raft_update *u);

/*
 * Reports that the snapshot `meta` (as asked for in an update) is installed
 * and durable in the ledger. If it is ahead of the commit index, the core
 * drops its log, adopts meta's membership, sets commit and applied to
 * meta->index, asks (log_reset) that the log store restart after it, and
 * acknowledges to the leader once that is durable. An older snapshot is a
 * no-op. TC_EINVAL for an invalid membership or a term of 0 or beyond the
 * current term; TC_ESTATE on a leader.
 */
int raft_snapshot_installed(struct raft *r, const struct raft_snapshot_meta *meta,
                            struct raft_update *u);

/*
 * Lets the core drop entries up to `index` from memory; `index` must be
 * applied (reported in `committed`, or the boot applied_index) and durable.
 * Followers that need a dropped entry are then sent a SNAPSHOT at the
 * compaction point. TC_ERANGE if index is beyond that; an index at or below
 * the current start is a no-op.
 */
int raft_compact(struct raft *r, uint64_t index);

/*
 * Leader only: hands leadership to voter `to`. The leader stops accepting
 * proposals (TC_EAGAIN), brings `to` up to date, then sends it TIMEOUT_NOW;
 * the transfer is abandoned after election_ticks ticks. TC_ESTATE if not
 * leader, TC_EINVAL if `to` is not a voter or is this node.
 */
int raft_transfer_leadership(struct raft *r, uint64_t to, struct raft_update *u);

/*
 * Leader only: asks for a linearizable read. The current commit index is
 * returned in a later update's `reads` (with this context) once a majority of
 * voters has answered a heartbeat sent after this call, i.e. once leadership
 * is confirmed; reads pending when the leader steps down come back with
 * ok = false. TC_ESTATE if not leader, TC_EAGAIN until the leader has
 * committed an entry of its term.
 */
int raft_read_index(struct raft *r, uint64_t context, struct raft_update *u);

/*
 * Leader only: proposes a single-server membership change as a CONFIG entry
 * (in force from its append). TC_ESTATE if not leader; TC_EAGAIN while a
 * previous change is uncommitted, before the leader has committed an entry of
 * its term, or during a transfer; TC_EINVAL if the change does not apply
 * (adding a member, promoting a non-learner, removing a non-member, removing
 * the last voter, id 0) ; TC_EFULL beyond RAFT_MAX_NODES members.
 */
int raft_change_membership(struct raft *r, enum raft_change change, uint64_t node,
                           struct raft_update *u);

/* Read-only accessors (do not invalidate an update). */
uint64_t raft_id(const struct raft *r);
enum raft_role raft_role(const struct raft *r);
bool raft_is_leader(const struct raft *r);
uint64_t raft_term(const struct raft *r);
uint64_t raft_vote(const struct raft *r);
uint64_t raft_leader(const struct raft *r); /* known leader of the current term, or RAFT_NONE */
uint64_t raft_commit_index(const struct raft *r);
uint64_t raft_applied_index(const struct raft *r); /* last index reported in `committed` */
uint64_t raft_last_index(const struct raft *r);
uint64_t raft_last_term(const struct raft *r);
uint64_t raft_first_index(const struct raft *r); /* first entry kept in memory */
uint64_t raft_persisted_index(const struct raft *r);
/* The entry at index, or NULL if it is not in memory. Valid until the next
 * non-const call. */
const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index);
/* Term of the entry at index (also at the compaction point); 0 if unknown. */
uint64_t raft_term_at(const struct raft *r, uint64_t index);
/* The configuration in force (latest in the log). */
const struct raft_membership *raft_membership(const struct raft *r);
/* The configuration in force at the compaction point (raft_first_index() - 1):
 * what a node must store with its compacted log so that a restart can boot
 * from it (struct raft_boot's snapshot.membership). */
const struct raft_membership *raft_base_membership(const struct raft *r);
/* Leader's view of a follower: match index (0 if unknown or not leader). */
uint64_t raft_match_index(const struct raft *r, uint64_t node);

#endif
