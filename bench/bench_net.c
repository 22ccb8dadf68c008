/*
 * bench_net.c - P2P throughput between two nodes over loopback TLS 1.3:
 * frames/s and MB/s (payload bytes) one way, for 256 B and 64 KiB frames.
 * Both nodes run on one libevent loop in this process (one core does both
 * sides' TLS), with the keys of a 2-node chain made by the chain builder.
 *
 * Usage: bench_net [seconds_per_size]   (default 2)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "cli/chain_builder.h"
#include "net/p2p.h"

#define TYPE       P2P_TYPE_RAFT
#define PACE_BYTES (4u << 20) /* keep at most this much queued to the receiver */

struct sink {
    uint64_t frames, bytes;
};

static int on_frame(void *ctx, const uint8_t node_id[P2P_NODE_ID_BYTES], uint8_t type,
                    const uint8_t *payload, size_t len)
{
    struct sink *s = ctx;
    (void)node_id;
    (void)type;
    (void)payload;
    s->frames++;
    s->bytes += len;
    return TC_OK;
}

static uint8_t ids[2][P2P_NODE_ID_BYTES];

static void read_id(const char *root, int idx)
{
    char idp[512], hex[160] = "";
    snprintf(idp, sizeof(idp), "%s/127.0.0.1/node%d/conf/node.nodeid", root, idx);
    FILE *f = fopen(idp, "r");
    size_t n = 0;
    if (f == NULL || fgets(hex, sizeof(hex), f) == NULL ||
        hex_decode(hex, 128, ids[idx], 64, &n) != TC_OK) {
        fprintf(stderr, "cannot read %s\n", idp);
        exit(1);
    }
    fclose(f);
}

static void start(struct event_base *base, const char *root, int idx, struct sink *sink,
                  struct p2p **out)
{
    struct p2p_options o;
    char ca[512], crt[512], key[512], err[512] = "";
    snprintf(ca, sizeof(ca), "%s/127.0.0.1/node%d/conf/ca.crt", root, idx);
    snprintf(crt, sizeof(crt), "%s/127.0.0.1/node%d/conf/ssl.crt", root, idx);
    snprintf(key, sizeof(key), "%s/127.0.0.1/node%d/conf/ssl.key", root, idx);
    p2p_options_defaults(&o);
    memcpy(o.node_id, ids[idx], P2P_NODE_ID_BYTES);
    snprintf(o.listen_host, sizeof(o.listen_host), "127.0.0.1");
    o.allowed = (const uint8_t(*)[P2P_NODE_ID_BYTES])ids;
    o.allowed_count = 2;
    o.ca_cert_path = ca;
    o.cert_path = crt;
    o.key_path = key;
    o.max_frame_bytes = 1u << 20;
    o.max_queue_bytes = 4 * (uint64_t)PACE_BYTES;
    if (p2p_new(base, &o, out, err, sizeof(err)) != TC_OK ||
        p2p_register(*out, TYPE, 1u << 20, on_frame, sink) != TC_OK) {
        fprintf(stderr, "p2p_new: %s\n", err);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    char root[64], err[512];
    struct chain_spec spec;
    struct sink sa = { 0 }, sb = { 0 };
    struct p2p *a, *b;
    log_set_level(LOG_WARN);
    snprintf(root, sizeof(root), "/tmp/tc_bench_net_XXXXXX");
    if (mkdtemp(root) == NULL)
        return 1;
    chain_spec_defaults(&spec);
    spec.account_count = 0;
    if (chain_parse_hosts("127.0.0.1:2", &spec, err, sizeof(err)) != TC_OK)
        return 1;
    snprintf(spec.out_dir, sizeof(spec.out_dir), "%s/chain", root);
    snprintf(spec.bin_path, sizeof(spec.bin_path), "/usr/local/bin/teechaind");
    if (chain_build(&spec, err, sizeof(err)) != TC_OK) {
        fprintf(stderr, "chain_build: %s\n", err);
        return 1;
    }
    read_id(spec.out_dir, 0);
    read_id(spec.out_dir, 1);
    struct event_base *base = event_base_new();
    start(base, spec.out_dir, 0, &sa, &a);
    start(base, spec.out_dir, 1, &sb, &b);
    p2p_add_peer(a, "127.0.0.1", p2p_listen_port(b));
    uint64_t deadline = clock_monotonic_ms() + 10000;
    while (!p2p_is_connected(a, ids[1]) || !p2p_is_connected(b, ids[0])) {
        if (clock_monotonic_ms() > deadline) {
            fprintf(stderr, "nodes did not connect\n");
            return 1;
        }
        event_base_loop(base, EVLOOP_ONCE);
    }

    const size_t sizes[] = { 256, 64 * 1024 };
    uint8_t *payload = calloc(1, 64 * 1024);
    printf("command: %s %.1f\n", argv[0], seconds);
    printf("P2P one way, TLS 1.3 over loopback, both nodes on one loop\n");
    printf("%10s %12s %14s %10s\n", "frame", "frames", "frames/s", "MB/s");
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t len = sizes[k];
        uint64_t sent = 0;
        sb.frames = sb.bytes = 0;
        uint64_t t0 = clock_monotonic_ns();
        uint64_t stop = t0 + (uint64_t)(seconds * 1e9);
        while (clock_monotonic_ns() < stop) {
            while (p2p_queued_bytes(a, ids[1]) < PACE_BYTES) {
                if (p2p_send(a, ids[1], TYPE, payload, len) != TC_OK) {
                    fprintf(stderr, "send failed\n");
                    return 1;
                }
                sent++;
            }
            event_base_loop(base, EVLOOP_NONBLOCK);
        }
        while (sb.frames < sent)
            event_base_loop(base, EVLOOP_ONCE);
        double s = (double)(clock_monotonic_ns() - t0) / 1e9;
        printf("%9zuB %12llu %14.0f %10.1f\n", len, (unsigned long long)sent, (double)sent / s,
               (double)sb.bytes / s / 1e6);
    }
    free(payload);
    p2p_free(a);
    p2p_free(b);
    event_base_free(base);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : 1;
}
