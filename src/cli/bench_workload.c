/* bench_workload.c - the erc20 and kv workloads of `teechain bench`: call
 * data, recipient choice, and the set-up and receipt sample run around the
 * measured window. */
#include "cli/bench_workload.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/mem.h"
#include "base/u256.h"
#include "cli/bench_contracts.h"
#include "cli/cli_contract.h"
#include "cli/cli_send.h"
#include "cli/cli_util.h"
#include "cli/rpc_client.h"

/* Selectors: the first 4 bytes of keccak256 of the signature. */
static const uint8_t transfer_selector[4] = { 0xa9, 0x05, 0x9c,
                                              0xbb };              /* transfer(address,uint256) */
static const uint8_t set_selector[4] = { 0x1a, 0xb0, 0x6e, 0xe5 }; /* set(uint256,uint256) */
/* Funding transfers sent before their receipts are waited for. */
#define FUNDING_MAX_IN_FLIGHT 1000u

const char *bench_workload_name(enum bench_workload w)
{
    switch (w) {
    case BENCH_WORKLOAD_ERC20:
        return "erc20";
    case BENCH_WORKLOAD_KV:
        return "kv";
    case BENCH_WORKLOAD_TRANSFER:
    default:
        return "transfer";
    }
}

static void put_u64_word(uint64_t v, uint8_t word[32])
{
    memset(word, 0, 32);
    for (int i = 0; i < 8; i++)
        word[31 - i] = (uint8_t)(v >> (8 * i));
}

void bench_erc20_transfer_calldata(const uint8_t to[20], uint64_t amount, uint8_t out[68])
{
    memcpy(out, transfer_selector, 4);
    memset(out + 4, 0, 12);
    memcpy(out + 16, to, 20);
    put_u64_word(amount, out + 36);
}

void bench_kv_set_calldata(uint64_t key, uint64_t value, uint8_t out[68])
{
    memcpy(out, set_selector, 4);
    put_u64_word(key, out + 4);
    put_u64_word(value, out + 36);
}

uint32_t bench_pick_recipient(struct rng *r, uint32_t from, uint32_t senders)
{
    if (senders < 2)
        return from;
    /* uniform over the senders other than `from` */
    uint32_t k = (uint32_t)rng_below(r, senders - 1);
    return k >= from ? k + 1 : k;
}

uint64_t bench_gas_with_margin(uint64_t measured)
{
    return measured / 100 * BENCH_GAS_MARGIN_PERCENT +
           (measured % 100) * BENCH_GAS_MARGIN_PERCENT / 100;
}

uint64_t bench_sample_size(uint64_t committed)
{
    uint64_t n = (committed * BENCH_STATUS_SAMPLE_PERMILLE + 999) / 1000;
    return n > committed ? committed : n;
}

/* ---- set-up ---------------------------------------------------------------- */

static void address_hex(const uint8_t a[20], char out[43])
{
    out[0] = '0';
    out[1] = 'x';
    hex_encode(a, 20, out + 2);
}

static void hash_hex(const uint8_t h[32], char out[67])
{
    out[0] = '0';
    out[1] = 'x';
    hex_encode(h, 32, out + 2);
}

/*
 * Waits up to BENCH_SETUP_WAIT_S for the receipt of `hash` and checks its
 * status is 1. Fills *receipt (caller frees) when given.
 */
static int wait_receipt(struct rpc_client *c, const uint8_t hash[32], const char *what,
                        cJSON **receipt, char *err, size_t err_len)
{
    char hex[67];
    hash_hex(hash, hex);
    uint64_t deadline_us = clock_monotonic_us() + (uint64_t)BENCH_SETUP_WAIT_S * 1000000;
    for (;;) {
        cJSON *params = cJSON_CreateArray();
        if (params == NULL || !cJSON_AddItemToArray(params, cJSON_CreateString(hex))) {
            cJSON_Delete(params);
            return TC_ENOMEM;
        }
        cJSON *result = NULL;
        int rc = rpc_client_call(c, "eth_getTransactionReceipt", params, &result);
        cJSON_Delete(params);
        if (rc != TC_OK) {
            tc_errorf(err, err_len, "%s: eth_getTransactionReceipt: %s", what, c->err);
            return rc;
        }
        if (cJSON_IsObject(result)) {
            uint64_t status = 0;
            if (cli_json_u64(cJSON_GetObjectItemCaseSensitive(result, "status"), &status) !=
                    TC_OK ||
                status != 1) {
                tc_errorf(err, err_len, "%s: transaction %s failed (receipt status 0)", what, hex);
                cJSON_Delete(result);
                return TC_EPERM;
            }
            if (receipt != NULL)
                *receipt = result;
            else
                cJSON_Delete(result);
            return TC_OK;
        }
        cJSON_Delete(result);
        if (clock_monotonic_us() >= deadline_us) {
            tc_errorf(err, err_len, "%s: no receipt for %s within %u s", what, hex,
                      BENCH_SETUP_WAIT_S);
            return TC_ETIMEOUT;
        }
        clock_sleep_ms(50);
    }
}

/* eth_estimateGas of a call (to == NULL: a creation) from `from`. */
static int estimate(struct rpc_client *c, const uint8_t from[20], const uint8_t *to,
                    struct bytes_view data, const char *what, uint64_t *gas, char *err,
                    size_t err_len)
{
    cJSON *call = cli_call_object(from, to, u256_zero(), data);
    if (call == NULL)
        return TC_ENOMEM;
    struct cli_revert rev;
    cli_revert_init(&rev);
    char why[256] = "";
    int rc = cli_estimate_gas(c, call, gas, &rev, why, sizeof(why));
    if (rc != TC_OK)
        tc_errorf(err, err_len, "%s: eth_estimateGas%s: %s", what,
                  rev.reverted ? " (reverted)" : "", why[0] != '\0' ? why : c->err);
    cli_revert_free(&rev);
    cJSON_Delete(call);
    return rc;
}

/* Sends one set-up transaction without waiting; fills hash. */
static int submit(const struct bench_config *cfg, const uint8_t seckey[32], const uint8_t *to,
                  struct bytes_view data, uint64_t gas_limit, uint64_t nonce, uint8_t hash[32],
                  const char *what, char *err, size_t err_len)
{
    struct cli_send_opts o;
    memset(&o, 0, sizeof(o));
    o.rpc_url = cfg->rpc_urls[0];
    memcpy(o.seckey, seckey, 32);
    o.create = to == NULL;
    if (to != NULL)
        memcpy(o.to, to, 20);
    o.data = data;
    o.value = u256_zero();
    o.gas_limit = gas_limit;
    o.has_nonce = true;
    o.nonce = nonce;
    struct cli_send_result r;
    char why[512] = "";
    int rc = cli_send(&o, &r, why, sizeof(why));
    if (rc == TC_OK)
        memcpy(hash, r.hash, 32);
    else
        tc_errorf(err, err_len, "%s: %s", what, why[0] != '\0' ? why : tc_strerror(rc));
    cli_send_result_free(&r);
    memset(o.seckey, 0, sizeof(o.seckey));
    return rc;
}

static int pending_nonce(struct rpc_client *c, const uint8_t address[20], uint64_t *nonce,
                         char *err, size_t err_len)
{
    char hex[43];
    address_hex(address, hex);
    cJSON *params = cJSON_CreateArray();
    if (params == NULL || !cJSON_AddItemToArray(params, cJSON_CreateString(hex)) ||
        !cJSON_AddItemToArray(params, cJSON_CreateString("pending"))) {
        cJSON_Delete(params);
        return TC_ENOMEM;
    }
    cJSON *result = NULL;
    int rc = rpc_client_call(c, "eth_getTransactionCount", params, &result);
    cJSON_Delete(params);
    if (rc == TC_OK && cli_json_u64(result, nonce) != TC_OK)
        rc = TC_ECORRUPT;
    if (rc != TC_OK)
        tc_errorf(err, err_len, "eth_getTransactionCount: %s",
                  rc == TC_ECORRUPT ? "not a quantity" : c->err);
    cJSON_Delete(result);
    return rc;
}

static int deploy(const struct bench_config *cfg, struct rpc_client *c, const uint8_t seckey[32],
                  const uint8_t deployer[20], uint64_t *nonce, uint8_t contract[20], char *err,
                  size_t err_len)
{
    const char *hex =
        cfg->workload == BENCH_WORKLOAD_ERC20 ? bench_token_creation_hex : bench_kv_creation_hex;
    const char *what =
        cfg->workload == BENCH_WORKLOAD_ERC20 ? "deploying BenchToken" : "deploying BenchKV";
    struct bytes code;
    bytes_init(&code);
    int rc = hex_decode_alloc(hex, true, &code);
    uint64_t gas = 0;
    uint8_t hash[32];
    cJSON *receipt = NULL;
    if (rc != TC_OK) {
        tc_errorf(err, err_len, "%s: the compiled-in bytecode is not hex", what);
        goto out_free_code;
    }
    if ((rc = estimate(c, deployer, NULL, bytes_as_view(&code), what, &gas, err, err_len)) !=
            TC_OK ||
        (rc = submit(cfg, seckey, NULL, bytes_as_view(&code), bench_gas_with_margin(gas),
                     (*nonce)++, hash, what, err, err_len)) != TC_OK ||
        (rc = wait_receipt(c, hash, what, &receipt, err, err_len)) != TC_OK)
        goto out_free_code;
    const cJSON *addr = cJSON_GetObjectItemCaseSensitive(receipt, "contractAddress");
    if (!cJSON_IsString(addr) || hex_decode_exact(addr->valuestring, contract, 20) != TC_OK) {
        tc_errorf(err, err_len, "%s: the receipt has no contractAddress", what);
        rc = TC_ECORRUPT;
    }
    cJSON_Delete(receipt);
out_free_code:
    bytes_free(&code);
    return rc;
}

/* Token transfers of BENCH_TOKEN_FUNDING from sender 0 to senders 1..count-1. */
static int fund(const struct bench_config *cfg, struct rpc_client *c, const uint8_t (*seckeys)[32],
                const uint8_t (*addresses)[20], uint32_t count, uint64_t *nonce,
                const uint8_t contract[20], FILE *progress, char *err, size_t err_len)
{
    if (count < 2)
        return TC_OK;
    uint8_t data[68];
    uint64_t gas = 0;
    bench_erc20_transfer_calldata(addresses[1], BENCH_TOKEN_FUNDING, data);
    int rc = estimate(c, addresses[0], contract, bytes_view_of(data, sizeof(data)),
                      "funding the senders", &gas, err, err_len);
    if (rc != TC_OK)
        return rc;
    gas = bench_gas_with_margin(gas);
    uint8_t(*hashes)[32] = xcalloc(FUNDING_MAX_IN_FLIGHT, sizeof(*hashes));
    for (uint32_t first = 1; first < count && rc == TC_OK; first += FUNDING_MAX_IN_FLIGHT) {
        uint32_t end =
            count - first > FUNDING_MAX_IN_FLIGHT ? first + FUNDING_MAX_IN_FLIGHT : count;
        for (uint32_t i = first; i < end && rc == TC_OK; i++) {
            bench_erc20_transfer_calldata(addresses[i], BENCH_TOKEN_FUNDING, data);
            rc = submit(cfg, seckeys[0], contract, bytes_view_of(data, sizeof(data)), gas,
                        (*nonce)++, hashes[i - first], "funding the senders", err, err_len);
        }
        for (uint32_t i = first; i < end && rc == TC_OK; i++)
            rc = wait_receipt(c, hashes[i - first], "funding the senders", NULL, err, err_len);
        if (progress != NULL && rc == TC_OK)
            fprintf(progress, "funded %u of %u senders with tokens\n", (unsigned)(end - 1),
                    (unsigned)(count - 1));
    }
    free(hashes);
    return rc;
}

/* The worst-case measured call: a transfer to / a set of something never written. */
static int measure_gas(const struct bench_config *cfg, struct rpc_client *c, const uint8_t from[20],
                       const uint8_t contract[20], uint64_t *gas, char *err, size_t err_len)
{
    uint8_t data[68];
    if (cfg->workload == BENCH_WORKLOAD_ERC20) {
        uint8_t fresh[20];
        memset(fresh, 0xee, sizeof(fresh)); /* holds no token: its balance slot is zero */
        bench_erc20_transfer_calldata(fresh, 1, data);
    } else {
        bench_kv_set_calldata(UINT64_MAX, 1, data); /* beyond every key a run uses */
    }
    return estimate(c, from, contract, bytes_view_of(data, sizeof(data)),
                    "measuring the gas of a call", gas, err, err_len);
}

int bench_workload_setup(const struct bench_config *cfg, const uint8_t (*seckeys)[32],
                         const uint8_t (*addresses)[20], uint32_t count, struct bench_result *res,
                         uint8_t contract[20], FILE *progress, char *err, size_t err_len)
{
    if (cfg->workload == BENCH_WORKLOAD_TRANSFER) {
        res->gas_limit = CLI_SEND_DEFAULT_GAS;
        return TC_OK;
    }
    struct rpc_client c;
    int rc = rpc_client_init(&c, cfg->rpc_urls[0], RPC_CLIENT_DEFAULT_TIMEOUT_MS);
    if (rc != TC_OK) {
        tc_errorf(err, err_len, "%s", c.err);
        return rc;
    }
    uint64_t t0 = clock_monotonic_us();
    uint64_t nonce = 0;
    if ((rc = pending_nonce(&c, addresses[0], &nonce, err, err_len)) != TC_OK ||
        (rc = deploy(cfg, &c, seckeys[0], addresses[0], &nonce, contract, err, err_len)) != TC_OK)
        return rc;
    address_hex(contract, res->contract);
    if (progress != NULL)
        fprintf(progress, "deployed %s at %s\n",
                cfg->workload == BENCH_WORKLOAD_ERC20 ? "BenchToken" : "BenchKV", res->contract);
    if (cfg->workload == BENCH_WORKLOAD_ERC20 &&
        (rc = fund(cfg, &c, seckeys, addresses, count, &nonce, contract, progress, err, err_len)) !=
            TC_OK)
        return rc;
    /* from the last sender: it holds tokens once funded (or is the deployer) */
    if ((rc = measure_gas(cfg, &c, addresses[count - 1], contract, &res->measured_gas, err,
                          err_len)) != TC_OK)
        return rc;
    res->gas_limit = bench_gas_with_margin(res->measured_gas);
    res->setup_s = (double)(clock_monotonic_us() - t0) / 1e6;
    return TC_OK;
}

/* ---- receipt sample -------------------------------------------------------- */

void bench_sample_receipts(const struct bench_config *cfg, const uint8_t (*hashes)[32],
                           uint64_t count, struct rng *r, struct bench_result *res)
{
    uint64_t n = bench_sample_size(count);
    res->sample_size = n;
    if (n == 0)
        return;
    struct rpc_client c;
    uint64_t *pick = xcalloc(count, sizeof(*pick));
    for (uint64_t i = 0; i < count; i++)
        pick[i] = i;
    /* a partial Fisher-Yates shuffle: the first n are a uniform sample */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t j = i + rng_below(r, count - i);
        uint64_t t = pick[i];
        pick[i] = pick[j];
        pick[j] = t;
    }
    bool connected = rpc_client_init(&c, cfg->rpc_urls[0], RPC_CLIENT_DEFAULT_TIMEOUT_MS) == TC_OK;
    for (uint64_t i = 0; i < n; i++) {
        char hex[67];
        hash_hex(hashes[pick[i]], hex);
        cJSON *params = cJSON_CreateArray();
        cJSON *result = NULL;
        uint64_t status = 0;
        if (!connected || params == NULL ||
            !cJSON_AddItemToArray(params, cJSON_CreateString(hex)) ||
            rpc_client_call(&c, "eth_getTransactionReceipt", params, &result) != TC_OK ||
            !cJSON_IsObject(result) ||
            cli_json_u64(cJSON_GetObjectItemCaseSensitive(result, "status"), &status) != TC_OK)
            res->sample_missing++;
        else if (status == 0)
            res->sample_status0++;
        cJSON_Delete(result);
        cJSON_Delete(params);
    }
    free(pick);
}
