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
bool plume_buf_reserve(plume_buf_t *b, size_t extra);
bool plume_buf_append(plume_buf_t *b, const void *p, size_t n);
bool plume_buf_append_str(plume_buf_t *b, const char *s);
bool plume_buf_append_byte(plume_buf_t *b, uint8_t c);
/* Appends formatted text (printf-style). */
bool plume_buf_printf(plume_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the bytes to the caller (who frees them) and resets the buffer to empty. */
uint8_t *plume_buf_steal(plume_buf_t *b, size_t *len);

#endif
