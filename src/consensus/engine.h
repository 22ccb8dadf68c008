/*
 * engine.h - what a consensus engine (Raft or PBFT) offers the node.
 *
 * The node sees one shape whatever the engine: it hands blocks in
 * (propose), frames from peers in (receive), and logical time in (tick); the
 * engine calls back to send frames and to deliver committed blocks in order.
 * Each engine is a pure core (consensus/raft/raft.h, consensus/pbft/) wrapped
 * by an adapter that owns the engine's durable state: the Raft adapter writes
 * the core's updates to its log store (consensus/raft/logstore.h) and follows
 * the core's persistence contract itself, because what must be durable before
 * which frame may leave is engine-specific. So there is no generic "persist"
 * callback: durability is inside the engine, ordering towards the node is
 * expressed by when send and commit are called.
 *
 * Threading: one event-loop thread calls every operation; callbacks run on
 * that thread, inside the operation that triggers them. If an operation
 * returns an error, it made no callback.
 *
 * Header only: this file describes the contract; each adapter provides a
 * struct consensus_engine filled with its functions.
 */
#ifndef TC_CONSENSUS_ENGINE_H
#define TC_CONSENSUS_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/bytes.h"

/* What the engine asks of the node. */
struct consensus_callbacks {
    void *ctx;
    /* Sends an engine frame to peer `to`. The frame is borrowed for the call;
     * sending is best effort (the engine copes with loss). */
    void (*send)(void *ctx, uint64_t to, struct bytes_view frame);
    /* Delivers the next committed block, in commit order, exactly once per
     * engine lifetime; `seq` increases by one per block (it is the engine's
     * position, e.g. the Raft log index, not the block number). The block is
     * borrowed for the call. A non-zero return stops delivery until the next
     * operation (the node could not apply it). */
    int (*commit)(void *ctx, uint64_t seq, struct bytes_view block);
    /* Leadership seen by this node changed (leader 0: unknown). */
    void (*leader_changed)(void *ctx, uint64_t leader, uint64_t term);
};

/* What the node asks of the engine. `self` is the adapter's state. */
struct consensus_engine {
    const char *name; /* "raft" or "pbft" */
    void *self;
    /* Orders a block (copied). TC_ESTATE if this node cannot propose (not
     * the leader / primary), TC_EAGAIN if it should retry later. */
    int (*propose)(void *self, struct bytes_view block);
    /* A frame from peer `from`, borrowed for the call. A malformed frame is
     * an error return (the node drops the peer), never a crash. */
    int (*receive)(void *self, uint64_t from, struct bytes_view frame);
    /* One tick of logical time (the engine's timeouts count ticks). */
    int (*tick)(void *self);
    bool (*is_leader)(const void *self);
    /* Current leader or primary, 0 if unknown. */
    uint64_t (*leader)(const void *self);
    /* Releases everything the engine owns; self is invalid afterwards. */
    void (*destroy)(void *self);
};

#endif
