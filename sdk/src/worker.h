/* SPDX-License-Identifier: MIT */
/* The SDK's background worker: one thread that drains every thread's ring,
 * turns the records into pipeline events (convert.h: fields, thread, scope,
 * breadcrumbs) and feeds the agent's pipeline in-process (batch -> outbox ->
 * send), on its own event loop. It polls the rings on a short timer and is
 * woken early by plume_worker_wake(). */
#ifndef PLUME_SDK_WORKER_H
#define PLUME_SDK_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"

typedef struct plume_worker plume_worker_t;

/* Starts the worker for these options (copied). NULL with a message in err
 * when the pipeline cannot be built (e.g. the outbox directory is unusable). */
plume_worker_t *plume_worker_start(const plume_options_t *opts, char *err, size_t errlen);
/* Any thread: ends the worker's current wait so that it drains now. */
void plume_worker_wake(plume_worker_t *w);
/* Any thread but the worker: drains every ring and waits until everything
 * drained so far is delivered, or timeout_ms passed. PLUME_OK or
 * PLUME_ETIMEDOUT. */
plume_status_t plume_worker_flush(plume_worker_t *w, uint32_t timeout_ms);
/* Drains what is left, delivers within timeout_ms, stops the thread and frees
 * everything; what is not delivered stays in the outbox. Adds the worker's
 * final counters to *totals (events, delivered, dropped_other). PLUME_OK when
 * everything was delivered, else PLUME_ETIMEDOUT. */
plume_status_t plume_worker_stop(plume_worker_t *w, uint32_t timeout_ms, plume_stats_t *totals);
/* Adds the worker's counters so far (events, delivered, dropped_other) to
 * *out; plume_worker_stop() adds the final ones to its totals the same way. */
void plume_worker_add_stats(plume_worker_t *w, plume_stats_t *out);

#endif
