/* tx.c - decoding, encoding, hashing, validation and signing of transactions (see tx.h). */
#include "chain/tx.h"

#include <string.h>

#include "base/error.h"
#include "codec/rlp.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"

/* secp256k1 group order n, and n / 2 (rounded down): the bound on s (EIP-2). */
static const uint8_t secp256k1_n[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};
static const uint8_t secp256k1_half_n[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
};

#define GAS_TX            21000
#define GAS_TX_CREATE     53000
#define GAS_DATA_ZERO     4
#define GAS_DATA_NONZERO  16
#define GAS_INITCODE_WORD 2
#define GAS_ACCESS_ADDR   2400
#define GAS_ACCESS_KEY    1900

static int fail(int rc, const char *msg, const char **reason)
{
    if (reason)
        *reason = msg;
    return rc;
}

/* ---- decoding ---- */

enum field {
    F_CHAIN_ID,
    F_NONCE,
    F_GAS_PRICE,
    F_MAX_PRIORITY_FEE,
    F_MAX_FEE,
    F_GAS_LIMIT,
    F_TO,
    F_VALUE,
    F_DATA,
    F_ACCESS_LIST,
    F_V,
    F_Y_PARITY,
    F_R,
    F_S,
    F_COUNT
};

/* Per field: missing, list, non-canonical, out of range, malformed RLP. */
#define FIELD_MSGS(name)                                                                           \
    {                                                                                              \
        name ": missing (too few fields)", name ": a list where a string is expected",             \
            name ": non-canonical (leading zero bytes or non-minimal RLP)",                        \
            name ": too large or wrong size for its field", name ": malformed RLP (length)"        \
    }

static const char *const field_msgs[F_COUNT][5] = {
    FIELD_MSGS("chainId"),
    FIELD_MSGS("nonce"),
    FIELD_MSGS("gasPrice"),
    FIELD_MSGS("maxPriorityFeePerGas"),
    FIELD_MSGS("maxFeePerGas"),
    FIELD_MSGS("gasLimit"),
    FIELD_MSGS("to"),
    FIELD_MSGS("value"),
    FIELD_MSGS("data"),
    FIELD_MSGS("accessList"),
    FIELD_MSGS("v"),
    FIELD_MSGS("yParity"),
    FIELD_MSGS("r"),
    FIELD_MSGS("s"),
};

static int field_fail(int rc, enum field f, const char **reason)
{
    int k;
    switch (rc) {
    case TC_ENOTFOUND:
        k = 0;
        rc = TC_EINVAL;
        break;
    case TC_EINVAL:
        k = 1;
        break;
    case TC_ENONCANONICAL:
        k = 2;
        break;
    case TC_ERANGE:
        k = 3;
        break;
    default:
        k = 4;
        break;
    }
    return fail(rc, field_msgs[f][k], reason);
}

static int take_u64(struct rlp_iter *it, enum field f, uint64_t *out, const char **reason)
{
    struct rlp_item item;
    int rc = rlp_iter_next(it, &item);
    if (rc == 0)
        rc = rlp_decode_u64(&item, out);
    return rc ? field_fail(rc, f, reason) : TC_OK;
}

static int take_u256(struct rlp_iter *it, enum field f, u256 *out, const char **reason)
{
    struct rlp_item item;
    int rc = rlp_iter_next(it, &item);
    if (rc == 0)
        rc = rlp_decode_u256(&item, out);
    return rc ? field_fail(rc, f, reason) : TC_OK;
}

/* r or s: a canonical integer of at most 32 bytes, left-padded into out. */
static int take_sig(struct rlp_iter *it, enum field f, uint8_t out[32], const char **reason)
{
    struct rlp_item item;
    struct bytes_view v;
    int rc = rlp_iter_next(it, &item);
    if (rc == 0)
        rc = rlp_decode_uint_be(&item, 32, &v);
    if (rc != 0)
        return field_fail(rc, f, reason);
    memset(out, 0, 32 - v.len);
    if (v.len)
        memcpy(out + 32 - v.len, v.ptr, v.len);
    return TC_OK;
}

static int take_to(struct rlp_iter *it, struct tx *tx, const char **reason)
{
    struct rlp_item item;
    bool empty;
    int rc = rlp_iter_next(it, &item);
    if (rc == 0)
        rc = rlp_decode_bytes_fixed(&item, 20, true, tx->to, &empty);
    if (rc != 0)
        return field_fail(rc, F_TO, reason);
    tx->has_to = !empty;
    return TC_OK;
}

static int take_data(struct rlp_iter *it, struct tx *tx, const char **reason)
{
    struct rlp_item item;
    int rc = rlp_iter_next(it, &item);
    if (rc == 0)
        rc = rlp_decode_string(&item, &tx->data);
    return rc ? field_fail(rc, F_DATA, reason) : TC_OK;
}

/* One access-list entry: [address (20 bytes), [key (32 bytes), ...]]. */
static int parse_access_entry(const struct rlp_item *entry, struct tx *tx, const char **reason)
{
    struct rlp_iter it, keys;
    struct rlp_item addr, list, key;
    uint8_t buf[32];
    if (rlp_iter_init(&it, entry) != 0)
        return fail(TC_EINVAL, "accessList: an entry is not a list", reason);
    if (rlp_iter_next(&it, &addr) != 0 || rlp_iter_next(&it, &list) != 0 || rlp_iter_end(&it) != 0)
        return fail(TC_EINVAL, "accessList: an entry is not [address, storageKeys]", reason);
    if (rlp_decode_bytes_fixed(&addr, 20, false, buf, NULL) != 0)
        return fail(TC_EINVAL, "accessList: an address is not 20 bytes", reason);
    if (rlp_iter_init(&keys, &list) != 0)
        return fail(TC_EINVAL, "accessList: storageKeys is not a list", reason);
    while (rlp_iter_has_next(&keys)) {
        int rc = rlp_iter_next(&keys, &key);
        if (rc != 0)
            return fail(rc, "accessList: malformed RLP", reason);
        if (rlp_decode_bytes_fixed(&key, 32, false, buf, NULL) != 0)
            return fail(TC_EINVAL, "accessList: a storage key is not 32 bytes", reason);
        tx->access_list_keys++;
    }
    tx->access_list_addresses++;
    return TC_OK;
}

static int take_access_list(struct rlp_iter *it, struct tx *tx, const char **reason)
{
    struct rlp_item list, entry;
    struct rlp_iter entries;
    int rc = rlp_iter_next(it, &list);
    if (rc != 0)
        return field_fail(rc, F_ACCESS_LIST, reason);
    if (rlp_iter_init(&entries, &list) != 0)
        return fail(TC_EINVAL, "accessList: a string where a list is expected", reason);
    tx->access_list = list.raw;
    tx->access_list_addresses = 0;
    tx->access_list_keys = 0;
    while (rlp_iter_has_next(&entries)) {
        rc = rlp_iter_next(&entries, &entry);
        if (rc != 0)
            return fail(rc, "accessList: malformed RLP", reason);
        rc = parse_access_entry(&entry, tx, reason);
        if (rc != 0)
            return rc;
    }
    return TC_OK;
}

static int take_signature(struct rlp_iter *it, struct tx *tx, const char **reason)
{
    int rc = take_sig(it, F_R, tx->r, reason);
    if (rc == 0)
        rc = take_sig(it, F_S, tx->s, reason);
    if (rc == 0 && rlp_iter_end(it) != 0)
        rc = fail(TC_EINVAL, "too many fields", reason);
    return rc;
}

static int decode_legacy(struct bytes_view raw, struct tx *tx, const char **reason)
{
    struct rlp_item list;
    struct rlp_iter it;
    uint64_t v;
    int rc = rlp_decode_top(raw, &list);
    if (rc != 0)
        return fail(rc, "malformed RLP envelope", reason);
    rlp_iter_init(&it, &list); /* cannot fail: a first byte >= 0xc0 is a list */
    tx->type = TX_LEGACY;
    if ((rc = take_u64(&it, F_NONCE, &tx->nonce, reason)) != 0 ||
        (rc = take_u256(&it, F_GAS_PRICE, &tx->gas_price, reason)) != 0 ||
        (rc = take_u64(&it, F_GAS_LIMIT, &tx->gas_limit, reason)) != 0 ||
        (rc = take_to(&it, tx, reason)) != 0 ||
        (rc = take_u256(&it, F_VALUE, &tx->value, reason)) != 0 ||
        (rc = take_data(&it, tx, reason)) != 0 || (rc = take_u64(&it, F_V, &v, reason)) != 0)
        return rc;
    tx->max_priority_fee_per_gas = tx->gas_price;
    tx->max_fee_per_gas = tx->gas_price;
    tx->access_list = bytes_view_of(NULL, 0);
    tx->access_list_addresses = 0;
    tx->access_list_keys = 0;
    if (v == 27 || v == 28) {
        tx->eip155 = false;
        tx->chain_id = 0;
        tx->y_parity = (uint8_t)(v - 27);
    } else if (v >= 35) {
        tx->eip155 = true;
        tx->chain_id = (v - 35) / 2;
        tx->y_parity = (uint8_t)((v - 35) & 1);
    } else {
        return fail(TC_EINVAL, "v: not 27, 28 or 35 + 2 * chainId + {0, 1}", reason);
    }
    return take_signature(&it, tx, reason);
}

static int decode_typed(struct bytes_view raw, struct tx *tx, const char **reason)
{
    struct rlp_item list;
    struct rlp_iter it;
    uint64_t y;
    int rc = rlp_decode_top(bytes_view_of(raw.ptr + 1, raw.len - 1), &list);
    if (rc != 0)
        return fail(rc, "malformed RLP payload", reason);
    if (rlp_iter_init(&it, &list) != 0)
        return fail(TC_EINVAL, "payload is not an RLP list", reason);
    tx->type = (enum tx_type)raw.ptr[0];
    tx->eip155 = false;
    if ((rc = take_u64(&it, F_CHAIN_ID, &tx->chain_id, reason)) != 0 ||
        (rc = take_u64(&it, F_NONCE, &tx->nonce, reason)) != 0)
        return rc;
    if (tx->type == TX_DYNAMIC_FEE) {
        if ((rc = take_u256(&it, F_MAX_PRIORITY_FEE, &tx->max_priority_fee_per_gas, reason)) ||
            (rc = take_u256(&it, F_MAX_FEE, &tx->max_fee_per_gas, reason)))
            return rc;
        tx->gas_price = tx->max_fee_per_gas;
    } else {
        if ((rc = take_u256(&it, F_GAS_PRICE, &tx->gas_price, reason)) != 0)
            return rc;
        tx->max_priority_fee_per_gas = tx->gas_price;
        tx->max_fee_per_gas = tx->gas_price;
    }
    if ((rc = take_u64(&it, F_GAS_LIMIT, &tx->gas_limit, reason)) != 0 ||
        (rc = take_to(&it, tx, reason)) != 0 ||
        (rc = take_u256(&it, F_VALUE, &tx->value, reason)) != 0 ||
        (rc = take_data(&it, tx, reason)) != 0 || (rc = take_access_list(&it, tx, reason)) != 0 ||
        (rc = take_u64(&it, F_Y_PARITY, &y, reason)) != 0)
        return rc;
    if (y > 1)
        return fail(TC_EINVAL, "yParity: not 0 or 1", reason);
    tx->y_parity = (uint8_t)y;
    return take_signature(&it, tx, reason);
}

int tx_decode(struct bytes_view raw, struct tx *tx, const char **reason)
{
    if (raw.len == 0)
        return fail(TC_ETRUNCATED, "empty transaction", reason);
    tx->raw = raw;
    uint8_t first = raw.ptr[0];
    if (first >= 0xc0)
        return decode_legacy(raw, tx, reason);
    if (first == TX_ACCESS_LIST || first == TX_DYNAMIC_FEE)
        return decode_typed(raw, tx, reason);
    if (first < 0x80)
        return fail(TC_EUNSUPPORTED, "transaction type not supported", reason);
    return fail(TC_EINVAL, "not a transaction: an RLP string, neither a list nor a type byte",
                reason);
}

/* ---- encoding: one sizing pass, then one writing pass ---- */

/* Encodings up to this size are hashed from a stack buffer in one call. */
#define HASH_STACK_BYTES 1024

enum sink_mode {
    SINK_COUNT, /* only adds up the length */
    SINK_MEM,   /* writes at dst, which has room for the counted length */
    SINK_HASH,  /* absorbs into a keccak256 context */
};

struct sink {
    enum sink_mode mode;
    size_t len;
    uint8_t *dst;
    struct keccak256_ctx *hash;
};

static void put(struct sink *s, const void *p, size_t n)
{
    if (s->mode == SINK_MEM && n)
        memcpy(s->dst + s->len, p, n);
    else if (s->mode == SINK_HASH)
        keccak256_update(s->hash, p, n);
    s->len += n;
}

static void put_header(struct sink *s, bool list, size_t payload_len)
{
    uint8_t hdr[9];
    put(s, hdr, rlp_write_header(hdr, list, payload_len));
}

static void put_string(struct sink *s, const uint8_t *p, size_t n)
{
    if (!(n == 1 && p[0] < 0x80))
        put_header(s, false, n);
    put(s, p, n);
}

static void put_uint_be(struct sink *s, const uint8_t *be, size_t n)
{
    while (n && be[0] == 0) {
        be++;
        n--;
    }
    put_string(s, be, n);
}

static void put_u64(struct sink *s, uint64_t v)
{
    uint8_t be[8];
    size_t n = v ? (size_t)(64 - __builtin_clzll(v) + 7) / 8 : 0;
    for (size_t i = 0; i < n; i++)
        be[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    put_string(s, be, n);
}

static void put_u256(struct sink *s, u256 v)
{
    if ((v.w[1] | v.w[2] | v.w[3]) == 0) {
        put_u64(s, v.w[0]); /* fees and values usually fit in 64 bits */
        return;
    }
    uint8_t be[32];
    u256_to_be_bytes(v, be);
    put_uint_be(s, be, sizeof(be));
}

/* The list items of the signed (signing = false) or to-be-signed form. */
static void put_fields(struct sink *s, const struct tx *tx, bool signing)
{
    static const uint8_t empty_list = 0xc0;
    bool typed = tx->type != TX_LEGACY;
    if (typed)
        put_u64(s, tx->chain_id);
    put_u64(s, tx->nonce);
    if (tx->type == TX_DYNAMIC_FEE) {
        put_u256(s, tx->max_priority_fee_per_gas);
        put_u256(s, tx->max_fee_per_gas);
    } else {
        put_u256(s, tx->gas_price);
    }
    put_u64(s, tx->gas_limit);
    put_string(s, tx->to, tx->has_to ? 20 : 0);
    put_u256(s, tx->value);
    put_string(s, tx->data.ptr, tx->data.len);
    if (typed) {
        if (tx->access_list.len)
            put(s, tx->access_list.ptr, tx->access_list.len);
        else
            put(s, &empty_list, 1);
    }
    if (signing) {
        if (!typed && tx->eip155) {
            put_u64(s, tx->chain_id);
            put_u64(s, 0);
            put_u64(s, 0);
        }
        return;
    }
    if (typed)
        put_u64(s, tx->y_parity);
    else if (tx->eip155)
        put_u64(s, 35 + 2 * tx->chain_id + tx->y_parity);
    else
        put_u64(s, 27u + tx->y_parity);
    put_uint_be(s, tx->r, 32);
    put_uint_be(s, tx->s, 32);
}

/* Size of the list payload; *total gets the whole envelope's size. */
static size_t encoded_size(const struct tx *tx, bool signing, size_t *total)
{
    struct sink count = { SINK_COUNT, 0, NULL, NULL };
    put_fields(&count, tx, signing);
    *total = (tx->type != TX_LEGACY) + rlp_header_size(count.len) + count.len;
    return count.len;
}

static void put_tx(struct sink *s, const struct tx *tx, bool signing, size_t payload_len)
{
    if (tx->type != TX_LEGACY) {
        uint8_t type = (uint8_t)tx->type;
        put(s, &type, 1);
    }
    put_header(s, true, payload_len);
    put_fields(s, tx, signing);
}

int tx_encode(const struct tx *tx, struct bytes *out)
{
    size_t total;
    size_t payload_len = encoded_size(tx, false, &total);
    if (bytes_reserve(out, total) != 0)
        return TC_ENOMEM;
    struct sink s = { SINK_MEM, 0, out->ptr + out->len, NULL };
    put_tx(&s, tx, false, payload_len);
    out->len += total;
    return TC_OK;
}

static void hash_tx(const struct tx *tx, bool signing, uint8_t hash[32])
{
    size_t total;
    size_t payload_len = encoded_size(tx, signing, &total);
    if (total <= HASH_STACK_BYTES) {
        uint8_t buf[HASH_STACK_BYTES];
        struct sink s = { SINK_MEM, 0, buf, NULL };
        put_tx(&s, tx, signing, payload_len);
        keccak256(buf, total, hash);
        return;
    }
    struct keccak256_ctx ctx;
    keccak256_init(&ctx);
    struct sink s = { SINK_HASH, 0, NULL, &ctx };
    put_tx(&s, tx, signing, payload_len);
    keccak256_final(&ctx, hash);
}

void tx_hash(const struct tx *tx, uint8_t hash[32])
{
    hash_tx(tx, false, hash);
}

void tx_signing_hash(const struct tx *tx, uint8_t hash[32])
{
    hash_tx(tx, true, hash);
}

/* ---- validation ---- */

uint64_t tx_intrinsic_gas(const struct tx *tx)
{
    uint64_t gas = tx->has_to ? GAS_TX : GAS_TX_CREATE;
    size_t zeros = 0;
    for (size_t i = 0; i < tx->data.len; i++)
        zeros += tx->data.ptr[i] == 0;
    gas += (uint64_t)zeros * GAS_DATA_ZERO + (uint64_t)(tx->data.len - zeros) * GAS_DATA_NONZERO;
    if (!tx->has_to)
        gas += GAS_INITCODE_WORD * (((uint64_t)tx->data.len + 31) / 32);
    gas += (uint64_t)tx->access_list_addresses * GAS_ACCESS_ADDR;
    gas += (uint64_t)tx->access_list_keys * GAS_ACCESS_KEY;
    return gas;
}

static bool is_zero32(const uint8_t v[32])
{
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++)
        acc |= v[i];
    return acc == 0;
}

static int check_chain_id(const struct tx *tx, const struct tx_rules *rules, const char **reason)
{
    if (tx->type == TX_LEGACY && !tx->eip155) {
        if (!rules->allow_unprotected)
            return fail(TC_EINVAL, "chain id: unprotected (pre-EIP-155) transaction", reason);
        return TC_OK;
    }
    if (tx->chain_id == 0)
        return fail(TC_EINVAL, "chain id: 0 is not a chain id", reason);
    if (rules->chain_id != 0 && tx->chain_id != rules->chain_id)
        return fail(TC_EINVAL, "chain id: not this chain's", reason);
    return TC_OK;
}

int tx_check(const struct tx *tx, const struct tx_rules *rules, const char **reason)
{
    if (tx->nonce == UINT64_MAX)
        return fail(TC_ERANGE, "nonce: 2^64 - 1 is not allowed (EIP-2681)", reason);
    int rc = check_chain_id(tx, rules, reason);
    if (rc != 0)
        return rc;
    if (u256_lt(tx->max_fee_per_gas, tx->max_priority_fee_per_gas))
        return fail(TC_EINVAL, "maxPriorityFeePerGas above maxFeePerGas", reason);
    u256 product;
    if (u256_mul_overflow(u256_from_u64(tx->gas_limit), tx->max_fee_per_gas, &product))
        return fail(TC_ERANGE, "gasLimit * maxFeePerGas overflows 256 bits", reason);
    if (!tx->has_to && tx->data.len > TX_MAX_INITCODE_BYTES)
        return fail(TC_ERANGE, "initcode larger than 49152 bytes (EIP-3860)", reason);
    if (tx->gas_limit < tx_intrinsic_gas(tx))
        return fail(TC_ERANGE, "gasLimit below intrinsic gas", reason);
    if (is_zero32(tx->r) || memcmp(tx->r, secp256k1_n, 32) >= 0)
        return fail(TC_EINVAL, "signature: r not in [1, n-1]", reason);
    if (is_zero32(tx->s) || memcmp(tx->s, secp256k1_half_n, 32) > 0)
        return fail(TC_EINVAL, "signature: s not in [1, n/2] (EIP-2)", reason);
    return TC_OK;
}

int tx_sender(const struct tx *tx, uint8_t address[20], const char **reason)
{
    uint8_t hash[32];
    tx_signing_hash(tx, hash);
    int rc = ecdsa_recover_address(hash, tx->r, tx->s, tx->y_parity, true, address);
    if (rc == TC_EINVAL)
        return fail(rc, "signature: r or s out of range", reason);
    if (rc != 0)
        return fail(rc, "signature: no public key recovers from it", reason);
    return TC_OK;
}

int tx_validate(const struct tx *tx, const struct tx_rules *rules, uint8_t sender[20],
                const char **reason)
{
    int rc = tx_check(tx, rules, reason);
    if (rc == 0)
        rc = tx_sender(tx, sender, reason);
    return rc;
}

int tx_sign(struct tx *tx, const uint8_t seckey[32])
{
    uint8_t hash[32];
    int recid;
    tx_signing_hash(tx, hash);
    int rc = ecdsa_sign_recoverable(seckey, hash, tx->r, tx->s, &recid);
    if (rc != 0)
        return rc;
    if (recid < 0 || recid > 1)
        return TC_ECRYPTO; /* r >= n: not expressible as a yParity; never seen in practice */
    tx->y_parity = (uint8_t)recid;
    tx->raw = bytes_view_of(NULL, 0);
    return TC_OK;
}
