/*
 * main.c - teechaind, the node program: parses the command line, loads
 * config.ini and config.genesis, sets up logging, and runs a struct node
 * (node/node.h) until SIGTERM or SIGINT.
 *
 *     teechaind -c config.ini -g config.genesis
 *
 * Exit status: 0 after a clean stop, 1 on a start-up or run-time failure
 * (one line on stderr names the file, key or resource), 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/log.h"
#include "node/config.h"
#include "node/node.h"

static const char usage[] =
    "usage: teechaind -c CONFIG.INI -g CONFIG.GENESIS\n"
    "  -c, --config FILE    this node's settings (default config.ini)\n"
    "  -g, --genesis FILE   the chain's genesis settings (default config.genesis)\n"
    "  -h, --help           this text\n"
    "  -V, --version        the version\n"
    "Runs a TEEChain node until SIGTERM or SIGINT. See docs/configuration.md.\n";

int main(int argc, char **argv)
{
    const char *ini = "config.ini";
    const char *genesis = "config.genesis";
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "genesis", required_argument, NULL, 'g' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "c:g:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            ini = optarg;
            break;
        case 'g':
            genesis = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        case 'V':
            puts(NODE_CLIENT_VERSION);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "teechaind: unexpected argument \"%s\"\n%s", argv[optind], usage);
        return 2;
    }

    static struct node_config cfg;
    char err[1024];
    if (node_config_load(&cfg, ini, genesis, err, sizeof(err)) != TC_OK) {
        fprintf(stderr, "teechaind: %s\n", err);
        return 1;
    }
    log_set_level(cfg.local.log_level);
    if (cfg.local.log_path[0]) {
        char path[CONFIG_MAX_PATH + 32];
        snprintf(path, sizeof(path), "%s/teechaind.log", cfg.local.log_path);
        if ((mkdir(cfg.local.log_path, 0700) != 0 && errno != EEXIST) ||
            log_open_file(path) != TC_OK) {
            fprintf(stderr, "teechaind: %s: [log] log_path: cannot write %s\n", ini, path);
            node_config_free(&cfg);
            return 1;
        }
    }
    if (cfg.local.platform == TEE_PLATFORM_VIRTUAL)
        LOG_W("node", "platform = virtual: no TEE protects this node's keys, transactions "
                      "or state");

    struct node *n;
    int rc = node_open(&cfg, &n, err, sizeof(err));
    if (rc != TC_OK) {
        log_set_stderr(false); /* the line below is the one stderr gets */
        LOG_E("node", "cannot start: %s", err);
        fprintf(stderr, "teechaind: %s\n", err);
        log_close_file();
        node_config_free(&cfg);
        return 1;
    }
    rc = node_run(n);
    node_close(n);
    log_close_file();
    node_config_free(&cfg);
    return rc == TC_OK ? 0 : 1;
}
