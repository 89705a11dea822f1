/* SPDX-License-Identifier: MIT */
/* Records -> pipeline events, on the worker thread.
 *
 * Each log record becomes one event: time (from the stamp), level, message,
 * and fields (written as JSON text, record_json.h) = the record's own (with the thread's scope overlay), then
 * thread.id / thread.name, release / environment / server_name, the global
 * scope version current at the record's stamp ("tags", "user", "contexts"),
 * and, for error and fatal events, "breadcrumbs". Breadcrumb records (and,
 * with logs_as_breadcrumbs, logs at info and above) go to the breadcrumb
 * store.
 *
 * Error events wait until the rings have been drained empty once after them
 * (at most ERROR_WAIT_MS): a breadcrumb another thread added just before the
 * error may sit in a ring the worker has not reached yet. They wait no
 * longer than the breadcrumb store can keep what came before them (crumbs.h:
 * cap - max newer ones).
 *
 * A captured error record (plume_capture_error) becomes the same event as an
 * error log, plus the `error` map (error_map.h). Every field rendered here is
 * scrubbed (scrub.h) in the rendering pass: the record's fields and overlay,
 * the scope's tags/user/contexts, the breadcrumbs' data. Every event leaves
 * through the emitter (emit.h: before_send, then the pipeline), which the
 * crash delivery uses too (&convert->emit).
 *
 * plume_convert_init() also sets the caller-side error sample rate
 * (capture.h) and makes the first module-table refresh (error_map.h): it
 * runs in plume_init() before the worker thread starts and before the SDK
 * accepts calls. */
#ifndef PLUME_SDK_CONVERT_H
#define PLUME_SDK_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "crumbs.h"
#include "emit.h"
#include "error_map.h"
#include "metrics.h"
#include "options.h"
#include "pipeline.h"
#include "scope.h"
#include "thread.h"

typedef struct plume_convert {
    plume_pipeline_t *pipeline;
    plume_metrics_t *metrics;
    bool logs_as_breadcrumbs;
    plume_buf_t constant;      /* ,"release":..,"environment":..,"server_name":.. (JSON) */
    plume_scope_cache_t scope;
    plume_buf_t scope_json[PLUME_SCOPE_HISTORY]; /* scope.v[i] as JSON members */
    uint64_t scope_json_generation;
    plume_crumbs_t crumbs;
    plume_buf_t json;          /* the event's fields being built (JSON object text) */
    plume_buf_t crumb_array;   /* its breadcrumbs (msgpack) */
    plume_buf_t deferred;      /* error records waiting: [tid u32][name 16][len u32][bytes] */
    uint32_t ndeferred;
    uint64_t deferred_since_ms;
    uint64_t deferred_crumb_mark; /* crumbs.added before the oldest waiting error came */
    plume_emit_t emit;         /* before_send + submit; its scrub list renders fields */
    bool emit_ready;
    plume_error_map_t error_map; /* in_app prefixes, module-table refreshes */
    plume_buf_t error;         /* a captured error's `error` map (msgpack) */
    uint64_t records;          /* events submitted */
    uint64_t bad_records;      /* records that did not read back (a bug if ever > 0) */
} plume_convert_t;

/* False (with err) when out of memory. */
bool plume_convert_init(plume_convert_t *c, const plume_options_t *o, plume_pipeline_t *pipeline,
                        plume_metrics_t *metrics, char *err, size_t errlen);
void plume_convert_free(plume_convert_t *c);

/* The drain callback (ctx is the plume_convert_t). */
void plume_convert_record(void *ctx, const plume_thread_t *t, const uint8_t *rec, size_t len);

/* After a drain pass: rings_empty when the pass found every ring empty.
 * Submits the waiting error events when their wait is over, or now when
 * `force` (stopping). */
void plume_convert_pass_done(plume_convert_t *c, bool rings_empty, bool force);

#endif
