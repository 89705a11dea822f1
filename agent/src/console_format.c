/* SPDX-License-Identifier: MIT */
/* Readable, terminal-safe event lines. See console_format.h. */
#include "console_format.h"

#include <math.h>
#include <string.h>

#include "event.h"
#include "json_parse.h"
#include "json_write.h"
#include "mp.h"
#include "time_format.h"

#define APPEND_LIT(b, lit) plume_buf_append((b), (lit), sizeof(lit) - 1)

static const char hex_digits[] = "0123456789abcdef";

static const char *const level_upper[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
static const char *const level_color[] = {"\x1b[2m",  "\x1b[2m",  "\x1b[32m",
                                          "\x1b[33m", "\x1b[31m", "\x1b[1;31m"};
#define COLOR_RESET "\x1b[0m"

static void put_hex_escape(plume_buf_t *b, uint8_t c)
{
    char e[4] = {'\\', 'x', hex_digits[c >> 4], hex_digits[c & 15]};
    plume_buf_append(b, e, 4);
}

/* Appends s[0..n) with every character that could act on a terminal made
 * visible: \n \r \t, other controls, DEL and invalid UTF-8 bytes as \xNN,
 * C1 controls and bidi overrides as \uXXXX. When `quoted`, '"' and '\\' are
 * escaped too (the text goes between quotes). Plain runs are appended whole. */
static void put_text(plume_buf_t *b, const char *s, size_t n, bool quoted)
{
    if (n == 0)
        return;
    const uint8_t *p = (const uint8_t *)s, *end = p + n, *run = p;
    while (p < end) {
        uint8_t c = *p;
        if (c >= 0x20 && c < 0x7f) {
            if (!quoted || (c != '"' && c != '\\')) {
                p++;
                continue;
            }
            plume_buf_append(b, run, (size_t)(p - run));
            char e[2] = {'\\', (char)c};
            plume_buf_append(b, e, 2);
            run = ++p;
            continue;
        }
        if (c >= 0x80) {
            uint32_t cp;
            int len = plume_json_utf8_next(p, (size_t)(end - p), &cp);
            if (len > 0 && !plume_json_cp_unsafe(cp)) {
                p += len;
                continue;
            }
            plume_buf_append(b, run, (size_t)(p - run));
            if (len > 0) {
                char e[6] = {'\\', 'u', hex_digits[(cp >> 12) & 15], hex_digits[(cp >> 8) & 15],
                             hex_digits[(cp >> 4) & 15], hex_digits[cp & 15]};
                plume_buf_append(b, e, 6);
                p += len;
            } else {
                for (int i = 0; i < -len; i++)
                    put_hex_escape(b, *p++);
            }
            run = p;
            continue;
        }
        plume_buf_append(b, run, (size_t)(p - run));
        if (c == '\n')
            APPEND_LIT(b, "\\n");
        else if (c == '\r')
            APPEND_LIT(b, "\\r");
        else if (c == '\t')
            APPEND_LIT(b, "\\t");
        else
            put_hex_escape(b, c);
        run = ++p;
    }
    plume_buf_append(b, run, (size_t)(p - run));
}

/* True when a key or string value can be written without quotes: not empty,
 * no space, quote, '=', backslash, and nothing put_text would escape. */
static bool is_bare(const char *s, size_t n)
{
    if (n == 0)
        return false;
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    while (p < end) {
        uint8_t c = *p;
        if (c < 0x80) {
            if (c <= 0x20 || c == 0x7f || c == '"' || c == '=' || c == '\\')
                return false;
            p++;
            continue;
        }
        uint32_t cp;
        int len = plume_json_utf8_next(p, (size_t)(end - p), &cp);
        if (len < 0 || plume_json_cp_unsafe(cp))
            return false;
        p += len;
    }
    return true;
}

static void put_string(plume_buf_t *b, const char *s, size_t n)
{
    if (is_bare(s, n)) {
        plume_buf_append(b, s, n);
        return;
    }
    plume_buf_append_byte(b, '"');
    put_text(b, s, n, true);
    plume_buf_append_byte(b, '"');
}

/* Writes one field value (or a non-string key): scalars logfmt-style,
 * everything else as compact JSON. Returns false on malformed msgpack. */
static bool put_value(plume_buf_t *b, plume_mp_reader_t *r)
{
    const uint8_t *start = r->p;
    bool single = r->p < r->end && *r->p == 0xca;
    plume_mp_value_t v;
    if (!plume_mp_read(r, &v))
        return false;
    char num[32];
    switch (v.type) {
    case PLUME_MP_STR:
        put_string(b, v.s, v.len);
        return true;
    case PLUME_MP_FLOAT: {
        size_t n = plume_json_format_double(v.f, single, num);
        if (n)
            plume_buf_append(b, num, n);
        else if (isnan(v.f))
            APPEND_LIT(b, "NaN");
        else if (v.f > 0)
            APPEND_LIT(b, "+Inf");
        else
            APPEND_LIT(b, "-Inf");
        return true;
    }
    default:
        /* nil, bool and integers read the same in JSON; the rest is JSON. */
        r->p = start;
        return plume_json_write_mp(b, r);
    }
}

/* Writes the fields map as "key=value key=value". */
static void put_fields(plume_buf_t *b, plume_mp_reader_t *r, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        if (i)
            plume_buf_append_byte(b, ' ');
        if (!put_value(b, r)) {
            APPEND_LIT(b, "<malformed>");
            return;
        }
        plume_buf_append_byte(b, '=');
        if (!put_value(b, r)) {
            APPEND_LIT(b, "<malformed>");
            return;
        }
    }
}

void plume_console_format_event(plume_buf_t *out, const uint8_t *event, size_t len, bool color)
{
    plume_event_view_t ev;
    if (event && plume_event_view(event, len, &ev)) {
        plume_console_format_view(out, &ev, color);
        return;
    }
    size_t start = out->len;
    bool was_failed = out->failed;
    out->failed = false;
    plume_buf_printf(out, "[plume: invalid event, %zu bytes]\n", len);
    if (out->failed)
        out->len = start;
    out->failed = was_failed || out->failed;
}

void plume_console_format_view(plume_buf_t *out, const plume_event_view_t *ev, bool color)
{
    size_t start = out->len;
    bool was_failed = out->failed;
    out->failed = false;

    /* Fields passed through as JSON text are converted to msgpack first and
     * then shown like any other fields (not a hot path). */
    plume_buf_t conv;
    plume_buf_init(&conv, 0);
    const uint8_t *fields = ev->fields;
    size_t fields_len = ev->fields_len;
    if (ev->fields_json) {
        plume_json_opts_t opts = {.max_depth = 64}; /* what plume_json_write_mp can read */
        if (plume_json_to_mp_opts(ev->fields_json, ev->fields_json_len, &conv, &opts, NULL)) {
            fields = conv.data;
            fields_len = conv.len;
        }
    }
    plume_mp_reader_t fr;
    plume_mp_value_t fmap = {.count = 0};
    if (fields) {
        plume_mp_reader_init(&fr, fields, fields_len);
        if (!plume_mp_read(&fr, &fmap) || fmap.type != PLUME_MP_MAP)
            fmap.count = 0;
    }
    bool has_msg = ev->message && ev->message_len > 0;
    bool more = has_msg || fmap.count || ev->truncated || ev->parse_error;

    char ts[PLUME_TIME_FORMAT_MAX];
    plume_buf_append(out, ts, plume_time_format_rfc3339_ms(ev->time_ns, ts));

    if (ev->level >= PLUME_LEVEL_TRACE && ev->level <= PLUME_LEVEL_FATAL) {
        const char *name = level_upper[ev->level];
        plume_buf_append_byte(out, ' ');
        if (color)
            plume_buf_append_str(out, level_color[ev->level]);
        plume_buf_append_str(out, name);
        if (color)
            APPEND_LIT(out, COLOR_RESET);
        if (more)
            plume_buf_append(out, "     ", 5 - strlen(name));
    }
    if (has_msg) {
        plume_buf_append_byte(out, ' ');
        put_text(out, ev->message, ev->message_len, false);
    }
    if (fmap.count) {
        if (has_msg)
            APPEND_LIT(out, "  ");
        else
            plume_buf_append_byte(out, ' ');
        put_fields(out, &fr, fmap.count);
    }
    if (ev->truncated)
        APPEND_LIT(out, " [truncated]");
    if (ev->parse_error) {
        APPEND_LIT(out, " [parse_error: ");
        put_text(out, ev->parse_error, ev->parse_error_len, false);
        plume_buf_append_byte(out, ']');
    }
    plume_buf_append_byte(out, '\n');
    plume_buf_free(&conv);

    if (out->failed)
        out->len = start;
    out->failed = out->failed || was_failed;
}
