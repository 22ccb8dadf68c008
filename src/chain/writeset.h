/*
 * writeset.h - a block's state mutations, in canonical order, and the chained
 * state digest that the block header's stateRoot carries (DESIGN.md §5).
 *
 * The leader's executor appends every write it makes, in any order; a later
 * write to the same (namespace, key) replaces an earlier one, a deletion is a
 * write too. writeset_canonicalize() then sorts by (namespace, key) — bytewise,
 * a key that is a prefix of another sorts first — and keeps the last write of
 * each key: that is the set the Raft BLOCK entry carries and every node
 * applies to its ledger in one batch.
 *
 *     struct writeset ws;
 *     writeset_init(&ws);
 *     writeset_put(&ws, WRITESET_NS_ACCOUNT, addr, 20, account_rlp, n);
 *     writeset_delete(&ws, WRITESET_NS_STORAGE, slot_key, 52);
 *     writeset_canonicalize(&ws);
 *     writeset_digest(&ws, digest);
 *     state_root_next(parent_state_root, digest, header.state_root);
 *     writeset_free(&ws);
 *
 * Canonical encoding (what writeset_encode() writes and writeset_decode()
 * accepts, nothing else):
 *     rlp([ entry, ... ])   entries strictly increasing by (namespace, key)
 *     entry = [namespace, key, value]   a write (value may be empty)
 *           | [namespace, key]          a deletion
 *     namespace: one of enum writeset_ns, as a canonical RLP integer
 *     key: 1..WRITESET_MAX_KEY_BYTES bytes; value: 0..WRITESET_MAX_VALUE_BYTES
 *     at most WRITESET_MAX_ENTRIES entries
 *
 * writeset_digest() = keccak256(canonical encoding). The state root chain:
 *     genesis:  root_0 = keccak256(32 zero bytes || digest(genesis write-set))
 *     block n:  root_n = keccak256(root_{n-1} || digest(write-set of n))
 * state_root_genesis() is state_root_next() with a zero parent.
 *
 * Memory: a built write-set copies keys and values into one arena owned by
 * the struct (no per-entry allocation); a decoded one borrows its keys and
 * values from the decoder's input, which must outlive it. writeset_free()
 * releases either kind. Views returned by writeset_get() stay valid until the
 * next writeset_put/delete/canonicalize/clear/free (built) or as long as the
 * input (decoded). Not thread-safe; distinct write-sets are independent.
 *
 * Errors: TC_EINVAL (unknown namespace, empty key, malformed entry, a decoded
 * set out of order or with a repeated key), TC_ETOOBIG (a bound above),
 * TC_ESTATE (encode or digest of a set not canonicalized, or a write to a
 * decoded set), TC_ENOMEM, and the RLP codes of rlp.h for bad encodings.
 */
#ifndef TC_CHAIN_WRITESET_H
#define TC_CHAIN_WRITESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"

/* The ledger maps each to one of its store namespaces. */
enum writeset_ns {
    WRITESET_NS_ACCOUNT = 1, /* key: address (20 bytes) */
    WRITESET_NS_STORAGE = 2, /* key: address || slot (52 bytes) */
    WRITESET_NS_CODE = 3,    /* key: code hash (32 bytes) */
};

#define WRITESET_MAX_ENTRIES     (1u << 20) /* 100,000 txs x ~10 writes; bounds decode allocation */
#define WRITESET_MAX_KEY_BYTES   128
#define WRITESET_MAX_VALUE_BYTES (64u * 1024)

/* One record; offsets are into the arena (built) or the input (decoded). */
struct writeset_rec {
    uint64_t key_prefix; /* first 8 key bytes, big-endian, zero-padded: a fast first compare */
    size_t key_off;
    size_t value_off;
    uint32_t value_len;
    uint32_t seq; /* append order, so that the last write of a key wins */
    uint8_t key_len;
    uint8_t ns;
    bool deleted;
};

struct writeset {
    struct bytes arena;        /* built: copies of keys and values */
    const uint8_t *input;      /* decoded: the borrowed input, else NULL */
    struct writeset_rec *recs; /* owned */
    size_t count;
    size_t cap;
    bool canonical; /* sorted and unique: encode/digest allowed */
};

/* What writeset_get() returns: views, valid as described above. */
struct writeset_item {
    enum writeset_ns ns;
    bool deleted;
    struct bytes_view key;
    struct bytes_view value; /* empty for a deletion */
};

/* An empty, canonical write-set; allocates nothing. */
void writeset_init(struct writeset *ws);
/* Releases everything the write-set owns; it is then empty (as after init). */
void writeset_free(struct writeset *ws);
/* Empties a built write-set but keeps its memory for reuse. */
void writeset_clear(struct writeset *ws);

/* Records a write (copied). Returns 0, TC_EINVAL, TC_ETOOBIG, TC_ESTATE, TC_ENOMEM. */
int writeset_put(struct writeset *ws, enum writeset_ns ns, const void *key, size_t key_len,
                 const void *value, size_t value_len);
/* Records a deletion (copied). Same returns as writeset_put(). */
int writeset_delete(struct writeset *ws, enum writeset_ns ns, const void *key, size_t key_len);

/* Sorts by (namespace, key) and keeps each key's last write. Returns 0 (cannot fail). */
int writeset_canonicalize(struct writeset *ws);

/* Number of entries (after canonicalize: distinct keys). */
size_t writeset_count(const struct writeset *ws);
/* Entry i (< writeset_count()), in canonical order once canonicalized. */
void writeset_get(const struct writeset *ws, size_t i, struct writeset_item *item);
/* True when the sets hold the same entries in the same order. */
bool writeset_equal(const struct writeset *a, const struct writeset *b);

/* Appends the canonical encoding. Returns 0, TC_ESTATE (not canonical), TC_ENOMEM. */
int writeset_encode(const struct writeset *ws, struct bytes *out);
/*
 * Strictly decodes `in` (exactly one canonical encoding) into *ws, which the
 * call initialises (free it with writeset_free() even on failure). Keys and
 * values are borrowed from `in`. On failure *reason (if not NULL) names the
 * problem.
 */
int writeset_decode(struct bytes_view in, struct writeset *ws, const char **reason);

/* keccak256 of the canonical encoding, streamed. Returns 0 or TC_ESTATE. */
int writeset_digest(const struct writeset *ws, uint8_t digest[32]);

/* next = keccak256(prev || digest). */
void state_root_next(const uint8_t prev[32], const uint8_t digest[32], uint8_t next[32]);
/* The chain's first state root: state_root_next(32 zero bytes, genesis digest). */
void state_root_genesis(const uint8_t genesis_digest[32], uint8_t root[32]);

#endif
