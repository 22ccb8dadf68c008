/*
 * raft_mlog.h - the Raft core's in-memory log (private to consensus/raft).
 *
 * Holds the entries after `base_index` (the compaction point or installed
 * snapshot, whose term is base_term) in one contiguous array, so that any run
 * of entries can be handed out as a `const struct raft_entry *`. Entry data
 * lives in reference-counted chunks, one per appended batch, so that a batch
 * costs one allocation whatever its size. A running byte count per entry lets
 * the core measure the data between two indexes in O(1).
 */
#ifndef TC_CONSENSUS_RAFT_RAFT_MLOG_H
#define TC_CONSENSUS_RAFT_RAFT_MLOG_H

#include <stddef.h>
#include <stdint.h>

#include "consensus/raft/raft.h"

struct raft_mlog_chunk;

struct raft_mlog_slot {
    struct raft_mlog_chunk *chunk; /* holds the entry's data; NULL for empty data */
    uint64_t cum_bytes;            /* data bytes of all entries up to this one */
};

struct raft_mlog {
    struct raft_entry *ents;      /* ents[start .. start + count) */
    struct raft_mlog_slot *slots; /* parallel to ents */
    size_t start;
    size_t count;
    size_t cap;
    uint64_t base_index;
    uint64_t base_term;
    uint64_t base_cum_bytes;
    struct raft_mlog_chunk *spare; /* one released chunk kept for reuse */
};

void raft_mlog_init(struct raft_mlog *log, uint64_t base_index, uint64_t base_term);
void raft_mlog_free(struct raft_mlog *log);

static inline uint64_t raft_mlog_last_index(const struct raft_mlog *log)
{
    return log->base_index + log->count;
}

/* Entry at index, or NULL outside (base_index, last]. */
static inline struct raft_entry *raft_mlog_get(const struct raft_mlog *log, uint64_t index)
{
    if (index <= log->base_index || index > raft_mlog_last_index(log))
        return NULL;
    return &log->ents[log->start + (size_t)(index - log->base_index - 1)];
}

/* Term at index: base_term at base_index, 0 where unknown. */
uint64_t raft_mlog_term(const struct raft_mlog *log, uint64_t index);
uint64_t raft_mlog_last_term(const struct raft_mlog *log);
/* Data bytes of the entries in (base_index, index]; index is clamped into the log. */
uint64_t raft_mlog_cum_bytes(const struct raft_mlog *log, uint64_t index);

/*
 * Appends n entries after the last one, copying their data into one new
 * chunk. Entries get indexes last+1 ... and the given terms and types.
 * TC_ENOMEM (log unchanged).
 */
int raft_mlog_append(struct raft_mlog *log, const struct raft_entry *src, size_t n);
/* As raft_mlog_append, for n blocks of one term and type. */
int raft_mlog_append_views(struct raft_mlog *log, uint64_t term, uint8_t type,
                           const struct bytes_view *views, size_t n);
/* Drops every entry with index >= index (index > base_index). */
void raft_mlog_truncate_from(struct raft_mlog *log, uint64_t index);
/* Drops every entry with index <= index (index <= last); the base moves there. */
void raft_mlog_compact_to(struct raft_mlog *log, uint64_t index);
/* Drops everything; the log restarts after (index, term). */
void raft_mlog_reset(struct raft_mlog *log, uint64_t index, uint64_t term);

/* Index of the first entry with term >= term within (base_index, hi], or hi + 1. */
uint64_t raft_mlog_first_of_term(const struct raft_mlog *log, uint64_t term, uint64_t hi);
/* Index of the last entry with term <= term, or base_index if none in memory. */
uint64_t raft_mlog_last_at_or_below_term(const struct raft_mlog *log, uint64_t term);

#endif
