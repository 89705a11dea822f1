/* SPDX-License-Identifier: MIT */
/* One stdin line -> one event (agent/src/event.h).
 *
 * The stdin collector splits its input into lines and calls
 * plume_line_to_event() for each. The line is made valid UTF-8 first (U+FFFD
 * for bad bytes), then read in the configured format:
 *   json    the line must be one JSON object; its members become "fields" in
 *           order, with "time" from `_time`/`time`/`timestamp`/`ts` (the first
 *           of these, in that order, whose value is RFC 3339 text or an epoch
 *           number / numeric string), "level" from `level`/`severity`/`lvl`
 *           (plume_level_parse(), plus the numeric pino/bunyan levels
 *           10..60), "message" from `msg`/`message` (strings only). A `_time`
 *           member that gave the time is not copied into the fields (Axiom
 *           reserves `_` names); every other member is. A valid object
 *           whose top-level keys never start with '_' is passed through
 *           instead: "fields_json" holds its text (from '{' to '}') and
 *           "hints" the system names its keys use; time, level and message
 *           are read the same way (see line_event.c for the exceptions).
 *   logfmt  the pairs become fields (bare key -> true, `key=` or `key=""` ->
 *           ""); time, level and message from the same keys.
 *   text    message = the line.
 *   auto    '{' as first non-blank -> json; else logfmt if the line is valid
 *           logfmt with at least one `key=value` whose key looks like an
 *           identifier ([A-Za-z_][A-Za-z0-9_.-]*); else text.
 * A line that fails its declared format (json, logfmt, or auto with '{') is
 * kept as text with "parse_error" set to the parser's message. A truncated
 * line is always kept as text with "truncated": true and no parse_error. */
#ifndef PLUME_LINE_EVENT_H
#define PLUME_LINE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"

typedef enum {
    PLUME_FORMAT_AUTO,
    PLUME_FORMAT_JSON,
    PLUME_FORMAT_LOGFMT,
    PLUME_FORMAT_TEXT
} plume_line_format_t;

/* Counters; plume_line_to_event() only ever adds to them. */
typedef struct {
    uint64_t json, logfmt, text; /* events produced, by the form they took */
    uint64_t parse_errors;       /* lines that failed their declared format */
    uint64_t invalid_utf8;       /* lines that needed U+FFFD replacements */
} plume_line_stats_t;

/* JSON nesting allowed in a line. The top-level object is the event's
 * "fields" map, one level below the event itself, and plume_mp_skip() reads
 * at most 64 levels, so 63 keeps every event readable by it. */
#define PLUME_LINE_JSON_MAX_DEPTH 63u

/* line: bytes without the trailing \n (a trailing \r is stripped by the
 * caller); truncated: the line was cut at the maximum; recv_ns: receive time
 * (the event time when the line has none); origin: written as "origin" (may be
 * NULL). Appends exactly one event to out and returns true; returns false only
 * if out reached its maximum (out->len is then back where it was and
 * out->failed is set). scratch is working memory (reset and reused; it should
 * allow 3x the line length for lines with invalid UTF-8). stats may be NULL.
 * Borrows every argument; nothing is kept after the call. */
bool plume_line_to_event(const char *line, size_t n, bool truncated, plume_line_format_t fmt,
                         uint64_t recv_ns, const char *origin, plume_buf_t *out,
                         plume_buf_t *scratch, plume_line_stats_t *stats);

/* The same event as a view (agent/src/event.h), without the msgpack round
 * trip where it can be avoided: a JSON object line taking the pass-through
 * path is viewed in place (ev points into `line`, or into scratch when the
 * line needed UTF-8 repair, and into out for a message with escapes); every
 * other line is written to out as msgpack and viewed there. out is working
 * memory (reset first). *ev stays valid until line, out or scratch change.
 * Returns false only if out reached its maximum (the line is dropped). */
bool plume_line_to_view(const char *line, size_t n, bool truncated, plume_line_format_t fmt,
                        uint64_t recv_ns, const char *origin, plume_buf_t *out,
                        plume_buf_t *scratch, plume_line_stats_t *stats, plume_event_view_t *ev);

/* Test-only switch: when on, JSON lines always take the msgpack path (so
 * tests and fuzzers can compare both paths on the same input). Not thread
 * safe; off by default. */
void plume_line_event_force_slow_path(bool on);

/* "auto", "json", "logfmt", "text" (case-insensitive) -> *fmt. */
bool plume_line_format_parse(const char *s, plume_line_format_t *fmt);
const char *plume_line_format_name(plume_line_format_t fmt);

#endif
