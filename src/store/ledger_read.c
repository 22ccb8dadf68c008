/*
 * ledger_read.c - the ledger's readers: blocks, transactions, receipts,
 * committed state (and the state_reader over it), and eth_getLogs filtering
 * with the block bloom as a pre-filter. Every read is a point lookup of a
 * record of the schema in ledger.h; none relies on iteration order.
 */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "codec/rlp.h"
#include "store/ledger_impl.h"

/* A store_get that turns a failure other than "absent" into a message. */
static int get(struct ledger *l, enum store_ns ns, const void *key, size_t key_len,
               struct bytes *out)
{
    int rc = store_get(l->store, ns, key, key_len, out);
    if (rc == TC_ENOTFOUND)
        return ledger_fail(rc, "not found");
    if (rc)
        return ledger_fail(rc, "ledger read: %s", store_last_error());
    return 0;
}

static int get_block_record(struct ledger *l, uint8_t tag, uint64_t number, struct bytes *out)
{
    uint8_t key[9];
    ledger_number_key(key, tag, number);
    return get(l, STORE_NS_BLOCKS, key, sizeof(key), out);
}

int ledger_block_hash(struct ledger *l, uint64_t number, uint8_t hash[32])
{
    ledger_clear_error();
    uint8_t key[9];
    ledger_number_key(key, LEDGER_TAG_BY_NUMBER, number);
    struct bytes v;
    bytes_init(&v);
    int rc = get(l, STORE_NS_INDEXES, key, sizeof(key), &v);
    if (rc == 0 && v.len != 32)
        rc = ledger_fail(TC_ECORRUPT, "ledger: block %llu: malformed hash record",
                         (unsigned long long)number);
    if (rc == 0)
        memcpy(hash, v.ptr, 32);
    bytes_free(&v);
    return rc;
}

int ledger_block_number(struct ledger *l, const uint8_t hash[32], uint64_t *number)
{
    ledger_clear_error();
    uint8_t key[33];
    key[0] = LEDGER_TAG_BY_HASH;
    memcpy(key + 1, hash, 32);
    struct bytes v;
    bytes_init(&v);
    int rc = get(l, STORE_NS_INDEXES, key, sizeof(key), &v);
    if (rc == 0 && v.len != 8)
        rc = ledger_fail(TC_ECORRUPT, "ledger: malformed block number record");
    if (rc == 0)
        *number = ledger_get_be64(v.ptr);
    bytes_free(&v);
    return rc;
}

int ledger_block_header(struct ledger *l, uint64_t number, struct block_header *h)
{
    ledger_clear_error();
    struct bytes v;
    bytes_init(&v);
    int rc = get_block_record(l, LEDGER_TAG_HEADER, number, &v);
    const char *reason = NULL;
    if (rc == 0 && block_header_decode(bytes_as_view(&v), h, &reason) != 0)
        rc = ledger_fail(TC_ECORRUPT, "ledger: block %llu: stored header: %s",
                         (unsigned long long)number, reason ? reason : "malformed");
    bytes_free(&v);
    return rc;
}

int ledger_block_tx_hashes(struct ledger *l, uint64_t number, struct bytes *out)
{
    ledger_clear_error();
    int rc = get_block_record(l, LEDGER_TAG_TXHASHES, number, out);
    if (rc == 0 && out->len % 32 != 0)
        rc = ledger_fail(TC_ECORRUPT, "ledger: block %llu: malformed tx hash list",
                         (unsigned long long)number);
    return rc;
}

int ledger_block_encoded(struct ledger *l, uint64_t number, struct bytes *out)
{
    ledger_clear_error();
    return get_block_record(l, LEDGER_TAG_BLOCK, number, out);
}

int ledger_block_raft(struct ledger *l, uint64_t number, uint64_t *index, uint64_t *term)
{
    ledger_clear_error();
    if (number == 0) {
        *index = 0;
        *term = 0;
        return TC_OK;
    }
    struct bytes v;
    bytes_init(&v);
    int rc = get_block_record(l, LEDGER_TAG_RAFT, number, &v);
    if (rc == 0 && v.len != 16)
        rc = ledger_fail(TC_ECORRUPT, "ledger: block %llu: malformed Raft record",
                         (unsigned long long)number);
    if (rc == 0) {
        *index = ledger_get_be64(v.ptr);
        *term = ledger_get_be64(v.ptr + 8);
    }
    bytes_free(&v);
    return rc;
}

int ledger_block_writeset(struct ledger *l, uint64_t number, struct bytes *out)
{
    ledger_clear_error();
    return get_block_record(l, LEDGER_TAG_WRITESET, number, out);
}

static int get_receipt_raw(struct ledger *l, uint64_t number, uint32_t index, struct bytes *out)
{
    uint8_t key[12];
    ledger_receipt_key(key, number, index);
    int rc = get(l, STORE_NS_RECEIPTS, key, sizeof(key), out);
    if (rc == TC_ENOTFOUND)
        rc = ledger_fail(TC_ECORRUPT, "ledger: block %llu: receipt %u missing",
                         (unsigned long long)number, index);
    return rc;
}

int ledger_block_entry(struct ledger *l, uint64_t number, struct bytes *out)
{
    ledger_clear_error();
    struct bytes blk, ws, hashes, rec;
    bytes_init(&blk);
    bytes_init(&ws);
    bytes_init(&hashes);
    bytes_init(&rec);
    bytes_clear(out);
    int rc;
    if ((rc = get_block_record(l, LEDGER_TAG_BLOCK, number, &blk)) ||
        (rc = get_block_record(l, LEDGER_TAG_WRITESET, number, &ws)) ||
        (rc = ledger_block_tx_hashes(l, number, &hashes)))
        goto out_free;
    size_t top = rlp_list_begin(out);
    if ((rc = rlp_encode_u64(out, BLOCK_ENTRY_VERSION)) ||
        (rc = rlp_encode_raw(out, blk.ptr, blk.len)))
        goto out_free;
    size_t receipts = rlp_list_begin(out);
    for (size_t i = 0; i < hashes.len / 32; i++) {
        if ((rc = get_receipt_raw(l, number, (uint32_t)i, &rec)) ||
            (rc = rlp_encode_raw(out, rec.ptr, rec.len)))
            goto out_free;
    }
    if ((rc = rlp_list_end(out, receipts)) || (rc = rlp_encode_raw(out, ws.ptr, ws.len)) ||
        (rc = rlp_list_end(out, top)))
        goto out_free;
out_free:
    if (rc)
        bytes_clear(out);
    bytes_free(&blk);
    bytes_free(&ws);
    bytes_free(&hashes);
    bytes_free(&rec);
    return rc;
}

/* ---- transactions and receipts ---- */

/* Reads the transactions record of tx_hash into v and fills loc from it. */
static int get_tx_record(struct ledger *l, const uint8_t tx_hash[32], struct bytes *v,
                         struct ledger_tx_location *loc)
{
    int rc = get(l, STORE_NS_TXS, tx_hash, 32, v);
    if (rc)
        return rc;
    if (v->len <= LEDGER_TX_RECORD_HEAD)
        return ledger_fail(TC_ECORRUPT, "ledger: malformed transaction record");
    loc->block_number = ledger_get_be64(v->ptr);
    loc->tx_index = ledger_get_be32(v->ptr + 8);
    loc->first_log_index = ledger_get_be32(v->ptr + 12);
    rc = ledger_block_hash(l, loc->block_number, loc->block_hash);
    if (rc == TC_ENOTFOUND)
        rc = ledger_fail(TC_ECORRUPT, "ledger: transaction of a block that is not indexed");
    return rc;
}

int ledger_tx(struct ledger *l, const uint8_t tx_hash[32], struct bytes *raw,
              struct ledger_tx_location *loc)
{
    ledger_clear_error();
    struct bytes v;
    bytes_init(&v);
    bytes_clear(raw);
    int rc = get_tx_record(l, tx_hash, &v, loc);
    if (rc == 0 &&
        (rc = bytes_append(raw, v.ptr + LEDGER_TX_RECORD_HEAD, v.len - LEDGER_TX_RECORD_HEAD)))
        ledger_fail(rc, "ledger: out of memory");
    bytes_free(&v);
    return rc;
}

int ledger_receipt(struct ledger *l, const uint8_t tx_hash[32], struct ledger_receipt *out)
{
    ledger_clear_error();
    memset(out, 0, sizeof(*out));
    bytes_init(&out->buf);
    memcpy(out->tx_hash, tx_hash, 32);
    struct bytes v;
    bytes_init(&v);
    int rc = get_tx_record(l, tx_hash, &v, &out->loc);
    bytes_free(&v);
    if (rc)
        return rc;
    if ((rc = get_receipt_raw(l, out->loc.block_number, out->loc.tx_index, &out->buf)))
        return rc;
    const char *reason = NULL;
    if (receipt_decode_stored(bytes_as_view(&out->buf), &out->receipt, &reason) != 0)
        return ledger_fail(TC_ECORRUPT, "ledger: stored receipt: %s",
                           reason ? reason : "malformed");
    return 0;
}

void ledger_receipt_free(struct ledger_receipt *r)
{
    receipt_free(&r->receipt);
    bytes_free(&r->buf);
}

/* ---- committed state ---- */

int ledger_account(struct ledger *l, const uint8_t address[20], struct state_account *out,
                   bool *exists)
{
    ledger_clear_error();
    uint8_t key[21];
    key[0] = LEDGER_STATE_ACCOUNT;
    memcpy(key + 1, address, 20);
    memset(out, 0, sizeof(*out));
    memcpy(out->code_hash, STATE_EMPTY_CODE_HASH, 32);
    *exists = false;
    struct bytes v;
    bytes_init(&v);
    int rc = get(l, STORE_NS_STATE, key, sizeof(key), &v);
    if (rc == 0) {
        if (state_account_decode(bytes_as_view(&v), out) != 0) {
            memset(out, 0, sizeof(*out));
            memcpy(out->code_hash, STATE_EMPTY_CODE_HASH, 32);
            rc = ledger_fail(TC_ECORRUPT, "ledger: malformed account record");
        } else {
            *exists = true;
        }
    } else if (rc == TC_ENOTFOUND) {
        rc = 0;
        ledger_clear_error();
    }
    bytes_free(&v);
    return rc;
}

int ledger_storage(struct ledger *l, const uint8_t address[20], const uint8_t slot[32], u256 *out)
{
    ledger_clear_error();
    uint8_t key[53];
    key[0] = LEDGER_STATE_STORAGE;
    memcpy(key + 1, address, 20);
    memcpy(key + 21, slot, 32);
    *out = u256_zero();
    struct bytes v;
    bytes_init(&v);
    int rc = get(l, STORE_NS_STATE, key, sizeof(key), &v);
    if (rc == 0) {
        if (v.len == 0 || v.len > 32)
            rc = ledger_fail(TC_ECORRUPT, "ledger: malformed storage record");
        else
            *out = u256_from_be_bytes(v.ptr, v.len);
    } else if (rc == TC_ENOTFOUND) {
        rc = 0;
        ledger_clear_error();
    }
    bytes_free(&v);
    return rc;
}

int ledger_has_storage(struct ledger *l, const uint8_t address[20], bool *out)
{
    ledger_clear_error();
    uint8_t key[21];
    key[0] = LEDGER_STATE_SLOTS;
    memcpy(key + 1, address, 20);
    *out = false;
    struct bytes v;
    bytes_init(&v);
    int rc = get(l, STORE_NS_STATE, key, sizeof(key), &v);
    if (rc == 0) {
        if (v.len != 8 || ledger_get_be64(v.ptr) == 0)
            rc = ledger_fail(TC_ECORRUPT, "ledger: malformed slot count record");
        else
            *out = true;
    } else if (rc == TC_ENOTFOUND) {
        rc = 0;
        ledger_clear_error();
    }
    bytes_free(&v);
    return rc;
}

int ledger_code(struct ledger *l, const uint8_t code_hash[32], struct bytes *out)
{
    ledger_clear_error();
    if (memcmp(code_hash, STATE_EMPTY_CODE_HASH, 32) == 0) {
        bytes_clear(out);
        return 0;
    }
    return get(l, STORE_NS_CODE, code_hash, 32, out);
}

static int reader_account(void *ctx, const uint8_t addr[20], struct state_account *out,
                          bool *exists)
{
    return ledger_account(ctx, addr, out, exists);
}

static int reader_storage(void *ctx, const uint8_t addr[20], const uint8_t slot[32], u256 *out)
{
    return ledger_storage(ctx, addr, slot, out);
}

/* state_reader's code callback appends, where ledger_code replaces. */
static int reader_code(void *ctx, const uint8_t hash[32], struct bytes *out)
{
    struct bytes v;
    bytes_init(&v);
    int rc = ledger_code(ctx, hash, &v);
    if (rc == 0 && (rc = bytes_append(out, v.ptr, v.len)))
        ledger_fail(rc, "ledger: out of memory");
    bytes_free(&v);
    return rc;
}

static int reader_has_storage(void *ctx, const uint8_t addr[20], bool *out)
{
    return ledger_has_storage(ctx, addr, out);
}

struct state_reader ledger_state_reader(struct ledger *l)
{
    struct state_reader r = { .account = reader_account,
                              .storage = reader_storage,
                              .code = reader_code,
                              .has_storage = reader_has_storage,
                              .ctx = l };
    return r;
}

bool ledger_state_block_hash(void *ctx, uint64_t number, uint8_t hash[32])
{
    return ledger_block_hash(ctx, number, hash) == 0;
}

/* ---- logs ---- */

static bool bloom_has_any(const uint8_t bloom[BLOOM_BYTES], const uint8_t *items, size_t item_len,
                          size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (bloom_contains(bloom, items + i * item_len, item_len))
            return true;
    return false;
}

/* May the block whose bloom this is hold a matching log? */
static bool bloom_may_match(const uint8_t bloom[BLOOM_BYTES], const struct ledger_log_filter *f)
{
    if (f->address_count &&
        !bloom_has_any(bloom, (const uint8_t *)f->addresses, 20, f->address_count))
        return false;
    for (size_t t = 0; t < LOG_MAX_TOPICS; t++)
        if (f->topic_counts[t] &&
            !bloom_has_any(bloom, (const uint8_t *)f->topics[t], 32, f->topic_counts[t]))
            return false;
    return true;
}

static bool one_of(const uint8_t *item, const uint8_t *set, size_t item_len, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(item, set + i * item_len, item_len) == 0)
            return true;
    return false;
}

static bool log_matches(const struct log *lg, const struct ledger_log_filter *f)
{
    if (f->address_count &&
        !one_of(lg->address, (const uint8_t *)f->addresses, 20, f->address_count))
        return false;
    for (size_t t = 0; t < LOG_MAX_TOPICS; t++) {
        if (!f->topic_counts[t])
            continue;
        if (t >= lg->topic_count ||
            !one_of(lg->topics[t], (const uint8_t *)f->topics[t], 32, f->topic_counts[t]))
            return false;
    }
    return true;
}

/* A query in progress: the result, and where each log's data starts in
 * out->data (views are set once out->data no longer moves). */
struct scan {
    struct ledger_logs *out;
    size_t *data_offs;
    size_t max_logs;
};

/* Appends one matching log, copying its data to out->data. */
static int push_log(struct scan *sc, const struct log *lg, uint64_t number,
                    const uint8_t block_hash[32], const uint8_t tx_hash[32], uint32_t tx_index,
                    uint32_t log_index)
{
    struct ledger_logs *out = sc->out;
    if (out->count == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        struct ledger_log *grown = realloc(out->logs, cap * sizeof(*grown));
        if (!grown)
            return TC_ENOMEM;
        out->logs = grown;
        size_t *offs = realloc(sc->data_offs, cap * sizeof(*offs));
        if (!offs)
            return TC_ENOMEM;
        sc->data_offs = offs;
        out->cap = cap;
    }
    struct ledger_log *r = &out->logs[out->count];
    memcpy(r->address, lg->address, 20);
    r->topic_count = lg->topic_count;
    memcpy(r->topics, lg->topics, sizeof(r->topics));
    sc->data_offs[out->count] = out->data.len;
    r->data = bytes_view_of(NULL, lg->data.len);
    r->block_number = number;
    memcpy(r->block_hash, block_hash, 32);
    memcpy(r->tx_hash, tx_hash, 32);
    r->tx_index = tx_index;
    r->log_index = log_index;
    int rc = bytes_append(&out->data, lg->data.ptr, lg->data.len);
    if (rc == 0)
        out->count++;
    return rc;
}

/* Adds the matching logs of block `number` (whose bloom may match). */
static int scan_block(struct ledger *l, uint64_t number, const struct ledger_log_filter *f,
                      struct scan *sc)
{
    struct bytes hashes, rec;
    bytes_init(&hashes);
    bytes_init(&rec);
    uint8_t block_hash[32];
    int rc;
    if ((rc = ledger_block_hash(l, number, block_hash)) ||
        (rc = ledger_block_tx_hashes(l, number, &hashes)))
        goto out_free;
    uint32_t log_index = 0;
    for (size_t i = 0; i < hashes.len / 32; i++) {
        if ((rc = get_receipt_raw(l, number, (uint32_t)i, &rec)))
            goto out_free;
        struct receipt r;
        memset(&r, 0, sizeof(r));
        const char *reason = NULL;
        if (receipt_decode_stored(bytes_as_view(&rec), &r, &reason) != 0) {
            receipt_free(&r);
            rc = ledger_fail(TC_ECORRUPT, "ledger: block %llu: stored receipt: %s",
                             (unsigned long long)number, reason ? reason : "malformed");
            goto out_free;
        }
        for (size_t j = 0; j < r.log_count && rc == 0; j++, log_index++) {
            if (!log_matches(&r.logs[j], f))
                continue;
            if (sc->out->count == sc->max_logs)
                rc = ledger_fail(TC_ETOOBIG, "logs: more than %zu logs match", sc->max_logs);
            else if ((rc = push_log(sc, &r.logs[j], number, block_hash, hashes.ptr + 32 * i,
                                    (uint32_t)i, log_index)))
                ledger_fail(rc, "logs: out of memory");
        }
        receipt_free(&r);
        if (rc)
            goto out_free;
    }
out_free:
    bytes_free(&hashes);
    bytes_free(&rec);
    return rc;
}

static int check_filter(const struct ledger_log_filter *f)
{
    if (f->address_count > LEDGER_FILTER_MAX_ADDRESSES || (f->address_count && !f->addresses))
        return ledger_fail(TC_EINVAL, "logs: more than %u addresses, or none given",
                           LEDGER_FILTER_MAX_ADDRESSES);
    for (size_t t = 0; t < LOG_MAX_TOPICS; t++)
        if (f->topic_counts[t] > LEDGER_FILTER_MAX_TOPICS || (f->topic_counts[t] && !f->topics[t]))
            return ledger_fail(TC_EINVAL, "logs: more than %u alternatives for topic %zu",
                               LEDGER_FILTER_MAX_TOPICS, t);
    return 0;
}

int ledger_logs(struct ledger *l, const struct ledger_log_filter *f, struct ledger_logs *out)
{
    ledger_clear_error();
    memset(out, 0, sizeof(*out));
    bytes_init(&out->data);
    int rc = check_filter(f);
    if (rc)
        return rc;
    uint64_t max_blocks = f->max_blocks ? f->max_blocks : LEDGER_LOGS_DEFAULT_MAX_BLOCKS;
    size_t max_logs = f->max_logs ? f->max_logs : LEDGER_LOGS_DEFAULT_MAX_LOGS;
    struct ledger_head head;
    ledger_head(l, &head);
    uint64_t to = f->to_block < head.number ? f->to_block : head.number;
    if (f->from_block > to)
        return 0;
    if (to - f->from_block >= max_blocks)
        return ledger_fail(TC_ETOOBIG, "logs: range of more than %llu blocks",
                           (unsigned long long)max_blocks);
    struct scan sc = { .out = out, .max_logs = max_logs };
    for (uint64_t n = f->from_block; n <= to && rc == 0; n++) {
        struct block_header h;
        if ((rc = ledger_block_header(l, n, &h)))
            break;
        if (bloom_may_match(h.logs_bloom, f))
            rc = scan_block(l, n, f, &sc);
    }
    if (rc) {
        free(sc.data_offs);
        ledger_logs_free(out);
        return rc;
    }
    for (size_t i = 0; i < out->count; i++)
        if (out->logs[i].data.len)
            out->logs[i].data.ptr = out->data.ptr + sc.data_offs[i];
    free(sc.data_offs);
    return 0;
}

void ledger_logs_free(struct ledger_logs *out)
{
    free(out->logs);
    bytes_free(&out->data);
    memset(out, 0, sizeof(*out));
}
