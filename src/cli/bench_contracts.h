/*
 * bench_contracts.h - the creation bytecode (hex, no 0x) of the contracts
 * that `teechain bench --workload erc20|kv` deploys: BenchToken (an ERC-20
 * minting its supply to the deployer) and BenchKV (set(key, value) writes
 * one slot). Generated into bench_contracts.c by bench/contracts/compile.js
 * from bench/contracts/BenchToken.sol and BenchKV.sol; static strings, never freed.
 */
#ifndef TC_CLI_BENCH_CONTRACTS_H
#define TC_CLI_BENCH_CONTRACTS_H

extern const char bench_token_creation_hex[];
extern const char bench_kv_creation_hex[];

#endif
