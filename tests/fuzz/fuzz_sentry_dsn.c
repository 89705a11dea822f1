/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for plume_sentry_dsn_parse() on arbitrary NUL-terminated
 * input (an exactly-sized heap copy, so a read past the NUL is caught), and
 * for the URL and auth header built from an accepted DSN. Besides never
 * crashing, results must be consistent: every field is terminated and well
 * formed, the URL and header always fit their documented sizes, and the
 * error message never depends on the legacy secret (the parse is repeated
 * with the secret's letters and digits changed: the verdict and the message
 * must be byte for byte the same). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sentry_dsn.h"

static void check_field(const char *f, size_t cap)
{
    if (memchr(f, '\0', cap) == NULL)
        abort();
}

/* Changes every letter and digit of s[0..n) to another one of its kind. */
static void rotate_alnum(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z')
            s[i] = (char)('a' + (c - 'a' + 7) % 26);
        else if (c >= 'A' && c <= 'Z')
            s[i] = (char)('A' + (c - 'A' + 7) % 26);
        else if (c >= '0' && c <= '9')
            s[i] = (char)('0' + (c - '0' + 3) % 10);
    }
}

/* Finds the legacy secret as the parser sees it: after the first ':' of the
 * userinfo (which ends at the last '@' before the first '/', '?' or '#'
 * after "://"). Returns its length, 0 if there is none. */
static size_t find_secret(const char *s, size_t *off)
{
    const char *sep = strstr(s, "://");
    if (!sep)
        return 0;
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            at = auth + i;
    if (!at)
        return 0;
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    if (!colon)
        return 0;
    *off = (size_t)(colon + 1 - s);
    return (size_t)(at - colon - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    plume_sentry_dsn_t d;
    char err[256];
    int rc = plume_sentry_dsn_parse(s, &d, err, sizeof(err));
    check_field(err, sizeof(err));
    if (rc == 0) {
        if (err[0] != '\0')
            abort();
        check_field(d.scheme, sizeof(d.scheme));
        check_field(d.public_key, sizeof(d.public_key));
        check_field(d.host, sizeof(d.host));
        check_field(d.path, sizeof(d.path));
        check_field(d.project_id, sizeof(d.project_id));
        if (strcmp(d.scheme, "http") != 0 && strcmp(d.scheme, "https") != 0)
            abort();
        if (!d.public_key[0] || !d.host[0] || !d.project_id[0])
            abort();
        if (strspn(d.project_id, "0123456789") != strlen(d.project_id))
            abort();
        size_t pl = strlen(d.path);
        if (pl > 0 && (d.path[0] != '/' || d.path[pl - 1] == '/'))
            abort();
        char url[PLUME_SENTRY_URL_MAX];
        plume_sentry_envelope_url(&d, url, sizeof(url));
        if (strncmp(url, d.scheme, strlen(d.scheme)) != 0 || !strstr(url, "/envelope/"))
            abort();
        char hdr[128 + PLUME_SENTRY_KEY_MAX];
        if (plume_sentry_auth_header(&d, "0.1.0", hdr, sizeof(hdr)) != 0)
            abort();
        if (strpbrk(hdr, "\r\n"))
            abort();
    } else {
        if (strncmp(err, "sentry dsn: ", 12) != 0)
            abort();
        plume_sentry_dsn_t zero;
        memset(&zero, 0, sizeof(zero));
        if (memcmp(&d, &zero, sizeof(d)) != 0)
            abort();
    }

    size_t off = 0, n = find_secret(s, &off);
    if (n > 0) {
        rotate_alnum(s + off, n);
        plume_sentry_dsn_t d2;
        char err2[256];
        int rc2 = plume_sentry_dsn_parse(s, &d2, err2, sizeof(err2));
        if (rc2 != rc || strcmp(err, err2) != 0)
            abort();
        if (rc == 0 && memcmp(&d, &d2, sizeof(d)) != 0)
            abort(); /* the secret is not kept */
    }
    free(s);
    return 0;
}
