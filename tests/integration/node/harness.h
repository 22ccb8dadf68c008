/*
 * harness.h - a small harness for integration tests that run a real
 * teechaind on loopback: make a 1-node chain in a temporary directory with
 * `teechain build-chain`, start, kill -9, stop and restart the node, wait for
 * it with a bound, talk JSON-RPC to it, and sign transfers.
 *
 * Usage (one chain per test; see test_crash_recovery.c):
 *
 *     int main(int argc, char **argv) { itest_init(argc, argv); ... }
 *     struct itest_chain *c = itest_chain_new("crash", ITEST_PORT_CRASH, 3);
 *     itest_node_start(c);                 (asserts on failure)
 *     itest_node_wait_ready(c, 20000);
 *     cJSON *r = itest_call(c, "eth_blockNumber", "[]");
 *     ...
 *     itest_chain_free(c);                 (kills the node, removes the directory)
 *
 * Every wait is bounded. Every node process is registered: when the test
 * program ends (a failed assertion, exit, SIGTERM, SIGINT, SIGHUP) the
 * nodes are killed, and a node also dies with its parent (PR_SET_PDEATHSIG,
 * which covers the SIGKILL of CTest's timeout), so none is left running.
 * Nodes are forked from the main thread only (the death signal follows the
 * forking thread). Temporary directories are removed by itest_chain_free
 * and at exit; set TC_KEEP_TMP=1 to keep them for a post-mortem.
 *
 * Functions marked "asserts" fail the current cmocka test on error; the
 * others return 0 or a negative TC_E* code. Ports: each test program has its
 * own range (ITEST_PORT_*) so that CTest may run them in parallel.
 */
#ifndef TC_ITEST_HARNESS_H
#define TC_ITEST_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "base/u256.h"
#include "chain/tx.h"

/* Port offsets from the base P2P 31300 / RPC 21300. */
#define ITEST_P2P_BASE         31300
#define ITEST_RPC_BASE         21300
#define ITEST_PORT_CRASH       0
#define ITEST_PORT_BAD_INPUT   1
#define ITEST_PORT_TINY_POOL   2
#define ITEST_PORT_CONFIG      3
#define ITEST_MAX_ACCOUNTS     16
#define ITEST_CHAIN_ID         20200
#define ITEST_READY_TIMEOUT_MS 20000
#define ITEST_STOP_TIMEOUT_MS  30000

struct itest_account {
    uint8_t key[32];
    uint8_t address[20];
    char hex[43]; /* "0x" + 40 lower-case digits */
};

struct itest_chain {
    char root[512];          /* the temporary directory */
    char node_dir[PATH_MAX]; /* root/chain/127.0.0.1/node0 */
    char log_path[PATH_MAX]; /* root/node.log: the node's stdout and stderr */
    char rpc_url[64];
    uint16_t rpc_port;
    uint16_t p2p_port;
    pid_t pid; /* the running node, 0 when none */
    size_t account_count;
    struct itest_account accounts[ITEST_MAX_ACCOUNTS];
};

/* Reads argv[1] (teechaind) and argv[2] (teechain), installs the exit and
 * signal handlers. Exits with status 2 on a usage error. */
void itest_init(int argc, char **argv);
const char *itest_node_binary(void);
const char *itest_cli_binary(void);

/* The seed for this run: TC_SEED if set, else a fresh one; printed with the
 * way to replay it. */
uint64_t itest_seed(const char *test_name);

/*
 * Makes a temporary directory and a 1-node chain in it with `accounts`
 * funded accounts (1..ITEST_MAX_ACCOUNTS) on the ports of `port_offset`;
 * reads the account keys. Asserts. Free with itest_chain_free.
 */
struct itest_chain *itest_chain_new(const char *name, unsigned port_offset, size_t accounts);
/* Kills the node if it runs, removes the directory (unless TC_KEEP_TMP). NULL is fine. */
void itest_chain_free(struct itest_chain *c);

/* Starts teechaind in node_dir (output appended to log_path). Asserts. */
void itest_node_start(struct itest_chain *c);
/*
 * Polls eth_blockNumber until it answers or timeout_ms passes; fails early
 * if the process exits. Returns 0, TC_ETIMEOUT or TC_ESTATE (the node
 * exited); the log's tail is printed on failure.
 */
int itest_node_wait_ready(struct itest_chain *c, uint32_t timeout_ms);
/* Start, then wait; asserts that the node became ready. */
void itest_node_start_ready(struct itest_chain *c);
/* SIGKILL and reap. Asserts that a node was running. */
void itest_node_kill9(struct itest_chain *c);
/*
 * SIGTERM, then waits up to timeout_ms for the exit (SIGKILL after that).
 * Returns 0 and the wait status in *status, or TC_ETIMEOUT (killed).
 */
int itest_node_stop(struct itest_chain *c, uint32_t timeout_ms, int *status);
/* True if the node process is still running (reaps it when it exited). */
bool itest_node_alive(struct itest_chain *c);
/* Asserts that the node's log holds no sanitizer report (ASan, LSan, UBSan). */
void itest_assert_clean_log(const struct itest_chain *c);
/* True if text holds a sanitizer report. */
bool itest_has_sanitizer_report(const char *text);
/* Prints the last `lines` lines of the node's log (for failure reports). */
void itest_print_log_tail(const struct itest_chain *c, size_t lines);

/*
 * Runs argv (argv[0] is a path) in cwd (NULL: ours) with stdout and stderr
 * captured into out (NUL-terminated, truncated to out_len - 1). Kills it
 * after timeout_ms. Returns 0 with the wait status in *status, or
 * TC_ETIMEOUT / TC_EIO.
 */
int itest_run(char *const argv[], const char *cwd, uint32_t timeout_ms, char *out, size_t out_len,
              int *status);

/* Reads a whole file into a malloc'ed NUL-terminated string (caller frees); NULL on error. */
char *itest_read_file(const char *path);
/* Writes text to path (replacing it). Asserts. */
void itest_write_file(const char *path, const char *text);

/*
 * One JSON-RPC call; params_json is a JSON array text ("[]" for none).
 * Returns the result (caller frees) or NULL on any error, with the error
 * text in err (when not NULL) and the JSON-RPC code in *code (0 when the
 * failure was not a JSON-RPC error).
 */
cJSON *itest_try_call(const char *url, const char *method, const char *params_json,
                      uint32_t timeout_ms, int64_t *code, char *err, size_t err_len);
/* itest_try_call on the chain's node; asserts success. */
cJSON *itest_call(const struct itest_chain *c, const char *method, const char *params_json);
/*
 * A batch of calls of one method: params[i] is the JSON array text of call
 * i. Returns a new array of the n results in order (JSON null where a call
 * failed); asserts that the batch itself was answered.
 */
cJSON *itest_batch(const struct itest_chain *c, const char *method, char *const params[], size_t n);

/* Reads a quantity ("0x..") as u64 / u256; asserts the form. */
uint64_t itest_json_u64(const cJSON *item);
u256 itest_json_u256(const cJSON *item);
/* The string member `name` of obj; asserts it is there. */
const char *itest_json_str(const cJSON *obj, const char *name);

/* eth_blockNumber of the chain's node. Asserts. */
uint64_t itest_block_number(const struct itest_chain *c);
/* Polls eth_getTransactionReceipt(hash) up to timeout_ms; the receipt or NULL. */
cJSON *itest_wait_receipt(const struct itest_chain *c, const char *hash_hex, uint32_t timeout_ms);

/* A value transfer to sign (type 2 unless legacy). */
struct itest_transfer {
    uint64_t chain_id;
    uint64_t nonce;
    uint8_t to[20];
    u256 value;
    uint64_t gas_limit;
    bool legacy;
    const uint8_t *data; /* call data, may be NULL */
    size_t data_len;
};

/*
 * Signs t with key into out as "0x" + hex of the raw transaction (malloc'ed,
 * caller frees) and its hash as "0x" + 64 digits into hash_hex. Asserts.
 */
char *itest_sign_transfer(const struct itest_transfer *t, const uint8_t key[32], char hash_hex[67]);

/* Encodes tx as it is (no signing: tests use it for malformed signatures)
 * into "0x" + hex (malloc'ed, caller frees), its hash into hash_hex. Asserts. */
char *itest_tx_hex(const struct tx *tx, char hash_hex[67]);

/* "0x" + lower-case hex of 20 bytes. */
void itest_address_hex(const uint8_t address[20], char out[43]);

#endif
