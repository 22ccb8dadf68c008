/*
 * rpc_client.h - a small blocking JSON-RPC 2.0 client over HTTP/1.1 for the
 * `teechain` CLI (plain sockets; one connection per call, "Connection:
 * close").
 *
 * Usage:
 *     struct rpc_client c;
 *     cJSON *result = NULL;
 *     if (rpc_client_init(&c, "http://127.0.0.1:20200", 10000) != 0 ||
 *         rpc_client_call(&c, "eth_blockNumber", NULL, &result) != 0)
 *         fprintf(stderr, "%s\n", c.err);
 *     ...
 *     cJSON_Delete(result);
 *
 * Only "http://HOST[:PORT][/PATH]" URLs are accepted (HOST a name, an IPv4
 * literal or a bracketed IPv6 literal; PORT defaults to 80, PATH to "/").
 * Every call is bounded: timeout_ms covers connecting, sending and receiving
 * the whole response (name resolution with getaddrinfo is not: use an IP
 * literal where that matters); the response is at most max_response_bytes
 * (headers included). Content-Length, chunked and close-delimited bodies are read.
 *
 * Errors (returned, and described in c.err, e.g. "cannot connect to
 * http://127.0.0.1:20200: Connection refused"):
 *   TC_EINVAL    bad URL or arguments
 *   TC_EIO       cannot resolve or connect, socket error, HTTP status not 200
 *   TC_ETIMEOUT  no complete response within timeout_ms
 *   TC_ETOOBIG   response larger than max_response_bytes
 *   TC_ECORRUPT  not HTTP, not JSON, or not a JSON-RPC 2.0 response
 *   TC_EPERM     the server answered with a JSON-RPC error object; its code
 *                is in c.rpc_error_code and its message in c.err
 * The client is not thread-safe; distinct clients may be used at once.
 */
#ifndef TC_CLI_RPC_CLIENT_H
#define TC_CLI_RPC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define RPC_CLIENT_DEFAULT_URL          "http://127.0.0.1:20200"
#define RPC_CLIENT_DEFAULT_TIMEOUT_MS   10000u
#define RPC_CLIENT_DEFAULT_MAX_RESPONSE (32u << 20)
#define RPC_CLIENT_MAX_URL              512
#define RPC_CLIENT_METHOD_NOT_FOUND     (-32601)

struct rpc_client {
    char url[RPC_CLIENT_MAX_URL]; /* as given, for messages */
    char host[256];               /* without brackets */
    char port[8];
    char path[RPC_CLIENT_MAX_URL];
    uint32_t timeout_ms;       /* per call */
    size_t max_response_bytes; /* per response, headers included */
    uint64_t next_id;          /* JSON-RPC id of the next call */
    bool has_rpc_error;        /* the last call failed with a JSON-RPC error */
    int64_t rpc_error_code;    /* its code, when has_rpc_error */
    char err[512];             /* why the last call failed */
};

/* Parses url and sets the defaults (timeout_ms, max_response_bytes =
 * RPC_CLIENT_DEFAULT_MAX_RESPONSE). Returns 0 or TC_EINVAL (c->err says why). */
int rpc_client_init(struct rpc_client *c, const char *url, uint32_t timeout_ms);

/*
 * Calls method with params (a JSON array or object, or NULL for []). params
 * is borrowed, not freed. On success *result is the "result" member, detached
 * (the caller frees it with cJSON_Delete; a JSON null is a cJSON null item,
 * never NULL). On failure *result is NULL and the code is one of the above.
 */
int rpc_client_call(struct rpc_client *c, const char *method, const cJSON *params, cJSON **result);

/*
 * The transport alone: POSTs body (a JSON text) and returns the HTTP body of
 * a 200 answer as a NUL-terminated malloc'ed string in *response (caller
 * frees), with *response_len its length. Same codes as rpc_client_call,
 * except TC_EPERM and TC_ECORRUPT for JSON.
 */
int rpc_client_post(struct rpc_client *c, const char *body, size_t body_len, char **response,
                    size_t *response_len);

#endif
