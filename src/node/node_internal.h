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
#include "exec/syscontract.h"
#include "net/p2p.h"
#include "node/mailbox.h"
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

/* Nodes the member table can hold (members come and go). */
#define NODE_MAX_KNOWN 64u
/* Bound on each mailbox between the loop and chain threads. */
#define NODE_MAILBOX_BYTES (256u << 20)

struct sync_blocks;

/* Block sync in progress (chain thread). */
struct node_sync {
    bool active;
    struct raft_snapshot_meta target; /* what Raft asked for */
    uint64_t peer;                    /* asked now */
    uint64_t sent_ms;
    size_t rotation;            /* index in the member table of the next peer to try */
    struct sync_blocks *answer; /* decode buffer */
};

struct node {
    const struct node_config *cfg;
    uint8_t node_key[32];
    uint8_t node_id[64];
    uint8_t address[20];
    uint64_t raft_id;
    /* Addresses whose seal a block may carry: the sealers of the committed
     * membership and the voters of the Raft configuration (chain thread). */
    uint8_t sealer_addresses[NODE_MAX_KNOWN][20];
    size_t sealer_count;
    /* Every node ever a member (genesis, then the consensus system contract):
     * Raft id and node ID, append-only, under mu. */
    size_t member_count;
    uint64_t member_raft[NODE_MAX_KNOWN];
    uint8_t member_id[NODE_MAX_KNOWN][64];
    /* The members P2P admits (committed membership and Raft configuration),
     * by index into the table above; under mu. */
    size_t allowed_count;
    size_t allowed[NODE_MAX_KNOWN];
    /* The committed membership, and the Raft configuration last seen (chain
     * thread). */
    struct consensus_members members;
    struct raft_membership last_conf;
    /* The hard state as last saved, with its extra blob: the Raft position
     * and membership of the log's compaction point (chain thread). */
    uint64_t hs_term;
    uint64_t hs_vote;
    uint8_t hs_extra[LOGSTORE_HARD_STATE_EXTRA_MAX];
    size_t hs_extra_len;

    struct store *store;
    struct ledger *ledger;
    struct logstore *log;
    struct threadpool *workers;
    struct threadpool *call_workers; /* eth_call / eth_estimateGas */
    struct txpool *pool;
    struct metrics *metrics;
    struct event_base *base;
    struct rpc_server *rpc;
    struct eth_api_deps api; /* borrowed by the RPC methods: lives as long as the node */
    struct event *sig_term;
    struct event *sig_int;
    bool owns_signals;                /* this node's base handles SIGTERM/SIGINT */
    struct event *stop_ev;            /* node_stop() activates it */
    struct p2p *p2p;                  /* NULL in a one-node chain */
    struct event *outbox_ev;          /* the chain thread activates it to flush outbox */
    struct mailbox inbox;             /* Raft frames from peers, for the chain thread */
    struct mailbox outbox;            /* frames for peers, sent by the loop thread */
    struct raft_entry *loop_entries;  /* decode buffer of the loop thread */
    atomic_uint_fast64_t leader_hint; /* Raft id of the known leader, 0 if none */
    struct event *block_ev;           /* node_block_peers() activates it */
    uint64_t blocked[RAFT_MAX_NODES]; /* guarded by mu */
    size_t blocked_count;

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
    struct raft_entry *chain_entries; /* decode buffer of the chain thread */
    struct bytes encode_buf;
    struct exec *exec;
    struct txpool_batch batch;
    struct node_inflight inflight[NODE_MAX_INFLIGHT_BLOCKS];
    size_t inflight_head;
    size_t inflight_count;
    struct node_sync sync;
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
/* chain.c: a one-voter chain applies every durable entry (all committed)
 * before the node serves requests. Called by node_open after the pool exists
 * and before the RPC server opens. Returns 0; failures are fatal. */
int node_chain_replay(struct node *n);
/* chain.c: the chain thread's body. */
void *node_chain_main(void *arg);
/* chain.c: wakes the chain thread (any thread). */
void node_chain_wake(struct node *n);
/* chain.c: Raft asked for a snapshot: start (or retarget) block sync. */
void node_sync_wanted(struct node *n, uint64_t from, const struct raft_snapshot_meta *meta);
/* node.c: copies the node ID of a known node's Raft id into id; false if
 * unknown. Any thread. */
bool node_member_id(struct node *n, uint64_t raft_id, uint8_t id[64]);
/* node.c: adds a node to the member table if new (any thread). Returns its
 * index, or -1 when the table is full or its Raft id collides with another's. */
int node_member_add(struct node *n, const uint8_t id[64]);
/* node.c: sets which known nodes P2P admits (indexes into the member table)
 * and applies it on the loop thread. Any thread. */
void node_set_allowed(struct node *n, const size_t *indexes, size_t count);
/* node.c: makes the loop thread send what is in the outbox (any thread). */
void node_loop_wake(struct node *n);
/* chain.c: frees what the chain thread owned (after it was joined). */
void node_chain_free(struct node *n);

#endif
