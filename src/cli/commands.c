/* commands.c - the subcommands of `teechain`: option parsing and output. */
#include "cli/commands.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base/bytes.h"
#include "base/error.h"
#include "cli/bench.h"
#include "cli/abi.h"
#include "cli/chain_builder.h"
#include "cli/cli_contract.h"
#include "cli/cli_node.h"
#include "cli/cli_send.h"
#include "cli/cli_util.h"
#include "cli/rpc_client.h"
#include "crypto/ecdsa.h"

#define EXIT_USAGE 2

enum {
    OPT_JSON = 256,
    OPT_RPC,
    OPT_CONSENSUS,
    OPT_ACCOUNTS,
    OPT_CHAIN_ID,
    OPT_STORAGE_SECURITY,
    OPT_BIN,
    OPT_FORCE,
    OPT_EXPAND,
    OPT_GENESIS,
    OPT_PEERS,
    OPT_OUT,
    OPT_TO,
    OPT_VALUE,
    OPT_KEY,
    OPT_FROM_ACCOUNT,
    OPT_ACCOUNTS_DIR,
    OPT_GAS,
    OPT_NONCE,
    OPT_WAIT_S,
    OPT_LEGACY,
    OPT_FULL,
    OPT_TIMEOUT_MS,
    OPT_ARGS,
    OPT_FROM,
    OPT_BLOCK,
};

static int usage_error(const char *cmd, const char *fmt, const char *detail)
{
    fprintf(stderr, "teechain %s: ", cmd);
    fprintf(stderr, fmt, detail);
    fprintf(stderr, "\n(see teechain %s --help)\n", cmd);
    return EXIT_USAGE;
}

static int print_usage(const char *name)
{
    const struct cli_command *c = cli_find_command(name);
    fputs(c->usage, stdout);
    return 0;
}

/*
 * getopt_long over the subcommand's argv. Returns the option, -1 at the
 * end, or '?' after reporting an unknown option or a missing argument.
 */
static int next_opt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    int opt = getopt_long(argc, argv, shortopts, longopts, NULL);
    if (opt == '?' || opt == ':') {
        const char *bad = argv[optind - 1];
        usage_error(argv[0], "bad option or missing value: %s", bad);
        return '?';
    }
    return opt;
}

static void reset_getopt(void)
{
    optind = 0; /* glibc: 0 re-initialises the parser completely */
    opterr = 0;
}

/* ---- build-chain ------------------------------------------------------- */

static const char usage_build_chain[] =
    "usage: teechain build-chain -l IP:COUNT[,IP:COUNT...] [-o DIR] [options]\n"
    "       teechain build-chain --expand -o DIR -l IP:COUNT --genesis FILE\n"
    "                            --peers HOST:PORT,... [-p P2P,RPC] [--bin PATH]\n"
    "\n"
    "Writes the keys, certificates, configuration and scripts of a new chain;\n"
    "with --expand, the folders of new nodes for the existing chain in DIR.\n"
    "\n"
    "  -l, --hosts IP:COUNT,...   nodes per host (IPv4), e.g. 127.0.0.1:4\n"
    "  -o, --output DIR           output directory (default: nodes)\n"
    "  -p, --ports P2P,RPC        first P2P and RPC port on each host (default 30300,20200)\n"
    "      --consensus raft|pbft  consensus engine (default raft)\n"
    "      --accounts N           funded development accounts (default 10)\n"
    "      --chain-id ID          EIP-155 chain id (default 20200)\n"
    "      --storage-security     write conf/storage.key per node and enable it\n"
    "      --bin PATH             teechaind used by start.sh (default: beside teechain)\n"
    "      --force                replace a chain previously written in DIR\n"
    "      --expand               add nodes to the chain in DIR (its CA signs them)\n"
    "      --genesis FILE         with --expand: the chain's config.genesis (copied as is)\n"
    "      --peers HOST:PORT,...  with --expand: P2P addresses of running nodes\n"
    "  -h, --help                 this text\n";

/* The teechaind that sits beside the running teechain binary. */
static int default_bin_path(char *out, size_t out_len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return TC_EIO;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash == NULL)
        return TC_EIO;
    *slash = '\0';
    if ((size_t)snprintf(out, out_len, "%s/teechaind", self) >= out_len)
        return TC_ERANGE;
    return TC_OK;
}

static int absolute_path(const char *in, char *out, size_t out_len)
{
    if (in[0] == '/')
        return (size_t)snprintf(out, out_len, "%s", in) < out_len ? TC_OK : TC_ERANGE;
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return TC_EIO;
    return (size_t)snprintf(out, out_len, "%s/%s", cwd, in) < out_len ? TC_OK : TC_ERANGE;
}

/* build-chain --expand: writes the new nodes and prints their node IDs. */
static int expand_chain(const char *cmd, struct chain_spec *spec)
{
    char err[1024], id_hex[129];
    if (spec->genesis_path[0] == '\0')
        return usage_error(cmd, "%s", "--expand needs --genesis FILE (the chain's config.genesis)");
    if (spec->peer_count == 0)
        return usage_error(cmd, "%s", "--expand needs --peers HOST:PORT,... (running nodes)");
    struct chain_expansion *added = malloc(sizeof(*added));
    if (added == NULL) {
        fprintf(stderr, "teechain %s: out of memory\n", cmd);
        return 1;
    }
    if (chain_expand(spec, added, err, sizeof(err)) != TC_OK) {
        fprintf(stderr, "teechain %s: %s\n", cmd, err);
        free(added);
        return 1;
    }
    printf("added %zu node(s) to the chain in %s:\n", added->node_count, spec->out_dir);
    for (size_t i = 0; i < added->node_count; i++) {
        const struct chain_new_node *n = &added->nodes[i];
        hex_encode(n->id, 64, id_hex);
        printf("  %s/%s/node%u  p2p %u  rpc %u\n    node id %s\n", spec->out_dir, n->ip,
               (unsigned)n->index, (unsigned)n->p2p_port, (unsigned)n->rpc_port, id_hex);
    }
    printf("next: on a running node, teechain node add NODEID for each new node; then start\n"
           "it (nodeN/start.sh, or start_all.sh of its host); once it has caught up,\n"
           "teechain node promote NODEID makes it a sealer.\n");
    free(added);
    return 0;
}

static int run_build_chain(int argc, char **argv)
{
    static const struct option opts[] = {
        { "hosts", required_argument, NULL, 'l' },
        { "output", required_argument, NULL, 'o' },
        { "ports", required_argument, NULL, 'p' },
        { "consensus", required_argument, NULL, OPT_CONSENSUS },
        { "accounts", required_argument, NULL, OPT_ACCOUNTS },
        { "chain-id", required_argument, NULL, OPT_CHAIN_ID },
        { "storage-security", no_argument, NULL, OPT_STORAGE_SECURITY },
        { "bin", required_argument, NULL, OPT_BIN },
        { "force", no_argument, NULL, OPT_FORCE },
        { "expand", no_argument, NULL, OPT_EXPAND },
        { "genesis", required_argument, NULL, OPT_GENESIS },
        { "peers", required_argument, NULL, OPT_PEERS },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct chain_spec spec;
    char err[1024];
    const char *out = "nodes", *bin = NULL, *new_chain_opt = NULL, *expand_opt = NULL;
    bool have_hosts = false, expand = false;
    uint64_t v = 0;
    chain_spec_defaults(&spec);
    reset_getopt();
    for (int opt; (opt = next_opt(argc, argv, "+l:o:p:h", opts)) != -1;) {
        switch (opt) {
        case 'l':
            if (chain_parse_hosts(optarg, &spec, err, sizeof(err)) != TC_OK)
                return usage_error(argv[0], "%s", err);
            have_hosts = true;
            break;
        case 'o':
            out = optarg;
            break;
        case 'p':
            if (chain_parse_ports(optarg, &spec, err, sizeof(err)) != TC_OK)
                return usage_error(argv[0], "%s", err);
            break;
        case OPT_CONSENSUS:
            new_chain_opt = "--consensus";
            if (strcmp(optarg, "raft") == 0)
                spec.consensus = CONSENSUS_RAFT;
            else if (strcmp(optarg, "pbft") == 0)
                spec.consensus = CONSENSUS_PBFT;
            else
                return usage_error(argv[0], "--consensus: expected raft or pbft, got %s", optarg);
            break;
        case OPT_ACCOUNTS:
            new_chain_opt = "--accounts";
            if (cli_parse_u64(optarg, &v) != TC_OK || v > CHAIN_MAX_ACCOUNTS)
                return usage_error(argv[0], "--accounts: expected 0..10000, got %s", optarg);
            spec.account_count = (uint32_t)v;
            break;
        case OPT_CHAIN_ID:
            new_chain_opt = "--chain-id";
            if (cli_parse_u64(optarg, &spec.chain_id) != TC_OK)
                return usage_error(argv[0], "--chain-id: expected an integer, got %s", optarg);
            break;
        case OPT_STORAGE_SECURITY:
            spec.storage_security = true;
            break;
        case OPT_BIN:
            bin = optarg;
            break;
        case OPT_FORCE:
            new_chain_opt = "--force";
            spec.force = true;
            break;
        case OPT_EXPAND:
            expand = true;
            break;
        case OPT_GENESIS:
            expand_opt = "--genesis";
            if ((size_t)snprintf(spec.genesis_path, sizeof(spec.genesis_path), "%s", optarg) >=
                sizeof(spec.genesis_path))
                return usage_error(argv[0], "%s", "--genesis: path too long");
            break;
        case OPT_PEERS:
            expand_opt = "--peers";
            if (chain_parse_peers(optarg, &spec, err, sizeof(err)) != TC_OK)
                return usage_error(argv[0], "%s", err);
            break;
        case 'h':
            return print_usage(argv[0]);
        default:
            return EXIT_USAGE;
        }
    }
    if (optind != argc)
        return usage_error(argv[0], "unexpected argument %s", argv[optind]);
    if (!have_hosts)
        return usage_error(argv[0], "%s", "-l IP:COUNT is required");
    if ((size_t)snprintf(spec.out_dir, sizeof(spec.out_dir), "%s", out) >= sizeof(spec.out_dir))
        return usage_error(argv[0], "%s", "-o: path too long");
    int rc = bin != NULL ? absolute_path(bin, spec.bin_path, sizeof(spec.bin_path))
                         : default_bin_path(spec.bin_path, sizeof(spec.bin_path));
    if (rc != TC_OK)
        return usage_error(argv[0], "%s", "cannot determine the path of teechaind (use --bin)");
    if (expand && new_chain_opt != NULL)
        return usage_error(argv[0], "%s cannot be used with --expand (the genesis holds the chain)",
                           new_chain_opt);
    if (!expand && expand_opt != NULL)
        return usage_error(argv[0], "%s needs --expand", expand_opt);
    if (expand)
        return expand_chain(argv[0], &spec);
    if (chain_build(&spec, err, sizeof(err)) != TC_OK) {
        fprintf(stderr, "teechain build-chain: %s\n", err);
        return 1;
    }
    uint32_t nodes = 0;
    for (size_t h = 0; h < spec.host_count; h++)
        nodes += spec.hosts[h].node_count;
    printf("chain written to %s: %u node(s) on %zu host(s), %s, chain id %llu, %u account(s)\n",
           spec.out_dir, (unsigned)nodes, spec.host_count, consensus_type_name(spec.consensus),
           (unsigned long long)spec.chain_id, (unsigned)spec.account_count);
    for (size_t h = 0; h < spec.host_count; h++)
        printf("  start: %s/%s/start_all.sh   stop: %s/%s/stop_all.sh\n", spec.out_dir,
               spec.hosts[h].ip, spec.out_dir, spec.hosts[h].ip);
    printf("  accounts: %s/accounts/   node binary: %s\n", spec.out_dir, spec.bin_path);
    return 0;
}

/* ---- account ----------------------------------------------------------- */

static const char usage_account[] =
    "usage: teechain account new [--out DIR] [--json]\n"
    "\n"
    "Generates a secp256k1 account key, writes it as hex (mode 0600) to\n"
    "DIR/<address>.key and prints the EIP-55 address.\n"
    "\n"
    "      --out DIR   where to write the key file (default: current directory)\n"
    "      --json      print {\"address\": ..., \"keyFile\": ...}\n"
    "  -h, --help      this text\n";

static int run_account(int argc, char **argv)
{
    static const struct option opts[] = {
        { "out", required_argument, NULL, OPT_OUT },
        { "json", no_argument, NULL, OPT_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = ".";
    bool json = false;
    char err[1024], addr[CLI_ADDRESS_STR_LEN];
    uint8_t address[20];
    reset_getopt();
    for (int opt; (opt = next_opt(argc, argv, "h", opts)) != -1;) {
        switch (opt) {
        case OPT_OUT:
            dir = optarg;
            break;
        case OPT_JSON:
            json = true;
            break;
        case 'h':
            return print_usage(argv[0]);
        default:
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || strcmp(argv[optind], "new") != 0)
        return usage_error(argv[0], "%s", "expected the action: new");
    if (cli_new_account(dir, address, err, sizeof(err)) != TC_OK) {
        fprintf(stderr, "teechain account new: %s\n", err);
        return 1;
    }
    cli_address_checksum(address, addr);
    if (json)
        printf("{\"address\":\"%s\",\"keyFile\":\"%s/%s.key\"}\n", addr, dir, addr);
    else
        printf("address   %s\nkey file  %s/%s.key\n", addr, dir, addr);
    return 0;
}

/* ---- JSON-RPC output helpers -------------------------------------------- */

static void print_json(const cJSON *item)
{
    char *text = cJSON_Print(item);
    if (text != NULL)
        printf("%s\n", text);
    free(text);
}

static void print_row(const char *label, const char *value)
{
    printf("%-18s %s\n", label, value);
}

/* A quantity member as decimal; absent members are skipped. */
static void print_quantity(const char *label, const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    u256 v;
    char dec[U256_DEC_LEN];
    if (item == NULL || cJSON_IsNull(item))
        return;
    if (cJSON_IsString(item) && u256_from_hex(item->valuestring, &v) == TC_OK) {
        u256_to_dec(v, dec);
        print_row(label, dec);
    } else if (cJSON_IsString(item)) {
        print_row(label, item->valuestring);
    }
}

static void print_string(const char *label, const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsString(item))
        print_row(label, item->valuestring);
}

/* An address member, EIP-55 checksummed; null prints as `null_text`. */
static void print_address(const char *label, const cJSON *obj, const char *key,
                          const char *null_text)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    uint8_t address[20];
    char text[CLI_ADDRESS_STR_LEN];
    if (item == NULL)
        return;
    if (cJSON_IsNull(item)) {
        if (null_text != NULL)
            print_row(label, null_text);
        return;
    }
    if (cJSON_IsString(item) && cli_parse_address(item->valuestring, address) == TC_OK) {
        cli_address_checksum(address, text);
        print_row(label, text);
    } else if (cJSON_IsString(item)) {
        print_row(label, item->valuestring);
    }
}

static void print_value(const char *label, const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    u256 v;
    char dec[U256_DEC_LEN], ether[CLI_ETHER_STR_LEN], line[U256_DEC_LEN + CLI_ETHER_STR_LEN + 16];
    if (!cJSON_IsString(item) || u256_from_hex(item->valuestring, &v) != TC_OK)
        return;
    u256_to_dec(v, dec);
    cli_format_ether(v, ether);
    snprintf(line, sizeof(line), "%s wei (%s ether)", dec, ether);
    print_row(label, line);
}

static void print_data_size(const char *label, const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    char line[64];
    if (!cJSON_IsString(item))
        return;
    size_t len = strlen(item->valuestring);
    snprintf(line, sizeof(line), "%zu bytes", len >= 2 ? (len - 2) / 2 : 0);
    print_row(label, line);
}

static void print_status(const cJSON *receipt)
{
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(receipt, "status");
    uint64_t v = 0;
    if (cli_json_u64(status, &v) == TC_OK)
        print_row("status", v == 1 ? "success (1)" : "failed (0)");
}

struct rpc_opts {
    const char *url;
    uint32_t timeout_ms;
    bool json;
    bool full;
};

/*
 * Parses the options every RPC command shares (--rpc, --json,
 * --timeout-ms, and --full where allowed). Returns the index of the first
 * positional argument, or -1 after a usage error (*status set).
 */
static int parse_rpc_opts(int argc, char **argv, bool allow_full, struct rpc_opts *o, int *status)
{
    static const struct option opts[] = {
        { "rpc", required_argument, NULL, OPT_RPC },
        { "json", no_argument, NULL, OPT_JSON },
        { "timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS },
        { "full", no_argument, NULL, OPT_FULL },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t v = 0;
    o->url = RPC_CLIENT_DEFAULT_URL;
    o->timeout_ms = RPC_CLIENT_DEFAULT_TIMEOUT_MS;
    o->json = false;
    o->full = false;
    reset_getopt();
    for (int opt; (opt = next_opt(argc, argv, "h", opts)) != -1;) {
        switch (opt) {
        case OPT_RPC:
            o->url = optarg;
            break;
        case OPT_JSON:
            o->json = true;
            break;
        case OPT_TIMEOUT_MS:
            if (cli_parse_u64(optarg, &v) != TC_OK || v == 0 || v > 3600000) {
                *status = usage_error(argv[0], "--timeout-ms: expected 1..3600000, got %s", optarg);
                return -1;
            }
            o->timeout_ms = (uint32_t)v;
            break;
        case OPT_FULL:
            if (!allow_full) {
                *status = usage_error(argv[0], "%s", "--full applies to block only");
                return -1;
            }
            o->full = true;
            break;
        case 'h':
            *status = print_usage(argv[0]);
            return -1;
        default:
            *status = EXIT_USAGE;
            return -1;
        }
    }
    return optind;
}

/* One call; prints the error on failure. */
static int call(struct rpc_client *c, const char *cmd, const char *method, const cJSON *params,
                cJSON **result)
{
    int rc = rpc_client_call(c, method, params, result);
    if (rc != TC_OK)
        fprintf(stderr, "teechain %s: %s: %s\n", cmd, method, c->err);
    return rc;
}

static int open_client(struct rpc_client *c, const char *cmd, const struct rpc_opts *o)
{
    int rc = rpc_client_init(c, o->url, o->timeout_ms);
    if (rc != TC_OK)
        fprintf(stderr, "teechain %s: %s\n", cmd, c->err);
    return rc;
}

static bool is_hash(const char *s)
{
    uint8_t h[32];
    return strlen(s) == 66 && s[0] == '0' && s[1] == 'x' && hex_decode_exact(s, h, 32) == TC_OK;
}

/* [s] or, with a flag, [s, *flag]; NULL when out of memory. */
static cJSON *string_params(const char *s, const bool *flag)
{
    cJSON *params = cJSON_CreateArray();
    if (params == NULL || !cJSON_AddItemToArray(params, cJSON_CreateString(s)) ||
        (flag && !cJSON_AddItemToArray(params, cJSON_CreateBool(*flag)))) {
        cJSON_Delete(params);
        return NULL;
    }
    return params;
}

/*
 * Calls `method` with `params` (taken; NULL means they could not be built)
 * and shows the result: the raw JSON with --json, "WHAT ARG not found" for a
 * null result, else print(result) or print_full(result, --full). Returns the
 * exit status.
 */
static int call_and_show(struct rpc_client *c, const char *cmd, const char *method, cJSON *params,
                         const struct rpc_opts *o, const char *what, const char *arg,
                         void (*print)(const cJSON *), void (*print_full)(const cJSON *, bool))
{
    if (params == NULL)
        return 1;
    cJSON *result = NULL;
    int rc = call(c, cmd, method, params, &result);
    cJSON_Delete(params);
    if (rc != TC_OK)
        return 1;
    int exit_status = 0;
    if (o->json) {
        print_json(result);
    } else if (cJSON_IsNull(result)) {
        fprintf(stderr, "teechain %s: %s %s not found\n", cmd, what, arg);
        exit_status = 1;
    } else if (print_full) {
        print_full(result, o->full);
    } else {
        print(result);
    }
    cJSON_Delete(result);
    return exit_status;
}

/* Runs a one-argument lookup (tx/receipt by hash) and prints it. */
static int run_lookup(int argc, char **argv, const char *method, const char *what,
                      void (*print)(const cJSON *))
{
    struct rpc_opts o;
    struct rpc_client c;
    int status = 0;
    int first = parse_rpc_opts(argc, argv, false, &o, &status);
    if (first < 0)
        return status;
    if (first != argc - 1)
        return usage_error(argv[0], "%s", "expected exactly one transaction hash");
    if (!is_hash(argv[first]))
        return usage_error(argv[0], "not a transaction hash (0x + 64 hex digits): %s", argv[first]);
    if (open_client(&c, argv[0], &o) != TC_OK)
        return 1;
    return call_and_show(&c, argv[0], method, string_params(argv[first], NULL), &o, what,
                         argv[first], print, NULL);
}

/* ---- tx / receipt ------------------------------------------------------ */

static const char usage_tx[] =
    "usage: teechain tx HASH [--rpc URL] [--json]\n"
    "\n"
    "Shows a transaction (eth_getTransactionByHash).\n"
    "\n"
    "      --rpc URL         node JSON-RPC endpoint (default http://127.0.0.1:20200)\n"
    "      --timeout-ms MS   per-call timeout (default 10000)\n"
    "      --json            print the raw JSON-RPC result\n";

static void print_tx(const cJSON *tx)
{
    print_string("hash", tx, "hash");
    print_quantity("type", tx, "type");
    print_address("from", tx, "from", NULL);
    print_address("to", tx, "to", "(contract creation)");
    print_value("value", tx, "value");
    print_quantity("nonce", tx, "nonce");
    print_quantity("gas", tx, "gas");
    print_quantity("gas price", tx, "gasPrice");
    print_quantity("max fee", tx, "maxFeePerGas");
    print_quantity("max priority fee", tx, "maxPriorityFeePerGas");
    print_quantity("chain id", tx, "chainId");
    const cJSON *block = cJSON_GetObjectItemCaseSensitive(tx, "blockNumber");
    if (cJSON_IsNull(block))
        print_row("block", "(pending)");
    else
        print_quantity("block", tx, "blockNumber");
    print_string("block hash", tx, "blockHash");
    print_quantity("index", tx, "transactionIndex");
    print_data_size("input", tx, "input");
}

static int run_tx(int argc, char **argv)
{
    return run_lookup(argc, argv, "eth_getTransactionByHash", "transaction", print_tx);
}

static const char usage_receipt[] =
    "usage: teechain receipt HASH [--rpc URL] [--json]\n"
    "\n"
    "Shows the receipt of a mined transaction (eth_getTransactionReceipt).\n"
    "\n"
    "      --rpc URL         node JSON-RPC endpoint (default http://127.0.0.1:20200)\n"
    "      --timeout-ms MS   per-call timeout (default 10000)\n"
    "      --json            print the raw JSON-RPC result\n";

static void print_receipt(const cJSON *r)
{
    char line[64];
    print_string("transaction", r, "transactionHash");
    print_status(r);
    print_quantity("block", r, "blockNumber");
    print_string("block hash", r, "blockHash");
    print_quantity("index", r, "transactionIndex");
    print_address("from", r, "from", NULL);
    print_address("to", r, "to", "(contract creation)");
    print_address("contract address", r, "contractAddress", NULL);
    print_quantity("gas used", r, "gasUsed");
    print_quantity("cumulative gas", r, "cumulativeGasUsed");
    const cJSON *logs = cJSON_GetObjectItemCaseSensitive(r, "logs");
    if (cJSON_IsArray(logs)) {
        snprintf(line, sizeof(line), "%d", cJSON_GetArraySize(logs));
        print_row("logs", line);
    }
}

static int run_receipt(int argc, char **argv)
{
    return run_lookup(argc, argv, "eth_getTransactionReceipt", "receipt of", print_receipt);
}

/* ---- block ------------------------------------------------------------- */

static const char usage_block[] =
    "usage: teechain block N|HASH|latest|earliest|pending [--full] [--rpc URL] [--json]\n"
    "\n"
    "Shows a block by number (decimal or 0x hex), tag or hash.\n"
    "\n"
    "      --full            include whole transactions, not only their hashes\n"
    "      --rpc URL         node JSON-RPC endpoint (default http://127.0.0.1:20200)\n"
    "      --timeout-ms MS   per-call timeout (default 10000)\n"
    "      --json            print the raw JSON-RPC result\n";

static void print_block(const cJSON *b, bool full)
{
    char line[96];
    print_quantity("number", b, "number");
    print_string("hash", b, "hash");
    print_string("parent", b, "parentHash");
    print_quantity("timestamp", b, "timestamp");
    print_address("sealer", b, "miner", NULL);
    print_string("state root", b, "stateRoot");
    print_quantity("gas used", b, "gasUsed");
    print_quantity("gas limit", b, "gasLimit");
    const cJSON *txs = cJSON_GetObjectItemCaseSensitive(b, "transactions");
    if (!cJSON_IsArray(txs))
        return;
    snprintf(line, sizeof(line), "%d", cJSON_GetArraySize(txs));
    print_row("transactions", line);
    const cJSON *tx;
    cJSON_ArrayForEach(tx, txs)
    {
        if (cJSON_IsString(tx)) {
            print_row("", tx->valuestring);
        } else if (full && cJSON_IsObject(tx)) {
            printf("\n");
            print_tx(tx);
        }
    }
}

static int run_block(int argc, char **argv)
{
    struct rpc_opts o;
    struct rpc_client c;
    int status = 0;
    int first = parse_rpc_opts(argc, argv, true, &o, &status);
    if (first < 0)
        return status;
    if (first != argc - 1)
        return usage_error(argv[0], "%s", "expected one block number, tag or hash");
    const char *arg = argv[first];
    const char *method = "eth_getBlockByNumber";
    char number[U256_HEX_LEN];
    uint64_t n = 0;
    if (strcmp(arg, "latest") == 0 || strcmp(arg, "earliest") == 0 || strcmp(arg, "pending") == 0) {
        snprintf(number, sizeof(number), "%s", arg);
    } else if (is_hash(arg)) {
        method = "eth_getBlockByHash";
        snprintf(number, sizeof(number), "%s", arg);
    } else if (cli_parse_u64(arg, &n) == TC_OK) {
        u256_to_hex(u256_from_u64(n), number);
    } else {
        return usage_error(argv[0], "not a block number, tag or hash: %s", arg);
    }
    if (open_client(&c, argv[0], &o) != TC_OK)
        return 1;
    return call_and_show(&c, argv[0], method, string_params(number, &o.full), &o, "block", arg,
                         NULL, print_block);
}

/* ---- status ------------------------------------------------------------ */

static const char usage_status[] =
    "usage: teechain status [--rpc URL] [--json]\n"
    "\n"
    "Shows the chain id, block height, peer count and, when the node serves\n"
    "them, its sync and consensus status.\n"
    "\n"
    "      --rpc URL         node JSON-RPC endpoint (default http://127.0.0.1:20200)\n"
    "      --timeout-ms MS   per-call timeout (default 10000)\n"
    "      --json            print {\"chainId\", \"blockNumber\", \"peerCount\",\n"
    "                        \"syncStatus\", \"consensusStatus\"} as the node returned them\n";

static int run_status(int argc, char **argv)
{
    static const struct {
        const char *method;
        const char *key;
        const char *label;
        bool optional; /* tolerate "method not found" */
    } calls[] = {
        { "eth_chainId", "chainId", "chain id", false },
        { "eth_blockNumber", "blockNumber", "block number", false },
        { "net_peerCount", "peerCount", "peers", false },
        { "getSyncStatus", "syncStatus", "sync status", true },
        { "getConsensusStatus", "consensusStatus", "consensus status", true },
    };
    struct rpc_opts o;
    struct rpc_client c;
    int status = 0;
    int first = parse_rpc_opts(argc, argv, false, &o, &status);
    if (first < 0)
        return status;
    if (first != argc)
        return usage_error(argv[0], "unexpected argument %s", argv[first]);
    if (open_client(&c, argv[0], &o) != TC_OK)
        return 1;
    cJSON *all = cJSON_CreateObject();
    if (all == NULL)
        return 1;
    int exit_status = 0;
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        cJSON *result = NULL;
        int rc = rpc_client_call(&c, calls[i].method, NULL, &result);
        if (rc == TC_EPERM && calls[i].optional && c.has_rpc_error &&
            c.rpc_error_code == RPC_CLIENT_METHOD_NOT_FOUND)
            continue;
        if (rc != TC_OK) {
            fprintf(stderr, "teechain status: %s: %s\n", calls[i].method, c.err);
            exit_status = 1;
            break;
        }
        cJSON_AddItemToObject(all, calls[i].key, result);
        if (o.json)
            continue;
        if (cJSON_IsString(result)) {
            print_quantity(calls[i].label, all, calls[i].key);
        } else {
            char *text = cJSON_PrintUnformatted(result);
            print_row(calls[i].label, text != NULL ? text : "?");
            free(text);
        }
    }
    if (exit_status == 0 && o.json)
        print_json(all);
    cJSON_Delete(all);
    return exit_status;
}

/* ---- send and deploy ----------------------------------------------------- */

static const char usage_send[] =
    "usage: teechain send --to ADDR --value N (--key FILE | --from-account ADDR) [options]\n"
    "       teechain send ADDR 'sig(types)' [ARGS...] (--key FILE | --from-account ADDR)\n"
    "                     [options]\n"
    "\n"
    "Signs a transfer, or a call of a contract function, sends it with\n"
    "eth_sendRawTransaction and waits for its receipt. A contract call encodes\n"
    "ARGS with the Solidity ABI (see docs/cli.md) and exits 1 if the receipt's\n"
    "status is 0. Put -- before arguments that start with '-' (negative numbers).\n"
    "\n"
    "      --to ADDR             recipient of a transfer (any case; mixed case must be EIP-55)\n"
    "      --value N             amount: wei, or with a unit: 5gwei, 1ether, 1.5ether\n"
    "      --key FILE            the sender's key file (64 hex digits)\n"
    "      --from-account ADDR   use DIR/ADDR.key from the chain's accounts folder\n"
    "      --accounts-dir DIR    that folder (default nodes/accounts)\n"
    "      --gas G               gas limit (default: 21000 for a transfer,\n"
    "                            eth_estimateGas for a contract call)\n"
    "      --nonce N             nonce (default: eth_getTransactionCount pending)\n"
    "      --legacy              legacy EIP-155 transaction instead of EIP-1559\n"
    "      --wait-s S            wait up to S seconds for the receipt; 0: do not wait\n"
    "                            (default 30)\n"
    "      --rpc URL             node JSON-RPC endpoint (default http://127.0.0.1:20200)\n"
    "      --timeout-ms MS       per-call timeout (default 10000)\n"
    "      --json                print the receipt as JSON\n";

static const char usage_deploy[] =
    "usage: teechain deploy FILE.bin [--args 'constructor(types)' ARGS...]\n"
    "                       (--key FILE | --from-account ADDR) [options]\n"
    "\n"
    "Deploys a contract: reads its bytecode as solc --bin writes it (hex, optional\n"
    "0x, whitespace ignored), appends the ABI-encoded constructor arguments, sends\n"
    "a creation transaction, waits for the receipt and prints the contract address.\n"
    "Exits 1 if the receipt's status is 0. Put -- before arguments that start\n"
    "with '-'.\n"
    "\n"
    "      --args SIG            constructor signature, e.g. 'constructor(uint256,string)';\n"
    "                            its arguments follow FILE\n"
    "      --value N             endowment: wei, or with a unit (default 0)\n"
    "      --key FILE            the sender's key file (64 hex digits)\n"
    "      --from-account ADDR   use DIR/ADDR.key from the chain's accounts folder\n"
    "      --accounts-dir DIR    that folder (default nodes/accounts)\n"
    "      --gas G               gas limit (default: eth_estimateGas)\n"
    "      --nonce N             nonce (default: eth_getTransactionCount pending)\n"
    "      --legacy              legacy EIP-155 transaction instead of EIP-1559\n"
    "      --wait-s S            wait up to S seconds for the receipt (default 30)\n"
    "      --rpc URL             node JSON-RPC endpoint (default http://127.0.0.1:20200)\n"
    "      --timeout-ms MS       per-call timeout (default 10000)\n"
    "      --json                print the receipt as JSON\n";

enum tx_command { TX_CMD_SEND, TX_CMD_DEPLOY };

struct send_args {
    struct cli_send_opts send;
    const char *key_file;
    const char *from_account;
    const char *accounts_dir;
    const char *args_sig; /* deploy --args */
    bool have_to;
    bool json;
};

/* Parses an address argument; a usage error names the option or argument. */
static int parse_address_arg(const char *cmd, const char *what, const char *s, uint8_t out[20],
                             int *status)
{
    int rc = cli_parse_address(s, out);
    if (rc == TC_OK)
        return 0;
    char fmt[96];
    snprintf(fmt, sizeof(fmt), "%s: %s", what,
             rc == TC_ECRYPTO ? "EIP-55 checksum mismatch in %s" : "not an address: %s");
    *status = usage_error(cmd, fmt, s);
    return -1;
}

/*
 * Parses the options of send and deploy. Returns the index of the first
 * positional argument, or -1 after a usage error or --help (*status set).
 */
static int parse_send(int argc, char **argv, enum tx_command kind, struct send_args *a, int *status)
{
    static const struct option opts[] = {
        { "to", required_argument, NULL, OPT_TO },
        { "value", required_argument, NULL, OPT_VALUE },
        { "key", required_argument, NULL, OPT_KEY },
        { "from-account", required_argument, NULL, OPT_FROM_ACCOUNT },
        { "accounts-dir", required_argument, NULL, OPT_ACCOUNTS_DIR },
        { "gas", required_argument, NULL, OPT_GAS },
        { "nonce", required_argument, NULL, OPT_NONCE },
        { "legacy", no_argument, NULL, OPT_LEGACY },
        { "wait-s", required_argument, NULL, OPT_WAIT_S },
        { "rpc", required_argument, NULL, OPT_RPC },
        { "timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS },
        { "json", no_argument, NULL, OPT_JSON },
        { "args", required_argument, NULL, OPT_ARGS },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t v = 0;
    int rc;
    reset_getopt();
    for (int opt; (opt = next_opt(argc, argv, "h", opts)) != -1;) {
        switch (opt) {
        case OPT_TO:
            if (kind == TX_CMD_DEPLOY) {
                *status = usage_error(argv[0], "%s", "--to does not apply to deploy");
                return -1;
            }
            if (parse_address_arg(argv[0], "--to", optarg, a->send.to, status) != 0)
                return -1;
            a->have_to = true;
            break;
        case OPT_ARGS:
            if (kind != TX_CMD_DEPLOY) {
                *status = usage_error(argv[0], "%s",
                                      "--args applies to deploy; give ADDR 'sig(types)' ARGS");
                return -1;
            }
            a->args_sig = optarg;
            break;
        case OPT_VALUE:
            rc = cli_parse_value(optarg, &a->send.value);
            if (rc != TC_OK) {
                *status = usage_error(argv[0],
                                      rc == TC_ERANGE ? "--value: more than 2^256-1 wei: %s"
                                                      : "--value: expected wei or N<unit>: %s",
                                      optarg);
                return -1;
            }
            break;
        case OPT_KEY:
            a->key_file = optarg;
            break;
        case OPT_FROM_ACCOUNT:
            a->from_account = optarg;
            break;
        case OPT_ACCOUNTS_DIR:
            a->accounts_dir = optarg;
            break;
        case OPT_GAS:
            if (cli_parse_u64(optarg, &a->send.gas_limit) != TC_OK || a->send.gas_limit == 0) {
                *status =
                    usage_error(argv[0], "--gas: expected a positive integer, got %s", optarg);
                return -1;
            }
            break;
        case OPT_NONCE:
            if (cli_parse_u64(optarg, &a->send.nonce) != TC_OK) {
                *status = usage_error(argv[0], "--nonce: expected an integer, got %s", optarg);
                return -1;
            }
            a->send.has_nonce = true;
            break;
        case OPT_LEGACY:
            a->send.legacy = true;
            break;
        case OPT_WAIT_S:
            if (cli_parse_u64(optarg, &v) != TC_OK || v > 86400) {
                *status = usage_error(argv[0], "--wait-s: expected 0..86400, got %s", optarg);
                return -1;
            }
            a->send.wait_s = (uint32_t)v;
            break;
        case OPT_RPC:
            a->send.rpc_url = optarg;
            break;
        case OPT_TIMEOUT_MS:
            if (cli_parse_u64(optarg, &v) != TC_OK || v == 0 || v > 3600000) {
                *status = usage_error(argv[0], "--timeout-ms: expected 1..3600000, got %s", optarg);
                return -1;
            }
            a->send.timeout_ms = (uint32_t)v;
            break;
        case OPT_JSON:
            a->json = true;
            break;
        case 'h':
            *status = print_usage(argv[0]);
            return -1;
        default:
            *status = EXIT_USAGE;
            return -1;
        }
    }
    int positional = argc - optind;
    if (kind == TX_CMD_DEPLOY) {
        if (positional == 0) {
            *status = usage_error(argv[0], "%s", "expected the bytecode file FILE.bin");
            return -1;
        }
        if (positional > 1 && a->args_sig == NULL) {
            *status = usage_error(argv[0],
                                  "unexpected argument %s (constructor arguments need "
                                  "--args 'constructor(types)')",
                                  argv[optind + 1]);
            return -1;
        }
        if (a->send.wait_s == 0) {
            *status =
                usage_error(argv[0], "%s", "--wait-s: deploy waits for the receipt (1..86400)");
            return -1;
        }
    } else if (positional == 0 && !a->have_to) {
        *status = usage_error(argv[0], "%s",
                              "--to ADDR (a transfer) or ADDR 'sig(types)' ARGS (a contract "
                              "call) is required");
        return -1;
    } else if (positional > 0 && a->have_to) {
        *status = usage_error(argv[0], "unexpected argument %s (a transfer takes no arguments)",
                              argv[optind]);
        return -1;
    } else if (positional == 1) {
        *status = usage_error(argv[0], "expected a function signature after %s", argv[optind]);
        return -1;
    }
    if ((a->key_file == NULL) == (a->from_account == NULL)) {
        *status = usage_error(argv[0], "%s", "give exactly one of --key FILE, --from-account ADDR");
        return -1;
    }
    return optind;
}

/* Reads the sender's key from --key or --from-account. */
static int load_sender_key(const char *cmd, const struct send_args *a, uint8_t seckey[32])
{
    char err[1024], path[PATH_MAX];
    const char *file = a->key_file;
    if (a->from_account != NULL) {
        uint8_t address[20];
        char name[CLI_ADDRESS_STR_LEN];
        if (cli_parse_address(a->from_account, address) != TC_OK) {
            fprintf(stderr, "teechain %s: --from-account: not a valid address: %s\n", cmd,
                    a->from_account);
            return TC_EINVAL;
        }
        cli_address_checksum(address, name);
        snprintf(path, sizeof(path), "%s/%s.key", a->accounts_dir, name);
        file = path;
    }
    int rc = cli_read_key_file(file, seckey, err, sizeof(err));
    if (rc != TC_OK)
        fprintf(stderr, "teechain %s: %s\n", cmd, err);
    return rc;
}

static void init_send_args(struct send_args *a)
{
    memset(a, 0, sizeof(*a));
    a->accounts_dir = "nodes/accounts";
    a->send.wait_s = CLI_SEND_DEFAULT_WAIT_S;
}

static int run_transfer(struct send_args *a)
{
    struct cli_send_result r;
    char err[1024], hash[67] = "0x";
    if (load_sender_key("send", a, a->send.seckey) != TC_OK)
        return 1;
    int rc = cli_send(&a->send, &r, err, sizeof(err));
    OPENSSL_cleanse(a->send.seckey, sizeof(a->send.seckey));
    hex_encode(r.hash, 32, hash + 2);
    if (rc != TC_OK) {
        if (r.submitted)
            printf("transaction        %s (submitted)\n", hash);
        fprintf(stderr, "teechain send: %s\n", err);
        cli_send_result_free(&r);
        return 1;
    }
    if (a->json && r.receipt != NULL)
        print_json(r.receipt);
    else if (a->json)
        printf("{\"transactionHash\":\"%s\"}\n", hash);
    else if (r.receipt != NULL)
        print_receipt(r.receipt);
    else
        print_row("transaction", hash);
    cli_send_result_free(&r);
    return 0;
}

/* Prints "teechain CMD: execution reverted[: reason]" for revert data. */
static void print_revert(const char *cmd, const struct cli_revert *rev)
{
    char *reason = abi_revert_reason(rev->data.ptr, rev->data.len);
    fprintf(stderr, "teechain %s: execution reverted%s%s\n", cmd, reason[0] != '\0' ? ": " : "",
            reason);
    free(reason);
}

/* eth_estimateGas for the transaction in a->send; the estimate is used as is. */
static int estimate_gas(const char *cmd, struct send_args *a)
{
    struct rpc_client c;
    struct cli_revert rev;
    char err[1024];
    uint8_t from[20];
    if (ecdsa_address_from_seckey(a->send.seckey, from) != TC_OK) {
        fprintf(stderr, "teechain %s: invalid private key\n", cmd);
        return TC_EINVAL;
    }
    int rc = rpc_client_init(&c, a->send.rpc_url != NULL ? a->send.rpc_url : RPC_CLIENT_DEFAULT_URL,
                             a->send.timeout_ms != 0 ? a->send.timeout_ms
                                                     : RPC_CLIENT_DEFAULT_TIMEOUT_MS);
    if (rc != TC_OK) {
        fprintf(stderr, "teechain %s: %s\n", cmd, c.err);
        return rc;
    }
    cJSON *obj =
        cli_call_object(from, a->send.create ? NULL : a->send.to, a->send.value, a->send.data);
    if (obj == NULL)
        return TC_ENOMEM;
    cli_revert_init(&rev);
    rc = cli_estimate_gas(&c, obj, &a->send.gas_limit, &rev, err, sizeof(err));
    if (rc != TC_OK && rev.reverted)
        print_revert(cmd, &rev);
    else if (rc != TC_OK)
        fprintf(stderr, "teechain %s: %s\n", cmd, err);
    cli_revert_free(&rev);
    cJSON_Delete(obj);
    return rc;
}

/*
 * Signs and sends the contract transaction in a->send (gas estimated when
 * --gas was not given), waits for the receipt and prints it. Returns the
 * exit status: 1 also when the receipt's status is 0.
 */
static int submit_contract_tx(const char *cmd, struct send_args *a)
{
    struct cli_send_result r;
    char err[1024], hash[67] = "0x";
    if (load_sender_key(cmd, a, a->send.seckey) != TC_OK)
        return 1;
    if (a->send.gas_limit == 0 && estimate_gas(cmd, a) != TC_OK) {
        OPENSSL_cleanse(a->send.seckey, sizeof(a->send.seckey));
        return 1;
    }
    int rc = cli_send(&a->send, &r, err, sizeof(err));
    OPENSSL_cleanse(a->send.seckey, sizeof(a->send.seckey));
    hex_encode(r.hash, 32, hash + 2);
    if (rc != TC_OK) {
        if (r.submitted)
            printf("transaction        %s (submitted)\n", hash);
        fprintf(stderr, "teechain %s: %s\n", cmd, err);
        cli_send_result_free(&r);
        return 1;
    }
    if (r.receipt == NULL) {
        if (a->json)
            printf("{\"transactionHash\":\"%s\"}\n", hash);
        else
            print_row("transaction", hash);
        return 0;
    }
    uint64_t status = 0;
    cli_json_u64(cJSON_GetObjectItemCaseSensitive(r.receipt, "status"), &status);
    if (a->json) {
        print_json(r.receipt);
    } else {
        print_receipt(r.receipt); /* with the contract address of a creation */
    }
    cli_send_result_free(&r);
    if (status != 1) {
        fprintf(stderr, "teechain %s: transaction %s failed (status 0: reverted or out of gas)\n",
                cmd, hash);
        return 1;
    }
    return 0;
}

/*
 * Parses a signature for call/send (a function name is required) and
 * encodes the call data. Returns 0, or -1 after a usage error (*status set).
 */
static int encode_call_args(const char *cmd, const char *sig_text, int argc, char **argv,
                            struct abi_signature *sig, struct bytes *data, int *status)
{
    char err[1024];
    if (abi_signature_parse(sig_text, sig, err, sizeof(err)) != TC_OK) {
        *status = usage_error(cmd, "bad signature: %s", err);
        return -1;
    }
    if (sig->name[0] == '\0') {
        abi_signature_free(sig);
        *status = usage_error(cmd, "the signature needs a function name: %s", sig_text);
        return -1;
    }
    if (abi_encode_call(sig, argc, (const char *const *)argv, data, err, sizeof(err)) != TC_OK) {
        abi_signature_free(sig);
        *status = usage_error(cmd, "%s", err);
        return -1;
    }
    return 0;
}

static int run_send(int argc, char **argv)
{
    struct send_args a;
    struct abi_signature sig;
    struct bytes data;
    int status = 0;
    init_send_args(&a);
    int first = parse_send(argc, argv, TX_CMD_SEND, &a, &status);
    if (first < 0)
        return status;
    if (first == argc)
        return run_transfer(&a);
    if (parse_address_arg(argv[0], "contract address", argv[first], a.send.to, &status) != 0)
        return status;
    bytes_init(&data);
    if (encode_call_args(argv[0], argv[first + 1], argc - first - 2, argv + first + 2, &sig, &data,
                         &status) != 0) {
        bytes_free(&data);
        return status;
    }
    a.send.data = bytes_as_view(&data);
    status = submit_contract_tx(argv[0], &a);
    abi_signature_free(&sig);
    bytes_free(&data);
    return status;
}

static int run_deploy(int argc, char **argv)
{
    struct send_args a;
    struct abi_signature sig;
    struct bytes code;
    char err[1024];
    int status = 0;
    init_send_args(&a);
    int first = parse_send(argc, argv, TX_CMD_DEPLOY, &a, &status);
    if (first < 0)
        return status;
    memset(&sig, 0, sizeof(sig));
    bytes_init(&code);
    if (a.args_sig != NULL) {
        if (abi_signature_parse(a.args_sig, &sig, err, sizeof(err)) != TC_OK) {
            status = usage_error(argv[0], "--args: %s", err);
            goto out_free_code;
        }
        if (sig.outputs != NULL) {
            status =
                usage_error(argv[0], "--args: a constructor has no return types: %s", a.args_sig);
            goto out_free_sig;
        }
    }
    if (cli_read_bytecode(argv[first], &code, err, sizeof(err)) != TC_OK) {
        fprintf(stderr, "teechain deploy: %s\n", err);
        status = 1;
        goto out_free_sig;
    }
    if (a.args_sig != NULL &&
        abi_encode_args(sig.inputs, argc - first - 1, (const char *const *)argv + first + 1, &code,
                        err, sizeof(err)) != TC_OK) {
        status = usage_error(argv[0], "%s", err);
        goto out_free_sig;
    }
    a.send.create = true;
    a.send.data = bytes_as_view(&code);
    status = submit_contract_tx(argv[0], &a);
out_free_sig:
    abi_signature_free(&sig);
out_free_code:
    bytes_free(&code);
    return status;
}

/* ---- call -------------------------------------------------------------- */

static const char usage_call[] =
    "usage: teechain call ADDR 'sig(types)(return types)' [ARGS...] [options]\n"
    "\n"
    "Calls a contract function without a transaction (eth_call) and prints the\n"
    "decoded return values, one per line (the raw 0x data when no return types\n"
    "are given). A revert prints \"execution reverted: REASON\" and exits 1. Put --\n"
    "before arguments that start with '-'.\n"
    "\n"
    "      --from ADDR       the caller (msg.sender); default: none\n"
    "      --block TAG       latest (default), earliest, pending, safe, finalized,\n"
    "                        or a block number\n"
    "      --rpc URL         node JSON-RPC endpoint (default http://127.0.0.1:20200)\n"
    "      --timeout-ms MS   per-call timeout (default 10000)\n"
    "      --json            print the return values as a JSON array (integers as\n"
    "                        decimal strings), or the raw data as a JSON string\n";

struct call_args {
    struct rpc_opts rpc;
    bool has_from;
    uint8_t from[20];
    char block[U256_HEX_LEN];
};

static int parse_call(int argc, char **argv, struct call_args *a, int *status)
{
    static const struct option opts[] = {
        { "rpc", required_argument, NULL, OPT_RPC },
        { "json", no_argument, NULL, OPT_JSON },
        { "timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS },
        { "from", required_argument, NULL, OPT_FROM },
        { "block", required_argument, NULL, OPT_BLOCK },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t v = 0;
    memset(a, 0, sizeof(*a));
    a->rpc.url = RPC_CLIENT_DEFAULT_URL;
    a->rpc.timeout_ms = RPC_CLIENT_DEFAULT_TIMEOUT_MS;
    snprintf(a->block, sizeof(a->block), "latest");
    reset_getopt();
    for (int opt; (opt = next_opt(argc, argv, "h", opts)) != -1;) {
        switch (opt) {
        case OPT_RPC:
            a->rpc.url = optarg;
            break;
        case OPT_JSON:
            a->rpc.json = true;
            break;
        case OPT_TIMEOUT_MS:
            if (cli_parse_u64(optarg, &v) != TC_OK || v == 0 || v > 3600000) {
                *status = usage_error(argv[0], "--timeout-ms: expected 1..3600000, got %s", optarg);
                return -1;
            }
            a->rpc.timeout_ms = (uint32_t)v;
            break;
        case OPT_FROM:
            if (parse_address_arg(argv[0], "--from", optarg, a->from, status) != 0)
                return -1;
            a->has_from = true;
            break;
        case OPT_BLOCK:
            if (cli_parse_block_tag(optarg, a->block) != TC_OK) {
                *status =
                    usage_error(argv[0], "--block: expected a tag or a number, got %s", optarg);
                return -1;
            }
            break;
        case 'h':
            *status = print_usage(argv[0]);
            return -1;
        default:
            *status = EXIT_USAGE;
            return -1;
        }
    }
    if (argc - optind < 2) {
        *status = usage_error(argv[0], "%s", "expected ADDR 'sig(types)(return types)' [ARGS...]");
        return -1;
    }
    return optind;
}

/* Prints eth_call's answer: decoded by sig's return types, or raw. */
static int print_call_result(const struct abi_signature *sig, const struct bytes *ret, bool json)
{
    char err[1024], *text = NULL;
    cJSON *values = NULL;
    if (sig->outputs == NULL) {
        char *hex = malloc(2 * ret->len + 3);
        if (hex == NULL)
            return 1;
        hex[0] = '0';
        hex[1] = 'x';
        hex_encode(ret->ptr, ret->len, hex + 2);
        printf(json ? "\"%s\"\n" : "%s\n", hex);
        free(hex);
        return 0;
    }
    if (abi_decode(sig->outputs, ret->ptr, ret->len, json ? NULL : &text, json ? &values : NULL,
                   err, sizeof(err)) != TC_OK) {
        fprintf(stderr, "teechain call: cannot decode the %zu byte(s) returned: %s%s\n", ret->len,
                err, ret->len == 0 ? " (is the address a contract?)" : "");
        return 1;
    }
    if (json)
        print_json(values);
    else if (text[0] != '\0' || sig->outputs->member_count > 0)
        printf("%s\n", text);
    cJSON_Delete(values);
    free(text);
    return 0;
}

static int run_call(int argc, char **argv)
{
    struct call_args a;
    struct abi_signature sig;
    struct rpc_client c;
    struct cli_revert rev;
    struct bytes data, ret;
    uint8_t to[20];
    char err[1024];
    int status = 0;
    int first = parse_call(argc, argv, &a, &status);
    if (first < 0)
        return status;
    if (parse_address_arg(argv[0], "contract address", argv[first], to, &status) != 0)
        return status;
    bytes_init(&data);
    if (encode_call_args(argv[0], argv[first + 1], argc - first - 2, argv + first + 2, &sig, &data,
                         &status) != 0) {
        bytes_free(&data);
        return status;
    }
    status = 1;
    bytes_init(&ret);
    cli_revert_init(&rev);
    cJSON *obj = cli_call_object(a.has_from ? a.from : NULL, to, u256_zero(), bytes_as_view(&data));
    if (obj == NULL || open_client(&c, argv[0], &a.rpc) != TC_OK)
        goto out_free;
    int rc = cli_eth_call(&c, obj, a.block, &ret, &rev, err, sizeof(err));
    if (rc != TC_OK && rev.reverted)
        print_revert(argv[0], &rev);
    else if (rc != TC_OK)
        fprintf(stderr, "teechain call: %s\n", err);
    else
        status = print_call_result(&sig, &ret, a.rpc.json);
out_free:
    cJSON_Delete(obj);
    cli_revert_free(&rev);
    bytes_free(&ret);
    bytes_free(&data);
    abi_signature_free(&sig);
    return status;
}

/* ---- table ------------------------------------------------------------- */

const struct cli_command cli_commands[] = {
    { "build-chain", "generate a chain: CA, node keys and certificates, configs, scripts",
      usage_build_chain, run_build_chain },
    { "account", "account new: generate a funded-style account key file", usage_account,
      run_account },
    { "send", "sign and send a transfer or a contract call, wait for its receipt", usage_send,
      run_send },
    { "deploy", "deploy a contract from solc's hex bytecode, print its address", usage_deploy,
      run_deploy },
    { "call", "call a contract function with eth_call, print the decoded result", usage_call,
      run_call },
    { "tx", "show a transaction by hash", usage_tx, run_tx },
    { "receipt", "show a transaction receipt by hash", usage_receipt, run_receipt },
    { "block", "show a block by number, tag or hash", usage_block, run_block },
    { "status", "show chain id, height, peers, sync and consensus status", usage_status,
      run_status },
    { "bench", "load generator: pre-signed transfers, committed TPS, latency percentiles",
      bench_usage, bench_command_run },
    { "node", "node add|promote|remove|list: change or show the consensus membership",
      cli_node_usage, cli_node_run },
};

const size_t cli_command_count = sizeof(cli_commands) / sizeof(cli_commands[0]);

const struct cli_command *cli_find_command(const char *name)
{
    for (size_t i = 0; i < cli_command_count; i++) {
        if (strcmp(cli_commands[i].name, name) == 0)
            return &cli_commands[i];
    }
    return NULL;
}

static void print_help(FILE *out)
{
    fprintf(out, "usage: teechain COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < cli_command_count; i++)
        fprintf(out, "  %-12s %s\n", cli_commands[i].name, cli_commands[i].summary);
    fprintf(out, "  %-12s %s\n", "help", "this overview; teechain help COMMAND for details");
    fprintf(out, "\nteechain COMMAND --help shows a command's options.\n");
}

int cli_main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        if (argc >= 3) {
            const struct cli_command *c = cli_find_command(argv[2]);
            if (c == NULL) {
                fprintf(stderr, "teechain: unknown command %s\n", argv[2]);
                return EXIT_USAGE;
            }
            fputs(c->usage, stdout);
            return 0;
        }
        print_help(stdout);
        return 0;
    }
    const struct cli_command *c = cli_find_command(argv[1]);
    if (c == NULL) {
        fprintf(stderr, "teechain: unknown command %s\n\n", argv[1]);
        print_help(stderr);
        return EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
