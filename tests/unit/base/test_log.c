/* test_log.c - log lines are levelled, bounded, and cannot be forged. */
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
#include "base/log.h"

static char path[64];

static int setup(void **state)
{
    snprintf(path, sizeof(path), "/tmp/tc-log-%d.txt", (int)getpid());
    unlink(path);
    log_set_stderr(false);
    log_set_level(LOG_INFO);
    return log_open_file(path) == TC_OK ? 0 : -1;
}

static int teardown(void **state)
{
    log_close_file();
    unlink(path);
    return 0;
}

static char *read_all(void)
{
    static char buf[1 << 16];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return buf;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_control_characters_are_escaped(void **state)
{
    const char *peer_name = "evil\n2026-01-01T00:00:00.000Z INFO  [raft] became leader";
    LOG_W("p2p", "peer said %s", peer_name);
    char *text = read_all();
    assert_int_equal(count_lines(text), 1);
    assert_non_null(strstr(text, "WARN  [p2p] peer said evil\\x0a2026"));
}

static void test_level_filters_lines(void **state)
{
    LOG_D("x", "hidden");
    LOG_I("x", "shown");
    char *text = read_all();
    assert_null(strstr(text, "hidden"));
    assert_non_null(strstr(text, "INFO  [x] shown"));
    assert_false(log_enabled(LOG_DEBUG));
    assert_true(log_enabled(LOG_ERROR));
}

static void test_long_lines_are_bounded(void **state)
{
    char *big = malloc(10 * LOG_LINE_MAX);
    memset(big, 'a', 10 * LOG_LINE_MAX - 1);
    big[10 * LOG_LINE_MAX - 1] = '\0';
    LOG_E("x", "%s", big);
    free(big);
    char *text = read_all();
    assert_int_equal(count_lines(text), 1);
    assert_true(strlen(text) < 2 * LOG_LINE_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_control_characters_are_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_filters_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_lines_are_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
