/* SPDX-License-Identifier: MIT */
/* Runs the toml-test suite (TOML 1.0.0 cases in
 * $PLUME_CONFORMANCE_DIR/toml-test/toml-1.0.0) against plume_toml_parse().
 *
 * This is the toml-test "decoder" protocol done in-process: every valid/x.toml
 * is parsed and rendered as toml-test's tagged JSON ({"type":..,"value":..} for
 * scalars), and the rendering is compared with valid/x.json as trees (objects
 * unordered, arrays ordered, integers and floats numerically, date-times as
 * instants after normalisation, like toml-test itself). Every invalid/x.toml
 * must be rejected with a message and a position. Each failing file is reported
 * with the reason; the test fails if any case fails. A small reader for
 * well-formed JSON lives here so that the test does not depend on the
 * production JSON code. */
#include "test_support.h"
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "toml.h"

#define SUITE_DIR "toml-test/toml-1.0.0"

/* ------------------------------------------------ tagged JSON rendering ---- */

static void json_str(plume_buf_t *b, const char *s, size_t n)
{
    plume_buf_append_byte(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            plume_buf_printf(b, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            plume_buf_printf(b, "\\u%04x", c);
        else
            plume_buf_append_byte(b, c);
    }
    plume_buf_append_byte(b, '"');
}

/* Renders `v` as toml-test tagged JSON (the decoder's output format). */
static void render(plume_buf_t *b, const plume_toml_value_t *v)
{
    plume_toml_type_t t = plume_toml_type(v);
    if (t == PLUME_TOML_TABLE) {
        plume_buf_append_byte(b, '{');
        for (size_t i = 0; i < plume_toml_count(v); i++) {
            size_t klen;
            const char *k = plume_toml_table_key_len_at(v, i, &klen, NULL);
            if (i)
                plume_buf_append_byte(b, ',');
            json_str(b, k, klen);
            plume_buf_append_byte(b, ':');
            render(b, plume_toml_table_value_at(v, i));
        }
        plume_buf_append_byte(b, '}');
        return;
    }
    if (t == PLUME_TOML_ARRAY) {
        plume_buf_append_byte(b, '[');
        for (size_t i = 0; i < plume_toml_count(v); i++) {
            if (i)
                plume_buf_append_byte(b, ',');
            render(b, plume_toml_array_at(v, i));
        }
        plume_buf_append_byte(b, ']');
        return;
    }
    char num[64];
    const char *s = num;
    size_t n;
    const char *type = plume_toml_type_name(t);
    switch (t) {
    case PLUME_TOML_INTEGER:
        snprintf(num, sizeof(num), "%lld", (long long)plume_toml_integer(v));
        n = strlen(num);
        break;
    case PLUME_TOML_FLOAT: {
        double d = plume_toml_float(v);
        if (isnan(d))
            snprintf(num, sizeof(num), "nan");
        else if (isinf(d))
            snprintf(num, sizeof(num), d < 0 ? "-inf" : "inf");
        else
            snprintf(num, sizeof(num), "%.17g", d);
        n = strlen(num);
        break;
    }
    case PLUME_TOML_BOOL:
        type = "bool";
        s = plume_toml_bool(v) ? "true" : "false";
        n = strlen(s);
        break;
    default:
        s = plume_toml_string(v, &n);
        break;
    }
    plume_buf_append_str(b, "{\"type\":\"");
    plume_buf_append_str(b, type);
    plume_buf_append_str(b, "\",\"value\":");
    json_str(b, s, n);
    plume_buf_append_byte(b, '}');
}

/* ------------------------------------------------- a small JSON reader ---- */

enum { J_OBJ, J_ARR, J_STR, J_OTHER };

typedef struct jv jv_t;
typedef struct jmember {
    char *key; /* NULL in arrays */
    size_t klen;
    jv_t *val;
} jmember_t;

struct jv {
    int kind;
    char *s; /* J_STR / J_OTHER text */
    size_t len;
    jmember_t *m;
    size_t n, cap;
};

typedef struct jreader {
    const char *p, *end;
    const char *error;
} jreader_t;

static void jv_free(jv_t *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        free(v->m[i].key);
        jv_free(v->m[i].val);
    }
    free(v->m);
    free(v->s);
    free(v);
}

static void jskip(jreader_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int jhex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static void jutf8(plume_buf_t *b, uint32_t cp)
{
    if (cp < 0x80) {
        plume_buf_append_byte(b, (uint8_t)cp);
    } else if (cp < 0x800) {
        plume_buf_append_byte(b, (uint8_t)(0xc0 | (cp >> 6)));
        plume_buf_append_byte(b, (uint8_t)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        plume_buf_append_byte(b, (uint8_t)(0xe0 | (cp >> 12)));
        plume_buf_append_byte(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        plume_buf_append_byte(b, (uint8_t)(0x80 | (cp & 0x3f)));
    } else {
        plume_buf_append_byte(b, (uint8_t)(0xf0 | (cp >> 18)));
        plume_buf_append_byte(b, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
        plume_buf_append_byte(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        plume_buf_append_byte(b, (uint8_t)(0x80 | (cp & 0x3f)));
    }
}

/* Reads a JSON string at '"' into a malloc'd NUL-terminated copy. */
static char *jstring(jreader_t *r, size_t *len)
{
    plume_buf_t b;
    plume_buf_init(&b, 0);
    r->p++;
    while (r->p < r->end && *r->p != '"') {
        if (*r->p != '\\') {
            plume_buf_append_byte(&b, (uint8_t)*r->p++);
            continue;
        }
        if (r->end - r->p < 2)
            break;
        char c = r->p[1];
        r->p += 2;
        switch (c) {
        case '"': case '\\': case '/': plume_buf_append_byte(&b, (uint8_t)c); break;
        case 'b': plume_buf_append_byte(&b, '\b'); break;
        case 'f': plume_buf_append_byte(&b, '\f'); break;
        case 'n': plume_buf_append_byte(&b, '\n'); break;
        case 'r': plume_buf_append_byte(&b, '\r'); break;
        case 't': plume_buf_append_byte(&b, '\t'); break;
        case 'u': {
            int cp = r->end - r->p >= 4 ? jhex4(r->p) : -1;
            if (cp < 0)
                goto bad;
            r->p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && r->end - r->p >= 6 && r->p[0] == '\\' &&
                r->p[1] == 'u') {
                int lo = jhex4(r->p + 2);
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    r->p += 6;
                }
            }
            jutf8(&b, (uint32_t)cp);
            break;
        }
        default:
            goto bad;
        }
    }
    if (r->p >= r->end)
        goto bad;
    r->p++;
    plume_buf_append_byte(&b, 0);
    *len = b.len - 1;
    return (char *)plume_buf_steal(&b, NULL);
bad:
    r->error = "bad string";
    plume_buf_free(&b);
    return NULL;
}

static jv_t *jvalue(jreader_t *r, int depth)
{
    jskip(r);
    if (r->p >= r->end || depth > 1000) {
        r->error = "unexpected end or too deep";
        return NULL;
    }
    jv_t *v = calloc(1, sizeof(*v));
    char c = *r->p;
    if (c == '"') {
        v->kind = J_STR;
        if (!(v->s = jstring(r, &v->len)))
            goto bad;
        return v;
    }
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        v->kind = c == '{' ? J_OBJ : J_ARR;
        r->p++;
        jskip(r);
        if (r->p < r->end && *r->p == close) {
            r->p++;
            return v;
        }
        for (;;) {
            jmember_t m = {0};
            jskip(r);
            if (v->kind == J_OBJ) {
                if (r->p >= r->end || *r->p != '"' || !(m.key = jstring(r, &m.klen)))
                    goto bad;
                jskip(r);
                if (r->p >= r->end || *r->p != ':') {
                    free(m.key);
                    goto bad;
                }
                r->p++;
            }
            if (!(m.val = jvalue(r, depth + 1))) {
                free(m.key);
                goto bad;
            }
            if (v->n == v->cap) {
                v->cap = v->cap ? v->cap * 2 : 8;
                v->m = realloc(v->m, v->cap * sizeof(*v->m));
            }
            v->m[v->n++] = m;
            jskip(r);
            if (r->p < r->end && *r->p == ',') {
                r->p++;
                continue;
            }
            if (r->p < r->end && *r->p == close) {
                r->p++;
                return v;
            }
            goto bad;
        }
    }
    /* numbers, true, false, null: kept as text */
    const char *s = r->p;
    while (r->p < r->end && strchr("0123456789+-.eEtruefalsn", *r->p))
        r->p++;
    if (r->p == s)
        goto bad;
    v->kind = J_OTHER;
    v->len = (size_t)(r->p - s);
    v->s = strndup(s, v->len);
    return v;
bad:
    if (!r->error)
        r->error = "syntax error";
    jv_free(v);
    return NULL;
}

static jv_t *jparse(const char *text, size_t len, const char **error)
{
    jreader_t r = {text, text + len, NULL};
    jv_t *v = jvalue(&r, 0);
    if (v) {
        jskip(&r);
        if (r.p != r.end) {
            r.error = "trailing data";
            jv_free(v);
            v = NULL;
        }
    }
    *error = r.error;
    return v;
}

/* ------------------------------------------------------------ comparison ---- */

static const jv_t *jget(const jv_t *obj, const char *key, size_t klen)
{
    for (size_t i = 0; i < obj->n; i++)
        if (obj->m[i].klen == klen && memcmp(obj->m[i].key, key, klen) == 0)
            return obj->m[i].val;
    return NULL;
}

/* A tagged scalar is an object with exactly "type" and "value", both strings
 * (a TOML table with those keys would have objects as their values). */
static bool is_tagged(const jv_t *v, const jv_t **type, const jv_t **value)
{
    if (v->kind != J_OBJ || v->n != 2)
        return false;
    *type = jget(v, "type", 4);
    *value = jget(v, "value", 5);
    return *type && *value && (*type)->kind == J_STR && (*value)->kind == J_STR;
}

static bool parse_float(const char *s, double *out)
{
    if (!strcmp(s, "nan") || !strcmp(s, "+nan") || !strcmp(s, "-nan")) {
        *out = NAN;
        return true;
    }
    if (!strcmp(s, "inf") || !strcmp(s, "+inf")) {
        *out = INFINITY;
        return true;
    }
    if (!strcmp(s, "-inf")) {
        *out = -INFINITY;
        return true;
    }
    char *end;
    *out = strtod(s, &end);
    return *s && *end == '\0';
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool num_at(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* Reads a date-time of toml-test kind `kind` into seconds and nanoseconds
 * (offsets applied, so equal instants compare equal). */
static bool parse_datetime(const char *kind, const char *s, int64_t *secs, int64_t *nanos)
{
    bool date = strcmp(kind, "time-local") != 0;
    bool time = strcmp(kind, "date-local") != 0;
    bool offset = strcmp(kind, "datetime") == 0;
    int y = 1970, mo = 1, d = 1, h = 0, mi = 0, se = 0;
    const char *p = s;
    *nanos = 0;
    if (date) {
        if (!num_at(&p, 4, &y) || *p++ != '-' || !num_at(&p, 2, &mo) || *p++ != '-' ||
            !num_at(&p, 2, &d))
            return false;
        if (time && *p != 'T' && *p != 't' && *p != ' ')
            return false;
        if (time)
            p++;
    }
    if (time) {
        if (!num_at(&p, 2, &h) || *p++ != ':' || !num_at(&p, 2, &mi) || *p++ != ':' ||
            !num_at(&p, 2, &se))
            return false;
        if (*p == '.') {
            p++;
            int64_t scale = 100000000;
            if (*p < '0' || *p > '9')
                return false;
            for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
                *nanos += (*p - '0') * scale;
        }
    }
    int64_t off = 0;
    if (offset) {
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (!num_at(&p, 2, &oh) || *p++ != ':' || !num_at(&p, 2, &om))
                return false;
            off = sign * (oh * 3600 + om * 60);
        } else {
            return false;
        }
    }
    if (*p)
        return false;
    *secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
    return true;
}

/* Compares two tagged scalars; writes a reason on mismatch. */
static bool scalar_equal(const jv_t *wt, const jv_t *wv, const jv_t *gt, const jv_t *gv,
                         char *why, size_t n)
{
    if (strcmp(wt->s, gt->s) != 0) {
        snprintf(why, n, "type %s, want %s", gt->s, wt->s);
        return false;
    }
    const char *t = wt->s;
    bool eq;
    if (!strcmp(t, "integer")) {
        char *e1, *e2;
        errno = 0;
        long long a = strtoll(wv->s, &e1, 10), b = strtoll(gv->s, &e2, 10);
        eq = !errno && !*e1 && !*e2 && a == b;
    } else if (!strcmp(t, "float")) {
        double a, b;
        eq = parse_float(wv->s, &a) && parse_float(gv->s, &b) &&
             ((isnan(a) && isnan(b)) || a == b);
    } else if (!strcmp(t, "datetime") || !strcmp(t, "datetime-local") ||
               !strcmp(t, "date-local") || !strcmp(t, "time-local")) {
        int64_t s1, n1, s2, n2;
        eq = parse_datetime(t, wv->s, &s1, &n1) && parse_datetime(t, gv->s, &s2, &n2) &&
             s1 == s2 && n1 == n2;
    } else if (!strcmp(t, "string") || !strcmp(t, "bool")) {
        eq = wv->len == gv->len && memcmp(wv->s, gv->s, wv->len) == 0;
    } else {
        snprintf(why, n, "unknown type '%s'", t);
        return false;
    }
    if (!eq)
        snprintf(why, n, "%s value '%.60s', want '%.60s'", t, gv->s, wv->s);
    return eq;
}

/* Compares expected `w` with produced `g`; on mismatch writes "path: reason". */
static bool tree_equal(const jv_t *w, const jv_t *g, plume_buf_t *path, char *why, size_t n)
{
    const jv_t *wt, *wv, *gt, *gv;
    size_t mark = path->len;
    bool ok = true;
    if (is_tagged(w, &wt, &wv)) {
        if (!is_tagged(g, &gt, &gv)) {
            snprintf(why, n, "%.*s: got a table or array, want a %s", (int)path->len,
                     (const char *)path->data, wt->s);
            return false;
        }
        char reason[200];
        if (!scalar_equal(wt, wv, gt, gv, reason, sizeof(reason))) {
            snprintf(why, n, "%.*s: %s", (int)path->len, (const char *)path->data, reason);
            return false;
        }
        return true;
    }
    if (w->kind == J_STR || w->kind == J_OTHER) {
        if (w->kind != g->kind || w->len != g->len || memcmp(w->s, g->s, w->len) != 0) {
            snprintf(why, n, "%.*s: untagged value differs", (int)path->len,
                     (const char *)path->data);
            return false;
        }
        return true;
    }
    if (w->kind != g->kind || w->n != g->n || is_tagged(g, &gt, &gv)) {
        snprintf(why, n, "%.*s: structure differs (%zu vs %zu members)", (int)path->len,
                 (const char *)path->data, g->n, w->n);
        return false;
    }
    for (size_t i = 0; ok && i < w->n; i++) {
        const jv_t *gi;
        if (w->kind == J_OBJ) {
            plume_buf_printf(path, ".%.*s", (int)w->m[i].klen, w->m[i].key);
            gi = jget(g, w->m[i].key, w->m[i].klen);
            if (!gi) {
                snprintf(why, n, "%.*s: missing", (int)path->len, (const char *)path->data);
                ok = false;
            }
        } else {
            plume_buf_printf(path, "[%zu]", i);
            gi = g->m[i].val;
        }
        if (ok)
            ok = tree_equal(w->m[i].val, gi, path, why, n);
        path->len = mark;
    }
    return ok;
}

/* ------------------------------------------------------------ the suite ---- */

typedef struct file_list {
    char **paths;
    size_t n, cap;
} file_list_t;

/* Collects every *.toml below `dir` (recursively). */
static void collect(const char *dir, file_list_t *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            collect(path, out);
            continue;
        }
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 5, ".toml") != 0)
            continue;
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 256;
            out->paths = realloc(out->paths, out->cap * sizeof(*out->paths));
        }
        out->paths[out->n++] = strdup(path);
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_files(const char *rel, file_list_t *out)
{
    memset(out, 0, sizeof(*out));
    collect(plume_test_conformance_path(rel), out);
    if (out->n)
        qsort(out->paths, out->n, sizeof(*out->paths), cmp_str);
}

static void list_free(file_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
}

static const char *short_name(const char *path)
{
    const char *s = strstr(path, SUITE_DIR "/");
    return s ? s + strlen(SUITE_DIR) + 1 : path;
}

/* One valid case: parse, render, compare. Returns true on success. */
static bool run_valid(const char *path)
{
    size_t tlen, jlen;
    char *toml = plume_test_read_file(path, &tlen);
    char jpath[4096];
    snprintf(jpath, sizeof(jpath), "%.*s.json", (int)(strlen(path) - 5), path);
    char *json = plume_test_read_file(jpath, &jlen);
    bool ok = false;
    plume_toml_value_t *root = NULL;
    jv_t *want = NULL, *got = NULL;
    plume_buf_t out, pathbuf;
    plume_buf_init(&out, 0);
    plume_buf_init(&pathbuf, 0);
    const char *jerr;
    if (!toml || !json) {
        print_message("FAIL %s: cannot read the .toml or .json file\n", short_name(path));
        goto done;
    }
    plume_toml_error_t err;
    root = plume_toml_parse(toml, tlen, &err);
    if (!root) {
        print_message("FAIL %s: rejected at %d:%d: %s\n", short_name(path), err.pos.line,
                      err.pos.col, err.message);
        goto done;
    }
    render(&out, root);
    got = jparse((const char *)out.data, out.len, &jerr);
    if (!got) {
        print_message("FAIL %s: rendered JSON does not parse (%s)\n", short_name(path), jerr);
        goto done;
    }
    want = jparse(json, jlen, &jerr);
    if (!want) {
        print_message("FAIL %s: expected JSON does not parse (%s)\n", short_name(path), jerr);
        goto done;
    }
    char why[512];
    plume_buf_append_str(&pathbuf, "$");
    if (!tree_equal(want, got, &pathbuf, why, sizeof(why))) {
        print_message("FAIL %s: %s\n", short_name(path), why);
        goto done;
    }
    ok = true;
done:
    jv_free(want);
    jv_free(got);
    plume_buf_free(&out);
    plume_buf_free(&pathbuf);
    plume_toml_free(root);
    free(toml);
    free(json);
    return ok;
}

/* One invalid case: must be rejected, with a message and a position. */
static bool run_invalid(const char *path)
{
    size_t len;
    char *toml = plume_test_read_file(path, &len);
    if (!toml) {
        print_message("FAIL %s: cannot read file\n", short_name(path));
        return false;
    }
    plume_toml_error_t err;
    plume_toml_value_t *root = plume_toml_parse(toml, len, &err);
    bool ok = true;
    if (root) {
        print_message("FAIL %s: accepted, but it is invalid TOML\n", short_name(path));
        plume_toml_free(root);
        ok = false;
    } else if (err.message[0] == '\0' || err.pos.line < 1 || err.pos.col < 1) {
        print_message("FAIL %s: rejected without a message or position (%d:%d '%s')\n",
                      short_name(path), err.pos.line, err.pos.col, err.message);
        ok = false;
    } else if (getenv("PLUME_TOML_VERBOSE")) {
        print_message("ok   %s: %d:%d: %s\n", short_name(path), err.pos.line, err.pos.col,
                      err.message);
    }
    free(toml);
    return ok;
}

static void toml_test_suite(void **state)
{
    (void)state;
    file_list_t valid, invalid;
    list_files(SUITE_DIR "/valid", &valid);
    list_files(SUITE_DIR "/invalid", &invalid);
    size_t valid_ok = 0, invalid_ok = 0;
    for (size_t i = 0; i < valid.n; i++)
        valid_ok += run_valid(valid.paths[i]);
    for (size_t i = 0; i < invalid.n; i++)
        invalid_ok += run_invalid(invalid.paths[i]);
    print_message("toml-test: %zu valid passed, %zu invalid rejected (of %zu and %zu)\n",
                  valid_ok, invalid_ok, valid.n, invalid.n);
    size_t nvalid = valid.n, ninvalid = invalid.n;
    list_free(&valid);
    list_free(&invalid);
    /* The suite must have been found: 210 valid and 499 invalid cases. */
    assert_true(nvalid >= 200);
    assert_true(ninvalid >= 400);
    assert_int_equal(valid_ok, nvalid);
    assert_int_equal(invalid_ok, ninvalid);
}

/* The renderer and comparator themselves: a mismatch must be detected. */
static void comparator_detects_differences(void **state)
{
    (void)state;
    static const struct {
        const char *want, *got;
        bool equal;
    } cases[] = {
        {"{\"a\":{\"type\":\"integer\",\"value\":\"1\"}}",
         "{\"a\":{\"type\":\"integer\",\"value\":\"1\"}}", true},
        {"{\"a\":{\"type\":\"integer\",\"value\":\"1\"}}",
         "{\"a\":{\"type\":\"integer\",\"value\":\"2\"}}", false},
        {"{\"a\":{\"type\":\"float\",\"value\":\"1.5\"}}",
         "{\"a\":{\"type\":\"float\",\"value\":\"1.50\"}}", true},
        {"{\"a\":{\"type\":\"float\",\"value\":\"nan\"}}",
         "{\"a\":{\"type\":\"float\",\"value\":\"nan\"}}", true},
        {"{\"a\":{\"type\":\"float\",\"value\":\"inf\"}}",
         "{\"a\":{\"type\":\"float\",\"value\":\"-inf\"}}", false},
        {"{\"a\":{\"type\":\"datetime\",\"value\":\"1979-05-27T07:32:00Z\"}}",
         "{\"a\":{\"type\":\"datetime\",\"value\":\"1979-05-27T00:32:00-07:00\"}}", true},
        {"{\"a\":{\"type\":\"time-local\",\"value\":\"07:32:00.600\"}}",
         "{\"a\":{\"type\":\"time-local\",\"value\":\"07:32:00.6\"}}", true},
        {"{\"a\":{\"type\":\"string\",\"value\":\"x\"}}",
         "{\"a\":{\"type\":\"integer\",\"value\":\"x\"}}", false},
        {"{\"a\":[1,2]}", "{\"a\":[2,1]}", false},
        {"{\"a\":{},\"b\":{}}", "{\"b\":{},\"a\":{}}", true},
        {"{\"a\":{}}", "{\"a\":{},\"b\":{}}", false},
        {"{\"\\u0000\":{}}", "{\"\\u0000\":{}}", true},
        {"{\"\\u0000\":{}}", "{\"\":{}}", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *e1, *e2;
        jv_t *w = jparse(cases[i].want, strlen(cases[i].want), &e1);
        jv_t *g = jparse(cases[i].got, strlen(cases[i].got), &e2);
        assert_non_null(w);
        assert_non_null(g);
        plume_buf_t path;
        plume_buf_init(&path, 0);
        plume_buf_append_str(&path, "$");
        char why[256];
        bool eq = tree_equal(w, g, &path, why, sizeof(why));
        if (eq != cases[i].equal)
            print_message("case %zu: %s vs %s\n", i, cases[i].want, cases[i].got);
        assert_true(eq == cases[i].equal);
        plume_buf_free(&path);
        jv_free(w);
        jv_free(g);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(comparator_detects_differences),
        cmocka_unit_test(toml_test_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
