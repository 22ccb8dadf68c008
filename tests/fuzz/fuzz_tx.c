/*
 * fuzz_tx.c - libFuzzer target for raw transaction decoding and validation.
 *
 * Arbitrary bytes go through tx_decode(); whatever decodes must re-encode
 * to exactly the input (the decoder accepts only canonical encodings) and
 * must survive tx_check() and, when that passes, sender recovery. The hash
 * and intrinsic gas are computed for every decoded transaction.
 */
#include <stdint.h>
#include <stdlib.h>

#include "base/bytes.h"
#include "chain/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tx tx;
    const char *reason = NULL;
    struct bytes_view raw = bytes_view_of(data, size);
    if (tx_decode(raw, &tx, &reason) != 0) {
        if (!reason)
            abort();
        return 0;
    }
    struct bytes out;
    bytes_init(&out);
    if (tx_encode(&tx, &out) != 0 || !bytes_view_eq(bytes_as_view(&out), raw))
        abort();
    bytes_free(&out);

    uint8_t hash[32], sender[20];
    tx_hash(&tx, hash);
    (void)tx_intrinsic_gas(&tx);
    struct tx_rules rules = { .chain_id = 0, .allow_unprotected = true };
    if (tx_check(&tx, &rules, &reason) == 0)
        (void)tx_sender(&tx, sender, &reason);
    return 0;
}
