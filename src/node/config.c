/*
 * config.c - loading and validating config.ini and config.genesis.
 *
 * Keys are described by a table (struct key_spec): section, name, kind,
 * field and bounds. A few families of keys are indexed (node.N, observer.N,
 * mrenclave.N) or free-form ([alloc] ADDRESS = BALANCE) and handled by name.
 * The first error stops parsing and is reported as
 *   FILE: [SECTION] KEY: REASON
 */
#include "node/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/bytes.h"
#include "base/error.h"

enum key_kind {
    KEY_U32,
    KEY_U64,
    KEY_PORT,
    KEY_BOOL,
    KEY_PATH,
    KEY_IP,
    KEY_NAME,
    KEY_LOG_LEVEL,
    KEY_PLATFORM,
    KEY_CONSENSUS,
    KEY_U256,
    KEY_PEERS,
};

struct key_spec {
    bool genesis;
    const char *section;
    const char *name;
    enum key_kind kind;
    size_t offset; /* into struct node_config */
    uint64_t min, max;
};

#define L(sec, key, kind, field, lo, hi)                                                           \
    {                                                                                              \
        false, sec, key, kind, offsetof(struct node_config, local.field), lo, hi                   \
    }
#define G(sec, key, kind, field, lo, hi)                                                           \
    {                                                                                              \
        true, sec, key, kind, offsetof(struct node_config, genesis.field), lo, hi                  \
    }

static const struct key_spec key_specs[] = {
    L("p2p", "listen_ip", KEY_IP, p2p_listen.host, 0, 0),
    L("p2p", "listen_port", KEY_PORT, p2p_listen.port, 1, 65535),
    L("p2p", "peers", KEY_PEERS, peers, 0, 0),
    L("rpc", "listen_ip", KEY_IP, rpc_listen.host, 0, 0),
    L("rpc", "listen_port", KEY_PORT, rpc_listen.port, 1, 65535),
    L("rpc", "max_batch", KEY_U32, rpc_max_batch, 1, 100000),
    L("rpc", "max_body_bytes", KEY_U32, rpc_max_body_bytes, 1024, 1u << 30),
    L("rpc", "max_connections", KEY_U32, rpc_max_connections, 1, 1000000),
    L("rpc", "cors", KEY_BOOL, rpc_cors, 0, 0),
    L("storage", "data_path", KEY_PATH, data_path, 0, 0),
    L("storage_security", "enable", KEY_BOOL, storage_security, 0, 0),
    L("storage_security", "key_path", KEY_PATH, storage_key_path, 0, 0),
    L("log", "level", KEY_LOG_LEVEL, log_level, 0, 0),
    L("log", "log_path", KEY_PATH, log_path, 0, 0),
    L("tee", "platform", KEY_PLATFORM, platform, 0, 0),
    L("consensus", "follower_verify", KEY_BOOL, follower_verify, 0, 0),
    L("consensus", "log_tail", KEY_U32, log_tail, 1, 1000000),
    L("txpool", "limit", KEY_U32, txpool_limit, 1, 10000000),
    L("txpool", "per_sender_limit", KEY_U32, txpool_per_sender_limit, 1, 10000000),
    L("txpool", "expiry_s", KEY_U32, txpool_expiry_s, 1, 86400 * 30),
    L("security", "private_key_path", KEY_PATH, node_key_path, 0, 0),
    L("security", "ca_cert", KEY_PATH, ca_cert_path, 0, 0),
    L("security", "ssl_cert", KEY_PATH, ssl_cert_path, 0, 0),
    L("security", "ssl_key", KEY_PATH, ssl_key_path, 0, 0),

    G("chain", "chain_id", KEY_U64, chain_id, 1, (1ull << 53) - 1),
    G("chain", "group_id", KEY_NAME, group_id, 0, 0),
    G("chain", "timestamp_ms", KEY_U64, timestamp_ms, 0, UINT64_MAX),
    G("consensus", "consensus_type", KEY_CONSENSUS, consensus, 0, 0),
    G("consensus", "block_tx_count_limit", KEY_U32, block_tx_count_limit, 1, 100000),
    G("consensus", "min_seal_time_ms", KEY_U32, min_seal_time_ms, 1, 600000),
    G("consensus", "election_timeout_ms", KEY_U32, election_timeout_ms, 10, 600000),
    G("consensus", "heartbeat_ms", KEY_U32, heartbeat_ms, 1, 60000),
    G("tx", "gas_limit", KEY_U64, tx_gas_limit, 21000, INT64_MAX),
    G("tx", "block_gas_limit", KEY_U64, block_gas_limit, 21000, INT64_MAX),
    G("tx", "gas_price", KEY_U256, gas_price, 0, 0),
    G("tee", "allow_virtual", KEY_BOOL, tee_allow_virtual, 0, 0),
};

#undef L
#undef G

/* Sizes of the string fields, by offset, for KEY_PATH / KEY_IP / KEY_NAME. */
static size_t string_capacity(const struct key_spec *k)
{
    switch (k->kind) {
    case KEY_IP:
        return CONFIG_MAX_HOST;
    case KEY_NAME:
        return sizeof(((struct genesis_config *)0)->group_id);
    default:
        return CONFIG_MAX_PATH;
    }
}

struct parse_ctx {
    struct node_config *cfg;
    bool genesis;
    const char *file;
    char *err;
    size_t err_len;
    int rc;
    /* "section\nkey" of every key seen, to refuse duplicates. */
    char **seen;
    size_t seen_count, seen_cap;
};

static int fail(struct parse_ctx *c, const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct parse_ctx *c, const char *section, const char *key, const char *fmt, ...)
{
    if (c->rc == 0) {
        int n = snprintf(c->err, c->err_len, "%s: [%s] %s: ", c->file, section, key);
        if (n >= 0 && (size_t)n < c->err_len) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->err + n, c->err_len - (size_t)n, fmt, ap);
            va_end(ap);
        }
        c->rc = TC_EINVAL;
    }
    return 0; /* inih: stop */
}

/* Strict unsigned decimal: digits only, no sign, no leading zeros but "0". */
static int parse_u64(const char *s, uint64_t *out)
{
    if (!*s || (s[0] == '0' && s[1]))
        return TC_EINVAL;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return TC_EINVAL;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return TC_ERANGE;
        v = v * 10 + d;
    }
    *out = v;
    return TC_OK;
}

static int parse_bool(const char *s, bool *out)
{
    if (strcmp(s, "true") == 0) {
        *out = true;
        return TC_OK;
    }
    if (strcmp(s, "false") == 0) {
        *out = false;
        return TC_OK;
    }
    return TC_EINVAL;
}

static bool is_ip_literal(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* A host name or IP literal, as a peer address: letters, digits, '.', '-', ':'. */
static bool is_host(const char *s, size_t len)
{
    if (len == 0 || len >= CONFIG_MAX_HOST)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '-' || ch == ':'))
            return false;
    }
    return true;
}

static bool is_name(const char *s)
{
    if (!*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return false;
    return true;
}

/* Parses "HOST:PORT" (IPv6 literals in brackets: "[::1]:30300"). */
static int parse_endpoint(const char *s, size_t len, struct net_endpoint *ep)
{
    const char *colon = NULL;
    const char *host = s;
    size_t host_len;
    if (len && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close || close + 1 >= s + len || close[1] != ':')
            return TC_EINVAL;
        host = s + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
    } else {
        for (size_t i = len; i > 0; i--) {
            if (s[i - 1] == ':') {
                colon = s + i - 1;
                break;
            }
        }
        if (!colon)
            return TC_EINVAL;
        host_len = (size_t)(colon - s);
    }
    if (!is_host(host, host_len))
        return TC_EINVAL;
    char port[8];
    size_t port_len = len - (size_t)(colon + 1 - s);
    if (port_len == 0 || port_len >= sizeof(port))
        return TC_EINVAL;
    memcpy(port, colon + 1, port_len);
    port[port_len] = '\0';
    uint64_t p;
    if (parse_u64(port, &p) || p < 1 || p > 65535)
        return TC_EINVAL;
    memcpy(ep->host, host, host_len);
    ep->host[host_len] = '\0';
    ep->port = (uint16_t)p;
    return TC_OK;
}

static int set_peers(struct parse_ctx *c, const char *section, const char *key, const char *value)
{
    struct local_config *l = &c->cfg->local;
    l->peer_count = 0;
    const char *p = value;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (l->peer_count == CONFIG_MAX_PEERS)
            return fail(c, section, key, "more than %d peers", CONFIG_MAX_PEERS);
        if (parse_endpoint(p, len, &l->peers[l->peer_count]))
            return fail(c, section, key, "expected HOST:PORT[,HOST:PORT...], got \"%.*s\"",
                        (int)(len > 80 ? 80 : len), p);
        l->peer_count++;
        if (!end)
            break;
        p = end + 1;
    }
    return 1;
}

static int set_value(struct parse_ctx *c, const struct key_spec *k, const char *value)
{
    void *field = (char *)c->cfg + k->offset;
    uint64_t v = 0;
    int rc;
    switch (k->kind) {
    case KEY_U32:
    case KEY_U64:
    case KEY_PORT:
        rc = parse_u64(value, &v);
        if (rc || v < k->min || v > k->max)
            return fail(c, k->section, k->name, "expected an integer in %llu..%llu, got \"%.80s\"",
                        (unsigned long long)k->min, (unsigned long long)k->max, value);
        if (k->kind == KEY_U32)
            *(uint32_t *)field = (uint32_t)v;
        else if (k->kind == KEY_U64)
            *(uint64_t *)field = v;
        else
            *(uint16_t *)field = (uint16_t)v;
        return 1;
    case KEY_BOOL:
        if (parse_bool(value, (bool *)field))
            return fail(c, k->section, k->name, "expected true or false, got \"%.80s\"", value);
        return 1;
    case KEY_PATH:
    case KEY_IP:
    case KEY_NAME: {
        size_t cap = string_capacity(k);
        if (strlen(value) >= cap)
            return fail(c, k->section, k->name, "longer than %zu bytes", cap - 1);
        if (k->kind == KEY_IP && !is_ip_literal(value))
            return fail(c, k->section, k->name, "expected an IPv4 or IPv6 address, got \"%.80s\"",
                        value);
        if (k->kind == KEY_NAME && !is_name(value))
            return fail(c, k->section, k->name,
                        "expected letters, digits, '_' or '-', got \"%.80s\"", value);
        memcpy(field, value, strlen(value) + 1);
        return 1;
    }
    case KEY_LOG_LEVEL:
        if (log_parse_level(value, (enum log_level *)field))
            return fail(c, k->section, k->name,
                        "expected trace, debug, info, warn, error, fatal or off, got \"%.80s\"",
                        value);
        return 1;
    case KEY_PLATFORM:
        if (strcmp(value, "virtual") == 0)
            *(enum tee_platform *)field = TEE_PLATFORM_VIRTUAL;
        else if (strcmp(value, "sgx") == 0)
            *(enum tee_platform *)field = TEE_PLATFORM_SGX;
        else
            return fail(c, k->section, k->name, "expected virtual or sgx, got \"%.80s\"", value);
        return 1;
    case KEY_CONSENSUS:
        if (strcmp(value, "raft") == 0)
            *(enum consensus_type *)field = CONSENSUS_RAFT;
        else if (strcmp(value, "pbft") == 0)
            *(enum consensus_type *)field = CONSENSUS_PBFT;
        else
            return fail(c, k->section, k->name, "expected raft or pbft, got \"%.80s\"", value);
        return 1;
    case KEY_U256:
        if (strncmp(value, "0x", 2) == 0 ? u256_from_hex(value, (u256 *)field)
                                         : u256_from_dec(value, (u256 *)field))
            return fail(c, k->section, k->name,
                        "expected a decimal or 0x-hex integer below 2^256, got \"%.80s\"", value);
        return 1;
    case KEY_PEERS:
        return set_peers(c, k->section, k->name, value);
    }
    return fail(c, k->section, k->name, "unhandled key kind");
}

/* NODEID[:WEIGHT] with NODEID 128 hex digits (optional 0x). */
static int parse_node(struct parse_ctx *c, const char *section, const char *key, const char *value,
                      bool weighted, struct genesis_node *node)
{
    const char *colon = strchr(value, ':');
    size_t id_len = colon ? (size_t)(colon - value) : strlen(value);
    const char *id = value;
    if (id_len >= 2 && id[0] == '0' && (id[1] == 'x' || id[1] == 'X')) {
        id += 2;
        id_len -= 2;
    }
    if (id_len != 2 * NODE_ID_BYTES || hex_decode(id, id_len, node->id, NODE_ID_BYTES, NULL))
        return fail(c, section, key, "expected a node ID of %d hex digits%s", 2 * NODE_ID_BYTES,
                    weighted ? ", optionally followed by :WEIGHT" : "");
    node->weight = 1;
    if (colon) {
        uint64_t w;
        if (!weighted || parse_u64(colon + 1, &w) || w < 1 || w > 1000000)
            return fail(c, section, key, "expected a weight in 1..1000000 after ':'");
        node->weight = (uint32_t)w;
    }
    return 1;
}

/* "node.N" with N a decimal index: returns true and the index. */
static bool indexed_key(const char *key, const char *prefix, uint64_t *index)
{
    size_t n = strlen(prefix);
    return strncmp(key, prefix, n) == 0 && key[n] == '.' && parse_u64(key + n + 1, index) == 0;
}

static int handle_genesis_special(struct parse_ctx *c, const char *section, const char *key,
                                  const char *value, bool *handled)
{
    struct genesis_config *g = &c->cfg->genesis;
    uint64_t idx;
    *handled = true;
    if (strcmp(section, "consensus") == 0 && indexed_key(key, "node", &idx)) {
        if (g->sealer_count == CONFIG_MAX_SEALERS)
            return fail(c, section, key, "more than %d sealers", CONFIG_MAX_SEALERS);
        return parse_node(c, section, key, value, true, &g->sealers[g->sealer_count++]);
    }
    if (strcmp(section, "consensus") == 0 && indexed_key(key, "observer", &idx)) {
        if (g->observer_count == CONFIG_MAX_SEALERS)
            return fail(c, section, key, "more than %d observers", CONFIG_MAX_SEALERS);
        return parse_node(c, section, key, value, false, &g->observers[g->observer_count++]);
    }
    if (strcmp(section, "tee") == 0 && indexed_key(key, "mrenclave", &idx)) {
        if (g->measurement_count == CONFIG_MAX_MEASURE)
            return fail(c, section, key, "more than %d measurements", CONFIG_MAX_MEASURE);
        if (hex_decode_exact(value, g->measurements[g->measurement_count], 32))
            return fail(c, section, key, "expected 64 hex digits (an MRENCLAVE)");
        g->measurement_count++;
        return 1;
    }
    if (strcmp(section, "alloc") == 0) {
        if (g->alloc_count == CONFIG_MAX_ALLOC)
            return fail(c, section, key, "more than %d allocations", CONFIG_MAX_ALLOC);
        if ((g->alloc_count & (g->alloc_count - 1)) == 0) {
            size_t cap = g->alloc_count ? g->alloc_count * 2 : 16;
            struct genesis_alloc *grown = realloc(g->alloc, cap * sizeof(*grown));
            if (!grown) {
                fail(c, section, key, "out of memory");
                c->rc = TC_ENOMEM;
                return 0;
            }
            g->alloc = grown;
        }
        struct genesis_alloc *a = &g->alloc[g->alloc_count];
        if (strncmp(key, "0x", 2) != 0 || hex_decode_exact(key, a->address, 20))
            return fail(c, section, key, "expected an address (0x and 40 hex digits) as the key");
        if (strncmp(value, "0x", 2) == 0 ? u256_from_hex(value, &a->balance)
                                         : u256_from_dec(value, &a->balance))
            return fail(c, section, key,
                        "expected a balance in wei (decimal or 0x-hex, below 2^256)");
        g->alloc_count++;
        return 1;
    }
    *handled = false;
    return 1;
}

/* Records section+key; false if it was seen before. */
static bool first_sighting(struct parse_ctx *c, const char *section, const char *key)
{
    size_t n = strlen(section) + strlen(key) + 2;
    char *id = malloc(n);
    if (!id)
        return true; /* cannot track: accept rather than fail spuriously */
    snprintf(id, n, "%s\n%s", section, key);
    for (size_t i = 0; i < c->seen_count; i++) {
        if (strcmp(c->seen[i], id) == 0) {
            free(id);
            return false;
        }
    }
    if (c->seen_count == c->seen_cap) {
        size_t cap = c->seen_cap ? c->seen_cap * 2 : 32;
        char **grown = realloc(c->seen, cap * sizeof(*grown));
        if (!grown) {
            free(id);
            return true;
        }
        c->seen = grown;
        c->seen_cap = cap;
    }
    c->seen[c->seen_count++] = id;
    return true;
}

static int on_key(void *user, const char *section, const char *key, const char *value)
{
    struct parse_ctx *c = user;
    if (c->rc)
        return 0;
    if (!*section)
        return fail(c, "", key, "key outside any section");
    /* [alloc] may be long; duplicates there are caught by address below. */
    if (strcmp(section, "alloc") != 0 && !first_sighting(c, section, key))
        return fail(c, section, key, "given more than once");
    for (size_t i = 0; i < sizeof(key_specs) / sizeof(key_specs[0]); i++) {
        const struct key_spec *k = &key_specs[i];
        if (k->genesis == c->genesis && strcmp(k->section, section) == 0 &&
            strcmp(k->name, key) == 0)
            return set_value(c, k, value);
    }
    if (c->genesis) {
        bool handled;
        int ok = handle_genesis_special(c, section, key, value, &handled);
        if (handled)
            return ok;
    }
    return fail(c, section, key, "unknown key (see docs/configuration.md)");
}

void node_config_defaults(struct node_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    struct local_config *l = &cfg->local;
    strcpy(l->p2p_listen.host, "0.0.0.0");
    l->p2p_listen.port = 30300;
    strcpy(l->rpc_listen.host, "127.0.0.1");
    l->rpc_listen.port = 20200;
    l->rpc_max_batch = 1000;
    l->rpc_max_body_bytes = 5u << 20; /* as geth */
    l->rpc_max_connections = 16384;
    strcpy(l->data_path, "data");
    l->log_level = LOG_INFO;
    strcpy(l->log_path, "log");
    l->platform = TEE_PLATFORM_VIRTUAL;
    l->txpool_limit = 100000;
    l->log_tail = 256;
    l->txpool_per_sender_limit = 10000;
    l->txpool_expiry_s = 600;
    strcpy(l->node_key_path, "conf/node.pem");
    strcpy(l->ca_cert_path, "conf/ca.crt");
    strcpy(l->ssl_cert_path, "conf/ssl.crt");
    strcpy(l->ssl_key_path, "conf/ssl.key");

    struct genesis_config *g = &cfg->genesis;
    g->chain_id = 20200;
    strcpy(g->group_id, "group0");
    g->consensus = CONSENSUS_RAFT;
    g->block_tx_count_limit = 1000;
    g->min_seal_time_ms = 100;
    g->election_timeout_ms = 1000;
    g->heartbeat_ms = 100;
    g->tx_gas_limit = 3000000000ull;
    g->block_gas_limit = 300000000000ull;
    g->gas_price = u256_zero();
    g->tee_allow_virtual = true;
}

/* Cross-key checks of config.ini; the first problem becomes the error. */
static int check_local(struct parse_ctx *c)
{
    const struct local_config *l = &c->cfg->local;
    if (l->storage_security && !l->storage_key_path[0])
        fail(c, "storage_security", "key_path", "required when enable=true");
    else if (l->platform == TEE_PLATFORM_SGX && l->storage_key_path[0])
        fail(c, "storage_security", "key_path",
             "not allowed with platform=sgx: the key is derived inside the enclave");
    else if (l->txpool_per_sender_limit > l->txpool_limit)
        fail(c, "txpool", "per_sender_limit", "larger than [txpool] limit");
    return c->rc;
}

static const struct genesis_node *member_at(const struct genesis_config *g, size_t i)
{
    return i < g->sealer_count ? &g->sealers[i] : &g->observers[i - g->sealer_count];
}

static int cmp_alloc(const void *a, const void *b)
{
    return memcmp(((const struct genesis_alloc *)a)->address,
                  ((const struct genesis_alloc *)b)->address, 20);
}

/* Cross-key checks of config.genesis; sorts [alloc] by address. */
static int check_genesis(struct parse_ctx *c)
{
    struct genesis_config *g = &c->cfg->genesis;
    size_t members = g->sealer_count + g->observer_count;
    if (g->sealer_count == 0) {
        fail(c, "consensus", "node.0", "at least one sealer is required");
        return c->rc;
    }
    for (size_t i = 0; i < members; i++) {
        for (size_t j = 0; j < i; j++) {
            if (memcmp(member_at(g, i)->id, member_at(g, j)->id, NODE_ID_BYTES) == 0) {
                fail(c, "consensus", i < g->sealer_count ? "node" : "observer",
                     "node ID listed twice");
                return c->rc;
            }
        }
    }
    if (g->election_timeout_ms < 2 * g->heartbeat_ms) {
        fail(c, "consensus", "election_timeout_ms", "must be at least twice heartbeat_ms (%u)",
             g->heartbeat_ms);
        return c->rc;
    }
    if (g->block_gas_limit < g->tx_gas_limit) {
        fail(c, "tx", "block_gas_limit", "smaller than [tx] gas_limit");
        return c->rc;
    }
    if (!g->tee_allow_virtual && g->measurement_count == 0) {
        fail(c, "tee", "allow_virtual",
             "false requires at least one [tee] mrenclave.N to admit SGX nodes");
        return c->rc;
    }
    /* Sorted by address: the genesis state does not depend on the order of
     * the file, and duplicates become neighbours. */
    qsort(g->alloc, g->alloc_count, sizeof(*g->alloc), cmp_alloc);
    for (size_t i = 1; i < g->alloc_count; i++) {
        if (memcmp(g->alloc[i].address, g->alloc[i - 1].address, 20) == 0) {
            char hex[41];
            hex_encode(g->alloc[i].address, 20, hex);
            fail(c, "alloc", "0x...", "address 0x%s allocated twice", hex);
            return c->rc;
        }
    }
    return TC_OK;
}

/* Checks the bounds inih cannot: line length (it would split long lines). */
static int check_lines(const char *name, const char *text, char *err, size_t err_len)
{
    size_t line = 1, col = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\n') {
            line++;
            col = 0;
        } else if (++col >= CONFIG_MAX_LINE_BYTES - 3) {
            snprintf(err, err_len, "%s: line %zu: longer than %d bytes", name, line,
                     CONFIG_MAX_LINE_BYTES - 3);
            return TC_ETOOBIG;
        }
    }
    return TC_OK;
}

int node_config_parse_text(struct node_config *cfg, bool genesis, const char *name,
                           const char *text, char *err, size_t err_len)
{
    int rc = check_lines(name, text, err, err_len);
    if (rc)
        return rc;
    /* Debian's inih exposes its settings at run time: heap line buffer of our
     * bound, no multi-line values, ';' and '#' comments. */
    ini_use_stack = false;
    ini_max_line = CONFIG_MAX_LINE_BYTES;
    ini_allow_multiline = false;
    ini_stop_on_first_error = true;

    struct parse_ctx c = { cfg, genesis, name, err, err_len, 0, NULL, 0, 0 };
    int line = ini_parse_string(text, on_key, &c);
    if (c.rc == 0 && line > 0) {
        snprintf(err, err_len, "%s: line %d: not a [section] or KEY = VALUE line", name, line);
        c.rc = TC_EINVAL;
    } else if (c.rc == 0 && line < 0) {
        snprintf(err, err_len, "%s: out of memory while parsing", name);
        c.rc = TC_ENOMEM;
    }
    if (c.rc == 0)
        c.rc = genesis ? check_genesis(&c) : check_local(&c);
    for (size_t i = 0; i < c.seen_count; i++)
        free(c.seen[i]);
    free(c.seen);
    return c.rc;
}

static int read_text(const char *path, char **out, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return TC_EIO;
    }
    int rc = TC_OK;
    char *buf = NULL;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(err, err_len, "%s: not a regular file", path);
        rc = TC_EIO;
        goto out_close;
    }
    if ((uint64_t)sb.st_size > CONFIG_MAX_FILE_BYTES) {
        snprintf(err, err_len, "%s: larger than %u bytes", path, CONFIG_MAX_FILE_BYTES);
        rc = TC_ETOOBIG;
        goto out_close;
    }
    buf = malloc((size_t)sb.st_size + 1);
    if (!buf) {
        snprintf(err, err_len, "%s: out of memory", path);
        rc = TC_ENOMEM;
        goto out_close;
    }
    size_t n = fread(buf, 1, (size_t)sb.st_size, f);
    if (n != (size_t)sb.st_size || memchr(buf, '\0', n)) {
        snprintf(err, err_len, "%s: cannot read, or contains NUL bytes", path);
        free(buf);
        rc = TC_EIO;
        goto out_close;
    }
    buf[n] = '\0';
    *out = buf;
out_close:
    fclose(f);
    return rc;
}

int node_config_load(struct node_config *cfg, const char *ini_path, const char *genesis_path,
                     char *err, size_t err_len)
{
    node_config_defaults(cfg);
    char *text = NULL;
    int rc = read_text(ini_path, &text, err, err_len);
    if (rc)
        return rc;
    rc = node_config_parse_text(cfg, false, ini_path, text, err, err_len);
    free(text);
    if (rc)
        goto out_free;
    rc = read_text(genesis_path, &text, err, err_len);
    if (rc)
        goto out_free;
    rc = node_config_parse_text(cfg, true, genesis_path, text, err, err_len);
    free(text);
    if (rc)
        goto out_free;
    return TC_OK;
out_free:
    node_config_free(cfg);
    return rc;
}

void node_config_free(struct node_config *cfg)
{
    free(cfg->genesis.alloc);
    cfg->genesis.alloc = NULL;
    cfg->genesis.alloc_count = 0;
}

const char *tee_platform_name(enum tee_platform p)
{
    return p == TEE_PLATFORM_SGX ? "sgx" : "virtual";
}
