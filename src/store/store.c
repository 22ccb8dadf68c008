/*
 * store.c - the public store API: argument checks, the per-thread error
 * message, dispatch to the layer behind the store, opening (format record,
 * plain/sealed agreement, sealed check value) and key files.
 *
 * Format record: key "format" in RocksDB's "default" family, 6 bytes
 * "TCST" || version (1) || mode (0 plain, 1 sealed), written through the
 * backend (never sealed) so that a store can tell, before it has a key,
 * whether a database is sealed. A new database gets it last, after its
 * sealed check value, so that a crash during creation leaves a database
 * without format record and empty namespaces, which the next open creates
 * again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base/error.h"
#include "base/log.h"
#include "store/store_impl.h"

#define FORMAT_KEY     "format"
#define FORMAT_MAGIC   "TCST"
#define FORMAT_VERSION 1
#define FORMAT_BYTES   6
#define MODE_PLAIN     0
#define MODE_SEALED    1

/* The sealed check value: this constant, sealed under the master key in the
 * "default" family. It opens only under the key the database was made with. */
#define CHECK_KEY       "seal-check"
#define CHECK_PLAINTEXT "teechain store sealed check v1"

#define ERROR_MAX 512

static _Thread_local char last_error[ERROR_MAX];

static const char *const ns_names[STORE_NS_COUNT] = {
    [STORE_NS_BLOCKS] = "blocks", [STORE_NS_TXS] = "transactions", [STORE_NS_RECEIPTS] = "receipts",
    [STORE_NS_STATE] = "state",   [STORE_NS_CODE] = "code",        [STORE_NS_INDEXES] = "indexes",
    [STORE_NS_META] = "meta",
};

void store_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
}

const char *store_last_error(void)
{
    return last_error;
}

static void clear_error(void)
{
    last_error[0] = '\0';
}

const char *store_ns_name(enum store_ns ns)
{
    if ((unsigned)ns >= STORE_NS_COUNT)
        return NULL;
    return ns_names[ns];
}

static bool ns_valid(enum store_ns ns)
{
    if ((unsigned)ns < STORE_NS_COUNT)
        return true;
    store_set_error("namespace %d out of range", (int)ns);
    return false;
}

static int check_key(const void *key, size_t key_len)
{
    if (!key && key_len) {
        store_set_error("NULL key with length %zu", key_len);
        return TC_EINVAL;
    }
    if (key_len > STORE_KEY_MAX) {
        store_set_error("key of %zu bytes exceeds %u", key_len, STORE_KEY_MAX);
        return TC_ETOOBIG;
    }
    return TC_OK;
}

bool store_is_ordered(const struct store *s)
{
    return s && s->ordered;
}

int store_get(struct store *s, enum store_ns ns, const void *key, size_t key_len, struct bytes *out)
{
    clear_error();
    if (!s || !out) {
        store_set_error("store_get: NULL store or output");
        return TC_EINVAL;
    }
    bytes_clear(out);
    if (!ns_valid(ns))
        return TC_EINVAL;
    int rc = check_key(key, key_len);
    if (rc)
        return rc;
    return s->ops->get(s, (unsigned)ns, key, key_len, out);
}

int store_batch_new(struct store *s, struct store_batch **out)
{
    clear_error();
    if (!s || !out) {
        store_set_error("store_batch_new: NULL store or output");
        return TC_EINVAL;
    }
    *out = NULL;
    return s->ops->batch_new(s, out);
}

/* Records the outcome of one batch operation: a failure marks the batch. */
static int batch_result(struct store_batch *b, int rc)
{
    if (rc)
        b->failed = true;
    else
        b->count++;
    return rc;
}

int store_batch_put(struct store_batch *b, enum store_ns ns, const void *key, size_t key_len,
                    const void *val, size_t val_len)
{
    clear_error();
    if (!b) {
        store_set_error("store_batch_put: NULL batch");
        return TC_EINVAL;
    }
    if (!ns_valid(ns))
        return batch_result(b, TC_EINVAL);
    int rc = check_key(key, key_len);
    if (rc)
        return batch_result(b, rc);
    if (!val && val_len) {
        store_set_error("NULL value with length %zu", val_len);
        return batch_result(b, TC_EINVAL);
    }
    if (val_len > STORE_VALUE_MAX) {
        store_set_error("value of %zu bytes exceeds %u", val_len, STORE_VALUE_MAX);
        return batch_result(b, TC_ETOOBIG);
    }
    rc = b->owner->ops->batch_put(b, (unsigned)ns, key, key_len, val, val_len);
    return batch_result(b, rc);
}

int store_batch_del(struct store_batch *b, enum store_ns ns, const void *key, size_t key_len)
{
    clear_error();
    if (!b) {
        store_set_error("store_batch_del: NULL batch");
        return TC_EINVAL;
    }
    if (!ns_valid(ns))
        return batch_result(b, TC_EINVAL);
    int rc = check_key(key, key_len);
    if (rc)
        return batch_result(b, rc);
    rc = b->owner->ops->batch_del(b, (unsigned)ns, key, key_len);
    return batch_result(b, rc);
}

size_t store_batch_count(const struct store_batch *b)
{
    return b ? b->count : 0;
}

int store_write(struct store *s, const struct store_batch *b, bool sync)
{
    clear_error();
    if (!s || !b) {
        store_set_error("store_write: NULL store or batch");
        return TC_EINVAL;
    }
    if (b->owner != s) {
        store_set_error("store_write: the batch belongs to another store");
        return TC_EINVAL;
    }
    if (b->failed) {
        store_set_error("store_write: an operation of this batch failed; nothing written");
        return TC_ESTATE;
    }
    return s->ops->write(s, b, sync);
}

void store_batch_free(struct store_batch *b)
{
    if (b)
        b->owner->ops->batch_free(b);
}

int store_iter_new(struct store *s, enum store_ns ns, const void *prefix, size_t prefix_len,
                   struct store_iter **out)
{
    clear_error();
    if (!s || !out) {
        store_set_error("store_iter_new: NULL store or output");
        return TC_EINVAL;
    }
    *out = NULL;
    if (!ns_valid(ns))
        return TC_EINVAL;
    int rc = check_key(prefix, prefix_len);
    if (rc)
        return rc;
    return s->ops->iter_new(s, (unsigned)ns, prefix, prefix_len, out);
}

int store_iter_next(struct store_iter *it)
{
    clear_error();
    if (!it) {
        store_set_error("store_iter_next: NULL iterator");
        return TC_EINVAL;
    }
    if (it->done) {
        store_set_error("iterator already finished");
        return TC_ENOTFOUND;
    }
    return it->owner->ops->iter_next(it);
}

struct bytes_view store_iter_key(const struct store_iter *it)
{
    return it ? it->key : bytes_view_of(NULL, 0);
}

struct bytes_view store_iter_value(const struct store_iter *it)
{
    return it ? it->value : bytes_view_of(NULL, 0);
}

void store_iter_free(struct store_iter *it)
{
    if (it)
        it->owner->ops->iter_free(it);
}

int store_flush(struct store *s)
{
    clear_error();
    if (!s) {
        store_set_error("store_flush: NULL store");
        return TC_EINVAL;
    }
    return s->ops->flush(s);
}

void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}

/* Writes one record through layer s, synced. */
static int put_one(struct store *s, unsigned ns, const char *key, const void *val, size_t val_len)
{
    struct store_batch *b = NULL;
    int rc = s->ops->batch_new(s, &b);
    if (rc)
        return rc;
    rc = s->ops->batch_put(b, ns, (const uint8_t *)key, strlen(key), val, val_len);
    if (rc == TC_OK)
        rc = s->ops->write(s, b, true);
    s->ops->batch_free(b);
    return rc;
}

/* *found tells whether the database has a format record; *sealed its mode. */
static int read_format(struct store *inner, bool *found, bool *sealed)
{
    struct bytes v;
    bytes_init(&v);
    *found = false;
    int rc = inner->ops->get(inner, STORE_NS_INTERNAL, (const uint8_t *)FORMAT_KEY,
                             strlen(FORMAT_KEY), &v);
    if (rc == TC_ENOTFOUND) {
        rc = TC_OK;
        goto out_free_value;
    }
    if (rc)
        goto out_free_value;
    if (v.len != FORMAT_BYTES || memcmp(v.ptr, FORMAT_MAGIC, 4) != 0) {
        store_set_error("format record is malformed (not a teechain store?)");
        rc = TC_ECORRUPT;
        goto out_free_value;
    }
    if (v.ptr[4] != FORMAT_VERSION) {
        store_set_error("format version %u is not supported (this build reads %u)", v.ptr[4],
                        FORMAT_VERSION);
        rc = TC_EUNSUPPORTED;
        goto out_free_value;
    }
    if (v.ptr[5] != MODE_PLAIN && v.ptr[5] != MODE_SEALED) {
        store_set_error("format record has unknown mode %u", v.ptr[5]);
        rc = TC_ECORRUPT;
        goto out_free_value;
    }
    *found = true;
    *sealed = v.ptr[5] == MODE_SEALED;
out_free_value:
    bytes_free(&v);
    return rc;
}

/* A database without format record must be empty: then it is new. */
static int require_empty(struct store *inner)
{
    for (unsigned ns = 0; ns < STORE_NS_COUNT; ns++) {
        struct store_iter *it = NULL;
        int rc = inner->ops->iter_new(inner, ns, NULL, 0, &it);
        if (rc)
            return rc;
        rc = inner->ops->iter_next(it);
        inner->ops->iter_free(it);
        if (rc == TC_OK) {
            store_set_error("namespace %s holds data but the database has no format record "
                            "(not created by teechain?)",
                            ns_names[ns]);
            return TC_ECORRUPT;
        }
        if (rc != TC_ENOTFOUND)
            return rc;
    }
    return TC_OK;
}

static int verify_check(struct store *sealed)
{
    struct bytes v;
    bytes_init(&v);
    int rc = sealed->ops->get(sealed, STORE_NS_INTERNAL, (const uint8_t *)CHECK_KEY,
                              strlen(CHECK_KEY), &v);
    if (rc == TC_ECRYPTO) {
        store_set_error("wrong storage key: the database's sealed check value does not open "
                        "under it");
    } else if (rc == TC_ENOTFOUND) {
        store_set_error("sealed database has no sealed check value");
        rc = TC_ECORRUPT;
    } else if (rc == TC_OK &&
               (v.len != strlen(CHECK_PLAINTEXT) || memcmp(v.ptr, CHECK_PLAINTEXT, v.len) != 0)) {
        store_set_error("sealed check value opens but holds the wrong text");
        rc = TC_ECORRUPT;
    }
    bytes_free(&v);
    return rc;
}

static int create_format(struct store *inner, struct store *s, bool sealed)
{
    int rc = require_empty(inner);
    if (rc)
        return rc;
    if (sealed) {
        rc = put_one(s, STORE_NS_INTERNAL, CHECK_KEY, CHECK_PLAINTEXT, strlen(CHECK_PLAINTEXT));
        if (rc)
            return rc;
    }
    uint8_t rec[FORMAT_BYTES];
    memcpy(rec, FORMAT_MAGIC, 4);
    rec[4] = FORMAT_VERSION;
    rec[5] = sealed ? MODE_SEALED : MODE_PLAIN;
    return put_one(inner, STORE_NS_INTERNAL, FORMAT_KEY, rec, sizeof(rec));
}

int store_open(const struct store_options *opts, struct store **out, char *err, size_t err_len)
{
    clear_error();
    if (err && err_len)
        err[0] = '\0';
    if (!out) {
        tc_errorf(err, err_len, "store_open: NULL output");
        return TC_EINVAL;
    }
    *out = NULL;
    if (!opts || !opts->path || !opts->path[0]) {
        tc_errorf(err, err_len, "store_open: no database path given");
        return TC_EINVAL;
    }
    const char *path = opts->path;
    static const uint8_t zero_key[STORE_MASTER_KEY_BYTES];
    if (opts->sealed && CRYPTO_memcmp(opts->master_key, zero_key, sizeof(zero_key)) == 0) {
        tc_errorf(err, err_len,
                  "storage at %s: sealing is on but the storage key is all zero "
                  "(not loaded?)",
                  path);
        return TC_EINVAL;
    }
    struct store *inner = NULL, *s = NULL;
    int rc = store_rocks_open(path, opts->write_buffer_bytes, !opts->sealed, &inner);
    if (rc)
        goto fail;
    bool found = false, db_sealed = false;
    rc = read_format(inner, &found, &db_sealed);
    if (rc)
        goto out_close_inner;
    if (found && db_sealed && !opts->sealed) {
        store_set_error("the database is sealed: open it with [storage_security] enable=true "
                        "and its key");
        rc = TC_EINVAL;
        goto out_close_inner;
    }
    if (found && !db_sealed && opts->sealed) {
        store_set_error("the database was created unsealed and cannot be opened with "
                        "[storage_security] enable=true (sealing an existing database is not "
                        "supported)");
        rc = TC_EINVAL;
        goto out_close_inner;
    }
    /* The backend stays reachable after wrapping: the format record is
     * written through it, unsealed. */
    struct store *backend = inner;
    s = inner;
    if (opts->sealed) {
        rc = store_seal_wrap(inner, opts->master_key, &s);
        inner = NULL; /* owned by the sealing layer from here, closed with it */
        if (rc)
            goto fail;
    }
    if (!found)
        rc = create_format(backend, s, opts->sealed);
    else if (opts->sealed)
        rc = verify_check(s);
    if (rc)
        goto out_close_store;
    *out = s;
    return TC_OK;

out_close_store:
    store_close(s);
    goto fail;
out_close_inner:
    store_close(inner);
fail:
    tc_errorf(err, err_len, "storage at %s: %s", path, last_error);
    return rc;
}

/* Decodes exactly 64 hex digits; false on any other character. */
static bool parse_hex_key(const char *text, uint8_t key[STORE_MASTER_KEY_BYTES])
{
    size_t got = 0;
    return hex_decode(text, 2 * STORE_MASTER_KEY_BYTES, key, STORE_MASTER_KEY_BYTES, &got) ==
               TC_OK &&
           got == STORE_MASTER_KEY_BYTES;
}

/* Reads the whole file (at most cap bytes) into buf; *len is its size, or
 * cap + 1 when it is larger. */
static int read_small_file(const char *path, char *buf, size_t cap, size_t *len, char *err,
                           size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        tc_errorf(err, err_len, "key file %s: cannot open: %s", path, strerror(errno));
        return TC_EIO;
    }
    int rc = TC_OK;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        tc_errorf(err, err_len, "key file %s: cannot stat: %s", path, strerror(errno));
        rc = TC_EIO;
        goto out_close_fd;
    }
    if (!S_ISREG(st.st_mode)) {
        tc_errorf(err, err_len, "key file %s: not a regular file", path);
        rc = TC_EINVAL;
        goto out_close_fd;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        LOG_W("store", "key file %s is accessible to group or others (chmod 600 it)", path);
    *len = 0;
    while (*len <= cap) {
        ssize_t n = read(fd, buf + *len, cap + 1 - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            tc_errorf(err, err_len, "key file %s: read failed: %s", path, strerror(errno));
            rc = TC_EIO;
            goto out_close_fd;
        }
        if (n == 0)
            break;
        *len += (size_t)n;
    }
out_close_fd:
    close(fd);
    return rc;
}

int store_load_key_file(const char *path, uint8_t key[STORE_MASTER_KEY_BYTES], char *err,
                        size_t err_len)
{
    if (err && err_len)
        err[0] = '\0';
    if (!key)
        return TC_EINVAL;
    memset(key, 0, STORE_MASTER_KEY_BYTES);
    if (!path || !path[0]) {
        tc_errorf(err, err_len, "key file: no path given");
        return TC_EINVAL;
    }
    /* Largest accepted form: 64 hex digits + "\r\n"; one more byte tells
     * "too long" apart. */
    enum { HEX_DIGITS = 2 * STORE_MASTER_KEY_BYTES, CAP = HEX_DIGITS + 2 };
    char buf[CAP + 1];
    size_t len = 0;
    int rc = read_small_file(path, buf, CAP, &len, err, err_len);
    if (rc)
        goto out_wipe;
    rc = TC_EINVAL;
    if (len == STORE_MASTER_KEY_BYTES) {
        memcpy(key, buf, STORE_MASTER_KEY_BYTES);
        rc = TC_OK;
    } else if (len == HEX_DIGITS || (len == HEX_DIGITS + 1 && buf[HEX_DIGITS] == '\n') ||
               (len == HEX_DIGITS + 2 && buf[HEX_DIGITS] == '\r' && buf[HEX_DIGITS + 1] == '\n')) {
        if (parse_hex_key(buf, key)) {
            rc = TC_OK;
        } else {
            tc_errorf(err, err_len, "key file %s: not 64 hex digits", path);
            goto out_wipe;
        }
    } else {
        tc_errorf(err, err_len,
                  "key file %s: %s%zu bytes; expected 64 hex digits (and an optional newline) "
                  "or 32 raw bytes",
                  path, len > CAP ? "more than " : "", len > CAP ? (size_t)CAP : len);
        goto out_wipe;
    }
    static const uint8_t zero[STORE_MASTER_KEY_BYTES];
    if (CRYPTO_memcmp(key, zero, STORE_MASTER_KEY_BYTES) == 0) {
        tc_errorf(err, err_len, "key file %s: the key is all zero bytes", path);
        rc = TC_EINVAL;
    }
out_wipe:
    OPENSSL_cleanse(buf, sizeof(buf));
    if (rc)
        OPENSSL_cleanse(key, STORE_MASTER_KEY_BYTES);
    return rc;
}
