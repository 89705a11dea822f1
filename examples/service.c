/* SPDX-License-Identifier: MIT */
/* A small multi-threaded "service" using libplume as a real one would: it
 * configures the SDK from the environment, starts worker threads that handle
 * fake requests and log each with typed fields, logs warnings and errors on
 * the unhappy paths, and shuts down delivering what it can.
 *
 *   AXIOM_TOKEN=xaat-... AXIOM_DATASET=demo ./plume-example-service [requests] [threads]
 *
 * Also honoured: AXIOM_URL (e.g. a local receiver), PLUME_DATA_DIR (the
 * outbox; default /var/lib/plume). It prints the SDK's counters at the end and
 * exits 0 when everything the SDK accepted was delivered (log calls a full
 * ring refused are counted in dropped_ring_full, not an error). */
#include <plume/plume.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static long requests_per_thread = 1000;

/* Stands in for the request's real work (about a microsecond of CPU), so that
 * the log rate is a service's, not a benchmark's. */
static uint64_t do_work(long id)
{
    uint64_t x = (uint64_t)id | 1;
    for (int i = 0; i < 300; i++)
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
}

/* A deterministic "request": path, status and duration from the request id.
 * The request id is pushed on the thread's scope for the request's events,
 * and the database query leaves a breadcrumb, which an error event then
 * carries. */
static void handle_request(int worker, long id)
{
    PLUME_SCOPE_PUSH(plume_i64("request_id", id));
    volatile uint64_t sink = do_work(id);
    (void)sink;
    static const char *const paths[] = {"/api/orders", "/api/users", "/healthz", "/api/payments"};
    const char *path = paths[id % 4];
    int status = id % 97 == 0 ? 500 : id % 13 == 0 ? 404 : 200;
    double ms = (double)(id % 250) + 0.5;
    PLUME_BREADCRUMB("db", "SELECT", plume_str("table", path + 5), plume_i64("rows", id % 7),
                     plume_i64("request", id));
    if (status == 500)
        PLUME_ERROR("request failed", plume_str("path", path), plume_i64("status", status),
                    plume_i64("worker", worker), plume_i64("request", id));
    else if (ms > 240)
        PLUME_WARN("slow request", plume_str("path", path), plume_f64("duration_ms", ms),
                   plume_i64("worker", worker), plume_i64("request", id));
    else
        PLUME_INFO("request completed", plume_str("path", path), plume_i64("status", status),
                   plume_f64("duration_ms", ms), plume_i64("worker", worker),
                   plume_i64("request", id));
    plume_scope_pop();
}

static void *worker_main(void *arg)
{
    int worker = (int)(intptr_t)arg;
    for (long i = 0; i < requests_per_thread; i++)
        handle_request(worker, (long)worker * requests_per_thread + i);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        requests_per_thread = strtol(argv[1], NULL, 10);
    int threads = argc > 2 ? atoi(argv[2]) : 4;
    if (requests_per_thread < 0 || threads < 1 || threads > 256) {
        fprintf(stderr, "usage: %s [requests per thread] [threads 1-256]\n", argv[0]);
        return 2;
    }
    plume_options_t *o = plume_options_new();
    if (!o)
        return 1;
    plume_options_set_axiom_token(o, getenv("AXIOM_TOKEN"));
    plume_options_set_axiom_dataset(o, getenv("AXIOM_DATASET"));
    plume_options_set_axiom_url(o, getenv("AXIOM_URL"));
    plume_options_set_data_dir(o, getenv("PLUME_DATA_DIR"));
    plume_options_set_release(o, "example-service@" PLUME_EXAMPLE_VERSION);
    plume_options_set_environment(o, "example");
    plume_status_t rc = plume_init(o);
    if (rc != PLUME_OK) {
        fprintf(stderr, "plume_init: %s\n", plume_strerror(rc));
        return 1;
    }
    plume_set_tag("service", "example-service");
    const plume_field_t app[] = {plume_str("name", "plume-example-service"),
                                 plume_str("build", PLUME_EXAMPLE_VERSION)};
    plume_set_context("app", app, 2);
    PLUME_INFO("service started", plume_i64("threads", threads),
               plume_i64("requests_per_thread", requests_per_thread));

    pthread_t *th = calloc((size_t)threads, sizeof(*th));
    if (!th)
        return 1;
    for (int i = 0; i < threads; i++)
        if (pthread_create(&th[i], NULL, worker_main, (void *)(intptr_t)i) != 0) {
            PLUME_FATAL("cannot start a worker thread", plume_i64("worker", i));
            threads = i;
            break;
        }
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    free(th);

    PLUME_INFO("service stopping");
    rc = plume_shutdown(30000);
    plume_stats_t st;
    plume_stats(&st);
    printf("plume-example-service: events=%" PRIu64 " delivered=%" PRIu64
           " dropped_ring_full=%" PRIu64 " dropped_other=%" PRIu64
           " breadcrumbs_dropped=%" PRIu64 " shutdown=%s\n",
           st.events, st.delivered, st.dropped_ring_full, st.dropped_other,
           st.breadcrumbs_dropped, plume_strerror(rc));
    return rc == PLUME_OK && st.dropped_other == 0 ? 0 : 1;
}
