/* SPDX-License-Identifier: MIT */
/* Call-site records: the fast path of the PLUME_* log and breadcrumb macros.
 *
 * Every macro expansion owns a zero-initialised static plume_site_t. Its
 * first call "learns" the site: when the message, the category and every
 * key are string literals (their length is a compile-time constant, see
 * PLUME_CONST_SIZE_) and the field types are known, the SDK builds a
 * descriptor that keeps copies of them, already msgpack-encoded, and
 * publishes it in the site. From then on a call whose pointers and types
 * are those the site learned writes a compact record: the stamp, the
 * descriptor's address and the raw values, no keys, no message, no msgpack
 * tags. The worker expands it back into the ordinary record (record.h)
 * before anything else reads it (plume_drain), so nothing downstream knows
 * site records exist. A call that differs from what its site learned (a key
 * chosen at run time, say) and a site that cannot be learned take the
 * ordinary path, with the same result.
 *
 * Record layout (payload of a ring record; host byte order, unaligned):
 *
 *   u8  PLUME_SITE_TAG (0xc1: a byte msgpack never uses)
 *   u8  level, | PLUME_SITE_BREADCRUMB for a breadcrumb
 *   u8  PLUME_SITE_OVERLAY when the thread's scope overlay follows the values
 *   u8  0
 *   u64 stamp (plume_clock_stamp())
 *   ptr the descriptor
 *   with PLUME_SITE_OVERLAY: u32 bytes, u32 pairs of the overlay
 *   8 bytes per field, in the site's order (one copy of each field's value,
 *   the same for every type, so the call copies them without looking):
 *     i64/u64/f64 the value
 *     bool        the int as the field holds it in its first 4 bytes
 *     str         the length in its first 4 bytes (UINT32_MAX: NULL; capped
 *                 at PLUME_RECORD_MAX_VALUE)
 *     (the other bytes of a bool's or a string's slot mean nothing)
 *   the string fields' bytes, in the site's order
 *   with PLUME_SITE_OVERLAY, the overlay's pairs (msgpack, as kept by
 *   overlay.h).
 *
 * Descriptors are never freed: records in flight and sites in code that is
 * still mapped point at them. There is one per learned site, linked in a
 * process-wide list (so that leak checkers see them as reachable). */
#ifndef PLUME_SDK_SITE_H
#define PLUME_SDK_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "hot_string.h"
#include "plume/plume.h"
#include "record.h"

#define PLUME_SITE_TAG 0xc1u
#define PLUME_SITE_BREADCRUMB 0x80u
#define PLUME_SITE_OVERLAY 0x01u
#define PLUME_SITE_HEADER (4u + 8u + sizeof(void *))
#define PLUME_SITE_NULL_STR UINT32_MAX


typedef struct plume_site_field {
    const char *key; /* the call site's pointer, compared on every call */
    uint8_t type;    /* plume_field_type_t */
    uint32_t key_enc; /* offset of the msgpack-encoded key in enc */
    uint32_t key_enc_len;
} plume_site_field_t;

typedef struct plume_site_desc {
    struct plume_site_desc *next_all;
    const char *message;  /* the call site's pointers, compared on every call */
    const char *category; /* breadcrumbs */
    bool breadcrumb;
    uint32_t nfields;
    uint32_t fixed_size;  /* record bytes apart from string contents and overlay */
    uint32_t head_len;    /* enc[0..head_len): the encoded message (str or nil) */
    uint32_t tail_enc, tail_len; /* breadcrumbs: the encoded category (str or nil) */
    uint8_t *enc;         /* the encoded strings (inside this allocation) */
    uint32_t enc_size;
    plume_site_field_t field[];
} plume_site_desc_t;

/* What a site that cannot be learned holds: a descriptor no call matches
 * (its message pointer is its own address, its field count impossible), so
 * the fast path needs no check of its own for it; its calls take the
 * ordinary path. */
extern const plume_site_desc_t plume_site_ordinary;
#define PLUME_SITE_ORDINARY ((void *)&plume_site_ordinary)

/* The descriptor for `site`, learning it on its first call; NULL when the
 * site cannot be learned (then, and when out of memory, the site is marked
 * so that later calls do not try again). category/category_size only for
 * breadcrumbs. */
const plume_site_desc_t *plume_site_learn(plume_site_t *site, bool breadcrumb,
                                          const char *category, unsigned category_size,
                                          const char *message, unsigned message_size,
                                          const plume_field_t *fields, size_t nfields);

/* The site's descriptor once learned; NULL before, or for an ordinary site
 * (PLUME_SITE_ORDINARY is turned into NULL by the caller's check). */
static inline void *plume_site_peek(const plume_site_t *site)
{
    return __atomic_load_n(&site->desc_, __ATOMIC_ACQUIRE);
}

/* plume_site_measure() for n fields (inlined with n constant for the
 * common counts, so the loop unrolls). */
__attribute__((always_inline)) static inline size_t
plume_site_measure_n(const plume_site_desc_t *d, const plume_field_t *fields, size_t n,
                     uint32_t *str_len)
{
    uint64_t differs = 0; /* one branch for all the checks */
    for (size_t i = 0; i < n; i++)
        differs |= ((uintptr_t)fields[i].key ^ (uintptr_t)d->field[i].key) |
                   ((unsigned)fields[i].type ^ d->field[i].type);
    if (differs)
        return 0;
    size_t size = d->fixed_size;
#pragma GCC unroll 4
    for (size_t i = 0; i < n; i++) {
        str_len[i] = 0; /* unused for other types; set so every entry is */
        if (d->field[i].type != PLUME_FIELD_STR)
            continue;
        const char *v = fields[i].v.s;
        uint32_t len = v ? (uint32_t)plume_strlen_capped(v, PLUME_RECORD_MAX_VALUE) : 0;
        str_len[i] = v ? len : PLUME_SITE_NULL_STR;
        size += len;
    }
    return size;
}

/* The record's size for this call when it matches what its site learned
 * (same message, number of fields, keys and types), the string values'
 * lengths in str_len (at their fields' positions); 0 when it does not match
 * (the ordinary path then). */
__attribute__((always_inline)) static inline size_t
plume_site_measure(const plume_site_desc_t *d, const char *message,
                                        const plume_field_t *fields, size_t nfields,
                                        uint32_t overlay_len, uint32_t *str_len)
{
    if (message != d->message || nfields != d->nfields)
        return 0;
    size_t size;
    switch (nfields) {
    case 0: size = d->fixed_size; break;
    case 1: size = plume_site_measure_n(d, fields, 1, str_len); break;
    case 2: size = plume_site_measure_n(d, fields, 2, str_len); break;
    case 3: size = plume_site_measure_n(d, fields, 3, str_len); break;
    case 4: size = plume_site_measure_n(d, fields, 4, str_len); break;
    default: size = plume_site_measure_n(d, fields, nfields, str_len); break;
    }
    if (size && overlay_len)
        size += 8u + overlay_len;
    return size;
}

/* plume_site_write()'s values for n fields (unrolled like the measure). */
__attribute__((always_inline)) static inline uint8_t *
plume_site_write_n(uint8_t *p, const plume_site_desc_t *d, const plume_field_t *fields,
                   size_t n, const uint32_t *str_len)
{
    uint8_t *slot = p;
    for (size_t i = 0; i < n; i++)
        memcpy(slot + 8u * i, &fields[i].v, 8);
    p += 8u * n;
    for (size_t i = 0; i < n; i++) {
        if (d->field[i].type != PLUME_FIELD_STR)
            continue;
        uint32_t len = str_len[i];
        memcpy(slot + 8u * i, &len, 4);
        if (len != PLUME_SITE_NULL_STR) {
            plume_copy_short(p, fields[i].v.s, len);
            p += len;
        }
    }
    return p;
}

/* The record's header (and the overlay's counts when it has pairs) at p;
 * returns where the values go. */
__attribute__((always_inline)) static inline uint8_t *
plume_site_write_head(uint8_t *p, const plume_site_desc_t *d, uint64_t stamp,
                      plume_level_t level, const plume_record_extra_t *overlay)
{
    bool has_overlay = overlay && overlay->pairs_len;
    uint8_t head[4] = {PLUME_SITE_TAG,
                       (uint8_t)((unsigned)level | (d->breadcrumb ? PLUME_SITE_BREADCRUMB : 0u)),
                       has_overlay ? PLUME_SITE_OVERLAY : 0u, 0};
    memcpy(p, head, 4); /* one store */
    memcpy(p + 4, &stamp, 8);
    memcpy(p + 12, &d, sizeof(d));
    p += PLUME_SITE_HEADER;
    if (has_overlay) {
        memcpy(p, &overlay->pairs_len, 4);
        memcpy(p + 4, &overlay->npairs, 4);
        p += 8;
    }
    return p;
}

/* Writes the record plume_site_measure() measured (the same call). */
__attribute__((always_inline)) static inline void
plume_site_write(uint8_t *p, const plume_site_desc_t *d, uint64_t stamp, plume_level_t level,
                 const plume_field_t *fields, const uint32_t *str_len,
                 const plume_record_extra_t *overlay)
{
    p = plume_site_write_head(p, d, stamp, level, overlay);
    switch (d->nfields) {
    case 0: break;
    case 1: p = plume_site_write_n(p, d, fields, 1, str_len); break;
    case 2: p = plume_site_write_n(p, d, fields, 2, str_len); break;
    case 3: p = plume_site_write_n(p, d, fields, 3, str_len); break;
    case 4: p = plume_site_write_n(p, d, fields, 4, str_len); break;
    default: p = plume_site_write_n(p, d, fields, d->nfields, str_len); break;
    }
    if (overlay && overlay->pairs_len)
        memcpy(p, overlay->pairs, overlay->pairs_len);
}

/* Worker side: true when rec is a site record. */
static inline bool plume_site_is_record(const uint8_t *rec, size_t len)
{
    return len > 0 && rec[0] == PLUME_SITE_TAG;
}

/* Worker side: the ordinary record (record.h) for the site record rec[0..len)
 * into out (reset first). False when the record is cut short or malformed;
 * out is then unusable. */
bool plume_site_expand(const uint8_t *rec, size_t len, plume_buf_t *out);

#endif
