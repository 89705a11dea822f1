/* SPDX-License-Identifier: MIT */
/* msgpack writer and bounds-checked cursor reader. See mp.h. */
#include "mp.h"

#include <string.h>

/* Makes room for k more bytes: the usual case (capacity left, which is never
 * past the maximum) without a call. Same result as plume_buf_reserve(). */
static inline bool room(plume_buf_t *b, size_t k)
{
    return b->cap - b->len >= k || plume_buf_reserve(b, k);
}

static void put_be(plume_buf_t *b, uint8_t tag, uint64_t v, int nbytes)
{
    if (!room(b, (size_t)nbytes + 1))
        return;
    uint8_t *d = b->data + b->len;
    d[0] = tag;
    for (int i = 0; i < nbytes; i++)
        d[1 + i] = (uint8_t)(v >> (8 * (nbytes - 1 - i)));
    b->len += (size_t)nbytes + 1;
}

void plume_mp_nil(plume_buf_t *b) { plume_buf_append_byte(b, 0xc0); }

void plume_mp_bool(plume_buf_t *b, bool v) { plume_buf_append_byte(b, v ? 0xc3 : 0xc2); }

void plume_mp_uint(plume_buf_t *b, uint64_t v)
{
    if (v < 0x80)
        plume_buf_append_byte(b, (uint8_t)v);
    else if (v <= UINT8_MAX)
        put_be(b, 0xcc, v, 1);
    else if (v <= UINT16_MAX)
        put_be(b, 0xcd, v, 2);
    else if (v <= UINT32_MAX)
        put_be(b, 0xce, v, 4);
    else
        put_be(b, 0xcf, v, 8);
}

void plume_mp_int(plume_buf_t *b, int64_t v)
{
    if (v >= 0) {
        plume_mp_uint(b, (uint64_t)v);
    } else if (v >= -32) {
        plume_buf_append_byte(b, (uint8_t)(int8_t)v);
    } else if (v >= INT8_MIN) {
        put_be(b, 0xd0, (uint64_t)v & 0xff, 1);
    } else if (v >= INT16_MIN) {
        put_be(b, 0xd1, (uint64_t)v & 0xffff, 2);
    } else if (v >= INT32_MIN) {
        put_be(b, 0xd2, (uint64_t)v & 0xffffffffu, 4);
    } else {
        put_be(b, 0xd3, (uint64_t)v, 8);
    }
}

void plume_mp_double(plume_buf_t *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    put_be(b, 0xcb, bits, 8);
}

void plume_mp_str_header(plume_buf_t *b, size_t n)
{
    if (n < 32)
        plume_buf_append_byte(b, (uint8_t)(0xa0 | n));
    else if (n <= UINT8_MAX)
        put_be(b, 0xd9, n, 1);
    else if (n <= UINT16_MAX)
        put_be(b, 0xda, n, 2);
    else
        put_be(b, 0xdb, n, 4);
}

/* A short string (the usual key or value) is written with one reservation
 * and no library call; longer ones, or a buffer out of room, take the
 * general path. */
void plume_mp_str(plume_buf_t *b, const char *s, size_t n)
{
    if (n >= 32 || !room(b, n + 1)) {
        plume_mp_str_header(b, n);
        plume_buf_append(b, s, n);
        return;
    }
    uint8_t *d = b->data + b->len;
    d[0] = (uint8_t)(0xa0 | n);
    if (n)
        memcpy(d + 1, s, n);
    b->len += n + 1;
}

void plume_mp_cstr(plume_buf_t *b, const char *s) { plume_mp_str(b, s, strlen(s)); }

void plume_mp_bin(plume_buf_t *b, const void *p, size_t n)
{
    if (n <= UINT8_MAX)
        put_be(b, 0xc4, n, 1);
    else if (n <= UINT16_MAX)
        put_be(b, 0xc5, n, 2);
    else
        put_be(b, 0xc6, n, 4);
    plume_buf_append(b, p, n);
}

void plume_mp_map_header(plume_buf_t *b, uint32_t count)
{
    if (count < 16)
        plume_buf_append_byte(b, (uint8_t)(0x80 | count));
    else if (count <= UINT16_MAX)
        put_be(b, 0xde, count, 2);
    else
        put_be(b, 0xdf, count, 4);
}

void plume_mp_array_header(plume_buf_t *b, uint32_t count)
{
    if (count < 16)
        plume_buf_append_byte(b, (uint8_t)(0x90 | count));
    else if (count <= UINT16_MAX)
        put_be(b, 0xdc, count, 2);
    else
        put_be(b, 0xdd, count, 4);
}

size_t plume_mp_map_begin(plume_buf_t *b)
{
    size_t off = b->len;
    put_be(b, 0xdf, 0, 4);
    return off;
}

size_t plume_mp_array_begin(plume_buf_t *b)
{
    size_t off = b->len;
    put_be(b, 0xdd, 0, 4);
    return off;
}

void plume_mp_patch_count(plume_buf_t *b, size_t offset, uint32_t count)
{
    if (b->failed || offset + 5 > b->len)
        return;
    uint8_t *p = b->data + offset + 1;
    p[0] = (uint8_t)(count >> 24);
    p[1] = (uint8_t)(count >> 16);
    p[2] = (uint8_t)(count >> 8);
    p[3] = (uint8_t)count;
}

/* ---- reader ---- */

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Reads one value header. The common one-byte forms (fixstr, positive
 * fixint, fixmap) are handled first; every field of *v is written on every
 * path (no memset of the whole struct): .u is zeroed, which also clears .b,
 * .i, .f's bits and .count. */
bool plume_mp_read(plume_mp_reader_t *r, plume_mp_value_t *v)
{
    const uint8_t *p = r->p;
    if (p >= r->end)
        return false;
    size_t avail = (size_t)(r->end - p);
    uint8_t c = *p++;
    size_t need = 0;     /* bytes of header after the tag */
    uint64_t payload = 0; /* str/bin/ext payload length */

    v->u = 0;
    v->s = NULL;
    v->len = 0;
    v->ext_type = 0;
    if ((c & 0xe0) == 0xa0) { /* fixstr: the usual key */
        payload = c & 0x1f;
        if (payload > avail - 1)
            return false;
        v->type = PLUME_MP_STR;
        v->s = (const char *)p;
        v->len = (uint32_t)payload;
        r->p = p + payload;
        return true;
    }
    if (c <= 0x7f) {
        v->type = PLUME_MP_UINT;
        v->u = c;
        r->p = p;
        return true;
    }
#define NEED(n)                      \
    do {                             \
        need = (n);                  \
        if (avail < 1 + need)        \
            return false;            \
    } while (0)

    if (c <= 0x7f) {
        v->type = PLUME_MP_UINT;
        v->u = c;
    } else if (c >= 0xe0) {
        v->type = PLUME_MP_INT;
        v->i = (int8_t)c;
    } else if ((c & 0xf0) == 0x80) {
        v->type = PLUME_MP_MAP;
        v->count = c & 0x0f;
    } else if ((c & 0xf0) == 0x90) {
        v->type = PLUME_MP_ARRAY;
        v->count = c & 0x0f;
    } else if ((c & 0xe0) == 0xa0) {
        v->type = PLUME_MP_STR;
        payload = c & 0x1f;
    } else {
        switch (c) {
        case 0xc0: v->type = PLUME_MP_NIL; break;
        case 0xc2: v->type = PLUME_MP_BOOL; v->b = false; break;
        case 0xc3: v->type = PLUME_MP_BOOL; v->b = true; break;
        case 0xc4: case 0xc5: case 0xc6: {
            int n = 1 << (c - 0xc4);
            NEED((size_t)n);
            v->type = PLUME_MP_BIN;
            payload = get_be(p, n);
            break;
        }
        case 0xc7: case 0xc8: case 0xc9: {
            int n = 1 << (c - 0xc7);
            NEED((size_t)n + 1);
            v->type = PLUME_MP_EXT;
            payload = get_be(p, n);
            v->ext_type = (int8_t)p[n];
            break;
        }
        case 0xca: {
            NEED(4);
            uint32_t bits = (uint32_t)get_be(p, 4);
            float f;
            memcpy(&f, &bits, 4);
            v->type = PLUME_MP_FLOAT;
            v->f = f;
            break;
        }
        case 0xcb: {
            NEED(8);
            uint64_t bits = get_be(p, 8);
            memcpy(&v->f, &bits, 8);
            v->type = PLUME_MP_FLOAT;
            break;
        }
        case 0xcc: case 0xcd: case 0xce: case 0xcf: {
            int n = 1 << (c - 0xcc);
            NEED((size_t)n);
            v->type = PLUME_MP_UINT;
            v->u = get_be(p, n);
            break;
        }
        case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
            int n = 1 << (c - 0xd0);
            NEED((size_t)n);
            uint64_t raw = get_be(p, n);
            int64_t s;
            if (n == 1) s = (int8_t)raw;
            else if (n == 2) s = (int16_t)raw;
            else if (n == 4) s = (int32_t)raw;
            else s = (int64_t)raw;
            if (s >= 0) {
                v->type = PLUME_MP_UINT;
                v->u = (uint64_t)s;
            } else {
                v->type = PLUME_MP_INT;
                v->i = s;
            }
            break;
        }
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
            NEED(1);
            v->type = PLUME_MP_EXT;
            v->ext_type = (int8_t)p[0];
            payload = (uint64_t)1 << (c - 0xd4);
            break;
        case 0xd9: case 0xda: case 0xdb: {
            int n = 1 << (c - 0xd9);
            NEED((size_t)n);
            v->type = PLUME_MP_STR;
            payload = get_be(p, n);
            break;
        }
        case 0xdc: case 0xdd: {
            int n = c == 0xdc ? 2 : 4;
            NEED((size_t)n);
            v->type = PLUME_MP_ARRAY;
            v->count = (uint32_t)get_be(p, n);
            break;
        }
        case 0xde: case 0xdf: {
            int n = c == 0xde ? 2 : 4;
            NEED((size_t)n);
            v->type = PLUME_MP_MAP;
            v->count = (uint32_t)get_be(p, n);
            break;
        }
        default:
            return false; /* 0xc1 is never used */
        }
    }
#undef NEED
    p += need;
    if (v->type == PLUME_MP_STR || v->type == PLUME_MP_BIN || v->type == PLUME_MP_EXT) {
        if (payload > (uint64_t)(r->end - p))
            return false;
        v->s = (const char *)p;
        v->len = (uint32_t)payload;
        p += payload;
    }
    r->p = p;
    return true;
}

static bool skip_depth(plume_mp_reader_t *r, int depth)
{
    plume_mp_value_t v;
    if (depth > 64 || !plume_mp_read(r, &v))
        return false;
    if (v.type == PLUME_MP_ARRAY || v.type == PLUME_MP_MAP) {
        uint64_t n = v.type == PLUME_MP_MAP ? (uint64_t)v.count * 2 : v.count;
        for (uint64_t i = 0; i < n; i++)
            if (!skip_depth(r, depth + 1))
                return false;
    }
    return true;
}

bool plume_mp_skip(plume_mp_reader_t *r)
{
    const uint8_t *start = r->p;
    if (!skip_depth(r, 0)) {
        r->p = start;
        return false;
    }
    return true;
}
