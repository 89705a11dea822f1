/* SPDX-License-Identifier: MIT */
/* The worker's store of recent breadcrumbs, attached to error events.
 *
 * Breadcrumbs travel like logs: the calling thread writes a breadcrumb record
 * into its own ring (see record.h), and the worker, converting records, keeps
 * the most recent ones here (and, with logs_as_breadcrumbs, every log record
 * at info or above too). The store keeps the records themselves (a memcpy
 * on the worker); only when an error event needs them are they encoded, as
 * the event's "breadcrumbs" array, in the shape of Sentry's breadcrumb
 * objects: {timestamp (RFC 3339, ns), level, category, message, data}.
 * Records wider than a slot are stored cut to the documented limits
 * (message 512 bytes, data 1 KiB of encoded fields). */
#ifndef PLUME_SDK_CRUMBS_H
#define PLUME_SDK_CRUMBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "options.h"
#include "record.h"

#define PLUME_CRUMB_MAX_MESSAGE 512u
#define PLUME_CRUMB_MAX_DATA 1024u
#define PLUME_CRUMB_SLOT 1792u /* a record with the limits above fits */

typedef struct plume_crumb {
    uint64_t stamp;
    uint32_t len;
    bool log; /* a log record kept as a breadcrumb (category "log") */
    uint8_t record[PLUME_CRUMB_SLOT];
} plume_crumb_t;

typedef struct plume_crumbs {
    uint32_t max;   /* breadcrumbs attached to an event; 0 keeps none */
    uint32_t cap;   /* slots: max + room for those added while errors wait */
    uint32_t count; /* slots in use (<= cap) */
    uint32_t next;  /* the slot the next one overwrites */
    uint64_t added; /* breadcrumbs added so far */
    plume_crumb_t *slots;
    plume_buf_t scratch; /* for cutting a wide record */
} plume_crumbs_t;

/* False when out of memory or max > PLUME_MAX_BREADCRUMBS_LIMIT. max 0 is
 * allowed (nothing is kept). */
bool plume_crumbs_init(plume_crumbs_t *c, uint32_t max);
void plume_crumbs_free(plume_crumbs_t *c);

/* Keeps record `rec` (`len` bytes, read into *r), replacing the oldest when
 * all cap slots are used. An error event waiting for its breadcrumbs must be
 * written before cap - max more are added (convert.c sees to it). */
void plume_crumbs_add(plume_crumbs_t *c, const uint8_t *rec, size_t len,
                      const plume_record_view_t *r);

/* Writes the most recent `max` breadcrumbs stamped before `before` (oldest
 * first) as a msgpack array into b; returns how many (0: nothing written, so
 * the caller can leave the key out). */
uint32_t plume_crumbs_write(const plume_crumbs_t *c, uint64_t before, plume_buf_t *b);

/* ---- the crash handler's side ---- */

/* Worker: makes `c` the store the crash handler reads (plume_crumbs_visit_
 * published); NULL withdraws it, and then waits (at most 1 s) until a
 * handler copying from it is done, so that `c` may be freed afterwards. */
void plume_crumbs_publish(plume_crumbs_t *c);

/* Called for each breadcrumb visited: its stamp, whether it is a log record,
 * and its record bytes (len <= PLUME_CRUMB_SLOT). */
typedef void (*plume_crumbs_visit_fn)(void *ctx, uint64_t stamp, bool log, const uint8_t *rec,
                                      uint32_t len);

/* Async-signal-safe: calls fn for the most recently added breadcrumbs of the
 * published store (at most its max), oldest first; returns how many. The
 * worker may be writing a slot meanwhile: what fn sees may be torn (its
 * length is always bounded by the slot), so fn copies it and whoever reads
 * the copy validates it. 0 when no store is published. */
uint32_t plume_crumbs_visit_published(plume_crumbs_visit_fn fn, void *ctx);

#endif
