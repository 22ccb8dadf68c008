/*
 * cli_run.h - runs `teechain ARGS...` in-process (cli_main) with stdout and
 * stderr captured into buffers, for the CLI tests that talk to a fake node.
 * Header-only (static inline): include it after <cmocka.h>.
 *
 *     struct cli_run r;
 *     cli_run_capture(&r, tmp_dir, "call", ADDR, "get()(uint256)", NULL);
 *     assert_int_equal(r.status, 0);   // r.out, r.err hold what it printed
 */
#ifndef TC_TESTS_UNIT_CLI_CLI_RUN_H
#define TC_TESTS_UNIT_CLI_CLI_RUN_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/commands.h"

struct cli_run {
    int status;
    char out[8192];
    char err[8192];
};

static inline void cli_run_slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f != NULL ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f != NULL)
        fclose(f);
}

/* Runs `teechain ARGS...` (NULL-terminated), its output files in dir. */
static inline void cli_run_capture(struct cli_run *r, const char *dir, ...)
{
    char *argv[64], out_path[160], err_path[160];
    int argc = 0;
    va_list ap;
    argv[argc++] = "teechain";
    va_start(ap, dir);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 63;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    snprintf(out_path, sizeof(out_path), "%s/out", dir);
    snprintf(err_path, sizeof(err_path), "%s/err", dir);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fo, 1);
    dup2(fe, 2);
    r->status = cli_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    close(fo);
    close(fe);
    cli_run_slurp(out_path, r->out, sizeof(r->out));
    cli_run_slurp(err_path, r->err, sizeof(r->err));
}

#endif
