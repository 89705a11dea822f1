/* SPDX-License-Identifier: MIT */
/* A record's fields straight to JSON, on the worker.
 *
 * The worker hands the pipeline each SDK event with its fields already as
 * JSON text (the event's "fields_json", the same path the stdin shipper uses
 * for JSON lines), so the Axiom encoder copies them instead of walking a
 * msgpack map value by value. A record's map holds only what record.c writes
 * (str keys; str, nil, int64, uint64, float64, bool values), so this writer
 * knows every case: it reserves room for the worst case once and writes with
 * plain stores. The text is what the generic msgpack -> JSON path would give
 * (same escaping, same numbers, "_"-prefixed keys renamed "user_..."), which
 * the tests check. Scrubbing (scrub.h) is applied in the same pass. */
#ifndef PLUME_SDK_RECORD_JSON_H
#define PLUME_SDK_RECORD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Appends the pairs of the msgpack map fields[0..len) as JSON members, each
 * ",\"key\":value", and ORs into *hints the PLUME_HINT_* bits of the keys.
 * False, with out unchanged, when the map holds anything a record never does
 * (or is cut short), or out reached its maximum. */
bool plume_record_json_members(plume_buf_t *out, const uint8_t *fields, size_t len,
                               unsigned *hints);

/* The same, scrubbing as it goes (scrub.h): the value of a key `scrub`
 * matches is written as "[Filtered]" (one check per key, in the same pass).
 * scrub NULL or inactive gives plume_record_json_members()'s text. */
struct plume_scrub;
bool plume_record_json_members_scrub(plume_buf_t *out, const uint8_t *fields, size_t len,
                                     unsigned *hints, const struct plume_scrub *scrub);

#endif
