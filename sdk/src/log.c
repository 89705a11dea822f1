/* SPDX-License-Identifier: MIT */
/* The log call's hot path: level check, the thread's ring, one record.
 *
 * Cost budget ~25 ns: no lock, no syscall, no atomic read-modify-write on the
 * way in. A call the ring cannot take is dropped and counted in the thread's
 * state; the next call that finds room first writes a "dropped N" record, so
 * the loss shows up in the event stream itself. A call made while one is in
 * progress on the same thread (a signal handler interrupting a log call)
 * backs off and is counted, so it cannot corrupt the record being written.
 * A breadcrumb is the same kind of record (with a category) in the same ring:
 * the worker keeps the most recent ones for the error events. A captured
 * error (capture.c) is one more record kind, written here too
 * (plume_capture_put), after the error sample rate (plume_capture_accepts). */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "capture.h"
#include "clock.h"
#include "plume/plume.h"
#include "record.h"
#include "overlay.h"
#include "sdk_state.h"
#include "site.h"
#include "thread.h"

/* The runtime floor the PLUME_* macros check before calling in. Before
 * plume_init() it lets everything through, so early calls are counted. */
PLUME_API int plume_min_level_ = PLUME_LEVEL_TRACE;

plume_sdk_state_t plume_sdk = {.wake_fd = -1};

/* The lowest level the fast paths take (plume_hot.h): the minimum level
 * while running without sampling and (on x86-64) with TSC stamps, else
 * PLUME_HOT_OFF_. One load instead of four checks. */
PLUME_API int plume_hot1_floor_ = PLUME_HOT_OFF_;

void plume_sdk_wake(void)
{
    int fd = plume_sdk.wake_fd;
    if (fd >= 0) {
        uint64_t one = 1;
        ssize_t r = write(fd, &one, sizeof(one));
        (void)r; /* a full counter already means "wake" */
    }
}

void plume_sdk_set_running(bool on, size_t ring_size, int min_level, double sample_rate)
{
    if (on) {
        plume_sdk.ring_size = ring_size;
        plume_sdk.max_record = ring_size / 4;
        plume_sdk.sampling = sample_rate < 1.0;
        plume_sdk.sample_threshold = (uint32_t)(sample_rate * 4294967295.0);
        __atomic_store_n(&plume_min_level_, min_level, __ATOMIC_RELAXED);
    } else {
        __atomic_store_n(&plume_min_level_, PLUME_LEVEL_TRACE, __ATOMIC_RELAXED);
        __atomic_store_n(&plume_hot1_floor_, PLUME_HOT_OFF_, __ATOMIC_RELAXED);
    }
    atomic_store_explicit(&plume_sdk.running, on, memory_order_release);
    if (on) { /* after running: a call the fast path takes finds it set */
        bool fast = !plume_sdk.sampling;
#if defined(PLUME_HOT_AVAILABLE_)
        fast = fast && plume_clock_uses_tsc(); /* the fast path stamps with rdtsc */
#else
        fast = false;
#endif
        __atomic_store_n(&plume_hot1_floor_, fast ? min_level : PLUME_HOT_OFF_,
                         __ATOMIC_RELEASE);
    }
}

/* Writes the "dropped N" record for drops not yet reported; keeps counting
 * them when even that does not fit. */
static void report_drops(plume_thread_t *t)
{
    size_t n = plume_record_drops(NULL, 0, t->ring->prod->unreported_drops);
    void *p = plume_ring_reserve(t->ring, n);
    if (!p)
        return;
    plume_record_drops(p, plume_clock_stamp(), t->ring->prod->unreported_drops);
    plume_ring_commit(t->ring, n);
    t->ring->prod->unreported_drops = 0;
}

/* Per-thread xorshift for sampling: no shared state. */
static __thread uint32_t sample_state;

static inline bool sampled_out(uint32_t threshold)
{
    uint32_t x = sample_state ? sample_state : (uint32_t)(uintptr_t)&sample_state | 1u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    sample_state = x;
    return x >= threshold;
}

/* The error sample rate (plume_capture_configure): set before the SDK runs,
 * read by every error-level call (relaxed: a plain load). */
static bool error_sampling;         /* error_sample_rate < 1 */
static uint32_t error_sample_threshold; /* keep an error when rand32 < this */

void plume_capture_configure(double rate)
{
    if (!(rate >= 0.0))
        rate = 0.0;
    if (rate > 1.0)
        rate = 1.0;
    __atomic_store_n(&error_sample_threshold, (uint32_t)(rate * 4294967295.0), __ATOMIC_RELAXED);
    __atomic_store_n(&error_sampling, rate < 1.0, __ATOMIC_RELAXED);
}

/* The draw, out of line: kept off the log call's own code, so that the
 * registers it needs do not cost the common (non-error) path anything. */
__attribute__((noinline, cold)) static bool error_draw(void)
{
    return sampled_out(__atomic_load_n(&error_sample_threshold, __ATOMIC_RELAXED));
}

/* True when an error-level event should be dropped by the error sample rate. */
static inline bool error_sampled_out(void)
{
    return __atomic_load_n(&error_sampling, __ATOMIC_RELAXED) && error_draw();
}

/* The start of every write into the calling thread's ring: its state, with
 * the in-progress flag set and earlier drops reported; NULL (counted) when
 * the thread has no ring or a call is already in progress on it. */
__attribute__((always_inline)) static inline plume_thread_t *ring_enter(void)
{
    plume_thread_t *t = plume_thread_get(plume_sdk.ring_size, plume_sdk.max_record);
    if (__builtin_expect(!t, 0)) {
        atomic_fetch_add_explicit(&plume_sdk.attach_failures, 1, memory_order_relaxed);
        return NULL;
    }
    if (t->ring->prod->busy) { /* re-entered from a signal handler on this thread */
        atomic_store_explicit(&t->reentrant,
                              atomic_load_explicit(&t->reentrant, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        return NULL;
    }
    t->ring->prod->busy = 1;
    atomic_signal_fence(memory_order_seq_cst); /* the flag is set before the ring is touched */
    if (__builtin_expect(t->ring->prod->unreported_drops != 0, 0))
        report_drops(t);
    return t;
}

/* A record the ring refused: counted. */
static void ring_refused(plume_thread_t *t, bool breadcrumb)
{
    if (breadcrumb) {
        /* not an event: counted on its own, not in the "dropped N" event */
        atomic_fetch_add_explicit(&plume_sdk.crumb_drops, 1, memory_order_relaxed);
        return;
    }
    t->ring->prod->unreported_drops++;
    atomic_fetch_add_explicit(&plume_sdk.ring_drops, 1, memory_order_relaxed);
    atomic_store_explicit(&t->drops, atomic_load_explicit(&t->drops, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* The end of a write: the flag cleared, and the worker woken early for
 * errors, and for a ring more than half full when it is asleep (it polls
 * otherwise; a busy worker drains again within 1 ms, and writing to its
 * eventfd would cost this call a syscall for nothing). */
__attribute__((always_inline)) static inline void ring_leave(plume_thread_t *t, plume_level_t level)
{
    atomic_signal_fence(memory_order_seq_cst);
    t->ring->prod->busy = 0;
    if (level >= PLUME_LEVEL_ERROR) /* breadcrumbs are info: never here */
        plume_sdk_wake();
    else if (plume_ring_over_half(t->ring) &&
             atomic_load_explicit(&plume_sdk.worker_waiting, memory_order_relaxed))
        plume_sdk_wake();
}

/* The ordinary path of a log call, a breadcrumb and a captured error: the
 * record (record.h) into the thread's ring, or a counted drop. */
static void put_record(plume_level_t level, const char *message, unsigned message_size,
                       const plume_field_t *fields, size_t nfields,
                       const plume_record_extra_t *extra)
{
    /* The stamp first: rdtsc takes ~25 cycles to deliver, which the CPU
     * overlaps with the measuring below instead of waiting for it at the
     * write. */
    uint64_t stamp = plume_clock_stamp();
    plume_thread_t *t = ring_enter();
    if (!t)
        return;
    plume_record_lens_t lens;
    size_t n = plume_record_measure(message, message_size, fields, nfields, extra, &lens);
    void *p = plume_ring_reserve(t->ring, n);
    if (__builtin_expect(p != NULL, 1)) {
        plume_record_write(p, stamp, level, message, fields, extra, &lens);
        plume_ring_commit(t->ring, n);
    } else {
        ring_refused(t, extra && extra->breadcrumb);
    }
    ring_leave(t, level);
}

/* The fast path of a call whose site is learned (site.h): a site record, or
 * false when the call does not match its site (the caller then takes the
 * ordinary path). */
__attribute__((always_inline)) static inline bool put_site_record(const plume_site_desc_t *d, plume_level_t level,
                                   const char *message, const plume_field_t *fields,
                                   size_t nfields, const plume_record_extra_t *overlay)
{
    uint64_t stamp = plume_clock_stamp();
    uint32_t str_len[PLUME_MAX_FIELDS];
    size_t n = plume_site_measure(d, message, fields, nfields, overlay ? overlay->pairs_len : 0,
                                  str_len);
    if (__builtin_expect(n == 0, 0))
        return false;
    plume_thread_t *t = ring_enter();
    if (!t)
        return true;
    void *p = plume_ring_reserve(t->ring, n);
    if (__builtin_expect(p != NULL, 1)) {
        plume_site_write(p, d, stamp, level, fields, str_len, overlay);
        plume_ring_commit(t->ring, n);
    } else {
        ring_refused(t, plume_site_rest(d)->breadcrumb);
    }
    ring_leave(t, level);
    return true;
}

/* The site's descriptor, learning it on its first call; NULL for the
 * ordinary path. */
static inline const plume_site_desc_t *site_desc(plume_site_t *site, bool breadcrumb,
                                                 const char *category, unsigned category_size,
                                                 const char *message, unsigned message_size,
                                                 const plume_field_t *fields, size_t nfields)
{
    if (!site)
        return NULL;
    void *d = plume_site_peek(site);
    if (__builtin_expect(d == NULL, 0))
        return plume_site_learn(site, breadcrumb, category, category_size, message,
                                message_size, fields, nfields);
    return d == PLUME_SITE_ORDINARY ? NULL : d;
}

/* False (and counted) when the SDK is not running. */
static inline bool running(void)
{
    if (__builtin_expect(atomic_load_explicit(&plume_sdk.running, memory_order_acquire), 1))
        return true;
    atomic_fetch_add_explicit(&plume_sdk.idle_calls, 1, memory_order_relaxed);
    return false;
}

/* The log call behind plume_log() and the macros' plume_log_site_() (one
 * body, inlined into both: the library's exported functions may be
 * interposed, so one calling the other would not be inlined). */
static inline void log_call(plume_site_t *site, plume_level_t level, const char *message,
                            unsigned message_size, const plume_field_t *fields, size_t nfields)
{
    if ((unsigned)level > PLUME_LEVEL_FATAL ||
        (int)level < __atomic_load_n(&plume_min_level_, __ATOMIC_RELAXED) || !running())
        return;
    if (__builtin_expect(level >= PLUME_LEVEL_ERROR, 0)) {
        if (error_sampled_out()) /* errors: their own rate; sample_rate keeps them all */
            return;
    } else if (plume_sdk.sampling && sampled_out(plume_sdk.sample_threshold)) {
        return;
    }
    /* the thread's scope overlay, read once (a push/pop publishes it in one store) */
    uint64_t state = plume_hot1_thread_.overlay;
    plume_record_extra_t extra, *overlay = NULL;
    if (__builtin_expect(state != 0, 0)) {
        atomic_signal_fence(memory_order_seq_cst); /* the state before the bytes it covers */
        extra = (plume_record_extra_t){.pairs = plume_overlay.bytes,
                                       .pairs_len = (uint32_t)(state >> 32),
                                       .npairs = (uint32_t)state};
        overlay = &extra;
    }
    const plume_site_desc_t *d =
        site_desc(site, false, NULL, 0, message, message_size, fields, nfields);
    if (d && put_site_record(d, level, message, fields, nfields, overlay))
        return;
    put_record(level, message, message_size, fields, nfields, overlay);
}

/* The complete path of a macro's log call, out of line: the fast path below
 * hands over to it (a tail call) whenever it is not sure. */
__attribute__((noinline)) static void log_site_call(plume_site_t *site, plume_level_t level,
                                                   const char *message, unsigned message_size,
                                                   const plume_field_t *fields, size_t nfields)
{
    log_call(site, level, message, message_size, fields, nfields);
}

#if defined(PLUME_HOT_AVAILABLE_)
/* plume_hot_put_() with the common field counts made constants, so that
 * each copy unrolls (the types stay unknown here). */
__attribute__((always_inline)) static inline int
hot_put(plume_site_t *site, int level, int breadcrumb, const char *category, const char *message,
        const plume_field_t *fields, size_t nfields, const unsigned char *overlay_bytes)
{
    switch (nfields) {
#define PLUME_HOT_PUT_N_(n)                                                                        \
    case n: return plume_hot_put_(site, level, breadcrumb, category, message, fields, n, overlay_bytes)
    PLUME_HOT_PUT_N_(0);
    PLUME_HOT_PUT_N_(1);
    PLUME_HOT_PUT_N_(2);
    PLUME_HOT_PUT_N_(3);
    PLUME_HOT_PUT_N_(4);
#undef PLUME_HOT_PUT_N_
    default:
        return plume_hot_put_(site, level, breadcrumb, category, message, fields, nfields,
                              overlay_bytes);
    }
}
#endif

/* The macros' entry point, for what their inline fast path (plume_hot.h)
 * did not take, or all their calls when it is not compiled in: the same
 * fast path here, with the thread's overlay, then the complete path (a tail
 * call: the fast path keeps no frame). */
PLUME_API void plume_log_site_(plume_site_t *site, plume_level_t level, const char *message,
                               unsigned message_size, const plume_field_t *fields,
                               size_t nfields)
{
#if defined(PLUME_HOT_AVAILABLE_)
    if (__builtin_expect(site != NULL, 1) &&
        hot_put(site, (int)level, 0, NULL, message, fields, nfields, plume_overlay.bytes))
        return;
#endif
    return log_site_call(site, level, message, message_size, fields, nfields);
}

/* The inline fast path found the calling thread's ring over half full (by
 * its cached view of the consumer): wake the worker if it sleeps. */
PLUME_API void plume_hot1_filling_(void)
{
    plume_producer_t *p = &plume_hot1_thread_.prod;
    if (p->data && plume_producer_over_half(p) &&
        atomic_load_explicit(&plume_sdk.worker_waiting, memory_order_relaxed))
        plume_sdk_wake();
}

PLUME_API void plume_log(plume_level_t level, const char *message, const plume_field_t *fields,
                         size_t nfields)
{
    log_call(NULL, level, message, 0, fields, nfields);
}

bool plume_capture_accepts(void)
{
    if ((int)PLUME_LEVEL_ERROR < __atomic_load_n(&plume_min_level_, __ATOMIC_RELAXED) ||
        !running())
        return false;
    return !error_sampled_out();
}

void plume_capture_put(const char *message, const plume_field_t *fields, size_t nfields,
                       plume_record_extra_t *extra)
{
    uint64_t state = plume_hot1_thread_.overlay;
    if (state != 0) {
        atomic_signal_fence(memory_order_seq_cst); /* the state before the bytes it covers */
        extra->pairs = plume_overlay.bytes;
        extra->pairs_len = (uint32_t)(state >> 32);
        extra->npairs = (uint32_t)state;
    }
    put_record(PLUME_LEVEL_ERROR, message, 0, fields, nfields, extra);
}

static inline void breadcrumb_call(plume_site_t *site, const char *category,
                                   unsigned category_size, const char *message,
                                   unsigned message_size, const plume_field_t *fields,
                                   size_t nfields)
{
    if (!running())
        return;
    const plume_site_desc_t *d =
        site_desc(site, true, category, category_size, message, message_size, fields, nfields);
    if (d && d->category == category &&
        put_site_record(d, PLUME_LEVEL_INFO, message, fields, nfields, NULL))
        return;
    plume_record_extra_t extra = {
        .breadcrumb = true, .category = category, .category_size = category_size};
    put_record(PLUME_LEVEL_INFO, message, message_size, fields, nfields, &extra);
}

/* The complete path of a macro's breadcrumb, out of line (see
 * log_site_call()). */
__attribute__((noinline)) static void
breadcrumb_site_call(plume_site_t *site, const char *category, unsigned category_size,
                     const char *message, unsigned message_size, const plume_field_t *fields,
                     size_t nfields)
{
    breadcrumb_call(site, category, category_size, message, message_size, fields, nfields);
}

PLUME_API void plume_breadcrumb_site_(plume_site_t *site, const char *category,
                                      unsigned category_size, const char *message,
                                      unsigned message_size, const plume_field_t *fields,
                                      size_t nfields)
{
#if defined(PLUME_HOT_AVAILABLE_)
    if (__builtin_expect(site != NULL, 1) &&
        hot_put(site, PLUME_LEVEL_INFO, 1, category, message, fields, nfields, NULL))
        return;
#endif
    return breadcrumb_site_call(site, category, category_size, message, message_size, fields,
                                nfields);
}

PLUME_API void plume_breadcrumb(const char *category, const char *message,
                                const plume_field_t *fields, size_t nfields)
{
    breadcrumb_call(NULL, category, 0, message, 0, fields, nfields);
}

PLUME_API void plume_logf(plume_level_t level, const char *fmt, ...)
{
    if ((unsigned)level > PLUME_LEVEL_FATAL ||
        (int)level < __atomic_load_n(&plume_min_level_, __ATOMIC_RELAXED) || !fmt)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap); /* longer messages are cut */
    va_end(ap);
    plume_log(level, buf, NULL, 0);
}
