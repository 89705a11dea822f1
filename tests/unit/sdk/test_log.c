/* SPDX-License-Identifier: MIT */
/* The log call's hot path (sdk/src/log.c) with the ring registry and the
 * drain (thread.c, drain.c): calls before start are counted no-ops; level
 * floors and sampling; what a call writes reads back (message, level, typed
 * fields, a time stamp converting to now); a full ring drops and counts, then
 * a "dropped N" record precedes the next event; a call re-entered from a
 * signal handler backs off without corrupting the record in progress; threads
 * that exit are drained and freed; many producers with one consumer lose
 * nothing they did not count; after fork() the child starts with empty rings. */
#include "test_support.h"
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "drain.h"
#include "mp.h"
#include "plume/plume.h"
#include "record.h"
#include "sdk_state.h"
#include "thread.h"

/* What a drain pass saw. */
typedef struct seen {
    size_t records, bad;
    plume_record_view_t last;
    uint8_t last_bytes[4096];
    size_t dropped_records;
    uint64_t dropped_total; /* sum of the "dropped" fields */
} seen_t;

/* Reads the uint64 "dropped" field of a record's map, or 0. */
static uint64_t dropped_field(const plume_record_view_t *v)
{
    plume_mp_reader_t r;
    plume_mp_value_t m, k, x;
    plume_mp_reader_init(&r, v->fields, v->fields_len);
    if (!plume_mp_read(&r, &m) || m.count != 1 || !plume_mp_read(&r, &k) ||
        !plume_mp_read(&r, &x) || k.len != 7 || memcmp(k.s, "dropped", 7) != 0)
        return 0;
    return x.u;
}

static void on_record(void *ctx, const plume_thread_t *t, const uint8_t *rec, size_t len)
{
    (void)t;
    seen_t *s = ctx;
    plume_record_view_t v;
    if (!plume_record_read(rec, len, &v)) {
        s->bad++;
        return;
    }
    s->records++;
    if (v.message && v.message_len > 14 && memcmp(v.message, "plume: events", 13) == 0) {
        s->dropped_records++;
        s->dropped_total += dropped_field(&v);
    }
    if (len <= sizeof(s->last_bytes)) {
        memcpy(s->last_bytes, rec, len);
        plume_record_read(s->last_bytes, len, &s->last);
    }
}

static void drain_all(seen_t *s)
{
    while (plume_drain(on_record, s, 0) > 0) {
    }
}

static int setup(void **state)
{
    (void)state;
    plume_clock_init();
    seen_t s = {0};
    drain_all(&s); /* rings empty between tests */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    plume_sdk_set_running(false, 0, 0, 1.0);
    return 0;
}

static void not_running_is_a_counted_no_op(void **state)
{
    (void)state;
    uint64_t before = plume_sdk.idle_calls;
    PLUME_INFO("too early", plume_i64("n", 1));
    plume_log(PLUME_LEVEL_ERROR, "too early", NULL, 0);
    assert_true(plume_sdk.idle_calls == before + 2);
    seen_t s = {0};
    drain_all(&s);
    assert_int_equal(s.records, 0);
}

static void fields_round_trip(void **state)
{
    (void)state;
    plume_sdk_set_running(true, 64 * 1024, PLUME_LEVEL_DEBUG, 1.0);
    char user[16];
    strcpy(user, "u-7");
    uint64_t t0 = plume_clock_realtime_ns();
    PLUME_WARN("payment failed", plume_str("user", user), plume_i64("cents", -1999),
               plume_f64("ratio", 0.5), plume_bool("retry", 1));
    uint64_t t1 = plume_clock_realtime_ns();
    strcpy(user, "XXX"); /* the record holds its own copy */
    PLUME_TRACE("below the floor");
    seen_t s = {0};
    drain_all(&s);
    assert_int_equal(s.records, 1);
    assert_int_equal(s.bad, 0);
    assert_int_equal(s.last.level, PLUME_LEVEL_WARN);
    assert_int_equal(s.last.message_len, 14);
    assert_memory_equal(s.last.message, "payment failed", 14);
    assert_int_equal(s.last.nfields, 4);
    uint64_t ns = plume_clock_to_ns(s.last.stamp);
    assert_true(ns + 1000000 >= t0 && ns <= t1 + 1000000); /* within 1 ms of the call */
    plume_mp_reader_t r;
    plume_mp_value_t m, k, v;
    plume_mp_reader_init(&r, s.last.fields, s.last.fields_len);
    assert_true(plume_mp_read(&r, &m));
    assert_true(plume_mp_read(&r, &k) && plume_mp_read(&r, &v));
    assert_int_equal(v.len, 3);
    assert_memory_equal(v.s, "u-7", 3);
    assert_true(plume_mp_read(&r, &k) && plume_mp_read(&r, &v));
    assert_true(v.type == PLUME_MP_INT && v.i == -1999);
    /* plume_logf formats */
    plume_logf(PLUME_LEVEL_INFO, "order %d of %s", 12, "ann");
    drain_all(&s);
    assert_int_equal(s.last.message_len, strlen("order 12 of ann"));
    assert_memory_equal(s.last.message, "order 12 of ann", s.last.message_len);
}

static void sampling_keeps_errors(void **state)
{
    (void)state;
    plume_sdk_set_running(true, 64 * 1024, PLUME_LEVEL_TRACE, 0.0);
    for (int i = 0; i < 100; i++)
        PLUME_INFO("sampled away");
    PLUME_ERROR("kept");
    seen_t s = {0};
    drain_all(&s);
    assert_int_equal(s.records, 1);
    assert_int_equal(s.last.level, PLUME_LEVEL_ERROR);

    plume_sdk_set_running(true, 64 * 1024, PLUME_LEVEL_TRACE, 0.5);
    memset(&s, 0, sizeof(s));
    for (int i = 0; i < 10000; i++) {
        PLUME_INFO("half");
        if (i % 500 == 0)
            drain_all(&s); /* keep the ring from filling: only sampling may drop */
    }
    drain_all(&s);
    assert_true(s.records > 4000 && s.records < 6000);
}

/* Phase 1 fills the thread's 4 KiB ring without a consumer; phase 2 (after
 * the main thread drained) logs once more. */
typedef struct filler {
    pthread_barrier_t drained;
    int sent;
    uint64_t drops;
} filler_t;

static void *fill(void *arg)
{
    filler_t *f = arg;
    for (f->sent = 0; f->sent < 200; f->sent++)
        PLUME_INFO("filling the ring with a record of about a hundred bytes",
                   plume_i64("i", f->sent), plume_str("pad", "0123456789012345678901234567"));
    plume_thread_t *t = plume_thread_get(0, 0);
    f->drops = t->drops;
    pthread_barrier_wait(&f->drained); /* main: phase 1 is done */
    pthread_barrier_wait(&f->drained); /* main: drained */
    PLUME_INFO("after");
    return NULL;
}

static void full_ring_drops_then_reports(void **state)
{
    (void)state;
    plume_sdk_set_running(true, 4096, PLUME_LEVEL_TRACE, 1.0);
    filler_t f = {.sent = 0};
    pthread_barrier_init(&f.drained, NULL, 2);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fill, &f), 0);
    pthread_barrier_wait(&f.drained);
    seen_t s = {0};
    drain_all(&s);
    assert_true(f.drops > 0);
    assert_int_equal(s.records + f.drops, 200); /* every call arrived or was counted */
    assert_int_equal(s.dropped_records, 0);
    pthread_barrier_wait(&f.drained);
    pthread_join(th, NULL);
    memset(&s, 0, sizeof(s));
    drain_all(&s);
    assert_int_equal(s.records, 2); /* "dropped N", then the event */
    assert_int_equal(s.dropped_records, 1);
    assert_true(s.dropped_total == f.drops);
    assert_int_equal(s.last.message_len, 5);
    assert_memory_equal(s.last.message, "after", 5);
    pthread_barrier_destroy(&f.drained);
}

/* Fills its ring (drops) and exits without another call. */
static void *fill_and_exit(void *arg)
{
    uint64_t *drops = arg;
    for (int i = 0; i < 200; i++)
        PLUME_INFO("filler", plume_i64("i", i));
    plume_thread_t *t = plume_thread_get(4096, 1024);
    *drops = t->drops;
    return NULL;
}

/* A thread that exits with drops it never got to report: the consumer
 * reports them for it, once, before freeing its state. */
static void exited_thread_drops_reported(void **state)
{
    (void)state;
    plume_sdk_set_running(true, 4096, PLUME_LEVEL_TRACE, 1.0);
    uint64_t drops = 0;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fill_and_exit, &drops), 0);
    pthread_join(th, NULL);
    seen_t s = {0};
    drain_all(&s);
    assert_true(drops > 0);
    assert_int_equal(s.dropped_records, 1);
    assert_true(s.dropped_total == drops);
    assert_int_equal(s.records, 200 - drops + 1);
    assert_true(plume_record_drops(NULL, 0, UINT64_MAX) <= PLUME_DROPS_RECORD_MAX);
    memset(&s, 0, sizeof(s));
    drain_all(&s); /* the state is gone: reported once */
    assert_int_equal(s.records, 0);
}

/* A signal handler that logs while the interrupted code is logging too. */
static volatile sig_atomic_t handler_calls;

static void on_alarm(int sig)
{
    (void)sig;
    handler_calls++;
    PLUME_INFO("from the handler", plume_i64("n", handler_calls));
}

static void reentrant_call_backs_off(void **state)
{
    (void)state;
    plume_sdk_set_running(true, 1u << 20, PLUME_LEVEL_TRACE, 1.0);
    plume_thread_t *t = plume_thread_get(0, 0);
    assert_non_null(t);
    /* deterministic: a call while one is in progress writes nothing */
    uint64_t before = t->reentrant;
    t->ring->prod->busy = 1;
    PLUME_INFO("nested");
    t->ring->prod->busy = 0;
    assert_true(t->reentrant == before + 1);
    seen_t s = {0};
    drain_all(&s);
    assert_int_equal(s.records, 0);

    /* stress: a 50 us interval timer logs from its handler while this thread
     * logs in a loop and drains; every record must stay readable */
    struct sigaction sa = {.sa_handler = on_alarm};
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = {{0, 50}, {0, 50}};
    setitimer(ITIMER_REAL, &it, NULL);
    size_t logged = 0;
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 200; i++, logged++)
            PLUME_INFO("in the loop", plume_i64("i", i), plume_str("s", "abcdefghijklmnop"));
        drain_all(&s);
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    signal(SIGALRM, SIG_DFL);
    drain_all(&s);
    assert_int_equal(s.bad, 0);
    uint64_t refused = t->reentrant - before - 1;
    assert_true(s.records + refused + t->drops >= logged + (size_t)handler_calls);
    assert_true(s.records <= logged + (size_t)handler_calls);
}

/* Threads that log and exit, over and over, with a consumer draining. */
static void *log_and_exit(void *arg)
{
    int n = *(int *)arg;
    for (int i = 0; i < n; i++)
        PLUME_INFO("short-lived", plume_i64("i", i));
    return NULL;
}

static size_t registry_size(void)
{
    size_t n = 0;
    for (plume_thread_t *t = plume_thread_first(); t; t = t->next)
        n++;
    return n;
}

static void exited_threads_drained_and_freed(void **state)
{
    (void)state;
    plume_sdk_set_running(true, 64 * 1024, PLUME_LEVEL_TRACE, 1.0);
    seen_t s = {0};
    drain_all(&s);
    size_t base = registry_size();
    int per = 100;
    for (int round = 0; round < 20; round++) {
        pthread_t th[5];
        for (int i = 0; i < 5; i++)
            assert_int_equal(pthread_create(&th[i], NULL, log_and_exit, &per), 0);
        plume_drain(on_record, &s, 0); /* concurrently with the loggers */
        for (int i = 0; i < 5; i++)
            pthread_join(th[i], NULL);
    }
    drain_all(&s);
    assert_int_equal(s.records, 20 * 5 * per);
    assert_int_equal(s.bad, 0);
    assert_int_equal(registry_size(), base); /* every exited thread's state freed */
}

/* Four producers, one consumer thread: per producer, records arrive in order
 * and received + dropped = sent. */
#define PRODUCERS 4
#define PER_PRODUCER 100000

typedef struct mp_test {
    _Atomic int done;
    uint64_t drops[PRODUCERS];
    int64_t next[PRODUCERS]; /* consumer: next sequence number expected (or later) */
    size_t got[PRODUCERS];
    size_t out_of_order;
} mp_test_t;

typedef struct producer {
    mp_test_t *m;
    int id;
} producer_t;

static void *produce(void *arg)
{
    producer_t *p = arg;
    for (int64_t i = 0; i < PER_PRODUCER; i++)
        PLUME_INFO("seq", plume_i64("p", p->id), plume_i64("i", i));
    p->m->drops[p->id] = plume_thread_get(0, 0)->drops;
    return NULL;
}

static void on_seq(void *ctx, const plume_thread_t *t, const uint8_t *rec, size_t len)
{
    (void)t;
    mp_test_t *m = ctx;
    plume_record_view_t v;
    if (!plume_record_read(rec, len, &v) || v.nfields != 2)
        return; /* "dropped N" records */
    plume_mp_reader_t r;
    plume_mp_value_t x, k, pid, seq;
    plume_mp_reader_init(&r, v.fields, v.fields_len);
    if (!plume_mp_read(&r, &x) || !plume_mp_read(&r, &k) || !plume_mp_read(&r, &pid) ||
        !plume_mp_read(&r, &k) || !plume_mp_read(&r, &seq))
        return;
    int id = (int)pid.i;
    if (id < 0 || id >= PRODUCERS)
        return;
    if (seq.i < m->next[id])
        m->out_of_order++;
    m->next[id] = seq.i + 1;
    m->got[id]++;
}

static void *consume(void *arg)
{
    mp_test_t *m = arg;
    while (!atomic_load(&m->done))
        plume_drain(on_seq, m, 256);
    while (plume_drain(on_seq, m, 0) > 0) {
    }
    return NULL;
}

static void producers_and_one_consumer(void **state)
{
    (void)state;
    plume_sdk_set_running(true, 64 * 1024, PLUME_LEVEL_TRACE, 1.0);
    seen_t s = {0};
    drain_all(&s);
    mp_test_t m = {0};
    pthread_t cons, prod[PRODUCERS];
    producer_t args[PRODUCERS];
    assert_int_equal(pthread_create(&cons, NULL, consume, &m), 0);
    for (int i = 0; i < PRODUCERS; i++) {
        args[i] = (producer_t){&m, i};
        assert_int_equal(pthread_create(&prod[i], NULL, produce, &args[i]), 0);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(prod[i], NULL);
    atomic_store(&m.done, 1);
    pthread_join(cons, NULL);
    assert_int_equal(m.out_of_order, 0);
    for (int i = 0; i < PRODUCERS; i++)
        assert_int_equal(m.got[i] + m.drops[i], PER_PRODUCER);
}

/* fork() while other threads log: the child starts with no rings at all and
 * its own calls are the only ones it drains. */
static void *keep_logging(void *arg)
{
    _Atomic int *stop = arg;
    while (!atomic_load(stop))
        PLUME_INFO("parent thread");
    return NULL;
}

static void fork_child_starts_empty(void **state)
{
    (void)state;
    plume_sdk_set_running(true, 64 * 1024, PLUME_LEVEL_TRACE, 1.0);
    _Atomic int stop = 0;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, keep_logging, &stop), 0);
    PLUME_INFO("before fork");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        plume_thread_reset_after_fork(); /* what the SDK's atfork child handler does */
        int bad = plume_thread_first() != NULL;
        PLUME_INFO("child");
        seen_t s = {0};
        drain_all(&s);
        bad |= s.records != 1 || s.last.message_len != 5 || memcmp(s.last.message, "child", 5);
        _exit(bad ? 1 : 0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    seen_t s = {0};
    drain_all(&s);
    assert_true(s.records >= 1); /* the parent's rings are untouched */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(not_running_is_a_counted_no_op, setup, teardown),
        cmocka_unit_test_setup_teardown(fields_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(sampling_keeps_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(full_ring_drops_then_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(exited_thread_drops_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(reentrant_call_backs_off, setup, teardown),
        cmocka_unit_test_setup_teardown(exited_threads_drained_and_freed, setup, teardown),
        cmocka_unit_test_setup_teardown(producers_and_one_consumer, setup, teardown),
        cmocka_unit_test_setup_teardown(fork_child_starts_empty, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
