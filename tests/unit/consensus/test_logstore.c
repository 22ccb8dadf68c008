/* test_logstore.c - the Raft log store's logic: CRC-32C, append/sync/reopen, truncation,
 * compaction, segment rollover, hard state, and explicit torn-tail versus middle damage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"
#include "consensus/raft/logstore.h"

/* ---- fixture: a fresh directory per test ---- */

static char test_dir[512];

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char path[1024];
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static int setup_dir(void **state)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(test_dir, sizeof(test_dir), "%s/logstore-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(test_dir))
        return -1;
    return 0;
}

static int teardown_dir(void **state)
{
    remove_tree(test_dir);
    return 0;
}

static struct logstore_options small_options(bool fsync)
{
    struct logstore_options o;
    logstore_options_default(&o);
    o.segment_bytes = 1024;
    o.max_record_bytes = 4096;
    o.max_pending_bytes = 1 << 20;
    o.fsync = fsync;
    return o;
}

static struct logstore *open_ok(const struct logstore_options *o)
{
    struct logstore *ls = NULL;
    char err[512];
    int rc = logstore_open(test_dir, o, &ls, err, sizeof(err));
    if (rc != TC_OK)
        print_error("open failed: %s (%s)\n", tc_strerror(rc), err);
    assert_int_equal(rc, TC_OK);
    assert_non_null(ls);
    return ls;
}

/* Payload of entry (index, term): length and bytes derived from both. */
static size_t payload_of(uint64_t index, uint64_t term, uint8_t *buf, size_t cap)
{
    struct rng r;
    rng_seed(&r, index * 1000003u + term);
    size_t len = (size_t)rng_below(&r, cap < 300 ? cap : 300);
    rng_fill(&r, buf, len);
    return len;
}

static void append_entry(struct logstore *ls, uint64_t index, uint64_t term)
{
    uint8_t buf[512];
    size_t len = payload_of(index, term, buf, sizeof(buf));
    assert_int_equal(logstore_append(ls, index, term, (uint8_t)(index % 3), buf, len), TC_OK);
}

static void expect_entry(struct logstore *ls, uint64_t index, uint64_t term)
{
    uint8_t want[512];
    size_t len = payload_of(index, term, want, sizeof(want));
    struct bytes got;
    bytes_init(&got);
    uint64_t t;
    uint8_t type;
    assert_int_equal(logstore_read(ls, index, &t, &type, &got), TC_OK);
    assert_int_equal(t, term);
    assert_int_equal(type, index % 3);
    assert_int_equal(got.len, len);
    assert_memory_equal(got.ptr, want, len);
    assert_int_equal(logstore_term_at(ls, index, &t), TC_OK);
    assert_int_equal(t, term);
    bytes_free(&got);
}

static int count_segments(void)
{
    DIR *d = opendir(test_dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += strncmp(de->d_name, "seg-", 4) == 0;
    closedir(d);
    return n;
}

static void segment_path(uint64_t first_index, char *path, size_t cap)
{
    snprintf(path, cap, "%s/seg-%016llx.log", test_dir, (unsigned long long)first_index);
}

static off_t file_size(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return sb.st_size;
}

static void flip_byte(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= 0x5a;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

/* ---- CRC-32C ---- */

static uint32_t crc_bitwise(const uint8_t *p, size_t len)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
    }
    return ~c;
}

static void test_crc32c_standard_check_value(void **state)
{
    const char *s = "123456789";
    assert_int_equal(logstore_crc32c(0, s, 9), 0xE3069283u);
    assert_int_equal(logstore_crc32c_portable(0, s, 9), 0xE3069283u);
    assert_int_equal(logstore_crc32c(logstore_crc32c(0, s, 4), s + 4, 5), 0xE3069283u);
    assert_int_equal(logstore_crc32c(0, s, 0), 0);
}

static void test_crc32c_rfc3720_vectors(void **state)
{
    uint8_t buf[48];
    memset(buf, 0, 32);
    assert_int_equal(logstore_crc32c(0, buf, 32), 0x8A9136AAu);
    assert_int_equal(logstore_crc32c_portable(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, 32);
    assert_int_equal(logstore_crc32c(0, buf, 32), 0x62A8AB43u);
    assert_int_equal(logstore_crc32c_portable(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(logstore_crc32c(0, buf, 32), 0x46DD794Eu);
    assert_int_equal(logstore_crc32c_portable(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    assert_int_equal(logstore_crc32c(0, buf, 32), 0x113FDB5Cu);
    assert_int_equal(logstore_crc32c_portable(0, buf, 32), 0x113FDB5Cu);
    static const uint8_t pdu[48] = { 0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
                                     0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
                                     0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                     0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
    assert_int_equal(logstore_crc32c(0, pdu, 48), 0xD9963A56u);
    assert_int_equal(logstore_crc32c_portable(0, pdu, 48), 0xD9963A56u);
}

static void test_crc32c_paths_agree_at_every_length_and_alignment(void **state)
{
    uint8_t buf[600];
    struct rng r;
    rng_seed(&r, 3720);
    rng_fill(&r, buf, sizeof(buf));
    print_message("crc32c hardware path: %s\n", logstore_crc32c_has_hw() ? "yes" : "no");
    for (size_t start = 0; start < 9; start++) {
        for (size_t len = 0; start + len <= sizeof(buf); len += 1 + len / 8) {
            uint32_t want = crc_bitwise(buf + start, len);
            assert_int_equal(logstore_crc32c(0, buf + start, len), want);
            assert_int_equal(logstore_crc32c_portable(0, buf + start, len), want);
            size_t cut = len / 3;
            assert_int_equal(
                logstore_crc32c(logstore_crc32c(0, buf + start, cut), buf + start + cut, len - cut),
                want);
        }
    }
}

/* ---- append, sync, reopen ---- */

static void test_append_sync_reopen_keeps_entries(void **state)
{
    struct logstore_options o = small_options(false);
    struct logstore *ls = open_ok(&o);
    assert_int_equal(logstore_first_index(ls), 1);
    assert_int_equal(logstore_last_index(ls), 0);
    for (uint64_t i = 1; i <= 50; i++)
        append_entry(ls, i, 1 + i / 10);
    assert_int_equal(logstore_sync(ls), TC_OK);
    assert_int_equal(logstore_synced_index(ls), 50);
    logstore_close(ls);

    ls = open_ok(&o);
    assert_int_equal(logstore_first_index(ls), 1);
    assert_int_equal(logstore_last_index(ls), 50);
    assert_int_equal(logstore_synced_index(ls), 50);
    for (uint64_t i = 1; i <= 50; i++)
        expect_entry(ls, i, 1 + i / 10);
    uint64_t t;
    assert_int_equal(logstore_term_at(ls, 51, &t), TC_ENOTFOUND);
    assert_int_equal(logstore_term_at(ls, 0, &t), TC_OK);
    assert_int_equal(t, 0);
    for (uint64_t i = 51; i <= 60; i++)
        append_entry(ls, i, 7);
    assert_int_equal(logstore_sync(ls), TC_OK);
    logstore_close(ls);

    ls = open_ok(&o);
    assert_int_equal(logstore_last_index(ls), 60);
    for (uint64_t i = 1; i <= 60; i++)
        expect_entry(ls, i, i > 50 ? 7 : 1 + i / 10);
    logstore_close(ls);
}

static void test_unsynced_entries_are_readable_and_lost_on_close(void **state)
{
    struct logstore_options o = small_options(false);
    struct logstore *ls = open_ok(&o);
    for (uint64_t i = 1; i <= 5; i++)
        append_entry(ls, i, 2);
    assert_int_equal(logstore_sync(ls), TC_OK);
    for (uint64_t i = 6; i <= 9; i++)
        append_entry(ls, i, 3);
    assert_int_equal(logstore_last_index(ls), 9);
    assert_int_equal(logstore_synced_index(ls), 5);
    for (uint64_t i = 1; i <= 9; i++)
        expect_entry(ls, i, i > 5 ? 3 : 2);
    uint64_t t;
    uint8_t type;
    size_t len;
    assert_int_equal(logstore_entry_info(ls, 7, &t, &type, &len), TC_OK);
    assert_int_equal(t, 3);
    logstore_close(ls);

    ls = open_ok(&o);
    assert_int_equal(logstore_last_index(ls), 5);
    logstore_close(ls);
}

static void test_append_rejects_gaps_and_decreasing_terms(void **state)
{
    struct logstore_options o = small_options(false);
    struct logstore *ls = open_ok(&o);
    assert_int_equal(logstore_append(ls, 2, 1, 0, "x", 1), TC_EINVAL);
    assert_int_equal(logstore_append(ls, 0, 1, 0, "x", 1), TC_EINVAL);
    assert_int_equal(logstore_append(ls, 1, 5, 0, "x", 1), TC_OK);
    assert_int_equal(logstore_append(ls, 1, 5, 0, "x", 1), TC_EINVAL);
    assert_int_equal(logstore_append(ls, 3, 5, 0, "x", 1), TC_EINVAL);
    assert_int_equal(logstore_append(ls, 2, 4, 0, "x", 1), TC_EINVAL);
    assert_int_equal(logstore_append(ls, 2, 5, 0, NULL, 1), TC_EINVAL);
    assert_int_equal(logstore_append(ls, 2, 5, 0, NULL, 0), TC_OK);
    assert_int_equal(logstore_last_index(ls), 2);
    logstore_close(ls);
}

static void test_oversized_records_and_bad_options_are_rejected(void **state)
{
    struct logstore_options o = small_options(false);
    struct logstore *ls = open_ok(&o);
    uint8_t *big = calloc(1, o.max_record_bytes + 1);
    assert_non_null(big);
    assert_int_equal(logstore_append(ls, 1, 1, 0, big, o.max_record_bytes + 1), TC_ETOOBIG);
    assert_int_equal(logstore_append(ls, 1, 1, 0, big, o.max_record_bytes), TC_OK);
    assert_int_equal(logstore_sync(ls), TC_OK);
    logstore_close(ls);
    free(big);

    /* A store opened with a smaller bound treats the big record as corrupt. */
    struct logstore_options tight = o;
    tight.max_record_bytes = 100;
    struct logstore *bad = NULL;
    char err[512];
    /* It is the only record of the last batch: a torn tail, truncated. */
    assert_int_equal(logstore_open(test_dir, &tight, &bad, err, sizeof(err)), TC_OK);
    assert_int_equal(logstore_last_index(bad), 0);
    logstore_close(bad);

    struct logstore_options wrong = o;
    wrong.segment_bytes = 10;
    assert_int_equal(logstore_open(test_dir, &wrong, &bad, err, sizeof(err)), TC_EINVAL);
    assert_null(bad);
    wrong = o;
    wrong.max_record_bytes = 0;
    assert_int_equal(logstore_open(test_dir, &wrong, &bad, err, sizeof(err)), TC_EINVAL);
    wrong = o;
    wrong.max_pending_bytes = 10;
    assert_int_equal(logstore_open(test_dir, &wrong, &bad, err, sizeof(err)), TC_EINVAL);
}

static void test_pending_bound_is_enforced(void **state)
{
    struct logstore_options o = small_options(false);
    o.max_pending_bytes = o.max_record_bytes + LOGSTORE_RECORD_HEADER_BYTES;
    struct logstore *ls = open_ok(&o);
    /* 4136 bytes allowed: three records of 1040 bytes fit, a fourth does not. */
    uint8_t buf[1000] = { 0 };
    for (uint64_t i = 1; i <= 3; i++)
        assert_int_equal(logstore_append(ls, i, 1, 0, buf, sizeof(buf)), TC_OK);
    assert_int_equal(logstore_append(ls, 4, 1, 0, buf, sizeof(buf)), TC_EFULL);
    assert_int_equal(logstore_sync(ls), TC_OK);
    assert_int_equal(logstore_append(ls, 4, 1, 0, buf, sizeof(buf)), TC_OK);
    logstore_close(ls);
}

/* ---- truncation ---- */

static void test_truncate_suffix_then_append_different_entries_survives_reopen(void **state)
{
    struct logstore_options o = small_options(false);
    struct logstore *ls = open_ok(&o);
    for (uint64_t i = 1; i <= 40; i++)
        append_entry(ls, i, 1);
    assert_int_equal(logstore_sync(ls), TC_OK);
    int before = count_segments();
    assert_true(before > 3);
    assert_int_equal(logstore_truncate_suffix(ls, 12), TC_OK);
    assert_int_equal(logstore_last_index(ls), 11);
    assert_true(count_segments() < before);
    uint64_t t;
    assert_int_equal(logstore_term_at(ls, 12, &t), TC_ENOTFOUND);
    for (uint64_t i = 12; i <= 30; i++)
        append_entry(ls, i, 2);
    assert_int_equal(logstore_sync(ls), TC_OK);
    logstore_close(ls);

    ls = open_ok(&o);
    assert_int_equal(logstore_last_index(ls), 30);
    for (uint64_t i = 1; i <= 30; i++)
        expect_entry(ls, i, i >= 12 ? 2 : 1);
    logstore_close(ls);
}

static void test_truncate_suffix_is_durable_without_a_later_append(void **state)
{
    struct logstore_options o = small_options(false);
    struct logstore *ls = open_ok(&o);
    for (uint64_t i = 1; i <= 40; i++)
        append_entry(ls, i, 1);
    assert_int_equal(logstore_sync(ls), TC_OK);
    /* At a segment's first index: that whole segment goes. */
    uint64_t first_of_third = 0;
    for (uint64_t i = 2; i <= 40 && !first_of_third; i++) {
        char path[1024];
        segment_path(i, path, sizeof(path));
        first_of_third = access(path, F_OK) == 0 && i > 5 ? i : 0;
    }
    assert_true(first_of_third > 0);
    assert_int_equal(logstore_truncate_suffix(ls, first_of_third), TC_OK);
    logstore_close(ls);
    ls = open_ok(&o);
    assert_int_equal(logstore_last_index(ls), first_of_third - 1);
    assert_int_equal(logstore_truncate_suffix(ls, 3), TC_OK);
    assert_int_equal(logstore_truncate_suffix(ls, 100), TC_OK);
    logstore_close(ls);
    ls = open_ok(&o);
    assert_int_equal(logstore_last_index(ls), 2);
    expect_entry(ls, 2, 1);
    append_entry(ls, 3, 4);
    assert_int_equal(logstore_sync(ls), TC_OK);
    logstore_close(ls);
    ls = open_ok(&o);
    expect_entry(ls, 3, 4);
    logstore_close(ls);
}

static void test_truncate_suffix_of_pending_entries(void **state)
{
    struct logstore_options o = small_options(false);
    struct logstore *ls = open_ok(&o);
    for (uint64_t i = 1; i <= 5; i++)
        append_entry(ls, i, 1);
    assert_int_equal(logstore_sync(ls), TC_OK);
    for (uint64_t i = 6; i <= 30; i++)
        append_entry(ls, i, 2);
    assert_int_equal(logstore_truncate_suffix(ls, 20), TC_OK);
    assert_int_equal(logstore_last_index(ls), 19);
    assert_int_equal(logstore_synced_index(ls), 5);
    for (uint64_t i = 20; i <= 25; i++)
        append_entry(ls, i, 3);
    assert_int_equal(logstore_truncate_suffix(ls, 4), TC_OK);
    assert_int_equal(logstore_last_index(ls), 3);
    assert_int_equal(logstore_synced_index(ls), 3);
    for (uint64_t i = 4; i <= 35; i++)
        append_entry(ls, i, 5);
    assert_int_equal(logstore_sync(ls), TC_OK);
    logstore_close(ls);
    ls = open_ok(&o);
    assert_int_equal(logstore_last_index(ls), 35);
    for (uint64_t i = 1; i <= 35; i++)
        expect_entry(ls, i, i >= 4 ? 5 : 1);
    logstore_close(ls);
}

/* ---- compaction ---- */

static void test_compact_then_reopen_keeps_boundary_and_suffix(void **state)
{
    struct logstore_options o = small_options(false);
    struct logstore *ls = open_ok(&o);
    for (uint64_t i = 1; i <= 60; i++)
        append_entry(ls, i, 1 + i / 20);
    assert_int_equal(logstore_sync(ls), TC_OK);
    int before = count_segments();
    assert_int_equal(logstore_compact(ls, 31), TC_OK);
    assert_true(count_segments() < before);
    assert_int_equal(logstore_first_index(ls), 31);
    uint64_t t, bi, bt;
    assert_int_equal(logstore_term_at(ls, 30, &t), TC_OK);
    assert_int_equal(t, 2);
    assert_int_equal(logstore_term_at(ls, 29, &t), TC_ERANGE);
    struct bytes b;
    bytes_init(&b);
    uint8_t type;
    assert_int_equal(logstore_read(ls, 30, &t, &type, &b), TC_ERANGE);
    assert_int_equal(logstore_compact(ls, 10), TC_OK);
    assert_int_equal(logstore_compact(ls, 62), TC_ERANGE);
    assert_int_equal(logstore_truncate_suffix(ls, 30), TC_ERANGE);
    logstore_close(ls);

    ls = open_ok(&o);
    assert_int_equal(logstore_first_index(ls), 31);
    assert_int_equal(logstore_last_index(ls), 60);
    logstore_boundary(ls, &bi, &bt);
    assert_int_equal(bi, 30);
    assert_int_equal(bt, 2);
    for (uint64_t i = 31; i <= 60; i++)
        expect_entry(ls, i, 1 + i / 20);
    assert_int_equal(logstore_read(ls, 30, &t, &type, &b), TC_ERANGE);
    /* The suffix is still a log: truncating all of it then appending works. */
    assert_int_equal(logstore_truncate_suffix(ls, 31), TC_OK);
    assert_int_equal(logstore_append(ls, 31, 1, 0, "x", 1), TC_EINVAL);
    append_entry(ls, 31, 9);
    assert_int_equal(logstore_sync(ls), TC_OK);
    logstore_close(ls);
    ls = open_ok(&o);
    assert_int_equal(logstore_last_index(ls), 31);
    expect_entry(ls, 31, 9);
    logstore_close(ls);
    bytes_free(&b);
}

static void test_compact_everything_then_append(void **state)
{
    struct logstore_options o = small_options(false);
    struct logstore *ls = open_ok(&o);
    for (uint64_t i = 1; i <= 30; i++)
        append_entry(ls, i, 3);
    assert_int_equal(logstore_sync(ls), TC_OK);
    append_entry(ls, 31, 3);
    assert_int_equal(logstore_compact(ls, 32), TC_ESTATE);
    assert_int_equal(logstore_sync(ls), TC_OK);
    assert_int_equal(logstore_compact(ls, 32), TC_OK);
    assert_int_equal(count_segments(), 0);
    assert_int_equal(logstore_first_index(ls), 32);
    assert_int_equal(logstore_last_index(ls), 31);
    logstore_close(ls);
    ls = open_ok(&o);
    assert_int_equal(logstore_first_index(ls), 32);
    assert_int_equal(logstore_last_index(ls), 31);
    uint64_t t;
    assert_int_equal(logstore_term_at(ls, 31, &t), TC_OK);
    assert_int_equal(t, 3);
    assert_int_equal(logstore_append(ls, 32, 2, 0, "x", 1), TC_EINVAL);
    append_entry(ls, 32, 4);
    assert_int_equal(logstore_sync(ls), TC_OK);
    logstore_close(ls);
    ls = open_ok(&o);
    expect_entry(ls, 32, 4);
    logstore_close(ls);
}

static void test_interrupted_compaction_leftovers_are_deleted_on_open(void **state)
{
    struct logstore_options o = small_options(false);
    struct logstore *ls = open_ok(&o);
    for (uint64_t i = 1; i <= 40; i++)
        append_entry(ls, i, 1);
    assert_int_equal(logstore_sync(ls), TC_OK);
    char path[1024], copy[1100];
    segment_path(1, path, sizeof(path));
    snprintf(copy, sizeof(copy), "%s.keep", path);
    assert_int_equal(link(path, copy), 0);
    assert_int_equal(logstore_compact(ls, 35), TC_OK);
    logstore_close(ls);
    /* As if the unlink of the first segment never reached the disk. */
    assert_int_equal(rename(copy, path), 0);
    ls = open_ok(&o);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(logstore_first_index(ls), 35);
    for (uint64_t i = 35; i <= 40; i++)
        expect_entry(ls, i, 1);
    logstore_close(ls);
}

static void test_reset_to_snapshot_discards_the_log(void **state)
{
    struct logstore_options o = small_options(false);
    struct logstore *ls = open_ok(&o);
    for (uint64_t i = 1; i <= 30; i++)
        append_entry(ls, i, 1);
    assert_int_equal(logstore_sync(ls), TC_OK);
    append_entry(ls, 31, 1);
    assert_int_equal(logstore_reset_to_snapshot(ls, 100, 4), TC_OK);
    assert_int_equal(count_segments(), 0);
    assert_int_equal(logstore_first_index(ls), 101);
    assert_int_equal(logstore_last_index(ls), 100);
    assert_int_equal(logstore_reset_to_snapshot(ls, 99, 4), TC_ERANGE);
    append_entry(ls, 101, 4);
    assert_int_equal(logstore_sync(ls), TC_OK);
    logstore_close(ls);
    ls = open_ok(&o);
    uint64_t t;
    assert_int_equal(logstore_term_at(ls, 100, &t), TC_OK);
    assert_int_equal(t, 4);
    expect_entry(ls, 101, 4);
    logstore_close(ls);
}

/* ---- segments ---- */

static void test_rollover_across_many_small_segments(void **state)
{
    struct logstore_options o = small_options(false);
    o.segment_bytes = 256;
    struct logstore *ls = open_ok(&o);
    uint64_t index = 1;
    for (int batch = 0; batch < 40; batch++) {
        for (int k = 0; k < 1 + batch % 7; k++, index++)
            append_entry(ls, index, 1 + (uint64_t)batch);
        assert_int_equal(logstore_sync(ls), TC_OK);
    }
    uint64_t last = index - 1;
    assert_true(count_segments() > 40);
    /* A segment stays within the limit unless it holds one record bigger than it. */
    DIR *d = opendir(test_dir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "seg-", 4) != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", test_dir, de->d_name);
        off_t size = file_size(path);
        assert_true(size > 0);
        if (size > 256) {
            uint8_t hdr[LOGSTORE_RECORD_HEADER_BYTES];
            FILE *f = fopen(path, "rb");
            assert_non_null(f);
            assert_int_equal(fread(hdr, 1, sizeof(hdr), f), sizeof(hdr));
            fclose(f);
            uint32_t len =
                hdr[8] | (uint32_t)hdr[9] << 8 | (uint32_t)hdr[10] << 16 | (uint32_t)hdr[11] << 24;
            assert_int_equal(size, LOGSTORE_RECORD_HEADER_BYTES + len);
        }
    }
    closedir(d);
    logstore_close(ls);
    ls = open_ok(&o);
    assert_int_equal(logstore_last_index(ls), last);
    index = 1;
    for (int batch = 0; batch < 40; batch++)
        for (int k = 0; k < 1 + batch % 7; k++, index++)
            expect_entry(ls, index, 1 + (uint64_t)batch);
    logstore_close(ls);
}

static void test_missing_middle_segment_fails_open(void **state)
{
    struct logstore_options o = small_options(false);
    struct logstore *ls = open_ok(&o);
    for (uint64_t i = 1; i <= 40; i++)
        append_entry(ls, i, 1);
    assert_int_equal(logstore_sync(ls), TC_OK);
    logstore_close(ls);
    char path[1024];
    uint64_t victim = 0;
    for (uint64_t i = 2; i <= 40 && !victim; i++) {
        segment_path(i, path, sizeof(path));
        victim = access(path, F_OK) == 0 ? i : 0;
    }
    assert_true(victim > 0);
    assert_int_equal(unlink(path), 0);
    char err[512];
    assert_int_equal(logstore_open(test_dir, &o, &ls, err, sizeof(err)), TC_ECORRUPT);
    assert_non_null(strstr(err, "offset 0"));
    assert_non_null(strstr(err, "seg-"));
}

/* ---- torn tail versus middle damage ---- */

/* Writes entries 1..10 in batches {1..4}, {5..7}, {8..10}, all in one segment. */
static void write_three_batches(const struct logstore_options *o)
{
    struct logstore *ls = open_ok(o);
    for (uint64_t i = 1; i <= 10; i++) {
        append_entry(ls, i, 1);
        if (i == 4 || i == 7 || i == 10)
            assert_int_equal(logstore_sync(ls), TC_OK);
    }
    logstore_close(ls);
}

static off_t record_offset(uint64_t index)
{
    off_t off = 0;
    uint8_t buf[512];
    for (uint64_t i = 1; i < index; i++)
        off += (off_t)(LOGSTORE_RECORD_HEADER_BYTES + payload_of(i, 1, buf, sizeof(buf)));
    return off;
}

static void test_torn_tail_is_truncated_and_log_continues(void **state)
{
    struct logstore_options o = small_options(false);
    o.segment_bytes = 1 << 20;
    write_three_batches(&o);
    char path[1024];
    segment_path(1, path, sizeof(path));
    off_t cut = record_offset(10) + 17;
    assert_int_equal(truncate(path, cut), 0);
    struct logstore *ls = open_ok(&o);
    assert_int_equal(logstore_last_index(ls), 9);
    assert_int_equal(file_size(path), record_offset(10));
    for (uint64_t i = 1; i <= 9; i++)
        expect_entry(ls, i, 1);
    append_entry(ls, 10, 2);
    assert_int_equal(logstore_sync(ls), TC_OK);
    logstore_close(ls);
    ls = open_ok(&o);
    expect_entry(ls, 10, 2);
    logstore_close(ls);
}

static void test_damage_in_last_batch_before_intact_records_of_it_is_a_torn_tail(void **state)
{
    struct logstore_options o = small_options(false);
    o.segment_bytes = 1 << 20;
    write_three_batches(&o);
    char path[1024];
    segment_path(1, path, sizeof(path));
    /* Record 8 damaged, 9 and 10 (same batch) intact: pages reached the disk out of order. */
    flip_byte(path, record_offset(8) + 20);
    struct logstore *ls = open_ok(&o);
    assert_int_equal(logstore_last_index(ls), 7);
    logstore_close(ls);
}

static void test_damage_followed_by_a_later_batch_fails_open_with_file_and_offset(void **state)
{
    struct logstore_options o = small_options(false);
    o.segment_bytes = 1 << 20;
    write_three_batches(&o);
    char path[1024];
    segment_path(1, path, sizeof(path));
    off_t off = record_offset(6);
    flip_byte(path, off + LOGSTORE_RECORD_HEADER_BYTES);
    struct logstore *ls = NULL;
    char err[512], want[64];
    assert_int_equal(logstore_open(test_dir, &o, &ls, err, sizeof(err)), TC_ECORRUPT);
    assert_null(ls);
    snprintf(want, sizeof(want), "offset %lld:", (long long)off);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "seg-0000000000000001.log"));
    /* The file is left as it was: no repair of acknowledged data. */
    assert_int_equal(file_size(path), record_offset(11));
}

static void test_damage_in_an_earlier_segment_fails_open(void **state)
{
    struct logstore_options o = small_options(false);
    struct logstore *ls = open_ok(&o);
    for (uint64_t i = 1; i <= 40; i++)
        append_entry(ls, i, 1);
    assert_int_equal(logstore_sync(ls), TC_OK);
    logstore_close(ls);
    char path[1024];
    segment_path(1, path, sizeof(path));
    flip_byte(path, file_size(path) - 1);
    char err[512];
    assert_int_equal(logstore_open(test_dir, &o, &ls, err, sizeof(err)), TC_ECORRUPT);
    assert_non_null(strstr(err, "seg-0000000000000001.log: offset "));
}

static void test_read_detects_a_record_changed_after_open(void **state)
{
    struct logstore_options o = small_options(false);
    o.segment_bytes = 1 << 20;
    write_three_batches(&o);
    struct logstore *ls = open_ok(&o);
    char path[1024];
    segment_path(1, path, sizeof(path));
    flip_byte(path, record_offset(3) + LOGSTORE_RECORD_HEADER_BYTES);
    struct bytes b;
    bytes_init(&b);
    uint64_t t;
    uint8_t type;
    assert_int_equal(logstore_read(ls, 3, &t, &type, &b), TC_ECORRUPT);
    assert_int_equal(logstore_read(ls, 4, &t, &type, &b), TC_OK);
    bytes_free(&b);
    logstore_close(ls);
}

/* ---- hard state ---- */

static void test_hard_state_round_trip_and_atomic_replacement(void **state)
{
    struct logstore_options o = small_options(false);
    struct logstore *ls = open_ok(&o);
    uint64_t term, vote;
    uint8_t extra[LOGSTORE_HARD_STATE_EXTRA_MAX];
    size_t len;
    assert_int_equal(logstore_load_hard_state(ls, &term, &vote, extra, sizeof(extra), &len),
                     TC_ENOTFOUND);
    uint8_t commit[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    assert_int_equal(logstore_save_hard_state(ls, 3, 2, commit, sizeof(commit)), TC_OK);
    assert_int_equal(logstore_save_hard_state(ls, 4, 0, NULL, 0), TC_OK);
    assert_int_equal(logstore_save_hard_state(ls, 5, 1, commit, 3), TC_OK);
    assert_int_equal(logstore_save_hard_state(ls, 6, 1, extra, sizeof(extra) + 1), TC_ETOOBIG);
    logstore_close(ls);

    ls = open_ok(&o);
    assert_int_equal(logstore_load_hard_state(ls, &term, &vote, extra, sizeof(extra), &len), TC_OK);
    assert_int_equal(term, 5);
    assert_int_equal(vote, 1);
    assert_int_equal(len, 3);
    assert_memory_equal(extra, commit, 3);
    assert_int_equal(logstore_load_hard_state(ls, &term, &vote, extra, 2, &len), TC_ETOOBIG);
    assert_int_equal(len, 3);
    logstore_close(ls);

    /* A crash mid-save leaves a temp file: the old state stands and the file goes. */
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s/hardstate.tmp", test_dir);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs("TCHS half", f);
    fclose(f);
    ls = open_ok(&o);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(logstore_load_hard_state(ls, &term, &vote, extra, sizeof(extra), &len), TC_OK);
    assert_int_equal(term, 5);
    logstore_close(ls);
}

static void test_corrupt_hard_state_fails_open(void **state)
{
    struct logstore_options o = small_options(false);
    struct logstore *ls = open_ok(&o);
    assert_int_equal(logstore_save_hard_state(ls, 9, 9, "abc", 3), TC_OK);
    logstore_close(ls);
    char path[1024];
    snprintf(path, sizeof(path), "%s/hardstate", test_dir);
    flip_byte(path, 20);
    char err[512];
    assert_int_equal(logstore_open(test_dir, &o, &ls, err, sizeof(err)), TC_ECORRUPT);
    assert_non_null(strstr(err, "hardstate: offset"));
}

/* ---- with fsync ---- */

static void test_small_log_with_fsync_on(void **state)
{
    struct logstore_options o = small_options(true);
    o.segment_bytes = 512;
    struct logstore *ls = open_ok(&o);
    for (uint64_t i = 1; i <= 20; i++) {
        append_entry(ls, i, 1);
        if (i % 4 == 0)
            assert_int_equal(logstore_sync(ls), TC_OK);
    }
    assert_int_equal(logstore_save_hard_state(ls, 1, 1, NULL, 0), TC_OK);
    assert_int_equal(logstore_truncate_suffix(ls, 15), TC_OK);
    assert_int_equal(logstore_compact(ls, 6), TC_OK);
    append_entry(ls, 15, 2);
    assert_int_equal(logstore_sync(ls), TC_OK);
    logstore_close(ls);
    ls = open_ok(&o);
    assert_int_equal(logstore_first_index(ls), 6);
    assert_int_equal(logstore_last_index(ls), 15);
    for (uint64_t i = 6; i <= 15; i++)
        expect_entry(ls, i, i == 15 ? 2 : 1);
    logstore_close(ls);
}

static void test_open_creates_a_missing_directory(void **state)
{
    struct logstore_options o = small_options(true);
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/log", test_dir);
    struct logstore *ls = NULL;
    char err[512];
    assert_int_equal(logstore_open(sub, &o, &ls, err, sizeof(err)), TC_OK);
    append_entry(ls, 1, 1);
    assert_int_equal(logstore_sync(ls), TC_OK);
    logstore_close(ls);
    assert_int_equal(logstore_open(sub, &o, &ls, err, sizeof(err)), TC_OK);
    expect_entry(ls, 1, 1);
    logstore_close(ls);
    remove_tree(sub);
    assert_int_equal(logstore_open("", &o, &ls, err, sizeof(err)), TC_EINVAL);
    assert_null(ls);
}

/* A failed write leaves the files in an unknown state: every later write is refused. */
static void test_write_failure_fails_the_store_until_reopen(void **state)
{
    struct logstore_options o = small_options(false);
    o.segment_bytes = 1 << 20;
    struct logstore *ls = open_ok(&o);
    for (uint64_t i = 1; i <= 5; i++)
        append_entry(ls, i, 1);
    assert_int_equal(logstore_sync(ls), TC_OK);

    /* Writes past 16 KiB fail with EFBIG (the signal is ignored). */
    struct rlimit old_limit, limit;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    limit = old_limit;
    limit.rlim_cur = 16384;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &limit), 0);
    uint8_t big[4000] = { 0 };
    for (uint64_t i = 6; i <= 12; i++)
        assert_int_equal(logstore_append(ls, i, 1, 0, big, sizeof(big)), TC_OK);
    int rc = logstore_sync(ls);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
    signal(SIGXFSZ, old_handler);

    assert_int_equal(rc, TC_EIO);
    assert_int_equal(logstore_synced_index(ls), 5);
    assert_int_equal(logstore_sync(ls), TC_EIO);
    assert_int_equal(logstore_append(ls, 13, 1, 0, big, 1), TC_EIO);
    assert_int_equal(logstore_truncate_suffix(ls, 3), TC_EIO);
    assert_int_equal(logstore_compact(ls, 3), TC_EIO);
    assert_int_equal(logstore_save_hard_state(ls, 1, 1, NULL, 0), TC_EIO);
    expect_entry(ls, 5, 1);
    logstore_close(ls);

    /* Reopening finds what really reached the file: the synced entries and
     * whatever whole records of the failed batch made it. */
    ls = open_ok(&o);
    assert_true(logstore_last_index(ls) >= 5 && logstore_last_index(ls) < 12);
    for (uint64_t i = 1; i <= 5; i++)
        expect_entry(ls, i, 1);
    logstore_close(ls);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_standard_check_value),
        cmocka_unit_test(test_crc32c_rfc3720_vectors),
        cmocka_unit_test(test_crc32c_paths_agree_at_every_length_and_alignment),
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
        T(test_append_sync_reopen_keeps_entries),
        T(test_unsynced_entries_are_readable_and_lost_on_close),
        T(test_append_rejects_gaps_and_decreasing_terms),
        T(test_oversized_records_and_bad_options_are_rejected),
        T(test_pending_bound_is_enforced),
        T(test_truncate_suffix_then_append_different_entries_survives_reopen),
        T(test_truncate_suffix_is_durable_without_a_later_append),
        T(test_truncate_suffix_of_pending_entries),
        T(test_compact_then_reopen_keeps_boundary_and_suffix),
        T(test_compact_everything_then_append),
        T(test_interrupted_compaction_leftovers_are_deleted_on_open),
        T(test_reset_to_snapshot_discards_the_log),
        T(test_rollover_across_many_small_segments),
        T(test_missing_middle_segment_fails_open),
        T(test_torn_tail_is_truncated_and_log_continues),
        T(test_damage_in_last_batch_before_intact_records_of_it_is_a_torn_tail),
        T(test_damage_followed_by_a_later_batch_fails_open_with_file_and_offset),
        T(test_damage_in_an_earlier_segment_fails_open),
        T(test_read_detects_a_record_changed_after_open),
        T(test_hard_state_round_trip_and_atomic_replacement),
        T(test_corrupt_hard_state_fails_open),
        T(test_small_log_with_fsync_on),
        T(test_open_creates_a_missing_directory),
        T(test_write_failure_fails_the_store_until_reopen),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
