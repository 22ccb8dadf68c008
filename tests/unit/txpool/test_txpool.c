/*
 * test_txpool.c - admission rules and their exact messages, nonce queues
 * (pending, future, promotion), limits, replacement, selection order,
 * commit / return / drop / expiry, queries and the forwarding hook, all on
 * real signed transactions through txpool_submit_sync() and a fake
 * account reader. The asynchronous paths, concurrency and the model-based
 * random test are in test_txpool_random.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/error.h"
#include "chain/tx.h"
#include "crypto/ecdsa.h"
#include "txpool/txpool.h"

#define CHAIN_ID 20200
#define KEYS     8
#define GWEI     UINT64_C(1000000000)

/* ---- fixture: keys, a fake state, signed transactions -------------------- */

struct account {
    uint64_t nonce;
    u256 balance;
};

struct fixture {
    uint8_t keys[KEYS][32];
    uint8_t addrs[KEYS][20];
    struct account accounts[KEYS];
    bool reader_fails;
    /* When set: run once by the reader after it has read (a commit racing
     * with an admission between its account read and its insertion). */
    void (*after_read)(struct fixture *f);
    uint64_t now_ms;
    struct txpool_config cfg;
    struct txpool *pool;
    /* forwarding hook record */
    size_t forwarded;
    uint8_t last_forwarded[32];
};

static int fake_account(void *ctx, const uint8_t addr[20], uint64_t *nonce, u256 *balance)
{
    struct fixture *f = ctx;
    if (f->reader_fails)
        return TC_EIO;
    *nonce = 0;
    *balance = u256_zero();
    for (int i = 0; i < KEYS; i++) {
        if (memcmp(f->addrs[i], addr, 20) == 0) {
            *nonce = f->accounts[i].nonce;
            *balance = f->accounts[i].balance;
        }
    }
    if (f->after_read) {
        void (*hook)(struct fixture *) = f->after_read;
        f->after_read = NULL;
        hook(f);
    }
    return 0;
}

static uint64_t fake_now(void *ctx)
{
    return ((struct fixture *)ctx)->now_ms;
}

static void on_forward(void *ctx, const uint8_t hash[32], const uint8_t *raw, size_t len)
{
    struct fixture *f = ctx;
    assert_true(len > 0 && raw != NULL);
    f->forwarded++;
    memcpy(f->last_forwarded, hash, 32);
}

static struct fixture *fixture_new(void)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    for (int i = 0; i < KEYS; i++) {
        f->keys[i][31] = (uint8_t)(i + 1);
        f->keys[i][0] = 0x11;
        assert_int_equal(ecdsa_address_from_seckey(f->keys[i], f->addrs[i]), TC_OK);
        f->accounts[i].balance = u256_from_u64(UINT64_MAX);
    }
    f->now_ms = 1000000;
    txpool_config_default(&f->cfg);
    f->cfg.rules.chain_id = CHAIN_ID;
    f->cfg.rules.allow_unprotected = false;
    f->cfg.max_txs = 64;
    f->cfg.max_per_sender = 16;
    f->cfg.expiry_s = 60;
    f->cfg.block_gas_limit = 30000000;
    f->cfg.account = fake_account;
    f->cfg.account_ctx = f;
    f->cfg.now_ms = fake_now;
    f->cfg.now_ctx = f;
    return f;
}

static int setup(void **state)
{
    struct fixture *f = fixture_new();
    assert_int_equal(txpool_create(&f->cfg, &f->pool), TC_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    txpool_destroy(f->pool);
    free(f);
    return 0;
}

/* Recreates the pool after the test changed f->cfg. */
static void reconfigure(struct fixture *f)
{
    txpool_destroy(f->pool);
    assert_int_equal(txpool_create(&f->cfg, &f->pool), TC_OK);
}

/* A transfer of `value` wei from key k, legacy EIP-155 at gas price
 * price_gwei; callers adjust fields before signing through make_raw. */
static struct tx transfer(int k, uint64_t nonce, uint64_t price_gwei)
{
    (void)k;
    struct tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = TX_LEGACY;
    tx.eip155 = true;
    tx.chain_id = CHAIN_ID;
    tx.nonce = nonce;
    tx.gas_price = u256_from_u64(price_gwei * GWEI);
    tx.max_fee_per_gas = tx.gas_price;
    tx.max_priority_fee_per_gas = tx.gas_price;
    tx.gas_limit = 21000;
    tx.has_to = true;
    memset(tx.to, 0x42, 20);
    tx.value = u256_from_u64(1);
    return tx;
}

/* Signs tx with key k and returns its raw encoding (caller frees). */
static struct bytes sign_raw(struct fixture *f, struct tx tx, int k)
{
    struct bytes raw;
    bytes_init(&raw);
    assert_int_equal(tx_sign(&tx, f->keys[k]), TC_OK);
    assert_int_equal(tx_encode(&tx, &raw), TC_OK);
    return raw;
}

static struct bytes make_raw(struct fixture *f, int k, uint64_t nonce, uint64_t price_gwei)
{
    return sign_raw(f, transfer(k, nonce, price_gwei), k);
}

/* Submits synchronously; returns the status and the hash. */
static enum txpool_status submit(struct fixture *f, struct bytes *raw, uint8_t hash[32])
{
    struct txpool_result r;
    int rc = txpool_submit_sync(f->pool, raw->ptr, raw->len, &r);
    assert_int_equal(rc, r.code);
    assert_int_equal(r.code, txpool_status_code(r.status));
    assert_non_null(r.message);
    if (hash && r.has_hash)
        memcpy(hash, r.hash, 32);
    return r.status;
}

/* Signs, submits, frees: the status of a transfer. */
static enum txpool_status submit_transfer(struct fixture *f, int k, uint64_t nonce,
                                          uint64_t price_gwei, uint8_t hash[32])
{
    struct bytes raw = make_raw(f, k, nonce, price_gwei);
    enum txpool_status st = submit(f, &raw, hash);
    bytes_free(&raw);
    return st;
}

static void assert_stats(struct fixture *f, size_t pending, size_t future, size_t in_flight)
{
    struct txpool_stats s;
    txpool_get_stats(f->pool, &s);
    assert_int_equal(s.pending, pending);
    assert_int_equal(s.future, future);
    assert_int_equal(s.in_flight, in_flight);
}

/* The message a submission got, for the exact-text tests. */
static const char *message_of(struct fixture *f, struct bytes *raw)
{
    static struct txpool_result r;
    txpool_submit_sync(f->pool, raw->ptr, raw->len, &r);
    return r.message;
}

/* ---- messages ----------------------------------------------------------- */

static void test_status_messages_match_ethereum_clients(void **state)
{
    (void)state;
    assert_string_equal(txpool_status_message(TXPOOL_NONCE_TOO_LOW), "nonce too low");
    assert_string_equal(txpool_status_message(TXPOOL_ALREADY_KNOWN), "already known");
    assert_string_equal(txpool_status_message(TXPOOL_INSUFFICIENT_FUNDS),
                        "insufficient funds for gas * price + value");
    assert_string_equal(txpool_status_message(TXPOOL_INVALID_CHAIN_ID), "invalid chain id");
    assert_string_equal(txpool_status_message(TXPOOL_OVERSIZED), "oversized data");
    assert_string_equal(txpool_status_message(TXPOOL_FULL), "txpool is full");
    assert_string_equal(txpool_status_message(TXPOOL_INVALID_SENDER), "invalid sender");
    assert_string_equal(txpool_status_message(TXPOOL_INTRINSIC_GAS), "intrinsic gas too low");
    assert_string_equal(txpool_status_message(TXPOOL_TYPE_NOT_SUPPORTED),
                        "transaction type not supported");
    assert_string_equal(txpool_status_message(TXPOOL_GAS_LIMIT), "exceeds block gas limit");
    assert_string_equal(txpool_status_message(TXPOOL_UNDERPRICED), "transaction underpriced");
    assert_string_equal(txpool_status_message(TXPOOL_REPLACEMENT_UNDERPRICED),
                        "replacement transaction underpriced");
    assert_string_equal(txpool_status_message(TXPOOL_NONCE_TOO_HIGH), "nonce too high");
    assert_int_equal(txpool_status_code(TXPOOL_ADMITTED), TC_OK);
    for (int s = 1; s < TXPOOL_STATUS_COUNT; s++) {
        assert_true(txpool_status_code((enum txpool_status)s) < 0);
        assert_true(strlen(txpool_status_message((enum txpool_status)s)) > 0);
    }
}

/* ---- stateless refusals ------------------------------------------------- */

static void test_admits_signed_transfer_with_its_hash(void **state)
{
    struct fixture *f = *state;
    struct bytes raw = make_raw(f, 0, 0, 1);
    struct tx tx;
    uint8_t want[32], hash[32];
    assert_int_equal(tx_decode(bytes_as_view(&raw), &tx, NULL), TC_OK);
    tx_hash(&tx, want);
    struct txpool_result r;
    assert_int_equal(txpool_submit_sync(f->pool, raw.ptr, raw.len, &r), TC_OK);
    assert_int_equal(r.status, TXPOOL_ADMITTED);
    assert_string_equal(r.message, "");
    assert_true(r.has_hash);
    assert_memory_equal(r.hash, want, 32);
    memcpy(hash, r.hash, 32);
    assert_true(txpool_contains(f->pool, hash));
    struct bytes copy;
    bytes_init(&copy);
    assert_int_equal(txpool_get(f->pool, hash, &copy), TC_OK);
    assert_true(bytes_view_eq(bytes_as_view(&copy), bytes_as_view(&raw)));
    hash[0] ^= 1;
    assert_false(txpool_contains(f->pool, hash));
    assert_int_equal(txpool_get(f->pool, hash, &copy), TC_ENOTFOUND);
    assert_stats(f, 1, 0, 0);
    bytes_free(&copy);
    bytes_free(&raw);
}

static void test_rejects_oversized_data_before_decoding(void **state)
{
    struct fixture *f = *state;
    struct tx tx = transfer(0, 0, 1);
    static uint8_t data[TXPOOL_DEFAULT_MAX_TX_BYTES];
    memset(data, 1, sizeof(data));
    tx.data = bytes_view_of(data, sizeof(data));
    tx.gas_limit = 29000000;
    struct bytes raw = sign_raw(f, tx, 0);
    assert_true(raw.len > TXPOOL_DEFAULT_MAX_TX_BYTES);
    assert_string_equal(message_of(f, &raw), "oversized data");
    bytes_free(&raw);
    /* Exactly the limit is not oversized (it fails later, for its own reason). */
    uint8_t *junk = calloc(1, TXPOOL_DEFAULT_MAX_TX_BYTES);
    struct txpool_result r;
    txpool_submit_sync(f->pool, junk, TXPOOL_DEFAULT_MAX_TX_BYTES, &r);
    assert_int_not_equal(r.status, TXPOOL_OVERSIZED);
    free(junk);
}

static void test_rejects_blob_and_unknown_types_as_not_supported(void **state)
{
    struct fixture *f = *state;
    uint8_t blob[] = { 0x03, 0xc0 };
    uint8_t unknown[] = { 0x05, 0xc0 };
    struct txpool_result r;
    assert_int_equal(txpool_submit_sync(f->pool, blob, sizeof(blob), &r), TC_EUNSUPPORTED);
    assert_string_equal(r.message, "transaction type not supported");
    assert_false(r.has_hash);
    assert_int_equal(txpool_submit_sync(f->pool, unknown, sizeof(unknown), &r), TC_EUNSUPPORTED);
    assert_string_equal(r.message, "transaction type not supported");
}

static void test_malformed_input_reports_the_decoder_reason(void **state)
{
    struct fixture *f = *state;
    struct bytes raw = make_raw(f, 0, 0, 1);
    struct txpool_result r;
    assert_int_equal(txpool_submit_sync(f->pool, raw.ptr, raw.len - 1, &r), TC_EINVAL);
    assert_int_equal(r.status, TXPOOL_MALFORMED);
    assert_true(strlen(r.message) > 0);
    assert_false(r.has_hash);
    assert_int_equal(txpool_submit_sync(f->pool, raw.ptr, 0, &r), TC_EINVAL);
    assert_int_equal(r.status, TXPOOL_MALFORMED);
    bytes_free(&raw);
    assert_stats(f, 0, 0, 0);
}

static void test_rejects_other_chain_and_unprotected_transactions(void **state)
{
    struct fixture *f = *state;
    struct tx tx = transfer(0, 0, 1);
    tx.chain_id = CHAIN_ID + 1;
    struct bytes raw = sign_raw(f, tx, 0);
    assert_string_equal(message_of(f, &raw), "invalid chain id");
    bytes_free(&raw);

    tx = transfer(0, 0, 1);
    tx.type = TX_DYNAMIC_FEE;
    tx.chain_id = 1;
    raw = sign_raw(f, tx, 0);
    assert_string_equal(message_of(f, &raw), "invalid chain id");
    bytes_free(&raw);

    tx = transfer(0, 0, 1);
    tx.eip155 = false;
    tx.chain_id = 0;
    raw = sign_raw(f, tx, 0);
    assert_string_equal(message_of(f, &raw),
                        "only replay-protected (EIP-155) transactions allowed over RPC");
    f->cfg.rules.allow_unprotected = true;
    reconfigure(f);
    assert_int_equal(submit(f, &raw, NULL), TXPOOL_ADMITTED);
    bytes_free(&raw);
}

static void test_rejects_gas_below_intrinsic_and_above_block_limit(void **state)
{
    struct fixture *f = *state;
    struct tx tx = transfer(0, 0, 1);
    tx.gas_limit = 20999;
    struct bytes raw = sign_raw(f, tx, 0);
    assert_string_equal(message_of(f, &raw), "intrinsic gas too low");
    bytes_free(&raw);

    uint8_t data[4] = { 1, 0, 0, 1 }; /* 2 * 16 + 2 * 4 = 40 gas more */
    tx = transfer(0, 0, 1);
    tx.data = bytes_view_of(data, sizeof(data));
    tx.gas_limit = 21039;
    raw = sign_raw(f, tx, 0);
    assert_string_equal(message_of(f, &raw), "intrinsic gas too low");
    bytes_free(&raw);

    tx = transfer(0, 0, 1);
    tx.gas_limit = 30000001;
    raw = sign_raw(f, tx, 0);
    assert_string_equal(message_of(f, &raw), "exceeds block gas limit");
    bytes_free(&raw);

    tx.gas_limit = 30000000;
    raw = sign_raw(f, tx, 0);
    assert_int_equal(submit(f, &raw, NULL), TXPOOL_ADMITTED);
    bytes_free(&raw);
}

static void test_rejects_prices_below_minimum_and_tip_above_cap(void **state)
{
    struct fixture *f = *state;
    f->cfg.min_gas_price = u256_from_u64(2 * GWEI);
    reconfigure(f);
    assert_int_equal(submit_transfer(f, 0, 0, 1, NULL), TXPOOL_UNDERPRICED);
    assert_int_equal(submit_transfer(f, 0, 0, 2, NULL), TXPOOL_ADMITTED);

    struct tx tx = transfer(1, 0, 3);
    tx.type = TX_DYNAMIC_FEE;
    tx.max_priority_fee_per_gas = u256_from_u64(4 * GWEI);
    struct bytes raw = sign_raw(f, tx, 1);
    assert_string_equal(message_of(f, &raw),
                        "max priority fee per gas higher than max fee per gas");
    bytes_free(&raw);
}

static void test_rejects_nonce_max_value(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(submit_transfer(f, 0, UINT64_MAX, 1, NULL), TXPOOL_NONCE_MAX);
}

static void test_rejects_invalid_signatures_as_invalid_sender(void **state)
{
    struct fixture *f = *state;
    struct tx tx = transfer(0, 0, 1);
    assert_int_equal(tx_sign(&tx, f->keys[0]), TC_OK);
    memset(tx.r, 0xff, 32); /* r >= n */
    struct bytes raw;
    bytes_init(&raw);
    assert_int_equal(tx_encode(&tx, &raw), TC_OK);
    assert_string_equal(message_of(f, &raw), "invalid sender");
    bytes_free(&raw);

    /* In range, but some r values are no point's x coordinate: recovery
     * itself fails. Search a few deterministically. */
    bool seen_recovery_failure = false;
    for (uint8_t x = 1; x < 64 && !seen_recovery_failure; x++) {
        tx = transfer(0, 0, 1);
        assert_int_equal(tx_sign(&tx, f->keys[0]), TC_OK);
        memset(tx.r, 0, 32);
        tx.r[31] = x;
        uint8_t addr[20];
        if (tx_sender(&tx, addr, NULL) == TC_OK)
            continue;
        bytes_init(&raw);
        assert_int_equal(tx_encode(&tx, &raw), TC_OK);
        assert_string_equal(message_of(f, &raw), "invalid sender");
        bytes_free(&raw);
        seen_recovery_failure = true;
    }
    assert_true(seen_recovery_failure);
    assert_stats(f, 0, 0, 0);
}

/* ---- state-dependent refusals ------------------------------------------- */

static void test_rejects_nonce_below_state_nonce(void **state)
{
    struct fixture *f = *state;
    f->accounts[0].nonce = 5;
    uint8_t hash[32];
    struct bytes raw = make_raw(f, 0, 4, 1);
    assert_string_equal(message_of(f, &raw), "nonce too low");
    bytes_free(&raw);
    assert_int_equal(submit_transfer(f, 0, 5, 1, hash), TXPOOL_ADMITTED);
    assert_int_equal(txpool_next_nonce(f->pool, f->addrs[0], 5), 6);
}

static void test_rejects_cost_above_balance(void **state)
{
    struct fixture *f = *state;
    /* cost = 21000 * 1 gwei + 1 wei */
    f->accounts[0].balance = u256_from_u64(21000 * GWEI);
    struct bytes raw = make_raw(f, 0, 0, 1);
    assert_string_equal(message_of(f, &raw), "insufficient funds for gas * price + value");
    f->accounts[0].balance = u256_from_u64(21000 * GWEI + 1);
    assert_int_equal(submit(f, &raw, NULL), TXPOOL_ADMITTED);
    bytes_free(&raw);

    /* gas price 0 (FISCO-like): only the value counts. */
    f->accounts[1].balance = u256_from_u64(1);
    assert_int_equal(submit_transfer(f, 1, 0, 0, NULL), TXPOOL_ADMITTED);
    f->accounts[2].balance = u256_zero();
    assert_int_equal(submit_transfer(f, 2, 0, 0, NULL), TXPOOL_INSUFFICIENT_FUNDS);

    /* gasLimit * maxFee beyond 256 bits: no balance pays that. */
    struct tx tx = transfer(3, 0, 1);
    tx.gas_price = u256_max();
    tx.max_fee_per_gas = tx.max_priority_fee_per_gas = tx.gas_price;
    f->accounts[3].balance = u256_max();
    raw = sign_raw(f, tx, 3);
    assert_string_equal(message_of(f, &raw), "insufficient funds for gas * price + value");
    bytes_free(&raw);
}

static void test_reader_failure_refuses_without_admitting(void **state)
{
    struct fixture *f = *state;
    f->reader_fails = true;
    assert_int_equal(submit_transfer(f, 0, 0, 1, NULL), TXPOOL_STATE_UNAVAILABLE);
    f->reader_fails = false;
    assert_int_equal(submit_transfer(f, 0, 0, 1, NULL), TXPOOL_ADMITTED);
}

static void test_duplicates_are_already_known_even_in_flight(void **state)
{
    struct fixture *f = *state;
    struct bytes raw = make_raw(f, 0, 0, 1);
    assert_int_equal(submit(f, &raw, NULL), TXPOOL_ADMITTED);
    assert_string_equal(message_of(f, &raw), "already known");
    struct txpool_batch b;
    txpool_batch_init(&b);
    assert_int_equal(txpool_take(f->pool, 10, UINT64_MAX, &b), TC_OK);
    assert_int_equal(b.count, 1);
    assert_string_equal(message_of(f, &raw), "already known");
    /* Once committed it is gone from the pool; the state nonce now refuses it. */
    f->accounts[0].nonce = 1;
    assert_int_equal(txpool_committed(f->pool, &b.picks[0].hash, 1), 1);
    assert_string_equal(message_of(f, &raw), "nonce too low");
    txpool_batch_free(&b);
    bytes_free(&raw);
}

/* ---- queues ------------------------------------------------------------- */

static void test_nonce_gap_waits_in_future_until_filled(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(submit_transfer(f, 0, 2, 1, NULL), TXPOOL_ADMITTED);
    assert_int_equal(submit_transfer(f, 0, 3, 1, NULL), TXPOOL_ADMITTED);
    assert_stats(f, 0, 2, 0);
    assert_int_equal(txpool_next_nonce(f->pool, f->addrs[0], 0), 0);
    struct txpool_batch b;
    txpool_batch_init(&b);
    assert_int_equal(txpool_take(f->pool, 10, UINT64_MAX, &b), TC_OK);
    assert_int_equal(b.count, 0);
    assert_int_equal(submit_transfer(f, 0, 0, 1, NULL), TXPOOL_ADMITTED);
    assert_stats(f, 1, 2, 0);
    assert_int_equal(submit_transfer(f, 0, 1, 1, NULL), TXPOOL_ADMITTED);
    assert_stats(f, 4, 0, 0);
    assert_int_equal(txpool_next_nonce(f->pool, f->addrs[0], 0), 4);
    assert_int_equal(txpool_take(f->pool, 10, UINT64_MAX, &b), TC_OK);
    assert_int_equal(b.count, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(b.picks[i].nonce, i);
    txpool_batch_free(&b);
}

static void test_nonce_gap_beyond_per_sender_bound_is_too_high(void **state)
{
    struct fixture *f = *state;
    f->accounts[0].nonce = 10;
    assert_int_equal(submit_transfer(f, 0, 10 + 16, 1, NULL), TXPOOL_NONCE_TOO_HIGH);
    assert_int_equal(submit_transfer(f, 0, 10 + 15, 1, NULL), TXPOOL_ADMITTED);
    assert_stats(f, 0, 1, 0);
}

static void test_pool_limit_counts_in_flight_transactions(void **state)
{
    struct fixture *f = *state;
    f->cfg.max_txs = 6;
    f->cfg.max_per_sender = 4;
    reconfigure(f);
    for (uint64_t n = 0; n < 4; n++)
        assert_int_equal(submit_transfer(f, 0, n, 1, NULL), TXPOOL_ADMITTED);
    assert_int_equal(submit_transfer(f, 1, 0, 1, NULL), TXPOOL_ADMITTED);
    assert_int_equal(submit_transfer(f, 1, 1, 1, NULL), TXPOOL_ADMITTED);
    struct bytes raw = make_raw(f, 2, 0, 1);
    assert_string_equal(message_of(f, &raw), "txpool is full");
    bytes_free(&raw);
    struct txpool_batch b;
    txpool_batch_init(&b);
    assert_int_equal(txpool_take(f->pool, 6, UINT64_MAX, &b), TC_OK);
    assert_int_equal(b.count, 6);
    assert_int_equal(submit_transfer(f, 2, 0, 1, NULL), TXPOOL_FULL);
    /* A replacement does not grow the pool: allowed when full. */
    f->accounts[1].nonce = 0;
    assert_int_equal(txpool_return(f->pool, &b.picks[5].hash, 1), 1);
    assert_int_equal(submit_transfer(f, 1, 1, 2, NULL), TXPOOL_ADMITTED);
    txpool_batch_free(&b);
}

static void test_account_limit_counts_queued_transactions(void **state)
{
    struct fixture *f = *state;
    f->cfg.max_per_sender = 4;
    reconfigure(f);
    /* Nonces 0, 1, 2 and 3 in a window of 4: a fifth distinct nonce is both
     * beyond the window and beyond the count; with state nonce moved by the
     * commit below, the count is what refuses. */
    for (uint64_t n = 0; n < 4; n++)
        assert_int_equal(submit_transfer(f, 0, n, 1, NULL), TXPOOL_ADMITTED);
    assert_int_equal(submit_transfer(f, 0, 4, 1, NULL), TXPOOL_NONCE_TOO_HIGH);
    struct txpool_batch b;
    txpool_batch_init(&b);
    assert_int_equal(txpool_take(f->pool, 1, UINT64_MAX, &b), TC_OK);
    /* The state reader runs ahead of the pool (a speculative state): nonce 0
     * is executed, so nonce 4 is inside the window, but 4 are held. */
    f->accounts[0].nonce = 1;
    assert_int_equal(submit_transfer(f, 0, 4, 1, NULL), TXPOOL_ACCOUNT_LIMIT);
    txpool_batch_free(&b);
}

static void test_replacement_needs_ten_percent_higher_price(void **state)
{
    struct fixture *f = *state;
    uint8_t h10[32], h11[32];
    assert_int_equal(submit_transfer(f, 0, 0, 10, h10), TXPOOL_ADMITTED);
    struct bytes raw = make_raw(f, 0, 0, 10);
    struct tx tx = transfer(0, 0, 10);
    tx.value = u256_from_u64(2); /* same price, different tx */
    bytes_free(&raw);
    raw = sign_raw(f, tx, 0);
    assert_string_equal(message_of(f, &raw), "replacement transaction underpriced");
    bytes_free(&raw);
    tx = transfer(0, 0, 0);
    tx.gas_price = tx.max_fee_per_gas = tx.max_priority_fee_per_gas =
        u256_from_u64(10 * GWEI + GWEI - 1); /* +9.99...% */
    raw = sign_raw(f, tx, 0);
    assert_string_equal(message_of(f, &raw), "replacement transaction underpriced");
    bytes_free(&raw);
    struct txpool_result r;
    raw = make_raw(f, 0, 0, 11); /* +10% */
    assert_int_equal(txpool_submit_sync(f->pool, raw.ptr, raw.len, &r), TC_OK);
    assert_true(r.replaced);
    memcpy(h11, r.hash, 32);
    bytes_free(&raw);
    assert_false(txpool_contains(f->pool, h10));
    assert_true(txpool_contains(f->pool, h11));
    assert_stats(f, 1, 0, 0);
    /* A future transaction is replaceable too. */
    assert_int_equal(submit_transfer(f, 0, 5, 10, NULL), TXPOOL_ADMITTED);
    assert_int_equal(submit_transfer(f, 0, 5, 20, NULL), TXPOOL_ADMITTED);
    assert_stats(f, 1, 1, 0);
}

static void test_replacement_is_impossible_at_gas_price_zero(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(submit_transfer(f, 0, 0, 0, NULL), TXPOOL_ADMITTED);
    struct tx tx = transfer(0, 0, 0);
    tx.value = u256_from_u64(7);
    struct bytes raw = sign_raw(f, tx, 0);
    assert_string_equal(message_of(f, &raw), "replacement transaction underpriced");
    bytes_free(&raw);
}

static void test_in_flight_nonce_cannot_be_replaced(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(submit_transfer(f, 0, 0, 1, NULL), TXPOOL_ADMITTED);
    struct txpool_batch b;
    txpool_batch_init(&b);
    assert_int_equal(txpool_take(f->pool, 1, UINT64_MAX, &b), TC_OK);
    assert_int_equal(submit_transfer(f, 0, 0, 100, NULL), TXPOOL_NONCE_TOO_LOW);
    assert_int_equal(submit_transfer(f, 0, 1, 1, NULL), TXPOOL_ADMITTED);
    assert_stats(f, 1, 0, 1);
    txpool_batch_free(&b);
}

/* ---- selection, commit, return, drop ------------------------------------ */

static void test_take_orders_by_nonce_then_by_arrival_across_senders(void **state)
{
    struct fixture *f = *state;
    /* Arrival: A1 (future), B0, A0, C0, B1, A2 */
    assert_int_equal(submit_transfer(f, 0, 1, 1, NULL), TXPOOL_ADMITTED);
    assert_int_equal(submit_transfer(f, 1, 0, 1, NULL), TXPOOL_ADMITTED);
    assert_int_equal(submit_transfer(f, 0, 0, 1, NULL), TXPOOL_ADMITTED);
    assert_int_equal(submit_transfer(f, 2, 0, 1, NULL), TXPOOL_ADMITTED);
    assert_int_equal(submit_transfer(f, 1, 1, 1, NULL), TXPOOL_ADMITTED);
    assert_int_equal(submit_transfer(f, 0, 2, 1, NULL), TXPOOL_ADMITTED);
    struct txpool_batch b;
    txpool_batch_init(&b);
    assert_int_equal(txpool_take(f->pool, 100, UINT64_MAX, &b), TC_OK);
    /* Heads by arrival: B0 (seq 1), A0 (2), C0 (3); after A0, A's head is
     * A1 (seq 0), the oldest, so it goes next, then A2 (5) waits behind
     * B1 (4). */
    static const struct {
        int key;
        uint64_t nonce;
    } want[] = { { 1, 0 }, { 0, 0 }, { 0, 1 }, { 2, 0 }, { 1, 1 }, { 0, 2 } };
    assert_int_equal(b.count, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_memory_equal(b.picks[i].sender, f->addrs[want[i].key], 20);
        assert_int_equal(b.picks[i].nonce, want[i].nonce);
        struct tx tx;
        uint8_t h[32];
        assert_int_equal(tx_decode(txpool_batch_raw(&b, i), &tx, NULL), TC_OK);
        tx_hash(&tx, h);
        assert_memory_equal(h, b.picks[i].hash, 32);
        assert_int_equal(tx.nonce, want[i].nonce);
    }
    assert_stats(f, 0, 0, 6);
    /* Nothing is handed out twice. */
    assert_int_equal(txpool_take(f->pool, 100, UINT64_MAX, &b), TC_OK);
    assert_int_equal(b.count, 0);
    txpool_batch_free(&b);
}

static void test_take_respects_max_count_and_max_gas(void **state)
{
    struct fixture *f = *state;
    struct tx big = transfer(0, 0, 1);
    big.gas_limit = 100000;
    struct bytes raw = sign_raw(f, big, 0);
    assert_int_equal(submit(f, &raw, NULL), TXPOOL_ADMITTED);
    bytes_free(&raw);
    for (int k = 1; k < 4; k++)
        assert_int_equal(submit_transfer(f, k, 0, 1, NULL), TXPOOL_ADMITTED);
    struct txpool_batch b;
    txpool_batch_init(&b);
    /* 50,000 gas: the 100,000-gas head of sender 0 is skipped, two
     * 21,000-gas transfers fit. */
    assert_int_equal(txpool_take(f->pool, 10, 50000, &b), TC_OK);
    assert_int_equal(b.count, 2);
    assert_memory_equal(b.picks[0].sender, f->addrs[1], 20);
    assert_memory_equal(b.picks[1].sender, f->addrs[2], 20);
    /* The skipped sender keeps its place: first in the next block. */
    assert_int_equal(txpool_take(f->pool, 1, UINT64_MAX, &b), TC_OK);
    assert_int_equal(b.count, 1);
    assert_memory_equal(b.picks[0].sender, f->addrs[0], 20);
    assert_int_equal(b.picks[0].gas_limit, 100000);
    assert_int_equal(txpool_take(f->pool, 0, UINT64_MAX, &b), TC_OK);
    assert_int_equal(b.count, 0);
    assert_stats(f, 1, 0, 3);
    txpool_batch_free(&b);
}

static void test_committed_removes_transaction_and_lower_nonces(void **state)
{
    struct fixture *f = *state;
    uint8_t h[4][32];
    for (uint64_t n = 0; n < 4; n++)
        assert_int_equal(submit_transfer(f, 0, n, 1, h[n]), TXPOOL_ADMITTED);
    struct txpool_batch b;
    txpool_batch_init(&b);
    assert_int_equal(txpool_take(f->pool, 3, UINT64_MAX, &b), TC_OK);
    f->accounts[0].nonce = 2;
    /* Committing nonce 1 consumes nonce 0 too. */
    assert_int_equal(txpool_committed(f->pool, &h[1], 1), 2);
    assert_false(txpool_contains(f->pool, h[0]));
    assert_false(txpool_contains(f->pool, h[1]));
    assert_stats(f, 1, 0, 1);
    uint8_t unknown[1][32] = { { 0 } };
    assert_int_equal(txpool_committed(f->pool, unknown, 1), 0);
    f->accounts[0].nonce = 4;
    assert_int_equal(txpool_committed(f->pool, &h[3], 1), 2);
    assert_stats(f, 0, 0, 0);
    struct txpool_stats s;
    txpool_get_stats(f->pool, &s);
    assert_int_equal(s.senders, 0);
    txpool_batch_free(&b);
}

static void test_committed_queued_transaction_advances_follower_queue(void **state)
{
    struct fixture *f = *state;
    uint8_t h[4][32];
    for (uint64_t n = 0; n < 4; n++)
        assert_int_equal(submit_transfer(f, 0, n, 1, h[n]), TXPOOL_ADMITTED);
    /* A follower never takes: the leader's block commits nonces 0..1. */
    f->accounts[0].nonce = 2;
    assert_int_equal(txpool_committed(f->pool, h, 2), 2);
    assert_stats(f, 2, 0, 0);
    struct txpool_batch b;
    txpool_batch_init(&b);
    assert_int_equal(txpool_take(f->pool, 10, UINT64_MAX, &b), TC_OK);
    assert_int_equal(b.count, 2);
    assert_int_equal(b.picks[0].nonce, 2);
    txpool_batch_free(&b);
}

static void test_return_puts_in_flight_back_in_nonce_order(void **state)
{
    struct fixture *f = *state;
    uint8_t h[4][32], other[32];
    for (uint64_t n = 0; n < 4; n++)
        assert_int_equal(submit_transfer(f, 0, n, 1, h[n]), TXPOOL_ADMITTED);
    assert_int_equal(submit_transfer(f, 1, 0, 1, other), TXPOOL_ADMITTED);
    struct txpool_batch b;
    txpool_batch_init(&b);
    assert_int_equal(txpool_take(f->pool, 10, UINT64_MAX, &b), TC_OK);
    assert_int_equal(b.count, 5);
    assert_stats(f, 0, 0, 5);
    /* Returning nonce 1 returns 2 and 3 as well; 0 stays in flight. */
    assert_int_equal(txpool_return(f->pool, &h[1], 1), 3);
    assert_stats(f, 3, 0, 2);
    assert_int_equal(txpool_return(f->pool, &h[2], 1), 0); /* no longer in flight */
    assert_int_equal(txpool_take(f->pool, 10, UINT64_MAX, &b), TC_OK);
    assert_int_equal(b.count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_memory_equal(b.picks[i].hash, h[i + 1], 32);
    }
    /* Return everything (leader change): all pending again, and taken
     * again in the original order. */
    uint8_t all[5][32];
    memcpy(all[0], h[0], 32);
    memcpy(all[1], h[1], 32);
    memcpy(all[2], h[2], 32);
    memcpy(all[3], h[3], 32);
    memcpy(all[4], other, 32);
    assert_int_equal(txpool_return(f->pool, all, 5), 5);
    assert_stats(f, 5, 0, 0);
    assert_int_equal(txpool_take(f->pool, 10, UINT64_MAX, &b), TC_OK);
    assert_int_equal(b.count, 5);
    assert_memory_equal(b.picks[0].hash, h[0], 32);
    assert_memory_equal(b.picks[4].hash, other, 32);
    txpool_batch_free(&b);
}

static void test_drop_removes_and_opens_a_gap(void **state)
{
    struct fixture *f = *state;
    uint8_t h[3][32];
    for (uint64_t n = 0; n < 3; n++)
        assert_int_equal(submit_transfer(f, 0, n, 1, h[n]), TXPOOL_ADMITTED);
    assert_int_equal(txpool_drop(f->pool, &h[1], 1), 1);
    assert_stats(f, 1, 1, 0);
    assert_int_equal(txpool_next_nonce(f->pool, f->addrs[0], 0), 1);
    assert_int_equal(submit_transfer(f, 0, 1, 1, NULL), TXPOOL_ADMITTED);
    assert_stats(f, 3, 0, 0);
}

static void test_expire_drops_old_queued_but_not_in_flight(void **state)
{
    struct fixture *f = *state;
    uint8_t h0[32], h1[32], h2[32];
    assert_int_equal(submit_transfer(f, 0, 0, 1, h0), TXPOOL_ADMITTED);
    assert_int_equal(submit_transfer(f, 1, 0, 1, h1), TXPOOL_ADMITTED);
    f->now_ms += 30000;
    assert_int_equal(submit_transfer(f, 2, 0, 1, h2), TXPOOL_ADMITTED);
    struct txpool_batch b;
    txpool_batch_init(&b);
    assert_int_equal(txpool_take(f->pool, 1, UINT64_MAX, &b), TC_OK);
    assert_memory_equal(b.picks[0].hash, h0, 32);
    assert_int_equal(txpool_expire(f->pool, f->now_ms + 29999), 0);
    assert_int_equal(txpool_expire(f->pool, f->now_ms + 30000), 1); /* h1 only */
    assert_true(txpool_contains(f->pool, h0));
    assert_false(txpool_contains(f->pool, h1));
    assert_true(txpool_contains(f->pool, h2));
    assert_int_equal(txpool_expire(f->pool, f->now_ms + 60000), 1);
    assert_stats(f, 0, 0, 1);
    f->cfg.expiry_s = 0;
    reconfigure(f);
    assert_int_equal(submit_transfer(f, 0, 0, 1, NULL), TXPOOL_ADMITTED);
    assert_int_equal(txpool_expire(f->pool, UINT64_MAX), 0);
    txpool_batch_free(&b);
}

static void test_state_nonce_ahead_of_pool_drops_stale_queued(void **state)
{
    struct fixture *f = *state;
    uint8_t h[3][32];
    for (uint64_t n = 0; n < 3; n++)
        assert_int_equal(submit_transfer(f, 0, n, 1, h[n]), TXPOOL_ADMITTED);
    /* Nonces 0 and 1 were consumed by transactions this pool never saw. */
    f->accounts[0].nonce = 2;
    assert_int_equal(submit_transfer(f, 0, 3, 1, NULL), TXPOOL_ADMITTED);
    assert_false(txpool_contains(f->pool, h[0]));
    assert_false(txpool_contains(f->pool, h[1]));
    assert_stats(f, 2, 0, 0);
    /* Also when the new transaction is refused: the sender record goes. */
    f->accounts[1].nonce = 0;
    assert_int_equal(submit_transfer(f, 1, 0, 1, h[0]), TXPOOL_ADMITTED);
    f->accounts[1].nonce = 1;
    assert_int_equal(submit_transfer(f, 1, 0, 2, NULL), TXPOOL_NONCE_TOO_LOW);
    struct txpool_stats s;
    txpool_get_stats(f->pool, &s);
    assert_int_equal(s.senders, 1);
}

/* Found by integration.cluster.bank: a follower admits nonce 3 while its
 * state still says 1, so nonce 3 waits behind a gap; blocks sealed by others
 * then consume nonces 1 and 2 without this pool ever holding them. The
 * node's periodic resync brings the sender to the state. */
static void test_resync_frees_a_transaction_stuck_behind_consumed_nonces(void **state)
{
    struct fixture *f = *state;
    uint8_t h[32];
    f->accounts[0].nonce = 1;
    assert_int_equal(submit_transfer(f, 0, 3, 1, h), TXPOOL_ADMITTED);
    assert_stats(f, 0, 1, 0);
    f->accounts[0].nonce = 3; /* nonces 1 and 2 were sealed elsewhere */
    assert_int_equal(txpool_resync(f->pool, TXPOOL_RESYNC_MAX_SENDERS), 1);
    assert_stats(f, 1, 0, 0);
    assert_int_equal(txpool_resync(f->pool, TXPOOL_RESYNC_MAX_SENDERS), 0);
    struct txpool_batch b;
    txpool_batch_init(&b);
    assert_int_equal(txpool_take(f->pool, 10, UINT64_MAX, &b), TC_OK);
    assert_int_equal(b.count, 1);
    assert_memory_equal(b.picks[0].hash, h, 32);
    txpool_batch_free(&b);
}

static uint8_t racing_hash[32];

static void commit_racing_tx(struct fixture *f)
{
    f->accounts[0].nonce = 1;
    assert_int_equal(txpool_committed(f->pool, &racing_hash, 1), 1);
}

static void test_commit_between_account_read_and_insert_is_not_missed(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(submit_transfer(f, 0, 0, 1, racing_hash), TXPOOL_ADMITTED);
    struct txpool_batch b;
    txpool_batch_init(&b);
    assert_int_equal(txpool_take(f->pool, 1, UINT64_MAX, &b), TC_OK);
    /* Nonce 1 is admitted; its account read sees nonce 0, then nonce 0
     * commits and the pool forgets the sender before the insertion. The
     * pool must not start a new sender at the stale nonce 0 (nonce 1 would
     * wait forever behind it as a future transaction). */
    f->after_read = commit_racing_tx;
    assert_int_equal(submit_transfer(f, 0, 1, 1, NULL), TXPOOL_ADMITTED);
    assert_stats(f, 1, 0, 0);
    txpool_batch_free(&b);
}

static void test_forward_hook_sees_each_admitted_transaction_once(void **state)
{
    struct fixture *f = *state;
    txpool_set_forward(f->pool, on_forward, f);
    uint8_t h[32];
    struct bytes raw = make_raw(f, 0, 0, 1);
    assert_int_equal(submit(f, &raw, h), TXPOOL_ADMITTED);
    assert_int_equal(f->forwarded, 1);
    assert_memory_equal(f->last_forwarded, h, 32);
    assert_int_equal(submit(f, &raw, NULL), TXPOOL_ALREADY_KNOWN);
    assert_int_equal(submit_transfer(f, 0, 0, 0, NULL), TXPOOL_REPLACEMENT_UNDERPRICED);
    assert_int_equal(f->forwarded, 1);
    bytes_free(&raw);
    assert_int_equal(submit_transfer(f, 1, 0, 1, NULL), TXPOOL_ADMITTED);
    /* forward_all: queued ones only, in arrival order. */
    struct txpool_batch b;
    txpool_batch_init(&b);
    assert_int_equal(txpool_take(f->pool, 1, UINT64_MAX, &b), TC_OK);
    f->forwarded = 0;
    size_t n = 0;
    assert_int_equal(txpool_forward_all(f->pool, &n), TC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(f->forwarded, 1);
    txpool_set_forward(f->pool, NULL, NULL);
    assert_int_equal(txpool_forward_all(f->pool, &n), TC_ESTATE);
    assert_int_equal(submit_transfer(f, 2, 0, 1, NULL), TXPOOL_ADMITTED);
    assert_int_equal(f->forwarded, 1);
    txpool_batch_free(&b);
}

static void test_create_rejects_bad_configuration(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    struct txpool *pool = NULL;
    struct txpool_config cfg = f->cfg;
    cfg.account = NULL;
    assert_int_equal(txpool_create(&cfg, &pool), TC_EINVAL);
    cfg = f->cfg;
    cfg.max_txs = 0;
    assert_int_equal(txpool_create(&cfg, &pool), TC_EINVAL);
    cfg = f->cfg;
    cfg.max_per_sender = cfg.max_txs + 1;
    assert_int_equal(txpool_create(&cfg, &pool), TC_EINVAL);
    cfg = f->cfg;
    cfg.max_txs = TXPOOL_MAX_TXS + 1;
    assert_int_equal(txpool_create(&cfg, &pool), TC_EINVAL);
    assert_null(pool);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_messages_match_ethereum_clients),
        cmocka_unit_test(test_create_rejects_bad_configuration),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_admits_signed_transfer_with_its_hash),
        T(test_rejects_oversized_data_before_decoding),
        T(test_rejects_blob_and_unknown_types_as_not_supported),
        T(test_malformed_input_reports_the_decoder_reason),
        T(test_rejects_other_chain_and_unprotected_transactions),
        T(test_rejects_gas_below_intrinsic_and_above_block_limit),
        T(test_rejects_prices_below_minimum_and_tip_above_cap),
        T(test_rejects_nonce_max_value),
        T(test_rejects_invalid_signatures_as_invalid_sender),
        T(test_rejects_nonce_below_state_nonce),
        T(test_rejects_cost_above_balance),
        T(test_reader_failure_refuses_without_admitting),
        T(test_duplicates_are_already_known_even_in_flight),
        T(test_nonce_gap_waits_in_future_until_filled),
        T(test_nonce_gap_beyond_per_sender_bound_is_too_high),
        T(test_pool_limit_counts_in_flight_transactions),
        T(test_account_limit_counts_queued_transactions),
        T(test_replacement_needs_ten_percent_higher_price),
        T(test_replacement_is_impossible_at_gas_price_zero),
        T(test_in_flight_nonce_cannot_be_replaced),
        T(test_take_orders_by_nonce_then_by_arrival_across_senders),
        T(test_take_respects_max_count_and_max_gas),
        T(test_committed_removes_transaction_and_lower_nonces),
        T(test_committed_queued_transaction_advances_follower_queue),
        T(test_return_puts_in_flight_back_in_nonce_order),
        T(test_drop_removes_and_opens_a_gap),
        T(test_expire_drops_old_queued_but_not_in_flight),
        T(test_state_nonce_ahead_of_pool_drops_stale_queued),
        T(test_resync_frees_a_transaction_stuck_behind_consumed_nonces),
        T(test_commit_between_account_read_and_insert_is_not_missed),
        T(test_forward_hook_sees_each_admitted_transaction_once),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
