/*
 * ledger.h - the chain as a node keeps it: blocks, transactions, receipts,
 * account state, storage, code and chain metadata, on top of a struct store
 * (DESIGN.md §3 step 5, §4, §6).
 *
 * Use:
 *
 *     struct ledger *l;
 *     char err[256];
 *     if (ledger_open(store, &cfg.genesis, &l, err, sizeof(err)) != 0) stop(err);
 *     ledger_raft_applied(l, &index, &term);   // replay the Raft log after this
 *     ...on each committed BLOCK entry (decoded, checked, seal verified):
 *     rc = ledger_apply(l, &entry, raft_index, raft_term);
 *     ...on each committed NOOP or CONFIG entry, once handled:
 *     rc = ledger_note_applied(l, raft_index, raft_term);
 *     ...
 *     ledger_close(l);  store_close(store);
 *
 * Genesis. ledger_open() on an empty store builds block 0 from the genesis
 * configuration and writes it: no transactions, coinbase and parent hash
 * zero, gasLimit = block_gas_limit, timestamp = timestamp_ms / 1000,
 * extraData = keccak256 of a canonical encoding of the whole
 * config.genesis (so that two configurations that differ anywhere give
 * different genesis hashes), stateRoot = state_root_genesis(digest of the
 * write-set that funds each [alloc] account: nonce 0, its balance, no code),
 * no seal (signature fields zero). The same config.genesis gives the
 * byte-identical block on every node. A non-empty store must hold the genesis
 * this configuration produces: otherwise ledger_open() fails with TC_EINVAL and
 * a message giving both hashes.
 *
 * Apply. ledger_apply() writes one block in ONE synced store batch: the block,
 * its header and transaction-hash list, the hash <-> number index, each
 * transaction (raw, with its position), the stored receipts, the block's
 * write-set (for block sync) and its effect on the state and code namespaces
 * (slot counts included), and the metadata (head, last applied Raft index and
 * term, total and failed transaction counts). After a crash at any moment the ledger is therefore
 * exactly at a block boundary, and ledger_raft_applied() says which Raft entry it has applied: the
 * node replays its Raft log from the entry after it.
 *
 * Schema (part of the on-disk format; every record is a point key, so that a
 * sealed store, which iterates in no useful order, works the same):
 *     blocks   'B' n -> block (block_encode)    'H' n -> header (RLP)
 *              'T' n -> tx hashes (32 bytes each, in order)
 *              'W' n -> write-set (canonical encoding)
 *              'R' n -> Raft index || term the block was applied from (8 + 8)
 *     indexes  'h' hash -> n (8 bytes)          'n' n -> hash (32 bytes)
 *     transactions  tx hash -> n (8) || tx index (4) || first log index (4) || raw tx
 *     receipts  n || tx index (4) -> stored receipt (receipt.h)
 *     state    0x01 || address -> account (state.h encoding)
 *              0x02 || address || slot -> value (minimal big-endian, never zero)
 *              0x03 || address -> number of the account's 0x02 records (8
 *              bytes big-endian, never zero: absent when it has none), for
 *              EIP-7610's "has storage" without iterating (version 2)
 *     code     code hash -> code
 *     meta     "version", "genesis" (hash), "head" (n || hash || state root),
 *              "applied" (Raft index || term), "txcount", "txfailed" (the
 *              transactions whose receipt has status 0; version 2), the
 *              counts as 8 bytes big-endian
 * with n a block number as 8 bytes big-endian. ledger_apply() keeps the 0x03
 * records and "txfailed" in the block's batch, reading whether each storage
 * key the write-set sets or deletes is committed (one point read per
 * storage entry). A version-1 database (without them) is refused.
 *
 * Threads. One thread applies (ledger_apply and ledger_note_applied are
 * serialised internally anyway); any number of threads may read at the same
 * time. Each read sees whole blocks only. A read that combines several records
 * (a receipt and its block hash) is consistent because applied records never
 * change. A state read sees the latest applied block at the moment of that
 * read, so reads of several keys may straddle an apply. The executor stays
 * consistent anyway: it reads through the overlays of the blocks it built
 * (state.h), and a block applied meanwhile is one of those, whose keys the
 * overlay answers itself.
 *
 * Errors: 0 or a negative TC_* code; TC_ENOTFOUND for anything absent,
 * TC_ESTATE for a block that does not extend the head, TC_EINVAL for bad
 * arguments or a write-set that breaks state.h's rules, TC_ECORRUPT for a
 * stored record that does not decode, and the store's codes (TC_EIO,
 * TC_ECRYPTO...). ledger_last_error() gives the reason for the calling
 * thread's last failure.
 */
#ifndef TC_STORE_LEDGER_H
#define TC_STORE_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/u256.h"
#include "chain/block.h"
#include "chain/entry.h"
#include "chain/receipt.h"
#include "chain/genesis.h"
#include "state/state.h"
#include "store/store.h"

/* Version of the schema above, written in meta "version". */
#define LEDGER_SCHEMA_VERSION 2

/* Defaults for a log filter whose bounds are 0. */
#define LEDGER_LOGS_DEFAULT_MAX_BLOCKS 10000u
#define LEDGER_LOGS_DEFAULT_MAX_LOGS   10000u
/* Most addresses, and most alternatives per topic position, in one filter. */
#define LEDGER_FILTER_MAX_ADDRESSES 1024u
#define LEDGER_FILTER_MAX_TOPICS    1024u

struct ledger;

struct ledger_head {
    uint64_t number;
    uint8_t hash[32];
    uint8_t state_root[32];
};

/* Where a transaction is: what eth_getTransactionByHash adds to the raw tx. */
struct ledger_tx_location {
    uint64_t block_number;
    uint8_t block_hash[32];
    uint32_t tx_index;
    uint32_t first_log_index; /* index within the block of the tx's first log */
};

/*
 * A stored receipt with what eth_getTransactionReceipt adds to it. The logs'
 * data are views into `buf`, owned by the struct: valid until
 * ledger_receipt_free(). Log i of the receipt has the block-wide log index
 * loc.first_log_index + i.
 */
struct ledger_receipt {
    struct receipt receipt;
    struct ledger_tx_location loc;
    uint8_t tx_hash[32];
    struct bytes buf;
};

/*
 * eth_getLogs: blocks from_block..to_block (inclusive; to_block above the head
 * is cut to the head), logs whose address is one of `addresses` (none: any)
 * and whose topic at position i is one of topics[i] (topic_counts[i] == 0:
 * any; a log with fewer topics than a constrained position does not match).
 * Blocks and receipts whose bloom excludes the filter are skipped unread.
 * The arrays are borrowed for the call.
 */
struct ledger_log_filter {
    uint64_t from_block;
    uint64_t to_block;
    const uint8_t (*addresses)[20];
    size_t address_count;
    const uint8_t (*topics[LOG_MAX_TOPICS])[32];
    size_t topic_counts[LOG_MAX_TOPICS];
    uint64_t max_blocks; /* range bound; 0: LEDGER_LOGS_DEFAULT_MAX_BLOCKS */
    size_t max_logs;     /* result bound; 0: LEDGER_LOGS_DEFAULT_MAX_LOGS */
};

struct ledger_log {
    uint8_t address[20];
    uint8_t topic_count;
    uint8_t topics[LOG_MAX_TOPICS][32];
    struct bytes_view data; /* into the owning ledger_logs */
    uint64_t block_number;
    uint8_t block_hash[32];
    uint8_t tx_hash[32];
    uint32_t tx_index;
    uint32_t log_index; /* within the block */
};

/* Result of ledger_logs(): owned arrays, free with ledger_logs_free(). */
struct ledger_logs {
    struct ledger_log *logs;
    size_t count;
    size_t cap;
    struct bytes data;
};

/*
 * Opens the ledger over s (borrowed: it must outlive the ledger), writing the
 * genesis block first when s holds no ledger. *out is the ledger (close with
 * ledger_close) or NULL on failure; err (if not NULL) then holds a message.
 * TC_EINVAL: genesis config unusable (duplicate allocation) or the store
 * holds another genesis; TC_EUNSUPPORTED: another schema version; TC_ECORRUPT:
 * metadata missing or malformed; store codes.
 */
int ledger_open(struct store *s, const struct genesis_config *g, struct ledger **out, char *err,
                size_t err_len);

/* Frees the ledger (not its store). Must not race with any other call. NULL is a no-op. */
void ledger_close(struct ledger *l);

/*
 * The genesis block hash and encoding (block_encode form) that g produces,
 * without a store; block_out may be NULL, else it is appended to.
 * TC_EINVAL (an address allocated twice), TC_ENOMEM.
 */
int ledger_genesis_block(const struct genesis_config *g, uint8_t hash[32], struct bytes *block_out);

/*
 * Applies a committed BLOCK entry that the caller decoded, checked
 * (block_entry_check against the head's state root) and whose seal it
 * verified, as the log entry raft_index of raft_term, in one synced batch.
 * Refuses, writing nothing: TC_ESTATE when the block's number is not head+1,
 * its parent hash is not the head's hash, its stateRoot does not chain from
 * the head's with its write-set, or raft_index is not above the last applied
 * index; TC_EINVAL when the receipts do not match the transactions or the
 * write-set breaks state.h's key/value rules (the reason says which). Store
 * codes (TC_EIO...) leave the ledger as it was.
 */
int ledger_apply(struct ledger *l, const struct block_entry *e, uint64_t raft_index,
                 uint64_t raft_term);

/*
 * Records that the Raft entry raft_index (a NOOP or CONFIG entry, already
 * acted upon) is applied, in one synced write. TC_ESTATE when raft_index is
 * not above the last applied index.
 */
int ledger_note_applied(struct ledger *l, uint64_t raft_index, uint64_t raft_term);

/* The head (latest applied block). Never fails. */
void ledger_head(struct ledger *l, struct ledger_head *out);
/* The last applied Raft entry (0, 0 right after genesis). */
void ledger_raft_applied(struct ledger *l, uint64_t *index, uint64_t *term);
/* Transactions in all applied blocks. */
uint64_t ledger_tx_count(struct ledger *l);
/* Of those, the ones that failed (receipt status 0). */
uint64_t ledger_failed_tx_count(struct ledger *l);
/* The genesis block hash. */
void ledger_genesis_hash(struct ledger *l, uint8_t hash[32]);

/* Hash of block `number`, or number of the block with `hash`. TC_ENOTFOUND. */
int ledger_block_hash(struct ledger *l, uint64_t number, uint8_t hash[32]);
int ledger_block_number(struct ledger *l, const uint8_t hash[32], uint64_t *number);
/* Header of block `number`. TC_ENOTFOUND. */
int ledger_block_header(struct ledger *l, uint64_t number, struct block_header *h);
/* The block's transaction hashes, 32 bytes each in block order, replacing
 * out's contents (an initialised struct bytes; the caller frees it, also on
 * failure). TC_ENOTFOUND. */
int ledger_block_tx_hashes(struct ledger *l, uint64_t number, struct bytes *out);
/* The whole sealed block as block_encode() wrote it (decode it with
 * block_decode; its views point into out). Same memory rules as above. */
int ledger_block_encoded(struct ledger *l, uint64_t number, struct bytes *out);
/* The block's write-set, canonical encoding (writeset_decode). Same rules. */
int ledger_block_writeset(struct ledger *l, uint64_t number, struct bytes *out);
/* The Raft entry (index and term) that block `number` was applied from; 0, 0
 * for the genesis block. Block sync ships it with the block, so that a node
 * catching up records the same Raft positions as the node it copies.
 * TC_ENOTFOUND. */
int ledger_block_raft(struct ledger *l, uint64_t number, uint64_t *index, uint64_t *term);
/* The block as a Raft BLOCK entry payload (block_entry_decode), for block
 * sync: block, stored receipts and write-set. Same rules. Block 0 too. */
int ledger_block_entry(struct ledger *l, uint64_t number, struct bytes *out);

/* A transaction by hash: its raw envelope into raw (replaced; caller frees)
 * and its location. TC_ENOTFOUND. */
int ledger_tx(struct ledger *l, const uint8_t tx_hash[32], struct bytes *raw,
              struct ledger_tx_location *loc);
/* A receipt by transaction hash into *out (initialised by the call; free
 * with ledger_receipt_free, also on failure). TC_ENOTFOUND. */
int ledger_receipt(struct ledger *l, const uint8_t tx_hash[32], struct ledger_receipt *out);
void ledger_receipt_free(struct ledger_receipt *r);

/* Committed account: *exists false (and *out zeroed, code hash of empty
 * code) when absent; returns 0 either way. */
int ledger_account(struct ledger *l, const uint8_t address[20], struct state_account *out,
                   bool *exists);
/* Committed storage word (zero when absent). */
int ledger_storage(struct ledger *l, const uint8_t address[20], const uint8_t slot[32], u256 *out);
/* *out = whether the committed account has a non-zero storage slot (false
 * for an account that does not exist). */
int ledger_has_storage(struct ledger *l, const uint8_t address[20], bool *out);
/* Code by hash into out (replaced; caller frees). The empty code's hash gives
 * empty code; another unknown hash TC_ENOTFOUND. */
int ledger_code(struct ledger *l, const uint8_t code_hash[32], struct bytes *out);

/* A state_reader over the committed state (ctx = l); valid while l is open.
 * Its callbacks are thread-safe; see "Threads" above for what a read sees. */
struct state_reader ledger_state_reader(struct ledger *l);
/* A state_block_hash_fn (state.h, BLOCKHASH) over applied blocks; ctx = l. */
bool ledger_state_block_hash(void *ctx, uint64_t number, uint8_t hash[32]);

/*
 * Logs matching f into *out (initialised by the call; free with
 * ledger_logs_free, also on failure), in block, transaction and log order;
 * each log's data is a view into out, valid until ledger_logs_free. A range
 * that is empty once to_block is cut to the head gives no logs (not an
 * error). TC_EINVAL: more than LEDGER_FILTER_MAX_ADDRESSES addresses or
 * LEDGER_FILTER_MAX_TOPICS alternatives at a position (or a count without
 * its array). TC_ETOOBIG: the range has more than max_blocks blocks, or more
 * than max_logs logs match (out is then empty).
 */
int ledger_logs(struct ledger *l, const struct ledger_log_filter *f, struct ledger_logs *out);
void ledger_logs_free(struct ledger_logs *out);

/* Why the calling thread's last failed ledger call failed ("" after success
 * of a call that clears it). Valid until that thread's next ledger call. */
const char *ledger_last_error(void);

#endif
