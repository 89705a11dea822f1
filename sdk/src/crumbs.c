/* SPDX-License-Identifier: MIT */
/* The worker's breadcrumb store. See crumbs.h. */
#include "crumbs.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "event.h"
#include "mp.h"
#include "time_format.h"

bool plume_crumbs_init(plume_crumbs_t *c, uint32_t max)
{
    memset(c, 0, sizeof(*c));
    if (max > PLUME_MAX_BREADCRUMBS_LIMIT)
        return false;
    c->max = max;
    c->cap = max ? max + (max > 64 ? max : 64) : 0;
    plume_buf_init(&c->scratch, 2 * PLUME_CRUMB_SLOT);
    if (max && !(c->slots = calloc(c->cap, sizeof(*c->slots))))
        return false;
    return true;
}

void plume_crumbs_free(plume_crumbs_t *c)
{
    free(c->slots);
    plume_buf_free(&c->scratch);
}

/* n cut down to at most `cap` bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t n, size_t cap)
{
    if (n <= cap)
        return n;
    n = cap;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--; /* s[n] continues a sequence: cut before its lead byte */
    return n;
}

/* The bytes of the leading pairs of `fields` (a map) that fit in `cap`;
 * *kept is their count. Stops at the first pair that is not str -> scalar. */
static size_t pairs_prefix(const uint8_t *fields, size_t len, size_t cap, uint32_t *kept)
{
    plume_mp_reader_t rd;
    plume_mp_value_t m;
    plume_mp_reader_init(&rd, fields, len);
    *kept = 0;
    if (!plume_mp_read(&rd, &m) || m.type != PLUME_MP_MAP)
        return 0;
    size_t used = 0;
    for (uint32_t i = 0; i < m.count; i++) {
        const uint8_t *pair = rd.p;
        plume_mp_value_t k, v;
        /* only what a record holds: a str key and a scalar or str value (a
         * damaged ring must not hand the JSON writer a deep container) */
        if (!plume_mp_read(&rd, &k) || k.type != PLUME_MP_STR || !plume_mp_read(&rd, &v) ||
            v.type == PLUME_MP_ARRAY || v.type == PLUME_MP_MAP || v.type == PLUME_MP_EXT ||
            v.type == PLUME_MP_BIN)
            break;
        size_t n = (size_t)(rd.p - pair);
        if (used + n > cap)
            break;
        used += n;
        (*kept)++;
    }
    return used;
}

/* Start of the pairs inside a fields map (past its header). */
static const uint8_t *pairs_start(const uint8_t *fields, size_t len)
{
    plume_mp_reader_t rd;
    plume_mp_value_t m;
    plume_mp_reader_init(&rd, fields, len);
    plume_mp_read(&rd, &m);
    return rd.p;
}

void plume_crumbs_add(plume_crumbs_t *c, const uint8_t *rec, size_t len,
                      const plume_record_view_t *r)
{
    if (!c->max)
        return;
    plume_crumb_t *s = &c->slots[c->next];
    if (len > PLUME_CRUMB_SLOT) {
        /* Too wide for a slot: keep a record cut to the breadcrumb limits. */
        plume_buf_t *b = &c->scratch;
        plume_buf_reset(b);
        plume_mp_array_header(b, 5);
        plume_mp_uint(b, r->stamp);
        plume_mp_uint(b, (uint64_t)r->level);
        if (r->message)
            plume_mp_str(b, r->message,
                         utf8_cut(r->message, r->message_len, PLUME_CRUMB_MAX_MESSAGE));
        else
            plume_mp_nil(b);
        uint32_t kept;
        size_t n = pairs_prefix(r->fields, r->fields_len, PLUME_CRUMB_MAX_DATA, &kept);
        plume_mp_map_header(b, kept);
        plume_buf_append(b, pairs_start(r->fields, r->fields_len), n);
        if (r->category)
            plume_mp_str(b, r->category, r->category_len);
        else
            plume_mp_nil(b);
        if (b->failed || b->len > PLUME_CRUMB_SLOT)
            return; /* cannot happen with the limits above; never store half */
        rec = b->data;
        len = b->len;
    }
    memcpy(s->record, rec, len);
    s->len = (uint32_t)len;
    s->stamp = r->stamp;
    s->log = !r->breadcrumb;
    if (++c->next == c->cap)
        c->next = 0;
    if (c->count < c->cap)
        c->count++;
    c->added++;
}

/* One breadcrumb object from a kept record. */
static void write_one(const plume_crumb_t *s, plume_buf_t *b)
{
    plume_record_view_t r;
    if (!plume_record_read(s->record, s->len, &r)) {
        plume_mp_nil(b); /* the slot was written by this file: cannot happen */
        return;
    }
    const char *category = s->log ? "log" : r.category;
    size_t category_len = s->log ? 3 : r.category_len;
    uint32_t kept = 0;
    size_t data_len = r.nfields ? pairs_prefix(r.fields, r.fields_len, PLUME_CRUMB_MAX_DATA, &kept)
                                : 0;
    plume_mp_map_header(b, 2 + (category != NULL) + (r.message != NULL) + (kept > 0));
    char when[PLUME_TIME_FORMAT_MAX];
    size_t when_len = plume_time_format_rfc3339(plume_clock_to_ns(r.stamp), when);
    plume_mp_cstr(b, "timestamp");
    plume_mp_str(b, when, when_len);
    plume_mp_cstr(b, "level");
    plume_mp_cstr(b, plume_level_name(r.level));
    if (category) {
        plume_mp_cstr(b, "category");
        plume_mp_str(b, category, category_len);
    }
    if (r.message) {
        plume_mp_cstr(b, "message");
        plume_mp_str(b, r.message, utf8_cut(r.message, r.message_len, PLUME_CRUMB_MAX_MESSAGE));
    }
    if (kept) {
        plume_mp_cstr(b, "data");
        plume_mp_map_header(b, kept);
        plume_buf_append(b, pairs_start(r.fields, r.fields_len), data_len);
    }
}

uint32_t plume_crumbs_write(const plume_crumbs_t *c, uint64_t before, plume_buf_t *b)
{
    uint16_t order[2 * PLUME_MAX_BREADCRUMBS_LIMIT];
    uint32_t n = 0;
    uint32_t oldest = (c->next + c->cap - c->count) % (c->cap ? c->cap : 1);
    for (uint32_t i = 0; i < c->count; i++) {
        uint32_t k = (oldest + i) % c->cap;
        if (c->slots[k].stamp >= before)
            continue;
        /* insertion by stamp: threads' records arrive nearly in order */
        uint32_t j = n++;
        while (j > 0 && c->slots[order[j - 1]].stamp > c->slots[k].stamp) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = (uint16_t)k;
    }
    uint32_t first = n > c->max ? n - c->max : 0; /* the most recent max */
    if (n == first)
        return 0;
    plume_mp_array_header(b, n - first);
    for (uint32_t i = first; i < n; i++)
        write_one(&c->slots[order[i]], b);
    return n - first;
}

/* ---- the crash handler's side ---- */

static _Atomic(plume_crumbs_t *) published;
static _Atomic int visiting; /* handlers reading the published store */

void plume_crumbs_publish(plume_crumbs_t *c)
{
    atomic_store(&published, c);
    if (c)
        return;
    /* seq_cst on both sides: a handler either saw NULL or is counted here */
    for (int i = 0; i < 1000 && atomic_load(&visiting) > 0; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

uint32_t plume_crumbs_visit_published(plume_crumbs_visit_fn fn, void *ctx)
{
    atomic_fetch_add(&visiting, 1);
    const plume_crumbs_t *c = atomic_load(&published);
    uint32_t n = 0;
    if (c && c->slots) {
        uint32_t cap = *(volatile const uint32_t *)&c->cap;
        uint32_t count = *(volatile const uint32_t *)&c->count;
        uint32_t next = *(volatile const uint32_t *)&c->next;
        uint32_t max = c->max;
        if (count > cap)
            count = cap;
        if (cap && next < cap) {
            uint32_t take = count < max ? count : max;
            for (uint32_t i = 0; i < take; i++) {
                const plume_crumb_t *s = &c->slots[(next + cap - take + i) % cap];
                uint32_t len = *(volatile const uint32_t *)&s->len;
                if (len == 0 || len > PLUME_CRUMB_SLOT)
                    continue;
                fn(ctx, *(volatile const uint64_t *)&s->stamp, *(volatile const bool *)&s->log,
                   s->record, len);
                n++;
            }
        }
    }
    atomic_fetch_sub(&visiting, 1);
    return n;
}
