/* SPDX-License-Identifier: MIT */
/* msgpack writers for buffers already sized by the caller (plain stores, no
 * bounds checks): the SDK's records (record.c) and their expansion from
 * call-site records (site.c). */
#ifndef PLUME_SDK_MP_PUT_H
#define PLUME_SDK_MP_PUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "plume/plume.h"

/* Bytes of a msgpack str header for a string of n bytes. */
static inline size_t plume_str_header_size(size_t n)
{
    return n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5;
}

/* A tag byte and v big-endian (int64 0xd3, uint64 0xcf, float64 0xcb). */
static inline uint8_t *plume_put_be64(uint8_t *p, uint8_t tag, uint64_t v)
{
    p[0] = tag;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p + 1, &v, 8);
    return p + 9;
}

/* A msgpack str (its shortest header form), then the bytes. */
static inline uint8_t *plume_put_str(uint8_t *p, const char *s, size_t n)
{
    if (n < 32) {
        *p++ = (uint8_t)(0xa0 | n);
    } else if (n < 256) {
        *p++ = 0xd9;
        *p++ = (uint8_t)n;
    } else if (n < 65536) {
        *p++ = 0xda;
        *p++ = (uint8_t)(n >> 8);
        *p++ = (uint8_t)n;
    } else {
        *p++ = 0xdb;
        for (int i = 3; i >= 0; i--)
            *p++ = (uint8_t)(n >> (8 * i));
    }
    plume_hot_copy_(p, s, n);
    return p + n;
}

#endif
