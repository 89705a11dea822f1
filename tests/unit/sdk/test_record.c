/* SPDX-License-Identifier: MIT */
/* Records (sdk/src/record.c): what plume_record_write() produces is exactly
 * the measured size, decodes with msgpack-c (an independent reader) to the
 * stamp, level, message and typed fields given, in order, and reads back with
 * plume_record_read(); NULL keys are skipped, NULL strings become nil, long
 * strings are cut at their caps, fields past PLUME_MAX_FIELDS are left out,
 * every string-length form (fixstr, str8, str16, str32) and both map header
 * forms are produced where they should be; malformed records are refused. */
#include "test_support.h"
#include <cmocka.h>

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

/* Measures and writes a record into a fresh buffer with a guard byte after
 * it; returns the buffer (caller frees) and its size. */
static uint8_t *make(uint64_t stamp, plume_level_t level, const char *msg, const plume_field_t *f,
                     size_t n, size_t *size)
{
    plume_record_lens_t lens;
    *size = plume_record_measure(msg, f, n, NULL, &lens);
    uint8_t *buf = malloc(*size + 1);
    assert_non_null(buf);
    buf[*size] = 0x5a;
    plume_record_write(buf, stamp, level, msg, f, NULL, &lens);
    assert_int_equal(buf[*size], 0x5a); /* wrote no more than measured */
    return buf;
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

static void malformed_records_refused(void **state)
{
    (void)state;
    size_t size;
    plume_field_t f[] = {plume_i64("a", 1)};
    uint8_t *rec = make(5, PLUME_LEVEL_ERROR, "m", f, 1, &size);
    plume_record_view_t v;
    for (size_t cut = 0; cut < size; cut++)
        assert_false(plume_record_read(rec, cut, &v)); /* every truncation */
    uint8_t bad[64];
    memcpy(bad, rec, size);
    bad[0] = 0x93; /* 3 elements */
    assert_false(plume_record_read(bad, size, &v));
    memcpy(bad, rec, size);
    bad[10] = 6; /* level past fatal */
    assert_false(plume_record_read(bad, size, &v));
    memcpy(bad, rec, size);
    bad[size] = 0xc0; /* a byte after the map */
    assert_false(plume_record_read(bad, size + 1, &v));
    memcpy(bad, rec, size);
    bad[11] = 0x01; /* message is an int */
    assert_false(plume_record_read(bad, size, &v));
    free(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(typed_fields_round_trip),
        cmocka_unit_test(no_message_no_fields),
        cmocka_unit_test(lengths_caps_and_limits),
        cmocka_unit_test(malformed_records_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
