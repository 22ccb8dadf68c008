/* test_store.c - the plain (unsealed) store: namespaces, atomic batches,
 * ordered and prefix iterators, argument errors, and key files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rocksdb/c.h>

#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"
#include "store/store.h"

struct fixture {
    char dir[64];
    char db[96];
    struct store *s;
};

static uint64_t test_seed;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/tc-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    remove_tree(f->dir);
    free(f);
    return 0;
}

static struct store *open_plain(struct fixture *f)
{
    struct store_options o = { .path = f->db };
    char err[256];
    struct store *s = NULL;
    int rc = store_open(&o, &s, err, sizeof(err));
    if (rc)
        fail_msg("store_open: %d %s", rc, err);
    return s;
}

static void reopen(struct fixture *f)
{
    store_close(f->s);
    f->s = open_plain(f);
}

static void put1(struct store *s, enum store_ns ns, const char *key, const char *val)
{
    struct store_batch *b;
    assert_int_equal(store_batch_new(s, &b), TC_OK);
    assert_int_equal(store_batch_put(b, ns, key, strlen(key), val, strlen(val)), TC_OK);
    assert_int_equal(store_write(s, b, false), TC_OK);
    store_batch_free(b);
}

static void assert_value(struct store *s, enum store_ns ns, const char *key, const char *want)
{
    struct bytes v;
    bytes_init(&v);
    int rc = store_get(s, ns, key, strlen(key), &v);
    if (!want) {
        assert_int_equal(rc, TC_ENOTFOUND);
        assert_int_equal(v.len, 0);
    } else {
        if (rc)
            fail_msg("get %s/%s: %d %s", store_ns_name(ns), key, rc, store_last_error());
        assert_int_equal(v.len, strlen(want));
        assert_memory_equal(v.ptr, want, v.len);
    }
    bytes_free(&v);
}

static void test_put_get_delete_in_every_namespace(void **state)
{
    struct fixture *f = *state;
    f->s = open_plain(f);
    assert_true(store_is_ordered(f->s));
    for (int ns = 0; ns < STORE_NS_COUNT; ns++) {
        char val[32];
        snprintf(val, sizeof(val), "value-of-%s", store_ns_name(ns));
        put1(f->s, ns, "k", val);
    }
    for (int ns = 0; ns < STORE_NS_COUNT; ns++) {
        char val[32];
        snprintf(val, sizeof(val), "value-of-%s", store_ns_name(ns));
        assert_value(f->s, ns, "k", val);
    }
    /* Deleting in one namespace leaves the same key in the others. */
    struct store_batch *b;
    assert_int_equal(store_batch_new(f->s, &b), TC_OK);
    assert_int_equal(store_batch_del(b, STORE_NS_STATE, "k", 1), TC_OK);
    assert_int_equal(store_write(f->s, b, true), TC_OK);
    store_batch_free(b);
    assert_value(f->s, STORE_NS_STATE, "k", NULL);
    assert_value(f->s, STORE_NS_CODE, "k", "value-of-code");
    reopen(f);
    assert_value(f->s, STORE_NS_STATE, "k", NULL);
    assert_value(f->s, STORE_NS_META, "k", "value-of-meta");
}

static void test_get_replaces_output_and_reports_absent_key(void **state)
{
    struct fixture *f = *state;
    f->s = open_plain(f);
    put1(f->s, STORE_NS_META, "head", "12");
    struct bytes v;
    bytes_init(&v);
    assert_int_equal(bytes_append(&v, "old contents", 12), TC_OK);
    assert_int_equal(store_get(f->s, STORE_NS_META, "head", 4, &v), TC_OK);
    assert_int_equal(v.len, 2);
    assert_memory_equal(v.ptr, "12", 2);
    assert_int_equal(store_get(f->s, STORE_NS_META, "tail", 4, &v), TC_ENOTFOUND);
    assert_int_equal(v.len, 0);
    assert_non_null(strstr(store_last_error(), "not found"));
    bytes_free(&v);
}

static void test_empty_key_and_empty_value_round_trip(void **state)
{
    struct fixture *f = *state;
    f->s = open_plain(f);
    struct store_batch *b;
    assert_int_equal(store_batch_new(f->s, &b), TC_OK);
    assert_int_equal(store_batch_put(b, STORE_NS_META, NULL, 0, "x", 1), TC_OK);
    assert_int_equal(store_batch_put(b, STORE_NS_META, "e", 1, NULL, 0), TC_OK);
    assert_int_equal(store_write(f->s, b, false), TC_OK);
    store_batch_free(b);
    assert_value(f->s, STORE_NS_META, "", "x");
    assert_value(f->s, STORE_NS_META, "e", "");
}

static void test_batch_across_namespaces_survives_reopen_whole(void **state)
{
    struct fixture *f = *state;
    f->s = open_plain(f);
    put1(f->s, STORE_NS_TXS, "stale", "x");
    struct store_batch *b;
    assert_int_equal(store_batch_new(f->s, &b), TC_OK);
    for (int ns = 0; ns < STORE_NS_COUNT; ns++) {
        char key[16];
        snprintf(key, sizeof(key), "blk-%d", ns);
        assert_int_equal(store_batch_put(b, ns, key, strlen(key), "block 7", 7), TC_OK);
    }
    assert_int_equal(store_batch_del(b, STORE_NS_TXS, "stale", 5), TC_OK);
    assert_int_equal(store_batch_count(b), STORE_NS_COUNT + 1);
    /* Not synced: a clean close and reopen must still find all of it. */
    assert_int_equal(store_write(f->s, b, false), TC_OK);
    store_batch_free(b);
    reopen(f);
    for (int ns = 0; ns < STORE_NS_COUNT; ns++) {
        char key[16];
        snprintf(key, sizeof(key), "blk-%d", ns);
        assert_value(f->s, ns, key, "block 7");
    }
    assert_value(f->s, STORE_NS_TXS, "stale", NULL);
}

static void test_batch_with_failed_operation_writes_nothing(void **state)
{
    struct fixture *f = *state;
    f->s = open_plain(f);
    static uint8_t long_key[STORE_KEY_MAX + 1];
    struct store_batch *b;
    assert_int_equal(store_batch_new(f->s, &b), TC_OK);
    assert_int_equal(store_batch_put(b, STORE_NS_BLOCKS, "b1", 2, "v", 1), TC_OK);
    assert_int_equal(store_batch_put(b, STORE_NS_META, long_key, sizeof(long_key), "v", 1),
                     TC_ETOOBIG);
    assert_int_equal(store_batch_put(b, STORE_NS_META, "after", 5, "v", 1), TC_OK);
    assert_int_equal(store_write(f->s, b, true), TC_ESTATE);
    assert_non_null(strstr(store_last_error(), "nothing written"));
    store_batch_free(b);

    assert_int_equal(store_batch_new(f->s, &b), TC_OK);
    assert_int_equal(store_batch_put(b, STORE_NS_RECEIPTS, "r1", 2, "v", 1), TC_OK);
    assert_int_equal(store_batch_put(b, (enum store_ns)STORE_NS_COUNT, "x", 1, "v", 1), TC_EINVAL);
    assert_int_equal(store_write(f->s, b, false), TC_ESTATE);
    store_batch_free(b);

    assert_int_equal(store_batch_new(f->s, &b), TC_OK);
    assert_int_equal(store_batch_put(b, STORE_NS_CODE, "c1", 2, "v", 1), TC_OK);
    assert_int_equal(store_batch_put(b, STORE_NS_CODE, "c2", 2, "v", (size_t)STORE_VALUE_MAX + 1),
                     TC_ETOOBIG);
    assert_int_equal(store_write(f->s, b, false), TC_ESTATE);
    store_batch_free(b);

    reopen(f);
    assert_value(f->s, STORE_NS_BLOCKS, "b1", NULL);
    assert_value(f->s, STORE_NS_META, "after", NULL);
    assert_value(f->s, STORE_NS_RECEIPTS, "r1", NULL);
    assert_value(f->s, STORE_NS_CODE, "c1", NULL);
}

static void test_batch_of_another_store_is_refused(void **state)
{
    struct fixture *f = *state;
    f->s = open_plain(f);
    struct fixture g;
    snprintf(g.db, sizeof(g.db), "%s/other", f->dir);
    struct store *other = open_plain(&g);
    struct store_batch *b;
    assert_int_equal(store_batch_new(other, &b), TC_OK);
    assert_int_equal(store_batch_put(b, STORE_NS_META, "k", 1, "v", 1), TC_OK);
    assert_int_equal(store_write(f->s, b, false), TC_EINVAL);
    store_batch_free(b);
    store_close(other);
    assert_value(f->s, STORE_NS_META, "k", NULL);
}

static void test_later_operation_on_same_key_wins(void **state)
{
    struct fixture *f = *state;
    f->s = open_plain(f);
    struct store_batch *b;
    assert_int_equal(store_batch_new(f->s, &b), TC_OK);
    assert_int_equal(store_batch_put(b, STORE_NS_STATE, "a", 1, "1", 1), TC_OK);
    assert_int_equal(store_batch_put(b, STORE_NS_STATE, "a", 1, "2", 1), TC_OK);
    assert_int_equal(store_batch_put(b, STORE_NS_STATE, "b", 1, "1", 1), TC_OK);
    assert_int_equal(store_batch_del(b, STORE_NS_STATE, "b", 1), TC_OK);
    assert_int_equal(store_write(f->s, b, false), TC_OK);
    store_batch_free(b);
    assert_value(f->s, STORE_NS_STATE, "a", "2");
    assert_value(f->s, STORE_NS_STATE, "b", NULL);
}

/* Collects "key=value;" for every entry the iterator returns. */
static void collect(struct store *s, enum store_ns ns, const char *prefix, char *out, size_t cap)
{
    struct store_iter *it;
    assert_int_equal(store_iter_new(s, ns, prefix, prefix ? strlen(prefix) : 0, &it), TC_OK);
    out[0] = '\0';
    int rc;
    while ((rc = store_iter_next(it)) == TC_OK) {
        struct bytes_view k = store_iter_key(it), v = store_iter_value(it);
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%.*s=%.*s;", (int)k.len, (const char *)k.ptr, (int)v.len,
                 (const char *)v.ptr);
    }
    assert_int_equal(rc, TC_ENOTFOUND);
    assert_int_equal(store_iter_next(it), TC_ENOTFOUND);
    assert_int_equal(store_iter_key(it).len, 0);
    store_iter_free(it);
}

static void test_iterator_returns_namespace_in_key_order(void **state)
{
    struct fixture *f = *state;
    f->s = open_plain(f);
    const char *keys[] = { "b/1", "a/2", "ab", "a/1", "c", "a/" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        put1(f->s, STORE_NS_INDEXES, keys[i], keys[i]);
    put1(f->s, STORE_NS_META, "a/0", "other namespace");
    char got[256];
    collect(f->s, STORE_NS_INDEXES, NULL, got, sizeof(got));
    assert_string_equal(got, "a/=a/;a/1=a/1;a/2=a/2;ab=ab;b/1=b/1;c=c;");
    collect(f->s, STORE_NS_RECEIPTS, NULL, got, sizeof(got));
    assert_string_equal(got, "");
}

static void test_prefix_iterator_stops_at_end_of_prefix(void **state)
{
    struct fixture *f = *state;
    f->s = open_plain(f);
    const char *keys[] = { "b/1", "a/2", "ab", "a/1", "c", "a" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        put1(f->s, STORE_NS_INDEXES, keys[i], "v");
    char got[256];
    collect(f->s, STORE_NS_INDEXES, "a/", got, sizeof(got));
    assert_string_equal(got, "a/1=v;a/2=v;");
    collect(f->s, STORE_NS_INDEXES, "a", got, sizeof(got));
    assert_string_equal(got, "a=v;a/1=v;a/2=v;ab=v;");
    collect(f->s, STORE_NS_INDEXES, "bb", got, sizeof(got));
    assert_string_equal(got, "");
    collect(f->s, STORE_NS_INDEXES, "0", got, sizeof(got));
    assert_string_equal(got, "");
}

static void test_iterator_sees_snapshot_from_creation(void **state)
{
    struct fixture *f = *state;
    f->s = open_plain(f);
    put1(f->s, STORE_NS_BLOCKS, "1", "one");
    put1(f->s, STORE_NS_BLOCKS, "3", "three");
    struct store_iter *it;
    assert_int_equal(store_iter_new(f->s, STORE_NS_BLOCKS, NULL, 0, &it), TC_OK);
    put1(f->s, STORE_NS_BLOCKS, "2", "two");
    struct store_batch *b;
    assert_int_equal(store_batch_new(f->s, &b), TC_OK);
    assert_int_equal(store_batch_del(b, STORE_NS_BLOCKS, "3", 1), TC_OK);
    assert_int_equal(store_write(f->s, b, false), TC_OK);
    store_batch_free(b);
    assert_int_equal(store_iter_next(it), TC_OK);
    assert_memory_equal(store_iter_key(it).ptr, "1", 1);
    assert_int_equal(store_iter_next(it), TC_OK);
    assert_memory_equal(store_iter_key(it).ptr, "3", 1);
    assert_memory_equal(store_iter_value(it).ptr, "three", 5);
    assert_int_equal(store_iter_next(it), TC_ENOTFOUND);
    store_iter_free(it);
}

/* Random batches against an in-memory model; then every key and the full
 * iteration must agree with the model. */
#define MODEL_KEYS 64

struct model {
    bool present[STORE_NS_COUNT][MODEL_KEYS];
    uint32_t value[STORE_NS_COUNT][MODEL_KEYS];
};

static void model_key(int i, char out[8])
{
    assert_true(i >= 0 && i < 100);
    out[0] = 'k';
    out[1] = (char)('0' + i / 10);
    out[2] = (char)('0' + i % 10);
    out[3] = '\0';
}

static void test_random_batches_match_model(void **state)
{
    struct fixture *f = *state;
    f->s = open_plain(f);
    struct rng r;
    rng_seed(&r, test_seed);
    struct model *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    for (int round = 0; round < 60; round++) {
        struct store_batch *b;
        assert_int_equal(store_batch_new(f->s, &b), TC_OK);
        int ops = (int)rng_range(&r, 1, 20);
        for (int i = 0; i < ops; i++) {
            int ns = (int)rng_below(&r, STORE_NS_COUNT), k = (int)rng_below(&r, MODEL_KEYS);
            char key[8];
            model_key(k, key);
            if (rng_below(&r, 4) == 0) {
                assert_int_equal(store_batch_del(b, ns, key, strlen(key)), TC_OK);
                m->present[ns][k] = false;
            } else {
                uint32_t v = (uint32_t)rng_next(&r);
                assert_int_equal(store_batch_put(b, ns, key, strlen(key), &v, sizeof(v)), TC_OK);
                m->present[ns][k] = true;
                m->value[ns][k] = v;
            }
        }
        assert_int_equal(store_write(f->s, b, round % 10 == 0), TC_OK);
        store_batch_free(b);
        if (round == 30)
            reopen(f);
    }
    struct bytes v;
    bytes_init(&v);
    for (int ns = 0; ns < STORE_NS_COUNT; ns++) {
        int expected = 0;
        for (int k = 0; k < MODEL_KEYS; k++) {
            char key[8];
            model_key(k, key);
            int rc = store_get(f->s, ns, key, strlen(key), &v);
            if (!m->present[ns][k]) {
                assert_int_equal(rc, TC_ENOTFOUND);
                continue;
            }
            expected++;
            assert_int_equal(rc, TC_OK);
            assert_int_equal(v.len, 4);
            assert_memory_equal(v.ptr, &m->value[ns][k], 4);
        }
        struct store_iter *it;
        assert_int_equal(store_iter_new(f->s, ns, NULL, 0, &it), TC_OK);
        int seen = 0, last = -1, rc;
        while ((rc = store_iter_next(it)) == TC_OK) {
            struct bytes_view key = store_iter_key(it);
            assert_int_equal(key.len, 3);
            int k = (key.ptr[1] - '0') * 10 + (key.ptr[2] - '0');
            assert_true(k > last);
            last = k;
            assert_true(m->present[ns][k]);
            assert_memory_equal(store_iter_value(it).ptr, &m->value[ns][k], 4);
            seen++;
        }
        assert_int_equal(rc, TC_ENOTFOUND);
        assert_int_equal(seen, expected);
        store_iter_free(it);
    }
    bytes_free(&v);
    free(m);
}

static void test_bad_arguments_are_errors(void **state)
{
    struct fixture *f = *state;
    f->s = open_plain(f);
    struct bytes v;
    bytes_init(&v);
    static uint8_t long_key[STORE_KEY_MAX + 1];
    assert_int_equal(store_get(f->s, (enum store_ns)STORE_NS_COUNT, "k", 1, &v), TC_EINVAL);
    assert_non_null(strstr(store_last_error(), "namespace"));
    assert_int_equal(store_get(f->s, (enum store_ns) - 1, "k", 1, &v), TC_EINVAL);
    assert_int_equal(store_get(f->s, STORE_NS_META, long_key, sizeof(long_key), &v), TC_ETOOBIG);
    assert_int_equal(store_get(f->s, STORE_NS_META, long_key, STORE_KEY_MAX, &v), TC_ENOTFOUND);
    assert_int_equal(store_get(f->s, STORE_NS_META, NULL, 3, &v), TC_EINVAL);
    assert_int_equal(store_get(NULL, STORE_NS_META, "k", 1, &v), TC_EINVAL);
    assert_int_equal(store_get(f->s, STORE_NS_META, "k", 1, NULL), TC_EINVAL);
    struct store_iter *it = (struct store_iter *)&v;
    assert_int_equal(store_iter_new(f->s, (enum store_ns)STORE_NS_COUNT, NULL, 0, &it), TC_EINVAL);
    assert_null(it);
    assert_int_equal(store_iter_new(f->s, STORE_NS_META, long_key, sizeof(long_key), &it),
                     TC_ETOOBIG);
    assert_int_equal(store_write(f->s, NULL, false), TC_EINVAL);
    assert_int_equal(store_batch_put(NULL, STORE_NS_META, "k", 1, "v", 1), TC_EINVAL);
    assert_null(store_ns_name((enum store_ns)STORE_NS_COUNT));
    assert_string_equal(store_ns_name(STORE_NS_TXS), "transactions");
    bytes_free(&v);
    store_close(NULL);
    store_batch_free(NULL);
    store_iter_free(NULL);
}

static void test_open_errors_name_the_path(void **state)
{
    struct fixture *f = *state;
    char err[512];
    struct store *s = (struct store *)f;
    struct store_options o = { .path = "" };
    assert_int_equal(store_open(&o, &s, err, sizeof(err)), TC_EINVAL);
    assert_null(s);
    /* A regular file where the database directory should be. */
    char path[128];
    snprintf(path, sizeof(path), "%s/file", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    o.path = path;
    int rc = store_open(&o, &s, err, sizeof(err));
    assert_true(rc == TC_EIO || rc == TC_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err, path));
    /* A database already open in this process is locked. */
    f->s = open_plain(f);
    o.path = f->db;
    assert_int_equal(store_open(&o, &s, err, sizeof(err)), TC_EIO);
    assert_non_null(strstr(err, f->db));
    assert_non_null(strstr(err, "lock"));
}

/* Writes one record straight into RocksDB, bypassing the store, in the
 * column family named cf ("default" holds the store's format record). */
static void raw_put(const char *db_path, const char *cf, const char *key, const void *val,
                    size_t val_len)
{
    const char *names[STORE_NS_COUNT + 1];
    const rocksdb_options_t *cf_opts[STORE_NS_COUNT + 1];
    rocksdb_column_family_handle_t *handles[STORE_NS_COUNT + 1];
    rocksdb_options_t *o = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(o, 1);
    rocksdb_options_set_create_missing_column_families(o, 1);
    names[0] = "default";
    for (int i = 0; i < STORE_NS_COUNT; i++)
        names[i + 1] = store_ns_name(i);
    for (int i = 0; i <= STORE_NS_COUNT; i++)
        cf_opts[i] = o;
    char *err = NULL;
    rocksdb_t *db =
        rocksdb_open_column_families(o, db_path, STORE_NS_COUNT + 1, names, cf_opts, handles, &err);
    if (!db)
        fail_msg("raw open: %s", err);
    int idx = -1;
    for (int i = 0; i <= STORE_NS_COUNT; i++)
        if (strcmp(names[i], cf) == 0)
            idx = i;
    assert_true(idx >= 0);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    rocksdb_put_cf(db, wo, handles[idx], key, strlen(key), val, val_len, &err);
    assert_null(err);
    rocksdb_writeoptions_destroy(wo);
    for (int i = 0; i <= STORE_NS_COUNT; i++)
        rocksdb_column_family_handle_destroy(handles[i]);
    rocksdb_close(db);
    rocksdb_options_destroy(o);
}

static void expect_open_refused(const char *db_path, int code, const char *reason)
{
    struct store_options o = { .path = db_path };
    struct store *s = NULL;
    char err[512];
    assert_int_equal(store_open(&o, &s, err, sizeof(err)), code);
    assert_null(s);
    assert_non_null(strstr(err, db_path));
    if (!strstr(err, reason))
        fail_msg("message \"%s\" lacks \"%s\"", err, reason);
}

static void test_database_with_data_but_no_format_record_is_refused(void **state)
{
    struct fixture *f = *state;
    raw_put(f->db, "meta", "head", "1", 1);
    expect_open_refused(f->db, TC_ECORRUPT, "no format record");
}

static void test_malformed_or_newer_format_record_is_refused(void **state)
{
    struct fixture *f = *state;
    f->s = open_plain(f);
    store_close(f->s);
    f->s = NULL;
    raw_put(f->db, "default", "format", "TCST\x02\x00", 6);
    expect_open_refused(f->db, TC_EUNSUPPORTED, "version 2");
    raw_put(f->db, "default", "format", "XXXX\x01\x00", 6);
    expect_open_refused(f->db, TC_ECORRUPT, "malformed");
    raw_put(f->db, "default", "format", "TCST\x01\x07", 6);
    expect_open_refused(f->db, TC_ECORRUPT, "unknown mode");
    raw_put(f->db, "default", "format", "TCST\x01\x00", 6);
    f->s = open_plain(f);
}

static void test_flush_keeps_data_readable(void **state)
{
    struct fixture *f = *state;
    f->s = open_plain(f);
    put1(f->s, STORE_NS_CODE, "c", "bytecode");
    assert_int_equal(store_flush(f->s), TC_OK);
    assert_value(f->s, STORE_NS_CODE, "c", "bytecode");
    reopen(f);
    assert_value(f->s, STORE_NS_CODE, "c", "bytecode");
}

/* Crash test: a child process (this program, re-executed with
 * --crash-writer) writes numbered batches, each putting its number in every
 * namespace and as meta "last", and reports each one written on a pipe; the
 * parent kills it with SIGKILL mid-stream. Reopened, the database must hold
 * exactly the batches 0..m for some m at least the last one reported, each
 * one whole. */
#define CRASH_ACKS        200
#define CRASH_MAX_BATCHES 1000000u

static const uint8_t crash_key[32] = { 0x42, 1, 2, 3 };

static int crash_writer(const char *path, bool sealed)
{
    struct store_options o = { .path = path, .sealed = sealed };
    memcpy(o.master_key, crash_key, sizeof(crash_key));
    char err[256];
    struct store *s;
    if (store_open(&o, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "crash writer: %s\n", err);
        return 1;
    }
    for (uint32_t i = 0; i < CRASH_MAX_BATCHES; i++) {
        char key[16];
        snprintf(key, sizeof(key), "n/%08" PRIu32, i);
        struct store_batch *b;
        if (store_batch_new(s, &b) != 0)
            return 1;
        for (int ns = 0; ns < STORE_NS_COUNT; ns++)
            if (store_batch_put(b, ns, key, strlen(key), &i, sizeof(i)) != 0)
                return 1;
        if (store_batch_put(b, STORE_NS_META, "last", 4, &i, sizeof(i)) != 0 ||
            store_write(s, b, false) != 0)
            return 1;
        store_batch_free(b);
        if (write(STDOUT_FILENO, &i, sizeof(i)) != (ssize_t)sizeof(i))
            return 1;
    }
    store_close(s);
    return 0;
}

static void crash_and_check(struct fixture *f, bool sealed)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        char *args[] = { "test_store", "--crash-writer", f->db, sealed ? "sealed" : "plain", NULL };
        execv("/proc/self/exe", args);
        _exit(127);
    }
    close(fds[1]);
    uint32_t acked = 0, got;
    int acks = 0;
    while (acks < CRASH_ACKS && read(fds[0], &got, sizeof(got)) == (ssize_t)sizeof(got)) {
        acked = got;
        acks++;
    }
    assert_int_equal(acks, CRASH_ACKS);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    close(fds[0]);

    struct store_options o = { .path = f->db, .sealed = sealed };
    memcpy(o.master_key, crash_key, sizeof(crash_key));
    char err[256];
    assert_int_equal(store_open(&o, &f->s, err, sizeof(err)), TC_OK);
    struct bytes v;
    bytes_init(&v);
    assert_int_equal(store_get(f->s, STORE_NS_META, "last", 4, &v), TC_OK);
    assert_int_equal(v.len, 4);
    uint32_t last;
    memcpy(&last, v.ptr, 4);
    assert_true(last >= acked);
    for (uint32_t i = 0; i <= last + 1; i++) {
        char key[16];
        snprintf(key, sizeof(key), "n/%08" PRIu32, i);
        for (int ns = 0; ns < STORE_NS_COUNT; ns++) {
            int rc = store_get(f->s, ns, key, strlen(key), &v);
            if (i <= last) {
                assert_int_equal(rc, TC_OK);
                assert_memory_equal(v.ptr, &i, 4);
            } else {
                assert_int_equal(rc, TC_ENOTFOUND);
            }
        }
    }
    bytes_free(&v);
}

static void test_killed_writer_leaves_only_whole_batches(void **state)
{
    crash_and_check(*state, false);
}

static void test_killed_sealed_writer_leaves_only_whole_batches(void **state)
{
    crash_and_check(*state, true);
}

/* Key files. */

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
    chmod(path, 0600);
}

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static void expected_key(uint8_t key[32])
{
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)i;
}

static void test_key_file_accepts_hex_and_raw_forms(void **state)
{
    struct fixture *f = *state;
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/storage.key", f->dir);
    uint8_t want[32], key[32];
    expected_key(want);
    const char *forms[] = { KEY_HEX, KEY_HEX "\n", KEY_HEX "\r\n",
                            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F" };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        write_file(path, forms[i], strlen(forms[i]));
        memset(key, 0xee, sizeof(key));
        assert_int_equal(store_load_key_file(path, key, err, sizeof(err)), TC_OK);
        assert_memory_equal(key, want, 32);
        assert_string_equal(err, "");
    }
    write_file(path, want, 32);
    assert_int_equal(store_load_key_file(path, key, err, sizeof(err)), TC_OK);
    assert_memory_equal(key, want, 32);
}

static void expect_key_file_rejected(const char *path, const void *data, size_t len, int code,
                                     const char *reason)
{
    char err[256];
    uint8_t key[32];
    write_file(path, data, len);
    memset(key, 0xee, sizeof(key));
    assert_int_equal(store_load_key_file(path, key, err, sizeof(err)), code);
    assert_non_null(strstr(err, path));
    if (!strstr(err, reason))
        fail_msg("message \"%s\" lacks \"%s\"", err, reason);
    static const uint8_t zero[32];
    assert_memory_equal(key, zero, 32);
    /* The message never quotes the key material. */
    assert_null(strstr(err, "0001020304"));
}

static void test_key_file_rejects_other_contents(void **state)
{
    struct fixture *f = *state;
    char path[128];
    snprintf(path, sizeof(path), "%s/bad.key", f->dir);
    expect_key_file_rejected(path, KEY_HEX, 63, TC_EINVAL, "63 bytes");
    expect_key_file_rejected(path, KEY_HEX, 31, TC_EINVAL, "31 bytes");
    expect_key_file_rejected(path, "", 0, TC_EINVAL, "0 bytes");
    expect_key_file_rejected(path, KEY_HEX "\n\n", 66, TC_EINVAL, "66 bytes");
    expect_key_file_rejected(path, KEY_HEX KEY_HEX, 128, TC_EINVAL, "more than 66 bytes");
    expect_key_file_rejected(path, "0x" KEY_HEX, 66, TC_EINVAL, "66 bytes");
    expect_key_file_rejected(path, "0x" KEY_HEX, 64, TC_EINVAL, "not 64 hex digits");
    char bad[65] = KEY_HEX;
    bad[10] = 'g';
    expect_key_file_rejected(path, bad, 64, TC_EINVAL, "not 64 hex digits");
    char spaced[65] = KEY_HEX;
    spaced[63] = ' ';
    expect_key_file_rejected(path, spaced, 64, TC_EINVAL, "not 64 hex digits");
    uint8_t zero[32] = { 0 };
    expect_key_file_rejected(path, zero, 32, TC_EINVAL, "all zero");
    const char zero_hex[] = "0000000000000000000000000000000000000000000000000000000000000000\n";
    expect_key_file_rejected(path, zero_hex, 65, TC_EINVAL, "all zero");
}

static void test_key_file_missing_or_directory_is_refused(void **state)
{
    struct fixture *f = *state;
    char path[128], err[256];
    uint8_t key[32];
    snprintf(path, sizeof(path), "%s/absent.key", f->dir);
    assert_int_equal(store_load_key_file(path, key, err, sizeof(err)), TC_EIO);
    assert_non_null(strstr(err, path));
    assert_int_equal(store_load_key_file(f->dir, key, err, sizeof(err)), TC_EINVAL);
    assert_non_null(strstr(err, "not a regular file"));
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--crash-writer") == 0)
        return crash_writer(argv[2], strcmp(argv[3], "sealed") == 0);
    const char *env = getenv("TC_SEED");
    test_seed = env ? strtoull(env, NULL, 0) : rng_fresh_seed();
    printf("test_store seed: TC_SEED=%" PRIu64 "\n", test_seed);
    log_set_stderr(false);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_delete_in_every_namespace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_replaces_output_and_reports_absent_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_empty_key_and_empty_value_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_across_namespaces_survives_reopen_whole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_batch_with_failed_operation_writes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_batch_of_another_store_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_later_operation_on_same_key_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iterator_returns_namespace_in_key_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_prefix_iterator_stops_at_end_of_prefix, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_iterator_sees_snapshot_from_creation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_batches_match_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments_are_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors_name_the_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_database_with_data_but_no_format_record_is_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_or_newer_format_record_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flush_keeps_data_readable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_writer_leaves_only_whole_batches, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_killed_sealed_writer_leaves_only_whole_batches, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_key_file_accepts_hex_and_raw_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file_rejects_other_contents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file_missing_or_directory_is_refused, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
