/*
 * ledger.c - opening the ledger (schema version, genesis check, cached
 * metadata), building the genesis block from config.genesis, and applying a
 * block or a non-block Raft entry as one synced store batch.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "codec/rlp.h"
#include "crypto/keccak.h"
#include "store/ledger_impl.h"

#define ERROR_MAX 512

static _Thread_local char last_error[ERROR_MAX];

/* Domain tag of the genesis configuration encoding hashed into extraData. */
#define GENESIS_CONFIG_TAG     "teechain genesis config"
#define GENESIS_CONFIG_VERSION 1

int ledger_fail(int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
    return rc;
}

void ledger_clear_error(void)
{
    last_error[0] = '\0';
}

const char *ledger_last_error(void)
{
    return last_error;
}

/* ---- genesis ---- */

static int cmp_alloc_ptr(const void *a, const void *b)
{
    const struct genesis_alloc *x = *(const struct genesis_alloc *const *)a;
    const struct genesis_alloc *y = *(const struct genesis_alloc *const *)b;
    return memcmp(x->address, y->address, 20);
}

static int encode_nodes(struct bytes *out, const struct genesis_node *nodes, size_t n)
{
    size_t mark = rlp_list_begin(out);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t item = rlp_list_begin(out);
        if ((rc = rlp_encode_bytes(out, nodes[i].id, NODE_ID_BYTES)) == 0 &&
            (rc = rlp_encode_u64(out, nodes[i].weight)) == 0)
            rc = rlp_list_end(out, item);
    }
    return rc ? rc : rlp_list_end(out, mark);
}

/*
 * keccak256 of rlp([tag, version, every field of config.genesis]) with the
 * allocations in address order (`sorted`), so that every difference between
 * two configurations changes the genesis block.
 */
static int genesis_config_hash(const struct genesis_config *g,
                               const struct genesis_alloc *const *sorted, uint8_t hash[32])
{
    struct bytes out;
    bytes_init(&out);
    size_t top = rlp_list_begin(&out);
    int rc = 0;
    if ((rc = rlp_encode_bytes(&out, GENESIS_CONFIG_TAG, strlen(GENESIS_CONFIG_TAG))) ||
        (rc = rlp_encode_u64(&out, GENESIS_CONFIG_VERSION)) ||
        (rc = rlp_encode_u64(&out, g->chain_id)) ||
        (rc = rlp_encode_bytes(&out, g->group_id, strnlen(g->group_id, sizeof(g->group_id)))) ||
        (rc = rlp_encode_u64(&out, (uint64_t)g->consensus)) ||
        (rc = rlp_encode_u64(&out, g->block_tx_count_limit)) ||
        (rc = rlp_encode_u64(&out, g->min_seal_time_ms)) ||
        (rc = rlp_encode_u64(&out, g->election_timeout_ms)) ||
        (rc = rlp_encode_u64(&out, g->heartbeat_ms)) ||
        (rc = encode_nodes(&out, g->sealers, g->sealer_count)) ||
        (rc = encode_nodes(&out, g->observers, g->observer_count)) ||
        (rc = rlp_encode_u64(&out, g->tx_gas_limit)) ||
        (rc = rlp_encode_u64(&out, g->block_gas_limit)) ||
        (rc = rlp_encode_u256(&out, g->gas_price)))
        goto out_free;
    size_t allocs = rlp_list_begin(&out);
    for (size_t i = 0; i < g->alloc_count; i++) {
        size_t item = rlp_list_begin(&out);
        if ((rc = rlp_encode_bytes(&out, sorted[i]->address, 20)) ||
            (rc = rlp_encode_u256(&out, sorted[i]->balance)) || (rc = rlp_list_end(&out, item)))
            goto out_free;
    }
    if ((rc = rlp_list_end(&out, allocs)) || (rc = rlp_encode_u64(&out, g->tee_allow_virtual)))
        goto out_free;
    size_t measures = rlp_list_begin(&out);
    for (size_t i = 0; i < g->measurement_count; i++)
        if ((rc = rlp_encode_bytes(&out, g->measurements[i], 32)))
            goto out_free;
    if ((rc = rlp_list_end(&out, measures)) || (rc = rlp_encode_u64(&out, g->timestamp_ms)) ||
        (rc = rlp_list_end(&out, top)))
        goto out_free;
    keccak256(out.ptr, out.len, hash);
out_free:
    bytes_free(&out);
    return rc;
}

/* The genesis write-set (one account per allocation) and header, built from g. */
static int genesis_build(const struct genesis_config *g, struct block *b, struct writeset *ws)
{
    if (g->alloc_count > CONFIG_MAX_ALLOC || (g->alloc_count && !g->alloc) ||
        g->sealer_count > CONFIG_MAX_SEALERS || g->observer_count > CONFIG_MAX_SEALERS ||
        g->measurement_count > CONFIG_MAX_MEASURE)
        return ledger_fail(TC_EINVAL, "genesis: configuration out of bounds");
    const struct genesis_alloc **sorted =
        calloc(g->alloc_count ? g->alloc_count : 1, sizeof(*sorted));
    if (!sorted)
        return ledger_fail(TC_ENOMEM, "genesis: out of memory");
    for (size_t i = 0; i < g->alloc_count; i++)
        sorted[i] = &g->alloc[i];
    qsort(sorted, g->alloc_count, sizeof(*sorted), cmp_alloc_ptr);
    int rc = 0;
    for (size_t i = 1; i < g->alloc_count; i++)
        if (memcmp(sorted[i]->address, sorted[i - 1]->address, 20) == 0) {
            rc = ledger_fail(TC_EINVAL, "genesis: an address is allocated twice");
            goto out_free_sorted;
        }

    struct bytes acct;
    bytes_init(&acct);
    for (size_t i = 0; i < g->alloc_count; i++) {
        struct state_account a;
        memset(&a, 0, sizeof(a));
        a.balance = sorted[i]->balance;
        memcpy(a.code_hash, STATE_EMPTY_CODE_HASH, 32);
        bytes_clear(&acct);
        if ((rc = state_account_encode(&a, &acct)) ||
            (rc = writeset_put(ws, WRITESET_NS_ACCOUNT, sorted[i]->address, 20, acct.ptr,
                               acct.len))) {
            bytes_free(&acct);
            ledger_fail(rc, "genesis: cannot build the allocation write-set");
            goto out_free_sorted;
        }
    }
    bytes_free(&acct);
    writeset_canonicalize(ws);

    struct block_header *h = &b->header;
    block_header_init(h);
    h->gas_limit = g->block_gas_limit;
    h->timestamp = g->timestamp_ms / 1000;
    h->extra_data_len = 32;
    if ((rc = genesis_config_hash(g, sorted, h->extra_data)) ||
        (rc = block_transactions_root(NULL, 0, h->transactions_root)) ||
        (rc = receipt_root(NULL, 0, h->receipts_root))) {
        ledger_fail(rc, "genesis: cannot build the header");
        goto out_free_sorted;
    }
    uint8_t digest[32];
    if ((rc = writeset_digest(ws, digest))) {
        ledger_fail(rc, "genesis: cannot digest the write-set");
        goto out_free_sorted;
    }
    state_root_genesis(digest, h->state_root);
out_free_sorted:
    free(sorted);
    return rc;
}

int ledger_genesis_block(const struct genesis_config *g, uint8_t hash[32], struct bytes *block_out)
{
    struct block b;
    memset(&b, 0, sizeof(b));
    struct writeset ws;
    writeset_init(&ws);
    int rc = genesis_build(g, &b, &ws);
    if (rc == 0)
        rc = block_header_hash(&b.header, hash);
    if (rc == 0 && block_out)
        rc = block_encode(&b, block_out);
    writeset_free(&ws);
    return rc;
}

/* ---- the batch of one block ---- */

/*
 * The non-zero slots of the account whose storage entries are being added
 * (the write-set is canonical, checked by its digest, so it lists each
 * account's slots together): the change of its count in the state
 * namespace's 0x03 record (see ledger.h).
 */
struct slot_run {
    bool open;
    uint8_t address[20];
    int64_t delta;
};

/* Whether the committed state holds the storage record key (53 bytes). */
static int slot_exists(struct store *s, const uint8_t *key, bool *exists)
{
    struct bytes v;
    bytes_init(&v);
    int rc = store_get(s, STORE_NS_STATE, key, 53, &v);
    bytes_free(&v);
    *exists = rc == 0;
    if (rc == TC_ENOTFOUND)
        return 0;
    return rc ? ledger_fail(rc, "write-set: %s", store_last_error()) : 0;
}

/* Adds the finished run's new slot count (a deletion when it drops to 0). */
static int put_slot_count(struct store *s, struct store_batch *b, struct slot_run *run)
{
    if (!run->open || run->delta == 0) {
        run->open = false;
        return 0;
    }
    run->open = false;
    uint8_t key[21], rec[8];
    key[0] = LEDGER_STATE_SLOTS;
    memcpy(key + 1, run->address, 20);
    struct bytes v;
    bytes_init(&v);
    int rc = store_get(s, STORE_NS_STATE, key, sizeof(key), &v);
    uint64_t count = 0;
    if (rc == 0 && v.len == 8)
        count = ledger_get_be64(v.ptr);
    else if (rc == 0)
        rc = ledger_fail(TC_ECORRUPT, "ledger: malformed slot count record");
    else if (rc == TC_ENOTFOUND)
        rc = 0;
    else
        rc = ledger_fail(rc, "write-set: %s", store_last_error());
    bytes_free(&v);
    if (rc)
        return rc;
    if (run->delta < 0 && (uint64_t)-run->delta > count)
        return ledger_fail(TC_ECORRUPT, "ledger: slot count record below the slots deleted");
    count = run->delta < 0 ? count - (uint64_t)-run->delta : count + (uint64_t)run->delta;
    ledger_put_be64(rec, count);
    rc = count == 0 ? store_batch_del(b, STORE_NS_STATE, key, sizeof(key))
                    : store_batch_put(b, STORE_NS_STATE, key, sizeof(key), rec, sizeof(rec));
    return rc ? ledger_fail(rc, "write-set: %s", store_last_error()) : 0;
}

/* Counts a storage entry (key: 0x02 || address || slot) into run. */
static int count_slot(struct store *s, struct store_batch *b, struct slot_run *run,
                      const uint8_t *key, bool deleted)
{
    int rc;
    if (run->open && memcmp(run->address, key + 1, 20) != 0 && (rc = put_slot_count(s, b, run)))
        return rc;
    if (!run->open) {
        run->open = true;
        memcpy(run->address, key + 1, 20);
        run->delta = 0;
    }
    bool exists;
    if ((rc = slot_exists(s, key, &exists)))
        return rc;
    if (!deleted && !exists)
        run->delta++;
    else if (deleted && exists)
        run->delta--;
    return 0;
}

/* Adds the write-set's effect on the state and code namespaces, checking
 * each entry against state.h's rules, and keeps the per-account slot counts. */
static int put_writeset_effects(struct store *s, struct store_batch *b, const struct writeset *ws)
{
    size_t n = writeset_count(ws);
    struct state_account acct;
    uint8_t key[1 + 52];
    struct slot_run run = { .open = false };
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct writeset_item it;
        writeset_get(ws, i, &it);
        switch (it.ns) {
        case WRITESET_NS_ACCOUNT:
            if (it.key.len != 20)
                return ledger_fail(TC_EINVAL, "write-set: account key is not 20 bytes");
            if (!it.deleted && state_account_decode(it.value, &acct) != 0)
                return ledger_fail(TC_EINVAL, "write-set: malformed account value");
            break;
        case WRITESET_NS_STORAGE:
            if (it.key.len != 52)
                return ledger_fail(TC_EINVAL, "write-set: storage key is not 52 bytes");
            if (!it.deleted && (it.value.len == 0 || it.value.len > 32 || it.value.ptr[0] == 0))
                return ledger_fail(TC_EINVAL, "write-set: storage value not minimal and nonzero");
            break;
        case WRITESET_NS_CODE: {
            if (it.key.len != 32)
                return ledger_fail(TC_EINVAL, "write-set: code key is not 32 bytes");
            /* Code is content-addressed and immutable (state.h): never deleted. */
            if (it.deleted || it.value.len == 0)
                return ledger_fail(TC_EINVAL, "write-set: code deleted or empty");
            uint8_t h[32];
            keccak256(it.value.ptr, it.value.len, h);
            if (memcmp(h, it.key.ptr, 32) != 0)
                return ledger_fail(TC_EINVAL, "write-set: code key is not the code's hash");
            rc = store_batch_put(b, STORE_NS_CODE, it.key.ptr, it.key.len, it.value.ptr,
                                 it.value.len);
            continue;
        }
        default:
            return ledger_fail(TC_EINVAL, "write-set: unknown namespace");
        }
        key[0] = it.ns == WRITESET_NS_ACCOUNT ? LEDGER_STATE_ACCOUNT : LEDGER_STATE_STORAGE;
        memcpy(key + 1, it.key.ptr, it.key.len);
        if (it.ns == WRITESET_NS_STORAGE && (rc = count_slot(s, b, &run, key, it.deleted)))
            return rc;
        if (it.deleted)
            rc = store_batch_del(b, STORE_NS_STATE, key, 1 + it.key.len);
        else
            rc =
                store_batch_put(b, STORE_NS_STATE, key, 1 + it.key.len, it.value.ptr, it.value.len);
    }
    if (rc)
        return ledger_fail(rc, "write-set: %s", store_last_error());
    return put_slot_count(s, b, &run);
}

/* The metadata records that follow a block. */
static int put_meta(struct store_batch *b, const struct ledger_head *head, uint64_t raft_index,
                    uint64_t raft_term, uint64_t tx_count, uint64_t failed_tx_count)
{
    uint8_t rec[72];
    ledger_put_be64(rec, head->number);
    memcpy(rec + 8, head->hash, 32);
    memcpy(rec + 40, head->state_root, 32);
    int rc = store_batch_put(b, STORE_NS_META, LEDGER_META_HEAD, strlen(LEDGER_META_HEAD), rec, 72);
    ledger_put_be64(rec, raft_index);
    ledger_put_be64(rec + 8, raft_term);
    if (rc == 0)
        rc = store_batch_put(b, STORE_NS_META, LEDGER_META_APPLIED, strlen(LEDGER_META_APPLIED),
                             rec, 16);
    ledger_put_be64(rec, tx_count);
    if (rc == 0)
        rc = store_batch_put(b, STORE_NS_META, LEDGER_META_TXCOUNT, strlen(LEDGER_META_TXCOUNT),
                             rec, 8);
    ledger_put_be64(rec, failed_tx_count);
    if (rc == 0)
        rc = store_batch_put(b, STORE_NS_META, LEDGER_META_FAILED, strlen(LEDGER_META_FAILED), rec,
                             8);
    return rc;
}

/*
 * Adds every record of one block (all but the metadata) to the batch: block,
 * header, tx hashes, hash <-> number, txs, receipts, write-set and its effects.
 * scratch is reused for encodings.
 */
static int put_block(struct store *s, struct store_batch *b, const struct block *blk,
                     const uint8_t hash[32], const struct receipt *rs, size_t n,
                     const struct writeset *ws, struct bytes *scratch)
{
    uint64_t number = blk->header.number;
    uint8_t key[12];
    int rc;

    bytes_clear(scratch);
    ledger_number_key(key, LEDGER_TAG_BLOCK, number);
    if ((rc = block_encode(blk, scratch)) ||
        (rc = store_batch_put(b, STORE_NS_BLOCKS, key, 9, scratch->ptr, scratch->len)))
        return ledger_fail(rc, "block %llu: cannot store the block", (unsigned long long)number);
    bytes_clear(scratch);
    ledger_number_key(key, LEDGER_TAG_HEADER, number);
    if ((rc = block_header_encode(&blk->header, scratch)) ||
        (rc = store_batch_put(b, STORE_NS_BLOCKS, key, 9, scratch->ptr, scratch->len)))
        return ledger_fail(rc, "block %llu: cannot store the header", (unsigned long long)number);
    bytes_clear(scratch);
    ledger_number_key(key, LEDGER_TAG_WRITESET, number);
    if ((rc = writeset_encode(ws, scratch)) ||
        (rc = store_batch_put(b, STORE_NS_BLOCKS, key, 9, scratch->ptr, scratch->len)))
        return ledger_fail(rc, "block %llu: cannot store the write-set",
                           (unsigned long long)number);

    uint8_t num_be[8];
    ledger_put_be64(num_be, number);
    uint8_t hkey[33];
    hkey[0] = LEDGER_TAG_BY_HASH;
    memcpy(hkey + 1, hash, 32);
    ledger_number_key(key, LEDGER_TAG_BY_NUMBER, number);
    if ((rc = store_batch_put(b, STORE_NS_INDEXES, hkey, 33, num_be, 8)) ||
        (rc = store_batch_put(b, STORE_NS_INDEXES, key, 9, hash, 32)))
        return ledger_fail(rc, "block %llu: cannot index the block", (unsigned long long)number);

    /* Transaction hashes of the block, then each transaction and receipt. */
    struct bytes hashes;
    bytes_init(&hashes);
    if ((rc = bytes_reserve(&hashes, n ? 32 * n : 1)))
        return ledger_fail(rc, "block %llu: out of memory", (unsigned long long)number);
    uint32_t log_index = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t th[32];
        keccak256(blk->txs[i].ptr, blk->txs[i].len, th);
        bytes_append(&hashes, th, 32);
        bytes_clear(scratch);
        uint8_t head[LEDGER_TX_RECORD_HEAD];
        memcpy(head, num_be, 8);
        ledger_put_be32(head + 8, (uint32_t)i);
        ledger_put_be32(head + 12, log_index);
        log_index += (uint32_t)rs[i].log_count;
        if ((rc = bytes_append(scratch, head, sizeof(head))) ||
            (rc = bytes_append(scratch, blk->txs[i].ptr, blk->txs[i].len)) ||
            (rc = store_batch_put(b, STORE_NS_TXS, th, 32, scratch->ptr, scratch->len)))
            goto out_free_hashes;
        bytes_clear(scratch);
        ledger_receipt_key(key, number, (uint32_t)i);
        if ((rc = receipt_encode_stored(&rs[i], scratch)) ||
            (rc = store_batch_put(b, STORE_NS_RECEIPTS, key, 12, scratch->ptr, scratch->len)))
            goto out_free_hashes;
    }
    ledger_number_key(key, LEDGER_TAG_TXHASHES, number);
    if ((rc = store_batch_put(b, STORE_NS_BLOCKS, key, 9, hashes.ptr, hashes.len)))
        goto out_free_hashes;
    bytes_free(&hashes);
    return put_writeset_effects(s, b, ws);

out_free_hashes:
    bytes_free(&hashes);
    return ledger_fail(rc, "block %llu: cannot store its transactions", (unsigned long long)number);
}

/* ---- open ---- */

static int read_meta(struct store *s, const char *name, size_t want, uint8_t *out)
{
    struct bytes v;
    bytes_init(&v);
    int rc = store_get(s, STORE_NS_META, name, strlen(name), &v);
    if (rc == 0 && v.len != want)
        rc = TC_ECORRUPT;
    if (rc == 0)
        memcpy(out, v.ptr, want);
    bytes_free(&v);
    return rc;
}

static int write_genesis(struct ledger *l, const struct genesis_config *g)
{
    struct block blk;
    memset(&blk, 0, sizeof(blk));
    struct writeset ws;
    writeset_init(&ws);
    struct bytes scratch;
    bytes_init(&scratch);
    struct store_batch *b = NULL;
    int rc = genesis_build(g, &blk, &ws);
    if (rc)
        goto out_free;
    if ((rc = block_header_hash(&blk.header, l->genesis_hash)) ||
        (rc = store_batch_new(l->store, &b))) {
        ledger_fail(rc, "genesis: %s", tc_strerror(rc));
        goto out_free;
    }
    struct ledger_head head = { .number = 0 };
    memcpy(head.hash, l->genesis_hash, 32);
    memcpy(head.state_root, blk.header.state_root, 32);
    uint8_t version = LEDGER_SCHEMA_VERSION;
    if ((rc = put_block(l->store, b, &blk, l->genesis_hash, NULL, 0, &ws, &scratch)))
        goto out_free;
    if ((rc = put_meta(b, &head, 0, 0, 0, 0)) ||
        (rc = store_batch_put(b, STORE_NS_META, LEDGER_META_VERSION, strlen(LEDGER_META_VERSION),
                              &version, 1)) ||
        (rc = store_batch_put(b, STORE_NS_META, LEDGER_META_GENESIS, strlen(LEDGER_META_GENESIS),
                              l->genesis_hash, 32)) ||
        (rc = store_write(l->store, b, true))) {
        ledger_fail(rc, "genesis: cannot write: %s", store_last_error());
        goto out_free;
    }
    l->head = head;
out_free:
    store_batch_free(b);
    bytes_free(&scratch);
    writeset_free(&ws);
    return rc;
}

/* Checks the schema version and genesis of a non-empty store, loads the metadata. */
static int load_existing(struct ledger *l, const struct genesis_config *g)
{
    uint8_t version, want[32], rec[72];
    int rc = read_meta(l->store, LEDGER_META_VERSION, 1, &version);
    if (rc)
        return ledger_fail(rc == TC_ENOTFOUND ? TC_ECORRUPT : rc,
                           "ledger: schema version record missing or malformed");
    if (version > LEDGER_SCHEMA_VERSION)
        return ledger_fail(TC_EUNSUPPORTED,
                           "ledger: schema version %u is newer than this node's %u", version,
                           LEDGER_SCHEMA_VERSION);
    /* Version 1 lacks the slot counts and the failed transaction count. */
    if (version < LEDGER_SCHEMA_VERSION)
        return ledger_fail(TC_EUNSUPPORTED,
                           "ledger: schema version %u is older than this node's %u: rebuild the "
                           "node's data from its peers (a fresh data directory)",
                           version, LEDGER_SCHEMA_VERSION);
    if ((rc = read_meta(l->store, LEDGER_META_GENESIS, 32, l->genesis_hash)))
        return ledger_fail(rc, "ledger: genesis record malformed");
    if ((rc = ledger_genesis_block(g, want, NULL)))
        return rc;
    if (memcmp(want, l->genesis_hash, 32) != 0) {
        char have_hex[65], want_hex[65];
        hex_encode(l->genesis_hash, 32, have_hex);
        hex_encode(want, 32, want_hex);
        return ledger_fail(TC_EINVAL,
                           "ledger: the database holds another chain (genesis 0x%s) than "
                           "config.genesis gives (0x%s): use the config.genesis it was created "
                           "with, or a fresh data directory",
                           have_hex, want_hex);
    }
    if ((rc = read_meta(l->store, LEDGER_META_HEAD, 72, rec)))
        return ledger_fail(rc == TC_ENOTFOUND ? TC_ECORRUPT : rc, "ledger: head record missing");
    l->head.number = ledger_get_be64(rec);
    memcpy(l->head.hash, rec + 8, 32);
    memcpy(l->head.state_root, rec + 40, 32);
    if ((rc = read_meta(l->store, LEDGER_META_APPLIED, 16, rec)))
        return ledger_fail(rc == TC_ENOTFOUND ? TC_ECORRUPT : rc,
                           "ledger: applied-index record missing");
    l->applied_index = ledger_get_be64(rec);
    l->applied_term = ledger_get_be64(rec + 8);
    if ((rc = read_meta(l->store, LEDGER_META_TXCOUNT, 8, rec)))
        return ledger_fail(rc == TC_ENOTFOUND ? TC_ECORRUPT : rc,
                           "ledger: transaction count record missing");
    l->tx_count = ledger_get_be64(rec);
    if ((rc = read_meta(l->store, LEDGER_META_FAILED, 8, rec)))
        return ledger_fail(rc == TC_ENOTFOUND ? TC_ECORRUPT : rc,
                           "ledger: failed transaction count record missing");
    l->failed_tx_count = ledger_get_be64(rec);
    return 0;
}

int ledger_open(struct store *s, const struct genesis_config *g, struct ledger **out, char *err,
                size_t err_len)
{
    ledger_clear_error();
    *out = NULL;
    if (!s || !g) {
        tc_errorf(err, err_len, "ledger: no store or no genesis configuration");
        return TC_EINVAL;
    }
    struct ledger *l = calloc(1, sizeof(*l));
    if (!l) {
        tc_errorf(err, err_len, "ledger: out of memory");
        return TC_ENOMEM;
    }
    l->store = s;
    pthread_mutex_init(&l->apply_lock, NULL);
    pthread_mutex_init(&l->lock, NULL);

    uint8_t probe[32];
    int rc = read_meta(s, LEDGER_META_GENESIS, 32, probe);
    if (rc == TC_ENOTFOUND) {
        struct bytes v;
        bytes_init(&v);
        /* Genesis and head are written in one batch: a head alone is damage. */
        rc = store_get(s, STORE_NS_META, LEDGER_META_HEAD, strlen(LEDGER_META_HEAD), &v);
        bytes_free(&v);
        if (rc == 0)
            rc = ledger_fail(TC_ECORRUPT, "ledger: head record without genesis record");
        else if (rc == TC_ENOTFOUND)
            rc = write_genesis(l, g);
        else
            ledger_fail(rc, "ledger: %s", store_last_error());
        if (rc == 0)
            LOG_I("ledger", "wrote the genesis block (%zu funded accounts)", g->alloc_count);
    } else if (rc == 0) {
        rc = load_existing(l, g);
    } else {
        ledger_fail(rc, "ledger: cannot read the genesis record: %s", store_last_error());
    }
    if (rc) {
        tc_errorf(err, err_len, "%s", last_error[0] ? last_error : tc_strerror(rc));
        ledger_close(l);
        return rc;
    }
    *out = l;
    return 0;
}

void ledger_close(struct ledger *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->apply_lock);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

/* ---- apply ---- */

static int check_extends_head(struct ledger *l, const struct block_entry *e, uint64_t raft_index)
{
    const struct block_header *h = &e->block.header;
    if (h->number != l->head.number + 1)
        return ledger_fail(TC_ESTATE, "apply: block number %llu does not follow the head %llu",
                           (unsigned long long)h->number, (unsigned long long)l->head.number);
    if (memcmp(h->parent_hash, l->head.hash, 32) != 0)
        return ledger_fail(TC_ESTATE, "apply: block %llu's parent hash is not the head's hash",
                           (unsigned long long)h->number);
    if (raft_index <= l->applied_index)
        return ledger_fail(TC_ESTATE, "apply: Raft index %llu not above the applied index %llu",
                           (unsigned long long)raft_index, (unsigned long long)l->applied_index);
    uint8_t digest[32], root[32];
    int rc = writeset_digest(&e->writeset, digest);
    if (rc)
        return ledger_fail(rc, "apply: write-set not canonical");
    state_root_next(l->head.state_root, digest, root);
    if (memcmp(root, h->state_root, 32) != 0)
        return ledger_fail(TC_ESTATE, "apply: block %llu's stateRoot does not chain from the head",
                           (unsigned long long)h->number);
    if (e->receipt_count != e->block.tx_count)
        return ledger_fail(TC_EINVAL, "apply: %zu receipts for %zu transactions", e->receipt_count,
                           e->block.tx_count);
    uint64_t logs = 0;
    for (size_t i = 0; i < e->receipt_count; i++)
        logs += e->receipts[i].log_count;
    if (logs > UINT32_MAX)
        return ledger_fail(TC_ETOOBIG, "apply: too many logs in one block");
    return 0;
}

int ledger_apply(struct ledger *l, const struct block_entry *e, uint64_t raft_index,
                 uint64_t raft_term)
{
    ledger_clear_error();
    if (!l || !e)
        return ledger_fail(TC_EINVAL, "apply: no ledger or no entry");
    pthread_mutex_lock(&l->apply_lock);
    struct store_batch *b = NULL;
    struct bytes scratch;
    bytes_init(&scratch);
    uint8_t hash[32];
    int rc = check_extends_head(l, e, raft_index);
    if (rc)
        goto out_unlock;
    if ((rc = block_header_hash(&e->block.header, hash))) {
        ledger_fail(rc, "apply: cannot hash the header");
        goto out_unlock;
    }
    if ((rc = store_batch_new(l->store, &b))) {
        ledger_fail(rc, "apply: out of memory");
        goto out_unlock;
    }
    struct ledger_head head = { .number = e->block.header.number };
    memcpy(head.hash, hash, 32);
    memcpy(head.state_root, e->block.header.state_root, 32);
    uint64_t tx_count = l->tx_count + e->block.tx_count;
    uint64_t failed_tx_count = l->failed_tx_count;
    for (size_t i = 0; i < e->receipt_count; i++)
        failed_tx_count += e->receipts[i].status ? 0 : 1;
    if ((rc = put_block(l->store, b, &e->block, hash, e->receipts, e->receipt_count, &e->writeset,
                        &scratch)))
        goto out_unlock;
    uint8_t raft_key[9], raft_rec[16];
    raft_key[0] = LEDGER_TAG_RAFT;
    ledger_put_be64(raft_key + 1, head.number);
    ledger_put_be64(raft_rec, raft_index);
    ledger_put_be64(raft_rec + 8, raft_term);
    if ((rc = store_batch_put(b, STORE_NS_BLOCKS, raft_key, sizeof(raft_key), raft_rec,
                              sizeof(raft_rec)))) {
        ledger_fail(rc, "apply: out of memory");
        goto out_unlock;
    }
    if ((rc = put_meta(b, &head, raft_index, raft_term, tx_count, failed_tx_count)) ||
        (rc = store_write(l->store, b, true))) {
        ledger_fail(rc, "apply: block %llu not written: %s", (unsigned long long)head.number,
                    store_last_error());
        goto out_unlock;
    }
    pthread_mutex_lock(&l->lock);
    l->head = head;
    l->applied_index = raft_index;
    l->applied_term = raft_term;
    l->tx_count = tx_count;
    l->failed_tx_count = failed_tx_count;
    pthread_mutex_unlock(&l->lock);
out_unlock:
    store_batch_free(b);
    bytes_free(&scratch);
    pthread_mutex_unlock(&l->apply_lock);
    return rc;
}

int ledger_note_applied(struct ledger *l, uint64_t raft_index, uint64_t raft_term)
{
    ledger_clear_error();
    if (!l)
        return ledger_fail(TC_EINVAL, "note applied: no ledger");
    pthread_mutex_lock(&l->apply_lock);
    struct store_batch *b = NULL;
    int rc = 0;
    if (raft_index <= l->applied_index) {
        rc = ledger_fail(TC_ESTATE, "note applied: Raft index %llu not above the applied %llu",
                         (unsigned long long)raft_index, (unsigned long long)l->applied_index);
        goto out_unlock;
    }
    uint8_t rec[16];
    ledger_put_be64(rec, raft_index);
    ledger_put_be64(rec + 8, raft_term);
    if ((rc = store_batch_new(l->store, &b)) ||
        (rc = store_batch_put(b, STORE_NS_META, LEDGER_META_APPLIED, strlen(LEDGER_META_APPLIED),
                              rec, 16)) ||
        (rc = store_write(l->store, b, true))) {
        ledger_fail(rc, "note applied: %s", store_last_error());
        goto out_unlock;
    }
    pthread_mutex_lock(&l->lock);
    l->applied_index = raft_index;
    l->applied_term = raft_term;
    pthread_mutex_unlock(&l->lock);
out_unlock:
    store_batch_free(b);
    pthread_mutex_unlock(&l->apply_lock);
    return rc;
}

void ledger_head(struct ledger *l, struct ledger_head *out)
{
    pthread_mutex_lock(&l->lock);
    *out = l->head;
    pthread_mutex_unlock(&l->lock);
}

void ledger_raft_applied(struct ledger *l, uint64_t *index, uint64_t *term)
{
    pthread_mutex_lock(&l->lock);
    *index = l->applied_index;
    *term = l->applied_term;
    pthread_mutex_unlock(&l->lock);
}

uint64_t ledger_tx_count(struct ledger *l)
{
    pthread_mutex_lock(&l->lock);
    uint64_t n = l->tx_count;
    pthread_mutex_unlock(&l->lock);
    return n;
}

uint64_t ledger_failed_tx_count(struct ledger *l)
{
    pthread_mutex_lock(&l->lock);
    uint64_t n = l->failed_tx_count;
    pthread_mutex_unlock(&l->lock);
    return n;
}

void ledger_genesis_hash(struct ledger *l, uint8_t hash[32])
{
    memcpy(hash, l->genesis_hash, 32);
}
