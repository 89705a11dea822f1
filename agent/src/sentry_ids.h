/* SPDX-License-Identifier: MIT */
/* Identifiers Sentry needs: random event ids, and the debug_id / code_id of
 * an ELF image derived from its GNU build id (PROTOCOLS.md "Sentry ingest").
 *
 * An event id is 32 lowercase hex digits (a UUID version 4 without dashes);
 * a debug id is the first 16 bytes of the build id read as a little-endian
 * GUID, written 8-4-4-4-12; a code id is the whole build id in hex. All
 * functions only write into the caller's memory and never allocate, so they
 * may be used while a crash is being reported. */
#ifndef PLUME_SENTRY_IDS_H
#define PLUME_SENTRY_IDS_H

#include <stddef.h>
#include <stdint.h>

#define PLUME_SENTRY_EVENT_ID_LEN 32 /* + NUL */
#define PLUME_SENTRY_DEBUG_ID_LEN 36  /* + NUL */

/* Writes a fresh random event id (32 lowercase hex digits, UUID version 4 bits
 * set, so never all zero) and a NUL into out. Randomness comes from
 * getrandom(2) without blocking; if that fails (old kernel, seccomp, entropy
 * not yet initialised) from a mix of clocks, pid, address and a counter. */
void plume_sentry_event_id(char out[33]);

/* Writes the debug id of an image with the given build id: the first 16 bytes
 * (zero-padded when the build id is shorter) with bytes 0-3, 4-5 and 6-7 each
 * reversed, as "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lowercase) plus a NUL.
 * Returns 0, or -1 (out set to "") when build_id is NULL or len is 0. */
int plume_sentry_debug_id(const uint8_t *build_id, size_t len, char out[37]);

/* Writes p[0..n) as 2*n lowercase hex digits plus a NUL: out must hold
 * 2 * n + 1 bytes. */
void plume_hex(const uint8_t *p, size_t n, char *out);

#endif
