/*
 * bench_evm.c - interpreter throughput in Mgas/s on hand-assembled
 * bytecode: a tight arithmetic loop, a KECCAK256 loop, a memory-copy loop
 * (MCOPY of 4 KiB), a storage loop (SLOAD + SSTORE over 64 slots) and an
 * ERC-20 style transfer (two mapping slots, a Transfer log); and, for the
 * precompile's price/speed ratio, a call of the bn256 pairing check with two
 * pairs.
 *
 * Usage: bench_evm [passes]
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
    int64_t gas;  /* per run */
    int runs;     /* per pass */
    bool erc20;   /* calldata (to, 1) and a funded sender slot */
    bool pairing; /* calldata: two pairs whose product is 1 */
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
    { "arithmetic loop", ARITH_LOOP, INT64_MAX / 2, 1, false, false },
    { "keccak256 loop", KECCAK_LOOP, INT64_MAX / 2, 1, false, false },
    { "mcopy 4 KiB loop", MCOPY_LOOP, INT64_MAX / 2, 1, false, false },
    { "storage loop", SSTORE_LOOP, INT64_MAX / 2, 1, false, false },
    { "erc20 transfer", ERC20, 100000, 20000, true, false },
    { "bn256 pairing x2", PAIRING_CALL, 200000, 20, false, true },
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

/* keccak256(addr as a word ++ slot 0): the ERC-20 balance slot. */
static u256 balance_slot(const evm_address *a)
{
    uint8_t buf[64] = { 0 };
    uint8_t h[32];
    memcpy(buf + 12, a->bytes, 20);
    keccak256(buf, sizeof(buf), h);
    return u256_from_be_bytes(h, 32);
}

/* One pass: returns gas used, *ns the elapsed time. */
static int64_t run_pass(struct evm *vm, struct test_host *th, const struct workload *w,
                        const uint8_t *input, size_t input_len, uint64_t *ns)
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

int main(int argc, char **argv)
{
    int passes = argc > 1 ? atoi(argv[1]) : 5;
    if (passes < 1)
        passes = 1;
    printf("command: %s %d\n", argv[0], passes);
    printf("%-18s %14s %10s %10s\n", "workload", "gas/pass", "ms/pass", "Mgas/s");
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
            th_storage_set(th, &contract, balance_slot(&caller), u256_from_u64(1000000000));
            th_storage_set(th, &contract, balance_slot(&to), u256_from_u64(5));
            memcpy(input + 12, to.bytes, 20);
            input[63] = 1;
            input_len = 64;
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
        printf("%-18s %14" PRId64 " %10.2f %10.1f\n", w->name, gas, (double)best_ns / 1e6,
               (double)gas / ((double)best_ns / 1e9) / 1e6);
        test_host_free(th);
        evm_free(vm);
    }
    return 0;
}
