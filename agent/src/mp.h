/* SPDX-License-Identifier: MIT */
/* A small msgpack writer (into a plume_buf_t) and a cursor reader.
 *
 * Events travel between components as msgpack maps (docs/event-schema.md). The
 * writer always picks the shortest encoding, except for maps and arrays opened
 * with plume_mp_map_begin/array_begin, which reserve a 32-bit count so that the
 * count can be patched once known. The reader never allocates: strings point
 * into the input, and every read is bounds-checked against the input length, so
 * it is safe on hostile bytes. */
#ifndef PLUME_MP_H
#define PLUME_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* ---- writer ---- */
void plume_mp_nil(plume_buf_t *b);
void plume_mp_bool(plume_buf_t *b, bool v);
void plume_mp_int(plume_buf_t *b, int64_t v);
void plume_mp_uint(plume_buf_t *b, uint64_t v);
void plume_mp_double(plume_buf_t *b, double v);
void plume_mp_str(plume_buf_t *b, const char *s, size_t n);
void plume_mp_cstr(plume_buf_t *b, const char *s);
void plume_mp_bin(plume_buf_t *b, const void *p, size_t n);
/* Writes a str header for n bytes; the caller appends the n bytes. */
void plume_mp_str_header(plume_buf_t *b, size_t n);
void plume_mp_map_header(plume_buf_t *b, uint32_t count);
void plume_mp_array_header(plume_buf_t *b, uint32_t count);
/* Opens a map/array whose count is not known yet; returns the offset to patch. */
size_t plume_mp_map_begin(plume_buf_t *b);
size_t plume_mp_array_begin(plume_buf_t *b);
/* Patches the count written by *_begin at `offset`. */
void plume_mp_patch_count(plume_buf_t *b, size_t offset, uint32_t count);

/* ---- reader ---- */
typedef enum plume_mp_type {
    PLUME_MP_NIL,
    PLUME_MP_BOOL,
    PLUME_MP_INT,    /* negative integer: .i */
    PLUME_MP_UINT,   /* non-negative integer: .u */
    PLUME_MP_FLOAT,  /* float32 or float64: .f */
    PLUME_MP_STR,    /* .s, .len */
    PLUME_MP_BIN,    /* .s, .len */
    PLUME_MP_ARRAY,  /* .count elements follow */
    PLUME_MP_MAP,    /* .count key/value pairs follow */
    PLUME_MP_EXT,    /* .ext_type, .s, .len */
} plume_mp_type_t;

typedef struct plume_mp_value {
    plume_mp_type_t type;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double f;
        uint32_t count;
    };
    const char *s;
    uint32_t len;
    int8_t ext_type;
} plume_mp_value_t;

typedef struct plume_mp_reader {
    const uint8_t *p;
    const uint8_t *end;
} plume_mp_reader_t;

static inline void plume_mp_reader_init(plume_mp_reader_t *r, const void *p, size_t n)
{
    r->p = (const uint8_t *)p;
    r->end = r->p + n;
}

/* Reads one value header (for arrays/maps only the header; the elements follow).
 * Returns false on truncated or invalid input (0xc1), leaving the cursor as is. */
bool plume_mp_read(plume_mp_reader_t *r, plume_mp_value_t *v);
/* Skips one complete value, including nested elements. Depth-limited (64);
 * returns false on bad input or too deep. */
bool plume_mp_skip(plume_mp_reader_t *r);
/* True when `v` is a str equal to the NUL-terminated `s`. Inline so that the
 * length of a literal `s` is a constant: the lengths are compared first and
 * the bytes only when they match. */
static inline bool plume_mp_str_eq(const plume_mp_value_t *v, const char *s)
{
    size_t n = __builtin_strlen(s);
    return v->type == PLUME_MP_STR && v->len == n && __builtin_memcmp(v->s, s, n) == 0;
}

#endif
