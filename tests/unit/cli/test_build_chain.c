/*
 * test_build_chain.c - `teechain build-chain`: the layout, file modes, ports,
 * configuration that node_config_load accepts, node IDs, certificates and
 * development accounts, for one node, four nodes and two hosts; and
 * build-chain --expand, which adds nodes to a chain built here.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/x509.h>

#include "base/bytes.h"
#include "base/error.h"
#include "cli/chain_builder.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "crypto/ecdsa.h"
#include "net/node_cert.h"
#include "node/config.h"

#define MAX_FILE (1u << 20)

static char root[64];
static int dir_counter;

static int make_root(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/tc_build_chain_XXXXXX");
    return mkdtemp(root) == NULL ? -1 : 0;
}

static int remove_root(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void fresh_dir(char *out, size_t len)
{
    snprintf(out, len, "%s/chain%d", root, dir_counter++);
}

/* Reads a whole (small) file into a new NUL-terminated buffer. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(MAX_FILE + 1);
    assert_non_null(buf);
    size_t n = fread(buf, 1, MAX_FILE, f);
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

static void expect_mode(const char *path, mode_t mode)
{
    struct stat st;
    if (stat(path, &st) != 0)
        fail_msg("missing %s", path);
    if ((st.st_mode & 0777) != mode)
        fail_msg("%s has mode %o, expected %o", path, (unsigned)(st.st_mode & 0777),
                 (unsigned)mode);
}

static void build(const char *dir, const char *hosts, uint32_t accounts, bool storage_security)
{
    struct chain_spec spec;
    char err[512] = "";
    chain_spec_defaults(&spec);
    assert_int_equal(chain_parse_hosts(hosts, &spec, err, sizeof(err)), TC_OK);
    spec.account_count = accounts;
    spec.storage_security = storage_security;
    snprintf(spec.out_dir, sizeof(spec.out_dir), "%s", dir);
    snprintf(spec.bin_path, sizeof(spec.bin_path), "/usr/local/bin/teechaind");
    if (chain_build(&spec, err, sizeof(err)) != TC_OK)
        fail_msg("chain_build: %s", err);
}

struct expect {
    const char *hosts[4];
    uint32_t counts[4];
    size_t host_count;
    uint32_t accounts;
    bool storage_security;
    uint16_t p2p_port;
    uint16_t rpc_port;
};

static size_t total_nodes(const struct expect *e)
{
    size_t n = 0;
    for (size_t h = 0; h < e->host_count; h++)
        n += e->counts[h];
    return n;
}

/* Checks the accounts folder against the genesis allocation. */
static void check_accounts(const char *dir, const struct genesis_config *g, uint32_t count)
{
    char path[512], err[256];
    snprintf(path, sizeof(path), "%s/accounts", dir);
    expect_mode(path, 0700);
    DIR *d = opendir(path);
    assert_non_null(d);
    uint32_t seen = 0;
    u256 balance;
    assert_int_equal(u256_from_dec(CHAIN_ACCOUNT_BALANCE_WEI, &balance), TC_OK);
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        char name[64], file[1024];
        uint8_t named[20], key[32], derived[20];
        size_t len = strlen(e->d_name);
        assert_true(len == 46 && strcmp(e->d_name + 42, ".key") == 0);
        memcpy(name, e->d_name, 42);
        name[42] = '\0';
        /* The file name is the EIP-55 form: parsing checks the checksum. */
        assert_int_equal(cli_parse_address(name, named), TC_OK);
        snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
        expect_mode(file, 0600);
        assert_int_equal(cli_read_key_file(file, key, err, sizeof(err)), TC_OK);
        assert_int_equal(ecdsa_address_from_seckey(key, derived), TC_OK);
        assert_memory_equal(derived, named, 20);
        bool funded = false;
        for (size_t i = 0; i < g->alloc_count; i++) {
            if (memcmp(g->alloc[i].address, derived, 20) == 0 &&
                u256_eq(g->alloc[i].balance, balance))
                funded = true;
        }
        assert_true(funded);
        seen++;
    }
    closedir(d);
    assert_int_equal(seen, count);
    assert_int_equal(g->alloc_count, count);
}

/* Node ID file, node.pem, certificate and binding of one node. */
static void check_node_identity(const char *node_dir, const char *ca_pem_path,
                                const uint8_t expected_id[64])
{
    char path[1024], err[256];
    uint8_t key[32], pub[64], bound[64];
    char id_hex[129];
    X509 *ca = NULL, *cert = NULL;
    snprintf(path, sizeof(path), "%s/conf/node.pem", node_dir);
    assert_int_equal(node_key_read_file(path, key, err, sizeof(err)), TC_OK);
    assert_int_equal(ecdsa_pubkey(key, pub), TC_OK);
    assert_memory_equal(pub, expected_id, 64);
    snprintf(path, sizeof(path), "%s/conf/node.nodeid", node_dir);
    char *text = slurp(path, NULL);
    hex_encode(expected_id, 64, id_hex);
    assert_int_equal(strlen(text), 129);
    assert_memory_equal(text, id_hex, 128);
    free(text);
    assert_int_equal(node_cert_read_file(ca_pem_path, &ca, err, sizeof(err)), TC_OK);
    snprintf(path, sizeof(path), "%s/conf/ssl.crt", node_dir);
    assert_int_equal(node_cert_read_file(path, &cert, err, sizeof(err)), TC_OK);
    if (node_cert_verify_chain(cert, ca, err, sizeof(err)) != TC_OK)
        fail_msg("%s: %s", path, err);
    assert_int_equal(node_cert_verify_binding(cert, bound, err, sizeof(err)), TC_OK);
    assert_memory_equal(bound, expected_id, 64);
    X509_free(cert);
    X509_free(ca);
}

static void check_node_files(const char *node_dir, bool storage_security)
{
    static const char *const private_files[] = { "conf/node.pem", "conf/ssl.key" };
    static const char *const public_files[] = { "conf/ca.crt", "conf/ssl.crt", "conf/node.nodeid",
                                                "config.ini", "config.genesis" };
    static const char *const scripts[] = { "start.sh", "stop.sh" };
    char path[1024];
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", node_dir, private_files[i]);
        expect_mode(path, 0600);
    }
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof(path), "%s/%s", node_dir, public_files[i]);
        expect_mode(path, 0644);
    }
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", node_dir, scripts[i]);
        expect_mode(path, 0755);
    }
    snprintf(path, sizeof(path), "%s/conf/storage.key", node_dir);
    if (storage_security)
        expect_mode(path, 0600);
    else
        assert_int_not_equal(access(path, F_OK), 0);
}

static bool has_peer(const struct local_config *l, const char *host, uint16_t port)
{
    for (size_t i = 0; i < l->peer_count; i++) {
        if (strcmp(l->peers[i].host, host) == 0 && l->peers[i].port == port)
            return true;
    }
    return false;
}

static void check_chain(const char *dir, const struct expect *e)
{
    char ca_path[512], path[512], ini[1024], gen[1024], err[512];
    size_t total = total_nodes(e), global = 0, first_len = 0;
    char *first_genesis = NULL;
    snprintf(ca_path, sizeof(ca_path), "%s/ca/ca.crt", dir);
    expect_mode(ca_path, 0644);
    snprintf(path, sizeof(path), "%s/ca/ca.key", dir);
    expect_mode(path, 0600);
    for (size_t h = 0; h < e->host_count; h++) {
        snprintf(path, sizeof(path), "%s/%s/start_all.sh", dir, e->hosts[h]);
        expect_mode(path, 0755);
        snprintf(path, sizeof(path), "%s/%s/stop_all.sh", dir, e->hosts[h]);
        expect_mode(path, 0755);
        for (uint32_t i = 0; i < e->counts[h]; i++, global++) {
            char node_dir[512];
            struct node_config cfg;
            snprintf(node_dir, sizeof(node_dir), "%s/%s/node%u", dir, e->hosts[h], i);
            check_node_files(node_dir, e->storage_security);
            snprintf(ini, sizeof(ini), "%s/config.ini", node_dir);
            snprintf(gen, sizeof(gen), "%s/config.genesis", node_dir);
            if (node_config_load(&cfg, ini, gen, err, sizeof(err)) != TC_OK)
                fail_msg("node_config_load: %s", err);
            /* Every genesis is the same bytes. */
            size_t len = 0;
            char *genesis = slurp(gen, &len);
            if (first_genesis == NULL) {
                first_genesis = genesis;
                first_len = len;
            } else {
                assert_int_equal(len, first_len);
                assert_memory_equal(genesis, first_genesis, len);
                free(genesis);
            }
            assert_int_equal(cfg.genesis.chain_id, 20200);
            assert_int_equal(cfg.genesis.consensus, CONSENSUS_RAFT);
            assert_int_equal(cfg.genesis.sealer_count, total);
            assert_true(cfg.genesis.timestamp_ms > 0);
            /* Ports count per host from the base ports. */
            assert_int_equal(cfg.local.p2p_listen.port, e->p2p_port + i);
            assert_int_equal(cfg.local.rpc_listen.port, e->rpc_port + i);
            assert_string_equal(cfg.local.p2p_listen.host, e->hosts[h]);
            assert_string_equal(cfg.local.rpc_listen.host, e->hosts[h]);
            assert_string_equal(cfg.local.data_path, "data");
            assert_string_equal(cfg.local.node_key_path, "conf/node.pem");
            assert_int_equal(cfg.local.storage_security, e->storage_security);
            /* Peers: every other node, none twice, not itself. */
            assert_int_equal(cfg.local.peer_count, total - 1);
            assert_false(has_peer(&cfg.local, e->hosts[h], (uint16_t)(e->p2p_port + i)));
            for (size_t h2 = 0; h2 < e->host_count; h2++) {
                for (uint32_t j = 0; j < e->counts[h2]; j++) {
                    if (h2 != h || j != i)
                        assert_true(
                            has_peer(&cfg.local, e->hosts[h2], (uint16_t)(e->p2p_port + j)));
                }
            }
            /* node.N of the genesis is this node, in host order. */
            check_node_identity(node_dir, ca_path, cfg.genesis.sealers[global].id);
            if (global == 0)
                check_accounts(dir, &cfg.genesis, e->accounts);
            node_config_free(&cfg);
        }
    }
    free(first_genesis);
}

static void test_one_node_chain_is_complete(void **state)
{
    (void)state;
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    build(dir, "127.0.0.1:1", 3, false);
    struct expect e = { .hosts = { "127.0.0.1" },
                        .counts = { 1 },
                        .host_count = 1,
                        .accounts = 3,
                        .p2p_port = 30300,
                        .rpc_port = 20200 };
    check_chain(dir, &e);
}

static void test_four_node_chain_is_complete(void **state)
{
    (void)state;
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    build(dir, "127.0.0.1:4", 10, true);
    struct expect e = { .hosts = { "127.0.0.1" },
                        .counts = { 4 },
                        .host_count = 1,
                        .accounts = 10,
                        .storage_security = true,
                        .p2p_port = 30300,
                        .rpc_port = 20200 };
    check_chain(dir, &e);
}

static void test_two_host_chain_counts_ports_per_host(void **state)
{
    (void)state;
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    build(dir, "127.0.0.1:2,127.0.0.2:2", 2, false);
    struct expect e = { .hosts = { "127.0.0.1", "127.0.0.2" },
                        .counts = { 2, 2 },
                        .host_count = 2,
                        .accounts = 2,
                        .p2p_port = 30300,
                        .rpc_port = 20200 };
    check_chain(dir, &e);
}

static void test_non_loopback_host_listens_on_all_interfaces(void **state)
{
    (void)state;
    char dir[128], ini[256], gen[256], err[512];
    struct node_config cfg;
    fresh_dir(dir, sizeof(dir));
    build(dir, "10.0.0.1:1,10.0.0.2:1", 1, false);
    snprintf(ini, sizeof(ini), "%s/10.0.0.2/node0/config.ini", dir);
    snprintf(gen, sizeof(gen), "%s/10.0.0.2/node0/config.genesis", dir);
    assert_int_equal(node_config_load(&cfg, ini, gen, err, sizeof(err)), TC_OK);
    assert_string_equal(cfg.local.rpc_listen.host, "0.0.0.0");
    assert_string_equal(cfg.local.p2p_listen.host, "0.0.0.0");
    assert_int_equal(cfg.local.peer_count, 1);
    assert_string_equal(cfg.local.peers[0].host, "10.0.0.1");
    node_config_free(&cfg);
}

static void test_refuses_non_empty_output_without_force(void **state)
{
    (void)state;
    char dir[128], marker[256], err[512];
    struct chain_spec spec;
    fresh_dir(dir, sizeof(dir));
    build(dir, "127.0.0.1:1", 1, false);
    chain_spec_defaults(&spec);
    assert_int_equal(chain_parse_hosts("127.0.0.1:2", &spec, err, sizeof(err)), TC_OK);
    snprintf(spec.out_dir, sizeof(spec.out_dir), "%s", dir);
    snprintf(spec.bin_path, sizeof(spec.bin_path), "/bin/teechaind");
    assert_int_equal(chain_build(&spec, err, sizeof(err)), TC_EEXIST);
    /* Unrelated files survive --force; the chain is replaced. */
    snprintf(marker, sizeof(marker), "%s/notes.txt", dir);
    FILE *f = fopen(marker, "w");
    assert_non_null(f);
    fclose(f);
    spec.force = true;
    if (chain_build(&spec, err, sizeof(err)) != TC_OK)
        fail_msg("forced build: %s", err);
    assert_int_equal(access(marker, F_OK), 0);
    struct expect e = { .hosts = { "127.0.0.1" },
                        .counts = { 2 },
                        .host_count = 1,
                        .accounts = CHAIN_DEFAULT_ACCOUNTS,
                        .p2p_port = 30300,
                        .rpc_port = 20200 };
    check_chain(dir, &e);
}

static void test_host_list_errors_are_reported(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "127.0.0.1",
        "127.0.0.1:0",
        "127.0.0.1:x",
        "localhost:2",
        "127.0.0.1:1,127.0.0.1:2",
        "127.0.0.1:33",
        "127.0.0.1:20,127.0.0.2:20",
    };
    struct chain_spec spec;
    char err[512];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        chain_spec_defaults(&spec);
        err[0] = '\0';
        assert_int_equal(chain_parse_hosts(bad[i], &spec, err, sizeof(err)), TC_EINVAL);
        assert_true(err[0] != '\0');
    }
    chain_spec_defaults(&spec);
    assert_int_equal(chain_parse_hosts("127.0.0.1:3,10.1.2.3:1", &spec, err, sizeof(err)), TC_OK);
    assert_int_equal(spec.host_count, 2);
    assert_int_equal(spec.hosts[0].node_count, 3);
    assert_string_equal(spec.hosts[1].ip, "10.1.2.3");
}

static void test_ports_beyond_65535_are_rejected(void **state)
{
    (void)state;
    char dir[128], err[512];
    struct chain_spec spec;
    fresh_dir(dir, sizeof(dir));
    chain_spec_defaults(&spec);
    assert_int_equal(chain_parse_hosts("127.0.0.1:4", &spec, err, sizeof(err)), TC_OK);
    assert_int_equal(chain_parse_ports("65534,20200", &spec, err, sizeof(err)), TC_OK);
    snprintf(spec.out_dir, sizeof(spec.out_dir), "%s", dir);
    snprintf(spec.bin_path, sizeof(spec.bin_path), "/bin/teechaind");
    assert_int_equal(chain_build(&spec, err, sizeof(err)), TC_EINVAL);
    assert_int_equal(chain_parse_ports("30300", &spec, err, sizeof(err)), TC_EINVAL);
    assert_int_equal(chain_parse_ports("0,1", &spec, err, sizeof(err)), TC_EINVAL);
}

static void test_command_line_options_reach_the_files(void **state)
{
    (void)state;
    char dir[128], ini[256], gen[256], script[256], err[512];
    struct node_config cfg;
    fresh_dir(dir, sizeof(dir));
    char *argv[] = { "teechain",   "build-chain", "-l",          "127.0.0.1:2",
                     "-o",         dir,           "--accounts",  "1",
                     "--chain-id", "777",         "--consensus", "pbft",
                     "-p",         "31000,21000", "--bin",       "/opt/tc/teechaind",
                     NULL };
    assert_int_equal(cli_main(16, argv), 0);
    snprintf(ini, sizeof(ini), "%s/127.0.0.1/node1/config.ini", dir);
    snprintf(gen, sizeof(gen), "%s/127.0.0.1/node1/config.genesis", dir);
    assert_int_equal(node_config_load(&cfg, ini, gen, err, sizeof(err)), TC_OK);
    assert_int_equal(cfg.genesis.chain_id, 777);
    assert_int_equal(cfg.genesis.consensus, CONSENSUS_PBFT);
    assert_int_equal(cfg.genesis.alloc_count, 1);
    assert_int_equal(cfg.local.p2p_listen.port, 31001);
    assert_int_equal(cfg.local.rpc_listen.port, 21001);
    node_config_free(&cfg);
    snprintf(script, sizeof(script), "%s/127.0.0.1/node1/start.sh", dir);
    char *text = slurp(script, NULL);
    assert_non_null(strstr(text, "bin='/opt/tc/teechaind'"));
    assert_non_null(strstr(text, "-c config.ini -g config.genesis"));
    free(text);
}

static void test_command_line_usage_errors(void **state)
{
    (void)state;
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    char *no_hosts[] = { "teechain", "build-chain", "-o", dir, NULL };
    assert_int_equal(cli_main(4, no_hosts), 2);
    char *bad_consensus[] = { "teechain", "build-chain", "-l",  "127.0.0.1:1", "-o",
                              dir,        "--consensus", "poa", NULL };
    assert_int_equal(cli_main(8, bad_consensus), 2);
    char *unknown[] = { "teechain", "frobnicate", NULL };
    assert_int_equal(cli_main(2, unknown), 2);
    char *help[] = { "teechain", "build-chain", "--help", NULL };
    assert_int_equal(cli_main(3, help), 0);
    assert_int_not_equal(access(dir, F_OK), 0);
}

/* ---- build-chain --expand ----------------------------------------------- */

/* A spec that adds `hosts` to the chain in dir, with its node0's genesis. */
static void expand_spec(struct chain_spec *spec, const char *dir, const char *hosts,
                        const char *peers)
{
    char err[512] = "";
    chain_spec_defaults(spec);
    assert_int_equal(chain_parse_hosts(hosts, spec, err, sizeof(err)), TC_OK);
    if (chain_parse_peers(peers, spec, err, sizeof(err)) != TC_OK)
        fail_msg("chain_parse_peers: %s", err);
    snprintf(spec->out_dir, sizeof(spec->out_dir), "%s", dir);
    snprintf(spec->bin_path, sizeof(spec->bin_path), "/usr/local/bin/teechaind");
    snprintf(spec->genesis_path, sizeof(spec->genesis_path), "%s/127.0.0.1/node0/config.genesis",
             dir);
}

static void expect_same_bytes(const char *a, const char *b)
{
    size_t len_a = 0, len_b = 0;
    char *text_a = slurp(a, &len_a);
    char *text_b = slurp(b, &len_b);
    if (len_a != len_b || memcmp(text_a, text_b, len_a) != 0)
        fail_msg("%s and %s differ", a, b);
    free(text_a);
    free(text_b);
}

static bool genesis_lists(const struct genesis_config *g, const uint8_t id[64])
{
    for (size_t i = 0; i < g->sealer_count; i++) {
        if (memcmp(g->sealers[i].id, id, 64) == 0)
            return true;
    }
    for (size_t i = 0; i < g->observer_count; i++) {
        if (memcmp(g->observers[i].id, id, 64) == 0)
            return true;
    }
    return false;
}

static void test_expand_writes_a_node_signed_by_the_existing_ca(void **state)
{
    (void)state;
    char dir[128], node_dir[256], ca_path[256], path[512], gen[512], err[512];
    struct chain_spec spec;
    struct chain_expansion *added = malloc(sizeof(*added));
    struct node_config cfg;
    assert_non_null(added);
    fresh_dir(dir, sizeof(dir));
    build(dir, "127.0.0.1:2", 1, false);
    expand_spec(&spec, dir, "127.0.0.1:1", "127.0.0.1:30300,127.0.0.1:30301");
    if (chain_expand(&spec, added, err, sizeof(err)) != TC_OK)
        fail_msg("chain_expand: %s", err);
    assert_int_equal(added->node_count, 1);
    assert_string_equal(added->nodes[0].ip, "127.0.0.1");
    assert_int_equal(added->nodes[0].index, 2);
    assert_int_equal(added->nodes[0].p2p_port, 30302);
    assert_int_equal(added->nodes[0].rpc_port, 20202);

    snprintf(node_dir, sizeof(node_dir), "%s/127.0.0.1/node2", dir);
    snprintf(ca_path, sizeof(ca_path), "%s/ca/ca.crt", dir);
    check_node_files(node_dir, false);
    /* Keys of its own, a certificate from the chain's CA bound to its ID. */
    check_node_identity(node_dir, ca_path, added->nodes[0].id);
    snprintf(path, sizeof(path), "%s/conf/ca.crt", node_dir);
    expect_same_bytes(path, ca_path);
    /* The genesis is the chain's, byte for byte, and does not list it. */
    snprintf(gen, sizeof(gen), "%s/config.genesis", node_dir);
    expect_same_bytes(gen, spec.genesis_path);
    snprintf(path, sizeof(path), "%s/config.ini", node_dir);
    if (node_config_load(&cfg, path, gen, err, sizeof(err)) != TC_OK)
        fail_msg("node_config_load: %s", err);
    assert_int_equal(cfg.genesis.sealer_count, 2);
    assert_false(genesis_lists(&cfg.genesis, added->nodes[0].id));
    assert_int_equal(cfg.local.p2p_listen.port, 30302);
    assert_int_equal(cfg.local.rpc_listen.port, 20202);
    assert_int_equal(cfg.local.peer_count, 2);
    assert_true(has_peer(&cfg.local, "127.0.0.1", 30300));
    assert_true(has_peer(&cfg.local, "127.0.0.1", 30301));
    node_config_free(&cfg);
    /* The host's scripts now run the new node too. */
    snprintf(path, sizeof(path), "%s/127.0.0.1/start_all.sh", dir);
    expect_mode(path, 0755);
    char *text = slurp(path, NULL);
    assert_non_null(strstr(text, "nodes=\"node0 node1 node2\""));
    assert_non_null(strstr(text, "/start.sh\""));
    free(text);
    snprintf(path, sizeof(path), "%s/127.0.0.1/stop_all.sh", dir);
    text = slurp(path, NULL);
    assert_non_null(strstr(text, "nodes=\"node0 node1 node2\""));
    assert_non_null(strstr(text, "/stop.sh\""));
    free(text);
    snprintf(path, sizeof(path), "%s/127.0.0.1/start_all.sh.new", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    free(added);
}

static void test_expand_numbering_continues_and_new_nodes_peer_each_other(void **state)
{
    (void)state;
    char dir[128], ini[512], gen[512], err[512];
    struct chain_spec spec;
    struct chain_expansion *added = malloc(sizeof(*added));
    struct node_config cfg;
    assert_non_null(added);
    fresh_dir(dir, sizeof(dir));
    build(dir, "127.0.0.1:2", 1, false);
    expand_spec(&spec, dir, "127.0.0.1:2,127.0.0.2:1", "127.0.0.1:30300");
    if (chain_expand(&spec, added, err, sizeof(err)) != TC_OK)
        fail_msg("chain_expand: %s", err);
    assert_int_equal(added->node_count, 3);
    assert_int_equal(added->nodes[0].index, 2);
    assert_int_equal(added->nodes[1].index, 3);
    /* A host new to the chain starts at node0. */
    assert_string_equal(added->nodes[2].ip, "127.0.0.2");
    assert_int_equal(added->nodes[2].index, 0);
    assert_int_equal(added->nodes[2].p2p_port, 30300);
    assert_memory_not_equal(added->nodes[0].id, added->nodes[1].id, 64);
    snprintf(ini, sizeof(ini), "%s/127.0.0.1/node3/config.ini", dir);
    snprintf(gen, sizeof(gen), "%s/127.0.0.1/node3/config.genesis", dir);
    if (node_config_load(&cfg, ini, gen, err, sizeof(err)) != TC_OK)
        fail_msg("node_config_load: %s", err);
    assert_int_equal(cfg.local.peer_count, 3);
    assert_true(has_peer(&cfg.local, "127.0.0.1", 30300));
    assert_true(has_peer(&cfg.local, "127.0.0.1", 30302));
    assert_true(has_peer(&cfg.local, "127.0.0.2", 30300));
    assert_false(has_peer(&cfg.local, "127.0.0.1", 30303));
    node_config_free(&cfg);
    char path[512];
    snprintf(path, sizeof(path), "%s/127.0.0.2/start_all.sh", dir);
    char *text = slurp(path, NULL);
    assert_non_null(strstr(text, "nodes=\"node0\""));
    free(text);

    /* A second expansion goes on after node3, past a gap in the numbers. */
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "mv '%s/127.0.0.1/node3' '%s/127.0.0.1/node7'", dir, dir);
    assert_int_equal(system(cmd), 0);
    expand_spec(&spec, dir, "127.0.0.1:1", "127.0.0.1:30300");
    if (chain_expand(&spec, added, err, sizeof(err)) != TC_OK)
        fail_msg("chain_expand: %s", err);
    assert_int_equal(added->node_count, 1);
    assert_int_equal(added->nodes[0].index, 8);
    assert_int_equal(added->nodes[0].p2p_port, 30308);
    snprintf(path, sizeof(path), "%s/127.0.0.1/start_all.sh", dir);
    text = slurp(path, NULL);
    assert_non_null(strstr(text, "nodes=\"node0 node1 node2 node7 node8\""));
    free(text);
    free(added);
}

/* Expects chain_expand to fail with rc and to leave the host folder as it was. */
static void expect_expand_refused(const struct chain_spec *spec, int rc, const char *host_dir)
{
    char err[512] = "", before[1024], path[1024];
    struct chain_expansion *added = malloc(sizeof(*added));
    assert_non_null(added);
    snprintf(path, sizeof(path), "%s/start_all.sh", host_dir);
    size_t len = 0;
    char *script = access(path, F_OK) == 0 ? slurp(path, &len) : NULL;
    assert_int_equal(chain_expand(spec, added, err, sizeof(err)), rc);
    assert_true(err[0] != '\0');
    print_message("refused as expected: %s\n", err);
    if (script != NULL) {
        size_t after_len = 0;
        char *after = slurp(path, &after_len);
        assert_int_equal(after_len, len);
        assert_memory_equal(after, script, len);
        free(after);
        free(script);
    }
    snprintf(before, sizeof(before), "%s/node2/conf", host_dir);
    assert_int_not_equal(access(before, F_OK), 0);
    free(added);
}

static void test_expand_refuses_a_folder_without_ca(void **state)
{
    (void)state;
    char dir[128], other[128], host_dir[256];
    struct chain_spec spec;
    fresh_dir(dir, sizeof(dir));
    build(dir, "127.0.0.1:2", 1, false);
    fresh_dir(other, sizeof(other));
    assert_int_equal(mkdir(other, 0755), 0);
    expand_spec(&spec, dir, "127.0.0.1:1", "127.0.0.1:30300");
    snprintf(spec.out_dir, sizeof(spec.out_dir), "%s", other);
    snprintf(host_dir, sizeof(host_dir), "%s/127.0.0.1", other);
    expect_expand_refused(&spec, TC_ENOTFOUND, host_dir);
    assert_int_not_equal(access(host_dir, F_OK), 0);
    /* A CA certificate without its key is no CA either. */
    char path[512];
    snprintf(path, sizeof(path), "%s/ca/ca.key", dir);
    assert_int_equal(unlink(path), 0);
    expand_spec(&spec, dir, "127.0.0.1:1", "127.0.0.1:30300");
    snprintf(host_dir, sizeof(host_dir), "%s/127.0.0.1", dir);
    expect_expand_refused(&spec, TC_ENOTFOUND, host_dir);
}

static void test_expand_refuses_a_genesis_that_does_not_load(void **state)
{
    (void)state;
    char dir[128], host_dir[256], bad[512];
    struct chain_spec spec;
    fresh_dir(dir, sizeof(dir));
    build(dir, "127.0.0.1:2", 1, false);
    snprintf(host_dir, sizeof(host_dir), "%s/127.0.0.1", dir);
    expand_spec(&spec, dir, "127.0.0.1:1", "127.0.0.1:30300");
    /* A config.ini is not a genesis. */
    snprintf(spec.genesis_path, sizeof(spec.genesis_path), "%s/node0/config.ini", host_dir);
    expect_expand_refused(&spec, TC_EINVAL, host_dir);
    /* Nor is a genesis with a broken sealer entry. */
    snprintf(bad, sizeof(bad), "%s/bad.genesis", dir);
    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fputs("[chain]\nchain_id = 20200\n[consensus]\nconsensus_type = raft\nnode.0 = 12zz\n", f);
    fclose(f);
    snprintf(spec.genesis_path, sizeof(spec.genesis_path), "%s", bad);
    expect_expand_refused(&spec, TC_EINVAL, host_dir);
    snprintf(spec.genesis_path, sizeof(spec.genesis_path), "%s/missing.genesis", dir);
    expect_expand_refused(&spec, TC_EIO, host_dir);
}

static void test_expand_refuses_an_existing_target_and_removes_its_work(void **state)
{
    (void)state;
    char dir[128], host_dir[256], path[512];
    struct chain_spec spec;
    fresh_dir(dir, sizeof(dir));
    build(dir, "127.0.0.1:2", 1, false);
    snprintf(host_dir, sizeof(host_dir), "%s/127.0.0.1", dir);
    /* node2 exists (as a file, so it is not counted as a node folder). */
    snprintf(path, sizeof(path), "%s/node2", host_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("keep", f);
    fclose(f);
    expand_spec(&spec, dir, "127.0.0.1:1", "127.0.0.1:30300");
    expect_expand_refused(&spec, TC_EEXIST, host_dir);
    char *text = slurp(path, NULL);
    assert_string_equal(text, "keep");
    free(text);
    assert_int_equal(unlink(path), 0);
    /* A failure after some nodes were written removes them again: node3's
     * folder is in the way of the second new node. */
    expand_spec(&spec, dir, "127.0.0.1:2", "127.0.0.1:30300");
    snprintf(path, sizeof(path), "%s/node3", host_dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    expect_expand_refused(&spec, TC_EEXIST, host_dir);
    snprintf(path, sizeof(path), "%s/node2", host_dir);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/node3", host_dir);
    assert_int_equal(unlink(path), 0);
    /* A script that cannot be replaced leaves both scripts as they were,
     * and no new node behind. */
    snprintf(path, sizeof(path), "%s/stop_all.sh.new", host_dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    expand_spec(&spec, dir, "127.0.0.1:1", "127.0.0.1:30300");
    expect_expand_refused(&spec, TC_EEXIST, host_dir);
    snprintf(path, sizeof(path), "%s/start_all.sh.new", host_dir);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/node2", host_dir);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/stop_all.sh", host_dir);
    char *stop = slurp(path, NULL);
    assert_non_null(strstr(stop, "nodes=\"node0 node1\""));
    free(stop);
}

static void test_expand_rejects_bad_peers_and_ports(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "127.0.0.1",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "host name:1",
        "127.0.0.1:30300,",
        "[::1]30300",
        "a:b",
    };
    char dir[128], host_dir[256], err[512];
    struct chain_spec spec;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        chain_spec_defaults(&spec);
        err[0] = '\0';
        if (chain_parse_peers(bad[i], &spec, err, sizeof(err)) != TC_EINVAL)
            fail_msg("accepted --peers \"%s\"", bad[i]);
        assert_true(err[0] != '\0');
    }
    chain_spec_defaults(&spec);
    assert_int_equal(chain_parse_peers("node-a.example:30300,[::1]:30301", &spec, err, sizeof(err)),
                     TC_OK);
    assert_int_equal(spec.peer_count, 2);
    assert_string_equal(spec.peers[0].host, "node-a.example");
    assert_string_equal(spec.peers[1].host, "::1");
    assert_int_equal(spec.peers[1].port, 30301);

    fresh_dir(dir, sizeof(dir));
    build(dir, "127.0.0.1:2", 1, false);
    snprintf(host_dir, sizeof(host_dir), "%s/127.0.0.1", dir);
    /* The new node's own address is not a peer. */
    expand_spec(&spec, dir, "127.0.0.1:1", "127.0.0.1:30300,127.0.0.1:30302");
    expect_expand_refused(&spec, TC_EINVAL, host_dir);
    /* No peers at all: the node could reach nobody. */
    expand_spec(&spec, dir, "127.0.0.1:1", "127.0.0.1:30300");
    spec.peer_count = 0;
    expect_expand_refused(&spec, TC_EINVAL, host_dir);
    expand_spec(&spec, dir, "127.0.0.1:1", "127.0.0.1:30300");
    assert_int_equal(chain_parse_ports("65534,20200", &spec, err, sizeof(err)), TC_OK);
    expect_expand_refused(&spec, TC_EINVAL, host_dir);
}

static void test_expand_command_line(void **state)
{
    (void)state;
    char dir[128], gen[512], peers[] = "127.0.0.1:30300,127.0.0.1:30301";
    fresh_dir(dir, sizeof(dir));
    build(dir, "127.0.0.1:2", 1, false);
    snprintf(gen, sizeof(gen), "%s/127.0.0.1/node0/config.genesis", dir);
    char *no_genesis[] = { "teechain", "build-chain", "--expand", "-o",  dir,
                           "-l",       "127.0.0.1:1", "--peers",  peers, NULL };
    assert_int_equal(cli_main(9, no_genesis), 2);
    char *no_peers[] = { "teechain", "build-chain", "--expand",  "-o", dir,
                         "-l",       "127.0.0.1:1", "--genesis", gen,  NULL };
    assert_int_equal(cli_main(9, no_peers), 2);
    char *chain_option[] = { "teechain", "build-chain", "--expand",  "-o", dir,
                             "-l",       "127.0.0.1:1", "--genesis", gen,  "--peers",
                             peers,      "--chain-id",  "7",         NULL };
    assert_int_equal(cli_main(13, chain_option), 2);
    char *without_expand[] = { "teechain",    "build-chain", "-o",  dir, "-l",
                               "127.0.0.1:1", "--peers",     peers, NULL };
    assert_int_equal(cli_main(8, without_expand), 2);
    char path[512];
    snprintf(path, sizeof(path), "%s/127.0.0.1/node2", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    char *ok[] = { "teechain", "build-chain", "--expand",          "-o", dir,
                   "-l",       "127.0.0.1:1", "--genesis",         gen,  "--peers",
                   peers,      "--bin",       "/opt/tc/teechaind", NULL };
    assert_int_equal(cli_main(13, ok), 0);
    snprintf(path, sizeof(path), "%s/127.0.0.1/node2/start.sh", dir);
    char *text = slurp(path, NULL);
    assert_non_null(strstr(text, "bin='/opt/tc/teechaind'"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_node_chain_is_complete),
        cmocka_unit_test(test_four_node_chain_is_complete),
        cmocka_unit_test(test_two_host_chain_counts_ports_per_host),
        cmocka_unit_test(test_non_loopback_host_listens_on_all_interfaces),
        cmocka_unit_test(test_refuses_non_empty_output_without_force),
        cmocka_unit_test(test_host_list_errors_are_reported),
        cmocka_unit_test(test_ports_beyond_65535_are_rejected),
        cmocka_unit_test(test_command_line_options_reach_the_files),
        cmocka_unit_test(test_command_line_usage_errors),
        cmocka_unit_test(test_expand_writes_a_node_signed_by_the_existing_ca),
        cmocka_unit_test(test_expand_numbering_continues_and_new_nodes_peer_each_other),
        cmocka_unit_test(test_expand_refuses_a_folder_without_ca),
        cmocka_unit_test(test_expand_refuses_a_genesis_that_does_not_load),
        cmocka_unit_test(test_expand_refuses_an_existing_target_and_removes_its_work),
        cmocka_unit_test(test_expand_rejects_bad_peers_and_ports),
        cmocka_unit_test(test_expand_command_line),
    };
    return cmocka_run_group_tests(tests, make_root, remove_root);
}
