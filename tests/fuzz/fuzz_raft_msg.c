/*
 * fuzz_raft_msg.c - libFuzzer target for the Raft message codec.
 *
 * Decodes arbitrary bytes; whatever decodes must re-encode to exactly the same
 * bytes (the encoding is canonical) and decode again to the same message.
 * The first byte also selects a membership decode of the rest, with the same
 * round-trip check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/error.h"
#include "consensus/raft/raft_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct raft_entry g_entries[RAFT_MSG_MAX_ENTRIES];

static void check_membership(const uint8_t *data, size_t size)
{
    struct raft_membership m;
    if (raft_membership_decode(data, size, &m) != TC_OK)
        return;
    uint8_t buf[RAFT_MEMBERSHIP_MAX_BYTES];
    size_t len = 0;
    if (raft_membership_encode(&m, buf, sizeof(buf), &len) != TC_OK || len != size ||
        memcmp(buf, data, size) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == 0xCF)
        check_membership(data + 1, size - 1);
    struct raft_message m;
    if (raft_msg_decode(data, size, &m, g_entries, RAFT_MSG_MAX_ENTRIES) != TC_OK)
        return 0;
    struct bytes out;
    bytes_init(&out);
    if (raft_msg_encode(&m, &out) != TC_OK || out.len != size || memcmp(out.ptr, data, size) != 0)
        abort();
    size_t n = 0;
    if (raft_msg_encoded_size(&m, &n) != TC_OK || n != size)
        abort();
    bytes_free(&out);
    return 0;
}
