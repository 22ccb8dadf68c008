/*
 * bench_stats.h - the pure arithmetic of `teechain bench`: latency
 * percentiles and histogram, the steady window, the send schedule (rate and
 * closed-loop control) and the node's CPU/RSS samples. Nothing here does I/O
 * or reads a clock: times are given as microseconds on one monotonic axis,
 * so that every function can be checked with a fake clock.
 *
 * Definitions (the same as docs/cli.md, "bench"):
 * - Percentiles are nearest-rank: the p-th percentile of n sorted values is
 *   values[ceil(p * n / 100) - 1] (values[0] for p = 0). It is always one of
 *   the measured values, never an interpolation.
 * - Histogram buckets are FISCO BCOS's: <50, <100, <200, <400, <1000,
 *   <2000 and >=2000 ms; a latency of exactly 50 ms falls in "<100".
 * - The steady window is [first send + warm-up, last send]. Committed TPS
 *   is the number of transactions whose commit was seen inside the window
 *   (both ends included) divided by its length.
 * - Open loop at rate R tx/s with batches of B: batch k (from 0) is due
 *   k * B / R seconds after the start; rate 0 sends every batch at once.
 *   Closed loop with N outstanding: a batch of size s may go when the
 *   transactions sent and not yet committed or rejected, plus s, are <= N.
 */
#ifndef TC_CLI_BENCH_STATS_H
#define TC_CLI_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- latency ----------------------------------------------------------- */

#define BENCH_HIST_BUCKETS 7

/* Upper bounds (exclusive, ms) of the first BENCH_HIST_BUCKETS - 1 buckets. */
extern const uint32_t bench_hist_bounds_ms[BENCH_HIST_BUCKETS - 1];

/* The label of bucket i ("<50" ... ">=2000"); static storage. */
const char *bench_hist_label(size_t bucket);

/* The bucket of a latency in microseconds (0 .. BENCH_HIST_BUCKETS - 1). */
size_t bench_hist_bucket(uint64_t latency_us);

/*
 * The nearest-rank percentile (permille: 500 = p50, 990 = p99, 1000 = max)
 * of sorted (ascending) values[0..n). n must be > 0 and permille <= 1000.
 */
uint64_t bench_percentile(const uint64_t *sorted, size_t n, uint32_t permille);

struct bench_latency {
    uint64_t count; /* latencies measured (committed transactions) */
    uint64_t min_us, p50_us, p90_us, p99_us, max_us;
    double mean_us;
    uint64_t hist[BENCH_HIST_BUCKETS];
};

/*
 * Summarises n latencies (microseconds). Sorts values in place. With n = 0
 * every figure is 0. Cannot fail.
 */
void bench_latency_compute(uint64_t *values, size_t n, struct bench_latency *out);

/* ---- steady window ----------------------------------------------------- */

/* "Not committed": the commit time of a transaction whose block was not seen. */
#define BENCH_NOT_COMMITTED UINT64_MAX

struct bench_window {
    uint64_t start_us, end_us; /* [first send + warm-up, last send] */
    bool empty;                /* warm-up reaches past the last send */
    uint64_t committed;        /* commits seen inside the window */
    double tps;                /* committed / window length; 0 when empty */
};

/*
 * Selects the window and counts commit_us[i] (BENCH_NOT_COMMITTED = none)
 * inside it. When the window is empty (start >= end) committed and tps are 0.
 */
void bench_window_compute(uint64_t first_send_us, uint64_t last_send_us, uint64_t warmup_us,
                          const uint64_t *commit_us, size_t n, struct bench_window *out);

/* ---- send schedule ----------------------------------------------------- */

struct bench_pacer {
    uint32_t rate_tps;    /* open loop: offered load; 0 = as fast as possible */
    uint32_t outstanding; /* closed loop when > 0: bound on sent-but-unfinished */
    uint32_t batch;       /* transactions per batch (> 0) */
};

/* Microseconds after the start at which batch k is due (open loop; 0 when
 * the rate is 0 or in closed loop). */
uint64_t bench_pacer_due_us(const struct bench_pacer *p, uint64_t batch_index);

/*
 * Whether batch k of `size` transactions may be sent at elapsed_us after the
 * start, with `unfinished` transactions sent and neither committed nor
 * rejected yet.
 */
bool bench_pacer_may_send(const struct bench_pacer *p, uint64_t batch_index, uint64_t elapsed_us,
                          uint64_t unfinished, uint32_t size);

/* ---- node CPU and RSS -------------------------------------------------- */

/*
 * Reads utime + stime (clock ticks) from the text of /proc/PID/stat.
 * Returns 0 or TC_EINVAL when the text does not have that shape.
 */
int bench_proc_parse_cpu_ticks(const char *stat_text, uint64_t *ticks);

/* Reads VmRSS (KiB) from the text of /proc/PID/status. 0 or TC_EINVAL. */
int bench_proc_parse_rss_kib(const char *status_text, uint64_t *rss_kib);

/* Running CPU% and RSS figures over samples of one process. */
struct bench_usage {
    uint32_t samples; /* samples taken (the first only sets the origin of CPU%) */
    uint64_t first_us, first_ticks;
    uint64_t last_us, last_ticks;
    double cpu_percent_max; /* highest CPU% between two consecutive samples */
    uint64_t rss_kib_max;
    uint64_t rss_kib_sum;
};

/*
 * Adds a sample taken at t_us (strictly after the previous one) with the
 * process's CPU ticks and RSS; ticks_per_s is sysconf(_SC_CLK_TCK). CPU% is
 * of one core (200% = two cores busy).
 */
void bench_usage_add(struct bench_usage *u, uint64_t t_us, uint64_t ticks, uint64_t rss_kib,
                     long ticks_per_s);

/* Average CPU% between the first and the last sample (0 with fewer than 2). */
double bench_usage_cpu_avg(const struct bench_usage *u, long ticks_per_s);

/* Average RSS over the samples in KiB (0 without samples). */
double bench_usage_rss_avg_kib(const struct bench_usage *u);

#endif
