/* SPDX-License-Identifier: MIT */
/* The interface every sink implements (Axiom, console, file; Sentry next).
 *
 * A sink embeds plume_sink_t as its first member. submit() takes one event
 * as a view (event.h) and must not keep it or anything it points to. flush() seals whatever
 * is open so that it gets delivered without waiting for batch age. idle() is true
 * when nothing is left to deliver; stopped() when the sink gave up for good
 * (e.g. its token was refused). can_accept() is the backpressure signal. */
#ifndef PLUME_SINK_H
#define PLUME_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

typedef struct plume_sink plume_sink_t;

typedef struct plume_sink_ops {
    void (*submit)(plume_sink_t *s, const plume_event_view_t *ev);
    void (*flush)(plume_sink_t *s);
    bool (*idle)(const plume_sink_t *s);
    bool (*stopped)(const plume_sink_t *s);
    uint64_t (*pending_events)(const plume_sink_t *s);
    void (*free)(plume_sink_t *s);
    /* False while the sink holds as much as its memory bound allows: inputs
     * should pause. NULL means always true. */
    bool (*can_accept)(const plume_sink_t *s);
} plume_sink_ops_t;

struct plume_sink {
    const char *name;
    const plume_sink_ops_t *ops;
};

#endif
