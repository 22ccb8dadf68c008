/*
 * exec.c - the transaction layer around the EVM and the block loop.
 */
#include "exec/exec.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "codec/rlp.h"
#include "evm/evm.h"
#include "exec/syscontract.h"

/* One allocation holding the logs of one receipt and their data. */
struct log_chunk {
    struct log_chunk *next;
    /* struct log[count], then the data bytes */
};

struct exec {
    struct exec_rules rules;
    struct evm *vm;
    struct state *s; /* NULL outside a block */
    struct exec_block_env env;
    uint64_t gas_used;
    uint32_t tx_count;
    struct log_chunk *chunks;
    /* The consensus contract's membership while its storage is empty. */
    struct consensus_members genesis_members;
    /* The last call to the consensus contract: its output is the message's. */
    struct syscontract_outcome sys;
};

int exec_new(const struct exec_rules *rules, struct exec **out)
{
    *out = NULL;
    if (rules->kind != EXEC_RULES_CHAIN && rules->kind != EXEC_RULES_CONFORMANCE)
        return TC_EINVAL;
    struct exec *ex = calloc(1, sizeof(*ex));
    if (ex == NULL)
        return TC_ENOMEM;
    ex->rules = *rules;
    ex->vm = evm_new(0);
    if (ex->vm == NULL) {
        free(ex);
        return TC_ENOMEM;
    }
    *out = ex;
    return 0;
}

static void free_chunks(struct exec *ex)
{
    while (ex->chunks != NULL) {
        struct log_chunk *next = ex->chunks->next;
        free(ex->chunks);
        ex->chunks = next;
    }
}

void exec_free(struct exec *ex)
{
    if (ex == NULL)
        return;
    free_chunks(ex);
    evm_free(ex->vm);
    free(ex);
}

int exec_begin(struct exec *ex, struct state *s, const struct exec_block_env *env)
{
    free_chunks(ex);
    ex->s = s;
    ex->env = *env;
    if (ex->rules.kind == EXEC_RULES_CHAIN)
        ex->env.base_fee = u256_zero();
    ex->gas_used = 0;
    ex->tx_count = 0;
    return 0;
}

void syscontract_exec_set_genesis(struct exec *ex, const struct genesis_config *g)
{
    syscontract_members_genesis(g, &ex->genesis_members);
}

uint64_t exec_gas_used(const struct exec *ex)
{
    return ex->gas_used;
}

int exec_end(struct exec *ex, struct writeset *ws)
{
    if (ex->s == NULL)
        return TC_ESTATE;
    int rc = state_writeset(ex->s, ws);
    ex->s = NULL;
    return rc;
}

/* ---- validity ----------------------------------------------------------- */

/* The price paid per unit of gas: EIP-1559's min(maxFee, baseFee + tip). */
static u256 effective_gas_price(const struct tx *tx, u256 base_fee)
{
    if (tx->type != TX_DYNAMIC_FEE)
        return tx->gas_price;
    u256 sum;
    if (u256_add_overflow(base_fee, tx->max_priority_fee_per_gas, &sum) ||
        u256_gt(sum, tx->max_fee_per_gas))
        return tx->max_fee_per_gas;
    return sum;
}

/*
 * The state-dependent checks (stateless ones are tx_check()'s, but the cheap
 * ones are repeated: the executor must not trust its caller for consensus).
 * Returns NULL if the transaction can be included, else the reason.
 */
static const char *check_tx(struct exec *ex, const struct tx *tx, const uint8_t sender[20],
                            bool call)
{
    struct state *s = ex->s;
    uint64_t nonce = state_nonce(s, sender);
    /* A call (geth's eth_call) checks neither the nonce nor that the sender is an EOA. */
    if (!call && tx->nonce < nonce)
        return "nonce too low";
    if (!call && tx->nonce > nonce)
        return "nonce too high";
    if (nonce == UINT64_MAX)
        return "nonce has max value";
    uint8_t code_hash[32];
    state_code_hash(s, sender, code_hash);
    if (!call && memcmp(code_hash, STATE_EMPTY_CODE_HASH, 32) != 0)
        return "sender not an eoa";
    if (u256_gt(tx->max_priority_fee_per_gas, tx->max_fee_per_gas))
        return "max priority fee per gas higher than max fee per gas";
    if (u256_lt(tx->max_fee_per_gas, ex->env.base_fee))
        return "max fee per gas less than block base fee";
    if (ex->rules.kind == EXEC_RULES_CHAIN && ex->rules.tx_gas_limit != 0 &&
        tx->gas_limit > ex->rules.tx_gas_limit)
        return "gas limit above the chain's transaction gas limit";
    if (tx->gas_limit > ex->env.gas_limit - ex->gas_used)
        return "block gas limit reached";
    if (tx_intrinsic_gas(tx) > tx->gas_limit)
        return "intrinsic gas too low";
    if (!tx->has_to && tx->data.len > EVM_MAX_INITCODE_BYTES)
        return "max initcode size exceeded";
    u256 cost;
    if (u256_mul_overflow(u256_from_u64(tx->gas_limit), tx->max_fee_per_gas, &cost) ||
        u256_add_overflow(cost, tx->value, &cost))
        return "gas cost overflows";
    if (u256_lt(state_balance(s, sender), cost))
        return "insufficient funds for gas * price + value";
    return NULL;
}

/* ---- warming ------------------------------------------------------------ */

/* Warms the EIP-2930 access list (shape already checked by tx_decode). */
static int warm_access_list(struct state *s, const struct tx *tx)
{
    if (tx->access_list.len == 0)
        return 0;
    struct rlp_item list, entry, item, key;
    struct rlp_iter it, eit, kit;
    struct bytes_view v;
    int rc = rlp_decode_top(tx->access_list, &list);
    if (rc != 0 || (rc = rlp_iter_init(&it, &list)) != 0)
        return rc != 0 ? rc : TC_EINVAL;
    while (rlp_iter_has_next(&it)) {
        if ((rc = rlp_iter_next(&it, &entry)) != 0 || (rc = rlp_iter_init(&eit, &entry)) != 0 ||
            (rc = rlp_iter_next(&eit, &item)) != 0 || (rc = rlp_decode_string(&item, &v)) != 0)
            return rc;
        if (v.len != 20)
            return TC_EINVAL;
        uint8_t addr[20];
        memcpy(addr, v.ptr, 20);
        state_warm_account(s, addr);
        if ((rc = rlp_iter_next(&eit, &item)) != 0 || (rc = rlp_iter_init(&kit, &item)) != 0)
            return rc;
        while (rlp_iter_has_next(&kit)) {
            if ((rc = rlp_iter_next(&kit, &key)) != 0 || (rc = rlp_decode_string(&key, &v)) != 0)
                return rc;
            if (v.len != 32)
                return TC_EINVAL;
            state_warm_slot(s, addr, u256_from_be_bytes(v.ptr, 32));
        }
    }
    return 0;
}

static void warm_all(struct exec *ex, const struct tx *tx, const uint8_t sender[20])
{
    struct state *s = ex->s;
    state_warm_account(s, sender);
    if (tx->has_to)
        state_warm_account(s, tx->to);
    for (uint8_t i = 1; i <= 10; i++) {
        uint8_t p[20] = { 0 };
        p[19] = i;
        state_warm_account(s, p);
    }
    state_warm_account(s, ex->env.coinbase);
}

/* ---- the message -------------------------------------------------------- */

static bool is_plain_transfer(struct state *s, const struct tx *tx)
{
    if (!tx->has_to)
        return false;
    evm_address to;
    memcpy(to.bytes, tx->to, 20);
    if (evm_is_precompile(&to))
        return false;
    uint8_t hash[32];
    state_code_hash(s, tx->to, hash);
    return memcmp(hash, STATE_EMPTY_CODE_HASH, 32) == 0;
}

static int run_message(struct exec *ex, const struct tx *tx, const uint8_t sender[20],
                       u256 gas_price, int64_t gas, struct evm_result *res)
{
    struct state *s = ex->s;
    /* The consensus contract runs natively, for transactions sent to it only
       (a CALL from a contract reaches an account without code). */
    if (ex->rules.kind == EXEC_RULES_CHAIN && tx->has_to && syscontract_is_consensus(tx->to)) {
        syscontract_execute(s, &ex->genesis_members, sender, tx->value, tx->data.ptr, tx->data.len,
                            gas, &ex->sys);
        memset(res, 0, sizeof(*res));
        res->status = ex->sys.status;
        res->gas_left = ex->sys.gas_left;
        res->output = ex->sys.output_len > 0 ? ex->sys.output : NULL;
        res->output_len = ex->sys.output_len;
        return 0;
    }
    if (is_plain_transfer(s, tx)) {
        /* What the EVM does for a CALL to an account without code. */
        memset(res, 0, sizeof(*res));
        if (!u256_is_zero(tx->value)) {
            state_sub_balance(s, sender, tx->value);
            state_add_balance(s, tx->to, tx->value);
        } else {
            state_touch(s, tx->to);
        }
        res->status = EVM_SUCCESS;
        res->gas_left = gas;
        return 0;
    }
    struct evm_tx_context ctx;
    memset(&ctx, 0, sizeof(ctx));
    memcpy(ctx.origin.bytes, sender, 20);
    ctx.gas_price = gas_price;
    memcpy(ctx.coinbase.bytes, ex->env.coinbase, 20);
    ctx.number = ex->env.number;
    ctx.timestamp = ex->env.timestamp;
    ctx.gas_limit = ex->env.gas_limit;
    memcpy(ctx.prevrandao.bytes, ex->env.prevrandao, 32);
    ctx.chain_id = ex->env.chain_id;
    ctx.base_fee = ex->env.base_fee;
    ctx.blob_base_fee = ex->env.blob_base_fee;

    struct evm_message msg;
    memset(&msg, 0, sizeof(msg));
    msg.kind = tx->has_to ? EVM_CALL : EVM_CREATE;
    msg.gas = gas;
    memcpy(msg.sender.bytes, sender, 20);
    if (tx->has_to) {
        memcpy(msg.recipient.bytes, tx->to, 20);
        memcpy(msg.code_address.bytes, tx->to, 20);
    }
    msg.value = tx->value;
    msg.input = tx->data.ptr;
    msg.input_len = tx->data.len;
    struct evm_host host;
    state_evm_host(s, &host);
    return evm_execute(ex->vm, &host, &ctx, &msg, res);
}

/* Copies the transaction's logs into one executor-owned chunk. */
static int keep_logs(struct exec *ex, struct receipt *r)
{
    const struct log *logs;
    size_t count, data_len = 0;
    state_logs(ex->s, &logs, &count);
    r->logs = NULL;
    r->log_count = 0;
    if (count == 0)
        return 0;
    for (size_t i = 0; i < count; i++)
        data_len += logs[i].data.len;
    struct log_chunk *c = malloc(sizeof(struct log_chunk) + count * sizeof(struct log) + data_len);
    if (c == NULL)
        return TC_ENOMEM;
    struct log *out = (struct log *)(void *)(c + 1);
    uint8_t *data = (uint8_t *)(out + count);
    for (size_t i = 0; i < count; i++) {
        out[i] = logs[i];
        if (logs[i].data.len > 0)
            memcpy(data, logs[i].data.ptr, logs[i].data.len);
        out[i].data = bytes_view_of(data, logs[i].data.len);
        data += logs[i].data.len;
    }
    c->next = ex->chunks;
    ex->chunks = c;
    r->logs = out;
    r->log_count = count;
    return 0;
}

/*
 * The state transition of one transaction, shared by exec_apply() and
 * exec_call(). Returns 0 with *reason set when the transaction cannot run
 * (the state is unchanged), or 0 with *res and *gas_used once it ran; the
 * caller then ends the transaction (apply) or reverts it (call).
 */
static int transact(struct exec *ex, const struct tx *tx, const uint8_t sender[20], bool call,
                    const char **reason, struct evm_result *res, uint64_t *gas_used)
{
    struct state *s = ex->s;
    *reason = check_tx(ex, tx, sender, call);
    int rc = state_error(s);
    if (rc != 0 || *reason != NULL)
        return rc;

    u256 price = effective_gas_price(tx, ex->env.base_fee);
    state_sub_balance(s, sender, u256_mul(u256_from_u64(tx->gas_limit), price));
    /* A call takes the sender's nonce from the state, as geth does. */
    if (tx->has_to)
        state_set_nonce(s, sender, (call ? state_nonce(s, sender) : tx->nonce) + 1);
    warm_all(ex, tx, sender);
    if ((rc = warm_access_list(s, tx)) != 0)
        return rc;

    int64_t gas = (int64_t)(tx->gas_limit - tx_intrinsic_gas(tx));
    if ((rc = run_message(ex, tx, sender, price, gas, res)) != 0)
        return rc;

    uint64_t used = tx->gas_limit - (uint64_t)res->gas_left;
    if (res->gas_refund > 0) {
        uint64_t refund = (uint64_t)res->gas_refund;
        used -= refund < used / 5 ? refund : used / 5;
    }
    state_add_balance(s, sender, u256_mul(u256_from_u64(tx->gas_limit - used), price));
    state_add_balance(s, ex->env.coinbase,
                      u256_mul(u256_from_u64(used), u256_sub(price, ex->env.base_fee)));
    *gas_used = used;
    return state_error(s);
}

int exec_apply(struct exec *ex, const struct tx *tx, const uint8_t sender[20],
               struct exec_tx_result *out)
{
    memset(out, 0, sizeof(*out));
    if (ex->s == NULL)
        return TC_ESTATE;
    struct state *s = ex->s;
    state_tx_begin(s);
    struct evm_result res;
    uint64_t gas_used = 0;
    const char *reason = NULL;
    int rc = transact(ex, tx, sender, false, &reason, &res, &gas_used);
    if (rc != 0)
        return rc;
    if (reason != NULL) {
        out->drop_reason = reason;
        return 0;
    }
    state_tx_end(s, true);
    if ((rc = state_error(s)) != 0)
        return rc;

    struct receipt *r = &out->receipt;
    ex->gas_used += gas_used;
    r->type = (uint8_t)tx->type;
    r->status = res.status == EVM_SUCCESS;
    r->cumulative_gas_used = ex->gas_used;
    r->gas_used = gas_used;
    r->tx_index = ex->tx_count++;
    r->effective_gas_price = effective_gas_price(tx, ex->env.base_fee);
    if (!tx->has_to) {
        evm_address from;
        memcpy(from.bytes, sender, 20);
        evm_address created = evm_create_address(&from, tx->nonce);
        r->has_contract_address = true;
        memcpy(r->contract_address, created.bytes, 20);
    }
    if ((rc = keep_logs(ex, r)) != 0)
        return rc;
    receipt_compute_bloom(r);
    out->included = true;
    out->evm_status = (int)res.status;
    out->unsupported_precompile = res.unsupported_precompile;
    return 0;
}

int exec_call(struct exec *ex, const struct tx *tx, const uint8_t sender[20],
              struct exec_call_result *out)
{
    memset(out, 0, sizeof(*out));
    if (ex->s == NULL)
        return TC_ESTATE;
    struct state *s = ex->s;
    state_tx_begin(s);
    uint64_t mark = state_snapshot(s);
    struct evm_result res;
    memset(&res, 0, sizeof(res));
    uint64_t gas_used = 0;
    const char *reason = NULL;
    int rc = transact(ex, tx, sender, true, &reason, &res, &gas_used);
    /* A creation's output is the code it deployed (the EVM returns none), as
       in geth; the view stays valid after the revert (state.h). */
    const uint8_t *output = res.output;
    size_t output_len = res.output_len;
    if (rc == 0 && reason == NULL && !tx->has_to && res.status == EVM_SUCCESS)
        state_code(s, res.create_address.bytes, &output, &output_len);
    /* Everything the call changed is undone; what it read stays cached. */
    state_revert_to(s, mark);
    if (rc == 0)
        rc = state_error(s);
    if (rc != 0)
        return rc;
    if (reason != NULL) {
        out->drop_reason = reason;
        return 0;
    }
    out->evm_status = (int)res.status;
    out->gas_used = gas_used;
    out->output = output;
    out->output_len = output_len;
    out->unsupported_precompile = res.unsupported_precompile;
    return 0;
}
