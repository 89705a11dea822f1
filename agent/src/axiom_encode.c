/* SPDX-License-Identifier: MIT */
/* NDJSON encoders for events (Axiom and plain). See axiom_encode.h.
 *
 * One pass over the user fields: they are written first, and while writing
 * them the names that suppress a later system key (level, message, ...) are
 * noted, so no second scan of the fields is needed. */
#include "axiom_encode.h"

#include <string.h>

#include "event.h"
#include "json_write.h"
#include "mp.h"
#include "time_format.h"

/* User field names that suppress a system key written after the fields. */
enum {
    SEEN_LEVEL = 1,   /* "level" or "severity" */
    SEEN_MESSAGE = 2, /* "message" or "msg" */
    SEEN_ORIGIN = 4,
    SEEN_TRUNCATED = 8,
    SEEN_PARSE_ERROR = 16,
};

/* Hot: called for every user key, so dispatch on the length first. */
static unsigned classify_key(const plume_mp_value_t *k)
{
#define IS(lit) (memcmp(k->s, lit, sizeof(lit) - 1) == 0)
    switch (k->len) {
    case 3: return IS("msg") ? SEEN_MESSAGE : 0;
    case 5: return IS("level") ? SEEN_LEVEL : 0;
    case 6: return IS("origin") ? SEEN_ORIGIN : 0;
    case 7: return IS("message") ? SEEN_MESSAGE : 0;
    case 8: return IS("severity") ? SEEN_LEVEL : 0;
    case 9: return IS("truncated") ? SEEN_TRUNCATED : 0;
    case 11: return IS("parse_error") ? SEEN_PARSE_ERROR : 0;
    default: return 0;
    }
#undef IS
}

#define APPEND_LIT(b, lit) plume_buf_append((b), (lit), sizeof(lit) - 1)

/* Writes the user fields (a msgpack map) as ",key:value" pairs and returns
 * the SEEN_* bits of their names through *seen. False on malformed input. */
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
            *seen |= classify_key(&k);
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

/* The shared encoder; `axiom` selects the flavour (see axiom_encode.h). */
static bool encode(plume_buf_t *out, const uint8_t *event, size_t len, bool axiom)
{
    plume_event_view_t ev;
    if (!event || !plume_event_view(event, len, &ev))
        return false;
    size_t start = out->len;
    bool was_failed = out->failed;
    out->failed = false;

    char ts[PLUME_TIME_FORMAT_MAX];
    size_t tn = plume_time_format_rfc3339(ev.time_ns, ts);
    APPEND_LIT(out, "{\"_time\":\"");
    plume_buf_append(out, ts, tn);
    plume_buf_append_byte(out, '"');

    unsigned seen = 0;
    bool ok = !ev.fields || write_fields(out, ev.fields, ev.fields_len, &seen);
    if (ok) {
        const char *level = plume_level_name(ev.level);
        if (level && !(seen & SEEN_LEVEL)) {
            APPEND_LIT(out, ",\"level\":\"");
            plume_buf_append_str(out, level);
            plume_buf_append_byte(out, '"');
        }
        if (ev.message && !(seen & SEEN_MESSAGE)) {
            APPEND_LIT(out, ",\"message\":");
            plume_json_write_str(out, ev.message, ev.message_len);
        }
        if (!axiom && ev.origin && !(seen & SEEN_ORIGIN)) {
            APPEND_LIT(out, ",\"origin\":");
            plume_json_write_str(out, ev.origin, ev.origin_len);
        }
        if (ev.truncated && !(seen & SEEN_TRUNCATED))
            APPEND_LIT(out, ",\"truncated\":true");
        if (ev.parse_error && !(seen & SEEN_PARSE_ERROR)) {
            APPEND_LIT(out, ",\"parse_error\":");
            plume_json_write_str(out, ev.parse_error, ev.parse_error_len);
        }
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

bool plume_axiom_encode_event(plume_buf_t *out, const uint8_t *event, size_t len)
{
    return encode(out, event, len, true);
}

bool plume_ndjson_encode_event(plume_buf_t *out, const uint8_t *event, size_t len)
{
    return encode(out, event, len, false);
}
