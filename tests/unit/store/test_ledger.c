/*
 * test_ledger.c - the ledger: deterministic genesis from config.genesis and
 * its check on reopen, applying blocks and reading back blocks, transactions,
 * receipts, state and code, the refusals of ledger_apply, eth_getLogs
 * filtering against a brute-force model, its bounds, and a sealed store.
 * Random choices come from TC_SEED (printed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"
#include "store/ledger.h"
#include "store/store.h"

#include "test_ledger_fixture.h"

static uint64_t test_seed;

struct fixture {
    char dir[64];
    char db[96];
    struct store *s;
    struct ledger *l;
    struct genesis_config g;
    struct genesis_alloc alloc[LFX_ACCOUNTS];
    bool sealed;
};

static const uint8_t test_store_key[32] = { 0x42, 7, 7, 7 };

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/tc-ledger-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/db", f->dir);
    lfx_genesis(&f->g, f->alloc);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ledger_close(f->l);
    store_close(f->s);
    nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void open_store_at(struct fixture *f, const char *path)
{
    struct store_options o = { .path = path, .sealed = f->sealed };
    memcpy(o.master_key, test_store_key, 32);
    char err[256];
    assert_int_equal(store_open(&o, &f->s, err, sizeof(err)), TC_OK);
}

static void open_all(struct fixture *f)
{
    open_store_at(f, f->db);
    char err[512];
    int rc = ledger_open(f->s, &f->g, &f->l, err, sizeof(err));
    if (rc)
        print_error("ledger_open: %s\n", err);
    assert_int_equal(rc, TC_OK);
}

static void close_all(struct fixture *f)
{
    ledger_close(f->l);
    store_close(f->s);
    f->l = NULL;
    f->s = NULL;
}

/* Builds block head+1 with n transactions over the current head. */
static void next_block(struct fixture *f, struct lfx_block *b, size_t n)
{
    struct ledger_head h;
    ledger_head(f->l, &h);
    assert_int_equal(lfx_begin(b, h.number + 1, n, test_seed), TC_OK);
    assert_int_equal(lfx_finish(b, h.hash, h.state_root), TC_OK);
}

/* Applies `count` blocks of 1..n_max transactions, recording them in the model. */
static void apply_blocks(struct fixture *f, size_t count, size_t n_max, struct lfx_model *m,
                         struct lfx_block *keep)
{
    struct rng r;
    rng_seed(&r, test_seed + 1);
    for (size_t i = 0; i < count; i++) {
        struct lfx_block b;
        next_block(f, &b, 1 + rng_below(&r, n_max));
        uint64_t index, term;
        ledger_raft_applied(f->l, &index, &term);
        assert_int_equal(ledger_apply(f->l, &b.entry, index + 2, 1), TC_OK);
        if (m)
            assert_int_equal(lfx_model_apply(m, &b.ws), TC_OK);
        if (keep)
            keep[i] = b;
        else
            lfx_free(&b);
    }
}

static void model_from_genesis(struct fixture *f, struct lfx_model *m)
{
    struct bytes enc;
    bytes_init(&enc);
    assert_int_equal(ledger_block_writeset(f->l, 0, &enc), TC_OK);
    struct writeset ws;
    assert_int_equal(writeset_decode(bytes_as_view(&enc), &ws, NULL), TC_OK);
    assert_int_equal(lfx_model_apply(m, &ws), TC_OK);
    writeset_free(&ws);
    bytes_free(&enc);
}

/* ---- genesis ---- */

static void test_genesis_is_deterministic_and_funds_the_allocation(void **state)
{
    struct fixture *f = *state;
    open_all(f);
    uint8_t h1[32], h2[32];
    struct bytes enc;
    bytes_init(&enc);
    ledger_genesis_hash(f->l, h1);
    assert_int_equal(ledger_genesis_block(&f->g, h2, &enc), TC_OK);
    assert_memory_equal(h1, h2, 32);

    /* A second store from the same configuration: the same block, byte for byte. */
    struct fixture other = *f;
    snprintf(other.db, sizeof(other.db), "%s/db2", f->dir);
    open_all(&other);
    struct bytes enc2;
    bytes_init(&enc2);
    assert_int_equal(ledger_block_encoded(other.l, 0, &enc2), TC_OK);
    assert_int_equal(enc.len, enc2.len);
    assert_memory_equal(enc.ptr, enc2.ptr, enc.len);
    close_all(&other);

    struct ledger_head head;
    ledger_head(f->l, &head);
    assert_int_equal(head.number, 0);
    assert_memory_equal(head.hash, h1, 32);
    uint64_t index = 9, term = 9;
    ledger_raft_applied(f->l, &index, &term);
    assert_int_equal(index, 0);
    assert_int_equal(term, 0);
    assert_int_equal(ledger_tx_count(f->l), 0);

    struct block_header h;
    assert_int_equal(ledger_block_header(f->l, 0, &h), TC_OK);
    assert_int_equal(h.timestamp, f->g.timestamp_ms / 1000);
    assert_int_equal(h.gas_limit, f->g.block_gas_limit);
    assert_int_equal(h.extra_data_len, 32);
    assert_memory_equal(h.state_root, head.state_root, 32);

    /* stateRoot = state_root_genesis(digest of the stored genesis write-set). */
    struct bytes wenc;
    bytes_init(&wenc);
    assert_int_equal(ledger_block_writeset(f->l, 0, &wenc), TC_OK);
    struct writeset ws;
    assert_int_equal(writeset_decode(bytes_as_view(&wenc), &ws, NULL), TC_OK);
    assert_int_equal(writeset_count(&ws), LFX_ACCOUNTS);
    uint8_t digest[32], root[32];
    assert_int_equal(writeset_digest(&ws, digest), TC_OK);
    state_root_genesis(digest, root);
    assert_memory_equal(root, h.state_root, 32);
    writeset_free(&ws);

    for (size_t i = 0; i < LFX_ACCOUNTS; i++) {
        struct state_account a;
        bool exists = false;
        assert_int_equal(ledger_account(f->l, f->alloc[i].address, &a, &exists), TC_OK);
        assert_true(exists);
        assert_true(u256_eq(a.balance, f->alloc[i].balance));
        assert_int_equal(a.nonce, 0);
        assert_memory_equal(a.code_hash, STATE_EMPTY_CODE_HASH, 32);
    }
    uint8_t nobody[20] = { 0x99 };
    struct state_account a;
    bool exists = true;
    assert_int_equal(ledger_account(f->l, nobody, &a, &exists), TC_OK);
    assert_false(exists);
    bytes_free(&enc);
    bytes_free(&enc2);
    bytes_free(&wenc);
}

static void test_genesis_hash_follows_every_config_change_but_not_alloc_order(void **state)
{
    struct fixture *f = *state;
    uint8_t base[32], h[32];
    assert_int_equal(ledger_genesis_block(&f->g, base, NULL), TC_OK);

    f->alloc[3].balance = u256_add(f->alloc[3].balance, u256_one());
    assert_int_equal(ledger_genesis_block(&f->g, h, NULL), TC_OK);
    assert_memory_not_equal(h, base, 32);
    f->alloc[3].balance = u256_sub(f->alloc[3].balance, u256_one());

    f->g.alloc_count--;
    assert_int_equal(ledger_genesis_block(&f->g, h, NULL), TC_OK);
    assert_memory_not_equal(h, base, 32);
    f->g.alloc_count++;

    f->g.chain_id++;
    assert_int_equal(ledger_genesis_block(&f->g, h, NULL), TC_OK);
    assert_memory_not_equal(h, base, 32);
    f->g.chain_id--;

    f->g.heartbeat_ms++;
    assert_int_equal(ledger_genesis_block(&f->g, h, NULL), TC_OK);
    assert_memory_not_equal(h, base, 32);
    f->g.heartbeat_ms--;

    f->g.sealers[0].id[5] ^= 1;
    assert_int_equal(ledger_genesis_block(&f->g, h, NULL), TC_OK);
    assert_memory_not_equal(h, base, 32);
    f->g.sealers[0].id[5] ^= 1;

    /* The allocation is a set: its order in the file does not matter. */
    struct genesis_alloc tmp = f->alloc[0];
    f->alloc[0] = f->alloc[LFX_ACCOUNTS - 1];
    f->alloc[LFX_ACCOUNTS - 1] = tmp;
    assert_int_equal(ledger_genesis_block(&f->g, h, NULL), TC_OK);
    assert_memory_equal(h, base, 32);
}

static void test_duplicate_allocation_is_refused(void **state)
{
    struct fixture *f = *state;
    memcpy(f->alloc[5].address, f->alloc[6].address, 20);
    uint8_t h[32];
    assert_int_equal(ledger_genesis_block(&f->g, h, NULL), TC_EINVAL);
    open_store_at(f, f->db);
    char err[512];
    assert_int_equal(ledger_open(f->s, &f->g, &f->l, err, sizeof(err)), TC_EINVAL);
    assert_null(f->l);
    assert_non_null(strstr(err, "allocated twice"));
}

static void test_reopen_with_another_genesis_is_refused(void **state)
{
    struct fixture *f = *state;
    open_all(f);
    apply_blocks(f, 2, 3, NULL, NULL);
    struct ledger_head before;
    ledger_head(f->l, &before);
    ledger_close(f->l);
    f->l = NULL;

    f->alloc[0].balance = u256_from_u64(1);
    char err[512];
    assert_int_equal(ledger_open(f->s, &f->g, &f->l, err, sizeof(err)), TC_EINVAL);
    assert_null(f->l);
    assert_non_null(strstr(err, "another chain"));
    assert_non_null(strstr(err, "config.genesis"));

    lfx_genesis(&f->g, f->alloc);
    assert_int_equal(ledger_open(f->s, &f->g, &f->l, err, sizeof(err)), TC_OK);
    struct ledger_head after;
    ledger_head(f->l, &after);
    assert_int_equal(after.number, 2);
    assert_memory_equal(after.hash, before.hash, 32);
}

/* ---- apply and read ---- */

static void test_applied_blocks_read_back_whole(void **state)
{
    struct fixture *f = *state;
    open_all(f);
    struct lfx_block blocks[4];
    apply_blocks(f, 4, 9, NULL, blocks);

    uint64_t txs = 0;
    struct bytes v, raw;
    bytes_init(&v);
    bytes_init(&raw);
    for (size_t k = 0; k < 4; k++) {
        struct lfx_block *b = &blocks[k];
        uint64_t number = k + 1, got_number;
        uint8_t hash[32];
        assert_int_equal(ledger_block_hash(f->l, number, hash), TC_OK);
        assert_memory_equal(hash, b->hash, 32);
        assert_int_equal(ledger_block_number(f->l, b->hash, &got_number), TC_OK);
        assert_int_equal(got_number, number);

        struct block_header h;
        assert_int_equal(ledger_block_header(f->l, number, &h), TC_OK);
        uint8_t rehash[32];
        assert_int_equal(block_header_hash(&h, rehash), TC_OK);
        assert_memory_equal(rehash, b->hash, 32);

        /* The Raft entry rebuilt from the ledger is the one applied, byte for byte. */
        assert_int_equal(ledger_block_entry(f->l, number, &v), TC_OK);
        assert_int_equal(v.len, b->payload.len);
        assert_memory_equal(v.ptr, b->payload.ptr, v.len);

        assert_int_equal(ledger_block_tx_hashes(f->l, number, &v), TC_OK);
        assert_int_equal(v.len, 32 * b->n);
        uint32_t first_log = 0;
        for (size_t i = 0; i < b->n; i++) {
            uint8_t th[32];
            keccak256(b->txs[i].ptr, b->txs[i].len, th);
            assert_memory_equal(v.ptr + 32 * i, th, 32);

            struct ledger_tx_location loc;
            assert_int_equal(ledger_tx(f->l, th, &raw, &loc), TC_OK);
            assert_int_equal(raw.len, b->txs[i].len);
            assert_memory_equal(raw.ptr, b->txs[i].ptr, raw.len);
            assert_int_equal(loc.block_number, number);
            assert_memory_equal(loc.block_hash, b->hash, 32);
            assert_int_equal(loc.tx_index, i);
            assert_int_equal(loc.first_log_index, first_log);

            struct ledger_receipt r;
            assert_int_equal(ledger_receipt(f->l, th, &r), TC_OK);
            assert_true(receipt_equal(&r.receipt, &b->receipts[i]));
            assert_int_equal(r.loc.first_log_index, first_log);
            assert_memory_equal(r.loc.block_hash, b->hash, 32);
            assert_memory_equal(r.tx_hash, th, 32);
            ledger_receipt_free(&r);
            first_log += (uint32_t)b->receipts[i].log_count;
        }
        txs += b->n;
    }
    assert_int_equal(ledger_tx_count(f->l), txs);
    uint64_t index, term;
    ledger_raft_applied(f->l, &index, &term);
    assert_int_equal(index, 8);
    assert_int_equal(term, 1);

    /* Absent things are TC_ENOTFOUND. */
    uint8_t zero[32] = { 0 }, hash[32];
    uint64_t n;
    struct ledger_receipt r;
    struct ledger_tx_location loc;
    assert_int_equal(ledger_block_hash(f->l, 5, hash), TC_ENOTFOUND);
    assert_int_equal(ledger_block_number(f->l, zero, &n), TC_ENOTFOUND);
    assert_int_equal(ledger_block_encoded(f->l, 5, &v), TC_ENOTFOUND);
    assert_int_equal(ledger_tx(f->l, zero, &raw, &loc), TC_ENOTFOUND);
    assert_int_equal(ledger_receipt(f->l, zero, &r), TC_ENOTFOUND);
    ledger_receipt_free(&r);
    assert_int_equal(ledger_code(f->l, zero, &v), TC_ENOTFOUND);

    /* The genesis block is served as an entry too, and decodes. */
    assert_int_equal(ledger_block_entry(f->l, 0, &v), TC_OK);
    struct block_entry e;
    assert_int_equal(block_entry_decode(bytes_as_view(&v), &e, NULL), TC_OK);
    assert_int_equal(e.block.header.number, 0);
    block_entry_free(&e);

    for (size_t k = 0; k < 4; k++)
        lfx_free(&blocks[k]);
    bytes_free(&v);
    bytes_free(&raw);
}

static void test_state_is_genesis_plus_write_sets_in_order(void **state)
{
    struct fixture *f = *state;
    open_all(f);
    struct lfx_model m = { 0 };
    model_from_genesis(f, &m);
    apply_blocks(f, 30, 12, &m, NULL);
    assert_int_equal(lfx_model_mismatch(&m, f->l), 0);

    /* The model holds deletions and code, so that the check covers them. */
    bool deleted = false, code = false;
    for (size_t i = 0; i < m.count; i++) {
        deleted |= m.recs[i].ns == WRITESET_NS_STORAGE && !m.recs[i].present;
        code |= m.recs[i].ns == WRITESET_NS_CODE;
    }
    assert_true(deleted);
    assert_true(code);

    /* Survives a reopen. */
    close_all(f);
    open_all(f);
    assert_int_equal(lfx_model_mismatch(&m, f->l), 0);
    lfx_model_free(&m);
}

static void test_state_reader_serves_the_state_cache(void **state)
{
    struct fixture *f = *state;
    open_all(f);
    struct state_reader rd = ledger_state_reader(f->l);
    struct state *s;
    assert_int_equal(state_new(&rd, &s), TC_OK);
    assert_true(u256_eq(state_balance(s, f->alloc[2].address), f->alloc[2].balance));
    uint8_t nobody[20] = { 0x99 };
    assert_false(state_exists(s, nobody));
    assert_int_equal(state_error(s), 0);
    state_free(s);

    /* Code through the reader's callback appends to what out holds. */
    uint8_t code[8], h[32];
    lfx_code(1, code);
    keccak256(code, 8, h);
    struct lfx_block b;
    struct ledger_head head;
    ledger_head(f->l, &head);
    assert_int_equal(lfx_begin(&b, 1, 1, test_seed), TC_OK);
    assert_int_equal(writeset_put(&b.ws, WRITESET_NS_CODE, h, 32, code, 8), TC_OK);
    assert_int_equal(lfx_finish(&b, head.hash, head.state_root), TC_OK);
    assert_int_equal(ledger_apply(f->l, &b.entry, 1, 1), TC_OK);
    struct bytes out;
    bytes_init(&out);
    assert_int_equal(bytes_append(&out, "xy", 2), TC_OK);
    assert_int_equal(rd.code(rd.ctx, h, &out), TC_OK);
    assert_int_equal(out.len, 10);
    assert_memory_equal(out.ptr + 2, code, 8);

    uint8_t bh[32];
    assert_true(ledger_state_block_hash(f->l, 1, bh));
    assert_memory_equal(bh, b.hash, 32);
    assert_false(ledger_state_block_hash(f->l, 2, bh));
    bytes_free(&out);
    lfx_free(&b);
}

/* Nothing of a refused block may be written. */
static void assert_head_is(struct fixture *f, const struct ledger_head *want, uint64_t index)
{
    struct ledger_head h;
    ledger_head(f->l, &h);
    assert_int_equal(h.number, want->number);
    assert_memory_equal(h.hash, want->hash, 32);
    uint64_t i, t;
    ledger_raft_applied(f->l, &i, &t);
    assert_int_equal(i, index);
    uint8_t hash[32];
    assert_int_equal(ledger_block_hash(f->l, want->number + 1, hash), TC_ENOTFOUND);
}

static void test_apply_refuses_a_block_that_does_not_extend_the_head(void **state)
{
    struct fixture *f = *state;
    open_all(f);
    apply_blocks(f, 1, 3, NULL, NULL);
    struct ledger_head head;
    ledger_head(f->l, &head);
    uint8_t other[32];
    memset(other, 0x5a, 32);

    struct lfx_block b;
    /* Wrong number. */
    assert_int_equal(lfx_begin(&b, head.number + 2, 2, test_seed), TC_OK);
    assert_int_equal(lfx_finish(&b, head.hash, head.state_root), TC_OK);
    assert_int_equal(ledger_apply(f->l, &b.entry, 10, 1), TC_ESTATE);
    assert_non_null(strstr(ledger_last_error(), "does not follow"));
    lfx_free(&b);
    /* Wrong parent. */
    assert_int_equal(lfx_begin(&b, head.number + 1, 2, test_seed), TC_OK);
    assert_int_equal(lfx_finish(&b, other, head.state_root), TC_OK);
    assert_int_equal(ledger_apply(f->l, &b.entry, 10, 1), TC_ESTATE);
    assert_non_null(strstr(ledger_last_error(), "parent"));
    lfx_free(&b);
    /* State root chained from another root. */
    assert_int_equal(lfx_begin(&b, head.number + 1, 2, test_seed), TC_OK);
    assert_int_equal(lfx_finish(&b, head.hash, other), TC_OK);
    assert_int_equal(ledger_apply(f->l, &b.entry, 10, 1), TC_ESTATE);
    assert_non_null(strstr(ledger_last_error(), "stateRoot"));
    lfx_free(&b);
    /* Raft index not above the applied one. */
    assert_int_equal(lfx_begin(&b, head.number + 1, 2, test_seed), TC_OK);
    assert_int_equal(lfx_finish(&b, head.hash, head.state_root), TC_OK);
    assert_int_equal(ledger_apply(f->l, &b.entry, 2, 1), TC_ESTATE);
    assert_non_null(strstr(ledger_last_error(), "Raft index"));
    assert_head_is(f, &head, 2);
    /* The right one is accepted. */
    assert_int_equal(ledger_apply(f->l, &b.entry, 3, 1), TC_OK);
    lfx_free(&b);
}

static void try_bad_writeset(struct fixture *f, enum writeset_ns ns, const void *key,
                             size_t key_len, const void *value, size_t value_len, bool del,
                             const char *reason)
{
    struct ledger_head head;
    ledger_head(f->l, &head);
    uint64_t index, term;
    ledger_raft_applied(f->l, &index, &term);
    struct lfx_block b;
    assert_int_equal(lfx_begin(&b, head.number + 1, 2, test_seed), TC_OK);
    if (del)
        assert_int_equal(writeset_delete(&b.ws, ns, key, key_len), TC_OK);
    else
        assert_int_equal(writeset_put(&b.ws, ns, key, key_len, value, value_len), TC_OK);
    assert_int_equal(lfx_finish(&b, head.hash, head.state_root), TC_OK);
    assert_int_equal(ledger_apply(f->l, &b.entry, index + 1, 1), TC_EINVAL);
    assert_non_null(strstr(ledger_last_error(), reason));
    assert_head_is(f, &head, index);
    lfx_free(&b);
}

static void test_apply_refuses_a_write_set_that_breaks_the_state_rules(void **state)
{
    struct fixture *f = *state;
    open_all(f);
    uint8_t key[52] = { 0xee }, code[8];
    lfx_code(0, code);
    try_bad_writeset(f, WRITESET_NS_ACCOUNT, key, 21, "\xc0", 1, false, "account key");
    try_bad_writeset(f, WRITESET_NS_ACCOUNT, key, 20, "\xc0", 1, false, "malformed account");
    try_bad_writeset(f, WRITESET_NS_STORAGE, key, 32, "\x01", 1, false, "storage key");
    try_bad_writeset(f, WRITESET_NS_STORAGE, key, 52, "\x00\x01", 2, false, "storage value");
    try_bad_writeset(f, WRITESET_NS_STORAGE, key, 52, "", 0, false, "storage value");
    try_bad_writeset(f, WRITESET_NS_CODE, key, 32, code, 8, false, "code's hash");
    try_bad_writeset(f, WRITESET_NS_CODE, key, 32, NULL, 0, true, "code deleted");
    /* Then a good block still applies. */
    apply_blocks(f, 1, 2, NULL, NULL);
}

static void test_note_applied_moves_only_the_raft_index(void **state)
{
    struct fixture *f = *state;
    open_all(f);
    struct ledger_head before;
    ledger_head(f->l, &before);
    assert_int_equal(ledger_note_applied(f->l, 1, 1), TC_OK);
    assert_int_equal(ledger_note_applied(f->l, 1, 1), TC_ESTATE);
    assert_int_equal(ledger_note_applied(f->l, 4, 2), TC_OK);
    close_all(f);
    open_all(f);
    uint64_t index, term;
    ledger_raft_applied(f->l, &index, &term);
    assert_int_equal(index, 4);
    assert_int_equal(term, 2);
    assert_head_is(f, &before, 4);
}

static void put_meta_raw(struct fixture *f, const char *name, const void *val, size_t len)
{
    struct store_batch *b;
    assert_int_equal(store_batch_new(f->s, &b), TC_OK);
    assert_int_equal(store_batch_put(b, STORE_NS_META, name, strlen(name), val, len), TC_OK);
    assert_int_equal(store_write(f->s, b, true), TC_OK);
    store_batch_free(b);
}

static void test_damaged_or_newer_metadata_is_refused(void **state)
{
    struct fixture *f = *state;
    char err[512];
    /* A head record without a genesis record. */
    open_store_at(f, f->db);
    uint8_t head[72] = { 0 };
    put_meta_raw(f, "head", head, sizeof(head));
    assert_int_equal(ledger_open(f->s, &f->g, &f->l, err, sizeof(err)), TC_ECORRUPT);
    assert_non_null(strstr(err, "without genesis"));
    store_close(f->s);
    f->s = NULL;

    /* A schema version from a newer node. */
    snprintf(f->db, sizeof(f->db), "%s/newer", f->dir);
    open_all(f);
    ledger_close(f->l);
    f->l = NULL;
    uint8_t version = LEDGER_SCHEMA_VERSION + 1;
    put_meta_raw(f, "version", &version, 1);
    assert_int_equal(ledger_open(f->s, &f->g, &f->l, err, sizeof(err)), TC_EUNSUPPORTED);
    assert_non_null(strstr(err, "newer"));

    /* A malformed head record. */
    version = LEDGER_SCHEMA_VERSION;
    put_meta_raw(f, "version", &version, 1);
    put_meta_raw(f, "head", head, 71);
    assert_int_equal(ledger_open(f->s, &f->g, &f->l, err, sizeof(err)), TC_ECORRUPT);
}

/* ---- readers during apply ---- */

struct reader_ctx {
    struct ledger *l;
    atomic_bool stop;
    atomic_uint_fast64_t reads;
    atomic_uint_fast64_t errors;
};

/* Whatever head a reader sees, its block, transactions and receipts are all there. */
static void *reader_main(void *arg)
{
    struct reader_ctx *c = arg;
    struct bytes hashes;
    bytes_init(&hashes);
    while (!atomic_load(&c->stop)) {
        struct ledger_head h;
        ledger_head(c->l, &h);
        uint8_t hash[32];
        if (ledger_block_hash(c->l, h.number, hash) != 0 || memcmp(hash, h.hash, 32) != 0 ||
            ledger_block_tx_hashes(c->l, h.number, &hashes) != 0) {
            atomic_fetch_add(&c->errors, 1);
            continue;
        }
        for (size_t i = 0; i < hashes.len / 32; i++) {
            struct ledger_receipt r;
            if (ledger_receipt(c->l, hashes.ptr + 32 * i, &r) != 0 ||
                r.loc.block_number != h.number)
                atomic_fetch_add(&c->errors, 1);
            ledger_receipt_free(&r);
        }
        atomic_fetch_add(&c->reads, 1);
    }
    bytes_free(&hashes);
    return NULL;
}

static void test_readers_during_apply_see_whole_blocks(void **state)
{
    struct fixture *f = *state;
    open_all(f);
    struct reader_ctx c = { .l = f->l };
    atomic_init(&c.stop, false);
    atomic_init(&c.reads, 0);
    atomic_init(&c.errors, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, reader_main, &c), 0);
    apply_blocks(f, 20, 12, NULL, NULL);
    atomic_store(&c.stop, true);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(atomic_load(&c.errors), 0);
    assert_true(atomic_load(&c.reads) > 0);
}

/* ---- logs ---- */

static bool filter_matches(const struct ledger_log_filter *flt, const struct log *lg)
{
    if (flt->address_count) {
        bool any = false;
        for (size_t i = 0; i < flt->address_count; i++)
            any |= memcmp(flt->addresses[i], lg->address, 20) == 0;
        if (!any)
            return false;
    }
    for (size_t t = 0; t < LOG_MAX_TOPICS; t++) {
        if (!flt->topic_counts[t])
            continue;
        if (t >= lg->topic_count)
            return false;
        bool any = false;
        for (size_t i = 0; i < flt->topic_counts[t]; i++)
            any |= memcmp(flt->topics[t][i], lg->topics[t], 32) == 0;
        if (!any)
            return false;
    }
    return true;
}

#define LOG_BLOCKS 12

static void test_logs_match_a_brute_force_scan(void **state)
{
    struct fixture *f = *state;
    open_all(f);
    struct lfx_block blocks[LOG_BLOCKS];
    apply_blocks(f, LOG_BLOCKS, 15, NULL, blocks);
    struct rng r;
    rng_seed(&r, test_seed + 2);
    size_t nonempty = 0;
    for (int q = 0; q < 200; q++) {
        uint8_t addrs[3][20], topics[LOG_MAX_TOPICS][2][32];
        struct ledger_log_filter flt;
        memset(&flt, 0, sizeof(flt));
        flt.from_block = rng_below(&r, LOG_BLOCKS + 2);
        flt.to_block = flt.from_block + rng_below(&r, LOG_BLOCKS + 2);
        flt.address_count = rng_below(&r, 3);
        for (size_t i = 0; i < flt.address_count; i++)
            lfx_contract_addr(rng_below(&r, LFX_CONTRACTS + 1), addrs[i]);
        flt.addresses = (const uint8_t(*)[20])addrs;
        for (size_t t = 0; t < LOG_MAX_TOPICS; t++) {
            flt.topic_counts[t] = rng_below(&r, 4) == 0 ? 1 + rng_below(&r, 2) : 0;
            for (size_t i = 0; i < flt.topic_counts[t]; i++)
                lfx_topic(rng_below(&r, LFX_TOPICS), topics[t][i]);
            flt.topics[t] = (const uint8_t(*)[32])topics[t];
        }
        struct ledger_logs got;
        assert_int_equal(ledger_logs(f->l, &flt, &got), TC_OK);
        size_t k = 0;
        for (size_t bi = 0; bi < LOG_BLOCKS; bi++) {
            const struct lfx_block *b = &blocks[bi];
            if (b->number < flt.from_block || b->number > flt.to_block)
                continue;
            uint32_t log_index = 0;
            for (size_t i = 0; i < b->n; i++)
                for (size_t j = 0; j < b->receipts[i].log_count; j++, log_index++) {
                    const struct log *lg = &b->receipts[i].logs[j];
                    if (!filter_matches(&flt, lg))
                        continue;
                    assert_true(k < got.count);
                    const struct ledger_log *g = &got.logs[k++];
                    assert_int_equal(g->block_number, b->number);
                    assert_memory_equal(g->block_hash, b->hash, 32);
                    assert_int_equal(g->tx_index, i);
                    assert_int_equal(g->log_index, log_index);
                    assert_memory_equal(g->address, lg->address, 20);
                    assert_int_equal(g->topic_count, lg->topic_count);
                    assert_memory_equal(g->topics, lg->topics, 32 * lg->topic_count);
                    assert_int_equal(g->data.len, lg->data.len);
                    if (lg->data.len)
                        assert_memory_equal(g->data.ptr, lg->data.ptr, lg->data.len);
                    uint8_t th[32];
                    keccak256(b->txs[i].ptr, b->txs[i].len, th);
                    assert_memory_equal(g->tx_hash, th, 32);
                }
        }
        assert_int_equal(k, got.count);
        nonempty += got.count > 0;
        ledger_logs_free(&got);
    }
    /* The queries were not all empty (else the comparison proves little). */
    assert_true(nonempty > 20);
    for (size_t k = 0; k < LOG_BLOCKS; k++)
        lfx_free(&blocks[k]);
}

static void test_logs_queries_are_bounded(void **state)
{
    struct fixture *f = *state;
    open_all(f);
    apply_blocks(f, 6, 10, NULL, NULL);
    struct ledger_log_filter flt;
    memset(&flt, 0, sizeof(flt));
    struct ledger_logs got;

    flt.to_block = UINT64_MAX; /* cut to the head */
    assert_int_equal(ledger_logs(f->l, &flt, &got), TC_OK);
    size_t all = got.count;
    assert_true(all >= 6);
    ledger_logs_free(&got);

    flt.max_logs = all - 1;
    assert_int_equal(ledger_logs(f->l, &flt, &got), TC_ETOOBIG);
    assert_int_equal(got.count, 0);
    assert_non_null(strstr(ledger_last_error(), "logs match"));
    flt.max_logs = all;
    assert_int_equal(ledger_logs(f->l, &flt, &got), TC_OK);
    ledger_logs_free(&got);

    flt.max_blocks = 6; /* blocks 0..6 are 7 */
    assert_int_equal(ledger_logs(f->l, &flt, &got), TC_ETOOBIG);
    flt.max_blocks = 7;
    assert_int_equal(ledger_logs(f->l, &flt, &got), TC_OK);
    ledger_logs_free(&got);

    flt.from_block = 7; /* beyond the head: nothing, not an error */
    assert_int_equal(ledger_logs(f->l, &flt, &got), TC_OK);
    assert_int_equal(got.count, 0);
    ledger_logs_free(&got);

    flt.from_block = 0;
    uint8_t addr[20] = { 0 };
    flt.addresses = (const uint8_t(*)[20])addr;
    flt.address_count = LEDGER_FILTER_MAX_ADDRESSES + 1;
    assert_int_equal(ledger_logs(f->l, &flt, &got), TC_EINVAL);
    flt.address_count = 0;
    flt.topic_counts[2] = 1; /* a count without its array */
    assert_int_equal(ledger_logs(f->l, &flt, &got), TC_EINVAL);
}

/* ---- sealed ---- */

static void test_sealed_ledger_gives_the_same_chain(void **state)
{
    struct fixture *f = *state;
    open_all(f);
    struct lfx_model m = { 0 };
    model_from_genesis(f, &m);
    apply_blocks(f, 5, 6, &m, NULL);
    struct ledger_head plain;
    ledger_head(f->l, &plain);
    close_all(f);

    f->sealed = true;
    snprintf(f->db, sizeof(f->db), "%s/sealed", f->dir);
    open_all(f);
    apply_blocks(f, 5, 6, NULL, NULL);
    struct ledger_head sealed;
    ledger_head(f->l, &sealed);
    assert_int_equal(sealed.number, plain.number);
    assert_memory_equal(sealed.hash, plain.hash, 32);
    assert_memory_equal(sealed.state_root, plain.state_root, 32);
    assert_int_equal(lfx_model_mismatch(&m, f->l), 0);

    struct ledger_log_filter flt;
    memset(&flt, 0, sizeof(flt));
    flt.to_block = UINT64_MAX;
    struct ledger_logs got;
    assert_int_equal(ledger_logs(f->l, &flt, &got), TC_OK);
    assert_true(got.count > 0);
    ledger_logs_free(&got);
    lfx_model_free(&m);
}

int main(void)
{
    const char *env = getenv("TC_SEED");
    test_seed = env ? strtoull(env, NULL, 0) : rng_fresh_seed();
    printf("test_ledger seed: TC_SEED=%" PRIu64 "\n", test_seed);
    log_set_stderr(false);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_genesis_is_deterministic_and_funds_the_allocation,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_genesis_hash_follows_every_config_change_but_not_alloc_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_allocation_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_with_another_genesis_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_applied_blocks_read_back_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_is_genesis_plus_write_sets_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_state_reader_serves_the_state_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_refuses_a_block_that_does_not_extend_the_head,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_refuses_a_write_set_that_breaks_the_state_rules,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_note_applied_moves_only_the_raft_index, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_damaged_or_newer_metadata_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readers_during_apply_see_whole_blocks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_logs_match_a_brute_force_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_queries_are_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_ledger_gives_the_same_chain, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
