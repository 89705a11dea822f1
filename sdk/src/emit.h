/* SPDX-License-Identifier: MIT */
/* The SDK's last step before the pipeline: before_send, then submit.
 *
 * Every event the SDK produces (log and error events from convert.c, crash
 * events from crash_delivery.c) goes through plume_emit(), on the worker
 * thread. Without a before_send callback it is plume_pipeline_submit_view()
 * and nothing else. With one, it builds a plume_outgoing_t from the view
 * (outgoing.c: level, message, and the fields, parsed from fields_json or
 * copied from the fields map only when the callback asks for them), calls
 * the callback, and submits the edited event: an edited field set is written
 * back in the form it came in (fields_json text or fields map), re-scrubbed
 * (scrub.h) so a field the callback adds cannot leak a secret, with its
 * hints recomputed. A non-zero return drops the event: counted in
 * metrics->dropped_encode (which plume_stats() reports in dropped_other, as
 * plume.h documents) and in e->dropped_before_send.
 *
 * The SDK worker's emitter is the convert stage's: `plume_convert_t.emit`
 * (convert.h), set up by plume_convert_init() and freed by
 * plume_convert_free(); the crash delivery submits with
 * plume_emit(&convert->emit, &view) once that is initialised.
 *
 * Worker thread only: an emitter is not shared between threads. */
#ifndef PLUME_SDK_EMIT_H
#define PLUME_SDK_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "metrics.h"
#include "options.h"
#include "pipeline.h"
#include "plume/plume.h"
#include "scrub.h"

/* The event a before_send callback sees (opaque in plume.h). Valid during
 * the callback only; outgoing.c implements the plume_outgoing_* accessors. */
struct plume_outgoing {
    plume_event_view_t ev;  /* the view being edited (level, message, fields) */
    const plume_scrub_t *scrub;
    plume_buf_t message;    /* the message, NUL-terminated, when read or set */
    bool message_ready;     /* message holds ev's message (or the set one) */
    bool message_null;      /* the message is absent */
    plume_buf_t pairs;      /* the fields as msgpack key/value pairs (no header) */
    uint32_t npairs;
    bool pairs_ready;       /* pairs were parsed from the view */
    bool pairs_bad;         /* the fields could not be parsed: reads and edits refused */
    bool fields_edited;     /* pairs changed: write them back */
    bool level_edited;
    bool message_edited;
    char **strings;         /* NUL-terminated copies handed out by get_field */
    uint32_t nstrings, strings_cap;
};

/* Gives the callback's result back to the view: the message, level and
 * (when edited) the fields, rendered into `out` (fields_json) or `out_mp`
 * (a fields map). False when the edited fields could not be written (out of
 * memory, or past the buffers' maximum). */
bool plume_outgoing_finish(plume_outgoing_t *g, plume_buf_t *out_json, plume_buf_t *out_mp,
                           plume_event_view_t *ev);
/* Sets up / resets / frees the scratch an outgoing event uses (the emitter
 * keeps one and reuses its buffers from event to event). */
void plume_outgoing_init(plume_outgoing_t *g, const plume_scrub_t *scrub);
void plume_outgoing_reset(plume_outgoing_t *g, const plume_event_view_t *ev);
void plume_outgoing_free(plume_outgoing_t *g);

typedef struct plume_emit {
    plume_pipeline_t *pipeline;
    plume_metrics_t *metrics;
    plume_before_send_t before_send; /* NULL: plume_emit() only submits */
    void *before_send_user;
    plume_scrub_t scrub;             /* the options' scrub list (also for the
                                      * convert stage's rendering) */
    plume_outgoing_t outgoing;       /* reused for every event */
    plume_buf_t json;                /* an edited event's fields_json */
    plume_buf_t mp;                  /* ... or its fields map */
    uint64_t submitted;              /* events handed to the pipeline */
    uint64_t dropped_before_send;    /* events the callback dropped */
    uint64_t dropped_edit;           /* edited events that could not be written back
                                      * (also counted in dropped_encode) */
} plume_emit_t;

/* Sets up an emitter for pipeline p, counting into m (both borrowed; they
 * must outlive it). Copies what it needs from o. False when out of memory
 * (the emitter is then unusable but may be freed). */
bool plume_emit_init(plume_emit_t *e, const plume_options_t *o, plume_pipeline_t *p,
                     plume_metrics_t *m);
/* Applies before_send (when set) to *ev and submits the result to the
 * pipeline, or drops it as the callback asked. The view's bytes are only
 * read; they may be freed when this returns. */
void plume_emit(plume_emit_t *e, const plume_event_view_t *ev);
void plume_emit_free(plume_emit_t *e);

#endif
