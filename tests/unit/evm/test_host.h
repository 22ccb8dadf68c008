/*
 * test_host.h - a small in-memory, journaled implementation of struct
 * evm_host for the EVM's unit tests and benchmark (header-only: every test
 * program is one translation unit).
 *
 * State lives in fixed arrays (bounded: a test that needs more fails), so
 * that a journal entry can simply be "these bytes at this address were X":
 * every mutation goes through th_write, which records the old bytes first,
 * and revert_to copies them back in reverse order. Code and log data are
 * copied into buffers kept until test_host_free, so views handed to the EVM
 * stay valid for the whole "transaction".
 *
 * Usage:
 *     struct test_host *th = test_host_new();
 *     th_account_set(th, &addr, balance, nonce, code, code_len);
 *     th_storage_set(th, &addr, key, value);          // also the original value
 *     evm_execute(vm, &th->host, &th->tx, &msg, &res);
 *     u256 v = th_storage_get(th, &addr, key);
 *     test_host_free(th);
 */
#ifndef TC_TESTS_EVM_TEST_HOST_H
#define TC_TESTS_EVM_TEST_HOST_H

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "crypto/keccak.h"
#include "evm/evm.h"

/* Bounds of the fixed arrays; a user may define larger ones first. */
#ifndef TH_MAX_ACCOUNTS
#define TH_MAX_ACCOUNTS 32
#endif
#ifndef TH_MAX_SLOTS
#define TH_MAX_SLOTS 128
#endif
#ifndef TH_MAX_LOGS
#define TH_MAX_LOGS 64
#endif
#ifndef TH_MAX_BLOBS
#define TH_MAX_BLOBS 4096
#endif
#define TH_UNDO_BYTES 64

struct th_account {
    evm_address addr;
    u256 balance;
    uint64_t nonce;
    const uint8_t *code;
    size_t code_len;
    evm_bytes32 code_hash;
    bool exists, warm, created, destructed;
    bool touched; /* EIP-161: an empty touched account is deleted after the tx */
};

struct th_slot {
    evm_address addr;
    u256 key, value, original;
    bool warm;
};

struct th_log {
    evm_address addr;
    evm_bytes32 topics[4];
    size_t topics_count;
    const uint8_t *data;
    size_t data_len;
};

struct th_undo {
    void *ptr;
    size_t len;
    uint8_t old[TH_UNDO_BYTES];
};

struct test_host {
    struct evm_host host;
    struct evm_tx_context tx;
    struct th_account accounts[TH_MAX_ACCOUNTS];
    size_t n_accounts;
    struct th_slot slots[TH_MAX_SLOTS];
    size_t n_slots;
    struct th_slot tslots[TH_MAX_SLOTS];
    size_t n_tslots;
    struct th_log logs[TH_MAX_LOGS];
    size_t n_logs;
    uint8_t *blobs[TH_MAX_BLOBS];
    size_t n_blobs;
    struct th_undo *journal;
    size_t journal_len, journal_cap;
    bool journal_off; /* set-up writes are not journaled */
    bool overflowed;  /* a fixed array was too small: the test is invalid */
};

static inline struct test_host *th_of(void *ctx)
{
    return (struct test_host *)ctx;
}

/* Writes len bytes at ptr, journaling the old bytes. */
static inline void th_write(struct test_host *th, void *ptr, const void *src, size_t len)
{
    if (!th->journal_off) {
        if (th->journal_len == th->journal_cap) {
            size_t cap = th->journal_cap ? th->journal_cap * 2 : 1024;
            struct th_undo *j = realloc(th->journal, cap * sizeof(*j));
            if (j == NULL)
                abort();
            th->journal = j;
            th->journal_cap = cap;
        }
        struct th_undo *u = &th->journal[th->journal_len++];
        u->ptr = ptr;
        u->len = len;
        memcpy(u->old, ptr, len);
    }
    memmove(ptr, src, len);
}

#define TH_SET(th, field, value)                                                                   \
    do {                                                                                           \
        __typeof__(field) v_ = (value);                                                            \
        th_write((th), &(field), &v_, sizeof(v_));                                                 \
    } while (0)

static inline const uint8_t *th_keep(struct test_host *th, const void *data, size_t len)
{
    if (len == 0)
        return NULL;
    if (th->n_blobs == TH_MAX_BLOBS) {
        th->overflowed = true;
        return NULL;
    }
    uint8_t *p = malloc(len);
    if (p == NULL)
        abort();
    memcpy(p, data, len);
    th->blobs[th->n_blobs++] = p;
    return p;
}

static inline struct th_account *th_find(struct test_host *th, const evm_address *a)
{
    for (size_t i = 0; i < th->n_accounts; i++)
        if (memcmp(th->accounts[i].addr.bytes, a->bytes, 20) == 0)
            return &th->accounts[i];
    return NULL;
}

/* The account's entry, created (not existing) if absent. */
static inline struct th_account *th_entry(struct test_host *th, const evm_address *a)
{
    struct th_account *acc = th_find(th, a);
    if (acc != NULL)
        return acc;
    if (th->n_accounts == TH_MAX_ACCOUNTS) {
        th->overflowed = true;
        abort();
    }
    acc = &th->accounts[th->n_accounts];
    struct th_account fresh;
    memset(&fresh, 0, sizeof(fresh));
    fresh.addr = *a;
    keccak256(NULL, 0, fresh.code_hash.bytes);
    memcpy(acc, &fresh, sizeof(fresh)); /* beyond n_accounts: undoing the count suffices */
    TH_SET(th, th->n_accounts, th->n_accounts + 1);
    return acc;
}

static inline struct th_slot *th_slot_in(struct test_host *th, struct th_slot *slots, size_t *n,
                                         const evm_address *a, const u256 *key, bool create)
{
    for (size_t i = 0; i < *n; i++)
        if (memcmp(slots[i].addr.bytes, a->bytes, 20) == 0 && u256_eq(slots[i].key, *key))
            return &slots[i];
    if (!create)
        return NULL;
    if (*n == TH_MAX_SLOTS) {
        th->overflowed = true;
        abort();
    }
    struct th_slot *s = &slots[*n];
    memset(s, 0, sizeof(*s));
    s->addr = *a;
    s->key = *key;
    TH_SET(th, *n, *n + 1);
    return s;
}

/* ---- callbacks ---------------------------------------------------------- */

static bool th_account_is_dead(void *ctx, const evm_address *addr)
{
    struct th_account *acc = th_find(th_of(ctx), addr);
    return acc == NULL || !acc->exists ||
           (acc->nonce == 0 && u256_is_zero(acc->balance) && acc->code_len == 0);
}

static u256 th_get_balance(void *ctx, const evm_address *addr)
{
    struct th_account *acc = th_find(th_of(ctx), addr);
    return acc == NULL ? u256_zero() : acc->balance;
}

static void th_transfer(void *ctx, const evm_address *from, const evm_address *to, u256 value)
{
    struct test_host *th = th_of(ctx);
    struct th_account *f = th_entry(th, from);
    TH_SET(th, f->balance, u256_sub(f->balance, value));
    struct th_account *t = th_entry(th, to);
    TH_SET(th, t->exists, true);
    TH_SET(th, t->touched, true);
    TH_SET(th, t->balance, u256_add(t->balance, value));
}

static uint64_t th_get_nonce(void *ctx, const evm_address *addr)
{
    struct th_account *acc = th_find(th_of(ctx), addr);
    return acc == NULL ? 0 : acc->nonce;
}

static void th_set_nonce(void *ctx, const evm_address *addr, uint64_t nonce)
{
    struct test_host *th = th_of(ctx);
    struct th_account *acc = th_entry(th, addr);
    TH_SET(th, acc->exists, true);
    TH_SET(th, acc->nonce, nonce);
}

static bool th_has_storage(void *ctx, const evm_address *addr)
{
    struct test_host *th = th_of(ctx);
    for (size_t i = 0; i < th->n_slots; i++)
        if (memcmp(th->slots[i].addr.bytes, addr->bytes, 20) == 0 &&
            !u256_is_zero(th->slots[i].value))
            return true;
    return false;
}

static void th_get_code(void *ctx, const evm_address *addr, const uint8_t **code, size_t *len)
{
    struct th_account *acc = th_find(th_of(ctx), addr);
    *code = acc == NULL ? NULL : acc->code;
    *len = acc == NULL ? 0 : acc->code_len;
}

static evm_bytes32 th_get_code_hash(void *ctx, const evm_address *addr)
{
    struct th_account *acc = th_find(th_of(ctx), addr);
    evm_bytes32 h;
    if (acc != NULL)
        return acc->code_hash;
    keccak256(NULL, 0, h.bytes);
    return h;
}

static void th_set_code(void *ctx, const evm_address *addr, const uint8_t *code, size_t len)
{
    struct test_host *th = th_of(ctx);
    struct th_account *acc = th_entry(th, addr);
    evm_bytes32 h;
    keccak256(code, len, h.bytes);
    TH_SET(th, acc->code, th_keep(th, code, len));
    TH_SET(th, acc->code_len, len);
    TH_SET(th, acc->code_hash, h);
}

static void th_create_account(void *ctx, const evm_address *addr)
{
    struct test_host *th = th_of(ctx);
    struct th_account *acc = th_entry(th, addr);
    TH_SET(th, acc->exists, true);
    TH_SET(th, acc->created, true);
    TH_SET(th, acc->touched, true);
    for (size_t i = 0; i < th->n_slots; i++)
        if (memcmp(th->slots[i].addr.bytes, addr->bytes, 20) == 0)
            TH_SET(th, th->slots[i].value, u256_zero());
}

static u256 th_get_storage(void *ctx, const evm_address *addr, const u256 *key)
{
    struct test_host *th = th_of(ctx);
    struct th_slot *s = th_slot_in(th, th->slots, &th->n_slots, addr, key, false);
    return s == NULL ? u256_zero() : s->value;
}

static u256 th_get_original_storage(void *ctx, const evm_address *addr, const u256 *key)
{
    struct test_host *th = th_of(ctx);
    struct th_slot *s = th_slot_in(th, th->slots, &th->n_slots, addr, key, false);
    return s == NULL ? u256_zero() : s->original;
}

static void th_set_storage(void *ctx, const evm_address *addr, const u256 *key, const u256 *value)
{
    struct test_host *th = th_of(ctx);
    struct th_slot *s = th_slot_in(th, th->slots, &th->n_slots, addr, key, true);
    TH_SET(th, s->value, *value);
}

static u256 th_get_transient(void *ctx, const evm_address *addr, const u256 *key)
{
    struct test_host *th = th_of(ctx);
    struct th_slot *s = th_slot_in(th, th->tslots, &th->n_tslots, addr, key, false);
    return s == NULL ? u256_zero() : s->value;
}

static void th_set_transient(void *ctx, const evm_address *addr, const u256 *key, const u256 *value)
{
    struct test_host *th = th_of(ctx);
    struct th_slot *s = th_slot_in(th, th->tslots, &th->n_tslots, addr, key, true);
    TH_SET(th, s->value, *value);
}

static bool th_access_account(void *ctx, const evm_address *addr)
{
    struct test_host *th = th_of(ctx);
    struct th_account *acc = th_entry(th, addr);
    bool was = acc->warm;
    if (!was)
        TH_SET(th, acc->warm, true);
    return was;
}

static bool th_access_storage(void *ctx, const evm_address *addr, const u256 *key)
{
    struct test_host *th = th_of(ctx);
    struct th_slot *s = th_slot_in(th, th->slots, &th->n_slots, addr, key, true);
    bool was = s->warm;
    if (!was)
        TH_SET(th, s->warm, true);
    return was;
}

static void th_selfdestruct(void *ctx, const evm_address *addr, const evm_address *beneficiary)
{
    struct test_host *th = th_of(ctx);
    struct th_account *acc = th_entry(th, addr);
    u256 bal = acc->balance;
    if (memcmp(addr->bytes, beneficiary->bytes, 20) != 0) {
        struct th_account *b = th_entry(th, beneficiary);
        TH_SET(th, b->exists, true);
        TH_SET(th, b->touched, true);
        TH_SET(th, b->balance, u256_add(b->balance, bal));
        TH_SET(th, acc->balance, u256_zero());
    }
    if (acc->created) {
        TH_SET(th, acc->destructed, true);
        TH_SET(th, acc->balance, u256_zero());
    }
}

static void th_emit_log(void *ctx, const evm_address *addr, const evm_bytes32 *topics,
                        size_t topics_count, const uint8_t *data, size_t data_len)
{
    struct test_host *th = th_of(ctx);
    if (th->n_logs == TH_MAX_LOGS) {
        th->overflowed = true;
        return;
    }
    struct th_log *l = &th->logs[th->n_logs];
    memset(l, 0, sizeof(*l));
    l->addr = *addr;
    memcpy(l->topics, topics, topics_count * sizeof(*topics));
    l->topics_count = topics_count;
    l->data = th_keep(th, data, data_len);
    l->data_len = data_len;
    TH_SET(th, th->n_logs, th->n_logs + 1);
}

/* Block hashes are keccak256 of the 8-byte big-endian number. */
static evm_bytes32 th_get_block_hash(void *ctx, uint64_t number)
{
    (void)ctx;
    uint8_t be[8];
    evm_bytes32 h;
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(number >> (56 - 8 * i));
    keccak256(be, sizeof(be), h.bytes);
    return h;
}

static uint64_t th_snapshot(void *ctx)
{
    return th_of(ctx)->journal_len;
}

static void th_revert_to(void *ctx, uint64_t mark)
{
    struct test_host *th = th_of(ctx);
    while (th->journal_len > mark) {
        struct th_undo *u = &th->journal[--th->journal_len];
        memcpy(u->ptr, u->old, u->len);
    }
}

static const struct evm_host_ops TH_OPS = {
    .account_is_dead = th_account_is_dead,
    .get_balance = th_get_balance,
    .transfer = th_transfer,
    .get_nonce = th_get_nonce,
    .set_nonce = th_set_nonce,
    .has_storage = th_has_storage,
    .get_code = th_get_code,
    .get_code_hash = th_get_code_hash,
    .set_code = th_set_code,
    .create_account = th_create_account,
    .get_storage = th_get_storage,
    .get_original_storage = th_get_original_storage,
    .set_storage = th_set_storage,
    .get_transient_storage = th_get_transient,
    .set_transient_storage = th_set_transient,
    .access_account = th_access_account,
    .access_storage = th_access_storage,
    .selfdestruct = th_selfdestruct,
    .emit_log = th_emit_log,
    .get_block_hash = th_get_block_hash,
    .snapshot = th_snapshot,
    .revert_to = th_revert_to,
};

/* ---- set-up and inspection (not journaled) ------------------------------ */

static inline struct test_host *test_host_new(void)
{
    struct test_host *th = calloc(1, sizeof(*th));
    if (th == NULL)
        abort();
    th->host.ops = &TH_OPS;
    th->host.ctx = th;
    th->tx.chain_id = u256_one();
    th->tx.number = 1000;
    th->tx.timestamp = 1700000000;
    th->tx.gas_limit = 30000000;
    return th;
}

static inline void test_host_free(struct test_host *th)
{
    for (size_t i = 0; i < th->n_blobs; i++)
        free(th->blobs[i]);
    free(th->journal);
    free(th);
}

/* Forgets the journal (as at the start of a new transaction). */
static inline void th_commit(struct test_host *th)
{
    th->journal_len = 0;
}

static inline evm_address th_addr(uint64_t n)
{
    evm_address a;
    memset(&a, 0, sizeof(a));
    for (int i = 0; i < 8; i++)
        a.bytes[19 - i] = (uint8_t)(n >> (8 * i));
    return a;
}

static inline void th_account_set(struct test_host *th, const evm_address *a, u256 balance,
                                  uint64_t nonce, const uint8_t *code, size_t code_len)
{
    th->journal_off = true;
    struct th_account *acc = th_entry(th, a);
    acc->exists = true;
    acc->balance = balance;
    acc->nonce = nonce;
    acc->code = th_keep(th, code, code_len);
    acc->code_len = code_len;
    keccak256(code, code_len, acc->code_hash.bytes);
    th->journal_off = false;
}

static inline void th_storage_set(struct test_host *th, const evm_address *a, u256 key, u256 value)
{
    th->journal_off = true;
    struct th_slot *s = th_slot_in(th, th->slots, &th->n_slots, a, &key, true);
    s->value = value;
    s->original = value;
    th->journal_off = false;
}

static inline u256 th_storage_get(struct test_host *th, const evm_address *a, u256 key)
{
    return th_get_storage(th, a, &key);
}

static inline void th_storage_warm(struct test_host *th, const evm_address *a, u256 key)
{
    th->journal_off = true;
    th_slot_in(th, th->slots, &th->n_slots, a, &key, true)->warm = true;
    th->journal_off = false;
}

/* Code from hex text (no prefix); aborts on bad hex (a bug in the test). */
static inline size_t th_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (hex_decode(hex, strlen(hex), out, cap, &n) != 0)
        abort();
    return n;
}

static inline void th_warm(struct test_host *th, const evm_address *a)
{
    th->journal_off = true;
    th_entry(th, a)->warm = true;
    th->journal_off = false;
}

#endif
