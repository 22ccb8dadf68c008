/*
 * metrics.h - counters, gauges and histograms rendered as Prometheus text.
 *
 * A struct metrics is a registry of metric families. A family has a name, a
 * help text, a type and at most one label (for example "method"). Each
 * distinct label value is a series. The number of series of a family is fixed
 * when the family is created (max_series): once it is reached, further label
 * values all land in one overflow series labelled METRICS_OVERFLOW_LABEL, so
 * that input from outside (method names, peer names) can never grow the
 * registry without bound. Callers that label by client input should still map
 * unknown values to a fixed label themselves (the RPC server uses "unknown").
 *
 * Usage:
 *     struct metrics *m = metrics_new();
 *     struct metric *blocks;
 *     metrics_add_counter(m, "teechain_blocks_total", "Committed blocks.", NULL, 0, &blocks);
 *     struct metric_series *s = metric_series(blocks, NULL);   // once
 *     metric_inc(s);                                           // hot path, any thread
 *     struct bytes text; bytes_init(&text);
 *     metrics_render(m, &text);                                // GET /metrics
 *
 * Thread-safety: updates (metric_inc, metric_add, metric_gauge_*,
 * metric_observe) are lock-free atomics and may run on any thread. Creating
 * families and series and rendering take the registry's mutex and may also
 * run on any thread. Families and series live until metrics_free; the
 * pointers handed out stay valid until then.
 */
#ifndef TC_RPC_METRICS_H
#define TC_RPC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"

/* Bounds that keep the registry and the rendered page small. */
#define METRICS_MAX_FAMILIES   128
#define METRICS_MAX_SERIES     1024 /* per family, the overflow series excluded */
#define METRICS_MAX_BUCKETS    32   /* per histogram, +Inf excluded */
#define METRICS_MAX_NAME_LEN   128
#define METRICS_MAX_LABEL_LEN  128
#define METRICS_OVERFLOW_LABEL "other"

struct metrics;
struct metric;
struct metric_series;

/* New empty registry; NULL when out of memory. Free with metrics_free. */
struct metrics *metrics_new(void);
/* Frees the registry with all its families and series. NULL is a no-op. */
void metrics_free(struct metrics *m);

/*
 * Adds a family. name must match [a-zA-Z_:][a-zA-Z0-9_:]* (at most
 * METRICS_MAX_NAME_LEN bytes); help is free text (escaped on output).
 * label_name is NULL for an unlabelled family (one series, max_series is
 * ignored), otherwise a valid label name and max_series in
 * 1..METRICS_MAX_SERIES. Strings are copied. *out gets the family, owned by
 * the registry.
 * Returns TC_OK, TC_EINVAL (bad name, label or bound), TC_EEXIST (name taken),
 * TC_EFULL (METRICS_MAX_FAMILIES reached) or TC_ENOMEM.
 */
int metrics_add_counter(struct metrics *m, const char *name, const char *help,
                        const char *label_name, uint32_t max_series, struct metric **out);
int metrics_add_gauge(struct metrics *m, const char *name, const char *help, const char *label_name,
                      uint32_t max_series, struct metric **out);
/*
 * As above, for a histogram with n_bounds upper bounds (1..METRICS_MAX_BUCKETS,
 * strictly increasing, finite); the +Inf bucket is implicit.
 */
int metrics_add_histogram(struct metrics *m, const char *name, const char *help,
                          const char *label_name, uint32_t max_series, const double *bounds,
                          size_t n_bounds, struct metric **out);

/*
 * The series of `family` for label_value, created on first use. For an
 * unlabelled family label_value is ignored (pass NULL). For a labelled one a
 * NULL or over-long value, or any new value once max_series series exist,
 * gives the overflow series. Never returns NULL (exits on out-of-memory, as
 * node code does). Look a series up once and keep the pointer: the lookup is
 * a linear scan.
 */
struct metric_series *metric_series(struct metric *family, const char *label_value);

/* Counter: adds 1 / n. */
void metric_inc(struct metric_series *s);
void metric_add(struct metric_series *s, uint64_t n);
/* Gauge: sets / adds a signed value. */
void metric_gauge_set(struct metric_series *s, int64_t value);
void metric_gauge_add(struct metric_series *s, int64_t delta);
/* Histogram: records one observation (seconds for latencies). NaN is ignored. */
void metric_observe(struct metric_series *s, double value);

/* Current values, for tests and for the node's own status output. */
uint64_t metric_counter_value(const struct metric_series *s);
int64_t metric_gauge_value(const struct metric_series *s);
/* Number of observations of a histogram series. */
uint64_t metric_histogram_count(const struct metric_series *s);
/* Number of series a family holds now, the overflow series included once used. */
uint32_t metric_series_count(const struct metric *family);

/*
 * Appends the whole registry to out in the Prometheus text exposition format
 * 0.0.4 (families in creation order, series in creation order). Returns TC_OK
 * or TC_ENOMEM (out then holds a partial page; the caller discards it).
 */
int metrics_render(struct metrics *m, struct bytes *out);

/* Content-Type of the rendered page, for the HTTP response. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
