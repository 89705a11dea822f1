/* SPDX-License-Identifier: MIT */
/* Pipeline events -> Sentry log entries. See sentry_log.h. */
#include "sentry_log.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json_write.h"
#include "mp.h"

#define MAX_FIELDS_MP (8u << 20) /* fields_json converted to msgpack, at most */
#define MAX_ATTRIBUTES 256       /* distinct keys tracked for "first one wins" */

static void put_lit(plume_buf_t *b, const char *s) { plume_buf_append(b, s, strlen(s)); }

/* Keys written so far (pointers into the event or literals). */
typedef struct seen {
    const char *key[MAX_ATTRIBUTES];
    size_t len[MAX_ATTRIBUTES];
    size_t n;
} seen_t;

/* True when key was already written; else remembers it (when there is room;
 * past MAX_ATTRIBUTES keys a repeat is not detected and may be written twice,
 * which receivers resolve as the last one wins). */
static bool seen_before(seen_t *s, const char *key, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->len[i] == len && memcmp(s->key[i], key, len) == 0)
            return true;
    if (s->n < MAX_ATTRIBUTES) {
        s->key[s->n] = key;
        s->len[s->n++] = len;
    }
    return false;
}

static void attr_begin(plume_buf_t *b, const char *key, size_t len)
{
    plume_buf_append_byte(b, ',');
    plume_json_write_str(b, key, len);
    put_lit(b, ":{\"value\":");
}

static void attr_string(plume_buf_t *b, seen_t *seen, const char *key, const char *v, size_t vlen)
{
    if (!v || seen_before(seen, key, strlen(key)))
        return;
    attr_begin(b, key, strlen(key));
    plume_json_write_str(b, v, vlen);
    put_lit(b, ",\"type\":\"string\"}");
}

/* The attribute name a user key is sent under: the Sentry spelling for the
 * keys that have one. */
static void attr_name(const plume_mp_value_t *k, const char **name, size_t *len)
{
    static const struct {
        const char *user, *sentry;
    } renamed[] = {{"release", "sentry.release"},
                   {"environment", "sentry.environment"},
                   {"server_name", "server.address"}};
    for (size_t i = 0; i < sizeof(renamed) / sizeof(renamed[0]); i++)
        if (plume_mp_str_eq(k, renamed[i].user)) {
            *name = renamed[i].sentry;
            *len = strlen(renamed[i].sentry);
            return;
        }
    *name = k->s;
    *len = k->len;
}

/* Writes one user field as an attribute; r is at its value. False when the
 * value is malformed (the caller stops). */
static bool write_field(plume_buf_t *b, seen_t *seen, const plume_mp_value_t *k,
                        plume_mp_reader_t *r)
{
    const char *name;
    size_t nlen;
    attr_name(k, &name, &nlen);
    if (seen_before(seen, name, nlen))
        return plume_mp_skip(r);
    plume_mp_reader_t peek = *r;
    plume_mp_value_t v;
    if (!plume_mp_read(&peek, &v))
        return false;
    const char *type = "string";
    char num[32];
    size_t n;
    switch (v.type) {
    case PLUME_MP_STR:
        attr_begin(b, name, nlen);
        plume_json_write_str(b, v.s, v.len);
        break;
    case PLUME_MP_BOOL:
        attr_begin(b, name, nlen);
        put_lit(b, v.b ? "true" : "false");
        type = "boolean";
        break;
    case PLUME_MP_INT:
        attr_begin(b, name, nlen);
        plume_buf_append(b, num, plume_json_format_i64(v.i, num));
        type = "integer";
        break;
    case PLUME_MP_UINT:
        attr_begin(b, name, nlen);
        n = plume_json_format_u64(v.u, num);
        if (v.u <= INT64_MAX) {
            plume_buf_append(b, num, n);
            type = "integer";
        } else {
            plume_json_write_str(b, num, n);
        }
        break;
    case PLUME_MP_FLOAT:
        attr_begin(b, name, nlen);
        if (isfinite(v.f)) {
            plume_buf_append(b, num, plume_json_format_double(v.f, false, num));
            type = "double";
        } else {
            put_lit(b, isnan(v.f) ? "\"NaN\"" : v.f > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        }
        break;
    default: { /* nil, arrays, maps, bin: their JSON text as a string */
        plume_buf_t tmp;
        plume_buf_init(&tmp, b->max);
        plume_mp_reader_t copy = *r;
        bool ok = plume_json_write_mp(&tmp, &copy) && !tmp.failed;
        if (ok) {
            attr_begin(b, name, nlen);
            plume_json_write_str(b, (const char *)tmp.data, tmp.len);
        }
        plume_buf_free(&tmp);
        if (!ok)
            return false;
        break;
    }
    }
    put_lit(b, ",\"type\":\"");
    put_lit(b, type);
    put_lit(b, "\"}");
    return plume_mp_skip(r);
}

static bool write_fields(plume_buf_t *b, seen_t *seen, const uint8_t *map, size_t len)
{
    plume_mp_reader_t r;
    plume_mp_value_t m, k;
    plume_mp_reader_init(&r, map, len);
    if (!plume_mp_read(&r, &m) || m.type != PLUME_MP_MAP)
        return false;
    for (uint32_t i = 0; i < m.count; i++) {
        if (!plume_mp_read(&r, &k))
            return false;
        if (k.type != PLUME_MP_STR) {
            if (!plume_mp_skip(&r))
                return false;
            continue;
        }
        if (!write_field(b, seen, &k, &r))
            return false;
    }
    return true;
}

bool plume_sentry_log_json(plume_buf_t *b, const plume_event_view_t *ev, const char *trace_id,
                           const plume_sentry_event_opts_t *opts)
{
    size_t start = b->len;
    plume_buf_t tmp;
    plume_buf_init(&tmp, MAX_FIELDS_MP);
    const uint8_t *fields;
    size_t fields_len;
    if (!plume_event_fields_mp(ev, &tmp, &fields, &fields_len))
        goto fail;
    char num[48];
    put_lit(b, "{\"timestamp\":");
    /* seconds.microseconds: exact in a double until 2106 at that precision */
    int n = snprintf(num, sizeof(num), "%" PRIu64 ".%06" PRIu64, ev->time_ns / 1000000000u,
                     (ev->time_ns % 1000000000u) / 1000u);
    plume_buf_append(b, num, (size_t)n);
    put_lit(b, ",\"trace_id\":\"");
    put_lit(b, trace_id);
    put_lit(b, "\",\"level\":\"");
    put_lit(b, plume_level_name(ev->level == PLUME_LEVEL_NONE ? PLUME_LEVEL_INFO : ev->level));
    put_lit(b, "\",\"body\":");
    plume_json_write_str(b, ev->message ? ev->message : "", ev->message ? ev->message_len : 0);
    put_lit(b, ",\"attributes\":{");
    size_t attrs = b->len;
    seen_t seen;
    seen.n = 0; /* only the first n entries are read */
    if (fields && !write_fields(b, &seen, fields, fields_len))
        goto fail;
    if (opts) {
        attr_string(b, &seen, "sentry.release", opts->release, opts->release ? strlen(opts->release) : 0);
        attr_string(b, &seen, "sentry.environment", opts->environment,
                    opts->environment ? strlen(opts->environment) : 0);
        attr_string(b, &seen, "server.address", opts->server_name,
                    opts->server_name ? strlen(opts->server_name) : 0);
    }
    const char *ver = opts && opts->sdk_version ? opts->sdk_version : PLUME_VERSION;
    attr_string(b, &seen, "sentry.sdk.name", "plume.native", 12);
    attr_string(b, &seen, "sentry.sdk.version", ver, strlen(ver));
    if (ev->origin)
        attr_string(b, &seen, "plume.origin", ev->origin, ev->origin_len);
    if (b->len > attrs && !b->failed)
        b->data[attrs] = ' '; /* the first attribute's leading comma */
    put_lit(b, "}}");
    return plume_sentry_json_finish(b, start, &tmp, true);
fail:
    return plume_sentry_json_finish(b, start, &tmp, false);
}
