/* SPDX-License-Identifier: MIT */
/* Events: the one format every component speaks (docs/event-schema.md).
 *
 * An event is one msgpack map. Keys (all optional except "time"):
 *   "time"        uint   nanoseconds since the Unix epoch (UTC)
 *   "level"       str    trace|debug|info|warn|error|fatal (normalised)
 *   "message"     str    the human-readable message
 *   "origin"      str    stdin|sdk|forward|syslog|crash
 *   "fields"      map    user fields, any msgpack values, in the order given
 *   "truncated"   bool   true when the input line was cut at the maximum
 *   "parse_error" str    why the line did not parse in its declared format
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

typedef enum plume_level {
    PLUME_LEVEL_NONE = -1,
    PLUME_LEVEL_TRACE = 0,
    PLUME_LEVEL_DEBUG,
    PLUME_LEVEL_INFO,
    PLUME_LEVEL_WARN,
    PLUME_LEVEL_ERROR,
    PLUME_LEVEL_FATAL,
} plume_level_t;

const char *plume_level_name(plume_level_t l);
/* Maps common spellings (case-insensitive: "WARNING", "err", "crit", "I",
 * syslog numbers 0-7 as text...) to a level; PLUME_LEVEL_NONE if unknown. */
plume_level_t plume_level_parse(const char *s, size_t n);

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
    bool truncated;
    const char *parse_error;
    size_t parse_error_len;
} plume_event_view_t;

/* Parses the top level of an event. Returns false if `p` is not a msgpack map
 * or a known key has the wrong type. */
bool plume_event_view(const uint8_t *p, size_t n, plume_event_view_t *ev);

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
/* Opens "fields"; write key/value pairs with plume_mp_*, calling
 * plume_event_field_added() after each pair; then plume_event_fields_end(). */
void plume_event_fields_begin(plume_event_builder_t *eb);
static inline void plume_event_field_added(plume_event_builder_t *eb) { eb->nfields++; }
void plume_event_fields_end(plume_event_builder_t *eb);
/* Finishes the map. Returns false if the buffer overflowed (event unusable). */
bool plume_event_end(plume_event_builder_t *eb);

uint64_t plume_now_ns(void);

#endif
