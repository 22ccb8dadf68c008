/*
 * ledger_impl.h - private to the ledger: the struct behind struct ledger, the
 * record keys of the schema in ledger.h, and the per-thread error message.
 * ledger.c opens, builds genesis and applies; ledger_read.c answers reads.
 */
#ifndef TC_STORE_LEDGER_IMPL_H
#define TC_STORE_LEDGER_IMPL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "store/ledger.h"

/* Record tags (first key byte) inside a namespace; see ledger.h. */
#define LEDGER_TAG_BLOCK     'B'
#define LEDGER_TAG_HEADER    'H'
#define LEDGER_TAG_TXHASHES  'T'
#define LEDGER_TAG_WRITESET  'W'
#define LEDGER_TAG_RAFT      'R'
#define LEDGER_TAG_BY_HASH   'h'
#define LEDGER_TAG_BY_NUMBER 'n'
#define LEDGER_STATE_ACCOUNT 0x01
#define LEDGER_STATE_STORAGE 0x02
#define LEDGER_STATE_SLOTS   0x03

#define LEDGER_META_VERSION "version"
#define LEDGER_META_GENESIS "genesis"
#define LEDGER_META_HEAD    "head"
#define LEDGER_META_APPLIED "applied"
#define LEDGER_META_TXCOUNT "txcount"
#define LEDGER_META_FAILED  "txfailed"

/* Fixed part of a transactions record: number || tx index || first log index. */
#define LEDGER_TX_RECORD_HEAD 16

struct ledger {
    struct store *store;
    pthread_mutex_t apply_lock; /* one writer at a time */
    pthread_mutex_t lock;       /* guards the cached metadata below */
    struct ledger_head head;
    uint64_t applied_index;
    uint64_t applied_term;
    uint64_t tx_count;
    uint64_t failed_tx_count;
    uint8_t genesis_hash[32];
};

static inline void ledger_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static inline uint64_t ledger_get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static inline void ledger_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline uint32_t ledger_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* tag || be64(number): the key of a per-block record. */
static inline void ledger_number_key(uint8_t key[9], uint8_t tag, uint64_t number)
{
    key[0] = tag;
    ledger_put_be64(key + 1, number);
}

/* be64(number) || be32(index): the key of a receipt. */
static inline void ledger_receipt_key(uint8_t key[12], uint64_t number, uint32_t index)
{
    ledger_put_be64(key, number);
    ledger_put_be32(key + 8, index);
}

/* Sets the calling thread's message and returns rc. */
int ledger_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clears the calling thread's message. */
void ledger_clear_error(void);

#endif
