/* SPDX-License-Identifier: MIT */
/* Micro-benchmark of the SDK's hot-path clock (sdk/src/clock.h, clock.c): ns
 * per plume_clock_stamp() on the TSC path and on the forced fallback, against
 * clock_gettime(CLOCK_REALTIME) and clock_gettime(CLOCK_MONOTONIC) called
 * directly, plus the worker's plume_clock_to_ns(). Calls run back to back in
 * batches of 1024 timed with CLOCK_MONOTONIC (the results are summed so the
 * compiler keeps every call); prints the mean and the p50/p90 of the per-batch
 * means in ns per call, from the median round by mean.
 * Usage: bench_clock [CALLS_PER_ROUND] [ROUNDS] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"

#define BATCH 1024
#define MAX_ROUNDS 99

typedef enum subject { STAMP, REALTIME, MONOTONIC, TO_NS } subject_t;

typedef struct result {
    double mean, p50, p90;
} result_t;

static volatile uint64_t sink;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t gettime_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One batch of BATCH calls of `what`; returns the elapsed ns. */
static uint64_t run_batch(subject_t what, uint64_t stamp0)
{
    uint64_t sum = 0, t0 = now_ns();
    switch (what) {
    case STAMP:
        for (int i = 0; i < BATCH; i++)
            sum += plume_clock_stamp();
        break;
    case REALTIME:
        for (int i = 0; i < BATCH; i++)
            sum += gettime_ns(CLOCK_REALTIME);
        break;
    case MONOTONIC:
        for (int i = 0; i < BATCH; i++)
            sum += gettime_ns(CLOCK_MONOTONIC);
        break;
    case TO_NS:
        for (int i = 0; i < BATCH; i++)
            sum += plume_clock_to_ns(stamp0 + (uint64_t)i * 977u);
        break;
    }
    uint64_t t1 = now_ns();
    sink += sum;
    return t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One round of `batches` batches: mean and p50/p90 of the per-batch means. */
static result_t run_round(subject_t what, size_t batches, double *per_batch)
{
    uint64_t stamp0 = plume_clock_stamp(), total = 0;
    for (size_t b = 0; b < batches; b++) {
        uint64_t ns = run_batch(what, stamp0);
        total += ns;
        per_batch[b] = (double)ns / BATCH;
    }
    qsort(per_batch, batches, sizeof *per_batch, cmp_double);
    return (result_t){(double)total / (double)(batches * BATCH), per_batch[batches / 2],
                      per_batch[batches * 9 / 10]};
}

static int cmp_result(const void *a, const void *b)
{
    return cmp_double(&((const result_t *)a)->mean, &((const result_t *)b)->mean);
}

static void bench(const char *name, subject_t what, size_t batches, int rounds, double *scratch)
{
    result_t r[MAX_ROUNDS];
    run_round(what, batches / 10 + 1, scratch); /* warm-up */
    for (int i = 0; i < rounds; i++)
        r[i] = run_round(what, batches, scratch);
    qsort(r, (size_t)rounds, sizeof r[0], cmp_result);
    const result_t *m = &r[rounds / 2];
    printf("%-40s mean %6.2f  p50 %6.2f  p90 %6.2f\n", name, m->mean, m->p50, m->p90);
}

int main(int argc, char **argv)
{
    long calls = argc > 1 ? atol(argv[1]) : 10 * 1000 * 1000;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (calls < BATCH * 10 || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: bench_clock [CALLS_PER_ROUND >= %d] [ROUNDS 1-%d]\n", BATCH * 10,
                MAX_ROUNDS);
        return 2;
    }
    size_t batches = (size_t)calls / BATCH;
    double *scratch = malloc(batches * sizeof *scratch);
    if (!scratch) {
        fprintf(stderr, "bench_clock: out of memory\n");
        return 1;
    }

    uint64_t t0 = now_ns();
    plume_clock_init();
    uint64_t init_ns = now_ns() - t0;
    printf("ns per call, median of %d rounds of %zu calls (by mean); init took %.2f ms\n", rounds,
           batches * BATCH, (double)init_ns / 1e6);
    if (plume_clock_uses_tsc()) {
        uint64_t s0 = plume_clock_stamp();
        double ghz = 1e9 / (double)(plume_clock_to_ns(s0 + 1000000000u) - plume_clock_to_ns(s0));
        printf("TSC in use, %.4f GHz\n", ghz);
        bench("plume_clock_stamp (TSC)", STAMP, batches, rounds, scratch);
    } else {
        printf("TSC not usable here: plume_clock_stamp falls back to CLOCK_REALTIME\n");
    }
    bench("plume_clock_to_ns (worker)", TO_NS, batches, rounds, scratch);
    plume_clock_init_fallback();
    bench("plume_clock_stamp (forced fallback)", STAMP, batches, rounds, scratch);
    bench("clock_gettime(CLOCK_REALTIME)", REALTIME, batches, rounds, scratch);
    bench("clock_gettime(CLOCK_MONOTONIC)", MONOTONIC, batches, rounds, scratch);
    free(scratch);
    return 0;
}
