/*
 * mem.h - allocation that treats out-of-memory as fatal.
 *
 * For the node and tools (STYLE.md: out-of-memory in the node is fatal with a
 * clear message). Library code that can report TC_ENOMEM to its caller uses
 * plain malloc and returns the error instead.
 */
#ifndef TC_BASE_MEM_H
#define TC_BASE_MEM_H

#include <stddef.h>

/* Never return NULL: on failure they log at FATAL and exit(1). */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);

#endif
