/* SPDX-License-Identifier: MIT */
/* The macros' inline fast path (sdk/include/plume/plume_hot.h), on x86-64.
 * plume_hot_put_() writes what the library writes for the same call (every
 * field type, NULL and long strings, six fields, breadcrumbs, the overlay),
 * read back through the drain; it refuses, writing nothing, every call it
 * must leave to the library (unlearned site, another message, key, type,
 * count or category, error level, below the minimum level, SDK stopped,
 * sampling, thread without a ring, call in progress, drops to report,
 * overlay where it has no bytes, full ring); and the PLUME_* macros, built
 * here with optimisation in every build so that they inline it, reach the
 * library (its entry points are wrapped by the linker to count) only for a
 * site's first call and for what the fast path refuses. No worker runs: the
 * test drains. */
#include "test_support.h"
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "clock.h"
#include "drain.h"
#include "overlay.h"
#include "plume/plume.h"
#include "record.h"
#include "sdk_state.h"
#include "site.h"
#include "thread.h"

#if defined(PLUME_HOT_AVAILABLE_)

/* The library's macro entry points, wrapped (-Wl,--wrap) to count calls. */
static unsigned log_site_calls, crumb_site_calls;
void __real_plume_log_site_(plume_site_t *site, plume_level_t level, const char *message,
                            unsigned message_size, const plume_field_t *fields, size_t nfields);
void __real_plume_breadcrumb_site_(plume_site_t *site, const char *category,
                                   unsigned category_size, const char *message,
                                   unsigned message_size, const plume_field_t *fields,
                                   size_t nfields);
void __wrap_plume_log_site_(plume_site_t *site, plume_level_t level, const char *message,
                            unsigned message_size, const plume_field_t *fields, size_t nfields)
{
    log_site_calls++;
    __real_plume_log_site_(site, level, message, message_size, fields, nfields);
}
void __wrap_plume_breadcrumb_site_(plume_site_t *site, const char *category,
                                   unsigned category_size, const char *message,
                                   unsigned message_size, const plume_field_t *fields,
                                   size_t nfields)
{
    crumb_site_calls++;
    __real_plume_breadcrumb_site_(site, category, category_size, message, message_size, fields,
                                  nfields);
}

/* plume_hot_put_() with the call's count and types unknown (as the library
 * runs it), out of line; the macros' constant ones are the third test's. */
__attribute__((noinline)) static int hot_put(plume_site_t *site, int level, int breadcrumb,
                                             const char *category, const char *message,
                                             const plume_field_t *f, size_t n,
                                             const unsigned char *overlay_bytes)
{
    return plume_hot_put_(site, level, breadcrumb, category, message, f, n, overlay_bytes);
}

/* The records one drain pass saw (raw bytes, as the drain hands them on:
 * site records already expanded). */
typedef struct seen {
    size_t records;
    uint8_t bytes[4][40000];
    size_t len[4];
} seen_t;
static seen_t seen;

static void on_record(void *ctx, const plume_thread_t *t, const uint8_t *rec, size_t len)
{
    (void)ctx;
    (void)t;
    if (seen.records < 4 && len <= sizeof(seen.bytes[0])) {
        memcpy(seen.bytes[seen.records], rec, len);
        seen.len[seen.records] = len;
    }
    seen.records++;
}

static void drain(void)
{
    memset(&seen, 0, sizeof(seen));
    while (plume_drain(on_record, NULL, 0) > 0) {
    }
}

static void start(int min_level, double sample_rate)
{
    drain();
    plume_sdk_set_running(true, 256 * 1024, min_level, sample_rate); /* records up to 64 KiB */
}

static int setup(void **state)
{
    (void)state;
    plume_clock_init();
    if (!plume_clock_uses_tsc())
        return 0; /* each test skips: the fast path is off without TSC stamps */
    start(PLUME_LEVEL_TRACE, 1.0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    plume_sdk_set_running(false, 0, 0, 1.0);
    return 0;
}

static void need_tsc(void)
{
    if (!plume_clock_uses_tsc())
        skip();
}

/* Record i of the last drain, read. */
static plume_record_view_t view(size_t i)
{
    plume_record_view_t v;
    assert_true(i < seen.records);
    assert_true(plume_record_read(seen.bytes[i], seen.len[i], &v));
    return v;
}

/* Two records' views are the same event (the stamps aside). */
static void assert_same_event(plume_record_view_t a, plume_record_view_t b)
{
    assert_int_equal(a.level, b.level);
    assert_int_equal(a.breadcrumb, b.breadcrumb);
    assert_int_equal(a.message_len, b.message_len);
    if (a.message_len)
        assert_memory_equal(a.message, b.message, a.message_len);
    assert_int_equal(a.category_len, b.category_len);
    if (a.category_len)
        assert_memory_equal(a.category, b.category, a.category_len);
    assert_int_equal(a.nfields, b.nfields);
    assert_int_equal(a.fields_len, b.fields_len);
    assert_memory_equal(a.fields, b.fields, a.fields_len);
}

/* The calling thread's producer position (its ring's end of writes). */
static uint64_t wpos(void) { return plume_hot1_thread_.prod.wpos; }

/* Learns `site` with a library call, then makes the same call through the
 * fast path and through the library's ordinary path (no site); both
 * records must be the same event, the fast path's stamped between the TSC
 * reads around it. */
static void check_same(int breadcrumb, const char *category, int level, const char *msg,
                       unsigned msg_size, const plume_field_t *f, size_t n,
                       const unsigned char *overlay_bytes)
{
    plume_site_t site = {0}; /* learned here; descriptors live for the process */
    if (breadcrumb)
        __real_plume_breadcrumb_site_(&site, category, category ? (unsigned)strlen(category) + 1 : 0,
                                      msg, msg_size, f, n);
    else
        __real_plume_log_site_(&site, (plume_level_t)level, msg, msg_size, f, n);
    assert_non_null(plume_site_peek(&site));
    drain();
    assert_int_equal(seen.records, 1);

    uint64_t t0 = __builtin_ia32_rdtsc();
    assert_int_equal(hot_put(&site, level, breadcrumb, category, msg, f, n, overlay_bytes), 1);
    uint64_t t1 = __builtin_ia32_rdtsc();
    if (breadcrumb)
        plume_breadcrumb(category, msg, f, n);
    else
        plume_log((plume_level_t)level, msg, f, n);
    drain();
    assert_int_equal(seen.records, 2);
    plume_record_view_t fast = view(0), ordinary = view(1);
    assert_same_event(fast, ordinary);
    assert_true(fast.stamp >= t0 && fast.stamp <= t1);
}

static const char LONG_VALUE[] = "a value longer than the thirty-two bytes copied inline";

static void writes_what_the_library_writes(void **state)
{
    (void)state;
    need_tsc();
    char *huge = malloc(PLUME_RECORD_MAX_VALUE + 100); /* cut at the cap, both ways */
    assert_non_null(huge);
    memset(huge, 'h', PLUME_RECORD_MAX_VALUE + 99);
    huge[PLUME_RECORD_MAX_VALUE + 99] = '\0';
    char on_stack[8] = "u-7"; /* values may live anywhere: they are copied */
    const plume_field_t three[] = {plume_str_sized_("user", 5, on_stack),
                                   plume_i64_sized_("cents", 6, -1234),
                                   plume_f64_sized_("ms", 3, 0.125)};
    check_same(0, NULL, PLUME_LEVEL_INFO, "paid", 5, three, 3, NULL);
    check_same(0, NULL, PLUME_LEVEL_TRACE, "no fields", 10, NULL, 0, NULL);
    check_same(0, NULL, PLUME_LEVEL_WARN, NULL, 0, three, 1, NULL); /* nil message */
    const plume_field_t six[] = {plume_str_sized_("null", 5, NULL),
                                 plume_str_sized_("long", 5, LONG_VALUE),
                                 plume_u64_sized_("u", 2, UINT64_MAX),
                                 plume_bool_sized_("b", 2, 1),
                                 plume_str_sized_("empty", 6, ""),
                                 plume_str_sized_("huge", 5, huge)};
    check_same(0, NULL, PLUME_LEVEL_DEBUG, "six", 4, six, 6, NULL);
    check_same(1, "http", PLUME_LEVEL_INFO, "GET /", 6, three, 3, NULL);
    check_same(1, NULL, PLUME_LEVEL_INFO, "no category", 12, six, 6, NULL);

    /* under an overlay: with the thread's pairs, the same as the library */
    const plume_field_t req = plume_str("request_id", "r-42");
    assert_int_equal(plume_scope_push(&req, 1), PLUME_OK);
    check_same(0, NULL, PLUME_LEVEL_INFO, "paid", 5, three, 3, plume_overlay.bytes);
    plume_record_view_t v = view(0);
    assert_int_equal(v.nfields, 4); /* the call's three and the overlay's one */
    plume_scope_pop();
    free(huge);
}

/* Asserts that the call is refused and writes nothing. */
#define ASSERT_REFUSED(site, level, crumb, cat, msg, f, n, ob)                                 \
    do {                                                                                       \
        uint64_t before_ = wpos();                                                             \
        assert_int_equal(hot_put((site), (level), (crumb), (cat), (msg), (f), (n), (ob)), \
                         0);                                                                   \
        assert_true(wpos() == before_);                                                        \
    } while (0)

static void *fresh_thread(void *arg)
{
    plume_site_t *site = arg;
    const plume_field_t f = plume_i64_sized_("n", 2, 1);
    assert_null(plume_hot1_thread_.prod.data); /* no ring before its first call */
    ASSERT_REFUSED(site, PLUME_LEVEL_INFO, 0, NULL, "m", &f, 1, NULL);
    return NULL;
}

static void refuses_what_it_must_leave_to_the_library(void **state)
{
    (void)state;
    need_tsc();
    static const char msg[] = "m", other_msg[] = "m";
    static const char key[] = "n", other_key[] = "n";
    const plume_field_t f = plume_i64_sized_(key, 2, 1);
    plume_site_t site = {0}, crumb = {0};

    ASSERT_REFUSED(&site, PLUME_LEVEL_INFO, 0, NULL, msg, &f, 1, NULL); /* not learned */
    __real_plume_log_site_(&site, PLUME_LEVEL_INFO, msg, 2, &f, 1);
    __real_plume_breadcrumb_site_(&crumb, "c", 2, msg, 2, &f, 1);
    drain();
    assert_int_equal(seen.records, 2);
    assert_int_equal(hot_put(&site, PLUME_LEVEL_INFO, 0, NULL, msg, &f, 1, NULL), 1);
    assert_int_equal(hot_put(&crumb, PLUME_LEVEL_INFO, 1, "c", msg, &f, 1, NULL), 1);

    /* not the call the site learned */
    const plume_field_t other_k = plume_i64_sized_(other_key, 2, 1);
    const plume_field_t other_t = plume_u64_sized_(key, 2, 1);
    const plume_field_t two[] = {f, f};
    ASSERT_REFUSED(&site, PLUME_LEVEL_INFO, 0, NULL, other_msg, &f, 1, NULL);
    ASSERT_REFUSED(&site, PLUME_LEVEL_INFO, 0, NULL, msg, &other_k, 1, NULL);
    ASSERT_REFUSED(&site, PLUME_LEVEL_INFO, 0, NULL, msg, &other_t, 1, NULL);
    ASSERT_REFUSED(&site, PLUME_LEVEL_INFO, 0, NULL, msg, two, 2, NULL);
    ASSERT_REFUSED(&site, PLUME_LEVEL_INFO, 0, NULL, msg, two, 0, NULL);
    ASSERT_REFUSED(&crumb, PLUME_LEVEL_INFO, 1, "d", msg, &f, 1, NULL); /* category */

    /* levels: errors always go to the library; the minimum level */
    ASSERT_REFUSED(&site, PLUME_LEVEL_ERROR, 0, NULL, msg, &f, 1, NULL);
    ASSERT_REFUSED(&site, PLUME_LEVEL_FATAL, 0, NULL, msg, &f, 1, NULL);
    start(PLUME_LEVEL_WARN, 1.0);
    ASSERT_REFUSED(&site, PLUME_LEVEL_INFO, 0, NULL, msg, &f, 1, NULL);
    assert_int_equal(hot_put(&site, PLUME_LEVEL_WARN, 0, NULL, msg, &f, 1, NULL), 1);
    /* breadcrumbs have no level: still taken */
    assert_int_equal(hot_put(&crumb, PLUME_LEVEL_INFO, 1, "c", msg, &f, 1, NULL), 1);

    /* sampling, and a stopped SDK: nothing at all */
    start(PLUME_LEVEL_TRACE, 0.5);
    ASSERT_REFUSED(&site, PLUME_LEVEL_INFO, 0, NULL, msg, &f, 1, NULL);
    ASSERT_REFUSED(&crumb, PLUME_LEVEL_INFO, 1, "c", msg, &f, 1, NULL);
    plume_sdk_set_running(false, 0, 0, 1.0);
    ASSERT_REFUSED(&site, PLUME_LEVEL_INFO, 0, NULL, msg, &f, 1, NULL);
    ASSERT_REFUSED(&crumb, PLUME_LEVEL_INFO, 1, "c", msg, &f, 1, NULL);
    start(PLUME_LEVEL_TRACE, 1.0);

    /* the thread: a call in progress (a signal handler's), drops to report */
    plume_producer_t *p = &plume_hot1_thread_.prod;
    assert_non_null(p->data);
    assert_ptr_equal(plume_thread_self_->ring->prod, p); /* in this thread's TLS */
    p->busy = 1;
    ASSERT_REFUSED(&site, PLUME_LEVEL_INFO, 0, NULL, msg, &f, 1, NULL);
    ASSERT_REFUSED(&crumb, PLUME_LEVEL_INFO, 1, "c", msg, &f, 1, NULL);
    p->busy = 0;
    p->unreported_drops = 1;
    ASSERT_REFUSED(&site, PLUME_LEVEL_INFO, 0, NULL, msg, &f, 1, NULL);
    p->unreported_drops = 0;

    /* an overlay it has no bytes for (inlined at a call site) */
    const plume_field_t req = plume_str("request_id", "r-42");
    assert_int_equal(plume_scope_push(&req, 1), PLUME_OK);
    ASSERT_REFUSED(&site, PLUME_LEVEL_INFO, 0, NULL, msg, &f, 1, NULL);
    assert_int_equal(hot_put(&crumb, PLUME_LEVEL_INFO, 1, "c", msg, &f, 1, NULL), 1);
    plume_scope_pop();

    /* a thread whose ring does not exist yet */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fresh_thread, &site), 0);
    pthread_join(th, NULL);

    /* a full ring: refused from the first record that does not fit, with
     * nothing written; the library then counts the drop, and reports it
     * before its next record */
    drain();
    p->tail_cache = __atomic_load_n(p->tail, __ATOMIC_ACQUIRE); /* an exact view */
    int taken = 0;
    while (hot_put(&site, PLUME_LEVEL_INFO, 0, NULL, msg, &f, 1, NULL))
        taken++;
    assert_true(taken > 1000);
    assert_true(wpos() + 32 - p->tail_cache > p->cap); /* the next 32-byte record */
    ASSERT_REFUSED(&site, PLUME_LEVEL_INFO, 0, NULL, msg, &f, 1, NULL);
    uint64_t drops = atomic_load(&plume_sdk.ring_drops);
    __real_plume_log_site_(&site, PLUME_LEVEL_INFO, msg, 2, &f, 1);
    assert_true(atomic_load(&plume_sdk.ring_drops) == drops + 1);
    assert_int_equal(p->unreported_drops, 1);
    drain();
    assert_int_equal(seen.records, (size_t)taken);
    __real_plume_log_site_(&site, PLUME_LEVEL_INFO, msg, 2, &f, 1);
    assert_int_equal(p->unreported_drops, 0);
    drain();
    assert_int_equal(seen.records, 2); /* "dropped 1", then the call */
}

/* The macros: a literal site's first call learns it in the library, later
 * ones never call in; refused calls still arrive through the library. */
static void macros_call_the_library_only_when_they_must(void **state)
{
    (void)state;
    need_tsc();
#if !defined(PLUME_HOT_CALLS_)
    skip(); /* the macros call the library (not optimising, or not x86-64) */
#else
    drain();
    log_site_calls = crumb_site_calls = 0;
    for (int i = 0; i < 100; i++) {
        PLUME_INFO("paid", plume_str("user", LONG_VALUE + (i % 10)), plume_i64("cents", i),
                   plume_f64("ms", i * 0.5), plume_bool("ok", i & 1));
        PLUME_BREADCRUMB("http", "GET /", plume_i64("status", 200 + i));
    }
    assert_int_equal(log_site_calls, 1);
    assert_int_equal(crumb_site_calls, 1);
    drain();
    assert_int_equal(seen.records, 200);

    /* what the fast path refuses: errors, and calls under an overlay */
    const plume_field_t req = plume_str("request_id", "r-42");
    assert_int_equal(plume_scope_push(&req, 1), PLUME_OK);
    for (int i = 0; i < 3; i++) {
        PLUME_INFO("under a scope", plume_i64("i", i));
        PLUME_ERROR("failed", plume_i64("i", i));
    }
    plume_scope_pop();
    assert_int_equal(log_site_calls, 1 + 6);
    drain();
    assert_int_equal(seen.records, 6);
    plume_record_view_t v = view(0);
    assert_int_equal(v.nfields, 2); /* i and the overlay's request_id */
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writes_what_the_library_writes),
        cmocka_unit_test(refuses_what_it_must_leave_to_the_library),
        cmocka_unit_test(macros_call_the_library_only_when_they_must),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

#else
int main(void) { return 77; } /* skipped (ctest: SKIP_RETURN_CODE): not x86-64 */
#endif
