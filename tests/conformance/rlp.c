/*
 * rlp.c - the rlp suite of teechain-conformance (RLPTests).
 *
 * A case's "in" is either INVALID (decoding "out" fully and strictly must
 * fail), VALID (it must succeed), or a value: a string, an integer, a big
 * integer written "#<decimal>", or a list of values. For a value, encoding
 * "in" must give exactly "out", and decoding "out" must give back a structure
 * equal to "in" (integers compare as their minimal big-endian bytes).
 *
 * cJSON stores strings NUL-terminated, so a string holding "\u0000" loses its
 * length. The suite therefore re-reads each file and takes the exact bytes of
 * every case's top-level string "in" from the JSON text itself
 * (struct raw_strings below); nested strings come from cJSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/error.h"
#include "codec/rlp.h"
#include "conformance.h"

/* Largest big integer accepted in "#<decimal>" form, in bytes. */
#define MAX_BIGINT_BYTES 64

/* ---- exact top-level "in" strings, scanned from the file's text ---- */

struct raw_string {
    char *name;
    struct bytes value;
};

struct raw_strings {
    struct raw_string *items;
    size_t n, cap;
};

static void skip_ws(const char **p, const char *end)
{
    while (*p < end && (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r'))
        (*p)++;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void put_utf8(struct bytes *out, unsigned cp)
{
    if (cp < 0x80) {
        bytes_push(out, (uint8_t)cp);
    } else if (cp < 0x800) {
        bytes_push(out, (uint8_t)(0xc0 | (cp >> 6)));
        bytes_push(out, (uint8_t)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        bytes_push(out, (uint8_t)(0xe0 | (cp >> 12)));
        bytes_push(out, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        bytes_push(out, (uint8_t)(0x80 | (cp & 0x3f)));
    } else {
        bytes_push(out, (uint8_t)(0xf0 | (cp >> 18)));
        bytes_push(out, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
        bytes_push(out, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        bytes_push(out, (uint8_t)(0x80 | (cp & 0x3f)));
    }
}

static int read_u4(const char **p, const char *end, unsigned *cp)
{
    if (end - *p < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit((*p)[i]);
        if (d < 0)
            return -1;
        v = v * 16 + (unsigned)d;
    }
    *p += 4;
    *cp = v;
    return 0;
}

/* Decodes the JSON string literal at *p (opening quote included) into out. */
static int scan_string(const char **p, const char *end, struct bytes *out)
{
    if (*p >= end || **p != '"')
        return -1;
    (*p)++;
    while (*p < end && **p != '"') {
        char c = *(*p)++;
        if (c != '\\') {
            bytes_push(out, (uint8_t)c);
            continue;
        }
        if (*p >= end)
            return -1;
        char e = *(*p)++;
        unsigned cp, lo;
        switch (e) {
        case 'b':
            bytes_push(out, '\b');
            break;
        case 'f':
            bytes_push(out, '\f');
            break;
        case 'n':
            bytes_push(out, '\n');
            break;
        case 'r':
            bytes_push(out, '\r');
            break;
        case 't':
            bytes_push(out, '\t');
            break;
        case 'u':
            if (read_u4(p, end, &cp) != 0)
                return -1;
            if (cp >= 0xd800 && cp < 0xdc00 && end - *p >= 6 && (*p)[0] == '\\' && (*p)[1] == 'u') {
                *p += 2;
                if (read_u4(p, end, &lo) != 0)
                    return -1;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            put_utf8(out, cp);
            break;
        default:
            bytes_push(out, (uint8_t)e);
            break;
        }
    }
    if (*p >= end)
        return -1;
    (*p)++;
    return 0;
}

/* Skips one JSON value of any kind. */
static int skip_value(const char **p, const char *end)
{
    struct bytes tmp;
    bytes_init(&tmp);
    int depth = 0;
    do {
        skip_ws(p, end);
        if (*p >= end)
            break;
        char c = **p;
        if (c == '"') {
            bytes_clear(&tmp);
            if (scan_string(p, end, &tmp) != 0)
                break;
        } else if (c == '{' || c == '[') {
            depth++;
            (*p)++;
        } else if (c == '}' || c == ']') {
            depth--;
            (*p)++;
        } else {
            (*p)++;
        }
    } while (depth > 0);
    bytes_free(&tmp);
    return depth == 0 ? 0 : -1;
}

static void raw_strings_free(struct raw_strings *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->items[i].name);
        bytes_free(&rs->items[i].value);
    }
    free(rs->items);
}

/* Scans {"case": {"in": "...", ...}, ...} and records each string "in". */
static void raw_strings_scan(struct raw_strings *rs, const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    struct bytes name, key;
    bytes_init(&name);
    bytes_init(&key);
    skip_ws(&p, end);
    if (p >= end || *p++ != '{')
        goto out_free;
    for (;;) {
        skip_ws(&p, end);
        bytes_clear(&name);
        if (scan_string(&p, end, &name) != 0)
            break;
        skip_ws(&p, end);
        if (p >= end || *p++ != ':')
            break;
        skip_ws(&p, end);
        if (p >= end || *p++ != '{')
            break;
        for (;;) {
            skip_ws(&p, end);
            if (p < end && *p == '}') {
                p++;
                break;
            }
            bytes_clear(&key);
            if (scan_string(&p, end, &key) != 0)
                goto out_free;
            skip_ws(&p, end);
            if (p >= end || *p++ != ':')
                goto out_free;
            skip_ws(&p, end);
            if (key.len == 2 && memcmp(key.ptr, "in", 2) == 0 && p < end && *p == '"') {
                if (rs->n == rs->cap) {
                    size_t cap = rs->cap ? 2 * rs->cap : 64;
                    struct raw_string *grown = realloc(rs->items, cap * sizeof(*grown));
                    if (!grown)
                        goto out_free;
                    rs->items = grown;
                    rs->cap = cap;
                }
                struct raw_string *r = &rs->items[rs->n++];
                r->name = strndup((const char *)name.ptr, name.len);
                bytes_init(&r->value);
                if (scan_string(&p, end, &r->value) != 0)
                    goto out_free;
            } else if (skip_value(&p, end) != 0) {
                goto out_free;
            }
            skip_ws(&p, end);
            if (p < end && *p == ',')
                p++;
        }
        skip_ws(&p, end);
        if (p < end && *p == ',')
            p++;
        else
            break;
    }
out_free:
    bytes_free(&key);
    bytes_free(&name);
}

static const struct raw_string *raw_strings_find(const struct raw_strings *rs, const char *name)
{
    for (size_t i = 0; i < rs->n; i++)
        if (strcmp(rs->items[i].name, name) == 0)
            return &rs->items[i];
    return NULL;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            buf = malloc((size_t)n + 1);
            if (buf)
                *len = fread(buf, 1, (size_t)n, f);
        }
    }
    fclose(f);
    return buf;
}

/* ---- values: JSON "in" to bytes, encoding and comparison ---- */

/* "#<decimal>" to minimal big-endian bytes; -1 when not a number that fits. */
static int bigint_bytes(const char *dec, uint8_t out[MAX_BIGINT_BYTES], size_t *len)
{
    uint8_t acc[MAX_BIGINT_BYTES] = { 0 };
    if (!*dec)
        return -1;
    for (const char *c = dec; *c; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        unsigned carry = (unsigned)(*c - '0');
        for (int i = MAX_BIGINT_BYTES - 1; i >= 0; i--) {
            unsigned v = acc[i] * 10u + carry;
            acc[i] = (uint8_t)v;
            carry = v >> 8;
        }
        if (carry)
            return -1;
    }
    size_t skip = 0;
    while (skip < MAX_BIGINT_BYTES && acc[skip] == 0)
        skip++;
    *len = MAX_BIGINT_BYTES - skip;
    memcpy(out, acc + skip, *len);
    return 0;
}

/*
 * The byte string a scalar "in" stands for: the exact raw string (top
 * level), a cJSON string, a big integer or an integer.
 */
static int scalar_bytes(const cJSON *in, const struct raw_string *raw, uint8_t *buf, size_t buf_cap,
                        struct bytes_view *out)
{
    if (cJSON_IsString(in)) {
        const char *s = in->valuestring;
        if (s[0] == '#') {
            size_t len;
            if (buf_cap < MAX_BIGINT_BYTES || bigint_bytes(s + 1, buf, &len) != 0)
                return -1;
            *out = bytes_view_of(buf, len);
        } else if (raw) {
            *out = bytes_as_view(&raw->value);
        } else {
            *out = bytes_view_of(s, strlen(s));
        }
        return 0;
    }
    if (cJSON_IsNumber(in)) {
        if (in->valuedouble < 0 || in->valuedouble > 9007199254740992.0)
            return -1;
        uint64_t v = (uint64_t)in->valuedouble;
        size_t n = 0;
        for (uint64_t t = v; t; t >>= 8)
            n++;
        for (size_t i = 0; i < n; i++)
            buf[n - 1 - i] = (uint8_t)(v >> (8 * i));
        *out = bytes_view_of(buf, n);
        return 0;
    }
    return -1;
}

static int encode_value(const cJSON *in, const struct raw_string *raw, struct bytes *out)
{
    if (cJSON_IsArray(in)) {
        size_t mark = rlp_list_begin(out);
        const cJSON *child;
        cJSON_ArrayForEach(child, in)
        {
            if (encode_value(child, NULL, out) != 0)
                return -1;
        }
        return rlp_list_end(out, mark);
    }
    uint8_t buf[MAX_BIGINT_BYTES];
    struct bytes_view v;
    if (scalar_bytes(in, raw, buf, sizeof(buf), &v) != 0)
        return -1;
    if (cJSON_IsNumber(in))
        return rlp_encode_u64(out, (uint64_t)in->valuedouble);
    return rlp_encode_bytes(out, v.ptr, v.len);
}

/* True when the decoded item equals "in". */
static bool decoded_equals(const struct rlp_item *item, const cJSON *in,
                           const struct raw_string *raw)
{
    if (cJSON_IsArray(in)) {
        struct rlp_iter it;
        struct rlp_item child_item;
        const cJSON *child;
        if (rlp_iter_init(&it, item) != 0)
            return false;
        cJSON_ArrayForEach(child, in)
        {
            if (rlp_iter_next(&it, &child_item) != 0 || !decoded_equals(&child_item, child, NULL))
                return false;
        }
        return rlp_iter_end(&it) == 0;
    }
    uint8_t buf[MAX_BIGINT_BYTES];
    struct bytes_view want, got;
    if (scalar_bytes(in, raw, buf, sizeof(buf), &want) != 0)
        return false;
    bool is_int = cJSON_IsNumber(in) || in->valuestring[0] == '#';
    if (is_int) {
        if (rlp_decode_uint_be(item, MAX_BIGINT_BYTES, &got) != 0)
            return false;
    } else if (rlp_decode_string(item, &got) != 0) {
        return false;
    }
    return bytes_view_eq(got, want);
}

static void run_case(struct conf_stats *st, const char *path, const cJSON *c,
                     const struct raw_strings *raws)
{
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(c, "in");
    const cJSON *out = cJSON_GetObjectItemCaseSensitive(c, "out");
    struct bytes want, got;
    bytes_init(&want);
    bytes_init(&got);
    if (!in || !cJSON_IsString(out) || hex_decode_alloc(out->valuestring, true, &want) != 0) {
        conf_fail(st, path, c->string, "case has no \"in\" or no hex \"out\"");
        goto out_free;
    }
    int rc = rlp_validate(bytes_as_view(&want), RLP_MAX_DEPTH);
    if (cJSON_IsString(in) && strcmp(in->valuestring, "INVALID") == 0) {
        if (rc == 0)
            conf_fail(st, path, c->string, "invalid RLP was accepted");
        else
            conf_pass(st, path, c->string);
        goto out_free;
    }
    if (rc != 0) {
        conf_fail(st, path, c->string, "valid RLP rejected: %s", tc_strerror(rc));
        goto out_free;
    }
    if (cJSON_IsString(in) && strcmp(in->valuestring, "VALID") == 0) {
        conf_pass(st, path, c->string);
        goto out_free;
    }
    const struct raw_string *raw = cJSON_IsString(in) ? raw_strings_find(raws, c->string) : NULL;
    if (encode_value(in, raw, &got) != 0) {
        conf_fail(st, path, c->string, "cannot encode \"in\"");
        goto out_free;
    }
    if (!bytes_view_eq(bytes_as_view(&got), bytes_as_view(&want))) {
        conf_fail(st, path, c->string, "encoding differs from \"out\"");
        goto out_free;
    }
    struct rlp_item item;
    if (rlp_decode_top(bytes_as_view(&want), &item) != 0 || !decoded_equals(&item, in, raw)) {
        conf_fail(st, path, c->string, "decoding \"out\" does not give back \"in\"");
        goto out_free;
    }
    conf_pass(st, path, c->string);
out_free:
    bytes_free(&got);
    bytes_free(&want);
}

void conf_rlp_file(struct conf_stats *st, const char *path, const cJSON *root)
{
    struct raw_strings raws = { NULL, 0, 0 };
    size_t len = 0;
    char *text = slurp(path, &len);
    if (text)
        raw_strings_scan(&raws, text, len);
    free(text);
    const cJSON *c;
    cJSON_ArrayForEach(c, root)
    {
        if (cJSON_IsObject(c))
            run_case(st, path, c, &raws);
    }
    raw_strings_free(&raws);
}
