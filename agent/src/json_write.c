/* SPDX-License-Identifier: MIT */
/* JSON writer: escaped strings (with a word-at-a-time fast path for plain
 * ASCII) and msgpack-to-JSON conversion. See json_write.h. */
#include "json_write.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "time_format.h"

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

/* True when any of the 8 bytes in `x` needs attention: a control character,
 * DEL, a byte >= 0x80, '"' or '\\'. Standard "has zero byte" bit tricks. */
static inline bool word_has_special(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
#define HAS_ZERO(v) (((v) - ones) & ~(v) & high)
    uint64_t lt20 = (x - ones * 0x20) & ~x & high;
    uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\'), del = x ^ (ones * 0x7f);
    return ((x & high) | lt20 | HAS_ZERO(q) | HAS_ZERO(bs) | HAS_ZERO(del)) != 0;
#undef HAS_ZERO
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

/* The escaping itself (see json_write.h): whole 8-byte words of plain ASCII
 * are skipped with one test each, a clean run is one memcpy, escapes are
 * written in place. */
size_t plume_json_escape_raw(char *dst, const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    char *o = dst;
    while (p < end) {
        const uint8_t *run = p;
        while (end - p >= 8) {
            uint64_t x;
            memcpy(&x, p, 8);
            if (word_has_special(x))
                break;
            p += 8;
        }
        while (p < end && *p < 0x80 && !ascii_escape[*p])
            p++;
        memcpy(o, run, (size_t)(p - run));
        o += p - run;
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
    plume_buf_append_byte(b, '"');
    plume_json_write_escaped(b, s, n);
    plume_buf_append_byte(b, '"');
}

/* Decimal digits of v at `out` (room for 20); returns the count. */
static size_t format_u64(uint64_t v, char *out)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
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
        if (m != floor(m) || m / p10[k] != a)
            continue;
        uint64_t u = (uint64_t)m; /* >= 1 since a >= 1e-4 */
        while (k > 0 && u % 10 == 0) { /* 64.50 when 64.5 * 10 was not exact */
            u /= 10;
            k--;
        }
        char digits[24];
        int nd = 0;
        for (; u; u /= 10)
            digits[nd++] = (char)('0' + u % 10); /* reversed */
        size_t n = 0;
        if (v < 0)
            out[n++] = '-';
        if (nd <= k) { /* 0.000ddd */
            out[n++] = '0';
            out[n++] = '.';
            for (int z = 0; z < k - nd; z++)
                out[n++] = '0';
            while (nd)
                out[n++] = digits[--nd];
        } else {
            while (nd > k)
                out[n++] = digits[--nd];
            if (k) {
                out[n++] = '.';
                while (nd)
                    out[n++] = digits[--nd];
            }
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
