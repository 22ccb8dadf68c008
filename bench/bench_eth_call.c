/*
 * bench_eth_call.c - the cost of eth_call and eth_estimateGas executions:
 * exec_call() on one state (as a call worker runs them), no RPC.
 *
 * A contract at a fixed address over an in-memory genesis (frozen as the
 * reader, as the ledger would be):
 *   read     SLOAD slot 0 and return it (a view function)
 *   store    SSTORE the calldata word in slot 0 (a call that would write;
 *            exec_call reverts it every time)
 *   loop     a loop that burns gas until it runs out (the worst case a gas
 *            cap allows: the time a call can hold a worker)
 * For each: calls per second (best of `rounds`), and for `loop` the gas per
 * second, which with the cap gives the longest a call can run.
 *
 * usage: bench_eth_call [calls [rounds [loop_gas]]]   (defaults 100000, 5, 30000000)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "chain/tx.h"
#include "evm/evm.h"
#include "exec/exec.h"
#include "state/state.h"

/* PUSH1 0 SLOAD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN */
static const uint8_t read_code[] = { 0x60, 0x00, 0x54, 0x60, 0x00, 0x52,
                                     0x60, 0x20, 0x60, 0x00, 0xf3 };
/* PUSH1 0 CALLDATALOAD PUSH1 0 SSTORE STOP */
static const uint8_t store_code[] = { 0x60, 0x00, 0x35, 0x60, 0x00, 0x55, 0x00 };
/* JUMPDEST PUSH1 0 JUMP */
static const uint8_t loop_code[] = { 0x5b, 0x60, 0x00, 0x56 };

static void addr_of(uint8_t addr[20], uint8_t n)
{
    memset(addr, 0, 20);
    addr[0] = 0xca;
    addr[19] = n;
}

struct bench {
    struct state *genesis;
    struct state *s;
    struct exec *ex;
    uint8_t from[20];
};

static int bench_open(struct bench *b, uint64_t gas_limit)
{
    struct state_reader empty, layer;
    uint8_t a[20];
    state_reader_empty(&empty);
    if (state_new(&empty, &b->genesis) != 0)
        return 1;
    state_tx_begin(b->genesis);
    addr_of(b->from, 0);
    state_set_balance(b->genesis, b->from, u256_from_u64(1000000000));
    const uint8_t *codes[] = { read_code, store_code, loop_code };
    size_t lens[] = { sizeof(read_code), sizeof(store_code), sizeof(loop_code) };
    for (uint8_t i = 0; i < 3; i++) {
        addr_of(a, i + 1);
        state_set_code(b->genesis, a, codes[i], lens[i]);
        state_set_nonce(b->genesis, a, 1);
        state_set_storage(b->genesis, a, u256_zero(), u256_from_u64(7));
    }
    state_tx_end(b->genesis, false);
    state_as_reader(b->genesis, &layer);
    struct exec_rules rules = { .kind = EXEC_RULES_CHAIN, .tx_gas_limit = gas_limit };
    if (state_new(&layer, &b->s) != 0 || exec_new(&rules, &b->ex) != 0)
        return 1;
    struct exec_block_env env;
    memset(&env, 0, sizeof(env));
    env.number = 1;
    env.gas_limit = gas_limit;
    env.chain_id = u256_from_u64(20200);
    return exec_begin(b->ex, b->s, &env) != 0;
}

static void bench_close(struct bench *b)
{
    exec_free(b->ex);
    state_free(b->s);
    state_free(b->genesis);
}

/* Runs `calls` calls to contract n; returns the best seconds of `rounds`, or -1. */
static double run(struct bench *b, uint8_t n, uint64_t gas, size_t calls, int rounds,
                  uint64_t *gas_used)
{
    uint8_t data[32] = { 0 };
    data[31] = 0x2a;
    struct tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = TX_DYNAMIC_FEE;
    tx.gas_limit = gas;
    tx.has_to = true;
    addr_of(tx.to, n);
    tx.data = bytes_view_of(data, sizeof(data));
    double best = -1;
    for (int r = 0; r < rounds; r++) {
        uint64_t t0 = clock_monotonic_ns();
        for (size_t i = 0; i < calls; i++) {
            struct exec_call_result res;
            if (exec_call(b->ex, &tx, b->from, &res) != 0 || res.drop_reason)
                return -1;
            *gas_used = res.gas_used;
        }
        double s = (double)(clock_monotonic_ns() - t0) / 1e9;
        if (best < 0 || s < best)
            best = s;
    }
    return best;
}

int main(int argc, char **argv)
{
    size_t calls = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 100000;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    uint64_t loop_gas = argc > 3 ? strtoull(argv[3], NULL, 10) : 30000000;
    if (calls == 0 || rounds <= 0 || loop_gas < 21000) {
        fprintf(stderr, "usage: bench_eth_call [calls [rounds [loop_gas]]]\n");
        return 2;
    }
    printf("command: %s %zu %d %" PRIu64 "\n", argv[0], calls, rounds, loop_gas);
    struct bench b;
    if (bench_open(&b, loop_gas)) {
        fprintf(stderr, "bench_eth_call: setup failed\n");
        return 1;
    }
    printf("%-8s %12s %12s %14s\n", "call", "calls/s", "us/call", "gas/s");
    const char *names[] = { "read", "store" };
    for (uint8_t i = 0; i < 2; i++) {
        uint64_t used = 0;
        double s = run(&b, i + 1, 100000, calls, rounds, &used);
        if (s <= 0) {
            fprintf(stderr, "bench_eth_call: %s failed\n", names[i]);
            return 1;
        }
        printf("%-8s %12.0f %12.2f %14.3e\n", names[i], (double)calls / s, s * 1e6 / (double)calls,
               (double)used * (double)calls / s);
    }
    uint64_t used = 0;
    size_t loops = calls / 10000 ? calls / 10000 : 1;
    double s = run(&b, 3, loop_gas, loops, rounds, &used);
    if (s <= 0) {
        fprintf(stderr, "bench_eth_call: loop failed\n");
        return 1;
    }
    printf("%-8s %12.1f %12.0f %14.3e   (%" PRIu64 " gas per call, out of gas)\n", "loop",
           (double)loops / s, s * 1e6 / (double)loops, (double)used * (double)loops / s, used);
    bench_close(&b);
    return 0;
}
