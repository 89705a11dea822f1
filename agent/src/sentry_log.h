/* SPDX-License-Identifier: MIT */
/* Pipeline events -> Sentry log entries, the members of a `log` item's
 * {"items":[...]} (PROTOCOLS.md "Sentry ingest", log item entries).
 *
 * An entry is {"timestamp":<epoch seconds, float>,"trace_id":"<32 hex>",
 * "level":"trace|debug|info|warn|error|fatal","body":"<message>",
 * "attributes":{...}}. Attributes are {"value":V,"type":T} with T one of
 * string, boolean, integer, double:
 *   - release / environment / server_name fields (or the sink's defaults)
 *     become sentry.release / sentry.environment / server.address;
 *   - sentry.sdk.name / sentry.sdk.version and plume.origin are added;
 *   - every other top-level user field keeps its key: strings, booleans,
 *     integers (int64 range; larger unsigned values become strings) and
 *     doubles (non-finite ones as strings) as they are, nil and nested
 *     arrays/maps as their JSON text (type string).
 * A key appears at most once (the first occurrence wins). */
#ifndef PLUME_SENTRY_LOG_H
#define PLUME_SENTRY_LOG_H

#include <stdbool.h>

#include "buf.h"
#include "event.h"
#include "sentry_event.h"

/* Appends one log entry for *ev to out. trace_id: 32 lowercase hex digits.
 * Returns false (out back to its length on entry) when out reached its
 * maximum or the event's fields_json does not parse. */
bool plume_sentry_log_json(plume_buf_t *out, const plume_event_view_t *ev, const char *trace_id,
                           const plume_sentry_event_opts_t *opts);

#endif
