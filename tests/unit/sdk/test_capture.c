/* SPDX-License-Identifier: MIT */
/* plume_capture_error() (sdk/src/capture.c) through the ring, the convert
 * stage and the emitter into a pipeline whose one sink keeps every event:
 * one event per capture, level error, with the `error` map whose frames start
 * at the function that called plume_capture_error (named with dladdr: the
 * test is linked -rdynamic), code present or absent, the type default, the
 * fields, thread and the main executable's module; error sampling at 0, 1 and
 * 0.5 (a wide statistical bound), and the log sample rate still keeping
 * errors; calls while not running counted; the level floor; several threads
 * capturing at once; and scrubbing of
 * every place a secret can sit (fields, overlay, scope contexts, breadcrumb
 * data), off with an empty list. */
#include "test_support.h"
#include <cmocka.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "convert.h"
#include "drain.h"
#include "event.h"
#include "keep_sink.h"
#include "mp.h"
#include "options.h"
#include "pipeline.h"
#include "plume/plume.h"
#include "sdk_state.h"

static plume_keep_sink_t sink; /* keeps every event */
static plume_pipeline_t pipeline;
static plume_metrics_t metrics;
static plume_convert_t conv;

/* Starts the SDK's caller side and a convert stage on this thread (no
 * worker thread: the test drains). Takes ownership of o. */
static void start(plume_options_t *o)
{
    plume_sdk_process_init();
    memset(&metrics, 0, sizeof(metrics));
    plume_pipeline_init(&pipeline);
    plume_keep_sink_init(&sink);
    assert_true(plume_pipeline_add_sink(&pipeline, &sink.base));
    char err[128];
    assert_true(plume_convert_init(&conv, o, &pipeline, &metrics, err, sizeof(err)));
    plume_sdk_set_running(true, o->ring_size, o->min_level, o->sample_rate);
    plume_options_free(o);
}

/* Converts everything in the rings, waiting errors included. */
static void drain_all(void)
{
    while (plume_drain(plume_convert_record, &conv, 0) > 0)
        plume_convert_pass_done(&conv, false, false);
    plume_convert_pass_done(&conv, true, true);
}

static void stop(void)
{
    plume_sdk_set_running(false, 0, PLUME_LEVEL_TRACE, 1.0);
    drain_all();
    plume_convert_free(&conv);
    plume_pipeline_free(&pipeline);
}

static plume_options_t *options(void)
{
    plume_options_t *o = plume_options_new();
    assert_non_null(o);
    return o;
}

/* ---- reading events back ---- */

static void view_of(size_t i, plume_event_view_t *v) { plume_keep_sink_event(&sink, i, v); }

/* The value of `key` in the map at p[0..n) (a reader positioned on it). */
static plume_mp_reader_t at(const uint8_t *p, size_t n, const char *key)
{
    plume_mp_reader_t r;
    plume_mp_reader_init(&r, p, n);
    assert_true(plume_test_mp_find(&r, key));
    return r;
}

static plume_mp_value_t value_at(const uint8_t *p, size_t n, const char *key)
{
    plume_mp_reader_t r = at(p, n, key);
    plume_mp_value_t v;
    assert_true(plume_mp_read(&r, &v));
    return v;
}

static bool has_key(const uint8_t *p, size_t n, const char *key)
{
    plume_mp_reader_t r;
    plume_mp_reader_init(&r, p, n);
    return plume_test_mp_find(&r, key);
}

/* Element i of the array at r, as a sub-range (start, length). */
static void array_elem(plume_mp_reader_t r, uint32_t i, const uint8_t **p, size_t *n,
                       uint32_t *count)
{
    plume_mp_value_t a;
    assert_true(plume_mp_read(&r, &a));
    assert_int_equal(a.type, PLUME_MP_ARRAY);
    *count = a.count;
    assert_true(i < a.count);
    for (uint32_t k = 0; k < i; k++)
        assert_true(plume_mp_skip(&r));
    *p = r.p;
    assert_true(plume_mp_skip(&r));
    *n = (size_t)(r.p - *p);
}

/* The function an address (a return address) lies in, by dladdr. */
static const char *function_of(uint64_t addr)
{
    Dl_info info;
    if (!dladdr((void *)(uintptr_t)(addr - 1), &info) || !info.dli_sname)
        return "?";
    return info.dli_sname;
}

/* How many kept events carry an error map / none. */
static void count_kinds(size_t *errors, size_t *others)
{
    *errors = *others = 0;
    for (size_t i = 0; i < sink.n; i++) {
        plume_event_view_t v;
        view_of(i, &v);
        if (v.error)
            (*errors)++;
        else
            (*others)++;
    }
}

/* ---- the call sites the frames must name (global: -rdynamic exports them) ---- */

__attribute__((noinline)) void test_capture_site(int with_code)
{
    if (with_code)
        plume_capture_error_code(NULL, "disk full", 28, NULL, 0);
    else
        PLUME_CAPTURE_ERROR("ConnectionError", "upstream refused", plume_str("host", "db1"),
                            plume_i64("port", 5432));
    __asm__ volatile("" ::: "memory"); /* no tail call: this frame stays */
}

__attribute__((noinline)) void test_capture_outer(int with_code)
{
    test_capture_site(with_code);
    __asm__ volatile("" ::: "memory");
}

static void frames_start_at_caller(void **state)
{
    (void)state;
    start(options());
    test_capture_outer(0);
    drain_all();
    assert_int_equal(sink.n, 1);
    plume_event_view_t v;
    view_of(0, &v);
    assert_int_equal(v.level, PLUME_LEVEL_ERROR);
    assert_int_equal(v.message_len, strlen("upstream refused"));
    assert_memory_equal(v.message, "upstream refused", v.message_len);
    assert_non_null(v.fields_json);
    char *fields = strndup(v.fields_json, v.fields_json_len);
    assert_non_null(strstr(fields, "\"host\":\"db1\",\"port\":5432"));
    assert_non_null(strstr(fields, "\"thread.id\":"));
    free(fields);

    assert_non_null(v.error);
    const uint8_t *e = v.error;
    size_t en = v.error_len;
    plume_mp_value_t x = value_at(e, en, "type");
    assert_true(plume_mp_str_eq(&x, "ConnectionError"));
    x = value_at(e, en, "value");
    assert_true(plume_mp_str_eq(&x, "upstream refused"));
    x = value_at(e, en, "mechanism");
    assert_true(plume_mp_str_eq(&x, "generic"));
    x = value_at(e, en, "handled");
    assert_true(x.type == PLUME_MP_BOOL && x.b);
    assert_false(has_key(e, en, "code"));
    /* thread: this one */
    plume_mp_reader_t th = at(e, en, "thread");
    const uint8_t *tp = th.p;
    plume_mp_value_t tid = value_at(tp, (size_t)(th.end - tp), "id");
    assert_int_equal(tid.u, (uint64_t)syscall(SYS_gettid));

    /* frames: innermost first, starting at the caller of plume_capture_error */
    plume_mp_reader_t fr = at(e, en, "frames");
    const uint8_t *f;
    size_t fn;
    uint32_t nframes;
    array_elem(fr, 0, &f, &fn, &nframes);
    assert_true(nframes >= 3);
    assert_true(nframes <= 64);
    uint64_t addr0 = value_at(f, fn, "addr").u;
    assert_string_equal(function_of(addr0), "test_capture_site");
    x = value_at(f, fn, "in_app");
    assert_true(x.type == PLUME_MP_BOOL && x.b); /* the main executable */
    uint64_t mod0 = value_at(f, fn, "module").u;
    array_elem(fr, 1, &f, &fn, &nframes);
    assert_string_equal(function_of(value_at(f, fn, "addr").u), "test_capture_outer");

    /* the frame's module: the main executable, and it holds the address */
    plume_mp_reader_t mods = at(e, en, "modules");
    const uint8_t *m;
    size_t mn;
    uint32_t nmods;
    array_elem(mods, (uint32_t)mod0, &m, &mn, &nmods);
    assert_true(nmods >= 1);
    x = value_at(m, mn, "main");
    assert_true(x.type == PLUME_MP_BOOL && x.b);
    uint64_t base = value_at(m, mn, "addr").u, size = value_at(m, mn, "size").u;
    assert_true(addr0 > base && addr0 <= base + size);
    x = value_at(m, mn, "path");
    assert_int_equal(x.type, PLUME_MP_STR);
    assert_non_null(memmem(x.s, x.len, "test_capture", 12));
    stop();
}

static void code_and_default_type(void **state)
{
    (void)state;
    start(options());
    test_capture_outer(1);
    drain_all();
    assert_int_equal(sink.n, 1);
    plume_event_view_t v;
    view_of(0, &v);
    plume_mp_value_t x = value_at(v.error, v.error_len, "type");
    assert_true(plume_mp_str_eq(&x, "error"));
    x = value_at(v.error, v.error_len, "code");
    assert_true(x.type == PLUME_MP_UINT && x.u == 28);
    /* a negative code, and no message: no "value" */
    plume_capture_error_code("E", NULL, -5, NULL, 0);
    drain_all();
    assert_int_equal(sink.n, 2);
    view_of(1, &v);
    x = value_at(v.error, v.error_len, "code");
    assert_true(x.type == PLUME_MP_INT && x.i == -5);
    assert_false(has_key(v.error, v.error_len, "value"));
    assert_null(v.message);
    stop();
}

/* A captured error is not a breadcrumb; a later error log carries only the
 * real ones. */
static void not_a_breadcrumb(void **state)
{
    (void)state;
    start(options());
    PLUME_BREADCRUMB("nav", "open");
    plume_capture_error("E", "captured", NULL, 0);
    PLUME_ERROR("later");
    drain_all();
    assert_int_equal(sink.n, 2);
    plume_event_view_t v;
    view_of(1, &v);
    char *fields = strndup(v.fields_json, v.fields_json_len);
    assert_non_null(strstr(fields, "\"message\":\"open\""));
    assert_null(strstr(fields, "captured"));
    free(fields);
    stop();
}

static void sampling_zero_and_one(void **state)
{
    (void)state;
    plume_options_t *o = options();
    assert_int_equal(plume_options_set_error_sample_rate(o, 0.0), PLUME_OK);
    start(o);
    for (int i = 0; i < 50; i++) {
        plume_capture_error("E", "dropped", NULL, 0);
        PLUME_ERROR("error log dropped");
        PLUME_FATAL("fatal log dropped");
        PLUME_INFO("info kept");
    }
    drain_all();
    size_t errors, others;
    count_kinds(&errors, &others);
    assert_int_equal(errors, 0);
    assert_int_equal(others, 50);
    for (size_t i = 0; i < sink.n; i++) {
        plume_event_view_t v;
        view_of(i, &v);
        assert_int_equal(v.level, PLUME_LEVEL_INFO);
    }
    stop();

    /* rate 1 with the log sample rate at 0: every error kept, no info */
    o = options();
    assert_int_equal(plume_options_set_error_sample_rate(o, 1.0), PLUME_OK);
    assert_int_equal(plume_options_set_sample_rate(o, 0.0), PLUME_OK);
    start(o);
    for (int i = 0; i < 50; i++) {
        plume_capture_error("E", "kept", NULL, 0);
        PLUME_ERROR("error log kept");
        PLUME_INFO("info dropped");
    }
    drain_all();
    count_kinds(&errors, &others);
    assert_int_equal(errors, 50);
    assert_int_equal(others, 50); /* the error logs */
    stop();
}

static void sampling_half(void **state)
{
    (void)state;
    plume_options_t *o = options();
    assert_int_equal(plume_options_set_error_sample_rate(o, 0.5), PLUME_OK);
    start(o);
    const int n = 4000;
    for (int i = 0; i < n; i++) {
        plume_capture_error("E", "maybe", NULL, 0);
        PLUME_ERROR("error log maybe");
        if (i % 256 == 255)
            drain_all(); /* keep the ring from filling */
    }
    drain_all();
    size_t errors, others;
    count_kinds(&errors, &others);
    /* binomial(4000, 0.5): sd ~32; +-400 is over 12 sd */
    print_message("kept %zu of %d captures, %zu of %d error logs\n", errors, n, others, n);
    assert_in_range(errors, 1600, 2400);
    assert_in_range(others, 1600, 2400);
    stop();
}

static void not_running_and_level_floor(void **state)
{
    (void)state;
    plume_sdk_process_init();
    uint64_t idle = atomic_load(&plume_sdk.idle_calls);
    plume_capture_error("E", "before init", NULL, 0);
    plume_capture_error_code("E", "before init", 1, NULL, 0);
    assert_int_equal(atomic_load(&plume_sdk.idle_calls), idle + 2);

    plume_options_t *o = options();
    assert_int_equal(plume_options_set_min_level(o, PLUME_LEVEL_FATAL), PLUME_OK);
    start(o);
    plume_capture_error("E", "below the floor", NULL, 0);
    PLUME_FATAL("fatal");
    drain_all();
    assert_int_equal(sink.n, 1);
    plume_event_view_t v;
    view_of(0, &v);
    assert_null(v.error);
    stop();
}

static void *capture_thread(void *arg)
{
    uint64_t *tid = arg;
    *tid = (uint64_t)syscall(SYS_gettid);
    for (int i = 0; i < 50; i++)
        test_capture_outer(0);
    return NULL;
}

/* Threads capturing at once: every capture arrives once, with its own
 * thread's id and a stack that still starts at the call site. */
static void from_many_threads(void **state)
{
    (void)state;
    start(options());
    pthread_t th[4];
    uint64_t tids[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, capture_thread, &tids[i]), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    drain_all();
    assert_int_equal(sink.n, 200);
    size_t per[4] = {0};
    for (size_t i = 0; i < sink.n; i++) {
        plume_event_view_t v;
        view_of(i, &v);
        plume_mp_reader_t th_map = at(v.error, v.error_len, "thread");
        uint64_t id = value_at(th_map.p, (size_t)(th_map.end - th_map.p), "id").u;
        for (int k = 0; k < 4; k++)
            if (id == tids[k])
                per[k]++;
        plume_mp_reader_t fr = at(v.error, v.error_len, "frames");
        const uint8_t *f;
        size_t fn;
        uint32_t nframes;
        array_elem(fr, 0, &f, &fn, &nframes);
        assert_string_equal(function_of(value_at(f, fn, "addr").u), "test_capture_site");
    }
    for (int k = 0; k < 4; k++)
        assert_int_equal(per[k], 50);
    stop();
}

static void *crumb_thread(void *arg)
{
    (void)arg;
    PLUME_BREADCRUMB("http", "login", plume_str("Cookie", "sid=1"), plume_i64("status", 200));
    return NULL;
}

/* Runs the same scene with the given scrub list; returns the error event's
 * fields and error map as JSON-ish text (caller frees). */
static char *scene(const char *const *names, size_t n)
{
    plume_options_t *o = options();
    if (names)
        assert_int_equal(plume_options_set_scrub_fields(o, names, n), PLUME_OK);
    start(o);
    plume_field_t ctx[] = {plume_str("db_password", "pw1"), plume_str("host", "h")};
    assert_int_equal(plume_set_context("db", ctx, 2), PLUME_OK);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, crumb_thread, NULL), 0);
    pthread_join(th, NULL);
    PLUME_SCOPE_PUSH(plume_str("X-Auth-Token", "t0k"));
    PLUME_CAPTURE_ERROR("E", "scrub me", plume_str("PASSWORD", "hunter2"), plume_i64("n", 1));
    plume_scope_pop();
    drain_all();
    assert_int_equal(sink.n, 1);
    plume_event_view_t v;
    view_of(0, &v);
    char *text = strndup(v.fields_json, v.fields_json_len);
    assert_int_equal(plume_set_context("db", NULL, 0), PLUME_OK);
    stop();
    return text;
}

static void scrubbed_everywhere(void **state)
{
    (void)state;
    char *t = scene(NULL, 0); /* the defaults */
    assert_non_null(strstr(t, "\"PASSWORD\":\"[Filtered]\""));
    assert_non_null(strstr(t, "\"n\":1"));
    assert_non_null(strstr(t, "\"X-Auth-Token\":\"[Filtered]\""));
    assert_non_null(strstr(t, "\"db_password\":\"[Filtered]\""));
    assert_non_null(strstr(t, "\"host\":\"h\""));
    assert_non_null(strstr(t, "\"Cookie\":\"[Filtered]\""));
    assert_non_null(strstr(t, "\"status\":200"));
    assert_null(strstr(t, "hunter2"));
    assert_null(strstr(t, "t0k"));
    assert_null(strstr(t, "pw1"));
    assert_null(strstr(t, "sid=1"));
    free(t);

    /* a list of its own: only that name */
    const char *mine[] = {"host"};
    t = scene(mine, 1);
    assert_non_null(strstr(t, "\"host\":\"[Filtered]\""));
    assert_non_null(strstr(t, "\"PASSWORD\":\"hunter2\""));
    free(t);

    /* off: an empty list */
    const char *none[] = {NULL};
    t = scene(none, 0);
    assert_null(strstr(t, "[Filtered]"));
    assert_non_null(strstr(t, "\"PASSWORD\":\"hunter2\""));
    assert_non_null(strstr(t, "\"X-Auth-Token\":\"t0k\""));
    assert_non_null(strstr(t, "\"db_password\":\"pw1\""));
    assert_non_null(strstr(t, "\"Cookie\":\"sid=1\""));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frames_start_at_caller),
        cmocka_unit_test(code_and_default_type),
        cmocka_unit_test(not_a_breadcrumb),
        cmocka_unit_test(sampling_zero_and_one),
        cmocka_unit_test(sampling_half),
        cmocka_unit_test(not_running_and_level_floor),
        cmocka_unit_test(from_many_threads),
        cmocka_unit_test(scrubbed_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
