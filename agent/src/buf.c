/* SPDX-License-Identifier: MIT */
/* Growable, bounded byte buffer. See buf.h. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void plume_buf_init(plume_buf_t *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max ? max : SIZE_MAX;
}

void plume_buf_free(plume_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void plume_buf_reset(plume_buf_t *b)
{
    b->len = 0;
    b->failed = false;
}

/* The external definitions of the inline functions in buf.h (for callers
 * that do not inline them, and for taking their address). */
extern inline bool plume_buf_reserve(plume_buf_t *b, size_t extra);
extern inline bool plume_buf_append(plume_buf_t *b, const void *p, size_t n);
extern inline bool plume_buf_append_byte(plume_buf_t *b, uint8_t c);

bool plume_buf_grow(plume_buf_t *b, size_t extra)
{
    if (extra > b->max - b->len) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + extra;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max)
        cap = b->max;
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

bool plume_buf_append_grow(plume_buf_t *b, const void *p, size_t n)
{
    if (n == 0)
        return true;
    if (!plume_buf_grow(b, n))
        return false;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

bool plume_buf_append_byte_grow(plume_buf_t *b, uint8_t c)
{
    if (b->len == b->cap && !plume_buf_grow(b, 1))
        return false;
    if (b->len >= b->max) {
        b->failed = true;
        return false;
    }
    b->data[b->len++] = c;
    return true;
}

bool plume_buf_append_str(plume_buf_t *b, const char *s)
{
    return plume_buf_append(b, s, strlen(s));
}

bool plume_buf_printf(plume_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return false;
    }
    if ((size_t)n < sizeof(small))
        return plume_buf_append(b, small, (size_t)n);
    if (!plume_buf_reserve(b, (size_t)n + 1))
        return false;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

uint8_t *plume_buf_steal(plume_buf_t *b, size_t *len)
{
    uint8_t *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
    return p;
}
