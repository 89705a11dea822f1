/* SPDX-License-Identifier: MIT */
/* JSON writer: string escaping (checked against a byte-by-byte reference on
 * random inputs, so the word-at-a-time fast path cannot drift; the inline
 * short-string escaper and the 16-byte test with every byte value at every
 * position and length), invalid UTF-8, msgpack-to-JSON for every type, float
 * round trips, integers against printf, depth and bounds. */
#include "test_support.h"
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_write.h"
#include "mp.h"

/* JSON for a string, as a NUL-terminated static copy. */
static const char *str_json(const char *s, size_t n)
{
    static char text[4096];
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_json_write_str(&b, s, n);
    assert_false(b.failed);
    assert_true(b.len < sizeof(text));
    memcpy(text, b.data, b.len);
    text[b.len] = '\0';
    plume_buf_free(&b);
    return text;
}

#define STR_JSON(lit) str_json((lit), sizeof(lit) - 1)

/* JSON for one msgpack value (static copy), or NULL if the writer failed;
 * also checks that a successful conversion consumed exactly the value. */
static const char *mp_json(const void *p, size_t n)
{
    static char text[8192];
    plume_buf_t b;
    plume_mp_reader_t r;
    plume_buf_init(&b, 0);
    plume_mp_reader_init(&r, p, n);
    bool ok = plume_json_write_mp(&b, &r);
    if (ok) {
        assert_ptr_equal(r.p, r.end);
        assert_true(b.len < sizeof(text));
        memcpy(text, b.data, b.len);
        text[b.len] = '\0';
    }
    plume_buf_free(&b);
    return ok ? text : NULL;
}

static const char *buf_json(plume_buf_t *mp)
{
    assert_false(mp->failed);
    return mp_json(mp->data, mp->len);
}

static void string_escapes(void **state)
{
    (void)state;
    assert_string_equal(STR_JSON(""), "\"\"");
    assert_string_equal(STR_JSON("hello world"), "\"hello world\"");
    assert_string_equal(STR_JSON("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
    assert_string_equal(STR_JSON("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
    assert_string_equal(STR_JSON("\x01\x1f\x1b[31m\x7f"),
                        "\"\\u0001\\u001f\\u001b[31m\\u007f\"");
    assert_string_equal(STR_JSON("a\0b"), "\"a\\u0000b\"");
    /* An escape after a long plain run, and a run after it. */
    assert_string_equal(STR_JSON("0123456789abcdef\"0123456789abcdef"),
                        "\"0123456789abcdef\\\"0123456789abcdef\"");
}

static void string_utf8(void **state)
{
    (void)state;
    /* Valid multi-byte text is copied as is. */
    assert_string_equal(STR_JSON("h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e"),
                        "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e\"");
    /* Invalid bytes: one U+FFFD per maximal ill-formed subsequence. */
    assert_string_equal(STR_JSON("a\xff" "b"), "\"a\\ufffdb\"");
    assert_string_equal(STR_JSON("a\xe2\x82"), "\"a\\ufffd\"");
    assert_string_equal(STR_JSON("\xe2\x82" "A"), "\"\\ufffdA\"");
    assert_string_equal(STR_JSON("\xc0\xaf"), "\"\\ufffd\\ufffd\"");         /* overlong */
    assert_string_equal(STR_JSON("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
    assert_string_equal(STR_JSON("\xf4\x90\x80\x80"),
                        "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
    assert_string_equal(STR_JSON("\x80"), "\"\\ufffd\"");
    /* Valid but terminal-unsafe code points are escaped. */
    assert_string_equal(STR_JSON("\xc2\x85|\xc2\x9b|\xe2\x80\xa8|\xe2\x80\xae|\xe2\x81\xa6"),
                        "\"\\u0085|\\u009b|\\u2028|\\u202e|\\u2066\"");
    /* Neighbours of the unsafe ranges are not. */
    assert_string_equal(STR_JSON("\xc2\xa0\xe2\x80\xa7\xe2\x81\xaa"),
                        "\"\xc2\xa0\xe2\x80\xa7\xe2\x81\xaa\"");
}

/* Byte-by-byte reference escaper, written independently of the fast path. */
static void ref_escape(plume_buf_t *b, const uint8_t *p, size_t n)
{
    plume_buf_append_byte(b, '"');
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\') {
            plume_buf_printf(b, "\\%c", c);
            i++;
        } else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
            plume_buf_printf(b, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't'
                                        : c == '\b' ? 'b' : 'f');
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            plume_buf_printf(b, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            plume_buf_append_byte(b, c);
            i++;
        } else {
            uint32_t cp;
            int len = plume_json_utf8_next(p + i, n - i, &cp);
            if (len < 0) {
                plume_buf_append_str(b, "\\ufffd");
                i += (size_t)-len;
            } else if (plume_json_cp_unsafe(cp)) {
                plume_buf_printf(b, "\\u%04x", cp);
                i += (size_t)len;
            } else {
                plume_buf_append(b, p + i, (size_t)len);
                i += (size_t)len;
            }
        }
    }
    plume_buf_append_byte(b, '"');
}

static void string_matches_reference(void **state)
{
    (void)state;
    /* Mostly plain ASCII with sparse specials, so that both the 8-byte skip
     * and the byte path are exercised at every alignment. */
    static const uint8_t specials[] = {'"', '\\', '\n', 0, 0x1f, 0x20, 0x7e, 0x7f, 0x80,
                                       0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0xff, 0xc2, 0x9b};
    uint64_t x = 42;
    uint8_t in[300];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)(iter % 300);
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(x >> 33);
            in[i] = r % 16 == 0 ? specials[(r >> 8) % sizeof(specials)]
                                : (uint8_t)('a' + (r >> 8) % 26);
        }
        plume_buf_t got, want;
        plume_buf_init(&got, 0);
        plume_buf_init(&want, 0);
        plume_json_write_str(&got, (const char *)in, n);
        ref_escape(&want, in, n);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, got.len);
        /* the raw-memory escaper writes the same text, within 6n bytes */
        char raw[6 * 300 + 1];
        raw[6 * n] = 0x5a;
        size_t rn = plume_json_escape_raw(raw, (const char *)in, n);
        assert_true(rn <= 6 * n);
        assert_int_equal(raw[6 * n], 0x5a);
        assert_int_equal(rn + 2, want.len);
        assert_memory_equal(raw, want.data + 1, rn);
        plume_buf_free(&got);
        plume_buf_free(&want);
    }
    /* worst case: every byte an escape */
    char worst[6 * 4];
    assert_int_equal(plume_json_escape_raw(worst, "\x01\x02\xff\x7f", 4), 24);
    assert_memory_equal(worst, "\\u0001\\u0002\\ufffd\\u007f", 24);
}

/* Strings longer than the writer's chunk (4096 input bytes), with multi-byte
 * and invalid sequences at every position around the chunk edges, and
 * buffers whose maximum is anywhere near the escaped length: the text is the
 * reference's, written whole when it fits exactly, else the buffer fails. */
static void long_strings_and_tight_buffers(void **state)
{
    (void)state;
    static const uint8_t pieces[][4] = {{0xc3, 0xa9}, {0xe2, 0x82, 0xac}, {0xf0, 0x9f, 0x98, 0x80},
                                        {0xe2, 0x82}, {0x80}, {'"'}, {0x01}};
    static const size_t piece_len[] = {2, 3, 4, 2, 1, 1, 1};
    uint8_t in[9000];
    for (size_t shift = 0; shift < 8; shift++) {
        for (size_t k = 0; k < 7; k++) {
            memset(in, 'a', sizeof(in));
            for (size_t at = 4090 + shift; at + 4 < sizeof(in); at += 4096)
                memcpy(in + at, pieces[k], piece_len[k]);
            plume_buf_t got, want;
            plume_buf_init(&got, 0);
            plume_buf_init(&want, 0);
            plume_json_write_str(&got, (const char *)in, sizeof(in));
            ref_escape(&want, in, sizeof(in));
            assert_int_equal(got.len, want.len);
            assert_memory_equal(got.data, want.data, got.len);
            plume_buf_free(&got);
            plume_buf_free(&want);
        }
    }
    const char *text = "ab\"c\xc3\xa9" "d\x01\xe2\x82\xac\xff";
    plume_buf_t full;
    plume_buf_init(&full, 0);
    plume_json_write_escaped(&full, text, strlen(text));
    for (size_t max = 1; max <= full.len + 3; max++) {
        plume_buf_t b;
        plume_buf_init(&b, max);
        plume_json_write_escaped(&b, text, strlen(text));
        if (max >= full.len) {
            assert_false(b.failed);
            assert_int_equal(b.len, full.len);
            assert_memory_equal(b.data, full.data, full.len);
        } else {
            assert_true(b.failed);
            assert_true(b.len <= max);
        }
        plume_buf_free(&b);
    }
    plume_buf_free(&full);
}

static void scalars(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_mp_array_header(&b, 9);
    plume_mp_nil(&b);
    plume_mp_bool(&b, true);
    plume_mp_bool(&b, false);
    plume_mp_int(&b, 0);
    plume_mp_int(&b, -1);
    plume_mp_int(&b, INT64_MIN);
    plume_mp_uint(&b, UINT64_MAX);
    plume_mp_int(&b, 300);
    plume_mp_str(&b, "x\ty", 3);
    assert_string_equal(buf_json(&b),
                        "[null,true,false,0,-1,-9223372036854775808,18446744073709551615,300,"
                        "\"x\\ty\"]");
    plume_buf_free(&b);
}

static const char *double_json(double d)
{
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_mp_double(&b, d);
    const char *s = buf_json(&b);
    plume_buf_free(&b);
    return s;
}

static void floats(void **state)
{
    (void)state;
    assert_string_equal(double_json(0.1), "0.1");
    assert_string_equal(double_json(1.0), "1");
    assert_string_equal(double_json(-2.5), "-2.5");
    assert_string_equal(double_json(1e300), "1e+300");
    assert_string_equal(double_json(-0.0), "-0");
    assert_string_equal(double_json(1.0 / 3.0), "0.3333333333333333");
    assert_string_equal(double_json(5e-324), "4.94065645841247e-324");
    assert_string_equal(double_json(NAN), "null");
    assert_string_equal(double_json(INFINITY), "null");
    assert_string_equal(double_json(-INFINITY), "null");
    /* float32: shortest text for the float, not for its double widening. */
    static const uint8_t f32[] = {0xca, 0x3d, 0xcc, 0xcc, 0xcd}; /* 0.1f */
    assert_string_equal(mp_json(f32, sizeof(f32)), "0.1");
    static const uint8_t f32nan[] = {0xca, 0x7f, 0xc0, 0x00, 0x00};
    assert_string_equal(mp_json(f32nan, sizeof(f32nan)), "null");

    /* Every finite double reads back exactly. */
    uint64_t x = 7;
    for (int i = 0; i < 100000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double d;
        memcpy(&d, &x, sizeof(d));
        char out[32];
        size_t n = plume_json_format_double(d, false, out);
        if (!isfinite(d)) {
            assert_int_equal(n, 0);
            continue;
        }
        assert_true(n > 0 && n < 32);
        assert_true(strtod(out, NULL) == d);
        assert_null(strpbrk(out, ",in")); /* no locale comma, no inf/nan */
    }
}

static void bin_and_ext(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_mp_array_header(&b, 5);
    plume_mp_bin(&b, "", 0);
    plume_mp_bin(&b, "f", 1);
    plume_mp_bin(&b, "fo", 2);
    plume_mp_bin(&b, "foo", 3);
    plume_mp_bin(&b, "foob\xff", 5);
    assert_string_equal(buf_json(&b), "[\"\",\"Zg==\",\"Zm8=\",\"Zm9v\",\"Zm9vYv8=\"]");
    plume_buf_free(&b);

    static const uint8_t ext5[] = {0xd5, 0x05, 0x01, 0x02};
    assert_string_equal(mp_json(ext5, sizeof(ext5)), "{\"ext_type\":5,\"data\":\"AQI=\"}");
    static const uint8_t ext_neg[] = {0xc7, 0x00, 0x80};
    assert_string_equal(mp_json(ext_neg, sizeof(ext_neg)), "{\"ext_type\":-128,\"data\":\"\"}");
}

static void timestamps(void **state)
{
    (void)state;
    /* timestamp 32: 2026-11-21T10:00:00Z = 0x6b016ba0 */
    static const uint8_t ts32[] = {0xd6, 0xff, 0x6b, 0x01, 0x6b, 0xa0};
    assert_string_equal(mp_json(ts32, sizeof(ts32)), "\"2026-11-21T10:00:00.000000000Z\"");
    /* timestamp 64: nsec 123456789 << 34 | sec */
    uint64_t v = (123456789ull << 34) | 1795255200ull;
    uint8_t ts64[10] = {0xd7, 0xff};
    for (int i = 0; i < 8; i++)
        ts64[2 + i] = (uint8_t)(v >> (56 - 8 * i));
    assert_string_equal(mp_json(ts64, sizeof(ts64)), "\"2026-11-21T10:00:00.123456789Z\"");
    /* timestamp 96: nsec 5, sec -1 */
    static const uint8_t ts96[] = {0xc7, 12,   0xff, 0,    0,    0,    5,    0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_string_equal(mp_json(ts96, sizeof(ts96)), "\"1969-12-31T23:59:59.000000005Z\"");
    /* Out of RFC 3339 range, bad nanoseconds, bad length: generic ext form. */
    static const uint8_t far[] = {0xc7, 12,   0xff, 0,    0,    0,    0,    0x7f,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_string_equal(mp_json(far, sizeof(far)),
                        "{\"ext_type\":-1,\"data\":\"AAAAAH//////////\"}");
    static const uint8_t badns[] = {0xc7, 12, 0xff, 0x3b, 0x9a, 0xca, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_string_equal(mp_json(badns, sizeof(badns)),
                        "{\"ext_type\":-1,\"data\":\"O5rKAAAAAAAAAAAA\"}");
    static const uint8_t badlen[] = {0xc7, 3, 0xff, 1, 2, 3};
    assert_string_equal(mp_json(badlen, sizeof(badlen)), "{\"ext_type\":-1,\"data\":\"AQID\"}");
}

static void containers_and_keys(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_mp_map_header(&b, 7);
    plume_mp_cstr(&b, "a\"b");
    plume_mp_array_header(&b, 3);
    plume_mp_int(&b, 1);
    plume_mp_map_header(&b, 0);
    plume_mp_array_header(&b, 0);
    plume_mp_int(&b, 1);   /* int key */
    plume_mp_cstr(&b, "one");
    plume_mp_nil(&b);      /* nil key */
    plume_mp_bool(&b, true);
    plume_mp_bool(&b, false);
    plume_mp_nil(&b);
    plume_mp_array_header(&b, 2); /* array key */
    plume_mp_int(&b, 1);
    plume_mp_cstr(&b, "x");
    plume_mp_int(&b, 2);
    plume_mp_double(&b, 1.5); /* float key */
    plume_mp_int(&b, 3);
    plume_mp_cstr(&b, "");
    plume_mp_map_header(&b, 1);
    plume_mp_cstr(&b, "k");
    plume_mp_cstr(&b, "v");
    assert_string_equal(buf_json(&b),
                        "{\"a\\\"b\":[1,{},[]],\"1\":\"one\",\"null\":true,\"false\":null,"
                        "\"[1,\\\"x\\\"]\":2,\"1.5\":3,\"\":{\"k\":\"v\"}}");
    plume_buf_free(&b);

    plume_mp_reader_t r;
    plume_buf_t out;
    plume_buf_init(&out, 0);
    static const uint8_t key[] = {0xcd, 0x01, 0x00}; /* 256 */
    plume_mp_reader_init(&r, key, sizeof(key));
    assert_true(plume_json_write_mp_key(&out, &r));
    assert_int_equal(out.len, 5);
    assert_memory_equal(out.data, "\"256\"", 5);
    plume_buf_free(&out);
}

static void depth_limit(void **state)
{
    (void)state;
    uint8_t in[80];
    /* 64 nested arrays around a value: accepted. */
    memset(in, 0x91, 64);
    in[64] = 0x01;
    const char *s = mp_json(in, 65);
    assert_non_null(s);
    assert_int_equal(strlen(s), 64 * 2 + 1);
    /* 65 nested arrays: refused. */
    memset(in, 0x91, 65);
    in[65] = 0x01;
    assert_null(mp_json(in, 66));
    /* Deep map keys count too. */
    memset(in, 0x81, 70);
    in[70] = 0x01;
    assert_null(mp_json(in, 71));
}

static void malformed_rejected(void **state)
{
    (void)state;
    static const uint8_t never_used[] = {0xc1};
    assert_null(mp_json(never_used, 1));
    static const uint8_t short_array[] = {0x93, 0x01, 0x02};
    assert_null(mp_json(short_array, sizeof(short_array)));
    static const uint8_t short_str[] = {0xa5, 'a', 'b'};
    assert_null(mp_json(short_str, sizeof(short_str)));
    static const uint8_t map_missing_value[] = {0x81, 0xa1, 'k'};
    assert_null(mp_json(map_missing_value, sizeof(map_missing_value)));
    static const uint8_t huge_count[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0};
    assert_null(mp_json(huge_count, sizeof(huge_count)));
    assert_null(mp_json("", 0));
    /* Every prefix of a valid value is rejected, never over-read. */
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_mp_map_header(&b, 2);
    plume_mp_cstr(&b, "key");
    plume_mp_bin(&b, "\x01\x02\x03", 3);
    plume_mp_int(&b, -5);
    plume_mp_double(&b, 2.25);
    assert_string_equal(buf_json(&b), "{\"key\":\"AQID\",\"-5\":2.25}");
    for (size_t cut = 0; cut < b.len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, b.data, cut);
        assert_null(mp_json(copy, cut));
        free(copy);
    }
    plume_buf_free(&b);
}

static void bounded_output(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 10);
    plume_json_write_str(&b, "0123456789", 10);
    assert_true(b.failed);
    assert_true(b.len <= 10);
    plume_buf_free(&b);

    plume_buf_t mp;
    plume_buf_init(&mp, 0);
    plume_mp_array_header(&mp, 2);
    plume_mp_cstr(&mp, "abcdefghij");
    plume_mp_nil(&mp);
    plume_mp_reader_t r;
    plume_mp_reader_init(&r, mp.data, mp.len);
    plume_buf_init(&b, 8);
    assert_false(plume_json_write_mp(&b, &r));
    assert_true(b.failed);
    assert_true(b.len <= 8);
    plume_buf_free(&b);
    /* A non-string key larger than the room left fails cleanly. */
    plume_buf_reset(&mp);
    plume_mp_map_header(&mp, 1);
    plume_mp_array_header(&mp, 3);
    plume_mp_cstr(&mp, "aaaaaaaaaa");
    plume_mp_cstr(&mp, "bbbbbbbbbb");
    plume_mp_cstr(&mp, "cccccccccc");
    plume_mp_nil(&mp);
    plume_mp_reader_init(&r, mp.data, mp.len);
    plume_buf_init(&b, 20);
    assert_false(plume_json_write_mp(&b, &r));
    assert_true(b.failed);
    assert_true(b.len <= 20);
    plume_buf_free(&b);
    plume_buf_free(&mp);
}

/* The fast path of plume_json_format_double gives exactly the printf path's
 * text: decimals of every length and magnitude (as a logger would produce
 * them), edge values around its range, and random bit patterns. */
static void same_as_printf(double v)
{
    char a[32], b[32];
    size_t na = plume_json_format_double(v, false, a);
    size_t nb = plume_json_format_double_printf(v, false, b);
    if (na != nb || memcmp(a, b, na) != 0)
        fail_msg("%.17g: fast '%s' vs printf '%s'", v, a, b);
}

static void double_fast_path_matches_printf(void **state)
{
    (void)state;
    static const double edges[] = {1e-4, 9.9999999999999991e-5, 1.0000000000000002e-4, 0.1, 0.2,
                                   0.3, 1.0 / 3, 2.0 / 3, 0.5, 1, 10, 123456789012345.0,
                                   999999999999999.0, 999999999999999.9, 1e15, 1e15 - 1,
                                   4503599627370496.5, 9007199254740993.0, 1e21, 5e-324,
                                   2.2250738585072014e-308, 1.7976931348623157e308, 0.0, -0.0,
                                   -34.884, 34.884, 100.5, 0.0001234, 1e-5, 12.000000000000002};
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        same_as_printf(edges[i]);
        same_as_printf(-edges[i]);
    }
    uint64_t x = 0x9e3779b97f4a7c15ull;
    char text[64];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* a decimal with 0-9 fraction digits and 0-15 integer digits */
        int frac = (int)(x % 10), whole = (int)((x >> 8) % 16);
        uint64_t ip = whole ? (x >> 12) % (uint64_t)pow(10, whole) : 0;
        uint64_t fp = frac ? (x >> 20) % (uint64_t)pow(10, frac) : 0;
        snprintf(text, sizeof(text), "%s%llu.%0*llu", (x >> 63) ? "-" : "",
                 (unsigned long long)ip, frac ? frac : 1, (unsigned long long)fp);
        same_as_printf(strtod(text, NULL));
        /* and any finite bit pattern */
        double d;
        memcpy(&d, &x, sizeof(d));
        if (isfinite(d))
            same_as_printf(d);
    }
}

/* The 16-byte test flags exactly the bytes plume_json_plain_byte says are
 * not plain, wherever they are among plain ones; the table is the definition
 * (printable ASCII but '"' and '\\'). */
static void special16_exact(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        bool plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
        assert_int_equal(plume_json_plain_byte[c], plain);
        for (int pos = 0; pos < 16; pos++) {
            uint8_t bytes[16];
            memset(bytes, pos % 2 ? '~' : ' ', sizeof(bytes)); /* plain neighbours */
            bytes[pos] = (uint8_t)c;
            uint64_t w[2];
            memcpy(w, bytes, 16);
            if (plume_json_special16(w[0], w[1]) == plain)
                fail_msg("byte 0x%02x at %d", c, pos);
        }
    }
}

/* The inline escaper, the raw one and plume_json_write_str against the
 * reference for every length up to 40 (each of the inline escaper's cases
 * and the raw one's 16-byte steps and tails), every byte value at the
 * first, middle and last position, every position for a few bytes, and
 * multi-byte sequences cut anywhere; nothing is written past the text. */
static void check_escapers(const uint8_t *in, size_t n)
{
    plume_buf_t want;
    plume_buf_init(&want, 0);
    ref_escape(&want, in, n);
    char raw[6 * 64 + 8], inl[6 * 64 + 8];
    memset(raw, 0x5a, sizeof(raw));
    memset(inl, 0x5a, sizeof(inl));
    size_t rn = plume_json_escape_raw(raw, (const char *)in, n);
    size_t in_n = plume_json_escape_raw_inline(inl, (const char *)in, n);
    assert_int_equal(rn + 2, want.len);
    assert_int_equal(in_n + 2, want.len);
    assert_memory_equal(raw, want.data + 1, rn);
    assert_memory_equal(inl, want.data + 1, in_n);
    for (size_t i = rn; i < sizeof(raw); i++)
        assert_int_equal(raw[i], 0x5a);
    for (size_t i = in_n; i < sizeof(inl); i++)
        assert_int_equal(inl[i], 0x5a);
    plume_buf_t got;
    plume_buf_init(&got, 0);
    plume_json_write_str(&got, (const char *)in, n);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, got.len);
    plume_buf_free(&got);
    plume_buf_free(&want);
}

static void inline_escaper_every_length(void **state)
{
    (void)state;
    static const uint8_t seqs[][4] = {{0xc3, 0xa9}, {0xe2, 0x80, 0xa8}, {0xf0, 0x9f, 0x98, 0x80},
                                      {0xc2, 0x9b}};
    static const size_t seq_len[] = {2, 3, 4, 2};
    uint8_t in[64] = {0};
    for (size_t n = 0; n <= 40; n++) {
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)('a' + i % 26);
        check_escapers(in, n); /* all plain */
        if (n == 0)
            continue;
        size_t where[] = {0, n / 2, n - 1};
        for (int c = 0; c < 256; c++) {
            for (size_t w = 0; w < 3; w++) {
                for (size_t i = 0; i < n; i++)
                    in[i] = (uint8_t)('a' + i % 26);
                in[where[w]] = (uint8_t)c;
                check_escapers(in, n);
            }
        }
        static const uint8_t few[] = {'"', '\\', 0, 0x1f, 0x7f, 0x80, 0xff, ' ', '~'};
        for (size_t f = 0; f < sizeof(few); f++) {
            for (size_t pos = 0; pos < n; pos++) {
                for (size_t i = 0; i < n; i++)
                    in[i] = (uint8_t)('A' + i % 26);
                in[pos] = few[f];
                check_escapers(in, n);
            }
        }
        for (size_t k = 0; k < 4; k++) { /* whole, or cut by the end of the string */
            for (size_t pos = 0; pos < n; pos++) {
                for (size_t i = 0; i < n; i++)
                    in[i] = (uint8_t)('0' + i % 10);
                size_t m = seq_len[k] < n - pos ? seq_len[k] : n - pos;
                memcpy(in + pos, seqs[k], m);
                check_escapers(in, n);
            }
        }
    }
}

/* plume_json_write_str and plume_json_write_escaped write the same bytes
 * whether the room is already there (one step), must be grown, or is
 * bounded by the maximum (the careful path). */
static void write_paths_agree(void **state)
{
    (void)state;
    static const char *const texts[] = {"", "a", "plain ascii text", "tab\there \"q\" \\",
                                        "caf\xc3\xa9 \xe2\x80\xa8 \xff end",
                                        "0123456789abcdef0123456789abcdef0123456789"};
    for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
        const char *s = texts[t];
        size_t n = strlen(s);
        plume_buf_t want;
        plume_buf_init(&want, 0);
        ref_escape(&want, (const uint8_t *)s, n);
        plume_buf_t roomy, fresh, tight, parts;
        plume_buf_init(&roomy, 0);
        assert_true(plume_buf_reserve(&roomy, 4096)); /* fast path */
        plume_json_write_str(&roomy, s, n);
        plume_buf_init(&fresh, 0); /* grows first */
        plume_json_write_str(&fresh, s, n);
        plume_buf_init(&tight, want.len); /* the worst case does not fit */
        plume_json_write_str(&tight, s, n);
        plume_buf_init(&parts, 0);
        assert_true(plume_buf_reserve(&parts, 4096));
        plume_buf_append_byte(&parts, '"');
        plume_json_write_escaped(&parts, s, n);
        plume_buf_append_byte(&parts, '"');
        plume_buf_t *all[] = {&roomy, &fresh, &tight, &parts};
        for (size_t i = 0; i < 4; i++) {
            assert_false(all[i]->failed);
            assert_int_equal(all[i]->len, want.len);
            assert_memory_equal(all[i]->data, want.data, want.len);
            plume_buf_free(all[i]);
        }
        plume_buf_free(&want);
    }
}

/* Integers: exactly printf's %llu / %lld, at every power of ten and its
 * neighbours, the extremes, and random values of every bit length. */
static void check_int(uint64_t u)
{
    char got[24], want[32];
    size_t n = plume_json_format_u64(u, got);
    snprintf(want, sizeof(want), "%llu", (unsigned long long)u);
    if (n != strlen(want) || memcmp(got, want, n) != 0)
        fail_msg("u64 %s: got %.*s", want, (int)n, got);
    int64_t i = (int64_t)u;
    n = plume_json_format_i64(i, got);
    snprintf(want, sizeof(want), "%lld", (long long)i);
    if (n != strlen(want) || memcmp(got, want, n) != 0)
        fail_msg("i64 %s: got %.*s", want, (int)n, got);
}

static void integers_match_printf(void **state)
{
    (void)state;
    uint64_t p = 1;
    for (int d = 0; d < 20; d++, p *= 10) {
        check_int(p);
        check_int(p - 1);
        check_int(p + 1);
        check_int(0 - p);
        check_int(0 - p + 1);
    }
    check_int(0);
    check_int(UINT64_MAX);
    check_int((uint64_t)INT64_MAX);
    check_int((uint64_t)INT64_MIN);
    for (int b = 0; b < 64; b++) {
        check_int(1ull << b);
        check_int((1ull << b) - 1);
    }
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        check_int(x >> (x % 64));
    }
}

/* The values loggers produce most (multiples of binary fractions, counts
 * of milliseconds with a few decimals) give printf's text. */
static void double_common_values_match_printf(void **state)
{
    (void)state;
    for (int i = 0; i < 200000; i++) {
        same_as_printf(i * 0.125);
        same_as_printf(i / 1000.0);
        same_as_printf(-i / 100.0);
        same_as_printf(i * 1.1);
        same_as_printf((double)i * 1e9 + 0.5);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(string_escapes),
        cmocka_unit_test(string_utf8),
        cmocka_unit_test(string_matches_reference),
        cmocka_unit_test(long_strings_and_tight_buffers),
        cmocka_unit_test(scalars),
        cmocka_unit_test(floats),
        cmocka_unit_test(bin_and_ext),
        cmocka_unit_test(timestamps),
        cmocka_unit_test(containers_and_keys),
        cmocka_unit_test(depth_limit),
        cmocka_unit_test(malformed_rejected),
        cmocka_unit_test(bounded_output),
        cmocka_unit_test(double_fast_path_matches_printf),
        cmocka_unit_test(double_common_values_match_printf),
        cmocka_unit_test(special16_exact),
        cmocka_unit_test(inline_escaper_every_length),
        cmocka_unit_test(write_paths_agree),
        cmocka_unit_test(integers_match_printf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
