/* test_seal.c - the sealed store: round trips, iteration, wrong key and
 * plain/sealed mismatch refused, tampering and swapping detected, and no
 * plaintext marker anywhere in the database files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rocksdb/c.h>

#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"
#include "store/store.h"

#define MARKER "TEECHAIN-MARKER-7f3a"

struct fixture {
    char dir[64];
    char db[96];
    struct store *s;
    uint8_t key[32];
};

static uint64_t test_seed;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/tc-seal-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/db", f->dir);
    for (int i = 0; i < 32; i++)
        f->key[i] = (uint8_t)(0xa0 + i);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static int try_open(const char *path, bool sealed, const uint8_t *key, struct store **out,
                    char *err, size_t err_len)
{
    struct store_options o = { .path = path, .sealed = sealed };
    if (key)
        memcpy(o.master_key, key, 32);
    return store_open(&o, out, err, err_len);
}

static struct store *open_sealed(struct fixture *f)
{
    char err[512];
    struct store *s = NULL;
    int rc = try_open(f->db, true, f->key, &s, err, sizeof(err));
    if (rc)
        fail_msg("store_open: %d %s", rc, err);
    return s;
}

static void close_store(struct fixture *f)
{
    store_close(f->s);
    f->s = NULL;
}

static void put1(struct store *s, enum store_ns ns, const char *key, const char *val)
{
    struct store_batch *b;
    assert_int_equal(store_batch_new(s, &b), TC_OK);
    assert_int_equal(store_batch_put(b, ns, key, strlen(key), val, strlen(val)), TC_OK);
    int rc = store_write(s, b, false);
    if (rc)
        fail_msg("write: %d %s", rc, store_last_error());
    store_batch_free(b);
}

static int get_str(struct store *s, enum store_ns ns, const char *key, char *out, size_t cap)
{
    struct bytes v;
    bytes_init(&v);
    int rc = store_get(s, ns, key, strlen(key), &v);
    out[0] = '\0';
    if (rc == TC_OK) {
        assert_true(v.len < cap);
        memcpy(out, v.ptr, v.len);
        out[v.len] = '\0';
    }
    bytes_free(&v);
    return rc;
}

static void assert_value(struct store *s, enum store_ns ns, const char *key, const char *want)
{
    char got[256];
    int rc = get_str(s, ns, key, got, sizeof(got));
    if (!want) {
        assert_int_equal(rc, TC_ENOTFOUND);
        return;
    }
    if (rc)
        fail_msg("get %s/%s: %d %s", store_ns_name(ns), key, rc, store_last_error());
    assert_string_equal(got, want);
}

/* Raw access to the database under the store, through RocksDB's C API. */
struct raw {
    rocksdb_t *db;
    rocksdb_options_t *options;
    rocksdb_writeoptions_t *wo;
    rocksdb_readoptions_t *ro;
    rocksdb_column_family_handle_t *cf[STORE_NS_COUNT + 1]; /* [0] is "default" */
};

static void raw_open(struct raw *r, const char *path)
{
    const char *names[STORE_NS_COUNT + 1];
    const rocksdb_options_t *cf_opts[STORE_NS_COUNT + 1];
    r->options = rocksdb_options_create();
    names[0] = "default";
    for (int i = 0; i < STORE_NS_COUNT; i++)
        names[i + 1] = store_ns_name(i);
    for (int i = 0; i <= STORE_NS_COUNT; i++)
        cf_opts[i] = r->options;
    char *err = NULL;
    r->db = rocksdb_open_column_families(r->options, path, STORE_NS_COUNT + 1, names, cf_opts,
                                         r->cf, &err);
    if (!r->db)
        fail_msg("raw open: %s", err);
    r->wo = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(r->wo, 1);
    r->ro = rocksdb_readoptions_create();
}

static void raw_close(struct raw *r)
{
    for (int i = 0; i <= STORE_NS_COUNT; i++)
        rocksdb_column_family_handle_destroy(r->cf[i]);
    rocksdb_close(r->db);
    rocksdb_writeoptions_destroy(r->wo);
    rocksdb_readoptions_destroy(r->ro);
    rocksdb_options_destroy(r->options);
}

struct raw_entry {
    char key[64];
    size_t key_len;
    char *val;
    size_t val_len;
};

/* Reads up to cap entries of a namespace as stored; returns how many. */
static int raw_entries(struct raw *r, enum store_ns ns, struct raw_entry *out, int cap)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(r->db, r->ro, r->cf[ns + 1]);
    int n = 0;
    for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        assert_true(n < cap);
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl), *v = rocksdb_iter_value(it, &vl);
        assert_true(kl <= sizeof(out[n].key));
        memcpy(out[n].key, k, kl);
        out[n].key_len = kl;
        out[n].val = malloc(vl);
        assert_non_null(out[n].val);
        memcpy(out[n].val, v, vl);
        out[n].val_len = vl;
        n++;
    }
    rocksdb_iter_destroy(it);
    return n;
}

static void raw_put(struct raw *r, enum store_ns ns, const struct raw_entry *e, const char *val,
                    size_t val_len)
{
    char *err = NULL;
    rocksdb_put_cf(r->db, r->wo, r->cf[ns + 1], e->key, e->key_len, val, val_len, &err);
    assert_null(err);
}

static void free_entries(struct raw_entry *e, int n)
{
    for (int i = 0; i < n; i++)
        free(e[i].val);
}

static void test_sealed_round_trip_in_every_namespace(void **state)
{
    struct fixture *f = *state;
    f->s = open_sealed(f);
    assert_false(store_is_ordered(f->s));
    for (int ns = 0; ns < STORE_NS_COUNT; ns++) {
        char val[40];
        snprintf(val, sizeof(val), "sealed value of %s", store_ns_name(ns));
        put1(f->s, ns, "same-key", val);
    }
    put1(f->s, STORE_NS_META, "", "empty key");
    put1(f->s, STORE_NS_META, "empty value", "");
    close_store(f);
    f->s = open_sealed(f);
    for (int ns = 0; ns < STORE_NS_COUNT; ns++) {
        char val[40];
        snprintf(val, sizeof(val), "sealed value of %s", store_ns_name(ns));
        assert_value(f->s, ns, "same-key", val);
    }
    assert_value(f->s, STORE_NS_META, "", "empty key");
    assert_value(f->s, STORE_NS_META, "empty value", "");
    assert_value(f->s, STORE_NS_META, "absent", NULL);

    struct store_batch *b;
    assert_int_equal(store_batch_new(f->s, &b), TC_OK);
    assert_int_equal(store_batch_del(b, STORE_NS_STATE, "same-key", 8), TC_OK);
    assert_int_equal(store_batch_put(b, STORE_NS_CODE, "same-key", 8, "replaced", 8), TC_OK);
    assert_int_equal(store_write(f->s, b, false), TC_OK);
    store_batch_free(b);
    assert_value(f->s, STORE_NS_STATE, "same-key", NULL);
    assert_value(f->s, STORE_NS_CODE, "same-key", "replaced");
    assert_value(f->s, STORE_NS_RECEIPTS, "same-key", "sealed value of receipts");
}

static void test_sealed_stored_form_hides_keys_and_differs_per_write(void **state)
{
    struct fixture *f = *state;
    f->s = open_sealed(f);
    put1(f->s, STORE_NS_STATE, "account-1", "balance 100");
    put1(f->s, STORE_NS_STATE, "account-1", "balance 100");
    close_store(f);
    struct raw r;
    raw_open(&r, f->db);
    struct raw_entry e[4];
    int n = raw_entries(&r, STORE_NS_STATE, e, 4);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].key_len, 32);
    /* version || nonce || (4 + key + value) || tag */
    assert_int_equal(e[0].val_len, 1 + 12 + 4 + 9 + 11 + 16);
    assert_int_equal((uint8_t)e[0].val[0], 1);
    char first[64];
    memcpy(first, e[0].val, e[0].val_len);
    free_entries(e, n);
    raw_close(&r);

    /* Writing the same value again draws a fresh nonce: new ciphertext. */
    f->s = open_sealed(f);
    put1(f->s, STORE_NS_STATE, "account-1", "balance 100");
    close_store(f);
    raw_open(&r, f->db);
    n = raw_entries(&r, STORE_NS_STATE, e, 4);
    assert_int_equal(n, 1);
    assert_memory_not_equal(first, e[0].val, e[0].val_len);
    free_entries(e, n);
    raw_close(&r);
}

/* Collects the entries an iterator returns, as a sorted "k=v;" list. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect_sorted(struct store *s, enum store_ns ns, const char *prefix, char *out,
                           size_t cap)
{
    struct store_iter *it;
    assert_int_equal(store_iter_new(s, ns, prefix, prefix ? strlen(prefix) : 0, &it), TC_OK);
    char *items[64];
    int n = 0, rc;
    while ((rc = store_iter_next(it)) == TC_OK) {
        assert_true(n < 64);
        struct bytes_view k = store_iter_key(it), v = store_iter_value(it);
        items[n] = malloc(k.len + v.len + 3);
        assert_non_null(items[n]);
        snprintf(items[n], k.len + v.len + 3, "%.*s=%.*s;", (int)k.len, (const char *)k.ptr,
                 (int)v.len, (const char *)v.ptr);
        n++;
    }
    assert_int_equal(rc, TC_ENOTFOUND);
    store_iter_free(it);
    qsort(items, (size_t)n, sizeof(items[0]), cmp_str);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        strncat(out, items[i], cap - strlen(out) - 1);
        free(items[i]);
    }
}

static void test_sealed_iterator_returns_real_keys_filtered_by_prefix(void **state)
{
    struct fixture *f = *state;
    f->s = open_sealed(f);
    const char *keys[] = { "b/1", "a/2", "ab", "a/1", "c", "a" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        put1(f->s, STORE_NS_INDEXES, keys[i], keys[i]);
    put1(f->s, STORE_NS_META, "a/0", "other namespace");
    char got[256];
    collect_sorted(f->s, STORE_NS_INDEXES, NULL, got, sizeof(got));
    assert_string_equal(got, "a/1=a/1;a/2=a/2;a=a;ab=ab;b/1=b/1;c=c;");
    collect_sorted(f->s, STORE_NS_INDEXES, "a/", got, sizeof(got));
    assert_string_equal(got, "a/1=a/1;a/2=a/2;");
    collect_sorted(f->s, STORE_NS_INDEXES, "zz", got, sizeof(got));
    assert_string_equal(got, "");
    collect_sorted(f->s, STORE_NS_BLOCKS, NULL, got, sizeof(got));
    assert_string_equal(got, "");
}

static void test_sealed_random_batches_match_model(void **state)
{
    struct fixture *f = *state;
    f->s = open_sealed(f);
    struct rng r;
    rng_seed(&r, test_seed);
    enum { KEYS = 40 };
    static bool present[STORE_NS_COUNT][KEYS];
    static uint64_t value[STORE_NS_COUNT][KEYS];
    memset(present, 0, sizeof(present));
    for (int round = 0; round < 40; round++) {
        struct store_batch *b;
        assert_int_equal(store_batch_new(f->s, &b), TC_OK);
        int ops = (int)rng_range(&r, 1, 16);
        for (int i = 0; i < ops; i++) {
            int ns = (int)rng_below(&r, STORE_NS_COUNT), k = (int)rng_below(&r, KEYS);
            uint8_t key[2] = { 'k', (uint8_t)k };
            if (rng_below(&r, 4) == 0) {
                assert_int_equal(store_batch_del(b, ns, key, 2), TC_OK);
                present[ns][k] = false;
            } else {
                uint64_t v = rng_next(&r);
                assert_int_equal(store_batch_put(b, ns, key, 2, &v, 8), TC_OK);
                present[ns][k] = true;
                value[ns][k] = v;
            }
        }
        assert_int_equal(store_write(f->s, b, false), TC_OK);
        store_batch_free(b);
        if (round == 20) {
            close_store(f);
            f->s = open_sealed(f);
        }
    }
    struct bytes v;
    bytes_init(&v);
    for (int ns = 0; ns < STORE_NS_COUNT; ns++) {
        int expected = 0;
        for (int k = 0; k < KEYS; k++) {
            uint8_t key[2] = { 'k', (uint8_t)k };
            int rc = store_get(f->s, ns, key, 2, &v);
            if (!present[ns][k]) {
                assert_int_equal(rc, TC_ENOTFOUND);
                continue;
            }
            expected++;
            assert_int_equal(rc, TC_OK);
            assert_int_equal(v.len, 8);
            assert_memory_equal(v.ptr, &value[ns][k], 8);
        }
        struct store_iter *it;
        assert_int_equal(store_iter_new(f->s, ns, "k", 1, &it), TC_OK);
        bool seen[KEYS] = { false };
        int count = 0, rc;
        while ((rc = store_iter_next(it)) == TC_OK) {
            struct bytes_view key = store_iter_key(it);
            assert_int_equal(key.len, 2);
            int k = key.ptr[1];
            assert_true(k < KEYS && present[ns][k] && !seen[k]);
            seen[k] = true;
            assert_memory_equal(store_iter_value(it).ptr, &value[ns][k], 8);
            count++;
        }
        assert_int_equal(rc, TC_ENOTFOUND);
        assert_int_equal(count, expected);
        store_iter_free(it);
    }
    bytes_free(&v);
}

static void test_wrong_key_is_refused_before_any_read(void **state)
{
    struct fixture *f = *state;
    f->s = open_sealed(f);
    put1(f->s, STORE_NS_META, "head", "42");
    close_store(f);
    uint8_t wrong[32];
    memcpy(wrong, f->key, 32);
    wrong[31] ^= 1;
    char err[512];
    struct store *s = (struct store *)f;
    assert_int_equal(try_open(f->db, true, wrong, &s, err, sizeof(err)), TC_ECRYPTO);
    assert_null(s);
    assert_non_null(strstr(err, "wrong storage key"));
    assert_non_null(strstr(err, f->db));
    /* The right key still opens it, and the data is intact. */
    f->s = open_sealed(f);
    assert_value(f->s, STORE_NS_META, "head", "42");
}

static void test_plain_and_sealed_mismatch_is_refused(void **state)
{
    struct fixture *f = *state;
    char err[512];
    struct store *s = NULL;
    f->s = open_sealed(f);
    put1(f->s, STORE_NS_META, "head", "1");
    close_store(f);
    assert_int_equal(try_open(f->db, false, NULL, &s, err, sizeof(err)), TC_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err, "is sealed"));
    assert_non_null(strstr(err, "[storage_security] enable=true"));

    char plain_db[128];
    snprintf(plain_db, sizeof(plain_db), "%s/plain", f->dir);
    assert_int_equal(try_open(plain_db, false, NULL, &s, err, sizeof(err)), TC_OK);
    store_close(s);
    s = NULL;
    assert_int_equal(try_open(plain_db, true, f->key, &s, err, sizeof(err)), TC_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err, "created unsealed"));
    assert_non_null(strstr(err, plain_db));
    /* A sealed open without a key (all zero) is refused up front. */
    static const uint8_t zero[32];
    assert_int_equal(try_open(f->db, true, zero, &s, err, sizeof(err)), TC_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err, "all zero"));
    /* Both still open in their own mode. */
    f->s = open_sealed(f);
    assert_value(f->s, STORE_NS_META, "head", "1");
    assert_int_equal(try_open(plain_db, false, NULL, &s, err, sizeof(err)), TC_OK);
    store_close(s);
}

static void test_sealed_database_without_check_value_is_refused(void **state)
{
    struct fixture *f = *state;
    f->s = open_sealed(f);
    close_store(f);
    struct raw raw;
    raw_open(&raw, f->db);
    char *err = NULL;
    rocksdb_delete_cf(raw.db, raw.wo, raw.cf[0], "seal-check", strlen("seal-check"), &err);
    assert_null(err);
    raw_close(&raw);
    char msg[512];
    struct store *s = NULL;
    assert_int_equal(try_open(f->db, true, f->key, &s, msg, sizeof(msg)), TC_ECORRUPT);
    assert_null(s);
    assert_non_null(strstr(msg, "no sealed check value"));
}

static void test_tampered_value_fails_authentication(void **state)
{
    struct fixture *f = *state;
    struct rng r;
    rng_seed(&r, test_seed ^ 0x5eaULL);
    f->s = open_sealed(f);
    put1(f->s, STORE_NS_STATE, "alice", "balance 100");
    put1(f->s, STORE_NS_STATE, "bob", "balance 250");
    close_store(f);

    struct raw raw;
    raw_open(&raw, f->db);
    struct raw_entry e[4];
    int n = raw_entries(&raw, STORE_NS_STATE, e, 4);
    assert_int_equal(n, 2);
    raw_close(&raw);
    size_t len = e[0].val_len;
    /* Version byte, nonce, length prefix, key, value, tag, and one at random. */
    size_t positions[] = { 0, 1, 13, 17, 25, len - 16, len - 1, (size_t)rng_below(&r, len) };
    for (size_t i = 0; i < sizeof(positions) / sizeof(positions[0]); i++) {
        char *bad = malloc(len);
        assert_non_null(bad);
        memcpy(bad, e[0].val, len);
        bad[positions[i]] ^= (char)(1u << rng_below(&r, 8));
        raw_open(&raw, f->db);
        raw_put(&raw, STORE_NS_STATE, &e[0], bad, len);
        raw_close(&raw);
        free(bad);

        f->s = open_sealed(f);
        char a[64], b[64];
        int ra = get_str(f->s, STORE_NS_STATE, "alice", a, sizeof(a));
        int rb = get_str(f->s, STORE_NS_STATE, "bob", b, sizeof(b));
        /* Exactly one of the two was damaged; the other still reads. */
        assert_true((ra == TC_ECRYPTO && rb == TC_OK) || (ra == TC_OK && rb == TC_ECRYPTO));
        assert_string_equal(ra == TC_OK ? a : b, ra == TC_OK ? "balance 100" : "balance 250");
        assert_string_equal(ra == TC_OK ? b : a, "");
        assert_int_equal(get_str(f->s, STORE_NS_STATE, ra == TC_OK ? "bob" : "alice", a, sizeof(a)),
                         TC_ECRYPTO);
        assert_non_null(strstr(store_last_error(), "authentication"));
        struct store_iter *it;
        assert_int_equal(store_iter_new(f->s, STORE_NS_STATE, NULL, 0, &it), TC_OK);
        int rc;
        while ((rc = store_iter_next(it)) == TC_OK)
            ;
        assert_int_equal(rc, TC_ECRYPTO);
        store_iter_free(it);
        close_store(f);
    }
    /* Truncated values fail the same way. */
    raw_open(&raw, f->db);
    raw_put(&raw, STORE_NS_STATE, &e[0], e[0].val, 20);
    raw_put(&raw, STORE_NS_STATE, &e[1], "", 0);
    raw_close(&raw);
    f->s = open_sealed(f);
    char v[64];
    assert_int_equal(get_str(f->s, STORE_NS_STATE, "alice", v, sizeof(v)), TC_ECRYPTO);
    assert_int_equal(get_str(f->s, STORE_NS_STATE, "bob", v, sizeof(v)), TC_ECRYPTO);
    free_entries(e, n);
}

static void test_swapped_values_fail_authentication(void **state)
{
    struct fixture *f = *state;
    f->s = open_sealed(f);
    put1(f->s, STORE_NS_STATE, "alice", "balance 100");
    put1(f->s, STORE_NS_STATE, "bob", "balance 250");
    put1(f->s, STORE_NS_CODE, "alice", "code of alice");
    close_store(f);

    struct raw raw;
    raw_open(&raw, f->db);
    struct raw_entry st[4], code[4];
    assert_int_equal(raw_entries(&raw, STORE_NS_STATE, st, 4), 2);
    assert_int_equal(raw_entries(&raw, STORE_NS_CODE, code, 4), 1);
    raw_put(&raw, STORE_NS_STATE, &st[0], st[1].val, st[1].val_len);
    raw_put(&raw, STORE_NS_STATE, &st[1], st[0].val, st[0].val_len);
    /* The same real key's value moved from another namespace. */
    raw_put(&raw, STORE_NS_CODE, &code[0], st[0].val, st[0].val_len);
    raw_close(&raw);

    f->s = open_sealed(f);
    char v[64];
    assert_int_equal(get_str(f->s, STORE_NS_STATE, "alice", v, sizeof(v)), TC_ECRYPTO);
    assert_int_equal(get_str(f->s, STORE_NS_STATE, "bob", v, sizeof(v)), TC_ECRYPTO);
    assert_int_equal(get_str(f->s, STORE_NS_CODE, "alice", v, sizeof(v)), TC_ECRYPTO);
    free_entries(st, 2);
    free_entries(code, 1);
}

/* Marker scan: counts the files under dir that contain MARKER, and the .log
 * (write-ahead log) and .sst files seen. */
struct scan {
    int files_with_marker;
    int wal_files, sst_files;
    int wal_with_marker, sst_with_marker;
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool file_has_marker(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    struct bytes b;
    bytes_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        assert_int_equal(bytes_append(&b, chunk, n), TC_OK);
    fclose(fp);
    bool found = b.len && memmem(b.ptr, b.len, MARKER, strlen(MARKER)) != NULL;
    bytes_free(&b);
    return found;
}

static void scan_dir(const char *dir, struct scan *sc)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            scan_dir(path, sc);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        bool has = file_has_marker(path);
        sc->files_with_marker += has;
        if (ends_with(de->d_name, ".log")) {
            sc->wal_files++;
            sc->wal_with_marker += has;
        } else if (ends_with(de->d_name, ".sst")) {
            sc->sst_files++;
            sc->sst_with_marker += has;
        }
    }
    closedir(d);
}

/* Writes keys and values carrying the marker, scans the files while they sit
 * in the write-ahead log, then again after a flush moved them to SST files. */
static void write_marker_and_scan(struct fixture *f, bool sealed, struct scan *before,
                                  struct scan *after)
{
    char err[512];
    assert_int_equal(try_open(f->db, sealed, f->key, &f->s, err, sizeof(err)), TC_OK);
    struct store_batch *b;
    assert_int_equal(store_batch_new(f->s, &b), TC_OK);
    for (int i = 0; i < 50; i++) {
        char key[64], val[128];
        snprintf(key, sizeof(key), "%s/key/%d", MARKER, i);
        snprintf(val, sizeof(val), "payload %d: %s (confidential state)", i, MARKER);
        enum store_ns ns = (enum store_ns)(i % STORE_NS_COUNT);
        assert_int_equal(store_batch_put(b, ns, key, strlen(key), val, strlen(val)), TC_OK);
    }
    assert_int_equal(store_write(f->s, b, true), TC_OK);
    store_batch_free(b);
    memset(before, 0, sizeof(*before));
    scan_dir(f->db, before);
    assert_true(before->wal_files > 0);

    assert_int_equal(store_flush(f->s), TC_OK);
    close_store(f);
    memset(after, 0, sizeof(*after));
    scan_dir(f->db, after);
    assert_true(after->sst_files > 0);

    /* The data is still there, through the store. */
    assert_int_equal(try_open(f->db, sealed, f->key, &f->s, err, sizeof(err)), TC_OK);
    char key[64];
    snprintf(key, sizeof(key), "%s/key/%d", MARKER, 7);
    struct bytes v;
    bytes_init(&v);
    assert_int_equal(store_get(f->s, STORE_NS_BLOCKS, key, strlen(key), &v), TC_OK);
    assert_non_null(memmem(v.ptr, v.len, MARKER, strlen(MARKER)));
    bytes_free(&v);
}

static void test_marker_appears_nowhere_on_disk_when_sealed(void **state)
{
    struct fixture *f = *state;
    struct scan before, after;
    write_marker_and_scan(f, true, &before, &after);
    assert_int_equal(before.files_with_marker, 0);
    assert_int_equal(after.files_with_marker, 0);
}

static void test_marker_scan_finds_plaintext_when_not_sealed(void **state)
{
    /* The same scan on an unsealed store must find the marker, in the
     * write-ahead log and in the SST files: the scan can fail. */
    struct fixture *f = *state;
    struct scan before, after;
    write_marker_and_scan(f, false, &before, &after);
    assert_true(before.wal_with_marker > 0);
    assert_true(after.sst_with_marker > 0);
}

static void test_master_key_array_may_be_wiped_after_open(void **state)
{
    struct fixture *f = *state;
    struct store_options o = { .path = f->db, .sealed = true };
    memcpy(o.master_key, f->key, 32);
    char err[256];
    assert_int_equal(store_open(&o, &f->s, err, sizeof(err)), TC_OK);
    memset(o.master_key, 0, sizeof(o.master_key));
    put1(f->s, STORE_NS_META, "k", "v");
    assert_value(f->s, STORE_NS_META, "k", "v");
}

/* Several threads share one sealed store: readers of fixed keys and a
 * writer of other keys run at once, and every read sees the right value. */
#define READER_THREADS 3
#define SHARED_KEYS    200

struct shared_run {
    struct store *s;
    int failures;
};

static void shared_key(int i, char key[24])
{
    snprintf(key, 24, "shared-%d", i);
}

static void *reader_main(void *arg)
{
    struct shared_run *run = arg;
    struct bytes v;
    bytes_init(&v);
    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < SHARED_KEYS; i++) {
            char key[24];
            shared_key(i, key);
            uint32_t want = (uint32_t)i * 7u;
            if (store_get(run->s, STORE_NS_STATE, key, strlen(key), &v) != TC_OK || v.len != 4 ||
                memcmp(v.ptr, &want, 4) != 0)
                run->failures++;
        }
    }
    bytes_free(&v);
    return NULL;
}

static void *writer_main(void *arg)
{
    struct shared_run *run = arg;
    for (uint32_t b = 0; b < 50; b++) {
        struct store_batch *batch;
        if (store_batch_new(run->s, &batch) != TC_OK) {
            run->failures++;
            return NULL;
        }
        for (uint32_t i = 0; i < 20; i++) {
            char key[24];
            snprintf(key, sizeof(key), "w-%u-%u", b, i);
            if (store_batch_put(batch, STORE_NS_BLOCKS, key, strlen(key), &b, 4) != TC_OK)
                run->failures++;
        }
        if (store_write(run->s, batch, false) != TC_OK)
            run->failures++;
        store_batch_free(batch);
    }
    return NULL;
}

static void test_sealed_store_serves_concurrent_threads(void **state)
{
    struct fixture *f = *state;
    f->s = open_sealed(f);
    struct store_batch *b;
    assert_int_equal(store_batch_new(f->s, &b), TC_OK);
    for (int i = 0; i < SHARED_KEYS; i++) {
        char key[24];
        shared_key(i, key);
        uint32_t val = (uint32_t)i * 7u;
        assert_int_equal(store_batch_put(b, STORE_NS_STATE, key, strlen(key), &val, 4), TC_OK);
    }
    assert_int_equal(store_write(f->s, b, false), TC_OK);
    store_batch_free(b);

    pthread_t threads[READER_THREADS + 1];
    struct shared_run runs[READER_THREADS + 1];
    for (int t = 0; t <= READER_THREADS; t++) {
        runs[t] = (struct shared_run){ .s = f->s };
        assert_int_equal(pthread_create(&threads[t], NULL,
                                        t == READER_THREADS ? writer_main : reader_main, &runs[t]),
                         0);
    }
    for (int t = 0; t <= READER_THREADS; t++) {
        assert_int_equal(pthread_join(threads[t], NULL), 0);
        assert_int_equal(runs[t].failures, 0);
    }
    struct store_iter *it;
    assert_int_equal(store_iter_new(f->s, STORE_NS_BLOCKS, "w-", 2, &it), TC_OK);
    int n = 0, rc;
    while ((rc = store_iter_next(it)) == TC_OK)
        n++;
    assert_int_equal(rc, TC_ENOTFOUND);
    assert_int_equal(n, 50 * 20);
    store_iter_free(it);
}

int main(void)
{
    const char *env = getenv("TC_SEED");
    test_seed = env ? strtoull(env, NULL, 0) : rng_fresh_seed();
    printf("test_seal seed: TC_SEED=%" PRIu64 "\n", test_seed);
    log_set_stderr(false);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sealed_round_trip_in_every_namespace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_stored_form_hides_keys_and_differs_per_write,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_iterator_returns_real_keys_filtered_by_prefix,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_random_batches_match_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key_is_refused_before_any_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_and_sealed_mismatch_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_database_without_check_value_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tampered_value_fails_authentication, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swapped_values_fail_authentication, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marker_appears_nowhere_on_disk_when_sealed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_marker_scan_finds_plaintext_when_not_sealed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sealed_store_serves_concurrent_threads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_master_key_array_may_be_wiped_after_open, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
