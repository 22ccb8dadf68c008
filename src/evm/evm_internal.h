/*
 * evm_internal.h - declarations shared by the files of src/evm only: the
 * code-analysis object and cache (analysis.c) used by the interpreter
 * (evm.c).
 */
#ifndef TC_EVM_EVM_INTERNAL_H
#define TC_EVM_EVM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evm/evm.h"

/* Zero bytes after the code copy: a PUSH32 at the last byte reads only
   padding, and running off the end meets STOP (0x00). */
#define EVM_CODE_PADDING 33

/*
 * Analysed code: a padded copy of the code and the bitmap of valid JUMPDEST
 * positions (a 0x5B byte that is not PUSH data). Immutable once built.
 */
struct evm_code {
    evm_bytes32 hash; /* meaningful only for cached entries */
    uint8_t *code;    /* len + EVM_CODE_PADDING bytes */
    size_t len;
    uint64_t *jumpdests; /* (len + 63) / 64 words */
    uint32_t refs;       /* frames currently running this entry */
    bool cached;         /* lives in the cache (else owned by one frame) */
    bool valid;
};

/* Bounded direct-mapped cache of analyses keyed by code hash. */
struct evm_code_cache {
    struct evm_code *slots;
    size_t count;
};

int evm_code_cache_init(struct evm_code_cache *cache, size_t count);
void evm_code_cache_free(struct evm_code_cache *cache);

/*
 * The analysis of code[0..len): from the cache when hash is non-NULL and
 * present, else built (and cached when hash is non-NULL and its slot is not
 * in use by a running frame). Returns NULL when out of memory. Release with
 * evm_code_release once the frame ends.
 */
struct evm_code *evm_code_acquire(struct evm_code_cache *cache, const evm_bytes32 *hash,
                                  const uint8_t *code, size_t len);
void evm_code_release(struct evm_code *c);

static inline bool evm_code_is_jumpdest(const struct evm_code *c, uint64_t pos)
{
    return pos < c->len && ((c->jumpdests[pos / 64] >> (pos % 64)) & 1) != 0;
}

/*
 * The bn256 pairing check (precompile 0x08, EIP-197) on input[0..len):
 * appends the 32-byte answer (1 or 0) to out. Returns EVM_SUCCESS, or
 * EVM_PRECOMPILE_FAILURE for a length not a multiple of 192, a coordinate
 * not below p, a point off its curve or a G2 point outside the order-r
 * subgroup (or if out cannot grow). Gas is the caller's business.
 */
enum evm_status evm_bn256_pairing(const uint8_t *input, size_t len, struct bytes *out);

#endif
