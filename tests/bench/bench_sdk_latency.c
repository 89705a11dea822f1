/* SPDX-License-Identifier: MIT */
/* Per-call latency of the SDK's log call and breadcrumb add, as a user sees
 * them: links libplume.so and uses only the public header. Each of THREADS
 * threads makes 20,000 untimed warm-up calls (the thread attaches, every
 * page of its ring is touched), waits for the others, then makes CALLS calls
 * paced at RATE per second (0 = back to back), timing every one with
 * bench_hist.h (lfence-bracketed rdtsc, empty-region cost subtracted) into a
 * per-thread histogram. The SDK ships to a local bench_receiver at URL; after
 * the run it flushes (30 s bound) and prints one line with the percentiles,
 * the calling loop's throughput (calls / loop wall time, summed over threads)
 * and the SDK's counters, which bench_sdk.py checks against the receiver's.
 * Usage: bench_sdk_latency URL DATA_DIR log|breadcrumb THREADS CALLS RATE
 *   (CALLS and RATE are per thread.) */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_hist.h"
#include "plume/plume.h"

#define MAX_THREADS 64
#define FLUSH_MS 30000u

typedef enum mode { MODE_LOG, MODE_BREADCRUMB } bench_mode_t;

/* What one calling thread is given and what it reports back. */
typedef struct worker {
    pthread_t thread;
    bench_mode_t mode;
    uint64_t calls, rate;
    const bench_clock_t *clk;
    bench_barrier_t *start;
    bench_hist_t *hist; /* owned; allocated before the thread starts */
    uint64_t loop_ns;   /* wall time of the timed loop */
} worker_t;

/* A small table of user ids, so the string field varies a little. */
static const char *const USERS[8] = {"u-1001", "u-20417", "alice", "bob.smith",
                                     "carol@example.com", "u-7", "dave-42", "erin"};

/* The benchmarked calls, exactly as a service would write them: the field
 * values are computed inside the timed region. Always inlined into the
 * timed loop, as the spdlog harness's call is (a compiler may otherwise
 * keep a helper this size out of line, and time its call and frame too). */
__attribute__((always_inline)) static inline void call_log(uint64_t i)
{
    PLUME_INFO("payment processed", plume_str("user", USERS[i & 7u]),
               plume_i64("cents", (int64_t)i), plume_f64("ms", (double)(i & 1023u) * 0.125));
}

__attribute__((always_inline)) static inline void call_breadcrumb(uint64_t i)
{
    PLUME_BREADCRUMB("payment", "payment processed", plume_str("user", USERS[i & 7u]),
                     plume_i64("cents", (int64_t)i), plume_f64("ms", (double)(i & 1023u) * 0.125));
}

/* The warm-up, then the timed loop; one copy per call so that the call is
 * inlined into its loop with no dispatch inside the timed region. */
#define RUN_LOOPS(CALL)                                                                      \
    do {                                                                                     \
        bench_pace_start(&pace, w->clk, w->rate ? w->rate : BENCH_WARMUP_RATE);              \
        for (uint64_t i = 0; i < BENCH_WARMUP_CALLS; i++) {                                  \
            bench_pace_wait(&pace);                                                          \
            CALL(i);                                                                         \
        }                                                                                    \
        bench_barrier_wait(w->start);                                                        \
        uint64_t t_start = bench_mono_ns();                                                  \
        bench_pace_start(&pace, w->clk, w->rate);                                            \
        for (uint64_t i = 0; i < w->calls; i++) {                                            \
            bench_pace_wait(&pace);                                                          \
            uint64_t t0 = bench_ticks_begin();                                               \
            CALL(i);                                                                         \
            uint64_t t1 = bench_ticks_end();                                                 \
            bench_hist_record(w->hist, w->clk, t1 - t0);                                     \
        }                                                                                    \
        w->loop_ns = bench_mono_ns() - t_start;                                              \
    } while (0)

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    bench_pace_t pace;
    if (w->mode == MODE_LOG)
        RUN_LOOPS(call_log);
    else
        RUN_LOOPS(call_breadcrumb);
    return NULL;
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s URL DATA_DIR log|breadcrumb THREADS CALLS RATE\n"
            "  THREADS 1..%d; CALLS and RATE per thread (RATE 0 = unpaced)\n",
            argv0, MAX_THREADS);
    return 2;
}

/* Starts the SDK shipping to `url` with dataset "bench", token
 * "bench-token" and its outbox under data_dir; everything else default (the
 * ring size in particular). Returns the plume_init() status. */
static plume_status_t start_sdk(const char *url, const char *data_dir)
{
    plume_options_t *o = plume_options_new();
    if (!o)
        return PLUME_ENOMEM;
    plume_status_t s = plume_options_set_axiom_url(o, url);
    if (s == PLUME_OK)
        s = plume_options_set_axiom_dataset(o, "bench");
    if (s == PLUME_OK)
        s = plume_options_set_axiom_token(o, "bench-token");
    if (s == PLUME_OK)
        s = plume_options_set_data_dir(o, data_dir);
    if (s != PLUME_OK) {
        plume_options_free(o);
        return s;
    }
    return plume_init(o);
}

int main(int argc, char **argv)
{
    if (argc != 7)
        return usage(argv[0]);
    bench_mode_t mode;
    if (strcmp(argv[3], "log") == 0)
        mode = MODE_LOG;
    else if (strcmp(argv[3], "breadcrumb") == 0)
        mode = MODE_BREADCRUMB;
    else
        return usage(argv[0]);
    uint64_t nthreads, calls, rate;
    if (bench_parse_u64(argv[4], MAX_THREADS, &nthreads) != 0 || nthreads == 0 ||
        bench_parse_u64(argv[5], 1000000000000ull, &calls) != 0 ||
        bench_parse_u64(argv[6], 1000000000ull, &rate) != 0)
        return usage(argv[0]);

    bench_clock_t clk;
    bench_clock_init(&clk, 200);
    bench_clock_print("plume", &clk);

    plume_status_t s = start_sdk(argv[1], argv[2]);
    if (s != PLUME_OK) {
        fprintf(stderr, "bench_sdk_latency: plume_init: %s\n", plume_strerror(s));
        return 1;
    }

    worker_t w[MAX_THREADS];
    bench_barrier_t start = {(unsigned)nthreads, 0};
    memset(w, 0, sizeof(w));
    for (uint64_t t = 0; t < nthreads; t++) {
        w[t].mode = mode;
        w[t].calls = calls;
        w[t].rate = rate;
        w[t].clk = &clk;
        w[t].start = &start;
        w[t].hist = bench_hist_new();
        if (!w[t].hist) {
            fprintf(stderr, "bench_sdk_latency: out of memory\n");
            return 1;
        }
    }
    for (uint64_t t = 0; t < nthreads; t++)
        if (pthread_create(&w[t].thread, NULL, worker_main, &w[t]) != 0) {
            fprintf(stderr, "bench_sdk_latency: cannot start thread %llu\n",
                    (unsigned long long)t);
            return 1;
        }
    bench_hist_t *all = bench_hist_new();
    if (!all) {
        fprintf(stderr, "bench_sdk_latency: out of memory\n");
        return 1;
    }
    double throughput = 0;
    for (uint64_t t = 0; t < nthreads; t++) {
        pthread_join(w[t].thread, NULL);
        bench_hist_merge(all, w[t].hist);
        if (w[t].loop_ns)
            throughput += (double)w[t].calls * 1e9 / (double)w[t].loop_ns;
        free(w[t].hist);
    }

    uint64_t f0 = bench_mono_ns();
    plume_status_t fs = plume_flush(FLUSH_MS);
    uint64_t flush_ms = (bench_mono_ns() - f0) / 1000000u;
    plume_stats_t st;
    plume_stats(&st);

    printf("%-16s threads=%llu calls=%llu rate=%llu/s/thread ",
           mode == MODE_LOG ? "plume log" : "plume breadcrumb", (unsigned long long)nthreads, (unsigned long long)(calls * nthreads),
           (unsigned long long)rate);
    bench_hist_print(all, throughput);
    printf(" dropped=%llu delivered=%llu events=%llu warmup=%llu dropped_other=%llu "
           "not_running=%llu flush=%s flush_ms=%llu\n",
           (unsigned long long)st.dropped_ring_full, (unsigned long long)st.delivered,
           (unsigned long long)st.events, (unsigned long long)(BENCH_WARMUP_CALLS * nthreads),
           (unsigned long long)st.dropped_other, (unsigned long long)st.calls_not_running,
           fs == PLUME_OK ? "ok" : plume_strerror(fs), (unsigned long long)flush_ms);
    fflush(stdout);
    free(all);
    plume_shutdown(5000);
    return 0;
}
