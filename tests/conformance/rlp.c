/* rlp.c - the rlp suite of teechain-conformance. Being written (issue 2). */
#include "conformance.h"

void conf_rlp_file(struct conf_stats *st, const char *path, const cJSON *root)
{
    conf_fail(st, path, "*", "suite not implemented yet");
}
