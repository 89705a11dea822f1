/* SPDX-License-Identifier: MIT */
/* The hot path's string helpers: a capped strlen and a copy, both inline and
 * tuned for the short keys and values of a log call (record.c, site.h). */
#ifndef PLUME_SDK_HOT_STRING_H
#define PLUME_SDK_HOT_STRING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>

/* strnlen over aligned 16-byte blocks, inline (a libc call and its setup
 * cost more than the scan for the short keys and values a log call has). An
 * aligned block never crosses a page, so reading the bytes around the string
 * inside its first and last block cannot fault; they are outside the
 * object, which the sanitizers would report, hence the attribute (the result
 * never depends on them). */
__attribute__((no_sanitize("address", "thread"))) static inline size_t plume_strlen_capped(const char *s,
                                                                             size_t cap)
{
    const __m128i zero = _mm_setzero_si128();
    uintptr_t a = (uintptr_t)s & ~(uintptr_t)15;
    unsigned skip = (unsigned)((uintptr_t)s - a);
    unsigned mask = (unsigned)_mm_movemask_epi8(
                        _mm_cmpeq_epi8(_mm_load_si128((const __m128i *)a), zero)) >>
                    skip;
    size_t n = 16 - skip;
    if (mask)
        n = (size_t)__builtin_ctz(mask);
    while (!mask && n < cap) {
        a += 16;
        mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128((const __m128i *)a), zero));
        n += mask ? (size_t)__builtin_ctz(mask) : 16;
    }
    return n < cap ? n : cap;
}
#else
static inline size_t plume_strlen_capped(const char *s, size_t cap)
{
    const char *end = memchr(s, '\0', cap);
    return end ? (size_t)(end - s) : cap;
}
#endif

/* memcpy, with strings up to 32 bytes copied inline by two overlapping
 * loads and stores of the widest size that fits. */
static inline void plume_copy_short(uint8_t *d, const char *s, size_t n)
{
    if (n > 32) {
        memcpy(d, s, n);
    } else if (n >= 16) {
        uint8_t a[16], b[16];
        memcpy(a, s, 16);
        memcpy(b, s + n - 16, 16);
        memcpy(d, a, 16);
        memcpy(d + n - 16, b, 16);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n > 0) {
        d[0] = (uint8_t)s[0];
        d[n / 2] = (uint8_t)s[n / 2];
        d[n - 1] = (uint8_t)s[n - 1];
    }
}


#endif
