/*
 * test_config_errors.c - integration.node.config_errors: teechaind refuses a
 * bad config.ini or config.genesis with a non-zero exit and one line naming
 * the file, the section, the key and the reason; it refuses a data directory
 * made with another genesis, naming both hashes, and leaves that directory
 * as it was.
 *
 * Every case edits the files of one freshly built chain and restores them
 * afterwards. Nothing here is random.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "base/error.h"
#include "harness.h"

#define REFUSE_TIMEOUT_MS 15000
#define OUTPUT_BYTES      16384

static struct itest_chain *chain;
static char ini_path[PATH_MAX + 16], genesis_path[PATH_MAX + 16];
static char *ini_text, *genesis_text; /* as build-chain wrote them */

static int setup_chain(void **state)
{
    chain = itest_chain_new("config", ITEST_PORT_CONFIG, 2);
    snprintf(ini_path, sizeof(ini_path), "%s/config.ini", chain->node_dir);
    snprintf(genesis_path, sizeof(genesis_path), "%s/config.genesis", chain->node_dir);
    ini_text = itest_read_file(ini_path);
    genesis_text = itest_read_file(genesis_path);
    return ini_text && genesis_text ? 0 : -1;
}

static int teardown_chain(void **state)
{
    itest_chain_free(chain);
    chain = NULL;
    free(ini_text);
    free(genesis_text);
    return 0;
}

/* Puts back the files build-chain wrote. */
static int restore_files(void **state)
{
    itest_write_file(ini_path, ini_text);
    itest_write_file(genesis_path, genesis_text);
    return 0;
}

/* text with the first occurrence of from replaced by to (malloc'ed). */
static char *replace(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    if (!at)
        fail_msg("\"%s\" is not in the file", from);
    size_t len = strlen(text) - strlen(from) + strlen(to) + 1;
    char *out = malloc(len);
    assert_non_null(out);
    snprintf(out, len, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out;
}

static void write_replaced(const char *path, const char *text, const char *from, const char *to)
{
    char *edited = replace(text, from, to);
    itest_write_file(path, edited);
    free(edited);
}

/* Runs teechaind in the node folder with these files; asserts that it exits
 * with a non-zero status; its output goes to out. */
static void run_refused(const char *ini, const char *genesis, char *out)
{
    char *argv[] = { (char *)itest_node_binary(), "-c", (char *)ini, "-g", (char *)genesis, NULL };
    int status = 0;
    int rc = itest_run(argv, chain->node_dir, REFUSE_TIMEOUT_MS, out, OUTPUT_BYTES, &status);
    if (rc == TC_ETIMEOUT)
        fail_msg("teechaind did not exit within %d ms (it should refuse to start):\n%s",
                 REFUSE_TIMEOUT_MS, out);
    assert_int_equal(rc, TC_OK);
    if (itest_has_sanitizer_report(out))
        fail_msg("teechaind's refusal came with a sanitizer report:\n%s", out);
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 0)
        fail_msg("teechaind exited with %s %d, expected a non-zero status:\n%s",
                 WIFEXITED(status) ? "status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), out);
}

/*
 * Asserts that one line of out holds `prefix` (file, section and key, e.g.
 * "config.ini: [rpc] listen_port: ") followed by a reason, and that the
 * reason contains `reason_part` (when not NULL).
 */
static void expect_line(const char *out, const char *prefix, const char *reason_part)
{
    const char *at = strstr(out, prefix);
    if (!at)
        fail_msg("no line names \"%s\"; the output was:\n%s", prefix, out);
    const char *reason = at + strlen(prefix);
    size_t reason_len = strcspn(reason, "\n");
    assert_true(reason_len > 0);
    if (reason_part) {
        char line[1024];
        snprintf(line, sizeof(line), "%.*s", (int)reason_len, reason);
        if (!strstr(line, reason_part))
            fail_msg("the reason \"%s\" does not say \"%s\"", line, reason_part);
    }
    const char *line_start = at;
    while (line_start > out && line_start[-1] != '\n')
        line_start--;
    printf("  refused: %.*s\n", (int)(reason + reason_len - line_start), line_start);
}

static void test_bad_port_is_refused_naming_file_section_key(void **state)
{
    char out[OUTPUT_BYTES], from[64];
    snprintf(from, sizeof(from), "listen_port = %u", chain->rpc_port);
    write_replaced(ini_path, ini_text, from, "listen_port = 80a");
    run_refused("config.ini", "config.genesis", out);
    expect_line(out, "config.ini: [rpc] listen_port: ", "80a");

    write_replaced(ini_path, ini_text, from, "listen_port = 70000");
    run_refused("config.ini", "config.genesis", out);
    expect_line(out, "config.ini: [rpc] listen_port: ", "70000");

    snprintf(from, sizeof(from), "listen_port = %u", chain->p2p_port);
    write_replaced(ini_path, ini_text, from, "listen_port = 0");
    run_refused("config.ini", "config.genesis", out);
    expect_line(out, "config.ini: [p2p] listen_port: ", NULL);
}

static void test_unknown_key_and_section_are_refused(void **state)
{
    char out[OUTPUT_BYTES];
    write_replaced(ini_path, ini_text, "[rpc]\n", "[rpc]\nlisten_prot = 21399\n");
    run_refused("config.ini", "config.genesis", out);
    expect_line(out, "config.ini: [rpc] listen_prot: ", NULL);

    write_replaced(ini_path, ini_text, "[rpc]\n", "[rpcx]\nlisten_port = 21399\n\n[rpc]\n");
    run_refused("config.ini", "config.genesis", out);
    expect_line(out, "config.ini: [rpcx] ", NULL);

    itest_write_file(ini_path, ini_text);
    write_replaced(genesis_path, genesis_text, "[tx]\n", "[tx]\nblock_gas = 5\n");
    run_refused("config.ini", "config.genesis", out);
    expect_line(out, "config.genesis: [tx] block_gas: ", NULL);
}

static void test_missing_file_is_refused_naming_it(void **state)
{
    char out[OUTPUT_BYTES];
    run_refused("no-such.ini", "config.genesis", out);
    expect_line(out, "no-such.ini: ", NULL);
    run_refused("config.ini", "no-such.genesis", out);
    expect_line(out, "no-such.genesis: ", NULL);
}

static void test_bad_alloc_is_refused_naming_the_entry(void **state)
{
    char out[OUTPUT_BYTES];
    const char *alloc = "[alloc]\n";
    /* A balance that is not a number. */
    write_replaced(genesis_path, genesis_text, alloc,
                   "[alloc]\n0x00000000000000000000000000000000000000aa = lots\n");
    run_refused("config.ini", "config.genesis", out);
    expect_line(out, "config.genesis: [alloc] 0x00000000000000000000000000000000000000aa: ", NULL);
    /* An address of 39 digits. */
    write_replaced(genesis_path, genesis_text, alloc,
                   "[alloc]\n0x0000000000000000000000000000000000000aa = 1\n");
    run_refused("config.ini", "config.genesis", out);
    expect_line(out, "config.genesis: [alloc] 0x0000000000000000000000000000000000000aa: ", NULL);
    /* A balance beyond 256 bits. */
    write_replaced(genesis_path, genesis_text, alloc,
                   "[alloc]\n0x00000000000000000000000000000000000000bb = "
                   "0x1000000000000000000000000000000000000000000000000000000000000000"
                   "0\n");
    run_refused("config.ini", "config.genesis", out);
    expect_line(out, "config.genesis: [alloc] 0x00000000000000000000000000000000000000bb: ", NULL);
}

/* How many distinct runs of exactly 64 hex digits (hashes) text holds. */
static size_t distinct_hashes(const char *text, char first[65], char second[65])
{
    size_t found = 0;
    for (const char *p = text; *p;) {
        if (!isxdigit((unsigned char)*p)) {
            p++;
            continue;
        }
        const char *start = p;
        while (isxdigit((unsigned char)*p))
            p++;
        if (p - start != 64)
            continue;
        if (found == 0) {
            memcpy(first, start, 64);
            first[64] = '\0';
            found = 1;
        } else if (found == 1 && strncasecmp(first, start, 64) != 0) {
            memcpy(second, start, 64);
            second[64] = '\0';
            found = 2;
        }
    }
    return found;
}

static void test_other_genesis_is_refused_naming_both_hashes(void **state)
{
    /* A data directory made with the chain's genesis. */
    itest_node_start_ready(chain);
    cJSON *block0 = itest_call(chain, "eth_getBlockByNumber", "[\"0x0\",false]");
    char hash0[67];
    snprintf(hash0, sizeof(hash0), "%s", itest_json_str(block0, "hash"));
    cJSON_Delete(block0);
    int status = 0;
    assert_int_equal(itest_node_stop(chain, ITEST_STOP_TIMEOUT_MS, &status), TC_OK);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* Another genesis: one more funded account. */
    write_replaced(genesis_path, genesis_text, "[alloc]\n",
                   "[alloc]\n0x00000000000000000000000000000000000000cc = 1\n");
    char out[OUTPUT_BYTES];
    run_refused("config.ini", "config.genesis", out);
    char first[65], second[65];
    if (distinct_hashes(out, first, second) < 2)
        fail_msg("the refusal does not name two hashes:\n%s", out);
    printf("  refused another genesis, naming %s and %s\n", first, second);

    /* Nothing was changed: the original genesis still opens the same chain. */
    itest_write_file(genesis_path, genesis_text);
    itest_node_start_ready(chain);
    block0 = itest_call(chain, "eth_getBlockByNumber", "[\"0x0\",false]");
    assert_string_equal(itest_json_str(block0, "hash"), hash0);
    cJSON_Delete(block0);
    assert_int_equal(itest_node_stop(chain, ITEST_STOP_TIMEOUT_MS, &status), TC_OK);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    itest_assert_clean_log(chain);
}

int main(int argc, char **argv)
{
    itest_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_bad_port_is_refused_naming_file_section_key, restore_files),
        cmocka_unit_test_teardown(test_unknown_key_and_section_are_refused, restore_files),
        cmocka_unit_test_teardown(test_missing_file_is_refused_naming_it, restore_files),
        cmocka_unit_test_teardown(test_bad_alloc_is_refused_naming_the_entry, restore_files),
        cmocka_unit_test_teardown(test_other_genesis_is_refused_naming_both_hashes, restore_files),
    };
    return cmocka_run_group_tests(tests, setup_chain, teardown_chain);
}
