/*
 * test_scripts.c - the start/stop scripts that build-chain writes, run with
 * /bin/sh against a stand-in for teechaind (a shell script that records its
 * arguments and exits on SIGTERM).
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

static char root[64];
static char chain[128];

static const char fake_daemon[] = "#!/bin/sh\n"
                                  "echo \"$*\" >args.txt\n"
                                  "trap 'exit 0' TERM\n"
                                  "while :; do sleep 1 & wait $!; done\n";

static long read_pid(const char *node)
{
    char path[256];
    long pid = -1;
    snprintf(path, sizeof(path), "%s/127.0.0.1/%s/node.pid", chain, node);
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
    snprintf(root, sizeof(root), "/tmp/tc_cli_scripts_XXXXXX");
    if (mkdtemp(root) == NULL)
        return -1;
    snprintf(bin, sizeof(bin), "%s/fake-teechaind", root);
    FILE *f = fopen(bin, "w");
    if (f == NULL || fputs(fake_daemon, f) < 0 || fclose(f) != 0 || chmod(bin, 0755) != 0)
        return -1;
    snprintf(chain, sizeof(chain), "%s/nodes", root);
    chain_spec_defaults(&spec);
    spec.account_count = 1;
    snprintf(spec.out_dir, sizeof(spec.out_dir), "%s", chain);
    snprintf(spec.bin_path, sizeof(spec.bin_path), "%s", bin);
    if (chain_parse_hosts("127.0.0.1:2", &spec, err, sizeof(err)) != TC_OK ||
        chain_build(&spec, err, sizeof(err)) != TC_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    /* Whatever a failed test left running is stopped here. */
    for (int i = 0; i < 2; i++) {
        char node[8];
        snprintf(node, sizeof(node), "node%d", i);
        long pid = read_pid(node);
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

static void test_start_all_runs_every_node_once_and_stop_all_ends_them(void **state)
{
    (void)state;
    char path[256];
    assert_int_equal(run("start_all.sh"), 0);
    long pid0 = read_pid("node0"), pid1 = read_pid("node1");
    assert_true(alive(pid0));
    assert_true(alive(pid1));
    assert_true(pid0 != pid1);
    /* The daemon runs in its node folder with the two config files. */
    snprintf(path, sizeof(path), "%s/127.0.0.1/node1/args.txt", chain);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char args[128] = "";
    assert_non_null(fgets(args, sizeof(args), f));
    fclose(f);
    assert_string_equal(args, "-c config.ini -g config.genesis\n");
    /* A second start is refused and leaves the running node alone. */
    assert_int_not_equal(run("node0/start.sh"), 0);
    assert_int_equal(read_pid("node0"), pid0);
    assert_int_equal(run("stop_all.sh"), 0);
    assert_int_equal(read_pid("node0"), -1);
    assert_int_equal(read_pid("node1"), -1);
    assert_false(alive(pid0));
    assert_false(alive(pid1));
    /* Stopping a stopped node is not an error. */
    assert_int_equal(run("node0/stop.sh"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_all_runs_every_node_once_and_stop_all_ends_them,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
