/*
 * node_internal.h - the node's state, shared by node.c (open, loop thread,
 * RPC callbacks) and chain.c (the chain thread: Raft, sealer, applier).
 * Not a public interface.
 */
#ifndef TC_NODE_NODE_INTERNAL_H
#define TC_NODE_NODE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/threadpool.h"
#include "consensus/raft/logstore.h"
#include "consensus/raft/raft.h"
#include "exec/exec.h"
#include "node/node.h"
#include "rpc/eth_api.h"
#include "rpc/metrics.h"
#include "rpc/rpc.h"
#include "state/state.h"
#include "store/ledger.h"
#include "store/store.h"
#include "txpool/txpool.h"

struct event_base;
struct event;

/* A block the leader proposed and has not applied yet. */
struct node_inflight {
    uint64_t index; /* Raft entry */
    uint64_t term;
    uint64_t number;
    uint8_t hash[32];
    uint8_t state_root[32];
    uint64_t timestamp;
    struct state *state;  /* the state after this block; read by the blocks above */
    struct bytes payload; /* the BLOCK entry */
    uint8_t (*tx_hashes)[32];
    size_t tx_count;
    uint64_t sealed_ms;
};

/* What the loop thread shows of the chain thread (getConsensusStatus). */
struct node_status {
    uint8_t role; /* enum raft_role */
    uint64_t term;
    uint64_t leader;
    uint64_t commit_index;
    uint64_t applied_index;
    uint64_t last_index;
    uint64_t first_index;
    struct raft_membership members;
    uint64_t match_index[RAFT_MAX_NODES];
};

struct node {
    const struct node_config *cfg;
    uint8_t node_key[32];
    uint8_t node_id[64];
    uint8_t address[20];
    uint64_t raft_id;
    uint8_t (*sealer_addresses)[20];
    size_t sealer_count;

    struct store *store;
    struct ledger *ledger;
    struct logstore *log;
    struct threadpool *workers;
    struct txpool *pool;
    struct metrics *metrics;
    struct event_base *base;
    struct rpc_server *rpc;
    struct eth_api_deps api; /* borrowed by the RPC methods: lives as long as the node */
    struct event *sig_term;
    struct event *sig_int;
    struct event *stop_ev; /* node_stop() activates it */

    /* Metrics (series pointers, any thread). */
    struct metric_series *m_blocks;
    struct metric_series *m_txs;
    struct metric_series *m_failed_txs;
    struct metric_series *m_head;
    struct metric_series *m_pool;
    struct metric_series *m_commit_latency;
    struct metric_series *m_dropped;

    /* Chain thread. */
    pthread_t chain_thread;
    bool chain_started;
    pthread_mutex_t mu; /* guards wake, stop, status */
    pthread_cond_t cv;
    bool wake;
    bool stop;
    atomic_bool wake_pending; /* cheap check before taking mu on each admission */
    struct node_status status;

    /* Owned by the chain thread once it runs. */
    struct raft *raft;
    struct raft_update update;
    struct exec *exec;
    struct txpool_batch batch;
    struct node_inflight inflight[NODE_MAX_INFLIGHT_BLOCKS];
    size_t inflight_head;
    size_t inflight_count;
    bool was_leader;
    uint64_t last_seal_ms;
    uint64_t next_expire_ms;
};

/*
 * chain.c: the sealing rule. A block is due when `limit` transactions are
 * pending, or when at least one is and min_seal_time_ms has passed since the
 * last block was sealed. When not due with transactions pending, lowers
 * *wait_ms to the time left until it will be.
 */
bool node_seal_due(size_t pending, uint32_t limit, uint64_t now_ms, uint64_t last_seal_ms,
                   uint32_t min_seal_time_ms, uint64_t *wait_ms);
/* chain.c: prepares the Raft core from the log store and the ledger (called by
 * node_open, on the opening thread). Returns 0 or a code with err set. */
int node_chain_boot(struct node *n, char *err, size_t err_len);
/* chain.c: the chain thread's body. */
void *node_chain_main(void *arg);
/* chain.c: wakes the chain thread (any thread). */
void node_chain_wake(struct node *n);
/* chain.c: frees what the chain thread owned (after it was joined). */
void node_chain_free(struct node *n);

#endif
