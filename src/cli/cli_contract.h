/*
 * cli_contract.h - what `teechain deploy`, `teechain call` and the contract
 * form of `teechain send` need besides the ABI codec (abi.h) and the signing
 * flow (cli_send.h): reading solc's hex bytecode, building a call object,
 * and eth_call / eth_estimateGas with the revert data a node returns.
 *
 * A node reports a REVERT as geth does: a JSON-RPC error with code 3 whose
 * `data` member holds the revert data as 0x hex (or -32000 "execution
 * reverted" without data). These functions turn that into struct
 * cli_revert, so that the caller can decode Error(string), Panic(uint256) or
 * a custom error with abi_revert_reason; rpc_client_call alone keeps only the
 * code and the message.
 *
 * Usage:
 *     struct bytes code;
 *     cli_read_bytecode("Storage.bin", &code, err, sizeof(err));
 *     cJSON *obj = cli_call_object(from, to, value, bytes_as_view(&data));
 *     struct cli_revert rev;
 *     cli_revert_init(&rev);
 *     rc = cli_eth_call(&client, obj, "latest", &ret, &rev, err, sizeof(err));
 *     if (rc == TC_EPERM && rev.reverted) ... abi_revert_reason(rev.data.ptr, rev.data.len) ...
 *     cli_revert_free(&rev);
 *
 * Every function that can fail returns 0 or a negative TC_E* code and writes
 * a one-line reason into err.
 */
#ifndef TC_CLI_CLI_CONTRACT_H
#define TC_CLI_CLI_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/bytes.h"
#include "base/u256.h"
#include "cli/rpc_client.h"

/* Largest bytecode file read (hex text, whitespace included). */
#define CLI_BYTECODE_FILE_MAX_BYTES (4u << 20)
/* JSON-RPC error code of a REVERT (geth's). */
#define CLI_RPC_EXECUTION_REVERTED 3

struct cli_revert {
    bool reverted;     /* the node said the execution reverted */
    struct bytes data; /* the revert data (may be empty); owned */
};

void cli_revert_init(struct cli_revert *rev);
void cli_revert_free(struct cli_revert *rev);

/*
 * Reads a hex bytecode file as solc --bin writes it: an optional 0x, hex
 * digits, whitespace anywhere (line breaks included). Appends the bytes to
 * code. Returns 0, TC_EIO (unreadable), TC_ETOOBIG (file larger than
 * CLI_BYTECODE_FILE_MAX_BYTES) or TC_EINVAL (empty, an odd number of digits,
 * a character that is not hex, or an unlinked library placeholder "__$...").
 */
int cli_read_bytecode(const char *path, struct bytes *code, char *err, size_t err_len);

/*
 * A call object {"from", "to", "value", "data"} for eth_call and
 * eth_estimateGas: from and to may be NULL (omitted; no `to` is a
 * creation), a zero value is omitted. Returns a new object (caller frees
 * with cJSON_Delete), NULL when out of memory.
 */
cJSON *cli_call_object(const uint8_t *from, const uint8_t *to, u256 value, struct bytes_view data);

/*
 * eth_call(call_object, block) where block is a tag or a hex quantity. On
 * success appends the returned bytes to ret. A revert returns TC_EPERM with
 * rev->reverted set and rev->data filled; other errors are the rpc_client
 * codes (a JSON-RPC error that is not a revert is TC_EPERM with
 * rev->reverted false) or TC_ECORRUPT for an answer that is not 0x hex.
 */
int cli_eth_call(struct rpc_client *c, const cJSON *call_object, const char *block,
                 struct bytes *ret, struct cli_revert *rev, char *err, size_t err_len);

/* eth_estimateGas(call_object) into *gas; errors and reverts as cli_eth_call. */
int cli_estimate_gas(struct rpc_client *c, const cJSON *call_object, uint64_t *gas,
                     struct cli_revert *rev, char *err, size_t err_len);

/*
 * Parses a block for --block: latest, earliest, pending, safe, finalized, or
 * a decimal or 0x number, written into out as a tag or a compact hex
 * quantity. Returns 0 or TC_EINVAL.
 */
int cli_parse_block_tag(const char *s, char out[U256_HEX_LEN]);

#endif
