/*
 * rpc_server.c - the HTTP side (libevent's evhttp), JSON-RPC 2.0 dispatch,
 * deferred completions and the connection budget.
 *
 * A POST body becomes a struct rpc_request holding the parsed JSON and one
 * struct rpc_call per JSON-RPC request in it. Calls are dispatched in order;
 * the reply is sent when the request's last call completes. A call completed
 * off the loop thread is queued (mutex) and the loop is woken through a pipe.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "rpc/metrics.h"
#include "rpc/rpc.h"

#define LOG_MODULE "rpc"
/* Accept queue length asked of listen(); the kernel caps it at somaxconn. */
#define LISTEN_BACKLOG 4096
/* Pause of the accept loop after the process ran out of descriptors. */
#define ACCEPT_RETRY_MS 100
#define METHOD_SLOTS    (2 * RPC_MAX_METHODS)
/* Label of the metrics of calls whose method is not registered or unreadable. */
#define UNKNOWN_METHOD "unknown"

enum call_state { CALL_IN_HANDLER, CALL_DEFERRED, CALL_DONE };

struct method {
    char name[RPC_MAX_METHOD_NAME_LEN + 1];
    rpc_handler_fn fn;
    void *ctx;
    struct metric_series *requests;
    struct metric_series *errors;
    struct metric_series *latency;
};

struct rpc_call {
    struct rpc_request *request;
    const struct method *method; /* for metrics: the registered one or the "unknown" one */
    const cJSON *id;             /* borrowed from request->root; NULL answers "id": null */
    bool respond;                /* false for a notification */
    _Atomic int state;
    cJSON *result;
    int error_code; /* 0 when the call has a result */
    char *error_message;
    cJSON *error_data;
    struct rpc_call *next_done; /* completion queue */
};

struct rpc_request {
    struct rpc_server *server;
    struct evhttp_request *http; /* NULL once the server cancelled it */
    cJSON *root;
    bool batch;
    uint32_t n_calls;
    uint32_t pending; /* calls not yet finished, +1 while dispatching */
    struct rpc_call *calls;
    uint64_t start_ns;
    struct rpc_request *prev, *next; /* server->outstanding */
};

struct rpc_server {
    struct event_base *base;
    struct evhttp *http;
    struct evconnlistener *listener; /* owned by http */
    struct rpc_server_options opt;
    char *host;
    uint16_t port;
    bool closing;

    struct metrics *metrics;
    bool own_metrics;
    struct metric *requests_family, *errors_family, *latency_family;
    struct metric_series *connections_gauge;

    struct method *slots[METHOD_SLOTS];
    uint32_t n_methods;
    struct method unknown;

    /* Deferred completions handed back from any thread. */
    pthread_mutex_t done_lock;
    struct rpc_call *done_head, *done_tail;
    int wake_fds[2];
    struct event *wake_event;

    struct rpc_request *outstanding;

    /* Connection budget: connections are counted from evhttp's bufferevent
     * callback and uncounted by the close callback installed on each new
     * connection right after evhttp created it (adopt_event). */
    uint32_t n_connections;
    uint32_t max_connections;
    struct bufferevent **adopt;
    size_t n_adopt, adopt_cap;
    struct event *adopt_event;
    bool paused_for_limit;
    bool paused_for_fds;
    struct event *resume_event;
};

static const double latency_bounds_s[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                           0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                           1,      2.5,     5,      10 };

void rpc_server_options_init(struct rpc_server_options *o)
{
    memset(o, 0, sizeof(*o));
    o->host = "127.0.0.1";
    o->port = 0;
    o->max_body_bytes = RPC_DEFAULT_MAX_BODY_BYTES;
    o->max_header_bytes = RPC_DEFAULT_MAX_HEADER_BYTES;
    o->max_batch = RPC_DEFAULT_MAX_BATCH;
    o->max_connections = RPC_DEFAULT_MAX_CONNECTIONS;
    o->timeout_ms = RPC_DEFAULT_TIMEOUT_MS;
    o->cors = false;
    o->metrics = NULL;
}

int rpc_raise_fd_limit(uint64_t *limit)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return TC_EIO;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            return TC_EIO;
    }
    if (limit)
        *limit = (uint64_t)rl.rlim_cur;
    return TC_OK;
}

/* ---- method table ------------------------------------------------------- */

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static struct method *find_method(const struct rpc_server *s, const char *name)
{
    for (uint32_t i = 0, h = name_hash(name); i < METHOD_SLOTS; i++) {
        struct method *m = s->slots[(h + i) % METHOD_SLOTS];
        if (!m)
            return NULL;
        if (strcmp(m->name, name) == 0)
            return m;
    }
    return NULL;
}

static bool valid_method_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > RPC_MAX_METHOD_NAME_LEN || strncmp(name, "rpc.", 4) == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

static void method_metrics(struct rpc_server *s, struct method *m)
{
    m->requests = metric_series(s->requests_family, m->name);
    m->errors = metric_series(s->errors_family, m->name);
    m->latency = metric_series(s->latency_family, m->name);
}

int rpc_register(struct rpc_server *server, const char *method, rpc_handler_fn fn, void *ctx)
{
    if (!method || !fn || !valid_method_name(method))
        return TC_EINVAL;
    if (find_method(server, method))
        return TC_EEXIST;
    if (server->n_methods == RPC_MAX_METHODS)
        return TC_EFULL;
    struct method *m = xcalloc(1, sizeof(*m));
    snprintf(m->name, sizeof(m->name), "%s", method);
    m->fn = fn;
    m->ctx = ctx;
    method_metrics(server, m);
    uint32_t i = name_hash(method);
    while (server->slots[i % METHOD_SLOTS])
        i++;
    server->slots[i % METHOD_SLOTS] = m;
    server->n_methods++;
    return TC_OK;
}

/* ---- calls and their completion ---------------------------------------- */

static void finish_call(struct rpc_call *call);

const char *rpc_call_method(const struct rpc_call *call)
{
    return call->method->name;
}

/* Called once the call's outcome is stored: hands it to the loop thread. */
static void complete(struct rpc_call *call)
{
    int expected = CALL_IN_HANDLER;
    if (atomic_compare_exchange_strong(&call->state, &expected, CALL_DONE))
        return; /* completed inside its handler: dispatch_call finishes it */
    assert(expected == CALL_DEFERRED);
    atomic_store(&call->state, CALL_DONE);
    struct rpc_server *s = call->request->server;
    call->next_done = NULL;
    pthread_mutex_lock(&s->done_lock);
    bool was_empty = s->done_head == NULL;
    if (was_empty)
        s->done_head = call;
    else
        s->done_tail->next_done = call;
    s->done_tail = call;
    pthread_mutex_unlock(&s->done_lock);
    if (was_empty) {
        /* A full pipe already holds a wake-up, so EAGAIN loses nothing. */
        ssize_t n = write(s->wake_fds[1], "", 1);
        (void)n;
    }
}

void rpc_call_result(struct rpc_call *call, cJSON *result)
{
    call->result = result;
    call->error_code = 0;
    complete(call);
}

void rpc_call_error(struct rpc_call *call, int code, const char *message, cJSON *data)
{
    call->error_code = code ? code : RPC_INTERNAL_ERROR;
    call->error_message = xstrdup(message ? message : "");
    call->error_data = data;
    complete(call);
}

void rpc_call_errorf(struct rpc_call *call, int code, cJSON *data, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    rpc_call_error(call, code, buf, data);
}

/* Completes a call that the server itself answers (bad request, no method). */
static void fail_call(struct rpc_call *call, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_call(struct rpc_call *call, int code, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    call->error_code = code;
    call->error_message = xstrdup(buf);
    atomic_store(&call->state, CALL_DONE);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct rpc_server *s = arg;
    char sink[64];
    /* Drain before taking the queue: a completion queued after the take then
     * finds the queue empty and writes a fresh wake-up byte. */
    while (read(fd, sink, sizeof(sink)) > 0) {
    }
    pthread_mutex_lock(&s->done_lock);
    struct rpc_call *call = s->done_head;
    s->done_head = s->done_tail = NULL;
    pthread_mutex_unlock(&s->done_lock);
    while (call) {
        struct rpc_call *next = call->next_done;
        finish_call(call);
        call = next;
    }
}

/* ---- responses ---------------------------------------------------------- */

static cJSON *checked(cJSON *v)
{
    if (!v)
        log_fatal(LOG_MODULE, "out of memory building a response");
    return v;
}

static void add_item(cJSON *obj, const char *key, cJSON *item)
{
    if (!cJSON_AddItemToObject(obj, key, checked(item)))
        log_fatal(LOG_MODULE, "out of memory building a response");
}

static cJSON *error_object(int code, const char *message, cJSON *data)
{
    cJSON *err = checked(cJSON_CreateObject());
    add_item(err, "code", cJSON_CreateNumber(code));
    add_item(err, "message", cJSON_CreateString(message));
    if (data)
        add_item(err, "data", data);
    return err;
}

static cJSON *envelope(const cJSON *id)
{
    cJSON *resp = checked(cJSON_CreateObject());
    add_item(resp, "jsonrpc", cJSON_CreateString("2.0"));
    add_item(resp, "id", id ? cJSON_Duplicate(id, false) : cJSON_CreateNull());
    return resp;
}

/* The response object of a finished call; moves its result or error data. */
static cJSON *call_response(struct rpc_call *call)
{
    cJSON *resp = envelope(call->id);
    if (call->error_code) {
        add_item(resp, "error",
                 error_object(call->error_code, call->error_message, call->error_data));
        call->error_data = NULL;
    } else {
        add_item(resp, "result", call->result ? call->result : cJSON_CreateNull());
        call->result = NULL;
    }
    return resp;
}

static void free_cjson_text(const void *data, size_t len, void *arg)
{
    cJSON_free((void *)data);
}

static void add_cors(struct rpc_server *s, struct evhttp_request *req)
{
    if (s->opt.cors)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Access-Control-Allow-Origin",
                          "*");
}

/* Sends 200 with json as the body (NULL: an empty body) and frees json. */
static void send_json(struct evhttp_request *req, cJSON *json)
{
    struct evbuffer *body = evbuffer_new();
    if (!body)
        log_fatal(LOG_MODULE, "out of memory sending a response");
    if (json) {
        char *text = cJSON_PrintUnformatted(json);
        if (!text)
            log_fatal(LOG_MODULE, "out of memory printing a response");
        if (evbuffer_add_reference(body, text, strlen(text), free_cjson_text, NULL) != 0)
            log_fatal(LOG_MODULE, "out of memory sending a response");
        cJSON_Delete(json);
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, 200, "OK", body);
    evbuffer_free(body);
}

static void send_text(struct evhttp_request *req, int code, const char *reason,
                      const char *content_type, const char *text, size_t len)
{
    struct evbuffer *body = evbuffer_new();
    if (!body || evbuffer_add(body, text, len) != 0)
        log_fatal(LOG_MODULE, "out of memory sending a response");
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", content_type);
    evhttp_send_reply(req, code, reason, body);
    evbuffer_free(body);
}

static void send_status(struct evhttp_request *req, int code, const char *reason, const char *allow)
{
    char text[128];
    int n = snprintf(text, sizeof(text), "%d %s\n", code, reason);
    if (allow)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
    send_text(req, code, reason, "text/plain; charset=utf-8", text, (size_t)n);
}

static void count_unattributed_error(struct rpc_server *s)
{
    metric_inc(s->unknown.requests);
    metric_inc(s->unknown.errors);
}

/* A reply to the whole POST that is one error with "id": null. */
static void send_single_error(struct rpc_server *s, struct evhttp_request *req, int code,
                              const char *message)
{
    count_unattributed_error(s);
    cJSON *resp = envelope(NULL);
    add_item(resp, "error", error_object(code, message, NULL));
    send_json(req, resp);
}

/* ---- requests ----------------------------------------------------------- */

static void free_request(struct rpc_request *r)
{
    struct rpc_server *s = r->server;
    if (r->prev)
        r->prev->next = r->next;
    else
        s->outstanding = r->next;
    if (r->next)
        r->next->prev = r->prev;
    for (uint32_t i = 0; i < r->n_calls; i++) {
        cJSON_Delete(r->calls[i].result);
        cJSON_Delete(r->calls[i].error_data);
        free(r->calls[i].error_message);
    }
    free(r->calls);
    cJSON_Delete(r->root);
    free(r);
}

static void respond(struct rpc_request *r)
{
    if (!r->http) {
        free_request(r);
        return;
    }
    cJSON *out = NULL;
    if (r->batch) {
        for (uint32_t i = 0; i < r->n_calls; i++) {
            if (!r->calls[i].respond)
                continue;
            if (!out)
                out = checked(cJSON_CreateArray());
            if (!cJSON_AddItemToArray(out, call_response(&r->calls[i])))
                log_fatal(LOG_MODULE, "out of memory building a response");
        }
    } else if (r->calls[0].respond) {
        out = call_response(&r->calls[0]);
    }
    send_json(r->http, out);
    free_request(r);
}

static void log_call_error(const struct rpc_call *call)
{
    if (!log_enabled(LOG_DEBUG) || !call->request->http)
        return;
    char *peer = NULL;
    ev_uint16_t port = 0;
    struct evhttp_connection *conn = evhttp_request_get_connection(call->request->http);
    if (conn)
        evhttp_connection_get_peer(conn, &peer, &port);
    LOG_D(LOG_MODULE, "call %s from %s:%u failed with %d", call->method->name, peer ? peer : "?",
          (unsigned)port, call->error_code);
}

/* The call has its outcome: count it and reply once the request is done. */
static void finish_call(struct rpc_call *call)
{
    struct rpc_request *r = call->request;
    if (call->error_code) {
        metric_inc(call->method->errors);
        log_call_error(call);
    }
    metric_observe(call->method->latency, (double)(clock_monotonic_ns() - r->start_ns) / 1e9);
    if (--r->pending == 0)
        respond(r);
}

/* Checks one JSON-RPC request object; returns the method to run or NULL when
 * the call was answered with an error already. *params gets its params. */
static const struct method *prepare_call(struct rpc_server *s, struct rpc_call *call,
                                         const cJSON *obj, const cJSON **params)
{
    call->method = &s->unknown;
    call->respond = true;
    if (!cJSON_IsObject(obj)) {
        fail_call(call, RPC_INVALID_REQUEST, "invalid request: not a JSON object");
        return NULL;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
    if (id && !cJSON_IsString(id) && !cJSON_IsNumber(id) && !cJSON_IsNull(id)) {
        fail_call(call, RPC_INVALID_REQUEST,
                  "invalid request: id must be a string, number or null");
        return NULL;
    }
    call->id = id;
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(obj, "jsonrpc");
    if (!cJSON_IsString(version) || strcmp(version->valuestring, "2.0") != 0) {
        fail_call(call, RPC_INVALID_REQUEST, "invalid request: jsonrpc must be \"2.0\"");
        return NULL;
    }
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(obj, "method");
    if (!cJSON_IsString(method)) {
        fail_call(call, RPC_INVALID_REQUEST, "invalid request: method must be a string");
        return NULL;
    }
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(obj, "params");
    if (p && !cJSON_IsArray(p) && !cJSON_IsObject(p) && !cJSON_IsNull(p)) {
        fail_call(call, RPC_INVALID_REQUEST,
                  "invalid request: params must be an array, an object or null");
        return NULL;
    }
    /* Only a valid request without "id" is a notification. */
    call->respond = id != NULL;
    const struct method *m = find_method(s, method->valuestring);
    if (!m) {
        fail_call(call, RPC_METHOD_NOT_FOUND, "the method %s does not exist/is not available",
                  method->valuestring);
        return NULL;
    }
    call->method = m;
    *params = cJSON_IsNull(p) ? NULL : p;
    return m;
}

static void dispatch_call(struct rpc_server *s, struct rpc_call *call, const cJSON *obj)
{
    const cJSON *params = NULL;
    const struct method *m = prepare_call(s, call, obj, &params);
    metric_inc(call->method->requests);
    if (m) {
        atomic_store(&call->state, CALL_IN_HANDLER);
        m->fn(call, params, m->ctx);
        int expected = CALL_IN_HANDLER;
        if (atomic_compare_exchange_strong(&call->state, &expected, CALL_DEFERRED))
            return; /* finished later through the completion queue */
    }
    finish_call(call);
}

/* Parses a whole body as exactly one JSON value (whitespace around it). */
static cJSON *parse_body(const char *body, size_t len)
{
    if (len == 0 || memchr(body, '\0', len))
        return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, false);
    if (!root)
        return NULL;
    for (const char *p = end; p < body + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            cJSON_Delete(root);
            return NULL;
        }
    }
    return root;
}

static void handle_rpc(struct rpc_server *s, struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *body = len ? (const char *)evbuffer_pullup(in, -1) : "";
    cJSON *root = parse_body(body, len);
    if (!root) {
        send_single_error(s, req, RPC_PARSE_ERROR, "parse error");
        return;
    }
    uint32_t n = 1;
    bool batch = cJSON_IsArray(root);
    if (batch) {
        size_t count = 0;
        for (const cJSON *c = root->child; c && count <= s->opt.max_batch; c = c->next)
            count++;
        if (count == 0 || count > s->opt.max_batch) {
            char msg[96];
            if (count == 0)
                snprintf(msg, sizeof(msg), "empty batch");
            else
                snprintf(msg, sizeof(msg), "batch too large: more than %u requests",
                         s->opt.max_batch);
            cJSON_Delete(root);
            send_single_error(s, req, RPC_INVALID_REQUEST, msg);
            return;
        }
        n = (uint32_t)count;
    }
    struct rpc_request *r = xcalloc(1, sizeof(*r));
    r->server = s;
    r->http = req;
    r->root = root;
    r->batch = batch;
    r->n_calls = n;
    r->calls = xcalloc(n, sizeof(*r->calls));
    r->start_ns = clock_monotonic_ns();
    r->pending = n + 1; /* the +1 keeps the reply back until all are dispatched */
    r->next = s->outstanding;
    if (s->outstanding)
        s->outstanding->prev = r;
    s->outstanding = r;
    const cJSON *obj = batch ? root->child : root;
    for (uint32_t i = 0; i < n; i++, obj = batch ? obj->next : NULL) {
        r->calls[i].request = r;
        dispatch_call(s, &r->calls[i], obj);
    }
    if (--r->pending == 0)
        respond(r);
}

/* geth's accepted media types for JSON-RPC over HTTP. */
static bool json_content_type(const char *value)
{
    static const char *const accepted[] = { "application/json", "application/json-rpc",
                                            "application/jsonrequest" };
    if (!value)
        return false;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strcspn(value, "; \t");
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        if (strlen(accepted[i]) == n && strncasecmp(value, accepted[i], n) == 0)
            return true;
    }
    return false;
}

static void handle_root(struct rpc_server *s, struct evhttp_request *req, enum evhttp_cmd_type cmd)
{
    if (cmd == EVHTTP_REQ_OPTIONS && s->opt.cors) {
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        evhttp_add_header(h, "Access-Control-Allow-Methods", "POST, GET, OPTIONS");
        evhttp_add_header(h, "Access-Control-Allow-Headers", "Content-Type");
        evhttp_add_header(h, "Access-Control-Max-Age", "600");
        evhttp_send_reply(req, 204, "No Content", NULL);
        return;
    }
    if (cmd != EVHTTP_REQ_POST) {
        send_status(req, 405, "Method Not Allowed", s->opt.cors ? "POST, OPTIONS" : "POST");
        return;
    }
    const char *type = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    if (!json_content_type(type)) {
        static const char msg[] = "invalid content type, only application/json is supported\n";
        send_text(req, 415, "Unsupported Media Type", "text/plain; charset=utf-8", msg,
                  sizeof(msg) - 1);
        return;
    }
    handle_rpc(s, req);
}

static void handle_metrics(struct rpc_server *s, struct evhttp_request *req)
{
    struct bytes page;
    bytes_init(&page);
    if (metrics_render(s->metrics, &page) != TC_OK)
        log_fatal(LOG_MODULE, "out of memory rendering metrics");
    send_text(req, 200, "OK", METRICS_CONTENT_TYPE, (const char *)page.ptr, page.len);
    bytes_free(&page);
}

static void on_http_request(struct evhttp_request *req, void *arg)
{
    struct rpc_server *s = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    add_cors(s, req);
    if (path && strcmp(path, "/") == 0) {
        handle_root(s, req, cmd);
    } else if (path && strcmp(path, "/health") == 0) {
        static const char ok[] = "{\"status\":\"ok\"}";
        if (cmd == EVHTTP_REQ_GET)
            send_text(req, 200, "OK", "application/json", ok, sizeof(ok) - 1);
        else
            send_status(req, 405, "Method Not Allowed", "GET");
    } else if (path && strcmp(path, "/metrics") == 0) {
        if (cmd == EVHTTP_REQ_GET)
            handle_metrics(s, req);
        else
            send_status(req, 405, "Method Not Allowed", "GET");
    } else {
        send_status(req, 404, "Not Found", NULL);
    }
}

/* ---- connection budget -------------------------------------------------- */

static void update_listener(struct rpc_server *s)
{
    if (s->closing || !s->listener)
        return;
    if (s->paused_for_limit || s->paused_for_fds)
        evconnlistener_disable(s->listener);
    else
        evconnlistener_enable(s->listener);
}

static void on_connection_closed(struct evhttp_connection *conn, void *arg)
{
    struct rpc_server *s = arg;
    assert(s->n_connections > 0);
    s->n_connections--;
    metric_gauge_add(s->connections_gauge, -1);
    if (s->paused_for_limit && s->n_connections < s->max_connections) {
        s->paused_for_limit = false;
        update_listener(s);
    }
}

/* evhttp asks for each new connection's bufferevent: count the connection. */
static struct bufferevent *on_new_connection(struct event_base *base, void *arg)
{
    struct rpc_server *s = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev)
        log_fatal(LOG_MODULE, "out of memory accepting a connection");
    if (s->n_adopt == s->adopt_cap) {
        s->adopt_cap = s->adopt_cap ? 2 * s->adopt_cap : 64;
        s->adopt = xrealloc(s->adopt, s->adopt_cap * sizeof(*s->adopt));
    }
    s->adopt[s->n_adopt++] = bev;
    event_active(s->adopt_event, EV_TIMEOUT, 0);
    s->n_connections++;
    metric_gauge_add(s->connections_gauge, 1);
    if (s->n_connections >= s->max_connections && !s->paused_for_limit) {
        s->paused_for_limit = true;
        update_listener(s);
        LOG_W(LOG_MODULE, "%u connections open, accepting no more until one closes",
              s->n_connections);
    }
    return bev;
}

/*
 * Runs right after the accept callback that created the bufferevents, once
 * evhttp has wrapped each in its connection (the bufferevent's callback
 * argument): installs the close callback that returns the slot. evhttp frees
 * a new connection inside the accept callback only when it runs out of
 * memory, which the node treats as fatal anyway.
 */
static void on_adopt(evutil_socket_t fd, short what, void *arg)
{
    struct rpc_server *s = arg;
    for (size_t i = 0; i < s->n_adopt; i++) {
        void *conn = NULL;
        bufferevent_getcb(s->adopt[i], NULL, NULL, NULL, &conn);
        assert(conn != NULL);
        evhttp_connection_set_closecb(conn, on_connection_closed, s);
    }
    s->n_adopt = 0;
}

static void on_resume_accept(evutil_socket_t fd, short what, void *arg)
{
    struct rpc_server *s = arg;
    s->paused_for_fds = false;
    update_listener(s);
}

/* accept() failed: out of descriptors or buffers pauses accepting briefly,
 * instead of spinning on a listening socket that stays readable. */
static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    struct rpc_server *s = arg;
    int err = EVUTIL_SOCKET_ERROR();
    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
        LOG_W(LOG_MODULE, "accept failed: %s", evutil_socket_error_to_string(err));
        return;
    }
    if (!s->paused_for_fds)
        LOG_W(LOG_MODULE, "accept failed (%s) with %u connections open; pausing %d ms",
              evutil_socket_error_to_string(err), s->n_connections, ACCEPT_RETRY_MS);
    s->paused_for_fds = true;
    update_listener(s);
    struct timeval tv = { 0, ACCEPT_RETRY_MS * 1000 };
    evtimer_add(s->resume_event, &tv);
}

/* ---- life cycle --------------------------------------------------------- */

static uint32_t connection_budget(uint32_t wanted)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return wanted;
    uint64_t room = rl.rlim_cur > RPC_RESERVED_FDS + 1 ? rl.rlim_cur - RPC_RESERVED_FDS : 1;
    return room < wanted ? (uint32_t)room : wanted;
}

static int create_metrics(struct rpc_server *s)
{
    uint32_t series = RPC_MAX_METHODS + 1;
    int rc = metrics_add_counter(s->metrics, "rpc_requests_total",
                                 "JSON-RPC calls received, by method (unknown: not registered).",
                                 "method", series, &s->requests_family);
    if (!rc)
        rc = metrics_add_counter(s->metrics, "rpc_errors_total",
                                 "JSON-RPC calls answered with an error, by method.", "method",
                                 series, &s->errors_family);
    if (!rc)
        rc = metrics_add_histogram(
            s->metrics, "rpc_request_duration_seconds",
            "Time from receiving a JSON-RPC request to completing each call, by method.", "method",
            series, latency_bounds_s, sizeof(latency_bounds_s) / sizeof(latency_bounds_s[0]),
            &s->latency_family);
    struct metric *connections = NULL;
    if (!rc)
        rc = metrics_add_gauge(s->metrics, "rpc_http_connections",
                               "Open HTTP connections to the JSON-RPC server.", NULL, 0,
                               &connections);
    if (rc)
        return rc;
    s->connections_gauge = metric_series(connections, NULL);
    snprintf(s->unknown.name, sizeof(s->unknown.name), "%s", UNKNOWN_METHOD);
    method_metrics(s, &s->unknown);
    return TC_OK;
}

static int start_listening(struct rpc_server *s)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    int len;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (evutil_inet_pton(AF_INET, s->host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(s->opt.port);
        len = (int)sizeof(*sin);
    } else if (evutil_inet_pton(AF_INET6, s->host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(s->opt.port);
        len = (int)sizeof(*sin6);
    } else {
        LOG_E(LOG_MODULE, "invalid listen address %s (a numeric IPv4 or IPv6 address)", s->host);
        return TC_EINVAL;
    }
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;
    s->listener = evconnlistener_new_bind(s->base, NULL, NULL, flags, LISTEN_BACKLOG,
                                          (struct sockaddr *)&ss, len);
    if (!s->listener) {
        LOG_E(LOG_MODULE, "cannot listen on %s port %u: %s", s->host, (unsigned)s->opt.port,
              evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return TC_EIO;
    }
    if (!evhttp_bind_listener(s->http, s->listener)) {
        evconnlistener_free(s->listener);
        s->listener = NULL;
        return TC_EIO;
    }
    evconnlistener_set_error_cb(s->listener, on_accept_error);
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof(bound);
    if (getsockname(evconnlistener_get_fd(s->listener), (struct sockaddr *)&bound, &bound_len))
        return TC_EIO;
    s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    LOG_I(LOG_MODULE, "JSON-RPC listening on %s port %u (max %u connections, CORS %s)", s->host,
          (unsigned)s->port, s->max_connections, s->opt.cors ? "on" : "off");
    return TC_OK;
}

static int configure_http(struct rpc_server *s)
{
    s->http = evhttp_new(s->base);
    if (!s->http)
        return TC_ENOMEM;
    evhttp_set_max_body_size(s->http, (ev_ssize_t)s->opt.max_body_bytes);
    evhttp_set_max_headers_size(s->http, (ev_ssize_t)s->opt.max_header_bytes);
    struct timeval tv = { (time_t)(s->opt.timeout_ms / 1000),
                          (suseconds_t)(s->opt.timeout_ms % 1000) * 1000 };
    evhttp_set_timeout_tv(s->http, &tv);
    /* Read and discard an oversized body before answering 413, so that the
     * client sees the answer instead of a reset. */
    evhttp_set_flags(s->http, EVHTTP_SERVER_LINGERING_CLOSE);
    /* Every method reaches on_http_request, which answers 405 itself. */
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_gencb(s->http, on_http_request, s);
    evhttp_set_bevcb(s->http, on_new_connection, s);
    return TC_OK;
}

static int create_wakeup(struct rpc_server *s)
{
    if (pipe2(s->wake_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        s->wake_fds[0] = s->wake_fds[1] = -1;
        return TC_EIO;
    }
    s->wake_event = event_new(s->base, s->wake_fds[0], EV_READ | EV_PERSIST, on_wake, s);
    s->adopt_event = event_new(s->base, -1, 0, on_adopt, s);
    s->resume_event = evtimer_new(s->base, on_resume_accept, s);
    if (!s->wake_event || !s->adopt_event || !s->resume_event)
        return TC_ENOMEM;
    if (event_add(s->wake_event, NULL) != 0)
        return TC_EIO;
    return TC_OK;
}

static bool valid_options(const struct rpc_server_options *o)
{
    return o->host && o->host[0] && strlen(o->host) < 100 && o->max_body_bytes > 0 &&
           o->max_body_bytes <= (size_t)INT64_MAX && o->max_header_bytes > 0 && o->max_batch > 0 &&
           o->max_connections > 0 && o->timeout_ms > 0;
}

int rpc_server_new(struct event_base *base, const struct rpc_server_options *options,
                   struct rpc_server **out)
{
    if (!base || !options || !valid_options(options))
        return TC_EINVAL;
    struct rpc_server *s = xcalloc(1, sizeof(*s));
    s->base = base;
    s->opt = *options;
    s->host = xstrdup(options->host);
    s->opt.host = s->host;
    s->wake_fds[0] = s->wake_fds[1] = -1;
    s->max_connections = connection_budget(options->max_connections);
    pthread_mutex_init(&s->done_lock, NULL);
    s->metrics = options->metrics;
    if (!s->metrics) {
        s->metrics = metrics_new();
        s->own_metrics = true;
        if (!s->metrics) {
            rpc_server_free(s);
            return TC_ENOMEM;
        }
    }
    int rc = create_metrics(s);
    if (!rc)
        rc = create_wakeup(s);
    if (!rc)
        rc = configure_http(s);
    if (!rc)
        rc = start_listening(s);
    if (rc) {
        rpc_server_free(s);
        return rc;
    }
    *out = s;
    return TC_OK;
}

void rpc_server_free(struct rpc_server *s)
{
    if (!s)
        return;
    s->closing = true;
    /* evhttp_free frees the evhttp requests of outstanding calls. */
    for (struct rpc_request *r = s->outstanding; r; r = r->next)
        r->http = NULL;
    if (s->http)
        evhttp_free(s->http); /* frees the listener and closes every connection */
    s->listener = NULL;
    while (s->outstanding)
        free_request(s->outstanding);
    if (s->wake_event)
        event_free(s->wake_event);
    if (s->adopt_event)
        event_free(s->adopt_event);
    if (s->resume_event)
        event_free(s->resume_event);
    for (int i = 0; i < 2; i++) {
        if (s->wake_fds[i] >= 0)
            close(s->wake_fds[i]);
    }
    for (uint32_t i = 0; i < METHOD_SLOTS; i++)
        free(s->slots[i]);
    free(s->adopt);
    if (s->own_metrics)
        metrics_free(s->metrics);
    pthread_mutex_destroy(&s->done_lock);
    free(s->host);
    free(s);
}

uint16_t rpc_server_port(const struct rpc_server *server)
{
    return server->port;
}

struct metrics *rpc_server_metrics(struct rpc_server *server)
{
    return server->metrics;
}
