/* test_config.c - config.ini / config.genesis loading and validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/error.h"
#include "node/config.h"

#define NODE_A                                                                                     \
    "0x"                                                                                           \
    "11111111111111111111111111111111111111111111111111111111111111112222222222222222222222222222" \
    "222222222222222222222222222222222222"
#define NODE_B                                                                                     \
    "33333333333333333333333333333333333333333333333333333333333333334444444444444444444444444444" \
    "444444444444444444444444444444444444"

static const char *good_genesis = "[chain]\n"
                                  "chain_id = 20200\n"
                                  "group_id = group0\n"
                                  "[consensus]\n"
                                  "consensus_type = raft\n"
                                  "block_tx_count_limit = 500\n"
                                  "node.0 = " NODE_A "\n"
                                  "node.1 = " NODE_B ":2\n"
                                  "[tx]\n"
                                  "gas_limit = 3000000000\n"
                                  "[alloc]\n"
                                  "0x00000000000000000000000000000000000000bb = 5\n"
                                  "0x00000000000000000000000000000000000000aa = 0x10\n";

static int parse(struct node_config *cfg, bool genesis, const char *text, char *err)
{
    return node_config_parse_text(cfg, genesis, genesis ? "config.genesis" : "config.ini", text,
                                  err, 512);
}

static void test_defaults_without_keys(void **state)
{
    struct node_config cfg;
    char err[512] = "";
    node_config_defaults(&cfg);
    assert_int_equal(parse(&cfg, false, "; nothing\n", err), TC_OK);
    assert_int_equal(cfg.local.rpc_listen.port, 20200);
    assert_int_equal(cfg.local.p2p_listen.port, 30300);
    assert_int_equal(cfg.local.rpc_max_batch, 1000);
    assert_int_equal(cfg.genesis.chain_id, 20200);
    node_config_free(&cfg);
}

static void test_good_genesis_parses_and_sorts_alloc(void **state)
{
    struct node_config cfg;
    char err[512] = "";
    node_config_defaults(&cfg);
    assert_int_equal(parse(&cfg, true, good_genesis, err), TC_OK);
    assert_int_equal(cfg.genesis.block_tx_count_limit, 500);
    assert_int_equal(cfg.genesis.sealer_count, 2);
    assert_int_equal(cfg.genesis.sealers[0].id[0], 0x11);
    assert_int_equal(cfg.genesis.sealers[0].id[63], 0x22);
    assert_int_equal(cfg.genesis.sealers[1].weight, 2);
    assert_int_equal(cfg.genesis.alloc_count, 2);
    assert_int_equal(cfg.genesis.alloc[0].address[19], 0xaa);
    assert_true(u256_eq(cfg.genesis.alloc[0].balance, u256_from_u64(16)));
    assert_true(u256_eq(cfg.genesis.alloc[1].balance, u256_from_u64(5)));
    node_config_free(&cfg);
}

static void test_ini_keys_are_read(void **state)
{
    struct node_config cfg;
    char err[512] = "";
    node_config_defaults(&cfg);
    const char *ini = "[p2p]\nlisten_ip = 127.0.0.1\nlisten_port = 30301\n"
                      "peers = 127.0.0.1:30300, [::1]:30302,node-3.example:30303\n"
                      "[rpc]\nlisten_port=20201\ncors = true\n"
                      "[storage]\ndata_path = /tmp/x\n"
                      "[log]\nlevel = debug\n"
                      "[consensus]\nfollower_verify = true\n";
    assert_int_equal(parse(&cfg, false, ini, err), TC_OK);
    assert_string_equal(cfg.local.p2p_listen.host, "127.0.0.1");
    assert_int_equal(cfg.local.p2p_listen.port, 30301);
    assert_int_equal(cfg.local.peer_count, 3);
    assert_string_equal(cfg.local.peers[1].host, "::1");
    assert_int_equal(cfg.local.peers[1].port, 30302);
    assert_string_equal(cfg.local.peers[2].host, "node-3.example");
    assert_int_equal(cfg.local.rpc_listen.port, 20201);
    assert_true(cfg.local.rpc_cors);
    assert_int_equal(cfg.local.log_level, LOG_DEBUG);
    assert_true(cfg.local.follower_verify);
    node_config_free(&cfg);
}

/* Each bad input must fail with a message that names file, section, key. */
static void expect_error(bool genesis, const char *text, const char *expected_prefix)
{
    struct node_config cfg;
    char err[512] = "";
    node_config_defaults(&cfg);
    int rc = parse(&cfg, genesis, text, err);
    node_config_free(&cfg);
    if (rc == TC_OK || strncmp(err, expected_prefix, strlen(expected_prefix)) != 0)
        fail_msg("input %s: rc %d, error \"%s\", wanted prefix \"%s\"", text, rc, err,
                 expected_prefix);
}

static void test_bad_values_name_file_section_key(void **state)
{
    expect_error(false, "[rpc]\nlisten_port = 80a\n", "config.ini: [rpc] listen_port: expected");
    expect_error(false, "[rpc]\nlisten_port = 0\n", "config.ini: [rpc] listen_port:");
    expect_error(false, "[rpc]\nlisten_port = 65536\n", "config.ini: [rpc] listen_port:");
    expect_error(false, "[rpc]\nlisten_port = 020\n", "config.ini: [rpc] listen_port:");
    expect_error(false, "[rpc]\nlisten_port = -1\n", "config.ini: [rpc] listen_port:");
    expect_error(false, "[rpc]\nlisten_ip = localhost\n", "config.ini: [rpc] listen_ip:");
    expect_error(false, "[rpc]\ncors = yes\n", "config.ini: [rpc] cors: expected true or false");
    expect_error(false, "[rpc]\nlisten_prot = 1\n", "config.ini: [rpc] listen_prot: unknown key");
    expect_error(false, "[rcp]\nlisten_port = 1\n", "config.ini: [rcp] listen_port: unknown key");
    expect_error(false, "[log]\nlevel = loud\n", "config.ini: [log] level:");
    expect_error(false, "[tee]\nplatform = tdx\n", "config.ini: [tee] platform:");
    expect_error(false, "[p2p]\npeers = 127.0.0.1\n", "config.ini: [p2p] peers:");
    expect_error(false, "[p2p]\npeers = 127.0.0.1:99999\n", "config.ini: [p2p] peers:");
    expect_error(false, "[p2p]\npeers = a b:1\n", "config.ini: [p2p] peers:");
    expect_error(false, "[rpc]\nlisten_port = 1\nlisten_port = 2\n",
                 "config.ini: [rpc] listen_port: given more than once");
    expect_error(false, "port = 1\n", "config.ini: [] port: key outside any section");
    expect_error(false, "[storage_security]\nenable = true\n",
                 "config.ini: [storage_security] key_path: required");
    expect_error(false, "[txpool]\nlimit = 10\nper_sender_limit = 11\n",
                 "config.ini: [txpool] per_sender_limit:");
    /* genesis keys are not accepted in config.ini and vice versa */
    expect_error(false, "[chain]\nchain_id = 1\n", "config.ini: [chain] chain_id: unknown key");
    expect_error(true, "[rpc]\nlisten_port = 1\n", "config.genesis: [rpc] listen_port: unknown");
}

static void test_bad_genesis_values(void **state)
{
    expect_error(true, "[chain]\nchain_id = 0\n", "config.genesis: [chain] chain_id:");
    expect_error(true, "[consensus]\nconsensus_type = poa\n",
                 "config.genesis: [consensus] consensus_type:");
    expect_error(true, "[consensus]\nnode.0 = 1234\n", "config.genesis: [consensus] node.0:");
    expect_error(true, "[consensus]\nnode.0 = " NODE_B ":0\n",
                 "config.genesis: [consensus] node.0:");
    expect_error(true, "[chain]\nchain_id = 5\n",
                 "config.genesis: [consensus] node.0: at least one sealer");
    expect_error(true, "[consensus]\nnode.0 = " NODE_B "\nnode.1 = " NODE_B "\n",
                 "config.genesis: [consensus] node: node ID listed twice");
    expect_error(
        true, "[consensus]\nnode.0 = " NODE_B "\nheartbeat_ms = 600\nelection_timeout_ms = 1000\n",
        "config.genesis: [consensus] election_timeout_ms:");
    expect_error(true, "[consensus]\nnode.0 = " NODE_B "\n[alloc]\n0x1234 = 5\n",
                 "config.genesis: [alloc] 0x1234: expected an address");
    expect_error(true,
                 "[consensus]\nnode.0 = " NODE_B
                 "\n[alloc]\n0x00000000000000000000000000000000000000aa = -5\n",
                 "config.genesis: [alloc] 0x00000000000000000000000000000000000000aa:");
    expect_error(
        true,
        "[consensus]\nnode.0 = " NODE_B "\n[alloc]\n"
        "0x00000000000000000000000000000000000000aa = 1\n"
        "0x00000000000000000000000000000000000000AA = 2\n",
        "config.genesis: [alloc] 0x...: address 0x00000000000000000000000000000000000000aa "
        "allocated twice");
    expect_error(true,
                 "[consensus]\nnode.0 = " NODE_B "\n[tx]\ngas_price = "
                 "115792089237316195423570985008687907853269984665640564039457584007913129639936\n",
                 "config.genesis: [tx] gas_price:");
    expect_error(true, "[consensus]\nnode.0 = " NODE_B "\n[tee]\nallow_virtual = false\n",
                 "config.genesis: [tee] allow_virtual:");
}

static void test_long_line_and_garbage_lines(void **state)
{
    char *text = malloc(CONFIG_MAX_LINE_BYTES + 64);
    strcpy(text, "[storage]\ndata_path = ");
    size_t n = strlen(text);
    memset(text + n, 'a', CONFIG_MAX_LINE_BYTES);
    text[n + CONFIG_MAX_LINE_BYTES] = '\0';
    struct node_config cfg;
    char err[512] = "";
    node_config_defaults(&cfg);
    assert_int_equal(parse(&cfg, false, text, err), TC_ETOOBIG);
    assert_non_null(strstr(err, "config.ini: line 2: longer than"));
    free(text);
    expect_error(false, "[rpc\nlisten_port = 1\n", "config.ini: line 1:");
    expect_error(false, "[rpc]\njust words\n", "config.ini: line 2:");
}

static void test_load_names_missing_file(void **state)
{
    struct node_config cfg;
    char err[512] = "";
    assert_int_equal(
        node_config_load(&cfg, "/nonexistent/config.ini", "/nonexistent/g", err, sizeof(err)),
        TC_EIO);
    assert_non_null(strstr(err, "/nonexistent/config.ini: cannot open"));
}

static void test_load_both_files(void **state)
{
    char dir[] = "/tmp/tc-config-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char ini[256], gen[256];
    snprintf(ini, sizeof(ini), "%s/config.ini", dir);
    snprintf(gen, sizeof(gen), "%s/config.genesis", dir);
    FILE *f = fopen(ini, "w");
    fputs("[rpc]\nlisten_port = 20205\n", f);
    fclose(f);
    f = fopen(gen, "w");
    fputs(good_genesis, f);
    fclose(f);
    struct node_config cfg;
    char err[512] = "";
    assert_int_equal(node_config_load(&cfg, ini, gen, err, sizeof(err)), TC_OK);
    assert_int_equal(cfg.local.rpc_listen.port, 20205);
    assert_int_equal(cfg.genesis.alloc_count, 2);
    node_config_free(&cfg);
    f = fopen(gen, "w");
    fputs("[consensus]\nnode.0 = nope\n", f);
    fclose(f);
    assert_int_equal(node_config_load(&cfg, ini, gen, err, sizeof(err)), TC_EINVAL);
    assert_non_null(strstr(err, "config.genesis: [consensus] node.0:"));
    unlink(ini);
    unlink(gen);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_without_keys),
        cmocka_unit_test(test_good_genesis_parses_and_sorts_alloc),
        cmocka_unit_test(test_ini_keys_are_read),
        cmocka_unit_test(test_bad_values_name_file_section_key),
        cmocka_unit_test(test_bad_genesis_values),
        cmocka_unit_test(test_long_line_and_garbage_lines),
        cmocka_unit_test(test_load_names_missing_file),
        cmocka_unit_test(test_load_both_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
