/* SPDX-License-Identifier: MIT */
/* Call-site records (sdk/src/site.c, site.h): a learned site's record,
 * expanded by the worker, is byte for byte the ordinary record the same call
 * writes (every field type, NULL strings, strings cut at their cap, the
 * fixmap/map16 boundary with overlay pairs, breadcrumbs with and without a
 * category, no message); a call that differs from its site (message, key,
 * type, field count) is refused by the fast path; sites whose strings are
 * not literals (no size, on the stack) or with too many fields or an unknown
 * type are marked ordinary; threads learning one site at once end up with
 * one descriptor; the expander refuses every cut and malformed record; and
 * through the log call and the drain, a learned site's events read back as
 * they were logged, a mismatching call and the scope overlay included; the
 * macros make site records from literals and evaluate their arguments once. The sizes a GCC build
 * folds at the call site are given explicitly here, so that the tests also
 * run the site path when built without optimisation (the sanitizer builds). */
#include "test_support.h"
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "drain.h"
#include "mp.h"
#include "plume/plume.h"
#include "record.h"
#include "record_build.h"
#include "sdk_state.h"
#include "site.h"
#include "thread.h"

/* A field whose key counts as a literal (its size given, as GCC folds it). */
static plume_field_t lit(plume_field_t f)
{
    f.key_size_ = (unsigned)strlen(f.key) + 1u;
    return f;
}

#define MSG_SIZE(m) ((unsigned)sizeof(m))

/* The site record for the call (which must match d), written into a buffer
 * of exactly the measured size plus a guard byte. */
static uint8_t *site_record(const plume_site_desc_t *d, uint64_t stamp, plume_level_t level,
                            const char *msg, const plume_field_t *f, size_t n,
                            const plume_record_extra_t *overlay, size_t *size)
{
    uint32_t str_len[PLUME_MAX_FIELDS] = {0};
    *size = plume_site_measure(d, msg, f, n, overlay ? overlay->pairs_len : 0, str_len);
    assert_true(*size >= PLUME_SITE_HEADER);
    uint8_t *buf = malloc(*size + 1);
    assert_non_null(buf);
    buf[*size] = 0x5a;
    plume_site_write(buf, d, stamp, level, f, str_len, overlay);
    assert_int_equal(buf[*size], 0x5a); /* no more than measured */
    return buf;
}

/* Learns a fresh site for the call and checks that its record expands to
 * the ordinary record's bytes. */
static void check_same(plume_level_t level, bool breadcrumb, const char *category,
                       unsigned category_size, const char *msg, unsigned msg_size,
                       const plume_field_t *f, size_t n, const plume_record_extra_t *overlay)
{
    plume_site_t site = {0}; /* never freed: descriptors live for the process */
    const plume_site_desc_t *d =
        plume_site_learn(&site, breadcrumb, category, category_size, msg, msg_size, f, n);
    assert_non_null(d);
    assert_ptr_equal(plume_site_peek(&site), d);
    size_t got_n, want_n;
    uint8_t *rec = site_record(d, 0x0102030405060708ull, level, msg, f, n, overlay, &got_n);
    plume_record_extra_t x = {0};
    if (overlay)
        x = *overlay;
    x.breadcrumb = breadcrumb;
    x.category = category;
    uint8_t *want = plume_test_record(0x0102030405060708ull, level, msg, f, n,
                             overlay || breadcrumb ? &x : NULL, &want_n);
    plume_buf_t out;
    plume_buf_init(&out, 0);
    assert_true(plume_site_is_record(rec, got_n));
    assert_true(plume_site_expand(rec, got_n, &out));
    assert_int_equal(out.len, want_n);
    assert_memory_equal(out.data, want, want_n);
    plume_buf_free(&out);
    free(rec);
    free(want);
}

static char long_value[PLUME_RECORD_MAX_VALUE + 100];
static char long_message[PLUME_RECORD_MAX_MESSAGE + 10];

static void expands_to_the_ordinary_record(void **state)
{
    (void)state;
    plume_field_t f[] = {lit(plume_str("user", "u-7")),
                         lit(plume_i64("cents", -1999)),
                         lit(plume_u64("bytes", UINT64_MAX)),
                         lit(plume_f64("ratio", 0.25)),
                         lit(plume_bool("retry", 1)),
                         lit(plume_bool("cold", 0)),
                         lit(plume_str("none", NULL)),
                         lit(plume_str("empty", ""))};
    check_same(PLUME_LEVEL_WARN, false, NULL, 0, "payment failed", MSG_SIZE("payment failed"), f,
               8, NULL);
    check_same(PLUME_LEVEL_INFO, false, NULL, 0, NULL, 0, f, 1, NULL); /* no message */
    check_same(PLUME_LEVEL_FATAL, false, NULL, 0, "no fields", MSG_SIZE("no fields"), NULL, 0,
               NULL);
    /* a value past its cap is cut like the ordinary record cuts it */
    memset(long_value, 'v', sizeof(long_value) - 1);
    plume_field_t big = lit(plume_str("blob", long_value));
    check_same(PLUME_LEVEL_INFO, false, NULL, 0, "big", MSG_SIZE("big"), &big, 1, NULL);
    /* a message past its cap (its size says so) */
    memset(long_message, 'm', sizeof(long_message) - 1);
    check_same(PLUME_LEVEL_INFO, false, NULL, 0, long_message, sizeof(long_message), NULL, 0,
               NULL);
    /* overlay pairs after the fields; 12 fields + 5 pairs cross into map16 */
    static const char *const keys[12] = {"k0", "k1", "k2", "k3", "k4", "k5",
                                         "k6", "k7", "k8", "k9", "k10", "k11"};
    plume_field_t many[12];
    for (int i = 0; i < 12; i++)
        many[i] = lit(plume_i64(keys[i], i));
    uint8_t pairs[5 * 4];
    for (int i = 0; i < 5; i++) {
        pairs[4 * i] = 0xa2; /* "p<i>": <i> */
        pairs[4 * i + 1] = 'p';
        pairs[4 * i + 2] = (uint8_t)('0' + i);
        pairs[4 * i + 3] = (uint8_t)i;
    }
    plume_record_extra_t ov = {.pairs = pairs, .pairs_len = sizeof(pairs), .npairs = 5};
    check_same(PLUME_LEVEL_DEBUG, false, NULL, 0, "many", MSG_SIZE("many"), many, 12, &ov);
    ov.npairs = 4; /* 16 entries: the first map16 */
    ov.pairs_len = 16;
    check_same(PLUME_LEVEL_DEBUG, false, NULL, 0, "sixteen", MSG_SIZE("sixteen"), many, 12, &ov);
    ov.npairs = 3; /* 15: the last fixmap */
    ov.pairs_len = 12;
    check_same(PLUME_LEVEL_DEBUG, false, NULL, 0, "few", MSG_SIZE("few"), many, 12, &ov);
    /* the most fields a site checks, every type (the types' nibbles fill
     * the descriptor's 64 bits) */
    static const char *const keys16[16] = {"a", "b", "c", "d", "e", "f", "g", "h",
                                           "i", "j", "k", "l", "m", "n", "o", "p"};
    plume_field_t sixteen[16];
    for (int i = 0; i < 16; i++) {
        switch (i % 5) {
        case 0: sixteen[i] = lit(plume_str(keys16[i], "v")); break;
        case 1: sixteen[i] = lit(plume_i64(keys16[i], -i)); break;
        case 2: sixteen[i] = lit(plume_u64(keys16[i], (uint64_t)i)); break;
        case 3: sixteen[i] = lit(plume_f64(keys16[i], i * 0.5)); break;
        default: sixteen[i] = lit(plume_bool(keys16[i], i & 1)); break;
        }
    }
    check_same(PLUME_LEVEL_WARN, false, NULL, 0, "all", MSG_SIZE("all"), sixteen, 16, NULL);
    /* breadcrumbs: the category last, or nil */
    check_same(PLUME_LEVEL_INFO, true, "http", MSG_SIZE("http"), "GET /", MSG_SIZE("GET /"), f,
               2, NULL);
    check_same(PLUME_LEVEL_INFO, true, NULL, 0, "GET /", MSG_SIZE("GET /"), NULL, 0, NULL);
}

static void a_different_call_is_refused(void **state)
{
    (void)state;
    plume_field_t f[] = {lit(plume_str("user", "u-7")), lit(plume_i64("cents", 1))};
    plume_site_t site = {0};
    const plume_site_desc_t *d =
        plume_site_learn(&site, false, NULL, 0, "paid", MSG_SIZE("paid"), f, 2);
    assert_non_null(d);
    uint32_t sl[PLUME_MAX_FIELDS];
    assert_true(plume_site_measure(d, "paid", f, 2, 0, sl) > 0);
    static char other_msg[] = "paid"; /* mutable: never merged with the literal */
    assert_int_equal(plume_site_measure(d, other_msg, f, 2, 0, sl), 0); /* same text, other pointer */
    assert_int_equal(plume_site_measure(d, "paid", f, 1, 0, sl), 0);
    plume_field_t g[2] = {f[0], lit(plume_u64("cents", 1))}; /* other type */
    assert_int_equal(plume_site_measure(d, "paid", g, 2, 0, sl), 0);
    static char other_key[] = "cents";
    g[1] = lit(plume_i64(other_key, 1)); /* other key pointer */
    assert_int_equal(plume_site_measure(d, "paid", g, 2, 0, sl), 0);
}

static void unlearnable_sites_are_ordinary(void **state)
{
    (void)state;
    plume_field_t sized = lit(plume_i64("n", 1));
    plume_field_t unsized = plume_i64("n", 1);
    unsized.key_size_ = 0;
    char on_stack[] = "n";
    plume_field_t stack_key = plume_i64(on_stack, 1);
    stack_key.key_size_ = 2;
    plume_field_t odd_type = sized;
    odd_type.type = (plume_field_type_t)99;
    plume_field_t too_many[PLUME_MAX_FIELDS + 1];
    for (int i = 0; i <= PLUME_MAX_FIELDS; i++)
        too_many[i] = sized;
    char stack_msg[] = "hello";
    struct {
        const char *msg;
        unsigned msg_size;
        const plume_field_t *f;
        size_t n;
    } cases[] = {
        {"m", 0, NULL, 0},                   /* message size unknown */
        {stack_msg, sizeof(stack_msg), NULL, 0}, /* message on the stack */
        {"m", 2, &unsized, 1},
        {"m", 2, &stack_key, 1},
        {"m", 2, &odd_type, 1},
        {"m", 2, too_many, PLUME_MAX_FIELDS + 1},
        {"m", 2, too_many, PLUME_HOT_SITE_FIELDS_ + 1}, /* more than a site checks */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        plume_site_t site = {0};
        assert_null(plume_site_learn(&site, false, NULL, 0, cases[i].msg, cases[i].msg_size,
                                     cases[i].f, cases[i].n));
        assert_ptr_equal(plume_site_peek(&site), PLUME_SITE_ORDINARY);
    }
    plume_site_t site = {0}; /* a breadcrumb's category must be a literal too */
    assert_null(plume_site_learn(&site, true, "http", 0, "m", 2, NULL, 0));
}

typedef struct race {
    plume_site_t *site;
    const plume_site_desc_t *got;
} race_t;

static void *learn_one(void *arg)
{
    race_t *r = arg;
    plume_field_t f = lit(plume_i64("n", 1));
    r->got = plume_site_learn(r->site, false, NULL, 0, "race", MSG_SIZE("race"), &f, 1);
    return NULL;
}

static void one_descriptor_per_site(void **state)
{
    (void)state;
    static plume_site_t site;
    enum { N = 8 };
    race_t r[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        r[i] = (race_t){&site, NULL};
        assert_int_equal(pthread_create(&th[i], NULL, learn_one, &r[i]), 0);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < N; i++) {
        assert_non_null(r[i].got);
        assert_ptr_equal(r[i].got, plume_site_peek(&site));
    }
}

static void malformed_records_are_refused(void **state)
{
    (void)state;
    plume_field_t f[] = {lit(plume_str("user", "u-7")), lit(plume_f64("ms", 1.5)),
                         lit(plume_bool("ok", 1))};
    plume_site_t site = {0};
    const plume_site_desc_t *d =
        plume_site_learn(&site, false, NULL, 0, "m", MSG_SIZE("m"), f, 3);
    assert_non_null(d);
    uint8_t pairs[] = {0xa1, 'p', 0x01};
    plume_record_extra_t ov = {.pairs = pairs, .pairs_len = 3, .npairs = 1};
    size_t n;
    uint8_t *rec = site_record(d, 1, PLUME_LEVEL_INFO, "m", f, 3, &ov, &n);
    plume_buf_t out;
    plume_buf_init(&out, 0);
    assert_true(plume_site_expand(rec, n, &out));
    for (size_t cut = 0; cut < n; cut++) /* every cut short record */
        assert_false(plume_site_expand(rec, cut, &out));
    uint8_t *bad = malloc(n + 1);
    assert_non_null(bad);
    struct {
        size_t at;
        uint8_t value;
    } edits[] = {
        {0, 0x94},                   /* not the tag */
        {1, 6},                      /* level past fatal */
        {1, PLUME_SITE_BREADCRUMB},  /* a breadcrumb, but the site is a log */
        {PLUME_SITE_HEADER, 4},      /* overlay byte count off by one */
        {PLUME_SITE_HEADER + 8 + 3, 0x7f}, /* string length past the cap */
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        memcpy(bad, rec, n);
        bad[edits[i].at] = edits[i].value;
        assert_false(plume_site_expand(bad, n, &out));
    }
    memcpy(bad, rec, n);
    bad[n] = 0; /* a byte after the record */
    assert_false(plume_site_expand(bad, n + 1, &out));
    free(bad);
    free(rec);
    plume_buf_free(&out);
}

/* Through the log call and the drain. */
typedef struct seen {
    size_t records, bad;
    uint8_t bytes[8][256];
    size_t len[8];
} seen_t;

static void on_record(void *ctx, const plume_thread_t *t, const uint8_t *rec, size_t len)
{
    (void)t;
    seen_t *s = ctx;
    plume_record_view_t v;
    if (!plume_record_read(rec, len, &v) || len > sizeof(s->bytes[0])) {
        s->bad++;
        return;
    }
    if (s->records < 8) {
        memcpy(s->bytes[s->records], rec, len);
        s->len[s->records] = len;
    }
    s->records++;
}

/* The value of the first field of record i as a string. */
static void assert_first_str(const seen_t *s, size_t i, const char *key, const char *want)
{
    plume_record_view_t v;
    assert_true(plume_record_read(s->bytes[i], s->len[i], &v));
    plume_mp_reader_t r;
    plume_mp_value_t m, k, x;
    plume_mp_reader_init(&r, v.fields, v.fields_len);
    assert_true(plume_mp_read(&r, &m) && plume_mp_read(&r, &k) && plume_mp_read(&r, &x));
    assert_int_equal(k.len, strlen(key));
    assert_memory_equal(k.s, key, k.len);
    assert_int_equal(x.len, strlen(want));
    assert_memory_equal(x.s, want, x.len);
}

/* Empties the rings (earlier tests' records), clears *s and starts the
 * SDK's log calls (without a worker: the test drains). */
static void start_running(seen_t *s)
{
    plume_clock_init();
    memset(s, 0, sizeof(*s));
    while (plume_drain(on_record, s, 0) > 0) {
    }
    memset(s, 0, sizeof(*s));
    plume_sdk_set_running(true, 64 * 1024, PLUME_LEVEL_TRACE, 1.0);
}

static void log_calls_through_the_drain(void **state)
{
    (void)state;
    seen_t s;
    start_running(&s);
    static plume_site_t site, crumb_site;
    char user[8];
    static char other_key[] = "user";
    for (int i = 0; i < 3; i++) {
        snprintf(user, sizeof(user), "u-%d", i);
        plume_field_t f[2] = {lit(plume_str(i == 2 ? other_key : "user", user)),
                              lit(plume_i64("i", i))};
        plume_log_site_(&site, PLUME_LEVEL_INFO, "hello", MSG_SIZE("hello"), f, 2);
    }
    /* a learned site's call with the thread's scope overlay: its pairs follow
     * the call's fields */
    plume_field_t req = lit(plume_str("request_id", "r-42"));
    assert_int_equal(plume_scope_push(&req, 1), PLUME_OK);
    for (int i = 0; i < 2; i++) {
        plume_field_t f[2] = {lit(plume_str("user", "scoped")), lit(plume_i64("i", i))};
        plume_log_site_(&site, PLUME_LEVEL_INFO, "hello", MSG_SIZE("hello"), f, 2);
    }
    plume_scope_pop();
    strcpy(user, "XXX"); /* the records hold their own copies */
    plume_breadcrumb_site_(&crumb_site, "nav", MSG_SIZE("nav"), "moved", MSG_SIZE("moved"),
                           NULL, 0);
    const plume_site_desc_t *d = plume_site_peek(&site);
    assert_true(d != NULL && d != PLUME_SITE_ORDINARY); /* the site was learned */
    while (plume_drain(on_record, &s, 0) > 0) {
    }
    plume_sdk_set_running(false, 0, 0, 1.0);
    assert_int_equal(s.bad, 0);
    assert_int_equal(s.records, 6);
    for (size_t i = 0; i < 3; i++) {
        char want[8];
        snprintf(want, sizeof(want), "u-%zu", i);
        assert_first_str(&s, i, "user", want); /* the third took the ordinary path */
    }
    plume_record_view_t v;
    for (size_t i = 3; i < 5; i++) {
        assert_first_str(&s, i, "user", "scoped");
        assert_true(plume_record_read(s.bytes[i], s.len[i], &v));
        assert_int_equal(v.nfields, 3);
        plume_mp_reader_t r;
        plume_mp_value_t m, k, x;
        plume_mp_reader_init(&r, v.fields, v.fields_len);
        assert_true(plume_mp_read(&r, &m));
        for (int skip = 0; skip < 4; skip++) /* user, i */
            assert_true(plume_mp_read(&r, &x));
        assert_true(plume_mp_read(&r, &k) && plume_mp_read(&r, &x));
        assert_int_equal(k.len, 10);
        assert_memory_equal(k.s, "request_id", 10);
        assert_int_equal(x.len, 4);
        assert_memory_equal(x.s, "r-42", 4);
    }
    assert_true(plume_record_read(s.bytes[5], s.len[5], &v));
    assert_true(v.breadcrumb);
    assert_int_equal(v.category_len, 3);
    assert_memory_equal(v.category, "nav", 3);
}

static int msg_calls, key_calls, cat_calls;
static const char *count_msg(void) { msg_calls++; return "counted"; }
static const char *count_key(void) { key_calls++; return "k"; }
static const char *count_cat(void) { cat_calls++; return "cat"; }

/* The first byte of the oldest record in the calling thread's ring. */
static uint8_t first_record_byte(void)
{
    plume_thread_t *t = plume_thread_get(64 * 1024, 16 * 1024);
    assert_non_null(t);
    size_t len;
    const uint8_t *rec = plume_ring_peek(t->ring, &len);
    assert_non_null(rec);
    return rec[0];
}

/* The macros themselves: literal message and keys make a site record when
 * the compiler lets the SDK see them as literals (GCC when optimising,
 * clang always); every argument is evaluated once. */
static void macros_learn_literal_sites(void **state)
{
    (void)state;
    seen_t s;
    start_running(&s);
    PLUME_INFO("literal", plume_i64("k", 1), plume_str("s", "v"));
#if defined(__clang__) || defined(__OPTIMIZE__)
    assert_int_equal(first_record_byte(), PLUME_SITE_TAG);
#else
    assert_int_equal(first_record_byte(), 0x94); /* the ordinary record */
#endif
    PLUME_INFO(count_msg(), plume_i64(count_key(), 1));
    PLUME_BREADCRUMB(count_cat(), count_msg(), plume_bool(count_key(), 1));
    assert_int_equal(msg_calls, 2);
    assert_int_equal(key_calls, 2);
    assert_int_equal(cat_calls, 1);
    while (plume_drain(on_record, &s, 0) > 0) {
    }
    plume_sdk_set_running(false, 0, 0, 1.0);
    assert_int_equal(s.bad, 0);
    assert_int_equal(s.records, 3);
    plume_record_view_t v;
    assert_true(plume_record_read(s.bytes[1], s.len[1], &v));
    assert_int_equal(v.message_len, 7);
    assert_memory_equal(v.message, "counted", 7);
    assert_true(plume_record_read(s.bytes[2], s.len[2], &v));
    assert_true(v.breadcrumb);
    assert_int_equal(v.category_len, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expands_to_the_ordinary_record),
        cmocka_unit_test(a_different_call_is_refused),
        cmocka_unit_test(unlearnable_sites_are_ordinary),
        cmocka_unit_test(one_descriptor_per_site),
        cmocka_unit_test(malformed_records_are_refused),
        cmocka_unit_test(log_calls_through_the_drain),
        cmocka_unit_test(macros_learn_literal_sites),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
