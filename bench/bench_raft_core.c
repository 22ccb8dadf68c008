/*
 * bench_raft_core.c - throughput of the pure Raft core.
 *
 * Three voters in one process on one CPU core, no faults. The network is a
 * FIFO of messages encoded with raft_codec (so each hop costs an encode, a
 * copy and a decode); there is no disk: every update's persist work is
 * acknowledged at once. Nodes compact their logs as they apply. Measured:
 *   batched   committed entries per second, 1,000 entries per raft_propose
 *   single    proposals per second, one entry per raft_propose, each driven
 *             to commitment on the leader before the next
 *   usage: bench_raft_core [entry_bytes] [batches] [singles]
 *          (defaults 64 2000 200000)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/error.h"
#include "consensus/raft/raft.h"
#include "consensus/raft/raft_codec.h"

#define NODES 3
#define QUEUE 4096
#define BATCH 1000
#define POOL  8

struct wire {
    uint64_t to;
    struct bytes buf;
};

struct bench {
    struct raft *r[NODES + 1];
    struct wire q[QUEUE];
    size_t head, len;
    uint64_t applied[NODES + 1];
    uint64_t messages;
    uint64_t bytes;
    struct bytes pool[POOL]; /* large message buffers for reuse */
    size_t npool;
};

static struct raft_entry g_entries[RAFT_MSG_MAX_ENTRIES];

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_raft_core: %s: %s\n", what, tc_strerror(rc));
    exit(1);
}

static void handle(struct bench *b, uint64_t id, const struct raft_update *u)
{
    for (;;) {
        for (size_t i = 0; i < u->message_count; i++) {
            if (b->len == QUEUE)
                die("network queue full", TC_EFULL);
            struct wire *w = &b->q[(b->head + b->len++) % QUEUE];
            w->to = u->messages[i].to;
            if (u->messages[i].entry_count && w->buf.cap == 0 && b->npool)
                w->buf = b->pool[--b->npool];
            bytes_clear(&w->buf);
            int rc = raft_msg_encode(&u->messages[i], &w->buf);
            if (rc)
                die("encode", rc);
            b->messages++;
            b->bytes += w->buf.len;
        }
        if (u->committed_count) {
            b->applied[id] = u->committed[u->committed_count - 1].index;
            /* Keep memory flat: drop what is applied. */
            if (b->applied[id] - raft_first_index(b->r[id]) > 4 * BATCH)
                raft_compact(b->r[id], b->applied[id]);
        }
        if (!u->persist_seq)
            return;
        static struct raft_update next;
        int rc = raft_persisted(b->r[id], u->persist_seq, &next);
        if (rc)
            die("persisted", rc);
        u = &next;
    }
}

static void drain(struct bench *b)
{
    while (b->len) {
        struct wire *w = &b->q[b->head];
        b->head = (b->head + 1) % QUEUE;
        b->len--;
        struct raft_message m;
        int rc = raft_msg_decode(w->buf.ptr, w->buf.len, &m, g_entries, RAFT_MSG_MAX_ENTRIES);
        if (rc)
            die("decode", rc);
        struct raft_update u;
        if ((rc = raft_receive(b->r[w->to], &m, &u)))
            die("receive", rc);
        handle(b, w->to, &u);
        /* Slots are reused round robin: hand large buffers to the pool. */
        if (w->buf.cap > 65536) {
            if (b->npool < POOL) {
                b->pool[b->npool++] = w->buf;
                bytes_init(&w->buf);
            } else {
                bytes_free(&w->buf);
            }
        }
    }
}

static void setup(struct bench *b)
{
    memset(b, 0, sizeof(*b));
    for (size_t i = 0; i < QUEUE; i++)
        bytes_init(&b->q[i].buf);
    struct raft_boot boot;
    memset(&boot, 0, sizeof(boot));
    boot.snapshot.membership.count = NODES;
    for (uint32_t i = 0; i < NODES; i++) {
        boot.snapshot.membership.members[i].id = i + 1;
        boot.snapshot.membership.members[i].role = RAFT_VOTER;
    }
    for (uint64_t id = 1; id <= NODES; id++) {
        struct raft_config c;
        memset(&c, 0, sizeof(c));
        c.id = id;
        c.election_ticks = 10;
        c.heartbeat_ticks = 1;
        c.seed = 1;
        int rc = raft_create(&c, &boot, &b->r[id]);
        if (rc)
            die("create", rc);
    }
    /* Elect node 1: tick it alone until it leads. */
    for (int i = 0; i < 100 && !raft_is_leader(b->r[1]); i++) {
        struct raft_update u;
        raft_tick(b->r[1], &u);
        handle(b, 1, &u);
        drain(b);
    }
    if (!raft_is_leader(b->r[1]))
        die("election", TC_ESTATE);
}

static void teardown(struct bench *b)
{
    for (uint64_t id = 1; id <= NODES; id++)
        raft_destroy(b->r[id]);
    for (size_t i = 0; i < QUEUE; i++)
        bytes_free(&b->q[i].buf);
    for (size_t i = 0; i < b->npool; i++)
        bytes_free(&b->pool[i]);
}

static double run_batched(struct bench *b, const struct bytes_view *views, long batches,
                          uint64_t *committed)
{
    uint64_t start = raft_commit_index(b->r[1]);
    uint64_t t0 = clock_monotonic_ns();
    for (long i = 0; i < batches; i++) {
        struct raft_update u;
        int rc = raft_propose(b->r[1], views, BATCH, NULL, &u);
        if (rc)
            die("propose", rc);
        handle(b, 1, &u);
        drain(b);
    }
    uint64_t t1 = clock_monotonic_ns();
    *committed = raft_commit_index(b->r[1]) - start;
    return (double)*committed / ((double)(t1 - t0) / 1e9);
}

static double run_single(struct bench *b, const struct bytes_view *view, long n,
                         uint64_t *committed)
{
    uint64_t start = raft_commit_index(b->r[1]);
    uint64_t t0 = clock_monotonic_ns();
    for (long i = 0; i < n; i++) {
        struct raft_update u;
        int rc = raft_propose(b->r[1], view, 1, NULL, &u);
        if (rc)
            die("propose", rc);
        handle(b, 1, &u);
        drain(b);
    }
    uint64_t t1 = clock_monotonic_ns();
    *committed = raft_commit_index(b->r[1]) - start;
    return (double)n / ((double)(t1 - t0) / 1e9);
}

int main(int argc, char **argv)
{
    size_t entry_bytes = argc > 1 ? strtoul(argv[1], NULL, 0) : 64;
    long batches = argc > 2 ? strtol(argv[2], NULL, 0) : 2000;
    long singles = argc > 3 ? strtol(argv[3], NULL, 0) : 200000;
    printf("command: %s %zu %ld %ld\n", argv[0], entry_bytes, batches, singles);
    uint8_t *payload = calloc(1, entry_bytes ? entry_bytes : 1);
    static struct bytes_view views[BATCH];
    for (int i = 0; i < BATCH; i++)
        views[i] = bytes_view_of(payload, entry_bytes);

    static struct bench b;
    setup(&b);
    uint64_t committed;
    double batched = run_batched(&b, views, batches, &committed);
    uint64_t msgs_batched = b.messages;
    printf("%-8s %12s %14s %12s\n", "mode", "committed", "per second", "messages");
    printf("%-8s %12" PRIu64 " %14.0f %12" PRIu64 "\n", "batched", committed, batched,
           msgs_batched);
    teardown(&b);

    setup(&b);
    uint64_t before = b.messages;
    double single = run_single(&b, views, singles, &committed);
    printf("%-8s %12" PRIu64 " %14.0f %12" PRIu64 "\n", "single", committed, single,
           b.messages - before);
    teardown(&b);
    printf("(3 voters, %zu-byte entries, codec on every hop, persist acknowledged at once)\n",
           entry_bytes);
    free(payload);
    return 0;
}
