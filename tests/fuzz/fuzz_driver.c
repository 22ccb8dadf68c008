/*
 * fuzz_driver.c - runs a libFuzzer target without libFuzzer.
 *
 * Linked into each fuzz_*.c when the build is not a fuzzing build, so that
 * `make test` replays every seed-corpus file and a fixed, printed number of
 * seeded random mutations of them through LLVMFuzzerTestOneInput. It proves
 * the harness still builds and that the corpus stays clean; it is not a
 * substitute for `make fuzz`.
 *   usage: fuzz_xxx CORPUS_DIR [--seed S] [--runs N]
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (1 << 20)

static size_t read_file(const char *path, uint8_t *buf)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, FUZZ_MAX_INPUT, f);
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR [--seed S] [--runs N]\n", argv[0]);
        return 2;
    }
    uint64_t seed = 1;
    long runs = 20000;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seed") == 0)
            seed = strtoull(argv[i + 1], NULL, 0);
        else if (strcmp(argv[i], "--runs") == 0)
            runs = strtol(argv[i + 1], NULL, 0);
    }
    printf("fuzz driver: corpus %s seed %llu runs %ld\n", argv[1], (unsigned long long)seed, runs);

    static uint8_t inputs[64][4096];
    static size_t sizes[64];
    size_t count = 0;
    static uint8_t buf[FUZZ_MAX_INPUT];
    DIR *d = opendir(argv[1]);
    if (d) {
        struct dirent *e;
        char path[4096];
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
            size_t n = read_file(path, buf);
            LLVMFuzzerTestOneInput(buf, n);
            if (count < 64 && n <= sizeof(inputs[0])) {
                memcpy(inputs[count], buf, n);
                sizes[count++] = n;
            }
        }
        closedir(d);
    }
    struct rng r;
    rng_seed(&r, seed);
    for (long i = 0; i < runs; i++) {
        size_t n;
        if (count && rng_below(&r, 4) != 0) {
            size_t k = rng_below(&r, count);
            n = sizes[k];
            memcpy(buf, inputs[k], n);
            size_t flips = 1 + rng_below(&r, 4);
            for (size_t j = 0; j < flips && n; j++)
                buf[rng_below(&r, n)] ^= (uint8_t)(1u << rng_below(&r, 8));
            if (rng_below(&r, 4) == 0)
                n = rng_below(&r, n + 1);
        } else {
            n = rng_below(&r, 256);
            rng_fill(&r, buf, n);
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("fuzz driver: %ld inputs clean\n", runs + (long)count);
    return 0;
}
