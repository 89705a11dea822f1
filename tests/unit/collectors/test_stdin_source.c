/* SPDX-License-Identifier: MIT */
/* The stdin collector on a real loop: lines from a pipe and from a regular file
 * become events, end of input delivers the last line and calls on_eof once,
 * a closed gate stops reading until it opens, and counters are updated. A
 * pass-through event is marked as holding no LF in its fields_json, and
 * encodes exactly as it does unmarked. */
#include "test_support.h"
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "axiom_encode.h"
#include "event.h"
#include "loop.h"
#include "stdin_source.h"

typedef struct fixture {
    plume_loop_t *loop;
    plume_metrics_t metrics;
    int events;
    int eofs;
    bool gate;
    int gate_asks;
    char last_message[256];
    int one_line; /* events marked fields_json_one_line */
    int passed_through; /* events with fields_json */
} fixture_t;

/* The view's Axiom and plain NDJSON lines are the same whether or not it
 * is marked as holding no LF in fields_json. */
static void same_lines_unmarked(const plume_event_view_t *v)
{
    plume_event_view_t unmarked = *v;
    unmarked.fields_json_one_line = false;
    for (int axiom = 0; axiom < 2; axiom++) {
        plume_buf_t a, b;
        plume_buf_init(&a, 0);
        plume_buf_init(&b, 0);
        bool (*enc)(plume_buf_t *, const plume_event_view_t *) =
            axiom ? plume_axiom_encode_view : plume_ndjson_encode_view;
        assert_true(enc(&a, v));
        assert_true(enc(&b, &unmarked));
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        plume_buf_free(&a);
        plume_buf_free(&b);
    }
}

static void on_event(void *arg, const plume_event_view_t *v)
{
    fixture_t *fx = arg;
    fx->events++;
    /* marked exactly when it carries fields_json, which then holds no LF */
    assert_int_equal(v->fields_json_one_line, v->fields_json != NULL);
    if (v->fields_json) {
        assert_null(memchr(v->fields_json, '\n', v->fields_json_len));
        fx->passed_through++;
    }
    fx->one_line += v->fields_json_one_line;
    same_lines_unmarked(v);
    snprintf(fx->last_message, sizeof(fx->last_message), "%.*s", (int)v->message_len,
             v->message ? v->message : "");
}

static void on_eof(void *arg) { ((fixture_t *)arg)->eofs++; }

static bool gate(void *arg)
{
    fixture_t *fx = arg;
    fx->gate_asks++;
    return fx->gate;
}

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof(*fx));
    fx->loop = plume_loop_new();
    fx->gate = true;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    plume_loop_free(fx->loop);
    free(fx);
    return 0;
}

/* Runs the loop until cond() holds or 10 s pass; returns cond(). */
#define RUN_UNTIL(fx, cond)                                                                \
    do {                                                                                   \
        uint64_t deadline_ = plume_loop_now_ms((fx)->loop) + 10000;                        \
        while (!(cond) && plume_loop_now_ms((fx)->loop) < deadline_)                       \
            plume_loop_run_once((fx)->loop, 50);                                           \
        assert_true(cond);                                                                 \
    } while (0)

static void pipe_lines_and_eof(void **state)
{
    fixture_t *fx = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    plume_stdin_source_t *s = plume_stdin_source_new(fx->loop, p[0], PLUME_FORMAT_AUTO, 64,
                                                     &fx->metrics, on_event, on_eof, fx);
    assert_non_null(s);
    const char *in = "{\"msg\":\"one\"}\nlevel=info msg=two\r\nthree\n"
                     "0123456789012345678901234567890123456789012345678901234567890123456789\n"
                     "last without newline";
    assert_int_equal(write(p[1], in, strlen(in)), (ssize_t)strlen(in));
    RUN_UNTIL(fx, fx->events == 4);
    assert_int_equal(fx->eofs, 0);
    close(p[1]);
    RUN_UNTIL(fx, fx->eofs == 1);
    assert_int_equal(fx->events, 5);
    assert_string_equal(fx->last_message, "last without newline");
    assert_int_equal(fx->metrics.received, 5);
    assert_int_equal(fx->metrics.parsed, 2);
    assert_int_equal(fx->metrics.truncated, 1);
    /* Nothing more happens after EOF. */
    plume_loop_run_once(fx->loop, 0);
    assert_int_equal(fx->eofs, 1);
    plume_stdin_source_free(s);
    close(p[0]);
}

static void regular_file_is_read(void **state)
{
    fixture_t *fx = *state;
    char *dir = plume_test_mkdtemp();
    char path[4096];
    snprintf(path, sizeof(path), "%s/in.log", dir);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 20000; i++)
        fprintf(f, "{\"seq\":%d,\"msg\":\"line %d\"}\n", i, i);
    fclose(f);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    plume_stdin_source_t *s = plume_stdin_source_new(fx->loop, fd, PLUME_FORMAT_JSON, 1024,
                                                     &fx->metrics, on_event, on_eof, fx);
    RUN_UNTIL(fx, fx->eofs == 1);
    assert_int_equal(fx->events, 20000);
    assert_string_equal(fx->last_message, "line 19999");
    plume_stdin_source_free(s);
    close(fd);
    plume_test_rm_rf(dir);
    free(dir);
}

static void closed_gate_pauses_reading(void **state)
{
    fixture_t *fx = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    plume_stdin_source_t *s = plume_stdin_source_new(fx->loop, p[0], PLUME_FORMAT_TEXT, 64,
                                                     &fx->metrics, on_event, on_eof, fx);
    plume_stdin_source_set_gate(s, gate, fx);
    fx->gate = false;
    assert_int_equal(write(p[1], "a\nb\n", 4), 4);
    /* The gate is asked and keeps saying no: nothing is read. */
    RUN_UNTIL(fx, fx->gate_asks >= 3);
    assert_int_equal(fx->events, 0);
    assert_int_equal(plume_stdin_source_pauses(s), 1);
    fx->gate = true;
    RUN_UNTIL(fx, fx->events == 2);
    close(p[1]);
    RUN_UNTIL(fx, fx->eofs == 1);
    plume_stdin_source_free(s);
    close(p[0]);
}

static void stop_ends_reading(void **state)
{
    fixture_t *fx = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    plume_stdin_source_t *s = plume_stdin_source_new(fx->loop, p[0], PLUME_FORMAT_TEXT, 64,
                                                     &fx->metrics, on_event, on_eof, fx);
    plume_stdin_source_stop(s);
    assert_int_equal(write(p[1], "a\n", 2), 2);
    for (int i = 0; i < 5; i++)
        plume_loop_run_once(fx->loop, 10);
    assert_int_equal(fx->events, 0);
    assert_int_equal(fx->eofs, 0);
    plume_stdin_source_free(s);
    close(p[0]);
    close(p[1]);
}

/* JSON lines of every kind: passed through (also after UTF-8 repair, with
 * a CR before the LF), on the msgpack path ('_' key), refused (text with
 * parse_error); the counters add up per line. */
static void json_lines_marked_and_counted(void **state)
{
    fixture_t *fx = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    plume_stdin_source_t *s = plume_stdin_source_new(fx->loop, p[0], PLUME_FORMAT_JSON, 256,
                                                     &fx->metrics, on_event, on_eof, fx);
    assert_non_null(s);
    const char *in = "{\"msg\":\"one\",\"level\":\"warn\"}\n"
                     "{\"msg\":\"caf\xc3\",\"n\":1}\r\n"   /* repaired, passed through */
                     "{\"_id\":1,\"msg\":\"three\"}\n"     /* msgpack path */
                     "{\"msg\":\"four\"\n"                   /* not JSON: text */
                     "{ \"msg\" : \"five\" }\r\n"
                     "not json at all\n";
    assert_int_equal(write(p[1], in, strlen(in)), (ssize_t)strlen(in));
    close(p[1]);
    RUN_UNTIL(fx, fx->eofs == 1);
    assert_int_equal(fx->events, 6);
    assert_int_equal(fx->passed_through, 3);
    assert_int_equal(fx->one_line, 3);
    assert_int_equal(fx->metrics.received, 6);
    assert_int_equal(fx->metrics.parsed, 4);
    assert_int_equal(fx->metrics.parse_errors, 2);
    assert_int_equal(fx->metrics.invalid_utf8, 1);
    assert_int_equal(fx->metrics.dropped_encode, 0);
    plume_stdin_source_free(s);
    close(p[0]);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(pipe_lines_and_eof),
        T(regular_file_is_read),
        T(closed_gate_pauses_reading),
        T(stop_ends_reading),
        T(json_lines_marked_and_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
