/* SPDX-License-Identifier: MIT */
/* Internals shared by the two JSON readers: the converter (json_parse.c,
 * JSON -> msgpack) and the validator (json_scan.c, checks and reports spans
 * without converting). Both must accept exactly the same documents and fail
 * with the same message at the same offset, so everything that decides
 * validity or words an error lives here once: the cursor state, the error
 * helpers, whitespace and the plain-string scanner, escape decoding, the depth
 * check and the "after an item" rule. Not part of the public API. */
#ifndef PLUME_JSON_PARSE_INT_H
#define PLUME_JSON_PARSE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "json_parse.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define COLD __attribute__((cold, noinline))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

typedef struct parser {
    const uint8_t *start; /* input start, for error offsets */
    const uint8_t *p;     /* cursor */
    const uint8_t *end;
    plume_buf_t *out;     /* converter only; NULL when validating */
    unsigned depth;
    unsigned max_depth;
    bool check_utf8;
    unsigned flags;  /* validator: PLUME_JSON_SCAN_* facts noticed so far */
    size_t str_off;  /* payload of the last string written: out->data[str_off..+str_len) */
    size_t str_len;
    plume_json_error_t *err;
} parser_t;

/* Sets up ps over s[0..n) with the options' depth limit and UTF-8 mode, and
 * clears *err (which may be NULL). */
void plume_json_parser_init(parser_t *ps, const char *s, size_t n, plume_buf_t *out,
                            const plume_json_opts_t *opts, plume_json_error_t *err);

/* ---- errors (cold; each returns false so callers can `return fail...`) ---- */

bool plume_json_fail_at(parser_t *ps, const uint8_t *at, plume_json_status_t st,
                        const char *fmt, ...) COLD __attribute__((format(printf, 4, 5)));
/* "unexpected character 'x' at offset N (expected ...)", or end of input. */
bool plume_json_fail_unexpected(parser_t *ps, const uint8_t *at, const char *expected) COLD;
bool plume_json_fail_unterminated(parser_t *ps, const uint8_t *open) COLD;

typedef enum plume_json_number_error {
    PLUME_JSON_NUM_DIGIT,        /* no digit after '-' (or at the start) */
    PLUME_JSON_NUM_LEADING_ZERO, /* `at` is the '0' */
    PLUME_JSON_NUM_FRACTION,     /* no digit after '.' */
    PLUME_JSON_NUM_EXPONENT,     /* no digit in the exponent */
} plume_json_number_error_t;
bool plume_json_fail_number(parser_t *ps, const uint8_t *at, plume_json_number_error_t what) COLD;
/* ps->p is at a literal that is not `word`: points at the first differing byte. */
bool plume_json_fail_literal(parser_t *ps, const char *word, size_t len) COLD;
/* "<what> at offset N" with PLUME_JSON_ETOOBIG. */
bool plume_json_fail_too_big(parser_t *ps, const uint8_t *at, const char *what) COLD;

/* ---- scanning ---- */

static inline bool plume_json_is_ws(uint8_t c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline bool plume_json_is_digit(uint8_t c) { return (unsigned)(c - '0') < 10; }

static inline void plume_json_skip_ws(parser_t *ps)
{
    const uint8_t *p = ps->p, *end = ps->end;
    while (p < end && plume_json_is_ws(*p))
        p++;
    ps->p = p;
}

#define PLUME_JSON_ONES 0x0101010101010101ull
#define PLUME_JSON_HIGHS 0x8080808080808080ull

/* Returns the first byte at or after p that ends a plain string run: '"', '\\',
 * a control character, or (when stop_high) a non-ASCII byte; `end` if none.
 * 16 bytes per step with SSE2, else 8 on little-endian machines: the lowest
 * flagged byte of the bit tricks below is always exact, which is the only one
 * used. */
static inline const uint8_t *plume_json_scan_plain(const uint8_t *p, const uint8_t *end,
                                                   bool stop_high)
{
#ifdef __SSE2__
    /* '"' and '\\' by equality, control characters as bytes whose unsigned
     * max with 0x1f is 0x1f, non-ASCII by the sign bit. */
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1f);
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)p);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                                 _mm_cmpeq_epi8(_mm_max_epu8(x, ctl), ctl));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (stop_high)
            bits |= (unsigned)_mm_movemask_epi8(x);
        if (bits)
            return p + __builtin_ctz(bits);
        p += 16;
    }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t high_mask = stop_high ? PLUME_JSON_HIGHS : 0;
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t q = w ^ (PLUME_JSON_ONES * '"');
        uint64_t bs = w ^ (PLUME_JSON_ONES * '\\');
        uint64_t m = ((q - PLUME_JSON_ONES) & ~q) | ((bs - PLUME_JSON_ONES) & ~bs) |
                     ((w - PLUME_JSON_ONES * 0x20) & ~w) | (w & high_mask);
        m &= PLUME_JSON_HIGHS;
        if (m)
            return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
#endif
    while (p < end) {
        uint8_t c = *p;
        if (c == '"' || c == '\\' || c < 0x20 || (stop_high && c >= 0x80))
            return p;
        p++;
    }
    return p;
}

/* Returns the closing quote of a string, given q inside it (past the opening
 * quote), skipping escaped characters; NULL if the input ends first. */
static inline const uint8_t *plume_json_find_string_end(const uint8_t *q, const uint8_t *end)
{
    for (;;) {
        q = plume_json_scan_plain(q, end, false);
        if (q >= end)
            return NULL;
        if (*q == '"')
            return q;
        if (*q == '\\' && end - q < 2)
            return NULL;
        q += *q == '\\' ? 2 : 1;
    }
}

/* Handles a byte that stopped a plain run and is neither '"' nor '\\': a
 * control character (error) or the start of a UTF-8 sequence (validated).
 * Returns the position after it, or NULL after recording an error. */
const uint8_t *plume_json_string_special(parser_t *ps, const uint8_t *q);

/* Decodes one escape at q (q[0] == '\\') into dst (room for 6 bytes). Sets
 * *adv to the input consumed and returns the bytes written: -1 when the input
 * ends inside the escape (nothing recorded), -2 on a bad escape (error
 * recorded). A \uD800-\uDBFF escape followed by a \uDC00-\uDFFF escape is one
 * code point; any other surrogate escape becomes U+FFFD and sets *lone (when
 * lone is not NULL). Bounds come from ps->end. */
int plume_json_decode_escape(parser_t *ps, const uint8_t *q, uint8_t *dst, size_t *adv,
                             bool *lone);

/* ---- structure ---- */

/* Counts one more level of nesting at ps->p (an opening bracket). */
static inline bool plume_json_enter(parser_t *ps)
{
    if (UNLIKELY(++ps->depth > ps->max_depth))
        return plume_json_fail_at(ps, ps->p, PLUME_JSON_EDEPTH,
                                  "nesting deeper than %u at offset %zu", ps->max_depth,
                                  (size_t)(ps->p - ps->start));
    return true;
}

/* After an element or member: returns 1 after a ',' (more follow), 0 after
 * the closing bracket, -1 on anything else (error recorded). */
static inline int plume_json_after_item(parser_t *ps, uint8_t close)
{
    plume_json_skip_ws(ps);
    if (ps->p < ps->end) {
        if (*ps->p == ',') {
            ps->p++;
            plume_json_skip_ws(ps);
            return 1;
        }
        if (*ps->p == close) {
            ps->p++;
            return 0;
        }
    }
    plume_json_fail_unexpected(ps, ps->p, close == '}' ? "',' or '}'" : "',' or ']'");
    return -1;
}

/* ---- the object scanner's two paths (json_scan.c, json_scan_fast.c) ---- */

/* The exact scanner's check of one value starting exactly at ps->p (no
 * leading whitespace): on success ps->p is just past it, and ps->flags has
 * gained the PLUME_JSON_SCAN_* facts noticed in it. Nesting is counted from
 * ps->depth. On failure the error goes to ps->err (which may be NULL). */
bool plume_json_scan_value(parser_t *ps);

/* plume_json_object_scan() by the exact scanner alone. */
bool plume_json_scan_exact(const char *s, size_t n, const plume_json_opts_t *opts,
                           plume_json_span_fn fn, void *ctx, plume_json_scan_info_t *info,
                           plume_json_error_t *err);

#ifdef __SSE2__
/* plume_json_object_scan() with the fast path first: same arguments, same
 * results. When the fast path gives up (having called and written nothing)
 * it counts the line in plume_json_scan_fast_gave_up and returns what
 * plume_json_scan_exact() returns. */
bool plume_json_scan_fast(const char *s, size_t n, const plume_json_opts_t *opts,
                          plume_json_span_fn fn, void *ctx, plume_json_scan_info_t *info,
                          plume_json_error_t *err);
/* Lines the fast path gave up on in this thread (for tests). */
extern _Thread_local unsigned long plume_json_scan_fast_gave_up;
#endif

/* Tests and benchmarks only: true makes the fast path classify lines with
 * SSE2 even where AVX2 is available, so that both classifiers can be
 * compared on the same input (process-wide, not thread-safe). */
void plume_json_scan_fast_force_sse2(bool on);

#endif
