/* p2p.c - TLS 1.3 connections, framing, heartbeats and the peer table (see p2p.h). */
#include "net/p2p.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"
#include "net/frame.h"
#include "net/node_cert.h"

#define MOD "p2p"
/* Node IDs in log lines: the first 8 bytes in hex, as FISCO BCOS abbreviates. */
#define ID_HEX_BYTES 8
#define PING_BYTES   8
/* Tick period bounds: timeouts are checked at this granularity. */
#define TICK_MIN_MS         5
#define TICK_MAX_MS         250
#define MAX_SINGLE_IO_BYTES (256u * 1024u)

struct handler {
    p2p_frame_fn fn;
    void *ctx;
    uint32_t max_payload_bytes;
};

struct dial {
    struct p2p_endpoint ep;
    struct sockaddr_storage sa;
    socklen_t sa_len;
    struct conn *conn; /* the connection this slot opened, while it lives */
    bool id_known;     /* node_id is the node last reached at this address */
    uint8_t node_id[P2P_NODE_ID_BYTES];
    uint32_t failures; /* consecutive; drives the backoff */
    uint64_t next_attempt_ms;
};

struct conn {
    struct p2p *p2p;
    struct bufferevent *bev;
    struct dial *dial; /* outbound only */
    struct conn *prev, *next;
    bool outbound;
    bool active;      /* authenticated and in the peer table */
    bool dispatching; /* inside the read callback: free after it */
    bool closing;
    uint8_t node_id[P2P_NODE_ID_BYTES];
    char id_hex[2 * ID_HEX_BYTES + 1]; /* "-" before authentication */
    char addr[P2P_ADDR_MAX];
    uint64_t opened_ms, last_seen_ms, last_ping_ms; /* monotonic */
    uint64_t connected_wall_ms;
    uint64_t bytes_in, bytes_out;
    uint32_t rtt_ms;
};

struct p2p {
    struct event_base *base;
    struct p2p_options o; /* pointers inside are not used after p2p_new */
    SSL_CTX *ssl;
    struct evconnlistener *listener;
    uint16_t listen_port;
    struct event *tick;
    struct rng rng;
    struct handler handlers[256];
    uint8_t (*allowed)[P2P_NODE_ID_BYTES];
    size_t allowed_count;
    struct dial *dials;
    size_t dial_count;
    struct conn *conns;
    size_t conn_count;
};

static void id_to_hex(const uint8_t id[P2P_NODE_ID_BYTES], char out[2 * ID_HEX_BYTES + 1])
{
    hex_encode(id, ID_HEX_BYTES, out);
}

void p2p_options_defaults(struct p2p_options *o)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->listen_host, sizeof(o->listen_host), "0.0.0.0");
    o->max_frame_bytes = 64u << 20;
    o->max_queue_bytes = 0; /* 2 * max_frame_bytes, resolved in p2p_new */
    o->max_connections = 128;
    o->heartbeat_interval_ms = 1000;
    o->dead_peer_timeout_ms = 5000;
    o->handshake_timeout_ms = 5000;
    o->reconnect_min_ms = 200;
    o->reconnect_max_ms = 30000;
}

static bool is_allowed(const struct p2p *p, const uint8_t id[P2P_NODE_ID_BYTES])
{
    for (size_t i = 0; i < p->allowed_count; i++)
        if (memcmp(p->allowed[i], id, P2P_NODE_ID_BYTES) == 0)
            return true;
    return false;
}

static struct conn *find_active(const struct p2p *p, const uint8_t id[P2P_NODE_ID_BYTES])
{
    for (struct conn *c = p->conns; c != NULL; c = c->next)
        if (c->active && memcmp(c->node_id, id, P2P_NODE_ID_BYTES) == 0)
            return c;
    return NULL;
}

static void format_addr(const struct sockaddr *sa, char out[P2P_ADDR_MAX])
{
    char host[INET6_ADDRSTRLEN] = "?";
    uint16_t port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
        snprintf(out, P2P_ADDR_MAX, "%s:%u", host, (unsigned)port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
        snprintf(out, P2P_ADDR_MAX, "[%s]:%u", host, (unsigned)port);
    } else {
        snprintf(out, P2P_ADDR_MAX, "?");
    }
}

/* Backoff delay for the n-th consecutive failure: min * 2^n capped at max,
 * then uniform in [d/2, d] so that nodes restarted together spread out. */
static uint64_t backoff_ms(struct p2p *p, uint32_t failures)
{
    uint64_t d = p->o.reconnect_min_ms;
    for (uint32_t i = 0; i < failures && d < p->o.reconnect_max_ms; i++)
        d *= 2;
    if (d > p->o.reconnect_max_ms)
        d = p->o.reconnect_max_ms;
    return d / 2 + rng_below(&p->rng, d / 2 + 1);
}

static void unlink_conn(struct p2p *p, struct conn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        p->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    p->conn_count--;
}

static void free_conn(struct conn *c)
{
    unlink_conn(c->p2p, c);
    if (c->bev != NULL)
        bufferevent_free(c->bev); /* closes the socket and frees the SSL */
    free(c);
}

/*
 * Ends a connection: logs why (node ID prefix and address), leaves the peer
 * table (on_peer down when it was there), and schedules the redial of its
 * dial slot. Inside the read callback the memory is released after it.
 * `quiet` closes without the down callback (duplicate replaced, shutdown).
 */
static void close_conn(struct conn *c, enum log_level level, bool quiet, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void close_conn(struct conn *c, enum log_level level, bool quiet, const char *fmt, ...)
{
    struct p2p *p = c->p2p;
    char reason[256];
    va_list ap;
    if (c->closing)
        return;
    c->closing = true;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    log_write(level, MOD, "peer %s at %s %s: disconnected: %s", c->id_hex, c->addr,
              c->outbound ? "(out)" : "(in)", reason);
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    bool was_active = c->active;
    c->active = false;
    if (c->dial != NULL) {
        c->dial->conn = NULL;
        c->dial->next_attempt_ms = clock_monotonic_ms() + backoff_ms(p, c->dial->failures);
        if (c->dial->failures < 64)
            c->dial->failures++;
        c->dial = NULL;
    }
    if (was_active && !quiet && p->o.on_peer != NULL)
        p->o.on_peer(p->o.on_peer_ctx, c->node_id, false);
    if (!c->dispatching)
        free_conn(c);
}

/* Appends one frame to the connection's output. */
static int queue_frame(struct conn *c, uint8_t type, const void *payload, size_t len)
{
    struct p2p *p = c->p2p;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t queued = evbuffer_get_length(out);
    uint64_t frame = (uint64_t)P2P_FRAME_HEADER_BYTES + len;
    if ((uint64_t)queued + frame > p->o.max_queue_bytes) {
        close_conn(c, LOG_WARN, false, "output queue full (%zu bytes queued, frame of %llu)",
                   queued, (unsigned long long)frame);
        return TC_EFULL;
    }
    uint8_t hdr[P2P_FRAME_HEADER_BYTES];
    p2p_frame_header_encode(hdr, type, (uint32_t)len);
    if (evbuffer_add(out, hdr, sizeof(hdr)) != 0 ||
        (len > 0 && evbuffer_add(out, payload, len) != 0)) {
        close_conn(c, LOG_ERROR, false, "cannot queue a frame (out of memory)");
        return TC_ENOMEM;
    }
    c->bytes_out += frame;
    return TC_OK;
}

static void send_ping(struct conn *c, uint64_t now_ms)
{
    uint8_t ping[PING_BYTES];
    for (int i = 0; i < PING_BYTES; i++)
        ping[i] = (uint8_t)(now_ms >> (56 - 8 * i));
    c->last_ping_ms = now_ms;
    queue_frame(c, P2P_TYPE_PING, ping, sizeof(ping));
}

/* PING and PONG: the P2P layer's own frames. */
static int handle_internal(struct conn *c, uint8_t type, const uint8_t *payload, size_t len)
{
    if (len != PING_BYTES)
        return TC_EINVAL;
    if (type == P2P_TYPE_PING) {
        /* A full queue has already dropped the connection. */
        (void)queue_frame(c, P2P_TYPE_PONG, payload, len);
        return TC_OK;
    }
    uint64_t sent = 0;
    for (int i = 0; i < PING_BYTES; i++)
        sent = (sent << 8) | payload[i];
    uint64_t now = clock_monotonic_ms();
    if (sent > now)
        return TC_EINVAL; /* not an echo of one of our pings */
    c->rtt_ms = (uint32_t)(now - sent > UINT32_MAX ? UINT32_MAX : now - sent);
    return TC_OK;
}

/* Largest payload accepted for `type`, or -1 for a type nobody handles. */
static int64_t type_bound(const struct p2p *p, uint8_t type)
{
    if (type == P2P_TYPE_PING || type == P2P_TYPE_PONG)
        return PING_BYTES;
    if (type >= P2P_TYPE_FIRST_USER && p->handlers[type].fn != NULL)
        return p->handlers[type].max_payload_bytes;
    return -1;
}

/* Parses and dispatches every complete frame in the input buffer. */
static void on_read(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct p2p *p = c->p2p;
    struct evbuffer *in = bufferevent_get_input(bev);
    c->last_seen_ms = clock_monotonic_ms();
    if (!c->active) {
        close_conn(c, LOG_WARN, false, "data before authentication");
        return;
    }
    c->dispatching = true;
    while (!c->closing) {
        uint8_t raw[P2P_FRAME_HEADER_BYTES];
        struct p2p_frame_header h;
        size_t avail = evbuffer_get_length(in);
        if (avail < P2P_FRAME_HEADER_BYTES)
            break;
        evbuffer_copyout(in, raw, sizeof(raw));
        if (p2p_frame_header_decode(raw, &h) != TC_OK) {
            close_conn(c, LOG_WARN, false, "malformed frame header");
            break;
        }
        int64_t bound = type_bound(p, h.type);
        if (bound < 0) {
            close_conn(c, LOG_WARN, false, "unexpected frame type %u", (unsigned)h.type);
            break;
        }
        if (h.length > (uint64_t)bound) {
            close_conn(c, LOG_WARN, false, "oversized frame type %u: %lu bytes > %lld",
                       (unsigned)h.type, (unsigned long)h.length, (long long)bound);
            break;
        }
        if (avail - P2P_FRAME_HEADER_BYTES < h.length)
            break; /* the rest of the payload has not arrived yet */
        evbuffer_drain(in, P2P_FRAME_HEADER_BYTES);
        const uint8_t *payload = h.length > 0 ? evbuffer_pullup(in, h.length) : NULL;
        if (h.length > 0 && payload == NULL) {
            close_conn(c, LOG_ERROR, false, "cannot buffer a frame of %lu bytes",
                       (unsigned long)h.length);
            break;
        }
        c->bytes_in += P2P_FRAME_HEADER_BYTES + (uint64_t)h.length;
        int rc;
        if (h.type < P2P_TYPE_FIRST_USER)
            rc = handle_internal(c, h.type, payload, h.length);
        else
            rc = p->handlers[h.type].fn(p->handlers[h.type].ctx, c->node_id, h.type, payload,
                                        h.length);
        evbuffer_drain(in, h.length);
        if (rc != TC_OK)
            close_conn(c, LOG_WARN, false, "frame type %u rejected: %s", (unsigned)h.type,
                       tc_strerror(rc));
    }
    c->dispatching = false;
    if (c->closing)
        free_conn(c);
}

/* Makes c the connection of its node in the peer table, resolving a
 * duplicate. Returns false when c itself lost and was closed. */
static bool enter_table(struct conn *c)
{
    struct p2p *p = c->p2p;
    struct conn *old = find_active(p, c->node_id);
    if (old == NULL) {
        c->active = true;
        if (p->o.on_peer != NULL)
            p->o.on_peer(p->o.on_peer_ctx, c->node_id, true);
        return true;
    }
    bool keep_new;
    if (old->outbound == c->outbound) {
        keep_new = true; /* same dialler twice: the old one is likely dead */
    } else {
        /* Keep the connection dialled by the lower node ID. */
        bool self_lower = memcmp(p->o.node_id, c->node_id, P2P_NODE_ID_BYTES) < 0;
        keep_new = c->outbound == self_lower;
    }
    if (!keep_new) {
        close_conn(c, LOG_INFO, true, "duplicate connection (keeping the one from %s)", old->addr);
        return false;
    }
    /* Swap without telling the upper layer: the node stays connected. */
    old->active = false;
    c->active = true;
    close_conn(old, LOG_INFO, true, "duplicate connection (replaced by the one from %s)", c->addr);
    return true;
}

/* After the TLS handshake: the chain (checked by OpenSSL against ca.crt),
 * the binding of the node ID, and the allowed list. */
static void authenticate(struct conn *c)
{
    struct p2p *p = c->p2p;
    char err[256];
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
    X509 *cert = ssl != NULL ? SSL_get1_peer_certificate(ssl) : NULL;
    if (cert == NULL || SSL_get_verify_result(ssl) != X509_V_OK) {
        X509_free(cert);
        close_conn(c, LOG_WARN, false, "no verified certificate");
        return;
    }
    int rc = node_cert_verify_binding(cert, c->node_id, err, sizeof(err));
    X509_free(cert);
    if (rc != TC_OK) {
        close_conn(c, LOG_WARN, false, "certificate refused: %s", err);
        return;
    }
    id_to_hex(c->node_id, c->id_hex);
    if (memcmp(c->node_id, p->o.node_id, P2P_NODE_ID_BYTES) == 0) {
        close_conn(c, LOG_WARN, false, "connected to ourselves");
        return;
    }
    if (!is_allowed(p, c->node_id)) {
        close_conn(c, LOG_WARN, false, "node ID not in the chain's node list");
        return;
    }
    uint64_t now = clock_monotonic_ms();
    c->last_seen_ms = now;
    c->connected_wall_ms = clock_wall_ms();
    if (c->dial != NULL) {
        memcpy(c->dial->node_id, c->node_id, P2P_NODE_ID_BYTES);
        c->dial->id_known = true;
        c->dial->failures = 0;
    }
    if (!enter_table(c))
        return;
    LOG_I(MOD, "peer %s at %s %s: connected", c->id_hex, c->addr, c->outbound ? "(out)" : "(in)");
    send_ping(c, now);
}

/* Why a connection failed: the certificate check, an OpenSSL error (libevent
 * also queues bare SSL_get_error codes, which say nothing), or errno. */
static void describe_error(struct bufferevent *bev, char *out, size_t len)
{
    unsigned long e, found = 0;
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    long verify = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
    while ((e = bufferevent_get_openssl_error(bev)) != 0)
        if (found == 0 && ERR_GET_LIB(e) != 0)
            found = e;
    if (verify != X509_V_OK)
        snprintf(out, len, "certificate verify failed: %s", X509_verify_cert_error_string(verify));
    else if (found != 0)
        ERR_error_string_n(found, out, len);
    else if (errno != 0)
        snprintf(out, len, "%s", strerror(errno));
    else
        snprintf(out, len, "connection error");
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    char why[256];
    if (what & BEV_EVENT_CONNECTED) {
        authenticate(c);
        return;
    }
    if (what & BEV_EVENT_EOF) {
        close_conn(c, LOG_INFO, false, "closed by the peer");
    } else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        describe_error(bev, why, sizeof(why));
        close_conn(c, c->active ? LOG_WARN : LOG_INFO, false, "%s%s",
                   c->active ? "" : "handshake failed: ", why);
    }
}

static struct conn *new_conn(struct p2p *p, evutil_socket_t fd, bool outbound,
                             const struct sockaddr *sa)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    SSL *ssl = SSL_new(p->ssl);
    if (ssl == NULL)
        goto fail_free_conn;
    c->bev = bufferevent_openssl_socket_new(
        p->base, fd, ssl, outbound ? BUFFEREVENT_SSL_CONNECTING : BUFFEREVENT_SSL_ACCEPTING,
        BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        SSL_free(ssl);
        goto fail_free_conn;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    /* libevent's default of 16 KiB per read or write callback costs a loop
     * iteration per TLS record on bulk transfers (block sync, large entries). */
    bufferevent_set_max_single_read(c->bev, MAX_SINGLE_IO_BYTES);
    bufferevent_set_max_single_write(c->bev, MAX_SINGLE_IO_BYTES);
    /* The input never holds more than one frame in progress beyond a read. */
    bufferevent_setwatermark(c->bev, EV_READ, 0,
                             (size_t)P2P_FRAME_HEADER_BYTES + p->o.max_frame_bytes);
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->p2p = p;
    c->outbound = outbound;
    snprintf(c->id_hex, sizeof(c->id_hex), "-");
    format_addr(sa, c->addr);
    c->opened_ms = clock_monotonic_ms();
    c->last_seen_ms = c->opened_ms;
    c->next = p->conns;
    if (p->conns != NULL)
        p->conns->prev = c;
    p->conns = c;
    p->conn_count++;
    return c;
fail_free_conn:
    free(c);
    return NULL;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    struct p2p *p = arg;
    char addr[P2P_ADDR_MAX];
    format_addr(sa, addr);
    if (p->conn_count >= p->o.max_connections) {
        LOG_W(MOD, "peer - at %s: refused: %zu connections already", addr, p->conn_count);
        evutil_closesocket(fd);
        return;
    }
    if (new_conn(p, fd, false, sa) == NULL) {
        LOG_E(MOD, "peer - at %s: refused: out of memory", addr);
        evutil_closesocket(fd);
    }
}

static void dial(struct p2p *p, struct dial *d, uint64_t now)
{
    d->next_attempt_ms = now + backoff_ms(p, d->failures);
    if (p->conn_count >= p->o.max_connections)
        return;
    struct conn *c = new_conn(p, -1, true, (const struct sockaddr *)&d->sa);
    if (c == NULL) {
        LOG_E(MOD, "cannot dial %s:%u: out of memory", d->ep.host, (unsigned)d->ep.port);
        return;
    }
    c->dial = d;
    d->conn = c;
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&d->sa, (int)d->sa_len) != 0)
        close_conn(c, LOG_INFO, false, "connect failed");
}

/* Heartbeats, timeouts and redials, every tick. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct p2p *p = arg;
    uint64_t now = clock_monotonic_ms();
    struct conn *next;
    for (struct conn *c = p->conns; c != NULL; c = next) {
        next = c->next;
        uint64_t silent_ms = now - c->last_seen_ms;
        if (!c->active) {
            if (now - c->opened_ms >= p->o.handshake_timeout_ms)
                close_conn(c, LOG_INFO, false, "handshake timeout");
        } else if (silent_ms >= p->o.dead_peer_timeout_ms) {
            close_conn(c, LOG_WARN, false, "silent for %llu ms", (unsigned long long)silent_ms);
        } else if (now - c->last_ping_ms >= p->o.heartbeat_interval_ms) {
            send_ping(c, now);
        }
    }
    for (size_t i = 0; i < p->dial_count; i++) {
        struct dial *d = &p->dials[i];
        if (d->conn != NULL || now < d->next_attempt_ms)
            continue;
        if (d->id_known && find_active(p, d->node_id) != NULL) {
            d->next_attempt_ms = now + p->o.heartbeat_interval_ms;
            continue; /* reached the other way round */
        }
        dial(p, d, now);
    }
}

static int resolve(const char *host, uint16_t port, struct sockaddr_storage *sa, socklen_t *len)
{
    struct addrinfo hints, *res = NULL;
    char service[8];
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(service, sizeof(service), "%u", (unsigned)port);
    if (getaddrinfo(host, service, &hints, &res) != 0 || res == NULL)
        return TC_EINVAL;
    memcpy(sa, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return TC_OK;
}

int p2p_add_peer(struct p2p *p, const char *host, uint16_t port)
{
    struct sockaddr_storage sa;
    socklen_t len = 0;
    if (host == NULL || strlen(host) >= P2P_HOST_MAX || port == 0 ||
        resolve(host, port, &sa, &len) != TC_OK)
        return TC_EINVAL;
    for (size_t i = 0; i < p->dial_count; i++)
        if (p->dials[i].sa_len == len && memcmp(&p->dials[i].sa, &sa, len) == 0)
            return TC_EEXIST;
    if (p->dial_count >= P2P_MAX_DIALS)
        return TC_EFULL;
    struct dial *d = &p->dials[p->dial_count++];
    memset(d, 0, sizeof(*d));
    snprintf(d->ep.host, sizeof(d->ep.host), "%s", host);
    d->ep.port = port;
    d->sa = sa;
    d->sa_len = len;
    d->next_attempt_ms = clock_monotonic_ms(); /* at the next tick */
    return TC_OK;
}

int p2p_set_allowed(struct p2p *p, const uint8_t (*ids)[P2P_NODE_ID_BYTES], size_t count)
{
    if (count > P2P_MAX_ALLOWED)
        return TC_ETOOBIG;
    if (count > 0)
        memcpy(p->allowed, ids, count * P2P_NODE_ID_BYTES);
    p->allowed_count = count;
    struct conn *next;
    for (struct conn *c = p->conns; c != NULL; c = next) {
        next = c->next;
        if (c->active && !is_allowed(p, c->node_id))
            close_conn(c, LOG_INFO, false, "no longer in the chain's node list");
    }
    return TC_OK;
}

static SSL_CTX *make_ssl_ctx(const struct p2p_options *o, char *err, size_t err_len)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (ctx == NULL) {
        tc_errorf(err, err_len, "cannot create the TLS context");
        return NULL;
    }
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
        tc_errorf(err, err_len, "TLS 1.3 is not available");
        goto fail_free_ctx;
    }
    if (SSL_CTX_use_certificate_file(ctx, o->cert_path, SSL_FILETYPE_PEM) != 1) {
        tc_errorf(err, err_len, "%s: cannot load the TLS certificate", o->cert_path);
        goto fail_free_ctx;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, o->key_path, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        tc_errorf(err, err_len, "%s: cannot load the TLS key, or it does not match %s", o->key_path,
                  o->cert_path);
        goto fail_free_ctx;
    }
    if (SSL_CTX_load_verify_locations(ctx, o->ca_cert_path, NULL) != 1) {
        tc_errorf(err, err_len, "%s: cannot load the chain CA certificate", o->ca_cert_path);
        goto fail_free_ctx;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_verify_depth(ctx, 2);
    /* No resumption: every connection proves both certificates afresh. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    /* Frames are self-delimiting, so a TCP close without close_notify cannot
     * truncate a message unnoticed: report it as a plain close. */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    return ctx;
fail_free_ctx:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

/* Our own certificate must carry our node ID, or every peer would refuse us. */
static int check_own_cert(const struct p2p_options *o, char *err, size_t err_len)
{
    X509 *cert = NULL;
    uint8_t id[P2P_NODE_ID_BYTES];
    char why[256];
    int rc = node_cert_read_file(o->cert_path, &cert, err, err_len);
    if (rc != TC_OK)
        return rc;
    rc = node_cert_verify_binding(cert, id, why, sizeof(why));
    X509_free(cert);
    if (rc != TC_OK) {
        tc_errorf(err, err_len, "%s: %s", o->cert_path, why);
        return TC_EINVAL;
    }
    if (memcmp(id, o->node_id, P2P_NODE_ID_BYTES) != 0) {
        tc_errorf(err, err_len, "%s: certificate is bound to another node ID", o->cert_path);
        return TC_EINVAL;
    }
    return TC_OK;
}

static int check_options(const struct p2p_options *o, char *err, size_t err_len)
{
    if (o->ca_cert_path == NULL || o->cert_path == NULL || o->key_path == NULL) {
        tc_errorf(err, err_len, "p2p: the CA, certificate and key paths are required");
        return TC_EINVAL;
    }
    if (o->max_frame_bytes == 0 || o->max_frame_bytes > UINT32_MAX - P2P_FRAME_HEADER_BYTES ||
        o->heartbeat_interval_ms == 0 || o->dead_peer_timeout_ms <= o->heartbeat_interval_ms ||
        o->handshake_timeout_ms == 0 || o->reconnect_min_ms < 2 ||
        o->reconnect_max_ms < o->reconnect_min_ms || o->max_connections == 0) {
        tc_errorf(err, err_len, "p2p: invalid limits or timeouts");
        return TC_EINVAL;
    }
    if (o->max_queue_bytes != 0 &&
        o->max_queue_bytes < (uint64_t)o->max_frame_bytes + P2P_FRAME_HEADER_BYTES) {
        tc_errorf(err, err_len, "p2p: max_queue_bytes must hold one largest frame");
        return TC_EINVAL;
    }
    if (o->allowed_count > P2P_MAX_ALLOWED || o->peer_count > P2P_MAX_DIALS) {
        tc_errorf(err, err_len, "p2p: too many allowed nodes or peers");
        return TC_ETOOBIG;
    }
    return TC_OK;
}

static int start_listening(struct p2p *p, char *err, size_t err_len)
{
    struct sockaddr_storage sa;
    socklen_t len = 0;
    if (resolve(p->o.listen_host, p->o.listen_port, &sa, &len) != TC_OK) {
        tc_errorf(err, err_len, "p2p: cannot resolve listen address %s", p->o.listen_host);
        return TC_EINVAL;
    }
    p->listener = evconnlistener_new_bind(
        p->base, on_accept, p, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
        64, (struct sockaddr *)&sa, (int)len);
    if (p->listener == NULL) {
        tc_errorf(err, err_len, "p2p: cannot listen on %s:%u: %s", p->o.listen_host,
                  (unsigned)p->o.listen_port, strerror(errno));
        return TC_EIO;
    }
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof(bound);
    if (getsockname(evconnlistener_get_fd(p->listener), (struct sockaddr *)&bound, &bound_len) == 0)
        p->listen_port =
            ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                             : ((struct sockaddr_in6 *)&bound)->sin6_port);
    return TC_OK;
}

int p2p_new(struct event_base *base, const struct p2p_options *o, struct p2p **out, char *err,
            size_t err_len)
{
    int rc = check_options(o, err, err_len);
    if (rc != TC_OK)
        return rc;
    if ((rc = check_own_cert(o, err, err_len)) != TC_OK)
        return rc;
    /* OpenSSL writes to the socket with write(): a peer that closed must give
     * EPIPE, not kill the node. */
    signal(SIGPIPE, SIG_IGN);
    struct p2p *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return TC_ENOMEM;
    p->base = base;
    p->o = *o;
    p->o.allowed = NULL;
    p->o.peers = NULL;
    p->o.ca_cert_path = p->o.cert_path = p->o.key_path = NULL;
    if (p->o.max_queue_bytes == 0)
        p->o.max_queue_bytes = 2 * ((uint64_t)o->max_frame_bytes + P2P_FRAME_HEADER_BYTES);
    rng_seed(&p->rng, o->rng_seed);
    p->allowed = calloc(P2P_MAX_ALLOWED, P2P_NODE_ID_BYTES);
    p->dials = calloc(P2P_MAX_DIALS, sizeof(*p->dials));
    if (p->allowed == NULL || p->dials == NULL) {
        rc = TC_ENOMEM;
        goto fail_free;
    }
    p2p_set_allowed(p, o->allowed, o->allowed_count);
    for (size_t i = 0; i < o->peer_count; i++) {
        rc = p2p_add_peer(p, o->peers[i].host, o->peers[i].port);
        if (rc != TC_OK && rc != TC_EEXIST) {
            tc_errorf(err, err_len, "p2p: cannot resolve peer %s:%u", o->peers[i].host,
                      (unsigned)o->peers[i].port);
            goto fail_free;
        }
    }
    p->ssl = make_ssl_ctx(o, err, err_len);
    if (p->ssl == NULL) {
        rc = TC_ECRYPTO;
        goto fail_free;
    }
    if ((rc = start_listening(p, err, err_len)) != TC_OK)
        goto fail_free;
    uint32_t tick_ms = o->heartbeat_interval_ms / 4;
    if (o->handshake_timeout_ms / 4 < tick_ms)
        tick_ms = o->handshake_timeout_ms / 4;
    tick_ms = tick_ms < TICK_MIN_MS ? TICK_MIN_MS : tick_ms > TICK_MAX_MS ? TICK_MAX_MS : tick_ms;
    struct timeval tv = { (time_t)(tick_ms / 1000), (suseconds_t)(tick_ms % 1000) * 1000 };
    p->tick = event_new(base, -1, EV_PERSIST, on_tick, p);
    if (p->tick == NULL || event_add(p->tick, &tv) != 0) {
        rc = TC_ENOMEM;
        goto fail_free;
    }
    LOG_I(MOD, "listening on %s:%u, %zu peers to dial, %zu nodes allowed", p->o.listen_host,
          (unsigned)p->listen_port, p->dial_count, p->allowed_count);
    *out = p;
    return TC_OK;
fail_free:
    if (rc == TC_ENOMEM)
        tc_errorf(err, err_len, "p2p: out of memory");
    p2p_free(p);
    return rc;
}

void p2p_free(struct p2p *p)
{
    if (p == NULL)
        return;
    while (p->conns != NULL) {
        struct conn *c = p->conns;
        c->dispatching = false;
        c->closing = false;
        c->active = false; /* no callbacks during shutdown */
        close_conn(c, LOG_DEBUG, true, "shutting down");
    }
    if (p->tick != NULL)
        event_free(p->tick);
    if (p->listener != NULL)
        evconnlistener_free(p->listener);
    SSL_CTX_free(p->ssl);
    free(p->dials);
    free(p->allowed);
    free(p);
}

uint16_t p2p_listen_port(const struct p2p *p)
{
    return p->listen_port;
}

int p2p_register(struct p2p *p, uint8_t type, uint32_t max_payload_bytes, p2p_frame_fn fn,
                 void *ctx)
{
    if (type < P2P_TYPE_FIRST_USER || fn == NULL || max_payload_bytes > p->o.max_frame_bytes)
        return TC_EINVAL;
    if (p->handlers[type].fn != NULL)
        return TC_EEXIST;
    p->handlers[type].fn = fn;
    p->handlers[type].ctx = ctx;
    p->handlers[type].max_payload_bytes = max_payload_bytes;
    return TC_OK;
}

static int check_frame(const struct p2p *p, uint8_t type, size_t len)
{
    if (type < P2P_TYPE_FIRST_USER || p->handlers[type].fn == NULL ||
        len > p->handlers[type].max_payload_bytes)
        return TC_EINVAL;
    return TC_OK;
}

int p2p_send(struct p2p *p, const uint8_t node_id[P2P_NODE_ID_BYTES], uint8_t type,
             const void *payload, size_t len)
{
    int rc = check_frame(p, type, len);
    if (rc != TC_OK)
        return rc;
    if (!is_allowed(p, node_id))
        return TC_EPERM;
    struct conn *c = find_active(p, node_id);
    if (c == NULL)
        return TC_EAGAIN;
    return queue_frame(c, type, payload, len);
}

int p2p_broadcast(struct p2p *p, uint8_t type, const void *payload, size_t len)
{
    int rc = check_frame(p, type, len);
    if (rc != TC_OK)
        return rc;
    int sent = 0;
    struct conn *next;
    for (struct conn *c = p->conns; c != NULL; c = next) {
        next = c->next;
        if (c->active && queue_frame(c, type, payload, len) == TC_OK)
            sent++;
    }
    return sent;
}

size_t p2p_queued_bytes(const struct p2p *p, const uint8_t node_id[P2P_NODE_ID_BYTES])
{
    struct conn *c = find_active(p, node_id);
    return c != NULL ? evbuffer_get_length(bufferevent_get_output(c->bev)) : 0;
}

int p2p_disconnect(struct p2p *p, const uint8_t node_id[P2P_NODE_ID_BYTES], const char *reason)
{
    struct conn *c = find_active(p, node_id);
    if (c == NULL)
        return TC_ENOTFOUND;
    close_conn(c, LOG_INFO, false, "%s", reason != NULL ? reason : "disconnected locally");
    return TC_OK;
}

bool p2p_is_connected(const struct p2p *p, const uint8_t node_id[P2P_NODE_ID_BYTES])
{
    return find_active(p, node_id) != NULL;
}

size_t p2p_peer_count(const struct p2p *p)
{
    size_t n = 0;
    for (const struct conn *c = p->conns; c != NULL; c = c->next)
        n += c->active ? 1 : 0;
    return n;
}

size_t p2p_peers(const struct p2p *p, struct p2p_peer_info *out, size_t cap)
{
    size_t n = 0;
    uint64_t now = clock_monotonic_ms(), wall = clock_wall_ms();
    for (const struct conn *c = p->conns; c != NULL; c = c->next) {
        if (!c->active)
            continue;
        if (n < cap) {
            struct p2p_peer_info *i = &out[n];
            memcpy(i->node_id, c->node_id, P2P_NODE_ID_BYTES);
            snprintf(i->address, sizeof(i->address), "%s", c->addr);
            i->outbound = c->outbound;
            i->connected_at_ms = c->connected_wall_ms;
            i->last_seen_ms = wall - (now - c->last_seen_ms);
            i->bytes_in = c->bytes_in;
            i->bytes_out = c->bytes_out;
            i->rtt_ms = c->rtt_ms;
        }
        n++;
    }
    return n;
}
