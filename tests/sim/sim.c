/*
 * sim.c - raft-sim's cluster: the nodes (a core, an in-memory disk, a
 * ledger), the network, disk writes, snapshot fetches, client operations,
 * faults, and the fault/heal phases with their liveness check. The
 * invariants live in sim_check.c, the trace and the report in sim_trace.c.
 *
 * A node follows raft.h's loop: every update's persist work becomes a
 * pending write that completes after a (seeded, possibly slow) delay, in
 * order; completing it updates the disk and calls raft_persisted. Messages
 * are sent at once (the core holds the ones that must wait). Committed
 * entries are applied to the ledger, which is durable like the disk. A crash
 * drops the core and every pending write (or, at random, keeps a prefix of
 * them: written but not yet reported); a restart builds a new core from the
 * disk and the ledger.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/mem.h"
#include "consensus/raft/raft_codec.h"
#include "sim_internal.h"

#define QUEUE_MAX         (1u << 20)
#define TICK_US           10000u
#define MAX_BATCH         8u
#define MAX_PAYLOAD       4096u
#define MAX_BACKLOG       64u /* a client proposes while fewer entries are uncommitted */
#define LIVENESS_TIMEOUTS 20u /* liveness bound, in (maximal) election timeouts */
#define PHASE_MIN_US      300000u
#define PHASE_MAX_US      2500000u

/* ---- scheduling ---- */

static void schedule(struct sim *s, uint64_t at_us, uint8_t kind, uint32_t slot, uint64_t arg,
                     void *ptr)
{
    struct sim_event ev = { 0 };
    ev.time_us = at_us;
    ev.kind = kind;
    ev.node = (uint8_t)slot;
    ev.inc = slot < s->nslots ? s->nodes[slot].inc : 0;
    ev.arg = arg;
    ev.ptr = ptr;
    int rc = sim_queue_push(&s->q, &ev);
    if (rc) {
        free(ptr);
        sim_violation(s, "bounded-queue", "event queue refused an event: %s (%zu queued)",
                      tc_strerror(rc), s->q.len);
    }
}

/* ---- disk ---- */

uint64_t sim_disk_last(const struct sim_disk *d)
{
    return d->snap.index + d->count;
}

const struct sim_entry *sim_disk_entry(const struct sim_disk *d, uint64_t index)
{
    if (index <= d->snap.index || index > sim_disk_last(d))
        return NULL;
    return &d->ents[index - d->snap.index - 1];
}

static void copy_entry(struct sim_entry *dst, const struct raft_entry *src)
{
    dst->term = src->term;
    dst->type = src->type;
    dst->len = src->len;
    dst->data = NULL;
    if (src->len) {
        dst->data = xmalloc(src->len);
        memcpy(dst->data, src->data, src->len);
    }
}

static void disk_truncate_from(struct sim_disk *d, uint64_t index)
{
    while (sim_disk_last(d) >= index && d->count > 0) {
        free(d->ents[d->count - 1].data);
        d->count--;
    }
}

/* Takes ownership of e's data. */
static void disk_append(struct sim_disk *d, struct sim_entry *e)
{
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->ents = xrealloc(d->ents, d->cap * sizeof(*d->ents));
    }
    d->ents[d->count++] = *e;
    e->data = NULL;
}

static void disk_reset(struct sim_disk *d, const struct raft_snapshot_meta *meta)
{
    disk_truncate_from(d, d->snap.index + 1);
    d->snap = *meta;
}

/* Drops the entries up to index; the log then starts after (index, term). */
static void disk_compact(struct sim_disk *d, uint64_t index, uint64_t term,
                         const struct raft_membership *m)
{
    size_t drop = (size_t)(index - d->snap.index);
    for (size_t i = 0; i < drop; i++)
        free(d->ents[i].data);
    memmove(d->ents, d->ents + drop, (d->count - drop) * sizeof(*d->ents));
    d->count -= drop;
    d->snap.index = index;
    d->snap.term = term;
    d->snap.membership = *m;
}

static void disk_free(struct sim_disk *d)
{
    disk_truncate_from(d, d->snap.index + 1);
    free(d->ents);
    memset(d, 0, sizeof(*d));
}

/* ---- ledger ---- */

static void ledger_init(struct sim_ledger *l, const struct raft_membership *genesis)
{
    memset(l, 0, sizeof(*l));
    l->conf_cap = 8;
    l->confs = xcalloc(l->conf_cap, sizeof(*l->confs));
    l->confs[0].index = 0;
    l->confs[0].m = *genesis;
    l->nconf = 1;
}

static void ledger_free(struct sim_ledger *l)
{
    free(l->recs);
    free(l->confs);
    memset(l, 0, sizeof(*l));
}

static void ledger_reserve(struct sim_ledger *l, uint64_t index)
{
    if (index < l->cap)
        return;
    size_t cap = l->cap ? l->cap : 256;
    while (cap <= index)
        cap *= 2;
    l->recs = xrealloc(l->recs, cap * sizeof(*l->recs));
    l->cap = cap;
}

static uint64_t ledger_chain(const struct sim_ledger *l)
{
    return l->applied ? l->recs[l->applied].chain : 0;
}

static const struct raft_membership *ledger_conf_at(const struct sim_ledger *l, uint64_t index)
{
    size_t i = l->nconf;
    while (i > 1 && l->confs[i - 1].index > index)
        i--;
    return &l->confs[i - 1].m;
}

static void ledger_add_conf(struct sim_ledger *l, uint64_t index, const struct raft_membership *m)
{
    if (l->nconf == l->conf_cap) {
        l->conf_cap *= 2;
        l->confs = xrealloc(l->confs, l->conf_cap * sizeof(*l->confs));
    }
    l->confs[l->nconf].index = index;
    l->confs[l->nconf].m = *m;
    l->nconf++;
}

static bool same_membership(const struct raft_membership *a, const struct raft_membership *b)
{
    if (a->count != b->count)
        return false;
    for (uint32_t i = 0; i < a->count; i++) {
        uint32_t j = 0;
        while (j < b->count && b->members[j].id != a->members[i].id)
            j++;
        if (j == b->count || b->members[j].role != a->members[i].role)
            return false;
    }
    return true;
}

/* ---- nodes: writes ---- */

static void write_free(struct sim_write *w)
{
    for (size_t i = 0; i < w->count; i++)
        free(w->ents[i].data);
    free(w->ents);
    w->ents = NULL;
    w->count = 0;
}

/* Makes one pending write durable on the node's disk. */
static void apply_write(struct sim *s, struct sim_node *n, struct sim_write *w)
{
    struct sim_disk *d = &n->disk;
    if (w->hard_changed) {
        if (w->hard.term < d->hard.term)
            sim_violation(s, "durable-term",
                          "n%" PRIu64 " persists term %" PRIu64 " after term %" PRIu64, n->id,
                          w->hard.term, d->hard.term);
        else if (w->hard.term == d->hard.term && d->hard.vote != RAFT_NONE &&
                 w->hard.vote != d->hard.vote)
            sim_violation(s, "one-vote-per-term",
                          "n%" PRIu64 " persists a vote for n%" PRIu64 " in term %" PRIu64
                          " after voting for n%" PRIu64,
                          n->id, w->hard.vote, w->hard.term, d->hard.vote);
        d->hard = w->hard;
    }
    if (w->reset) {
        if (w->reset_meta.index > n->ledger.applied)
            sim_violation(s, "snapshot-order",
                          "n%" PRIu64 " resets its log to %" PRIu64
                          " but its ledger is only at %" PRIu64,
                          n->id, w->reset_meta.index, n->ledger.applied);
        disk_reset(d, &w->reset_meta);
    }
    if (w->count) {
        if (w->first_index <= d->snap.index || w->first_index > sim_disk_last(d) + 1) {
            sim_violation(s, "persist-contiguity",
                          "n%" PRIu64 " writes entries from %" PRIu64 " to a log holding (%" PRIu64
                          ", %" PRIu64 "]",
                          n->id, w->first_index, d->snap.index, sim_disk_last(d));
            return;
        }
        disk_truncate_from(d, w->first_index);
        for (size_t i = 0; i < w->count; i++)
            disk_append(d, &w->ents[i]);
    }
}

static void enqueue_write(struct sim *s, struct sim_node *n, const struct raft_update *u)
{
    if (u->persist_seq != n->last_seq_issued + 1) {
        sim_violation(s, "persist-order",
                      "n%" PRIu64 " issued persist seq %" PRIu64 " after %" PRIu64, n->id,
                      u->persist_seq, n->last_seq_issued);
        return;
    }
    n->last_seq_issued = u->persist_seq;
    sim_check_persist(s, n, u);
    if (n->nwrites == n->writes_cap) {
        n->writes_cap = n->writes_cap ? n->writes_cap * 2 : 16;
        n->writes = xrealloc(n->writes, n->writes_cap * sizeof(*n->writes));
    }
    struct sim_write *w = &n->writes[n->nwrites++];
    memset(w, 0, sizeof(*w));
    w->seq = u->persist_seq;
    w->hard_changed = u->hard_state_changed;
    w->hard = u->hard_state;
    w->reset = u->log_reset;
    w->reset_meta = u->reset;
    if (u->entry_count) {
        w->first_index = u->entries[0].index;
        w->count = u->entry_count;
        w->ents = xmalloc(w->count * sizeof(*w->ents));
        for (size_t i = 0; i < w->count; i++)
            copy_entry(&w->ents[i], &u->entries[i]);
    }
    uint64_t delay = n->slow_disk ? rng_range(&s->rng, 5000, 60000) : rng_range(&s->rng, 50, 1500);
    uint64_t start = n->disk_busy_until_us > s->now_us ? n->disk_busy_until_us : s->now_us;
    n->disk_busy_until_us = start + delay;
    schedule(s, n->disk_busy_until_us, EV_DISK, (uint32_t)(n->id - 1), u->persist_seq, NULL);
}

/* ---- nodes: messages ---- */

static struct sim_msg *msg_copy(const struct raft_message *m)
{
    size_t data = 0;
    for (uint32_t i = 0; i < m->entry_count; i++)
        data += m->entries[i].len;
    struct sim_msg *c =
        xmalloc(sizeof(*c) + (size_t)m->entry_count * sizeof(struct raft_entry) + data);
    c->m = *m;
    struct raft_entry *ents = (struct raft_entry *)(c + 1);
    uint8_t *p = (uint8_t *)(ents + m->entry_count);
    for (uint32_t i = 0; i < m->entry_count; i++) {
        ents[i] = m->entries[i];
        if (ents[i].len) {
            memcpy(p, m->entries[i].data, ents[i].len);
            ents[i].data = p;
            p += ents[i].len;
        } else {
            ents[i].data = NULL;
        }
    }
    c->m.entries = m->entry_count ? ents : NULL;
    return c;
}

/* Records a message with the fields its type uses (see print_msg). */
static void trace_msg(struct sim *s, uint8_t kind, const struct sim_node *n,
                      const struct raft_message *m)
{
    struct sim_trace_rec *t = sim_trace(s, kind, n);
    t->msg_type = m->type;
    t->a = m->from;
    t->b = m->to;
    t->c = m->term;
    t->count = m->entry_count;
    t->flag = m->reject;
    switch (m->type) {
    case RAFT_MSG_APPEND:
        t->d = m->index;
        t->e = m->log_term;
        t->f = m->commit;
        break;
    case RAFT_MSG_APPEND_RESP:
        t->d = m->index;
        t->e = m->hint_term;
        t->f = m->hint_index;
        break;
    case RAFT_MSG_HEARTBEAT:
    case RAFT_MSG_HEARTBEAT_RESP:
        t->e = m->commit;
        t->f = m->context;
        break;
    case RAFT_MSG_SNAPSHOT:
        t->d = m->snapshot.index;
        t->e = m->snapshot.term;
        break;
    default:
        t->d = m->index;
        t->e = m->log_term;
        t->flag = m->reject || m->transfer;
        break;
    }
}

static uint64_t net_delay_us(struct sim *s)
{
    uint64_t d = rng_range(&s->rng, 200, 3000);
    if (rng_chance(&s->rng, 20000))
        d += rng_range(&s->rng, 5000, 30000); /* an occasional slow path */
    return d;
}

/* raft.h's persistence contract, checked against the simulated disk when a
 * message leaves: its term is durable (except pre-votes, which change no
 * state), a granted vote is durable, and an append acknowledgement covers
 * only entries on disk. */
static void check_durable_before_send(struct sim *s, struct sim_node *n,
                                      const struct raft_message *m)
{
    const struct sim_disk *d = &n->disk;
    if (m->type == RAFT_MSG_PREVOTE || m->type == RAFT_MSG_PREVOTE_RESP)
        return;
    if (m->term > d->hard.term) {
        sim_violation(s, "persist-before-send",
                      "n%" PRIu64 " sends a %s of term %" PRIu64
                      " while its disk holds term %" PRIu64,
                      n->id, sim_msg_name(m->type), m->term, d->hard.term);
        return;
    }
    if (m->type == RAFT_MSG_VOTE_RESP && !m->reject && m->term == d->hard.term &&
        d->hard.vote != m->to) {
        sim_violation(s, "persist-before-send",
                      "n%" PRIu64 " grants its vote of term %" PRIu64 " to n%" PRIu64
                      " but its disk records a vote for n%" PRIu64,
                      n->id, m->term, m->to, d->hard.vote);
        return;
    }
    /* The entry acknowledged may since have been replaced in memory by a
     * newer leader's (the acknowledgement waited for its write): what must
     * hold is that an entry of the message's term or older is on disk. */
    if (m->type == RAFT_MSG_APPEND_RESP && !m->reject && m->index > d->snap.index) {
        const struct sim_entry *e = sim_disk_entry(d, m->index);
        if (!e || e->term > m->term)
            sim_violation(s, "persist-before-send",
                          "n%" PRIu64 " acknowledges its log up to %" PRIu64
                          " but its disk holds (%" PRIu64 ", %" PRIu64 "]",
                          n->id, m->index, d->snap.index, sim_disk_last(d));
    }
}

static void net_send(struct sim *s, struct sim_node *from, const struct raft_message *m)
{
    if (m->from != from->id || m->to == RAFT_NONE || m->to > s->nslots || m->to == from->id) {
        sim_violation(s, "message-address",
                      "n%" PRIu64 " sends a %s from n%" PRIu64 " to n%" PRIu64, from->id,
                      sim_msg_name(m->type), m->from, m->to);
        return;
    }
    check_durable_before_send(s, from, m);
    if (s->stop)
        return;
    uint32_t fs = (uint32_t)(from->id - 1), ts = (uint32_t)(m->to - 1);
    if (s->loss_ppm && rng_chance(&s->rng, s->loss_ppm)) {
        trace_msg(s, TR_DROP, from, m);
        return;
    }
    int copies = 1 + (s->dup_ppm && rng_chance(&s->rng, s->dup_ppm));
    for (int c = 0; c < copies; c++) {
        uint64_t at = s->now_us + net_delay_us(s);
        if (s->reorder) {
            if (rng_chance(&s->rng, 100000))
                at += rng_range(&s->rng, 1000, 40000);
        } else {
            if (at < s->link_last_us[fs][ts])
                at = s->link_last_us[fs][ts];
            s->link_last_us[fs][ts] = at;
        }
        schedule(s, at, EV_DELIVER, ts, 0, msg_copy(m));
    }
}

/* ---- nodes: applying, reads, snapshots ---- */

static void apply_entry(struct sim *s, struct sim_node *n, const struct raft_entry *e)
{
    sim_check_apply(s, n, e);
    if (s->stop)
        return;
    struct sim_ledger *l = &n->ledger;
    if (e->index <= l->applied)
        return; /* already in the ledger (installed by a snapshot): checked above */
    if (e->index != l->applied + 1) {
        sim_violation(s, "apply-order", "n%" PRIu64 " applies index %" PRIu64 " after %" PRIu64,
                      n->id, e->index, l->applied);
        return;
    }
    if (e->type == RAFT_ENTRY_CONFIG) {
        struct raft_membership m;
        if (raft_membership_decode(e->data, e->len, &m) != TC_OK) {
            sim_violation(s, "config-entry",
                          "n%" PRIu64 " applies an undecodable CONFIG entry at %" PRIu64, n->id,
                          e->index);
            return;
        }
        ledger_add_conf(l, e->index, &m);
    }
    ledger_reserve(l, e->index);
    struct sim_rec *r = &l->recs[e->index];
    r->term = e->term;
    r->type = e->type;
    r->hash = sim_hash_entry(e->type, e->data, e->len);
    r->chain = sim_chain(ledger_chain(l), r->term, r->hash);
    r->via_snapshot = false;
    l->applied = e->index;
}

static void finish_read(struct sim *s, struct sim_node *n, const struct raft_read *rd)
{
    uint32_t i = 0;
    while (i < s->nreads && s->reads[i].context != rd->context)
        i++;
    if (i == s->nreads || s->reads[i].node != n->id - 1 || s->reads[i].inc != n->inc) {
        sim_violation(s, "read-context",
                      "n%" PRIu64 " answers read context %" PRIu64 " it was never asked", n->id,
                      rd->context);
        return;
    }
    struct sim_read pr = s->reads[i];
    s->reads[i] = s->reads[--s->nreads];
    struct sim_trace_rec *t = sim_trace(s, TR_READ_DONE, n);
    t->a = rd->context;
    t->b = rd->index;
    t->c = pr.start_commit;
    t->flag = rd->ok;
    if (!rd->ok)
        return;
    if (rd->index < pr.start_commit)
        sim_violation(s, "read-index",
                      "n%" PRIu64 " confirms read %" PRIu64 " at index %" PRIu64
                      " but index %" PRIu64 " was committed before the read began",
                      n->id, rd->context, rd->index, pr.start_commit);
    else if (rd->index > s->commit_max)
        sim_violation(s, "read-index",
                      "n%" PRIu64 " confirms read %" PRIu64 " at index %" PRIu64
                      ", beyond anything committed (%" PRIu64 ")",
                      n->id, rd->context, rd->index, s->commit_max);
    s->res->stats.reads_ok++;
}

static void request_fetch(struct sim *s, struct sim_node *n, const struct raft_update *u)
{
    if (n->fetching_index == u->snapshot.index)
        return; /* a repeated request: the fetch is under way */
    n->fetching_index = u->snapshot.index;
    struct raft_snapshot_meta *meta = xmalloc(sizeof(*meta));
    *meta = u->snapshot;
    schedule(s, s->now_us + rng_range(&s->rng, 1000, 20000), EV_FETCH, (uint32_t)(n->id - 1),
             u->snapshot_from, meta);
}

static void handle_update(struct sim *s, struct sim_node *n, struct raft_update *u);

/* Copies the source's ledger up to meta->index into n's. Returns false (and
 * records a violation) when the source's ledger does not hold that snapshot. */
static bool install_snapshot(struct sim *s, struct sim_node *n, struct sim_node *src,
                             const struct raft_snapshot_meta *meta)
{
    const struct sim_ledger *sl = &src->ledger;
    struct sim_ledger *l = &n->ledger;
    uint64_t idx = meta->index;
    if (sl->applied < idx) {
        sim_violation(s, "snapshot-source",
                      "n%" PRIu64 " fetches snapshot %" PRIu64 " from n%" PRIu64
                      " whose ledger is at %" PRIu64,
                      n->id, idx, src->id, sl->applied);
        return false;
    }
    if (sl->recs[idx].term != meta->term) {
        sim_violation(s, "snapshot-term",
                      "snapshot %" PRIu64 " claims term %" PRIu64 ", the ledger of n%" PRIu64
                      " has term %" PRIu64,
                      idx, meta->term, src->id, sl->recs[idx].term);
        return false;
    }
    if (!same_membership(ledger_conf_at(sl, idx), &meta->membership)) {
        sim_violation(s, "snapshot-membership",
                      "snapshot %" PRIu64 " from n%" PRIu64
                      " carries a membership other than the one in force at that index",
                      idx, src->id);
        return false;
    }
    if (idx > s->commit_max || s->commits[idx].chain != sl->recs[idx].chain) {
        sim_violation(s, "snapshot-content",
                      "snapshot %" PRIu64 " from n%" PRIu64 " is not the committed history", idx,
                      src->id);
        return false;
    }
    if (l->applied && sl->recs[l->applied].chain != l->recs[l->applied].chain) {
        sim_violation(s, "state-machine-safety",
                      "n%" PRIu64 " and n%" PRIu64 " disagree on the history up to %" PRIu64, n->id,
                      src->id, l->applied);
        return false;
    }
    ledger_reserve(l, idx);
    for (uint64_t i = l->applied + 1; i <= idx; i++) {
        l->recs[i] = sl->recs[i];
        l->recs[i].via_snapshot = true;
    }
    size_t k = 0;
    while (k < sl->nconf && sl->confs[k].index <= idx)
        k++;
    if (k > l->conf_cap) {
        l->conf_cap = k;
        l->confs = xrealloc(l->confs, l->conf_cap * sizeof(*l->confs));
    }
    memcpy(l->confs, sl->confs, k * sizeof(*l->confs));
    l->nconf = k;
    l->applied = idx;
    s->res->stats.snapshots++;
    return true;
}

static void on_fetch(struct sim *s, struct sim_node *n, uint64_t from,
                     const struct raft_snapshot_meta *meta)
{
    n->fetching_index = 0;
    struct sim_trace_rec *t = sim_trace(s, TR_SNAPSHOT, n);
    t->a = meta->index;
    t->b = meta->term;
    t->c = from;
    if (raft_is_leader(n->r))
        return; /* elected since it asked: the snapshot is no longer wanted */
    if (n->ledger.applied < meta->index) {
        if (from == RAFT_NONE || from > s->nslots) {
            sim_violation(s, "snapshot-source", "n%" PRIu64 " asked for a snapshot from n%" PRIu64,
                          n->id, from);
            return;
        }
        struct sim_node *src = &s->nodes[from - 1];
        if (!src->up || s->blocked[from - 1][n->id - 1])
            return; /* unreachable: the core will ask again */
        if (!install_snapshot(s, n, src, meta))
            return;
    }
    t->flag = true;
    struct raft_update u;
    int rc = raft_snapshot_installed(n->r, meta, &u);
    if (rc) {
        sim_violation(s, "api", "raft_snapshot_installed(%" PRIu64 ") on n%" PRIu64 ": %s",
                      meta->index, n->id, tc_strerror(rc));
        return;
    }
    handle_update(s, n, &u);
}

static void handle_update(struct sim *s, struct sim_node *n, struct raft_update *u)
{
    sim_check_commits(s, n);
    if (s->stop)
        return;
    if (u->persist_seq)
        enqueue_write(s, n, u);
    for (size_t i = 0; i < u->message_count && !s->stop; i++)
        net_send(s, n, &u->messages[i]);
    for (size_t i = 0; i < u->committed_count && !s->stop; i++)
        apply_entry(s, n, &u->committed[i]);
    for (size_t i = 0; i < u->read_count && !s->stop; i++)
        finish_read(s, n, &u->reads[i]);
    if (u->snapshot_wanted && !s->stop)
        request_fetch(s, n, u);
}

/* ---- nodes: life cycle ---- */

static void check_rc(struct sim *s, struct sim_node *n, const char *what, int rc)
{
    if (rc)
        sim_violation(s, "api", "%s on n%" PRIu64 " failed: %s", what, n->id, tc_strerror(rc));
}

/* Builds a core from the node's disk and ledger (what a real node finds at
 * start-up). */
static void boot(struct sim *s, struct sim_node *n)
{
    struct sim_disk *d = &n->disk;
    const struct sim_ledger *l = &n->ledger;
    uint64_t a = l->applied;
    const struct sim_entry *at = sim_disk_entry(d, a);
    /* The ledger is ahead of the log (a snapshot installed just before a
     * crash) or holds a different entry there (the log reset was lost): the
     * log restarts after the ledger, as a real node's recovery does. */
    if (a > sim_disk_last(d) || (a > d->snap.index && at->term != l->recs[a].term)) {
        struct raft_snapshot_meta meta;
        meta.index = a;
        meta.term = l->recs[a].term;
        meta.membership = *ledger_conf_at(l, a);
        disk_reset(d, &meta);
        /* The snapshot's term may not have reached the hard state before the
         * crash; adopting it (with no vote) is what receiving it implies. */
        if (d->hard.term < meta.term) {
            d->hard.term = meta.term;
            d->hard.vote = RAFT_NONE;
        }
    }
    struct raft_entry *ents = NULL;
    if (d->count) {
        ents = xmalloc(d->count * sizeof(*ents));
        for (size_t i = 0; i < d->count; i++) {
            ents[i].term = d->ents[i].term;
            ents[i].index = d->snap.index + 1 + i;
            ents[i].type = d->ents[i].type;
            ents[i].data = d->ents[i].data;
            ents[i].len = d->ents[i].len;
        }
    }
    struct raft_boot b;
    memset(&b, 0, sizeof(b));
    b.hard_state = d->hard;
    b.snapshot = d->snap;
    b.entries = ents;
    b.entry_count = d->count;
    b.applied_index = a;
    struct raft_config cfg = s->base_cfg;
    cfg.id = n->id;
    cfg.seed = rng_next(&s->rng);
    int rc = raft_create(&cfg, &b, &n->r);
    free(ents);
    if (rc) {
        n->r = NULL;
        sim_violation(s, "restart", "raft_create rejected the durable state of n%" PRIu64 ": %s",
                      n->id, tc_strerror(rc));
        return;
    }
    n->up = true;
    n->last_seq_issued = 0;
    n->fetching_index = 0;
    n->disk_busy_until_us = s->now_us;
    n->tick_us = TICK_US - TICK_US / 10 + rng_below(&s->rng, TICK_US / 5 + 1);
    n->role = raft_role(n->r);
    n->term = raft_term(n->r);
    n->commit = raft_commit_index(n->r);
    n->checked_commit = a;
    n->leader_last = 0;
    n->leader_last_term = 0;
    schedule(s, s->now_us + rng_below(&s->rng, n->tick_us) + 1, EV_TICK, (uint32_t)(n->id - 1), 0,
             NULL);
    struct sim_trace_rec *t = sim_trace(s, TR_RESTART, n);
    t->a = sim_disk_last(d);
    t->b = a;
    t->c = d->hard.term;
    sim_check_commits(s, n);
}

static void crash(struct sim *s, struct sim_node *n)
{
    /* Writes that reached the disk but were not yet reported survive, in
     * order: a random prefix, some of the time. */
    size_t keep = rng_chance(&s->rng, 330000) ? (size_t)rng_below(&s->rng, n->nwrites + 1) : 0;
    for (size_t i = 0; i < n->nwrites; i++) {
        if (i < keep)
            apply_write(s, n, &n->writes[i]);
        write_free(&n->writes[i]);
    }
    struct sim_trace_rec *t = sim_trace(s, TR_CRASH, n);
    t->a = keep;
    t->b = n->nwrites;
    t->c = sim_disk_last(&n->disk);
    t->d = n->disk.hard.term;
    n->nwrites = 0;
    raft_destroy(n->r);
    n->r = NULL;
    n->up = false;
    n->inc++;
    n->fetching_index = 0;
    n->slow_disk = false;
    for (uint32_t i = 0; i < s->nreads;) {
        if (s->reads[i].node == n->id - 1)
            s->reads[i] = s->reads[--s->nreads];
        else
            i++;
    }
    s->res->stats.crashes++;
}

static void on_tick(struct sim *s, struct sim_node *n)
{
    enum raft_role role = raft_role(n->r);
    uint64_t term = raft_term(n->r);
    struct raft_update u;
    int rc = raft_tick(n->r, &u);
    check_rc(s, n, "raft_tick", rc);
    if (rc)
        return;
    if (raft_role(n->r) != role || raft_term(n->r) != term)
        sim_trace(s, TR_TICK, n);
    handle_update(s, n, &u);
    schedule(s, s->now_us + n->tick_us, EV_TICK, (uint32_t)(n->id - 1), 0, NULL);
}

static void on_disk(struct sim *s, struct sim_node *n, uint64_t seq)
{
    size_t k = 0;
    while (k < n->nwrites && n->writes[k].seq <= seq && !s->stop) {
        apply_write(s, n, &n->writes[k]);
        write_free(&n->writes[k]);
        k++;
    }
    memmove(n->writes, n->writes + k, (n->nwrites - k) * sizeof(*n->writes));
    n->nwrites -= k;
    if (s->stop)
        return;
    struct raft_update u;
    int rc = raft_persisted(n->r, seq, &u);
    struct sim_trace_rec *t = sim_trace(s, TR_PERSISTED, n);
    t->a = seq;
    t->b = sim_disk_last(&n->disk);
    check_rc(s, n, "raft_persisted", rc);
    if (!rc)
        handle_update(s, n, &u);
}

static void on_deliver(struct sim *s, struct sim_node *n, const struct sim_msg *c)
{
    const struct raft_message *m = &c->m;
    if (!n->up || s->blocked[m->from - 1][n->id - 1]) {
        trace_msg(s, TR_DROP, n, m);
        return;
    }
    struct raft_update u;
    int rc = raft_receive(n->r, m, &u);
    trace_msg(s, TR_DELIVER, n, m);
    s->res->stats.messages++;
    if (rc) {
        sim_violation(s, "api",
                      "n%" PRIu64 " rejected a %s from n%" PRIu64 " (term %" PRIu64 "): %s", n->id,
                      sim_msg_name(m->type), m->from, m->term, tc_strerror(rc));
        return;
    }
    handle_update(s, n, &u);
}

/* ---- client operations ---- */

static struct sim_node *find_leader(struct sim *s)
{
    struct sim_node *best = NULL;
    for (uint32_t i = 0; i < s->nslots; i++) {
        struct sim_node *n = &s->nodes[i];
        if (n->up && raft_is_leader(n->r) && (!best || raft_term(n->r) > raft_term(best->r)))
            best = n;
    }
    return best;
}

static struct sim_node *random_up_node(struct sim *s)
{
    uint32_t up = 0;
    for (uint32_t i = 0; i < s->nslots; i++)
        up += s->nodes[i].up;
    if (up == 0)
        return NULL;
    uint64_t k = rng_below(&s->rng, up);
    for (uint32_t i = 0; i < s->nslots; i++) {
        if (s->nodes[i].up && k-- == 0)
            return &s->nodes[i];
    }
    return NULL;
}

/* Proposes a batch on n (one marker block when marker). Returns the core's rc. */
static int propose(struct sim *s, struct sim_node *n, bool marker)
{
    static const uint8_t marker_tag[8] = { 'l', 'i', 'v', 'e', 'n', 'e', 's', 's' };
    uint8_t buf[MAX_BATCH][64];
    struct bytes_view views[MAX_BATCH];
    uint8_t *big = NULL;
    size_t count = marker ? 1 : rng_chance(&s->rng, 700000) ? 1 : rng_range(&s->rng, 2, MAX_BATCH);
    for (size_t i = 0; i < count; i++) {
        uint64_t id = ++s->payload_counter;
        if (marker) {
            memcpy(buf[i], marker_tag, 8);
            memcpy(buf[i] + 8, &id, 8);
            views[i] = bytes_view_of(buf[i], 16);
        } else if (i == 0 && rng_chance(&s->rng, 30000)) {
            size_t len = rng_range(&s->rng, 65, MAX_PAYLOAD);
            big = xmalloc(len);
            rng_fill(&s->rng, big, len);
            memcpy(big, &id, 8);
            views[i] = bytes_view_of(big, len);
        } else {
            size_t len = rng_range(&s->rng, 8, 64);
            rng_fill(&s->rng, buf[i], len);
            memcpy(buf[i], &id, 8);
            views[i] = bytes_view_of(buf[i], len);
        }
    }
    struct raft_update u;
    uint64_t first = 0;
    int rc = raft_propose(n->r, views, count, &first, &u);
    struct sim_trace_rec *t = sim_trace(s, marker ? TR_MARKER : TR_PROPOSE, n);
    if (marker) {
        t->a = first;
        t->b = raft_term(n->r);
    } else {
        t->a = count;
        t->b = (uint64_t)(int64_t)rc;
        t->c = first;
    }
    if (rc == TC_OK) {
        if (marker) {
            s->marker_pending = true;
            s->marker_node = (uint32_t)(n->id - 1);
            s->marker_inc = n->inc;
            s->marker_index = first;
            s->marker_term = raft_term(n->r);
            s->marker_hash = sim_hash_entry(RAFT_ENTRY_BLOCK, views[0].ptr, (uint32_t)views[0].len);
        }
        handle_update(s, n, &u);
    } else if (rc != TC_ESTATE && rc != TC_EAGAIN) {
        check_rc(s, n, "raft_propose", rc);
    }
    free(big);
    return rc;
}

static void client_read(struct sim *s, struct sim_node *n)
{
    if (s->nreads >= SIM_MAX_READS)
        return;
    uint64_t ctx = ++s->read_context;
    struct sim_read *pr = &s->reads[s->nreads++];
    pr->context = ctx;
    pr->node = (uint32_t)(n->id - 1);
    pr->inc = n->inc;
    pr->start_commit = s->commit_max;
    struct raft_update u;
    int rc = raft_read_index(n->r, ctx, &u);
    struct sim_trace_rec *t = sim_trace(s, TR_READ, n);
    t->a = ctx;
    t->b = (uint64_t)(int64_t)rc;
    t->c = s->commit_max;
    if (rc == TC_OK) {
        handle_update(s, n, &u);
        return;
    }
    s->nreads--;
    if (rc != TC_ESTATE && rc != TC_EAGAIN)
        check_rc(s, n, "raft_read_index", rc);
}

static void client_compact(struct sim *s, struct sim_node *n)
{
    uint64_t hi = raft_applied_index(n->r);
    if (raft_persisted_index(n->r) < hi)
        hi = raft_persisted_index(n->r);
    if (sim_disk_last(&n->disk) < hi)
        hi = sim_disk_last(&n->disk);
    for (size_t i = 0; i < n->nwrites; i++)
        if (n->writes[i].reset)
            return; /* the disk still holds the log the installed snapshot replaces */
    uint64_t keep = rng_below(&s->rng, 16);
    if (hi <= n->disk.snap.index + keep)
        return;
    uint64_t c = hi - keep;
    int rc = raft_compact(n->r, c);
    if (rc) {
        check_rc(s, n, "raft_compact", rc);
        return;
    }
    const struct sim_entry *e = sim_disk_entry(&n->disk, c);
    if (c > n->ledger.applied || n->ledger.recs[c].term != e->term) {
        sim_violation(s, "compaction",
                      "n%" PRIu64 " compacts to %" PRIu64
                      " whose disk entry is not the applied one",
                      n->id, c);
        return;
    }
    disk_compact(&n->disk, c, e->term, ledger_conf_at(&n->ledger, c));
    s->res->stats.compactions++;
    sim_trace(s, TR_COMPACT, n)->a = c;
}

static void client_membership(struct sim *s, struct sim_node *l)
{
    const struct raft_membership *m = raft_membership(l->r);
    uint64_t outside[SIM_MAX_SLOTS], learners[SIM_MAX_SLOTS], removable[SIM_MAX_SLOTS];
    uint32_t no = 0, nl = 0, nr = 0, voters = 0;
    for (uint32_t i = 0; i < m->count; i++)
        voters += m->members[i].role == RAFT_VOTER;
    for (uint32_t slot = 0; slot < s->nslots; slot++) {
        uint64_t id = slot + 1;
        int role = 0;
        for (uint32_t i = 0; i < m->count; i++)
            if (m->members[i].id == id)
                role = m->members[i].role;
        if (role == 0)
            outside[no++] = id;
        if (role == RAFT_LEARNER)
            learners[nl++] = id;
        if (role == RAFT_LEARNER || (role == RAFT_VOTER && voters > 1))
            removable[nr++] = id;
    }
    enum raft_change change;
    uint64_t target;
    uint64_t roll = rng_below(&s->rng, 4);
    if (roll == 0 && no) {
        change = RAFT_ADD_LEARNER;
        target = outside[rng_below(&s->rng, no)];
    } else if (roll == 1 && no) {
        change = RAFT_ADD_VOTER;
        target = outside[rng_below(&s->rng, no)];
    } else if (roll == 2 && nl) {
        change = RAFT_PROMOTE;
        target = learners[rng_below(&s->rng, nl)];
    } else if (roll == 3 && nr) {
        change = RAFT_REMOVE;
        target = removable[rng_below(&s->rng, nr)];
    } else {
        return;
    }
    struct raft_update u;
    int rc = raft_change_membership(l->r, change, target, &u);
    struct sim_trace_rec *t = sim_trace(s, TR_CONFIG, l);
    t->a = change;
    t->b = target;
    t->c = (uint64_t)(int64_t)rc;
    if (rc == TC_OK) {
        s->res->stats.config_changes++;
        handle_update(s, l, &u);
    } else if (rc != TC_ESTATE && rc != TC_EAGAIN && rc != TC_EFULL) {
        check_rc(s, l, "raft_change_membership", rc);
    }
}

static void client_transfer(struct sim *s, struct sim_node *l)
{
    const struct raft_membership *m = raft_membership(l->r);
    uint64_t voters[RAFT_MAX_NODES];
    uint32_t nv = 0;
    for (uint32_t i = 0; i < m->count; i++)
        if (m->members[i].role == RAFT_VOTER && m->members[i].id != l->id)
            voters[nv++] = m->members[i].id;
    if (nv == 0)
        return;
    uint64_t to = voters[rng_below(&s->rng, nv)];
    struct raft_update u;
    int rc = raft_transfer_leadership(l->r, to, &u);
    struct sim_trace_rec *t = sim_trace(s, TR_TRANSFER, l);
    t->a = to;
    t->b = (uint64_t)(int64_t)rc;
    if (rc == TC_OK) {
        s->res->stats.transfers++;
        handle_update(s, l, &u);
    } else if (rc != TC_ESTATE && rc != TC_EAGAIN) {
        check_rc(s, l, "raft_transfer_leadership", rc);
    }
}

static void on_client(struct sim *s)
{
    struct sim_node *l = find_leader(s);
    uint64_t roll = rng_below(&s->rng, 100);
    bool faults = s->phase == PHASE_FAULTS;
    if (roll < 50) {
        if (l && raft_last_index(l->r) - raft_commit_index(l->r) < MAX_BACKLOG)
            propose(s, l, false);
    } else if (roll < 54) {
        struct sim_node *n = random_up_node(s);
        if (n && !raft_is_leader(n->r)) {
            /* A proposal to a follower is refused without side effects. */
            struct raft_update u;
            struct bytes_view v = bytes_view_of("x", 1);
            int rc = raft_propose(n->r, &v, 1, NULL, &u);
            if (rc != TC_ESTATE)
                sim_violation(s, "api",
                              "raft_propose on follower n%" PRIu64 " returned %d, not TC_ESTATE",
                              n->id, rc);
        }
    } else if (roll < 68) {
        if (l)
            client_read(s, l);
    } else if (roll < 82) {
        struct sim_node *n = random_up_node(s);
        if (n)
            client_compact(s, n);
    } else if (roll < 93) {
        if (l && faults && (s->opt.faults & SIM_FAULT_MEMBERSHIP))
            client_membership(s, l);
    } else {
        if (l && faults && (s->opt.faults & SIM_FAULT_TRANSFER))
            client_transfer(s, l);
    }
    schedule(s, s->now_us + rng_range(&s->rng, 2000, 15000), EV_CLIENT, 0, 0, NULL);
}

/* ---- faults ---- */

static void partition(struct sim *s)
{
    memset(s->blocked, 0, sizeof(s->blocked));
    uint32_t n = s->nslots;
    uint64_t kind = rng_below(&s->rng, 3);
    uint64_t detail = 0;
    if (kind == 0) {
        /* Isolate one node, both ways. */
        uint32_t x = (uint32_t)rng_below(&s->rng, n);
        detail = x + 1;
        for (uint32_t i = 0; i < n; i++)
            s->blocked[x][i] = s->blocked[i][x] = i != x;
    } else if (kind == 1) {
        /* Split in two sides, both ways. */
        uint32_t side = (uint32_t)rng_below(&s->rng, 1u << n);
        detail = side;
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = 0; j < n; j++)
                s->blocked[i][j] = ((side >> i) & 1) != ((side >> j) & 1);
    } else {
        /* One-way: some links drop in one direction only. */
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = 0; j < n; j++)
                s->blocked[i][j] = i != j && rng_chance(&s->rng, 350000);
    }
    uint32_t links = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n; j++)
            links += s->blocked[i][j];
    struct sim_trace_rec *t = sim_trace(s, TR_PARTITION, NULL);
    t->a = kind + 1;
    t->b = detail;
    t->c = links;
    s->partition_gen++;
    s->res->stats.partitions++;
    schedule(s, s->now_us + rng_range(&s->rng, 50000, 1500000), EV_PARTITION_END, 0,
             s->partition_gen, NULL);
}

static void unpartition(struct sim *s)
{
    memset(s->blocked, 0, sizeof(s->blocked));
    sim_trace(s, TR_PARTITION, NULL)->a = 0;
}

static void roll_network(struct sim *s)
{
    s->loss_ppm = (s->opt.faults & SIM_FAULT_LOSS) ? (uint32_t)rng_range(&s->rng, 0, 200000) : 0;
    s->dup_ppm = (s->opt.faults & SIM_FAULT_DUP) ? (uint32_t)rng_range(&s->rng, 0, 100000) : 0;
    s->reorder = (s->opt.faults & SIM_FAULT_REORDER) && rng_chance(&s->rng, 700000);
}

static void on_fault(struct sim *s)
{
    uint32_t kinds[5], nk = 0;
    if (s->opt.faults & (SIM_FAULT_LOSS | SIM_FAULT_DUP | SIM_FAULT_REORDER))
        kinds[nk++] = SIM_FAULT_LOSS;
    if (s->opt.faults & SIM_FAULT_PARTITION)
        kinds[nk++] = SIM_FAULT_PARTITION;
    if (s->opt.faults & SIM_FAULT_CRASH)
        kinds[nk++] = SIM_FAULT_CRASH;
    if (s->opt.faults & SIM_FAULT_SLOWDISK)
        kinds[nk++] = SIM_FAULT_SLOWDISK;
    if (s->opt.faults & SIM_FAULT_CHURN)
        kinds[nk++] = SIM_FAULT_CHURN;
    if (nk == 0)
        return;
    uint32_t kind = kinds[rng_below(&s->rng, nk)];
    uint64_t next_us = rng_range(&s->rng, 20000, 300000);
    if (kind == SIM_FAULT_LOSS) {
        roll_network(s);
    } else if (kind == SIM_FAULT_PARTITION) {
        partition(s);
    } else if (kind == SIM_FAULT_CRASH) {
        struct sim_node *l = find_leader(s);
        struct sim_node *n = l && rng_chance(&s->rng, 400000) ? l : random_up_node(s);
        if (n) {
            crash(s, n);
            schedule(s, s->now_us + rng_range(&s->rng, 5000, 1000000), EV_RESTART,
                     (uint32_t)(n->id - 1), 0, NULL);
        }
    } else if (kind == SIM_FAULT_CHURN) {
        /* Leaders that fall soon after winning leave logs that diverge in
         * many terms: the ground of Raft's Figure 8. */
        struct sim_node *l = find_leader(s);
        struct sim_node *n = l && rng_chance(&s->rng, 900000) ? l : random_up_node(s);
        if (n) {
            crash(s, n);
            schedule(s, s->now_us + rng_range(&s->rng, 5000, 60000), EV_RESTART,
                     (uint32_t)(n->id - 1), 0, NULL);
        }
        next_us = rng_range(&s->rng, 5000, 60000);
    } else {
        struct sim_node *n = random_up_node(s);
        if (n) {
            n->slow_disk = true;
            n->slow_gen++;
            sim_trace(s, TR_SLOWDISK, n)->a = 1;
            schedule(s, s->now_us + rng_range(&s->rng, 100000, 2000000), EV_SLOWDISK_END,
                     (uint32_t)(n->id - 1), n->slow_gen, NULL);
        }
    }
    schedule(s, s->now_us + next_us, EV_FAULT, 0, s->heal_no, NULL);
}

/* ---- phases and liveness ---- */

static void start_fault_phase(struct sim *s)
{
    s->phase = PHASE_FAULTS;
    roll_network(s);
    struct sim_trace_rec *t = sim_trace(s, TR_FAULT_PHASE, NULL);
    t->a = s->loss_ppm;
    t->b = s->dup_ppm;
    t->flag = s->reorder;
    schedule(s, s->now_us + rng_range(&s->rng, 1000, 100000), EV_FAULT, 0, s->heal_no, NULL);
    schedule(s, s->now_us + rng_range(&s->rng, PHASE_MIN_US, PHASE_MAX_US), EV_HEAL, 0, s->heal_no,
             NULL);
}

static void heal(struct sim *s)
{
    s->phase = PHASE_HEALED;
    s->heal_no++;
    s->heal_start_us = s->now_us;
    memset(s->blocked, 0, sizeof(s->blocked));
    s->loss_ppm = 0;
    s->dup_ppm = 0;
    s->reorder = false;
    s->marker_pending = false;
    sim_trace(s, TR_HEAL, NULL)->a = s->heal_no;
    for (uint32_t i = 0; i < s->nslots && !s->stop; i++) {
        struct sim_node *n = &s->nodes[i];
        n->slow_disk = false;
        if (!n->up)
            boot(s, n);
    }
    schedule(s, s->now_us + s->liveness_bound_us, EV_DEADLINE, 0, s->heal_no, NULL);
}

/* In a healed phase, after every event: propose a marker on the leader and
 * wait until it is committed. */
static void liveness_step(struct sim *s)
{
    if (s->marker_pending && s->commit_max >= s->marker_index) {
        const struct sim_commit *c = &s->commits[s->marker_index];
        if (c->term == s->marker_term && c->hash == s->marker_hash) {
            struct sim_trace_rec *t = sim_trace(s, TR_LIVE, NULL);
            t->a = s->marker_index;
            t->b = s->now_us - s->heal_start_us;
            s->res->stats.heals++;
            s->marker_pending = false;
            s->phase = PHASE_CALM;
            if (s->finishing)
                s->stop = true;
            else
                schedule(s, s->now_us + rng_range(&s->rng, 0, 300000), EV_FAULT_PHASE, 0,
                         s->heal_no, NULL);
            return;
        }
        s->marker_pending = false; /* another entry was committed there: propose again */
    }
    if (s->marker_pending) {
        const struct sim_node *m = &s->nodes[s->marker_node];
        if (m->up && m->inc == s->marker_inc && raft_is_leader(m->r) &&
            raft_term(m->r) == s->marker_term)
            return;
    }
    struct sim_node *l = find_leader(s);
    if (l && !(s->marker_pending && (uint32_t)(l->id - 1) == s->marker_node &&
               raft_term(l->r) == s->marker_term))
        propose(s, l, true);
}

static void begin_finish(struct sim *s)
{
    s->finishing = true;
    if (s->phase == PHASE_FAULTS)
        heal(s);
    else if (s->phase == PHASE_CALM)
        s->stop = true;
}

/* ---- the loop ---- */

static void dispatch(struct sim *s, const struct sim_event *ev)
{
    struct sim_node *n = ev->node < s->nslots ? &s->nodes[ev->node] : NULL;
    bool live = n && n->up && ev->inc == n->inc;
    switch (ev->kind) {
    case EV_TICK:
        if (live)
            on_tick(s, n);
        break;
    case EV_DELIVER:
        on_deliver(s, n, ev->ptr);
        break;
    case EV_DISK:
        if (live)
            on_disk(s, n, ev->arg);
        break;
    case EV_FETCH:
        if (live)
            on_fetch(s, n, ev->arg, ev->ptr);
        break;
    case EV_CLIENT:
        on_client(s);
        break;
    case EV_FAULT:
        if (s->phase == PHASE_FAULTS && ev->arg == s->heal_no)
            on_fault(s);
        break;
    case EV_RESTART:
        if (n && !n->up && ev->inc == n->inc)
            boot(s, n);
        break;
    case EV_PARTITION_END:
        if (ev->arg == s->partition_gen && s->phase == PHASE_FAULTS)
            unpartition(s);
        break;
    case EV_SLOWDISK_END:
        if (live && ev->arg == n->slow_gen) {
            n->slow_disk = false;
            sim_trace(s, TR_SLOWDISK, n)->a = 0;
        }
        break;
    case EV_HEAL:
        if (s->phase == PHASE_FAULTS && ev->arg == s->heal_no)
            heal(s);
        break;
    case EV_DEADLINE:
        if (s->phase == PHASE_HEALED && ev->arg == s->heal_no)
            sim_violation(s, "liveness",
                          "no leader committed a new proposal within %" PRIu64
                          " ms of virtual time after the faults healed",
                          s->liveness_bound_us / 1000);
        break;
    case EV_FAULT_PHASE:
        if (s->phase == PHASE_CALM && ev->arg == s->heal_no)
            start_fault_phase(s);
        break;
    default:
        break;
    }
}

static void after_event(struct sim *s)
{
    for (uint32_t i = 0; i < s->nslots && !s->stop; i++)
        if (s->nodes[i].up)
            sim_check_node(s, &s->nodes[i]);
    if (!s->stop && s->phase == PHASE_HEALED)
        liveness_step(s);
}

static void run_loop(struct sim *s, FILE *out)
{
    struct sim_event ev;
    while (!s->stop && sim_queue_pop(&s->q, &ev)) {
        s->now_us = ev.time_us;
        s->events++;
        uint64_t mark = s->trace_len;
        dispatch(s, &ev);
        free(ev.ptr);
        if (!s->stop)
            after_event(s);
        if (s->opt.trace_all && out) {
            uint64_t from =
                s->trace_len - mark > SIM_TRACE_RING ? s->trace_len - SIM_TRACE_RING : mark;
            for (uint64_t i = from; i < s->trace_len; i++)
                sim_print_rec(out, &s->trace[i % SIM_TRACE_RING]);
        }
        if (!s->finishing && !s->stop && s->events >= s->opt.events)
            begin_finish(s);
    }
}

/* Seeded choices of the core's configuration, so that flow control (tiny
 * messages and windows) and timing vary between seeds. */
static void choose_config(struct sim *s)
{
    static const uint32_t msg_entries[] = { 1, 1, 2, 3, 8, 64, 0 };
    static const uint64_t msg_bytes[] = { 64, 512, 4096, 0 };
    static const uint32_t inflight_entries[] = { 1, 2, 4, 16, 0 };
    static const uint64_t inflight_bytes[] = { 256, 2048, 0 };
    struct raft_config *c = &s->base_cfg;
    memset(c, 0, sizeof(*c));
    c->election_ticks = (uint32_t)rng_range(&s->rng, 6, 14);
    c->heartbeat_ticks = (uint32_t)rng_range(&s->rng, 1, 3);
    c->max_msg_entries = msg_entries[rng_below(&s->rng, 7)];
    c->max_msg_bytes = msg_bytes[rng_below(&s->rng, 4)];
    c->max_inflight_entries = inflight_entries[rng_below(&s->rng, 5)];
    c->max_inflight_bytes = inflight_bytes[rng_below(&s->rng, 3)];
    if (s->opt.max_msg_entries)
        c->max_msg_entries = s->opt.max_msg_entries;
    c->test_bugs = s->opt.test_bugs;
    s->tick_us = TICK_US;
    /* Ticks run up to 10% slow, and a timeout is at most 2 * election_ticks. */
    s->liveness_bound_us =
        (uint64_t)LIVENESS_TIMEOUTS * 2u * c->election_ticks * (TICK_US + TICK_US / 10);
}

static void sim_free(struct sim *s)
{
    for (uint32_t i = 0; i < s->nslots; i++) {
        struct sim_node *n = &s->nodes[i];
        raft_destroy(n->r);
        for (size_t k = 0; k < n->nwrites; k++)
            write_free(&n->writes[k]);
        free(n->writes);
        disk_free(&n->disk);
        ledger_free(&n->ledger);
    }
    sim_queue_free(&s->q);
    sim_check_free(s);
    free(s);
}

int sim_run(const struct sim_options *o, struct sim_result *res, FILE *out)
{
    if (o->nodes < 1 || o->nodes > SIM_MAX_VOTERS || (o->faults & ~SIM_FAULT_ALL) ||
        o->max_msg_entries > RAFT_MSG_MAX_ENTRIES ||
        (o->test_bugs & ~(uint32_t)(RAFT_BUG_LEADER_COUNTS_SELF_BEFORE_PERSIST |
                                    RAFT_BUG_COMMIT_PREV_TERM_BY_COUNT)))
        return TC_EINVAL;
    memset(res, 0, sizeof(*res));
    struct sim *s = xcalloc(1, sizeof(*s));
    s->opt = *o;
    s->res = res;
    rng_seed(&s->rng, o->seed);
    sim_queue_init(&s->q, QUEUE_MAX);
    choose_config(s);
    s->genesis.count = o->nodes;
    for (uint32_t i = 0; i < o->nodes; i++) {
        s->genesis.members[i].id = i + 1;
        s->genesis.members[i].role = RAFT_VOTER;
    }
    uint32_t spares = (o->faults & SIM_FAULT_MEMBERSHIP) ? 2 : 0;
    s->nslots = o->nodes + spares > SIM_MAX_SLOTS ? SIM_MAX_SLOTS : o->nodes + spares;
    for (uint32_t i = 0; i < s->nslots; i++) {
        struct sim_node *n = &s->nodes[i];
        n->id = i + 1;
        n->disk.snap.membership = s->genesis;
        ledger_init(&n->ledger, &s->genesis);
    }
    for (uint32_t i = 0; i < s->nslots && !s->stop; i++)
        boot(s, &s->nodes[i]);
    schedule(s, rng_range(&s->rng, 1000, 10000), EV_CLIENT, 0, 0, NULL);
    start_fault_phase(s);
    run_loop(s, out);
    res->stats.events = s->events;
    res->stats.virtual_us = s->now_us;
    res->stats.committed = s->commit_max;
    if (res->violated && out)
        sim_print_report(s, out);
    sim_free(s);
    return TC_OK;
}
