/* SPDX-License-Identifier: MIT */
/* stdin collector. See stdin_source.h. */
#include "stdin_source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentlog.h"
#include "line_reader.h"

#define READ_CHUNK (256u << 10)
#define GATE_RECHECK_MS 2

struct plume_stdin_source {
    plume_loop_t *loop;
    int fd;
    plume_line_format_t fmt;
    plume_line_reader_t reader;
    plume_metrics_t *metrics;
    plume_buf_t event;
    plume_buf_t scratch;
    uint64_t chunk_time_ns;
    plume_emit_cb emit;
    plume_eof_cb on_eof;
    void *arg;
    plume_timer_t *file_timer; /* set when fd cannot be polled */
    plume_timer_t *gate_timer; /* rechecks a closed gate */
    plume_gate_cb may_read;
    void *gate_arg;
    uint64_t gate_pauses;
    bool watching, paused, gated, done;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_line(void *arg, const char *line, size_t n, bool truncated)
{
    plume_stdin_source_t *s = arg;
    plume_metrics_t *m = s->metrics;
    m->received++;
    if (truncated)
        m->truncated++;
    /* this line's counts only */
    plume_line_stats_t st = {0};
    plume_event_view_t ev;
    if (!plume_line_to_view(line, n, truncated, s->fmt, s->chunk_time_ns, "stdin", &s->event,
                            &s->scratch, &st, &ev)) {
        m->dropped_encode++;
        return;
    }
    m->parsed += st.json + st.logfmt;
    m->parse_errors += st.parse_errors;
    m->invalid_utf8 += st.invalid_utf8;
    /* The line reader splits at '\n', so a line holds none, and neither
     * does a pass-through event's fields_json (a part of the line, or of
     * its UTF-8 repair): the encoders need not look for one. */
    ev.fields_json_one_line = ev.fields_json != NULL;
    s->emit(s->arg, &ev);
}

static void finish(plume_stdin_source_t *s)
{
    if (s->done)
        return;
    plume_line_reader_finish(&s->reader, on_line, s);
    plume_stdin_source_stop(s);
    s->on_eof(s->arg);
}

static void stop_reading(plume_stdin_source_t *s);
static void start_reading(plume_stdin_source_t *s);

/* False (and reading suspended until the gate opens) when the consumer is full. */
static bool gate_open(plume_stdin_source_t *s)
{
    if (!s->may_read || s->may_read(s->gate_arg))
        return true;
    if (!s->gated) {
        s->gated = true;
        s->gate_pauses++;
        stop_reading(s);
    }
    plume_timer_start(s->gate_timer, GATE_RECHECK_MS);
    return false;
}

static void on_gate_timer(plume_loop_t *l, plume_timer_t *t, void *arg)
{
    (void)l;
    (void)t;
    plume_stdin_source_t *s = arg;
    if (s->done || !gate_open(s))
        return;
    s->gated = false;
    start_reading(s);
}

/* One read; returns false when reading is over (EOF or error) or gated. */
static bool read_once(plume_stdin_source_t *s)
{
    if (!gate_open(s))
        return false;
    s->chunk_time_ns = now_ns();
    ssize_t n = plume_line_reader_read(&s->reader, s->fd, on_line, s);
    if (n > 0 || n == -EAGAIN)
        return true;
    if (n < 0)
        PLOG_ERROR("stdin: read failed: %s", strerror((int)-n));
    finish(s);
    return false;
}

static void on_readable(plume_loop_t *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)fd;
    (void)events;
    read_once(arg);
}

static void on_file_timer(plume_loop_t *l, plume_timer_t *t, void *arg)
{
    (void)l;
    plume_stdin_source_t *s = arg;
    /* One chunk per turn, then let the loop serve timers and sockets. */
    if (read_once(s) && !s->done && !s->paused)
        plume_timer_start(t, 0);
}

static void start_reading(plume_stdin_source_t *s)
{
    if (s->done || s->paused || s->gated)
        return;
    if (s->file_timer) {
        plume_timer_start(s->file_timer, 0);
        return;
    }
    int rc = plume_loop_watch(s->loop, s->fd, PLUME_EV_READ, on_readable, s);
    if (rc == -EPERM) {
        /* Regular files and /dev/null cannot be polled: read them from a timer. */
        s->file_timer = plume_timer_new(s->loop, on_file_timer, s);
        if (s->file_timer)
            plume_timer_start(s->file_timer, 0);
        return;
    }
    if (rc != 0) {
        PLOG_ERROR("stdin: cannot watch fd %d: %s", s->fd, strerror(-rc));
        finish(s);
        return;
    }
    s->watching = true;
}

static void stop_reading(plume_stdin_source_t *s)
{
    if (s->watching) {
        plume_loop_unwatch(s->loop, s->fd);
        s->watching = false;
    }
    if (s->file_timer)
        plume_timer_stop(s->file_timer);
}

plume_stdin_source_t *plume_stdin_source_new(plume_loop_t *loop, int fd, plume_line_format_t fmt,
                                             size_t max_line, plume_metrics_t *metrics,
                                             plume_emit_cb emit, plume_eof_cb on_eof, void *arg)
{
    plume_stdin_source_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->loop = loop;
    s->fd = fd;
    s->fmt = fmt;
    s->metrics = metrics;
    s->emit = emit;
    s->on_eof = on_eof;
    s->arg = arg;
    /* An event holds at most the line (sanitised: up to 3x for U+FFFD) plus its
     * fields and markers. */
    plume_buf_init(&s->event, max_line * 4 + 4096);
    plume_buf_init(&s->scratch, max_line * 4 + 4096);
    s->gate_timer = plume_timer_new(loop, on_gate_timer, s);
    if (!s->gate_timer || !plume_line_reader_init(&s->reader, max_line, READ_CHUNK)) {
        if (s->gate_timer)
            plume_timer_free(s->gate_timer);
        plume_buf_free(&s->event);
        plume_buf_free(&s->scratch);
        free(s);
        return NULL;
    }
    start_reading(s);
    return s;
}

void plume_stdin_source_set_gate(plume_stdin_source_t *s, plume_gate_cb may_read, void *arg)
{
    s->may_read = may_read;
    s->gate_arg = arg;
}

uint64_t plume_stdin_source_pauses(const plume_stdin_source_t *s) { return s->gate_pauses; }

void plume_stdin_source_stop(plume_stdin_source_t *s)
{
    stop_reading(s);
    plume_timer_stop(s->gate_timer);
    s->done = true;
}

void plume_stdin_source_pause(plume_stdin_source_t *s)
{
    if (!s->paused) {
        s->paused = true;
        stop_reading(s);
    }
}

void plume_stdin_source_resume(plume_stdin_source_t *s)
{
    if (s->paused) {
        s->paused = false;
        start_reading(s);
    }
}

void plume_stdin_source_free(plume_stdin_source_t *s)
{
    if (!s)
        return;
    stop_reading(s);
    if (s->file_timer)
        plume_timer_free(s->file_timer);
    plume_timer_free(s->gate_timer);
    plume_line_reader_free(&s->reader);
    plume_buf_free(&s->event);
    plume_buf_free(&s->scratch);
    free(s);
}
