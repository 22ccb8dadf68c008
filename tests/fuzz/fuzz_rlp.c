/*
 * fuzz_rlp.c - libFuzzer target for the strict RLP decoder.
 *
 * Arbitrary bytes go through rlp_validate() (full, recursive, strict). When
 * they decode, the structure is re-encoded item by item with the encoder and
 * must give back exactly the input: a strict decoder accepts only canonical
 * encodings, and canonical encodings round-trip. The typed integer helpers
 * are checked the same way on every string item.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/u256.h"
#include "codec/rlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Re-encodes a validated item (depth is bounded by RLP_MAX_DEPTH). */
static void reencode(const struct rlp_item *item, struct bytes *out)
{
    if (item->kind == RLP_STRING) {
        uint64_t v64;
        u256 v256;
        struct bytes tmp;
        if (rlp_decode_u64(item, &v64) == 0) {
            bytes_init(&tmp);
            if (rlp_encode_u64(&tmp, v64) != 0 || !bytes_view_eq(bytes_as_view(&tmp), item->raw))
                abort();
            bytes_free(&tmp);
        }
        if (rlp_decode_u256(item, &v256) == 0) {
            bytes_init(&tmp);
            if (rlp_encode_u256(&tmp, v256) != 0 || !bytes_view_eq(bytes_as_view(&tmp), item->raw))
                abort();
            bytes_free(&tmp);
        }
        if (rlp_encode_bytes(out, item->payload.ptr, item->payload.len) != 0)
            abort();
        return;
    }
    struct rlp_iter it;
    struct rlp_item child;
    size_t mark = rlp_list_begin(out);
    if (rlp_iter_init(&it, item) != 0)
        abort();
    while (rlp_iter_has_next(&it)) {
        if (rlp_iter_next(&it, &child) != 0)
            abort();
        reencode(&child, out);
    }
    if (rlp_list_end(out, mark) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bytes_view in = bytes_view_of(data, size);
    if (rlp_validate(in, RLP_MAX_DEPTH) != 0)
        return 0;
    struct rlp_item top;
    if (rlp_decode_top(in, &top) != 0)
        abort();
    struct bytes out;
    bytes_init(&out);
    reencode(&top, &out);
    if (!bytes_view_eq(bytes_as_view(&out), in))
        abort();
    bytes_free(&out);
    return 0;
}
