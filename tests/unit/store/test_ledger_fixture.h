/*
 * test_ledger_fixture.h - builds valid, sealed BLOCK entries for the ledger
 * tests and bench_ledger: n signed transfers with receipts (every third with
 * a log whose address and topics come from small pools, so that filters
 * match some and not others) and a write-set that follows state.h's rules
 * (accounts from a pool of LFX_ACCOUNTS addresses, storage slots of a pool
 * of contracts, set or deleted, and now and then a code entry). Everything
 * is derived from (seed, number): the same arguments give the same entry.
 *
 * Two steps, so that a test can add write-set entries of its own:
 *     lfx_begin(&b, number, n, seed);
 *     writeset_put(&b.ws, ...);                                 optional
 *     lfx_finish(&b, parent_hash, parent_state_root);    -> b.entry, b.payload
 *     lfx_free(&b);
 * and the genesis configuration of these tests: lfx_genesis().
 */
#ifndef TC_TESTS_LEDGER_FIXTURE_H
#define TC_TESTS_LEDGER_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/error.h"
#include "base/rng.h"
#include "chain/block.h"
#include "chain/entry.h"
#include "chain/receipt.h"
#include "chain/tx.h"
#include "chain/writeset.h"
#include "crypto/keccak.h"
#include "node/config.h"
#include "state/state.h"
#include "store/ledger.h"

#define LFX_ACCOUNTS  32 /* account pool */
#define LFX_CONTRACTS 4  /* log addresses and storage owners */
#define LFX_SLOTS     8  /* slots per contract */
#define LFX_TOPICS    6  /* topic pool */
#define LFX_CODES     3  /* distinct codes */

static const uint8_t lfx_key[32] = {
    0x4c, 0x08, 0x83, 0xa6, 0x91, 0x02, 0x93, 0x7d, 0x62, 0x31, 0x47, 0x1b, 0x5d, 0xbb, 0x62, 0x04,
    0xfe, 0x51, 0x29, 0x61, 0x70, 0x82, 0x79, 0x2a, 0xe4, 0x68, 0xd0, 0x1a, 0x3f, 0x36, 0x23, 0x18,
};

static inline void lfx_account_addr(size_t i, uint8_t addr[20])
{
    memset(addr, 0xa0, 20);
    addr[19] = (uint8_t)i;
}

static inline void lfx_contract_addr(size_t i, uint8_t addr[20])
{
    memset(addr, 0xc0, 20);
    addr[19] = (uint8_t)i;
}

static inline void lfx_topic(size_t i, uint8_t topic[32])
{
    memset(topic, 0x70, 32);
    topic[31] = (uint8_t)i;
}

static inline void lfx_code(size_t i, uint8_t code[8])
{
    static const uint8_t base[8] = { 0x60, 0x00, 0x60, 0x00, 0xf3, 0x00, 0x00, 0x00 };
    memcpy(code, base, 8);
    code[7] = (uint8_t)(i + 1);
}

struct lfx_block {
    size_t n;
    uint64_t number;
    struct bytes raw;
    size_t *ends;
    struct bytes_view *txs;
    struct receipt *receipts;
    struct log *logs;
    struct writeset ws;
    struct block block;
    struct bytes payload;     /* the entry's encoding */
    struct block_entry entry; /* decoded from payload, checked */
    uint8_t hash[32];
};

static inline void lfx_free(struct lfx_block *b)
{
    free(b->ends);
    free(b->txs);
    free(b->receipts);
    free(b->logs);
    bytes_free(&b->raw);
    writeset_free(&b->ws);
    bytes_free(&b->payload);
    block_entry_free(&b->entry);
    memset(b, 0, sizeof(*b));
}

/* Transactions, receipts and write-set of block `number`. Returns 0 or a TC code. */
static inline int lfx_begin(struct lfx_block *b, uint64_t number, size_t n, uint64_t seed)
{
    memset(b, 0, sizeof(*b));
    bytes_init(&b->raw);
    bytes_init(&b->payload);
    writeset_init(&b->ws);
    b->n = n;
    b->number = number;
    b->ends = calloc(n ? n : 1, sizeof(*b->ends));
    b->txs = calloc(n ? n : 1, sizeof(*b->txs));
    b->receipts = calloc(n ? n : 1, sizeof(*b->receipts));
    b->logs = calloc(n ? n : 1, sizeof(*b->logs));
    if (!b->ends || !b->txs || !b->receipts || !b->logs)
        return TC_ENOMEM;
    struct rng r;
    rng_seed(&r, seed ^ (number * 0x9e3779b97f4a7c15ull));
    uint64_t cumulative = 0;
    int rc;
    struct bytes acct;
    bytes_init(&acct);
    for (size_t i = 0; i < n; i++) {
        struct tx tx;
        memset(&tx, 0, sizeof(tx));
        tx.type = (enum tx_type)(i % 3);
        tx.chain_id = 20200;
        tx.eip155 = true;
        tx.nonce = number * 1000000 + i; /* distinct hashes across blocks */
        tx.gas_limit = 21000;
        tx.has_to = true;
        lfx_account_addr(rng_below(&r, LFX_ACCOUNTS), tx.to);
        tx.value = u256_from_u64(rng_below(&r, 1000000));
        if ((rc = tx_sign(&tx, lfx_key)) || (rc = tx_encode(&tx, &b->raw)))
            goto out_free_acct;
        b->ends[i] = b->raw.len;

        struct receipt *rc_ = &b->receipts[i];
        rc_->type = (uint8_t)tx.type;
        rc_->status = true;
        rc_->gas_used = 21000;
        cumulative += rc_->gas_used;
        rc_->cumulative_gas_used = cumulative;
        rc_->tx_index = (uint32_t)i;
        if (i % 3 == 0) {
            struct log *l = &b->logs[i];
            lfx_contract_addr(rng_below(&r, LFX_CONTRACTS), l->address);
            l->topic_count = (uint8_t)rng_below(&r, LOG_MAX_TOPICS + 1);
            for (unsigned t = 0; t < l->topic_count; t++)
                lfx_topic(rng_below(&r, LFX_TOPICS), l->topics[t]);
            l->data = bytes_view_of(lfx_key, rng_below(&r, 33));
            rc_->logs = l;
            rc_->log_count = 1;
            /* A storage write (or deletion) of a contract. */
            uint8_t skey[52];
            lfx_contract_addr(rng_below(&r, LFX_CONTRACTS), skey);
            memset(skey + 20, 0, 32);
            skey[51] = (uint8_t)rng_below(&r, LFX_SLOTS);
            if (rng_below(&r, 4) == 0) {
                rc = writeset_delete(&b->ws, WRITESET_NS_STORAGE, skey, 52);
            } else {
                uint8_t v[3] = { (uint8_t)(1 + rng_below(&r, 255)), (uint8_t)rng_next(&r),
                                 (uint8_t)rng_next(&r) };
                rc = writeset_put(&b->ws, WRITESET_NS_STORAGE, skey, 52, v, 1 + rng_below(&r, 3));
            }
            if (rc)
                goto out_free_acct;
        }
        receipt_compute_bloom(rc_);

        struct state_account a;
        memset(&a, 0, sizeof(a));
        a.nonce = rng_below(&r, 100);
        a.balance = u256_from_u64(rng_next(&r));
        memcpy(a.code_hash, STATE_EMPTY_CODE_HASH, 32);
        bytes_clear(&acct);
        if ((rc = state_account_encode(&a, &acct)) ||
            (rc = writeset_put(&b->ws, WRITESET_NS_ACCOUNT, tx.to, 20, acct.ptr, acct.len)))
            goto out_free_acct;
    }
    if (rng_below(&r, 3) == 0) {
        uint8_t code[8], h[32];
        lfx_code(rng_below(&r, LFX_CODES), code);
        keccak256(code, sizeof(code), h);
        if ((rc = writeset_put(&b->ws, WRITESET_NS_CODE, h, 32, code, sizeof(code))))
            goto out_free_acct;
    }
    for (size_t i = 0; i < n; i++) {
        size_t start = i ? b->ends[i - 1] : 0;
        b->txs[i] = bytes_view_of(b->raw.ptr + start, b->ends[i] - start);
    }
    rc = 0;
out_free_acct:
    bytes_free(&acct);
    return rc;
}

/* Header (chained on the parent), seal, encoding, and the decoded, checked entry. */
static inline int lfx_finish(struct lfx_block *b, const uint8_t parent_hash[32],
                             const uint8_t parent_root[32])
{
    writeset_canonicalize(&b->ws);
    struct block *blk = &b->block;
    block_header_init(&blk->header);
    memcpy(blk->header.parent_hash, parent_hash, 32);
    blk->header.number = b->number;
    blk->header.gas_limit = 30000000 + 21000 * (uint64_t)b->n;
    blk->header.timestamp = 1764000000 + b->number;
    blk->txs = b->txs;
    blk->tx_count = b->n;
    const char *reason = NULL;
    int rc;
    if ((rc = block_entry_fill_header(blk, b->receipts, b->n, &b->ws, parent_root)) ||
        (rc = block_seal(blk, lfx_key)) ||
        (rc = block_entry_encode(blk, b->receipts, b->n, &b->ws, &b->payload)) ||
        (rc = block_entry_decode(bytes_as_view(&b->payload), &b->entry, &reason)) ||
        (rc = block_entry_check(&b->entry, parent_root, &reason)) ||
        (rc = block_header_hash(&blk->header, b->hash)))
        return rc;
    return 0;
}

/* The genesis configuration of these tests; `alloc` (LFX_ACCOUNTS entries)
 * funds the account pool. */
static inline void lfx_genesis(struct genesis_config *g, struct genesis_alloc *alloc)
{
    memset(g, 0, sizeof(*g));
    g->chain_id = 20200;
    strcpy(g->group_id, "group0");
    g->consensus = CONSENSUS_RAFT;
    g->block_tx_count_limit = 1000;
    g->min_seal_time_ms = 100;
    g->election_timeout_ms = 1000;
    g->heartbeat_ms = 100;
    g->sealer_count = 1;
    memset(g->sealers[0].id, 0x11, NODE_ID_BYTES);
    g->sealers[0].weight = 1;
    g->tx_gas_limit = 3000000000ull;
    g->block_gas_limit = 300000000000ull;
    g->gas_price = u256_zero();
    for (size_t i = 0; i < LFX_ACCOUNTS; i++) {
        lfx_account_addr(i, alloc[i].address);
        alloc[i].balance = u256_from_u64(1000000000ull * (i + 1));
    }
    g->alloc = alloc;
    g->alloc_count = LFX_ACCOUNTS;
    g->tee_allow_virtual = true;
    g->timestamp_ms = 1764000000123ull;
}

/* The expected committed state: every key any applied write-set touched. */
struct lfx_rec {
    uint8_t ns;
    uint8_t key_len;
    uint8_t key[52];
    bool present;
    uint8_t value_len;
    uint8_t value[96];
};

struct lfx_model {
    struct lfx_rec *recs;
    size_t count;
    size_t cap;
};

static inline void lfx_model_free(struct lfx_model *m)
{
    free(m->recs);
    memset(m, 0, sizeof(*m));
}

/* Applies a write-set as the ledger should: last write wins, deletion removes. */
static inline int lfx_model_apply(struct lfx_model *m, const struct writeset *ws)
{
    for (size_t i = 0; i < writeset_count(ws); i++) {
        struct writeset_item it;
        writeset_get(ws, i, &it);
        if (it.key.len > 52 || it.value.len > 96)
            return TC_ETOOBIG;
        struct lfx_rec *r = NULL;
        for (size_t j = 0; j < m->count && !r; j++)
            if (m->recs[j].ns == it.ns && m->recs[j].key_len == it.key.len &&
                memcmp(m->recs[j].key, it.key.ptr, it.key.len) == 0)
                r = &m->recs[j];
        if (!r) {
            if (m->count == m->cap) {
                size_t cap = m->cap ? 2 * m->cap : 64;
                struct lfx_rec *g = realloc(m->recs, cap * sizeof(*g));
                if (!g)
                    return TC_ENOMEM;
                m->recs = g;
                m->cap = cap;
            }
            r = &m->recs[m->count++];
            memset(r, 0, sizeof(*r));
            r->ns = (uint8_t)it.ns;
            r->key_len = (uint8_t)it.key.len;
            memcpy(r->key, it.key.ptr, it.key.len);
        }
        r->present = !it.deleted;
        r->value_len = (uint8_t)it.value.len;
        if (it.value.len)
            memcpy(r->value, it.value.ptr, it.value.len);
    }
    return 0;
}

/* 0 when the ledger's committed state holds exactly the model's values for
 * every key of the model; otherwise 1 + the index of the first mismatch. */
static inline size_t lfx_model_mismatch(const struct lfx_model *m, struct ledger *l)
{
    struct bytes v;
    bytes_init(&v);
    size_t bad = 0;
    for (size_t i = 0; i < m->count && !bad; i++) {
        const struct lfx_rec *r = &m->recs[i];
        if (r->ns == WRITESET_NS_ACCOUNT) {
            struct state_account a;
            bool exists;
            bytes_clear(&v);
            if (ledger_account(l, r->key, &a, &exists) != 0 || exists != r->present ||
                (exists && (state_account_encode(&a, &v) != 0 || v.len != r->value_len ||
                            memcmp(v.ptr, r->value, v.len) != 0)))
                bad = i + 1;
        } else if (r->ns == WRITESET_NS_STORAGE) {
            u256 got, want = r->present ? u256_from_be_bytes(r->value, r->value_len) : u256_zero();
            if (ledger_storage(l, r->key, r->key + 20, &got) != 0 || !u256_eq(got, want))
                bad = i + 1;
        } else {
            if (ledger_code(l, r->key, &v) != 0 || v.len != r->value_len ||
                memcmp(v.ptr, r->value, v.len) != 0)
                bad = i + 1;
        }
    }
    bytes_free(&v);
    return bad;
}

#endif
