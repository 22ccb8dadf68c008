/*
 * bench_ledger.c - ledger apply throughput: blocks of N signed transfers with
 * receipts (every third with a log) and a write-set of two distinct account
 * updates per transfer (sender and recipient), each applied as one synced
 * batch (ledger_apply), on a plain and on a sealed store; then receipt
 * lookups by transaction hash. The blocks are built and signed before the
 * clock starts.
 *
 *     bench_ledger [BLOCKS [TXS_PER_BLOCK]]     defaults: 20 blocks of 1000
 */
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "store/ledger.h"
#include "store/store.h"

#include "../tests/unit/store/test_ledger_fixture.h"

#define BENCH_SEED 20261124u

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Adds the two account updates of every transfer: 2 * n distinct addresses. */
static int add_transfer_accounts(struct lfx_block *b)
{
    struct bytes acct;
    bytes_init(&acct);
    int rc = 0;
    for (size_t i = 0; i < 2 * b->n && rc == 0; i++) {
        uint8_t addr[20];
        memset(addr, 0x5b, 20);
        uint64_t id = b->number * 1000000 + i;
        memcpy(addr, &id, sizeof(id));
        struct state_account a;
        memset(&a, 0, sizeof(a));
        a.nonce = b->number;
        a.balance = u256_from_u64(1000000000000ull - i);
        memcpy(a.code_hash, STATE_EMPTY_CODE_HASH, 32);
        bytes_clear(&acct);
        if ((rc = state_account_encode(&a, &acct)) == 0)
            rc = writeset_put(&b->ws, WRITESET_NS_ACCOUNT, addr, 20, acct.ptr, acct.len);
    }
    bytes_free(&acct);
    return rc;
}

struct result {
    double apply_s;
    double read_s;
    size_t reads;
};

static int run(bool sealed, size_t blocks, size_t txs, struct result *res)
{
    char dir[] = "/tmp/tc-bench-ledger-XXXXXX";
    if (!mkdtemp(dir))
        return TC_EIO;
    struct genesis_config g;
    struct genesis_alloc alloc[LFX_ACCOUNTS];
    lfx_genesis(&g, alloc);
    struct store_options o = { .path = dir, .sealed = sealed };
    memset(o.master_key, 0x42, sizeof(o.master_key));
    char err[512];
    struct store *s = NULL;
    struct ledger *l = NULL;
    struct lfx_block *bs = calloc(blocks, sizeof(*bs));
    int rc = bs ? 0 : TC_ENOMEM;
    if (rc == 0 && ((rc = store_open(&o, &s, err, sizeof(err))) ||
                    (rc = ledger_open(s, &g, &l, err, sizeof(err)))))
        fprintf(stderr, "bench_ledger: %s\n", err);
    struct ledger_head h;
    memset(&h, 0, sizeof(h));
    if (rc == 0)
        ledger_head(l, &h);
    for (size_t i = 0; i < blocks && rc == 0; i++) {
        const uint8_t *ph = i ? bs[i - 1].hash : h.hash;
        const uint8_t *pr = i ? bs[i - 1].block.header.state_root : h.state_root;
        if ((rc = lfx_begin(&bs[i], i + 1, txs, BENCH_SEED)) ||
            (rc = add_transfer_accounts(&bs[i])) || (rc = lfx_finish(&bs[i], ph, pr)))
            fprintf(stderr, "bench_ledger: cannot build block %zu: %s\n", i + 1, tc_strerror(rc));
    }
    uint64_t t0 = clock_monotonic_ns();
    for (size_t i = 0; i < blocks && rc == 0; i++)
        if ((rc = ledger_apply(l, &bs[i].entry, i + 1, 1)))
            fprintf(stderr, "bench_ledger: apply: %s\n", ledger_last_error());
    uint64_t t1 = clock_monotonic_ns();
    res->reads = 0;
    for (size_t i = 0; i < blocks && rc == 0; i++)
        for (size_t k = 0; k < bs[i].n && rc == 0; k++) {
            uint8_t th[32];
            keccak256(bs[i].txs[k].ptr, bs[i].txs[k].len, th);
            struct ledger_receipt r;
            rc = ledger_receipt(l, th, &r);
            ledger_receipt_free(&r);
            res->reads++;
        }
    uint64_t t2 = clock_monotonic_ns();
    res->apply_s = (double)(t1 - t0) / 1e9;
    res->read_s = (double)(t2 - t1) / 1e9;
    for (size_t i = 0; bs && i < blocks; i++)
        lfx_free(&bs[i]);
    free(bs);
    ledger_close(l);
    store_close(s);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}

int main(int argc, char **argv)
{
    size_t blocks = argc > 1 ? strtoull(argv[1], NULL, 10) : 20;
    size_t txs = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000;
    if (blocks == 0 || blocks > 100000 || txs == 0 || txs > 10000) {
        fprintf(stderr, "usage: %s [BLOCKS (1..100000) [TXS_PER_BLOCK (1..10000)]]\n", argv[0]);
        return 2;
    }
    log_set_stderr(false);
    printf("command: %s %zu %zu\n", argv[0], blocks, txs);
    printf("ledger_apply: %zu blocks x %zu transfers (receipts, %zu account writes/block), "
           "one synced batch per block\n\n",
           blocks, txs, 2 * txs);
    printf("%-8s %10s %10s %12s %16s\n", "store", "blocks/s", "tx/s", "ms/block",
           "receipt reads/s");
    for (int sealed = 0; sealed < 2; sealed++) {
        struct result r;
        if (run(sealed, blocks, txs, &r) != 0)
            return 1;
        printf("%-8s %10.1f %10.0f %12.2f %16.0f\n", sealed ? "sealed" : "plain",
               (double)blocks / r.apply_s, (double)(blocks * txs) / r.apply_s,
               1000.0 * r.apply_s / (double)blocks, (double)r.reads / r.read_s);
    }
    return 0;
}
