/*
 * exec.h - the block executor: runs transactions whose senders are known on a
 * `struct state`, producing receipts and, at the end, the block's write-set
 * (DESIGN.md §3 step 3, §5).
 *
 * The transaction layer around the EVM (evm.h's opening comment): validity
 * against the state (nonce, EIP-3607 sender without code, balance for
 * gasLimit * maxFee + value, fee caps against the base fee, block gas left,
 * the chain's per-transaction gas limit), upfront gas purchase, nonce
 * increment, warming (sender, recipient, precompiles, coinbase per EIP-3651,
 * the EIP-2930 access list), the message (EVM, or a fast path for a plain
 * value transfer to an account without code, with identical results), the
 * EIP-3529 refund cap, unused gas back to the sender, the priority fee to the
 * coinbase (the base fee is burnt), and the end-of-transaction deletions
 * (EIP-6780, EIP-161).
 *
 * Rules. One state-transition function, two parameter sets:
 *   chain        (EXEC_RULES_CHAIN, the node's default, FISCO-like): gas is
 *                metered, the gas price may be 0, base fee 0 (nothing burnt),
 *                each transaction's gas limit at most rules.tx_gas_limit.
 *   conformance  (EXEC_RULES_CONFORMANCE): Ethereum's Cancun fee rules with
 *                the block's base fee; no per-transaction cap but the block's.
 * Both apply EIP-161 (touched empty accounts are deleted), EIP-3607 and the
 * EVM's Cancun semantics, so contract behaviour is Ethereum's in either mode.
 *
 * Use:
 *     struct exec *ex;
 *     exec_new(&rules, &ex);
 *     exec_begin(ex, state, &env);
 *     for each (tx, sender):
 *         rc = exec_apply(ex, tx, sender, &res);
 *         rc == 0 && res.included: res.receipt is the receipt
 *         rc == 0 && !res.included: dropped, res.drop_reason says why; the
 *                   state is unchanged (the sealer returns it to the pool or
 *                   discards it)
 *         rc < 0: the block cannot be built (state failure, out of memory);
 *                 abandon the state
 *     exec_end(ex, &writeset);
 *     exec_free(ex);
 *
 * Calls (eth_call, eth_estimateGas): exec_call() runs a message through the
 * same state transition with geth's call rules (no nonce check, the sender
 * may have code, the balance is checked only against gasLimit * fee cap +
 * value), then undoes every change it made: the state is as before (only its
 * read cache has grown), so one state serves any number of calls.
 *
 * Memory: receipts (their log arrays and log data) belong to the executor and
 * stay valid until the next exec_begin() or exec_free(). A call's output
 * belongs to the executor too: valid until its next exec_apply(), exec_call()
 * or exec_free().
 *
 * Thread-safety: an executor is used by one thread at a time (it owns an EVM
 * instance, see evm.h about the stack size that thread needs).
 */
#ifndef TC_EXEC_EXEC_H
#define TC_EXEC_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/u256.h"
#include "chain/receipt.h"
#include "chain/tx.h"
#include "chain/writeset.h"
#include "state/state.h"

enum exec_rules_kind {
    EXEC_RULES_CHAIN = 0,
    EXEC_RULES_CONFORMANCE = 1,
};

struct exec_rules {
    enum exec_rules_kind kind;
    /* Chain rules: the largest gas limit of one transaction (0: only the
       block's gas limit bounds it). Ignored by the conformance rules. */
    uint64_t tx_gas_limit;
};

/* The block a transaction runs in. */
struct exec_block_env {
    uint8_t coinbase[20];
    uint64_t number;
    uint64_t timestamp; /* seconds */
    uint64_t gas_limit; /* of the block */
    uint8_t prevrandao[32];
    u256 base_fee; /* chain rules: ignored (0) */
    u256 blob_base_fee;
    u256 chain_id;
};

/* The outcome of exec_apply() for one transaction. */
struct exec_tx_result {
    bool included;
    /* Dropped only: a static message ("nonce too low", ...). */
    const char *drop_reason;
    /* Included only. tx_index and cumulative gas are set; logs owned by the
       executor (see Memory). */
    struct receipt receipt;
    /* Included only: the EVM status of the top-level message. */
    int evm_status;
    /* Non-zero if the transaction called a precompile this build does not
       implement (evm.h): its result is not Ethereum's. */
    uint8_t unsupported_precompile;
};

/* The outcome of exec_call(). */
struct exec_call_result {
    /* Not run: a static message ("insufficient funds for gas * price +
       value", "intrinsic gas too low", ...); the fields below are zero. */
    const char *drop_reason;
    int evm_status;    /* enum evm_status of the top-level message */
    uint64_t gas_used; /* what the receipt of the same transaction would say */
    /* RETURN or REVERT data, or for a successful creation the deployed
       code (see Memory; valid until the state is freed in that case);
       NULL when output_len is 0. */
    const uint8_t *output;
    size_t output_len;
    uint8_t unsupported_precompile; /* as in struct exec_tx_result */
};

struct exec;

/* A new executor. Returns 0, TC_EINVAL (unknown rules kind) or TC_ENOMEM. */
int exec_new(const struct exec_rules *rules, struct exec **out);
/* Frees the executor and its receipts (NULL is a no-op). */
void exec_free(struct exec *ex);

/*
 * Starts a block on state s (borrowed until exec_end()) in env (copied).
 * Releases the previous block's receipts. Returns 0.
 */
int exec_begin(struct exec *ex, struct state *s, const struct exec_block_env *env);

/*
 * Runs one transaction from sender (recovered by the caller). Returns 0 with
 * *out filled (included or dropped), TC_ESTATE outside a block, TC_ENOMEM,
 * or the state's error (the block must then be abandoned).
 */
int exec_apply(struct exec *ex, const struct tx *tx, const uint8_t sender[20],
               struct exec_tx_result *out);

/*
 * Runs tx from sender as a call inside the current block (exec_begin()) and
 * undoes it: see "Calls" above. tx->nonce is ignored; the chain's
 * per-transaction and the block's gas limits still apply (the caller caps
 * tx->gas_limit). Nothing counts towards the block (no receipt, no gas used).
 * Returns 0 with *out filled, TC_ESTATE outside a block, TC_ENOMEM, or the
 * state's error (the state must then be dropped).
 */
int exec_call(struct exec *ex, const struct tx *tx, const uint8_t sender[20],
              struct exec_call_result *out);

/* Gas used by the block's included transactions so far. */
uint64_t exec_gas_used(const struct exec *ex);

/*
 * Ends the block: appends the state's changes to ws (see state_writeset()).
 * Returns 0 or its error. Receipts stay valid.
 */
int exec_end(struct exec *ex, struct writeset *ws);

#endif
