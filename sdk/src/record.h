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
 * Three kinds share the shape, told apart by the array's length: a log
 * record (4 elements), a breadcrumb (5: the category above) and a captured
 * error (7, plume_capture_error(), level always error), whose last three
 * elements are
 *
 *     type,     str (the caller's error type; "error" when it gave none)
 *     code,     int64 (0xd3) or nil when the call had no code
 *     frames ]  bin: the raw return addresses of the caller's stack,
 *               innermost first, each a uint64 in the host's byte order
 *               (the record never leaves the process), at most
 *               PLUME_RECORD_MAX_FRAMES
 *
 * The module list, in_app and everything else about the frames is worked out
 * by the worker (error_map.h), not by the caller.
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
#define PLUME_RECORD_MAX_TYPE 256u   /* an error's type is cut here */
#define PLUME_RECORD_MAX_FRAMES 64u  /* an error's frames */

/* The lengths plume_record_measure() found, for plume_record_write(). */
typedef struct plume_record_lens {
    uint32_t msg;
    uint32_t nfields; /* fields kept: NULL keys skipped, at most PLUME_MAX_FIELDS */
    uint16_t index[PLUME_MAX_FIELDS]; /* the kept fields' positions in the call */
    uint32_t key[PLUME_MAX_FIELDS];
    uint32_t val[PLUME_MAX_FIELDS];   /* string values only */
    uint32_t category;                /* breadcrumbs: the category's length */
    uint32_t err_type;                /* errors: the type's length */
} plume_record_lens_t;

/* What a record may carry besides the call's own fields. */
typedef struct plume_record_extra {
    const uint8_t *pairs; /* msgpack key/value pairs appended to the fields map */
    uint32_t pairs_len;
    uint32_t npairs;
    bool breadcrumb;      /* a breadcrumb record: the 5th element is the category */
    const char *category; /* breadcrumbs: may be NULL (written as nil) */
    unsigned category_size; /* strlen(category) + 1 when the caller knew it, else 0 */
    bool error;           /* a captured error: type, code and frames follow the map */
    const char *err_type; /* errors: never NULL */
    bool has_code;
    int64_t code;
    const uintptr_t *frames; /* errors: nframes raw addresses, innermost first */
    uint32_t nframes;        /* at most PLUME_RECORD_MAX_FRAMES */
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
    bool error;            /* a captured error record (the fields below) */
    const char *err_type;
    size_t err_type_len;
    bool has_code;
    int64_t code;
    const uint8_t *frames; /* nframes uint64 addresses, host order, unaligned:
                            * read them with plume_record_frame() */
    uint32_t nframes;
} plume_record_view_t;

/* Frame i of an error record's view. */
static inline uintptr_t plume_record_frame(const plume_record_view_t *v, uint32_t i)
{
    uint64_t a;
    __builtin_memcpy(&a, v->frames + 8u * i, 8);
    return (uintptr_t)a;
}

/* Reads a record of n bytes. False when its array, stamp, level, message,
 * (breadcrumbs) category or (errors) type, code and frames are malformed
 * (the worker counts and skips it). The fields map of a log record is not
 * walked: it is everything after the message, and whoever reads it checks it
 * (record_json.c refuses a map that is cut short or followed by anything).
 * The maps of breadcrumbs and errors are skipped whole, so they are known to
 * be complete msgpack. */
bool plume_record_read(const uint8_t *p, size_t n, plume_record_view_t *v);
/* The same without the fast path for the common log record's shape (tests
 * compare the two). */
bool plume_record_read_generic(const uint8_t *p, size_t n, plume_record_view_t *v);

#endif
