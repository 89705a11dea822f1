/* SPDX-License-Identifier: MIT */
/* Delivering the crash reports a previous run left in data_dir/crash/.
 *
 * At the worker's start (plume_crash_delivery_start, on the worker thread:
 * the pipeline exists) every "*.plume-crash" file is loaded and checked
 * (crash_report.h) and becomes ONE pipeline event: level fatal, origin
 * "crash", message "SIGSEGV (SEGV_MAPERR) at 0x0", fields_json in the shape
 * convert.c gives log events (the thread's overlay, thread.id/thread.name,
 * release/environment/server_name, the scope's tags/user/contexts and
 * "breadcrumbs"), and the `error` map of docs/event-schema.md (type, value,
 * id, mechanism "signalhandler", handled false, signal, fault_addr, thread,
 * registers, frames innermost first with module, in_app and, where the
 * module's symbol table allows, function + offset, and modules). A file
 * that is not a valid report is moved to data_dir/crash/corrupt/ and counted
 * (never retried), and a warning event names it and the reason.
 *
 * When a report file is removed (never lose a crash). The pipeline tells no
 * one when a given event reached a sink's outbox, only when nothing is left
 * to deliver (plume_pipeline_idle) and, through the metrics, what was lost.
 * So a submitted report stays on disk until a later worker turn finds the
 * pipeline idle with no event lost since the submission (dropped_* counters
 * unchanged): then every event submitted so far, the crash events included,
 * was acknowledged by every sink, and the files are removed. Should events
 * be lost meanwhile, or the worker stop first (plume_shutdown, a timeout,
 * the sinks offline), the files stay for the next start: at worst a crash is
 * sent twice (Sentry deduplicates it by event_id = the report id), never
 * lost. A pipeline without sinks delivers nothing: the files stay. A report
 * is submitted once per run, so one that keeps failing is not retried
 * forever within a run; at most PLUME_CRASH_DELIVERY_MAX reports are taken
 * per start (the rest wait for the next). A report before_send drops is the
 * user's decision: its file is removed at once. */
#ifndef PLUME_SDK_CRASH_DELIVERY_H
#define PLUME_SDK_CRASH_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "crash_report.h"
#include "event.h"
#include "metrics.h"
#include "options.h"
#include "pipeline.h"
#include "scrub.h"

#define PLUME_CRASH_DELIVERY_MAX 64 /* reports taken per start */

/* How the delivery hands an event to the pipeline: returns false when the
 * event was dropped on purpose (before_send), true when it was submitted. */
typedef bool (*plume_crash_submit_fn)(void *ctx, const plume_event_view_t *ev);

/* How a report becomes an event. */
typedef struct plume_crash_event_opts {
    const char *const *in_app_prefixes; /* modules under these are in_app too */
    size_t n_in_app_prefixes;
    const plume_scrub_t *scrub;         /* may be NULL: nothing scrubbed */
    bool symbolicate;                   /* look up function names in the modules' files */
} plume_crash_event_opts_t;

/* The parts of one event built from a report (reused from report to
 * report). */
typedef struct plume_crash_event {
    plume_buf_t json;    /* fields_json */
    plume_buf_t error;   /* the error map (msgpack) */
    plume_buf_t message; /* the message text */
    plume_buf_t scratch;
    plume_event_view_t view;
} plume_crash_event_t;

void plume_crash_event_init(plume_crash_event_t *e);
void plume_crash_event_free(plume_crash_event_t *e);
/* Builds e->view (pointing into e's buffers) from report r. False when out
 * of memory or past a buffer's maximum. */
bool plume_crash_event_build(plume_crash_event_t *e, const plume_crash_report_t *r,
                             const plume_crash_event_opts_t *o);

typedef struct plume_crash_delivery {
    char *dir;        /* data_dir/crash (malloc'd) */
    char *prefixes[PLUME_MAX_IN_APP_PREFIXES]; /* in_app prefixes (copies) */
    size_t nprefixes;
    char **pending;   /* paths of submitted reports waiting for the pipeline */
    size_t npending;
    uint64_t drops_at_submit; /* the metrics' dropped_* sum at the submission */
    bool settled;     /* pending were removed or given up for this run */
    /* counters, for tests and diagnostics */
    uint64_t submitted, removed, corrupt, kept;
} plume_crash_delivery_t;

/* At the worker's start, on the thread calling plume_init (o is freed
 * after it): copies what the delivery needs from o (the directory
 * plume_crash_data_dir(o)/crash, the in_app prefixes). False when out of
 * memory. */
bool plume_crash_delivery_init(plume_crash_delivery_t *d, const plume_options_t *o);
/* Worker thread, before its first drain: loads, converts and submits the
 * pending reports (nothing when the directory does not exist). `m` is the
 * pipeline's metrics (read for the drop counters). */
void plume_crash_delivery_run(plume_crash_delivery_t *d, const plume_scrub_t *scrub,
                              plume_crash_submit_fn submit, void *ctx, const plume_metrics_t *m);
/* Worker thread, every turn (cheap when nothing is pending): removes the
 * submitted reports once the pipeline is idle with nothing lost since (see
 * the file comment), or gives them up for this run when events were lost. */
void plume_crash_delivery_poll(plume_crash_delivery_t *d, const plume_pipeline_t *p,
                               const plume_metrics_t *m);
/* Frees the state; reports still pending stay on disk for the next start. */
void plume_crash_delivery_free(plume_crash_delivery_t *d);

#endif
