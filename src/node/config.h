/*
 * config.h - a node's configuration: config.ini (local) and config.genesis
 * (what every node of the chain must agree on), as FISCO BCOS 3.x Air splits
 * them (DESIGN.md §9).
 *
 * Both files are INI (parsed with inih). Every key is validated: an unknown
 * section or key, a value of the wrong form or out of range, a missing
 * required key, or a file that is not readable stops loading with a message
 * naming the file, the section, the key and the reason, e.g.
 *   config.ini: [rpc] listen_port: expected an integer in 1..65535, got "80a"
 * A key given twice is an error too (it is almost always a mistake).
 *
 * Files are bounded (CONFIG_MAX_FILE_BYTES, CONFIG_MAX_LINE_BYTES), and so
 * are the lists they hold (sealers, observers, allocations, peers, allowed
 * enclave measurements).
 *
 * Usage:
 *   struct node_config cfg;
 *   char err[512];
 *   if (node_config_load(&cfg, "config.ini", "config.genesis", err, sizeof(err)))
 *       log_fatal("node", "%s", err);
 *   ...
 *   node_config_free(&cfg);
 *
 * The keys, their defaults and bounds are listed in docs/configuration.md.
 */
#ifndef TC_NODE_CONFIG_H
#define TC_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"
#include "chain/genesis.h"

#define CONFIG_MAX_FILE_BYTES (4u << 20)
#define CONFIG_MAX_LINE_BYTES 4096
#define CONFIG_MAX_PATH       1024
#define CONFIG_MAX_HOST       256
#define CONFIG_MAX_PEERS      64

enum tee_platform {
    TEE_PLATFORM_VIRTUAL = 1,
    TEE_PLATFORM_SGX = 2,
};

struct net_endpoint {
    char host[CONFIG_MAX_HOST];
    uint16_t port;
};

/* config.ini: this node only. */
struct local_config {
    struct net_endpoint p2p_listen; /* [p2p] listen_ip, listen_port */
    size_t peer_count;              /* [p2p] peers = HOST:PORT,HOST:PORT */
    struct net_endpoint peers[CONFIG_MAX_PEERS];
    struct net_endpoint rpc_listen;         /* [rpc] listen_ip, listen_port */
    uint32_t rpc_max_batch;                 /* [rpc] max_batch */
    uint32_t rpc_max_body_bytes;            /* [rpc] max_body_bytes */
    uint32_t rpc_max_connections;           /* [rpc] max_connections */
    bool rpc_cors;                          /* [rpc] cors */
    char data_path[CONFIG_MAX_PATH];        /* [storage] data_path */
    bool storage_security;                  /* [storage_security] enable */
    char storage_key_path[CONFIG_MAX_PATH]; /* [storage_security] key_path */
    enum log_level log_level;               /* [log] level */
    char log_path[CONFIG_MAX_PATH];         /* [log] log_path: directory ("" = stderr only) */
    enum tee_platform platform;             /* [tee] platform */
    bool follower_verify;                   /* [consensus] follower_verify */
    uint32_t log_tail;                      /* [consensus] log_tail: entries kept behind applied */
    uint32_t txpool_limit;                  /* [txpool] limit */
    uint32_t txpool_per_sender_limit;       /* [txpool] per_sender_limit */
    uint32_t txpool_expiry_s;               /* [txpool] expiry_s */
    char node_key_path[CONFIG_MAX_PATH];    /* [security] private_key_path */
    char ca_cert_path[CONFIG_MAX_PATH];     /* [security] ca_cert */
    char ssl_cert_path[CONFIG_MAX_PATH];    /* [security] ssl_cert */
    char ssl_key_path[CONFIG_MAX_PATH];     /* [security] ssl_key */
};

struct node_config {
    struct local_config local;
    struct genesis_config genesis;
};

/* Fills every field with its documented default (no allocation). */
void node_config_defaults(struct node_config *cfg);

/*
 * Loads and validates both files into *cfg (defaults first). On failure
 * returns TC_EINVAL (or TC_EIO / TC_ETOOBIG / TC_ENOMEM), writes the reason
 * into err, and leaves nothing to free. On success the caller frees with
 * node_config_free. Relative paths inside config.ini stay relative: they are
 * resolved against the working directory by their users.
 */
int node_config_load(struct node_config *cfg, const char *ini_path, const char *genesis_path,
                     char *err, size_t err_len);

/* As node_config_load for one file given as text; `name` is what error
 * messages call it. genesis=false parses config.ini keys, true config.genesis
 * keys. Fields not in the text keep their current values; cross-key checks
 * run at the end. */
int node_config_parse_text(struct node_config *cfg, bool genesis, const char *name,
                           const char *text, char *err, size_t err_len);

void node_config_free(struct node_config *cfg);

const char *tee_platform_name(enum tee_platform p);

#endif
