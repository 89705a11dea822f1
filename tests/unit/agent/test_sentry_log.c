/* SPDX-License-Identifier: MIT */
/* Pipeline events -> Sentry log entries: exact output for an SDK-style event
 * (fields_json: typed attributes, scope keys renamed, nested values as JSON
 * text, first occurrence wins), for a msgpack-fields event with the odd
 * values (uint above int64, negative, non-finite double, an array), defaults
 * from the options, no message, and output bounds. */
#include "test_support.h"
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "json_parse.h"
#include "mp.h"
#include "sentry_render.h"
#include "sentry_log.h"

#define T0 (1795255200ull * 1000000000ull + 123456789ull) /* 2026-11-21T10:00:00.123456789Z */
#define TRACE "0123456789abcdef0123456789abcdef"

/* The event in ev (msgpack) rendered, as a checked JSON string. */
static const char *render(const plume_buf_t *ev, const plume_sentry_event_opts_t *opts)
{
    return plume_test_sentry_render(plume_sentry_log_json, ev, TRACE, opts);
}

static const plume_sentry_event_opts_t OPTS = {.environment = "staging", .sdk_version = "9.9.9"};

static void sdk_event_attributes(void **state)
{
    (void)state;
    static const char fields[] = "{\"order\":42,\"ok\":true,\"ms\":1.5,\"who\":\"ann\","
                                 "\"release\":\"shop@1.2\",\"environment\":\"prod\","
                                 "\"tags\":{\"region\":\"eu\"},\"who\":\"bob\",\"none\":null}";
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_event_builder_t eb;
    plume_event_begin(&eb, &b, T0);
    plume_event_set_level(&eb, PLUME_LEVEL_WARN);
    plume_event_set_message(&eb, "slow \"query\"", 12);
    plume_event_set_origin(&eb, "sdk");
    plume_event_set_fields_json(&eb, fields, sizeof(fields) - 1);
    assert_true(plume_event_end(&eb));
    assert_string_equal(
        render(&b, &OPTS),
        "{\"timestamp\":1795255200.123456,\"trace_id\":\"" TRACE "\",\"level\":\"warn\","
        "\"body\":\"slow \\\"query\\\"\",\"attributes\":{"
        " \"order\":{\"value\":42,\"type\":\"integer\"},"
        "\"ok\":{\"value\":true,\"type\":\"boolean\"},"
        "\"ms\":{\"value\":1.5,\"type\":\"double\"},"
        "\"who\":{\"value\":\"ann\",\"type\":\"string\"},"
        "\"sentry.release\":{\"value\":\"shop@1.2\",\"type\":\"string\"},"
        "\"sentry.environment\":{\"value\":\"prod\",\"type\":\"string\"},"
        "\"tags\":{\"value\":\"{\\\"region\\\":\\\"eu\\\"}\",\"type\":\"string\"},"
        "\"none\":{\"value\":\"null\",\"type\":\"string\"},"
        "\"sentry.sdk.name\":{\"value\":\"plume.native\",\"type\":\"string\"},"
        "\"sentry.sdk.version\":{\"value\":\"9.9.9\",\"type\":\"string\"},"
        "\"plume.origin\":{\"value\":\"sdk\",\"type\":\"string\"}}}");
    plume_buf_free(&b);
}

static void msgpack_fields_odd_values(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_event_builder_t eb;
    plume_event_begin(&eb, &b, 1000000000ull); /* 1 s after the epoch */
    plume_event_fields_begin(&eb);
    plume_mp_cstr(&b, "big");
    plume_mp_uint(&b, UINT64_MAX);
    plume_event_field_added(&eb);
    plume_mp_cstr(&b, "neg");
    plume_mp_int(&b, -5);
    plume_event_field_added(&eb);
    plume_mp_cstr(&b, "inf");
    plume_mp_double(&b, INFINITY);
    plume_event_field_added(&eb);
    plume_mp_cstr(&b, "list");
    plume_mp_array_header(&b, 2);
    plume_mp_uint(&b, 1);
    plume_mp_cstr(&b, "x");
    plume_event_field_added(&eb);
    plume_event_fields_end(&eb);
    assert_true(plume_event_end(&eb));
    plume_sentry_event_opts_t opts = {.release = "r1", .server_name = "host-1"};
    const char *out = render(&b, &opts);
    assert_non_null(strstr(out, "\"timestamp\":1.000000,"));
    assert_non_null(strstr(out, "\"level\":\"info\",\"body\":\"\","));
    assert_non_null(strstr(out, "\"big\":{\"value\":\"18446744073709551615\",\"type\":\"string\"}"));
    assert_non_null(strstr(out, "\"neg\":{\"value\":-5,\"type\":\"integer\"}"));
    assert_non_null(strstr(out, "\"inf\":{\"value\":\"Infinity\",\"type\":\"string\"}"));
    assert_non_null(strstr(out, "\"list\":{\"value\":\"[1,\\\"x\\\"]\",\"type\":\"string\"}"));
    /* the options' defaults, since the event carries none */
    assert_non_null(strstr(out, "\"sentry.release\":{\"value\":\"r1\",\"type\":\"string\"}"));
    assert_non_null(strstr(out, "\"server.address\":{\"value\":\"host-1\",\"type\":\"string\"}"));
    assert_null(strstr(out, "sentry.environment"));
    assert_null(strstr(out, "plume.origin"));
    plume_buf_free(&b);
}

static void bounded_output(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_event_builder_t eb;
    plume_event_begin(&eb, &b, T0);
    char msg[600];
    memset(msg, 'm', sizeof(msg));
    plume_event_set_message(&eb, msg, sizeof(msg));
    assert_true(plume_event_end(&eb));
    plume_event_view_t v;
    assert_true(plume_event_view(b.data, b.len, &v));
    plume_buf_t out;
    plume_buf_init(&out, 256);
    plume_buf_append(&out, "kept", 4);
    assert_false(plume_sentry_log_json(&out, &v, TRACE, NULL));
    assert_int_equal(out.len, 4); /* back to its length on entry */
    plume_buf_free(&out);
    plume_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sdk_event_attributes),
        cmocka_unit_test(msgpack_fields_odd_values),
        cmocka_unit_test(bounded_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
