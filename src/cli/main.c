/*
 * main.c - the `teechain` program: operator and client CLI. Everything but
 * the process set-up lives in the library (cli/commands.h: cli_main), so that
 * tests can drive the same code.
 */
#include "base/log.h"
#include "cli/commands.h"

int main(int argc, char **argv)
{
    /* The CLI prints its own messages; library log lines would only add noise. */
    log_set_level(LOG_WARN);
    return cli_main(argc, argv);
}
