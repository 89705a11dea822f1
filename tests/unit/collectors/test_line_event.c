/* SPDX-License-Identifier: MIT */
/* Lines -> events: every rule of line_event.h (formats, auto detection, time /
 * level / message sources and priorities, `_time` handling, fallbacks to text
 * with parse_error, truncation, UTF-8 repair, origin, overflow, depth), plus
 * a replay of the fuzz seed corpora through every mode.
 *
 * JSON lines may take the pass-through path ("fields_json" + "hints") or the
 * msgpack path ("fields"). Every line converted here is also converted with
 * the msgpack path forced, and the two events must agree: same time, level,
 * message, markers; the pass-through text converts to exactly the members the
 * msgpack path wrote; the hints are the names among them; and the Axiom and
 * plain NDJSON lines of both events decode to the same keys and values. The
 * field helpers read either form. */
#include "test_support.h"
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axiom_encode.h"
#include "event.h"
#include "json_parse.h"
#include "line_event.h"
#include "mp.h"
#include "timeparse.h"

#define RECV 1111111111000000000ull
#define T2024 1709210096000000000ull /* 2024-02-29T12:34:56Z */

typedef struct fx {
    plume_buf_t out, scratch;
    plume_line_stats_t st;
    plume_event_view_t ev;
    plume_buf_t conv;      /* fields_json converted to msgpack */
    const uint8_t *fields; /* the fields map, from either form */
    size_t fields_len;
    plume_buf_t slow, slow_scratch, enc_a, enc_b, dec_a, dec_b;
    plume_buf_t view_out, view_scratch, view_enc; /* for plume_line_to_view */
    int fast_events;       /* events that took the pass-through path */
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    plume_buf_init(&f->out, 0);
    plume_buf_init(&f->scratch, 0);
    plume_buf_t *bufs[] = {&f->conv,  &f->slow,     &f->slow_scratch, &f->enc_a,   &f->enc_b,
                           &f->dec_a, &f->dec_b,    &f->view_out,     &f->view_scratch,
                           &f->view_enc};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        plume_buf_init(bufs[i], 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    plume_buf_free(&f->out);
    plume_buf_free(&f->scratch);
    plume_buf_t *bufs[] = {&f->conv,  &f->slow,     &f->slow_scratch, &f->enc_a,   &f->enc_b,
                           &f->dec_a, &f->dec_b,    &f->view_out,     &f->view_scratch,
                           &f->view_enc};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        plume_buf_free(bufs[i]);
    plume_line_event_force_slow_path(false);
    free(f);
    return 0;
}

static double as_double(const plume_mp_value_t *v)
{
    return v->type == PLUME_MP_FLOAT ? v->f : v->type == PLUME_MP_INT ? (double)v->i : (double)v->u;
}

/* Semantic equality of two msgpack values (the decoded NDJSON lines): same
 * structure, same strings; numbers equal as numbers (a float written as "100"
 * reads back as an integer). Advances both readers. */
static bool mp_same(plume_mp_reader_t *a, plume_mp_reader_t *b, int depth)
{
    plume_mp_value_t x, y;
    if (depth > 200 || !plume_mp_read(a, &x) || !plume_mp_read(b, &y))
        return false;
    bool xn = x.type == PLUME_MP_INT || x.type == PLUME_MP_UINT || x.type == PLUME_MP_FLOAT;
    bool yn = y.type == PLUME_MP_INT || y.type == PLUME_MP_UINT || y.type == PLUME_MP_FLOAT;
    if (xn && yn) {
        if (x.type == PLUME_MP_FLOAT || y.type == PLUME_MP_FLOAT) {
            return as_double(&x) == as_double(&y);
        }
        return x.type == y.type && x.u == y.u;
    }
    if (x.type != y.type)
        return false;
    switch (x.type) {
    case PLUME_MP_STR:
        return x.len == y.len && memcmp(x.s, y.s, x.len) == 0;
    case PLUME_MP_BOOL:
        return x.b == y.b;
    case PLUME_MP_NIL:
        return true;
    case PLUME_MP_ARRAY:
    case PLUME_MP_MAP: {
        if (x.count != y.count)
            return false;
        uint64_t k = x.type == PLUME_MP_MAP ? 2ull * x.count : x.count;
        for (uint64_t i = 0; i < k; i++)
            if (!mp_same(a, b, depth + 1))
                return false;
        return true;
    }
    default:
        return false;
    }
}

/* Both encoders' lines for the two events decode to the same JSON. */
static void assert_same_lines(fx_t *f, const plume_buf_t *fast, const plume_buf_t *slow)
{
    bool (*fns[2])(plume_buf_t *, const uint8_t *, size_t) = {plume_axiom_encode_event,
                                                              plume_ndjson_encode_event};
    for (int i = 0; i < 2; i++) {
        plume_buf_reset(&f->enc_a);
        plume_buf_reset(&f->enc_b);
        assert_true(fns[i](&f->enc_a, fast->data, fast->len));
        assert_true(fns[i](&f->enc_b, slow->data, slow->len));
        assert_int_equal(f->enc_a.data[f->enc_a.len - 1], '\n');
        assert_null(memchr(f->enc_a.data, '\n', f->enc_a.len - 1));
        plume_buf_reset(&f->dec_a);
        plume_buf_reset(&f->dec_b);
        plume_json_error_t err;
        if (!plume_json_to_mp((const char *)f->enc_a.data, f->enc_a.len - 1, &f->dec_a, &err))
            fail_msg("fast line is not JSON: %s: %.*s", err.msg, (int)f->enc_a.len, f->enc_a.data);
        assert_true(
            plume_json_to_mp((const char *)f->enc_b.data, f->enc_b.len - 1, &f->dec_b, NULL));
        plume_mp_reader_t ra, rb;
        plume_mp_reader_init(&ra, f->dec_a.data, f->dec_a.len);
        plume_mp_reader_init(&rb, f->dec_b.data, f->dec_b.len);
        if (!mp_same(&ra, &rb, 0))
            fail_msg("lines differ:\n%.*s%.*s", (int)f->enc_a.len, f->enc_a.data,
                     (int)f->enc_b.len, f->enc_b.data);
    }
}

static void assert_same_str(const char *a, size_t an, const char *b, size_t bn)
{
    assert_true((a == NULL) == (b == NULL));
    assert_int_equal(an, bn);
    if (a)
        assert_memory_equal(a, b, an);
}

/* The event in f->ev took the pass-through path: convert the same line on
 * the msgpack path and compare everything. */
static void check_against_slow_path(fx_t *f, const char *line, size_t n, plume_line_format_t fmt,
                                    bool truncated)
{
    const plume_event_view_t *ev = &f->ev;
    assert_null(ev->fields);
    /* the text converts to a map whose top-level keys never start with '_' */
    plume_buf_reset(&f->conv);
    plume_json_error_t err;
    if (!plume_json_to_mp(ev->fields_json, ev->fields_json_len, &f->conv, &err))
        fail_msg("fields_json is not JSON: %s", err.msg);
    f->fields = f->conv.data;
    f->fields_len = f->conv.len;

    plume_line_event_force_slow_path(true);
    plume_buf_reset(&f->slow);
    plume_line_stats_t st = {0};
    assert_true(plume_line_to_event(line, n, truncated, fmt, RECV, "stdin", &f->slow,
                                    &f->slow_scratch, &st));
    plume_line_event_force_slow_path(false);
    assert_true(st.json == 1);
    plume_event_view_t sv;
    assert_true(plume_event_view(f->slow.data, f->slow.len, &sv));
    assert_null(sv.fields_json);
    assert_non_null(sv.fields);
    assert_true(sv.time_ns == ev->time_ns);
    assert_int_equal(sv.level, ev->level);
    assert_same_str(sv.message, sv.message_len, ev->message, ev->message_len);
    assert_same_str(sv.origin, sv.origin_len, ev->origin, ev->origin_len);
    assert_same_str(sv.parse_error, sv.parse_error_len, ev->parse_error, ev->parse_error_len);
    assert_int_equal(sv.truncated, ev->truncated);

    /* same members, byte for byte after the map headers; hints = their names */
    plume_mp_reader_t a, b;
    plume_mp_value_t ma, mb, k;
    plume_mp_reader_init(&a, f->conv.data, f->conv.len);
    plume_mp_reader_init(&b, sv.fields, sv.fields_len);
    assert_true(plume_mp_read(&a, &ma) && ma.type == PLUME_MP_MAP);
    assert_true(plume_mp_read(&b, &mb) && mb.type == PLUME_MP_MAP);
    assert_int_equal(ma.count, mb.count);
    assert_int_equal(a.end - a.p, b.end - b.p);
    assert_memory_equal(a.p, b.p, (size_t)(a.end - a.p));
    unsigned hints = 0;
    for (uint32_t i = 0; i < ma.count; i++) {
        assert_true(plume_mp_read(&a, &k) && k.type == PLUME_MP_STR);
        assert_false(k.len > 0 && k.s[0] == '_');
        hints |= plume_hint_for_key(k.s, k.len);
        assert_true(plume_mp_skip(&a));
    }
    assert_int_equal(hints, ev->hints);
    assert_same_lines(f, &f->out, &f->slow);
    f->fast_events++;
}

/* plume_line_to_view() on the same line describes the same event as
 * plume_line_to_event() wrote to f->out: identical Axiom and plain NDJSON
 * lines. A pass-through view points into the line itself (no copy) unless
 * the line needed UTF-8 repair. */
static void check_view_matches_event(fx_t *f, const char *line, size_t n, plume_line_format_t fmt,
                                     bool truncated)
{
    plume_event_view_t v;
    plume_line_stats_t st = {0};
    assert_true(plume_line_to_view(line, n, truncated, fmt, RECV, "stdin", &f->view_out,
                                   &f->view_scratch, &st, &v));
    for (int axiom = 0; axiom < 2; axiom++) {
        plume_buf_reset(&f->enc_a);
        plume_buf_reset(&f->view_enc);
        if (axiom) {
            assert_true(plume_axiom_encode_event(&f->enc_a, f->out.data, f->out.len));
            assert_true(plume_axiom_encode_view(&f->view_enc, &v));
        } else {
            assert_true(plume_ndjson_encode_event(&f->enc_a, f->out.data, f->out.len));
            assert_true(plume_ndjson_encode_view(&f->view_enc, &v));
        }
        assert_int_equal(f->view_enc.len, f->enc_a.len);
        assert_memory_equal(f->view_enc.data, f->enc_a.data, f->enc_a.len);
    }
    if (v.fields_json && st.invalid_utf8 == 0)
        assert_true(v.fields_json >= line && v.fields_json + v.fields_json_len <= line + n);
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
    f->fields = f->ev.fields;
    f->fields_len = f->ev.fields_len;
    check_view_matches_event(f, line, n, fmt, truncated);
    if (f->ev.fields_json)
        check_against_slow_path(f, line, n, fmt, truncated);
}

static void run(fx_t *f, const char *line, plume_line_format_t fmt)
{
    run_n(f, line, strlen(line), fmt, false);
}

static uint32_t nfields(const fx_t *f)
{
    if (!f->fields)
        return 0;
    plume_mp_reader_t r;
    plume_mp_value_t v;
    plume_mp_reader_init(&r, f->fields, f->fields_len);
    assert_true(plume_mp_read(&r, &v));
    assert_int_equal(v.type, PLUME_MP_MAP);
    return v.count;
}

/* Finds the idx-th field (0-based); returns its key and value. */
static bool field_at(const fx_t *f, uint32_t idx, plume_mp_value_t *k, plume_mp_value_t *v)
{
    plume_mp_reader_t r;
    plume_mp_value_t m;
    if (!f->fields)
        return false;
    plume_mp_reader_init(&r, f->fields, f->fields_len);
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
    assert_non_null(f->fields);
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
    assert_null(f->fields);
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

static void assert_fields_json(const fx_t *f, const char *want)
{
    if (!f->ev.fields_json)
        fail_msg("no fields_json, want %s", want);
    assert_int_equal(f->ev.fields_json_len, strlen(want));
    assert_memory_equal(f->ev.fields_json, want, f->ev.fields_json_len);
}

/* A valid object line without '_' keys is carried as its text, with hints. */
static void json_pass_through(void **state)
{
    fx_t *f = *state;
    run(f, "  {\"level\":\"warn\", \"msg\":\"hi\\n\\u00e9\",\"n\":1.50,\"o\":{\"a\":[1,2]}} \t",
        PLUME_FORMAT_JSON);
    assert_fields_json(f, "{\"level\":\"warn\", \"msg\":\"hi\\n\\u00e9\",\"n\":1.50,"
                          "\"o\":{\"a\":[1,2]}}");
    assert_int_equal(f->ev.hints, PLUME_HINT_LEVEL | PLUME_HINT_MESSAGE);
    assert_int_equal(f->ev.level, PLUME_LEVEL_WARN);
    assert_message(f, "hi\n\xc3\xa9"); /* escapes decoded */
    assert_true(f->st.json == 1 && f->st.text == 0);
    run(f, "{\"msg\":\"j\"}", PLUME_FORMAT_AUTO);
    assert_fields_json(f, "{\"msg\":\"j\"}");
    assert_message(f, "j");

    run(f, "{}", PLUME_FORMAT_JSON);
    assert_fields_json(f, "{}");
    assert_int_equal(f->ev.hints, 0);
    run(f, "{ \n }", PLUME_FORMAT_JSON);
    assert_fields_json(f, "{ \n }");

    run(f, "{\"severity\":1,\"message\":2,\"origin\":3,\"truncated\":4,\"parse_error\":5}",
        PLUME_FORMAT_JSON);
    assert_int_equal(f->ev.hints, PLUME_HINT_ALL);
    assert_null(f->ev.message); /* not a string */
    run(f, "{\"Level\":1,\"msgs\":2,\"a\":{\"level\":3}}", PLUME_FORMAT_JSON);
    assert_int_equal(f->ev.hints, 0); /* near misses and nested keys do not count */

    /* escaped keys are decoded for the hints and the time/level/message names */
    run(f, "{\"\\u006cevel\":\"error\",\"m\\u0073g\":\"x\"}", PLUME_FORMAT_JSON);
    assert_non_null(f->ev.fields_json);
    assert_int_equal(f->ev.level, PLUME_LEVEL_ERROR);
    assert_int_equal(f->ev.hints, PLUME_HINT_LEVEL | PLUME_HINT_MESSAGE);
    assert_message(f, "x");

    /* time and level from numbers and escaped strings */
    run(f, "{\"ts\":1.709210096e9}", PLUME_FORMAT_JSON);
    assert_non_null(f->ev.fields_json);
    assert_true(f->ev.time_ns == T2024);
    run(f, "{\"timestamp\":1709210096.123456789}", PLUME_FORMAT_JSON);
    assert_true(f->ev.time_ns == T2024 + 123456789);
    run(f, "{\"time\":\"2024-02-29T12:34:56\\u005a\"}", PLUME_FORMAT_JSON);
    assert_non_null(f->ev.fields_json);
    assert_true(f->ev.time_ns == T2024);
    run(f, "{\"level\":30,\"lvl\":\"error\"}", PLUME_FORMAT_JSON);
    assert_int_equal(f->ev.level, PLUME_LEVEL_INFO);
    run(f, "{\"lvl\":\"\\u0077arn\",\"time\":-1,\"ts\":true}", PLUME_FORMAT_JSON);
    assert_int_equal(f->ev.level, PLUME_LEVEL_WARN);
    assert_true(f->ev.time_ns == RECV);

    /* long escaped values and keys (heap copies) */
    char line[2000];
    int n = snprintf(line, sizeof(line),
                     "{\"time\":\"%0400d\\n\",\"k%0400d\\t\":1,\"msg\":\"%0300d\\\"\"}", 0, 0, 0);
    assert_true(n > 0 && (size_t)n < sizeof(line));
    run(f, line, PLUME_FORMAT_JSON);
    assert_non_null(f->ev.fields_json);
    assert_true(f->ev.time_ns == RECV);
    assert_int_equal(f->ev.message_len, 301);
    assert_int_equal(f->ev.message[300], '"');

    /* invalid UTF-8 is repaired first; the repaired text is what is kept */
    run(f, "{\"a\":\"x\xff\"}", PLUME_FORMAT_JSON);
    assert_fields_json(f, "{\"a\":\"x\xef\xbf\xbd\"}");
    assert_int_equal(f->fast_events, 14); /* every line above */
}

/* Lines the pass-through cannot carry faithfully take the msgpack path; near
 * misses do not. */
static void json_msgpack_path_cases(void **state)
{
    fx_t *f = *state;
    static const char *slow[] = {
        "{\"_time\":\"2024-02-29T12:34:56Z\",\"a\":1}",
        "{\"a\":1,\"_x\":2}",
        "{\"_\":1}",
        "{\"\\u005fx\":1}",             /* '_' once decoded */
        "{\"a\":\"\\ud800\"}",          /* lone surrogate */
        "{\"a\":[\"x\\udc00y\"]}",
        "{\"a\":1e400}",                /* would be infinite */
        "{\"a\":-1.5E+301}",
        "{\"a\":{\"b\":[1e-400]}}",      /* would be 0 */
        "{\"a\":0.00001e-299}",
        "{\"a\":12345678901234567890e282}",
        "{\"a\":0e99999}",               /* zero, but an exponent out of range */
    };
    for (size_t i = 0; i < sizeof(slow) / sizeof(slow[0]); i++) {
        run(f, slow[i], PLUME_FORMAT_JSON);
        if (!f->ev.fields || f->ev.fields_json)
            fail_msg("%s: not on the msgpack path", slow[i]);
        assert_null(f->ev.parse_error);
    }
    static const char *fast[] = {
        "{\"a_\":1}", "{\"a\":\"\\ud83d\\ude00\"}", "{\"a\":1e300}",
        "{\"a\":-1.7976931348623157e300}",
        "{\"a\":1e-300}", "{\"a\":0.000001}", "{\"a\":123456789012345678901234567890}",
        "{\"a\":0.00001e-295}", "{\"a\":12345678901234567890e280}",
        "{\"a\":\"_x\"}", "{\"b\":{\"_c\":1}}",
    };
    for (size_t i = 0; i < sizeof(fast) / sizeof(fast[0]); i++) {
        run(f, fast[i], PLUME_FORMAT_JSON);
        if (f->ev.fields || !f->ev.fields_json)
            fail_msg("%s: not passed through", fast[i]);
    }
    assert_true(f->st.json == sizeof(slow) / sizeof(slow[0]) + sizeof(fast) / sizeof(fast[0]));

    /* the test switch */
    plume_line_event_force_slow_path(true);
    plume_buf_reset(&f->out);
    assert_true(plume_line_to_event("{\"a\":1}", 7, false, PLUME_FORMAT_JSON, RECV, NULL, &f->out,
                                    &f->scratch, NULL));
    assert_true(plume_event_view(f->out.data, f->out.len, &f->ev));
    assert_non_null(f->ev.fields);
    plume_line_event_force_slow_path(false);
    run(f, "{\"a\":1}", PLUME_FORMAT_JSON);
    assert_non_null(f->ev.fields_json);
}

/* An escaped message near the output maximum: the event is produced iff it
 * fits, and is then the same bytes whichever way the message was decoded. */
static void json_escaped_message_at_limit(void **state)
{
    (void)state;
    char line[1200];
    int n = snprintf(line, sizeof(line), "{\"a\":1,\"msg\":\"");
    for (int i = 0; i < 100; i++)
        n += snprintf(line + n, sizeof(line) - (size_t)n, "ab\\n\\u00e9");
    n += snprintf(line + n, sizeof(line) - (size_t)n, "\"}");
    plume_buf_t want, out, scratch;
    plume_buf_init(&want, 0);
    plume_buf_init(&scratch, 0);
    assert_true(plume_line_to_event(line, (size_t)n, false, PLUME_FORMAT_JSON, 1, "stdin", &want,
                                    &scratch, NULL));
    plume_event_view_t ev;
    assert_true(plume_event_view(want.data, want.len, &ev));
    assert_non_null(ev.fields_json);
    assert_int_equal(ev.message_len, 500);
    for (size_t max = want.len - 40; max < want.len + 700; max++) {
        plume_buf_init(&out, max);
        bool ok = plume_line_to_event(line, (size_t)n, false, PLUME_FORMAT_JSON, 1, "stdin", &out,
                                      &scratch, NULL);
        assert_int_equal(ok, max >= want.len);
        if (ok) {
            assert_int_equal(out.len, want.len);
            assert_memory_equal(out.data, want.data, want.len);
            assert_false(out.failed);
        } else {
            assert_int_equal(out.len, 0);
            assert_true(out.failed);
        }
        plume_buf_free(&out);
    }
    plume_buf_free(&want);
    plume_buf_free(&scratch);
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
    assert_null(f->fields);
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
        assert_null(f->fields);
    }
    assert_true(f->st.text == 1 + sizeof(texts) / sizeof(texts[0]));
    assert_true(f->st.parse_errors == 1);
    run(f, "_port=8080 starting", PLUME_FORMAT_AUTO);
    assert_non_null(f->fields); /* leading pair, half the tokens are pairs */
}

static void text_mode(void **state)
{
    fx_t *f = *state;
    run(f, "{\"level\":\"error\",\"msg\":\"x\"}", PLUME_FORMAT_TEXT);
    assert_message(f, "{\"level\":\"error\",\"msg\":\"x\"}");
    assert_null(f->fields);
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
        assert_null(f->fields);
        run_n(f, "a=1 b=2", 7, fmts[i], true);
        assert_true(f->ev.truncated);
        assert_null(f->fields);
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
    assert_null(f->fields);
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

/* The JSON path caches the date and second of the previous line's time; every
 * line must still get exactly the time the plain parser gives, whether the
 * cache hits (same head and zone), half-matches or misses, and invalid
 * variants of a cached head must still be refused. */
static void cached_time_parse_matches_plain_parser(void **state)
{
    fx_t *f = *state;
    static const char *const times[] = {
        "2026-11-21T10:00:00.123Z",  "2026-11-21T10:00:00.5Z",     "2026-11-21T10:00:00Z",
        "2026-11-21T10:00:00.999999999Z", "2026-11-21T10:00:00.1234567891234Z",
        "2026-11-21T10:00:00.5+01:00", "2026-11-21T10:00:00.5-01:30", "2026-11-21T10:00:00.5+01:00",
        "2026-11-21T10:00:00.5z",    "2026-11-21 10:00:00.25Z",    "2026-11-21T10:00:01.25Z",
        "2026-11-21T10:00:00.Z",     "2026-11-21T10:00:00.5",      "2026-11-21T10:00:00.5+25:00",
        "2026-11-21T10:00:00.5Zjunk", "1970-01-01T00:00:00.000000001Z", "2026-11-21T10:00:00.123Z",
    };
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        char line[160];
        snprintf(line, sizeof(line), "{\"time\":\"%s\",\"msg\":\"m\"}", times[i]);
        run(f, line, PLUME_FORMAT_JSON);
        uint64_t want;
        if (plume_time_parse_rfc3339(times[i], strlen(times[i]), &want))
            assert_true(f->ev.time_ns == want);
        else
            assert_true(f->ev.time_ns == RECV); /* unparsable: receive time */
    }
}

/* A time or level string is read in place when it has no escapes, and
 * decoded first when it has: both give what the plain parsers give, for
 * fractions of every length (each read twice, the second time from the
 * time cache), and also after a time with the same second but another
 * fraction. */
static void json_time_and_level_in_place(void **state)
{
    fx_t *f = *state;
    const char *digits = "123456789012";
    for (int nd = 0; nd <= 12; nd++) {
        for (int zone = 0; zone < 2; zone++) {
            char t[64], line[160];
            int n = snprintf(t, sizeof(t), "2026-11-21T10:00:0%d.%.*s%s", nd % 10, nd, digits,
                             zone ? "+01:00" : "Z");
            uint64_t want;
            bool valid = plume_time_parse_rfc3339(t, (size_t)n, &want);
            for (int rep = 0; rep < 3; rep++) {
                if (rep == 2) /* the same second, another fraction, first */
                    run(f, zone ? "{\"time\":\"2026-11-21T10:00:00.5+01:00\"}"
                                : "{\"time\":\"2026-11-21T10:00:00.5Z\"}",
                        PLUME_FORMAT_JSON);
                snprintf(line, sizeof(line), "{\"time\":\"%s\",\"level\":\"debug\"}", t);
                run(f, line, PLUME_FORMAT_JSON);
                assert_true(f->ev.time_ns == (valid ? want : RECV));
                assert_int_equal(f->ev.level, PLUME_LEVEL_DEBUG);
            }
            /* the same with an escaped first digit and level letter */
            snprintf(line, sizeof(line), "{\"time\":\"\\u0032%s\",\"level\":\"\\u0064ebug\"}",
                     t + 1);
            run(f, line, PLUME_FORMAT_JSON);
            assert_true(f->ev.time_ns == (valid ? want : RECV));
            assert_int_equal(f->ev.level, PLUME_LEVEL_DEBUG);
        }
    }
}

/* The level from its text: the six usual names (compared as words) and
 * everything else (the spelling table) give what plume_level_parse()
 * gives, in JSON and logfmt lines. */
static void level_words(void **state)
{
    fx_t *f = *state;
    static const char *const words[] = {
        "info", "warn", "debug", "error", "trace", "fatal", "INFO", "Warn", "DEBUG", "Error",
        "infp", "infoo", "inf", "wanr", "debuf", "debu", "errr", "erro", "errors", "tracE",
        "fatal ", " info", "warning", "WARNING", "err", "crit", "notice", "i", "E", "7", "",
        "informational", "Emergency", "debug\\u0000", "\\u0069nfo", "panic", "alert", "fata",
        "fatall", "trac", "tracee", "ibfo", "info\\t",
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        char line[128];
        snprintf(line, sizeof(line), "{\"level\":\"%s\"}", words[i]);
        run(f, line, PLUME_FORMAT_JSON);
        /* what the JSON string decodes to */
        plume_buf_t mp;
        plume_buf_init(&mp, 0);
        char json[64];
        snprintf(json, sizeof(json), "\"%s\"", words[i]);
        assert_true(plume_json_to_mp(json, strlen(json), &mp, NULL));
        plume_mp_reader_t r;
        plume_mp_value_t v;
        plume_mp_reader_init(&r, mp.data, mp.len);
        assert_true(plume_mp_read(&r, &v) && v.type == PLUME_MP_STR);
        assert_int_equal(f->ev.level, plume_level_parse(v.s, v.len));
        if (!strchr(words[i], '\\') && !strchr(words[i], ' ') && *words[i]) {
            snprintf(line, sizeof(line), "level=%s a=1", words[i]);
            run(f, line, PLUME_FORMAT_LOGFMT);
            assert_int_equal(f->ev.level, plume_level_parse(v.s, v.len));
        }
        plume_buf_free(&mp);
    }
}

/* The pass-through scan looks closely only at names whose length and first
 * byte may make them matter: every name that does matter still gives its
 * time, level, message or hint; names that share a length and the low bits
 * of a first byte with one of them ('4ime' and 'time'), other cases
 * ('Time'), prefixes and extensions do not; a '_' name of any length sends
 * the line to the msgpack path. */
static void member_names(void **state)
{
    fx_t *f = *state;
    static const struct {
        const char *key;
        int kind; /* 0 nothing, 1 time, 2 level, 3 message */
        unsigned hint;
    } names[] = {
        {"ts", 1, 0}, {"time", 1, 0}, {"timestamp", 1, 0}, {"level", 2, PLUME_HINT_LEVEL},
        {"severity", 2, PLUME_HINT_LEVEL}, {"lvl", 2, 0}, {"msg", 3, PLUME_HINT_MESSAGE},
        {"message", 3, PLUME_HINT_MESSAGE}, {"origin", 0, PLUME_HINT_ORIGIN},
        {"truncated", 0, PLUME_HINT_TRUNCATED}, {"parse_error", 0, PLUME_HINT_PARSE_ERROR},
        {"4ime", 0, 0}, {"Time", 0, 0}, {"TIME", 0, 0}, {"4s", 0, 0}, {"-sg", 0, 0},
        {",vl", 0, 0}, {"tim", 0, 0}, {"times", 0, 0}, {"timestamps", 0, 0}, {"msgs", 0, 0},
        {"Msg", 0, 0}, {"levels", 0, 0}, {"LEVEL", 0, 0}, {",evel", 0, 0}, {"/rigin", 0, 0},
        {"messages", 0, 0}, {"3everity", 0, 0}, {"4runcated", 0, 0}, {"parse_errors", 0, 0},
        {"0arse_error", 0, 0}, {"t", 0, 0}, {"", 0, 0}, {"tsx", 0, 0}, {"timestampx", 0, 0},
        {"trace_id", 0, 0}, {"status", 0, 0}, {"service", 0, 0}, {"duration_ms", 0, 0},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char line[160];
        const char *value = names[i].kind == 1 ? "2024-02-29T12:34:56Z"
                            : names[i].kind == 2 ? "error" : "text";
        snprintf(line, sizeof(line), "{\"a\":1,\"%s\":\"%s\"}", names[i].key, value);
        run(f, line, PLUME_FORMAT_JSON);
        assert_non_null(f->ev.fields_json); /* pass-through */
        assert_true(f->ev.time_ns == (names[i].kind == 1 ? T2024 : RECV));
        assert_int_equal(f->ev.level, names[i].kind == 2 ? PLUME_LEVEL_ERROR : PLUME_LEVEL_NONE);
        if (names[i].kind == 3)
            assert_message(f, "text");
        else
            assert_null(f->ev.message);
        assert_int_equal(f->ev.hints, names[i].hint);
    }
    /* '_' names, 1 to 20 bytes long: the msgpack path, "_time" taken as the time */
    for (size_t len = 1; len <= 20; len++) {
        char key[32], line[160];
        memset(key, 'x', len);
        key[0] = '_';
        key[len] = '\0';
        if (len == 5)
            memcpy(key, "_time", 5);
        snprintf(line, sizeof(line), "{\"a\":1,\"%s\":\"2024-02-29T12:34:56Z\"}", key);
        run(f, line, PLUME_FORMAT_JSON);
        assert_null(f->ev.fields_json);
        assert_non_null(f->ev.fields);
        assert_true(f->ev.time_ns == (len == 5 ? T2024 : RECV));
    }
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
        T(json_pass_through),
        T(json_msgpack_path_cases),
        T(json_escaped_message_at_limit),
        T(logfmt_lines),
        T(auto_detection),
        T(text_mode),
        T(truncated_lines),
        T(invalid_utf8_repaired),
        T(origin_and_appending),
        T(overflow_returns_false),
        T(format_names),
        T(cached_time_parse_matches_plain_parser),
        T(json_time_and_level_in_place),
        T(level_words),
        T(member_names),
        T(replay_fuzz_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
