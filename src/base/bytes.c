/* bytes.c - growable byte buffers and strict hex encoding. */
#include "base/bytes.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"

void bytes_init(struct bytes *b)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void bytes_free(struct bytes *b)
{
    free(b->ptr);
    bytes_init(b);
}

int bytes_reserve(struct bytes *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len)
        return TC_ENOMEM;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return TC_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->ptr, cap);
    if (!p)
        return TC_ENOMEM;
    b->ptr = p;
    b->cap = cap;
    return TC_OK;
}

int bytes_append(struct bytes *b, const void *data, size_t len)
{
    if (len == 0)
        return TC_OK;
    int rc = bytes_reserve(b, len);
    if (rc)
        return rc;
    memcpy(b->ptr + b->len, data, len);
    b->len += len;
    return TC_OK;
}

int bytes_push(struct bytes *b, uint8_t byte)
{
    return bytes_append(b, &byte, 1);
}

void bytes_clear(struct bytes *b)
{
    b->len = 0;
}

uint8_t *bytes_take(struct bytes *b, size_t *len)
{
    uint8_t *p = b->ptr;
    if (len)
        *len = b->len;
    bytes_init(b);
    return p;
}

bool bytes_view_eq(struct bytes_view a, struct bytes_view b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

void hex_encode(const uint8_t *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * len] = '\0';
}

int hex_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    if (hex_len % 2)
        return TC_EINVAL;
    if (hex_len / 2 > out_cap)
        return TC_ETOOBIG;
    for (size_t i = 0; i < hex_len; i += 2) {
        int hi = hex_digit_value(hex[i]), lo = hex_digit_value(hex[i + 1]);
        if (hi < 0 || lo < 0)
            return TC_EINVAL;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    if (out_len)
        *out_len = hex_len / 2;
    return TC_OK;
}

static bool has_prefix(const char *hex, size_t hex_len)
{
    return hex_len >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X');
}

int hex_decode_prefixed(const char *hex, size_t hex_len, uint8_t *out, size_t out_cap,
                        size_t *out_len)
{
    if (!has_prefix(hex, hex_len))
        return TC_EINVAL;
    return hex_decode(hex + 2, hex_len - 2, out, out_cap, out_len);
}

int hex_decode_alloc(const char *hex, bool allow_bare, struct bytes *out)
{
    size_t n = strlen(hex);
    if (has_prefix(hex, n)) {
        hex += 2;
        n -= 2;
    } else if (!allow_bare) {
        return TC_EINVAL;
    }
    if (n % 2)
        return TC_EINVAL;
    bytes_init(out);
    int rc = bytes_reserve(out, n / 2 + 1);
    if (rc)
        return rc;
    rc = hex_decode(hex, n, out->ptr, out->cap, &out->len);
    if (rc)
        bytes_free(out);
    return rc;
}

int hex_decode_exact(const char *hex, uint8_t *out, size_t len)
{
    size_t n = strlen(hex);
    if (has_prefix(hex, n)) {
        hex += 2;
        n -= 2;
    }
    if (n != 2 * len)
        return TC_EINVAL;
    return hex_decode(hex, n, out, len, NULL);
}
