/*
 * test_expand_scripts.c - after build-chain --expand, the host's
 * start_all.sh and stop_all.sh (replaced by the expansion) start and stop the
 * new node along with the old ones, run with /bin/sh against a stand-in for
 * teechaind (a shell script that records its arguments and exits on SIGTERM).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/error.h"
#include "cli/chain_builder.h"

#define NODES 3 /* two built, one added */

static char root[64];
static char chain[128];

static const char fake_daemon[] = "#!/bin/sh\n"
                                  "echo \"$*\" >args.txt\n"
                                  "trap 'exit 0' TERM\n"
                                  "while :; do sleep 1 & wait $!; done\n";

static long read_pid(int node)
{
    char path[256];
    long pid = -1;
    snprintf(path, sizeof(path), "%s/127.0.0.1/node%d/node.pid", chain, node);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = -1;
    fclose(f);
    return pid;
}

static int setup(void **state)
{
    (void)state;
    char bin[128], err[512];
    struct chain_spec spec;
    struct chain_expansion *added = malloc(sizeof(*added));
    int rc = -1;
    if (added == NULL)
        return -1;
    snprintf(root, sizeof(root), "/tmp/tc_expand_scripts_XXXXXX");
    if (mkdtemp(root) == NULL)
        goto out_free;
    snprintf(bin, sizeof(bin), "%s/fake-teechaind", root);
    FILE *f = fopen(bin, "w");
    if (f == NULL || fputs(fake_daemon, f) < 0 || fclose(f) != 0 || chmod(bin, 0755) != 0)
        goto out_free;
    snprintf(chain, sizeof(chain), "%s/nodes", root);
    chain_spec_defaults(&spec);
    spec.account_count = 1;
    snprintf(spec.out_dir, sizeof(spec.out_dir), "%s", chain);
    snprintf(spec.bin_path, sizeof(spec.bin_path), "%s", bin);
    if (chain_parse_hosts("127.0.0.1:2", &spec, err, sizeof(err)) != TC_OK ||
        chain_build(&spec, err, sizeof(err)) != TC_OK)
        goto out_free;
    if (chain_parse_hosts("127.0.0.1:1", &spec, err, sizeof(err)) != TC_OK ||
        chain_parse_peers("127.0.0.1:30300,127.0.0.1:30301", &spec, err, sizeof(err)) != TC_OK)
        goto out_free;
    snprintf(spec.genesis_path, sizeof(spec.genesis_path), "%s/127.0.0.1/node0/config.genesis",
             chain);
    if (chain_expand(&spec, added, err, sizeof(err)) != TC_OK || added->node_count != 1 ||
        added->nodes[0].index != 2) {
        print_error("chain_expand: %s\n", err);
        goto out_free;
    }
    rc = 0;
out_free:
    free(added);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    /* Whatever a failed test left running is stopped here. */
    for (int i = 0; i < NODES; i++) {
        long pid = read_pid(i);
        if (pid > 0)
            kill((pid_t)pid, SIGKILL);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static int run(const char *script)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "'%s/127.0.0.1/%s' >/dev/null 2>&1", chain, script);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static void test_expanded_host_scripts_start_and_stop_the_new_node_too(void **state)
{
    (void)state;
    char path[256];
    long pids[NODES];
    assert_int_equal(run("start_all.sh"), 0);
    for (int i = 0; i < NODES; i++) {
        pids[i] = read_pid(i);
        if (!alive(pids[i]))
            fail_msg("node%d did not start", i);
    }
    /* The new node runs in its own folder with its two config files. */
    snprintf(path, sizeof(path), "%s/127.0.0.1/node2/args.txt", chain);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char args[128] = "";
    assert_non_null(fgets(args, sizeof(args), f));
    fclose(f);
    assert_string_equal(args, "-c config.ini -g config.genesis\n");
    assert_int_equal(run("stop_all.sh"), 0);
    for (int i = 0; i < NODES; i++) {
        assert_int_equal(read_pid(i), -1);
        assert_false(alive(pids[i]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_expanded_host_scripts_start_and_stop_the_new_node_too,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
