/* sim_queue.c - the simulator's event queue: a bounded binary min-heap on
 * (time_us, seq), so that events at the same virtual time run in the order
 * they were scheduled and a run is deterministic. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "sim_internal.h"

void sim_queue_init(struct sim_queue *q, size_t max)
{
    memset(q, 0, sizeof(*q));
    q->max = max;
}

void sim_queue_free(struct sim_queue *q)
{
    for (size_t i = 0; i < q->len; i++)
        free(q->heap[i].ptr);
    free(q->heap);
    memset(q, 0, sizeof(*q));
}

static bool earlier(const struct sim_event *a, const struct sim_event *b)
{
    if (a->time_us != b->time_us)
        return a->time_us < b->time_us;
    return a->seq < b->seq;
}

int sim_queue_push(struct sim_queue *q, const struct sim_event *ev)
{
    if (q->len >= q->max)
        return TC_EFULL;
    if (q->len == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 256;
        if (cap > q->max)
            cap = q->max;
        struct sim_event *h = realloc(q->heap, cap * sizeof(*h));
        if (!h)
            return TC_ENOMEM;
        q->heap = h;
        q->cap = cap;
    }
    size_t i = q->len++;
    struct sim_event e = *ev;
    e.seq = q->next_seq++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(&e, &q->heap[parent]))
            break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = e;
    return TC_OK;
}

bool sim_queue_pop(struct sim_queue *q, struct sim_event *ev)
{
    if (q->len == 0)
        return false;
    *ev = q->heap[0];
    struct sim_event last = q->heap[--q->len];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= q->len)
            break;
        if (child + 1 < q->len && earlier(&q->heap[child + 1], &q->heap[child]))
            child++;
        if (!earlier(&q->heap[child], &last))
            break;
        q->heap[i] = q->heap[child];
        i = child;
    }
    if (q->len > 0)
        q->heap[i] = last;
    return true;
}
