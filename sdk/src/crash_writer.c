/* SPDX-License-Identifier: MIT */
/* The crash handler's fixed-buffer msgpack writer. See crash_writer.h.
 * Only plain stores: no libc call at all (the copies are byte loops the
 * compiler may turn into memcpy, which is async-signal-safe too). */
#include "crash_writer.h"

void plume_cw_init(plume_cw_t *w, void *buf, size_t cap)
{
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->len = 0;
    w->overflow = false;
}

uint8_t *plume_cw_reserve(plume_cw_t *w, size_t n)
{
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = true;
        return NULL;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* One header byte followed by `bytes` big-endian bytes of v. */
static void put_tagged(plume_cw_t *w, uint8_t tag, uint64_t v, int bytes)
{
    uint8_t *p = plume_cw_reserve(w, 1 + (size_t)bytes);
    if (p) {
        p[0] = tag;
        put_be(p + 1, v, bytes);
    }
}

static void put_copy(plume_cw_t *w, const void *src, size_t n)
{
    uint8_t *p = plume_cw_reserve(w, n);
    if (!p)
        return;
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++)
        p[i] = s[i];
}

void plume_cw_nil(plume_cw_t *w) { put_tagged(w, 0xc0, 0, 0); }

void plume_cw_bool(plume_cw_t *w, bool v) { put_tagged(w, v ? 0xc3 : 0xc2, 0, 0); }

void plume_cw_uint(plume_cw_t *w, uint64_t v)
{
    if (v < 0x80)
        put_tagged(w, (uint8_t)v, 0, 0);
    else if (v <= 0xff)
        put_tagged(w, 0xcc, v, 1);
    else if (v <= 0xffff)
        put_tagged(w, 0xcd, v, 2);
    else if (v <= 0xffffffffu)
        put_tagged(w, 0xce, v, 4);
    else
        put_tagged(w, 0xcf, v, 8);
}

void plume_cw_int(plume_cw_t *w, int64_t v)
{
    if (v >= 0)
        plume_cw_uint(w, (uint64_t)v);
    else if (v >= -32)
        put_tagged(w, (uint8_t)(int8_t)v, 0, 0);
    else if (v >= INT8_MIN)
        put_tagged(w, 0xd0, (uint64_t)v, 1);
    else if (v >= INT16_MIN)
        put_tagged(w, 0xd1, (uint64_t)v, 2);
    else if (v >= INT32_MIN)
        put_tagged(w, 0xd2, (uint64_t)v, 4);
    else
        put_tagged(w, 0xd3, (uint64_t)v, 8);
}

/* A str or bin header plus the bytes, all or nothing. */
static void put_blob(plume_cw_t *w, bool bin, const void *p, size_t n)
{
    size_t mark = w->len;
    if (n > 0xffffffffu) {
        w->overflow = true;
        return;
    }
    if (!bin && n < 32)
        put_tagged(w, (uint8_t)(0xa0 | n), 0, 0);
    else if (n <= 0xff)
        put_tagged(w, bin ? 0xc4 : 0xd9, n, 1);
    else if (n <= 0xffff)
        put_tagged(w, bin ? 0xc5 : 0xda, n, 2);
    else
        put_tagged(w, bin ? 0xc6 : 0xdb, n, 4);
    put_copy(w, p, n);
    if (w->overflow)
        w->len = mark; /* never a header without its bytes */
}

void plume_cw_str(plume_cw_t *w, const char *s, size_t n) { put_blob(w, false, s, n); }

void plume_cw_cstr(plume_cw_t *w, const char *s, size_t max)
{
    size_t n = 0;
    while (s && n < max && s[n])
        n++;
    put_blob(w, false, s, n);
}

void plume_cw_bin(plume_cw_t *w, const void *p, size_t n) { put_blob(w, true, p, n); }

void plume_cw_bin_header(plume_cw_t *w, uint32_t n) { put_tagged(w, 0xc6, n, 4); }

void plume_cw_map(plume_cw_t *w, uint32_t count)
{
    if (count < 16)
        put_tagged(w, (uint8_t)(0x80 | count), 0, 0);
    else if (count <= 0xffff)
        put_tagged(w, 0xde, count, 2);
    else
        put_tagged(w, 0xdf, count, 4);
}

void plume_cw_array(plume_cw_t *w, uint32_t count)
{
    if (count < 16)
        put_tagged(w, (uint8_t)(0x90 | count), 0, 0);
    else if (count <= 0xffff)
        put_tagged(w, 0xdc, count, 2);
    else
        put_tagged(w, 0xdd, count, 4);
}

size_t plume_cw_array_begin(plume_cw_t *w)
{
    size_t at = w->len;
    put_tagged(w, 0xdd, 0, 4);
    return at;
}

size_t plume_cw_map_begin(plume_cw_t *w)
{
    size_t at = w->len;
    put_tagged(w, 0xdf, 0, 4);
    return at;
}

void plume_cw_patch(plume_cw_t *w, size_t offset, uint32_t count)
{
    if (offset + 5 > w->len || (w->buf[offset] != 0xdd && w->buf[offset] != 0xdf))
        return;
    put_be(w->buf + offset + 1, count, 4);
}

void plume_cw_rollback(plume_cw_t *w, size_t mark)
{
    if (mark <= w->len)
        w->len = mark;
    w->overflow = false;
}
