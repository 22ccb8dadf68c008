/*
 * rpc_test_util.h - a raw-socket HTTP/1.1 client and a server-on-a-thread
 * fixture for the RPC tests.
 *
 * The client is written against the socket API on purpose, so that tests can
 * also send broken HTTP. Everything here is static inline so that each test
 * program can use what it needs.
 */
#ifndef TC_TEST_RPC_UTIL_H
#define TC_TEST_RPC_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "rpc/rpc.h"

#define TEST_HTTP_IO_TIMEOUT_S 20

struct http_response {
    int status;
    char headers[8192]; /* status line and headers, NUL-terminated */
    char *body;         /* NUL-terminated, malloc'd */
    size_t body_len;
    bool closed; /* the server closed the connection after this response */
};

static inline void http_response_free(struct http_response *r)
{
    free(r->body);
    r->body = NULL;
}

/* A blocking TCP connection to 127.0.0.1:port with I/O timeouts; -1 on failure. */
static inline int http_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { TEST_HTTP_IO_TIMEOUT_S, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Writes all of buf; false on error (e.g. the server closed the connection). */
static inline bool http_send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* The value of header `name` in r->headers into out (NUL-terminated); false if absent. */
static inline bool http_header(const struct http_response *r, const char *name, char *out,
                               size_t out_len)
{
    size_t n = strlen(name);
    const char *line = strstr(r->headers, "\r\n");
    while (line) {
        line += 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r\n");
            if (len >= out_len)
                len = out_len - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return true;
        }
        line = strstr(line, "\r\n");
    }
    return false;
}

static inline ssize_t http_recv(int fd, char *buf, size_t len)
{
    for (;;) {
        ssize_t n = recv(fd, buf, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        return n;
    }
}

/*
 * Reads one response (Content-Length bodies, or none for 204/304). Returns
 * false if the connection closed or failed before a whole response arrived.
 * Bytes after the response are not expected (no pipelining in the tests).
 */
static inline bool http_read_response(int fd, struct http_response *r)
{
    memset(r, 0, sizeof(*r));
    size_t used = 0;
    char *end = NULL;
    while (!end) {
        if (used + 1 >= sizeof(r->headers))
            return false;
        ssize_t n = http_recv(fd, r->headers + used, sizeof(r->headers) - 1 - used);
        if (n <= 0)
            return false;
        used += (size_t)n;
        r->headers[used] = '\0';
        end = strstr(r->headers, "\r\n\r\n");
    }
    size_t head_len = (size_t)(end - r->headers) + 4;
    size_t extra = used - head_len;
    char saved[sizeof(r->headers)];
    memcpy(saved, r->headers + head_len, extra);
    r->headers[head_len] = '\0';
    if (sscanf(r->headers, "HTTP/1.%*d %d", &r->status) != 1)
        return false;
    char value[64];
    size_t body_len = 0;
    if (http_header(r, "Content-Length", value, sizeof(value)))
        body_len = strtoull(value, NULL, 10);
    r->body = malloc(body_len + 1);
    if (!r->body)
        return false;
    if (extra > body_len)
        return false;
    memcpy(r->body, saved, extra);
    size_t got = extra;
    while (got < body_len) {
        ssize_t n = http_recv(fd, r->body + got, body_len - got);
        if (n <= 0) {
            http_response_free(r);
            return false;
        }
        got += (size_t)n;
    }
    r->body[body_len] = '\0';
    r->body_len = body_len;
    if (http_header(r, "Connection", value, sizeof(value)))
        r->closed = strcasecmp(value, "close") == 0;
    return true;
}

/* Sends one request with an optional body; keeps the connection open. */
static inline bool http_request(int fd, const char *method, const char *path,
                                const char *content_type, const char *body, size_t body_len)
{
    char head[1024];
    int n = snprintf(head, sizeof(head),
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%sContent-Length: %zu\r\n\r\n",
                     method, path, content_type ? "Content-Type: " : "",
                     content_type ? content_type : "", content_type ? "\r\n" : "", body_len);
    return http_send_all(fd, head, (size_t)n) && http_send_all(fd, body, body_len);
}

/* One request on a new connection; false on any failure. */
static inline bool http_exchange(uint16_t port, const char *method, const char *path,
                                 const char *content_type, const char *body,
                                 struct http_response *r)
{
    int fd = http_connect(port);
    if (fd < 0)
        return false;
    bool ok = http_request(fd, method, path, content_type, body, body ? strlen(body) : 0) &&
              http_read_response(fd, r);
    close(fd);
    return ok;
}

/* ---- server fixture ----------------------------------------------------- */

struct rpc_fixture {
    struct event_base *base;
    struct rpc_server *server;
    pthread_t loop_thread;
    uint16_t port;
};

static inline void *rpc_fixture_loop(void *arg)
{
    struct rpc_fixture *f = arg;
    event_base_loop(f->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

/* Creates base and server; the caller registers methods, then rpc_fixture_run. */
static inline bool rpc_fixture_init(struct rpc_fixture *f, const struct rpc_server_options *o)
{
    memset(f, 0, sizeof(*f));
    static bool threads_on;
    if (!threads_on) {
        if (evthread_use_pthreads() != 0)
            return false;
        threads_on = true;
    }
    f->base = event_base_new();
    if (!f->base || rpc_server_new(f->base, o, &f->server) != 0)
        return false;
    f->port = rpc_server_port(f->server);
    return f->port != 0;
}

static inline bool rpc_fixture_run(struct rpc_fixture *f)
{
    return pthread_create(&f->loop_thread, NULL, rpc_fixture_loop, f) == 0;
}

static inline void rpc_fixture_stop(struct rpc_fixture *f)
{
    event_base_loopbreak(f->base);
    pthread_join(f->loop_thread, NULL);
    rpc_server_free(f->server);
    event_base_free(f->base);
}

/* POSTs body as JSON on a new connection; *status gets the HTTP status and the
 * result is the parsed body (NULL when empty or not JSON). */
static inline cJSON *rpc_post(uint16_t port, const char *body, int *status)
{
    struct http_response r;
    if (!http_exchange(port, "POST", "/", "application/json", body, &r)) {
        *status = -1;
        return NULL;
    }
    *status = r.status;
    cJSON *json = r.body_len ? cJSON_Parse(r.body) : NULL;
    http_response_free(&r);
    return json;
}

#endif
