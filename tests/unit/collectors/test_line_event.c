/* SPDX-License-Identifier: MIT */
/* Lines -> events: every rule of line_event.h (formats, auto detection, time /
 * level / message sources and priorities, `_time` handling, fallbacks to text
 * with parse_error, truncation, UTF-8 repair, origin, overflow, depth), plus
 * a replay of the fuzz seed corpora through every mode. */
#include "test_support.h"
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "line_event.h"
#include "mp.h"

#define RECV 1111111111000000000ull
#define T2024 1709210096000000000ull /* 2024-02-29T12:34:56Z */

typedef struct fx {
    plume_buf_t out, scratch;
    plume_line_stats_t st;
    plume_event_view_t ev;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    plume_buf_init(&f->out, 0);
    plume_buf_init(&f->scratch, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    plume_buf_free(&f->out);
    plume_buf_free(&f->scratch);
    free(f);
    return 0;
}

/* Converts one line and checks the output is exactly one readable event. */
static void run_n(fx_t *f, const char *line, size_t n, plume_line_format_t fmt, bool truncated)
{
    plume_buf_reset(&f->out);
    assert_true(plume_line_to_event(line, n, truncated, fmt, RECV, "stdin", &f->out, &f->scratch,
                                    &f->st));
    plume_mp_reader_t r;
    plume_mp_reader_init(&r, f->out.data, f->out.len);
    assert_true(plume_mp_skip(&r));
    assert_ptr_equal(r.p, f->out.data + f->out.len);
    assert_true(plume_event_view(f->out.data, f->out.len, &f->ev));
    assert_int_equal(f->ev.origin_len, 5);
    assert_memory_equal(f->ev.origin, "stdin", 5);
}

static void run(fx_t *f, const char *line, plume_line_format_t fmt)
{
    run_n(f, line, strlen(line), fmt, false);
}

static uint32_t nfields(const fx_t *f)
{
    if (!f->ev.fields)
        return 0;
    plume_mp_reader_t r;
    plume_mp_value_t v;
    plume_mp_reader_init(&r, f->ev.fields, f->ev.fields_len);
    assert_true(plume_mp_read(&r, &v));
    assert_int_equal(v.type, PLUME_MP_MAP);
    return v.count;
}

/* Finds the idx-th field (0-based); returns its key and value. */
static bool field_at(const fx_t *f, uint32_t idx, plume_mp_value_t *k, plume_mp_value_t *v)
{
    plume_mp_reader_t r;
    plume_mp_value_t m;
    if (!f->ev.fields)
        return false;
    plume_mp_reader_init(&r, f->ev.fields, f->ev.fields_len);
    assert_true(plume_mp_read(&r, &m));
    for (uint32_t i = 0; i < m.count; i++) {
        assert_true(plume_mp_read(&r, k));
        const uint8_t *vs = r.p;
        assert_true(plume_mp_read(&r, v));
        r.p = vs;
        assert_true(plume_mp_skip(&r));
        if (i == idx)
            return true;
    }
    return false;
}

/* Finds the first field named key. */
static bool field(const fx_t *f, const char *key, plume_mp_value_t *v)
{
    plume_mp_value_t k;
    for (uint32_t i = 0; field_at(f, i, &k, v); i++)
        if (plume_mp_str_eq(&k, key))
            return true;
    return false;
}

static void assert_field_str(const fx_t *f, const char *key, const char *want)
{
    plume_mp_value_t v;
    if (!field(f, key, &v))
        fail_msg("no field %s", key);
    assert_int_equal(v.type, PLUME_MP_STR);
    assert_int_equal(v.len, strlen(want));
    assert_memory_equal(v.s, want, v.len);
}

static void assert_message(const fx_t *f, const char *want)
{
    assert_non_null(f->ev.message);
    assert_int_equal(f->ev.message_len, strlen(want));
    assert_memory_equal(f->ev.message, want, f->ev.message_len);
}

static void assert_parse_error(const fx_t *f, const char *want)
{
    if (!f->ev.parse_error)
        fail_msg("no parse_error, want %s", want);
    assert_int_equal(f->ev.parse_error_len, strlen(want));
    assert_memory_equal(f->ev.parse_error, want, f->ev.parse_error_len);
}

static void json_fields_in_order(void **state)
{
    fx_t *f = *state;
    run(f, "{\"b\":1,\"a\":\"x\",\"n\":null,\"o\":{\"k\":[1,2]},\"f\":1.5,\"b\":-2}", PLUME_FORMAT_JSON);
    assert_int_equal(nfields(f), 6);
    static const char *keys[] = {"b", "a", "n", "o", "f", "b"};
    static const plume_mp_type_t types[] = {PLUME_MP_UINT, PLUME_MP_STR, PLUME_MP_NIL,
                                            PLUME_MP_MAP, PLUME_MP_FLOAT, PLUME_MP_INT};
    for (uint32_t i = 0; i < 6; i++) {
        plume_mp_value_t k, v;
        assert_true(field_at(f, i, &k, &v));
        assert_true(plume_mp_str_eq(&k, keys[i]));
        assert_int_equal(v.type, types[i]);
    }
    assert_true(f->ev.time_ns == RECV);
    assert_int_equal(f->ev.level, PLUME_LEVEL_NONE);
    assert_null(f->ev.message);
    assert_null(f->ev.parse_error);
    assert_false(f->ev.truncated);
    assert_true(f->st.json == 1 && f->st.text == 0 && f->st.parse_errors == 0);
    /* an empty object still gives an (empty) fields map */
    run(f, " {} ", PLUME_FORMAT_JSON);
    assert_non_null(f->ev.fields);
    assert_int_equal(nfields(f), 0);
}

static void json_time(void **state)
{
    fx_t *f = *state;
    plume_mp_value_t v;

    run(f, "{\"_time\":\"2024-02-29T12:34:56Z\",\"a\":1}", PLUME_FORMAT_JSON);
    assert_true(f->ev.time_ns == T2024);
    assert_false(field(f, "_time", &v)); /* used as the time: not a field */
    assert_int_equal(nfields(f), 1);

    run(f, "{\"time\":\"2024-02-29T12:34:56.5+00:00\"}", PLUME_FORMAT_JSON);
    assert_true(f->ev.time_ns == T2024 + 500000000);
    assert_field_str(f, "time", "2024-02-29T12:34:56.5+00:00"); /* other keys are kept */

    run(f, "{\"ts\":1709210096}", PLUME_FORMAT_JSON);
    assert_true(f->ev.time_ns == T2024);
    run(f, "{\"ts\":1709210096123}", PLUME_FORMAT_JSON);
    assert_true(f->ev.time_ns == T2024 + 123000000);
    run(f, "{\"timestamp\":1709210096.123456789}", PLUME_FORMAT_JSON);
    assert_true(f->ev.time_ns == T2024 + 123456789); /* exact, from the JSON text */
    run(f, "{\"timestamp\":1.709210096e9}", PLUME_FORMAT_JSON);
    assert_true(f->ev.time_ns == T2024);
    run(f, "{\"time\":\"1709210096\"}", PLUME_FORMAT_JSON);
    assert_true(f->ev.time_ns == T2024);
    run(f, "{\"time\":\"1709210096.25\"}", PLUME_FORMAT_JSON);
    assert_true(f->ev.time_ns == T2024 + 250000000);

    /* order of preference is _time, time, timestamp, ts, wherever they are */
    run(f, "{\"ts\":1,\"time\":\"2024-02-29T12:34:56Z\"}", PLUME_FORMAT_JSON);
    assert_true(f->ev.time_ns == T2024);
    run(f, "{\"time\":\"2000-01-01T00:00:00Z\",\"_time\":\"2024-02-29T12:34:56Z\"}",
        PLUME_FORMAT_JSON);
    assert_true(f->ev.time_ns == T2024);
    assert_false(field(f, "_time", &v));
    assert_true(field(f, "time", &v));
    /* the first one that parses */
    run(f, "{\"time\":\"yesterday\",\"ts\":1709210096}", PLUME_FORMAT_JSON);
    assert_true(f->ev.time_ns == T2024);
    run(f, "{\"_time\":\"soon\",\"timestamp\":\"2024-02-29 12:34:56\"}", PLUME_FORMAT_JSON);
    assert_true(f->ev.time_ns == T2024);
    assert_field_str(f, "_time", "soon"); /* not used as the time: kept */
    /* duplicates: the first usable _time is taken and dropped, the rest kept */
    run(f, "{\"_time\":\"2024-02-29T12:34:56Z\",\"_time\":\"2000-01-01T00:00:00Z\"}",
        PLUME_FORMAT_JSON);
    assert_true(f->ev.time_ns == T2024);
    assert_int_equal(nfields(f), 1);
    assert_field_str(f, "_time", "2000-01-01T00:00:00Z");
    /* nothing usable: receive time */
    run(f, "{\"ts\":-5,\"time\":true,\"timestamp\":{},\"Time\":\"2024-02-29T12:34:56Z\"}",
        PLUME_FORMAT_JSON);
    assert_true(f->ev.time_ns == RECV);
    assert_int_equal(nfields(f), 4);
}

static void json_level(void **state)
{
    fx_t *f = *state;
    plume_mp_value_t v;
    run(f, "{\"level\":\"WARNING\"}", PLUME_FORMAT_JSON);
    assert_int_equal(f->ev.level, PLUME_LEVEL_WARN);
    assert_field_str(f, "level", "WARNING"); /* still a field */
    run(f, "{\"severity\":\"err\"}", PLUME_FORMAT_JSON);
    assert_int_equal(f->ev.level, PLUME_LEVEL_ERROR);
    run(f, "{\"lvl\":\"d\"}", PLUME_FORMAT_JSON);
    assert_int_equal(f->ev.level, PLUME_LEVEL_DEBUG);
    run(f, "{\"level\":\"bogus\",\"severity\":\"info\"}", PLUME_FORMAT_JSON);
    assert_int_equal(f->ev.level, PLUME_LEVEL_INFO);
    run(f, "{\"severity\":\"error\",\"level\":\"info\"}", PLUME_FORMAT_JSON);
    assert_int_equal(f->ev.level, PLUME_LEVEL_INFO);
    run(f, "{\"level\":30}", PLUME_FORMAT_JSON); /* pino/bunyan */
    assert_int_equal(f->ev.level, PLUME_LEVEL_INFO);
    run(f, "{\"level\":60}", PLUME_FORMAT_JSON);
    assert_int_equal(f->ev.level, PLUME_LEVEL_FATAL);
    run(f, "{\"level\":3}", PLUME_FORMAT_JSON); /* syslog severity */
    assert_int_equal(f->ev.level, PLUME_LEVEL_ERROR);
    run(f, "{\"level\":\"nope\"}", PLUME_FORMAT_JSON);
    assert_int_equal(f->ev.level, PLUME_LEVEL_NONE);
    run(f, "{\"level\":true,\"Level\":\"info\"}", PLUME_FORMAT_JSON);
    assert_int_equal(f->ev.level, PLUME_LEVEL_NONE);
    assert_true(field(f, "level", &v));
}

static void json_message(void **state)
{
    fx_t *f = *state;
    run(f, "{\"msg\":\"hello\"}", PLUME_FORMAT_JSON);
    assert_message(f, "hello");
    assert_field_str(f, "msg", "hello");
    run(f, "{\"message\":\"a\",\"msg\":\"b\"}", PLUME_FORMAT_JSON);
    assert_message(f, "b");
    run(f, "{\"msg\":5,\"message\":\"m\"}", PLUME_FORMAT_JSON); /* strings only */
    assert_message(f, "m");
    run(f, "{\"msg\":[\"x\"]}", PLUME_FORMAT_JSON);
    assert_null(f->ev.message);
    run(f, "{\"msg\":\"say \\\"hi\\\"\\n\\u00e9\"}", PLUME_FORMAT_JSON);
    assert_message(f, "say \"hi\"\n\xc3\xa9");
    /* a long message copied within the output buffer */
    char line[20000];
    int n = snprintf(line, sizeof(line), "{\"a\":\"%s\",\"msg\":\"", "x");
    memset(line + n, 'm', 15000);
    strcpy(line + n + 15000, "\"}");
    run(f, line, PLUME_FORMAT_JSON);
    assert_int_equal(f->ev.message_len, 15000);
    assert_true(f->ev.message[0] == 'm' && f->ev.message[14999] == 'm');
}

static void json_invalid_becomes_text(void **state)
{
    fx_t *f = *state;
    run(f, "{\"a\":1", PLUME_FORMAT_JSON);
    assert_message(f, "{\"a\":1");
    assert_parse_error(f, "unexpected end of input at offset 6 (expected ',' or '}')");
    assert_null(f->ev.fields);
    assert_true(f->ev.time_ns == RECV);
    assert_true(f->st.parse_errors == 1 && f->st.text == 1 && f->st.json == 0);
    run(f, "[1,2]", PLUME_FORMAT_JSON);
    assert_parse_error(f, "unexpected character '[' at offset 0 (expected '{')");
    run(f, "hello", PLUME_FORMAT_JSON);
    assert_parse_error(f, "unexpected character 'h' at offset 0 (expected '{')");
    run(f, "", PLUME_FORMAT_JSON);
    assert_message(f, "");
    assert_parse_error(f, "unexpected end of input at offset 0 (expected '{')");
    run(f, "{\"a\":\"b\"} trailing", PLUME_FORMAT_JSON);
    assert_parse_error(f, "unexpected character 't' at offset 10 (expected end of input after the value)");
    assert_true(f->st.parse_errors == 5);
}

static void json_depth(void **state)
{
    fx_t *f = *state;
    char line[300];
    /* the object is level 1: 62 arrays inside make 63 levels */
    size_t n = 0;
    n += (size_t)sprintf(line, "{\"a\":");
    memset(line + n, '[', 62);
    n += 62;
    memset(line + n, ']', 62);
    n += 62;
    line[n++] = '}';
    line[n] = '\0';
    run(f, line, PLUME_FORMAT_JSON);
    assert_null(f->ev.parse_error);
    assert_int_equal(nfields(f), 1);
    /* one more is refused, and the event stays readable by plume_mp_skip */
    memmove(line + 6, line + 5, n - 5 + 1);
    line[5] = '[';
    memmove(line + n - 1 + 1, line + n - 1, 2);
    line[n] = ']';
    run(f, line, PLUME_FORMAT_JSON);
    assert_parse_error(f, "nesting deeper than 63 at offset 67");
}

static void logfmt_lines(void **state)
{
    fx_t *f = *state;
    plume_mp_value_t v;
    run(f, "time=2024-02-29T12:34:56Z level=warn msg=\"disk \\\"full\\\"\" flag k= q=\"\" n=5",
        PLUME_FORMAT_LOGFMT);
    assert_true(f->ev.time_ns == T2024);
    assert_int_equal(f->ev.level, PLUME_LEVEL_WARN);
    assert_message(f, "disk \"full\"");
    assert_int_equal(nfields(f), 7);
    assert_field_str(f, "time", "2024-02-29T12:34:56Z");
    assert_field_str(f, "msg", "disk \"full\"");
    assert_true(field(f, "flag", &v));
    assert_true(v.type == PLUME_MP_BOOL && v.b); /* bare key -> true */
    assert_field_str(f, "k", "");
    assert_field_str(f, "q", "");
    assert_field_str(f, "n", "5"); /* logfmt values are text */
    assert_true(f->st.logfmt == 1);

    run(f, "_time=1709210096 a=1", PLUME_FORMAT_LOGFMT);
    assert_true(f->ev.time_ns == T2024);
    assert_false(field(f, "_time", &v));
    assert_int_equal(nfields(f), 1);
    run(f, "severity=ERROR message=boom ts=1709210096000", PLUME_FORMAT_LOGFMT);
    assert_int_equal(f->ev.level, PLUME_LEVEL_ERROR);
    assert_message(f, "boom");
    assert_true(f->ev.time_ns == T2024);
    run(f, "msg message=m", PLUME_FORMAT_LOGFMT); /* bare msg is not a string */
    assert_message(f, "m");
    /* in logfmt mode plain words are bare keys */
    run(f, "hello world", PLUME_FORMAT_LOGFMT);
    assert_int_equal(nfields(f), 2);
    assert_null(f->ev.message);

    /* syntax errors: text with the parser's message */
    run(f, "a=1 b==2", PLUME_FORMAT_LOGFMT);
    assert_message(f, "a=1 b==2");
    assert_parse_error(f, "unexpected '=' at offset 6");
    assert_null(f->ev.fields);
    run(f, "a=\"open", PLUME_FORMAT_LOGFMT);
    assert_parse_error(f, "unterminated quoted value at offset 7");
    assert_true(f->st.parse_errors == 2);
}

static void auto_detection(void **state)
{
    fx_t *f = *state;
    run(f, "  {\"msg\":\"j\"}", PLUME_FORMAT_AUTO);
    assert_message(f, "j");
    assert_true(f->st.json == 1);
    run(f, "{not json", PLUME_FORMAT_AUTO); /* '{' commits to JSON */
    assert_message(f, "{not json");
    assert_parse_error(f, "unexpected character 'n' at offset 1 (expected a string key)");
    assert_true(f->st.parse_errors == 1);
    run(f, "level=info msg=\"hi there\" user.id=7", PLUME_FORMAT_AUTO);
    assert_message(f, "hi there");
    assert_int_equal(f->ev.level, PLUME_LEVEL_INFO);
    assert_int_equal(nfields(f), 3);
    assert_true(f->st.logfmt == 1);
    /* not logfmt: plain text, no parse_error */
    static const char *texts[] = {
        "hello world",          /* no key=value at all */
        "GET /x?a=b HTTP/1.1",  /* key is not an identifier */
        "a=1 =bad",             /* syntax error */
        "[1,2]",
        "\"k\"=v",
        "9x=1",
        "",
        "x= y=",                /* no value */
        "Starting up: _port=8080",            /* first token is not a pair */
        "[long] lorem ipsum dolor seq=17",    /* prose that contains a pair */
        "a=1 b c d",                          /* mostly bare words */
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        run(f, texts[i], PLUME_FORMAT_AUTO);
        assert_message(f, texts[i]);
        assert_null(f->ev.parse_error);
        assert_null(f->ev.fields);
    }
    assert_true(f->st.text == 1 + sizeof(texts) / sizeof(texts[0]));
    assert_true(f->st.parse_errors == 1);
    run(f, "_port=8080 starting", PLUME_FORMAT_AUTO);
    assert_non_null(f->ev.fields); /* leading pair, half the tokens are pairs */
}

static void text_mode(void **state)
{
    fx_t *f = *state;
    run(f, "{\"level\":\"error\",\"msg\":\"x\"}", PLUME_FORMAT_TEXT);
    assert_message(f, "{\"level\":\"error\",\"msg\":\"x\"}");
    assert_null(f->ev.fields);
    assert_null(f->ev.parse_error);
    assert_int_equal(f->ev.level, PLUME_LEVEL_NONE);
    assert_true(f->ev.time_ns == RECV);
    assert_true(f->st.text == 1);
}

static void truncated_lines(void **state)
{
    fx_t *f = *state;
    static const plume_line_format_t fmts[] = {PLUME_FORMAT_AUTO, PLUME_FORMAT_JSON,
                                               PLUME_FORMAT_LOGFMT, PLUME_FORMAT_TEXT};
    for (size_t i = 0; i < 4; i++) {
        run_n(f, "{\"a\":\"abc", 9, fmts[i], true);
        assert_true(f->ev.truncated);
        assert_message(f, "{\"a\":\"abc");
        assert_null(f->ev.parse_error);
        assert_null(f->ev.fields);
        run_n(f, "a=1 b=2", 7, fmts[i], true);
        assert_true(f->ev.truncated);
        assert_null(f->ev.fields);
    }
    assert_true(f->st.text == 8 && f->st.parse_errors == 0);
    /* a character cut in half is dropped, not replaced */
    run_n(f, "caf\xc3\xa9 \xe2\x82", 8, PLUME_FORMAT_TEXT, true);
    assert_message(f, "caf\xc3\xa9 ");
    assert_true(f->st.invalid_utf8 == 0);
    /* untruncated, the same bytes are invalid */
    run_n(f, "caf\xc3\xa9 \xe2\x82", 8, PLUME_FORMAT_TEXT, false);
    assert_message(f, "caf\xc3\xa9 \xef\xbf\xbd");
    assert_false(f->ev.truncated);
    assert_true(f->st.invalid_utf8 == 1);
}

static void invalid_utf8_repaired(void **state)
{
    fx_t *f = *state;
    run(f, "{\"a\":\"x\xffy\xfe\",\"msg\":\"\xc0\"}", PLUME_FORMAT_JSON);
    assert_field_str(f, "a", "x\xef\xbf\xbdy\xef\xbf\xbd");
    assert_message(f, "\xef\xbf\xbd");
    assert_true(f->st.invalid_utf8 == 1); /* once per line */
    assert_true(f->st.json == 1);
    run(f, "bad \xed\xa0\x80 text", PLUME_FORMAT_TEXT);
    assert_message(f, "bad \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd text");
    run(f, "k=\"v\xff\" x=1", PLUME_FORMAT_AUTO);
    assert_field_str(f, "k", "v\xef\xbf\xbd");
    /* a key with U+FFFD is refused by logfmt: text in auto mode */
    run(f, "k\xff=1", PLUME_FORMAT_AUTO);
    assert_null(f->ev.fields);
    assert_true(f->st.invalid_utf8 == 4);
}

static void origin_and_appending(void **state)
{
    fx_t *f = *state;
    plume_buf_reset(&f->out);
    assert_true(plume_line_to_event("one", 3, false, PLUME_FORMAT_TEXT, 5, NULL, &f->out,
                                    &f->scratch, NULL));
    size_t first = f->out.len;
    assert_true(plume_line_to_event("{\"msg\":\"two\"}", 13, false, PLUME_FORMAT_AUTO, 6, "x",
                                    &f->out, &f->scratch, NULL));
    plume_event_view_t a, b;
    plume_mp_reader_t r;
    plume_mp_reader_init(&r, f->out.data, f->out.len);
    assert_true(plume_mp_skip(&r));
    assert_ptr_equal(r.p, f->out.data + first);
    assert_true(plume_mp_skip(&r));
    assert_ptr_equal(r.p, f->out.data + f->out.len);
    assert_true(plume_event_view(f->out.data, first, &a));
    assert_true(plume_event_view(f->out.data + first, f->out.len - first, &b));
    assert_null(a.origin);
    assert_true(a.time_ns == 5);
    assert_int_equal(b.origin_len, 1);
    assert_true(b.time_ns == 6);
    assert_int_equal(b.message_len, 3);
}

static void overflow_returns_false(void **state)
{
    (void)state;
    static const plume_line_format_t fmts[] = {PLUME_FORMAT_AUTO, PLUME_FORMAT_JSON,
                                               PLUME_FORMAT_LOGFMT, PLUME_FORMAT_TEXT};
    static const char *lines[] = {"{\"message\":\"this will not fit in the buffer\"}",
                                  "level=info msg=\"this will not fit in the buffer\"",
                                  "this plain text line will not fit in the buffer either"};
    for (size_t i = 0; i < 4; i++) {
        for (size_t j = 0; j < 3; j++) {
            plume_buf_t out, scratch;
            plume_buf_init(&out, 60);
            plume_buf_init(&scratch, 0);
            plume_buf_append(&out, "prev", 4);
            assert_false(plume_line_to_event(lines[j], strlen(lines[j]), false, fmts[i], 1,
                                             "stdin", &out, &scratch, NULL));
            assert_int_equal(out.len, 4);
            assert_true(out.failed);
            /* a failed buffer refuses further events until reset */
            assert_false(plume_line_to_event("x", 1, false, fmts[i], 1, NULL, &out, &scratch, NULL));
            plume_buf_free(&out);
            plume_buf_free(&scratch);
        }
    }
    /* a structured attempt abandoned for text does not leave the buffer failed */
    plume_buf_t out, scratch;
    plume_buf_init(&out, 40);
    plume_buf_init(&scratch, 0);
    assert_true(plume_line_to_event("no pairs here", 13, false, PLUME_FORMAT_AUTO, 1, NULL, &out,
                                    &scratch, NULL));
    assert_false(out.failed);
    plume_buf_free(&out);
    plume_buf_free(&scratch);
    /* no room to repair UTF-8: the valid start is kept, marked truncated */
    plume_buf_init(&out, 0);
    plume_buf_init(&scratch, 4);
    assert_true(plume_line_to_event("abcdef\xff", 7, false, PLUME_FORMAT_TEXT, 1, NULL, &out,
                                    &scratch, NULL));
    plume_event_view_t ev;
    assert_true(plume_event_view(out.data, out.len, &ev));
    assert_true(ev.truncated);
    assert_int_equal(ev.message_len, 6);
    plume_buf_free(&out);
    plume_buf_free(&scratch);
}

static void format_names(void **state)
{
    (void)state;
    plume_line_format_t fmt;
    assert_true(plume_line_format_parse("JSON", &fmt));
    assert_int_equal(fmt, PLUME_FORMAT_JSON);
    assert_true(plume_line_format_parse("logfmt", &fmt));
    assert_int_equal(fmt, PLUME_FORMAT_LOGFMT);
    assert_true(plume_line_format_parse("auto", &fmt));
    assert_int_equal(fmt, PLUME_FORMAT_AUTO);
    assert_true(plume_line_format_parse("text", &fmt));
    assert_int_equal(fmt, PLUME_FORMAT_TEXT);
    assert_false(plume_line_format_parse("xml", &fmt));
    assert_string_equal(plume_line_format_name(PLUME_FORMAT_LOGFMT), "logfmt");
}

/* Every seed of the fuzzers, in every mode, truncated or not: one readable
 * event each time. */
static void replay_corpus_dir(fx_t *f, const char *rel)
{
    const char *dir = plume_test_source_path(rel);
    char path[4096];
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s", dir);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", plume_test_source_path(rel), de->d_name);
        size_t len;
        char *data = plume_test_read_file(path, &len);
        assert_non_null(data);
        for (int fmt = 0; fmt < 4; fmt++)
            for (int t = 0; t < 2; t++)
                run_n(f, data, len, (plume_line_format_t)fmt, t);
        free(data);
        files++;
    }
    closedir(d);
    assert_true(files >= 10);
}

static void replay_fuzz_seeds(void **state)
{
    fx_t *f = *state;
    replay_corpus_dir(f, "tests/fuzz/corpus/fuzz_json_line");
    replay_corpus_dir(f, "tests/fuzz/corpus/fuzz_logfmt");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(json_fields_in_order),
        T(json_time),
        T(json_level),
        T(json_message),
        T(json_invalid_becomes_text),
        T(json_depth),
        T(logfmt_lines),
        T(auto_detection),
        T(text_mode),
        T(truncated_lines),
        T(invalid_utf8_repaired),
        T(origin_and_appending),
        T(overflow_returns_false),
        T(format_names),
        T(replay_fuzz_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
