/* SPDX-License-Identifier: MIT */
/* JSON -> msgpack: exact output bytes, numbers, strings and escapes, container
 * headers, depth limit, error messages and offsets, output overflow, and the
 * object walker used by line_event. The validation mode (json_scan.c) is
 * checked against this converter in test_json_scan.c. */
#include "test_support.h"
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_parse.h"
#include "mp.h"

/* Converts json (NUL-terminated) and compares with the expected msgpack. */
static void expect_mp(const char *json, const plume_buf_t *want)
{
    plume_buf_t out;
    plume_json_error_t err;
    plume_buf_init(&out, 0);
    bool ok = plume_json_to_mp(json, strlen(json), &out, &err);
    if (!ok)
        fail_msg("%s: %s", json, err.msg);
    assert_int_equal(err.status, PLUME_JSON_OK);
    assert_int_equal(out.len, want->len);
    assert_memory_equal(out.data, want->data, want->len);
    plume_buf_free(&out);
}

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

static void object_keeps_order_and_duplicates(void **state)
{
    (void)state;
    plume_buf_t w;
    plume_buf_init(&w, 0);
    plume_mp_map_header(&w, 4);
    plume_mp_cstr(&w, "b");
    plume_mp_uint(&w, 1);
    plume_mp_cstr(&w, "a");
    plume_mp_array_header(&w, 3);
    plume_mp_bool(&w, true);
    plume_mp_bool(&w, false);
    plume_mp_nil(&w);
    plume_mp_cstr(&w, "b");
    plume_mp_int(&w, -3);
    plume_mp_cstr(&w, "");
    plume_mp_map_header(&w, 0);
    expect_mp(" {\"b\":1, \"a\" : [ true,false ,null ],\"b\":-3,\"\":{}}\n\t", &w);
    plume_buf_free(&w);
}

static void integers(void **state)
{
    (void)state;
    plume_buf_t out;
    plume_buf_init(&out, 0);
    plume_mp_value_t v;
    v = one_value("0", &out);
    assert_int_equal(v.type, PLUME_MP_UINT);
    assert_true(v.u == 0);
    v = one_value("-0", &out);
    assert_int_equal(v.type, PLUME_MP_UINT);
    assert_true(v.u == 0);
    v = one_value("-1", &out);
    assert_int_equal(v.type, PLUME_MP_INT);
    assert_true(v.i == -1);
    v = one_value("9223372036854775807", &out);
    assert_int_equal(v.type, PLUME_MP_UINT);
    assert_true(v.u == INT64_MAX);
    v = one_value("-9223372036854775808", &out);
    assert_int_equal(v.type, PLUME_MP_INT);
    assert_true(v.i == INT64_MIN);
    v = one_value("18446744073709551615", &out);
    assert_int_equal(v.type, PLUME_MP_UINT);
    assert_true(v.u == UINT64_MAX);
    /* beyond int64/uint64: float64 */
    v = one_value("-9223372036854775809", &out);
    assert_int_equal(v.type, PLUME_MP_FLOAT);
    assert_true(v.f == -9223372036854775809.0);
    v = one_value("18446744073709551616", &out);
    assert_int_equal(v.type, PLUME_MP_FLOAT);
    assert_true(v.f == 18446744073709551616.0);
    v = one_value("123456789012345678901234567890", &out);
    assert_int_equal(v.type, PLUME_MP_FLOAT);
    assert_true(v.f == 123456789012345678901234567890.0);
    /* shortest encodings */
    plume_buf_t w;
    plume_buf_init(&w, 0);
    plume_mp_array_header(&w, 6);
    plume_mp_uint(&w, 127);
    plume_mp_uint(&w, 128);
    plume_mp_uint(&w, 65536);
    plume_mp_int(&w, -32);
    plume_mp_int(&w, -33);
    plume_mp_uint(&w, 4294967296ull);
    expect_mp("[127,128,65536,-32,-33,4294967296]", &w);
    plume_buf_free(&w);
    plume_buf_free(&out);
}

static void floats(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        double want;
    } cases[] = {
        {"1.5", 1.5},
        {"0.1", 0.1},
        {"-0.0", -0.0},
        {"1E2", 100.0},
        {"1e+2", 100.0},
        {"25e-1", 2.5},
        {"0.000001234", 0.000001234},
        {"3.141592653589793", 3.141592653589793},
        {"1.7976931348623157e308", 1.7976931348623157e308},
        {"2.2250738585072014e-308", 2.2250738585072014e-308},
        {"5e-324", 5e-324},
        {"0.1000000000000000055511151231257827", 0.1},
        {"9007199254740993.0", 9007199254740992.0}, /* halfway: round to even */
        {"123456789012345678.5", 123456789012345678.5},
        {"1e-400", 0.0},
        {"0e99999999999999999999", 0.0},
    };
    plume_buf_t out;
    plume_buf_init(&out, 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        plume_mp_value_t v = one_value(cases[i].json, &out);
        assert_int_equal(v.type, PLUME_MP_FLOAT);
        if (memcmp(&v.f, &cases[i].want, sizeof(double)) != 0)
            fail_msg("%s: got %.17g want %.17g", cases[i].json, v.f, cases[i].want);
    }
    plume_mp_value_t v = one_value("1e400", &out);
    assert_true(isinf(v.f) && v.f > 0);
    v = one_value("-1e99999", &out);
    assert_true(isinf(v.f) && v.f < 0);
    /* a long token takes the strtod path through a temporary copy */
    char longnum[400];
    memset(longnum, '1', sizeof(longnum) - 1);
    longnum[1] = '.';
    longnum[sizeof(longnum) - 1] = '\0';
    v = one_value(longnum, &out);
    assert_true(fabs(v.f - 1.1111111111111112) < 1e-15);
    /* float64 encoding in the output */
    plume_buf_t w;
    plume_buf_init(&w, 0);
    plume_mp_double(&w, 1.5);
    expect_mp("1.5", &w);
    plume_buf_free(&w);
    plume_buf_free(&out);
}

static void expect_str(const char *json, const char *want, size_t want_len)
{
    plume_buf_t w;
    plume_buf_init(&w, 0);
    plume_mp_str(&w, want, want_len);
    expect_mp(json, &w);
    plume_buf_free(&w);
}

#define ES(json, lit) expect_str(json, lit, sizeof(lit) - 1)

static void strings_and_escapes(void **state)
{
    (void)state;
    ES("\"\"", "");
    ES("\"plain\"", "plain");
    ES("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t");
    ES("\"caf\\u00e9\"", "caf\xc3\xa9");
    ES("\"\\u20AC\"", "\xe2\x82\xac");
    ES("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80"); /* surrogate pair */
    ES("\"a\\u0000b\"", "a\0b");                  /* NUL allowed */
    ES("\"\\ud800\"", "\xef\xbf\xbd");            /* lone high surrogate */
    ES("\"\\udc00x\"", "\xef\xbf\xbdx");          /* lone low surrogate */
    ES("\"\\ud800\\u0041\"", "\xef\xbf\xbd" "A");  /* high then non-low */
    ES("\"\\ud800\\ud800\\udc00\"", "\xef\xbf\xbd\xf0\x90\x80\x80");
    ES("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
}

/* Header sizes at each boundary, with and without escapes; an escaped string
 * whose decoded form is shorter gets the shorter header. */
static void string_length_boundaries(void **state)
{
    (void)state;
    static const size_t lens[] = {31, 32, 255, 256, 65535, 65536, 70000};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t n = lens[i];
        char *want = malloc(n);
        char *json = malloc(2 * n + 3);
        memset(want, 'x', n);
        json[0] = '"';
        memset(json + 1, 'x', n);
        json[n + 1] = '"';
        json[n + 2] = '\0';
        expect_str(json, want, n);
        /* same text, every other char escaped as \n: raw length grows */
        size_t k = 1;
        json[0] = '"';
        for (size_t j = 0; j < n; j++) {
            if (j % 2) {
                json[k++] = '\\';
                json[k++] = 'n';
                want[j] = '\n';
            } else {
                json[k++] = 'x';
            }
        }
        json[k++] = '"';
        json[k] = '\0';
        expect_str(json, want, n);
        free(want);
        free(json);
    }
}

static void container_headers(void **state)
{
    (void)state;
    static const uint32_t counts[] = {0, 15, 16, 65535, 65536};
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        uint32_t c = counts[i];
        /* array of c zeros, and a map of c members "k":0 */
        char *ja = malloc(2 * (size_t)c + 3), *jm = malloc(7 * (size_t)c + 3);
        size_t a = 0, m = 0;
        ja[a++] = '[';
        jm[m++] = '{';
        for (uint32_t j = 0; j < c; j++) {
            if (j) {
                ja[a++] = ',';
                jm[m++] = ',';
            }
            ja[a++] = '0';
            memcpy(jm + m, "\"k\":0", 5);
            m += 5;
        }
        ja[a++] = ']';
        jm[m++] = '}';
        ja[a] = jm[m] = '\0';
        plume_buf_t w;
        plume_buf_init(&w, 0);
        plume_mp_array_header(&w, c);
        for (uint32_t j = 0; j < c; j++)
            plume_mp_uint(&w, 0);
        expect_mp(ja, &w);
        plume_buf_reset(&w);
        plume_mp_map_header(&w, c);
        for (uint32_t j = 0; j < c; j++) {
            plume_mp_cstr(&w, "k");
            plume_mp_uint(&w, 0);
        }
        expect_mp(jm, &w);
        plume_buf_free(&w);
        free(ja);
        free(jm);
    }
    /* nested containers shrink independently */
    plume_buf_t w;
    plume_buf_init(&w, 0);
    plume_mp_array_header(&w, 2);
    plume_mp_map_header(&w, 1);
    plume_mp_cstr(&w, "a");
    plume_mp_array_header(&w, 0);
    plume_mp_array_header(&w, 1);
    plume_mp_array_header(&w, 1);
    plume_mp_cstr(&w, "z");
    expect_mp("[{\"a\":[]},[[\"z\"]]]", &w);
    plume_buf_free(&w);
}

static char *nested(unsigned depth, char open, char close)
{
    char *s = malloc(2 * depth + 1);
    memset(s, open, depth);
    memset(s + depth, close, depth);
    s[2 * depth] = '\0';
    return s;
}

static void depth_limit(void **state)
{
    (void)state;
    plume_buf_t out;
    plume_json_error_t err;
    plume_buf_init(&out, 0);
    char *ok = nested(128, '[', ']');
    assert_true(plume_json_to_mp(ok, strlen(ok), &out, &err));
    plume_buf_reset(&out);
    char *deep = nested(129, '[', ']');
    assert_false(plume_json_to_mp(deep, strlen(deep), &out, &err));
    assert_int_equal(err.status, PLUME_JSON_EDEPTH);
    assert_int_equal(err.offset, 128);
    assert_string_equal(err.msg, "nesting deeper than 128 at offset 128");
    assert_int_equal(out.len, 0);
    /* custom limit */
    plume_json_opts_t opts = {.max_depth = 2};
    assert_true(plume_json_to_mp_opts("[{\"a\":1}]", 9, &out, &opts, &err));
    plume_buf_reset(&out);
    assert_false(plume_json_to_mp_opts("[{\"a\":[]}]", 10, &out, &opts, &err));
    assert_int_equal(err.status, PLUME_JSON_EDEPTH);
    /* 100000 opening brackets: an error, not a stack overflow */
    char *huge = malloc(100001);
    memset(huge, '[', 100000);
    assert_false(plume_json_to_mp(huge, 100000, &out, &err));
    assert_int_equal(err.status, PLUME_JSON_EDEPTH);
    free(huge);
    free(ok);
    free(deep);
    plume_buf_free(&out);
}

static void errors_name_what_and_where(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *msg;
        size_t offset;
    } cases[] = {
        {"", "unexpected end of input at offset 0 (expected a value)", 0},
        {"   ", "unexpected end of input at offset 3 (expected a value)", 3},
        {"{\"a\":1,}", "unexpected character '}' at offset 7 (expected a string key)", 7},
        {"[1 2]", "unexpected character '2' at offset 3 (expected ',' or ']')", 3},
        {"{\"a\" 1}", "unexpected character '1' at offset 5 (expected ':')", 5},
        {"{\"a\":1", "unexpected end of input at offset 6 (expected ',' or '}')", 6},
        {"[1] x", "unexpected character 'x' at offset 4 (expected end of input after the value)", 4},
        {"tru", "unexpected end of input at offset 3", 3},
        {"trUe", "unexpected character 'U' at offset 2", 2},
        {"\"abc", "unterminated string starting at offset 0", 0},
        {"[\"a\\\"]", "unterminated string starting at offset 1", 1},
        {"01", "leading zero in number at offset 0", 0},
        {"-", "invalid number at offset 1 (expected a digit)", 1},
        {"1.", "invalid number at offset 2 (expected a digit after '.')", 2},
        {"1e+", "invalid number at offset 3 (expected a digit in the exponent)", 3},
        {"+1", "unexpected character '+' at offset 0 (expected a value)", 0},
        {".5", "unexpected character '.' at offset 0 (expected a value)", 0},
        {"NaN", "unexpected character 'N' at offset 0 (expected a value)", 0},
        {"\"\\x\"", "invalid escape '\\x' at offset 1", 1},
        {"\"\\u12\"", "invalid \\u escape at offset 1", 1},
        {"\"\\ud800\\u1\"", "invalid \\u escape at offset 7", 7},
        {"\"a\tb\"", "control character 0x09 in string at offset 2", 2},
        {"\"\xff\"", "invalid UTF-8 in string at offset 1", 1},
        {"\"\xc3\"", "invalid UTF-8 in string at offset 1", 1},
        {"[\x01]", "unexpected byte 0x01 at offset 1 (expected a value)", 1},
        {"\xef\xbb\xbf{}", "unexpected byte 0xef at offset 0 (expected a value)", 0},
        {"{}\f", "unexpected byte 0x0c at offset 2 (expected end of input after the value)", 2},
        {"{'a':1}", "unexpected character ''' at offset 1 (expected a string key)", 1},
    };
    plume_buf_t out;
    plume_buf_init(&out, 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        plume_json_error_t err;
        plume_buf_reset(&out);
        plume_buf_append(&out, "keep", 4); /* output is restored on failure */
        bool ok = plume_json_to_mp(cases[i].json, strlen(cases[i].json), &out, &err);
        if (ok)
            fail_msg("accepted: %s", cases[i].json);
        assert_int_equal(err.status, PLUME_JSON_ESYNTAX);
        assert_string_equal(err.msg, cases[i].msg);
        assert_int_equal(err.offset, cases[i].offset);
        assert_int_equal(out.len, 4);
        assert_false(out.failed);
    }
    /* a NUL byte ends nothing: the length given is the input */
    plume_json_error_t err;
    plume_buf_reset(&out);
    assert_false(plume_json_to_mp("1\0", 2, &out, &err));
    assert_string_equal(err.msg, "unexpected byte 0x00 at offset 1 (expected end of input after the value)");
    assert_true(plume_json_to_mp("12", 1, &out, &err)); /* only "1" is read */
    assert_int_equal(out.len, 1);
    assert_int_equal(out.data[0], 1);
    /* err may be NULL */
    assert_false(plume_json_to_mp("[", 1, &out, NULL));
    plume_buf_free(&out);
}

static void assume_utf8_skips_checks(void **state)
{
    (void)state;
    plume_buf_t out;
    plume_json_error_t err;
    plume_buf_init(&out, 0);
    plume_json_opts_t opts = {.assume_utf8 = true};
    assert_true(plume_json_to_mp_opts("\"\xff\"", 3, &out, &opts, &err));
    assert_int_equal(out.len, 2);
    plume_buf_free(&out);
}

static void output_overflow(void **state)
{
    (void)state;
    plume_buf_t out;
    plume_json_error_t err;
    plume_buf_init(&out, 16);
    const char *json = "{\"message\":\"a string longer than sixteen bytes\"}";
    assert_false(plume_json_to_mp(json, strlen(json), &out, &err));
    assert_int_equal(err.status, PLUME_JSON_EOUTPUT);
    assert_int_equal(out.len, 0);
    assert_true(out.failed);
    /* escaped strings need room only for their own raw length */
    plume_buf_reset(&out);
    char big[64];
    snprintf(big, sizeof(big), "[\"\\n\",%40s1]", "");
    assert_true(plume_json_to_mp(big, strlen(big), &out, &err));
    plume_buf_free(&out);
}

typedef struct walk_ctx {
    int calls;
    char keys[8][16];
    char raws[8][32];
} walk_ctx_t;

/* Records each member; drops those whose key starts with '_'. */
static bool record_member(void *arg, const plume_buf_t *out, const plume_json_member_t *m)
{
    walk_ctx_t *c = arg;
    plume_mp_reader_t r;
    plume_mp_value_t k;
    plume_mp_reader_init(&r, out->data + m->key_off, out->len - m->key_off);
    assert_true(plume_mp_read(&r, &k));
    assert_int_equal(k.type, PLUME_MP_STR);
    assert_ptr_equal(k.s, m->key); /* the decoded key, in place */
    assert_int_equal(k.len, m->key_len);
    assert_ptr_equal(r.p, out->data + m->value_off);
    assert_true(plume_mp_skip(&r));
    assert_ptr_equal(r.p, out->data + out->len); /* value is the last thing written */
    snprintf(c->keys[c->calls], sizeof(c->keys[0]), "%.*s", (int)k.len, k.s);
    snprintf(c->raws[c->calls], sizeof(c->raws[0]), "%.*s", (int)m->raw_len, m->raw);
    c->calls++;
    return !(k.len > 0 && k.s[0] == '_');
}

static void object_walk(void **state)
{
    (void)state;
    plume_buf_t out;
    plume_json_error_t err;
    plume_buf_init(&out, 0);
    walk_ctx_t c = {0};
    uint32_t kept = 99;
    const char *json = " { \"a\" : 1.50 , \"_t\":\"x\", \"b\":[1, {\"c\":null}] ,\"d\":\"q\\\"\"} ";
    assert_true(plume_json_object_walk(json, strlen(json), &out, NULL, record_member, &c, &kept,
                                       &err));
    assert_int_equal(c.calls, 4);
    assert_int_equal(kept, 3);
    assert_string_equal(c.keys[0], "a");
    assert_string_equal(c.raws[0], "1.50");
    assert_string_equal(c.raws[1], "\"x\"");
    assert_string_equal(c.raws[2], "[1, {\"c\":null}]");
    assert_string_equal(c.raws[3], "\"q\\\"\"");
    /* members only, no header: wrap them to check */
    plume_buf_t w;
    plume_buf_init(&w, 0);
    plume_mp_cstr(&w, "a");
    plume_mp_double(&w, 1.5);
    plume_mp_cstr(&w, "b");
    plume_mp_array_header(&w, 2);
    plume_mp_uint(&w, 1);
    plume_mp_map_header(&w, 1);
    plume_mp_cstr(&w, "c");
    plume_mp_nil(&w);
    plume_mp_cstr(&w, "d");
    plume_mp_cstr(&w, "q\"");
    assert_int_equal(out.len, w.len);
    assert_memory_equal(out.data, w.data, w.len);
    plume_buf_free(&w);

    /* empty object; NULL callback keeps all */
    plume_buf_reset(&out);
    assert_true(plume_json_object_walk("{}", 2, &out, NULL, NULL, NULL, &kept, &err));
    assert_int_equal(kept, 0);
    assert_int_equal(out.len, 0);
    assert_true(plume_json_object_walk("{\"x\":{}}", 8, &out, NULL, NULL, NULL, &kept, &err));
    assert_int_equal(kept, 1);

    /* not an object, trailing garbage, errors restore the output */
    plume_buf_reset(&out);
    plume_buf_append(&out, "zz", 2);
    assert_false(plume_json_object_walk("[1]", 3, &out, NULL, NULL, NULL, &kept, &err));
    assert_string_equal(err.msg, "unexpected character '[' at offset 0 (expected '{')");
    assert_false(plume_json_object_walk("{} {}", 5, &out, NULL, NULL, NULL, &kept, &err));
    assert_int_equal(err.offset, 3);
    assert_false(plume_json_object_walk("{\"a\":1,\"b\":}", 12, &out, NULL, NULL, NULL, &kept, &err));
    assert_int_equal(err.offset, 11);
    assert_int_equal(out.len, 2);
    /* depth counts the top-level object */
    plume_json_opts_t opts = {.max_depth = 2};
    assert_true(plume_json_object_walk("{\"a\":[]}", 8, &out, &opts, NULL, NULL, &kept, &err));
    assert_false(plume_json_object_walk("{\"a\":[[]]}", 10, &out, &opts, NULL, NULL, &kept, &err));
    assert_int_equal(err.status, PLUME_JSON_EDEPTH);
    plume_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(object_keeps_order_and_duplicates),
        cmocka_unit_test(integers),
        cmocka_unit_test(floats),
        cmocka_unit_test(strings_and_escapes),
        cmocka_unit_test(string_length_boundaries),
        cmocka_unit_test(container_headers),
        cmocka_unit_test(depth_limit),
        cmocka_unit_test(errors_name_what_and_where),
        cmocka_unit_test(assume_utf8_skips_checks),
        cmocka_unit_test(output_overflow),
        cmocka_unit_test(object_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
