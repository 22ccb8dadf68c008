/*
 * sync.c - the block sync codec and the answering side. See sync.h; the
 * requesting side runs on the chain thread (chain.c).
 */
#include <string.h>

#include "base/error.h"
#include "node/sync.h"

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int sync_request_encode(const struct sync_request *r, struct bytes *out)
{
    uint8_t buf[SYNC_REQUEST_BYTES];
    buf[0] = SYNC_VERSION;
    buf[1] = SYNC_KIND_REQUEST;
    put_u64(buf + 2, r->from_number);
    put_u32(buf + 10, r->max_blocks);
    return bytes_append(out, buf, sizeof(buf));
}

int sync_frame_kind(const uint8_t *buf, size_t len, uint8_t *kind)
{
    if (len < 2)
        return TC_ETRUNCATED;
    if (buf[0] != SYNC_VERSION || (buf[1] != SYNC_KIND_REQUEST && buf[1] != SYNC_KIND_BLOCKS))
        return TC_EINVAL;
    *kind = buf[1];
    return TC_OK;
}

int sync_request_decode(const uint8_t *buf, size_t len, struct sync_request *r)
{
    uint8_t kind;
    int rc = sync_frame_kind(buf, len, &kind);
    if (rc != TC_OK)
        return rc;
    if (kind != SYNC_KIND_REQUEST)
        return TC_EINVAL;
    if (len < SYNC_REQUEST_BYTES)
        return TC_ETRUNCATED;
    if (len > SYNC_REQUEST_BYTES)
        return TC_ETRAILING;
    r->from_number = get_u64(buf + 2);
    r->max_blocks = get_u32(buf + 10);
    return r->max_blocks == 0 ? TC_EINVAL : TC_OK;
}

#define BLOCKS_HEAD_BYTES (2u + 8u + 8u + 8u + 4u)
#define BLOCK_FIXED_BYTES (8u + 8u + 4u)

int sync_blocks_decode(const uint8_t *buf, size_t len, struct sync_blocks *b)
{
    uint8_t kind;
    int rc = sync_frame_kind(buf, len, &kind);
    if (rc != TC_OK)
        return rc;
    if (kind != SYNC_KIND_BLOCKS)
        return TC_EINVAL;
    if (len > SYNC_MAX_RESPONSE_BYTES)
        return TC_ETOOBIG;
    if (len < BLOCKS_HEAD_BYTES)
        return TC_ETRUNCATED;
    b->head_number = get_u64(buf + 2);
    b->applied_index = get_u64(buf + 10);
    b->applied_term = get_u64(buf + 18);
    b->count = get_u32(buf + 26);
    if (b->count > SYNC_MAX_BLOCKS)
        return TC_ETOOBIG;
    size_t off = BLOCKS_HEAD_BYTES;
    for (uint32_t i = 0; i < b->count; i++) {
        if (len - off < BLOCK_FIXED_BYTES)
            return TC_ETRUNCATED;
        b->blocks[i].raft_index = get_u64(buf + off);
        b->blocks[i].raft_term = get_u64(buf + off + 8);
        uint32_t n = get_u32(buf + off + 16);
        off += BLOCK_FIXED_BYTES;
        if (len - off < n)
            return TC_ETRUNCATED;
        b->blocks[i].entry = bytes_view_of(buf + off, n);
        off += n;
    }
    return off == len ? TC_OK : TC_ETRAILING;
}

int sync_answer(struct ledger *l, const struct sync_request *r, struct bytes *out)
{
    bytes_clear(out);
    /* Head and applied index read so that they belong together: the applied
     * index is read before and after the head and kept only if unchanged. */
    uint64_t a1, t1, a2, t2;
    struct ledger_head head;
    ledger_raft_applied(l, &a1, &t1);
    ledger_head(l, &head);
    ledger_raft_applied(l, &a2, &t2);
    if (a1 != a2) {
        a2 = 0;
        t2 = 0;
    }
    uint8_t hdr[BLOCKS_HEAD_BYTES];
    hdr[0] = SYNC_VERSION;
    hdr[1] = SYNC_KIND_BLOCKS;
    put_u64(hdr + 2, head.number);
    put_u64(hdr + 10, a2);
    put_u64(hdr + 18, t2);
    put_u32(hdr + 26, 0);
    int rc = bytes_append(out, hdr, sizeof(hdr));
    uint32_t max = r->max_blocks < SYNC_MAX_BLOCKS ? r->max_blocks : SYNC_MAX_BLOCKS;
    uint32_t count = 0;
    struct bytes entry;
    bytes_init(&entry);
    for (uint64_t n = r->from_number; rc == TC_OK && count < max && n <= head.number && n != 0;
         n++) {
        uint64_t index, term;
        if ((rc = ledger_block_raft(l, n, &index, &term)) ||
            (rc = ledger_block_entry(l, n, &entry)))
            break;
        if (count > 0 && out->len + BLOCK_FIXED_BYTES + entry.len > SYNC_MAX_RESPONSE_BYTES)
            break;
        if (BLOCK_FIXED_BYTES + entry.len > SYNC_MAX_RESPONSE_BYTES - BLOCKS_HEAD_BYTES) {
            rc = TC_ETOOBIG;
            break;
        }
        uint8_t fixed[BLOCK_FIXED_BYTES];
        put_u64(fixed, index);
        put_u64(fixed + 8, term);
        put_u32(fixed + 16, (uint32_t)entry.len);
        if ((rc = bytes_append(out, fixed, sizeof(fixed))) ||
            (rc = bytes_append(out, entry.ptr, entry.len)))
            break;
        count++;
    }
    bytes_free(&entry);
    if (rc == TC_OK)
        put_u32(out->ptr + 26, count);
    return rc;
}
