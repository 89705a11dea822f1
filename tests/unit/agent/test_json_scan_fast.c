/* SPDX-License-Identifier: MIT */
/* The object scanner's fast path (json_scan_fast.c) against the exact
 * scanner alone (plume_json_scan_force_exact): same return value, same
 * callback calls with the same spans, same info and error, under every
 * option set and with the callback stopping at each member, on hand-picked
 * lines (every number shape, literals, whitespace, escapes, UTF-8, NUL
 * bytes, trailing garbage, quotes and backslashes around 64-byte block
 * boundaries, lengths 0..200) and on generated and mutated lines; and the
 * fast path does answer the lines it is meant for. Every comparison is made
 * with both of the fast path's line classifiers: the AVX2 one (where the CPU
 * has AVX2, as the agent uses it) and the SSE2 one it falls back to
 * (plume_json_scan_fast_force_sse2). */
#include "test_support.h"
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_parse.h"
#include "json_parse_int.h"
#include "json_span_record.h"

/* The fast path exists on x86-64 (SSE2) only; elsewhere there is nothing to test. */

#ifdef __SSE2__

/* How scan_once() scans. */
enum { EXACT, FAST, FAST_SSE2 };

/* Everything observable about one plume_json_object_scan() call: the
 * callback's calls are folded into a hash (key bytes and length, the raw
 * span's offset and length, both escape flags, in order). */
typedef struct scan_seen {
    bool ok;
    int calls;
    uint64_t hash;
    plume_json_scan_info_t info;
    plume_json_error_t err;
} scan_seen_t;

typedef struct scan_ctx {
    const char *base;
    int calls, stop_at;
    uint64_t hash;
} scan_ctx_t;

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static bool hash_span(void *arg, const plume_json_span_t *m)
{
    scan_ctx_t *c = arg;
    size_t off = (size_t)(m->raw - c->base);
    uint8_t flags = (uint8_t)(m->key_escaped | m->raw_escaped << 1);
    c->calls++;
    c->hash = mix(c->hash, m->key, m->key_len);
    c->hash = mix(c->hash, &m->key_len, sizeof(m->key_len));
    c->hash = mix(c->hash, &off, sizeof(off));
    c->hash = mix(c->hash, &m->raw_len, sizeof(m->raw_len));
    c->hash = mix(c->hash, &flags, 1);
    return c->calls != c->stop_at;
}

/* Scans s[0..n) with the exact scanner alone or with the fast path. info
 * and err start filled with the same junk, so bytes either path leaves
 * alone compare equal too. use_fn false passes no callback. */
static void scan_once(const char *s, size_t n, const plume_json_opts_t *opts, int how,
                      bool use_fn, int stop_at, scan_seen_t *r)
{
    scan_ctx_t c = {.base = s, .stop_at = stop_at, .hash = 0xcbf29ce484222325ull};
    memset(r, 0x5a, sizeof(*r));
    plume_json_scan_force_exact(how == EXACT);
    plume_json_scan_fast_force_sse2(how == FAST_SSE2);
    r->ok = plume_json_object_scan(s, n, opts, use_fn ? hash_span : NULL, &c, &r->info, &r->err);
    plume_json_scan_force_exact(false);
    plume_json_scan_fast_force_sse2(false);
    r->calls = c.calls;
    r->hash = c.hash;
}

static void fail_diff(const char *what, const char *s, size_t n, const scan_seen_t *e,
                      const scan_seen_t *f)
{
    char shown[200];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 5 < sizeof(shown); i++) {
        unsigned char ch = (unsigned char)s[i];
        k += (size_t)snprintf(shown + k, sizeof(shown) - k, ch >= 0x20 && ch < 0x7f ? "%c" : "\\x%02x",
                              ch);
    }
    fail_msg("fast path differs (%s) on [%s] (%zu bytes): exact ok=%d calls=%d err=%d@%zu '%s', "
             "fast ok=%d calls=%d err=%d@%zu '%s'",
             what, shown, n, e->ok, e->calls, e->err.status, e->err.offset, e->err.msg, f->ok,
             f->calls, f->err.status, f->err.offset, f->err.msg);
}

/* The fast path (with either classifier) and the exact scanner agree on
 * everything about s[0..n) under opts, with the callback stopping at
 * stop_at (0: never) or absent. */
static void same_scan_stop(const char *s, size_t n, const plume_json_opts_t *opts, bool use_fn,
                           int stop_at, int *calls)
{
    scan_seen_t e, f;
    scan_once(s, n, opts, EXACT, use_fn, stop_at, &e);
    for (int how = FAST; how <= FAST_SSE2; how++) {
        scan_once(s, n, opts, how, use_fn, stop_at, &f);
        const char *path = how == FAST ? "" : ", SSE2";
        char what[40];
        if (e.ok != f.ok || e.calls != f.calls || e.hash != f.hash) {
            snprintf(what, sizeof(what), "verdict or members%s", path);
            fail_diff(what, s, n, &e, &f);
        }
        if (e.info.obj_off != f.info.obj_off || e.info.obj_len != f.info.obj_len ||
            e.info.members != f.info.members || e.info.flags != f.info.flags) {
            snprintf(what, sizeof(what), "info%s", path);
            fail_diff(what, s, n, &e, &f);
        }
        if (e.err.status != f.err.status || e.err.offset != f.err.offset ||
            memcmp(e.err.msg, f.err.msg, sizeof(e.err.msg)) != 0) {
            snprintf(what, sizeof(what), "error%s", path);
            fail_diff(what, s, n, &e, &f);
        }
    }
    if (calls)
        *calls = e.calls;
}

/* ... with the callback stopping at each member in turn, and without one.
 * The line is copied to a heap block of exactly n bytes, so that a read past
 * its end is caught by AddressSanitizer. */
static void same_scan(const char *line, size_t n, const plume_json_opts_t *opts)
{
    char *s = malloc(n ? n : 1);
    memcpy(s, line, n);
    int calls = 0;
    same_scan_stop(s, n, opts, true, 0, &calls);
    same_scan_stop(s, n, opts, false, 0, NULL);
    for (int k = 1; k <= calls && k <= 40; k++)
        same_scan_stop(s, n, opts, true, k, NULL);
    free(s);
}

static const plume_json_opts_t fast_variants[] = {
    {.max_depth = 0},
    {.max_depth = 63, .assume_utf8 = true},
    {.max_depth = 1},
    {.max_depth = 2, .assume_utf8 = true},
};

static void same_scan_all(const char *s, size_t n)
{
    same_scan(s, n, NULL);
    for (size_t i = 0; i < sizeof(fast_variants) / sizeof(fast_variants[0]); i++)
        same_scan(s, n, &fast_variants[i]);
}

/* One classifier's answer for fast_answer(). */
static int fast_answer_with(const char *s, size_t n, const plume_json_opts_t *opts, bool sse2)
{
    plume_json_scan_info_t info;
    plume_json_error_t err;
    unsigned long before = plume_json_scan_fast_gave_up;
    plume_json_scan_fast_force_sse2(sse2);
    bool ok = plume_json_scan_fast(s, n, opts, NULL, NULL, &info, &err);
    plume_json_scan_fast_force_sse2(false);
    return plume_json_scan_fast_gave_up != before ? -1 : ok;
}

/* Whether the fast path answers s[0..n) itself (1: valid, 0: not) or
 * gives up (-1), the same with either classifier; from an exact-size heap
 * copy, as above. */
static int fast_answer(const char *line, size_t n, const plume_json_opts_t *opts)
{
    char *s = malloc(n ? n : 1);
    memcpy(s, line, n);
    int r = fast_answer_with(s, n, opts, false);
    int r_sse2 = fast_answer_with(s, n, opts, true);
    free(s);
    if (r != r_sse2)
        fail_msg("the classifiers disagree on [%.*s]: %d, SSE2 %d", (int)n, line, r, r_sse2);
    return r;
}

static const char *const fast_cases[] = {
    /* the benchmark's line, compact and spaced */
    "{\"time\":\"2026-11-21T10:00:00.000499Z\",\"level\":\"info\",\"msg\":\"request completed\","
    "\"service\":\"checkout\",\"host\":\"node-08\",\"path\":\"/api/users/{id}\",\"status\":200,"
    "\"duration_ms\":34.884,\"user_id\":107473,\"trace_id\":\"8b9d2434e465e150bd9c66b3ad3c2d6d\"}",
    "{\"time\": \"2026-11-21T10:00:00Z\", \"level\": \"warn\", \"n\": 12, \"ok\": true}",
    " \t{ \"a\" : 1 ,\n\"b\"\r:\t\"x\" }\n\r ",
    "{}", "{ }", " {}", "{} ", "{\"\":\"\"}", "{\"a\":\"\"}", "{\"\":0}",
    /* numbers of every shape */
    "{\"n\":0}", "{\"n\":-0}", "{\"n\":-0.0}", "{\"n\":7}", "{\"n\":-7}", "{\"n\":123456789}",
    "{\"n\":1234567890123456789012345678901234567890}", "{\"n\":0.5}", "{\"n\":-12.25}",
    "{\"n\":1E-5}", "{\"n\":1e5}", "{\"n\":1e+5}", "{\"n\":2.5E+10}", "{\"n\":1e99}",
    "{\"n\":1e-99}", "{\"n\":0e0}", "{\"n\":1,\"m\":2.125,\"o\":-3e2}",
    "{\"n\":12345678,\"m\":1234567.8,\"o\":0.0000001,\"p\":123456789.123456789}",
    /* literals */
    "{\"t\":true,\"f\":false,\"z\":null}", "{\"t\":true}", "{\"f\":false}", "{\"z\":null}",
    /* duplicate keys, keys that look like structure */
    "{\"a\":1,\"a\":2,\"a\":\"3\"}", "{\"{\":\"}\",\"[\":\"]\",\":\":\",\",\",\":\":\"}",
    /* nested values */
    "{\"a\":{\"b\":[1,2,{\"c\":\"d\"}]},\"e\":[],\"f\":{}}", "{\"a\":[1e400]}",
    "{\"x\":[\"q\",\"r\"],\"y\":\"s\"}",
    /* UTF-8 */
    "{\"caf\xc3\xa9\":\"\xe2\x82\xac\xf0\x9f\x98\x80\"}",
};

static const char *const slow_cases[] = {
    /* escapes, anywhere */
    "{\"a\\\"b\":1}", "{\"a\":\"x\\ny\"}", "{\"a\":\"\\u00e9\"}", "{\"a\":\"\\ud800\"}",
    "{\"a\":[\"\\\\\"]}",
    /* numbers the exact scanner must judge */
    "{\"n\":1e400}", "{\"n\":1e100}", "{\"n\":-1e-301}", "{\"n\":01}", "{\"n\":-}", "{\"n\":1.}",
    "{\"n\":.5}", "{\"n\":1e}", "{\"n\":1e+}", "{\"n\":+1}", "{\"n\":0x10}", "{\"n\":1.5.2}",
    "{\"n\":--1}", "{\"n\":1ee5}",
    /* structure */
    "", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{\"a\" 1}", "{\"a\":1 \"b\":2}",
    "{\"a\":1}}", "{\"a\":1} x", "{\"a\":1}{}", "[1]", "\"a\"", "{\"a\":1", "{\"a\":\"b}",
    "{\"a\":tru}", "{\"a\":truex}", "{\"a\":nul}", "{\"a\":fals}", "{\"a\":True}", "{'a':1}",
    "{\"a\":\"b\"\"c\":1}", "{\"a\"::1}", "{\"a\":1,,\"b\":2}", "{\"a\":[1,}", "{\"a\":{\"b\":1}",
    "x{}", "{}\f", "\xef\xbb\xbf{}",
    /* control and invalid bytes */
    "{\"a\":\"b\tc\"}", "{\"a\tb\":1}", "{\"a\":\x01}", "{\"a\":\"\xff\"}", "{\"a\":\"\xc3\"}",
    "{\"\xed\xa0\x80\":1}", "{\xc3\xa9:1}",
};

/* The fast path answers the lines it is meant for and gives up on the
 * others (which the exact scanner then judges); both agree on all. */
static void fast_path_coverage(void **state)
{
    (void)state;
    plume_json_opts_t lax = {.assume_utf8 = true};
    for (size_t i = 0; i < sizeof(fast_cases) / sizeof(fast_cases[0]); i++) {
        size_t n = strlen(fast_cases[i]);
        if (fast_answer(fast_cases[i], n, NULL) != 1)
            fail_msg("fast path gave up on %s", fast_cases[i]);
        assert_int_equal(fast_answer(fast_cases[i], n, &lax), 1);
        same_scan_all(fast_cases[i], n);
    }
    for (size_t i = 0; i < sizeof(slow_cases) / sizeof(slow_cases[0]); i++) {
        size_t n = strlen(slow_cases[i]);
        if (fast_answer(slow_cases[i], n, NULL) != -1)
            fail_msg("fast path answered %s", slow_cases[i]);
        same_scan_all(slow_cases[i], n);
    }
    /* NUL bytes: inside a string (refused), as whitespace (refused) */
    static const char nul_in[] = "{\"a\":\"x\0y\"}", nul_out[] = "{\"a\":1\0}";
    assert_int_equal(fast_answer(nul_in, sizeof(nul_in) - 1, NULL), -1);
    same_scan_all(nul_in, sizeof(nul_in) - 1);
    assert_int_equal(fast_answer(nul_out, sizeof(nul_out) - 1, NULL), -1);
    same_scan_all(nul_out, sizeof(nul_out) - 1);
    /* invalid UTF-8 in a string: refused when checked, a plain byte if not */
    static const char bad[] = "{\"a\":\"\xc0\xaf\",\"b\":1}";
    assert_int_equal(fast_answer(bad, sizeof(bad) - 1, NULL), -1);
    assert_int_equal(fast_answer(bad, sizeof(bad) - 1, &lax), 1);
    same_scan_all(bad, sizeof(bad) - 1);
    /* a nested value's flags reach info.flags through the fast path */
    const char *ext = "{\"a\":[1e400],\"b\":1}";
    plume_json_scan_info_t info;
    unsigned long gave_up = plume_json_scan_fast_gave_up;
    assert_true(plume_json_scan_fast(ext, strlen(ext), NULL, NULL, NULL, &info, NULL));
    assert_int_equal(plume_json_scan_fast_gave_up, gave_up);
    assert_int_equal(info.flags, PLUME_JSON_SCAN_EXTREME_NUMBER);
    assert_int_equal(info.members, 2);
}

/* Exact spans from the fast path, checked by hand rather than against the
 * exact scanner. */
static void fast_path_spans(void **state)
{
    (void)state;
    const char *doc = "  {\"a\":\"xy\", \"bc\" : -1.5e3 ,\"d\":[1,\"]\"],\"e\":true,\"a\":{}} ";
    span_rec_t r = {0};
    plume_json_scan_info_t info;
    plume_json_error_t err;
    unsigned long gave_up = plume_json_scan_fast_gave_up;
    assert_true(plume_json_scan_fast(doc, strlen(doc), NULL, rec_span, &r, &info, &err));
    assert_int_equal(err.status, PLUME_JSON_OK);
    assert_int_equal(r.n, 5);
    assert_int_equal(info.obj_off, 2);
    assert_int_equal(info.obj_len, strlen(doc) - 3);
    assert_int_equal(info.members, 5);
    static const char *const keys[] = {"a", "bc", "d", "e", "a"};
    static const char *const raws[] = {"\"xy\"", "-1.5e3", "[1,\"]\"]", "true", "{}"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(r.key_lens[i], strlen(keys[i]));
        assert_memory_equal(r.keys[i], keys[i], r.key_lens[i]);
        assert_int_equal(r.raw_lens[i], strlen(raws[i]));
        assert_memory_equal(r.raws[i], raws[i], r.raw_lens[i]);
        assert_ptr_equal(r.raws[i], strstr(doc, raws[i]));
        assert_false(r.raw_escaped[i]);
    }
    rec_free(&r);
    /* stopping at the second member */
    stop_ctx_t c = {.stop_at = 2};
    assert_false(plume_json_scan_fast(doc, strlen(doc), NULL, stop_span, &c, &info, &err));
    assert_int_equal(plume_json_scan_fast_gave_up, gave_up);
    assert_int_equal(c.calls, 2);
    assert_int_equal(err.status, PLUME_JSON_ESTOPPED);
    assert_int_equal(err.offset, (size_t)(strstr(doc, "-1.5e3") - doc) + 6);
    assert_int_equal(info.members, 0);
}

/* Hand-picked lines: both paths agree under every option set. */
static void fast_matches_exact_cases(void **state)
{
    (void)state;
    static const char *const extra[] = {
        "{\"a\":\"b\",\"c\":1e-5,\"d\":-0,\"e\":1E400,\"f\":null}",
        "{\"a\":[{\"b\":[{\"c\":[[]]}]}],\"d\":1}",
        "{\"a\":\"\xe2\x82\xac\",\"b\":\"\\u20ac\",\"c\":\"\xf4\x90\x80\x80\"}",
        "{\"a\":1}   \n", "{\"a\":1}\t", "{\"a\":1}  x", "{\"a\":1,\"a\":1,\"a\":1,\"a\":1}",
        "{\"k\" \t\r\n:\t\r\n \"v\" \n,\n \"n\"\n:\n5\n}", "{\"a\":5 ,\"b\":6}", "{\"a\":5,\"b\":6 }",
        "{\"a\":-}", "{\"a\":-x}", "{\"a\":0.}", "{\"a\":00}", "{\"a\":-00.1}", "{\"a\":1e01}",
        "{\"a\":1e-01}", "{\"a\":1E+001}", "{\"a\":12345678e1}", "{\"a\":1234567.e1}",
        "{\"a\":0.00000000000000000001}", "{\"a\":9.9999999999e-99}", "{\"a\":123456781}",
        /* values running into the last byte */
        "{\"a\":t}", "{\"a\":n}", "{\"a\":f}", "{\"a\":fals}", "{\"a\":tru}", "{\"a\":{\"b\":1}",
        "{\"a\":[{}}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":\"}", "{\"a}",
    };
    for (size_t i = 0; i < sizeof(fast_cases) / sizeof(fast_cases[0]); i++)
        same_scan_all(fast_cases[i], strlen(fast_cases[i]));
    for (size_t i = 0; i < sizeof(slow_cases) / sizeof(slow_cases[0]); i++)
        same_scan_all(slow_cases[i], strlen(slow_cases[i]));
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
        same_scan_all(extra[i], strlen(extra[i]));
    /* more members than the fast path keeps, a line longer than it takes */
    size_t cap = 300 * 8 + 16;
    char *big = malloc(cap);
    size_t n = 0;
    big[n++] = '{';
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(big + n, cap - n, "%s\"k%d\":1", i ? "," : "", i % 100);
    big[n++] = '}';
    same_scan_all(big, n);
    free(big);
    size_t long_len = 9000;
    char *lng = malloc(long_len);
    memset(lng, 'x', long_len);
    memcpy(lng, "{\"a\":\"", 6);
    memcpy(lng + long_len - 2, "\"}", 2);
    assert_int_equal(fast_answer(lng, long_len, NULL), -1);
    same_scan_all(lng, long_len);
    assert_int_equal(fast_answer(lng, 8000, NULL), -1); /* cut: unterminated */
    memcpy(lng + 7998, "\"}", 2);
    assert_int_equal(fast_answer(lng, 8000, NULL), 1);
    same_scan_all(lng, 8000);
    free(lng);
}

/* Objects of every length up to 200, with one byte placed at each offset
 * around the 64-byte block boundaries: a quote, a backslash, a control
 * byte, a non-ASCII byte, a space, a brace. */
static void fast_matches_exact_at_block_edges(void **state)
{
    (void)state;
    static const char specials[] = {'"', '\\', '\t', '\0', (char)0xc3, (char)0xa9, ' ', '}', ':',
                                    ','};
    char doc[256] = {0};
    for (size_t len = 0; len <= 200; len++) {
        /* {"k":"xxx...x"} of exactly len bytes (len >= 8), else a prefix */
        for (size_t i = 0; i < len; i++)
            doc[i] = 'x';
        if (len >= 8) {
            memcpy(doc, "{\"k\":\"", 6);
            memcpy(doc + len - 2, "\"}", 2);
        } else if (len > 0) {
            memcpy(doc, "{\"k\":\"x\"}", len);
        }
        same_scan_all(doc, len);
        if (len >= 8 && fast_answer(doc, len, NULL) != 1)
            fail_msg("fast path gave up on a plain line of %zu bytes", len);
        for (size_t at = 0; at < len; at++) {
            bool edge = (at % 64) <= 2 || (at % 64) >= 61 || at < 8 || at + 3 > len;
            if (!edge)
                continue;
            for (size_t k = 0; k < sizeof(specials); k++) {
                char keep = doc[at];
                doc[at] = specials[k];
                same_scan_all(doc, len);
                doc[at] = keep;
            }
        }
    }
    /* a member per block edge: "k":1 with the quote at offsets 63, 64, 65 */
    for (size_t pad = 50; pad < 70; pad++) {
        size_t n = 0;
        doc[n++] = '{';
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "\"a\":\"%0*d\"", (int)pad, 0);
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, ",\"b\":1,\"c\":\"\\\"\",\"d\":2}");
        same_scan_all(doc, n);
        same_scan_all(doc, n - 10); /* drop the escaped member */
    }
}

/* A random line of 0-12 members: keys and string values of 0-40 bytes
 * (sometimes escaped or non-ASCII), numbers of every shape, literals,
 * small nested values, whitespace sometimes around every token. */
static size_t gen_line(uint64_t *x, char *out, size_t cap)
{
#define RND() (*x = *x * 6364136223846793005ull + 1442695040888963407ull, *x >> 33)
    static const char *const nums[] = {"0", "-0", "7", "-12", "3.25", "-0.5", "1e5", "1E-5",
                                       "2.5e+3", "123456789", "9007199254740993", "0.001",
                                       "1e300", "1e301", "1e400", "-1e-400", "12345678.5"};
    static const char *const others[] = {"true", "false", "null", "[]", "{}", "[1,\"a\"]",
                                         "{\"x\":{\"y\":[null]}}"};
    static const char *const ws[] = {"", "", "", "", " ", "\t", "\n", " \r\n "};
    size_t n = 0;
    bool spaced = RND() % 4 == 0;
#define WS() (spaced ? ws[RND() % 8] : "")
#define PUT(str) (n += (size_t)snprintf(out + n, cap - n, "%s", str))
    PUT(WS());
    PUT("{");
    int members = (int)(RND() % 13);
    for (int m = 0; m < members && n + 200 < cap; m++) {
        PUT(WS());
        if (m)
            PUT(",");
        PUT(WS());
        for (int part = 0; part < 2; part++) {
            unsigned kind = part == 0 ? 0 : (unsigned)(RND() % 4);
            if (kind <= 1) { /* a string */
                PUT("\"");
                size_t len = RND() % 41;
                for (size_t i = 0; i < len; i++) {
                    unsigned r = (unsigned)(RND() % 1600);
                    PUT(r == 0 ? "\\n" : r == 1 ? "\\u00e9" : r == 2 ? "\xc3\xa9" : r == 3 ? "\\\"" : "");
                    if (r > 3)
                        out[n++] = (char)('a' + r % 26), out[n] = '\0';
                }
                PUT("\"");
            } else if (kind == 2) {
                PUT(nums[RND() % (sizeof(nums) / sizeof(nums[0]))]);
            } else {
                PUT(others[RND() % (sizeof(others) / sizeof(others[0]))]);
            }
            if (part == 0) {
                PUT(WS());
                PUT(":");
                PUT(WS());
            }
        }
    }
    PUT(WS());
    PUT("}");
    PUT(WS());
    return n;
#undef RND
#undef WS
#undef PUT
}

/* Generated lines, and mutations of them (a byte replaced, cut, inserted,
 * removed): the fast path answers most of the valid ones, and both paths
 * agree on every line. */
static void fast_matches_exact_on_generated(void **state)
{
    (void)state;
    static const char alphabet[] = "{}[]\":,\\ \t\n\r0123456789-+.eEtrufalsn\x01\x7f\xc3\xa9\xff";
    uint64_t x = 42;
    char line[4096], mut[4200];
    int answered = 0, valid = 0;
    for (int i = 0; i < 4000; i++) {
        size_t n = gen_line(&x, line, sizeof(line));
        plume_json_error_t err;
        bool ok = plume_json_object_scan(line, n, NULL, NULL, NULL, NULL, &err);
        valid += ok;
        answered += ok && fast_answer(line, n, NULL) == 1;
        same_scan_all(line, n);
        for (int k = 0; k < 4; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = n ? (x >> 33) % n : 0, m = n;
            char c = alphabet[(x >> 20) % (sizeof(alphabet) - 1)];
            memcpy(mut, line, n);
            switch ((x >> 12) % 4) {
            case 0: mut[at] = c; break;
            case 1: m = at; break;
            case 2: memmove(mut + at + 1, mut + at, n - at); mut[at] = c; m = n + 1; break;
            default: if (n) { memmove(mut + at, mut + at + 1, n - at - 1); m = n - 1; } break;
            }
            same_scan(mut, m, NULL);
            same_scan(mut, m, &fast_variants[1]);
        }
    }
    /* most generated lines are valid, and most of those plain enough */
    if (valid < 3000 || answered < valid / 3)
        fail_msg("%d of 4000 lines valid, %d answered by the fast path", valid, answered);
}

#endif /* __SSE2__ */

int main(void)
{
    const struct CMUnitTest tests[] = {
#ifdef __SSE2__
        cmocka_unit_test(fast_path_coverage),
        cmocka_unit_test(fast_path_spans),
        cmocka_unit_test(fast_matches_exact_cases),
        cmocka_unit_test(fast_matches_exact_at_block_edges),
        cmocka_unit_test(fast_matches_exact_on_generated),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
