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
