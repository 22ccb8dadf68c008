/* bloom.c - the 2048-bit logs bloom (see bloom.h for the bit layout). */
#include "chain/bloom.h"

#include "crypto/keccak.h"

/* The three (byte index, mask) positions that item hashes to. */
static void bloom_positions(const void *data, size_t len, size_t index[3], uint8_t mask[3])
{
    uint8_t h[32];
    keccak256(data, len, h);
    for (int i = 0; i < 3; i++) {
        unsigned bit = (((unsigned)h[2 * i] << 8) | h[2 * i + 1]) & 2047u;
        index[i] = BLOOM_BYTES - 1 - bit / 8;
        mask[i] = (uint8_t)(1u << (bit % 8));
    }
}

void bloom_add(uint8_t bloom[BLOOM_BYTES], const void *data, size_t len)
{
    size_t index[3];
    uint8_t mask[3];
    bloom_positions(data, len, index, mask);
    for (int i = 0; i < 3; i++)
        bloom[index[i]] |= mask[i];
}

bool bloom_contains(const uint8_t bloom[BLOOM_BYTES], const void *data, size_t len)
{
    size_t index[3];
    uint8_t mask[3];
    bloom_positions(data, len, index, mask);
    for (int i = 0; i < 3; i++)
        if ((bloom[index[i]] & mask[i]) == 0)
            return false;
    return true;
}

void bloom_or(uint8_t dst[BLOOM_BYTES], const uint8_t src[BLOOM_BYTES])
{
    for (size_t i = 0; i < BLOOM_BYTES; i++)
        dst[i] |= src[i];
}
