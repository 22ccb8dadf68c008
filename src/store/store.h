/*
 * store.h - the node's key-value store: namespaces over one RocksDB database,
 * optionally sealed (encrypted) at rest.
 *
 * Every byte the ledger keeps on disk (blocks, transactions, receipts, state,
 * code, indexes, meta) passes through this API, so that the sealing layer can
 * encrypt it without any other module knowing (DESIGN.md §6). The Raft log is
 * not kept here.
 *
 * Use:
 *
 *     struct store_options o = { .path = "data/ledger" };   // plain
 *     struct store *s;
 *     if (store_open(&o, &s, err, sizeof(err)) != 0) { print err; stop; }
 *
 *     struct store_batch *b;
 *     store_batch_new(s, &b);
 *     store_batch_put(b, STORE_NS_BLOCKS, key, key_len, val, val_len);
 *     store_batch_put(b, STORE_NS_META, "head", 4, num, 8);
 *     rc = store_write(s, b, true);   // all or nothing, fsync'd
 *     store_batch_free(b);
 *
 *     struct bytes v; bytes_init(&v);
 *     rc = store_get(s, STORE_NS_META, "head", 4, &v);  // TC_ENOTFOUND if absent
 *     bytes_free(&v);
 *
 * Layers. A store is either the plain RocksDB backend or the sealing layer
 * stacked on it; both answer this same API, and only store_open decides.
 * Each namespace is a RocksDB column family (created on open if missing);
 * RocksDB's "default" family is reserved for the store's own records (the
 * format record that says plain or sealed, and the sealed check value).
 *
 * Sealing (options.sealed, from `[storage_security] enable=true`). With a
 * 32-byte master key, HKDF-SHA256 derives two independent keys:
 *   - the key-hiding key: a stored key is HMAC-SHA256(key-hiding key,
 *     namespace id || real key), 32 bytes, so equal keys still meet and point
 *     reads cost one lookup, but the real key never reaches the disk;
 *   - the value key: a stored value is
 *       0x01 || nonce (12, fresh from crypto_random) || AES-256-GCM ciphertext
 *       || tag (16)
 *     of  u32 big-endian real-key length || real key || value, with
 *     associated data  "tcstore1" || namespace id || stored key.
 *   The associated data binds each value to its namespace and its key (through
 *   the keyed hash of both), so a value copied or swapped to another key or
 *   namespace fails to open; the real key travels inside the ciphertext and is
 *   checked against the stored key on every read, which is what lets an
 *   iterator, which sees only stored keys, return real keys.
 * A sealed database records that it is sealed and a sealed check value in the
 * "default" family; opening it with the wrong key fails with TC_ECRYPTO before
 * any data is read, and opening a sealed database unsealed, or a plain one
 * sealed, is refused with TC_EINVAL. What sealing does not hide: the number of
 * entries per namespace, sizes (a stored value is the value plus the key plus
 * 33 bytes), and access patterns and timing.
 *
 * Iteration order. A plain store iterates a namespace in key order
 * (bytewise) and a prefix iterator seeks straight to its prefix. A sealed store
 * keeps entries in the order of their keyed hashes, which is unrelated to the
 * real keys: its iterators return the same entries (real keys and values,
 * authenticated), but in an unspecified order, and a prefix iterator scans the
 * whole namespace and skips the entries outside the prefix. Callers that need
 * order (e.g. "the highest block number") must keep it in an explicit index
 * record instead of relying on iteration; store_is_ordered() says which kind
 * of store they have.
 *
 * Errors. Functions return 0 or a negative TC_* code (base/error.h). After a
 * failure, store_last_error() gives a message for it (RocksDB's own message
 * where RocksDB failed). Codes used below:
 *   TC_EINVAL     bad argument (namespace out of range, NULL where not allowed,
 *                 options that do not match the database), or RocksDB's
 *                 "Invalid argument"
 *   TC_ETOOBIG    key longer than STORE_KEY_MAX or value longer than
 *                 STORE_VALUE_MAX
 *   TC_ENOTFOUND  no such key (store_get), or end of iteration
 *   TC_ENOMEM     allocation failed
 *   TC_EIO        RocksDB failed to read or write (message says why)
 *   TC_ECORRUPT   RocksDB reports corruption, a record of the store's own
 *                 format is malformed, or a database has data in its
 *                 namespaces but no format record
 *   TC_ECRYPTO    sealed mode: a stored value fails authentication (tampered,
 *                 swapped, or written under another key), or the master key is
 *                 wrong
 *   TC_EUNSUPPORTED  database written by a newer format version
 *   TC_ESTATE     store_write of a batch in which an operation failed
 *
 * Threads. A struct store may be used by several threads at once for
 * store_get, store_write, store_flush and iterators (RocksDB is thread-safe,
 * and the sealing layer keeps no mutable shared state). A batch or an
 * iterator belongs to one thread at a time. store_close must not race with
 * anything else on the store, and every batch and iterator of a store must be
 * freed before it is closed.
 */
#ifndef TC_STORE_STORE_H
#define TC_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"

/* Namespaces; their numbers are part of the sealed format (never renumber). */
enum store_ns {
    STORE_NS_BLOCKS = 0,
    STORE_NS_TXS = 1,
    STORE_NS_RECEIPTS = 2,
    STORE_NS_STATE = 3,
    STORE_NS_CODE = 4,
    STORE_NS_INDEXES = 5,
    STORE_NS_META = 6,
    STORE_NS_COUNT = 7
};

/* Largest key and value accepted (bytes); larger ones give TC_ETOOBIG. */
#define STORE_KEY_MAX   1024u
#define STORE_VALUE_MAX (64u * 1024u * 1024u)

#define STORE_MASTER_KEY_BYTES 32

struct store_options {
    /* Directory of the database; created (with its column families) if
     * missing. Required. */
    const char *path;
    /* Seal values and hide keys with `master_key`. Must match how the
     * database was created. */
    bool sealed;
    /* Only read when sealed; an all-zero key is refused (TC_EINVAL) as one
     * that was never loaded. The store keeps derived keys, not this array:
     * the caller may wipe it once store_open returns. */
    uint8_t master_key[STORE_MASTER_KEY_BYTES];
    /* RocksDB memtable size per column family, bytes; 0 means 32 MiB. */
    size_t write_buffer_bytes;
};

struct store;
struct store_batch;
struct store_iter;

/* Column family name of a namespace ("blocks", "transactions", ...), or NULL
 * when ns is out of range. Static storage. */
const char *store_ns_name(enum store_ns ns);

/*
 * Opens (creating if needed) the database at opts->path. On success *out is
 * the store; close it with store_close. On failure *out is NULL, the return
 * is the TC_* code and err (if not NULL) holds a NUL-terminated message that
 * names the path, truncated to err_len bytes. Besides the codes above:
 * TC_EINVAL when the database is sealed and opts->sealed is false or the
 * reverse, TC_ECRYPTO when the master key is not the one it was sealed with,
 * TC_EIO when another process holds the database open.
 */
int store_open(const struct store_options *opts, struct store **out, char *err, size_t err_len);

/* Closes the store and frees it; writes already returned by store_write are
 * durable per their sync flag. NULL is a no-op. */
void store_close(struct store *s);

/* True when iterators return keys in bytewise order (plain stores). */
bool store_is_ordered(const struct store *s);

/*
 * Reads the value of key[0..key_len) in ns into out, which must be an
 * initialised struct bytes (bytes_init); its previous contents are replaced.
 * The caller frees it with bytes_free, on failure too. TC_ENOTFOUND when the
 * key is absent (out is then empty); other codes as listed above.
 */
int store_get(struct store *s, enum store_ns ns, const void *key, size_t key_len,
              struct bytes *out);

/*
 * A write batch: puts and deletes over any namespaces, applied by
 * store_write all together or not at all. Keys and values are copied (sealed
 * at once in a sealed store), so the caller's buffers may be reused as soon as
 * a call returns. Later operations on the same key win.
 *
 * store_batch_new: *out is a new empty batch bound to s; free it with
 * store_batch_free. TC_ENOMEM.
 */
int store_batch_new(struct store *s, struct store_batch **out);

/*
 * Add a put / a delete to the batch. TC_EINVAL, TC_ETOOBIG, TC_ENOMEM,
 * TC_ECRYPTO (sealing failed). A failed operation marks the batch failed:
 * store_write then refuses it, so that a batch is never written without one
 * of its operations.
 */
int store_batch_put(struct store_batch *b, enum store_ns ns, const void *key, size_t key_len,
                    const void *val, size_t val_len);
int store_batch_del(struct store_batch *b, enum store_ns ns, const void *key, size_t key_len);

/* Number of operations in the batch. */
size_t store_batch_count(const struct store_batch *b);

/*
 * Applies the batch atomically: after a crash, either every operation is
 * present or none. With sync, returns only once the write-ahead log is on
 * stable storage (the ledger asks for this once per block); without it, a
 * machine crash may lose the most recent writes, never part of one. The batch
 * is left as it was (free it, or write it again). TC_EINVAL if b belongs to
 * another store, TC_ESTATE if one of its operations failed (nothing is
 * written), TC_EIO / TC_ECORRUPT from RocksDB.
 */
int store_write(struct store *s, const struct store_batch *b, bool sync);

/* Frees the batch. NULL is a no-op. */
void store_batch_free(struct store_batch *b);

/*
 * An iterator over the entries of ns whose key starts with
 * prefix[0..prefix_len) (prefix_len 0: the whole namespace), on a consistent
 * snapshot taken at creation: later writes are not seen. Order: see
 * "Iteration order" above. An open iterator pins its snapshot's memtables
 * and files: free it (store_iter_free) promptly, and before closing s.
 * TC_EINVAL, TC_ETOOBIG (prefix longer than STORE_KEY_MAX), TC_ENOMEM.
 */
int store_iter_new(struct store *s, enum store_ns ns, const void *prefix, size_t prefix_len,
                   struct store_iter **out);

/*
 * Steps to the next entry (the first, on the first call). Returns 0 when
 * positioned on an entry, TC_ENOTFOUND when there are no more, TC_ECRYPTO
 * when a sealed entry fails authentication, TC_EIO / TC_ECORRUPT from RocksDB.
 * After anything but 0 the iterator stays finished. Typical loop:
 *
 *     while ((rc = store_iter_next(it)) == 0) { use key and value }
 *     if (rc != TC_ENOTFOUND) error;
 */
int store_iter_next(struct store_iter *it);

/* The current entry's real key and value. The views are valid until the next
 * store_iter_next or store_iter_free; empty before the first step and after
 * the end. */
struct bytes_view store_iter_key(const struct store_iter *it);
struct bytes_view store_iter_value(const struct store_iter *it);

/* Frees the iterator (and wipes a sealed iterator's plaintext). NULL is a
 * no-op. */
void store_iter_free(struct store_iter *it);

/*
 * Writes every memtable to SST files and waits for it, so that the write-ahead
 * log is no longer needed for recovery. Not needed for durability (store_write
 * with sync is durable); useful before a backup and in tests. TC_EIO.
 */
int store_flush(struct store *s);

/*
 * Why the calling thread's latest store_* call (on any store) failed. Every
 * call that returns a code clears it first, so after a success it is "".
 * Valid until that thread's next store_* call.
 * The store never puts keys or values in it; RocksDB's own text is passed
 * through as it is.
 */
const char *store_last_error(void);

/*
 * Reads a 32-byte master key from the file at path into key. Accepted
 * contents, told apart by size:
 *   - 64 hex digits (either case, no "0x"), optionally followed by one "\n"
 *     or "\r\n": the form to write by hand or with
 *     `openssl rand -hex 32 > storage.key`;
 *   - exactly 32 raw bytes.
 * Anything else (another length, a bad hex digit, a key of all zero bytes,
 * a path that is not a regular file) is rejected with TC_EINVAL, an unreadable
 * file with TC_EIO; err (if not NULL) then gets a NUL-terminated message that
 * names the file and the reason, never the key. On failure key is zeroed.
 */
int store_load_key_file(const char *path, uint8_t key[STORE_MASTER_KEY_BYTES], char *err,
                        size_t err_len);

#endif
