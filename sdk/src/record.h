/* SPDX-License-Identifier: MIT */
/* The record a log call writes into its thread's ring, and its reader.
 *
 * A record is one msgpack array, so any msgpack reader can decode it:
 *
 *   [ stamp,    uint64, always 0xcf + 8 bytes (plume_clock_stamp())
 *     level,    positive fixint 0..5 (plume_level_t)
 *     message,  str, or nil when the call had none
 *     fields    map of str key -> str | nil | int64 (0xd3) | uint64 (0xcf) |
 *               float64 (0xcb) | bool, in call order, then the thread's
 *               scope overlay pairs (already encoded, copied as they are)
 *     category] breadcrumbs only (a 5-element array): str or nil
 *
 * The log call measures first (one strlen per string whose length the call
 * site did not know at compile time, lengths capped), then
 * writes exactly that many bytes with plain stores: no bounds checks on the
 * hot path, because the room was reserved for the measured size. Strings are
 * cut at their caps (the worker repairs any UTF-8 sequence a cut splits). */
#ifndef PLUME_SDK_RECORD_H
#define PLUME_SDK_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plume/plume.h"

#define PLUME_RECORD_MAX_MESSAGE (64u * 1024u)
#define PLUME_RECORD_MAX_KEY 256u
#define PLUME_RECORD_MAX_VALUE (16u * 1024u)

/* The lengths plume_record_measure() found, for plume_record_write(). */
typedef struct plume_record_lens {
    uint32_t msg;
    uint32_t nfields; /* fields kept: NULL keys skipped, at most PLUME_MAX_FIELDS */
    uint16_t index[PLUME_MAX_FIELDS]; /* the kept fields' positions in the call */
    uint32_t key[PLUME_MAX_FIELDS];
    uint32_t val[PLUME_MAX_FIELDS];   /* string values only */
    uint32_t category;                /* breadcrumbs: the category's length */
} plume_record_lens_t;

/* What a record may carry besides the call's own fields. */
typedef struct plume_record_extra {
    const uint8_t *pairs; /* msgpack key/value pairs appended to the fields map */
    uint32_t pairs_len;
    uint32_t npairs;
    bool breadcrumb;      /* a breadcrumb record: the 5th element is the category */
    const char *category; /* breadcrumbs: may be NULL (written as nil) */
    unsigned category_size; /* strlen(category) + 1 when the caller knew it, else 0 */
} plume_record_extra_t;

#define PLUME_RECORD_MAX_CATEGORY 128u

/* Bytes of the record for this call (message may be NULL, extra may be NULL);
 * fills *lens. message_size and the fields' key_size_ are strlen + 1 when the
 * call site knew them (string literals; trusted as given) or 0 (measured). */
size_t plume_record_measure(const char *message, unsigned message_size,
                            const plume_field_t *fields, size_t nfields,
                            const plume_record_extra_t *extra, plume_record_lens_t *lens);

/* Writes the record measured into dst (exactly the measured size; the same
 * fields and extra as measured). */
void plume_record_write(uint8_t *dst, uint64_t stamp, plume_level_t level, const char *message,
                        const plume_field_t *fields, const plume_record_extra_t *extra,
                        const plume_record_lens_t *lens);

/* The call's fields alone as msgpack key/value pairs (no map header): the
 * bytes they take, lens->nfields the pairs kept (same caps as a record), and
 * the writer of exactly those bytes. The scope uses them to encode pushed
 * fields and contexts once. */
size_t plume_record_pairs_measure(const plume_field_t *fields, size_t nfields,
                                  plume_record_lens_t *lens);
uint8_t *plume_record_pairs_write(uint8_t *dst, const plume_field_t *fields,
                                  const plume_record_lens_t *lens);

/* The warning record that reports `dropped` log calls a full ring refused
 * ("plume: events dropped, ...", field dropped). Returns its size; writes it
 * to dst unless dst is NULL. At most PLUME_DROPS_RECORD_MAX bytes. */
#define PLUME_DROPS_RECORD_MAX 96u
size_t plume_record_drops(uint8_t *dst, uint64_t stamp, uint64_t dropped);

/* A record read back (worker side): pointers into the record. */
typedef struct plume_record_view {
    uint64_t stamp;
    plume_level_t level;
    const char *message; /* NULL when nil */
    size_t message_len;
    const uint8_t *fields; /* the msgpack map, header included */
    size_t fields_len;
    uint32_t nfields;
    bool breadcrumb;       /* a breadcrumb record */
    const char *category;  /* breadcrumbs: NULL when nil */
    size_t category_len;
} plume_record_view_t;

/* Reads a record of n bytes. False when its array, stamp, level, message or
 * (breadcrumbs) category are malformed (the worker counts and skips it). The
 * fields map of a log record is not walked: it is everything after the
 * message, and whoever reads it checks it (record_json.c refuses a map that
 * is cut short or followed by anything). */
bool plume_record_read(const uint8_t *p, size_t n, plume_record_view_t *v);

#endif
