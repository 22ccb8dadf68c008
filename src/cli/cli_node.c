/* cli_node.c - `teechain node`: membership changes through 0x...1003, and the list. */
#include "cli/cli_node.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "base/error.h"
#include "cli/abi.h"
#include "cli/cli_contract.h"
#include "cli/cli_send.h"
#include "cli/cli_util.h"
#include "cli/rpc_client.h"
#include "crypto/ecdsa.h"
#include "exec/syscontract.h"
#include "net/node_cert.h"

#define EXIT_USAGE 2

const char cli_node_usage[] =
    "usage: teechain node add NODEID [options]\n"
    "       teechain node promote NODEID [--weight W] [options]\n"
    "       teechain node remove NODEID [options]\n"
    "       teechain node list [--rpc URL] [--json]\n"
    "\n"
    "Changes the chain's consensus membership with a transaction to the\n"
    "consensus system contract 0x0000000000000000000000000000000000001003,\n"
    "signed with a sealer's node key. add makes NODEID an observer (it receives\n"
    "blocks but does not vote), promote makes an observer a sealer, remove takes\n"
    "a member out. The change is tried with eth_estimateGas first: if the\n"
    "contract would refuse it, the reason is printed and nothing is sent (exit 1).\n"
    "NODEID is the node's 128 hex digits (its conf/node.nodeid).\n"
    "\n"
    "      --key FILE            signing key: a sealer's node.pem, or a key file of\n"
    "                            64 hex digits (default conf/node.pem)\n"
    "      --weight W            promote: the new sealer's weight, 1..4294967295\n"
    "                            (default 1; PBFT uses it, Raft ignores it)\n"
    "      --wait-s S            wait up to S seconds for the receipt; 0: do not wait\n"
    "                            (default 30)\n"
    "      --rpc URL             node JSON-RPC endpoint (default http://127.0.0.1:20200)\n"
    "      --timeout-ms MS       per-call timeout (default 10000)\n"
    "      --json                print the receipt (or the lists) as JSON\n";

enum {
    OPT_KEY = 256,
    OPT_WEIGHT,
    OPT_WAIT_S,
    OPT_RPC,
    OPT_TIMEOUT_MS,
    OPT_JSON,
};

static int usage_error(const char *fmt, const char *detail)
{
    fprintf(stderr, "teechain node: ");
    fprintf(stderr, fmt, detail);
    fprintf(stderr, "\n(see teechain node --help)\n");
    return EXIT_USAGE;
}

static const struct {
    const char *name;
    enum cli_node_action action;
} actions[] = {
    { "add", CLI_NODE_ADD },
    { "promote", CLI_NODE_PROMOTE },
    { "remove", CLI_NODE_REMOVE },
    { "list", CLI_NODE_LIST },
};

/* Parses the options; returns the index of the first positional or -1 (*status set). */
static int parse_options(int argc, char **argv, struct cli_node_args *a, bool *has_weight,
                         int *status)
{
    static const struct option opts[] = {
        { "key", required_argument, NULL, OPT_KEY },
        { "weight", required_argument, NULL, OPT_WEIGHT },
        { "wait-s", required_argument, NULL, OPT_WAIT_S },
        { "rpc", required_argument, NULL, OPT_RPC },
        { "timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS },
        { "json", no_argument, NULL, OPT_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t v = 0;
    optind = 0; /* glibc: 0 re-initialises the parser completely */
    opterr = 0;
    for (int opt; (opt = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        switch (opt) {
        case OPT_KEY:
            a->key_file = optarg;
            break;
        case OPT_WEIGHT:
            if (cli_parse_u64(optarg, &v) != TC_OK || v == 0 || v > UINT32_MAX) {
                *status = usage_error("--weight: expected 1..4294967295, got %s", optarg);
                return -1;
            }
            a->weight = (uint32_t)v;
            *has_weight = true;
            break;
        case OPT_WAIT_S:
            if (cli_parse_u64(optarg, &v) != TC_OK || v > 3600) {
                *status = usage_error("--wait-s: expected 0..3600, got %s", optarg);
                return -1;
            }
            a->wait_s = (uint32_t)v;
            break;
        case OPT_RPC:
            a->rpc_url = optarg;
            break;
        case OPT_TIMEOUT_MS:
            if (cli_parse_u64(optarg, &v) != TC_OK || v == 0 || v > 3600000) {
                *status = usage_error("--timeout-ms: expected 1..3600000, got %s", optarg);
                return -1;
            }
            a->timeout_ms = (uint32_t)v;
            break;
        case OPT_JSON:
            a->json = true;
            break;
        case 'h':
            fputs(cli_node_usage, stdout);
            *status = 0;
            return -1;
        default:
            *status = usage_error("bad option or missing value: %s", argv[optind - 1]);
            return -1;
        }
    }
    return optind;
}

int cli_node_parse(int argc, char **argv, struct cli_node_args *a, int *status)
{
    bool has_weight = false;
    memset(a, 0, sizeof(*a));
    a->key_file = CLI_NODE_DEFAULT_KEY;
    a->rpc_url = RPC_CLIENT_DEFAULT_URL;
    a->timeout_ms = RPC_CLIENT_DEFAULT_TIMEOUT_MS;
    a->wait_s = CLI_SEND_DEFAULT_WAIT_S;
    a->weight = 1;
    int first = parse_options(argc, argv, a, &has_weight, status);
    if (first < 0)
        return -1;
    if (first >= argc) {
        *status = usage_error("%s", "missing action: add, promote, remove or list");
        return -1;
    }
    size_t i = 0;
    while (i < sizeof(actions) / sizeof(actions[0]) && strcmp(actions[i].name, argv[first]) != 0)
        i++;
    if (i == sizeof(actions) / sizeof(actions[0])) {
        *status = usage_error("unknown action: %s (add, promote, remove or list)", argv[first]);
        return -1;
    }
    a->action = actions[i].action;
    int want = a->action == CLI_NODE_LIST ? 1 : 2;
    if (argc - first < want) {
        *status = usage_error("%s needs a NODEID (128 hex digits)", argv[first]);
        return -1;
    }
    if (argc - first > want) {
        *status = usage_error("unexpected argument: %s", argv[first + want]);
        return -1;
    }
    if (has_weight && a->action != CLI_NODE_PROMOTE) {
        *status = usage_error("%s", "--weight applies to promote only");
        return -1;
    }
    if (want == 2 && hex_decode_exact(argv[first + 1], a->node_id, NODE_ID_BYTES) != TC_OK) {
        *status = usage_error("not a node ID (128 hex digits): %s", argv[first + 1]);
        return -1;
    }
    return 0;
}

int cli_node_call_data(const struct cli_node_args *a, struct bytes *out)
{
    const char *sig_text;
    switch (a->action) {
    case CLI_NODE_ADD:
        sig_text = "addObserver(string)";
        break;
    case CLI_NODE_PROMOTE:
        sig_text = "addSealer(string,uint256)";
        break;
    case CLI_NODE_REMOVE:
        sig_text = "remove(string)";
        break;
    default:
        return TC_EINVAL;
    }
    char id[2 * NODE_ID_BYTES + 1], weight[16], err[256];
    hex_encode(a->node_id, NODE_ID_BYTES, id);
    snprintf(weight, sizeof(weight), "%u", (unsigned)a->weight);
    const char *args[] = { id, weight };
    struct abi_signature sig;
    int rc = abi_signature_parse(sig_text, &sig, err, sizeof(err));
    if (rc != TC_OK)
        return rc;
    rc = abi_encode_call(&sig, a->action == CLI_NODE_PROMOTE ? 2 : 1, args, out, err, sizeof(err));
    abi_signature_free(&sig);
    return rc;
}

int cli_node_read_key(const char *path, uint8_t seckey[32], char *err, size_t err_len)
{
    static const char pem[] = "-----BEGIN";
    char head[sizeof(pem)] = { 0 };
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_len, "cannot read %s", path);
        return TC_EIO;
    }
    size_t n = fread(head, 1, sizeof(pem) - 1, f);
    fclose(f);
    int rc = n == sizeof(pem) - 1 && memcmp(head, pem, n) == 0
                 ? node_key_read_file(path, seckey, err, err_len)
                 : cli_read_key_file(path, seckey, err, err_len);
    if (rc != TC_OK)
        OPENSSL_cleanse(seckey, 32);
    return rc;
}

/* ---- running ------------------------------------------------------------ */

/*
 * eth_estimateGas of the change from `from`. Returns 0 with *gas, or 1 after
 * printing why (the contract's reason for a refusal).
 */
static int dry_run(const struct cli_node_args *a, const uint8_t from[20], struct bytes_view data,
                   uint64_t *gas)
{
    struct rpc_client c;
    struct cli_revert rev;
    char err[1024];
    if (rpc_client_init(&c, a->rpc_url, a->timeout_ms) != TC_OK) {
        fprintf(stderr, "teechain node: %s\n", c.err);
        return 1;
    }
    cJSON *obj = cli_call_object(from, SYSCONTRACT_CONSENSUS, u256_zero(), data);
    if (obj == NULL) {
        fprintf(stderr, "teechain node: out of memory\n");
        return 1;
    }
    cli_revert_init(&rev);
    int rc = cli_estimate_gas(&c, obj, gas, &rev, err, sizeof(err));
    if (rc != TC_OK && rev.reverted) {
        char *reason = abi_revert_reason(rev.data.ptr, rev.data.len);
        fprintf(stderr, "teechain node: refused: %s\n",
                reason[0] != '\0' ? reason : "execution reverted");
        free(reason);
    } else if (rc != TC_OK) {
        fprintf(stderr, "teechain node: %s\n", err);
    }
    cli_revert_free(&rev);
    cJSON_Delete(obj);
    return rc == TC_OK ? 0 : 1;
}

/* Prints the outcome of a sent change; returns the exit status. */
static int report(const struct cli_node_args *a, const struct cli_send_result *r)
{
    char hash[67] = "0x";
    hex_encode(r->hash, 32, hash + 2);
    if (r->receipt == NULL) {
        if (a->json)
            printf("{\"transactionHash\":\"%s\"}\n", hash);
        else
            printf("%-18s %s (sent, not waited for)\n", "transaction", hash);
        return 0;
    }
    uint64_t status = 0, block = 0;
    cli_json_u64(cJSON_GetObjectItemCaseSensitive(r->receipt, "status"), &status);
    cli_json_u64(cJSON_GetObjectItemCaseSensitive(r->receipt, "blockNumber"), &block);
    if (a->json) {
        char *text = cJSON_Print(r->receipt);
        if (text != NULL)
            printf("%s\n", text);
        free(text);
    } else {
        printf("%-18s %s\n", "transaction", hash);
        printf("%-18s %s\n", "status", status == 1 ? "success (1)" : "failed (0)");
        printf("%-18s %llu\n", "block", (unsigned long long)block);
    }
    if (status != 1) {
        fprintf(stderr, "teechain node: transaction %s failed (status 0)\n", hash);
        return 1;
    }
    return 0;
}

static int run_change(const struct cli_node_args *a)
{
    struct cli_send_opts o;
    struct cli_send_result r;
    struct bytes data;
    char err[1024];
    uint8_t from[20];
    int status = 1, rc;
    memset(&o, 0, sizeof(o));
    bytes_init(&data);
    if (cli_node_read_key(a->key_file, o.seckey, err, sizeof(err)) != TC_OK) {
        fprintf(stderr, "teechain node: %s\n", err);
        goto out_free_data;
    }
    if (ecdsa_address_from_seckey(o.seckey, from) != TC_OK) {
        fprintf(stderr, "teechain node: invalid private key in %s\n", a->key_file);
        goto out_wipe_key;
    }
    if (cli_node_call_data(a, &data) != TC_OK) {
        fprintf(stderr, "teechain node: cannot encode the call\n");
        goto out_wipe_key;
    }
    o.rpc_url = a->rpc_url;
    o.timeout_ms = a->timeout_ms;
    memcpy(o.to, SYSCONTRACT_CONSENSUS, 20);
    o.data = bytes_as_view(&data);
    o.value = u256_zero();
    o.wait_s = a->wait_s;
    if (dry_run(a, from, o.data, &o.gas_limit) != 0)
        goto out_wipe_key;
    rc = cli_send(&o, &r, err, sizeof(err));
    OPENSSL_cleanse(o.seckey, sizeof(o.seckey));
    if (rc != TC_OK) {
        if (r.submitted) {
            char hash[67] = "0x";
            hex_encode(r.hash, 32, hash + 2);
            printf("%-18s %s (submitted)\n", "transaction", hash);
        }
        fprintf(stderr, "teechain node: %s\n", err);
    } else {
        status = report(a, &r);
    }
    cli_send_result_free(&r);
out_wipe_key:
    OPENSSL_cleanse(o.seckey, sizeof(o.seckey));
out_free_data:
    bytes_free(&data);
    return status;
}

/* True if every sealer entry is {nodeID: string, weight: number} and every
   observer a string: what getSealerList/getObserverList answer. */
static bool lists_well_formed(const cJSON *sealers, const cJSON *observers)
{
    const cJSON *x;
    if (!cJSON_IsArray(sealers) || !cJSON_IsArray(observers))
        return false;
    cJSON_ArrayForEach(x, sealers)
    {
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(x, "nodeID")) ||
            !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(x, "weight")))
            return false;
    }
    cJSON_ArrayForEach(x, observers)
    {
        if (!cJSON_IsString(x))
            return false;
    }
    return true;
}

static int run_list(const struct cli_node_args *a)
{
    struct rpc_client c;
    cJSON *sealers = NULL, *observers = NULL;
    int status = 1;
    if (rpc_client_init(&c, a->rpc_url, a->timeout_ms) != TC_OK) {
        fprintf(stderr, "teechain node: %s\n", c.err);
        return 1;
    }
    if (rpc_client_call(&c, "getSealerList", NULL, &sealers) != TC_OK ||
        rpc_client_call(&c, "getObserverList", NULL, &observers) != TC_OK) {
        fprintf(stderr, "teechain node: %s\n", c.err);
        goto out_free_lists;
    }
    if (!lists_well_formed(sealers, observers)) {
        fprintf(stderr, "teechain node: the node's lists are not of the expected shape\n");
        goto out_free_lists;
    }
    if (a->json) {
        cJSON *o = cJSON_CreateObject();
        char *text = NULL;
        if (o != NULL && cJSON_AddItemReferenceToObject(o, "sealers", sealers) &&
            cJSON_AddItemReferenceToObject(o, "observers", observers))
            text = cJSON_Print(o);
        if (text != NULL)
            printf("%s\n", text);
        free(text);
        cJSON_Delete(o);
    } else {
        const cJSON *x;
        printf("sealers (%d)\n", cJSON_GetArraySize(sealers));
        cJSON_ArrayForEach(x, sealers)
        {
            printf("  %s  weight %.0f\n",
                   cJSON_GetObjectItemCaseSensitive(x, "nodeID")->valuestring,
                   cJSON_GetObjectItemCaseSensitive(x, "weight")->valuedouble);
        }
        printf("observers (%d)\n", cJSON_GetArraySize(observers));
        cJSON_ArrayForEach(x, observers)
        {
            printf("  %s\n", x->valuestring);
        }
    }
    status = 0;
out_free_lists:
    cJSON_Delete(sealers);
    cJSON_Delete(observers);
    return status;
}

int cli_node_run(int argc, char **argv)
{
    struct cli_node_args a;
    int status = 0;
    if (cli_node_parse(argc, argv, &a, &status) != 0)
        return status;
    return a.action == CLI_NODE_LIST ? run_list(&a) : run_change(&a);
}
