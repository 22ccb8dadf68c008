/*
 * cli_node.h - `teechain node add|promote|remove|list`: change or show the
 * chain's consensus membership through the consensus system contract at
 * 0x...1003 (exec/syscontract.h, docs/cli.md "node").
 *
 * add NODEID          addObserver(NODEID): a new, non-voting member
 * promote NODEID      addSealer(NODEID, --weight W, default 1): an observer
 *                     becomes a sealer (a Raft voter)
 * remove NODEID       remove(NODEID)
 * list                getSealerList and getObserverList
 *
 * A change is signed with a sealer's node key (--key, default
 * conf/node.pem: a PEM node key, or an account key file of 64 hex digits),
 * dry-run with eth_estimateGas first (a refusal prints the contract's reason
 * and exits 1 without sending anything), then sent with cli_send() and
 * waited for; a receipt with status 0 exits 1.
 *
 * Usage (the CLI's): cli_node_run(argc, argv) with the subcommand's argv;
 * the pieces are exposed for tests.
 */
#ifndef TC_CLI_CLI_NODE_H
#define TC_CLI_CLI_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "chain/genesis.h"

#define CLI_NODE_DEFAULT_KEY "conf/node.pem"

enum cli_node_action {
    CLI_NODE_ADD,
    CLI_NODE_PROMOTE,
    CLI_NODE_REMOVE,
    CLI_NODE_LIST,
};

struct cli_node_args {
    enum cli_node_action action;
    uint8_t node_id[NODE_ID_BYTES]; /* all but list */
    uint32_t weight;                /* promote: 1..2^32-1, default 1 */
    const char *key_file;           /* borrowed from argv; default CLI_NODE_DEFAULT_KEY */
    const char *rpc_url;            /* borrowed; default RPC_CLIENT_DEFAULT_URL */
    uint32_t timeout_ms;            /* per RPC call */
    uint32_t wait_s;                /* receipt wait; 0: do not wait */
    bool json;
};

/* The text of `teechain node --help`. */
extern const char cli_node_usage[];

/*
 * Parses `node ACTION [NODEID] [options]` (argv[0] is "node") into a.
 * Returns 0 to go on, or -1 when the command is finished: *status is 0
 * after --help (printed), 2 after a usage error (printed on stderr).
 */
int cli_node_parse(int argc, char **argv, struct cli_node_args *a, int *status);

/*
 * Appends the call data of a's change (the ABI encoding of addObserver,
 * addSealer or remove with the node ID as 128 lower-case hex digits) to
 * out. Returns 0, TC_EINVAL for list, or TC_ENOMEM.
 */
int cli_node_call_data(const struct cli_node_args *a, struct bytes *out);

/*
 * Reads a signing key: a PEM private key (node.pem, node_key_read_file) when
 * the file starts with "-----BEGIN", else a hex key file
 * (cli_read_key_file). Returns 0 or their codes (err says why); seckey is
 * wiped on failure.
 */
int cli_node_read_key(const char *path, uint8_t seckey[32], char *err, size_t err_len);

/* The whole subcommand: returns the exit status (0, 1 failure, 2 usage). */
int cli_node_run(int argc, char **argv);

#endif
