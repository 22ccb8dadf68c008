/*
 * evm.h - the Ethereum Virtual Machine (Cancun rules): interpreter, gas
 * schedule, CALL/CREATE family and precompiles, behind a host interface.
 *
 * The EVM is a pure core: it does no I/O, reads no clock and keeps no global
 * mutable state. It sees the world only through a `struct evm_host` (a
 * vtable of callbacks plus a context pointer) that the state module
 * implements over its account/storage cache and journal.
 *
 * Who does what.
 *   - The EVM runs a whole message tree itself: nested CALL, CALLCODE,
 *     DELEGATECALL, STATICCALL, CREATE and CREATE2, precompiles included.
 *     It owns every semantic rule: gas (memory expansion, EIP-150 63/64,
 *     EIP-2929 warm/cold prices, EIP-2200/3529 SSTORE costs and refunds,
 *     EIP-3860 initcode metering, code deposit), depth 1024, stack 1024,
 *     static mode, value transfer checks, CREATE/CREATE2 addresses,
 *     collisions, EIP-3541 and EIP-170 code checks, EIP-6780 SELFDESTRUCT
 *     bookkeeping requests.
 *   - The host owns state only: accounts, storage (current and original),
 *     transient storage, the EIP-2929 accessed sets, logs, the set of
 *     accounts created in this transaction, and a journal. The EVM brackets
 *     every message with host->snapshot() and, on failure or REVERT,
 *     host->revert_to(); the journal must therefore cover every mutating
 *     callback below (balances, nonces, code, storage, transient storage,
 *     warm sets, logs, created and self-destructed sets).
 *   Why not evmc's shape (host runs nested calls): the call rules are EVM
 *   semantics (gas forwarding, stipend, collision and deposit rules); keeping
 *   them here leaves the state module a plain cache + journal, puts every
 *   consensus-critical rule in one module with its tests, and avoids a
 *   host -> EVM -> host re-entrancy contract.
 *
 * What the transaction layer (exec, or the state-test runner) does around
 * evm_execute: intrinsic gas and upfront purchase, sender nonce increment
 * for a CALL transaction (NOT for a create transaction: evm_execute
 * increments the sender's nonce for CREATE exactly as the opcode does),
 * warming the sender, the recipient, the precompiles 0x01..0x0a, the
 * coinbase (EIP-3651) and the EIP-2930 access list, the EIP-3529 refund cap
 * (refund <= gas used / 5), refunding unused gas, paying the coinbase, and,
 * at the end of the transaction, deleting the accounts that self-destructed
 * and were created in this transaction (EIP-6780), and touched-empty
 * account deletion (EIP-161; with mainnet's one exception, which the state
 * tests keep: a touch of the RIPEMD-160 precompile 0x03 survives the revert
 * of the frame that made it).
 *
 * Usage:
 *     struct evm *vm = evm_new(0);
 *     struct evm_message msg = { .kind = EVM_CALL, .gas = 100000, ... };
 *     struct evm_result res;
 *     int rc = evm_execute(vm, &host, &tx_ctx, &msg, &res);
 *     if (rc == TC_OK && res.status == EVM_SUCCESS) use res.output[0..res.output_len);
 *     evm_free(vm);
 *
 * Thread-safety: a `struct evm` (its code-analysis cache, stacks and memory
 * pool) is used by one thread at a time; several instances may run on
 * several threads. Host callbacks are called on the thread that called
 * evm_execute. Nesting uses the C stack: one message level costs about
 * 4 KiB (Release build), so a full 1024-deep tree needs about 4 MiB: call
 * evm_execute on a thread with at least 8 MiB of stack (glibc's default for
 * the main thread and for pthreads; sanitizer builds need more).
 */
#ifndef TC_EVM_EVM_H
#define TC_EVM_EVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/u256.h"

/* ---- limits (Cancun) ---------------------------------------------------- */

#define EVM_MAX_DEPTH          1024  /* messages nest at most this deep (depth 0..1024) */
#define EVM_STACK_LIMIT        1024  /* words on one frame's stack */
#define EVM_MAX_CODE_BYTES     24576 /* EIP-170: deployed code size */
#define EVM_MAX_INITCODE_BYTES 49152 /* EIP-3860: 2 * EVM_MAX_CODE_BYTES */
#define EVM_CALL_STIPEND       2300  /* free gas given to a callee receiving value */

/* ---- plain value types -------------------------------------------------- */

typedef struct {
    uint8_t bytes[20];
} evm_address;

typedef struct {
    uint8_t bytes[32];
} evm_bytes32;

/* ---- messages and results ----------------------------------------------- */

enum evm_call_kind {
    EVM_CALL = 0,
    EVM_DELEGATECALL = 1,
    EVM_CALLCODE = 2,
    EVM_STATICCALL = 3, /* a CALL with is_static forced on */
    EVM_CREATE = 4,
    EVM_CREATE2 = 5,
};

/*
 * One message: a transaction's top-level call or creation (depth 0) or a
 * nested one built by the interpreter. Every pointer is borrowed for the
 * duration of evm_execute.
 */
struct evm_message {
    enum evm_call_kind kind;
    bool is_static;           /* no state change allowed (STATICCALL below) */
    int32_t depth;            /* 0 for the transaction's message */
    int64_t gas;              /* gas available to the message (>= 0) */
    evm_address recipient;    /* account whose storage/balance the code uses;
                                 ignored for CREATE/CREATE2 (computed) */
    evm_address sender;       /* CALLER of the code */
    evm_address code_address; /* account whose code runs (CALL family); for a
                                 transaction's CALL, the recipient */
    u256 value;               /* transferred (CALL, CALLCODE, CREATE*) or only
                                 reported by CALLVALUE (DELEGATECALL) */
    const uint8_t *input;     /* calldata, or the initcode for CREATE* */
    size_t input_len;
    evm_bytes32 create2_salt; /* CREATE2 only */
};

/*
 * Outcome of a message. Only EVM_SUCCESS keeps the message's state changes;
 * every other status has been reverted by the EVM. Statuses marked
 * "light" return the message's gas untouched (nothing ran); EVM_REVERT
 * returns the gas left; every other status consumes all the gas.
 */
enum evm_status {
    EVM_SUCCESS = 0,
    EVM_REVERT = 1, /* REVERT opcode: output holds the reason */
    EVM_OUT_OF_GAS = 2,
    EVM_INVALID_INSTRUCTION = 3, /* INVALID (0xFE) or an undefined opcode */
    EVM_STACK_UNDERFLOW = 4,
    EVM_STACK_OVERFLOW = 5,
    EVM_BAD_JUMP_DESTINATION = 6,
    EVM_STATIC_MODE_VIOLATION = 7,
    EVM_INVALID_MEMORY_ACCESS = 8,   /* RETURNDATACOPY past the return data */
    EVM_CALL_DEPTH_EXCEEDED = 9,     /* light */
    EVM_INSUFFICIENT_BALANCE = 10,   /* light: value > sender's balance */
    EVM_NONCE_OVERFLOW = 11,         /* light: sender nonce is 2^64 - 1 */
    EVM_CREATE_COLLISION = 12,       /* target has code, nonce or storage */
    EVM_INITCODE_SIZE_EXCEEDED = 13, /* EIP-3860, aborts the creating frame */
    EVM_CODE_SIZE_EXCEEDED = 14,     /* EIP-170 on deposit */
    EVM_INVALID_CODE_PREFIX = 15,    /* EIP-3541: deployed code starts 0xEF */
    EVM_PRECOMPILE_FAILURE = 16,     /* malformed precompile input */
    EVM_UNSUPPORTED_PRECOMPILE = 17, /* a precompile this build does not implement */
};

struct evm_result {
    enum evm_status status;
    int64_t gas_left;   /* unused gas to give back to the caller */
    int64_t gas_refund; /* SSTORE refund counter of the whole message tree
                           (0 unless EVM_SUCCESS; may be negative inside a
                           tree, never at the top); the tx layer caps it */
    /* RETURN or REVERT data (empty otherwise). Owned by the struct evm:
       valid until the next evm_execute or evm_free on that instance. */
    const uint8_t *output;
    size_t output_len;
    evm_address create_address; /* CREATE/CREATE2: the new account (set
                                   whenever the address was computed) */
    /* Non-zero if some message of this tree called a precompile that this
       build does not implement (its address' last byte): that message failed
       with EVM_UNSUPPORTED_PRECOMPILE, even if an outer caller went on. */
    uint8_t unsupported_precompile;
};

/* ---- block and transaction context -------------------------------------- */

/* Constant for a transaction; borrowed for the duration of evm_execute. */
struct evm_tx_context {
    evm_address origin;             /* ORIGIN */
    u256 gas_price;                 /* GASPRICE: the effective gas price */
    evm_address coinbase;           /* COINBASE */
    uint64_t number;                /* NUMBER */
    uint64_t timestamp;             /* TIMESTAMP, seconds */
    uint64_t gas_limit;             /* GASLIMIT of the block */
    evm_bytes32 prevrandao;         /* PREVRANDAO (DIFFICULTY's opcode) */
    u256 chain_id;                  /* CHAINID */
    u256 base_fee;                  /* BASEFEE */
    u256 blob_base_fee;             /* BLOBBASEFEE (EIP-7516) */
    const evm_bytes32 *blob_hashes; /* BLOBHASH (EIP-4844): versioned hashes */
    size_t blob_hashes_count;
};

/* ---- the host ------------------------------------------------------------ */

/*
 * State access callbacks. `ctx` is evm_host.ctx. None may fail: a host that
 * cannot reach its storage must stop the transaction by other means (it
 * reports the failure after evm_execute returns; the EVM result is then
 * discarded). Accounts that do not exist read as zero balance, zero nonce,
 * empty code, zero storage.
 */
struct evm_host_ops {
    /* True if the account does not exist or is empty (EIP-161: nonce 0,
       balance 0, no code). Used for the new-account surcharge of CALL and
       SELFDESTRUCT and for EXTCODEHASH (0 for such accounts). */
    bool (*account_is_dead)(void *ctx, const evm_address *addr);
    u256 (*get_balance)(void *ctx, const evm_address *addr);
    /* Moves value from `from` to `to` (creating `to` if needed). The EVM has
       checked that `from` holds at least value. value may be zero: the host
       then only touches `to` (EIP-161: an account that is empty and touched
       is deleted at the end of the transaction). Called for every CALL and
       STATICCALL message, precompiles included, and for every creation. */
    void (*transfer)(void *ctx, const evm_address *from, const evm_address *to, u256 value);
    uint64_t (*get_nonce)(void *ctx, const evm_address *addr);
    void (*set_nonce)(void *ctx, const evm_address *addr, uint64_t nonce);
    /* True if the account has any non-zero storage slot (EIP-7610 collision
       rule: CREATE to such an address fails). */
    bool (*has_storage)(void *ctx, const evm_address *addr);

    /* The account's code as a view: *code may be NULL when *len is 0. The
       view must stay valid until the end of the transaction (the host keeps
       every code buffer it handed out alive until then). */
    void (*get_code)(void *ctx, const evm_address *addr, const uint8_t **code, size_t *len);
    /* keccak256 of the code (of empty code for an account without code). */
    evm_bytes32 (*get_code_hash)(void *ctx, const evm_address *addr);
    /* Installs deployed code; the host copies code[0..len). */
    void (*set_code)(void *ctx, const evm_address *addr, const uint8_t *code, size_t len);
    /* CREATE/CREATE2 step before the initcode runs: marks addr as created
       in this transaction (for EIP-6780) and clears its storage, keeping its
       balance. The EVM then sets its nonce to 1 and transfers the value. */
    void (*create_account)(void *ctx, const evm_address *addr);

    u256 (*get_storage)(void *ctx, const evm_address *addr, const u256 *key);
    /* The slot's value at the start of the transaction (EIP-2200). */
    u256 (*get_original_storage)(void *ctx, const evm_address *addr, const u256 *key);
    void (*set_storage)(void *ctx, const evm_address *addr, const u256 *key, const u256 *value);
    /* EIP-1153: cleared at the end of the transaction; journaled. */
    u256 (*get_transient_storage)(void *ctx, const evm_address *addr, const u256 *key);
    void (*set_transient_storage)(void *ctx, const evm_address *addr, const u256 *key,
                                  const u256 *value);

    /* EIP-2929: marks the account (or slot) warm and returns whether it
       already was. */
    bool (*access_account)(void *ctx, const evm_address *addr);
    bool (*access_storage)(void *ctx, const evm_address *addr, const u256 *key);

    /* SELFDESTRUCT (EIP-6780): moves addr's whole balance to beneficiary
       (when they differ); if addr was created in this transaction, records
       it for deletion at the end of the transaction (its balance, also when
       beneficiary == addr, is then gone). */
    void (*selfdestruct)(void *ctx, const evm_address *addr, const evm_address *beneficiary);

    /* A LOG0..LOG4 record; the host copies topics and data. */
    void (*emit_log)(void *ctx, const evm_address *addr, const evm_bytes32 *topics,
                     size_t topics_count, const uint8_t *data, size_t data_len);

    /* The hash of block `number`; the EVM only asks for one of the 256
       blocks before tx_context.number. */
    evm_bytes32 (*get_block_hash)(void *ctx, uint64_t number);

    /* Journal: snapshot() returns a mark; revert_to(mark) undoes every
       mutating callback made since, in reverse order. Marks are nested:
       the EVM reverts only to the most recent live mark or an outer one. */
    uint64_t (*snapshot)(void *ctx);
    void (*revert_to)(void *ctx, uint64_t mark);
};

struct evm_host {
    const struct evm_host_ops *ops;
    void *ctx;
};

/* ---- the interpreter ---------------------------------------------------- */

struct evm; /* interpreter instance: code-analysis cache, stacks, memories */

/*
 * A new instance whose code-analysis cache holds at most
 * `code_cache_entries` analysed contracts (0 picks a default of 1024).
 * Returns NULL when out of memory. Free with evm_free.
 */
struct evm *evm_new(size_t code_cache_entries);

/* Frees vm and everything it owns (NULL is a no-op). Any evm_result output
   from it becomes invalid. */
void evm_free(struct evm *vm);

/*
 * Runs one message and its whole subtree against host, as the matching
 * opcode would once its caller has set msg->gas aside: depth and balance
 * checks, for CREATE* the sender's nonce increment, address, collision and
 * deposit rules, a journal snapshot around the message (reverted unless the
 * outcome is EVM_SUCCESS), value transfer, precompile or code execution.
 * A message to an address 0x01..0x0a runs that precompile.
 *
 * Returns TC_OK with *result filled in (every EVM-level failure is a status
 * in *result, not an error code), TC_EINVAL for a malformed message (NULL
 * pointers, negative gas, depth outside 0..1024), or TC_ENOMEM if a stack
 * or memory buffer could not be allocated (the host journal was rolled back
 * to the state before the call; the transaction cannot be executed).
 */
int evm_execute(struct evm *vm, const struct evm_host *host, const struct evm_tx_context *tx,
                const struct evm_message *msg, struct evm_result *result);

/* Short static name of a status ("success", "out of gas", ...), never NULL. */
const char *evm_status_name(enum evm_status status);

/* The CREATE address: keccak256(rlp([sender, nonce]))[12..32]. */
evm_address evm_create_address(const evm_address *sender, uint64_t nonce);

/* The CREATE2 address (EIP-1014):
   keccak256(0xff ++ sender ++ salt ++ keccak256(initcode))[12..32]. */
evm_address evm_create2_address(const evm_address *sender, const evm_bytes32 *salt,
                                const uint8_t *initcode, size_t initcode_len);

/* ---- precompiles (precompile.c, bn254_pairing.c) ------------------------ */

/* True if addr is 0x00..00NN with NN in 1..10 (Cancun's precompiles). */
bool evm_is_precompile(const evm_address *addr);

/*
 * Runs precompile addr (evm_is_precompile must hold) on input with `gas`
 * available. On success returns EVM_SUCCESS with *gas_used set and the
 * output appended to out (cleared first; caller frees with bytes_free).
 * Returns EVM_OUT_OF_GAS when the price exceeds gas, EVM_PRECOMPILE_FAILURE
 * for malformed input, EVM_UNSUPPORTED_PRECOMPILE for 0x0a (the EIP-4844
 * KZG point evaluation), which this build does not implement (it needs a
 * BLS12-381 pairing and the KZG trusted setup).
 * Returns EVM_PRECOMPILE_FAILURE as well if out cannot grow (out of memory).
 */
enum evm_status evm_precompile_run(const evm_address *addr, const uint8_t *input, size_t input_len,
                                   int64_t gas, int64_t *gas_used, struct bytes *out);

#endif
