/*
 * logstore.h - the durable Raft log: append-only segment files plus the hard
 * state (term, vote, a small opaque blob), in one directory.
 *
 * The store knows nothing of Raft beyond "entries have an index and a term,
 * indexes are contiguous and terms never decrease": the node glues it to the
 * pure core (raft.h). Payloads are opaque bytes; a confidential-mode wrapper
 * may encrypt them before they get here.
 *
 * Use:
 *     struct logstore *ls;
 *     char err[256];
 *     if (logstore_open(dir, NULL, &ls, err, sizeof(err)) != 0) -> exit naming err
 *     logstore_load_hard_state(ls, &term, &vote, extra, sizeof(extra), &extra_len);
 *     for each batch the core asks to persist:
 *         logstore_truncate_suffix(ls, first_conflicting_index)   (if any)
 *         logstore_append(ls, index, term, type, data, len)       (for each entry)
 *         logstore_sync(ls)            -> now the batch is durable: ack it
 *     logstore_compact(ls, below_index) once the ledger holds those entries
 *     logstore_close(ls)
 *
 * Durability contract: what logstore_sync (or a save/truncate/compact call)
 * acknowledged is never lost by a crash; what was not acknowledged may be
 * lost, but is never replaced by garbage. Reopening after a crash yields a
 * prefix of what was appended, or fails with TC_ECORRUPT and a message naming
 * the file and the byte offset; never a wrong entry.
 *
 * Threads: none of its own. A struct logstore is not thread-safe: one thread
 * (the node's I/O thread) calls everything, or the caller serialises calls.
 *
 * Resources: at most three file descriptors (the directory, the segment being
 * written, the segment last read); about 24 bytes of memory per entry held
 * (term, offset, length, type: term_at needs no I/O) plus the pending batch.
 * Only POSIX calls that Gramine supports: open/pread/pwrite/ftruncate/
 * fdatasync/fsync/rename/unlink/readdir; no O_APPEND, no mmap, no sync().
 *
 * Errors common to the functions below: TC_EINVAL for bad arguments; TC_EIO
 * when the OS fails a read, write or sync (the errno is logged). After a
 * TC_EIO from any function that writes (append excepted), the store is
 * "failed": the state of the files is unknown (a failed fdatasync may have
 * dropped dirty pages), so every later write returns TC_EIO at once; reads of
 * durable entries still work. Close and reopen to recover: the scan on open
 * establishes what really is on disk.
 *
 * On-disk format (all integers little-endian), in directory `dir`:
 *   seg-<first index, 16 lower-case hex digits>.log  a segment: records back
 *       to back, the first one with the index in the name. A segment is
 *       written with pwrite at its end (never O_APPEND) and is never rewritten
 *       except by truncation.
 *   record = 40-byte header + payload:
 *       0  u32 magic  "TCRL" (0x4c524354)
 *       4  u8  version (1)
 *       5  u8  type (opaque to the store)
 *       6  u16 reserved, zero
 *       8  u32 payload length (<= max_record_bytes, else corrupt)
 *      12  u32 CRC-32C of the header (with this field taken as zero) and
 *              the payload
 *      16  u64 index
 *      24  u64 term
 *      32  u64 index of the first record of the logstore_sync batch that
 *              wrote this record (see "torn tail" below)
 *   hardstate  (and hardstate.tmp while being replaced)
 *       "TCHS", u8 version 1, u8 0, u16 0, u32 extra length, u32 0,
 *       u64 term, u64 vote, extra bytes, u32 CRC-32C of all preceding bytes.
 *   logmeta  (and logmeta.tmp): the compaction boundary
 *       "TCLM", u8 version 1, u8 0, u16 0, u64 index, u64 term, u32 CRC-32C.
 *
 * Torn tail versus corruption. A crash during logstore_sync can leave any
 * subset of the batch's pages on disk (page write-back is unordered), so the
 * batch in flight may show a damaged record followed by intact records of the
 * same batch. A batch is written only after the previous batch's fdatasync
 * returned, and a segment is fdatasync'ed before the next one receives
 * anything. Hence, on open:
 *   - a bad record in the last segment (short header, bad magic or version,
 *     a length beyond the bound, a short payload, a CRC mismatch) is a torn
 *     tail if no intact record of a LATER batch follows it in that segment:
 *     the segment is truncated there (logged at WARN) and start-up goes on;
 *   - otherwise (an intact record of a later batch follows, or the bad record
 *     is in an earlier segment, or intact records break index contiguity or
 *     term order, or segments leave a gap) open fails with TC_ECORRUPT and
 *     the message names the file and the byte offset.
 * A corruption of the last batch itself (after it was acknowledged) is
 * indistinguishable from a torn write and is truncated like one.
 */
#ifndef TC_CONSENSUS_RAFT_LOGSTORE_H
#define TC_CONSENSUS_RAFT_LOGSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"

/* Bytes of framing in front of each payload on disk. */
#define LOGSTORE_RECORD_HEADER_BYTES 40u
/* Bound on the opaque blob stored with the hard state: room for the Raft
 * membership at the compaction point (up to 32 members, raft_codec.h) with
 * its index and term. */
#define LOGSTORE_HARD_STATE_EXTRA_MAX 512u

struct logstore_options {
    /* A segment is closed and a new one started once the next record would
     * take it beyond this size; a record bigger than this gets a segment of
     * its own. Default 64 MiB; at least 256 (tests use tiny segments). */
    uint64_t segment_bytes;
    /* Bound on one payload: larger appends fail with TC_ETOOBIG, and a record
     * on disk claiming more is corrupt. Default 64 MiB; 1 byte to 1 GiB. */
    uint32_t max_record_bytes;
    /* Bound on appended but not yet synced bytes (framing included): append
     * fails with TC_EFULL beyond it. Default 256 MiB; at least one record of
     * max_record_bytes. */
    uint64_t max_pending_bytes;
    /* fdatasync/fsync files and the directory (default true). Only tests of
     * logic turn it off: without it nothing is durable. */
    bool fsync;
};

struct logstore;

/* Fills opt with the defaults listed above. */
void logstore_options_default(struct logstore_options *opt);

/*
 * Opens (creating the directory if missing, mode 0700) the log in dir and
 * validates every record (see the header comment for what is truncated and
 * what is an error). opt may be NULL for the defaults. Leftover temporary
 * files of an interrupted hard-state or boundary save are removed; segments
 * wholly below the compaction boundary (an interrupted compaction) are
 * deleted. On success *out owns open files; release it with logstore_close.
 * On failure *out is NULL and err (if err_len > 0) holds a NUL-terminated
 * message: for TC_ECORRUPT it names the file and byte offset.
 * Errors: TC_EINVAL (bad options, path too long), TC_EIO, TC_ECORRUPT,
 * TC_ENOMEM.
 */
int logstore_open(const char *dir, const struct logstore_options *opt, struct logstore **out,
                  char *err, size_t err_len);

/* Closes the files and frees ls (NULL is fine). Appended entries not yet
 * synced are discarded, as a crash would. */
void logstore_close(struct logstore *ls);

/*
 * Appends one entry to the in-memory batch; nothing is written until
 * logstore_sync. index must be logstore_last_index()+1 and term at least the
 * last entry's term (or the boundary term when the log is empty). data is
 * copied. Entries appended are readable at once.
 * Errors: TC_EINVAL (non-contiguous index, decreasing term, data NULL with
 * len > 0), TC_ETOOBIG (len > max_record_bytes), TC_EFULL (pending bytes
 * bound), TC_ENOMEM, TC_EIO (the store has failed).
 */
int logstore_append(struct logstore *ls, uint64_t index, uint64_t term, uint8_t type,
                    const void *data, size_t len);

/*
 * Writes the appended entries (pwrite into the segments) and makes them
 * durable with one fdatasync (plus one per segment boundary crossed, and a
 * directory fsync per segment created). On return 0 every appended entry is
 * durable. A no-op without pending entries. Errors: TC_EIO (store failed).
 */
int logstore_sync(struct logstore *ls);

/*
 * Drops every entry with index >= from_index, durably: on return a reopen
 * never shows them, even if no append follows (segments are ftruncate'd and
 * fdatasync'ed; later segments are unlinked newest first, each unlink followed
 * by a directory fsync, so that a crash leaves a contiguous log). Pending
 * entries >= from_index are dropped too. from_index > last index is a no-op.
 * Errors: TC_ERANGE (from_index <= the compaction boundary index), TC_EIO.
 */
int logstore_truncate_suffix(struct logstore *ls, uint64_t from_index);

/*
 * Drops every entry with index < below_index. The new boundary (below_index-1
 * and its term, which logstore_term_at keeps answering) is saved atomically
 * first; then segments holding only dropped entries are unlinked (the one
 * holding below_index stays, its dead prefix ignored). below_index <=
 * first index is a no-op. below_index may be last index + 1 (drops all).
 * Errors: TC_ERANGE (below_index > last index + 1), TC_ESTATE (the entries to
 * drop are not all synced yet), TC_EIO.
 */
int logstore_compact(struct logstore *ls, uint64_t below_index);

/*
 * Discards the whole log and restarts it after a snapshot: afterwards the log
 * is empty, the first index is snapshot_index+1 and term_at(snapshot_index)
 * is snapshot_term. For a snapshot that does not match the log (Raft's
 * InstallSnapshot); when it does, logstore_compact keeps the suffix. Entries
 * are removed first, then the boundary is saved, so a crash between the two
 * leaves an empty (never a mismatched) log.
 * Errors: TC_ERANGE (snapshot_index or snapshot_term below the current
 * boundary's), TC_EIO.
 */
int logstore_reset_to_snapshot(struct logstore *ls, uint64_t snapshot_index,
                               uint64_t snapshot_term);

/* Index of the first entry held: boundary index + 1 (1 for a new log). */
uint64_t logstore_first_index(const struct logstore *ls);
/* Index of the last entry appended (synced or not); boundary index when the
 * log is empty, so that last < first means empty. */
uint64_t logstore_last_index(const struct logstore *ls);
/* Index of the last durable entry (<= last index). */
uint64_t logstore_synced_index(const struct logstore *ls);
/* The compaction boundary: index and term of the last dropped entry (0, 0
 * for a log never compacted). */
void logstore_boundary(const struct logstore *ls, uint64_t *index, uint64_t *term);

/*
 * Term of the entry at index, also for index == boundary index (the
 * snapshot's term). No I/O. Errors: TC_ERANGE (index below the boundary:
 * compacted), TC_ENOTFOUND (index > last index).
 */
int logstore_term_at(const struct logstore *ls, uint64_t index, uint64_t *term);

/*
 * Term, type and payload length of the entry at index, without reading the
 * payload. Errors: TC_ERANGE (index < first index), TC_ENOTFOUND (> last).
 */
int logstore_entry_info(const struct logstore *ls, uint64_t index, uint64_t *term, uint8_t *type,
                        size_t *len);

/*
 * Copies the entry at index: its term and type, and its payload into data
 * (cleared first; the caller owns it and frees it with bytes_free). A durable
 * entry is read from its segment and its CRC checked again.
 * Errors: TC_ERANGE (index < first index), TC_ENOTFOUND (> last),
 * TC_ECORRUPT (the record changed on disk since open), TC_EIO, TC_ENOMEM.
 */
int logstore_read(struct logstore *ls, uint64_t index, uint64_t *term, uint8_t *type,
                  struct bytes *data);

/*
 * Replaces the hard state atomically: write hardstate.tmp, fsync it, rename
 * it over hardstate, fsync the directory. On return 0 it is durable; after a
 * crash a reopen shows either the old or the new state. extra (up to
 * LOGSTORE_HARD_STATE_EXTRA_MAX bytes, e.g. a commit index) is copied.
 * Errors: TC_ETOOBIG (extra_len), TC_EINVAL, TC_EIO.
 */
int logstore_save_hard_state(struct logstore *ls, uint64_t term, uint64_t vote, const void *extra,
                             size_t extra_len);

/*
 * The hard state last saved (validated on open). extra_cap bytes of extra go
 * to extra and *extra_len gets the stored length; extra may be NULL when
 * extra_cap is 0. Errors: TC_ENOTFOUND (never saved: a new node), TC_ETOOBIG
 * (extra_cap smaller than the stored extra; *extra_len still set).
 */
int logstore_load_hard_state(const struct logstore *ls, uint64_t *term, uint64_t *vote, void *extra,
                             size_t extra_cap, size_t *extra_len);

/*
 * CRC-32C (Castagnoli, reflected, as in iSCSI and ext4) of len bytes,
 * continuing from crc, the value returned for the preceding bytes (0 to
 * start): extend(extend(0, a), b) == extend(0, a || b). Uses the SSE4.2
 * instruction when the CPU has it, a slicing-by-8 table otherwise.
 */
uint32_t logstore_crc32c(uint32_t crc, const void *data, size_t len);
/* The table-driven path alone (for tests and machines without SSE4.2). */
uint32_t logstore_crc32c_portable(uint32_t crc, const void *data, size_t len);
/* True when logstore_crc32c uses the CPU instruction. */
bool logstore_crc32c_has_hw(void);

#endif
