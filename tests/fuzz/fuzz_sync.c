/*
 * fuzz_sync.c - libFuzzer target for the block sync codec (node/sync.h).
 *
 * Every SYNC frame from a peer goes through sync_frame_kind and then
 * sync_request_decode or sync_blocks_decode, so both must reject or accept
 * any bytes without crashing or reading out of bounds; an accepted request
 * must re-encode to the same bytes, and every entry of an accepted answer
 * must lie inside the input (the chain thread then decodes each one with
 * block_entry_decode, which has its own target).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "node/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sync_blocks answer;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t kind;
    if (sync_frame_kind(data, size, &kind) != TC_OK)
        return 0;
    if (kind == SYNC_KIND_REQUEST) {
        struct sync_request req;
        if (sync_request_decode(data, size, &req) != TC_OK)
            return 0;
        struct bytes out;
        bytes_init(&out);
        if (sync_request_encode(&req, &out) != TC_OK || out.len != size ||
            memcmp(out.ptr, data, size) != 0)
            abort();
        bytes_free(&out);
        return 0;
    }
    if (sync_blocks_decode(data, size, &answer) != TC_OK)
        return 0;
    if (answer.count > SYNC_MAX_BLOCKS)
        abort();
    for (uint32_t i = 0; i < answer.count; i++) {
        const struct sync_block *b = &answer.blocks[i];
        if (b->entry.len > size || b->entry.ptr < data || b->entry.ptr + b->entry.len > data + size)
            abort();
    }
    return 0;
}
