/* SPDX-License-Identifier: MIT */
/* Scope: what is attached to events besides their own fields.
 *
 * The thread overlay (plume_scope_push/pop) lives in the calling thread's
 * TLS as already-encoded msgpack key/value pairs; every log call copies them
 * into its record, so each event carries exactly the overlay it was logged
 * under. It is read by a signal handler's log call too, so push and pop
 * publish the bytes' length and pair count in one store after the bytes.
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

#define PLUME_OVERLAY_MAX_BYTES 1024u
#define PLUME_OVERLAY_MAX_DEPTH 8u

typedef struct plume_overlay {
    uint32_t depth; /* pushes on the stack (<= PLUME_OVERLAY_MAX_DEPTH) */
    uint32_t overflow; /* pushes refused for depth, popped first */
    uint64_t marks[PLUME_OVERLAY_MAX_DEPTH]; /* state before each push */
    uint8_t bytes[PLUME_OVERLAY_MAX_BYTES];
} plume_overlay_t;

extern __thread plume_overlay_t plume_overlay __attribute__((visibility("hidden")));
/* (bytes << 32) | pairs of the overlay, stored once per push/pop; read by
 * every log call, hence initial-exec TLS (no __tls_get_addr call) apart from
 * the kilobyte of bytes, which only a call under a push reads. */
extern __thread uint64_t plume_overlay_state
    __attribute__((visibility("hidden"), tls_model("initial-exec")));

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

#endif
