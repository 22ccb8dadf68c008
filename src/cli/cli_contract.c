/* cli_contract.c - bytecode files, call objects, eth_call and eth_estimateGas with revert data. */
#include "cli/cli_contract.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "cli/cli_util.h"

void cli_revert_init(struct cli_revert *rev)
{
    rev->reverted = false;
    bytes_init(&rev->data);
}

void cli_revert_free(struct cli_revert *rev)
{
    bytes_free(&rev->data);
    rev->reverted = false;
}

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int cli_read_bytecode(const char *path, struct bytes *code, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        tc_errorf(err, err_len, "cannot read %s: %s", path, strerror(errno));
        return TC_EIO;
    }
    char *text = malloc(CLI_BYTECODE_FILE_MAX_BYTES + 1);
    int rc = TC_ENOMEM;
    if (text == NULL)
        goto out_close;
    size_t n = fread(text, 1, CLI_BYTECODE_FILE_MAX_BYTES + 1, f);
    if (ferror(f)) {
        tc_errorf(err, err_len, "cannot read %s: %s", path, strerror(errno));
        rc = TC_EIO;
        goto out_free_text;
    }
    if (n > CLI_BYTECODE_FILE_MAX_BYTES) {
        tc_errorf(err, err_len, "%s: larger than %u bytes", path, CLI_BYTECODE_FILE_MAX_BYTES);
        rc = TC_ETOOBIG;
        goto out_free_text;
    }
    /* Squeeze out whitespace, then drop one leading 0x. */
    size_t digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_space((unsigned char)text[i]))
            text[digits++] = text[i];
    }
    size_t start = digits >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') ? 2 : 0;
    rc = TC_EINVAL;
    if (digits == start) {
        tc_errorf(err, err_len, "%s: no bytecode in the file", path);
        goto out_free_text;
    }
    for (size_t i = start; i < digits; i++) {
        if (hex_digit_value(text[i]) >= 0)
            continue;
        if (text[i] == '_')
            tc_errorf(err, err_len,
                      "%s: unlinked library placeholder at digit %zu (link the libraries first)",
                      path, i - start);
        else
            tc_errorf(err, err_len, "%s: not a hex digit at digit %zu", path, i - start);
        goto out_free_text;
    }
    if ((digits - start) % 2 != 0) {
        tc_errorf(err, err_len, "%s: odd number of hex digits", path);
        goto out_free_text;
    }
    size_t len = (digits - start) / 2;
    if ((rc = bytes_reserve(code, len)) != TC_OK)
        goto out_free_text;
    size_t got = 0;
    rc = hex_decode(text + start, digits - start, code->ptr + code->len, len, &got);
    if (rc == TC_OK)
        code->len += got;
out_free_text:
    free(text);
out_close:
    fclose(f);
    return rc;
}

static bool add_hex(cJSON *obj, const char *key, const uint8_t *data, size_t len)
{
    char *hex = malloc(2 * len + 3);
    if (hex == NULL)
        return false;
    hex[0] = '0';
    hex[1] = 'x';
    hex_encode(data, len, hex + 2);
    bool ok = cJSON_AddStringToObject(obj, key, hex) != NULL;
    free(hex);
    return ok;
}

cJSON *cli_call_object(const uint8_t *from, const uint8_t *to, u256 value, struct bytes_view data)
{
    cJSON *obj = cJSON_CreateObject();
    char quantity[U256_HEX_LEN];
    if (obj == NULL)
        return NULL;
    bool ok = (from == NULL || add_hex(obj, "from", from, 20)) &&
              (to == NULL || add_hex(obj, "to", to, 20));
    if (ok && !u256_is_zero(value)) {
        u256_to_hex(value, quantity);
        ok = cJSON_AddStringToObject(obj, "value", quantity) != NULL;
    }
    if (ok)
        ok = add_hex(obj, "data", data.ptr, data.len);
    if (!ok) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

/*
 * Takes a JSON-RPC error object: a revert (code 3, or a message starting
 * with "execution reverted") fills rev; anything else is described in err.
 * Returns TC_EPERM.
 */
static int rpc_error(struct rpc_client *c, const char *method, const cJSON *error,
                     struct cli_revert *rev, char *err, size_t err_len)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(error, "message");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(error, "data");
    const char *msg = cJSON_IsString(message) ? message->valuestring : "(no message)";
    c->has_rpc_error = true;
    c->rpc_error_code = cJSON_IsNumber(code) ? (int64_t)code->valuedouble : 0;
    tc_errorf(err, err_len, "%s: JSON-RPC error %lld: %s", method, (long long)c->rpc_error_code,
              msg);
    if (c->rpc_error_code == CLI_RPC_EXECUTION_REVERTED ||
        strncmp(msg, "execution reverted", 18) == 0) {
        rev->reverted = true;
        bytes_free(&rev->data);
        if (cJSON_IsString(data) && hex_decode_alloc(data->valuestring, false, &rev->data) != TC_OK)
            bytes_init(&rev->data); /* data that is not hex is shown as no data */
    }
    return TC_EPERM;
}

/* One JSON-RPC call whose error object is kept whole (for its data). */
static int call_keep_error(struct rpc_client *c, const char *method, cJSON *params, cJSON **result,
                           struct cli_revert *rev, char *err, size_t err_len)
{
    char *text = NULL, *response = NULL;
    size_t response_len = 0;
    cJSON *reply = NULL;
    int rc = TC_ENOMEM;
    *result = NULL;
    cJSON *req = cJSON_CreateObject();
    if (req == NULL || !cJSON_AddStringToObject(req, "jsonrpc", "2.0") ||
        !cJSON_AddNumberToObject(req, "id", (double)c->next_id++) ||
        !cJSON_AddStringToObject(req, "method", method) ||
        !cJSON_AddItemReferenceToObject(req, "params", params))
        goto out_free;
    text = cJSON_PrintUnformatted(req);
    if (text == NULL)
        goto out_free;
    rc = rpc_client_post(c, text, strlen(text), &response, &response_len);
    if (rc != TC_OK) {
        tc_errorf(err, err_len, "%s: %s", method, c->err);
        goto out_free;
    }
    reply = cJSON_ParseWithLength(response, response_len);
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(reply, "error");
    if (!cJSON_IsObject(reply)) {
        tc_errorf(err, err_len, "%s: the answer is not a JSON-RPC object", method);
        rc = TC_ECORRUPT;
    } else if (error != NULL && !cJSON_IsNull(error)) {
        rc = rpc_error(c, method, error, rev, err, err_len);
    } else if ((*result = cJSON_DetachItemFromObjectCaseSensitive(reply, "result")) == NULL) {
        tc_errorf(err, err_len, "%s: the answer has neither result nor error", method);
        rc = TC_ECORRUPT;
    }
out_free:
    cJSON_Delete(reply);
    free(response);
    free(text);
    cJSON_Delete(req);
    return rc;
}

int cli_eth_call(struct rpc_client *c, const cJSON *call_object, const char *block,
                 struct bytes *ret, struct cli_revert *rev, char *err, size_t err_len)
{
    cJSON *params = cJSON_CreateArray(), *result = NULL;
    int rc = TC_ENOMEM;
    if (params == NULL || !cJSON_AddItemToArray(params, cJSON_Duplicate(call_object, 1)) ||
        !cJSON_AddItemToArray(params, cJSON_CreateString(block)))
        goto out_free;
    rc = call_keep_error(c, "eth_call", params, &result, rev, err, err_len);
    if (rc != TC_OK)
        goto out_free;
    struct bytes data;
    if (!cJSON_IsString(result) || hex_decode_alloc(result->valuestring, false, &data) != TC_OK) {
        tc_errorf(err, err_len, "eth_call: expected 0x hex data in the answer");
        rc = TC_ECORRUPT;
        goto out_free;
    }
    rc = bytes_append(ret, data.ptr, data.len);
    bytes_free(&data);
out_free:
    cJSON_Delete(result);
    cJSON_Delete(params);
    return rc;
}

int cli_estimate_gas(struct rpc_client *c, const cJSON *call_object, uint64_t *gas,
                     struct cli_revert *rev, char *err, size_t err_len)
{
    cJSON *params = cJSON_CreateArray(), *result = NULL;
    int rc = TC_ENOMEM;
    u256 v;
    if (params == NULL || !cJSON_AddItemToArray(params, cJSON_Duplicate(call_object, 1)))
        goto out_free;
    rc = call_keep_error(c, "eth_estimateGas", params, &result, rev, err, err_len);
    if (rc != TC_OK)
        goto out_free;
    if (!cJSON_IsString(result) || u256_from_hex(result->valuestring, &v) != TC_OK ||
        !u256_fits_u64(v) || v.w[0] == 0) {
        tc_errorf(err, err_len, "eth_estimateGas: expected a positive 64-bit quantity");
        rc = TC_ECORRUPT;
        goto out_free;
    }
    *gas = v.w[0];
out_free:
    cJSON_Delete(result);
    cJSON_Delete(params);
    return rc;
}

int cli_parse_block_tag(const char *s, char out[U256_HEX_LEN])
{
    static const char *const tags[] = { "latest", "earliest", "pending", "safe", "finalized" };
    uint64_t n = 0;
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
        if (strcmp(s, tags[i]) == 0) {
            snprintf(out, U256_HEX_LEN, "%s", s);
            return TC_OK;
        }
    }
    if (cli_parse_u64(s, &n) != TC_OK)
        return TC_EINVAL;
    u256_to_hex(u256_from_u64(n), out);
    return TC_OK;
}
