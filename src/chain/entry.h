/*
 * entry.h - the payload of a Raft BLOCK log entry: one sealed block, its
 * receipts and its write-set, as the leader proposes them and every node
 * applies them to its ledger in one batch (DESIGN.md §3, step 5). Block sync
 * ships the same encoding.
 *
 * Encoding (version 1):
 *     rlp([1, block, [receipt, ...], writeset])
 * block as block_encode() writes it, each receipt in the stored form of
 * receipt.h (with gasUsed, txIndex, effectiveGasPrice, contractAddress),
 * writeset in the canonical form of writeset.h. Any other version is
 * TC_EUNSUPPORTED.
 *
 * The leader:
 *     block_entry_fill_header(&block, receipts, n, &ws, parent_state_root);
 *     block_seal(&block, node_key);
 *     block_entry_encode(&block, receipts, n, &ws, &payload);
 * Every node, on commit (and block sync, on fetch):
 *     block_entry_decode(payload, &e, &reason);       shape and bounds
 *     block_entry_check(&e, parent_state_root, &reason);  consistency
 *     block_verify_seal(&e.block, sealers, n_sealers, &reason);
 *     ...apply e.block, e.receipts, e.writeset...
 *     block_entry_free(&e);
 *
 * Decoding is strict: canonical RLP throughout, the bounds below, every
 * transaction parseable, receipts no more than BLOCK_MAX_TXS, write-set sorted
 * and unique. block_entry_check() then requires: as many receipts as
 * transactions; receipt i has txIndex i and its transaction's type; each
 * receipt's gasUsed is positive and cumulativeGasUsed grows by exactly it,
 * ending at header.gasUsed; receiptsRoot and logsBloom match the receipts;
 * transactionsRoot and the chain constants (block_check()); and
 * stateRoot == state_root_next(parent_state_root, writeset_digest()).
 *
 * Memory: a decoded entry borrows from its input (transactions, log data,
 * write-set keys and values are views into it): keep the input alive until
 * block_entry_free(). Errors: 0 or a negative TC_E* code, with *reason (when
 * not NULL) set to a static message naming the problem; never an assert.
 */
#ifndef TC_CHAIN_ENTRY_H
#define TC_CHAIN_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "chain/block.h"
#include "chain/receipt.h"
#include "chain/writeset.h"

#define BLOCK_ENTRY_VERSION   1
#define BLOCK_ENTRY_MAX_BYTES (64u * 1024 * 1024)

struct block_entry {
    struct block block;
    struct receipt *receipts; /* owned array, receipt_count long */
    size_t receipt_count;
    struct writeset writeset;
};

/*
 * Fills the header fields that follow from the block's content:
 * transactionsRoot, receiptsRoot, logsBloom, gasUsed (the last receipt's
 * cumulativeGasUsed, 0 without receipts) and stateRoot (chained from
 * parent_state_root with ws's digest; ws must be canonical). Returns 0,
 * TC_ESTATE, TC_EINVAL, TC_ETOOBIG, TC_ENOMEM.
 */
int block_entry_fill_header(struct block *b, const struct receipt *rs, size_t n,
                            const struct writeset *ws, const uint8_t parent_state_root[32]);

/*
 * Appends the entry's encoding. ws must be canonical. Returns 0, TC_ESTATE,
 * TC_EINVAL, TC_ETOOBIG (including an encoding over BLOCK_ENTRY_MAX_BYTES),
 * TC_ENOMEM; out keeps its old length on failure.
 */
int block_entry_encode(const struct block *b, const struct receipt *rs, size_t n,
                       const struct writeset *ws, struct bytes *out);

/* Strictly decodes an entry into *e (initialised by the call; free with block_entry_free()). */
int block_entry_decode(struct bytes_view in, struct block_entry *e, const char **reason);

/* The consistency checks listed above. Returns 0, TC_EINVAL, TC_ETOOBIG, TC_ENOMEM. */
int block_entry_check(const struct block_entry *e, const uint8_t parent_state_root[32],
                      const char **reason);

/* Releases what the entry owns; safe after a failed decode. */
void block_entry_free(struct block_entry *e);

#endif
