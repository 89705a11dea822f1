/* SPDX-License-Identifier: MIT */
/* Fan-out of events to sinks. See pipeline.h. */
#include "pipeline.h"

#include <string.h>

void plume_pipeline_init(plume_pipeline_t *p)
{
    memset(p, 0, sizeof(*p));
    p->error_level = PLUME_LEVEL_ERROR;
}

bool plume_pipeline_add_sink_routed(plume_pipeline_t *p, plume_sink_t *s, unsigned routes)
{
    if (p->nsinks == PLUME_PIPELINE_MAX_SINKS)
        return false;
    p->routes[p->nsinks] = routes & PLUME_ROUTE_ALL;
    p->sinks[p->nsinks++] = s;
    return true;
}

bool plume_pipeline_add_sink(plume_pipeline_t *p, plume_sink_t *s)
{
    return plume_pipeline_add_sink_routed(p, s, PLUME_ROUTE_ALL);
}

plume_route_t plume_pipeline_route_of(const plume_pipeline_t *p, const plume_event_view_t *ev)
{
    if (ev->error || (ev->level != PLUME_LEVEL_NONE && ev->level >= p->error_level))
        return PLUME_ROUTE_ERRORS;
    return PLUME_ROUTE_LOGS;
}

bool plume_pipeline_submit(plume_pipeline_t *p, const uint8_t *event, size_t len)
{
    plume_event_view_t ev;
    if (!event || !plume_event_view(event, len, &ev))
        return false;
    plume_pipeline_submit_view(p, &ev);
    return true;
}

void plume_pipeline_submit_view(plume_pipeline_t *p, const plume_event_view_t *ev)
{
    unsigned route = plume_pipeline_route_of(p, ev);
    for (size_t i = 0; i < p->nsinks; i++)
        if (p->routes[i] & route)
            p->sinks[i]->ops->submit(p->sinks[i], ev);
}

void plume_pipeline_flush(plume_pipeline_t *p)
{
    for (size_t i = 0; i < p->nsinks; i++)
        p->sinks[i]->ops->flush(p->sinks[i]);
}

bool plume_pipeline_can_accept(const plume_pipeline_t *p)
{
    for (size_t i = 0; i < p->nsinks; i++) {
        const plume_sink_t *s = p->sinks[i];
        if (s->ops->can_accept && !s->ops->can_accept(s))
            return false;
    }
    return true;
}

bool plume_pipeline_idle(const plume_pipeline_t *p)
{
    for (size_t i = 0; i < p->nsinks; i++)
        if (!p->sinks[i]->ops->idle(p->sinks[i]))
            return false;
    return true;
}

bool plume_pipeline_stuck(const plume_pipeline_t *p)
{
    bool any_busy = false;
    for (size_t i = 0; i < p->nsinks; i++) {
        const plume_sink_t *s = p->sinks[i];
        if (s->ops->idle(s))
            continue;
        any_busy = true;
        if (!s->ops->stopped(s))
            return false;
    }
    return any_busy;
}

bool plume_pipeline_any_stopped(const plume_pipeline_t *p)
{
    for (size_t i = 0; i < p->nsinks; i++)
        if (p->sinks[i]->ops->stopped(p->sinks[i]))
            return true;
    return false;
}

uint64_t plume_pipeline_pending_events(const plume_pipeline_t *p)
{
    uint64_t n = 0;
    for (size_t i = 0; i < p->nsinks; i++)
        n += p->sinks[i]->ops->pending_events(p->sinks[i]);
    return n;
}

void plume_pipeline_free(plume_pipeline_t *p)
{
    for (size_t i = 0; i < p->nsinks; i++)
        p->sinks[i]->ops->free(p->sinks[i]);
    p->nsinks = 0;
}
