/*
 * threadpool.c - fixed worker threads over a bounded ring of jobs, one mutex
 * and three condition variables (see threadpool.h for the contracts).
 */
#include "base/threadpool.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/error.h"

struct job {
    threadpool_fn fn;
    void *arg;
};

struct threadpool {
    pthread_mutex_t lock;      /* guards every field below except the immutable ones */
    pthread_cond_t work_ready; /* a job was queued, or the pool is closing */
    pthread_cond_t space_free; /* a queue slot was freed, or the pool is closing */
    pthread_cond_t idle;       /* queue empty and no job running; or last waiter left */
    struct job *ring;          /* capacity slots; count jobs from head, wrapping */
    size_t capacity;           /* immutable */
    size_t head;
    size_t count;
    unsigned running;  /* jobs taken off the queue and not yet finished */
    unsigned sleepers; /* callers inside threadpool_submit_wait */
    bool closing;
    pthread_t *threads;
    unsigned thread_count; /* immutable */
};

/* Appends a job; the caller holds the lock and has checked for room. */
static void enqueue_locked(struct threadpool *pool, threadpool_fn fn, void *arg)
{
    size_t tail = (pool->head + pool->count) % pool->capacity;
    pool->ring[tail].fn = fn;
    pool->ring[tail].arg = arg;
    pool->count++;
    pthread_cond_signal(&pool->work_ready);
}

static void *worker_main(void *arg)
{
    struct threadpool *pool = arg;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (pool->count == 0 && !pool->closing)
            pthread_cond_wait(&pool->work_ready, &pool->lock);
        /* Closing stops submissions, not work: exit only once the queue is drained. */
        if (pool->count == 0)
            break;
        struct job job = pool->ring[pool->head];
        pool->head = (pool->head + 1) % pool->capacity;
        pool->count--;
        pool->running++;
        pthread_cond_signal(&pool->space_free);
        pthread_mutex_unlock(&pool->lock);

        job.fn(job.arg);

        pthread_mutex_lock(&pool->lock);
        pool->running--;
        if (pool->count == 0 && pool->running == 0)
            pthread_cond_broadcast(&pool->idle);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

/* Sets closing, wakes every sleeper, and joins the first `started` workers. */
static void stop_workers(struct threadpool *pool, unsigned started)
{
    threadpool_shutdown(pool);
    for (unsigned i = 0; i < started; i++)
        pthread_join(pool->threads[i], NULL);
}

int threadpool_create(struct threadpool **out, unsigned threads, size_t queue_capacity)
{
    return threadpool_create_with_stack(out, threads, queue_capacity, 0);
}

int threadpool_create_with_stack(struct threadpool **out, unsigned threads, size_t queue_capacity,
                                 size_t stack_bytes)
{
    if (out == NULL || threads == 0 || threads > THREADPOOL_MAX_THREADS || queue_capacity == 0 ||
        queue_capacity > THREADPOOL_MAX_QUEUE ||
        (stack_bytes != 0 &&
         (stack_bytes < THREADPOOL_MIN_STACK_BYTES || stack_bytes > THREADPOOL_MAX_STACK_BYTES)))
        return TC_EINVAL;

    int rc = TC_ENOMEM;
    sigset_t all, previous;
    unsigned started = 0;
    struct threadpool *pool = calloc(1, sizeof(*pool));
    if (pool == NULL)
        goto fail;
    pool->ring = calloc(queue_capacity, sizeof(*pool->ring));
    if (pool->ring == NULL)
        goto free_pool;
    pool->threads = calloc(threads, sizeof(*pool->threads));
    if (pool->threads == NULL)
        goto free_ring;
    pool->capacity = queue_capacity;
    pool->thread_count = threads;

    if (pthread_mutex_init(&pool->lock, NULL) != 0)
        goto free_threads;
    if (pthread_cond_init(&pool->work_ready, NULL) != 0)
        goto destroy_lock;
    if (pthread_cond_init(&pool->space_free, NULL) != 0)
        goto destroy_work_ready;
    if (pthread_cond_init(&pool->idle, NULL) != 0)
        goto destroy_space_free;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        goto destroy_idle;
    if (stack_bytes != 0 && pthread_attr_setstacksize(&attr, stack_bytes) != 0) {
        pthread_attr_destroy(&attr);
        rc = TC_EINVAL;
        goto destroy_idle;
    }

    /* Workers inherit the creating thread's signal mask: block everything
     * while they are created so that signals are delivered to the event loop. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    for (; started < threads; started++) {
        if (pthread_create(&pool->threads[started], &attr, worker_main, pool) != 0)
            break;
        /* Named for debuggers and top; at most 15 characters (started < 256). */
        char name[32];
        snprintf(name, sizeof(name), "tc-worker-%u", started);
        pthread_setname_np(pool->threads[started], name);
    }
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    pthread_attr_destroy(&attr);
    if (started < threads) {
        rc = TC_EAGAIN;
        goto stop_started;
    }

    *out = pool;
    return TC_OK;

stop_started:
    stop_workers(pool, started);
destroy_idle:
    pthread_cond_destroy(&pool->idle);
destroy_space_free:
    pthread_cond_destroy(&pool->space_free);
destroy_work_ready:
    pthread_cond_destroy(&pool->work_ready);
destroy_lock:
    pthread_mutex_destroy(&pool->lock);
free_threads:
    free(pool->threads);
free_ring:
    free(pool->ring);
free_pool:
    free(pool);
fail:
    return rc;
}

int threadpool_submit(struct threadpool *pool, threadpool_fn fn, void *arg)
{
    if (fn == NULL)
        return TC_EINVAL;
    int rc = TC_OK;
    pthread_mutex_lock(&pool->lock);
    if (pool->closing)
        rc = TC_ECLOSED;
    else if (pool->count == pool->capacity)
        rc = TC_EFULL;
    else
        enqueue_locked(pool, fn, arg);
    pthread_mutex_unlock(&pool->lock);
    return rc;
}

int threadpool_submit_wait(struct threadpool *pool, threadpool_fn fn, void *arg)
{
    if (fn == NULL)
        return TC_EINVAL;
    int rc = TC_OK;
    pthread_mutex_lock(&pool->lock);
    pool->sleepers++;
    while (!pool->closing && pool->count == pool->capacity)
        pthread_cond_wait(&pool->space_free, &pool->lock);
    pool->sleepers--;
    if (pool->closing) {
        rc = TC_ECLOSED;
        /* destroy waits for the last sleeper to leave before it frees. */
        if (pool->sleepers == 0)
            pthread_cond_broadcast(&pool->idle);
    } else {
        enqueue_locked(pool, fn, arg);
    }
    pthread_mutex_unlock(&pool->lock);
    return rc;
}

void threadpool_wait_idle(struct threadpool *pool)
{
    pthread_mutex_lock(&pool->lock);
    while (pool->count > 0 || pool->running > 0)
        pthread_cond_wait(&pool->idle, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
}

void threadpool_shutdown(struct threadpool *pool)
{
    pthread_mutex_lock(&pool->lock);
    pool->closing = true;
    pthread_cond_broadcast(&pool->work_ready);
    pthread_cond_broadcast(&pool->space_free);
    pthread_mutex_unlock(&pool->lock);
}

void threadpool_destroy(struct threadpool *pool)
{
    if (pool == NULL)
        return;
    stop_workers(pool, pool->thread_count);
    /* Callers woken from submit_wait may not have re-taken the lock yet. */
    pthread_mutex_lock(&pool->lock);
    while (pool->sleepers > 0)
        pthread_cond_wait(&pool->idle, &pool->lock);
    pthread_mutex_unlock(&pool->lock);

    pthread_cond_destroy(&pool->idle);
    pthread_cond_destroy(&pool->space_free);
    pthread_cond_destroy(&pool->work_ready);
    pthread_mutex_destroy(&pool->lock);
    free(pool->threads);
    free(pool->ring);
    free(pool);
}

unsigned threadpool_thread_count(const struct threadpool *pool)
{
    return pool->thread_count;
}

void threadpool_get_stats(struct threadpool *pool, struct threadpool_stats *out)
{
    pthread_mutex_lock(&pool->lock);
    out->queued = pool->count;
    out->running = pool->running;
    out->blocked_submitters = pool->sleepers;
    pthread_mutex_unlock(&pool->lock);
}
