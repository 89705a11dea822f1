/* SPDX-License-Identifier: MIT */
/* TOML lexer: error reporting with line:col, UTF-8 validation,
 * whitespace/comments/newlines, dotted keys, and the four kinds of strings
 * (escapes decoded into the parser's scratch buffer), each checked strictly
 * against TOML 1.0.0. Numbers, booleans and date-times are in toml_scalar.c,
 * the grammar and table semantics in toml.c. Every function here works on a
 * bounded cursor and never reads past `ps->end`. */
#include "toml_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- errors ---- */

plume_toml_pos_t plume_toml_lex_pos(const plume_toml_parser_t *ps, const char *at)
{
    plume_toml_pos_t pos = {ps->line, (int)(at - ps->line_start) + 1};
    return pos;
}

bool plume_toml_lex_fail(plume_toml_parser_t *ps, plume_toml_pos_t pos, const char *fmt, ...)
{
    if (ps->failed)
        return false;
    ps->failed = true;
    ps->err->pos = pos;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err->message, sizeof(ps->err->message), fmt, ap);
    va_end(ap);
    return false;
}

/* Number of bytes in the UTF-8 sequence led by `c` (1 for invalid leads). */
static size_t utf8_seq_len(unsigned char c)
{
    if (c >= 0xf0 && c <= 0xf4)
        return 4;
    if (c >= 0xe0)
        return c <= 0xef ? 3 : 1;
    if (c >= 0xc2)
        return 2;
    return 1;
}

const char *plume_toml_lex_describe(const plume_toml_parser_t *ps, const char *p, char *buf,
                                    size_t n)
{
    if (p >= ps->end) {
        snprintf(buf, n, "end of file");
        return buf;
    }
    unsigned char c = (unsigned char)*p;
    if (c == '\n')
        snprintf(buf, n, "a newline");
    else if (c == '\r')
        snprintf(buf, n, "a carriage return");
    else if (c == '\t')
        snprintf(buf, n, "a tab");
    else if (c == ' ')
        snprintf(buf, n, "a space");
    else if (c == '\'')
        snprintf(buf, n, "\"'\"");
    else if (c > 0x20 && c < 0x7f)
        snprintf(buf, n, "'%c'", c);
    else if (c >= 0x80) {
        size_t len = utf8_seq_len(c);
        if (len > (size_t)(ps->end - p))
            len = 1;
        snprintf(buf, n, "'%.*s'", (int)len, p);
    } else
        snprintf(buf, n, "control character 0x%02x", c);
    return buf;
}

/* True for the control characters TOML forbids in comments and strings: all
 * of U+0000..U+001F except tab, and U+007F. (Newlines are handled by callers.) */
static bool is_bad_control(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* ---------------------------------------------------------------- UTF-8 ---- */

/* Validates the whole document as UTF-8 (no overlongs, no surrogates, nothing
 * above U+10FFFF), so that later stages can copy bytes >= 0x80 verbatim. The
 * error names the line and byte column of the first bad byte. */
bool plume_toml_lex_utf8_check(plume_toml_parser_t *ps)
{
    const unsigned char *p = (const unsigned char *)ps->p;
    const unsigned char *end = (const unsigned char *)ps->end;
    const unsigned char *line_start = (const unsigned char *)ps->line_start;
    int line = ps->line;
    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            if (c == '\n') {
                line++;
                line_start = p + 1;
            }
            p++;
            continue;
        }
        size_t len = utf8_seq_len(c);
        bool ok = len > 1 && (size_t)(end - p) >= len;
        for (size_t i = 1; ok && i < len; i++)
            ok = (p[i] & 0xc0) == 0x80;
        if (ok && len == 3) {
            if (c == 0xe0 && p[1] < 0xa0)
                ok = false; /* overlong */
            else if (c == 0xed && p[1] >= 0xa0)
                ok = false; /* surrogate */
        } else if (ok && len == 4) {
            if (c == 0xf0 && p[1] < 0x90)
                ok = false; /* overlong */
            else if (c == 0xf4 && p[1] >= 0x90)
                ok = false; /* above U+10FFFF */
        }
        if (!ok) {
            plume_toml_pos_t pos = {line, (int)(p - line_start) + 1};
            return plume_toml_lex_fail(ps, pos, "invalid UTF-8 byte 0x%02x", c);
        }
        p += len;
    }
    return true;
}

/* ------------------------------------------------- whitespace & comments ---- */

void plume_toml_lex_skip_ws(plume_toml_parser_t *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
        ps->p++;
}

static void newline_consumed(plume_toml_parser_t *ps)
{
    ps->line++;
    ps->line_start = ps->p;
}

int plume_toml_lex_newline(plume_toml_parser_t *ps)
{
    if (ps->p >= ps->end)
        return 0;
    if (*ps->p == '\n') {
        ps->p++;
        newline_consumed(ps);
        return 1;
    }
    if (*ps->p == '\r') {
        if (ps->end - ps->p >= 2 && ps->p[1] == '\n') {
            ps->p += 2;
            newline_consumed(ps);
            return 1;
        }
        plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, ps->p),
                            "carriage return not followed by a newline");
        return -1;
    }
    return 0;
}

bool plume_toml_lex_comment(plume_toml_parser_t *ps)
{
    ps->p++; /* '#' */
    while (ps->p < ps->end) {
        unsigned char c = (unsigned char)*ps->p;
        if (c == '\n')
            break;
        if (c == '\r') {
            if (ps->end - ps->p >= 2 && ps->p[1] == '\n')
                break;
            return plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, ps->p),
                                       "carriage return not followed by a newline in comment");
        }
        if (is_bad_control(c))
            return plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, ps->p),
                                       "control character 0x%02x in comment", c);
        ps->p++;
    }
    return true;
}

bool plume_toml_lex_skip_ws_nl(plume_toml_parser_t *ps)
{
    for (;;) {
        plume_toml_lex_skip_ws(ps);
        if (ps->p >= ps->end)
            return true;
        if (*ps->p == '#') {
            if (!plume_toml_lex_comment(ps))
                return false;
            continue;
        }
        int nl = plume_toml_lex_newline(ps);
        if (nl < 0)
            return false;
        if (nl == 0)
            return true;
    }
}

/* --------------------------------------------------------------- strings ---- */

static void put_utf8(plume_buf_t *b, uint32_t cp)
{
    uint8_t out[4];
    size_t n;
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        out[0] = (uint8_t)(0xf0 | (cp >> 18));
        out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    plume_buf_append(b, out, n);
}

/* At a backslash inside a basic string (not a line-ending backslash): decodes
 * one escape sequence into the scratch buffer. */
static bool lex_escape(plume_toml_parser_t *ps)
{
    const char *bs = ps->p;
    plume_toml_pos_t pos = plume_toml_lex_pos(ps, bs);
    if (ps->end - bs < 2)
        return plume_toml_lex_fail(ps, pos, "unterminated escape at end of file");
    char c = bs[1];
    const char *simple = NULL;
    switch (c) {
    case 'b': simple = "\b"; break;
    case 't': simple = "\t"; break;
    case 'n': simple = "\n"; break;
    case 'f': simple = "\f"; break;
    case 'r': simple = "\r"; break;
    case '"': simple = "\""; break;
    case '\\': simple = "\\"; break;
    default: break;
    }
    if (simple) {
        plume_buf_append_byte(&ps->scratch, (uint8_t)simple[0]);
        ps->p += 2;
        return true;
    }
    if (c == 'u' || c == 'U') {
        int ndig = c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (int i = 0; i < ndig; i++) {
            int h = bs + 2 + i < ps->end ? plume_toml_hex_value(bs[2 + i]) : -1;
            if (h < 0)
                return plume_toml_lex_fail(ps, pos,
                                           "invalid unicode escape: '\\%c' needs %d hex digits",
                                           c, ndig);
            cp = cp << 4 | (uint32_t)h;
        }
        if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return plume_toml_lex_fail(
                ps, pos, "invalid unicode escape '\\%c%.*s' (not a Unicode scalar value)", c,
                ndig, bs + 2);
        put_utf8(&ps->scratch, cp);
        ps->p += 2 + ndig;
        return true;
    }
    unsigned char uc = (unsigned char)c;
    if (uc > 0x20 && uc < 0x7f)
        return plume_toml_lex_fail(ps, pos, "invalid escape '\\%c' in string", c);
    char d[48];
    return plume_toml_lex_fail(ps, pos, "invalid escape: '\\' followed by %s in string",
                               plume_toml_lex_describe(ps, bs + 1, d, sizeof(d)));
}

/* Single-line basic ("...") or literal ('...') string, cursor after the quote. */
static bool lex_single_line(plume_toml_parser_t *ps, char quote)
{
    bool basic = quote == '"';
    for (;;) {
        if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '\r')
            return plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, ps->p),
                                       "unterminated string (missing closing %s)",
                                       basic ? "'\"'" : "\"'\"");
        unsigned char c = (unsigned char)*ps->p;
        if (c == (unsigned char)quote) {
            ps->p++;
            return true;
        }
        if (basic && c == '\\') {
            if (!lex_escape(ps))
                return false;
            continue;
        }
        if (is_bad_control(c))
            return plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, ps->p),
                                       "control character 0x%02x in string (use an escape)", c);
        plume_buf_append_byte(&ps->scratch, c);
        ps->p++;
    }
}

/* After a backslash in a multi-line basic string that is followed by optional
 * whitespace and a newline: skips all whitespace and newlines. Returns 0 when
 * the backslash is not line-ending (the caller decodes an escape), 1 when
 * consumed, -1 on error. */
static int lex_line_ending_backslash(plume_toml_parser_t *ps)
{
    const char *q = ps->p + 1;
    while (q < ps->end && (*q == ' ' || *q == '\t'))
        q++;
    if (q >= ps->end || (*q != '\n' && *q != '\r'))
        return 0;
    ps->p = q;
    for (;;) {
        plume_toml_lex_skip_ws(ps);
        int nl = plume_toml_lex_newline(ps);
        if (nl < 0)
            return -1;
        if (nl == 0)
            return 1;
    }
}

/* Multi-line basic or literal string, cursor after the opening triple quote. */
static bool lex_multi_line(plume_toml_parser_t *ps, char quote, plume_toml_pos_t open)
{
    bool basic = quote == '"';
    int nl = plume_toml_lex_newline(ps); /* a newline right after the opener is trimmed */
    if (nl < 0)
        return false;
    for (;;) {
        if (ps->p >= ps->end)
            return plume_toml_lex_fail(ps, open, "unterminated multi-line string");
        unsigned char c = (unsigned char)*ps->p;
        if (c == (unsigned char)quote) {
            size_t run = 0;
            while (ps->p + run < ps->end && ps->p[run] == quote)
                run++;
            if (run >= 3) {
                if (run > 5)
                    return plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, ps->p + 5),
                                               "too many quotes at the end of a multi-line string");
                plume_buf_append(&ps->scratch, ps->p, run - 3);
                ps->p += run;
                return true;
            }
            plume_buf_append(&ps->scratch, ps->p, run);
            ps->p += run;
            continue;
        }
        if (c == '\n' || c == '\r') {
            if (plume_toml_lex_newline(ps) < 0)
                return false;
            plume_buf_append_byte(&ps->scratch, '\n'); /* CRLF is stored as LF */
            continue;
        }
        if (basic && c == '\\') {
            int r = lex_line_ending_backslash(ps);
            if (r < 0)
                return false;
            if (r == 0 && !lex_escape(ps))
                return false;
            continue;
        }
        if (is_bad_control(c))
            return plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, ps->p),
                                       "control character 0x%02x in string (use an escape)", c);
        plume_buf_append_byte(&ps->scratch, c);
        ps->p++;
    }
}

bool plume_toml_lex_string(plume_toml_parser_t *ps, bool allow_multiline)
{
    char quote = *ps->p;
    plume_toml_pos_t open = plume_toml_lex_pos(ps, ps->p);
    plume_buf_reset(&ps->scratch);
    bool ok;
    if (ps->end - ps->p >= 3 && ps->p[1] == quote && ps->p[2] == quote) {
        if (!allow_multiline)
            return plume_toml_lex_fail(ps, open, "a multi-line string cannot be used as a key");
        ps->p += 3;
        ok = lex_multi_line(ps, quote, open);
    } else {
        ps->p++;
        ok = lex_single_line(ps, quote);
    }
    if (ok && ps->scratch.failed)
        return plume_toml_lex_fail(ps, open, "out of memory decoding string");
    return ok;
}

/* ------------------------------------------------------------------ keys ---- */

void plume_toml_key_parts_free(plume_toml_key_part_t *parts, size_t n)
{
    if (!parts)
        return;
    for (size_t i = 0; i < n; i++)
        free(parts[i].s);
    free(parts);
}

bool plume_toml_lex_key(plume_toml_parser_t *ps, plume_toml_key_part_t **out, size_t *out_n)
{
    plume_toml_key_part_t *parts = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        plume_toml_lex_skip_ws(ps);
        plume_toml_pos_t pos = plume_toml_lex_pos(ps, ps->p);
        const char *s;
        size_t len;
        if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '\'')) {
            if (!plume_toml_lex_string(ps, false))
                goto fail;
            s = (const char *)ps->scratch.data;
            len = ps->scratch.len;
        } else {
            s = ps->p;
            while (ps->p < ps->end && plume_toml_is_bare_key_char(*ps->p))
                ps->p++;
            len = (size_t)(ps->p - s);
            if (len == 0) {
                char d[48];
                plume_toml_lex_describe(ps, ps->p, d, sizeof(d));
                plume_toml_lex_fail(ps, pos, n ? "expected a key after '.', found %s"
                                               : "expected a key, found %s", d);
                goto fail;
            }
        }
        if (n == PLUME_TOML_MAX_DEPTH) {
            plume_toml_lex_fail(ps, pos, "dotted key has more than %d parts",
                                PLUME_TOML_MAX_DEPTH);
            goto fail;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            plume_toml_key_part_t *np = realloc(parts, ncap * sizeof(*np));
            if (!np) {
                plume_toml_lex_fail(ps, pos, "out of memory");
                goto fail;
            }
            parts = np;
            cap = ncap;
        }
        char *copy = malloc(len + 1);
        if (!copy) {
            plume_toml_lex_fail(ps, pos, "out of memory");
            goto fail;
        }
        if (len)
            memcpy(copy, s, len);
        copy[len] = '\0';
        parts[n].s = copy;
        parts[n].len = len;
        parts[n].pos = pos;
        n++;
        plume_toml_lex_skip_ws(ps);
        if (ps->p < ps->end && *ps->p == '.') {
            ps->p++;
            continue;
        }
        break;
    }
    *out = parts;
    *out_n = n;
    return true;
fail:
    plume_toml_key_parts_free(parts, n);
    return false;
}

const char *plume_toml_key_describe(const plume_toml_key_part_t *parts, size_t n, char *buf,
                                    size_t size)
{
    plume_buf_t b;
    plume_buf_init(&b, 0);
    for (size_t i = 0; i < n && b.len < size; i++) {
        if (i)
            plume_buf_append_byte(&b, '.');
        bool bare = parts[i].len > 0;
        for (size_t j = 0; j < parts[i].len && bare; j++)
            bare = plume_toml_is_bare_key_char(parts[i].s[j]);
        if (bare) {
            plume_buf_append(&b, parts[i].s, parts[i].len < size ? parts[i].len : size);
            continue;
        }
        plume_buf_append_byte(&b, '"');
        for (size_t j = 0; j < parts[i].len && b.len < size; j++) {
            unsigned char c = (unsigned char)parts[i].s[j];
            if (c == '"' || c == '\\')
                plume_buf_printf(&b, "\\%c", c);
            else if (c < 0x20 || c == 0x7f)
                plume_buf_printf(&b, "\\u%04x", c);
            else
                plume_buf_append_byte(&b, c);
        }
        plume_buf_append_byte(&b, '"');
    }
    if (b.failed || !b.data)
        snprintf(buf, size, "?");
    else if (b.len < size)
        snprintf(buf, size, "%.*s", (int)b.len, (const char *)b.data);
    else {
        /* Truncate on a UTF-8 boundary and mark it. */
        size_t keep = size > 4 ? size - 4 : 0;
        while (keep > 0 && ((unsigned char)b.data[keep] & 0xc0) == 0x80)
            keep--;
        snprintf(buf, size, "%.*s...", (int)keep, (const char *)b.data);
    }
    plume_buf_free(&b);
    return buf;
}
