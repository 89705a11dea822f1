/* SPDX-License-Identifier: MIT */
/* logfmt record iterator (go-logfmt semantics). See logfmt.h.
 *
 * The scanner follows go-logfmt's Decoder.ScanKeyval state by state (garbage,
 * key, equal, value, quoted value), so keys, values and the error positions
 * match it byte for byte. Quoted values are unescaped with the rules of Go's
 * encoding/json unquote, which go-logfmt copies: a value with escapes may not
 * hold raw control characters, a surrogate pair escape is one code point and
 * any other surrogate escape becomes U+FFFD. */
#include "logfmt.h"

#include <stdint.h>
#include <string.h>

#include "utf8.h"

void plume_logfmt_iter_init(plume_logfmt_iter_t *it, const char *s, size_t n,
                            plume_buf_t *scratch)
{
    it->s = s;
    it->n = n;
    it->pos = 0;
    it->scratch = scratch;
    it->err = NULL;
    it->err_offset = 0;
}

static bool fail(plume_logfmt_iter_t *it, size_t at, const char *msg)
{
    it->err = msg;
    it->err_offset = at;
    it->pos = it->n;
    return false;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Reads a \uXXXX escape at s[i..n); -1 if there is none. */
static int32_t get_u4(const uint8_t *s, size_t i, size_t n)
{
    if (n - i < 6 || s[i] != '\\' || s[i + 1] != 'u')
        return -1;
    int32_t v = 0;
    for (size_t k = 2; k < 6; k++) {
        int h = hexval(s[i + k]);
        if (h < 0)
            return -1;
        v = (v << 4) | h;
    }
    return v;
}

/* Unescapes s[0..n) (quoted text without its quotes) into dst, or only
 * measures it when dst is NULL. Returns false for text Go's unquote rejects. */
static bool unquote(const uint8_t *s, size_t n, uint8_t *dst, size_t *out_len)
{
    size_t r = 0, w = 0;
    while (r < n) {
        uint8_t c = s[r];
        if (c == '"' || c < 0x20)
            return false;
        if (c != '\\') {
            if (dst)
                dst[w] = c;
            w++;
            r++;
            continue;
        }
        if (r + 1 >= n)
            return false;
        uint8_t e = s[r + 1], out;
        switch (e) {
        case '"': case '\\': case '/': case '\'': out = e; break;
        case 'b': out = '\b'; break;
        case 'f': out = '\f'; break;
        case 'n': out = '\n'; break;
        case 'r': out = '\r'; break;
        case 't': out = '\t'; break;
        case 'u': {
            int32_t cp = get_u4(s, r, n);
            if (cp < 0)
                return false;
            r += 6;
            if (cp >= 0xd800 && cp <= 0xdfff) {
                int32_t lo = cp <= 0xdbff ? get_u4(s, r, n) : -1;
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + (((cp - 0xd800) << 10) | (lo - 0xdc00));
                    r += 6;
                } else {
                    cp = 0xfffd;
                }
            }
            uint8_t tmp[4];
            w += plume_utf8_put(dst ? dst + w : tmp, (uint32_t)cp);
            continue;
        }
        default:
            return false;
        }
        if (dst)
            dst[w] = out;
        w++;
        r += 2;
    }
    *out_len = w;
    return true;
}

size_t plume_logfmt_unescape(const char *raw, size_t n, char *dst)
{
    size_t len = 0;
    if (!unquote((const uint8_t *)raw, n, (uint8_t *)dst, &len))
        return 0;
    return len;
}

/* go-logfmt refuses a key holding U+FFFD, literal or from invalid UTF-8. */
static bool key_ok(const char *k, size_t n)
{
    if (!plume_utf8_valid(k, n))
        return false;
    return !memmem(k, n, "\xef\xbf\xbd", 3);
}

/* Quoted value: it->pos is at the opening quote. */
static bool scan_quoted(plume_logfmt_iter_t *it, plume_logfmt_pair_t *pair)
{
    const uint8_t *s = (const uint8_t *)it->s;
    size_t n = it->n, open = it->pos, i = open + 1;
    bool has_esc = false;
    for (;;) {
        if (i >= n)
            return fail(it, n, "unterminated quoted value");
        uint8_t c = s[i];
        if (c == '\\') {
            has_esc = true;
            i += 2; /* the escaped byte cannot close the value */
            continue;
        }
        if (c == '"')
            break;
        i++;
    }
    /* i is the closing quote */
    it->pos = i + 1;
    pair->quoted = true;
    pair->value = it->s + open + 1;
    pair->value_len = i - open - 1;
    pair->decoded_len = pair->value_len;
    if (has_esc) {
        if (!unquote((const uint8_t *)pair->value, pair->value_len, NULL, &pair->decoded_len))
            return fail(it, it->pos, "invalid quoted value");
        pair->escaped = true;
        pair->has_value = true;
        plume_buf_t *sb = it->scratch;
        if (sb) {
            plume_buf_reset(sb);
            if (plume_buf_reserve(sb, pair->decoded_len + 1)) {
                unquote((const uint8_t *)pair->value, pair->value_len, sb->data, &sb->len);
                pair->value = (const char *)sb->data;
                pair->value_len = sb->len;
                pair->escaped = false;
            }
        }
    } else {
        pair->has_value = pair->value_len > 0;
    }
    return true;
}

bool plume_logfmt_next(plume_logfmt_iter_t *it, plume_logfmt_pair_t *pair)
{
    const uint8_t *s = (const uint8_t *)it->s;
    size_t n = it->n, i = it->pos;

    memset(pair, 0, sizeof(*pair));
    if (it->err)
        return false;
    while (i < n && s[i] <= ' ')
        i++;
    if (i >= n) {
        it->pos = n;
        return false;
    }

    /* key */
    size_t start = i;
    bool multibyte = false;
    while (i < n) {
        uint8_t c = s[i];
        if (c == '=' || c <= ' ')
            break;
        if (c == '"')
            return fail(it, i, "unexpected '\"'");
        if (c >= 0x80)
            multibyte = true;
        i++;
    }
    if (i == start) /* only '=' can end an empty key */
        return fail(it, i, "unexpected '='");
    pair->key = it->s + start;
    pair->key_len = i - start;
    if (multibyte && !key_ok(pair->key, pair->key_len))
        return fail(it, i, "invalid key");
    if (i >= n || s[i] != '=') {
        it->pos = i; /* bare key */
        return true;
    }

    /* '=' */
    pair->has_equals = true;
    i++;
    if (i >= n || s[i] <= ' ') {
        it->pos = i;
        return true;
    }
    if (s[i] == '"') {
        it->pos = i;
        return scan_quoted(it, pair);
    }

    /* unquoted value */
    start = i;
    while (i < n && s[i] > ' ') {
        if (s[i] == '=')
            return fail(it, i, "unexpected '='");
        if (s[i] == '"')
            return fail(it, i, "unexpected '\"'");
        i++;
    }
    pair->value = it->s + start;
    pair->value_len = pair->decoded_len = i - start;
    pair->has_value = true;
    it->pos = i;
    return true;
}
