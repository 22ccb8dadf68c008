/*
 * test_rpc_server.c - the JSON-RPC 2.0 rules, batches, deferred calls and the
 * HTTP surface (paths, methods, content types, CORS, keep-alive, /health,
 * /metrics), over real HTTP on 127.0.0.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "base/log.h"
#include "rpc/metrics.h"
#include "rpc/rpc_test_util.h"

/* ---- methods under test ------------------------------------------------- */

static void m_echo(struct rpc_call *call, const cJSON *params, void *ctx)
{
    rpc_call_result(call, params ? cJSON_Duplicate(params, true) : NULL);
}

static void m_add(struct rpc_call *call, const cJSON *params, void *ctx)
{
    char err[RPC_ERRMSG_LEN];
    uint64_t a, b;
    if (rpc_params_check(params, 2, 2, err)) {
        rpc_call_error(call, RPC_INVALID_PARAMS, err, NULL);
        return;
    }
    if (rpc_param_quantity_u64(rpc_param_at(params, 0), &a, err)) {
        rpc_call_invalid_param(call, 0, err);
        return;
    }
    if (rpc_param_quantity_u64(rpc_param_at(params, 1), &b, err)) {
        rpc_call_invalid_param(call, 1, err);
        return;
    }
    rpc_call_result(call, rpc_quantity_u64(a + b));
}

static void m_revert(struct rpc_call *call, const cJSON *params, void *ctx)
{
    rpc_call_error(call, RPC_EXECUTION_REVERTED, "execution reverted: nope",
                   rpc_data((const uint8_t *)"\x08\xc3\x79\xa0", 4));
}

static void m_nonce(struct rpc_call *call, const cJSON *params, void *ctx)
{
    /* Handlers run on the loop thread, where cmocka cannot fail a test: a
     * wrong name shows up as a wrong message instead. */
    bool named = strcmp(rpc_call_method(call), "test_nonce") == 0;
    rpc_call_error(call, RPC_SERVER_ERROR, named ? "nonce too low" : "wrong method name", NULL);
}

static void m_internal(struct rpc_call *call, const cJSON *params, void *ctx)
{
    rpc_call_errorf(call, RPC_INTERNAL_ERROR, NULL, "internal error: %s", "storage");
}

/* Deferred calls: a small worker pool completes them off the loop thread,
 * after a sleep that depends on the value, so that completions arrive out of
 * request order. */
#define DEFER_WORKERS 2
#define DEFER_QUEUE   4096

struct deferred {
    struct rpc_call *call;
    uint64_t value;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    struct deferred jobs[DEFER_QUEUE];
    size_t head, count;
    bool stop;
    pthread_t threads[DEFER_WORKERS];
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER, .ready = PTHREAD_COND_INITIALIZER };

static void *deferred_worker(void *arg)
{
    for (;;) {
        pthread_mutex_lock(&pool.lock);
        while (pool.count == 0 && !pool.stop)
            pthread_cond_wait(&pool.ready, &pool.lock);
        if (pool.count == 0) {
            pthread_mutex_unlock(&pool.lock);
            return NULL;
        }
        struct deferred d = pool.jobs[pool.head];
        pool.head = (pool.head + 1) % DEFER_QUEUE;
        pool.count--;
        pthread_mutex_unlock(&pool.lock);
        usleep((useconds_t)(200 * (5 - d.value % 5)));
        rpc_call_result(d.call, rpc_quantity_u64(d.value * 10));
    }
}

static void m_defer(struct rpc_call *call, const cJSON *params, void *ctx)
{
    char err[RPC_ERRMSG_LEN];
    uint64_t v;
    if (rpc_param_quantity_u64(rpc_param_at(params, 0), &v, err)) {
        rpc_call_invalid_param(call, 0, err);
        return;
    }
    pthread_mutex_lock(&pool.lock);
    bool full = pool.count == DEFER_QUEUE;
    if (!full) {
        pool.jobs[(pool.head + pool.count) % DEFER_QUEUE] = (struct deferred){ call, v };
        pool.count++;
        pthread_cond_signal(&pool.ready);
    }
    pthread_mutex_unlock(&pool.lock);
    if (full)
        rpc_call_error(call, RPC_SERVER_ERROR, "busy", NULL);
}

static void start_workers(void)
{
    pool.stop = false;
    for (int i = 0; i < DEFER_WORKERS; i++)
        assert_int_equal(pthread_create(&pool.threads[i], NULL, deferred_worker, NULL), 0);
}

/* Workers finish their queue, then exit: no completion after the server is freed. */
static void stop_workers(void)
{
    pthread_mutex_lock(&pool.lock);
    pool.stop = true;
    pthread_cond_broadcast(&pool.ready);
    pthread_mutex_unlock(&pool.lock);
    for (int i = 0; i < DEFER_WORKERS; i++)
        pthread_join(pool.threads[i], NULL);
}

/* A call held until the test completes it from the test thread. */
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rpc_call *held_call;

static void m_hold(struct rpc_call *call, const cJSON *params, void *ctx)
{
    pthread_mutex_lock(&held_lock);
    held_call = call;
    pthread_mutex_unlock(&held_lock);
}

static struct rpc_call *take_held_call(void)
{
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&held_lock);
        struct rpc_call *c = held_call;
        held_call = NULL;
        pthread_mutex_unlock(&held_lock);
        if (c)
            return c;
        usleep(1000);
    }
    return NULL;
}

static struct rpc_fixture fx;

static int start_server(bool cors)
{
    struct rpc_server_options o;
    rpc_server_options_init(&o);
    o.cors = cors;
    o.max_batch = 5;
    if (!rpc_fixture_init(&fx, &o))
        return -1;
    assert_int_equal(rpc_register(fx.server, "test_echo", m_echo, NULL), TC_OK);
    assert_int_equal(rpc_register(fx.server, "test_add", m_add, NULL), TC_OK);
    assert_int_equal(rpc_register(fx.server, "test_revert", m_revert, NULL), TC_OK);
    assert_int_equal(rpc_register(fx.server, "test_nonce", m_nonce, NULL), TC_OK);
    assert_int_equal(rpc_register(fx.server, "test_internal", m_internal, NULL), TC_OK);
    assert_int_equal(rpc_register(fx.server, "test_defer", m_defer, NULL), TC_OK);
    assert_int_equal(rpc_register(fx.server, "test_hold", m_hold, NULL), TC_OK);
    start_workers();
    return rpc_fixture_run(&fx) ? 0 : -1;
}

static int setup(void **state)
{
    log_set_stderr(false);
    return start_server(false);
}

static int setup_cors(void **state)
{
    log_set_stderr(false);
    return start_server(true);
}

static int teardown(void **state)
{
    stop_workers();
    rpc_fixture_stop(&fx);
    return 0;
}

/* ---- assertion helpers -------------------------------------------------- */

static cJSON *post_ok(const char *body)
{
    int status = 0;
    cJSON *resp = rpc_post(fx.port, body, &status);
    assert_int_equal(status, 200);
    return resp;
}

/* resp is {"jsonrpc":"2.0","id":<id_json>,"error":{"code":code,"message":message}}. */
static void assert_error(const cJSON *resp, const char *id_json, int code, const char *message)
{
    assert_non_null(resp);
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(resp, "jsonrpc");
    assert_true(cJSON_IsString(version));
    assert_string_equal(version->valuestring, "2.0");
    char *id = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(resp, "id"));
    assert_non_null(id);
    assert_string_equal(id, id_json);
    cJSON_free(id);
    assert_null(cJSON_GetObjectItemCaseSensitive(resp, "result"));
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(resp, "error");
    assert_true(cJSON_IsObject(err));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(err, "code")->valueint, code);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(err, "message")->valuestring, message);
}

/* resp is {"jsonrpc":"2.0","id":<id_json>,"result":<result_json>}. */
static void assert_result(const cJSON *resp, const char *id_json, const char *result_json)
{
    assert_non_null(resp);
    assert_null(cJSON_GetObjectItemCaseSensitive(resp, "error"));
    char *id = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(resp, "id"));
    char *result = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(resp, "result"));
    assert_non_null(id);
    assert_non_null(result);
    assert_string_equal(id, id_json);
    assert_string_equal(result, result_json);
    cJSON_free(id);
    cJSON_free(result);
}

static void check_error(const char *body, const char *id_json, int code, const char *message)
{
    cJSON *resp = post_ok(body);
    assert_error(resp, id_json, code, message);
    cJSON_Delete(resp);
}

static void check_result(const char *body, const char *id_json, const char *result_json)
{
    cJSON *resp = post_ok(body);
    assert_result(resp, id_json, result_json);
    cJSON_Delete(resp);
}

/* ---- JSON-RPC rules ----------------------------------------------------- */

static void test_single_call_returns_result_with_same_id(void **state)
{
    check_result("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"test_add\",\"params\":[\"0x1\","
                 "\"0xf\"]}",
                 "7", "\"0x10\"");
    check_result("{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"test_echo\",\"params\":"
                 "{\"k\":[1,true,null]}}",
                 "\"abc\"", "{\"k\":[1,true,null]}");
    check_result("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"test_echo\"}", "null", "null");
    check_result(" \r\n{\"method\":\"test_echo\",\"params\":null,\"id\":-3,\"jsonrpc\":\"2.0\"}"
                 "\n ",
                 "-3", "null");
}

static void test_malformed_json_is_parse_error_with_null_id(void **state)
{
    static const char *const bodies[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_echo\"",
        "not json",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_echo\"} trailing",
        "{} {}",
        "[1,2",
        "",
        "   ",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        check_error(bodies[i], "null", RPC_PARSE_ERROR, "parse error");
}

static void test_deeply_nested_json_is_parse_error(void **state)
{
    enum { DEPTH = 5000 };
    char *body = malloc(2 * DEPTH + 1);
    assert_non_null(body);
    memset(body, '[', DEPTH);
    memset(body + DEPTH, ']', DEPTH);
    body[2 * DEPTH] = '\0';
    check_error(body, "null", RPC_PARSE_ERROR, "parse error");
    free(body);
}

static void test_wrong_request_shapes_are_invalid_request(void **state)
{
    check_error("42", "null", RPC_INVALID_REQUEST, "invalid request: not a JSON object");
    check_error("\"x\"", "null", RPC_INVALID_REQUEST, "invalid request: not a JSON object");
    check_error("{\"id\":1,\"method\":\"test_echo\"}", "1", RPC_INVALID_REQUEST,
                "invalid request: jsonrpc must be \"2.0\"");
    check_error("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"test_echo\"}", "1", RPC_INVALID_REQUEST,
                "invalid request: jsonrpc must be \"2.0\"");
    check_error("{\"jsonrpc\":2.0,\"id\":1,\"method\":\"test_echo\"}", "1", RPC_INVALID_REQUEST,
                "invalid request: jsonrpc must be \"2.0\"");
    check_error("{\"jsonrpc\":\"2.0\",\"id\":1}", "1", RPC_INVALID_REQUEST,
                "invalid request: method must be a string");
    check_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", "1", RPC_INVALID_REQUEST,
                "invalid request: method must be a string");
    check_error("{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"test_echo\"}", "null",
                RPC_INVALID_REQUEST, "invalid request: id must be a string, number or null");
    check_error("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"test_echo\"}", "null",
                RPC_INVALID_REQUEST, "invalid request: id must be a string, number or null");
    check_error("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"test_echo\"}", "null",
                RPC_INVALID_REQUEST, "invalid request: id must be a string, number or null");
    check_error("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"test_echo\",\"params\":\"x\"}", "2",
                RPC_INVALID_REQUEST, "invalid request: params must be an array, an object or null");
    /* An invalid request is answered even without an id (spec examples). */
    check_error("{\"jsonrpc\":\"2.0\",\"method\":1}", "null", RPC_INVALID_REQUEST,
                "invalid request: method must be a string");
}

static void test_unknown_method_uses_geth_message(void **state)
{
    check_error("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"eth_nothing\"}", "3",
                RPC_METHOD_NOT_FOUND, "the method eth_nothing does not exist/is not available");
    check_error("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"rpc.discover\"}", "3",
                RPC_METHOD_NOT_FOUND, "the method rpc.discover does not exist/is not available");
    check_error("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"TEST_ECHO\"}", "3",
                RPC_METHOD_NOT_FOUND, "the method TEST_ECHO does not exist/is not available");
}

static void test_wrong_parameter_types_are_invalid_params(void **state)
{
    const char *fmt = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_add\",\"params\":%s}";
    static const struct {
        const char *params;
        const char *message;
    } cases[] = {
        { "[\"0x1\",2]", "invalid argument 1: expected a hex string" },
        { "[\"1\",\"0x2\"]", "invalid argument 0: hex string without 0x prefix" },
        { "[\"0x01\",\"0x2\"]", "invalid argument 0: hex number with leading zero digits" },
        { "[\"0x1\",\"0xg\"]", "invalid argument 1: invalid hex string" },
        { "[\"0x\",\"0x2\"]", "invalid argument 0: hex string \"0x\"" },
        { "[\"0x10000000000000000\",\"0x2\"]", "invalid argument 0: hex number > 64 bits" },
        { "[\"0x1\"]", "missing value for required argument 1" },
        { "[\"0x1\",\"0x2\",\"0x3\"]", "too many arguments, want at most 2" },
        { "{\"a\":\"0x1\"}", "expected an array of parameters" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[256];
        snprintf(body, sizeof(body), fmt, cases[i].params);
        check_error(body, "1", RPC_INVALID_PARAMS, cases[i].message);
    }
}

static void test_handler_errors_keep_code_message_and_data(void **state)
{
    cJSON *resp = post_ok("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"test_revert\"}");
    assert_error(resp, "9", RPC_EXECUTION_REVERTED, "execution reverted: nope");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(resp, "error");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(err, "data")->valuestring, "0x08c379a0");
    cJSON_Delete(resp);
    check_error("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"test_nonce\"}", "9", RPC_SERVER_ERROR,
                "nonce too low");
    check_error("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"test_internal\"}", "9",
                RPC_INTERNAL_ERROR, "internal error: storage");
}

static void test_notification_gets_empty_200(void **state)
{
    int status = 0;
    cJSON *resp =
        rpc_post(fx.port, "{\"jsonrpc\":\"2.0\",\"method\":\"test_echo\",\"params\":[1]}", &status);
    assert_int_equal(status, 200);
    assert_null(resp);
    /* A notification of an unknown method is not answered either. */
    resp = rpc_post(fx.port, "{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}", &status);
    assert_int_equal(status, 200);
    assert_null(resp);
}

/* ---- batches ------------------------------------------------------------ */

static void test_batch_answers_in_order_with_mixed_errors(void **state)
{
    cJSON *resp = post_ok("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_add\",\"params\":"
                          "[\"0x1\",\"0x2\"]},"
                          "{\"jsonrpc\":\"2.0\",\"method\":\"test_echo\"},"
                          "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"},"
                          "7,"
                          "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"test_echo\","
                          "\"params\":[\"y\"]}]");
    assert_true(cJSON_IsArray(resp));
    assert_int_equal(cJSON_GetArraySize(resp), 4);
    assert_result(cJSON_GetArrayItem(resp, 0), "1", "\"0x3\"");
    assert_error(cJSON_GetArrayItem(resp, 1), "2", RPC_METHOD_NOT_FOUND,
                 "the method nope does not exist/is not available");
    assert_error(cJSON_GetArrayItem(resp, 2), "null", RPC_INVALID_REQUEST,
                 "invalid request: not a JSON object");
    assert_result(cJSON_GetArrayItem(resp, 3), "\"x\"", "[\"y\"]");
    cJSON_Delete(resp);
}

static void test_batch_of_invalid_values_answers_each(void **state)
{
    cJSON *resp = post_ok("[1,2,3]");
    assert_int_equal(cJSON_GetArraySize(resp), 3);
    for (int i = 0; i < 3; i++)
        assert_error(cJSON_GetArrayItem(resp, i), "null", RPC_INVALID_REQUEST,
                     "invalid request: not a JSON object");
    cJSON_Delete(resp);
}

static void test_empty_batch_is_one_invalid_request(void **state)
{
    check_error("[]", "null", RPC_INVALID_REQUEST, "empty batch");
    check_error(" [ ] ", "null", RPC_INVALID_REQUEST, "empty batch");
}

static void test_batch_over_limit_is_one_invalid_request(void **state)
{
    /* The fixture's limit is 5 calls. */
    const char *call = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_echo\"}";
    char body[1024] = "[";
    for (int i = 0; i < 6; i++) {
        strcat(body, call);
        strcat(body, i < 5 ? "," : "]");
    }
    check_error(body, "null", RPC_INVALID_REQUEST, "batch too large: more than 5 requests");
    /* Exactly at the limit is fine. */
    strcpy(body, "[");
    for (int i = 0; i < 5; i++) {
        strcat(body, call);
        strcat(body, i < 4 ? "," : "]");
    }
    cJSON *resp = post_ok(body);
    assert_int_equal(cJSON_GetArraySize(resp), 5);
    cJSON_Delete(resp);
}

static void test_batch_of_notifications_gets_empty_200(void **state)
{
    int status = 0;
    cJSON *resp = rpc_post(fx.port,
                           "[{\"jsonrpc\":\"2.0\",\"method\":\"test_echo\"},"
                           "{\"jsonrpc\":\"2.0\",\"method\":\"test_defer\",\"params\":[\"0x1\"]}]",
                           &status);
    assert_int_equal(status, 200);
    assert_null(resp);
}

/* ---- deferred completion ------------------------------------------------ */

static void test_deferred_calls_complete_from_other_threads_in_order(void **state)
{
    check_result("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_defer\",\"params\":[\"0x3\"]}",
                 "1", "\"0x1e\"");
    /* Workers finish in a different order than the requests (sleeps differ). */
    cJSON *resp = post_ok("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_defer\",\"params\":"
                          "[\"0x1\"]},"
                          "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"test_echo\",\"params\":[2]},"
                          "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"test_defer\",\"params\":"
                          "[\"0x4\"]},"
                          "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"test_defer\",\"params\":"
                          "[\"0x2\"]}]");
    assert_int_equal(cJSON_GetArraySize(resp), 4);
    assert_result(cJSON_GetArrayItem(resp, 0), "1", "\"0xa\"");
    assert_result(cJSON_GetArrayItem(resp, 1), "2", "[2]");
    assert_result(cJSON_GetArrayItem(resp, 2), "3", "\"0x28\"");
    assert_result(cJSON_GetArrayItem(resp, 3), "4", "\"0x14\"");
    cJSON_Delete(resp);
}

/* Client threads post batches of deferred calls at the same time. */
#define STRESS_CLIENTS 4
#define STRESS_POSTS   25
#define STRESS_BATCH   5

static void *stress_client(void *arg)
{
    uintptr_t client = (uintptr_t)arg;
    int fd = http_connect(fx.port);
    if (fd < 0)
        return (void *)1;
    for (int post = 0; post < STRESS_POSTS; post++) {
        char body[1024] = "[";
        uint64_t base = (client * STRESS_POSTS + (uint64_t)post) * STRESS_BATCH + 1;
        for (int i = 0; i < STRESS_BATCH; i++) {
            char call[128];
            snprintf(call, sizeof(call),
                     "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"test_defer\","
                     "\"params\":[\"0x%llx\"]}",
                     i ? "," : "", i, (unsigned long long)(base + (uint64_t)i));
            strcat(body, call);
        }
        strcat(body, "]");
        struct http_response r;
        if (!http_request(fd, "POST", "/", "application/json", body, strlen(body)) ||
            !http_read_response(fd, &r))
            return (void *)2;
        cJSON *resp = cJSON_Parse(r.body);
        http_response_free(&r);
        bool ok = cJSON_GetArraySize(resp) == STRESS_BATCH;
        for (int i = 0; ok && i < STRESS_BATCH; i++) {
            const cJSON *item = cJSON_GetArrayItem(resp, i);
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
            const cJSON *result = cJSON_GetObjectItemCaseSensitive(item, "result");
            char want[32];
            snprintf(want, sizeof(want), "0x%llx", (unsigned long long)(base + (uint64_t)i) * 10);
            ok = cJSON_IsNumber(id) && id->valueint == i && cJSON_IsString(result) &&
                 strcmp(result->valuestring, want) == 0;
        }
        cJSON_Delete(resp);
        if (!ok)
            return (void *)3;
    }
    close(fd);
    return NULL;
}

static void test_concurrent_batches_of_deferred_calls_all_complete(void **state)
{
    pthread_t clients[STRESS_CLIENTS];
    for (uintptr_t i = 0; i < STRESS_CLIENTS; i++)
        assert_int_equal(pthread_create(&clients[i], NULL, stress_client, (void *)i), 0);
    for (int i = 0; i < STRESS_CLIENTS; i++) {
        void *failed = NULL;
        pthread_join(clients[i], &failed);
        assert_null(failed);
    }
}

static void test_client_gone_before_deferred_completion_is_dropped(void **state)
{
    int fd = http_connect(fx.port);
    assert_true(fd >= 0);
    const char *body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_hold\"}";
    assert_true(http_request(fd, "POST", "/", "application/json", body, strlen(body)));
    struct rpc_call *call = take_held_call();
    assert_non_null(call);
    close(fd);
    usleep(20000);
    /* Completed from this (non-loop) thread after the client left. */
    rpc_call_result(call, cJSON_CreateString("too late"));
    check_result("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"test_echo\",\"params\":[1]}", "2",
                 "[1]");
    /* The same within a batch whose other call already finished. */
    fd = http_connect(fx.port);
    assert_true(fd >= 0);
    body = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_echo\"},"
           "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"test_hold\"}]";
    assert_true(http_request(fd, "POST", "/", "application/json", body, strlen(body)));
    call = take_held_call();
    assert_non_null(call);
    shutdown(fd, SHUT_RDWR);
    close(fd);
    usleep(20000);
    rpc_call_error(call, RPC_SERVER_ERROR, "too late", NULL);
    check_result("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"test_echo\",\"params\":[3]}", "3",
                 "[3]");
}

/* ---- HTTP surface ------------------------------------------------------- */

static void test_pipelined_requests_are_answered_in_order(void **state)
{
    int fd = http_connect(fx.port);
    assert_true(fd >= 0);
    char two[1024];
    const char *b1 =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_defer\",\"params\":[\"0x1\"]}";
    const char *b2 = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"test_echo\",\"params\":[2]}";
    int n = snprintf(two, sizeof(two),
                     "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s"
                     "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     strlen(b1), b1, strlen(b2), b2);
    assert_true(http_send_all(fd, two, (size_t)n));
    /* Both answers, the deferred one first, as HTTP/1.1 requires. */
    char buf[4096] = "";
    size_t used = 0;
    const char *r1 = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0xa\"}";
    const char *r2 = "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":[2]}";
    while (!strstr(buf, r2)) {
        assert_true(used < sizeof(buf) - 1);
        ssize_t got = http_recv(fd, buf + used, sizeof(buf) - 1 - used);
        assert_true(got > 0);
        used += (size_t)got;
        buf[used] = '\0';
    }
    assert_non_null(strstr(buf, r1));
    assert_true(strstr(buf, r1) < strstr(buf, r2));
    close(fd);
    check_result("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"test_echo\",\"params\":[3]}", "3",
                 "[3]");
}

static void test_keep_alive_serves_many_requests_on_one_connection(void **state)
{
    int fd = http_connect(fx.port);
    assert_true(fd >= 0);
    for (int i = 0; i < 20; i++) {
        char body[128];
        snprintf(body, sizeof(body),
                 "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"test_echo\",\"params\":[%d]}", i, i);
        assert_true(http_request(fd, "POST", "/", "application/json", body, strlen(body)));
        struct http_response r;
        assert_true(http_read_response(fd, &r));
        assert_int_equal(r.status, 200);
        assert_false(r.closed);
        cJSON *resp = cJSON_Parse(r.body);
        char id[16], result[16];
        snprintf(id, sizeof(id), "%d", i);
        snprintf(result, sizeof(result), "[%d]", i);
        assert_result(resp, id, result);
        cJSON_Delete(resp);
        http_response_free(&r);
    }
    close(fd);
}

static void test_paths_methods_and_content_types(void **state)
{
    struct http_response r;
    char allow[64];
    assert_true(http_exchange(fx.port, "GET", "/", NULL, NULL, &r));
    assert_int_equal(r.status, 405);
    assert_true(http_header(&r, "Allow", allow, sizeof(allow)));
    assert_string_equal(allow, "POST");
    http_response_free(&r);
    assert_true(http_exchange(fx.port, "PUT", "/", "application/json", "{}", &r));
    assert_int_equal(r.status, 405);
    http_response_free(&r);
    assert_true(http_exchange(fx.port, "POST", "/nope", "application/json", "{}", &r));
    assert_int_equal(r.status, 404);
    http_response_free(&r);
    assert_true(http_exchange(fx.port, "POST", "/health", "application/json", "{}", &r));
    assert_int_equal(r.status, 405);
    http_response_free(&r);
    assert_true(http_exchange(fx.port, "POST", "/", "text/plain", "{}", &r));
    assert_int_equal(r.status, 415);
    assert_string_equal(r.body, "invalid content type, only application/json is supported\n");
    http_response_free(&r);
    assert_true(http_exchange(fx.port, "POST", "/", NULL, "{}", &r));
    assert_int_equal(r.status, 415);
    http_response_free(&r);
    /* Parameters of the media type and its case do not matter. */
    const char *body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_echo\"}";
    assert_true(
        http_exchange(fx.port, "POST", "/?x=1", "Application/JSON; charset=utf-8", body, &r));
    assert_int_equal(r.status, 200);
    http_response_free(&r);
    /* CORS is off: no preflight, no header. */
    assert_true(http_exchange(fx.port, "OPTIONS", "/", NULL, NULL, &r));
    assert_int_equal(r.status, 405);
    http_response_free(&r);
    assert_true(http_exchange(fx.port, "POST", "/", "application/json", body, &r));
    assert_false(http_header(&r, "Access-Control-Allow-Origin", allow, sizeof(allow)));
    http_response_free(&r);
}

static void test_broken_http_is_rejected_and_server_keeps_serving(void **state)
{
    static const char *const garbage[] = {
        "\x16\x03\x01\x02\x01\x01\x01\xfc\x03\x03 tls hello\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        "GARBAGE\r\n\r\n",
        "POST / HTTP/9.9\r\n\r\n",
        "POST / HTTP/1.1\r\nBad Header Without Colon\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        int fd = http_connect(fx.port);
        assert_true(fd >= 0);
        assert_true(http_send_all(fd, garbage[i], strlen(garbage[i])));
        struct http_response r;
        /* Either a 4xx answer or a closed connection; never a hang or a crash. */
        if (http_read_response(fd, &r)) {
            assert_true(r.status >= 400 && r.status < 500);
            http_response_free(&r);
        }
        close(fd);
    }
    /* Oversized headers. */
    int fd = http_connect(fx.port);
    assert_true(fd >= 0);
    char *big = malloc(64 * 1024);
    assert_non_null(big);
    memset(big, 'a', 64 * 1024);
    const char *head = "POST / HTTP/1.1\r\nX-Big: ";
    assert_true(http_send_all(fd, head, strlen(head)));
    http_send_all(fd, big, 64 * 1024);
    free(big);
    struct http_response r;
    if (http_read_response(fd, &r)) {
        assert_true(r.status >= 400 && r.status < 500);
        http_response_free(&r);
    }
    close(fd);
    check_result("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_echo\"}", "1", "null");
}

static void test_health_answers_ok(void **state)
{
    struct http_response r;
    assert_true(http_exchange(fx.port, "GET", "/health", NULL, NULL, &r));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"status\":\"ok\"}");
    http_response_free(&r);
}

/* The value of the sample line starting with `series` in the /metrics page; -1 if absent. */
static long long metric_value(const char *page, const char *series)
{
    size_t n = strlen(series);
    for (const char *line = page; line && *line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncmp(line, series, n) == 0 && line[n] == ' ')
            return atoll(line + n + 1);
    }
    return -1;
}

static char *fetch_metrics(void)
{
    struct http_response r;
    assert_true(http_exchange(fx.port, "GET", "/metrics", NULL, NULL, &r));
    assert_int_equal(r.status, 200);
    char type[128];
    assert_true(http_header(&r, "Content-Type", type, sizeof(type)));
    assert_string_equal(type, METRICS_CONTENT_TYPE);
    return r.body;
}

static int count_lines_with(const char *page, const char *prefix)
{
    int n = 0;
    size_t len = strlen(prefix);
    for (const char *line = page; line && *line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncmp(line, prefix, len) == 0)
            n++;
    }
    return n;
}

static void test_metrics_count_calls_and_bound_unknown_methods(void **state)
{
    char *before = fetch_metrics();
    const char *ok_series = "rpc_requests_total{method=\"test_echo\"}";
    const char *err_series = "rpc_errors_total{method=\"test_nonce\"}";
    const char *unknown_series = "rpc_requests_total{method=\"unknown\"}";
    long long echo0 = metric_value(before, ok_series);
    long long nonce0 = metric_value(before, err_series);
    long long unknown0 = metric_value(before, unknown_series);
    int lines0 = count_lines_with(before, "rpc_requests_total{");
    assert_true(echo0 >= 0 && nonce0 >= 0 && unknown0 >= 0);
    assert_true(strstr(before, "# TYPE rpc_request_duration_seconds histogram\n") != NULL);
    assert_true(strstr(before, "# TYPE rpc_http_connections gauge\n") != NULL);
    free(before);

    check_result("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_echo\"}", "1", "null");
    check_result("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_echo\"}", "1", "null");
    check_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_nonce\"}", "1", RPC_SERVER_ERROR,
                "nonce too low");
    for (int i = 0; i < 50; i++) {
        char body[128];
        snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"made_up_%d\"}", i);
        cJSON_Delete(post_ok(body));
    }
    char *after = fetch_metrics();
    assert_int_equal(metric_value(after, ok_series), echo0 + 2);
    assert_int_equal(metric_value(after, err_series), nonce0 + 1);
    assert_int_equal(metric_value(after, unknown_series), unknown0 + 50);
    assert_int_equal(count_lines_with(after, "rpc_requests_total{"), lines0);
    assert_null(strstr(after, "made_up_"));
    assert_true(metric_value(after, "rpc_request_duration_seconds_count{method=\"test_echo\"}") >=
                2);
    free(after);
}

static void test_cors_on_adds_header_and_answers_preflight(void **state)
{
    struct http_response r;
    char value[128];
    assert_true(http_exchange(fx.port, "OPTIONS", "/", NULL, NULL, &r));
    assert_int_equal(r.status, 204);
    assert_true(http_header(&r, "Access-Control-Allow-Origin", value, sizeof(value)));
    assert_string_equal(value, "*");
    assert_true(http_header(&r, "Access-Control-Allow-Methods", value, sizeof(value)));
    assert_string_equal(value, "POST, GET, OPTIONS");
    assert_true(http_header(&r, "Access-Control-Allow-Headers", value, sizeof(value)));
    assert_string_equal(value, "Content-Type");
    http_response_free(&r);
    assert_true(http_exchange(fx.port, "POST", "/", "application/json",
                              "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_echo\"}", &r));
    assert_int_equal(r.status, 200);
    assert_true(http_header(&r, "Access-Control-Allow-Origin", value, sizeof(value)));
    assert_string_equal(value, "*");
    http_response_free(&r);
}

/* ---- registry ----------------------------------------------------------- */

static void test_register_rejects_bad_and_duplicate_names(void **state)
{
    /* The loop runs on its own thread; registration touches only the table,
     * which no request reads for these names. */
    assert_int_equal(rpc_register(fx.server, "test_echo", m_echo, NULL), TC_EEXIST);
    assert_int_equal(rpc_register(fx.server, "", m_echo, NULL), TC_EINVAL);
    assert_int_equal(rpc_register(fx.server, "rpc.x", m_echo, NULL), TC_EINVAL);
    assert_int_equal(rpc_register(fx.server, "has space", m_echo, NULL), TC_EINVAL);
    assert_int_equal(rpc_register(fx.server, "x", NULL, NULL), TC_EINVAL);
    char long_name[RPC_MAX_METHOD_NAME_LEN + 2];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_int_equal(rpc_register(fx.server, long_name, m_echo, NULL), TC_EINVAL);
}

static void test_server_rejects_bad_options(void **state)
{
    struct event_base *base = event_base_new();
    struct rpc_server_options o;
    struct rpc_server *s = NULL;
    rpc_server_options_init(&o);
    o.host = "not an address";
    assert_int_equal(rpc_server_new(base, &o, &s), TC_EINVAL);
    rpc_server_options_init(&o);
    o.max_batch = 0;
    assert_int_equal(rpc_server_new(base, &o, &s), TC_EINVAL);
    rpc_server_options_init(&o);
    o.port = fx.port; /* taken by the fixture */
    assert_int_equal(rpc_server_new(base, &o, &s), TC_EIO);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_call_returns_result_with_same_id),
        cmocka_unit_test(test_malformed_json_is_parse_error_with_null_id),
        cmocka_unit_test(test_deeply_nested_json_is_parse_error),
        cmocka_unit_test(test_wrong_request_shapes_are_invalid_request),
        cmocka_unit_test(test_unknown_method_uses_geth_message),
        cmocka_unit_test(test_wrong_parameter_types_are_invalid_params),
        cmocka_unit_test(test_handler_errors_keep_code_message_and_data),
        cmocka_unit_test(test_notification_gets_empty_200),
        cmocka_unit_test(test_batch_answers_in_order_with_mixed_errors),
        cmocka_unit_test(test_batch_of_invalid_values_answers_each),
        cmocka_unit_test(test_empty_batch_is_one_invalid_request),
        cmocka_unit_test(test_batch_over_limit_is_one_invalid_request),
        cmocka_unit_test(test_batch_of_notifications_gets_empty_200),
        cmocka_unit_test(test_deferred_calls_complete_from_other_threads_in_order),
        cmocka_unit_test(test_concurrent_batches_of_deferred_calls_all_complete),
        cmocka_unit_test(test_client_gone_before_deferred_completion_is_dropped),
        cmocka_unit_test(test_keep_alive_serves_many_requests_on_one_connection),
        cmocka_unit_test(test_pipelined_requests_are_answered_in_order),
        cmocka_unit_test(test_paths_methods_and_content_types),
        cmocka_unit_test(test_broken_http_is_rejected_and_server_keeps_serving),
        cmocka_unit_test(test_health_answers_ok),
        cmocka_unit_test(test_metrics_count_calls_and_bound_unknown_methods),
        cmocka_unit_test(test_register_rejects_bad_and_duplicate_names),
        cmocka_unit_test(test_server_rejects_bad_options),
    };
    const struct CMUnitTest cors_tests[] = {
        cmocka_unit_test(test_cors_on_adds_header_and_answers_preflight),
    };
    int failed = cmocka_run_group_tests_name("rpc_server", tests, setup, teardown);
    failed += cmocka_run_group_tests_name("rpc_server_cors", cors_tests, setup_cors, teardown);
    return failed;
}
