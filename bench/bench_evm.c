/*
 * bench_evm.c - interpreter throughput in Mgas/s on hand-assembled
 * bytecode: a tight arithmetic loop, a KECCAK256 loop, a memory-copy loop
 * (MCOPY of 4 KiB), a storage loop (SLOAD + SSTORE over 64 slots) and an
 * ERC-20 style transfer (two mapping slots, a Transfer log); the transfer
 * of the solc-built ERC-20 of the end-to-end tests (tests/e2e/contracts/
 * Token.sol); and, for the precompile's price/speed ratio, a call of the
 * bn256 pairing check with two pairs.
 *
 * Usage: bench_evm [--dump DIR] [passes]
 *
 * With --dump, each workload is first run once more, untimed, and written
 * to DIR/<nn>-<name>.json: code, calldata, gas, runs per pass, the whole
 * pre-state (accounts, storage, warm addresses) and the result of that run
 * (gas used, output, number of logs), so that another engine can run exactly
 * the same thing (bench/evm-floor/ runs them on @ethereumjs/vm).
 *
 * Each workload is one message run by evm_execute against the in-memory
 * test host of the unit tests (tests/unit/evm/test_host.h), whose state is
 * rolled back after every run, so that every run does the same work. The
 * figure is gas used divided by wall time, best of `passes` passes (on a
 * shared machine the fastest pass is the one that was not preempted). The
 * storage and ERC-20 figures include the test host's (linear-search) state
 * access; the others are almost pure interpreter.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "evm/evm.h"

#include "../tests/unit/evm/test_host.h"

#define CONTRACT_ID 0x1000
#define CALLER_ID   0x2000
#define TOKEN_TO_ID 0x4000

struct workload {
    const char *name;
    const char *code_hex;
    int64_t gas;           /* per run */
    int runs;              /* per pass */
    bool erc20;            /* calldata (to, 1) and funded sender and recipient */
    uint8_t balances_slot; /* erc20: storage slot of the balances mapping */
    bool abi;              /* erc20: calldata starts with transfer's selector */
    bool pairing;          /* calldata: two pairs whose product is 1 */
};

/* [acc, n] -> loop: acc = (acc * 3 + n) ^ 7; n -= 1; while n != 0 */
#define ARITH_LOOP                                                                                 \
    "5f6300100000"                                                                                 \
    "5b"                                                                                           \
    "90600302"                                                                                     \
    "8101"                                                                                         \
    "600718"                                                                                       \
    "90"                                                                                           \
    "60019003"                                                                                     \
    "80600657"                                                                                     \
    "00"
/* n iterations of mem[0..32) = keccak256(mem[0..64)) */
#define KECCAK_LOOP                                                                                \
    "630001000"                                                                                    \
    "0"                                                                                            \
    "5b"                                                                                           \
    "60405f20"                                                                                     \
    "5f52"                                                                                         \
    "60019003"                                                                                     \
    "80600557"                                                                                     \
    "00"
/* n iterations of MCOPY(dst 4096, src 0, 4096) */
#define MCOPY_LOOP                                                                                 \
    "6300010000"                                                                                   \
    "5b"                                                                                           \
    "6110005f6110005e"                                                                             \
    "60019003"                                                                                     \
    "80600557"                                                                                     \
    "00"
/* n iterations of slot[n & 63] += 1 */
#define SSTORE_LOOP                                                                                \
    "6300010000"                                                                                   \
    "5b"                                                                                           \
    "603f8116"                                                                                     \
    "8054"                                                                                         \
    "600101"                                                                                       \
    "9055"                                                                                         \
    "60019003"                                                                                     \
    "80600557"                                                                                     \
    "00"
#define ERC20                                                                                      \
    "600756"                                                                                       \
    "5b5f5ffd"                                                                                     \
    "5b"                                                                                           \
    "335f52"                                                                                       \
    "5f602052"                                                                                     \
    "60405f20"                                                                                     \
    "8054"                                                                                         \
    "602035"                                                                                       \
    "808210"                                                                                       \
    "600357"                                                                                       \
    "808203"                                                                                       \
    "8355"                                                                                         \
    "5f355f52"                                                                                     \
    "60405f20"                                                                                     \
    "8054"                                                                                         \
    "8201"                                                                                         \
    "9055"                                                                                         \
    "5f52"                                                                                         \
    "5f3533"                                                                                       \
    "7fddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"                           \
    "60205fa3"                                                                                     \
    "60015f5260205ff3"

/*
 * Runtime code of tests/e2e/contracts/Token.sol, printed by
 * `NODE_PATH=<build>/tests/e2e/npm/node_modules node bench/evm-floor/token-runtime.js`
 * (solc 0.8.37+commit.f401782d, pinned by tests/e2e/package.json; optimizer
 * on, 200 runs; EVM version cancun). Storage slots: name 0, symbol 1,
 * totalSupply 2, balanceOf 3, allowance 4.
 */
#define TOKEN_RUNTIME                                                                              \
    "608060405234801561000f575f5ffd5b5060043610610090575f3560e01c8063313ce5671161006357806331"     \
    "3ce567146100ff57806370a082311461011957806395d89b4114610138578063a9059cbb14610140578063dd"     \
    "62ed3e14610153575f5ffd5b806306fdde0314610094578063095ea7b3146100b257806318160ddd146100d5"     \
    "57806323b872dd146100ec575b5f5ffd5b61009c61017d565b6040516100a991906104ad565b604051809103"     \
    "90f35b6100c56100c03660046104fd565b610208565b60405190151581526020016100a9565b6100de600254"     \
    "81565b6040519081526020016100a9565b6100c56100fa366004610525565b6102c8565b610107601281565b"     \
    "60405160ff90911681526020016100a9565b6100de61012736600461055f565b60036020525f908152604090"     \
    "205481565b61009c610359565b6100c561014e3660046104fd565b610366565b6100de61016136600461057f"     \
    "565b600460209081525f928352604080842090915290825290205481565b5f8054610189906105b0565b8060"     \
    "1f01602080910402602001604051908101604052809291908181526020018280546101b5906105b0565b8015"     \
    "6102005780601f106101d757610100808354040283529160200191610200565b820191905f5260205f20905b"     \
    "8154815290600101906020018083116101e357829003601f168201915b505050505081565b5f6001600160a0"     \
    "1b0383166102645760405162461bcd60e51b815260206004820152601b60248201527f617070726f76652074"     \
    "6f20746865207a65726f2061646472657373000000000060448201526064015b60405180910390fd5b335f81"     \
    "81526004602090815260408083206001600160a01b0388168085529083529281902086905551858152919291"     \
    "7f8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925910160405180910390a350"     \
    "60015b92915050565b6001600160a01b0383165f908152600460209081526040808320338452909152812054"     \
    "828110156103165760405163054365bb60e31b8152600481018290526024810184905260440161025b565b61"     \
    "032083826105fc565b6001600160a01b0386165f908152600460209081526040808320338452909152902055"     \
    "61034e85858561037b565b506001949350505050565b60018054610189906105b0565b5f6103723384846103"     \
    "7b565b50600192915050565b6001600160a01b0382166103d15760405162461bcd60e51b8152602060048201"     \
    "52601c60248201527f7472616e7366657220746f20746865207a65726f206164647265737300000000604482"     \
    "015260640161025b565b6001600160a01b0383165f9081526003602052604090205481811015610414576040"     \
    "5163cf47918160e01b8152600481018290526024810183905260440161025b565b61041e82826105fc565b60"     \
    "01600160a01b038086165f908152600360205260408082209390935590851681529081208054849290610453"     \
    "90849061060f565b92505081905550826001600160a01b0316846001600160a01b03167fddf252ad1be2c89b"     \
    "69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef8460405161049f91815260200190565b60405180"     \
    "910390a350505050565b602081525f82518060208401528060208501604085015e5f60408285010152604060"     \
    "1f19601f83011684010191505092915050565b80356001600160a01b03811681146104f8575f5ffd5b919050"     \
    "565b5f5f6040838503121561050e575f5ffd5b610517836104e2565b946020939093013593505050565b5f5f"     \
    "5f60608486031215610537575f5ffd5b610540846104e2565b925061054e602085016104e2565b9295929450"     \
    "50506040919091013590565b5f6020828403121561056f575f5ffd5b610578826104e2565b9392505050565b"     \
    "5f5f60408385031215610590575f5ffd5b610599836104e2565b91506105a7602084016104e2565b90509250"     \
    "929050565b600181811c908216806105c457607f821691505b6020821081036105e257634e487b7160e01b5f"     \
    "52602260045260245ffd5b50919050565b634e487b7160e01b5f52601160045260245ffd5b81810381811115"     \
    "6102c2576102c26105e8565b808201808211156102c2576102c26105e856fea264697066735822122053e414"     \
    "f8a1485acde28721b0262deceeccb3f9dde4cca183eaf9e9b94915876764736f6c63430008250033"
/* transfer(address,uint256) */
#define TOKEN_TRANSFER_SELECTOR "a9059cbb"

/* CALLDATACOPY the input to memory, STATICCALL(gas, 0x08, 0, size, 0, 32) */
#define PAIRING_CALL                                                                               \
    "365f5f37"                                                                                     \
    "60205f365f60085afa"                                                                           \
    "00"
/* e(G1, G2) e(-G1, G2), with the generators of EIP-197 */
#define PAIRING_INPUT                                                                              \
    "0000000000000000000000000000000000000000000000000000000000000001"                             \
    "0000000000000000000000000000000000000000000000000000000000000002"                             \
    "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"                             \
    "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"                             \
    "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"                             \
    "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"                             \
    "0000000000000000000000000000000000000000000000000000000000000001"                             \
    "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd45"                             \
    "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"                             \
    "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"                             \
    "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"                             \
    "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"

static const struct workload WORKLOADS[] = {
    { .name = "arithmetic loop", .code_hex = ARITH_LOOP, .gas = INT64_MAX / 2, .runs = 1 },
    { .name = "keccak256 loop", .code_hex = KECCAK_LOOP, .gas = INT64_MAX / 2, .runs = 1 },
    { .name = "mcopy 4 KiB loop", .code_hex = MCOPY_LOOP, .gas = INT64_MAX / 2, .runs = 1 },
    { .name = "storage loop", .code_hex = SSTORE_LOOP, .gas = INT64_MAX / 2, .runs = 1 },
    { .name = "erc20 transfer", .code_hex = ERC20, .gas = 100000, .runs = 20000, .erc20 = true },
    { .name = "erc20 solc transfer",
      .code_hex = TOKEN_RUNTIME,
      .gas = 100000,
      .runs = 20000,
      .erc20 = true,
      .balances_slot = 3,
      .abi = true },
    { .name = "bn256 pairing x2",
      .code_hex = PAIRING_CALL,
      .gas = 200000,
      .runs = 20,
      .pairing = true },
};

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (hex_decode(hex, strlen(hex), out, cap, &n) != 0) {
        fprintf(stderr, "bench_evm: bad bytecode\n");
        exit(1);
    }
    return n;
}

/* keccak256(addr as a word ++ mapping slot): the ERC-20 balance slot. */
static u256 balance_slot(const evm_address *a, uint8_t mapping_slot)
{
    uint8_t buf[64] = { 0 };
    uint8_t h[32];
    memcpy(buf + 12, a->bytes, 20);
    buf[63] = mapping_slot;
    keccak256(buf, sizeof(buf), h);
    return u256_from_be_bytes(h, 32);
}

/* The one message of a workload: a call of the contract by the caller. */
static struct evm_message message_of(const struct workload *w, const uint8_t *input,
                                     size_t input_len)
{
    struct evm_message msg;
    memset(&msg, 0, sizeof(msg));
    msg.kind = EVM_CALL;
    msg.gas = w->gas;
    msg.sender = th_addr(CALLER_ID);
    msg.recipient = th_addr(CONTRACT_ID);
    msg.code_address = msg.recipient;
    msg.input = input;
    msg.input_len = input_len;
    return msg;
}

/* One pass: returns gas used, *ns the elapsed time. */
static int64_t run_pass(struct evm *vm, struct test_host *th, const struct workload *w,
                        const uint8_t *input, size_t input_len, uint64_t *ns)
{
    struct evm_message msg = message_of(w, input, input_len);
    int64_t used = 0;
    uint64_t start = clock_monotonic_ns();
    for (int i = 0; i < w->runs; i++) {
        struct evm_result res;
        uint64_t mark = th_snapshot(th);
        if (evm_execute(vm, &th->host, &th->tx, &msg, &res) != TC_OK || res.status != EVM_SUCCESS) {
            fprintf(stderr, "bench_evm: %s failed: %s\n", w->name, evm_status_name(res.status));
            exit(1);
        }
        used += w->gas - res.gas_left;
        th_revert_to(th, mark);
    }
    *ns = clock_monotonic_ns() - start;
    return used;
}

static void put_hex(FILE *f, const uint8_t *data, size_t len)
{
    char pair[3];
    fputs("\"0x", f);
    for (size_t i = 0; i < len; i++) {
        hex_encode(data + i, 1, pair);
        fputs(pair, f);
    }
    fputc('"', f);
}

static void put_address(FILE *f, const evm_address *a)
{
    put_hex(f, a->bytes, sizeof(a->bytes));
}

static void put_word(FILE *f, u256 v)
{
    uint8_t be[32];
    u256_to_be_bytes(v, be);
    put_hex(f, be, sizeof(be));
}

/*
 * Writes the JSON description of workload number `index` to
 * DIR/<nn>-<name>.json: the message, the test host's whole pre-state and
 * the result of one run of it (done here, untimed, then rolled back).
 * Exits on failure: a dump that cannot be written makes the comparison
 * meaningless.
 */
static void dump_workload(const char *dir, size_t index, struct evm *vm, struct test_host *th,
                          const struct workload *w, const uint8_t *input, size_t input_len)
{
    char path[4096];
    int len = snprintf(path, sizeof(path), "%s/%02zu-", dir, index + 1);
    for (const char *c = w->name; *c != '\0' && len > 0 && (size_t)len < sizeof(path) - 6; c++) {
        bool alnum = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9');
        path[len++] = alnum ? *c : (*c >= 'A' && *c <= 'Z') ? (char)(*c - 'A' + 'a') : '-';
    }
    if (len < 0 || (size_t)len >= sizeof(path) - 6) {
        fprintf(stderr, "bench_evm: dump path too long\n");
        exit(1);
    }
    memcpy(path + len, ".json", 6);

    struct evm_message msg = message_of(w, input, input_len);
    struct evm_result res;
    uint64_t mark = th_snapshot(th);
    if (evm_execute(vm, &th->host, &th->tx, &msg, &res) != TC_OK) {
        fprintf(stderr, "bench_evm: %s: evm_execute failed\n", w->name);
        exit(1);
    }
    size_t logs = th->n_logs;
    th_revert_to(th, mark);

    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    fprintf(f, "{\n  \"name\": \"%s\",\n  \"code\": ", w->name);
    const uint8_t *code;
    size_t code_len;
    th_get_code(th, &msg.code_address, &code, &code_len);
    put_hex(f, code, code_len);
    fputs(",\n  \"calldata\": ", f);
    put_hex(f, input, input_len);
    fprintf(f, ",\n  \"gas\": \"%" PRId64 "\",\n  \"runs\": %d,\n  \"sender\": ", w->gas, w->runs);
    put_address(f, &msg.sender);
    fputs(",\n  \"recipient\": ", f);
    put_address(f, &msg.recipient);
    fputs(",\n  \"accounts\": [", f);
    bool first = true;
    for (size_t i = 0; i < th->n_accounts; i++) {
        const struct th_account *a = &th->accounts[i];
        if (!a->exists)
            continue;
        fprintf(f, "%s\n    { \"address\": ", first ? "" : ",");
        first = false;
        put_address(f, &a->addr);
        fputs(", \"balance\": ", f);
        put_word(f, a->balance);
        fprintf(f, ", \"nonce\": %" PRIu64 ", \"code\": ", a->nonce);
        put_hex(f, a->code, a->code_len);
        fputs(", \"storage\": [", f);
        bool first_slot = true;
        for (size_t k = 0; k < th->n_slots; k++) {
            const struct th_slot *sl = &th->slots[k];
            if (memcmp(sl->addr.bytes, a->addr.bytes, 20) != 0)
                continue;
            fputs(first_slot ? "\n      [" : ",\n      [", f);
            first_slot = false;
            put_word(f, sl->key);
            fputs(", ", f);
            put_word(f, sl->value);
            fputc(']', f);
        }
        fputs(first_slot ? "] }" : "\n    ] }", f);
    }
    fputs("\n  ],\n  \"warm_addresses\": [", f);
    first = true;
    for (size_t i = 0; i < th->n_accounts; i++) {
        if (!th->accounts[i].warm)
            continue;
        fputs(first ? "" : ", ", f);
        first = false;
        put_address(f, &th->accounts[i].addr);
    }
    fputs("],\n  \"warm_slots\": [", f);
    first = true;
    for (size_t k = 0; k < th->n_slots; k++) {
        if (!th->slots[k].warm)
            continue;
        fputs(first ? "[" : ", [", f);
        first = false;
        put_address(f, &th->slots[k].addr);
        fputs(", ", f);
        put_word(f, th->slots[k].key);
        fputc(']', f);
    }
    fprintf(f,
            "],\n  \"expected\": {\n    \"status\": \"%s\",\n    \"gas_used\": \"%" PRId64 "\",\n",
            evm_status_name(res.status), w->gas - res.gas_left);
    fputs("    \"output\": ", f);
    put_hex(f, res.output, res.output_len);
    fprintf(f, ",\n    \"logs\": %zu\n  }\n}\n", logs);
    if (fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    const char *dump_dir = NULL;
    int passes = 5;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--dump") == 0 && a + 1 < argc) {
            dump_dir = argv[++a];
        } else if (argv[a][0] >= '0' && argv[a][0] <= '9') {
            passes = atoi(argv[a]);
        } else {
            fprintf(stderr, "usage: %s [--dump DIR] [passes]\n", argv[0]);
            return 2;
        }
    }
    if (passes < 1)
        passes = 1;
    printf("command: %s%s%s %d\n", argv[0], dump_dir ? " --dump " : "", dump_dir ? dump_dir : "",
           passes);
    printf("%-20s %14s %10s %10s\n", "workload", "gas/pass", "ms/pass", "Mgas/s");
    static uint8_t code[4096];
    for (size_t i = 0; i < sizeof(WORKLOADS) / sizeof(WORKLOADS[0]); i++) {
        const struct workload *w = &WORKLOADS[i];
        struct evm *vm = evm_new(0);
        struct test_host *th = test_host_new();
        if (vm == NULL) {
            fprintf(stderr, "bench_evm: out of memory\n");
            return 1;
        }
        evm_address contract = th_addr(CONTRACT_ID), caller = th_addr(CALLER_ID);
        evm_address to = th_addr(TOKEN_TO_ID);
        size_t n = unhex(w->code_hex, code, sizeof(code));
        th_account_set(th, &contract, u256_zero(), 1, code, n);
        th_account_set(th, &caller, u256_from_u64(1000000), 1, NULL, 0);
        th_warm(th, &contract);
        th_warm(th, &caller);
        static uint8_t input[384];
        memset(input, 0, sizeof(input));
        size_t input_len = 0;
        if (w->erc20) {
            th_storage_set(th, &contract, balance_slot(&caller, w->balances_slot),
                           u256_from_u64(1000000000));
            th_storage_set(th, &contract, balance_slot(&to, w->balances_slot), u256_from_u64(5));
            size_t at = w->abi ? unhex(TOKEN_TRANSFER_SELECTOR, input, sizeof(input)) : 0;
            memcpy(input + at + 12, to.bytes, 20);
            input[at + 63] = 1;
            input_len = at + 64;
        }
        if (w->pairing) {
            evm_address pre = th_addr(8);
            th_warm(th, &pre);
            input_len = unhex(PAIRING_INPUT, input, sizeof(input));
        }
        uint64_t best_ns = UINT64_MAX;
        int64_t gas = 0;
        for (int p = 0; p < passes; p++) {
            uint64_t ns;
            gas = run_pass(vm, th, w, input, input_len, &ns);
            if (ns < best_ns)
                best_ns = ns;
        }
        printf("%-20s %14" PRId64 " %10.2f %10.1f\n", w->name, gas, (double)best_ns / 1e6,
               (double)gas / ((double)best_ns / 1e9) / 1e6);
        if (dump_dir != NULL)
            dump_workload(dump_dir, i, vm, th, w, input, input_len);
        test_host_free(th);
        evm_free(vm);
    }
    return 0;
}
