/*
 * state_internal.h - the state cache's private structures, shared by
 * state.c (cache, journal, write-set) and state_host.c (the EVM host).
 */
#ifndef TC_STATE_STATE_INTERNAL_H
#define TC_STATE_STATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state/state.h"

/* Open-addressing table of pointers with their hashes; capacity a power of two. */
struct pmap_item {
    uint64_t h;
    void *p;
};

struct pmap {
    struct pmap_item *items;
    size_t cap;
    size_t count;
};

struct slot;

/* A cached account. Tags (*_tx) hold the sequence number of the transaction
   that set them; a tag equal to state.tx means "in the set". */
struct acct {
    uint8_t addr[20];
    bool committed_exists;
    bool exists;
    bool cleared;             /* committed storage hidden (created over or deleted) */
    bool cleared_at_tx_start; /* `cleared` when this tx first cleared it */
    struct state_account committed;
    struct state_account cur;
    struct slot *slots; /* this account's cached slots */
    uint64_t cleared_tx;
    uint64_t warm_tx;
    uint64_t created_tx;
    uint64_t destructed_tx;
    uint64_t touched_tx;
    uint64_t touch_listed_tx;    /* already in state.touched this tx */
    uint64_t destruct_listed_tx; /* already in state.destructed this tx */
};

struct slot {
    struct slot *next; /* next slot of the same account */
    struct acct *acct;
    uint8_t key[32];
    bool loaded;      /* committed is valid */
    bool has_current; /* current overrides committed (and `cleared`) */
    bool written;     /* changed at least once: a write-set candidate */
    u256 committed;
    u256 current;
    u256 original; /* value at the start of transaction original_tx */
    uint64_t original_tx;
    uint64_t warm_tx;
};

struct tslot {
    uint8_t key[52]; /* address || slot */
    u256 value;
    uint64_t tx; /* value is zero unless tx == state.tx */
};

struct code {
    uint8_t hash[32];
    uint8_t *ptr;
    size_t len;
    bool is_new; /* installed by state_set_code (not read from the reader) */
};

enum jkind {
    J_ACCOUNT,
    J_STORAGE,
    J_CLEARED,
    J_TRANSIENT,
    J_WARM_ACCOUNT,
    J_WARM_SLOT,
    J_CREATED,
    J_DESTRUCTED,
    J_TOUCHED,
    J_LOG,
};

/* One undo record: the previous value of what kind/p names. */
struct jentry {
    uint8_t kind;
    void *p;
    union {
        struct {
            bool exists;
            struct state_account a;
        } acct;
        struct {
            bool has_current;
            u256 value;
        } slot;
        struct {
            u256 value;
            uint64_t tx;
        } tslot;
        uint64_t tag;
        bool flag;
    } u;
};

struct state_log_rec {
    uint8_t *data; /* owned copy of the log's data */
};

struct state {
    struct state_reader reader;
    int err;
    uint64_t tx; /* sequence number of the current transaction, from 1 */

    struct pmap accts;        /* struct acct, by address */
    struct pmap slots;        /* struct slot, by (acct, slot) */
    struct pmap tslots;       /* struct tslot, by address || slot */
    struct pmap codes;        /* struct code, by hash */
    struct acct **acct_order; /* accounts in load order (write-set walk) */
    size_t acct_order_len, acct_order_cap;

    struct jentry *journal;
    size_t jlen, jcap;
    struct jentry jdummy; /* target of a journal push that could not grow */

    struct acct **touched; /* candidates for EIP-161 deletion this tx */
    size_t touched_len, touched_cap;
    struct acct **destructed; /* candidates for EIP-6780 deletion this tx */
    size_t destructed_len, destructed_cap;

    struct log *logs; /* views of log_recs' data */
    struct state_log_rec *log_recs;
    size_t log_count, log_cap;

    struct acct dummy; /* returned after a failure (the state is then dead) */
    struct slot dummy_slot;

    state_block_hash_fn block_hash;
    void *block_hash_ctx;
};

uint64_t state_hash_bytes(const uint8_t *p, size_t len);
void *pmap_get(const struct pmap *m, uint64_t h, bool (*eq)(const void *, const void *),
               const void *key);
int pmap_put(struct pmap *m, uint64_t h, void *p);

const struct acct *state_find_acct(const struct state *s, const uint8_t addr[20]);
const struct slot *state_find_slot(const struct state *s, const struct acct *a,
                                   const uint8_t slot[32]);
const struct code *state_find_code(const struct state *s, const uint8_t hash[32]);
u256 state_slot_value(const struct slot *sl);

#endif
