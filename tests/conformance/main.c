/*
 * main.c - teechain-conformance <rlp|trie|tx|state> [-v] PATH...
 *
 * Walks each PATH (a JSON file, or a directory searched recursively for
 * *.json files, in sorted order so that runs are reproducible), hands every
 * file to the chosen suite, and ends with "N passed, N failed, N skipped".
 * Exit status: 0 when nothing failed, 1 when a case failed or a file could
 * not be read or parsed, 2 on bad usage.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conformance.h"

#define MAX_FILE_BYTES (64u << 20)

static const struct {
    const char *name;
    conf_suite_fn fn;
} suites[] = {
    { "rlp", conf_rlp_file },
    { "trie", conf_trie_file },
    { "tx", conf_tx_file },
    { "state", conf_state_file },
};

void conf_pass(struct conf_stats *st, const char *path, const char *name)
{
    st->passed++;
    if (st->verbose)
        printf("PASS %s %s\n", path, name);
}

void conf_fail(struct conf_stats *st, const char *path, const char *name, const char *fmt, ...)
{
    va_list ap;
    st->failed++;
    printf("FAIL %s %s: ", path, name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

void conf_skip(struct conf_stats *st, const char *path, const char *name, const char *fmt, ...)
{
    va_list ap;
    st->skipped++;
    printf("SKIP %s %s: ", path, name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || sb.st_size < 0 || (size_t)sb.st_size > MAX_FILE_BYTES)
        goto out_close;
    buf = malloc((size_t)sb.st_size + 1);
    if (!buf)
        goto out_close;
    *len = fread(buf, 1, (size_t)sb.st_size, f);
    buf[*len] = '\0';
out_close:
    fclose(f);
    return buf;
}

static void run_file(conf_suite_fn fn, struct conf_stats *st, const char *path)
{
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text) {
        printf("FAIL %s: cannot read file (missing, unreadable or over %u MiB)\n", path,
               MAX_FILE_BYTES >> 20);
        st->failed++;
        return;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root || !cJSON_IsObject(root)) {
        printf("FAIL %s: not a JSON object\n", path);
        st->failed++;
    } else {
        fn(st, path, root);
    }
    cJSON_Delete(root);
    free(text);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(conf_suite_fn fn, struct conf_stats *st, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        printf("FAIL %s: no such file or directory\n", path);
        st->failed++;
        return;
    }
    if (!S_ISDIR(sb.st_mode)) {
        run_file(fn, st, path);
        return;
    }
    DIR *d = opendir(path);
    if (!d) {
        printf("FAIL %s: cannot open directory\n", path);
        st->failed++;
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof(*names));
            if (!grown)
                break;
            names = grown;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        char child[4096];
        snprintf(child, sizeof(child), "%s/%s", path, names[i]);
        struct stat cb;
        if (stat(child, &cb) == 0 && (S_ISDIR(cb.st_mode) || strstr(names[i], ".json")))
            walk(fn, st, child);
        free(names[i]);
    }
    free(names);
}

static int usage(void)
{
    fprintf(stderr, "usage: teechain-conformance <rlp|trie|tx|state> [-v] PATH...\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    conf_suite_fn fn = NULL;
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
        if (strcmp(argv[1], suites[i].name) == 0)
            fn = suites[i].fn;
    if (!fn)
        return usage();
    struct conf_stats st = { 0 };
    int first = 2;
    if (strcmp(argv[2], "-v") == 0) {
        st.verbose = 1;
        first = 3;
    }
    if (first >= argc)
        return usage();
    for (int i = first; i < argc; i++)
        walk(fn, &st, argv[i]);
    printf("%lu passed, %lu failed, %lu skipped\n", st.passed, st.failed, st.skipped);
    return st.failed ? 1 : 0;
}
