/* SPDX-License-Identifier: MIT */
/* msgpack writer/reader round trips and hostile-input checks. */
#include "test_support.h"
#include <cmocka.h>
#include <string.h>

#include "mp.h"

static void round_trip_ints(void **state)
{
    (void)state;
    const int64_t vals[] = {0, 1, 127, 128, 255, 256, 65535, 65536, -1, -32, -33, -128, -129,
                            -32768, -32769, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        plume_buf_t b;
        plume_buf_init(&b, 0);
        plume_mp_int(&b, vals[i]);
        plume_mp_reader_t r;
        plume_mp_value_t v;
        plume_mp_reader_init(&r, b.data, b.len);
        assert_true(plume_mp_read(&r, &v));
        if (vals[i] < 0) {
            assert_int_equal(v.type, PLUME_MP_INT);
            assert_true(v.i == vals[i]);
        } else {
            assert_int_equal(v.type, PLUME_MP_UINT);
            assert_true(v.u == (uint64_t)vals[i]);
        }
        assert_ptr_equal(r.p, r.end);
        plume_buf_free(&b);
    }
}

static void truncated_input_rejected(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_mp_str(&b, "hello world, a longer string", 28);
    for (size_t cut = 0; cut < b.len; cut++) {
        plume_mp_reader_t r;
        plume_mp_value_t v;
        plume_mp_reader_init(&r, b.data, cut);
        assert_false(plume_mp_read(&r, &v));
    }
    plume_buf_free(&b);
}

static void patched_map_count(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    size_t off = plume_mp_map_begin(&b);
    plume_mp_cstr(&b, "a");
    plume_mp_nil(&b);
    plume_mp_patch_count(&b, off, 1);
    plume_mp_reader_t r;
    plume_mp_value_t v;
    plume_mp_reader_init(&r, b.data, b.len);
    assert_true(plume_mp_skip(&r));
    assert_ptr_equal(r.p, r.end);
    plume_mp_reader_init(&r, b.data, b.len);
    assert_true(plume_mp_read(&r, &v));
    assert_int_equal(v.type, PLUME_MP_MAP);
    assert_int_equal(v.count, 1);
    plume_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_ints),
        cmocka_unit_test(truncated_input_rejected),
        cmocka_unit_test(patched_map_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
