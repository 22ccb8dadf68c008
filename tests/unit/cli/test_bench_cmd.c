/*
 * test_bench_cmd.c - `teechain bench` options (defaults, every option,
 * usage errors) and the completeness of its JSON report (every key present,
 * with its type), and the command's entry in the CLI table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "cli/bench.h"
#include "cli/commands.h"

/* Parses a NULL-terminated list of arguments after "bench". */
static int parse(struct bench_config *cfg, const char *const *args)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)"bench";
    for (size_t i = 0; args[i] != NULL; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    return bench_parse_options(argc, argv, cfg);
}

static void test_defaults_without_options(void **state)
{
    (void)state;
    struct bench_config cfg;
    const char *args[] = { NULL };
    assert_int_equal(parse(&cfg, args), 0);
    assert_int_equal(cfg.rpc_url_count, 1);
    assert_string_equal(cfg.rpc_urls[0], "http://127.0.0.1:20200");
    assert_string_equal(cfg.accounts_dir, "nodes/accounts");
    assert_int_equal(cfg.senders, 0);
    assert_int_equal(cfg.txs, 10000);
    assert_int_equal(cfg.rate_tps, 0);
    assert_int_equal(cfg.outstanding, 0);
    assert_int_equal(cfg.connections, 16);
    assert_int_equal(cfg.batch, 50);
    assert_int_equal(cfg.warmup_ms, 1000);
    assert_int_equal(cfg.timeout_ms, 60000);
    assert_int_equal(cfg.poll_ms, 10);
    assert_int_equal(cfg.pid, 0);
    assert_string_equal(cfg.json_path, "");
    assert_int_equal(cfg.workload, BENCH_WORKLOAD_TRANSFER);
    assert_false(cfg.has_seed);
    assert_string_equal(cfg.command_line, "teechain bench");
}

static void test_every_option_is_parsed(void **state)
{
    (void)state;
    struct bench_config cfg;
    const char *args[] = { "--rpc",
                           "http://127.0.0.1:21200,http://127.0.0.2:21201/rpc",
                           "--accounts",
                           "/tmp/acc",
                           "--senders",
                           "7",
                           "--txs",
                           "2000",
                           "--rate",
                           "500",
                           "--connections",
                           "8",
                           "--batch",
                           "25",
                           "--warmup",
                           "2.5",
                           "--timeout",
                           "30",
                           "--poll-ms",
                           "20",
                           "--sign-threads",
                           "3",
                           "--pid",
                           "4242",
                           "--json",
                           "out file.json",
                           "--workload",
                           "erc20",
                           "--seed",
                           "18446744073709551615",
                           NULL };
    assert_int_equal(parse(&cfg, args), 0);
    assert_int_equal(cfg.rpc_url_count, 2);
    assert_string_equal(cfg.rpc_urls[0], "http://127.0.0.1:21200");
    assert_string_equal(cfg.rpc_urls[1], "http://127.0.0.2:21201/rpc");
    assert_string_equal(cfg.accounts_dir, "/tmp/acc");
    assert_int_equal(cfg.senders, 7);
    assert_int_equal(cfg.txs, 2000);
    assert_int_equal(cfg.rate_tps, 500);
    assert_int_equal(cfg.connections, 8);
    assert_int_equal(cfg.batch, 25);
    assert_int_equal(cfg.warmup_ms, 2500);
    assert_int_equal(cfg.timeout_ms, 30000);
    assert_int_equal(cfg.poll_ms, 20);
    assert_int_equal(cfg.sign_threads, 3);
    assert_int_equal(cfg.pid, 4242);
    assert_string_equal(cfg.json_path, "out file.json");
    assert_int_equal(cfg.workload, BENCH_WORKLOAD_ERC20);
    assert_true(cfg.has_seed);
    assert_true(cfg.seed == UINT64_MAX);
    assert_non_null(strstr(cfg.command_line, "teechain bench --rpc http://127.0.0.1:21200,"));
    assert_non_null(strstr(cfg.command_line, "--json 'out file.json'"));
}

static void test_workload_names_parse_and_print_back(void **state)
{
    (void)state;
    static const char *const names[] = { "transfer", "erc20", "kv" };
    static const enum bench_workload kinds[] = { BENCH_WORKLOAD_TRANSFER, BENCH_WORKLOAD_ERC20,
                                                 BENCH_WORKLOAD_KV };
    for (size_t i = 0; i < 3; i++) {
        struct bench_config cfg;
        const char *args[] = { "--workload", names[i], NULL };
        assert_int_equal(parse(&cfg, args), 0);
        assert_int_equal(cfg.workload, kinds[i]);
        assert_string_equal(bench_workload_name(cfg.workload), names[i]);
    }
}

static void test_closed_loop_caps_batch_at_outstanding(void **state)
{
    (void)state;
    struct bench_config cfg;
    const char *args[] = { "--outstanding", "20", "--batch", "50", NULL };
    assert_int_equal(parse(&cfg, args), 0);
    assert_int_equal(cfg.outstanding, 20);
    assert_int_equal(cfg.batch, 20);
    const char *big[] = { "--outstanding", "1000", NULL };
    assert_int_equal(parse(&cfg, big), 0);
    assert_int_equal(cfg.batch, 50);
}

static void test_help_returns_one_and_prints_usage(void **state)
{
    (void)state;
    struct bench_config cfg;
    const char *args[] = { "--help", NULL };
    assert_int_equal(parse(&cfg, args), 1);
}

static void test_usage_errors_return_two(void **state)
{
    (void)state;
    static const char *const cases[][5] = {
        { "--txs", "0", NULL },
        { "--txs", "10000001", NULL },
        { "--txs", "many", NULL },
        { "--senders", "0", NULL },
        { "--batch", "1001", NULL },
        { "--batch", "0", NULL },
        { "--connections", "0", NULL },
        { "--connections", "257", NULL },
        { "--rate", "-5", NULL },
        { "--rate", "10", "--outstanding", "5", NULL },
        { "--outstanding", "0", NULL },
        { "--warmup", "1.2345", NULL },
        { "--warmup", "-1", NULL },
        { "--warmup", "3601", NULL },
        { "--timeout", "1.", NULL },
        { "--poll-ms", "0", NULL },
        { "--pid", "0", NULL },
        { "--json", "", NULL },
        { "--rpc", "ftp://127.0.0.1:1", NULL },
        { "--rpc", ",", NULL },
        { "--rpc", "http://127.0.0.1:1,notaurl", NULL },
        { "--no-such-option", NULL },
        { "--txs", NULL },
        { "extra-argument", NULL },
        { "--workload", "erc721", NULL },
        { "--workload", "", NULL },
        { "--workload", NULL },
        { "--seed", "-1", NULL },
        { "--seed", "18446744073709551616", NULL },
        { "--seed", "x", NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bench_config cfg;
        if (parse(&cfg, cases[i]) != 2)
            fail_msg("case %zu (%s %s) was accepted", i, cases[i][0],
                     cases[i][1] != NULL ? cases[i][1] : "");
    }
}

static void fill_result(struct bench_result *res, bool with_usage)
{
    memset(res, 0, sizeof(*res));
    res->chain_id = 20200;
    res->senders = 10;
    res->start_block = 3;
    res->end_block = 20;
    res->blocks_seen = 17;
    res->seed = 99;
    res->gas_limit = 21000;
    res->sample_size = 20;
    res->sample_status0 = 1;
    res->sent = 2000;
    res->accepted = 1990;
    res->rejected = 10;
    res->committed = 1990;
    res->first_send_us = 1000000;
    res->window.start_us = 2000000;
    res->window.end_us = 5000000;
    res->window.committed = 1500;
    res->window.tps = 500;
    res->latency.count = 1990;
    res->latency.p50_us = 40000;
    res->latency.hist[0] = 1000;
    res->latency.hist[1] = 990;
    res->error_kinds = 1;
    snprintf(res->errors[0].message, sizeof(res->errors[0].message), "nonce too low");
    res->errors[0].count = 10;
    res->ticks_per_s = 100;
    if (with_usage) {
        res->has_usage = true;
        bench_usage_add(&res->usage, 0, 0, 2048, 100);
        bench_usage_add(&res->usage, 1000000, 80, 4096, 100);
    }
}

static const cJSON *member(const cJSON *o, const char *name)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
    if (m == NULL)
        fail_msg("key %s missing", name);
    return m;
}

static void expect_numbers(const cJSON *o, const char *const *names)
{
    for (size_t i = 0; names[i] != NULL; i++) {
        if (!cJSON_IsNumber(member(o, names[i])))
            fail_msg("key %s is not a number", names[i]);
    }
}

static void test_json_report_has_every_key_with_its_type(void **state)
{
    (void)state;
    struct bench_config cfg;
    const char *args[] = { "--txs", "2000", "--rate", "500", "--pid", "4242", NULL };
    assert_int_equal(parse(&cfg, args), 0);
    struct bench_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    fill_result(res, true);
    struct bench_machine m;
    bench_machine_probe(&m);
    assert_true(m.nproc >= 1);
    cJSON *doc = bench_report_json(&cfg, res, &m);
    assert_non_null(doc);

    assert_string_equal(member(doc, "tool")->valuestring, "teechain bench");
    assert_true(cJSON_IsNumber(member(doc, "schema")));
    assert_true(cJSON_IsString(member(doc, "commit")));
    assert_string_equal(member(doc, "command")->valuestring, cfg.command_line);

    const cJSON *c = member(doc, "config");
    assert_true(cJSON_IsArray(member(c, "rpc")));
    assert_int_equal(cJSON_GetArraySize(member(c, "rpc")), 1);
    assert_true(cJSON_IsString(member(c, "accounts")));
    assert_string_equal(member(c, "mode")->valuestring, "open");
    assert_true(cJSON_IsString(member(c, "json")));
    assert_string_equal(member(c, "tx_type")->valuestring, "eip1559");
    assert_string_equal(member(c, "workload")->valuestring, "transfer");
    assert_true(member(c, "seed")->valuedouble == 99.0);
    assert_true(member(c, "gas_limit")->valuedouble == 21000.0);
    static const char *const config_numbers[] = {
        "senders", "txs",       "rate_tps",  "outstanding", "connections",
        "batch",   "warmup_s",  "timeout_s", "poll_ms",     "sign_threads",
        "pid",     "value_wei", "gas_limit", NULL,
    };
    expect_numbers(c, config_numbers);
    assert_int_equal(member(c, "rate_tps")->valueint, 500);

    const cJSON *mach = member(doc, "machine");
    assert_true(cJSON_IsNumber(member(mach, "nproc")));
    assert_true(cJSON_IsString(member(mach, "cpu_model")));
    assert_true(cJSON_IsString(member(mach, "kernel")));

    static const char *const chain_numbers[] = { "chain_id", "start_block", "end_block",
                                                 "blocks_with_txs", NULL };
    expect_numbers(member(doc, "chain"), chain_numbers);

    const cJSON *r = member(doc, "result");
    static const char *const result_numbers[] = {
        "senders",     "sign_s",        "sent",        "accepted",        "rejected",
        "committed",   "uncommitted",   "poll_errors", "send_duration_s", "duration_s",
        "offered_tps", "committed_tps", "overall_tps", "max_send_lag_ms", NULL,
    };
    expect_numbers(r, result_numbers);
    assert_true(cJSON_IsBool(member(r, "timed_out")));
    assert_int_equal(member(r, "uncommitted")->valueint, 0);
    assert_int_equal(member(r, "committed_tps")->valueint, 500);

    const cJSON *w = member(r, "steady_window");
    static const char *const window_numbers[] = { "start_s",   "end_s",         "length_s",
                                                  "committed", "committed_tps", NULL };
    expect_numbers(w, window_numbers);
    assert_true(cJSON_IsBool(member(w, "empty")));
    assert_true(member(w, "start_s")->valuedouble == 1.0);
    assert_true(member(w, "length_s")->valuedouble == 3.0);

    static const char *const latency_numbers[] = { "count", "min", "p50",  "p90",
                                                   "p99",   "max", "mean", NULL };
    expect_numbers(member(r, "latency_ms"), latency_numbers);
    assert_true(member(member(r, "latency_ms"), "p50")->valuedouble == 40.0);

    const cJSON *h = member(r, "histogram_ms");
    assert_true(cJSON_IsArray(h));
    assert_int_equal(cJSON_GetArraySize(h), BENCH_HIST_BUCKETS);
    static const char *const labels[] = {
        "<50", "<100", "<200", "<400", "<1000", "<2000", ">=2000"
    };
    double sum = 0;
    for (int i = 0; i < BENCH_HIST_BUCKETS; i++) {
        const cJSON *b = cJSON_GetArrayItem(h, i);
        assert_string_equal(member(b, "bucket")->valuestring, labels[i]);
        assert_true(cJSON_IsNumber(member(b, "count")));
        sum += member(b, "count")->valuedouble;
    }
    assert_true(sum == 1990);

    const cJSON *errors = member(r, "errors");
    assert_int_equal(cJSON_GetArraySize(errors), 1);
    assert_string_equal(member(cJSON_GetArrayItem(errors, 0), "message")->valuestring,
                        "nonce too low");
    assert_int_equal(member(cJSON_GetArrayItem(errors, 0), "count")->valueint, 10);

    const cJSON *node = member(r, "node");
    static const char *const node_numbers[] = {
        "pid", "samples", "cpu_percent_max", "cpu_percent_avg", "rss_mib_max", "rss_mib_avg", NULL
    };
    expect_numbers(node, node_numbers);
    assert_true(member(node, "rss_mib_max")->valuedouble == 4.0);
    static const char *const setup_numbers[] = { "duration_s", "measured_gas", "gas_limit", NULL };
    expect_numbers(member(r, "setup"), setup_numbers);
    assert_true(cJSON_IsNull(member(member(r, "setup"), "contract")));
    static const char *const sample_numbers[] = { "size", "status0", "missing", NULL };
    expect_numbers(member(r, "status_sample"), sample_numbers);
    assert_true(member(member(r, "status_sample"), "status0")->valuedouble == 1.0);
    assert_true(member(node, "cpu_percent_max")->valuedouble > 79.99);
    cJSON_Delete(doc);
    free(res);
}

static void test_json_node_is_null_without_pid(void **state)
{
    (void)state;
    struct bench_config cfg;
    const char *args[] = { "--outstanding", "10", NULL };
    assert_int_equal(parse(&cfg, args), 0);
    struct bench_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    fill_result(res, false);
    struct bench_machine m;
    bench_machine_probe(&m);
    cJSON *doc = bench_report_json(&cfg, res, &m);
    assert_non_null(doc);
    const cJSON *c = member(doc, "config");
    assert_string_equal(member(c, "mode")->valuestring, "closed");
    assert_true(cJSON_IsNull(member(c, "pid")));
    assert_true(cJSON_IsNull(member(member(doc, "result"), "node")));
    cJSON_Delete(doc);
    free(res);
}

static void test_table_prints_every_figure(void **state)
{
    (void)state;
    struct bench_config cfg;
    const char *args[] = { "--pid", "4242", NULL };
    assert_int_equal(parse(&cfg, args), 0);
    struct bench_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    fill_result(res, true);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    bench_print_table(f, &cfg, res);
    fclose(f);
    static const char *const wanted[] = {
        "committed TPS",
        "500.0",
        "p50 40.0",
        "p99",
        ">=2000",
        "<50",
        "nonce too low",
        "RSS max 4.0 MiB",
        "sent",
        "rejected",
        "workload         transfer",
        "status 0 in sample: 1 of 20",
    };
    for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
        if (strstr(text, wanted[i]) == NULL)
            fail_msg("table lacks %s:\n%s", wanted[i], text);
    }
    free(text);
    free(res);
}

static void test_bench_is_a_cli_command(void **state)
{
    (void)state;
    const struct cli_command *c = cli_find_command("bench");
    assert_non_null(c);
    assert_ptr_equal(c->usage, bench_usage);
    char *argv[] = { (char *)"teechain", (char *)"bench", (char *)"--txs", (char *)"0", NULL };
    assert_int_equal(cli_main(4, argv), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_without_options),
        cmocka_unit_test(test_every_option_is_parsed),
        cmocka_unit_test(test_workload_names_parse_and_print_back),
        cmocka_unit_test(test_closed_loop_caps_batch_at_outstanding),
        cmocka_unit_test(test_help_returns_one_and_prints_usage),
        cmocka_unit_test(test_usage_errors_return_two),
        cmocka_unit_test(test_json_report_has_every_key_with_its_type),
        cmocka_unit_test(test_json_node_is_null_without_pid),
        cmocka_unit_test(test_table_prints_every_figure),
        cmocka_unit_test(test_bench_is_a_cli_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
