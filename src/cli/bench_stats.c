/* bench_stats.c - percentiles, histogram, steady window, send schedule, /proc samples. */
#include "cli/bench_stats.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

const uint32_t bench_hist_bounds_ms[BENCH_HIST_BUCKETS - 1] = { 50, 100, 200, 400, 1000, 2000 };

static const char *const hist_labels[BENCH_HIST_BUCKETS] = {
    "<50", "<100", "<200", "<400", "<1000", "<2000", ">=2000",
};

const char *bench_hist_label(size_t bucket)
{
    return bucket < BENCH_HIST_BUCKETS ? hist_labels[bucket] : "?";
}

size_t bench_hist_bucket(uint64_t latency_us)
{
    for (size_t i = 0; i < BENCH_HIST_BUCKETS - 1; i++) {
        if (latency_us < (uint64_t)bench_hist_bounds_ms[i] * 1000)
            return i;
    }
    return BENCH_HIST_BUCKETS - 1;
}

uint64_t bench_percentile(const uint64_t *sorted, size_t n, uint32_t permille)
{
    /* rank = ceil(permille * n / 1000), at least 1 */
    uint64_t rank = ((uint64_t)permille * n + 999) / 1000;
    if (rank == 0)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void bench_latency_compute(uint64_t *values, size_t n, struct bench_latency *out)
{
    memset(out, 0, sizeof(*out));
    if (n == 0)
        return;
    qsort(values, n, sizeof(values[0]), cmp_u64);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += (double)values[i];
        out->hist[bench_hist_bucket(values[i])]++;
    }
    out->count = n;
    out->min_us = values[0];
    out->max_us = values[n - 1];
    out->p50_us = bench_percentile(values, n, 500);
    out->p90_us = bench_percentile(values, n, 900);
    out->p99_us = bench_percentile(values, n, 990);
    out->mean_us = sum / (double)n;
}

void bench_window_compute(uint64_t first_send_us, uint64_t last_send_us, uint64_t warmup_us,
                          const uint64_t *commit_us, size_t n, struct bench_window *out)
{
    memset(out, 0, sizeof(*out));
    out->start_us = first_send_us + warmup_us;
    out->end_us = last_send_us;
    if (out->start_us >= out->end_us) {
        out->empty = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (commit_us[i] != BENCH_NOT_COMMITTED && commit_us[i] >= out->start_us &&
            commit_us[i] <= out->end_us)
            out->committed++;
    }
    out->tps = (double)out->committed * 1e6 / (double)(out->end_us - out->start_us);
}

uint64_t bench_pacer_due_us(const struct bench_pacer *p, uint64_t batch_index)
{
    if (p->outstanding > 0 || p->rate_tps == 0)
        return 0;
    return batch_index * p->batch * 1000000u / p->rate_tps;
}

bool bench_pacer_may_send(const struct bench_pacer *p, uint64_t batch_index, uint64_t elapsed_us,
                          uint64_t unfinished, uint32_t size)
{
    if (p->outstanding > 0)
        return unfinished + size <= p->outstanding;
    return elapsed_us >= bench_pacer_due_us(p, batch_index);
}

int bench_proc_parse_cpu_ticks(const char *stat_text, uint64_t *ticks)
{
    /* The command name (field 2) may hold spaces and parentheses: fields
     * are counted from the last ')'. utime and stime are fields 14 and 15. */
    const char *p = strrchr(stat_text, ')');
    if (p == NULL)
        return TC_EINVAL;
    p++;
    for (int field = 3; field < 14; field++) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return TC_EINVAL;
        while (*p != ' ' && *p != '\0')
            p++;
    }
    uint64_t v[2];
    for (int i = 0; i < 2; i++) {
        while (*p == ' ')
            p++;
        if (*p < '0' || *p > '9')
            return TC_EINVAL;
        char *end;
        v[i] = strtoull(p, &end, 10);
        if (*end != ' ' && *end != '\0' && *end != '\n')
            return TC_EINVAL;
        p = end;
    }
    *ticks = v[0] + v[1];
    return TC_OK;
}

int bench_proc_parse_rss_kib(const char *status_text, uint64_t *rss_kib)
{
    const char *p = status_text;
    while (p != NULL && *p != '\0') {
        if (strncmp(p, "VmRSS:", 6) == 0) {
            p += 6;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p < '0' || *p > '9')
                return TC_EINVAL;
            char *end;
            uint64_t v = strtoull(p, &end, 10);
            while (*end == ' ' || *end == '\t')
                end++;
            if (strncmp(end, "kB", 2) != 0)
                return TC_EINVAL;
            *rss_kib = v;
            return TC_OK;
        }
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return TC_EINVAL;
}

void bench_usage_add(struct bench_usage *u, uint64_t t_us, uint64_t ticks, uint64_t rss_kib,
                     long ticks_per_s)
{
    if (u->samples == 0) {
        u->first_us = t_us;
        u->first_ticks = ticks;
    } else if (t_us > u->last_us && ticks >= u->last_ticks && ticks_per_s > 0) {
        double cpu_s = (double)(ticks - u->last_ticks) / (double)ticks_per_s;
        double pct = cpu_s * 1e8 / (double)(t_us - u->last_us);
        if (pct > u->cpu_percent_max)
            u->cpu_percent_max = pct;
    }
    u->last_us = t_us;
    u->last_ticks = ticks;
    if (rss_kib > u->rss_kib_max)
        u->rss_kib_max = rss_kib;
    u->rss_kib_sum += rss_kib;
    u->samples++;
}

double bench_usage_cpu_avg(const struct bench_usage *u, long ticks_per_s)
{
    if (u->samples < 2 || u->last_us <= u->first_us || ticks_per_s <= 0 ||
        u->last_ticks < u->first_ticks)
        return 0;
    double cpu_s = (double)(u->last_ticks - u->first_ticks) / (double)ticks_per_s;
    return cpu_s * 1e8 / (double)(u->last_us - u->first_us);
}

double bench_usage_rss_avg_kib(const struct bench_usage *u)
{
    return u->samples == 0 ? 0 : (double)u->rss_kib_sum / (double)u->samples;
}
