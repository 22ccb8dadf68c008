/*
 * eth_api.c - the eth_*, net_*, web3_* and FISCO-style methods of eth_api.h
 * (but eth_call and eth_estimateGas, in eth_call.c): parameter checks,
 * ledger and txpool reads, and the JSON shapes.
 */
#include "rpc/eth_api.h"
#include "rpc/eth_api_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "chain/tx.h"
#include "codec/rlp.h"
#include "crypto/keccak.h"
#include "exec/syscontract.h"
#include "state/state.h"

/* Result building exits the node on out-of-memory, as rpc.h's builders do. */
static cJSON *must(cJSON *j)
{
    if (!j)
        log_fatal("eth_api", "out of memory building a result");
    return j;
}

static void add(cJSON *obj, const char *name, cJSON *v)
{
    if (!cJSON_AddItemToObject(obj, name, must(v)))
        log_fatal("eth_api", "out of memory building a result");
}

static void push(cJSON *arr, cJSON *v)
{
    if (!cJSON_AddItemToArray(arr, must(v)))
        log_fatal("eth_api", "out of memory building a result");
}

static const struct eth_api_deps *deps_of(void *ctx)
{
    return ctx;
}

void eth_api_internal_error(struct rpc_call *call, int rc)
{
    rpc_call_errorf(call, RPC_INTERNAL_ERROR, NULL, "internal error: %s", tc_strerror(rc));
}

/* Checks the parameter count; on failure completes call with -32602. */
bool eth_api_check_params(struct rpc_call *call, const cJSON *params, size_t min, size_t max)
{
    char err[RPC_ERRMSG_LEN];
    if (rpc_params_check(params, min, max, err) != TC_OK) {
        rpc_call_error(call, RPC_INVALID_PARAMS, err, NULL);
        return false;
    }
    return true;
}

/*
 * Resolves a block parameter to a block number: *found false when the block
 * does not exist (the method answers null). Completes call on error.
 */
static bool resolve_block(struct rpc_call *call, const struct eth_api_deps *d, const cJSON *item,
                          size_t index, bool allow_object, uint64_t *number, bool *found)
{
    char err[RPC_ERRMSG_LEN];
    struct rpc_block_ref ref;
    if (rpc_param_block(item, allow_object, &ref, err) != TC_OK) {
        rpc_call_invalid_param(call, index, err);
        return false;
    }
    struct ledger_head head;
    ledger_head(d->ledger, &head);
    *found = true;
    switch (ref.kind) {
    case RPC_BLOCK_EARLIEST:
        *number = 0;
        return true;
    case RPC_BLOCK_NUMBER:
        *number = ref.number;
        *found = ref.number <= head.number;
        return true;
    case RPC_BLOCK_HASH: {
        int rc = ledger_block_number(d->ledger, ref.hash, number);
        if (rc == TC_ENOTFOUND) {
            *found = false;
            return true;
        }
        if (rc != TC_OK) {
            eth_api_internal_error(call, rc);
            return false;
        }
        return true;
    }
    default:
        *number = head.number;
        return true;
    }
}

/* For state reads: only the head's state exists. Completes call on error. */
bool eth_api_require_head_state(struct rpc_call *call, const struct eth_api_deps *d,
                                const cJSON *item, size_t index)
{
    uint64_t number;
    bool found;
    if (!resolve_block(call, d, item, index, true, &number, &found))
        return false;
    struct ledger_head head;
    ledger_head(d->ledger, &head);
    if (!found) {
        rpc_call_error(call, RPC_SERVER_ERROR, "header not found", NULL);
        return false;
    }
    if (number != head.number) {
        rpc_call_error(call, RPC_SERVER_ERROR, ETH_API_HIST_STATE_MSG, NULL);
        return false;
    }
    return true;
}

/* ---- transactions ------------------------------------------------------- */

static cJSON *access_list_json(struct bytes_view list)
{
    cJSON *arr = must(cJSON_CreateArray());
    struct rlp_item top, entry, addr, keys, key;
    struct rlp_iter it, eit, kit;
    if (list.len == 0 || rlp_decode_item(list, &top) != 0 || rlp_iter_init(&it, &top) != 0)
        return arr;
    while (rlp_iter_has_next(&it) && rlp_iter_next(&it, &entry) == 0) {
        uint8_t a[20];
        if (rlp_iter_init(&eit, &entry) != 0 || rlp_iter_next(&eit, &addr) != 0 ||
            rlp_iter_next(&eit, &keys) != 0 ||
            rlp_decode_bytes_fixed(&addr, 20, false, a, NULL) != 0 ||
            rlp_iter_init(&kit, &keys) != 0)
            break;
        cJSON *e = must(cJSON_CreateObject());
        add(e, "address", rpc_data(a, 20));
        cJSON *ks = must(cJSON_CreateArray());
        while (rlp_iter_has_next(&kit) && rlp_iter_next(&kit, &key) == 0) {
            uint8_t k[32];
            if (rlp_decode_bytes_fixed(&key, 32, false, k, NULL) != 0)
                break;
            push(ks, rpc_data(k, 32));
        }
        add(e, "storageKeys", ks);
        push(arr, e);
    }
    return arr;
}

/*
 * The transaction object of raw (decoded here); loc NULL while pending.
 * Returns NULL (and sets *rc) when the stored bytes do not decode or no
 * sender recovers.
 */
static cJSON *tx_json(struct bytes_view raw, const struct ledger_tx_location *loc, uint32_t index,
                      int *rc)
{
    struct tx tx;
    uint8_t sender[20], hash[32];
    if ((*rc = tx_decode(raw, &tx, NULL)) != 0 || (*rc = tx_sender(&tx, sender, NULL)) != 0)
        return NULL;
    tx_hash(&tx, hash);
    cJSON *o = must(cJSON_CreateObject());
    add(o, "blockHash", loc ? rpc_data(loc->block_hash, 32) : rpc_null());
    add(o, "blockNumber", loc ? rpc_quantity_u64(loc->block_number) : rpc_null());
    add(o, "from", rpc_data(sender, 20));
    add(o, "gas", rpc_quantity_u64(tx.gas_limit));
    /* Base fee 0: a mined type-2 transaction paid min(tip, fee cap). */
    u256 price = tx.gas_price;
    if (tx.type == TX_DYNAMIC_FEE && loc && u256_lt(tx.max_priority_fee_per_gas, price))
        price = tx.max_priority_fee_per_gas;
    add(o, "gasPrice", rpc_quantity_u256(price));
    if (tx.type == TX_DYNAMIC_FEE) {
        add(o, "maxFeePerGas", rpc_quantity_u256(tx.max_fee_per_gas));
        add(o, "maxPriorityFeePerGas", rpc_quantity_u256(tx.max_priority_fee_per_gas));
    }
    add(o, "hash", rpc_data(hash, 32));
    add(o, "input", rpc_data(tx.data.ptr, tx.data.len));
    add(o, "nonce", rpc_quantity_u64(tx.nonce));
    add(o, "to", tx.has_to ? rpc_data(tx.to, 20) : rpc_null());
    add(o, "transactionIndex", loc ? rpc_quantity_u64(index) : rpc_null());
    add(o, "value", rpc_quantity_u256(tx.value));
    add(o, "type", rpc_quantity_u64((uint64_t)tx.type));
    if (tx.type != TX_LEGACY)
        add(o, "accessList", access_list_json(tx.access_list));
    if (tx.type != TX_LEGACY || tx.eip155)
        add(o, "chainId", rpc_quantity_u64(tx.chain_id));
    uint64_t v = tx.y_parity;
    if (tx.type == TX_LEGACY)
        v = tx.eip155 ? 35 + 2 * tx.chain_id + tx.y_parity : 27u + tx.y_parity;
    add(o, "v", rpc_quantity_u64(v));
    add(o, "r", rpc_quantity_u256(u256_from_be_bytes(tx.r, 32)));
    add(o, "s", rpc_quantity_u256(u256_from_be_bytes(tx.s, 32)));
    if (tx.type != TX_LEGACY)
        add(o, "yParity", rpc_quantity_u64(tx.y_parity));
    return o;
}

/* The params are exactly one 32-byte hash; otherwise answers -32602. */
static bool hash_param(struct rpc_call *call, const cJSON *params, uint8_t hash[32])
{
    char err[RPC_ERRMSG_LEN];
    if (!eth_api_check_params(call, params, 1, 1))
        return false;
    if (rpc_param_fixed(rpc_param_at(params, 0), hash, 32, err) != TC_OK) {
        rpc_call_invalid_param(call, 0, err);
        return false;
    }
    return true;
}

static void eth_get_transaction_by_hash(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    uint8_t hash[32];
    if (!hash_param(call, params, hash))
        return;
    struct bytes raw;
    bytes_init(&raw);
    struct ledger_tx_location loc;
    memset(&loc, 0, sizeof(loc));
    int rc = ledger_tx(d->ledger, hash, &raw, &loc);
    bool pending = false;
    if (rc == TC_ENOTFOUND) {
        bytes_clear(&raw);
        rc = txpool_get(d->txpool, hash, &raw);
        pending = true;
    }
    if (rc == TC_ENOTFOUND) {
        rpc_call_result(call, rpc_null());
    } else if (rc != TC_OK) {
        eth_api_internal_error(call, rc);
    } else {
        cJSON *o = tx_json(bytes_as_view(&raw), pending ? NULL : &loc, loc.tx_index, &rc);
        if (o)
            rpc_call_result(call, o);
        else
            eth_api_internal_error(call, rc);
    }
    bytes_free(&raw);
}

/* A log object, as receipts and eth_getLogs show it. */
static cJSON *log_json(const struct ledger_log *lg)
{
    cJSON *l = must(cJSON_CreateObject());
    add(l, "address", rpc_data(lg->address, 20));
    cJSON *topics = must(cJSON_CreateArray());
    for (unsigned t = 0; t < lg->topic_count; t++)
        push(topics, rpc_data(lg->topics[t], 32));
    add(l, "topics", topics);
    add(l, "data", rpc_data(lg->data.ptr, lg->data.len));
    add(l, "blockNumber", rpc_quantity_u64(lg->block_number));
    add(l, "transactionHash", rpc_data(lg->tx_hash, 32));
    add(l, "transactionIndex", rpc_quantity_u64(lg->tx_index));
    add(l, "blockHash", rpc_data(lg->block_hash, 32));
    add(l, "logIndex", rpc_quantity_u64(lg->log_index));
    add(l, "removed", cJSON_CreateFalse());
    return l;
}

static cJSON *receipt_json(const struct ledger_receipt *lr, const uint8_t sender[20],
                           const struct tx *tx)
{
    const struct receipt *r = &lr->receipt;
    cJSON *o = must(cJSON_CreateObject());
    add(o, "blockHash", rpc_data(lr->loc.block_hash, 32));
    add(o, "blockNumber", rpc_quantity_u64(lr->loc.block_number));
    add(o, "contractAddress",
        r->has_contract_address ? rpc_data(r->contract_address, 20) : rpc_null());
    add(o, "cumulativeGasUsed", rpc_quantity_u64(r->cumulative_gas_used));
    add(o, "effectiveGasPrice", rpc_quantity_u256(r->effective_gas_price));
    add(o, "from", rpc_data(sender, 20));
    add(o, "gasUsed", rpc_quantity_u64(r->gas_used));
    cJSON *logs = must(cJSON_CreateArray());
    for (size_t i = 0; i < r->log_count; i++) {
        const struct log *lg = &r->logs[i];
        struct ledger_log l;
        memcpy(l.address, lg->address, 20);
        l.topic_count = lg->topic_count;
        memcpy(l.topics, lg->topics, sizeof(l.topics));
        l.data = lg->data;
        l.block_number = lr->loc.block_number;
        memcpy(l.block_hash, lr->loc.block_hash, 32);
        memcpy(l.tx_hash, lr->tx_hash, 32);
        l.tx_index = lr->loc.tx_index;
        l.log_index = lr->loc.first_log_index + (uint32_t)i;
        push(logs, log_json(&l));
    }
    add(o, "logs", logs);
    add(o, "logsBloom", rpc_data(r->bloom, BLOOM_BYTES));
    add(o, "status", rpc_quantity_u64(r->status ? 1 : 0));
    add(o, "to", tx->has_to ? rpc_data(tx->to, 20) : rpc_null());
    add(o, "transactionHash", rpc_data(lr->tx_hash, 32));
    add(o, "transactionIndex", rpc_quantity_u64(lr->loc.tx_index));
    add(o, "type", rpc_quantity_u64(r->type));
    return o;
}

static void eth_get_transaction_receipt(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    uint8_t hash[32];
    if (!hash_param(call, params, hash))
        return;
    struct ledger_receipt lr;
    struct bytes raw;
    bytes_init(&raw);
    struct ledger_tx_location loc;
    int rc = ledger_receipt(d->ledger, hash, &lr);
    if (rc == TC_OK)
        rc = ledger_tx(d->ledger, hash, &raw, &loc);
    if (rc == TC_ENOTFOUND) {
        rpc_call_result(call, rpc_null());
        goto out_free;
    }
    struct tx tx;
    uint8_t sender[20];
    if (rc == TC_OK && (rc = tx_decode(bytes_as_view(&raw), &tx, NULL)) == 0)
        rc = tx_sender(&tx, sender, NULL);
    if (rc != TC_OK)
        eth_api_internal_error(call, rc);
    else
        rpc_call_result(call, receipt_json(&lr, sender, &tx));
out_free:
    ledger_receipt_free(&lr);
    bytes_free(&raw);
}

/* ---- eth_sendRawTransaction --------------------------------------------- */

static void send_raw_done(void *ctx, const struct txpool_result *result)
{
    struct rpc_call *call = ctx;
    if (result->code == TC_OK)
        rpc_call_result(call, rpc_data(result->hash, 32));
    else
        rpc_call_error(call, RPC_SERVER_ERROR, result->message, NULL);
}

static void eth_send_raw_transaction(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    char err[RPC_ERRMSG_LEN];
    if (!eth_api_check_params(call, params, 1, 1))
        return;
    struct bytes raw;
    int rc = rpc_param_data(rpc_param_at(params, 0), ETH_API_MAX_RAW_TX_BYTES, &raw, err);
    if (rc == TC_ETOOBIG) {
        rpc_call_error(call, RPC_SERVER_ERROR, txpool_status_message(TXPOOL_OVERSIZED), NULL);
        return;
    }
    if (rc != TC_OK) {
        rpc_call_invalid_param(call, 0, err);
        return;
    }
    struct txpool_result early;
    memset(&early, 0, sizeof(early));
    rc = txpool_submit(d->txpool, raw.ptr, raw.len, send_raw_done, call, &early);
    bytes_free(&raw);
    if (rc != TC_OK)
        rpc_call_error(call, RPC_SERVER_ERROR,
                       early.message && early.message[0] ? early.message : tc_strerror(rc), NULL);
}

/* ---- blocks --------------------------------------------------------------- */

/* The block object of block `number`, or NULL with *rc (TC_ENOTFOUND...). */
static cJSON *block_json(const struct eth_api_deps *d, uint64_t number, bool full, int *rc)
{
    struct bytes enc, hashes;
    bytes_init(&enc);
    bytes_init(&hashes);
    struct block b;
    memset(&b, 0, sizeof(b));
    cJSON *o = NULL;
    uint8_t hash[32];
    if ((*rc = ledger_block_encoded(d->ledger, number, &enc)) != 0 ||
        (*rc = ledger_block_tx_hashes(d->ledger, number, &hashes)) != 0 ||
        (*rc = block_decode(bytes_as_view(&enc), &b, NULL)) != 0 ||
        (*rc = block_header_hash(&b.header, hash)) != 0)
        goto out_free;
    const struct block_header *h = &b.header;
    o = must(cJSON_CreateObject());
    add(o, "baseFeePerGas", rpc_quantity_u256(h->base_fee_per_gas));
    add(o, "blobGasUsed", rpc_quantity_u64(h->blob_gas_used));
    add(o, "difficulty", rpc_quantity_u256(h->difficulty));
    add(o, "excessBlobGas", rpc_quantity_u64(h->excess_blob_gas));
    add(o, "extraData", rpc_data(h->extra_data, h->extra_data_len));
    add(o, "gasLimit", rpc_quantity_u64(h->gas_limit));
    add(o, "gasUsed", rpc_quantity_u64(h->gas_used));
    add(o, "hash", rpc_data(hash, 32));
    add(o, "logsBloom", rpc_data(h->logs_bloom, BLOOM_BYTES));
    add(o, "miner", rpc_data(h->coinbase, 20));
    add(o, "mixHash", rpc_data(h->mix_hash, 32));
    add(o, "nonce", rpc_data(h->nonce, 8));
    add(o, "number", rpc_quantity_u64(h->number));
    add(o, "parentBeaconBlockRoot", rpc_data(h->parent_beacon_block_root, 32));
    add(o, "parentHash", rpc_data(h->parent_hash, 32));
    add(o, "receiptsRoot", rpc_data(h->receipts_root, 32));
    add(o, "sha3Uncles", rpc_data(h->ommers_hash, 32));
    add(o, "size", rpc_quantity_u64(enc.len));
    add(o, "stateRoot", rpc_data(h->state_root, 32));
    add(o, "timestamp", rpc_quantity_u64(h->timestamp));
    add(o, "totalDifficulty", rpc_quantity_u64(0));
    cJSON *txs = must(cJSON_CreateArray());
    struct ledger_tx_location loc;
    memset(&loc, 0, sizeof(loc));
    loc.block_number = number;
    memcpy(loc.block_hash, hash, 32);
    for (size_t i = 0; i < b.tx_count; i++) {
        if (!full) {
            push(txs, rpc_data(hashes.ptr + 32 * i, 32));
            continue;
        }
        cJSON *t = tx_json(b.txs[i], &loc, (uint32_t)i, rc);
        if (!t) {
            cJSON_Delete(txs);
            cJSON_Delete(o);
            o = NULL;
            goto out_free;
        }
        push(txs, t);
    }
    add(o, "transactions", txs);
    add(o, "transactionsRoot", rpc_data(h->transactions_root, 32));
    add(o, "uncles", cJSON_CreateArray());
    add(o, "withdrawals", cJSON_CreateArray());
    add(o, "withdrawalsRoot", rpc_data(h->withdrawals_root, 32));
    *rc = TC_OK;
out_free:
    block_free(&b);
    bytes_free(&hashes);
    bytes_free(&enc);
    return o;
}

static void answer_block(struct rpc_call *call, const struct eth_api_deps *d, uint64_t number,
                         bool found, bool full)
{
    int rc = TC_ENOTFOUND;
    cJSON *o = found ? block_json(d, number, full, &rc) : NULL;
    if (o)
        rpc_call_result(call, o);
    else if (rc == TC_ENOTFOUND)
        rpc_call_result(call, rpc_null());
    else
        eth_api_internal_error(call, rc);
}

static bool param_full(struct rpc_call *call, const cJSON *params, bool *full)
{
    char err[RPC_ERRMSG_LEN];
    if (rpc_param_bool(rpc_param_at(params, 1), full, err) != TC_OK) {
        rpc_call_invalid_param(call, 1, err);
        return false;
    }
    return true;
}

static void eth_get_block_by_number(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    uint64_t number;
    bool found, full;
    if (!eth_api_check_params(call, params, 2, 2) ||
        !resolve_block(call, d, rpc_param_at(params, 0), 0, false, &number, &found) ||
        !param_full(call, params, &full))
        return;
    answer_block(call, d, number, found, full);
}

static bool param_hash(struct rpc_call *call, const cJSON *params, size_t index, uint8_t hash[32])
{
    char err[RPC_ERRMSG_LEN];
    if (rpc_param_fixed(rpc_param_at(params, index), hash, 32, err) != TC_OK) {
        rpc_call_invalid_param(call, index, err);
        return false;
    }
    return true;
}

/* Number of the block with this hash: *found false when unknown. */
static bool block_by_hash(struct rpc_call *call, const struct eth_api_deps *d,
                          const uint8_t hash[32], uint64_t *number, bool *found)
{
    int rc = ledger_block_number(d->ledger, hash, number);
    *found = rc == TC_OK;
    if (rc != TC_OK && rc != TC_ENOTFOUND) {
        eth_api_internal_error(call, rc);
        return false;
    }
    return true;
}

static void eth_get_block_by_hash(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    uint8_t hash[32];
    uint64_t number = 0;
    bool found, full;
    if (!eth_api_check_params(call, params, 2, 2) || !param_hash(call, params, 0, hash) ||
        !param_full(call, params, &full) || !block_by_hash(call, d, hash, &number, &found))
        return;
    answer_block(call, d, number, found, full);
}

static void answer_tx_count(struct rpc_call *call, const struct eth_api_deps *d, uint64_t number,
                            bool found)
{
    if (!found) {
        rpc_call_result(call, rpc_null());
        return;
    }
    struct bytes hashes;
    bytes_init(&hashes);
    int rc = ledger_block_tx_hashes(d->ledger, number, &hashes);
    if (rc == TC_OK)
        rpc_call_result(call, rpc_quantity_u64(hashes.len / 32));
    else if (rc == TC_ENOTFOUND)
        rpc_call_result(call, rpc_null());
    else
        eth_api_internal_error(call, rc);
    bytes_free(&hashes);
}

static void eth_get_block_tx_count_by_number(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    uint64_t number;
    bool found;
    if (!eth_api_check_params(call, params, 1, 1) ||
        !resolve_block(call, d, rpc_param_at(params, 0), 0, false, &number, &found))
        return;
    answer_tx_count(call, d, number, found);
}

static void eth_get_block_tx_count_by_hash(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    uint8_t hash[32];
    uint64_t number = 0;
    bool found;
    if (!eth_api_check_params(call, params, 1, 1) || !param_hash(call, params, 0, hash) ||
        !block_by_hash(call, d, hash, &number, &found))
        return;
    answer_tx_count(call, d, number, found);
}

static void answer_tx_at(struct rpc_call *call, const struct eth_api_deps *d, uint64_t number,
                         bool found, const cJSON *params)
{
    char err[RPC_ERRMSG_LEN];
    uint64_t index;
    if (rpc_param_quantity_u64(rpc_param_at(params, 1), &index, err) != TC_OK) {
        rpc_call_invalid_param(call, 1, err);
        return;
    }
    if (!found) {
        rpc_call_result(call, rpc_null());
        return;
    }
    struct bytes hashes, raw;
    bytes_init(&hashes);
    bytes_init(&raw);
    struct ledger_tx_location loc;
    int rc = ledger_block_tx_hashes(d->ledger, number, &hashes);
    if (rc == TC_OK && index >= hashes.len / 32)
        rc = TC_ENOTFOUND;
    if (rc == TC_OK)
        rc = ledger_tx(d->ledger, hashes.ptr + 32 * index, &raw, &loc);
    cJSON *o = NULL;
    if (rc == TC_OK)
        o = tx_json(bytes_as_view(&raw), &loc, loc.tx_index, &rc);
    if (o)
        rpc_call_result(call, o);
    else if (rc == TC_ENOTFOUND)
        rpc_call_result(call, rpc_null());
    else
        eth_api_internal_error(call, rc);
    bytes_free(&raw);
    bytes_free(&hashes);
}

static void eth_get_tx_by_block_number_and_index(struct rpc_call *call, const cJSON *params,
                                                 void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    uint64_t number;
    bool found;
    if (!eth_api_check_params(call, params, 2, 2) ||
        !resolve_block(call, d, rpc_param_at(params, 0), 0, false, &number, &found))
        return;
    answer_tx_at(call, d, number, found, params);
}

static void eth_get_tx_by_block_hash_and_index(struct rpc_call *call, const cJSON *params,
                                               void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    uint8_t hash[32];
    uint64_t number = 0;
    bool found;
    if (!eth_api_check_params(call, params, 2, 2) || !param_hash(call, params, 0, hash) ||
        !block_by_hash(call, d, hash, &number, &found))
        return;
    answer_tx_at(call, d, number, found, params);
}

/* ---- chain and account ---------------------------------------------------- */

static void eth_chain_id(struct rpc_call *call, const cJSON *params, void *ctx)
{
    if (eth_api_check_params(call, params, 0, 0))
        rpc_call_result(call, rpc_quantity_u64(deps_of(ctx)->genesis->chain_id));
}

static void net_version(struct rpc_call *call, const cJSON *params, void *ctx)
{
    char buf[24];
    if (!eth_api_check_params(call, params, 0, 0))
        return;
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)deps_of(ctx)->genesis->chain_id);
    rpc_call_result(call, must(cJSON_CreateString(buf)));
}

static void net_listening(struct rpc_call *call, const cJSON *params, void *ctx)
{
    (void)ctx;
    if (eth_api_check_params(call, params, 0, 0))
        rpc_call_result(call, must(cJSON_CreateTrue()));
}

static void net_peer_count(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    if (eth_api_check_params(call, params, 0, 0))
        rpc_call_result(call, rpc_quantity_u64(d->peer_count ? d->peer_count(d->node_ctx) : 0));
}

static void web3_client_version(struct rpc_call *call, const cJSON *params, void *ctx)
{
    if (eth_api_check_params(call, params, 0, 0))
        rpc_call_result(call, must(cJSON_CreateString(deps_of(ctx)->client_version)));
}

static void eth_syncing(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    uint64_t start = 0, current = 0, highest = 0;
    if (!eth_api_check_params(call, params, 0, 0))
        return;
    if (!d->sync_progress || !d->sync_progress(d->node_ctx, &start, &current, &highest)) {
        rpc_call_result(call, must(cJSON_CreateFalse()));
        return;
    }
    cJSON *o = must(cJSON_CreateObject());
    add(o, "startingBlock", rpc_quantity_u64(start));
    add(o, "currentBlock", rpc_quantity_u64(current));
    add(o, "highestBlock", rpc_quantity_u64(highest));
    rpc_call_result(call, o);
}

static void eth_accounts(struct rpc_call *call, const cJSON *params, void *ctx)
{
    (void)ctx;
    if (eth_api_check_params(call, params, 0, 0))
        rpc_call_result(call, must(cJSON_CreateArray()));
}

static void eth_block_number(struct rpc_call *call, const cJSON *params, void *ctx)
{
    struct ledger_head head;
    if (!eth_api_check_params(call, params, 0, 0))
        return;
    ledger_head(deps_of(ctx)->ledger, &head);
    rpc_call_result(call, rpc_quantity_u64(head.number));
}

static bool param_address(struct rpc_call *call, const cJSON *params, uint8_t addr[20])
{
    char err[RPC_ERRMSG_LEN];
    if (rpc_param_fixed(rpc_param_at(params, 0), addr, 20, err) != TC_OK) {
        rpc_call_invalid_param(call, 0, err);
        return false;
    }
    return true;
}

static void eth_get_balance(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    uint8_t addr[20];
    if (!eth_api_check_params(call, params, 1, 2) || !param_address(call, params, addr) ||
        !eth_api_require_head_state(call, d, rpc_param_at(params, 1), 1))
        return;
    struct state_account a;
    bool exists;
    int rc = ledger_account(d->ledger, addr, &a, &exists);
    if (rc != TC_OK)
        eth_api_internal_error(call, rc);
    else
        rpc_call_result(call, rpc_quantity_u256(exists ? a.balance : u256_zero()));
}

static void eth_get_transaction_count(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    char err[RPC_ERRMSG_LEN];
    uint8_t addr[20];
    struct rpc_block_ref ref;
    if (!eth_api_check_params(call, params, 1, 2) || !param_address(call, params, addr))
        return;
    if (rpc_param_block(rpc_param_at(params, 1), true, &ref, err) != TC_OK) {
        rpc_call_invalid_param(call, 1, err);
        return;
    }
    if (ref.kind != RPC_BLOCK_PENDING &&
        !eth_api_require_head_state(call, d, rpc_param_at(params, 1), 1))
        return;
    struct state_account a;
    bool exists;
    int rc = ledger_account(d->ledger, addr, &a, &exists);
    if (rc != TC_OK) {
        eth_api_internal_error(call, rc);
        return;
    }
    uint64_t nonce = exists ? a.nonce : 0;
    if (ref.kind == RPC_BLOCK_PENDING)
        nonce = txpool_next_nonce(d->txpool, addr, nonce);
    rpc_call_result(call, rpc_quantity_u64(nonce));
}

static void eth_gas_price(struct rpc_call *call, const cJSON *params, void *ctx)
{
    if (eth_api_check_params(call, params, 0, 0))
        rpc_call_result(call, rpc_quantity_u256(deps_of(ctx)->genesis->gas_price));
}

static void eth_max_priority_fee_per_gas(struct rpc_call *call, const cJSON *params, void *ctx)
{
    (void)ctx;
    if (eth_api_check_params(call, params, 0, 0))
        rpc_call_result(call, rpc_quantity_u64(0));
}

/* blockCount: a quantity or, as geth also accepts, a JSON integer. */
static int param_block_count(const cJSON *item, uint64_t *out, char *err)
{
    if (cJSON_IsNumber(item)) {
        double v = item->valuedouble;
        if (v < 0 || v > 1e15 || v != (double)(uint64_t)v) {
            snprintf(err, RPC_ERRMSG_LEN, "invalid block count");
            return TC_EINVAL;
        }
        *out = (uint64_t)v;
        return TC_OK;
    }
    return rpc_param_quantity_u64(item, out, err);
}

static bool param_percentiles(struct rpc_call *call, const cJSON *item, size_t *count)
{
    *count = 0;
    if (!item || cJSON_IsNull(item))
        return true;
    if (!cJSON_IsArray(item)) {
        rpc_call_invalid_param(call, 2, "expected an array of reward percentiles");
        return false;
    }
    double prev = -1;
    const cJSON *p;
    cJSON_ArrayForEach(p, item)
    {
        if (!cJSON_IsNumber(p) || p->valuedouble < 0 || p->valuedouble > 100) {
            rpc_call_invalid_param(call, 2, "invalid reward percentile");
            return false;
        }
        if (p->valuedouble < prev) {
            rpc_call_invalid_param(call, 2, "reward percentiles not in ascending order");
            return false;
        }
        prev = p->valuedouble;
        if (++*count > ETH_API_MAX_FEE_PERCENTILES) {
            rpc_call_invalid_param(call, 2, "too many reward percentiles");
            return false;
        }
    }
    return true;
}

static void eth_fee_history(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    char err[RPC_ERRMSG_LEN];
    uint64_t count, newest;
    bool found;
    size_t percentiles;
    if (!eth_api_check_params(call, params, 2, 3))
        return;
    if (param_block_count(rpc_param_at(params, 0), &count, err) != TC_OK) {
        rpc_call_invalid_param(call, 0, err);
        return;
    }
    if (!resolve_block(call, d, rpc_param_at(params, 1), 1, false, &newest, &found) ||
        !param_percentiles(call, rpc_param_at(params, 2), &percentiles))
        return;
    if (!found) {
        rpc_call_error(call, RPC_SERVER_ERROR, "header not found", NULL);
        return;
    }
    if (count > ETH_API_MAX_FEE_HISTORY_BLOCKS)
        count = ETH_API_MAX_FEE_HISTORY_BLOCKS;
    if (count > newest + 1)
        count = newest + 1;
    uint64_t oldest = newest + 1 - count;
    cJSON *o = must(cJSON_CreateObject());
    cJSON *fees = must(cJSON_CreateArray()), *ratios = must(cJSON_CreateArray());
    cJSON *blob_fees = must(cJSON_CreateArray()), *blob_ratios = must(cJSON_CreateArray());
    cJSON *rewards = percentiles ? must(cJSON_CreateArray()) : NULL;
    for (uint64_t n = oldest; n < oldest + count; n++) {
        struct block_header h;
        int rc = ledger_block_header(d->ledger, n, &h);
        if (rc != TC_OK) {
            cJSON_Delete(o);
            cJSON_Delete(fees);
            cJSON_Delete(ratios);
            cJSON_Delete(blob_fees);
            cJSON_Delete(blob_ratios);
            cJSON_Delete(rewards);
            eth_api_internal_error(call, rc);
            return;
        }
        push(fees, rpc_quantity_u256(h.base_fee_per_gas));
        push(ratios,
             cJSON_CreateNumber(h.gas_limit ? (double)h.gas_used / (double)h.gas_limit : 0.0));
        push(blob_fees, rpc_quantity_u64(0));
        push(blob_ratios, cJSON_CreateNumber(0));
        if (rewards) {
            cJSON *r = must(cJSON_CreateArray());
            for (size_t i = 0; i < percentiles; i++)
                push(r, rpc_quantity_u64(0));
            push(rewards, r);
        }
    }
    /* The base fee of the block after newest: this chain's is always 0. */
    push(fees, rpc_quantity_u64(0));
    push(blob_fees, rpc_quantity_u64(0));
    add(o, "oldestBlock", rpc_quantity_u64(oldest));
    add(o, "baseFeePerGas", fees);
    add(o, "gasUsedRatio", ratios);
    add(o, "baseFeePerBlobGas", blob_fees);
    add(o, "blobGasUsedRatio", blob_ratios);
    if (rewards)
        add(o, "reward", rewards);
    rpc_call_result(call, o);
}

/* ---- contract state ------------------------------------------------------- */

static void eth_get_code(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    uint8_t addr[20];
    if (!eth_api_check_params(call, params, 1, 2) || !param_address(call, params, addr) ||
        !eth_api_require_head_state(call, d, rpc_param_at(params, 1), 1))
        return;
    struct state_account a;
    bool exists;
    struct bytes code;
    bytes_init(&code);
    int rc = ledger_account(d->ledger, addr, &a, &exists);
    if (rc == TC_OK)
        rc = ledger_code(d->ledger, a.code_hash, &code);
    if (rc != TC_OK)
        eth_api_internal_error(call, rc);
    else
        rpc_call_result(call, rpc_data(code.ptr, code.len));
    bytes_free(&code);
}

/*
 * A storage slot as geth's decodeHash reads it: 0x-prefixed or not, up to
 * 64 hex digits (an odd count gets a leading zero), left-padded to 32 bytes,
 * so that both the quantity "0x0" and the 32-byte "0x00...00" name slot 0.
 */
static bool param_slot(struct rpc_call *call, const cJSON *item, uint8_t slot[32])
{
    if (!cJSON_IsString(item)) {
        rpc_call_invalid_param(call, 1, "expected a storage slot string");
        return false;
    }
    const char *h = item->valuestring;
    if (h[0] == '0' && (h[1] == 'x' || h[1] == 'X'))
        h += 2;
    size_t n = strlen(h);
    if (n > 64) {
        rpc_call_invalid_param(call, 1, "hex string too long, want at most 32 bytes");
        return false;
    }
    char padded[65];
    memset(padded, '0', 64);
    memcpy(padded + 64 - n, h, n);
    padded[64] = '\0';
    size_t len;
    if (hex_decode(padded, 64, slot, 32, &len) != TC_OK || len != 32) {
        rpc_call_invalid_param(call, 1, "hex string invalid");
        return false;
    }
    return true;
}

static void eth_get_storage_at(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    uint8_t addr[20], slot[32], word[32];
    if (!eth_api_check_params(call, params, 2, 3) || !param_address(call, params, addr) ||
        !param_slot(call, rpc_param_at(params, 1), slot) ||
        !eth_api_require_head_state(call, d, rpc_param_at(params, 2), 2))
        return;
    u256 v;
    int rc = ledger_storage(d->ledger, addr, slot, &v);
    if (rc != TC_OK) {
        eth_api_internal_error(call, rc);
        return;
    }
    u256_to_be_bytes(v, word);
    rpc_call_result(call, rpc_data(word, 32));
}

/* ---- eth_getLogs ------------------------------------------------------------ */

/* geth's -32005 for a query over the node's limits. */
#define RPC_LIMIT_EXCEEDED (-32005)

/* A parsed filter: the arrays that struct ledger_log_filter borrows. */
struct logs_query {
    struct ledger_log_filter f;
    uint8_t addresses[LEDGER_FILTER_MAX_ADDRESSES][20];
    uint8_t topics[LOG_MAX_TOPICS][LEDGER_FILTER_MAX_TOPICS][32];
};

static bool bad_filter(struct rpc_call *call, const char *fmt, const char *what)
{
    rpc_call_errorf(call, RPC_INVALID_PARAMS, NULL, fmt, what);
    return false;
}

/* "address": one address or an array of them. */
static bool parse_filter_addresses(struct rpc_call *call, const cJSON *item, struct logs_query *q)
{
    char err[RPC_ERRMSG_LEN];
    if (!item || cJSON_IsNull(item))
        return true;
    if (cJSON_IsString(item)) {
        if (rpc_param_fixed(item, q->addresses[0], 20, err) != TC_OK)
            return bad_filter(call, "invalid argument 0: address: %s", err);
        q->f.address_count = 1;
        return true;
    }
    if (!cJSON_IsArray(item))
        return bad_filter(call, "invalid argument 0: %s", "invalid addresses in query");
    const cJSON *a;
    cJSON_ArrayForEach(a, item)
    {
        if (q->f.address_count == LEDGER_FILTER_MAX_ADDRESSES)
            return bad_filter(call, "invalid argument 0: %s", "too many addresses in query");
        if (rpc_param_fixed(a, q->addresses[q->f.address_count], 20, err) != TC_OK)
            return bad_filter(call, "invalid argument 0: address: %s", err);
        q->f.address_count++;
    }
    return true;
}

/* One position of "topics": null (any), a topic, or an array of alternatives
 * in which a null, like an empty array, means any. */
static bool parse_topic_position(struct rpc_call *call, const cJSON *item, size_t pos,
                                 struct logs_query *q)
{
    char err[RPC_ERRMSG_LEN];
    size_t *count = &q->f.topic_counts[pos];
    if (cJSON_IsNull(item))
        return true;
    if (cJSON_IsString(item)) {
        if (rpc_param_fixed(item, q->topics[pos][0], 32, err) != TC_OK)
            return bad_filter(call, "invalid argument 0: topics: %s", err);
        *count = 1;
        return true;
    }
    if (!cJSON_IsArray(item))
        return bad_filter(call, "invalid argument 0: %s",
                          "topics: expected a topic, an array of topics or null");
    const cJSON *t;
    bool any = false;
    cJSON_ArrayForEach(t, item)
    {
        if (cJSON_IsNull(t)) {
            any = true;
            continue;
        }
        if (*count == LEDGER_FILTER_MAX_TOPICS)
            return bad_filter(call, "invalid argument 0: %s", "too many topics in query");
        if (rpc_param_fixed(t, q->topics[pos][*count], 32, err) != TC_OK)
            return bad_filter(call, "invalid argument 0: topics: %s", err);
        (*count)++;
    }
    if (any)
        *count = 0;
    return true;
}

static bool parse_filter_topics(struct rpc_call *call, const cJSON *item, struct logs_query *q)
{
    if (!item || cJSON_IsNull(item))
        return true;
    if (!cJSON_IsArray(item))
        return bad_filter(call, "invalid argument 0: %s", "topics: expected an array");
    if (cJSON_GetArraySize(item) > LOG_MAX_TOPICS)
        return bad_filter(call, "invalid argument 0: %s", "exceed max topics");
    size_t pos = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, item)
    {
        if (!parse_topic_position(call, t, pos, q))
            return false;
        q->f.topics[pos] = (const uint8_t(*)[32])q->topics[pos];
        pos++;
    }
    return true;
}

/* The block range: blockHash, or fromBlock..toBlock (each default latest). */
static bool parse_filter_range(struct rpc_call *call, const struct eth_api_deps *d,
                               const cJSON *obj, struct logs_query *q)
{
    char err[RPC_ERRMSG_LEN];
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive(obj, "blockHash");
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(obj, "fromBlock");
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(obj, "toBlock");
    if (hash && !cJSON_IsNull(hash)) {
        if ((from && !cJSON_IsNull(from)) || (to && !cJSON_IsNull(to)))
            return bad_filter(call, "invalid argument 0: %s",
                              "cannot specify both BlockHash and FromBlock/ToBlock, choose one "
                              "or the other");
        uint8_t h[32];
        bool found;
        if (rpc_param_fixed(hash, h, 32, err) != TC_OK)
            return bad_filter(call, "invalid argument 0: blockHash: %s", err);
        if (!block_by_hash(call, d, h, &q->f.from_block, &found))
            return false;
        if (!found) {
            rpc_call_error(call, RPC_SERVER_ERROR, "unknown block", NULL);
            return false;
        }
        q->f.to_block = q->f.from_block;
        return true;
    }
    bool found;
    if (from && cJSON_IsNull(from))
        from = NULL;
    if (to && cJSON_IsNull(to))
        to = NULL;
    if (!resolve_block(call, d, from, 0, false, &q->f.from_block, &found) ||
        !resolve_block(call, d, to, 0, false, &q->f.to_block, &found))
        return false;
    if (q->f.from_block > q->f.to_block) {
        rpc_call_error(call, RPC_SERVER_ERROR, "invalid block range params", NULL);
        return false;
    }
    return true;
}

static void eth_get_logs(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    if (!eth_api_check_params(call, params, 1, 1))
        return;
    const cJSON *obj = rpc_param_at(params, 0);
    if (!cJSON_IsObject(obj)) {
        rpc_call_invalid_param(call, 0, "expected a filter object");
        return;
    }
    struct logs_query *q = calloc(1, sizeof(*q));
    if (!q) {
        eth_api_internal_error(call, TC_ENOMEM);
        return;
    }
    q->f.addresses = (const uint8_t(*)[20])q->addresses;
    q->f.max_blocks = d->logs_max_blocks ? d->logs_max_blocks : ETH_API_LOGS_MAX_BLOCKS;
    q->f.max_logs = d->logs_max_results ? d->logs_max_results : ETH_API_LOGS_MAX_RESULTS;
    struct ledger_logs logs;
    memset(&logs, 0, sizeof(logs));
    if (!parse_filter_range(call, d, obj, q) ||
        !parse_filter_addresses(call, cJSON_GetObjectItemCaseSensitive(obj, "address"), q) ||
        !parse_filter_topics(call, cJSON_GetObjectItemCaseSensitive(obj, "topics"), q))
        goto out_free_query;
    /* The ledger cuts the range at the head: so does the range bound. */
    struct ledger_head head;
    ledger_head(d->ledger, &head);
    uint64_t to = q->f.to_block < head.number ? q->f.to_block : head.number;
    if (q->f.from_block <= to && to - q->f.from_block >= q->f.max_blocks) {
        rpc_call_errorf(call, RPC_LIMIT_EXCEEDED, NULL, "query exceeds max block range %llu",
                        (unsigned long long)q->f.max_blocks);
        goto out_free_query;
    }
    int rc = ledger_logs(d->ledger, &q->f, &logs);
    if (rc == TC_ETOOBIG) {
        rpc_call_errorf(call, RPC_LIMIT_EXCEEDED, NULL, "query returned more than %zu results",
                        q->f.max_logs);
    } else if (rc != TC_OK) {
        eth_api_internal_error(call, rc);
    } else {
        cJSON *arr = must(cJSON_CreateArray());
        for (size_t i = 0; i < logs.count; i++)
            push(arr, log_json(&logs.logs[i]));
        rpc_call_result(call, arr);
    }
    ledger_logs_free(&logs);
out_free_query:
    free(q);
}

/* ---- FISCO-style ---------------------------------------------------------- */

/*
 * Checks FISCO arguments: own_count arguments of the method, optionally
 * preceded by the group (which must be ours) and the node name. *first gets
 * the index of the first own argument. Completes call on error.
 */
static bool fisco_params(struct rpc_call *call, const struct eth_api_deps *d, const cJSON *params,
                         size_t own_count, size_t *first)
{
    if (!eth_api_check_params(call, params, own_count, own_count + 2))
        return false;
    size_t n = params ? (size_t)cJSON_GetArraySize(params) : 0;
    *first = n - own_count;
    for (size_t i = 0; i < *first; i++) {
        const cJSON *p = rpc_param_at(params, i);
        if (!cJSON_IsString(p)) {
            rpc_call_invalid_param(
                call, i, i == 0 ? "group must be a string" : "node name must be a string");
            return false;
        }
        if (i == 0 && strcmp(p->valuestring, d->genesis->group_id) != 0) {
            rpc_call_invalid_param(call, 0, "unknown group");
            return false;
        }
    }
    return true;
}

static void get_block_number(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    size_t first;
    struct ledger_head head;
    if (!fisco_params(call, d, params, 0, &first))
        return;
    ledger_head(d->ledger, &head);
    rpc_call_result(call, must(cJSON_CreateNumber((double)head.number)));
}

static void get_total_transaction_count(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    size_t first;
    struct ledger_head head;
    if (!fisco_params(call, d, params, 0, &first))
        return;
    ledger_head(d->ledger, &head);
    cJSON *o = must(cJSON_CreateObject());
    add(o, "blockNumber", cJSON_CreateNumber((double)head.number));
    add(o, "transactionCount", cJSON_CreateNumber((double)ledger_tx_count(d->ledger)));
    add(o, "failedTransactionCount", cJSON_CreateNumber((double)ledger_failed_tx_count(d->ledger)));
    rpc_call_result(call, o);
}

static void get_pending_tx_size(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    size_t first;
    struct txpool_stats st;
    if (!fisco_params(call, d, params, 0, &first))
        return;
    txpool_get_stats(d->txpool, &st);
    rpc_call_result(call,
                    must(cJSON_CreateNumber((double)(st.pending + st.future + st.in_flight))));
}

static void get_system_config_by_key(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    const struct genesis_config *g = d->genesis;
    size_t first;
    if (!fisco_params(call, d, params, 1, &first))
        return;
    const cJSON *key = rpc_param_at(params, first);
    if (!cJSON_IsString(key)) {
        rpc_call_invalid_param(call, first, "key must be a string");
        return;
    }
    char value[80];
    if (strcmp(key->valuestring, "tx_count_limit") == 0) {
        snprintf(value, sizeof(value), "%u", (unsigned)g->block_tx_count_limit);
    } else if (strcmp(key->valuestring, "tx_gas_limit") == 0) {
        snprintf(value, sizeof(value), "%llu", (unsigned long long)g->tx_gas_limit);
    } else if (strcmp(key->valuestring, "tx_gas_price") == 0) {
        if (!u256_fits_u64(g->gas_price)) {
            cJSON *q = rpc_quantity_u256(g->gas_price);
            snprintf(value, sizeof(value), "%s", q->valuestring);
            cJSON_Delete(q);
        } else {
            snprintf(value, sizeof(value), "%llu", (unsigned long long)u256_low_u64(g->gas_price));
        }
    } else {
        rpc_call_invalid_param(call, first, "unknown system config key");
        return;
    }
    struct ledger_head head;
    ledger_head(d->ledger, &head);
    cJSON *o = must(cJSON_CreateObject());
    add(o, "blockNumber", cJSON_CreateNumber((double)head.number));
    add(o, "value", cJSON_CreateString(value));
    rpc_call_result(call, o);
}

/*
 * The membership in the committed state (the consensus system contract's
 * storage, the genesis while it holds nothing). Completes call with -32603
 * and returns false when the state cannot be read or does not decode.
 */
static bool load_members(struct rpc_call *call, const struct eth_api_deps *d,
                         struct consensus_members *m)
{
    struct state_reader r = ledger_state_reader(d->ledger);
    int rc = syscontract_members_load(&r, d->genesis, m);
    if (rc != 0) {
        eth_api_internal_error(call, rc);
        return false;
    }
    return true;
}

static void get_sealer_list(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    size_t first;
    struct consensus_members m;
    if (!fisco_params(call, d, params, 0, &first) || !load_members(call, d, &m))
        return;
    cJSON *arr = must(cJSON_CreateArray());
    for (size_t i = 0; i < m.count; i++) {
        if (m.members[i].role != CONSENSUS_SEALER)
            continue;
        char hex[2 * NODE_ID_BYTES + 1];
        hex_encode(m.members[i].id, NODE_ID_BYTES, hex);
        cJSON *s = must(cJSON_CreateObject());
        add(s, "nodeID", cJSON_CreateString(hex));
        add(s, "weight", cJSON_CreateNumber(m.members[i].weight));
        push(arr, s);
    }
    rpc_call_result(call, arr);
}

/* FISCO BCOS 3.x's shape: an array of node ID strings. */
static void get_observer_list(struct rpc_call *call, const cJSON *params, void *ctx)
{
    const struct eth_api_deps *d = deps_of(ctx);
    size_t first;
    struct consensus_members m;
    if (!fisco_params(call, d, params, 0, &first) || !load_members(call, d, &m))
        return;
    cJSON *arr = must(cJSON_CreateArray());
    for (size_t i = 0; i < m.count; i++) {
        if (m.members[i].role != CONSENSUS_OBSERVER)
            continue;
        char hex[2 * NODE_ID_BYTES + 1];
        hex_encode(m.members[i].id, NODE_ID_BYTES, hex);
        push(arr, cJSON_CreateString(hex));
    }
    rpc_call_result(call, arr);
}

static void answer_node_json(struct rpc_call *call, const cJSON *params, void *ctx,
                             cJSON *(*fn)(void *ctx))
{
    const struct eth_api_deps *d = deps_of(ctx);
    size_t first;
    if (!fn) {
        rpc_call_errorf(call, RPC_METHOD_NOT_FOUND, NULL,
                        "the method %s does not exist/is not available", rpc_call_method(call));
        return;
    }
    if (!fisco_params(call, d, params, 0, &first))
        return;
    cJSON *v = fn(d->node_ctx);
    if (v)
        rpc_call_result(call, v);
    else
        rpc_call_error(call, RPC_INTERNAL_ERROR, "internal error", NULL);
}

static void get_consensus_status(struct rpc_call *call, const cJSON *params, void *ctx)
{
    answer_node_json(call, params, ctx, deps_of(ctx)->consensus_status);
}

static void get_sync_status(struct rpc_call *call, const cJSON *params, void *ctx)
{
    answer_node_json(call, params, ctx, deps_of(ctx)->sync_status);
}

static void get_node_info(struct rpc_call *call, const cJSON *params, void *ctx)
{
    answer_node_json(call, params, ctx, deps_of(ctx)->node_info);
}

/* ---- registration ----------------------------------------------------------- */

static const struct {
    const char *name;
    rpc_handler_fn fn;
} methods[] = {
    { "eth_chainId", eth_chain_id },
    { "net_version", net_version },
    { "net_listening", net_listening },
    { "net_peerCount", net_peer_count },
    { "web3_clientVersion", web3_client_version },
    { "eth_syncing", eth_syncing },
    { "eth_accounts", eth_accounts },
    { "eth_blockNumber", eth_block_number },
    { "eth_getBalance", eth_get_balance },
    { "eth_getTransactionCount", eth_get_transaction_count },
    { "eth_gasPrice", eth_gas_price },
    { "eth_maxPriorityFeePerGas", eth_max_priority_fee_per_gas },
    { "eth_feeHistory", eth_fee_history },
    { "eth_sendRawTransaction", eth_send_raw_transaction },
    { "eth_getTransactionByHash", eth_get_transaction_by_hash },
    { "eth_getTransactionReceipt", eth_get_transaction_receipt },
    { "eth_getBlockByNumber", eth_get_block_by_number },
    { "eth_getBlockByHash", eth_get_block_by_hash },
    { "eth_getBlockTransactionCountByNumber", eth_get_block_tx_count_by_number },
    { "eth_getBlockTransactionCountByHash", eth_get_block_tx_count_by_hash },
    { "eth_getTransactionByBlockNumberAndIndex", eth_get_tx_by_block_number_and_index },
    { "eth_getTransactionByBlockHashAndIndex", eth_get_tx_by_block_hash_and_index },
    { "eth_estimateGas", eth_api_estimate_gas },
    { "eth_call", eth_api_call },
    { "eth_getCode", eth_get_code },
    { "eth_getStorageAt", eth_get_storage_at },
    { "eth_getLogs", eth_get_logs },
    { "getBlockNumber", get_block_number },
    { "getTotalTransactionCount", get_total_transaction_count },
    { "getPendingTxSize", get_pending_tx_size },
    { "getSystemConfigByKey", get_system_config_by_key },
    { "getSealerList", get_sealer_list },
    { "getObserverList", get_observer_list },
    { "getConsensusStatus", get_consensus_status },
    { "getSyncStatus", get_sync_status },
    { "getNodeInfo", get_node_info },
};

int eth_api_register(struct rpc_server *s, const struct eth_api_deps *deps)
{
    if (!s || !deps || !deps->ledger || !deps->txpool || !deps->genesis || !deps->client_version)
        return TC_EINVAL;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        int rc = rpc_register(s, methods[i].name, methods[i].fn, (void *)deps);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}
