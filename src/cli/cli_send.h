/*
 * cli_send.h - `teechain send` and `teechain deploy`: build, sign and submit
 * a transaction (a value transfer, a contract call, or a contract creation)
 * over JSON-RPC, then wait for its receipt.
 *
 * Flow: eth_chainId; eth_getTransactionCount(sender, "pending") unless a
 * nonce is given; eth_gasPrice; sign a type-2 (EIP-1559) transaction with
 * maxFeePerGas = maxPriorityFeePerGas = the gas price (0 on a FISCO-like
 * chain), or a legacy EIP-155 one; eth_sendRawTransaction; then
 * eth_getTransactionReceipt every poll_ms until it is not null or wait_s
 * passed.
 *
 * Usage:
 *     struct cli_send_opts o = { .rpc_url = url, .value = v, ... };
 *     memcpy(o.seckey, key, 32); memcpy(o.to, to, 20);
 *     struct cli_send_result r;
 *     int rc = cli_send(&o, &r, err, sizeof(err));
 *     ... r.hash, r.receipt ...
 *     cli_send_result_free(&r);
 */
#ifndef TC_CLI_CLI_SEND_H
#define TC_CLI_CLI_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/bytes.h"
#include "base/u256.h"

#define CLI_SEND_DEFAULT_GAS     21000
#define CLI_SEND_DEFAULT_WAIT_S  30
#define CLI_SEND_DEFAULT_POLL_MS 250

struct cli_send_opts {
    const char *rpc_url;    /* NULL: RPC_CLIENT_DEFAULT_URL */
    uint32_t timeout_ms;    /* per RPC call; 0: RPC_CLIENT_DEFAULT_TIMEOUT_MS */
    uint8_t seckey[32];     /* the sender's key (the caller wipes it) */
    uint8_t to[20];         /* ignored when create is set */
    bool create;            /* a contract creation: no `to`, data is the init code */
    struct bytes_view data; /* call data or init code (borrowed); empty for a transfer */
    u256 value;             /* wei */
    uint64_t gas_limit;     /* 0: CLI_SEND_DEFAULT_GAS */
    bool has_nonce;
    uint64_t nonce;
    bool legacy;      /* legacy EIP-155 instead of EIP-1559 */
    uint32_t wait_s;  /* 0: submit only, do not wait */
    uint32_t poll_ms; /* 0: CLI_SEND_DEFAULT_POLL_MS */
};

struct cli_send_result {
    uint8_t hash[32]; /* valid once submitted */
    bool submitted;   /* eth_sendRawTransaction accepted it */
    cJSON *receipt;   /* the receipt object when mined, else NULL; owned */
};

/*
 * Runs the flow above. Returns 0 when the transaction was submitted and (if
 * wait_s > 0) mined; TC_ETIMEOUT when it was submitted but no receipt came
 * in time (r->submitted and r->hash are set); otherwise the rpc_client code
 * (err holds the client's message) or TC_EINVAL/TC_ECORRUPT for a bad key or
 * an answer of the wrong form. Free r with cli_send_result_free in every case.
 */
int cli_send(const struct cli_send_opts *o, struct cli_send_result *r, char *err, size_t err_len);

void cli_send_result_free(struct cli_send_result *r);

/* Reads a JSON-RPC quantity ("0x..." hex string) into *out: 0, TC_EINVAL or
 * TC_ERANGE (wider than 64 bits). */
int cli_json_u64(const cJSON *item, uint64_t *out);

#endif
