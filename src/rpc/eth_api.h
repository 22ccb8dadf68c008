/*
 * eth_api.h - the Ethereum execution-API and FISCO-style JSON-RPC methods
 * that answer from the ledger, the txpool and the genesis configuration.
 *
 * The node fills a struct eth_api_deps and calls eth_api_register() once,
 * on the loop thread, before it runs the loop:
 *
 *     struct eth_api_deps d = { .ledger = l, .txpool = pool, .genesis = &cfg.genesis,
 *                               .client_version = "TEEChain/v0.1.0/linux-x86_64/c11",
 *                               .peer_count = node_peer_count, .node_ctx = node };
 *     if (eth_api_register(rpc, &d) != TC_OK) ...;
 *
 * Shapes are the Ethereum execution API's: compact hex quantities, 0x data,
 * null for an unknown transaction, receipt or block. The ledger keeps the
 * latest state only: eth_getBalance, eth_getTransactionCount, eth_getCode,
 * eth_getStorageAt, eth_call and eth_estimateGas answer for
 * latest/pending/safe/finalized or the head's own number or hash, and -32000
 * "historical state is not available" for an older block. Raft commits are
 * final, so safe and finalized are the head, and so is pending for blocks.
 *
 * Callbacks for what only the node knows; each may be NULL:
 *   peer_count        net_peerCount; NULL: "0x0"
 *   sync_progress     eth_syncing; NULL or false: false
 *   consensus_status, sync_status, node_info
 *                     getConsensusStatus, getSyncStatus, getNodeInfo: a new
 *                     cJSON value (ownership passes to the server; NULL is
 *                     -32603); a NULL callback makes the method answer -32601.
 * They are called on the loop thread and must not block.
 *
 * FISCO methods accept their own arguments alone, or preceded by the group
 * and the node name as FISCO's Java SDK sends them ([group, node, ...own]),
 * or by the group alone. The group must be genesis group_id (else -32602);
 * the node name is any string.
 *
 * Contracts. eth_call and eth_estimateGas run the EVM on call_workers, a
 * thread pool with large stacks that the node creates with
 * eth_api_call_workers_create() and destroys (threadpool_destroy) before
 * rpc_server_free(), since its jobs complete RPC calls. Each job executes on
 * its own struct state over the ledger's head, changes nothing, and is
 * bounded by the gas cap (genesis tx_gas_limit, at most the head's block gas
 * limit); when the pool's queue is full the call gets -32000 "server busy".
 * eth_getCode, eth_getStorageAt and eth_getLogs are ledger reads on the loop
 * thread; eth_getLogs is bounded by logs_max_blocks and logs_max_results.
 *
 * Cost: transaction objects recover the sender (about 50 us each) on the
 * loop thread; a block with full transactions recovers every sender.
 */
#ifndef TC_RPC_ETH_API_H
#define TC_RPC_ETH_API_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "chain/genesis.h"
#include "rpc/rpc.h"
#include "store/ledger.h"
#include "txpool/txpool.h"

/* Decoded size bound of eth_sendRawTransaction's data (geth's txMaxSize). */
#define ETH_API_MAX_RAW_TX_BYTES (128u * 1024u)
/* Most blocks in one eth_feeHistory answer (geth's maxBlockCount). */
#define ETH_API_MAX_FEE_HISTORY_BLOCKS 1024u
/* Most reward percentiles in one eth_feeHistory call (geth's maxPercentiles). */
#define ETH_API_MAX_FEE_PERCENTILES 100u
/*
 * eth_call workers: two threads (calls are CPU-bound, the machine budget is
 * small), 64 MiB of stack each (evm.h: a 1,024-deep message tree needs about
 * 4 MiB in Release, several times that under sanitizers), and a queue of 64
 * waiting calls beyond which callers get "server busy".
 */
#define ETH_API_CALL_THREADS     2u
#define ETH_API_CALL_STACK_BYTES (64u * 1024 * 1024)
#define ETH_API_CALL_QUEUE       64u
/* eth_getLogs bounds when the deps leave them 0 (geth-like). */
#define ETH_API_LOGS_MAX_BLOCKS  10000u
#define ETH_API_LOGS_MAX_RESULTS 10000u

struct threadpool;

struct eth_api_deps {
    struct ledger *ledger;                /* required */
    struct txpool *txpool;                /* required */
    const struct genesis_config *genesis; /* required */
    const char *client_version;           /* web3_clientVersion; required */
    uint64_t (*peer_count)(void *ctx);
    /* True while syncing, with the eth_syncing fields. */
    bool (*sync_progress)(void *ctx, uint64_t *starting_block, uint64_t *current_block,
                          uint64_t *highest_block);
    cJSON *(*consensus_status)(void *ctx);
    cJSON *(*sync_status)(void *ctx);
    cJSON *(*node_info)(void *ctx);
    void *node_ctx; /* passed to every callback */
    /* Runs eth_call and eth_estimateGas (eth_api_call_workers_create); NULL:
       those two methods answer -32601. */
    struct threadpool *call_workers;
    uint64_t logs_max_blocks; /* eth_getLogs block range; 0: ETH_API_LOGS_MAX_BLOCKS */
    size_t logs_max_results;  /* eth_getLogs logs per answer; 0: ETH_API_LOGS_MAX_RESULTS */
};

/*
 * The pool for deps.call_workers: ETH_API_CALL_THREADS threads with
 * ETH_API_CALL_STACK_BYTES of stack, ETH_API_CALL_QUEUE queued calls. Free
 * with threadpool_destroy() (it finishes the queued calls first). Returns
 * threadpool_create_with_stack()'s codes.
 */
int eth_api_call_workers_create(struct threadpool **out);

/*
 * Registers every method above on s. deps is borrowed, as are the objects it
 * points to: they must outlive the server (and the txpool must outlive every
 * eth_sendRawTransaction in progress, which txpool_destroy() guarantees when
 * it runs before rpc_server_free()). Returns TC_OK, TC_EINVAL (a required
 * field missing), or rpc_register()'s TC_EEXIST / TC_EFULL (then the methods
 * registered so far stay registered).
 */
int eth_api_register(struct rpc_server *s, const struct eth_api_deps *deps);

#endif
