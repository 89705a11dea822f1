/* SPDX-License-Identifier: MIT */
/* Records -> events (convert.c). Directly: an event's fields_json is byte
 * for byte the record's members, thread.id / thread.name (escaped, a
 * 16-byte name without a NUL whole, an empty one left out), the constant
 * release / environment / server_name and the scope, with its hints; a
 * record that does not read back is counted, not submitted; an error waiting
 * for breadcrumbs keeps all of its own while newer ones arrive. End to end
 * through the public API and a local Axiom-compatible HTTP server: error
 * events carry the most recent breadcrumbs from every thread (explicit ones
 * and, by default, logs at info and above) in stamp order, and only those
 * made before the error; every event carries the global scope (tags, user,
 * contexts) that was current when it was logged, and the thread overlay
 * pushed around it. */
#include "test_support.h"
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "convert.h"
#include "event.h"
#include "http_test_server.h"
#include "keep_sink.h"
#include "options.h"
#include "pipeline.h"
#include "plume/plume.h"
#include "record.h"
#include "record_build.h"
#include "sdk_state.h"

/* ---- the convert stage alone ---- */

/* A converter feeding a sink that keeps every event. */
typedef struct fixture {
    plume_metrics_t metrics;
    plume_pipeline_t pipeline;
    plume_keep_sink_t sink;
    plume_convert_t conv;
} fixture_t;

/* Starts f's converter with options o (freed here). */
static void fixture_start(fixture_t *f, plume_options_t *o)
{
    memset(&f->metrics, 0, sizeof(f->metrics));
    plume_pipeline_init(&f->pipeline);
    plume_keep_sink_init(&f->sink);
    assert_true(plume_pipeline_add_sink(&f->pipeline, &f->sink.base));
    char err[64];
    assert_true(plume_convert_init(&f->conv, o, &f->pipeline, &f->metrics, err, sizeof(err)));
    plume_options_free(o);
}

static void fixture_stop(fixture_t *f)
{
    plume_convert_free(&f->conv);
    plume_pipeline_free(&f->pipeline);
}

/* Converts one record of `fields` logged at `level` by thread (tid, name)
 * and returns the submitted event's fields_json (static buffer), or NULL
 * when nothing was submitted. */
static const char *convert_one(plume_convert_t *c, plume_keep_sink_t *sink, uint32_t tid,
                               const char name[16], plume_level_t level,
                               const plume_field_t *fields, size_t n, unsigned *hints)
{
    static char text[8192];
    plume_thread_t t;
    memset(&t, 0, sizeof(t));
    t.tid = tid;
    memcpy(t.name, name, 16);
    size_t size;
    uint8_t *rec = plume_test_record(plume_clock_stamp(), level, "msg", fields, n, NULL, &size);
    size_t before = sink->n;
    plume_convert_record(c, &t, rec, size);
    free(rec);
    if (sink->n == before)
        return NULL;
    assert_int_equal(sink->n, before + 1);
    plume_event_view_t v;
    plume_keep_sink_event(sink, before, &v);
    assert_non_null(v.fields_json);
    assert_true(v.fields_json_len < sizeof(text));
    memcpy(text, v.fields_json, v.fields_json_len);
    text[v.fields_json_len] = '\0';
    assert_int_equal(strlen(text), v.fields_json_len); /* no NUL inside */
    assert_int_equal(v.level, level);
    assert_int_equal(v.message_len, 3);
    assert_memory_equal(v.message, "msg", 3);
    *hints = v.hints;
    return text;
}

static void fields_json_exact(void **state)
{
    (void)state;
    plume_sdk_process_init();
    plume_options_t *o = plume_options_new();
    assert_non_null(o);
    assert_int_equal(plume_options_set_release(o, "r\"1"), PLUME_OK);
    assert_int_equal(plume_options_set_environment(o, "prod"), PLUME_OK);
    assert_int_equal(plume_options_set_server_name(o, "h\x01\xc3\xa9"), PLUME_OK);
    static fixture_t fx;
    fixture_start(&fx, o);
    plume_convert_t *const conv = &fx.conv;
    plume_keep_sink_t *const sink = &fx.sink;

    const char *constant = ",\"release\":\"r\\\"1\",\"environment\":\"prod\","
                           "\"server_name\":\"h\\u0001\xc3\xa9\"";
    char want[2048];
    unsigned hints;
    plume_field_t f[] = {plume_str("user", "u-1001"), plume_i64("cents", -42),
                         plume_f64("ms", 127.875),    plume_bool("_x", 1),
                         plume_str("password", "p"),  plume_str("msg", NULL),
                         plume_u64("big", UINT64_MAX), plume_str("long", "0123456789abcdef0123\"")};
    const char *json = convert_one(conv, sink, 77, "w\"orker\xc3\xa9\x01\0\0\0\0\0\0\0",
                                   PLUME_LEVEL_INFO, f, 8, &hints);
    snprintf(want, sizeof(want),
             "{\"user\":\"u-1001\",\"cents\":-42,\"ms\":127.875,\"user_x\":true,"
             "\"password\":\"[Filtered]\",\"msg\":null,\"big\":18446744073709551615,"
             "\"long\":\"0123456789abcdef0123\\\"\",\"thread.id\":77,"
             "\"thread.name\":\"w\\\"orker\xc3\xa9\\u0001\"%s}",
             constant);
    assert_non_null(json);
    assert_string_equal(json, want);
    assert_int_equal(hints, PLUME_HINT_MESSAGE);

    /* a name of 16 bytes has no NUL: all of it; an empty one is left out */
    json = convert_one(conv, sink, 4294967295u, "abcdefghijklmnop", PLUME_LEVEL_WARN, f, 1,
                       &hints);
    snprintf(want, sizeof(want),
             "{\"user\":\"u-1001\",\"thread.id\":4294967295,"
             "\"thread.name\":\"abcdefghijklmnop\"%s}",
             constant);
    assert_string_equal(json, want);
    assert_int_equal(hints, 0);
    char empty[16] = "";
    json = convert_one(conv, sink, 0, empty, PLUME_LEVEL_INFO, NULL, 0, &hints);
    snprintf(want, sizeof(want), "{\"thread.id\":0%s}", constant);
    assert_string_equal(json, want);

    /* the scope current at the record's stamp follows the constant members */
    assert_int_equal(plume_set_tag("region", "e\"u"), PLUME_OK);
    char tname[16] = "t";
    json = convert_one(conv, sink, 5, tname, PLUME_LEVEL_INFO, f + 2, 1, &hints);
    snprintf(want, sizeof(want),
             "{\"ms\":127.875,\"thread.id\":5,\"thread.name\":\"t\"%s,"
             "\"tags\":{\"region\":\"e\\\"u\"}}",
             constant);
    assert_string_equal(json, want);
    assert_int_equal(plume_set_tag("region", NULL), PLUME_OK);

    /* a record that does not read back: counted, nothing submitted */
    size_t n = sink->n;
    plume_thread_t t;
    memset(&t, 0, sizeof(t));
    static const uint8_t junk[] = {0x94, 0xc0, 0xc0, 0xc0};
    plume_convert_record(conv, &t, junk, sizeof(junk));
    assert_int_equal(sink->n, n);
    assert_int_equal(conv->bad_records, 1);
    assert_int_equal(conv->records, 4);
    assert_int_equal(fx.metrics.received, 4);

    fixture_stop(&fx);
}

/* One record (a breadcrumb when crumb) with message msg, stamped now,
 * straight into the converter. */
static void put(plume_convert_t *c, plume_level_t level, const char *msg, bool crumb)
{
    plume_thread_t t;
    memset(&t, 0, sizeof(t));
    t.tid = 1;
    plume_record_extra_t x = {.breadcrumb = true, .category = "nav"};
    size_t size;
    uint8_t *rec =
        plume_test_record(plume_clock_stamp(), level, msg, NULL, 0, crumb ? &x : NULL, &size);
    plume_convert_record(c, &t, rec, size);
    free(rec);
}

/* An error waits (deferred) for breadcrumbs from other threads; meanwhile
 * newer breadcrumbs must not push out the ones it carries. With 7 kept and
 * room for 64 more, the error logged after c0..c6 (each also a breadcrumb,
 * as is the error itself) still carries all seven after 64 newer
 * breadcrumbs arrive before it is sent. */
static void deferred_error_keeps_its_breadcrumbs(void **state)
{
    (void)state;
    plume_sdk_process_init();
    plume_options_t *o = plume_options_new();
    assert_non_null(o);
    assert_int_equal(plume_options_set_max_breadcrumbs(o, 7), PLUME_OK);
    static fixture_t fx;
    fixture_start(&fx, o);
    plume_convert_t *const conv = &fx.conv;
    plume_keep_sink_t *const sink = &fx.sink;

    char msg[16];
    for (int i = 0; i < 7; i++) {
        snprintf(msg, sizeof(msg), "c%d", i);
        put(conv, PLUME_LEVEL_INFO, msg, false);
    }
    put(conv, PLUME_LEVEL_ERROR, "boom", false);
    size_t before = sink->n;
    for (int i = 0; i < 64; i++)
        put(conv, PLUME_LEVEL_INFO, "newer", true);
    plume_convert_pass_done(conv, true, false);
    assert_int_equal(sink->n, before + 1); /* the error, sent at the last */
    plume_event_view_t v;
    plume_keep_sink_event(sink, before, &v);
    assert_int_equal(v.level, PLUME_LEVEL_ERROR);
    char *json = malloc(v.fields_json_len + 1);
    assert_non_null(json);
    memcpy(json, v.fields_json, v.fields_json_len);
    json[v.fields_json_len] = '\0';
    for (int i = 0; i < 7; i++) {
        snprintf(msg, sizeof(msg), "\"c%d\"", i);
        assert_non_null(strstr(json, msg));
    }
    assert_null(strstr(json, "newer"));
    free(json);
    fixture_stop(&fx);
}

/* ---- end to end ---- */

/* The received line whose message is `message` (a copy; NULL when none). */
static char *line_with(const char *text, const char *message)
{
    char needle[256];
    snprintf(needle, sizeof(needle), "\"message\":\"%s\"", message);
    const char *hit = strstr(text, needle);
    if (!hit)
        return NULL;
    const char *start = hit;
    while (start > text && start[-1] != '\n')
        start--;
    const char *end = strchr(hit, '\n');
    size_t n = end ? (size_t)(end - start) : strlen(start);
    char *line = malloc(n + 1);
    assert_non_null(line);
    memcpy(line, start, n);
    line[n] = '\0';
    return line;
}

/* True when the strings occur in `s` in this order (NULL-terminated list). */
static bool in_order(const char *s, const char *const *parts)
{
    for (; *parts; parts++) {
        const char *hit = strstr(s, *parts);
        if (!hit) {
            print_message("missing or out of order: %s\n", *parts);
            return false;
        }
        s = hit + strlen(*parts);
    }
    return true;
}

static void *crumb_from_other_thread(void *arg)
{
    (void)arg;
    PLUME_BREADCRUMB("http", "GET /a", plume_i64("status", 200));
    return NULL;
}

static void breadcrumbs_and_scope(void **state)
{
    (void)state;
    char *dir = plume_test_mkdtemp();
    char url[256];
    plume_test_http_server_t *srv = plume_test_http_server_answering(
        200, "{\"ingested\":1,\"failed\":0}", url, sizeof(url));
    plume_options_t *o = plume_options_new();
    assert_non_null(o);
    plume_options_set_axiom_url(o, url);
    plume_options_set_axiom_dataset(o, "sdk-test");
    plume_options_set_axiom_token(o, "xaat-test");
    plume_options_set_data_dir(o, dir);
    plume_options_set_min_level(o, PLUME_LEVEL_DEBUG);
    assert_int_equal(plume_options_set_max_breadcrumbs(o, 2), PLUME_OK);
    assert_int_equal(plume_init(o), PLUME_OK);

    assert_int_equal(plume_set_tag("region", "eu"), PLUME_OK);
    assert_int_equal(plume_set_user("u42", "a@example.com", NULL), PLUME_OK);
    plume_field_t app[] = {plume_str("build", "abc")};
    assert_int_equal(plume_set_context("app", app, 1), PLUME_OK);

    PLUME_BREADCRUMB("nav", "first"); /* evicted: only the 2 most recent are kept */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, crumb_from_other_thread, NULL), 0);
    pthread_join(th, NULL);
    PLUME_DEBUG("debug is not a breadcrumb");
    PLUME_INFO("info crumb");
    PLUME_SCOPE_PUSH(plume_str("request_id", "r-1"));
    PLUME_ERROR("boom", plume_i64("code", 7));
    plume_scope_pop();
    PLUME_ERROR("after pop");
    assert_int_equal(plume_set_tag("region", "us"), PLUME_OK);
    PLUME_INFO("later");
    assert_int_equal(plume_flush(20000), PLUME_OK);

    char *text = plume_test_http_server_ndjson(srv, NULL);
    char *boom = line_with(text, "boom");
    assert_non_null(boom);
    static const char *const boom_parts[] = {
        "\"code\":7",
        "\"request_id\":\"r-1\"",
        "\"thread.id\":",
        "\"tags\":{\"region\":\"eu\"}",
        "\"user\":{\"id\":\"u42\",\"email\":\"a@example.com\"}",
        "\"contexts\":{\"app\":{\"build\":\"abc\"}}",
        "\"breadcrumbs\":[{\"timestamp\":",
        "\"level\":\"info\",\"category\":\"http\",\"message\":\"GET /a\",\"data\":{\"status\":200}}",
        "{\"timestamp\":",
        "\"level\":\"info\",\"category\":\"log\",\"message\":\"info crumb\"}]",
        NULL};
    assert_true(in_order(boom, boom_parts));
    assert_null(strstr(boom, "first"));
    assert_null(strstr(boom, "debug is not"));
    assert_null(strstr(boom, "\"ip_address\""));

    char *after = line_with(text, "after pop");
    assert_non_null(after);
    char *after_crumbs = strstr(after, "\"breadcrumbs\"");
    assert_non_null(after_crumbs);
    *after_crumbs = '\0'; /* its own fields: the overlay was popped */
    assert_null(strstr(after, "request_id"));
    *after_crumbs = '"';
    static const char *const after_parts[] = {
        "\"message\":\"info crumb\"}", "\"level\":\"error\",\"category\":\"log\",\"message\":\"boom\"",
        NULL};
    assert_true(in_order(after, after_parts));

    char *later = line_with(text, "later");
    assert_non_null(later);
    assert_non_null(strstr(later, "\"tags\":{\"region\":\"us\"}"));
    assert_null(strstr(later, "breadcrumbs")); /* info events carry none */
    char *info = line_with(text, "info crumb");
    assert_non_null(info);
    assert_non_null(strstr(info, "\"tags\":{\"region\":\"eu\"}"));
    int lines = 0; /* breadcrumbs are not events: debug, info, boom, after pop, later */
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 5);

    free(boom);
    free(after);
    free(later);
    free(info);
    free(text);
    assert_int_equal(plume_shutdown(5000), PLUME_OK);
    plume_test_http_server_stop(srv);
    plume_test_rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_json_exact), /* first: the scope is empty still */
        cmocka_unit_test(deferred_error_keeps_its_breadcrumbs),
        cmocka_unit_test(breadcrumbs_and_scope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
