/* SPDX-License-Identifier: MIT */
/* The thread's scope overlay (plume_scope_push/pop).
 *
 * It lives in the calling thread's TLS as already-encoded msgpack key/value
 * pairs; every log call copies them into its record (log.c), so each event
 * carries exactly the overlay it was logged under. It is read by a signal
 * handler's log call too, so push and pop publish the bytes' length and pair
 * count in one store after the bytes. */
#ifndef PLUME_SDK_OVERLAY_H
#define PLUME_SDK_OVERLAY_H

#include <stdint.h>

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
/* The overlay's (bytes << 32) | pairs, stored once per push/pop, is
 * plume_hot1_thread_.overlay (plume_hot.h, defined in thread.c):
 * initial-exec TLS, as every log call reads it (the macros' inline fast
 * path too); only a call under a push reads the kilobyte of bytes above. */

#endif
