/* raft_mlog.c - the Raft core's in-memory log: one entry array, data in shared chunks. */
#include "consensus/raft/raft_mlog.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

struct raft_mlog_chunk {
    size_t refs; /* entries whose data points into this chunk */
    size_t cap;  /* bytes of data */
    uint8_t data[];
};

/* A chunk of at most this size is kept for reuse when released, so that a
 * steady stream of batches does not map and fault in fresh memory each time. */
#define SPARE_MAX_BYTES (16u << 20)

void raft_mlog_init(struct raft_mlog *log, uint64_t base_index, uint64_t base_term)
{
    memset(log, 0, sizeof(*log));
    log->base_index = base_index;
    log->base_term = base_term;
}

static void release(struct raft_mlog *log, struct raft_mlog_slot *slot)
{
    struct raft_mlog_chunk *c = slot->chunk;
    slot->chunk = NULL;
    if (!c || --c->refs != 0)
        return;
    if (c->cap <= SPARE_MAX_BYTES && (!log->spare || log->spare->cap < c->cap)) {
        free(log->spare);
        log->spare = c;
    } else {
        free(c);
    }
}

static void release_range(struct raft_mlog *log, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        release(log, &log->slots[i]);
}

void raft_mlog_free(struct raft_mlog *log)
{
    release_range(log, log->start, log->start + log->count);
    free(log->ents);
    free(log->slots);
    free(log->spare);
    memset(log, 0, sizeof(*log));
}

uint64_t raft_mlog_term(const struct raft_mlog *log, uint64_t index)
{
    if (index == log->base_index)
        return log->base_term;
    const struct raft_entry *e = raft_mlog_get(log, index);
    return e ? e->term : 0;
}

uint64_t raft_mlog_last_term(const struct raft_mlog *log)
{
    return raft_mlog_term(log, raft_mlog_last_index(log));
}

uint64_t raft_mlog_cum_bytes(const struct raft_mlog *log, uint64_t index)
{
    if (index <= log->base_index || log->count == 0)
        return log->base_cum_bytes;
    uint64_t last = raft_mlog_last_index(log);
    if (index > last)
        index = last;
    return log->slots[log->start + (size_t)(index - log->base_index - 1)].cum_bytes;
}

/* Makes room for n more entries at the end: slides to the front when at least
 * half the array is dead space, otherwise doubles (amortised O(1) per entry). */
static int reserve(struct raft_mlog *log, size_t n)
{
    if (log->start + log->count + n <= log->cap)
        return TC_OK;
    if (log->count + n <= log->cap / 2) {
        memmove(log->ents, log->ents + log->start, log->count * sizeof(*log->ents));
        memmove(log->slots, log->slots + log->start, log->count * sizeof(*log->slots));
        log->start = 0;
        return TC_OK;
    }
    size_t cap = log->cap ? log->cap : 64;
    while (cap < 2 * (log->count + n))
        cap *= 2;
    struct raft_entry *ents = malloc(cap * sizeof(*ents));
    struct raft_mlog_slot *slots = malloc(cap * sizeof(*slots));
    if (!ents || !slots) {
        free(ents);
        free(slots);
        return TC_ENOMEM;
    }
    if (log->count) {
        memcpy(ents, log->ents + log->start, log->count * sizeof(*ents));
        memcpy(slots, log->slots + log->start, log->count * sizeof(*slots));
    }
    free(log->ents);
    free(log->slots);
    log->ents = ents;
    log->slots = slots;
    log->start = 0;
    log->cap = cap;
    return TC_OK;
}

/* One chunk for `total` bytes shared by `n` entries; NULL when total is 0. */
static int new_chunk(struct raft_mlog *log, size_t total, size_t n, struct raft_mlog_chunk **out)
{
    *out = NULL;
    if (total == 0)
        return TC_OK;
    struct raft_mlog_chunk *c;
    if (log->spare && log->spare->cap >= total && log->spare->cap / 4 <= total) {
        c = log->spare;
        log->spare = NULL;
    } else {
        c = malloc(sizeof(*c) + total);
        if (!c)
            return TC_ENOMEM;
        c->cap = total;
    }
    c->refs = n;
    *out = c;
    return TC_OK;
}

static void push(struct raft_mlog *log, uint64_t term, uint8_t type, const void *data, uint32_t len,
                 struct raft_mlog_chunk *chunk, size_t *chunk_off)
{
    size_t pos = log->start + log->count;
    uint64_t prev_cum = raft_mlog_cum_bytes(log, raft_mlog_last_index(log));
    struct raft_entry *e = &log->ents[pos];
    e->term = term;
    e->index = raft_mlog_last_index(log) + 1;
    e->type = type;
    e->len = len;
    e->data = NULL;
    if (chunk) {
        if (len) {
            memcpy(chunk->data + *chunk_off, data, len);
            e->data = chunk->data + *chunk_off;
            *chunk_off += len;
        }
        log->slots[pos].chunk = chunk;
    } else {
        log->slots[pos].chunk = NULL;
    }
    log->slots[pos].cum_bytes = prev_cum + len;
    log->count++;
}

int raft_mlog_append(struct raft_mlog *log, const struct raft_entry *src, size_t n)
{
    if (n == 0)
        return TC_OK;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += src[i].len;
    struct raft_mlog_chunk *chunk;
    int rc = reserve(log, n);
    if (rc || (rc = new_chunk(log, total, n, &chunk)))
        return rc;
    size_t off = 0;
    for (size_t i = 0; i < n; i++)
        push(log, src[i].term, src[i].type, src[i].data, src[i].len, chunk, &off);
    return TC_OK;
}

int raft_mlog_append_views(struct raft_mlog *log, uint64_t term, uint8_t type,
                           const struct bytes_view *views, size_t n)
{
    if (n == 0)
        return TC_OK;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += views[i].len;
    struct raft_mlog_chunk *chunk;
    int rc = reserve(log, n);
    if (rc || (rc = new_chunk(log, total, n, &chunk)))
        return rc;
    size_t off = 0;
    for (size_t i = 0; i < n; i++)
        push(log, term, type, views[i].ptr, (uint32_t)views[i].len, chunk, &off);
    return TC_OK;
}

void raft_mlog_truncate_from(struct raft_mlog *log, uint64_t index)
{
    assert(index > log->base_index);
    uint64_t last = raft_mlog_last_index(log);
    if (index > last)
        return;
    size_t keep = (size_t)(index - log->base_index - 1);
    release_range(log, log->start + keep, log->start + log->count);
    log->count = keep;
}

void raft_mlog_compact_to(struct raft_mlog *log, uint64_t index)
{
    if (index <= log->base_index)
        return;
    assert(index <= raft_mlog_last_index(log));
    size_t drop = (size_t)(index - log->base_index);
    uint64_t term = raft_mlog_term(log, index);
    log->base_cum_bytes = raft_mlog_cum_bytes(log, index);
    release_range(log, log->start, log->start + drop);
    log->start += drop;
    log->count -= drop;
    log->base_index = index;
    log->base_term = term;
    if (log->count == 0)
        log->start = 0;
}

void raft_mlog_reset(struct raft_mlog *log, uint64_t index, uint64_t term)
{
    release_range(log, log->start, log->start + log->count);
    log->start = 0;
    log->count = 0;
    log->base_index = index;
    log->base_term = term;
    log->base_cum_bytes = 0;
}

uint64_t raft_mlog_first_of_term(const struct raft_mlog *log, uint64_t term, uint64_t hi)
{
    /* Terms never decrease along the log: binary search. */
    uint64_t lo = log->base_index + 1;
    uint64_t last = raft_mlog_last_index(log);
    if (hi > last)
        hi = last;
    uint64_t end = hi + 1;
    while (lo < end) {
        uint64_t mid = lo + (end - lo) / 2;
        if (raft_mlog_get(log, mid)->term >= term)
            end = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

uint64_t raft_mlog_last_at_or_below_term(const struct raft_mlog *log, uint64_t term)
{
    uint64_t lo = log->base_index + 1;
    uint64_t end = raft_mlog_last_index(log) + 1;
    while (lo < end) {
        uint64_t mid = lo + (end - lo) / 2;
        if (raft_mlog_get(log, mid)->term > term)
            end = mid;
        else
            lo = mid + 1;
    }
    return lo - 1;
}
