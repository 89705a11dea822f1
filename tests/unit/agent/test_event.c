/* SPDX-License-Identifier: MIT */
/* Events: builder -> plume_event_view round trips for every key (including
 * "fields_json" and "hints"), the view's refusals (wrong types, both field
 * forms, unbraced fields_json, truncations, random corruption), level
 * spellings, the shared hint table, and plume_mp_str_eq. */
#include "test_support.h"
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "mp.h"

static bool view(const plume_buf_t *b, plume_event_view_t *ev)
{
    return plume_event_view(b->data, b->len, ev);
}

static void assert_span(const char *got, size_t n, const char *want)
{
    assert_non_null(got);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(got, want, n);
}

static void round_trip_all_keys(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_event_builder_t eb;
    plume_event_begin(&eb, &b, 1234567890123456789ull);
    plume_event_set_level(&eb, PLUME_LEVEL_ERROR);
    plume_event_set_message(&eb, "m\0x", 3);
    plume_event_set_origin(&eb, "stdin");
    /* an unknown bit is dropped */
    plume_event_set_hints(&eb, PLUME_HINT_LEVEL | PLUME_HINT_ORIGIN | 0x100);
    plume_event_set_fields_json(&eb, "{\"a\":1}", 7);
    plume_event_set_truncated(&eb);
    plume_event_set_parse_error(&eb, "why");
    assert_true(plume_event_end(&eb));

    plume_event_view_t ev;
    assert_true(view(&b, &ev));
    assert_true(ev.time_ns == 1234567890123456789ull);
    assert_int_equal(ev.level, PLUME_LEVEL_ERROR);
    assert_int_equal(ev.message_len, 3);
    assert_memory_equal(ev.message, "m\0x", 3);
    assert_span(ev.origin, ev.origin_len, "stdin");
    assert_span(ev.fields_json, ev.fields_json_len, "{\"a\":1}");
    assert_int_equal(ev.hints, PLUME_HINT_LEVEL | PLUME_HINT_ORIGIN);
    assert_null(ev.fields);
    assert_true(ev.truncated);
    assert_span(ev.parse_error, ev.parse_error_len, "why");

    /* msgpack fields instead, and nothing else */
    plume_buf_reset(&b);
    plume_event_begin(&eb, &b, 7);
    plume_event_fields_begin(&eb);
    plume_mp_cstr(&b, "k");
    plume_mp_array_header(&b, 1);
    plume_mp_nil(&b);
    plume_event_field_added(&eb);
    plume_event_fields_end(&eb);
    assert_true(plume_event_end(&eb));
    assert_true(view(&b, &ev));
    assert_true(ev.time_ns == 7);
    assert_int_equal(ev.level, PLUME_LEVEL_NONE);
    assert_null(ev.message);
    assert_null(ev.origin);
    assert_null(ev.fields_json);
    assert_int_equal(ev.hints, 0);
    assert_false(ev.truncated);
    assert_null(ev.parse_error);
    assert_non_null(ev.fields);
    plume_mp_reader_t r;
    plume_mp_value_t v;
    plume_mp_reader_init(&r, ev.fields, ev.fields_len);
    assert_true(plume_mp_read(&r, &v) && v.type == PLUME_MP_MAP && v.count == 1);
    assert_true(plume_mp_skip(&r) && plume_mp_skip(&r));
    assert_ptr_equal(r.p, ev.fields + ev.fields_len);

    /* a bounded buffer: end() reports the overflow */
    plume_buf_t small;
    plume_buf_init(&small, 20);
    plume_event_begin(&eb, &small, 1);
    plume_event_set_fields_json(&eb, "{\"aaaaaaaaaaaaaaaa\":1}", 22);
    assert_false(plume_event_end(&eb));
    plume_buf_free(&small);
    plume_buf_free(&b);
}

/* Builds a map from (key, msgpack bytes) pairs. */
static void map_of(plume_buf_t *b, int n, const char *const *keys, const char *const *vals,
                   const size_t *vlens)
{
    plume_buf_reset(b);
    plume_mp_map_header(b, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        plume_mp_cstr(b, keys[i]);
        plume_buf_append(b, vals[i], vlens[i]);
    }
}

static void view_refusals(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_event_view_t ev;
    static const struct {
        const char *key;
        const char *val; /* msgpack bytes */
        size_t len;
        bool ok;
    } cases[] = {
        {"fields_json", "\xa2{}", 3, true},
        {"fields_json", "\xc0", 1, true},          /* nil: absent */
        {"fields_json", "\xa0", 1, false},         /* empty */
        {"fields_json", "\xa1{", 2, false},
        {"fields_json", "\xa2[]", 3, false},
        {"fields_json", "\xa3{ x", 4, false},
        {"fields_json", "\xa3x }", 4, false},
        {"fields_json", "\x05", 1, false},
        {"fields_json", "\x91\x01", 2, true},      /* containers of known keys are skipped */
        {"hints", "\x1f", 1, true},
        {"hints", "\xa1x", 2, false},
        {"hints", "\xff", 1, false},               /* negative */
        {"time", "\xa1x", 2, false},
        {"time", "\xcb\0\0\0\0\0\0\0\0", 9, false},
        {"level", "\x01", 1, false},
        {"message", "\xc3", 1, false},
        {"origin", "\x01", 1, false},
        {"parse_error", "\x01", 1, false},
        {"truncated", "\x01", 1, true},            /* anything but true is false */
        {"fields", "\x01", 1, false},
        {"fields", "\x91\x01", 2, false},          /* an array */
        {"fields", "\xc0", 1, true},
        {"other", "\xc1", 1, false},               /* never valid msgpack */
        {"other", "\x81\xa1k\x01", 4, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *keys[] = {"time", cases[i].key};
        const char *vals[] = {"\x05", cases[i].val};
        size_t lens[] = {1, cases[i].len};
        map_of(&b, 2, keys, vals, lens);
        if (view(&b, &ev) != cases[i].ok)
            fail_msg("case %zu (%s): expected %s", i, cases[i].key, cases[i].ok ? "ok" : "refused");
    }
    /* both field forms */
    const char *keys[] = {"fields", "fields_json"};
    const char *vals[] = {"\x80", "\xa2{}"};
    size_t lens[] = {1, 3};
    map_of(&b, 2, keys, vals, lens);
    assert_false(view(&b, &ev));
    const char *vals_nil[] = {"\xc0", "\xa2{}"};
    map_of(&b, 2, keys, vals_nil, lens);
    assert_true(view(&b, &ev));
    assert_non_null(ev.fields_json);
    /* not a map, a non-string key, truncated input */
    assert_false(plume_event_view((const uint8_t *)"\x91\x01", 2, &ev));
    assert_false(plume_event_view((const uint8_t *)"\x81\x01\x02", 3, &ev));
    assert_false(plume_event_view((const uint8_t *)"", 0, &ev));
    plume_buf_free(&b);
}

/* Every cut of a full event is refused; random corruption never crashes and
 * whatever is accepted has spans inside the input. */
static void hostile_events(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_event_builder_t eb;
    plume_event_begin(&eb, &b, 99);
    plume_event_set_level(&eb, PLUME_LEVEL_INFO);
    plume_event_set_message(&eb, "hello", 5);
    plume_event_set_origin(&eb, "stdin");
    plume_event_set_hints(&eb, PLUME_HINT_MESSAGE);
    plume_event_set_fields_json(&eb, "{\"msg\":\"hello\",\"n\":[1,2,{\"x\":null}]}", 36);
    plume_event_set_parse_error(&eb, "p");
    assert_true(plume_event_end(&eb));
    plume_event_view_t ev;
    for (size_t cut = 0; cut < b.len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, b.data, cut);
        assert_false(plume_event_view(copy, cut, &ev));
        free(copy);
    }
    uint8_t *copy = malloc(b.len);
    uint64_t x = 7;
    int accepted = 0;
    for (int i = 0; i < 20000; i++) {
        memcpy(copy, b.data, b.len);
        for (int f = 0; f < 1 + i % 3; f++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            copy[(x >> 33) % b.len] = (uint8_t)(x >> 20);
        }
        if (!plume_event_view(copy, b.len, &ev))
            continue;
        accepted++;
        const char *lo = (const char *)copy, *hi = lo + b.len;
        if (ev.fields_json) {
            assert_true(ev.fields_json >= lo && ev.fields_json + ev.fields_json_len <= hi);
            assert_int_equal(ev.fields_json[0], '{');
            assert_int_equal(ev.fields_json[ev.fields_json_len - 1], '}');
            assert_null(ev.fields);
        }
        if (ev.message)
            assert_true(ev.message >= lo && ev.message + ev.message_len <= hi);
        assert_true(ev.hints <= PLUME_HINT_ALL);
    }
    assert_true(accepted > 0);
    free(copy);
    plume_buf_free(&b);
}

/* Appends a str in the given form: 0 fixstr, 1 str8, 2 str16 (n fits). */
static void put_str_form(plume_buf_t *b, const char *s, size_t n, int form)
{
    if (form == 0) {
        plume_buf_append_byte(b, (uint8_t)(0xa0 | n));
    } else if (form == 1) {
        plume_buf_append_byte(b, 0xd9);
        plume_buf_append_byte(b, (uint8_t)n);
    } else {
        plume_buf_append_byte(b, 0xda);
        plume_buf_append_byte(b, (uint8_t)(n >> 8));
        plume_buf_append_byte(b, (uint8_t)n);
    }
    plume_buf_append(b, s, n);
}

/* The view reads the short and the long msgpack forms of every header the
 * same way (the common forms are decoded inline, the rest by plume_mp_read),
 * and refuses a string or uint64 cut short in any of them. */
static void view_equivalent_encodings(void **state)
{
    (void)state;
    const char *fj = "{\"a\":1}";
    for (int form = 0; form < 3; form++) {
        for (int tform = 0; tform < 2; tform++) {
            plume_buf_t b;
            plume_buf_init(&b, 0);
            plume_mp_map_header(&b, 5);
            put_str_form(&b, "time", 4, form);
            if (tform == 0) { /* uint64 form of a small value */
                static const uint8_t t[] = {0xcf, 0, 0, 0, 0, 0, 0, 0x01, 0x02};
                plume_buf_append(&b, t, sizeof(t));
            } else {
                plume_mp_uint(&b, 0x0102);
            }
            put_str_form(&b, "level", 5, form);
            put_str_form(&b, "warn", 4, form);
            put_str_form(&b, "message", 7, form);
            put_str_form(&b, "hi", 2, form);
            put_str_form(&b, "hints", 5, form);
            if (form == 0) {
                plume_buf_append_byte(&b, (uint8_t)PLUME_HINT_MESSAGE);
            } else {
                plume_buf_append_byte(&b, 0xcc);
                plume_buf_append_byte(&b, (uint8_t)PLUME_HINT_MESSAGE);
            }
            put_str_form(&b, "fields_json", 11, form);
            put_str_form(&b, fj, strlen(fj), form);
            assert_false(b.failed);
            plume_event_view_t ev;
            assert_true(plume_event_view(b.data, b.len, &ev));
            assert_int_equal(ev.time_ns, 0x0102);
            assert_int_equal(ev.level, PLUME_LEVEL_WARN);
            assert_int_equal(ev.message_len, 2);
            assert_memory_equal(ev.message, "hi", 2);
            assert_int_equal(ev.hints, PLUME_HINT_MESSAGE);
            assert_int_equal(ev.fields_json_len, strlen(fj));
            assert_memory_equal(ev.fields_json, fj, strlen(fj));
            for (size_t cut = 0; cut < b.len; cut++)
                assert_false(plume_event_view(b.data, cut, &ev));
            plume_buf_free(&b);
        }
    }
    /* a str8 whose length runs past the input; a fixint where a str is due */
    plume_event_view_t ev;
    assert_false(plume_event_view((const uint8_t *)"\x81\xd9\x05time", 7, &ev));
    assert_false(plume_event_view((const uint8_t *)"\x81\x05\x01", 3, &ev));
}

/* "error": a map kept as bytes by the view, written back by
 * plume_event_write(); any other container type refuses the event, nil means
 * none. */
static void error_map(void **state)
{
    (void)state;
    plume_buf_t err, b, again;
    plume_buf_init(&err, 0);
    plume_mp_map_header(&err, 1);
    plume_mp_cstr(&err, "type");
    plume_mp_cstr(&err, "E");
    plume_buf_init(&b, 0);
    plume_event_builder_t eb;
    plume_event_begin(&eb, &b, 5);
    plume_event_set_error(&eb, err.data, err.len);
    assert_true(plume_event_end(&eb));
    plume_event_view_t v;
    assert_true(plume_event_view(b.data, b.len, &v));
    assert_int_equal(v.error_len, err.len);
    assert_memory_equal(v.error, err.data, err.len);
    plume_buf_init(&again, 0);
    assert_true(plume_event_write(&again, &v));
    plume_event_view_t v2;
    assert_true(plume_event_view(again.data, again.len, &v2));
    assert_int_equal(v2.error_len, err.len);
    assert_memory_equal(v2.error, err.data, err.len);

    plume_buf_reset(&b);
    plume_mp_map_header(&b, 2);
    plume_mp_cstr(&b, "time");
    plume_mp_uint(&b, 1);
    plume_mp_cstr(&b, "error");
    plume_mp_array_header(&b, 0);
    assert_false(plume_event_view(b.data, b.len, &v));
    plume_buf_reset(&b);
    plume_mp_map_header(&b, 2);
    plume_mp_cstr(&b, "time");
    plume_mp_uint(&b, 1);
    plume_mp_cstr(&b, "error");
    plume_mp_nil(&b);
    assert_true(plume_event_view(b.data, b.len, &v));
    assert_null(v.error);
    plume_buf_free(&err);
    plume_buf_free(&b);
    plume_buf_free(&again);
}

static void level_spellings(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        plume_level_t want;
    } cases[] = {
        {"trace", PLUME_LEVEL_TRACE}, {"debug", PLUME_LEVEL_DEBUG}, {"info", PLUME_LEVEL_INFO},
        {"warn", PLUME_LEVEL_WARN},   {"error", PLUME_LEVEL_ERROR}, {"fatal", PLUME_LEVEL_FATAL},
        {"INFO", PLUME_LEVEL_INFO},   {"Warn", PLUME_LEVEL_WARN},   {"WARNING", PLUME_LEVEL_WARN},
        {"err", PLUME_LEVEL_ERROR},   {"E", PLUME_LEVEL_ERROR},     {"crit", PLUME_LEVEL_FATAL},
        {"Informational", PLUME_LEVEL_INFO}, {"notice", PLUME_LEVEL_INFO},
        {"7", PLUME_LEVEL_DEBUG},     {"0", PLUME_LEVEL_FATAL},     {"emerg", PLUME_LEVEL_FATAL},
        {"", PLUME_LEVEL_NONE},       {"infoo", PLUME_LEVEL_NONE},  {"inf0", PLUME_LEVEL_NONE},
        {"warn ", PLUME_LEVEL_NONE},  {"tracex", PLUME_LEVEL_NONE}, {"8", PLUME_LEVEL_NONE},
        {"informationally", PLUME_LEVEL_NONE}, {"fatality", PLUME_LEVEL_NONE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        plume_level_t got = plume_level_parse(cases[i].s, strlen(cases[i].s));
        if (got != cases[i].want)
            fail_msg("'%s': got %d want %d", cases[i].s, got, cases[i].want);
    }
    /* not NUL-terminated: only n bytes are read */
    assert_int_equal(plume_level_parse("infox", 4), PLUME_LEVEL_INFO);
    assert_int_equal(plume_level_parse("errorx", 3), PLUME_LEVEL_ERROR);
    for (int l = PLUME_LEVEL_TRACE; l <= PLUME_LEVEL_FATAL; l++) {
        const char *name = plume_level_name((plume_level_t)l);
        assert_int_equal(plume_level_parse(name, strlen(name)), l);
    }
    assert_null(plume_level_name(PLUME_LEVEL_NONE));
    assert_null(plume_level_name((plume_level_t)6));
}

static void hint_names(void **state)
{
    (void)state;
    static const struct {
        const char *k;
        unsigned bit;
    } cases[] = {
        {"level", PLUME_HINT_LEVEL},     {"severity", PLUME_HINT_LEVEL},
        {"message", PLUME_HINT_MESSAGE}, {"msg", PLUME_HINT_MESSAGE},
        {"origin", PLUME_HINT_ORIGIN},   {"truncated", PLUME_HINT_TRUNCATED},
        {"parse_error", PLUME_HINT_PARSE_ERROR},
        {"Level", 0}, {"lvl", 0}, {"msgs", 0}, {"mes", 0}, {"", 0}, {"origins", 0},
        {"parse-error", 0}, {"time", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(plume_hint_for_key(cases[i].k, strlen(cases[i].k)), cases[i].bit);
    assert_int_equal(PLUME_HINT_ALL, PLUME_HINT_LEVEL | PLUME_HINT_MESSAGE | PLUME_HINT_ORIGIN |
                                         PLUME_HINT_TRUNCATED | PLUME_HINT_PARSE_ERROR);
}

static void str_eq(void **state)
{
    (void)state;
    plume_mp_value_t v = {.type = PLUME_MP_STR, .s = "level", .len = 5};
    assert_true(plume_mp_str_eq(&v, "level"));
    assert_false(plume_mp_str_eq(&v, "leve"));
    assert_false(plume_mp_str_eq(&v, "levels"));
    assert_false(plume_mp_str_eq(&v, "lever"));
    v.len = 4;
    assert_true(plume_mp_str_eq(&v, "leve"));
    v.s = "a\0b";
    v.len = 3;
    assert_false(plume_mp_str_eq(&v, "a"));
    v.len = 0;
    assert_true(plume_mp_str_eq(&v, ""));
    v.type = PLUME_MP_BIN;
    assert_false(plume_mp_str_eq(&v, ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_all_keys),
        cmocka_unit_test(view_refusals),
        cmocka_unit_test(hostile_events),
        cmocka_unit_test(view_equivalent_encodings),
        cmocka_unit_test(error_map),
        cmocka_unit_test(level_spellings),
        cmocka_unit_test(hint_names),
        cmocka_unit_test(str_eq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
