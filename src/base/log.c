/* log.c - the process-wide logger (see log.h). */
#include "base/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/error.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static enum log_level log_level_now = LOG_INFO;
static FILE *log_file;
static bool log_to_stderr = true;

static const char *const level_names[] = { "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL" };

void log_set_level(enum log_level level)
{
    __atomic_store_n(&log_level_now, level, __ATOMIC_RELAXED);
}

enum log_level log_get_level(void)
{
    return __atomic_load_n(&log_level_now, __ATOMIC_RELAXED);
}

bool log_enabled(enum log_level level)
{
    return level >= log_get_level() && level < LOG_OFF;
}

int log_parse_level(const char *name, enum log_level *out)
{
    static const struct {
        const char *name;
        enum log_level level;
    } table[] = { { "trace", LOG_TRACE }, { "debug", LOG_DEBUG },  { "info", LOG_INFO },
                  { "warn", LOG_WARN },   { "warning", LOG_WARN }, { "error", LOG_ERROR },
                  { "fatal", LOG_FATAL }, { "off", LOG_OFF } };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcasecmp(name, table[i].name) == 0) {
            *out = table[i].level;
            return TC_OK;
        }
    }
    return TC_EINVAL;
}

int log_open_file(const char *path)
{
    FILE *f = fopen(path, "a");
    if (!f)
        return TC_EIO;
    pthread_mutex_lock(&log_lock);
    if (log_file)
        fclose(log_file);
    log_file = f;
    pthread_mutex_unlock(&log_lock);
    return TC_OK;
}

void log_close_file(void)
{
    pthread_mutex_lock(&log_lock);
    if (log_file)
        fclose(log_file);
    log_file = NULL;
    pthread_mutex_unlock(&log_lock);
}

void log_set_stderr(bool on)
{
    __atomic_store_n(&log_to_stderr, on, __ATOMIC_RELAXED);
}

/* Copies src into dst escaping control bytes as \xNN; always NUL-terminates. */
static void escape_into(char *dst, size_t cap, const char *src)
{
    static const char digits[] = "0123456789abcdef";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p && o + 5 < cap; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = digits[*p >> 4];
            dst[o++] = digits[*p & 15];
        } else {
            dst[o++] = (char)*p;
        }
    }
    dst[o] = '\0';
}

void log_vwrite(enum log_level level, const char *module, const char *fmt, va_list ap)
{
    if (!log_enabled(level) && level != LOG_FATAL)
        return;
    char raw[LOG_LINE_MAX], text[LOG_LINE_MAX], stamp[32];
    vsnprintf(raw, sizeof(raw), fmt, ap);
    escape_into(text, sizeof(text), raw);

    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, sizeof(stamp) - n, ".%03ldZ", ts.tv_nsec / 1000000);

    pthread_mutex_lock(&log_lock);
    if (log_to_stderr)
        fprintf(stderr, "%s %-5s [%s] %s\n", stamp, level_names[level], module, text);
    if (log_file) {
        fprintf(log_file, "%s %-5s [%s] %s\n", stamp, level_names[level], module, text);
        fflush(log_file);
    }
    pthread_mutex_unlock(&log_lock);
}

void log_write(enum log_level level, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, module, fmt, ap);
    va_end(ap);
}

void log_fatal(const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(LOG_FATAL, module, fmt, ap);
    va_end(ap);
    exit(1);
}
