/*
 * txpool.c - admission, queues and selection of the transaction pool (see
 * txpool.h for the contracts, txpool_index.h for the structures).
 *
 * Invariants per sender (kept under the mutex):
 *   - every in-flight transaction has nonce < next, every queued one >= next;
 *   - run counts the queued transactions at next, next+1, ... without a gap,
 *     and the sender is in the ready heap exactly when run > 0, keyed by the
 *     arrival number of the transaction at next;
 *   - a sender exists exactly while it has at least one transaction.
 * Pool counters: pending = sum of run, in_flight, count (all); future is
 * count - in_flight - pending.
 */
#include "txpool/txpool.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"
#include "txpool/txpool_index.h"

struct txpool {
    struct txpool_config cfg;
    pthread_mutex_t lock;
    pthread_cond_t jobs_idle;
    atomic_size_t jobs; /* admission jobs queued or running on the thread pool */
    struct ptable by_hash;
    struct ptable by_sender;
    struct ready_heap ready;
    struct pool_tx *oldest, *newest; /* arrival list */
    size_t count, in_flight, pending, senders;
    uint64_t next_seq;
    atomic_uint_fast64_t commits; /* txpool_committed() calls: see admit() */
    txpool_forward_fn forward;
    void *forward_ctx;
};

/* ---- statuses ----------------------------------------------------------- */

static const struct {
    const char *message;
    int code;
} statuses[TXPOOL_STATUS_COUNT] = {
    [TXPOOL_ADMITTED] = { "", TC_OK },
    [TXPOOL_MALFORMED] = { "invalid transaction encoding", TC_EINVAL },
    [TXPOOL_TYPE_NOT_SUPPORTED] = { "transaction type not supported", TC_EUNSUPPORTED },
    [TXPOOL_OVERSIZED] = { "oversized data", TC_ETOOBIG },
    [TXPOOL_ALREADY_KNOWN] = { "already known", TC_EEXIST },
    [TXPOOL_NONCE_MAX] = { "nonce has max value", TC_ERANGE },
    [TXPOOL_INVALID_CHAIN_ID] = { "invalid chain id", TC_EINVAL },
    [TXPOOL_UNPROTECTED] = { "only replay-protected (EIP-155) transactions allowed over RPC",
                             TC_EPERM },
    [TXPOOL_INITCODE_TOO_LARGE] = { "max initcode size exceeded", TC_ETOOBIG },
    [TXPOOL_GAS_LIMIT] = { "exceeds block gas limit", TC_ERANGE },
    [TXPOOL_TIP_ABOVE_FEE_CAP] = { "max priority fee per gas higher than max fee per gas",
                                   TC_EINVAL },
    [TXPOOL_INTRINSIC_GAS] = { "intrinsic gas too low", TC_ERANGE },
    [TXPOOL_UNDERPRICED] = { "transaction underpriced", TC_EPERM },
    [TXPOOL_INVALID_SENDER] = { "invalid sender", TC_ECRYPTO },
    [TXPOOL_STATE_UNAVAILABLE] = { "account state unavailable", TC_EAGAIN },
    [TXPOOL_NONCE_TOO_LOW] = { "nonce too low", TC_ESTATE },
    [TXPOOL_NONCE_TOO_HIGH] = { "nonce too high", TC_ERANGE },
    [TXPOOL_INSUFFICIENT_FUNDS] = { "insufficient funds for gas * price + value", TC_ESTATE },
    [TXPOOL_REPLACEMENT_UNDERPRICED] = { "replacement transaction underpriced", TC_EPERM },
    [TXPOOL_ACCOUNT_LIMIT] = { "account limit exceeded", TC_EFULL },
    [TXPOOL_FULL] = { "txpool is full", TC_EFULL },
    [TXPOOL_CLOSED] = { "txpool is closed", TC_ECLOSED },
    [TXPOOL_NO_MEMORY] = { "out of memory", TC_ENOMEM },
};

const char *txpool_status_message(enum txpool_status status)
{
    if ((unsigned)status >= TXPOOL_STATUS_COUNT)
        return "unknown txpool status";
    return statuses[status].message;
}

int txpool_status_code(enum txpool_status status)
{
    if ((unsigned)status >= TXPOOL_STATUS_COUNT)
        return TC_EINVAL;
    return statuses[status].code;
}

static void set_status(struct txpool_result *r, enum txpool_status status)
{
    r->status = status;
    r->code = txpool_status_code(status);
    r->message = txpool_status_message(status);
}

/* ---- configuration and life cycle --------------------------------------- */

void txpool_config_default(struct txpool_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->rules.chain_id = 0;
    cfg->rules.allow_unprotected = true;
    cfg->max_txs = 100000;
    cfg->max_per_sender = 1024;
    cfg->max_tx_bytes = TXPOOL_DEFAULT_MAX_TX_BYTES;
    cfg->expiry_s = 600;
    cfg->min_gas_price = u256_zero();
    cfg->block_gas_limit = 0;
}

static uint64_t default_now_ms(void *ctx)
{
    (void)ctx;
    return clock_monotonic_ms();
}

int txpool_create(const struct txpool_config *cfg, struct txpool **out)
{
    if (!cfg || !out || !cfg->account || cfg->max_txs == 0 || cfg->max_txs > TXPOOL_MAX_TXS ||
        cfg->max_per_sender == 0 || cfg->max_per_sender > cfg->max_txs || cfg->max_tx_bytes == 0)
        return TC_EINVAL;
    struct txpool *pool = calloc(1, sizeof(*pool));
    if (!pool)
        return TC_ENOMEM;
    pool->cfg = *cfg;
    atomic_init(&pool->jobs, 0);
    atomic_init(&pool->commits, 0);
    if (!pool->cfg.now_ms)
        pool->cfg.now_ms = default_now_ms;
    uint64_t seed = rng_fresh_seed();
    if (ptable_init(&pool->by_hash, cfg->max_txs, offsetof(struct pool_tx, hash), 32, seed) != 0)
        goto fail_pool;
    if (ptable_init(&pool->by_sender, cfg->max_txs, offsetof(struct pool_sender, addr), 20,
                    seed * UINT64_C(0x2545f4914f6cdd1d) + 1) != 0)
        goto fail_by_hash;
    pool->ready.items = malloc(cfg->max_txs * sizeof(*pool->ready.items));
    if (!pool->ready.items)
        goto fail_by_sender;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->jobs_idle, NULL);
    *out = pool;
    return TC_OK;

fail_by_sender:
    ptable_free(&pool->by_sender);
fail_by_hash:
    ptable_free(&pool->by_hash);
fail_pool:
    free(pool);
    return TC_ENOMEM;
}

static void sender_free(struct pool_sender *s)
{
    free(s->items);
    free(s);
}

void txpool_destroy(struct txpool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    while (atomic_load(&pool->jobs) > 0)
        pthread_cond_wait(&pool->jobs_idle, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
    for (struct pool_tx *t = pool->oldest, *next; t; t = next) {
        next = t->newer;
        pool_tx_unref(t);
    }
    for (size_t i = 0; i <= pool->by_sender.mask; i++)
        if (pool->by_sender.slots[i])
            sender_free(pool->by_sender.slots[i]);
    free(pool->ready.items);
    ptable_free(&pool->by_sender);
    ptable_free(&pool->by_hash);
    pthread_cond_destroy(&pool->jobs_idle);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

void txpool_set_forward(struct txpool *pool, txpool_forward_fn fn, void *ctx)
{
    pthread_mutex_lock(&pool->lock);
    pool->forward = fn;
    pool->forward_ctx = fn ? ctx : NULL;
    pthread_mutex_unlock(&pool->lock);
}

/* ---- structure maintenance (mutex held) --------------------------------- */

/* Recomputes a sender's pending run from `next` and its place in the heap. */
static void sender_refresh(struct txpool *pool, struct pool_sender *s)
{
    pool->pending -= s->run;
    size_t i = sender_lower_bound(s, s->next);
    size_t run = 0;
    while (i + run < s->count && sender_item(s, i + run)->nonce == s->next + run)
        run++;
    s->run = run;
    pool->pending += run;
    if (run > 0) {
        s->head_seq = sender_item(s, i)->seq;
        heap_set(&pool->ready, s);
    } else {
        heap_remove(&pool->ready, s);
    }
}

static void list_unlink(struct txpool *pool, struct pool_tx *t)
{
    if (t->older)
        t->older->newer = t->newer;
    else
        pool->oldest = t->newer;
    if (t->newer)
        t->newer->older = t->older;
    else
        pool->newest = t->older;
    t->older = t->newer = NULL;
}

static void list_append(struct txpool *pool, struct pool_tx *t)
{
    t->older = pool->newest;
    t->newer = NULL;
    if (pool->newest)
        pool->newest->newer = t;
    else
        pool->oldest = t;
    pool->newest = t;
}

/* Takes t out of the table, the arrival list and the counters and drops the
 * pool's reference. The caller has removed it from its sender's array. */
static void forget_tx(struct txpool *pool, struct pool_tx *t)
{
    ptable_remove(&pool->by_hash, t);
    list_unlink(pool, t);
    pool->count--;
    if (t->in_flight)
        pool->in_flight--;
    t->sender = NULL;
    pool_tx_unref(t);
}

/* Frees the sender when it holds nothing any more. */
static void sender_release_if_empty(struct txpool *pool, struct pool_sender *s)
{
    if (s->count > 0)
        return;
    assert(s->run == 0 && s->heap_pos == SIZE_MAX);
    ptable_remove(&pool->by_sender, s);
    pool->senders--;
    sender_free(s);
}

static size_t index_of(const struct pool_sender *s, const struct pool_tx *t)
{
    size_t i = sender_lower_bound(s, t->nonce);
    assert(i < s->count && sender_item(s, i) == t);
    return i;
}

/* Removes one transaction, whatever its state. */
static void remove_tx(struct txpool *pool, struct pool_tx *t)
{
    struct pool_sender *s = t->sender;
    sender_remove_at(s, index_of(s, t));
    forget_tx(pool, t);
    sender_refresh(pool, s);
    sender_release_if_empty(pool, s);
}

/*
 * The state says the sender's nonce is state_nonce: queued transactions
 * below it can never run (the pool was not told of what consumed those
 * nonces); in-flight ones are left to committed() or return().
 */
static void sender_sync(struct txpool *pool, struct pool_sender *s, uint64_t state_nonce)
{
    if (state_nonce <= s->next)
        return;
    size_t i = sender_lower_bound(s, s->next);
    while (i < s->count && sender_item(s, i)->nonce < state_nonce) {
        struct pool_tx *t = sender_item(s, i);
        sender_remove_at(s, i);
        forget_tx(pool, t);
    }
    s->next = state_nonce;
    sender_refresh(pool, s);
}

/* ---- admission ---------------------------------------------------------- */

/* floor(x * (100 + bump) / 100) without overflow; false if it exceeds 2^256. */
static bool bumped(u256 x, u256 *out)
{
    u256 hundred = u256_from_u64(100), q, r;
    u256_div_rem(x, hundred, &q, &r);
    u256 extra = u256_add(u256_mul(q, u256_from_u64(TXPOOL_PRICE_BUMP_PERCENT)),
                          u256_div(u256_mul(r, u256_from_u64(TXPOOL_PRICE_BUMP_PERCENT)), hundred));
    return !u256_add_overflow(x, extra, out);
}

/* geth's rule: both caps strictly higher and at least bumped by the percentage. */
static bool replaces(const struct pool_tx *old, const struct pool_tx *t)
{
    if (!u256_gt(t->fee_cap, old->fee_cap) || !u256_gt(t->tip_cap, old->tip_cap))
        return false;
    u256 fee_min, tip_min;
    if (!bumped(old->fee_cap, &fee_min) || !bumped(old->tip_cap, &tip_min))
        return false;
    return !u256_lt(t->fee_cap, fee_min) && !u256_lt(t->tip_cap, tip_min);
}

static struct pool_sender *sender_new(const uint8_t addr[20], uint64_t next)
{
    struct pool_sender *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    memcpy(s->addr, addr, 20);
    s->next = next;
    s->heap_pos = SIZE_MAX;
    return s;
}

/* Links a new transaction whose slot in s is index i (no transaction there). */
static enum txpool_status link_new(struct txpool *pool, struct pool_sender *s, size_t i,
                                   struct pool_tx *t)
{
    if (sender_insert_at(s, i, t) != TC_OK)
        return TXPOOL_NO_MEMORY;
    t->sender = s;
    t->seq = pool->next_seq++;
    ptable_insert(&pool->by_hash, t);
    list_append(pool, t);
    pool->count++;
    if (t->nonce == s->next + s->run) {
        /* Extends the pending run and promotes the future transactions that
         * now follow without a gap. */
        size_t old_run = s->run;
        size_t j = i;
        while (j < s->count && sender_item(s, j)->nonce == s->next + s->run) {
            s->run++;
            j++;
        }
        pool->pending += s->run - old_run;
        if (old_run == 0) {
            s->head_seq = t->seq;
            heap_set(&pool->ready, s);
        }
    }
    return TXPOOL_ADMITTED;
}

/* Puts t in old's place (same sender and nonce, both queued). */
static void link_replacement(struct txpool *pool, struct pool_sender *s, size_t i,
                             struct pool_tx *old, struct pool_tx *t)
{
    s->items[s->start + i] = t;
    t->sender = s;
    t->seq = pool->next_seq++;
    ptable_insert(&pool->by_hash, t);
    list_append(pool, t);
    pool->count++;
    forget_tx(pool, old);
    if (t->nonce == s->next) {
        s->head_seq = t->seq;
        heap_set(&pool->ready, s);
    }
}

/*
 * The state-dependent checks, in geth's order (known, nonce, funds,
 * replacement, limits), and the insertion, under the mutex. On
 * TXPOOL_ADMITTED the pool holds its own reference to t.
 */
static enum txpool_status try_insert(struct txpool *pool, struct pool_tx *t, uint64_t state_nonce,
                                     u256 balance, bool cost_overflow, bool *replaced)
{
    if (ptable_find(&pool->by_hash, t->hash))
        return TXPOOL_ALREADY_KNOWN;
    struct pool_sender *s = ptable_find(&pool->by_sender, t->from);
    uint64_t lowest = state_nonce;
    if (s) {
        sender_sync(pool, s, state_nonce);
        if (s->next > lowest)
            lowest = s->next; /* below next: in flight or consumed */
    }
    if (t->nonce < lowest)
        return TXPOOL_NONCE_TOO_LOW;
    if (t->nonce - state_nonce >= pool->cfg.max_per_sender)
        return TXPOOL_NONCE_TOO_HIGH;
    if (cost_overflow || u256_lt(balance, t->cost))
        return TXPOOL_INSUFFICIENT_FUNDS;
    size_t i = 0;
    struct pool_tx *old = s ? sender_find(s, t->nonce, &i) : NULL;
    if (old) {
        if (!replaces(old, t))
            return TXPOOL_REPLACEMENT_UNDERPRICED;
        pool_tx_ref(t);
        link_replacement(pool, s, i, old, t);
        *replaced = true;
        return TXPOOL_ADMITTED;
    }
    if (s && s->count >= pool->cfg.max_per_sender)
        return TXPOOL_ACCOUNT_LIMIT;
    if (pool->count >= pool->cfg.max_txs)
        return TXPOOL_FULL;
    bool created = false;
    if (!s) {
        s = sender_new(t->from, state_nonce);
        if (!s)
            return TXPOOL_NO_MEMORY;
        ptable_insert(&pool->by_sender, s);
        pool->senders++;
        created = true;
    }
    pool_tx_ref(t);
    enum txpool_status st = link_new(pool, s, i, t);
    if (st != TXPOOL_ADMITTED) {
        pool_tx_unref(t);
        if (created)
            sender_release_if_empty(pool, s);
    }
    return st;
}

/* try_insert(), and no sender left without transactions when it refuses. */
static enum txpool_status insert_locked(struct txpool *pool, struct pool_tx *t,
                                        uint64_t state_nonce, u256 balance, bool cost_overflow,
                                        bool *replaced)
{
    *replaced = false;
    enum txpool_status st = try_insert(pool, t, state_nonce, balance, cost_overflow, replaced);
    if (st != TXPOOL_ADMITTED) {
        /* sender_sync() may have emptied an existing sender. */
        struct pool_sender *s = ptable_find(&pool->by_sender, t->from);
        if (s)
            sender_release_if_empty(pool, s);
    }
    return st;
}

/* Account reads per admission when commits keep racing with them. */
#define ADMIT_MAX_READS 8

/* What the caller's thread prepares and a worker finishes. */
struct admission {
    struct pool_tx *t;
    struct tx tx; /* views into t->raw */
    bool cost_overflow;
};

static enum txpool_status check_stateless(const struct txpool *pool, const struct tx *tx)
{
    const struct txpool_config *cfg = &pool->cfg;
    if (tx->nonce == UINT64_MAX)
        return TXPOOL_NONCE_MAX;
    if (tx->type == TX_LEGACY && !tx->eip155) {
        if (!cfg->rules.allow_unprotected)
            return TXPOOL_UNPROTECTED;
    } else if (tx->chain_id == 0 ||
               (cfg->rules.chain_id != 0 && tx->chain_id != cfg->rules.chain_id)) {
        return TXPOOL_INVALID_CHAIN_ID;
    }
    if (!tx->has_to && tx->data.len > TX_MAX_INITCODE_BYTES)
        return TXPOOL_INITCODE_TOO_LARGE;
    if (cfg->block_gas_limit != 0 && tx->gas_limit > cfg->block_gas_limit)
        return TXPOOL_GAS_LIMIT;
    if (u256_lt(tx->max_fee_per_gas, tx->max_priority_fee_per_gas))
        return TXPOOL_TIP_ABOVE_FEE_CAP;
    if (tx->gas_limit < tx_intrinsic_gas(tx))
        return TXPOOL_INTRINSIC_GAS;
    if (u256_lt(tx->max_fee_per_gas, cfg->min_gas_price))
        return TXPOOL_UNDERPRICED;
    return TXPOOL_ADMITTED;
}

/*
 * The caller's-thread part: size, decoding, stateless rules, hash, and a
 * first de-duplication. On TXPOOL_ADMITTED, a->t holds a new transaction
 * (one reference, the caller's) and result->hash is set.
 */
static enum txpool_status prepare(struct txpool *pool, const uint8_t *raw, size_t len,
                                  struct admission *a, struct txpool_result *result)
{
    memset(result, 0, sizeof(*result));
    a->t = NULL;
    if (len > pool->cfg.max_tx_bytes) {
        set_status(result, TXPOOL_OVERSIZED);
        return TXPOOL_OVERSIZED;
    }
    struct pool_tx *t = pool_tx_new(raw, len);
    if (!t) {
        set_status(result, TXPOOL_NO_MEMORY);
        return TXPOOL_NO_MEMORY;
    }
    const char *reason = NULL;
    int rc = tx_decode(bytes_view_of(t->raw, len), &a->tx, &reason);
    enum txpool_status st = TXPOOL_ADMITTED;
    if (rc == TC_EUNSUPPORTED) {
        st = TXPOOL_TYPE_NOT_SUPPORTED;
        goto fail_tx;
    }
    if (rc != TC_OK) {
        st = TXPOOL_MALFORMED;
        goto fail_tx;
    }
    tx_hash(&a->tx, t->hash);
    memcpy(result->hash, t->hash, 32);
    result->has_hash = true;
    st = check_stateless(pool, &a->tx);
    if (st != TXPOOL_ADMITTED)
        goto fail_tx;
    /* What remains of tx_check(): gasLimit * maxFee within 256 bits (no
     * balance can pay more: reported as insufficient funds once the nonce
     * is known good) and r, s in range (no sender recovers otherwise). */
    u256 gas_cost;
    a->cost_overflow =
        u256_mul_overflow(u256_from_u64(a->tx.gas_limit), a->tx.max_fee_per_gas, &gas_cost) ||
        u256_add_overflow(gas_cost, a->tx.value, &t->cost);
    if (!a->cost_overflow && tx_check(&a->tx, &pool->cfg.rules, &reason) != TC_OK) {
        st = TXPOOL_INVALID_SENDER;
        goto fail_tx;
    }
    t->nonce = a->tx.nonce;
    t->gas_limit = a->tx.gas_limit;
    t->fee_cap = a->tx.max_fee_per_gas;
    t->tip_cap = a->tx.max_priority_fee_per_gas;
    pthread_mutex_lock(&pool->lock);
    bool known = ptable_find(&pool->by_hash, t->hash) != NULL;
    pthread_mutex_unlock(&pool->lock);
    if (known) {
        st = TXPOOL_ALREADY_KNOWN;
        goto fail_tx;
    }
    a->t = t;
    return TXPOOL_ADMITTED;

fail_tx:
    pool_tx_unref(t);
    set_status(result, st);
    if (st == TXPOOL_MALFORMED && reason)
        result->message = reason; /* the decoder's static text says what is wrong */
    return st;
}

/*
 * The worker's part: sender recovery and the account read (both outside
 * the mutex), then insert_locked(), then the forwarding hook. Consumes the
 * caller's reference to a->t.
 */
static void admit(struct txpool *pool, struct admission *a, struct txpool_result *result)
{
    struct pool_tx *t = a->t;
    enum txpool_status st;
    uint64_t state_nonce;
    u256 balance;
    txpool_forward_fn forward = NULL;
    void *forward_ctx = NULL;
    if (tx_sender(&a->tx, t->from, NULL) != TC_OK) {
        st = TXPOOL_INVALID_SENDER;
        goto done;
    }
    /*
     * The account is read without the mutex, so a commit can slip in
     * between the read and the insertion: the read nonce may then be older
     * than what committed() told the pool, which matters when committed()
     * has just forgotten the sender (a new record would start at the stale
     * nonce and the transaction would wait behind a nonce already used).
     * committed() runs after the state is updated, so if no commit
     * happened between the read and the mutex, the read is at least as new
     * as the pool. Otherwise read again, a bounded number of times.
     */
    t->arrival_ms = pool->cfg.now_ms(pool->cfg.now_ctx);
    for (unsigned attempt = 0;; attempt++) {
        uint64_t commits = atomic_load(&pool->commits);
        if (pool->cfg.account(pool->cfg.account_ctx, t->from, &state_nonce, &balance) != 0) {
            st = TXPOOL_STATE_UNAVAILABLE;
            goto done;
        }
        pthread_mutex_lock(&pool->lock);
        if (atomic_load(&pool->commits) == commits || attempt == ADMIT_MAX_READS - 1)
            break;
        pthread_mutex_unlock(&pool->lock);
    }
    st = insert_locked(pool, t, state_nonce, balance, a->cost_overflow, &result->replaced);
    if (st == TXPOOL_ADMITTED && pool->forward) {
        forward = pool->forward;
        forward_ctx = pool->forward_ctx;
    }
    pthread_mutex_unlock(&pool->lock);
    /* Our reference keeps the bytes alive even if another thread has
     * already taken and committed the transaction. */
    if (forward)
        forward(forward_ctx, t->hash, t->raw, t->len);
done:
    set_status(result, st);
    pool_tx_unref(t);
}

int txpool_submit_sync(struct txpool *pool, const uint8_t *raw, size_t len,
                       struct txpool_result *result)
{
    struct admission a;
    if (prepare(pool, raw, len, &a, result) != TXPOOL_ADMITTED)
        return result->code;
    admit(pool, &a, result);
    return result->code;
}

/* ---- asynchronous admission --------------------------------------------- */

struct batch_state {
    atomic_size_t remaining;
    txpool_batch_done_fn done;
    void *ctx;
};

struct job {
    struct txpool *pool;
    struct admission a;
    struct txpool_result *result; /* &own, or a slot of the caller's batch array */
    struct txpool_result own;
    txpool_done_fn done; /* single submission */
    void *ctx;
    struct batch_state *batch; /* batch submission */
};

/* The counter is atomic so that a job costs no extra trip through the
 * mutex; only the last one takes it, to wake txpool_destroy() (which checks
 * the counter under the mutex, so the wake-up cannot be lost). */
static void job_finished(struct txpool *pool)
{
    if (atomic_fetch_sub(&pool->jobs, 1) != 1)
        return;
    pthread_mutex_lock(&pool->lock);
    pthread_cond_broadcast(&pool->jobs_idle);
    pthread_mutex_unlock(&pool->lock);
}

static void job_run(void *arg)
{
    struct job *job = arg;
    struct txpool *pool = job->pool;
    admit(pool, &job->a, job->result);
    if (job->done) {
        job->done(job->ctx, job->result);
    } else if (atomic_fetch_sub(&job->batch->remaining, 1) == 1) {
        job->batch->done(job->batch->ctx);
        free(job->batch);
    }
    free(job);
    job_finished(pool); /* last: txpool_destroy() may free the pool after it */
}

/* Queues a prepared job; on failure the job is freed and *result says why. */
static int job_queue(struct txpool *pool, struct job *job, struct txpool_result *result)
{
    atomic_fetch_add(&pool->jobs, 1);
    int rc = threadpool_submit(pool->cfg.workers, job_run, job);
    if (rc == TC_OK)
        return TC_OK;
    job_finished(pool);
    pool_tx_unref(job->a.t);
    free(job);
    set_status(result, rc == TC_EFULL ? TXPOOL_FULL : TXPOOL_CLOSED);
    return result->code;
}

/* prepare() into a new job; NULL with *result filled when refused early. */
static struct job *job_prepare(struct txpool *pool, const uint8_t *raw, size_t len,
                               struct txpool_result *result)
{
    struct job *job = malloc(sizeof(*job));
    if (!job) {
        memset(result, 0, sizeof(*result));
        set_status(result, TXPOOL_NO_MEMORY);
        return NULL;
    }
    if (prepare(pool, raw, len, &job->a, result) != TXPOOL_ADMITTED) {
        free(job);
        return NULL;
    }
    job->pool = pool;
    job->result = &job->own;
    job->own = *result;
    job->done = NULL;
    job->ctx = NULL;
    job->batch = NULL;
    return job;
}

int txpool_submit(struct txpool *pool, const uint8_t *raw, size_t len, txpool_done_fn done,
                  void *ctx, struct txpool_result *early)
{
    struct txpool_result scratch;
    struct txpool_result *result = early ? early : &scratch;
    if (!pool->cfg.workers || !done) {
        memset(result, 0, sizeof(*result));
        set_status(result, TXPOOL_CLOSED);
        result->code = TC_EINVAL;
        return TC_EINVAL;
    }
    struct job *job = job_prepare(pool, raw, len, result);
    if (!job)
        return result->code;
    job->done = done;
    job->ctx = ctx;
    return job_queue(pool, job, result);
}

int txpool_submit_batch(struct txpool *pool, const struct bytes_view *raws, size_t n,
                        struct txpool_result *results, txpool_batch_done_fn done, void *ctx,
                        bool *async)
{
    *async = false;
    if (n == 0 || !raws || !results || !done || !pool->cfg.workers)
        return TC_EINVAL;
    struct batch_state *batch = malloc(sizeof(*batch));
    if (!batch) {
        for (size_t i = 0; i < n; i++) {
            memset(&results[i], 0, sizeof(results[i]));
            set_status(&results[i], TXPOOL_NO_MEMORY);
        }
        return TC_OK;
    }
    /* One extra count held by this thread, so that the batch cannot
     * complete while jobs are still being queued. */
    atomic_init(&batch->remaining, 1);
    batch->done = done;
    batch->ctx = ctx;
    for (size_t i = 0; i < n; i++) {
        struct job *job = job_prepare(pool, raws[i].ptr, raws[i].len, &results[i]);
        if (!job)
            continue;
        job->result = &results[i];
        job->batch = batch;
        atomic_fetch_add(&batch->remaining, 1);
        if (job_queue(pool, job, &results[i]) != TC_OK)
            atomic_fetch_sub(&batch->remaining, 1);
    }
    if (atomic_fetch_sub(&batch->remaining, 1) == 1) {
        free(batch); /* every job (if any) has finished: the results are final */
        return TC_OK;
    }
    *async = true;
    return TC_OK;
}

/* ---- selection, commit, return ------------------------------------------ */

void txpool_batch_init(struct txpool_batch *batch)
{
    memset(batch, 0, sizeof(*batch));
    bytes_init(&batch->raw);
}

void txpool_batch_free(struct txpool_batch *batch)
{
    free(batch->picks);
    bytes_free(&batch->raw);
    txpool_batch_init(batch);
}

struct bytes_view txpool_batch_raw(const struct txpool_batch *batch, size_t i)
{
    const struct txpool_pick *p = &batch->picks[i];
    return bytes_view_of(batch->raw.ptr + p->raw_offset, p->raw_len);
}

int txpool_take(struct txpool *pool, size_t max_count, uint64_t max_gas, struct txpool_batch *out)
{
    out->count = 0;
    bytes_clear(&out->raw);
    if (max_count > pool->cfg.max_txs)
        max_count = pool->cfg.max_txs;
    if (out->cap < max_count) {
        struct txpool_pick *picks = realloc(out->picks, max_count * sizeof(*picks));
        if (!picks)
            return TC_ENOMEM;
        out->picks = picks;
        out->cap = max_count;
    }
    struct pool_sender *skipped[TXPOOL_TAKE_MAX_SKIPS];
    size_t n_skipped = 0;
    int rc = TC_OK;
    uint64_t gas_left = max_gas;
    pthread_mutex_lock(&pool->lock);
    while (out->count < max_count && pool->ready.len > 0) {
        struct pool_sender *s = pool->ready.items[0];
        size_t i = sender_lower_bound(s, s->next);
        struct pool_tx *t = sender_item(s, i);
        assert(t->nonce == s->next && !t->in_flight);
        if (t->gas_limit > gas_left) {
            heap_remove(&pool->ready, s);
            skipped[n_skipped++] = s;
            if (n_skipped == TXPOOL_TAKE_MAX_SKIPS)
                break;
            continue;
        }
        size_t offset = out->raw.len;
        if (bytes_append(&out->raw, t->raw, t->len) != TC_OK) {
            rc = TC_ENOMEM;
            break;
        }
        struct txpool_pick *p = &out->picks[out->count++];
        memcpy(p->hash, t->hash, 32);
        memcpy(p->sender, t->from, 20);
        p->nonce = t->nonce;
        p->gas_limit = t->gas_limit;
        p->raw_offset = offset;
        p->raw_len = t->len;
        gas_left -= t->gas_limit;
        t->in_flight = true;
        pool->in_flight++;
        pool->pending--;
        s->run--;
        s->next++;
        if (s->run > 0) {
            s->head_seq = sender_item(s, i + 1)->seq;
            heap_set(&pool->ready, s);
        } else {
            heap_remove(&pool->ready, s);
        }
    }
    for (size_t k = 0; k < n_skipped; k++)
        heap_set(&pool->ready, skipped[k]);
    pthread_mutex_unlock(&pool->lock);
    return rc;
}

size_t txpool_committed(struct txpool *pool, const uint8_t (*hashes)[32], size_t n)
{
    size_t removed = 0;
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add(&pool->commits, 1);
    for (size_t k = 0; k < n; k++) {
        struct pool_tx *t = ptable_find(&pool->by_hash, hashes[k]);
        if (!t)
            continue;
        struct pool_sender *s = t->sender;
        uint64_t nonce = t->nonce;
        /* Everything of this sender up to this nonce is consumed. */
        while (s->count > 0 && sender_item(s, 0)->nonce <= nonce) {
            struct pool_tx *old = sender_item(s, 0);
            sender_remove_at(s, 0);
            forget_tx(pool, old);
            removed++;
        }
        if (s->next <= nonce)
            s->next = nonce + 1;
        sender_refresh(pool, s);
        sender_release_if_empty(pool, s);
    }
    pthread_mutex_unlock(&pool->lock);
    return removed;
}

size_t txpool_return(struct txpool *pool, const uint8_t (*hashes)[32], size_t n)
{
    size_t returned = 0;
    pthread_mutex_lock(&pool->lock);
    for (size_t k = 0; k < n; k++) {
        struct pool_tx *t = ptable_find(&pool->by_hash, hashes[k]);
        if (!t || !t->in_flight)
            continue;
        struct pool_sender *s = t->sender;
        /* In flight are exactly the items below next, so the ones from t
         * up are contiguous in the array. */
        for (size_t i = index_of(s, t); i < s->count && sender_item(s, i)->in_flight; i++) {
            sender_item(s, i)->in_flight = false;
            pool->in_flight--;
            returned++;
        }
        s->next = t->nonce;
        sender_refresh(pool, s);
    }
    pthread_mutex_unlock(&pool->lock);
    return returned;
}

size_t txpool_drop(struct txpool *pool, const uint8_t (*hashes)[32], size_t n)
{
    size_t removed = 0;
    pthread_mutex_lock(&pool->lock);
    for (size_t k = 0; k < n; k++) {
        struct pool_tx *t = ptable_find(&pool->by_hash, hashes[k]);
        if (!t)
            continue;
        remove_tx(pool, t);
        removed++;
    }
    pthread_mutex_unlock(&pool->lock);
    return removed;
}

size_t txpool_resync(struct txpool *pool, size_t max_senders)
{
    if (max_senders > TXPOOL_RESYNC_MAX_SENDERS)
        max_senders = TXPOOL_RESYNC_MAX_SENDERS;
    uint8_t addrs[TXPOOL_RESYNC_MAX_SENDERS][20];
    size_t n = 0, walked = 0;
    pthread_mutex_lock(&pool->lock);
    /* Stuck senders hold old transactions: walk from the oldest, bounded. */
    for (struct pool_tx *t = pool->oldest; t && n < max_senders && walked < TXPOOL_RESYNC_MAX_WALK;
         t = t->newer, walked++) {
        const struct pool_sender *s = t->sender;
        if (t->in_flight || !s || s->run > 0)
            continue;
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = memcmp(addrs[i], s->addr, 20) == 0;
        if (!seen)
            memcpy(addrs[n++], s->addr, 20);
    }
    pthread_mutex_unlock(&pool->lock);
    size_t advanced = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t nonce;
        u256 balance;
        if (pool->cfg.account(pool->cfg.account_ctx, addrs[i], &nonce, &balance) != 0)
            continue;
        pthread_mutex_lock(&pool->lock);
        struct pool_sender *s = ptable_find(&pool->by_sender, addrs[i]);
        if (s && nonce > s->next) {
            sender_sync(pool, s, nonce);
            sender_release_if_empty(pool, s);
            advanced++;
        }
        pthread_mutex_unlock(&pool->lock);
    }
    return advanced;
}

size_t txpool_expire(struct txpool *pool, uint64_t now_ms)
{
    if (pool->cfg.expiry_s == 0)
        return 0;
    uint64_t expiry_ms = pool->cfg.expiry_s * 1000;
    size_t removed = 0;
    pthread_mutex_lock(&pool->lock);
    /* Oldest first; stop at the first that is young enough. In-flight
     * transactions are skipped, so the walk also costs their number. */
    struct pool_tx *t = pool->oldest;
    while (t && now_ms >= t->arrival_ms && now_ms - t->arrival_ms >= expiry_ms) {
        struct pool_tx *newer = t->newer;
        if (!t->in_flight) {
            remove_tx(pool, t);
            removed++;
        }
        t = newer;
    }
    pthread_mutex_unlock(&pool->lock);
    if (removed > 0)
        LOG_D("txpool", "expired %zu transactions", removed);
    return removed;
}

int txpool_forward_all(struct txpool *pool, size_t *count)
{
    if (count)
        *count = 0;
    pthread_mutex_lock(&pool->lock);
    txpool_forward_fn forward = pool->forward;
    void *forward_ctx = pool->forward_ctx;
    if (!forward) {
        pthread_mutex_unlock(&pool->lock);
        return TC_ESTATE;
    }
    size_t n = pool->count - pool->in_flight, k = 0;
    struct pool_tx **all = malloc((n ? n : 1) * sizeof(*all));
    if (!all) {
        pthread_mutex_unlock(&pool->lock);
        return TC_ENOMEM;
    }
    for (struct pool_tx *t = pool->oldest; t; t = t->newer) {
        if (!t->in_flight) {
            pool_tx_ref(t);
            all[k++] = t;
        }
    }
    pthread_mutex_unlock(&pool->lock);
    assert(k == n);
    for (size_t i = 0; i < k; i++) {
        forward(forward_ctx, all[i]->hash, all[i]->raw, all[i]->len);
        pool_tx_unref(all[i]);
    }
    free(all);
    if (count)
        *count = k;
    return TC_OK;
}

/* ---- queries ------------------------------------------------------------ */

void txpool_get_stats(struct txpool *pool, struct txpool_stats *out)
{
    pthread_mutex_lock(&pool->lock);
    out->pending = pool->pending;
    out->in_flight = pool->in_flight;
    out->future = pool->count - pool->in_flight - pool->pending;
    out->senders = pool->senders;
    pthread_mutex_unlock(&pool->lock);
}

bool txpool_contains(struct txpool *pool, const uint8_t hash[32])
{
    pthread_mutex_lock(&pool->lock);
    bool found = ptable_find(&pool->by_hash, hash) != NULL;
    pthread_mutex_unlock(&pool->lock);
    return found;
}

int txpool_get(struct txpool *pool, const uint8_t hash[32], struct bytes *out)
{
    pthread_mutex_lock(&pool->lock);
    struct pool_tx *t = ptable_find(&pool->by_hash, hash);
    int rc = t ? bytes_append(out, t->raw, t->len) : TC_ENOTFOUND;
    pthread_mutex_unlock(&pool->lock);
    return rc;
}

uint64_t txpool_next_nonce(struct txpool *pool, const uint8_t sender[20], uint64_t state_nonce)
{
    uint64_t nonce = state_nonce;
    pthread_mutex_lock(&pool->lock);
    struct pool_sender *s = ptable_find(&pool->by_sender, sender);
    if (s) {
        for (size_t i = sender_lower_bound(s, nonce);
             i < s->count && sender_item(s, i)->nonce == nonce; i++)
            nonce++;
    }
    pthread_mutex_unlock(&pool->lock);
    return nonce;
}
