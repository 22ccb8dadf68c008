/*
 * raft_codec.h - the wire format of Raft messages and CONFIG entries.
 *
 * A message is encoded as a fixed header and a body chosen by its type, all
 * integers fixed-width little-endian, booleans one byte (0 or 1):
 *
 *   header   version u8 (= RAFT_CODEC_VERSION), type u8, from u64, to u64, term u64
 *   PREVOTE, VOTE               index u64, log_term u64, transfer u8
 *   PREVOTE_RESP, VOTE_RESP     reject u8
 *   APPEND                      index u64, log_term u64, commit u64, count u32,
 *                               count x (term u64, type u8, len u32, data[len])
 *   APPEND_RESP                 index u64, reject u8, hint_term u64, hint_index u64
 *   HEARTBEAT                   commit u64, context u64
 *   HEARTBEAT_RESP              context u64
 *   SNAPSHOT                    index u64, term u64, membership (below)
 *   TIMEOUT_NOW                 (nothing)
 *
 * A membership (also the data of a CONFIG entry):
 *   version u8 (= RAFT_CODEC_VERSION), count u32, count x (id u64, role u8)
 *
 * Bounds: at most RAFT_MSG_MAX_BYTES per message, RAFT_MSG_MAX_ENTRIES
 * entries per APPEND, RAFT_ENTRY_MAX_BYTES per entry, RAFT_MAX_NODES members;
 * entry indexes are implicit (index + 1, index + 2, ...). Decoding rejects
 * an unknown version or type, a boolean other than 0/1, an unknown entry type
 * or role, a zero or repeated member id, a bound exceeded, an index overflow,
 * truncated input and trailing bytes - always by an error return. The
 * encoding is canonical: decode then encode gives the same bytes.
 */
#ifndef TC_CONSENSUS_RAFT_RAFT_CODEC_H
#define TC_CONSENSUS_RAFT_RAFT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "consensus/raft/raft.h"

#define RAFT_CODEC_VERSION 1u
/* Encoded size of the largest membership. */
#define RAFT_MEMBERSHIP_MAX_BYTES (1u + 4u + RAFT_MAX_NODES * 9u)

/* Size of the encoding of m. TC_EINVAL if m is not encodable (bad type,
 * entries not numbered from m->index + 1, bad membership), TC_ETOOBIG if a
 * bound is exceeded. */
int raft_msg_encoded_size(const struct raft_message *m, size_t *size);

/* Appends the encoding of m to out. Errors as raft_msg_encoded_size, plus
 * TC_ENOMEM; out is unchanged on error. */
int raft_msg_encode(const struct raft_message *m, struct bytes *out);

/*
 * Decodes exactly buf[0..len) into *out. APPEND entries are written to
 * entries[0..entries_cap) and out->entries points there; each entry's data
 * points into buf. So *out is valid while both buf and entries are.
 * Errors: TC_ETRUNCATED, TC_ETRAILING, TC_EINVAL (bad version, type, flag,
 * role, id...), TC_ETOOBIG (a bound, or more entries than entries_cap),
 * TC_ERANGE (index overflow). Never allocates.
 */
int raft_msg_decode(const uint8_t *buf, size_t len, struct raft_message *out,
                    struct raft_entry *entries, size_t entries_cap);

/* Encodes a membership into buf (cap bytes; RAFT_MEMBERSHIP_MAX_BYTES is
 * always enough); *len gets the size. TC_EINVAL for an invalid membership,
 * TC_ETOOBIG if cap is too small. */
int raft_membership_encode(const struct raft_membership *m, uint8_t *buf, size_t cap, size_t *len);
/* Decodes exactly buf[0..len). Errors as raft_msg_decode. */
int raft_membership_decode(const uint8_t *buf, size_t len, struct raft_membership *out);
/* True if ids are non-zero and unique, roles known and count in bounds. */
bool raft_membership_valid(const struct raft_membership *m);

#endif
