/*
 * eth_call.c - eth_call and eth_estimateGas: the call object, the job that
 * executes it on the call workers (exec_call() on a fresh state over the
 * ledger's head), and geth's result and error shapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/threadpool.h"
#include "chain/tx.h"
#include "evm/evm.h"
#include "exec/exec.h"
#include "exec/syscontract.h"
#include "rpc/eth_api_impl.h"
#include "state/state.h"

/* Solidity's Error(string) and Panic(uint256) selectors (geth's abi.UnpackRevert). */
static const uint8_t ERROR_SELECTOR[4] = { 0x08, 0xc3, 0x79, 0xa0 };
static const uint8_t PANIC_SELECTOR[4] = { 0x4e, 0x48, 0x7b, 0x71 };

/* The gas of a plain value transfer (the Yellow Paper's G_transaction). */
#define TRANSFER_GAS 21000u

/* Longest revert reason quoted in an error message. */
#define REVERT_REASON_MAX 1024u

/* One eth_call or eth_estimateGas, parsed on the loop thread, run on a worker. */
struct call_job {
    struct rpc_call *call;
    const struct eth_api_deps *d;
    bool estimate;
    bool gas_given;
    uint8_t from[20];
    struct tx tx; /* the message; tx.data views `data`, tx.gas_limit as given */
    struct bytes data;
};

/* What a job runs on: a state over the head, an executor and the gas cap. */
struct call_env {
    struct state *s;
    struct exec *ex;
    uint64_t gas_cap;
};

static void job_free(struct call_job *j)
{
    bytes_free(&j->data);
    free(j);
}

/* ---- the call object -------------------------------------------------- */

static bool bad_field(struct rpc_call *call, const char *name, const char *err)
{
    rpc_call_errorf(call, RPC_INVALID_PARAMS, NULL, "invalid argument 0: %s: %s", name, err);
    return false;
}

/* The field, or NULL when absent or null. */
static const cJSON *field(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

static bool u256_field(struct rpc_call *call, const cJSON *obj, const char *name, u256 *out,
                       bool *given)
{
    char err[RPC_ERRMSG_LEN];
    const cJSON *v = field(obj, name);
    *given = v != NULL;
    *out = u256_zero();
    if (v && rpc_param_quantity_u256(v, out, err) != TC_OK)
        return bad_field(call, name, err);
    return true;
}

static bool data_field(struct rpc_call *call, const cJSON *obj, const char *name, struct bytes *out,
                       bool *given)
{
    char err[RPC_ERRMSG_LEN];
    const cJSON *v = field(obj, name);
    *given = v != NULL;
    bytes_init(out);
    if (v && rpc_param_data(v, ETH_API_MAX_RAW_TX_BYTES, out, err) != TC_OK)
        return bad_field(call, name, err);
    return true;
}

/* The calldata: "input" or "data", which must be equal when both are given. */
static bool parse_input(struct rpc_call *call, const cJSON *obj, struct call_job *j)
{
    struct bytes input, data;
    bool has_input, has_data;
    if (!data_field(call, obj, "input", &input, &has_input))
        return false;
    if (!data_field(call, obj, "data", &data, &has_data)) {
        bytes_free(&input);
        return false;
    }
    if (has_input && has_data &&
        (input.len != data.len || (input.len && memcmp(input.ptr, data.ptr, input.len) != 0))) {
        bytes_free(&input);
        bytes_free(&data);
        rpc_call_error(call, RPC_SERVER_ERROR,
                       "both \"data\" and \"input\" are set and not equal. Please use \"input\" "
                       "to pass transaction call data",
                       NULL);
        return false;
    }
    if (has_input) {
        j->data = input;
        bytes_free(&data);
    } else {
        j->data = data;
        bytes_free(&input);
    }
    return true;
}

/*
 * Fills j from the call object (geth's TransactionArgs): from (default the
 * zero address), to (absent: a creation), gas, gasPrice or the EIP-1559 fee
 * caps, value, input/data; nonce is checked and ignored. Completes the call
 * and returns false on error.
 */
static bool parse_call_object(struct rpc_call *call, const cJSON *obj, struct call_job *j)
{
    char err[RPC_ERRMSG_LEN];
    struct tx *tx = &j->tx;
    if (!cJSON_IsObject(obj)) {
        rpc_call_invalid_param(call, 0, "expected a call object");
        return false;
    }
    const cJSON *v;
    if ((v = field(obj, "from")) && rpc_param_fixed(v, j->from, 20, err) != TC_OK)
        return bad_field(call, "from", err);
    if ((v = field(obj, "to"))) {
        if (rpc_param_fixed(v, tx->to, 20, err) != TC_OK)
            return bad_field(call, "to", err);
        tx->has_to = true;
    }
    if ((v = field(obj, "gas"))) {
        if (rpc_param_quantity_u64(v, &tx->gas_limit, err) != TC_OK)
            return bad_field(call, "gas", err);
        j->gas_given = true;
    }
    uint64_t nonce;
    if ((v = field(obj, "nonce")) && rpc_param_quantity_u64(v, &nonce, err) != TC_OK)
        return bad_field(call, "nonce", err);
    if ((v = field(obj, "accessList")) && !cJSON_IsArray(v))
        return bad_field(call, "accessList", "expected an array");
    bool has_price, has_max, has_tip, has_value;
    if (!u256_field(call, obj, "gasPrice", &tx->gas_price, &has_price) ||
        !u256_field(call, obj, "maxFeePerGas", &tx->max_fee_per_gas, &has_max) ||
        !u256_field(call, obj, "maxPriorityFeePerGas", &tx->max_priority_fee_per_gas, &has_tip) ||
        !u256_field(call, obj, "value", &tx->value, &has_value))
        return false;
    if (has_price && (has_max || has_tip)) {
        rpc_call_error(call, RPC_SERVER_ERROR,
                       "both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified", NULL);
        return false;
    }
    if (has_price) {
        tx->type = TX_LEGACY;
        tx->max_fee_per_gas = tx->gas_price;
        tx->max_priority_fee_per_gas = tx->gas_price;
    } else {
        tx->type = TX_DYNAMIC_FEE;
        tx->gas_price = tx->max_fee_per_gas;
    }
    if (!parse_input(call, obj, j))
        return false;
    tx->data = bytes_as_view(&j->data);
    return true;
}

/* ---- geth's answers --------------------------------------------------- */

/* geth's message for an EVM failure other than a revert (core/vm/errors.go). */
static const char *vm_error_message(int status)
{
    switch (status) {
    case EVM_OUT_OF_GAS:
        return "out of gas";
    case EVM_INVALID_INSTRUCTION:
        return "invalid opcode";
    case EVM_STACK_UNDERFLOW:
        return "stack underflow";
    case EVM_STACK_OVERFLOW:
        return "stack limit reached 1024";
    case EVM_BAD_JUMP_DESTINATION:
        return "invalid jump destination";
    case EVM_STATIC_MODE_VIOLATION:
        return "write protection";
    case EVM_INVALID_MEMORY_ACCESS:
        return "return data out of bounds";
    case EVM_CALL_DEPTH_EXCEEDED:
        return "max call depth exceeded";
    case EVM_INSUFFICIENT_BALANCE:
        return "insufficient balance for transfer";
    case EVM_NONCE_OVERFLOW:
        return "nonce uint64 overflow";
    case EVM_CREATE_COLLISION:
        return "contract address collision";
    case EVM_INITCODE_SIZE_EXCEEDED:
        return "max initcode size exceeded";
    case EVM_CODE_SIZE_EXCEEDED:
        return "max code size exceeded";
    case EVM_INVALID_CODE_PREFIX:
        return "invalid code: must not begin with 0xef";
    case EVM_UNSUPPORTED_PRECOMPILE:
        return "precompile not supported by this node";
    default:
        return evm_status_name((enum evm_status)status);
    }
}

/* A 32-byte ABI word as a length or offset, false when it does not fit in size_t. */
static bool abi_size(const uint8_t *word, size_t *out)
{
    for (size_t i = 0; i < 24; i++)
        if (word[i])
            return false;
    uint64_t v = 0;
    for (size_t i = 24; i < 32; i++)
        v = v << 8 | word[i];
    if (v > SIZE_MAX)
        return false;
    *out = (size_t)v;
    return true;
}

/* geth's reason for a Solidity panic code into reason; false when the code
 * does not fit in 64 bits. */
static bool panic_reason(const uint8_t code[32], char *reason, size_t reason_len)
{
    static const struct {
        uint8_t code;
        const char *reason;
    } reasons[] = {
        { 0x00, "generic panic" },
        { 0x01, "assert(false)" },
        { 0x11, "arithmetic underflow or overflow" },
        { 0x12, "division or modulo by zero" },
        { 0x21, "enum overflow" },
        { 0x22, "invalid encoded storage byte array accessed" },
        { 0x31, "out-of-bounds array access; popping on an empty array" },
        { 0x32, "out-of-bounds access of an array or bytesN" },
        { 0x41, "out of memory" },
        { 0x51, "uninitialized function" },
    };
    size_t value;
    if (!abi_size(code, &value))
        return false;
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].code == value) {
            snprintf(reason, reason_len, "%s", reasons[i].reason);
            return true;
        }
    snprintf(reason, reason_len, "unknown panic code: %#llx", (unsigned long long)value);
    return true;
}

/* Replaces each byte that is not part of valid UTF-8 by '?', so that the
 * reason can be a JSON string. */
static void make_utf8(char *s)
{
    uint8_t *p = (uint8_t *)s;
    while (*p) {
        size_t n = *p < 0x80             ? 1
                   : (*p & 0xe0) == 0xc0 ? 2
                   : (*p & 0xf0) == 0xe0 ? 3
                   : (*p & 0xf8) == 0xf0 ? 4
                                         : 0;
        bool ok = n > 0 && !(n == 2 && *p < 0xc2) && !(n == 4 && *p > 0xf4);
        for (size_t i = 1; ok && i < n; i++)
            ok = (p[i] & 0xc0) == 0x80;
        if (!ok) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

/*
 * The reason in revert data, as geth's abi.UnpackRevert finds it: the string
 * of Error(string) (invalid UTF-8 bytes replaced by '?'), or the text of a
 * Panic(uint256) code. False for anything else (a custom error, malformed
 * data).
 */
static bool revert_reason(const uint8_t *out, size_t len, char *reason, size_t reason_len)
{
    if (len < 4 + 32)
        return false;
    const uint8_t *args = out + 4;
    size_t args_len = len - 4;
    if (memcmp(out, PANIC_SELECTOR, 4) == 0)
        return panic_reason(args, reason, reason_len);
    size_t offset, n;
    if (memcmp(out, ERROR_SELECTOR, 4) != 0 || !abi_size(args, &offset) || offset > args_len - 32 ||
        !abi_size(args + offset, &n) || n > args_len - offset - 32)
        return false;
    if (n >= reason_len)
        n = reason_len - 1;
    memcpy(reason, args + offset + 32, n);
    reason[n] = '\0';
    make_utf8(reason);
    return true;
}

/*
 * A REVERT, as geth answers it: with revert data, code 3, "execution
 * reverted" (": <reason>" when the data carries one) and the data as
 * `data`; without data, -32000 "execution reverted".
 */
static void answer_revert(struct rpc_call *call, const uint8_t *out, size_t len)
{
    if (len == 0) {
        rpc_call_error(call, RPC_SERVER_ERROR, "execution reverted", NULL);
        return;
    }
    char reason[REVERT_REASON_MAX];
    if (revert_reason(out, len, reason, sizeof(reason)))
        rpc_call_errorf(call, RPC_EXECUTION_REVERTED, rpc_data(out, len), "execution reverted: %s",
                        reason);
    else
        rpc_call_error(call, RPC_EXECUTION_REVERTED, "execution reverted", rpc_data(out, len));
}

/* Answers a call that did not succeed (dropped, or any EVM status but success). */
static void answer_failure(struct rpc_call *call, const struct exec_call_result *r)
{
    if (r->drop_reason)
        rpc_call_error(call, RPC_SERVER_ERROR, r->drop_reason, NULL);
    else if (r->evm_status == EVM_REVERT)
        answer_revert(call, r->output, r->output_len);
    else
        rpc_call_error(call, RPC_SERVER_ERROR, vm_error_message(r->evm_status), NULL);
}

/* ---- execution (on a call worker) ------------------------------------- */

/* A state over the ledger's head and an executor in the head's block. */
static int call_env_open(const struct eth_api_deps *d, struct call_env *c)
{
    memset(c, 0, sizeof(*c));
    struct ledger_head head;
    struct block_header h;
    ledger_head(d->ledger, &head);
    int rc = ledger_block_header(d->ledger, head.number, &h);
    if (rc)
        return rc;
    struct state_reader reader = ledger_state_reader(d->ledger);
    if ((rc = state_new(&reader, &c->s)))
        return rc;
    state_set_block_hashes(c->s, ledger_state_block_hash, d->ledger);
    struct exec_rules rules = { .kind = EXEC_RULES_CHAIN,
                                .tx_gas_limit = d->genesis->tx_gas_limit };
    if ((rc = exec_new(&rules, &c->ex))) {
        state_free(c->s);
        return rc;
    }
    /* The consensus system contract falls back to the genesis membership. */
    syscontract_exec_set_genesis(c->ex, d->genesis);
    /* geth runs a call in the context of the block it reads: the head. */
    struct exec_block_env env;
    memset(&env, 0, sizeof(env));
    memcpy(env.coinbase, h.coinbase, 20);
    env.number = h.number;
    env.timestamp = h.timestamp;
    env.gas_limit = h.gas_limit;
    memcpy(env.prevrandao, h.mix_hash, 32);
    env.chain_id = u256_from_u64(d->genesis->chain_id);
    c->gas_cap = d->genesis->tx_gas_limit;
    if (c->gas_cap == 0 || c->gas_cap > h.gas_limit)
        c->gas_cap = h.gas_limit;
    return exec_begin(c->ex, c->s, &env);
}

static void call_env_close(struct call_env *c)
{
    exec_free(c->ex);
    state_free(c->s);
}

/* Runs the job's message with gas_limit gas. */
static int run_with_gas(struct call_env *c, struct call_job *j, uint64_t gas_limit,
                        struct exec_call_result *r)
{
    j->tx.gas_limit = gas_limit;
    return exec_call(c->ex, &j->tx, j->from, r);
}

static bool succeeded(const struct exec_call_result *r)
{
    return !r->drop_reason && r->evm_status == EVM_SUCCESS;
}

static void do_call(struct call_env *c, struct call_job *j)
{
    /* geth: no gas, or 0, means the cap; more than the cap is cut to it. */
    uint64_t gas = c->gas_cap;
    if (j->gas_given && j->tx.gas_limit != 0 && j->tx.gas_limit < gas)
        gas = j->tx.gas_limit;
    struct exec_call_result r;
    int rc = run_with_gas(c, j, gas, &r);
    if (rc)
        eth_api_internal_error(j->call, rc);
    else if (succeeded(&r))
        rpc_call_result(j->call, rpc_data(r.output, r.output_len));
    else
        answer_failure(j->call, &r);
}

/* A run of the search failed for lack of gas (as opposed to an error to report). */
static bool short_of_gas(const struct exec_call_result *r)
{
    if (r->drop_reason)
        return strcmp(r->drop_reason, "intrinsic gas too low") == 0;
    return r->evm_status != EVM_SUCCESS;
}

/*
 * The highest gas the sender's balance pays for at the fee cap (geth's
 * allowance); *hi is lowered to it. False (call completed) when the balance
 * does not even cover the value.
 */
static bool cap_by_balance(struct call_env *c, struct call_job *j, uint64_t *hi)
{
    const struct tx *tx = &j->tx;
    if (u256_is_zero(tx->max_fee_per_gas))
        return true;
    u256 balance = state_balance(c->s, j->from);
    if (u256_lt(balance, tx->value) || u256_eq(balance, tx->value)) {
        rpc_call_error(j->call, RPC_SERVER_ERROR, "insufficient funds for transfer", NULL);
        return false;
    }
    u256 allowance, rem;
    u256_div_rem(u256_sub(balance, tx->value), tx->max_fee_per_gas, &allowance, &rem);
    if (u256_fits_u64(allowance) && u256_low_u64(allowance) < *hi)
        *hi = u256_low_u64(allowance);
    return true;
}

/*
 * geth's estimate without its 1.5% tolerance: the lowest gas limit with
 * which the call succeeds, by binary search between the gas used at the cap
 * (minus one) and the cap.
 */
static void do_estimate(struct call_env *c, struct call_job *j)
{
    struct exec_call_result r;
    uint64_t hi = c->gas_cap;
    if (j->gas_given && j->tx.gas_limit >= TRANSFER_GAS && j->tx.gas_limit < hi)
        hi = j->tx.gas_limit;
    if (!cap_by_balance(c, j, &hi))
        return;
    int rc;
    /* A plain transfer costs exactly the intrinsic gas. */
    if (j->tx.has_to && j->data.len == 0) {
        uint8_t code_hash[32];
        state_code_hash(c->s, j->tx.to, code_hash);
        if (memcmp(code_hash, STATE_EMPTY_CODE_HASH, 32) == 0 && TRANSFER_GAS <= hi) {
            if ((rc = run_with_gas(c, j, TRANSFER_GAS, &r))) {
                eth_api_internal_error(j->call, rc);
                return;
            }
            if (succeeded(&r)) {
                rpc_call_result(j->call, rpc_quantity_u64(TRANSFER_GAS));
                return;
            }
        }
    }
    if ((rc = run_with_gas(c, j, hi, &r))) {
        eth_api_internal_error(j->call, rc);
        return;
    }
    if (!succeeded(&r)) {
        if (short_of_gas(&r) && (r.drop_reason || r.evm_status == EVM_OUT_OF_GAS))
            rpc_call_errorf(j->call, RPC_SERVER_ERROR, NULL,
                            "gas required exceeds allowance (%llu)", (unsigned long long)hi);
        else
            answer_failure(j->call, &r);
        return;
    }
    uint64_t lo = r.gas_used - 1;
    while (lo + 1 < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        /* Most calls need little gas: double from below before halving from above. */
        if (mid > lo * 2)
            mid = lo * 2;
        if ((rc = run_with_gas(c, j, mid, &r))) {
            eth_api_internal_error(j->call, rc);
            return;
        }
        if (succeeded(&r)) {
            hi = mid;
        } else if (short_of_gas(&r)) {
            lo = mid;
        } else {
            answer_failure(j->call, &r);
            return;
        }
    }
    rpc_call_result(j->call, rpc_quantity_u64(hi));
}

static void run_job(void *arg)
{
    struct call_job *j = arg;
    struct call_env c;
    int rc = call_env_open(j->d, &c);
    if (rc)
        eth_api_internal_error(j->call, rc);
    else if (j->estimate)
        do_estimate(&c, j);
    else
        do_call(&c, j);
    call_env_close(&c);
    job_free(j);
}

/* ---- the handlers ----------------------------------------------------- */

static void submit(struct rpc_call *call, const cJSON *params, void *ctx, bool estimate)
{
    const struct eth_api_deps *d = ctx;
    if (!d->call_workers) {
        rpc_call_errorf(call, RPC_METHOD_NOT_FOUND, NULL,
                        "the method %s does not exist/is not available", rpc_call_method(call));
        return;
    }
    if (!eth_api_check_params(call, params, 1, 2))
        return;
    struct call_job *j = calloc(1, sizeof(*j));
    if (!j) {
        eth_api_internal_error(call, TC_ENOMEM);
        return;
    }
    bytes_init(&j->data);
    j->call = call;
    j->d = d;
    j->estimate = estimate;
    if (!parse_call_object(call, rpc_param_at(params, 0), j) ||
        !eth_api_require_head_state(call, d, rpc_param_at(params, 1), 1)) {
        job_free(j);
        return;
    }
    int rc = threadpool_submit(d->call_workers, run_job, j);
    if (rc == TC_OK)
        return;
    job_free(j);
    rpc_call_error(call, RPC_SERVER_ERROR,
                   rc == TC_EFULL ? "server busy" : "server is shutting down", NULL);
}

void eth_api_call(struct rpc_call *call, const cJSON *params, void *ctx)
{
    submit(call, params, ctx, false);
}

void eth_api_estimate_gas(struct rpc_call *call, const cJSON *params, void *ctx)
{
    submit(call, params, ctx, true);
}

int eth_api_call_workers_create(struct threadpool **out)
{
    return threadpool_create_with_stack(out, ETH_API_CALL_THREADS, ETH_API_CALL_QUEUE,
                                        ETH_API_CALL_STACK_BYTES);
}
