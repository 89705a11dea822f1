/* SPDX-License-Identifier: MIT */
/* Records -> pipeline events. See convert.h. */
#include "convert.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "clock.h"
#include "event.h"
#include "monotime.h"
#include "json_write.h"
#include "mp.h"
#include "record.h"
#include "record_json.h"

#define THREAD_ID_KEY ",\"thread.id\":"
#define THREAD_NAME_KEY ",\"thread.name\":"
#define PUT_LIT(o, lit) (memcpy((o), (lit), sizeof(lit) - 1), (o) += sizeof(lit) - 1)

#define ERROR_WAIT_MS 100             /* longest an error event waits for breadcrumbs */
#define DEFERRED_MAX (8u << 20)       /* bytes of error records waiting (> the largest record) */
#define DEFERRED_HEADER (4 + 16 + 4)  /* tid, thread name, record length */

bool plume_convert_init(plume_convert_t *c, const plume_options_t *o, plume_pipeline_t *pipeline,
                        plume_metrics_t *metrics, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->pipeline = pipeline;
    c->metrics = metrics;
    c->logs_as_breadcrumbs = o->logs_as_breadcrumbs;
    plume_buf_init(&c->constant, 0);
    plume_buf_init(&c->json, 64u << 20);
    for (uint32_t i = 0; i < PLUME_SCOPE_HISTORY; i++)
        plume_buf_init(&c->scope_json[i], 0);
    plume_buf_init(&c->crumb_array, 4u << 20);
    plume_buf_init(&c->deferred, DEFERRED_MAX);
    plume_buf_init(&c->error, 1u << 20);
    plume_scope_cache_init(&c->scope);
    bool ok = plume_crumbs_init(&c->crumbs, o->max_breadcrumbs);
    c->emit_ready = plume_emit_init(&c->emit, o, pipeline, metrics);
    ok = ok && c->emit_ready && plume_error_map_init(&c->error_map, o);
    plume_capture_configure(o->error_sample_rate);
    char host[256] = "";
    if (gethostname(host, sizeof(host) - 1) != 0)
        strcpy(host, "unknown");
    const char *keys[] = {"release", "environment", "server_name"};
    const char *values[] = {o->release,
                            plume_options_str(o->environment, PLUME_DEFAULT_ENVIRONMENT),
                            plume_options_str(o->server_name, host)};
    for (size_t i = 0; i < 3; i++) {
        if (!values[i])
            continue; /* no release set */
        plume_buf_append(&c->constant, ",", 1);
        plume_json_write_str(&c->constant, keys[i], strlen(keys[i]));
        plume_buf_append(&c->constant, ":", 1);
        plume_json_write_str(&c->constant, values[i], strlen(values[i]));
    }
    if (!ok || c->constant.failed) {
        snprintf(err, errlen, "out of memory");
        plume_convert_free(c);
        return false;
    }
    return true;
}

void plume_convert_free(plume_convert_t *c)
{
    plume_buf_free(&c->constant);
    plume_buf_free(&c->json);
    for (uint32_t i = 0; i < PLUME_SCOPE_HISTORY; i++)
        plume_buf_free(&c->scope_json[i]);
    plume_buf_free(&c->crumb_array);
    plume_buf_free(&c->deferred);
    plume_buf_free(&c->error);
    plume_scope_cache_free(&c->scope);
    plume_crumbs_free(&c->crumbs);
    plume_emit_free(&c->emit);
    plume_error_map_free(&c->error_map);
}

/* msgpack key/value pairs as JSON members (",key:value" each), scrubbed. */
static void render_pairs(plume_buf_t *out, const uint8_t *pairs, size_t len, uint32_t n,
                         const plume_scrub_t *scrub)
{
    plume_mp_reader_t rd;
    plume_mp_reader_init(&rd, pairs, len);
    plume_scrub_write_mp_members(out, &rd, n, scrub);
}

/* The JSON members of the global scope at `stamp` (NULL when none). */
static const plume_buf_t *scope_at(plume_convert_t *c, uint64_t stamp)
{
    if (plume_scope_generation() != c->scope.generation)
        plume_scope_cache_refresh(&c->scope);
    if (c->scope_json_generation != c->scope.generation) {
        for (uint32_t i = 0; i < c->scope.count; i++) {
            const plume_scope_version_t *v = &c->scope.v[i];
            plume_buf_reset(&c->scope_json[i]);
            render_pairs(&c->scope_json[i], v->pairs.data, v->pairs.len, v->npairs,
                         &c->emit.scrub);
        }
        c->scope_json_generation = c->scope.generation;
    }
    const plume_scope_version_t *v = plume_scope_cache_at(&c->scope, stamp);
    return v ? &c->scope_json[v - c->scope.v] : NULL;
}

/* Submits the event for record r, logged by thread (tid, name). */
static void submit(plume_convert_t *c, uint32_t tid, const char *name, const plume_record_view_t *r)
{
    const plume_buf_t *scope = scope_at(c, r->stamp);
    /* fields: the record's, then who logged it, the scope, the breadcrumbs */
    plume_buf_t *b = &c->json;
    plume_buf_reset(b);
    unsigned hints = 0;
    if (r->nfields &&
        !plume_record_json_members_scrub(b, r->fields, r->fields_len, &hints, &c->emit.scrub)) {
        c->bad_records++; /* not what record.c writes */
        return;
    }
    /* who logged it, then the constant and scope members: one reservation
     * for their worst case (a thread name escapes to at most 6 bytes per
     * byte), then plain stores */
    size_t name_len = name[0] ? strnlen(name, 16) : 0;
    size_t room = sizeof(THREAD_ID_KEY) - 1 + 20 + sizeof(THREAD_NAME_KEY) - 1 + 2 + 6 * name_len +
                  c->constant.len + (scope ? scope->len : 0);
    if (plume_buf_reserve(b, room)) {
        char *o = (char *)b->data + b->len;
        PUT_LIT(o, THREAD_ID_KEY);
        o += plume_json_format_u64(tid, o);
        if (name_len) {
            PUT_LIT(o, THREAD_NAME_KEY "\"");
            o += plume_json_escape_raw_inline(o, name, name_len);
            *o++ = '"';
        }
        if (c->constant.len) {
            memcpy(o, c->constant.data, c->constant.len);
            o += c->constant.len;
        }
        if (scope && scope->len) {
            memcpy(o, scope->data, scope->len);
            o += scope->len;
        }
        b->len = (size_t)((uint8_t *)o - b->data);
    }
    if (r->level >= PLUME_LEVEL_ERROR) {
        plume_buf_reset(&c->crumb_array);
        if (plume_crumbs_write(&c->crumbs, r->stamp, &c->crumb_array) > 0) {
            plume_mp_reader_t rd;
            plume_mp_reader_init(&rd, c->crumb_array.data, c->crumb_array.len);
            size_t mark = b->len;
            plume_buf_append(b, ",\"breadcrumbs\":", 15);
            if (!plume_scrub_write_mp_json(b, &rd, &c->emit.scrub) && !b->failed) {
                b->len = mark; /* cannot happen (crumbs.c writes scalars only): no
                                * half array in the event */
                c->bad_records++;
            }
        }
    }
    plume_buf_append(b, "}", 1);
    if (b->failed || c->crumb_array.failed) {
        c->metrics->dropped_encode++;
        return;
    }
    b->data[0] = '{'; /* the first member's comma (there is always one: thread.id) */
    const uint8_t *error = NULL;
    size_t error_len = 0;
    if (r->error) {
        plume_error_map_refresh(&c->error_map, plume_mono_ms());
        plume_buf_reset(&c->error);
        if (!plume_error_map_write(&c->error_map, &c->error, r, tid, name)) {
            c->metrics->dropped_encode++;
            return;
        }
        error = c->error.data;
        error_len = c->error.len;
    }
    plume_event_view_t ev = {
        .time_ns = plume_clock_to_ns(r->stamp),
        .level = r->level,
        .message = r->message,
        .message_len = r->message_len,
        .origin = "sdk",
        .origin_len = 3,
        .fields_json = (const char *)b->data,
        .fields_json_len = b->len,
        /* rendered here by the JSON writer, which escapes every control
         * byte: no LF for the NDJSON encoders to look for */
        .fields_json_one_line = true,
        .hints = hints,
        .error = error,
        .error_len = error_len,
    };
    c->metrics->received++;
    plume_emit(&c->emit, &ev);
    c->records++;
}

/* Submits every waiting error event, oldest first. */
static void submit_deferred(plume_convert_t *c)
{
    const uint8_t *p = c->deferred.data, *end = p + c->deferred.len;
    while (p < end) {
        uint32_t tid, len;
        char name[16];
        memcpy(&tid, p, 4);
        memcpy(name, p + 4, 16);
        memcpy(&len, p + 20, 4);
        const uint8_t *rec = p + DEFERRED_HEADER;
        plume_record_view_t r;
        if (plume_record_read(rec, len, &r))
            submit(c, tid, name, &r);
        p = rec + len;
    }
    plume_buf_reset(&c->deferred);
    c->ndeferred = 0;
}

/* Keeps an error record until the breadcrumbs before it have been seen. */
static bool defer(plume_convert_t *c, const plume_thread_t *t, const uint8_t *rec, size_t len,
                  uint64_t crumb_mark)
{
    plume_buf_t *d = &c->deferred;
    if (len > DEFERRED_MAX - DEFERRED_HEADER)
        return false;
    if (d->len + DEFERRED_HEADER + len > DEFERRED_MAX)
        submit_deferred(c); /* full: the oldest have waited long enough */
    uint32_t tid = t->tid, n = (uint32_t)len;
    size_t mark = d->len;
    plume_buf_append(d, &tid, 4);
    plume_buf_append(d, t->name, 16);
    plume_buf_append(d, &n, 4);
    plume_buf_append(d, rec, len);
    if (d->failed) { /* out of memory: submit it now, without waiting */
        d->len = mark;
        d->failed = false;
        return false;
    }
    if (c->ndeferred++ == 0) {
        c->deferred_since_ms = plume_mono_ms();
        c->deferred_crumb_mark = crumb_mark;
    }
    return true;
}

/* Adds a breadcrumb, first submitting the waiting errors if it would push
 * out one they need. */
static void add_crumb(plume_convert_t *c, const uint8_t *rec, size_t len,
                      const plume_record_view_t *r)
{
    if (c->ndeferred && c->crumbs.added - c->deferred_crumb_mark >= c->crumbs.cap - c->crumbs.max)
        submit_deferred(c);
    plume_crumbs_add(&c->crumbs, rec, len, r);
}

void plume_convert_record(void *ctx, const plume_thread_t *t, const uint8_t *rec, size_t len)
{
    plume_convert_t *c = ctx;
    plume_record_view_t r;
    if (!plume_record_read(rec, len, &r)) {
        c->bad_records++;
        return;
    }
    if (r.breadcrumb) {
        add_crumb(c, rec, len, &r);
        return;
    }
    /* The breadcrumbs an error carries are those before its own (when it is
     * one too): the count it needs kept starts before that. */
    uint64_t crumb_mark = c->crumbs.added;
    if (c->logs_as_breadcrumbs && r.level >= PLUME_LEVEL_INFO && !r.error)
        add_crumb(c, rec, len, &r); /* a captured error is not a breadcrumb */
    if (r.level >= PLUME_LEVEL_ERROR && c->crumbs.max && defer(c, t, rec, len, crumb_mark))
        return;
    submit(c, t->tid, t->name, &r);
}

void plume_convert_pass_done(plume_convert_t *c, bool rings_empty, bool force)
{
    if (c->ndeferred &&
        (rings_empty || force || plume_mono_ms() - c->deferred_since_ms >= ERROR_WAIT_MS))
        submit_deferred(c);
}
