/* frame.c - encoding and decoding of the P2P frame header (see frame.h). */
#include "net/frame.h"

#include "base/error.h"

void p2p_frame_header_encode(uint8_t out[P2P_FRAME_HEADER_BYTES], uint8_t type, uint32_t length)
{
    out[0] = (uint8_t)(P2P_FRAME_MAGIC >> 8);
    out[1] = (uint8_t)(P2P_FRAME_MAGIC & 0xff);
    out[2] = (uint8_t)P2P_FRAME_VERSION;
    out[3] = type;
    out[4] = (uint8_t)(length >> 24);
    out[5] = (uint8_t)(length >> 16);
    out[6] = (uint8_t)(length >> 8);
    out[7] = (uint8_t)length;
}

int p2p_frame_header_decode(const uint8_t in[P2P_FRAME_HEADER_BYTES], struct p2p_frame_header *out)
{
    uint16_t magic = (uint16_t)((in[0] << 8) | in[1]);
    if (magic != P2P_FRAME_MAGIC || in[2] != P2P_FRAME_VERSION)
        return TC_EINVAL;
    out->type = in[3];
    out->length = ((uint32_t)in[4] << 24) | ((uint32_t)in[5] << 16) | ((uint32_t)in[6] << 8) |
                  (uint32_t)in[7];
    return TC_OK;
}
