/* SPDX-License-Identifier: MIT */
/* Event loop: timer ordering, cancel and re-arm, heap order under load, no
 * starvation by zero-delay re-arms, freeing timers and fds from callbacks, fd
 * readiness on pipes (including idle watchers and hang-ups), stale events after
 * fd reuse, wake-up from another thread, argument checks. Every wait has a
 * deadline; nothing sleeps for a fixed time. */
#include "test_support.h"
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define DEADLINE_MS 5000

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Runs the loop until *flag reaches want or the deadline passes. */
static void run_until(plume_loop_t *l, const int *flag, int want)
{
    uint64_t end = mono_ms() + DEADLINE_MS;
    while (*flag < want) {
        assert_true(mono_ms() < end);
        assert_true(plume_loop_run_once(l, 100) >= 0);
    }
}

/* ---- timers ---- */

typedef struct rec {
    int order[64];
    int n;
} rec_t;

typedef struct tctx {
    rec_t *rec;
    int id;
    int fired;
    int rearm_left;       /* re-arm itself this many more times */
    uint64_t rearm_delay;
    plume_timer_t *victim; /* stopped/freed by this timer's callback */
    bool free_victim;
    bool free_self;
} tctx_t;

static void on_timer(plume_loop_t *l, plume_timer_t *t, void *arg)
{
    (void)l;
    tctx_t *c = arg;
    c->fired++;
    if (c->rec && c->rec->n < 64)
        c->rec->order[c->rec->n++] = c->id;
    assert_false(plume_timer_active(t));
    if (c->victim) {
        if (c->free_victim)
            plume_timer_free(c->victim);
        else
            plume_timer_stop(c->victim);
        c->victim = NULL;
    }
    if (c->rearm_left > 0) {
        c->rearm_left--;
        plume_timer_start(t, c->rearm_delay);
    }
    if (c->free_self)
        plume_timer_free(t);
}

static void timers_fire_in_order(void **state)
{
    (void)state;
    plume_loop_t *l = plume_loop_new();
    assert_non_null(l);
    rec_t rec = {0};
    const uint64_t delays[] = {30, 10, 20, 10, 0};
    const int expect[] = {4, 1, 3, 2, 0};
    tctx_t c[5];
    plume_timer_t *t[5];
    for (int i = 0; i < 5; i++) {
        c[i] = (tctx_t){.rec = &rec, .id = i};
        t[i] = plume_timer_new(l, on_timer, &c[i]);
        assert_non_null(t[i]);
        assert_false(plume_timer_active(t[i]));
    }
    uint64_t start = mono_ms();
    for (int i = 0; i < 5; i++) {
        plume_timer_start(t[i], delays[i]);
        assert_true(plume_timer_active(t[i]));
    }
    run_until(l, &rec.n, 5);
    assert_int_equal(rec.n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(rec.order[i], expect[i]);
    assert_true(plume_loop_now_ms(l) >= start + 30);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(c[i].fired, 1);
        plume_timer_free(t[i]);
    }
    plume_loop_free(l);
}

static void timer_cancel(void **state)
{
    (void)state;
    plume_loop_t *l = plume_loop_new();
    tctx_t a = {.id = 1}, b = {.id = 2}, v = {.id = 3}, late = {.id = 4};
    plume_timer_t *ta = plume_timer_new(l, on_timer, &a);
    plume_timer_t *tb = plume_timer_new(l, on_timer, &b);
    plume_timer_t *tv = plume_timer_new(l, on_timer, &v);
    plume_timer_t *tl = plume_timer_new(l, on_timer, &late);
    plume_timer_stop(ta); /* inactive: no-op */
    plume_timer_start(ta, 5);
    plume_timer_stop(ta);
    assert_false(plume_timer_active(ta));
    /* b stops v from its callback while v is still pending */
    b.victim = tv;
    plume_timer_start(tb, 5);
    plume_timer_start(tv, 15);
    plume_timer_start(tl, 30);
    run_until(l, &late.fired, 1);
    assert_int_equal(a.fired, 0);
    assert_int_equal(b.fired, 1);
    assert_int_equal(v.fired, 0);
    assert_false(plume_timer_active(tv));
    plume_timer_free(ta);
    plume_timer_free(tb);
    plume_timer_free(tv);
    plume_timer_free(tl);
    plume_loop_free(l);
}

static void timer_rearm(void **state)
{
    (void)state;
    plume_loop_t *l = plume_loop_new();
    /* re-arming from its own callback */
    tctx_t a = {.id = 1, .rearm_left = 3, .rearm_delay = 2};
    plume_timer_t *ta = plume_timer_new(l, on_timer, &a);
    plume_timer_start(ta, 1);
    run_until(l, &a.fired, 4);
    assert_false(plume_timer_active(ta));
    /* re-arming an active timer moves it: later ... */
    tctx_t b = {.id = 2};
    plume_timer_t *tb = plume_timer_new(l, on_timer, &b);
    uint64_t start = mono_ms();
    plume_timer_start(tb, 1);
    plume_timer_start(tb, 40);
    run_until(l, &b.fired, 1);
    assert_true(plume_loop_now_ms(l) >= start + 40);
    /* ... or earlier, and it fires only once */
    start = mono_ms();
    plume_timer_start(tb, 60000);
    plume_timer_start(tb, 1);
    run_until(l, &b.fired, 2);
    assert_true(plume_loop_now_ms(l) < start + 60000);
    assert_false(plume_timer_active(tb));
    for (int i = 0; i < 5; i++)
        assert_true(plume_loop_run_once(l, 0) >= 0);
    assert_int_equal(b.fired, 2);
    assert_int_equal(a.fired, 4);
    plume_timer_free(ta);
    plume_timer_free(tb);
    plume_loop_free(l);
}

static void zero_delay_rearm_does_not_starve(void **state)
{
    (void)state;
    plume_loop_t *l = plume_loop_new();
    tctx_t a = {.id = 1, .rearm_left = 1000000, .rearm_delay = 0};
    plume_timer_t *ta = plume_timer_new(l, on_timer, &a);
    plume_timer_start(ta, 0);
    /* each iteration runs the timer once, then returns */
    for (int i = 1; i <= 5; i++) {
        assert_int_equal(plume_loop_run_once(l, 1000), 1);
        assert_int_equal(a.fired, i);
    }
    plume_timer_free(ta);
    assert_int_equal(plume_loop_run_once(l, 0), 0);
    plume_loop_free(l);
}

static void timer_free_in_callbacks(void **state)
{
    (void)state;
    plume_loop_t *l = plume_loop_new();
    /* a and b are due in the same iteration; a runs first and frees b */
    tctx_t a = {.id = 1, .free_victim = true}, b = {.id = 2}, s = {.id = 3, .free_self = true};
    plume_timer_t *ta = plume_timer_new(l, on_timer, &a);
    plume_timer_t *tb = plume_timer_new(l, on_timer, &b);
    plume_timer_t *ts = plume_timer_new(l, on_timer, &s);
    a.victim = tb;
    plume_timer_start(ta, 0);
    plume_timer_start(tb, 0);
    plume_timer_start(ts, 0);
    assert_int_equal(plume_loop_run_once(l, 1000), 2);
    assert_int_equal(a.fired, 1);
    assert_int_equal(b.fired, 0);
    assert_int_equal(s.fired, 1); /* freed itself */
    plume_timer_free(ta);
    plume_loop_free(l);
}

/* Heap order under load: a timer never fires before its deadline, and timers
 * fire in deadline order; stopped ones never fire. */
typedef struct htimer {
    plume_timer_t *t;
    uint64_t lo, hi; /* bounds of the deadline */
    int fired;
    bool stopped;
} htimer_t;

typedef struct hstate {
    htimer_t *fired_order[400];
    int n;
    uint64_t max_lo;
    plume_loop_t *l;
} hstate_t;

static hstate_t *g_h;

static void on_heap_timer(plume_loop_t *l, plume_timer_t *t, void *arg)
{
    (void)t;
    htimer_t *ht = arg;
    ht->fired++;
    assert_true(plume_loop_now_ms(l) >= ht->lo);
    /* deadline order: all earlier firings had deadlines <= this one's */
    if (g_h->max_lo < ht->lo)
        g_h->max_lo = ht->lo;
    assert_true(g_h->max_lo <= ht->hi);
    g_h->fired_order[g_h->n++] = ht;
}

static void timer_heap_order(void **state)
{
    (void)state;
    enum { N = 400 };
    plume_loop_t *l = plume_loop_new();
    hstate_t hs = {.l = l};
    g_h = &hs;
    htimer_t *ht = calloc(N, sizeof(*ht));
    srand(1234);
    for (int i = 0; i < N; i++) {
        ht[i].t = plume_timer_new(l, on_heap_timer, &ht[i]);
        assert_non_null(ht[i].t);
    }
    int active = 0;
    for (int i = 0; i < N; i++) {
        uint64_t d = (uint64_t)(rand() % 60);
        ht[i].lo = mono_ms() + d;
        plume_timer_start(ht[i].t, d);
        ht[i].hi = mono_ms() + d;
        active++;
        if (i % 7 == 3) { /* cancel some already started ones */
            int j = rand() % (i + 1);
            if (!ht[j].stopped) {
                plume_timer_stop(ht[j].t);
                ht[j].stopped = true;
                active--;
            }
        }
    }
    run_until(l, &hs.n, active);
    for (int i = 0; i < 5; i++)
        assert_true(plume_loop_run_once(l, 0) >= 0);
    assert_int_equal(hs.n, active);
    for (int i = 0; i < N; i++) {
        assert_int_equal(ht[i].fired, ht[i].stopped ? 0 : 1);
        plume_timer_free(ht[i].t);
    }
    free(ht);
    plume_loop_free(l);
}

static void timers_outliving_loop_are_inert(void **state)
{
    (void)state;
    plume_loop_t *l = plume_loop_new();
    tctx_t a = {0};
    plume_timer_t *t1 = plume_timer_new(l, on_timer, &a);
    plume_timer_t *t2 = plume_timer_new(l, on_timer, &a);
    plume_timer_start(t1, 10);
    plume_loop_free(l);
    assert_false(plume_timer_active(t1));
    plume_timer_start(t2, 1);
    plume_timer_stop(t1);
    plume_timer_free(t1);
    plume_timer_free(t2);
    plume_timer_free(NULL);
}

/* ---- fds ---- */

typedef struct fctx {
    plume_loop_t *l;
    int calls;
    unsigned last_events;
    int drain;          /* read one byte when readable */
    int unwatch_other;  /* fd to unwatch (and replace) from the callback, or -1 */
    int unwatch_self;
    int *other_calls;
} fctx_t;

static void on_fd(plume_loop_t *l, int fd, unsigned events, void *arg)
{
    fctx_t *c = arg;
    c->calls++;
    c->last_events = events;
    if (c->drain && (events & PLUME_EV_READ)) {
        char b;
        ssize_t r = read(fd, &b, 1);
        (void)r;
    }
    if (c->unwatch_self)
        assert_int_equal(plume_loop_unwatch(l, fd), 0);
}

static void fd_readiness_pipe(void **state)
{
    (void)state;
    plume_loop_t *l = plume_loop_new();
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    fctx_t r = {.l = l, .drain = 1}, w = {.l = l};
    assert_int_equal(plume_loop_watch(l, p[0], PLUME_EV_READ, on_fd, &r), 0);
    assert_int_equal(plume_loop_run_once(l, 0), 0);
    assert_int_equal(r.calls, 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(plume_loop_run_once(l, DEADLINE_MS), 1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last_events, PLUME_EV_READ);
    assert_int_equal(plume_loop_run_once(l, 0), 0); /* drained: level-triggered quiet */

    /* write end is writable at once */
    assert_int_equal(plume_loop_watch(l, p[1], PLUME_EV_WRITE, on_fd, &w), 0);
    assert_int_equal(plume_loop_run_once(l, DEADLINE_MS), 1);
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.last_events, PLUME_EV_WRITE);
    /* idle: registered but nothing reported */
    assert_int_equal(plume_loop_watch(l, p[1], 0, on_fd, &w), 0);
    assert_int_equal(write(p[1], "y", 1), 1);
    assert_int_equal(plume_loop_watch(l, p[0], 0, on_fd, &r), 0);
    assert_int_equal(plume_loop_run_once(l, 0), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(w.calls, 1);
    /* re-enabled: the pending byte is reported */
    assert_int_equal(plume_loop_watch(l, p[0], PLUME_EV_READ, on_fd, &r), 0);
    assert_int_equal(plume_loop_run_once(l, DEADLINE_MS), 1);
    assert_int_equal(r.calls, 2);

    /* hang-up: closing the write end makes the read end report READ */
    assert_int_equal(plume_loop_unwatch(l, p[1]), 0);
    close(p[1]);
    assert_int_equal(plume_loop_run_once(l, DEADLINE_MS), 1);
    assert_int_equal(r.calls, 3);
    assert_true(r.last_events & PLUME_EV_READ);
    char b;
    assert_int_equal(read(p[0], &b, 1), 0); /* EOF */
    /* idle watcher on a hung-up fd stays silent */
    assert_int_equal(plume_loop_watch(l, p[0], 0, on_fd, &r), 0);
    assert_int_equal(plume_loop_run_once(l, 0), 0);
    assert_int_equal(plume_loop_unwatch(l, p[0]), 0);
    close(p[0]);
    plume_loop_free(l);
}

/* Two readable pipes; whichever callback runs first unwatches and closes the
 * other's read end and puts a fresh, empty pipe under the same fd number with
 * a new callback: neither the old nor the new callback may see the stale event. */
typedef struct pair {
    int fds[2][2];
    fctx_t c[2];
    fctx_t fresh;
    int fresh_pipe[2];
    int first;
} pair_t;

static void on_pair(plume_loop_t *l, int fd, unsigned events, void *arg)
{
    (void)events;
    pair_t *pr = arg;
    int me = fd == pr->fds[0][0] ? 0 : 1;
    pr->c[me].calls++;
    if (pr->first >= 0)
        return;
    pr->first = me;
    int other = pr->fds[!me][0];
    assert_int_equal(plume_loop_unwatch(l, other), 0);
    close(other);
    assert_int_equal(pipe2(pr->fresh_pipe, O_NONBLOCK | O_CLOEXEC), 0);
    if (pr->fresh_pipe[0] != other) { /* make sure the number is reused */
        assert_int_equal(dup3(pr->fresh_pipe[0], other, O_CLOEXEC), other);
        close(pr->fresh_pipe[0]);
        pr->fresh_pipe[0] = other;
    }
    assert_int_equal(plume_loop_watch(l, other, PLUME_EV_READ, on_fd, &pr->fresh), 0);
}

static void unwatch_inside_callback(void **state)
{
    (void)state;
    plume_loop_t *l = plume_loop_new();
    pair_t pr = {.first = -1};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pipe2(pr.fds[i], O_NONBLOCK | O_CLOEXEC), 0);
        assert_int_equal(write(pr.fds[i][1], "x", 1), 1);
        assert_int_equal(plume_loop_watch(l, pr.fds[i][0], PLUME_EV_READ, on_pair, &pr), 0);
    }
    assert_int_equal(plume_loop_run_once(l, DEADLINE_MS), 1);
    int me = pr.first;
    assert_true(me == 0 || me == 1);
    assert_int_equal(pr.c[me].calls, 1);
    assert_int_equal(pr.c[!me].calls, 0);
    assert_int_equal(pr.fresh.calls, 0);
    /* the fresh pipe works normally */
    assert_int_equal(write(pr.fresh_pipe[1], "z", 1), 1);
    assert_int_equal(plume_loop_run_once(l, DEADLINE_MS), 2); /* me (still readable) + fresh */
    assert_int_equal(pr.fresh.calls, 1);

    /* unwatching itself: no further calls although still readable */
    fctx_t self = {.l = l, .unwatch_self = 1};
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(plume_loop_unwatch(l, pr.fds[me][0]), 0);
    assert_int_equal(plume_loop_unwatch(l, pr.fresh_pipe[0]), 0);
    assert_int_equal(plume_loop_watch(l, p[0], PLUME_EV_READ, on_fd, &self), 0);
    assert_int_equal(plume_loop_run_once(l, DEADLINE_MS), 1);
    assert_int_equal(plume_loop_run_once(l, 0), 0);
    assert_int_equal(self.calls, 1);
    assert_int_equal(plume_loop_unwatch(l, p[0]), -ENOENT);

    close(p[0]);
    close(p[1]);
    close(pr.fds[me][0]);
    close(pr.fds[0][1]);
    close(pr.fds[1][1]);
    close(pr.fresh_pipe[0]);
    close(pr.fresh_pipe[1]);
    plume_loop_free(l);
}

static void watch_argument_checks(void **state)
{
    (void)state;
    plume_loop_t *l = plume_loop_new();
    fctx_t c = {0};
    assert_int_equal(plume_loop_watch(l, -1, PLUME_EV_READ, on_fd, &c), -EBADF);
    assert_int_equal(plume_loop_watch(l, 0, 8, on_fd, &c), -EINVAL);
    assert_int_equal(plume_loop_watch(l, 0, PLUME_EV_READ, NULL, &c), -EINVAL);
    assert_int_equal(plume_loop_unwatch(l, 12345), -ENOENT);
    assert_int_equal(plume_loop_unwatch(l, -3), -ENOENT);
    /* regular files cannot be polled: the kernel's error is passed on */
    char *dir = plume_test_mkdtemp();
    assert_non_null(dir);
    char path[4096];
    snprintf(path, sizeof(path), "%s/f", dir);
    int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(plume_loop_watch(l, fd, PLUME_EV_READ, on_fd, &c), -EPERM);
    assert_int_equal(plume_loop_unwatch(l, fd), -ENOENT);
    close(fd);
    plume_test_rm_rf(dir);
    free(dir);
    plume_loop_free(l);
}

/* ---- wake-up ---- */

typedef struct waker {
    plume_loop_t *l;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int round;
} waker_t;

static void *waker_main(void *arg)
{
    waker_t *w = arg;
    for (int i = 1; i <= 3; i++) {
        pthread_mutex_lock(&w->mu);
        while (w->round < i)
            pthread_cond_wait(&w->cv, &w->mu);
        pthread_mutex_unlock(&w->mu);
        plume_loop_wake(w->l);
    }
    return NULL;
}

static void wake_from_another_thread(void **state)
{
    (void)state;
    plume_loop_t *l = plume_loop_new();
    waker_t w = {.l = l, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, waker_main, &w), 0);
    for (int i = 1; i <= 3; i++) {
        pthread_mutex_lock(&w.mu);
        w.round = i;
        pthread_cond_signal(&w.cv);
        pthread_mutex_unlock(&w.mu);
        /* would block for 20 s without the wake-up */
        uint64_t t0 = mono_ms();
        assert_int_equal(plume_loop_run_once(l, 20000), 0);
        assert_true(mono_ms() - t0 < DEADLINE_MS);
    }
    pthread_join(th, NULL);
    /* wake-ups coalesce and are consumed: the next wait runs its full time */
    plume_loop_wake(l);
    plume_loop_wake(l);
    assert_int_equal(plume_loop_run_once(l, 0), 0);
    uint64_t t0 = mono_ms();
    assert_int_equal(plume_loop_run_once(l, 30), 0);
    assert_true(mono_ms() - t0 >= 25);
    plume_loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timers_fire_in_order),
        cmocka_unit_test(timer_cancel),
        cmocka_unit_test(timer_rearm),
        cmocka_unit_test(zero_delay_rearm_does_not_starve),
        cmocka_unit_test(timer_free_in_callbacks),
        cmocka_unit_test(timer_heap_order),
        cmocka_unit_test(timers_outliving_loop_are_inert),
        cmocka_unit_test(fd_readiness_pipe),
        cmocka_unit_test(unwatch_inside_callback),
        cmocka_unit_test(watch_argument_checks),
        cmocka_unit_test(wake_from_another_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
