/*
 * receipt.h - transaction receipts and logs: Ethereum's consensus encoding
 * (what receiptsRoot commits to) and the node's stored form (what answers
 * eth_getTransactionReceipt without re-execution).
 *
 * Consensus encoding (EIP-2718, Byzantium status):
 *     legacy (type 0):  rlp([status, cumulativeGasUsed, logsBloom, logs])
 *     type 1 or 2:      type || rlp([status, cumulativeGasUsed, logsBloom, logs])
 *     status: 1 as the integer 1 (0x01), 0 as the empty string (0x80)
 *     log = [address (20 bytes), [topic (32 bytes), ...], data]
 * receipt_root() is the ordered trie (keys rlp(index)) over these encodings.
 *
 * Stored encoding (this project's, strictly decoded):
 *     rlp([type, status, cumulativeGasUsed, gasUsed, txIndex,
 *          effectiveGasPrice, contractAddress, logs])
 *     type 0..2, status 0 or 1, integers canonical (txIndex < 2^32,
 *     effectiveGasPrice up to 256 bits), contractAddress 20 bytes or the
 *     empty string (no contract created), logs as above.
 * The bloom is not stored: the decoder recomputes it from the logs. from/to
 * and the hashes come from the block and its transactions.
 *
 * Bounds (decoding and encoding): at most RECEIPT_MAX_LOGS logs, at most
 * LOG_MAX_TOPICS topics per log, at most LOG_MAX_DATA_BYTES of data per log.
 *
 * Memory: a decoded receipt owns its array of logs (free it with
 * receipt_free()) and each log's data is a view into the decoder's input,
 * valid as long as that input. A receipt built by hand points `logs` at the
 * caller's array and leaves logs_owned false; receipt_free() then frees
 * nothing.
 *
 * Errors: 0 or a negative TC_E* code; decoders set *reason (when not NULL)
 * to a static message naming the field. TC_EINVAL (wrong shape, status or
 * type out of range, bloom that does not match the logs), TC_ETOOBIG
 * (bounds), TC_EUNSUPPORTED (receipt type 3 or above), TC_ENOMEM, and the
 * codes of rlp.h.
 */
#ifndef TC_CHAIN_RECEIPT_H
#define TC_CHAIN_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/u256.h"
#include "chain/bloom.h"

#define RECEIPT_MAX_LOGS   4096
#define LOG_MAX_TOPICS     4
#define LOG_MAX_DATA_BYTES (1u << 20)

struct log {
    uint8_t address[20];
    uint8_t topic_count; /* 0..LOG_MAX_TOPICS */
    uint8_t topics[LOG_MAX_TOPICS][32];
    struct bytes_view data; /* borrowed */
};

struct receipt {
    uint8_t type; /* the transaction's type: 0, 1 or 2 */
    bool status;  /* true: success */
    uint64_t cumulative_gas_used;
    uint8_t bloom[BLOOM_BYTES]; /* of the logs; see receipt_compute_bloom() */
    struct log *logs;
    size_t log_count;
    bool logs_owned; /* set by the decoders: receipt_free() frees logs */
    /* Stored only: */
    uint64_t gas_used;
    uint32_t tx_index;
    u256 effective_gas_price;
    bool has_contract_address;
    uint8_t contract_address[20];
};

/* Sets r->bloom from r->logs (call after filling the logs of a built receipt). */
void receipt_compute_bloom(struct receipt *r);

/* Appends the consensus encoding (uses r->bloom as is). 0, TC_EINVAL, TC_ETOOBIG, TC_ENOMEM. */
int receipt_encode_consensus(const struct receipt *r, struct bytes *out);
/*
 * Decodes a consensus encoding; the stored-only fields are zeroed. The bloom
 * must equal the one computed from the logs. Free with receipt_free().
 */
int receipt_decode_consensus(struct bytes_view in, struct receipt *r, const char **reason);

/* Appends the stored encoding. 0, TC_EINVAL, TC_ETOOBIG, TC_ENOMEM. */
int receipt_encode_stored(const struct receipt *r, struct bytes *out);
/* Decodes a stored encoding and recomputes the bloom. Free with receipt_free(). */
int receipt_decode_stored(struct bytes_view in, struct receipt *r, const char **reason);

/* Frees the logs array when the receipt owns it; r is then without logs. */
void receipt_free(struct receipt *r);

/* True when the two receipts have equal fields and logs (bloom included). */
bool receipt_equal(const struct receipt *a, const struct receipt *b);

/* receiptsRoot over the consensus encodings of rs[0..n). 0, TC_EINVAL, TC_ETOOBIG, TC_ENOMEM. */
int receipt_root(const struct receipt *rs, size_t n, uint8_t root[32]);

/* The block's logsBloom: OR of rs[0..n).bloom. */
void receipt_block_bloom(const struct receipt *rs, size_t n, uint8_t bloom[BLOOM_BYTES]);

#endif
