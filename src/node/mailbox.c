/*
 * mailbox.c - see mailbox.h.
 */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/mem.h"
#include "node/mailbox.h"

void mailbox_init(struct mailbox *mb, size_t max_bytes)
{
    memset(mb, 0, sizeof(*mb));
    pthread_mutex_init(&mb->mu, NULL);
    mb->max_bytes = max_bytes;
}

void mailbox_destroy(struct mailbox *mb)
{
    mailbox_free_list(mb->head);
    mb->head = mb->tail = NULL;
    pthread_mutex_destroy(&mb->mu);
}

int mailbox_push(struct mailbox *mb, uint64_t peer, uint8_t type, const void *data, size_t len)
{
    size_t cost = len + MAILBOX_MSG_OVERHEAD;
    if (cost > mb->max_bytes) {
        pthread_mutex_lock(&mb->mu);
        mb->dropped++;
        pthread_mutex_unlock(&mb->mu);
        return TC_EFULL;
    }
    /* Built outside the lock; the bound is checked and the message linked in
     * one critical section. */
    struct mailbox_msg *m = xmalloc(sizeof(*m) + len);
    m->next = NULL;
    m->peer = peer;
    m->type = type;
    m->len = len;
    if (len)
        memcpy(m->data, data, len);
    pthread_mutex_lock(&mb->mu);
    if (mb->bytes > mb->max_bytes - cost) {
        mb->dropped++;
        pthread_mutex_unlock(&mb->mu);
        free(m);
        return TC_EFULL;
    }
    mb->bytes += cost;
    if (mb->tail)
        mb->tail->next = m;
    else
        mb->head = m;
    mb->tail = m;
    pthread_mutex_unlock(&mb->mu);
    return TC_OK;
}

struct mailbox_msg *mailbox_take_all(struct mailbox *mb)
{
    pthread_mutex_lock(&mb->mu);
    struct mailbox_msg *m = mb->head;
    mb->head = mb->tail = NULL;
    mb->bytes = 0;
    pthread_mutex_unlock(&mb->mu);
    return m;
}

void mailbox_free_list(struct mailbox_msg *m)
{
    while (m) {
        struct mailbox_msg *next = m->next;
        free(m);
        m = next;
    }
}

uint64_t mailbox_dropped(struct mailbox *mb)
{
    pthread_mutex_lock(&mb->mu);
    uint64_t d = mb->dropped;
    pthread_mutex_unlock(&mb->mu);
    return d;
}
