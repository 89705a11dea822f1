/* SPDX-License-Identifier: MIT */
/* The SDK's hot-path clock (sdk/src/clock.c, clock.h): stamps increase;
 * converted stamps agree with CLOCK_REALTIME read around them, on the TSC path
 * and on the forced fallback; conversion is monotone over 100k stamps; the
 * calibration stays right across recalibrations; with chosen samples, how a
 * recalibration treats an old calibration that ran ahead (jump back at most
 * 1 us, slew at 500 ppm from where it was, follow a real step), one that ran
 * behind, and hostile samples; saturation at the ends of the range; and many
 * threads stamping and converting while another recalibrates (TSan-clean).
 * The TSC tests skip on hosts without a usable invariant TSC. */
#include "test_support.h"
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"

#define US 1000u
#define MS 1000000u
#define AGREE_NS (50u * US)

static uint64_t mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Initialises the clock on the TSC path, or skips the test when this host has
 * no usable TSC. */
static void init_tsc_or_skip(void)
{
    plume_clock_init();
    if (!plume_clock_uses_tsc()) {
        print_message("no usable invariant TSC here: skipped\n");
        skip();
    }
}

/* True (else prints why) when one fresh stamp, converted, lies within
 * AGREE_NS of CLOCK_REALTIME read right before and right after it. */
static bool stamp_agrees(void)
{
    uint64_t before = plume_clock_realtime_ns();
    uint64_t s = plume_clock_stamp();
    uint64_t after = plume_clock_realtime_ns();
    uint64_t ns = plume_clock_to_ns(s);
    if (ns + AGREE_NS >= before && ns <= after + AGREE_NS)
        return true;
    print_error("stamp %llu -> %llu ns, realtime before %llu after %llu (off by %lld ns)\n",
                (unsigned long long)s, (unsigned long long)ns, (unsigned long long)before,
                (unsigned long long)after,
                ns < before ? -(long long)(before - ns) : (long long)(ns - after));
    return false;
}

static void assert_agrees(int n)
{
    for (int i = 0; i < n; i++)
        assert_true(stamp_agrees());
}

static void stamps_increase(void **state)
{
    (void)state;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0)
            plume_clock_init();
        else
            plume_clock_init_fallback();
        uint64_t first = plume_clock_stamp(), prev = first;
        for (int i = 0; i < 10000; i++) {
            uint64_t s = plume_clock_stamp();
            assert_true(s >= prev);
            prev = s;
        }
        assert_true(prev > first);
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The median of (converted stamp - midpoint of the realtime reads around it)
 * over n stamps whose reads were < 2 us apart. */
static int64_t median_offset(int n)
{
    int64_t *d = malloc((size_t)n * sizeof *d);
    assert_non_null(d);
    for (int i = 0, tries = 0; i < n; tries++) {
        assert_true(tries < 100 * n);
        uint64_t before = plume_clock_realtime_ns();
        uint64_t s = plume_clock_stamp();
        uint64_t after = plume_clock_realtime_ns();
        if (after - before < 2u * US)
            d[i++] = (int64_t)(plume_clock_to_ns(s) - (before + (after - before) / 2));
    }
    qsort(d, (size_t)n, sizeof *d, cmp_i64);
    int64_t m = d[n / 2];
    free(d);
    return m;
}

static void tsc_path_agrees_with_realtime(void **state)
{
    (void)state;
    init_tsc_or_skip();
    assert_agrees(10000);
    /* typically within tens of ns; 1 us catches a misplaced sample instant */
    int64_t m = median_offset(1001);
    print_message("median offset after init: %lld ns\n", (long long)m);
    assert_true(m > -1000 && m < 1000);
}

static void fallback_agrees_with_realtime(void **state)
{
    (void)state;
    plume_clock_init_fallback();
    assert_false(plume_clock_uses_tsc());
    assert_agrees(10000);
    /* stamps are already ns: the conversion is the identity */
    uint64_t s = plume_clock_stamp();
    assert_true(plume_clock_to_ns(s) == s);
    assert_true(plume_clock_to_ns(12345) == 12345);
    /* nothing to calibrate, and injected samples are refused */
    assert_false(plume_clock_recalibrate());
    plume_clock_sample_t x = {1, 2, 3};
    assert_false(plume_clock_recalibrate_from(&x));
    assert_true(plume_clock_to_ns(12345) == 12345);
    /* the TSC comes back with a normal init (where the host has one) */
    plume_clock_init();
    assert_agrees(100);
}

/* 100k consecutive stamps convert to a non-decreasing sequence that spans
 * real time, before and after a recalibration (which happens after all the
 * stamps: conversion within one calibration is monotone). */
static void conversion_is_monotone(void **state)
{
    (void)state;
    init_tsc_or_skip();
    enum { N = 100000 };
    uint64_t *st = malloc(N * sizeof *st);
    assert_non_null(st);
    for (int i = 0; i < N; i++)
        st[i] = plume_clock_stamp();
    for (int round = 0; round < 2; round++) {
        uint64_t prev = plume_clock_to_ns(st[0]);
        for (int i = 1; i < N; i++) {
            uint64_t ns = plume_clock_to_ns(st[i]);
            if (ns < prev)
                fail_msg("stamp %d converts to %llu < %llu", i, (unsigned long long)ns,
                         (unsigned long long)prev);
            prev = ns;
        }
        assert_true(prev > plume_clock_to_ns(st[0]));
        plume_clock_recalibrate();
    }
    free(st);
}

/* For ~300 ms: stamps keep agreeing with the wall clock while the calibration
 * is refreshed every 20 ms (the history takes a sample every >= 250 ms). */
static void recalibrated_stamps_agree(void **state)
{
    (void)state;
    init_tsc_or_skip();
    int refreshed = 0, rounds = 0;
    uint64_t start = mono_now(), next = start;
    while (mono_now() - start < 300u * MS) {
        assert_agrees(10);
        if (mono_now() >= next) {
            refreshed += plume_clock_recalibrate();
            rounds++;
            next += 20u * MS;
            assert_agrees(10);
        }
    }
    assert_true(rounds >= 10);
    assert_true(refreshed >= rounds / 2); /* a sample is rejected only when preempted */
}

/* ---- chosen samples ---- */

/* The slope (ns per tick) of the calibration far past its slew, measured on a
 * 1e10-tick span starting `from` ticks after `tsc`. */
static double slope_after(uint64_t tsc, uint64_t from)
{
    const uint64_t span = 10000000000u;
    return (double)(plume_clock_to_ns(tsc + from + span) - plume_clock_to_ns(tsc + from)) /
           (double)span;
}

static plume_clock_sample_t must_sample(void)
{
    plume_clock_sample_t x;
    int tries = 0;
    while (!plume_clock_sample_take(&x, 1000000))
        assert_true(++tries < 100);
    return x;
}

/* Recalibrating every 1 ms for 300 ms, the rate still comes from the long
 * baseline: it matches the rate this test measures itself over the same 300 ms
 * within 2 ppm, even after a last sample 2 ms later whose monotonic time is
 * 200 ns off (over a 2 ms baseline that would be 100 ppm). */
static void rate_uses_long_baseline(void **state)
{
    (void)state;
    init_tsc_or_skip();
    plume_clock_sample_t a = must_sample();
    uint64_t next = a.mono_ns;
    while (mono_now() - a.mono_ns < 300u * MS) {
        if (mono_now() >= next) {
            plume_clock_recalibrate();
            next += MS;
        }
    }
    plume_clock_sample_t b = must_sample(), c = b;
    assert_true(plume_clock_recalibrate_from(&b));
    double own = (double)(b.mono_ns - a.mono_ns) / (double)(b.tsc - a.tsc);
    c.tsc += (uint64_t)(2e6 / own);
    c.mono_ns += 2u * MS + 200;
    c.real_ns += 2u * MS;
    assert_true(plume_clock_recalibrate_from(&c));
    double cal = slope_after(c.tsc, 100000000000u);
    double ppm = (cal / own - 1) * 1e6;
    print_message("calibrated rate vs measured: %.2f ppm\n", ppm);
    assert_true(ppm > -2 && ppm < 2);
}

/* A real sample x, and o = what the current calibration gives at its TSC. */
static plume_clock_sample_t take_sample(uint64_t *o)
{
    plume_clock_sample_t x = must_sample();
    *o = plume_clock_to_ns(x.tsc);
    return x;
}

static uint64_t ticks_for(double slope, uint64_t ns)
{
    return (uint64_t)((double)ns / slope);
}

/* The old calibration ran 200 us ahead of the wall clock: the new one starts
 * exactly where the old one was (no jump back), runs 500 ppm slow for 400 ms,
 * then follows the wall clock; non-decreasing all along. */
static void ahead_calibration_slews_without_going_back(void **state)
{
    (void)state;
    init_tsc_or_skip();
    uint64_t o;
    plume_clock_sample_t x = take_sample(&o), y = x;
    y.real_ns = o - 200u * US;
    assert_true(plume_clock_recalibrate_from(&y));
    assert_true(plume_clock_to_ns(x.tsc) == o);

    double slope = slope_after(x.tsc, 100000000000u); /* 1e11 ticks: past the slew */
    assert_true(slope > 0.05 && slope < 10);
    /* the wall clock's estimate at x.tsc + k is y.real + k * slope (ns
     * differences in integers first: a double holds ns since 1970 to 256 ns) */
    uint64_t k100 = ticks_for(slope, 100u * MS), k450 = ticks_for(slope, 450u * MS);
    double ahead100 = (double)(plume_clock_to_ns(x.tsc + k100) - y.real_ns) - 100e6;
    assert_true(ahead100 > 145e3 && ahead100 < 155e3); /* 200 us - 500 ppm * 100 ms */
    double ahead450 = (double)(plume_clock_to_ns(x.tsc + k450) - y.real_ns) - 450e6;
    assert_true(ahead450 > -10 && ahead450 < 10); /* converged */

    uint64_t prev = o, step = ticks_for(slope, 5u * US);
    for (uint64_t k = 0; k <= k450; k += step) {
        uint64_t ns = plume_clock_to_ns(x.tsc + k);
        assert_true(ns >= prev);
        prev = ns;
    }
    /* a second recalibration in mid-slew continues from where the slew is */
    plume_clock_sample_t z = y;
    z.tsc = x.tsc + k100;
    z.mono_ns = x.mono_ns + 100u * MS;
    z.real_ns = y.real_ns + 100u * MS;
    uint64_t mid = plume_clock_to_ns(z.tsc);
    assert_true(plume_clock_recalibrate_from(&z));
    assert_true(plume_clock_to_ns(z.tsc) == mid);
    assert_true(plume_clock_to_ns(z.tsc + 1) >= mid);
}

/* Ahead by at most 1 us: jump straight to the wall clock (allowed). */
static void small_error_jumps_back_at_most_1us(void **state)
{
    (void)state;
    init_tsc_or_skip();
    uint64_t o;
    plume_clock_sample_t x = take_sample(&o), y = x;
    y.real_ns = o - 500;
    assert_true(plume_clock_recalibrate_from(&y));
    uint64_t ns = plume_clock_to_ns(x.tsc);
    assert_true(ns == y.real_ns);
    assert_true(ns + 1000 >= o);
    assert_true(plume_clock_to_ns(x.tsc + 1000) >= ns);
}

/* Behind the wall clock: jump forward to it at once. */
static void behind_calibration_jumps_forward(void **state)
{
    (void)state;
    init_tsc_or_skip();
    uint64_t o;
    plume_clock_sample_t x = take_sample(&o), y = x;
    y.real_ns = o + 300u * US;
    assert_true(plume_clock_recalibrate_from(&y));
    assert_true(plume_clock_to_ns(x.tsc) == y.real_ns);
}

/* The wall clock stepped back 10 s (more than 1 ms): the conversion follows
 * it, and a real recalibration brings it back to the real wall clock. */
static void clock_step_is_followed(void **state)
{
    (void)state;
    init_tsc_or_skip();
    uint64_t o;
    plume_clock_sample_t x = take_sample(&o), y = x;
    y.real_ns = o - 10000u * MS;
    assert_true(plume_clock_recalibrate_from(&y));
    assert_true(plume_clock_to_ns(x.tsc) == y.real_ns);
    int tries = 0;
    while (!plume_clock_recalibrate())
        assert_true(++tries < 100);
    assert_agrees(1000);
}

/* The TSC jumped back (a VM moved to another host) while the clocks went on:
 * the sample is accepted, the wall clock followed from it at the old rate,
 * and the next samples calibrate from there. */
static void tsc_going_back_restarts(void **state)
{
    (void)state;
    init_tsc_or_skip();
    uint64_t o;
    plume_clock_sample_t x = take_sample(&o), y = x;
    double slope = slope_after(x.tsc, 0);
    y.tsc = x.tsc / 2;
    y.mono_ns += 1u * MS;
    y.real_ns += 1u * MS;
    assert_true(plume_clock_recalibrate_from(&y));
    assert_true(plume_clock_to_ns(y.tsc) == y.real_ns);
    plume_clock_sample_t z = y;
    z.tsc += ticks_for(slope, 10u * MS);
    z.mono_ns += 10u * MS;
    z.real_ns += 10u * MS;
    assert_true(plume_clock_recalibrate_from(&z));
    assert_true(plume_clock_to_ns(z.tsc) == z.real_ns);
    double ahead = (double)(plume_clock_to_ns(z.tsc + ticks_for(slope, 100u * MS)) - z.real_ns) - 100e6;
    assert_true(ahead > -100 && ahead < 100);
}

/* Hostile samples: an implausible rate is refused and leaves the calibration
 * as it was; a TSC or clock going backwards restarts the history; nothing
 * crashes or wraps, the conversion stays monotone, and a real sample puts it
 * right again. */
static void hostile_samples(void **state)
{
    (void)state;
    init_tsc_or_skip();
    uint64_t o;
    plume_clock_sample_t x = take_sample(&o), y = x;
    /* 10 s of monotonic time in 10 ticks: refused */
    y.tsc = x.tsc + 10;
    y.mono_ns = x.mono_ns + 10000u * MS;
    assert_false(plume_clock_recalibrate_from(&y));
    assert_true(plume_clock_to_ns(x.tsc) == o);
    /* the next real sample is behind the refused one: history restarts, the
     * rate is kept, and the conversion agrees again */
    int tries = 0;
    while (!plume_clock_recalibrate())
        assert_true(++tries < 100);
    assert_agrees(1000);

    const plume_clock_sample_t bad[] = {
        {0, 0, 0},
        {x.tsc / 2, 1, 0}, /* accepted: the epoch at a stamp far above 0 */
        {UINT64_MAX, UINT64_MAX, UINT64_MAX},
        {x.tsc, 0, UINT64_MAX},
        {UINT64_MAX - 5, x.mono_ns + 1, 0},
        {1, 1, x.real_ns},
        {x.tsc + 1000000, UINT64_MAX, x.real_ns}, /* rate far above the limit */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        plume_clock_recalibrate_from(&bad[i]);
        uint64_t prev = plume_clock_to_ns(0);
        for (int k = 1; k <= 64; k++) {
            uint64_t ns = plume_clock_to_ns(k == 64 ? UINT64_MAX : (UINT64_MAX >> (64 - k)));
            assert_true(ns >= prev);
            prev = ns;
        }
    }
    assert_false(plume_clock_recalibrate_from(NULL));
    plume_clock_init();
    assert_agrees(100);
}

/* The ends of the stamp range saturate instead of wrapping. */
static void conversion_saturates(void **state)
{
    (void)state;
    init_tsc_or_skip();
    uint64_t now = plume_clock_to_ns(plume_clock_stamp());
    assert_true(plume_clock_to_ns(0) <= now);
    assert_true(plume_clock_to_ns(UINT64_MAX) >= now);
    assert_true(plume_clock_to_ns(UINT64_MAX - 1) <= plume_clock_to_ns(UINT64_MAX));
}

/* ---- threads ---- */

enum { THREADS = 4, STAMPS_PER_THREAD = 20000 };

typedef struct worker {
    pthread_t thread;
    int bad_order, bad_wall;
} worker_t;

/* Stamps and converts; counts stamps below their predecessor, conversions more
 * than 5 us below the previous one (a recalibration between them may move
 * them back by up to 1 us), and conversions off the wall clock. */
static void *stamper(void *arg)
{
    worker_t *w = arg;
    uint64_t prev = 0, prev_ns = 0;
    for (int i = 0; i < STAMPS_PER_THREAD; i++) {
        uint64_t before = plume_clock_realtime_ns();
        uint64_t s = plume_clock_stamp();
        uint64_t after = plume_clock_realtime_ns();
        uint64_t ns = plume_clock_to_ns(s);
        if (s < prev || ns + 5u * US < prev_ns)
            w->bad_order++;
        if (ns + AGREE_NS < before || ns > after + AGREE_NS)
            w->bad_wall++;
        prev = s;
        prev_ns = ns;
    }
    return NULL;
}

static void threads_stamp_while_recalibrating(void **state)
{
    (void)state;
    plume_clock_init();
    worker_t w[THREADS] = {0};
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&w[i].thread, NULL, stamper, &w[i]), 0);
    /* recalibrate and convert concurrently until the stampers are done */
    for (int i = 0; i < THREADS; i++) {
        while (pthread_tryjoin_np(w[i].thread, NULL) != 0) {
            plume_clock_recalibrate();
            assert_true(stamp_agrees());
        }
        assert_int_equal(w[i].bad_order, 0);
        assert_int_equal(w[i].bad_wall, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stamps_increase),
        cmocka_unit_test(tsc_path_agrees_with_realtime),
        cmocka_unit_test(fallback_agrees_with_realtime),
        cmocka_unit_test(conversion_is_monotone),
        cmocka_unit_test(recalibrated_stamps_agree),
        cmocka_unit_test(ahead_calibration_slews_without_going_back),
        cmocka_unit_test(small_error_jumps_back_at_most_1us),
        cmocka_unit_test(behind_calibration_jumps_forward),
        cmocka_unit_test(clock_step_is_followed),
        cmocka_unit_test(rate_uses_long_baseline),
        cmocka_unit_test(tsc_going_back_restarts),
        cmocka_unit_test(hostile_samples),
        cmocka_unit_test(conversion_saturates),
        cmocka_unit_test(threads_stamp_while_recalibrating),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
