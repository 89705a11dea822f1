/* SPDX-License-Identifier: MIT */
/* Pipeline events -> Sentry event payloads (the JSON of an envelope's `event`
 * item, PROTOCOLS.md "Sentry ingest").
 *
 * What goes where:
 *   time -> timestamp (RFC 3339), level -> level (warn -> warning, trace ->
 *   debug), message -> logentry.formatted, origin -> logger ("plume.<origin>");
 *   of the user fields, release / environment / server_name / dist (strings),
 *   tags (a map; scalar values as strings), user (id, email, ip_address,
 *   username, name), contexts (a map of maps), breadcrumbs (the SDK's array)
 *   and thread.id / thread.name go to their Sentry places when they have the
 *   right type; everything else goes to `extra`. The `error` map
 *   (docs/event-schema.md) becomes exception.values[0] with its mechanism,
 *   signal, stack (caller first, as Sentry wants) and registers, plus
 *   debug_meta.images for the modules that have a build id (Sentry needs a
 *   debug_id to symbolicate; an image without one is left out).
 * Everything read is bounds-checked: a malformed part is left out, never
 * half-written. */
#ifndef PLUME_SENTRY_EVENT_H
#define PLUME_SENTRY_EVENT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "event.h"

typedef struct plume_sentry_event_opts {
    const char *release;     /* used when the event carries none; may be NULL */
    const char *environment; /* the same */
    const char *server_name; /* the same */
    const char *sdk_version; /* sdk.version; NULL = the build's version */
} plume_sentry_event_opts_t;

/* Appends the Sentry event JSON for *ev to out, with the given 32-hex
 * event_id. Returns false (out truncated back to its length on entry) when
 * out reached its maximum or the event's fields_json does not parse. */
bool plume_sentry_event_json(plume_buf_t *out, const plume_event_view_t *ev,
                             const char *event_id, const plume_sentry_event_opts_t *opts);

/* The end of both encoders (this one and sentry_log.c): frees their scratch
 * buffer tmp and, unless ok and b still whole, takes b back to `start` and
 * returns false. */
bool plume_sentry_json_finish(plume_buf_t *b, size_t start, plume_buf_t *tmp, bool ok);

/* The Sentry spelling of a level ("warning" for warn, "debug" for trace). */
const char *plume_sentry_level(plume_level_t level);

/* The exception and debug_meta members for an "error" map (written with a
 * leading comma; nothing when the map holds nothing usable). thread_id_out
 * receives error.thread.id when present (else left as is). Used by
 * plume_sentry_event_json(). Returns false if out failed. */
bool plume_sentry_write_exception(plume_buf_t *out, const uint8_t *error, size_t len,
                                  uint64_t *thread_id_out, bool *has_thread);

#endif
