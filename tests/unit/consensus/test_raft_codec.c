/* test_raft_codec.c - Raft message and membership encoding: round trips and rejections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "base/error.h"
#include "consensus/raft/raft_codec.h"

static struct raft_entry g_entries[RAFT_MSG_MAX_ENTRIES];

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static struct raft_membership two_members(void)
{
    struct raft_membership m;
    memset(&m, 0, sizeof(m));
    m.count = 2;
    m.members[0].id = 7;
    m.members[0].role = RAFT_VOTER;
    m.members[1].id = 0x0102030405060708ULL;
    m.members[1].role = RAFT_LEARNER;
    return m;
}

/* One message of each type, with every field of the type set. */
static struct raft_message sample(uint8_t type)
{
    static const struct raft_entry ents[3] = {
        { 5, 11, RAFT_ENTRY_NOOP, NULL, 0 },
        { 6, 12, RAFT_ENTRY_BLOCK, (const uint8_t *)"block", 5 },
        { 6, 13, RAFT_ENTRY_CONFIG, (const uint8_t *)"\x01\x00\x00\x00\x00", 5 },
    };
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.from = 1;
    m.to = 0xfffffffffffffff0ULL;
    m.term = 6;
    switch (type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        m.index = 99;
        m.log_term = 4;
        m.transfer = true;
        break;
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        m.reject = true;
        break;
    case RAFT_MSG_APPEND:
        m.index = 10;
        m.log_term = 5;
        m.commit = 9;
        m.entries = ents;
        m.entry_count = 3;
        break;
    case RAFT_MSG_APPEND_RESP:
        m.index = 12;
        m.reject = true;
        m.hint_term = 3;
        m.hint_index = 8;
        break;
    case RAFT_MSG_HEARTBEAT:
        m.commit = 44;
        m.context = 1234;
        break;
    case RAFT_MSG_HEARTBEAT_RESP:
        m.context = 1234;
        break;
    case RAFT_MSG_SNAPSHOT:
        m.snapshot.index = 500;
        m.snapshot.term = 5;
        m.snapshot.membership = two_members();
        break;
    default:
        break;
    }
    return m;
}

static void assert_same_message(const struct raft_message *a, const struct raft_message *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->from, b->from);
    assert_int_equal(a->to, b->to);
    assert_int_equal(a->term, b->term);
    assert_int_equal(a->index, b->index);
    assert_int_equal(a->log_term, b->log_term);
    assert_int_equal(a->commit, b->commit);
    assert_int_equal(a->context, b->context);
    assert_int_equal(a->hint_term, b->hint_term);
    assert_int_equal(a->hint_index, b->hint_index);
    assert_int_equal(a->reject, b->reject);
    assert_int_equal(a->transfer, b->transfer);
    assert_int_equal(a->entry_count, b->entry_count);
    for (uint32_t i = 0; i < a->entry_count; i++) {
        assert_int_equal(a->entries[i].term, b->entries[i].term);
        assert_int_equal(a->entries[i].index, b->entries[i].index);
        assert_int_equal(a->entries[i].type, b->entries[i].type);
        assert_int_equal(a->entries[i].len, b->entries[i].len);
        if (a->entries[i].len)
            assert_memory_equal(a->entries[i].data, b->entries[i].data, a->entries[i].len);
    }
    assert_int_equal(a->snapshot.index, b->snapshot.index);
    assert_int_equal(a->snapshot.term, b->snapshot.term);
    assert_int_equal(a->snapshot.membership.count, b->snapshot.membership.count);
    for (uint32_t i = 0; i < a->snapshot.membership.count; i++) {
        assert_int_equal(a->snapshot.membership.members[i].id,
                         b->snapshot.membership.members[i].id);
        assert_int_equal(a->snapshot.membership.members[i].role,
                         b->snapshot.membership.members[i].role);
    }
}

static void test_every_message_type_round_trips(void **state)
{
    (void)state;
    for (uint8_t t = RAFT_MSG_PREVOTE; t <= RAFT_MSG_TYPE_MAX; t++) {
        struct raft_message m = sample(t);
        struct bytes b;
        bytes_init(&b);
        assert_int_equal(raft_msg_encode(&m, &b), TC_OK);
        size_t size;
        assert_int_equal(raft_msg_encoded_size(&m, &size), TC_OK);
        assert_int_equal(size, b.len);
        struct raft_message d;
        assert_int_equal(raft_msg_decode(b.ptr, b.len, &d, g_entries, RAFT_MSG_MAX_ENTRIES), TC_OK);
        assert_same_message(&m, &d);
        struct bytes again;
        bytes_init(&again);
        assert_int_equal(raft_msg_encode(&d, &again), TC_OK);
        assert_int_equal(again.len, b.len);
        assert_memory_equal(again.ptr, b.ptr, b.len);
        bytes_free(&again);
        bytes_free(&b);
    }
}

static void test_header_layout_is_little_endian_fixed_width(void **state)
{
    (void)state;
    struct raft_message m = sample(RAFT_MSG_HEARTBEAT_RESP);
    struct bytes b;
    bytes_init(&b);
    assert_int_equal(raft_msg_encode(&m, &b), TC_OK);
    static const uint8_t want[] = {
        RAFT_CODEC_VERSION,
        RAFT_MSG_HEARTBEAT_RESP,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0xf0,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        6,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0xd2,
        0x04,
        0,
        0,
        0,
        0,
        0,
        0,
    };
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.ptr, want, sizeof(want));
    bytes_free(&b);
}

static void test_every_truncation_is_rejected(void **state)
{
    (void)state;
    for (uint8_t t = RAFT_MSG_PREVOTE; t <= RAFT_MSG_TYPE_MAX; t++) {
        struct raft_message m = sample(t), d;
        struct bytes b;
        bytes_init(&b);
        assert_int_equal(raft_msg_encode(&m, &b), TC_OK);
        for (size_t n = 0; n < b.len; n++)
            assert_int_equal(raft_msg_decode(b.ptr, n, &d, g_entries, RAFT_MSG_MAX_ENTRIES),
                             TC_ETRUNCATED);
        bytes_free(&b);
    }
}

static void test_trailing_byte_is_rejected(void **state)
{
    (void)state;
    for (uint8_t t = RAFT_MSG_PREVOTE; t <= RAFT_MSG_TYPE_MAX; t++) {
        struct raft_message m = sample(t), d;
        struct bytes b;
        bytes_init(&b);
        assert_int_equal(raft_msg_encode(&m, &b), TC_OK);
        assert_int_equal(bytes_push(&b, 0), TC_OK);
        assert_int_equal(raft_msg_decode(b.ptr, b.len, &d, g_entries, RAFT_MSG_MAX_ENTRIES),
                         TC_ETRAILING);
        bytes_free(&b);
    }
}

/* Encodes sample(type), lets `mutate` change byte `at`, and decodes. */
static int decode_mutated(uint8_t type, size_t at, uint8_t value)
{
    struct raft_message m = sample(type), d;
    struct bytes b;
    bytes_init(&b);
    assert_int_equal(raft_msg_encode(&m, &b), TC_OK);
    assert_true(at < b.len);
    b.ptr[at] = value;
    int rc = raft_msg_decode(b.ptr, b.len, &d, g_entries, RAFT_MSG_MAX_ENTRIES);
    bytes_free(&b);
    return rc;
}

static void test_bad_version_type_and_flags_are_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode_mutated(RAFT_MSG_VOTE, 0, 2), TC_EINVAL);         /* version */
    assert_int_equal(decode_mutated(RAFT_MSG_VOTE, 1, 0), TC_EINVAL);         /* type 0 */
    assert_int_equal(decode_mutated(RAFT_MSG_VOTE, 1, 11), TC_EINVAL);        /* type 11 */
    assert_int_equal(decode_mutated(RAFT_MSG_VOTE, 26 + 16, 2), TC_EINVAL);   /* transfer */
    assert_int_equal(decode_mutated(RAFT_MSG_VOTE_RESP, 26, 2), TC_EINVAL);   /* reject */
    assert_int_equal(decode_mutated(RAFT_MSG_APPEND_RESP, 34, 9), TC_EINVAL); /* reject */
    /* APPEND: header 26, index/log_term/commit 24, count 4, then entry 0: term 8, type. */
    assert_int_equal(decode_mutated(RAFT_MSG_APPEND, 26 + 24 + 4 + 8, 3), TC_EINVAL);
}

static void test_entry_count_and_length_bounds(void **state)
{
    (void)state;
    struct raft_message m = sample(RAFT_MSG_APPEND), d;
    struct bytes b;
    bytes_init(&b);
    assert_int_equal(raft_msg_encode(&m, &b), TC_OK);
    /* More entries than the caller has room for. */
    assert_int_equal(raft_msg_decode(b.ptr, b.len, &d, g_entries, 2), TC_ETOOBIG);
    /* A count above RAFT_MSG_MAX_ENTRIES. */
    size_t count_at = 26 + 24;
    uint32_t big = RAFT_MSG_MAX_ENTRIES + 1;
    put32(b.ptr + count_at, big);
    assert_int_equal(raft_msg_decode(b.ptr, b.len, &d, g_entries, RAFT_MSG_MAX_ENTRIES),
                     TC_ETOOBIG);
    /* A count that promises more than is there. */
    uint32_t four = 4;
    put32(b.ptr + count_at, four);
    assert_int_equal(raft_msg_decode(b.ptr, b.len, &d, g_entries, RAFT_MSG_MAX_ENTRIES),
                     TC_ETRUNCATED);
    uint32_t three = 3;
    put32(b.ptr + count_at, three);
    /* An entry length beyond RAFT_ENTRY_MAX_BYTES, and one beyond the input. */
    size_t len_at = count_at + 4 + 8 + 1;
    uint32_t huge = RAFT_ENTRY_MAX_BYTES + 1;
    put32(b.ptr + len_at, huge);
    assert_int_equal(raft_msg_decode(b.ptr, b.len, &d, g_entries, RAFT_MSG_MAX_ENTRIES),
                     TC_ETOOBIG);
    uint32_t past = 1000;
    put32(b.ptr + len_at, past);
    assert_int_equal(raft_msg_decode(b.ptr, b.len, &d, g_entries, RAFT_MSG_MAX_ENTRIES),
                     TC_ETRUNCATED);
    bytes_free(&b);
}

static void test_index_overflow_is_rejected(void **state)
{
    (void)state;
    struct raft_message m = sample(RAFT_MSG_APPEND), d;
    struct bytes b;
    bytes_init(&b);
    assert_int_equal(raft_msg_encode(&m, &b), TC_OK);
    memset(b.ptr + 26, 0xff, 8); /* index = UINT64_MAX with three entries after it */
    assert_int_equal(raft_msg_decode(b.ptr, b.len, &d, g_entries, RAFT_MSG_MAX_ENTRIES), TC_ERANGE);
    m.index = UINT64_MAX - 1;
    size_t size;
    assert_int_equal(raft_msg_encoded_size(&m, &size), TC_ERANGE);
    bytes_free(&b);
}

static void test_encoder_refuses_what_decoder_would_reject(void **state)
{
    (void)state;
    struct raft_message m = sample(RAFT_MSG_APPEND);
    struct raft_entry bad[1] = { { 1, 99, RAFT_ENTRY_BLOCK, NULL, 0 } };
    m.entries = bad;
    m.entry_count = 1;
    struct bytes b;
    bytes_init(&b);
    assert_int_equal(raft_msg_encode(&m, &b), TC_EINVAL); /* index not prev + 1 */
    assert_int_equal(b.len, 0);
    m = sample(RAFT_MSG_SNAPSHOT);
    m.snapshot.membership.members[1].id = 7; /* duplicate */
    assert_int_equal(raft_msg_encode(&m, &b), TC_EINVAL);
    m = sample(RAFT_MSG_VOTE);
    m.type = 0;
    assert_int_equal(raft_msg_encode(&m, &b), TC_EINVAL);
    bytes_free(&b);
}

static void test_membership_round_trip_and_rejections(void **state)
{
    (void)state;
    struct raft_membership m = two_members(), d;
    uint8_t buf[RAFT_MEMBERSHIP_MAX_BYTES];
    size_t len;
    assert_int_equal(raft_membership_encode(&m, buf, sizeof(buf), &len), TC_OK);
    assert_int_equal(len, 1 + 4 + 2 * 9);
    assert_int_equal(raft_membership_decode(buf, len, &d), TC_OK);
    assert_int_equal(d.count, 2);
    assert_int_equal(d.members[1].id, m.members[1].id);
    assert_int_equal(d.members[1].role, RAFT_LEARNER);
    assert_int_equal(raft_membership_encode(&m, buf, len - 1, &len), TC_ETOOBIG);
    len = 1 + 4 + 2 * 9;
    assert_int_equal(raft_membership_decode(buf, len - 1, &d), TC_ETRUNCATED);
    uint8_t copy[64];
    memcpy(copy, buf, len);
    copy[len] = 0;
    assert_int_equal(raft_membership_decode(copy, len + 1, &d), TC_ETRAILING);
    memcpy(copy, buf, len);
    copy[5 + 8] = 3; /* role */
    assert_int_equal(raft_membership_decode(copy, len, &d), TC_EINVAL);
    memcpy(copy, buf, len);
    memset(copy + 5, 0, 8); /* id 0 */
    assert_int_equal(raft_membership_decode(copy, len, &d), TC_EINVAL);
    memcpy(copy, buf, len);
    memcpy(copy + 5 + 9, copy + 5, 8); /* repeated id */
    assert_int_equal(raft_membership_decode(copy, len, &d), TC_EINVAL);
    memcpy(copy, buf, len);
    copy[1] = RAFT_MAX_NODES + 1; /* count */
    assert_int_equal(raft_membership_decode(copy, len, &d), TC_ETOOBIG);
    memcpy(copy, buf, len);
    copy[0] = 9; /* version */
    assert_int_equal(raft_membership_decode(copy, len, &d), TC_EINVAL);
    struct raft_membership full;
    memset(&full, 0, sizeof(full));
    full.count = RAFT_MAX_NODES;
    for (uint32_t i = 0; i < RAFT_MAX_NODES; i++) {
        full.members[i].id = i + 1;
        full.members[i].role = RAFT_VOTER;
    }
    uint8_t big[RAFT_MEMBERSHIP_MAX_BYTES];
    assert_int_equal(raft_membership_encode(&full, big, sizeof(big), &len), TC_OK);
    assert_int_equal(len, RAFT_MEMBERSHIP_MAX_BYTES);
}

static void test_oversized_input_rejected_without_reading_it(void **state)
{
    (void)state;
    struct raft_message d;
    static const uint8_t byte = RAFT_CODEC_VERSION;
    assert_int_equal(
        raft_msg_decode(&byte, (size_t)RAFT_MSG_MAX_BYTES + 1, &d, g_entries, RAFT_MSG_MAX_ENTRIES),
        TC_ETOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_message_type_round_trips),
        cmocka_unit_test(test_header_layout_is_little_endian_fixed_width),
        cmocka_unit_test(test_every_truncation_is_rejected),
        cmocka_unit_test(test_trailing_byte_is_rejected),
        cmocka_unit_test(test_bad_version_type_and_flags_are_rejected),
        cmocka_unit_test(test_entry_count_and_length_bounds),
        cmocka_unit_test(test_index_overflow_is_rejected),
        cmocka_unit_test(test_encoder_refuses_what_decoder_would_reject),
        cmocka_unit_test(test_membership_round_trip_and_rejections),
        cmocka_unit_test(test_oversized_input_rejected_without_reading_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
