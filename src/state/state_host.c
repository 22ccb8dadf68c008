/*
 * state_host.c - the EVM host (evm.h's struct evm_host_ops) over a state:
 * each callback is one state.h call.
 */
#include <string.h>

#include "state/state.h"
#include "state/state_internal.h"

static bool host_account_is_dead(void *ctx, const evm_address *addr)
{
    return state_is_dead(ctx, addr->bytes);
}

static u256 host_get_balance(void *ctx, const evm_address *addr)
{
    return state_balance(ctx, addr->bytes);
}

static void host_transfer(void *ctx, const evm_address *from, const evm_address *to, u256 value)
{
    struct state *s = ctx;
    if (!u256_is_zero(value)) {
        state_sub_balance(s, from->bytes, value);
        state_add_balance(s, to->bytes, value);
    } else {
        state_touch(s, to->bytes);
    }
}

static uint64_t host_get_nonce(void *ctx, const evm_address *addr)
{
    return state_nonce(ctx, addr->bytes);
}

static void host_set_nonce(void *ctx, const evm_address *addr, uint64_t nonce)
{
    state_set_nonce(ctx, addr->bytes, nonce);
}

static bool host_has_storage(void *ctx, const evm_address *addr)
{
    return state_has_storage(ctx, addr->bytes);
}

static void host_get_code(void *ctx, const evm_address *addr, const uint8_t **code, size_t *len)
{
    state_code(ctx, addr->bytes, code, len);
}

static evm_bytes32 host_get_code_hash(void *ctx, const evm_address *addr)
{
    evm_bytes32 h;
    state_code_hash(ctx, addr->bytes, h.bytes);
    return h;
}

static void host_set_code(void *ctx, const evm_address *addr, const uint8_t *code, size_t len)
{
    state_set_code(ctx, addr->bytes, code, len);
}

static void host_create_account(void *ctx, const evm_address *addr)
{
    state_create_account(ctx, addr->bytes);
}

static u256 host_get_storage(void *ctx, const evm_address *addr, const u256 *key)
{
    return state_storage(ctx, addr->bytes, *key);
}

static u256 host_get_original_storage(void *ctx, const evm_address *addr, const u256 *key)
{
    return state_original_storage(ctx, addr->bytes, *key);
}

static void host_set_storage(void *ctx, const evm_address *addr, const u256 *key, const u256 *value)
{
    state_set_storage(ctx, addr->bytes, *key, *value);
}

static u256 host_get_transient_storage(void *ctx, const evm_address *addr, const u256 *key)
{
    return state_transient(ctx, addr->bytes, *key);
}

static void host_set_transient_storage(void *ctx, const evm_address *addr, const u256 *key,
                                       const u256 *value)
{
    state_set_transient(ctx, addr->bytes, *key, *value);
}

static bool host_access_account(void *ctx, const evm_address *addr)
{
    return state_warm_account(ctx, addr->bytes);
}

static bool host_access_storage(void *ctx, const evm_address *addr, const u256 *key)
{
    return state_warm_slot(ctx, addr->bytes, *key);
}

static void host_selfdestruct(void *ctx, const evm_address *addr, const evm_address *beneficiary)
{
    state_selfdestruct(ctx, addr->bytes, beneficiary->bytes);
}

static void host_emit_log(void *ctx, const evm_address *addr, const evm_bytes32 *topics,
                          size_t topics_count, const uint8_t *data, size_t data_len)
{
    uint8_t t[LOG_MAX_TOPICS][32];
    size_t n = topics_count < LOG_MAX_TOPICS ? topics_count : LOG_MAX_TOPICS;
    for (size_t i = 0; i < n; i++)
        memcpy(t[i], topics[i].bytes, 32);
    state_add_log(ctx, addr->bytes, (const uint8_t(*)[32])t, topics_count, data, data_len);
}

static evm_bytes32 host_get_block_hash(void *ctx, uint64_t number)
{
    struct state *s = ctx;
    evm_bytes32 h;
    if (s->block_hash == NULL || !s->block_hash(s->block_hash_ctx, number, h.bytes))
        memset(h.bytes, 0, 32);
    return h;
}

static uint64_t host_snapshot(void *ctx)
{
    return state_snapshot(ctx);
}

static void host_revert_to(void *ctx, uint64_t mark)
{
    state_revert_to(ctx, mark);
}

static const struct evm_host_ops HOST_OPS = {
    .account_is_dead = host_account_is_dead,
    .get_balance = host_get_balance,
    .transfer = host_transfer,
    .get_nonce = host_get_nonce,
    .set_nonce = host_set_nonce,
    .has_storage = host_has_storage,
    .get_code = host_get_code,
    .get_code_hash = host_get_code_hash,
    .set_code = host_set_code,
    .create_account = host_create_account,
    .get_storage = host_get_storage,
    .get_original_storage = host_get_original_storage,
    .set_storage = host_set_storage,
    .get_transient_storage = host_get_transient_storage,
    .set_transient_storage = host_set_transient_storage,
    .access_account = host_access_account,
    .access_storage = host_access_storage,
    .selfdestruct = host_selfdestruct,
    .emit_log = host_emit_log,
    .get_block_hash = host_get_block_hash,
    .snapshot = host_snapshot,
    .revert_to = host_revert_to,
};

void state_set_block_hashes(struct state *s, state_block_hash_fn fn, void *ctx)
{
    s->block_hash = fn;
    s->block_hash_ctx = ctx;
}

void state_evm_host(struct state *s, struct evm_host *host)
{
    host->ops = &HOST_OPS;
    host->ctx = s;
}
