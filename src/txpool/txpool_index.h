/*
 * txpool_index.h - private to txpool: the pool's in-memory structures.
 *
 * - struct pool_tx: one admitted transaction, its raw bytes inline;
 *   reference-counted so that a forwarding hook can read the bytes after
 *   the mutex is released while another thread removes the transaction.
 * - struct ptable: an open-addressing hash table of pointers keyed by bytes
 *   inside the pointed-to object (tx hash, sender address). Its capacity is
 *   fixed at creation at twice the pool's bound, so it never grows or
 *   rehashes and never fills; deletion shifts back (no tombstones).
 * - struct pool_sender: a sender's transactions sorted by nonce in an array
 *   with a movable start (removal at the front, the common case, is O(1)).
 * - the ready heap: senders with a pending head, keyed by the head's arrival
 *   number (FIFO across senders).
 *
 * None of this locks: the caller (txpool.c) holds the pool's mutex.
 */
#ifndef TC_TXPOOL_TXPOOL_INDEX_H
#define TC_TXPOOL_TXPOOL_INDEX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/u256.h"

struct pool_sender;

struct pool_tx {
    uint8_t hash[32];
    uint8_t from[20];
    struct pool_sender *sender; /* set while in the pool */
    uint64_t nonce;
    uint64_t gas_limit;
    uint64_t seq;        /* arrival number: FIFO order */
    uint64_t arrival_ms; /* on the config's clock */
    u256 fee_cap;        /* max fee per gas (gas price for types 0 and 1) */
    u256 tip_cap;        /* max priority fee per gas (gas price for types 0 and 1) */
    u256 cost;           /* gas_limit * fee_cap + value */
    bool in_flight;
    atomic_uint refs;
    struct pool_tx *older, *newer; /* arrival list */
    size_t len;
    uint8_t raw[];
};

/* A new transaction holding a copy of raw, refs = 1; NULL on no memory. */
struct pool_tx *pool_tx_new(const uint8_t *raw, size_t len);
void pool_tx_ref(struct pool_tx *t);
/* Drops one reference; frees on the last. */
void pool_tx_unref(struct pool_tx *t);

struct ptable {
    void **slots;
    size_t mask;
    size_t key_off; /* offset of the key inside each object */
    size_t key_len; /* at least 16 */
    uint64_t seed;  /* per-table secret: an attacker cannot aim at one chain of slots */
};

/* A table able to hold max_items with load factor <= 1/2. TC_OK or TC_ENOMEM. */
int ptable_init(struct ptable *t, size_t max_items, size_t key_off, size_t key_len, uint64_t seed);
void ptable_free(struct ptable *t);
void *ptable_find(const struct ptable *t, const uint8_t *key);
/* item's key must be absent; the table must hold fewer than max_items. */
void ptable_insert(struct ptable *t, void *item);
/* item must be present. */
void ptable_remove(struct ptable *t, void *item);

struct pool_sender {
    uint8_t addr[20];
    uint64_t next;     /* the next nonce the sealer needs: in flight < next <= queued */
    size_t run;        /* queued transactions at next, next+1, ... without a gap (pending) */
    uint64_t head_seq; /* arrival number of the transaction at next, when run > 0 */
    size_t heap_pos;   /* index in the ready heap, SIZE_MAX when not in it */
    struct pool_tx **items;
    size_t start, count, cap; /* items[start .. start+count) sorted by nonce */
};

static inline struct pool_tx *sender_item(const struct pool_sender *s, size_t i)
{
    return s->items[s->start + i];
}

/* The first index whose nonce is >= nonce (count if none). */
size_t sender_lower_bound(const struct pool_sender *s, uint64_t nonce);
/* The transaction with this nonce, or NULL; *index gets the lower bound. */
struct pool_tx *sender_find(const struct pool_sender *s, uint64_t nonce, size_t *index);
/* Inserts at index i (keeping the order is the caller's job). TC_OK or TC_ENOMEM. */
int sender_insert_at(struct pool_sender *s, size_t i, struct pool_tx *t);
void sender_remove_at(struct pool_sender *s, size_t i);

/* A binary min-heap of senders by head_seq; capacity fixed by the caller. */
struct ready_heap {
    struct pool_sender **items;
    size_t len;
};

/* Inserts s, or restores order after s->head_seq changed. */
void heap_set(struct ready_heap *h, struct pool_sender *s);
/* Removes s if present. */
void heap_remove(struct ready_heap *h, struct pool_sender *s);

#endif
