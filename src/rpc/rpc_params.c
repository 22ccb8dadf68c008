/* rpc_params.c - checking JSON-RPC parameters and building results. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "rpc/rpc.h"

/* geth's hexutil messages, so that clients see the same text as from geth. */
#define MSG_NOT_STRING     "expected a hex string"
#define MSG_EMPTY_STRING   "empty hex string"
#define MSG_MISSING_PREFIX "hex string without 0x prefix"
#define MSG_EMPTY_NUMBER   "hex string \"0x\""
#define MSG_LEADING_ZERO   "hex number with leading zero digits"
#define MSG_SYNTAX         "invalid hex string"
#define MSG_ODD_LENGTH     "hex string of odd length"
#define MSG_U64_RANGE      "hex number > 64 bits"
#define MSG_U256_RANGE     "hex number > 256 bits"

static int fail(char *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, RPC_ERRMSG_LEN, fmt, ap);
    va_end(ap);
    return code;
}

static bool is_hex_digit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool has_prefix(const char *s)
{
    return s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

/* Checks the compact-quantity form; *digits gets the digits after "0x". */
static int check_quantity(const cJSON *item, size_t max_digits, const char *range_msg,
                          const char **digits, char *err)
{
    if (!cJSON_IsString(item))
        return fail(err, TC_EINVAL, MSG_NOT_STRING);
    const char *s = item->valuestring;
    if (s[0] == '\0')
        return fail(err, TC_EINVAL, MSG_EMPTY_STRING);
    if (!has_prefix(s))
        return fail(err, TC_EINVAL, MSG_MISSING_PREFIX);
    const char *d = s + 2;
    size_t n = strlen(d);
    if (n == 0)
        return fail(err, TC_EINVAL, MSG_EMPTY_NUMBER);
    for (size_t i = 0; i < n; i++) {
        if (!is_hex_digit(d[i]))
            return fail(err, TC_EINVAL, MSG_SYNTAX);
    }
    if (d[0] == '0' && n > 1)
        return fail(err, TC_EINVAL, MSG_LEADING_ZERO);
    if (n > max_digits)
        return fail(err, TC_ERANGE, "%s", range_msg);
    *digits = d;
    return TC_OK;
}

int rpc_param_quantity_u64(const cJSON *item, uint64_t *out, char *err)
{
    const char *d;
    int rc = check_quantity(item, 16, MSG_U64_RANGE, &d, err);
    if (rc)
        return rc;
    uint64_t v = 0;
    for (; *d; d++) {
        char c = *d;
        unsigned digit = c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
        v = v << 4 | digit;
    }
    *out = v;
    return TC_OK;
}

int rpc_param_quantity_u256(const cJSON *item, u256 *out, char *err)
{
    const char *d;
    int rc = check_quantity(item, 64, MSG_U256_RANGE, &d, err);
    if (rc)
        return rc;
    if (u256_from_hex(item->valuestring, out) != TC_OK)
        return fail(err, TC_EINVAL, MSG_SYNTAX);
    return TC_OK;
}

/* Checks "0x" + even-length hex; *hex and *hex_len get the digits. */
static int check_data(const cJSON *item, const char **hex, size_t *hex_len, char *err)
{
    if (!cJSON_IsString(item))
        return fail(err, TC_EINVAL, MSG_NOT_STRING);
    const char *s = item->valuestring;
    if (s[0] == '\0')
        return fail(err, TC_EINVAL, MSG_EMPTY_STRING);
    if (!has_prefix(s))
        return fail(err, TC_EINVAL, MSG_MISSING_PREFIX);
    size_t n = strlen(s + 2);
    if (n % 2)
        return fail(err, TC_EINVAL, MSG_ODD_LENGTH);
    for (size_t i = 0; i < n; i++) {
        if (!is_hex_digit(s[2 + i]))
            return fail(err, TC_EINVAL, MSG_SYNTAX);
    }
    *hex = s + 2;
    *hex_len = n;
    return TC_OK;
}

int rpc_param_data(const cJSON *item, size_t max_bytes, struct bytes *out, char *err)
{
    const char *hex;
    size_t n;
    int rc = check_data(item, &hex, &n, err);
    if (rc)
        return rc;
    if (n / 2 > max_bytes)
        return fail(err, TC_ETOOBIG, "hex data longer than %zu bytes", max_bytes);
    bytes_init(out);
    rc = bytes_reserve(out, n / 2 + 1);
    if (rc)
        return fail(err, rc, "out of memory");
    rc = hex_decode(hex, n, out->ptr, out->cap, &out->len);
    if (rc) {
        bytes_free(out);
        return fail(err, rc, MSG_SYNTAX);
    }
    return TC_OK;
}

int rpc_param_fixed(const cJSON *item, uint8_t *out, size_t len, char *err)
{
    const char *hex;
    size_t n;
    int rc = check_data(item, &hex, &n, err);
    if (rc)
        return rc;
    if (n != 2 * len)
        return fail(err, TC_EINVAL, "hex string has length %zu, want %zu", n, 2 * len);
    rc = hex_decode(hex, n, out, len, NULL);
    if (rc)
        return fail(err, rc, MSG_SYNTAX);
    return TC_OK;
}

int rpc_param_bool(const cJSON *item, bool *out, char *err)
{
    if (!cJSON_IsBool(item))
        return fail(err, TC_EINVAL, "expected a boolean");
    *out = cJSON_IsTrue(item);
    return TC_OK;
}

static const struct {
    const char *name;
    enum rpc_block_kind kind;
} block_tags[] = {
    { "latest", RPC_BLOCK_LATEST },       { "earliest", RPC_BLOCK_EARLIEST },
    { "pending", RPC_BLOCK_PENDING },     { "safe", RPC_BLOCK_SAFE },
    { "finalized", RPC_BLOCK_FINALIZED },
};

static int block_number(const cJSON *item, struct rpc_block_ref *out, char *err)
{
    if (cJSON_IsString(item)) {
        for (size_t i = 0; i < sizeof(block_tags) / sizeof(block_tags[0]); i++) {
            if (strcmp(item->valuestring, block_tags[i].name) == 0) {
                memset(out, 0, sizeof(*out));
                out->kind = block_tags[i].kind;
                return TC_OK;
            }
        }
    }
    uint64_t n;
    int rc = rpc_param_quantity_u64(item, &n, err);
    if (rc)
        return rc;
    if (n > INT64_MAX)
        return fail(err, TC_ERANGE, "block number larger than int64");
    memset(out, 0, sizeof(*out));
    out->kind = RPC_BLOCK_NUMBER;
    out->number = n;
    return TC_OK;
}

static int block_object(const cJSON *item, struct rpc_block_ref *out, char *err)
{
    const cJSON *number = cJSON_GetObjectItemCaseSensitive(item, "blockNumber");
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive(item, "blockHash");
    const cJSON *canonical = cJSON_GetObjectItemCaseSensitive(item, "requireCanonical");
    if (number && hash)
        return fail(err, TC_EINVAL,
                    "cannot specify both BlockHash and BlockNumber, choose one or the other");
    if (number) {
        if (canonical)
            return fail(err, TC_EINVAL, "requireCanonical is only allowed with blockHash");
        return block_number(number, out, err);
    }
    if (!hash)
        return fail(err, TC_EINVAL, "expected blockNumber or blockHash");
    struct rpc_block_ref ref;
    memset(&ref, 0, sizeof(ref));
    ref.kind = RPC_BLOCK_HASH;
    int rc = rpc_param_fixed(hash, ref.hash, sizeof(ref.hash), err);
    if (!rc && canonical)
        rc = rpc_param_bool(canonical, &ref.require_canonical, err);
    if (!rc)
        *out = ref;
    return rc;
}

int rpc_param_block(const cJSON *item, bool allow_object, struct rpc_block_ref *out, char *err)
{
    if (!item || cJSON_IsNull(item)) {
        memset(out, 0, sizeof(*out));
        out->kind = RPC_BLOCK_LATEST;
        return TC_OK;
    }
    if (cJSON_IsObject(item)) {
        if (!allow_object)
            return fail(err, TC_EINVAL, "expected a block number or tag");
        return block_object(item, out, err);
    }
    return block_number(item, out, err);
}

const cJSON *rpc_param_at(const cJSON *params, size_t index)
{
    if (!cJSON_IsArray(params) || index > INT32_MAX)
        return NULL;
    return cJSON_GetArrayItem(params, (int)index);
}

int rpc_params_check(const cJSON *params, size_t min_count, size_t max_count, char *err)
{
    size_t n = 0;
    if (params) {
        if (!cJSON_IsArray(params))
            return fail(err, TC_EINVAL, "expected an array of parameters");
        n = (size_t)cJSON_GetArraySize(params);
    }
    if (n < min_count)
        return fail(err, TC_EINVAL, "missing value for required argument %zu", n);
    if (n > max_count)
        return fail(err, TC_EINVAL, "too many arguments, want at most %zu", max_count);
    return TC_OK;
}

void rpc_call_invalid_param(struct rpc_call *call, size_t index, const char *err)
{
    rpc_call_errorf(call, RPC_INVALID_PARAMS, NULL, "invalid argument %zu: %s", index, err);
}

/* ---- results ------------------------------------------------------------ */

static cJSON *checked(cJSON *v)
{
    if (!v)
        log_fatal("rpc", "out of memory building a result");
    return v;
}

cJSON *rpc_quantity_u64(uint64_t v)
{
    char buf[2 + 16 + 1];
    snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
    return checked(cJSON_CreateString(buf));
}

cJSON *rpc_quantity_u256(u256 v)
{
    char buf[U256_HEX_LEN];
    u256_to_hex(v, buf);
    return checked(cJSON_CreateString(buf));
}

cJSON *rpc_data(const uint8_t *data, size_t len)
{
    if (len > (SIZE_MAX - 3) / 2)
        log_fatal("rpc", "result data too large");
    char *buf = xmalloc(2 * len + 3);
    buf[0] = '0';
    buf[1] = 'x';
    hex_encode(data, len, buf + 2);
    cJSON *v = checked(cJSON_CreateString(buf));
    free(buf);
    return v;
}

cJSON *rpc_null(void)
{
    return checked(cJSON_CreateNull());
}
