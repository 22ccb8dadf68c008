/* entry.c - the Raft BLOCK entry codec and its consistency checks. */
#include "chain/entry.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "codec/rlp.h"

/* Sets *reason (when asked for) and returns rc. */
static int fail(const char **reason, int rc, const char *msg)
{
    if (reason)
        *reason = msg;
    return rc;
}

/* The EIP-2718 type of a raw envelope: 0 for a legacy RLP list. */
static uint8_t envelope_type(struct bytes_view raw)
{
    return raw.ptr[0] >= 0xc0 ? 0 : raw.ptr[0];
}

int block_entry_fill_header(struct block *b, const struct receipt *rs, size_t n,
                            const struct writeset *ws, const uint8_t parent_state_root[32])
{
    struct block_header *h = &b->header;
    uint8_t digest[32];
    int rc = writeset_digest(ws, digest);
    if (rc != 0)
        return rc;
    if ((rc = block_transactions_root(b->txs, b->tx_count, h->transactions_root)) != 0)
        return rc;
    if ((rc = receipt_root(rs, n, h->receipts_root)) != 0)
        return rc;
    receipt_block_bloom(rs, n, h->logs_bloom);
    h->gas_used = n ? rs[n - 1].cumulative_gas_used : 0;
    state_root_next(parent_state_root, digest, h->state_root);
    return TC_OK;
}

int block_entry_encode(const struct block *b, const struct receipt *rs, size_t n,
                       const struct writeset *ws, struct bytes *out)
{
    if (!ws->canonical)
        return TC_ESTATE;
    if (n > BLOCK_MAX_TXS)
        return TC_ETOOBIG;
    size_t old_len = out->len;
    size_t list = rlp_list_begin(out);
    int rc = rlp_encode_u64(out, BLOCK_ENTRY_VERSION);
    if (rc == 0)
        rc = block_encode(b, out);
    size_t receipts = rlp_list_begin(out);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = receipt_encode_stored(&rs[i], out);
    if (rc == 0)
        rc = rlp_list_end(out, receipts);
    if (rc == 0)
        rc = writeset_encode(ws, out);
    if (rc == 0)
        rc = rlp_list_end(out, list);
    if (rc == 0 && out->len - old_len > BLOCK_ENTRY_MAX_BYTES)
        rc = TC_ETOOBIG;
    if (rc != 0)
        out->len = old_len;
    return rc;
}

static int decode_receipts(const struct rlp_item *list, struct block_entry *e, const char **reason)
{
    size_t count;
    int rc = rlp_list_count(list, &count);
    if (rc != 0)
        return fail(reason, rc, "entry: bad receipts list");
    if (count > BLOCK_MAX_TXS)
        return fail(reason, TC_ETOOBIG, "entry: too many receipts");
    if (count == 0)
        return TC_OK;
    e->receipts = calloc(count, sizeof(*e->receipts));
    if (!e->receipts)
        return fail(reason, TC_ENOMEM, "entry: out of memory");
    struct rlp_iter it;
    rlp_iter_init(&it, list);
    for (size_t i = 0; i < count; i++) {
        struct rlp_item item;
        if ((rc = rlp_iter_next(&it, &item)) != 0)
            return fail(reason, rc, "entry: bad receipt");
        /* Counted before decoding, so that block_entry_free() releases a partial receipt. */
        e->receipt_count = i + 1;
        if ((rc = receipt_decode_stored(item.raw, &e->receipts[i], reason)) != 0)
            return rc;
    }
    return TC_OK;
}

/* The next item of the entry list; a missing one is TC_EINVAL naming `what`. */
static int next_item(struct rlp_iter *it, struct rlp_item *item, const char **reason,
                     const char *what)
{
    int rc = rlp_iter_next(it, item);
    if (rc != 0)
        return fail(reason, rc == TC_ENOTFOUND ? TC_EINVAL : rc, what);
    return TC_OK;
}

int block_entry_decode(struct bytes_view in, struct block_entry *e, const char **reason)
{
    memset(e, 0, sizeof(*e));
    writeset_init(&e->writeset);
    if (in.len > BLOCK_ENTRY_MAX_BYTES)
        return fail(reason, TC_ETOOBIG, "entry: larger than BLOCK_ENTRY_MAX_BYTES");
    struct rlp_item list, item;
    struct rlp_iter it;
    uint64_t version;
    int rc = rlp_decode_top(in, &list);
    if (rc != 0)
        return fail(reason, rc, "entry: bad RLP");
    if (rlp_iter_init(&it, &list) != 0)
        return fail(reason, TC_EINVAL, "entry: not a list");
    if ((rc = next_item(&it, &item, reason, "entry: missing version")) != 0)
        return rc;
    if ((rc = rlp_decode_u64(&item, &version)) != 0)
        return fail(reason, rc, "entry: bad version");
    if (version != BLOCK_ENTRY_VERSION)
        return fail(reason, TC_EUNSUPPORTED, "entry: unknown version");
    if ((rc = next_item(&it, &item, reason, "entry: missing block")) != 0 ||
        (rc = block_decode_item(&item, &e->block, reason)) != 0)
        return rc;
    if ((rc = next_item(&it, &item, reason, "entry: missing receipts")) != 0 ||
        (rc = decode_receipts(&item, e, reason)) != 0)
        return rc;
    if ((rc = next_item(&it, &item, reason, "entry: missing write-set")) != 0 ||
        (rc = writeset_decode(item.raw, &e->writeset, reason)) != 0)
        return rc;
    if (rlp_iter_end(&it) != 0)
        return fail(reason, TC_EINVAL, "entry: extra fields");
    return TC_OK;
}

/* Receipt order, indices, types and the gas arithmetic. */
static int check_receipts(const struct block_entry *e, const char **reason)
{
    const struct block *b = &e->block;
    if (e->receipt_count != b->tx_count)
        return fail(reason, TC_EINVAL, "entry: receipt count differs from transaction count");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < e->receipt_count; i++) {
        const struct receipt *r = &e->receipts[i];
        if (r->tx_index != i)
            return fail(reason, TC_EINVAL, "entry: receipt txIndex is not its position");
        if (b->txs[i].len == 0)
            return fail(reason, TC_EINVAL, "entry: empty transaction");
        if (r->type != envelope_type(b->txs[i]))
            return fail(reason, TC_EINVAL, "entry: receipt type differs from its transaction's");
        if (r->gas_used == 0 || r->gas_used > UINT64_MAX - cumulative ||
            r->cumulative_gas_used != cumulative + r->gas_used)
            return fail(reason, TC_EINVAL,
                        "entry: cumulativeGasUsed does not grow by the receipt's gasUsed");
        cumulative = r->cumulative_gas_used;
    }
    if (cumulative != b->header.gas_used)
        return fail(reason, TC_EINVAL, "entry: header gasUsed differs from the last receipt's");
    return TC_OK;
}

int block_entry_check(const struct block_entry *e, const uint8_t parent_state_root[32],
                      const char **reason)
{
    const struct block_header *h = &e->block.header;
    uint8_t root[32], bloom[BLOOM_BYTES], digest[32];
    int rc = block_check(&e->block, reason);
    if (rc != 0)
        return rc;
    if ((rc = check_receipts(e, reason)) != 0)
        return rc;
    if ((rc = receipt_root(e->receipts, e->receipt_count, root)) != 0)
        return fail(reason, rc, "entry: cannot compute receiptsRoot");
    if (memcmp(root, h->receipts_root, 32) != 0)
        return fail(reason, TC_EINVAL, "entry: receiptsRoot does not match the receipts");
    receipt_block_bloom(e->receipts, e->receipt_count, bloom);
    if (memcmp(bloom, h->logs_bloom, BLOOM_BYTES) != 0)
        return fail(reason, TC_EINVAL, "entry: logsBloom does not match the receipts");
    if ((rc = writeset_digest(&e->writeset, digest)) != 0)
        return fail(reason, rc, "entry: write-set not canonical");
    state_root_next(parent_state_root, digest, root);
    if (memcmp(root, h->state_root, 32) != 0)
        return fail(reason, TC_EINVAL, "entry: stateRoot does not chain the write-set digest");
    return TC_OK;
}

void block_entry_free(struct block_entry *e)
{
    for (size_t i = 0; i < e->receipt_count; i++)
        receipt_free(&e->receipts[i]);
    free(e->receipts);
    e->receipts = NULL;
    e->receipt_count = 0;
    block_free(&e->block);
    writeset_free(&e->writeset);
}
