/* rpc_client.c - blocking JSON-RPC over HTTP/1.1 with a deadline per call. */
#include "cli/rpc_client.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/error.h"

#define RPC_CLIENT_READ_CHUNK 16384

/*
 * Records why a call failed: fmt has two %s, the URL and a detail. Messages
 * longer than c->err are cut, which is acceptable for a diagnostic; noinline
 * keeps GCC from flagging that possible truncation at every call site.
 */
__attribute__((noinline)) static int fail(struct rpc_client *c, int code, const char *fmt,
                                          const char *detail)
{
    snprintf(c->err, sizeof(c->err), fmt, c->url, detail);
    return code;
}

int rpc_client_init(struct rpc_client *c, const char *url, uint32_t timeout_ms)
{
    memset(c, 0, sizeof(*c));
    c->timeout_ms = timeout_ms;
    c->max_response_bytes = RPC_CLIENT_DEFAULT_MAX_RESPONSE;
    c->next_id = 1;
    if (url == NULL || strlen(url) >= sizeof(c->url)) {
        snprintf(c->err, sizeof(c->err), "invalid RPC URL (empty or too long)");
        return TC_EINVAL;
    }
    snprintf(c->url, sizeof(c->url), "%s", url);
    if (strncmp(url, "http://", 7) != 0)
        return fail(c, TC_EINVAL, "invalid RPC URL %s%s: only http://HOST:PORT is supported", "");
    const char *p = url + 7;
    const char *host_end;
    if (*p == '[') {
        host_end = strchr(p, ']');
        if (host_end == NULL)
            return fail(c, TC_EINVAL, "invalid RPC URL %s%s: unterminated [", "");
        p++;
    } else {
        host_end = p + strcspn(p, ":/");
    }
    size_t host_len = (size_t)(host_end - p);
    if (host_len == 0 || host_len >= sizeof(c->host))
        return fail(c, TC_EINVAL, "invalid RPC URL %s%s: bad host", "");
    memcpy(c->host, p, host_len);
    c->host[host_len] = '\0';
    p = host_end + (*host_end == ']');
    snprintf(c->port, sizeof(c->port), "80");
    if (*p == ':') {
        p++;
        size_t digits = strspn(p, "0123456789");
        long port = digits > 0 && digits <= 5 ? strtol(p, NULL, 10) : 0;
        if (port < 1 || port > 65535)
            return fail(c, TC_EINVAL, "invalid RPC URL %s%s: bad port", "");
        snprintf(c->port, sizeof(c->port), "%ld", port);
        p += digits;
    }
    if (*p != '\0' && *p != '/')
        return fail(c, TC_EINVAL, "invalid RPC URL %s%s: unexpected characters", "");
    snprintf(c->path, sizeof(c->path), "%s", *p == '/' ? p : "/");
    return TC_OK;
}

static int remaining_ms(uint64_t deadline_ms)
{
    uint64_t now = clock_monotonic_ms();
    return now >= deadline_ms ? 0 : (int)(deadline_ms - now);
}

/* Waits for events on fd until the deadline. 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, uint64_t deadline_ms)
{
    for (;;) {
        int left = remaining_ms(deadline_ms);
        if (left == 0)
            return 0;
        struct pollfd pfd = { .fd = fd, .events = events };
        int n = poll(&pfd, 1, left);
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 ? -1 : (n > 0 ? 1 : 0);
    }
}

static int connect_one(const struct addrinfo *ai, uint64_t deadline_ms, int *fd_out, int *err_out)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        *err_out = errno;
        return TC_EIO;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            *err_out = errno;
            goto fail_close;
        }
        int w = wait_fd(fd, POLLOUT, deadline_ms);
        if (w <= 0) {
            *err_out = w == 0 ? ETIMEDOUT : errno;
            close(fd);
            return w == 0 ? TC_ETIMEOUT : TC_EIO;
        }
        int so_error = 0;
        socklen_t len = sizeof(so_error);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0) {
            *err_out = so_error != 0 ? so_error : errno;
            goto fail_close;
        }
    }
    *fd_out = fd;
    return TC_OK;
fail_close:
    close(fd);
    return TC_EIO;
}

static int open_connection(struct rpc_client *c, uint64_t deadline_ms, int *fd_out)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *list = NULL;
    int gai = getaddrinfo(c->host, c->port, &hints, &list);
    if (gai != 0)
        return fail(c, TC_EIO, "cannot resolve %s: %s", gai_strerror(gai));
    int rc = TC_EIO, last_errno = ECONNREFUSED;
    for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        rc = connect_one(ai, deadline_ms, fd_out, &last_errno);
        if (rc == TC_OK || rc == TC_ETIMEOUT)
            break;
    }
    freeaddrinfo(list);
    if (rc == TC_ETIMEOUT)
        return fail(c, rc, "cannot connect to %s: %s", "timed out");
    if (rc != TC_OK)
        return fail(c, rc, "cannot connect to %s: %s", strerror(last_errno));
    return TC_OK;
}

static int send_all(struct rpc_client *c, int fd, const char *data, size_t len,
                    uint64_t deadline_ms)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(fd, data + done, len - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int w = wait_fd(fd, POLLOUT, deadline_ms);
            if (w == 0)
                return fail(c, TC_ETIMEOUT, "%s: %s", "timed out sending the request");
            if (w > 0)
                continue;
        }
        return fail(c, TC_EIO, "%s: cannot send the request: %s", strerror(errno));
    }
    return TC_OK;
}

/* Position just after the blank line ending the headers, or 0 if not yet. */
static size_t header_end(const char *buf, size_t len)
{
    for (size_t i = 3; i < len; i++) {
        if (buf[i - 3] == '\r' && buf[i - 2] == '\n' && buf[i - 1] == '\r' && buf[i] == '\n')
            return i + 1;
    }
    return 0;
}

/* The value of header `name` in the header block, or NULL; *len its length. */
static const char *find_header(const char *hdr, size_t hdr_len, const char *name, size_t *len)
{
    size_t name_len = strlen(name);
    const char *end = hdr + hdr_len;
    const char *line = memchr(hdr, '\n', hdr_len);
    while (line != NULL && ++line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (eol == NULL)
            break;
        if ((size_t)(eol - line) > name_len && strncasecmp(line, name, name_len) == 0 &&
            line[name_len] == ':') {
            const char *v = line + name_len + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *len = (size_t)(ve - v);
            return v;
        }
        line = eol;
    }
    return NULL;
}

/*
 * Decodes a chunked body in in[0..len) into out. Returns 1 when complete, 0
 * when more input is needed, TC_ECORRUPT when malformed.
 */
static int dechunk(const char *in, size_t len, struct bytes *out)
{
    size_t pos = 0;
    bytes_clear(out);
    for (;;) {
        const char *eol = memchr(in + pos, '\n', len - pos);
        if (eol == NULL)
            return 0;
        size_t digits = 0;
        uint64_t size = 0;
        while (pos + digits < len && isxdigit((unsigned char)in[pos + digits])) {
            char ch = in[pos + digits];
            unsigned v = (unsigned)(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
            if (++digits > 15)
                return TC_ECORRUPT;
            size = size * 16 + v;
        }
        if (digits == 0)
            return TC_ECORRUPT;
        pos = (size_t)(eol - in) + 1;
        if (size == 0) {
            /* Trailers (ignored) end with an empty line. */
            for (;;) {
                const char *tl = memchr(in + pos, '\n', len - pos);
                if (tl == NULL)
                    return 0;
                size_t line_len = (size_t)(tl - (in + pos));
                pos = (size_t)(tl - in) + 1;
                if (line_len == 0 || (line_len == 1 && in[pos - 2] == '\r'))
                    return 1;
            }
        }
        if (len - pos < size + 2)
            return 0;
        if (bytes_append(out, in + pos, (size_t)size) != TC_OK)
            return TC_ENOMEM;
        pos += (size_t)size;
        if (in[pos] != '\r' || in[pos + 1] != '\n')
            return TC_ECORRUPT;
        pos += 2;
    }
}

struct http_response {
    int status;
    size_t body_start;
    bool chunked;
    bool has_length;
    uint64_t content_length;
};

static int parse_head(const char *buf, size_t head_len, struct http_response *r)
{
    if (head_len < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
        return TC_ECORRUPT;
    if (!isdigit((unsigned char)buf[9]) || !isdigit((unsigned char)buf[10]) ||
        !isdigit((unsigned char)buf[11]))
        return TC_ECORRUPT;
    r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    r->body_start = head_len;
    size_t vlen = 0;
    const char *te = find_header(buf, head_len, "Transfer-Encoding", &vlen);
    r->chunked = te != NULL && vlen == 7 && strncasecmp(te, "chunked", 7) == 0;
    const char *cl = find_header(buf, head_len, "Content-Length", &vlen);
    r->has_length = false;
    if (cl != NULL && !r->chunked) {
        if (vlen == 0 || vlen > 15)
            return TC_ECORRUPT;
        uint64_t n = 0;
        for (size_t i = 0; i < vlen; i++) {
            if (!isdigit((unsigned char)cl[i]))
                return TC_ECORRUPT;
            n = n * 10 + (uint64_t)(cl[i] - '0');
        }
        r->has_length = true;
        r->content_length = n;
    }
    return TC_OK;
}

/* 1: the response in buf is complete (body in *body), 0: need more. */
static int response_complete(struct rpc_client *c, const struct bytes *buf, bool eof,
                             struct http_response *r, struct bytes *body)
{
    const char *data = (const char *)buf->ptr;
    size_t head = header_end(data, buf->len);
    if (head == 0)
        return eof ? fail(c, TC_ECORRUPT, "%s: %s", "connection closed before a full response") : 0;
    if (parse_head(data, head, r) != TC_OK)
        return fail(c, TC_ECORRUPT, "%s: %s", "malformed HTTP response");
    size_t have = buf->len - head;
    if (r->chunked) {
        int d = dechunk(data + head, have, body);
        if (d < 0)
            return fail(c, d == TC_ENOMEM ? TC_ENOMEM : TC_ECORRUPT, "%s: %s",
                        "malformed chunked body");
        if (d == 0 && eof)
            return fail(c, TC_ECORRUPT, "%s: %s", "connection closed inside a chunked body");
        return d;
    }
    if (r->has_length) {
        if (have < r->content_length)
            return eof ? fail(c, TC_ECORRUPT, "%s: %s", "connection closed before the body ended")
                       : 0;
        bytes_clear(body);
        return bytes_append(body, data + head, (size_t)r->content_length) == TC_OK ? 1 : TC_ENOMEM;
    }
    if (!eof)
        return 0;
    bytes_clear(body);
    return bytes_append(body, data + head, have) == TC_OK ? 1 : TC_ENOMEM;
}

static int read_response(struct rpc_client *c, int fd, uint64_t deadline_ms,
                         struct http_response *r, struct bytes *body)
{
    struct bytes buf;
    bytes_init(&buf);
    int rc = 0;
    bool eof = false;
    while (rc == 0) {
        if (bytes_reserve(&buf, RPC_CLIENT_READ_CHUNK) != TC_OK) {
            rc = TC_ENOMEM;
            break;
        }
        ssize_t n = recv(fd, buf.ptr + buf.len, RPC_CLIENT_READ_CHUNK, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int w = wait_fd(fd, POLLIN, deadline_ms);
            if (w == 0)
                rc = fail(c, TC_ETIMEOUT, "%s: %s", "no complete response in time");
            else if (w < 0)
                rc = fail(c, TC_EIO, "%s: %s", strerror(errno));
            continue;
        }
        if (n < 0) {
            rc = fail(c, TC_EIO, "%s: cannot read the response: %s", strerror(errno));
            break;
        }
        if (n == 0)
            eof = true;
        buf.len += (size_t)n;
        if (buf.len > c->max_response_bytes) {
            char limit[32];
            snprintf(limit, sizeof(limit), "%zu", c->max_response_bytes);
            rc = fail(c, TC_ETOOBIG, "%s: response larger than %s bytes", limit);
            break;
        }
        rc = response_complete(c, &buf, eof, r, body);
        if (rc == 0 && eof)
            rc = fail(c, TC_ECORRUPT, "%s: %s", "truncated response");
    }
    bytes_free(&buf);
    return rc < 0 ? rc : TC_OK;
}

int rpc_client_post(struct rpc_client *c, const char *body, size_t body_len, char **response,
                    size_t *response_len)
{
    uint64_t deadline_ms = clock_monotonic_ms() + c->timeout_ms;
    char head[RPC_CLIENT_MAX_URL + 512];
    struct http_response r = { 0 };
    struct bytes out;
    int fd = -1;
    *response = NULL;
    *response_len = 0;
    c->has_rpc_error = false;
    bool ipv6 = strchr(c->host, ':') != NULL;
    int head_len = snprintf(head, sizeof(head),
                            "POST %s HTTP/1.1\r\nHost: %s%s%s:%s\r\n"
                            "Content-Type: application/json\r\nAccept: application/json\r\n"
                            "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                            c->path, ipv6 ? "[" : "", c->host, ipv6 ? "]" : "", c->port, body_len);
    if (head_len < 0 || (size_t)head_len >= sizeof(head))
        return fail(c, TC_EINVAL, "%s: %s", "request header too long");
    int rc = open_connection(c, deadline_ms, &fd);
    if (rc != TC_OK)
        return rc;
    bytes_init(&out);
    rc = send_all(c, fd, head, (size_t)head_len, deadline_ms);
    if (rc == TC_OK)
        rc = send_all(c, fd, body, body_len, deadline_ms);
    if (rc == TC_OK)
        rc = read_response(c, fd, deadline_ms, &r, &out);
    close(fd);
    if (rc != TC_OK)
        goto out_free;
    if (r.status != 200) {
        char status[64];
        snprintf(status, sizeof(status), "HTTP status %d", r.status);
        rc = fail(c, TC_EIO, "%s: %s", status);
        goto out_free;
    }
    if (bytes_push(&out, '\0') != TC_OK) {
        rc = TC_ENOMEM;
        goto out_free;
    }
    *response_len = out.len - 1;
    *response = (char *)bytes_take(&out, &(size_t){ 0 });
    return TC_OK;
out_free:
    bytes_free(&out);
    return rc;
}

static int rpc_error(struct rpc_client *c, const cJSON *error)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(error, "message");
    c->has_rpc_error = true;
    c->rpc_error_code = cJSON_IsNumber(code) ? (int64_t)code->valuedouble : 0;
    snprintf(c->err, sizeof(c->err), "JSON-RPC error %lld: %s", (long long)c->rpc_error_code,
             cJSON_IsString(message) ? message->valuestring : "(no message)");
    return TC_EPERM;
}

int rpc_client_call(struct rpc_client *c, const char *method, const cJSON *params, cJSON **result)
{
    int rc = TC_ENOMEM;
    char *text = NULL, *response = NULL;
    size_t response_len = 0;
    cJSON *reply = NULL;
    *result = NULL;
    cJSON *req = cJSON_CreateObject();
    cJSON *p = params != NULL ? cJSON_Duplicate(params, 1) : cJSON_CreateArray();
    if (req == NULL || p == NULL)
        goto out_free;
    if (!cJSON_AddStringToObject(req, "jsonrpc", "2.0") ||
        !cJSON_AddNumberToObject(req, "id", (double)c->next_id++) ||
        !cJSON_AddStringToObject(req, "method", method) || !cJSON_AddItemToObject(req, "params", p))
        goto out_free;
    p = NULL;
    text = cJSON_PrintUnformatted(req);
    if (text == NULL)
        goto out_free;
    rc = rpc_client_post(c, text, strlen(text), &response, &response_len);
    if (rc != TC_OK)
        goto out_free;
    reply = cJSON_ParseWithLength(response, response_len);
    if (!cJSON_IsObject(reply)) {
        rc = fail(c, TC_ECORRUPT, "%s: %s", "response is not a JSON-RPC object");
        goto out_free;
    }
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(reply, "error");
    if (error != NULL && !cJSON_IsNull(error)) {
        rc = rpc_error(c, error);
        goto out_free;
    }
    *result = cJSON_DetachItemFromObjectCaseSensitive(reply, "result");
    if (*result == NULL)
        rc = fail(c, TC_ECORRUPT, "%s: %s", "response has neither result nor error");
    else
        rc = TC_OK;
out_free:
    cJSON_Delete(reply);
    free(response);
    free(text);
    cJSON_Delete(p);
    cJSON_Delete(req);
    return rc;
}
