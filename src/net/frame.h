/*
 * frame.h - the P2P frame header (DESIGN.md §8).
 *
 * Every message between two nodes travels inside the TLS stream as one frame:
 *
 *   offset 0  uint16 magic    0x5443 ("TC"), big-endian
 *   offset 2  uint8  version  P2P_FRAME_VERSION
 *   offset 3  uint8  type     see enum p2p_frame_type (net/p2p.h)
 *   offset 4  uint32 length   payload bytes that follow, big-endian
 *
 * The header is checked before any payload byte is buffered: a bad magic or
 * version is a protocol error, and the length is bounded by the receiver's
 * limit for the type (p2p_register), so a peer cannot make a node buffer
 * more than that limit. Pure functions, no allocation.
 */
#ifndef TC_NET_FRAME_H
#define TC_NET_FRAME_H

#include <stdint.h>

#define P2P_FRAME_MAGIC        0x5443u
#define P2P_FRAME_VERSION      1u
#define P2P_FRAME_HEADER_BYTES 8u

struct p2p_frame_header {
    uint8_t type;
    uint32_t length; /* payload bytes */
};

/* Writes the header of a frame of `type` with a payload of `length` bytes. */
void p2p_frame_header_encode(uint8_t out[P2P_FRAME_HEADER_BYTES], uint8_t type, uint32_t length);

/* Parses a header. Returns 0, or TC_EINVAL for a wrong magic or an unknown
 * version (the type and length are the caller's to check). */
int p2p_frame_header_decode(const uint8_t in[P2P_FRAME_HEADER_BYTES], struct p2p_frame_header *out);

#endif
