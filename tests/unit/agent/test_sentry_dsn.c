/* SPDX-License-Identifier: MIT */
/* Sentry DSN parsing: the DSN shapes from Sentry's docs (with and without
 * port, path prefix, legacy secret, http/https, IPv6), the envelope URL and
 * the X-Sentry-Auth header built from them, and every error: each message
 * must name the bad part, none may echo the legacy secret, and input longer
 * than the limit must not be read past it. */
#include "test_support.h"
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentry_dsn.h"

/* True if the bytes p[0..n) hold the string s anywhere. */
static bool contains(const void *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp((const char *)p + i, s, k) == 0)
            return true;
    return false;
}

typedef struct good_case {
    const char *dsn, *scheme, *key, *host;
    unsigned port;
    const char *path, *project, *url;
} good_case_t;

static void valid_dsns(void **state)
{
    (void)state;
    const good_case_t cases[] = {
        {"https://examplePublicKey@o0.ingest.sentry.io/0", "https", "examplePublicKey",
         "o0.ingest.sentry.io", 0, "", "0", "https://o0.ingest.sentry.io/api/0/envelope/"},
        /* legacy secret, empty (as in the envelope docs) and set */
        {"https://e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42", "https",
         "e12d836b15bb49d7bbf99e64295d995b", "sentry.io", 0, "", "42",
         "https://sentry.io/api/42/envelope/"},
        {"https://public:secret@sentry.example.com/1", "https", "public", "sentry.example.com",
         0, "", "1", "https://sentry.example.com/api/1/envelope/"},
        /* port and path prefix */
        {"http://public@192.168.1.10:9000/sentry/42", "http", "public", "192.168.1.10", 9000,
         "/sentry", "42", "http://192.168.1.10:9000/sentry/api/42/envelope/"},
        {"https://k:s@my-host.example_x.org:8443/a/b/c/1234567", "https", "k",
         "my-host.example_x.org", 8443, "/a/b/c", "1234567",
         "https://my-host.example_x.org:8443/a/b/c/api/1234567/envelope/"},
        /* upper-case scheme, ports 1 and 65535, a default port written out */
        {"HTTPS://k@h/1", "https", "k", "h", 0, "", "1", "https://h/api/1/envelope/"},
        {"http://k@h:1/1", "http", "k", "h", 1, "", "1", "http://h:1/api/1/envelope/"},
        {"http://k@h:65535/1", "http", "k", "h", 65535, "", "1",
         "http://h:65535/api/1/envelope/"},
        {"https://k@h:443/1", "https", "k", "h", 443, "", "1", "https://h:443/api/1/envelope/"},
        /* IPv6 literals keep their brackets */
        {"http://k@[::1]:9000/3", "http", "k", "[::1]", 9000, "", "3",
         "http://[::1]:9000/api/3/envelope/"},
        {"https://k@[2001:db8::7]/3", "https", "k", "[2001:db8::7]", 0, "", "3",
         "https://[2001:db8::7]/api/3/envelope/"},
        /* a trailing slash after the project id; doubled slashes before it */
        {"https://k@h/5/", "https", "k", "h", 0, "", "5", "https://h/api/5/envelope/"},
        {"https://k@h//5", "https", "k", "h", 0, "", "5", "https://h/api/5/envelope/"},
        {"https://k@h/p%20q/5", "https", "k", "h", 0, "/p%20q", "5",
         "https://h/p%20q/api/5/envelope/"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const good_case_t *c = &cases[i];
        plume_sentry_dsn_t d;
        char err[256] = "untouched";
        if (plume_sentry_dsn_parse(c->dsn, &d, err, sizeof(err)) != 0)
            fail_msg("rejected %s: %s", c->dsn, err);
        assert_string_equal(err, "");
        assert_string_equal(d.scheme, c->scheme);
        assert_string_equal(d.public_key, c->key);
        assert_string_equal(d.host, c->host);
        assert_int_equal(d.port, c->port);
        assert_string_equal(d.path, c->path);
        assert_string_equal(d.project_id, c->project);
        char url[PLUME_SENTRY_URL_MAX];
        plume_sentry_envelope_url(&d, url, sizeof(url));
        assert_string_equal(url, c->url);
        assert_false(contains(&d, sizeof(d), "secret")); /* not kept anywhere */
    }
}

typedef struct bad_case {
    const char *dsn;
    const char *msg; /* expected substring of the error */
} bad_case_t;

static void every_error_names_the_part(void **state)
{
    (void)state;
    const bad_case_t cases[] = {
        {"", "sentry dsn: is empty"},
        {"k@h/1", "no \"://\" after the scheme"},
        {"://k@h/1", "scheme is missing or malformed"},
        {"1http://k@h/1", "scheme is missing or malformed"},
        {"ftp://k@h/1", "sentry dsn: scheme \"ftp\" is not http or https"},
        {"httpss://k@h/1", "scheme \"httpss\" is not http or https"},
        {"https://h/1", "public key is missing"},
        {"https://@h/1", "public key is missing"},
        {"https://:secret@h/1", "public key is missing"},
        {"https://k$y@h/1", "public key has a character that is not allowed at offset 1"},
        {"https://k@/1", "host is missing"},
        {"https://k@:9000/1", "host is missing"},
        {"https://k@h!x/1", "host \"h!x\" has a character that is not allowed"},
        {"https://k@[::1/1", "has no closing ']'"},
        {"https://k@[zz]/1", "host \"[zz]\" is not an IPv6 address"},
        {"https://k@[]/1", "host \"[]\" is not an IPv6 address"},
        {"https://k@[::1]x/1", "host \"[::1]\" is followed by \"x\" instead of a ':port'"},
        {"https://k@h:99999/1", "sentry dsn: port \"99999\" is not 1-65535"},
        {"https://k@h:65536/1", "port \"65536\" is not 1-65535"},
        {"https://k@h:0/1", "port \"0\" is not 1-65535"},
        {"https://k@h:/1", "port \"\" is not 1-65535"},
        {"https://k@h:8a/1", "port \"8a\" is not 1-65535"},
        {"https://k@h:1:2/1", "port \"1:2\" is not 1-65535"},
        {"https://k@[::1]:123456/1", "port \"123456\" is not 1-65535"},
        {"https://k@h/abc", "sentry dsn: project id \"abc\" is not a number"},
        {"https://k@h/prefix/12a", "project id \"12a\" is not a number"},
        {"https://k@h", "project id is missing"},
        {"https://k@h/", "project id is missing"},
        {"https://k@h//", "project id is missing"},
        {"https://k@h/1?x=1", "a query or fragment is not allowed"},
        {"https://k@h?x=1", "a query or fragment ('?...') is not allowed"},
        {"https://k@h#f", "a query or fragment ('#...') is not allowed"},
        {"https://k@h/a%zz/1", "path \"/a%zz/1\" has a character that is not allowed"},
        {"https://k@h/a%2/1", "path \"/a%2/1\" has a character that is not allowed"},
        {"https://k@h/a\"b/1", "path \"/a\\x22b/1\" has a character"},
        {"https://k@ho st/1", "blank, control or non-ASCII byte (0x20) at offset 12"},
        {"https://k@h/1\n", "blank, control or non-ASCII byte (0x0a) at offset 13"},
        {" https://k@h/1", "(0x20) at offset 0"},
        {"https://k@h\xc3\xa9/1", "non-ASCII byte (0xc3) at offset 11"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        plume_sentry_dsn_t d;
        memset(&d, 0xaa, sizeof(d));
        char err[256] = "";
        int rc = plume_sentry_dsn_parse(cases[i].dsn, &d, err, sizeof(err));
        if (rc != -1)
            fail_msg("accepted \"%s\"", cases[i].dsn);
        if (!strstr(err, cases[i].msg))
            fail_msg("\"%s\": got \"%s\", want \"%s\"", cases[i].dsn, err, cases[i].msg);
        assert_int_equal(strncmp(err, "sentry dsn: ", 12), 0);
        /* the output is cleared on failure */
        plume_sentry_dsn_t zero;
        memset(&zero, 0, sizeof(zero));
        assert_memory_equal(&d, &zero, sizeof(d));
    }
    char err[256];
    plume_sentry_dsn_t d;
    assert_int_equal(plume_sentry_dsn_parse(NULL, &d, err, sizeof(err)), -1);
    assert_string_equal(err, "sentry dsn: is missing");
}

static void secret_never_echoed(void **state)
{
    (void)state;
    const char *dsns[] = {
        "ftp://k:s3cr3t@h/1",        "https://k:s3cr3t@h:99999/1", "https://k:s3cr3t@h/abc",
        "https://k:s3cr3t@/1",       "https://k:s3cr3t@ho!st/1",   "https://k:s3cr3t@h/1?q",
        "https://k:s3/cr3t@h/1",     "k:s3cr3t@https://h/1",       "https://k:s3cr3t@h/%zz/1",
        "https://k:s3cr3t@[zz]/1",   "https://k:s3?cr3t@h/1",      "https://k:s3#cr3t@h/1",
        "https://k:s3cr3t@h",        "https://k:s3cr3t@h:0/1",     "https://k:s3cr3t:@h/x",
        "https://:s3cr3t@h/1",
    };
    for (size_t i = 0; i < sizeof(dsns) / sizeof(dsns[0]); i++) {
        plume_sentry_dsn_t d;
        char err[256] = "";
        assert_int_equal(plume_sentry_dsn_parse(dsns[i], &d, err, sizeof(err)), -1);
        assert_true(err[0] != '\0');
        if (strstr(err, "s3") || strstr(err, "cr3t"))
            fail_msg("\"%s\": error echoes the secret: %s", dsns[i], err);
    }
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void length_limits(void **state)
{
    (void)state;
    char dsn[4096], err[256];
    plume_sentry_dsn_t d;

    char *key = repeat('a', PLUME_SENTRY_KEY_MAX);
    snprintf(dsn, sizeof(dsn), "https://%s@h/1", key);
    assert_int_equal(plume_sentry_dsn_parse(dsn, &d, err, sizeof(err)), 0);
    assert_string_equal(d.public_key, key);
    snprintf(dsn, sizeof(dsn), "https://%sa@h/1", key);
    assert_int_equal(plume_sentry_dsn_parse(dsn, &d, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "public key is too long (129 bytes, at most 128)"));
    free(key);

    char *host = repeat('h', PLUME_SENTRY_HOST_MAX);
    snprintf(dsn, sizeof(dsn), "https://k@%s:1/1", host);
    assert_int_equal(plume_sentry_dsn_parse(dsn, &d, err, sizeof(err)), 0);
    assert_string_equal(d.host, host);
    snprintf(dsn, sizeof(dsn), "https://k@%sh/1", host);
    assert_int_equal(plume_sentry_dsn_parse(dsn, &d, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "host is too long (256 bytes"));
    free(host);

    char *path = repeat('p', PLUME_SENTRY_PATH_MAX - 1);
    snprintf(dsn, sizeof(dsn), "https://k@h/%s/1", path);
    assert_int_equal(plume_sentry_dsn_parse(dsn, &d, err, sizeof(err)), 0);
    assert_int_equal(strlen(d.path), PLUME_SENTRY_PATH_MAX);
    snprintf(dsn, sizeof(dsn), "https://k@h/%sp/1", path);
    assert_int_equal(plume_sentry_dsn_parse(dsn, &d, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "path prefix is too long (512 bytes"));
    free(path);

    assert_int_equal(plume_sentry_dsn_parse("https://k@h/12345678901234567890", &d, err,
                                            sizeof(err)),
                     0);
    assert_int_equal(plume_sentry_dsn_parse("https://k@h/123456789012345678901", &d, err,
                                            sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "project id is too long (21 digits"));

    /* a long bad part is quoted cut short */
    char *id = repeat('x', 300);
    snprintf(dsn, sizeof(dsn), "https://k@h/%s", id);
    assert_int_equal(plume_sentry_dsn_parse(dsn, &d, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "project id \"xxxxxxxx"));
    assert_non_null(strstr(err, "...\" is not a number"));
    assert_true(strlen(err) < 120);
    free(id);

    /* longer than PLUME_SENTRY_DSN_MAX and not NUL-terminated: ASan catches
     * any read past the limit */
    char *big = malloc(PLUME_SENTRY_DSN_MAX + 1);
    assert_non_null(big);
    memset(big, 'a', PLUME_SENTRY_DSN_MAX + 1);
    assert_int_equal(plume_sentry_dsn_parse(big, &d, err, sizeof(err)), -1);
    assert_string_equal(err, "sentry dsn: is too long (more than 2048 bytes)");
    free(big);
}

static void small_error_buffers(void **state)
{
    (void)state;
    plume_sentry_dsn_t d;
    char err[12];
    memset(err, 'z', sizeof(err));
    assert_int_equal(plume_sentry_dsn_parse("ftp://k@h/1", &d, err, sizeof(err)), -1);
    assert_string_equal(err, "sentry dsn:");
    char one[1] = {'z'};
    assert_int_equal(plume_sentry_dsn_parse("ftp://k@h/1", &d, one, 1), -1);
    assert_int_equal(one[0], '\0');
    assert_int_equal(plume_sentry_dsn_parse("ftp://k@h/1", &d, NULL, 0), -1);
    assert_int_equal(plume_sentry_dsn_parse("https://k@h/1", &d, NULL, 0), 0);
}

static void url_does_not_fit(void **state)
{
    (void)state;
    plume_sentry_dsn_t d;
    assert_int_equal(plume_sentry_dsn_parse("https://k@host:8080/pre/42", &d, NULL, 0), 0);
    const char *want = "https://host:8080/pre/api/42/envelope/";
    char url[64];
    plume_sentry_envelope_url(&d, url, strlen(want) + 1);
    assert_string_equal(url, want);
    memset(url, 'x', sizeof(url));
    plume_sentry_envelope_url(&d, url, strlen(want)); /* one byte short */
    assert_string_equal(url, "");
    plume_sentry_envelope_url(&d, url, 0); /* nothing written */
    assert_int_equal(url[0], '\0');
}

static void auth_header(void **state)
{
    (void)state;
    plume_sentry_dsn_t d;
    assert_int_equal(plume_sentry_dsn_parse("https://abc123:sec@o1.ingest.sentry.io/42", &d,
                                            NULL, 0),
                     0);
    const char *want =
        "X-Sentry-Auth: Sentry sentry_version=7, sentry_client=plume/0.1.0, sentry_key=abc123";
    char out[160];
    assert_int_equal(plume_sentry_auth_header(&d, "0.1.0", out, sizeof(out)), 0);
    assert_string_equal(out, want);
    assert_null(strstr(out, "sec@"));
    /* exactly enough room, then one byte short */
    assert_int_equal(plume_sentry_auth_header(&d, "0.1.0", out, strlen(want) + 1), 0);
    assert_string_equal(out, want);
    memset(out, 'x', sizeof(out));
    assert_int_equal(plume_sentry_auth_header(&d, "0.1.0", out, strlen(want)), -1);
    assert_string_equal(out, "");
    /* versions that would break the header */
    const char *bad[] = {"", "1.0\r\nX-Evil: 1", "1.0, sentry_key=x", "1 0", "1.0\x7f"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(plume_sentry_auth_header(&d, bad[i], out, sizeof(out)), -1);
        assert_string_equal(out, "");
    }
    assert_int_equal(plume_sentry_auth_header(&d, NULL, out, sizeof(out)), -1);
    assert_int_equal(plume_sentry_auth_header(&d, "1.0", out, 0), -1);
    assert_int_equal(plume_sentry_auth_header(&d, "0.1.0-dev+g1234", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "sentry_client=plume/0.1.0-dev+g1234, "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_dsns),
        cmocka_unit_test(every_error_names_the_part),
        cmocka_unit_test(secret_never_echoed),
        cmocka_unit_test(length_limits),
        cmocka_unit_test(small_error_buffers),
        cmocka_unit_test(url_does_not_fit),
        cmocka_unit_test(auth_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
