/* SPDX-License-Identifier: MIT */
/* Axiom and plain NDJSON encoding of events: exact lines for representative
 * events ('_' renaming, level/message suppression, nested values, escaping,
 * invalid UTF-8), invalid events, output bounds, and mutated events; the same
 * for events carrying "fields_json" + "hints" (text copied, hints as the
 * suppression bits, the converted fallbacks for LF and terminal-unsafe
 * characters, and views marked by their producer as holding no LF there).
 * Output bounds are checked at every maximum, down to the shortest line. */
#include "test_support.h"
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axiom_encode.h"
#include "event.h"
#include "mp.h"

#define T0 (1795255200ull * 1000000000ull + 123456789ull) /* 2026-11-21T10:00:00.123456789Z */
#define TS "2026-11-21T10:00:00.123456789Z"

typedef bool (*encode_fn)(plume_buf_t *, const uint8_t *, size_t);

/* Encodes the event in `ev` and returns the line as a static string. */
static const char *line(encode_fn fn, plume_buf_t *ev)
{
    static char text[4096];
    plume_buf_t out;
    plume_buf_init(&out, 0);
    assert_true(fn(&out, ev->data, ev->len));
    assert_false(out.failed);
    assert_true(out.len < sizeof(text));
    memcpy(text, out.data, out.len);
    text[out.len] = '\0';
    plume_buf_free(&out);
    return text;
}

/* The full event used by several tests. */
static void build_full(plume_buf_t *b)
{
    plume_event_builder_t eb;
    plume_event_begin(&eb, b, T0);
    plume_event_set_level(&eb, PLUME_LEVEL_INFO);
    plume_event_set_message(&eb, "hello \"world\"\n", 14);
    plume_event_set_origin(&eb, "stdin");
    plume_event_fields_begin(&eb);
    plume_mp_cstr(b, "user");
    plume_mp_cstr(b, "bob");
    plume_event_field_added(&eb);
    plume_mp_cstr(b, "_id");
    plume_mp_int(b, 42);
    plume_event_field_added(&eb);
    plume_mp_cstr(b, "ratio");
    plume_mp_double(b, 0.5);
    plume_event_field_added(&eb);
    plume_mp_cstr(b, "ok");
    plume_mp_bool(b, true);
    plume_event_field_added(&eb);
    plume_mp_cstr(b, "nested");
    plume_mp_map_header(b, 1);
    plume_mp_cstr(b, "a");
    plume_mp_array_header(b, 3);
    plume_mp_int(b, -1);
    plume_mp_cstr(b, "x");
    plume_mp_nil(b);
    plume_event_field_added(&eb);
    plume_mp_int(b, 7);
    plume_mp_cstr(b, "int key");
    plume_event_field_added(&eb);
    plume_mp_cstr(b, "_");
    plume_mp_bin(b, "\x01\x02", 2);
    plume_event_field_added(&eb);
    plume_event_fields_end(&eb);
    assert_true(plume_event_end(&eb));
}

static void axiom_full_event(void **state)
{
    (void)state;
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    build_full(&ev);
    assert_string_equal(line(plume_axiom_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"user\":\"bob\",\"user_id\":42,\"ratio\":0.5,"
                        "\"ok\":true,\"nested\":{\"a\":[-1,\"x\",null]},\"7\":\"int key\","
                        "\"user_\":\"AQI=\",\"level\":\"info\","
                        "\"message\":\"hello \\\"world\\\"\\n\"}\n");
    plume_buf_free(&ev);
}

static void ndjson_full_event(void **state)
{
    (void)state;
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    build_full(&ev);
    assert_string_equal(line(plume_ndjson_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"user\":\"bob\",\"user_id\":42,\"ratio\":0.5,"
                        "\"ok\":true,\"nested\":{\"a\":[-1,\"x\",null]},\"7\":\"int key\","
                        "\"user_\":\"AQI=\",\"level\":\"info\","
                        "\"message\":\"hello \\\"world\\\"\\n\",\"origin\":\"stdin\"}\n");
    plume_buf_free(&ev);
}

static void minimal_event(void **state)
{
    (void)state;
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    plume_event_builder_t eb;
    plume_event_begin(&eb, &ev, 0);
    assert_true(plume_event_end(&eb));
    assert_string_equal(line(plume_axiom_encode_event, &ev),
                        "{\"_time\":\"1970-01-01T00:00:00.000000000Z\"}\n");
    assert_string_equal(line(plume_ndjson_encode_event, &ev),
                        "{\"_time\":\"1970-01-01T00:00:00.000000000Z\"}\n");
    /* Empty message and empty fields map. */
    plume_buf_reset(&ev);
    plume_event_begin(&eb, &ev, T0);
    plume_event_set_message(&eb, "", 0);
    plume_event_fields_begin(&eb);
    plume_event_fields_end(&eb);
    assert_true(plume_event_end(&eb));
    assert_string_equal(line(plume_axiom_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"message\":\"\"}\n");
    plume_buf_free(&ev);
}

/* One string field `key` = "u" on an event with level warn and message "m". */
static void build_with_field(plume_buf_t *b, const char *key)
{
    plume_event_builder_t eb;
    plume_buf_reset(b);
    plume_event_begin(&eb, b, T0);
    plume_event_set_level(&eb, PLUME_LEVEL_WARN);
    plume_event_set_message(&eb, "m", 1);
    plume_event_set_origin(&eb, "sdk");
    plume_event_set_truncated(&eb);
    plume_event_set_parse_error(&eb, "bad");
    plume_event_fields_begin(&eb);
    plume_mp_cstr(b, key);
    plume_mp_cstr(b, "u");
    plume_event_field_added(&eb);
    plume_event_fields_end(&eb);
    assert_true(plume_event_end(&eb));
}

static void suppression_rules(void **state)
{
    (void)state;
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    const char *tail = ",\"truncated\":true,\"parse_error\":\"bad\"}\n";
    char want[512];

    build_with_field(&ev, "other");
    snprintf(want, sizeof(want),
             "{\"_time\":\"" TS "\",\"other\":\"u\",\"level\":\"warn\",\"message\":\"m\"%s", tail);
    assert_string_equal(line(plume_axiom_encode_event, &ev), want);

    build_with_field(&ev, "level");
    snprintf(want, sizeof(want), "{\"_time\":\"" TS "\",\"level\":\"u\",\"message\":\"m\"%s", tail);
    assert_string_equal(line(plume_axiom_encode_event, &ev), want);

    build_with_field(&ev, "severity");
    snprintf(want, sizeof(want), "{\"_time\":\"" TS "\",\"severity\":\"u\",\"message\":\"m\"%s",
             tail);
    assert_string_equal(line(plume_axiom_encode_event, &ev), want);

    build_with_field(&ev, "message");
    snprintf(want, sizeof(want), "{\"_time\":\"" TS "\",\"message\":\"u\",\"level\":\"warn\"%s",
             tail);
    assert_string_equal(line(plume_axiom_encode_event, &ev), want);

    build_with_field(&ev, "msg");
    snprintf(want, sizeof(want), "{\"_time\":\"" TS "\",\"msg\":\"u\",\"level\":\"warn\"%s", tail);
    assert_string_equal(line(plume_axiom_encode_event, &ev), want);

    /* Near misses do not suppress. */
    build_with_field(&ev, "Level");
    snprintf(want, sizeof(want),
             "{\"_time\":\"" TS "\",\"Level\":\"u\",\"level\":\"warn\",\"message\":\"m\"%s", tail);
    assert_string_equal(line(plume_axiom_encode_event, &ev), want);

    build_with_field(&ev, "msgs");
    snprintf(want, sizeof(want),
             "{\"_time\":\"" TS "\",\"msgs\":\"u\",\"level\":\"warn\",\"message\":\"m\"%s", tail);
    assert_string_equal(line(plume_axiom_encode_event, &ev), want);

    /* A user field named like a later system key replaces it. */
    build_with_field(&ev, "truncated");
    assert_string_equal(line(plume_axiom_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"truncated\":\"u\",\"level\":\"warn\","
                        "\"message\":\"m\",\"parse_error\":\"bad\"}\n");
    build_with_field(&ev, "parse_error");
    assert_string_equal(line(plume_axiom_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"parse_error\":\"u\",\"level\":\"warn\","
                        "\"message\":\"m\",\"truncated\":true}\n");

    /* Plain flavour: origin, and its own suppression. */
    build_with_field(&ev, "msg");
    snprintf(want, sizeof(want),
             "{\"_time\":\"" TS "\",\"msg\":\"u\",\"level\":\"warn\",\"origin\":\"sdk\"%s", tail);
    assert_string_equal(line(plume_ndjson_encode_event, &ev), want);
    build_with_field(&ev, "origin");
    snprintf(want, sizeof(want),
             "{\"_time\":\"" TS "\",\"origin\":\"u\",\"level\":\"warn\",\"message\":\"m\"%s", tail);
    assert_string_equal(line(plume_ndjson_encode_event, &ev), want);
    /* ...while Axiom never gets "origin" from the event, and a user "origin"
     * field is an ordinary field. */
    snprintf(want, sizeof(want),
             "{\"_time\":\"" TS "\",\"origin\":\"u\",\"level\":\"warn\",\"message\":\"m\"%s", tail);
    assert_string_equal(line(plume_axiom_encode_event, &ev), want);

    /* '_' keys in Axiom, including a user "_time". */
    build_with_field(&ev, "_time");
    snprintf(want, sizeof(want),
             "{\"_time\":\"" TS "\",\"user_time\":\"u\",\"level\":\"warn\",\"message\":\"m\"%s",
             tail);
    assert_string_equal(line(plume_axiom_encode_event, &ev), want);
    plume_buf_free(&ev);
}

static void escaping_and_invalid_utf8(void **state)
{
    (void)state;
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    plume_event_builder_t eb;
    plume_event_begin(&eb, &ev, T0);
    plume_event_set_message(&eb, "bad \xff\xe2\x82 \x1b[2J\t\xc3\xa9", 15);
    plume_event_fields_begin(&eb);
    plume_mp_str(&ev, "_k\"\xfe", 4);
    plume_mp_str(&ev, "v\0\\", 3);
    plume_event_field_added(&eb);
    plume_event_fields_end(&eb);
    assert_true(plume_event_end(&eb));
    assert_string_equal(line(plume_axiom_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"user_k\\\"\\ufffd\":\"v\\u0000\\\\\","
                        "\"message\":\"bad \\ufffd\\ufffd \\u001b[2J\\t\xc3\xa9\"}\n");
    plume_buf_free(&ev);
}

/* Each bad event: false, nothing appended, `failed` not set. */
static void expect_rejected(const uint8_t *p, size_t n)
{
    plume_buf_t out;
    plume_buf_init(&out, 0);
    plume_buf_append(&out, "keep", 4);
    assert_false(plume_axiom_encode_event(&out, p, n));
    assert_false(plume_ndjson_encode_event(&out, p, n));
    assert_int_equal(out.len, 4);
    assert_false(out.failed);
    plume_buf_free(&out);
}

static void invalid_events(void **state)
{
    (void)state;
    expect_rejected((const uint8_t *)"", 0);
    expect_rejected(NULL, 0);
    static const uint8_t array[] = {0x91, 0x01};
    expect_rejected(array, sizeof(array));
    static const uint8_t fields_not_map[] = {0x81, 0xa6, 'f', 'i', 'e', 'l', 'd', 's', 0x05};
    expect_rejected(fields_not_map, sizeof(fields_not_map));
    static const uint8_t level_int[] = {0x81, 0xa5, 'l', 'e', 'v', 'e', 'l', 0x05};
    expect_rejected(level_int, sizeof(level_int));
    static const uint8_t int_key[] = {0x81, 0x01, 0x02};
    expect_rejected(int_key, sizeof(int_key));
    /* Every truncation of a valid event. */
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    build_full(&ev);
    for (size_t cut = 0; cut < ev.len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, ev.data, cut);
        expect_rejected(copy, cut);
        free(copy);
    }
    plume_buf_free(&ev);
}

static void output_bounds(void **state)
{
    (void)state;
    plume_buf_t ev, out;
    plume_buf_init(&ev, 0);
    build_full(&ev);
    plume_buf_init(&out, 0);
    assert_true(plume_axiom_encode_event(&out, ev.data, ev.len));
    size_t one = out.len;
    plume_buf_free(&out);

    /* Room for exactly two lines: the third is refused whole. */
    plume_buf_init(&out, 2 * one);
    assert_true(plume_axiom_encode_event(&out, ev.data, ev.len));
    assert_true(plume_axiom_encode_event(&out, ev.data, ev.len));
    assert_false(plume_axiom_encode_event(&out, ev.data, ev.len));
    assert_true(out.failed);
    assert_int_equal(out.len, 2 * one);
    assert_memory_equal(out.data, out.data + one, one);
    /* A reset buffer works again. */
    plume_buf_reset(&out);
    assert_true(plume_axiom_encode_event(&out, ev.data, ev.len));
    assert_int_equal(out.len, one);
    /* Every smaller maximum fails cleanly. */
    for (size_t max = 1; max < one; max++) {
        plume_buf_t small;
        plume_buf_init(&small, max);
        assert_false(plume_axiom_encode_event(&small, ev.data, ev.len));
        assert_true(small.failed);
        assert_int_equal(small.len, 0);
        plume_buf_free(&small);
    }
    plume_buf_free(&out);
    plume_buf_free(&ev);
}

/* The shortest line ({"_time":"..."} and '\n', 43 bytes) fits a buffer of
 * exactly that maximum and no smaller one, which is left untouched. */
static void output_bounds_shortest_line(void **state)
{
    (void)state;
    plume_event_view_t v = {.time_ns = T0, .level = PLUME_LEVEL_NONE};
    const char *want = "{\"_time\":\"" TS "\"}\n";
    size_t n = strlen(want);
    assert_int_equal(n, 43);
    for (int axiom = 0; axiom < 2; axiom++) {
        bool (*enc)(plume_buf_t *, const plume_event_view_t *) =
            axiom ? plume_axiom_encode_view : plume_ndjson_encode_view;
        for (size_t max = 1; max <= n + 1; max++) {
            plume_buf_t out;
            plume_buf_init(&out, max);
            bool ok = enc(&out, &v);
            assert_int_equal(ok, max >= n);
            assert_int_equal(out.failed, max < n);
            if (ok) {
                assert_int_equal(out.len, n);
                assert_memory_equal(out.data, want, n);
                /* a second line does not fit (or only at n + 1: not at all) */
                assert_false(enc(&out, &v));
                assert_int_equal(out.len, n);
            } else {
                assert_int_equal(out.len, 0);
            }
            plume_buf_free(&out);
        }
    }
}

/* Random byte flips of a valid event: never a crash; a line produced is one
 * line ending in '\n'. */
static void mutated_events(void **state)
{
    (void)state;
    plume_buf_t ev, out;
    plume_buf_init(&ev, 0);
    build_full(&ev);
    plume_buf_init(&out, 0);
    uint8_t *copy = malloc(ev.len);
    uint64_t x = 99;
    int accepted = 0;
    for (int i = 0; i < 20000; i++) {
        memcpy(copy, ev.data, ev.len);
        for (int f = 0; f < 1 + i % 3; f++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            copy[(x >> 33) % ev.len] = (uint8_t)(x >> 20);
        }
        encode_fn fn = i % 2 ? plume_axiom_encode_event : plume_ndjson_encode_event;
        plume_buf_reset(&out);
        if (fn(&out, copy, ev.len)) {
            accepted++;
            assert_true(out.len > 2);
            assert_int_equal(out.data[0], '{');
            assert_int_equal(out.data[out.len - 1], '\n');
            assert_null(memchr(out.data, '\n', out.len - 1));
        } else {
            assert_int_equal(out.len, 0);
        }
    }
    assert_true(accepted > 0);
    free(copy);
    plume_buf_free(&out);
    plume_buf_free(&ev);
}

/* An event whose fields are the JSON text `json`, with level warn, message
 * "m", origin "sdk", truncated and parse_error "bad", and the given hints. */
static void build_json(plume_buf_t *b, const char *json, unsigned hints)
{
    plume_event_builder_t eb;
    plume_buf_reset(b);
    plume_event_begin(&eb, b, T0);
    plume_event_set_level(&eb, PLUME_LEVEL_WARN);
    plume_event_set_message(&eb, "m", 1);
    plume_event_set_origin(&eb, "sdk");
    plume_event_set_hints(&eb, hints);
    plume_event_set_fields_json(&eb, json, strlen(json));
    plume_event_set_truncated(&eb);
    plume_event_set_parse_error(&eb, "bad");
    assert_true(plume_event_end(&eb));
}

#define TAIL ",\"level\":\"warn\",\"message\":\"m\",\"truncated\":true,\"parse_error\":\"bad\"}\n"

static void fields_json_copied(void **state)
{
    (void)state;
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    build_json(&ev, "{\"a\":1.50,\"b\":[1,{\"c\":\"\\u00e9\\n\"}],\"n\":null}", 0);
    assert_string_equal(line(plume_axiom_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"a\":1.50,"
                        "\"b\":[1,{\"c\":\"\\u00e9\\n\"}],\"n\":null" TAIL);
    assert_string_equal(line(plume_ndjson_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"a\":1.50,"
                        "\"b\":[1,{\"c\":\"\\u00e9\\n\"}],\"n\":null,"
                        "\"level\":\"warn\",\"message\":\"m\",\"origin\":\"sdk\","
                        "\"truncated\":true,\"parse_error\":\"bad\"}\n");
    /* empty objects add nothing; inner whitespace is kept, leading dropped */
    build_json(&ev, "{}", 0);
    assert_string_equal(line(plume_axiom_encode_event, &ev), "{\"_time\":\"" TS "\"" TAIL);
    build_json(&ev, "{ \t\r }", 0);
    assert_string_equal(line(plume_axiom_encode_event, &ev), "{\"_time\":\"" TS "\"" TAIL);
    build_json(&ev, "{ \"a\" : 1 }", 0);
    assert_string_equal(line(plume_axiom_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"a\" : 1 " TAIL);
    plume_buf_free(&ev);
}

static void fields_json_hints_suppress(void **state)
{
    (void)state;
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    build_json(&ev, "{\"level\":\"x\"}", PLUME_HINT_LEVEL);
    assert_string_equal(line(plume_axiom_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"level\":\"x\",\"message\":\"m\","
                        "\"truncated\":true,\"parse_error\":\"bad\"}\n");
    build_json(&ev, "{\"msg\":\"x\"}", PLUME_HINT_MESSAGE);
    assert_string_equal(line(plume_axiom_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"msg\":\"x\",\"level\":\"warn\",\"truncated\":true,"
                        "\"parse_error\":\"bad\"}\n");
    build_json(&ev, "{\"truncated\":1,\"parse_error\":2}",
               PLUME_HINT_TRUNCATED | PLUME_HINT_PARSE_ERROR);
    assert_string_equal(line(plume_axiom_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"truncated\":1,\"parse_error\":2,"
                        "\"level\":\"warn\",\"message\":\"m\"}\n");
    build_json(&ev, "{\"origin\":1}", PLUME_HINT_ORIGIN);
    assert_string_equal(line(plume_ndjson_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"origin\":1,\"level\":\"warn\",\"message\":\"m\","
                        "\"truncated\":true,\"parse_error\":\"bad\"}\n");
    /* the hints are trusted: the text itself is not searched */
    build_json(&ev, "{\"k\":1}", PLUME_HINT_ALL);
    assert_string_equal(line(plume_ndjson_encode_event, &ev), "{\"_time\":\"" TS "\",\"k\":1}\n");
    build_json(&ev, "{\"level\":1}", 0);
    assert_string_equal(line(plume_axiom_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"level\":1" TAIL);
    plume_buf_free(&ev);
}

static void fields_json_converted_cases(void **state)
{
    (void)state;
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    /* a raw LF would split the line: converted, written like "fields" */
    build_json(&ev, "{\"a\":\n 1.50,\n\"msg\":\"x\"}", 0);
    assert_string_equal(line(plume_axiom_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"a\":1.5,\"msg\":\"x\",\"level\":\"warn\","
                        "\"truncated\":true,\"parse_error\":\"bad\"}\n");
    /* terminal-unsafe characters: raw for Axiom, escaped in the plain flavour */
    build_json(&ev, "{\"a\":\"x\xe2\x80\xaey\x7f\xc2\x85\"}", 0);
    assert_string_equal(line(plume_axiom_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"a\":\"x\xe2\x80\xaey\x7f\xc2\x85\"" TAIL);
    assert_string_equal(line(plume_ndjson_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"a\":\"x\\u202ey\\u007f\\u0085\","
                        "\"level\":\"warn\",\"message\":\"m\",\"origin\":\"sdk\","
                        "\"truncated\":true,\"parse_error\":\"bad\"}\n");
    /* harmless neighbours are copied */
    build_json(&ev, "{\"a\":\"\xe2\x80\xa7\xc2\xa0\xe2\x81\xa5\"}", 0);
    assert_string_equal(line(plume_ndjson_encode_event, &ev),
                        "{\"_time\":\"" TS "\",\"a\":\"\xe2\x80\xa7\xc2\xa0\xe2\x81\xa5\","
                        "\"level\":\"warn\",\"message\":\"m\",\"origin\":\"sdk\","
                        "\"truncated\":true,\"parse_error\":\"bad\"}\n");
    /* text that is not a JSON object (a broken promise) is refused when it
     * has to be converted */
    build_json(&ev, "{\"a\":\n}", 0);
    expect_rejected(ev.data, ev.len);
    plume_buf_free(&ev);
}

static void fields_json_bounds_and_mutations(void **state)
{
    (void)state;
    plume_buf_t ev, out;
    plume_buf_init(&ev, 0);
    build_json(&ev, "{\"user\":\"bob\",\"n\":[1,2,3],\"msg\":\"hello\"}", PLUME_HINT_MESSAGE);
    plume_buf_init(&out, 0);
    assert_true(plume_axiom_encode_event(&out, ev.data, ev.len));
    size_t one = out.len;
    plume_buf_free(&out);
    for (size_t max = 1; max < one; max++) {
        plume_buf_t small;
        plume_buf_init(&small, max);
        assert_false(plume_axiom_encode_event(&small, ev.data, ev.len));
        assert_true(small.failed);
        assert_int_equal(small.len, 0);
        plume_buf_free(&small);
    }
    /* byte flips: never a crash, and a produced line is one line */
    uint8_t *copy = malloc(ev.len);
    uint64_t x = 5;
    int accepted = 0;
    plume_buf_init(&out, 0);
    for (int i = 0; i < 20000; i++) {
        memcpy(copy, ev.data, ev.len);
        for (int f = 0; f < 1 + i % 3; f++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            copy[(x >> 33) % ev.len] = (uint8_t)(x >> 20);
        }
        encode_fn fn = i % 2 ? plume_axiom_encode_event : plume_ndjson_encode_event;
        plume_buf_reset(&out);
        if (fn(&out, copy, ev.len)) {
            accepted++;
            assert_int_equal(out.data[0], '{');
            assert_int_equal(out.data[out.len - 1], '\n');
            assert_null(memchr(out.data, '\n', out.len - 1));
        } else {
            assert_int_equal(out.len, 0);
        }
    }
    assert_true(accepted > 0);
    free(copy);
    plume_buf_free(&out);
    plume_buf_free(&ev);
}

/* fields_json_one_line (the producer vouches for no LF in fields_json)
 * changes nothing in the lines of text without one; unmarked text with an
 * LF is converted as before; the plain flavour still escapes
 * terminal-unsafe characters in marked text. */
static void fields_json_one_line_mark(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "{\"a\":1.50,\"msg\":\"x\"}", "{}", "{ \"a\" : [1, {\"b\": null}] }",
        "{\"a\":\"x\xe2\x80\xaey\x7f\xc2\x85\"}", "{\"level\":\"e\",\"k\":\"\\n\"}",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        plume_event_view_t v = {.time_ns = T0, .level = PLUME_LEVEL_WARN, .message = "m",
                                .message_len = 1, .fields_json = texts[i],
                                .fields_json_len = strlen(texts[i]), .hints = PLUME_HINT_LEVEL};
        for (int axiom = 0; axiom < 2; axiom++) {
            bool (*enc)(plume_buf_t *, const plume_event_view_t *) =
                axiom ? plume_axiom_encode_view : plume_ndjson_encode_view;
            plume_buf_t a, b;
            plume_buf_init(&a, 0);
            plume_buf_init(&b, 0);
            v.fields_json_one_line = false;
            assert_true(enc(&a, &v));
            v.fields_json_one_line = true;
            assert_true(enc(&b, &v));
            assert_int_equal(a.len, b.len);
            assert_memory_equal(a.data, b.data, a.len);
            if (!axiom && i == 3) /* U+202E, DEL, U+0085 escaped */
                assert_non_null(strstr((const char *)b.data, "x\\u202ey\\u007f\\u0085"));
            plume_buf_free(&a);
            plume_buf_free(&b);
        }
    }
    /* unmarked with an LF: converted to one line */
    const char *lf = "{\"a\":\n 1.50}";
    plume_event_view_t v = {.time_ns = T0, .level = PLUME_LEVEL_NONE, .fields_json = lf,
                            .fields_json_len = strlen(lf)};
    plume_buf_t out;
    plume_buf_init(&out, 0);
    assert_true(plume_axiom_encode_view(&out, &v));
    assert_int_equal(out.len, strlen("{\"_time\":\"" TS "\",\"a\":1.5}\n"));
    assert_memory_equal(out.data, "{\"_time\":\"" TS "\",\"a\":1.5}\n", out.len);
    plume_buf_free(&out);
}

/* The "error" map goes out as "exception" (after the system keys), as JSON
 * with bin as base64; a malformed one is left out and the event kept. */
static void error_map_as_exception(void **state)
{
    (void)state;
    plume_buf_t err, b;
    plume_buf_init(&err, 0);
    plume_mp_map_header(&err, 3);
    plume_mp_cstr(&err, "type");
    plume_mp_cstr(&err, "SIGSEGV");
    plume_mp_cstr(&err, "frames");
    plume_mp_array_header(&err, 1);
    plume_mp_map_header(&err, 2);
    plume_mp_cstr(&err, "addr");
    plume_mp_uint(&err, 4096);
    plume_mp_cstr(&err, "function");
    plume_mp_cstr(&err, "crash_now");
    plume_mp_cstr(&err, "build_id");
    plume_mp_bin(&err, "\x01\x02\x03", 3);
    plume_buf_init(&b, 0);
    plume_event_builder_t eb;
    plume_event_begin(&eb, &b, T0);
    plume_event_set_level(&eb, PLUME_LEVEL_FATAL);
    plume_event_set_error(&eb, err.data, err.len);
    assert_true(plume_event_end(&eb));
    assert_string_equal(line(plume_axiom_encode_event, &b),
                        "{\"_time\":\"" TS "\",\"level\":\"fatal\",\"exception\":{\"type\":"
                        "\"SIGSEGV\",\"frames\":[{\"addr\":4096,\"function\":\"crash_now\"}],"
                        "\"build_id\":\"AQID\"}}\n");

    plume_event_view_t v;
    assert_true(plume_event_view(b.data, b.len, &v));
    v.error_len = err.len - 4; /* cut inside the map */
    plume_buf_t out;
    plume_buf_init(&out, 0);
    assert_true(plume_axiom_encode_view(&out, &v));
    assert_int_equal(out.len, strlen("{\"_time\":\"" TS "\",\"level\":\"fatal\"}\n"));
    assert_memory_equal(out.data, "{\"_time\":\"" TS "\",\"level\":\"fatal\"}\n", out.len);
    plume_buf_free(&out);
    plume_buf_free(&err);
    plume_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(axiom_full_event),
        cmocka_unit_test(ndjson_full_event),
        cmocka_unit_test(minimal_event),
        cmocka_unit_test(suppression_rules),
        cmocka_unit_test(escaping_and_invalid_utf8),
        cmocka_unit_test(invalid_events),
        cmocka_unit_test(output_bounds),
        cmocka_unit_test(output_bounds_shortest_line),
        cmocka_unit_test(mutated_events),
        cmocka_unit_test(fields_json_copied),
        cmocka_unit_test(fields_json_hints_suppress),
        cmocka_unit_test(fields_json_converted_cases),
        cmocka_unit_test(fields_json_bounds_and_mutations),
        cmocka_unit_test(fields_json_one_line_mark),
        cmocka_unit_test(error_map_as_exception),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
