/*
 * tx.c - the tx suite of teechain-conformance (TransactionTests).
 *
 * Each case has "txbytes" and per-fork results. The expected result is
 * result.Cancun; a few malformed-input cases list only earlier forks, and
 * then the latest earlier fork listed is used (the rules only tighten from
 * fork to fork, and each of those cases is a rejection). A valid case must
 * decode, pass tx_validate() for chain id 1 (pre-EIP-155 signatures
 * allowed, as on Ethereum), give exactly the expected hash, sender and
 * intrinsic gas, and re-encode to the same bytes. An exception case must be
 * rejected; with -v the expected exception and our reason are printed.
 * Type-3 (blob) transactions are skipped, decided by the type byte.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/error.h"
#include "chain/tx.h"
#include "conformance.h"

#define BLOB_TX_TYPE 3

/* Forks in order; the expectation is taken from Cancun or the latest fork before it. */
static const char *const forks[] = {
    "Frontier", "Homestead", "EIP150", "EIP158", "Byzantium", "Constantinople", "ConstantinopleFix",
    "Istanbul", "Berlin",    "London", "Paris",  "Shanghai",  "Cancun",
};

static const cJSON *expected_result(const cJSON *c, const char **fork)
{
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(c, "result");
    for (int i = (int)(sizeof(forks) / sizeof(forks[0])) - 1; i >= 0; i--) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(result, forks[i]);
        if (cJSON_IsObject(r)) {
            *fork = forks[i];
            return r;
        }
    }
    return NULL;
}

static void check_valid(struct conf_stats *st, const char *path, const char *name,
                        const struct tx *tx, struct bytes_view raw, const cJSON *want)
{
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive(want, "hash");
    const cJSON *sender = cJSON_GetObjectItemCaseSensitive(want, "sender");
    const cJSON *gas = cJSON_GetObjectItemCaseSensitive(want, "intrinsicGas");
    uint8_t want_hash[32], want_sender[20], got_hash[32], got_sender[20];
    const char *reason = "";
    struct tx_rules rules = { .chain_id = 1, .allow_unprotected = true };
    if (!cJSON_IsString(hash) || !cJSON_IsString(sender) || !cJSON_IsString(gas) ||
        hex_decode_exact(hash->valuestring, want_hash, 32) != 0 ||
        hex_decode_exact(sender->valuestring, want_sender, 20) != 0) {
        conf_fail(st, path, name, "malformed expected result");
        return;
    }
    int rc = tx_validate(tx, &rules, got_sender, &reason);
    if (rc != 0) {
        conf_fail(st, path, name, "valid transaction rejected: %s (%s)", reason, tc_strerror(rc));
        return;
    }
    tx_hash(tx, got_hash);
    if (memcmp(got_hash, want_hash, 32) != 0) {
        conf_fail(st, path, name, "hash differs");
        return;
    }
    if (memcmp(got_sender, want_sender, 20) != 0) {
        conf_fail(st, path, name, "sender differs");
        return;
    }
    uint64_t want_gas = strtoull(gas->valuestring, NULL, 16);
    if (tx_intrinsic_gas(tx) != want_gas) {
        conf_fail(st, path, name, "intrinsic gas %" PRIu64 ", expected %" PRIu64,
                  tx_intrinsic_gas(tx), want_gas);
        return;
    }
    struct bytes again;
    bytes_init(&again);
    rc = tx_encode(tx, &again);
    if (rc != 0 || !bytes_view_eq(bytes_as_view(&again), raw))
        conf_fail(st, path, name, "re-encoding differs from txbytes");
    else
        conf_pass(st, path, name);
    bytes_free(&again);
}

static void run_case(struct conf_stats *st, const char *path, const cJSON *c)
{
    const cJSON *txbytes = cJSON_GetObjectItemCaseSensitive(c, "txbytes");
    const char *fork = "";
    const cJSON *want = expected_result(c, &fork);
    if (!cJSON_IsString(txbytes) || !want) {
        conf_fail(st, path, c->string, "no \"txbytes\" or no result for Cancun or before");
        return;
    }
    const cJSON *exception = cJSON_GetObjectItemCaseSensitive(want, "exception");
    struct bytes raw;
    struct tx tx;
    const char *reason = "";
    bytes_init(&raw);
    int rc = hex_decode_alloc(txbytes->valuestring, false, &raw);
    if (rc != 0) {
        reason = "txbytes is not hex";
    } else {
        if (raw.len > 0 && raw.ptr[0] == BLOB_TX_TYPE) {
            conf_skip(st, path, c->string, "blob transactions (type 3) are not supported");
            goto out_free_raw;
        }
        rc = tx_decode(bytes_as_view(&raw), &tx, &reason);
    }
    if (exception) {
        if (rc == 0) {
            uint8_t sender[20];
            struct tx_rules rules = { .chain_id = 1, .allow_unprotected = true };
            rc = tx_validate(&tx, &rules, sender, &reason);
        }
        if (rc == 0) {
            conf_fail(st, path, c->string, "accepted, expected %s (%s)",
                      cJSON_IsString(exception) ? exception->valuestring : "an exception", fork);
        } else {
            if (st->verbose)
                printf("  %s: expected %s (%s), rejected: %s\n", c->string,
                       cJSON_IsString(exception) ? exception->valuestring : "?", fork, reason);
            conf_pass(st, path, c->string);
        }
    } else if (rc != 0) {
        conf_fail(st, path, c->string, "valid transaction rejected: %s (%s)", reason,
                  tc_strerror(rc));
    } else {
        check_valid(st, path, c->string, &tx, bytes_as_view(&raw), want);
    }
out_free_raw:
    bytes_free(&raw);
}

void conf_tx_file(struct conf_stats *st, const char *path, const cJSON *root)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, root)
    {
        if (cJSON_IsObject(c))
            run_case(st, path, c);
    }
}
