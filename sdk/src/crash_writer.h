/* SPDX-License-Identifier: MIT */
/* A msgpack writer into a fixed buffer that never allocates, for the crash
 * handler (async-signal-safe: plain stores only).
 *
 * Every write either fits whole or writes nothing and sets the sticky
 * `overflow` flag; nothing is ever stored past buf + cap. A writer that wants
 * a valid document even when the buffer runs out writes in "units": take a
 * mark, write one unit (a key with its value, one array element), and roll
 * back to the mark when it overflowed. Arrays and maps whose count is not
 * known in advance are opened with a 32-bit count (plume_cw_array_begin /
 * plume_cw_map_begin) and patched with the count of the units that fit, so
 * the result stays valid msgpack whatever was left out. */
#ifndef PLUME_SDK_CRASH_WRITER_H
#define PLUME_SDK_CRASH_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct plume_cw {
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool overflow; /* sticky until plume_cw_rollback() */
} plume_cw_t;

/* Borrows buf[0..cap). */
void plume_cw_init(plume_cw_t *w, void *buf, size_t cap);

void plume_cw_nil(plume_cw_t *w);
void plume_cw_bool(plume_cw_t *w, bool v);
void plume_cw_uint(plume_cw_t *w, uint64_t v);
void plume_cw_int(plume_cw_t *w, int64_t v);
/* A str of n bytes (NULL with n 0 is allowed). */
void plume_cw_str(plume_cw_t *w, const char *s, size_t n);
/* A NUL-terminated string, at most max bytes of it. */
void plume_cw_cstr(plume_cw_t *w, const char *s, size_t max);
void plume_cw_bin(plume_cw_t *w, const void *p, size_t n);
void plume_cw_map(plume_cw_t *w, uint32_t count);
void plume_cw_array(plume_cw_t *w, uint32_t count);
/* Headers of str/bin of n bytes, followed by the caller's n bytes written
 * with plume_cw_reserve(). */
void plume_cw_bin_header(plume_cw_t *w, uint32_t n);
/* n bytes to fill in, or NULL (overflow set) when they do not fit. */
uint8_t *plume_cw_reserve(plume_cw_t *w, size_t n);

/* Opens an array/map with a 32-bit count to patch; returns its offset
 * (meaningless when overflow is set: patching it is then a no-op). */
size_t plume_cw_array_begin(plume_cw_t *w);
size_t plume_cw_map_begin(plume_cw_t *w);
void plume_cw_patch(plume_cw_t *w, size_t offset, uint32_t count);

/* The current length, to roll back to. */
static inline size_t plume_cw_mark(const plume_cw_t *w) { return w->len; }
/* Drops everything written after `mark` and clears the overflow flag. */
void plume_cw_rollback(plume_cw_t *w, size_t mark);

#endif
