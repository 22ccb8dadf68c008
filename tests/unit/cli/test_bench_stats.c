/*
 * test_bench_stats.c - the pure arithmetic of `teechain bench`: nearest-rank
 * percentiles, FISCO BCOS histogram buckets at their boundaries, the steady
 * window, the send schedule under a fake clock, /proc parsing and CPU/RSS
 * figures. Random arrays use a seed that is printed and can be replayed with
 * TC_SEED=<n>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/error.h"
#include "base/rng.h"
#include "cli/bench_stats.h"

static uint64_t test_seed;

static void test_percentile_nearest_rank_on_known_array(void **state)
{
    (void)state;
    /* The classic nearest-rank example: 15, 20, 35, 40, 50. */
    const uint64_t v[] = { 15, 20, 35, 40, 50 };
    assert_int_equal(bench_percentile(v, 5, 0), 15);
    assert_int_equal(bench_percentile(v, 5, 50), 15);  /* rank ceil(0.25) = 1 */
    assert_int_equal(bench_percentile(v, 5, 300), 20); /* rank ceil(1.5) = 2 */
    assert_int_equal(bench_percentile(v, 5, 400), 20); /* rank 2 exactly */
    assert_int_equal(bench_percentile(v, 5, 500), 35); /* rank ceil(2.5) = 3 */
    assert_int_equal(bench_percentile(v, 5, 1000), 50);
    uint64_t hundred[100];
    for (size_t i = 0; i < 100; i++)
        hundred[i] = i + 1;
    assert_int_equal(bench_percentile(hundred, 100, 500), 50);
    assert_int_equal(bench_percentile(hundred, 100, 900), 90);
    assert_int_equal(bench_percentile(hundred, 100, 990), 99);
    assert_int_equal(bench_percentile(hundred, 100, 991), 100);
    const uint64_t one[] = { 7 };
    assert_int_equal(bench_percentile(one, 1, 0), 7);
    assert_int_equal(bench_percentile(one, 1, 990), 7);
}

/* The definition itself: the smallest value with at least p% of values <= it. */
static uint64_t brute_percentile(const uint64_t *v, size_t n, uint32_t permille)
{
    uint64_t best = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t le = 0;
        for (size_t j = 0; j < n; j++)
            le += v[j] <= v[i];
        if ((uint64_t)le * 1000 >= (uint64_t)permille * n && v[i] < best)
            best = v[i];
    }
    return best;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_percentile_matches_definition_on_random_arrays(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, test_seed);
    uint64_t v[300];
    for (int round = 0; round < 200; round++) {
        size_t n = (size_t)rng_range(&r, 1, 300);
        for (size_t i = 0; i < n; i++)
            v[i] = rng_below(&r, 50); /* many ties */
        qsort(v, n, sizeof(v[0]), cmp_u64);
        const uint32_t ps[] = { 1, 100, 500, 900, 990, 999, 1000 };
        for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++)
            assert_int_equal(bench_percentile(v, n, ps[k]), brute_percentile(v, n, ps[k]));
    }
}

static void test_histogram_buckets_at_exact_boundaries(void **state)
{
    (void)state;
    const struct {
        uint64_t us;
        size_t bucket;
    } cases[] = {
        { 0, 0 },       { 49999, 0 },   { 50000, 1 },   { 99999, 1 },    { 100000, 2 },
        { 199999, 2 },  { 200000, 3 },  { 399999, 3 },  { 400000, 4 },   { 999999, 4 },
        { 1000000, 5 }, { 1999999, 5 }, { 2000000, 6 }, { 60000000, 6 }, { UINT64_MAX, 6 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(bench_hist_bucket(cases[i].us), cases[i].bucket);
    assert_string_equal(bench_hist_label(0), "<50");
    assert_string_equal(bench_hist_label(5), "<2000");
    assert_string_equal(bench_hist_label(6), ">=2000");
}

static void test_latency_summary_of_unsorted_values(void **state)
{
    (void)state;
    uint64_t v[] = { 2500000, 10000, 50000, 120000, 49999, 700000, 1500000, 300000, 60000, 100 };
    struct bench_latency lat;
    bench_latency_compute(v, 10, &lat);
    assert_int_equal(lat.count, 10);
    assert_int_equal(lat.min_us, 100);
    assert_int_equal(lat.max_us, 2500000);
    /* sorted: 100 10000 49999 50000 60000 120000 300000 700000 1500000 2500000 */
    assert_int_equal(lat.p50_us, 60000);
    assert_int_equal(lat.p90_us, 1500000);
    assert_int_equal(lat.p99_us, 2500000);
    assert_true(lat.mean_us > 529009.8 && lat.mean_us < 529010.0);
    const uint64_t want[BENCH_HIST_BUCKETS] = { 3, 2, 1, 1, 1, 1, 1 };
    uint64_t sum = 0;
    for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
        assert_int_equal(lat.hist[i], want[i]);
        sum += lat.hist[i];
    }
    assert_int_equal(sum, lat.count);
    assert_true(lat.min_us <= lat.p50_us && lat.p50_us <= lat.p90_us && lat.p90_us <= lat.p99_us &&
                lat.p99_us <= lat.max_us);
}

static void test_latency_of_no_values_is_zero(void **state)
{
    (void)state;
    struct bench_latency lat;
    memset(&lat, 0xff, sizeof(lat));
    bench_latency_compute(NULL, 0, &lat);
    assert_int_equal(lat.count, 0);
    assert_int_equal(lat.max_us, 0);
    assert_int_equal(lat.hist[0], 0);
    assert_true(lat.mean_us == 0);
}

static void test_window_counts_commits_between_warmup_and_last_send(void **state)
{
    (void)state;
    const uint64_t commits[] = {
        2999999, 3000000, 7000000, 11000000, 11000001, BENCH_NOT_COMMITTED
    };
    struct bench_window w;
    bench_window_compute(1000000, 11000000, 2000000, commits, 6, &w);
    assert_false(w.empty);
    assert_int_equal(w.start_us, 3000000);
    assert_int_equal(w.end_us, 11000000);
    assert_int_equal(w.committed, 3);
    assert_true(w.tps > 0.37499 && w.tps < 0.37501); /* 3 commits over 8 s */
}

static void test_window_is_empty_when_warmup_covers_the_sending(void **state)
{
    (void)state;
    const uint64_t commits[] = { 1500000 };
    struct bench_window w;
    bench_window_compute(1000000, 2000000, 1000000, commits, 1, &w);
    assert_true(w.empty);
    assert_int_equal(w.committed, 0);
    assert_true(w.tps == 0);
    bench_window_compute(1000000, 1000000, 0, commits, 1, &w);
    assert_true(w.empty);
}

static void test_open_loop_schedule_follows_rate_and_batch(void **state)
{
    (void)state;
    struct bench_pacer p = { .rate_tps = 500, .batch = 50 };
    assert_int_equal(bench_pacer_due_us(&p, 0), 0);
    assert_int_equal(bench_pacer_due_us(&p, 1), 100000);
    assert_int_equal(bench_pacer_due_us(&p, 39), 3900000);
    assert_false(bench_pacer_may_send(&p, 1, 99999, 0, 50));
    assert_true(bench_pacer_may_send(&p, 1, 100000, 0, 50));
    /* Open loop ignores how many are unfinished. */
    assert_true(bench_pacer_may_send(&p, 1, 100000, 1000000, 50));
    struct bench_pacer slow = { .rate_tps = 3, .batch = 1 };
    assert_int_equal(bench_pacer_due_us(&slow, 1), 333333);
    assert_int_equal(bench_pacer_due_us(&slow, 2), 666666);
    assert_int_equal(bench_pacer_due_us(&slow, 3), 1000000);
}

static void test_open_loop_with_fake_clock_sends_rate_per_second(void **state)
{
    (void)state;
    /* A sender that sends every due batch as the fake clock advances by 1 ms. */
    const uint32_t rates[] = { 1, 7, 500, 1000, 15000 };
    const uint32_t batches[] = { 1, 3, 50, 7 };
    for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
        for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
            struct bench_pacer p = { .rate_tps = rates[r], .batch = batches[b] };
            uint64_t next = 0, sent = 0;
            for (uint64_t now_us = 0; now_us <= 2000000; now_us += 1000) {
                while (bench_pacer_may_send(&p, next, now_us, 0, p.batch)) {
                    next++;
                    sent += p.batch;
                }
                if (now_us == 1000000 || now_us == 2000000) {
                    /* Batches due in [0, t]: floor(t * R / B) + 1. */
                    uint64_t due = now_us / 1000000 * rates[r] / batches[b] + 1;
                    assert_int_equal(next, due);
                    assert_int_equal(sent, due * batches[b]);
                }
            }
        }
    }
}

static void test_rate_zero_sends_at_once(void **state)
{
    (void)state;
    struct bench_pacer p = { .rate_tps = 0, .batch = 50 };
    assert_int_equal(bench_pacer_due_us(&p, 1000), 0);
    assert_true(bench_pacer_may_send(&p, 1000, 0, 99999, 50));
}

static void test_closed_loop_bounds_unfinished(void **state)
{
    (void)state;
    struct bench_pacer p = { .outstanding = 100, .batch = 50, .rate_tps = 10 };
    assert_true(bench_pacer_may_send(&p, 5, 0, 0, 50));
    assert_true(bench_pacer_may_send(&p, 5, 0, 50, 50));
    assert_false(bench_pacer_may_send(&p, 5, 0, 51, 50));
    assert_true(bench_pacer_may_send(&p, 5, 0, 51, 49));
    assert_int_equal(bench_pacer_due_us(&p, 5), 0);
}

static void test_proc_stat_parse_counts_user_and_system_ticks(void **state)
{
    (void)state;
    const char *stat = "4242 (tee (chain) d) S 1 4242 4242 0 -1 4194560 1234 0 0 0 "
                       "1234 56 0 0 20 0 9 0 1000 123456789 2048 18446744073709551615\n";
    uint64_t ticks = 0;
    assert_int_equal(bench_proc_parse_cpu_ticks(stat, &ticks), TC_OK);
    assert_int_equal(ticks, 1290);
    assert_int_equal(bench_proc_parse_cpu_ticks("4242 (x) S 1 2 3", &ticks), TC_EINVAL);
    assert_int_equal(bench_proc_parse_cpu_ticks("no parenthesis", &ticks), TC_EINVAL);
    assert_int_equal(bench_proc_parse_cpu_ticks("1 (x) S 1 1 1 0 -1 0 0 0 0 0 u 5", &ticks),
                     TC_EINVAL);
}

static void test_proc_status_parse_reads_vmrss(void **state)
{
    (void)state;
    const char *status = "Name:\tteechaind\nVmPeak:\t  900000 kB\nVmRSS:\t  123456 kB\n"
                         "Threads:\t9\n";
    uint64_t kib = 0;
    assert_int_equal(bench_proc_parse_rss_kib(status, &kib), TC_OK);
    assert_int_equal(kib, 123456);
    assert_int_equal(bench_proc_parse_rss_kib("Name:\tx\n", &kib), TC_EINVAL);
    assert_int_equal(bench_proc_parse_rss_kib("VmRSS:\t12 MB\n", &kib), TC_EINVAL);
}

static void test_usage_gives_max_and_average_cpu_and_rss(void **state)
{
    (void)state;
    struct bench_usage u;
    memset(&u, 0, sizeof(u));
    bench_usage_add(&u, 1000000, 0, 1000, 100);
    assert_true(bench_usage_cpu_avg(&u, 100) == 0);
    bench_usage_add(&u, 2000000, 50, 3000, 100);  /* 0.5 s of CPU in 1 s: 50% */
    bench_usage_add(&u, 3000000, 250, 2000, 100); /* 2 s of CPU in 1 s: 200% */
    assert_int_equal(u.samples, 3);
    assert_true(u.cpu_percent_max > 199.99 && u.cpu_percent_max < 200.01);
    double avg = bench_usage_cpu_avg(&u, 100); /* 2.5 s over 2 s */
    assert_true(avg > 124.99 && avg < 125.01);
    assert_int_equal(u.rss_kib_max, 3000);
    double rss = bench_usage_rss_avg_kib(&u);
    assert_true(rss > 1999.99 && rss < 2000.01);
}

int main(void)
{
    const char *env = getenv("TC_SEED");
    test_seed = env != NULL ? strtoull(env, NULL, 0) : rng_fresh_seed();
    printf("test_bench_stats: seed %llu (replay with TC_SEED=%llu)\n",
           (unsigned long long)test_seed, (unsigned long long)test_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentile_nearest_rank_on_known_array),
        cmocka_unit_test(test_percentile_matches_definition_on_random_arrays),
        cmocka_unit_test(test_histogram_buckets_at_exact_boundaries),
        cmocka_unit_test(test_latency_summary_of_unsorted_values),
        cmocka_unit_test(test_latency_of_no_values_is_zero),
        cmocka_unit_test(test_window_counts_commits_between_warmup_and_last_send),
        cmocka_unit_test(test_window_is_empty_when_warmup_covers_the_sending),
        cmocka_unit_test(test_open_loop_schedule_follows_rate_and_batch),
        cmocka_unit_test(test_open_loop_with_fake_clock_sends_rate_per_second),
        cmocka_unit_test(test_rate_zero_sends_at_once),
        cmocka_unit_test(test_closed_loop_bounds_unfinished),
        cmocka_unit_test(test_proc_stat_parse_counts_user_and_system_ticks),
        cmocka_unit_test(test_proc_status_parse_reads_vmrss),
        cmocka_unit_test(test_usage_gives_max_and_average_cpu_and_rss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
