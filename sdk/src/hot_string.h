/* SPDX-License-Identifier: MIT */
/* The hot path's string helpers: a capped strlen and a copy, both inline and
 * tuned for the short keys and values of a log call (record.c, site.h). They
 * are the ones the macros' inline fast path uses (plume/plume_hot.h). */
#ifndef PLUME_SDK_HOT_STRING_H
#define PLUME_SDK_HOT_STRING_H

#include <stddef.h>
#include <stdint.h>

#include "plume/plume.h"

/* strnlen(s, cap), inline. */
static inline size_t plume_strlen_capped(const char *s, size_t cap)
{
    return plume_hot_strlen_(s, cap);
}

/* memcpy, with strings up to 32 bytes copied inline. */
static inline void plume_copy_short(uint8_t *d, const char *s, size_t n)
{
    plume_hot_copy_(d, s, n);
}

#endif
