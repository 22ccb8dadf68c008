/*
 * block.h - block headers (Ethereum's Cancun field list, so that the block
 * hash is keccak256(rlp(header)) exactly as Ethereum computes it) and sealed
 * blocks: header, raw transactions and the sealer's signature.
 *
 * Header RLP: [parentHash, ommersHash, coinbase, stateRoot, transactionsRoot,
 * receiptsRoot, logsBloom, difficulty, number, gasLimit, gasUsed, timestamp,
 * extraData, mixHash, nonce, baseFeePerGas, withdrawalsRoot, blobGasUsed,
 * excessBlobGas, parentBeaconBlockRoot] — exactly these 20 fields, each of
 * its exact size (hashes 32 bytes, coinbase 20, bloom 256, nonce 8,
 * extraData at most 32, difficulty and baseFeePerGas up to 256 bits, the
 * other integers up to 64 bits), canonical RLP. The decoder accepts any
 * Cancun header (so that real Ethereum headers can be checked); what this
 * chain additionally requires is block_check()'s job.
 *
 * On this chain: coinbase is the sealer's address (its node ID), stateRoot
 * is the chained write-set digest (writeset.h), ommersHash is
 * BLOCK_EMPTY_OMMERS_HASH, difficulty 0, nonce 8 zero bytes,
 * withdrawalsRoot the empty trie root, blobGasUsed and excessBlobGas 0,
 * parentBeaconBlockRoot 32 zero bytes, timestamp in seconds.
 *
 * Block RLP: [header, [tx, ...], [recid, r, s]]. Each tx is an RLP string
 * holding the raw envelope as tx_encode() writes it (a legacy list or
 * type || payload); transactionsRoot is the ordered trie over those raw
 * envelopes. The signature is the sealer's secp256k1 recoverable signature
 * of the block hash (low s), outside the hashed header: any node checks it
 * with block_verify_seal() against its sealer set.
 *
 * Memory: a decoded block borrows its transactions from the input (views
 * valid as long as the input) and owns the array of views (free with
 * block_free()). A block built by hand points txs at the caller's array and
 * leaves txs_owned false.
 *
 * Errors: 0 or a negative TC_E* code; functions that take `reason` set it
 * (when not NULL) to a static message naming the problem. TC_EINVAL (wrong
 * shape, a root or constant that does not match), TC_ETOOBIG (bounds),
 * TC_ECRYPTO (signature recovers no key, or another key than coinbase's),
 * TC_EPERM (coinbase is not a sealer), TC_ENOMEM, and the codes of rlp.h and
 * tx.h.
 */
#ifndef TC_CHAIN_BLOCK_H
#define TC_CHAIN_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/u256.h"
#include "chain/bloom.h"
#include "codec/rlp.h"

#define BLOCK_MAX_EXTRA_DATA_BYTES 32
#define BLOCK_MAX_TXS              100000
#define BLOCK_MAX_TX_BYTES         (128u * 1024)

/* keccak256(rlp([])): the ommers hash of every post-merge block. */
extern const uint8_t block_empty_ommers_hash[32];

struct block_header {
    uint8_t parent_hash[32];
    uint8_t ommers_hash[32];
    uint8_t coinbase[20];
    uint8_t state_root[32];
    uint8_t transactions_root[32];
    uint8_t receipts_root[32];
    uint8_t logs_bloom[BLOOM_BYTES];
    u256 difficulty;
    uint64_t number;
    uint64_t gas_limit;
    uint64_t gas_used;
    uint64_t timestamp; /* seconds */
    uint8_t extra_data[BLOCK_MAX_EXTRA_DATA_BYTES];
    uint8_t extra_data_len;
    uint8_t mix_hash[32]; /* prevRandao */
    uint8_t nonce[8];
    u256 base_fee_per_gas;
    uint8_t withdrawals_root[32];
    uint64_t blob_gas_used;
    uint64_t excess_blob_gas;
    uint8_t parent_beacon_block_root[32];
};

struct block {
    struct block_header header;
    struct bytes_view *txs; /* raw envelopes */
    size_t tx_count;
    bool txs_owned;    /* set by block_decode(): block_free() frees txs */
    uint8_t sig_recid; /* 0 or 1 */
    uint8_t sig_r[32];
    uint8_t sig_s[32];
};

/* Zeroes h and sets this chain's constants (ommers hash, withdrawals root). */
void block_header_init(struct block_header *h);
/* Appends rlp(header). Returns 0, TC_ETOOBIG (extraData), TC_ENOMEM. */
int block_header_encode(const struct block_header *h, struct bytes *out);
/* Strictly decodes exactly one header. Copies everything (no views). */
int block_header_decode(struct bytes_view in, struct block_header *h, const char **reason);
/* keccak256(rlp(header)): the block hash. Returns 0, TC_ETOOBIG, TC_ENOMEM. */
int block_header_hash(const struct block_header *h, uint8_t hash[32]);

/* Ordered-trie root of raw transaction envelopes. Returns 0 or TC_ENOMEM. */
int block_transactions_root(const struct bytes_view *txs, size_t n, uint8_t root[32]);

/* Appends rlp(block). Returns 0, TC_ETOOBIG, TC_EINVAL (empty tx), TC_ENOMEM. */
int block_encode(const struct block *b, struct bytes *out);
/*
 * Strictly decodes exactly one block; every transaction must pass
 * tx_decode() and be at most BLOCK_MAX_TX_BYTES, at most BLOCK_MAX_TXS of
 * them. *b is initialised by the call; free with block_free() (also after
 * failure).
 */
int block_decode(struct bytes_view in, struct block *b, const char **reason);
/* Decodes a block from an already-split RLP item (used by the entry codec). */
int block_decode_item(const struct rlp_item *item, struct block *b, const char **reason);
/* Frees the txs array when owned. */
void block_free(struct block *b);

/*
 * The chain's rules that need no state: the constants above, extraData
 * size, gasUsed <= gasLimit, and transactionsRoot over b->txs.
 */
int block_check(const struct block *b, const char **reason);

/*
 * Sets header.coinbase to seckey's address, then signs the block hash.
 * Returns 0, TC_EINVAL (bad key), TC_ENOMEM.
 */
int block_seal(struct block *b, const uint8_t seckey[32]);
/*
 * Checks the seal: the signature recovers (low s) to header.coinbase, and
 * coinbase is one of sealers[0..n). Returns 0, TC_EINVAL (malformed
 * signature), TC_ECRYPTO (recovers to nothing or to another key), TC_EPERM.
 */
int block_verify_seal(const struct block *b, const uint8_t (*sealers)[20], size_t n,
                      const char **reason);

#endif
