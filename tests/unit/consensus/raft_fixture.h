/*
 * raft_fixture.h - a small deterministic in-memory Raft cluster for scenario tests.
 *
 * N cores (ids 1..N), a FIFO network queue of encoded messages (the codec is
 * exercised on every hop) that a test delivers by hand or drains, and one
 * "disk" per node: persisted hard state, snapshot metadata and log survive
 * fx_crash; updates not yet persisted do not. By default every update is
 * persisted at once (auto_persist); a test that studies the persistence gate
 * turns it off for a node and calls fx_persist itself.
 *
 * Every committed entry a node applies is checked against what any node
 * applied at the same index before (state-machine safety), so every scenario
 * also checks safety.
 */
#ifndef TC_TESTS_RAFT_FIXTURE_H
#define TC_TESTS_RAFT_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "base/error.h"
#include "consensus/raft/raft.h"
#include "consensus/raft/raft_codec.h"

#define FX_MAX_NODES   8
#define FX_MAX_LOG     4096
#define FX_MAX_QUEUE   8192
#define FX_MAX_PENDING 256
#define FX_MAX_READS   64

struct fx_entry {
    uint64_t term;
    uint8_t type;
    uint32_t len;
    uint8_t *data;
};

struct fx_disk {
    struct raft_hard_state hs;
    struct raft_snapshot_meta snap;
    struct fx_entry log[FX_MAX_LOG]; /* log[i] has index snap.index + 1 + i */
    size_t count;
};

/* One update's persist work, copied, waiting for fx_persist. */
struct fx_write {
    uint64_t seq;
    bool hs_changed;
    struct raft_hard_state hs;
    bool reset;
    struct raft_snapshot_meta reset_meta;
    uint64_t first_index;
    size_t count;
    struct fx_entry *entries;
};

struct fx_node {
    struct raft *r;
    bool up;
    bool auto_persist;
    bool auto_install; /* install wanted snapshots at once */
    struct fx_disk disk;
    struct fx_write pending[FX_MAX_PENDING];
    size_t npending;
    uint64_t applied;       /* last index applied by this node */
    uint64_t persist_calls; /* updates that carried persist work */
    uint64_t boots;         /* times the core was created */
    struct raft_read reads[FX_MAX_READS];
    size_t nreads;
    bool snapshot_wanted;
    struct raft_snapshot_meta snapshot;
};

struct fx_msg {
    uint64_t from;
    uint64_t to;
    uint8_t type;
    uint8_t *buf;
    size_t len;
};

struct fx {
    size_t n;
    struct raft_config cfg;
    struct fx_node nodes[FX_MAX_NODES + 1]; /* index = id */
    struct fx_msg queue[FX_MAX_QUEUE];
    size_t qhead, qlen;
    bool cut[FX_MAX_NODES + 1][FX_MAX_NODES + 1]; /* drop messages from -> to */
    uint64_t applied_term[FX_MAX_LOG * 4];        /* cluster-wide: term applied at index */
    uint64_t max_applied;
    size_t sent_count[RAFT_MSG_TYPE_MAX + 1];
    size_t prevotes_from[FX_MAX_NODES + 1];
    size_t append_rejects;
    /* When set, a different term applied at an index is counted here instead
     * of failing the test (for the bug-switch scenarios). */
    bool allow_unsafe;
    size_t safety_violations;
};

static inline void fx_free_entry(struct fx_entry *e)
{
    free(e->data);
    memset(e, 0, sizeof(*e));
}

static inline void fx_copy_entry(struct fx_entry *dst, const struct raft_entry *src)
{
    dst->term = src->term;
    dst->type = src->type;
    dst->len = src->len;
    dst->data = NULL;
    if (src->len) {
        dst->data = malloc(src->len);
        assert_non_null(dst->data);
        memcpy(dst->data, src->data, src->len);
    }
}

static inline struct raft_membership fx_voters(size_t n)
{
    struct raft_membership m;
    memset(&m, 0, sizeof(m));
    for (size_t i = 0; i < n; i++) {
        m.members[i].id = i + 1;
        m.members[i].role = RAFT_VOTER;
    }
    m.count = (uint32_t)n;
    return m;
}

static inline struct raft_config fx_default_config(void)
{
    struct raft_config c;
    memset(&c, 0, sizeof(c));
    c.election_ticks = 10;
    c.heartbeat_ticks = 1;
    c.seed = 42;
    return c;
}

static inline void fx_handle(struct fx *f, uint64_t id, const struct raft_update *u);

/* Creates node id's core from its disk. */
static inline void fx_boot(struct fx *f, uint64_t id)
{
    struct fx_node *nd = &f->nodes[id];
    struct raft_entry *ents = calloc(nd->disk.count + 1, sizeof(*ents));
    assert_non_null(ents);
    for (size_t i = 0; i < nd->disk.count; i++) {
        ents[i].term = nd->disk.log[i].term;
        ents[i].index = nd->disk.snap.index + 1 + i;
        ents[i].type = nd->disk.log[i].type;
        ents[i].data = nd->disk.log[i].data;
        ents[i].len = nd->disk.log[i].len;
    }
    struct raft_boot b;
    memset(&b, 0, sizeof(b));
    b.hard_state = nd->disk.hs;
    b.snapshot = nd->disk.snap;
    b.entries = ents;
    b.entry_count = nd->disk.count;
    b.applied_index = nd->disk.snap.index;
    struct raft_config c = f->cfg;
    c.id = id;
    assert_int_equal(raft_create(&c, &b, &nd->r), TC_OK);
    free(ents);
    nd->up = true;
    nd->boots++;
    nd->applied = nd->disk.snap.index;
    nd->npending = 0;
}

/* A cluster of `voters` voters plus `others` nodes that start with the same
 * membership but are not in it (to be added later). */
static inline void fx_init_with(struct fx *f, size_t voters, size_t others, struct raft_config cfg)
{
    memset(f, 0, sizeof(*f));
    f->n = voters + others;
    assert_true(f->n <= FX_MAX_NODES);
    f->cfg = cfg;
    for (uint64_t id = 1; id <= f->n; id++) {
        struct fx_node *nd = &f->nodes[id];
        nd->auto_persist = true;
        nd->auto_install = true;
        if (id <= voters)
            nd->disk.snap.membership = fx_voters(voters);
        fx_boot(f, id);
    }
}

static inline void fx_init(struct fx *f, size_t voters)
{
    fx_init_with(f, voters, 0, fx_default_config());
}

static inline void fx_free(struct fx *f)
{
    for (uint64_t id = 1; id <= f->n; id++) {
        struct fx_node *nd = &f->nodes[id];
        raft_destroy(nd->r);
        nd->r = NULL;
        for (size_t i = 0; i < nd->disk.count; i++)
            fx_free_entry(&nd->disk.log[i]);
        for (size_t i = 0; i < nd->npending; i++) {
            for (size_t j = 0; j < nd->pending[i].count; j++)
                fx_free_entry(&nd->pending[i].entries[j]);
            free(nd->pending[i].entries);
        }
    }
    for (size_t i = 0; i < f->qlen; i++)
        free(f->queue[(f->qhead + i) % FX_MAX_QUEUE].buf);
}

static inline struct raft *fx_raft(struct fx *f, uint64_t id)
{
    return f->nodes[id].r;
}

static inline void fx_write_to_disk(struct fx_node *nd, struct fx_write *w)
{
    struct fx_disk *d = &nd->disk;
    if (w->hs_changed)
        d->hs = w->hs;
    if (w->reset) {
        for (size_t i = 0; i < d->count; i++)
            fx_free_entry(&d->log[i]);
        d->count = 0;
        d->snap = w->reset_meta;
    }
    if (w->count) {
        assert_true(w->first_index > d->snap.index);
        size_t keep = (size_t)(w->first_index - d->snap.index - 1);
        assert_true(keep <= d->count);
        for (size_t i = keep; i < d->count; i++)
            fx_free_entry(&d->log[i]);
        d->count = keep;
        for (size_t i = 0; i < w->count; i++) {
            assert_true(d->count < FX_MAX_LOG);
            d->log[d->count++] = w->entries[i];
        }
    }
    free(w->entries);
    w->entries = NULL;
}

/* Makes the pending writes of node id durable and tells the core (once: writes
 * that this produces stay pending unless auto_persist). */
static inline void fx_persist(struct fx *f, uint64_t id)
{
    struct fx_node *nd = &f->nodes[id];
    if (!nd->npending)
        return;
    uint64_t seq = 0;
    for (size_t i = 0; i < nd->npending; i++) {
        fx_write_to_disk(nd, &nd->pending[i]);
        seq = nd->pending[i].seq;
    }
    nd->npending = 0;
    struct raft_update u;
    assert_int_equal(raft_persisted(nd->r, seq, &u), TC_OK);
    fx_handle(f, id, &u);
}

static inline void fx_apply(struct fx *f, uint64_t id, const struct raft_entry *e, size_t n)
{
    struct fx_node *nd = &f->nodes[id];
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(e[i].index, nd->applied + 1);
        assert_true(e[i].index < FX_MAX_LOG * 4);
        uint64_t *t = &f->applied_term[e[i].index];
        if (*t == 0)
            *t = e[i].term;
        else if (*t != e[i].term && f->allow_unsafe)
            f->safety_violations++;
        else
            assert_int_equal(*t, e[i].term); /* state-machine safety */
        if (e[i].index > f->max_applied)
            f->max_applied = e[i].index;
        nd->applied = e[i].index;
    }
}

static inline void fx_enqueue(struct fx *f, const struct raft_message *m)
{
    struct bytes b;
    bytes_init(&b);
    assert_int_equal(raft_msg_encode(m, &b), TC_OK);
    assert_true(f->qlen < FX_MAX_QUEUE);
    struct fx_msg *q = &f->queue[(f->qhead + f->qlen) % FX_MAX_QUEUE];
    q->from = m->from;
    q->to = m->to;
    q->type = m->type;
    q->buf = b.ptr;
    q->len = b.len;
    f->qlen++;
    f->sent_count[m->type]++;
    if (m->type == RAFT_MSG_PREVOTE)
        f->prevotes_from[m->from]++;
    if (m->type == RAFT_MSG_APPEND_RESP && m->reject)
        f->append_rejects++;
}

static inline void fx_install(struct fx *f, uint64_t id);

static inline void fx_handle(struct fx *f, uint64_t id, const struct raft_update *u)
{
    struct fx_node *nd = &f->nodes[id];
    if (u->persist_seq) {
        assert_true(nd->npending < FX_MAX_PENDING);
        struct fx_write *w = &nd->pending[nd->npending++];
        memset(w, 0, sizeof(*w));
        w->seq = u->persist_seq;
        w->hs_changed = u->hard_state_changed;
        w->hs = u->hard_state;
        w->reset = u->log_reset;
        w->reset_meta = u->reset;
        w->count = u->entry_count;
        if (u->entry_count) {
            w->first_index = u->entries[0].index;
            w->entries = calloc(u->entry_count, sizeof(*w->entries));
            assert_non_null(w->entries);
            for (size_t i = 0; i < u->entry_count; i++)
                fx_copy_entry(&w->entries[i], &u->entries[i]);
        }
        nd->persist_calls++;
    }
    for (size_t i = 0; i < u->message_count; i++)
        fx_enqueue(f, &u->messages[i]);
    fx_apply(f, id, u->committed, u->committed_count);
    for (size_t i = 0; i < u->read_count && nd->nreads < FX_MAX_READS; i++)
        nd->reads[nd->nreads++] = u->reads[i];
    if (u->snapshot_wanted) {
        nd->snapshot_wanted = true;
        nd->snapshot = u->snapshot;
    }
    if (nd->auto_persist)
        fx_persist(f, id);
    if (nd->auto_install && nd->snapshot_wanted)
        fx_install(f, id);
}

/* Installs the snapshot node id asked for (its content is the committed
 * prefix, which the fixture tracks cluster-wide). */
static inline void fx_install(struct fx *f, uint64_t id)
{
    struct fx_node *nd = &f->nodes[id];
    if (!nd->snapshot_wanted)
        return;
    nd->snapshot_wanted = false;
    struct raft_update u;
    assert_int_equal(raft_snapshot_installed(nd->r, &nd->snapshot, &u), TC_OK);
    if (nd->snapshot.index > nd->applied)
        nd->applied = nd->snapshot.index;
    fx_handle(f, id, &u);
}

/* Delivers the k-th queued message (a copy of it if duplicate, leaving it
 * queued); false if there is none. Messages to crashed nodes or across a cut
 * are dropped. */
static inline bool fx_deliver_at(struct fx *f, size_t k, bool duplicate)
{
    if (k >= f->qlen)
        return false;
    struct fx_msg q = f->queue[(f->qhead + k) % FX_MAX_QUEUE];
    if (duplicate) {
        uint8_t *copy = malloc(q.len);
        assert_non_null(copy);
        memcpy(copy, q.buf, q.len);
        q.buf = copy;
    } else if (k == 0) {
        f->qhead = (f->qhead + 1) % FX_MAX_QUEUE;
        f->qlen--;
    } else {
        for (size_t i = k; i + 1 < f->qlen; i++)
            f->queue[(f->qhead + i) % FX_MAX_QUEUE] = f->queue[(f->qhead + i + 1) % FX_MAX_QUEUE];
        f->qlen--;
    }
    struct fx_node *nd = &f->nodes[q.to];
    if (q.to >= 1 && q.to <= f->n && nd->up && !f->cut[q.from][q.to]) {
        static struct raft_entry ents[RAFT_MSG_MAX_ENTRIES];
        struct raft_message m;
        assert_int_equal(raft_msg_decode(q.buf, q.len, &m, ents, RAFT_MSG_MAX_ENTRIES), TC_OK);
        struct raft_update u;
        assert_int_equal(raft_receive(nd->r, &m, &u), TC_OK);
        fx_handle(f, q.to, &u);
    }
    free(q.buf);
    return true;
}

static inline bool fx_deliver_one(struct fx *f)
{
    return fx_deliver_at(f, 0, false);
}

static inline void fx_deliver_all(struct fx *f)
{
    for (int guard = 0; guard < 1000000 && fx_deliver_one(f); guard++)
        ;
    assert_int_equal(f->qlen, 0);
}

/* Drops every queued message. */
static inline void fx_drop_all(struct fx *f)
{
    while (f->qlen) {
        free(f->queue[f->qhead].buf);
        f->qhead = (f->qhead + 1) % FX_MAX_QUEUE;
        f->qlen--;
    }
}

/* Count of queued messages of a type (0 = any) from `from` (0 = any) to `to` (0 = any). */
static inline size_t fx_queued(const struct fx *f, uint8_t type, uint64_t from, uint64_t to)
{
    size_t n = 0;
    for (size_t i = 0; i < f->qlen; i++) {
        const struct fx_msg *q = &f->queue[(f->qhead + i) % FX_MAX_QUEUE];
        if ((!type || q->type == type) && (!from || q->from == from) && (!to || q->to == to))
            n++;
    }
    return n;
}

/* Decodes the i-th queued message into m (entries into a static array). */
static inline void fx_peek(const struct fx *f, size_t i, struct raft_message *m)
{
    static struct raft_entry ents[RAFT_MSG_MAX_ENTRIES];
    const struct fx_msg *q = &f->queue[(f->qhead + i) % FX_MAX_QUEUE];
    assert_int_equal(raft_msg_decode(q->buf, q->len, m, ents, RAFT_MSG_MAX_ENTRIES), TC_OK);
}

static inline void fx_tick(struct fx *f, uint64_t id)
{
    struct fx_node *nd = &f->nodes[id];
    if (!nd->up)
        return;
    struct raft_update u;
    assert_int_equal(raft_tick(nd->r, &u), TC_OK);
    fx_handle(f, id, &u);
}

static inline void fx_tick_all(struct fx *f)
{
    for (uint64_t id = 1; id <= f->n; id++)
        fx_tick(f, id);
}

/* Ticks only node id until it starts a new (pre-)election; does not deliver. */
static inline void fx_start_campaign(struct fx *f, uint64_t id)
{
    size_t before = f->prevotes_from[id];
    for (int i = 0; i < 100; i++) {
        fx_tick(f, id);
        enum raft_role role = raft_role(fx_raft(f, id));
        if (f->prevotes_from[id] != before || role == RAFT_CANDIDATE || role == RAFT_LEADER)
            return;
    }
    fail_msg("node %llu did not campaign", (unsigned long long)id);
}

/* Ticks only node id until it campaigns, then drains the network. */
static inline void fx_campaign(struct fx *f, uint64_t id)
{
    fx_start_campaign(f, id);
    fx_deliver_all(f);
}

/* Elects node id (campaigning again if a first attempt only taught it a
 * higher term) and drains the network. */
static inline void fx_elect(struct fx *f, uint64_t id)
{
    for (int i = 0; i < 5 && !raft_is_leader(fx_raft(f, id)); i++)
        fx_campaign(f, id);
    assert_true(raft_is_leader(fx_raft(f, id)));
    fx_deliver_all(f);
}

/* Ticks every up node that is not a leader past its leader lease (so that it
 * listens to a candidate), then drops whatever that produced. */
static inline void fx_expire_leases(struct fx *f)
{
    for (uint64_t id = 1; id <= f->n; id++) {
        if (!f->nodes[id].up || raft_is_leader(f->nodes[id].r))
            continue;
        for (uint32_t t = 0; t < f->cfg.election_ticks; t++)
            fx_tick(f, id);
    }
    fx_drop_all(f);
}

/* Drops queued messages sent by id. */
static inline void fx_drop_from(struct fx *f, uint64_t id)
{
    size_t n = f->qlen, kept = 0;
    for (size_t i = 0; i < n; i++) {
        struct fx_msg q = f->queue[(f->qhead + i) % FX_MAX_QUEUE];
        if (q.from == id)
            free(q.buf);
        else
            f->queue[(f->qhead + kept++) % FX_MAX_QUEUE] = q;
    }
    f->qlen = kept;
}

/* Replaces node id's disk log by entries of the given terms (data empty) and
 * reboots it with hard-state term `term`. */
static inline void fx_set_log(struct fx *f, uint64_t id, const uint64_t *terms, size_t n,
                              uint64_t term)
{
    struct fx_node *nd = &f->nodes[id];
    raft_destroy(nd->r);
    for (size_t i = 0; i < nd->disk.count; i++)
        fx_free_entry(&nd->disk.log[i]);
    for (size_t i = 0; i < n; i++) {
        memset(&nd->disk.log[i], 0, sizeof(nd->disk.log[i]));
        nd->disk.log[i].term = terms[i];
        nd->disk.log[i].type = RAFT_ENTRY_BLOCK;
    }
    nd->disk.count = n;
    nd->disk.hs.term = term;
    nd->disk.hs.vote = RAFT_NONE;
    fx_boot(f, id);
}

static inline uint64_t fx_propose(struct fx *f, uint64_t id, const char *text)
{
    struct bytes_view v = bytes_view_of(text, strlen(text));
    uint64_t idx = 0;
    struct raft_update u;
    assert_int_equal(raft_propose(fx_raft(f, id), &v, 1, &idx, &u), TC_OK);
    fx_handle(f, id, &u);
    return idx;
}

/* Crash: the core and unpersisted writes are lost; the disk stays. */
static inline void fx_crash(struct fx *f, uint64_t id)
{
    struct fx_node *nd = &f->nodes[id];
    raft_destroy(nd->r);
    nd->r = NULL;
    nd->up = false;
    for (size_t i = 0; i < nd->npending; i++) {
        for (size_t j = 0; j < nd->pending[i].count; j++)
            fx_free_entry(&nd->pending[i].entries[j]);
        free(nd->pending[i].entries);
    }
    nd->npending = 0;
    nd->snapshot_wanted = false;
}

static inline void fx_restart(struct fx *f, uint64_t id)
{
    fx_boot(f, id);
}

/* Cuts (or heals) both directions between a and b. */
static inline void fx_cut(struct fx *f, uint64_t a, uint64_t b, bool cut)
{
    f->cut[a][b] = cut;
    f->cut[b][a] = cut;
}

/* Isolates id from every other node (or heals it). */
static inline void fx_isolate(struct fx *f, uint64_t id, bool cut)
{
    for (uint64_t o = 1; o <= f->n; o++)
        if (o != id)
            fx_cut(f, id, o, cut);
}

/* The id of the unique leader with the highest term, or 0. */
static inline uint64_t fx_leader(struct fx *f)
{
    uint64_t best = 0, term = 0;
    for (uint64_t id = 1; id <= f->n; id++) {
        struct raft *r = f->nodes[id].r;
        if (f->nodes[id].up && raft_is_leader(r) && raft_term(r) >= term) {
            best = id;
            term = raft_term(r);
        }
    }
    return best;
}

/* Ticks everyone and drains, `rounds` times. */
static inline void fx_run(struct fx *f, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        fx_tick_all(f);
        fx_deliver_all(f);
    }
}

#endif
