/* SPDX-License-Identifier: MIT */
/* Console lines: exact text for representative events, colours, value
 * quoting, nested values, markers, and that nothing from an event can reach
 * the terminal as a raw control sequence; events carrying "fields_json"
 * render like the same fields as msgpack. */
#include "test_support.h"
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "console_format.h"
#include "event.h"
#include "mp.h"

#define T0 (1795255200ull * 1000000000ull + 123456789ull)
#define TS "2026-11-21T10:00:00.123Z"

static const char *render(plume_buf_t *ev, bool color)
{
    static char text[4096];
    plume_buf_t out;
    plume_buf_init(&out, 0);
    plume_console_format_event(&out, ev->data, ev->len, color);
    assert_false(out.failed);
    assert_true(out.len < sizeof(text));
    memcpy(text, out.data, out.len);
    text[out.len] = '\0';
    plume_buf_free(&out);
    return text;
}

/* Event with an optional level and message and the given string fields
 * (NULL-terminated key, value list). */
static void build(plume_buf_t *b, plume_level_t level, const char *msg, const char *const *kv)
{
    plume_event_builder_t eb;
    plume_buf_reset(b);
    plume_event_begin(&eb, b, T0);
    plume_event_set_level(&eb, level);
    if (msg)
        plume_event_set_message(&eb, msg, strlen(msg));
    if (kv && kv[0]) {
        plume_event_fields_begin(&eb);
        for (; kv[0]; kv += 2) {
            plume_mp_cstr(b, kv[0]);
            plume_mp_cstr(b, kv[1]);
            plume_event_field_added(&eb);
        }
        plume_event_fields_end(&eb);
    }
    assert_true(plume_event_end(&eb));
}

static void example_line(void **state)
{
    (void)state;
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    const char *kv[] = {"key", "value", "key2", "quoted value", NULL};
    build(&ev, PLUME_LEVEL_INFO, "message text", kv);
    assert_string_equal(render(&ev, false),
                        TS " INFO  message text  key=value key2=\"quoted value\"\n");
    assert_string_equal(render(&ev, true), TS " \x1b[32mINFO\x1b[0m  message text  key=value "
                                              "key2=\"quoted value\"\n");
    plume_buf_free(&ev);
}

static void levels_and_layout(void **state)
{
    (void)state;
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    static const struct {
        plume_level_t level;
        const char *plain, *colored;
    } cases[] = {
        {PLUME_LEVEL_TRACE, TS " TRACE m\n", TS " \x1b[2mTRACE\x1b[0m m\n"},
        {PLUME_LEVEL_DEBUG, TS " DEBUG m\n", TS " \x1b[2mDEBUG\x1b[0m m\n"},
        {PLUME_LEVEL_INFO, TS " INFO  m\n", TS " \x1b[32mINFO\x1b[0m  m\n"},
        {PLUME_LEVEL_WARN, TS " WARN  m\n", TS " \x1b[33mWARN\x1b[0m  m\n"},
        {PLUME_LEVEL_ERROR, TS " ERROR m\n", TS " \x1b[31mERROR\x1b[0m m\n"},
        {PLUME_LEVEL_FATAL, TS " FATAL m\n", TS " \x1b[1;31mFATAL\x1b[0m m\n"},
        {PLUME_LEVEL_NONE, TS " m\n", TS " m\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        build(&ev, cases[i].level, "m", NULL);
        assert_string_equal(render(&ev, false), cases[i].plain);
        assert_string_equal(render(&ev, true), cases[i].colored);
    }
    /* No trailing padding when nothing follows the level. */
    build(&ev, PLUME_LEVEL_INFO, NULL, NULL);
    assert_string_equal(render(&ev, false), TS " INFO\n");
    /* An empty message is left out. */
    build(&ev, PLUME_LEVEL_WARN, "", NULL);
    assert_string_equal(render(&ev, false), TS " WARN\n");
    /* Fields without a message: one space, not two. */
    const char *kv[] = {"a", "1", NULL};
    build(&ev, PLUME_LEVEL_INFO, NULL, kv);
    assert_string_equal(render(&ev, false), TS " INFO  a=1\n");
    build(&ev, PLUME_LEVEL_NONE, NULL, kv);
    assert_string_equal(render(&ev, false), TS " a=1\n");
    plume_buf_free(&ev);
}

static void string_quoting(void **state)
{
    (void)state;
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    const char *kv[] = {"empty", "",
                        "eq", "a=b",
                        "quote", "say \"hi\"",
                        "bs", "C:\\dir",
                        "utf8", "h\xc3\xa9llo",
                        "nl", "two\nlines",
                        "my key", "x",
                        "k=v", "y",
                        "path", "/api/v1?q=1",
                        NULL};
    build(&ev, PLUME_LEVEL_NONE, "m", kv);
    assert_string_equal(render(&ev, false),
                        TS " m  empty=\"\" eq=\"a=b\" quote=\"say \\\"hi\\\"\" bs=\"C:\\\\dir\" "
                           "utf8=h\xc3\xa9llo nl=\"two\\nlines\" \"my key\"=x \"k=v\"=y "
                           "path=\"/api/v1?q=1\"\n");
    plume_buf_free(&ev);
}

static void typed_and_nested_values(void **state)
{
    (void)state;
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    plume_event_builder_t eb;
    plume_event_begin(&eb, &ev, T0);
    plume_event_fields_begin(&eb);
    plume_mp_cstr(&ev, "n");
    plume_mp_nil(&ev);
    plume_mp_cstr(&ev, "b");
    plume_mp_bool(&ev, false);
    plume_mp_cstr(&ev, "i");
    plume_mp_int(&ev, -5);
    plume_mp_cstr(&ev, "u");
    plume_mp_uint(&ev, UINT64_MAX);
    plume_mp_cstr(&ev, "f");
    plume_mp_double(&ev, 1.5);
    plume_mp_cstr(&ev, "nan");
    plume_mp_double(&ev, NAN);
    plume_mp_cstr(&ev, "inf");
    plume_mp_double(&ev, -INFINITY);
    plume_mp_cstr(&ev, "map");
    plume_mp_map_header(&ev, 2);
    plume_mp_cstr(&ev, "a");
    plume_mp_array_header(&ev, 2);
    plume_mp_int(&ev, 1);
    plume_mp_cstr(&ev, "two words");
    plume_mp_cstr(&ev, "esc");
    plume_mp_cstr(&ev, "\x1b[31m");
    plume_mp_cstr(&ev, "bin");
    plume_mp_bin(&ev, "\x01\x02", 2);
    plume_mp_int(&ev, 7);
    plume_mp_cstr(&ev, "int key");
    for (int i = 0; i < 10; i++)
        plume_event_field_added(&eb);
    plume_event_fields_end(&eb);
    assert_true(plume_event_end(&eb));
    assert_string_equal(render(&ev, false),
                        TS " n=null b=false i=-5 u=18446744073709551615 f=1.5 nan=NaN inf=-Inf "
                           "map={\"a\":[1,\"two words\"],\"esc\":\"\\u001b[31m\"} "
                           "bin=\"AQI=\" 7=\"int key\"\n");
    plume_buf_free(&ev);
}

static void markers(void **state)
{
    (void)state;
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    plume_event_builder_t eb;
    plume_event_begin(&eb, &ev, T0);
    plume_event_set_level(&eb, PLUME_LEVEL_ERROR);
    plume_event_set_message(&eb, "{\"broken", 8);
    plume_event_set_truncated(&eb);
    plume_event_set_parse_error(&eb, "unexpected end\x1b]0;x\x07");
    assert_true(plume_event_end(&eb));
    assert_string_equal(render(&ev, false),
                        TS " ERROR {\"broken [truncated] "
                           "[parse_error: unexpected end\\x1b]0;x\\x07]\n");
    plume_buf_reset(&ev);
    plume_event_begin(&eb, &ev, T0);
    plume_event_set_truncated(&eb);
    assert_true(plume_event_end(&eb));
    assert_string_equal(render(&ev, false), TS " [truncated]\n");
    plume_buf_free(&ev);
}

static void no_terminal_injection(void **state)
{
    (void)state;
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    const char *kv[] = {"k\x1b", "v\x9b" "1m", NULL};
    build(&ev, PLUME_LEVEL_INFO,
          "a\x1b[31mred\r\nline\t\x7f\xff\xc2\x9b\xe2\x80\xae\xe2\x82\\ok \xf0\x9f\x98\x80", kv);
    assert_string_equal(render(&ev, false),
                        TS " INFO  a\\x1b[31mred\\r\\nline\\t\\x7f\\xff\\u009b\\u202e\\xe2\\x82"
                           "\\ok \xf0\x9f\x98\x80  \"k\\x1b\"=\"v\\x9b1m\"\n");
    /* Whatever the bytes, the only control characters in the output are our
     * own colour codes and the final newline. */
    uint64_t x = 5;
    char msg[64];
    for (int i = 0; i < 5000; i++) {
        for (size_t j = 0; j < sizeof(msg) - 1; j++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            msg[j] = (char)(1 + (x >> 33) % 255);
        }
        msg[sizeof(msg) - 1] = '\0';
        const char *kv2[] = {msg, msg, NULL};
        build(&ev, PLUME_LEVEL_INFO, msg, kv2);
        const char *s = render(&ev, false);
        size_t n = strlen(s);
        for (size_t j = 0; j + 1 < n; j++) {
            unsigned char c = (unsigned char)s[j];
            assert_true(c >= 0x20 && c != 0x7f);
        }
        assert_int_equal(s[n - 1], '\n');
        /* No raw C1 control (U+0080..U+009F as UTF-8: C2 80..C2 9F). */
        for (size_t j = 0; j + 1 < n; j++)
            assert_false((unsigned char)s[j] == 0xc2 && (unsigned char)s[j + 1] < 0xa0);
    }
    plume_buf_free(&ev);
}

static void invalid_and_bounds(void **state)
{
    (void)state;
    plume_buf_t out;
    plume_buf_init(&out, 0);
    static const uint8_t array[] = {0x92, 0x01, 0x02};
    plume_console_format_event(&out, array, sizeof(array), true);
    assert_int_equal(out.len, strlen("[plume: invalid event, 3 bytes]\n"));
    assert_memory_equal(out.data, "[plume: invalid event, 3 bytes]\n", out.len);
    plume_buf_free(&out);

    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    const char *kv[] = {"key", "value", NULL};
    build(&ev, PLUME_LEVEL_INFO, "message text", kv);
    size_t full = strlen(render(&ev, true));
    for (size_t max = 1; max < full; max++) {
        plume_buf_init(&out, max);
        plume_console_format_event(&out, ev.data, ev.len, true);
        assert_true(out.failed);
        assert_int_equal(out.len, 0);
        plume_buf_free(&out);
    }
    plume_buf_init(&out, full);
    plume_console_format_event(&out, ev.data, ev.len, true);
    assert_false(out.failed);
    assert_int_equal(out.len, full);
    plume_buf_free(&out);
    plume_buf_free(&ev);
}

/* An event with level info, message "msg" and fields given as JSON text. */
static void build_json(plume_buf_t *b, const char *json)
{
    plume_event_builder_t eb;
    plume_buf_reset(b);
    plume_event_begin(&eb, b, T0);
    plume_event_set_level(&eb, PLUME_LEVEL_INFO);
    plume_event_set_message(&eb, "msg", 3);
    plume_event_set_hints(&eb, PLUME_HINT_MESSAGE);
    plume_event_set_fields_json(&eb, json, strlen(json));
    assert_true(plume_event_end(&eb));
}

static void fields_json_rendered_like_fields(void **state)
{
    (void)state;
    plume_buf_t ev, evm;
    plume_buf_init(&ev, 0);
    plume_buf_init(&evm, 0);
    build_json(&ev, "{\"key\":\"value\", \"key2\":\"quoted value\"}");
    const char *kv[] = {"key", "value", "key2", "quoted value", NULL};
    build(&evm, PLUME_LEVEL_INFO, "msg", kv);
    char *want = strdup(render(&evm, true));
    assert_string_equal(render(&ev, true), want);
    free(want);
    assert_string_equal(render(&ev, false),
                        TS " INFO  msg  key=value key2=\"quoted value\"\n");

    build_json(&ev, "{\"n\":null,\"f\":1.50,\"u\":18446744073709551615,\"map\":{\"a\":[1,\"x y\"]},"
                    "\"esc\":\"\\u001b[31m\\u202e\",\"_k\":-5}");
    assert_string_equal(render(&ev, false),
                        TS " INFO  msg  n=null f=1.5 u=18446744073709551615 "
                           "map={\"a\":[1,\"x y\"]} esc=\"\\x1b[31m\\u202e\" _k=-5\n");
    build_json(&ev, "{}");
    assert_string_equal(render(&ev, false), TS " INFO  msg\n");
    /* text that does not convert (a broken promise) shows no fields */
    build_json(&ev, "{\"a\":}");
    assert_string_equal(render(&ev, false), TS " INFO  msg\n");
    plume_buf_free(&ev);
    plume_buf_free(&evm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(example_line),
        cmocka_unit_test(levels_and_layout),
        cmocka_unit_test(string_quoting),
        cmocka_unit_test(typed_and_nested_values),
        cmocka_unit_test(markers),
        cmocka_unit_test(no_terminal_injection),
        cmocka_unit_test(invalid_and_bounds),
        cmocka_unit_test(fields_json_rendered_like_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
