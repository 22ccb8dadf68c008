/*
 * rpc.h - the node's HTTP JSON-RPC 2.0 server, method registry and the
 * parameter and result helpers that method writers use.
 *
 * One struct rpc_server listens on host:port on a caller-owned libevent loop
 * (the node's one loop, DESIGN.md §8) and serves:
 *   POST /          JSON-RPC 2.0, single requests and batches
 *                   (Content-Type application/json, as geth requires)
 *   GET  /health    200 {"status":"ok"}
 *   GET  /metrics   the metrics registry in Prometheus text format 0.0.4
 *   OPTIONS /       CORS preflight, when CORS is on
 * Other paths get 404, other HTTP methods 405, other content types 415 (all
 * with a short text body, connection kept). A body over max_body_bytes gets
 * 413 and the connection is closed: with Content-Length the rest of the body
 * is read and discarded first (never buffered), a chunked body is cut off
 * once it passes the limit. Malformed HTTP and header blocks over
 * max_header_bytes get 400 and a close; a connection silent for timeout_ms
 * is closed.
 *
 * JSON-RPC rules (https://www.jsonrpc.org/specification) and their messages:
 *   -32700 "parse error"                      body is not one JSON value
 *   -32600 "invalid request: <what>"          not an object, jsonrpc not
 *          "2.0", method not a string, id not a string/number/null, params
 *          not an array/object/null; also "empty batch" and
 *          "batch too large: more than <max_batch> requests" (one error for
 *          the whole POST, "id": null)
 *   -32601 "the method <name> does not exist/is not available" (geth's words)
 *   -32602 invalid params: from the handler, usually via rpc_param_* below
 *   -32603 internal error: from the handler
 *   -32000 and others (3 for geth's "execution reverted") from handlers
 * An error whose id could not be read carries "id": null. A request without
 * "id" is a notification: its handler runs, nothing is answered; a POST of
 * notifications only gets 200 with an empty body. A batch is answered with one
 * array, in request order, when all of its calls have completed.
 *
 * Methods. rpc_register() binds a name to a handler. The handler is called on
 * the loop thread with the call's params (NULL when absent or null, else an
 * array or object) and must complete the call exactly once, with
 * rpc_call_result() or rpc_call_error(), either before it returns or later
 * from any thread (a deferred call, e.g. after sender recovery on the thread
 * pool). params stays valid until the call is completed. If the client has
 * gone by then, the completion is dropped. Handlers must not block.
 *
 * Threads: everything here runs on the loop thread except rpc_call_result,
 * rpc_call_error(f) and the rpc_param_* and result builders, which may run on
 * any thread. rpc_server_free cancels calls still outstanding; the caller
 * must make sure no thread completes a call after that (stop the workers
 * first).
 *
 * Metrics (in options.metrics, or the server's own registry):
 * rpc_requests_total{method}, rpc_errors_total{method},
 * rpc_request_duration_seconds{method} and rpc_http_connections. Names that
 * are not registered count as method="unknown", so clients cannot add
 * series. One server per registry (the names would collide: TC_EEXIST).
 *
 * Ids are echoed as parsed: strings exactly, numbers through a double (so
 * integers beyond 2^53 lose precision, as in most JSON stacks).
 *
 * Logging: method names, error codes and peer addresses only; bodies and
 * params are never logged (they carry transactions).
 *
 * Usage (node start-up, on the loop thread):
 *     rpc_raise_fd_limit(NULL);
 *     struct rpc_server_options o;
 *     rpc_server_options_init(&o);
 *     o.host = "0.0.0.0";
 *     o.port = 20200;
 *     o.metrics = node_metrics;
 *     struct rpc_server *rpc;
 *     if (rpc_server_new(base, &o, &rpc) != TC_OK) ...;
 *     rpc_register(rpc, "eth_chainId", eth_chain_id, node);
 *     ...run the loop..., then rpc_server_free(rpc);
 *
 *     static void eth_chain_id(struct rpc_call *call, const cJSON *params, void *ctx)
 *     {
 *         const struct node *n = ctx;
 *         rpc_call_result(call, rpc_quantity_u64(n->chain_id));
 *     }
 */
#ifndef TC_RPC_RPC_H
#define TC_RPC_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/bytes.h"
#include "base/u256.h"

struct event_base;
struct metrics;

/* JSON-RPC 2.0 and Ethereum error codes. */
#define RPC_PARSE_ERROR        (-32700)
#define RPC_INVALID_REQUEST    (-32600)
#define RPC_METHOD_NOT_FOUND   (-32601)
#define RPC_INVALID_PARAMS     (-32602)
#define RPC_INTERNAL_ERROR     (-32603)
#define RPC_SERVER_ERROR       (-32000) /* txpool rejections and other server errors */
#define RPC_EXECUTION_REVERTED 3        /* geth: "execution reverted: ...", data "0x..." */

/*
 * Defaults. 5 MiB of body is geth's limit: a maximal transaction (128 KiB,
 * hex-encoded 256 KiB) or a batch of a thousand ordinary calls fits easily,
 * and a client tuned against geth behaves the same here.
 */
#define RPC_DEFAULT_MAX_BODY_BYTES   (5u * 1024 * 1024)
#define RPC_DEFAULT_MAX_HEADER_BYTES (16u * 1024)
#define RPC_DEFAULT_MAX_BATCH        1000u
#define RPC_DEFAULT_MAX_CONNECTIONS  16384u
#define RPC_DEFAULT_TIMEOUT_MS       30000u
/* File descriptors kept out of the RPC connection budget (P2P, RocksDB, logs). */
#define RPC_RESERVED_FDS        256u
#define RPC_MAX_METHODS         512u
#define RPC_MAX_METHOD_NAME_LEN 64u
/* Size of the error-message buffers of the rpc_param_* helpers. */
#define RPC_ERRMSG_LEN 160u

struct rpc_server_options {
    const char *host;        /* numeric address to bind, e.g. "127.0.0.1" */
    uint16_t port;           /* 0: an ephemeral port (see rpc_server_port) */
    size_t max_body_bytes;   /* larger bodies get 413 */
    size_t max_header_bytes; /* larger header blocks get 400 */
    uint32_t max_batch;      /* more requests in one batch get one -32600 */
    /*
     * Open connections beyond this wait in the kernel's accept queue. The
     * effective bound is also kept below RLIMIT_NOFILE minus
     * RPC_RESERVED_FDS (see rpc_raise_fd_limit).
     */
    uint32_t max_connections;
    /* Read/write inactivity timeout per connection, idle keep-alive included. */
    uint32_t timeout_ms;
    bool cors;               /* Access-Control-Allow-Origin: * and preflight */
    struct metrics *metrics; /* registry for the rpc_* metrics and /metrics; NULL: own */
};

struct rpc_server;
struct rpc_call;

/* Handler of one method; see the header comment for its contract. */
typedef void (*rpc_handler_fn)(struct rpc_call *call, const cJSON *params, void *ctx);

/* Fills *o with the defaults above, host "127.0.0.1", port 0, CORS off. */
void rpc_server_options_init(struct rpc_server_options *o);

/*
 * Raises this process's soft RLIMIT_NOFILE to its hard limit, so that many
 * connections can be open at once. *limit (optional) gets the new soft limit.
 * Returns TC_OK or TC_EIO.
 */
int rpc_raise_fd_limit(uint64_t *limit);

/*
 * Creates the server and starts listening on base (connections are served
 * once the caller runs the loop). *out gets the server (free with
 * rpc_server_free). Returns TC_OK, TC_EINVAL (bad options or host) or TC_EIO
 * (bind/listen failed, see the log).
 */
int rpc_server_new(struct event_base *base, const struct rpc_server_options *options,
                   struct rpc_server **out);

/* Stops listening, closes connections, cancels outstanding calls, frees. On
 * the loop thread (or with the loop stopped). NULL is a no-op. */
void rpc_server_free(struct rpc_server *server);

/* The bound TCP port (the ephemeral one when options.port was 0). */
uint16_t rpc_server_port(const struct rpc_server *server);

/* The registry behind /metrics (the caller's, or the server's own). */
struct metrics *rpc_server_metrics(struct rpc_server *server);

/*
 * Registers `method` (copied; 1..RPC_MAX_METHOD_NAME_LEN bytes of
 * [A-Za-z0-9_], not starting with "rpc.") with handler fn and its ctx
 * (borrowed; must outlive the server). Returns TC_OK, TC_EINVAL, TC_EEXIST
 * (name taken) or TC_EFULL (RPC_MAX_METHODS reached).
 */
int rpc_register(struct rpc_server *server, const char *method, rpc_handler_fn fn, void *ctx);

/*
 * Completes a call with a result (ownership transferred; NULL means JSON
 * null). Any thread; exactly once per call, after which the call must not be
 * touched.
 */
void rpc_call_result(struct rpc_call *call, cJSON *result);
/*
 * Completes a call with an error: code (0 is not an error code and becomes
 * -32603), message (copied) and optional data (ownership transferred, NULL
 * for none). Any thread; exactly once per call.
 */
void rpc_call_error(struct rpc_call *call, int code, const char *message, cJSON *data);
/* rpc_call_error with a printf-style message (truncated to 512 bytes). */
void rpc_call_errorf(struct rpc_call *call, int code, cJSON *data, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The called method's name (valid until the call completes). */
const char *rpc_call_method(const struct rpc_call *call);

/* ---- parameters ---------------------------------------------------------
 *
 * Each rpc_param_* function checks one JSON value and returns TC_OK, or
 * TC_EINVAL / TC_ERANGE with a message for -32602 in err (RPC_ERRMSG_LEN
 * bytes, geth's wording where geth has one, e.g. "hex string without 0x
 * prefix"). Outputs are written only on success. Quantities follow the
 * Ethereum execution API: "0x" then 1..64 hex digits with no leading zero
 * ("0x0" is zero; upper-case digits and "0X" are accepted, as geth does).
 */

/* params[index], or NULL when params is not an array or is too short. */
const cJSON *rpc_param_at(const cJSON *params, size_t index);
/*
 * Checks that params is absent/empty or an array of min_count..max_count
 * values. Errors: "missing value for required argument <i>", "too many
 * arguments, want at most <n>", "expected an array of parameters".
 */
int rpc_params_check(const cJSON *params, size_t min_count, size_t max_count, char *err);
/* Completes call with -32602 "invalid argument <index>: <err>". */
void rpc_call_invalid_param(struct rpc_call *call, size_t index, const char *err);

int rpc_param_quantity_u64(const cJSON *item, uint64_t *out, char *err);
int rpc_param_quantity_u256(const cJSON *item, u256 *out, char *err);
/*
 * 0x-prefixed hex data of even length, at most max_bytes bytes; out is
 * initialised here and holds the bytes on success (free with bytes_free).
 * Also TC_ETOOBIG (longer than max_bytes) and TC_ENOMEM.
 */
int rpc_param_data(const cJSON *item, size_t max_bytes, struct bytes *out, char *err);
/* Exactly len bytes of 0x-prefixed hex (an address: 20, a hash: 32). */
int rpc_param_fixed(const cJSON *item, uint8_t *out, size_t len, char *err);
int rpc_param_bool(const cJSON *item, bool *out, char *err);

enum rpc_block_kind {
    RPC_BLOCK_LATEST,
    RPC_BLOCK_EARLIEST,
    RPC_BLOCK_PENDING,
    RPC_BLOCK_SAFE,
    RPC_BLOCK_FINALIZED,
    RPC_BLOCK_NUMBER, /* number is set */
    RPC_BLOCK_HASH    /* hash and require_canonical are set */
};

struct rpc_block_ref {
    enum rpc_block_kind kind;
    uint64_t number;
    uint8_t hash[32];
    bool require_canonical;
};

/*
 * A block parameter: "latest", "earliest", "pending", "safe", "finalized", a
 * quantity (at most 2^63 - 1, as geth), or when allow_object the EIP-1898
 * object {"blockNumber": q} or {"blockHash": h, "requireCanonical": b}.
 * An absent item (NULL) means "latest".
 */
int rpc_param_block(const cJSON *item, bool allow_object, struct rpc_block_ref *out, char *err);

/* ---- results ------------------------------------------------------------
 * New cJSON values for rpc_call_result (caller owns them until handed over).
 * They exit the process on out-of-memory, as node code does.
 */

/* Compact quantity: "0x0", "0x1f". */
cJSON *rpc_quantity_u64(uint64_t v);
cJSON *rpc_quantity_u256(u256 v);
/* "0x" and two lower-case hex digits per byte ("0x" for no bytes). */
cJSON *rpc_data(const uint8_t *data, size_t len);
cJSON *rpc_null(void);

#endif
