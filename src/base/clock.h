/*
 * clock.h - time sources.
 *
 * Monotonic time for timeouts and measurements; wall-clock time only for
 * block timestamps and log lines. Pure cores (consensus, evm) never call
 * these: they are given time as input.
 */
#ifndef TC_BASE_CLOCK_H
#define TC_BASE_CLOCK_H

#include <stdint.h>

uint64_t clock_monotonic_ns(void);
uint64_t clock_monotonic_us(void);
uint64_t clock_monotonic_ms(void);
/* Milliseconds since the Unix epoch. */
uint64_t clock_wall_ms(void);
/* Sleeps at least ms milliseconds (retries on EINTR). */
void clock_sleep_ms(uint64_t ms);

#endif
