/*
 * store_impl.h - private to src/store: the operations table behind
 * struct store, and the two layers that implement it.
 *
 * store.c checks arguments, keeps the per-thread error message and dispatches
 * through s->ops; rocks.c is the RocksDB backend; seal.c is the sealing layer,
 * which owns a backend store and calls it through the same table. Layers never
 * see a namespace out of range, a NULL pointer, or a key or value over the
 * limits: store.c rejects those first.
 *
 * Layers also accept STORE_NS_INTERNAL, RocksDB's "default" column family,
 * where the store keeps its own records: the format record (always written
 * through the backend, readable without a key) and, in a sealed database, the
 * sealed check value.
 */
#ifndef TC_STORE_STORE_IMPL_H
#define TC_STORE_STORE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "store/store.h"

#define STORE_NS_INTERNAL STORE_NS_COUNT
#define STORE_NS_ALL      (STORE_NS_COUNT + 1)

struct store_ops {
    void (*close)(struct store *s);
    int (*get)(struct store *s, unsigned ns, const uint8_t *key, size_t key_len, struct bytes *out);
    int (*batch_new)(struct store *s, struct store_batch **out);
    int (*batch_put)(struct store_batch *b, unsigned ns, const uint8_t *key, size_t key_len,
                     const uint8_t *val, size_t val_len);
    int (*batch_del)(struct store_batch *b, unsigned ns, const uint8_t *key, size_t key_len);
    int (*write)(struct store *s, const struct store_batch *b, bool sync);
    void (*batch_free)(struct store_batch *b);
    int (*iter_new)(struct store *s, unsigned ns, const uint8_t *prefix, size_t prefix_len,
                    struct store_iter **out);
    int (*iter_next)(struct store_iter *it);
    void (*iter_free)(struct store_iter *it);
    int (*flush)(struct store *s);
};

/* First member of each layer's store. */
struct store {
    const struct store_ops *ops;
    bool ordered;
};

/* First member of each layer's batch. */
struct store_batch {
    struct store *owner;
    size_t count;
    bool failed;
};

/* First member of each layer's iterator; key and value are the views that
 * store_iter_key/value return. */
struct store_iter {
    struct store *owner;
    struct bytes_view key;
    struct bytes_view value;
    bool done;
};

/* Sets the calling thread's store error message (printf-style). */
void store_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Opens the RocksDB backend at path with every namespace's column family
 * (creating what is missing). compress: LZ4 for SST files (plain stores;
 * sealed values do not compress). On failure sets the error message and
 * returns TC_EIO / TC_ECORRUPT / TC_EINVAL / TC_ENOMEM.
 */
int store_rocks_open(const char *path, size_t write_buffer_bytes, bool compress,
                     struct store **out);

/*
 * Stacks the sealing layer on inner, which it then owns and closes (also when
 * this fails). No I/O: store.c writes and checks the sealed check value
 * through the new store. In the sealed layer, STORE_NS_INTERNAL keys are
 * stored as they are (not hidden), so that the check value is found under a
 * wrong key and fails authentication instead of being absent; its values are
 * sealed like any other. TC_ENOMEM, TC_ECRYPTO (OpenSSL failed).
 */
int store_seal_wrap(struct store *inner, const uint8_t master_key[STORE_MASTER_KEY_BYTES],
                    struct store **out);

#endif
