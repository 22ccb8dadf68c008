/*
 * rocks.c - the RocksDB backend of the store: one column family per
 * namespace, "default" for the store's own records, write batches for
 * atomicity across namespaces, snapshot iterators.
 *
 * The RocksDB C API reports failure through a `char **errptr` that it
 * allocates: every call site hands it to rocks_error(), which copies it into
 * the thread's store error message, frees it and maps it to a TC_* code.
 */
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "base/error.h"
#include "store/store_impl.h"

/* Memtable size when the caller gives none: large enough for a few hundred
 * blocks between flushes, small enough for a 2-core test machine. */
#define DEFAULT_WRITE_BUFFER_BYTES (32u * 1024u * 1024u)
/* All memtables of all column families together: RocksDB flushes the largest
 * when they reach it. Seven namespaces at 32 MiB each, with a second memtable
 * while one flushes, could otherwise hold about 450 MiB, which would break the
 * node's 512 MiB memory budget on its own. */
#define DB_WRITE_BUFFER_CAP_FACTOR 4u
/* RocksDB keeps SST files open; bound the descriptors a node may use. */
#define MAX_OPEN_FILES 512
/* RocksDB's own info log ("LOG" in the database directory): keep it small. */
#define INFO_LOG_MAX_BYTES (4u * 1024u * 1024u)
#define INFO_LOG_KEEP      4

struct rocks_store {
    struct store base;
    rocksdb_t *db;
    rocksdb_options_t *options;
    rocksdb_readoptions_t *read_options;
    rocksdb_writeoptions_t *write_sync;
    rocksdb_writeoptions_t *write_nosync;
    rocksdb_flushoptions_t *flush_options;
    rocksdb_column_family_handle_t *cf[STORE_NS_ALL];
};

struct rocks_batch {
    struct store_batch base;
    rocksdb_writebatch_t *wb;
};

struct rocks_iter {
    struct store_iter base;
    rocksdb_iterator_t *it;
    bool started;
    size_t prefix_len;
    uint8_t prefix[];
};

static const struct store_ops rocks_ops;

static const char *cf_name(unsigned ns)
{
    return ns == STORE_NS_INTERNAL ? "default" : store_ns_name((enum store_ns)ns);
}

/* Copies RocksDB's message into the thread's error, frees it, maps the code.
 * RocksDB's messages start with the Status code's name. */
static int rocks_error(char *errptr, const char *what)
{
    int rc = TC_EIO;
    if (strncmp(errptr, "Corruption", strlen("Corruption")) == 0)
        rc = TC_ECORRUPT;
    else if (strncmp(errptr, "Invalid argument", strlen("Invalid argument")) == 0)
        rc = TC_EINVAL;
    store_set_error("rocksdb %s: %s", what, errptr);
    rocksdb_free(errptr);
    return rc;
}

static struct rocks_store *rocks_of(struct store *s)
{
    return (struct rocks_store *)s;
}

static void rocks_free_handles(struct rocks_store *r)
{
    for (unsigned i = 0; i < STORE_NS_ALL; i++) {
        if (r->cf[i])
            rocksdb_column_family_handle_destroy(r->cf[i]);
        r->cf[i] = NULL;
    }
}

static void rocks_close(struct store *s)
{
    struct rocks_store *r = rocks_of(s);
    if (r->db) {
        rocks_free_handles(r);
        rocksdb_close(r->db);
    }
    if (r->flush_options)
        rocksdb_flushoptions_destroy(r->flush_options);
    if (r->write_nosync)
        rocksdb_writeoptions_destroy(r->write_nosync);
    if (r->write_sync)
        rocksdb_writeoptions_destroy(r->write_sync);
    if (r->read_options)
        rocksdb_readoptions_destroy(r->read_options);
    if (r->options)
        rocksdb_options_destroy(r->options);
    free(r);
}

static void set_node_options(rocksdb_options_t *o, size_t write_buffer_bytes, bool compress)
{
    rocksdb_options_set_create_if_missing(o, 1);
    rocksdb_options_set_create_missing_column_families(o, 1);
    rocksdb_options_set_paranoid_checks(o, 1);
    rocksdb_options_set_write_buffer_size(o, write_buffer_bytes);
    rocksdb_options_set_db_write_buffer_size(o, DB_WRITE_BUFFER_CAP_FACTOR * write_buffer_bytes);
    rocksdb_options_set_max_open_files(o, MAX_OPEN_FILES);
    rocksdb_options_set_max_log_file_size(o, INFO_LOG_MAX_BYTES);
    rocksdb_options_set_keep_log_file_num(o, INFO_LOG_KEEP);
    rocksdb_options_set_compression(o, compress ? rocksdb_lz4_compression : rocksdb_no_compression);
}

static rocksdb_t *open_families(struct rocks_store *r, const char *path, char **errptr)
{
    const char *names[STORE_NS_ALL];
    const rocksdb_options_t *cf_options[STORE_NS_ALL];
    for (unsigned i = 0; i < STORE_NS_ALL; i++) {
        names[i] = cf_name(i);
        cf_options[i] = r->options;
    }
    return rocksdb_open_column_families(r->options, path, (int)STORE_NS_ALL, names, cf_options,
                                        r->cf, errptr);
}

int store_rocks_open(const char *path, size_t write_buffer_bytes, bool compress, struct store **out)
{
    *out = NULL;
    struct rocks_store *r = calloc(1, sizeof(*r));
    if (!r) {
        store_set_error("out of memory opening %s", path);
        return TC_ENOMEM;
    }
    r->base.ops = &rocks_ops;
    r->base.ordered = true;
    r->options = rocksdb_options_create();
    r->read_options = rocksdb_readoptions_create();
    r->write_sync = rocksdb_writeoptions_create();
    r->write_nosync = rocksdb_writeoptions_create();
    r->flush_options = rocksdb_flushoptions_create();
    rocksdb_writeoptions_set_sync(r->write_sync, 1);
    rocksdb_writeoptions_set_sync(r->write_nosync, 0);
    rocksdb_flushoptions_set_wait(r->flush_options, 1);
    rocksdb_readoptions_set_verify_checksums(r->read_options, 1);
    if (write_buffer_bytes == 0)
        write_buffer_bytes = DEFAULT_WRITE_BUFFER_BYTES;
    set_node_options(r->options, write_buffer_bytes, compress);

    char *errptr = NULL;
    r->db = open_families(r, path, &errptr);
    if (!r->db && compress && errptr && strstr(errptr, "not linked")) {
        /* A RocksDB built without LZ4: store uncompressed rather than fail. */
        rocksdb_free(errptr);
        errptr = NULL;
        rocksdb_options_set_compression(r->options, rocksdb_no_compression);
        r->db = open_families(r, path, &errptr);
    }
    if (!r->db) {
        int rc = errptr ? rocks_error(errptr, "open") : TC_EIO;
        if (rc == TC_EIO && !errptr)
            store_set_error("rocksdb open: failed without a message");
        memset(r->cf, 0, sizeof(r->cf));
        rocks_close(&r->base);
        return rc;
    }
    *out = &r->base;
    return TC_OK;
}

static int rocks_get(struct store *s, unsigned ns, const uint8_t *key, size_t key_len,
                     struct bytes *out)
{
    struct rocks_store *r = rocks_of(s);
    char *errptr = NULL;
    bytes_clear(out);
    rocksdb_pinnableslice_t *p = rocksdb_get_pinned_cf(r->db, r->read_options, r->cf[ns],
                                                       (const char *)key, key_len, &errptr);
    if (errptr)
        return rocks_error(errptr, "get");
    if (!p) {
        store_set_error("not found in namespace %s", cf_name(ns));
        return TC_ENOTFOUND;
    }
    size_t len = 0;
    const char *val = rocksdb_pinnableslice_value(p, &len);
    int rc = bytes_append(out, val, len);
    rocksdb_pinnableslice_destroy(p);
    if (rc) {
        store_set_error("out of memory reading a %zu-byte value", len);
        return rc;
    }
    return TC_OK;
}

static int rocks_batch_new(struct store *s, struct store_batch **out)
{
    struct rocks_batch *b = calloc(1, sizeof(*b));
    if (!b) {
        store_set_error("out of memory creating a batch");
        return TC_ENOMEM;
    }
    b->base.owner = s;
    b->wb = rocksdb_writebatch_create();
    *out = &b->base;
    return TC_OK;
}

static int rocks_batch_put(struct store_batch *base, unsigned ns, const uint8_t *key,
                           size_t key_len, const uint8_t *val, size_t val_len)
{
    struct rocks_batch *b = (struct rocks_batch *)base;
    struct rocks_store *r = rocks_of(base->owner);
    rocksdb_writebatch_put_cf(b->wb, r->cf[ns], (const char *)key, key_len, (const char *)val,
                              val_len);
    return TC_OK;
}

static int rocks_batch_del(struct store_batch *base, unsigned ns, const uint8_t *key,
                           size_t key_len)
{
    struct rocks_batch *b = (struct rocks_batch *)base;
    struct rocks_store *r = rocks_of(base->owner);
    rocksdb_writebatch_delete_cf(b->wb, r->cf[ns], (const char *)key, key_len);
    return TC_OK;
}

static int rocks_write(struct store *s, const struct store_batch *base, bool sync)
{
    struct rocks_store *r = rocks_of(s);
    const struct rocks_batch *b = (const struct rocks_batch *)base;
    char *errptr = NULL;
    rocksdb_write(r->db, sync ? r->write_sync : r->write_nosync, b->wb, &errptr);
    if (errptr)
        return rocks_error(errptr, "write");
    return TC_OK;
}

static void rocks_batch_free(struct store_batch *base)
{
    struct rocks_batch *b = (struct rocks_batch *)base;
    rocksdb_writebatch_destroy(b->wb);
    free(b);
}

static int rocks_iter_new(struct store *s, unsigned ns, const uint8_t *prefix, size_t prefix_len,
                          struct store_iter **out)
{
    struct rocks_store *r = rocks_of(s);
    struct rocks_iter *it = calloc(1, sizeof(*it) + prefix_len);
    if (!it) {
        store_set_error("out of memory creating an iterator");
        return TC_ENOMEM;
    }
    it->base.owner = s;
    it->it = rocksdb_create_iterator_cf(r->db, r->read_options, r->cf[ns]);
    it->prefix_len = prefix_len;
    if (prefix_len)
        memcpy(it->prefix, prefix, prefix_len);
    *out = &it->base;
    return TC_OK;
}

static int iter_finish(struct rocks_iter *it, int rc)
{
    it->base.done = true;
    it->base.key = bytes_view_of(NULL, 0);
    it->base.value = bytes_view_of(NULL, 0);
    return rc;
}

static int rocks_iter_next(struct store_iter *base)
{
    struct rocks_iter *it = (struct rocks_iter *)base;
    if (!it->started) {
        it->started = true;
        if (it->prefix_len)
            rocksdb_iter_seek(it->it, (const char *)it->prefix, it->prefix_len);
        else
            rocksdb_iter_seek_to_first(it->it);
    } else {
        rocksdb_iter_next(it->it);
    }
    if (!rocksdb_iter_valid(it->it)) {
        char *errptr = NULL;
        rocksdb_iter_get_error(it->it, &errptr);
        if (errptr)
            return iter_finish(it, rocks_error(errptr, "iterate"));
        store_set_error("end of iteration");
        return iter_finish(it, TC_ENOTFOUND);
    }
    size_t key_len = 0, val_len = 0;
    const char *key = rocksdb_iter_key(it->it, &key_len);
    if (key_len < it->prefix_len || memcmp(key, it->prefix, it->prefix_len) != 0) {
        store_set_error("end of iteration");
        return iter_finish(it, TC_ENOTFOUND);
    }
    const char *val = rocksdb_iter_value(it->it, &val_len);
    it->base.key = bytes_view_of(key, key_len);
    it->base.value = bytes_view_of(val, val_len);
    return TC_OK;
}

static void rocks_iter_free(struct store_iter *base)
{
    struct rocks_iter *it = (struct rocks_iter *)base;
    rocksdb_iter_destroy(it->it);
    free(it);
}

static int rocks_flush(struct store *s)
{
    struct rocks_store *r = rocks_of(s);
    for (unsigned i = 0; i < STORE_NS_ALL; i++) {
        char *errptr = NULL;
        rocksdb_flush_cf(r->db, r->flush_options, r->cf[i], &errptr);
        if (errptr)
            return rocks_error(errptr, "flush");
    }
    return TC_OK;
}

static const struct store_ops rocks_ops = {
    .close = rocks_close,
    .get = rocks_get,
    .batch_new = rocks_batch_new,
    .batch_put = rocks_batch_put,
    .batch_del = rocks_batch_del,
    .write = rocks_write,
    .batch_free = rocks_batch_free,
    .iter_new = rocks_iter_new,
    .iter_next = rocks_iter_next,
    .iter_free = rocks_iter_free,
    .flush = rocks_flush,
};
