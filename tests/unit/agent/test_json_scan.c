/* SPDX-License-Identifier: MIT */
/* JSON validation without conversion (json_scan.c): plume_json_validate and
 * plume_json_object_scan give the same verdict, error status, offset and
 * message as the converter (plume_json_to_mp_opts) and the walker
 * (plume_json_object_walk) on every error case here, on every JSONTestSuite
 * file, on every fuzz seed and on random mutations, under several depth
 * limits and both UTF-8 modes; the members the scanner reports are the
 * walker's; its PLUME_JSON_SCAN_* flags; and plume_json_unescape decodes as
 * the converter does. The fast path's own tests are in test_json_scan_fast.c. */
#include "test_support.h"
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_parse.h"
#include "json_parse_int.h"
#include "mp.h"
#include "json_span_record.h"

/* Converts json and reads back its single top-level value. */
static plume_mp_value_t one_value(const char *json, plume_buf_t *out)
{
    plume_json_error_t err;
    plume_mp_reader_t r;
    plume_mp_value_t v;
    plume_buf_reset(out);
    if (!plume_json_to_mp(json, strlen(json), out, &err))
        fail_msg("%s: %s", json, err.msg);
    plume_mp_reader_init(&r, out->data, out->len);
    assert_true(plume_mp_read(&r, &v));
    return v;
}

typedef struct walk_rec {
    int n;
    const char *raws[64];
    size_t raw_lens[64];
    size_t key_lens[64];
    char *keys[64];
} walk_rec_t;

static bool rec_walk(void *arg, const plume_buf_t *out, const plume_json_member_t *m)
{
    (void)out;
    walk_rec_t *r = arg;
    if (r->n < 64) {
        r->keys[r->n] = malloc(m->key_len + 1);
        memcpy(r->keys[r->n], m->key, m->key_len);
        r->key_lens[r->n] = m->key_len;
        r->raws[r->n] = m->raw;
        r->raw_lens[r->n] = m->raw_len;
    }
    r->n++;
    return true;
}

static void same_error(const char *what, const char *doc, size_t n, const plume_json_error_t *a,
                       const plume_json_error_t *b)
{
    if (a->status != b->status || a->offset != b->offset || strcmp(a->msg, b->msg) != 0)
        fail_msg("%s on %.*s: converter says %d@%zu '%s', validator %d@%zu '%s'", what,
                 (int)(n > 80 ? 80 : n), doc, a->status, a->offset, a->msg, b->status, b->offset,
                 b->msg);
}

/* The validator and the converter agree on s[0..n) under opts; so do the
 * object scanner and the walker, member by member. Returns the verdict. */
static bool agree_opts(const char *s, size_t n, const plume_json_opts_t *opts, plume_buf_t *out)
{
    plume_json_error_t ea, eb;
    plume_buf_reset(out);
    bool conv = plume_json_to_mp_opts(s, n, out, opts, &ea);
    unsigned flags = 99;
    bool val = plume_json_validate(s, n, opts, &flags, &eb);
    if (conv != val)
        fail_msg("verdicts differ on %.*s: converter %d, validator %d (%s / %s)",
                 (int)(n > 80 ? 80 : n), s, conv, val, ea.msg, eb.msg);
    if (conv)
        assert_int_equal(eb.status, PLUME_JSON_OK);
    else
        same_error("document", s, n, &ea, &eb);

    walk_rec_t w = {0};
    span_rec_t sp = {0};
    uint32_t kept;
    plume_json_scan_info_t info;
    plume_buf_reset(out);
    bool walk = plume_json_object_walk(s, n, out, opts, rec_walk, &w, &kept, &ea);
    bool scan = plume_json_object_scan(s, n, opts, rec_span, &sp, &info, &eb);
    if (walk != scan)
        fail_msg("object verdicts differ on %.*s: walker %d, scanner %d (%s / %s)",
                 (int)(n > 80 ? 80 : n), s, walk, scan, ea.msg, eb.msg);
    if (!walk)
        same_error("object", s, n, &ea, &eb);
    /* members reported before a late error are reported by both */
    assert_int_equal(w.n, sp.n);
    for (int i = 0; i < w.n && i < 64; i++) {
        assert_int_equal(w.key_lens[i], sp.key_lens[i]);
        assert_memory_equal(w.keys[i], sp.keys[i], w.key_lens[i]);
        assert_ptr_equal(w.raws[i], sp.raws[i]);
        assert_int_equal(w.raw_lens[i], sp.raw_lens[i]);
        free(w.keys[i]);
    }
    if (scan) {
        assert_int_equal(info.members, kept);
        assert_int_equal(s[info.obj_off], '{');
        assert_int_equal(s[info.obj_off + info.obj_len - 1], '}');
        assert_int_equal(info.flags, flags); /* same document, same facts */
    }
    rec_free(&sp);
    return conv;
}

static bool agree(const char *s, size_t n, plume_buf_t *out)
{
    static const plume_json_opts_t variants[] = {
        {.max_depth = 0}, {.max_depth = 2}, {.max_depth = 63, .assume_utf8 = true},
        {.max_depth = 1},
    };
    bool v = agree_opts(s, n, NULL, out);
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
        agree_opts(s, n, &variants[i], out);
    return v;
}

static void validate_matches_errors(void **state)
{
    (void)state;
    static const char *docs[] = {
        "", "   ", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{\"a\":1", "[1] x", "tru", "trUe",
        "\"abc", "[\"a\\\"]", "01", "-", "1.", "1e+", "+1", ".5", "NaN", "\"\\x\"", "\"\\u12\"",
        "\"\\ud800\\u1\"", "\"a\tb\"", "\"\xff\"", "\"\xc3\"", "[\x01]", "\xef\xbb\xbf{}", "{}\f",
        "{'a':1}", "{\"a\\q\":1}", "{\"a\":\"\\q unterminated", "[\"\\u00e9\xff\"]", "-01", "-a",
        "1e", "1E-", "0.e1", "[1,]", "{\"a\":1 \"b\":2}", "{\"a\"}", "nul", "falsy", "[[[]]",
        "{\"a\":{\"b\":[1,{\"c\":\"d\\\"}]}}", "\"\\ud800\\udc00\\ud800\"", "{\"\\ud800\":1}",
    };
    plume_buf_t out;
    plume_buf_init(&out, 0);
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
        agree(docs[i], strlen(docs[i]), &out);
    /* deep nesting: the depth error, not a stack overflow */
    char *huge = malloc(100001);
    memset(huge, '[', 100000);
    assert_false(agree(huge, 100000, &out));
    memset(huge, '{', 1);
    memcpy(huge + 1, "\"a\":", 4);
    assert_false(agree(huge, 100000, &out));
    free(huge);
    plume_buf_free(&out);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs agree() on every file of dir; y_/n_ files must be accepted/refused. */
static int agree_on_dir(const char *dir, bool suite)
{
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s", dir);
    char *names[2048];
    size_t count = 0;
    struct dirent *de;
    while ((de = readdir(d)) && count < 2048)
        if (de->d_name[0] != '.')
            names[count++] = strdup(de->d_name);
    closedir(d);
    qsort(names, count, sizeof(names[0]), cmp_names);
    plume_buf_t out;
    plume_buf_init(&out, 0);
    for (size_t i = 0; i < count; i++) {
        char path[4200];
        size_t len;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        char *data = plume_test_read_file(path, &len);
        assert_non_null(data);
        bool ok = agree(data, len, &out);
        if (suite && names[i][0] == 'y' && !ok)
            fail_msg("%s: rejected", names[i]);
        if (suite && names[i][0] == 'n' && ok)
            fail_msg("%s: accepted", names[i]);
        free(data);
        free(names[i]);
    }
    plume_buf_free(&out);
    return (int)count;
}

static void validate_agrees_on_json_test_suite(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", plume_test_conformance_path("json/test_parsing"));
    assert_true(agree_on_dir(dir, true) > 300);
}

static void validate_agrees_on_fuzz_corpora(void **state)
{
    (void)state;
    static const char *dirs[] = {"tests/fuzz/corpus/fuzz_json_line",
                                 "tests/fuzz/corpus/fuzz_logfmt", "tests/fuzz/corpus/fuzz_toml"};
    int files = 0;
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", plume_test_source_path(dirs[i]));
        files += agree_on_dir(dir, false);
    }
    assert_true(files >= 30);
}

/* Random mutations of a document exercising every construct. */
static void validate_agrees_on_mutations(void **state)
{
    (void)state;
    const char *base = " {\"a\":[1,-2.5e+3,0.0001,true,false,null],"
                       "\"b\\u00e9\":{\"c\":\"d\\n\\\"\\ud83d\\ude00\"},"
                       "\"\":\"caf\xc3\xa9 \xe2\x82\xac\",\"n\":-0,\"x\":[[[{}]]],\"e\":1E400} ";
    size_t n = strlen(base);
    char *doc = malloc(n);
    plume_buf_t out;
    plume_buf_init(&out, 0);
    assert_true(agree(base, n, &out));
    uint64_t x = 12345;
    static const char alphabet[] = "{}[]\":,\\u0123456789eE+-.tfnrl \t\n\x01\x7f\xc3\xa9\xff";
    for (int i = 0; i < 30000; i++) {
        memcpy(doc, base, n);
        size_t len = n;
        for (int k = 0; k < 1 + i % 4; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (x >> 33) % n;
            if ((x >> 20) % 7 == 0)
                len = at; /* cut */
            else
                doc[at] = alphabet[(x >> 40) % (sizeof(alphabet) - 1)];
        }
        agree(doc, len, &out);
    }
    free(doc);
    plume_buf_free(&out);
}

static void validate_flags(void **state)
{
    (void)state;
    static const struct {
        const char *doc;
        unsigned flags;
    } cases[] = {
        {"[1, 1e300, -1e-300, 1.5e300, 0.1e301, 100e298, 0, 0e0, 123456789]", 0},
        {"\"\\ud83d\\ude00 \\u00e9\"", 0},
        {"\"\\ud800\"", PLUME_JSON_SCAN_LONE_SURROGATE},
        {"{\"\\udfff\":1}", PLUME_JSON_SCAN_LONE_SURROGATE},
        {"\"\\ud800\\u0041\"", PLUME_JSON_SCAN_LONE_SURROGATE},
        {"1e301", PLUME_JSON_SCAN_EXTREME_NUMBER},
        {"-1e-301", PLUME_JSON_SCAN_EXTREME_NUMBER},
        {"10e300", PLUME_JSON_SCAN_EXTREME_NUMBER},
        {"0.001e-298", PLUME_JSON_SCAN_EXTREME_NUMBER},
        {"0e400", PLUME_JSON_SCAN_EXTREME_NUMBER},
        {"[\"\\udc00\", 1e999]", PLUME_JSON_SCAN_LONE_SURROGATE | PLUME_JSON_SCAN_EXTREME_NUMBER},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned flags = 99;
        plume_json_error_t err;
        assert_true(plume_json_validate(cases[i].doc, strlen(cases[i].doc), NULL, &flags, &err));
        if (flags != cases[i].flags)
            fail_msg("%s: flags %u, want %u", cases[i].doc, flags, cases[i].flags);
    }
    /* 400 integer digits: about 1e399 */
    char big[402];
    memset(big, '9', 400);
    big[400] = '\0';
    unsigned flags;
    assert_true(plume_json_validate(big, 400, NULL, &flags, NULL));
    assert_int_equal(flags, PLUME_JSON_SCAN_EXTREME_NUMBER);
    assert_true(plume_json_validate(big, 300, NULL, &flags, NULL));
    assert_int_equal(flags, 0);
}

static void object_scan_reports(void **state)
{
    (void)state;
    plume_json_scan_info_t info;
    plume_json_error_t err;
    span_rec_t r = {0};
    const char *doc =
        " \t{ \"a\" : 1.50 , \"b\\u00e9\":\"x\\\"y\", \"c\":[1,{\"d\":2}],\"e\":\"plain\"}\n";
    assert_true(plume_json_object_scan(doc, strlen(doc), NULL, rec_span, &r, &info, &err));
    assert_int_equal(info.obj_off, 2);
    assert_int_equal(info.obj_len, strlen(doc) - 3);
    assert_int_equal(info.members, 4);
    assert_int_equal(info.flags, 0);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.key_lens[1], 3);
    assert_memory_equal(r.keys[1], "b\xc3\xa9", 3);
    assert_int_equal(r.raw_lens[0], 4);
    assert_memory_equal(r.raws[0], "1.50", 4);
    assert_memory_equal(r.raws[1], "\"x\\\"y\"", 6);
    assert_true(r.raw_escaped[1]);
    assert_false(r.raw_escaped[3]);
    assert_memory_equal(r.raws[2], "[1,{\"d\":2}]", 11);
    rec_free(&r);

    /* the callback can stop the scan; fn may be NULL; info may be NULL */
    stop_ctx_t c = {.stop_at = 2};
    assert_false(plume_json_object_scan(doc, strlen(doc), NULL, stop_span, &c, &info, &err));
    assert_int_equal(err.status, PLUME_JSON_ESTOPPED);
    assert_int_equal(c.calls, 2);
    assert_true(c.key_escaped);
    assert_true(c.raw_escaped);
    assert_true(plume_json_object_scan(doc, strlen(doc), NULL, NULL, NULL, NULL, &err));
    assert_true(plume_json_object_scan("{}", 2, NULL, NULL, NULL, &info, NULL));
    assert_int_equal(info.members, 0);
    assert_int_equal(info.obj_len, 2);

    /* a long escaped key is decoded whole */
    char longkey[700];
    int n = snprintf(longkey, sizeof(longkey), "{\"%0300d\\n%0300d\":0}", 0, 0);
    c = (stop_ctx_t){.stop_at = -1};
    assert_true(plume_json_object_scan(longkey, (size_t)n, NULL, stop_span, &c, NULL, &err));
    assert_int_equal(c.key_len, 601);
    assert_int_equal(c.key[300], '\n');
    assert_true(c.key_escaped);
}

static void unescape_matches_converter(void **state)
{
    (void)state;
    static const char *strs[] = {
        "", "plain", "\\\"\\\\\\/\\b\\f\\n\\r\\t", "caf\\u00e9", "\\u20AC", "\\ud83d\\ude00",
        "a\\u0000b", "\\ud800", "\\udc00x", "\\ud800\\u0041", "\\ud800\\ud800\\udc00",
        "\xc3\xa9\\n\xe2\x82\xac", "x\\\\u0041",
    };
    plume_buf_t out;
    plume_buf_init(&out, 0);
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        size_t n = strlen(strs[i]);
        char *json = malloc(n + 3);
        json[0] = '"';
        memcpy(json + 1, strs[i], n);
        json[n + 1] = '"';
        json[n + 2] = '\0';
        plume_mp_value_t v = one_value(json, &out);
        char *dst = malloc(n + 1);
        size_t got = plume_json_unescape(strs[i], n, dst);
        assert_true(got <= n);
        assert_int_equal(got, v.len);
        assert_memory_equal(dst, v.s, got);
        free(dst);
        free(json);
    }
    /* not escapes: copied as they are */
    char dst[16];
    assert_int_equal(plume_json_unescape("a\\qb\\", 5, dst), 5);
    assert_memory_equal(dst, "a\\qb\\", 5);
    assert_int_equal(plume_json_unescape("\\u12", 4, dst), 4);
    plume_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(validate_matches_errors),
        cmocka_unit_test(validate_agrees_on_json_test_suite),
        cmocka_unit_test(validate_agrees_on_fuzz_corpora),
        cmocka_unit_test(validate_agrees_on_mutations),
        cmocka_unit_test(validate_flags),
        cmocka_unit_test(object_scan_reports),
        cmocka_unit_test(unescape_matches_converter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
