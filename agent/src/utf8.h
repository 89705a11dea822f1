/* SPDX-License-Identifier: MIT */
/* UTF-8 validation and repair for collector input.
 *
 * Every line a collector reads may hold arbitrary bytes, but events carry text
 * as msgpack str, which downstream encoders (JSON for Axiom and Sentry) require
 * to be valid UTF-8. plume_utf8_valid() is the cheap check done on every line
 * (ASCII runs are tested 8 bytes at a time); plume_utf8_sanitize() is the slow
 * path that copies a line, replacing each ill-formed sequence (overlong forms,
 * surrogates, code points above U+10FFFF, truncated sequences, stray
 * continuation bytes) by U+FFFD, one replacement per maximal invalid subpart as
 * Unicode (chapter 3, "U+FFFD substitution of maximal subparts") recommends. */
#ifndef PLUME_UTF8_H
#define PLUME_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Checks one sequence starting at p (avail >= 1 bytes). Returns its length
 * (1-4) when it is well-formed. Otherwise returns 0 and sets *bad to the length
 * of the maximal invalid subpart (>= 1): the bytes to replace by one U+FFFD
 * before decoding resumes. Table 3-7 of the Unicode standard. */
static inline size_t plume_utf8_seq(const uint8_t *p, size_t avail, size_t *bad)
{
    uint8_t c = p[0];
    if (c < 0x80)
        return 1;
    size_t need;
    uint8_t lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        if (c == 0xe0)
            lo = 0xa0; /* below: overlong */
        else if (c == 0xed)
            hi = 0x9f; /* above: surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        if (c == 0xf0)
            lo = 0x90; /* below: overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above: > U+10FFFF */
    } else {
        *bad = 1; /* continuation byte, C0/C1 or F5..FF */
        return 0;
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= avail || p[i] < lo || p[i] > hi) {
            *bad = i;
            return 0;
        }
        lo = 0x80;
        hi = 0xbf;
    }
    return need + 1;
}

/* Encodes the code point cp (at most 0x10FFFF) at d; returns its length
 * (1-4). Used by the JSON and logfmt \u escape decoders. */
static inline size_t plume_utf8_put(uint8_t *d, uint32_t cp)
{
    if (cp < 0x80) {
        d[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (uint8_t)(0xc0 | (cp >> 6));
        d[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (uint8_t)(0xe0 | (cp >> 12));
        d[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (uint8_t)(0xf0 | (cp >> 18));
    d[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

/* True when s[0..n) is well-formed UTF-8. */
bool plume_utf8_valid(const char *s, size_t n);

/* Appends s[0..n) to out, replacing every maximal invalid subpart by U+FFFD
 * (EF BF BD). Returns the number of replacements made; check out->failed for
 * overflow. */
size_t plume_utf8_sanitize(const char *s, size_t n, plume_buf_t *out);

/* Length of the longest prefix of s[0..n) that is well-formed UTF-8. */
size_t plume_utf8_valid_prefix(const char *s, size_t n);

/* For text cut at an arbitrary byte: the number of trailing bytes (0-3) that
 * form the start of a sequence that would have been valid had the input not
 * been cut. Dropping them keeps a cut line from ending in a U+FFFD. */
size_t plume_utf8_incomplete_tail(const char *s, size_t n);

#endif
