/* raft_codec.c - encoding and bounded, non-allocating decoding of Raft messages. */
#include "consensus/raft/raft_codec.h"

#include <string.h>

#include "base/error.h"

#define HEADER_BYTES    (1u + 1u + 8u + 8u + 8u)
#define ENTRY_HDR_BYTES (8u + 1u + 4u)

static void put_u8(uint8_t **p, uint8_t v)
{
    *(*p)++ = v;
}

static void put_u32(uint8_t **p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *(*p)++ = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t **p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        *(*p)++ = (uint8_t)(v >> (8 * i));
}

/* A bounded reader: every get fails with TC_ETRUNCATED past the end. */
struct reader {
    const uint8_t *p;
    size_t left;
};

static int get_u8(struct reader *rd, uint8_t *v)
{
    if (rd->left < 1)
        return TC_ETRUNCATED;
    *v = *rd->p++;
    rd->left--;
    return TC_OK;
}

static int get_bool(struct reader *rd, bool *v)
{
    uint8_t b;
    int rc = get_u8(rd, &b);
    if (rc)
        return rc;
    if (b > 1)
        return TC_EINVAL;
    *v = b == 1;
    return TC_OK;
}

static int get_u32(struct reader *rd, uint32_t *v)
{
    if (rd->left < 4)
        return TC_ETRUNCATED;
    uint32_t x = 0;
    for (int i = 0; i < 4; i++)
        x |= (uint32_t)rd->p[i] << (8 * i);
    rd->p += 4;
    rd->left -= 4;
    *v = x;
    return TC_OK;
}

static int get_u64(struct reader *rd, uint64_t *v)
{
    if (rd->left < 8)
        return TC_ETRUNCATED;
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)rd->p[i] << (8 * i);
    rd->p += 8;
    rd->left -= 8;
    *v = x;
    return TC_OK;
}

bool raft_membership_valid(const struct raft_membership *m)
{
    if (m->count > RAFT_MAX_NODES)
        return false;
    for (uint32_t i = 0; i < m->count; i++) {
        const struct raft_member *a = &m->members[i];
        if (a->id == RAFT_NONE || (a->role != RAFT_VOTER && a->role != RAFT_LEARNER))
            return false;
        for (uint32_t j = 0; j < i; j++)
            if (m->members[j].id == a->id)
                return false;
    }
    return true;
}

static size_t membership_size(const struct raft_membership *m)
{
    return 1u + 4u + (size_t)m->count * 9u;
}

static void put_membership(uint8_t **p, const struct raft_membership *m)
{
    put_u8(p, RAFT_CODEC_VERSION);
    put_u32(p, m->count);
    for (uint32_t i = 0; i < m->count; i++) {
        put_u64(p, m->members[i].id);
        put_u8(p, m->members[i].role);
    }
}

static int get_membership(struct reader *rd, struct raft_membership *m)
{
    uint8_t version;
    int rc = get_u8(rd, &version);
    if (rc)
        return rc;
    if (version != RAFT_CODEC_VERSION)
        return TC_EINVAL;
    uint32_t count;
    if ((rc = get_u32(rd, &count)))
        return rc;
    if (count > RAFT_MAX_NODES)
        return TC_ETOOBIG;
    memset(m, 0, sizeof(*m));
    m->count = count;
    for (uint32_t i = 0; i < count; i++) {
        if ((rc = get_u64(rd, &m->members[i].id)) || (rc = get_u8(rd, &m->members[i].role)))
            return rc;
    }
    return raft_membership_valid(m) ? TC_OK : TC_EINVAL;
}

int raft_membership_encode(const struct raft_membership *m, uint8_t *buf, size_t cap, size_t *len)
{
    if (!raft_membership_valid(m))
        return TC_EINVAL;
    size_t n = membership_size(m);
    if (n > cap)
        return TC_ETOOBIG;
    uint8_t *p = buf;
    put_membership(&p, m);
    *len = n;
    return TC_OK;
}

int raft_membership_decode(const uint8_t *buf, size_t len, struct raft_membership *out)
{
    struct reader rd = { buf, len };
    int rc = get_membership(&rd, out);
    if (rc)
        return rc;
    return rd.left ? TC_ETRAILING : TC_OK;
}

int raft_msg_encoded_size(const struct raft_message *m, size_t *size)
{
    size_t n = HEADER_BYTES;
    switch (m->type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        n += 8 + 8 + 1;
        break;
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        n += 1;
        break;
    case RAFT_MSG_APPEND:
        if (m->entry_count > RAFT_MSG_MAX_ENTRIES)
            return TC_ETOOBIG;
        if (m->entry_count && !m->entries)
            return TC_EINVAL;
        if (m->index > UINT64_MAX - m->entry_count)
            return TC_ERANGE;
        n += 8 + 8 + 8 + 4;
        for (uint32_t i = 0; i < m->entry_count; i++) {
            const struct raft_entry *e = &m->entries[i];
            if (e->index != m->index + 1 + i || e->type > RAFT_ENTRY_CONFIG)
                return TC_EINVAL;
            if (e->len > RAFT_ENTRY_MAX_BYTES)
                return TC_ETOOBIG;
            if (e->len && !e->data)
                return TC_EINVAL;
            n += ENTRY_HDR_BYTES + e->len;
            if (n > RAFT_MSG_MAX_BYTES)
                return TC_ETOOBIG;
        }
        break;
    case RAFT_MSG_APPEND_RESP:
        n += 8 + 1 + 8 + 8;
        break;
    case RAFT_MSG_HEARTBEAT:
        n += 8 + 8;
        break;
    case RAFT_MSG_HEARTBEAT_RESP:
        n += 8;
        break;
    case RAFT_MSG_SNAPSHOT:
        if (!raft_membership_valid(&m->snapshot.membership))
            return TC_EINVAL;
        n += 8 + 8 + membership_size(&m->snapshot.membership);
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        break;
    default:
        return TC_EINVAL;
    }
    *size = n;
    return TC_OK;
}

int raft_msg_encode(const struct raft_message *m, struct bytes *out)
{
    size_t n;
    int rc = raft_msg_encoded_size(m, &n);
    if (rc)
        return rc;
    if ((rc = bytes_reserve(out, n)))
        return rc;
    uint8_t *start = out->ptr + out->len;
    uint8_t *p = start;
    put_u8(&p, RAFT_CODEC_VERSION);
    put_u8(&p, m->type);
    put_u64(&p, m->from);
    put_u64(&p, m->to);
    put_u64(&p, m->term);
    switch (m->type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        put_u64(&p, m->index);
        put_u64(&p, m->log_term);
        put_u8(&p, m->transfer ? 1 : 0);
        break;
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        put_u8(&p, m->reject ? 1 : 0);
        break;
    case RAFT_MSG_APPEND:
        put_u64(&p, m->index);
        put_u64(&p, m->log_term);
        put_u64(&p, m->commit);
        put_u32(&p, m->entry_count);
        for (uint32_t i = 0; i < m->entry_count; i++) {
            const struct raft_entry *e = &m->entries[i];
            put_u64(&p, e->term);
            put_u8(&p, e->type);
            put_u32(&p, e->len);
            if (e->len)
                memcpy(p, e->data, e->len);
            p += e->len;
        }
        break;
    case RAFT_MSG_APPEND_RESP:
        put_u64(&p, m->index);
        put_u8(&p, m->reject ? 1 : 0);
        put_u64(&p, m->hint_term);
        put_u64(&p, m->hint_index);
        break;
    case RAFT_MSG_HEARTBEAT:
        put_u64(&p, m->commit);
        put_u64(&p, m->context);
        break;
    case RAFT_MSG_HEARTBEAT_RESP:
        put_u64(&p, m->context);
        break;
    case RAFT_MSG_SNAPSHOT:
        put_u64(&p, m->snapshot.index);
        put_u64(&p, m->snapshot.term);
        put_membership(&p, &m->snapshot.membership);
        break;
    default:
        break;
    }
    out->len += (size_t)(p - start);
    return TC_OK;
}

static int decode_entries(struct reader *rd, struct raft_message *out, struct raft_entry *entries,
                          size_t entries_cap)
{
    uint32_t count;
    int rc = get_u32(rd, &count);
    if (rc)
        return rc;
    if (count > RAFT_MSG_MAX_ENTRIES || count > entries_cap)
        return TC_ETOOBIG;
    if (out->index > UINT64_MAX - count)
        return TC_ERANGE;
    for (uint32_t i = 0; i < count; i++) {
        struct raft_entry *e = &entries[i];
        uint32_t len;
        if ((rc = get_u64(rd, &e->term)) || (rc = get_u8(rd, &e->type)) || (rc = get_u32(rd, &len)))
            return rc;
        if (e->type > RAFT_ENTRY_CONFIG)
            return TC_EINVAL;
        if (len > RAFT_ENTRY_MAX_BYTES)
            return TC_ETOOBIG;
        if (len > rd->left)
            return TC_ETRUNCATED;
        e->index = out->index + 1 + i;
        e->len = len;
        e->data = len ? rd->p : NULL;
        rd->p += len;
        rd->left -= len;
    }
    out->entries = count ? entries : NULL;
    out->entry_count = count;
    return TC_OK;
}

static int decode_body(struct reader *rd, struct raft_message *out, struct raft_entry *entries,
                       size_t entries_cap)
{
    int rc = TC_OK;
    switch (out->type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        if ((rc = get_u64(rd, &out->index)) || (rc = get_u64(rd, &out->log_term)) ||
            (rc = get_bool(rd, &out->transfer)))
            return rc;
        break;
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        rc = get_bool(rd, &out->reject);
        break;
    case RAFT_MSG_APPEND:
        if ((rc = get_u64(rd, &out->index)) || (rc = get_u64(rd, &out->log_term)) ||
            (rc = get_u64(rd, &out->commit)))
            return rc;
        rc = decode_entries(rd, out, entries, entries_cap);
        break;
    case RAFT_MSG_APPEND_RESP:
        if ((rc = get_u64(rd, &out->index)) || (rc = get_bool(rd, &out->reject)) ||
            (rc = get_u64(rd, &out->hint_term)) || (rc = get_u64(rd, &out->hint_index)))
            return rc;
        break;
    case RAFT_MSG_HEARTBEAT:
        if ((rc = get_u64(rd, &out->commit)) || (rc = get_u64(rd, &out->context)))
            return rc;
        break;
    case RAFT_MSG_HEARTBEAT_RESP:
        rc = get_u64(rd, &out->context);
        break;
    case RAFT_MSG_SNAPSHOT:
        if ((rc = get_u64(rd, &out->snapshot.index)) || (rc = get_u64(rd, &out->snapshot.term)))
            return rc;
        rc = get_membership(rd, &out->snapshot.membership);
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        break;
    default:
        return TC_EINVAL;
    }
    return rc;
}

int raft_msg_decode(const uint8_t *buf, size_t len, struct raft_message *out,
                    struct raft_entry *entries, size_t entries_cap)
{
    memset(out, 0, sizeof(*out));
    if (len > RAFT_MSG_MAX_BYTES)
        return TC_ETOOBIG;
    struct reader rd = { buf, len };
    uint8_t version;
    int rc;
    if ((rc = get_u8(&rd, &version)))
        return rc;
    if (version != RAFT_CODEC_VERSION)
        return TC_EINVAL;
    if ((rc = get_u8(&rd, &out->type)) || (rc = get_u64(&rd, &out->from)) ||
        (rc = get_u64(&rd, &out->to)) || (rc = get_u64(&rd, &out->term)))
        goto clear_out;
    if ((rc = decode_body(&rd, out, entries, entries_cap)))
        goto clear_out;
    if (rd.left) {
        rc = TC_ETRAILING;
        goto clear_out;
    }
    return TC_OK;
clear_out:
    memset(out, 0, sizeof(*out));
    return rc;
}
