/* cli_send.c - sign and submit a transaction, then wait for its receipt. */
#include "cli/cli_send.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/error.h"
#include "chain/tx.h"
#include "cli/rpc_client.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"

int cli_json_u64(const cJSON *item, uint64_t *out)
{
    u256 v;
    if (!cJSON_IsString(item))
        return TC_EINVAL;
    int rc = u256_from_hex(item->valuestring, &v);
    if (rc != TC_OK)
        return rc == TC_ERANGE ? TC_ERANGE : TC_EINVAL;
    if (!u256_fits_u64(v))
        return TC_ERANGE;
    *out = v.w[0];
    return TC_OK;
}

static int json_u256(const cJSON *item, u256 *out)
{
    if (!cJSON_IsString(item) || u256_from_hex(item->valuestring, out) != TC_OK)
        return TC_EINVAL;
    return TC_OK;
}

/* Calls method and reads its result as a quantity. */
static int call_quantity(struct rpc_client *c, const char *method, const cJSON *params, u256 *out,
                         char *err, size_t err_len)
{
    cJSON *result = NULL;
    int rc = rpc_client_call(c, method, params, &result);
    if (rc != TC_OK) {
        snprintf(err, err_len, "%s: %s", method, c->err);
        return rc;
    }
    rc = json_u256(result, out);
    if (rc != TC_OK) {
        snprintf(err, err_len, "%s: expected a hex quantity in the answer", method);
        rc = TC_ECORRUPT;
    }
    cJSON_Delete(result);
    return rc;
}

static int fetch_nonce(struct rpc_client *c, const uint8_t sender[20], uint64_t *nonce, char *err,
                       size_t err_len)
{
    char addr[43] = "0x";
    hex_encode(sender, 20, addr + 2);
    cJSON *params = cJSON_CreateArray();
    if (params == NULL || !cJSON_AddItemToArray(params, cJSON_CreateString(addr)) ||
        !cJSON_AddItemToArray(params, cJSON_CreateString("pending"))) {
        cJSON_Delete(params);
        return TC_ENOMEM;
    }
    u256 v;
    int rc = call_quantity(c, "eth_getTransactionCount", params, &v, err, err_len);
    cJSON_Delete(params);
    if (rc == TC_OK && !u256_fits_u64(v)) {
        snprintf(err, err_len, "eth_getTransactionCount: nonce beyond 64 bits");
        rc = TC_ECORRUPT;
    }
    if (rc == TC_OK)
        *nonce = v.w[0];
    return rc;
}

static int submit(struct rpc_client *c, const struct bytes *raw, struct cli_send_result *r,
                  char *err, size_t err_len)
{
    char *hex = malloc(raw->len * 2 + 3);
    cJSON *params = cJSON_CreateArray();
    cJSON *result = NULL;
    int rc = TC_ENOMEM;
    if (hex == NULL || params == NULL)
        goto out_free;
    hex[0] = '0';
    hex[1] = 'x';
    hex_encode(raw->ptr, raw->len, hex + 2);
    if (!cJSON_AddItemToArray(params, cJSON_CreateString(hex)))
        goto out_free;
    rc = rpc_client_call(c, "eth_sendRawTransaction", params, &result);
    if (rc != TC_OK) {
        snprintf(err, err_len, "eth_sendRawTransaction: %s", c->err);
        goto out_free;
    }
    uint8_t answered[32];
    if (!cJSON_IsString(result) || hex_decode_exact(result->valuestring, answered, 32) != TC_OK ||
        memcmp(answered, r->hash, 32) != 0) {
        snprintf(err, err_len, "eth_sendRawTransaction: the node answered another hash");
        rc = TC_ECORRUPT;
        goto out_free;
    }
    r->submitted = true;
out_free:
    cJSON_Delete(result);
    cJSON_Delete(params);
    free(hex);
    return rc;
}

static int wait_receipt(struct rpc_client *c, const struct cli_send_opts *o,
                        struct cli_send_result *r, char *err, size_t err_len)
{
    char hash[67] = "0x";
    hex_encode(r->hash, 32, hash + 2);
    uint32_t poll_ms = o->poll_ms != 0 ? o->poll_ms : CLI_SEND_DEFAULT_POLL_MS;
    uint64_t deadline_ms = clock_monotonic_ms() + (uint64_t)o->wait_s * 1000;
    cJSON *params = cJSON_CreateArray();
    if (params == NULL || !cJSON_AddItemToArray(params, cJSON_CreateString(hash))) {
        cJSON_Delete(params);
        return TC_ENOMEM;
    }
    int rc = TC_ETIMEOUT;
    for (;;) {
        cJSON *result = NULL;
        int call = rpc_client_call(c, "eth_getTransactionReceipt", params, &result);
        if (call != TC_OK) {
            snprintf(err, err_len, "eth_getTransactionReceipt: %s", c->err);
            rc = call;
            break;
        }
        if (cJSON_IsObject(result)) {
            r->receipt = result;
            rc = TC_OK;
            break;
        }
        cJSON_Delete(result);
        if (clock_monotonic_ms() + poll_ms > deadline_ms) {
            snprintf(err, err_len, "transaction %s not mined within %u s", hash,
                     (unsigned)o->wait_s);
            break;
        }
        clock_sleep_ms(poll_ms);
    }
    cJSON_Delete(params);
    return rc;
}

int cli_send(const struct cli_send_opts *o, struct cli_send_result *r, char *err, size_t err_len)
{
    struct rpc_client c;
    struct tx tx;
    struct bytes raw;
    uint8_t sender[20];
    u256 chain_id, gas_price;
    memset(r, 0, sizeof(*r));
    int rc = rpc_client_init(&c, o->rpc_url != NULL ? o->rpc_url : RPC_CLIENT_DEFAULT_URL,
                             o->timeout_ms != 0 ? o->timeout_ms : RPC_CLIENT_DEFAULT_TIMEOUT_MS);
    if (rc != TC_OK) {
        snprintf(err, err_len, "%s", c.err);
        return rc;
    }
    if (ecdsa_address_from_seckey(o->seckey, sender) != TC_OK) {
        snprintf(err, err_len, "invalid private key");
        return TC_EINVAL;
    }
    memset(&tx, 0, sizeof(tx));
    if ((rc = call_quantity(&c, "eth_chainId", NULL, &chain_id, err, err_len)) != TC_OK)
        return rc;
    if (!u256_fits_u64(chain_id) || u256_is_zero(chain_id)) {
        snprintf(err, err_len, "eth_chainId: chain id out of range");
        return TC_ECORRUPT;
    }
    tx.nonce = o->nonce;
    if (!o->has_nonce && (rc = fetch_nonce(&c, sender, &tx.nonce, err, err_len)) != TC_OK)
        return rc;
    if ((rc = call_quantity(&c, "eth_gasPrice", NULL, &gas_price, err, err_len)) != TC_OK)
        return rc;
    tx.type = o->legacy ? TX_LEGACY : TX_DYNAMIC_FEE;
    tx.eip155 = o->legacy;
    tx.chain_id = chain_id.w[0];
    tx.gas_price = gas_price;
    tx.max_fee_per_gas = gas_price;
    tx.max_priority_fee_per_gas = gas_price;
    tx.gas_limit = o->gas_limit != 0 ? o->gas_limit : CLI_SEND_DEFAULT_GAS;
    tx.has_to = !o->create;
    if (tx.has_to)
        memcpy(tx.to, o->to, 20);
    tx.value = o->value;
    tx.data = o->data;
    if (tx_sign(&tx, o->seckey) != TC_OK) {
        snprintf(err, err_len, "cannot sign the transaction");
        return TC_ECRYPTO;
    }
    bytes_init(&raw);
    if ((rc = tx_encode(&tx, &raw)) != TC_OK) {
        snprintf(err, err_len, "out of memory");
        goto out_free_raw;
    }
    keccak256(raw.ptr, raw.len, r->hash);
    if ((rc = submit(&c, &raw, r, err, err_len)) != TC_OK)
        goto out_free_raw;
    if (o->wait_s > 0)
        rc = wait_receipt(&c, o, r, err, err_len);
out_free_raw:
    bytes_free(&raw);
    return rc;
}

void cli_send_result_free(struct cli_send_result *r)
{
    cJSON_Delete(r->receipt);
    r->receipt = NULL;
}
