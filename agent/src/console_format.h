/* SPDX-License-Identifier: MIT */
/* Human-readable one-line rendering of an event, for a terminal.
 *
 *   2026-11-21T10:00:00.123Z INFO  message text  key=value key2="quoted value"
 *
 * Time in UTC with milliseconds; the level upper-case in a 5-column slot
 * (coloured with ANSI codes when asked: trace/debug dim, info green, warn
 * yellow, error red, fatal bold red); the message; two spaces; the user
 * fields as key=value separated by spaces. Strings are quoted when empty or
 * when they contain spaces, quotes, '=', backslashes or escaped characters;
 * nested maps/arrays, bin and ext values are written as compact JSON. Then
 * " [truncated]" and " [parse_error: ...]" when set, and a newline.
 *
 * Nothing from the event reaches the terminal raw: control characters, DEL,
 * invalid UTF-8 bytes, C1 controls and bidi overrides are written as visible
 * escapes (\n, \t, \x1b, \u202e), so a log line cannot move the cursor, change
 * colours or reorder text. */
#ifndef PLUME_CONSOLE_FORMAT_H
#define PLUME_CONSOLE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"

/* Appends the line (with its '\n') for the msgpack event event[0..len). An
 * invalid event gives "[plume: invalid event, N bytes]\n". If `out` reaches
 * its maximum, nothing is appended and out->failed is set. */
void plume_console_format_event(plume_buf_t *out, const uint8_t *event, size_t len, bool color);
/* The same for an event given as a view. */
void plume_console_format_view(plume_buf_t *out, const plume_event_view_t *ev, bool color);

#endif
