/*
 * txpool.h - the transaction pool: admission of raw Ethereum transactions,
 * per-sender nonce queues, and selection of ready transactions for the
 * sealer (DESIGN.md §3 steps 2-3).
 *
 * Admission. txpool_submit() does the cheap stateless checks on the
 * caller's thread (size, decoding, chain id, gas, fees, de-duplication),
 * then queues a job on the node's thread pool that recovers the sender
 * (secp256k1, the expensive part, done outside any lock), reads the
 * sender's account through the caller-supplied reader, and finally, under
 * the pool's mutex, checks nonce, balance, replacement and limits and
 * inserts the transaction. The outcome goes to a completion callback on the
 * worker thread. Rejections carry the message an Ethereum client prints
 * ("nonce too low", "already known", ...): see enum txpool_status.
 *
 * Queues. Per sender, transactions are kept in nonce order. `next` is the
 * next nonce the sealer needs from that sender: queued transactions at
 * next, next+1, ... without a gap are *pending* (ready); queued ones after
 * a gap are *future* and are promoted when the gap fills. A transaction
 * handed to the sealer is *in flight* (in a speculative block, not yet
 * committed): it is not handed out again but still counts against the
 * limits and de-duplication until txpool_committed() removes it or
 * txpool_return() makes it ready again.
 *
 * Selection. txpool_take() returns pending transactions, per sender in
 * nonce order and across senders in the arrival order of each sender's
 * ready head (FIFO, as FISCO BCOS), in O(k log s) for k transactions and s
 * ready senders: a heap of senders keyed by their head's arrival number.
 *
 * Typical use in the node:
 *
 *     struct txpool_config cfg;
 *     txpool_config_default(&cfg);
 *     cfg.rules.chain_id = 20200; cfg.account = ledger_account; ...
 *     cfg.workers = threadpool;   // borrowed; must outlive the pool
 *     struct txpool *pool;
 *     if (txpool_create(&cfg, &pool) != TC_OK) ...;
 *     // RPC (loop thread): eth_sendRawTransaction
 *     struct txpool_result early;
 *     if (txpool_submit(pool, raw, len, on_admitted, req, &early) != TC_OK)
 *         reply_error(req, early.message);      // on_admitted never called
 *     // on_admitted(req, &result) runs on a worker: marshal it to the loop
 *     // Sealer (loop thread):
 *     txpool_take(pool, 1000, block_gas_limit, &batch);
 *     // after the block is applied to the state the reader reads:
 *     txpool_committed(pool, hashes, n);
 *     // leader change, speculative blocks dropped:
 *     txpool_return(pool, hashes, n);
 *
 * Threads. Every function may be called from any thread, concurrently: the
 * pool is synchronised by one internal mutex held only for short,
 * allocation-light critical sections (never during sender recovery, the
 * account reader, or a callback). Callbacks (completion, forwarding) are
 * never called with the mutex held, so they may call back into the pool.
 * txpool_destroy() must not race with any other call.
 *
 * Memory. The pool copies every raw transaction it is given; it never keeps
 * a pointer to caller memory after a call returns, except the
 * `struct txpool_result` of an asynchronous batch (see there). Nothing it
 * returns borrows from the pool: take() and get() copy. The hash tables and
 * the ready heap are allocated once at creation for max_txs (40 to 72 bytes
 * per configured slot: 5 MB for 100,000) and never grow; each transaction
 * then costs its raw bytes plus about 250 bytes.
 *
 * Logs. Only counts (expiry, at debug level); never payloads (DESIGN.md §7).
 */
#ifndef TC_TXPOOL_TXPOOL_H
#define TC_TXPOOL_TXPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/threadpool.h"
#include "base/u256.h"
#include "chain/tx.h"

/* geth's txMaxSize: 4 slots of 32 KiB. */
#define TXPOOL_DEFAULT_MAX_TX_BYTES (128u * 1024u)
/* Upper bound on the configurable pool size (sizes the fixed hash tables). */
#define TXPOOL_MAX_TXS (1u << 22)
/* take() gives up after skipping this many senders whose head does not fit
 * the remaining gas, so that a full block never costs a scan of the pool. */
#define TXPOOL_TAKE_MAX_SKIPS 64
/* A replacement must raise both fee caps by at least this percentage (geth). */
#define TXPOOL_PRICE_BUMP_PERCENT 10

/*
 * Why a transaction was refused. txpool_status_message() gives the exact
 * text a client sees (geth's wording where geth has one).
 */
enum txpool_status {
    TXPOOL_ADMITTED = 0,
    TXPOOL_MALFORMED,          /* decoding failed; the message says why */
    TXPOOL_TYPE_NOT_SUPPORTED, /* "transaction type not supported" */
    TXPOOL_OVERSIZED,          /* "oversized data" */
    TXPOOL_ALREADY_KNOWN,      /* "already known" */
    TXPOOL_NONCE_MAX,          /* "nonce has max value" (EIP-2681) */
    TXPOOL_INVALID_CHAIN_ID,   /* "invalid chain id" */
    TXPOOL_UNPROTECTED,        /* "only replay-protected (EIP-155) transactions allowed over RPC" */
    TXPOOL_INITCODE_TOO_LARGE, /* "max initcode size exceeded" */
    TXPOOL_GAS_LIMIT,          /* "exceeds block gas limit" */
    TXPOOL_TIP_ABOVE_FEE_CAP,  /* "max priority fee per gas higher than max fee per gas" */
    TXPOOL_INTRINSIC_GAS,      /* "intrinsic gas too low" */
    TXPOOL_UNDERPRICED,        /* "transaction underpriced" */
    TXPOOL_INVALID_SENDER,     /* "invalid sender" */
    TXPOOL_STATE_UNAVAILABLE,  /* "account state unavailable" (the reader failed) */
    TXPOOL_NONCE_TOO_LOW,      /* "nonce too low" */
    TXPOOL_NONCE_TOO_HIGH,     /* "nonce too high": beyond state nonce + max_per_sender */
    TXPOOL_INSUFFICIENT_FUNDS, /* "insufficient funds for gas * price + value" */
    TXPOOL_REPLACEMENT_UNDERPRICED, /* "replacement transaction underpriced" */
    TXPOOL_ACCOUNT_LIMIT,           /* "account limit exceeded" */
    TXPOOL_FULL,                    /* "txpool is full" (pool or worker queue) */
    TXPOOL_CLOSED,                  /* "txpool is closed" (worker pool shut down) */
    TXPOOL_NO_MEMORY,               /* "out of memory" */
    TXPOOL_STATUS_COUNT
};

/* The message for a status (static, never NULL). */
const char *txpool_status_message(enum txpool_status status);

/* The TC_E* code that goes with a status (TC_OK for TXPOOL_ADMITTED). */
int txpool_status_code(enum txpool_status status);

/* The outcome of one admission. */
struct txpool_result {
    int code;                  /* TC_OK or the status's TC_E* code */
    enum txpool_status status; /* TXPOOL_ADMITTED or why not */
    const char *message;       /* static storage; "" when admitted */
    bool has_hash;             /* false when the input did not decode */
    uint8_t hash[32];          /* the transaction hash when has_hash */
    bool replaced;             /* admitted by replacing a same-nonce transaction */
};

/*
 * The account reader: the sender's nonce and balance in the state the pool
 * validates against (the ledger's latest applied state; on a leader it may
 * be its speculative state). Called on worker threads and on the caller of
 * txpool_submit_sync(), concurrently, never with the pool's mutex held; must
 * be thread-safe. Called again (at most 8 times per admission) when
 * txpool_committed() ran between the read and the insertion, so that a
 * read older than what the pool was told is never used. An unknown account is nonce 0, balance 0,
 * return 0. Returns 0 or a negative TC_E* code (the transaction is then refused with
 * TXPOOL_STATE_UNAVAILABLE).
 */
typedef int (*txpool_account_fn)(void *ctx, const uint8_t addr[20], uint64_t *nonce, u256 *balance);

/*
 * Completion of txpool_submit(): called exactly once per accepted
 * submission, on a worker thread of the thread pool (possibly before
 * txpool_submit() has returned). `result` is valid during the call only.
 */
typedef void (*txpool_done_fn)(void *ctx, const struct txpool_result *result);

/*
 * Completion of txpool_submit_batch(): every result of the batch is final.
 * Called exactly once on a worker thread.
 */
typedef void (*txpool_batch_done_fn)(void *ctx);

/*
 * The forwarding hook (followers): called once per newly admitted
 * transaction (and per transaction of txpool_forward_all()) on the thread
 * that admitted it, after the insertion and without the mutex held. `raw`
 * is valid during the call only: copy it. Must not block for long (queue
 * the bytes to the loop).
 */
typedef void (*txpool_forward_fn)(void *ctx, const uint8_t hash[32], const uint8_t *raw,
                                  size_t len);

struct txpool_config {
    struct tx_rules rules;     /* chain id and EIP-155 policy */
    size_t max_txs;            /* all transactions, in flight included (1..TXPOOL_MAX_TXS) */
    size_t max_per_sender;     /* per sender, in flight included; also the nonce gap bound */
    size_t max_tx_bytes;       /* raw size limit ("oversized data") */
    uint64_t expiry_s;         /* txpool_expire() drops queued txs older than this; 0 = never */
    u256 min_gas_price;        /* max fee per gas below it: "transaction underpriced" */
    uint64_t block_gas_limit;  /* gas limit above it: "exceeds block gas limit"; 0 = no bound */
    txpool_account_fn account; /* required */
    void *account_ctx;
    /* Borrowed; runs sender recovery. May be NULL: then only the synchronous
     * functions work. Must outlive the pool. */
    struct threadpool *workers;
    /* Clock of arrival times, in ms; NULL = clock_monotonic_ms. txpool_expire()
     * takes `now_ms` on the same clock. Called with the mutex not held. */
    uint64_t (*now_ms)(void *ctx);
    void *now_ctx;
};

/* Defaults: chain id 0 (any), unprotected allowed, 100,000 txs, 1,024 per
 * sender, 128 KiB, 600 s expiry, min price 0, no block gas bound, no reader,
 * no workers, the monotonic clock. */
void txpool_config_default(struct txpool_config *cfg);

struct txpool;

/*
 * Creates a pool. The config is copied. Returns TC_OK, TC_EINVAL (no
 * reader, a limit of 0 or above TXPOOL_MAX_TXS, max_per_sender > max_txs)
 * or TC_ENOMEM. Free with txpool_destroy().
 */
int txpool_create(const struct txpool_config *cfg, struct txpool **out);

/*
 * Waits for every admission job still running on the thread pool (their
 * callbacks run), then frees the pool and every transaction in it. NULL is
 * a no-op. No other call may be made on the pool during or after it.
 */
void txpool_destroy(struct txpool *pool);

/*
 * Sets (or, with fn NULL, clears) the forwarding hook. Admissions that
 * complete after it returns use the new hook.
 */
void txpool_set_forward(struct txpool *pool, txpool_forward_fn fn, void *ctx);

/*
 * Asynchronous admission of one raw transaction (copied; the caller's
 * buffer may be reused at once). Returns TC_OK: done(ctx, result) will be
 * called exactly once on a worker thread. Returns a negative code: done is
 * never called, and *early (if not NULL) says why (any stateless refusal,
 * "already known", or "txpool is full" when the worker queue is full, which
 * fails fast instead of blocking the caller; "txpool is closed" once the
 * thread pool is shut down). TC_EINVAL (and "txpool is closed") when the
 * pool has no workers or done is NULL. Never blocks on the workers; takes the mutex once, briefly.
 */
int txpool_submit(struct txpool *pool, const uint8_t *raw, size_t len, txpool_done_fn done,
                  void *ctx, struct txpool_result *early);

/*
 * Asynchronous admission of a batch (a JSON-RPC batch), its senders
 * recovered in parallel. raws[i] are copied. results[0..n) must stay valid
 * until the batch completes; results of transactions refused on the
 * caller's thread are filled before return. Returns TC_OK (or TC_EINVAL
 * for n == 0 / NULL arrays) and sets *async: true means done(ctx) will be
 * called once, on a worker, when all n results are final; false means all
 * results are already final and done will not be called.
 */
int txpool_submit_batch(struct txpool *pool, const struct bytes_view *raws, size_t n,
                        struct txpool_result *results, txpool_batch_done_fn done, void *ctx,
                        bool *async);

/*
 * Synchronous admission on the caller's thread (tests, tools, replay of a
 * local queue): recovery included. Fills *result and returns result->code.
 */
int txpool_submit_sync(struct txpool *pool, const uint8_t *raw, size_t len,
                       struct txpool_result *result);

/* A transaction handed to the sealer by txpool_take(). */
struct txpool_pick {
    uint8_t hash[32];
    uint8_t sender[20]; /* recovered at admission: the executor need not recover it again */
    uint64_t nonce;
    uint64_t gas_limit;
    size_t raw_offset; /* the raw transaction is batch->raw.ptr[raw_offset .. +raw_len) */
    size_t raw_len;
};

/* Output of txpool_take(): owned by the caller, reusable across calls. */
struct txpool_batch {
    struct txpool_pick *picks;
    size_t count;
    size_t cap;
    struct bytes raw; /* the raw transactions, back to back */
};

void txpool_batch_init(struct txpool_batch *batch);
/* Frees what the batch holds; it is empty and reusable afterwards. */
void txpool_batch_free(struct txpool_batch *batch);
/* The raw bytes of pick i; valid until the batch is next modified or freed. */
struct bytes_view txpool_batch_raw(const struct txpool_batch *batch, size_t i);

/*
 * Hands up to max_count pending transactions whose gas limits sum to at
 * most max_gas to the sealer, and marks them in flight. Order: per sender
 * by nonce; across senders by arrival of each sender's ready head. A
 * sender whose head does not fit the remaining gas is skipped for this
 * call (up to TXPOOL_TAKE_MAX_SKIPS of them). The batch is cleared first,
 * then filled; max_count is capped at the pool's max_txs. Returns TC_OK
 * (possibly with count 0) or TC_ENOMEM: then the batch holds what was taken
 * before memory ran out (those are in flight), possibly nothing.
 */
int txpool_take(struct txpool *pool, size_t max_count, uint64_t max_gas, struct txpool_batch *out);

/*
 * The transactions with these hashes are committed: removes them and every
 * transaction of the same sender with a lower nonce (in flight or not), and
 * moves the sender's next nonce past them. Unknown hashes are ignored (a
 * follower sees blocks of transactions it never had). Call it after the
 * block is applied to the state the account reader reads. Returns the
 * number of transactions removed.
 */
size_t txpool_committed(struct txpool *pool, const uint8_t (*hashes)[32], size_t n);

/*
 * In-flight transactions with these hashes go back to pending (their block
 * was dropped: leader change, failed speculative block). Returning a
 * sender's nonce k also returns its in-flight transactions above k, which
 * cannot be valid without it, so that nonce order is preserved; a
 * returned transaction keeps its arrival order (it is taken again first).
 * Hashes not in flight are ignored. Returns the number made pending.
 */
size_t txpool_return(struct txpool *pool, const uint8_t (*hashes)[32], size_t n);

/*
 * Removes these transactions whatever their state (the executor found them
 * invalid). Later nonces of the same sender stay, as future transactions
 * if a gap opens. Returns the number removed.
 */
size_t txpool_drop(struct txpool *pool, const uint8_t (*hashes)[32], size_t n);

/*
 * Drops queued (not in flight) transactions that arrived more than
 * expiry_s before now_ms (on the config's clock). Cost: proportional to
 * the expired and in-flight transactions, not to the pool. Returns the
 * number dropped.
 */
size_t txpool_expire(struct txpool *pool, uint64_t now_ms);

/* Bounds of one txpool_resync() call. */
#define TXPOOL_RESYNC_MAX_SENDERS 64u
#define TXPOOL_RESYNC_MAX_WALK    4096u

/*
 * Brings stuck senders up to the state: txpool_committed() only knows the
 * transactions the pool held, so when blocks of transactions sent elsewhere
 * (another node, another leader) consume a sender's nonces, the pool's next
 * nonce for that sender stays behind and its queued transactions wait for a
 * gap that will never fill. Walking from the oldest transaction (at most
 * TXPOOL_RESYNC_MAX_WALK of them), for up to max_senders senders with
 * nothing ready, reads the account (the reader, outside the mutex) and drops
 * what is below its nonce, so that the transaction at the state's nonce
 * becomes ready. The node calls it periodically. Returns the number of
 * senders moved forward.
 */
size_t txpool_resync(struct txpool *pool, size_t max_senders);

/*
 * Calls the forwarding hook, on the calling thread, for every queued (not
 * in flight) transaction in arrival order: a node that has just become a
 * follower hands the new leader what it holds. Returns TC_OK (and the
 * number forwarded in *count if not NULL), TC_ESTATE when no hook is set,
 * or TC_ENOMEM.
 */
int txpool_forward_all(struct txpool *pool, size_t *count);

struct txpool_stats {
    size_t pending;   /* ready for take() */
    size_t future;    /* waiting for a lower nonce */
    size_t in_flight; /* taken, not yet committed or returned */
    size_t senders;   /* senders with at least one transaction */
};

void txpool_get_stats(struct txpool *pool, struct txpool_stats *out);

/* True if a transaction with this hash is in the pool (in flight included). */
bool txpool_contains(struct txpool *pool, const uint8_t hash[32]);

/*
 * Appends a copy of the raw transaction with this hash to out (for
 * eth_getTransactionByHash while pending). Returns TC_OK, TC_ENOTFOUND or
 * TC_ENOMEM.
 */
int txpool_get(struct txpool *pool, const uint8_t hash[32], struct bytes *out);

/*
 * The nonce for eth_getTransactionCount(addr, "pending"): state_nonce
 * advanced past the sender's transactions in the pool that follow it
 * without a gap (in flight included).
 */
uint64_t txpool_next_nonce(struct txpool *pool, const uint8_t sender[20], uint64_t state_nonce);

#endif
