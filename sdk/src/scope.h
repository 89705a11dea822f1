/* SPDX-License-Identifier: MIT */
/* The global scope: what is attached to events besides their own fields
 * (the thread overlay, per thread, is in overlay.h).
 *
 * The global scope (tags, user, contexts) changes rarely and is shared: the
 * setters take a mutex, re-encode it as msgpack pairs ("tags": {...},
 * "user": {...}, "contexts": {...}) and publish a new version stamped with
 * the SDK clock. The worker keeps a copy of the recent versions and gives
 * each record the version that was current at the record's stamp. */
#ifndef PLUME_SDK_SCOPE_H
#define PLUME_SDK_SCOPE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "plume/plume.h"

/* ---- the global scope (the worker's side) ---- */

/* In the child after fork(): the scope's mutex is usable again (the scope
 * itself is kept). */
void plume_scope_after_fork(void);

#define PLUME_SCOPE_HISTORY 16u /* versions the worker can tell apart by stamp */

/* Generation of the global scope: bumped by every change (relaxed reads are
 * enough to notice one; the copy is taken under the scope's mutex). */
uint64_t plume_scope_generation(void);

/* One version: from `stamp` on, events carry `pairs` (npairs msgpack
 * key/value pairs). */
typedef struct plume_scope_version {
    uint64_t stamp;
    uint32_t npairs;
    plume_buf_t pairs;
} plume_scope_version_t;

/* The worker's copy of the recent versions, oldest first. */
typedef struct plume_scope_cache {
    uint64_t generation;
    uint32_t count;
    bool evicted; /* older versions were dropped (see plume_scope_cache_at) */
    plume_scope_version_t v[PLUME_SCOPE_HISTORY];
} plume_scope_cache_t;

void plume_scope_cache_init(plume_scope_cache_t *c);
void plume_scope_cache_free(plume_scope_cache_t *c);
/* Refreshes the copy when the generation changed. False when out of memory:
 * the copy is then empty (no scope) until a later refresh succeeds. */
bool plume_scope_cache_refresh(plume_scope_cache_t *c);
/* The version current at `stamp` (the oldest kept one for older stamps);
 * NULL when the scope was never set. */
const plume_scope_version_t *plume_scope_cache_at(const plume_scope_cache_t *c, uint64_t stamp);

/* ---- the global scope (the crash handler's side) ---- */

/* Async-signal-safe: copies the pairs of the current global scope version
 * into dst (at most cap bytes) and sets *npairs. Every published version is
 * also copied into one static snapshot under a sequence counter; this reads
 * it without a lock and retries a few times while a setter is rewriting it.
 * Returns the bytes copied (0 with *npairs 0: no scope set), or -1 when no
 * consistent copy could be taken (a setter kept rewriting it, or the thread
 * crashed inside one) or it does not fit in cap. */
long plume_scope_read_signal_safe(uint8_t *dst, size_t cap, uint32_t *npairs);

#endif
