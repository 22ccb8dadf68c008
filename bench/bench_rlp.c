/*
 * bench_rlp.c - RLP and transaction codec costs on a typical transfer.
 *
 * The input is a signed EIP-1559 ETH transfer (chain id 1, empty data and
 * access list, 20-byte `to`, 1 ETH value), as eth_sendRawTransaction would
 * receive it. Measured per operation, best of a few rounds:
 *   rlp_validate     strict recursive check of the RLP payload only
 *   tx_decode        full decode into struct tx (every field, canonical checks)
 *   tx_encode        re-encoding into a reused buffer
 *   tx_hash          keccak256 of the streamed encoding
 *   tx_signing_hash  keccak256 of the to-be-signed form
 *   tx_sender        signing hash + secp256k1 recovery (for scale)
 *   usage: bench_rlp [iterations]   (default 2000000, split into ROUNDS rounds;
 *                                    the hashes run 1/4 of them, tx_sender 1/100)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "chain/tx.h"
#include "codec/rlp.h"

/*
 * Short rounds, best one kept: on a shared machine a short round is more
 * likely to run without being preempted.
 */
#define ROUNDS 20

/* Keeps the compiler from discarding results. */
static volatile uint64_t sink;

enum op {
    OP_VALIDATE,
    OP_DECODE,
    OP_ENCODE,
    OP_HASH,
    OP_SIGNING_HASH,
    OP_SENDER,
};

static double run(enum op op, const struct bytes *raw, const struct tx *tx, long iterations)
{
    struct bytes out;
    bytes_init(&out);
    double best = 0;
    long per_round = iterations / ROUNDS > 0 ? iterations / ROUNDS : 1;
    for (int round = 0; round < ROUNDS; round++) {
        uint64_t t0 = clock_monotonic_ns();
        for (long i = 0; i < per_round; i++) {
            struct tx decoded;
            uint8_t h[32];
            switch (op) {
            case OP_VALIDATE:
                sink += (uint64_t)rlp_validate(bytes_view_of(raw->ptr + 1, raw->len - 1),
                                               RLP_MAX_DEPTH);
                break;
            case OP_DECODE:
                sink += (uint64_t)tx_decode(bytes_as_view(raw), &decoded, NULL);
                sink += decoded.gas_limit;
                break;
            case OP_ENCODE:
                bytes_clear(&out);
                sink += (uint64_t)tx_encode(tx, &out);
                sink += out.len;
                break;
            case OP_HASH:
                tx_hash(tx, h);
                sink += h[0];
                break;
            case OP_SIGNING_HASH:
                tx_signing_hash(tx, h);
                sink += h[0];
                break;
            case OP_SENDER:
                sink += (uint64_t)tx_sender(tx, h, NULL);
                break;
            }
        }
        double ns = (double)(clock_monotonic_ns() - t0) / (double)per_round;
        if (round == 0 || ns < best)
            best = ns;
    }
    bytes_free(&out);
    return best;
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? strtol(argv[1], NULL, 0) : 2000000;
    if (iterations < 2000) {
        fprintf(stderr, "usage: %s [iterations >= 2000]\n", argv[0]);
        return 2;
    }
    static const uint8_t seckey[32] = { 0x4c, 0x08, 0x83, 0xa6, 0x91, 0x02, 0x93, 0x7d,
                                        0x62, 0x31, 0x47, 0x1b, 0x5d, 0xbb, 0x62, 0x04,
                                        0xfe, 0x51, 0x29, 0x61, 0x70, 0x82, 0x79, 0x2a,
                                        0xe4, 0x68, 0xd0, 0x1a, 0x3f, 0x36, 0x23, 0x18 };
    struct tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = TX_DYNAMIC_FEE;
    tx.chain_id = 1;
    tx.nonce = 42;
    tx.max_priority_fee_per_gas = u256_from_u64(1500000000);
    tx.max_fee_per_gas = u256_from_u64(30000000000ull);
    tx.gas_limit = 21000;
    tx.has_to = true;
    memset(tx.to, 0x35, sizeof(tx.to));
    tx.value = u256_from_u64(1000000000000000000ull);
    if (tx_sign(&tx, seckey) != 0) {
        fprintf(stderr, "signing failed\n");
        return 1;
    }
    struct bytes raw;
    bytes_init(&raw);
    if (tx_encode(&tx, &raw) != 0)
        return 1;

    printf("# command: %s %ld\n", argv[0], iterations);
    printf("# input: signed EIP-1559 transfer, %zu bytes; best of %d rounds\n", raw.len, ROUNDS);
    printf("%-18s %12s %12s\n", "operation", "ns/op", "ops/s");
    static const struct {
        enum op op;
        const char *name;
        long divisor;
    } ops[] = {
        { OP_VALIDATE, "rlp_validate", 1 },
        { OP_DECODE, "tx_decode", 1 },
        { OP_ENCODE, "tx_encode", 1 },
        { OP_HASH, "tx_hash", 4 },
        { OP_SIGNING_HASH, "tx_signing_hash", 4 },
        { OP_SENDER, "tx_sender", 100 },
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        double ns = run(ops[i].op, &raw, &tx, iterations / ops[i].divisor);
        printf("%-18s %12.1f %12.0f\n", ops[i].name, ns, 1e9 / ns);
    }
    bytes_free(&raw);
    return 0;
}
