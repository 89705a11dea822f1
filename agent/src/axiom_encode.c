/* SPDX-License-Identifier: MIT */
/* NDJSON encoders for events (Axiom and plain). See axiom_encode.h.
 *
 * One pass over the user fields: they are written first, and while writing
 * them the names that suppress a later system key (level, message, ...) are
 * noted (PLUME_HINT_* bits), so no second scan of the fields is needed.
 *
 * An event whose fields came as JSON text ("fields_json") is the fast path:
 * the object's members are copied as they are, between "_time" and the
 * system keys, and the collector's "hints" are the suppression bits. Two
 * cases are converted to msgpack and written like "fields" instead: text
 * with a raw LF (it would split the NDJSON line; not looked for when the
 * view's producer vouches there is none, fields_json_one_line) and, for the
 * plain flavour that may end up on a terminal, text holding characters
 * json_write.c escapes for terminal safety (DEL, C1 controls, U+2028/2029,
 * bidi overrides). */
#include "axiom_encode.h"

#include <string.h>

#include "event.h"
#include "json_parse.h"
#include "json_write.h"
#include "mp.h"
#include "time_format.h"

#define APPEND_LIT(b, lit) plume_buf_append((b), (lit), sizeof(lit) - 1)

/* Writes the user fields (a msgpack map) as ",key:value" pairs and returns
 * the PLUME_HINT_* bits of their names through *seen. False on malformed
 * input. */
static bool write_fields(plume_buf_t *out, const uint8_t *fields, size_t len, unsigned *seen)
{
    plume_mp_reader_t r;
    plume_mp_value_t m, k;
    plume_mp_reader_init(&r, fields, len);
    if (!plume_mp_read(&r, &m) || m.type != PLUME_MP_MAP)
        return false;
    for (uint32_t i = 0; i < m.count; i++) {
        const uint8_t *kstart = r.p;
        if (!plume_mp_read(&r, &k))
            return false;
        if (k.type == PLUME_MP_STR) {
            *seen |= plume_hint_for_key(k.s, k.len);
            if (k.len > 0 && k.s[0] == '_')
                APPEND_LIT(out, ",\"user");
            else
                APPEND_LIT(out, ",\"");
            plume_json_write_escaped(out, k.s, k.len);
            APPEND_LIT(out, "\":");
        } else {
            plume_buf_append_byte(out, ',');
            r.p = kstart;
            if (!plume_json_write_mp_key(out, &r))
                return false;
            plume_buf_append_byte(out, ':');
        }
        if (!plume_json_write_mp(out, &r))
            return false;
    }
    return true;
}

/* True when s[0..n) holds a character that json_write.c would escape to
 * keep a terminal safe: DEL, C1 controls (C2 80..9F), U+2028..U+202E
 * (E2 80 A8..AE) and U+2066..U+2069 (E2 81 A6..A9). s is valid UTF-8. */
static bool has_terminal_unsafe(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    for (; p < end; p++) {
        uint8_t c = *p;
        if (c < 0x7f)
            continue;
        if (c == 0x7f)
            return true;
        if (c == 0xc2 && end - p > 1 && p[1] <= 0x9f)
            return true;
        if (c == 0xe2 && end - p > 2 &&
            ((p[1] == 0x80 && p[2] >= 0xa8 && p[2] <= 0xae) ||
             (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)))
            return true;
    }
    return false;
}

/* Writes fields_json by converting it to msgpack first (the rare cases the
 * copy cannot take). False if it is not a JSON object. */
static bool write_fields_json_converted(plume_buf_t *out, const char *s, size_t n, unsigned *seen)
{
    plume_buf_t mp;
    plume_json_opts_t opts = {.max_depth = 64}; /* what plume_json_write_mp can read */
    plume_buf_init(&mp, 0);
    bool ok = plume_json_to_mp_opts(s, n, &mp, &opts, NULL) && mp.len > 0 &&
              ((mp.data[0] & 0xf0) == 0x80 || mp.data[0] == 0xde || mp.data[0] == 0xdf) &&
              write_fields(out, mp.data, mp.len, seen);
    plume_buf_free(&mp);
    return ok;
}

/* Writes the members of fields_json (braced; see plume_event_view) as
 * ",members": the text between the braces is copied unless it is only
 * whitespace (an empty object adds nothing). */
static bool write_fields_json(plume_buf_t *out, const plume_event_view_t *ev, bool axiom,
                              unsigned *seen)
{
    const char *s = ev->fields_json;
    size_t n = ev->fields_json_len;
    bool lf = !ev->fields_json_one_line && memchr(s, '\n', n);
    if (lf || (!axiom && has_terminal_unsafe(s, n)))
        return write_fields_json_converted(out, s, n, seen);
    const char *in = s + 1, *in_end = s + n - 1;
    const char *q = in;
    while (q < in_end && (*q == ' ' || *q == '\t' || *q == '\r'))
        q++;
    if (q == in_end)
        return true;
    if (plume_buf_reserve(out, (size_t)(in_end - q) + 1)) {
        out->data[out->len++] = ',';
        memcpy(out->data + out->len, q, (size_t)(in_end - q));
        out->len += (size_t)(in_end - q);
    }
    return true;
}

/* The "error" map (errors and crashes) as ,"exception":{...}; left out whole
 * when it is malformed. */
static void write_error(plume_buf_t *out, const plume_event_view_t *ev)
{
    size_t mark = out->len;
    plume_mp_reader_t r;
    plume_mp_reader_init(&r, ev->error, ev->error_len);
    APPEND_LIT(out, ",\"exception\":");
    if (!plume_json_write_mp(out, &r) && !out->failed)
        out->len = mark;
}

/* The shared encoder; `axiom` selects the flavour (see axiom_encode.h). */
static bool encode(plume_buf_t *out, const plume_event_view_t *ev, bool axiom)
{
    size_t start = out->len;
    bool was_failed = out->failed;
    out->failed = false;

    /* {"_time":"<30 characters>", formatted in place: the formatter writes
     * its NUL after the 30 characters, where the '"' then goes. */
    static const char time_key[] = "{\"_time\":\"";
    const size_t key_len = sizeof(time_key) - 1;
    if (plume_buf_reserve(out, key_len + PLUME_TIME_FORMAT_MAX)) {
        char *p = (char *)out->data + out->len;
        memcpy(p, time_key, key_len);
        size_t tn = plume_time_format_rfc3339(ev->time_ns, p + key_len);
        p[key_len + tn] = '"';
        out->len += key_len + tn + 1;
    }

    unsigned seen = ev->hints;
    bool ok = ev->fields_json ? write_fields_json(out, ev, axiom, &seen)
              : !ev->fields || write_fields(out, ev->fields, ev->fields_len, &seen);
    if (ok) {
        const char *level = seen & PLUME_HINT_LEVEL ? NULL : plume_level_name(ev->level);
        if (level) {
            APPEND_LIT(out, ",\"level\":\"");
            plume_buf_append_str(out, level);
            plume_buf_append_byte(out, '"');
        }
        if (ev->message && !(seen & PLUME_HINT_MESSAGE)) {
            APPEND_LIT(out, ",\"message\":");
            plume_json_write_str(out, ev->message, ev->message_len);
        }
        if (!axiom && ev->origin && !(seen & PLUME_HINT_ORIGIN)) {
            APPEND_LIT(out, ",\"origin\":");
            plume_json_write_str(out, ev->origin, ev->origin_len);
        }
        if (ev->truncated && !(seen & PLUME_HINT_TRUNCATED))
            APPEND_LIT(out, ",\"truncated\":true");
        if (ev->parse_error && !(seen & PLUME_HINT_PARSE_ERROR)) {
            APPEND_LIT(out, ",\"parse_error\":");
            plume_json_write_str(out, ev->parse_error, ev->parse_error_len);
        }
        if (ev->error)
            write_error(out, ev);
        APPEND_LIT(out, "}\n");
    }
    bool full = out->failed;
    if (!ok || full) {
        out->len = start;
        out->failed = was_failed || full;
        return false;
    }
    out->failed = was_failed;
    return true;
}

bool plume_axiom_encode_view(plume_buf_t *out, const plume_event_view_t *ev)
{
    return encode(out, ev, true);
}

bool plume_ndjson_encode_view(plume_buf_t *out, const plume_event_view_t *ev)
{
    return encode(out, ev, false);
}

bool plume_axiom_encode_event(plume_buf_t *out, const uint8_t *event, size_t len)
{
    plume_event_view_t ev;
    return event && plume_event_view(event, len, &ev) && encode(out, &ev, true);
}

bool plume_ndjson_encode_event(plume_buf_t *out, const uint8_t *event, size_t len)
{
    plume_event_view_t ev;
    return event && plume_event_view(event, len, &ev) && encode(out, &ev, false);
}
