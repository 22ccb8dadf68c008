/*
 * bench_exec.c - value-transfer execution throughput of exec + state.
 *
 * A genesis of ACCOUNTS funded accounts (an in-memory state frozen as the
 * reader, as a speculative block sees its parent); blocks of `txs` legacy
 * transfers from random senders to random recipients (1 in 4 a new account),
 * senders known (recovery is the txpool's cost, not measured here). Per
 * block, best of `rounds` rounds, each on a fresh state over the same genesis:
 *   execute     exec_begin + exec_apply of every transaction (chain rules,
 *               gas price 1: fees to the coinbase)
 *   write-set   exec_end: the block's write-set, canonicalized
 * and the resulting transactions per second of execute + write-set.
 *
 * usage: bench_exec [txs_per_block [rounds]]   (defaults 10000, 10)
 * TC_SEED overrides the random seed (printed).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/rng.h"
#include "chain/tx.h"
#include "chain/writeset.h"
#include "exec/exec.h"
#include "state/state.h"

#define ACCOUNTS 10000

struct job {
    struct tx tx;
    uint8_t sender[20];
};

static void account_addr(uint8_t addr[20], uint64_t i)
{
    memset(addr, 0, 20);
    addr[0] = 0x42;
    for (int k = 0; k < 8; k++)
        addr[12 + k] = (uint8_t)(i >> (56 - 8 * k));
}

int main(int argc, char **argv)
{
    size_t txs = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 10000;
    int rounds = argc > 2 ? atoi(argv[2]) : 10;
    const char *env = getenv("TC_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : 0xbe7c4ULL;
    if (txs == 0 || rounds <= 0) {
        fprintf(stderr, "usage: bench_exec [txs_per_block [rounds]]\n");
        return 2;
    }
    printf("command: %s %zu %d   (TC_SEED=0x%" PRIx64 ")\n", argv[0], txs, rounds, seed);

    struct state_reader empty, layer;
    struct state *genesis;
    state_reader_empty(&empty);
    if (state_new(&empty, &genesis) != 0)
        return 1;
    state_tx_begin(genesis);
    for (uint64_t i = 0; i < ACCOUNTS; i++) {
        uint8_t a[20];
        account_addr(a, i);
        state_set_balance(genesis, a, u256_from_u64(1000000000000ULL));
    }
    state_tx_end(genesis, false);
    state_as_reader(genesis, &layer);

    struct rng rng;
    rng_seed(&rng, seed);
    struct job *jobs = calloc(txs, sizeof(*jobs));
    uint64_t *nonces = calloc(ACCOUNTS, sizeof(*nonces));
    if (jobs == NULL || nonces == NULL)
        return 1;
    for (size_t i = 0; i < txs; i++) {
        uint64_t from = rng_below(&rng, ACCOUNTS);
        uint64_t to = rng_chance(&rng, 250000) ? ACCOUNTS + i : rng_below(&rng, ACCOUNTS);
        struct tx *tx = &jobs[i].tx;
        account_addr(jobs[i].sender, from);
        tx->type = TX_LEGACY;
        tx->nonce = nonces[from]++;
        tx->gas_price = tx->max_fee_per_gas = tx->max_priority_fee_per_gas = u256_one();
        tx->gas_limit = 21000;
        tx->has_to = true;
        account_addr(tx->to, to);
        tx->value = u256_from_u64(1 + rng_below(&rng, 1000));
    }

    struct exec_rules rules = { .kind = EXEC_RULES_CHAIN };
    struct exec *ex;
    if (exec_new(&rules, &ex) != 0)
        return 1;
    struct exec_block_env benv = { .number = 1, .gas_limit = UINT64_MAX / 2 };
    benv.coinbase[19] = 0xcb;
    double best_exec = 1e30, best_ws = 1e30;
    size_t entries = 0;
    for (int r = 0; r < rounds; r++) {
        struct state *s;
        struct writeset ws;
        if (state_new(&layer, &s) != 0)
            return 1;
        writeset_init(&ws);
        uint64_t t0 = clock_monotonic_ns();
        exec_begin(ex, s, &benv);
        for (size_t i = 0; i < txs; i++) {
            struct exec_tx_result res;
            if (exec_apply(ex, &jobs[i].tx, jobs[i].sender, &res) != 0 || !res.included) {
                fprintf(stderr, "tx %zu not executed: %s\n", i,
                        res.drop_reason ? res.drop_reason : "error");
                return 1;
            }
        }
        uint64_t t1 = clock_monotonic_ns();
        if (exec_end(ex, &ws) != 0)
            return 1;
        uint64_t t2 = clock_monotonic_ns();
        entries = writeset_count(&ws);
        double e = (double)(t1 - t0) / 1e6, w = (double)(t2 - t1) / 1e6;
        best_exec = e < best_exec ? e : best_exec;
        best_ws = w < best_ws ? w : best_ws;
        writeset_free(&ws);
        state_free(s);
    }
    printf("%-12s %10s %14s\n", "phase", "ms/block", "per tx (us)");
    printf("%-12s %10.2f %14.3f\n", "execute", best_exec, best_exec * 1000.0 / (double)txs);
    printf("%-12s %10.2f %14.3f\n", "write-set", best_ws, best_ws * 1000.0 / (double)txs);
    printf("%zu transfers/block, %zu write-set entries: %.0f tx/s (execute + write-set)\n", txs,
           entries, (double)txs / ((best_exec + best_ws) / 1000.0));
    exec_free(ex);
    free(jobs);
    free(nonces);
    state_free(genesis);
    return 0;
}
