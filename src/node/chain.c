/*
 * chain.c - the node's chain thread: drives the Raft core (ticks, persistence
 * to the log store, committed entries), seals blocks when this node leads, and
 * applies every committed entry to the ledger in order. See node.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "chain/entry.h"
#include "chain/tx.h"
#include "crypto/ecdsa.h"
#include "consensus/raft/raft_codec.h"
#include "crypto/random.h"
#include "node/node_internal.h"
#include "node/sync.h"

#define MOD "chain"

/* How often the pool is swept for expired transactions. */
#define EXPIRE_PERIOD_MS 1000u

/* ---- the in-flight pipeline ----------------------------------------------- */

static struct node_inflight *inflight_at(struct node *n, size_t i)
{
    return &n->inflight[(n->inflight_head + i) % NODE_MAX_INFLIGHT_BLOCKS];
}

static struct node_inflight *inflight_tail(struct node *n)
{
    return n->inflight_count ? inflight_at(n, n->inflight_count - 1) : NULL;
}

static void inflight_release(struct node_inflight *f)
{
    state_free(f->state);
    bytes_free(&f->payload);
    free(f->tx_hashes);
    memset(f, 0, sizeof(*f));
}

/* Drops every speculative block (newest first: each reads through the one
 * below) and gives its transactions back to the pool. */
static void inflight_drop_all(struct node *n, const char *why)
{
    if (n->inflight_count == 0)
        return;
    LOG_W(MOD, "dropping %zu speculative block(s): %s", n->inflight_count, why);
    while (n->inflight_count > 0) {
        struct node_inflight *f = inflight_at(n, n->inflight_count - 1);
        txpool_return(n->pool, (const uint8_t(*)[32])f->tx_hashes, f->tx_count);
        inflight_release(f);
        n->inflight_count--;
    }
    n->inflight_head = 0;
}

/* The oldest in-flight block was applied: the block above it now reads the
 * ledger, which holds exactly that state. */
static void inflight_pop(struct node *n)
{
    struct node_inflight *f = inflight_at(n, 0);
    if (n->inflight_count > 1) {
        struct state_reader r = ledger_state_reader(n->ledger);
        state_rebase(inflight_at(n, 1)->state, &r);
    }
    inflight_release(f);
    n->inflight_head = (n->inflight_head + 1) % NODE_MAX_INFLIGHT_BLOCKS;
    n->inflight_count--;
}

/* BLOCKHASH over the blocks in flight, then the ledger. */
static bool chain_block_hash(void *ctx, uint64_t number, uint8_t hash[32])
{
    struct node *n = ctx;
    for (size_t i = 0; i < n->inflight_count; i++) {
        const struct node_inflight *f = inflight_at(n, i);
        if (f->number == number) {
            memcpy(hash, f->hash, 32);
            return true;
        }
    }
    return ledger_state_block_hash(n->ledger, number, hash);
}

static void members_derive(struct node *n);
static void members_refresh(struct node *n);

static bool same_conf(const struct raft_membership *a, const struct raft_membership *b)
{
    if (a->count != b->count)
        return false;
    for (uint32_t i = 0; i < a->count; i++)
        if (a->members[i].id != b->members[i].id || a->members[i].role != b->members[i].role)
            return false;
    return true;
}

/* ---- persistence and application ------------------------------------------ */

/*
 * The hard state's extra blob records the log's compaction point: its Raft
 * index and term and the configuration in force there, so that a restart can
 * boot from a compacted log. Layout: index u64 LE, term u64 LE, membership
 * (raft_codec.h).
 */
static void save_hard_state(struct node *n)
{
    int rc = logstore_save_hard_state(n->log, n->hs_term, n->hs_vote, n->hs_extra, n->hs_extra_len);
    if (rc != TC_OK)
        log_fatal(MOD, "cannot save the Raft hard state: %s", tc_strerror(rc));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Records (durably) the compaction point the log is about to move to. */
static void save_boundary(struct node *n, uint64_t index, uint64_t term,
                          const struct raft_membership *m)
{
    size_t len = 0;
    if (raft_membership_encode(m, n->hs_extra + 16, sizeof(n->hs_extra) - 16, &len) != TC_OK)
        log_fatal(MOD, "cannot encode the Raft configuration at entry %" PRIu64, index);
    put_le64(n->hs_extra, index);
    put_le64(n->hs_extra + 8, term);
    n->hs_extra_len = 16 + len;
    save_hard_state(n);
}

static int load_boundary(const struct node *n, uint64_t *index, uint64_t *term,
                         struct raft_membership *m)
{
    if (n->hs_extra_len < 16)
        return TC_ENOTFOUND;
    *index = get_le64(n->hs_extra);
    *term = get_le64(n->hs_extra + 8);
    return raft_membership_decode(n->hs_extra + 16, n->hs_extra_len - 16, m);
}

static void persist_update(struct node *n, const struct raft_update *u)
{
    int rc;
    if (u->hard_state_changed) {
        n->hs_term = u->hard_state.term;
        n->hs_vote = u->hard_state.vote;
        save_hard_state(n);
    }
    if (u->log_reset) {
        /* The record first: a crash before the reset is finished at boot. */
        save_boundary(n, u->reset.index, u->reset.term, &u->reset.membership);
        if ((rc = logstore_reset_to_snapshot(n->log, u->reset.index, u->reset.term)))
            log_fatal(MOD, "cannot reset the Raft log to a snapshot: %s", tc_strerror(rc));
    }
    if (u->entry_count == 0)
        return;
    if (u->entries[0].index <= logstore_last_index(n->log) &&
        (rc = logstore_truncate_suffix(n->log, u->entries[0].index)))
        log_fatal(MOD, "cannot truncate the Raft log at %" PRIu64 ": %s", u->entries[0].index,
                  tc_strerror(rc));
    for (size_t i = 0; i < u->entry_count; i++) {
        const struct raft_entry *e = &u->entries[i];
        if ((rc = logstore_append(n->log, e->index, e->term, e->type, e->data, e->len)))
            log_fatal(MOD, "cannot append Raft entry %" PRIu64 ": %s", e->index, tc_strerror(rc));
    }
    if ((rc = logstore_sync(n->log)))
        log_fatal(MOD, "cannot sync the Raft log: %s", tc_strerror(rc));
}

/* The hashes of a decoded block's transactions (for the pool). */
static uint8_t (*block_tx_hashes(const struct block *b))[32]
{
    uint8_t(*h)[32] = xcalloc(b->tx_count ? b->tx_count : 1, 32);
    for (size_t i = 0; i < b->tx_count; i++) {
        struct tx tx;
        /* block_entry_decode checked that every transaction decodes. */
        if (tx_decode(b->txs[i], &tx, NULL) == TC_OK)
            tx_hash(&tx, h[i]);
    }
    return h;
}

/*
 * [consensus] follower_verify: re-executes a block another node built on the
 * committed state and compares the write-set's digest with the one the leader
 * shipped. Returns 0, TC_ECORRUPT on a mismatch (reason says what differs), or
 * an execution failure.
 */
static int verify_by_execution(struct node *n, const struct block_entry *e, const char **reason)
{
    const struct block_header *h = &e->block.header;
    struct state_reader reader = ledger_state_reader(n->ledger);
    struct state *s = NULL;
    int rc = state_new(&reader, &s);
    if (rc != TC_OK)
        return rc;
    state_set_block_hashes(s, chain_block_hash, n);
    struct exec_block_env env;
    memset(&env, 0, sizeof(env));
    memcpy(env.coinbase, h->coinbase, 20);
    env.number = h->number;
    env.timestamp = h->timestamp;
    env.gas_limit = h->gas_limit;
    memcpy(env.prevrandao, h->mix_hash, 32);
    env.chain_id = u256_from_u64(n->cfg->genesis.chain_id);
    exec_begin(n->exec, s, &env);
    struct writeset ws;
    writeset_init(&ws);
    for (size_t i = 0; i < e->block.tx_count && rc == TC_OK; i++) {
        struct tx tx;
        uint8_t sender[20];
        struct exec_tx_result res;
        if ((rc = tx_decode(e->block.txs[i], &tx, reason)) ||
            (rc = tx_sender(&tx, sender, reason)) || (rc = exec_apply(n->exec, &tx, sender, &res)))
            break;
        if (!res.included) {
            *reason = "a transaction of the block is invalid on this node's state";
            rc = TC_ECORRUPT;
        } else if (res.receipt.status != e->receipts[i].status ||
                   res.receipt.cumulative_gas_used != e->receipts[i].cumulative_gas_used) {
            *reason = "a receipt differs (status or gas)";
            rc = TC_ECORRUPT;
        }
    }
    if (rc == TC_OK && (rc = exec_end(n->exec, &ws)) == TC_OK) {
        uint8_t mine[32], theirs[32];
        if ((rc = writeset_digest(&ws, mine)) == TC_OK &&
            (rc = writeset_digest(&e->writeset, theirs)) == TC_OK && memcmp(mine, theirs, 32)) {
            *reason = "the state digest differs";
            rc = TC_ECORRUPT;
        }
    }
    writeset_free(&ws);
    state_free(s);
    return rc;
}

static void apply_block(struct node *n, const struct raft_entry *re)
{
    struct node_inflight *own = n->inflight_count ? inflight_at(n, 0) : NULL;
    if (own && (own->index != re->index || own->term != re->term)) {
        /* The log holds another entry where ours was: it was overwritten. */
        inflight_drop_all(n, "a different entry was committed at their index");
        own = NULL;
    }
    struct bytes_view payload =
        own ? bytes_as_view(&own->payload) : bytes_view_of(re->data, re->len);
    struct block_entry e;
    const char *reason = NULL;
    int rc = block_entry_decode(payload, &e, &reason);
    if (rc == TC_OK && !own) {
        struct ledger_head head;
        ledger_head(n->ledger, &head);
        if ((rc = block_entry_check(&e, head.state_root, &reason)) == TC_OK)
            rc = block_verify_seal(&e.block, (const uint8_t(*)[20])n->sealer_addresses,
                                   n->sealer_count, &reason);
        if (rc == TC_OK && n->cfg->local.follower_verify &&
            (rc = verify_by_execution(n, &e, &reason)) != TC_OK)
            log_fatal(MOD,
                      "follower_verify: block %" PRIu64 " (Raft entry %" PRIu64
                      ") does not re-execute to what the leader proposed: %s (%s); stopping",
                      e.block.header.number, re->index, reason ? reason : "", tc_strerror(rc));
    }
    if (rc != TC_OK)
        log_fatal(MOD, "committed Raft entry %" PRIu64 " is not a valid block: %s (%s)", re->index,
                  reason ? reason : "", tc_strerror(rc));
    uint64_t t_apply = clock_monotonic_us();
    if ((rc = ledger_apply(n->ledger, &e, re->index, re->term)) != TC_OK)
        log_fatal(MOD, "cannot apply block %" PRIu64 " (Raft entry %" PRIu64 "): %s",
                  e.block.header.number, re->index, ledger_last_error());

    uint64_t failed = 0;
    for (size_t i = 0; i < e.receipt_count; i++)
        failed += e.receipts[i].status ? 0 : 1;
    uint8_t(*hashes)[32] = own ? own->tx_hashes : block_tx_hashes(&e.block);
    txpool_committed(n->pool, (const uint8_t(*)[32])hashes, e.block.tx_count);
    metric_inc(n->m_blocks);
    metric_add(n->m_txs, e.block.tx_count);
    metric_add(n->m_failed_txs, failed);
    metric_gauge_set(n->m_head, (int64_t)e.block.header.number);
    if (own)
        metric_observe(n->m_commit_latency,
                       (double)(clock_monotonic_ms() - own->sealed_ms) / 1000.0);
    LOG_D(MOD, "applied block %" PRIu64 " (%zu txs) at Raft index %" PRIu64 " in %" PRIu64 " us",
          e.block.header.number, e.block.tx_count, re->index, clock_monotonic_us() - t_apply);
    if (own)
        inflight_pop(n);
    else
        free(hashes);
    block_entry_free(&e);
}

static void apply_entry(struct node *n, const struct raft_entry *e)
{
    if (e->type == RAFT_ENTRY_BLOCK) {
        apply_block(n, e);
        members_refresh(n);
        return;
    }
    int rc = ledger_note_applied(n->ledger, e->index, e->term);
    if (rc != TC_OK)
        log_fatal(MOD, "cannot record Raft entry %" PRIu64 " as applied: %s", e->index,
                  ledger_last_error());
}

static void apply_committed(struct node *n, const struct raft_update *u)
{
    uint64_t applied, applied_term;
    ledger_raft_applied(n->ledger, &applied, &applied_term);
    for (size_t i = 0; i < u->committed_count; i++) {
        /* Entries at or below the ledger's applied index were applied by
         * block sync or by the start-up replay. */
        if (u->committed[i].index > applied)
            apply_entry(n, &u->committed[i]);
    }
}

int node_chain_replay(struct node *n)
{
    /* With one voter, an entry is committed as soon as that voter has it on
     * disk (the quorum is itself), so every durable entry is committed. The
     * node applies them before it serves any request: otherwise a client
     * could read, and sign against, a state older than what was committed. */
    const struct raft_membership *m = raft_membership(n->raft);
    uint32_t voters = 0;
    bool self_votes = false;
    for (uint32_t i = 0; i < m->count; i++) {
        if (m->members[i].role != RAFT_VOTER)
            continue;
        voters++;
        self_votes = self_votes || m->members[i].id == n->raft_id;
    }
    if (voters != 1 || !self_votes)
        return 0;
    uint64_t applied, applied_term;
    ledger_raft_applied(n->ledger, &applied, &applied_term);
    uint64_t last = raft_last_index(n->raft);
    for (uint64_t i = applied + 1; i <= last; i++) {
        const struct raft_entry *e = raft_entry_at(n->raft, i);
        if (!e)
            log_fatal(MOD, "Raft entry %" PRIu64 " is missing from memory at start-up", i);
        struct raft_entry copy = *e;
        apply_entry(n, &copy);
    }
    if (last > applied)
        LOG_I(MOD, "applied Raft entries %" PRIu64 "..%" PRIu64 " from the log before serving",
              applied + 1, last);
    return 0;
}

/* Compacts the Raft log behind the applied index, keeping [consensus]
 * log_tail entries for followers that lag; one further behind catches up by
 * block sync. Compacts in steps of log_tail, so that the log store rewrites
 * its boundary rarely. */
static void maybe_compact(struct node *n)
{
    uint64_t tail = n->cfg->local.log_tail;
    uint64_t applied = raft_applied_index(n->raft);
    uint64_t first = logstore_first_index(n->log);
    if (applied < first + 2 * tail)
        return;
    uint64_t upto = applied - tail;
    int rc = raft_compact(n->raft, upto);
    if (rc == TC_OK) {
        /* The record first: a crash before the log is compacted is finished
         * at boot. */
        save_boundary(n, upto, raft_term_at(n->raft, upto), raft_base_membership(n->raft));
        rc = logstore_compact(n->log, upto + 1);
    }
    if (rc != TC_OK)
        LOG_W(MOD, "cannot compact the Raft log up to %" PRIu64 ": %s", upto, tc_strerror(rc));
}

static void publish_status(struct node *n)
{
    struct node_status st;
    memset(&st, 0, sizeof(st));
    st.role = (uint8_t)raft_role(n->raft);
    st.term = raft_term(n->raft);
    st.leader = raft_leader(n->raft);
    st.commit_index = raft_commit_index(n->raft);
    st.applied_index = raft_applied_index(n->raft);
    st.last_index = raft_last_index(n->raft);
    st.first_index = raft_first_index(n->raft);
    st.members = *raft_membership(n->raft);
    for (uint32_t i = 0; i < st.members.count && i < RAFT_MAX_NODES; i++)
        st.match_index[i] = raft_match_index(n->raft, st.members.members[i].id);
    pthread_mutex_lock(&n->mu);
    n->status = st;
    pthread_mutex_unlock(&n->mu);
}

/* Encodes the update's messages into the outbox for the loop thread. Loss is
 * tolerated (Raft resends), so a full outbox only costs a retry. */
static bool send_messages(struct node *n, const struct raft_update *u)
{
    bool any = false;
    for (size_t i = 0; i < u->message_count; i++) {
        const struct raft_message *m = &u->messages[i];
        bytes_clear(&n->encode_buf);
        int rc = raft_msg_encode(m, &n->encode_buf);
        if (rc != TC_OK) {
            LOG_E(MOD, "cannot encode a Raft message for %016" PRIx64 ": %s", m->to,
                  tc_strerror(rc));
            continue;
        }
        if (mailbox_push(&n->outbox, m->to, P2P_TYPE_RAFT, n->encode_buf.ptr, n->encode_buf.len) ==
            TC_OK)
            any = true;
    }
    return any;
}

/*
 * Carries out an update and every update that its persistence releases:
 * persist, send, apply, report.
 */
static void process(struct node *n, int rc, const char *event)
{
    struct raft_update *u = &n->update;
    bool sent = false;
    if (rc != TC_OK && rc != TC_ESTATE && rc != TC_EAGAIN)
        LOG_W(MOD, "Raft %s: %s", event, tc_strerror(rc));
    for (;;) {
        uint64_t seq = u->persist_seq;
        if (seq)
            persist_update(n, u);
        if (u->message_count && send_messages(n, u))
            sent = true;
        apply_committed(n, u);
        if (u->snapshot_wanted)
            node_sync_wanted(n, u->snapshot_from, &u->snapshot);
        if (!seq)
            break;
        if ((rc = raft_persisted(n->raft, seq, u)) != TC_OK)
            log_fatal(MOD, "Raft rejected persistence report %" PRIu64 ": %s", seq,
                      tc_strerror(rc));
    }
    if (sent)
        node_loop_wake(n);
    const struct raft_membership *conf = raft_membership(n->raft);
    if (!same_conf(conf, &n->last_conf)) {
        n->last_conf = *conf;
        members_derive(n);
    }
    bool leader = raft_is_leader(n->raft);
    uint64_t leader_id = raft_leader(n->raft);
    uint64_t old_leader = atomic_exchange(&n->leader_hint, leader_id);
    if (n->was_leader && !leader)
        inflight_drop_all(n, "leadership lost");
    if (leader != n->was_leader)
        LOG_I(MOD, "%s (term %" PRIu64 ")", leader ? "leading" : "following", raft_term(n->raft));
    n->was_leader = leader;
    if (!leader && leader_id != RAFT_NONE && leader_id != old_leader) {
        /* A new leader: hand it what this node's pool holds. */
        size_t count = 0;
        if (txpool_forward_all(n->pool, &count) == TC_OK && count)
            LOG_I(MOD, "%zu pooled transaction(s) forwarded to the new leader", count);
    }
    maybe_compact(n);
    publish_status(n);
}

/* ---- membership ------------------------------------------------------------ */

/*
 * Recomputes, from the committed membership (the consensus system contract)
 * and the Raft configuration, the addresses whose seal a block may carry and
 * the nodes P2P admits. A voter of the Raft configuration may lead (and seal)
 * before a removal in the contract reaches Raft, so both sets count.
 */
static void members_derive(struct node *n)
{
    const struct raft_membership *conf = raft_membership(n->raft);
    size_t allowed[NODE_MAX_KNOWN];
    size_t allowed_count = 0;
    n->sealer_count = 0;
    for (size_t i = 0; i < n->members.count; i++) {
        const struct consensus_member *m = &n->members.members[i];
        int k = node_member_add(n, m->id);
        if (k >= 0 && allowed_count < NODE_MAX_KNOWN)
            allowed[allowed_count++] = (size_t)k;
        if (m->role == CONSENSUS_SEALER && n->sealer_count < NODE_MAX_KNOWN)
            eth_address_from_pubkey(m->id, n->sealer_addresses[n->sealer_count++]);
    }
    for (uint32_t i = 0; i < conf->count; i++) {
        uint8_t id[64];
        if (!node_member_id(n, conf->members[i].id, id))
            continue;
        int k = node_member_add(n, id);
        bool present = false;
        for (size_t j = 0; j < allowed_count; j++)
            present = present || allowed[j] == (size_t)k;
        if (k >= 0 && !present && allowed_count < NODE_MAX_KNOWN)
            allowed[allowed_count++] = (size_t)k;
        if (conf->members[i].role == RAFT_VOTER && n->sealer_count < NODE_MAX_KNOWN)
            eth_address_from_pubkey(id, n->sealer_addresses[n->sealer_count++]);
    }
    node_set_allowed(n, allowed, allowed_count);
}

/* Reloads the committed membership after a block; logs and re-derives the
 * sets when it changed. */
static void members_refresh(struct node *n)
{
    struct consensus_members m;
    struct state_reader r = ledger_state_reader(n->ledger);
    int rc = syscontract_members_load(&r, &n->cfg->genesis, &m);
    if (rc != TC_OK) {
        LOG_E(MOD, "cannot read the consensus membership: %s", tc_strerror(rc));
        return;
    }
    bool same = m.count == n->members.count;
    for (size_t i = 0; same && i < m.count; i++)
        same = memcmp(&m.members[i], &n->members.members[i], sizeof(m.members[i])) == 0;
    if (same)
        return;
    size_t sealers = 0;
    for (size_t i = 0; i < m.count; i++)
        sealers += m.members[i].role == CONSENSUS_SEALER;
    if (n->members.count)
        LOG_I(MOD, "consensus membership changed: %zu sealer(s), %zu observer(s)", sealers,
              m.count - sealers);
    n->members = m;
    members_derive(n);
}

/*
 * Leader: moves the Raft configuration one step towards the committed
 * membership (sealers are voters, observers learners). New members join as
 * learners; a learner is promoted once it has caught up to the commit index
 * (a voter with an empty log would count toward the quorum at once); members
 * no longer in the membership are removed, and a sealer turned observer is
 * removed, then added back as a learner. One change at a time, as Raft
 * requires: TC_EAGAIN while one is pending, retried on the next turn.
 */
static void members_converge(struct node *n)
{
    if (!raft_is_leader(n->raft))
        return;
    const struct raft_membership *conf = raft_membership(n->raft);
    enum raft_change change = 0;
    uint64_t who = 0;
    for (size_t i = 0; i < n->members.count && !change; i++) {
        const struct consensus_member *m = &n->members.members[i];
        uint64_t id = node_raft_id(m->id);
        const struct raft_member *c = NULL;
        for (uint32_t j = 0; j < conf->count; j++)
            if (conf->members[j].id == id)
                c = &conf->members[j];
        if (!c) {
            change = RAFT_ADD_LEARNER;
            who = id;
        } else if (m->role == CONSENSUS_SEALER && c->role == RAFT_LEARNER &&
                   raft_match_index(n->raft, id) >= raft_commit_index(n->raft)) {
            change = RAFT_PROMOTE;
            who = id;
        } else if (m->role == CONSENSUS_OBSERVER && c->role == RAFT_VOTER) {
            change = RAFT_REMOVE;
            who = id;
        }
    }
    for (uint32_t j = 0; j < conf->count && !change; j++) {
        bool kept = false;
        for (size_t i = 0; i < n->members.count && !kept; i++)
            kept = node_raft_id(n->members.members[i].id) == conf->members[j].id;
        if (!kept) {
            change = RAFT_REMOVE;
            who = conf->members[j].id;
        }
    }
    if (!change)
        return;
    int rc = raft_change_membership(n->raft, change, who, &n->update);
    if (rc == TC_OK)
        LOG_I(MOD, "Raft configuration change proposed: %s %016" PRIx64,
              change == RAFT_ADD_LEARNER ? "add learner"
              : change == RAFT_PROMOTE   ? "promote"
                                         : "remove",
              who);
    process(n, rc == TC_EAGAIN ? TC_OK : rc, "membership change");
}

/* ---- block sync (requesting side) ------------------------------------------ */

static void sync_send_request(struct node *n)
{
    struct ledger_head head;
    ledger_head(n->ledger, &head);
    struct sync_request req = { .from_number = head.number + 1, .max_blocks = SYNC_MAX_BLOCKS };
    bytes_clear(&n->encode_buf);
    if (sync_request_encode(&req, &n->encode_buf) == TC_OK &&
        mailbox_push(&n->outbox, n->sync.peer, P2P_TYPE_SYNC, n->encode_buf.ptr,
                     n->encode_buf.len) == TC_OK)
        node_loop_wake(n);
    n->sync.sent_ms = clock_monotonic_ms();
}

/* The next member after the current sync peer (not this node). */
static void sync_next_peer(struct node *n)
{
    for (size_t k = 0; k < n->member_count; k++) {
        n->sync.rotation = (n->sync.rotation + 1) % n->member_count;
        uint64_t id = n->member_raft[n->sync.rotation];
        if (id != n->raft_id) {
            n->sync.peer = id;
            return;
        }
    }
}

void node_sync_wanted(struct node *n, uint64_t from, const struct raft_snapshot_meta *meta)
{
    if (n->sync.active && n->sync.target.index >= meta->index)
        return;
    bool was_active = n->sync.active;
    n->sync.active = true;
    n->sync.target = *meta;
    if (!was_active) {
        n->sync.peer = from;
        LOG_I(MOD, "catching up by block sync to Raft entry %" PRIu64 " from %016" PRIx64,
              meta->index, from);
        sync_send_request(n);
    }
}

static void sync_tick(struct node *n, uint64_t now_ms)
{
    if (n->sync.active && now_ms - n->sync.sent_ms >= SYNC_TIMEOUT_MS) {
        sync_next_peer(n);
        LOG_I(MOD, "block sync: asking %016" PRIx64 " (no answer in time)", n->sync.peer);
        sync_send_request(n);
    }
}

/* Applies one synced block if it extends the head. Returns 0 or why not. */
static int sync_apply_one(struct node *n, const struct sync_block *sb, uint64_t from)
{
    struct ledger_head head;
    ledger_head(n->ledger, &head);
    uint64_t applied, applied_term;
    ledger_raft_applied(n->ledger, &applied, &applied_term);
    struct block_entry e;
    const char *reason = NULL;
    int rc = block_entry_decode(sb->entry, &e, &reason);
    if (rc == TC_OK) {
        if (e.block.header.number != head.number + 1 ||
            memcmp(e.block.header.parent_hash, head.hash, 32) != 0) {
            reason = "does not extend this node's head";
            rc = TC_ESTATE;
        } else if (sb->raft_index <= applied) {
            reason = "Raft index not above the applied one";
            rc = TC_ESTATE;
        } else if ((rc = block_entry_check(&e, head.state_root, &reason)) == TC_OK &&
                   (rc = block_verify_seal(&e.block, (const uint8_t(*)[20])n->sealer_addresses,
                                           n->sealer_count, &reason)) == TC_OK &&
                   (rc = ledger_apply(n->ledger, &e, sb->raft_index, sb->raft_term)) != TC_OK) {
            reason = ledger_last_error();
        }
    }
    if (rc == TC_OK) {
        uint8_t(*hashes)[32] = block_tx_hashes(&e.block);
        txpool_committed(n->pool, (const uint8_t(*)[32])hashes, e.block.tx_count);
        free(hashes);
        metric_inc(n->m_blocks);
        metric_add(n->m_txs, e.block.tx_count);
        metric_gauge_set(n->m_head, (int64_t)e.block.header.number);
        members_refresh(n);
    } else {
        LOG_W(MOD, "block sync: block %" PRIu64 " from %016" PRIx64 " refused: %s (%s)",
              head.number + 1, from, reason ? reason : "", tc_strerror(rc));
    }
    block_entry_free(&e);
    return rc;
}

static void sync_on_blocks(struct node *n, uint64_t from, const uint8_t *data, size_t len)
{
    if (!n->sync.active || from != n->sync.peer)
        return;
    struct sync_blocks *b = n->sync.answer;
    int rc = sync_blocks_decode(data, len, b);
    if (rc != TC_OK) {
        LOG_W(MOD, "block sync: malformed answer from %016" PRIx64 ": %s", from, tc_strerror(rc));
        sync_next_peer(n);
        return;
    }
    for (uint32_t i = 0; i < b->count; i++) {
        if (sync_apply_one(n, &b->blocks[i], from) != TC_OK) {
            sync_next_peer(n);
            return;
        }
    }
    struct ledger_head head;
    uint64_t applied, applied_term;
    ledger_head(n->ledger, &head);
    ledger_raft_applied(n->ledger, &applied, &applied_term);
    if (head.number == b->head_number && b->applied_index > applied &&
        ledger_note_applied(n->ledger, b->applied_index, b->applied_term) == TC_OK) {
        applied = b->applied_index;
        applied_term = b->applied_term;
    }
    if (applied >= n->sync.target.index) {
        struct raft_snapshot_meta meta = n->sync.target;
        meta.index = applied;
        meta.term = applied_term;
        n->sync.active = false;
        LOG_I(MOD, "block sync done: head block %" PRIu64 ", Raft entry %" PRIu64, head.number,
              applied);
        process(n, raft_snapshot_installed(n->raft, &meta, &n->update), "snapshot installed");
        return;
    }
    if (b->count > 0)
        sync_send_request(n); /* more to fetch */
}

/* ---- the sealer ------------------------------------------------------------ */

struct parent {
    uint64_t number;
    uint8_t hash[32];
    uint8_t state_root[32];
    uint64_t timestamp;
};

static int current_parent(struct node *n, struct parent *p)
{
    const struct node_inflight *t = inflight_tail(n);
    if (t) {
        p->number = t->number;
        memcpy(p->hash, t->hash, 32);
        memcpy(p->state_root, t->state_root, 32);
        p->timestamp = t->timestamp;
        return TC_OK;
    }
    struct ledger_head head;
    struct block_header h;
    ledger_head(n->ledger, &head);
    int rc = ledger_block_header(n->ledger, head.number, &h);
    if (rc != TC_OK)
        return rc;
    p->number = head.number;
    memcpy(p->hash, head.hash, 32);
    memcpy(p->state_root, head.state_root, 32);
    p->timestamp = h.timestamp;
    return TC_OK;
}

/* May this node seal the next block now? Only a leader whose log beyond the
 * applied index holds nothing but its own in-flight blocks. */
static bool can_seal(struct node *n)
{
    if (!raft_is_leader(n->raft) || n->inflight_count >= NODE_MAX_INFLIGHT_BLOCKS)
        return false;
    const struct node_inflight *t = inflight_tail(n);
    uint64_t top = t ? t->index : raft_applied_index(n->raft);
    return raft_last_index(n->raft) == top;
}

struct built {
    struct state *state;
    struct bytes payload;
    uint8_t (*included)[32];
    size_t included_count;
    uint8_t (*dropped)[32];
    size_t dropped_count;
    struct block_header header;
    uint8_t hash[32];
};

static void built_free(struct built *b)
{
    state_free(b->state);
    bytes_free(&b->payload);
    free(b->included);
    free(b->dropped);
}

/* Executes the taken transactions on a new state over the parent and seals
 * them into a BLOCK entry. Returns 0 (b->included_count may be 0: every
 * transaction was dropped) or an error (the block is abandoned). */
static int build_block(struct node *n, const struct parent *p, struct built *b)
{
    const struct genesis_config *g = &n->cfg->genesis;
    const struct txpool_batch *batch = &n->batch;
    size_t count = batch->count;
    struct state_reader reader;
    const struct node_inflight *t = inflight_tail(n);
    if (t)
        state_as_reader(t->state, &reader);
    else
        reader = ledger_state_reader(n->ledger);
    int rc = state_new(&reader, &b->state);
    if (rc != TC_OK)
        return rc;
    state_set_block_hashes(b->state, chain_block_hash, n);

    struct exec_block_env env;
    memset(&env, 0, sizeof(env));
    memcpy(env.coinbase, n->address, 20);
    env.number = p->number + 1;
    uint64_t now_s = clock_wall_ms() / 1000;
    env.timestamp = now_s > p->timestamp ? now_s : p->timestamp;
    env.gas_limit = g->block_gas_limit;
    env.chain_id = u256_from_u64(g->chain_id);
    exec_begin(n->exec, b->state, &env);

    struct bytes_view *txs = xcalloc(count ? count : 1, sizeof(*txs));
    struct receipt *receipts = xcalloc(count ? count : 1, sizeof(*receipts));
    b->included = xcalloc(count ? count : 1, 32);
    b->dropped = xcalloc(count ? count : 1, 32);
    struct writeset ws;
    writeset_init(&ws);
    for (size_t i = 0; i < count; i++) {
        struct bytes_view raw = txpool_batch_raw(batch, i);
        struct tx tx;
        struct exec_tx_result res;
        const char *reason = NULL;
        if (tx_decode(raw, &tx, &reason) != TC_OK) {
            memcpy(b->dropped[b->dropped_count++], batch->picks[i].hash, 32);
            continue;
        }
        if ((rc = exec_apply(n->exec, &tx, batch->picks[i].sender, &res)) != TC_OK)
            goto out;
        if (!res.included) {
            LOG_D(MOD, "transaction dropped from block %" PRIu64 ": %s", env.number,
                  res.drop_reason);
            metric_inc(n->m_dropped);
            memcpy(b->dropped[b->dropped_count++], batch->picks[i].hash, 32);
            continue;
        }
        txs[b->included_count] = raw;
        receipts[b->included_count] = res.receipt;
        memcpy(b->included[b->included_count++], batch->picks[i].hash, 32);
    }
    if (b->included_count == 0)
        goto out;
    if ((rc = exec_end(n->exec, &ws)) != TC_OK)
        goto out;

    struct block blk;
    memset(&blk, 0, sizeof(blk));
    block_header_init(&blk.header);
    memcpy(blk.header.parent_hash, p->hash, 32);
    blk.header.number = env.number;
    blk.header.gas_limit = env.gas_limit;
    blk.header.timestamp = env.timestamp;
    blk.txs = txs;
    blk.tx_count = b->included_count;
    if ((rc = block_entry_fill_header(&blk, receipts, b->included_count, &ws, p->state_root)) ||
        (rc = block_seal(&blk, n->node_key)) ||
        (rc = block_entry_encode(&blk, receipts, b->included_count, &ws, &b->payload)) ||
        (rc = block_header_hash(&blk.header, b->hash)))
        goto out;
    b->header = blk.header;
out:
    writeset_free(&ws);
    free(txs);
    free(receipts);
    return rc;
}

/* Builds and proposes one block. Returns true if a block was proposed. */
static bool seal_block(struct node *n)
{
    const struct genesis_config *g = &n->cfg->genesis;
    struct parent p;
    int rc = current_parent(n, &p);
    if (rc != TC_OK) {
        LOG_E(MOD, "cannot read the head block: %s", tc_strerror(rc));
        return false;
    }
    if ((rc = txpool_take(n->pool, g->block_tx_count_limit, g->block_gas_limit, &n->batch)) !=
            TC_OK ||
        n->batch.count == 0) {
        if (rc != TC_OK)
            LOG_E(MOD, "cannot take transactions from the pool: %s", tc_strerror(rc));
        return false;
    }
    n->last_seal_ms = clock_monotonic_ms();
    uint64_t t_taken = clock_monotonic_us();

    struct built b;
    memset(&b, 0, sizeof(b));
    bytes_init(&b.payload);
    rc = build_block(n, &p, &b);
    uint64_t t_built = clock_monotonic_us();
    if (b.dropped_count)
        txpool_drop(n->pool, (const uint8_t(*)[32])b.dropped, b.dropped_count);
    if (rc != TC_OK || b.included_count == 0) {
        if (rc != TC_OK)
            LOG_E(MOD, "block %" PRIu64 " abandoned: %s", p.number + 1, tc_strerror(rc));
        if (b.included_count)
            txpool_return(n->pool, (const uint8_t(*)[32])b.included, b.included_count);
        built_free(&b);
        return false;
    }

    struct bytes_view payload = bytes_as_view(&b.payload);
    uint64_t index = 0;
    rc = raft_propose(n->raft, &payload, 1, &index, &n->update);
    if (rc != TC_OK) {
        LOG_W(MOD, "block %" PRIu64 " not proposed: %s", p.number + 1, tc_strerror(rc));
        txpool_return(n->pool, (const uint8_t(*)[32])b.included, b.included_count);
        built_free(&b);
        process(n, TC_OK, "propose");
        return false;
    }
    struct node_inflight *f = inflight_at(n, n->inflight_count++);
    f->index = index;
    f->term = raft_term(n->raft);
    f->number = b.header.number;
    memcpy(f->hash, b.hash, 32);
    memcpy(f->state_root, b.header.state_root, 32);
    f->timestamp = b.header.timestamp;
    f->state = b.state;
    f->payload = b.payload;
    f->tx_hashes = b.included;
    f->tx_count = b.included_count;
    f->sealed_ms = n->last_seal_ms;
    free(b.dropped);
    uint64_t number = f->number;
    size_t count = f->tx_count;
    process(n, TC_OK, "propose");
    /* With one voter "proposed" includes the log's sync and the ledger's
     * batch; with more it is the local log write only. */
    LOG_D(MOD,
          "block %" PRIu64 ": %zu txs as Raft entry %" PRIu64 "; execute+seal %" PRIu64
          " us, propose %" PRIu64 " us",
          number, count, index, t_built - t_taken, clock_monotonic_us() - t_built);
    return true;
}

bool node_seal_due(size_t pending, uint32_t limit, uint64_t now_ms, uint64_t last_seal_ms,
                   uint32_t min_seal_time_ms, uint64_t *wait_ms)
{
    if (pending == 0)
        return false;
    if (pending >= limit)
        return true;
    uint64_t due = last_seal_ms + min_seal_time_ms;
    if (now_ms >= due)
        return true;
    if (due - now_ms < *wait_ms)
        *wait_ms = due - now_ms;
    return false;
}

static bool seal_due(struct node *n, uint64_t now_ms, uint64_t *wait_ms)
{
    const struct genesis_config *g = &n->cfg->genesis;
    if (!can_seal(n))
        return false;
    struct txpool_stats st;
    txpool_get_stats(n->pool, &st);
    return node_seal_due(st.pending, g->block_tx_count_limit, now_ms, n->last_seal_ms,
                         g->min_seal_time_ms, wait_ms);
}

/* ---- boot and thread body -------------------------------------------------- */

/* The Raft configuration of a committed membership: sealers vote, observers
 * learn. */
static void members_to_conf(const struct consensus_members *m, struct raft_membership *conf)
{
    memset(conf, 0, sizeof(*conf));
    for (size_t i = 0; i < m->count && conf->count < RAFT_MAX_NODES; i++) {
        conf->members[conf->count].id = node_raft_id(m->members[i].id);
        conf->members[conf->count].role =
            m->members[i].role == CONSENSUS_SEALER ? RAFT_VOTER : RAFT_LEARNER;
        conf->count++;
    }
}

int node_chain_boot(struct node *n, char *err, size_t err_len)
{
    const struct genesis_config *g = &n->cfg->genesis;
    int rc = logstore_load_hard_state(n->log, &n->hs_term, &n->hs_vote, n->hs_extra,
                                      sizeof(n->hs_extra), &n->hs_extra_len);
    if (rc != TC_OK && rc != TC_ENOTFOUND) {
        snprintf(err, err_len, "cannot read the Raft hard state: %s", tc_strerror(rc));
        return rc;
    }
    rc = TC_OK; /* TC_ENOTFOUND: a new node, term 0 */
    uint64_t snap_index, snap_term, last = logstore_last_index(n->log);
    logstore_boundary(n->log, &snap_index, &snap_term);
    uint64_t rec_index = 0, rec_term = 0;
    struct raft_membership rec_conf;
    bool have_rec = load_boundary(n, &rec_index, &rec_term, &rec_conf) == TC_OK;
    if (have_rec && rec_index > snap_index) {
        /* A compaction or a snapshot reset recorded but not done: finish it. */
        uint64_t t = 0;
        if (rec_index <= last && logstore_term_at(n->log, rec_index, &t) == TC_OK && t == rec_term)
            rc = logstore_compact(n->log, rec_index + 1);
        else
            rc = logstore_reset_to_snapshot(n->log, rec_index, rec_term);
        if (rc != TC_OK) {
            snprintf(err, err_len, "cannot finish moving the Raft log to entry %" PRIu64 ": %s",
                     rec_index, tc_strerror(rc));
            return rc;
        }
        logstore_boundary(n->log, &snap_index, &snap_term);
        last = logstore_last_index(n->log);
    }
    uint64_t applied, applied_term;
    ledger_raft_applied(n->ledger, &applied, &applied_term);
    if (applied > last) {
        /* Block sync took the ledger past the log before the node recorded
         * the snapshot: restart the log there, with the configuration of
         * the membership committed at that point. */
        struct consensus_members m;
        struct state_reader r = ledger_state_reader(n->ledger);
        if ((rc = syscontract_members_load(&r, g, &m)) != TC_OK) {
            snprintf(err, err_len, "cannot read the consensus membership: %s", tc_strerror(rc));
            return rc;
        }
        members_to_conf(&m, &rec_conf);
        save_boundary(n, applied, applied_term, &rec_conf);
        if ((rc = logstore_reset_to_snapshot(n->log, applied, applied_term)) != TC_OK) {
            snprintf(err, err_len, "cannot restart the Raft log at entry %" PRIu64 ": %s", applied,
                     tc_strerror(rc));
            return rc;
        }
        have_rec = true;
        rec_index = applied;
        logstore_boundary(n->log, &snap_index, &snap_term);
        last = logstore_last_index(n->log);
    }
    if (applied < snap_index) {
        snprintf(err, err_len,
                 "the ledger (applied Raft entry %" PRIu64 ") is behind the Raft log's compaction "
                 "point (entry %" PRIu64 "); the data directory is damaged",
                 applied, snap_index);
        return TC_ECORRUPT;
    }
    if (snap_term > n->hs_term) {
        /* raft_create refuses a snapshot newer than the hard state: raise it. */
        n->hs_term = snap_term;
        n->hs_vote = RAFT_NONE;
        save_hard_state(n);
    }

    struct raft_boot boot;
    memset(&boot, 0, sizeof(boot));
    boot.hard_state.term = n->hs_term;
    boot.hard_state.vote = n->hs_vote;
    boot.snapshot.index = snap_index;
    boot.snapshot.term = snap_term;
    if (snap_index == 0) {
        struct consensus_members genesis;
        syscontract_members_genesis(g, &genesis);
        members_to_conf(&genesis, &boot.snapshot.membership);
    } else if (have_rec && rec_index == snap_index) {
        boot.snapshot.membership = rec_conf;
    } else {
        snprintf(err, err_len,
                 "the Raft log is compacted at entry %" PRIu64
                 " but no configuration is recorded for it; the data directory is damaged",
                 snap_index);
        return TC_ECORRUPT;
    }
    size_t count = last > snap_index ? (size_t)(last - snap_index) : 0;
    struct raft_entry *entries = xcalloc(count ? count : 1, sizeof(*entries));
    struct bytes *data = xcalloc(count ? count : 1, sizeof(*data));
    for (size_t i = 0; i < count && rc == TC_OK; i++) {
        bytes_init(&data[i]);
        entries[i].index = snap_index + 1 + i;
        rc = logstore_read(n->log, entries[i].index, &entries[i].term, &entries[i].type, &data[i]);
        entries[i].data = data[i].ptr;
        entries[i].len = (uint32_t)data[i].len;
        if (rc != TC_OK)
            snprintf(err, err_len, "cannot read Raft entry %" PRIu64 ": %s", entries[i].index,
                     tc_strerror(rc));
    }
    if (rc == TC_OK) {
        boot.entries = entries;
        boot.entry_count = count;
        boot.applied_index = applied;
        struct raft_config rc_cfg;
        memset(&rc_cfg, 0, sizeof(rc_cfg));
        rc_cfg.id = n->raft_id;
        uint32_t ticks = g->election_timeout_ms / g->heartbeat_ms;
        rc_cfg.election_ticks = ticks < 2 ? 2 : ticks;
        rc_cfg.heartbeat_ticks = 1;
        if (crypto_random(&rc_cfg.seed, sizeof(rc_cfg.seed)) != TC_OK)
            rc_cfg.seed = clock_monotonic_ns();
        if ((rc = raft_create(&rc_cfg, &boot, &n->raft)) != TC_OK)
            snprintf(err, err_len, "cannot start Raft from the log: %s", tc_strerror(rc));
        else
            LOG_I(MOD,
                  "Raft log entries %" PRIu64 "..%" PRIu64 ", ledger applied up to %" PRIu64
                  ", term %" PRIu64,
                  snap_index + 1, last, applied, n->hs_term);
    }
    for (size_t i = 0; i < count; i++)
        bytes_free(&data[i]);
    free(data);
    free(entries);
    if (rc != TC_OK)
        return rc;
    if ((rc = exec_new(
             &(struct exec_rules){ .kind = EXEC_RULES_CHAIN, .tx_gas_limit = g->tx_gas_limit },
             &n->exec)) != TC_OK) {
        snprintf(err, err_len, "cannot create the executor: %s", tc_strerror(rc));
        return rc;
    }
    /* The consensus system contract falls back to the genesis membership. */
    syscontract_exec_set_genesis(n->exec, g);
    txpool_batch_init(&n->batch);
    bytes_init(&n->encode_buf);
    n->chain_entries = xcalloc(RAFT_MSG_MAX_ENTRIES, sizeof(*n->chain_entries));
    n->sync.answer = xcalloc(1, sizeof(*n->sync.answer));
    n->last_conf = *raft_membership(n->raft);
    members_refresh(n);
    publish_status(n);
    return TC_OK;
}

void node_chain_wake(struct node *n)
{
    if (atomic_exchange(&n->wake_pending, true))
        return;
    pthread_mutex_lock(&n->mu);
    n->wake = true;
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
}

/* Waits until woken, stopped, or wait_ms passed. Returns false to stop. */
static bool chain_wait(struct node *n, uint64_t wait_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(wait_ms / 1000);
    ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&n->mu);
    while (!n->wake && !n->stop) {
        if (pthread_cond_timedwait(&n->cv, &n->mu, &ts) == ETIMEDOUT)
            break;
    }
    n->wake = false;
    bool go = !n->stop;
    pthread_mutex_unlock(&n->mu);
    atomic_store(&n->wake_pending, false);
    return go;
}

/* Hands every Raft frame received since the last turn to the core. The loop
 * thread decoded each once already (and dropped the peer if it did not
 * decode), so a failure here is unexpected. */
static void drain_inbox(struct node *n)
{
    struct mailbox_msg *list = mailbox_take_all(&n->inbox);
    for (struct mailbox_msg *m = list; m; m = m->next) {
        if (m->type == P2P_TYPE_SYNC) {
            sync_on_blocks(n, m->peer, m->data, m->len);
            continue;
        }
        struct raft_message msg;
        int rc = raft_msg_decode(m->data, m->len, &msg, n->chain_entries, RAFT_MSG_MAX_ENTRIES);
        if (rc != TC_OK) {
            LOG_W(MOD, "Raft frame from %016" PRIx64 " dropped: %s", m->peer, tc_strerror(rc));
            continue;
        }
        process(n, raft_receive(n->raft, &msg, &n->update), "receive");
    }
    mailbox_free_list(list);
}

void *node_chain_main(void *arg)
{
    struct node *n = arg;
    const uint64_t tick_ms = n->cfg->genesis.heartbeat_ms;
    uint64_t next_tick = clock_monotonic_ms() + tick_ms;
    n->next_expire_ms = clock_monotonic_ms() + EXPIRE_PERIOD_MS;
    for (;;) {
        drain_inbox(n);
        uint64_t now = clock_monotonic_ms();
        while (now >= next_tick) {
            process(n, raft_tick(n->raft, &n->update), "tick");
            next_tick += tick_ms;
        }
        sync_tick(n, now);
        members_converge(n);
        if (now >= n->next_expire_ms) {
            size_t expired = txpool_expire(n->pool, now);
            if (expired)
                LOG_I(MOD, "%zu transaction(s) expired from the pool", expired);
            /* Blocks of transactions this pool never held (sent to another
             * node, sealed by another leader) do not advance its senders. */
            size_t resynced = txpool_resync(n->pool, TXPOOL_RESYNC_MAX_SENDERS);
            if (resynced)
                LOG_D(MOD, "%zu sender(s) of the pool brought up to the state", resynced);
            n->next_expire_ms = now + EXPIRE_PERIOD_MS;
        }
        /* One block per turn, so that ticks keep their pace under load; go
         * round again at once after a block, wait for the tick after a
         * failed attempt (the pool is retried then). */
        uint64_t wait_ms = next_tick - now;
        if (seal_due(n, now, &wait_ms) && seal_block(n))
            wait_ms = 0;
        struct txpool_stats st;
        txpool_get_stats(n->pool, &st);
        metric_gauge_set(n->m_pool, (int64_t)(st.pending + st.future + st.in_flight));
        if (!chain_wait(n, wait_ms))
            break;
    }
    return NULL;
}

void node_chain_free(struct node *n)
{
    while (n->inflight_count > 0) {
        inflight_release(inflight_at(n, n->inflight_count - 1));
        n->inflight_count--;
    }
    txpool_batch_free(&n->batch);
    bytes_free(&n->encode_buf);
    free(n->chain_entries);
    n->chain_entries = NULL;
    free(n->sync.answer);
    n->sync.answer = NULL;
    exec_free(n->exec);
    raft_destroy(n->raft);
    n->exec = NULL;
    n->raft = NULL;
}
