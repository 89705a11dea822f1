/* SPDX-License-Identifier: MIT */
/* The fast path of plume_json_object_scan() (json_scan.c), for the common
 * log line: one JSON object, mostly flat, without escapes.
 *
 * First the whole line is classified 64 bytes at a time with SSE2 (which
 * every x86-64 has), or with AVX2 and a carry-less multiplication for the
 * prefix XOR where the CPU has them (checked at run time; under half the
 * instructions per block): its quotes as a bit mask, reduced by a prefix XOR to the
 * mask of closing quotes, and whether it holds any backslash, control byte
 * or byte >= 0x80 at all. Without backslashes every quote opens or
 * closes a string, so the end of the next string is simply the next bit of
 * the closing-quote mask, however long the string is. Then the object is
 * walked member by member: keys and string values by that mask, numbers and
 * literals by their grammar (a number of up to 8 bytes from one 64-bit
 * word), nested arrays and objects by the exact scanner's own value checker.
 * In the compact layout ("key":"value",) a member costs a few bit operations
 * and byte comparisons, and no member's work waits for the previous one's.
 * The members are collected, and only once the whole line is known to be
 * valid are they reported to the callback, exactly as the exact scanner
 * would report them.
 *
 * Whenever it meets anything it is not sure about (any syntax error, a
 * backslash, a control byte inside a string, a byte >= 0x80 in a line that
 * is not valid UTF-8 when UTF-8 is checked, a number that might be extreme,
 * many members, a long line) it gives up before calling anything and the
 * exact scanner runs from the start: errors, offsets and flags are therefore
 * always the exact scanner's own. Built only where SSE2 exists. */
#include <stdint.h>
#include <string.h>

#include "json_parse.h"
#include "json_parse_int.h"
#include "utf8.h"

#ifdef __SSE2__
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h>
#endif

/* Longer lines go to the exact scanner. */
#define FAST_MAX_LEN 8192u

/* Longest number taken here: within it, the magnitude cannot pass 10^+-300
 * (PLUME_JSON_SCAN_EXTREME_NUMBER) with an exponent of at most two digits. */
#define FAST_MAX_NUMBER 200

#define GIVE_UP (-1)

/* Objects with more members go to the exact scanner. */
#define FAST_MAX_MEMBERS 256u

/* The members found by the walk, as offsets into the line: for member i,
 * f[K0 + i] is its key's opening quote, f[K1 + i] the closing one, and its
 * value's text is [f[R0 + i], f[R1 + i]). Four plain stores per member. */
enum { K0 = 0, K1 = FAST_MAX_MEMBERS, R0 = 2 * FAST_MAX_MEMBERS, R1 = 3 * FAST_MAX_MEMBERS };
typedef struct fast_members {
    uint16_t f[4 * FAST_MAX_MEMBERS];
} fast_members_t;

/* Records a member at m (&ms->f[i] for member i). */
static inline void put_member(uint16_t *m, size_t k0, size_t k1, size_t r0, size_t r1)
{
    m[K0] = (uint16_t)k0;
    m[K1] = (uint16_t)k1;
    m[R0] = (uint16_t)r0;
    m[R1] = (uint16_t)r1;
}

/* What the classification of a whole line found besides its quotes. */
typedef struct line_class {
    bool high; /* a byte >= 0x80 */
    bool ctl;  /* a byte < 0x20 */
    bool odd;  /* an odd number of quotes */
} line_class_t;

/* The SSE2 classifier's running state. */
typedef struct fast_class {
    __m128i bslash;  /* 0xff in some lane if the line holds a backslash */
    __m128i high;    /* sign bit set in some lane if it holds a byte >= 0x80 */
    __m128i low;     /* per lane, the smallest byte seen */
    uint64_t inside; /* all ones while the quotes so far are odd in number */
} fast_class_t;

/* Classifies the 64 bytes at b: returns their quote mask (bit i for b[i])
 * and folds backslashes, high bytes and the smallest byte into *c. */
static inline uint64_t classify64(const uint8_t *b, fast_class_t *c)
{
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    __m128i x0 = _mm_loadu_si128((const __m128i *)b);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(b + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(b + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(b + 48));
    uint64_t q0 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x0, quote));
    uint64_t q1 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x1, quote));
    uint64_t q2 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x2, quote));
    uint64_t q3 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x3, quote));
    __m128i b01 = _mm_or_si128(_mm_cmpeq_epi8(x0, bslash), _mm_cmpeq_epi8(x1, bslash));
    __m128i b23 = _mm_or_si128(_mm_cmpeq_epi8(x2, bslash), _mm_cmpeq_epi8(x3, bslash));
    c->bslash = _mm_or_si128(c->bslash, _mm_or_si128(b01, b23));
    c->high = _mm_or_si128(c->high, _mm_or_si128(_mm_or_si128(x0, x1), _mm_or_si128(x2, x3)));
    c->low = _mm_min_epu8(c->low, _mm_min_epu8(_mm_min_epu8(x0, x1), _mm_min_epu8(x2, x3)));
    return q0 | q1 << 16 | q2 << 32 | q3 << 48;
}

/* Bit i set when an odd number of bits 0..i of x are set. */
static inline uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

/* Given the quote mask q of 64 bytes and its prefix XOR px, returns the mask
 * of the closing quotes among them (the quotes of even rank in the line,
 * counting from 1), carrying the rank's parity in *carry (all ones while
 * the quotes so far are odd in number). */
static inline uint64_t close_quotes64(uint64_t q, uint64_t px, uint64_t *carry)
{
    uint64_t inside = px ^ *carry; /* opening quotes and string text */
    *carry = (uint64_t)0 - (inside >> 63);
    return q & ~inside;
}

/* The 64 bytes of the last partial block of s[0..n) (rest = n % 64 > 0
 * bytes of it in the line): the 64 bytes ending at n when the line is that
 * long (bytes classified twice change nothing, their quote bits are shifted
 * out by the caller), else a copy in pad[] padded with spaces, so nothing
 * past the line is ever read. */
static inline const uint8_t *last_block(const uint8_t *s, size_t n, size_t rest, uint8_t pad[64])
{
    if (n >= 64)
        return s + n - 64;
    memset(pad, ' ', 64);
    memcpy(pad, s, rest);
    return pad;
}

/* Fills cw[0..(n + 63) / 64) with the closing-quote masks of s[0..n) (2 <= n
 * <= FAST_MAX_LEN; bit i of cw[k] for s[64 * k + i]) and *lc with the rest
 * of the classification. Returns false, early, at the first block holding a
 * backslash (the fast path then gives up). SSE2, 16 bytes at a time. */
static bool find_close_quotes_sse2(const uint8_t *s, size_t n, uint64_t *cw, line_class_t *lc)
{
    fast_class_t c = {.bslash = _mm_setzero_si128(),
                      .high = _mm_setzero_si128(),
                      .low = _mm_set1_epi8((char)0xff),
                      .inside = 0};
    size_t full = n / 64, rest = n % 64;
    for (size_t k = 0; k < full; k++) {
        uint64_t q = classify64(s + 64 * k, &c);
        cw[k] = close_quotes64(q, prefix_xor(q), &c.inside);
        if (UNLIKELY(_mm_movemask_epi8(c.bslash)))
            return false;
    }
    if (rest) {
        uint8_t pad[64];
        uint64_t q = classify64(last_block(s, n, rest, pad), &c);
        if (full)
            q >>= 64 - rest;
        cw[full] = close_quotes64(q, prefix_xor(q), &c.inside);
    }
    if (_mm_movemask_epi8(c.bslash))
        return false;
    const __m128i ctl = _mm_set1_epi8(0x1f); /* lanes whose smallest byte is <= 0x1f */
    lc->high = _mm_movemask_epi8(c.high) != 0;
    lc->ctl = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(c.low, ctl), c.low)) != 0;
    lc->odd = c.inside != 0;
    return true;
}

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define AVX2 __attribute__((target("avx2,pclmul")))

/* The AVX2 classifier's running state. */
typedef struct avx2_class {
    __m256i bslash, high, low; /* as in fast_class_t, 32 lanes */
    uint64_t inside;
} avx2_class_t;

/* classify64() with two 32-byte vectors instead of four 16-byte ones. */
static inline AVX2 uint64_t classify64_avx2(const uint8_t *b, avx2_class_t *c)
{
    const __m256i quote = _mm256_set1_epi8('"'), bslash = _mm256_set1_epi8('\\');
    __m256i x0 = _mm256_loadu_si256((const __m256i *)b);
    __m256i x1 = _mm256_loadu_si256((const __m256i *)(b + 32));
    uint64_t q0 = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x0, quote));
    uint64_t q1 = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x1, quote));
    c->bslash = _mm256_or_si256(c->bslash, _mm256_or_si256(_mm256_cmpeq_epi8(x0, bslash),
                                                           _mm256_cmpeq_epi8(x1, bslash)));
    c->high = _mm256_or_si256(c->high, _mm256_or_si256(x0, x1));
    c->low = _mm256_min_epu8(c->low, _mm256_min_epu8(x0, x1));
    return q0 | q1 << 32;
}

/* prefix_xor() in one carry-less multiplication by all ones. */
static inline AVX2 uint64_t prefix_xor_clmul(uint64_t x)
{
    __m128i p = _mm_clmulepi64_si128(_mm_cvtsi64_si128((long long)x), _mm_set1_epi8(-1), 0);
    return (uint64_t)_mm_cvtsi128_si64(p);
}

/* find_close_quotes_sse2() with AVX2 and PCLMULQDQ: the same results for
 * every input, in under half the instructions per 64-byte block. */
static AVX2 bool find_close_quotes_avx2(const uint8_t *s, size_t n, uint64_t *cw, line_class_t *lc)
{
    avx2_class_t c = {.bslash = _mm256_setzero_si256(),
                      .high = _mm256_setzero_si256(),
                      .low = _mm256_set1_epi8((char)0xff),
                      .inside = 0};
    size_t full = n / 64, rest = n % 64;
    for (size_t k = 0; k < full; k++) {
        uint64_t q = classify64_avx2(s + 64 * k, &c);
        cw[k] = close_quotes64(q, prefix_xor_clmul(q), &c.inside);
        if (UNLIKELY(!_mm256_testz_si256(c.bslash, c.bslash)))
            return false;
    }
    if (rest) {
        uint8_t pad[64];
        uint64_t q = classify64_avx2(last_block(s, n, rest, pad), &c);
        if (full)
            q >>= 64 - rest;
        cw[full] = close_quotes64(q, prefix_xor_clmul(q), &c.inside);
    }
    if (!_mm256_testz_si256(c.bslash, c.bslash))
        return false;
    const __m256i ctl = _mm256_set1_epi8(0x1f);
    lc->high = _mm256_movemask_epi8(c.high) != 0;
    lc->ctl = _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(c.low, ctl), c.low)) != 0;
    lc->odd = c.inside != 0;
    return true;
}

static bool force_sse2; /* tests and benchmarks only */

void plume_json_scan_fast_force_sse2(bool on) { force_sse2 = on; }

/* The classifier this CPU can run: AVX2 with PCLMULQDQ where present (the
 * check is a load and a bit test of what libgcc found at start-up). */
static inline bool find_close_quotes(const uint8_t *s, size_t n, uint64_t *cw, line_class_t *lc)
{
    if (LIKELY(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("pclmul")) &&
        LIKELY(!force_sse2))
        return find_close_quotes_avx2(s, n, cw, lc);
    return find_close_quotes_sse2(s, n, cw, lc);
}
#else
void plume_json_scan_fast_force_sse2(bool on) { (void)on; }

static inline bool find_close_quotes(const uint8_t *s, size_t n, uint64_t *cw, line_class_t *lc)
{
    return find_close_quotes_sse2(s, n, cw, lc);
}
#endif

/* Hands out the closing quotes of a line in order, from its masks. Kept in
 * a local variable of the walk so that it lives in registers. */
typedef struct close_iter {
    uint64_t w;         /* the bits of the current word not handed out yet */
    size_t base;        /* the position of its bit 0 */
} close_iter_t;

/* The next closing quote. The caller knows there is one: the walk asks only
 * after an opening quote, and the line holds an even number of quotes. */
static inline size_t next_close(close_iter_t *it, const uint64_t *cw)
{
    while (UNLIKELY(!it->w)) {
        it->base += 64;
        it->w = cw[it->base / 64];
    }
    size_t at = it->base + (size_t)__builtin_ctzll(it->w);
    it->w &= it->w - 1;
    return at;
}

/* Drops the closing quotes before position p (those of the strings inside a
 * nested value that has just been checked). p is within the line. */
static void skip_closes_before(close_iter_t *it, const uint64_t *cw, size_t p)
{
    while (it->base + 64 <= p) {
        it->base += 64;
        it->w = cw[it->base / 64];
    }
    it->w &= ~(uint64_t)0 << (p - it->base);
}

/* For a line without backslashes that holds a control byte: true when none
 * lies between a quote of odd rank and the next one, i.e. inside a string if
 * the line's strings are its quote pairs (they are, in any line the walk
 * accepts). Control bytes outside strings are left to the walk, which takes
 * only whitespace there. */
static COLD bool controls_outside_strings(const uint8_t *s, size_t n)
{
    bool in = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            in = !in;
        else if (in && s[i] < 0x20)
            return false;
    }
    return true;
}

/* The first non-whitespace index at or after i; the caller knows there is
 * one (the object's closing brace), so no bound is needed. */
static inline size_t skip_ws_to(const uint8_t *s, size_t i)
{
    while (plume_json_is_ws(s[i]))
        i++;
    return i;
}

/* Bit 7 of each byte of w set when that byte is not a decimal digit; exact
 * for every byte, as no carry or borrow crosses from one byte to the next
 * ((w & 0x7f) + 0x46 stays below 0x100, (w | 0x80) - 0x30 above 0). */
static inline uint64_t nondigits(uint64_t w)
{
    const uint64_t low7 = PLUME_JSON_ONES * 0x7f;
    uint64_t above = (w & low7) + PLUME_JSON_ONES * (0x7f - '9'); /* > '9' */
    uint64_t from0 = (w | PLUME_JSON_HIGHS) - PLUME_JSON_ONES * '0'; /* clear: < '0' */
    return (above | ~from0 | w) & PLUME_JSON_HIGHS;
}

/* Number of decimal digits starting at p, where p[0..avail) may be read and
 * a non-digit is known to follow within them (8 bytes per step while 8
 * remain). */
static size_t count_digits(const uint8_t *p, size_t avail)
{
    size_t i = 0;
    while (avail - i >= 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        uint64_t m = nondigits(w);
        if (m)
            return i + (size_t)(__builtin_ctzll(m) >> 3);
        i += 8;
    }
    while (plume_json_is_digit(p[i]))
        i++;
    return i;
}

/* What one walk over a line needs besides its position. */
typedef struct walk {
    const uint8_t *s;
    size_t n, last;      /* s[last] is the object's '}', only whitespace after */
    const uint64_t *cw;  /* the closing-quote masks */
    const plume_json_opts_t *opts;
    bool nested;         /* *vp is set up (a nested value was met) */
    parser_t *vp;        /* the exact scanner's state for nested values */
} walk_t;

/* The end of the number at s[p] (a '-' or a digit), checked by the RFC 8259
 * grammar; 0 when it is not a number, or might be one the exact scanner
 * flags as extreme (longer than FAST_MAX_NUMBER, or an exponent of more than
 * two digits), so the caller gives up. The object's '}' ends any number
 * before the end of the input. A number that ends within 8 bytes of its
 * first digit, without exponent, is checked from one 8-byte word. */
static inline __attribute__((always_inline)) size_t fast_number(const walk_t *wk, size_t p)
{
    const uint8_t *s = wk->s;
    size_t q = p + (s[p] == '-');
    if (LIKELY(wk->n - q >= 8)) {
        uint64_t w;
        memcpy(&w, s + q, 8);
        uint64_t nd = nondigits(w);
        if (LIKELY(nd)) {
            size_t i = (size_t)__builtin_ctzll(nd) >> 3; /* integer digits */
            if (UNLIKELY(i == 0 || (s[q] == '0' && i > 1))) /* none, or a leading zero */
                return 0;
            if (s[q + i] == '.') {
                nd &= nd - 1;
                if (LIKELY(nd)) {
                    size_t f = (size_t)__builtin_ctzll(nd) >> 3; /* end of the fraction */
                    if (UNLIKELY(f == i + 1))                    /* no digit after '.' */
                        return 0;
                    if (LIKELY((s[q + f] | 0x20) != 'e'))
                        return q + f;
                }
            } else if (LIKELY((s[q + i] | 0x20) != 'e')) {
                return q + i;
            }
        }
    }
    size_t d = count_digits(s + q, wk->n - q);
    if (UNLIKELY(d == 0 || (s[q] == '0' && d > 1))) /* no digit, or a leading zero */
        return 0;
    q += d;
    if (s[q] == '.') {
        d = count_digits(s + q + 1, wk->n - q - 1);
        if (UNLIKELY(!d))
            return 0;
        q += d + 1;
    }
    if (UNLIKELY((s[q] | 0x20) == 'e')) {
        q++;
        q += s[q] == '+' || s[q] == '-';
        d = count_digits(s + q, wk->n - q);
        if (d == 0 || d > 2)
            return 0;
        q += d;
    }
    return LIKELY(q - p <= FAST_MAX_NUMBER) ? q : 0;
}

/* The end of the literal at s[p] ('t', 'f' or 'n'), or 0 if it is not one.
 * s[last] is a '}', so a literal that matches ends before it: its bytes are
 * read only when they all lie before last. */
static inline size_t fast_literal(const walk_t *wk, size_t p)
{
    const uint8_t *s = wk->s;
    size_t len = s[p] == 'f' ? 5 : 4;
    const char *word = s[p] == 't' ? "true" : s[p] == 'f' ? "false" : "null";
    if (wk->last - p <= len - 1 || memcmp(s + p, word, len) != 0)
        return 0;
    return p + len;
}

/* The end of a nested array or object at s[p], checked by the exact
 * scanner's value checker (depth 1 being the top-level object; errors not
 * recorded, facts added to wk->vp->flags); the closing quotes of the strings
 * inside it are dropped from *it. 0 to give up. */
static size_t nested_value(walk_t *wk, size_t p, close_iter_t *it)
{
    parser_t *vp = wk->vp;
    if (!wk->nested) {
        plume_json_parser_init(vp, (const char *)wk->s, wk->n, NULL, wk->opts, NULL);
        vp->depth = 1;
        wk->nested = true;
    }
    vp->p = wk->s + p;
    if (!plume_json_scan_value(vp))
        return 0;
    p = (size_t)(vp->p - wk->s);
    if (p > wk->last)
        return 0;
    skip_closes_before(it, wk->cw, p);
    return p;
}

/* After a value ending just before s[p]: whitespace, then ',' and the next
 * key's opening quote (1, *pp at that quote), or the '}' (0, *pp at it);
 * -1 for anything else. */
static int separator(const uint8_t *s, size_t p, size_t *pp)
{
    p = skip_ws_to(s, p);
    *pp = p;
    if (s[p] == '}')
        return 0;
    if (s[p] != ',')
        return -1;
    p = skip_ws_to(s, p + 1);
    *pp = p;
    return s[p] == '"' ? 1 : -1;
}

/* One member in any layout, its key's opening quote at s[*pp]; records it
 * as member c of ms. Returns 1 with *pp at the next key's opening quote, 0
 * when the object's closing brace has been reached (at *pp), -1 to give up.
 * k1 is the key's closing quote, already taken from *it. */
static int any_member(walk_t *wk, size_t *pp, size_t k1, close_iter_t *it, fast_members_t *ms,
                      size_t c)
{
    const uint8_t *s = wk->s;
    size_t k0 = *pp;
    size_t p = k1 + 1;
    if (UNLIKELY(s[p] != ':')) {
        p = skip_ws_to(s, p);
        if (s[p] != ':')
            return -1;
    }
    p = skip_ws_to(s, p + 1);
    size_t v = p;
    switch (s[p]) {
    case '"':
        p = next_close(it, wk->cw) + 1;
        break;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        p = fast_number(wk, p);
        break;
    case 't': case 'f': case 'n':
        p = fast_literal(wk, p);
        break;
    case '{': case '[':
        p = nested_value(wk, p, it);
        break;
    default:
        return -1;
    }
    if (!p)
        return -1;
    put_member(&ms->f[c], k0, k1, v, p);
    return separator(s, p, pp);
}

/* Walks the object s[first..last] (s[first] is '{', s[last] is '}' and only
 * whitespace surrounds them): the line has no backslash and an even number
 * of quotes, so its strings are its quote pairs and, as the walk never steps
 * over one (it checks every byte it passes), the closing quote of the next
 * string it meets is always the next one next_close() hands out, and one
 * exists. A member in the compact layout ("key":"value", or "key":123,), or
 * with one space after the ':' and the ',' (as Python's json module writes
 * it), is taken here with a few byte comparisons; any other by any_member().
 * Every position looked at stays within [first, last] (quotes all lie before
 * the '}' at last, and every run of digits or whitespace stops at it). Fills
 * ms and *count. False means "give up": the line may be invalid, or valid in
 * a way not handled here. */
static bool walk(walk_t *wk, size_t first, fast_members_t *ms, uint32_t *count)
{
    const uint8_t *s = wk->s;
    const uint64_t *cw = wk->cw;
    close_iter_t it = {.w = cw[0], .base = 0};
    uint16_t *m = ms->f, *const m_end = ms->f + FAST_MAX_MEMBERS;
    size_t p = first + 1;
    int r;
    if (UNLIKELY(s[p] != '"')) {
        p = skip_ws_to(s, p);
        if (s[p] == '}') {
            *count = 0;
            return p == wk->last;
        }
        if (s[p] != '"')
            return false;
    }
    for (;;) {
        /* s[p] is the opening quote of a key */
        if (UNLIKELY(m == m_end))
            return false;
        size_t k1 = next_close(&it, cw);
        if (LIKELY(s[k1 + 1] == ':')) {
            size_t v0 = k1 + 2, v1;
            if (UNLIKELY(s[v0] == ' ')) /* "key": value, as Python writes it */
                v0++;
            if (LIKELY(s[v0] == '"')) {
                v1 = next_close(&it, cw) + 1;
            } else if (plume_json_is_digit(s[v0]) || s[v0] == '-') {
                if (!(v1 = fast_number(wk, v0)))
                    return false;
            } else {
                goto other;
            }
            put_member(m++, p, k1, v0, v1);
            p = v1 + 1;
            if (LIKELY(s[v1] == ',')) {
                if (LIKELY(s[p] == '"'))
                    continue;
                if (s[p] == ' ' && s[p + 1] == '"') {
                    p++;
                    continue;
                }
            }
            r = separator(s, v1, &p);
        } else {
        other:;
            close_iter_t it2 = it; /* keeps `it` itself out of memory */
            r = any_member(wk, &p, k1, &it2, ms, (size_t)(m++ - ms->f));
            it = it2;
        }
        if (r > 0)
            continue;
        *count = (uint32_t)(m - ms->f);
        return r == 0 && p == wk->last;
    }
}

/* The fast path proper: plume_json_scan_fast()'s answer, or GIVE_UP having
 * called and written nothing. */
static inline __attribute__((always_inline)) int fast_scan(const char *str, size_t n,
                                                           const plume_json_opts_t *opts,
                                                           plume_json_span_fn fn, void *ctx,
                                                           plume_json_scan_info_t *info,
                                                           plume_json_error_t *err)
{
    if (n < 2 || n > FAST_MAX_LEN)
        return GIVE_UP;
    const uint8_t *s = (const uint8_t *)str;
    size_t first = 0, last = n - 1;
    if (UNLIKELY(plume_json_is_ws(s[0]) || plume_json_is_ws(s[last]))) {
        while (first < n && plume_json_is_ws(s[first]))
            first++;
        while (last > first && plume_json_is_ws(s[last]))
            last--;
    }
    if (first >= last || s[first] != '{' || s[last] != '}')
        return GIVE_UP;
    uint64_t cw[FAST_MAX_LEN / 64];
    line_class_t cls;
    if (!find_close_quotes(s, n, cw, &cls) || cls.odd)
        return GIVE_UP;
    bool check_utf8 = !(opts && opts->assume_utf8);
    if (UNLIKELY(cls.high) && check_utf8 && !plume_utf8_valid(str, n))
        return GIVE_UP;
    if (UNLIKELY(cls.ctl) && !controls_outside_strings(s, n))
        return GIVE_UP;

    parser_t vp; /* set up only if a nested value is met */
    walk_t wk = {.s = s, .n = n, .last = last, .cw = cw, .opts = opts, .nested = false, .vp = &vp};
    fast_members_t ms;
    uint32_t count;
    if (!walk(&wk, first, &ms, &count))
        return GIVE_UP;

    /* Valid: from here on, exactly what the exact scanner does (it clears
     * *err and *info first, reports the members, fills *info at the end). */
    if (err) {
        err->status = PLUME_JSON_OK;
        err->offset = 0;
        err->msg[0] = '\0';
    }
    if (info)
        memset(info, 0, sizeof(*info));
    if (fn) {
        /* One span for all the calls (fn sees it const): only its four
         * varying fields are stored per member, and the loop keeps what it
         * needs in registers. */
        plume_json_span_t m = {.key_escaped = false, .raw_escaped = false};
        for (const uint16_t *f = ms.f, *f_end = ms.f + count; f < f_end; f++) {
            size_t k0 = f[K0], k1 = f[K1], r0 = f[R0], r1 = f[R1];
            m.key = str + k0 + 1;
            m.key_len = k1 - k0 - 1;
            m.raw = str + r0;
            m.raw_len = r1 - r0;
            if (UNLIKELY(!fn(ctx, &m))) {
                if (err && err->status == PLUME_JSON_OK) {
                    parser_t ps = {.start = s, .p = s, .end = s + n, .err = err};
                    plume_json_fail_at(&ps, s + r1, PLUME_JSON_ESTOPPED,
                                       "stopped by the caller at offset %zu", r1);
                }
                return 0;
            }
        }
    }
    if (info) {
        info->obj_off = first;
        info->obj_len = last + 1 - first;
        info->members = count;
        info->flags = wk.nested ? vp.flags : 0;
    }
    return 1;
}

_Thread_local unsigned long plume_json_scan_fast_gave_up;

bool plume_json_scan_fast(const char *s, size_t n, const plume_json_opts_t *opts,
                          plume_json_span_fn fn, void *ctx, plume_json_scan_info_t *info,
                          plume_json_error_t *err)
{
    int r = fast_scan(s, n, opts, fn, ctx, info, err);
    if (LIKELY(r >= 0))
        return r;
    plume_json_scan_fast_gave_up++;
    return plume_json_scan_exact(s, n, opts, fn, ctx, info, err);
}

#else

/* Without SSE2 the exact scanner alone is used (json_scan.c never calls in). */
void plume_json_scan_fast_force_sse2(bool on) { (void)on; }

#endif
