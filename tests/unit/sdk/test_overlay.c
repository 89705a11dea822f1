/* SPDX-License-Identifier: MIT */
/* The thread overlay (sdk/src/overlay.c, with log.c for what records carry):
 * push/pop nest and each pop restores exactly the state before its push; a
 * push refused for depth (the 9th) or size (past 1 KiB) pushes nothing and
 * its pop pops nothing else; a pop with nothing pushed is harmless. Log
 * records made under a push end their fields map with the pushed pairs in
 * push order; records after the pop, breadcrumb records and other threads'
 * records do not carry them. */
#include "test_support.h"
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "drain.h"
#include "mp.h"
#include "overlay.h"
#include "plume/plume.h"
#include "record.h"
#include "sdk_state.h"

/* Pops whatever this thread's overlay holds (bounded: a broken pop must
 * fail the test, not hang it). */
static void overlay_reset(void)
{
    for (int i = 0; i < 64 && (plume_overlay.depth || plume_overlay.overflow); i++)
        plume_scope_pop();
    assert_int_equal(plume_overlay.depth, 0);
    assert_int_equal(plume_overlay.overflow, 0);
    assert_true(plume_hot1_thread_.overlay == 0);
}

/* One string field "k" whose encoded pair is exactly `bytes` long (>= 261). */
static plume_field_t sized_field(char *buf, size_t bytes)
{
    memset(buf, 'x', bytes - 5); /* fixstr "k" (2) + str16 header (3) */
    buf[bytes - 5] = '\0';
    return plume_str("k", buf);
}

static int group_setup(void **state)
{
    (void)state;
    plume_sdk_process_init(); /* the clock */
    return 0;
}

static int setup(void **state)
{
    (void)state;
    overlay_reset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    plume_sdk_set_running(false, 0, 0, 1.0);
    overlay_reset();
    return 0;
}

/* ---- the thread overlay ---- */

static void overlay_nesting_restores(void **state)
{
    (void)state;
    plume_scope_pop(); /* nothing pushed: harmless */
    plume_scope_pop();
    assert_true(plume_hot1_thread_.overlay == 0);
    assert_int_equal(plume_overlay.depth, 0);

    plume_field_t a[] = {plume_str("request_id", "r-1"), plume_i64("attempt", 2)};
    assert_int_equal(plume_scope_push(a, 2), PLUME_OK);
    uint64_t sa = plume_hot1_thread_.overlay;
    assert_int_equal((uint32_t)sa, 2);
    uint8_t bytes_a[64];
    uint32_t len_a = (uint32_t)(sa >> 32);
    assert_true(len_a > 0 && len_a <= sizeof(bytes_a));
    memcpy(bytes_a, plume_overlay.bytes, len_a);
    plume_field_t b[] = {plume_bool("retry", 1)};
    assert_int_equal(plume_scope_push(b, 1), PLUME_OK);
    assert_int_equal((uint32_t)plume_hot1_thread_.overlay, 3);
    assert_true(plume_hot1_thread_.overlay >> 32 > len_a);
    plume_scope_pop();
    assert_true(plume_hot1_thread_.overlay == sa);
    assert_memory_equal(plume_overlay.bytes, bytes_a, len_a);
    /* a push after the pop writes where the popped one was */
    plume_field_t c[] = {plume_str("user", "u")};
    assert_int_equal(plume_scope_push(c, 1), PLUME_OK);
    assert_int_equal((uint32_t)plume_hot1_thread_.overlay, 3);
    plume_scope_pop();
    assert_true(plume_hot1_thread_.overlay == sa);
    plume_scope_pop();
    assert_true(plume_hot1_thread_.overlay == 0);
    assert_int_equal(plume_overlay.depth, 0);
    plume_scope_pop(); /* one too many: harmless */
    assert_true(plume_hot1_thread_.overlay == 0);
    /* a refused call's pop still pops only itself */
    assert_int_equal(plume_scope_push(a, 2), PLUME_OK);
    assert_int_equal(plume_scope_push(NULL, 1), PLUME_EINVAL);
    assert_true(plume_hot1_thread_.overlay == sa);
    plume_scope_pop();
    assert_true(plume_hot1_thread_.overlay == sa);
    plume_scope_pop();
    assert_true(plume_hot1_thread_.overlay == 0);
}

static void overlay_depth_limit(void **state)
{
    (void)state;
    uint64_t st[PLUME_OVERLAY_MAX_DEPTH + 1];
    char keys[PLUME_OVERLAY_MAX_DEPTH][8];
    st[0] = plume_hot1_thread_.overlay;
    for (uint32_t i = 0; i < PLUME_OVERLAY_MAX_DEPTH; i++) {
        snprintf(keys[i], sizeof(keys[i]), "p%u", i);
        plume_field_t f = plume_u64(keys[i], i);
        assert_int_equal(plume_scope_push(&f, 1), PLUME_OK);
        st[i + 1] = plume_hot1_thread_.overlay;
        assert_int_equal((uint32_t)st[i + 1], i + 1);
    }
    plume_field_t ninth = plume_str("ninth", "x");
    assert_int_equal(plume_scope_push(&ninth, 1), PLUME_ENOMEM);
    assert_int_equal(plume_scope_push(&ninth, 1), PLUME_ENOMEM); /* a 10th too */
    assert_true(plume_hot1_thread_.overlay == st[PLUME_OVERLAY_MAX_DEPTH]);
    plume_scope_pop(); /* the 10th's: no-op */
    plume_scope_pop(); /* the 9th's: no-op */
    assert_true(plume_hot1_thread_.overlay == st[PLUME_OVERLAY_MAX_DEPTH]);
    for (uint32_t i = PLUME_OVERLAY_MAX_DEPTH; i > 0; i--) {
        plume_scope_pop();
        assert_true(plume_hot1_thread_.overlay == st[i - 1]);
    }
    assert_true(plume_hot1_thread_.overlay == 0);
    assert_int_equal(plume_overlay.depth, 0);
    assert_int_equal(plume_overlay.overflow, 0);
}

static void overlay_size_limit(void **state)
{
    (void)state;
    char *big = malloc(4096);
    assert_non_null(big);
    plume_field_t small = plume_i64("a", 1);
    assert_int_equal(plume_scope_push(&small, 1), PLUME_OK);
    uint64_t sa = plume_hot1_thread_.overlay;
    plume_field_t huge = sized_field(big, 2048);
    assert_int_equal(plume_scope_push(&huge, 1), PLUME_ENOMEM);
    assert_true(plume_hot1_thread_.overlay == sa); /* nothing pushed */
    plume_scope_pop(); /* the refused push's: pops nothing else */
    assert_true(plume_hot1_thread_.overlay == sa);
    /* exactly the rest of the 1 KiB fits, one byte more does not */
    uint32_t room = PLUME_OVERLAY_MAX_BYTES - (uint32_t)(sa >> 32);
    plume_field_t over = sized_field(big, room + 1);
    assert_int_equal(plume_scope_push(&over, 1), PLUME_ENOMEM);
    assert_true(plume_hot1_thread_.overlay == sa);
    plume_scope_pop();
    assert_true(plume_hot1_thread_.overlay == sa);
    plume_field_t fit = sized_field(big, room);
    assert_int_equal(plume_scope_push(&fit, 1), PLUME_OK);
    uint64_t full = plume_hot1_thread_.overlay;
    assert_int_equal(full >> 32, PLUME_OVERLAY_MAX_BYTES);
    plume_field_t tiny = plume_bool("b", 1);
    assert_int_equal(plume_scope_push(&tiny, 1), PLUME_ENOMEM);
    assert_true(plume_hot1_thread_.overlay == full);
    plume_scope_pop();
    assert_true(plume_hot1_thread_.overlay == full);
    plume_scope_pop();
    assert_true(plume_hot1_thread_.overlay == sa);
    plume_scope_pop();
    assert_true(plume_hot1_thread_.overlay == 0);
    assert_int_equal(plume_overlay.depth, 0);
    free(big);
}

/* ---- what records carry ---- */

#define MAX_SEEN 16

typedef struct seen {
    size_t n;
    size_t len[MAX_SEEN];
    uint8_t bytes[MAX_SEEN][2048];
} seen_t;

static void on_record(void *ctx, const plume_thread_t *t, const uint8_t *rec, size_t len)
{
    (void)t;
    seen_t *s = ctx;
    if (s->n < MAX_SEEN && len <= sizeof(s->bytes[0])) {
        memcpy(s->bytes[s->n], rec, len);
        s->len[s->n] = len;
    }
    s->n++;
}

static void drain_all(seen_t *s)
{
    while (plume_drain(on_record, s, 0) > 0) {
    }
}

/* Asserts record i is readable, has `message`, and exactly the n keys given
 * (str keys, in order) in its fields map. */
static plume_record_view_t expect_record(const seen_t *s, size_t i, const char *message,
                                         const char *const *keys, uint32_t n)
{
    plume_record_view_t v;
    assert_true(i < s->n);
    assert_true(plume_record_read(s->bytes[i], s->len[i], &v));
    assert_non_null(v.message);
    assert_int_equal(v.message_len, strlen(message));
    assert_memory_equal(v.message, message, v.message_len);
    assert_int_equal(v.nfields, n);
    plume_mp_reader_t r;
    plume_mp_value_t m, k;
    plume_mp_reader_init(&r, v.fields, v.fields_len);
    assert_true(plume_mp_read(&r, &m));
    for (uint32_t j = 0; j < n; j++) {
        assert_true(plume_mp_read(&r, &k));
        if (!plume_mp_str_eq(&k, keys[j]))
            fail_msg("record %zu field %u: want key \"%s\"", i, j, keys[j]);
        assert_true(plume_mp_skip(&r));
    }
    assert_ptr_equal(r.p, v.fields + v.fields_len);
    return v;
}

/* Another thread logging while this one has a push: its record has only
 * its own fields (the overlay is per thread). */
static void *log_elsewhere(void *arg)
{
    (void)arg;
    PLUME_INFO("other thread", plume_i64("mine", 1));
    return NULL;
}

static void log_records_carry_overlay(void **state)
{
    (void)state;
    seen_t *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    drain_all(s);
    memset(s, 0, sizeof(*s));
    plume_sdk_set_running(true, 64 * 1024, PLUME_LEVEL_TRACE, 1.0);

    PLUME_SCOPE_PUSH(plume_str("request_id", "r-9"), plume_i64("attempt", 3));
    PLUME_INFO("under one", plume_str("k", "v"));
    PLUME_SCOPE_PUSH(plume_bool("retry", 1));
    PLUME_WARN("under two");
    PLUME_BREADCRUMB("http", "GET /x", plume_i64("status", 200));
    plume_breadcrumb(NULL, "bare", NULL, 0);
    plume_scope_pop();
    PLUME_ERROR("popped one", plume_i64("code", 7));
    plume_scope_pop();
    PLUME_INFO("popped both", plume_str("k", "v"));
    /* 10 fields + 6 overlay pairs: 16 entries, a map16 header */
    PLUME_SCOPE_PUSH(plume_i64("o1", 1), plume_i64("o2", 2), plume_i64("o3", 3),
                     plume_i64("o4", 4), plume_i64("o5", 5), plume_i64("o6", 6));
    PLUME_INFO("wide", plume_i64("f1", 1), plume_i64("f2", 2), plume_i64("f3", 3),
               plume_i64("f4", 4), plume_i64("f5", 5), plume_i64("f6", 6), plume_i64("f7", 7),
               plume_i64("f8", 8), plume_i64("f9", 9), plume_i64("f10", 10));
    plume_scope_pop();
    drain_all(s); /* this thread's, first: a drain pass takes the newest thread first */
    assert_int_equal(s->n, 7);
    PLUME_SCOPE_PUSH(plume_str("main_only", "x"));
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, log_elsewhere, NULL), 0);
    pthread_join(th, NULL);
    plume_scope_pop();
    drain_all(s);
    assert_int_equal(s->n, 8);

    const char *k0[] = {"k", "request_id", "attempt"};
    plume_record_view_t v = expect_record(s, 0, "under one", k0, 3);
    assert_false(v.breadcrumb);
    plume_mp_reader_t r;
    plume_mp_value_t m, x;
    plume_mp_reader_init(&r, v.fields, v.fields_len);
    assert_true(plume_mp_read(&r, &m) && plume_mp_skip(&r) && plume_mp_skip(&r));
    assert_true(plume_mp_skip(&r) && plume_mp_read(&r, &x));
    assert_true(plume_mp_str_eq(&x, "r-9"));
    assert_true(plume_mp_skip(&r) && plume_mp_read(&r, &x));
    assert_true(x.type == PLUME_MP_UINT ? x.u == 3 : x.i == 3);

    const char *k1[] = {"request_id", "attempt", "retry"};
    expect_record(s, 1, "under two", k1, 3);
    /* breadcrumbs do not carry the overlay (log.c passes no pairs) */
    const char *k2[] = {"status"};
    v = expect_record(s, 2, "GET /x", k2, 1);
    assert_true(v.breadcrumb);
    assert_int_equal(v.category_len, 4);
    assert_memory_equal(v.category, "http", 4);
    v = expect_record(s, 3, "bare", NULL, 0);
    assert_true(v.breadcrumb);
    assert_null(v.category);
    const char *k4[] = {"code", "request_id", "attempt"};
    expect_record(s, 4, "popped one", k4, 3);
    const char *k5[] = {"k"};
    expect_record(s, 5, "popped both", k5, 1);
    const char *k6[] = {"f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8",
                        "f9", "f10", "o1", "o2", "o3", "o4", "o5", "o6"};
    v = expect_record(s, 6, "wide", k6, 16);
    assert_int_equal(v.fields[0], 0xde); /* map16 */
    const char *k7[] = {"mine"};
    expect_record(s, 7, "other thread", k7, 1);
    assert_true(plume_hot1_thread_.overlay == 0);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(overlay_nesting_restores, setup, teardown),
        cmocka_unit_test_setup_teardown(overlay_depth_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(overlay_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(log_records_carry_overlay, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
