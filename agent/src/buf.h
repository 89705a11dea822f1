/* SPDX-License-Identifier: MIT */
/* A growable byte buffer with a hard maximum size chosen at creation.
 *
 * Every append checks the maximum: a buffer never grows past `max`, so memory
 * is bounded by construction. On failure (max reached or allocation failure) the
 * buffer is left unchanged and the sticky `failed` flag is set, so a sequence of
 * appends can be checked once at the end. */
#ifndef PLUME_BUF_H
#define PLUME_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct plume_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;   /* hard limit on len; 0 means SIZE_MAX */
    bool failed;  /* sticky: an append did not fit */
} plume_buf_t;

void plume_buf_init(plume_buf_t *b, size_t max);
void plume_buf_free(plume_buf_t *b);
/* Sets len to 0 and clears `failed`; keeps the allocation. */
void plume_buf_reset(plume_buf_t *b);
/* Ensures room for `extra` more bytes. Returns false (and sets failed) if not. */
inline bool plume_buf_reserve(plume_buf_t *b, size_t extra);
inline bool plume_buf_append(plume_buf_t *b, const void *p, size_t n);
bool plume_buf_append_str(plume_buf_t *b, const char *s);
inline bool plume_buf_append_byte(plume_buf_t *b, uint8_t c);
/* Appends formatted text (printf-style). */
bool plume_buf_printf(plume_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the bytes to the caller (who frees them) and resets the buffer to empty. */
uint8_t *plume_buf_steal(plume_buf_t *b, size_t *len);

/* ---- inline fast paths ----
 * reserve, append and append_byte are inline (C99 `inline`: buf.c holds the
 * external definitions) so that the common case, room already allocated,
 * costs a compare or two and a copy the compiler sees (a constant-length
 * append becomes a few stores). The conditions are exactly the checks
 * plume_buf_reserve() makes; everything else (growing, failing) is out of
 * line in the *_grow functions below, so behaviour is the same either way. */

/* The slow paths (out of line): plume_buf_reserve() when the room is not
 * there yet (grows, or sets failed and returns false), and
 * plume_buf_append()/plume_buf_append_byte() the same way. */
bool plume_buf_grow(plume_buf_t *b, size_t extra);
bool plume_buf_append_grow(plume_buf_t *b, const void *p, size_t n);
bool plume_buf_append_byte_grow(plume_buf_t *b, uint8_t c);

/* True when `extra` more bytes fit without growing (and within max). */
static inline bool plume_buf_has_room(const plume_buf_t *b, size_t extra)
{
    return extra <= b->max - b->len && extra <= b->cap - b->len;
}

inline bool plume_buf_reserve(plume_buf_t *b, size_t extra)
{
    /* (the test of plume_buf_has_room(), spelled out: an external inline
     * function may not call a static one) */
    if (__builtin_expect(extra <= b->max - b->len && extra <= b->cap - b->len, 1))
        return true;
    return plume_buf_grow(b, extra);
}

inline bool plume_buf_append(plume_buf_t *b, const void *p, size_t n)
{
    /* n - 1 < room: at least one byte and it fits; n == 0 (nothing to do,
     * data perhaps NULL) takes the out-of-line path, which returns true */
    if (__builtin_expect(n - 1 < b->cap - b->len && n <= b->max - b->len, 1)) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        return true;
    }
    return plume_buf_append_grow(b, p, n);
}

inline bool plume_buf_append_byte(plume_buf_t *b, uint8_t c)
{
    if (__builtin_expect(b->len < b->cap && b->len < b->max, 1)) {
        b->data[b->len++] = c;
        return true;
    }
    return plume_buf_append_byte_grow(b, c);
}

#endif
