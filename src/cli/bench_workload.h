/*
 * bench_workload.h - the set-up of the contract workloads of `teechain
 * bench` (private to src/cli/bench*.c): deploy the benchmark contract, fund
 * the senders (erc20), measure the gas limit of the calls, and sample
 * receipts after the run. Blocking JSON-RPC calls on the first --rpc URL;
 * none of this is inside the measured window.
 */
#ifndef TC_CLI_BENCH_WORKLOAD_H
#define TC_CLI_BENCH_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/bench.h"

/*
 * For cfg->workload erc20 or kv: deploys the contract from seckeys[0]
 * (waits for its receipt and checks status 1), for erc20 funds senders 1..
 * count-1 with BENCH_TOKEN_FUNDING tokens each (all sent, then every
 * receipt waited for and checked), then measures the worst-case call with
 * eth_estimateGas. Fills contract, res->contract, res->measured_gas and
 * res->gas_limit (with BENCH_GAS_MARGIN_PERCENT). For transfer it only sets
 * res->gas_limit to 21000. Returns 0, or a negative TC_E* code with err
 * saying which step failed (a status-0 receipt is TC_EPERM).
 */
int bench_workload_setup(const struct bench_config *cfg, const uint8_t (*seckeys)[32],
                         const uint8_t (*addresses)[20], uint32_t count, struct bench_result *res,
                         uint8_t contract[20], FILE *progress, char *err, size_t err_len);

/*
 * Fetches the receipts of a random sample (bench_sample_size of `count`,
 * chosen with r) of the transactions whose hashes are given, and fills
 * res->sample_size, res->sample_status0 and res->sample_missing (a receipt
 * that could not be fetched or was null). Never fails the run.
 */
void bench_sample_receipts(const struct bench_config *cfg, const uint8_t (*hashes)[32],
                           uint64_t count, struct rng *r, struct bench_result *res);

#endif
