/* SPDX-License-Identifier: MIT */
/* The SDK's clock, slow side: deciding at init whether stamps are TSC ticks,
 * calibrating the TSC against the system clocks, and converting stamps to ns
 * since the epoch on the worker (the hot side is plume_clock_stamp() in
 * clock.h).
 *
 * Calibration. A sample is a TSC value with CLOCK_MONOTONIC and CLOCK_REALTIME
 * read between two fenced TSC reads; of several tries the one with the smallest
 * TSC gap wins, and its TSC midpoint stands for the instant of both clocks. The
 * rate (ns per tick) comes from the span between the new sample and the oldest
 * of a short history (the first sample, then one kept every >= 250 ms, up to 8:
 * a baseline of ~2 s that still follows NTP frequency changes). It is measured
 * against CLOCK_MONOTONIC, which NTP slews like CLOCK_REALTIME but never steps,
 * so a step of the wall clock cannot distort the rate. The offset comes from
 * CLOCK_REALTIME at the new sample.
 *
 * Conversion is fixed point: ns = base_ns + ((stamp - base_tsc) * mult) >> 40,
 * with a 128-bit product (mult is ns per tick << 40: 0.05-10 ns per tick, so
 * 2^-40 ns per tick is about 1e-12 relative and the product never overflows),
 * and saturates instead of wrapping. A calibration is one or two such lines
 * joined end to end: a "slew" line from (base_tsc, base_ns) to (end_tsc,
 * end_ns), then the estimated line beyond end_tsc; end_ns is computed from the
 * first line itself, so the two meet exactly and the whole function is
 * non-decreasing.
 *
 * No backward jump across a recalibration. Let o be what the old calibration
 * gives at the new sample's TSC and rt the new sample's realtime. If o <= rt +
 * 1 us, the new calibration is simply the estimated line through (tsc, rt): for
 * stamps after the sample it starts at rt >= o - 1 us (a forward jump is
 * harmless). If the old calibration ran ahead by more than 1 us but at most
 * 1 ms (calibration error: a short initial baseline, an NTP frequency change),
 * the new calibration starts exactly at (tsc, o) and runs 500 ppm slower than
 * the estimate until it meets it (after 2000 times the error), so it never goes
 * back and still converges. More than 1 ms ahead means the wall clock itself
 * was stepped back; the conversion then follows it. Stamps taken after the
 * sample are later than its TSC, so none of them converts below o - 1 us.
 *
 * Publication: the calibration is published with a sequence lock whose fields
 * are atomics (release stores by the writer, acquire loads by readers: plain
 * moves on x86-64, no fences, TSan-clean), so plume_clock_to_ns() may run on
 * any thread. Writers (init, recalibrate) are serialised by a mutex that also
 * guards the writer-side state (history, current calibration). */
#include "clock.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#define SHIFT 40
#define MULT_MIN ((UINT64_C(1) << SHIFT) / 20) /* 0.05 ns per tick: 20 GHz */
#define MULT_MAX (UINT64_C(10) << SHIFT)       /* 10 ns per tick: 100 MHz */
#define SAMPLE_TRIES 16
#define MAX_GAP_NS 20000u          /* reject a sample whose best gap is longer */
#define INIT_MAX_GAP_TICKS 100000u /* the same before the rate is known (20 us at 5 GHz) */
#define INIT_INTERVAL_NS 2500000u  /* two intervals this long at init */
#define INIT_ATTEMPTS 3
#define INIT_AGREEMENT_DIV 100u /* the two init rates agree within 1/100 */
#define HISTORY 8
#define HISTORY_SPACING_NS 250000000u
#define MIN_RATE_SPAN_NS 1000000u /* a shorter baseline keeps the previous rate */
#define JUMP_BACK_MAX_NS 1000u
#define STEP_NS 1000000u
#define SLEW_FACTOR 2000u /* slew lasts 2000 x the error: 500 ppm */

__extension__ typedef unsigned __int128 u128;

/* One calibration (see the file comment): a slew line up to end_tsc, then the
 * estimated line. Without a slew, end == base and mult1 == mult2. */
typedef struct calib {
    uint64_t base_tsc, base_ns, mult1;
    uint64_t end_tsc, end_ns, mult2;
} calib_t;

#define CALIB_FIELDS 6

atomic_bool plume_clock_use_tsc;

static struct {
    atomic_uint seq; /* odd while a writer is updating the fields */
    _Atomic uint64_t f[CALIB_FIELDS];
} published;

static pthread_mutex_t writer_lock = PTHREAD_MUTEX_INITIALIZER;
/* Writer-side state, guarded by writer_lock. */
static calib_t current;
static plume_clock_sample_t history[HISTORY]; /* oldest at history_first */
static unsigned history_first, history_len;
static plume_clock_sample_t last_sample;

/* d ticks at `mult` ns per tick << SHIFT, in ns, saturated. */
static uint64_t scale(uint64_t d, uint64_t mult)
{
    u128 p = ((u128)d * mult) >> SHIFT;
    return p > UINT64_MAX ? UINT64_MAX : (uint64_t)p;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_sub(uint64_t a, uint64_t b)
{
    return a < b ? 0 : a - b;
}

/* The calibration's value at `stamp`: non-decreasing in stamp (each piece
 * is, and they meet at end_tsc). */
static uint64_t calib_eval(const calib_t *c, uint64_t stamp)
{
    if (stamp > c->end_tsc)
        return sat_add(c->end_ns, scale(stamp - c->end_tsc, c->mult2));
    if (stamp >= c->base_tsc)
        return sat_add(c->base_ns, scale(stamp - c->base_tsc, c->mult1));
    return sat_sub(c->base_ns, scale(c->base_tsc - stamp, c->mult1));
}

/* The plain line through (tsc, ns) with `mult`, no slew. */
static calib_t calib_line(uint64_t tsc, uint64_t ns, uint64_t mult)
{
    return (calib_t){tsc, ns, mult, tsc, ns, mult};
}

/* Writer (holding writer_lock): publishes *c to the readers. */
static void calib_publish(const calib_t *c)
{
    const uint64_t v[CALIB_FIELDS] = {c->base_tsc, c->base_ns, c->mult1,
                                      c->end_tsc,  c->end_ns,  c->mult2};
    unsigned s = atomic_load_explicit(&published.seq, memory_order_relaxed);
    atomic_store_explicit(&published.seq, s + 1, memory_order_relaxed);
    /* release: a reader that sees any new field also sees the odd seq */
    for (int i = 0; i < CALIB_FIELDS; i++)
        atomic_store_explicit(&published.f[i], v[i], memory_order_release);
    atomic_store_explicit(&published.seq, s + 2, memory_order_release);
}

/* Reader, any thread: a consistent copy of the published calibration. Spins
 * only while a writer is between its two seq stores (a few stores long). */
static void calib_read(calib_t *c)
{
    uint64_t v[CALIB_FIELDS];
    for (;;) {
        unsigned s1 = atomic_load_explicit(&published.seq, memory_order_acquire);
        if (!(s1 & 1)) {
            /* acquire: the second seq load cannot move above these */
            for (int i = 0; i < CALIB_FIELDS; i++)
                v[i] = atomic_load_explicit(&published.f[i], memory_order_acquire);
            if (atomic_load_explicit(&published.seq, memory_order_relaxed) == s1)
                break;
        }
#if defined(__x86_64__)
        __builtin_ia32_pause();
#endif
    }
    *c = (calib_t){v[0], v[1], v[2], v[3], v[4], v[5]};
}

#if defined(__x86_64__)
static uint64_t timespec_ns(const struct timespec *ts)
{
    if (ts->tv_sec < 0)
        return 0;
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

/* rdtsc that neither starts before the preceding instructions finish nor lets
 * later ones start early (lfence is dispatch-serialising on Intel and on AMD
 * as Linux configures it). Only for calibration samples. */
static inline uint64_t tsc_ordered(void)
{
    __builtin_ia32_lfence();
    uint64_t t = __builtin_ia32_rdtsc();
    __builtin_ia32_lfence();
    return t;
}

/* True when cpuid says the TSC exists and is invariant (constant rate in every
 * P-, C- and T-state). */
static bool tsc_invariant(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(d & (1u << 4)))
        return false;
    if ((unsigned)__get_cpuid_max(0x80000000u, NULL) < 0x80000007u) /* int in clang */
        return false;
    if (!__get_cpuid(0x80000007u, &a, &b, &c, &d))
        return false;
    return (d & (1u << 8)) != 0;
}
#else
static bool tsc_invariant(void)
{
    return false;
}
#endif

/* Takes SAMPLE_TRIES samples and keeps the one with the smallest TSC gap
 * around the two clock reads; the gap bounds how far either clock can be from
 * the TSC midpoint. Any thread. */
bool plume_clock_sample_take(plume_clock_sample_t *out, uint64_t max_gap_ticks)
{
#if defined(__x86_64__)
    uint64_t best_gap = UINT64_MAX;
    for (int i = 0; i < SAMPLE_TRIES; i++) {
        struct timespec m, r;
        uint64_t t1 = tsc_ordered();
        if (clock_gettime(CLOCK_MONOTONIC, &m) != 0 || clock_gettime(CLOCK_REALTIME, &r) != 0)
            return false;
        uint64_t t2 = tsc_ordered();
        if (t2 < t1) /* moved to a core whose TSC is behind: useless */
            continue;
        if (t2 - t1 < best_gap) {
            best_gap = t2 - t1;
            out->tsc = t1 + best_gap / 2;
            out->mono_ns = timespec_ns(&m);
            out->real_ns = timespec_ns(&r);
        }
    }
    return best_gap <= max_gap_ticks;
#else
    (void)out;
    (void)max_gap_ticks;
    return false;
#endif
}

/* The rate between two samples as ns per tick << SHIFT, into *mult. False
 * when b is not after a on both the TSC and the monotonic clock, or the rate
 * is outside [MULT_MIN, MULT_MAX] (0.1-20 GHz). */
static bool rate_between(const plume_clock_sample_t *a, const plume_clock_sample_t *b,
                         uint64_t *mult)
{
    if (b->tsc <= a->tsc || b->mono_ns <= a->mono_ns)
        return false;
    u128 m = ((u128)(b->mono_ns - a->mono_ns) << SHIFT) / (b->tsc - a->tsc);
    if (m < MULT_MIN || m > MULT_MAX)
        return false;
    *mult = (uint64_t)m;
    return true;
}

/* Sleeps until CLOCK_MONOTONIC reaches `deadline` (restarts after signals). */
static void sleep_until(uint64_t deadline)
{
    struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000u),
                          .tv_nsec = (long)(deadline % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static void history_reset(const plume_clock_sample_t *s)
{
    history[0] = *s;
    history_first = 0;
    history_len = 1;
}

/* Appends s when it is at least HISTORY_SPACING_NS after the newest entry,
 * dropping the oldest when full. */
static void history_push(const plume_clock_sample_t *s)
{
    if (history_len == 0) {
        history_reset(s);
        return;
    }
    const plume_clock_sample_t *newest = &history[(history_first + history_len - 1) % HISTORY];
    if (s->mono_ns - newest->mono_ns < HISTORY_SPACING_NS)
        return;
    if (history_len == HISTORY) {
        history_first = (history_first + 1) % HISTORY;
        history_len--;
    }
    history[(history_first + history_len) % HISTORY] = *s;
    history_len++;
}

/* Writer: tries to take the first calibration. Three samples ~2.5 ms apart;
 * the two rates must be plausible and agree within 1%, else the TSC is not
 * trusted. On success sets current, history and last_sample. */
static bool calibrate_first(void)
{
    for (int attempt = 0; attempt < INIT_ATTEMPTS; attempt++) {
        plume_clock_sample_t a, b, c;
        uint64_t r1, r2, mult;
        if (!plume_clock_sample_take(&a, INIT_MAX_GAP_TICKS))
            continue;
        sleep_until(a.mono_ns + INIT_INTERVAL_NS);
        if (!plume_clock_sample_take(&b, INIT_MAX_GAP_TICKS))
            continue;
        sleep_until(b.mono_ns + INIT_INTERVAL_NS);
        if (!plume_clock_sample_take(&c, INIT_MAX_GAP_TICKS))
            continue;
        if (!rate_between(&a, &b, &r1) || !rate_between(&b, &c, &r2) ||
            !rate_between(&a, &c, &mult))
            continue;
        uint64_t hi = r1 > r2 ? r1 : r2, lo = r1 > r2 ? r2 : r1;
        if (hi - lo > hi / INIT_AGREEMENT_DIV)
            continue;
        current = calib_line(c.tsc, c.real_ns, mult);
        history_reset(&a);
        last_sample = c;
        return true;
    }
    return false;
}

/* Both inits: decide the source under the writer lock and publish it. */
static void clock_init(bool allow_tsc)
{
    pthread_mutex_lock(&writer_lock);
    atomic_store_explicit(&plume_clock_use_tsc, false, memory_order_relaxed);
    bool tsc = allow_tsc && tsc_invariant() && calibrate_first();
    if (tsc) {
        calib_publish(&current);
        /* release: a reader that sees the flag sees the calibration */
        atomic_store_explicit(&plume_clock_use_tsc, true, memory_order_release);
    } else {
        memset(&current, 0, sizeof current);
        history_len = 0;
    }
    pthread_mutex_unlock(&writer_lock);
}

void plume_clock_init(void)
{
    clock_init(true);
}

void plume_clock_init_fallback(void)
{
    clock_init(false);
}

bool plume_clock_uses_tsc(void)
{
    return atomic_load_explicit(&plume_clock_use_tsc, memory_order_acquire);
}

uint64_t plume_clock_to_ns(uint64_t stamp)
{
    if (!atomic_load_explicit(&plume_clock_use_tsc, memory_order_acquire))
        return stamp;
    calib_t c;
    calib_read(&c);
    return calib_eval(&c, stamp);
}

/* The calibration that follows `old` given sample s and rate `mult` (see the
 * file comment: jump when the old one is behind or at most 1 us ahead, slew
 * from where it is when 1 us - 1 ms ahead, follow a step beyond that). */
static calib_t calib_next(const calib_t *old, const plume_clock_sample_t *s, uint64_t mult)
{
    calib_t c = calib_line(s->tsc, s->real_ns, mult);
    uint64_t o = calib_eval(old, s->tsc);
    if (o <= s->real_ns || o - s->real_ns <= JUMP_BACK_MAX_NS || o - s->real_ns > STEP_NS)
        return c;
    uint64_t err = o - s->real_ns;
    uint64_t span_ticks = (uint64_t)((((u128)err * SLEW_FACTOR) << SHIFT) / mult);
    if (span_ticks == 0 || s->tsc > UINT64_MAX - span_ticks)
        return c; /* hostile values: the plain line is still monotone */
    uint64_t target = sat_add(s->real_ns, scale(span_ticks, mult));
    if (target <= o)
        return c;
    u128 m1 = ((u128)(target - o) << SHIFT) / span_ticks;
    c.base_ns = o;
    c.mult1 = m1 > UINT64_MAX ? UINT64_MAX : (uint64_t)m1;
    c.end_tsc = s->tsc + span_ticks;
    c.end_ns = sat_add(o, scale(span_ticks, c.mult1)); /* exactly where line 1 ends */
    return c;
}

/* Writer: the rate for sample s from the history, updating the history. A TSC
 * or monotonic clock that did not move forward since the last sample (VM
 * migration, resume, a hostile sample) restarts the history and keeps the
 * previous rate; an implausible rate restarts it and rejects the sample. */
static bool rate_update(const plume_clock_sample_t *s, uint64_t *mult)
{
    if (history_len == 0 || s->tsc <= last_sample.tsc || s->mono_ns <= last_sample.mono_ns) {
        history_reset(s);
        return true;
    }
    const plume_clock_sample_t *ref = &history[history_first];
    if (s->mono_ns - ref->mono_ns >= MIN_RATE_SPAN_NS && !rate_between(ref, s, mult)) {
        history_reset(s);
        return false;
    }
    history_push(s);
    return true;
}

bool plume_clock_recalibrate_from(const plume_clock_sample_t *s)
{
    bool ok = false;
    pthread_mutex_lock(&writer_lock);
    if (atomic_load_explicit(&plume_clock_use_tsc, memory_order_relaxed) && s) {
        uint64_t mult = current.mult2;
        ok = rate_update(s, &mult);
        last_sample = *s;
        if (ok) {
            current = calib_next(&current, s, mult);
            calib_publish(&current);
        }
    }
    pthread_mutex_unlock(&writer_lock);
    return ok;
}

bool plume_clock_recalibrate(void)
{
    if (!atomic_load_explicit(&plume_clock_use_tsc, memory_order_relaxed))
        return false;
    /* MAX_GAP_NS in ticks at the current rate (a racy read of current.mult2 is
     * avoided by using the published one) */
    calib_t c;
    calib_read(&c);
    uint64_t max_gap = (uint64_t)(((u128)MAX_GAP_NS << SHIFT) / (c.mult2 ? c.mult2 : MULT_MAX));
    plume_clock_sample_t s;
    if (!plume_clock_sample_take(&s, max_gap))
        return false;
    return plume_clock_recalibrate_from(&s);
}
