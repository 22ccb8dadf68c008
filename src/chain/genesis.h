/*
 * genesis.h - what every node of a chain must agree on: the contents of
 * config.genesis (DESIGN.md §9), as plain data.
 *
 * node/config.h parses it from the file (with every key validated); the
 * ledger builds the genesis block from it; build-chain writes it. Keeping the
 * type here, below both, keeps the dependencies pointing down (DESIGN.md §2).
 */
#ifndef TC_CHAIN_GENESIS_H
#define TC_CHAIN_GENESIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/u256.h"

#define CONFIG_MAX_SEALERS 32
#define CONFIG_MAX_ALLOC   100000
#define CONFIG_MAX_MEASURE 64
#define NODE_ID_BYTES      64 /* secp256k1 public key, uncompressed, without 0x04 */

enum consensus_type {
    CONSENSUS_RAFT = 1,
    CONSENSUS_PBFT = 2,
};

/* A member of the consensus: node ID and FISCO-style weight (1 by default;
 * Raft ignores weights, PBFT uses them). */
struct genesis_node {
    uint8_t id[NODE_ID_BYTES];
    uint32_t weight;
};

struct genesis_alloc {
    uint8_t address[20];
    u256 balance;
};

/* config.genesis: must be byte-for-byte the same on every node. */
struct genesis_config {
    uint64_t chain_id;             /* [chain] chain_id, EIP-155 id, default 20200 */
    char group_id[64];             /* [chain] group_id, default "group0" */
    enum consensus_type consensus; /* [consensus] consensus_type */
    uint32_t block_tx_count_limit; /* [consensus] block_tx_count_limit */
    uint32_t min_seal_time_ms;     /* [consensus] min_seal_time_ms */
    uint32_t election_timeout_ms;  /* [consensus] election_timeout_ms */
    uint32_t heartbeat_ms;         /* [consensus] heartbeat_ms */
    size_t sealer_count;           /* [consensus] node.N = NODEID[:WEIGHT] */
    struct genesis_node sealers[CONFIG_MAX_SEALERS];
    size_t observer_count; /* [consensus] observer.N = NODEID */
    struct genesis_node observers[CONFIG_MAX_SEALERS];
    uint64_t tx_gas_limit;       /* [tx] gas_limit: per transaction */
    uint64_t block_gas_limit;    /* [tx] block_gas_limit */
    u256 gas_price;              /* [tx] gas_price: minimum, 0 = free (FISCO-like) */
    size_t alloc_count;          /* [alloc] 0xADDRESS = BALANCE */
    struct genesis_alloc *alloc; /* owned; node_config_free */
    bool tee_allow_virtual;      /* [tee] allow_virtual */
    size_t measurement_count;    /* [tee] mrenclave.N = 64 hex digits */
    uint8_t measurements[CONFIG_MAX_MEASURE][32];
    uint64_t timestamp_ms; /* [chain] timestamp_ms: of the genesis block */
};

const char *consensus_type_name(enum consensus_type t);

#endif
