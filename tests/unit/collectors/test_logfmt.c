/* SPDX-License-Identifier: MIT */
/* logfmt iterator: pairs, missing values, quoting and escapes (with and
 * without a scratch buffer), and go-logfmt's syntax errors and positions. */
#include "test_support.h"
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logfmt.h"

/* Renders a record as "k=v|k|k=<none>|" with values unescaped; on a syntax
 * error appends "ERR:<msg>@<offset>". */
static void render(const char *s, size_t n, plume_buf_t *scratch, char *dst, size_t cap)
{
    plume_logfmt_iter_t it;
    plume_logfmt_pair_t p;
    size_t o = 0;
    dst[0] = '\0';
    plume_logfmt_iter_init(&it, s, n, scratch);
    while (plume_logfmt_next(&it, &p)) {
        char val[256];
        size_t vlen = p.value_len;
        if (p.escaped) {
            assert_null(scratch);
            assert_true(p.decoded_len < sizeof(val));
            vlen = plume_logfmt_unescape(p.value, p.value_len, val);
            assert_int_equal(vlen, p.decoded_len);
        } else {
            assert_int_equal(p.value_len, p.decoded_len);
            memcpy(val, p.value ? p.value : "", vlen);
        }
        if (!p.has_equals)
            o += (size_t)snprintf(dst + o, cap - o, "%.*s|", (int)p.key_len, p.key);
        else if (!p.has_value)
            o += (size_t)snprintf(dst + o, cap - o, "%.*s=<none>|", (int)p.key_len, p.key);
        else
            o += (size_t)snprintf(dst + o, cap - o, "%.*s=%.*s|", (int)p.key_len, p.key,
                                  (int)vlen, val);
    }
    if (it.err)
        snprintf(dst + o, cap - o, "ERR:%s@%zu", it.err, it.err_offset);
    /* once finished, it stays finished */
    assert_false(plume_logfmt_next(&it, &p));
}

static void check(const char *in, const char *want)
{
    char got[512];
    plume_buf_t scratch;
    render(in, strlen(in), NULL, got, sizeof(got));
    assert_string_equal(got, want);
    plume_buf_init(&scratch, 0);
    render(in, strlen(in), &scratch, got, sizeof(got));
    assert_string_equal(got, want);
    plume_buf_free(&scratch);
}

static void pairs(void **state)
{
    (void)state;
    check("", "");
    check("   \t ", "");
    check("a=1", "a=1|");
    check("a=1 b=two c=\"three 3\"", "a=1|b=two|c=three 3|");
    check("  level=info   msg=hello\t", "level=info|msg=hello|");
    check("a=1 a=2", "a=1|a=2|"); /* duplicates kept */
    check("\x1e y=g", "y=g|");    /* any byte <= 0x20 separates */
    check("k=\xc3\xa9t\xc3\xa9 \xc6\x92=2h3s", "k=\xc3\xa9t\xc3\xa9|\xc6\x92=2h3s|");
    check("url=http://x/?a", "url=http://x/?a|");
}

static void missing_values(void **state)
{
    (void)state;
    check("flag", "flag|");
    check("a flag b=1", "a|flag|b=1|");
    check("x= ", "x=<none>|");
    check("y=", "y=<none>|");
    check("y= d y=g", "y=<none>|d|y=g|");
    check("e=\"\"", "e=<none>|"); /* go-logfmt: empty quoted value is no value */
}

static void quoted_values(void **state)
{
    (void)state;
    check("y=\"\\tf\"", "y=\tf|");
    check("q=\"say \\\"hi\\\"\"", "q=say \"hi\"|");
    check("e=\"\\\\ \\/ \\' \\b\\f\\n\\r\\t\"", "e=\\ / ' \b\f\n\r\t|");
    check("u=\"caf\\u00e9 \\u20ac\"", "u=caf\xc3\xa9 \xe2\x82\xac|");
    check("s=\"\\ud83d\\ude00\"", "s=\xf0\x9f\x98\x80|");
    check("l=\"\\ud800x\"", "l=\xef\xbf\xbdx|");
    check("y=\"f\\n\"y=g", "y=f\n|y=g|"); /* no space needed after a quote */
    check("t=\"a\tb\"", "t=a\tb|");       /* raw tab without escapes: kept */
    check("p=\"a=b\"", "p=a=b|");
}

static void escaped_pair_fields(void **state)
{
    (void)state;
    plume_logfmt_iter_t it;
    plume_logfmt_pair_t p;
    const char *s = "k=\"a\\nb\" j=\"plain\"";
    plume_logfmt_iter_init(&it, s, strlen(s), NULL);
    assert_true(plume_logfmt_next(&it, &p));
    assert_true(p.quoted && p.escaped && p.has_value && p.has_equals);
    assert_int_equal(p.value_len, 4); /* raw a\nb */
    assert_int_equal(p.decoded_len, 3);
    assert_ptr_equal(p.value, s + 3);
    assert_true(plume_logfmt_next(&it, &p));
    assert_true(p.quoted && !p.escaped);
    assert_int_equal(p.value_len, 5);
    assert_false(plume_logfmt_next(&it, &p));
    assert_null(it.err);

    plume_buf_t scratch;
    plume_buf_init(&scratch, 0);
    plume_logfmt_iter_init(&it, s, strlen(s), &scratch);
    assert_true(plume_logfmt_next(&it, &p));
    assert_false(p.escaped);
    assert_ptr_equal(p.value, scratch.data);
    assert_int_equal(p.value_len, 3);
    assert_memory_equal(p.value, "a\nb", 3);
    plume_buf_free(&scratch);
}

static void syntax_errors(void **state)
{
    (void)state;
    /* messages and positions of go-logfmt (pos there = offset + 1) */
    check("=bar", "ERR:unexpected '='@0");
    check("\"k\"=bar", "ERR:unexpected '\"'@0");
    check("k\"ey=bar", "ERR:unexpected '\"'@1");
    check("k=b\"ar", "ERR:unexpected '\"'@3");
    check("k=b =ar", "k=b|ERR:unexpected '='@4");
    check("a==", "ERR:unexpected '='@2");
    check("k=b=ar", "ERR:unexpected '='@3");
    check("a=\"1", "ERR:unterminated quoted value@4");
    check("a=\"1\\", "ERR:unterminated quoted value@5");
    check("a=\"\\t1", "ERR:unterminated quoted value@6");
    check("a=\"\\u1\"", "ERR:invalid quoted value@7");
    check("a=\"\\x\"", "ERR:invalid quoted value@6");
    check("a=\"\\n\tb\"", "ERR:invalid quoted value@8"); /* control char with escapes */
    check("a\xef\xbf\xbd=bar", "ERR:invalid key@4");
    check("\x80=bar", "ERR:invalid key@1");
    check("\x80", "ERR:invalid key@1");
    check("ok=1 \xc3(=x", "ok=1|ERR:invalid key@7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pairs),
        cmocka_unit_test(missing_values),
        cmocka_unit_test(quoted_values),
        cmocka_unit_test(escaped_pair_fields),
        cmocka_unit_test(syntax_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
