/* SPDX-License-Identifier: MIT */
/* JSON output into a bounded plume_buf_t: strings and msgpack values.
 *
 * Used by every encoder (Axiom NDJSON, file/console NDJSON, Sentry JSON). The
 * output is always valid JSON whatever the input: strings are escaped and
 * invalid UTF-8 becomes \ufffd; besides the characters JSON requires to be
 * escaped, DEL, the C1 controls (U+0080..U+009F), U+2028/U+2029 and the bidi
 * overrides (U+202A..U+202E, U+2066..U+2069) are written as \uXXXX so that
 * the text is safe to show on a terminal or embed in JavaScript. Overflow of
 * the buffer's maximum is reported through its sticky `failed` flag. */
#ifndef PLUME_JSON_WRITE_H
#define PLUME_JSON_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mp.h"

/* Appends `s[0..n)` as a quoted JSON string. `s` need not be NUL-terminated
 * and may hold any bytes (NUL is written as \u0000). */
void plume_json_write_str(plume_buf_t *b, const char *s, size_t n);
/* The same without the surrounding quotes (to build a string in parts). */
void plume_json_write_escaped(plume_buf_t *b, const char *s, size_t n);

/* The escaping of plume_json_write_escaped() into raw memory for writers that
 * reserve once per event: dst must have room for 6 * n bytes (the worst
 * case, every byte a \u00XX escape). Returns the bytes written; the text is
 * identical to what plume_json_write_escaped() appends. */
size_t plume_json_escape_raw(char *dst, const char *s, size_t n);

/* Per byte: 1 when plume_json_escape_raw() copies it as it is (printable
 * ASCII other than '"' and '\\'), 0 when it needs a look. */
extern const uint8_t plume_json_plain_byte[256];

/* 16 bytes as a GCC/clang vector (SSE2 on x86-64, NEON on aarch64; plain
 * scalar code where there is neither). */
typedef signed char plume_json_v16_t __attribute__((vector_size(16)));

/* True when any of the 16 bytes of a and b (8 each, in memory order) is not
 * plain: a control character, DEL, a byte >= 0x80 (negative as a signed
 * char, so below 0x20 too), '"' or '\\'. Exact: a byte at a time, with no
 * carries between bytes as in the scalar "has zero byte" tricks. */
static inline bool plume_json_special16(uint64_t a, uint64_t b)
{
    uint64_t w[2] = {a, b};
    plume_json_v16_t x;
    __builtin_memcpy(&x, w, 16);
    plume_json_v16_t m = (x < 0x20) | (x == '"') | (x == '\\') | (x == 0x7f);
    __builtin_memcpy(w, &m, 16);
    return (w[0] | w[1]) != 0;
}

/* plume_json_escape_raw() with its most common case inline, for per-field
 * writers: a string of 1 to 32 plain bytes (a typical key or value) is
 * checked with overlapping loads that cover every byte and copied with as
 * many stores; anything else goes to plume_json_escape_raw(). Same
 * contract and the same text. */
static inline size_t plume_json_escape_raw_inline(char *dst, const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    if (n - 8 < 9) { /* 8..16 */
        uint64_t a, b;
        __builtin_memcpy(&a, p, 8);
        __builtin_memcpy(&b, p + n - 8, 8);
        if (!plume_json_special16(a, b)) {
            __builtin_memcpy(dst, &a, 8);
            __builtin_memcpy(dst + n - 8, &b, 8);
            return n;
        }
    } else if (n - 4 < 4) { /* 4..7 */
        uint32_t lo, hi;
        __builtin_memcpy(&lo, p, 4);
        __builtin_memcpy(&hi, p + n - 4, 4);
        uint64_t w = (uint64_t)hi << 32 | lo;
        if (!plume_json_special16(w, w)) {
            __builtin_memcpy(dst, &lo, 4);
            __builtin_memcpy(dst + n - 4, &hi, 4);
            return n;
        }
    } else if (n - 1 < 3) { /* 1..3 */
        uint8_t a = p[0], m = p[n / 2], z = p[n - 1];
        if (plume_json_plain_byte[a] & plume_json_plain_byte[m] & plume_json_plain_byte[z]) {
            dst[0] = (char)a;
            dst[n / 2] = (char)m;
            dst[n - 1] = (char)z;
            return n;
        }
    } else if (n - 17 < 16) { /* 17..32 */
        uint64_t w[4];
        __builtin_memcpy(w, p, 16);
        __builtin_memcpy(w + 2, p + n - 16, 16);
        if (!plume_json_special16(w[0], w[1]) && !plume_json_special16(w[2], w[3])) {
            __builtin_memcpy(dst, w, 16);
            __builtin_memcpy(dst + n - 16, w + 2, 16);
            return n;
        }
    } else if (n == 0) {
        return 0;
    }
    return plume_json_escape_raw(dst, s, n);
}

/* Reads one complete msgpack value from `r` (nested up to 64 levels) and
 * appends it as JSON: nil -> null, numbers, str -> string, bin -> base64
 * string, ext -1 (msgpack timestamp) -> RFC 3339 string, other ext ->
 * {"ext_type":N,"data":"<base64>"}, arrays, maps (keys that are not strings
 * are rendered as JSON text, then quoted). NaN and infinities become null.
 * Returns false on malformed or too deeply nested msgpack, or if `b` failed;
 * then `r` and the bytes appended to `b` are unspecified (callers truncate
 * `b` back to its previous length). */
bool plume_json_write_mp(plume_buf_t *b, plume_mp_reader_t *r);

/* Reads one msgpack value and appends it as a JSON object key (a quoted
 * string, without the colon): strings as themselves, anything else as its
 * JSON text quoted (1 -> "1"). Same failure rules as plume_json_write_mp. */
bool plume_json_write_mp_key(plume_buf_t *b, plume_mp_reader_t *r);

/* Writes the shortest decimal text that reads back as the same value (tries
 * 15, 16, 17 significant digits; 6 to 9 when `single` says the value was a
 * float32), NUL-terminated, independent of the locale. Returns its length, or
 * 0 for NaN and infinities (which have no JSON form). */
size_t plume_json_format_double(double v, bool single, char out[32]);
/* The same by printf and strtod alone (the definition of the result; the
 * function above takes a faster path for common values). For tests. */
size_t plume_json_format_double_printf(double v, bool single, char out[32]);

/* Writes an integer in decimal (no NUL); returns the length (at most 20). */
size_t plume_json_format_u64(uint64_t v, char out[24]);
size_t plume_json_format_i64(int64_t v, char out[24]);

/* Decodes one UTF-8 sequence at p[0..n), n >= 1. Returns its length (1..4)
 * and sets *cp when it is well-formed (shortest form, no surrogates, at most
 * U+10FFFF); otherwise returns minus the length of the maximal ill-formed
 * prefix (-1..-3), which the caller replaces with one U+FFFD. */
int plume_json_utf8_next(const uint8_t *p, size_t n, uint32_t *cp);

/* True for code points that are valid but unsafe to print raw on a terminal
 * (C1 controls, line/paragraph separators, bidi overrides). */
bool plume_json_cp_unsafe(uint32_t cp);

#endif
