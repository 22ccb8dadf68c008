/*
 * syscontract.h - the consensus system contract at
 * 0x0000000000000000000000000000000000001003 (as FISCO BCOS 3.x's
 * ConsensusPrecompiled): the chain's membership (sealers and observers) kept
 * in that account's storage, changed by ordinary transactions, so that every
 * node reads the same membership from the same committed state.
 *
 * The node turns a committed change into a Raft configuration change (a
 * sealer is a Raft voter, an observer a learner); the executor runs the
 * contract natively (exec.c) under the chain rules, for transactions sent to
 * it directly (not for calls made from other contracts).
 *
 * Interface (Solidity ABI, selectors of these exact signatures):
 *   addObserver(string nodeID)               a new member, non-voting
 *   addSealer(string nodeID, uint256 weight)  an observer becomes a sealer
 *   remove(string nodeID)                     a member leaves
 *   setWeight(string nodeID, uint256 weight)  a sealer's weight (PBFT only)
 * nodeID is 128 hex digits (optionally 0x-prefixed, any case). Only a sealer
 * may call: the transaction's sender must be the Ethereum address of a current
 * sealer's node ID (keccak256(node ID)[12..32]), i.e. signed with a sealer's
 * conf/node.pem. A refused call reverts with Error(string) naming the reason.
 *
 * Without any change stored, the membership is the genesis one
 * (config.genesis [consensus] node.N / observer.N).
 */
#ifndef TC_EXEC_SYSCONTRACT_H
#define TC_EXEC_SYSCONTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/u256.h"
#include "chain/genesis.h"
#include "evm/evm.h"
#include "state/state.h"

/* The contract's address. */
extern const uint8_t SYSCONTRACT_CONSENSUS[20];

/* At most this many members (sealers and observers together): Raft's bound. */
#define SYSCONTRACT_MAX_MEMBERS 32u

enum consensus_role {
    CONSENSUS_SEALER = 1,
    CONSENSUS_OBSERVER = 2,
};

struct consensus_member {
    uint8_t id[NODE_ID_BYTES];
    uint8_t role; /* enum consensus_role */
    uint32_t weight;
};

struct consensus_members {
    size_t count;
    struct consensus_member members[SYSCONTRACT_MAX_MEMBERS];
};

/*
 * The membership in the committed state that r reads (the ledger's reader on
 * a node), falling back to g's sealers and observers while the contract holds
 * nothing. Returns 0, the reader's error, or TC_ECORRUPT for storage that
 * does not decode.
 */
int syscontract_members_load(const struct state_reader *r, const struct genesis_config *g,
                             struct consensus_members *out);

/* The genesis membership (what syscontract_members_load gives before any change):
   g's sealers in order, then its observers (weight 0), at most SYSCONTRACT_MAX_MEMBERS. */
void syscontract_members_genesis(const struct genesis_config *g, struct consensus_members *out);

/* True if addr is 0x...1003. */
bool syscontract_is_consensus(const uint8_t addr[20]);

/* ---- execution (exec.c runs these; docs/execution.md has the details) ---- */

/* What every call to the contract costs on top of the intrinsic gas. */
#define SYSCONTRACT_GAS 50000u
/* The largest output of a call: an Error(string) with the longest reason. */
#define SYSCONTRACT_OUTPUT_MAX_BYTES 164u

/* The outcome of one call, shaped as the EVM's (evm.h). */
struct syscontract_outcome {
    enum evm_status status; /* EVM_SUCCESS, EVM_REVERT or EVM_OUT_OF_GAS */
    int64_t gas_left;
    size_t output_len; /* REVERT data: Error(string); empty on success */
    uint8_t output[SYSCONTRACT_OUTPUT_MAX_BYTES];
};

/*
 * Runs a call to the contract from sender with value and input on s, inside
 * the current transaction: charges SYSCONTRACT_GAS from gas (EVM_OUT_OF_GAS
 * with nothing left below it), checks the call (a refusal is EVM_REVERT with
 * Error(reason) in out->output and the remaining gas), and on success writes
 * the new membership into the contract's storage (journaled). genesis is the
 * membership that applies while the contract holds nothing. A state failure
 * is left in state_error(s). Never fails otherwise.
 */
void syscontract_execute(struct state *s, const struct consensus_members *genesis,
                         const uint8_t sender[20], u256 value, const uint8_t *input,
                         size_t input_len, int64_t gas, struct syscontract_outcome *out);

/* The membership in s (genesis while the contract holds nothing), as
   syscontract_members_load. Returns 0, TC_ECORRUPT or s's sticky error. */
int syscontract_members_of_state(struct state *s, const struct consensus_members *genesis,
                                 struct consensus_members *out);

struct exec;

/*
 * Gives ex (exec.h) the genesis membership (copied from g) that the contract
 * starts from. Every executor that runs chain-rules transactions or calls
 * must get it after exec_new(): without it the membership in an untouched
 * state is empty and every change is refused as not from a sealer.
 */
void syscontract_exec_set_genesis(struct exec *ex, const struct genesis_config *g);

#endif
