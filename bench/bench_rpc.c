/*
 * bench_rpc.c - JSON-RPC server throughput for a trivial method.
 *
 * The server runs on its own thread (one libevent loop, as in the node); one
 * client thread in the same process keeps `connections` keep-alive
 * connections busy, one request in flight on each, for `seconds` per mode:
 * single calls, and batches of 100 calls. Prints HTTP requests/s and
 * JSON-RPC calls/s.
 *
 * usage: bench_rpc [connections=8] [seconds=3]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "base/clock.h"
#include "base/log.h"
#include "rpc/rpc.h"

#define MAX_CONNECTIONS 256
#define BATCH           100

struct conn {
    int fd;
    char *req;
    size_t req_len;
    char buf[1 << 16];
    size_t used;
};

static void m_version(struct rpc_call *call, const cJSON *params, void *ctx)
{
    rpc_call_result(call, cJSON_CreateString("teechain/bench"));
}

static void *loop_main(void *arg)
{
    event_base_loop(arg, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static int open_conn(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("connect");
        exit(1);
    }
    return fd;
}

static char *make_request(int calls, size_t *len)
{
    static const char one[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"web3_clientVersion\"}";
    size_t body_len = calls == 1 ? strlen(one) : 2 + (size_t)calls * (strlen(one) + 1);
    char *body = malloc(body_len + 1);
    char *p = body;
    if (calls == 1) {
        p += sprintf(p, "%s", one);
    } else {
        *p++ = '[';
        for (int i = 0; i < calls; i++)
            p += sprintf(p, "%s%s", i ? "," : "", one);
        *p++ = ']';
        *p = '\0';
    }
    body_len = (size_t)(p - body);
    char *req = malloc(body_len + 256);
    *len = (size_t)sprintf(req,
                           "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           "Content-Length: %zu\r\n\r\n%s",
                           body_len, body);
    free(body);
    return req;
}

static void send_req(struct conn *c)
{
    size_t off = 0;
    while (off < c->req_len) {
        ssize_t n = send(c->fd, c->req + off, c->req_len - off, MSG_NOSIGNAL);
        if (n <= 0) {
            perror("send");
            exit(1);
        }
        off += (size_t)n;
    }
}

/* Consumes whole responses in c->buf; returns how many completed. */
static int take_responses(struct conn *c)
{
    int done = 0;
    for (;;) {
        c->buf[c->used] = '\0';
        char *end = strstr(c->buf, "\r\n\r\n");
        if (!end)
            return done;
        char *cl = strstr(c->buf, "Content-Length:");
        if (!cl || cl > end) {
            fprintf(stderr, "response without Content-Length\n");
            exit(1);
        }
        size_t body = strtoull(cl + 15, NULL, 10);
        size_t total = (size_t)(end + 4 - c->buf) + body;
        if (c->used < total)
            return done;
        if (strncmp(c->buf, "HTTP/1.1 200", 12) != 0) {
            fprintf(stderr, "unexpected response\n");
            exit(1);
        }
        memmove(c->buf, c->buf + total, c->used - total);
        c->used -= total;
        done++;
    }
}

static double run(uint16_t port, int connections, int calls, double seconds, uint64_t *requests)
{
    static struct conn conns[MAX_CONNECTIONS];
    int ep = epoll_create1(0);
    size_t req_len;
    char *req = make_request(calls, &req_len);
    for (int i = 0; i < connections; i++) {
        struct conn *c = &conns[i];
        c->fd = open_conn(port);
        c->req = req;
        c->req_len = req_len;
        c->used = 0;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        send_req(c);
    }
    uint64_t start = clock_monotonic_ns();
    uint64_t stop = start + (uint64_t)(seconds * 1e9);
    uint64_t n = 0;
    bool sending = true;
    int in_flight = connections;
    while (in_flight > 0) {
        struct epoll_event evs[64];
        int k = epoll_wait(ep, evs, 64, 10000);
        if (k <= 0) {
            fprintf(stderr, "timeout waiting for responses\n");
            exit(1);
        }
        for (int j = 0; j < k; j++) {
            struct conn *c = evs[j].data.ptr;
            ssize_t got = recv(c->fd, c->buf + c->used, sizeof(c->buf) - 1 - c->used, 0);
            if (got <= 0) {
                fprintf(stderr, "connection lost\n");
                exit(1);
            }
            c->used += (size_t)got;
            int done = take_responses(c);
            n += (uint64_t)done;
            if (done == 0)
                continue;
            if (sending && clock_monotonic_ns() >= stop)
                sending = false;
            if (sending)
                send_req(c);
            else
                in_flight--;
        }
    }
    double elapsed = (double)(clock_monotonic_ns() - start) / 1e9;
    for (int i = 0; i < connections; i++)
        close(conns[i].fd);
    close(ep);
    free(req);
    *requests = n;
    return elapsed;
}

int main(int argc, char **argv)
{
    int connections = argc > 1 ? atoi(argv[1]) : 8;
    double seconds = argc > 2 ? atof(argv[2]) : 3.0;
    if (connections < 1 || connections > MAX_CONNECTIONS || seconds <= 0) {
        fprintf(stderr, "usage: %s [connections 1..%d] [seconds]\n", argv[0], MAX_CONNECTIONS);
        return 2;
    }
    log_set_level(LOG_WARN);
    evthread_use_pthreads();
    struct event_base *base = event_base_new();
    struct rpc_server_options o;
    rpc_server_options_init(&o);
    struct rpc_server *server;
    if (rpc_server_new(base, &o, &server) != 0 ||
        rpc_register(server, "web3_clientVersion", m_version, NULL) != 0) {
        fprintf(stderr, "cannot start the server\n");
        return 1;
    }
    pthread_t loop;
    pthread_create(&loop, NULL, loop_main, base);

    printf("command: %s %d %g\n", argv[0], connections, seconds);
    printf("%-10s %11s %13s %9s %13s %13s\n", "mode", "connections", "http_requests", "seconds",
           "requests/s", "calls/s");
    static const int modes[] = { 1, BATCH };
    for (size_t i = 0; i < 2; i++) {
        uint64_t n = 0;
        double s = run(rpc_server_port(server), connections, modes[i], seconds, &n);
        printf("%-10s %11d %13llu %9.2f %13.0f %13.0f\n", modes[i] == 1 ? "single" : "batch100",
               connections, (unsigned long long)n, s, (double)n / s, (double)n * modes[i] / s);
    }
    event_base_loopbreak(base);
    pthread_join(loop, NULL);
    rpc_server_free(server);
    event_base_free(base);
    return 0;
}
