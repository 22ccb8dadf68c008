/*
 * bench_store.c - store throughput: batches of 1,000 puts of 200-byte values
 * under 32-byte keys (the shape of a block's write-set), plain vs sealed and
 * with vs without sync, then random point reads of the written keys after a
 * flush (so that they come from SST files and the block cache, not the
 * memtable).
 *
 * Each configuration gets a fresh database in a temporary directory under
 * the given parent (default /tmp), removed afterwards. Batch time is split
 * into building the batch (where the sealed store encrypts and hashes) and
 * store_write (where RocksDB appends to its log, and fsyncs with sync).
 *
 * Usage: bench_store [batches] [parent-dir]   (default 40 batches, /tmp)
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"
#include "store/store.h"

#define PUTS_PER_BATCH 1000
#define KEY_BYTES      32
#define VALUE_BYTES    200
#define READS          50000
#define SEED           20261124u

struct result {
    double build_ms_per_batch;
    double write_ms_per_batch;
    double puts_per_s;
    double gets_per_s;
};

static void fatal(const char *what, int rc)
{
    fprintf(stderr, "bench_store: %s: %s (%s)\n", what, tc_strerror(rc), store_last_error());
    exit(1);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void key_of(uint64_t i, uint8_t key[KEY_BYTES])
{
    struct rng r;
    rng_seed(&r, SEED ^ (i * 0x9e3779b97f4a7c15ull));
    rng_fill(&r, key, KEY_BYTES);
}

static struct result run(const char *parent, bool sealed, bool sync, int batches)
{
    char dir[512], path[600], err[512];
    snprintf(dir, sizeof(dir), "%s/tc-bench-store-XXXXXX", parent);
    if (!mkdtemp(dir)) {
        perror("bench_store: mkdtemp");
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/db", dir);
    struct store_options o = { .path = path, .sealed = sealed };
    for (int i = 0; i < STORE_MASTER_KEY_BYTES; i++)
        o.master_key[i] = (uint8_t)(i + 1);
    struct store *s;
    int rc = store_open(&o, &s, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "bench_store: %s\n", err);
        exit(1);
    }
    struct rng r;
    rng_seed(&r, SEED);
    uint8_t value[VALUE_BYTES], key[KEY_BYTES];
    uint64_t build_ns = 0, write_ns = 0;
    for (int b = 0; b < batches; b++) {
        uint64_t t0 = clock_monotonic_ns();
        struct store_batch *batch;
        if ((rc = store_batch_new(s, &batch)))
            fatal("batch", rc);
        for (int i = 0; i < PUTS_PER_BATCH; i++) {
            key_of((uint64_t)b * PUTS_PER_BATCH + (uint64_t)i, key);
            rng_fill(&r, value, sizeof(value));
            rc = store_batch_put(batch, (enum store_ns)(i % STORE_NS_COUNT), key, sizeof(key),
                                 value, sizeof(value));
            if (rc)
                fatal("put", rc);
        }
        uint64_t t1 = clock_monotonic_ns();
        if ((rc = store_write(s, batch, sync)))
            fatal("write", rc);
        uint64_t t2 = clock_monotonic_ns();
        store_batch_free(batch);
        build_ns += t1 - t0;
        write_ns += t2 - t1;
    }
    if ((rc = store_flush(s)))
        fatal("flush", rc);

    struct bytes v;
    bytes_init(&v);
    uint64_t total = (uint64_t)batches * PUTS_PER_BATCH;
    uint64_t t0 = clock_monotonic_ns();
    for (int i = 0; i < READS; i++) {
        uint64_t n = rng_below(&r, total);
        key_of(n, key);
        rc = store_get(s, (enum store_ns)(n % PUTS_PER_BATCH % STORE_NS_COUNT), key, sizeof(key),
                       &v);
        if (rc || v.len != VALUE_BYTES)
            fatal("get", rc ? rc : TC_ECORRUPT);
    }
    uint64_t read_ns = clock_monotonic_ns() - t0;
    bytes_free(&v);
    store_close(s);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);

    struct result res;
    res.build_ms_per_batch = (double)build_ns / 1e6 / batches;
    res.write_ms_per_batch = (double)write_ns / 1e6 / batches;
    res.puts_per_s = (double)total * 1e9 / (double)(build_ns + write_ns);
    res.gets_per_s = (double)READS * 1e9 / (double)read_ns;
    return res;
}

int main(int argc, char **argv)
{
    int batches = argc > 1 ? atoi(argv[1]) : 40;
    const char *parent = argc > 2 ? argv[2] : "/tmp";
    if (batches <= 0) {
        fprintf(stderr, "usage: bench_store [batches > 0] [parent-dir]\n");
        return 2;
    }
    log_set_stderr(false);
    printf("command:");
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n%d batches x %d puts of %d-byte values, %d-byte keys; %d point reads after "
           "flush\n\n",
           batches, PUTS_PER_BATCH, VALUE_BYTES, KEY_BYTES, READS);
    printf("%-7s %-5s %14s %14s %12s %12s\n", "mode", "sync", "build ms/batch", "write ms/batch",
           "puts/s", "gets/s");
    for (int sealed = 0; sealed <= 1; sealed++) {
        for (int sync = 0; sync <= 1; sync++) {
            struct result res = run(parent, sealed, sync, batches);
            printf("%-7s %-5s %14.2f %14.2f %12.0f %12.0f\n", sealed ? "sealed" : "plain",
                   sync ? "yes" : "no", res.build_ms_per_batch, res.write_ms_per_batch,
                   res.puts_per_s, res.gets_per_s);
            fflush(stdout);
        }
    }
    return 0;
}
