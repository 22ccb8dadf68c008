/*
 * txpool_index.c - the pool's structures (see txpool_index.h): reference-
 * counted transactions, fixed-capacity hash tables, per-sender nonce
 * arrays and the ready heap. No locking here.
 */
#include "txpool/txpool_index.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

/* ---- transactions ------------------------------------------------------- */

struct pool_tx *pool_tx_new(const uint8_t *raw, size_t len)
{
    struct pool_tx *t = malloc(sizeof(*t) + len);
    if (!t)
        return NULL;
    memset(t, 0, sizeof(*t));
    atomic_init(&t->refs, 1);
    t->len = len;
    memcpy(t->raw, raw, len);
    return t;
}

void pool_tx_ref(struct pool_tx *t)
{
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
}

void pool_tx_unref(struct pool_tx *t)
{
    if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
        free(t);
}

/* ---- hash tables -------------------------------------------------------- */

int ptable_init(struct ptable *t, size_t max_items, size_t key_off, size_t key_len, uint64_t seed)
{
    size_t cap = 16;
    while (cap < 2 * max_items)
        cap *= 2;
    t->slots = calloc(cap, sizeof(*t->slots));
    if (!t->slots)
        return TC_ENOMEM;
    t->mask = cap - 1;
    t->key_off = key_off;
    t->key_len = key_len;
    t->seed = seed;
    return TC_OK;
}

void ptable_free(struct ptable *t)
{
    free(t->slots);
    t->slots = NULL;
}

static const uint8_t *key_of(const struct ptable *t, const void *item)
{
    return (const uint8_t *)item + t->key_off;
}

/* Keys are hashes or addresses, i.e. already uniform unless ground by an
 * attacker; mixing in the secret seed keeps grinding blind. */
static size_t home_of(const struct ptable *t, const uint8_t *key)
{
    uint64_t a, b;
    memcpy(&a, key, 8);
    memcpy(&b, key + 8, 8);
    uint64_t h = (a ^ t->seed) * UINT64_C(0x9e3779b97f4a7c15);
    h ^= b + (h >> 29);
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 31;
    return (size_t)h & t->mask;
}

void *ptable_find(const struct ptable *t, const uint8_t *key)
{
    for (size_t i = home_of(t, key);; i = (i + 1) & t->mask) {
        void *item = t->slots[i];
        if (!item || memcmp(key_of(t, item), key, t->key_len) == 0)
            return item;
    }
}

void ptable_insert(struct ptable *t, void *item)
{
    size_t i = home_of(t, key_of(t, item));
    while (t->slots[i])
        i = (i + 1) & t->mask;
    t->slots[i] = item;
}

void ptable_remove(struct ptable *t, void *item)
{
    size_t i = home_of(t, key_of(t, item));
    while (t->slots[i] != item) {
        assert(t->slots[i] != NULL);
        i = (i + 1) & t->mask;
    }
    t->slots[i] = NULL;
    /* Backward shift: move up every later item of the cluster whose home
     * is not cyclically in (i, j], so that lookups never stop early. */
    for (size_t j = (i + 1) & t->mask; t->slots[j]; j = (j + 1) & t->mask) {
        size_t k = home_of(t, key_of(t, t->slots[j]));
        bool stays = j > i ? (k > i && k <= j) : (k > i || k <= j);
        if (!stays) {
            t->slots[i] = t->slots[j];
            t->slots[j] = NULL;
            i = j;
        }
    }
}

/* ---- per-sender nonce arrays -------------------------------------------- */

size_t sender_lower_bound(const struct pool_sender *s, uint64_t nonce)
{
    size_t lo = 0, hi = s->count;
    /* Transactions mostly arrive in nonce order: try the end first. */
    if (hi > 0 && sender_item(s, hi - 1)->nonce < nonce)
        return hi;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sender_item(s, mid)->nonce < nonce)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct pool_tx *sender_find(const struct pool_sender *s, uint64_t nonce, size_t *index)
{
    size_t i = sender_lower_bound(s, nonce);
    if (index)
        *index = i;
    if (i < s->count && sender_item(s, i)->nonce == nonce)
        return sender_item(s, i);
    return NULL;
}

int sender_insert_at(struct pool_sender *s, size_t i, struct pool_tx *t)
{
    if (i == 0 && s->start > 0) {
        s->start--;
        s->items[s->start] = t;
        s->count++;
        return TC_OK;
    }
    if (s->start + s->count == s->cap) {
        if (s->start > 0) {
            memmove(s->items, s->items + s->start, s->count * sizeof(*s->items));
            s->start = 0;
        } else {
            size_t cap = s->cap ? 2 * s->cap : 4;
            struct pool_tx **items = realloc(s->items, cap * sizeof(*items));
            if (!items)
                return TC_ENOMEM;
            s->items = items;
            s->cap = cap;
        }
    }
    struct pool_tx **at = s->items + s->start + i;
    memmove(at + 1, at, (s->count - i) * sizeof(*at));
    *at = t;
    s->count++;
    return TC_OK;
}

void sender_remove_at(struct pool_sender *s, size_t i)
{
    assert(i < s->count);
    if (i == 0) {
        s->start++;
    } else {
        struct pool_tx **at = s->items + s->start + i;
        memmove(at, at + 1, (s->count - i - 1) * sizeof(*at));
    }
    s->count--;
    if (s->count == 0)
        s->start = 0;
}

/* ---- ready heap --------------------------------------------------------- */

static void heap_place(struct ready_heap *h, size_t i, struct pool_sender *s)
{
    h->items[i] = s;
    s->heap_pos = i;
}

static void heap_up(struct ready_heap *h, size_t i)
{
    struct pool_sender *s = h->items[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->items[parent]->head_seq <= s->head_seq)
            break;
        heap_place(h, i, h->items[parent]);
        i = parent;
    }
    heap_place(h, i, s);
}

static void heap_down(struct ready_heap *h, size_t i)
{
    struct pool_sender *s = h->items[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->len)
            break;
        if (child + 1 < h->len && h->items[child + 1]->head_seq < h->items[child]->head_seq)
            child++;
        if (h->items[child]->head_seq >= s->head_seq)
            break;
        heap_place(h, i, h->items[child]);
        i = child;
    }
    heap_place(h, i, s);
}

void heap_set(struct ready_heap *h, struct pool_sender *s)
{
    if (s->heap_pos == SIZE_MAX) {
        heap_place(h, h->len++, s);
        heap_up(h, s->heap_pos);
        return;
    }
    heap_up(h, s->heap_pos);
    heap_down(h, s->heap_pos);
}

void heap_remove(struct ready_heap *h, struct pool_sender *s)
{
    size_t i = s->heap_pos;
    if (i == SIZE_MAX)
        return;
    s->heap_pos = SIZE_MAX;
    struct pool_sender *last = h->items[--h->len];
    if (last == s)
        return;
    heap_place(h, i, last);
    heap_up(h, i);
    heap_down(h, last->heap_pos);
}
