/*
 * state.c - the state suite of teechain-conformance.
 *
 * Until the EVM exists (issue 6), every post.Cancun case is counted as
 * skipped with that reason; the file is still parsed and its cases counted,
 * so that the number of cases to come is visible.
 */
#include "conformance.h"

#include <stdio.h>

void conf_state_file(struct conf_stats *st, const char *path, const cJSON *root)
{
    const cJSON *test;
    cJSON_ArrayForEach(test, root)
    {
        const cJSON *post = cJSON_GetObjectItemCaseSensitive(test, "post");
        const cJSON *cancun = cJSON_GetObjectItemCaseSensitive(post, "Cancun");
        if (!cJSON_IsArray(cancun)) {
            conf_fail(st, path, test->string ? test->string : "?", "no post.Cancun array");
            continue;
        }
        int i = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, cancun)
        {
            char name[512];
            snprintf(name, sizeof(name), "%s[%d]", test->string ? test->string : "?", i++);
            conf_skip(st, path, name, "EVM not implemented yet (issue 6)");
        }
    }
}
