/*
 * raft.c - the pure Raft core: elections, replication, commitment,
 * membership, transfer, ReadIndex, and the persistence gate on messages.
 * See raft.h for the contract and docs/raft.md for the design.
 */
#include "consensus/raft/raft.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"
#include "consensus/raft/raft_codec.h"
#include "consensus/raft/raft_mlog.h"

enum progress_state {
    PR_PROBE = 0,     /* one APPEND at a time until the follower's log matches */
    PR_REPLICATE = 1, /* optimistic pipelining within the in-flight window */
    PR_SNAPSHOT = 2,  /* waiting for the follower to install a snapshot */
};

enum vote_state {
    VOTE_NONE = 0,
    VOTE_GRANTED = 1,
    VOTE_REJECTED = 2,
};

/* What this node knows about one member (including itself). */
struct progress {
    uint64_t id;
    bool voter;
    uint8_t state; /* enum progress_state */
    bool probe_sent;
    bool active;         /* heard from since the last check-quorum round */
    bool acked_since_hb; /* acknowledged new entries since the last heartbeat */
    uint8_t vote;        /* enum vote_state, during an election */
    uint64_t match;
    uint64_t next;
    uint64_t pending_snapshot;
    uint32_t snapshot_ticks;
    uint64_t read_ack; /* highest heartbeat context acknowledged in this term */
};

struct pending_persist {
    uint64_t seq;
    uint64_t last_index; /* log durable up to here once seq is done */
};

struct pending_read {
    uint64_t context;
    uint64_t index;
    uint64_t round;
};

struct held_msg {
    struct raft_message m;
    uint64_t seq;
};

/* A growable array of fixed-size items, reused across calls. */
struct vec {
    void *items;
    size_t len;
    size_t cap;
};

struct raft {
    struct raft_config cfg;
    struct rng rng;
    uint64_t id;

    uint64_t term;
    uint64_t vote;
    uint64_t leader;
    enum raft_role role;

    struct raft_mlog log;
    uint64_t commit;
    uint64_t applied;
    uint64_t persisted_index;

    struct raft_membership conf;      /* in force: the latest in the log */
    struct raft_membership base_conf; /* in force at log.base_index */
    uint64_t conf_index;              /* index of the CONFIG entry of conf, or base */
    struct progress prs[RAFT_MAX_NODES];
    uint32_t npr;

    uint32_t election_elapsed;
    uint32_t heartbeat_elapsed;
    uint32_t randomized_timeout;
    uint64_t vote_seq; /* persist seq that makes the own vote durable */

    uint64_t term_start_index; /* leader: index of its NOOP */
    uint64_t pending_conf_index;
    uint64_t transfer_target;
    uint32_t transfer_elapsed;
    uint64_t read_round;
    struct vec reads;     /* struct pending_read */
    struct vec reads_out; /* struct raft_read */

    /* Persistence bookkeeping. */
    uint64_t seq_issued;
    uint64_t seq_done;
    struct vec pending; /* struct pending_persist, ordered by seq */
    bool hs_dirty;
    bool reset_dirty;
    struct raft_snapshot_meta reset_meta;
    uint64_t persist_from; /* lowest index (re)written in this call, UINT64_MAX if none */

    /* Output of the current call. */
    struct vec msgs;      /* struct raft_message, sent now */
    struct vec msg_first; /* uint64_t: first entry index of each msg (entries bound late) */
    struct vec dep;       /* struct raft_message produced in this call, held until durable */
    struct vec held;      /* struct held_msg */
    bool snapshot_wanted;
    uint64_t snapshot_from;
    struct raft_snapshot_meta snapshot;
};

/* ---- small helpers ---- */

static int vec_push(struct vec *v, const void *item, size_t size)
{
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void *p = realloc(v->items, cap * size);
        if (!p)
            return TC_ENOMEM;
        v->items = p;
        v->cap = cap;
    }
    memcpy((uint8_t *)v->items + v->len * size, item, size);
    v->len++;
    return TC_OK;
}

/* Removes the first k items. */
static void vec_drop_front(struct vec *v, size_t k, size_t size)
{
    if (k == 0)
        return;
    memmove(v->items, (uint8_t *)v->items + k * size, (v->len - k) * size);
    v->len -= k;
}

static void vec_free(struct vec *v)
{
    free(v->items);
    memset(v, 0, sizeof(*v));
}

/* Allocation failure halfway through a state transition cannot be reported
 * without leaving the core inconsistent: it is fatal, as in the node (mem.h). */
static void must(int rc)
{
    if (rc)
        log_fatal("raft", "out of memory in the consensus core");
}

static uint64_t last_index(const struct raft *r)
{
    return raft_mlog_last_index(&r->log);
}

static uint64_t last_term(const struct raft *r)
{
    return raft_mlog_last_term(&r->log);
}

static uint64_t term_at(const struct raft *r, uint64_t index)
{
    return raft_mlog_term(&r->log, index);
}

static struct progress *progress_of(struct raft *r, uint64_t id)
{
    for (uint32_t i = 0; i < r->npr; i++)
        if (r->prs[i].id == id)
            return &r->prs[i];
    return NULL;
}

static bool is_voter(const struct raft_membership *c, uint64_t id)
{
    for (uint32_t i = 0; i < c->count; i++)
        if (c->members[i].id == id)
            return c->members[i].role == RAFT_VOTER;
    return false;
}

static int member_pos(const struct raft_membership *c, uint64_t id)
{
    for (uint32_t i = 0; i < c->count; i++)
        if (c->members[i].id == id)
            return (int)i;
    return -1;
}

static uint32_t voter_count(const struct raft *r)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->npr; i++)
        n += r->prs[i].voter;
    return n;
}

static uint32_t quorum(const struct raft *r)
{
    return voter_count(r) / 2 + 1;
}

static bool self_is_voter(const struct raft *r)
{
    return is_voter(&r->conf, r->id);
}

static void reset_randomized_timeout(struct raft *r)
{
    r->randomized_timeout =
        r->cfg.election_ticks + (uint32_t)rng_below(&r->rng, r->cfg.election_ticks);
}

/* ---- output ---- */

static bool leaves_at_once(const struct raft *r, uint8_t type)
{
    if (type == RAFT_MSG_PREVOTE || type == RAFT_MSG_PREVOTE_RESP)
        return true; /* changes no state anywhere */
    return r->role == RAFT_LEADER && (type == RAFT_MSG_APPEND || type == RAFT_MSG_HEARTBEAT ||
                                      type == RAFT_MSG_SNAPSHOT || type == RAFT_MSG_TIMEOUT_NOW);
}

static void init_msg(const struct raft *r, struct raft_message *m, uint8_t type, uint64_t to)
{
    memset(m, 0, sizeof(*m));
    m->type = type;
    m->from = r->id;
    m->to = to;
    m->term = r->term;
}

/* Queues m; APPEND entries are referenced by first index and bound at the end
 * of the call, when the log array can no longer move. */
static void emit(struct raft *r, const struct raft_message *m, uint64_t first_entry)
{
    if (leaves_at_once(r, m->type)) {
        must(vec_push(&r->msgs, m, sizeof(*m)));
        must(vec_push(&r->msg_first, &first_entry, sizeof(first_entry)));
    } else {
        assert(m->entry_count == 0);
        must(vec_push(&r->dep, m, sizeof(*m)));
    }
}

static void reply(struct raft *r, uint8_t type, uint64_t to, bool reject)
{
    struct raft_message m;
    init_msg(r, &m, type, to);
    m.reject = reject;
    emit(r, &m, 0);
}

static void fail_reads(struct raft *r)
{
    struct pending_read *pr = r->reads.items;
    for (size_t i = 0; i < r->reads.len; i++) {
        struct raft_read out = { pr[i].context, 0, false };
        must(vec_push(&r->reads_out, &out, sizeof(out)));
    }
    r->reads.len = 0;
}

/* ---- membership ---- */

/* Rebuilds the member table from r->conf, keeping what is known of members
 * that stay. */
static void rebuild_progress(struct raft *r)
{
    struct progress old[RAFT_MAX_NODES];
    uint32_t nold = r->npr;
    memcpy(old, r->prs, sizeof(old));
    r->npr = 0;
    for (uint32_t i = 0; i < r->conf.count; i++) {
        const struct raft_member *mb = &r->conf.members[i];
        struct progress *p = &r->prs[r->npr++];
        struct progress *prev = NULL;
        for (uint32_t j = 0; j < nold; j++)
            if (old[j].id == mb->id)
                prev = &old[j];
        if (prev) {
            *p = *prev;
        } else {
            memset(p, 0, sizeof(*p));
            p->id = mb->id;
            p->next = last_index(r) + 1;
            p->state = PR_PROBE;
            p->active = true;
        }
        p->voter = mb->role == RAFT_VOTER;
    }
    if (r->transfer_target && !is_voter(&r->conf, r->transfer_target))
        r->transfer_target = RAFT_NONE;
}

static void set_conf(struct raft *r, const struct raft_membership *c, uint64_t index)
{
    r->conf = *c;
    r->conf_index = index;
    rebuild_progress(r);
}

/* Recomputes the configuration from the latest CONFIG entry in the log. */
static void recompute_conf(struct raft *r)
{
    for (uint64_t i = last_index(r); i > r->log.base_index; i--) {
        const struct raft_entry *e = raft_mlog_get(&r->log, i);
        struct raft_membership c;
        if (e->type == RAFT_ENTRY_CONFIG && raft_membership_decode(e->data, e->len, &c) == TC_OK) {
            set_conf(r, &c, i);
            return;
        }
    }
    set_conf(r, &r->base_conf, r->log.base_index);
}

/* ---- persistence gate ---- */

static void note_written(struct raft *r, uint64_t from_index)
{
    if (from_index < r->persist_from)
        r->persist_from = from_index;
}

static void truncate_from(struct raft *r, uint64_t index)
{
    raft_mlog_truncate_from(&r->log, index);
    if (r->persisted_index >= index)
        r->persisted_index = index - 1;
    struct pending_persist *pp = r->pending.items;
    for (size_t i = 0; i < r->pending.len; i++)
        if (pp[i].last_index >= index)
            pp[i].last_index = index - 1;
    note_written(r, index);
}

static uint64_t self_match(const struct raft *r)
{
    if (r->cfg.test_bugs & RAFT_BUG_LEADER_COUNTS_SELF_BEFORE_PERSIST)
        return last_index(r);
    return r->persisted_index;
}

/* ---- roles ---- */

static void reset_leader_progress(struct raft *r)
{
    for (uint32_t i = 0; i < r->npr; i++) {
        struct progress *p = &r->prs[i];
        p->match = 0;
        p->next = last_index(r) + 1;
        p->state = PR_PROBE;
        p->probe_sent = false;
        p->active = true;
        p->acked_since_hb = false;
        p->pending_snapshot = 0;
        p->read_ack = 0;
    }
}

static void become_follower(struct raft *r, uint64_t term, uint64_t leader)
{
    if (term > r->term) {
        r->term = term;
        r->vote = RAFT_NONE;
        r->hs_dirty = true;
    }
    if (r->role == RAFT_LEADER)
        fail_reads(r);
    r->role = RAFT_FOLLOWER;
    r->leader = leader;
    r->election_elapsed = 0;
    r->transfer_target = RAFT_NONE;
    reset_randomized_timeout(r);
}

static void send_votes(struct raft *r, uint8_t type, uint64_t term, bool transfer)
{
    for (uint32_t i = 0; i < r->npr; i++) {
        const struct progress *p = &r->prs[i];
        if (!p->voter || p->id == r->id)
            continue;
        struct raft_message m;
        init_msg(r, &m, type, p->id);
        m.term = term;
        m.index = last_index(r);
        m.log_term = last_term(r);
        m.transfer = transfer;
        emit(r, &m, 0);
    }
}

static void clear_votes(struct raft *r)
{
    for (uint32_t i = 0; i < r->npr; i++)
        r->prs[i].vote = VOTE_NONE;
}

/* Counts votes; returns 1 if won, -1 if lost, 0 if undecided. */
static int tally(struct raft *r)
{
    uint32_t granted = 0, rejected = 0;
    for (uint32_t i = 0; i < r->npr; i++) {
        const struct progress *p = &r->prs[i];
        if (!p->voter)
            continue;
        uint8_t v = p->vote;
        if (p->id == r->id) {
            bool durable = r->role == RAFT_PRECANDIDATE || r->vote_seq <= r->seq_done;
            v = durable ? VOTE_GRANTED : VOTE_NONE;
        }
        granted += v == VOTE_GRANTED;
        rejected += v == VOTE_REJECTED;
    }
    if (granted >= quorum(r))
        return 1;
    if (rejected >= quorum(r))
        return -1;
    return 0;
}

static void become_candidate(struct raft *r, bool transfer)
{
    r->role = RAFT_CANDIDATE;
    r->term++;
    r->vote = r->id;
    r->hs_dirty = true;
    r->leader = RAFT_NONE;
    r->election_elapsed = 0;
    reset_randomized_timeout(r);
    /* The vote becomes durable with the update issued at the end of this call. */
    r->vote_seq = r->seq_issued + 1;
    clear_votes(r);
    send_votes(r, RAFT_MSG_VOTE, r->term, transfer);
}

static void become_precandidate(struct raft *r)
{
    r->role = RAFT_PRECANDIDATE;
    r->leader = RAFT_NONE;
    r->election_elapsed = 0;
    reset_randomized_timeout(r);
    clear_votes(r);
    send_votes(r, RAFT_MSG_PREVOTE, r->term + 1, false);
    if (tally(r) == 1)
        become_candidate(r, false);
}

/* Voters campaign. So does a node whose latest, not yet committed
 * configuration removed it: it may hold entries (that very change) that the
 * remaining voters need, and only it can bring them in; if it wins, it leads
 * without counting itself and steps down once the change commits. */
static bool may_campaign(const struct raft *r)
{
    return self_is_voter(r) || (member_pos(&r->conf, r->id) < 0 && r->conf_index > r->commit);
}

/* ---- replication (leader) ---- */

static void send_snapshot(struct raft *r, struct progress *p)
{
    p->state = PR_SNAPSHOT;
    p->pending_snapshot = r->log.base_index;
    p->snapshot_ticks = 0;
    struct raft_message m;
    init_msg(r, &m, RAFT_MSG_SNAPSHOT, p->id);
    m.snapshot.index = r->log.base_index;
    m.snapshot.term = r->log.base_term;
    m.snapshot.membership = r->base_conf;
    emit(r, &m, 0);
}

/* Sends one APPEND to p if its state and window allow; returns the number of
 * entries sent, or -1 if nothing was sent. */
static long send_append(struct raft *r, struct progress *p, bool allow_empty)
{
    if (p->state == PR_SNAPSHOT || (p->state == PR_PROBE && p->probe_sent))
        return -1;
    uint64_t prev = p->next - 1;
    if (prev < r->log.base_index) {
        send_snapshot(r, p);
        return -1;
    }
    uint64_t last = last_index(r);
    uint64_t max_entries = r->cfg.max_msg_entries;
    uint64_t inflight_bytes = 0;
    if (p->state == PR_REPLICATE) {
        uint64_t inflight = prev > p->match ? prev - p->match : 0;
        if (inflight >= r->cfg.max_inflight_entries)
            max_entries = 0;
        else if (r->cfg.max_inflight_entries - inflight < max_entries)
            max_entries = r->cfg.max_inflight_entries - inflight;
        inflight_bytes = raft_mlog_cum_bytes(&r->log, prev) -
                         raft_mlog_cum_bytes(&r->log, p->match > prev ? prev : p->match);
    }
    uint64_t n = 0;
    uint64_t base_cum = raft_mlog_cum_bytes(&r->log, prev);
    while (n < max_entries && prev + n < last) {
        uint64_t bytes = raft_mlog_cum_bytes(&r->log, prev + n + 1) - base_cum;
        bool first_alone = n == 0 && (p->state != PR_REPLICATE || inflight_bytes == 0);
        if (!first_alone && bytes > r->cfg.max_msg_bytes)
            break;
        if (p->state == PR_REPLICATE && !first_alone &&
            inflight_bytes + bytes > r->cfg.max_inflight_bytes)
            break;
        n++;
    }
    if (n == 0 && !allow_empty)
        return -1;
    struct raft_message m;
    init_msg(r, &m, RAFT_MSG_APPEND, p->id);
    m.index = prev;
    m.log_term = term_at(r, prev);
    m.commit = r->commit;
    m.entry_count = (uint32_t)n;
    emit(r, &m, prev + 1);
    if (p->state == PR_REPLICATE)
        p->next += n;
    else
        p->probe_sent = true;
    return (long)n;
}

/* Sends to p as much as its window allows (one APPEND in probe state). */
static void replicate_to(struct raft *r, struct progress *p, bool allow_empty)
{
    long n = send_append(r, p, allow_empty);
    while (n > 0 && p->state == PR_REPLICATE)
        n = send_append(r, p, false);
}

static void broadcast_append(struct raft *r, bool allow_empty)
{
    for (uint32_t i = 0; i < r->npr; i++)
        if (r->prs[i].id != r->id)
            replicate_to(r, &r->prs[i], allow_empty);
}

static void send_heartbeats(struct raft *r)
{
    for (uint32_t i = 0; i < r->npr; i++) {
        struct progress *p = &r->prs[i];
        if (p->id == r->id)
            continue;
        struct raft_message m;
        init_msg(r, &m, RAFT_MSG_HEARTBEAT, p->id);
        m.commit = p->match < r->commit ? p->match : r->commit;
        m.context = r->read_round;
        p->acked_since_hb = false;
        emit(r, &m, 0);
    }
}

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The largest value that a quorum of voters has reached (self counted as
 * self_value); 0 if there are no voters. */
static uint64_t quorum_value(struct raft *r, bool use_read_ack, uint64_t self_value)
{
    uint64_t v[RAFT_MAX_NODES];
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->npr; i++) {
        const struct progress *p = &r->prs[i];
        if (!p->voter)
            continue;
        if (p->id == r->id)
            v[n++] = self_value;
        else
            v[n++] = use_read_ack ? p->read_ack : p->match;
    }
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(v[0]), cmp_desc);
    return v[n / 2];
}

static void release_reads(struct raft *r)
{
    if (r->reads.len == 0)
        return;
    uint64_t confirmed = quorum_value(r, true, r->read_round);
    struct pending_read *pr = r->reads.items;
    size_t k = 0;
    while (k < r->reads.len && pr[k].round <= confirmed) {
        struct raft_read out = { pr[k].context, pr[k].index, true };
        must(vec_push(&r->reads_out, &out, sizeof(out)));
        k++;
    }
    vec_drop_front(&r->reads, k, sizeof(*pr));
}

/* Advances the commit index if a quorum has the entry; returns true if it moved. */
static bool maybe_commit(struct raft *r)
{
    uint64_t idx = quorum_value(r, false, self_match(r));
    if (idx <= r->commit || idx > last_index(r))
        return false;
    bool by_count = r->cfg.test_bugs & RAFT_BUG_COMMIT_PREV_TERM_BY_COUNT;
    if (term_at(r, idx) != r->term && !by_count)
        return false; /* Figure 8: only entries of the current term commit by counting */
    r->commit = idx;
    return true;
}

/* After the commit index moved: tell followers, and step down if this leader
 * was removed by a change that is now committed. */
static void after_commit(struct raft *r)
{
    broadcast_append(r, true);
    if (!self_is_voter(r) && r->commit >= r->conf_index)
        become_follower(r, r->term, RAFT_NONE);
}

static void append_local(struct raft *r, uint8_t type, const struct bytes_view *views, size_t n)
{
    uint64_t first = last_index(r) + 1;
    must(raft_mlog_append_views(&r->log, r->term, type, views, n));
    note_written(r, first);
}

static void become_leader(struct raft *r)
{
    r->role = RAFT_LEADER;
    r->leader = r->id;
    r->election_elapsed = 0;
    r->heartbeat_elapsed = 0;
    r->transfer_target = RAFT_NONE;
    r->reads.len = 0;
    reset_leader_progress(r);
    /* Any CONFIG entry not known committed counts as pending. */
    r->pending_conf_index = last_index(r);
    struct bytes_view empty = { NULL, 0 };
    append_local(r, RAFT_ENTRY_NOOP, &empty, 1);
    r->term_start_index = last_index(r);
    if (maybe_commit(r))
        after_commit(r);
    else
        broadcast_append(r, false);
}

static void maybe_win(struct raft *r)
{
    if (r->role != RAFT_CANDIDATE && r->role != RAFT_PRECANDIDATE)
        return;
    int t = tally(r);
    if (t == 1) {
        if (r->role == RAFT_PRECANDIDATE)
            become_candidate(r, false);
        else
            become_leader(r);
    } else if (t == -1) {
        become_follower(r, r->term, RAFT_NONE);
    }
}

/* ---- follower side ---- */

static void send_append_resp(struct raft *r, uint64_t to, uint64_t index)
{
    struct raft_message m;
    init_msg(r, &m, RAFT_MSG_APPEND_RESP, to);
    m.index = index;
    emit(r, &m, 0);
}

static void reject_append(struct raft *r, const struct raft_message *in)
{
    struct raft_message m;
    init_msg(r, &m, RAFT_MSG_APPEND_RESP, in->from);
    m.reject = true;
    m.index = in->index;
    if (in->index > last_index(r)) {
        m.hint_term = 0;
        m.hint_index = last_index(r) + 1;
    } else {
        m.hint_term = term_at(r, in->index);
        m.hint_index = raft_mlog_first_of_term(&r->log, m.hint_term, in->index);
    }
    emit(r, &m, 0);
}

/* Applies the latest CONFIG entry among log entries [from, last]. */
static void apply_new_confs(struct raft *r, uint64_t from)
{
    for (uint64_t i = last_index(r); i >= from && i > r->log.base_index; i--) {
        const struct raft_entry *e = raft_mlog_get(&r->log, i);
        struct raft_membership c;
        if (e->type == RAFT_ENTRY_CONFIG && raft_membership_decode(e->data, e->len, &c) == TC_OK) {
            set_conf(r, &c, i);
            return;
        }
    }
}

static void handle_append(struct raft *r, const struct raft_message *m)
{
    if (m->index < r->commit) {
        send_append_resp(r, m->from, r->commit);
        return;
    }
    if (m->index > last_index(r) || term_at(r, m->index) != m->log_term) {
        reject_append(r, m);
        return;
    }
    /* Skip what already matches; a conflict truncates the rest. */
    uint32_t k = 0;
    while (k < m->entry_count) {
        const struct raft_entry *e = &m->entries[k];
        if (e->index > last_index(r))
            break;
        if (term_at(r, e->index) != e->term) {
            if (e->index <= r->commit)
                return; /* would rewrite a committed entry: not from a correct leader */
            bool had_conf = r->conf_index >= e->index;
            truncate_from(r, e->index);
            if (had_conf)
                recompute_conf(r);
            break;
        }
        k++;
    }
    if (k < m->entry_count) {
        uint64_t first = m->entries[k].index;
        must(raft_mlog_append(&r->log, &m->entries[k], m->entry_count - k));
        note_written(r, first);
        apply_new_confs(r, first);
    }
    uint64_t last_new = m->index + m->entry_count;
    uint64_t c = m->commit < last_new ? m->commit : last_new;
    if (c > r->commit)
        r->commit = c;
    send_append_resp(r, m->from, last_new);
}

static void handle_heartbeat(struct raft *r, const struct raft_message *m)
{
    uint64_t c = m->commit < last_index(r) ? m->commit : last_index(r);
    if (c > r->commit)
        r->commit = c;
    struct raft_message out;
    init_msg(r, &out, RAFT_MSG_HEARTBEAT_RESP, m->from);
    out.context = m->context;
    emit(r, &out, 0);
}

static void handle_snapshot(struct raft *r, const struct raft_message *m)
{
    const struct raft_snapshot_meta *s = &m->snapshot;
    if (s->index <= r->commit) {
        send_append_resp(r, m->from, r->commit);
        return;
    }
    if (term_at(r, s->index) == s->term && s->index <= last_index(r)) {
        /* Already have it: the log matches the leader's up to there. */
        r->commit = s->index;
        send_append_resp(r, m->from, s->index);
        return;
    }
    r->snapshot_wanted = true;
    r->snapshot_from = m->from;
    r->snapshot = *s;
}

/* ---- leader side ---- */

static uint64_t next_after_reject(struct raft *r, const struct raft_message *m)
{
    uint64_t next;
    if (m->hint_term == 0) {
        next = m->hint_index;
    } else {
        uint64_t l = raft_mlog_last_at_or_below_term(&r->log, m->hint_term);
        if (l > r->log.base_index && term_at(r, l) == m->hint_term)
            next = l + 1;
        else
            next = m->hint_index;
    }
    if (next > m->index)
        next = m->index;
    return next;
}

static void maybe_send_timeout_now(struct raft *r, const struct progress *p)
{
    if (r->transfer_target == p->id && p->match == last_index(r)) {
        struct raft_message m;
        init_msg(r, &m, RAFT_MSG_TIMEOUT_NOW, p->id);
        emit(r, &m, 0);
    }
}

static void handle_append_resp(struct raft *r, struct progress *p, const struct raft_message *m)
{
    if (m->reject) {
        if (p->state == PR_SNAPSHOT)
            return;
        if (p->state == PR_REPLICATE && m->index <= p->match)
            return; /* stale */
        if (p->state == PR_PROBE && m->index != p->next - 1)
            return; /* stale */
        uint64_t next = next_after_reject(r, m);
        if (next < p->match + 1)
            next = p->match + 1;
        p->next = next;
        p->state = PR_PROBE;
        p->probe_sent = false;
        replicate_to(r, p, false);
        if (p->state == PR_PROBE && !p->probe_sent)
            send_append(r, p, true);
        return;
    }
    if (m->index > last_index(r))
        return; /* acknowledges entries this leader never sent */
    if (m->index > p->match) {
        p->match = m->index;
        p->acked_since_hb = true;
        if (p->next < p->match + 1)
            p->next = p->match + 1;
        if (p->state == PR_PROBE || (p->state == PR_SNAPSHOT && p->match >= p->pending_snapshot)) {
            p->state = PR_REPLICATE;
            p->next = p->match + 1;
            p->probe_sent = false;
        }
        if (maybe_commit(r)) {
            after_commit(r);
            if (r->role != RAFT_LEADER)
                return;
        }
        maybe_send_timeout_now(r, p);
    } else if (p->state == PR_PROBE) {
        p->probe_sent = false;
    }
    replicate_to(r, p, false);
}

static void handle_heartbeat_resp(struct raft *r, struct progress *p, const struct raft_message *m)
{
    if (m->context > p->read_ack) {
        p->read_ack = m->context;
        release_reads(r);
    }
    if (p->state == PR_REPLICATE && p->match < p->next - 1 && !p->acked_since_hb) {
        /* Nothing acknowledged for a heartbeat round: assume lost appends. */
        p->state = PR_PROBE;
        p->next = p->match + 1;
        p->probe_sent = false;
    }
    if (p->state == PR_PROBE)
        p->probe_sent = false;
    if (p->match < last_index(r))
        replicate_to(r, p, false);
}

/* ---- elections (receiving side) ---- */

static bool log_up_to_date(const struct raft *r, const struct raft_message *m)
{
    uint64_t lt = last_term(r);
    return m->log_term > lt || (m->log_term == lt && m->index >= last_index(r));
}

static void handle_vote_request(struct raft *r, const struct raft_message *m)
{
    bool pre = m->type == RAFT_MSG_PREVOTE;
    bool can_vote = r->vote == m->from || (r->vote == RAFT_NONE && r->leader == RAFT_NONE) ||
                    (pre && m->term > r->term);
    /* A node votes even when its own configuration says it is a learner or
     * not a member: it may have been promoted in an entry it has not
     * received yet. Candidates count only the votes of their voters. */
    bool grant = can_vote && log_up_to_date(r, m);
    uint8_t type = pre ? RAFT_MSG_PREVOTE_RESP : RAFT_MSG_VOTE_RESP;
    struct raft_message out;
    init_msg(r, &out, type, m->from);
    out.reject = !grant;
    if (grant && pre) {
        out.term = m->term;
    } else if (grant) {
        r->vote = m->from;
        r->hs_dirty = true;
        r->election_elapsed = 0;
    }
    emit(r, &out, 0);
}

static void handle_vote_resp(struct raft *r, const struct raft_message *m)
{
    bool pre = m->type == RAFT_MSG_PREVOTE_RESP;
    if (pre ? r->role != RAFT_PRECANDIDATE : r->role != RAFT_CANDIDATE)
        return;
    uint64_t expect = pre && !m->reject ? r->term + 1 : r->term;
    if (m->term != expect)
        return;
    struct progress *p = progress_of(r, m->from);
    if (!p || !p->voter || p->vote != VOTE_NONE)
        return;
    p->vote = m->reject ? VOTE_REJECTED : VOTE_GRANTED;
    maybe_win(r);
}

/* ---- validation of messages ---- */

static bool entries_valid(const struct raft_message *m)
{
    if (m->entry_count > RAFT_MSG_MAX_ENTRIES || (m->entry_count && !m->entries))
        return false;
    if (m->index > UINT64_MAX - m->entry_count)
        return false;
    uint64_t prev_term = m->log_term;
    for (uint32_t i = 0; i < m->entry_count; i++) {
        const struct raft_entry *e = &m->entries[i];
        if (e->index != m->index + 1 + i || e->term < prev_term || e->term > m->term ||
            e->term == 0 || e->type > RAFT_ENTRY_CONFIG || e->len > RAFT_ENTRY_MAX_BYTES ||
            (e->len && !e->data))
            return false;
        if (e->type == RAFT_ENTRY_CONFIG) {
            struct raft_membership c;
            if (raft_membership_decode(e->data, e->len, &c) != TC_OK)
                return false;
        }
        prev_term = e->term;
    }
    return true;
}

static bool message_valid(const struct raft *r, const struct raft_message *m)
{
    if (m->to != r->id || m->from == RAFT_NONE || m->from == r->id)
        return false;
    if (m->type < RAFT_MSG_PREVOTE || m->type > RAFT_MSG_TYPE_MAX)
        return false;
    if (m->type == RAFT_MSG_APPEND && (!entries_valid(m) || m->log_term > m->term))
        return false;
    if (m->type == RAFT_MSG_SNAPSHOT &&
        (!raft_membership_valid(&m->snapshot.membership) || m->snapshot.term > m->term))
        return false;
    return true;
}

static bool from_leader(uint8_t type)
{
    return type == RAFT_MSG_APPEND || type == RAFT_MSG_HEARTBEAT || type == RAFT_MSG_SNAPSHOT;
}

static bool in_lease(const struct raft *r)
{
    return r->leader != RAFT_NONE && r->election_elapsed < r->cfg.election_ticks;
}

/* Term rules common to all messages. Returns false if m is to be dropped. */
static bool check_term(struct raft *r, const struct raft_message *m)
{
    bool vote_req = m->type == RAFT_MSG_PREVOTE || m->type == RAFT_MSG_VOTE;
    if (m->term > r->term) {
        if (vote_req && !m->transfer && in_lease(r))
            return false; /* a live leader exists: do not let this disrupt it */
        if (m->type == RAFT_MSG_PREVOTE)
            return true;
        if (m->type == RAFT_MSG_PREVOTE_RESP && !m->reject)
            return true;
        become_follower(r, m->term, from_leader(m->type) ? m->from : RAFT_NONE);
        return true;
    }
    if (m->term < r->term) {
        if (from_leader(m->type)) {
            /* A stale leader: our higher term makes it step down. */
            send_append_resp(r, m->from, 0);
        } else if (m->type == RAFT_MSG_PREVOTE) {
            reply(r, RAFT_MSG_PREVOTE_RESP, m->from, true);
        }
        return false;
    }
    return true;
}

static void step(struct raft *r, const struct raft_message *m)
{
    if (!check_term(r, m))
        return;
    if (r->role == RAFT_LEADER) {
        struct progress *p = progress_of(r, m->from);
        if (p)
            p->active = true;
    }
    switch (m->type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        handle_vote_request(r, m);
        break;
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        handle_vote_resp(r, m);
        break;
    case RAFT_MSG_APPEND:
    case RAFT_MSG_HEARTBEAT:
    case RAFT_MSG_SNAPSHOT:
        if (r->role == RAFT_LEADER)
            break; /* two leaders in one term cannot happen; ignore */
        if (r->role != RAFT_FOLLOWER)
            become_follower(r, r->term, m->from);
        r->leader = m->from;
        r->election_elapsed = 0;
        if (m->type == RAFT_MSG_APPEND)
            handle_append(r, m);
        else if (m->type == RAFT_MSG_HEARTBEAT)
            handle_heartbeat(r, m);
        else
            handle_snapshot(r, m);
        break;
    case RAFT_MSG_APPEND_RESP:
    case RAFT_MSG_HEARTBEAT_RESP: {
        struct progress *p = progress_of(r, m->from);
        if (r->role != RAFT_LEADER || !p || m->from == r->id)
            break;
        if (m->type == RAFT_MSG_APPEND_RESP)
            handle_append_resp(r, p, m);
        else
            handle_heartbeat_resp(r, p, m);
        break;
    }
    case RAFT_MSG_TIMEOUT_NOW:
        if (r->role == RAFT_FOLLOWER && may_campaign(r))
            become_candidate(r, true);
        break;
    default:
        break;
    }
}

/* ---- ticks ---- */

static void tick_leader(struct raft *r)
{
    r->heartbeat_elapsed++;
    r->election_elapsed++;
    for (uint32_t i = 0; i < r->npr; i++) {
        struct progress *p = &r->prs[i];
        if (p->state == PR_SNAPSHOT && ++p->snapshot_ticks >= r->cfg.election_ticks) {
            /* No answer to the snapshot: probe again (which resends it if needed). */
            p->state = PR_PROBE;
            p->probe_sent = false;
            p->next = p->match + 1;
        }
    }
    if (r->transfer_target && ++r->transfer_elapsed >= r->cfg.election_ticks)
        r->transfer_target = RAFT_NONE;
    if (r->election_elapsed >= r->cfg.election_ticks) {
        r->election_elapsed = 0;
        uint32_t active = 0;
        for (uint32_t i = 0; i < r->npr; i++) {
            struct progress *p = &r->prs[i];
            if (p->voter && (p->id == r->id || p->active))
                active++;
            p->active = false;
        }
        if (voter_count(r) > 0 && active < quorum(r)) {
            become_follower(r, r->term, RAFT_NONE); /* check-quorum */
            return;
        }
    }
    if (r->heartbeat_elapsed >= r->cfg.heartbeat_ticks) {
        r->heartbeat_elapsed = 0;
        send_heartbeats(r);
    }
}

static void tick_other(struct raft *r)
{
    if (r->election_elapsed < UINT32_MAX)
        r->election_elapsed++;
    if (r->election_elapsed >= r->randomized_timeout && may_campaign(r))
        become_precandidate(r);
}

/* ---- the update ---- */

static void begin(struct raft *r)
{
    r->msgs.len = 0;
    r->msg_first.len = 0;
    r->dep.len = 0;
    r->reads_out.len = 0;
    r->hs_dirty = false;
    r->reset_dirty = false;
    r->persist_from = UINT64_MAX;
    r->snapshot_wanted = false;
}

static void release_held(struct raft *r)
{
    struct held_msg *h = r->held.items;
    size_t k = 0;
    while (k < r->held.len && h[k].seq <= r->seq_done) {
        uint64_t zero = 0;
        must(vec_push(&r->msgs, &h[k].m, sizeof(h[k].m)));
        must(vec_push(&r->msg_first, &zero, sizeof(zero)));
        k++;
    }
    vec_drop_front(&r->held, k, sizeof(*h));
}

static void finish(struct raft *r, struct raft_update *u)
{
    memset(u, 0, sizeof(*u));
    uint64_t last = last_index(r);
    bool entries = r->persist_from <= last;
    if (r->hs_dirty || r->reset_dirty || entries) {
        struct pending_persist pp = { ++r->seq_issued, last };
        must(vec_push(&r->pending, &pp, sizeof(pp)));
        u->persist_seq = pp.seq;
        u->hard_state_changed = r->hs_dirty;
        u->hard_state.term = r->term;
        u->hard_state.vote = r->vote;
        u->log_reset = r->reset_dirty;
        u->reset = r->reset_meta;
        if (entries) {
            u->entries = raft_mlog_get(&r->log, r->persist_from);
            u->entry_count = (size_t)(last - r->persist_from + 1);
        }
    }
    /* Messages that depend on state: out now only if all of it is durable. */
    struct raft_message *dm = r->dep.items;
    for (size_t i = 0; i < r->dep.len; i++) {
        if (r->seq_issued == r->seq_done) {
            uint64_t zero = 0;
            must(vec_push(&r->msgs, &dm[i], sizeof(dm[i])));
            must(vec_push(&r->msg_first, &zero, sizeof(zero)));
        } else {
            struct held_msg h = { dm[i], r->seq_issued };
            must(vec_push(&r->held, &h, sizeof(h)));
        }
    }
    r->dep.len = 0;
    struct raft_message *msgs = r->msgs.items;
    const uint64_t *first = r->msg_first.items;
    for (size_t i = 0; i < r->msgs.len; i++) {
        if (msgs[i].entry_count)
            msgs[i].entries = raft_mlog_get(&r->log, first[i]);
    }
    u->messages = msgs;
    u->message_count = r->msgs.len;
    uint64_t up_to = r->commit < r->persisted_index ? r->commit : r->persisted_index;
    if (up_to > r->applied) {
        u->committed = raft_mlog_get(&r->log, r->applied + 1);
        u->committed_count = (size_t)(up_to - r->applied);
        r->applied = up_to;
    }
    u->reads = r->reads_out.items;
    u->read_count = r->reads_out.len;
    if (r->snapshot_wanted) {
        u->snapshot_wanted = true;
        u->snapshot_from = r->snapshot_from;
        u->snapshot = r->snapshot;
    }
}

/* ---- public API ---- */

static int check_config(const struct raft_config *c)
{
    if (c->id == RAFT_NONE || c->heartbeat_ticks == 0 ||
        c->election_ticks < 2 * c->heartbeat_ticks || c->max_msg_entries > RAFT_MSG_MAX_ENTRIES)
        return TC_EINVAL;
    return TC_OK;
}

static int check_boot(const struct raft_boot *b)
{
    if (!raft_membership_valid(&b->snapshot.membership))
        return TC_EINVAL;
    if (b->hard_state.term == 0 && b->hard_state.vote != RAFT_NONE)
        return TC_EINVAL;
    if ((b->snapshot.index == 0) != (b->snapshot.term == 0) ||
        b->snapshot.term > b->hard_state.term)
        return TC_EINVAL;
    if (b->entry_count && !b->entries)
        return TC_EINVAL;
    uint64_t prev = b->snapshot.term;
    for (size_t i = 0; i < b->entry_count; i++) {
        const struct raft_entry *e = &b->entries[i];
        if (e->index != b->snapshot.index + 1 + i || e->term < prev ||
            e->term > b->hard_state.term || e->type > RAFT_ENTRY_CONFIG ||
            e->len > RAFT_ENTRY_MAX_BYTES || (e->len && !e->data))
            return TC_EINVAL;
        struct raft_membership c;
        if (e->type == RAFT_ENTRY_CONFIG && raft_membership_decode(e->data, e->len, &c))
            return TC_EINVAL;
        prev = e->term;
    }
    if (b->applied_index < b->snapshot.index ||
        b->applied_index > b->snapshot.index + b->entry_count)
        return TC_EINVAL;
    return TC_OK;
}

int raft_create(const struct raft_config *config, const struct raft_boot *boot, struct raft **out)
{
    *out = NULL;
    int rc = check_config(config);
    if (rc || (rc = check_boot(boot)))
        return rc;
    struct raft *r = calloc(1, sizeof(*r));
    if (!r)
        return TC_ENOMEM;
    r->cfg = *config;
    if (!r->cfg.max_msg_entries)
        r->cfg.max_msg_entries = RAFT_DEFAULT_MAX_MSG_ENTRIES;
    if (!r->cfg.max_msg_bytes)
        r->cfg.max_msg_bytes = RAFT_DEFAULT_MAX_MSG_BYTES;
    if (!r->cfg.max_inflight_entries)
        r->cfg.max_inflight_entries = RAFT_DEFAULT_MAX_INFLIGHT_ENTRIES;
    if (!r->cfg.max_inflight_bytes)
        r->cfg.max_inflight_bytes = RAFT_DEFAULT_MAX_INFLIGHT_BYTES;
    rng_seed(&r->rng, config->seed ^ config->id);
    r->id = config->id;
    r->term = boot->hard_state.term;
    r->vote = boot->hard_state.vote;
    r->role = RAFT_FOLLOWER;
    raft_mlog_init(&r->log, boot->snapshot.index, boot->snapshot.term);
    if ((rc = raft_mlog_append(&r->log, boot->entries, boot->entry_count))) {
        free(r);
        return rc;
    }
    r->commit = boot->applied_index;
    r->applied = boot->applied_index;
    r->persisted_index = last_index(r);
    r->base_conf = boot->snapshot.membership;
    recompute_conf(r);
    reset_randomized_timeout(r);
    r->persist_from = UINT64_MAX;
    *out = r;
    return TC_OK;
}

void raft_destroy(struct raft *r)
{
    if (!r)
        return;
    raft_mlog_free(&r->log);
    vec_free(&r->reads);
    vec_free(&r->reads_out);
    vec_free(&r->pending);
    vec_free(&r->msgs);
    vec_free(&r->msg_first);
    vec_free(&r->dep);
    vec_free(&r->held);
    free(r);
}

int raft_tick(struct raft *r, struct raft_update *u)
{
    begin(r);
    if (r->role == RAFT_LEADER)
        tick_leader(r);
    else
        tick_other(r);
    finish(r, u);
    return TC_OK;
}

int raft_receive(struct raft *r, const struct raft_message *m, struct raft_update *u)
{
    begin(r);
    if (!message_valid(r, m)) {
        finish(r, u);
        return TC_EINVAL;
    }
    step(r, m);
    finish(r, u);
    return TC_OK;
}

int raft_propose(struct raft *r, const struct bytes_view *blocks, size_t count,
                 uint64_t *first_index, struct raft_update *u)
{
    begin(r);
    int rc = TC_OK;
    if (r->role != RAFT_LEADER)
        rc = TC_ESTATE;
    else if (r->transfer_target != RAFT_NONE)
        rc = TC_EAGAIN;
    else if (count == 0 || !blocks)
        rc = TC_EINVAL;
    for (size_t i = 0; rc == TC_OK && i < count; i++) {
        if (blocks[i].len > RAFT_ENTRY_MAX_BYTES)
            rc = TC_ETOOBIG;
        else if (blocks[i].len && !blocks[i].ptr)
            rc = TC_EINVAL;
    }
    if (rc == TC_OK) {
        uint64_t first = last_index(r) + 1;
        if ((rc = raft_mlog_append_views(&r->log, r->term, RAFT_ENTRY_BLOCK, blocks, count)) ==
            TC_OK) {
            note_written(r, first);
            if (first_index)
                *first_index = first;
            if (maybe_commit(r))
                after_commit(r);
            else
                broadcast_append(r, false);
        }
    }
    finish(r, u);
    return rc;
}

int raft_persisted(struct raft *r, uint64_t seq, struct raft_update *u)
{
    begin(r);
    if (seq > r->seq_issued) {
        finish(r, u);
        return TC_EINVAL;
    }
    if (seq > r->seq_done) {
        struct pending_persist *pp = r->pending.items;
        size_t k = 0;
        uint64_t durable = r->persisted_index;
        while (k < r->pending.len && pp[k].seq <= seq) {
            durable = pp[k].last_index;
            k++;
        }
        vec_drop_front(&r->pending, k, sizeof(*pp));
        if (durable < r->log.base_index)
            durable = r->log.base_index;
        r->persisted_index = durable;
        r->seq_done = seq;
        release_held(r);
        if (r->role == RAFT_CANDIDATE)
            maybe_win(r);
        if (r->role == RAFT_LEADER && maybe_commit(r))
            after_commit(r);
    }
    finish(r, u);
    return TC_OK;
}

int raft_snapshot_installed(struct raft *r, const struct raft_snapshot_meta *meta,
                            struct raft_update *u)
{
    begin(r);
    if (!raft_membership_valid(&meta->membership) || meta->term == 0 || meta->term > r->term) {
        finish(r, u);
        return TC_EINVAL;
    }
    if (r->role == RAFT_LEADER) {
        finish(r, u);
        return TC_ESTATE;
    }
    if (meta->index > r->commit && meta->index <= last_index(r) &&
        term_at(r, meta->index) == meta->term) {
        /* Entries arrived while the snapshot was fetched: the log holds the
         * snapshot's last entry, so by log matching it holds everything the
         * snapshot stands for, and the entries after it may already have been
         * acknowledged to the leader and offered in vote requests. Keep them
         * (Raft, Figure 13, step 6); the ledger now holds up to meta->index. */
        r->commit = meta->index;
        if (r->applied < meta->index)
            r->applied = meta->index;
        uint64_t to = r->leader != RAFT_NONE ? r->leader : r->snapshot_from;
        if (to != RAFT_NONE && to != r->id)
            send_append_resp(r, to, meta->index);
    } else if (meta->index > r->commit) {
        raft_mlog_reset(&r->log, meta->index, meta->term);
        r->base_conf = meta->membership;
        set_conf(r, &meta->membership, meta->index);
        r->commit = meta->index;
        r->applied = meta->index;
        r->persisted_index = meta->index;
        struct pending_persist *pp = r->pending.items;
        for (size_t i = 0; i < r->pending.len; i++)
            if (pp[i].last_index > meta->index)
                pp[i].last_index = meta->index;
        r->reset_dirty = true;
        r->reset_meta = *meta;
        uint64_t to = r->leader != RAFT_NONE ? r->leader : r->snapshot_from;
        if (to != RAFT_NONE && to != r->id)
            send_append_resp(r, to, meta->index);
    }
    finish(r, u);
    return TC_OK;
}

int raft_compact(struct raft *r, uint64_t index)
{
    if (index <= r->log.base_index)
        return TC_OK;
    if (index > r->applied || index > r->persisted_index || index > last_index(r))
        return TC_ERANGE;
    for (uint64_t i = index; i > r->log.base_index; i--) {
        const struct raft_entry *e = raft_mlog_get(&r->log, i);
        struct raft_membership c;
        if (e->type == RAFT_ENTRY_CONFIG && raft_membership_decode(e->data, e->len, &c) == TC_OK) {
            r->base_conf = c;
            break;
        }
    }
    raft_mlog_compact_to(&r->log, index);
    return TC_OK;
}

int raft_transfer_leadership(struct raft *r, uint64_t to, struct raft_update *u)
{
    begin(r);
    int rc = TC_OK;
    struct progress *p = progress_of(r, to);
    if (r->role != RAFT_LEADER)
        rc = TC_ESTATE;
    else if (to == r->id || !p || !p->voter)
        rc = TC_EINVAL;
    if (rc == TC_OK && r->transfer_target != to) {
        r->transfer_target = to;
        r->transfer_elapsed = 0;
        if (p->match == last_index(r)) {
            maybe_send_timeout_now(r, p);
        } else {
            /* Resend from the match point: whatever was in flight may be lost. */
            if (p->state != PR_SNAPSHOT) {
                p->state = PR_PROBE;
                p->next = p->match + 1;
                p->probe_sent = false;
            }
            replicate_to(r, p, false);
        }
    }
    finish(r, u);
    return rc;
}

int raft_read_index(struct raft *r, uint64_t context, struct raft_update *u)
{
    begin(r);
    int rc = TC_OK;
    if (r->role != RAFT_LEADER)
        rc = TC_ESTATE;
    else if (r->commit < r->term_start_index)
        rc = TC_EAGAIN;
    if (rc == TC_OK) {
        struct pending_read pr = { context, r->commit, ++r->read_round };
        must(vec_push(&r->reads, &pr, sizeof(pr)));
        if (quorum_value(r, true, r->read_round) >= r->read_round)
            release_reads(r);
        else
            send_heartbeats(r);
    }
    finish(r, u);
    return rc;
}

static int apply_change(const struct raft_membership *cur, enum raft_change change, uint64_t node,
                        struct raft_membership *out)
{
    *out = *cur;
    int pos = member_pos(cur, node);
    if (node == RAFT_NONE)
        return TC_EINVAL;
    switch (change) {
    case RAFT_ADD_VOTER:
    case RAFT_ADD_LEARNER:
        if (pos >= 0)
            return TC_EINVAL;
        if (out->count >= RAFT_MAX_NODES)
            return TC_EFULL;
        out->members[out->count].id = node;
        out->members[out->count].role = change == RAFT_ADD_VOTER ? RAFT_VOTER : RAFT_LEARNER;
        out->count++;
        return TC_OK;
    case RAFT_PROMOTE:
        if (pos < 0 || cur->members[pos].role != RAFT_LEARNER)
            return TC_EINVAL;
        out->members[pos].role = RAFT_VOTER;
        return TC_OK;
    case RAFT_REMOVE:
        if (pos < 0)
            return TC_EINVAL;
        out->members[pos] = out->members[out->count - 1];
        out->count--;
        for (uint32_t i = 0; i < out->count; i++)
            if (out->members[i].role == RAFT_VOTER)
                return TC_OK;
        return TC_EINVAL; /* would leave no voter */
    default:
        return TC_EINVAL;
    }
}

int raft_change_membership(struct raft *r, enum raft_change change, uint64_t node,
                           struct raft_update *u)
{
    begin(r);
    int rc = TC_OK;
    struct raft_membership next;
    if (r->role != RAFT_LEADER)
        rc = TC_ESTATE;
    else if (r->commit < r->term_start_index || r->pending_conf_index > r->commit ||
             r->transfer_target != RAFT_NONE)
        rc = TC_EAGAIN;
    else
        rc = apply_change(&r->conf, change, node, &next);
    if (rc == TC_OK) {
        uint8_t buf[RAFT_MEMBERSHIP_MAX_BYTES];
        size_t len = 0;
        must(raft_membership_encode(&next, buf, sizeof(buf), &len));
        struct bytes_view v = { buf, len };
        append_local(r, RAFT_ENTRY_CONFIG, &v, 1);
        set_conf(r, &next, last_index(r));
        r->pending_conf_index = last_index(r);
        struct progress *p = progress_of(r, node);
        if (p && (change == RAFT_ADD_VOTER || change == RAFT_ADD_LEARNER)) {
            p->match = 0;
            p->next = last_index(r);
            p->state = PR_PROBE;
            p->probe_sent = false;
            p->active = true;
        }
        if (maybe_commit(r))
            after_commit(r);
        else
            broadcast_append(r, false);
    }
    finish(r, u);
    return rc;
}

uint64_t raft_id(const struct raft *r)
{
    return r->id;
}

enum raft_role raft_role(const struct raft *r)
{
    return r->role;
}

bool raft_is_leader(const struct raft *r)
{
    return r->role == RAFT_LEADER;
}

uint64_t raft_term(const struct raft *r)
{
    return r->term;
}

uint64_t raft_vote(const struct raft *r)
{
    return r->vote;
}

uint64_t raft_leader(const struct raft *r)
{
    return r->leader;
}

uint64_t raft_commit_index(const struct raft *r)
{
    return r->commit;
}

uint64_t raft_applied_index(const struct raft *r)
{
    return r->applied;
}

uint64_t raft_last_index(const struct raft *r)
{
    return last_index(r);
}

uint64_t raft_last_term(const struct raft *r)
{
    return last_term(r);
}

uint64_t raft_first_index(const struct raft *r)
{
    return r->log.base_index + 1;
}

uint64_t raft_persisted_index(const struct raft *r)
{
    return r->persisted_index;
}

const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index)
{
    return raft_mlog_get(&r->log, index);
}

uint64_t raft_term_at(const struct raft *r, uint64_t index)
{
    return term_at(r, index);
}

const struct raft_membership *raft_membership(const struct raft *r)
{
    return &r->conf;
}

const struct raft_membership *raft_base_membership(const struct raft *r)
{
    return &r->base_conf;
}

uint64_t raft_match_index(const struct raft *r, uint64_t node)
{
    if (r->role != RAFT_LEADER)
        return 0;
    if (node == r->id)
        return self_match(r);
    for (uint32_t i = 0; i < r->npr; i++)
        if (r->prs[i].id == node)
            return r->prs[i].match;
    return 0;
}
