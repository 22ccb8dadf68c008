/*
 * mailbox.h - a bounded, thread-safe FIFO of byte messages between the node's
 * loop thread and its chain thread (Raft frames in, Raft frames and forwarded
 * transactions out).
 *
 * Any thread pushes; one thread takes the whole queue at once. The bound is
 * on the bytes held (payloads plus a fixed overhead per message): a push that
 * would pass it is refused with TC_EFULL and counted, never blocking, because
 * every user tolerates loss (Raft resends, a forwarded transaction is also in
 * the sender's pool).
 *
 *     struct mailbox mb;
 *     mailbox_init(&mb, 64u << 20);
 *     mailbox_push(&mb, peer, type, data, len);          // any thread
 *     struct mailbox_msg *m = mailbox_take_all(&mb);      // the consumer
 *     for (struct mailbox_msg *i = m; i; i = i->next) ... i->data, i->len ...
 *     mailbox_free_list(m);
 *     mailbox_destroy(&mb);
 */
#ifndef TC_NODE_MAILBOX_H
#define TC_NODE_MAILBOX_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes charged per message besides its payload. */
#define MAILBOX_MSG_OVERHEAD 64u

struct mailbox_msg {
    struct mailbox_msg *next;
    uint64_t peer; /* Raft id of the sender or the recipient */
    uint8_t type;  /* a P2P frame type */
    size_t len;
    uint8_t data[]; /* len bytes */
};

struct mailbox {
    pthread_mutex_t mu;
    struct mailbox_msg *head;
    struct mailbox_msg *tail;
    size_t bytes;
    size_t max_bytes;
    uint64_t dropped; /* pushes refused by the bound */
};

void mailbox_init(struct mailbox *mb, size_t max_bytes);
/* Frees every message still queued. */
void mailbox_destroy(struct mailbox *mb);
/* Copies data into a new message at the tail. Returns 0 or TC_EFULL. */
int mailbox_push(struct mailbox *mb, uint64_t peer, uint8_t type, const void *data, size_t len);
/* Detaches and returns every queued message, oldest first (NULL if none);
 * the caller owns the list. */
struct mailbox_msg *mailbox_take_all(struct mailbox *mb);
void mailbox_free_list(struct mailbox_msg *m);
/* Pushes refused so far. */
uint64_t mailbox_dropped(struct mailbox *mb);

#endif
