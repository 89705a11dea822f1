/* SPDX-License-Identifier: MIT */
/* Micro-benchmark of the SDK's per-thread ring (sdk/src/ring.c): the producer
 * side of a log call, plume_ring_reserve() + plume_ring_commit() of a 64-byte
 * record, with the payload left unwritten (the ring's own cost) and with a
 * 64-byte copy into it (a stand-in for encoding). Three consumer set-ups:
 *   spin:  a consumer thread drains each record as soon as it is published
 *          (yielding when empty): the worst case, where the head's and the
 *          records' cache lines move between cores for every few records;
 *   poll:  a consumer thread drains everything, releases, then sleeps 50 us,
 *          as the worker polls on a short timeout (a 4 MiB ring, so that the
 *          producer running flat out does not fill it between polls);
 *   local: no concurrent consumer; the producing thread drains between timed
 *          batches (the instructions alone, every line in its own cache).
 * Calls are timed in batches of 1024 with CLOCK_MONOTONIC; prints the mean and
 * the p50/p90 of the per-batch means in ns per call, from the median round by
 * mean (a failed reserve is cheaper than a successful one, so the fastest round
 * may just be the one where the consumer was descheduled: check the share of
 * calls that found the ring full, which the SDK would drop).
 * Usage: bench_ring [CALLS_PER_ROUND] [ROUNDS] */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring.h"

#define BATCH 1024
#define PAYLOAD 64
#define MAX_ROUNDS 99

typedef enum consumer_mode { MODE_SPIN, MODE_POLL, MODE_LOCAL } consumer_mode_t;

typedef struct consumer {
    plume_ring_t *ring;
    consumer_mode_t mode;
    atomic_bool stop;
    atomic_bool started;
    uint64_t records;
    uint64_t sum;
} consumer_t;

typedef struct result {
    double mean, p50, p90;
    uint64_t drops, calls;
} result_t;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Takes every record available, reading one byte of each (as a reader
 * would), releasing every 64 records and at the end. Returns the count. */
static uint64_t drain(consumer_t *c)
{
    uint64_t n = 0;
    size_t len;
    const uint8_t *p;
    while ((p = plume_ring_peek(c->ring, &len))) {
        c->sum += len ? p[0] : 0;
        plume_ring_advance(c->ring);
        if (++n % 64 == 0)
            plume_ring_release(c->ring);
    }
    plume_ring_release(c->ring);
    c->records += n;
    return n;
}

static void *consumer_main(void *arg)
{
    consumer_t *c = arg;
    atomic_store(&c->started, true);
    while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
        drain(c);
        if (c->mode == MODE_POLL) {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        } else {
            sched_yield();
        }
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Orders rounds by mean; the median round is the one reported. */
static int cmp_result(const void *a, const void *b)
{
    return cmp_double(&((const result_t *)a)->mean, &((const result_t *)b)->mean);
}

/* One round of `calls` reserve+commit calls (rounded down to whole batches)
 * with a fresh ring; `copy` writes the 64 payload bytes. */
static int run_round(consumer_mode_t mode, uint64_t calls, bool copy, result_t *res)
{
    size_t cap = mode == MODE_POLL ? (size_t)4 << 20 : (size_t)256 << 10;
    consumer_t c = {.ring = plume_ring_new(cap, 4096), .mode = mode};
    size_t nb = (size_t)(calls / BATCH);
    double *per = malloc(nb * sizeof(*per));
    if (!c.ring || !per) {
        plume_ring_free(c.ring);
        free(per);
        return -1;
    }
    atomic_init(&c.stop, false);
    atomic_init(&c.started, false);
    pthread_t t;
    if (mode != MODE_LOCAL) {
        if (pthread_create(&t, NULL, consumer_main, &c) != 0) {
            plume_ring_free(c.ring);
            free(per);
            return -1;
        }
        while (!atomic_load(&c.started))
            sched_yield();
    }
    uint8_t src[PAYLOAD];
    for (int i = 0; i < PAYLOAD; i++)
        src[i] = (uint8_t)(i * 7 + 1);
    uint64_t drops = 0, total = 0;
    for (size_t b = 0; b < nb; b++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < BATCH; i++) {
            uint8_t *p = plume_ring_reserve(c.ring, PAYLOAD);
            if (!p) {
                drops++;
                continue;
            }
            if (copy) {
                memcpy(p, src, PAYLOAD);
                p[0] = (uint8_t)i;
            }
            plume_ring_commit(c.ring, PAYLOAD);
        }
        uint64_t dt = now_ns() - t0;
        total += dt;
        per[b] = (double)dt / BATCH;
        if (mode == MODE_LOCAL)
            drain(&c);
    }
    if (mode != MODE_LOCAL) {
        atomic_store(&c.stop, true);
        pthread_join(t, NULL);
    }
    qsort(per, nb, sizeof(*per), cmp_double);
    res->mean = (double)total / (double)(nb * BATCH);
    res->p50 = per[nb / 2];
    res->p90 = per[nb * 9 / 10];
    res->drops = drops;
    res->calls = (uint64_t)nb * BATCH;
    free(per);
    plume_ring_free(c.ring);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t calls = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000u;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (calls < BATCH * 10 || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: bench_ring [CALLS_PER_ROUND >= %d] [ROUNDS 1-%d]\n", BATCH * 10,
                MAX_ROUNDS);
        return 2;
    }
    static const char *const names[] = {"spin", "poll", "local"};
    printf("ns per call, 64-byte payload (72-byte record), median of %d rounds of %llu calls (by mean)\n",
           rounds, (unsigned long long)calls);
    for (int m = MODE_SPIN; m <= MODE_LOCAL; m++) {
        for (int copy = 0; copy < 2; copy++) {
            result_t res[MAX_ROUNDS];
            for (int r = 0; r < rounds; r++) {
                if (run_round((consumer_mode_t)m, calls, copy, &res[r]) != 0) {
                    fprintf(stderr, "bench_ring: out of memory or no thread\n");
                    return 1;
                }
            }
            qsort(res, (size_t)rounds, sizeof(res[0]), cmp_result);
            result_t best = res[rounds / 2];
            printf("%-5s %-24s mean %6.2f  p50 %6.2f  p90 %6.2f  (ring full: %.2f%%)\n",
                   names[m], copy ? "reserve+copy64+commit" : "reserve+commit", best.mean,
                   best.p50, best.p90, 100.0 * (double)best.drops / (double)best.calls);
        }
    }
    return 0;
}
