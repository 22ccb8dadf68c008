/*
 * state.h - the world state as the executor sees it: an account, storage and
 * code cache over committed state, with a journal (snapshot/revert), the
 * per-transaction sets of the Cancun rules, and the write-set that a block's
 * execution produces (DESIGN.md §3, §5).
 *
 * Layers.
 *   committed state  a `struct state_reader` (the ledger implements it; so do
 *                    an in-memory map for tests and the state tests, and
 *                    another `struct state`, see state_as_reader()).
 *   struct state     everything read is cached, everything written stays here
 *                    until state_writeset() turns the differences between the
 *                    cache and the reader into the block's write-set.
 *   evm host         state_evm_host() gives the EVM a host over a state.
 *
 * Speculative blocks: the leader executes block N+1 before block N commits.
 * Block N's state (all its transactions ended) becomes the reader of block
 * N+1's state through state_as_reader(); N+1's write-set is then relative to
 * N's state, which is exactly what applying N then N+1 to the ledger needs.
 * Block N's state must not change while a layer above it is in use; it may be
 * freed only after every state reading through it is freed.
 *
 * A block:
 *     struct state *s;
 *     state_new(&ledger_reader, &s);
 *     for each transaction:
 *         state_tx_begin(s);
 *         ... state_set_balance / state_evm_host + evm_execute ...
 *         state_tx_end(s);
 *         if (state_error(s)) abandon the block;
 *     state_writeset(s, &ws);    (canonicalized)
 *     state_free(s);
 *
 * Errors. Getters and mutators never fail by return value, because the EVM's
 * host callbacks cannot fail: a reader failure or an allocation failure is
 * recorded as the state's sticky error (state_error()), the getter returns
 * zero/empty, and the mutation may be lost. A caller checks state_error()
 * after each transaction and abandons the block if it is not 0; the state
 * then only serves state_free().
 *
 * Memory: the state owns everything it caches. Code views returned by
 * state_code() stay valid until state_free(). Log views (state_logs()) stay
 * valid until the next state_tx_begin() or state_free().
 *
 * Thread-safety: none; one thread uses a state at a time (a reader given by
 * state_as_reader() only reads, so several upper layers on other threads may
 * read one frozen state).
 */
#ifndef TC_STATE_STATE_H
#define TC_STATE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/u256.h"
#include "chain/receipt.h"
#include "chain/writeset.h"
#include "evm/evm.h"

/* ---- accounts and their canonical encoding ------------------------------ */

/*
 * An account's fields other than its storage. code_hash is keccak256 of the
 * code, keccak256("") (STATE_EMPTY_CODE_HASH) for an account without code.
 */
struct state_account {
    uint64_t nonce;
    u256 balance;
    uint8_t code_hash[32];
};

/* keccak256("") = c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470. */
extern const uint8_t STATE_EMPTY_CODE_HASH[32];

/*
 * Write-set and ledger encoding of the state (the ledger applies write-sets
 * with exactly these rules):
 *   WRITESET_NS_ACCOUNT  key: address (20 bytes)
 *                        value: state_account_encode() = rlp([nonce, balance, code_hash])
 *                        (nonce and balance canonical RLP integers, code_hash 32 bytes)
 *                        deletion: the account no longer exists (EIP-161, EIP-6780).
 *                        Every storage slot the deleted account had in committed state
 *                        that the block changed is deleted by its own storage entry; the
 *                        Cancun rules (EIP-7610 collisions, EIP-6780) guarantee that a
 *                        deleted account has no other committed storage.
 *   WRITESET_NS_STORAGE  key: address || slot (20 + 32 bytes)
 *                        value: the 32-byte word, big-endian, leading zero bytes
 *                        dropped (1..32 bytes); a zero word is a deletion.
 *   WRITESET_NS_CODE     key: code hash (32 bytes); value: the code (1 byte or more).
 *                        Code is immutable and content-addressed: never deleted.
 */
#define STATE_ACCOUNT_MAX_BYTES 80 /* list header + nonce + balance + code hash */

/* Appends the encoding to out. Returns 0 or TC_ENOMEM (out keeps its length). */
int state_account_encode(const struct state_account *acct, struct bytes *out);

/*
 * Strictly decodes exactly one encoding: a list of exactly three items,
 * nonce a canonical integer < 2^64, balance canonical <= 256 bits, code hash
 * exactly 32 bytes, nothing after. Returns 0, TC_EINVAL (shape), TC_ERANGE,
 * or the rlp.h codes (TC_ETRUNCATED, TC_ETRAILING, TC_ENONCANONICAL).
 */
int state_account_decode(struct bytes_view in, struct state_account *acct);

/* EIP-161 emptiness: nonce 0, balance 0, no code. */
bool state_account_is_empty(const struct state_account *acct);

/* ---- committed state ---------------------------------------------------- */

/*
 * What a state reads through. Every callback returns 0 or a negative TC_E*
 * code; any code is a real failure (I/O, corruption, out of memory) that
 * stops the block:
 *   account  an account that does not exist is not an error: *exists = false
 *            and *out zeroed (code_hash = STATE_EMPTY_CODE_HASH).
 *   storage  a slot never written, or an account that does not exist, reads 0.
 *   code     appends the code whose keccak256 is hash to out. Only called for
 *            hashes of existing accounts other than STATE_EMPTY_CODE_HASH;
 *            TC_ENOTFOUND for an unknown hash means the committed state is
 *            corrupt (a failure too).
 *   has_storage  see the field.
 * Callbacks may be called from the thread using the state only.
 */
struct state_reader {
    int (*account)(void *ctx, const uint8_t addr[20], struct state_account *out, bool *exists);
    int (*storage)(void *ctx, const uint8_t addr[20], const uint8_t slot[32], u256 *out);
    int (*code)(void *ctx, const uint8_t hash[32], struct bytes *out);
    /* Optional (NULL reads as "no storage"): *out = whether the account has a
       non-zero slot, for the EIP-7610 collision rule of CREATE. */
    int (*has_storage)(void *ctx, const uint8_t addr[20], bool *out);
    void *ctx;
};

/* A reader of the empty state (no accounts); ctx unused. */
void state_reader_empty(struct state_reader *out);

/* ---- the state ---------------------------------------------------------- */

struct state;

/*
 * A new, empty cache over reader (copied; reader->ctx is borrowed and must
 * outlive the state). Returns 0 or TC_ENOMEM (*out is then NULL).
 */
int state_new(const struct state_reader *reader, struct state **out);
/* Frees the state and everything it owns (NULL is a no-op). */
void state_free(struct state *s);

/* The sticky error: 0, or the first failure of a reader callback or allocation. */
int state_error(const struct state *s);

/*
 * A reader over s's current state (reads what s holds, then s's own reader),
 * for the state of the next block. s must be between transactions and must
 * not change while the reader is used; the reader never changes s.
 */
void state_as_reader(const struct state *s, struct state_reader *out);

/*
 * Replaces s's reader by r, which must answer exactly as the old reader does
 * for every key: the leader uses it when the block whose state was s's reader
 * (through state_as_reader()) has been applied to the ledger, so that the
 * ledger now reads the same state and the lower layer can be freed. r is
 * copied. Between transactions only.
 */
void state_rebase(struct state *s, const struct state_reader *r);

/* ---- transactions ------------------------------------------------------- */

/*
 * Starts a transaction: empties the warm sets, the transient storage, the
 * logs, the created/self-destructed/touched sets and the journal; the
 * current storage becomes the "original" storage (EIP-2200).
 */
void state_tx_begin(struct state *s);

/*
 * Ends a transaction: deletes the accounts that self-destructed and were
 * created in this transaction (EIP-6780), then, when delete_empty is set,
 * every touched account that exists and is empty (EIP-161). The journal is
 * emptied (nothing before this point can be reverted). Logs stay readable.
 */
void state_tx_end(struct state *s, bool delete_empty);

/* ---- accounts ----------------------------------------------------------- */

/* True if the account exists (it may be empty). */
bool state_exists(struct state *s, const uint8_t addr[20]);
/* True if the account does not exist or is empty (EIP-161 "dead"). */
bool state_is_dead(struct state *s, const uint8_t addr[20]);
/* Copies the account (zeroed with the empty code hash if it does not exist). */
void state_account_get(struct state *s, const uint8_t addr[20], struct state_account *out);

u256 state_balance(struct state *s, const uint8_t addr[20]);
uint64_t state_nonce(struct state *s, const uint8_t addr[20]);
/* Each mutator creates the account if it does not exist, and is journaled. */
void state_set_balance(struct state *s, const uint8_t addr[20], u256 balance);
/* Adds; wraps modulo 2^256 (callers check first; total supply fits). */
void state_add_balance(struct state *s, const uint8_t addr[20], u256 amount);
/* Subtracts; the caller has checked that the balance covers amount. */
void state_sub_balance(struct state *s, const uint8_t addr[20], u256 amount);
void state_set_nonce(struct state *s, const uint8_t addr[20], uint64_t nonce);

/*
 * Marks the account touched (EIP-161: deleted at state_tx_end() if empty)
 * and creates it if it does not exist. Journaled, with mainnet's exception:
 * a touch of address 0x...03 (RIPEMD-160) survives a revert.
 */
void state_touch(struct state *s, const uint8_t addr[20]);

/* The account's code: *code (NULL when *len is 0) valid until state_free(). */
void state_code(struct state *s, const uint8_t addr[20], const uint8_t **code, size_t *len);
void state_code_hash(struct state *s, const uint8_t addr[20], uint8_t hash[32]);
/* Installs code (copied) and its hash. Journaled. */
void state_set_code(struct state *s, const uint8_t addr[20], const uint8_t *code, size_t len);

/*
 * CREATE step: marks addr created in this transaction, makes it exist, and
 * clears its storage (balance kept). Journaled.
 */
void state_create_account(struct state *s, const uint8_t addr[20]);
/* True if addr was created in this transaction. */
bool state_is_created(struct state *s, const uint8_t addr[20]);
/*
 * SELFDESTRUCT (EIP-6780): moves addr's balance to beneficiary (if they
 * differ); if addr was created in this transaction, its balance is zeroed
 * and it is deleted at state_tx_end(). Journaled.
 */
void state_selfdestruct(struct state *s, const uint8_t addr[20], const uint8_t beneficiary[20]);

/* ---- storage ------------------------------------------------------------ */

u256 state_storage(struct state *s, const uint8_t addr[20], u256 slot);
/* The slot's value when the current transaction began (EIP-2200). */
u256 state_original_storage(struct state *s, const uint8_t addr[20], u256 slot);
/* Journaled; creates the account if it does not exist. */
void state_set_storage(struct state *s, const uint8_t addr[20], u256 slot, u256 value);
/* True if the account has a non-zero slot (cached or committed). */
bool state_has_storage(struct state *s, const uint8_t addr[20]);

/* EIP-1153 transient storage: zero at each state_tx_begin(); journaled. */
u256 state_transient(struct state *s, const uint8_t addr[20], u256 slot);
void state_set_transient(struct state *s, const uint8_t addr[20], u256 slot, u256 value);

/* ---- EIP-2929 warm sets (journaled) ------------------------------------- */

/* Marks the account warm; returns whether it already was. */
bool state_warm_account(struct state *s, const uint8_t addr[20]);
/* Marks the slot warm; returns whether it already was. */
bool state_warm_slot(struct state *s, const uint8_t addr[20], u256 slot);

/* ---- logs --------------------------------------------------------------- */

/* Records a log (topics and data copied). Journaled. */
void state_add_log(struct state *s, const uint8_t addr[20], const uint8_t (*topics)[32],
                   size_t topic_count, const uint8_t *data, size_t data_len);
/*
 * The current transaction's logs in order: *logs points into the state
 * (data views too), valid until the next state_tx_begin() or state_free().
 */
void state_logs(const struct state *s, const struct log **logs, size_t *count);

/* ---- journal ------------------------------------------------------------ */

/* A mark: everything journaled after it can be undone by state_revert_to(). */
uint64_t state_snapshot(const struct state *s);
/* Undoes, newest first, every journaled change since mark (a live mark). */
void state_revert_to(struct state *s, uint64_t mark);

/* ---- output ------------------------------------------------------------- */

/*
 * Appends to out (not cleared first) the differences between s and its
 * reader, with the encoding above, then canonicalizes out: an account whose
 * fields and existence equal the committed ones, a slot whose value equals
 * the committed one, and code already committed produce no entry. Call
 * between transactions. Returns 0, the sticky error, or a writeset_put code.
 */
int state_writeset(struct state *s, struct writeset *out);

/* ---- the EVM host ------------------------------------------------------- */

/* Block hashes for BLOCKHASH: fills hash and returns true if number is known. */
typedef bool (*state_block_hash_fn)(void *ctx, uint64_t number, uint8_t hash[32]);

/* Sets the BLOCKHASH source (unknown blocks, or none set, read as zero). */
void state_set_block_hashes(struct state *s, state_block_hash_fn fn, void *ctx);

/*
 * A host for evm_execute() over s (host->ctx = s), valid as long as s. Every
 * callback maps to the functions above; transfers and zero-value calls touch
 * their recipient (EIP-161).
 */
void state_evm_host(struct state *s, struct evm_host *host);

#endif
