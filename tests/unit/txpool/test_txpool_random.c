/*
 * test_txpool_random.c - the asynchronous paths (completion on a worker,
 * fail-fast when the worker queue is full, batches), concurrent
 * submissions from several threads while the sealer takes and commits
 * (every admitted transaction taken exactly once), and a randomized
 * model-based test: thousands of random operations on the pool and on a
 * simple reference model (plain arrays, linear scans) must give the same
 * statuses, the same take() sequences and the same counts.
 *
 * Seeds are printed; TC_SEED=<n> replays a run, TC_OPS=<n> changes the
 * length of the model-based run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/rng.h"
#include "base/threadpool.h"
#include "chain/tx.h"
#include "crypto/ecdsa.h"
#include "txpool/txpool.h"

#define CHAIN_ID 20200
#define MAX_KEYS 64

static uint64_t test_seed;

/* ---- keys, state, signing ----------------------------------------------- */

struct world {
    uint8_t keys[MAX_KEYS][32];
    uint8_t addrs[MAX_KEYS][20];
    uint64_t nonces[MAX_KEYS];
    pthread_mutex_t lock; /* the reader is called from workers */
    uint64_t now_ms;
};

static void world_init(struct world *w)
{
    memset(w, 0, sizeof(*w));
    for (int i = 0; i < MAX_KEYS; i++) {
        w->keys[i][0] = 0x22;
        w->keys[i][31] = (uint8_t)(i + 1);
        assert_int_equal(ecdsa_address_from_seckey(w->keys[i], w->addrs[i]), TC_OK);
    }
    pthread_mutex_init(&w->lock, NULL);
    w->now_ms = 5000;
}

static int world_account(void *ctx, const uint8_t addr[20], uint64_t *nonce, u256 *balance)
{
    struct world *w = ctx;
    *nonce = 0;
    *balance = u256_from_u64(UINT64_MAX);
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < MAX_KEYS; i++)
        if (memcmp(w->addrs[i], addr, 20) == 0)
            *nonce = w->nonces[i];
    pthread_mutex_unlock(&w->lock);
    return 0;
}

static uint64_t world_now(void *ctx)
{
    return ((struct world *)ctx)->now_ms;
}

static void world_set_nonce(struct world *w, int k, uint64_t nonce)
{
    pthread_mutex_lock(&w->lock);
    if (w->nonces[k] < nonce)
        w->nonces[k] = nonce;
    pthread_mutex_unlock(&w->lock);
}

static int key_of_addr(const struct world *w, const uint8_t addr[20])
{
    for (int i = 0; i < MAX_KEYS; i++)
        if (memcmp(w->addrs[i], addr, 20) == 0)
            return i;
    fail_msg("unknown sender");
    return -1;
}

/* Legacy EIP-155 transfer at gas price `price` wei; value makes it unique. */
static struct bytes signed_transfer(const struct world *w, int k, uint64_t nonce, uint64_t price,
                                    uint64_t value, uint8_t hash[32])
{
    struct tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = TX_LEGACY;
    tx.eip155 = true;
    tx.chain_id = CHAIN_ID;
    tx.nonce = nonce;
    tx.gas_price = tx.max_fee_per_gas = tx.max_priority_fee_per_gas = u256_from_u64(price);
    tx.gas_limit = 21000;
    tx.has_to = true;
    memset(tx.to, 0x77, 20);
    tx.value = u256_from_u64(value);
    assert_int_equal(tx_sign(&tx, w->keys[k]), TC_OK);
    struct bytes raw;
    bytes_init(&raw);
    assert_int_equal(tx_encode(&tx, &raw), TC_OK);
    if (hash) {
        struct tx back;
        assert_int_equal(tx_decode(bytes_as_view(&raw), &back, NULL), TC_OK);
        tx_hash(&back, hash);
    }
    return raw;
}

static void base_config(struct world *w, struct txpool_config *cfg)
{
    txpool_config_default(cfg);
    cfg->rules.chain_id = CHAIN_ID;
    cfg->account = world_account;
    cfg->account_ctx = w;
    cfg->now_ms = world_now;
    cfg->now_ctx = w;
}

/* ---- asynchronous completion -------------------------------------------- */

struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t calls;
    bool on_caller_thread;
    pthread_t caller;
    struct txpool_result last;
};

static void waiter_init(struct waiter *wt)
{
    memset(wt, 0, sizeof(*wt));
    pthread_mutex_init(&wt->lock, NULL);
    pthread_cond_init(&wt->cond, NULL);
    wt->caller = pthread_self();
}

static void on_done(void *ctx, const struct txpool_result *r)
{
    struct waiter *wt = ctx;
    pthread_mutex_lock(&wt->lock);
    wt->calls++;
    wt->last = *r;
    if (pthread_equal(pthread_self(), wt->caller))
        wt->on_caller_thread = true;
    pthread_cond_broadcast(&wt->cond);
    pthread_mutex_unlock(&wt->lock);
}

static void on_batch_done(void *ctx)
{
    on_done(ctx, &(struct txpool_result){ 0 });
}

static void waiter_wait(struct waiter *wt, size_t calls)
{
    pthread_mutex_lock(&wt->lock);
    while (wt->calls < calls)
        pthread_cond_wait(&wt->cond, &wt->lock);
    pthread_mutex_unlock(&wt->lock);
}

static void test_async_submit_completes_on_a_worker(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    struct threadpool *tp;
    assert_int_equal(threadpool_create(&tp, 2, 16), TC_OK);
    struct txpool_config cfg;
    base_config(&w, &cfg);
    cfg.workers = tp;
    struct txpool *pool;
    assert_int_equal(txpool_create(&cfg, &pool), TC_OK);
    struct waiter wt;
    waiter_init(&wt);
    uint8_t hash[32];
    struct bytes raw = signed_transfer(&w, 0, 0, 1, 1, hash);
    struct txpool_result early;
    assert_int_equal(txpool_submit(pool, raw.ptr, raw.len, on_done, &wt, &early), TC_OK);
    waiter_wait(&wt, 1);
    assert_false(wt.on_caller_thread);
    assert_int_equal(wt.last.status, TXPOOL_ADMITTED);
    assert_memory_equal(wt.last.hash, hash, 32);
    assert_true(txpool_contains(pool, hash));
    /* Refused on the caller's thread: no callback. */
    assert_int_equal(txpool_submit(pool, raw.ptr, raw.len, on_done, &wt, &early), TC_EEXIST);
    assert_string_equal(early.message, "already known");
    uint8_t blob[] = { 0x03, 0xc0 };
    assert_int_equal(txpool_submit(pool, blob, sizeof(blob), on_done, &wt, &early),
                     TC_EUNSUPPORTED);
    assert_string_equal(early.message, "transaction type not supported");
    /* Refused on the worker (nonce too low): reported through the callback. */
    bytes_free(&raw);
    world_set_nonce(&w, 1, 3);
    raw = signed_transfer(&w, 1, 2, 1, 1, NULL);
    assert_int_equal(txpool_submit(pool, raw.ptr, raw.len, on_done, &wt, &early), TC_OK);
    waiter_wait(&wt, 2);
    assert_string_equal(wt.last.message, "nonce too low");
    threadpool_wait_idle(tp);
    assert_int_equal(wt.calls, 2);
    bytes_free(&raw);
    txpool_destroy(pool);
    threadpool_destroy(tp);
}

struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool open;
    unsigned arrived;
};

static void gate_job(void *arg)
{
    struct gate *g = arg;
    pthread_mutex_lock(&g->lock);
    g->arrived++;
    pthread_cond_broadcast(&g->cond);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void test_full_worker_queue_fails_fast_with_txpool_is_full(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    struct threadpool *tp;
    assert_int_equal(threadpool_create(&tp, 1, 1), TC_OK);
    struct gate g = { .open = false, .arrived = 0 };
    pthread_mutex_init(&g.lock, NULL);
    pthread_cond_init(&g.cond, NULL);
    assert_int_equal(threadpool_submit(tp, gate_job, &g), TC_OK);
    pthread_mutex_lock(&g.lock);
    while (g.arrived < 1)
        pthread_cond_wait(&g.cond, &g.lock);
    pthread_mutex_unlock(&g.lock);
    assert_int_equal(threadpool_submit(tp, gate_job, &g), TC_OK); /* the queue's one slot */

    struct txpool_config cfg;
    base_config(&w, &cfg);
    cfg.workers = tp;
    struct txpool *pool;
    assert_int_equal(txpool_create(&cfg, &pool), TC_OK);
    struct waiter wt;
    waiter_init(&wt);
    struct bytes raw = signed_transfer(&w, 0, 0, 1, 1, NULL);
    struct txpool_result early;
    assert_int_equal(txpool_submit(pool, raw.ptr, raw.len, on_done, &wt, &early), TC_EFULL);
    assert_string_equal(early.message, "txpool is full");

    pthread_mutex_lock(&g.lock);
    g.open = true;
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.lock);
    threadpool_wait_idle(tp);
    assert_int_equal(wt.calls, 0);
    assert_false(txpool_contains(pool, early.hash));
    /* With room again, the same transaction is admitted. */
    assert_int_equal(txpool_submit(pool, raw.ptr, raw.len, on_done, &wt, &early), TC_OK);
    waiter_wait(&wt, 1);
    assert_int_equal(wt.last.status, TXPOOL_ADMITTED);
    bytes_free(&raw);
    txpool_destroy(pool);
    threadpool_destroy(tp);
}

static void test_batch_recovers_all_and_completes_once(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    struct threadpool *tp;
    assert_int_equal(threadpool_create(&tp, 2, 64), TC_OK);
    struct txpool_config cfg;
    base_config(&w, &cfg);
    cfg.workers = tp;
    struct txpool *pool;
    assert_int_equal(txpool_create(&cfg, &pool), TC_OK);

    enum { N = 24 };
    struct bytes raws[N];
    struct bytes_view views[N];
    uint8_t hashes[N][32];
    for (int i = 0; i < N; i++) {
        raws[i] = signed_transfer(&w, i % 6, (uint64_t)(i / 6), 1, 1, hashes[i]);
        views[i] = bytes_as_view(&raws[i]);
    }
    views[5] = bytes_view_of(raws[5].ptr, 3); /* malformed */
    struct txpool_result results[N];
    struct waiter wt;
    waiter_init(&wt);
    bool async = false;
    assert_int_equal(txpool_submit_batch(pool, views, N, results, on_batch_done, &wt, &async),
                     TC_OK);
    /* Usually async; when the workers finish every job before this thread
     * drops its own count, the results are final at return instead. */
    if (async) {
        waiter_wait(&wt, 1);
        assert_false(wt.on_caller_thread);
    }
    threadpool_wait_idle(tp);
    assert_int_equal(wt.calls, async ? 1 : 0);
    for (int i = 0; i < N; i++) {
        if (i == 5) {
            assert_int_equal(results[i].status, TXPOOL_MALFORMED);
            continue;
        }
        /* Nonces arrive out of order across workers: all admitted, some
         * first as future and then promoted. */
        assert_int_equal(results[i].status, TXPOOL_ADMITTED);
        assert_memory_equal(results[i].hash, hashes[i], 32);
    }
    struct txpool_stats s;
    txpool_get_stats(pool, &s);
    assert_int_equal(s.pending, 6 * 4 - 4); /* sender 5's nonce 0 is missing */
    assert_int_equal(s.future, 3);

    /* A batch refused entirely on the caller's thread completes at once. */
    waiter_init(&wt);
    assert_int_equal(txpool_submit_batch(pool, views, 2, results, on_batch_done, &wt, &async),
                     TC_OK);
    assert_false(async);
    assert_int_equal(results[0].status, TXPOOL_ALREADY_KNOWN);
    assert_int_equal(results[1].status, TXPOOL_ALREADY_KNOWN);
    threadpool_wait_idle(tp);
    assert_int_equal(wt.calls, 0);
    for (int i = 0; i < N; i++)
        bytes_free(&raws[i]);
    txpool_destroy(pool);
    threadpool_destroy(tp);
}

/* ---- concurrency -------------------------------------------------------- */

enum { CONC_SENDERS = 48, CONC_NONCES = 25, CONC_THREADS = 3 };

struct conc {
    struct world *w;
    struct txpool *pool;
    struct bytes raws[CONC_SENDERS][CONC_NONCES];
    atomic_size_t admitted;
    atomic_size_t refused;
    atomic_size_t full;
    int thread_index;
};

struct conc_thread {
    struct conc *c;
    int index;
};

static void conc_done(void *ctx, const struct txpool_result *r)
{
    struct conc *c = ctx;
    if (r->status == TXPOOL_ADMITTED)
        atomic_fetch_add(&c->admitted, 1);
    else
        atomic_fetch_add(&c->refused, 1);
}

/* Submits the transactions of every CONC_THREADS-th sender, in nonce order. */
static void *conc_submitter(void *arg)
{
    struct conc_thread *t = arg;
    struct conc *c = t->c;
    for (int n = 0; n < CONC_NONCES; n++) {
        for (int k = t->index; k < CONC_SENDERS; k += CONC_THREADS) {
            struct txpool_result early;
            struct bytes *raw = &c->raws[k][n];
            int rc;
            /* The worker queue is bounded: a refusal is "txpool is full",
             * and this test's client retries, as an RPC client would. */
            while ((rc = txpool_submit(c->pool, raw->ptr, raw->len, conc_done, c, &early)) ==
                   TC_EFULL)
                atomic_fetch_add(&c->full, 1);
            assert_int_equal(rc, TC_OK);
        }
    }
    return NULL;
}

static int compare_hash(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static void test_concurrent_submissions_are_taken_exactly_once(void **state)
{
    (void)state;
    struct world *w = malloc(sizeof(*w));
    world_init(w);
    struct threadpool *tp;
    assert_int_equal(threadpool_create(&tp, 2, 64), TC_OK);
    struct txpool_config cfg;
    base_config(w, &cfg);
    cfg.workers = tp;
    cfg.max_per_sender = CONC_NONCES;
    struct txpool *pool;
    assert_int_equal(txpool_create(&cfg, &pool), TC_OK);
    struct conc *c = calloc(1, sizeof(*c));
    c->w = w;
    c->pool = pool;
    for (int k = 0; k < CONC_SENDERS; k++)
        for (int n = 0; n < CONC_NONCES; n++)
            c->raws[k][n] = signed_transfer(w, k, (uint64_t)n, 1, 1, NULL);

    pthread_t threads[CONC_THREADS];
    struct conc_thread args[CONC_THREADS];
    for (int i = 0; i < CONC_THREADS; i++) {
        args[i] = (struct conc_thread){ c, i };
        assert_int_equal(pthread_create(&threads[i], NULL, conc_submitter, &args[i]), 0);
    }
    /* The sealer, concurrently: take blocks, then commit them (state first). */
    const size_t total = CONC_SENDERS * CONC_NONCES;
    uint8_t(*taken)[32] = malloc(total * 2 * sizeof(*taken));
    size_t n_taken = 0;
    struct txpool_batch b;
    txpool_batch_init(&b);
    bool submitters_done = false;
    for (;;) {
        assert_int_equal(txpool_take(pool, 100, UINT64_MAX, &b), TC_OK);
        for (size_t i = 0; i < b.count; i++) {
            assert_true(n_taken < total);
            memcpy(taken[n_taken++], b.picks[i].hash, 32);
            world_set_nonce(w, key_of_addr(w, b.picks[i].sender), b.picks[i].nonce + 1);
        }
        for (size_t i = 0; i < b.count; i++)
            assert_int_equal(txpool_committed(pool, &b.picks[i].hash, 1), 1);
        if (b.count == 0 && submitters_done)
            break;
        if (b.count == 0 && !submitters_done) {
            clock_sleep_ms(1);
            bool all_joined = atomic_load(&c->admitted) + atomic_load(&c->refused) == total;
            if (all_joined) {
                for (int i = 0; i < CONC_THREADS; i++)
                    pthread_join(threads[i], NULL);
                threadpool_wait_idle(tp);
                submitters_done = true;
            }
        }
    }
    assert_int_equal(atomic_load(&c->refused), 0);
    assert_int_equal(atomic_load(&c->admitted), total);
    assert_int_equal(n_taken, total);
    qsort(taken, n_taken, 32, compare_hash);
    for (size_t i = 1; i < n_taken; i++)
        assert_true(memcmp(taken[i - 1], taken[i], 32) != 0);
    struct txpool_stats s;
    txpool_get_stats(pool, &s);
    assert_int_equal(s.pending + s.future + s.in_flight + s.senders, 0);
    printf("concurrent: %zu admitted, %zu worker-queue-full retries\n", total,
           atomic_load(&c->full));

    txpool_batch_free(&b);
    free(taken);
    for (int k = 0; k < CONC_SENDERS; k++)
        for (int n = 0; n < CONC_NONCES; n++)
            bytes_free(&c->raws[k][n]);
    txpool_destroy(pool);
    threadpool_destroy(tp);
    free(c);
    free(w);
}

/* ---- model-based random test -------------------------------------------- */

enum { M_SENDERS = 6, M_PER_SENDER = 8, M_MAX_TXS = 30, M_EXPIRY_S = 10, M_MAX_MTX = 4096 };

struct mtx {
    uint8_t hash[32];
    int sender;
    uint64_t nonce;
    uint64_t price;
    uint64_t seq;
    uint64_t arrival_ms;
    bool in_flight;
    bool live;
};

struct model {
    struct mtx txs[M_MAX_MTX]; /* append-only; dead entries stay */
    size_t n;
    bool has_sender[M_SENDERS];
    uint64_t next[M_SENDERS];
    uint64_t seq;
};

/* Forgets dead entries (between operations: no pointer into txs is held). */
static void m_compact(struct model *m)
{
    size_t kept = 0;
    for (size_t i = 0; i < m->n; i++)
        if (m->txs[i].live)
            m->txs[kept++] = m->txs[i];
    m->n = kept;
}

static size_t m_count(const struct model *m, int sender)
{
    size_t c = 0;
    for (size_t i = 0; i < m->n; i++)
        c += m->txs[i].live && (sender < 0 || m->txs[i].sender == sender);
    return c;
}

static struct mtx *m_at(struct model *m, int sender, uint64_t nonce)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->txs[i].live && m->txs[i].sender == sender && m->txs[i].nonce == nonce)
            return &m->txs[i];
    return NULL;
}

static struct mtx *m_find(struct model *m, const uint8_t hash[32])
{
    for (size_t i = 0; i < m->n; i++)
        if (m->txs[i].live && memcmp(m->txs[i].hash, hash, 32) == 0)
            return &m->txs[i];
    return NULL;
}

static void m_kill(struct model *m, struct mtx *t)
{
    t->live = false;
    if (m_count(m, t->sender) == 0)
        m->has_sender[t->sender] = false;
}

static enum txpool_status m_submit(struct model *m, const uint8_t hash[32], int k, uint64_t nonce,
                                   uint64_t price, uint64_t state_nonce, uint64_t now_ms)
{
    if (m_find(m, hash))
        return TXPOOL_ALREADY_KNOWN;
    enum txpool_status st = TXPOOL_ADMITTED;
    uint64_t lowest = state_nonce;
    struct mtx *old = NULL;
    if (m->has_sender[k]) {
        if (state_nonce > m->next[k]) {
            for (size_t i = 0; i < m->n; i++) {
                struct mtx *t = &m->txs[i];
                if (t->live && t->sender == k && !t->in_flight && t->nonce < state_nonce)
                    t->live = false;
            }
            m->next[k] = state_nonce;
        }
        if (m->next[k] > lowest)
            lowest = m->next[k];
    }
    if (nonce < lowest)
        st = TXPOOL_NONCE_TOO_LOW;
    else if (nonce - state_nonce >= M_PER_SENDER)
        st = TXPOOL_NONCE_TOO_HIGH;
    else if ((old = m_at(m, k, nonce)) != NULL) {
        if (!(price > old->price && price >= old->price + old->price / 10))
            st = TXPOOL_REPLACEMENT_UNDERPRICED;
    } else if (m_count(m, k) >= M_PER_SENDER) {
        st = TXPOOL_ACCOUNT_LIMIT;
    } else if (m_count(m, -1) >= M_MAX_TXS) {
        st = TXPOOL_FULL;
    }
    if (st != TXPOOL_ADMITTED) {
        if (m->has_sender[k] && m_count(m, k) == 0)
            m->has_sender[k] = false;
        return st;
    }
    if (old)
        old->live = false;
    assert_true(m->n < M_MAX_MTX);
    struct mtx *t = &m->txs[m->n++];
    memcpy(t->hash, hash, 32);
    t->sender = k;
    t->nonce = nonce;
    t->price = price;
    t->seq = m->seq++;
    t->arrival_ms = now_ms;
    t->in_flight = false;
    t->live = true;
    if (!m->has_sender[k]) {
        m->has_sender[k] = true;
        m->next[k] = state_nonce;
    }
    return TXPOOL_ADMITTED;
}

static size_t m_run(struct model *m, int k)
{
    size_t run = 0;
    while (m->has_sender[k] && m_at(m, k, m->next[k] + run))
        run++;
    return run;
}

/* take() of the model: everything has 21,000 gas; max_gas in units of it. */
static size_t m_take(struct model *m, size_t max_count, uint64_t max_gas, struct mtx **out)
{
    size_t count = 0;
    uint64_t gas_left = max_gas;
    while (count < max_count) {
        struct mtx *best = NULL;
        for (int k = 0; k < M_SENDERS; k++) {
            if (!m->has_sender[k])
                continue;
            struct mtx *head = m_at(m, k, m->next[k]);
            if (head && (!best || head->seq < best->seq))
                best = head;
        }
        /* All heads cost the same gas: once one does not fit, none does
         * (the pool skips them, up to its bound, to the same effect). */
        if (!best || gas_left < 21000)
            break;
        gas_left -= 21000;
        best->in_flight = true;
        m->next[best->sender]++;
        out[count++] = best;
    }
    return count;
}

static void m_commit(struct model *m, struct mtx *t)
{
    int k = t->sender;
    uint64_t nonce = t->nonce;
    for (size_t i = 0; i < m->n; i++) {
        struct mtx *u = &m->txs[i];
        if (u->live && u->sender == k && u->nonce <= nonce)
            u->live = false;
    }
    if (m->next[k] <= nonce)
        m->next[k] = nonce + 1;
    if (m_count(m, k) == 0)
        m->has_sender[k] = false;
}

static void m_return(struct model *m, struct mtx *t)
{
    if (!t->in_flight)
        return;
    for (size_t i = 0; i < m->n; i++) {
        struct mtx *u = &m->txs[i];
        if (u->live && u->sender == t->sender && u->in_flight && u->nonce >= t->nonce)
            u->in_flight = false;
    }
    m->next[t->sender] = t->nonce;
}

static void check_against_model(struct txpool *pool, struct model *m, const struct world *w)
{
    size_t pending = 0, in_flight = 0, total = 0, senders = 0;
    for (int k = 0; k < M_SENDERS; k++) {
        senders += m->has_sender[k];
        pending += m_run(m, k);
    }
    for (size_t i = 0; i < m->n; i++) {
        if (!m->txs[i].live)
            continue;
        total++;
        in_flight += m->txs[i].in_flight;
        assert_true(txpool_contains(pool, m->txs[i].hash));
    }
    struct txpool_stats s;
    txpool_get_stats(pool, &s);
    assert_int_equal(s.pending, pending);
    assert_int_equal(s.in_flight, in_flight);
    assert_int_equal(s.future, total - pending - in_flight);
    assert_int_equal(s.senders, senders);
    for (int k = 0; k < M_SENDERS; k++) {
        uint64_t n = w->nonces[k];
        while (m->has_sender[k] && m_at(m, k, n))
            n++;
        assert_int_equal(txpool_next_nonce(pool, w->addrs[k], w->nonces[k]), n);
    }
}

static void run_model(uint64_t seed, size_t ops)
{
    struct rng g;
    rng_seed(&g, seed);
    struct world *w = malloc(sizeof(*w));
    world_init(w);
    struct txpool_config cfg;
    base_config(w, &cfg);
    cfg.max_txs = M_MAX_TXS;
    cfg.max_per_sender = M_PER_SENDER;
    cfg.expiry_s = M_EXPIRY_S;
    struct txpool *pool;
    assert_int_equal(txpool_create(&cfg, &pool), TC_OK);
    struct model *m = calloc(1, sizeof(*m));
    struct txpool_batch b;
    txpool_batch_init(&b);
    struct mtx *picked[M_MAX_TXS];
    /* Blocks in flight, oldest first, as hashes. */
    enum { MAX_BLOCKS = 8 };
    uint8_t blocks[MAX_BLOCKS][M_MAX_TXS][32];
    size_t block_len[MAX_BLOCKS], n_blocks = 0;
    static const uint64_t prices[] = { 0, 10, 11, 12, 20, 100 };

    for (size_t op = 0; op < ops; op++) {
        if (m->n > M_MAX_MTX / 2)
            m_compact(m);
        uint64_t r = rng_below(&g, 100);
        if (r < 55) {
            int k = (int)rng_below(&g, M_SENDERS);
            uint64_t base = w->nonces[k];
            uint64_t nonce = base + rng_below(&g, M_PER_SENDER + 2);
            if (base > 0 && rng_chance(&g, 100000))
                nonce = base - 1 - rng_below(&g, base);
            uint64_t price = prices[rng_below(&g, 6)];
            uint8_t hash[32];
            struct bytes raw = signed_transfer(w, k, nonce, price, 1, hash);
            struct txpool_result res;
            txpool_submit_sync(pool, raw.ptr, raw.len, &res);
            enum txpool_status want = m_submit(m, hash, k, nonce, price, w->nonces[k], w->now_ms);
            if (res.status != want)
                fail_msg("op %zu: submit sender %d nonce %llu price %llu: pool %s, model %s", op, k,
                         (unsigned long long)nonce, (unsigned long long)price, res.message,
                         txpool_status_message(want));
            bytes_free(&raw);
        } else if (r < 70) {
            if (n_blocks == MAX_BLOCKS)
                continue;
            size_t max_count = 1 + rng_below(&g, 8);
            uint64_t max_gas = rng_chance(&g, 200000) ? 21000 * rng_below(&g, 4) : UINT64_MAX;
            assert_int_equal(txpool_take(pool, max_count, max_gas, &b), TC_OK);
            size_t want = m_take(m, max_count, max_gas, picked);
            if (b.count != want)
                fail_msg("op %zu: take %zu, model %zu", op, b.count, want);
            for (size_t i = 0; i < want; i++) {
                assert_memory_equal(b.picks[i].hash, picked[i]->hash, 32);
                memcpy(blocks[n_blocks][i], picked[i]->hash, 32);
            }
            if (want > 0)
                block_len[n_blocks++] = want;
        } else if (r < 80) {
            if (n_blocks == 0)
                continue;
            /* The oldest block commits: state first, then the pool. */
            for (size_t i = 0; i < block_len[0]; i++) {
                struct mtx *t = m_find(m, blocks[0][i]);
                if (!t)
                    continue; /* dropped or expired meanwhile */
                world_set_nonce(w, t->sender, t->nonce + 1);
                m_commit(m, t);
            }
            txpool_committed(pool, blocks[0], block_len[0]);
            memmove(blocks[0], blocks[1], (n_blocks - 1) * sizeof(blocks[0]));
            memmove(block_len, block_len + 1, (n_blocks - 1) * sizeof(block_len[0]));
            n_blocks--;
        } else if (r < 86) {
            /* Leader change: the newest blocks (or all) are dropped. */
            size_t keep = rng_below(&g, n_blocks + 1);
            for (size_t bi = n_blocks; bi-- > keep;) {
                for (size_t i = 0; i < block_len[bi]; i++) {
                    struct mtx *t = m_find(m, blocks[bi][i]);
                    if (t)
                        m_return(m, t);
                }
                txpool_return(pool, blocks[bi], block_len[bi]);
            }
            n_blocks = keep;
        } else if (r < 90) {
            /* The executor rejects a random live transaction. */
            size_t live = m_count(m, -1);
            if (live == 0)
                continue;
            size_t pick = rng_below(&g, live);
            for (size_t i = 0; i < m->n; i++) {
                if (!m->txs[i].live || pick-- != 0)
                    continue;
                uint8_t h[1][32];
                memcpy(h[0], m->txs[i].hash, 32);
                m_kill(m, &m->txs[i]);
                assert_int_equal(txpool_drop(pool, h, 1), 1);
                break;
            }
        } else if (r < 95) {
            w->now_ms += rng_below(&g, 4000);
        } else if (r < 97) {
            /* Another node's transaction of this sender committed: the
             * state moves on without the pool being told. */
            int k = (int)rng_below(&g, M_SENDERS);
            world_set_nonce(w, k, w->nonces[k] + 1 + rng_below(&g, 3));
        } else {
            size_t want = 0;
            for (size_t i = 0; i < m->n; i++) {
                struct mtx *t = &m->txs[i];
                if (t->live && !t->in_flight && w->now_ms - t->arrival_ms >= M_EXPIRY_S * 1000) {
                    m_kill(m, t);
                    want++;
                }
            }
            assert_int_equal(txpool_expire(pool, w->now_ms), want);
        }
        check_against_model(pool, m, w);
    }
    txpool_batch_free(&b);
    txpool_destroy(pool);
    free(m);
    free(w);
}

static void test_random_operations_match_reference_model(void **state)
{
    (void)state;
    const char *ops_env = getenv("TC_OPS");
    size_t ops = ops_env ? (size_t)strtoull(ops_env, NULL, 0) : 3000;
    int runs = getenv("TC_SEED") ? 1 : 3;
    for (int i = 0; i < runs; i++) {
        uint64_t seed = test_seed + (uint64_t)i;
        printf("txpool model: seed %llu, %zu ops (TC_SEED=%llu replays)\n",
               (unsigned long long)seed, ops, (unsigned long long)seed);
        fflush(stdout);
        run_model(seed, ops);
    }
}

int main(void)
{
    const char *env = getenv("TC_SEED");
    test_seed = env ? strtoull(env, NULL, 0) : 20261124;
    printf("test_txpool_random: seed %llu (set TC_SEED to replay)\n",
           (unsigned long long)test_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_async_submit_completes_on_a_worker),
        cmocka_unit_test(test_full_worker_queue_fails_fast_with_txpool_is_full),
        cmocka_unit_test(test_batch_recovers_all_and_completes_once),
        cmocka_unit_test(test_concurrent_submissions_are_taken_exactly_once),
        cmocka_unit_test(test_random_operations_match_reference_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
