/* SPDX-License-Identifier: MIT */
/* The SDK's worker thread. See worker.h.
 *
 * Requests from other threads (flush, stop) go through a mutex-protected
 * ticket and plume_loop_wake(); the worker answers them between loop turns.
 * Everything the pipeline owns (loop, HTTP client, sinks) is touched by the
 * worker thread only, from start to free. */
#include "worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "axiom_sink.h"
#include "sentry_sink.h"
#include "clock.h"
#include "convert.h"
#include "crash_delivery.h"
#include "config.h"
#include "drain.h"
#include "event.h"
#include "http.h"
#include "loop.h"
#include "metrics.h"
#include "monotime.h"
#include "mp.h"
#include "pipeline.h"
#include "record.h"
#include "sdk_state.h"

#define POLL_MS 10           /* the rings are drained at least this often (unless
                              * plume_sdk.poll_ms says otherwise, for tests) */
#define BUSY_POLL_MS 1       /* ... and this often while records keep coming */
#define BUSY_RECORDS 256     /* a drain that found this many means "records keep coming" */
#define RECALIBRATE_MS 500   /* clock calibration refresh */
#define PER_THREAD_BATCH 4096 /* records taken from one ring per pass */

struct plume_worker {
    pthread_t thread;
    /* worker thread only */
    plume_loop_t *loop;
    plume_http_t *http;
    plume_pipeline_t pipeline;
    plume_config_t cfg;
    plume_convert_t convert; /* records -> events */
    bool convert_ready;
    plume_metrics_t metrics;
    plume_crash_delivery_t crash; /* the previous runs' crash reports */
    bool crash_ready;
    uint64_t last_calibration_ms;
    bool watching_wake;
    /* shared, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t flush_asked, flush_done; /* tickets */
    bool stop;
    uint64_t stop_deadline_ms;
    bool stopped_idle; /* the pipeline was idle when the thread ended */
    plume_metrics_t snapshot;
    uint64_t snapshot_records;
};


/* Drains the rings while the pipeline has room (when it has none, records
 * wait in the rings, and the rings drop and count once full). Returns the
 * records taken. */
static size_t drain(plume_worker_t *w, bool stopping)
{
    size_t total = 0;
    while (plume_pipeline_can_accept(&w->pipeline)) {
        size_t n = plume_drain(plume_convert_record, &w->convert, PER_THREAD_BATCH);
        plume_convert_pass_done(&w->convert, n == 0, false);
        total += n;
        if (n == 0)
            break;
    }
    if (stopping)
        plume_convert_pass_done(&w->convert, false, true);
    return total;
}

/* The crash delivery's submit: the same emitter as every SDK event
 * (before_send, then the pipeline). False when before_send dropped it. */
static bool crash_submit(void *ctx, const plume_event_view_t *ev)
{
    plume_worker_t *w = ctx;
    uint64_t dropped = w->convert.emit.dropped_before_send;
    w->metrics.received++;
    plume_emit(&w->convert.emit, ev);
    w->convert.records++;
    return w->convert.emit.dropped_before_send == dropped;
}

static void *worker_main(void *arg)
{
    plume_worker_t *w = arg;
    pthread_setname_np(pthread_self(), "plume-worker");
    if (w->crash_ready)
        plume_crash_delivery_run(&w->crash, &w->convert.emit.scrub, crash_submit, w, &w->metrics);
    uint64_t flush_target = 0;
    bool stopping = false;
    uint64_t deadline = 0;
    bool busy = false; /* the last turn found records coming: look again soon */
    for (;;) {
        int idle_ms = plume_sdk.poll_ms ? (int)plume_sdk.poll_ms : POLL_MS;
        atomic_store_explicit(&plume_sdk.worker_waiting, true, memory_order_relaxed);
        plume_loop_run_once(w->loop, busy ? BUSY_POLL_MS : idle_ms);
        atomic_store_explicit(&plume_sdk.worker_waiting, false, memory_order_relaxed);
        uint64_t now = plume_mono_ms();
        if (now - w->last_calibration_ms >= RECALIBRATE_MS) {
            plume_clock_recalibrate();
            w->last_calibration_ms = now;
            /* modules dlopen'ed since: in the table before a crash needs them */
            plume_error_map_refresh(&w->convert.error_map, now);
        }
        busy = drain(w, false) >= BUSY_RECORDS;
        plume_crash_delivery_poll(&w->crash, &w->pipeline, &w->metrics);

        pthread_mutex_lock(&w->mu);
        if (w->flush_asked > flush_target) {
            flush_target = w->flush_asked;
            pthread_mutex_unlock(&w->mu);
            plume_pipeline_flush(&w->pipeline);
            pthread_mutex_lock(&w->mu);
        }
        if (w->stop && !stopping) {
            stopping = true;
            deadline = w->stop_deadline_ms;
            pthread_mutex_unlock(&w->mu);
            drain(w, true);
            plume_pipeline_flush(&w->pipeline);
            pthread_mutex_lock(&w->mu);
        }
        bool idle = plume_pipeline_idle(&w->pipeline);
        if (idle && w->flush_done < flush_target) {
            w->flush_done = flush_target;
            pthread_cond_broadcast(&w->cv);
        }
        w->snapshot = w->metrics;
        w->snapshot_records = w->convert.records;
        bool done = stopping && (idle || plume_mono_ms() >= deadline ||
                                 plume_pipeline_stuck(&w->pipeline));
        if (done)
            w->stopped_idle = idle;
        pthread_mutex_unlock(&w->mu);
        if (done) {
            plume_crash_delivery_poll(&w->crash, &w->pipeline, &w->metrics);
            break;
        }
    }
    return NULL;
}

/* The log calls' wake-ups: clear the counter; the loop turn then drains. */
static void on_wake(plume_loop_t *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)events;
    (void)arg;
    uint64_t n;
    ssize_t r = read(fd, &n, sizeof(n));
    (void)r;
}

/* The pipeline: the Axiom sink when dataset and token are set, the Sentry
 * sink when a DSN is (the option, else SENTRY_DSN). */
static bool build_pipeline(plume_worker_t *w, const plume_options_t *o, char *err, size_t errlen)
{
    if (!plume_config_load(&w->cfg, NULL, err, errlen))
        return false;
    plume_axiom_config_t *ax = &w->cfg.axiom;
    char **dst[] = {&ax->url, &ax->dataset, &ax->token, &ax->org_id};
    const char *src[] = {o->axiom_url, o->axiom_dataset, o->axiom_token, o->axiom_org_id};
    for (size_t i = 0; i < 4; i++) {
        if (!src[i])
            continue;
        free(*dst[i]);
        if (!(*dst[i] = strdup(src[i]))) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
    }
    const char *env_dir = getenv("PLUME_DATA_DIR");
    const char *data_dir = o->data_dir ? o->data_dir
                           : env_dir && *env_dir ? env_dir
                                                 : PLUME_DEFAULT_DATA_DIR;
    plume_pipeline_init(&w->pipeline);
    if (!(w->loop = plume_loop_new()) || !(w->http = plume_http_new(w->loop, NULL)) ||
        (plume_sdk.wake_fd >= 0 &&
         plume_loop_watch(w->loop, plume_sdk.wake_fd, PLUME_EV_READ, on_wake, w) != 0)) {
        snprintf(err, errlen, "cannot start the event loop");
        return false;
    }
    w->watching_wake = plume_sdk.wake_fd >= 0;
    /* Routing as the agent does it ([routing]): errors to Sentry, logs to
     * Axiom, errors also to Axiom unless the options say otherwise. */
    if (o->sentry_dsn) {
        free(w->cfg.sentry.dsn);
        if (!(w->cfg.sentry.dsn = strdup(o->sentry_dsn))) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
    }
    w->cfg.routing.logs_to_sentry = o->logs_to_sentry;
    w->cfg.routing.errors_to_axiom = o->errors_to_axiom;
    bool sentry = plume_config_sentry_active(&w->cfg);
    w->pipeline.error_level = PLUME_LEVEL_ERROR;
    if (plume_config_axiom_active(&w->cfg)) {
        plume_sink_t *s = plume_axiom_sink_new(w->loop, w->http, &w->cfg.axiom, data_dir,
                                               w->cfg.agent.max_memory, &w->metrics, err, errlen);
        if (!s)
            return false;
        unsigned routes = PLUME_ROUTE_LOGS;
        if (!sentry || o->errors_to_axiom)
            routes |= PLUME_ROUTE_ERRORS;
        plume_pipeline_add_sink_routed(&w->pipeline, s, routes);
    }
    if (sentry) {
        plume_sink_t *s = plume_sentry_sink_new(w->loop, w->http, &w->cfg.sentry, PLUME_LEVEL_ERROR,
                                                data_dir, &w->metrics, err, errlen);
        if (!s)
            return false;
        unsigned routes = PLUME_ROUTE_ERRORS;
        if (o->logs_to_sentry)
            routes |= PLUME_ROUTE_LOGS;
        plume_pipeline_add_sink_routed(&w->pipeline, s, routes);
    }
    return true;
}

static void worker_free(plume_worker_t *w)
{
    plume_pipeline_free(&w->pipeline);
    if (w->watching_wake)
        plume_loop_unwatch(w->loop, plume_sdk.wake_fd);
    if (w->http)
        plume_http_free(w->http);
    if (w->loop)
        plume_loop_free(w->loop);
    plume_config_free(&w->cfg);
    plume_crumbs_publish(NULL); /* the crash handler stops reading the store */
    if (w->crash_ready)
        plume_crash_delivery_free(&w->crash);
    if (w->convert_ready)
        plume_convert_free(&w->convert);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

plume_worker_t *plume_worker_start(const plume_options_t *o, char *err, size_t errlen)
{
    plume_worker_t *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    plume_cond_init_monotonic(&w->cv);
    if (!build_pipeline(w, o, err, errlen) ||
        !(w->convert_ready =
              plume_convert_init(&w->convert, o, &w->pipeline, &w->metrics, err, errlen))) {
        worker_free(w);
        return NULL;
    }
    if (!(w->crash_ready = plume_crash_delivery_init(&w->crash, o))) {
        snprintf(err, errlen, "out of memory");
        worker_free(w);
        return NULL;
    }
    plume_crumbs_publish(&w->convert.crumbs); /* for the crash handler */
    w->last_calibration_ms = plume_mono_ms();
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        snprintf(err, errlen, "cannot start the worker thread");
        worker_free(w);
        return NULL;
    }
    return w;
}

void plume_worker_wake(plume_worker_t *w) { plume_loop_wake(w->loop); }

/* Waits (caller holds mu) until flush ticket `ticket` is done or timeout_ms
 * passed. */
static bool wait_until(plume_worker_t *w, uint64_t ticket, uint32_t timeout_ms)
{
    uint64_t deadline = plume_mono_ms() + timeout_ms;
    while (w->flush_done < ticket)
        if (!plume_cond_wait_until(&w->cv, &w->mu, deadline))
            return w->flush_done >= ticket;
    return true;
}

plume_status_t plume_worker_flush(plume_worker_t *w, uint32_t timeout_ms)
{
    pthread_mutex_lock(&w->mu);
    uint64_t ticket = ++w->flush_asked;
    pthread_mutex_unlock(&w->mu);
    plume_loop_wake(w->loop);
    pthread_mutex_lock(&w->mu);
    bool ok = wait_until(w, ticket, timeout_ms);
    pthread_mutex_unlock(&w->mu);
    return ok ? PLUME_OK : PLUME_ETIMEDOUT;
}

/* Adds counters (the pipeline's and the records converted) to *out. */
static void add_stats(const plume_metrics_t *m, uint64_t records, plume_stats_t *out)
{
    out->events += records;
    out->delivered += m->delivered;
    out->dropped_other += m->dropped_outbox_full + m->dropped_failed + m->dropped_corrupt +
                          m->dropped_encode + m->dropped_rate_limited;
}

plume_status_t plume_worker_stop(plume_worker_t *w, uint32_t timeout_ms, plume_stats_t *totals)
{
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    w->stop_deadline_ms = plume_mono_ms() + timeout_ms;
    pthread_mutex_unlock(&w->mu);
    plume_loop_wake(w->loop);
    pthread_join(w->thread, NULL);
    bool idle = w->stopped_idle;
    add_stats(&w->metrics, w->convert.records, totals); /* the thread is gone: final values */
    worker_free(w);
    return idle ? PLUME_OK : PLUME_ETIMEDOUT;
}

void plume_worker_add_stats(plume_worker_t *w, plume_stats_t *out)
{
    pthread_mutex_lock(&w->mu);
    add_stats(&w->snapshot, w->snapshot_records, out);
    pthread_mutex_unlock(&w->mu);
}
