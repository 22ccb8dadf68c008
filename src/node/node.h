/*
 * node.h - a running TEEChain node: the ledger on RocksDB, the Raft log and
 * core, the txpool, the sealer and executor, and the JSON-RPC server, wired
 * together (DESIGN.md §3). teechaind's main() is a thin shell around it.
 *
 * Threads:
 *   loop thread    the caller of node_run(): libevent, the JSON-RPC server,
 *                  signals. Answers every read from the ledger's applied state.
 *   chain thread   owned by the node, with a large stack (the EVM's): the Raft
 *                  core and its log store, the sealer (take from the pool,
 *                  execute on the speculative state, seal, propose) and the
 *                  applier (each committed entry into the ledger in one batch).
 *   workers        the thread pool that recovers senders for the txpool.
 *
 * Block production (leader): a block is sealed when block_tx_count_limit
 * transactions are ready, or when min_seal_time_ms has passed since the last
 * block and at least one is ready; never an empty block. The leader executes
 * each block on a state layered over the blocks it still has in flight (at
 * most NODE_MAX_INFLIGHT_BLOCKS), proposes block + receipts + write-set as one
 * Raft BLOCK entry, and applies it to the ledger once committed. If it loses
 * leadership, its speculative blocks are dropped and their transactions go back
 * to the pool.
 *
 * Recovery: every committed entry is applied in one synced ledger batch that
 * also records its Raft index; on start the node replays its Raft log from the
 * entry after the ledger's last applied index, so a kill -9 at any moment
 * loses nothing that was committed.
 *
 * Usage (teechaind):
 *     struct node *n;
 *     char err[512];
 *     if (node_open(&cfg, &n, err, sizeof(err)) != 0) { print err; exit 1; }
 *     node_run(n);            // until SIGTERM/SIGINT or node_stop()
 *     node_close(n);
 *
 * Several nodes: every member of the chain (config.genesis, then the
 * consensus system contract, exec/syscontract.h) is a Raft voter (sealer) or
 * learner (observer); peers talk over P2P (net/p2p.h) through the loop
 * thread; followers apply the leader's blocks without executing them and
 * forward the transactions they admit; a node too far behind catches up by
 * block sync (node/sync.h). See docs/node.md.
 */
#ifndef TC_NODE_NODE_H
#define TC_NODE_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "node/config.h"

/* Blocks the leader may have proposed but not yet applied. */
#define NODE_MAX_INFLIGHT_BLOCKS 4u
/* Stack of the chain thread (EVM recursion; sanitizer builds need more than
 * the EVM's stated 8 MiB). */
#define NODE_CHAIN_STACK_BYTES (64u << 20)
/* web3_clientVersion and getNodeInfo. */
#define NODE_CLIENT_VERSION "TEEChain/v0.1.0/linux-x86_64/c11"

struct node;

/*
 * Opens everything cfg names (borrowed: it must outlive the node): node key,
 * storage (sealed if configured), ledger (genesis on first start), Raft log,
 * txpool, RPC server (listening when this returns), and starts the chain
 * thread, which replays the Raft log. Relative paths are resolved against the
 * working directory. On failure returns a TC_E* code with a one-line reason in
 * err naming the file or setting at fault; nothing is left running.
 */
int node_open(const struct node_config *cfg, struct node **out, char *err, size_t err_len);

/* Runs the loop thread until SIGTERM or SIGINT (handled here) or node_stop().
 * Returns 0, or TC_EIO if the event loop failed. */
int node_run(struct node *n);

/* Asks node_run() to return; any thread. */
void node_stop(struct node *n);

/* Stops the chain thread (finishing the entry it is applying), then frees
 * everything. NULL is a no-op. */
void node_close(struct node *n);

/*
 * Cuts this node off from the members with these Raft ids at the P2P layer:
 * their connections are dropped and refused until the next call (count 0
 * lets everyone in again). For an operator who must isolate a misbehaving
 * member, and for partition tests. Any thread; takes effect on the loop
 * thread shortly after. Returns 0, TC_EINVAL (more than RAFT_MAX_NODES ids)
 * or TC_ESTATE (a one-node chain has no P2P).
 */
int node_block_peers(struct node *n, const uint64_t *raft_ids, size_t count);

/* The RPC port actually bound (useful with listen_port 0 in tests). */
uint16_t node_rpc_port(const struct node *n);

/*
 * The Raft id of a node: the first 8 bytes of keccak256(node ID), big-endian,
 * with 0 (Raft's "none") mapped to 1. Every node derives the same ids from
 * config.genesis.
 */
uint64_t node_raft_id(const uint8_t node_id[64]);

/*
 * Reads a storage key file: 64 hex digits (optionally followed by one
 * newline) or exactly 32 raw bytes. Returns 0, TC_EIO (unreadable) or
 * TC_EINVAL (anything else), with the reason naming path in err.
 */
int node_read_storage_key(const char *path, uint8_t key[32], char *err, size_t err_len);

#endif
