/* rlp.c - RLP encoder and strict, allocation-free decoder (see rlp.h). */
#include "codec/rlp.h"

#include <assert.h>
#include <string.h>

#include "base/error.h"

/* Number of bytes of the minimal big-endian form of v (0 for 0). */
static size_t be_len_u64(uint64_t v)
{
    size_t n = 0;
    while (v) {
        n++;
        v >>= 8;
    }
    return n;
}

static void put_be(uint8_t *dst, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[n - 1 - i] = (uint8_t)(v >> (8 * i));
}

size_t rlp_header_size(size_t payload_len)
{
    return payload_len < 56 ? 1 : 1 + be_len_u64(payload_len);
}

/* Writes the header for a payload into hdr (room for 9 bytes); returns its size. */
static size_t write_header(uint8_t *hdr, uint8_t short_base, size_t payload_len)
{
    if (payload_len < 56) {
        hdr[0] = (uint8_t)(short_base + payload_len);
        return 1;
    }
    size_t n = be_len_u64(payload_len);
    hdr[0] = (uint8_t)(short_base + 55 + n);
    put_be(hdr + 1, payload_len, n);
    return 1 + n;
}

size_t rlp_write_header(uint8_t hdr[9], bool list, size_t payload_len)
{
    return write_header(hdr, list ? 0xc0 : 0x80, payload_len);
}

int rlp_encode_bytes(struct bytes *out, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (len == 1 && p[0] < 0x80)
        return bytes_push(out, p[0]);
    uint8_t hdr[9];
    size_t h = write_header(hdr, 0x80, len);
    if (bytes_reserve(out, h + len) != 0)
        return TC_ENOMEM;
    memcpy(out->ptr + out->len, hdr, h);
    if (len)
        memcpy(out->ptr + out->len + h, p, len);
    out->len += h + len;
    return TC_OK;
}

int rlp_encode_u64(struct bytes *out, uint64_t value)
{
    uint8_t be[8];
    size_t n = be_len_u64(value);
    put_be(be, value, n);
    return rlp_encode_bytes(out, be, n);
}

int rlp_encode_uint_be(struct bytes *out, const uint8_t *be, size_t len)
{
    while (len && be[0] == 0) {
        be++;
        len--;
    }
    return rlp_encode_bytes(out, be, len);
}

int rlp_encode_u256(struct bytes *out, u256 value)
{
    uint8_t be[32];
    u256_to_be_bytes(value, be);
    return rlp_encode_uint_be(out, be, sizeof(be));
}

int rlp_encode_raw(struct bytes *out, const void *encoded, size_t len)
{
    return bytes_append(out, encoded, len);
}

int rlp_encode_list_header(struct bytes *out, size_t payload_len)
{
    uint8_t hdr[9];
    size_t h = write_header(hdr, 0xc0, payload_len);
    return bytes_append(out, hdr, h);
}

size_t rlp_list_begin(const struct bytes *out)
{
    return out->len;
}

int rlp_list_end(struct bytes *out, size_t mark)
{
    assert(mark <= out->len); /* a mark from rlp_list_begin() on this buffer */
    size_t payload_len = out->len - mark;
    uint8_t hdr[9];
    size_t h = write_header(hdr, 0xc0, payload_len);
    if (bytes_reserve(out, h) != 0)
        return TC_ENOMEM;
    memmove(out->ptr + mark + h, out->ptr + mark, payload_len);
    memcpy(out->ptr + mark, hdr, h);
    out->len += h;
    return TC_OK;
}

/* ---- decoding ---- */

int rlp_decode_item(struct bytes_view in, struct rlp_item *item)
{
    if (in.len == 0)
        return TC_ETRUNCATED;
    const uint8_t *p = in.ptr;
    uint8_t b = p[0];
    size_t hdr, len;
    if (b < 0x80) {
        item->kind = RLP_STRING;
        item->payload = bytes_view_of(p, 1);
        item->raw = bytes_view_of(p, 1);
        return TC_OK;
    }
    item->kind = b < 0xc0 ? RLP_STRING : RLP_LIST;
    uint8_t base = b < 0xc0 ? 0x80 : 0xc0;
    uint8_t off = (uint8_t)(b - base);
    if (off < 56) {
        hdr = 1;
        len = off;
        if (item->kind == RLP_STRING && len == 1) {
            if (in.len < 2)
                return TC_ETRUNCATED;
            if (p[1] < 0x80)
                return TC_ENONCANONICAL;
        }
    } else {
        size_t lenlen = (size_t)off - 55; /* 1..8 */
        if (in.len - 1 < lenlen)
            return TC_ETRUNCATED;
        if (p[1] == 0)
            return TC_ENONCANONICAL;
        uint64_t l = 0;
        for (size_t i = 0; i < lenlen; i++)
            l = (l << 8) | p[1 + i];
        if (l < 56)
            return TC_ENONCANONICAL;
#if SIZE_MAX < UINT64_MAX
        if (l > SIZE_MAX)
            return TC_ETRUNCATED;
#endif
        hdr = 1 + lenlen;
        len = (size_t)l;
    }
    if (len > in.len - hdr)
        return TC_ETRUNCATED;
    item->payload = bytes_view_of(p + hdr, len);
    item->raw = bytes_view_of(p, hdr + len);
    return TC_OK;
}

int rlp_decode_top(struct bytes_view in, struct rlp_item *item)
{
    int rc = rlp_decode_item(in, item);
    if (rc != 0)
        return rc;
    return item->raw.len == in.len ? TC_OK : TC_ETRAILING;
}

int rlp_validate(struct bytes_view in, unsigned max_depth)
{
    if (max_depth > RLP_MAX_DEPTH)
        max_depth = RLP_MAX_DEPTH;
    /* ends[d] is where the payload of the enclosing list at depth d+1 ends. */
    const uint8_t *ends[RLP_MAX_DEPTH];
    unsigned depth = 0;
    struct rlp_item item;
    int rc = rlp_decode_top(in, &item);
    if (rc != 0)
        return rc;
    if (item.kind == RLP_STRING)
        return TC_OK;
    if (max_depth == 0)
        return TC_ETOODEEP;
    const uint8_t *pos = item.payload.ptr;
    ends[depth++] = item.payload.ptr + item.payload.len;
    while (depth > 0) {
        const uint8_t *end = ends[depth - 1];
        if (pos == end) {
            depth--;
            continue;
        }
        rc = rlp_decode_item(bytes_view_of(pos, (size_t)(end - pos)), &item);
        if (rc != 0)
            return rc;
        if (item.kind == RLP_LIST) {
            if (depth >= max_depth)
                return TC_ETOODEEP;
            ends[depth++] = item.payload.ptr + item.payload.len;
            pos = item.payload.ptr;
        } else {
            pos += item.raw.len;
        }
    }
    return TC_OK;
}

int rlp_iter_init(struct rlp_iter *it, const struct rlp_item *list)
{
    if (list->kind != RLP_LIST)
        return TC_EINVAL;
    it->pos = list->payload.ptr;
    it->end = list->payload.ptr + list->payload.len;
    return TC_OK;
}

bool rlp_iter_has_next(const struct rlp_iter *it)
{
    return it->pos < it->end;
}

int rlp_iter_next(struct rlp_iter *it, struct rlp_item *item)
{
    if (it->pos >= it->end)
        return TC_ENOTFOUND;
    int rc = rlp_decode_item(bytes_view_of(it->pos, (size_t)(it->end - it->pos)), item);
    if (rc != 0)
        return rc;
    it->pos += item->raw.len;
    return TC_OK;
}

int rlp_iter_end(const struct rlp_iter *it)
{
    return it->pos == it->end ? TC_OK : TC_ETRAILING;
}

int rlp_list_count(const struct rlp_item *list, size_t *count)
{
    struct rlp_iter it;
    struct rlp_item item;
    int rc = rlp_iter_init(&it, list);
    if (rc != 0)
        return rc;
    size_t n = 0;
    while (rlp_iter_has_next(&it)) {
        rc = rlp_iter_next(&it, &item);
        if (rc != 0)
            return rc;
        n++;
    }
    *count = n;
    return TC_OK;
}

int rlp_decode_string(const struct rlp_item *item, struct bytes_view *out)
{
    if (item->kind != RLP_STRING)
        return TC_EINVAL;
    *out = item->payload;
    return TC_OK;
}

int rlp_decode_uint_be(const struct rlp_item *item, size_t max_len, struct bytes_view *out)
{
    if (item->kind != RLP_STRING)
        return TC_EINVAL;
    if (item->payload.len > 0 && item->payload.ptr[0] == 0)
        return TC_ENONCANONICAL;
    if (item->payload.len > max_len)
        return TC_ERANGE;
    *out = item->payload;
    return TC_OK;
}

int rlp_decode_u64(const struct rlp_item *item, uint64_t *out)
{
    struct bytes_view v;
    int rc = rlp_decode_uint_be(item, 8, &v);
    if (rc != 0)
        return rc;
    uint64_t x = 0;
    for (size_t i = 0; i < v.len; i++)
        x = (x << 8) | v.ptr[i];
    *out = x;
    return TC_OK;
}

int rlp_decode_u256(const struct rlp_item *item, u256 *out)
{
    struct bytes_view v;
    int rc = rlp_decode_uint_be(item, 32, &v);
    if (rc != 0)
        return rc;
    *out = u256_from_be_bytes(v.ptr, v.len);
    return TC_OK;
}

int rlp_decode_bytes_fixed(const struct rlp_item *item, size_t n, bool allow_empty, uint8_t *out,
                           bool *was_empty)
{
    if (item->kind != RLP_STRING)
        return TC_EINVAL;
    bool empty = item->payload.len == 0 && n != 0;
    if (empty && !allow_empty)
        return TC_ERANGE;
    if (!empty && item->payload.len != n)
        return TC_ERANGE;
    if (empty)
        memset(out, 0, n);
    else if (n)
        memcpy(out, item->payload.ptr, n);
    if (was_empty)
        *was_empty = empty;
    return TC_OK;
}
