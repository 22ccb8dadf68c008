/* receipt.c - receipt and log codecs (consensus and stored forms), roots and blooms. */
#include "chain/receipt.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "codec/rlp.h"
#include "trie/trie.h"

/* Sets *reason (when asked for) and returns rc. */
static int fail(const char **reason, int rc, const char *msg)
{
    if (reason)
        *reason = msg;
    return rc;
}

void receipt_compute_bloom(struct receipt *r)
{
    memset(r->bloom, 0, sizeof(r->bloom));
    for (size_t i = 0; i < r->log_count; i++) {
        const struct log *l = &r->logs[i];
        bloom_add(r->bloom, l->address, 20);
        for (unsigned t = 0; t < l->topic_count; t++)
            bloom_add(r->bloom, l->topics[t], 32);
    }
}

static int check_bounds(const struct receipt *r)
{
    if (r->type > 2)
        return TC_EINVAL;
    if (r->log_count > RECEIPT_MAX_LOGS)
        return TC_ETOOBIG;
    for (size_t i = 0; i < r->log_count; i++)
        if (r->logs[i].topic_count > LOG_MAX_TOPICS || r->logs[i].data.len > LOG_MAX_DATA_BYTES)
            return TC_ETOOBIG;
    return TC_OK;
}

static int encode_logs(const struct receipt *r, struct bytes *out)
{
    size_t logs = rlp_list_begin(out);
    int rc = TC_OK;
    for (size_t i = 0; rc == 0 && i < r->log_count; i++) {
        const struct log *l = &r->logs[i];
        size_t one = rlp_list_begin(out);
        rc = rlp_encode_bytes(out, l->address, 20);
        size_t topics = rlp_list_begin(out);
        for (unsigned t = 0; rc == 0 && t < l->topic_count; t++)
            rc = rlp_encode_bytes(out, l->topics[t], 32);
        if (rc == 0)
            rc = rlp_list_end(out, topics);
        if (rc == 0)
            rc = rlp_encode_bytes(out, l->data.ptr, l->data.len);
        if (rc == 0)
            rc = rlp_list_end(out, one);
    }
    if (rc == 0)
        rc = rlp_list_end(out, logs);
    return rc;
}

int receipt_encode_consensus(const struct receipt *r, struct bytes *out)
{
    int rc = check_bounds(r);
    if (rc != 0)
        return rc;
    size_t old_len = out->len;
    if (r->type != 0)
        rc = bytes_push(out, r->type);
    size_t list = rlp_list_begin(out);
    if (rc == 0)
        rc = rlp_encode_u64(out, r->status ? 1 : 0);
    if (rc == 0)
        rc = rlp_encode_u64(out, r->cumulative_gas_used);
    if (rc == 0)
        rc = rlp_encode_bytes(out, r->bloom, BLOOM_BYTES);
    if (rc == 0)
        rc = encode_logs(r, out);
    if (rc == 0)
        rc = rlp_list_end(out, list);
    if (rc != 0)
        out->len = old_len;
    return rc;
}

int receipt_encode_stored(const struct receipt *r, struct bytes *out)
{
    int rc = check_bounds(r);
    if (rc != 0)
        return rc;
    size_t old_len = out->len;
    size_t list = rlp_list_begin(out);
    rc = rlp_encode_u64(out, r->type);
    if (rc == 0)
        rc = rlp_encode_u64(out, r->status ? 1 : 0);
    if (rc == 0)
        rc = rlp_encode_u64(out, r->cumulative_gas_used);
    if (rc == 0)
        rc = rlp_encode_u64(out, r->gas_used);
    if (rc == 0)
        rc = rlp_encode_u64(out, r->tx_index);
    if (rc == 0)
        rc = rlp_encode_u256(out, r->effective_gas_price);
    if (rc == 0)
        rc = rlp_encode_bytes(out, r->contract_address, r->has_contract_address ? 20 : 0);
    if (rc == 0)
        rc = encode_logs(r, out);
    if (rc == 0)
        rc = rlp_list_end(out, list);
    if (rc != 0)
        out->len = old_len;
    return rc;
}

static int decode_log(const struct rlp_item *item, struct log *l, const char **reason)
{
    struct rlp_iter it, tit;
    struct rlp_item f, topics, t;
    if (rlp_iter_init(&it, item) != 0)
        return fail(reason, TC_EINVAL, "log: not a list");
    int rc = rlp_iter_next(&it, &f);
    if (rc == 0)
        rc = rlp_decode_bytes_fixed(&f, 20, false, l->address, NULL);
    if (rc != 0)
        return fail(reason, rc == TC_ENOTFOUND ? TC_EINVAL : rc, "log: bad address");
    rc = rlp_iter_next(&it, &topics);
    if (rc == 0)
        rc = rlp_iter_init(&tit, &topics);
    if (rc != 0)
        return fail(reason, rc == TC_ENOTFOUND ? TC_EINVAL : rc, "log: bad topics");
    l->topic_count = 0;
    while (rlp_iter_has_next(&tit)) {
        if (l->topic_count == LOG_MAX_TOPICS)
            return fail(reason, TC_ETOOBIG, "log: more than 4 topics");
        rc = rlp_iter_next(&tit, &t);
        if (rc == 0)
            rc = rlp_decode_bytes_fixed(&t, 32, false, l->topics[l->topic_count], NULL);
        if (rc != 0)
            return fail(reason, rc, "log: bad topic");
        l->topic_count++;
    }
    rc = rlp_iter_next(&it, &f);
    if (rc == 0)
        rc = rlp_decode_string(&f, &l->data);
    if (rc != 0)
        return fail(reason, rc == TC_ENOTFOUND ? TC_EINVAL : rc, "log: bad data");
    if (l->data.len > LOG_MAX_DATA_BYTES)
        return fail(reason, TC_ETOOBIG, "log: data too long");
    if (rlp_iter_end(&it) != 0)
        return fail(reason, TC_EINVAL, "log: too many fields");
    return TC_OK;
}

/* Decodes the logs list into a new array owned by r. */
static int decode_logs(const struct rlp_item *item, struct receipt *r, const char **reason)
{
    size_t count;
    int rc = rlp_list_count(item, &count);
    if (rc != 0)
        return fail(reason, rc, "receipt: bad logs list");
    if (count > RECEIPT_MAX_LOGS)
        return fail(reason, TC_ETOOBIG, "receipt: too many logs");
    if (count == 0)
        return TC_OK;
    r->logs = calloc(count, sizeof(*r->logs));
    if (!r->logs)
        return fail(reason, TC_ENOMEM, "receipt: out of memory");
    r->logs_owned = true;
    struct rlp_iter it;
    rlp_iter_init(&it, item);
    for (size_t i = 0; i < count; i++) {
        struct rlp_item one;
        rc = rlp_iter_next(&it, &one);
        if (rc == 0)
            rc = decode_log(&one, &r->logs[i], reason);
        if (rc != 0)
            return rc;
        r->log_count = i + 1;
    }
    return TC_OK;
}

/* The next field of a receipt list; a missing one is TC_EINVAL. */
static int next_field(struct rlp_iter *it, struct rlp_item *f, const char **reason,
                      const char *missing)
{
    int rc = rlp_iter_next(it, f);
    if (rc == TC_ENOTFOUND)
        return fail(reason, TC_EINVAL, missing);
    if (rc != 0)
        return fail(reason, rc, missing);
    return TC_OK;
}

static int decode_status(const struct rlp_item *f, bool *status, const char **reason)
{
    uint64_t v;
    int rc = rlp_decode_u64(f, &v);
    if (rc != 0)
        return fail(reason, rc, "receipt: bad status");
    if (v > 1)
        return fail(reason, TC_EINVAL, "receipt: status not 0 or 1");
    *status = v == 1;
    return TC_OK;
}

static int decode_consensus_body(struct bytes_view in, struct receipt *r, const char **reason)
{
    struct rlp_item list, f;
    struct rlp_iter it;
    int rc = rlp_decode_top(in, &list);
    if (rc != 0)
        return fail(reason, rc, "receipt: bad RLP");
    if (rlp_iter_init(&it, &list) != 0)
        return fail(reason, TC_EINVAL, "receipt: not a list");
    if ((rc = next_field(&it, &f, reason, "receipt: missing status")) != 0 ||
        (rc = decode_status(&f, &r->status, reason)) != 0)
        return rc;
    if ((rc = next_field(&it, &f, reason, "receipt: missing cumulativeGasUsed")) != 0)
        return rc;
    if ((rc = rlp_decode_u64(&f, &r->cumulative_gas_used)) != 0)
        return fail(reason, rc, "receipt: bad cumulativeGasUsed");
    if ((rc = next_field(&it, &f, reason, "receipt: missing logsBloom")) != 0)
        return rc;
    uint8_t bloom[BLOOM_BYTES];
    if ((rc = rlp_decode_bytes_fixed(&f, BLOOM_BYTES, false, bloom, NULL)) != 0)
        return fail(reason, rc, "receipt: bad logsBloom");
    if ((rc = next_field(&it, &f, reason, "receipt: missing logs")) != 0 ||
        (rc = decode_logs(&f, r, reason)) != 0)
        return rc;
    if (rlp_iter_end(&it) != 0)
        return fail(reason, TC_EINVAL, "receipt: too many fields");
    receipt_compute_bloom(r);
    if (memcmp(bloom, r->bloom, BLOOM_BYTES) != 0)
        return fail(reason, TC_EINVAL, "receipt: logsBloom does not match the logs");
    return TC_OK;
}

int receipt_decode_consensus(struct bytes_view in, struct receipt *r, const char **reason)
{
    memset(r, 0, sizeof(*r));
    if (in.len == 0)
        return fail(reason, TC_ETRUNCATED, "receipt: empty");
    int rc;
    if (in.ptr[0] >= 0xc0) {
        rc = decode_consensus_body(in, r, reason);
    } else if (in.ptr[0] == 1 || in.ptr[0] == 2) {
        r->type = in.ptr[0];
        rc = decode_consensus_body(bytes_view_of(in.ptr + 1, in.len - 1), r, reason);
    } else {
        rc = fail(reason, in.ptr[0] < 0x80 ? TC_EUNSUPPORTED : TC_EINVAL,
                  "receipt: type not supported");
    }
    if (rc != 0)
        receipt_free(r);
    return rc;
}

static int decode_stored_fields(struct rlp_iter *it, struct receipt *r, const char **reason)
{
    struct rlp_item f;
    uint64_t v;
    int rc;
    if ((rc = next_field(it, &f, reason, "receipt: missing type")) != 0)
        return rc;
    if ((rc = rlp_decode_u64(&f, &v)) != 0)
        return fail(reason, rc, "receipt: bad type");
    if (v > 2)
        return fail(reason, TC_EUNSUPPORTED, "receipt: type not supported");
    r->type = (uint8_t)v;
    if ((rc = next_field(it, &f, reason, "receipt: missing status")) != 0 ||
        (rc = decode_status(&f, &r->status, reason)) != 0)
        return rc;
    if ((rc = next_field(it, &f, reason, "receipt: missing cumulativeGasUsed")) != 0)
        return rc;
    if ((rc = rlp_decode_u64(&f, &r->cumulative_gas_used)) != 0)
        return fail(reason, rc, "receipt: bad cumulativeGasUsed");
    if ((rc = next_field(it, &f, reason, "receipt: missing gasUsed")) != 0)
        return rc;
    if ((rc = rlp_decode_u64(&f, &r->gas_used)) != 0)
        return fail(reason, rc, "receipt: bad gasUsed");
    if ((rc = next_field(it, &f, reason, "receipt: missing txIndex")) != 0)
        return rc;
    if ((rc = rlp_decode_u64(&f, &v)) != 0 || v > UINT32_MAX)
        return fail(reason, rc ? rc : TC_ERANGE, "receipt: bad txIndex");
    r->tx_index = (uint32_t)v;
    if ((rc = next_field(it, &f, reason, "receipt: missing effectiveGasPrice")) != 0)
        return rc;
    if ((rc = rlp_decode_u256(&f, &r->effective_gas_price)) != 0)
        return fail(reason, rc, "receipt: bad effectiveGasPrice");
    if ((rc = next_field(it, &f, reason, "receipt: missing contractAddress")) != 0)
        return rc;
    bool none;
    if ((rc = rlp_decode_bytes_fixed(&f, 20, true, r->contract_address, &none)) != 0)
        return fail(reason, rc, "receipt: bad contractAddress");
    r->has_contract_address = !none;
    if ((rc = next_field(it, &f, reason, "receipt: missing logs")) != 0 ||
        (rc = decode_logs(&f, r, reason)) != 0)
        return rc;
    if (rlp_iter_end(it) != 0)
        return fail(reason, TC_EINVAL, "receipt: too many fields");
    return TC_OK;
}

int receipt_decode_stored(struct bytes_view in, struct receipt *r, const char **reason)
{
    memset(r, 0, sizeof(*r));
    struct rlp_item list;
    struct rlp_iter it;
    int rc = rlp_decode_top(in, &list);
    if (rc != 0)
        return fail(reason, rc, "receipt: bad RLP");
    if (rlp_iter_init(&it, &list) != 0)
        return fail(reason, TC_EINVAL, "receipt: not a list");
    rc = decode_stored_fields(&it, r, reason);
    if (rc != 0) {
        receipt_free(r);
        return rc;
    }
    receipt_compute_bloom(r);
    return TC_OK;
}

void receipt_free(struct receipt *r)
{
    if (r->logs_owned)
        free(r->logs);
    r->logs = NULL;
    r->log_count = 0;
    r->logs_owned = false;
}

static bool log_equal(const struct log *a, const struct log *b)
{
    return memcmp(a->address, b->address, 20) == 0 && a->topic_count == b->topic_count &&
           memcmp(a->topics, b->topics, (size_t)a->topic_count * 32) == 0 &&
           bytes_view_eq(a->data, b->data);
}

bool receipt_equal(const struct receipt *a, const struct receipt *b)
{
    if (a->type != b->type || a->status != b->status ||
        a->cumulative_gas_used != b->cumulative_gas_used ||
        memcmp(a->bloom, b->bloom, BLOOM_BYTES) != 0 || a->log_count != b->log_count ||
        a->gas_used != b->gas_used || a->tx_index != b->tx_index ||
        !u256_eq(a->effective_gas_price, b->effective_gas_price) ||
        a->has_contract_address != b->has_contract_address ||
        (a->has_contract_address && memcmp(a->contract_address, b->contract_address, 20) != 0))
        return false;
    for (size_t i = 0; i < a->log_count; i++)
        if (!log_equal(&a->logs[i], &b->logs[i]))
            return false;
    return true;
}

int receipt_root(const struct receipt *rs, size_t n, uint8_t root[32])
{
    struct bytes buf;
    bytes_init(&buf);
    size_t *ends = NULL;
    struct bytes_view *views = NULL;
    int rc = TC_ENOMEM;
    if (n > 0) {
        ends = malloc(n * sizeof(*ends));
        views = malloc(n * sizeof(*views));
        if (!ends || !views)
            goto out_free;
    }
    for (size_t i = 0; i < n; i++) {
        rc = receipt_encode_consensus(&rs[i], &buf);
        if (rc != 0)
            goto out_free;
        ends[i] = buf.len;
    }
    for (size_t i = 0; i < n; i++) {
        size_t start = i ? ends[i - 1] : 0;
        views[i] = bytes_view_of(buf.ptr + start, ends[i] - start);
    }
    rc = trie_ordered_root(views, n, root);
out_free:
    free(views);
    free(ends);
    bytes_free(&buf);
    return rc;
}

void receipt_block_bloom(const struct receipt *rs, size_t n, uint8_t bloom[BLOOM_BYTES])
{
    memset(bloom, 0, BLOOM_BYTES);
    for (size_t i = 0; i < n; i++)
        bloom_or(bloom, rs[i].bloom);
}
