/* SPDX-License-Identifier: MIT */
/* See test_support.h. */
#include "test_support.h"

#include <ctype.h>
#include <dirent.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"

static const char *join(const char *env, const char *fallback, const char *rel)
{
    static char path[4096];
    const char *base = getenv(env);
    if (!base)
        base = fallback;
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    return path;
}

const char *plume_test_conformance_path(const char *rel)
{
    return join("PLUME_CONFORMANCE_DIR", "../shared/conformance", rel);
}

const char *plume_test_source_path(const char *rel)
{
    return join("PLUME_SOURCE_DIR", ".", rel);
}

char *plume_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *data = malloc(cap + 1);
    size_t got;
    while (data && (got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *p = realloc(data, cap * 2 + 1);
            if (!p) {
                free(data);
                data = NULL;
                break;
            }
            data = p;
            cap *= 2;
        }
    }
    fclose(f);
    if (!data)
        return NULL;
    data[n] = '\0';
    if (len)
        *len = n;
    return data;
}

char *plume_test_mkdtemp(void)
{
    const char *tmp = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof(tmpl), "%s/plume-test-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(tmpl))
        return NULL;
    return strdup(tmpl);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void plume_test_rm_rf(const char *path)
{
    if (path)
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int plume_test_count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    size_t sl = strlen(suffix);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] != '.' && l >= sl && strcmp(de->d_name + l - sl, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

void plume_test_expect_metrics(const plume_metrics_t *got, const plume_metrics_t *want)
{
#define M(field)                                                                                   \
    if (got->field != want->field)                                                                 \
        fail_msg("metrics." #field " is %" PRIu64 ", want %" PRIu64, got->field, want->field);
    M(received) M(parsed) M(parse_errors) M(truncated) M(invalid_utf8) M(batches) M(requests)
    M(delivered) M(retries) M(rejected_by_sink) M(dropped_outbox_full) M(dropped_failed)
    M(dropped_corrupt) M(dropped_encode)
#undef M
}

bool plume_test_names_in_key(const char *const *names, size_t nnames, const char *k, size_t n)
{
    for (size_t i = 0; i < nnames; i++) {
        size_t len = strlen(names[i]);
        for (size_t at = 0; len && at + len <= n; at++) {
            size_t j = 0;
            while (j < len && tolower((unsigned char)k[at + j]) == tolower((unsigned char)names[i][j]))
                j++;
            if (j == len)
                return true;
        }
    }
    return false;
}
