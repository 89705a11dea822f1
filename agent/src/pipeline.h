/* SPDX-License-Identifier: MIT */
/* The pipeline: the set of sinks events are routed to.
 *
 * Collectors and the SDK worker hand events to plume_pipeline_submit()
 * (msgpack, event.h) or plume_pipeline_submit_view() (an event read in place,
 * e.g. a JSON line passed through); each sink batches, encodes and delivers
 * them its own way. Each sink takes the routes it was added with: "errors"
 * (events at or above the pipeline's error level, or carrying an error map:
 * captured errors and crashes) and/or "logs" (every other event). */
#ifndef PLUME_PIPELINE_H
#define PLUME_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sink.h"

#define PLUME_PIPELINE_MAX_SINKS 8

typedef enum plume_route {
    PLUME_ROUTE_LOGS = 1,
    PLUME_ROUTE_ERRORS = 2,
    PLUME_ROUTE_ALL = 3,
} plume_route_t;

typedef struct plume_pipeline {
    plume_sink_t *sinks[PLUME_PIPELINE_MAX_SINKS];
    unsigned routes[PLUME_PIPELINE_MAX_SINKS]; /* plume_route_t bits per sink */
    size_t nsinks;
    plume_level_t error_level; /* events at or above it are errors */
} plume_pipeline_t;

/* An empty pipeline whose error level is PLUME_LEVEL_ERROR. */
void plume_pipeline_init(plume_pipeline_t *p);
/* Takes ownership of the sink, which gets every event. False when the table
 * is full. */
bool plume_pipeline_add_sink(plume_pipeline_t *p, plume_sink_t *s);
/* The same for a sink that gets only the events of `routes` (plume_route_t
 * bits; 0 = none, the sink is kept but idle). */
bool plume_pipeline_add_sink_routed(plume_pipeline_t *p, plume_sink_t *s, unsigned routes);
/* The route of one event: PLUME_ROUTE_ERRORS or PLUME_ROUTE_LOGS. */
plume_route_t plume_pipeline_route_of(const plume_pipeline_t *p, const plume_event_view_t *ev);
/* Reads the msgpack event once and hands it to every sink. False, with no
 * sink called, if it is not a valid event (the caller counts it). */
bool plume_pipeline_submit(plume_pipeline_t *p, const uint8_t *event, size_t len);
void plume_pipeline_submit_view(plume_pipeline_t *p, const plume_event_view_t *ev);
/* Seals open batches and writes buffered output. */
void plume_pipeline_flush(plume_pipeline_t *p);
/* False when a sink is at its memory bound: inputs should pause reading. */
bool plume_pipeline_can_accept(const plume_pipeline_t *p);
/* Nothing left to deliver in any sink. */
bool plume_pipeline_idle(const plume_pipeline_t *p);
/* Every sink that still holds data has stopped: waiting longer cannot help. */
bool plume_pipeline_stuck(const plume_pipeline_t *p);
bool plume_pipeline_any_stopped(const plume_pipeline_t *p);
uint64_t plume_pipeline_pending_events(const plume_pipeline_t *p);
void plume_pipeline_free(plume_pipeline_t *p);

#endif
