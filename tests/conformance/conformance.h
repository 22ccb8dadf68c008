/*
 * conformance.h - the teechain-conformance runner's shared parts.
 *
 * Each suite (rlp, trie, tx, state) lives in its own file and implements
 * one `conf_<suite>_file` function, called once per JSON file found under the
 * paths given on the command line. A suite reports each case through
 * conf_pass / conf_fail / conf_skip; the runner prints one line per failure
 * and per skip (with its reason) and the closing "N passed, N failed, N
 * skipped" line. No suite may look at a test's name to decide its outcome:
 * names are only printed.
 */
#ifndef TC_CONFORMANCE_H
#define TC_CONFORMANCE_H

#include <cjson/cJSON.h>

struct conf_stats {
    unsigned long passed, failed, skipped;
    int verbose;
};

/* path: the file; root: its parsed JSON (an object of named cases). */
typedef void (*conf_suite_fn)(struct conf_stats *st, const char *path, const cJSON *root);

void conf_rlp_file(struct conf_stats *st, const char *path, const cJSON *root);
void conf_trie_file(struct conf_stats *st, const char *path, const cJSON *root);
void conf_tx_file(struct conf_stats *st, const char *path, const cJSON *root);
void conf_state_file(struct conf_stats *st, const char *path, const cJSON *root);

void conf_pass(struct conf_stats *st, const char *path, const char *name);
/* Prints "FAIL <file> <case>: <reason>". */
void conf_fail(struct conf_stats *st, const char *path, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prints "SKIP <file> <case>: <reason>". */
void conf_skip(struct conf_stats *st, const char *path, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
