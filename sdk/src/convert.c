/* SPDX-License-Identifier: MIT */
/* Records -> pipeline events. See convert.h. */
#include "convert.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "event.h"
#include "monotime.h"
#include "mp.h"
#include "record.h"

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
    plume_buf_init(&c->fields, 8u << 20);
    plume_buf_init(&c->crumb_array, 4u << 20);
    plume_buf_init(&c->deferred, DEFERRED_MAX);
    plume_scope_cache_init(&c->scope);
    bool ok = plume_crumbs_init(&c->crumbs, o->max_breadcrumbs);
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
        plume_mp_cstr(&c->constant, keys[i]);
        plume_mp_cstr(&c->constant, values[i]);
        c->constant_pairs++;
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
    plume_buf_free(&c->fields);
    plume_buf_free(&c->crumb_array);
    plume_buf_free(&c->deferred);
    plume_scope_cache_free(&c->scope);
    plume_crumbs_free(&c->crumbs);
}

/* Submits the event for record r, logged by thread (tid, name). */
static void submit(plume_convert_t *c, uint32_t tid, const char *name, const plume_record_view_t *r)
{
    if (plume_scope_generation() != c->scope.generation)
        plume_scope_cache_refresh(&c->scope);
    const plume_scope_version_t *scope = plume_scope_cache_at(&c->scope, r->stamp);
    uint32_t ncrumbs = 0;
    if (r->level >= PLUME_LEVEL_ERROR) {
        plume_buf_reset(&c->crumb_array);
        ncrumbs = plume_crumbs_write(&c->crumbs, r->stamp, &c->crumb_array);
    }
    /* fields: the record's, then who logged it, the scope, the breadcrumbs */
    plume_buf_t *b = &c->fields;
    plume_buf_reset(b);
    uint32_t extra = 1 + (name[0] != '\0') + c->constant_pairs + (scope ? scope->npairs : 0) +
                     (ncrumbs > 0);
    plume_mp_map_header(b, r->nfields + extra);
    plume_mp_reader_t rd;
    plume_mp_value_t m;
    plume_mp_reader_init(&rd, r->fields, r->fields_len);
    plume_mp_read(&rd, &m); /* past the record map's header: its entries follow */
    plume_buf_append(b, rd.p, (size_t)(rd.end - rd.p));
    plume_mp_cstr(b, "thread.id");
    plume_mp_uint(b, tid);
    if (name[0]) {
        plume_mp_cstr(b, "thread.name");
        plume_mp_cstr(b, name);
    }
    plume_buf_append(b, c->constant.data, c->constant.len);
    if (scope)
        plume_buf_append(b, scope->pairs.data, scope->pairs.len);
    if (ncrumbs) {
        plume_mp_cstr(b, "breadcrumbs");
        plume_buf_append(b, c->crumb_array.data, c->crumb_array.len);
    }
    if (b->failed || c->crumb_array.failed) {
        c->metrics->dropped_encode++;
        return;
    }
    plume_event_view_t ev = {
        .time_ns = plume_clock_to_ns(r->stamp),
        .level = r->level,
        .message = r->message,
        .message_len = r->message_len,
        .origin = "sdk",
        .origin_len = 3,
        .fields = b->data,
        .fields_len = b->len,
    };
    c->metrics->received++;
    plume_pipeline_submit_view(c->pipeline, &ev);
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
static bool defer(plume_convert_t *c, const plume_thread_t *t, const uint8_t *rec, size_t len)
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
        c->deferred_crumb_mark = c->crumbs.added;
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
    if (c->logs_as_breadcrumbs && r.level >= PLUME_LEVEL_INFO)
        add_crumb(c, rec, len, &r);
    if (r.level >= PLUME_LEVEL_ERROR && c->crumbs.max && defer(c, t, rec, len))
        return;
    submit(c, t->tid, t->name, &r);
}

void plume_convert_pass_done(plume_convert_t *c, bool rings_empty, bool force)
{
    if (c->ndeferred &&
        (rings_empty || force || plume_mono_ms() - c->deferred_since_ms >= ERROR_WAIT_MS))
        submit_deferred(c);
}
