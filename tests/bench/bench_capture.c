/* SPDX-License-Identifier: MIT */
/* Caller cost of plume_capture_error() with a 20-frame stack, and of a
 * breadcrumb add, in the same run, as a user gets them (libplume.so, public
 * API only), with the SDK's worker running and converting every error into
 * its event (stack -> error map with modules; no sink is configured, so the
 * events go nowhere after that).
 *
 * The calling thread first recurses 20 frames deep (non-inlined, no tail
 * calls), makes WARMUP untimed captures (libunwind's per-thread trace cache
 * fills, the ring's pages are touched), then CALLS captures paced at RATE
 * per second (a service capturing errors back to back would only measure a
 * full ring), each timed with bench_hist.h (lfence-bracketed rdtsc, the empty
 * region's cost subtracted). Then, from the same depth, CRUMBS breadcrumb
 * adds paced at 1M/s. Prints p50/p99/max and the mean of the fastest 99% for
 * both, and each p50 against its target (5 us, 30 ns).
 *
 * Usage: bench_capture [CALLS [RATE [CRUMBS]]]   (defaults 20000 20000 200000)
 * The outbox goes under $TMPDIR (a fresh directory, removed at exit). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_hist.h"
#include "plume/plume.h"

#define DEPTH 20
#define WARMUP 2000u
#define CAPTURE_TARGET_NS 5000.0
#define CRUMB_TARGET_NS 30.0

typedef struct run {
    uint64_t calls, rate, crumbs;
    const bench_clock_t *clk;
    bench_hist_t *capture, *crumb;
} run_t;

static const char *const HOSTS[4] = {"db-1", "db-2.internal", "cache", "queue-7"};

/* The timed loops, at the bottom of the recursion. */
__attribute__((noinline)) static void measure(run_t *r)
{
    bench_pace_t pace;
    bench_pace_start(&pace, r->clk, r->rate);
    for (uint64_t i = 0; i < WARMUP; i++) {
        bench_pace_wait(&pace);
        PLUME_CAPTURE_ERROR("ConnectionError", "upstream refused",
                            plume_str("host", HOSTS[i & 3u]), plume_i64("attempt", (int64_t)i));
    }
    bench_pace_start(&pace, r->clk, r->rate);
    for (uint64_t i = 0; i < r->calls; i++) {
        bench_pace_wait(&pace);
        uint64_t t0 = bench_ticks_begin();
        PLUME_CAPTURE_ERROR("ConnectionError", "upstream refused",
                            plume_str("host", HOSTS[i & 3u]), plume_i64("attempt", (int64_t)i));
        uint64_t t1 = bench_ticks_end();
        bench_hist_record(r->capture, r->clk, t1 - t0);
    }
    bench_pace_start(&pace, r->clk, 1000000u);
    for (uint64_t i = 0; i < r->crumbs; i++) {
        bench_pace_wait(&pace);
        uint64_t t0 = bench_ticks_begin();
        PLUME_BREADCRUMB("http", "GET /api/orders", plume_i64("status", 200),
                         plume_str("host", HOSTS[i & 3u]));
        uint64_t t1 = bench_ticks_end();
        bench_hist_record(r->crumb, r->clk, t1 - t0);
    }
}

/* n more frames, then the measurement. The barrier after the call keeps
 * each frame on the stack (no tail call). */
__attribute__((noinline)) static void recurse(run_t *r, int n)
{
    if (n <= 1)
        measure(r);
    else
        recurse(r, n - 1);
    __asm__ volatile("" ::: "memory");
}

static void print_line(const char *what, const bench_hist_t *h, double target)
{
    uint64_t p50 = bench_hist_quantile(h, 0.5);
    printf("%-22s calls=%llu p50=%lluns p99=%lluns max=%lluns mean99=%.1fns target=%.0fns "
           "p50/target=%.3f\n",
           what, (unsigned long long)h->count, (unsigned long long)p50,
           (unsigned long long)bench_hist_quantile(h, 0.99), (unsigned long long)h->max,
           bench_hist_mean99(h), target, (double)p50 / target);
}

static int parse(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    run_t r = {.calls = 20000, .rate = 20000, .crumbs = 200000};
    if ((argc > 1 && parse(argv[1], 100000000u, &r.calls) != 0) ||
        (argc > 2 && parse(argv[2], 10000000u, &r.rate) != 0) ||
        (argc > 3 && parse(argv[3], 1000000000u, &r.crumbs) != 0) || argc > 4) {
        fprintf(stderr, "usage: %s [CALLS [RATE [CRUMBS]]]\n", argv[0]);
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/bench-capture-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("bench_capture: mkdtemp");
        return 1;
    }

    bench_clock_t clk;
    bench_clock_init(&clk, 200);
    bench_clock_print("plume", &clk);
    r.clk = &clk;
    r.capture = bench_hist_new();
    r.crumb = bench_hist_new();
    plume_options_t *o = plume_options_new();
    if (!r.capture || !r.crumb || !o || plume_options_set_data_dir(o, dir) != PLUME_OK ||
        plume_options_set_crash_handler(o, 0) != PLUME_OK) {
        fprintf(stderr, "bench_capture: out of memory\n");
        return 1;
    }
    plume_status_t s = plume_init(o);
    if (s != PLUME_OK) {
        fprintf(stderr, "bench_capture: plume_init: %s\n", plume_strerror(s));
        return 1;
    }
    recurse(&r, DEPTH);
    plume_status_t fs = plume_flush(30000);
    plume_stats_t st;
    plume_stats(&st);
    plume_shutdown(5000);

    char frames[64];
    snprintf(frames, sizeof(frames), "capture_error[%d]", DEPTH);
    print_line(frames, r.capture, CAPTURE_TARGET_NS);
    print_line("breadcrumb", r.crumb, CRUMB_TARGET_NS);
    printf("rate=%llu/s events=%llu dropped_ring_full=%llu breadcrumbs_dropped=%llu "
           "dropped_other=%llu flush=%s\n",
           (unsigned long long)r.rate, (unsigned long long)st.events,
           (unsigned long long)st.dropped_ring_full, (unsigned long long)st.breadcrumbs_dropped,
           (unsigned long long)st.dropped_other, fs == PLUME_OK ? "ok" : plume_strerror(fs));
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_capture: could not remove %s\n", dir);
    free(r.capture);
    free(r.crumb);
    return 0;
}
