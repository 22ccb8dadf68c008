/*
 * eth_api_impl.h - private to the eth_api methods: the helpers that
 * eth_api.c (reads) and eth_call.c (eth_call, eth_estimateGas) share, and
 * the handlers eth_call.c registers through eth_api.c's method table.
 */
#ifndef TC_RPC_ETH_API_IMPL_H
#define TC_RPC_ETH_API_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "rpc/eth_api.h"
#include "rpc/rpc.h"

#define ETH_API_HIST_STATE_MSG "historical state is not available"

/* Completes call with -32603 "internal error: <rc's message>". */
void eth_api_internal_error(struct rpc_call *call, int rc);

/* Checks the parameter count; on failure completes call with -32602, false. */
bool eth_api_check_params(struct rpc_call *call, const cJSON *params, size_t min, size_t max);

/*
 * For state reads: item (parameter `index`, NULL for "latest") must name the
 * head; otherwise completes call (-32602, -32000 "header not found" or
 * ETH_API_HIST_STATE_MSG) and returns false.
 */
bool eth_api_require_head_state(struct rpc_call *call, const struct eth_api_deps *d,
                                const cJSON *item, size_t index);

/* The eth_call and eth_estimateGas handlers (eth_call.c); ctx is the deps. */
void eth_api_call(struct rpc_call *call, const cJSON *params, void *ctx);
void eth_api_estimate_gas(struct rpc_call *call, const cJSON *params, void *ctx);

#endif
