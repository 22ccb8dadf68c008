/* test_logstore_crash.c - crash test of the Raft log store: random logs (several segments,
 * truncations, compactions, hard-state saves), random damage to the files (cuts, flipped bytes,
 * zeroed or garbage tails, interrupted hard-state saves), then a reopen that must give exactly the
 * predicted valid prefix or a TC_ECORRUPT naming the file and offset; never a wrong entry.
 *
 * The seed is printed; TC_SEED=<n> replays a run, TC_CRASH_ITERATIONS=<n> changes its length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"
#include "consensus/raft/logstore.h"

#define MAX_ENTRIES    512
#define MAX_SEGMENTS   256
#define MAX_RECORDS    512
#define HDR            LOGSTORE_RECORD_HEADER_BYTES
#define MAX_PAYLOAD    2000
#define HS_EXTRA_BYTES 16

/* What the test wrote: the durable log, its boundary and the hard state. */
struct model {
    uint64_t boundary_index, boundary_term;
    uint64_t last;
    uint64_t term[MAX_ENTRIES];
    uint8_t type[MAX_ENTRIES];
    uint32_t len[MAX_ENTRIES];
    uint64_t payload_seed[MAX_ENTRIES];
    uint64_t batch_first[MAX_ENTRIES]; /* first index of the sync batch that wrote it */
    uint64_t synced;                   /* last index made durable */
    bool has_hs;
    uint64_t hs_term, hs_vote;
    uint8_t hs_extra[HS_EXTRA_BYTES];
    size_t hs_len;
};

/* A record as found in a segment file before the damage. */
struct record {
    uint64_t offset, size, index, batch_first;
};

/* A segment file: its bytes before and after the damage, and its records. */
struct segment_file {
    char name[256];
    uint8_t *before;
    size_t before_len;
    uint8_t *after;
    size_t after_len;
    struct record recs[MAX_RECORDS];
    size_t nrecs;
};

struct layout {
    struct segment_file segs[MAX_SEGMENTS];
    size_t nsegs;
};

enum damage {
    DAMAGE_NONE,
    DAMAGE_CUT_LAST,
    DAMAGE_CUT_ANY,
    DAMAGE_FLIP,
    DAMAGE_ZERO_TAIL,
    DAMAGE_GARBAGE_TAIL,
    DAMAGE_HALF_SAVED_TMP,
    DAMAGE_FLIP_SMALL_FILE,
    DAMAGE_TORN_LAST_BATCH,
    DAMAGE_KINDS
};

static const char *const damage_names[] = { "none",     "cut-last",     "cut-any",
                                            "flip",     "zero-tail",    "garbage-tail",
                                            "tmp-file", "flip-hs-meta", "torn-batch" };

static char dir[512];
static int outcome_counts[DAMAGE_KINDS][2];

static uint32_t le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void fill_payload(uint64_t seed, uint8_t *buf, size_t len)
{
    struct rng r;
    rng_seed(&r, seed);
    rng_fill(&r, buf, len);
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *de;
    char p[1024];
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
            unlink(p);
        }
    }
    closedir(d);
    rmdir(path);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void write_file(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(((const struct segment_file *)a)->name, ((const struct segment_file *)b)->name);
}

/* Reads every segment and parses its records with the documented framing. */
static void read_layout(struct layout *l)
{
    l->nsegs = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "seg-", 4) != 0)
            continue;
        assert_true(l->nsegs < MAX_SEGMENTS);
        struct segment_file *s = &l->segs[l->nsegs++];
        snprintf(s->name, sizeof(s->name), "%s", de->d_name);
    }
    closedir(d);
    qsort(l->segs, l->nsegs, sizeof(l->segs[0]), compare_names);
    for (size_t i = 0; i < l->nsegs; i++) {
        struct segment_file *s = &l->segs[i];
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, s->name);
        s->before = read_file(path, &s->before_len);
        s->after = NULL;
        s->nrecs = 0;
        for (uint64_t off = 0; off < s->before_len;) {
            assert_true(off + HDR <= s->before_len);
            assert_true(s->nrecs < MAX_RECORDS);
            struct record *r = &s->recs[s->nrecs++];
            r->offset = off;
            r->size = HDR + le32(s->before + off + 8);
            r->index = le64(s->before + off + 16);
            r->batch_first = le64(s->before + off + 32);
            off += r->size;
        }
    }
}

static void free_layout(struct layout *l)
{
    for (size_t i = 0; i < l->nsegs; i++) {
        free(l->segs[i].before);
        free(l->segs[i].after);
    }
    l->nsegs = 0;
}

/* ---- writing a random log ---- */

static void append_random(struct logstore *ls, struct model *m, struct rng *r, uint64_t term,
                          uint64_t index)
{
    assert_true(index < MAX_ENTRIES);
    uint8_t buf[MAX_PAYLOAD];
    uint32_t len =
        (uint32_t)(rng_chance(r, 100000) ? rng_below(r, MAX_PAYLOAD + 1) : rng_below(r, 300));
    uint64_t seed = rng_next(r);
    uint8_t type = (uint8_t)rng_below(r, 3);
    fill_payload(seed, buf, len);
    assert_int_equal(logstore_append(ls, index, term, type, buf, len), TC_OK);
    m->term[index] = term;
    m->type[index] = type;
    m->len[index] = len;
    m->payload_seed[index] = seed;
    m->batch_first[index] = m->synced + 1;
}

static void write_random_log(struct rng *r, struct model *m, const struct logstore_options *o)
{
    struct logstore *ls = NULL;
    char err[512];
    assert_int_equal(logstore_open(dir, o, &ls, err, sizeof(err)), TC_OK);
    memset(m, 0, sizeof(*m));
    uint64_t term = 1;
    int batches = (int)rng_range(r, 3, 30);
    for (int b = 0; b < batches && m->last + 10 < MAX_ENTRIES; b++) {
        if (rng_chance(r, 150000))
            term++;
        int n = (int)rng_range(r, 1, 8);
        for (int k = 0; k < n; k++)
            append_random(ls, m, r, term, m->last + 1 + (uint64_t)k);
        m->last += (uint64_t)n;
        if (rng_chance(r, 150000)) {
            /* A leader change before the batch was persisted: its tail is replaced. */
            uint64_t from = rng_range(r, m->synced + 1, m->last);
            assert_int_equal(logstore_truncate_suffix(ls, from), TC_OK);
            term++;
            n = (int)rng_range(r, 0, 4);
            for (int k = 0; k < n; k++)
                append_random(ls, m, r, term, from + (uint64_t)k);
            m->last = from - 1 + (uint64_t)n;
        }
        assert_int_equal(logstore_sync(ls), TC_OK);
        m->synced = m->last;

        if (m->last > m->boundary_index && rng_chance(r, 120000)) {
            uint64_t from = rng_range(r, m->boundary_index + 1, m->last);
            assert_int_equal(logstore_truncate_suffix(ls, from), TC_OK);
            m->last = m->synced = from - 1;
            term++;
        }
        if (rng_chance(r, 100000)) {
            uint64_t below = rng_range(r, m->boundary_index + 1, m->last + 1);
            assert_int_equal(logstore_compact(ls, below), TC_OK);
            if (below > m->boundary_index + 1) {
                m->boundary_term = m->term[below - 1];
                m->boundary_index = below - 1;
            }
        }
        if (rng_chance(r, 100000)) {
            m->hs_term = term;
            m->hs_vote = rng_below(r, 5);
            m->hs_len = (size_t)rng_below(r, HS_EXTRA_BYTES + 1);
            rng_fill(r, m->hs_extra, m->hs_len);
            assert_int_equal(
                logstore_save_hard_state(ls, m->hs_term, m->hs_vote, m->hs_extra, m->hs_len),
                TC_OK);
            m->has_hs = true;
        }
    }
    /* Appended but never synced: must not come back. */
    assert_int_equal(logstore_synced_index(ls), m->last);
    int unsynced = (int)rng_below(r, 4);
    for (int k = 0; k < unsynced; k++)
        append_random(ls, m, r, term, m->last + 1 + (uint64_t)k);
    logstore_close(ls);
}

/* ---- damage and prediction ---- */

static void damage_segments(struct rng *r, struct layout *l, enum damage kind)
{
    for (size_t i = 0; i < l->nsegs; i++) {
        struct segment_file *s = &l->segs[i];
        s->after = malloc(s->before_len + 256);
        assert_non_null(s->after);
        memcpy(s->after, s->before, s->before_len);
        s->after_len = s->before_len;
    }
    if (l->nsegs == 0)
        return;
    struct segment_file *last = &l->segs[l->nsegs - 1];
    struct segment_file *any = &l->segs[rng_below(r, l->nsegs)];
    switch (kind) {
    case DAMAGE_CUT_LAST:
        last->after_len = (size_t)rng_below(r, last->before_len + 1);
        break;
    case DAMAGE_CUT_ANY:
        any->after_len = (size_t)rng_below(r, any->before_len + 1);
        break;
    case DAMAGE_FLIP: {
        int flips = (int)rng_range(r, 1, 3);
        for (int k = 0; k < flips; k++) {
            struct segment_file *s = rng_chance(r, 500000) ? last : any;
            if (s->before_len)
                s->after[rng_below(r, s->before_len)] ^= (uint8_t)rng_range(r, 1, 255);
        }
        break;
    }
    case DAMAGE_ZERO_TAIL: {
        size_t from = (size_t)rng_below(r, last->before_len + 1);
        memset(last->after + from, 0, last->before_len - from);
        break;
    }
    case DAMAGE_GARBAGE_TAIL: {
        size_t n = (size_t)rng_range(r, 1, 200);
        rng_fill(r, last->after + last->before_len, n);
        last->after_len += n;
        break;
    }
    case DAMAGE_TORN_LAST_BATCH: {
        /* Sectors of the last batch reached the disk in any order, or not at all. */
        if (last->nrecs == 0)
            break;
        uint64_t batch = 0;
        for (size_t k = 0; k < last->nrecs; k++)
            batch = last->recs[k].batch_first > batch ? last->recs[k].batch_first : batch;
        size_t start = 0;
        while (last->recs[start].batch_first != batch)
            start++;
        size_t from = (size_t)last->recs[start].offset;
        for (size_t sector = from / 512 * 512; sector < last->before_len; sector += 512) {
            if (!rng_chance(r, 400000))
                continue;
            size_t lo = sector < from ? from : sector;
            size_t hi = sector + 512 < last->before_len ? sector + 512 : last->before_len;
            memset(last->after + lo, 0, hi - lo);
        }
        if (rng_chance(r, 300000))
            last->after_len = (size_t)rng_range(r, from, last->before_len);
        break;
    }
    default:
        break;
    }
    for (size_t i = 0; i < l->nsegs; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, l->segs[i].name);
        write_file(path, l->segs[i].after, l->segs[i].after_len);
    }
}

/* First byte offset where a segment differs from what was written, or SIZE_MAX. */
static size_t first_change(const struct segment_file *s)
{
    size_t common = s->before_len < s->after_len ? s->before_len : s->after_len;
    for (size_t i = 0; i < common; i++)
        if (s->before[i] != s->after[i])
            return i;
    return s->before_len == s->after_len ? SIZE_MAX : common;
}

static bool record_intact(const struct segment_file *s, const struct record *rec)
{
    return rec->offset + rec->size <= s->after_len &&
           memcmp(s->before + rec->offset, s->after + rec->offset, rec->size) == 0;
}

/* What reopening must give. */
struct prediction {
    bool corrupt;
    uint64_t last;       /* when not corrupt */
    char where[320];     /* when corrupt: "<segment>: offset <n>:" expected in the message */
    char where_alt[320]; /* or this (a clean cut of a segment makes the next one the culprit) */
};

static void predict(const struct layout *l, const struct model *m, struct prediction *p)
{
    memset(p, 0, sizeof(*p));
    p->last = m->last;
    for (size_t i = 0; i < l->nsegs; i++) {
        const struct segment_file *s = &l->segs[i];
        for (size_t j = 0; j < s->nrecs; j++)
            assert_int_equal(s->recs[j].batch_first, m->batch_first[s->recs[j].index]);
        size_t d = first_change(s);
        if (d == SIZE_MAX)
            continue;
        /* A segment wholly below the boundary (its successor starts at or
         * before the first live index) is deleted on open, unread. */
        if (i + 1 < l->nsegs &&
            strtoull(l->segs[i + 1].name + 4, NULL, 16) <= m->boundary_index + 1)
            continue;
        size_t k = 0;
        while (k < s->nrecs && s->recs[k].offset + s->recs[k].size <= d)
            k++;
        if (k == s->nrecs) {
            /* Only bytes past the last record changed: a garbage tail. */
            assert_true(i + 1 == l->nsegs);
            return;
        }
        const struct record *bad = &s->recs[k];
        snprintf(p->where, sizeof(p->where), "%s: offset %" PRIu64 ":", s->name, bad->offset);
        if (i + 1 < l->nsegs) {
            p->corrupt = true;
            if (s->after_len == bad->offset)
                snprintf(p->where_alt, sizeof(p->where_alt), "%s: offset 0:", l->segs[i + 1].name);
            return;
        }
        for (size_t j = k + 1; j < s->nrecs; j++) {
            const struct record *later = &s->recs[j];
            if (record_intact(s, later) && m->batch_first[later->index] > bad->index) {
                p->corrupt = true;
                return;
            }
        }
        p->last = bad->index - 1 > m->boundary_index ? bad->index - 1 : m->boundary_index;
        return;
    }
}

/* An interrupted save: a temp file holding a prefix of a valid new hard state or boundary. */
static void leave_half_saved_tmp(struct rng *r)
{
    uint8_t buf[64];
    rng_fill(r, buf, sizeof(buf));
    memcpy(buf, rng_chance(r, 500000) ? "TCHS\x01" : "TCLM\x01", 5);
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir,
             rng_chance(r, 500000) ? "hardstate.tmp" : "logmeta.tmp");
    write_file(path, buf, (size_t)rng_below(r, sizeof(buf) + 1));
}

/* Flips a byte of hardstate or logmeta; returns the file's name, or NULL if neither exists. */
static const char *flip_small_file(struct rng *r)
{
    static const char *const names[] = { "hardstate", "logmeta" };
    int first = (int)rng_below(r, 2);
    for (int k = 0; k < 2; k++) {
        const char *name = names[(first + k) % 2];
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (access(path, F_OK) != 0)
            continue;
        size_t len;
        uint8_t *buf = read_file(path, &len);
        buf[rng_below(r, len)] ^= (uint8_t)rng_range(r, 1, 255);
        write_file(path, buf, len);
        free(buf);
        return name;
    }
    return NULL;
}

/* ---- checking the reopened store ---- */

static void check_entries(struct logstore *ls, const struct model *m, uint64_t last)
{
    assert_int_equal(logstore_first_index(ls), m->boundary_index + 1);
    assert_int_equal(logstore_last_index(ls), last);
    uint64_t t;
    assert_int_equal(logstore_term_at(ls, m->boundary_index, &t), TC_OK);
    assert_int_equal(t, m->boundary_term);
    struct bytes got;
    bytes_init(&got);
    uint8_t want[MAX_PAYLOAD];
    for (uint64_t i = m->boundary_index + 1; i <= last; i++) {
        uint8_t type;
        assert_int_equal(logstore_read(ls, i, &t, &type, &got), TC_OK);
        assert_int_equal(t, m->term[i]);
        assert_int_equal(type, m->type[i]);
        assert_int_equal(got.len, m->len[i]);
        fill_payload(m->payload_seed[i], want, m->len[i]);
        assert_memory_equal(got.ptr, want, m->len[i]);
    }
    bytes_free(&got);
    uint64_t term, vote;
    uint8_t extra[LOGSTORE_HARD_STATE_EXTRA_MAX];
    size_t len;
    int rc = logstore_load_hard_state(ls, &term, &vote, extra, sizeof(extra), &len);
    assert_int_equal(rc, m->has_hs ? TC_OK : TC_ENOTFOUND);
    if (m->has_hs) {
        assert_int_equal(term, m->hs_term);
        assert_int_equal(vote, m->hs_vote);
        assert_int_equal(len, m->hs_len);
        assert_memory_equal(extra, m->hs_extra, len);
    }
}

static void run_iteration(uint64_t seed, const struct logstore_options *base)
{
    struct rng r;
    rng_seed(&r, seed);
    struct logstore_options o = *base;
    o.segment_bytes = rng_range(&r, 256, 4096);
    static struct model m;
    static struct layout l;
    write_random_log(&r, &m, &o);
    read_layout(&l);

    enum damage kind = (enum damage)rng_below(&r, DAMAGE_KINDS);
    const char *small_file = NULL;
    damage_segments(&r, &l,
                    kind == DAMAGE_HALF_SAVED_TMP || kind == DAMAGE_FLIP_SMALL_FILE ? DAMAGE_NONE
                                                                                    : kind);
    struct prediction p;
    predict(&l, &m, &p);
    if (kind == DAMAGE_HALF_SAVED_TMP)
        leave_half_saved_tmp(&r);
    if (kind == DAMAGE_FLIP_SMALL_FILE && (small_file = flip_small_file(&r)) != NULL) {
        p.corrupt = true;
        snprintf(p.where, sizeof(p.where), "%s: offset ", small_file);
    }

    /* The design's promise: a torn write of the batch in flight never stops start-up. */
    if (kind == DAMAGE_TORN_LAST_BATCH)
        assert_false(p.corrupt);

    struct logstore *ls = NULL;
    char err[768];
    int rc = logstore_open(dir, &o, &ls, err, sizeof(err));
    outcome_counts[kind][rc == TC_OK]++;
    if (p.corrupt) {
        if (rc != TC_ECORRUPT)
            print_error("seed %" PRIu64 " damage %s: expected TC_ECORRUPT at %s, got %s\n", seed,
                        damage_names[kind], p.where, tc_strerror(rc));
        assert_int_equal(rc, TC_ECORRUPT);
        assert_null(ls);
        bool named = strstr(err, p.where) || (p.where_alt[0] && strstr(err, p.where_alt));
        if (!named)
            print_error("seed %" PRIu64 ": message \"%s\" does not name \"%s\"\n", seed, err,
                        p.where);
        assert_true(named);
    } else {
        if (rc != TC_OK)
            print_error("seed %" PRIu64 " damage %s: expected recovery to index %" PRIu64
                        ", got %s: %s\n",
                        seed, damage_names[kind], p.last, tc_strerror(rc), err);
        assert_int_equal(rc, TC_OK);
        check_entries(ls, &m, p.last);
        /* The recovered log takes new entries, and they survive a reopen. */
        m.last = p.last;
        uint64_t term = m.last > m.boundary_index ? m.term[m.last] : m.boundary_term;
        m.synced = m.last;
        for (int k = 0; k < 3; k++)
            append_random(ls, &m, &r, term + 1, m.last + 1 + (uint64_t)k);
        assert_int_equal(logstore_sync(ls), TC_OK);
        m.last += 3;
        logstore_close(ls);
        ls = NULL;
        assert_int_equal(logstore_open(dir, &o, &ls, err, sizeof(err)), TC_OK);
        check_entries(ls, &m, m.last);
        logstore_close(ls);
    }
    free_layout(&l);
}

static uint64_t env_u64(const char *name, uint64_t fallback)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 0) : fallback;
}

static void test_random_damage_yields_a_valid_prefix_or_a_located_error(void **state)
{
    uint64_t seed = env_u64("TC_SEED", rng_fresh_seed());
    uint64_t iterations = env_u64("TC_CRASH_ITERATIONS", 300);
    print_message("logstore crash test: TC_SEED=%" PRIu64 " (%" PRIu64 " iterations)\n", seed,
                  iterations);
    struct rng master;
    rng_seed(&master, seed);
    struct logstore_options o;
    logstore_options_default(&o);
    o.max_record_bytes = MAX_PAYLOAD;
    o.max_pending_bytes = 1 << 20;
    o.fsync = false;
    const char *tmp = getenv("TMPDIR");
    for (uint64_t it = 0; it < iterations; it++) {
        snprintf(dir, sizeof(dir), "%s/logstore-crash-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(dir));
        uint64_t iteration_seed = rng_next(&master);
        run_iteration(iteration_seed, &o);
        remove_tree(dir);
    }
    for (int k = 0; k < DAMAGE_KINDS; k++)
        print_message("  %-13s recovered %4d  refused %4d\n", damage_names[k], outcome_counts[k][1],
                      outcome_counts[k][0]);
}

/* One small run with fsync on, so the durable paths (fdatasync, directory fsync) run too. */
static void test_random_damage_with_fsync_on(void **state)
{
    uint64_t seed = env_u64("TC_SEED", rng_fresh_seed());
    print_message("logstore crash test with fsync: TC_SEED=%" PRIu64 "\n", seed);
    struct rng master;
    rng_seed(&master, seed ^ 0x5eed);
    struct logstore_options o;
    logstore_options_default(&o);
    o.max_record_bytes = MAX_PAYLOAD;
    o.max_pending_bytes = 1 << 20;
    o.fsync = true;
    const char *tmp = getenv("TMPDIR");
    for (int it = 0; it < 4; it++) {
        snprintf(dir, sizeof(dir), "%s/logstore-crash-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(dir));
        run_iteration(rng_next(&master), &o);
        remove_tree(dir);
    }
}

/* A failed iteration stops its test before its own cleanup. */
static int remove_last_dir(void **state)
{
    if (dir[0])
        remove_tree(dir);
    return 0;
}

int main(void)
{
    log_set_level(LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_random_damage_yields_a_valid_prefix_or_a_located_error,
                                  remove_last_dir),
        cmocka_unit_test_teardown(test_random_damage_with_fsync_on, remove_last_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
