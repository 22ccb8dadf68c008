/*
 * chain_builder.h - `teechain build-chain`: writes every file a new chain
 * needs, in the layout of DESIGN.md §9 (as FISCO BCOS's build_chain.sh):
 *
 *   OUT/ca/ca.key ca.crt                 chain CA (P-256), key mode 0600
 *   OUT/accounts/0x<EIP-55>.key          funded development accounts
 *   OUT/<ip>/start_all.sh stop_all.sh
 *   OUT/<ip>/nodeN/config.ini config.genesis start.sh stop.sh
 *   OUT/<ip>/nodeN/conf/ca.crt ssl.crt ssl.key node.pem node.nodeid
 *                       [storage.key]    with storage_security
 *
 * Node numbers count per host from 0, and so do ports: node i of a host
 * listens on p2p_port + i and rpc_port + i. Every node's config.genesis is
 * the same bytes. Private keys are created with O_CREAT|O_EXCL, mode 0600.
 *
 * Usage:
 *     struct chain_spec spec;
 *     chain_spec_defaults(&spec);
 *     if (chain_parse_hosts("127.0.0.1:4", &spec, err, sizeof(err)) != 0 ...
 *     snprintf(spec.out_dir, ...); snprintf(spec.bin_path, ...);
 *     if (chain_build(&spec, err, sizeof(err)) != 0) fprintf(stderr, "%s\n", err);
 *
 * Growing a running chain (chain_expand, `build-chain --expand`): writes the
 * folders of new nodes into an existing OUT, next to the nodes already there,
 * with keys of their own and TLS certificates signed by the existing
 * OUT/ca/ca.key. Their config.genesis is a byte-for-byte copy of the chain's
 * (the genesis never changes: new nodes learn the membership from the chain);
 * their config.ini lists the given peers (the running nodes) and each other.
 *     chain_spec_defaults(&spec);
 *     chain_parse_hosts("127.0.0.1:1", &spec, ...); chain_parse_peers(...);
 *     snprintf(spec.out_dir/bin_path/genesis_path, ...);
 *     chain_expand(&spec, &added, err, sizeof(err));   (added.nodes[i].id ...)
 *
 * Errors: 0 or a negative TC_E* code with a one-line reason in err.
 */
#ifndef TC_CLI_CHAIN_BUILDER_H
#define TC_CLI_CHAIN_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/config.h"

#define CHAIN_MAX_HOSTS        CONFIG_MAX_SEALERS
#define CHAIN_MAX_NODES        CONFIG_MAX_SEALERS
#define CHAIN_MAX_ACCOUNTS     10000
#define CHAIN_DEFAULT_ACCOUNTS 10
#define CHAIN_DEFAULT_P2P_PORT 30300
#define CHAIN_DEFAULT_RPC_PORT 20200
/* Balance of each development account: 1,000,000 ether in wei. */
#define CHAIN_ACCOUNT_BALANCE_WEI "1000000000000000000000000"

struct chain_host {
    char ip[64]; /* IPv4 literal */
    uint32_t node_count;
};

struct chain_spec {
    size_t host_count;
    struct chain_host hosts[CHAIN_MAX_HOSTS];
    enum consensus_type consensus; /* default raft */
    uint32_t account_count;        /* default CHAIN_DEFAULT_ACCOUNTS */
    uint64_t chain_id;             /* default 20200 */
    uint16_t p2p_port;             /* first P2P port on each host */
    uint16_t rpc_port;             /* first RPC port on each host */
    bool storage_security;         /* write conf/storage.key and enable it */
    bool force;                    /* replace what an earlier build wrote in out_dir */
    uint64_t timestamp_ms;         /* genesis timestamp; 0 = now */
    char out_dir[CONFIG_MAX_PATH];
    char bin_path[CONFIG_MAX_PATH]; /* absolute path of teechaind for start.sh */
    /* chain_expand only: the chain's genesis file and the running nodes. */
    char genesis_path[CONFIG_MAX_PATH];
    size_t peer_count;
    struct net_endpoint peers[CONFIG_MAX_PEERS];
};

/* A node written by chain_expand. */
struct chain_new_node {
    char ip[64];    /* its host */
    uint32_t index; /* N of OUT/<ip>/nodeN */
    uint16_t p2p_port;
    uint16_t rpc_port;
    uint8_t id[64]; /* node ID, for `teechain node add` */
};

struct chain_expansion {
    size_t node_count;
    struct chain_new_node nodes[CHAIN_MAX_NODES];
};

/* Defaults above; no hosts, empty out_dir and bin_path. */
void chain_spec_defaults(struct chain_spec *spec);

/*
 * Parses "-l": "IP:COUNT[,IP:COUNT...]" (IPv4 literals, distinct, COUNT >= 1,
 * CHAIN_MAX_NODES nodes in all). Returns 0 or TC_EINVAL.
 */
int chain_parse_hosts(const char *arg, struct chain_spec *spec, char *err, size_t err_len);

/*
 * Parses "-p": "P2P_PORT,RPC_PORT". Returns 0 or TC_EINVAL.
 */
int chain_parse_ports(const char *arg, struct chain_spec *spec, char *err, size_t err_len);

/*
 * Parses "--peers": "HOST:PORT[,HOST:PORT...]" (a host name, an IPv4
 * literal or a bracketed IPv6 literal; PORT 1..65535; at most
 * CONFIG_MAX_PEERS) into spec->peers. Returns 0 or TC_EINVAL.
 */
int chain_parse_peers(const char *arg, struct chain_spec *spec, char *err, size_t err_len);

/*
 * Writes the chain. Refuses (TC_EEXIST) when out_dir exists and is not empty,
 * unless spec->force: then ca/, accounts/ and the host folders it is about to
 * write are removed first (nothing else in out_dir is touched).
 * Returns 0, TC_EINVAL (bad spec: ports beyond 65535, no hosts, a bin path
 * with a quote), TC_EEXIST, TC_EIO or TC_ECRYPTO.
 */
int chain_build(const struct chain_spec *spec, char *err, size_t err_len);

/*
 * Adds spec->hosts[h].node_count new nodes on each host of spec to the chain
 * in spec->out_dir (which must hold ca/ca.key and ca/ca.crt). On each host,
 * new nodes are numbered after the highest existing OUT/<ip>/nodeN (from 0
 * when there is none) and take the ports base + N. Each gets conf/ (as
 * chain_build writes it, certificate signed by the existing CA),
 * config.genesis (the bytes of spec->genesis_path, which must load as a
 * genesis), config.ini (peers = spec->peers, then the other new nodes),
 * start.sh and stop.sh; the host's start_all.sh and stop_all.sh are replaced
 * (atomically, by rename) by ones that run every nodeN folder of the host.
 * No other existing file is touched; files are created with O_EXCL, and a
 * node folder that exists already is an error. On failure, the node folders
 * this call created are removed again. spec->consensus, account_count,
 * chain_id and force are not used (the genesis holds the chain's settings).
 * On success fills *added (the caller owns it; nothing to free).
 * Returns 0, TC_EINVAL (bad spec, no peers, ports beyond 65535, a genesis
 * that does not load), TC_ENOTFOUND (no CA in out_dir), TC_EEXIST, TC_EIO,
 * TC_ETOOBIG or TC_ECRYPTO (a CA key that does not match its certificate).
 */
int chain_expand(const struct chain_spec *spec, struct chain_expansion *added, char *err,
                 size_t err_len);

#endif
