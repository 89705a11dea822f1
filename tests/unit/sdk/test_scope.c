/* SPDX-License-Identifier: MIT */
/* The global scope (sdk/src/scope.c; the thread overlay is tested in
 * test_overlay.c): tags, user and contexts added, replaced and removed, with
 * their limits (64 tags, 16 contexts, 4 KiB of encoded fields per context,
 * strings cut at 200 bytes) and argument errors; each change bumps the
 * generation, a refused one changes nothing. The worker's cache gives a
 * stamp the version current at it (NULL before the first one, until versions
 * were evicted; then the oldest kept). Versions are decoded and compared in
 * full. The global scope is process state: each test resets it first, and
 * the test of "NULL before the first version" must run before 17 changes
 * were ever made (it is the first test). */
#include "test_support.h"
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mp.h"
#include "plume/plume.h"
#include "scope.h"
#include "sdk_state.h"

/* ---- decoding a scope version ---- */

typedef struct kv {
    const char *k, *v; /* v: the value's bytes (a str), or a map's pairs */
    uint32_t kl, vl, n; /* n: for a context, its map's pair count */
} kv_t;

typedef struct scope_view {
    bool has_tags, has_user, has_contexts;
    uint32_t ntags, nuser, ncontexts;
    kv_t tags[64], user[3], contexts[16];
} scope_view_t;

/* Reads a str-keyed map of str values into out[] (at most max). */
static uint32_t read_str_map(plume_mp_reader_t *r, kv_t *out, uint32_t max)
{
    plume_mp_value_t m, k, v;
    assert_true(plume_mp_read(r, &m));
    assert_int_equal(m.type, PLUME_MP_MAP);
    assert_true(m.count <= max);
    for (uint32_t i = 0; i < m.count; i++) {
        assert_true(plume_mp_read(r, &k) && plume_mp_read(r, &v));
        assert_int_equal(k.type, PLUME_MP_STR);
        assert_int_equal(v.type, PLUME_MP_STR);
        out[i] = (kv_t){k.s, v.s, k.len, v.len, 0};
    }
    return m.count;
}

/* Decodes a version's pairs in full: only "tags", "user" and "contexts",
 * each at most once, nothing left over. */
static void decode(const plume_scope_version_t *ver, scope_view_t *out)
{
    memset(out, 0, sizeof(*out));
    assert_non_null(ver);
    plume_mp_reader_t r;
    plume_mp_reader_init(&r, ver->pairs.data, ver->pairs.len);
    for (uint32_t i = 0; i < ver->npairs; i++) {
        plume_mp_value_t k;
        assert_true(plume_mp_read(&r, &k));
        if (plume_mp_str_eq(&k, "tags")) {
            assert_false(out->has_tags);
            out->has_tags = true;
            out->ntags = read_str_map(&r, out->tags, 64);
        } else if (plume_mp_str_eq(&k, "user")) {
            assert_false(out->has_user);
            out->has_user = true;
            out->nuser = read_str_map(&r, out->user, 3);
        } else if (plume_mp_str_eq(&k, "contexts")) {
            assert_false(out->has_contexts);
            out->has_contexts = true;
            plume_mp_value_t m, name, c;
            assert_true(plume_mp_read(&r, &m));
            assert_int_equal(m.type, PLUME_MP_MAP);
            assert_true(m.count <= 16);
            out->ncontexts = m.count;
            for (uint32_t j = 0; j < m.count; j++) {
                assert_true(plume_mp_read(&r, &name));
                assert_int_equal(name.type, PLUME_MP_STR);
                const uint8_t *start = r.p;
                assert_true(plume_mp_read(&r, &c));
                assert_int_equal(c.type, PLUME_MP_MAP);
                r.p = start;
                assert_true(plume_mp_skip(&r));
                out->contexts[j] = (kv_t){name.s, (const char *)start, name.len,
                                          (uint32_t)(r.p - start), c.count};
            }
        } else {
            fail_msg("unexpected scope key");
        }
    }
    assert_ptr_equal(r.p, r.end);
    /* an empty part is left out, not written empty */
    assert_true(!out->has_tags || out->ntags > 0);
    assert_true(!out->has_user || out->nuser > 0);
    assert_true(!out->has_contexts || out->ncontexts > 0);
}

static const kv_t *lookup(const kv_t *a, uint32_t n, const char *key, size_t kl)
{
    for (uint32_t i = 0; i < n; i++)
        if (a[i].kl == kl && memcmp(a[i].k, key, kl) == 0)
            return &a[i];
    return NULL;
}

/* Asserts `key` maps to str `value` (NULL: key absent) among n entries. */
static void expect_kv(const kv_t *a, uint32_t n, const char *key, const char *value)
{
    const kv_t *e = lookup(a, n, key, strlen(key));
    if (!value) {
        assert_null(e);
        return;
    }
    assert_non_null(e);
    assert_int_equal(e->vl, strlen(value));
    assert_memory_equal(e->v, value, e->vl);
}

/* The newest version, decoded (c is refreshed first). */
static void current(plume_scope_cache_t *c, scope_view_t *out)
{
    assert_true(plume_scope_cache_refresh(c));
    assert_true(c->generation == plume_scope_generation());
    assert_true(c->count > 0);
    decode(plume_scope_cache_at(c, UINT64_MAX), out);
    assert_ptr_equal(plume_scope_cache_at(c, UINT64_MAX), &c->v[c->count - 1]);
}

/* Reads the `i`th pair of a context's map: key and value headers. */
static void context_pair(const kv_t *ctx, uint32_t i, plume_mp_value_t *k, plume_mp_value_t *v)
{
    plume_mp_reader_t r;
    plume_mp_value_t m;
    plume_mp_reader_init(&r, ctx->v, ctx->vl);
    assert_true(plume_mp_read(&r, &m));
    for (uint32_t j = 0; j < i; j++)
        assert_true(plume_mp_skip(&r) && plume_mp_skip(&r));
    assert_true(plume_mp_read(&r, k) && plume_mp_read(&r, v));
}

/* ---- resetting the process-wide state ---- */

/* Removes every tag and context and clears the user. */
static void scope_reset(void)
{
    plume_scope_cache_t c;
    plume_scope_cache_init(&c);
    assert_int_equal(plume_set_user(NULL, NULL, NULL), PLUME_OK); /* also: a version exists */
    scope_view_t v;
    current(&c, &v);
    char key[256];
    for (uint32_t i = 0; i < v.ntags; i++) {
        memcpy(key, v.tags[i].k, v.tags[i].kl);
        key[v.tags[i].kl] = '\0';
        assert_int_equal(plume_set_tag(key, NULL), PLUME_OK);
    }
    for (uint32_t i = 0; i < v.ncontexts; i++) {
        memcpy(key, v.contexts[i].k, v.contexts[i].kl);
        key[v.contexts[i].kl] = '\0';
        assert_int_equal(plume_set_context(key, NULL, 0), PLUME_OK);
    }
    current(&c, &v);
    assert_false(v.has_tags || v.has_user || v.has_contexts);
    assert_int_equal(c.v[c.count - 1].npairs, 0);
    plume_scope_cache_free(&c);
}

static int group_setup(void **state)
{
    (void)state;
    plume_sdk_process_init(); /* the clock, as the scope setters need it */
    return 0;
}

static int setup(void **state)
{
    (void)state;
    scope_reset();
    return 0;
}

/* Spins until the clock has passed `stamp` (no sleep: a few ticks). */
static void wait_past(uint64_t stamp)
{
    while (plume_clock_stamp() <= stamp) {
    }
}

/* ---- the worker's cache: versions by stamp ---- */

static void cache_gives_version_at_stamp(void **state)
{
    (void)state;
    plume_scope_cache_t c;
    plume_scope_cache_init(&c);
    assert_true(plume_scope_cache_refresh(&c));
    /* setup made fewer than PLUME_SCOPE_HISTORY changes so far: none evicted */
    assert_false(c.evicted);
    uint32_t base = c.count;
    assert_true(base >= 1 && base + 2 < PLUME_SCOPE_HISTORY);
    wait_past(c.v[base - 1].stamp);
    assert_int_equal(plume_set_tag("a", "1"), PLUME_OK);
    assert_true(plume_scope_cache_refresh(&c));
    wait_past(c.v[c.count - 1].stamp);
    assert_int_equal(plume_set_tag("b", "2"), PLUME_OK);
    assert_true(plume_scope_cache_refresh(&c));
    assert_int_equal(c.count, base + 2);
    assert_false(c.evicted);
    const plume_scope_version_t *v0 = &c.v[base - 1], *v1 = &c.v[base], *v2 = &c.v[base + 1];
    assert_true(v0->stamp < v1->stamp && v1->stamp < v2->stamp);

    /* before the very first version: no scope */
    assert_null(plume_scope_cache_at(&c, c.v[0].stamp - 1));
    assert_null(plume_scope_cache_at(&c, 0));
    /* at and between versions: the one current then */
    assert_ptr_equal(plume_scope_cache_at(&c, v0->stamp), v0);
    assert_ptr_equal(plume_scope_cache_at(&c, v1->stamp - 1), v0);
    assert_ptr_equal(plume_scope_cache_at(&c, v1->stamp), v1);
    assert_ptr_equal(plume_scope_cache_at(&c, v1->stamp + (v2->stamp - v1->stamp) / 2), v1);
    assert_ptr_equal(plume_scope_cache_at(&c, v2->stamp - 1), v1);
    assert_ptr_equal(plume_scope_cache_at(&c, v2->stamp), v2);
    assert_ptr_equal(plume_scope_cache_at(&c, UINT64_MAX), v2);
    scope_view_t s;
    decode(v0, &s);
    assert_false(s.has_tags || s.has_user || s.has_contexts);
    decode(v1, &s);
    assert_true(s.has_tags && !s.has_user && !s.has_contexts);
    assert_int_equal(s.ntags, 1);
    expect_kv(s.tags, s.ntags, "a", "1");
    decode(v2, &s);
    assert_int_equal(s.ntags, 2);
    expect_kv(s.tags, s.ntags, "a", "1");
    expect_kv(s.tags, s.ntags, "b", "2");
    /* a refresh with nothing changed keeps the copy as it is */
    uint64_t gen = c.generation;
    assert_true(plume_scope_cache_refresh(&c));
    assert_true(c.generation == gen);
    assert_int_equal(c.count, base + 2);
    plume_scope_cache_free(&c);
}

/* 20 changes: only the last 16 are kept; an older stamp gets the oldest. */
static void cache_keeps_recent_history(void **state)
{
    (void)state;
    for (int i = 1; i <= 20; i++) {
        char v[8];
        snprintf(v, sizeof(v), "%d", i);
        assert_int_equal(plume_set_tag("n", v), PLUME_OK);
    }
    plume_scope_cache_t c;
    plume_scope_cache_init(&c);
    assert_true(plume_scope_cache_refresh(&c));
    assert_int_equal(c.count, PLUME_SCOPE_HISTORY);
    assert_true(c.evicted);
    for (uint32_t i = 1; i < c.count; i++)
        assert_true(c.v[i - 1].stamp <= c.v[i].stamp);
    assert_ptr_equal(plume_scope_cache_at(&c, 0), &c.v[0]);
    assert_ptr_equal(plume_scope_cache_at(&c, c.v[0].stamp - 1), &c.v[0]);
    scope_view_t s;
    for (uint32_t i = 0; i < PLUME_SCOPE_HISTORY; i++) {
        char v[8];
        snprintf(v, sizeof(v), "%u", 20 - PLUME_SCOPE_HISTORY + 1 + i); /* 5 .. 20 */
        decode(&c.v[i], &s);
        assert_int_equal(s.ntags, 1);
        expect_kv(s.tags, 1, "n", v);
    }
    /* a second cache refreshed later sees the same */
    plume_scope_cache_t d;
    plume_scope_cache_init(&d);
    assert_true(plume_scope_cache_refresh(&d));
    assert_int_equal(d.count, PLUME_SCOPE_HISTORY);
    assert_true(d.v[0].stamp == c.v[0].stamp);
    plume_scope_cache_free(&d);
    plume_scope_cache_free(&c);
}

/* ---- the global scope's setters ---- */

/* A change that must succeed and bump the generation by exactly one. */
static void changed(plume_status_t rc, uint64_t *gen)
{
    assert_int_equal(rc, PLUME_OK);
    assert_true(plume_scope_generation() == ++*gen);
}

static void tags(void **state)
{
    (void)state;
    plume_scope_cache_t c;
    plume_scope_cache_init(&c);
    scope_view_t s;
    uint64_t gen = plume_scope_generation();
    assert_int_equal(plume_set_tag(NULL, "x"), PLUME_EINVAL);
    assert_int_equal(plume_set_tag("", "x"), PLUME_EINVAL);
    assert_int_equal(plume_set_tag(NULL, NULL), PLUME_EINVAL);
    assert_true(plume_scope_generation() == gen);

    changed(plume_set_tag("env", "prod"), &gen);
    current(&c, &s);
    assert_int_equal(s.ntags, 1);
    expect_kv(s.tags, s.ntags, "env", "prod");
    changed(plume_set_tag("env", "staging"), &gen); /* replaced */
    changed(plume_set_tag("region", "eu"), &gen);
    current(&c, &s);
    assert_int_equal(s.ntags, 2);
    expect_kv(s.tags, s.ntags, "env", "staging");
    expect_kv(s.tags, s.ntags, "region", "eu");
    changed(plume_set_tag("env", NULL), &gen); /* removed */
    current(&c, &s);
    assert_int_equal(s.ntags, 1);
    expect_kv(s.tags, s.ntags, "env", NULL);
    expect_kv(s.tags, s.ntags, "region", "eu");
    assert_int_equal(plume_set_tag("never-set", NULL), PLUME_OK); /* nothing to remove */
    current(&c, &s);
    assert_int_equal(s.ntags, 1);

    /* keys and values cut at 200 bytes: keys equal in their first 200 bytes
     * are one tag */
    char long_key[301], long_val[301], cut_key[201], cut_val[201];
    memset(long_key, 'k', 300);
    long_key[300] = '\0';
    memset(long_val, 'v', 300);
    long_val[300] = '\0';
    changed(plume_set_tag(long_key, long_val), &gen);
    long_key[250] = 'X'; /* differs after the cut */
    long_val[0] = 'w';
    changed(plume_set_tag(long_key, long_val), &gen);
    memset(cut_key, 'k', 200);
    cut_key[200] = '\0';
    memcpy(cut_val, long_val, 200);
    cut_val[200] = '\0';
    current(&c, &s);
    assert_int_equal(s.ntags, 2);
    expect_kv(s.tags, s.ntags, cut_key, cut_val);
    expect_kv(s.tags, s.ntags, "region", "eu");
    /* never inside a UTF-8 sequence: 199 bytes then a 2-byte character */
    char utf8_val[210], utf8_cut[200];
    memset(utf8_val, 'u', 199);
    memcpy(utf8_val + 199, "\xc3\xa9tail", 7);
    memset(utf8_cut, 'u', 199);
    utf8_cut[199] = '\0';
    changed(plume_set_tag(long_key, utf8_val), &gen);
    current(&c, &s);
    expect_kv(s.tags, s.ntags, cut_key, utf8_cut);
    changed(plume_set_tag(long_key, long_val), &gen);

    /* up to 64 tags; the 65th is refused and changes nothing */
    for (int i = 0; i < 62; i++) {
        char k[8], v[8];
        snprintf(k, sizeof(k), "t%02d", i);
        snprintf(v, sizeof(v), "v%d", i);
        changed(plume_set_tag(k, v), &gen);
    }
    assert_int_equal(plume_set_tag("one-too-many", "x"), PLUME_ENOMEM);
    assert_true(plume_scope_generation() == gen);
    current(&c, &s);
    assert_int_equal(s.ntags, 64);
    expect_kv(s.tags, s.ntags, "one-too-many", NULL);
    expect_kv(s.tags, s.ntags, "region", "eu");
    expect_kv(s.tags, s.ntags, cut_key, cut_val);
    for (int i = 0; i < 62; i++) {
        char k[8], v[8];
        snprintf(k, sizeof(k), "t%02d", i);
        snprintf(v, sizeof(v), "v%d", i);
        expect_kv(s.tags, s.ntags, k, v);
    }
    /* full: replacing one still works, and a removal makes room */
    changed(plume_set_tag("t10", "new"), &gen);
    changed(plume_set_tag("t20", NULL), &gen);
    changed(plume_set_tag("late", "ok"), &gen);
    current(&c, &s);
    assert_int_equal(s.ntags, 64);
    expect_kv(s.tags, s.ntags, "t10", "new");
    expect_kv(s.tags, s.ntags, "t20", NULL);
    expect_kv(s.tags, s.ntags, "late", "ok");
    expect_kv(s.tags, s.ntags, "t63", NULL);
    assert_false(s.has_user || s.has_contexts);
    plume_scope_cache_free(&c);
}

static void user(void **state)
{
    (void)state;
    plume_scope_cache_t c;
    plume_scope_cache_init(&c);
    scope_view_t s;
    assert_int_equal(plume_set_tag("keep", "me"), PLUME_OK);
    uint64_t gen = plume_scope_generation();
    changed(plume_set_user("42", "ann@example.com", "10.0.0.1"), &gen);
    current(&c, &s);
    assert_true(s.has_user);
    assert_int_equal(s.nuser, 3);
    expect_kv(s.user, s.nuser, "id", "42");
    expect_kv(s.user, s.nuser, "email", "ann@example.com");
    expect_kv(s.user, s.nuser, "ip_address", "10.0.0.1");
    expect_kv(s.tags, s.ntags, "keep", "me");

    changed(plume_set_user("7", NULL, NULL), &gen); /* replaces all three */
    current(&c, &s);
    assert_int_equal(s.nuser, 1);
    expect_kv(s.user, s.nuser, "id", "7");
    changed(plume_set_user(NULL, NULL, "::1"), &gen);
    current(&c, &s);
    assert_int_equal(s.nuser, 1);
    expect_kv(s.user, s.nuser, "ip_address", "::1");

    char long_id[301], cut_id[201];
    memset(long_id, 'i', 300);
    long_id[300] = '\0';
    memset(cut_id, 'i', 200);
    cut_id[200] = '\0';
    changed(plume_set_user(long_id, "e", NULL), &gen);
    current(&c, &s);
    assert_int_equal(s.nuser, 2);
    expect_kv(s.user, s.nuser, "id", cut_id);
    expect_kv(s.user, s.nuser, "email", "e");

    changed(plume_set_user(NULL, NULL, NULL), &gen); /* clears "user" */
    current(&c, &s);
    assert_false(s.has_user);
    assert_int_equal(s.ntags, 1);
    expect_kv(s.tags, s.ntags, "keep", "me");
    assert_int_equal(c.v[c.count - 1].npairs, 1);
    plume_scope_cache_free(&c);
}

/* One string field "k" whose encoded pair is exactly `bytes` long (>= 261). */
static plume_field_t sized_field(char *buf, size_t bytes)
{
    size_t n = bytes - 2 - 3; /* fixstr "k", str16 header */
    memset(buf, 'x', n);
    buf[n] = '\0';
    return plume_str("k", buf);
}

static void contexts(void **state)
{
    (void)state;
    plume_scope_cache_t c;
    plume_scope_cache_init(&c);
    scope_view_t s;
    plume_mp_value_t k, v;
    uint64_t gen = plume_scope_generation();
    plume_field_t app[] = {plume_str("name", "checkout"), plume_i64("build", -7),
                           plume_bool("debug", 0)};
    assert_int_equal(plume_set_context(NULL, app, 3), PLUME_EINVAL);
    assert_int_equal(plume_set_context("", app, 3), PLUME_EINVAL);
    assert_int_equal(plume_set_context("app", NULL, 3), PLUME_EINVAL);
    assert_true(plume_scope_generation() == gen);

    changed(plume_set_context("app", app, 3), &gen);
    current(&c, &s);
    assert_true(s.has_contexts && !s.has_tags && !s.has_user);
    assert_int_equal(s.ncontexts, 1);
    const kv_t *ctx = lookup(s.contexts, s.ncontexts, "app", 3);
    assert_non_null(ctx);
    assert_int_equal(ctx->n, 3);
    context_pair(ctx, 0, &k, &v);
    assert_true(plume_mp_str_eq(&k, "name") && plume_mp_str_eq(&v, "checkout"));
    context_pair(ctx, 1, &k, &v);
    assert_true(plume_mp_str_eq(&k, "build") && v.type == PLUME_MP_INT && v.i == -7);
    context_pair(ctx, 2, &k, &v);
    assert_true(plume_mp_str_eq(&k, "debug") && v.type == PLUME_MP_BOOL && !v.b);

    plume_field_t app2[] = {plume_str("version", "1.2")};
    changed(plume_set_context("app", app2, 1), &gen); /* replaced whole */
    plume_field_t rt[] = {plume_str("name", "c11"), plume_u64("pid", 99)};
    changed(plume_set_context("runtime", rt, 2), &gen);
    current(&c, &s);
    assert_int_equal(s.ncontexts, 2);
    ctx = lookup(s.contexts, s.ncontexts, "app", 3);
    assert_non_null(ctx);
    assert_int_equal(ctx->n, 1);
    context_pair(ctx, 0, &k, &v);
    assert_true(plume_mp_str_eq(&k, "version") && plume_mp_str_eq(&v, "1.2"));
    ctx = lookup(s.contexts, s.ncontexts, "runtime", 7);
    assert_non_null(ctx);
    assert_int_equal(ctx->n, 2);
    context_pair(ctx, 1, &k, &v);
    assert_true(plume_mp_str_eq(&k, "pid") && v.type == PLUME_MP_UINT && v.u == 99);

    changed(plume_set_context("app", app, 0), &gen); /* nfields 0 removes */
    assert_int_equal(plume_set_context("never-set", NULL, 0), PLUME_OK);
    current(&c, &s);
    assert_int_equal(s.ncontexts, 1);
    assert_null(lookup(s.contexts, s.ncontexts, "app", 3));
    assert_non_null(lookup(s.contexts, s.ncontexts, "runtime", 7));

    /* at most PLUME_MAX_FIELDS fields are kept */
    plume_field_t many[PLUME_MAX_FIELDS + 3];
    for (size_t i = 0; i < PLUME_MAX_FIELDS + 3; i++)
        many[i] = plume_u64("n", i);
    changed(plume_set_context("many", many, PLUME_MAX_FIELDS + 3), &gen);
    current(&c, &s);
    ctx = lookup(s.contexts, s.ncontexts, "many", 4);
    assert_non_null(ctx);
    assert_int_equal(ctx->n, PLUME_MAX_FIELDS);
    context_pair(ctx, PLUME_MAX_FIELDS - 1, &k, &v);
    assert_true(v.u == PLUME_MAX_FIELDS - 1);

    /* 4 KiB of encoded fields is the most a context takes */
    char *big = malloc(8192);
    assert_non_null(big);
    plume_field_t f = sized_field(big, 4096);
    changed(plume_set_context("big", &f, 1), &gen);
    current(&c, &s);
    ctx = lookup(s.contexts, s.ncontexts, "big", 3);
    assert_non_null(ctx);
    context_pair(ctx, 0, &k, &v);
    assert_int_equal(v.len, 4091);
    f = sized_field(big, 4097);
    assert_int_equal(plume_set_context("big", &f, 1), PLUME_ENOMEM); /* existing: kept */
    assert_int_equal(plume_set_context("bigger", &f, 1), PLUME_ENOMEM);
    assert_true(plume_scope_generation() == gen);
    current(&c, &s);
    assert_int_equal(s.ncontexts, 3);
    assert_null(lookup(s.contexts, s.ncontexts, "bigger", 6));
    ctx = lookup(s.contexts, s.ncontexts, "big", 3);
    assert_non_null(ctx);
    context_pair(ctx, 0, &k, &v);
    assert_int_equal(v.len, 4091);

    /* the name is cut at 200 bytes */
    char long_name[301], cut_name[201];
    memset(long_name, 'n', 300);
    long_name[300] = '\0';
    memset(cut_name, 'n', 200);
    cut_name[200] = '\0';
    changed(plume_set_context(long_name, rt, 1), &gen);
    current(&c, &s);
    assert_non_null(lookup(s.contexts, s.ncontexts, cut_name, 200));

    /* 16 contexts at most: runtime, many, big, n*200 and 12 more */
    for (int i = 0; i < 12; i++) {
        char name[8];
        snprintf(name, sizeof(name), "c%02d", i);
        plume_field_t one = plume_i64("i", i);
        changed(plume_set_context(name, &one, 1), &gen);
    }
    plume_field_t one = plume_i64("i", 100);
    assert_int_equal(plume_set_context("c16", &one, 1), PLUME_ENOMEM);
    assert_true(plume_scope_generation() == gen);
    current(&c, &s);
    assert_int_equal(s.ncontexts, 16);
    assert_null(lookup(s.contexts, s.ncontexts, "c16", 3));
    for (int i = 0; i < 12; i++) {
        char name[8];
        snprintf(name, sizeof(name), "c%02d", i);
        ctx = lookup(s.contexts, s.ncontexts, name, 3);
        assert_non_null(ctx);
        context_pair(ctx, 0, &k, &v);
        assert_true(plume_mp_str_eq(&k, "i") && v.u == (uint64_t)i);
    }
    /* full: replacing one still works */
    changed(plume_set_context("c05", &one, 1), &gen);
    current(&c, &s);
    ctx = lookup(s.contexts, s.ncontexts, "c05", 3);
    context_pair(ctx, 0, &k, &v);
    assert_true(v.u == 100);
    assert_int_equal(s.ncontexts, 16);
    free(big);
    plume_scope_cache_free(&c);
}

/* Every limit reached at once (64 tags and 3 user values of 200 bytes, 16
 * contexts named with 200 bytes holding 4 KiB each) still publishes. */
static void largest_scope_publishes(void **state)
{
    (void)state;
    char key[201], val[201];
    memset(val, 'v', 200);
    val[200] = '\0';
    for (int i = 0; i < 64; i++) {
        memset(key, 'a' + i % 26, 200);
        key[200] = '\0';
        snprintf(key, sizeof(key), "%02d", i);
        key[2] = 'k'; /* back to 200 bytes */
        assert_int_equal(plume_set_tag(key, val), PLUME_OK);
    }
    assert_int_equal(plume_set_user(val, val, val), PLUME_OK);
    char *big = malloc(8192);
    assert_non_null(big);
    plume_field_t f = sized_field(big, 4096);
    for (int i = 0; i < 16; i++) {
        memset(key, 'n', 200);
        key[200] = '\0';
        snprintf(key, sizeof(key), "%02d", i);
        key[2] = 'n';
        uint64_t gen = plume_scope_generation();
        assert_int_equal(plume_set_context(key, &f, 1), PLUME_OK);
        assert_true(plume_scope_generation() == gen + 1);
    }
    plume_scope_cache_t c;
    plume_scope_cache_init(&c);
    scope_view_t s;
    current(&c, &s);
    assert_int_equal(s.ntags, 64);
    assert_int_equal(s.nuser, 3);
    assert_int_equal(s.ncontexts, 16);
    for (uint32_t i = 0; i < 64; i++) {
        assert_int_equal(s.tags[i].kl, 200);
        assert_int_equal(s.tags[i].vl, 200);
    }
    for (uint32_t i = 0; i < 16; i++) {
        assert_int_equal(s.contexts[i].kl, 200);
        assert_int_equal(s.contexts[i].n, 1);
    }
    plume_scope_cache_free(&c);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* first: it needs a history no test has filled yet */
        cmocka_unit_test_setup(cache_gives_version_at_stamp, setup),
        cmocka_unit_test_setup(cache_keeps_recent_history, setup),
        cmocka_unit_test_setup(tags, setup),
        cmocka_unit_test_setup(user, setup),
        cmocka_unit_test_setup(contexts, setup),
        cmocka_unit_test_setup(largest_scope_publishes, setup),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
