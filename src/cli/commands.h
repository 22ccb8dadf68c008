/*
 * commands.h - the subcommands of the `teechain` program. cli_main (called
 * by main.c, and by tests) dispatches argv[1] to the entry of cli_commands
 * with that name and prints the table for `teechain help`.
 *
 * Each run function gets the subcommand's own argv (argv[0] is the
 * subcommand name), parses its options, prints its result on stdout (human
 * readable, or the raw JSON-RPC result with --json) and errors on stderr,
 * and returns the process exit status: 0 success, 1 failure, 2 usage error.
 * `--help` prints the usage text and returns 0.
 */
#ifndef TC_CLI_COMMANDS_H
#define TC_CLI_COMMANDS_H

#include <stddef.h>

struct cli_command {
    const char *name;
    const char *summary; /* one line for `teechain help` */
    const char *usage;   /* the full text of `teechain NAME --help` */
    int (*run)(int argc, char **argv);
};

extern const struct cli_command cli_commands[];
extern const size_t cli_command_count;

/*
 * The whole program: `teechain COMMAND [options]`, `teechain help
 * [COMMAND]`, `teechain COMMAND --help`. Returns the exit status (0 success,
 * 1 failure, 2 usage error). Uses getopt_long, so it is not reentrant.
 */
int cli_main(int argc, char **argv);

/* The entry named name, or NULL. */
const struct cli_command *cli_find_command(const char *name);

#endif
