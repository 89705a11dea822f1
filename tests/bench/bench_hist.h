/* SPDX-License-Identifier: MIT */
/* Timing, latency histogram and pacing shared by the SDK latency benchmark
 * (bench_sdk_latency.c) and its spdlog peer (bench_spdlog.cpp), so both sides
 * measure a call the same way. Header-only, C11 and C++ compatible.
 *
 * A call is timed with rdtsc between lfence barriers (on x86-64; elsewhere with
 * clock_gettime(CLOCK_MONOTONIC), ticks are then ns). The cost of an empty timed
 * region is measured once (mean of the fastest 99% of 100,000) and subtracted
 * from every sample. Ticks become ns with a TSC rate calibrated against
 * CLOCK_MONOTONIC over ~200 ms. The counter's granularity is measured and
 * printed: on some CPUs (AMD Zen under KVM here) the TSC advances in steps of
 * ~10 ns, so every sample, and so every percentile, is quantised to that step
 * while a mean over many samples is not (a call's start falls at a random
 * phase of the step); the result line therefore also gives the mean of the
 * fastest 99%. Samples go into a fixed-size histogram: exact at 1 ns resolution
 * below 1024 ns, then 64 buckets per power of two (1.6% resolution), reported
 * as each bucket's upper edge (never under-reported). No allocation after
 * bench_hist_new(). Pacing: 1 ms bursts of rate/1000 calls, the thread
 * sleeping in between (see bench_pace_t). Bursts behind schedule (after a
 * preemption) start at once until caught up; more than 100 bursts behind,
 * the schedule restarts from now. Samples are service times (from the call's own start),
 * not time since its scheduled start. */
#ifndef PLUME_BENCH_HIST_H
#define PLUME_BENCH_HIST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_EXACT_NS 1024u  /* exact buckets: 0..1023 ns */
#define BENCH_SUB_BITS 6u     /* 64 buckets per power of two above that */
#define BENCH_MAX_EXP 44u     /* values >= 2^44 ns (~4.9 h) land in the last bucket */
#define BENCH_BUCKETS (BENCH_EXACT_NS + (BENCH_MAX_EXP - 10u + 1u) * (1u << BENCH_SUB_BITS))

/* The untimed warm-up both harnesses make per thread before timing: enough
 * calls (~60-byte records each) to go once round the SDK's default 1 MiB
 * ring, so that every page of it has been faulted in (the kernel maps a
 * ring's pages on first touch, ~2 us each) and the timed calls see the
 * steady state; paced at BENCH_WARMUP_RATE when the run itself is not. */
#define BENCH_WARMUP_CALLS 20000u
#define BENCH_WARMUP_RATE 1000000u

/* One thread's histogram of ns values (or the merge of several). */
typedef struct bench_hist {
    uint64_t count;
    uint64_t max;
    uint64_t bucket[BENCH_BUCKETS];
} bench_hist_t;

/* How ticks from bench_ticks_begin()/bench_ticks_end() convert to ns. */
typedef struct bench_clock {
    int tsc;                 /* 1: TSC ticks; 0: CLOCK_MONOTONIC ns */
    double ns_per_tick;
    double ticks_per_sec;
    double overhead_ticks;   /* mean cost of an empty timed region (fastest 99%) */
    uint64_t step_ticks;     /* the counter's granularity: it advances by this much */
} bench_clock_t;

static inline uint64_t bench_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A TSC read fenced on both sides (lfence is dispatch-serialising on Intel
 * and on AMD with Linux's default setting). */
static inline uint64_t bench_ticks_fenced(void)
{
#if defined(__x86_64__)
    uint32_t lo, hi;
    __asm__ __volatile__("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
#else
    return bench_mono_ns();
#endif
}

/* Start of a timed region: the lfence before keeps earlier work out of it,
 * the one after keeps the timed work from starting before the read. */
static inline uint64_t bench_ticks_begin(void) { return bench_ticks_fenced(); }

/* End of a timed region: the lfence before waits for the timed work to
 * finish; the one after keeps later work out. */
static inline uint64_t bench_ticks_end(void) { return bench_ticks_fenced(); }

/* Unfenced read for the pacing loop (cheap; order does not matter there). */
static inline uint64_t bench_ticks_now(void)
{
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return bench_mono_ns();
#endif
}

static inline void bench_cpu_relax(void)
{
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The counter's step: over 20,000 back-to-back reads, the smallest gap
 * between two read-to-read differences that each occur in at least 0.5% of
 * the reads (a counter advancing in steps of S only shows differences that
 * are multiples of S). 1 when the differences do not vary at all. */
static inline uint64_t bench_measure_step(void)
{
    enum { READS = 20000, MAXD = 4096 };
    uint32_t *seen = (uint32_t *)calloc(MAXD, sizeof(uint32_t));
    if (!seen)
        return 1;
    uint64_t prev = bench_ticks_now();
    for (int i = 0; i < READS; i++) {
        uint64_t t = bench_ticks_now();
        if (t - prev < MAXD)
            seen[t - prev]++;
        prev = t;
    }
    uint64_t step = 0, last = 0;
    int have_last = 0;
    for (uint64_t d = 0; d < MAXD; d++) {
        if (seen[d] < READS / 200)
            continue;
        if (have_last && (step == 0 || d - last < step))
            step = d - last;
        last = d;
        have_last = 1;
    }
    free(seen);
    return step ? step : 1;
}

/* Calibrates the tick rate against CLOCK_MONOTONIC over about `ms`
 * milliseconds (busy, to keep the CPU out of deep sleep), measures the
 * counter's step, then the cost of an empty timed region: the mean of the
 * fastest 99% of 100,000 tries (the mean, not the median, because the
 * samples are quantised to the step). Not hot. */
static inline void bench_clock_init(bench_clock_t *c, unsigned ms)
{
    memset(c, 0, sizeof(*c));
#if defined(__x86_64__)
    c->tsc = 1;
    /* Each end point: the monotonic read between two TSC reads, the TSC value
     * taken as their midpoint; the tightest of a few tries wins. */
    uint64_t best_gap[2] = {UINT64_MAX, UINT64_MAX}, tsc_at[2] = {0, 0}, ns_at[2] = {0, 0};
    for (int end = 0; end < 2; end++) {
        if (end == 1) {
            uint64_t until = bench_mono_ns() + (uint64_t)ms * 1000000u;
            while (bench_mono_ns() < until)
                bench_cpu_relax();
        }
        for (int k = 0; k < 50; k++) {
            uint64_t a = bench_ticks_begin(), n = bench_mono_ns(), b = bench_ticks_end();
            if (b - a < best_gap[end]) {
                best_gap[end] = b - a;
                tsc_at[end] = a + (b - a) / 2;
                ns_at[end] = n;
            }
        }
    }
    c->ticks_per_sec = (double)(tsc_at[1] - tsc_at[0]) * 1e9 / (double)(ns_at[1] - ns_at[0]);
    c->ns_per_tick = 1e9 / c->ticks_per_sec;
#else
    (void)ms;
    c->tsc = 0;
    c->ticks_per_sec = 1e9;
    c->ns_per_tick = 1.0;
#endif
    c->step_ticks = bench_measure_step();
    enum { TRIES = 100000 };
    uint64_t *d = (uint64_t *)malloc(TRIES * sizeof(uint64_t));
    if (!d)
        return; /* overhead stays 0: samples are then a little high */
    for (int i = 0; i < TRIES; i++) {
        uint64_t t0 = bench_ticks_begin();
        uint64_t t1 = bench_ticks_end();
        d[i] = t1 - t0;
    }
    qsort(d, TRIES, sizeof(uint64_t), bench_cmp_u64);
    double sum = 0;
    for (int i = 0; i < TRIES - TRIES / 100; i++)
        sum += (double)d[i];
    c->overhead_ticks = sum / (double)(TRIES - TRIES / 100);
    free(d);
}

/* A zeroed histogram, its pages touched now (not during the timed loop).
 * NULL when out of memory. The caller frees it with free(). */
static inline bench_hist_t *bench_hist_new(void)
{
    bench_hist_t *h = (bench_hist_t *)malloc(sizeof(bench_hist_t));
    if (h)
        memset(h, 0, sizeof(*h));
    return h;
}

static inline unsigned bench_hist_index(uint64_t ns)
{
    if (ns < BENCH_EXACT_NS)
        return (unsigned)ns;
    unsigned e = 63u - (unsigned)__builtin_clzll(ns); /* >= 10 */
    if (e > BENCH_MAX_EXP)
        return BENCH_BUCKETS - 1u;
    unsigned sub = (unsigned)(ns >> (e - BENCH_SUB_BITS)) & ((1u << BENCH_SUB_BITS) - 1u);
    return BENCH_EXACT_NS + (e - 10u) * (1u << BENCH_SUB_BITS) + sub;
}

/* The largest ns value bucket i holds. */
static inline uint64_t bench_hist_upper(unsigned i)
{
    if (i < BENCH_EXACT_NS)
        return i;
    unsigned e = 10u + (i - BENCH_EXACT_NS) / (1u << BENCH_SUB_BITS);
    unsigned sub = (i - BENCH_EXACT_NS) % (1u << BENCH_SUB_BITS);
    uint64_t lo = ((uint64_t)((1u << BENCH_SUB_BITS) + sub)) << (e - BENCH_SUB_BITS);
    return lo + (1ull << (e - BENCH_SUB_BITS)) - 1u;
}

/* Records one timed region of `ticks`: overhead subtracted, in ns, rounded
 * to the nearest ns and clamped at 0. */
static inline void bench_hist_record(bench_hist_t *h, const bench_clock_t *c, uint64_t ticks)
{
    double t = ((double)ticks - c->overhead_ticks) * c->ns_per_tick;
    uint64_t ns = t > 0 ? (uint64_t)(t + 0.5) : 0;
    h->bucket[bench_hist_index(ns)]++;
    h->count++;
    if (ns > h->max)
        h->max = ns;
}

static inline void bench_hist_merge(bench_hist_t *into, const bench_hist_t *from)
{
    for (unsigned i = 0; i < BENCH_BUCKETS; i++)
        into->bucket[i] += from->bucket[i];
    into->count += from->count;
    if (from->max > into->max)
        into->max = from->max;
}

/* The q-quantile (0 < q <= 1) in ns: the upper edge of the bucket holding
 * the ceil(q * count)-th smallest sample, never above the maximum. */
static inline uint64_t bench_hist_quantile(const bench_hist_t *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < BENCH_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            uint64_t v = bench_hist_upper(i);
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}

/* The mean in ns of the samples in the buckets up to the one holding the
 * 99th percentile: a typical call's cost, free of the step's quantisation
 * and of preemption spikes. Bucket values count at their upper edge. */
static inline double bench_hist_mean99(const bench_hist_t *h)
{
    if (h->count == 0)
        return 0;
    unsigned last = bench_hist_index(bench_hist_quantile(h, 0.99));
    double sum = 0;
    uint64_t n = 0;
    for (unsigned i = 0; i <= last; i++) {
        sum += (double)h->bucket[i] * (double)bench_hist_upper(i);
        n += h->bucket[i];
    }
    return n ? sum / (double)n : 0;
}

/* Paces calls at `rate` per second in 1 ms bursts: rate/1000 calls back to
 * back, then the thread sleeps until the next millisecond (spinning only the
 * last ~50 us, for a punctual start). A service logging 1M events/s does not
 * spend a whole core waiting between them, so neither does the benchmark: a
 * producer spinning between calls would take one of the machine's two cores
 * from the logger's worker. rate 0 = no pacing. */
typedef struct bench_pace {
    double period;     /* ticks per burst; 0 = unpaced */
    double next;       /* scheduled tick of the next burst */
    double ticks_per_us;
    uint64_t burst;    /* calls per burst */
    uint64_t left;     /* calls left in the current burst */
} bench_pace_t;

static inline void bench_pace_start(bench_pace_t *p, const bench_clock_t *c, uint64_t rate)
{
    p->burst = rate >= 1000 ? rate / 1000 : 1;
    p->period = rate ? c->ticks_per_sec / (double)rate * (double)p->burst : 0.0;
    p->ticks_per_us = c->ticks_per_sec / 1e6;
    p->next = (double)bench_ticks_now();
    p->left = 0;
}

static inline void bench_pace_wait(bench_pace_t *p)
{
    if (p->period == 0.0)
        return;
    if (p->left > 0) {
        p->left--;
        return;
    }
    uint64_t due = (uint64_t)p->next;
    uint64_t now = bench_ticks_now();
    if (now + (uint64_t)(60.0 * p->ticks_per_us) < due) {
        double us = (double)(due - now) / p->ticks_per_us - 50.0;
        struct timespec ts = {0, (long)(us * 1000.0)};
        nanosleep(&ts, NULL);
    }
    while ((now = bench_ticks_now()) < due)
        bench_cpu_relax();
    p->next += p->period;
    p->left = p->burst - 1;
    /* Far behind (preempted): restart the schedule instead of firing a run
     * of bursts back to back that no paced producer would make. */
    if ((double)now > p->next + 100.0 * p->period)
        p->next = (double)now + p->period;
}

/* A spinning start line for `n` threads (all arrive, then all go). */
typedef struct bench_barrier {
    unsigned n;
    unsigned arrived;
} bench_barrier_t;

static inline void bench_barrier_wait(bench_barrier_t *b)
{
    __atomic_add_fetch(&b->arrived, 1u, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&b->arrived, __ATOMIC_ACQUIRE) < b->n)
        bench_cpu_relax();
}

/* Parses a non-negative decimal of at most `max`; returns 0 on success. */
static inline int bench_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s)
        return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (max - (uint64_t)(*s - '0')) / 10u)
            return -1;
        v = v * 10u + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

/* Prints the timing line both harnesses start their output with. */
static inline void bench_clock_print(const char *who, const bench_clock_t *c)
{
    printf("%s timing: %s %.4f GHz, step %llu ticks = %.1f ns, empty timed region %.1f ticks = "
           "%.1f ns (subtracted)\n",
           who, c->tsc ? "rdtsc" : "clock_gettime", c->ticks_per_sec / 1e9,
           (unsigned long long)c->step_ticks, (double)c->step_ticks * c->ns_per_tick,
           c->overhead_ticks, c->overhead_ticks * c->ns_per_tick);
}

/* Prints the figures of a merged histogram, the part of the result line
 * both harnesses share: "p50=..ns p99=..ns p99.9=..ns max=..ns
 * throughput=..M/s mean99=..ns". */
static inline void bench_hist_print(const bench_hist_t *h, double calls_per_sec)
{
    printf("p50=%lluns p99=%lluns p99.9=%lluns max=%lluns throughput=%.3fM/s mean99=%.1fns",
           (unsigned long long)bench_hist_quantile(h, 0.50),
           (unsigned long long)bench_hist_quantile(h, 0.99),
           (unsigned long long)bench_hist_quantile(h, 0.999), (unsigned long long)h->max,
           calls_per_sec / 1e6, bench_hist_mean99(h));
}

#endif
