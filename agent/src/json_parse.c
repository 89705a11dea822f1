/* SPDX-License-Identifier: MIT */
/* Strict RFC 8259 JSON to msgpack in one pass. See json_parse.h.
 *
 * Recursive descent over [p, end) with the depth bounded by max_depth (so the C
 * stack is bounded too). Output goes straight into the caller's buffer:
 * containers get a 5-byte header while open, shrunk to the shortest form when
 * they close; strings without escapes are found with an 8-bytes-at-a-time scan
 * and copied once; numbers take an exact integer path, then Clinger's fast
 * path (one correctly rounded IEEE operation), and only rarely strtod_l() in
 * the "C" locale. Errors are written on the cold path only.
 *
 * The scanning helpers and every error message are shared with the
 * validator (json_scan.c) through json_parse_int.h, and defined here. */
#include "json_parse.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_parse_int.h"
#include "mp.h"
#include "utf8.h"

/* ---- errors (cold; shared with json_scan.c through json_parse_int.h) ---- */

bool plume_json_fail_at(parser_t *ps, const uint8_t *at, plume_json_status_t st, const char *fmt,
                        ...)
{
    plume_json_error_t *e = ps->err;
    if (!e)
        return false;
    e->status = st;
    e->offset = (size_t)(at - ps->start);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return false;
}

bool plume_json_fail_unexpected(parser_t *ps, const uint8_t *at, const char *expected)
{
    size_t off = (size_t)(at - ps->start);
    const char *sep = expected ? " (expected " : "";
    const char *exp = expected ? expected : "";
    const char *close = expected ? ")" : "";
    if (at >= ps->end)
        return plume_json_fail_at(ps, at, PLUME_JSON_ESYNTAX,
                                  "unexpected end of input at offset %zu%s%s%s", off, sep, exp,
                                  close);
    uint8_t c = *at;
    if (c > 0x20 && c < 0x7f)
        return plume_json_fail_at(ps, at, PLUME_JSON_ESYNTAX,
                                  "unexpected character '%c' at offset %zu%s%s%s", c, off, sep, exp,
                                  close);
    return plume_json_fail_at(ps, at, PLUME_JSON_ESYNTAX,
                              "unexpected byte 0x%02x at offset %zu%s%s%s", c, off, sep, exp,
                              close);
}

bool plume_json_fail_number(parser_t *ps, const uint8_t *at, plume_json_number_error_t what)
{
    size_t off = (size_t)(at - ps->start);
    switch (what) {
    case PLUME_JSON_NUM_DIGIT:
        return plume_json_fail_at(ps, at, PLUME_JSON_ESYNTAX,
                                  "invalid number at offset %zu (expected a digit)", off);
    case PLUME_JSON_NUM_LEADING_ZERO:
        return plume_json_fail_at(ps, at, PLUME_JSON_ESYNTAX,
                                  "leading zero in number at offset %zu", off);
    case PLUME_JSON_NUM_FRACTION:
        return plume_json_fail_at(ps, at, PLUME_JSON_ESYNTAX,
                                  "invalid number at offset %zu (expected a digit after '.')", off);
    default:
        return plume_json_fail_at(ps, at, PLUME_JSON_ESYNTAX,
                                  "invalid number at offset %zu (expected a digit in the exponent)",
                                  off);
    }
}

bool plume_json_fail_literal(parser_t *ps, const char *word, size_t len)
{
    /* point at the first byte that differs */
    const uint8_t *q = ps->p;
    for (size_t i = 0; i < len && q < ps->end && *q == (uint8_t)word[i]; i++)
        q++;
    return plume_json_fail_unexpected(ps, q, NULL);
}

bool plume_json_fail_too_big(parser_t *ps, const uint8_t *at, const char *what)
{
    return plume_json_fail_at(ps, at, PLUME_JSON_ETOOBIG, "%s at offset %zu", what,
                              (size_t)(at - ps->start));
}

static COLD bool fail_output(parser_t *ps)
{
    return plume_json_fail_at(ps, ps->p, PLUME_JSON_EOUTPUT, "output buffer full at offset %zu",
                              (size_t)(ps->p - ps->start));
}

bool plume_json_fail_unterminated(parser_t *ps, const uint8_t *open)
{
    return plume_json_fail_at(ps, open, PLUME_JSON_ESYNTAX,
                              "unterminated string starting at offset %zu",
                              (size_t)(open - ps->start));
}

/* ---- output helpers ---- */

/* Makes room for k more bytes in the output, or records the overflow. */
static inline bool room(parser_t *ps, size_t k)
{
    plume_buf_t *b = ps->out;
    if (LIKELY(b->cap - b->len >= k && !b->failed))
        return true;
    if (!b->failed && plume_buf_reserve(b, k))
        return true;
    return fail_output(ps);
}

/* Writes the low nbytes of v big-endian at d. */
static inline void put_be(uint8_t *d, uint64_t v, int nbytes)
{
    for (int i = 0; i < nbytes; i++)
        d[i] = (uint8_t)(v >> (8 * (nbytes - 1 - i)));
}

/* Writes a str header for n bytes at dst (room already made); returns its size. */
static inline size_t put_str_header(uint8_t *dst, size_t n)
{
    if (n < 32) {
        dst[0] = (uint8_t)(0xa0 | n);
        return 1;
    }
    int w = n <= UINT8_MAX ? 1 : n <= UINT16_MAX ? 2 : 4;
    dst[0] = w == 1 ? 0xd9 : w == 2 ? 0xda : 0xdb;
    put_be(dst + 1, n, w);
    return (size_t)w + 1;
}

/* Tag + nbytes of v at the output end (room already made). */
static inline void put_tagged(plume_buf_t *b, uint8_t tag, uint64_t v, int nbytes)
{
    b->data[b->len] = tag;
    put_be(b->data + b->len + 1, v, nbytes);
    b->len += (size_t)nbytes + 1;
}

/* Integers and doubles in the same shortest encodings as plume_mp_uint/int/
 * double (the tests compare the bytes), written in place to keep the per-value
 * cost of the hot path down. Room for 9 bytes must have been made. */
static inline void put_uint(plume_buf_t *b, uint64_t v)
{
    if (v < 0x80)
        b->data[b->len++] = (uint8_t)v;
    else
        put_tagged(b, v <= UINT8_MAX ? 0xcc : v <= UINT16_MAX ? 0xcd : v <= UINT32_MAX ? 0xce : 0xcf,
                   v, v <= UINT8_MAX ? 1 : v <= UINT16_MAX ? 2 : v <= UINT32_MAX ? 4 : 8);
}

static inline void put_neg(plume_buf_t *b, int64_t v)
{
    if (v >= -32)
        b->data[b->len++] = (uint8_t)(int8_t)v;
    else
        put_tagged(b, v >= INT8_MIN ? 0xd0 : v >= INT16_MIN ? 0xd1 : v >= INT32_MIN ? 0xd2 : 0xd3,
                   (uint64_t)v, v >= INT8_MIN ? 1 : v >= INT16_MIN ? 2 : v >= INT32_MIN ? 4 : 8);
}

static inline void put_double(plume_buf_t *b, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    put_tagged(b, 0xcb, bits, 8);
}

/* Closes a container opened with a 5-byte header at `off`: writes the count
 * in the shortest form and slides the contents down over the unused bytes. */
static void close_container(plume_buf_t *b, size_t off, uint32_t count, bool is_map)
{
    uint8_t *h = b->data + off;
    int w = count < 16 ? 0 : count <= UINT16_MAX ? 2 : 4;
    if (w == 0)
        h[0] = (uint8_t)((is_map ? 0x80 : 0x90) | count);
    else
        h[0] = is_map ? (w == 2 ? 0xde : 0xdf) : (w == 2 ? 0xdc : 0xdd);
    put_be(h + 1, count, w);
    if (w < 4) {
        memmove(h + 1 + w, h + 5, b->len - off - 5);
        b->len -= (size_t)(4 - w);
    }
}

/* ---- scanning ---- */


static inline int hex_val(uint8_t c)
{
    if (plume_json_is_digit(c))
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Reads 4 hex digits at p (caller checked 4 bytes are there); -1 if not hex. */
static inline int32_t hex4(const uint8_t *p)
{
    int a = hex_val(p[0]), b = hex_val(p[1]), c = hex_val(p[2]), d = hex_val(p[3]);
    if ((a | b | c | d) < 0)
        return -1;
    return (a << 12) | (b << 8) | (c << 4) | d;
}

/* ---- strings ---- */

/* memcpy for the short runs that most strings are, without a library call:
 * two overlapping loads and stores cover any length from 4 to 16. */
static inline void copy_run(uint8_t *dst, const uint8_t *src, size_t n)
{
    if (n > 16) {
        memcpy(dst, src, n);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, src, 8);
        memcpy(&b, src + n - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, src, 4);
        memcpy(&b, src + n - 4, 4);
        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            dst[i] = src[i];
    }
}

/* Handles a byte that stopped a plain run and is neither '"' nor '\\': a
 * control character (error) or the start of a UTF-8 sequence (validated).
 * Returns the position after it, or NULL after recording an error. */
const uint8_t *plume_json_string_special(parser_t *ps, const uint8_t *q)
{
    if (*q < 0x20) {
        plume_json_fail_at(ps, q, PLUME_JSON_ESYNTAX,
                           "control character 0x%02x in string at offset %zu", *q,
                           (size_t)(q - ps->start));
        return NULL;
    }
    size_t bad;
    size_t len = plume_utf8_seq(q, (size_t)(ps->end - q), &bad);
    if (!len) {
        plume_json_fail_at(ps, q, PLUME_JSON_ESYNTAX, "invalid UTF-8 in string at offset %zu",
                           (size_t)(q - ps->start));
        return NULL;
    }
    return q + len;
}

/* Decodes one escape at q (q[0] == '\\') into dst (room for 6 bytes made).
 * Sets *adv to the input consumed and returns the bytes written, or -1 on a
 * bad escape. A \uD800-\uDBFF escape followed by a \uDC00-\uDFFF escape is
 * one code point; any other surrogate escape becomes U+FFFD. */
int plume_json_decode_escape(parser_t *ps, const uint8_t *q, uint8_t *dst, size_t *adv, bool *lone)
{
    const uint8_t *end = ps->end;
    if (end - q < 2)
        return -1;
    uint8_t c = q[1];
    *adv = 2;
    switch (c) {
    case '"': case '\\': case '/': dst[0] = c; return 1;
    case 'b': dst[0] = '\b'; return 1;
    case 'f': dst[0] = '\f'; return 1;
    case 'n': dst[0] = '\n'; return 1;
    case 'r': dst[0] = '\r'; return 1;
    case 't': dst[0] = '\t'; return 1;
    case 'u': break;
    default:
        plume_json_fail_at(ps, q, PLUME_JSON_ESYNTAX, "invalid escape '\\%c' at offset %zu",
                           c > 0x20 && c < 0x7f ? c : '?', (size_t)(q - ps->start));
        return -2;
    }
    int32_t cp = end - q >= 6 ? hex4(q + 2) : -1;
    if (cp < 0) {
        plume_json_fail_at(ps, q, PLUME_JSON_ESYNTAX, "invalid \\u escape at offset %zu",
                           (size_t)(q - ps->start));
        return -2;
    }
    *adv = 6;
    if (cp >= 0xd800 && cp <= 0xdfff) {
        int32_t lo = -1;
        if (cp <= 0xdbff && end - q >= 12 && q[6] == '\\' && q[7] == 'u')
            lo = hex4(q + 8);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
            *adv = 12;
            cp = 0x10000 + (((cp - 0xd800) << 10) | (lo - 0xdc00));
        } else {
            cp = 0xfffd; /* lone surrogate; what follows is decoded on its own */
            if (lone)
                *lone = true;
        }
    }
    return (int)plume_utf8_put(dst, (uint32_t)cp);
}


/* Parses the string whose opening quote is at ps->p and writes it as a msgpack
 * str. Plain strings are copied with one memcpy. A string with escapes is
 * decoded after a 5-byte header slot; the header is then shrunk if the final
 * length needs fewer bytes. */
static bool parse_string(parser_t *ps)
{
    const uint8_t *open = ps->p;
    const uint8_t *run = open + 1, *q = run, *end = ps->end;
    plume_buf_t *b = ps->out;

    for (;;) {
        q = plume_json_scan_plain(q, end, ps->check_utf8);
        if (q >= end)
            return plume_json_fail_unterminated(ps, open);
        if (*q == '"' || *q == '\\')
            break;
        if (!(q = plume_json_string_special(ps, q)))
            return false;
    }
    if (LIKELY(*q == '"')) {
        size_t n = (size_t)(q - run);
        if (UNLIKELY(n > UINT32_MAX))
            return plume_json_fail_too_big(ps, open, "string longer than 4 GiB");
        if (!room(ps, n + 5))
            return false;
        uint8_t *dst = b->data + b->len;
        size_t h = put_str_header(dst, n);
        copy_run(dst + h, run, n);
        ps->str_off = b->len + h;
        ps->str_len = n;
        b->len += h + n;
        ps->p = q + 1;
        return true;
    }

    /* Slow path: escapes. The decoded string is never longer than its raw
     * text, so find the closing quote first and make room for that much.
     * Decoded bytes go after a 5-byte header slot. */
    const uint8_t *close = plume_json_find_string_end(q, end);
    if (!close)
        return plume_json_fail_unterminated(ps, open);
    size_t hdr = b->len;
    if (!room(ps, (size_t)(close - run) + 5))
        return false;
    uint8_t *dst = b->data + hdr + 5;
    const uint8_t *r = run; /* [r, q) is plain text still to copy */
    while (q < close) {
        memcpy(dst, r, (size_t)(q - r));
        dst += q - r;
        if (*q == '\\') {
            size_t adv;
            int w = plume_json_decode_escape(ps, q, dst, &adv, NULL);
            if (w < 0)
                return w == -1 ? plume_json_fail_unterminated(ps, open) : false;
            dst += w;
            q += adv;
        } else {
            const uint8_t *next = plume_json_string_special(ps, q);
            if (!next)
                return false;
            memcpy(dst, q, (size_t)(next - q));
            dst += next - q;
            q = next;
        }
        r = q;
        q = plume_json_scan_plain(q, close, ps->check_utf8);
    }
    memcpy(dst, r, (size_t)(q - r));
    dst += q - r;
    size_t n = (size_t)(dst - (b->data + hdr + 5));
    if (UNLIKELY(n > UINT32_MAX))
        return plume_json_fail_too_big(ps, open, "string longer than 4 GiB");
    size_t h = put_str_header(b->data + hdr, n);
    if (h != 5)
        memmove(b->data + hdr + h, b->data + hdr + 5, n);
    b->len = hdr + h + n;
    ps->str_off = hdr + h;
    ps->str_len = n;
    ps->p = q + 1;
    return true;
}

/* ---- numbers ---- */

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void c_locale_init(void) { c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

/* strtod in the "C" locale on a NUL-terminated token. */
static double strtod_c(const char *z)
{
    pthread_once(&c_locale_once, c_locale_init);
    if (c_locale)
        return strtod_l(z, NULL, c_locale);
    return strtod(z, NULL); /* no locale object: the process locale is the best left */
}

/* Converts a token that does not fit the fast paths. tmp, when not NULL, is a
 * buffer whose spare capacity may hold the NUL-terminated copy (its length is
 * not changed). Returns NAN only when no copy could be made. */
static double slow_double(const char *tok, size_t n, plume_buf_t *tmp)
{
    char small[64];
    if (n < sizeof(small)) {
        memcpy(small, tok, n);
        small[n] = '\0';
        return strtod_c(small);
    }
    /* only if it fits under the buffer's maximum: a miss here must not mark
     * the output as failed */
    if (tmp && !tmp->failed && tmp->max - tmp->len > n && plume_buf_reserve(tmp, n + 1)) {
        char *z = (char *)tmp->data + tmp->len;
        memcpy(z, tok, n);
        z[n] = '\0';
        return strtod_c(z);
    }
    char *z = malloc(n + 1);
    if (!z)
        return NAN;
    memcpy(z, tok, n);
    z[n] = '\0';
    double d = strtod_c(z);
    free(z);
    return d;
}

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

typedef struct number {
    bool is_float; /* has a fraction or an exponent */
    bool neg;
    bool fast;     /* mant and e10 are exact: value = mant * 10^e10 */
    bool int_ovf;  /* integer part exceeds uint64 */
    uint64_t mant;
    int e10;
} number_t;

/* Scans a number token at p per the RFC 8259 grammar. Returns the position
 * after it, or NULL (error recorded) when the grammar is not met. */
static const uint8_t *scan_number(parser_t *ps, const uint8_t *p, number_t *nb)
{
    const uint8_t *end = ps->end;
    memset(nb, 0, sizeof(*nb));
    if (*p == '-') {
        nb->neg = true;
        p++;
    }
    if (p >= end || !plume_json_is_digit(*p)) {
        plume_json_fail_number(ps, p, PLUME_JSON_NUM_DIGIT);
        return NULL;
    }
    uint64_t m = 0;
    int sig = 0; /* significant digits in m */
    bool fast = true;
    if (*p == '0') {
        p++;
        if (p < end && plume_json_is_digit(*p)) {
            plume_json_fail_number(ps, p - 1, PLUME_JSON_NUM_LEADING_ZERO);
            return NULL;
        }
    } else {
        while (p < end && plume_json_is_digit(*p)) {
            unsigned d = *p++ - '0';
            if (!nb->int_ovf &&
                (__builtin_mul_overflow(m, 10, &m) || __builtin_add_overflow(m, d, &m)))
                nb->int_ovf = true;
            sig++;
        }
        if (sig > 19)
            fast = false;
    }
    int frac = 0;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !plume_json_is_digit(*p)) {
            plume_json_fail_number(ps, p, PLUME_JSON_NUM_FRACTION);
            return NULL;
        }
        nb->is_float = true;
        while (p < end && plume_json_is_digit(*p)) {
            unsigned d = *p++ - '0';
            if (!fast)
                continue;
            if (frac > 100000) {
                fast = false; /* absurdly many zeros: let strtod judge */
            } else if (m == 0 && d == 0) {
                frac++; /* leading zero of 0.00x: no precision used */
            } else if (sig < 19) {
                m = m * 10 + d;
                sig++;
                frac++;
            } else {
                fast = false;
            }
        }
    }
    long ex = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p >= end || !plume_json_is_digit(*p)) {
            plume_json_fail_number(ps, p, PLUME_JSON_NUM_EXPONENT);
            return NULL;
        }
        nb->is_float = true;
        while (p < end && plume_json_is_digit(*p)) {
            if (ex < 100000)
                ex = ex * 10 + (*p - '0');
            p++;
        }
        if (eneg)
            ex = -ex;
    }
    nb->mant = m;
    nb->e10 = (int)(ex - frac);
    nb->fast = fast && !nb->int_ovf;
    return p;
}

/* Value of a scanned float token: Clinger's fast path when exact, else strtod. */
static double number_value(const number_t *nb, const uint8_t *tok, size_t n, plume_buf_t *tmp)
{
    if (nb->fast) {
        if (nb->mant == 0)
            return nb->neg ? -0.0 : 0.0;
        if (nb->mant <= (1ull << 53) && nb->e10 >= -22 && nb->e10 <= 22) {
            double d = (double)nb->mant;
            d = nb->e10 < 0 ? d / pow10_exact[-nb->e10] : d * pow10_exact[nb->e10];
            return nb->neg ? -d : d;
        }
    }
    return slow_double((const char *)tok, n, tmp);
}

static bool parse_number(parser_t *ps)
{
    number_t nb;
    const uint8_t *tok = ps->p;
    const uint8_t *after = scan_number(ps, tok, &nb);
    if (!after)
        return false;
    ps->p = after;
    if (!room(ps, 9))
        return false;
    if (!nb.is_float && !nb.int_ovf) {
        if (!nb.neg || nb.mant == 0) {
            put_uint(ps->out, nb.mant);
            return true;
        }
        if (nb.mant <= (uint64_t)INT64_MAX + 1) {
            put_neg(ps->out, nb.mant == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)nb.mant);
            return true;
        }
    }
    double d = number_value(&nb, tok, (size_t)(after - tok), ps->out);
    put_double(ps->out, d);
    return true;
}

/* ---- values ---- */

static bool parse_value(parser_t *ps);

static bool parse_literal(parser_t *ps, const char *word, size_t len, uint8_t byte)
{
    if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0)
        return plume_json_fail_literal(ps, word, len);
    if (!room(ps, 1))
        return false;
    ps->out->data[ps->out->len++] = byte;
    ps->p += len;
    return true;
}


/* Opens a container: a 5-byte header to be fixed by close_container(). */
static bool open_container(parser_t *ps, size_t *off)
{
    if (!room(ps, 5))
        return false;
    *off = ps->out->len;
    ps->out->len += 5;
    ps->p++;
    return true;
}

/* Parses `"key" ws : ws` at ps->p, writing the key. */
static bool parse_key(parser_t *ps)
{
    if (ps->p >= ps->end || *ps->p != '"')
        return plume_json_fail_unexpected(ps, ps->p, "a string key");
    if (!parse_string(ps))
        return false;
    plume_json_skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != ':')
        return plume_json_fail_unexpected(ps, ps->p, "':'");
    ps->p++;
    plume_json_skip_ws(ps);
    return true;
}


/* An array or object: elements (or key/value members) up to the closing
 * bracket, counted, then the header is fixed. */
static bool parse_container(parser_t *ps, bool is_map)
{
    size_t off;
    uint32_t count = 0;
    uint8_t close = is_map ? '}' : ']';
    if (!plume_json_enter(ps) || !open_container(ps, &off))
        return false;
    plume_json_skip_ws(ps);
    int more = 1;
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        more = 0;
    }
    while (more > 0) {
        if (UNLIKELY(count == UINT32_MAX))
            return plume_json_fail_too_big(ps, ps->p, "container too large");
        if ((is_map && !parse_key(ps)) || !parse_value(ps))
            return false;
        count++;
        more = plume_json_after_item(ps, close);
    }
    if (more < 0)
        return false;
    close_container(ps->out, off, count, is_map);
    ps->depth--;
    return true;
}

/* Parses one value starting exactly at ps->p (no leading whitespace). */
static bool parse_value(parser_t *ps)
{
    if (UNLIKELY(ps->p >= ps->end))
        return plume_json_fail_unexpected(ps, ps->p, "a value");
    switch (*ps->p) {
    case '"': return parse_string(ps);
    case '{': return parse_container(ps, true);
    case '[': return parse_container(ps, false);
    case 't': return parse_literal(ps, "true", 4, 0xc3);
    case 'f': return parse_literal(ps, "false", 5, 0xc2);
    case 'n': return parse_literal(ps, "null", 4, 0xc0);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return parse_number(ps);
    default:
        return plume_json_fail_unexpected(ps, ps->p, "a value");
    }
}

/* ---- entry points ---- */

void plume_json_parser_init(parser_t *ps, const char *s, size_t n, plume_buf_t *out,
                 const plume_json_opts_t *opts, plume_json_error_t *err)
{
    ps->start = ps->p = (const uint8_t *)s;
    ps->end = ps->start + n;
    ps->out = out;
    ps->depth = 0;
    ps->max_depth = opts && opts->max_depth ? opts->max_depth : PLUME_JSON_DEFAULT_MAX_DEPTH;
    if (ps->max_depth > PLUME_JSON_MAX_DEPTH_LIMIT)
        ps->max_depth = PLUME_JSON_MAX_DEPTH_LIMIT;
    ps->check_utf8 = !(opts && opts->assume_utf8);
    ps->flags = 0;
    ps->str_off = ps->str_len = 0;
    ps->err = err;
    if (err) {
        err->status = PLUME_JSON_OK;
        err->offset = 0;
        err->msg[0] = '\0';
    }
}

/* After the value: only whitespace may follow. */
static bool finish(parser_t *ps)
{
    plume_json_skip_ws(ps);
    if (ps->p != ps->end)
        return plume_json_fail_unexpected(ps, ps->p, "end of input after the value");
    if (ps->out->failed)
        return fail_output(ps);
    return true;
}

bool plume_json_to_mp_opts(const char *s, size_t n, plume_buf_t *out,
                           const plume_json_opts_t *opts, plume_json_error_t *err)
{
    parser_t ps;
    size_t len0 = out->len;
    plume_json_parser_init(&ps, s, n, out, opts, err);
    if (out->failed) {
        fail_output(&ps);
        return false;
    }
    plume_json_skip_ws(&ps);
    if (parse_value(&ps) && finish(&ps))
        return true;
    out->len = len0;
    return false;
}

bool plume_json_to_mp(const char *s, size_t n, plume_buf_t *out, plume_json_error_t *err)
{
    return plume_json_to_mp_opts(s, n, out, NULL, err);
}

bool plume_json_object_walk(const char *s, size_t n, plume_buf_t *out,
                            const plume_json_opts_t *opts, plume_json_member_fn fn,
                            void *ctx, uint32_t *kept, plume_json_error_t *err)
{
    parser_t ps;
    size_t len0 = out->len;
    uint32_t count = 0;
    plume_json_parser_init(&ps, s, n, out, opts, err);
    *kept = 0;
    if (out->failed) {
        fail_output(&ps);
        return false;
    }
    plume_json_skip_ws(&ps);
    if (ps.p >= ps.end || *ps.p != '{') {
        plume_json_fail_unexpected(&ps, ps.p, "'{'");
        goto fail;
    }
    if (!plume_json_enter(&ps))
        goto fail;
    ps.p++;
    plume_json_skip_ws(&ps);
    if (ps.p < ps.end && *ps.p == '}') {
        ps.p++;
    } else {
        for (;;) {
            plume_json_member_t m;
            if (UNLIKELY(count == UINT32_MAX)) {
                plume_json_fail_too_big(&ps, ps.p, "object too large");
                goto fail;
            }
            m.key_off = out->len;
            if (!parse_key(&ps))
                goto fail;
            size_t key_str = ps.str_off; /* out may move while the value is written */
            m.key_len = ps.str_len;
            m.value_off = out->len;
            m.raw = (const char *)ps.p;
            if (!parse_value(&ps))
                goto fail;
            m.raw_len = (size_t)((const char *)ps.p - m.raw);
            m.key = (const char *)out->data + key_str;
            if (out->failed) {
                fail_output(&ps);
                goto fail;
            }
            if (!fn || fn(ctx, out, &m))
                count++;
            else
                out->len = m.key_off;
            int more = plume_json_after_item(&ps, '}');
            if (more < 0)
                goto fail;
            if (more == 0)
                break;
        }
    }
    if (!finish(&ps))
        goto fail;
    *kept = count;
    return true;
fail:
    out->len = len0;
    return false;
}
