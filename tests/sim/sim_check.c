/*
 * sim_check.c - the simulator's invariants, checked incrementally after
 * every event so that a long run stays cheap:
 *
 *   election-safety       at most one leader per term, ever (a table by term)
 *   leader-append-only    a leader never truncates or rewrites its log
 *   log-matching          every (index, term) ever written to any log has one
 *                         content and one predecessor term (a hash table); by
 *                         induction two logs with an equal (index, term) are
 *                         equal up to there
 *   leader-completeness   a new leader of term T holds every entry committed
 *                         in a term below T
 *   state-machine-safety  one committed entry per index (the global table of
 *                         commits), and every node applies exactly that entry,
 *                         in order, across crashes and snapshots
 *   commit-monotonic      a core's commit index never decreases
 *   commit-current-term   a leader moves its commit index only to an entry of
 *                         its own term (Raft §5.4.2; earlier entries commit
 *                         with it): the rule that prevents Figure 8
 *   majority-durable      when an index first commits, a majority of the
 *                         committing node's voters holds it on disk
 *   apply-not-durable     a node applies only entries on its own disk
 * (read-index, persist-before-send, persistence-order, snapshot and liveness
 * checks are in sim.c, where those events happen).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "sim_internal.h"

#define TERM_BOUND   (1u << 24) /* beyond this a run is a term explosion */
#define PREV_UNKNOWN UINT64_MAX

/* ---- hashing ---- */

uint64_t sim_hash_entry(uint8_t type, const uint8_t *data, uint32_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    uint8_t head[5] = { type, (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
                        (uint8_t)(len >> 24) };
    for (size_t i = 0; i < sizeof(head); i++)
        h = (h ^ head[i]) * 0x100000001b3ULL;
    for (uint32_t i = 0; i < len; i++)
        h = (h ^ data[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t sim_chain(uint64_t prev_chain, uint64_t term, uint64_t hash)
{
    return mix64(prev_chain ^ mix64(term + 0x9e3779b97f4a7c15ULL) ^ mix64(hash));
}

/* ---- the (index, term) registry for log matching ---- */

static size_t key_slot(uint64_t index, uint64_t term, size_t cap)
{
    uint64_t x = index * 0x9e3779b97f4a7c15ULL ^ term * 0xc2b2ae3d27d4eb4fULL;
    x ^= x >> 29;
    return (size_t)(x & (cap - 1));
}

static struct sim_logkey *key_find(struct sim *s, uint64_t index, uint64_t term)
{
    if (s->keys_cap == 0)
        return NULL;
    size_t i = key_slot(index, term, s->keys_cap);
    while (s->keys[i].term != 0) {
        if (s->keys[i].index == index && s->keys[i].term == term)
            return &s->keys[i];
        i = (i + 1) & (s->keys_cap - 1);
    }
    return NULL;
}

static void key_grow(struct sim *s)
{
    size_t old_cap = s->keys_cap;
    struct sim_logkey *old = s->keys;
    s->keys_cap = old_cap ? old_cap * 2 : 1024;
    s->keys = xcalloc(s->keys_cap, sizeof(*s->keys));
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].term == 0)
            continue;
        size_t j = key_slot(old[i].index, old[i].term, s->keys_cap);
        while (s->keys[j].term != 0)
            j = (j + 1) & (s->keys_cap - 1);
        s->keys[j] = old[i];
    }
    free(old);
}

static void key_insert(struct sim *s, const struct sim_logkey *k)
{
    if ((s->keys_len + 1) * 2 > s->keys_cap)
        key_grow(s);
    size_t i = key_slot(k->index, k->term, s->keys_cap);
    while (s->keys[i].term != 0)
        i = (i + 1) & (s->keys_cap - 1);
    s->keys[i] = *k;
    s->keys_len++;
}

void sim_check_persist(struct sim *s, struct sim_node *n, const struct raft_update *u)
{
    if (u->entry_count == 0)
        return;
    uint64_t first = u->entries[0].index;
    bool was_leader = n->role == RAFT_LEADER && n->term == raft_term(n->r);
    if (was_leader && raft_is_leader(n->r) && first <= n->leader_last) {
        sim_violation(s, "leader-append-only",
                      "leader n%" PRIu64 " of term %" PRIu64 " rewrites its log from %" PRIu64
                      " (its log reached %" PRIu64 ")",
                      n->id, n->term, first, n->leader_last);
        return;
    }
    for (size_t k = 0; k < u->entry_count; k++) {
        const struct raft_entry *e = &u->entries[k];
        if (e->index != first + k || e->term == 0) {
            sim_violation(s, "persist-numbering",
                          "n%" PRIu64 " persists entry #%zu as (%" PRIu64 ", t%" PRIu64
                          ") after first index %" PRIu64,
                          n->id, k, e->index, e->term, first);
            return;
        }
        uint64_t prev;
        if (k > 0)
            prev = u->entries[k - 1].term;
        else if (e->index == 1)
            prev = 0;
        else
            prev =
                raft_term_at(n->r, e->index - 1) ? raft_term_at(n->r, e->index - 1) : PREV_UNKNOWN;
        if (prev != PREV_UNKNOWN && prev > e->term) {
            sim_violation(s, "log-matching",
                          "n%" PRIu64 " holds term %" PRIu64 " at %" PRIu64 " after term %" PRIu64
                          ": terms decrease",
                          n->id, e->term, e->index, prev);
            return;
        }
        uint64_t h = sim_hash_entry(e->type, e->data, e->len);
        struct sim_logkey *key = key_find(s, e->index, e->term);
        if (!key) {
            struct sim_logkey nk = { e->index, e->term, h, prev };
            key_insert(s, &nk);
            continue;
        }
        if (key->hash != h) {
            sim_violation(s, "log-matching",
                          "n%" PRIu64 " writes (%" PRIu64 ", t%" PRIu64
                          ") with content other than another log's",
                          n->id, e->index, e->term);
            return;
        }
        if (prev != PREV_UNKNOWN && key->prev_term != PREV_UNKNOWN && prev != key->prev_term) {
            sim_violation(s, "log-matching",
                          "n%" PRIu64 " writes (%" PRIu64 ", t%" PRIu64 ") after term %" PRIu64
                          ", another log has it after term %" PRIu64,
                          n->id, e->index, e->term, prev, key->prev_term);
            return;
        }
        if (key->prev_term == PREV_UNKNOWN)
            key->prev_term = prev;
    }
}

/* ---- commits ---- */

static void check_majority_durable(struct sim *s, struct sim_node *n, uint64_t index, uint64_t term)
{
    const struct raft_membership *m = raft_membership(n->r);
    uint32_t voters = 0, durable = 0;
    for (uint32_t i = 0; i < m->count; i++) {
        if (m->members[i].role != RAFT_VOTER)
            continue;
        voters++;
        uint64_t id = m->members[i].id;
        if (id == RAFT_NONE || id > s->nslots)
            continue;
        const struct sim_disk *d = &s->nodes[id - 1].disk;
        const struct sim_entry *e = sim_disk_entry(d, index);
        if (index <= d->snap.index || (e && e->term == term))
            durable++;
    }
    if (durable < voters / 2 + 1)
        sim_violation(s, "majority-durable",
                      "n%" PRIu64 " commits index %" PRIu64 " (term %" PRIu64
                      ") while only %" PRIu32 " of its %" PRIu32 " voters hold it on disk",
                      n->id, index, term, durable, voters);
}

static void register_commit(struct sim *s, struct sim_node *n, const struct raft_entry *e)
{
    uint64_t i = e->index;
    if (i >= s->commits_cap) {
        size_t cap = s->commits_cap ? s->commits_cap * 2 : 1024;
        while (cap <= i)
            cap *= 2;
        s->commits = xrealloc(s->commits, cap * sizeof(*s->commits));
        s->commits_cap = cap;
    }
    struct sim_commit *c = &s->commits[i];
    c->term = e->term;
    c->type = e->type;
    c->hash = sim_hash_entry(e->type, e->data, e->len);
    c->chain = sim_chain(i > 1 ? s->commits[i - 1].chain : 0, c->term, c->hash);
    c->in_term = raft_term(n->r);
    s->commit_max = i;
    s->res->stats.committed = i;
    check_majority_durable(s, n, i, e->term);
}

void sim_check_commits(struct sim *s, struct sim_node *n)
{
    uint64_t commit = raft_commit_index(n->r);
    if (commit < n->commit) {
        sim_violation(s, "commit-monotonic",
                      "n%" PRIu64 " commit index went back from %" PRIu64 " to %" PRIu64, n->id,
                      n->commit, commit);
        return;
    }
    if (commit > n->commit && raft_role(n->r) == RAFT_LEADER && !s->opt.skip_commit_rule &&
        raft_term_at(n->r, commit) != raft_term(n->r)) {
        sim_violation(s, "commit-current-term",
                      "leader n%" PRIu64 " of term %" PRIu64 " moves its commit index to %" PRIu64
                      ", an entry of term %" PRIu64 " (Raft commits only entries of the leader's "
                      "term by counting replicas)",
                      n->id, raft_term(n->r), commit, raft_term_at(n->r, commit));
        return;
    }
    n->commit = commit;
    for (uint64_t i = n->checked_commit + 1; i <= commit && !s->stop; i++) {
        const struct raft_entry *e = raft_entry_at(n->r, i);
        uint64_t term = e ? e->term : raft_term_at(n->r, i);
        if (i <= s->commit_max) {
            const struct sim_commit *c = &s->commits[i];
            if (term == 0)
                continue; /* compacted away: this node applied it, checked then */
            if (term != c->term || (e && sim_hash_entry(e->type, e->data, e->len) != c->hash)) {
                sim_violation(s, "state-machine-safety",
                              "n%" PRIu64 " holds index %" PRIu64 " (term %" PRIu64
                              ") as committed, but (term %" PRIu64 ") was committed there",
                              n->id, i, term, c->term);
                return;
            }
        } else if (!e) {
            sim_violation(s, "commit-unknown",
                          "n%" PRIu64 " commits index %" PRIu64 " that it does not hold", n->id, i);
            return;
        } else {
            register_commit(s, n, e);
        }
    }
    if (commit > n->checked_commit)
        n->checked_commit = commit;
}

void sim_check_apply(struct sim *s, struct sim_node *n, const struct raft_entry *e)
{
    if (e->index == 0 || e->index > s->commit_max) {
        sim_violation(s, "state-machine-safety",
                      "n%" PRIu64 " applies index %" PRIu64 " beyond anything committed (%" PRIu64
                      ")",
                      n->id, e->index, s->commit_max);
        return;
    }
    const struct sim_commit *c = &s->commits[e->index];
    uint64_t h = sim_hash_entry(e->type, e->data, e->len);
    if (c->term != e->term || c->hash != h || c->type != e->type) {
        sim_violation(s, "state-machine-safety",
                      "n%" PRIu64 " applies (%" PRIu64 ", t%" PRIu64 ") but (%" PRIu64 ", t%" PRIu64
                      ") was committed",
                      n->id, e->index, e->term, e->index, c->term);
        return;
    }
    const struct sim_entry *d = sim_disk_entry(&n->disk, e->index);
    if (e->index > n->disk.snap.index && (!d || d->term != e->term)) {
        sim_violation(s, "apply-not-durable",
                      "n%" PRIu64 " applies index %" PRIu64 " which is not on its disk", n->id,
                      e->index);
        return;
    }
    const struct sim_ledger *l = &n->ledger;
    if (e->index <= l->applied &&
        (l->recs[e->index].term != e->term || l->recs[e->index].hash != h))
        sim_violation(s, "state-machine-safety",
                      "n%" PRIu64 " applies index %" PRIu64 " differently from its ledger", n->id,
                      e->index);
}

/* ---- leaders ---- */

void sim_check_new_leader(struct sim *s, struct sim_node *n)
{
    uint64_t term = raft_term(n->r);
    uint64_t first = raft_first_index(n->r);
    uint64_t from = first > 1 ? first - 1 : 1;
    for (uint64_t i = from; i <= s->commit_max; i++) {
        const struct sim_commit *c = &s->commits[i];
        if (c->in_term >= term)
            continue;
        uint64_t have = raft_term_at(n->r, i);
        if (have != c->term) {
            sim_violation(s, "leader-completeness",
                          "n%" PRIu64 " leads term %" PRIu64 " without entry %" PRIu64
                          " (term %" PRIu64 ", committed in term %" PRIu64 "); it has term %" PRIu64
                          " there",
                          n->id, term, i, c->term, c->in_term, have);
            return;
        }
    }
}

static bool note_leader(struct sim *s, uint64_t term, uint64_t id)
{
    if (term >= TERM_BOUND) {
        sim_violation(s, "term-bound", "term %" PRIu64 " reached", term);
        return false;
    }
    if (term >= s->terms_cap) {
        size_t cap = s->terms_cap ? s->terms_cap : 64;
        while (cap <= term)
            cap *= 2;
        s->leader_of_term = xrealloc(s->leader_of_term, cap * sizeof(*s->leader_of_term));
        memset(s->leader_of_term + s->terms_cap, 0, (cap - s->terms_cap) * sizeof(uint64_t));
        s->terms_cap = cap;
    }
    uint64_t *slot = &s->leader_of_term[term];
    if (*slot == RAFT_NONE) {
        *slot = id;
        s->res->stats.leaders++;
        return true;
    }
    if (*slot != id) {
        sim_violation(s, "election-safety",
                      "n%" PRIu64 " and n%" PRIu64 " are both leaders of term %" PRIu64, *slot, id,
                      term);
        return false;
    }
    return true;
}

void sim_check_node(struct sim *s, struct sim_node *n)
{
    struct raft *r = n->r;
    enum raft_role role = raft_role(r);
    uint64_t term = raft_term(r);
    if (term < n->term) {
        sim_violation(s, "term-monotonic",
                      "n%" PRIu64 " term went back from %" PRIu64 " to %" PRIu64, n->id, n->term,
                      term);
        return;
    }
    sim_check_commits(s, n);
    if (s->stop)
        return;
    uint64_t known = raft_leader(r);
    if (known != RAFT_NONE && term < s->terms_cap && s->leader_of_term[term] != RAFT_NONE &&
        s->leader_of_term[term] != known) {
        sim_violation(s, "election-safety",
                      "n%" PRIu64 " follows n%" PRIu64 " in term %" PRIu64
                      " whose leader is n%" PRIu64,
                      n->id, known, term, s->leader_of_term[term]);
        return;
    }
    if (role == RAFT_LEADER) {
        if (!note_leader(s, term, n->id))
            return;
        bool was_leader = n->role == RAFT_LEADER && n->term == term;
        uint64_t last = raft_last_index(r);
        if (!was_leader) {
            sim_check_new_leader(s, n);
        } else if (last < n->leader_last ||
                   (n->leader_last + 1 >= raft_first_index(r) &&
                    raft_term_at(r, n->leader_last) != n->leader_last_term)) {
            sim_violation(s, "leader-append-only",
                          "leader n%" PRIu64 " of term %" PRIu64 " had (%" PRIu64 ", t%" PRIu64
                          "), now its log ends at %" PRIu64 " with term %" PRIu64 " there",
                          n->id, term, n->leader_last, n->leader_last_term, last,
                          raft_term_at(r, n->leader_last));
            return;
        }
        n->leader_last = last;
        n->leader_last_term = raft_last_term(r);
    }
    n->role = role;
    n->term = term;
}

void sim_check_free(struct sim *s)
{
    free(s->commits);
    free(s->leader_of_term);
    free(s->keys);
    s->commits = NULL;
    s->leader_of_term = NULL;
    s->keys = NULL;
}
