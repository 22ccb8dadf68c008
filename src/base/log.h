/*
 * log.h - levelled logging.
 *
 * One process-wide logger, safe to call from any thread. A line is
 *   2026-11-24T06:50:01.123Z INFO  [raft] became leader term=3
 * written to stderr and, once log_open_file() succeeded, to that file too.
 * Lines are bounded (LOG_LINE_MAX); control characters in the formatted text
 * are escaped, so a peer-supplied string cannot forge log lines.
 *
 * Rule (DESIGN.md §7): never pass a transaction payload, a key, or a state
 * value to these functions. Hashes, numbers, addresses of peers and sizes are
 * fine. There is deliberately no "log these bytes as hex" helper.
 */
#ifndef TC_BASE_LOG_H
#define TC_BASE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_TRACE, LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_FATAL, LOG_OFF };

#define LOG_LINE_MAX 1024

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool log_enabled(enum log_level level);
/* Parses "trace", "debug", "info", "warn"/"warning", "error", "fatal", "off". */
int log_parse_level(const char *name, enum log_level *out);
/* Also write to this file (appended). Returns TC_EIO when it cannot be opened. */
int log_open_file(const char *path);
void log_close_file(void);
/* Silence stderr (tests, tools that print their own output). */
void log_set_stderr(bool on);

void log_write(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vwrite(enum log_level level, const char *module, const char *fmt, va_list ap);

#define LOG_T(mod, ...) log_write(LOG_TRACE, mod, __VA_ARGS__)
#define LOG_D(mod, ...) log_write(LOG_DEBUG, mod, __VA_ARGS__)
#define LOG_I(mod, ...) log_write(LOG_INFO, mod, __VA_ARGS__)
#define LOG_W(mod, ...) log_write(LOG_WARN, mod, __VA_ARGS__)
#define LOG_E(mod, ...) log_write(LOG_ERROR, mod, __VA_ARGS__)

/* Logs at FATAL and exits the process with status 1. */
_Noreturn void log_fatal(const char *module, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
