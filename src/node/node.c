/*
 * node.c - opening and closing a node, its loop thread, and the node-specific
 * JSON-RPC answers (getConsensusStatus, getSyncStatus, getNodeInfo). See
 * node.h; the chain thread is in chain.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/crypto.h>

#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"
#include "crypto/random.h"
#include "consensus/raft/raft_codec.h"
#include "net/node_cert.h"
#include "node/node_internal.h"
#include "node/sync.h"
#include "rpc/eth_api.h"

#define MOD "node"

/* Bound on the storage key file (hex, newline, slack). */
#define STORAGE_KEY_FILE_MAX 128

uint64_t node_raft_id(const uint8_t node_id[64])
{
    uint8_t h[32];
    keccak256(node_id, 64, h);
    uint64_t id = 0;
    for (int i = 0; i < 8; i++)
        id = (id << 8) | h[i];
    return id ? id : 1;
}

int node_read_storage_key(const char *path, uint8_t key[32], char *err, size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "%s: cannot open the storage key: %s", path, strerror(errno));
        return TC_EIO;
    }
    char buf[STORAGE_KEY_FILE_MAX + 1];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof(buf) && (r = read(fd, buf + len, sizeof(buf) - len)) > 0)
        len += (size_t)r;
    close(fd);
    int rc = TC_EINVAL;
    if (len == 32) {
        memcpy(key, buf, 32);
        rc = TC_OK;
    } else if (len == 64 || (len == 65 && buf[64] == '\n')) {
        buf[64] = '\0';
        if (hex_decode_exact(buf, key, 32) == TC_OK)
            rc = TC_OK;
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    if (rc != TC_OK)
        snprintf(err, err_len,
                 "%s: a storage key must be 64 hex digits (and an optional newline) or 32 raw "
                 "bytes",
                 path);
    return rc;
}

/* ---- RPC callbacks (loop thread) ------------------------------------------- */

static void status_copy(struct node *n, struct node_status *st)
{
    pthread_mutex_lock(&n->mu);
    *st = n->status;
    pthread_mutex_unlock(&n->mu);
}

static const char *role_name(uint8_t role)
{
    switch (role) {
    case RAFT_LEADER:
        return "leader";
    case RAFT_CANDIDATE:
        return "candidate";
    case RAFT_PRECANDIDATE:
        return "precandidate";
    default:
        return "follower";
    }
}

static void add_hex(cJSON *o, const char *name, const uint8_t *data, size_t len)
{
    char hex[2 * 64 + 3];
    hex[0] = '0';
    hex[1] = 'x';
    hex_encode(data, len, hex + 2);
    cJSON_AddStringToObject(o, name, hex);
}

bool node_member_id(struct node *n, uint64_t raft_id, uint8_t id[64])
{
    bool found = false;
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < n->member_count && !found; i++) {
        if (n->member_raft[i] == raft_id) {
            memcpy(id, n->member_id[i], 64);
            found = true;
        }
    }
    pthread_mutex_unlock(&n->mu);
    return found;
}

int node_member_add(struct node *n, const uint8_t id[64])
{
    uint64_t rid = node_raft_id(id);
    int index = -1;
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < n->member_count; i++) {
        if (n->member_raft[i] == rid) {
            index = memcmp(n->member_id[i], id, 64) == 0 ? (int)i : -2;
            break;
        }
    }
    if (index == -1 && n->member_count < NODE_MAX_KNOWN) {
        n->member_raft[n->member_count] = rid;
        memcpy(n->member_id[n->member_count], id, 64);
        index = (int)n->member_count++;
    }
    pthread_mutex_unlock(&n->mu);
    return index < 0 ? -1 : index;
}

static bool node_is_genesis_member(const struct node *n)
{
    const struct genesis_config *g = &n->cfg->genesis;
    for (size_t i = 0; i < g->sealer_count; i++)
        if (memcmp(g->sealers[i].id, n->node_id, 64) == 0)
            return true;
    for (size_t i = 0; i < g->observer_count; i++)
        if (memcmp(g->observers[i].id, n->node_id, 64) == 0)
            return true;
    return false;
}

static uint64_t peer_count(void *ctx)
{
    struct node *n = ctx;
    return n->p2p ? p2p_peer_count(n->p2p) : 0;
}

static cJSON *consensus_status(void *ctx)
{
    struct node *n = ctx;
    struct node_status st;
    status_copy(n, &st);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "consensusType", consensus_type_name(n->cfg->genesis.consensus));
    add_hex(o, "nodeID", n->node_id, 64);
    cJSON_AddStringToObject(o, "role", role_name(st.role));
    cJSON_AddBoolToObject(o, "isLeader", st.role == RAFT_LEADER);
    uint8_t leader[64];
    if (node_member_id(n, st.leader, leader))
        add_hex(o, "leader", leader, 64);
    else
        cJSON_AddNullToObject(o, "leader");
    cJSON_AddNumberToObject(o, "term", (double)st.term);
    cJSON_AddNumberToObject(o, "commitIndex", (double)st.commit_index);
    cJSON_AddNumberToObject(o, "appliedIndex", (double)st.applied_index);
    cJSON_AddNumberToObject(o, "lastIndex", (double)st.last_index);
    cJSON_AddNumberToObject(o, "firstIndex", (double)st.first_index);
    struct ledger_head head;
    ledger_head(n->ledger, &head);
    cJSON_AddNumberToObject(o, "blockNumber", (double)head.number);
    cJSON *members = cJSON_AddArrayToObject(o, "members");
    for (uint32_t i = 0; i < st.members.count; i++) {
        const struct raft_member *m = &st.members.members[i];
        cJSON *e = cJSON_CreateObject();
        uint8_t id[64];
        if (node_member_id(n, m->id, id))
            add_hex(e, "nodeID", id, 64);
        else
            cJSON_AddNullToObject(e, "nodeID");
        cJSON_AddStringToObject(e, "role", m->role == RAFT_VOTER ? "sealer" : "observer");
        cJSON_AddNumberToObject(e, "matchIndex", (double)st.match_index[i]);
        cJSON_AddItemToArray(members, e);
    }
    return o;
}

static cJSON *sync_status(void *ctx)
{
    struct node *n = ctx;
    struct ledger_head head;
    uint8_t genesis[32];
    ledger_head(n->ledger, &head);
    ledger_genesis_hash(n->ledger, genesis);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "isSyncing", false);
    add_hex(o, "genesisHash", genesis, 32);
    add_hex(o, "nodeID", n->node_id, 64);
    cJSON_AddNumberToObject(o, "blockNumber", (double)head.number);
    add_hex(o, "latestHash", head.hash, 32);
    cJSON_AddNumberToObject(o, "knownHighestNumber", (double)head.number);
    add_hex(o, "knownLatestHash", head.hash, 32);
    cJSON *peers = cJSON_AddArrayToObject(o, "peers");
    if (n->p2p) {
        struct p2p_peer_info info[RAFT_MAX_NODES];
        size_t count = p2p_peers(n->p2p, info, RAFT_MAX_NODES);
        for (size_t i = 0; i < count && i < RAFT_MAX_NODES; i++) {
            cJSON *e = cJSON_CreateObject();
            add_hex(e, "nodeID", info[i].node_id, 64);
            cJSON_AddStringToObject(e, "address", info[i].address);
            cJSON_AddItemToArray(peers, e);
        }
    }
    return o;
}

static cJSON *node_info(void *ctx)
{
    struct node *n = ctx;
    const struct node_config *c = n->cfg;
    cJSON *o = cJSON_CreateObject();
    add_hex(o, "nodeID", n->node_id, 64);
    add_hex(o, "address", n->address, 20);
    cJSON_AddStringToObject(o, "version", NODE_CLIENT_VERSION);
    cJSON_AddStringToObject(o, "groupID", c->genesis.group_id);
    cJSON_AddNumberToObject(o, "chainID", (double)c->genesis.chain_id);
    cJSON_AddStringToObject(o, "consensusType", consensus_type_name(c->genesis.consensus));
    cJSON_AddStringToObject(o, "platform", tee_platform_name(c->local.platform));
    cJSON_AddBoolToObject(o, "storageSecurity", c->local.storage_security);
    char ep[CONFIG_MAX_HOST + 8];
    snprintf(ep, sizeof(ep), "%s:%u", c->local.rpc_listen.host, (unsigned)node_rpc_port(n));
    cJSON_AddStringToObject(o, "rpcEndpoint", ep);
    snprintf(ep, sizeof(ep), "%s:%u", c->local.p2p_listen.host, (unsigned)c->local.p2p_listen.port);
    cJSON_AddStringToObject(o, "p2pEndpoint", ep);
    return o;
}

/* ---- txpool hooks ---------------------------------------------------------- */

static int pool_account(void *ctx, const uint8_t addr[20], uint64_t *nonce, u256 *balance)
{
    struct node *n = ctx;
    struct state_account a;
    bool exists;
    int rc = ledger_account(n->ledger, addr, &a, &exists);
    if (rc != TC_OK)
        return rc;
    *nonce = a.nonce;
    *balance = a.balance;
    return TC_OK;
}

/* Every admitted transaction wakes the sealer; a follower also forwards it
 * to the leader it knows (the leader's pool de-duplicates). */
static void pool_admitted(void *ctx, const uint8_t hash[32], const uint8_t *raw, size_t len)
{
    (void)hash;
    struct node *n = ctx;
    uint64_t leader = atomic_load(&n->leader_hint);
    if (n->p2p && leader != RAFT_NONE && leader != n->raft_id) {
        if (mailbox_push(&n->outbox, leader, P2P_TYPE_TX, raw, len) == TC_OK)
            node_loop_wake(n);
        return;
    }
    node_chain_wake(n);
}

/* ---- P2P (loop thread) ----------------------------------------------------- */

void node_loop_wake(struct node *n)
{
    event_active(n->outbox_ev, EV_READ, 0);
}

static void flush_outbox(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct node *n = arg;
    struct mailbox_msg *list = mailbox_take_all(&n->outbox);
    for (struct mailbox_msg *m = list; m; m = m->next) {
        uint8_t id[64];
        if (!n->p2p || !node_member_id(n, m->peer, id))
            continue;
        /* TC_EAGAIN (not connected) and TC_EFULL (slow peer, dropped and
         * redialled) are losses that Raft and forwarding tolerate. */
        p2p_send(n->p2p, id, m->type, m->data, m->len);
    }
    mailbox_free_list(list);
}

/* Loop thread: P2P admits the allowed members, except the blocked ones. */
static void apply_allowed(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct node *n = arg;
    uint8_t ids[NODE_MAX_KNOWN][64];
    size_t count = 0;
    pthread_mutex_lock(&n->mu);
    for (size_t k = 0; k < n->allowed_count; k++) {
        size_t i = n->allowed[k];
        bool blocked = false;
        for (size_t j = 0; j < n->blocked_count; j++)
            blocked = blocked || n->blocked[j] == n->member_raft[i];
        if (!blocked)
            memcpy(ids[count++], n->member_id[i], 64);
    }
    size_t blocked_count = n->blocked_count;
    pthread_mutex_unlock(&n->mu);
    p2p_set_allowed(n->p2p, (const uint8_t(*)[64])ids, count);
    if (blocked_count)
        LOG_W(MOD, "P2P: %zu member(s) blocked", blocked_count);
    else
        LOG_I(MOD, "P2P: %zu node(s) allowed", count);
}

void node_set_allowed(struct node *n, const size_t *indexes, size_t count)
{
    pthread_mutex_lock(&n->mu);
    n->allowed_count = count < NODE_MAX_KNOWN ? count : NODE_MAX_KNOWN;
    memcpy(n->allowed, indexes, n->allowed_count * sizeof(*indexes));
    pthread_mutex_unlock(&n->mu);
    if (n->p2p)
        event_active(n->block_ev, EV_READ, 0);
}

int node_block_peers(struct node *n, const uint64_t *raft_ids, size_t count)
{
    if (count > RAFT_MAX_NODES || (count > 0 && !raft_ids))
        return TC_EINVAL;
    if (!n->p2p)
        return TC_ESTATE;
    pthread_mutex_lock(&n->mu);
    if (count > 0) /* raft_ids may be NULL when unblocking everyone */
        memcpy(n->blocked, raft_ids, count * sizeof(*raft_ids));
    n->blocked_count = count;
    pthread_mutex_unlock(&n->mu);
    event_active(n->block_ev, EV_READ, 0);
    return TC_OK;
}

static int on_raft_frame(void *ctx, const uint8_t node_id[P2P_NODE_ID_BYTES], uint8_t type,
                         const uint8_t *payload, size_t len)
{
    struct node *n = ctx;
    struct raft_message m;
    int rc = raft_msg_decode(payload, len, &m, n->loop_entries, RAFT_MSG_MAX_ENTRIES);
    if (rc != TC_OK)
        return rc;
    uint64_t from = node_raft_id(node_id);
    if (m.from != from || m.to != n->raft_id)
        return TC_EINVAL; /* claims another sender, or is not for us */
    if (mailbox_push(&n->inbox, from, type, payload, len) == TC_OK)
        node_chain_wake(n);
    return TC_OK;
}

static void forwarded_done(void *ctx, const struct txpool_result *result)
{
    (void)ctx;
    (void)result;
}

static int on_tx_frame(void *ctx, const uint8_t node_id[P2P_NODE_ID_BYTES], uint8_t type,
                       const uint8_t *payload, size_t len)
{
    (void)node_id;
    (void)type;
    struct node *n = ctx;
    /* A refusal (already known, nonce too low...) is normal for a forwarded
     * transaction and not the peer's fault. */
    txpool_submit(n->pool, payload, len, forwarded_done, NULL, NULL);
    return TC_OK;
}

/* Block sync: answers requests here, from the ledger (reads are safe on any
 * thread); hands answers to the chain thread. */
static int on_sync_frame(void *ctx, const uint8_t node_id[P2P_NODE_ID_BYTES], uint8_t type,
                         const uint8_t *payload, size_t len)
{
    struct node *n = ctx;
    uint8_t kind;
    int rc = sync_frame_kind(payload, len, &kind);
    if (rc != TC_OK)
        return rc;
    if (kind == SYNC_KIND_BLOCKS) {
        if (mailbox_push(&n->inbox, node_raft_id(node_id), type, payload, len) == TC_OK)
            node_chain_wake(n);
        return TC_OK;
    }
    struct sync_request req;
    if ((rc = sync_request_decode(payload, len, &req)) != TC_OK)
        return rc;
    struct bytes answer;
    bytes_init(&answer);
    rc = sync_answer(n->ledger, &req, &answer);
    if (rc == TC_OK)
        p2p_send(n->p2p, node_id, P2P_TYPE_SYNC, answer.ptr, answer.len);
    else
        LOG_W(MOD, "cannot answer a block sync request: %s", ledger_last_error());
    bytes_free(&answer);
    return TC_OK;
}

static void on_peer(void *ctx, const uint8_t node_id[P2P_NODE_ID_BYTES], bool up)
{
    (void)ctx;
    char id[17];
    hex_encode(node_id, 8, id);
    LOG_I(MOD, "peer %s... %s", id, up ? "connected" : "disconnected");
}

static int open_p2p(struct node *n, char *err, size_t err_len)
{
    const struct local_config *l = &n->cfg->local;
    struct p2p_endpoint *peers = xcalloc(l->peer_count ? l->peer_count : 1, sizeof(*peers));
    for (size_t i = 0; i < l->peer_count; i++) {
        snprintf(peers[i].host, sizeof(peers[i].host), "%s", l->peers[i].host);
        peers[i].port = l->peers[i].port;
    }
    struct p2p_options o;
    p2p_options_defaults(&o);
    memcpy(o.node_id, n->node_id, 64);
    snprintf(o.listen_host, sizeof(o.listen_host), "%s", l->p2p_listen.host);
    o.listen_port = l->p2p_listen.port;
    uint8_t allowed[NODE_MAX_KNOWN][64];
    pthread_mutex_lock(&n->mu);
    for (size_t k = 0; k < n->allowed_count; k++)
        memcpy(allowed[k], n->member_id[n->allowed[k]], 64);
    o.allowed = (const uint8_t(*)[64])allowed;
    o.allowed_count = n->allowed_count;
    pthread_mutex_unlock(&n->mu);
    o.peers = peers;
    o.peer_count = l->peer_count;
    o.ca_cert_path = l->ca_cert_path;
    o.cert_path = l->ssl_cert_path;
    o.key_path = l->ssl_key_path;
    o.max_frame_bytes = RAFT_MSG_MAX_BYTES;
    if (crypto_random(&o.rng_seed, sizeof(o.rng_seed)) != TC_OK)
        o.rng_seed = (uint64_t)getpid();
    o.on_peer = on_peer;
    o.on_peer_ctx = n;
    int rc = p2p_new(n->base, &o, &n->p2p, err, err_len);
    free(peers);
    if (rc != TC_OK)
        return rc;
    if ((rc = p2p_register(n->p2p, P2P_TYPE_RAFT, RAFT_MSG_MAX_BYTES, on_raft_frame, n)) ||
        (rc = p2p_register(n->p2p, P2P_TYPE_TX, TXPOOL_DEFAULT_MAX_TX_BYTES, on_tx_frame, n)) ||
        (rc = p2p_register(n->p2p, P2P_TYPE_SYNC, SYNC_MAX_RESPONSE_BYTES, on_sync_frame, n))) {
        snprintf(err, err_len, "cannot register the P2P frame types: %s", tc_strerror(rc));
        return rc;
    }
    return TC_OK;
}

/* ---- open / run / close ---------------------------------------------------- */

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct node *n = arg;
    LOG_I(MOD, "%s received: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    event_base_loopbreak(n->base);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct node *n = arg;
    event_base_loopbreak(n->base);
}

static int add_metrics(struct node *n)
{
    static const double latency_bounds[] = {
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
    };
    struct metric *f;
    int rc;
#define FAMILY(call, field)                                                                        \
    do {                                                                                           \
        if ((rc = (call)) != TC_OK)                                                                \
            return rc;                                                                             \
        n->field = metric_series(f, NULL);                                                         \
    } while (0)
    FAMILY(metrics_add_counter(n->metrics, "teechain_blocks_total", "Blocks applied to the ledger",
                               NULL, 0, &f),
           m_blocks);
    FAMILY(metrics_add_counter(n->metrics, "teechain_transactions_total",
                               "Transactions in applied blocks", NULL, 0, &f),
           m_txs);
    FAMILY(metrics_add_counter(n->metrics, "teechain_failed_transactions_total",
                               "Transactions in applied blocks whose receipt status is 0", NULL, 0,
                               &f),
           m_failed_txs);
    FAMILY(metrics_add_counter(n->metrics, "teechain_dropped_transactions_total",
                               "Transactions the executor left out of a block as invalid", NULL, 0,
                               &f),
           m_dropped);
    FAMILY(metrics_add_gauge(n->metrics, "teechain_block_height", "Number of the head block", NULL,
                             0, &f),
           m_head);
    FAMILY(metrics_add_gauge(n->metrics, "teechain_txpool_size",
                             "Transactions in the pool (pending, future and in flight)", NULL, 0,
                             &f),
           m_pool);
    FAMILY(metrics_add_histogram(n->metrics, "teechain_block_commit_seconds",
                                 "Time from sealing a block to applying it to the ledger", NULL, 0,
                                 latency_bounds, sizeof(latency_bounds) / sizeof(latency_bounds[0]),
                                 &f),
           m_commit_latency);
#undef FAMILY
    return TC_OK;
}

static int open_storage(struct node *n, char *err, size_t err_len)
{
    const struct local_config *l = &n->cfg->local;
    char path[CONFIG_MAX_PATH + 16];
    if (mkdir(l->data_path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "config.ini: [storage] data_path: cannot create %s: %s",
                 l->data_path, strerror(errno));
        return TC_EIO;
    }
    struct store_options so;
    memset(&so, 0, sizeof(so));
    snprintf(path, sizeof(path), "%s/ledger", l->data_path);
    so.path = path;
    int rc;
    if (l->storage_security) {
        so.sealed = true;
        if ((rc = node_read_storage_key(l->storage_key_path, so.master_key, err, err_len)))
            return rc;
    }
    rc = store_open(&so, &n->store, err, err_len);
    OPENSSL_cleanse(so.master_key, sizeof(so.master_key));
    if (rc != TC_OK)
        return rc;
    if ((rc = ledger_open(n->store, &n->cfg->genesis, &n->ledger, err, err_len)) != TC_OK)
        return rc;
    snprintf(path, sizeof(path), "%s/raft", l->data_path);
    return logstore_open(path, NULL, &n->log, err, err_len);
}

static int open_identity(struct node *n, char *err, size_t err_len)
{
    const struct node_config *c = n->cfg;
    int rc = node_key_read_file(c->local.node_key_path, n->node_key, err, err_len);
    if (rc != TC_OK)
        return rc;
    if ((rc = ecdsa_pubkey(n->node_key, n->node_id)) != TC_OK) {
        snprintf(err, err_len, "%s: not a valid secp256k1 private key", c->local.node_key_path);
        return rc;
    }
    eth_address_from_pubkey(n->node_id, n->address);
    n->raft_id = node_raft_id(n->node_id);
    const struct genesis_config *g = &c->genesis;
    if (g->consensus != CONSENSUS_RAFT) {
        snprintf(err, err_len,
                 "config.genesis: [consensus] consensus_type: %s is not available "
                 "yet; this node runs raft",
                 consensus_type_name(g->consensus));
        return TC_EUNSUPPORTED;
    }
    for (size_t i = 0; i < g->sealer_count + g->observer_count; i++) {
        const uint8_t *id =
            i < g->sealer_count ? g->sealers[i].id : g->observers[i - g->sealer_count].id;
        if (node_member_add(n, id) < 0) {
            snprintf(err, err_len,
                     "config.genesis: [consensus]: two members share the Raft id %016" PRIx64
                     " (their node IDs' keccak256 prefixes collide); generate another key",
                     node_raft_id(id));
            return TC_EINVAL;
        }
    }
    uint8_t self[64];
    if (!node_member_id(n, n->raft_id, self)) {
        /* A node added at runtime starts with the genesis membership and
         * learns the current one from the chain. */
        LOG_W(MOD, "this node is not in the genesis membership: it takes part once a sealer "
                   "adds it (teechain node add)");
        if (node_member_add(n, n->node_id) < 0) {
            snprintf(err, err_len, "%s: this node's Raft id collides with a member's",
                     c->local.node_key_path);
            return TC_EINVAL;
        }
    }
    return TC_OK;
}

static int open_pool(struct node *n, char *err, size_t err_len)
{
    const struct node_config *c = n->cfg;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cpus < 1 ? 1 : cpus > 16 ? 16 : (unsigned)cpus;
    int rc = threadpool_create(&n->workers, threads, 65536);
    if (rc != TC_OK) {
        snprintf(err, err_len, "cannot start the worker threads: %s", tc_strerror(rc));
        return rc;
    }
    struct txpool_config pc;
    txpool_config_default(&pc);
    pc.rules.chain_id = c->genesis.chain_id;
    pc.rules.allow_unprotected = false;
    pc.max_txs = c->local.txpool_limit;
    pc.max_per_sender = c->local.txpool_per_sender_limit;
    pc.expiry_s = c->local.txpool_expiry_s;
    pc.min_gas_price = c->genesis.gas_price;
    pc.block_gas_limit = c->genesis.block_gas_limit;
    pc.account = pool_account;
    pc.account_ctx = n;
    pc.workers = n->workers;
    if ((rc = txpool_create(&pc, &n->pool)) != TC_OK) {
        snprintf(err, err_len, "cannot create the txpool: %s", tc_strerror(rc));
        return rc;
    }
    txpool_set_forward(n->pool, pool_admitted, n);
    return TC_OK;
}

static int open_rpc(struct node *n, char *err, size_t err_len)
{
    const struct local_config *l = &n->cfg->local;
    rpc_raise_fd_limit(NULL);
    struct rpc_server_options o;
    rpc_server_options_init(&o);
    o.host = l->rpc_listen.host;
    o.port = l->rpc_listen.port;
    o.max_batch = l->rpc_max_batch;
    o.max_body_bytes = l->rpc_max_body_bytes;
    o.max_connections = l->rpc_max_connections;
    o.cors = l->rpc_cors;
    o.metrics = n->metrics;
    int rc = rpc_server_new(n->base, &o, &n->rpc);
    if (rc != TC_OK) {
        snprintf(err, err_len, "config.ini: [rpc] cannot listen on %s:%u: %s", o.host,
                 (unsigned)o.port, tc_strerror(rc));
        return rc;
    }
    struct eth_api_deps *d = &n->api;
    d->ledger = n->ledger;
    d->txpool = n->pool;
    d->genesis = &n->cfg->genesis;
    d->client_version = NODE_CLIENT_VERSION;
    d->consensus_status = consensus_status;
    d->sync_status = sync_status;
    d->node_info = node_info;
    d->peer_count = peer_count;
    if ((rc = eth_api_call_workers_create(&n->call_workers)) != TC_OK) {
        snprintf(err, err_len, "cannot start the eth_call threads: %s", tc_strerror(rc));
        return rc;
    }
    d->call_workers = n->call_workers;
    d->node_ctx = n;
    if ((rc = eth_api_register(n->rpc, d)) != TC_OK) {
        snprintf(err, err_len, "cannot register the RPC methods: %s", tc_strerror(rc));
        return rc;
    }
    return TC_OK;
}

static atomic_bool signals_taken;

static void use_pthreads(void)
{
    if (evthread_use_pthreads() != 0)
        log_fatal(MOD, "libevent without pthreads support");
}

int node_open(const struct node_config *cfg, struct node **out, char *err, size_t err_len)
{
    *out = NULL;
    struct node *n = xcalloc(1, sizeof(*n));
    n->cfg = cfg;
    pthread_mutex_init(&n->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&n->wake_pending, false);
    atomic_init(&n->leader_hint, RAFT_NONE);
    mailbox_init(&n->inbox, NODE_MAILBOX_BYTES);
    mailbox_init(&n->outbox, NODE_MAILBOX_BYTES);
    n->loop_entries = xcalloc(RAFT_MSG_MAX_ENTRIES, sizeof(*n->loop_entries));
    signal(SIGPIPE, SIG_IGN);

    int rc;
    if ((rc = open_identity(n, err, err_len)) || (rc = open_storage(n, err, err_len)) ||
        (rc = node_chain_boot(n, err, err_len)) || (rc = open_pool(n, err, err_len)))
        goto fail;
    /* node_stop() may break the loop from another thread. */
    static pthread_once_t threads_once = PTHREAD_ONCE_INIT;
    pthread_once(&threads_once, use_pthreads);
    if (!(n->metrics = metrics_new()) || !(n->base = event_base_new())) {
        snprintf(err, err_len, "out of memory");
        rc = TC_ENOMEM;
        goto fail;
    }
    if ((rc = add_metrics(n)) != TC_OK) {
        snprintf(err, err_len, "cannot register the node's metrics: %s", tc_strerror(rc));
        goto fail;
    }
    if (!(n->outbox_ev = event_new(n->base, -1, 0, flush_outbox, n)) ||
        !(n->block_ev = event_new(n->base, -1, 0, apply_allowed, n))) {
        snprintf(err, err_len, "out of memory");
        rc = TC_ENOMEM;
        goto fail;
    }
    /* P2P when the chain has (or had at genesis) other members. */
    if ((n->cfg->genesis.sealer_count + n->cfg->genesis.observer_count > 1 ||
         n->members.count > 1 || !node_is_genesis_member(n)) &&
        (rc = open_p2p(n, err, err_len)) != TC_OK)
        goto fail;
    node_chain_replay(n);
    if ((rc = open_rpc(n, err, err_len)) != TC_OK)
        goto fail;
    /* Signals go to one event base per process: the first node opened takes
     * them (several nodes live in one process only in tests). */
    n->owns_signals = !atomic_exchange(&signals_taken, true);
    if (n->owns_signals) {
        n->sig_term = evsignal_new(n->base, SIGTERM, on_signal, n);
        n->sig_int = evsignal_new(n->base, SIGINT, on_signal, n);
    }
    n->stop_ev = event_new(n->base, -1, 0, on_stop, n);
    if (!n->stop_ev ||
        (n->owns_signals && (!n->sig_term || !n->sig_int || evsignal_add(n->sig_term, NULL) ||
                             evsignal_add(n->sig_int, NULL)))) {
        snprintf(err, err_len, "cannot install the signal handlers");
        rc = TC_EIO;
        goto fail;
    }

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, NODE_CHAIN_STACK_BYTES);
    int e = pthread_create(&n->chain_thread, &attr, node_chain_main, n);
    pthread_attr_destroy(&attr);
    if (e != 0) {
        snprintf(err, err_len, "cannot start the chain thread: %s", strerror(e));
        rc = TC_EIO;
        goto fail;
    }
    n->chain_started = true;
    struct ledger_head head;
    ledger_head(n->ledger, &head);
    char id[17];
    hex_encode(n->node_id, 8, id);
    LOG_I(MOD, "node %s... started: chain %" PRIu64 ", head block %" PRIu64 ", RPC on %s:%u", id,
          cfg->genesis.chain_id, head.number, cfg->local.rpc_listen.host,
          (unsigned)node_rpc_port(n));
    *out = n;
    return TC_OK;
fail:
    node_close(n);
    return rc;
}

int node_run(struct node *n)
{
    return event_base_dispatch(n->base) < 0 ? TC_EIO : TC_OK;
}

void node_stop(struct node *n)
{
    /* An activated event stays pending until the loop runs it, so a stop
     * asked for before node_run() started is not lost. */
    event_active(n->stop_ev, EV_READ, 0);
}

uint16_t node_rpc_port(const struct node *n)
{
    return n->rpc ? rpc_server_port(n->rpc) : 0;
}

void node_close(struct node *n)
{
    if (!n)
        return;
    if (n->chain_started) {
        pthread_mutex_lock(&n->mu);
        n->stop = true;
        pthread_cond_signal(&n->cv);
        pthread_mutex_unlock(&n->mu);
        pthread_join(n->chain_thread, NULL);
    }
    /* Admissions in progress complete into the RPC server: the pool (which
     * waits for them) goes first. */
    if (n->pool)
        txpool_destroy(n->pool);
    if (n->workers)
        threadpool_destroy(n->workers);
    /* eth_call jobs complete RPC calls too: finished before the server goes. */
    if (n->call_workers)
        threadpool_destroy(n->call_workers);
    rpc_server_free(n->rpc);
    p2p_free(n->p2p);
    if (n->outbox_ev)
        event_free(n->outbox_ev);
    if (n->block_ev)
        event_free(n->block_ev);
    if (n->sig_term)
        event_free(n->sig_term);
    if (n->sig_int)
        event_free(n->sig_int);
    if (n->stop_ev)
        event_free(n->stop_ev);
    if (n->owns_signals)
        atomic_store(&signals_taken, false);
    if (n->base)
        event_base_free(n->base);
    node_chain_free(n);
    logstore_close(n->log);
    ledger_close(n->ledger);
    store_close(n->store);
    metrics_free(n->metrics);
    OPENSSL_cleanse(n->node_key, sizeof(n->node_key));
    mailbox_destroy(&n->inbox);
    mailbox_destroy(&n->outbox);
    free(n->loop_entries);
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->mu);
    if (n->chain_started)
        LOG_I(MOD, "stopped");
    free(n);
}
