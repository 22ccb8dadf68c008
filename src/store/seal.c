/*
 * seal.c - the sealing layer of the store: encrypts every value with
 * AES-256-GCM and replaces every key by its keyed hash before handing them to
 * the backend, and undoes both on the way back. The stored format is
 * described in store.h ("Sealing"); this file is its only reader and writer.
 *
 * Keys are hidden with the crypto module's keyed HMAC-SHA256, set up once
 * with the key-hiding key and safe to share between concurrent readers.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/error.h"
#include "crypto/aead.h"
#include "crypto/kdf.h"
#include "crypto/mac.h"
#include "crypto/random.h"
#include "store/store_impl.h"

/* Stored value: version || nonce || ciphertext || tag. */
#define SEAL_VERSION     0x01
#define SEAL_HEADER      (1 + AEAD_NONCE_BYTES)
#define SEAL_OVERHEAD    (SEAL_HEADER + AEAD_TAG_BYTES)
#define KEY_LEN_BYTES    4
#define HIDDEN_KEY_BYTES 32

/* Associated data: label || namespace id || stored key. The label names the
 * format, so that a value sealed by another format never opens as this one. */
#define AAD_LABEL     "tcstore1"
#define AAD_LABEL_LEN 8
#define AAD_MAX       (AAD_LABEL_LEN + 1 + STORE_KEY_MAX)

/* HKDF info strings: one per derived key, so that the two are independent. */
#define INFO_VALUE_KEY  "teechain/store/v1/value-key"
#define INFO_HIDING_KEY "teechain/store/v1/key-hiding-key"

struct seal_store {
    struct store base;
    struct store *inner;
    uint8_t value_key[AEAD_KEY_BYTES];
    struct hmac_sha256_key *hiding;
};

struct seal_batch {
    struct store_batch base;
    struct store_batch *inner;
    struct bytes sealed; /* scratch for the value being sealed */
};

struct seal_iter {
    struct store_iter base;
    struct store_iter *inner;
    unsigned ns;
    struct bytes plain; /* the current entry's plaintext: key and value views point here */
    size_t prefix_len;
    uint8_t prefix[];
};

/* A key as the backend stores it: the keyed hash, or the key itself in the
 * store's internal namespace. */
struct stored_key {
    const uint8_t *ptr;
    size_t len;
    uint8_t hash[HIDDEN_KEY_BYTES];
};

static const struct store_ops seal_ops;

static struct seal_store *seal_of(struct store *s)
{
    return (struct seal_store *)s;
}

static const char *ns_label(unsigned ns)
{
    return ns == STORE_NS_INTERNAL ? "default" : store_ns_name((enum store_ns)ns);
}

static int hide_key(struct seal_store *ss, unsigned ns, const uint8_t *key, size_t key_len,
                    struct stored_key *out)
{
    if (ns == STORE_NS_INTERNAL) {
        out->ptr = key;
        out->len = key_len;
        return TC_OK;
    }
    uint8_t ns_byte = (uint8_t)ns;
    const void *parts[2] = { &ns_byte, key };
    size_t lens[2] = { 1, key_len };
    if (hmac_sha256_parts(ss->hiding, parts, lens, 2, out->hash) != TC_OK) {
        store_set_error("HMAC-SHA256 failed while hiding a key");
        return TC_ECRYPTO;
    }
    out->ptr = out->hash;
    out->len = HIDDEN_KEY_BYTES;
    return TC_OK;
}

static size_t build_aad(uint8_t aad[AAD_MAX], unsigned ns, const struct stored_key *sk)
{
    memcpy(aad, AAD_LABEL, AAD_LABEL_LEN);
    aad[AAD_LABEL_LEN] = (uint8_t)ns;
    memcpy(aad + AAD_LABEL_LEN + 1, sk->ptr, sk->len);
    return AAD_LABEL_LEN + 1 + sk->len;
}

static void put_u32_be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_u32_be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* out = version || nonce || AES-GCM(key length || key || value) || tag. */
static int seal_value(struct seal_store *ss, unsigned ns, const struct stored_key *sk,
                      const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len,
                      struct bytes *out)
{
    size_t pt_len = KEY_LEN_BYTES + key_len + val_len;
    bytes_clear(out);
    if (bytes_reserve(out, SEAL_OVERHEAD + pt_len)) {
        store_set_error("out of memory sealing a %zu-byte value", val_len);
        return TC_ENOMEM;
    }
    uint8_t *p = out->ptr;
    p[0] = SEAL_VERSION;
    int rc = crypto_random(p + 1, AEAD_NONCE_BYTES);
    if (rc) {
        store_set_error("no random nonce for sealing");
        return rc;
    }
    uint8_t *body = p + SEAL_HEADER;
    put_u32_be(body, (uint32_t)key_len);
    if (key_len)
        memcpy(body + KEY_LEN_BYTES, key, key_len);
    if (val_len)
        memcpy(body + KEY_LEN_BYTES + key_len, val, val_len);
    uint8_t aad[AAD_MAX];
    size_t aad_len = build_aad(aad, ns, sk);
    rc = aead_seal(ss->value_key, p + 1, aad, aad_len, body, pt_len, body, body + pt_len);
    if (rc) {
        OPENSSL_cleanse(body, pt_len);
        store_set_error("AES-256-GCM sealing failed: %s", tc_strerror(rc));
        return rc;
    }
    out->len = SEAL_OVERHEAD + pt_len;
    return TC_OK;
}

/*
 * Opens sealed[0..sealed_len), stored under sk in ns, into plain (replaced):
 * key length || key || value. The real key is at offset KEY_LEN_BYTES, key_len
 * bytes long; the value runs from val_off to the end. TC_ECRYPTO when the value does not
 * authenticate (plain is then empty), TC_ECORRUPT when it authenticates but is malformed.
 */
static int open_value(struct seal_store *ss, unsigned ns, const struct stored_key *sk,
                      const uint8_t *sealed, size_t sealed_len, struct bytes *plain,
                      size_t *key_len, size_t *val_off)
{
    bytes_clear(plain);
    if (sealed_len < SEAL_OVERHEAD + KEY_LEN_BYTES || sealed[0] != SEAL_VERSION) {
        store_set_error("sealed value in namespace %s fails authentication: malformed (%zu "
                        "bytes, version %u), tampered or not written by this store",
                        ns_label(ns), sealed_len, sealed_len ? sealed[0] : 0u);
        return TC_ECRYPTO;
    }
    size_t pt_len = sealed_len - SEAL_OVERHEAD;
    if (bytes_reserve(plain, pt_len)) {
        store_set_error("out of memory opening a %zu-byte value", pt_len);
        return TC_ENOMEM;
    }
    uint8_t aad[AAD_MAX];
    size_t aad_len = build_aad(aad, ns, sk);
    int rc = aead_open(ss->value_key, sealed + 1, aad, aad_len, sealed + SEAL_HEADER, pt_len,
                       sealed + SEAL_HEADER + pt_len, plain->ptr);
    if (rc == TC_ECRYPTO) {
        store_set_error("sealed value in namespace %s fails authentication: tampered, moved "
                        "from another key, or sealed under another key",
                        ns_label(ns));
        return rc;
    }
    if (rc) {
        store_set_error("AES-256-GCM open failed: %s", tc_strerror(rc));
        return rc;
    }
    plain->len = pt_len;
    uint32_t klen = get_u32_be(plain->ptr);
    if (klen > STORE_KEY_MAX || klen > pt_len - KEY_LEN_BYTES) {
        OPENSSL_cleanse(plain->ptr, plain->len);
        bytes_clear(plain);
        store_set_error("sealed value in namespace %s authenticates but is malformed",
                        ns_label(ns));
        return TC_ECORRUPT;
    }
    *key_len = klen;
    *val_off = KEY_LEN_BYTES + klen;
    return TC_OK;
}

static void wipe_bytes(struct bytes *b)
{
    if (b->ptr)
        OPENSSL_cleanse(b->ptr, b->cap);
    bytes_free(b);
}

static int seal_get(struct store *s, unsigned ns, const uint8_t *key, size_t key_len,
                    struct bytes *out)
{
    struct seal_store *ss = seal_of(s);
    struct stored_key sk;
    int rc = hide_key(ss, ns, key, key_len, &sk);
    if (rc)
        return rc;
    struct bytes sealed;
    bytes_init(&sealed);
    rc = ss->inner->ops->get(ss->inner, ns, sk.ptr, sk.len, &sealed);
    if (rc)
        goto out_free_sealed;
    size_t real_len = 0, val_off = 0;
    rc = open_value(ss, ns, &sk, sealed.ptr, sealed.len, out, &real_len, &val_off);
    if (rc)
        goto out_free_sealed;
    if (real_len != key_len || (key_len && memcmp(out->ptr + KEY_LEN_BYTES, key, key_len) != 0)) {
        /* Only a hash collision or a broken writer gets here: the associated
         * data already binds the value to the keyed hash of its key. */
        OPENSSL_cleanse(out->ptr, out->len);
        bytes_clear(out);
        store_set_error("sealed value in namespace %s belongs to another key", ns_label(ns));
        rc = TC_ECRYPTO;
        goto out_free_sealed;
    }
    size_t val_len = out->len - val_off;
    memmove(out->ptr, out->ptr + val_off, val_len);
    OPENSSL_cleanse(out->ptr + val_len, val_off);
    out->len = val_len;
out_free_sealed:
    bytes_free(&sealed);
    return rc;
}

static int seal_batch_new(struct store *s, struct store_batch **out)
{
    struct seal_store *ss = seal_of(s);
    struct seal_batch *b = calloc(1, sizeof(*b));
    if (!b) {
        store_set_error("out of memory creating a batch");
        return TC_ENOMEM;
    }
    int rc = ss->inner->ops->batch_new(ss->inner, &b->inner);
    if (rc) {
        free(b);
        return rc;
    }
    b->base.owner = s;
    bytes_init(&b->sealed);
    *out = &b->base;
    return TC_OK;
}

static int seal_batch_put(struct store_batch *base, unsigned ns, const uint8_t *key, size_t key_len,
                          const uint8_t *val, size_t val_len)
{
    struct seal_batch *b = (struct seal_batch *)base;
    struct seal_store *ss = seal_of(base->owner);
    struct stored_key sk;
    int rc = hide_key(ss, ns, key, key_len, &sk);
    if (rc)
        return rc;
    rc = seal_value(ss, ns, &sk, key, key_len, val, val_len, &b->sealed);
    if (rc)
        return rc;
    struct store *inner = ss->inner;
    return inner->ops->batch_put(b->inner, ns, sk.ptr, sk.len, b->sealed.ptr, b->sealed.len);
}

static int seal_batch_del(struct store_batch *base, unsigned ns, const uint8_t *key, size_t key_len)
{
    struct seal_batch *b = (struct seal_batch *)base;
    struct seal_store *ss = seal_of(base->owner);
    struct stored_key sk;
    int rc = hide_key(ss, ns, key, key_len, &sk);
    if (rc)
        return rc;
    return ss->inner->ops->batch_del(b->inner, ns, sk.ptr, sk.len);
}

static int seal_write(struct store *s, const struct store_batch *base, bool sync)
{
    struct seal_store *ss = seal_of(s);
    const struct seal_batch *b = (const struct seal_batch *)base;
    return ss->inner->ops->write(ss->inner, b->inner, sync);
}

static void seal_batch_free(struct store_batch *base)
{
    struct seal_batch *b = (struct seal_batch *)base;
    struct seal_store *ss = seal_of(base->owner);
    ss->inner->ops->batch_free(b->inner);
    bytes_free(&b->sealed);
    free(b);
}

static int seal_iter_new(struct store *s, unsigned ns, const uint8_t *prefix, size_t prefix_len,
                         struct store_iter **out)
{
    struct seal_store *ss = seal_of(s);
    struct seal_iter *it = calloc(1, sizeof(*it) + prefix_len);
    if (!it) {
        store_set_error("out of memory creating an iterator");
        return TC_ENOMEM;
    }
    /* Stored keys are hashes: a real-key prefix says nothing about where its
     * entries are, so the whole namespace is scanned and filtered. */
    int rc = ss->inner->ops->iter_new(ss->inner, ns, NULL, 0, &it->inner);
    if (rc) {
        free(it);
        return rc;
    }
    it->base.owner = s;
    it->ns = ns;
    bytes_init(&it->plain);
    it->prefix_len = prefix_len;
    if (prefix_len)
        memcpy(it->prefix, prefix, prefix_len);
    *out = &it->base;
    return TC_OK;
}

static int seal_iter_finish(struct seal_iter *it, int rc)
{
    it->base.done = true;
    it->base.key = bytes_view_of(NULL, 0);
    it->base.value = bytes_view_of(NULL, 0);
    if (it->plain.ptr)
        OPENSSL_cleanse(it->plain.ptr, it->plain.cap);
    bytes_clear(&it->plain);
    return rc;
}

/* Opens the inner iterator's current entry; checks that its real key hashes
 * to the stored key it was found under. */
static int seal_iter_open_current(struct seal_iter *it, size_t *key_len, size_t *val_off)
{
    struct seal_store *ss = seal_of(it->base.owner);
    struct bytes_view stored = it->inner->key, sealed = it->inner->value;
    struct stored_key sk = { .ptr = stored.ptr, .len = stored.len };
    int rc = open_value(ss, it->ns, &sk, sealed.ptr, sealed.len, &it->plain, key_len, val_off);
    if (rc)
        return rc;
    struct stored_key again;
    rc = hide_key(ss, it->ns, it->plain.ptr + KEY_LEN_BYTES, *key_len, &again);
    if (rc)
        return rc;
    if (again.len != stored.len || CRYPTO_memcmp(again.ptr, stored.ptr, stored.len) != 0) {
        store_set_error("sealed value in namespace %s is stored under the wrong key",
                        ns_label(it->ns));
        return TC_ECRYPTO;
    }
    return TC_OK;
}

static int seal_iter_next(struct store_iter *base)
{
    struct seal_iter *it = (struct seal_iter *)base;
    struct store *inner = seal_of(base->owner)->inner;
    for (;;) {
        int rc = inner->ops->iter_next(it->inner);
        if (rc)
            return seal_iter_finish(it, rc);
        size_t key_len = 0, val_off = 0;
        rc = seal_iter_open_current(it, &key_len, &val_off);
        if (rc)
            return seal_iter_finish(it, rc);
        const uint8_t *key = it->plain.ptr + KEY_LEN_BYTES;
        if (key_len < it->prefix_len || memcmp(key, it->prefix, it->prefix_len) != 0)
            continue;
        it->base.key = bytes_view_of(key, key_len);
        it->base.value = bytes_view_of(it->plain.ptr + val_off, it->plain.len - val_off);
        return TC_OK;
    }
}

static void seal_iter_free(struct store_iter *base)
{
    struct seal_iter *it = (struct seal_iter *)base;
    struct store *inner = seal_of(base->owner)->inner;
    inner->ops->iter_free(it->inner);
    wipe_bytes(&it->plain);
    free(it);
}

static int seal_flush(struct store *s)
{
    struct seal_store *ss = seal_of(s);
    return ss->inner->ops->flush(ss->inner);
}

static void seal_close(struct store *s)
{
    struct seal_store *ss = seal_of(s);
    if (ss->inner)
        ss->inner->ops->close(ss->inner);
    hmac_sha256_key_free(ss->hiding);
    OPENSSL_cleanse(ss->value_key, sizeof(ss->value_key));
    free(ss);
}

/* Derives both keys from the master key and keys the HMAC template. */
static int seal_init_keys(struct seal_store *ss, const uint8_t master_key[STORE_MASTER_KEY_BYTES])
{
    uint8_t hiding_key[32];
    int rc =
        hkdf_sha256(NULL, 0, master_key, STORE_MASTER_KEY_BYTES, (const uint8_t *)INFO_VALUE_KEY,
                    strlen(INFO_VALUE_KEY), ss->value_key, sizeof(ss->value_key));
    if (rc == TC_OK)
        rc = hkdf_sha256(NULL, 0, master_key, STORE_MASTER_KEY_BYTES,
                         (const uint8_t *)INFO_HIDING_KEY, strlen(INFO_HIDING_KEY), hiding_key,
                         sizeof(hiding_key));
    if (rc) {
        store_set_error("HKDF-SHA256 failed deriving the storage keys");
        goto out_wipe;
    }
    rc = hmac_sha256_key_new(hiding_key, sizeof(hiding_key), &ss->hiding);
    if (rc)
        store_set_error("HMAC-SHA256 unavailable for hiding keys");
out_wipe:
    OPENSSL_cleanse(hiding_key, sizeof(hiding_key));
    return rc;
}

int store_seal_wrap(struct store *inner, const uint8_t master_key[STORE_MASTER_KEY_BYTES],
                    struct store **out)
{
    *out = NULL;
    struct seal_store *ss = calloc(1, sizeof(*ss));
    if (!ss) {
        inner->ops->close(inner);
        store_set_error("out of memory opening the sealing layer");
        return TC_ENOMEM;
    }
    ss->base.ops = &seal_ops;
    ss->base.ordered = false;
    ss->inner = inner;
    int rc = seal_init_keys(ss, master_key);
    if (rc) {
        seal_close(&ss->base);
        return rc;
    }
    *out = &ss->base;
    return TC_OK;
}

static const struct store_ops seal_ops = {
    .close = seal_close,
    .get = seal_get,
    .batch_new = seal_batch_new,
    .batch_put = seal_batch_put,
    .batch_del = seal_batch_del,
    .write = seal_write,
    .batch_free = seal_batch_free,
    .iter_new = seal_iter_new,
    .iter_next = seal_iter_next,
    .iter_free = seal_iter_free,
    .flush = seal_flush,
};
