/*
 * sync.h - block sync: how a node that is missing committed blocks (a follower
 * far behind the leader's compacted Raft log, a node restarted after a long
 * stop) copies them from a peer, verifying each against the chain of block
 * hashes and the sealers' signatures, before Raft replication resumes
 * (DESIGN.md §4).
 *
 * Wire format (P2P frame type P2P_TYPE_SYNC), integers big-endian:
 *   request   version u8 (= 1), kind u8 (= 1), from_number u64, max_blocks u32
 *   blocks    version u8 (= 1), kind u8 (= 2), head_number u64,
 *             applied_index u64, applied_term u64, count u32,
 *             count x (raft_index u64, raft_term u64, len u32, entry[len])
 * A blocks answer holds blocks from_number, from_number + 1, ... (count may
 * be 0: the responder has nothing after from_number - 1), each as its Raft
 * BLOCK entry payload (chain/entry.h) with the Raft position it was applied
 * from; head_number is the responder's head and applied_index/term its last
 * applied Raft entry at that head (0, 0 when it could not read both at once).
 * Bounds: SYNC_MAX_BLOCKS blocks and SYNC_MAX_RESPONSE_BYTES bytes per answer.
 * Decoding rejects any other version or kind, a count or length beyond the
 * bounds, truncated input and trailing bytes.
 *
 * The requester (the chain thread) applies a block only when it extends its
 * head: number head + 1, parent hash = head hash, block_entry_check against
 * the head's state root, a seal by a sealer of the genesis, and a Raft index
 * above its applied one. Anything else ends the round (the peer is not
 * trusted further in it) and the request is sent again after a timeout,
 * to the next member in turn.
 */
#ifndef TC_NODE_SYNC_H
#define TC_NODE_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "consensus/raft/raft.h"
#include "store/ledger.h"

#define SYNC_VERSION            1u
#define SYNC_KIND_REQUEST       1u
#define SYNC_KIND_BLOCKS        2u
#define SYNC_MAX_BLOCKS         256u
#define SYNC_MAX_RESPONSE_BYTES (48u << 20)
#define SYNC_REQUEST_BYTES      14u
/* A request not answered in this time goes to the next member. */
#define SYNC_TIMEOUT_MS 3000u

struct sync_request {
    uint64_t from_number;
    uint32_t max_blocks;
};

struct sync_block {
    uint64_t raft_index;
    uint64_t raft_term;
    struct bytes_view entry; /* into the decoded input */
};

struct sync_blocks {
    uint64_t head_number;
    uint64_t applied_index;
    uint64_t applied_term;
    uint32_t count;
    struct sync_block blocks[SYNC_MAX_BLOCKS];
};

/* Appends a request. Returns 0 or TC_ENOMEM. */
int sync_request_encode(const struct sync_request *r, struct bytes *out);
/* The kind of a frame (its second byte) after checking the version; TC_EINVAL
 * or TC_ETRUNCATED otherwise. */
int sync_frame_kind(const uint8_t *buf, size_t len, uint8_t *kind);
/* Decodes exactly one request. TC_ETRUNCATED, TC_ETRAILING, TC_EINVAL (version,
 * kind, max_blocks 0). */
int sync_request_decode(const uint8_t *buf, size_t len, struct sync_request *r);
/* Decodes exactly one answer; entries are views into buf. Errors as above,
 * plus TC_ETOOBIG (bounds). */
int sync_blocks_decode(const uint8_t *buf, size_t len, struct sync_blocks *b);

/*
 * Builds the answer to r from ledger l into out (cleared first): blocks
 * r->from_number.. up to min(r->max_blocks, SYNC_MAX_BLOCKS) blocks and
 * SYNC_MAX_RESPONSE_BYTES (at least one block if any exists). Returns 0 or
 * the ledger's error.
 */
int sync_answer(struct ledger *l, const struct sync_request *r, struct bytes *out);

#endif
