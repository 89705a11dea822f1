/* SPDX-License-Identifier: MIT */
/* Event builder and reader. See event.h and docs/event-schema.md. */
#include "event.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include "json_parse.h"

static const char *const level_names[] = {"trace", "debug", "info", "warn", "error", "fatal"};
static const unsigned char level_lens[] = {5, 5, 4, 4, 5, 5};

const char *plume_level_name(plume_level_t l)
{
    if (l < PLUME_LEVEL_TRACE || l > PLUME_LEVEL_FATAL)
        return NULL;
    return level_names[l];
}

/* The six canonical names are what nearly every event carries, so they are
 * matched exactly first; everything else goes through the spelling table. */
plume_level_t plume_level_parse(const char *s, size_t n)
{
    if (n == 4 || n == 5) {
        plume_level_t l = PLUME_LEVEL_NONE;
        switch (s[0]) {
        case 't': l = PLUME_LEVEL_TRACE; break;
        case 'd': l = PLUME_LEVEL_DEBUG; break;
        case 'i': l = PLUME_LEVEL_INFO; break;
        case 'w': l = PLUME_LEVEL_WARN; break;
        case 'e': l = PLUME_LEVEL_ERROR; break;
        case 'f': l = PLUME_LEVEL_FATAL; break;
        }
        if (l != PLUME_LEVEL_NONE && level_lens[l] == n && memcmp(s, level_names[l], n) == 0)
            return l;
    }
    static const struct {
        const char *name;
        plume_level_t level;
    } table[] = {
        {"trace", PLUME_LEVEL_TRACE}, {"trc", PLUME_LEVEL_TRACE}, {"t", PLUME_LEVEL_TRACE},
        {"debug", PLUME_LEVEL_DEBUG}, {"dbg", PLUME_LEVEL_DEBUG}, {"d", PLUME_LEVEL_DEBUG},
        {"7", PLUME_LEVEL_DEBUG},
        {"info", PLUME_LEVEL_INFO}, {"inf", PLUME_LEVEL_INFO}, {"i", PLUME_LEVEL_INFO},
        {"information", PLUME_LEVEL_INFO}, {"informational", PLUME_LEVEL_INFO},
        {"notice", PLUME_LEVEL_INFO}, {"6", PLUME_LEVEL_INFO}, {"5", PLUME_LEVEL_INFO},
        {"warn", PLUME_LEVEL_WARN}, {"warning", PLUME_LEVEL_WARN}, {"wrn", PLUME_LEVEL_WARN},
        {"w", PLUME_LEVEL_WARN}, {"4", PLUME_LEVEL_WARN},
        {"error", PLUME_LEVEL_ERROR}, {"err", PLUME_LEVEL_ERROR}, {"e", PLUME_LEVEL_ERROR},
        {"3", PLUME_LEVEL_ERROR},
        {"fatal", PLUME_LEVEL_FATAL}, {"critical", PLUME_LEVEL_FATAL}, {"crit", PLUME_LEVEL_FATAL},
        {"alert", PLUME_LEVEL_FATAL}, {"emerg", PLUME_LEVEL_FATAL}, {"emergency", PLUME_LEVEL_FATAL},
        {"panic", PLUME_LEVEL_FATAL}, {"f", PLUME_LEVEL_FATAL}, {"2", PLUME_LEVEL_FATAL},
        {"1", PLUME_LEVEL_FATAL}, {"0", PLUME_LEVEL_FATAL},
    };
    if (n == 0 || n > 13) /* longer than "informational": no match */
        return PLUME_LEVEL_NONE;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strlen(table[i].name) == n && strncasecmp(table[i].name, s, n) == 0)
            return table[i].level;
    return PLUME_LEVEL_NONE;
}

/* Appends a top-level key (a literal: its length is a constant). */
#define ADD_KEY(eb, lit) add_key((eb), (lit), sizeof(lit) - 1)
static inline void add_key(plume_event_builder_t *eb, const char *key, size_t n)
{
    plume_mp_str(eb->buf, key, n);
    eb->count++;
}

void plume_event_begin(plume_event_builder_t *eb, plume_buf_t *buf, uint64_t time_ns)
{
    memset(eb, 0, sizeof(*eb));
    eb->buf = buf;
    eb->start = buf->len;
    eb->map_off = plume_mp_map_begin(buf);
    ADD_KEY(eb, "time");
    plume_mp_uint(buf, time_ns);
}

void plume_event_set_level(plume_event_builder_t *eb, plume_level_t l)
{
    const char *name = plume_level_name(l);
    if (!name)
        return;
    ADD_KEY(eb, "level");
    plume_mp_str(eb->buf, name, level_lens[l]);
}

void plume_event_set_message(plume_event_builder_t *eb, const char *s, size_t n)
{
    ADD_KEY(eb, "message");
    plume_mp_str(eb->buf, s, n);
}

void plume_event_set_origin(plume_event_builder_t *eb, const char *origin)
{
    ADD_KEY(eb, "origin");
    plume_mp_cstr(eb->buf, origin);
}

void plume_event_set_truncated(plume_event_builder_t *eb)
{
    ADD_KEY(eb, "truncated");
    plume_mp_bool(eb->buf, true);
}

void plume_event_set_parse_error(plume_event_builder_t *eb, const char *s)
{
    ADD_KEY(eb, "parse_error");
    plume_mp_cstr(eb->buf, s);
}

void plume_event_set_fields_json(plume_event_builder_t *eb, const char *s, size_t n)
{
    ADD_KEY(eb, "fields_json");
    plume_mp_str(eb->buf, s, n);
}

void plume_event_set_hints(plume_event_builder_t *eb, unsigned bits)
{
    ADD_KEY(eb, "hints");
    plume_mp_uint(eb->buf, bits & PLUME_HINT_ALL);
}

void plume_event_set_error(plume_event_builder_t *eb, const uint8_t *map, size_t n)
{
    ADD_KEY(eb, "error");
    plume_buf_append(eb->buf, map, n);
}

void plume_event_fields_begin(plume_event_builder_t *eb)
{
    ADD_KEY(eb, "fields");
    eb->fields_off = plume_mp_map_begin(eb->buf);
    eb->nfields = 0;
}

void plume_event_fields_end(plume_event_builder_t *eb)
{
    plume_mp_patch_count(eb->buf, eb->fields_off, eb->nfields);
}

bool plume_event_end(plume_event_builder_t *eb)
{
    plume_mp_patch_count(eb->buf, eb->map_off, eb->count);
    return !eb->buf->failed;
}

/* The keys plume_event_view() knows. */
enum {
    K_OTHER, K_TIME, K_LEVEL, K_MESSAGE, K_ORIGIN, K_FIELDS, K_FIELDS_JSON, K_HINTS,
    K_TRUNCATED, K_PARSE_ERROR, K_ERROR
};

/* Identifies a top-level key by its length first, then its bytes. */
static int key_id(const plume_mp_value_t *k)
{
#define IS(lit) (memcmp(k->s, lit, sizeof(lit) - 1) == 0)
    switch (k->len) {
    case 4: return IS("time") ? K_TIME : K_OTHER;
    case 5: return IS("level") ? K_LEVEL : IS("hints") ? K_HINTS : IS("error") ? K_ERROR : K_OTHER;
    case 6: return IS("fields") ? K_FIELDS : IS("origin") ? K_ORIGIN : K_OTHER;
    case 7: return IS("message") ? K_MESSAGE : K_OTHER;
    case 9: return IS("truncated") ? K_TRUNCATED : K_OTHER;
    case 11: return IS("fields_json") ? K_FIELDS_JSON : IS("parse_error") ? K_PARSE_ERROR : K_OTHER;
    default: return K_OTHER;
    }
#undef IS
}

/* plume_mp_read() with the forms an event's top level is mostly made of
 * decoded inline: fixstr (keys, level, short messages), str8 (fields_json),
 * positive fixint (hints) and uint64 (time). Every other form, and every
 * bounds failure, takes plume_mp_read() itself, so the result is the same
 * for any input. */
static inline bool read_value(plume_mp_reader_t *r, plume_mp_value_t *v)
{
    const uint8_t *p = r->p;
    size_t avail = (size_t)(r->end - p);
    if (__builtin_expect(avail >= 2, 1)) {
        uint8_t c = p[0];
        size_t len;
        if ((c & 0xe0) == 0xa0) {
            len = c & 0x1f;
            p += 1;
        } else if (c == 0xd9) {
            len = p[1];
            p += 2;
        } else if (c <= 0x7f) {
            v->type = PLUME_MP_UINT;
            v->u = c;
            v->s = NULL;
            v->len = 0;
            v->ext_type = 0;
            r->p = p + 1;
            return true;
        } else if (c == 0xcf && avail >= 9) {
            uint64_t u = 0;
            for (int i = 1; i <= 8; i++)
                u = (u << 8) | p[i];
            v->type = PLUME_MP_UINT;
            v->u = u;
            v->s = NULL;
            v->len = 0;
            v->ext_type = 0;
            r->p = p + 9;
            return true;
        } else {
            return plume_mp_read(r, v);
        }
        if (len <= (size_t)(r->end - p)) {
            v->type = PLUME_MP_STR;
            v->u = 0;
            v->s = (const char *)p;
            v->len = (uint32_t)len;
            v->ext_type = 0;
            r->p = p + len;
            return true;
        }
    }
    return plume_mp_read(r, v);
}

/* One pass over the top-level map. Containers are skipped whole (and must be
 * well-formed); "fields" and "error" are the only keys whose containers are
 * kept (both must be maps). Values of
 * an unexpected scalar type make the event invalid, except for "truncated"
 * (anything but true means false) and unknown keys. */
bool plume_event_view(const uint8_t *p, size_t n, plume_event_view_t *ev)
{
    plume_mp_reader_t r;
    plume_mp_value_t v, k, val;
    memset(ev, 0, sizeof(*ev));
    ev->level = PLUME_LEVEL_NONE;
    plume_mp_reader_init(&r, p, n);
    if (!plume_mp_read(&r, &v) || v.type != PLUME_MP_MAP)
        return false;
    for (uint32_t i = 0; i < v.count; i++) {
        if (!read_value(&r, &k) || k.type != PLUME_MP_STR)
            return false;
        const uint8_t *vstart = r.p;
        if (!read_value(&r, &val))
            return false;
        int id = key_id(&k);
        if (val.type == PLUME_MP_ARRAY || val.type == PLUME_MP_MAP) {
            r.p = vstart;
            if (!plume_mp_skip(&r))
                return false;
            if (id == K_FIELDS || id == K_ERROR) {
                if (val.type != PLUME_MP_MAP)
                    return false;
                if (id == K_FIELDS) {
                    ev->fields = vstart;
                    ev->fields_len = (size_t)(r.p - vstart);
                } else {
                    ev->error = vstart;
                    ev->error_len = (size_t)(r.p - vstart);
                }
            }
            continue;
        }
        switch (id) {
        case K_TIME:
            if (val.type != PLUME_MP_UINT)
                return false;
            ev->time_ns = val.u;
            break;
        case K_LEVEL:
            if (val.type != PLUME_MP_STR)
                return false;
            ev->level = plume_level_parse(val.s, val.len);
            break;
        case K_MESSAGE:
            if (val.type != PLUME_MP_STR)
                return false;
            ev->message = val.s;
            ev->message_len = val.len;
            break;
        case K_ORIGIN:
            if (val.type != PLUME_MP_STR)
                return false;
            ev->origin = val.s;
            ev->origin_len = val.len;
            break;
        case K_FIELDS:
        case K_ERROR:
            if (val.type != PLUME_MP_NIL) /* nil: none */
                return false;
            break;
        case K_FIELDS_JSON:
            if (val.type == PLUME_MP_NIL)
                break;
            if (val.type != PLUME_MP_STR || val.len < 2 || val.s[0] != '{' ||
                val.s[val.len - 1] != '}')
                return false;
            ev->fields_json = val.s;
            ev->fields_json_len = val.len;
            break;
        case K_HINTS:
            if (val.type != PLUME_MP_UINT)
                return false;
            ev->hints = (unsigned)(val.u & PLUME_HINT_ALL);
            break;
        case K_TRUNCATED:
            ev->truncated = val.type == PLUME_MP_BOOL && val.b;
            break;
        case K_PARSE_ERROR:
            if (val.type != PLUME_MP_STR)
                return false;
            ev->parse_error = val.s;
            ev->parse_error_len = val.len;
            break;
        default:
            break;
        }
    }
    return !(ev->fields && ev->fields_json);
}

bool plume_event_write(plume_buf_t *out, const plume_event_view_t *ev)
{
    plume_event_builder_t eb;
    plume_event_begin(&eb, out, ev->time_ns);
    if (ev->origin) {
        ADD_KEY(&eb, "origin");
        plume_mp_str(out, ev->origin, ev->origin_len);
    }
    if (ev->hints)
        plume_event_set_hints(&eb, ev->hints);
    if (ev->fields_json) {
        plume_event_set_fields_json(&eb, ev->fields_json, ev->fields_json_len);
    } else if (ev->fields) {
        ADD_KEY(&eb, "fields");
        plume_buf_append(out, ev->fields, ev->fields_len);
    }
    plume_event_set_level(&eb, ev->level);
    if (ev->message)
        plume_event_set_message(&eb, ev->message, ev->message_len);
    if (ev->truncated)
        plume_event_set_truncated(&eb);
    if (ev->parse_error) {
        ADD_KEY(&eb, "parse_error");
        plume_mp_str(out, ev->parse_error, ev->parse_error_len);
    }
    if (ev->error)
        plume_event_set_error(&eb, ev->error, ev->error_len);
    return plume_event_end(&eb);
}

uint64_t plume_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool plume_event_fields_mp(const plume_event_view_t *ev, plume_buf_t *tmp, const uint8_t **map,
                           size_t *len)
{
    *map = ev->fields;
    *len = ev->fields_len;
    if (!ev->fields_json)
        return true;
    if (!plume_json_to_mp(ev->fields_json, ev->fields_json_len, tmp, NULL))
        return false;
    *map = tmp->data;
    *len = tmp->len;
    return true;
}
