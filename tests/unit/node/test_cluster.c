/*
 * test_cluster.c - three nodes in this process, talking TLS over loopback:
 * replication and follower re-execution (follower_verify), transactions
 * forwarded from followers, a new leader after the leader stops, and catch-up
 * by block sync after a follower missed more than the log tail.
 *
 * P2P ports 32100..32102 on 127.0.0.1 (RPC on ephemeral ports). Waits are
 * bounded; nothing asserts a duration. The nodes' own election jitter is
 * seeded from the OS, so the leader differs between runs: every check holds
 * for any leader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <pthread.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "chain/tx.h"
#include "consensus/raft/raft_codec.h"
#include "cli/chain_builder.h"
#include "cli/rpc_client.h"
#include "crypto/ecdsa.h"
#include "crypto/keccak.h"
#include "exec/syscontract.h"
#include "net/node_cert.h"
#include "net/p2p.h"
#include "node/node.h"
#include "node/sync.h"

#define NODES     3
#define MAX_NODES 4
#define WAIT_MS   30000u
#define P2P_BASE  32100
#define LOG_TAIL  4u

struct member {
    char dir[300];
    struct node_config cfg;
    struct node *node;
    pthread_t loop;
    char url[64];
};

struct cluster {
    char root[128];
    int n; /* members of this cluster (NODES, or MAX_NODES) */
    struct member m[MAX_NODES];
    /* Two funded senders: one per side of a partition, so that a transaction
     * held by a cut-off node never leaves a nonce gap on the other side. */
    uint8_t key[2][32];
    uint8_t addr[2][20];
    uint64_t nonce[2];
};

static void *loop_main(void *arg)
{
    node_run(arg);
    return NULL;
}

static void absolute(char *path, size_t cap, const char *dir)
{
    if (path[0] == '/')
        return;
    char tmp[CONFIG_MAX_PATH];
    int n = snprintf(tmp, sizeof(tmp), "%s/%s", dir, path);
    assert_true(n > 0 && (size_t)n < sizeof(tmp) && (size_t)n < cap);
    memcpy(path, tmp, (size_t)n + 1);
}

static void start_member(struct cluster *c, int i)
{
    struct member *m = &c->m[i];
    char ini[400], gen[400], err[512];
    snprintf(ini, sizeof(ini), "%s/config.ini", m->dir);
    snprintf(gen, sizeof(gen), "%s/config.genesis", m->dir);
    if (node_config_load(&m->cfg, ini, gen, err, sizeof(err)) != TC_OK)
        fail_msg("config: %s", err);
    struct local_config *l = &m->cfg.local;
    absolute(l->data_path, sizeof(l->data_path), m->dir);
    absolute(l->node_key_path, sizeof(l->node_key_path), m->dir);
    absolute(l->ca_cert_path, sizeof(l->ca_cert_path), m->dir);
    absolute(l->ssl_cert_path, sizeof(l->ssl_cert_path), m->dir);
    absolute(l->ssl_key_path, sizeof(l->ssl_key_path), m->dir);
    l->log_path[0] = '\0';
    l->rpc_listen.port = 0;
    l->follower_verify = true;
    l->log_tail = LOG_TAIL;
    m->cfg.genesis.election_timeout_ms = 400;
    m->cfg.genesis.heartbeat_ms = 50;
    m->cfg.genesis.min_seal_time_ms = 20;
    if (node_open(&m->cfg, &m->node, err, sizeof(err)) != TC_OK)
        fail_msg("node %d: %s", i, err);
    snprintf(m->url, sizeof(m->url), "http://127.0.0.1:%u", (unsigned)node_rpc_port(m->node));
    assert_int_equal(pthread_create(&m->loop, NULL, loop_main, m->node), 0);
}

static void stop_member(struct cluster *c, int i)
{
    struct member *m = &c->m[i];
    if (!m->node)
        return;
    node_stop(m->node);
    pthread_join(m->loop, NULL);
    node_close(m->node);
    node_config_free(&m->cfg);
    m->node = NULL;
}

/* Builds a chain of `total` nodes whose genesis membership is the first
 * `genesis` of them, and starts the first `running`. */
static int setup_chain(void **state, int total, int genesis, int running)
{
    struct cluster *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    snprintf(c->root, sizeof(c->root), "/tmp/tc-test-cluster-XXXXXX");
    assert_non_null(mkdtemp(c->root));
    struct chain_spec spec;
    chain_spec_defaults(&spec);
    char err[512];
    char hosts[32];
    snprintf(hosts, sizeof(hosts), "127.0.0.1:%d", total);
    c->n = total;
    assert_int_equal(chain_parse_hosts(hosts, &spec, err, sizeof(err)), 0);
    spec.p2p_port = P2P_BASE;
    spec.rpc_port = P2P_BASE + 100;
    spec.account_count = 1;
    snprintf(spec.out_dir, sizeof(spec.out_dir), "%s/nodes", c->root);
    snprintf(spec.bin_path, sizeof(spec.bin_path), "/bin/true");
    assert_int_equal(chain_build(&spec, err, sizeof(err)), 0);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(ecdsa_keygen(c->key[k]), 0);
        assert_int_equal(ecdsa_address_from_seckey(c->key[k], c->addr[k]), 0);
    }
    for (int i = 0; i < c->n; i++) {
        snprintf(c->m[i].dir, sizeof(c->m[i].dir), "%s/nodes/127.0.0.1/node%d", c->root, i);
        char gen[400];
        snprintf(gen, sizeof(gen), "%s/config.genesis", c->m[i].dir);
        for (int k = genesis; k < total; k++) {
            /* Members beyond the genesis ones join at runtime. */
            char cmd[600];
            snprintf(cmd, sizeof(cmd), "sed -i '/^node\\.%d = /d' '%s'", k, gen);
            assert_int_equal(system(cmd), 0);
        }
        FILE *fp = fopen(gen, "a");
        assert_non_null(fp);
        fputs("\n[alloc]\n", fp);
        for (int k = 0; k < 2; k++) {
            char hex[41];
            hex_encode(c->addr[k], 20, hex);
            fprintf(fp, "0x%s = 1000000000000000000000\n", hex);
        }
        fclose(fp);
    }
    log_set_level(LOG_ERROR);
    for (int i = 0; i < running; i++)
        start_member(c, i);
    *state = c;
    return 0;
}

static int setup(void **state)
{
    return setup_chain(state, NODES, NODES, NODES);
}

static int setup_two(void **state)
{
    return setup_chain(state, NODES, NODES, NODES - 1);
}

static int setup_joiner(void **state)
{
    return setup_chain(state, MAX_NODES, NODES, NODES);
}

static int teardown(void **state)
{
    struct cluster *c = *state;
    for (int i = 0; i < c->n; i++)
        stop_member(c, i);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->root);
    assert_int_equal(system(cmd), 0);
    free(c);
    return 0;
}

/* A JSON-RPC call; NULL on any failure (a stopped node, an error answer). */
static cJSON *call(const struct member *m, const char *method, const char *params_json)
{
    struct rpc_client rc;
    if (rpc_client_init(&rc, m->url, 5000) != 0)
        return NULL;
    cJSON *params = cJSON_Parse(params_json);
    cJSON *result = NULL;
    if (rpc_client_call(&rc, method, params, &result) != TC_OK)
        result = NULL;
    cJSON_Delete(params);
    return result;
}

static uint64_t quantity(const cJSON *v)
{
    return cJSON_IsString(v) ? strtoull(v->valuestring, NULL, 16) : UINT64_MAX;
}

/* The member that leads, waiting for one (-1 if none within the bound). */
static int wait_leader(struct cluster *c, int except)
{
    uint64_t deadline = clock_monotonic_ms() + WAIT_MS;
    while (clock_monotonic_ms() < deadline) {
        for (int i = 0; i < c->n; i++) {
            if (i == except || !c->m[i].node)
                continue;
            cJSON *st = call(&c->m[i], "getConsensusStatus", "[]");
            bool leads = st && cJSON_IsTrue(cJSON_GetObjectItem(st, "isLeader"));
            cJSON_Delete(st);
            if (leads)
                return i;
        }
        clock_sleep_ms(20);
    }
    return -1;
}

static void send_transfer_from(struct cluster *c, int from, const struct member *via,
                               uint8_t hash[32])
{
    struct tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = TX_DYNAMIC_FEE;
    tx.chain_id = 20200;
    tx.nonce = c->nonce[from]++;
    tx.gas_limit = 21000;
    tx.has_to = true;
    memset(tx.to, 0x5a, 20);
    tx.value = u256_from_u64(7);
    assert_int_equal(tx_sign(&tx, c->key[from]), 0);
    struct bytes raw;
    bytes_init(&raw);
    assert_int_equal(tx_encode(&tx, &raw), 0);
    struct tx dec;
    assert_int_equal(tx_decode(bytes_as_view(&raw), &dec, NULL), 0);
    tx_hash(&dec, hash);
    char *params = malloc(2 * raw.len + 16);
    assert_non_null(params);
    strcpy(params, "[\"0x");
    hex_encode(raw.ptr, raw.len, params + 4);
    strcat(params, "\"]");
    cJSON *r = call(via, "eth_sendRawTransaction", params);
    assert_non_null(r);
    cJSON_Delete(r);
    free(params);
    bytes_free(&raw);
}

static void send_transfer(struct cluster *c, const struct member *via, uint8_t hash[32])
{
    send_transfer_from(c, 0, via, hash);
}

/* Block number of the receipt on member m, waiting for it. */
static uint64_t wait_receipt(const struct member *m, const uint8_t hash[32])
{
    char params[80] = "[\"0x";
    hex_encode(hash, 32, params + 4);
    strcat(params, "\"]");
    uint64_t deadline = clock_monotonic_ms() + WAIT_MS;
    while (clock_monotonic_ms() < deadline) {
        cJSON *r = call(m, "eth_getTransactionReceipt", params);
        if (r && cJSON_IsObject(r)) {
            assert_int_equal(quantity(cJSON_GetObjectItem(r, "status")), 1);
            uint64_t b = quantity(cJSON_GetObjectItem(r, "blockNumber"));
            cJSON_Delete(r);
            return b;
        }
        cJSON_Delete(r);
        clock_sleep_ms(20);
    }
    fail_msg("no receipt on %s within %u ms", m->url, WAIT_MS);
    return 0;
}

static uint64_t height(const struct member *m);

/* Every running member has blocks 0..upto (waiting for each to get there)
 * with the same hashes. */
static void assert_same_chain(struct cluster *c, uint64_t upto)
{
    for (int i = 0; i < c->n; i++) {
        uint64_t deadline = clock_monotonic_ms() + WAIT_MS;
        while (c->m[i].node && height(&c->m[i]) < upto && clock_monotonic_ms() < deadline)
            clock_sleep_ms(20);
    }
    for (uint64_t b = 0; b <= upto; b++) {
        char params[64], first[67] = "";
        snprintf(params, sizeof(params), "[\"0x%llx\", false]", (unsigned long long)b);
        for (int i = 0; i < c->n; i++) {
            if (!c->m[i].node)
                continue;
            cJSON *blk = call(&c->m[i], "eth_getBlockByNumber", params);
            assert_non_null(blk);
            const cJSON *h = cJSON_GetObjectItem(blk, "hash");
            assert_true(cJSON_IsString(h));
            if (!first[0])
                snprintf(first, sizeof(first), "%s", h->valuestring);
            else
                assert_string_equal(h->valuestring, first);
            cJSON_Delete(blk);
        }
    }
}

/* Transactions sent to any member get receipts on every member (followers
 * forward them; followers re-execute each block and agree with the leader). */
static void test_replicates_and_forwards(void **state)
{
    struct cluster *c = *state;
    int leader = wait_leader(c, -1);
    assert_true(leader >= 0);
    uint8_t hashes[6][32];
    for (int k = 0; k < 6; k++)
        send_transfer(c, &c->m[k % NODES], hashes[k]);
    uint64_t top = 0;
    for (int k = 0; k < 6; k++)
        for (int i = 0; i < NODES; i++) {
            uint64_t b = wait_receipt(&c->m[i], hashes[k]);
            if (b > top)
                top = b;
        }
    assert_same_chain(c, top);
}

/* The leader stops: another takes over and the chain goes on; the old leader
 * restarts and catches up. */
static void test_new_leader_after_stop_and_restart_catches_up(void **state)
{
    struct cluster *c = *state;
    int leader = wait_leader(c, -1);
    assert_true(leader >= 0);
    uint8_t hash[32];
    send_transfer(c, &c->m[leader], hash);
    wait_receipt(&c->m[leader], hash);
    stop_member(c, leader);
    int next = wait_leader(c, leader);
    assert_true(next >= 0 && next != leader);
    uint64_t top = 0;
    for (int k = 0; k < 3; k++) {
        send_transfer(c, &c->m[next], hash);
        top = wait_receipt(&c->m[next], hash);
    }
    start_member(c, leader);
    assert_int_equal(wait_receipt(&c->m[leader], hash), top);
    assert_same_chain(c, top);
}

/* A follower that misses more blocks than the log tail comes back by block
 * sync (the leader no longer has the entries it needs). */
static void test_follower_far_behind_catches_up_by_block_sync(void **state)
{
    struct cluster *c = *state;
    int leader = wait_leader(c, -1);
    assert_true(leader >= 0);
    int away = (leader + 1) % NODES;
    stop_member(c, away);
    uint8_t hash[32];
    uint64_t top = 0;
    /* One block per transaction: each waits for its receipt. */
    for (unsigned k = 0; k < 4 * LOG_TAIL + 2; k++) {
        send_transfer(c, &c->m[leader], hash);
        top = wait_receipt(&c->m[leader], hash);
    }
    start_member(c, away);
    assert_int_equal(wait_receipt(&c->m[away], hash), top);
    assert_same_chain(c, top);
}

static uint64_t member_raft_id(const struct cluster *c, int i)
{
    char path[400], err[256];
    uint8_t key[32], id[64];
    snprintf(path, sizeof(path), "%s/conf/node.pem", c->m[i].dir);
    assert_int_equal(node_key_read_file(path, key, err, sizeof(err)), 0);
    assert_int_equal(ecdsa_pubkey(key, id), 0);
    return node_raft_id(id);
}

static uint64_t height(const struct member *m)
{
    cJSON *r = call(m, "eth_blockNumber", "[]");
    assert_non_null(r);
    uint64_t h = quantity(r);
    cJSON_Delete(r);
    return h;
}

/* The leader is cut off from the other two at the P2P layer (the loopback
 * version of integration.partition.netns): it stops committing, the majority
 * elects a leader and goes on, and after healing every node has the same
 * chain and nothing acknowledged or sent to the cut-off leader is lost. */
static void test_partitioned_leader_loses_nothing(void **state)
{
    struct cluster *c = *state;
    int old = wait_leader(c, -1);
    assert_true(old >= 0);
    uint8_t acked[8][32];
    size_t n_acked = 0;
    send_transfer(c, &c->m[old], acked[n_acked]);
    wait_receipt(&c->m[old], acked[n_acked++]);

    uint64_t ids[NODES];
    for (int i = 0; i < NODES; i++)
        ids[i] = member_raft_id(c, i);
    uint64_t others[NODES - 1];
    size_t k = 0;
    for (int i = 0; i < NODES; i++)
        if (i != old) {
            others[k++] = ids[i];
            assert_int_equal(node_block_peers(c->m[i].node, &ids[old], 1), 0);
        }
    assert_int_equal(node_block_peers(c->m[old].node, others, k), 0);

    int next = wait_leader(c, old);
    assert_true(next >= 0 && next != old);
    uint64_t cut_height = height(&c->m[old]);
    uint8_t during[32];
    send_transfer_from(c, 1, &c->m[old], during); /* taken, cannot commit yet */
    for (int j = 0; j < 3; j++) {
        send_transfer(c, &c->m[next], acked[n_acked]);
        wait_receipt(&c->m[next], acked[n_acked++]);
    }
    assert_int_equal(height(&c->m[old]), cut_height);
    assert_true(height(&c->m[next]) > cut_height);

    for (int i = 0; i < NODES; i++)
        assert_int_equal(node_block_peers(c->m[i].node, NULL, 0), 0);
    uint64_t top = 0;
    for (int i = 0; i < NODES; i++) {
        uint64_t b = wait_receipt(&c->m[i], during);
        top = b > top ? b : top;
        for (size_t j = 0; j < n_acked; j++)
            wait_receipt(&c->m[i], acked[j]);
    }
    assert_same_chain(c, top);
}

/* ---- runtime membership ---------------------------------------------------- */

static void member_key(const struct cluster *c, int i, uint8_t key[32], uint8_t id[64])
{
    char path[400], err[256];
    snprintf(path, sizeof(path), "%s/conf/node.pem", c->m[i].dir);
    assert_int_equal(node_key_read_file(path, key, err, sizeof(err)), 0);
    assert_int_equal(ecdsa_pubkey(key, id), 0);
}

/* Sends fn(nodeID[, weight]) to the consensus system contract, signed with
 * member `signer`'s node key, through member `via`. */
static void send_membership_call(struct cluster *c, int signer, const struct member *via,
                                 const char *signature, const uint8_t node_id[64], uint8_t hash[32])
{
    uint8_t key[32], id[64], from[20];
    member_key(c, signer, key, id);
    eth_address_from_pubkey(id, from);
    char params[96] = "[\"0x";
    hex_encode(from, 20, params + 4);
    strcat(params, "\", \"pending\"]");
    cJSON *nonce = call(via, "eth_getTransactionCount", params);
    assert_non_null(nonce);

    bool weighted = strstr(signature, "uint256") != NULL;
    uint8_t data[4 + 32 * 8]; /* head, string length, 128 hex digits, and hex_encode's NUL */
    size_t len = 0;
    uint8_t sel[32];
    keccak256(signature, strlen(signature), sel);
    memcpy(data, sel, 4);
    len = 4;
    memset(data + 4, 0, sizeof(data) - 4);
    data[len + 31] = weighted ? 0x40 : 0x20; /* offset of the string */
    len += 32;
    if (weighted) {
        data[len + 31] = 1; /* weight */
        len += 32;
    }
    data[len + 31] = 128; /* string length: 128 hex digits */
    len += 32;
    hex_encode(node_id, 64, (char *)data + len);
    len += 128;

    struct tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = TX_DYNAMIC_FEE;
    tx.chain_id = 20200;
    tx.nonce = quantity(nonce);
    cJSON_Delete(nonce);
    tx.gas_limit = 300000;
    tx.has_to = true;
    memcpy(tx.to, SYSCONTRACT_CONSENSUS, 20);
    tx.data = bytes_view_of(data, len);
    assert_int_equal(tx_sign(&tx, key), 0);
    struct bytes raw;
    bytes_init(&raw);
    assert_int_equal(tx_encode(&tx, &raw), 0);
    struct tx dec;
    assert_int_equal(tx_decode(bytes_as_view(&raw), &dec, NULL), 0);
    tx_hash(&dec, hash);
    char *body = malloc(2 * raw.len + 16);
    assert_non_null(body);
    strcpy(body, "[\"0x");
    hex_encode(raw.ptr, raw.len, body + 4);
    strcat(body, "\"]");
    cJSON *r = call(via, "eth_sendRawTransaction", body);
    assert_non_null(r);
    cJSON_Delete(r);
    free(body);
    bytes_free(&raw);
}

/* The role the leader's Raft configuration gives node_id ("sealer",
 * "observer"), or "" if it is not a member. */
static void leader_role_of(const struct member *leader, const uint8_t node_id[64], char *role,
                           size_t cap)
{
    role[0] = '\0';
    char want[131] = "0x";
    hex_encode(node_id, 64, want + 2);
    cJSON *st = call(leader, "getConsensusStatus", "[]");
    if (!st)
        return;
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(st, "members"))
    {
        const cJSON *id = cJSON_GetObjectItem(m, "nodeID");
        if (cJSON_IsString(id) && strcmp(id->valuestring, want) == 0)
            snprintf(role, cap, "%s", cJSON_GetObjectItem(m, "role")->valuestring);
    }
    cJSON_Delete(st);
}

static void wait_role(const struct member *leader, const uint8_t node_id[64], const char *role)
{
    char got[16];
    uint64_t deadline = clock_monotonic_ms() + WAIT_MS;
    while (clock_monotonic_ms() < deadline) {
        leader_role_of(leader, node_id, got, sizeof(got));
        if (strcmp(got, role) == 0)
            return;
        clock_sleep_ms(20);
    }
    fail_msg("the leader's configuration never gave the node role \"%s\" (last \"%s\")", role, got);
}

/* A node not in the genesis joins live: added as an observer through the
 * consensus system contract, it catches up (block sync from genesis) and
 * follows; promoted to sealer it votes, so the chain keeps committing when
 * a genesis sealer stops; that sealer is then removed. */
static void test_node_added_live_syncs_votes_and_a_member_is_removed(void **state)
{
    struct cluster *c = *state;
    int leader = wait_leader(c, -1);
    assert_true(leader >= 0);
    uint8_t hash[32], key[32], joiner[64];
    for (int k = 0; k < 3; k++) {
        send_transfer(c, &c->m[leader], hash);
        wait_receipt(&c->m[leader], hash);
    }
    member_key(c, 3, key, joiner);
    start_member(c, 3);
    /* Not a member yet: it neither leads nor receives blocks. */
    clock_sleep_ms(3 * c->m[0].cfg.genesis.election_timeout_ms);
    cJSON *st = call(&c->m[3], "getConsensusStatus", "[]");
    assert_non_null(st);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(st, "isLeader")));
    cJSON_Delete(st);
    assert_int_equal(height(&c->m[3]), 0);

    send_membership_call(c, leader, &c->m[leader], "addObserver(string)", joiner, hash);
    wait_receipt(&c->m[leader], hash);
    wait_role(&c->m[leader], joiner, "observer");
    /* The new node gets every block, including the one that added it. */
    wait_receipt(&c->m[3], hash);

    send_membership_call(c, leader, &c->m[leader], "addSealer(string,uint256)", joiner, hash);
    wait_receipt(&c->m[leader], hash);
    wait_role(&c->m[leader], joiner, "sealer");

    /* Four voters: with one genesis sealer stopped, three remain, the
     * joiner among them, and the chain goes on. */
    int away = (leader + 1) % NODES;
    uint8_t away_key[32], away_id[64];
    member_key(c, away, away_key, away_id);
    stop_member(c, away);
    send_transfer(c, &c->m[leader], hash);
    wait_receipt(&c->m[3], hash);

    send_membership_call(c, leader, &c->m[leader], "remove(string)", away_id, hash);
    wait_receipt(&c->m[leader], hash);
    wait_role(&c->m[leader], away_id, "");
    send_transfer(c, &c->m[3], hash);
    uint64_t top = wait_receipt(&c->m[leader], hash);
    wait_receipt(&c->m[3], hash);
    assert_same_chain(c, top);
}

/* ---- a member that sends bad frames ---------------------------------------- */

/* The last member's identity, driven by the test on its own event base. */
struct impostor {
    struct event_base *base;
    struct p2p *p;
    int ups;
    int downs;
    int sync_answers;
    uint8_t id[64];
};

static int impostor_frame(void *ctx, const uint8_t node_id[P2P_NODE_ID_BYTES], uint8_t type,
                          const uint8_t *payload, size_t len)
{
    struct impostor *im = ctx;
    (void)node_id;
    uint8_t kind;
    if (type == P2P_TYPE_SYNC && sync_frame_kind(payload, len, &kind) == TC_OK &&
        kind == SYNC_KIND_BLOCKS)
        im->sync_answers++;
    return TC_OK;
}

static void impostor_peer(void *ctx, const uint8_t node_id[P2P_NODE_ID_BYTES], bool up)
{
    struct impostor *im = ctx;
    (void)node_id;
    if (up)
        im->ups++;
    else
        im->downs++;
}

static void impostor_start(struct cluster *c, struct impostor *im)
{
    const struct member *m = &c->m[NODES - 1];
    char path[400], err[512];
    memset(im, 0, sizeof(*im));
    snprintf(path, sizeof(path), "%s/conf/node.pem", m->dir);
    uint8_t key[32];
    assert_int_equal(node_key_read_file(path, key, err, sizeof(err)), 0);
    assert_int_equal(ecdsa_pubkey(key, im->id), 0);
    im->base = event_base_new();
    assert_non_null(im->base);
    struct p2p_options o;
    p2p_options_defaults(&o);
    memcpy(o.node_id, im->id, 64);
    snprintf(o.listen_host, sizeof(o.listen_host), "127.0.0.1");
    o.listen_port = 0;
    uint8_t allowed[NODES][64];
    struct p2p_endpoint peers[NODES - 1];
    for (int i = 0; i < NODES - 1; i++) {
        snprintf(path, sizeof(path), "%s/conf/node.pem", c->m[i].dir);
        assert_int_equal(node_key_read_file(path, key, err, sizeof(err)), 0);
        assert_int_equal(ecdsa_pubkey(key, allowed[i]), 0);
        snprintf(peers[i].host, sizeof(peers[i].host), "127.0.0.1");
        peers[i].port = (uint16_t)(P2P_BASE + i);
    }
    o.allowed = (const uint8_t(*)[64])allowed;
    o.allowed_count = NODES - 1;
    o.peers = peers;
    o.peer_count = NODES - 1;
    char ca[400], crt[400], k[400];
    snprintf(ca, sizeof(ca), "%s/conf/ca.crt", m->dir);
    snprintf(crt, sizeof(crt), "%s/conf/ssl.crt", m->dir);
    snprintf(k, sizeof(k), "%s/conf/ssl.key", m->dir);
    o.ca_cert_path = ca;
    o.cert_path = crt;
    o.key_path = k;
    o.reconnect_min_ms = 20;
    o.reconnect_max_ms = 100;
    o.rng_seed = 1;
    o.on_peer = impostor_peer;
    o.on_peer_ctx = im;
    if (p2p_new(im->base, &o, &im->p, err, sizeof(err)) != TC_OK)
        fail_msg("impostor: %s", err);
    assert_int_equal(p2p_register(im->p, P2P_TYPE_RAFT, RAFT_MSG_MAX_BYTES, impostor_frame, im), 0);
    assert_int_equal(p2p_register(im->p, P2P_TYPE_TX, 128u * 1024, impostor_frame, im), 0);
    assert_int_equal(
        p2p_register(im->p, P2P_TYPE_SYNC, SYNC_MAX_RESPONSE_BYTES, impostor_frame, im), 0);
}

static void impostor_stop(struct impostor *im)
{
    p2p_free(im->p);
    event_base_free(im->base);
}

/* Runs the impostor's loop until cond holds (bounded). */
static bool impostor_until(struct impostor *im, bool (*cond)(struct impostor *, const void *),
                           const void *arg)
{
    uint64_t deadline = clock_monotonic_ms() + WAIT_MS;
    while (clock_monotonic_ms() < deadline) {
        if (cond(im, arg))
            return true;
        struct timeval tv = { 0, 10000 };
        event_base_loopexit(im->base, &tv);
        event_base_dispatch(im->base);
    }
    return cond(im, arg);
}

static bool connected_to(struct impostor *im, const void *arg)
{
    return p2p_is_connected(im->p, arg);
}

static bool downs_at_least(struct impostor *im, const void *arg)
{
    return im->downs >= *(const int *)arg;
}

static bool answered(struct impostor *im, const void *arg)
{
    (void)arg;
    return im->sync_answers > 0;
}

/* Malformed Raft, sync and transaction frames from an authenticated member,
 * a Raft message claiming another sender, and a replayed message of an old
 * term: the bad frames cost the sender its connection, the stale one is
 * ignored, and the chain keeps committing throughout. */
static void test_bad_frames_from_a_member_never_stop_the_chain(void **state)
{
    struct cluster *c = *state;
    int leader = wait_leader(c, NODES - 1);
    assert_true(leader >= 0);
    uint8_t hash[32];
    send_transfer(c, &c->m[leader], hash);
    uint64_t before = wait_receipt(&c->m[leader], hash);

    struct impostor im;
    impostor_start(c, &im);
    uint8_t target[64];
    char path[400], err[256];
    uint8_t key[32];
    snprintf(path, sizeof(path), "%s/conf/node.pem", c->m[0].dir);
    assert_int_equal(node_key_read_file(path, key, err, sizeof(err)), 0);
    assert_int_equal(ecdsa_pubkey(key, target), 0);
    uint64_t self_id = node_raft_id(im.id);
    uint64_t target_id = node_raft_id(target);
    int drops = 0;

    /* Random bytes as a Raft message. */
    assert_true(impostor_until(&im, connected_to, target));
    uint8_t junk[300];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 151u + 7u);
    assert_int_equal(p2p_send(im.p, target, P2P_TYPE_RAFT, junk, sizeof(junk)), 0);
    drops++;
    assert_true(impostor_until(&im, downs_at_least, &drops));

    /* A well-formed message that claims to come from another member. */
    assert_true(impostor_until(&im, connected_to, target));
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_HEARTBEAT;
    m.from = target_id ^ 1;
    m.to = target_id;
    m.term = 1;
    struct bytes enc;
    bytes_init(&enc);
    assert_int_equal(raft_msg_encode(&m, &enc), 0);
    assert_int_equal(p2p_send(im.p, target, P2P_TYPE_RAFT, enc.ptr, enc.len), 0);
    drops++;
    assert_true(impostor_until(&im, downs_at_least, &drops));

    /* A truncated sync frame. */
    assert_true(impostor_until(&im, connected_to, target));
    uint8_t short_sync[3] = { SYNC_VERSION, SYNC_KIND_REQUEST, 0 };
    assert_int_equal(p2p_send(im.p, target, P2P_TYPE_SYNC, short_sync, sizeof(short_sync)), 0);
    drops++;
    assert_true(impostor_until(&im, downs_at_least, &drops));

    /* A replayed message of an old term (a vote request for term 1, an append
     * from a deposed leader): stale, ignored, not a reason to disconnect. */
    assert_true(impostor_until(&im, connected_to, target));
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_VOTE;
    m.from = self_id;
    m.to = target_id;
    m.term = 1;
    bytes_clear(&enc);
    assert_int_equal(raft_msg_encode(&m, &enc), 0);
    assert_int_equal(p2p_send(im.p, target, P2P_TYPE_RAFT, enc.ptr, enc.len), 0);
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_APPEND;
    m.from = self_id;
    m.to = target_id;
    m.term = 1;
    m.commit = 1000;
    bytes_clear(&enc);
    assert_int_equal(raft_msg_encode(&m, &enc), 0);
    assert_int_equal(p2p_send(im.p, target, P2P_TYPE_RAFT, enc.ptr, enc.len), 0);
    /* A transaction frame that is not a transaction: refused by the pool,
     * not the peer's fault. */
    assert_int_equal(p2p_send(im.p, target, P2P_TYPE_TX, junk, 40), 0);
    /* A valid sync request is still answered on the same connection. */
    struct sync_request req = { .from_number = 1, .max_blocks = 4 };
    bytes_clear(&enc);
    assert_int_equal(sync_request_encode(&req, &enc), 0);
    assert_int_equal(p2p_send(im.p, target, P2P_TYPE_SYNC, enc.ptr, enc.len), 0);
    assert_true(impostor_until(&im, answered, NULL));
    assert_int_equal(im.downs, drops);
    bytes_free(&enc);
    impostor_stop(&im);

    /* The chain goes on, on both running members. */
    send_transfer(c, &c->m[(leader + 1) % (NODES - 1)], hash);
    uint64_t after = 0;
    for (int i = 0; i < NODES - 1; i++)
        after = wait_receipt(&c->m[i], hash);
    assert_true(after > before);
    assert_same_chain(c, after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replicates_and_forwards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_leader_after_stop_and_restart_catches_up, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_follower_far_behind_catches_up_by_block_sync, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_partitioned_leader_loses_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_added_live_syncs_votes_and_a_member_is_removed,
                                        setup_joiner, teardown),
        cmocka_unit_test_setup_teardown(test_bad_frames_from_a_member_never_stop_the_chain,
                                        setup_two, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
