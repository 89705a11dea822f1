/* SPDX-License-Identifier: MIT */
/* Micro-benchmark of plume_json_object_scan(), the per-line JSON check of the
 * stdin collector. Generates lines shaped like those of bench_stdin.py (about
 * 235 bytes, ten top-level members: short string keys, string values of 4-36
 * characters, a few integers and a float, no nesting, no escapes) and times
 * the scanner on them with the fast path on and off (the exact scanner alone),
 * with UTF-8 checks on (as the collector's first pass does) and off, with a
 * light callback and without one (the scanner's own cost). It also times
 * variants: non-ASCII text, a nested value, and an escape (which the fast
 * path hands to the exact scanner: what giving up costs). Prints ns/line,
 * best of several rounds taken in turn (the machine is shared), and checks
 * both modes report the same spans. Usage: bench_json_scan [LINES] [ROUNDS] */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_parse.h"

typedef struct lines {
    char *text;    /* all lines, back to back */
    size_t *off;   /* start of line i */
    size_t *len;   /* its length, without the newline */
    size_t count;
} lines_t;

static uint64_t rng_state = 42;

static uint64_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return rng_state >> 11;
}

static const char *pick(const char *const *v, size_t n) { return v[rnd() % n]; }

/* Writes line i into dst (room for 512 bytes); returns its length. `variant`
 * changes the message: 0 plain (the benchmark's), 1 with an escaped quote,
 * 2 with non-ASCII text, 3 with a nested object value. */
static int make_line(char *dst, size_t i, int variant)
{
    static const char *const paths[] = {"/api/orders", "/api/users/{id}", "/healthz",
                                        "/api/payments", "/static/app.js"};
    static const char *const msgs[] = {"request completed", "cache miss", "slow query",
                                       "payment authorised", "user login",
                                       "retrying upstream call"};
    static const char *const levels[] = {"info", "info", "info", "info", "info",
                                         "info", "debug", "warn", "error"};
    static const int statuses[] = {200, 200, 200, 201, 404, 500};
    double t = 1795255200.0 + (double)i * 0.0005;
    time_t sec = (time_t)t;
    int frac = (int)((t - (double)sec) * 1e6);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char ts[40];
    size_t tl = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + tl, sizeof(ts) - tl, ".%06dZ", frac);
    const char *msg = pick(msgs, 6);
    char alt[64];
    if (variant == 1)
        snprintf(alt, sizeof(alt), "%s \\\"q\\\"", msg);
    else if (variant == 2)
        snprintf(alt, sizeof(alt), "%s caf\xc3\xa9", msg);
    else
        snprintf(alt, sizeof(alt), "%s", msg);
    uint64_t hi = rnd(), lo = rnd();
    return snprintf(dst, 512,
                    "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\",\"service\":\"checkout\","
                    "\"host\":\"node-%02d\",\"path\":\"%s\",\"status\":%d,%s\"duration_ms\":%.3f,"
                    "\"user_id\":%d,\"trace_id\":\"%016llx%016llx\"}",
                    ts, pick(levels, 9), alt, (int)(rnd() % 16), pick(paths, 5),
                    statuses[rnd() % 6], variant == 3 ? "\"http\":{\"method\":\"GET\"}," : "",
                    (double)(rnd() % 250000) / 1000.0, (int)(rnd() % 1000000),
                    (unsigned long long)hi, (unsigned long long)lo);
}

static void lines_make(lines_t *ls, size_t count, int variant)
{
    ls->text = malloc(count * 512);
    ls->off = malloc(count * sizeof(size_t));
    ls->len = malloc(count * sizeof(size_t));
    ls->count = count;
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
        int n = make_line(ls->text + at, i, variant);
        ls->off[i] = at;
        ls->len[i] = (size_t)n;
        at += (size_t)n + 1;
    }
}

static void lines_free(lines_t *ls)
{
    free(ls->text);
    free(ls->off);
    free(ls->len);
}

/* A light callback that touches every span, so nothing can be optimised
 * away, without adding much of its own to the time measured. */
static bool sum_span(void *ctx, const plume_json_span_t *m)
{
    uint64_t *sum = ctx;
    *sum += m->key_len + m->raw_len + (uintptr_t)m->raw + (unsigned char)m->key[0] +
            (unsigned)m->raw_escaped;
    return true;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ns/line of one pass over all lines, with the light callback or none;
 * *sum gets the checksum. */
static double one_pass(const lines_t *ls, const plume_json_opts_t *opts, bool use_fn,
                       uint64_t *sum)
{
    uint64_t s = 0;
    double t0 = now_ns();
    for (size_t i = 0; i < ls->count; i++) {
        plume_json_scan_info_t info;
        if (!plume_json_object_scan(ls->text + ls->off[i], ls->len[i], opts,
                                    use_fn ? sum_span : NULL, &s, &info, NULL)) {
            fprintf(stderr, "bench_json_scan: line %zu refused\n", i);
            exit(1);
        }
        s += info.obj_len + info.members + info.flags;
    }
    *sum = s;
    return (now_ns() - t0) / (double)ls->count;
}

/* Best ns/line of the exact scanner alone and of the fast path, over
 * `rounds` passes of each, taken in turn so both see the same machine. */
static void time_both(const lines_t *ls, const plume_json_opts_t *opts, bool use_fn, int rounds,
                      double *exact, double *fast, uint64_t *sum_exact, uint64_t *sum_fast)
{
    *exact = *fast = 1e18;
    for (int r = 0; r < rounds; r++) {
        plume_json_scan_force_exact(true);
        double e = one_pass(ls, opts, use_fn, sum_exact);
        plume_json_scan_force_exact(false);
        double f = one_pass(ls, opts, use_fn, sum_fast);
        if (e < *exact)
            *exact = e;
        if (f < *fast)
            *fast = f;
    }
}

int main(int argc, char **argv)
{
    size_t count = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
    int rounds = argc > 2 ? atoi(argv[2]) : 30;
    if (count == 0 || rounds <= 0) {
        fprintf(stderr, "usage: %s [LINES] [ROUNDS]\n", argv[0]);
        return 2;
    }
    static const char *const names[] = {"benchmark lines", "with an escape", "non-ASCII text",
                                        "nested value"};
    static const struct {
        const char *name;
        plume_json_opts_t opts;
    } modes[] = {
        {"utf8 checked", {.max_depth = 63}},
        {"utf8 assumed", {.max_depth = 63, .assume_utf8 = true}},
    };
    int status = 0;
    for (int variant = 0; variant < 4; variant++) {
        lines_t ls;
        lines_make(&ls, count, variant);
        size_t bytes = 0;
        for (size_t i = 0; i < ls.count; i++)
            bytes += ls.len[i];
        for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
            for (int use_fn = 1; use_fn >= 0; use_fn--) {
                uint64_t se = 0, sf = 0;
                double exact, fast;
                time_both(&ls, &modes[m].opts, use_fn, rounds, &exact, &fast, &se, &sf);
                printf("%-15s %-12s %-11s %3.0f B/line: exact %6.1f ns/line, fast %6.1f ns/line "
                       "(x%.2f)%s\n",
                       names[variant], modes[m].name, use_fn ? "callback" : "no callback",
                       (double)bytes / (double)ls.count, exact, fast, exact / fast,
                       se == sf ? "" : "  SPANS DIFFER");
                if (se != sf)
                    status = 1;
            }
        }
        lines_free(&ls);
    }
    return status;
}
