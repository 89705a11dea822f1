/* SPDX-License-Identifier: MIT */
/* Event builder and reader. See event.h and docs/event-schema.md. */
#include "event.h"

#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const level_names[] = {"trace", "debug", "info", "warn", "error", "fatal"};

const char *plume_level_name(plume_level_t l)
{
    if (l < PLUME_LEVEL_TRACE || l > PLUME_LEVEL_FATAL)
        return NULL;
    return level_names[l];
}

plume_level_t plume_level_parse(const char *s, size_t n)
{
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
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strlen(table[i].name) == n && strncasecmp(table[i].name, s, n) == 0)
            return table[i].level;
    return PLUME_LEVEL_NONE;
}

static void add_key(plume_event_builder_t *eb, const char *key)
{
    plume_mp_cstr(eb->buf, key);
    eb->count++;
}

void plume_event_begin(plume_event_builder_t *eb, plume_buf_t *buf, uint64_t time_ns)
{
    memset(eb, 0, sizeof(*eb));
    eb->buf = buf;
    eb->start = buf->len;
    eb->map_off = plume_mp_map_begin(buf);
    add_key(eb, "time");
    plume_mp_uint(buf, time_ns);
}

void plume_event_set_level(plume_event_builder_t *eb, plume_level_t l)
{
    const char *name = plume_level_name(l);
    if (!name)
        return;
    add_key(eb, "level");
    plume_mp_cstr(eb->buf, name);
}

void plume_event_set_message(plume_event_builder_t *eb, const char *s, size_t n)
{
    add_key(eb, "message");
    plume_mp_str(eb->buf, s, n);
}

void plume_event_set_origin(plume_event_builder_t *eb, const char *origin)
{
    add_key(eb, "origin");
    plume_mp_cstr(eb->buf, origin);
}

void plume_event_set_truncated(plume_event_builder_t *eb)
{
    add_key(eb, "truncated");
    plume_mp_bool(eb->buf, true);
}

void plume_event_set_parse_error(plume_event_builder_t *eb, const char *s)
{
    add_key(eb, "parse_error");
    plume_mp_cstr(eb->buf, s);
}

void plume_event_fields_begin(plume_event_builder_t *eb)
{
    add_key(eb, "fields");
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

bool plume_event_view(const uint8_t *p, size_t n, plume_event_view_t *ev)
{
    plume_mp_reader_t r;
    plume_mp_value_t v, k;
    memset(ev, 0, sizeof(*ev));
    ev->level = PLUME_LEVEL_NONE;
    plume_mp_reader_init(&r, p, n);
    if (!plume_mp_read(&r, &v) || v.type != PLUME_MP_MAP)
        return false;
    for (uint32_t i = 0; i < v.count; i++) {
        if (!plume_mp_read(&r, &k) || k.type != PLUME_MP_STR)
            return false;
        const uint8_t *vstart = r.p;
        plume_mp_value_t val;
        if (plume_mp_str_eq(&k, "fields")) {
            if (!plume_mp_skip(&r))
                return false;
            if (*vstart == 0xc0)
                continue;
            ev->fields = vstart;
            ev->fields_len = (size_t)(r.p - vstart);
            plume_mp_reader_t fr;
            plume_mp_reader_init(&fr, vstart, ev->fields_len);
            if (!plume_mp_read(&fr, &val) || val.type != PLUME_MP_MAP)
                return false;
            continue;
        }
        if (!plume_mp_read(&r, &val))
            return false;
        if (val.type == PLUME_MP_ARRAY || val.type == PLUME_MP_MAP) {
            r.p = vstart;
            if (!plume_mp_skip(&r))
                return false;
            continue;
        }
        if (plume_mp_str_eq(&k, "time")) {
            if (val.type != PLUME_MP_UINT)
                return false;
            ev->time_ns = val.u;
        } else if (plume_mp_str_eq(&k, "level")) {
            if (val.type != PLUME_MP_STR)
                return false;
            ev->level = plume_level_parse(val.s, val.len);
        } else if (plume_mp_str_eq(&k, "message")) {
            if (val.type != PLUME_MP_STR)
                return false;
            ev->message = val.s;
            ev->message_len = val.len;
        } else if (plume_mp_str_eq(&k, "origin")) {
            if (val.type != PLUME_MP_STR)
                return false;
            ev->origin = val.s;
            ev->origin_len = val.len;
        } else if (plume_mp_str_eq(&k, "truncated")) {
            ev->truncated = val.type == PLUME_MP_BOOL && val.b;
        } else if (plume_mp_str_eq(&k, "parse_error")) {
            if (val.type != PLUME_MP_STR)
                return false;
            ev->parse_error = val.s;
            ev->parse_error_len = val.len;
        }
    }
    return true;
}

uint64_t plume_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
