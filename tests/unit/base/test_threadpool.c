/*
 * test_threadpool.c - every job runs exactly once under contention, the queue
 * bound is enforced, wait_idle waits for running jobs, and shutdown/destroy
 * refuse new work while still running what was queued.
 *
 * Workers are held at a gate (a job that sleeps until the test opens it) to
 * make "the queue is full" and "destroy has work queued" deterministic.
 * Nothing here asserts a duration; sleeps only give a wrong implementation
 * the chance to misbehave.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/threadpool.h"

/* ---- a gate that holds workers ------------------------------------------ */

struct gate {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool open;
    unsigned arrived; /* gate jobs that have started */
    unsigned left;    /* gate jobs that have finished */
};

static void gate_init(struct gate *g)
{
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->changed, NULL);
    g->open = false;
    g->arrived = 0;
    g->left = 0;
}

static void gate_destroy(struct gate *g)
{
    pthread_cond_destroy(&g->changed);
    pthread_mutex_destroy(&g->lock);
}

/* Job: announce arrival, then sleep until the gate opens. */
static void gate_job(void *arg)
{
    struct gate *g = arg;
    pthread_mutex_lock(&g->lock);
    g->arrived++;
    pthread_cond_broadcast(&g->changed);
    while (!g->open)
        pthread_cond_wait(&g->changed, &g->lock);
    g->left++;
    pthread_mutex_unlock(&g->lock);
}

static void gate_wait_arrivals(struct gate *g, unsigned n)
{
    pthread_mutex_lock(&g->lock);
    while (g->arrived < n)
        pthread_cond_wait(&g->changed, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = true;
    pthread_cond_broadcast(&g->changed);
    pthread_mutex_unlock(&g->lock);
}

static void *gate_open_later(void *arg)
{
    clock_sleep_ms(20);
    gate_open(arg);
    return NULL;
}

/* Holds every worker of `pool` (threads of them) at g. */
static void hold_workers(struct threadpool *pool, struct gate *g, unsigned threads)
{
    for (unsigned i = 0; i < threads; i++)
        assert_int_equal(threadpool_submit(pool, gate_job, g), TC_OK);
    gate_wait_arrivals(g, threads);
}

/* Sleeps until `n` callers are asleep in threadpool_submit_wait (bounded, so
 * that a pool that never blocks them fails rather than hangs). */
static void wait_blocked_submitters(struct threadpool *pool, unsigned n)
{
    for (int i = 0; i < 30000; i++) {
        struct threadpool_stats st;
        threadpool_get_stats(pool, &st);
        if (st.blocked_submitters == n)
            return;
        clock_sleep_ms(1);
    }
    fail_msg("expected %u callers blocked in threadpool_submit_wait", n);
}

/* ---- counting jobs ------------------------------------------------------ */

static atomic_uint g_count;

static void count_job(void *arg)
{
    atomic_fetch_add(&g_count, 1);
}

/* ---- tests -------------------------------------------------------------- */

static void test_create_rejects_out_of_range_arguments(void **state)
{
    struct threadpool *pool = NULL;
    assert_int_equal(threadpool_create(&pool, 0, 4), TC_EINVAL);
    assert_int_equal(threadpool_create(&pool, THREADPOOL_MAX_THREADS + 1, 4), TC_EINVAL);
    assert_int_equal(threadpool_create(&pool, 1, 0), TC_EINVAL);
    assert_int_equal(threadpool_create(&pool, 1, (size_t)THREADPOOL_MAX_QUEUE + 1), TC_EINVAL);
    assert_int_equal(threadpool_create(NULL, 1, 4), TC_EINVAL);
    assert_null(pool);

    assert_int_equal(threadpool_create(&pool, 3, 4), TC_OK);
    assert_int_equal(threadpool_thread_count(pool), 3);
    assert_int_equal(threadpool_submit(pool, NULL, NULL), TC_EINVAL);
    assert_int_equal(threadpool_submit_wait(pool, NULL, NULL), TC_EINVAL);
    threadpool_destroy(pool);
    threadpool_destroy(NULL);
}

#define PRODUCERS         4
#define JOBS_PER_PRODUCER 5000

struct tally {
    atomic_uint runs[PRODUCERS * JOBS_PER_PRODUCER];
};

struct producer {
    struct threadpool *pool;
    struct tally *tally;
    unsigned first; /* index of this producer's first job */
    unsigned full;  /* TC_EFULL answers seen */
    int error;      /* first unexpected return code */
};

struct tally_job {
    struct tally *tally;
    unsigned index;
};

static void tally_job_run(void *arg)
{
    struct tally_job *job = arg;
    atomic_fetch_add(&job->tally->runs[job->index], 1);
    free(job);
}

/* Submits its jobs, half with submit_wait and half with submit, falling back
 * to submit_wait when submit answers TC_EFULL. */
static void *producer_main(void *arg)
{
    struct producer *p = arg;
    for (unsigned i = 0; i < JOBS_PER_PRODUCER; i++) {
        struct tally_job *job = malloc(sizeof(*job));
        if (job == NULL) {
            p->error = TC_ENOMEM;
            return NULL;
        }
        job->tally = p->tally;
        job->index = p->first + i;
        int rc;
        if (i % 2 == 0) {
            rc = threadpool_submit_wait(p->pool, tally_job_run, job);
        } else {
            rc = threadpool_submit(p->pool, tally_job_run, job);
            if (rc == TC_EFULL) {
                p->full++;
                rc = threadpool_submit_wait(p->pool, tally_job_run, job);
            }
        }
        if (rc != TC_OK) {
            free(job);
            if (p->error == 0)
                p->error = rc;
        }
    }
    return NULL;
}

static void test_every_job_runs_exactly_once_under_contention(void **state)
{
    struct threadpool *pool;
    assert_int_equal(threadpool_create(&pool, 3, 16), TC_OK);
    struct tally *tally = calloc(1, sizeof(*tally));
    assert_non_null(tally);

    pthread_t threads[PRODUCERS];
    struct producer producers[PRODUCERS];
    for (unsigned i = 0; i < PRODUCERS; i++) {
        producers[i] =
            (struct producer){ .pool = pool, .tally = tally, .first = i * JOBS_PER_PRODUCER };
        assert_int_equal(pthread_create(&threads[i], NULL, producer_main, &producers[i]), 0);
    }
    for (unsigned i = 0; i < PRODUCERS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(producers[i].error, 0);
    }
    threadpool_wait_idle(pool);

    for (unsigned i = 0; i < PRODUCERS * JOBS_PER_PRODUCER; i++) {
        unsigned runs = atomic_load(&tally->runs[i]);
        if (runs != 1)
            fail_msg("job %u ran %u times", i, runs);
    }
    threadpool_destroy(pool);
    free(tally);
}

static void test_submit_reports_full_when_workers_are_busy(void **state)
{
    struct threadpool *pool;
    struct gate g;
    gate_init(&g);
    atomic_store(&g_count, 0);
    assert_int_equal(threadpool_create(&pool, 2, 3), TC_OK);
    hold_workers(pool, &g, 2);

    for (int i = 0; i < 3; i++)
        assert_int_equal(threadpool_submit(pool, count_job, NULL), TC_OK);
    assert_int_equal(threadpool_submit(pool, count_job, NULL), TC_EFULL);
    assert_int_equal(threadpool_submit(pool, count_job, NULL), TC_EFULL);

    gate_open(&g);
    threadpool_wait_idle(pool);
    /* The refused jobs never ran. */
    assert_int_equal(atomic_load(&g_count), 3);
    /* Room again once the workers drained the queue. */
    assert_int_equal(threadpool_submit(pool, count_job, NULL), TC_OK);
    threadpool_wait_idle(pool);
    assert_int_equal(atomic_load(&g_count), 4);
    threadpool_destroy(pool);
    gate_destroy(&g);
}

struct blocked_submit {
    struct threadpool *pool;
    atomic_bool returned;
    int rc;
};

static void *submit_wait_main(void *arg)
{
    struct blocked_submit *b = arg;
    b->rc = threadpool_submit_wait(b->pool, count_job, NULL);
    atomic_store(&b->returned, true);
    return NULL;
}

static void test_submit_wait_blocks_until_there_is_room(void **state)
{
    struct threadpool *pool;
    struct gate g;
    gate_init(&g);
    atomic_store(&g_count, 0);
    assert_int_equal(threadpool_create(&pool, 1, 2), TC_OK);
    hold_workers(pool, &g, 1);
    assert_int_equal(threadpool_submit(pool, count_job, NULL), TC_OK);
    assert_int_equal(threadpool_submit(pool, count_job, NULL), TC_OK);

    struct blocked_submit b = { .pool = pool, .rc = 1 };
    atomic_store(&b.returned, false);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, submit_wait_main, &b), 0);
    wait_blocked_submitters(pool, 1);
    clock_sleep_ms(20);
    /* The queue is full and the only worker is held: it cannot have returned. */
    assert_false(atomic_load(&b.returned));
    struct threadpool_stats st;
    threadpool_get_stats(pool, &st);
    assert_int_equal(st.queued, 2);
    assert_int_equal(st.running, 1);
    assert_int_equal(st.blocked_submitters, 1);

    gate_open(&g);
    pthread_join(t, NULL);
    assert_int_equal(b.rc, TC_OK);
    threadpool_wait_idle(pool);
    assert_int_equal(atomic_load(&g_count), 3);
    threadpool_destroy(pool);
    gate_destroy(&g);
}

static void slow_count_job(void *arg)
{
    clock_sleep_ms(1);
    atomic_fetch_add(&g_count, 1);
}

static void test_wait_idle_waits_for_running_jobs(void **state)
{
    struct threadpool *pool;
    atomic_store(&g_count, 0);
    assert_int_equal(threadpool_create(&pool, 2, 64), TC_OK);
    threadpool_wait_idle(pool); /* idle from the start: returns at once */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 20; i++)
            assert_int_equal(threadpool_submit(pool, slow_count_job, NULL), TC_OK);
        threadpool_wait_idle(pool);
        /* Finished, not merely taken off the queue. */
        assert_int_equal(atomic_load(&g_count), 20 * (round + 1));
    }
    threadpool_destroy(pool);
}

static void test_wait_idle_waits_when_only_running_jobs_remain(void **state)
{
    struct threadpool *pool;
    struct gate g;
    gate_init(&g);
    assert_int_equal(threadpool_create(&pool, 2, 4), TC_OK);
    hold_workers(pool, &g, 2);
    struct threadpool_stats st;
    threadpool_get_stats(pool, &st);
    assert_int_equal(st.queued, 0);
    assert_int_equal(st.running, 2);

    pthread_t opener;
    assert_int_equal(pthread_create(&opener, NULL, gate_open_later, &g), 0);
    threadpool_wait_idle(pool);
    pthread_mutex_lock(&g.lock);
    unsigned left = g.left;
    pthread_mutex_unlock(&g.lock);
    assert_int_equal(left, 2);
    pthread_join(opener, NULL);
    threadpool_destroy(pool);
    gate_destroy(&g);
}

#define ORDER_JOBS 64

struct order_log {
    unsigned next;
    unsigned seen[ORDER_JOBS];
};

struct order_job {
    struct order_log *log;
    unsigned id;
};

static void order_job_run(void *arg)
{
    struct order_job *job = arg;
    job->log->seen[job->log->next++] = job->id;
}

static void test_single_worker_runs_jobs_in_submission_order(void **state)
{
    struct threadpool *pool;
    struct gate g;
    gate_init(&g);
    assert_int_equal(threadpool_create(&pool, 1, ORDER_JOBS), TC_OK);
    hold_workers(pool, &g, 1);
    /* The queue wraps around: fill it, drain it, fill it again. */
    for (int round = 0; round < 2; round++) {
        struct order_log log = { 0 };
        struct order_job jobs[ORDER_JOBS];
        for (unsigned i = 0; i < ORDER_JOBS; i++) {
            jobs[i] = (struct order_job){ .log = &log, .id = i };
            assert_int_equal(threadpool_submit(pool, order_job_run, &jobs[i]), TC_OK);
        }
        gate_open(&g);
        threadpool_wait_idle(pool);
        assert_int_equal(log.next, ORDER_JOBS);
        for (unsigned i = 0; i < ORDER_JOBS; i++)
            assert_int_equal(log.seen[i], i);
    }
    threadpool_destroy(pool);
    gate_destroy(&g);
}

/* A job that tries to submit more work and records the answer. */
struct resubmit {
    struct threadpool *pool;
    int rc;
};

static void resubmit_job(void *arg)
{
    struct resubmit *r = arg;
    r->rc = threadpool_submit(r->pool, count_job, NULL);
    atomic_fetch_add(&g_count, 1);
}

static void test_shutdown_refuses_new_work_and_destroy_runs_the_queue(void **state)
{
    struct threadpool *pool;
    struct gate g;
    gate_init(&g);
    atomic_store(&g_count, 0);
    assert_int_equal(threadpool_create(&pool, 1, 8), TC_OK);
    hold_workers(pool, &g, 1);
    struct resubmit inner = { .pool = pool, .rc = 1 };
    assert_int_equal(threadpool_submit(pool, resubmit_job, &inner), TC_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(threadpool_submit(pool, count_job, NULL), TC_OK);

    threadpool_shutdown(pool);
    threadpool_shutdown(pool); /* idempotent */
    /* Refused although the queue has room. */
    assert_int_equal(threadpool_submit(pool, count_job, NULL), TC_ECLOSED);
    assert_int_equal(threadpool_submit_wait(pool, count_job, NULL), TC_ECLOSED);

    /* destroy sleeps until the held worker is released and the queue drained. */
    pthread_t opener;
    assert_int_equal(pthread_create(&opener, NULL, gate_open_later, &g), 0);
    threadpool_destroy(pool);
    pthread_join(opener, NULL);

    assert_int_equal(atomic_load(&g_count), 4);
    /* A job running after shutdown cannot add work either. */
    assert_int_equal(inner.rc, TC_ECLOSED);
    gate_destroy(&g);
}

static void test_destroy_with_work_queued_runs_it(void **state)
{
    struct threadpool *pool;
    struct gate g;
    gate_init(&g);
    atomic_store(&g_count, 0);
    assert_int_equal(threadpool_create(&pool, 2, 32), TC_OK);
    hold_workers(pool, &g, 2);
    for (int i = 0; i < 32; i++)
        assert_int_equal(threadpool_submit(pool, count_job, NULL), TC_OK);

    pthread_t opener;
    assert_int_equal(pthread_create(&opener, NULL, gate_open_later, &g), 0);
    threadpool_destroy(pool);
    pthread_join(opener, NULL);
    assert_int_equal(atomic_load(&g_count), 32);
    gate_destroy(&g);
}

static void test_shutdown_wakes_a_blocked_submit_wait(void **state)
{
    struct threadpool *pool;
    struct gate g;
    gate_init(&g);
    atomic_store(&g_count, 0);
    assert_int_equal(threadpool_create(&pool, 1, 1), TC_OK);
    hold_workers(pool, &g, 1);
    assert_int_equal(threadpool_submit(pool, count_job, NULL), TC_OK);

    struct blocked_submit b = { .pool = pool, .rc = 1 };
    atomic_store(&b.returned, false);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, submit_wait_main, &b), 0);
    wait_blocked_submitters(pool, 1);
    threadpool_shutdown(pool);
    pthread_join(t, NULL);
    assert_int_equal(b.rc, TC_ECLOSED);

    gate_open(&g);
    threadpool_destroy(pool);
    /* Only the job queued before shutdown ran. */
    assert_int_equal(atomic_load(&g_count), 1);
    gate_destroy(&g);
}

struct closing_opener {
    struct threadpool *pool;
    struct gate *gate;
    int unexpected; /* a submit answer other than TC_EFULL / TC_ECLOSED */
};

/* Opens the gate once the pool refuses work as closed. Safe while destroy
 * runs: destroy cannot free the pool before the held worker is released,
 * which only this thread does. */
static void *open_when_closed(void *arg)
{
    struct closing_opener *o = arg;
    for (;;) {
        int rc = threadpool_submit(o->pool, count_job, NULL);
        if (rc == TC_ECLOSED)
            break;
        if (rc != TC_EFULL) {
            o->unexpected = rc;
            break;
        }
        clock_sleep_ms(1);
    }
    gate_open(o->gate);
    return NULL;
}

static void test_destroy_wakes_a_blocked_submit_wait(void **state)
{
    struct threadpool *pool;
    struct gate g;
    gate_init(&g);
    atomic_store(&g_count, 0);
    assert_int_equal(threadpool_create(&pool, 1, 1), TC_OK);
    hold_workers(pool, &g, 1);
    assert_int_equal(threadpool_submit(pool, count_job, NULL), TC_OK);

    struct blocked_submit b = { .pool = pool, .rc = 1 };
    atomic_store(&b.returned, false);
    pthread_t t, opener;
    assert_int_equal(pthread_create(&t, NULL, submit_wait_main, &b), 0);
    wait_blocked_submitters(pool, 1);
    struct closing_opener o = { .pool = pool, .gate = &g, .unexpected = 0 };
    assert_int_equal(pthread_create(&opener, NULL, open_when_closed, &o), 0);
    /* The caller is asleep inside the pool when destroy starts: destroy wakes
     * it with TC_ECLOSED (closing is set before any slot frees) and waits for
     * it to leave before freeing (AddressSanitizer checks the latter). */
    threadpool_destroy(pool);
    pthread_join(t, NULL);
    pthread_join(opener, NULL);
    assert_int_equal(o.unexpected, 0);
    assert_int_equal(b.rc, TC_ECLOSED);
    assert_int_equal(atomic_load(&g_count), 1);
    gate_destroy(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_rejects_out_of_range_arguments),
        cmocka_unit_test(test_every_job_runs_exactly_once_under_contention),
        cmocka_unit_test(test_submit_reports_full_when_workers_are_busy),
        cmocka_unit_test(test_submit_wait_blocks_until_there_is_room),
        cmocka_unit_test(test_wait_idle_waits_for_running_jobs),
        cmocka_unit_test(test_wait_idle_waits_when_only_running_jobs_remain),
        cmocka_unit_test(test_single_worker_runs_jobs_in_submission_order),
        cmocka_unit_test(test_shutdown_refuses_new_work_and_destroy_runs_the_queue),
        cmocka_unit_test(test_destroy_with_work_queued_runs_it),
        cmocka_unit_test(test_shutdown_wakes_a_blocked_submit_wait),
        cmocka_unit_test(test_destroy_wakes_a_blocked_submit_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
