/*
 * bench_txpool.c - transaction pool throughput.
 *
 * 1. Sender recovery alone on one core (tx_sender), the expected bound.
 * 2. Synchronous admission on one thread (txpool_submit_sync).
 * 3. Asynchronous admission: pre-signed transfers from many senders,
 *    submitted by one thread as fast as possible (retrying when the worker
 *    queue says "txpool is full") to a thread pool of 2 workers; timed from
 *    the first submission to the last completion.
 * 4. Sealing: take() of blocks of 1,000 followed by committed() of their
 *    hashes, until the pool admitted in 3 is empty.
 *
 * Usage: bench_txpool [transactions] [senders]   (default 40000, 2000)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/threadpool.h"
#include "chain/tx.h"
#include "txpool/txpool.h"

#define CHAIN_ID   20200
#define BLOCK_TXS  1000
#define WORKERS    2
#define QUEUE_JOBS 4096

static void fatal(const char *what, int rc)
{
    fprintf(stderr, "bench_txpool: %s: %s\n", what, tc_strerror(rc));
    exit(1);
}

/* Every account has nonce 0 and ample balance: the transfers are nonces
 * 0..k-1 of each sender, so all are admitted. */
static int any_account(void *ctx, const uint8_t addr[20], uint64_t *nonce, u256 *balance)
{
    (void)ctx;
    (void)addr;
    *nonce = 0;
    *balance = u256_from_u64(UINT64_MAX);
    return 0;
}

struct workload {
    struct bytes *raws;
    size_t n;
};

/* n transfers, senders keys round-robin, each sender's nonces in order. */
static struct workload sign_workload(size_t n, size_t senders)
{
    struct workload w = { calloc(n, sizeof(struct bytes)), n };
    if (!w.raws)
        fatal("calloc", TC_ENOMEM);
    for (size_t i = 0; i < n; i++) {
        uint8_t key[32] = { 0x5a };
        size_t k = i % senders;
        key[30] = (uint8_t)(k >> 8);
        key[31] = (uint8_t)(k + 1);
        key[29] = (uint8_t)(k >> 16);
        struct tx tx;
        memset(&tx, 0, sizeof(tx));
        tx.type = TX_LEGACY;
        tx.eip155 = true;
        tx.chain_id = CHAIN_ID;
        tx.nonce = i / senders;
        tx.gas_limit = 21000;
        tx.has_to = true;
        memset(tx.to, 0x33, 20);
        tx.value = u256_from_u64(1);
        int rc = tx_sign(&tx, key);
        if (rc != TC_OK)
            fatal("tx_sign", rc);
        bytes_init(&w.raws[i]);
        if ((rc = tx_encode(&tx, &w.raws[i])) != TC_OK)
            fatal("tx_encode", rc);
    }
    return w;
}

static struct txpool *new_pool(struct threadpool *workers, size_t n)
{
    struct txpool_config cfg;
    txpool_config_default(&cfg);
    cfg.rules.chain_id = CHAIN_ID;
    cfg.max_txs = n;
    cfg.account = any_account;
    cfg.workers = workers;
    struct txpool *pool;
    int rc = txpool_create(&cfg, &pool);
    if (rc != TC_OK)
        fatal("txpool_create", rc);
    return pool;
}

static double recover_only(const struct workload *w)
{
    uint64_t t0 = clock_monotonic_ns();
    for (size_t i = 0; i < w->n; i++) {
        struct tx tx;
        uint8_t sender[20];
        if (tx_decode(bytes_as_view(&w->raws[i]), &tx, NULL) != TC_OK ||
            tx_sender(&tx, sender, NULL) != TC_OK)
            fatal("recover", TC_ECRYPTO);
    }
    return (double)w->n / ((double)(clock_monotonic_ns() - t0) / 1e9);
}

static double admit_sync(const struct workload *w)
{
    struct txpool *pool = new_pool(NULL, w->n);
    uint64_t t0 = clock_monotonic_ns();
    for (size_t i = 0; i < w->n; i++) {
        struct txpool_result r;
        if (txpool_submit_sync(pool, w->raws[i].ptr, w->raws[i].len, &r) != TC_OK)
            fatal(r.message, r.code);
    }
    double rate = (double)w->n / ((double)(clock_monotonic_ns() - t0) / 1e9);
    txpool_destroy(pool);
    return rate;
}

struct completion {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t done;
    size_t refused;
    size_t wake_at; /* the submitter sleeps until done reaches it */
};

static void on_done(void *ctx, const struct txpool_result *r)
{
    struct completion *c = ctx;
    pthread_mutex_lock(&c->lock);
    c->done++;
    c->refused += r->status != TXPOOL_ADMITTED;
    if (c->done == c->wake_at)
        pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

static double admit_async(const struct workload *w, struct txpool *pool, size_t *full_retries)
{
    struct completion c = { .done = 0, .refused = 0, .wake_at = SIZE_MAX };
    pthread_mutex_init(&c.lock, NULL);
    pthread_cond_init(&c.cond, NULL);
    *full_retries = 0;
    uint64_t t0 = clock_monotonic_ns();
    for (size_t i = 0; i < w->n; i++) {
        struct txpool_result early;
        int rc;
        while ((rc = txpool_submit(pool, w->raws[i].ptr, w->raws[i].len, on_done, &c, &early)) ==
               TC_EFULL) {
            (*full_retries)++;
            /* The loop thread would go back to its events; here, sleep
             * until the workers have drained half of the queue. */
            pthread_mutex_lock(&c.lock);
            c.wake_at = c.done + QUEUE_JOBS / 2;
            while (c.done < c.wake_at)
                pthread_cond_wait(&c.cond, &c.lock);
            c.wake_at = SIZE_MAX;
            pthread_mutex_unlock(&c.lock);
        }
        if (rc != TC_OK)
            fatal(early.message, rc);
    }
    pthread_mutex_lock(&c.lock);
    c.wake_at = w->n;
    while (c.done < w->n)
        pthread_cond_wait(&c.cond, &c.lock);
    pthread_mutex_unlock(&c.lock);
    double rate = (double)w->n / ((double)(clock_monotonic_ns() - t0) / 1e9);
    if (c.refused != 0)
        fatal("async admission refused transactions", TC_ESTATE);
    pthread_cond_destroy(&c.cond);
    pthread_mutex_destroy(&c.lock);
    return rate;
}

static double seal_blocks(struct txpool *pool, size_t n, size_t *blocks)
{
    struct txpool_batch b;
    txpool_batch_init(&b);
    uint8_t(*hashes)[32] = malloc(BLOCK_TXS * sizeof(*hashes));
    size_t taken = 0;
    *blocks = 0;
    uint64_t t0 = clock_monotonic_ns();
    for (;;) {
        int rc = txpool_take(pool, BLOCK_TXS, UINT64_MAX, &b);
        if (rc != TC_OK)
            fatal("txpool_take", rc);
        if (b.count == 0)
            break;
        for (size_t i = 0; i < b.count; i++)
            memcpy(hashes[i], b.picks[i].hash, 32);
        txpool_committed(pool, hashes, b.count);
        taken += b.count;
        (*blocks)++;
    }
    double rate = (double)taken / ((double)(clock_monotonic_ns() - t0) / 1e9);
    if (taken != n)
        fatal("sealing did not take every transaction", TC_ESTATE);
    free(hashes);
    txpool_batch_free(&b);
    return rate;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 40000;
    size_t senders = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 2000;
    if (n == 0 || senders == 0 || senders > 65535 || n > TXPOOL_MAX_TXS) {
        fprintf(stderr, "usage: bench_txpool [transactions (1..%u)] [senders (1..65535)]\n",
                TXPOOL_MAX_TXS);
        return 2;
    }
    printf("command: %s %zu %zu\n", argv[0], n, senders);
    printf("signing %zu transfers from %zu senders...\n", n, senders);
    fflush(stdout);
    struct workload w = sign_workload(n, senders);

    double recover = recover_only(&w);
    double sync = admit_sync(&w);
    struct threadpool *tp;
    int rc = threadpool_create(&tp, WORKERS, QUEUE_JOBS);
    if (rc != TC_OK)
        fatal("threadpool_create", rc);
    struct txpool *pool = new_pool(tp, n);
    size_t retries;
    double async = admit_async(&w, pool, &retries);
    size_t blocks;
    double seal = seal_blocks(pool, n, &blocks);

    printf("\n%-52s %12s\n", "phase", "tx/s");
    printf("%-52s %12.0f\n", "sender recovery only (1 thread)", recover);
    printf("%-52s %12.0f\n", "txpool_submit_sync (1 thread)", sync);
    printf("%-52s %12.0f\n", "txpool_submit, 2 workers (1 submitter)", async);
    printf("%-52s %12.0f\n", "take(1000) + committed(), blocks of 1,000", seal);
    printf("\n%zu worker-queue-full retries; %zu blocks sealed\n", retries, blocks);

    txpool_destroy(pool);
    threadpool_destroy(tp);
    for (size_t i = 0; i < n; i++)
        bytes_free(&w.raws[i]);
    free(w.raws);
    return 0;
}
