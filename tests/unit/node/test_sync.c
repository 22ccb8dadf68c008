/*
 * test_sync.c - the block sync codec (node/sync.h): exact bytes, and every
 * malformed frame refused with its code. The answering side (sync_answer)
 * and the requester run in test_cluster.c against real ledgers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "node/sync.h"

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static void test_request_round_trip_has_fixed_bytes(void **state)
{
    (void)state;
    struct sync_request req = { .from_number = 0x0102030405060708ull, .max_blocks = 256 };
    struct bytes b;
    bytes_init(&b);
    assert_int_equal(sync_request_encode(&req, &b), TC_OK);
    const uint8_t want[SYNC_REQUEST_BYTES] = { 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 1, 0 };
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.ptr, want, sizeof(want));
    struct sync_request back;
    assert_int_equal(sync_request_decode(b.ptr, b.len, &back), TC_OK);
    assert_int_equal(back.from_number, req.from_number);
    assert_int_equal(back.max_blocks, 256);
    bytes_free(&b);
}

static void test_malformed_requests_are_refused(void **state)
{
    (void)state;
    uint8_t buf[SYNC_REQUEST_BYTES + 1] = { 1, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 9 };
    struct sync_request r;
    assert_int_equal(sync_request_decode(buf, SYNC_REQUEST_BYTES - 1, &r), TC_ETRUNCATED);
    assert_int_equal(sync_request_decode(buf, SYNC_REQUEST_BYTES + 1, &r), TC_ETRAILING);
    assert_int_equal(sync_request_decode(buf, 1, &r), TC_ETRUNCATED);
    buf[13] = 0; /* max_blocks 0 */
    assert_int_equal(sync_request_decode(buf, SYNC_REQUEST_BYTES, &r), TC_EINVAL);
    buf[13] = 1;
    buf[0] = 2; /* version */
    assert_int_equal(sync_request_decode(buf, SYNC_REQUEST_BYTES, &r), TC_EINVAL);
    buf[0] = 1;
    buf[1] = 2; /* a blocks frame is not a request */
    assert_int_equal(sync_request_decode(buf, SYNC_REQUEST_BYTES, &r), TC_EINVAL);
    buf[1] = 7; /* unknown kind */
    uint8_t kind;
    assert_int_equal(sync_frame_kind(buf, SYNC_REQUEST_BYTES, &kind), TC_EINVAL);
}

/* head 10, applied 12/2, then `count` blocks as given. */
static size_t blocks_frame(uint8_t *buf, uint32_t count)
{
    buf[0] = 1;
    buf[1] = 2;
    put_be(buf + 2, 10, 8);
    put_be(buf + 10, 12, 8);
    put_be(buf + 18, 2, 8);
    put_be(buf + 26, count, 4);
    return 30;
}

static void test_blocks_answer_decodes_entries_as_views(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t n = blocks_frame(buf, 2);
    put_be(buf + n, 11, 8);
    put_be(buf + n + 8, 2, 8);
    put_be(buf + n + 16, 3, 4);
    memcpy(buf + n + 20, "abc", 3);
    n += 23;
    put_be(buf + n, 12, 8);
    put_be(buf + n + 8, 2, 8);
    put_be(buf + n + 16, 0, 4);
    n += 20;
    static struct sync_blocks b;
    assert_int_equal(sync_blocks_decode(buf, n, &b), TC_OK);
    assert_int_equal(b.head_number, 10);
    assert_int_equal(b.applied_index, 12);
    assert_int_equal(b.applied_term, 2);
    assert_int_equal(b.count, 2);
    assert_int_equal(b.blocks[0].raft_index, 11);
    assert_int_equal(b.blocks[0].entry.len, 3);
    assert_ptr_equal(b.blocks[0].entry.ptr, buf + 50);
    assert_int_equal(b.blocks[1].entry.len, 0);
    assert_int_equal(sync_blocks_decode(buf, n - 1, &b), TC_ETRUNCATED);
    buf[n] = 0;
    assert_int_equal(sync_blocks_decode(buf, n + 1, &b), TC_ETRAILING);
}

static void test_blocks_answer_bounds(void **state)
{
    (void)state;
    uint8_t buf[64];
    static struct sync_blocks b;
    size_t n = blocks_frame(buf, SYNC_MAX_BLOCKS + 1);
    assert_int_equal(sync_blocks_decode(buf, n, &b), TC_ETOOBIG);
    n = blocks_frame(buf, 1);
    put_be(buf + n, 11, 8);
    put_be(buf + n + 8, 2, 8);
    put_be(buf + n + 16, 0xffffffffu, 4); /* an entry longer than the frame */
    assert_int_equal(sync_blocks_decode(buf, n + 20, &b), TC_ETRUNCATED);
    assert_int_equal(sync_blocks_decode(buf, 29, &b), TC_ETRUNCATED);
    /* A frame beyond the bound is refused before anything is read. */
    assert_int_equal(sync_blocks_decode(buf, SYNC_MAX_RESPONSE_BYTES + 1u, &b), TC_ETOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_round_trip_has_fixed_bytes),
        cmocka_unit_test(test_malformed_requests_are_refused),
        cmocka_unit_test(test_blocks_answer_decodes_entries_as_views),
        cmocka_unit_test(test_blocks_answer_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
