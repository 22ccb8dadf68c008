/*
 * analysis.c - jump-destination analysis of EVM code and the per-instance
 * cache of analyses keyed by code hash.
 */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "evm/evm_internal.h"

#define OP_PUSH1    0x60
#define OP_PUSH32   0x7f
#define OP_JUMPDEST 0x5b

int evm_code_cache_init(struct evm_code_cache *cache, size_t count)
{
    cache->slots = calloc(count, sizeof(*cache->slots));
    if (cache->slots == NULL)
        return TC_ENOMEM;
    cache->count = count;
    return TC_OK;
}

static void code_clear(struct evm_code *c)
{
    free(c->code);
    free(c->jumpdests);
    c->code = NULL;
    c->jumpdests = NULL;
    c->valid = false;
}

void evm_code_cache_free(struct evm_code_cache *cache)
{
    for (size_t i = 0; i < cache->count; i++)
        code_clear(&cache->slots[i]);
    free(cache->slots);
    cache->slots = NULL;
    cache->count = 0;
}

/* Fills c from code[0..len); returns TC_OK or TC_ENOMEM (c left cleared). */
static int analyse(struct evm_code *c, const uint8_t *code, size_t len)
{
    size_t words = (len + 63) / 64;
    c->code = malloc(len + EVM_CODE_PADDING);
    c->jumpdests = calloc(words == 0 ? 1 : words, sizeof(uint64_t));
    if (c->code == NULL || c->jumpdests == NULL) {
        code_clear(c);
        return TC_ENOMEM;
    }
    if (len > 0)
        memcpy(c->code, code, len);
    memset(c->code + len, 0, EVM_CODE_PADDING);
    c->len = len;
    for (size_t pc = 0; pc < len; pc++) {
        uint8_t op = code[pc];
        if (op == OP_JUMPDEST)
            c->jumpdests[pc / 64] |= UINT64_C(1) << (pc % 64);
        else if (op >= OP_PUSH1 && op <= OP_PUSH32)
            pc += (size_t)(op - OP_PUSH1 + 1);
    }
    c->valid = true;
    c->refs = 0;
    return TC_OK;
}

struct evm_code *evm_code_acquire(struct evm_code_cache *cache, const evm_bytes32 *hash,
                                  const uint8_t *code, size_t len)
{
    struct evm_code *slot = NULL;
    if (hash != NULL && cache->count > 0) {
        uint64_t h;
        memcpy(&h, hash->bytes, sizeof(h));
        slot = &cache->slots[h % cache->count];
        if (slot->valid && slot->len == len &&
            memcmp(slot->hash.bytes, hash->bytes, sizeof(hash->bytes)) == 0) {
            slot->refs++;
            return slot;
        }
        if (slot->valid && slot->refs > 0)
            slot = NULL; /* in use by a running frame: analyse privately */
    }
    if (slot != NULL) {
        code_clear(slot);
        if (analyse(slot, code, len) != TC_OK)
            return NULL;
        slot->hash = *hash;
        slot->cached = true;
        slot->refs = 1;
        return slot;
    }
    struct evm_code *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    if (analyse(c, code, len) != TC_OK) {
        free(c);
        return NULL;
    }
    c->cached = false;
    c->refs = 1;
    return c;
}

void evm_code_release(struct evm_code *c)
{
    if (c == NULL)
        return;
    c->refs--;
    if (!c->cached && c->refs == 0) {
        code_clear(c);
        free(c);
    }
}
