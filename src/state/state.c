/*
 * state.c - the account/storage/code cache, its journal and the write-set.
 *
 * Representation. Accounts, storage slots, transient slots and code live in
 * open-addressing hash tables of pointers; an account keeps a list of its
 * cached slots (to clear them on CREATE and deletion). Per-transaction sets
 * (warm, created, self-destructed, touched) are tags holding the sequence
 * number of the transaction that set them, so that starting a transaction
 * empties them all at once by incrementing the sequence number.
 *
 * A slot's current value is `current` when has_current is set, otherwise the
 * committed value, or zero when the account's committed storage is hidden
 * (the account was created over or deleted: `cleared`). This lets a CREATE
 * hide every committed slot at once and be reverted exactly.
 */
#include "state/state.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "codec/rlp.h"
#include "crypto/keccak.h"
#include "state/state_internal.h"

const uint8_t STATE_EMPTY_CODE_HASH[32] = {
    0xc5, 0xd2, 0x46, 0x01, 0x86, 0xf7, 0x23, 0x3c, 0x92, 0x7e, 0x7d, 0xb2, 0xdc, 0xc7, 0x03, 0xc0,
    0xe5, 0x00, 0xb6, 0x53, 0xca, 0x82, 0x27, 0x3b, 0x7b, 0xfa, 0xd8, 0x04, 0x5d, 0x85, 0xa4, 0x70,
};

static const uint8_t RIPEMD_ADDRESS[20] = { [19] = 3 };

/* ---- account encoding --------------------------------------------------- */

int state_account_encode(const struct state_account *acct, struct bytes *out)
{
    size_t old_len = out->len;
    size_t mark = rlp_list_begin(out);
    if (rlp_encode_u64(out, acct->nonce) != 0 || rlp_encode_u256(out, acct->balance) != 0 ||
        rlp_encode_bytes(out, acct->code_hash, 32) != 0 || rlp_list_end(out, mark) != 0) {
        out->len = old_len;
        return TC_ENOMEM;
    }
    return 0;
}

int state_account_decode(struct bytes_view in, struct state_account *acct)
{
    struct rlp_item list, item;
    struct rlp_iter it;
    struct bytes_view hash;
    int rc = rlp_decode_top(in, &list);
    if (rc != 0)
        return rc;
    if (list.kind != RLP_LIST)
        return TC_EINVAL;
    rlp_iter_init(&it, &list);
    if ((rc = rlp_iter_next(&it, &item)) != 0 || (rc = rlp_decode_u64(&item, &acct->nonce)) != 0)
        return rc == TC_ENOTFOUND ? TC_EINVAL : rc;
    if ((rc = rlp_iter_next(&it, &item)) != 0 || (rc = rlp_decode_u256(&item, &acct->balance)) != 0)
        return rc == TC_ENOTFOUND ? TC_EINVAL : rc;
    if ((rc = rlp_iter_next(&it, &item)) != 0 || (rc = rlp_decode_string(&item, &hash)) != 0)
        return rc == TC_ENOTFOUND ? TC_EINVAL : rc;
    if (hash.len != 32)
        return TC_EINVAL;
    memcpy(acct->code_hash, hash.ptr, 32);
    if (rlp_iter_end(&it) != 0)
        return TC_EINVAL;
    return 0;
}

bool state_account_is_empty(const struct state_account *acct)
{
    return acct->nonce == 0 && u256_is_zero(acct->balance) &&
           memcmp(acct->code_hash, STATE_EMPTY_CODE_HASH, 32) == 0;
}

static void account_zero(struct state_account *a)
{
    a->nonce = 0;
    a->balance = u256_zero();
    memcpy(a->code_hash, STATE_EMPTY_CODE_HASH, 32);
}

static bool account_equal(const struct state_account *a, const struct state_account *b)
{
    return a->nonce == b->nonce && u256_eq(a->balance, b->balance) &&
           memcmp(a->code_hash, b->code_hash, 32) == 0;
}

/* ---- the empty reader --------------------------------------------------- */

static int empty_account(void *ctx, const uint8_t addr[20], struct state_account *out, bool *exists)
{
    (void)ctx;
    (void)addr;
    account_zero(out);
    *exists = false;
    return 0;
}

static int empty_storage(void *ctx, const uint8_t addr[20], const uint8_t slot[32], u256 *out)
{
    (void)ctx;
    (void)addr;
    (void)slot;
    *out = u256_zero();
    return 0;
}

static int empty_code(void *ctx, const uint8_t hash[32], struct bytes *out)
{
    (void)ctx;
    (void)hash;
    (void)out;
    return TC_ENOTFOUND;
}

void state_reader_empty(struct state_reader *out)
{
    out->account = empty_account;
    out->storage = empty_storage;
    out->code = empty_code;
    out->has_storage = NULL;
    out->ctx = NULL;
}

/* ---- hash table --------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t state_hash_bytes(const uint8_t *p, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix64(h ^ w);
        p += 8;
        len -= 8;
    }
    if (len > 0) {
        uint64_t w = 0;
        memcpy(&w, p, len);
        h = mix64(h ^ w);
    }
    return h;
}

void *pmap_get(const struct pmap *m, uint64_t h, bool (*eq)(const void *, const void *),
               const void *key)
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask, n = 0; n < m->cap; i = (i + 1) & mask, n++) {
        if (m->items[i].p == NULL)
            return NULL;
        if (m->items[i].h == h && eq(m->items[i].p, key))
            return m->items[i].p;
    }
    return NULL;
}

int pmap_put(struct pmap *m, uint64_t h, void *p)
{
    if ((m->count + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        struct pmap_item *ni = calloc(ncap, sizeof(*ni));
        if (ni == NULL)
            return TC_ENOMEM;
        for (size_t i = 0; i < m->cap; i++) {
            if (m->items[i].p == NULL)
                continue;
            size_t j = m->items[i].h & (ncap - 1);
            while (ni[j].p != NULL)
                j = (j + 1) & (ncap - 1);
            ni[j] = m->items[i];
        }
        free(m->items);
        m->items = ni;
        m->cap = ncap;
    }
    size_t mask = m->cap - 1;
    size_t i = h & mask;
    while (m->items[i].p != NULL)
        i = (i + 1) & mask;
    m->items[i].h = h;
    m->items[i].p = p;
    m->count++;
    return 0;
}

/* Frees every item with free() and empties the table (keeps nothing). */
static void pmap_free_all(struct pmap *m, void (*item_free)(void *))
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->items[i].p != NULL)
            item_free(m->items[i].p);
    free(m->items);
    m->items = NULL;
    m->cap = m->count = 0;
}

/* ---- errors and the journal --------------------------------------------- */

static void fail(struct state *s, int rc)
{
    if (s->err == 0)
        s->err = rc;
}

static struct jentry *journal_push(struct state *s, enum jkind kind, void *p)
{
    if (s->jlen == s->jcap) {
        size_t ncap = s->jcap ? s->jcap * 2 : 256;
        struct jentry *nj = realloc(s->journal, ncap * sizeof(*nj));
        if (nj == NULL) {
            fail(s, TC_ENOMEM);
            return &s->jdummy;
        }
        s->journal = nj;
        s->jcap = ncap;
    }
    struct jentry *e = &s->journal[s->jlen++];
    e->kind = (uint8_t)kind;
    e->p = p;
    return e;
}

uint64_t state_snapshot(const struct state *s)
{
    return s->jlen;
}

static void log_free_one(struct state_log_rec *l)
{
    free(l->data);
    l->data = NULL;
}

void state_revert_to(struct state *s, uint64_t mark)
{
    while (s->jlen > mark) {
        struct jentry *e = &s->journal[--s->jlen];
        struct acct *a = e->p;
        struct slot *sl = e->p;
        struct tslot *ts = e->p;
        switch ((enum jkind)e->kind) {
        case J_ACCOUNT:
            a->exists = e->u.acct.exists;
            a->cur = e->u.acct.a;
            break;
        case J_STORAGE:
            sl->has_current = e->u.slot.has_current;
            sl->current = e->u.slot.value;
            break;
        case J_CLEARED:
            a->cleared = e->u.flag;
            break;
        case J_TRANSIENT:
            ts->value = e->u.tslot.value;
            ts->tx = e->u.tslot.tx;
            break;
        case J_WARM_ACCOUNT:
            a->warm_tx = e->u.tag;
            break;
        case J_WARM_SLOT:
            sl->warm_tx = e->u.tag;
            break;
        case J_CREATED:
            a->created_tx = e->u.tag;
            break;
        case J_DESTRUCTED:
            a->destructed_tx = e->u.tag;
            break;
        case J_TOUCHED:
            if (memcmp(a->addr, RIPEMD_ADDRESS, 20) != 0)
                a->touched_tx = e->u.tag;
            break;
        case J_LOG:
            while (s->log_count > e->u.tag)
                log_free_one(&s->log_recs[--s->log_count]);
            break;
        }
    }
}

/* ---- accounts ----------------------------------------------------------- */

static bool acct_eq(const void *item, const void *key)
{
    return memcmp(((const struct acct *)item)->addr, key, 20) == 0;
}

const struct acct *state_find_acct(const struct state *s, const uint8_t addr[20])
{
    return pmap_get(&s->accts, state_hash_bytes(addr, 20), acct_eq, addr);
}

/* The cached account, loaded from the reader on first use; a dummy on failure. */
static struct acct *acct_get(struct state *s, const uint8_t addr[20])
{
    uint64_t h = state_hash_bytes(addr, 20);
    struct acct *a = pmap_get(&s->accts, h, acct_eq, addr);
    if (a != NULL)
        return a;
    if (s->err != 0)
        goto return_dummy;
    a = calloc(1, sizeof(*a));
    if (a == NULL) {
        fail(s, TC_ENOMEM);
        goto return_dummy;
    }
    memcpy(a->addr, addr, 20);
    int rc = s->reader.account(s->reader.ctx, addr, &a->committed, &a->committed_exists);
    if (rc != 0) {
        free(a);
        fail(s, rc);
        goto return_dummy;
    }
    if (!a->committed_exists)
        account_zero(&a->committed);
    a->exists = a->committed_exists;
    a->cur = a->committed;
    if (pmap_put(&s->accts, h, a) != 0) {
        free(a);
        fail(s, TC_ENOMEM);
        goto return_dummy;
    }
    if (s->acct_order_len == s->acct_order_cap) {
        size_t ncap = s->acct_order_cap ? s->acct_order_cap * 2 : 64;
        struct acct **no = realloc(s->acct_order, ncap * sizeof(*no));
        if (no == NULL) {
            fail(s, TC_ENOMEM);
            return a;
        }
        s->acct_order = no;
        s->acct_order_cap = ncap;
    }
    s->acct_order[s->acct_order_len++] = a;
    return a;

return_dummy:
    memset(&s->dummy, 0, sizeof(s->dummy));
    account_zero(&s->dummy.cur);
    account_zero(&s->dummy.committed);
    return &s->dummy;
}

static void list_push(struct state *s, struct acct ***list, size_t *len, size_t *cap,
                      struct acct *a)
{
    if (*len == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct acct **nl = realloc(*list, ncap * sizeof(*nl));
        if (nl == NULL) {
            fail(s, TC_ENOMEM);
            return;
        }
        *list = nl;
        *cap = ncap;
    }
    (*list)[(*len)++] = a;
}

/* Adds the account to this transaction's touched set (EIP-161), journaled. */
static void touch_tag(struct state *s, struct acct *a)
{
    if (a->touched_tx == s->tx)
        return;
    struct jentry *e = journal_push(s, J_TOUCHED, a);
    e->u.tag = a->touched_tx;
    a->touched_tx = s->tx;
    if (a->touch_listed_tx != s->tx && a != &s->dummy) {
        a->touch_listed_tx = s->tx;
        list_push(s, &s->touched, &s->touched_len, &s->touched_cap, a);
    }
}

/*
 * Journals the account's fields, then makes it exist. Every change touches
 * the account: as in Ethereum clients, an account changed by a transaction
 * and empty at its end is deleted (EIP-161).
 */
static void acct_modify(struct state *s, struct acct *a)
{
    struct jentry *e = journal_push(s, J_ACCOUNT, a);
    e->u.acct.exists = a->exists;
    e->u.acct.a = a->cur;
    a->exists = true;
    touch_tag(s, a);
}

bool state_exists(struct state *s, const uint8_t addr[20])
{
    return acct_get(s, addr)->exists;
}

bool state_is_dead(struct state *s, const uint8_t addr[20])
{
    struct acct *a = acct_get(s, addr);
    return !a->exists || state_account_is_empty(&a->cur);
}

void state_account_get(struct state *s, const uint8_t addr[20], struct state_account *out)
{
    struct acct *a = acct_get(s, addr);
    if (a->exists)
        *out = a->cur;
    else
        account_zero(out);
}

u256 state_balance(struct state *s, const uint8_t addr[20])
{
    struct acct *a = acct_get(s, addr);
    return a->exists ? a->cur.balance : u256_zero();
}

uint64_t state_nonce(struct state *s, const uint8_t addr[20])
{
    struct acct *a = acct_get(s, addr);
    return a->exists ? a->cur.nonce : 0;
}

void state_set_balance(struct state *s, const uint8_t addr[20], u256 balance)
{
    struct acct *a = acct_get(s, addr);
    acct_modify(s, a);
    a->cur.balance = balance;
}

void state_add_balance(struct state *s, const uint8_t addr[20], u256 amount)
{
    struct acct *a = acct_get(s, addr);
    acct_modify(s, a);
    a->cur.balance = u256_add(a->cur.balance, amount);
}

void state_sub_balance(struct state *s, const uint8_t addr[20], u256 amount)
{
    struct acct *a = acct_get(s, addr);
    acct_modify(s, a);
    a->cur.balance = u256_sub(a->cur.balance, amount);
}

void state_set_nonce(struct state *s, const uint8_t addr[20], uint64_t nonce)
{
    struct acct *a = acct_get(s, addr);
    acct_modify(s, a);
    a->cur.nonce = nonce;
}

void state_touch(struct state *s, const uint8_t addr[20])
{
    struct acct *a = acct_get(s, addr);
    if (!a->exists)
        acct_modify(s, a);
    else
        touch_tag(s, a);
}

/* ---- code --------------------------------------------------------------- */

static bool code_eq(const void *item, const void *key)
{
    return memcmp(((const struct code *)item)->hash, key, 32) == 0;
}

const struct code *state_find_code(const struct state *s, const uint8_t hash[32])
{
    return pmap_get(&s->codes, state_hash_bytes(hash, 32), code_eq, hash);
}

static struct code *code_insert(struct state *s, const uint8_t hash[32], uint8_t *ptr, size_t len,
                                bool is_new)
{
    struct code *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        free(ptr);
        fail(s, TC_ENOMEM);
        return NULL;
    }
    memcpy(c->hash, hash, 32);
    c->ptr = ptr;
    c->len = len;
    c->is_new = is_new;
    if (pmap_put(&s->codes, state_hash_bytes(hash, 32), c) != 0) {
        free(ptr);
        free(c);
        fail(s, TC_ENOMEM);
        return NULL;
    }
    return c;
}

void state_code(struct state *s, const uint8_t addr[20], const uint8_t **code, size_t *len)
{
    struct acct *a = acct_get(s, addr);
    *code = NULL;
    *len = 0;
    if (!a->exists || memcmp(a->cur.code_hash, STATE_EMPTY_CODE_HASH, 32) == 0)
        return;
    struct code *c =
        pmap_get(&s->codes, state_hash_bytes(a->cur.code_hash, 32), code_eq, a->cur.code_hash);
    if (c == NULL) {
        if (s->err != 0)
            return;
        struct bytes b;
        bytes_init(&b);
        int rc = s->reader.code(s->reader.ctx, a->cur.code_hash, &b);
        if (rc != 0) {
            bytes_free(&b);
            fail(s, rc);
            return;
        }
        size_t n;
        uint8_t *p = bytes_take(&b, &n);
        c = code_insert(s, a->cur.code_hash, p, n, false);
        if (c == NULL)
            return;
    }
    *code = c->ptr;
    *len = c->len;
}

void state_code_hash(struct state *s, const uint8_t addr[20], uint8_t hash[32])
{
    struct acct *a = acct_get(s, addr);
    memcpy(hash, a->exists ? a->cur.code_hash : STATE_EMPTY_CODE_HASH, 32);
}

void state_set_code(struct state *s, const uint8_t addr[20], const uint8_t *code, size_t len)
{
    uint8_t hash[32];
    keccak256(code, len, hash);
    struct acct *a = acct_get(s, addr);
    if (len > 0 && state_find_code(s, hash) == NULL) {
        uint8_t *p = malloc(len);
        if (p == NULL) {
            fail(s, TC_ENOMEM);
            return;
        }
        memcpy(p, code, len);
        if (code_insert(s, hash, p, len, true) == NULL)
            return;
    }
    acct_modify(s, a);
    memcpy(a->cur.code_hash, hash, 32);
}

/* ---- storage ------------------------------------------------------------ */

struct slot_key {
    const struct acct *acct;
    uint8_t slot[32];
};

static bool slot_eq(const void *item, const void *key)
{
    const struct slot *sl = item;
    const struct slot_key *k = key;
    return sl->acct == k->acct && memcmp(sl->key, k->slot, 32) == 0;
}

static uint64_t slot_hash(const uint8_t addr[20], const uint8_t slot[32])
{
    return mix64(state_hash_bytes(addr, 20) ^ state_hash_bytes(slot, 32));
}

const struct slot *state_find_slot(const struct state *s, const struct acct *a,
                                   const uint8_t slot[32])
{
    struct slot_key k = { .acct = a };
    memcpy(k.slot, slot, 32);
    return pmap_get(&s->slots, slot_hash(a->addr, slot), slot_eq, &k);
}

/* The slot's committed value, read once. */
static void slot_load(struct state *s, struct slot *sl)
{
    if (sl->loaded)
        return;
    if (!sl->acct->committed_exists) {
        sl->committed = u256_zero();
    } else {
        int rc = s->reader.storage(s->reader.ctx, sl->acct->addr, sl->key, &sl->committed);
        if (rc != 0) {
            fail(s, rc);
            sl->committed = u256_zero();
            return;
        }
    }
    sl->loaded = true;
}

/* The cached slot entry (committed value not necessarily loaded); a dummy on failure. */
static struct slot *slot_get(struct state *s, struct acct *a, u256 slot)
{
    struct slot_key k = { .acct = a };
    u256_to_be_bytes(slot, k.slot);
    uint64_t h = slot_hash(a->addr, k.slot);
    struct slot *sl = pmap_get(&s->slots, h, slot_eq, &k);
    if (sl != NULL)
        return sl;
    if (a == &s->dummy || s->err != 0)
        goto return_dummy;
    sl = calloc(1, sizeof(*sl));
    if (sl == NULL) {
        fail(s, TC_ENOMEM);
        goto return_dummy;
    }
    sl->acct = a;
    memcpy(sl->key, k.slot, 32);
    if (pmap_put(&s->slots, h, sl) != 0) {
        free(sl);
        fail(s, TC_ENOMEM);
        goto return_dummy;
    }
    sl->next = a->slots;
    a->slots = sl;
    return sl;

return_dummy:
    memset(&s->dummy_slot, 0, sizeof(s->dummy_slot));
    s->dummy_slot.acct = &s->dummy;
    s->dummy_slot.loaded = true;
    return &s->dummy_slot;
}

u256 state_slot_value(const struct slot *sl)
{
    if (sl->has_current)
        return sl->current;
    return sl->acct->cleared ? u256_zero() : sl->committed;
}

/* Fixes the slot's value at the start of this transaction before a change. */
static void slot_capture_original(struct state *s, struct slot *sl)
{
    if (sl->original_tx == s->tx)
        return;
    slot_load(s, sl);
    sl->original = state_slot_value(sl);
    sl->original_tx = s->tx;
}

u256 state_storage(struct state *s, const uint8_t addr[20], u256 slot)
{
    struct acct *a = acct_get(s, addr);
    struct slot *sl = slot_get(s, a, slot);
    if (!sl->has_current && !a->cleared)
        slot_load(s, sl);
    return state_slot_value(sl);
}

u256 state_original_storage(struct state *s, const uint8_t addr[20], u256 slot)
{
    struct acct *a = acct_get(s, addr);
    struct slot *sl = slot_get(s, a, slot);
    if (sl->original_tx == s->tx)
        return sl->original;
    /* Not changed in this transaction: the current value is the original,
       unless the account's storage was cleared in it. */
    if (a->cleared_tx == s->tx) {
        if (a->cleared_at_tx_start)
            return u256_zero();
        slot_load(s, sl);
        return sl->committed;
    }
    return state_storage(s, addr, slot);
}

void state_set_storage(struct state *s, const uint8_t addr[20], u256 slot, u256 value)
{
    struct acct *a = acct_get(s, addr);
    struct slot *sl = slot_get(s, a, slot);
    slot_capture_original(s, sl);
    if (!a->exists)
        acct_modify(s, a);
    struct jentry *e = journal_push(s, J_STORAGE, sl);
    e->u.slot.has_current = sl->has_current;
    e->u.slot.value = sl->current;
    sl->has_current = true;
    sl->current = value;
    sl->written = true;
    touch_tag(s, a);
}

/* Hides every committed slot and zeroes every cached one (CREATE, deletion). */
static void storage_clear(struct state *s, struct acct *a)
{
    if (a->cleared_tx != s->tx) {
        a->cleared_at_tx_start = a->cleared;
        a->cleared_tx = s->tx;
    }
    for (struct slot *sl = a->slots; sl != NULL; sl = sl->next) {
        slot_capture_original(s, sl);
        if (!sl->has_current)
            continue;
        struct jentry *e = journal_push(s, J_STORAGE, sl);
        e->u.slot.has_current = true;
        e->u.slot.value = sl->current;
        sl->has_current = false;
        sl->written = true;
    }
    if (!a->cleared) {
        struct jentry *e = journal_push(s, J_CLEARED, a);
        e->u.flag = false;
        a->cleared = true;
        for (struct slot *sl = a->slots; sl != NULL; sl = sl->next)
            sl->written = true;
    }
}

bool state_has_storage(struct state *s, const uint8_t addr[20])
{
    struct acct *a = acct_get(s, addr);
    for (struct slot *sl = a->slots; sl != NULL; sl = sl->next) {
        if (!sl->has_current && !a->cleared)
            slot_load(s, sl);
        if (!u256_is_zero(state_slot_value(sl)))
            return true;
    }
    if (a->cleared || !a->committed_exists || s->reader.has_storage == NULL)
        return false;
    bool has = false;
    int rc = s->reader.has_storage(s->reader.ctx, addr, &has);
    if (rc != 0)
        fail(s, rc);
    return has;
}

/* ---- transient storage -------------------------------------------------- */

static bool tslot_eq(const void *item, const void *key)
{
    return memcmp(((const struct tslot *)item)->key, key, 52) == 0;
}

static struct tslot *tslot_find(struct state *s, const uint8_t addr[20], u256 slot, bool create)
{
    uint8_t key[52];
    memcpy(key, addr, 20);
    u256_to_be_bytes(slot, key + 20);
    uint64_t h = state_hash_bytes(key, 52);
    struct tslot *ts = pmap_get(&s->tslots, h, tslot_eq, key);
    if (ts != NULL || !create)
        return ts;
    ts = calloc(1, sizeof(*ts));
    if (ts == NULL) {
        fail(s, TC_ENOMEM);
        return NULL;
    }
    memcpy(ts->key, key, 52);
    if (pmap_put(&s->tslots, h, ts) != 0) {
        free(ts);
        fail(s, TC_ENOMEM);
        return NULL;
    }
    return ts;
}

u256 state_transient(struct state *s, const uint8_t addr[20], u256 slot)
{
    struct tslot *ts = tslot_find(s, addr, slot, false);
    return ts != NULL && ts->tx == s->tx ? ts->value : u256_zero();
}

void state_set_transient(struct state *s, const uint8_t addr[20], u256 slot, u256 value)
{
    struct tslot *ts = tslot_find(s, addr, slot, true);
    if (ts == NULL)
        return;
    struct jentry *e = journal_push(s, J_TRANSIENT, ts);
    e->u.tslot.value = ts->value;
    e->u.tslot.tx = ts->tx;
    ts->value = value;
    ts->tx = s->tx;
}

/* ---- warm sets ---------------------------------------------------------- */

bool state_warm_account(struct state *s, const uint8_t addr[20])
{
    struct acct *a = acct_get(s, addr);
    if (a->warm_tx == s->tx)
        return true;
    struct jentry *e = journal_push(s, J_WARM_ACCOUNT, a);
    e->u.tag = a->warm_tx;
    a->warm_tx = s->tx;
    return false;
}

bool state_warm_slot(struct state *s, const uint8_t addr[20], u256 slot)
{
    struct slot *sl = slot_get(s, acct_get(s, addr), slot);
    if (sl->warm_tx == s->tx)
        return true;
    struct jentry *e = journal_push(s, J_WARM_SLOT, sl);
    e->u.tag = sl->warm_tx;
    sl->warm_tx = s->tx;
    return false;
}

/* ---- creation and self-destruction -------------------------------------- */

void state_create_account(struct state *s, const uint8_t addr[20])
{
    struct acct *a = acct_get(s, addr);
    acct_modify(s, a);
    if (a->created_tx != s->tx) {
        struct jentry *e = journal_push(s, J_CREATED, a);
        e->u.tag = a->created_tx;
        a->created_tx = s->tx;
    }
    storage_clear(s, a);
}

bool state_is_created(struct state *s, const uint8_t addr[20])
{
    return acct_get(s, addr)->created_tx == s->tx;
}

void state_selfdestruct(struct state *s, const uint8_t addr[20], const uint8_t beneficiary[20])
{
    struct acct *a = acct_get(s, addr);
    u256 balance = a->exists ? a->cur.balance : u256_zero();
    if (memcmp(addr, beneficiary, 20) != 0) {
        state_add_balance(s, beneficiary, balance);
        state_set_balance(s, addr, u256_zero());
    }
    if (a->created_tx != s->tx)
        return;
    state_set_balance(s, addr, u256_zero());
    if (a->destructed_tx != s->tx) {
        struct jentry *e = journal_push(s, J_DESTRUCTED, a);
        e->u.tag = a->destructed_tx;
        a->destructed_tx = s->tx;
        if (a->destruct_listed_tx != s->tx && a != &s->dummy) {
            a->destruct_listed_tx = s->tx;
            list_push(s, &s->destructed, &s->destructed_len, &s->destructed_cap, a);
        }
    }
}

/* ---- logs --------------------------------------------------------------- */

void state_add_log(struct state *s, const uint8_t addr[20], const uint8_t (*topics)[32],
                   size_t topic_count, const uint8_t *data, size_t data_len)
{
    if (topic_count > LOG_MAX_TOPICS) {
        fail(s, TC_EINVAL);
        return;
    }
    if (s->log_count == s->log_cap) {
        size_t ncap = s->log_cap ? s->log_cap * 2 : 16;
        struct state_log_rec *nr = realloc(s->log_recs, ncap * sizeof(*nr));
        struct log *nl = realloc(s->logs, ncap * sizeof(*nl));
        if (nr != NULL)
            s->log_recs = nr;
        if (nl != NULL)
            s->logs = nl;
        if (nr == NULL || nl == NULL) {
            fail(s, TC_ENOMEM);
            return;
        }
        s->log_cap = ncap;
    }
    struct state_log_rec *r = &s->log_recs[s->log_count];
    r->data = NULL;
    if (data_len > 0) {
        r->data = malloc(data_len);
        if (r->data == NULL) {
            fail(s, TC_ENOMEM);
            return;
        }
        memcpy(r->data, data, data_len);
    }
    struct log *l = &s->logs[s->log_count];
    memcpy(l->address, addr, 20);
    l->topic_count = (uint8_t)topic_count;
    for (size_t i = 0; i < topic_count; i++)
        memcpy(l->topics[i], topics[i], 32);
    l->data = bytes_view_of(r->data, data_len);
    struct jentry *e = journal_push(s, J_LOG, NULL);
    e->u.tag = s->log_count;
    s->log_count++;
}

void state_logs(const struct state *s, const struct log **logs, size_t *count)
{
    *logs = s->logs;
    *count = s->log_count;
}

/* ---- transactions ------------------------------------------------------- */

static void free_item(void *p)
{
    free(p);
}

void state_tx_begin(struct state *s)
{
    s->tx++;
    s->jlen = 0;
    while (s->log_count > 0)
        log_free_one(&s->log_recs[--s->log_count]);
    s->touched_len = 0;
    s->destructed_len = 0;
    if (s->tslots.count > 0)
        pmap_free_all(&s->tslots, free_item);
}

static void acct_delete(struct state *s, struct acct *a)
{
    storage_clear(s, a);
    acct_modify(s, a);
    a->exists = false;
    account_zero(&a->cur);
}

void state_tx_end(struct state *s, bool delete_empty)
{
    for (size_t i = 0; i < s->destructed_len; i++) {
        struct acct *a = s->destructed[i];
        if (a->destructed_tx == s->tx && a->created_tx == s->tx)
            acct_delete(s, a);
    }
    if (delete_empty) {
        for (size_t i = 0; i < s->touched_len; i++) {
            struct acct *a = s->touched[i];
            if (a->touched_tx == s->tx && a->exists && state_account_is_empty(&a->cur))
                acct_delete(s, a);
        }
    }
    s->jlen = 0;
}

/* ---- life cycle --------------------------------------------------------- */

int state_new(const struct state_reader *reader, struct state **out)
{
    struct state *s = calloc(1, sizeof(*s));
    *out = NULL;
    if (s == NULL)
        return TC_ENOMEM;
    s->reader = *reader;
    s->tx = 1;
    *out = s;
    return 0;
}

static void code_free(void *p)
{
    struct code *c = p;
    free(c->ptr);
    free(c);
}

void state_free(struct state *s)
{
    if (s == NULL)
        return;
    pmap_free_all(&s->accts, free_item);
    pmap_free_all(&s->slots, free_item);
    pmap_free_all(&s->tslots, free_item);
    pmap_free_all(&s->codes, code_free);
    while (s->log_count > 0)
        log_free_one(&s->log_recs[--s->log_count]);
    free(s->log_recs);
    free(s->logs);
    free(s->journal);
    free(s->acct_order);
    free(s->touched);
    free(s->destructed);
    free(s);
}

int state_error(const struct state *s)
{
    return s->err;
}

/* ---- write-set ---------------------------------------------------------- */

static int writeset_account(struct state *s, struct acct *a, struct writeset *out,
                            struct bytes *buf)
{
    int rc = 0;
    if (!a->exists) {
        if (a->committed_exists)
            rc = writeset_delete(out, WRITESET_NS_ACCOUNT, a->addr, 20);
        return rc;
    }
    if (!a->committed_exists || !account_equal(&a->cur, &a->committed)) {
        bytes_clear(buf);
        if ((rc = state_account_encode(&a->cur, buf)) != 0)
            return rc;
        if ((rc = writeset_put(out, WRITESET_NS_ACCOUNT, a->addr, 20, buf->ptr, buf->len)) != 0)
            return rc;
    }
    if (memcmp(a->cur.code_hash, a->committed.code_hash, 32) != 0 || !a->committed_exists) {
        const struct code *c = state_find_code(s, a->cur.code_hash);
        if (c != NULL && c->is_new && c->len > 0)
            rc = writeset_put(out, WRITESET_NS_CODE, c->hash, 32, c->ptr, c->len);
    }
    return rc;
}

static int writeset_slots(struct state *s, struct acct *a, struct writeset *out)
{
    uint8_t key[52];
    memcpy(key, a->addr, 20);
    for (struct slot *sl = a->slots; sl != NULL; sl = sl->next) {
        if (!sl->written)
            continue;
        slot_load(s, sl);
        if (s->err != 0)
            return s->err;
        u256 v = a->exists ? state_slot_value(sl) : u256_zero();
        if (u256_eq(v, sl->committed))
            continue;
        memcpy(key + 20, sl->key, 32);
        int rc;
        if (u256_is_zero(v)) {
            rc = writeset_delete(out, WRITESET_NS_STORAGE, key, 52);
        } else {
            uint8_t be[32];
            size_t n = u256_to_be_trimmed(v, be);
            rc = writeset_put(out, WRITESET_NS_STORAGE, key, 52, be, n);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

int state_writeset(struct state *s, struct writeset *out)
{
    if (s->err != 0)
        return s->err;
    struct bytes buf;
    bytes_init(&buf);
    int rc = 0;
    for (size_t i = 0; i < s->acct_order_len && rc == 0; i++) {
        struct acct *a = s->acct_order[i];
        rc = writeset_account(s, a, out, &buf);
        if (rc == 0)
            rc = writeset_slots(s, a, out);
    }
    bytes_free(&buf);
    if (rc != 0)
        return rc;
    return writeset_canonicalize(out);
}

/* ---- a state as the reader of the next layer ---------------------------- */

static int layer_account(void *ctx, const uint8_t addr[20], struct state_account *out, bool *exists)
{
    const struct state *s = ctx;
    const struct acct *a = state_find_acct(s, addr);
    if (a == NULL)
        return s->reader.account(s->reader.ctx, addr, out, exists);
    *exists = a->exists;
    if (a->exists)
        *out = a->cur;
    else
        account_zero(out);
    return 0;
}

static int layer_storage(void *ctx, const uint8_t addr[20], const uint8_t slot[32], u256 *out)
{
    const struct state *s = ctx;
    const struct acct *a = state_find_acct(s, addr);
    if (a == NULL)
        return s->reader.storage(s->reader.ctx, addr, slot, out);
    if (!a->exists) {
        *out = u256_zero();
        return 0;
    }
    const struct slot *sl = state_find_slot(s, a, slot);
    if (sl != NULL && (sl->has_current || sl->loaded || a->cleared)) {
        *out = state_slot_value(sl);
        return 0;
    }
    if (a->cleared || !a->committed_exists) {
        *out = u256_zero();
        return 0;
    }
    return s->reader.storage(s->reader.ctx, addr, slot, out);
}

static int layer_code(void *ctx, const uint8_t hash[32], struct bytes *out)
{
    const struct state *s = ctx;
    const struct code *c = state_find_code(s, hash);
    if (c != NULL)
        return bytes_append(out, c->ptr, c->len);
    return s->reader.code(s->reader.ctx, hash, out);
}

static int layer_has_storage(void *ctx, const uint8_t addr[20], bool *out)
{
    const struct state *s = ctx;
    const struct acct *a = state_find_acct(s, addr);
    *out = false;
    if (a == NULL) {
        if (s->reader.has_storage == NULL)
            return 0;
        return s->reader.has_storage(s->reader.ctx, addr, out);
    }
    if (!a->exists)
        return 0;
    for (const struct slot *sl = a->slots; sl != NULL; sl = sl->next) {
        if ((sl->has_current || sl->loaded || a->cleared) && !u256_is_zero(state_slot_value(sl))) {
            *out = true;
            return 0;
        }
    }
    if (a->cleared || !a->committed_exists || s->reader.has_storage == NULL)
        return 0;
    return s->reader.has_storage(s->reader.ctx, addr, out);
}

void state_rebase(struct state *s, const struct state_reader *r)
{
    s->reader = *r;
}

void state_as_reader(const struct state *s, struct state_reader *out)
{
    out->account = layer_account;
    out->storage = layer_storage;
    out->code = layer_code;
    out->has_storage = layer_has_storage;
    out->ctx = (void *)s;
}
