/* SPDX-License-Identifier: MIT */
/* The pipeline with two (or more) fake sinks: every event reaches every sink in
 * order (as msgpack read once, or as a view handed on as is), an invalid
 * msgpack event reaches none, flush/free reach each sink once, idle/stuck/any_stopped/pending
 * combine the sinks' states as documented, and a full sink table refuses (and
 * does not take) the extra sink. */
#include "test_support.h"
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pipeline.h"

typedef struct fake_sink {
    plume_sink_t base;
    plume_buf_t got; /* every submitted event's message, each followed by '|' */
    int submits;
    plume_event_view_t last; /* the last view submitted */
    int flushes;
    bool idle;
    bool stopped;
    uint64_t pending;
    bool full; /* can_accept() answers !full */
    int *frees; /* incremented by free() */
} fake_sink_t;

static void fake_submit(plume_sink_t *s, const plume_event_view_t *ev)
{
    fake_sink_t *f = (fake_sink_t *)s;
    f->submits++;
    f->last = *ev;
    plume_buf_append(&f->got, ev->message, ev->message_len);
    plume_buf_append_byte(&f->got, '|');
}

static void fake_flush(plume_sink_t *s) { ((fake_sink_t *)s)->flushes++; }
static bool fake_idle(const plume_sink_t *s) { return ((const fake_sink_t *)s)->idle; }
static bool fake_stopped(const plume_sink_t *s) { return ((const fake_sink_t *)s)->stopped; }
static uint64_t fake_pending(const plume_sink_t *s) { return ((const fake_sink_t *)s)->pending; }

static bool fake_can_accept(const plume_sink_t *s) { return !((const fake_sink_t *)s)->full; }

static void fake_free(plume_sink_t *s)
{
    fake_sink_t *f = (fake_sink_t *)s;
    (*f->frees)++;
    plume_buf_free(&f->got);
    free(f);
}

static const plume_sink_ops_t fake_ops = {fake_submit,  fake_flush, fake_idle,      fake_stopped,
                                          fake_pending, fake_free,  fake_can_accept};

static fake_sink_t *fake_new(const char *name, int *frees)
{
    fake_sink_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->base.name = name;
    f->base.ops = &fake_ops;
    f->idle = true;
    f->frees = frees;
    plume_buf_init(&f->got, 0);
    return f;
}

typedef struct fixture {
    plume_pipeline_t p;
    fake_sink_t *a, *b;
    int frees;
} fixture_t;

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    plume_pipeline_init(&fx->p);
    fx->a = fake_new("a", &fx->frees);
    fx->b = fake_new("b", &fx->frees);
    assert_true(plume_pipeline_add_sink(&fx->p, &fx->a->base));
    assert_true(plume_pipeline_add_sink(&fx->p, &fx->b->base));
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    plume_pipeline_free(&fx->p);
    int frees = fx->frees;
    free(fx);
    return frees == 2 ? 0 : -1; /* each sink freed exactly once */
}

/* Submits a msgpack event whose message is s[0..n). */
static void submit_n(plume_pipeline_t *p, const char *s, size_t n)
{
    plume_buf_t ev;
    plume_event_builder_t eb;
    plume_buf_init(&ev, 0);
    plume_event_begin(&eb, &ev, 42);
    plume_event_set_message(&eb, s, n);
    assert_true(plume_event_end(&eb));
    assert_true(plume_pipeline_submit(p, ev.data, ev.len));
    plume_buf_free(&ev);
}

static void submit(plume_pipeline_t *p, const char *s) { submit_n(p, s, strlen(s)); }

static void fan_out_in_order(void **state)
{
    fixture_t *fx = *state;
    submit(&fx->p, "one");
    submit(&fx->p, "two");
    submit_n(&fx->p, "th\0ree", 6);
    submit(&fx->p, "");
    const char want[] = "one|two|th\0ree||";
    for (int i = 0; i < 2; i++) {
        fake_sink_t *f = i ? fx->b : fx->a;
        assert_int_equal(f->submits, 4);
        assert_int_equal(f->got.len, sizeof(want) - 1);
        assert_memory_equal(f->got.data, want, sizeof(want) - 1);
        assert_int_equal(f->flushes, 0);
    }
}

/* Bytes that are not an event are refused before any sink sees them. */
static void invalid_event_refused(void **state)
{
    fixture_t *fx = *state;
    static const uint8_t not_a_map[] = {0x93, 1, 2, 3};
    static const uint8_t cut[] = {0x82, 0xa4, 't', 'i'};
    assert_false(plume_pipeline_submit(&fx->p, not_a_map, sizeof(not_a_map)));
    assert_false(plume_pipeline_submit(&fx->p, cut, sizeof(cut)));
    assert_false(plume_pipeline_submit(&fx->p, NULL, 0));
    assert_int_equal(fx->a->submits, 0);
    assert_int_equal(fx->b->submits, 0);
}

/* A view reaches every sink unchanged (no msgpack round trip). */
static void view_handed_on(void **state)
{
    fixture_t *fx = *state;
    static const char obj[] = "{\"k\":1}";
    plume_event_view_t ev = {.time_ns = 7, .level = PLUME_LEVEL_WARN, .message = "m",
                             .message_len = 1, .fields_json = obj, .fields_json_len = 7,
                             .hints = PLUME_HINT_LEVEL};
    plume_pipeline_submit_view(&fx->p, &ev);
    for (int i = 0; i < 2; i++) {
        fake_sink_t *f = i ? fx->b : fx->a;
        assert_int_equal(f->submits, 1);
        assert_true(f->last.time_ns == 7);
        assert_int_equal(f->last.level, PLUME_LEVEL_WARN);
        assert_ptr_equal(f->last.fields_json, obj);
        assert_int_equal(f->last.hints, PLUME_HINT_LEVEL);
    }
}

static void flush_reaches_every_sink(void **state)
{
    fixture_t *fx = *state;
    plume_pipeline_flush(&fx->p);
    assert_int_equal(fx->a->flushes, 1);
    assert_int_equal(fx->b->flushes, 1);
    plume_pipeline_flush(&fx->p);
    assert_int_equal(fx->a->flushes, 2);
    assert_int_equal(fx->b->flushes, 2);
    assert_int_equal(fx->a->submits, 0);
}

/* Backpressure: the pipeline accepts only while every sink does; a sink
 * without the operation always accepts. */
static void can_accept_needs_every_sink(void **state)
{
    fixture_t *fx = *state;
    assert_true(plume_pipeline_can_accept(&fx->p));
    fx->b->full = true;
    assert_false(plume_pipeline_can_accept(&fx->p));
    fx->b->full = false;
    fx->a->full = true;
    assert_false(plume_pipeline_can_accept(&fx->p));
    fx->a->full = false;
    assert_true(plume_pipeline_can_accept(&fx->p));

    static const plume_sink_ops_t no_gate = {fake_submit,  fake_flush, fake_idle, fake_stopped,
                                             fake_pending, fake_free,  NULL};
    int frees = 0;
    fake_sink_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->base.name = "c";
    c->base.ops = &no_gate;
    c->frees = &frees;
    plume_buf_init(&c->got, 0);
    assert_true(plume_pipeline_add_sink(&fx->p, &c->base));
    assert_true(plume_pipeline_can_accept(&fx->p));
    /* Take it out again so that teardown sees the fixture's two sinks. */
    fx->p.nsinks--;
    fake_free(&c->base);
    assert_int_equal(frees, 1);
}

static void idle_needs_every_sink_idle(void **state)
{
    fixture_t *fx = *state;
    assert_true(plume_pipeline_idle(&fx->p));
    fx->a->idle = false;
    assert_false(plume_pipeline_idle(&fx->p));
    fx->a->idle = true;
    fx->b->idle = false;
    assert_false(plume_pipeline_idle(&fx->p));
    fx->a->idle = false;
    assert_false(plume_pipeline_idle(&fx->p));
    fx->a->idle = fx->b->idle = true;
    /* Stopped but idle is still idle. */
    fx->a->stopped = true;
    assert_true(plume_pipeline_idle(&fx->p));
}

/* Stuck: some sink holds data and every sink that does has stopped. */
static void stuck_semantics(void **state)
{
    fixture_t *fx = *state;
    fake_sink_t *a = fx->a, *b = fx->b;
    const struct {
        bool a_idle, a_stopped, b_idle, b_stopped, stuck;
    } cases[] = {
        {true, false, true, false, false}, /* nothing held */
        {true, true, true, true, false},   /* all stopped but nothing held */
        {false, false, true, false, false},
        {false, true, true, false, true},  /* only a holds data, and a stopped */
        {false, true, true, true, true},
        {true, false, false, true, true},
        {false, true, false, false, false}, /* b can still deliver */
        {false, false, false, true, false},
        {false, true, false, true, true},
        {true, true, false, false, false},  /* the stopped one is idle */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        a->idle = cases[i].a_idle;
        a->stopped = cases[i].a_stopped;
        b->idle = cases[i].b_idle;
        b->stopped = cases[i].b_stopped;
        if (plume_pipeline_stuck(&fx->p) != cases[i].stuck)
            fail_msg("case %zu: stuck should be %d", i, cases[i].stuck);
    }
}

static void any_stopped(void **state)
{
    fixture_t *fx = *state;
    assert_false(plume_pipeline_any_stopped(&fx->p));
    fx->b->stopped = true;
    assert_true(plume_pipeline_any_stopped(&fx->p));
    fx->b->stopped = false;
    fx->a->stopped = true;
    assert_true(plume_pipeline_any_stopped(&fx->p));
}

static void pending_is_the_sum(void **state)
{
    fixture_t *fx = *state;
    assert_true(plume_pipeline_pending_events(&fx->p) == 0);
    fx->a->pending = 5;
    fx->b->pending = 7;
    assert_true(plume_pipeline_pending_events(&fx->p) == 12);
    fx->a->pending = UINT64_C(1) << 40;
    assert_true(plume_pipeline_pending_events(&fx->p) == (UINT64_C(1) << 40) + 7);
}

static void free_releases_each_sink_once(void **state)
{
    (void)state;
    int frees = 0;
    plume_pipeline_t p;
    plume_pipeline_init(&p);
    assert_true(plume_pipeline_add_sink(&p, &fake_new("a", &frees)->base));
    assert_true(plume_pipeline_add_sink(&p, &fake_new("b", &frees)->base));
    plume_pipeline_free(&p);
    assert_int_equal(frees, 2);
    assert_int_equal(p.nsinks, 0);
    /* Freeing again (nothing left) is harmless. */
    plume_pipeline_free(&p);
    assert_int_equal(frees, 2);
}

static void empty_pipeline(void **state)
{
    (void)state;
    plume_pipeline_t p;
    plume_pipeline_init(&p);
    submit(&p, "nobody listens");
    plume_pipeline_flush(&p);
    assert_true(plume_pipeline_idle(&p));
    assert_false(plume_pipeline_stuck(&p));
    assert_false(plume_pipeline_any_stopped(&p));
    assert_true(plume_pipeline_pending_events(&p) == 0);
    plume_pipeline_free(&p);
}

/* The table holds PLUME_PIPELINE_MAX_SINKS; one more is refused and stays
 * the caller's (the pipeline neither uses nor frees it). */
static void full_table_refuses(void **state)
{
    (void)state;
    int frees = 0;
    plume_pipeline_t p;
    plume_pipeline_init(&p);
    fake_sink_t *sinks[PLUME_PIPELINE_MAX_SINKS];
    for (int i = 0; i < PLUME_PIPELINE_MAX_SINKS; i++) {
        sinks[i] = fake_new("s", &frees);
        assert_true(plume_pipeline_add_sink(&p, &sinks[i]->base));
    }
    int extra_frees = 0;
    fake_sink_t *extra = fake_new("extra", &extra_frees);
    assert_false(plume_pipeline_add_sink(&p, &extra->base));
    assert_int_equal(p.nsinks, PLUME_PIPELINE_MAX_SINKS);
    submit(&p, "x");
    for (int i = 0; i < PLUME_PIPELINE_MAX_SINKS; i++)
        assert_int_equal(sinks[i]->submits, 1);
    assert_int_equal(extra->submits, 0);
    plume_pipeline_free(&p);
    assert_int_equal(frees, PLUME_PIPELINE_MAX_SINKS);
    assert_int_equal(extra_frees, 0);
    fake_free(&extra->base);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(fan_out_in_order),
        T(invalid_event_refused),
        T(view_handed_on),
        T(flush_reaches_every_sink),
        T(can_accept_needs_every_sink),
        T(idle_needs_every_sink_idle),
        T(stuck_semantics),
        T(any_stopped),
        T(pending_is_the_sum),
        cmocka_unit_test(free_releases_each_sink_once),
        cmocka_unit_test(empty_pipeline),
        cmocka_unit_test(full_table_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
