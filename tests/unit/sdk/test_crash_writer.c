/* SPDX-License-Identifier: MIT */
/* The crash handler's fixed-buffer msgpack writer (sdk/src/crash_writer.c):
 * every scalar, str, bin, map and array encodes byte for byte as the agent's
 * growable writer (mp.c) does, at each encoding boundary; a write that does
 * not fit writes nothing (no str header without its bytes), sets the sticky
 * overflow flag and never touches a byte past the buffer (canaries); a
 * document written in units with rollback and patched 32-bit counts stays
 * valid msgpack (a reader consumes exactly its length) however small the
 * buffer, at every size from 0 to the full length. */
#include "test_support.h"
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "crash_writer.h"
#include "mp.h"

#define CANARY 0xa5

static void same_as_mp(const plume_cw_t *w, const plume_buf_t *b)
{
    assert_false(w->overflow);
    assert_int_equal(w->len, b->len);
    assert_memory_equal(w->buf, b->data, b->len);
}

static void test_scalars_encode_like_mp(void **state)
{
    (void)state;
    static const uint64_t uints[] = {0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000,
                                     0xffffffffu, 0x100000000ull, UINT64_MAX};
    static const int64_t ints[] = {-1, -32, -33, -128, -129, -32768, -32769, INT32_MIN,
                                   (int64_t)INT32_MIN - 1, INT64_MIN, 5, INT64_MAX};
    uint8_t mem[512];
    plume_cw_t w;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_cw_init(&w, mem, sizeof(mem));
    for (size_t i = 0; i < sizeof(uints) / sizeof(uints[0]); i++) {
        plume_cw_uint(&w, uints[i]);
        plume_mp_uint(&b, uints[i]);
    }
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        plume_cw_int(&w, ints[i]);
        plume_mp_int(&b, ints[i]);
    }
    plume_cw_nil(&w);
    plume_mp_nil(&b);
    plume_cw_bool(&w, true);
    plume_mp_bool(&b, true);
    plume_cw_bool(&w, false);
    plume_mp_bool(&b, false);
    same_as_mp(&w, &b);
    plume_buf_free(&b);
}

static void test_strings_and_containers_encode_like_mp(void **state)
{
    (void)state;
    static uint8_t mem[300000], blob[70000];
    memset(blob, 'x', sizeof(blob));
    static const size_t lens[] = {0, 1, 31, 32, 255, 256, 65535, 65536};
    static const uint32_t counts[] = {0, 15, 16, 65535, 65536};
    plume_cw_t w;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_cw_init(&w, mem, sizeof(mem));
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        plume_cw_str(&w, (const char *)blob, lens[i]);
        plume_mp_str(&b, (const char *)blob, lens[i]);
        plume_cw_bin(&w, blob, lens[i]);
        plume_mp_bin(&b, blob, lens[i]);
    }
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        plume_cw_map(&w, counts[i]);
        plume_mp_map_header(&b, counts[i]);
        plume_cw_array(&w, counts[i]);
        plume_mp_array_header(&b, counts[i]);
    }
    plume_cw_cstr(&w, "hello world", 5);
    plume_mp_str(&b, "hello", 5);
    plume_cw_cstr(&w, NULL, 5);
    plume_mp_str(&b, "", 0);
    same_as_mp(&w, &b);
    plume_buf_free(&b);
}

static void test_overflow_writes_nothing_past_the_end(void **state)
{
    (void)state;
    uint8_t mem[64];
    for (size_t cap = 0; cap <= 40; cap++) {
        memset(mem, CANARY, sizeof(mem));
        plume_cw_t w;
        plume_cw_init(&w, mem, cap);
        plume_cw_uint(&w, 1);
        plume_cw_str(&w, "0123456789012345678901234567890123456789", 40);
        for (size_t i = cap; i < sizeof(mem); i++)
            assert_int_equal(mem[i], CANARY);
        assert_true(w.len <= cap);
        if (cap < 1) {
            assert_true(w.overflow);
            assert_int_equal(w.len, 0);
        } else if (cap < 1 + 2 + 40) {
            /* the str (2-byte header + 40) did not fit: nothing of it */
            assert_true(w.overflow);
            assert_int_equal(w.len, 1);
        }
        /* sticky: a small value after an overflow is not written either */
        size_t len = w.len;
        if (w.overflow) {
            plume_cw_nil(&w);
            assert_int_equal(w.len, len);
            assert_null(plume_cw_reserve(&w, 0));
        }
    }
}

/* A report-like document: a patched map of units, one holding a patched
 * array of units; whatever the buffer size it reads back as one value that
 * spans exactly the bytes written. */
static size_t write_doc(plume_cw_t *w)
{
    size_t top = plume_cw_map_begin(w);
    uint32_t keys = 0;
    if (w->overflow)
        return 0;
    for (int k = 0; k < 6; k++) {
        size_t mark = plume_cw_mark(w);
        char key[8] = {'k', (char)('0' + k), 0};
        plume_cw_cstr(w, key, 8);
        if (k == 3) {
            size_t at = plume_cw_array_begin(w);
            uint32_t n = 0;
            for (int i = 0; i < 20 && !w->overflow; i++) {
                size_t m = plume_cw_mark(w);
                plume_cw_array(w, 2);
                plume_cw_uint(w, (uint64_t)i * 1000003u);
                plume_cw_str(w, "element", 7);
                if (w->overflow) {
                    plume_cw_rollback(w, m);
                    break;
                }
                n++;
            }
            plume_cw_patch(w, at, n);
        } else {
            plume_cw_bin(w, "0123456789", (size_t)k * 2);
        }
        if (w->overflow)
            plume_cw_rollback(w, mark);
        else
            keys++;
    }
    plume_cw_patch(w, top, keys);
    return keys;
}

static void test_units_with_rollback_stay_valid_msgpack(void **state)
{
    (void)state;
    uint8_t full[1024];
    plume_cw_t w;
    plume_cw_init(&w, full, sizeof(full));
    assert_int_equal(write_doc(&w), 6);
    size_t whole = w.len;
    uint8_t mem[1024 + 16];
    for (size_t cap = 0; cap <= whole; cap++) {
        memset(mem, CANARY, sizeof(mem));
        plume_cw_init(&w, mem, cap);
        size_t keys = write_doc(&w);
        for (size_t i = cap; i < sizeof(mem); i++)
            assert_int_equal(mem[i], CANARY);
        if (cap < 5) {
            assert_true(w.overflow); /* not even the map header */
            continue;
        }
        assert_false(w.overflow);
        plume_mp_reader_t rd;
        plume_mp_reader_init(&rd, mem, w.len);
        plume_mp_value_t v;
        plume_mp_reader_t peek = rd;
        assert_true(plume_mp_read(&peek, &v));
        assert_int_equal(v.type, PLUME_MP_MAP);
        assert_int_equal(v.count, keys);
        assert_true(plume_mp_skip(&rd));
        assert_ptr_equal(rd.p, mem + w.len);
        if (cap == whole)
            assert_memory_equal(mem, full, whole);
    }
}

static void test_rollback_clears_overflow_and_patch_ignores_bad_offsets(void **state)
{
    (void)state;
    uint8_t mem[16];
    plume_cw_t w;
    plume_cw_init(&w, mem, sizeof(mem));
    plume_cw_uint(&w, 7);
    size_t mark = plume_cw_mark(&w);
    plume_cw_str(&w, "much too long for this", 22);
    assert_true(w.overflow);
    plume_cw_rollback(&w, mark);
    assert_false(w.overflow);
    assert_int_equal(w.len, 1);
    plume_cw_patch(&w, 0, 99); /* not a 32-bit header: untouched */
    assert_int_equal(mem[0], 7);
    plume_cw_patch(&w, 1000, 1);
    assert_int_equal(w.len, 1);
    plume_cw_init(&w, NULL, 100); /* no buffer: everything overflows */
    plume_cw_nil(&w);
    assert_true(w.overflow);
    assert_int_equal(w.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars_encode_like_mp),
        cmocka_unit_test(test_strings_and_containers_encode_like_mp),
        cmocka_unit_test(test_overflow_writes_nothing_past_the_end),
        cmocka_unit_test(test_units_with_rollback_stay_valid_msgpack),
        cmocka_unit_test(test_rollback_clears_overflow_and_patch_ignores_bad_offsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
