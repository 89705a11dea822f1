/* SPDX-License-Identifier: MIT */
/* Events: the one format every component speaks (docs/event-schema.md).
 *
 * An event is one msgpack map. Keys (all optional except "time"):
 *   "time"        uint   nanoseconds since the Unix epoch (UTC)
 *   "level"       str    trace|debug|info|warn|error|fatal (normalised)
 *   "message"     str    the human-readable message
 *   "origin"      str    stdin|sdk|forward|syslog|crash
 *   "fields"      map    user fields, any msgpack values, in the order given
 *   "fields_json" str    user fields as the text of ONE JSON object exactly as
 *                        received (valid JSON and UTF-8, no raw LF byte, no
 *                        top-level key starting with '_'); encoders copy it.
 *                        An event has "fields" or "fields_json", never both.
 *   "hints"       uint   PLUME_HINT_* bits: which system names occur among the
 *                        top-level keys of "fields_json" (see below)
 *   "truncated"   bool   true when the input line was cut at the maximum
 *   "parse_error" str    why the line did not parse in its declared format
 *   "error"       map    errors and crashes: exception, stack, modules (the
 *                        keys are in docs/event-schema.md; sentry_event.c and
 *                        the Axiom encoder read them)
 * Unknown keys are skipped by every reader, so the schema can grow.
 *
 * The builder below writes events in that shape; plume_event_view() reads one
 * back without copying. */
#ifndef PLUME_EVENT_H
#define PLUME_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mp.h"
#include "plume/plume.h" /* plume_level_t, shared with the SDK's public API */

const char *plume_level_name(plume_level_t l);
/* Maps common spellings (case-insensitive: "WARNING", "err", "crit", "I",
 * syslog numbers 0-7 as text...) to a level; PLUME_LEVEL_NONE if unknown. */
plume_level_t plume_level_parse(const char *s, size_t n);

/* Top-level user key names that make an encoder leave out the system key of
 * the same meaning written after the user fields (a user "msg" suppresses the
 * event's "message"). Collectors that pass fields through as JSON text put
 * these bits in "hints"; encoders walking a "fields" map compute them. */
typedef enum plume_hint {
    PLUME_HINT_LEVEL = 1,        /* "level" or "severity" */
    PLUME_HINT_MESSAGE = 2,      /* "message" or "msg" */
    PLUME_HINT_ORIGIN = 4,       /* "origin" */
    PLUME_HINT_TRUNCATED = 8,    /* "truncated" */
    PLUME_HINT_PARSE_ERROR = 16, /* "parse_error" */
} plume_hint_t;
#define PLUME_HINT_ALL 31u

/* The PLUME_HINT_* bit for one user key (0 for most keys). Hot: called for
 * every top-level key, so it dispatches on the length first. */
static inline unsigned plume_hint_for_key(const char *k, size_t n)
{
#define PLUME_HINT_IS_(lit) (__builtin_memcmp(k, lit, sizeof(lit) - 1) == 0)
    switch (n) {
    case 3: return PLUME_HINT_IS_("msg") ? PLUME_HINT_MESSAGE : 0;
    case 5: return PLUME_HINT_IS_("level") ? PLUME_HINT_LEVEL : 0;
    case 6: return PLUME_HINT_IS_("origin") ? PLUME_HINT_ORIGIN : 0;
    case 7: return PLUME_HINT_IS_("message") ? PLUME_HINT_MESSAGE : 0;
    case 8: return PLUME_HINT_IS_("severity") ? PLUME_HINT_LEVEL : 0;
    case 9: return PLUME_HINT_IS_("truncated") ? PLUME_HINT_TRUNCATED : 0;
    case 11: return PLUME_HINT_IS_("parse_error") ? PLUME_HINT_PARSE_ERROR : 0;
    default: return 0;
    }
#undef PLUME_HINT_IS_
}

/* Zero-copy view of one event. Strings are not NUL-terminated. */
typedef struct plume_event_view {
    uint64_t time_ns;
    plume_level_t level;
    const char *message;
    size_t message_len;
    const char *origin;
    size_t origin_len;
    const uint8_t *fields;  /* msgpack map, or NULL */
    size_t fields_len;
    const char *fields_json; /* JSON object text, or NULL (never both) */
    size_t fields_json_len;
    /* Set only by a producer that knows fields_json holds no LF byte (the
     * stdin collector: it is part of one input line; the SDK's converter:
     * its JSON writer escapes control bytes); the NDJSON encoders
     * then skip their own check for one. plume_event_view() never sets it
     * and plume_event_write() does not store it. */
    bool fields_json_one_line;
    unsigned hints;          /* PLUME_HINT_* bits (0 when absent) */
    bool truncated;
    const char *parse_error;
    size_t parse_error_len;
    const uint8_t *error; /* the "error" msgpack map, or NULL */
    size_t error_len;
} plume_event_view_t;

/* Parses the top level of an event. Returns false if `p` is not a msgpack map,
 * a known key has the wrong type, "fields_json" is not braced ('{' first, '}'
 * last), or the event has both "fields" and "fields_json". The contents of
 * "fields_json" are not validated here: the builder's caller vouches for
 * them. */
bool plume_event_view(const uint8_t *p, size_t n, plume_event_view_t *ev);

/* Writes the event *ev describes as one msgpack map (what plume_event_view()
 * reads back as the same view). The view must satisfy the schema: fields_json,
 * when set, is a valid braced object and fields is unset. Returns false, with
 * out->failed set, if out reached its maximum. This is how an event produced
 * as a view (the stdin JSON pass-through) reaches a sink that wants bytes. */
bool plume_event_write(plume_buf_t *out, const plume_event_view_t *ev);

/* Builder: begin, add the parts, end. Fields are written between
 * plume_event_fields_begin/end with the plume_mp_* writer (key, value, ...). */
typedef struct plume_event_builder {
    plume_buf_t *buf;
    size_t start;
    size_t map_off;
    uint32_t count;
    size_t fields_off;
    uint32_t nfields;
} plume_event_builder_t;

void plume_event_begin(plume_event_builder_t *eb, plume_buf_t *buf, uint64_t time_ns);
void plume_event_set_level(plume_event_builder_t *eb, plume_level_t l);
void plume_event_set_message(plume_event_builder_t *eb, const char *s, size_t n);
void plume_event_set_origin(plume_event_builder_t *eb, const char *origin);
void plume_event_set_truncated(plume_event_builder_t *eb);
void plume_event_set_parse_error(plume_event_builder_t *eb, const char *s);
/* Sets "fields_json" to s[0..n): the text of one JSON object, exactly as the
 * schema above requires (the caller validated it; encoders copy it as is).
 * Do not combine with plume_event_fields_begin(). */
void plume_event_set_fields_json(plume_event_builder_t *eb, const char *s, size_t n);
/* Sets "hints" (PLUME_HINT_* bits of the keys in "fields_json"). */
void plume_event_set_hints(plume_event_builder_t *eb, unsigned bits);
/* Sets "error" to an encoded msgpack map (copied; the caller wrote it with
 * the keys docs/event-schema.md lists). */
void plume_event_set_error(plume_event_builder_t *eb, const uint8_t *map, size_t n);
/* Opens "fields"; write key/value pairs with plume_mp_*, calling
 * plume_event_field_added() after each pair; then plume_event_fields_end(). */
void plume_event_fields_begin(plume_event_builder_t *eb);
static inline void plume_event_field_added(plume_event_builder_t *eb) { eb->nfields++; }
void plume_event_fields_end(plume_event_builder_t *eb);
/* Finishes the map. Returns false if the buffer overflowed (event unusable). */
bool plume_event_end(plume_event_builder_t *eb);

uint64_t plume_now_ns(void);

/* The event's user fields as one msgpack map, whichever form it carries:
 * "fields" as they are, or "fields_json" converted into tmp (bounded by
 * tmp->max). *map is NULL when the event has no fields. False when
 * fields_json does not convert. */
bool plume_event_fields_mp(const plume_event_view_t *ev, plume_buf_t *tmp, const uint8_t **map,
                           size_t *len);

#endif
