/*
 * bench_crypto.c - crypto throughput, each figure side by side with its
 * reference in one run:
 *   (a) sender recovery (hash, r, s, recid -> address): ecdsa_recover_address
 *       vs libsecp256k1 called directly, on one core, same pre-signed set;
 *   (b) keccak256 vs OpenSSL's EVP SHA3-256 (the same permutation) on 4 KiB
 *       inputs, and keccak256 latency on 32- and 64-byte inputs;
 *   (c) AES-256-GCM seal on 1 KiB and 64 KiB messages.
 * Each pair is timed in alternating short samples and the fastest sample of
 * each side is reported (see race()), so that a noisy neighbour on a shared
 * machine hurts both sides alike. Usage: bench_crypto [seconds] (seconds per
 * comparison, default 3; the whole run takes about 5x that).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/rng.h"
#include "crypto/aead.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"

#define SIG_COUNT       512
#define DEFAULT_SECONDS 3.0

static volatile uint8_t sink;

struct sig_set {
    uint8_t hash[SIG_COUNT][32], r[SIG_COUNT][32], s[SIG_COUNT][32];
    int recid[SIG_COUNT];
    uint8_t addr[SIG_COUNT][20];
};

static struct sig_set sigs;
static secp256k1_context *direct_ctx;

/* One measured workload: runs `batch` operations. */
typedef void (*work_fn)(size_t batch);

/* Nanoseconds per operation of one timed sample of `batch` operations. */
static double sample_ns_per_op(work_fn fn, size_t batch)
{
    uint64_t start = clock_monotonic_ns();
    fn(batch);
    return (double)(clock_monotonic_ns() - start) / (double)batch;
}

static void fatal(const char *what)
{
    fprintf(stderr, "bench_crypto: %s\n", what);
    exit(1);
}

static void make_signatures(uint64_t seed)
{
    struct rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < SIG_COUNT; i++) {
        uint8_t key[32];
        do {
            rng_fill(&r, key, sizeof(key));
        } while (ecdsa_address_from_seckey(key, sigs.addr[i]) != TC_OK);
        rng_fill(&r, sigs.hash[i], 32);
        if (ecdsa_sign_recoverable(key, sigs.hash[i], sigs.r[i], sigs.s[i], &sigs.recid[i]) !=
            TC_OK)
            fatal("signing failed");
    }
}

static size_t sig_cursor;

static void recover_ours(size_t batch)
{
    for (size_t k = 0; k < batch; k++) {
        size_t i = sig_cursor++ % SIG_COUNT;
        uint8_t addr[20];
        if (ecdsa_recover_address(sigs.hash[i], sigs.r[i], sigs.s[i], sigs.recid[i], true, addr) !=
                TC_OK ||
            memcmp(addr, sigs.addr[i], 20) != 0)
            fatal("ecdsa_recover_address gave a wrong answer");
        sink ^= addr[0];
    }
}

static void recover_direct(size_t batch)
{
    for (size_t k = 0; k < batch; k++) {
        size_t i = sig_cursor++ % SIG_COUNT;
        uint8_t compact[64], full[65], digest[32];
        size_t full_len = sizeof(full);
        secp256k1_ecdsa_recoverable_signature sig;
        secp256k1_pubkey pk;
        memcpy(compact, sigs.r[i], 32);
        memcpy(compact + 32, sigs.s[i], 32);
        if (!secp256k1_ecdsa_recoverable_signature_parse_compact(direct_ctx, &sig, compact,
                                                                 sigs.recid[i]) ||
            !secp256k1_ecdsa_recover(direct_ctx, &pk, &sig, sigs.hash[i]))
            fatal("direct recovery failed");
        secp256k1_ec_pubkey_serialize(direct_ctx, full, &full_len, &pk, SECP256K1_EC_UNCOMPRESSED);
        keccak256(full + 1, 64, digest);
        if (memcmp(digest + 12, sigs.addr[i], 20) != 0)
            fatal("direct recovery gave a wrong answer");
        sink ^= digest[12];
    }
}

static uint8_t hash_input[4096];
static size_t hash_len;
static EVP_MD *md_sha3;
static EVP_MD_CTX *md_ctx;

static void hash_keccak(size_t batch)
{
    uint8_t out[32];
    for (size_t k = 0; k < batch; k++) {
        hash_input[0] = (uint8_t)k;
        keccak256(hash_input, hash_len, out);
        sink ^= out[0];
    }
}

static void hash_openssl_sha3(size_t batch)
{
    uint8_t out[32];
    unsigned int out_len;
    for (size_t k = 0; k < batch; k++) {
        hash_input[0] = (uint8_t)k;
        if (EVP_DigestInit_ex(md_ctx, md_sha3, NULL) != 1 ||
            EVP_DigestUpdate(md_ctx, hash_input, hash_len) != 1 ||
            EVP_DigestFinal_ex(md_ctx, out, &out_len) != 1)
            fatal("EVP SHA3-256 failed");
        sink ^= out[0];
    }
}

static uint8_t gcm_key[32], gcm_nonce[12], gcm_tag[16];
static uint8_t *gcm_in, *gcm_out;
static size_t gcm_len;

static void seal_gcm(size_t batch)
{
    for (size_t k = 0; k < batch; k++) {
        gcm_nonce[0] = (uint8_t)k;
        if (aead_seal(gcm_key, gcm_nonce, NULL, 0, gcm_in, gcm_len, gcm_out, gcm_tag) != TC_OK)
            fatal("aead_seal failed");
        sink ^= gcm_tag[0];
    }
}

/*
 * Times a and b in alternating short samples for about `seconds` in all and
 * keeps each side's fastest sample (ns per operation). Short samples that
 * alternate make the comparison fair on a shared machine: a preempted sample
 * is simply not the fastest, and both sides see the same quiet moments.
 */
static void race(work_fn a, work_fn b, size_t batch, double seconds, double *best_a_ns,
                 double *best_b_ns)
{
    uint64_t start = clock_monotonic_ns();
    *best_a_ns = *best_b_ns = 1e300;
    a(batch); /* warm caches and lazily initialised state */
    if (b != NULL)
        b(batch);
    do {
        double t = sample_ns_per_op(a, batch);
        if (t < *best_a_ns)
            *best_a_ns = t;
        if (b != NULL) {
            t = sample_ns_per_op(b, batch);
            if (t < *best_b_ns)
                *best_b_ns = t;
        }
    } while ((double)(clock_monotonic_ns() - start) < seconds * 1e9);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : DEFAULT_SECONDS;
    if (!(seconds >= 0.1 && seconds <= 60))
        fatal("usage: bench_crypto [seconds per comparison, 0.1..60]");
    printf("command: %s", argv[0]);
    for (int i = 1; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n%.1f s per comparison; fastest of alternating short samples, one thread\n\n",
           seconds);

    direct_ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    md_sha3 = EVP_MD_fetch(NULL, "SHA3-256", NULL);
    md_ctx = EVP_MD_CTX_new();
    gcm_in = calloc(1, 65536);
    gcm_out = malloc(65536);
    if (direct_ctx == NULL || md_sha3 == NULL || md_ctx == NULL || gcm_in == NULL ||
        gcm_out == NULL)
        fatal("setup failed");
    make_signatures(1);

    double ours, direct;
    race(recover_ours, recover_direct, 8, seconds, &ours, &direct);
    printf("%-44s %12s %12s %8s\n", "(a) sender recovery, one core", "ours", "direct", "ratio");
    printf("%-44s %12.0f %12.0f %8.3f\n", "    recoveries/s (hash,r,s,recid -> address)",
           1e9 / ours, 1e9 / direct, direct / ours);

    double k4, s4;
    hash_len = 4096;
    race(hash_keccak, hash_openssl_sha3, 4, seconds, &k4, &s4);
    printf("\n%-44s %12s %12s %8s\n", "(b) hashing", "keccak256", "EVP SHA3", "ratio");
    printf("%-44s %12.1f %12.1f %8.3f\n", "    4 KiB inputs, MB/s", 4096 * 1e3 / k4,
           4096 * 1e3 / s4, s4 / k4);
    double k32, s32, k64, s64;
    hash_len = 32;
    race(hash_keccak, hash_openssl_sha3, 64, seconds, &k32, &s32);
    hash_len = 64;
    race(hash_keccak, hash_openssl_sha3, 64, seconds, &k64, &s64);
    printf("%-44s %12.1f %12.1f %8.3f\n", "    32-byte inputs, ns/hash", k32, s32, s32 / k32);
    printf("%-44s %12.1f %12.1f %8.3f\n", "    64-byte inputs, ns/hash", k64, s64, s64 / k64);
    printf("    (ratio = keccak256 speed / SHA3-256 speed; EVP pays init+final per hash)\n");

    printf("\n%-44s %12s\n", "(c) AES-256-GCM seal (aead_seal)", "MB/s");
    double t1k, t64k, unused;
    gcm_len = 1024;
    race(seal_gcm, NULL, 64, seconds / 2, &t1k, &unused);
    gcm_len = 65536;
    race(seal_gcm, NULL, 2, seconds / 2, &t64k, &unused);
    printf("    %-40s %12.1f\n", "1 KiB messages", 1024 * 1e3 / t1k);
    printf("    %-40s %12.1f\n", "64 KiB messages", 65536 * 1e3 / t64k);

    secp256k1_context_destroy(direct_ctx);
    EVP_MD_CTX_free(md_ctx);
    EVP_MD_free(md_sha3);
    free(gcm_in);
    free(gcm_out);
    return 0;
}
