/*
 * syscontract.c - the consensus system contract at 0x...1003: the ABI of its
 * four functions, their checks, and the membership's storage layout
 * (docs/execution.md, "The consensus system contract").
 *
 * Storage of the contract's account:
 *   slot 0          member count (0: nothing stored, the genesis applies)
 *   slot 1 + 3i     member i's node ID, bytes 0..31
 *   slot 2 + 3i     member i's node ID, bytes 32..63
 *   slot 3 + 3i     (role << 32) | weight
 */
#include "exec/syscontract.h"

#include <string.h>

#include "base/bytes.h"
#include "base/error.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"

const uint8_t SYSCONTRACT_CONSENSUS[20] = { [18] = 0x10, [19] = 0x03 };

bool syscontract_is_consensus(const uint8_t addr[20])
{
    return memcmp(addr, SYSCONTRACT_CONSENSUS, 20) == 0;
}

void syscontract_members_genesis(const struct genesis_config *g, struct consensus_members *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < g->sealer_count && i < CONFIG_MAX_SEALERS; i++) {
        if (out->count == SYSCONTRACT_MAX_MEMBERS)
            return;
        struct consensus_member *m = &out->members[out->count++];
        memcpy(m->id, g->sealers[i].id, NODE_ID_BYTES);
        m->role = CONSENSUS_SEALER;
        m->weight = g->sealers[i].weight;
    }
    for (size_t i = 0; i < g->observer_count && i < CONFIG_MAX_SEALERS; i++) {
        if (out->count == SYSCONTRACT_MAX_MEMBERS)
            return;
        struct consensus_member *m = &out->members[out->count++];
        memcpy(m->id, g->observers[i].id, NODE_ID_BYTES);
        m->role = CONSENSUS_OBSERVER;
        m->weight = 0;
    }
}

/* ---- storage ------------------------------------------------------------ */

/* Reads one of the contract's slots: 0 or an error. */
typedef int (*slot_read_fn)(void *ctx, uint64_t slot, u256 *out);

static u256 slot_key(uint64_t slot)
{
    return u256_from_u64(slot);
}

static int decode_members(slot_read_fn read, void *ctx, const struct consensus_members *genesis,
                          struct consensus_members *out)
{
    u256 word;
    int rc = read(ctx, 0, &word);
    if (rc != 0)
        return rc;
    if (u256_is_zero(word)) {
        *out = *genesis;
        return 0;
    }
    if (!u256_fits_u64(word) || u256_low_u64(word) > SYSCONTRACT_MAX_MEMBERS)
        return TC_ECORRUPT;
    memset(out, 0, sizeof(*out));
    size_t count = (size_t)u256_low_u64(word), sealers = 0;
    for (size_t i = 0; i < count; i++) {
        struct consensus_member *m = &out->members[i];
        u256 hi, lo, meta;
        uint64_t base = 1 + 3 * (uint64_t)i;
        if ((rc = read(ctx, base, &hi)) != 0 || (rc = read(ctx, base + 1, &lo)) != 0 ||
            (rc = read(ctx, base + 2, &meta)) != 0)
            return rc;
        u256_to_be_bytes(hi, m->id);
        u256_to_be_bytes(lo, m->id + 32);
        if (!u256_fits_u64(meta) || (u256_low_u64(meta) >> 40) != 0)
            return TC_ECORRUPT;
        uint64_t v = u256_low_u64(meta);
        m->role = (uint8_t)(v >> 32);
        m->weight = (uint32_t)v;
        if (m->role == CONSENSUS_SEALER) {
            if (m->weight == 0)
                return TC_ECORRUPT;
            sealers++;
        } else if (m->role != CONSENSUS_OBSERVER) {
            return TC_ECORRUPT;
        }
        for (size_t j = 0; j < i; j++)
            if (memcmp(out->members[j].id, m->id, NODE_ID_BYTES) == 0)
                return TC_ECORRUPT;
    }
    if (sealers == 0)
        return TC_ECORRUPT;
    out->count = count;
    return 0;
}

static int read_from_reader(void *ctx, uint64_t slot, u256 *out)
{
    const struct state_reader *r = ctx;
    uint8_t key[32];
    u256_to_be_bytes(slot_key(slot), key);
    return r->storage(r->ctx, SYSCONTRACT_CONSENSUS, key, out);
}

int syscontract_members_load(const struct state_reader *r, const struct genesis_config *g,
                             struct consensus_members *out)
{
    struct consensus_members genesis;
    syscontract_members_genesis(g, &genesis);
    return decode_members(read_from_reader, (void *)r, &genesis, out);
}

static int read_from_state(void *ctx, uint64_t slot, u256 *out)
{
    struct state *s = ctx;
    *out = state_storage(s, SYSCONTRACT_CONSENSUS, slot_key(slot));
    return state_error(s);
}

int syscontract_members_of_state(struct state *s, const struct consensus_members *genesis,
                                 struct consensus_members *out)
{
    return decode_members(read_from_state, s, genesis, out);
}

/*
 * Writes m over the stored membership whose count was old_count (0: none
 * stored), zeroing the slots of members beyond m's end. The account gets
 * nonce 1 so that EIP-161 never deletes it as empty.
 */
static void store_members(struct state *s, const struct consensus_members *m, size_t old_count)
{
    const uint8_t *a = SYSCONTRACT_CONSENSUS;
    if (state_nonce(s, a) == 0)
        state_set_nonce(s, a, 1);
    state_set_storage(s, a, slot_key(0), u256_from_u64(m->count));
    for (size_t i = 0; i < m->count; i++) {
        const struct consensus_member *x = &m->members[i];
        uint64_t base = 1 + 3 * (uint64_t)i;
        uint64_t meta = ((uint64_t)x->role << 32) | x->weight;
        state_set_storage(s, a, slot_key(base), u256_from_be_bytes(x->id, 32));
        state_set_storage(s, a, slot_key(base + 1), u256_from_be_bytes(x->id + 32, 32));
        state_set_storage(s, a, slot_key(base + 2), u256_from_u64(meta));
    }
    for (size_t i = m->count; i < old_count; i++)
        for (uint64_t k = 0; k < 3; k++)
            state_set_storage(s, a, slot_key(1 + 3 * (uint64_t)i + k), u256_zero());
}

/* ---- the ABI ------------------------------------------------------------ */

enum function {
    FN_ADD_OBSERVER,
    FN_ADD_SEALER,
    FN_REMOVE,
    FN_SET_WEIGHT,
};

static const struct {
    const char *signature;
    enum function fn;
    bool has_weight;
} functions[] = {
    { "addObserver(string)", FN_ADD_OBSERVER, false },
    { "addSealer(string,uint256)", FN_ADD_SEALER, true },
    { "remove(string)", FN_REMOVE, false },
    { "setWeight(string,uint256)", FN_SET_WEIGHT, true },
};

#define NFUNCTIONS (sizeof(functions) / sizeof(functions[0]))

/* A decoded call. */
struct call {
    enum function fn;
    uint8_t id[NODE_ID_BYTES];
    uint32_t weight;
};

/* A 32-byte ABI word at off as a size, or false if it does not fit data or 32 bits. */
static bool word_as_size(const uint8_t *data, size_t len, size_t off, size_t *out)
{
    if (off > len || len - off < 32)
        return false;
    for (size_t i = 0; i < 28; i++)
        if (data[off + i] != 0)
            return false;
    *out = (size_t)data[off + 28] << 24 | (size_t)data[off + 29] << 16 |
           (size_t)data[off + 30] << 8 | (size_t)data[off + 31];
    return true;
}

/* 128 hex digits, optionally 0x-prefixed, any case. */
static bool parse_node_id(const uint8_t *text, size_t len, uint8_t id[NODE_ID_BYTES])
{
    if (len >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text += 2;
        len -= 2;
    }
    if (len != 2 * NODE_ID_BYTES)
        return false;
    size_t n = 0;
    return hex_decode((const char *)text, len, id, NODE_ID_BYTES, &n) == 0 && n == NODE_ID_BYTES;
}

/*
 * Decodes input (selector and arguments) into c. Returns NULL, or the
 * reason to revert with. Extra bytes after the arguments are ignored, as
 * Solidity's decoder does.
 */
static const char *decode_call(const uint8_t *input, size_t len, struct call *c)
{
    if (len < 4)
        return "unknown function";
    size_t f = NFUNCTIONS;
    for (size_t i = 0; i < NFUNCTIONS; i++) {
        uint8_t hash[32];
        keccak256(functions[i].signature, strlen(functions[i].signature), hash);
        if (memcmp(hash, input, 4) == 0)
            f = i;
    }
    if (f == NFUNCTIONS)
        return "unknown function";
    c->fn = functions[f].fn;
    const uint8_t *args = input + 4;
    size_t args_len = len - 4, head = functions[f].has_weight ? 64 : 32;
    size_t off, str_len;
    if (args_len < head || !word_as_size(args, args_len, 0, &off) || off < head ||
        !word_as_size(args, args_len, off, &str_len) || str_len > args_len - off - 32)
        return "malformed call data";
    if (!parse_node_id(args + off + 32, str_len, c->id))
        return "invalid node ID";
    c->weight = 0;
    if (functions[f].has_weight) {
        size_t w;
        if (!word_as_size(args, args_len, 32, &w) || w == 0 || w > UINT32_MAX)
            return "weight must be between 1 and 4294967295";
        c->weight = (uint32_t)w;
    }
    return NULL;
}

/* Error(string) with reason into out. */
static void encode_error(const char *reason, struct syscontract_outcome *out)
{
    static const char sig[] = "Error(string)";
    uint8_t hash[32];
    size_t n = strlen(reason);
    size_t padded = (n + 31) / 32 * 32;
    size_t total = 4 + 32 + 32 + padded;
    if (total > SYSCONTRACT_OUTPUT_MAX_BYTES) {
        n = SYSCONTRACT_OUTPUT_MAX_BYTES - 4 - 64;
        padded = n;
        total = SYSCONTRACT_OUTPUT_MAX_BYTES;
    }
    memset(out->output, 0, total);
    keccak256(sig, sizeof(sig) - 1, hash);
    memcpy(out->output, hash, 4);
    out->output[4 + 31] = 0x20;
    out->output[4 + 32 + 30] = (uint8_t)(n >> 8);
    out->output[4 + 32 + 31] = (uint8_t)n;
    memcpy(out->output + 4 + 64, reason, n);
    out->output_len = total;
}

/* ---- the functions ------------------------------------------------------ */

static size_t find_member(const struct consensus_members *m, const uint8_t id[NODE_ID_BYTES])
{
    for (size_t i = 0; i < m->count; i++)
        if (memcmp(m->members[i].id, id, NODE_ID_BYTES) == 0)
            return i;
    return m->count;
}

static bool is_sealer_address(const struct consensus_members *m, const uint8_t addr[20])
{
    for (size_t i = 0; i < m->count; i++) {
        uint8_t a[20];
        if (m->members[i].role != CONSENSUS_SEALER)
            continue;
        eth_address_from_pubkey(m->members[i].id, a);
        if (memcmp(a, addr, 20) == 0)
            return true;
    }
    return false;
}

static size_t sealer_count(const struct consensus_members *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->count; i++)
        n += m->members[i].role == CONSENSUS_SEALER;
    return n;
}

/* Applies c to m. Returns NULL, or the reason to refuse it. */
static const char *apply_call(struct consensus_members *m, const struct call *c)
{
    size_t i = find_member(m, c->id);
    bool member = i < m->count;
    switch (c->fn) {
    case FN_ADD_OBSERVER:
        if (member)
            return "node is already a member";
        if (m->count == SYSCONTRACT_MAX_MEMBERS)
            return "membership is full";
        memcpy(m->members[m->count].id, c->id, NODE_ID_BYTES);
        m->members[m->count].role = CONSENSUS_OBSERVER;
        m->members[m->count].weight = 0;
        m->count++;
        return NULL;
    case FN_ADD_SEALER:
        if (!member)
            return "add the node as an observer first";
        if (m->members[i].role == CONSENSUS_SEALER)
            return "node is already a sealer";
        m->members[i].role = CONSENSUS_SEALER;
        m->members[i].weight = c->weight;
        return NULL;
    case FN_REMOVE:
        if (!member)
            return "node is not a member";
        if (m->members[i].role == CONSENSUS_SEALER && sealer_count(m) == 1)
            return "cannot remove the last sealer";
        memmove(&m->members[i], &m->members[i + 1], (m->count - i - 1) * sizeof(m->members[0]));
        m->count--;
        memset(&m->members[m->count], 0, sizeof(m->members[0]));
        return NULL;
    case FN_SET_WEIGHT:
        if (!member)
            return "node is not a member";
        if (m->members[i].role != CONSENSUS_SEALER)
            return "node is not a sealer";
        m->members[i].weight = c->weight;
        return NULL;
    }
    return "unknown function";
}

void syscontract_execute(struct state *s, const struct consensus_members *genesis,
                         const uint8_t sender[20], u256 value, const uint8_t *input,
                         size_t input_len, int64_t gas, struct syscontract_outcome *out)
{
    memset(out, 0, sizeof(*out));
    if (gas < (int64_t)SYSCONTRACT_GAS) {
        out->status = EVM_OUT_OF_GAS;
        return;
    }
    out->gas_left = gas - (int64_t)SYSCONTRACT_GAS;
    out->status = EVM_REVERT;

    struct call c;
    const char *reason = NULL;
    if (!u256_is_zero(value))
        reason = "value must be 0";
    else
        reason = decode_call(input, input_len, &c);
    if (reason != NULL) {
        encode_error(reason, out);
        return;
    }

    struct consensus_members m;
    int rc = syscontract_members_of_state(s, genesis, &m);
    if (rc != 0) {
        /* A state failure stops the block (state_error); corrupt storage
           refuses every change rather than guessing a membership. */
        encode_error("membership storage is corrupt", out);
        return;
    }
    u256 stored = state_storage(s, SYSCONTRACT_CONSENSUS, slot_key(0));
    size_t old_count = u256_is_zero(stored) ? 0 : m.count;
    if (!is_sealer_address(&m, sender))
        reason = "only a sealer may change the consensus membership";
    else
        reason = apply_call(&m, &c);
    if (reason != NULL) {
        encode_error(reason, out);
        return;
    }
    store_members(s, &m, old_count);
    out->status = EVM_SUCCESS;
}
