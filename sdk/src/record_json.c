/* SPDX-License-Identifier: MIT */
/* A record's fields straight to JSON. See record_json.h. */
#include "record_json.h"

#include <string.h>

#include "event.h"
#include "json_write.h"
#include "scrub.h"

static inline uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Reads a str header at *pp (before end): sets *s and *n and moves past the
 * string. False when it is not a str or runs past end. */
static inline bool read_str(const uint8_t **pp, const uint8_t *end, const char **s, size_t *n)
{
    const uint8_t *p = *pp;
    if (p >= end)
        return false;
    uint8_t c = *p++;
    size_t len;
    if ((c & 0xe0) == 0xa0) {
        len = c & 0x1f;
    } else if (c == 0xd9 && end - p >= 1) {
        len = p[0];
        p += 1;
    } else if (c == 0xda && end - p >= 2) {
        len = (size_t)p[0] << 8 | p[1];
        p += 2;
    } else if (c == 0xdb && end - p >= 4) {
        len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        p += 4;
    } else {
        return false;
    }
    if ((size_t)(end - p) < len)
        return false;
    *s = (const char *)p;
    *n = len;
    *pp = p + len;
    return true;
}

#define PUT_LIT(o, lit) (memcpy((o), (lit), sizeof(lit) - 1), (o) += sizeof(lit) - 1)

/* Skips the scalar value at *pp (what a record holds: str, nil, bool,
 * int64, uint64, float64). False when it is anything else or cut short. */
static inline bool skip_value(const uint8_t **pp, const uint8_t *end)
{
    const uint8_t *p = *pp;
    if (p >= end)
        return false;
    uint8_t c = *p;
    if ((c & 0xe0) == 0xa0 || (c >= 0xd9 && c <= 0xdb)) {
        const char *v;
        size_t vn;
        return read_str(pp, end, &v, &vn);
    }
    if (c == 0xc0 || c == 0xc2 || c == 0xc3) {
        *pp = p + 1;
        return true;
    }
    if ((c == 0xd3 || c == 0xcf || c == 0xcb) && end - p >= 9) {
        *pp = p + 9;
        return true;
    }
    return false;
}

/* The body of both entry points; `scrub` is NULL for the plain one (the
 * check then folds away). */
static inline __attribute__((always_inline)) bool
members(plume_buf_t *out, const uint8_t *fields, size_t len, unsigned *hints,
        const plume_scrub_t *scrub)
{
    const uint8_t *p = fields, *end = fields + len;
    if (len == 0)
        return false;
    uint32_t count;
    if ((*p & 0xf0) == 0x80) {
        count = *p++ & 0x0f;
    } else if (*p == 0xde && len >= 3) {
        count = (uint32_t)p[1] << 8 | p[2];
        p += 3;
    } else {
        return false;
    }
    /* Worst case: every byte an escape (6x: also covers numbers, whose 9
     * msgpack bytes become at most 24 characters, and nil/bool), plus
     * ,"user": around each key and the quotes of each value. */
    if (!plume_buf_reserve(out, 6 * len + 10 * (size_t)count + 16))
        return false;
    char *o = (char *)out->data + out->len;
    unsigned seen = 0;
    for (uint32_t i = 0; i < count; i++) {
        const char *k;
        size_t kn;
        if (!read_str(&p, end, &k, &kn) || p >= end)
            return false;
        seen |= plume_hint_for_key(k, kn);
        if (kn > 0 && k[0] == '_')
            PUT_LIT(o, ",\"user");
        else
            PUT_LIT(o, ",\"");
        o += plume_json_escape_raw_inline(o, k, kn);
        PUT_LIT(o, "\":");
        if (scrub && plume_scrub_key(scrub, k, kn)) {
            /* reserved above: a matching key is at least min_len bytes, and
             * "[Filtered]" (12 bytes quoted) is less than 6 per msgpack byte
             * of the key and value it stands for */
            if (!skip_value(&p, end))
                return false;
            PUT_LIT(o, "\"" PLUME_SCRUB_FILTERED "\"");
            continue;
        }
        uint8_t c = *p;
        if ((c & 0xe0) == 0xa0 || (c >= 0xd9 && c <= 0xdb)) {
            const char *v;
            size_t vn;
            if (!read_str(&p, end, &v, &vn))
                return false;
            *o++ = '"';
            o += plume_json_escape_raw_inline(o, v, vn);
            *o++ = '"';
            continue;
        }
        p++;
        if (c == 0xc0) {
            PUT_LIT(o, "null");
        } else if (c == 0xc2) {
            PUT_LIT(o, "false");
        } else if (c == 0xc3) {
            PUT_LIT(o, "true");
        } else if ((c == 0xd3 || c == 0xcf || c == 0xcb) && end - p >= 8) {
            uint64_t v = be64(p);
            p += 8;
            if (c == 0xd3) {
                o += plume_json_format_i64((int64_t)v, o);
            } else if (c == 0xcf) {
                o += plume_json_format_u64(v, o);
            } else {
                double d;
                memcpy(&d, &v, sizeof(d));
                /* straight into the output: the 32 bytes it may write
                 * (text and NUL) are within the 54 reserved for these 9
                 * msgpack bytes; the NUL is overwritten or left past len */
                size_t nn = plume_json_format_double(d, false, o);
                if (nn == 0)
                    PUT_LIT(o, "null"); /* NaN and infinities have no JSON form */
                else
                    o += nn;
            }
        } else {
            return false;
        }
    }
    if (p != end)
        return false;
    out->len = (size_t)((uint8_t *)o - out->data);
    *hints |= seen;
    return true;
}

bool plume_record_json_members(plume_buf_t *out, const uint8_t *fields, size_t len,
                               unsigned *hints)
{
    return members(out, fields, len, hints, NULL);
}

bool plume_record_json_members_scrub(plume_buf_t *out, const uint8_t *fields, size_t len,
                                     unsigned *hints, const plume_scrub_t *scrub)
{
    if (!plume_scrub_active(scrub))
        return members(out, fields, len, hints, NULL);
    return members(out, fields, len, hints, scrub);
}
