/* SPDX-License-Identifier: MIT */
/* Unit tests for the TOML parser (agent/src/toml.c, toml_lex.c): positions of
 * keys and values, error messages and where they point, NUL bytes in strings
 * and keys, the nesting limit, large tables, document order, value decoding and
 * the table redefinition rules. The full toml-test suite runs in
 * tests/conformance/test_toml_suite.c. */
#include "test_support.h"
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "toml.h"

static plume_toml_value_t *parse_ok(const char *text)
{
    plume_toml_error_t err;
    plume_toml_value_t *root = plume_toml_parse(text, strlen(text), &err);
    if (!root)
        print_message("unexpected error %d:%d: %s\n", err.pos.line, err.pos.col, err.message);
    assert_non_null(root);
    return root;
}

/* Parses `text`, expects failure at line:col with `needle` in the message. */
static void expect_error(const char *text, size_t len, int line, int col, const char *needle)
{
    plume_toml_error_t err;
    plume_toml_value_t *root = plume_toml_parse(text, len, &err);
    if (root) {
        print_message("accepted: %s\n", text);
        plume_toml_free(root);
        fail();
    }
    if (err.pos.line != line || err.pos.col != col || !strstr(err.message, needle)) {
        print_message("input %s\n got %d:%d: %s\n want %d:%d: ...%s...\n", text, err.pos.line,
                      err.pos.col, err.message, line, col, needle);
        fail();
    }
}

#define EXPECT_ERROR(text, line, col, needle) expect_error(text, strlen(text), line, col, needle)

static void assert_pos(plume_toml_pos_t pos, int line, int col)
{
    if (pos.line != line || pos.col != col)
        print_message("pos %d:%d, want %d:%d\n", pos.line, pos.col, line, col);
    assert_int_equal(pos.line, line);
    assert_int_equal(pos.col, col);
}

/* ---------------------------------------------------------------- positions */

static void positions_of_keys_and_values(void **state)
{
    (void)state;
    const char *doc = "# comment\n"             /* 1 */
                      "name = \"plume\"\n"      /* 2 */
                      "  port =   8080\r\n"     /* 3 (CRLF) */
                      "\n"                      /* 4 */
                      "[server.tls]\n"          /* 5 */
                      "a.b = [1, \"x\", {c = 2}]\n" /* 6 */
                      "[[sink]]\n"              /* 7 */
                      "s = '''\n"               /* 8 */
                      "multi\n"                 /* 9 */
                      "line'''\n"               /* 10 */
                      "after = true\n";         /* 11 */
    plume_toml_value_t *root = parse_ok(doc);
    assert_pos(plume_toml_pos(root), 1, 1);

    plume_toml_pos_t kp;
    assert_string_equal(plume_toml_table_key_at(root, 0, &kp), "name");
    assert_pos(kp, 2, 1);
    assert_pos(plume_toml_pos(plume_toml_table_value_at(root, 0)), 2, 8);
    assert_string_equal(plume_toml_table_key_at(root, 1, &kp), "port");
    assert_pos(kp, 3, 3);
    assert_pos(plume_toml_pos(plume_toml_table_value_at(root, 1)), 3, 12);

    /* [server.tls]: server is implicit (at its key), tls at the header's '['. */
    assert_string_equal(plume_toml_table_key_at(root, 2, &kp), "server");
    assert_pos(kp, 5, 2);
    const plume_toml_value_t *server = plume_toml_table_value_at(root, 2);
    assert_pos(plume_toml_pos(server), 5, 2);
    assert_string_equal(plume_toml_table_key_at(server, 0, &kp), "tls");
    assert_pos(kp, 5, 9);
    const plume_toml_value_t *tls = plume_toml_table_value_at(server, 0);
    assert_pos(plume_toml_pos(tls), 5, 1);

    const plume_toml_value_t *a = plume_toml_table_get(tls, "a");
    assert_pos(plume_toml_pos(a), 6, 1);
    assert_string_equal(plume_toml_table_key_at(a, 0, &kp), "b");
    assert_pos(kp, 6, 3);
    const plume_toml_value_t *arr = plume_toml_table_get(a, "b");
    assert_pos(plume_toml_pos(arr), 6, 7);
    assert_pos(plume_toml_pos(plume_toml_array_at(arr, 0)), 6, 8);
    assert_pos(plume_toml_pos(plume_toml_array_at(arr, 1)), 6, 11);
    const plume_toml_value_t *it = plume_toml_array_at(arr, 2);
    assert_pos(plume_toml_pos(it), 6, 16);
    assert_string_equal(plume_toml_table_key_at(it, 0, &kp), "c");
    assert_pos(kp, 6, 17);
    assert_pos(plume_toml_pos(plume_toml_table_get(it, "c")), 6, 21);

    const plume_toml_value_t *sink = plume_toml_table_get(root, "sink");
    assert_pos(plume_toml_pos(sink), 7, 1);
    const plume_toml_value_t *s0 = plume_toml_array_at(sink, 0);
    assert_pos(plume_toml_pos(s0), 7, 1);
    assert_pos(plume_toml_pos(plume_toml_table_get(s0, "s")), 8, 5);
    /* Lines are counted through multi-line strings. */
    assert_string_equal(plume_toml_table_key_at(s0, 1, &kp), "after");
    assert_pos(kp, 11, 1);
    plume_toml_free(root);
}

static void bom_is_skipped_and_columns_start_after_it(void **state)
{
    (void)state;
    plume_toml_value_t *root = parse_ok("\xef\xbb\xbf" "a = 1\n");
    plume_toml_pos_t kp;
    assert_string_equal(plume_toml_table_key_at(root, 0, &kp), "a");
    assert_pos(kp, 1, 1);
    assert_int_equal(plume_toml_integer(plume_toml_table_get(root, "a")), 1);
    plume_toml_free(root);
    EXPECT_ERROR("a = 1\n\xef\xbb\xbf" "b = 2\n", 2, 1, "expected a key");
}

/* ------------------------------------------------------------------ errors */

static void error_messages_and_locations(void **state)
{
    (void)state;
    EXPECT_ERROR("port = 1\nport = 2\n", 2, 1, "duplicate key 'port'");
    EXPECT_ERROR("[srv]\nport = 1\n\n  port = 2\n", 4, 3, "duplicate key 'port'");
    EXPECT_ERROR("a.b = 1\na.b = 2\n", 2, 3, "duplicate key 'a.b'");
    EXPECT_ERROR("name \"x\"\n", 1, 6, "expected '=' after key");
    EXPECT_ERROR("s = \"a\\qb\"\n", 1, 7, "invalid escape '\\q' in string");
    EXPECT_ERROR("s = \"\"\"\nok\n  \\q\"\"\"\n", 3, 3, "invalid escape '\\q'");
    EXPECT_ERROR("s = \"\\uD800\"\n", 1, 6, "not a Unicode scalar value");
    EXPECT_ERROR("s = \"\\U00110000\"\n", 1, 6, "not a Unicode scalar value");
    EXPECT_ERROR("s = \"abc\n", 1, 9, "unterminated string");
    EXPECT_ERROR("x = 1\ns = \"\"\"abc\n\n", 2, 5, "unterminated multi-line string");
    EXPECT_ERROR("[a]\n[b]\n[a]\n", 3, 2, "table 'a' is already defined");
    EXPECT_ERROR("a = [1, 2\n", 2, 1, "expected ',' or ']'");
    EXPECT_ERROR("a = { b = 1,\n c = 2 }\n", 1, 13, "newline in inline table");
    EXPECT_ERROR("a = { b = 1, }\n", 1, 14, "trailing comma");
    EXPECT_ERROR("a = 99999999999999999999\n", 1, 5, "out of range");
    EXPECT_ERROR("a = -9223372036854775809\n", 1, 5, "out of range");
    EXPECT_ERROR("a = 0x8000000000000000\n", 1, 5, "out of range");
    EXPECT_ERROR("a = 1e400\n", 1, 5, "out of range");
    EXPECT_ERROR("a = 01\n", 1, 5, "leading zeros");
    EXPECT_ERROR("a = 1__0\n", 1, 5, "invalid number '1__0'");
    EXPECT_ERROR("d = 2023-02-29\n", 1, 5, "day out of range");
    EXPECT_ERROR("d = 2023-13-01\n", 1, 5, "month out of range");
    EXPECT_ERROR("t = 24:00:00\n", 1, 5, "hour out of range");
    EXPECT_ERROR("d = 1979-05-27 07:32\n", 1, 5, "invalid time '1979-05-27 07:32'");
    EXPECT_ERROR("a = 1 b = 2\n", 1, 7, "expected a newline after the value, found 'b'");
    EXPECT_ERROR("[t] x\n", 1, 5, "expected a newline after the table header");
    EXPECT_ERROR("a = \n", 1, 5, "expected a value after '='");
    EXPECT_ERROR("a = @\n", 1, 5, "expected a value, found '@'");
    EXPECT_ERROR("a = tru\n", 1, 5, "invalid value 'tru'");
    EXPECT_ERROR("a = 1\r\n\rb = 2\n", 2, 1, "carriage return");
    EXPECT_ERROR("# ok\n# bad \x01 here\n", 2, 7, "control character 0x01 in comment");
    EXPECT_ERROR("a = 1\nb = 'x\x7fy'\n", 2, 7, "control character 0x7f in string");
    EXPECT_ERROR("a = 1\nb = 2\nc = \"ab\xff\"\n", 3, 8, "invalid UTF-8 byte 0xff");
    EXPECT_ERROR("a = \"\xc0\x80\"\n", 1, 6, "invalid UTF-8"); /* overlong NUL */
    EXPECT_ERROR("a = \"\xed\xa0\x80\"\n", 1, 6, "invalid UTF-8"); /* surrogate */
    EXPECT_ERROR("a = \"\xf4\x90\x80\x80\"\n", 1, 6, "invalid UTF-8"); /* > U+10FFFF */
    EXPECT_ERROR("a = \"\xe2\x82\"\n", 1, 6, "invalid UTF-8"); /* truncated */
    EXPECT_ERROR("a = {x = 1}\n[a]\n", 2, 2, "inline table, which cannot be changed");
    EXPECT_ERROR("a = {x = 1}\na.y = 2\n", 2, 1, "inline table, which cannot be changed");
    EXPECT_ERROR("a = [1]\n[[a]]\n", 2, 3, "array value, which cannot be extended");
    EXPECT_ERROR("[[a]]\n[a]\n", 2, 2, "array of tables");
    EXPECT_ERROR("a.b = 1\n[a]\n", 2, 2, "already defined by dotted keys");
    EXPECT_ERROR("[a.b]\n[a]\nb.c = 1\n", 3, 1, "has its own [header]");
    EXPECT_ERROR("a = 1\n[a.b]\n", 2, 2, "key 'a' is already defined as an integer");
    EXPECT_ERROR("\"\"\"k\"\"\" = 1\n", 1, 1, "multi-line string cannot be used as a key");
    EXPECT_ERROR("[a\n", 1, 3, "expected ']' at end of table header");
    EXPECT_ERROR("[[a]\n", 1, 4, "expected ']]'");
    /* The key path in messages is quoted where it is not a bare key. */
    EXPECT_ERROR("\"a b\".c = 1\n\"a b\".c = 1\n", 2, 7, "duplicate key '\"a b\".c'");
}

static void error_without_err_struct_and_empty_inputs(void **state)
{
    (void)state;
    assert_null(plume_toml_parse("=", 1, NULL));
    plume_toml_error_t err;
    plume_toml_value_t *root = plume_toml_parse(NULL, 0, &err);
    assert_non_null(root);
    assert_int_equal(plume_toml_count(root), 0);
    plume_toml_free(root);
    root = plume_toml_parse("", 0, &err);
    assert_non_null(root);
    plume_toml_free(root);
    root = plume_toml_parse("\xef\xbb\xbf", 3, &err);
    assert_non_null(root);
    plume_toml_free(root);
    plume_toml_free(NULL);
    /* The input need not be NUL-terminated: only `len` bytes are read. */
    char buf[8];
    memcpy(buf, "a = 12XX", 8);
    root = plume_toml_parse(buf, 6, &err);
    assert_non_null(root);
    assert_int_equal(plume_toml_integer(plume_toml_table_get(root, "a")), 12);
    plume_toml_free(root);
}

/* ------------------------------------------------------------ NUL in strings */

static void nul_bytes_in_strings_and_keys(void **state)
{
    (void)state;
    const char doc[] = "a = \"x\\u0000y\"\n"
                       "b = \"\"\"p\\u0000q\"\"\"\n"
                       "\"k\\u0000z\" = 1\n"
                       "k = 2\n";
    plume_toml_value_t *root = parse_ok(doc);
    size_t len;
    const char *s = plume_toml_string(plume_toml_table_get(root, "a"), &len);
    assert_int_equal(len, 3);
    assert_memory_equal(s, "x\0y", 4); /* and NUL-terminated */
    s = plume_toml_string(plume_toml_table_get(root, "b"), &len);
    assert_int_equal(len, 3);
    assert_memory_equal(s, "p\0q", 3);

    /* A key holding a NUL: visible with its length, found by getn only. */
    size_t klen;
    const char *k = plume_toml_table_key_len_at(root, 2, &klen, NULL);
    assert_int_equal(klen, 3);
    assert_memory_equal(k, "k\0z", 3);
    const plume_toml_value_t *v = plume_toml_table_getn(root, "k\0z", 3);
    assert_non_null(v);
    assert_int_equal(plume_toml_integer(v), 1);
    assert_int_equal(plume_toml_integer(plume_toml_table_get(root, "k")), 2);
    assert_null(plume_toml_table_getn(root, "k\0", 2));

    /* A raw NUL byte in the document is an error, not a terminator. */
    const char raw[] = "a = \"x\0y\"\n";
    expect_error(raw, sizeof(raw) - 1, 1, 7, "control character 0x00 in string");
    const char raw2[] = "a = 1\0\n";
    expect_error(raw2, sizeof(raw2) - 1, 1, 6, "control character 0x00");
    plume_toml_free(root);
}

/* ------------------------------------------------------------- depth limit */

static char *nested(const char *prefix, const char *open, const char *inner, const char *close,
                    int n)
{
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_buf_append_str(&b, prefix);
    for (int i = 0; i < n; i++)
        plume_buf_append_str(&b, open);
    plume_buf_append_str(&b, inner);
    for (int i = 0; i < n; i++)
        plume_buf_append_str(&b, close);
    plume_buf_append_str(&b, "\n");
    plume_buf_append_byte(&b, 0);
    return (char *)plume_buf_steal(&b, NULL);
}

static void depth_limit(void **state)
{
    (void)state;
    plume_toml_error_t err;
    /* 128 nested arrays under the root are fine, 129 are not. */
    char *ok = nested("a = ", "[", "1", "]", 128);
    plume_toml_value_t *root = plume_toml_parse(ok, strlen(ok), &err);
    assert_non_null(root);
    const plume_toml_value_t *v = plume_toml_table_get(root, "a");
    for (int i = 0; i < 127; i++)
        v = plume_toml_array_at(v, 0);
    assert_int_equal(plume_toml_type(v), PLUME_TOML_ARRAY);
    assert_int_equal(plume_toml_integer(plume_toml_array_at(v, 0)), 1);
    plume_toml_free(root);
    free(ok);

    char *bad = nested("a = ", "[", "1", "]", 129);
    expect_error(bad, strlen(bad), 1, 4 + 129, "nesting deeper than 128 levels");
    free(bad);
    bad = nested("a = ", "{b = ", "1", "}", 129);
    expect_error(bad, strlen(bad), 1, 5 + 128 * 5, "nesting deeper than 128 levels");
    free(bad);
    /* Tables count too: [t] is one level, so 128 arrays below it are too many. */
    bad = nested("[t]\na = ", "[", "1", "]", 128);
    expect_error(bad, strlen(bad), 2, 4 + 128, "nesting deeper than 128 levels");
    free(bad);
    /* Dotted keys and headers with too many parts. */
    bad = nested("", "a.", "b = 1", "", 128);
    expect_error(bad, strlen(bad), 1, 1 + 128 * 2, "more than 128 parts");
    free(bad);
    bad = nested("[", "a.", "b]", "", 128);
    expect_error(bad, strlen(bad), 1, 2 + 128 * 2, "more than 128 parts");
    free(bad);
    /* Hostile depth: fails fast, no stack exhaustion. */
    bad = nested("a = ", "[", "", "", 200000);
    expect_error(bad, strlen(bad), 1, 4 + 129, "nesting deeper");
    free(bad);
    bad = nested("a = ", "{b=", "", "", 200000);
    expect_error(bad, strlen(bad), 1, 5 + 128 * 3, "nesting deeper");
    free(bad);
}

/* -------------------------------------------------------- large documents */

static void big_table_and_document_order(void **state)
{
    (void)state;
    enum { N = 100000 };
    plume_buf_t b;
    plume_buf_init(&b, 0);
    /* Keys in descending order, to see that iteration is document order. */
    for (int i = N - 1; i >= 0; i--)
        plume_buf_printf(&b, "k%d = %d\n", i, i);
    plume_toml_error_t err;
    plume_toml_value_t *root = plume_toml_parse((const char *)b.data, b.len, &err);
    assert_non_null(root);
    assert_int_equal(plume_toml_count(root), N);
    for (size_t i = 0; i < N; i += 997) {
        char key[32];
        snprintf(key, sizeof(key), "k%zu", (size_t)N - 1 - i);
        assert_string_equal(plume_toml_table_key_at(root, i, NULL), key);
        assert_int_equal(plume_toml_integer(plume_toml_table_value_at(root, i)),
                         (int64_t)(N - 1 - i));
        assert_ptr_equal(plume_toml_table_get(root, key), plume_toml_table_value_at(root, i));
    }
    assert_null(plume_toml_table_get(root, "k100000"));
    plume_toml_free(root);

    /* A duplicate at the end of a big table is found, at its line. */
    plume_buf_printf(&b, "k777 = 1\n");
    expect_error((const char *)b.data, b.len, N + 1, 1, "duplicate key 'k777'");

    /* Many headers and many array-of-tables elements. */
    plume_buf_reset(&b);
    for (int i = 0; i < N / 2; i++)
        plume_buf_printf(&b, "[t%d]\nx = 1\n[[arr]]\ny = %d\n", i, i);
    root = plume_toml_parse((const char *)b.data, b.len, &err);
    assert_non_null(root);
    assert_int_equal(plume_toml_count(root), N / 2 + 1);
    const plume_toml_value_t *arr = plume_toml_table_get(root, "arr");
    assert_int_equal(plume_toml_count(arr), N / 2);
    assert_int_equal(plume_toml_integer(plume_toml_table_get(plume_toml_array_at(arr, 12345), "y")),
                     12345);
    plume_toml_free(root);

    /* A big inline table. */
    plume_buf_reset(&b);
    plume_buf_append_str(&b, "t = {");
    for (int i = 0; i < N; i++)
        plume_buf_printf(&b, "%sk%d = %d", i ? ", " : "", i, i);
    plume_buf_append_str(&b, "}\n");
    root = plume_toml_parse((const char *)b.data, b.len, &err);
    assert_non_null(root);
    assert_int_equal(plume_toml_count(plume_toml_table_get(root, "t")), N);
    plume_toml_free(root);
    plume_buf_free(&b);
}

static void document_order_is_kept(void **state)
{
    (void)state;
    plume_toml_value_t *root = parse_ok("zeta = 1\n"
                                        "alpha = 2\n"
                                        "mid.z = 3\n"
                                        "mid.a = 4\n"
                                        "[later]\n"
                                        "b = 1\n"
                                        "[earlier]\n"
                                        "[later.sub]\n"
                                        "[mid2]\n");
    const char *want[] = {"zeta", "alpha", "mid", "later", "earlier", "mid2"};
    assert_int_equal(plume_toml_count(root), 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(plume_toml_table_key_at(root, i, NULL), want[i]);
    const plume_toml_value_t *mid = plume_toml_table_get(root, "mid");
    assert_string_equal(plume_toml_table_key_at(mid, 0, NULL), "z");
    assert_string_equal(plume_toml_table_key_at(mid, 1, NULL), "a");
    const plume_toml_value_t *later = plume_toml_table_get(root, "later");
    assert_string_equal(plume_toml_table_key_at(later, 0, NULL), "b");
    assert_string_equal(plume_toml_table_key_at(later, 1, NULL), "sub");
    assert_null(plume_toml_table_key_at(later, 2, NULL));
    assert_null(plume_toml_table_value_at(later, 2));
    plume_toml_free(root);
}

/* ------------------------------------------------------------------ values */

static void value_decoding(void **state)
{
    (void)state;
    plume_toml_value_t *root = parse_ok("i1 = +17\n"
                                        "i2 = -0\n"
                                        "i3 = 1_000_000\n"
                                        "i4 = 0xDEAD_beef\n"
                                        "i5 = 0o755\n"
                                        "i6 = 0b1101\n"
                                        "i7 = -9223372036854775808\n"
                                        "i8 = 0x7fffffffffffffff\n"
                                        "f1 = 6.626e-34\n"
                                        "f2 = -inf\n"
                                        "f3 = nan\n"
                                        "f4 = 224_617.445_991\n"
                                        "f5 = 1E+2\n"
                                        "b1 = true\n"
                                        "b2 = false\n"
                                        "d1 = 1979-05-27 07:32:00z\n"
                                        "d2 = 1979-05-27t07:32:00.999-07:00\n"
                                        "d3 = 1979-05-27T07:32:00\n"
                                        "d4 = 1979-05-27\n"
                                        "d5 = 00:32:00.5\n"
                                        "d6 = 2000-02-29T23:59:60Z\n"
                                        "s1 = \"tab\\there \\\"q\\\" \\u00e9 \\U0001F600\"\n"
                                        "s2 = 'C:\\path'\n"
                                        "s3 = \"\"\"\\\n   joined \\\n   words\"\"\"\n"
                                        "s4 = \"\"\"\r\nline1\r\nline2\"\"\"\"\"\n"
                                        "s5 = '''\n''two quotes'' '''\n");
#define GET(k) plume_toml_table_get(root, k)
    assert_int_equal(plume_toml_integer(GET("i1")), 17);
    assert_int_equal(plume_toml_integer(GET("i2")), 0);
    assert_int_equal(plume_toml_integer(GET("i3")), 1000000);
    assert_int_equal(plume_toml_integer(GET("i4")), 0xdeadbeef);
    assert_int_equal(plume_toml_integer(GET("i5")), 0755);
    assert_int_equal(plume_toml_integer(GET("i6")), 13);
    assert_true(plume_toml_integer(GET("i7")) == INT64_MIN);
    assert_true(plume_toml_integer(GET("i8")) == INT64_MAX);
    assert_true(plume_toml_float(GET("f1")) == 6.626e-34);
    assert_true(isinf(plume_toml_float(GET("f2"))) && plume_toml_float(GET("f2")) < 0);
    assert_true(isnan(plume_toml_float(GET("f3"))));
    assert_true(plume_toml_float(GET("f4")) == 224617.445991);
    assert_true(plume_toml_float(GET("f5")) == 100.0);
    assert_int_equal(plume_toml_type(GET("f5")), PLUME_TOML_FLOAT);
    assert_true(plume_toml_bool(GET("b1")));
    assert_false(plume_toml_bool(GET("b2")));
    assert_int_equal(plume_toml_type(GET("b2")), PLUME_TOML_BOOL);

    static const struct {
        const char *key, *text;
        plume_toml_type_t type;
    } dts[] = {
        {"d1", "1979-05-27T07:32:00Z", PLUME_TOML_DATETIME},
        {"d2", "1979-05-27T07:32:00.999-07:00", PLUME_TOML_DATETIME},
        {"d3", "1979-05-27T07:32:00", PLUME_TOML_DATETIME_LOCAL},
        {"d4", "1979-05-27", PLUME_TOML_DATE_LOCAL},
        {"d5", "00:32:00.5", PLUME_TOML_TIME_LOCAL},
        {"d6", "2000-02-29T23:59:60Z", PLUME_TOML_DATETIME},
    };
    for (size_t i = 0; i < sizeof(dts) / sizeof(dts[0]); i++) {
        const plume_toml_value_t *v = GET(dts[i].key);
        assert_int_equal(plume_toml_type(v), dts[i].type);
        assert_string_equal(plume_toml_string(v, NULL), dts[i].text);
    }
    size_t len;
    assert_string_equal(plume_toml_string(GET("s1"), &len),
                        "tab\there \"q\" \xc3\xa9 \xf0\x9f\x98\x80");
    assert_int_equal(len, strlen("tab\there \"q\" \xc3\xa9 \xf0\x9f\x98\x80"));
    assert_string_equal(plume_toml_string(GET("s2"), NULL), "C:\\path");
    assert_string_equal(plume_toml_string(GET("s3"), NULL), "joined words");
    assert_string_equal(plume_toml_string(GET("s4"), NULL), "line1\nline2\"\"");
    assert_string_equal(plume_toml_string(GET("s5"), NULL), "''two quotes'' ");

    /* Accessors on the wrong type return neutral values. */
    assert_null(plume_toml_string(GET("i1"), &len));
    assert_int_equal(len, 0);
    assert_int_equal(plume_toml_integer(GET("s1")), 0);
    assert_true(plume_toml_float(GET("i1")) == 0.0);
    assert_false(plume_toml_bool(GET("i1")));
    assert_int_equal(plume_toml_count(GET("i1")), 0);
    assert_null(plume_toml_array_at(GET("i1"), 0));
    assert_null(plume_toml_table_get(GET("i1"), "x"));
    assert_null(plume_toml_table_key_at(GET("i1"), 0, NULL));
#undef GET
    plume_toml_free(root);
}

static void type_names(void **state)
{
    (void)state;
    assert_string_equal(plume_toml_type_name(PLUME_TOML_STRING), "string");
    assert_string_equal(plume_toml_type_name(PLUME_TOML_INTEGER), "integer");
    assert_string_equal(plume_toml_type_name(PLUME_TOML_FLOAT), "float");
    assert_string_equal(plume_toml_type_name(PLUME_TOML_BOOL), "boolean");
    assert_string_equal(plume_toml_type_name(PLUME_TOML_DATETIME), "datetime");
    assert_string_equal(plume_toml_type_name(PLUME_TOML_DATETIME_LOCAL), "datetime-local");
    assert_string_equal(plume_toml_type_name(PLUME_TOML_DATE_LOCAL), "date-local");
    assert_string_equal(plume_toml_type_name(PLUME_TOML_TIME_LOCAL), "time-local");
    assert_string_equal(plume_toml_type_name(PLUME_TOML_ARRAY), "array");
    assert_string_equal(plume_toml_type_name(PLUME_TOML_TABLE), "table");
}

/* ------------------------------------------------------- redefinition rules */

static void table_rules(void **state)
{
    (void)state;
    static const char *valid[] = {
        "[a.b.c]\n[a]\nx = 1\n",                         /* implicit, then defined */
        "[a.b.c]\n[a.b]\n",                              /* same */
        "[fruit]\napple.color = 'red'\n[fruit.apple.texture]\nsmooth = true\n",
        "[a.b.c]\n[a]\nb.d = 1\n",                       /* dotted into an implicit table */
        "[[a]]\n[a.b]\n[[a]]\n[a.b]\n",                  /* sub-table per element */
        "[[a.b]]\n[[a.b]]\n[a]\n",
        "a = {b.c = 1, b.d = 2}\n",
        "x.y.z = 1\nx.y.w = 2\nx.v = 3\n",
        "[t]\na.b = 1\na.c = 2\n",
        "\"a.b\" = 1\na.b = 2\n",                       /* quoted dot is not a separator */
        "a = [{b = 1}, {b = 2}]\n",
    };
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
        plume_toml_free(parse_ok(valid[i]));
    static const char *invalid[] = {
        "[a]\n[a]\n",
        "[a.b]\n[a.b]\n",
        "a.b = 1\n[a.b]\n",
        "[a]\nb.c = 1\n[a.b]\n",
        "[a]\nb = {}\n[a.b]\n",
        "[a]\nb = {}\nb.c = 1\n",
        "a = {}\na.b = 1\n",
        "a = {b = {}}\n[a.b.c]\n",
        "a = []\n[[a]]\n",
        "a = [{}]\n[a.b]\n",
        "[[a]]\n[a]\n",
        "[a]\n[[a]]\n",
        "a = 1\na.b = 2\n",
        "a = {b = 1, b = 2}\n",
        "a = {b = {c = 1}, b.d = 2}\n",
        "[a.b]\n[a]\nb.c = 1\n",
        "[[a.b]]\n[a]\nb.c = 1\n",
        "a = 'x'\n[a]\n",
    };
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        plume_toml_error_t err;
        plume_toml_value_t *root = plume_toml_parse(invalid[i], strlen(invalid[i]), &err);
        if (root)
            print_message("accepted: %s\n", invalid[i]);
        assert_null(root);
        assert_true(err.pos.line >= 1 && err.message[0]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(positions_of_keys_and_values),
        cmocka_unit_test(bom_is_skipped_and_columns_start_after_it),
        cmocka_unit_test(error_messages_and_locations),
        cmocka_unit_test(error_without_err_struct_and_empty_inputs),
        cmocka_unit_test(nul_bytes_in_strings_and_keys),
        cmocka_unit_test(depth_limit),
        cmocka_unit_test(big_table_and_document_order),
        cmocka_unit_test(document_order_is_kept),
        cmocka_unit_test(value_decoding),
        cmocka_unit_test(type_names),
        cmocka_unit_test(table_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
