/* SPDX-License-Identifier: MIT */
/* The console and file sinks against real pipes and temp files: NDJSON lines
 * appear only after a flush, on the 100 ms timer (waited for on the real loop
 * with a deadline) or past 64 KiB; the file sink appends to an existing file,
 * counts its size, rotates into path.1, path.2 ... keeping max_files and keeps
 * writing to a fresh file; a write error (closed pipe, /dev/full) stops the sink
 * with a logged error instead of crashing; events that cannot be encoded are
 * counted; freeing writes what is buffered. Expected lines are produced with
 * plume_ndjson_encode_event(), so the tests check the sinks, not the encoder. */
#include "test_support.h"
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "axiom_encode.h"
#include "config.h"
#include "event.h"
#include "local_sinks.h"
#include "loop.h"
#include "metrics.h"
#include "mp.h"

#define DEADLINE_MS 5000
#define T0 (1795255200ull * 1000000000ull) /* 2026-11-21T10:00:00Z */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

typedef struct fixture {
    plume_loop_t *loop;
    plume_metrics_t m;
    char *dir;
    char path[4096];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f || !(f->loop = plume_loop_new()) || !(f->dir = plume_test_mkdtemp()))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/events.ndjson", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    plume_loop_free(f->loop);
    plume_test_rm_rf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Builds an info event with `msg` as its message into `ev` (reset first). */
static void make_event(plume_buf_t *ev, const char *msg, uint64_t seq)
{
    plume_buf_reset(ev);
    plume_event_builder_t eb;
    plume_event_begin(&eb, ev, T0 + seq);
    plume_event_set_level(&eb, PLUME_LEVEL_INFO);
    plume_event_set_message(&eb, msg, strlen(msg));
    plume_event_set_origin(&eb, "stdin");
    plume_event_fields_begin(&eb);
    plume_mp_cstr(ev, "seq");
    plume_mp_uint(ev, seq);
    plume_event_field_added(&eb);
    plume_event_fields_end(&eb);
    assert_true(plume_event_end(&eb));
}

/* Submits event `seq` with message `msg` and appends its expected NDJSON line
 * to `want` (may be NULL). */
static void submit(plume_sink_t *s, const char *msg, uint64_t seq, plume_buf_t *want)
{
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    make_event(&ev, msg, seq);
    if (want)
        assert_true(plume_ndjson_encode_event(want, ev.data, ev.len));
    plume_event_view_t view;
    assert_true(plume_event_view(ev.data, ev.len, &view));
    s->ops->submit(s, &view);
    plume_buf_free(&ev);
}

/* The NDJSON line of one event, as a malloc'd string. */
static char *line_of(const char *msg, uint64_t seq)
{
    plume_buf_t ev, out;
    plume_buf_init(&ev, 0);
    plume_buf_init(&out, 0);
    make_event(&ev, msg, seq);
    assert_true(plume_ndjson_encode_event(&out, ev.data, ev.len));
    assert_true(plume_buf_append_byte(&out, 0));
    char *s = strdup((const char *)out.data);
    plume_buf_free(&ev);
    plume_buf_free(&out);
    return s;
}

/* Reads what is available on a non-blocking fd into `got`. */
static void drain(int fd, plume_buf_t *got)
{
    char tmp[65536];
    for (;;) {
        ssize_t r = read(fd, tmp, sizeof(tmp));
        if (r > 0) {
            assert_true(plume_buf_append(got, tmp, (size_t)r));
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        assert_true(r == 0 || errno == EAGAIN);
        return;
    }
}

static void make_pipe(int p[2])
{
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
}

static void assert_buf_equal(const plume_buf_t *got, const plume_buf_t *want)
{
    assert_int_equal(got->len, want->len);
    if (want->len)
        assert_memory_equal(got->data, want->data, want->len);
}

/* Whole contents of a file ("" if missing is not allowed: asserts it exists). */
static char *slurp(const char *path)
{
    char *s = plume_test_read_file(path, NULL);
    if (!s)
        fail_msg("cannot read %s", path);
    return s;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

/* Runs stderr into a temp file while a test provokes a logged error. */
typedef struct capture {
    int saved;
    char path[4096];
} capture_t;

static void capture_begin(capture_t *c, const fixture_t *f)
{
    snprintf(c->path, sizeof(c->path), "%s/stderr.txt", f->dir);
    int fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    c->saved = dup(STDERR_FILENO);
    assert_true(c->saved >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    close(fd);
}

static char *capture_end(capture_t *c)
{
    assert_int_equal(dup2(c->saved, STDERR_FILENO), STDERR_FILENO);
    close(c->saved);
    return slurp(c->path);
}

/* ---- console ---- */

static void console_ndjson_after_flush(void **state)
{
    fixture_t *f = *state;
    int p[2];
    make_pipe(p);
    char err[256] = "";
    /* "auto" on a pipe (not a terminal) means NDJSON, like "json" */
    plume_sink_t *s = plume_console_sink_new(f->loop, p[1], PLUME_CONSOLE_AUTO, &f->m, err,
                                             sizeof(err));
    assert_non_null(s);
    assert_string_equal(s->name, "console");
    plume_buf_t want, got;
    plume_buf_init(&want, 0);
    plume_buf_init(&got, 0);
    assert_true(s->ops->idle(s));
    submit(s, "first", 1, &want);
    submit(s, "second \"quoted\"", 2, &want);
    submit(s, "third", 3, &want);
    /* buffered: nothing written yet, and the sink is not idle */
    drain(p[0], &got);
    assert_int_equal(got.len, 0);
    assert_false(s->ops->idle(s));
    assert_int_equal(s->ops->pending_events(s), 0);
    s->ops->flush(s);
    drain(p[0], &got);
    assert_buf_equal(&got, &want);
    assert_true(s->ops->idle(s));
    assert_false(s->ops->stopped(s));
    /* a flush with nothing buffered writes nothing */
    s->ops->flush(s);
    plume_buf_reset(&got);
    drain(p[0], &got);
    assert_int_equal(got.len, 0);
    s->ops->free(s);
    /* the console sink does not own its fd */
    assert_int_equal(fcntl(p[1], F_GETFD), FD_CLOEXEC);
    assert_int_equal(f->m.dropped_encode, 0);
    plume_buf_free(&want);
    plume_buf_free(&got);
    close(p[0]);
    close(p[1]);
}

static void console_json_format_lines(void **state)
{
    fixture_t *f = *state;
    int p[2];
    make_pipe(p);
    char err[256] = "";
    plume_sink_t *s = plume_console_sink_new(f->loop, p[1], PLUME_CONSOLE_JSON, &f->m, err,
                                             sizeof(err));
    assert_non_null(s);
    submit(s, "hello", 7, NULL);
    s->ops->flush(s);
    plume_buf_t got;
    plume_buf_init(&got, 0);
    drain(p[0], &got);
    assert_true(plume_buf_append_byte(&got, 0));
    /* one JSON object per line, the event time first */
    const char *text = (const char *)got.data;
    assert_true(strncmp(text, "{\"_time\":\"2026-11-21T10:00:00.000000007Z\"", 41) == 0);
    assert_non_null(strstr(text, "\"message\":\"hello\""));
    assert_non_null(strstr(text, "\"seq\":7"));
    /* exactly one line */
    assert_true(got.len >= 2);
    assert_ptr_equal(strchr(text, '\n'), text + got.len - 2);
    s->ops->free(s);
    plume_buf_free(&got);
    close(p[0]);
    close(p[1]);
}

static void console_writes_on_timer(void **state)
{
    fixture_t *f = *state;
    int p[2];
    make_pipe(p);
    char err[256] = "";
    plume_sink_t *s = plume_console_sink_new(f->loop, p[1], PLUME_CONSOLE_JSON, &f->m, err,
                                             sizeof(err));
    assert_non_null(s);
    plume_buf_t want, got;
    plume_buf_init(&want, 0);
    plume_buf_init(&got, 0);
    uint64_t t0 = mono_ms();
    submit(s, "tick", 1, &want);
    submit(s, "tock", 2, &want);
    /* no flush: the sink's 100 ms timer writes the buffer from the loop */
    uint64_t end = t0 + DEADLINE_MS;
    while (got.len < want.len) {
        assert_true(mono_ms() < end);
        assert_true(plume_loop_run_once(f->loop, 20) >= 0);
        drain(p[0], &got);
    }
    uint64_t took = mono_ms() - t0;
    assert_true(took >= 100);
    assert_buf_equal(&got, &want);
    assert_true(s->ops->idle(s));
    /* and again for the next event: the timer re-arms */
    plume_buf_reset(&want);
    plume_buf_reset(&got);
    submit(s, "again", 3, &want);
    end = mono_ms() + DEADLINE_MS;
    while (got.len < want.len) {
        assert_true(mono_ms() < end);
        assert_true(plume_loop_run_once(f->loop, 20) >= 0);
        drain(p[0], &got);
    }
    assert_buf_equal(&got, &want);
    s->ops->free(s);
    plume_buf_free(&want);
    plume_buf_free(&got);
    close(p[0]);
    close(p[1]);
}

static void console_writes_past_64k_without_flush(void **state)
{
    fixture_t *f = *state;
    /* a file as the console: a pipe would block past its capacity */
    int fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    char err[256] = "";
    plume_sink_t *s = plume_console_sink_new(f->loop, fd, PLUME_CONSOLE_JSON, &f->m, err,
                                             sizeof(err));
    assert_non_null(s);
    char *msg = malloc(10001);
    memset(msg, 'x', 10000);
    msg[10000] = '\0';
    plume_buf_t want;
    plume_buf_init(&want, 0);
    struct stat st;
    int n = 0;
    /* below 64 KiB everything stays buffered */
    while (want.len + 10200 < (64u << 10)) {
        submit(s, msg, (uint64_t)n++, &want);
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_size, 0);
    }
    /* the event that takes the buffer past 64 KiB writes it all out */
    while (want.len < (64u << 10))
        submit(s, msg, (uint64_t)n++, &want);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal((size_t)st.st_size, want.len);
    assert_true(s->ops->idle(s));
    char *text = slurp(f->path);
    assert_memory_equal(text, want.data, want.len);
    free(text);
    s->ops->free(s);
    free(msg);
    plume_buf_free(&want);
    close(fd);
}

static void console_oversized_event_counted(void **state)
{
    fixture_t *f = *state;
    int p[2];
    make_pipe(p);
    char err[256] = "";
    plume_sink_t *s = plume_console_sink_new(f->loop, p[1], PLUME_CONSOLE_JSON, &f->m, err,
                                             sizeof(err));
    assert_non_null(s);
    plume_buf_t want, got;
    plume_buf_init(&want, 0);
    plume_buf_init(&got, 0);
    submit(s, "before", 1, &want);
    /* A line longer than the sink's 64 MiB output buffer cannot be written. */
    size_t big = (64u << 20) + 1;
    char *msg = malloc(big);
    assert_non_null(msg);
    memset(msg, 'x', big);
    plume_event_view_t huge = {.time_ns = 1, .level = PLUME_LEVEL_INFO, .message = msg,
                               .message_len = big};
    s->ops->submit(s, &huge);
    free(msg);
    submit(s, "after", 2, &want);
    s->ops->flush(s);
    drain(p[0], &got);
    /* the oversized event left nothing behind in the output */
    assert_buf_equal(&got, &want);
    assert_int_equal(f->m.dropped_encode, 1);
    assert_false(s->ops->stopped(s));
    s->ops->free(s);
    plume_buf_free(&want);
    plume_buf_free(&got);
    close(p[0]);
    close(p[1]);
}

static void console_free_writes_buffered(void **state)
{
    fixture_t *f = *state;
    int p[2];
    make_pipe(p);
    char err[256] = "";
    plume_sink_t *s = plume_console_sink_new(f->loop, p[1], PLUME_CONSOLE_JSON, &f->m, err,
                                             sizeof(err));
    assert_non_null(s);
    plume_buf_t want, got;
    plume_buf_init(&want, 0);
    plume_buf_init(&got, 0);
    submit(s, "last words", 1, &want);
    s->ops->free(s);
    drain(p[0], &got);
    assert_buf_equal(&got, &want);
    /* the loop holds no timer of the freed sink */
    assert_int_equal(plume_loop_run_once(f->loop, 150), 0);
    plume_buf_free(&want);
    plume_buf_free(&got);
    close(p[0]);
    close(p[1]);
}

static void console_broken_pipe_stops_sink(void **state)
{
    fixture_t *f = *state;
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    assert_int_equal(sigaction(SIGPIPE, &ign, &old), 0);
    int p[2];
    make_pipe(p);
    char err[256] = "";
    plume_sink_t *s = plume_console_sink_new(f->loop, p[1], PLUME_CONSOLE_JSON, &f->m, err,
                                             sizeof(err));
    assert_non_null(s);
    close(p[0]); /* nobody reads: write(2) fails with EPIPE */
    submit(s, "into the void", 1, NULL);
    capture_t cap;
    capture_begin(&cap, f);
    s->ops->flush(s);
    char *log = capture_end(&cap);
    assert_true(s->ops->stopped(s));
    assert_true(s->ops->idle(s)); /* a stopped sink has nothing left to do */
    assert_non_null(strstr(log, " error console: write failed ("));
    assert_non_null(strstr(log, strerror(EPIPE)));
    assert_non_null(strstr(log, "sink stopped"));
    free(log);
    /* later events are ignored quietly; nothing crashes */
    capture_begin(&cap, f);
    submit(s, "more", 2, NULL);
    s->ops->flush(s);
    /* the flush timer armed by the first event may still fire: harmlessly */
    int ran = plume_loop_run_once(f->loop, 150);
    s->ops->free(s);
    log = capture_end(&cap);
    assert_true(ran >= 0);
    assert_string_equal(log, "");
    free(log);
    assert_int_equal(f->m.dropped_encode, 0);
    close(p[1]);
    assert_int_equal(sigaction(SIGPIPE, &old, NULL), 0);
}

/* ---- file ---- */

static plume_sink_t *file_sink(fixture_t *f, uint64_t max_size, int max_files)
{
    char err[512] = "";
    plume_sink_t *s = plume_file_sink_new(f->loop, f->path, max_size, max_files, &f->m, err,
                                          sizeof(err));
    if (!s)
        fail_msg("file sink: %s", err);
    assert_string_equal(s->name, "file");
    return s;
}

static void file_appends_ndjson(void **state)
{
    fixture_t *f = *state;
    write_file(f->path, "{\"old\":1}\n");
    plume_sink_t *s = file_sink(f, 0, 3); /* 0: never rotate */
    plume_buf_t want;
    plume_buf_init(&want, 0);
    assert_true(plume_buf_append_str(&want, "{\"old\":1}\n"));
    submit(s, "one", 1, &want);
    submit(s, "two", 2, &want);
    /* nothing on disk before the flush */
    char *text = slurp(f->path);
    assert_string_equal(text, "{\"old\":1}\n");
    free(text);
    s->ops->flush(s);
    text = slurp(f->path);
    assert_int_equal(strlen(text), want.len);
    assert_memory_equal(text, want.data, want.len);
    free(text);
    submit(s, "three", 3, &want);
    s->ops->free(s); /* free writes what is buffered */
    text = slurp(f->path);
    assert_int_equal(strlen(text), want.len);
    assert_memory_equal(text, want.data, want.len);
    free(text);
    char p1[4200];
    snprintf(p1, sizeof(p1), "%s.1", f->path);
    assert_false(exists(p1));
    plume_buf_free(&want);
}

static void file_writes_on_timer(void **state)
{
    fixture_t *f = *state;
    plume_sink_t *s = file_sink(f, 0, 1);
    char *want = line_of("timed", 1);
    submit(s, "timed", 1, NULL);
    uint64_t t0 = mono_ms(), end = t0 + DEADLINE_MS;
    struct stat st;
    for (;;) {
        assert_int_equal(stat(f->path, &st), 0);
        if ((size_t)st.st_size == strlen(want))
            break;
        assert_true(mono_ms() < end);
        assert_true(plume_loop_run_once(f->loop, 20) >= 0);
    }
    char *text = slurp(f->path);
    assert_string_equal(text, want);
    free(text);
    free(want);
    s->ops->free(s);
}

static void rotated_path(const fixture_t *f, int k, char *out, size_t cap)
{
    if (k == 0)
        snprintf(out, cap, "%s", f->path);
    else
        snprintf(out, cap, "%s.%d", f->path, k);
}

/* Asserts the file path(.k) holds exactly `want` ("" for an empty file). */
static void expect_file(const fixture_t *f, int k, const char *want)
{
    char p[4200];
    rotated_path(f, k, p, sizeof(p));
    char *text = plume_test_read_file(p, NULL);
    if (!text)
        fail_msg("%s is missing", p);
    if (strcmp(text, want) != 0)
        fail_msg("%s holds '%s', want '%s'", p, text, want);
    free(text);
}

static void file_rotates_keeping_max_files(void **state)
{
    fixture_t *f = *state;
    /* messages of equal length: every line has the same size L */
    char *l[8];
    char msg[8][8];
    for (int i = 0; i < 8; i++) {
        snprintf(msg[i], sizeof(msg[i]), "event-%d", i);
        l[i] = line_of(msg[i], (uint64_t)i);
    }
    size_t L = strlen(l[0]);
    for (int i = 1; i < 8; i++)
        assert_int_equal(strlen(l[i]), L);
    /* two lines fit below max_size, the second reaches it and rotates */
    plume_sink_t *s = file_sink(f, 2 * L - 1, 2);
    char both[1024];

    submit(s, msg[0], 0, NULL);
    s->ops->flush(s);
    expect_file(f, 0, l[0]);
    submit(s, msg[1], 1, NULL);
    s->ops->flush(s);
    snprintf(both, sizeof(both), "%s%s", l[0], l[1]);
    expect_file(f, 1, both);
    expect_file(f, 0, ""); /* reopened, empty */

    /* writing continues in the new file */
    submit(s, msg[2], 2, NULL);
    s->ops->flush(s);
    expect_file(f, 0, l[2]);
    submit(s, msg[3], 3, NULL);
    s->ops->flush(s);
    snprintf(both, sizeof(both), "%s%s", l[2], l[3]);
    expect_file(f, 1, both);
    snprintf(both, sizeof(both), "%s%s", l[0], l[1]);
    expect_file(f, 2, both);
    expect_file(f, 0, "");

    /* a third rotation drops the oldest: max_files = 2 */
    submit(s, msg[4], 4, NULL);
    submit(s, msg[5], 5, NULL);
    s->ops->flush(s);
    snprintf(both, sizeof(both), "%s%s", l[4], l[5]);
    expect_file(f, 1, both);
    snprintf(both, sizeof(both), "%s%s", l[2], l[3]);
    expect_file(f, 2, both);
    char p3[4200];
    rotated_path(f, 3, p3, sizeof(p3));
    assert_false(exists(p3));
    expect_file(f, 0, "");
    assert_false(s->ops->stopped(s));

    submit(s, msg[6], 6, NULL);
    s->ops->free(s);
    expect_file(f, 0, l[6]);
    for (int i = 0; i < 8; i++)
        free(l[i]);
}

static void file_counts_existing_size(void **state)
{
    fixture_t *f = *state;
    char *l = line_of("pushes it over", 1);
    size_t L = strlen(l);
    /* an existing file just below the limit: one more line reaches it */
    char *old = malloc(L + 2);
    memset(old, 'o', L);
    old[L - 1] = '\n';
    old[L] = '\0';
    write_file(f->path, old);
    plume_sink_t *s = file_sink(f, 2 * L - 1, 1);
    submit(s, "pushes it over", 1, NULL);
    s->ops->flush(s);
    /* without counting the existing L bytes there would be no rotation */
    char *both = malloc(2 * L + 1);
    snprintf(both, 2 * L + 1, "%s%s", old, l);
    expect_file(f, 1, both);
    expect_file(f, 0, "");
    s->ops->free(s);
    free(both);
    free(old);
    free(l);
}

static void file_open_error(void **state)
{
    fixture_t *f = *state;
    char path[4200], err[512] = "";
    snprintf(path, sizeof(path), "%s/no/such/dir/events.ndjson", f->dir);
    plume_sink_t *s = plume_file_sink_new(f->loop, path, 0, 1, &f->m, err, sizeof(err));
    assert_null(s);
    char want[4400];
    snprintf(want, sizeof(want), "file: cannot open %s: %s", path, strerror(ENOENT));
    assert_string_equal(err, want);
}

static void file_write_error_stops_sink(void **state)
{
    fixture_t *f = *state;
    /* /dev/full opens fine and fails every write with ENOSPC */
    char err[512] = "";
    plume_sink_t *s = plume_file_sink_new(f->loop, "/dev/full", 0, 1, &f->m, err, sizeof(err));
    if (!s)
        skip();
    submit(s, "no space", 1, NULL);
    capture_t cap;
    capture_begin(&cap, f);
    s->ops->flush(s);
    char *log = capture_end(&cap);
    assert_true(s->ops->stopped(s));
    assert_true(s->ops->idle(s));
    assert_non_null(strstr(log, " error file: write failed ("));
    assert_non_null(strstr(log, strerror(ENOSPC)));
    free(log);
    submit(s, "ignored", 2, NULL);
    s->ops->free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(console_ndjson_after_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(console_json_format_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(console_writes_on_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(console_writes_past_64k_without_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(console_oversized_event_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(console_free_writes_buffered, setup, teardown),
        cmocka_unit_test_setup_teardown(console_broken_pipe_stops_sink, setup, teardown),
        cmocka_unit_test_setup_teardown(file_appends_ndjson, setup, teardown),
        cmocka_unit_test_setup_teardown(file_writes_on_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(file_rotates_keeping_max_files, setup, teardown),
        cmocka_unit_test_setup_teardown(file_counts_existing_size, setup, teardown),
        cmocka_unit_test_setup_teardown(file_open_error, setup, teardown),
        cmocka_unit_test_setup_teardown(file_write_error_stops_sink, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
