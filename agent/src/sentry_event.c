/* SPDX-License-Identifier: MIT */
/* Pipeline events -> Sentry event JSON (see sentry_event.h for the mapping).
 *
 * The user fields are read as msgpack (an event's fields_json is converted
 * first: Sentry events are few, so the cost does not matter). One pass finds
 * the keys that have a Sentry place (first occurrence with the right type
 * wins); a second writes every other key into `extra`, so no key is lost and
 * none appears twice. */
#include <string.h>

#include "json_write.h"
#include "mp.h"
#include "sentry_event.h"
#include "time_format.h"

#define MAX_FIELDS_MP (8u << 20) /* fields_json converted to msgpack, at most */

/* The user-field keys that have a place of their own in a Sentry event. */
enum {
    F_RELEASE, F_ENVIRONMENT, F_SERVER_NAME, F_DIST, F_TAGS, F_USER, F_CONTEXTS,
    F_BREADCRUMBS, F_THREAD_ID, F_THREAD_NAME, F_COUNT
};
static const char *const FIELD_NAMES[F_COUNT] = {
    "release", "environment", "server_name", "dist",     "tags",
    "user",    "contexts",    "breadcrumbs", "thread.id", "thread.name"};
static const plume_mp_type_t FIELD_TYPES[F_COUNT] = {
    PLUME_MP_STR, PLUME_MP_STR, PLUME_MP_STR,   PLUME_MP_STR,  PLUME_MP_MAP,
    PLUME_MP_MAP, PLUME_MP_MAP, PLUME_MP_ARRAY, PLUME_MP_UINT, PLUME_MP_STR};

typedef struct placed {
    const uint8_t *at[F_COUNT]; /* the value's first byte; NULL: absent */
    const uint8_t *end;         /* end of the fields map */
} placed_t;

const char *plume_sentry_level(plume_level_t level)
{
    switch (level) {
    case PLUME_LEVEL_TRACE:
    case PLUME_LEVEL_DEBUG: return "debug";
    case PLUME_LEVEL_WARN: return "warning";
    case PLUME_LEVEL_ERROR: return "error";
    case PLUME_LEVEL_FATAL: return "fatal";
    default: return "info";
    }
}

static void put_lit(plume_buf_t *b, const char *s) { plume_buf_append(b, s, strlen(s)); }

/* Which F_* key k is (-1: none). */
static int field_id(const plume_mp_value_t *k)
{
    for (int i = 0; i < F_COUNT; i++)
        if (plume_mp_str_eq(k, FIELD_NAMES[i]))
            return i;
    return -1;
}

/* The value at r's type, without moving r. */
static bool peek_type(const plume_mp_reader_t *r, plume_mp_value_t *v)
{
    plume_mp_reader_t peek = *r;
    return plume_mp_read(&peek, v);
}

/* Pass one: where each placed key's value is (first one of the right type). */
static bool find_placed(const uint8_t *map, size_t len, placed_t *pl, uint32_t *count)
{
    plume_mp_reader_t r;
    plume_mp_value_t v, k;
    memset(pl, 0, sizeof(*pl));
    plume_mp_reader_init(&r, map, len);
    if (!plume_mp_read(&r, &v) || v.type != PLUME_MP_MAP)
        return false;
    *count = v.count;
    for (uint32_t i = 0; i < v.count; i++) {
        if (!plume_mp_read(&r, &k))
            return false;
        plume_mp_value_t val;
        if (!peek_type(&r, &val))
            return false;
        int id = k.type == PLUME_MP_STR ? field_id(&k) : -1;
        if (id >= 0 && !pl->at[id] && val.type == FIELD_TYPES[id])
            pl->at[id] = r.p;
        if (!plume_mp_skip(&r))
            return false;
    }
    pl->end = r.end;
    return r.p == r.end;
}

/* "name":<str at p> */
static void put_placed_str(plume_buf_t *b, const char *name, const uint8_t *p, const uint8_t *end)
{
    plume_mp_reader_t r;
    plume_mp_value_t v;
    plume_mp_reader_init(&r, p, (size_t)(end - p));
    if (!plume_mp_read(&r, &v) || v.type != PLUME_MP_STR)
        return;
    plume_buf_append_byte(b, ',');
    plume_json_write_str(b, name, strlen(name));
    plume_buf_append_byte(b, ':');
    plume_json_write_str(b, v.s, v.len);
}

/* A scalar as the text of a JSON string (tags and user ids are strings in
 * Sentry). False for containers, nil and binary. */
static bool put_scalar_as_string(plume_buf_t *b, plume_mp_reader_t *r)
{
    plume_mp_value_t v;
    if (!peek_type(r, &v))
        return false;
    if (v.type == PLUME_MP_STR) {
        plume_mp_read(r, &v);
        plume_json_write_str(b, v.s, v.len);
        return true;
    }
    if (v.type != PLUME_MP_INT && v.type != PLUME_MP_UINT && v.type != PLUME_MP_FLOAT &&
        v.type != PLUME_MP_BOOL)
        return false;
    plume_buf_append_byte(b, '"');
    bool ok = plume_json_write_mp(b, r); /* numbers and booleans need no escaping */
    plume_buf_append_byte(b, '"');
    return ok;
}

/* A map of scalars as ,"member":{"k":"text",...} (tags, user): keys that are
 * strings (and in `known`, when given) with scalar values; the rest left out. */
static bool write_string_map(plume_buf_t *b, const char *member, const uint8_t *p,
                             const uint8_t *end, const char *const *known, size_t nknown)
{
    plume_mp_reader_t r;
    plume_mp_value_t m, k;
    plume_mp_reader_init(&r, p, (size_t)(end - p));
    if (!plume_mp_read(&r, &m))
        return false;
    plume_buf_append_byte(b, ',');
    plume_json_write_str(b, member, strlen(member));
    put_lit(b, ":{");
    bool first = true;
    for (uint32_t i = 0; i < m.count; i++) {
        if (!plume_mp_read(&r, &k))
            return false;
        bool wanted = k.type == PLUME_MP_STR && !known;
        for (size_t j = 0; known && j < nknown; j++)
            wanted |= plume_mp_str_eq(&k, known[j]);
        size_t mark = b->len;
        if (wanted) {
            if (!first)
                plume_buf_append_byte(b, ',');
            plume_json_write_str(b, k.s, k.len);
            plume_buf_append_byte(b, ':');
            if (put_scalar_as_string(b, &r)) {
                first = false;
                continue;
            }
            b->len = mark;
        }
        if (!plume_mp_skip(&r))
            return false;
    }
    plume_buf_append_byte(b, '}');
    return true;
}

/* contexts: {name: map} as JSON; other values left out. */
static bool write_contexts(plume_buf_t *b, const uint8_t *p, const uint8_t *end)
{
    plume_mp_reader_t r;
    plume_mp_value_t m, k, v;
    plume_mp_reader_init(&r, p, (size_t)(end - p));
    if (!plume_mp_read(&r, &m))
        return false;
    put_lit(b, ",\"contexts\":{");
    bool first = true;
    for (uint32_t i = 0; i < m.count; i++) {
        if (!plume_mp_read(&r, &k) || !peek_type(&r, &v))
            return false;
        if (k.type != PLUME_MP_STR || v.type != PLUME_MP_MAP) {
            if (!plume_mp_skip(&r))
                return false;
            continue;
        }
        if (!first)
            plume_buf_append_byte(b, ',');
        first = false;
        plume_json_write_str(b, k.s, k.len);
        plume_buf_append_byte(b, ':');
        if (!plume_json_write_mp(b, &r))
            return false;
    }
    plume_buf_append_byte(b, '}');
    return true;
}

/* One breadcrumb map: timestamp, type, category, message (strings), level
 * (Sentry's spelling), data (a map); other keys left out. */
static bool write_breadcrumb(plume_buf_t *b, plume_mp_reader_t *r, uint32_t n)
{
    plume_buf_append_byte(b, '{');
    bool first = true;
    for (uint32_t i = 0; i < n; i++) {
        plume_mp_value_t k, v;
        if (!plume_mp_read(r, &k) || !peek_type(r, &v))
            return false;
        bool str_key = plume_mp_str_eq(&k, "timestamp") || plume_mp_str_eq(&k, "type") ||
                       plume_mp_str_eq(&k, "category") || plume_mp_str_eq(&k, "message");
        bool level = plume_mp_str_eq(&k, "level");
        bool data = plume_mp_str_eq(&k, "data");
        if (!((str_key || level) && v.type == PLUME_MP_STR) && !(data && v.type == PLUME_MP_MAP)) {
            if (!plume_mp_skip(r))
                return false;
            continue;
        }
        if (!first)
            plume_buf_append_byte(b, ',');
        first = false;
        plume_json_write_str(b, k.s, k.len);
        plume_buf_append_byte(b, ':');
        if (level) {
            plume_mp_read(r, &v);
            const char *l = plume_sentry_level(plume_level_parse(v.s, v.len));
            plume_json_write_str(b, l, strlen(l));
        } else if (!plume_json_write_mp(b, r)) {
            return false;
        }
    }
    plume_buf_append_byte(b, '}');
    return true;
}

static bool write_breadcrumbs(plume_buf_t *b, const uint8_t *p, const uint8_t *end)
{
    plume_mp_reader_t r;
    plume_mp_value_t a, m;
    plume_mp_reader_init(&r, p, (size_t)(end - p));
    if (!plume_mp_read(&r, &a))
        return false;
    put_lit(b, ",\"breadcrumbs\":{\"values\":[");
    bool first = true;
    for (uint32_t i = 0; i < a.count; i++) {
        if (!peek_type(&r, &m))
            return false;
        if (m.type != PLUME_MP_MAP) {
            if (!plume_mp_skip(&r))
                return false;
            continue;
        }
        plume_mp_read(&r, &m);
        if (!first)
            plume_buf_append_byte(b, ',');
        first = false;
        if (!write_breadcrumb(b, &r, m.count))
            return false;
    }
    put_lit(b, "]}");
    return true;
}

/* Pass two: every key not placed, into "extra". */
static bool write_extra(plume_buf_t *b, const uint8_t *map, size_t len, const placed_t *pl)
{
    plume_mp_reader_t r;
    plume_mp_value_t m;
    plume_mp_reader_init(&r, map, len);
    if (!plume_mp_read(&r, &m))
        return false;
    bool first = true;
    for (uint32_t i = 0; i < m.count; i++) {
        plume_mp_reader_t key_at = r;
        plume_mp_value_t k;
        if (!plume_mp_read(&r, &k))
            return false;
        int id = k.type == PLUME_MP_STR ? field_id(&k) : -1;
        if (id >= 0 && pl->at[id] == r.p) {
            if (!plume_mp_skip(&r))
                return false;
            continue;
        }
        put_lit(b, first ? ",\"extra\":{" : ",");
        first = false;
        r = key_at;
        if (!plume_json_write_mp_key(b, &r))
            return false;
        plume_buf_append_byte(b, ':');
        if (!plume_json_write_mp(b, &r))
            return false;
    }
    if (!first)
        plume_buf_append_byte(b, '}');
    return true;
}

static bool write_threads(plume_buf_t *b, const placed_t *pl, bool crashed)
{
    if (!pl->at[F_THREAD_ID])
        return true;
    plume_mp_reader_t r;
    plume_mp_value_t v;
    plume_mp_reader_init(&r, pl->at[F_THREAD_ID], (size_t)(pl->end - pl->at[F_THREAD_ID]));
    if (!plume_mp_read(&r, &v))
        return false;
    char num[24];
    put_lit(b, ",\"threads\":{\"values\":[{\"id\":");
    plume_buf_append(b, num, plume_json_format_u64(v.u, num));
    if (pl->at[F_THREAD_NAME])
        put_placed_str(b, "name", pl->at[F_THREAD_NAME], pl->end);
    put_lit(b, crashed ? ",\"current\":true,\"crashed\":true}]}" : ",\"current\":true}]}");
    return true;
}

/* The members that come from the user fields map (msgpack). */
static bool write_from_fields(plume_buf_t *b, const uint8_t *map, size_t len,
                              const plume_sentry_event_opts_t *opts, bool crashed)
{
    placed_t pl;
    uint32_t count = 0;
    if (!map) {
        memset(&pl, 0, sizeof(pl));
    } else if (!find_placed(map, len, &pl, &count)) {
        return false;
    }
    const char *defaults[3] = {opts ? opts->release : NULL, opts ? opts->environment : NULL,
                               opts ? opts->server_name : NULL};
    for (int i = F_RELEASE; i <= F_DIST; i++) {
        if (pl.at[i]) {
            put_placed_str(b, FIELD_NAMES[i], pl.at[i], pl.end);
        } else if (i < 3 && defaults[i]) {
            plume_buf_append_byte(b, ',');
            plume_json_write_str(b, FIELD_NAMES[i], strlen(FIELD_NAMES[i]));
            plume_buf_append_byte(b, ':');
            plume_json_write_str(b, defaults[i], strlen(defaults[i]));
        }
    }
    static const char *const user_keys[] = {"id", "email", "ip_address", "username", "name"};
    if (pl.at[F_TAGS] && !write_string_map(b, "tags", pl.at[F_TAGS], pl.end, NULL, 0))
        return false;
    if (pl.at[F_USER] && !write_string_map(b, "user", pl.at[F_USER], pl.end, user_keys,
                                           sizeof(user_keys) / sizeof(user_keys[0])))
        return false;
    if (pl.at[F_CONTEXTS] && !write_contexts(b, pl.at[F_CONTEXTS], pl.end))
        return false;
    if (pl.at[F_BREADCRUMBS] && !write_breadcrumbs(b, pl.at[F_BREADCRUMBS], pl.end))
        return false;
    if (map && !write_extra(b, map, len, &pl))
        return false;
    return write_threads(b, &pl, crashed);
}

static bool is_crash(const plume_event_view_t *ev)
{
    return ev->origin && ev->origin_len == 5 && memcmp(ev->origin, "crash", 5) == 0;
}

bool plume_sentry_event_json(plume_buf_t *b, const plume_event_view_t *ev,
                             const char *event_id, const plume_sentry_event_opts_t *opts)
{
    size_t start = b->len;
    plume_buf_t tmp;
    plume_buf_init(&tmp, MAX_FIELDS_MP);
    const uint8_t *fields;
    size_t fields_len;
    if (!plume_event_fields_mp(ev, &tmp, &fields, &fields_len))
        goto fail;
    char ts[PLUME_TIME_FORMAT_MAX];
    size_t tn = plume_time_format_rfc3339(ev->time_ns, ts);
    put_lit(b, "{\"event_id\":\"");
    put_lit(b, event_id);
    put_lit(b, "\",\"timestamp\":\"");
    plume_buf_append(b, ts, tn);
    put_lit(b, "\",\"platform\":\"native\",\"level\":\"");
    put_lit(b, plume_sentry_level(ev->level == PLUME_LEVEL_NONE ? PLUME_LEVEL_ERROR : ev->level));
    put_lit(b, "\",\"logger\":\"plume");
    if (ev->origin) {
        plume_buf_append_byte(b, '.');
        plume_json_write_escaped(b, ev->origin, ev->origin_len);
    }
    plume_buf_append_byte(b, '"');
    if (ev->message) {
        put_lit(b, ",\"logentry\":{\"formatted\":");
        plume_json_write_str(b, ev->message, ev->message_len);
        plume_buf_append_byte(b, '}');
    }
    if (!write_from_fields(b, fields, fields_len, opts, is_crash(ev)))
        goto fail;
    if (ev->error) {
        uint64_t tid = 0;
        bool has_tid = false;
        if (!plume_sentry_write_exception(b, ev->error, ev->error_len, &tid, &has_tid))
            goto fail;
    }
    put_lit(b, ",\"sdk\":{\"name\":\"plume.native\",\"version\":");
    const char *ver = opts && opts->sdk_version ? opts->sdk_version : PLUME_VERSION;
    plume_json_write_str(b, ver, strlen(ver));
    put_lit(b, "}}");
    return plume_sentry_json_finish(b, start, &tmp, true);
fail:
    return plume_sentry_json_finish(b, start, &tmp, false);
}

bool plume_sentry_json_finish(plume_buf_t *b, size_t start, plume_buf_t *tmp, bool ok)
{
    plume_buf_free(tmp);
    if (!ok || b->failed) {
        b->len = start;
        return false;
    }
    return true;
}
