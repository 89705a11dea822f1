/* SPDX-License-Identifier: MIT */
/* before_send, then the pipeline. See emit.h. */
#include "emit.h"

#include <string.h>

#define EDITED_MAX (64u << 20) /* an edited event's fields, either form */

bool plume_emit_init(plume_emit_t *e, const plume_options_t *o, plume_pipeline_t *p,
                     plume_metrics_t *m)
{
    memset(e, 0, sizeof(*e));
    e->pipeline = p;
    e->metrics = m;
    if (o) {
        e->before_send = o->before_send;
        e->before_send_user = o->before_send_user;
    }
    bool ok = plume_scrub_init(&e->scrub, o);
    plume_outgoing_init(&e->outgoing, &e->scrub);
    plume_buf_init(&e->json, EDITED_MAX);
    plume_buf_init(&e->mp, EDITED_MAX);
    return ok;
}

void plume_emit_free(plume_emit_t *e)
{
    plume_outgoing_free(&e->outgoing);
    plume_buf_free(&e->json);
    plume_buf_free(&e->mp);
    plume_scrub_free(&e->scrub);
}

/* Counts an event that does not reach the pipeline (dropped_encode is what
 * plume_stats() adds to dropped_other). */
static void count_drop(plume_emit_t *e)
{
    if (e->metrics)
        e->metrics->dropped_encode++;
}

void plume_emit(plume_emit_t *e, const plume_event_view_t *ev)
{
    if (__builtin_expect(e->before_send == NULL, 1)) {
        plume_pipeline_submit_view(e->pipeline, ev);
        e->submitted++;
        return;
    }
    plume_outgoing_t *g = &e->outgoing;
    plume_outgoing_reset(g, ev);
    int rc = e->before_send(g, e->before_send_user);
    if (rc != 0) {
        e->dropped_before_send++;
        count_drop(e);
    } else {
        plume_event_view_t out;
        if (plume_outgoing_finish(g, &e->json, &e->mp, &out)) {
            plume_pipeline_submit_view(e->pipeline, &out);
            e->submitted++;
        } else {
            e->dropped_edit++;
            count_drop(e);
        }
        plume_buf_reset(&e->json);
        plume_buf_reset(&e->mp);
    }
    plume_outgoing_reset(g, NULL); /* the strings handed out die with the call */
}
