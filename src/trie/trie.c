/* trie.c - Merkle Patricia Trie root over a sorted set of pairs (see trie.h). */
#include "trie/trie.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "codec/rlp.h"
#include "crypto/keccak.h"

const uint8_t trie_empty_root[32] = {
    0x56, 0xe8, 0x1f, 0x17, 0x1b, 0xcc, 0x55, 0xa6, 0xff, 0x83, 0x45, 0xe6, 0x92, 0xc0, 0xf8, 0x6e,
    0x5b, 0x48, 0xe0, 0x1b, 0x99, 0x6c, 0xad, 0xc0, 0x01, 0x62, 0x2f, 0xb5, 0xe3, 0x63, 0xb4, 0x21,
};

/* Scratch state of one root computation. */
struct builder {
    const struct trie_pair **sorted; /* non-empty values, keys ascending */
    struct bytes buf;                /* encodings of the nodes under construction */
};

static unsigned nibble_at(struct bytes_view key, size_t i)
{
    uint8_t b = key.ptr[i / 2];
    return (i & 1) ? (b & 0x0f) : (b >> 4);
}

/* Appends nibbles [from, to) of key, hex-prefix encoded (appendix C), as an RLP string. */
static int put_path(struct bytes *out, struct bytes_view key, size_t from, size_t to, bool leaf)
{
    uint8_t hp[1 + TRIE_MAX_KEY_BYTES];
    size_t count = to - from;
    size_t n = 0;
    uint8_t flag = (uint8_t)((leaf ? 2 : 0) + (count & 1));
    size_t i = from;
    if (count & 1)
        hp[n++] = (uint8_t)((flag << 4) | nibble_at(key, i++));
    else
        hp[n++] = (uint8_t)(flag << 4);
    for (; i < to; i += 2)
        hp[n++] = (uint8_t)((nibble_at(key, i) << 4) | nibble_at(key, i + 1));
    return rlp_encode_bytes(out, hp, n);
}

/*
 * The node encoded at buf[start..] is complete: the root is hashed into
 * root; any other node of 32 bytes or more is replaced by the RLP string of
 * its hash, and a shorter one stays in place, embedded in its parent.
 */
static int finish_node(struct builder *b, size_t start, bool is_root, uint8_t root[32])
{
    size_t len = b->buf.len - start;
    if (is_root) {
        keccak256(b->buf.ptr + start, len, root);
        b->buf.len = start;
        return TC_OK;
    }
    if (len < 32)
        return TC_OK;
    uint8_t ref[33];
    ref[0] = 0xa0;
    keccak256(b->buf.ptr + start, len, ref + 1);
    b->buf.len = start;
    return bytes_append(&b->buf, ref, sizeof(ref));
}

/*
 * Appends the reference of the node holding sorted[lo, hi), whose keys all
 * share their first d nibbles (or, at the root, writes the root hash).
 */
static int build(struct builder *b, size_t lo, size_t hi, size_t d, bool is_root, uint8_t root[32])
{
    struct bytes_view first = b->sorted[lo]->key;
    struct bytes_view last = b->sorted[hi - 1]->key;
    size_t start = rlp_list_begin(&b->buf);
    int rc;

    if (hi - lo == 1) {
        rc = put_path(&b->buf, first, d, 2 * first.len, true);
        if (rc == 0)
            rc = rlp_encode_bytes(&b->buf, b->sorted[lo]->value.ptr, b->sorted[lo]->value.len);
        goto end_list;
    }

    /* Sorted keys: the common prefix of the first and last is everyone's. */
    size_t max_nibbles = 2 * (first.len < last.len ? first.len : last.len);
    size_t cp = d;
    while (cp < max_nibbles && nibble_at(first, cp) == nibble_at(last, cp))
        cp++;
    if (cp > d) {
        rc = put_path(&b->buf, first, d, cp, false);
        if (rc == 0)
            rc = build(b, lo, hi, cp, false, NULL);
        goto end_list;
    }

    size_t i = lo;
    struct bytes_view value = { NULL, 0 };
    if (2 * first.len == d) {
        value = b->sorted[lo]->value; /* the one key that ends here sorts first */
        i++;
    }
    for (unsigned nib = 0; nib < 16; nib++) {
        size_t j = i;
        while (j < hi && nibble_at(b->sorted[j]->key, d) == nib)
            j++;
        rc = j > i ? build(b, i, j, d + 1, false, NULL) : bytes_push(&b->buf, 0x80);
        if (rc != 0)
            return rc;
        i = j;
    }
    rc = rlp_encode_bytes(&b->buf, value.ptr, value.len);

end_list:
    if (rc == 0)
        rc = rlp_list_end(&b->buf, start);
    if (rc == 0)
        rc = finish_node(b, start, is_root, root);
    return rc;
}

static int cmp_pairs(const void *pa, const void *pb)
{
    const struct trie_pair *a = *(const struct trie_pair *const *)pa;
    const struct trie_pair *b = *(const struct trie_pair *const *)pb;
    size_t n = a->key.len < b->key.len ? a->key.len : b->key.len;
    int c = n ? memcmp(a->key.ptr, b->key.ptr, n) : 0;
    if (c != 0)
        return c;
    return (a->key.len > b->key.len) - (a->key.len < b->key.len);
}

int trie_root(const struct trie_pair *pairs, size_t n, uint8_t root[32])
{
    struct builder b;
    size_t live = 0;
    int rc = TC_OK;

    for (size_t i = 0; i < n; i++)
        if (pairs[i].key.len > TRIE_MAX_KEY_BYTES)
            return TC_ETOOBIG;
    b.sorted = malloc((n ? n : 1) * sizeof(*b.sorted));
    if (!b.sorted)
        return TC_ENOMEM;
    bytes_init(&b.buf);
    for (size_t i = 0; i < n; i++)
        if (pairs[i].value.len)
            b.sorted[live++] = &pairs[i];
    if (live == 0) {
        memcpy(root, trie_empty_root, 32);
        goto out_free_sorted;
    }
    qsort(b.sorted, live, sizeof(*b.sorted), cmp_pairs);
    for (size_t i = 1; i < live; i++) {
        if (cmp_pairs(&b.sorted[i - 1], &b.sorted[i]) == 0) {
            rc = TC_EINVAL;
            goto out_free_sorted;
        }
    }
    /* Roughly the size of the widest path of nodes; grows when needed. */
    rc = bytes_reserve(&b.buf, 4096);
    if (rc == 0)
        rc = build(&b, 0, live, 0, true, root);
    bytes_free(&b.buf);
out_free_sorted:
    free(b.sorted);
    return rc;
}

int trie_secure_root(const struct trie_pair *pairs, size_t n, uint8_t root[32])
{
    if (n == 0) {
        memcpy(root, trie_empty_root, 32);
        return TC_OK;
    }
    uint8_t(*hashes)[32] = malloc(n * sizeof(*hashes));
    if (!hashes)
        return TC_ENOMEM;
    struct trie_pair *hashed = malloc(n * sizeof(*hashed));
    if (!hashed) {
        free(hashes);
        return TC_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        keccak256(pairs[i].key.ptr, pairs[i].key.len, hashes[i]);
        hashed[i].key = bytes_view_of(hashes[i], 32);
        hashed[i].value = pairs[i].value;
    }
    int rc = trie_root(hashed, n, root);
    free(hashed);
    free(hashes);
    return rc;
}

int trie_ordered_root(const struct bytes_view *values, size_t n, uint8_t root[32])
{
    if (n == 0) {
        memcpy(root, trie_empty_root, 32);
        return TC_OK;
    }
    struct bytes keys;
    bytes_init(&keys);
    struct trie_pair *pairs = malloc(n * sizeof(*pairs));
    if (!pairs)
        return TC_ENOMEM;
    /* rlp(i) is at most 9 bytes; reserving up front keeps the views stable. */
    int rc = bytes_reserve(&keys, 9 * n);
    if (rc != 0)
        goto out_free_pairs;
    for (size_t i = 0; i < n; i++) {
        size_t at = keys.len;
        rc = rlp_encode_u64(&keys, (uint64_t)i);
        if (rc != 0)
            goto out_free_keys;
        pairs[i].key = bytes_view_of(keys.ptr + at, keys.len - at);
        pairs[i].value = values[i];
    }
    rc = trie_root(pairs, n, root);
out_free_keys:
    bytes_free(&keys);
out_free_pairs:
    free(pairs);
    return rc;
}
