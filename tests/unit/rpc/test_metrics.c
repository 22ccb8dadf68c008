/* test_metrics.c - the metrics registry: exact Prometheus text, bounds, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "base/error.h"
#include "rpc/metrics.h"

static char *render(struct metrics *m)
{
    struct bytes out;
    bytes_init(&out);
    assert_int_equal(metrics_render(m, &out), TC_OK);
    assert_int_equal(bytes_push(&out, 0), TC_OK);
    return (char *)bytes_take(&out, NULL);
}

static void test_counter_and_gauge_render_exactly(void **state)
{
    struct metrics *m = metrics_new();
    struct metric *blocks, *pool, *calls;
    assert_int_equal(
        metrics_add_counter(m, "teechain_blocks_total", "Committed blocks.", NULL, 0, &blocks),
        TC_OK);
    assert_int_equal(
        metrics_add_gauge(m, "teechain_txpool_size", "Pending \\ txs\nnow.", NULL, 0, &pool),
        TC_OK);
    assert_int_equal(metrics_add_counter(m, "calls_total", "Calls.", "method", 4, &calls), TC_OK);
    metric_add(metric_series(blocks, NULL), 41);
    metric_inc(metric_series(blocks, NULL));
    metric_gauge_set(metric_series(pool, NULL), 10);
    metric_gauge_add(metric_series(pool, NULL), -13);
    metric_inc(metric_series(calls, "a\"b\\c\nd"));
    metric_inc(metric_series(calls, "eth_call"));
    metric_inc(metric_series(calls, "eth_call"));
    char *text = render(m);
    assert_string_equal(text, "# HELP teechain_blocks_total Committed blocks.\n"
                              "# TYPE teechain_blocks_total counter\n"
                              "teechain_blocks_total 42\n"
                              "# HELP teechain_txpool_size Pending \\\\ txs\\nnow.\n"
                              "# TYPE teechain_txpool_size gauge\n"
                              "teechain_txpool_size -3\n"
                              "# HELP calls_total Calls.\n"
                              "# TYPE calls_total counter\n"
                              "calls_total{method=\"a\\\"b\\\\c\\nd\"} 1\n"
                              "calls_total{method=\"eth_call\"} 2\n");
    free(text);
    assert_int_equal(metric_gauge_value(metric_series(pool, NULL)), -3);
    metrics_free(m);
}

static void test_histogram_buckets_are_cumulative(void **state)
{
    struct metrics *m = metrics_new();
    struct metric *h;
    const double bounds[] = { 0.001, 0.01, 0.1 };
    assert_int_equal(
        metrics_add_histogram(m, "commit_seconds", "Commit latency.", NULL, 0, bounds, 3, &h),
        TC_OK);
    struct metric_series *s = metric_series(h, NULL);
    metric_observe(s, 0.0005);
    metric_observe(s, 0.001); /* le is inclusive */
    metric_observe(s, 0.05);
    metric_observe(s, 3.0);
    char *text = render(m);
    assert_string_equal(text, "# HELP commit_seconds Commit latency.\n"
                              "# TYPE commit_seconds histogram\n"
                              "commit_seconds_bucket{le=\"0.001\"} 2\n"
                              "commit_seconds_bucket{le=\"0.01\"} 2\n"
                              "commit_seconds_bucket{le=\"0.1\"} 3\n"
                              "commit_seconds_bucket{le=\"+Inf\"} 4\n"
                              "commit_seconds_sum 3.0515\n"
                              "commit_seconds_count 4\n");
    free(text);
    assert_int_equal(metric_histogram_count(s), 4);
    metrics_free(m);
}

static void test_labelled_histogram_puts_le_last(void **state)
{
    struct metrics *m = metrics_new();
    struct metric *h;
    const double bounds[] = { 1 };
    assert_int_equal(metrics_add_histogram(m, "d", "D.", "method", 2, bounds, 1, &h), TC_OK);
    metric_observe(metric_series(h, "x"), 0.5);
    char *text = render(m);
    assert_string_equal(text, "# HELP d D.\n# TYPE d histogram\n"
                              "d_bucket{method=\"x\",le=\"1\"} 1\n"
                              "d_bucket{method=\"x\",le=\"+Inf\"} 1\n"
                              "d_sum{method=\"x\"} 0.5\n"
                              "d_count{method=\"x\"} 1\n");
    free(text);
    metrics_free(m);
}

static void test_series_beyond_bound_share_overflow_label(void **state)
{
    struct metrics *m = metrics_new();
    struct metric *c;
    assert_int_equal(metrics_add_counter(m, "c_total", "C.", "peer", 3, &c), TC_OK);
    struct metric_series *first = metric_series(c, "p0");
    for (int i = 0; i < 1000; i++) {
        char label[16];
        snprintf(label, sizeof(label), "p%d", i);
        metric_inc(metric_series(c, label));
    }
    assert_ptr_equal(metric_series(c, "p0"), first);
    assert_int_equal(metric_series_count(c), 4);
    assert_int_equal(metric_counter_value(metric_series(c, "p999")), 997);
    assert_ptr_equal(metric_series(c, NULL), metric_series(c, "p500"));
    char *text = render(m);
    assert_non_null(strstr(text, "c_total{peer=\"" METRICS_OVERFLOW_LABEL "\"} 997\n"));
    assert_null(strstr(text, "p3"));
    free(text);
    metrics_free(m);
}

static void test_bad_names_and_duplicates_are_rejected(void **state)
{
    struct metrics *m = metrics_new();
    struct metric *f;
    const double bounds[] = { 2, 1 };
    assert_int_equal(metrics_add_counter(m, "9bad", "", NULL, 0, &f), TC_EINVAL);
    assert_int_equal(metrics_add_counter(m, "bad-name", "", NULL, 0, &f), TC_EINVAL);
    assert_int_equal(metrics_add_counter(m, "ok", "", "bad:label", 2, &f), TC_EINVAL);
    assert_int_equal(metrics_add_counter(m, "ok", "", "label", 0, &f), TC_EINVAL);
    assert_int_equal(metrics_add_histogram(m, "h", "", NULL, 0, bounds, 2, &f), TC_EINVAL);
    assert_int_equal(metrics_add_histogram(m, "h", "", "le", 2, bounds, 1, &f), TC_EINVAL);
    assert_int_equal(metrics_add_counter(m, "ok", "", NULL, 0, &f), TC_OK);
    assert_int_equal(metrics_add_gauge(m, "ok", "", NULL, 0, &f), TC_EEXIST);
    for (int i = 1; i < METRICS_MAX_FAMILIES; i++) {
        char name[32];
        snprintf(name, sizeof(name), "f%d", i);
        assert_int_equal(metrics_add_gauge(m, name, "", NULL, 0, &f), TC_OK);
    }
    assert_int_equal(metrics_add_gauge(m, "one_more", "", NULL, 0, &f), TC_EFULL);
    metrics_free(m);
}

#define THREADS    4
#define PER_THREAD 100000

static struct metric *shared_counter, *shared_hist;

static void *hammer(void *arg)
{
    const char *label = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        metric_inc(metric_series(shared_counter, label));
        metric_observe(metric_series(shared_hist, NULL), 0.25);
    }
    return NULL;
}

static void test_concurrent_updates_are_not_lost(void **state)
{
    struct metrics *m = metrics_new();
    const double bounds[] = { 1 };
    assert_int_equal(metrics_add_counter(m, "n_total", "N.", "t", 8, &shared_counter), TC_OK);
    assert_int_equal(metrics_add_histogram(m, "h", "H.", NULL, 0, bounds, 1, &shared_hist), TC_OK);
    static const char *const labels[THREADS] = { "a", "b", "a", "b" };
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, (void *)labels[i]), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(metric_series_count(shared_counter), 2);
    assert_int_equal(metric_counter_value(metric_series(shared_counter, "a")), 2 * PER_THREAD);
    assert_int_equal(metric_counter_value(metric_series(shared_counter, "b")), 2 * PER_THREAD);
    assert_int_equal(metric_histogram_count(metric_series(shared_hist, NULL)),
                     THREADS * PER_THREAD);
    char *text = render(m);
    assert_non_null(strstr(text, "h_sum 100000\n"));
    free(text);
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_and_gauge_render_exactly),
        cmocka_unit_test(test_histogram_buckets_are_cumulative),
        cmocka_unit_test(test_labelled_histogram_puts_le_last),
        cmocka_unit_test(test_series_beyond_bound_share_overflow_label),
        cmocka_unit_test(test_bad_names_and_duplicates_are_rejected),
        cmocka_unit_test(test_concurrent_updates_are_not_lost),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
