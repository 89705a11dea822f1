/* SPDX-License-Identifier: MIT */
/* JSON validation without conversion. See json_parse.h.
 *
 * The same recursive descent as the converter in json_parse.c, step for step,
 * so that both accept the same documents and fail with the same message at
 * the same offset (the error wording and every rule that decides validity
 * are shared through json_parse_int.h; the tests and the fuzzer compare the
 * two on every input). Nothing is written: strings are skipped with the
 * 16-bytes-at-a-time plain-run scanner, escapes are checked (and measured,
 * for the 4 GiB string limit) without being stored, numbers are checked by
 * their grammar only. On the way it notes the few things a caller copying
 * the text verbatim may need to know (PLUME_JSON_SCAN_*).
 *
 * plume_json_object_scan() first tries the fast path of json_scan_fast.c,
 * which answers the usual log line (a flat object without escapes) about
 * twice as fast and gives up, having called nothing, on anything else; the
 * exact scanner below then runs, so it alone decides errors and flags. */
#include <stdlib.h>
#include <string.h>

#include "json_parse.h"
#include "json_parse_int.h"

/* Magnitudes past 10^+-300 are reported as PLUME_JSON_SCAN_EXTREME_NUMBER. */
#define EXTREME_EXP 300

/* The rest of v_string() once a plain run stopped at q on something other
 * than the closing quote. Mirrors parse_string(): special bytes before the
 * first backslash are checked in order; after a backslash the closing quote
 * is found first (an unterminated string is reported before any bad escape
 * in it), then the escapes and special bytes are checked in order. */
static bool v_string_rest(parser_t *ps, bool *escaped, const uint8_t *q)
{
    const uint8_t *open = ps->p, *run = open + 1, *end = ps->end;
    for (;;) {
        if (q >= end)
            return plume_json_fail_unterminated(ps, open);
        if (*q == '"' || *q == '\\')
            break;
        if (!(q = plume_json_string_special(ps, q)))
            return false;
        q = plume_json_scan_plain(q, end, ps->check_utf8);
    }
    if (*q == '"') {
        if (UNLIKELY((size_t)(q - run) > UINT32_MAX))
            return plume_json_fail_too_big(ps, open, "string longer than 4 GiB");
        *escaped = false;
        ps->p = q + 1;
        return true;
    }
    const uint8_t *close = plume_json_find_string_end(q, end);
    if (!close)
        return plume_json_fail_unterminated(ps, open);
    size_t n = (size_t)(q - run); /* decoded length so far */
    while (q < close) {
        if (*q == '\\') {
            uint8_t tmp[8];
            size_t adv;
            bool lone = false;
            int w = plume_json_decode_escape(ps, q, tmp, &adv, &lone);
            if (w < 0)
                return w == -1 ? plume_json_fail_unterminated(ps, open) : false;
            if (lone)
                ps->flags |= PLUME_JSON_SCAN_LONE_SURROGATE;
            n += (size_t)w;
            q += adv;
        } else {
            const uint8_t *next = plume_json_string_special(ps, q);
            if (!next)
                return false;
            n += (size_t)(next - q);
            q = next;
        }
        const uint8_t *r = q;
        q = plume_json_scan_plain(q, close, ps->check_utf8);
        n += (size_t)(q - r);
    }
    if (UNLIKELY(n > UINT32_MAX))
        return plume_json_fail_too_big(ps, open, "string longer than 4 GiB");
    *escaped = true;
    ps->p = q + 1;
    return true;
}

/* Skips the string whose opening quote is at ps->p; *escaped tells whether
 * its text held any escape. The common case, one plain run up to the closing
 * quote, is inlined into the callers; everything else is v_string_rest(). */
static inline __attribute__((always_inline)) bool v_string(parser_t *ps, bool *escaped)
{
    const uint8_t *q = plume_json_scan_plain(ps->p + 1, ps->end, ps->check_utf8);
    if (LIKELY(q < ps->end && *q == '"' && (size_t)(q - ps->p) <= UINT32_MAX)) {
        *escaped = false;
        ps->p = q + 1;
        return true;
    }
    return v_string_rest(ps, escaped, q);
}

/* Skips the number at ps->p, checking the RFC 8259 grammar exactly as
 * scan_number() does, and estimates its decimal magnitude (the exponent of
 * its first significant digit) to flag values a converter would turn into
 * infinity or zero. */
static bool v_number(parser_t *ps)
{
    const uint8_t *p = ps->p, *end = ps->end;
    if (*p == '-')
        p++;
    if (p >= end || !plume_json_is_digit(*p))
        return plume_json_fail_number(ps, p, PLUME_JSON_NUM_DIGIT);
    long lead = 0;     /* exponent of the first significant digit, before 'e' */
    bool zero = true;  /* no significant digit seen */
    if (*p == '0') {
        p++;
        if (p < end && plume_json_is_digit(*p))
            return plume_json_fail_number(ps, p - 1, PLUME_JSON_NUM_LEADING_ZERO);
    } else {
        const uint8_t *d0 = p;
        while (p < end && plume_json_is_digit(*p))
            p++;
        size_t nd = (size_t)(p - d0);
        lead = nd > 100000 ? 100000 : (long)nd - 1;
        zero = false;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !plume_json_is_digit(*p))
            return plume_json_fail_number(ps, p, PLUME_JSON_NUM_FRACTION);
        const uint8_t *f0 = p;
        if (zero) {
            while (p < end && *p == '0')
                p++;
            if (p < end && plume_json_is_digit(*p)) {
                size_t nz = (size_t)(p - f0);
                lead = nz >= 100000 ? -100001 : -(long)nz - 1;
                zero = false;
            }
        }
        while (p < end && plume_json_is_digit(*p))
            p++;
    }
    long ex = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p >= end || !plume_json_is_digit(*p))
            return plume_json_fail_number(ps, p, PLUME_JSON_NUM_EXPONENT);
        while (p < end && plume_json_is_digit(*p)) {
            if (ex < 100000)
                ex = ex * 10 + (*p - '0');
            p++;
        }
        if (eneg)
            ex = -ex;
    }
    long mag = zero ? ex : lead + ex;
    if (mag > EXTREME_EXP || mag < -EXTREME_EXP)
        ps->flags |= PLUME_JSON_SCAN_EXTREME_NUMBER;
    ps->p = p;
    return true;
}

static bool v_literal(parser_t *ps, const char *word, size_t len)
{
    if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0)
        return plume_json_fail_literal(ps, word, len);
    ps->p += len;
    return true;
}

static bool v_value(parser_t *ps);

/* Skips `"key" ws : ws` at ps->p; *key_end is set to the closing quote. */
static bool v_key(parser_t *ps, bool *escaped, const uint8_t **key_end)
{
    if (ps->p >= ps->end || *ps->p != '"')
        return plume_json_fail_unexpected(ps, ps->p, "a string key");
    if (!v_string(ps, escaped))
        return false;
    *key_end = ps->p - 1;
    plume_json_skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != ':')
        return plume_json_fail_unexpected(ps, ps->p, "':'");
    ps->p++;
    plume_json_skip_ws(ps);
    return true;
}

/* An array or object up to its closing bracket. Mirrors parse_container(),
 * including the element count limit. */
static bool v_container(parser_t *ps, bool is_map)
{
    uint32_t count = 0;
    uint8_t close = is_map ? '}' : ']';
    if (!plume_json_enter(ps))
        return false;
    ps->p++;
    plume_json_skip_ws(ps);
    int more = 1;
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        more = 0;
    }
    while (more > 0) {
        bool esc;
        const uint8_t *kend;
        if (UNLIKELY(count == UINT32_MAX))
            return plume_json_fail_too_big(ps, ps->p, "container too large");
        if ((is_map && !v_key(ps, &esc, &kend)) || !v_value(ps))
            return false;
        count++;
        more = plume_json_after_item(ps, close);
    }
    if (more < 0)
        return false;
    ps->depth--;
    return true;
}

/* Skips one value starting exactly at ps->p (no leading whitespace). */
static bool v_value(parser_t *ps)
{
    bool esc;
    if (UNLIKELY(ps->p >= ps->end))
        return plume_json_fail_unexpected(ps, ps->p, "a value");
    switch (*ps->p) {
    case '"': return v_string(ps, &esc);
    case '{': return v_container(ps, true);
    case '[': return v_container(ps, false);
    case 't': return v_literal(ps, "true", 4);
    case 'f': return v_literal(ps, "false", 5);
    case 'n': return v_literal(ps, "null", 4);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return v_number(ps);
    default:
        return plume_json_fail_unexpected(ps, ps->p, "a value");
    }
}

/* After the value: only whitespace may follow. */
static bool finish(parser_t *ps)
{
    plume_json_skip_ws(ps);
    if (ps->p != ps->end)
        return plume_json_fail_unexpected(ps, ps->p, "end of input after the value");
    return true;
}

bool plume_json_validate(const char *s, size_t n, const plume_json_opts_t *opts, unsigned *flags,
                         plume_json_error_t *err)
{
    parser_t ps;
    plume_json_parser_init(&ps, s, n, NULL, opts, err);
    plume_json_skip_ws(&ps);
    bool ok = v_value(&ps) && finish(&ps);
    if (flags)
        *flags = ps.flags;
    return ok;
}

/* Calls fn for one member, decoding the key first when it has escapes
 * (into a stack buffer, or a heap one for long keys). Returns fn's answer;
 * false with an error recorded if no memory was left for the key. */
static bool report(parser_t *ps, plume_json_span_fn fn, void *ctx, plume_json_span_t *m,
                   const uint8_t *kopen)
{
    if (!m->key_escaped)
        return fn(ctx, m);
    char small[256];
    char *buf = m->key_len <= sizeof(small) ? small : malloc(m->key_len);
    if (!buf)
        return plume_json_fail_at(ps, kopen, PLUME_JSON_EOUTPUT,
                                  "out of memory decoding the key at offset %zu",
                                  (size_t)(kopen - ps->start));
    m->key_len = plume_json_unescape(m->key, m->key_len, buf);
    m->key = buf;
    bool go = fn(ctx, m);
    if (buf != small)
        free(buf);
    return go;
}

bool plume_json_scan_value(parser_t *ps) { return v_value(ps); }

static bool force_exact; /* tests and benchmarks only */

void plume_json_scan_force_exact(bool on) { force_exact = on; }

/* The exact object scanner: plume_json_object_walk() step for step. */
bool plume_json_scan_exact(const char *s, size_t n, const plume_json_opts_t *opts,
                           plume_json_span_fn fn, void *ctx, plume_json_scan_info_t *info,
                           plume_json_error_t *err)
{
    parser_t ps;
    uint32_t count = 0;
    plume_json_parser_init(&ps, s, n, NULL, opts, err);
    if (info)
        memset(info, 0, sizeof(*info));
    plume_json_skip_ws(&ps);
    if (ps.p >= ps.end || *ps.p != '{')
        return plume_json_fail_unexpected(&ps, ps.p, "'{'");
    const uint8_t *obj = ps.p;
    if (!plume_json_enter(&ps))
        return false;
    ps.p++;
    plume_json_skip_ws(&ps);
    if (ps.p < ps.end && *ps.p == '}') {
        ps.p++;
    } else {
        for (;;) {
            plume_json_span_t m;
            const uint8_t *kopen = ps.p, *kend;
            if (UNLIKELY(count == UINT32_MAX))
                return plume_json_fail_too_big(&ps, ps.p, "object too large");
            if (!v_key(&ps, &m.key_escaped, &kend))
                return false;
            m.raw = (const char *)ps.p;
            m.raw_escaped = false;
            if (ps.p < ps.end && *ps.p == '"') {
                if (!v_string(&ps, &m.raw_escaped))
                    return false;
            } else if (!v_value(&ps)) {
                return false;
            }
            m.raw_len = (size_t)((const char *)ps.p - m.raw);
            count++;
            if (fn) {
                m.key = (const char *)kopen + 1;
                m.key_len = (size_t)(kend - kopen - 1);
                if (!report(&ps, fn, ctx, &m, kopen)) {
                    if (err && err->status == PLUME_JSON_OK)
                        plume_json_fail_at(&ps, ps.p, PLUME_JSON_ESTOPPED,
                                           "stopped by the caller at offset %zu",
                                           (size_t)(ps.p - ps.start));
                    return false;
                }
            }
            int more = plume_json_after_item(&ps, '}');
            if (more < 0)
                return false;
            if (more == 0)
                break;
        }
    }
    const uint8_t *obj_end = ps.p;
    if (!finish(&ps))
        return false;
    if (info) {
        info->obj_off = (size_t)(obj - ps.start);
        info->obj_len = (size_t)(obj_end - obj);
        info->members = count;
        info->flags = ps.flags;
    }
    return true;
}

/* The fast path (json_scan_fast.c) answers for the usual line; whenever it
 * gives up, having called and written nothing, it hands the line to the
 * exact scanner. */
bool plume_json_object_scan(const char *s, size_t n, const plume_json_opts_t *opts,
                            plume_json_span_fn fn, void *ctx, plume_json_scan_info_t *info,
                            plume_json_error_t *err)
{
#ifdef __SSE2__
    if (LIKELY(!force_exact))
        return plume_json_scan_fast(s, n, opts, fn, ctx, info, err);
#endif
    return plume_json_scan_exact(s, n, opts, fn, ctx, info, err);
}

size_t plume_json_unescape(const char *s, size_t n, char *dst)
{
    parser_t ps;
    plume_json_parser_init(&ps, s, n, NULL, NULL, NULL);
    const uint8_t *p = ps.start, *end = ps.end;
    uint8_t *d = (uint8_t *)dst;
    while (p < end) {
        const uint8_t *q = memchr(p, '\\', (size_t)(end - p));
        if (!q)
            q = end;
        memcpy(d, p, (size_t)(q - p));
        d += q - p;
        if (q == end)
            break;
        uint8_t tmp[8];
        size_t adv;
        int w = plume_json_decode_escape(&ps, q, tmp, &adv, NULL);
        if (w < 0) { /* not an escape: keep the backslash, go on after it */
            *d++ = '\\';
            p = q + 1;
            continue;
        }
        memcpy(d, tmp, (size_t)w);
        d += w;
        p = q + adv;
    }
    return (size_t)(d - (uint8_t *)dst);
}
