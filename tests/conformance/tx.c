/* tx.c - the tx suite of teechain-conformance. Being written (issue 2). */
#include "conformance.h"

void conf_tx_file(struct conf_stats *st, const char *path, const cJSON *root)
{
    conf_fail(st, path, "*", "suite not implemented yet");
}
