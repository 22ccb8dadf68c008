/*
 * tx.h - Ethereum transactions: legacy (type 0, with or without EIP-155),
 * EIP-2930 (type 1) and EIP-1559 (type 2).
 *
 * A raw transaction (what eth_sendRawTransaction receives) is either an RLP
 * list (legacy) or `type || rlp(payload)` (typed). tx_decode() parses one
 * strictly (canonical RLP, exact field sizes) into a struct tx; tx_check()
 * applies the stateless Cancun validity rules; tx_validate() adds sender
 * recovery. Typical use:
 *
 *     struct tx tx;
 *     const char *reason;
 *     uint8_t sender[20];
 *     struct tx_rules rules = { .chain_id = 1, .allow_unprotected = true };
 *     if (tx_decode(raw, &tx, &reason) != 0 ||
 *         tx_validate(&tx, &rules, sender, &reason) != 0)
 *         reject(reason);
 *
 * Lifetime: a decoded struct tx borrows from the raw input. tx.data,
 * tx.access_list and tx.raw are views into it and stay valid only as long
 * as that buffer does; everything else is copied. A struct tx built by hand
 * (to sign it) points data and access_list at the caller's memory instead.
 *
 * Every function that can fail returns 0 or a negative TC_E* code, and, when
 * `reason` is not NULL, sets *reason to a static message saying what was
 * wrong (e.g. "nonce: leading zero bytes"). Nothing here allocates except
 * tx_encode(), which appends to the caller's struct bytes.
 *
 * Type 3 (blob) and any other type are rejected with TC_EUNSUPPORTED and the
 * reason "transaction type not supported".
 */
#ifndef TC_CHAIN_TX_H
#define TC_CHAIN_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/u256.h"

enum tx_type {
    TX_LEGACY = 0,
    TX_ACCESS_LIST = 1, /* EIP-2930 */
    TX_DYNAMIC_FEE = 2, /* EIP-1559 */
};

/* Cancun constants used by validation. */
#define TX_MAX_INITCODE_BYTES 49152 /* EIP-3860: 2 * the EIP-170 code size limit */

struct tx {
    enum tx_type type;
    /*
     * Typed: the chainId field. Legacy EIP-155 (eip155 set): derived from v.
     * Legacy pre-EIP-155: 0.
     */
    uint64_t chain_id;
    uint64_t nonce;
    /*
     * Fees: a type-2 transaction has max_priority_fee_per_gas and
     * max_fee_per_gas; the others have gas_price. The decoder fills all
     * three so that callers need not switch on the type: for types 0 and 1
     * both maxima equal gas_price; for type 2 gas_price equals
     * max_fee_per_gas. The encoder reads only the type's own fields.
     */
    u256 gas_price;
    u256 max_priority_fee_per_gas;
    u256 max_fee_per_gas;
    uint64_t gas_limit;
    bool has_to; /* false: contract creation (empty `to`) */
    uint8_t to[20];
    u256 value;
    struct bytes_view data;
    /*
     * Types 1 and 2: the whole RLP list [[address, [key, ...]], ...]
     * (header included); empty view means the empty list. Decoding checks
     * its shape (20-byte addresses, 32-byte keys) and counts them.
     */
    struct bytes_view access_list;
    size_t access_list_addresses;
    size_t access_list_keys;
    /* Signature: r and s big-endian, left-padded to 32 bytes. */
    uint8_t y_parity; /* the recovery id, 0 or 1 */
    bool eip155;      /* legacy only: v = 35 + 2 * chain_id + y_parity (else 27 + y_parity) */
    uint8_t r[32];
    uint8_t s[32];
    /* After tx_decode(): the whole raw input. Empty for a hand-built tx. */
    struct bytes_view raw;
};

/* What a chain accepts; a stateless part of the node's configuration. */
struct tx_rules {
    uint64_t chain_id;      /* required chain id; 0 accepts any (but never 0 itself) */
    bool allow_unprotected; /* accept legacy transactions without EIP-155 (v = 27 or 28) */
};

/*
 * Parses a raw transaction. Returns 0, or TC_ETRUNCATED / TC_ETRAILING /
 * TC_ENONCANONICAL (RLP), TC_EINVAL (wrong shape: a list for a field,
 * wrong number of fields, bad v or yParity, wrong-size address or key),
 * TC_ERANGE (an integer wider than its field), TC_EUNSUPPORTED (type not
 * 0, 1 or 2). On failure *tx is unspecified.
 */
int tx_decode(struct bytes_view raw, struct tx *tx, const char **reason);

/*
 * Appends the raw transaction (envelope included) to out. For a decoded
 * transaction the result is byte-for-byte the input. Returns 0 or TC_ENOMEM.
 */
int tx_encode(const struct tx *tx, struct bytes *out);

/* keccak256 of the raw envelope: the transaction hash. */
void tx_hash(const struct tx *tx, uint8_t hash[32]);

/* The hash that the sender signs (EIP-155 / EIP-2718 rules for the type). */
void tx_signing_hash(const struct tx *tx, uint8_t hash[32]);

/* Intrinsic gas under Cancun rules (EIP-2028, EIP-2930, EIP-3860). */
uint64_t tx_intrinsic_gas(const struct tx *tx);

/*
 * Stateless validity without sender recovery: nonce < 2^64 - 1 (EIP-2681),
 * chain id, fee order, gasLimit * maxFee within 256 bits, initcode size,
 * gasLimit >= intrinsic gas, r and s in [1, n-1] and s <= n/2. Returns 0,
 * TC_EINVAL (chain id, fees, signature values) or TC_ERANGE (sizes, gas).
 */
int tx_check(const struct tx *tx, const struct tx_rules *rules, const char **reason);

/*
 * Recovers the sender's address from the signature (low s required).
 * Returns 0, TC_EINVAL for out-of-range r/s, TC_ECRYPTO if no key recovers.
 */
int tx_sender(const struct tx *tx, uint8_t address[20], const char **reason);

/* tx_check() then tx_sender(): everything a node checks before the state. */
int tx_validate(const struct tx *tx, const struct tx_rules *rules, uint8_t sender[20],
                const char **reason);

/*
 * Signs tx with seckey: fills y_parity, r and s (for a legacy tx, eip155 and
 * chain_id decide v). Returns 0, TC_EINVAL for a bad key, TC_ECRYPTO.
 */
int tx_sign(struct tx *tx, const uint8_t seckey[32]);

#endif
