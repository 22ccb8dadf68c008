/*
 * trie.h - Merkle Patricia Trie roots (Ethereum Yellow Paper, appendix D).
 *
 * Computes the root hash of a set of key/value pairs without a node store:
 * the keys are sorted and the trie is built bottom-up over the sorted range,
 * one node per recursion level, each node encoded once into a shared scratch
 * buffer and replaced by its reference (the node itself when its encoding is
 * shorter than 32 bytes, its keccak256 otherwise). The cost is
 * O(n log n) for the sort plus O(total key and value bytes) for the build.
 * This is what transaction and receipt roots and state-test post-state roots
 * need; proofs and incremental updates are out of scope.
 *
 *     struct trie_pair pairs[] = { { key_view, value_view }, ... };
 *     uint8_t root[32];
 *     int rc = trie_root(pairs, n, root);
 *
 * Pairs are borrowed views: the caller keeps them alive for the call only.
 * Keys must be distinct (TC_EINVAL otherwise) and at most TRIE_MAX_KEY_BYTES
 * long (TC_ETOOBIG); that bound also bounds the recursion depth. A pair
 * whose value is empty is absent, as in Ethereum (an empty value deletes).
 * The empty trie's root is keccak256(rlp("")) =
 * 56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421.
 */
#ifndef TC_TRIE_TRIE_H
#define TC_TRIE_TRIE_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"

/*
 * Longest key accepted by trie_root(). Each recursion level consumes at
 * least one nibble, so the build is at most 2 * 2 * 256 + 1 levels deep.
 */
#define TRIE_MAX_KEY_BYTES 256

struct trie_pair {
    struct bytes_view key;
    struct bytes_view value;
};

/* The root of the empty trie. */
extern const uint8_t trie_empty_root[32];

/*
 * Root of the plain trie of `pairs` (any order). Returns 0, TC_EINVAL for a
 * repeated key, TC_ETOOBIG for a key over TRIE_MAX_KEY_BYTES, TC_ENOMEM.
 * Allocates scratch memory for the call only.
 */
int trie_root(const struct trie_pair *pairs, size_t n, uint8_t root[32]);

/*
 * Root of the secure trie: the same, with every key replaced by its
 * keccak256 first (the state and storage tries). Distinct keys are required
 * as for trie_root(); key length is not limited.
 */
int trie_secure_root(const struct trie_pair *pairs, size_t n, uint8_t root[32]);

/*
 * Root of the trie that maps rlp(i) to values[i] for i in [0, n): the
 * transactions and receipts roots of a block header. Returns 0 or TC_ENOMEM.
 */
int trie_ordered_root(const struct bytes_view *values, size_t n, uint8_t root[32]);

#endif
