/*
 * fuzz_block_entry.c - libFuzzer target for the Raft BLOCK entry decoder.
 *
 * Arbitrary bytes go through block_entry_decode(); whatever decodes must
 * re-encode to exactly the input (every part of the entry is decoded
 * strictly, so the encoding is canonical), and must survive the consistency
 * checks, seal verification and the write-set digest without crashing. A
 * failure must always come with a reason.
 */
#include <stdint.h>
#include <stdlib.h>

#include "base/bytes.h"
#include "chain/entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct block_entry e;
    const char *reason = NULL;
    struct bytes_view in = bytes_view_of(data, size);
    if (block_entry_decode(in, &e, &reason) != 0) {
        if (!reason)
            abort();
        block_entry_free(&e);
        return 0;
    }
    struct bytes out;
    bytes_init(&out);
    if (block_entry_encode(&e.block, e.receipts, e.receipt_count, &e.writeset, &out) != 0 ||
        !bytes_view_eq(bytes_as_view(&out), in))
        abort();
    bytes_free(&out);

    static const uint8_t zero_root[32];
    uint8_t digest[32];
    reason = NULL;
    if (block_entry_check(&e, zero_root, &reason) != 0 && !reason)
        abort();
    reason = NULL;
    if (block_verify_seal(&e.block, (const uint8_t(*)[20])e.block.header.coinbase, 1, &reason) !=
            0 &&
        !reason)
        abort();
    if (writeset_digest(&e.writeset, digest) != 0)
        abort();
    block_entry_free(&e);
    return 0;
}
