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
#include "plume/plume.h"
#include "record.h"

/* The layout's constants and the descriptor are shared with the macros'
 * inline fast path (plume/plume_hot.h), which writes the same records. */
#define PLUME_SITE_TAG PLUME_HOT_TAG_
#define PLUME_SITE_BREADCRUMB PLUME_HOT_CRUMB_FLAG_
#define PLUME_SITE_OVERLAY PLUME_HOT_OVERLAY_FLAG_
#define PLUME_SITE_HEADER PLUME_HOT_HEADER_
#define PLUME_SITE_NULL_STR PLUME_HOT_NULL_STR_
_Static_assert(PLUME_HOT_MAX_VALUE_ == PLUME_RECORD_MAX_VALUE, "one cap for string values");
_Static_assert(PLUME_SITE_HEADER == 4u + 8u + sizeof(void *), "header: tag, stamp, descriptor");

typedef struct plume_site_desc_ plume_site_desc_t;

/* The rest of a descriptor, after its key[nfields] (the fast path reads
 * only the part before): the encoded strings the worker copies into the
 * expanded record. */
typedef struct plume_site_rest {
    struct plume_site_rest *next_all; /* every descriptor, for leak checkers */
    bool breadcrumb;
    uint32_t head_len;    /* enc[0..head_len): the encoded message (str or nil) */
    uint32_t tail_len;    /* breadcrumbs: the encoded category (str or nil), last */
    uint32_t enc_size;
    uint8_t *enc;         /* message, keys in order, category: msgpack strs */
    uint32_t key_len[];   /* field i's encoded key length */
} plume_site_rest_t;

static inline plume_site_rest_t *plume_site_rest(const plume_site_desc_t *d)
{
    return (plume_site_rest_t *)(uintptr_t)&d->key[d->nfields];
}

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

/* The record's size for this call when it matches what its site learned
 * (same message, number of fields, keys and types), the string values'
 * lengths in str_len (at their fields' positions); 0 when it does not match
 * (the ordinary path then). */
static inline size_t plume_site_measure(const plume_site_desc_t *d, const char *message,
                                        const plume_field_t *fields, size_t nfields,
                                        uint32_t overlay_len, uint32_t *str_len)
{
    if (nfields > PLUME_HOT_SITE_FIELDS_ || plume_hot_differs_(d, 0, NULL, message, fields, nfields))
        return 0;
    return (size_t)plume_hot_measure_(d, fields, nfields, overlay_len, str_len);
}

/* Writes the record plume_site_measure() measured (the same call). */
static inline void plume_site_write(uint8_t *p, const plume_site_desc_t *d, uint64_t stamp,
                                    plume_level_t level, const plume_field_t *fields,
                                    const uint32_t *str_len, const plume_record_extra_t *overlay)
{
    uint64_t state = overlay && overlay->pairs_len
                         ? (uint64_t)overlay->pairs_len << 32 | overlay->npairs
                         : 0;
    plume_hot_write_(p, d, stamp, (int)level, (int)plume_site_rest(d)->breadcrumb, fields, d->nfields, str_len, state,
                     overlay ? overlay->pairs : NULL);
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
