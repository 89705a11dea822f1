/* SPDX-License-Identifier: MIT */
/* The global scope's setters and versions. See scope.h. */
#include "scope.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mp.h"
#include "record.h"
#include "sdk_state.h"

#define CUT 200u           /* bytes kept of a tag key/value, user value, context name */
#define MAX_TAGS 64u
#define MAX_CONTEXTS 16u
#define MAX_CONTEXT_BYTES 4096u /* encoded fields of one context */
#define MAX_VERSION_BYTES (128u * 1024u) /* bounds hold: 64 tags + user + 16 contexts */

/* ---- the global scope ---- */

typedef struct tag {
    char key[CUT + 1], value[CUT + 1];
} tag_t;

typedef struct context {
    char name[CUT + 1];
    uint8_t *pairs; /* malloc'd msgpack pairs */
    uint32_t len, npairs;
} context_t;

typedef struct scope {
    tag_t tags[MAX_TAGS];
    uint32_t ntags;
    char user[3][CUT + 1]; /* id, email, ip_address; "" when unset */
    context_t contexts[MAX_CONTEXTS];
    uint32_t ncontexts;
} scope_t;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static scope_t cur, saved; /* under mu; saved: the state before the change */
static plume_scope_version_t history[PLUME_SCOPE_HISTORY]; /* ring, under mu */
static uint32_t hist_first, hist_count;
static bool hist_evicted; /* a version was dropped: older stamps get the oldest kept */
static _Atomic uint64_t generation;

/* The crash handler's copy of the current version: written under mu by
 * publish(), read lock-free by plume_scope_read_signal_safe(). seq is odd
 * while a write is in progress. */
static struct {
    _Atomic uint32_t seq;
    uint32_t npairs;
    size_t len;
    uint8_t bytes[MAX_VERSION_BYTES];
} snap;

void plume_scope_after_fork(void)
{
    /* another thread may have held it at fork(): only this thread exists now */
    pthread_mutex_init(&mu, NULL);
}

uint64_t plume_scope_generation(void)
{
    return atomic_load_explicit(&generation, memory_order_relaxed);
}

/* Copies src cut at CUT bytes, never inside a UTF-8 sequence. */
static void cut_copy(char *dst, const char *src)
{
    size_t n = strnlen(src, CUT);
    if (n == CUT)
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
            n--; /* src[n] continues a sequence: cut before its lead byte */
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void put_context(plume_buf_t *b, const context_t *c)
{
    plume_mp_cstr(b, c->name);
    plume_mp_map_header(b, c->npairs);
    plume_buf_append(b, c->pairs, c->len);
}

/* Under mu: the crash handler's copy becomes (p, len, npairs). len is at
 * most MAX_VERSION_BYTES (the buffer's maximum). */
static void snapshot_write(const uint8_t *p, size_t len, uint32_t npairs)
{
    uint32_t s = atomic_load_explicit(&snap.seq, memory_order_relaxed);
    atomic_store_explicit(&snap.seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    if (len)
        memcpy(snap.bytes, p, len);
    snap.len = len;
    snap.npairs = npairs;
    atomic_store_explicit(&snap.seq, s + 2, memory_order_release);
}

long plume_scope_read_signal_safe(uint8_t *dst, size_t cap, uint32_t *npairs)
{
    *npairs = 0;
    for (int attempt = 0; attempt < 64; attempt++) {
        uint32_t s1 = atomic_load_explicit(&snap.seq, memory_order_acquire);
        if (s1 & 1) {
#if defined(__x86_64__)
            for (int i = 0; i < 1000; i++)
                __builtin_ia32_pause();
#endif
            continue;
        }
        size_t len = *(volatile size_t *)&snap.len;
        uint32_t n = *(volatile uint32_t *)&snap.npairs;
        if (len > cap || len > MAX_VERSION_BYTES)
            return -1;
        for (size_t i = 0; i < len; i++)
            dst[i] = ((volatile uint8_t *)snap.bytes)[i];
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&snap.seq, memory_order_relaxed) == s1) {
            *npairs = n;
            return (long)len;
        }
    }
    return -1;
}

/* Encodes `cur` as a new version. False when out of memory. */
static bool publish(void)
{
    static const char *const user_keys[3] = {"id", "email", "ip_address"};
    plume_buf_t b;
    plume_buf_init(&b, MAX_VERSION_BYTES);
    uint32_t pairs = 0, nuser = 0;
    for (int i = 0; i < 3; i++)
        nuser += cur.user[i][0] != '\0';
    if (cur.ntags) {
        plume_mp_cstr(&b, "tags");
        plume_mp_map_header(&b, cur.ntags);
        for (uint32_t i = 0; i < cur.ntags; i++) {
            plume_mp_cstr(&b, cur.tags[i].key);
            plume_mp_cstr(&b, cur.tags[i].value);
        }
        pairs++;
    }
    if (nuser) {
        plume_mp_cstr(&b, "user");
        plume_mp_map_header(&b, nuser);
        for (int i = 0; i < 3; i++)
            if (cur.user[i][0]) {
                plume_mp_cstr(&b, user_keys[i]);
                plume_mp_cstr(&b, cur.user[i]);
            }
        pairs++;
    }
    if (cur.ncontexts) {
        plume_mp_cstr(&b, "contexts");
        plume_mp_map_header(&b, cur.ncontexts);
        for (uint32_t i = 0; i < cur.ncontexts; i++)
            put_context(&b, &cur.contexts[i]);
        pairs++;
    }
    if (b.failed) {
        plume_buf_free(&b);
        return false;
    }
    if (hist_count == PLUME_SCOPE_HISTORY) {
        plume_buf_free(&history[hist_first].pairs);
        hist_first = (hist_first + 1) % PLUME_SCOPE_HISTORY;
        hist_count--;
        hist_evicted = true;
    }
    plume_scope_version_t *v = &history[(hist_first + hist_count++) % PLUME_SCOPE_HISTORY];
    v->stamp = plume_clock_stamp();
    v->npairs = pairs;
    v->pairs = b;
    snapshot_write(b.data, b.len, pairs);
    atomic_fetch_add_explicit(&generation, 1, memory_order_relaxed);
    return true;
}

/* Frees the context buffers `from` holds that `keep` does not. */
static void free_dropped_contexts(const scope_t *from, const scope_t *keep)
{
    for (uint32_t i = 0; i < from->ncontexts; i++) {
        bool kept = false;
        for (uint32_t j = 0; j < keep->ncontexts && !kept; j++)
            kept = keep->contexts[j].pairs == from->contexts[i].pairs;
        if (!kept)
            free(from->contexts[i].pairs);
    }
}

/* Begins a change (takes mu, remembers the state for a rollback). */
static void change_begin(void)
{
    plume_sdk_process_init(); /* the stamps need the calibrated clock */
    pthread_mutex_lock(&mu);
    saved = cur;
}

/* Ends a change: publishes it, or rolls it back when that fails. */
static plume_status_t change_end(void)
{
    plume_status_t rc = PLUME_OK;
    if (publish()) {
        free_dropped_contexts(&saved, &cur);
    } else {
        free_dropped_contexts(&cur, &saved);
        cur = saved;
        rc = PLUME_ENOMEM;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

PLUME_API plume_status_t plume_set_tag(const char *key, const char *value)
{
    if (!key || !*key)
        return PLUME_EINVAL;
    char k[CUT + 1];
    cut_copy(k, key);
    change_begin();
    uint32_t i = 0;
    while (i < cur.ntags && strcmp(cur.tags[i].key, k) != 0)
        i++;
    if (!value) {
        if (i == cur.ntags) { /* nothing to remove */
            pthread_mutex_unlock(&mu);
            return PLUME_OK;
        }
        cur.tags[i] = cur.tags[--cur.ntags];
    } else {
        if (i == cur.ntags) {
            if (cur.ntags == MAX_TAGS) {
                pthread_mutex_unlock(&mu);
                return PLUME_ENOMEM;
            }
            cur.ntags++;
            memcpy(cur.tags[i].key, k, sizeof(k));
        }
        cut_copy(cur.tags[i].value, value);
    }
    return change_end();
}

PLUME_API plume_status_t plume_set_user(const char *id, const char *email, const char *ip_address)
{
    const char *v[3] = {id, email, ip_address};
    change_begin();
    for (int i = 0; i < 3; i++)
        cut_copy(cur.user[i], v[i] ? v[i] : "");
    return change_end();
}

PLUME_API plume_status_t plume_set_context(const char *name, const plume_field_t *fields,
                                           size_t nfields)
{
    if (!name || !*name || (nfields && !fields))
        return PLUME_EINVAL;
    uint8_t *pairs = NULL;
    plume_record_lens_t lens = {0};
    size_t len = 0;
    if (nfields) {
        len = plume_record_pairs_measure(fields, nfields, &lens);
        if (len > MAX_CONTEXT_BYTES || !(pairs = malloc(len ? len : 1)))
            return PLUME_ENOMEM;
        plume_record_pairs_write(pairs, fields, &lens);
    }
    char n[CUT + 1];
    cut_copy(n, name);
    change_begin();
    uint32_t i = 0;
    while (i < cur.ncontexts && strcmp(cur.contexts[i].name, n) != 0)
        i++;
    if (!pairs) {
        if (i == cur.ncontexts) {
            pthread_mutex_unlock(&mu);
            return PLUME_OK;
        }
        cur.contexts[i] = cur.contexts[--cur.ncontexts];
    } else {
        if (i == cur.ncontexts) {
            if (cur.ncontexts == MAX_CONTEXTS) {
                pthread_mutex_unlock(&mu);
                free(pairs);
                return PLUME_ENOMEM;
            }
            cur.ncontexts++;
            memcpy(cur.contexts[i].name, n, sizeof(n));
        }
        cur.contexts[i].pairs = pairs;
        cur.contexts[i].len = (uint32_t)len;
        cur.contexts[i].npairs = lens.nfields;
    }
    return change_end();
}

/* ---- the worker's copy ---- */

void plume_scope_cache_init(plume_scope_cache_t *c)
{
    memset(c, 0, sizeof(*c));
    for (uint32_t i = 0; i < PLUME_SCOPE_HISTORY; i++)
        plume_buf_init(&c->v[i].pairs, MAX_VERSION_BYTES);
}

void plume_scope_cache_free(plume_scope_cache_t *c)
{
    for (uint32_t i = 0; i < PLUME_SCOPE_HISTORY; i++)
        plume_buf_free(&c->v[i].pairs);
}

bool plume_scope_cache_refresh(plume_scope_cache_t *c)
{
    if (plume_scope_generation() == c->generation)
        return true;
    bool ok = true;
    pthread_mutex_lock(&mu);
    for (uint32_t i = 0; i < hist_count && ok; i++) {
        const plume_scope_version_t *src = &history[(hist_first + i) % PLUME_SCOPE_HISTORY];
        plume_scope_version_t *dst = &c->v[i];
        plume_buf_reset(&dst->pairs);
        ok = plume_buf_append(&dst->pairs, src->pairs.data, src->pairs.len) ||
             src->pairs.len == 0;
        dst->stamp = src->stamp;
        dst->npairs = src->npairs;
    }
    if (ok) {
        c->count = hist_count;
        c->evicted = hist_evicted;
        c->generation = atomic_load_explicit(&generation, memory_order_relaxed);
    } else {
        c->count = 0; /* half copied: none, and the next refresh tries again */
    }
    pthread_mutex_unlock(&mu);
    return ok;
}

const plume_scope_version_t *plume_scope_cache_at(const plume_scope_cache_t *c, uint64_t stamp)
{
    for (uint32_t i = c->count; i > 0; i--)
        if (c->v[i - 1].stamp <= stamp)
            return &c->v[i - 1];
    /* older than every version kept: before the first change, no scope */
    return c->count && c->evicted ? &c->v[0] : NULL;
}
