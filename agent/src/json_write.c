/* SPDX-License-Identifier: MIT */
/* JSON writer: escaped strings (plain ASCII copied 16 bytes at a time),
 * integers and doubles as text without printf for the common values, and
 * msgpack-to-JSON conversion. See json_write.h. */
#include "json_write.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "time_format.h"
#include "unaligned.h"

#define MAX_DEPTH 64

static const char hex_digits[] = "0123456789abcdef";

/* Per ASCII byte: 0 = copied as is, otherwise the character after the
 * backslash ('u' = \u00XX). Bytes >= 0x80 are handled by the UTF-8 path. */
static const char ascii_escape[128] = {
    ['\0'] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',
    [0x06] = 'u', [0x07] = 'u', ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', [0x0b] = 'u',
    ['\f'] = 'f', ['\r'] = 'r', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u', [0x11] = 'u',
    [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u',
    [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u', [0x1d] = 'u',
    [0x1e] = 'u', [0x1f] = 'u', ['"'] = '"', ['\\'] = '\\', [0x7f] = 'u',
};

const uint8_t plume_json_plain_byte[256] = {
    [0x20 ... 0x21] = 1, /* '"' is 0x22 */
    [0x23 ... 0x5b] = 1, /* '\\' is 0x5c */
    [0x5d ... 0x7e] = 1,
};

/* The two hundred two-digit numbers "00".."99", for writing integers two
 * digits per division. */
static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

static const uint64_t pow10_u64[20] = {1ull,
                                       10ull,
                                       100ull,
                                       1000ull,
                                       10000ull,
                                       100000ull,
                                       1000000ull,
                                       10000000ull,
                                       100000000ull,
                                       1000000000ull,
                                       10000000000ull,
                                       100000000000ull,
                                       1000000000000ull,
                                       10000000000000ull,
                                       100000000000000ull,
                                       1000000000000000ull,
                                       10000000000000000ull,
                                       100000000000000000ull,
                                       1000000000000000000ull,
                                       10000000000000000000ull};

int plume_json_utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len;
    uint32_t v;
    uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        v = c & 0x0f;
        if (c == 0xe0)
            lo = 0xa0; /* no overlong forms */
        else if (c == 0xed)
            hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        v = c & 0x07;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f; /* nothing above U+10FFFF */
    } else {
        return -1; /* continuation byte, C0/C1 overlong lead, or F5..FF */
    }
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n)
            return -i;
        uint8_t t = p[i];
        if (i == 1 ? (t < lo || t > hi) : (t & 0xc0) != 0x80)
            return -i;
        v = (v << 6) | (t & 0x3f);
    }
    *cp = v;
    return len;
}

bool plume_json_cp_unsafe(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x2028 && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* Where to cut p[0..n) at or before `at` so that no sequence
 * plume_json_utf8_next() reads as one (valid, or a maximal ill-formed
 * prefix) is split: before the lead byte when p[at] continues a sequence
 * that starts at most 3 bytes earlier. Returns n when at >= n. */
static size_t utf8_safe_cut(const uint8_t *p, size_t n, size_t at)
{
    if (at >= n)
        return n;
    size_t cut = at;
    for (int back = 0; back < 3 && cut > 0 && (p[cut] & 0xc0) == 0x80; back++)
        cut--;
    return (p[cut] & 0xc0) == 0x80 ? at : cut;
}

/* Input bytes escaped per step: the output room reserved is 6 times this, so
 * a huge string does not make the buffer grow to 6 times its size. */
#define ESCAPE_CHUNK 4096

/* plume_json_escape_raw() into the buffer a chunk at a time. Near the
 * buffer's maximum, where the worst case no longer fits, it goes on one
 * character at a time, so that text whose escaped form still fits exactly
 * is written, and the rest fails the buffer as every append does. */
void plume_json_write_escaped(plume_buf_t *b, const char *s, size_t n)
{
    /* One chunk with its worst case already allocated: what the loop's
     * first step does, without the cut and the reserve */
    if (n - 1 < ESCAPE_CHUNK && plume_buf_has_room(b, 6 * n)) { /* 1..CHUNK bytes */
        b->len += plume_json_escape_raw((char *)b->data + b->len, s, n);
        return;
    }
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < n) {
        size_t end = utf8_safe_cut(p, n, i + ESCAPE_CHUNK);
        size_t need = 6 * (end - i);
        if (need > b->max - b->len)
            break;
        if (!plume_buf_reserve(b, need))
            return; /* out of memory: failed is set */
        b->len += plume_json_escape_raw((char *)b->data + b->len, s + i, end - i);
        i = end;
    }
    while (i < n && !b->failed) {
        size_t end = utf8_safe_cut(p, n, i + 4);
        char piece[6 * 4];
        plume_buf_append(b, piece, plume_json_escape_raw(piece, s + i, end - i));
        i = end;
    }
}


/* The escaping itself (see json_write.h). Plain ASCII is copied as it is
 * read: 16 bytes at a time with one vector test each, then the last 1-15
 * bytes in one go (overlapping loads that cover every byte at least once)
 * when they are plain too; a stretch with a byte that needs attention goes
 * byte by byte up to that byte, which is escaped (or, valid UTF-8 that is
 * safe to show, copied) in place. dst has room for 6 * n bytes; nothing is
 * written past the returned length. */
size_t plume_json_escape_raw(char *dst, const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    char *o = dst;
    for (;;) {
        while (end - p >= 16) {
            uint64_t a = plume_load_u64(p), b = plume_load_u64(p + 8);
            if (plume_json_special16(a, b))
                break;
            memcpy(o, &a, 8);
            memcpy(o + 8, &b, 8);
            p += 16;
            o += 16;
        }
        size_t left = (size_t)(end - p);
        if (left == 0)
            break;
        if (left < 4) {
            uint8_t a = p[0], m = p[left / 2], z = p[left - 1];
            if (plume_json_plain_byte[a] & plume_json_plain_byte[m] & plume_json_plain_byte[z]) {
                o[0] = (char)a;
                o[left / 2] = (char)m;
                o[left - 1] = (char)z;
                o += left;
                break;
            }
        } else if (left < 8) {
            uint32_t lo = plume_load_u32(p), hi = plume_load_u32(end - 4);
            uint64_t w = (uint64_t)hi << 32 | lo;
            if (!plume_json_special16(w, w)) {
                memcpy(o, &lo, 4);
                memcpy(o + left - 4, &hi, 4);
                o += left;
                break;
            }
        } else if (left < 16) {
            uint64_t a = plume_load_u64(p), b = plume_load_u64(end - 8);
            if (!plume_json_special16(a, b)) {
                memcpy(o, &a, 8);
                memcpy(o + left - 8, &b, 8);
                o += left;
                break;
            }
        }
        while (p < end && plume_json_plain_byte[*p])
            *o++ = (char)*p++;
        if (p >= end)
            break;
        uint8_t c = *p;
        uint32_t cp;
        int len;
        if (c < 0x80) {
            char e = ascii_escape[c];
            p++;
            if (e != 'u') {
                *o++ = '\\';
                *o++ = e;
                continue;
            }
            cp = c;
        } else if ((len = plume_json_utf8_next(p, (size_t)(end - p), &cp)) > 0 &&
                   !plume_json_cp_unsafe(cp)) {
            memcpy(o, p, (size_t)len);
            o += len;
            p += len;
            continue;
        } else {
            if (len <= 0)
                cp = 0xfffd;
            p += len > 0 ? len : -len;
        }
        *o++ = '\\';
        *o++ = 'u';
        *o++ = hex_digits[(cp >> 12) & 15];
        *o++ = hex_digits[(cp >> 8) & 15];
        *o++ = hex_digits[(cp >> 4) & 15];
        *o++ = hex_digits[cp & 15];
    }
    return (size_t)(o - dst);
}

void plume_json_write_str(plume_buf_t *b, const char *s, size_t n)
{
    /* Room for the worst case already there: quotes and text in one go
     * (the same bytes the three steps below write) */
    if (n <= ESCAPE_CHUNK && plume_buf_has_room(b, 6 * n + 2)) {
        char *o = (char *)b->data + b->len;
        *o++ = '"';
        o += plume_json_escape_raw_inline(o, s, n);
        *o++ = '"';
        b->len = (size_t)((uint8_t *)o - b->data);
        return;
    }
    plume_buf_append_byte(b, '"');
    plume_json_write_escaped(b, s, n);
    plume_buf_append_byte(b, '"');
}

/* The number of decimal digits of v (1..20): the bit length gives it to
 * within one (log10(2) ~ 1233 / 4096), the table settles which. */
static inline unsigned count_digits(uint64_t v)
{
    if (v < 10)
        return 1;
    unsigned t = (unsigned)(64 - __builtin_clzll(v)) * 1233u >> 12;
    return t + 1 - (v < pow10_u64[t]);
}

/* Writes the last `n` decimal digits of v (with leading zeros) ending at
 * `e` (exclusive), two digits per division. */
static inline void put_digits(char *e, uint64_t v, unsigned n)
{
    for (; n >= 2; n -= 2) {
        e -= 2;
        memcpy(e, digit_pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (n)
        e[-1] = (char)('0' + v % 10);
}

/* Decimal digits of v at `out` (room for 20); returns the count. */
static size_t format_u64(uint64_t v, char *out)
{
    unsigned n = count_digits(v);
    put_digits(out + n, v, n);
    return n;
}

size_t plume_json_format_u64(uint64_t v, char out[24])
{
    return format_u64(v, out);
}

size_t plume_json_format_i64(int64_t v, char out[24])
{
    if (v >= 0)
        return format_u64((uint64_t)v, out);
    out[0] = '-';
    /* Negate in unsigned arithmetic so INT64_MIN works. */
    return 1 + format_u64(0 - (uint64_t)v, out + 1);
}

/* The common log value (a few decimals, 1e-4 <= |v| < 1e15) without printf:
 * the smallest k for which m = |v| * 10^k is an integer below 10^15 with
 * m / 10^k == |v| (then m's trailing zeros dropped). Both m (< 2^53) and
 * 10^k (k <= 22) are exact doubles, so
 * that division is exactly what strtod returns for "m e-k" (Clinger's fast
 * path): the string round-trips. With at most 15 significant digits and
 * |v - m/10^k| under half an ulp, it is also what "%.15g" prints (the nearest
 * 15-digit decimal, trailing zeros dropped). Returns 0 when it does not apply. */
static size_t format_fixed_fast(double v, char out[32])
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9, 1e10,
                                 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19};
    double a = fabs(v);
    if (!(a >= 1e-4 && a < 1e15))
        return 0;
    for (int k = 0; k < (int)(sizeof(p10) / sizeof(p10[0])); k++) {
        double m = a * p10[k];
        if (m >= 1e15)
            return 0;
        /* 0 < m < 1e15: converting to an integer and back is exact for an
         * integral m, so this is m != floor(m) (signed conversions: m is
         * far below 2^63, and they are single instructions) */
        int64_t whole = (int64_t)m;
        if (m != (double)whole || m / p10[k] != a)
            continue;
        uint64_t u = (uint64_t)whole; /* >= 1 since a >= 1e-4 */
        while (k > 0 && u % 10 == 0) { /* 64.50 when 64.5 * 10 was not exact */
            u /= 10;
            k--;
        }
        /* the integer part, then k fraction digits with their leading
         * zeros: "0.000ddd" when u has no more than k digits */
        size_t n = 0;
        if (v < 0)
            out[n++] = '-';
        n += format_u64(u / pow10_u64[k], out + n);
        if (k) {
            out[n++] = '.';
            put_digits(out + n + k, u % pow10_u64[k], (unsigned)k);
            n += (size_t)k;
        }
        out[n] = '\0';
        return n;
    }
    return 0;
}

size_t plume_json_format_double(double v, bool single, char out[32])
{
    if (!single) {
        size_t n = format_fixed_fast(v, out);
        if (n)
            return n;
    }
    return plume_json_format_double_printf(v, single, out);
}

size_t plume_json_format_double_printf(double v, bool single, char out[32])
{
    if (!isfinite(v)) {
        out[0] = '\0';
        return 0;
    }
    int n = 0;
    if (single) {
        float f = (float)v;
        for (int prec = 6; prec <= 9; prec++) {
            n = snprintf(out, 32, "%.*g", prec, v);
            if (strtof(out, NULL) == f)
                break;
        }
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            n = snprintf(out, 32, "%.*g", prec, v);
            if (strtod(out, NULL) == v)
                break;
        }
    }
    /* A locale with a decimal comma would make invalid JSON. */
    for (int i = 0; i < n; i++)
        if (out[i] == ',')
            out[i] = '.';
    return (size_t)n;
}

/* Appends `p[0..n)` in standard base64 with padding, in quotes. */
static void write_base64(plume_buf_t *b, const void *data, size_t n)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const uint8_t *p = data;
    size_t out_len = 4 * ((n + 2) / 3) + 2;
    if (!plume_buf_reserve(b, out_len))
        return;
    char *o = (char *)b->data + b->len;
    *o++ = '"';
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = tbl[(v >> 6) & 63];
        *o++ = tbl[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o++ = '"';
    b->len += out_len;
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Renders a msgpack timestamp (ext -1, 4/8/12 bytes) as a quoted RFC 3339
 * string. Returns false if it is not a valid timestamp or out of range. */
static bool write_timestamp(plume_buf_t *b, const plume_mp_value_t *v)
{
    const uint8_t *p = (const uint8_t *)v->s;
    int64_t sec;
    uint32_t nsec;
    if (v->len == 4) {
        sec = (int64_t)get_be(p, 4);
        nsec = 0;
    } else if (v->len == 8) {
        uint64_t x = get_be(p, 8);
        nsec = (uint32_t)(x >> 34);
        sec = (int64_t)(x & 0x3ffffffffull);
    } else if (v->len == 12) {
        nsec = (uint32_t)get_be(p, 4);
        sec = (int64_t)get_be(p + 4, 8);
    } else {
        return false;
    }
    char text[PLUME_TIME_FORMAT_MAX + 2];
    size_t n = plume_time_format_rfc3339_split(sec, nsec, text + 1);
    if (!n)
        return false;
    text[0] = '"';
    text[n + 1] = '"';
    plume_buf_append(b, text, n + 2);
    return true;
}

static bool write_value(plume_buf_t *b, plume_mp_reader_t *r, int depth);

/* Map key: strings as they are, other values rendered to JSON, then quoted. */
static bool write_key(plume_buf_t *b, plume_mp_reader_t *r, int depth)
{
    const uint8_t *start = r->p;
    plume_mp_value_t k;
    if (!plume_mp_read(r, &k))
        return false;
    if (k.type == PLUME_MP_STR) {
        plume_json_write_str(b, k.s, k.len);
        return !b->failed;
    }
    r->p = start;
    size_t room = b->max - b->len;
    if (room == 0) {
        b->failed = true;
        return false;
    }
    plume_buf_t tmp;
    plume_buf_init(&tmp, room);
    bool ok = write_value(&tmp, r, depth);
    if (ok)
        plume_json_write_str(b, (const char *)tmp.data, tmp.len);
    plume_buf_free(&tmp);
    if (tmp.failed)
        b->failed = true;
    return ok && !b->failed;
}

/* Recursive conversion of one value; `depth` counts enclosing containers. */
static bool write_value(plume_buf_t *b, plume_mp_reader_t *r, int depth)
{
    if (depth > MAX_DEPTH)
        return false;
    bool single = r->p < r->end && *r->p == 0xca;
    plume_mp_value_t v;
    if (!plume_mp_read(r, &v))
        return false;
    char num[32];
    size_t n;
    switch (v.type) {
    case PLUME_MP_NIL:
        plume_buf_append(b, "null", 4);
        break;
    case PLUME_MP_BOOL:
        if (v.b)
            plume_buf_append(b, "true", 4);
        else
            plume_buf_append(b, "false", 5);
        break;
    case PLUME_MP_INT:
        n = plume_json_format_i64(v.i, num);
        plume_buf_append(b, num, n);
        break;
    case PLUME_MP_UINT:
        n = plume_json_format_u64(v.u, num);
        plume_buf_append(b, num, n);
        break;
    case PLUME_MP_FLOAT:
        n = plume_json_format_double(v.f, single, num);
        if (n)
            plume_buf_append(b, num, n);
        else
            plume_buf_append(b, "null", 4);
        break;
    case PLUME_MP_STR:
        plume_json_write_str(b, v.s, v.len);
        break;
    case PLUME_MP_BIN:
        write_base64(b, v.s, v.len);
        break;
    case PLUME_MP_EXT:
        if (v.ext_type == -1 && write_timestamp(b, &v))
            break;
        plume_buf_append(b, "{\"ext_type\":", 12);
        n = plume_json_format_i64(v.ext_type, num);
        plume_buf_append(b, num, n);
        plume_buf_append(b, ",\"data\":", 8);
        write_base64(b, v.s, v.len);
        plume_buf_append_byte(b, '}');
        break;
    case PLUME_MP_ARRAY:
        plume_buf_append_byte(b, '[');
        for (uint32_t i = 0; i < v.count; i++) {
            if (i)
                plume_buf_append_byte(b, ',');
            if (!write_value(b, r, depth + 1))
                return false;
        }
        plume_buf_append_byte(b, ']');
        break;
    case PLUME_MP_MAP:
        plume_buf_append_byte(b, '{');
        for (uint32_t i = 0; i < v.count; i++) {
            if (i)
                plume_buf_append_byte(b, ',');
            if (!write_key(b, r, depth + 1))
                return false;
            plume_buf_append_byte(b, ':');
            if (!write_value(b, r, depth + 1))
                return false;
        }
        plume_buf_append_byte(b, '}');
        break;
    }
    return !b->failed;
}

bool plume_json_write_mp(plume_buf_t *b, plume_mp_reader_t *r)
{
    return write_value(b, r, 0);
}

bool plume_json_write_mp_key(plume_buf_t *b, plume_mp_reader_t *r)
{
    return write_key(b, r, 0);
}
