/*
 * rlp.h - Recursive Length Prefix (Ethereum Yellow Paper, appendix B).
 *
 * Encoding appends to a caller-owned struct bytes:
 *
 *     size_t list = rlp_list_begin(&out);
 *     rlp_encode_u64(&out, nonce);
 *     rlp_encode_bytes(&out, to, 20);
 *     rlp_list_end(&out, list);
 *
 * A list's length is known only once its items are written, so
 * rlp_list_begin() just records where the list starts and rlp_list_end()
 * inserts the header there, moving the list's payload up by the header's
 * size (1 to 9 bytes). Each byte is moved once per enclosing list, so
 * encoding costs O(size x depth) and the shallow structures of Ethereum
 * (transactions, receipts, headers, trie nodes) stay linear.
 *
 * Decoding is strict and allocates nothing. It returns views into the input:
 * every struct bytes_view and struct rlp_item it produces is valid exactly as
 * long as the input buffer is. Every non-canonical form is rejected with its
 * own code:
 *   TC_ETRUNCATED     a header or a length runs past the input (including
 *                     lengths that do not fit in size_t)
 *   TC_ENONCANONICAL  a long form used for fewer than 56 bytes, a length with
 *                     a leading zero byte, a single byte < 0x80 wrapped as a
 *                     one-byte string, or (for integer helpers) an integer
 *                     with leading zero bytes
 *   TC_ETRAILING      bytes left after the top-level item, or after the last
 *                     item of a list when the caller requires an end
 *   TC_ETOODEEP       lists nested deeper than the caller's bound
 *   TC_ERANGE         an integer or fixed-size string that does not fit
 *   TC_EINVAL         a list where a string is required or the reverse
 *
 * Walking a list is iterative (struct rlp_iter); rlp_validate() checks a whole
 * nested structure with an explicit, bounded stack, never recursion.
 */
#ifndef TC_CODEC_RLP_H
#define TC_CODEC_RLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/u256.h"

/* Deepest list nesting that rlp_validate() accepts (a list at top level is depth 1). */
#define RLP_MAX_DEPTH 64

/* ---- encoding: every function returns 0 or TC_ENOMEM (out keeps its old length then) ---- */

/* A byte string: one byte < 0x80 as itself, otherwise a header and the bytes. */
int rlp_encode_bytes(struct bytes *out, const void *data, size_t len);
/* An unsigned integer as its minimal big-endian string; zero is the empty string (0x80). */
int rlp_encode_u64(struct bytes *out, uint64_t value);
int rlp_encode_u256(struct bytes *out, u256 value);
/* A big-endian integer of any width: leading zero bytes are dropped first. */
int rlp_encode_uint_be(struct bytes *out, const uint8_t *be, size_t len);
/* Appends `len` bytes that already are one or more complete RLP items. */
int rlp_encode_raw(struct bytes *out, const void *encoded, size_t len);
/* The header of a list whose payload (`payload_len` bytes) the caller appends next. */
int rlp_encode_list_header(struct bytes *out, size_t payload_len);
/* Starts a list: returns the mark to hand to rlp_list_end(). Never fails. */
size_t rlp_list_begin(const struct bytes *out);
/* Ends the list started at `mark`: everything appended since is its payload. */
int rlp_list_end(struct bytes *out, size_t mark);
/* Encoded size of a string or list header for a payload of `payload_len` bytes. */
size_t rlp_header_size(size_t payload_len);
/*
 * Writes the header of a string (list = false) or list whose payload is
 * `payload_len` bytes into hdr; returns its size (1 to 9). For streaming
 * encoders (e.g. hashing an encoding without building it).
 */
size_t rlp_write_header(uint8_t hdr[9], bool list, size_t payload_len);

/* ---- decoding ---- */

enum rlp_kind {
    RLP_STRING,
    RLP_LIST,
};

struct rlp_item {
    enum rlp_kind kind;
    struct bytes_view payload; /* a string's bytes, or a list's encoded items */
    struct bytes_view raw;     /* the whole item, header included */
};

/* Cursor over the items of one list (or of any concatenation of items). */
struct rlp_iter {
    const uint8_t *pos;
    const uint8_t *end;
};

/*
 * Decodes the header of the item at the start of `in` (its payload is not
 * inspected, so nested lists are not checked). Returns 0 and fills *item
 * (item->raw.len says how much of `in` it takes), or TC_ETRUNCATED /
 * TC_ENONCANONICAL.
 */
int rlp_decode_item(struct bytes_view in, struct rlp_item *item);
/* As rlp_decode_item(), and the item must be all of `in` (TC_ETRAILING otherwise). */
int rlp_decode_top(struct bytes_view in, struct rlp_item *item);
/*
 * Checks that `in` is exactly one item whose every nested item is canonical,
 * with lists nested at most `max_depth` deep (at most RLP_MAX_DEPTH; a larger
 * value is clamped). Returns 0 or the first error found.
 */
int rlp_validate(struct bytes_view in, unsigned max_depth);

/* Starts a cursor over a list's items; TC_EINVAL if `list` is a string. */
int rlp_iter_init(struct rlp_iter *it, const struct rlp_item *list);
/* True while the cursor has not reached the end of its list. */
bool rlp_iter_has_next(const struct rlp_iter *it);
/* Decodes the next item's header; TC_ENOTFOUND at the end of the list. */
int rlp_iter_next(struct rlp_iter *it, struct rlp_item *item);
/* 0 when the cursor is at the end of its list, TC_ETRAILING otherwise. */
int rlp_iter_end(const struct rlp_iter *it);
/* Number of items in a list (decoding each header); TC_EINVAL for a string. */
int rlp_list_count(const struct rlp_item *list, size_t *count);

/* ---- typed helpers over one decoded item ---- */

/* A string's bytes (view into the input); TC_EINVAL for a list. */
int rlp_decode_string(const struct rlp_item *item, struct bytes_view *out);
/*
 * A canonical unsigned integer of at most `max_len` bytes, as a view of its
 * minimal big-endian bytes (empty for zero). TC_EINVAL for a list,
 * TC_ENONCANONICAL for a leading zero byte, TC_ERANGE when longer than max_len.
 */
int rlp_decode_uint_be(const struct rlp_item *item, size_t max_len, struct bytes_view *out);
int rlp_decode_u64(const struct rlp_item *item, uint64_t *out);
int rlp_decode_u256(const struct rlp_item *item, u256 *out);
/*
 * A string of exactly `n` bytes copied into out (e.g. a 20-byte address or a
 * 32-byte hash). When allow_empty, an empty string is accepted too and
 * *was_empty says so (out is zeroed then); was_empty may be NULL.
 * TC_EINVAL for a list, TC_ERANGE for any other length.
 */
int rlp_decode_bytes_fixed(const struct rlp_item *item, size_t n, bool allow_empty, uint8_t *out,
                           bool *was_empty);

#endif
