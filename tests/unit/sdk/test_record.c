/* SPDX-License-Identifier: MIT */
/* Records (sdk/src/record.c): what plume_record_write() produces is exactly
 * the measured size, decodes with msgpack-c (an independent reader) to the
 * stamp, level, message and typed fields given, in order, and reads back with
 * plume_record_read(); NULL keys are skipped, NULL strings become nil, long
 * strings are cut at their caps, fields past PLUME_MAX_FIELDS are left out,
 * every string-length form (fixstr, str8, str16, str32) and both map header
 * forms are produced where they should be; malformed records are refused.
 * Breadcrumb records (a 5th element, the category: str, cut, or nil) and
 * extra pairs (the scope overlay's, appended to the fields map and counted in
 * its header, across the fixmap/map16 boundary) round-trip the same way; a
 * 5th element of another type, or bytes after it, are refused. */
#include "test_support.h"
#include <cmocka.h>

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "record_json.h"

/* Measures and writes a record (with extras x, may be NULL) into a fresh
 * buffer with a guard byte after it; returns the buffer (caller frees) and
 * its size. */
static uint8_t *make_x(uint64_t stamp, plume_level_t level, const char *msg,
                       const plume_field_t *f, size_t n, const plume_record_extra_t *x,
                       size_t *size)
{
    plume_record_lens_t lens;
    *size = plume_record_measure(msg, 0, f, n, x, &lens);
    uint8_t *buf = malloc(*size + 1);
    assert_non_null(buf);
    buf[*size] = 0x5a;
    plume_record_write(buf, stamp, level, msg, f, x, &lens);
    assert_int_equal(buf[*size], 0x5a); /* wrote no more than measured */
    return buf;
}

static uint8_t *make(uint64_t stamp, plume_level_t level, const char *msg, const plume_field_t *f,
                     size_t n, size_t *size)
{
    return make_x(stamp, level, msg, f, n, NULL, size);
}

/* Decodes with msgpack-c: exactly one object spanning all n bytes. */
static msgpack_object unpack(msgpack_unpacked *u, const uint8_t *p, size_t n)
{
    size_t off = 0;
    msgpack_unpacked_init(u);
    assert_int_equal(msgpack_unpack_next(u, (const char *)p, n, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, n);
    assert_int_equal(u->data.type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(u->data.via.array.size, 4);
    return u->data;
}

static void assert_str(msgpack_object o, const char *want, size_t n)
{
    assert_int_equal(o.type, MSGPACK_OBJECT_STR);
    assert_int_equal(o.via.str.size, n);
    assert_memory_equal(o.via.str.ptr, want, n);
}

static void typed_fields_round_trip(void **state)
{
    (void)state;
    plume_field_t f[] = {
        plume_str("user", "u-42"),   plume_i64("cents", -1999), plume_u64("big", UINT64_MAX),
        plume_f64("ratio", 0.25),    plume_bool("ok", 7),       plume_bool("bad", 0),
        plume_str("none", NULL),     plume_i64("min", INT64_MIN),
    };
    size_t size;
    uint8_t *rec = make(123456789012345ull, PLUME_LEVEL_WARN, "payment failed", f, 8, &size);
    msgpack_unpacked u;
    msgpack_object a = unpack(&u, rec, size);
    msgpack_object *e = a.via.array.ptr;
    assert_int_equal(e[0].type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    assert_true(e[0].via.u64 == 123456789012345ull);
    assert_int_equal(e[1].via.u64, PLUME_LEVEL_WARN);
    assert_str(e[2], "payment failed", 14);
    assert_int_equal(e[3].type, MSGPACK_OBJECT_MAP);
    assert_int_equal(e[3].via.map.size, 8);
    msgpack_object_kv *kv = e[3].via.map.ptr;
    assert_str(kv[0].key, "user", 4);
    assert_str(kv[0].val, "u-42", 4);
    assert_str(kv[1].key, "cents", 5);
    assert_int_equal(kv[1].val.type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
    assert_true(kv[1].val.via.i64 == -1999);
    assert_true(kv[2].val.via.u64 == UINT64_MAX);
    assert_int_equal(kv[3].val.type, MSGPACK_OBJECT_FLOAT64);
    assert_true(kv[3].val.via.f64 == 0.25);
    assert_int_equal(kv[4].val.type, MSGPACK_OBJECT_BOOLEAN);
    assert_true(kv[4].val.via.boolean);
    assert_false(kv[5].val.via.boolean);
    assert_int_equal(kv[6].val.type, MSGPACK_OBJECT_NIL);
    assert_true(kv[7].val.via.i64 == INT64_MIN);
    msgpack_unpacked_destroy(&u);

    plume_record_view_t v;
    assert_true(plume_record_read(rec, size, &v));
    assert_true(v.stamp == 123456789012345ull);
    assert_int_equal(v.level, PLUME_LEVEL_WARN);
    assert_int_equal(v.message_len, 14);
    assert_memory_equal(v.message, "payment failed", 14);
    assert_int_equal(v.nfields, 8);
    assert_true(v.fields > rec && v.fields + v.fields_len == rec + size);
    free(rec);
}

/* Sizes known at the call site (string literals: strlen + 1 in key_size_
 * and the message size) give byte for byte the record that measuring gives,
 * with the same caps; and the helpers record a literal key's size when the
 * compiler folds it (GCC with optimisation) or 0 (measured) otherwise. */
static void known_sizes_same_record(void **state)
{
    (void)state;
    char long_key[PLUME_RECORD_MAX_KEY + 45];
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    plume_field_t measured[] = {plume_str("user", "u-42"), plume_i64("cents", 5),
                                plume_str(long_key, "v"), plume_bool("", 1)};
    plume_field_t given[4];
    memcpy(given, measured, sizeof(given));
    for (size_t i = 0; i < 4; i++) {
        measured[i].key_size_ = 0;
        given[i].key_size_ = (unsigned)strlen(given[i].key) + 1;
    }
    const char *msg = "payment processed";
    plume_record_lens_t lm, lg;
    size_t nm = plume_record_measure(msg, 0, measured, 4, NULL, &lm);
    size_t ng = plume_record_measure(msg, (unsigned)strlen(msg) + 1, given, 4, NULL, &lg);
    assert_int_equal(nm, ng);
    assert_int_equal(lm.key[2], PLUME_RECORD_MAX_KEY); /* capped either way */
    assert_int_equal(lg.key[2], PLUME_RECORD_MAX_KEY);
    uint8_t *a = malloc(nm), *b = malloc(ng);
    assert_non_null(a);
    assert_non_null(b);
    plume_record_write(a, 7, PLUME_LEVEL_INFO, msg, measured, NULL, &lm);
    plume_record_write(b, 7, PLUME_LEVEL_INFO, msg, given, NULL, &lg);
    assert_memory_equal(a, b, nm);
    free(a);
    free(b);

    /* A breadcrumb's category size, the same way. */
    plume_record_extra_t xm = {.breadcrumb = true, .category = "http"};
    plume_record_extra_t xg = {.breadcrumb = true, .category = "http", .category_size = 5};
    assert_int_equal(plume_record_measure(NULL, 0, NULL, 0, &xm, &lm),
                     plume_record_measure(NULL, 0, NULL, 0, &xg, &lg));
    assert_int_equal(lm.category, 4);
    assert_int_equal(lg.category, 4);

    plume_field_t lit = plume_str("user", "x");
    assert_true(lit.key_size_ == 0 || lit.key_size_ == 5);
#if defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE__)
    assert_int_equal(lit.key_size_, 5); /* GCC folds it: the fast path is taken */
#endif
    plume_field_t nokey = plume_str(NULL, "x");
    assert_int_equal(nokey.key_size_, 0);
}

static void no_message_no_fields(void **state)
{
    (void)state;
    size_t size;
    uint8_t *rec = make(1, PLUME_LEVEL_TRACE, NULL, NULL, 0, &size);
    assert_int_equal(size, 1 + 9 + 1 + 1 + 1);
    msgpack_unpacked u;
    msgpack_object a = unpack(&u, rec, size);
    assert_int_equal(a.via.array.ptr[2].type, MSGPACK_OBJECT_NIL);
    assert_int_equal(a.via.array.ptr[3].via.map.size, 0);
    msgpack_unpacked_destroy(&u);
    plume_record_view_t v;
    assert_true(plume_record_read(rec, size, &v));
    assert_null(v.message);
    assert_int_equal(v.nfields, 0);
    free(rec);
}

/* Every str header form, cut strings, NULL keys and the field cap. */
static void lengths_caps_and_limits(void **state)
{
    (void)state;
    size_t lens[] = {0, 31, 32, 255, 256, 65535, 65536, PLUME_RECORD_MAX_MESSAGE + 10};
    uint8_t want_tag[] = {0xa0, 0xbf, 0xd9, 0xd9, 0xda, 0xda, 0xdb, 0xdb};
    char *text = malloc(PLUME_RECORD_MAX_MESSAGE + 11);
    memset(text, 'm', PLUME_RECORD_MAX_MESSAGE + 10);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        text[lens[i]] = '\0';
        size_t size;
        uint8_t *rec = make(9, PLUME_LEVEL_INFO, text, NULL, 0, &size);
        uint8_t tag = rec[11];
        if (lens[i] < 32)
            assert_int_equal(tag, 0xa0 | lens[i]);
        else
            assert_int_equal(tag, want_tag[i]);
        plume_record_view_t v;
        assert_true(plume_record_read(rec, size, &v));
        size_t expect = lens[i] > PLUME_RECORD_MAX_MESSAGE ? PLUME_RECORD_MAX_MESSAGE : lens[i];
        assert_int_equal(v.message_len, expect);
        free(rec);
        text[lens[i]] = 'm';
    }
    /* a long value and a long key are cut at their caps */
    text[PLUME_RECORD_MAX_VALUE + 5] = '\0';
    char key[PLUME_RECORD_MAX_KEY + 20];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    plume_field_t f[PLUME_MAX_FIELDS + 8];
    f[0] = plume_str(key, text);
    f[1] = plume_i64(NULL, 1); /* skipped */
    for (size_t i = 2; i < sizeof(f) / sizeof(f[0]); i++)
        f[i] = plume_u64("n", i);
    size_t size;
    uint8_t *rec = make(9, PLUME_LEVEL_INFO, "x", f, sizeof(f) / sizeof(f[0]), &size);
    msgpack_unpacked u;
    msgpack_object a = unpack(&u, rec, size);
    msgpack_object m = a.via.array.ptr[3];
    assert_int_equal(m.via.map.size, PLUME_MAX_FIELDS); /* map16 form: >= 16 entries */
    assert_int_equal(m.via.map.ptr[0].key.via.str.size, PLUME_RECORD_MAX_KEY);
    assert_int_equal(m.via.map.ptr[0].val.via.str.size, PLUME_RECORD_MAX_VALUE);
    assert_true(m.via.map.ptr[1].val.via.u64 == 2); /* the NULL key left no trace */
    assert_true(m.via.map.ptr[PLUME_MAX_FIELDS - 1].val.via.u64 == PLUME_MAX_FIELDS);
    msgpack_unpacked_destroy(&u);
    free(rec);
    free(text);
}

/* A record as the worker takes it: read, then its fields written as JSON.
 * True only when both accept it. */
static bool read_and_write_json(const uint8_t *rec, size_t n)
{
    plume_record_view_t v;
    if (!plume_record_read(rec, n, &v))
        return false;
    plume_buf_t out;
    plume_buf_init(&out, 0);
    unsigned hints = 0;
    bool ok = plume_record_json_members(&out, v.fields, v.fields_len, &hints);
    plume_buf_free(&out);
    return ok;
}

static void malformed_records_refused(void **state)
{
    (void)state;
    size_t size;
    plume_field_t f[] = {plume_i64("a", 1)};
    uint8_t *rec = make(5, PLUME_LEVEL_ERROR, "m", f, 1, &size);
    plume_record_view_t v;
    /* Every truncation is refused: by the reader up to the fields map, by the
     * fields' JSON writer inside it (the reader does not walk a log record's
     * map; see record.h). */
    for (size_t cut = 0; cut < size; cut++)
        assert_false(read_and_write_json(rec, cut));
    assert_true(read_and_write_json(rec, size));
    uint8_t bad[64];
    memcpy(bad, rec, size);
    bad[0] = 0x93; /* 3 elements */
    assert_false(plume_record_read(bad, size, &v));
    memcpy(bad, rec, size);
    bad[10] = 6; /* level past fatal */
    assert_false(plume_record_read(bad, size, &v));
    memcpy(bad, rec, size);
    bad[size] = 0xc0; /* a byte after the map */
    assert_false(read_and_write_json(bad, size + 1));
    memcpy(bad, rec, size);
    bad[11] = 0x01; /* message is an int */
    assert_false(plume_record_read(bad, size, &v));
    free(rec);
}

/* ---- breadcrumb records and extra pairs ---- */

/* Decodes with msgpack-c: one array of `elements` spanning all n bytes. */
static msgpack_object unpack_n(msgpack_unpacked *u, const uint8_t *p, size_t n, uint32_t elements)
{
    size_t off = 0;
    msgpack_unpacked_init(u);
    assert_int_equal(msgpack_unpack_next(u, (const char *)p, n, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, n);
    assert_int_equal(u->data.type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(u->data.via.array.size, elements);
    return u->data;
}

/* Encoded pairs of f (no map header) in a fresh buffer; *len, *npairs. */
static uint8_t *pairs_of(const plume_field_t *f, size_t n, uint32_t *len, uint32_t *npairs)
{
    plume_record_lens_t lens;
    size_t size = plume_record_pairs_measure(f, n, &lens);
    uint8_t *buf = malloc(size + 1);
    assert_non_null(buf);
    buf[size] = 0x5a;
    assert_ptr_equal(plume_record_pairs_write(buf, f, &lens), buf + size);
    assert_int_equal(buf[size], 0x5a);
    *len = (uint32_t)size;
    *npairs = lens.nfields;
    return buf;
}

static void breadcrumb_round_trip(void **state)
{
    (void)state;
    plume_field_t f[] = {plume_i64("status", 200), plume_str("url", "/api")};
    plume_record_extra_t x = {.breadcrumb = true, .category = "http"};
    size_t size;
    uint8_t *rec = make_x(77, PLUME_LEVEL_INFO, "GET /api", f, 2, &x, &size);
    assert_int_equal(rec[0], 0x95);
    msgpack_unpacked u;
    msgpack_object a = unpack_n(&u, rec, size, 5);
    assert_true(a.via.array.ptr[0].via.u64 == 77);
    assert_str(a.via.array.ptr[2], "GET /api", 8);
    assert_int_equal(a.via.array.ptr[3].via.map.size, 2);
    assert_str(a.via.array.ptr[4], "http", 4);
    msgpack_unpacked_destroy(&u);
    plume_record_view_t v;
    assert_true(plume_record_read(rec, size, &v));
    assert_true(v.breadcrumb);
    assert_int_equal(v.category_len, 4);
    assert_memory_equal(v.category, "http", 4);
    assert_int_equal(v.level, PLUME_LEVEL_INFO);
    assert_int_equal(v.nfields, 2);
    assert_true(v.fields + v.fields_len < rec + size); /* the category follows the map */
    free(rec);

    /* no category: nil; no message, no fields */
    x.category = NULL;
    rec = make_x(78, PLUME_LEVEL_INFO, NULL, NULL, 0, &x, &size);
    a = unpack_n(&u, rec, size, 5);
    assert_int_equal(a.via.array.ptr[4].type, MSGPACK_OBJECT_NIL);
    msgpack_unpacked_destroy(&u);
    assert_true(plume_record_read(rec, size, &v));
    assert_true(v.breadcrumb);
    assert_null(v.category);
    assert_int_equal(v.category_len, 0);
    assert_null(v.message);
    free(rec);

    /* a long category is cut at PLUME_RECORD_MAX_CATEGORY */
    char cat[PLUME_RECORD_MAX_CATEGORY + 50];
    memset(cat, 'c', sizeof(cat) - 1);
    cat[sizeof(cat) - 1] = '\0';
    x.category = cat;
    rec = make_x(79, PLUME_LEVEL_INFO, "m", NULL, 0, &x, &size);
    assert_true(plume_record_read(rec, size, &v));
    assert_int_equal(v.category_len, PLUME_RECORD_MAX_CATEGORY);
    free(rec);

    /* a log record: 4 elements, no category, even with extras */
    uint32_t plen, np;
    uint8_t *pairs = pairs_of(f, 1, &plen, &np);
    plume_record_extra_t y = {.pairs = pairs, .pairs_len = plen, .npairs = np};
    rec = make_x(80, PLUME_LEVEL_WARN, "log", NULL, 0, &y, &size);
    assert_int_equal(rec[0], 0x94);
    assert_true(plume_record_read(rec, size, &v));
    assert_false(v.breadcrumb);
    assert_null(v.category);
    free(rec);
    free(pairs);
}

/* Extra pairs follow the call's fields, in the map the header counts. */
static void extra_pairs_appended(void **state)
{
    (void)state;
    plume_field_t scope[] = {plume_str("request_id", "r-1"), plume_i64(NULL, 5),
                             plume_u64("n", 5)};
    uint32_t plen, np;
    uint8_t *pairs = pairs_of(scope, 3, &plen, &np);
    assert_int_equal(np, 2); /* the NULL key was skipped */
    plume_field_t f[] = {plume_str("a", "1"), plume_bool("b", 1), plume_f64("c", 1.5)};
    plume_record_extra_t x = {.pairs = pairs, .pairs_len = plen, .npairs = np};
    size_t size;
    uint8_t *rec = make_x(5, PLUME_LEVEL_ERROR, "m", f, 3, &x, &size);
    msgpack_unpacked u;
    msgpack_object a = unpack_n(&u, rec, size, 4);
    msgpack_object m = a.via.array.ptr[3];
    assert_int_equal(m.via.map.size, 5);
    assert_str(m.via.map.ptr[0].key, "a", 1);
    assert_str(m.via.map.ptr[1].key, "b", 1);
    assert_str(m.via.map.ptr[2].key, "c", 1);
    assert_str(m.via.map.ptr[3].key, "request_id", 10);
    assert_str(m.via.map.ptr[3].val, "r-1", 3);
    assert_str(m.via.map.ptr[4].key, "n", 1);
    assert_true(m.via.map.ptr[4].val.via.u64 == 5);
    msgpack_unpacked_destroy(&u);
    plume_record_view_t v;
    assert_true(plume_record_read(rec, size, &v));
    assert_int_equal(v.nfields, 5);
    free(rec);

    /* extras alone, and extras with a breadcrumb's category */
    plume_record_extra_t z = {.pairs = pairs, .pairs_len = plen, .npairs = np,
                              .breadcrumb = true, .category = "ui"};
    rec = make_x(6, PLUME_LEVEL_INFO, NULL, NULL, 0, &z, &size);
    a = unpack_n(&u, rec, size, 5);
    assert_int_equal(a.via.array.ptr[3].via.map.size, 2);
    assert_str(a.via.array.ptr[3].via.map.ptr[0].key, "request_id", 10);
    assert_str(a.via.array.ptr[4], "ui", 2);
    msgpack_unpacked_destroy(&u);
    free(rec);
    free(pairs);
}

/* 15 entries take a fixmap header, 16 a map16, counting the extras. */
static void extra_pairs_map_header_boundary(void **state)
{
    (void)state;
    plume_field_t f[10], s[16];
    char fk[10][4], sk[16][4];
    for (int i = 0; i < 10; i++) {
        snprintf(fk[i], sizeof(fk[i]), "f%d", i);
        f[i] = plume_i64(fk[i], i);
    }
    for (int i = 0; i < 16; i++) {
        snprintf(sk[i], sizeof(sk[i]), "s%d", i);
        s[i] = plume_i64(sk[i], 100 + i);
    }
    const struct {
        size_t nfields, nextra;
        uint8_t header[3];
        size_t header_len;
    } cases[] = {
        {10, 5, {0x8f}, 1},
        {10, 6, {0xde, 0x00, 0x10}, 3},
        {0, 15, {0x8f}, 1},
        {0, 16, {0xde, 0x00, 0x10}, 3},
        {10, 0, {0x8a}, 1},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        uint32_t plen, np;
        uint8_t *pairs = pairs_of(s, cases[c].nextra, &plen, &np);
        plume_record_extra_t x = {.pairs = pairs, .pairs_len = plen, .npairs = np};
        size_t size;
        uint8_t *rec = make_x(9, PLUME_LEVEL_INFO, "m", f, cases[c].nfields, &x, &size);
        plume_record_view_t v;
        assert_true(plume_record_read(rec, size, &v));
        size_t total = cases[c].nfields + cases[c].nextra;
        assert_int_equal(v.nfields, total);
        assert_memory_equal(v.fields, cases[c].header, cases[c].header_len);
        msgpack_unpacked u;
        msgpack_object a = unpack_n(&u, rec, size, 4);
        msgpack_object m = a.via.array.ptr[3];
        assert_int_equal(m.via.map.size, total);
        for (size_t i = 0; i < total; i++) {
            bool own = i < cases[c].nfields;
            size_t j = own ? i : i - cases[c].nfields;
            const char *key = own ? fk[j] : sk[j];
            assert_str(m.via.map.ptr[i].key, key, strlen(key));
            assert_true(m.via.map.ptr[i].val.via.i64 == (int64_t)(own ? j : 100 + j));
        }
        msgpack_unpacked_destroy(&u);
        free(rec);
        free(pairs);
    }
}

static void malformed_breadcrumbs_refused(void **state)
{
    (void)state;
    plume_field_t f[] = {plume_i64("a", 1)};
    plume_record_extra_t x = {.breadcrumb = true, .category = "db"};
    size_t size;
    uint8_t *rec = make_x(5, PLUME_LEVEL_INFO, "m", f, 1, &x, &size);
    plume_record_view_t v;
    assert_true(plume_record_read(rec, size, &v));
    for (size_t cut = 0; cut < size; cut++)
        assert_false(plume_record_read(rec, cut, &v)); /* every truncation */
    /* the category "db" (0xa2 'd' 'b') is the last 3 bytes */
    size_t cat = size - 3;
    assert_int_equal(rec[cat], 0xa2);
    uint8_t bad[64];
    /* a 5th element that is neither str nor nil */
    const uint8_t others[][5] = {{0x01}, {0xc3}, {0x80}, {0x90}, {0xc4, 0x00}, {0xca}};
    const size_t others_len[] = {1, 1, 1, 1, 2, 5}; /* int, true, map, array, bin, float */
    for (size_t i = 0; i < sizeof(others_len) / sizeof(others_len[0]); i++) {
        memcpy(bad, rec, cat);
        memcpy(bad + cat, others[i], others_len[i]);
        assert_false(plume_record_read(bad, cat + others_len[i], &v));
    }
    /* bytes after the category */
    memcpy(bad, rec, size);
    bad[size] = 0xc0;
    assert_false(plume_record_read(bad, size + 1, &v));
    memcpy(bad, rec, cat);
    bad[cat] = 0xc0; /* nil category */
    bad[cat + 1] = 0xc0;
    assert_true(plume_record_read(bad, cat + 1, &v));
    assert_false(plume_record_read(bad, cat + 2, &v));
    /* an array header claiming 6 elements: one is missing */
    memcpy(bad, rec, size);
    bad[0] = 0x96;
    assert_false(plume_record_read(bad, size, &v));
    free(rec);
    size_t lsize;
    uint8_t *log = make(5, PLUME_LEVEL_INFO, "m", f, 1, &lsize);
    memcpy(bad, log, lsize);
    bad[0] = 0x95; /* a log record claiming a 5th element */
    assert_false(plume_record_read(bad, lsize, &v));
    free(log);
}

/* Both readers give the same answer and, when they accept, the same view. */
static void assert_readers_agree(const uint8_t *p, size_t n)
{
    plume_record_view_t a, b;
    memset(&a, 0x5a, sizeof(a));
    memset(&b, 0x5a, sizeof(b));
    bool ok = plume_record_read(p, n, &a);
    assert_int_equal(ok, plume_record_read_generic(p, n, &b));
    if (!ok)
        return;
    assert_true(a.stamp == b.stamp);
    assert_int_equal(a.level, b.level);
    assert_ptr_equal(a.message, b.message);
    assert_int_equal(a.message_len, b.message_len);
    assert_ptr_equal(a.fields, b.fields);
    assert_int_equal(a.fields_len, b.fields_len);
    assert_int_equal(a.nfields, b.nfields);
    assert_int_equal(a.breadcrumb, b.breadcrumb);
    assert_int_equal(a.error, b.error);
    assert_ptr_equal(a.category, b.category);
    assert_int_equal(a.category_len, b.category_len);
    assert_int_equal(a.has_code, b.has_code);
    assert_int_equal(a.nframes, b.nframes);
}

/* plume_record_read()'s fast path for the common log record agrees with
 * the generic reader on records of every message form (nil, fixstr, str8,
 * str16) and map form, on every cut of them and on every single-byte
 * change at the positions the fast path decides on. */
static void fast_read_agrees_with_generic(void **state)
{
    (void)state;
    static char msg[300];
    memset(msg, 'm', sizeof(msg) - 1);
    size_t lens[] = {0, 1, 31, 32, 255, 256, 299};
    plume_field_t f[20];
    static const char *const keys[20] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
                                         "k", "l", "m", "n", "o", "p", "q", "r", "s", "t"};
    for (int i = 0; i < 20; i++)
        f[i] = plume_i64(keys[i], i);
    for (size_t li = 0; li <= sizeof(lens) / sizeof(lens[0]); li++) {
        for (size_t nf = 0; nf <= 20; nf += 5) {
            char m[300];
            const char *message = NULL; /* the last round: nil */
            if (li < sizeof(lens) / sizeof(lens[0])) {
                memcpy(m, msg, lens[li]);
                m[lens[li]] = '\0';
                message = m;
            }
            size_t n;
            uint8_t *rec = make(0x0102030405060708ull, PLUME_LEVEL_WARN, message, f, nf, &n);
            assert_readers_agree(rec, n);
            for (size_t cut = 0; cut < n; cut++)
                assert_readers_agree(rec, cut);
            uint8_t *bad = malloc(n);
            assert_non_null(bad);
            static const uint8_t values[] = {0x00, 0x05, 0x06, 0x7f, 0x80, 0x8f, 0x90, 0x94,
                                             0xa0, 0xbf, 0xc0, 0xcc, 0xcf, 0xd9, 0xda, 0xde,
                                             0xdf, 0xff};
            size_t ml = message ? strlen(message) : 0;
            size_t map_at = message ? 11 + (ml < 32 ? 1 : ml < 256 ? 2 : 3) + ml : 12;
            for (size_t at = 0; at < n; at++) {
                if (at >= 16 && (at + 2 < map_at || at > map_at + 3))
                    continue; /* the header and around the map's first byte */
                for (size_t k = 0; k < sizeof(values); k++) {
                    memcpy(bad, rec, n);
                    bad[at] = values[k];
                    assert_readers_agree(bad, n);
                }
            }
            free(bad);
            free(rec);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fast_read_agrees_with_generic),
        cmocka_unit_test(typed_fields_round_trip),
        cmocka_unit_test(known_sizes_same_record),
        cmocka_unit_test(no_message_no_fields),
        cmocka_unit_test(lengths_caps_and_limits),
        cmocka_unit_test(malformed_records_refused),
        cmocka_unit_test(breadcrumb_round_trip),
        cmocka_unit_test(extra_pairs_appended),
        cmocka_unit_test(extra_pairs_map_header_boundary),
        cmocka_unit_test(malformed_breadcrumbs_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
