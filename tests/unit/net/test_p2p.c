/*
 * test_p2p.c - the P2P layer over real sockets on 127.0.0.1 (ephemeral
 * ports), with the keys and certificates of a 3-node chain made by the chain
 * builder and a foreign 1-node chain (another CA): connection and frames
 * between two and three nodes, large frames, refusal of foreign, unlisted
 * and badly bound certificates, bad input from raw TCP and TLS peers (each
 * dropped and logged while the good peers are still served), reconnection,
 * heartbeat timeout, the output queue bound and duplicate connections.
 *
 * The loop runs on the test thread; every wait is bounded (WAIT_MS) and
 * fails the test when its condition is not reached. Randomness (frame
 * contents, jitter) comes from a seed printed at start, TC_SEED overrides.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"
#include "cli/chain_builder.h"
#include "crypto/ecdsa.h"
#include "net/frame.h"
#include "net/node_cert.h"
#include "net/p2p.h"

#define WAIT_MS   15000
#define CHAIN_N   3
#define TYPE_A    P2P_TYPE_RAFT
#define TYPE_B    P2P_TYPE_TX
#define TYPE_BIG  P2P_TYPE_SYNC
#define BIG_BYTES (8u << 20)

static char root[64];
static char log_path[128];
static uint8_t ids[CHAIN_N + 1][P2P_NODE_ID_BYTES]; /* [CHAIN_N] = the foreign node */
static struct event_base *base;
static struct rng rng;
static uint64_t seed;

/* One node under test and what it received. */
struct node {
    struct p2p *p;
    int idx; /* CHAIN_N = foreign */
    uint32_t frames[256];
    struct bytes last; /* last payload of TYPE_A/TYPE_B/TYPE_BIG */
    uint8_t last_from[P2P_NODE_ID_BYTES];
    int ups, downs;
};

static void node_dir(int idx, char *out, size_t len)
{
    if (idx == CHAIN_N)
        snprintf(out, len, "%s/foreign/127.0.0.1/node0/conf", root);
    else
        snprintf(out, len, "%s/chain/127.0.0.1/node%d/conf", root, idx);
}

static void build(const char *dir, const char *hosts)
{
    struct chain_spec spec;
    char err[512] = "";
    chain_spec_defaults(&spec);
    assert_int_equal(chain_parse_hosts(hosts, &spec, err, sizeof(err)), TC_OK);
    spec.account_count = 0;
    snprintf(spec.out_dir, sizeof(spec.out_dir), "%s", dir);
    snprintf(spec.bin_path, sizeof(spec.bin_path), "/usr/local/bin/teechaind");
    if (chain_build(&spec, err, sizeof(err)) != TC_OK)
        fail_msg("chain_build: %s", err);
}

static void read_node_id(int idx)
{
    char path[256], hex[160] = "";
    node_dir(idx, path, sizeof(path));
    strcat(path, "/node.nodeid");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(hex, sizeof(hex), f));
    fclose(f);
    size_t n = 0;
    assert_int_equal(hex_decode(hex, 128, ids[idx], 64, &n), TC_OK);
}

static EVP_PKEY *read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(k);
    return k;
}

static void write_cert(X509 *cert, const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(PEM_write_X509(f, cert));
    fclose(f);
}

/* A certificate of node 2's TLS key, signed by the chain CA and naming node
 * 2's ID, whose binding signature is by another secp256k1 key. */
static void make_bad_binding_cert(void)
{
    char path[256], err[256];
    uint8_t node_key[32], other_key[32], sig[NODE_CERT_BINDING_BYTES];
    X509 *ca = NULL, *cert = NULL;
    snprintf(path, sizeof(path), "%s/chain/ca/ca.key", root);
    EVP_PKEY *ca_key = read_key(path);
    snprintf(path, sizeof(path), "%s/chain/ca/ca.crt", root);
    assert_int_equal(node_cert_read_file(path, &ca, err, sizeof(err)), TC_OK);
    node_dir(2, path, sizeof(path));
    strcat(path, "/ssl.key");
    EVP_PKEY *tls_key = read_key(path);
    node_dir(2, path, sizeof(path));
    strcat(path, "/node.pem");
    assert_int_equal(node_key_read_file(path, node_key, err, sizeof(err)), TC_OK);
    assert_int_equal(ecdsa_keygen(other_key), TC_OK);
    assert_int_equal(
        node_cert_issue(ca_key, ca, "node2", node_key, tls_key, &cert, err, sizeof(err)), TC_OK);
    assert_int_equal(node_cert_binding_sign(other_key, tls_key, sig), TC_OK);
    assert_int_equal(node_cert_set_binding(cert, sig), TC_OK);
    assert_true(X509_sign(cert, ca_key, EVP_sha256()) > 0);
    snprintf(path, sizeof(path), "%s/badbind.crt", root);
    write_cert(cert, path);
    X509_free(cert);
    X509_free(ca);
    EVP_PKEY_free(tls_key);
    EVP_PKEY_free(ca_key);
}

static int setup_all(void **state)
{
    (void)state;
    const char *env = getenv("TC_SEED");
    seed = env != NULL ? strtoull(env, NULL, 0) : rng_fresh_seed();
    printf("test_p2p seed=%llu (TC_SEED to replay)\n", (unsigned long long)seed);
    rng_seed(&rng, seed);
    snprintf(root, sizeof(root), "/tmp/tc_p2p_XXXXXX");
    if (mkdtemp(root) == NULL)
        return -1;
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/chain", root);
    build(dir, "127.0.0.1:3");
    snprintf(dir, sizeof(dir), "%s/foreign", root);
    build(dir, "127.0.0.1:1");
    for (int i = 0; i <= CHAIN_N; i++)
        read_node_id(i);
    make_bad_binding_cert();
    snprintf(log_path, sizeof(log_path), "%s/p2p.log", root);
    if (getenv("TC_VERBOSE") == NULL)
        log_set_stderr(false);
    base = event_base_new();
    return base == NULL ? -1 : 0;
}

static int teardown_all(void **state)
{
    (void)state;
    char cmd[128];
    log_close_file();
    event_base_free(base);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

/* Each test starts with an empty log file. */
static int setup_log(void **state)
{
    (void)state;
    log_close_file();
    unlink(log_path);
    return log_open_file(log_path) == TC_OK ? 0 : -1;
}

static bool log_contains(const char *needle)
{
    static char buf[1 << 20];
    FILE *f = fopen(log_path, "r");
    if (f == NULL)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

static bool log_has(void *arg)
{
    return log_contains(arg);
}

/* A log line naming the peer's node ID prefix and the reason. */
static bool logged_drop(int idx, const char *reason)
{
    char hex[17], buf[1 << 16];
    hex_encode(ids[idx], 8, hex);
    snprintf(buf, sizeof(buf), "peer %s at 127.0.0.1:", hex);
    return log_contains(buf) && log_contains(reason);
}

static int on_frame(void *ctx, const uint8_t node_id[P2P_NODE_ID_BYTES], uint8_t type,
                    const uint8_t *payload, size_t len)
{
    struct node *n = ctx;
    if (len > 0 && payload[0] == 0xff && type == TYPE_B)
        return TC_EINVAL; /* the test's notion of a frame the upper layer rejects */
    n->frames[type]++;
    bytes_clear(&n->last);
    assert_int_equal(bytes_append(&n->last, payload, len), TC_OK);
    memcpy(n->last_from, node_id, P2P_NODE_ID_BYTES);
    return TC_OK;
}

static void on_peer(void *ctx, const uint8_t node_id[P2P_NODE_ID_BYTES], bool up)
{
    struct node *n = ctx;
    (void)node_id;
    if (up)
        n->ups++;
    else
        n->downs++;
}

struct start {
    int allowed[CHAIN_N + 1];
    int allowed_count;
    uint16_t port;
    uint64_t max_queue_bytes;
};

static void start_node(struct node *n, int idx, const struct start *s)
{
    struct p2p_options o;
    char dir[256], ca[300], crt[300], key[300], err[512] = "";
    uint8_t allowed[CHAIN_N + 1][P2P_NODE_ID_BYTES];
    node_dir(idx, dir, sizeof(dir));
    snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
    snprintf(crt, sizeof(crt), "%s/ssl.crt", dir);
    snprintf(key, sizeof(key), "%s/ssl.key", dir);
    p2p_options_defaults(&o);
    memcpy(o.node_id, ids[idx], P2P_NODE_ID_BYTES);
    snprintf(o.listen_host, sizeof(o.listen_host), "127.0.0.1");
    o.listen_port = s != NULL ? s->port : 0;
    int count = 0;
    if (s != NULL && s->allowed_count > 0) {
        for (int i = 0; i < s->allowed_count; i++)
            memcpy(allowed[count++], ids[s->allowed[i]], P2P_NODE_ID_BYTES);
    } else {
        for (int i = 0; i < CHAIN_N; i++)
            memcpy(allowed[count++], ids[i], P2P_NODE_ID_BYTES);
    }
    o.allowed = (const uint8_t(*)[P2P_NODE_ID_BYTES])allowed;
    o.allowed_count = (size_t)count;
    o.ca_cert_path = ca;
    o.cert_path = crt;
    o.key_path = key;
    o.max_frame_bytes = 16u << 20;
    o.max_queue_bytes = s != NULL ? s->max_queue_bytes : 0;
    o.heartbeat_interval_ms = 50;
    o.dead_peer_timeout_ms = 500;
    o.handshake_timeout_ms = 1000;
    o.reconnect_min_ms = 20;
    o.reconnect_max_ms = 200;
    o.rng_seed = seed + (uint64_t)idx;
    o.on_peer = on_peer;
    o.on_peer_ctx = n;
    memset(n->frames, 0, sizeof(n->frames));
    bytes_init(&n->last);
    n->ups = n->downs = 0;
    n->idx = idx;
    if (p2p_new(base, &o, &n->p, err, sizeof(err)) != TC_OK)
        fail_msg("p2p_new(node %d): %s", idx, err);
    assert_int_equal(p2p_register(n->p, TYPE_A, 4096, on_frame, n), TC_OK);
    assert_int_equal(p2p_register(n->p, TYPE_B, 65536, on_frame, n), TC_OK);
    assert_int_equal(p2p_register(n->p, TYPE_BIG, 16u << 20, on_frame, n), TC_OK);
}

static void stop_node(struct node *n)
{
    p2p_free(n->p);
    n->p = NULL;
    bytes_free(&n->last);
}

static void dial(struct node *from, const struct node *to)
{
    assert_int_equal(p2p_add_peer(from->p, "127.0.0.1", p2p_listen_port(to->p)), TC_OK);
}

typedef bool (*cond_fn)(void *arg);

/* Runs the loop until cond holds; fails the test after WAIT_MS. */
static void wait_for(cond_fn cond, void *arg, const char *what)
{
    uint64_t deadline = clock_monotonic_ms() + WAIT_MS;
    while (!cond(arg)) {
        if (clock_monotonic_ms() > deadline)
            fail_msg("timed out waiting for %s (seed %llu)", what, (unsigned long long)seed);
        event_base_loop(base, EVLOOP_ONCE);
    }
}

/* Runs the loop for about ms milliseconds. */
static void run_for(uint64_t ms)
{
    uint64_t end = clock_monotonic_ms() + ms;
    while (clock_monotonic_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
}

struct pair {
    struct node *a, *b;
};

static bool pair_connected(void *arg)
{
    struct pair *pr = arg;
    return p2p_is_connected(pr->a->p, ids[pr->b->idx]) &&
           p2p_is_connected(pr->b->p, ids[pr->a->idx]);
}

static void connect_pair(struct node *a, struct node *b)
{
    struct pair pr = { a, b };
    wait_for(pair_connected, &pr, "two nodes to connect");
}

struct count_wait {
    struct node *n;
    uint8_t type;
    uint32_t count;
};

static bool got_frames(void *arg)
{
    struct count_wait *w = arg;
    return w->n->frames[w->type] >= w->count;
}

static void wait_frames(struct node *n, uint8_t type, uint32_t count)
{
    struct count_wait w = { n, type, count };
    wait_for(got_frames, &w, "frames");
}

/* Sends a random payload of len bytes from a to b and checks it arrives. */
static void exchange(struct node *a, struct node *b, uint8_t type, size_t len)
{
    uint8_t *buf = malloc(len > 0 ? len : 1);
    assert_non_null(buf);
    rng_fill(&rng, buf, len);
    if (type == TYPE_B && len > 0)
        buf[0] &= 0x7f; /* never the rejected marker */
    uint32_t before = b->frames[type];
    assert_int_equal(p2p_send(a->p, ids[b->idx], type, buf, len), TC_OK);
    wait_frames(b, type, before + 1);
    assert_int_equal(b->last.len, len);
    if (len > 0)
        assert_memory_equal(b->last.ptr, buf, len);
    assert_memory_equal(b->last_from, ids[a->idx], P2P_NODE_ID_BYTES);
    free(buf);
}

/* ---- a misbehaving peer: raw TCP or TLS with a given certificate ---- */

struct rogue {
    struct bufferevent *bev;
    SSL_CTX *ctx;
    uint8_t data[256];
    size_t data_len;
    bool read;
    bool connected, closed;
};

static void rogue_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    evbuffer_drain(in, evbuffer_get_length(in));
}

static void rogue_event(struct bufferevent *bev, short what, void *arg)
{
    struct rogue *r = arg;
    if (what & BEV_EVENT_CONNECTED) {
        r->connected = true;
        if (r->data_len > 0)
            bufferevent_write(bev, r->data, r->data_len);
        if (!r->read)
            bufferevent_disable(bev, EV_READ);
    } else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        r->closed = true;
    }
}

/* Connects to port; with cert_path, over TLS 1.3 with that certificate
 * (and the server's certificate not checked). Sends data once connected. */
static void rogue_start(struct rogue *r, uint16_t port, const char *cert_path, const char *key_path,
                        const void *data, size_t len, bool read)
{
    struct sockaddr_in sa;
    assert_true(len <= sizeof(r->data));
    memcpy(r->data, data, len);
    r->data_len = len;
    r->connected = r->closed = false;
    r->read = read;
    r->ctx = NULL;
    if (cert_path != NULL) {
        r->ctx = SSL_CTX_new(TLS_client_method());
        assert_non_null(r->ctx);
        SSL_CTX_set_min_proto_version(r->ctx, TLS1_3_VERSION);
        assert_int_equal(SSL_CTX_use_certificate_file(r->ctx, cert_path, SSL_FILETYPE_PEM), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(r->ctx, key_path, SSL_FILETYPE_PEM), 1);
        SSL *ssl = SSL_new(r->ctx);
        r->bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                BEV_OPT_CLOSE_ON_FREE);
        bufferevent_openssl_set_allow_dirty_shutdown(r->bev, 1);
    } else {
        r->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    assert_non_null(r->bev);
    bufferevent_setcb(r->bev, rogue_read, NULL, rogue_event, r);
    bufferevent_enable(r->bev, EV_READ | EV_WRITE);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    assert_int_equal(bufferevent_socket_connect(r->bev, (struct sockaddr *)&sa, sizeof(sa)), 0);
}

static void rogue_free(struct rogue *r)
{
    bufferevent_free(r->bev);
    SSL_CTX_free(r->ctx);
}

static bool rogue_closed(void *arg)
{
    return ((struct rogue *)arg)->closed;
}

static void node_paths(int idx, char *crt, char *key, size_t len)
{
    char dir[256];
    node_dir(idx, dir, sizeof(dir));
    snprintf(crt, len, "%s/ssl.crt", dir);
    snprintf(key, len, "%s/ssl.key", dir);
}

/* ---- tests ---- */

static void test_frame_header_round_trip_and_bad_magic(void **state)
{
    (void)state;
    uint8_t raw[P2P_FRAME_HEADER_BYTES];
    struct p2p_frame_header h;
    p2p_frame_header_encode(raw, 200, 0xa1b2c3d4u);
    assert_int_equal(p2p_frame_header_decode(raw, &h), TC_OK);
    assert_int_equal(h.type, 200);
    assert_int_equal(h.length, 0xa1b2c3d4u);
    raw[0] ^= 1;
    assert_int_equal(p2p_frame_header_decode(raw, &h), TC_EINVAL);
    raw[0] ^= 1;
    raw[2] = P2P_FRAME_VERSION + 1;
    assert_int_equal(p2p_frame_header_decode(raw, &h), TC_EINVAL);
}

static void test_two_nodes_exchange_frames_of_several_types_both_ways(void **state)
{
    (void)state;
    struct node a, b;
    start_node(&a, 0, NULL);
    start_node(&b, 1, NULL);
    assert_int_equal(p2p_send(a.p, ids[1], TYPE_A, "x", 1), TC_EAGAIN);
    assert_int_equal(p2p_send(a.p, ids[CHAIN_N], TYPE_A, "x", 1), TC_EPERM);
    dial(&a, &b);
    connect_pair(&a, &b);
    for (int i = 0; i < 5; i++) {
        exchange(&a, &b, TYPE_A, 1 + rng_below(&rng, 4096));
        exchange(&b, &a, TYPE_A, rng_below(&rng, 4097));
        exchange(&a, &b, TYPE_B, 1 + rng_below(&rng, 65536));
        exchange(&b, &a, TYPE_B, 1 + rng_below(&rng, 65536));
    }
    /* Type bounds are enforced on the sending side too. */
    static const uint8_t too_long[4097];
    assert_int_equal(p2p_send(a.p, ids[1], TYPE_A, too_long, sizeof(too_long)), TC_EINVAL);
    assert_int_equal(p2p_send(a.p, ids[1], 99, "x", 1), TC_EINVAL);
    struct p2p_peer_info info[4];
    assert_int_equal(p2p_peers(a.p, info, 4), 1);
    assert_memory_equal(info[0].node_id, ids[1], P2P_NODE_ID_BYTES);
    assert_true(info[0].outbound);
    assert_true(info[0].bytes_out >= 10 * (P2P_FRAME_HEADER_BYTES + 1));
    assert_true(info[0].bytes_in >= 10 * P2P_FRAME_HEADER_BYTES);
    assert_non_null(strstr(info[0].address, "127.0.0.1:"));
    assert_int_equal(p2p_peers(b.p, info, 4), 1);
    assert_false(info[0].outbound);
    assert_int_equal(a.ups, 1);
    assert_int_equal(b.ups, 1);
    stop_node(&a);
    stop_node(&b);
}

static bool all_three_connected(void *arg)
{
    struct node *n = arg;
    return p2p_peer_count(n[0].p) == 2 && p2p_peer_count(n[1].p) == 2 &&
           p2p_peer_count(n[2].p) == 2;
}

static void test_three_nodes_connect_and_broadcast(void **state)
{
    (void)state;
    struct node n[3];
    for (int i = 0; i < 3; i++)
        start_node(&n[i], i, NULL);
    dial(&n[0], &n[1]);
    dial(&n[0], &n[2]);
    dial(&n[1], &n[2]);
    wait_for(all_three_connected, n, "three nodes to connect");
    for (int i = 0; i < 3; i++) {
        uint8_t msg[32];
        rng_fill(&rng, msg, sizeof(msg));
        assert_int_equal(p2p_broadcast(n[i].p, TYPE_A, msg, sizeof(msg)), 2);
        for (int j = 0; j < 3; j++)
            if (j != i)
                wait_frames(&n[j], TYPE_A, (uint32_t)(i < j ? i + 1 : i));
    }
    exchange(&n[2], &n[0], TYPE_B, 1000);
    exchange(&n[1], &n[0], TYPE_B, 1000);
    for (int i = 0; i < 3; i++)
        stop_node(&n[i]);
}

static void test_large_frames_arrive_intact(void **state)
{
    (void)state;
    struct node a, b;
    start_node(&a, 0, NULL);
    start_node(&b, 1, NULL);
    dial(&b, &a);
    connect_pair(&a, &b);
    exchange(&a, &b, TYPE_BIG, BIG_BYTES);
    exchange(&b, &a, TYPE_BIG, BIG_BYTES);
    exchange(&a, &b, TYPE_BIG, BIG_BYTES + 12345);
    stop_node(&a);
    stop_node(&b);
}

static void test_peer_with_foreign_ca_certificate_is_refused_at_handshake(void **state)
{
    (void)state;
    struct node a;
    struct rogue r;
    char crt[300], key[300];
    struct start s = { .allowed = { 0, 1, 2, CHAIN_N }, .allowed_count = 4 };
    start_node(&a, 0, &s); /* even an allowed node ID must come with a chain certificate */
    node_paths(CHAIN_N, crt, key, sizeof(crt));
    rogue_start(&r, p2p_listen_port(a.p), crt, key, "", 0, true);
    wait_for(rogue_closed, &r, "the foreign peer to be dropped");
    wait_for(log_has, "certificate verify failed", "the refusal in the log");
    assert_true(log_contains("handshake failed"));
    assert_int_equal(p2p_peer_count(a.p), 0);
    assert_int_equal(a.ups, 0);
    rogue_free(&r);
    stop_node(&a);
}

static bool refused_unlisted(void *arg)
{
    (void)arg;
    return logged_drop(2, "node ID not in the chain's node list");
}

static void test_chain_certificate_with_unlisted_node_id_is_refused(void **state)
{
    (void)state;
    struct node a, c;
    struct start s = { .allowed = { 0, 1 }, .allowed_count = 2 };
    start_node(&a, 0, &s);
    start_node(&c, 2, NULL);
    dial(&c, &a);
    wait_for(refused_unlisted, NULL, "node 2 to be refused");
    assert_false(p2p_is_connected(a.p, ids[2]));
    assert_int_equal(a.ups, 0);
    /* A membership change admits it. */
    uint8_t all[3][P2P_NODE_ID_BYTES];
    memcpy(all, ids, sizeof(all));
    assert_int_equal(p2p_set_allowed(a.p, (const uint8_t(*)[P2P_NODE_ID_BYTES])all, 3), TC_OK);
    connect_pair(&a, &c);
    exchange(&c, &a, TYPE_A, 100);
    /* And removing it again drops it. */
    assert_int_equal(p2p_set_allowed(a.p, (const uint8_t(*)[P2P_NODE_ID_BYTES])all, 2), TC_OK);
    assert_false(p2p_is_connected(a.p, ids[2]));
    assert_int_equal(a.downs, 1);
    stop_node(&a);
    stop_node(&c);
}

static bool refused_binding(void *arg)
{
    (void)arg;
    return log_contains("certificate refused: binding signature does not match the node ID");
}

static void test_certificate_with_binding_by_another_key_is_refused(void **state)
{
    (void)state;
    struct node a;
    struct rogue r;
    char crt[300], key[300];
    start_node(&a, 0, NULL);
    node_paths(2, crt, key, sizeof(crt));
    snprintf(crt, sizeof(crt), "%s/badbind.crt", root);
    rogue_start(&r, p2p_listen_port(a.p), crt, key, "", 0, true);
    wait_for(rogue_closed, &r, "the badly bound peer to be dropped");
    wait_for(refused_binding, NULL, "the refusal in the log");
    assert_int_equal(a.ups, 0);
    rogue_free(&r);
    stop_node(&a);
}

/*
 * Starts nodes 0 and 1 connected, lets a rogue peer send `data` (over TLS
 * as node 2 when tls), waits until node 0 dropped it with `reason` in the
 * log, and checks that node 0 still exchanges frames with node 1.
 */
static void expect_rogue_dropped(bool tls, const void *data, size_t len, bool read,
                                 const char *reason)
{
    struct node a, b;
    struct rogue r;
    char crt[300], key[300];
    start_node(&a, 0, NULL);
    start_node(&b, 1, NULL);
    dial(&a, &b);
    connect_pair(&a, &b);
    node_paths(2, crt, key, sizeof(crt));
    rogue_start(&r, p2p_listen_port(a.p), tls ? crt : NULL, key, data, len, read);
    if (read) /* a peer that does not read cannot see the close */
        wait_for(rogue_closed, &r, reason);
    wait_for(log_has, (void *)reason, reason);
    if (tls)
        assert_true(logged_drop(2, reason));
    assert_false(p2p_is_connected(a.p, ids[2]));
    exchange(&b, &a, TYPE_A, 777);
    exchange(&a, &b, TYPE_B, 7777);
    assert_int_equal(a.downs, tls ? 1 : 0); /* node 2 came up, then went down */
    assert_true(p2p_is_connected(a.p, ids[1]));
    rogue_free(&r);
    stop_node(&a);
    stop_node(&b);
}

static void test_raw_tcp_peer_sending_random_bytes_is_dropped(void **state)
{
    (void)state;
    uint8_t junk[256];
    rng_fill(&rng, junk, sizeof(junk));
    /* Not a TLS record: a wrong record type and a version byte other than
     * 3, so the handshake fails at once. (Random bytes that happen to form
     * a plausible record header announce a length and make OpenSSL wait for
     * it: such a peer is dropped by the handshake timeout instead, as
     * test_raw_tcp_peer_that_never_completes_the_handshake_is_dropped shows;
     * seed 13203712359092022642 drew one.) */
    junk[0] = 0x17;
    junk[1] = 0x00;
    expect_rogue_dropped(false, junk, sizeof(junk), true, "handshake failed");
}

static void test_raw_tcp_peer_that_never_completes_the_handshake_is_dropped(void **state)
{
    (void)state;
    expect_rogue_dropped(false, "", 0, true, "handshake timeout");
}

static void test_random_bytes_inside_tls_are_dropped(void **state)
{
    (void)state;
    uint8_t junk[64];
    rng_fill(&rng, junk, sizeof(junk));
    junk[0] = 0x00; /* not the magic */
    expect_rogue_dropped(true, junk, sizeof(junk), true, "malformed frame header");
}

static void test_truncated_frame_then_silence_is_dropped(void **state)
{
    (void)state;
    uint8_t frame[P2P_FRAME_HEADER_BYTES + 10];
    p2p_frame_header_encode(frame, TYPE_A, 100);
    memset(frame + P2P_FRAME_HEADER_BYTES, 0x42, 10);
    expect_rogue_dropped(true, frame, sizeof(frame), false, "silent for");
}

static void test_oversized_length_is_dropped_before_buffering(void **state)
{
    (void)state;
    uint8_t frame[P2P_FRAME_HEADER_BYTES];
    p2p_frame_header_encode(frame, TYPE_A, 0xfffffff0u);
    expect_rogue_dropped(true, frame, sizeof(frame), true, "oversized frame type 16");
}

static void test_unknown_frame_type_is_dropped(void **state)
{
    (void)state;
    uint8_t frame[P2P_FRAME_HEADER_BYTES + 4];
    p2p_frame_header_encode(frame, 99, 4);
    memset(frame + P2P_FRAME_HEADER_BYTES, 0, 4);
    expect_rogue_dropped(true, frame, sizeof(frame), true, "unexpected frame type 99");
}

static void test_frame_rejected_by_its_handler_drops_the_peer(void **state)
{
    (void)state;
    uint8_t frame[P2P_FRAME_HEADER_BYTES + 3] = { 0 };
    p2p_frame_header_encode(frame, TYPE_B, 3);
    frame[P2P_FRAME_HEADER_BYTES] = 0xff;
    expect_rogue_dropped(true, frame, sizeof(frame), true, "frame type 18 rejected");
}

static void test_silent_connected_peer_is_dropped_by_heartbeat_timeout(void **state)
{
    (void)state;
    expect_rogue_dropped(true, "", 0, false, "silent for");
}

static bool connected_ab(void *arg)
{
    struct pair *pr = arg;
    return pr->b->p != NULL && pair_connected(arg);
}

static bool a_lost_b(void *arg)
{
    struct pair *pr = arg;
    return pr->a->downs >= 1;
}

static void test_reconnects_after_peer_restart(void **state)
{
    (void)state;
    struct node a, b;
    struct pair pr = { &a, &b };
    start_node(&a, 0, NULL);
    start_node(&b, 1, NULL);
    uint16_t port = p2p_listen_port(b.p);
    dial(&a, &b);
    connect_pair(&a, &b);
    exchange(&a, &b, TYPE_A, 10);
    stop_node(&b);
    wait_for(a_lost_b, &pr, "node 0 to notice node 1 is gone");
    assert_false(p2p_is_connected(a.p, ids[1]));
    assert_int_equal(p2p_send(a.p, ids[1], TYPE_A, "x", 1), TC_EAGAIN);
    run_for(300); /* several refused redials, backing off */
    struct start s = { .port = port };
    start_node(&b, 1, &s);
    wait_for(connected_ab, &pr, "node 0 to redial node 1");
    exchange(&a, &b, TYPE_A, 10);
    exchange(&b, &a, TYPE_A, 10);
    assert_int_equal(a.ups, 2);
    stop_node(&a);
    stop_node(&b);
}

static bool queue_dropped(void *arg)
{
    (void)arg;
    return log_contains("output queue full");
}

static void test_output_queue_bound_drops_a_peer_that_does_not_read(void **state)
{
    (void)state;
    struct node a;
    struct rogue r;
    char crt[300], key[300];
    struct start s = { .max_queue_bytes = (16u << 20) + 1024 };
    start_node(&a, 0, &s);
    node_paths(2, crt, key, sizeof(crt));
    rogue_start(&r, p2p_listen_port(a.p), crt, key, "", 0, false);
    uint64_t deadline = clock_monotonic_ms() + WAIT_MS;
    while (!p2p_is_connected(a.p, ids[2])) {
        assert_true(clock_monotonic_ms() < deadline);
        event_base_loop(base, EVLOOP_ONCE);
    }
    size_t len = 1u << 20;
    uint8_t *buf = calloc(1, len);
    assert_non_null(buf);
    int rc = TC_OK;
    for (int i = 0; i < 64 && rc == TC_OK; i++) {
        rc = p2p_send(a.p, ids[2], TYPE_B, buf, 65536);
        if (rc == TC_OK)
            rc = p2p_send(a.p, ids[2], TYPE_BIG, buf, len);
        event_base_loop(base, EVLOOP_NONBLOCK);
    }
    assert_int_equal(rc, TC_EFULL);
    assert_false(p2p_is_connected(a.p, ids[2]));
    wait_for(queue_dropped, NULL, "the drop in the log");
    assert_true(logged_drop(2, "output queue full"));
    assert_int_equal(a.downs, 1);
    free(buf);
    rogue_free(&r);
    stop_node(&a);
}

/* On each side, the one connection left is the one the lower node ID dialled. */
static bool duplicate_resolved(void *arg)
{
    struct pair *pr = arg;
    struct p2p_peer_info ia, ib;
    if (p2p_peers(pr->a->p, &ia, 1) != 1 || p2p_peers(pr->b->p, &ib, 1) != 1)
        return false;
    bool a_lower = memcmp(ids[pr->a->idx], ids[pr->b->idx], P2P_NODE_ID_BYTES) < 0;
    return ia.outbound == a_lower && ib.outbound == !a_lower;
}

static void test_duplicate_connections_keep_the_one_dialled_by_the_lower_id(void **state)
{
    (void)state;
    struct node a, b;
    struct pair pr = { &a, &b };
    start_node(&a, 0, NULL);
    start_node(&b, 1, NULL);
    dial(&a, &b);
    dial(&b, &a);
    wait_for(duplicate_resolved, &pr, "the duplicate to be resolved");
    run_for(300); /* redial attempts must not disturb it */
    assert_true(duplicate_resolved(&pr));
    assert_true(log_contains("duplicate connection"));
    exchange(&a, &b, TYPE_A, 100);
    exchange(&b, &a, TYPE_A, 100);
    stop_node(&a);
    stop_node(&b);
}

static void test_refuses_a_certificate_not_bound_to_its_own_node_id(void **state)
{
    (void)state;
    struct p2p_options o;
    struct p2p *p = NULL;
    char dir[256], ca[300], crt[300], key[300], err[512] = "";
    node_dir(0, dir, sizeof(dir));
    snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
    snprintf(crt, sizeof(crt), "%s/ssl.crt", dir);
    snprintf(key, sizeof(key), "%s/ssl.key", dir);
    p2p_options_defaults(&o);
    memcpy(o.node_id, ids[1], P2P_NODE_ID_BYTES);
    o.ca_cert_path = ca;
    o.cert_path = crt;
    o.key_path = key;
    assert_int_equal(p2p_new(base, &o, &p, err, sizeof(err)), TC_EINVAL);
    assert_non_null(strstr(err, "another node ID"));
    assert_null(p);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup_log)
    const struct CMUnitTest tests[] = {
        T(test_frame_header_round_trip_and_bad_magic),
        T(test_two_nodes_exchange_frames_of_several_types_both_ways),
        T(test_three_nodes_connect_and_broadcast),
        T(test_large_frames_arrive_intact),
        T(test_peer_with_foreign_ca_certificate_is_refused_at_handshake),
        T(test_chain_certificate_with_unlisted_node_id_is_refused),
        T(test_certificate_with_binding_by_another_key_is_refused),
        T(test_raw_tcp_peer_sending_random_bytes_is_dropped),
        T(test_raw_tcp_peer_that_never_completes_the_handshake_is_dropped),
        T(test_random_bytes_inside_tls_are_dropped),
        T(test_truncated_frame_then_silence_is_dropped),
        T(test_oversized_length_is_dropped_before_buffering),
        T(test_unknown_frame_type_is_dropped),
        T(test_frame_rejected_by_its_handler_drops_the_peer),
        T(test_silent_connected_peer_is_dropped_by_heartbeat_timeout),
        T(test_reconnects_after_peer_restart),
        T(test_output_queue_bound_drops_a_peer_that_does_not_read),
        T(test_duplicate_connections_keep_the_one_dialled_by_the_lower_id),
        T(test_refuses_a_certificate_not_bound_to_its_own_node_id),
    };
#undef T
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
