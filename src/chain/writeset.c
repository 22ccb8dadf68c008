/* writeset.c - write-set building, canonical order, strict codec and state digest. */
#include "chain/writeset.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "codec/rlp.h"
#include "crypto/keccak.h"

static bool ns_is_valid(uint64_t ns)
{
    return ns == WRITESET_NS_ACCOUNT || ns == WRITESET_NS_STORAGE || ns == WRITESET_NS_CODE;
}

static const uint8_t *ws_base(const struct writeset *ws)
{
    return ws->input ? ws->input : ws->arena.ptr;
}

/* The first 8 key bytes as a big-endian integer, zero-padded: orders like memcmp. */
static uint64_t key_prefix_of(const uint8_t *key, size_t len)
{
    uint64_t p = 0;
    for (size_t i = 0; i < 8; i++)
        p = (p << 8) | (i < len ? key[i] : 0);
    return p;
}

/* Sets *reason (when asked for) and returns rc. */
static int fail(const char **reason, int rc, const char *msg)
{
    if (reason)
        *reason = msg;
    return rc;
}

void writeset_init(struct writeset *ws)
{
    memset(ws, 0, sizeof(*ws));
    bytes_init(&ws->arena);
    ws->canonical = true;
}

void writeset_free(struct writeset *ws)
{
    bytes_free(&ws->arena);
    free(ws->recs);
    writeset_init(ws);
}

void writeset_clear(struct writeset *ws)
{
    bytes_clear(&ws->arena);
    ws->input = NULL;
    ws->count = 0;
    ws->canonical = true;
}

static int reserve_recs(struct writeset *ws, size_t want)
{
    if (want <= ws->cap)
        return TC_OK;
    size_t cap = ws->cap ? ws->cap : 64;
    while (cap < want)
        cap *= 2;
    struct writeset_rec *recs = realloc(ws->recs, cap * sizeof(*recs));
    if (!recs)
        return TC_ENOMEM;
    ws->recs = recs;
    ws->cap = cap;
    return TC_OK;
}

static int append(struct writeset *ws, enum writeset_ns ns, const void *key, size_t key_len,
                  const void *value, size_t value_len, bool deleted)
{
    if (ws->input)
        return TC_ESTATE;
    if (!ns_is_valid((uint64_t)ns) || key_len == 0)
        return TC_EINVAL;
    if (key_len > WRITESET_MAX_KEY_BYTES || value_len > WRITESET_MAX_VALUE_BYTES ||
        ws->count >= WRITESET_MAX_ENTRIES)
        return TC_ETOOBIG;
    int rc = reserve_recs(ws, ws->count + 1);
    if (rc != 0)
        return rc;
    size_t key_off = ws->arena.len;
    rc = bytes_append(&ws->arena, key, key_len);
    if (rc != 0)
        return rc;
    size_t value_off = ws->arena.len;
    rc = bytes_append(&ws->arena, value, value_len);
    if (rc != 0) {
        ws->arena.len = key_off;
        return rc;
    }
    struct writeset_rec *r = &ws->recs[ws->count];
    r->key_prefix = key_prefix_of(key, key_len);
    r->key_off = key_off;
    r->key_len = (uint8_t)key_len;
    r->value_off = value_off;
    r->value_len = (uint32_t)value_len;
    r->seq = (uint32_t)ws->count;
    r->ns = (uint8_t)ns;
    r->deleted = deleted;
    ws->count++;
    ws->canonical = false;
    return TC_OK;
}

int writeset_put(struct writeset *ws, enum writeset_ns ns, const void *key, size_t key_len,
                 const void *value, size_t value_len)
{
    return append(ws, ns, key, key_len, value, value_len, false);
}

int writeset_delete(struct writeset *ws, enum writeset_ns ns, const void *key, size_t key_len)
{
    return append(ws, ns, key, key_len, NULL, 0, true);
}

/*
 * Order of (namespace, key): bytewise, a proper prefix first. Unequal
 * prefixes order the keys as memcmp would; equal ones fall through to the
 * full comparison.
 */
static int key_cmp(const uint8_t *base, const struct writeset_rec *a, const struct writeset_rec *b)
{
    if (a->ns != b->ns)
        return a->ns < b->ns ? -1 : 1;
    if (a->key_prefix != b->key_prefix)
        return a->key_prefix < b->key_prefix ? -1 : 1;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(base + a->key_off, base + b->key_off, n);
    if (c != 0)
        return c;
    if (a->key_len != b->key_len)
        return a->key_len < b->key_len ? -1 : 1;
    return 0;
}

static int rec_cmp(const void *pa, const void *pb, void *ctx)
{
    const struct writeset_rec *a = pa, *b = pb;
    int c = key_cmp(ctx, a, b);
    if (c != 0)
        return c;
    return a->seq < b->seq ? -1 : (a->seq > b->seq ? 1 : 0);
}

int writeset_canonicalize(struct writeset *ws)
{
    if (ws->canonical || ws->count == 0) {
        ws->canonical = true;
        return TC_OK;
    }
    const uint8_t *base = ws_base(ws);
    qsort_r(ws->recs, ws->count, sizeof(*ws->recs), rec_cmp, (void *)base);
    /* Each run of one key ends with its last write, the one kept. */
    size_t out = 0;
    for (size_t i = 0; i < ws->count; i++) {
        if (i + 1 < ws->count && key_cmp(base, &ws->recs[i], &ws->recs[i + 1]) == 0)
            continue;
        ws->recs[out] = ws->recs[i];
        ws->recs[out].seq = (uint32_t)out;
        out++;
    }
    ws->count = out;
    ws->canonical = true;
    return TC_OK;
}

size_t writeset_count(const struct writeset *ws)
{
    return ws->count;
}

void writeset_get(const struct writeset *ws, size_t i, struct writeset_item *item)
{
    const uint8_t *base = ws_base(ws);
    const struct writeset_rec *r = &ws->recs[i];
    item->ns = (enum writeset_ns)r->ns;
    item->deleted = r->deleted;
    item->key = bytes_view_of(base + r->key_off, r->key_len);
    item->value = bytes_view_of(base + r->value_off, r->value_len);
}

bool writeset_equal(const struct writeset *a, const struct writeset *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        struct writeset_item x, y;
        writeset_get(a, i, &x);
        writeset_get(b, i, &y);
        if (x.ns != y.ns || x.deleted != y.deleted || !bytes_view_eq(x.key, y.key) ||
            !bytes_view_eq(x.value, y.value))
            return false;
    }
    return true;
}

/* Encoded size of the RLP string data[0..len). */
static size_t string_size(const uint8_t *data, size_t len)
{
    if (len == 1 && data[0] < 0x80)
        return 1;
    return rlp_header_size(len) + len;
}

/* Payload size of one entry's list (namespace is always a single byte 1..3). */
static size_t entry_payload_size(const uint8_t *base, const struct writeset_rec *r)
{
    size_t n = 1 + string_size(base + r->key_off, r->key_len);
    if (!r->deleted)
        n += string_size(base + r->value_off, r->value_len);
    return n;
}

static size_t total_payload_size(const struct writeset *ws)
{
    const uint8_t *base = ws_base(ws);
    size_t total = 0;
    for (size_t i = 0; i < ws->count; i++) {
        size_t p = entry_payload_size(base, &ws->recs[i]);
        total += rlp_header_size(p) + p;
    }
    return total;
}

int writeset_encode(const struct writeset *ws, struct bytes *out)
{
    if (!ws->canonical)
        return TC_ESTATE;
    size_t payload = total_payload_size(ws);
    size_t old_len = out->len;
    int rc = bytes_reserve(out, rlp_header_size(payload) + payload);
    if (rc != 0)
        return rc;
    rc = rlp_encode_list_header(out, payload);
    const uint8_t *base = ws_base(ws);
    for (size_t i = 0; rc == 0 && i < ws->count; i++) {
        const struct writeset_rec *r = &ws->recs[i];
        rc = rlp_encode_list_header(out, entry_payload_size(base, r));
        if (rc == 0)
            rc = rlp_encode_u64(out, r->ns);
        if (rc == 0)
            rc = rlp_encode_bytes(out, base + r->key_off, r->key_len);
        if (rc == 0 && !r->deleted)
            rc = rlp_encode_bytes(out, base + r->value_off, r->value_len);
    }
    if (rc != 0)
        out->len = old_len;
    return rc;
}

static void hash_string(struct keccak256_ctx *ctx, const uint8_t *data, size_t len)
{
    if (len == 1 && data[0] < 0x80) {
        keccak256_update(ctx, data, 1);
        return;
    }
    uint8_t hdr[9];
    keccak256_update(ctx, hdr, rlp_write_header(hdr, false, len));
    keccak256_update(ctx, data, len);
}

int writeset_digest(const struct writeset *ws, uint8_t digest[32])
{
    if (!ws->canonical)
        return TC_ESTATE;
    const uint8_t *base = ws_base(ws);
    struct keccak256_ctx ctx;
    uint8_t hdr[9];
    keccak256_init(&ctx);
    keccak256_update(&ctx, hdr, rlp_write_header(hdr, true, total_payload_size(ws)));
    for (size_t i = 0; i < ws->count; i++) {
        const struct writeset_rec *r = &ws->recs[i];
        keccak256_update(&ctx, hdr, rlp_write_header(hdr, true, entry_payload_size(base, r)));
        keccak256_update(&ctx, &r->ns, 1);
        hash_string(&ctx, base + r->key_off, r->key_len);
        if (!r->deleted)
            hash_string(&ctx, base + r->value_off, r->value_len);
    }
    keccak256_final(&ctx, digest);
    return TC_OK;
}

/* Decodes one entry into *r (offsets relative to base). */
static int decode_entry(const uint8_t *base, const struct rlp_item *item, struct writeset_rec *r,
                        const char **reason)
{
    struct rlp_iter it;
    struct rlp_item f;
    struct bytes_view key, value = { NULL, 0 };
    uint64_t ns;
    if (rlp_iter_init(&it, item) != 0)
        return fail(reason, TC_EINVAL, "write-set entry: not a list");
    int rc = rlp_iter_next(&it, &f);
    if (rc == 0)
        rc = rlp_decode_u64(&f, &ns);
    if (rc != 0)
        return fail(reason, rc == TC_ENOTFOUND ? TC_EINVAL : rc, "write-set entry: bad namespace");
    if (!ns_is_valid(ns))
        return fail(reason, TC_EINVAL, "write-set entry: unknown namespace");
    rc = rlp_iter_next(&it, &f);
    if (rc == 0)
        rc = rlp_decode_string(&f, &key);
    if (rc != 0)
        return fail(reason, rc == TC_ENOTFOUND ? TC_EINVAL : rc, "write-set entry: bad key");
    if (key.len == 0)
        return fail(reason, TC_EINVAL, "write-set entry: empty key");
    if (key.len > WRITESET_MAX_KEY_BYTES)
        return fail(reason, TC_ETOOBIG, "write-set entry: key too long");
    bool deleted = !rlp_iter_has_next(&it);
    if (!deleted) {
        rc = rlp_iter_next(&it, &f);
        if (rc == 0)
            rc = rlp_decode_string(&f, &value);
        if (rc != 0)
            return fail(reason, rc, "write-set entry: bad value");
        if (value.len > WRITESET_MAX_VALUE_BYTES)
            return fail(reason, TC_ETOOBIG, "write-set entry: value too long");
        if (rlp_iter_end(&it) != 0)
            return fail(reason, TC_EINVAL, "write-set entry: too many fields");
    }
    r->ns = (uint8_t)ns;
    r->key_prefix = key_prefix_of(key.ptr, key.len);
    r->key_off = (size_t)(key.ptr - base);
    r->key_len = (uint8_t)key.len;
    r->value_off = value.len ? (size_t)(value.ptr - base) : 0;
    r->value_len = (uint32_t)value.len;
    r->deleted = deleted;
    return TC_OK;
}

int writeset_decode(struct bytes_view in, struct writeset *ws, const char **reason)
{
    writeset_init(ws);
    struct rlp_item list;
    int rc = rlp_decode_top(in, &list);
    if (rc != 0)
        return fail(reason, rc, "write-set: bad RLP");
    size_t count;
    rc = rlp_list_count(&list, &count);
    if (rc != 0)
        return fail(reason, rc, "write-set: not a list");
    if (count > WRITESET_MAX_ENTRIES)
        return fail(reason, TC_ETOOBIG, "write-set: too many entries");
    rc = reserve_recs(ws, count);
    if (rc != 0)
        return fail(reason, rc, "write-set: out of memory");
    ws->input = in.ptr;
    struct rlp_iter it;
    rlp_iter_init(&it, &list);
    for (size_t i = 0; i < count; i++) {
        struct rlp_item item;
        rc = rlp_iter_next(&it, &item);
        if (rc == 0)
            rc = decode_entry(in.ptr, &item, &ws->recs[i], reason);
        if (rc != 0)
            goto fail_reset;
        ws->recs[i].seq = (uint32_t)i;
        if (i > 0 && key_cmp(in.ptr, &ws->recs[i - 1], &ws->recs[i]) >= 0) {
            rc = fail(reason, TC_EINVAL, "write-set: entries not strictly sorted");
            goto fail_reset;
        }
        ws->count = i + 1;
    }
    ws->canonical = true;
    return TC_OK;

fail_reset:
    ws->count = 0;
    return rc;
}

void state_root_next(const uint8_t prev[32], const uint8_t digest[32], uint8_t next[32])
{
    uint8_t buf[64];
    memcpy(buf, prev, 32);
    memcpy(buf + 32, digest, 32);
    keccak256(buf, sizeof(buf), next);
}

void state_root_genesis(const uint8_t genesis_digest[32], uint8_t root[32])
{
    static const uint8_t zero[32];
    state_root_next(zero, genesis_digest, root);
}
