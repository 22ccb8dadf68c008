/* bench_logstore.c - append throughput of the Raft log store with one fdatasync per batch,
 * next to the raw fdatasync rate of the same disk, and CRC-32C speed.
 *
 * usage: bench_logstore [--seconds S] [DIR]
 *   DIR: where to write (default: a new directory under $TMPDIR or /tmp); it must be on the
 *   disk to be measured (a tmpfs makes fdatasync free). Files are removed at the end. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"
#include "consensus/raft/logstore.h"

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char path[1024];
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* 4 KiB written then fdatasync'ed, in a loop; append grows the file, overwrite does not.
 * Returns syncs per second. */
static double raw_fdatasync_rate(const char *dir, double seconds, bool append)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/raw.dat", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    uint8_t block[4096];
    memset(block, 0xa5, sizeof(block));
    uint64_t start = clock_monotonic_ns(), deadline = start + (uint64_t)(seconds * 1e9);
    uint64_t n = 0;
    while (n < 20 || clock_monotonic_ns() < deadline) {
        off_t off = append ? (off_t)(n * sizeof(block)) : 0;
        if (pwrite(fd, block, sizeof(block), off) != (ssize_t)sizeof(block) || fdatasync(fd) != 0) {
            perror("raw write/fdatasync");
            exit(1);
        }
        n++;
    }
    double s = (double)(clock_monotonic_ns() - start) / 1e9;
    close(fd);
    unlink(path);
    return (double)n / s;
}

/* Reopens the log just written and reports the recovery scan's speed (page cache warm). */
static void bench_reopen(const char *sub, uint64_t bytes, char *line, size_t cap)
{
    struct logstore *ls;
    char err[512];
    uint64_t start = clock_monotonic_ns();
    int rc = logstore_open(sub, NULL, &ls, err, sizeof(err));
    double s = (double)(clock_monotonic_ns() - start) / 1e9;
    if (rc != TC_OK) {
        fprintf(stderr, "reopen %s: %s: %s\n", sub, tc_strerror(rc), err);
        exit(1);
    }
    snprintf(line, cap, "reopen scan of %.0f MB (%" PRIu64 " entries): %.1f ms, %.0f MB/s",
             (double)bytes / 1e6, logstore_last_index(ls), s * 1e3, (double)bytes / s / 1e6);
    logstore_close(ls);
}

static void bench_append(const char *dir, size_t entry_bytes, int batch, double seconds,
                         char *reopen_line, size_t reopen_cap)
{
    char sub[1024];
    snprintf(sub, sizeof(sub), "%s/log-%zu-%d", dir, entry_bytes, batch);
    struct logstore *ls;
    char err[512];
    int rc = logstore_open(sub, NULL, &ls, err, sizeof(err));
    if (rc != TC_OK) {
        fprintf(stderr, "open %s: %s: %s\n", sub, tc_strerror(rc), err);
        exit(1);
    }
    uint8_t *payload = malloc(entry_bytes);
    struct rng r;
    rng_seed(&r, 1);
    rng_fill(&r, payload, entry_bytes);

    /* Bounded by time and by 1 GiB written, whichever comes first. */
    uint64_t byte_budget = 1ull << 30;
    uint64_t index = 1, syncs = 0, start = clock_monotonic_ns();
    uint64_t deadline = start + (uint64_t)(seconds * 1e9);
    while (syncs < 3 ||
           (clock_monotonic_ns() < deadline && (index - 1) * entry_bytes < byte_budget)) {
        for (int k = 0; k < batch; k++, index++) {
            rc = logstore_append(ls, index, 1, 0, payload, entry_bytes);
            if (rc != TC_OK) {
                fprintf(stderr, "append: %s\n", tc_strerror(rc));
                exit(1);
            }
        }
        rc = logstore_sync(ls);
        if (rc != TC_OK) {
            fprintf(stderr, "sync: %s\n", tc_strerror(rc));
            exit(1);
        }
        syncs++;
    }
    double s = (double)(clock_monotonic_ns() - start) / 1e9;
    uint64_t entries = index - 1;
    printf("%8zu %6d %12.0f %10.1f %10.0f %12.1f", entry_bytes, batch, (double)entries / s,
           (double)entries * (double)entry_bytes / s / 1e6, (double)syncs / s,
           s / (double)syncs * 1e6);
    fflush(stdout);
    logstore_close(ls);
    if (reopen_line)
        bench_reopen(sub, entries * (entry_bytes + LOGSTORE_RECORD_HEADER_BYTES), reopen_line,
                     reopen_cap);
    free(payload);
    remove_tree(sub);
}

static void bench_crc(void)
{
    size_t len = 1 << 20;
    uint8_t *buf = malloc(len);
    memset(buf, 0x3c, len);
    for (int portable = 0; portable < 2; portable++) {
        uint32_t crc = 0;
        uint64_t start = clock_monotonic_ns();
        int rounds = 256;
        for (int i = 0; i < rounds; i++)
            crc =
                portable ? logstore_crc32c_portable(crc, buf, len) : logstore_crc32c(crc, buf, len);
        double s = (double)(clock_monotonic_ns() - start) / 1e9;
        printf("crc32c %-28s %8.0f MB/s  (crc %08x)\n",
               portable                   ? "slicing-by-8"
               : logstore_crc32c_has_hw() ? "SSE4.2"
                                          : "slicing-by-8",
               (double)rounds * (double)len / s / 1e6, crc);
    }
    free(buf);
}

int main(int argc, char **argv)
{
    double seconds = 1.0;
    const char *given = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (argv[i][0] != '-' && !given)
            given = argv[i];
        else {
            fprintf(stderr, "usage: %s [--seconds S] [DIR]\n", argv[0]);
            return 2;
        }
    }
    if (seconds <= 0)
        seconds = 1.0;
    log_set_level(LOG_WARN);
    char dir[512];
    if (given) {
        snprintf(dir, sizeof(dir), "%s/bench-logstore-XXXXXX", given);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof(dir), "%s/bench-logstore-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    }
    if (!mkdtemp(dir)) {
        perror(dir);
        return 1;
    }
    printf("command:");
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\ndirectory: %s (segments 64 MiB, fsync on), %.1f s per row\n\n", dir, seconds);

    double append_rate = raw_fdatasync_rate(dir, seconds, true);
    double overwrite_rate = raw_fdatasync_rate(dir, seconds, false);
    printf("raw 4 KiB pwrite+fdatasync: append %.0f syncs/s (%.1f us), overwrite %.0f syncs/s "
           "(%.1f us)\n",
           append_rate, 1e6 / append_rate, overwrite_rate, 1e6 / overwrite_rate);
    /* The disk may be shared: each row also shows the raw append rate measured just before it. */
    printf("\n%8s %6s %12s %10s %10s %12s %10s\n", "entry_B", "batch", "entries/s", "MB/s",
           "syncs/s", "us/batch", "raw/s");
    static const size_t sizes[] = { 200, 4096, 256 * 1024 };
    static const int batches[] = { 1, 16, 256 };
    char reopen[3][256] = { "", "", "" };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (size_t j = 0; j < sizeof(batches) / sizeof(batches[0]); j++) {
            double raw = raw_fdatasync_rate(dir, seconds / 4, true);
            bool widest = j + 1 == sizeof(batches) / sizeof(batches[0]);
            bench_append(dir, sizes[i], batches[j], seconds, widest ? reopen[i] : NULL,
                         sizeof(reopen[i]));
            printf(" %10.0f\n", raw);
        }
    }
    printf("\n");
    for (size_t i = 0; i < 3; i++)
        printf("%s\n", reopen[i]);
    bench_crc();
    remove_tree(dir);
    return 0;
}
