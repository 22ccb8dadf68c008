/*
 * trie.c - the trie suite of teechain-conformance (TrieTests).
 *
 * A case's "in" is an object {key: value} or a list of [key, value] applied
 * in order: a later value replaces an earlier one, null (or an empty value)
 * deletes the key. Keys and values starting with "0x" are hex, others are
 * the string's bytes. The root of the final map must equal "root". Files
 * whose name says "securetrie" (any case) hold secure-trie vectors: keys are
 * hashed first; that is a property of the file's format, not of a case.
 *
 * A case with "tests" instead of "root" checks ordered neighbours: "in" is a
 * list of keys, and for each [key, prev, next], prev and next are the keys
 * just below and just above key in sorted order ("" when there is none).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/bytes.h"
#include "base/error.h"
#include "conformance.h"
#include "trie/trie.h"

struct entry {
    struct bytes key;
    struct bytes value;
};

struct map {
    struct entry *items;
    size_t n, cap;
};

static void map_free(struct map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        bytes_free(&m->items[i].key);
        bytes_free(&m->items[i].value);
    }
    free(m->items);
}

/* "0x..." as hex, anything else as its own bytes. */
static int json_bytes(const cJSON *s, struct bytes *out)
{
    bytes_init(out);
    if (!cJSON_IsString(s))
        return TC_EINVAL;
    const char *v = s->valuestring;
    if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
        return hex_decode_alloc(v, false, out);
    return bytes_append(out, v, strlen(v));
}

/* Applies one update; an empty value deletes. Takes ownership of key and value. */
static int map_apply(struct map *m, struct bytes *key, struct bytes *value)
{
    size_t i;
    for (i = 0; i < m->n; i++)
        if (bytes_view_eq(bytes_as_view(&m->items[i].key), bytes_as_view(key)))
            break;
    if (value->len == 0) {
        bytes_free(key);
        bytes_free(value);
        if (i < m->n) {
            bytes_free(&m->items[i].key);
            bytes_free(&m->items[i].value);
            m->items[i] = m->items[--m->n];
        }
        return 0;
    }
    if (i < m->n) {
        bytes_free(key);
        bytes_free(&m->items[i].value);
        m->items[i].value = *value;
        return 0;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 16;
        struct entry *grown = realloc(m->items, cap * sizeof(*grown));
        if (!grown) {
            bytes_free(key);
            bytes_free(value);
            return -1;
        }
        m->items = grown;
        m->cap = cap;
    }
    m->items[m->n].key = *key;
    m->items[m->n].value = *value;
    m->n++;
    return 0;
}

static int apply_pair(struct map *m, const cJSON *k, const cJSON *v)
{
    struct bytes key, value;
    if (json_bytes(k, &key) != 0)
        return -1;
    if (cJSON_IsNull(v)) {
        bytes_init(&value);
    } else if (json_bytes(v, &value) != 0) {
        bytes_free(&key);
        return -1;
    }
    return map_apply(m, &key, &value);
}

static int load_map(const cJSON *in, struct map *m)
{
    const cJSON *e;
    if (cJSON_IsObject(in)) {
        cJSON_ArrayForEach(e, in)
        {
            cJSON key = { 0 };
            key.type = cJSON_String;
            key.valuestring = e->string;
            if (apply_pair(m, &key, e) != 0)
                return -1;
        }
        return 0;
    }
    if (!cJSON_IsArray(in))
        return -1;
    cJSON_ArrayForEach(e, in)
    {
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2)
            return -1;
        if (apply_pair(m, cJSON_GetArrayItem(e, 0), cJSON_GetArrayItem(e, 1)) != 0)
            return -1;
    }
    return 0;
}

static void run_root_case(struct conf_stats *st, const char *path, const cJSON *c, bool secure)
{
    struct map m = { NULL, 0, 0 };
    struct trie_pair *pairs = NULL;
    uint8_t want[32], got[32];
    const cJSON *root = cJSON_GetObjectItemCaseSensitive(c, "root");
    if (!cJSON_IsString(root) || hex_decode_exact(root->valuestring, want, 32) != 0) {
        conf_fail(st, path, c->string, "no 32-byte hex \"root\"");
        return;
    }
    if (load_map(cJSON_GetObjectItemCaseSensitive(c, "in"), &m) != 0) {
        conf_fail(st, path, c->string, "malformed \"in\"");
        goto out_free_map;
    }
    pairs = calloc(m.n ? m.n : 1, sizeof(*pairs));
    if (!pairs) {
        conf_fail(st, path, c->string, "out of memory");
        goto out_free_map;
    }
    for (size_t i = 0; i < m.n; i++) {
        pairs[i].key = bytes_as_view(&m.items[i].key);
        pairs[i].value = bytes_as_view(&m.items[i].value);
    }
    int rc = secure ? trie_secure_root(pairs, m.n, got) : trie_root(pairs, m.n, got);
    if (rc != 0) {
        conf_fail(st, path, c->string, "root computation failed: %s", tc_strerror(rc));
    } else if (memcmp(got, want, 32) != 0) {
        char hex[65];
        hex_encode(got, 32, hex);
        conf_fail(st, path, c->string, "root 0x%s, expected %s", hex, root->valuestring);
    } else {
        conf_pass(st, path, c->string);
    }
    free(pairs);
out_free_map:
    map_free(&m);
}

static int cmp_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys just below and just above `key` among the sorted keys[0..n). */
static void neighbours(const char *const *keys, size_t n, const char *key, const char **prev,
                       const char **next)
{
    size_t lo = 0, hi = n; /* first index whose key is >= key */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(keys[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *prev = lo > 0 ? keys[lo - 1] : "";
    size_t after = lo < n && strcmp(keys[lo], key) == 0 ? lo + 1 : lo;
    *next = after < n ? keys[after] : "";
}

static void run_nextprev_case(struct conf_stats *st, const char *path, const cJSON *c)
{
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(c, "in");
    const cJSON *tests = cJSON_GetObjectItemCaseSensitive(c, "tests");
    size_t n = (size_t)cJSON_GetArraySize(in);
    const char **keys = calloc(n ? n : 1, sizeof(*keys));
    size_t k = 0;
    if (!keys) {
        conf_fail(st, path, c->string, "out of memory");
        return;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, in)
    {
        if (cJSON_IsString(e))
            keys[k++] = e->valuestring;
    }
    qsort(keys, k, sizeof(*keys), cmp_strings);
    bool ok = k == n && cJSON_IsArray(tests);
    cJSON_ArrayForEach(e, tests)
    {
        const cJSON *key = cJSON_GetArrayItem(e, 0);
        const cJSON *prev = cJSON_GetArrayItem(e, 1);
        const cJSON *next = cJSON_GetArrayItem(e, 2);
        if (!cJSON_IsString(key) || !cJSON_IsString(prev) || !cJSON_IsString(next)) {
            ok = false;
            break;
        }
        const char *p, *q;
        neighbours(keys, k, key->valuestring, &p, &q);
        if (strcmp(p, prev->valuestring) != 0 || strcmp(q, next->valuestring) != 0) {
            conf_fail(st, path, c->string, "neighbours of \"%s\": \"%s\" / \"%s\"",
                      key->valuestring, p, q);
            free(keys);
            return;
        }
    }
    if (ok)
        conf_pass(st, path, c->string);
    else
        conf_fail(st, path, c->string, "malformed \"in\" or \"tests\"");
    free(keys);
}

void conf_trie_file(struct conf_stats *st, const char *path, const cJSON *root)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    bool secure = strcasestr(base, "securetrie") != NULL;
    const cJSON *c;
    cJSON_ArrayForEach(c, root)
    {
        if (!cJSON_IsObject(c))
            continue;
        if (cJSON_GetObjectItemCaseSensitive(c, "tests"))
            run_nextprev_case(st, path, c);
        else
            run_root_case(st, path, c, secure);
    }
}
