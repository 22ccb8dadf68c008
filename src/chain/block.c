/* block.c - header and block codecs, block hash, chain checks and the sealer's signature. */
#include "chain/block.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "chain/tx.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"
#include "trie/trie.h"

const uint8_t block_empty_ommers_hash[32] = {
    0x1d, 0xcc, 0x4d, 0xe8, 0xde, 0xc7, 0x5d, 0x7a, 0xab, 0x85, 0xb5, 0x67, 0xb6, 0xcc, 0xd4, 0x1a,
    0xd3, 0x12, 0x45, 0x1b, 0x94, 0x8a, 0x74, 0x13, 0xf0, 0xa1, 0x42, 0xfd, 0x40, 0xd4, 0x93, 0x47,
};

/* Sets *reason (when asked for) and returns rc. */
static int fail(const char **reason, int rc, const char *msg)
{
    if (reason)
        *reason = msg;
    return rc;
}

static bool is_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

void block_header_init(struct block_header *h)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->ommers_hash, block_empty_ommers_hash, 32);
    memcpy(h->withdrawals_root, trie_empty_root, 32);
}

int block_header_encode(const struct block_header *h, struct bytes *out)
{
    if (h->extra_data_len > BLOCK_MAX_EXTRA_DATA_BYTES)
        return TC_ETOOBIG;
    size_t old_len = out->len;
    size_t list = rlp_list_begin(out);
    int rc = rlp_encode_bytes(out, h->parent_hash, 32);
    if (rc == 0)
        rc = rlp_encode_bytes(out, h->ommers_hash, 32);
    if (rc == 0)
        rc = rlp_encode_bytes(out, h->coinbase, 20);
    if (rc == 0)
        rc = rlp_encode_bytes(out, h->state_root, 32);
    if (rc == 0)
        rc = rlp_encode_bytes(out, h->transactions_root, 32);
    if (rc == 0)
        rc = rlp_encode_bytes(out, h->receipts_root, 32);
    if (rc == 0)
        rc = rlp_encode_bytes(out, h->logs_bloom, BLOOM_BYTES);
    if (rc == 0)
        rc = rlp_encode_u256(out, h->difficulty);
    if (rc == 0)
        rc = rlp_encode_u64(out, h->number);
    if (rc == 0)
        rc = rlp_encode_u64(out, h->gas_limit);
    if (rc == 0)
        rc = rlp_encode_u64(out, h->gas_used);
    if (rc == 0)
        rc = rlp_encode_u64(out, h->timestamp);
    if (rc == 0)
        rc = rlp_encode_bytes(out, h->extra_data, h->extra_data_len);
    if (rc == 0)
        rc = rlp_encode_bytes(out, h->mix_hash, 32);
    if (rc == 0)
        rc = rlp_encode_bytes(out, h->nonce, 8);
    if (rc == 0)
        rc = rlp_encode_u256(out, h->base_fee_per_gas);
    if (rc == 0)
        rc = rlp_encode_bytes(out, h->withdrawals_root, 32);
    if (rc == 0)
        rc = rlp_encode_u64(out, h->blob_gas_used);
    if (rc == 0)
        rc = rlp_encode_u64(out, h->excess_blob_gas);
    if (rc == 0)
        rc = rlp_encode_bytes(out, h->parent_beacon_block_root, 32);
    if (rc == 0)
        rc = rlp_list_end(out, list);
    if (rc != 0)
        out->len = old_len;
    return rc;
}

/* Field-by-field reader over the header list; each step names its field on failure. */
struct field_reader {
    struct rlp_iter it;
    const char **reason;
};

static int read_item(struct field_reader *fr, struct rlp_item *f, const char *name)
{
    int rc = rlp_iter_next(&fr->it, f);
    if (rc != 0)
        return fail(fr->reason, rc == TC_ENOTFOUND ? TC_EINVAL : rc, name);
    return TC_OK;
}

static int read_fixed(struct field_reader *fr, uint8_t *out, size_t n, const char *name)
{
    struct rlp_item f;
    int rc = read_item(fr, &f, name);
    if (rc == 0 && (rc = rlp_decode_bytes_fixed(&f, n, false, out, NULL)) != 0)
        return fail(fr->reason, rc, name);
    return rc;
}

static int read_u64(struct field_reader *fr, uint64_t *out, const char *name)
{
    struct rlp_item f;
    int rc = read_item(fr, &f, name);
    if (rc == 0 && (rc = rlp_decode_u64(&f, out)) != 0)
        return fail(fr->reason, rc, name);
    return rc;
}

static int read_u256(struct field_reader *fr, u256 *out, const char *name)
{
    struct rlp_item f;
    int rc = read_item(fr, &f, name);
    if (rc == 0 && (rc = rlp_decode_u256(&f, out)) != 0)
        return fail(fr->reason, rc, name);
    return rc;
}

static int header_decode_item(const struct rlp_item *item, struct block_header *h,
                              const char **reason)
{
    struct field_reader fr = { .reason = reason };
    struct rlp_item f;
    struct bytes_view extra;
    memset(h, 0, sizeof(*h));
    if (rlp_iter_init(&fr.it, item) != 0)
        return fail(reason, TC_EINVAL, "header: not a list");
    int rc;
    if ((rc = read_fixed(&fr, h->parent_hash, 32, "header: bad parentHash")) != 0 ||
        (rc = read_fixed(&fr, h->ommers_hash, 32, "header: bad ommersHash")) != 0 ||
        (rc = read_fixed(&fr, h->coinbase, 20, "header: bad coinbase")) != 0 ||
        (rc = read_fixed(&fr, h->state_root, 32, "header: bad stateRoot")) != 0 ||
        (rc = read_fixed(&fr, h->transactions_root, 32, "header: bad transactionsRoot")) != 0 ||
        (rc = read_fixed(&fr, h->receipts_root, 32, "header: bad receiptsRoot")) != 0 ||
        (rc = read_fixed(&fr, h->logs_bloom, BLOOM_BYTES, "header: bad logsBloom")) != 0 ||
        (rc = read_u256(&fr, &h->difficulty, "header: bad difficulty")) != 0 ||
        (rc = read_u64(&fr, &h->number, "header: bad number")) != 0 ||
        (rc = read_u64(&fr, &h->gas_limit, "header: bad gasLimit")) != 0 ||
        (rc = read_u64(&fr, &h->gas_used, "header: bad gasUsed")) != 0 ||
        (rc = read_u64(&fr, &h->timestamp, "header: bad timestamp")) != 0 ||
        (rc = read_item(&fr, &f, "header: bad extraData")) != 0)
        return rc;
    if ((rc = rlp_decode_string(&f, &extra)) != 0)
        return fail(reason, rc, "header: bad extraData");
    if (extra.len > BLOCK_MAX_EXTRA_DATA_BYTES)
        return fail(reason, TC_ETOOBIG, "header: extraData longer than 32 bytes");
    if (extra.len)
        memcpy(h->extra_data, extra.ptr, extra.len);
    h->extra_data_len = (uint8_t)extra.len;
    if ((rc = read_fixed(&fr, h->mix_hash, 32, "header: bad mixHash")) != 0 ||
        (rc = read_fixed(&fr, h->nonce, 8, "header: bad nonce")) != 0 ||
        (rc = read_u256(&fr, &h->base_fee_per_gas, "header: bad baseFeePerGas")) != 0 ||
        (rc = read_fixed(&fr, h->withdrawals_root, 32, "header: bad withdrawalsRoot")) != 0 ||
        (rc = read_u64(&fr, &h->blob_gas_used, "header: bad blobGasUsed")) != 0 ||
        (rc = read_u64(&fr, &h->excess_blob_gas, "header: bad excessBlobGas")) != 0 ||
        (rc = read_fixed(&fr, h->parent_beacon_block_root, 32,
                         "header: bad parentBeaconBlockRoot")) != 0)
        return rc;
    if (rlp_iter_end(&fr.it) != 0)
        return fail(reason, TC_EINVAL, "header: more than the 20 Cancun fields");
    return TC_OK;
}

int block_header_decode(struct bytes_view in, struct block_header *h, const char **reason)
{
    struct rlp_item item;
    int rc = rlp_decode_top(in, &item);
    if (rc != 0)
        return fail(reason, rc, "header: bad RLP");
    return header_decode_item(&item, h, reason);
}

int block_header_hash(const struct block_header *h, uint8_t hash[32])
{
    struct bytes buf;
    bytes_init(&buf);
    int rc = block_header_encode(h, &buf);
    if (rc == 0)
        keccak256(buf.ptr, buf.len, hash);
    bytes_free(&buf);
    return rc;
}

int block_transactions_root(const struct bytes_view *txs, size_t n, uint8_t root[32])
{
    return trie_ordered_root(txs, n, root);
}

int block_encode(const struct block *b, struct bytes *out)
{
    if (b->tx_count > BLOCK_MAX_TXS)
        return TC_ETOOBIG;
    for (size_t i = 0; i < b->tx_count; i++) {
        if (b->txs[i].len == 0)
            return TC_EINVAL;
        if (b->txs[i].len > BLOCK_MAX_TX_BYTES)
            return TC_ETOOBIG;
    }
    size_t old_len = out->len;
    size_t list = rlp_list_begin(out);
    int rc = block_header_encode(&b->header, out);
    size_t txs = rlp_list_begin(out);
    for (size_t i = 0; rc == 0 && i < b->tx_count; i++)
        rc = rlp_encode_bytes(out, b->txs[i].ptr, b->txs[i].len);
    if (rc == 0)
        rc = rlp_list_end(out, txs);
    size_t sig = rlp_list_begin(out);
    if (rc == 0)
        rc = rlp_encode_u64(out, b->sig_recid);
    if (rc == 0)
        rc = rlp_encode_bytes(out, b->sig_r, 32);
    if (rc == 0)
        rc = rlp_encode_bytes(out, b->sig_s, 32);
    if (rc == 0)
        rc = rlp_list_end(out, sig);
    if (rc == 0)
        rc = rlp_list_end(out, list);
    if (rc != 0)
        out->len = old_len;
    return rc;
}

static int decode_txs(const struct rlp_item *list, struct block *b, const char **reason)
{
    size_t count;
    int rc = rlp_list_count(list, &count);
    if (rc != 0)
        return fail(reason, rc, "block: bad transactions list");
    if (count > BLOCK_MAX_TXS)
        return fail(reason, TC_ETOOBIG, "block: too many transactions");
    if (count == 0)
        return TC_OK;
    b->txs = malloc(count * sizeof(*b->txs));
    if (!b->txs)
        return fail(reason, TC_ENOMEM, "block: out of memory");
    b->txs_owned = true;
    struct rlp_iter it;
    rlp_iter_init(&it, list);
    for (size_t i = 0; i < count; i++) {
        struct rlp_item item;
        struct bytes_view raw;
        struct tx tx;
        if ((rc = rlp_iter_next(&it, &item)) != 0 || (rc = rlp_decode_string(&item, &raw)) != 0)
            return fail(reason, rc, "block: transaction is not an RLP string");
        if (raw.len == 0)
            return fail(reason, TC_EINVAL, "block: empty transaction");
        if (raw.len > BLOCK_MAX_TX_BYTES)
            return fail(reason, TC_ETOOBIG, "block: transaction too large");
        if ((rc = tx_decode(raw, &tx, NULL)) != 0)
            return fail(reason, rc, "block: malformed transaction");
        b->txs[i] = raw;
        b->tx_count = i + 1;
    }
    return TC_OK;
}

static int decode_sig(const struct rlp_item *list, struct block *b, const char **reason)
{
    struct field_reader fr = { .reason = reason };
    uint64_t recid;
    if (rlp_iter_init(&fr.it, list) != 0)
        return fail(reason, TC_EINVAL, "block: signature is not a list");
    int rc;
    if ((rc = read_u64(&fr, &recid, "block: bad signature recid")) != 0 ||
        (rc = read_fixed(&fr, b->sig_r, 32, "block: bad signature r")) != 0 ||
        (rc = read_fixed(&fr, b->sig_s, 32, "block: bad signature s")) != 0)
        return rc;
    if (recid > 1)
        return fail(reason, TC_EINVAL, "block: signature recid not 0 or 1");
    if (rlp_iter_end(&fr.it) != 0)
        return fail(reason, TC_EINVAL, "block: signature has extra fields");
    b->sig_recid = (uint8_t)recid;
    return TC_OK;
}

int block_decode_item(const struct rlp_item *item, struct block *b, const char **reason)
{
    memset(b, 0, sizeof(*b));
    struct rlp_iter it;
    struct rlp_item f;
    int rc;
    if (rlp_iter_init(&it, item) != 0)
        return fail(reason, TC_EINVAL, "block: not a list");
    if ((rc = rlp_iter_next(&it, &f)) != 0)
        return fail(reason, rc == TC_ENOTFOUND ? TC_EINVAL : rc, "block: missing header");
    if ((rc = header_decode_item(&f, &b->header, reason)) != 0)
        return rc;
    if ((rc = rlp_iter_next(&it, &f)) != 0)
        return fail(reason, rc == TC_ENOTFOUND ? TC_EINVAL : rc, "block: missing transactions");
    if ((rc = decode_txs(&f, b, reason)) != 0)
        return rc;
    if ((rc = rlp_iter_next(&it, &f)) != 0)
        return fail(reason, rc == TC_ENOTFOUND ? TC_EINVAL : rc, "block: missing signature");
    if ((rc = decode_sig(&f, b, reason)) != 0)
        return rc;
    if (rlp_iter_end(&it) != 0)
        return fail(reason, TC_EINVAL, "block: extra fields");
    return TC_OK;
}

int block_decode(struct bytes_view in, struct block *b, const char **reason)
{
    memset(b, 0, sizeof(*b));
    struct rlp_item item;
    int rc = rlp_decode_top(in, &item);
    if (rc != 0)
        return fail(reason, rc, "block: bad RLP");
    return block_decode_item(&item, b, reason);
}

void block_free(struct block *b)
{
    if (b->txs_owned)
        free(b->txs);
    b->txs = NULL;
    b->tx_count = 0;
    b->txs_owned = false;
}

int block_check(const struct block *b, const char **reason)
{
    const struct block_header *h = &b->header;
    if (memcmp(h->ommers_hash, block_empty_ommers_hash, 32) != 0)
        return fail(reason, TC_EINVAL, "header: ommersHash is not the empty-ommers hash");
    if (!u256_is_zero(h->difficulty))
        return fail(reason, TC_EINVAL, "header: difficulty is not 0");
    if (!is_zero(h->nonce, 8))
        return fail(reason, TC_EINVAL, "header: nonce is not zero");
    if (memcmp(h->withdrawals_root, trie_empty_root, 32) != 0)
        return fail(reason, TC_EINVAL, "header: withdrawalsRoot is not the empty root");
    if (h->blob_gas_used != 0 || h->excess_blob_gas != 0)
        return fail(reason, TC_EINVAL, "header: blob gas is not 0");
    if (!is_zero(h->parent_beacon_block_root, 32))
        return fail(reason, TC_EINVAL, "header: parentBeaconBlockRoot is not zero");
    if (h->extra_data_len > BLOCK_MAX_EXTRA_DATA_BYTES)
        return fail(reason, TC_ETOOBIG, "header: extraData longer than 32 bytes");
    if (h->gas_used > h->gas_limit)
        return fail(reason, TC_EINVAL, "header: gasUsed above gasLimit");
    if (b->tx_count > BLOCK_MAX_TXS)
        return fail(reason, TC_ETOOBIG, "block: too many transactions");
    uint8_t root[32];
    int rc = block_transactions_root(b->txs, b->tx_count, root);
    if (rc != 0)
        return fail(reason, rc, "block: transactionsRoot computation failed");
    if (memcmp(root, h->transactions_root, 32) != 0)
        return fail(reason, TC_EINVAL, "header: transactionsRoot does not match the transactions");
    return TC_OK;
}

int block_seal(struct block *b, const uint8_t seckey[32])
{
    uint8_t hash[32];
    int recid;
    int rc = ecdsa_address_from_seckey(seckey, b->header.coinbase);
    if (rc != 0)
        return rc;
    if ((rc = block_header_hash(&b->header, hash)) != 0)
        return rc;
    if ((rc = ecdsa_sign_recoverable(seckey, hash, b->sig_r, b->sig_s, &recid)) != 0)
        return rc;
    /* libsecp256k1 yields recid 2 or 3 only for r >= n, which has negligible probability. */
    if (recid > 1)
        return TC_ECRYPTO;
    b->sig_recid = (uint8_t)recid;
    return TC_OK;
}

int block_verify_seal(const struct block *b, const uint8_t (*sealers)[20], size_t n,
                      const char **reason)
{
    uint8_t hash[32], signer[20];
    int rc = block_header_hash(&b->header, hash);
    if (rc != 0)
        return fail(reason, rc, "seal: cannot hash the header");
    rc = ecdsa_recover_address(hash, b->sig_r, b->sig_s, b->sig_recid, true, signer);
    if (rc != 0)
        return fail(reason, rc, "seal: signature does not recover a key");
    if (memcmp(signer, b->header.coinbase, 20) != 0)
        return fail(reason, TC_ECRYPTO, "seal: signer is not the coinbase");
    for (size_t i = 0; i < n; i++)
        if (memcmp(sealers[i], signer, 20) == 0)
            return TC_OK;
    return fail(reason, TC_EPERM, "seal: coinbase is not in the sealer set");
}
