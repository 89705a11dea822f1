/* SPDX-License-Identifier: MIT */
/* Callbacks for plume_json_object_scan() shared by the scanner tests: one
 * records every member it is given (up to 64), the other stops the scan at
 * a chosen member. */
#ifndef PLUME_TEST_JSON_SPAN_RECORD_H
#define PLUME_TEST_JSON_SPAN_RECORD_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json_parse.h"

/* Every member reported: keys copied (free with rec_free), values as spans. */
typedef struct span_rec {
    int n;
    char *keys[64];
    size_t key_lens[64];
    const char *raws[64];
    size_t raw_lens[64];
    bool raw_escaped[64];
} span_rec_t;

static inline bool rec_span(void *arg, const plume_json_span_t *m)
{
    span_rec_t *r = arg;
    if (r->n < 64) {
        r->keys[r->n] = malloc(m->key_len + 1);
        memcpy(r->keys[r->n], m->key, m->key_len);
        r->key_lens[r->n] = m->key_len;
        r->raws[r->n] = m->raw;
        r->raw_lens[r->n] = m->raw_len;
        r->raw_escaped[r->n] = m->raw_escaped;
    }
    r->n++;
    return true;
}

static inline void rec_free(span_rec_t *r)
{
    for (int i = 0; i < r->n && i < 64; i++)
        free(r->keys[i]);
    r->n = 0;
}

/* Counts the calls, notes the last key and escape flags, and stops the scan
 * at call number stop_at. */
typedef struct stop_ctx {
    int calls;
    int stop_at;
    char key[700];
    size_t key_len;
    bool key_escaped, raw_escaped;
} stop_ctx_t;

static inline bool stop_span(void *arg, const plume_json_span_t *m)
{
    stop_ctx_t *c = arg;
    c->calls++;
    if (m->key_len < sizeof(c->key)) {
        memcpy(c->key, m->key, m->key_len);
        c->key_len = m->key_len;
    }
    c->key_escaped = m->key_escaped;
    c->raw_escaped = m->raw_escaped;
    return c->calls != c->stop_at;
}

#endif
