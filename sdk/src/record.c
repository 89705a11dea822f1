/* SPDX-License-Identifier: MIT */
/* Record measuring, writing (hot path) and reading (worker). See record.h. */
#include "record.h"

#include <string.h>

#include "plume/plume.h"
#include "mp.h"
#include "mp_put.h"

/* A string's length capped at `cap`: from its size (strlen + 1, known at the
 * call site) when the caller had it, else measured. */
static inline uint32_t sized_strlen(const char *s, unsigned size, size_t cap)
{
    if (size)
        return (uint32_t)(size - 1 < cap ? size - 1 : cap);
    return (uint32_t)plume_hot_strlen_(s, cap);
}

size_t plume_record_pairs_measure(const plume_field_t *fields, size_t nfields,
                                  plume_record_lens_t *lens)
{
    size_t size = 0;
    uint32_t kept = 0;
    for (size_t i = 0; fields && i < nfields && kept < PLUME_MAX_FIELDS; i++) {
        const plume_field_t *f = &fields[i];
        if (!f->key)
            continue;
        uint32_t kl = sized_strlen(f->key, f->key_size_, PLUME_RECORD_MAX_KEY);
        lens->index[kept] = (uint16_t)i;
        lens->key[kept] = kl;
        size += plume_str_header_size(kl) + kl;
        switch (f->type) {
        case PLUME_FIELD_STR:
            if (f->v.s) {
                uint32_t vl = (uint32_t)plume_hot_strlen_(f->v.s, PLUME_RECORD_MAX_VALUE);
                lens->val[kept] = vl;
                size += plume_str_header_size(vl) + vl;
            } else {
                lens->val[kept] = 0;
                size += 1;
            }
            break;
        case PLUME_FIELD_BOOL:
            size += 1;
            break;
        default: /* I64, U64, F64; an unknown type is written as nil */
            size += f->type <= PLUME_FIELD_F64 ? 9 : 1;
            break;
        }
        kept++;
    }
    lens->nfields = kept;
    return size;
}

size_t plume_record_measure(const char *message, unsigned message_size,
                            const plume_field_t *fields, size_t nfields,
                            const plume_record_extra_t *extra, plume_record_lens_t *lens)
{
    size_t size = 1 + 9 + 1; /* array header, stamp, level */
    if (message) {
        lens->msg = sized_strlen(message, message_size, PLUME_RECORD_MAX_MESSAGE);
        size += plume_str_header_size(lens->msg) + lens->msg;
    } else {
        lens->msg = 0;
        size += 1; /* nil */
    }
    size += plume_record_pairs_measure(fields, nfields, lens);
    uint32_t kept = lens->nfields;
    uint32_t entries = kept;
    if (extra) {
        entries += extra->npairs;
        size += extra->pairs_len;
        if (extra->breadcrumb) {
            if (extra->category) {
                lens->category = sized_strlen(extra->category, extra->category_size,
                                              PLUME_RECORD_MAX_CATEGORY);
                size += plume_str_header_size(lens->category) + lens->category;
            } else {
                size += 1; /* nil */
            }
        } else if (extra->error) {
            lens->err_type = (uint32_t)plume_hot_strlen_(extra->err_type, PLUME_RECORD_MAX_TYPE);
            size += plume_str_header_size(lens->err_type) + lens->err_type;
            size += extra->has_code ? 9 : 1;
            size_t fb = 8u * (extra->nframes < PLUME_RECORD_MAX_FRAMES ? extra->nframes
                                                                       : PLUME_RECORD_MAX_FRAMES);
            size += (fb < 256 ? 2 : 3) + fb; /* bin8 or bin16 */
        }
    }
    size += entries < 16 ? 1 : 3; /* map header (entries < 65536: the callers bound them) */
    return size;
}

uint8_t *plume_record_pairs_write(uint8_t *p, const plume_field_t *fields,
                                  const plume_record_lens_t *lens)
{
    for (uint32_t k = 0; k < lens->nfields; k++) {
        const plume_field_t *f = &fields[lens->index[k]];
        p = plume_put_str(p, f->key, lens->key[k]);
        switch (f->type) {
        case PLUME_FIELD_STR:
            if (f->v.s)
                p = plume_put_str(p, f->v.s, lens->val[k]);
            else
                *p++ = 0xc0;
            break;
        case PLUME_FIELD_I64:
            p = plume_put_be64(p, 0xd3, (uint64_t)f->v.i);
            break;
        case PLUME_FIELD_U64:
            p = plume_put_be64(p, 0xcf, f->v.u);
            break;
        case PLUME_FIELD_F64: {
            uint64_t bits;
            memcpy(&bits, &f->v.f, sizeof(bits));
            p = plume_put_be64(p, 0xcb, bits);
            break;
        }
        case PLUME_FIELD_BOOL:
            *p++ = f->v.b ? 0xc3 : 0xc2;
            break;
        default:
            *p++ = 0xc0;
            break;
        }
    }
    return p;
}

void plume_record_write(uint8_t *dst, uint64_t stamp, plume_level_t level, const char *message,
                        const plume_field_t *fields, const plume_record_extra_t *extra,
                        const plume_record_lens_t *lens)
{
    uint8_t *p = dst;
    *p++ = !extra ? 0x94 : extra->breadcrumb ? 0x95 : extra->error ? 0x97 : 0x94;
    p = plume_put_be64(p, 0xcf, stamp);
    *p++ = (uint8_t)level; /* 0..5: a positive fixint */
    if (message)
        p = plume_put_str(p, message, lens->msg);
    else
        *p++ = 0xc0;
    uint32_t n = lens->nfields + (extra ? extra->npairs : 0);
    if (n < 16) {
        *p++ = (uint8_t)(0x80 | n);
    } else {
        *p++ = 0xde;
        *p++ = (uint8_t)(n >> 8);
        *p++ = (uint8_t)n;
    }
    p = plume_record_pairs_write(p, fields, lens);
    if (!extra)
        return;
    if (extra->pairs_len) {
        memcpy(p, extra->pairs, extra->pairs_len);
        p += extra->pairs_len;
    }
    if (extra->breadcrumb) {
        if (extra->category)
            p = plume_put_str(p, extra->category, lens->category);
        else
            *p++ = 0xc0;
    } else if (extra->error) {
        p = plume_put_str(p, extra->err_type, lens->err_type);
        if (extra->has_code)
            p = plume_put_be64(p, 0xd3, (uint64_t)extra->code);
        else
            *p++ = 0xc0;
        uint32_t nf = extra->nframes < PLUME_RECORD_MAX_FRAMES ? extra->nframes
                                                               : PLUME_RECORD_MAX_FRAMES;
        size_t fb = 8u * nf;
        if (fb < 256) {
            *p++ = 0xc4;
            *p++ = (uint8_t)fb;
        } else {
            *p++ = 0xc5;
            *p++ = (uint8_t)(fb >> 8);
            *p++ = (uint8_t)fb;
        }
        for (uint32_t i = 0; i < nf; i++) {
            uint64_t a = (uint64_t)extra->frames[i];
            memcpy(p + 8u * i, &a, 8);
        }
    }
}

/* The elements after an error record's map: type, code, frames, and then
 * nothing. */
static bool read_error_tail(plume_mp_reader_t *r, plume_record_view_t *v)
{
    plume_mp_value_t x;
    if (!plume_mp_read(r, &x) || x.type != PLUME_MP_STR)
        return false;
    v->err_type = x.s;
    v->err_type_len = x.len;
    if (!plume_mp_read(r, &x))
        return false;
    v->has_code = x.type != PLUME_MP_NIL;
    if (x.type == PLUME_MP_INT)
        v->code = x.i;
    else if (x.type == PLUME_MP_UINT && x.u <= (uint64_t)INT64_MAX)
        v->code = (int64_t)x.u;
    else if (x.type == PLUME_MP_NIL)
        v->code = 0;
    else
        return false;
    if (!plume_mp_read(r, &x) || x.type != PLUME_MP_BIN || x.len % 8 != 0 ||
        x.len / 8 > PLUME_RECORD_MAX_FRAMES)
        return false;
    v->frames = (const uint8_t *)x.s;
    v->nframes = x.len / 8;
    return r->p == r->end;
}

/* The shape nearly every log record has, read without the generic reader:
 * a 4-element array, the 0xcf stamp, a fixint level, a fixstr or str8
 * message, a fixmap or map16 header. Exactly what the generic reader gives
 * for such bytes; anything else (or anything cut short) is left to it. */
static bool read_common_log(const uint8_t *p, size_t n, plume_record_view_t *v)
{
    if (n < 13 || p[0] != 0x94 || p[1] != 0xcf || p[10] > PLUME_LEVEL_FATAL)
        return false;
    const uint8_t *q = p + 11, *end = p + n;
    size_t len;
    if ((*q & 0xe0) == 0xa0) {
        len = *q & 0x1fu;
        q += 1;
    } else if (*q == 0xd9) {
        len = q[1]; /* n >= 13: q[1] is inside */
        q += 2;
    } else {
        return false;
    }
    if ((size_t)(end - q) <= len) /* the message and at least the map's first byte */
        return false;
    const uint8_t *msg = q;
    q += len;
    uint32_t count;
    if ((*q & 0xf0) == 0x80) {
        count = *q & 0x0fu;
    } else if (*q == 0xde && end - q >= 3) {
        count = (uint32_t)q[1] << 8 | q[2];
    } else {
        return false;
    }
    uint64_t stamp;
    memcpy(&stamp, p + 2, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    stamp = __builtin_bswap64(stamp);
#endif
    *v = (plume_record_view_t){.stamp = stamp,
                               .level = (plume_level_t)p[10],
                               .message = (const char *)msg,
                               .message_len = len,
                               .fields = q,
                               .fields_len = (size_t)(end - q),
                               .nfields = count};
    return true;
}

bool plume_record_read(const uint8_t *p, size_t n, plume_record_view_t *v)
{
    return read_common_log(p, n, v) || plume_record_read_generic(p, n, v);
}

bool plume_record_read_generic(const uint8_t *p, size_t n, plume_record_view_t *v)
{
    plume_mp_reader_t r;
    plume_mp_value_t x;
    plume_mp_reader_init(&r, p, n);
    if (!plume_mp_read(&r, &x) || x.type != PLUME_MP_ARRAY ||
        (x.count != 4 && x.count != 5 && x.count != 7))
        return false;
    v->breadcrumb = x.count == 5;
    v->error = x.count == 7;
    v->category = NULL;
    v->category_len = 0;
    v->err_type = NULL;
    v->err_type_len = 0;
    v->has_code = false;
    v->code = 0;
    v->frames = NULL;
    v->nframes = 0;
    if (!plume_mp_read(&r, &x) || x.type != PLUME_MP_UINT)
        return false;
    v->stamp = x.u;
    if (!plume_mp_read(&r, &x) || x.type != PLUME_MP_UINT || x.u > PLUME_LEVEL_FATAL)
        return false;
    v->level = (plume_level_t)x.u;
    if (!plume_mp_read(&r, &x))
        return false;
    if (x.type == PLUME_MP_STR) {
        v->message = x.s;
        v->message_len = x.len;
    } else if (x.type == PLUME_MP_NIL) {
        v->message = NULL;
        v->message_len = 0;
    } else {
        return false;
    }
    const uint8_t *map = r.p;
    if (!plume_mp_read(&r, &x) || x.type != PLUME_MP_MAP)
        return false;
    v->nfields = x.count;
    v->fields = map;
    if (!v->breadcrumb && !v->error) {
        /* A log record ends with its map: no walk through it here (every
         * reader of the fields checks its bounds as it goes). */
        v->fields_len = (size_t)(r.end - map);
        return true;
    }
    r.p = map;
    if (!plume_mp_skip(&r))
        return false; /* the map must be whole */
    v->fields_len = (size_t)(r.p - map);
    if (v->error)
        return read_error_tail(&r, v);
    if (!plume_mp_read(&r, &x) || (x.type != PLUME_MP_STR && x.type != PLUME_MP_NIL))
        return false;
    if (x.type == PLUME_MP_STR) {
        v->category = x.s;
        v->category_len = x.len;
    }
    return r.p == r.end; /* nothing after the last element */
}

size_t plume_record_drops(uint8_t *dst, uint64_t stamp, uint64_t dropped)
{
    static const char msg[] = "plume: events dropped, this thread's ring was full";
    plume_field_t f = plume_u64("dropped", dropped);
    plume_record_lens_t lens;
    size_t n = plume_record_measure(msg, sizeof(msg), &f, 1, NULL, &lens);
    if (dst)
        plume_record_write(dst, stamp, PLUME_LEVEL_WARN, msg, &f, NULL, &lens);
    return n;
}
