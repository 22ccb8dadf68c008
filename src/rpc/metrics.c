/* metrics.c - the metrics registry and its Prometheus text rendering. */
#include "rpc/metrics.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metric_series {
    const struct metric *family;
    char *label_value; /* NULL for the series of an unlabelled family */
    /* Counter value, or gauge value stored as the bits of an int64_t. */
    _Atomic uint64_t value;
    /* Histogram: per-bucket (not cumulative) counts, n_bounds + 1 with +Inf. */
    _Atomic uint64_t *buckets;
    _Atomic uint64_t count;
    _Atomic uint64_t sum_bits; /* bits of a double, updated by compare-and-swap */
};

struct metric {
    enum metric_type type;
    char *name;
    char *help;
    char *label_name;
    double bounds[METRICS_MAX_BUCKETS];
    size_t n_bounds;
    uint32_t max_series;
    /* series[0..n_series) are published (immutable labels); series[max_series]
     * is the overflow series, shown once overflow_used is set. */
    struct metric_series *series;
    _Atomic uint32_t n_series;
    _Atomic bool overflow_used;
    pthread_mutex_t *lock; /* the registry's */
};

struct metrics {
    pthread_mutex_t lock;
    struct metric *families[METRICS_MAX_FAMILIES];
    size_t n_families;
};

struct metrics *metrics_new(void)
{
    struct metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

static void series_free(struct metric_series *s)
{
    free(s->label_value);
    free((void *)s->buckets);
}

static void family_free(struct metric *f)
{
    if (!f)
        return;
    if (f->series) {
        for (uint32_t i = 0; i <= f->max_series; i++)
            series_free(&f->series[i]);
    }
    free(f->series);
    free(f->name);
    free(f->help);
    free(f->label_name);
    free(f);
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_families; i++)
        family_free(m->families[i]);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static bool valid_name(const char *s, bool allow_colon)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > METRICS_MAX_NAME_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static struct metric_series *series_init(struct metric *f, struct metric_series *s,
                                         const char *label_value)
{
    s->family = f;
    if (label_value) {
        s->label_value = strdup(label_value);
        if (!s->label_value)
            log_fatal("metrics", "out of memory creating a series of %s", f->name);
    }
    if (f->type == METRIC_HISTOGRAM) {
        s->buckets = calloc(f->n_bounds + 1, sizeof(*s->buckets));
        if (!s->buckets)
            log_fatal("metrics", "out of memory creating a series of %s", f->name);
    }
    return s;
}

static int add_family(struct metrics *m, enum metric_type type, const char *name, const char *help,
                      const char *label_name, uint32_t max_series, const double *bounds,
                      size_t n_bounds, struct metric **out)
{
    if (!valid_name(name, true) || (label_name && !valid_name(label_name, false)))
        return TC_EINVAL;
    if (label_name && (max_series == 0 || max_series > METRICS_MAX_SERIES))
        return TC_EINVAL;
    if (label_name && strcmp(label_name, "le") == 0 && type == METRIC_HISTOGRAM)
        return TC_EINVAL;
    if (type == METRIC_HISTOGRAM) {
        if (n_bounds == 0 || n_bounds > METRICS_MAX_BUCKETS)
            return TC_EINVAL;
        for (size_t i = 0; i < n_bounds; i++) {
            if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
                return TC_EINVAL;
        }
    }
    int rc = TC_OK;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n_families; i++) {
        if (strcmp(m->families[i]->name, name) == 0) {
            rc = TC_EEXIST;
            goto out_unlock;
        }
    }
    if (m->n_families == METRICS_MAX_FAMILIES) {
        rc = TC_EFULL;
        goto out_unlock;
    }
    struct metric *f = calloc(1, sizeof(*f));
    if (!f) {
        rc = TC_ENOMEM;
        goto out_unlock;
    }
    f->type = type;
    f->max_series = label_name ? max_series : 1;
    f->lock = &m->lock;
    f->name = strdup(name);
    f->help = strdup(help ? help : "");
    f->label_name = label_name ? strdup(label_name) : NULL;
    f->series = calloc((size_t)f->max_series + 1, sizeof(*f->series));
    if (!f->name || !f->help || (label_name && !f->label_name) || !f->series) {
        rc = TC_ENOMEM;
        goto out_free_family;
    }
    if (type == METRIC_HISTOGRAM) {
        memcpy(f->bounds, bounds, n_bounds * sizeof(*bounds));
        f->n_bounds = n_bounds;
    }
    if (!label_name) {
        series_init(f, &f->series[0], NULL);
        atomic_store(&f->n_series, 1);
    } else {
        series_init(f, &f->series[f->max_series], METRICS_OVERFLOW_LABEL);
    }
    m->families[m->n_families++] = f;
    *out = f;
    goto out_unlock;

out_free_family:
    family_free(f);
out_unlock:
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int metrics_add_counter(struct metrics *m, const char *name, const char *help,
                        const char *label_name, uint32_t max_series, struct metric **out)
{
    return add_family(m, METRIC_COUNTER, name, help, label_name, max_series, NULL, 0, out);
}

int metrics_add_gauge(struct metrics *m, const char *name, const char *help, const char *label_name,
                      uint32_t max_series, struct metric **out)
{
    return add_family(m, METRIC_GAUGE, name, help, label_name, max_series, NULL, 0, out);
}

int metrics_add_histogram(struct metrics *m, const char *name, const char *help,
                          const char *label_name, uint32_t max_series, const double *bounds,
                          size_t n_bounds, struct metric **out)
{
    return add_family(m, METRIC_HISTOGRAM, name, help, label_name, max_series, bounds, n_bounds,
                      out);
}

static struct metric_series *find_series(struct metric *f, const char *label_value, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (strcmp(f->series[i].label_value, label_value) == 0)
            return &f->series[i];
    }
    return NULL;
}

static struct metric_series *overflow_series(struct metric *f)
{
    atomic_store(&f->overflow_used, true);
    return &f->series[f->max_series];
}

struct metric_series *metric_series(struct metric *family, const char *label_value)
{
    if (!family->label_name)
        return &family->series[0];
    if (!label_value || strlen(label_value) > METRICS_MAX_LABEL_LEN)
        return overflow_series(family);
    struct metric_series *s = find_series(
        family, label_value, atomic_load_explicit(&family->n_series, memory_order_acquire));
    if (s)
        return s;
    pthread_mutex_lock(family->lock);
    uint32_t n = atomic_load(&family->n_series);
    s = find_series(family, label_value, n);
    if (!s && n < family->max_series) {
        s = series_init(family, &family->series[n], label_value);
        atomic_store_explicit(&family->n_series, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(family->lock);
    return s ? s : overflow_series(family);
}

void metric_inc(struct metric_series *s)
{
    atomic_fetch_add_explicit(&s->value, 1, memory_order_relaxed);
}

void metric_add(struct metric_series *s, uint64_t n)
{
    atomic_fetch_add_explicit(&s->value, n, memory_order_relaxed);
}

void metric_gauge_set(struct metric_series *s, int64_t value)
{
    atomic_store_explicit(&s->value, (uint64_t)value, memory_order_relaxed);
}

void metric_gauge_add(struct metric_series *s, int64_t delta)
{
    /* Two's complement addition on the unsigned bits is signed addition. */
    atomic_fetch_add_explicit(&s->value, (uint64_t)delta, memory_order_relaxed);
}

static uint64_t double_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

static double bits_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

void metric_observe(struct metric_series *s, double value)
{
    if (isnan(value) || !s->buckets)
        return;
    const struct metric *f = s->family;
    size_t i = 0;
    while (i < f->n_bounds && value > f->bounds[i])
        i++;
    atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
    uint64_t old = atomic_load_explicit(&s->sum_bits, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&s->sum_bits, &old,
                                                  double_bits(bits_double(old) + value),
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

uint64_t metric_counter_value(const struct metric_series *s)
{
    return atomic_load_explicit(&s->value, memory_order_relaxed);
}

int64_t metric_gauge_value(const struct metric_series *s)
{
    return (int64_t)atomic_load_explicit(&s->value, memory_order_relaxed);
}

uint64_t metric_histogram_count(const struct metric_series *s)
{
    return atomic_load_explicit(&s->count, memory_order_relaxed);
}

uint32_t metric_series_count(const struct metric *family)
{
    return atomic_load(&family->n_series) + (atomic_load(&family->overflow_used) ? 1 : 0);
}

/* ---- rendering ---------------------------------------------------------- */

static int put(struct bytes *out, const char *s)
{
    return bytes_append(out, s, strlen(s));
}

static int putf(struct bytes *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int putf(struct bytes *out, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    /* Names are bounded by METRICS_MAX_NAME_LEN, so a line always fits. */
    assert(n >= 0 && (size_t)n < sizeof(buf));
    return bytes_append(out, buf, (size_t)n);
}

/* Escapes backslash and newline (help text), and also '"' in label values. */
static int put_escaped(struct bytes *out, const char *s, bool quote)
{
    for (; *s; s++) {
        int rc;
        if (*s == '\\')
            rc = put(out, "\\\\");
        else if (*s == '\n')
            rc = put(out, "\\n");
        else if (quote && *s == '"')
            rc = put(out, "\\\"");
        else
            rc = bytes_push(out, (uint8_t)*s);
        if (rc)
            return rc;
    }
    return TC_OK;
}

/* Writes `name{label="value",le="x"}` (the braces only when there is a label). */
static int put_series_name(struct bytes *out, const struct metric *f, const char *suffix,
                           const struct metric_series *s, const char *le)
{
    int rc = put(out, f->name);
    if (!rc)
        rc = put(out, suffix);
    if (rc || (!s->label_value && !le))
        return rc;
    rc = put(out, "{");
    if (!rc && s->label_value) {
        rc = putf(out, "%s=\"", f->label_name);
        if (!rc)
            rc = put_escaped(out, s->label_value, true);
        if (!rc)
            rc = put(out, le ? "\"," : "\"");
    }
    if (!rc && le)
        rc = putf(out, "le=\"%s\"", le);
    if (!rc)
        rc = put(out, "}");
    return rc;
}

static int render_histogram(struct bytes *out, const struct metric *f,
                            const struct metric_series *s)
{
    uint64_t cumulative = 0;
    int rc = TC_OK;
    for (size_t i = 0; i <= f->n_bounds && !rc; i++) {
        char le[32];
        if (i < f->n_bounds)
            snprintf(le, sizeof(le), "%.9g", f->bounds[i]);
        else
            snprintf(le, sizeof(le), "+Inf");
        cumulative += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
        rc = put_series_name(out, f, "_bucket", s, le);
        if (!rc)
            rc = putf(out, " %" PRIu64 "\n", cumulative);
    }
    if (!rc)
        rc = put_series_name(out, f, "_sum", s, NULL);
    if (!rc)
        rc = putf(out, " %.9g\n", bits_double(atomic_load(&s->sum_bits)));
    if (!rc)
        rc = put_series_name(out, f, "_count", s, NULL);
    if (!rc)
        rc = putf(out, " %" PRIu64 "\n", atomic_load(&s->count));
    return rc;
}

static int render_series(struct bytes *out, const struct metric *f, const struct metric_series *s)
{
    if (f->type == METRIC_HISTOGRAM)
        return render_histogram(out, f, s);
    int rc = put_series_name(out, f, "", s, NULL);
    if (rc)
        return rc;
    if (f->type == METRIC_COUNTER)
        return putf(out, " %" PRIu64 "\n", metric_counter_value(s));
    return putf(out, " %" PRId64 "\n", metric_gauge_value(s));
}

static int render_family(struct bytes *out, const struct metric *f)
{
    static const char *const type_names[] = { "counter", "gauge", "histogram" };
    int rc = putf(out, "# HELP %s ", f->name);
    if (!rc)
        rc = put_escaped(out, f->help, false);
    if (!rc)
        rc = putf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
    uint32_t n = atomic_load(&f->n_series);
    for (uint32_t i = 0; i < n && !rc; i++)
        rc = render_series(out, f, &f->series[i]);
    if (!rc && f->label_name && atomic_load(&f->overflow_used))
        rc = render_series(out, f, &f->series[f->max_series]);
    return rc;
}

int metrics_render(struct metrics *m, struct bytes *out)
{
    int rc = TC_OK;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n_families && !rc; i++)
        rc = render_family(out, m->families[i]);
    pthread_mutex_unlock(&m->lock);
    return rc;
}
