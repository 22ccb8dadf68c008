/* chain_builder.c - writes the files of a new chain (see chain_builder.h). */
#include "cli/chain_builder.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/error.h"
#include "cli/cli_util.h"
#include "crypto/ecdsa.h"
#include "crypto/random.h"
#include "net/node_cert.h"

#define PATH_BYTES 4096

struct node_info {
    size_t host;    /* index into spec->hosts */
    uint32_t index; /* N of nodeN on its host */
    uint16_t p2p_port;
    uint16_t rpc_port;
    uint8_t seckey[32];
    uint8_t id[64];
    bool created; /* dir was made by this run (chain_expand removes it on failure) */
    char dir[PATH_BYTES];
};

struct build {
    const struct chain_spec *spec;
    struct node_info *nodes;
    size_t node_count;
    uint8_t (*accounts)[20];
    EVP_PKEY *ca_key;
    X509 *ca_cert;
    struct bytes ca_pem;
    char *err;
    size_t err_len;
};

void chain_spec_defaults(struct chain_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->consensus = CONSENSUS_RAFT;
    spec->account_count = CHAIN_DEFAULT_ACCOUNTS;
    spec->chain_id = 20200;
    spec->p2p_port = CHAIN_DEFAULT_P2P_PORT;
    spec->rpc_port = CHAIN_DEFAULT_RPC_PORT;
}

static int parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 10)
        return TC_EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return TC_EINVAL;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > max)
        return TC_ERANGE;
    *out = v;
    return TC_OK;
}

int chain_parse_hosts(const char *arg, struct chain_spec *spec, char *err, size_t err_len)
{
    uint32_t total = 0;
    spec->host_count = 0;
    const char *p = arg;
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        uint64_t count = 0;
        struct in_addr addr;
        if (colon == NULL || (size_t)(colon - p) >= sizeof(spec->hosts[0].ip)) {
            snprintf(err, err_len, "-l: expected IP:COUNT[,IP:COUNT...], got \"%s\"", arg);
            return TC_EINVAL;
        }
        if (spec->host_count == CHAIN_MAX_HOSTS) {
            snprintf(err, err_len, "-l: more than %d hosts", CHAIN_MAX_HOSTS);
            return TC_EINVAL;
        }
        struct chain_host *h = &spec->hosts[spec->host_count];
        memcpy(h->ip, p, (size_t)(colon - p));
        h->ip[colon - p] = '\0';
        if (inet_pton(AF_INET, h->ip, &addr) != 1) {
            snprintf(err, err_len, "-l: \"%s\" is not an IPv4 address", h->ip);
            return TC_EINVAL;
        }
        if (parse_uint(colon + 1, len - (size_t)(colon - p) - 1, CHAIN_MAX_NODES, &count) !=
                TC_OK ||
            count == 0) {
            snprintf(err, err_len, "-l: node count of %s must be 1..%d", h->ip, CHAIN_MAX_NODES);
            return TC_EINVAL;
        }
        for (size_t i = 0; i < spec->host_count; i++) {
            if (strcmp(spec->hosts[i].ip, h->ip) == 0) {
                snprintf(err, err_len, "-l: host %s given twice", h->ip);
                return TC_EINVAL;
            }
        }
        h->node_count = (uint32_t)count;
        total += (uint32_t)count;
        if (total > CHAIN_MAX_NODES) {
            snprintf(err, err_len, "-l: at most %d nodes in all", CHAIN_MAX_NODES);
            return TC_EINVAL;
        }
        spec->host_count++;
        p = end != NULL ? end + 1 : NULL;
    }
    if (spec->host_count == 0) {
        snprintf(err, err_len, "-l: no hosts given");
        return TC_EINVAL;
    }
    return TC_OK;
}

int chain_parse_ports(const char *arg, struct chain_spec *spec, char *err, size_t err_len)
{
    const char *comma = strchr(arg, ',');
    uint64_t p2p = 0, rpc = 0;
    if (comma == NULL || parse_uint(arg, (size_t)(comma - arg), 65535, &p2p) != TC_OK ||
        parse_uint(comma + 1, strlen(comma + 1), 65535, &rpc) != TC_OK || p2p == 0 || rpc == 0) {
        snprintf(err, err_len, "-p: expected P2P_PORT,RPC_PORT (1..65535), got \"%s\"", arg);
        return TC_EINVAL;
    }
    spec->p2p_port = (uint16_t)p2p;
    spec->rpc_port = (uint16_t)rpc;
    return TC_OK;
}

__attribute__((format(printf, 2, 3))) static int appendf(struct bytes *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || bytes_reserve(b, (size_t)n + 1) != TC_OK)
        return TC_ENOMEM;
    va_start(ap, fmt);
    vsnprintf((char *)b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return TC_OK;
}

__attribute__((format(printf, 4, 5))) static int make_path(char *out, const char *err_ctx,
                                                           struct build *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, PATH_BYTES, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= PATH_BYTES) {
        snprintf(b->err, b->err_len, "path too long (%s)", err_ctx);
        return TC_EINVAL;
    }
    return TC_OK;
}

/* Creates path (must not exist) with the given mode and contents. */
static int write_file(struct build *b, const char *path, mode_t mode, const void *data, size_t len)
{
    if (mode == 0600)
        return cli_write_private_file(path, data, len, b->err, b->err_len);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(b->err, b->err_len, "cannot create %s: %s", path, strerror(errno));
        return errno == EEXIST ? TC_EEXIST : TC_EIO;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, (const uint8_t *)data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(b->err, b->err_len, "cannot write %s: %s", path, strerror(errno));
            close(fd);
            return TC_EIO;
        }
        done += (size_t)n;
    }
    if (close(fd) != 0) {
        snprintf(b->err, b->err_len, "cannot write %s: %s", path, strerror(errno));
        return TC_EIO;
    }
    return TC_OK;
}

static int write_text(struct build *b, const char *path, mode_t mode, const struct bytes *text)
{
    return write_file(b, path, mode, text->ptr, text->len);
}

static bool dir_is_empty_or_missing(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return errno == ENOENT;
    bool empty = true;
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            empty = false;
            break;
        }
    }
    closedir(d);
    return empty;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 ? 0 : -1;
}

static int remove_tree(struct build *b, const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? TC_OK : TC_EIO;
    if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        snprintf(b->err, b->err_len, "cannot remove %s: %s", path, strerror(errno));
        return TC_EIO;
    }
    return TC_OK;
}

static int prepare_out_dir(struct build *b)
{
    const struct chain_spec *s = b->spec;
    char path[PATH_BYTES];
    int rc;
    if (!dir_is_empty_or_missing(s->out_dir)) {
        if (!s->force) {
            snprintf(b->err, b->err_len,
                     "%s exists and is not empty (use --force to replace a chain built there)",
                     s->out_dir);
            return TC_EEXIST;
        }
        if ((rc = make_path(path, "ca", b, "%s/ca", s->out_dir)) != TC_OK ||
            (rc = remove_tree(b, path)) != TC_OK)
            return rc;
        if ((rc = make_path(path, "accounts", b, "%s/accounts", s->out_dir)) != TC_OK ||
            (rc = remove_tree(b, path)) != TC_OK)
            return rc;
        for (size_t h = 0; h < s->host_count; h++) {
            if ((rc = make_path(path, "host", b, "%s/%s", s->out_dir, s->hosts[h].ip)) != TC_OK ||
                (rc = remove_tree(b, path)) != TC_OK)
                return rc;
        }
    }
    return cli_mkdir(s->out_dir, false, b->err, b->err_len);
}

static int check_spec(struct build *b)
{
    const struct chain_spec *s = b->spec;
    if (s->host_count == 0) {
        snprintf(b->err, b->err_len, "no hosts given (-l IP:COUNT)");
        return TC_EINVAL;
    }
    if (s->out_dir[0] == '\0' || s->bin_path[0] == '\0') {
        snprintf(b->err, b->err_len, "output directory and teechaind path are required");
        return TC_EINVAL;
    }
    if (strpbrk(s->bin_path, "'\n") != NULL) {
        snprintf(b->err, b->err_len, "teechaind path must not contain a quote or newline");
        return TC_EINVAL;
    }
    if (s->account_count > CHAIN_MAX_ACCOUNTS) {
        snprintf(b->err, b->err_len, "--accounts: at most %d", CHAIN_MAX_ACCOUNTS);
        return TC_EINVAL;
    }
    if (s->chain_id == 0 || s->chain_id > (UINT64_C(1) << 53) - 1) {
        snprintf(b->err, b->err_len, "--chain-id: must be 1..2^53-1");
        return TC_EINVAL;
    }
    for (size_t h = 0; h < s->host_count; h++) {
        uint32_t n = s->hosts[h].node_count;
        if ((uint32_t)s->p2p_port + n - 1 > 65535 || (uint32_t)s->rpc_port + n - 1 > 65535) {
            snprintf(b->err, b->err_len, "ports of host %s go beyond 65535", s->hosts[h].ip);
            return TC_EINVAL;
        }
    }
    return TC_OK;
}

static int make_ca(struct build *b)
{
    char path[PATH_BYTES];
    struct bytes key_pem;
    int rc;
    if ((rc = make_path(path, "ca", b, "%s/ca", b->spec->out_dir)) != TC_OK ||
        (rc = cli_mkdir(path, true, b->err, b->err_len)) != TC_OK)
        return rc;
    if (node_cert_p256_keygen(&b->ca_key) != TC_OK) {
        snprintf(b->err, b->err_len, "cannot generate the CA key");
        return TC_ECRYPTO;
    }
    rc = node_cert_make_ca(b->ca_key, "TEEChain chain CA", &b->ca_cert, b->err, b->err_len);
    if (rc != TC_OK)
        return rc;
    bytes_init(&key_pem);
    rc = node_cert_key_pem(b->ca_key, &key_pem);
    if (rc == TC_OK)
        rc = node_cert_pem(b->ca_cert, &b->ca_pem);
    if (rc != TC_OK)
        snprintf(b->err, b->err_len, "cannot encode the CA key or certificate");
    if (rc == TC_OK &&
        (rc = make_path(path, "ca.key", b, "%s/ca/ca.key", b->spec->out_dir)) == TC_OK)
        rc = write_text(b, path, 0600, &key_pem);
    if (rc == TC_OK &&
        (rc = make_path(path, "ca.crt", b, "%s/ca/ca.crt", b->spec->out_dir)) == TC_OK)
        rc = write_text(b, path, 0644, &b->ca_pem);
    if (key_pem.ptr != NULL)
        OPENSSL_cleanse(key_pem.ptr, key_pem.cap);
    bytes_free(&key_pem);
    return rc;
}

static int node_tls(struct build *b, struct node_info *n, const char *conf)
{
    char path[PATH_BYTES], cn[32];
    EVP_PKEY *tls_key = NULL;
    X509 *cert = NULL;
    struct bytes key_pem, cert_pem;
    int rc;
    bytes_init(&key_pem);
    bytes_init(&cert_pem);
    snprintf(cn, sizeof(cn), "node%u", (unsigned)n->index);
    if (node_cert_p256_keygen(&tls_key) != TC_OK) {
        snprintf(b->err, b->err_len, "cannot generate a TLS key");
        return TC_ECRYPTO;
    }
    rc = node_cert_issue(b->ca_key, b->ca_cert, cn, n->seckey, tls_key, &cert, b->err, b->err_len);
    if (rc != TC_OK)
        goto out_free_key;
    if (node_cert_key_pem(tls_key, &key_pem) != TC_OK || node_cert_pem(cert, &cert_pem) != TC_OK) {
        snprintf(b->err, b->err_len, "cannot encode the TLS key or certificate");
        rc = TC_ECRYPTO;
        goto out_free_pem;
    }
    if ((rc = make_path(path, "ssl.key", b, "%s/ssl.key", conf)) != TC_OK ||
        (rc = write_text(b, path, 0600, &key_pem)) != TC_OK)
        goto out_free_pem;
    if ((rc = make_path(path, "ssl.crt", b, "%s/ssl.crt", conf)) != TC_OK ||
        (rc = write_text(b, path, 0644, &cert_pem)) != TC_OK)
        goto out_free_pem;
    if ((rc = make_path(path, "ca.crt", b, "%s/ca.crt", conf)) != TC_OK)
        goto out_free_pem;
    rc = write_text(b, path, 0644, &b->ca_pem);
out_free_pem:
    if (key_pem.ptr != NULL)
        OPENSSL_cleanse(key_pem.ptr, key_pem.cap);
    bytes_free(&key_pem);
    bytes_free(&cert_pem);
    X509_free(cert);
out_free_key:
    EVP_PKEY_free(tls_key);
    return rc;
}

/* conf/: node key, node ID, TLS key and certificate, CA, storage key. */
static int node_conf(struct build *b, struct node_info *n)
{
    char conf[PATH_BYTES], path[PATH_BYTES], id_hex[130];
    struct bytes pem;
    int rc;
    if ((rc = make_path(conf, "conf", b, "%s/conf", n->dir)) != TC_OK ||
        (rc = cli_mkdir(conf, true, b->err, b->err_len)) != TC_OK)
        return rc;
    bytes_init(&pem);
    rc = node_key_to_pem(n->seckey, &pem);
    if (rc != TC_OK) {
        snprintf(b->err, b->err_len, "cannot encode a node key");
        goto out_free_pem;
    }
    if ((rc = make_path(path, "node.pem", b, "%s/node.pem", conf)) != TC_OK ||
        (rc = write_text(b, path, 0600, &pem)) != TC_OK)
        goto out_free_pem;
    hex_encode(n->id, 64, id_hex);
    id_hex[128] = '\n';
    id_hex[129] = '\0';
    if ((rc = make_path(path, "node.nodeid", b, "%s/node.nodeid", conf)) != TC_OK ||
        (rc = write_file(b, path, 0644, id_hex, 129)) != TC_OK)
        goto out_free_pem;
    if ((rc = node_tls(b, n, conf)) != TC_OK)
        goto out_free_pem;
    if (b->spec->storage_security) {
        uint8_t key[32];
        if (crypto_random(key, sizeof(key)) != TC_OK) {
            snprintf(b->err, b->err_len, "cannot generate a storage key");
            rc = TC_ECRYPTO;
            goto out_free_pem;
        }
        if ((rc = make_path(path, "storage.key", b, "%s/storage.key", conf)) == TC_OK)
            rc = cli_write_key_file(path, key, b->err, b->err_len);
        OPENSSL_cleanse(key, sizeof(key));
    }
out_free_pem:
    if (pem.ptr != NULL)
        OPENSSL_cleanse(pem.ptr, pem.cap);
    bytes_free(&pem);
    return rc;
}

static bool is_loopback(const char *ip)
{
    return strncmp(ip, "127.", 4) == 0;
}

static int genesis_text(struct build *b, struct bytes *out)
{
    const struct chain_spec *s = b->spec;
    uint64_t ts = s->timestamp_ms != 0 ? s->timestamp_ms : clock_wall_ms();
    int rc = appendf(out,
                     "; config.genesis - what every node of the chain must agree on.\n"
                     "; Written by teechain build-chain; identical on every node.\n"
                     "[chain]\nchain_id = %llu\ngroup_id = group0\ntimestamp_ms = %llu\n\n"
                     "[consensus]\nconsensus_type = %s\nblock_tx_count_limit = 1000\n"
                     "min_seal_time_ms = 100\nelection_timeout_ms = 1000\nheartbeat_ms = 100\n",
                     (unsigned long long)s->chain_id, (unsigned long long)ts,
                     consensus_type_name(s->consensus));
    for (size_t i = 0; rc == TC_OK && i < b->node_count; i++) {
        char id_hex[129];
        hex_encode(b->nodes[i].id, 64, id_hex);
        rc = appendf(out, "node.%zu = %s\n", i, id_hex);
    }
    if (rc == TC_OK)
        rc = appendf(out, "\n[tx]\ngas_limit = 3000000000\nblock_gas_limit = 300000000000\n"
                          "gas_price = 0\n\n[alloc]\n");
    for (uint32_t i = 0; rc == TC_OK && i < s->account_count; i++) {
        char addr[CLI_ADDRESS_STR_LEN];
        cli_address_checksum(b->accounts[i], addr);
        rc = appendf(out, "%s = %s\n", addr, CHAIN_ACCOUNT_BALANCE_WEI);
    }
    if (rc == TC_OK)
        rc = appendf(out, "\n[tee]\nallow_virtual = true\n");
    return rc;
}

static int ini_text(struct build *b, const struct node_info *n, struct bytes *out)
{
    const char *ip = b->spec->hosts[n->host].ip;
    const char *listen = is_loopback(ip) ? ip : "0.0.0.0";
    int rc = appendf(out,
                     "; config.ini - local settings of node%u on %s.\n"
                     "[p2p]\nlisten_ip = %s\nlisten_port = %u\n",
                     (unsigned)n->index, ip, listen, (unsigned)n->p2p_port);
    if (rc == TC_OK && (b->node_count > 1 || b->spec->peer_count > 0)) {
        rc = appendf(out, "peers = ");
        bool first = true;
        for (size_t i = 0; rc == TC_OK && i < b->spec->peer_count; i++) {
            const struct net_endpoint *p = &b->spec->peers[i];
            bool v6 = strchr(p->host, ':') != NULL;
            rc = appendf(out, "%s%s%s%s:%u", first ? "" : ",", v6 ? "[" : "", p->host,
                         v6 ? "]" : "", (unsigned)p->port);
            first = false;
        }
        for (size_t i = 0; rc == TC_OK && i < b->node_count; i++) {
            if (&b->nodes[i] == n)
                continue;
            rc = appendf(out, "%s%s:%u", first ? "" : ",", b->spec->hosts[b->nodes[i].host].ip,
                         (unsigned)b->nodes[i].p2p_port);
            first = false;
        }
        if (rc == TC_OK)
            rc = appendf(out, "\n");
    }
    if (rc == TC_OK)
        rc = appendf(out,
                     "\n[rpc]\nlisten_ip = %s\nlisten_port = %u\n\n[storage]\ndata_path = data\n",
                     listen, (unsigned)n->rpc_port);
    if (rc == TC_OK && b->spec->storage_security)
        rc = appendf(out, "\n[storage_security]\nenable = true\nkey_path = conf/storage.key\n");
    if (rc == TC_OK)
        rc = appendf(out, "\n[log]\nlevel = info\nlog_path = log\n\n[tee]\nplatform = virtual\n\n"
                          "[security]\nprivate_key_path = conf/node.pem\nca_cert = conf/ca.crt\n"
                          "ssl_cert = conf/ssl.crt\nssl_key = conf/ssl.key\n");
    return rc;
}

static int start_script(struct build *b, const struct node_info *n, struct bytes *out)
{
    return appendf(out,
                   "#!/bin/sh\n"
                   "# Starts node%u in the background (pid in node.pid); refuses to start twice.\n"
                   "cd \"$(dirname \"$0\")\" || exit 1\n"
                   "bin='%s'\n"
                   "name=node%u\n"
                   "if [ -f node.pid ] && kill -0 \"$(cat node.pid)\" 2>/dev/null; then\n"
                   "    echo \"$name is already running (pid $(cat node.pid))\" >&2\n"
                   "    exit 1\n"
                   "fi\n"
                   "if [ ! -x \"$bin\" ]; then\n"
                   "    echo \"cannot execute $bin (rebuild, or run build-chain with --bin)\" >&2\n"
                   "    exit 1\n"
                   "fi\n"
                   "mkdir -p log\n"
                   "nohup \"$bin\" -c config.ini -g config.genesis >>log/stdout.log 2>&1 &\n"
                   "pid=$!\n"
                   "echo \"$pid\" >node.pid\n"
                   "sleep 1\n"
                   "if ! kill -0 \"$pid\" 2>/dev/null; then\n"
                   "    rm -f node.pid\n"
                   "    echo \"$name failed to start; see log/stdout.log\" >&2\n"
                   "    exit 1\n"
                   "fi\n"
                   "echo \"$name started (pid $pid)\"\n",
                   (unsigned)n->index, b->spec->bin_path, (unsigned)n->index);
}

static int stop_script(const struct node_info *n, struct bytes *out)
{
    return appendf(out,
                   "#!/bin/sh\n"
                   "# Stops node%u: SIGTERM, then waits up to 30 s for it to exit.\n"
                   "cd \"$(dirname \"$0\")\" || exit 1\n"
                   "name=node%u\n"
                   "if [ ! -f node.pid ]; then\n"
                   "    echo \"$name is not running\"\n"
                   "    exit 0\n"
                   "fi\n"
                   "pid=$(cat node.pid)\n"
                   "if ! kill -0 \"$pid\" 2>/dev/null; then\n"
                   "    rm -f node.pid\n"
                   "    echo \"$name is not running\"\n"
                   "    exit 0\n"
                   "fi\n"
                   "kill -TERM \"$pid\"\n"
                   "i=0\n"
                   "while kill -0 \"$pid\" 2>/dev/null; do\n"
                   "    i=$((i + 1))\n"
                   "    if [ \"$i\" -gt 30 ]; then\n"
                   "        echo \"$name (pid $pid) did not stop within 30 s\" >&2\n"
                   "        exit 1\n"
                   "    fi\n"
                   "    sleep 1\n"
                   "done\n"
                   "rm -f node.pid\n"
                   "echo \"$name stopped\"\n",
                   (unsigned)n->index, (unsigned)n->index);
}

/* start_all.sh / stop_all.sh running nodeN for each N of indexes, in order. */
static int host_script(const uint32_t *indexes, size_t count, const char *verb, struct bytes *out)
{
    int rc = appendf(out,
                     "#!/bin/sh\n"
                     "# Runs %s.sh of every node of this host.\n"
                     "dir=$(cd \"$(dirname \"$0\")\" && pwd) || exit 1\n"
                     "status=0\n"
                     "nodes=\"",
                     verb);
    for (size_t i = 0; rc == TC_OK && i < count; i++)
        rc = appendf(out, "%snode%u", i == 0 ? "" : " ", (unsigned)indexes[i]);
    if (rc == TC_OK)
        rc = appendf(out,
                     "\"\n"
                     "for node in $nodes; do\n"
                     "    \"$dir/$node/%s.sh\" || status=1\n"
                     "done\n"
                     "exit \"$status\"\n",
                     verb);
    return rc;
}

/* config.ini, config.genesis and the two scripts of one node. */
static int node_files(struct build *b, const struct node_info *n, const struct bytes *genesis)
{
    char path[PATH_BYTES];
    struct bytes text;
    int rc;
    bytes_init(&text);
    if ((rc = make_path(path, "config.genesis", b, "%s/config.genesis", n->dir)) != TC_OK ||
        (rc = write_text(b, path, 0644, genesis)) != TC_OK)
        goto out_free;
    if ((rc = ini_text(b, n, &text)) != TC_OK ||
        (rc = make_path(path, "config.ini", b, "%s/config.ini", n->dir)) != TC_OK ||
        (rc = write_text(b, path, 0644, &text)) != TC_OK)
        goto out_free;
    bytes_clear(&text);
    if ((rc = start_script(b, n, &text)) != TC_OK ||
        (rc = make_path(path, "start.sh", b, "%s/start.sh", n->dir)) != TC_OK ||
        (rc = write_text(b, path, 0755, &text)) != TC_OK)
        goto out_free;
    bytes_clear(&text);
    if ((rc = stop_script(n, &text)) != TC_OK ||
        (rc = make_path(path, "stop.sh", b, "%s/stop.sh", n->dir)) != TC_OK)
        goto out_free;
    rc = write_text(b, path, 0755, &text);
out_free:
    bytes_free(&text);
    if (rc == TC_ENOMEM)
        snprintf(b->err, b->err_len, "out of memory");
    return rc;
}

static int make_accounts(struct build *b)
{
    char dir[PATH_BYTES];
    int rc;
    if ((rc = make_path(dir, "accounts", b, "%s/accounts", b->spec->out_dir)) != TC_OK ||
        (rc = cli_mkdir(dir, true, b->err, b->err_len)) != TC_OK)
        return rc;
    for (uint32_t i = 0; i < b->spec->account_count; i++) {
        rc = cli_new_account(dir, b->accounts[i], b->err, b->err_len);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

/* Creates a node folder that must not exist yet. */
static int mkdir_new(struct build *b, const char *path)
{
    if (mkdir(path, 0755) == 0)
        return TC_OK;
    if (errno == EEXIST) {
        snprintf(b->err, b->err_len, "%s exists already (it is left as it is)", path);
        return TC_EEXIST;
    }
    snprintf(b->err, b->err_len, "cannot create directory %s: %s", path, strerror(errno));
    return TC_EIO;
}

/* Generates the node key of n (host, index, ports set), creates its folder
 * under host_dir and writes its conf/. */
static int create_node(struct build *b, struct node_info *n, const char *host_dir)
{
    int rc;
    if (ecdsa_keygen(n->seckey) != TC_OK || ecdsa_pubkey(n->seckey, n->id) != TC_OK) {
        snprintf(b->err, b->err_len, "cannot generate a node key");
        return TC_ECRYPTO;
    }
    if ((rc = make_path(n->dir, "node", b, "%s/node%u", host_dir, (unsigned)n->index)) != TC_OK ||
        (rc = mkdir_new(b, n->dir)) != TC_OK)
        return rc;
    n->created = true;
    return node_conf(b, n);
}

/* Assigns hosts, indexes, ports and keys; creates the node folders. */
static int make_nodes(struct build *b)
{
    const struct chain_spec *s = b->spec;
    char path[PATH_BYTES];
    int rc;
    for (size_t h = 0; h < s->host_count; h++) {
        if ((rc = make_path(path, "host", b, "%s/%s", s->out_dir, s->hosts[h].ip)) != TC_OK ||
            (rc = cli_mkdir(path, false, b->err, b->err_len)) != TC_OK)
            return rc;
        for (uint32_t i = 0; i < s->hosts[h].node_count; i++) {
            struct node_info *n = &b->nodes[b->node_count++];
            n->host = h;
            n->index = i;
            n->p2p_port = (uint16_t)(s->p2p_port + i);
            n->rpc_port = (uint16_t)(s->rpc_port + i);
            if ((rc = create_node(b, n, path)) != TC_OK)
                return rc;
        }
    }
    return TC_OK;
}

static int host_scripts(struct build *b)
{
    char path[PATH_BYTES];
    struct bytes text;
    uint32_t indexes[CHAIN_MAX_NODES];
    int rc = TC_OK;
    bytes_init(&text);
    for (size_t h = 0; rc == TC_OK && h < b->spec->host_count; h++) {
        static const char *const verbs[] = { "start", "stop" };
        size_t count = 0;
        for (size_t i = 0; i < b->node_count; i++) {
            if (b->nodes[i].host == h)
                indexes[count++] = b->nodes[i].index;
        }
        for (size_t v = 0; rc == TC_OK && v < 2; v++) {
            bytes_clear(&text);
            if ((rc = host_script(indexes, count, verbs[v], &text)) != TC_OK ||
                (rc = make_path(path, "script", b, "%s/%s/%s_all.sh", b->spec->out_dir,
                                b->spec->hosts[h].ip, verbs[v])) != TC_OK)
                break;
            rc = write_text(b, path, 0755, &text);
        }
    }
    bytes_free(&text);
    return rc;
}

int chain_build(const struct chain_spec *spec, char *err, size_t err_len)
{
    struct build b = { .spec = spec, .err = err, .err_len = err_len };
    struct bytes genesis;
    int rc = check_spec(&b);
    if (rc != TC_OK)
        return rc;
    bytes_init(&genesis);
    bytes_init(&b.ca_pem);
    b.nodes = calloc(CHAIN_MAX_NODES, sizeof(*b.nodes));
    b.accounts = calloc(spec->account_count + 1, sizeof(*b.accounts));
    if (b.nodes == NULL || b.accounts == NULL) {
        snprintf(err, err_len, "out of memory");
        rc = TC_ENOMEM;
        goto out_free;
    }
    if ((rc = prepare_out_dir(&b)) != TC_OK || (rc = make_ca(&b)) != TC_OK ||
        (rc = make_nodes(&b)) != TC_OK || (rc = make_accounts(&b)) != TC_OK)
        goto out_free;
    if ((rc = genesis_text(&b, &genesis)) != TC_OK) {
        snprintf(err, err_len, "out of memory");
        goto out_free;
    }
    for (size_t i = 0; i < b.node_count; i++) {
        if ((rc = node_files(&b, &b.nodes[i], &genesis)) != TC_OK)
            goto out_free;
    }
    rc = host_scripts(&b);
out_free:
    if (b.nodes != NULL)
        OPENSSL_cleanse(b.nodes, CHAIN_MAX_NODES * sizeof(*b.nodes));
    free(b.nodes);
    free(b.accounts);
    bytes_free(&genesis);
    bytes_free(&b.ca_pem);
    X509_free(b.ca_cert);
    EVP_PKEY_free(b.ca_key);
    return rc;
}

/* ---- chain_expand -------------------------------------------------------- */

static bool is_peer_host(const char *s, size_t len, bool bracketed)
{
    if (len == 0 || len >= CONFIG_MAX_HOST)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '.' || (bracketed ? c == ':' : (c == '-' || c == '_'));
        if (!ok)
            return false;
    }
    return true;
}

static int parse_peer(const char *p, size_t len, struct net_endpoint *ep)
{
    const char *host = p, *colon;
    size_t host_len;
    bool bracketed = len > 0 && p[0] == '[';
    uint64_t port = 0;
    if (bracketed) {
        const char *close = memchr(p, ']', len);
        if (close == NULL || close + 1 >= p + len || close[1] != ':')
            return TC_EINVAL;
        host = p + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = memchr(p, ':', len);
        if (colon == NULL)
            return TC_EINVAL;
        host_len = (size_t)(colon - p);
    }
    if (!is_peer_host(host, host_len, bracketed) ||
        parse_uint(colon + 1, len - (size_t)(colon + 1 - p), 65535, &port) != TC_OK || port == 0)
        return TC_EINVAL;
    memcpy(ep->host, host, host_len);
    ep->host[host_len] = '\0';
    ep->port = (uint16_t)port;
    return TC_OK;
}

int chain_parse_peers(const char *arg, struct chain_spec *spec, char *err, size_t err_len)
{
    spec->peer_count = 0;
    const char *p = arg;
    while (p != NULL) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (spec->peer_count == CONFIG_MAX_PEERS) {
            snprintf(err, err_len, "--peers: more than %d peers", CONFIG_MAX_PEERS);
            return TC_EINVAL;
        }
        if (parse_peer(p, len, &spec->peers[spec->peer_count]) != TC_OK) {
            snprintf(err, err_len, "--peers: expected HOST:PORT[,HOST:PORT...], got \"%.*s\"",
                     (int)len, p);
            return TC_EINVAL;
        }
        spec->peer_count++;
        p = end != NULL ? end + 1 : NULL;
    }
    return TC_OK;
}

static int check_expand_spec(struct build *b)
{
    const struct chain_spec *s = b->spec;
    uint32_t total = 0;
    if (s->host_count == 0) {
        snprintf(b->err, b->err_len, "no hosts given (-l IP:COUNT)");
        return TC_EINVAL;
    }
    if (s->out_dir[0] == '\0' || s->bin_path[0] == '\0' || s->genesis_path[0] == '\0') {
        snprintf(b->err, b->err_len,
                 "chain directory, genesis file and teechaind path are required");
        return TC_EINVAL;
    }
    if (strpbrk(s->bin_path, "'\n") != NULL) {
        snprintf(b->err, b->err_len, "teechaind path must not contain a quote or newline");
        return TC_EINVAL;
    }
    if (s->peer_count == 0) {
        snprintf(b->err, b->err_len,
                 "--peers: give the P2P address of at least one running node of the chain");
        return TC_EINVAL;
    }
    for (size_t h = 0; h < s->host_count; h++)
        total += s->hosts[h].node_count;
    if (s->peer_count + total - 1 > CONFIG_MAX_PEERS) {
        snprintf(b->err, b->err_len, "a new node would have more than %d peers", CONFIG_MAX_PEERS);
        return TC_EINVAL;
    }
    return TC_OK;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Loads OUT/ca/ca.key and ca.crt into b and checks that they belong together. */
static int load_ca(struct build *b)
{
    char key_path[PATH_BYTES], crt_path[PATH_BYTES];
    int rc;
    if ((rc = make_path(key_path, "ca.key", b, "%s/ca/ca.key", b->spec->out_dir)) != TC_OK ||
        (rc = make_path(crt_path, "ca.crt", b, "%s/ca/ca.crt", b->spec->out_dir)) != TC_OK)
        return rc;
    if (access(key_path, F_OK) != 0 || access(crt_path, F_OK) != 0) {
        snprintf(b->err, b->err_len,
                 "%s has no chain CA (ca/ca.key and ca/ca.crt): give -o the folder that "
                 "build-chain wrote",
                 b->spec->out_dir);
        return TC_ENOTFOUND;
    }
    if ((rc = node_cert_read_file(crt_path, &b->ca_cert, b->err, b->err_len)) != TC_OK)
        return rc;
    BIO *bio = BIO_new_file(key_path, "rb");
    if (bio == NULL) {
        snprintf(b->err, b->err_len, "cannot open %s", key_path);
        return TC_EIO;
    }
    b->ca_key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (b->ca_key == NULL) {
        snprintf(b->err, b->err_len, "%s: not an unencrypted PEM private key", key_path);
        return TC_EINVAL;
    }
    if (X509_check_private_key(b->ca_cert, b->ca_key) != 1) {
        snprintf(b->err, b->err_len, "%s does not match %s", key_path, crt_path);
        return TC_ECRYPTO;
    }
    if (node_cert_pem(b->ca_cert, &b->ca_pem) != TC_OK) {
        snprintf(b->err, b->err_len, "cannot encode the CA certificate");
        return TC_ECRYPTO;
    }
    return TC_OK;
}

/* Reads the genesis file (bounded) into out and checks that it loads. */
static int load_genesis(struct build *b, struct bytes *out)
{
    const char *path = b->spec->genesis_path;
    struct node_config cfg;
    char reason[512];
    int rc = TC_OK;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(b->err, b->err_len, "--genesis %s: cannot open: %s", path, strerror(errno));
        return TC_EIO;
    }
    uint8_t chunk[4096];
    for (size_t n; (n = fread(chunk, 1, sizeof(chunk), f)) > 0;) {
        if (out->len + n > CONFIG_MAX_FILE_BYTES) {
            snprintf(b->err, b->err_len, "--genesis %s: larger than %u bytes", path,
                     CONFIG_MAX_FILE_BYTES);
            rc = TC_ETOOBIG;
            goto out_close;
        }
        if (bytes_append(out, chunk, n) != TC_OK) {
            snprintf(b->err, b->err_len, "out of memory");
            rc = TC_ENOMEM;
            goto out_close;
        }
    }
    if (ferror(f) || (out->len > 0 && memchr(out->ptr, '\0', out->len) != NULL)) {
        snprintf(b->err, b->err_len, "--genesis %s: cannot read, or contains NUL bytes", path);
        rc = TC_EIO;
        goto out_close;
    }
    if (bytes_push(out, '\0') != TC_OK) {
        snprintf(b->err, b->err_len, "out of memory");
        rc = TC_ENOMEM;
        goto out_close;
    }
    out->len--; /* the NUL terminates the text for the parser; it is not copied */
    node_config_defaults(&cfg);
    rc = node_config_parse_text(&cfg, true, path, (const char *)out->ptr, reason, sizeof(reason));
    node_config_free(&cfg);
    if (rc != TC_OK)
        snprintf(b->err, b->err_len, "--genesis: not a valid genesis: %s", reason);
out_close:
    fclose(f);
    return rc;
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * The N of every folder nodeN (N without leading zeros, at most 65535) in
 * host_dir, sorted, into indexes (room for cap). A missing host_dir has none.
 */
static int scan_node_indexes(struct build *b, const char *host_dir, uint32_t *indexes, size_t cap,
                             size_t *count)
{
    *count = 0;
    DIR *d = opendir(host_dir);
    if (d == NULL) {
        if (errno == ENOENT)
            return TC_OK;
        snprintf(b->err, b->err_len, "cannot read %s: %s", host_dir, strerror(errno));
        return TC_EIO;
    }
    int rc = TC_OK;
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        const char *digits = e->d_name + 4;
        uint64_t v = 0;
        char path[PATH_BYTES];
        struct stat st;
        if (strncmp(e->d_name, "node", 4) != 0 || (digits[0] == '0' && digits[1] != '\0') ||
            parse_uint(digits, strlen(digits), 65535, &v) != TC_OK)
            continue;
        if ((rc = make_path(path, "node", b, "%s/%s", host_dir, e->d_name)) != TC_OK)
            break;
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        if (*count == cap) {
            snprintf(b->err, b->err_len, "%s: more than %zu node folders", host_dir, cap);
            rc = TC_ETOOBIG;
            break;
        }
        indexes[(*count)++] = (uint32_t)v;
    }
    closedir(d);
    if (rc == TC_OK)
        qsort(indexes, *count, sizeof(*indexes), compare_u32);
    return rc;
}

/* Numbers the new nodes of every host after the node folders already there. */
static int plan_new_nodes(struct build *b)
{
    const struct chain_spec *s = b->spec;
    char host_dir[PATH_BYTES];
    uint32_t indexes[CHAIN_MAX_NODES];
    size_t count;
    int rc;
    for (size_t h = 0; h < s->host_count; h++) {
        if ((rc = make_path(host_dir, "host", b, "%s/%s", s->out_dir, s->hosts[h].ip)) != TC_OK)
            return rc;
        /* A host with more than CHAIN_MAX_NODES nodes cannot be part of a chain. */
        if ((rc = scan_node_indexes(b, host_dir, indexes, CHAIN_MAX_NODES, &count)) != TC_OK)
            return rc;
        uint32_t first = count > 0 ? indexes[count - 1] + 1 : 0;
        uint32_t last = first + s->hosts[h].node_count - 1;
        if ((uint32_t)s->p2p_port + last > 65535 || (uint32_t)s->rpc_port + last > 65535) {
            snprintf(b->err, b->err_len, "ports of node%u on %s go beyond 65535", (unsigned)last,
                     s->hosts[h].ip);
            return TC_EINVAL;
        }
        for (uint32_t i = first; i <= last; i++) {
            struct node_info *n = &b->nodes[b->node_count++];
            n->host = h;
            n->index = i;
            n->p2p_port = (uint16_t)(s->p2p_port + i);
            n->rpc_port = (uint16_t)(s->rpc_port + i);
            for (size_t p = 0; p < s->peer_count; p++) {
                if (s->peers[p].port == n->p2p_port &&
                    strcmp(s->peers[p].host, s->hosts[h].ip) == 0) {
                    snprintf(b->err, b->err_len,
                             "--peers lists %s:%u, the address of the new node%u itself",
                             s->hosts[h].ip, (unsigned)n->p2p_port, (unsigned)i);
                    return TC_EINVAL;
                }
            }
        }
    }
    return TC_OK;
}

static const char *const host_verbs[] = { "start", "stop" };

/* OUT/<ip of host h>/<verb>_all.sh<suffix>. */
static int host_script_path(struct build *b, size_t h, size_t verb, const char *suffix, char *out)
{
    return make_path(out, "script", b, "%s/%s/%s_all.sh%s", b->spec->out_dir, b->spec->hosts[h].ip,
                     host_verbs[verb], suffix);
}

/*
 * Replaces start_all.sh and stop_all.sh of every host by ones that run all
 * of its nodeN folders. All replacements are written first, beside the
 * scripts as *.new (O_EXCL), and renamed over them only when every one was
 * written, so that a failure leaves the old scripts in place.
 */
static int expand_host_scripts(struct build *b)
{
    char host_dir[PATH_BYTES], path[PATH_BYTES], tmp[PATH_BYTES];
    uint32_t indexes[CHAIN_MAX_NODES * 2];
    size_t count, written = 0; /* *.new files written, in (host, verb) order */
    struct bytes text;
    int rc = TC_OK;
    bytes_init(&text);
    for (size_t h = 0; rc == TC_OK && h < b->spec->host_count; h++) {
        if ((rc = make_path(host_dir, "host", b, "%s/%s", b->spec->out_dir,
                            b->spec->hosts[h].ip)) != TC_OK ||
            (rc = scan_node_indexes(b, host_dir, indexes, CHAIN_MAX_NODES * 2, &count)) != TC_OK)
            break;
        for (size_t v = 0; rc == TC_OK && v < 2; v++) {
            bytes_clear(&text);
            if ((rc = host_script(indexes, count, host_verbs[v], &text)) != TC_OK) {
                snprintf(b->err, b->err_len, "out of memory");
                break;
            }
            if ((rc = host_script_path(b, h, v, ".new", tmp)) != TC_OK ||
                (rc = write_text(b, tmp, 0755, &text)) != TC_OK)
                break;
            written++;
        }
    }
    bytes_free(&text);
    for (size_t i = 0; i < written; i++) {
        if (host_script_path(b, i / 2, i % 2, ".new", tmp) != TC_OK)
            continue; /* the same path was made above */
        if (rc != TC_OK) {
            unlink(tmp);
            continue;
        }
        if (host_script_path(b, i / 2, i % 2, "", path) != TC_OK || rename(tmp, path) != 0) {
            snprintf(b->err, b->err_len, "cannot replace %s: %s", path, strerror(errno));
            rc = TC_EIO;
            unlink(tmp);
        }
    }
    return rc;
}

static int create_new_nodes(struct build *b, const struct bytes *genesis)
{
    char host_dir[PATH_BYTES];
    int rc;
    for (size_t i = 0; i < b->node_count; i++) {
        struct node_info *n = &b->nodes[i];
        if ((rc = make_path(host_dir, "host", b, "%s/%s", b->spec->out_dir,
                            b->spec->hosts[n->host].ip)) != TC_OK ||
            (rc = cli_mkdir(host_dir, false, b->err, b->err_len)) != TC_OK ||
            (rc = create_node(b, n, host_dir)) != TC_OK ||
            (rc = node_files(b, n, genesis)) != TC_OK)
            return rc;
    }
    return TC_OK;
}

int chain_expand(const struct chain_spec *spec, struct chain_expansion *added, char *err,
                 size_t err_len)
{
    struct build b = { .spec = spec, .err = err, .err_len = err_len };
    struct bytes genesis;
    int rc = check_expand_spec(&b);
    if (rc != TC_OK)
        return rc;
    bytes_init(&genesis);
    bytes_init(&b.ca_pem);
    b.nodes = calloc(CHAIN_MAX_NODES, sizeof(*b.nodes));
    if (b.nodes == NULL) {
        snprintf(err, err_len, "out of memory");
        rc = TC_ENOMEM;
        goto out_free;
    }
    if ((rc = load_ca(&b)) != TC_OK || (rc = load_genesis(&b, &genesis)) != TC_OK ||
        (rc = plan_new_nodes(&b)) != TC_OK)
        goto out_free;
    if ((rc = create_new_nodes(&b, &genesis)) != TC_OK || (rc = expand_host_scripts(&b)) != TC_OK)
        goto out_remove_nodes;
    memset(added, 0, sizeof(*added));
    for (size_t i = 0; i < b.node_count; i++) {
        struct chain_new_node *o = &added->nodes[added->node_count++];
        snprintf(o->ip, sizeof(o->ip), "%s", spec->hosts[b.nodes[i].host].ip);
        o->index = b.nodes[i].index;
        o->p2p_port = b.nodes[i].p2p_port;
        o->rpc_port = b.nodes[i].rpc_port;
        memcpy(o->id, b.nodes[i].id, 64);
    }
out_remove_nodes:
    /* The reason of a failure is in err already; removal is best effort. */
    for (size_t i = 0; rc != TC_OK && i < b.node_count; i++) {
        char ignored[8];
        struct build quiet = b;
        quiet.err = ignored;
        quiet.err_len = sizeof(ignored);
        if (b.nodes[i].created)
            remove_tree(&quiet, b.nodes[i].dir);
    }
out_free:
    if (b.nodes != NULL)
        OPENSSL_cleanse(b.nodes, CHAIN_MAX_NODES * sizeof(*b.nodes));
    free(b.nodes);
    bytes_free(&genesis);
    bytes_free(&b.ca_pem);
    X509_free(b.ca_cert);
    EVP_PKEY_free(b.ca_key);
    return rc;
}
