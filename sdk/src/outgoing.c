/* SPDX-License-Identifier: MIT */
/* The event a before_send callback sees and edits: the plume_outgoing_*
 * accessors of plume.h, and the write-back of their edits (emit.h).
 *
 * Level and message are plain values. The fields are work: they come as the
 * text of a JSON object (fields_json, the SDK's own events) or as a msgpack
 * map (fields), and are turned into msgpack key/value pairs only when the
 * callback first reads or edits one, so a callback that looks at the level
 * alone costs a copy of nothing. Edited pairs are written back in the form
 * they came in, scrubbed again (scrub.h) and with their hints recomputed.
 * Numbers written back from JSON may change spelling (1.50 becomes 1.5). */
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "json_parse.h"
#include "json_write.h"
#include "mp.h"
#include "record.h"

#define MESSAGE_MAX (1u << 20)   /* a message set by the callback */
#define PAIRS_MAX (64u << 20)    /* the fields as msgpack */
#define STRINGS_MAX 4096u        /* strings handed out by get_field per event */

void plume_outgoing_init(plume_outgoing_t *g, const plume_scrub_t *scrub)
{
    memset(g, 0, sizeof(*g));
    g->scrub = scrub;
    plume_buf_init(&g->message, MESSAGE_MAX + 1);
    plume_buf_init(&g->pairs, PAIRS_MAX);
}

/* Frees the strings get_field handed out for the last event. */
static void free_strings(plume_outgoing_t *g)
{
    for (uint32_t i = 0; i < g->nstrings; i++)
        free(g->strings[i]);
    g->nstrings = 0;
}

void plume_outgoing_reset(plume_outgoing_t *g, const plume_event_view_t *ev)
{
    free_strings(g);
    if (ev)
        g->ev = *ev;
    else
        memset(&g->ev, 0, sizeof(g->ev));
    plume_buf_reset(&g->message);
    plume_buf_reset(&g->pairs);
    g->npairs = 0;
    g->message_ready = g->message_null = false;
    g->pairs_ready = g->pairs_bad = false;
    g->fields_edited = g->level_edited = g->message_edited = false;
}

void plume_outgoing_free(plume_outgoing_t *g)
{
    free_strings(g);
    free(g->strings);
    plume_buf_free(&g->message);
    plume_buf_free(&g->pairs);
    memset(g, 0, sizeof(*g));
}

PLUME_API plume_level_t plume_outgoing_level(const plume_outgoing_t *g)
{
    return g ? g->ev.level : PLUME_LEVEL_NONE;
}

PLUME_API int plume_outgoing_is_error(const plume_outgoing_t *g)
{
    return g && g->ev.error != NULL;
}

PLUME_API const char *plume_outgoing_message(const plume_outgoing_t *event)
{
    if (!event)
        return NULL;
    /* The NUL-terminated copy is made on first use; the struct is the
     * emitter's scratch, so filling it in here is safe. */
    plume_outgoing_t *g = (plume_outgoing_t *)event;
    if (!g->message_ready) {
        g->message_ready = true;
        g->message_null = g->ev.message == NULL;
        if (!g->message_null) {
            plume_buf_reset(&g->message);
            plume_buf_append(&g->message, g->ev.message, g->ev.message_len);
            plume_buf_append_byte(&g->message, 0);
            if (g->message.failed) { /* too long to copy: shown cut to nothing */
                plume_buf_reset(&g->message);
                plume_buf_append_byte(&g->message, 0);
            }
        }
    }
    return g->message_null ? NULL : (const char *)g->message.data;
}

PLUME_API plume_status_t plume_outgoing_set_level(plume_outgoing_t *g, plume_level_t level)
{
    if (!g || (int)level < PLUME_LEVEL_TRACE || level > PLUME_LEVEL_FATAL)
        return PLUME_EINVAL;
    g->ev.level = level;
    g->level_edited = true;
    return PLUME_OK;
}

PLUME_API plume_status_t plume_outgoing_set_message(plume_outgoing_t *g, const char *message)
{
    if (!g)
        return PLUME_EINVAL;
    if (!message) {
        g->message_null = true;
    } else {
        size_t n = strnlen(message, MESSAGE_MAX + 1);
        if (n > MESSAGE_MAX)
            return PLUME_EINVAL;
        plume_buf_reset(&g->message);
        plume_buf_append(&g->message, message, n);
        plume_buf_append_byte(&g->message, 0);
        if (g->message.failed)
            return PLUME_ENOMEM;
        g->message_null = false;
    }
    g->message_ready = true;
    g->message_edited = true;
    return PLUME_OK;
}

/* Makes g->pairs hold the event's fields as msgpack pairs (no header).
 * False when they cannot be read (then every field call fails). */
static bool load_pairs(plume_outgoing_t *g)
{
    if (g->pairs_ready)
        return !g->pairs_bad;
    g->pairs_ready = true;
    plume_buf_reset(&g->pairs);
    g->npairs = 0;
    if (g->ev.fields_json) {
        plume_json_error_t err;
        uint32_t kept = 0;
        if (!plume_json_object_walk(g->ev.fields_json, g->ev.fields_json_len, &g->pairs, NULL,
                                    NULL, NULL, &kept, &err)) {
            g->pairs_bad = true;
            return false;
        }
        g->npairs = kept;
    } else if (g->ev.fields) {
        plume_mp_reader_t r, whole;
        plume_mp_value_t v;
        plume_mp_reader_init(&r, g->ev.fields, g->ev.fields_len);
        whole = r;
        if (!plume_mp_read(&r, &v) || v.type != PLUME_MP_MAP || !plume_mp_skip(&whole) ||
            !plume_buf_append(&g->pairs, r.p, (size_t)(whole.p - r.p))) {
            g->pairs_bad = true;
            return false;
        }
        g->npairs = v.count;
    }
    return true;
}

/* Where one pair lies: its key (read into k), its value, the value's end. */
typedef struct pair_pos {
    const uint8_t *key, *val, *end;
    plume_mp_value_t k;
} pair_pos_t;

/* Next pair from rd. False at a malformed pair (cannot happen for pairs we
 * parsed or checked; guarded anyway). */
static bool next_pair(plume_mp_reader_t *rd, pair_pos_t *p)
{
    p->key = rd->p;
    plume_mp_reader_t k = *rd;
    if (!plume_mp_read(&k, &p->k))
        return false;
    if (!plume_mp_skip(rd))
        return false;
    p->val = rd->p;
    if (!plume_mp_skip(rd))
        return false;
    p->end = rd->p;
    return true;
}

static bool key_is(const pair_pos_t *p, const char *key, size_t n)
{
    return p->k.type == PLUME_MP_STR && p->k.len == n && memcmp(p->k.s, key, n) == 0;
}

/* A NUL-terminated copy of s[0..n) kept until the event is done. */
static const char *keep_string(plume_outgoing_t *g, const char *s, size_t n)
{
    if (g->nstrings >= STRINGS_MAX)
        return NULL;
    if (g->nstrings == g->strings_cap) {
        uint32_t cap = g->strings_cap ? g->strings_cap * 2 : 8;
        char **grown = realloc(g->strings, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        g->strings = grown;
        g->strings_cap = cap;
    }
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    g->strings[g->nstrings++] = c;
    return c;
}

PLUME_API plume_status_t plume_outgoing_get_field(const plume_outgoing_t *event, const char *key,
                                                  plume_field_t *out)
{
    plume_outgoing_t *g = (plume_outgoing_t *)event; /* the emitter's scratch: see message */
    if (!g || !key || !out || !load_pairs(g))
        return PLUME_EINVAL;
    size_t kn = strlen(key);
    plume_mp_reader_t rd;
    plume_mp_reader_init(&rd, g->pairs.data, g->pairs.len);
    pair_pos_t p;
    bool found = false;
    plume_mp_value_t v = {0};
    for (uint32_t i = 0; i < g->npairs; i++) {
        if (!next_pair(&rd, &p))
            return PLUME_EINVAL;
        if (key_is(&p, key, kn)) { /* the last of duplicate keys wins, as in JSON readers */
            plume_mp_reader_t vr;
            plume_mp_reader_init(&vr, p.val, (size_t)(p.end - p.val));
            if (!plume_mp_read(&vr, &v))
                return PLUME_EINVAL;
            found = true;
        }
    }
    if (!found)
        return PLUME_EINVAL;
    plume_field_t f = {.key = key, .key_size_ = 0};
    switch (v.type) {
    case PLUME_MP_NIL:
        f.type = PLUME_FIELD_STR;
        f.v.s = NULL;
        break;
    case PLUME_MP_BOOL:
        f.type = PLUME_FIELD_BOOL;
        f.v.b = v.b;
        break;
    case PLUME_MP_INT:
        f.type = PLUME_FIELD_I64;
        f.v.i = v.i;
        break;
    case PLUME_MP_UINT:
        if (v.u <= (uint64_t)INT64_MAX) {
            f.type = PLUME_FIELD_I64;
            f.v.i = (int64_t)v.u;
        } else {
            f.type = PLUME_FIELD_U64;
            f.v.u = v.u;
        }
        break;
    case PLUME_MP_FLOAT:
        f.type = PLUME_FIELD_F64;
        f.v.f = v.f;
        break;
    case PLUME_MP_STR:
        f.type = PLUME_FIELD_STR;
        if (!(f.v.s = keep_string(g, v.s, v.len)))
            return PLUME_ENOMEM;
        break;
    default:
        return PLUME_EINVAL; /* a map, array, bin or ext: not a scalar */
    }
    *out = f;
    return PLUME_OK;
}

/* Removes every pair whose key is key[0..kn). */
static void remove_key(plume_outgoing_t *g, const char *key, size_t kn)
{
    plume_mp_reader_t rd;
    plume_mp_reader_init(&rd, g->pairs.data, g->pairs.len);
    uint32_t n = g->npairs;
    for (uint32_t i = 0; i < n; i++) {
        pair_pos_t p;
        if (!next_pair(&rd, &p))
            return;
        if (!key_is(&p, key, kn))
            continue;
        size_t off = (size_t)(p.key - g->pairs.data), len = (size_t)(p.end - p.key);
        memmove(g->pairs.data + off, p.end, g->pairs.len - off - len);
        g->pairs.len -= len;
        g->npairs--;
        g->fields_edited = true;
        rd.p = g->pairs.data + off;
        rd.end = g->pairs.data + g->pairs.len;
    }
}

PLUME_API plume_status_t plume_outgoing_remove_field(plume_outgoing_t *g, const char *key)
{
    if (!g || !key || !load_pairs(g))
        return PLUME_EINVAL;
    remove_key(g, key, strlen(key));
    return PLUME_OK;
}

PLUME_API plume_status_t plume_outgoing_set_field(plume_outgoing_t *g, plume_field_t field)
{
    if (!g || !field.key || !field.key[0] || !load_pairs(g))
        return PLUME_EINVAL;
    if ((unsigned)field.type > PLUME_FIELD_BOOL)
        return PLUME_EINVAL;
    size_t kn = strnlen(field.key, PLUME_RECORD_MAX_KEY + 1);
    if (kn > PLUME_RECORD_MAX_KEY)
        return PLUME_EINVAL;
    size_t vn = 0;
    if (field.type == PLUME_FIELD_STR && field.v.s) {
        vn = strnlen(field.v.s, PLUME_RECORD_MAX_VALUE + 1);
        if (vn > PLUME_RECORD_MAX_VALUE)
            return PLUME_EINVAL;
    }
    remove_key(g, field.key, kn);
    size_t mark = g->pairs.len;
    plume_buf_t *b = &g->pairs;
    plume_mp_str(b, field.key, kn);
    switch (field.type) {
    case PLUME_FIELD_STR:
        if (field.v.s)
            plume_mp_str(b, field.v.s, vn);
        else
            plume_mp_nil(b);
        break;
    case PLUME_FIELD_I64:
        plume_mp_int(b, field.v.i);
        break;
    case PLUME_FIELD_U64:
        plume_mp_uint(b, field.v.u);
        break;
    case PLUME_FIELD_F64:
        plume_mp_double(b, field.v.f);
        break;
    case PLUME_FIELD_BOOL:
        plume_mp_bool(b, field.v.b != 0);
        break;
    }
    if (b->failed) {
        b->len = mark;
        b->failed = false;
        return PLUME_ENOMEM;
    }
    g->npairs++;
    g->fields_edited = true;
    return PLUME_OK;
}

/* The pairs as the text of one JSON object, scrubbed, keys starting with '_'
 * renamed "user_..." (the schema keeps them out of fields_json), with the
 * PLUME_HINT_* bits of the final keys in *hints. */
static bool render_json(const plume_outgoing_t *g, plume_buf_t *out, unsigned *hints)
{
    plume_buf_reset(out);
    plume_buf_append_byte(out, '{');
    plume_mp_reader_t rd;
    plume_mp_reader_init(&rd, g->pairs.data, g->pairs.len);
    unsigned seen = 0;
    for (uint32_t i = 0; i < g->npairs; i++) {
        if (i)
            plume_buf_append_byte(out, ',');
        plume_mp_reader_t peek = rd;
        plume_mp_value_t k;
        if (!plume_mp_read(&peek, &k))
            return false;
        bool filtered = false;
        if (k.type == PLUME_MP_STR) {
            filtered = plume_scrub_key(g->scrub, k.s, k.len);
            rd = peek;
            if (k.len > 0 && k.s[0] == '_') {
                plume_buf_append(out, "\"user", 5);
            } else {
                plume_buf_append_byte(out, '"');
                seen |= plume_hint_for_key(k.s, k.len);
            }
            plume_json_write_escaped(out, k.s, k.len);
            plume_buf_append_byte(out, '"');
        } else if (!plume_json_write_mp_key(out, &rd)) {
            return false;
        }
        plume_buf_append_byte(out, ':');
        if (filtered) {
            plume_buf_append(out, "\"" PLUME_SCRUB_FILTERED "\"", sizeof(PLUME_SCRUB_FILTERED) + 1);
            if (!plume_mp_skip(&rd))
                return false;
        } else if (!plume_scrub_write_mp_json(out, &rd, g->scrub)) {
            return false;
        }
    }
    plume_buf_append_byte(out, '}');
    *hints = seen;
    return !out->failed;
}

/* The pairs as one msgpack map, scrubbed. */
static bool render_mp(const plume_outgoing_t *g, plume_buf_t *out)
{
    plume_buf_reset(out);
    plume_mp_map_header(out, g->npairs);
    plume_mp_reader_t rd;
    plume_mp_reader_init(&rd, g->pairs.data, g->pairs.len);
    for (uint32_t i = 0; i < g->npairs; i++) {
        plume_mp_reader_t peek = rd;
        plume_mp_value_t k;
        if (!plume_mp_read(&peek, &k))
            return false;
        bool filtered = k.type == PLUME_MP_STR && plume_scrub_key(g->scrub, k.s, k.len);
        const uint8_t *ks = rd.p;
        if (!plume_mp_skip(&rd))
            return false;
        plume_buf_append(out, ks, (size_t)(rd.p - ks));
        if (filtered) {
            if (!plume_mp_skip(&rd))
                return false;
            plume_mp_str(out, PLUME_SCRUB_FILTERED, sizeof(PLUME_SCRUB_FILTERED) - 1);
        } else if (!plume_scrub_copy_mp(out, &rd, g->scrub)) {
            return false;
        }
    }
    return !out->failed;
}

bool plume_outgoing_finish(plume_outgoing_t *g, plume_buf_t *out_json, plume_buf_t *out_mp,
                           plume_event_view_t *ev)
{
    *ev = g->ev; /* level edits are already in it */
    if (g->message_edited) {
        ev->message = g->message_null ? NULL : (const char *)g->message.data;
        ev->message_len = g->message_null ? 0 : g->message.len - 1;
    }
    if (!g->fields_edited)
        return true;
    if (g->ev.fields && !g->ev.fields_json) {
        if (!render_mp(g, out_mp))
            return false;
        ev->fields = out_mp->data;
        ev->fields_len = out_mp->len;
        return true;
    }
    unsigned hints = 0;
    if (!render_json(g, out_json, &hints))
        return false;
    ev->fields = NULL;
    ev->fields_len = 0;
    ev->fields_json = (const char *)out_json->data;
    ev->fields_json_len = out_json->len;
    ev->fields_json_one_line = false; /* re-rendered: let the encoders look */
    ev->hints = hints;
    return true;
}
