/* SPDX-License-Identifier: MIT */
/* The stdin collector: reads lines from a file descriptor (normally 0) on the
 * event loop, turns each into an event (line_event.h) and hands it to `emit`.
 *
 * Pipes, terminals and sockets are watched for readability; a regular file or
 * /dev/null (which epoll refuses) is read in chunks from a zero-delay timer so
 * the loop keeps serving the network in between. At end of input the final
 * unterminated line is delivered and `on_eof` runs once. Reading can be paused
 * (backpressure) and resumed. */
#ifndef PLUME_STDIN_SOURCE_H
#define PLUME_STDIN_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "line_event.h"
#include "loop.h"
#include "metrics.h"

typedef void (*plume_emit_cb)(void *arg, const plume_event_view_t *ev);
typedef void (*plume_eof_cb)(void *arg);

typedef struct plume_stdin_source plume_stdin_source_t;

plume_stdin_source_t *plume_stdin_source_new(plume_loop_t *loop, int fd, plume_line_format_t fmt,
                                             size_t max_line, plume_metrics_t *metrics,
                                             plume_emit_cb emit, plume_eof_cb on_eof, void *arg);
/* Backpressure: `may_read` is asked before every read; while it says no, the
 * source stops reading and asks again every few milliseconds. */
typedef bool (*plume_gate_cb)(void *arg);
void plume_stdin_source_set_gate(plume_stdin_source_t *s, plume_gate_cb may_read, void *arg);
/* Times reading was paused by the gate (for the summary and tests). */
uint64_t plume_stdin_source_pauses(const plume_stdin_source_t *s);
/* Stops reading for good (shutdown). */
void plume_stdin_source_stop(plume_stdin_source_t *s);
void plume_stdin_source_pause(plume_stdin_source_t *s);
void plume_stdin_source_resume(plume_stdin_source_t *s);
void plume_stdin_source_free(plume_stdin_source_t *s);

#endif
