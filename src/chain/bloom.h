/*
 * bloom.h - Ethereum's 2048-bit logs bloom (Yellow Paper §4.3.1, M3:2048).
 *
 * Every log adds its address and each of its topics. An item sets three bits:
 * for each of the byte pairs (0,1), (2,3), (4,5) of keccak256(item), the pair
 * read big-endian, low 11 bits, is a bit index b in [0, 2048), and bit b of the
 * bloom read as one big-endian 2048-bit number is set (byte 255 - b / 8,
 * mask 1 << (b % 8)). A receipt's bloom covers its logs, a block's bloom is
 * the OR of its receipts' blooms.
 *
 * eth_getLogs uses bloom_contains() to skip blocks and receipts that cannot
 * hold a log with a given address or topic: false is definite, true means
 * "maybe" and the logs themselves must be checked.
 *
 * A bloom is plain caller memory (uint8_t[BLOOM_BYTES]); nothing allocates
 * and nothing fails.
 */
#ifndef TC_CHAIN_BLOOM_H
#define TC_CHAIN_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLOOM_BYTES 256

/* Sets the three bits of item data[0..len) (an address or a topic). */
void bloom_add(uint8_t bloom[BLOOM_BYTES], const void *data, size_t len);

/* True when all three bits of the item are set: the item may be present. */
bool bloom_contains(const uint8_t bloom[BLOOM_BYTES], const void *data, size_t len);

/* dst |= src: accumulates a receipt's bloom into a block's. */
void bloom_or(uint8_t dst[BLOOM_BYTES], const uint8_t src[BLOOM_BYTES]);

#endif
