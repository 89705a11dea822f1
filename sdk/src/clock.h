/* SPDX-License-Identifier: MIT */
/* The SDK's hot-path clock. A log call takes a raw stamp with
 * plume_clock_stamp(): on x86-64 with an invariant TSC it is the CPU's time-stamp
 * counter (one rdtsc and one global read, no syscall); elsewhere, or when the
 * TSC failed the checks at init, it is clock_gettime(CLOCK_REALTIME) in ns. The
 * worker turns stamps into ns since the Unix epoch with plume_clock_to_ns(),
 * from a calibration it refreshes with plume_clock_recalibrate() every few
 * hundred ms (it follows NTP slewing, drift and clock steps).
 *
 * Lifetime: plume_clock_init() once, before any thread takes a stamp (a stamp
 * taken before it is a realtime ns value that the TSC path would misread), and
 * again only while no other thread uses the clock. Then plume_clock_stamp()
 * from any thread, plume_clock_to_ns() from any thread (normally the worker),
 * plume_clock_recalibrate() from any thread (normally the worker; writers are
 * serialised internally).
 *
 * Guarantees of plume_clock_to_ns() on the TSC path: it is monotone
 * (non-decreasing) in the stamp for one calibration, and for stamps taken after
 * a recalibration its result is never more than 1 us below what the previous
 * calibration gave for any earlier stamp, unless the wall clock itself was
 * stepped back by more than 1 ms (then the conversion follows the wall clock).
 * clock.c explains how. Stamps from different cores compare as well as the
 * kernel keeps their TSCs in sync (tens of ns on current hardware). */
#ifndef PLUME_SDK_CLOCK_H
#define PLUME_SDK_CLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* True when stamps are TSC ticks, false when they are realtime ns. Written by
 * plume_clock_init*() only; read (relaxed: a plain load) on the hot path. */
extern atomic_bool plume_clock_use_tsc;

/* The current CLOCK_REALTIME in ns since the epoch (0 before 1970). */
static inline uint64_t plume_clock_realtime_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Hot path, any thread: a raw stamp, TSC ticks or realtime ns (see
 * plume_clock_uses_tsc()). No syscall, lock or shared write on the TSC path.
 * rdtsc is deliberately not fenced: a log stamp need not order against the
 * loads and stores around it, and the fence would double its cost. */
static inline uint64_t plume_clock_stamp(void)
{
#if defined(__x86_64__)
    if (__builtin_expect(atomic_load_explicit(&plume_clock_use_tsc, memory_order_relaxed), 1))
        return __builtin_ia32_rdtsc();
#endif
    return plume_clock_realtime_ns();
}

/* Once, at init (not hot; takes about 5 ms): uses the TSC when the CPU is
 * x86-64, cpuid reports an invariant TSC (0x80000007:EDX[8]) and the TSC
 * advances at one plausible rate (0.1-20 GHz) against CLOCK_MONOTONIC over two
 * consecutive ~2.5 ms intervals (within 1%); then takes the first calibration.
 * Otherwise stamps fall back to CLOCK_REALTIME. */
void plume_clock_init(void);
/* Like plume_clock_init() but never uses the TSC: stamps are realtime ns and
 * plume_clock_to_ns() is the identity. For tests, and for hosts whose TSC is
 * known to be unreliable although it claims to be invariant. */
void plume_clock_init_fallback(void);
/* True when plume_clock_stamp() returns TSC ticks. */
bool plume_clock_uses_tsc(void);

/* Any thread (normally the worker): the stamp as ns since the Unix epoch
 * (CLOCK_REALTIME). Identity on the fallback path. Any 64-bit value is
 * accepted: results saturate at 0 and UINT64_MAX instead of wrapping. */
uint64_t plume_clock_to_ns(uint64_t stamp);

/* Worker, every few hundred ms (not hot: a few us): takes a fresh (TSC,
 * CLOCK_MONOTONIC, CLOCK_REALTIME) sample and refreshes the calibration.
 * Returns true when the calibration was refreshed; false on the fallback path
 * or when the sample was rejected (the thread was preempted while taking it,
 * or the TSC rate it implies is implausible); the previous calibration then
 * stays in force and the next call tries again. */
bool plume_clock_recalibrate(void);

/* ---- test hooks: feeding chosen samples to the calibration ---- */

/* One calibration sample: a TSC value and the two clocks read at (nearly) the
 * same instant. */
typedef struct plume_clock_sample {
    uint64_t tsc;     /* midpoint of the two TSC reads around the clocks */
    uint64_t mono_ns; /* CLOCK_MONOTONIC */
    uint64_t real_ns; /* CLOCK_REALTIME */
} plume_clock_sample_t;

/* Takes the best of several back-to-back samples (smallest TSC gap around the
 * clock reads). Returns false when even the best gap exceeded `max_gap_ticks`
 * or the clocks failed (*out is then unspecified). x86-64 only; false
 * elsewhere. */
bool plume_clock_sample_take(plume_clock_sample_t *out, uint64_t max_gap_ticks);
/* plume_clock_recalibrate() with a given sample instead of a fresh one. Same
 * return value; any sample, even a hostile one, leaves a usable calibration. */
bool plume_clock_recalibrate_from(const plume_clock_sample_t *s);

#endif
