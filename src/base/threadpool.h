/*
 * threadpool.h - a fixed set of worker threads fed by a bounded FIFO queue.
 *
 * For CPU-heavy work that must stay off the event-loop thread: the txpool's
 * parallel sender recovery (secp256k1 public-key recovery of each incoming
 * transaction) submits one job per transaction here, and a job's completion
 * is reported by the job itself (e.g. by queueing a result back to the
 * loop). The number of threads and the queue capacity are fixed at creation,
 * so that the pool fits Gramine's fixed thread budget and a burst of input
 * cannot grow memory: when the queue is full, threadpool_submit() says so
 * (TC_EFULL) and the caller decides (reject, retry later, or block with
 * threadpool_submit_wait()).
 *
 * Usage:
 *     struct threadpool *pool;
 *     if (threadpool_create(&pool, 2, 1024) != TC_OK) ...;
 *     rc = threadpool_submit(pool, recover_sender, job);   // TC_EFULL: back off
 *     threadpool_wait_idle(pool);                           // all jobs done
 *     threadpool_destroy(pool);                             // runs what is queued
 *
 * Contracts:
 * - Jobs start in submission order (FIFO); with more than one worker they
 *   may finish in any order. A job runs exactly once, on a worker thread.
 * - If a submit function returns an error, the job will never run and the
 *   pool never touches its argument.
 * - The pool does not own job arguments: a job frees its own argument if it
 *   must. Jobs must not block forever (destroy waits for them).
 * - submit, submit_wait and shutdown may be called from any thread,
 *   concurrently, including from inside a job (but see submit_wait).
 *   wait_idle and destroy must not be called from inside a job (they would
 *   wait for themselves).
 * - Workers block every signal, so that signals go to the event-loop thread.
 * - Nothing busy-waits: idle workers and blocked callers sleep on condition
 *   variables.
 */
#ifndef TC_BASE_THREADPOOL_H
#define TC_BASE_THREADPOOL_H

#include <stddef.h>

/* Bounds on creation arguments: enough for any node, small enough that a
 * misconfigured value fails at start-up rather than exhausting memory. */
#define THREADPOOL_MAX_THREADS 256
#define THREADPOOL_MAX_QUEUE   (1u << 20)
/* Bounds on a worker's stack size (threadpool_create_with_stack). */
#define THREADPOOL_MIN_STACK_BYTES (64u * 1024)
#define THREADPOOL_MAX_STACK_BYTES (1024u * 1024 * 1024)

struct threadpool;

/* A job: called once, on a worker thread, with the argument given at submission. */
typedef void (*threadpool_fn)(void *arg);

/*
 * Starts `threads` workers (1..THREADPOOL_MAX_THREADS) sharing a queue of
 * `queue_capacity` jobs (1..THREADPOOL_MAX_QUEUE). On success *out is the
 * pool, freed by threadpool_destroy(). Returns TC_OK, TC_EINVAL for an
 * argument out of range, TC_ENOMEM, or TC_EAGAIN when the system refuses a
 * thread (then no thread is left running and *out is untouched).
 */
int threadpool_create(struct threadpool **out, unsigned threads, size_t queue_capacity);

/*
 * threadpool_create() whose workers get stack_bytes of stack each (0: the
 * system default, else THREADPOOL_MIN_STACK_BYTES..THREADPOOL_MAX_STACK_BYTES),
 * for jobs that recurse deeply, such as the EVM (evm.h: at least 8 MiB).
 * Same results as threadpool_create(); TC_EINVAL also for a stack size out
 * of range or refused by the system.
 */
int threadpool_create_with_stack(struct threadpool **out, unsigned threads, size_t queue_capacity,
                                 size_t stack_bytes);

/*
 * Queues fn(arg) without blocking. Returns TC_OK, TC_EFULL when the queue
 * holds queue_capacity jobs, TC_ECLOSED once shutdown or destroy has begun,
 * TC_EINVAL when fn is NULL.
 */
int threadpool_submit(struct threadpool *pool, threadpool_fn fn, void *arg);

/*
 * Queues fn(arg), sleeping while the queue is full. Returns TC_OK,
 * TC_ECLOSED once shutdown or destroy has begun (including while it was
 * waiting), TC_EINVAL when fn is NULL. Called from inside a job it can wait
 * forever if every worker does the same: jobs should use threadpool_submit.
 */
int threadpool_submit_wait(struct threadpool *pool, threadpool_fn fn, void *arg);

/*
 * Sleeps until the queue is empty and no job is running, i.e. every job
 * submitted before the call has finished. Jobs submitted concurrently by
 * other threads may extend the wait. Returns at once on an idle pool.
 */
void threadpool_wait_idle(struct threadpool *pool);

/*
 * Stops accepting work: from now on every submission returns TC_ECLOSED and
 * callers sleeping in threadpool_submit_wait wake up with TC_ECLOSED. Jobs
 * already queued still run. Idempotent; does not wait. Use it to stop the
 * producers before threadpool_destroy() when they run on other threads.
 */
void threadpool_shutdown(struct threadpool *pool);

/*
 * Shuts the pool down (as threadpool_shutdown), lets the workers run every
 * job still queued, joins them and frees the pool. Queued jobs are run, not
 * dropped. NULL is a no-op. The caller must make sure no other thread calls
 * into the pool after destroy has started (calls already sleeping in
 * threadpool_submit_wait are woken and have returned before it frees).
 */
void threadpool_destroy(struct threadpool *pool);

/* The number of worker threads (as given at creation). */
unsigned threadpool_thread_count(const struct threadpool *pool);

/* A snapshot of the pool's load, for metrics and tests; stale as soon as it
 * is returned when other threads are active. */
struct threadpool_stats {
    size_t queued;               /* jobs waiting in the queue */
    unsigned running;            /* jobs executing on a worker */
    unsigned blocked_submitters; /* callers sleeping in threadpool_submit_wait */
};

void threadpool_get_stats(struct threadpool *pool, struct threadpool_stats *out);

#endif
