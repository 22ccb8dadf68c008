/*
 * chain_fixture.h - builds a consistent, sealed block entry for the chain
 * tests, the fuzz seed corpus and bench_chain: n signed transfers (cycling
 * through legacy EIP-155, EIP-2930 and EIP-1559), one receipt each (every
 * third with a log), a write-set of two account updates per transfer (the
 * recipient's and a distinct sender's) plus
 * one storage write per log, and a header filled and sealed from them.
 * Everything is owned by struct chain_fixture; free with chain_fixture_free().
 */
#ifndef TC_TESTS_CHAIN_FIXTURE_H
#define TC_TESTS_CHAIN_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/error.h"
#include "chain/block.h"
#include "chain/entry.h"
#include "chain/receipt.h"
#include "chain/tx.h"
#include "chain/writeset.h"

/* The sealer's node key in tests (any valid secp256k1 key). */
static const uint8_t chain_fixture_key[32] = {
    0x4c, 0x08, 0x83, 0xa6, 0x91, 0x02, 0x93, 0x7d, 0x62, 0x31, 0x47, 0x1b, 0x5d, 0xbb, 0x62, 0x04,
    0xfe, 0x51, 0x29, 0x61, 0x70, 0x82, 0x79, 0x2a, 0xe4, 0x68, 0xd0, 0x1a, 0x3f, 0x36, 0x23, 0x18,
};

struct chain_fixture {
    size_t n;
    struct bytes raw; /* all raw transactions, back to back */
    struct bytes_view *txs;
    struct receipt *receipts;
    struct log *logs; /* one per receipt (only every third receipt uses its own) */
    struct writeset ws;
    struct block block;
    uint8_t parent_state_root[32];
};

/* Returns 0 or a TC_E* code; on failure the fixture is freed. */
static inline int chain_fixture_build(struct chain_fixture *f, size_t n, uint64_t number)
{
    memset(f, 0, sizeof(*f));
    bytes_init(&f->raw);
    writeset_init(&f->ws);
    memset(f->parent_state_root, 0x5a, 32);
    size_t *ends = calloc(n ? n : 1, sizeof(*ends));
    f->txs = calloc(n ? n : 1, sizeof(*f->txs));
    f->receipts = calloc(n ? n : 1, sizeof(*f->receipts));
    f->logs = calloc(n ? n : 1, sizeof(*f->logs));
    int rc = TC_ENOMEM;
    if (!ends || !f->txs || !f->receipts || !f->logs)
        goto fail;
    f->n = n;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < n; i++) {
        struct tx tx;
        memset(&tx, 0, sizeof(tx));
        tx.type = (enum tx_type)(i % 3);
        tx.chain_id = 1;
        tx.eip155 = tx.type == TX_LEGACY;
        tx.nonce = i;
        tx.gas_price = u256_from_u64(2000000000);
        tx.max_priority_fee_per_gas = u256_from_u64(1000000000);
        tx.max_fee_per_gas = u256_from_u64(2000000000);
        tx.gas_limit = 21000;
        tx.has_to = true;
        memset(tx.to, 0x35, 20);
        memcpy(tx.to, &i, sizeof(i) < 20 ? sizeof(i) : 20);
        tx.value = u256_from_u64(1000 + i);
        if ((rc = tx_sign(&tx, chain_fixture_key)) != 0 || (rc = tx_encode(&tx, &f->raw)) != 0)
            goto fail;
        ends[i] = f->raw.len;

        struct receipt *r = &f->receipts[i];
        r->type = (uint8_t)tx.type;
        r->status = i % 7 != 3;
        r->gas_used = 21000 + (i % 5);
        cumulative += r->gas_used;
        r->cumulative_gas_used = cumulative;
        r->tx_index = (uint32_t)i;
        r->effective_gas_price = u256_from_u64(1500000000);
        if (i % 3 == 0) {
            struct log *l = &f->logs[i];
            memcpy(l->address, tx.to, 20);
            l->topic_count = (uint8_t)(1 + i % 4);
            for (unsigned t = 0; t < l->topic_count; t++) {
                memset(l->topics[t], (int)(t + 1), 32);
                memcpy(l->topics[t], &i, sizeof(i));
            }
            l->data = bytes_view_of(chain_fixture_key, i % 33);
            r->logs = l;
            r->log_count = 1;
            if ((rc = writeset_put(&f->ws, WRITESET_NS_STORAGE, l->topics[0], 32, &i, sizeof(i))) !=
                0)
                goto fail;
        }
        receipt_compute_bloom(r);

        /* The recipient's and a distinct sender's account record. */
        uint8_t account[40], sender[20];
        memset(account, 0x77, sizeof(account));
        memcpy(account, &i, sizeof(i));
        memset(sender, 0x88, sizeof(sender));
        memcpy(sender + 4, &i, sizeof(i));
        if ((rc = writeset_put(&f->ws, WRITESET_NS_ACCOUNT, tx.to, 20, account, 40)) != 0 ||
            (rc = writeset_put(&f->ws, WRITESET_NS_ACCOUNT, sender, 20, account, 40)) != 0)
            goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        size_t start = i ? ends[i - 1] : 0;
        f->txs[i] = bytes_view_of(f->raw.ptr + start, ends[i] - start);
    }
    writeset_canonicalize(&f->ws);

    struct block *b = &f->block;
    block_header_init(&b->header);
    memset(b->header.parent_hash, 0x42, 32);
    b->header.number = number;
    b->header.gas_limit = 30000000 > cumulative ? 30000000 : cumulative;
    b->header.timestamp = 1764000000 + number;
    b->header.extra_data_len = 9;
    memcpy(b->header.extra_data, "teechain!", 9);
    memset(b->header.mix_hash, 0x33, 32);
    b->header.base_fee_per_gas = u256_from_u64(0);
    b->txs = f->txs;
    b->tx_count = n;
    if ((rc = block_entry_fill_header(b, f->receipts, n, &f->ws, f->parent_state_root)) != 0 ||
        (rc = block_seal(b, chain_fixture_key)) != 0)
        goto fail;
    free(ends);
    return TC_OK;

fail:
    free(ends);
    free(f->txs);
    free(f->receipts);
    free(f->logs);
    bytes_free(&f->raw);
    writeset_free(&f->ws);
    memset(f, 0, sizeof(*f));
    return rc;
}

/* The fixture's entry encoding, appended to out. */
static inline int chain_fixture_encode(const struct chain_fixture *f, struct bytes *out)
{
    return block_entry_encode(&f->block, f->receipts, f->n, &f->ws, out);
}

static inline void chain_fixture_free(struct chain_fixture *f)
{
    free(f->txs);
    free(f->receipts);
    free(f->logs);
    bytes_free(&f->raw);
    writeset_free(&f->ws);
    memset(f, 0, sizeof(*f));
}

#endif
