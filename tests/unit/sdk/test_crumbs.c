/* SPDX-License-Identifier: MIT */
/* The worker's breadcrumb store (sdk/src/crumbs.c): of 3 * max added, the
 * max most recent come out; "most recent" goes by stamp, among those stamped
 * before the bound, oldest first even when added out of order (two threads'
 * rings drained one after the other); the store has room for cap - max more
 * while an error waits; nothing at all is written when none qualify; max 0
 * keeps nothing and max past the limit fails init. Each breadcrumb object,
 * decoded with msgpack-c (an independent reader), has exactly the keys
 * timestamp (RFC 3339 with 9 fraction digits, checked against text written
 * here: the clock's fallback path makes the stamp-to-ns conversion the
 * identity), level, category ("log" for log records, absent when nil),
 * message (absent when nil) and data (absent without fields). Records too
 * wide for a slot are stored cut: message at 512 bytes (fewer when a UTF-8
 * sequence would be split), data to the leading fields that fit in 1 KiB. */
#include "test_support.h"
#include <cmocka.h>

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crumbs.h"
#include "record.h"
#include "record_build.h"

#define T0 1700000000000000000ull /* 2023-11-14T22:13:20Z as realtime ns */

/* Asserts o is the RFC 3339 text of stamp T0 + off (off < 1 s). */
static void expect_time(const msgpack_object *o, uint64_t stamp)
{
    assert_non_null(o);
    assert_true(stamp >= T0 && stamp - T0 < 1000000000ull);
    char want[40];
    snprintf(want, sizeof(want), "2023-11-14T22:13:20.%09lluZ",
             (unsigned long long)(stamp - T0));
    assert_int_equal(o->type, MSGPACK_OBJECT_STR);
    assert_int_equal(o->via.str.size, strlen(want));
    assert_memory_equal(o->via.str.ptr, want, strlen(want));
}

/* One record built with the SDK's own writer (caller frees .bytes). */
typedef struct rec {
    uint8_t *bytes;
    size_t len;
} rec_t;

static rec_t make(uint64_t stamp, plume_level_t level, const char *msg, const plume_field_t *f,
                  size_t n, const plume_record_extra_t *extra)
{
    rec_t r;
    r.bytes = plume_test_record(stamp, level, msg, f, n, extra, &r.len);
    return r;
}

/* Reads a record back and hands it to the store, as the worker does. */
static void add_rec(plume_crumbs_t *c, rec_t r)
{
    plume_record_view_t v;
    assert_true(plume_record_read(r.bytes, r.len, &v));
    plume_crumbs_add(c, r.bytes, r.len, &v);
    free(r.bytes);
}

/* A log record (4 elements) at `level` with message `msg`. */
static void add_log(plume_crumbs_t *c, uint64_t stamp, plume_level_t level, const char *msg,
                    const plume_field_t *f, size_t n)
{
    add_rec(c, make(stamp, level, msg, f, n, NULL));
}

/* A breadcrumb record (5 elements), as plume_breadcrumb() writes it. */
static void add_crumb(plume_crumbs_t *c, uint64_t stamp, const char *category, const char *msg,
                      const plume_field_t *f, size_t n)
{
    plume_record_extra_t x = {.breadcrumb = true, .category = category};
    add_rec(c, make(stamp, PLUME_LEVEL_INFO, msg, f, n, &x));
}

/* Decodes the whole buffer as one msgpack array of `n` objects. */
static msgpack_object unpack_array(msgpack_unpacked *u, const plume_buf_t *b, uint32_t n)
{
    size_t off = 0;
    msgpack_unpacked_init(u);
    assert_false(b->failed);
    assert_int_equal(msgpack_unpack_next(u, (const char *)b->data, b->len, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, b->len);
    assert_int_equal(u->data.type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(u->data.via.array.size, n);
    return u->data;
}

static bool str_is(msgpack_object o, const char *s)
{
    return o.type == MSGPACK_OBJECT_STR && o.via.str.size == strlen(s) &&
           memcmp(o.via.str.ptr, s, o.via.str.size) == 0;
}

/* The value of `key` in map m, or NULL. */
static const msgpack_object *find(msgpack_object m, const char *key)
{
    for (uint32_t i = 0; i < m.via.map.size; i++)
        if (str_is(m.via.map.ptr[i].key, key))
            return &m.via.map.ptr[i].val;
    return NULL;
}

/* What one breadcrumb object must hold; NULL category/message: absent;
 * ndata 0: no "data" key. */
typedef struct want {
    uint64_t stamp;
    const char *level;
    const char *category;
    const char *message;
    size_t message_len;
    uint32_t ndata;
} want_t;

/* Checks object o has exactly the keys `w` implies, with those values. */
static void check_crumb(msgpack_object o, const want_t *w)
{
    assert_int_equal(o.type, MSGPACK_OBJECT_MAP);
    uint32_t keys = 2 + (w->category != NULL) + (w->message != NULL) + (w->ndata > 0);
    assert_int_equal(o.via.map.size, keys);
    static const char *const allowed[] = {"timestamp", "level", "category", "message", "data"};
    for (uint32_t i = 0; i < o.via.map.size; i++) {
        bool known = false;
        for (size_t k = 0; k < 5; k++)
            known |= str_is(o.via.map.ptr[i].key, allowed[k]);
        assert_true(known);
    }
    expect_time(find(o, "timestamp"), w->stamp);
    const msgpack_object *lv = find(o, "level");
    assert_non_null(lv);
    assert_true(str_is(*lv, w->level));
    const msgpack_object *cat = find(o, "category");
    if (w->category) {
        assert_non_null(cat);
        assert_true(str_is(*cat, w->category));
    } else {
        assert_null(cat);
    }
    const msgpack_object *msg = find(o, "message");
    if (w->message) {
        assert_non_null(msg);
        assert_int_equal(msg->type, MSGPACK_OBJECT_STR);
        assert_int_equal(msg->via.str.size, w->message_len);
        assert_memory_equal(msg->via.str.ptr, w->message, w->message_len);
    } else {
        assert_null(msg);
    }
    const msgpack_object *data = find(o, "data");
    if (w->ndata) {
        assert_non_null(data);
        assert_int_equal(data->type, MSGPACK_OBJECT_MAP);
        assert_int_equal(data->via.map.size, w->ndata);
    } else {
        assert_null(data);
    }
}

static int setup(void **state)
{
    (void)state;
    plume_clock_init_fallback(); /* stamps are realtime ns; to_ns is the identity */
    return 0;
}

/* The stamps written, in order (read back from the timestamps). */
static void expect_stamps(const plume_crumbs_t *c, uint64_t before, const uint64_t *want,
                          uint32_t n)
{
    plume_buf_t b;
    plume_buf_init(&b, 0);
    assert_int_equal(plume_crumbs_write(c, before, &b), n);
    msgpack_unpacked u;
    msgpack_object a = unpack_array(&u, &b, n);
    for (uint32_t i = 0; i < n; i++)
        expect_time(find(a.via.array.ptr[i], "timestamp"), want[i]);
    msgpack_unpacked_destroy(&u);
    plume_buf_free(&b);
}

static void keeps_most_recent_max(void **state)
{
    (void)state;
    const uint32_t max = 7;
    plume_crumbs_t c;
    assert_true(plume_crumbs_init(&c, max));
    uint64_t want[7];
    for (uint32_t i = 0; i < 3 * max; i++) {
        char msg[16];
        snprintf(msg, sizeof(msg), "c%u", i);
        add_crumb(&c, T0 + i * 1000, "seq", msg, NULL, 0);
        if (i >= 2 * max)
            want[i - 2 * max] = T0 + i * 1000;
    }
    expect_stamps(&c, UINT64_MAX, want, max);
    /* and their messages, oldest first */
    plume_buf_t b;
    plume_buf_init(&b, 0);
    assert_int_equal(plume_crumbs_write(&c, UINT64_MAX, &b), max);
    msgpack_unpacked u;
    msgpack_object a = unpack_array(&u, &b, max);
    for (uint32_t i = 0; i < max; i++) {
        char msg[16];
        snprintf(msg, sizeof(msg), "c%u", 2 * max + i);
        want_t w = {T0 + (2 * max + i) * 1000, "info", "seq", msg, strlen(msg), 0};
        check_crumb(a.via.array.ptr[i], &w);
    }
    msgpack_unpacked_destroy(&u);
    plume_buf_free(&b);

    /* "most recent" goes by stamp: added out of order, the 4 latest stamps
     * come out, sorted; with a bound, the 4 latest before it */
    plume_crumbs_t d;
    assert_true(plume_crumbs_init(&d, 4));
    const uint64_t added[] = {100, 50, 200, 10, 300, 20};
    for (size_t i = 0; i < 6; i++)
        add_crumb(&d, T0 + added[i], NULL, NULL, NULL, 0);
    const uint64_t latest[] = {T0 + 50, T0 + 100, T0 + 200, T0 + 300};
    expect_stamps(&d, UINT64_MAX, latest, 4);
    const uint64_t before_250[] = {T0 + 20, T0 + 50, T0 + 100, T0 + 200};
    expect_stamps(&d, T0 + 250, before_250, 4);
    const uint64_t before_60[] = {T0 + 10, T0 + 20, T0 + 50};
    expect_stamps(&d, T0 + 60, before_60, 3);
    plume_crumbs_free(&d);
    plume_crumbs_free(&c);
}

/* The largest store (1000): 3000 added, the last 1000 come out in order. */
static void largest_store_and_limit(void **state)
{
    (void)state;
    plume_crumbs_t c;
    assert_false(plume_crumbs_init(&c, PLUME_MAX_BREADCRUMBS_LIMIT + 1));
    plume_crumbs_free(&c); /* allowed after a failed init (convert.c does it) */
    assert_true(plume_crumbs_init(&c, PLUME_MAX_BREADCRUMBS_LIMIT));
    for (uint32_t i = 0; i < 3 * PLUME_MAX_BREADCRUMBS_LIMIT; i++)
        add_log(&c, T0 + i, PLUME_LEVEL_INFO, NULL, NULL, 0);
    uint64_t *want = malloc(PLUME_MAX_BREADCRUMBS_LIMIT * sizeof(*want));
    assert_non_null(want);
    for (uint32_t i = 0; i < PLUME_MAX_BREADCRUMBS_LIMIT; i++)
        want[i] = T0 + 2 * PLUME_MAX_BREADCRUMBS_LIMIT + i;
    expect_stamps(&c, UINT64_MAX, want, PLUME_MAX_BREADCRUMBS_LIMIT);
    free(want);
    plume_crumbs_free(&c);
}

/* An error waiting for its breadcrumbs (convert.c defers it) still finds
 * the max before its stamp after cap - max newer ones were added; one more
 * evicts the oldest of them. */
static void room_for_waiting_errors(void **state)
{
    (void)state;
    const uint32_t max = 5;
    plume_crumbs_t c;
    assert_true(plume_crumbs_init(&c, max));
    assert_true(c.cap >= max);
    const uint64_t early[] = {T0 + 1, T0 + 2, T0 + 3, T0 + 4, T0 + 5};
    for (uint32_t i = 0; i < max; i++)
        add_crumb(&c, early[i], "early", NULL, NULL, 0);
    for (uint32_t i = 0; i < c.cap - max; i++)
        add_log(&c, T0 + 1000 + i, PLUME_LEVEL_INFO, "late", NULL, 0);
    expect_stamps(&c, T0 + 6, early, max); /* the error stamped T0 + 6 */
    assert_int_equal(c.next, 0); /* every slot used once: back to the first */
    assert_int_equal(c.count, c.cap);
    add_log(&c, T0 + 999999, PLUME_LEVEL_INFO, "one more", NULL, 0);
    expect_stamps(&c, T0 + 6, early + 1, max - 1);
    assert_int_equal(c.next, 1);
    assert_int_equal(c.count, c.cap);
    plume_crumbs_free(&c);
}

static void max_zero_keeps_nothing(void **state)
{
    (void)state;
    plume_crumbs_t c;
    assert_true(plume_crumbs_init(&c, 0));
    add_crumb(&c, T0, "x", "y", NULL, 0);
    add_log(&c, T0 + 1, PLUME_LEVEL_ERROR, "z", NULL, 0);
    plume_buf_t b;
    plume_buf_init(&b, 0);
    assert_int_equal(plume_crumbs_write(&c, UINT64_MAX, &b), 0);
    assert_int_equal(b.len, 0);
    plume_buf_free(&b);
    plume_crumbs_free(&c);
}

/* Two threads' records, drained ring by ring: A's all, then B's. */
static void ordered_by_stamp_and_bounded(void **state)
{
    (void)state;
    plume_crumbs_t c;
    assert_true(plume_crumbs_init(&c, 16));
    const uint64_t a[] = {10, 30, 50, 70}, bb[] = {20, 40, 60, 80};
    for (size_t i = 0; i < 4; i++)
        add_crumb(&c, T0 + a[i], "A", NULL, NULL, 0);
    for (size_t i = 0; i < 4; i++)
        add_log(&c, T0 + bb[i], PLUME_LEVEL_WARN, "B", NULL, 0);
    const uint64_t all[] = {T0 + 10, T0 + 20, T0 + 30, T0 + 40,
                            T0 + 50, T0 + 60, T0 + 70, T0 + 80};
    expect_stamps(&c, UINT64_MAX, all, 8);
    expect_stamps(&c, T0 + 81, all, 8);
    expect_stamps(&c, T0 + 80, all, 7); /* a stamp equal to `before` is left out */
    expect_stamps(&c, T0 + 45, all, 4);
    expect_stamps(&c, T0 + 11, all, 1);

    /* which thread each came from: categories alternate A, log, A, log ... */
    plume_buf_t b;
    plume_buf_init(&b, 0);
    assert_int_equal(plume_crumbs_write(&c, UINT64_MAX, &b), 8);
    msgpack_unpacked u;
    msgpack_object arr = unpack_array(&u, &b, 8);
    for (uint32_t i = 0; i < 8; i++) {
        want_t w = i % 2 == 0 ? (want_t){all[i], "info", "A", NULL, 0, 0}
                              : (want_t){all[i], "warn", "log", "B", 1, 0};
        check_crumb(arr.via.array.ptr[i], &w);
    }
    msgpack_unpacked_destroy(&u);

    /* none qualifies: 0, and the buffer is left exactly as it was */
    plume_buf_reset(&b);
    plume_buf_append(&b, "xyz", 3);
    assert_int_equal(plume_crumbs_write(&c, T0 + 10, &b), 0);
    assert_int_equal(plume_crumbs_write(&c, 0, &b), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "xyz", 3);
    plume_buf_free(&b);
    plume_crumbs_free(&c);
}

/* Every combination of present and absent keys, and the data's content. */
static void object_keys_and_values(void **state)
{
    (void)state;
    plume_crumbs_t c;
    assert_true(plume_crumbs_init(&c, 16));
    plume_field_t f[] = {plume_i64("n", -5), plume_str("s", "v"), plume_bool("b", 1)};
    /* a log record whose map also carries overlay pairs (the scope's) */
    plume_record_lens_t lens;
    plume_field_t ov[] = {plume_str("request_id", "r-1")};
    size_t ovlen = plume_record_pairs_measure(ov, 1, &lens);
    uint8_t ovbytes[64];
    assert_true(plume_record_pairs_write(ovbytes, ov, &lens) == ovbytes + ovlen);
    plume_record_extra_t x = {.pairs = ovbytes, .pairs_len = (uint32_t)ovlen, .npairs = 1};

    add_rec(&c, make(T0 + 1, PLUME_LEVEL_WARN, "m1", f, 3, &x));   /* log: all 5 keys */
    add_crumb(&c, T0 + 2, "http", NULL, NULL, 0);                    /* no message, data */
    add_crumb(&c, T0 + 3, NULL, "only message", NULL, 0);            /* no category */
    add_crumb(&c, T0 + 4, NULL, NULL, f, 2);                         /* data only */
    add_log(&c, T0 + 5, PLUME_LEVEL_FATAL, NULL, NULL, 0);           /* category "log" */
    add_crumb(&c, T0 + 6, NULL, NULL, NULL, 0);                      /* the bare minimum */
    add_log(&c, T0 + 7, PLUME_LEVEL_TRACE, "", NULL, 0);             /* an empty message */
    const want_t want[] = {
        {T0 + 1, "warn", "log", "m1", 2, 4},
        {T0 + 2, "info", "http", NULL, 0, 0},
        {T0 + 3, "info", NULL, "only message", 12, 0},
        {T0 + 4, "info", NULL, NULL, 0, 2},
        {T0 + 5, "fatal", "log", NULL, 0, 0},
        {T0 + 6, "info", NULL, NULL, 0, 0},
        {T0 + 7, "trace", "log", "", 0, 0},
    };
    plume_buf_t b;
    plume_buf_init(&b, 0);
    assert_int_equal(plume_crumbs_write(&c, UINT64_MAX, &b), 7);
    msgpack_unpacked u;
    msgpack_object a = unpack_array(&u, &b, 7);
    for (uint32_t i = 0; i < 7; i++)
        check_crumb(a.via.array.ptr[i], &want[i]);
    /* the data maps hold the fields as given, then the overlay pairs */
    const msgpack_object *d = find(a.via.array.ptr[0], "data");
    msgpack_object_kv *kv = d->via.map.ptr;
    assert_true(str_is(kv[0].key, "n"));
    assert_int_equal(kv[0].val.type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
    assert_true(kv[0].val.via.i64 == -5);
    assert_true(str_is(kv[1].key, "s") && str_is(kv[1].val, "v"));
    assert_true(str_is(kv[2].key, "b"));
    assert_int_equal(kv[2].val.type, MSGPACK_OBJECT_BOOLEAN);
    assert_true(kv[2].val.via.boolean);
    assert_true(str_is(kv[3].key, "request_id") && str_is(kv[3].val, "r-1"));
    d = find(a.via.array.ptr[3], "data");
    assert_true(str_is(d->via.map.ptr[0].key, "n") && str_is(d->via.map.ptr[1].val, "v"));
    msgpack_unpacked_destroy(&u);
    plume_buf_free(&b);
    plume_crumbs_free(&c);
}

/* n fields "fNN" with string values of vlen bytes (caller frees *vals). */
static void wide_fields(plume_field_t *f, size_t n, char (*keys)[4], char **vals, size_t vlen)
{
    *vals = malloc(vlen + 1);
    assert_non_null(*vals);
    memset(*vals, 'v', vlen);
    (*vals)[vlen] = '\0';
    for (size_t i = 0; i < n; i++) {
        snprintf(keys[i], 4, "f%02u", (unsigned)(i % 100));
        f[i] = plume_str(keys[i], *vals);
    }
}

/* A 64 KiB message whose byte 511-512 is "é": cut at 512 would split it. */
static char *wide_message(void)
{
    char *m = malloc(PLUME_RECORD_MAX_MESSAGE + 1);
    assert_non_null(m);
    memset(m, 'a', 511);
    m[511] = (char)0xc3;
    m[512] = (char)0xa9;
    memset(m + 513, 'b', PLUME_RECORD_MAX_MESSAGE - 513);
    m[PLUME_RECORD_MAX_MESSAGE] = '\0';
    return m;
}

/* The brief's shape: message 64 KiB, 32 fields of 1 KiB strings. No field
 * pair (4 + 3 + 1024 bytes) fits in 1 KiB, so there is no data at all. */
static void wide_record_is_cut(void **state)
{
    (void)state;
    plume_crumbs_t c;
    assert_true(plume_crumbs_init(&c, 8));
    char keys[PLUME_MAX_FIELDS][4];
    char *val;
    plume_field_t f[PLUME_MAX_FIELDS];
    wide_fields(f, PLUME_MAX_FIELDS, keys, &val, 1024);
    char *msg = wide_message();
    rec_t r = make(T0 + 1, PLUME_LEVEL_ERROR, msg, f, PLUME_MAX_FIELDS, NULL);
    assert_true(r.len > PLUME_CRUMB_SLOT); /* takes the cutting path */
    add_rec(&c, r);
    /* the same as a breadcrumb with a category, and an all-ASCII message */
    char *ascii = malloc(PLUME_RECORD_MAX_MESSAGE + 1);
    assert_non_null(ascii);
    memset(ascii, 'q', PLUME_RECORD_MAX_MESSAGE);
    ascii[PLUME_RECORD_MAX_MESSAGE] = '\0';
    plume_record_extra_t x = {.breadcrumb = true, .category = "wide"};
    add_rec(&c, make(T0 + 2, PLUME_LEVEL_INFO, ascii, f, PLUME_MAX_FIELDS, &x));
    /* an exact fit: four leading pairs of 4 + 2 + 250 bytes = 1024 bytes */
    plume_field_t g[PLUME_MAX_FIELDS];
    char gkeys[PLUME_MAX_FIELDS][4];
    char *gval;
    wide_fields(g, PLUME_MAX_FIELDS, gkeys, &gval, 250);
    add_rec(&c, make(T0 + 3, PLUME_LEVEL_WARN, msg, g, PLUME_MAX_FIELDS, NULL));
    /* "leading": three 256-byte pairs, a 1 KiB one, then a tiny one that
     * would still fit but follows a field left out */
    plume_field_t h[5] = {g[0], g[1], g[2], f[3], plume_i64("tiny", 1)};
    rec_t hr = make(T0 + 4, PLUME_LEVEL_WARN, msg, h, 5, NULL);
    assert_true(hr.len > PLUME_CRUMB_SLOT);
    add_rec(&c, hr);
    /* narrow enough for a slot as is (520-byte message, five 234-byte
     * pairs): cut only when written, to the same limits */
    char mid[521];
    memcpy(mid, msg, 520);
    mid[520] = '\0';
    plume_field_t nf[5];
    char kkeys[5][4];
    char *kval;
    wide_fields(nf, 5, kkeys, &kval, 228);
    rec_t nr = make(T0 + 5, PLUME_LEVEL_WARN, mid, nf, 5, NULL);
    assert_true(nr.len <= PLUME_CRUMB_SLOT);
    add_rec(&c, nr);

    plume_buf_t b;
    plume_buf_init(&b, 0);
    assert_int_equal(plume_crumbs_write(&c, UINT64_MAX, &b), 5);
    msgpack_unpacked u;
    msgpack_object a = unpack_array(&u, &b, 5);
    const want_t want[] = {
        {T0 + 1, "error", "log", msg, 511, 0},      /* before the "é", not half of it */
        {T0 + 2, "info", "wide", ascii, 512, 0},
        {T0 + 3, "warn", "log", msg, 511, 4},
        {T0 + 4, "warn", "log", msg, 511, 3},
        {T0 + 5, "warn", "log", msg, 511, 4},
    };
    for (uint32_t i = 0; i < 5; i++)
        check_crumb(a.via.array.ptr[i], &want[i]);
    for (uint32_t i = 2; i < 5; i++) {
        const msgpack_object *d = find(a.via.array.ptr[i], "data");
        for (uint32_t k = 0; k < d->via.map.size; k++) {
            char key[16];
            snprintf(key, sizeof(key), "f%02u", k);
            assert_true(str_is(d->via.map.ptr[k].key, key));
            assert_int_equal(d->via.map.ptr[k].val.via.str.size, i == 4 ? 228 : 250);
        }
    }
    msgpack_unpacked_destroy(&u);
    plume_buf_free(&b);
    free(msg);
    free(ascii);
    free(val);
    free(gval);
    free(kval);
    plume_crumbs_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(keeps_most_recent_max, setup),
        cmocka_unit_test_setup(largest_store_and_limit, setup),
        cmocka_unit_test_setup(room_for_waiting_errors, setup),
        cmocka_unit_test_setup(max_zero_keeps_nothing, setup),
        cmocka_unit_test_setup(ordered_by_stamp_and_bounded, setup),
        cmocka_unit_test_setup(object_keys_and_values, setup),
        cmocka_unit_test_setup(wide_record_is_cut, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
