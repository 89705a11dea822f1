/* SPDX-License-Identifier: MIT */
/* The emitter (sdk/src/emit.c) and the before_send accessors (outgoing.c):
 * without a callback the view reaches the pipeline untouched (the same
 * pointers); a callback sees level, message, is_error and the fields, can
 * drop the event (counted), change level and message, get, set, replace and
 * remove fields of every type; edited fields are written back in their form
 * (fields_json or a fields map), scrubbed again, "_" keys renamed and hints
 * recomputed; bad arguments are refused; and through the convert stage the
 * callback runs for log and captured-error events alike. */
#include "test_support.h"
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "drain.h"
#include "emit.h"
#include "event.h"
#include "keep_sink.h"
#include "mp.h"
#include "options.h"
#include "pipeline.h"
#include "plume/plume.h"
#include "sdk_state.h"

static plume_keep_sink_t sink; /* each event's view (pointers) and a copy */
static plume_pipeline_t pipeline;
static plume_metrics_t metrics;
static plume_emit_t emitter;

/* An emitter with this callback (NULL: none) and the default scrub list. */
static void start(plume_before_send_t cb, void *user)
{
    plume_options_t *o = plume_options_new();
    assert_non_null(o);
    if (cb)
        assert_int_equal(plume_options_set_before_send(o, cb, user), PLUME_OK);
    memset(&metrics, 0, sizeof(metrics));
    plume_pipeline_init(&pipeline);
    plume_keep_sink_init(&sink);
    assert_true(plume_pipeline_add_sink(&pipeline, &sink.base));
    assert_true(plume_emit_init(&emitter, o, &pipeline, &metrics));
    plume_options_free(o);
}

static void stop(void)
{
    plume_emit_free(&emitter);
    plume_pipeline_free(&pipeline);
}

/* The kept event i's fields_json as a C string (static buffer). */
static const char *json_of(size_t i)
{
    static char text[4096];
    plume_event_view_t v;
    plume_keep_sink_event(&sink, i, &v);
    assert_non_null(v.fields_json);
    assert_true(v.fields_json_len < sizeof(text));
    memcpy(text, v.fields_json, v.fields_json_len);
    text[v.fields_json_len] = '\0';
    return text;
}

static const char base_fields[] =
    "{\"s\":\"text\",\"i\":-3,\"u\":18446744073709551615,\"f\":2.5,\"b\":true,\"z\":null,"
    "\"nested\":{\"a\":1},\"password\":\"p\"}";
static const uint8_t an_error_map[] = {0x81, 0xa4, 't', 'y', 'p', 'e', 0xa1, 'E'};

static plume_event_view_t base_view(void)
{
    plume_event_view_t ev = {
        .time_ns = 1700000000000000000ull,
        .level = PLUME_LEVEL_ERROR,
        .message = "boom!",
        .message_len = 4, /* not NUL-terminated in the view: "boom" */
        .origin = "sdk",
        .origin_len = 3,
        .fields_json = base_fields,
        .fields_json_len = sizeof(base_fields) - 1,
        .error = an_error_map,
        .error_len = sizeof(an_error_map),
    };
    return ev;
}

static void no_callback_is_untouched(void **state)
{
    (void)state;
    start(NULL, NULL);
    plume_event_view_t ev = base_view();
    plume_emit(&emitter, &ev);
    assert_int_equal(sink.n, 1);
    assert_memory_equal(&sink.view[0], &ev, sizeof(ev)); /* same pointers, same values */
    assert_int_equal(emitter.submitted, 1);
    assert_int_equal(metrics.dropped_encode, 0);
    stop();
}

/* What the callbacks saw and what they are told to do. */
typedef struct script {
    int calls;
    plume_level_t level;
    char message[64];
    bool message_null;
    int is_error;
    int drop_when_message_is_drop; /* return 1 for "drop" */
} script_t;

static int watch_and_maybe_drop(plume_outgoing_t *g, void *user)
{
    script_t *s = user;
    s->calls++;
    s->level = plume_outgoing_level(g);
    const char *m = plume_outgoing_message(g);
    s->message_null = m == NULL;
    if (m)
        snprintf(s->message, sizeof(s->message), "%s", m);
    s->is_error = plume_outgoing_is_error(g);
    return s->drop_when_message_is_drop && m && strcmp(m, "drop") == 0;
}

static void drop_and_read(void **state)
{
    (void)state;
    script_t s = {.drop_when_message_is_drop = 1};
    start(watch_and_maybe_drop, &s);
    plume_event_view_t ev = base_view();
    plume_emit(&emitter, &ev);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.level, PLUME_LEVEL_ERROR);
    assert_string_equal(s.message, "boom"); /* NUL-terminated at message_len */
    assert_int_equal(s.is_error, 1);
    assert_int_equal(sink.n, 1);
    /* read-only callback: the same text goes out */
    assert_string_equal(json_of(0), base_fields);

    ev.message = "drop";
    ev.error = NULL;
    plume_emit(&emitter, &ev);
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.is_error, 0);
    assert_int_equal(sink.n, 1); /* dropped */
    assert_int_equal(emitter.dropped_before_send, 1);
    assert_int_equal(metrics.dropped_encode, 1);

    ev.message = NULL;
    ev.message_len = 0;
    plume_emit(&emitter, &ev);
    assert_true(s.message_null);
    assert_int_equal(sink.n, 2);
    stop();
}

static int get_every_type(plume_outgoing_t *g, void *user)
{
    (void)user;
    plume_field_t f;
    assert_int_equal(plume_outgoing_get_field(g, "s", &f), PLUME_OK);
    assert_int_equal(f.type, PLUME_FIELD_STR);
    assert_string_equal(f.v.s, "text");
    assert_string_equal(f.key, "s");
    assert_int_equal(plume_outgoing_get_field(g, "i", &f), PLUME_OK);
    assert_true(f.type == PLUME_FIELD_I64 && f.v.i == -3);
    assert_int_equal(plume_outgoing_get_field(g, "u", &f), PLUME_OK);
    assert_true(f.type == PLUME_FIELD_U64 && f.v.u == UINT64_MAX);
    assert_int_equal(plume_outgoing_get_field(g, "f", &f), PLUME_OK);
    assert_true(f.type == PLUME_FIELD_F64 && f.v.f == 2.5);
    assert_int_equal(plume_outgoing_get_field(g, "b", &f), PLUME_OK);
    assert_true(f.type == PLUME_FIELD_BOOL && f.v.b == 1);
    assert_int_equal(plume_outgoing_get_field(g, "z", &f), PLUME_OK);
    assert_true(f.type == PLUME_FIELD_STR && f.v.s == NULL);
    assert_int_equal(plume_outgoing_get_field(g, "nested", &f), PLUME_EINVAL);
    assert_int_equal(plume_outgoing_get_field(g, "missing", &f), PLUME_EINVAL);
    assert_int_equal(plume_outgoing_get_field(g, NULL, &f), PLUME_EINVAL);
    assert_int_equal(plume_outgoing_get_field(g, "s", NULL), PLUME_EINVAL);
    /* bad arguments to the setters */
    assert_int_equal(plume_outgoing_set_level(g, PLUME_LEVEL_NONE), PLUME_EINVAL);
    assert_int_equal(plume_outgoing_set_level(g, (plume_level_t)6), PLUME_EINVAL);
    assert_int_equal(plume_outgoing_set_field(g, plume_str(NULL, "x")), PLUME_EINVAL);
    assert_int_equal(plume_outgoing_set_field(g, plume_str("", "x")), PLUME_EINVAL);
    plume_field_t odd = plume_i64("k", 1);
    odd.type = (plume_field_type_t)99;
    assert_int_equal(plume_outgoing_set_field(g, odd), PLUME_EINVAL);
    assert_int_equal(plume_outgoing_remove_field(g, NULL), PLUME_EINVAL);
    return 0;
}

static void get_fields(void **state)
{
    (void)state;
    start(get_every_type, NULL);
    plume_event_view_t ev = base_view();
    plume_emit(&emitter, &ev);
    assert_int_equal(sink.n, 1);
    assert_string_equal(json_of(0), base_fields); /* reads change nothing */
    /* NULL is safe everywhere */
    assert_int_equal(plume_outgoing_level(NULL), PLUME_LEVEL_NONE);
    assert_null(plume_outgoing_message(NULL));
    assert_int_equal(plume_outgoing_is_error(NULL), 0);
    assert_int_equal(plume_outgoing_set_message(NULL, "x"), PLUME_EINVAL);
    stop();
}

static int edit(plume_outgoing_t *g, void *user)
{
    (void)user;
    assert_int_equal(plume_outgoing_set_level(g, PLUME_LEVEL_WARN), PLUME_OK);
    assert_int_equal(plume_outgoing_set_message(g, "edited"), PLUME_OK);
    assert_string_equal(plume_outgoing_message(g), "edited");
    assert_int_equal(plume_outgoing_set_field(g, plume_i64("s", 7)), PLUME_OK); /* replace */
    assert_int_equal(plume_outgoing_remove_field(g, "nested"), PLUME_OK);
    assert_int_equal(plume_outgoing_remove_field(g, "absent"), PLUME_OK);
    assert_int_equal(plume_outgoing_set_field(g, plume_str("api_key", "k-123")), PLUME_OK);
    assert_int_equal(plume_outgoing_set_field(g, plume_str("_internal", "x")), PLUME_OK);
    assert_int_equal(plume_outgoing_set_field(g, plume_str("msg", "m")), PLUME_OK);
    assert_int_equal(plume_outgoing_set_field(g, plume_f64("ratio", 0.25)), PLUME_OK);
    assert_int_equal(plume_outgoing_set_field(g, plume_u64("big", UINT64_MAX)), PLUME_OK);
    assert_int_equal(plume_outgoing_set_field(g, plume_bool("ok", 0)), PLUME_OK);
    assert_int_equal(plume_outgoing_set_field(g, plume_str("none", NULL)), PLUME_OK);
    /* reads see the edits */
    plume_field_t f;
    assert_int_equal(plume_outgoing_get_field(g, "s", &f), PLUME_OK);
    assert_true(f.type == PLUME_FIELD_I64 && f.v.i == 7);
    assert_int_equal(plume_outgoing_get_field(g, "nested", &f), PLUME_EINVAL);
    return 0;
}

static void edit_fields(void **state)
{
    (void)state;
    start(edit, NULL);
    plume_event_view_t ev = base_view();
    plume_emit(&emitter, &ev);
    assert_int_equal(sink.n, 1);
    plume_event_view_t v;
    plume_keep_sink_event(&sink, 0, &v);
    assert_int_equal(v.level, PLUME_LEVEL_WARN);
    assert_int_equal(v.message_len, 6);
    assert_memory_equal(v.message, "edited", 6);
    assert_non_null(v.error); /* untouched */
    assert_int_equal(v.error_len, sizeof(an_error_map));
    assert_string_equal(json_of(0),
                        "{\"i\":-3,\"u\":18446744073709551615,\"f\":2.5,\"b\":true,\"z\":null,"
                        "\"password\":\"[Filtered]\",\"s\":7,\"api_key\":\"[Filtered]\","
                        "\"user_internal\":\"x\",\"msg\":\"m\",\"ratio\":0.25,"
                        "\"big\":18446744073709551615,\"ok\":false,\"none\":null}");
    assert_int_equal(v.hints, PLUME_HINT_MESSAGE);
    stop();
}

static int add_one(plume_outgoing_t *g, void *user)
{
    (void)user;
    assert_int_equal(plume_outgoing_set_field(g, plume_str("added", "yes")), PLUME_OK);
    assert_int_equal(plume_outgoing_set_message(g, NULL), PLUME_OK);
    assert_null(plume_outgoing_message(g));
    return 0;
}

/* A fields map stays a map; an event without fields gets fields_json. */
static void other_forms(void **state)
{
    (void)state;
    start(add_one, NULL);
    plume_buf_t map;
    plume_buf_init(&map, 0);
    plume_mp_map_header(&map, 2);
    plume_mp_cstr(&map, "k");
    plume_mp_int(&map, 1);
    plume_mp_cstr(&map, "token");
    plume_mp_cstr(&map, "t");
    plume_event_view_t ev = base_view();
    ev.fields_json = NULL;
    ev.fields_json_len = 0;
    ev.fields = map.data;
    ev.fields_len = map.len;
    plume_emit(&emitter, &ev);
    assert_int_equal(sink.n, 1);
    plume_event_view_t v;
    plume_keep_sink_event(&sink, 0, &v);
    assert_null(v.fields_json);
    assert_null(v.message);
    assert_non_null(v.fields);
    plume_mp_reader_t r;
    plume_mp_value_t x;
    plume_mp_reader_init(&r, v.fields, v.fields_len);
    assert_true(plume_mp_read(&r, &x) && x.type == PLUME_MP_MAP && x.count == 3);
    assert_true(plume_mp_read(&r, &x) && plume_mp_str_eq(&x, "k"));
    assert_true(plume_mp_read(&r, &x) && x.u == 1);
    assert_true(plume_mp_read(&r, &x) && plume_mp_str_eq(&x, "token"));
    assert_true(plume_mp_read(&r, &x) && plume_mp_str_eq(&x, "[Filtered]"));
    assert_true(plume_mp_read(&r, &x) && plume_mp_str_eq(&x, "added"));
    assert_true(plume_mp_read(&r, &x) && plume_mp_str_eq(&x, "yes"));

    ev.fields = NULL;
    ev.fields_len = 0;
    plume_emit(&emitter, &ev);
    assert_int_equal(sink.n, 2);
    assert_string_equal(json_of(1), "{\"added\":\"yes\"}");
    plume_buf_free(&map);
    stop();
}

static int refuse_fields(plume_outgoing_t *g, void *user)
{
    (void)user;
    plume_field_t f;
    assert_int_equal(plume_outgoing_get_field(g, "a", &f), PLUME_EINVAL);
    assert_int_equal(plume_outgoing_set_field(g, plume_i64("a", 1)), PLUME_EINVAL);
    assert_int_equal(plume_outgoing_set_level(g, PLUME_LEVEL_INFO), PLUME_OK);
    char *huge = malloc((2u << 20) + 1);
    assert_non_null(huge);
    memset(huge, 'x', 2u << 20);
    huge[2u << 20] = '\0';
    assert_int_equal(plume_outgoing_set_message(g, huge), PLUME_EINVAL);
    free(huge);
    return 0;
}

static void unreadable_fields(void **state)
{
    (void)state;
    start(refuse_fields, NULL);
    static const char bad[] = "{\"a\":";
    plume_event_view_t ev = base_view();
    ev.fields_json = bad;
    ev.fields_json_len = sizeof(bad) - 1;
    plume_emit(&emitter, &ev);
    assert_int_equal(sink.n, 1);
    assert_int_equal(sink.view[0].level, PLUME_LEVEL_INFO);
    assert_ptr_equal(sink.view[0].fields_json, bad); /* not edited: as it came */
    stop();
}

/* ---- through the convert stage ---- */

static int tag_or_drop(plume_outgoing_t *g, void *user)
{
    int *calls = user;
    (*calls)++;
    const char *m = plume_outgoing_message(g);
    if (m && strcmp(m, "drop me") == 0)
        return 1;
    return plume_outgoing_set_field(g, plume_bool("seen", plume_outgoing_is_error(g))) != PLUME_OK;
}

static void through_convert(void **state)
{
    (void)state;
    int calls = 0;
    plume_options_t *o = plume_options_new();
    assert_int_equal(plume_options_set_before_send(o, tag_or_drop, &calls), PLUME_OK);
    plume_sdk_process_init();
    memset(&metrics, 0, sizeof(metrics));
    plume_pipeline_init(&pipeline);
    plume_keep_sink_init(&sink);
    assert_true(plume_pipeline_add_sink(&pipeline, &sink.base));
    plume_convert_t conv;
    char err[64];
    assert_true(plume_convert_init(&conv, o, &pipeline, &metrics, err, sizeof(err)));
    plume_sdk_set_running(true, o->ring_size, o->min_level, o->sample_rate);
    plume_options_free(o);

    PLUME_INFO("keep me", plume_str("password", "p"));
    PLUME_INFO("drop me");
    plume_capture_error("E", "captured", NULL, 0);
    while (plume_drain(plume_convert_record, &conv, 0) > 0)
        plume_convert_pass_done(&conv, false, false);
    plume_convert_pass_done(&conv, true, true);
    plume_sdk_set_running(false, 0, PLUME_LEVEL_TRACE, 1.0);

    assert_int_equal(calls, 3);
    assert_int_equal(sink.n, 2);
    assert_int_equal(conv.emit.dropped_before_send, 1);
    assert_int_equal(metrics.dropped_encode, 1);
    const char *j = json_of(0);
    assert_non_null(strstr(j, "\"password\":\"[Filtered]\""));
    assert_non_null(strstr(j, "\"seen\":false"));
    assert_non_null(sink.view[1].error);
    assert_non_null(strstr(json_of(1), "\"seen\":true"));
    plume_convert_free(&conv);
    plume_pipeline_free(&pipeline);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_callback_is_untouched),
        cmocka_unit_test(drop_and_read),
        cmocka_unit_test(get_fields),
        cmocka_unit_test(edit_fields),
        cmocka_unit_test(other_forms),
        cmocka_unit_test(unreadable_fields),
        cmocka_unit_test(through_convert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
