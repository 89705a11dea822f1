/* SPDX-License-Identifier: MIT */
/* Events to NDJSON lines: the Axiom ingest flavour and the plain flavour used
 * by the file sink and the non-TTY console.
 *
 * Axiom line, keys in this order:
 *   "_time"        RFC 3339 with 9 fraction digits, from the event time
 *   user fields    every key of "fields", in order; a key starting with '_'
 *                  becomes "user" + key ("_id" -> "user_id"): Axiom reserves
 *                  '_' names. Non-string keys are written as their JSON text.
 *   "level"        if the event has a level and no user field is named
 *                  "level" or "severity"
 *   "message"      if the event has a message and no user field is named
 *                  "message" or "msg"
 *   "truncated"    true, if set and no user field has that name
 *   "parse_error"  if set and no user field has that name
 * "origin" is not sent to Axiom.
 *
 * Plain NDJSON line: the same, plus "origin" (if set and no user field has
 * that name) after "message". Keeping "_time" and the renaming makes a line
 * never hold a key twice, and a file written by the file sink can be ingested
 * into Axiom as is.
 *
 * A user field with the same name as a key written after the fields wins and
 * that key is left out. */
#ifndef PLUME_AXIOM_ENCODE_H
#define PLUME_AXIOM_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"

/* Appends one Axiom NDJSON line (ending in '\n') for the msgpack event
 * event[0..len). Returns false, appending nothing, if the event is not a valid
 * event map (the caller counts and drops it) or if `out` reached its maximum;
 * in the latter case out->failed is set, so the caller can flush the batch
 * and retry the event. */
bool plume_axiom_encode_event(plume_buf_t *out, const uint8_t *event, size_t len);

/* Same for the plain NDJSON flavour (file sink, non-TTY console). */
bool plume_ndjson_encode_event(plume_buf_t *out, const uint8_t *event, size_t len);

/* The same two for an event given as a view (event.h); false only when out
 * reached its maximum (out->failed set). */
bool plume_axiom_encode_view(plume_buf_t *out, const plume_event_view_t *ev);
bool plume_ndjson_encode_view(plume_buf_t *out, const plume_event_view_t *ev);

#endif
