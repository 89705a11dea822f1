/* SPDX-License-Identifier: MIT */
/* Pipeline events -> Sentry event JSON: exact output for an SDK-style error
 * event (scope keys placed, the rest in extra, breadcrumbs with Sentry's
 * levels), for a crash (signal meta, registers, frames caller first,
 * debug_meta with the debug_id rule, an image without build id left out),
 * wrong-typed scope keys kept in extra, a malformed error map dropped whole,
 * defaults from the options, and output bounds. */
#include "test_support.h"
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "json_parse.h"
#include "mp.h"
#include "sentry_render.h"
#include "sentry_event.h"

#define T0 (1795255200ull * 1000000000ull + 123456789ull) /* 2026-11-21T10:00:00.123456789Z */
#define EVENT_ID "0123456789abcdef0123456789abcdef"

/* The event in ev (msgpack) rendered, as a checked JSON string. */
static const char *render(const plume_buf_t *ev, const plume_sentry_event_opts_t *opts)
{
    return plume_test_sentry_render(plume_sentry_event_json, ev, EVENT_ID, opts);
}

static const plume_sentry_event_opts_t OPTS = {.sdk_version = "9.9.9"};

static void sdk_error_event(void **state)
{
    (void)state;
    static const char fields[] =
        "{\"order\":42,\"release\":\"shop@1.2\",\"environment\":\"prod\","
        "\"tags\":{\"region\":\"eu\",\"shard\":7,\"nested\":{\"x\":1}},"
        "\"user\":{\"id\":\"u-1\",\"email\":\"a@b.c\",\"age\":3},"
        "\"contexts\":{\"app\":{\"build\":\"abc\"},\"bad\":5},"
        "\"thread.id\":1234,\"thread.name\":\"worker-1\","
        "\"breadcrumbs\":[{\"timestamp\":\"2026-11-21T09:59:59.000Z\",\"level\":\"warn\","
        "\"category\":\"db\",\"message\":\"slow\",\"data\":{\"ms\":1200},\"junk\":1},7]}";
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_event_builder_t eb;
    plume_event_begin(&eb, &b, T0);
    plume_event_set_level(&eb, PLUME_LEVEL_ERROR);
    plume_event_set_message(&eb, "payment failed", 14);
    plume_event_set_origin(&eb, "sdk");
    plume_event_set_fields_json(&eb, fields, sizeof(fields) - 1);
    assert_true(plume_event_end(&eb));
    assert_string_equal(
        render(&b, &OPTS),
        "{\"event_id\":\"" EVENT_ID "\",\"timestamp\":\"2026-11-21T10:00:00.123456789Z\","
        "\"platform\":\"native\",\"level\":\"error\",\"logger\":\"plume.sdk\","
        "\"logentry\":{\"formatted\":\"payment failed\"},"
        "\"release\":\"shop@1.2\",\"environment\":\"prod\","
        "\"tags\":{\"region\":\"eu\",\"shard\":\"7\"},"
        "\"user\":{\"id\":\"u-1\",\"email\":\"a@b.c\"},"
        "\"contexts\":{\"app\":{\"build\":\"abc\"}},"
        "\"breadcrumbs\":{\"values\":[{\"timestamp\":\"2026-11-21T09:59:59.000Z\","
        "\"level\":\"warning\",\"category\":\"db\",\"message\":\"slow\",\"data\":{\"ms\":1200}}]},"
        "\"extra\":{\"order\":42},"
        "\"threads\":{\"values\":[{\"id\":1234,\"name\":\"worker-1\",\"current\":true}]},"
        "\"sdk\":{\"name\":\"plume.native\",\"version\":\"9.9.9\"}}");
    plume_buf_free(&b);
}

/* Writes the error map of a crash: 3 frames innermost first, 2 modules (the
 * second without a build id), registers. */
static void crash_error_map(plume_buf_t *e)
{
    static const uint8_t build_id[20] = {0xe1, 0x67, 0xc8, 0xd8, 0x6d, 0x04, 0x68,
                                         0xac, 0x7b, 0xe7, 0x66, 0x55, 0xe7, 0xcb,
                                         0xe8, 0xc0, 0xaa, 0x9f, 0xf0, 0xd4};
    plume_mp_map_header(e, 10);
    plume_mp_cstr(e, "type");
    plume_mp_cstr(e, "SIGSEGV");
    plume_mp_cstr(e, "value");
    plume_mp_cstr(e, "Segmentation fault (SEGV_MAPERR) at 0x0");
    plume_mp_cstr(e, "mechanism");
    plume_mp_cstr(e, "signalhandler");
    plume_mp_cstr(e, "handled");
    plume_mp_bool(e, false);
    plume_mp_cstr(e, "signal");
    plume_mp_map_header(e, 4);
    plume_mp_cstr(e, "number");
    plume_mp_uint(e, 11);
    plume_mp_cstr(e, "name");
    plume_mp_cstr(e, "SIGSEGV");
    plume_mp_cstr(e, "code");
    plume_mp_int(e, 1);
    plume_mp_cstr(e, "code_name");
    plume_mp_cstr(e, "SEGV_MAPERR");
    plume_mp_cstr(e, "fault_addr");
    plume_mp_uint(e, 0);
    plume_mp_cstr(e, "thread");
    plume_mp_map_header(e, 1);
    plume_mp_cstr(e, "id");
    plume_mp_uint(e, 77);
    plume_mp_cstr(e, "registers");
    plume_mp_map_header(e, 2);
    plume_mp_cstr(e, "rip");
    plume_mp_uint(e, 0x401234);
    plume_mp_cstr(e, "rsp");
    plume_mp_uint(e, 0x7ffc0000);
    plume_mp_cstr(e, "frames");
    plume_mp_array_header(e, 3);
    plume_mp_map_header(e, 5); /* innermost: the faulting instruction */
    plume_mp_cstr(e, "addr");
    plume_mp_uint(e, 0x401234);
    plume_mp_cstr(e, "module");
    plume_mp_uint(e, 0);
    plume_mp_cstr(e, "in_app");
    plume_mp_bool(e, true);
    plume_mp_cstr(e, "function");
    plume_mp_cstr(e, "crash_now");
    plume_mp_cstr(e, "offset");
    plume_mp_uint(e, 0x14);
    plume_mp_map_header(e, 3);
    plume_mp_cstr(e, "addr");
    plume_mp_uint(e, 0x7f0000001000);
    plume_mp_cstr(e, "module");
    plume_mp_uint(e, 1);
    plume_mp_cstr(e, "in_app");
    plume_mp_bool(e, false);
    plume_mp_map_header(e, 2); /* outermost; a module index out of range */
    plume_mp_cstr(e, "addr");
    plume_mp_uint(e, 0x400100);
    plume_mp_cstr(e, "module");
    plume_mp_uint(e, 9);
    plume_mp_cstr(e, "modules");
    plume_mp_array_header(e, 2);
    plume_mp_map_header(e, 5);
    plume_mp_cstr(e, "path");
    plume_mp_cstr(e, "/usr/bin/shop");
    plume_mp_cstr(e, "addr");
    plume_mp_uint(e, 0x400000);
    plume_mp_cstr(e, "size");
    plume_mp_uint(e, 0x20000);
    plume_mp_cstr(e, "build_id");
    plume_mp_bin(e, build_id, sizeof(build_id));
    plume_mp_cstr(e, "main");
    plume_mp_bool(e, true);
    plume_mp_map_header(e, 3);
    plume_mp_cstr(e, "path");
    plume_mp_cstr(e, "/lib/libnoid.so");
    plume_mp_cstr(e, "addr");
    plume_mp_uint(e, 0x7f0000000000);
    plume_mp_cstr(e, "size");
    plume_mp_uint(e, 0x3000);
}

static void crash_event(void **state)
{
    (void)state;
    plume_buf_t err, b;
    plume_buf_init(&err, 0);
    crash_error_map(&err);
    plume_buf_init(&b, 0);
    plume_event_builder_t eb;
    plume_event_begin(&eb, &b, T0);
    plume_event_set_level(&eb, PLUME_LEVEL_FATAL);
    plume_event_set_origin(&eb, "crash");
    plume_event_set_fields_json(&eb, "{\"thread.id\":77}", 16);
    plume_event_set_error(&eb, err.data, err.len);
    assert_true(plume_event_end(&eb));
    plume_sentry_event_opts_t opts = {.release = "shop@2", .environment = "staging",
                                      .server_name = "host-1", .sdk_version = "1.0.0"};
    assert_string_equal(
        render(&b, &opts),
        "{\"event_id\":\"" EVENT_ID "\",\"timestamp\":\"2026-11-21T10:00:00.123456789Z\","
        "\"platform\":\"native\",\"level\":\"fatal\",\"logger\":\"plume.crash\","
        "\"release\":\"shop@2\",\"environment\":\"staging\",\"server_name\":\"host-1\","
        "\"threads\":{\"values\":[{\"id\":77,\"current\":true,\"crashed\":true}]},"
        "\"exception\":{\"values\":[{\"type\":\"SIGSEGV\","
        "\"value\":\"Segmentation fault (SEGV_MAPERR) at 0x0\",\"thread_id\":77,"
        "\"mechanism\":{\"type\":\"signalhandler\",\"handled\":false,"
        "\"meta\":{\"signal\":{\"number\":11,\"code\":1,\"name\":\"SIGSEGV\","
        "\"code_name\":\"SEGV_MAPERR\"}},\"data\":{\"fault_addr\":\"0x0\"}},"
        "\"stacktrace\":{\"frames\":["
        "{\"instruction_addr\":\"0x400100\"},"
        "{\"instruction_addr\":\"0x7f0000001000\",\"package\":\"/lib/libnoid.so\","
        "\"image_addr\":\"0x7f0000000000\",\"in_app\":false},"
        "{\"instruction_addr\":\"0x401234\",\"package\":\"/usr/bin/shop\","
        "\"image_addr\":\"0x400000\",\"function\":\"crash_now\",\"symbol_addr\":\"0x401220\","
        "\"in_app\":true}],"
        "\"instruction_addr_adjustment\":\"auto\","
        "\"registers\":{\"rip\":\"0x401234\",\"rsp\":\"0x7ffc0000\"}}}]},"
        "\"debug_meta\":{\"images\":[{\"type\":\"elf\",\"code_file\":\"/usr/bin/shop\","
        "\"image_addr\":\"0x400000\",\"image_size\":131072,"
        "\"code_id\":\"e167c8d86d0468ac7be76655e7cbe8c0aa9ff0d4\","
        "\"debug_id\":\"d8c867e1-046d-ac68-7be7-6655e7cbe8c0\"}]},"
        "\"sdk\":{\"name\":\"plume.native\",\"version\":\"1.0.0\"}}");
    plume_buf_free(&err);
    plume_buf_free(&b);
}

/* A captured (handled) error: generic mechanism, code in data, adjustment
 * "all" (every frame is a return address); scope keys of the wrong type and
 * non-string keys stay in extra. */
static void captured_error_and_wrong_types(void **state)
{
    (void)state;
    plume_buf_t err, b;
    plume_buf_init(&err, 0);
    plume_mp_map_header(&err, 4);
    plume_mp_cstr(&err, "type");
    plume_mp_cstr(&err, "PaymentError");
    plume_mp_cstr(&err, "code");
    plume_mp_int(&err, -22);
    plume_mp_cstr(&err, "handled");
    plume_mp_bool(&err, true);
    plume_mp_cstr(&err, "frames");
    plume_mp_array_header(&err, 1);
    plume_mp_map_header(&err, 1);
    plume_mp_cstr(&err, "addr");
    plume_mp_uint(&err, 0x1000);
    plume_buf_init(&b, 0);
    plume_event_builder_t eb;
    plume_event_begin(&eb, &b, T0);
    plume_event_set_level(&eb, PLUME_LEVEL_WARN);
    plume_event_fields_begin(&eb);
    plume_mp_cstr(&b, "release");
    plume_mp_uint(&b, 5);
    plume_event_field_added(&eb);
    plume_mp_uint(&b, 3); /* a non-string key */
    plume_mp_cstr(&b, "three");
    plume_event_field_added(&eb);
    plume_mp_cstr(&b, "tags");
    plume_mp_cstr(&b, "not a map");
    plume_event_field_added(&eb);
    plume_event_fields_end(&eb);
    plume_event_set_error(&eb, err.data, err.len);
    assert_true(plume_event_end(&eb));
    assert_string_equal(
        render(&b, NULL),
        "{\"event_id\":\"" EVENT_ID "\",\"timestamp\":\"2026-11-21T10:00:00.123456789Z\","
        "\"platform\":\"native\",\"level\":\"warning\",\"logger\":\"plume\","
        "\"extra\":{\"release\":5,\"3\":\"three\",\"tags\":\"not a map\"},"
        "\"exception\":{\"values\":[{\"type\":\"PaymentError\","
        "\"mechanism\":{\"type\":\"generic\",\"handled\":true,\"data\":{\"code\":-22}},"
        "\"stacktrace\":{\"frames\":[{\"instruction_addr\":\"0x1000\"}],"
        "\"instruction_addr_adjustment\":\"all\"}}]},"
        "\"sdk\":{\"name\":\"plume.native\",\"version\":\"" PLUME_VERSION "\"}}");
    plume_buf_free(&err);
    plume_buf_free(&b);
}

/* A cut-short error map: the exception is left out, the event still goes. */
static void malformed_error_map_left_out(void **state)
{
    (void)state;
    plume_buf_t err;
    plume_buf_init(&err, 0);
    crash_error_map(&err);
    for (size_t cut = 1; cut < err.len; cut += 7) {
        /* plume_event_view() refuses an event whose "error" is cut short, so
         * the view is pointed at the damaged bytes directly */
        plume_buf_t b;
        plume_buf_init(&b, 0);
        plume_event_builder_t eb;
        plume_event_begin(&eb, &b, T0);
        plume_event_set_level(&eb, PLUME_LEVEL_ERROR);
        assert_true(plume_event_end(&eb));
        plume_event_view_t v;
        assert_true(plume_event_view(b.data, b.len, &v));
        v.error = err.data;
        v.error_len = cut; /* as if the view pointed at damaged bytes */
        plume_buf_t out;
        plume_buf_init(&out, 0);
        assert_true(plume_sentry_event_json(&out, &v, EVENT_ID, NULL));
        assert_true(plume_json_validate((const char *)out.data, out.len, NULL, NULL, NULL));
        assert_null(memmem(out.data, out.len, "\"exception\"", 11));
        assert_null(memmem(out.data, out.len, "\"debug_meta\"", 12));
        plume_buf_free(&out);
        plume_buf_free(&b);
    }
    plume_buf_free(&err);
}

static void levels(void **state)
{
    (void)state;
    assert_string_equal(plume_sentry_level(PLUME_LEVEL_TRACE), "debug");
    assert_string_equal(plume_sentry_level(PLUME_LEVEL_DEBUG), "debug");
    assert_string_equal(plume_sentry_level(PLUME_LEVEL_INFO), "info");
    assert_string_equal(plume_sentry_level(PLUME_LEVEL_WARN), "warning");
    assert_string_equal(plume_sentry_level(PLUME_LEVEL_ERROR), "error");
    assert_string_equal(plume_sentry_level(PLUME_LEVEL_FATAL), "fatal");
}

/* A bounded output buffer too small: false, nothing half-written. */
static void output_bound(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_event_builder_t eb;
    plume_event_begin(&eb, &b, T0);
    plume_event_set_level(&eb, PLUME_LEVEL_ERROR);
    plume_event_set_message(&eb, "boom", 4);
    assert_true(plume_event_end(&eb));
    plume_event_view_t v;
    assert_true(plume_event_view(b.data, b.len, &v));
    plume_buf_t out;
    plume_buf_init(&out, 64);
    plume_buf_append(&out, "x", 1);
    assert_false(plume_sentry_event_json(&out, &v, EVENT_ID, NULL));
    assert_int_equal(out.len, 1);
    plume_buf_free(&out);
    plume_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sdk_error_event),
        cmocka_unit_test(crash_event),
        cmocka_unit_test(captured_error_and_wrong_types),
        cmocka_unit_test(malformed_error_map_left_out),
        cmocka_unit_test(levels),
        cmocka_unit_test(output_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
