/* SPDX-License-Identifier: MIT */
/* UTF-8 validation, U+FFFD repair (maximal subparts) and cut-line tails. */
#include "test_support.h"
#include <cmocka.h>
#include <string.h>

#include "utf8.h"

#define S(lit) lit, sizeof(lit) - 1

static void valid_sequences(void **state)
{
    (void)state;
    assert_true(plume_utf8_valid(S("")));
    assert_true(plume_utf8_valid(S("plain ascii text that is longer than eight bytes")));
    assert_true(plume_utf8_valid(S("\x7f")));
    assert_true(plume_utf8_valid(S("\xc2\x80")));         /* U+0080 */
    assert_true(plume_utf8_valid(S("\xdf\xbf")));         /* U+07FF */
    assert_true(plume_utf8_valid(S("\xe0\xa0\x80")));     /* U+0800 */
    assert_true(plume_utf8_valid(S("\xed\x9f\xbf")));     /* U+D7FF */
    assert_true(plume_utf8_valid(S("\xee\x80\x80")));     /* U+E000 */
    assert_true(plume_utf8_valid(S("\xef\xbf\xbf")));     /* U+FFFF */
    assert_true(plume_utf8_valid(S("\xf0\x90\x80\x80"))); /* U+10000 */
    assert_true(plume_utf8_valid(S("\xf4\x8f\xbf\xbf"))); /* U+10FFFF */
    assert_true(plume_utf8_valid(S("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 done")));
}

static void invalid_sequences(void **state)
{
    (void)state;
    assert_false(plume_utf8_valid(S("\x80")));             /* lone continuation */
    assert_false(plume_utf8_valid(S("\xc0\x80")));         /* overlong NUL */
    assert_false(plume_utf8_valid(S("\xc1\xbf")));         /* overlong */
    assert_false(plume_utf8_valid(S("\xe0\x80\x80")));     /* overlong 3-byte */
    assert_false(plume_utf8_valid(S("\xe0\x9f\xbf")));     /* overlong 3-byte */
    assert_false(plume_utf8_valid(S("\xf0\x80\x80\x80"))); /* overlong 4-byte */
    assert_false(plume_utf8_valid(S("\xf0\x8f\xbf\xbf"))); /* overlong 4-byte */
    assert_false(plume_utf8_valid(S("\xed\xa0\x80")));     /* U+D800 */
    assert_false(plume_utf8_valid(S("\xed\xbf\xbf")));     /* U+DFFF */
    assert_false(plume_utf8_valid(S("\xf4\x90\x80\x80"))); /* U+110000 */
    assert_false(plume_utf8_valid(S("\xf5\x80\x80\x80")));
    assert_false(plume_utf8_valid(S("\xff")));
    assert_false(plume_utf8_valid(S("\xe2\x82")));         /* truncated */
    assert_false(plume_utf8_valid(S("\xf0\x9f\x98")));     /* truncated */
    assert_false(plume_utf8_valid(S("\xc3\x28")));         /* bad continuation */
}

/* The ASCII fast path must not skip a bad byte at any position. */
static void bad_byte_at_every_position(void **state)
{
    (void)state;
    char buf[40];
    for (size_t pos = 0; pos < sizeof(buf); pos++) {
        memset(buf, 'a', sizeof(buf));
        buf[pos] = (char)0x80;
        assert_false(plume_utf8_valid(buf, sizeof(buf)));
        assert_int_equal(plume_utf8_valid_prefix(buf, sizeof(buf)), pos);
        /* a valid 2-byte sequence at the same place is fine */
        if (pos + 1 < sizeof(buf)) {
            buf[pos] = (char)0xc3;
            buf[pos + 1] = (char)0xa9;
            assert_true(plume_utf8_valid(buf, sizeof(buf)));
        }
    }
}

static void check_sanitize(const char *in, size_t n, const char *want, size_t want_n,
                           size_t want_repl)
{
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_buf_append(&b, "X", 1); /* appends, does not reset */
    size_t repl = plume_utf8_sanitize(in, n, &b);
    assert_int_equal(repl, want_repl);
    assert_int_equal(b.len, want_n + 1);
    assert_memory_equal(b.data, "X", 1);
    assert_memory_equal(b.data + 1, want, want_n);
    assert_true(plume_utf8_valid((const char *)b.data, b.len));
    plume_buf_free(&b);
}

#define R "\xef\xbf\xbd"

static void sanitize_maximal_subparts(void **state)
{
    (void)state;
    /* The example of Unicode 15, section 3.9 (U+FFFD substitution). */
    check_sanitize(S("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64"),
                   S("a" R R R "b" R "c" R R "d"), 6);
    check_sanitize(S("ok"), S("ok"), 0);
    check_sanitize(S("\xe0\x80\x80"), S(R R R), 3);       /* overlong: no valid prefix */
    check_sanitize(S("\xed\xa0\x80"), S(R R R), 3);       /* surrogate */
    check_sanitize(S("\xf4\x90\x80\x80"), S(R R R R), 4); /* above U+10FFFF */
    check_sanitize(S("ab\xe2\x82"), S("ab" R), 1);        /* truncated at the end */
    check_sanitize(S("\xe2\x82x"), S(R "x"), 1);          /* truncated before ASCII */
    check_sanitize(S("\xf0\x9f\x98\x80\xff"), S("\xf0\x9f\x98\x80" R), 1);
    check_sanitize(S("\xc0\xaf"), S(R R), 2);
}

static void incomplete_tail(void **state)
{
    (void)state;
    assert_int_equal(plume_utf8_incomplete_tail(S("")), 0);
    assert_int_equal(plume_utf8_incomplete_tail(S("abc")), 0);
    assert_int_equal(plume_utf8_incomplete_tail(S("abc\xe2")), 1);
    assert_int_equal(plume_utf8_incomplete_tail(S("abc\xe2\x82")), 2);
    assert_int_equal(plume_utf8_incomplete_tail(S("abc\xe2\x82\xac")), 0);
    assert_int_equal(plume_utf8_incomplete_tail(S("\xf0\x9f\x98")), 3);
    assert_int_equal(plume_utf8_incomplete_tail(S("\xf0\x9f\x98\x80")), 0);
    assert_int_equal(plume_utf8_incomplete_tail(S("ab\x80")), 0);     /* stray, not cut */
    assert_int_equal(plume_utf8_incomplete_tail(S("\xed\xa0")), 0);   /* never valid */
    assert_int_equal(plume_utf8_incomplete_tail(S("\xe0\x80")), 0);   /* overlong start */
    assert_int_equal(plume_utf8_incomplete_tail(S("\xc3")), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_sequences),
        cmocka_unit_test(invalid_sequences),
        cmocka_unit_test(bad_byte_at_every_position),
        cmocka_unit_test(sanitize_maximal_subparts),
        cmocka_unit_test(incomplete_tail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
