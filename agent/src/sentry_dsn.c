/* SPDX-License-Identifier: MIT */
/* Sentry DSN parsing, envelope URL and auth header. See sentry_dsn.h.
 *
 * The parser works on (pointer, length) spans of the input and copies a part
 * out only once it has been checked, so a hostile DSN cannot make it read past
 * the NUL or write past a field. */
#include "sentry_dsn.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Longest part of the input quoted in an error message. */
#define QUOTE_MAX 48

typedef struct span {
    const char *p;
    size_t n;
} span_t;

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_unreserved(char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Formats "sentry dsn: <message>" into err (if there is room for anything)
 * and returns -1, so a failing check is one `return fail(...)`. */
static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return -1;
    int n = snprintf(err, errlen, "sentry dsn: ");
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Writes s as a double-quoted string for an error message: at most QUOTE_MAX
 * bytes of it (then "..."), quotes, backslashes and bytes outside printable
 * ASCII as \xNN. dst must hold QUOTE_MAX * 4 + 8 bytes. */
static const char *quote(char *dst, span_t s)
{
    static const char hex[] = "0123456789abcdef";
    char *o = dst;
    *o++ = '"';
    size_t n = s.n < QUOTE_MAX ? s.n : QUOTE_MAX;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        } else {
            *o++ = (char)c;
        }
    }
    if (s.n > n) {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o++ = '"';
    *o = '\0';
    return dst;
}

static void copy_span(char *dst, span_t s)
{
    memcpy(dst, s.p, s.n);
    dst[s.n] = '\0';
}

/* Parses the scheme (everything before "://"). Only a well-formed scheme is
 * ever quoted back: it then cannot hold a "key:secret@" by accident. */
static int parse_scheme(span_t s, plume_sentry_dsn_t *out, char *err, size_t errlen)
{
    char q[QUOTE_MAX * 4 + 8];
    bool ok = s.n > 0 && is_alpha(s.p[0]);
    for (size_t i = 0; ok && i < s.n; i++)
        ok = is_alpha(s.p[i]) || is_digit(s.p[i]) || s.p[i] == '+' || s.p[i] == '-' ||
             s.p[i] == '.';
    if (!ok)
        return fail(err, errlen, "scheme is missing or malformed (expected http or https)");
    if (s.n == 4 && strncasecmp(s.p, "http", 4) == 0)
        strcpy(out->scheme, "http");
    else if (s.n == 5 && strncasecmp(s.p, "https", 5) == 0)
        strcpy(out->scheme, "https");
    else
        return fail(err, errlen, "scheme %s is not http or https", quote(q, s));
    return 0;
}

/* Parses the userinfo ("key" or "key:secret"); only the key is kept. */
static int parse_userinfo(span_t u, plume_sentry_dsn_t *out, char *err, size_t errlen)
{
    const char *colon = memchr(u.p, ':', u.n);
    span_t key = {u.p, colon ? (size_t)(colon - u.p) : u.n};
    if (key.n == 0)
        return fail(err, errlen, "public key is missing (expected <key>@ before the host)");
    if (key.n > PLUME_SENTRY_KEY_MAX)
        return fail(err, errlen, "public key is too long (%zu bytes, at most %d)", key.n,
                    PLUME_SENTRY_KEY_MAX);
    for (size_t i = 0; i < key.n; i++)
        if (!is_unreserved(key.p[i]))
            return fail(err, errlen,
                        "public key has a character that is not allowed at offset %zu "
                        "(letters, digits, '-', '.', '_', '~')",
                        i);
    copy_span(out->public_key, key);
    return 0;
}

/* Parses the port digits after ':' into 1..65535. */
static int parse_port(span_t p, plume_sentry_dsn_t *out, char *err, size_t errlen)
{
    char q[QUOTE_MAX * 4 + 8];
    unsigned long v = 0;
    bool ok = p.n > 0 && p.n <= 5;
    for (size_t i = 0; ok && i < p.n; i++) {
        ok = is_digit(p.p[i]);
        if (ok)
            v = v * 10 + (unsigned long)(p.p[i] - '0');
    }
    if (!ok || v < 1 || v > 65535)
        return fail(err, errlen, "port %s is not 1-65535", quote(q, p));
    out->port = (uint16_t)v;
    return 0;
}

/* Parses host[:port]; an IPv6 literal keeps its brackets. */
static int parse_hostport(span_t hp, plume_sentry_dsn_t *out, char *err, size_t errlen)
{
    char q[QUOTE_MAX * 4 + 8];
    char q2[QUOTE_MAX * 4 + 8];
    span_t host, port = {NULL, 0};
    bool has_port = false;
    if (hp.n == 0)
        return fail(err, errlen, "host is missing");
    if (hp.p[0] == '[') {
        const char *close = memchr(hp.p, ']', hp.n);
        if (!close)
            return fail(err, errlen, "host %s has no closing ']'", quote(q, hp));
        host = (span_t){hp.p, (size_t)(close - hp.p) + 1};
        bool ok = host.n > 2 && memchr(host.p, ':', host.n) != NULL;
        for (size_t i = 1; ok && i + 1 < host.n; i++)
            ok = is_hex(host.p[i]) || host.p[i] == ':' || host.p[i] == '.';
        if (!ok)
            return fail(err, errlen, "host %s is not an IPv6 address", quote(q, host));
        span_t rest = {close + 1, hp.n - host.n};
        if (rest.n > 0) {
            if (rest.p[0] != ':')
                return fail(err, errlen, "host %s is followed by %s instead of a ':port'",
                            quote(q, host), quote(q2, rest));
            has_port = true;
            port = (span_t){rest.p + 1, rest.n - 1};
        }
    } else {
        const char *colon = memchr(hp.p, ':', hp.n);
        host = (span_t){hp.p, colon ? (size_t)(colon - hp.p) : hp.n};
        if (colon) {
            has_port = true;
            port = (span_t){colon + 1, hp.n - host.n - 1};
        }
        if (host.n == 0)
            return fail(err, errlen, "host is missing");
        for (size_t i = 0; i < host.n; i++) {
            char c = host.p[i];
            if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '.' && c != '_')
                return fail(err, errlen, "host %s has a character that is not allowed",
                            quote(q, host));
        }
    }
    if (host.n > PLUME_SENTRY_HOST_MAX)
        return fail(err, errlen, "host is too long (%zu bytes, at most %d)", host.n,
                    PLUME_SENTRY_HOST_MAX);
    copy_span(out->host, host);
    return has_port ? parse_port(port, out, err, errlen) : 0;
}

/* Checks that a path holds only URL path characters (RFC 3986 pchar and
 * '/') with well-formed percent escapes. */
static bool path_chars_ok(span_t p)
{
    for (size_t i = 0; i < p.n; i++) {
        char c = p.p[i];
        if (c == '%') {
            if (i + 2 >= p.n || !is_hex(p.p[i + 1]) || !is_hex(p.p[i + 2]))
                return false;
            i += 2;
        } else if (!is_unreserved(c) && !strchr("/!$&'()*+,;=:@", c)) {
            return false;
        }
    }
    return true;
}

/* Parses "{prefix}/{project_id}" (p starts with '/' or is empty). */
static int parse_path(span_t p, plume_sentry_dsn_t *out, char *err, size_t errlen)
{
    char q[QUOTE_MAX * 4 + 8];
    if (!path_chars_ok(p))
        return fail(err, errlen, "path %s has a character that is not allowed", quote(q, p));
    if (p.n > 0 && p.p[p.n - 1] == '/')
        p.n--; /* one trailing slash after the project id is tolerated */
    if (p.n == 0)
        return fail(err, errlen, "project id is missing (expected /<project_id> after the host)");
    const char *slash = p.p + p.n - 1;
    while (*slash != '/')
        slash--; /* p.p[0] is '/' */
    span_t id = {slash + 1, (size_t)(p.p + p.n - slash - 1)};
    span_t prefix = {p.p, (size_t)(slash - p.p)};
    if (id.n == 0)
        return fail(err, errlen, "project id is missing (expected /<project_id> after the host)");
    for (size_t i = 0; i < id.n; i++)
        if (!is_digit(id.p[i]))
            return fail(err, errlen, "project id %s is not a number", quote(q, id));
    if (id.n > PLUME_SENTRY_PROJECT_ID_MAX)
        return fail(err, errlen, "project id is too long (%zu digits, at most %d)", id.n,
                    PLUME_SENTRY_PROJECT_ID_MAX);
    while (prefix.n > 0 && prefix.p[prefix.n - 1] == '/')
        prefix.n--; /* "//1" or "/a//1": no trailing slash in the prefix */
    if (prefix.n > PLUME_SENTRY_PATH_MAX)
        return fail(err, errlen, "path prefix is too long (%zu bytes, at most %d)", prefix.n,
                    PLUME_SENTRY_PATH_MAX);
    copy_span(out->path, prefix);
    copy_span(out->project_id, id);
    return 0;
}

static int parse(const char *dsn, plume_sentry_dsn_t *out, char *err, size_t errlen)
{
    if (!dsn)
        return fail(err, errlen, "is missing");
    size_t n = strnlen(dsn, PLUME_SENTRY_DSN_MAX + 1);
    if (n > PLUME_SENTRY_DSN_MAX)
        return fail(err, errlen, "is too long (more than %d bytes)", PLUME_SENTRY_DSN_MAX);
    if (n == 0)
        return fail(err, errlen, "is empty");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)dsn[i];
        if (c <= 0x20 || c >= 0x7f)
            return fail(err, errlen,
                        "has a blank, control or non-ASCII byte (0x%02x) at offset %zu", c, i);
    }
    const char *sep = strstr(dsn, "://");
    if (!sep)
        return fail(err, errlen,
                    "no \"://\" after the scheme (expected "
                    "https://<public_key>@<host>/<project_id>)");
    if (parse_scheme((span_t){dsn, (size_t)(sep - dsn)}, out, err, errlen) < 0)
        return -1;

    const char *auth = sep + 3, *end = dsn + n;
    size_t alen = strcspn(auth, "/?#");
    const char *aend = auth + alen;
    /* the last '@' ends the userinfo: a secret may (wrongly) hold one */
    const char *at = NULL;
    for (const char *c = auth; c < aend; c++)
        if (*c == '@')
            at = c;
    if (!at)
        return fail(err, errlen, "public key is missing (expected <key>@ before the host)");
    if (parse_userinfo((span_t){auth, (size_t)(at - auth)}, out, err, errlen) < 0)
        return -1;
    if (aend < end && *aend != '/')
        return fail(err, errlen, "a query or fragment ('%c...') is not allowed", *aend);
    if (parse_hostport((span_t){at + 1, (size_t)(aend - at - 1)}, out, err, errlen) < 0)
        return -1;
    span_t path = {aend, (size_t)(end - aend)};
    if (memchr(path.p, '?', path.n) || memchr(path.p, '#', path.n))
        return fail(err, errlen, "a query or fragment is not allowed");
    return parse_path(path, out, err, errlen);
}

int plume_sentry_dsn_parse(const char *dsn, plume_sentry_dsn_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (err && errlen > 0)
        err[0] = '\0';
    if (parse(dsn, out, err, errlen) < 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    return 0;
}

void plume_sentry_envelope_url(const plume_sentry_dsn_t *dsn, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    char port[8] = "";
    if (dsn->port)
        snprintf(port, sizeof(port), ":%u", (unsigned)dsn->port);
    int n = snprintf(out, outlen, "%s://%s%s%s/api/%s/envelope/", dsn->scheme, dsn->host, port,
                     dsn->path, dsn->project_id);
    if (n < 0 || (size_t)n >= outlen)
        out[0] = '\0';
}

int plume_sentry_auth_header(const plume_sentry_dsn_t *dsn, const char *client_version,
                             char *out, size_t outlen)
{
    if (outlen > 0)
        out[0] = '\0';
    if (!client_version || !*client_version || outlen == 0)
        return -1;
    for (const char *c = client_version; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || *c == ',')
            return -1;
    int n = snprintf(out, outlen,
                     "X-Sentry-Auth: Sentry sentry_version=7, sentry_client=plume/%s, "
                     "sentry_key=%s",
                     client_version, dsn->public_key);
    if (n < 0 || (size_t)n >= outlen) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}
