/*
 * fuzz_p2p_frame.c - libFuzzer target for the P2P frame header decoder.
 *
 * Every peer's bytes go through p2p_frame_header_decode before anything else,
 * so it must reject or accept any 8 bytes without crashing, and what it
 * accepts must re-encode to the same bytes (the header has one encoding).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "net/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t in[P2P_FRAME_HEADER_BYTES] = { 0 };
    memcpy(in, data, size < sizeof(in) ? size : sizeof(in));
    struct p2p_frame_header h;
    if (p2p_frame_header_decode(in, &h) != TC_OK)
        return 0;
    uint8_t out[P2P_FRAME_HEADER_BYTES];
    p2p_frame_header_encode(out, h.type, h.length);
    if (memcmp(in, out, sizeof(out)) != 0)
        abort();
    return 0;
}
