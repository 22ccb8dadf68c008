/*
 * test_bench_sweep.c - the pure parts of `teechain bench sweep` (configuration
 * and load parsing, run sizes, file names, the "sweep" member of the report)
 * and the data extraction of scripts/bench-charts.sh (run with --data-only on
 * reports written here, so that gnuplot is not needed).
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

#include "base/error.h"
#include "cli/bench.h"
#include "cli/bench_sweep.h"

static void test_chain_config_splits_name_and_options(void **state)
{
    (void)state;
    struct sweep_chain c;
    char err[256];
    assert_int_equal(
        bench_sweep_parse_chain("raft4:-l 127.0.0.1:4  --consensus raft", &c, err, sizeof(err)),
        TC_OK);
    assert_string_equal(c.name, "raft4");
    assert_string_equal(c.options, "-l 127.0.0.1:4  --consensus raft");
    assert_int_equal(c.word_count, 4);
    assert_string_equal(c.words[0], "-l");
    assert_string_equal(c.words[1], "127.0.0.1:4");
    assert_string_equal(c.words[2], "--consensus");
    assert_string_equal(c.words[3], "raft");
}

static void test_chain_config_rejects_bad_names_and_empty_options(void **state)
{
    (void)state;
    struct sweep_chain c;
    char err[256];
    assert_int_equal(bench_sweep_parse_chain("-l 127.0.0.1:1", &c, err, sizeof(err)), TC_EINVAL);
    assert_int_equal(bench_sweep_parse_chain(":-l 127.0.0.1:1", &c, err, sizeof(err)), TC_EINVAL);
    assert_int_equal(bench_sweep_parse_chain("raft 1:-l 127.0.0.1:1", &c, err, sizeof(err)),
                     TC_EINVAL);
    assert_int_equal(bench_sweep_parse_chain("a/b:-l 127.0.0.1:1", &c, err, sizeof(err)),
                     TC_EINVAL);
    assert_int_equal(bench_sweep_parse_chain("raft1:", &c, err, sizeof(err)), TC_EINVAL);
    assert_int_equal(bench_sweep_parse_chain("raft1:   ", &c, err, sizeof(err)), TC_EINVAL);
    char long_name[80];
    memset(long_name, 'n', 60);
    snprintf(long_name + 60, sizeof(long_name) - 60, ":-l x");
    assert_int_equal(bench_sweep_parse_chain(long_name, &c, err, sizeof(err)), TC_EINVAL);
    assert_int_equal(bench_sweep_parse_chain("ok.name_1-x:-l 127.0.0.1:1", &c, err, sizeof(err)),
                     TC_OK);
}

static void test_chain_config_rejects_options_the_sweep_sets(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "r:-l 127.0.0.1:1 -o out",      "r:-l 127.0.0.1:1 --output=out", "r:-l 127.0.0.1:1 -p 1,2",
        "r:-l 127.0.0.1:1 --ports 1,2", "r:-l 127.0.0.1:1 --accounts 5", "r:-l 127.0.0.1:1 -oout",
    };
    struct sweep_chain c;
    char err[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(bench_sweep_parse_chain(bad[i], &c, err, sizeof(err)), TC_EINVAL);
        assert_non_null(strstr(err, "set by the sweep"));
    }
}

static void test_loads_parse_in_order(void **state)
{
    (void)state;
    uint32_t loads[SWEEP_MAX_LOADS];
    size_t n = 0;
    assert_int_equal(bench_sweep_parse_loads("1000,500,20000", loads, SWEEP_MAX_LOADS, &n), TC_OK);
    assert_int_equal(n, 3);
    assert_int_equal(loads[0], 1000);
    assert_int_equal(loads[1], 500);
    assert_int_equal(loads[2], 20000);
    assert_int_equal(bench_sweep_parse_loads("7", loads, SWEEP_MAX_LOADS, &n), TC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(loads[0], 7);
}

static void test_loads_reject_empty_zero_junk_and_too_many(void **state)
{
    (void)state;
    uint32_t loads[SWEEP_MAX_LOADS];
    size_t n = 0;
    static const char *const bad[] = {
        "", ",", "1,,2", "1,", ",1", "0", "1,0", "x", "1.5", "-1", "1000001", "99999999999999999999"
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(bench_sweep_parse_loads(bad[i], loads, SWEEP_MAX_LOADS, &n), TC_EINVAL);
    assert_int_equal(bench_sweep_parse_loads("1,2,3", loads, 2, &n), TC_EINVAL);
    assert_int_equal(bench_sweep_parse_loads("1000000", loads, 1, &n), TC_OK);
}

static void test_txs_per_run_from_count_or_seconds(void **state)
{
    (void)state;
    assert_int_equal(bench_sweep_txs_for_load(600, 5, 10000), 600);
    assert_int_equal(bench_sweep_txs_for_load(0, 5, 2000), 10000);
    assert_int_equal(bench_sweep_txs_for_load(0, 3600, 1000000), BENCH_MAX_TXS);
    assert_int_equal(bench_sweep_txs_for_load(0, 0, 1000), 1);
}

static void test_file_name_names_config_workload_and_load(void **state)
{
    (void)state;
    char name[64];
    assert_int_equal(bench_sweep_file_name(name, sizeof(name), "raft4", BENCH_WORKLOAD_ERC20, 1500),
                     TC_OK);
    assert_string_equal(name, "raft4-erc20-1500.json");
    assert_int_equal(
        bench_sweep_file_name(name, sizeof(name), "raft1", BENCH_WORKLOAD_TRANSFER, 20000), TC_OK);
    assert_string_equal(name, "raft1-transfer-20000.json");
    assert_int_equal(bench_sweep_file_name(name, 10, "raft1", BENCH_WORKLOAD_TRANSFER, 20000),
                     TC_ETOOBIG);
}

static void test_annotate_adds_the_sweep_member(void **state)
{
    (void)state;
    struct sweep_chain c;
    char err[256];
    assert_int_equal(bench_sweep_parse_chain("raft4:-l 127.0.0.1:4", &c, err, sizeof(err)), TC_OK);
    struct sweep_run_info info = {
        .chain = &c,
        .offered_load_tps = 5000,
        .txs = 20000,
        .node_count = 4,
        .leader_index = 2,
        .spread = false,
        .sweep_command = "teechain bench sweep --config x",
    };
    cJSON *doc = cJSON_CreateObject();
    assert_int_equal(bench_sweep_annotate(doc, &info), TC_OK);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "sweep");
    assert_non_null(s);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(s, "config")->valuestring, "raft4");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(s, "build_chain_options")->valuestring,
                        "-l 127.0.0.1:4");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(s, "offered_load_tps")->valuedouble, 5000);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(s, "txs")->valuedouble, 20000);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(s, "nodes")->valuedouble, 4);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(s, "leader")->valuedouble, 2);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(s, "target")->valuestring, "leader");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(s, "command")->valuestring,
                        "teechain bench sweep --config x");
    cJSON_Delete(doc);
    info.spread = true;
    doc = cJSON_CreateObject();
    assert_int_equal(bench_sweep_annotate(doc, &info), TC_OK);
    s = cJSON_GetObjectItemCaseSensitive(doc, "sweep");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(s, "target")->valuestring, "all");
    cJSON_Delete(doc);
}

static int parse(struct sweep_config *cfg, char **argv)
{
    int argc = 0;
    while (argv[argc] != NULL)
        argc++;
    return bench_sweep_parse_options(argc, argv, cfg);
}

static void test_options_parse_a_full_sweep(void **state)
{
    (void)state;
    struct sweep_config *cfg = calloc(1, sizeof(*cfg));
    char *argv[] = { "sweep",
                     "--config",
                     "raft1:-l 127.0.0.1:1",
                     "--config",
                     "raft4:-l 127.0.0.1:4",
                     "--loads",
                     "100,200",
                     "--workload",
                     "erc20",
                     "--seconds",
                     "3",
                     "--out",
                     "/tmp/x",
                     "--ports",
                     "24000,25000",
                     "--spread",
                     NULL };
    assert_int_equal(parse(cfg, argv), 0);
    assert_int_equal(cfg->chain_count, 2);
    assert_string_equal(cfg->chains[1].name, "raft4");
    assert_int_equal(cfg->load_count, 2);
    assert_int_equal(cfg->loads_tps[1], 200);
    assert_int_equal(cfg->workload, BENCH_WORKLOAD_ERC20);
    assert_int_equal(cfg->seconds, 3);
    assert_int_equal(cfg->txs_per_load, 0);
    assert_string_equal(cfg->out_dir, "/tmp/x");
    assert_int_equal(cfg->p2p_port, 24000);
    assert_int_equal(cfg->rpc_port, 25000);
    assert_true(cfg->spread);
    assert_non_null(strstr(cfg->command_line, "'raft4:-l 127.0.0.1:4'"));
    free(cfg);
}

static void test_options_require_config_loads_and_out(void **state)
{
    (void)state;
    struct sweep_config *cfg = calloc(1, sizeof(*cfg));
    char *no_config[] = { "sweep", "--loads", "1", "--out", "/tmp/x", NULL };
    char *no_loads[] = { "sweep", "--config", "a:-l 127.0.0.1:1", "--out", "/tmp/x", NULL };
    char *no_out[] = { "sweep", "--config", "a:-l 127.0.0.1:1", "--loads", "1", NULL };
    char *twice[] = {
        "sweep", "--config", "a:-l 127.0.0.1:1", "--config", "a:-l 127.0.0.1:4", "--loads",
        "1",     "--out",    "/tmp/x",           NULL
    };
    char *bad_ports[] = { "sweep", "--config", "a:-l 127.0.0.1:1", "--loads", "1",
                          "--out", "/tmp/x",   "--ports",          "80,90",   NULL };
    assert_int_equal(parse(cfg, no_config), 2);
    assert_int_equal(parse(cfg, no_loads), 2);
    assert_int_equal(parse(cfg, no_out), 2);
    assert_int_equal(parse(cfg, twice), 2);
    assert_int_equal(parse(cfg, bad_ports), 2);
    free(cfg);
}

/* ---- scripts/bench-charts.sh --data-only ------------------------------------- */

static void write_report(const char *dir, const char *config, const char *workload,
                         uint32_t offered, double tps, double mean, double p99)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s-%s-%u.json", dir, config, workload, (unsigned)offered);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"commit\":\"abc\",\"config\":{\"workload\":\"%s\"},"
            "\"machine\":{\"nproc\":2,\"cpu_model\":\"Test CPU\",\"kernel\":\"Linux\"},"
            "\"result\":{\"committed_tps\":%g,\"sent\":10,\"committed\":10,\"timed_out\":false,"
            "\"latency_ms\":{\"p50\":1,\"p99\":%g,\"max\":%g,\"mean\":%g},\"node\":null},"
            "\"sweep\":{\"config\":\"%s\",\"build_chain_options\":\"-l 127.0.0.1:1\","
            "\"offered_load_tps\":%u,\"nodes\":1,\"target\":\"leader\",\"command\":\"c\"}}\n",
            workload, tps, p99, p99, mean, config, (unsigned)offered);
    fclose(f);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *buf = calloc(1, 4096);
    size_t n = fread(buf, 1, 4095, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_chart_data_is_one_sorted_file_per_series(void **state)
{
    (void)state;
    if (system("command -v jq >/dev/null 2>&1") != 0) {
        print_message("jq not installed (scripts/deps.sh): chart extraction not checked\n");
        skip();
    }
    char dir[] = "/tmp/tc_bench_charts_XXXXXX";
    assert_non_null(mkdtemp(dir));
    /* Written out of load order, two configurations, two workloads, one
     * file that is not a sweep report. */
    write_report(dir, "raft1", "transfer", 5000, 4990.5, 120.25, 180);
    write_report(dir, "raft1", "transfer", 1000, 1001, 40, 70.5);
    write_report(dir, "raft4", "transfer", 1000, 999, 150, 220);
    write_report(dir, "raft1", "erc20", 500, 501, 90, 130);
    char path[512], cmd[1024];
    snprintf(path, sizeof(path), "%s/other.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"tool\":\"teechain bench\"}\n", f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "%s/scripts/bench-charts.sh --data-only %s %s/img >/dev/null",
             TC_SOURCE_DIR, dir, dir);
    assert_int_equal(system(cmd), 0);

    snprintf(path, sizeof(path), "%s/chart-data/raft1-transfer.dat", dir);
    char *text = read_all(path);
    assert_non_null(text);
    assert_string_equal(text, "1000 1001 40 70.5\n5000 4990.5 120.25 180\n");
    free(text);
    snprintf(path, sizeof(path), "%s/chart-data/raft4-transfer.dat", dir);
    text = read_all(path);
    assert_non_null(text);
    assert_string_equal(text, "1000 999 150 220\n");
    free(text);
    snprintf(path, sizeof(path), "%s/chart-data/raft1-erc20.dat", dir);
    text = read_all(path);
    assert_non_null(text);
    assert_string_equal(text, "500 501 90 130\n");
    free(text);
    snprintf(path, sizeof(path), "%s/summary.md", dir);
    text = read_all(path);
    assert_non_null(text);
    assert_non_null(strstr(text, "2 cores, Test CPU"));
    assert_non_null(strstr(text, "### raft4, transfer"));
    assert_non_null(strstr(text, "| 5000 | 4991 | 10 / 10 | 1 / 180 / 180 | n/a | n/a |"));
    free(text);

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_chart_script_fails_without_sweep_reports(void **state)
{
    (void)state;
    if (system("command -v jq >/dev/null 2>&1") != 0)
        skip();
    char dir[] = "/tmp/tc_bench_charts_XXXXXX";
    char cmd[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof(cmd), "%s/scripts/bench-charts.sh --data-only %s %s 2>/dev/null",
             TC_SOURCE_DIR, dir, dir);
    assert_int_not_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "rmdir %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_config_splits_name_and_options),
        cmocka_unit_test(test_chain_config_rejects_bad_names_and_empty_options),
        cmocka_unit_test(test_chain_config_rejects_options_the_sweep_sets),
        cmocka_unit_test(test_loads_parse_in_order),
        cmocka_unit_test(test_loads_reject_empty_zero_junk_and_too_many),
        cmocka_unit_test(test_txs_per_run_from_count_or_seconds),
        cmocka_unit_test(test_file_name_names_config_workload_and_load),
        cmocka_unit_test(test_annotate_adds_the_sweep_member),
        cmocka_unit_test(test_options_parse_a_full_sweep),
        cmocka_unit_test(test_options_require_config_loads_and_out),
        cmocka_unit_test(test_chart_data_is_one_sorted_file_per_series),
        cmocka_unit_test(test_chart_script_fails_without_sweep_reports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
