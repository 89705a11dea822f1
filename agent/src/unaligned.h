/* SPDX-License-Identifier: MIT */
/* Loads of 8 and 4 bytes in host order from any address: word-at-a-time
 * scanners and comparisons (one instruction each on x86-64 and aarch64). */
#ifndef PLUME_UNALIGNED_H
#define PLUME_UNALIGNED_H

#include <stdint.h>
#include <string.h>

static inline uint64_t plume_load_u64(const void *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

static inline uint32_t plume_load_u32(const void *p)
{
    uint32_t x;
    memcpy(&x, p, 4);
    return x;
}

#endif
