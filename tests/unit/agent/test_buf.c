/* SPDX-License-Identifier: MIT */
/* buf.c / buf.h: the bounded buffer. The inline fast paths of reserve,
 * append and append_byte behave exactly like the checks they stand for:
 * empty appends succeed on a buffer with no storage, the first append
 * allocates 256 bytes and growth doubles up to the maximum, an append that
 * would pass the maximum fails (sticky `failed`, contents unchanged) even
 * when the allocation has room (a buffer whose max was lowered below its
 * capacity, as delivery.c does), and the out-of-line definitions (called
 * through pointers) and the *_grow slow paths give the same results. */
#include "test_support.h"
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"

static void empty_appends(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    assert_null(b.data);
    assert_true(plume_buf_append(&b, "x", 0));
    assert_true(plume_buf_append(&b, NULL, 0));
    assert_true(plume_buf_append_str(&b, ""));
    assert_true(plume_buf_reserve(&b, 0));
    assert_null(b.data); /* nothing allocated for nothing */
    assert_int_equal(b.len, 0);
    assert_false(b.failed);
    plume_buf_free(&b);
}

static void growth_and_contents(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    assert_true(plume_buf_append(&b, "abc", 3));
    assert_int_equal(b.cap, 256);
    assert_true(plume_buf_append_byte(&b, 'd'));
    char big[300];
    memset(big, 'z', sizeof(big));
    assert_true(plume_buf_append(&b, big, sizeof(big))); /* 304 > 256: doubles */
    assert_int_equal(b.cap, 512);
    assert_int_equal(b.len, 304);
    assert_memory_equal(b.data, "abcd", 4);
    assert_int_equal(b.data[303], 'z');
    for (int i = 0; i < 208; i++) /* up to the capacity exactly, byte by byte */
        assert_true(plume_buf_append_byte(&b, (uint8_t)i));
    assert_int_equal(b.len, 512);
    assert_int_equal(b.cap, 512);
    assert_true(plume_buf_append_byte(&b, 0xee)); /* grows */
    assert_int_equal(b.cap, 1024);
    assert_int_equal(b.data[512], 0xee);
    assert_int_equal(b.data[511], 207);
    assert_true(plume_buf_reserve(&b, 511)); /* fits: no growth */
    assert_int_equal(b.cap, 1024);
    assert_true(plume_buf_reserve(&b, 512));
    assert_int_equal(b.cap, 2048);
    assert_false(b.failed);
    plume_buf_free(&b);
}

static void maximum(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 10);
    assert_true(plume_buf_append(&b, "0123456", 7));
    assert_int_equal(b.cap, 10); /* the first allocation is capped at max */
    assert_false(plume_buf_append(&b, "7890", 4)); /* one too many */
    assert_true(b.failed);
    assert_int_equal(b.len, 7);
    b.failed = false;
    assert_true(plume_buf_append(&b, "789", 3)); /* exactly to max */
    assert_false(b.failed);
    assert_false(plume_buf_append_byte(&b, 'x'));
    assert_true(b.failed);
    b.failed = false;
    assert_false(plume_buf_reserve(&b, 1));
    assert_true(b.failed);
    assert_true(plume_buf_reserve(&b, 0));
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.data, "0123456789", 10);
    plume_buf_free(&b);
}

/* A buffer whose maximum is below its capacity (max lowered after it grew):
 * the maximum still rules, whatever the allocation has room for. */
static void max_below_capacity(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    assert_true(plume_buf_reserve(&b, 100));
    assert_int_equal(b.cap, 256);
    b.max = 4;
    assert_true(plume_buf_append(&b, "ab", 2));
    assert_false(plume_buf_append(&b, "cde", 3));
    assert_true(b.failed);
    assert_int_equal(b.len, 2);
    b.failed = false;
    assert_true(plume_buf_append_byte(&b, 'c'));
    assert_true(plume_buf_append_byte(&b, 'd'));
    assert_false(plume_buf_append_byte(&b, 'e'));
    assert_true(b.failed);
    b.failed = false;
    assert_false(plume_buf_reserve(&b, 1));
    assert_true(b.failed);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "abcd", 4);
    plume_buf_free(&b);
}

/* The out-of-line definitions (what a function pointer or an un-inlined
 * call reaches) and the slow paths called directly behave the same. */
static void out_of_line_definitions(void **state)
{
    (void)state;
    bool (*append)(plume_buf_t *, const void *, size_t) = plume_buf_append;
    bool (*append_byte)(plume_buf_t *, uint8_t) = plume_buf_append_byte;
    bool (*reserve)(plume_buf_t *, size_t) = plume_buf_reserve;
    plume_buf_t b;
    plume_buf_init(&b, 6);
    assert_true(append(&b, "", 0));
    assert_true(append(&b, "ab", 2));
    assert_true(append_byte(&b, 'c'));
    assert_true(reserve(&b, 3));
    assert_false(reserve(&b, 4));
    assert_true(b.failed);
    b.failed = false;
    assert_true(plume_buf_append_grow(&b, "d", 1)); /* room: the same as the fast path */
    assert_true(plume_buf_append_byte_grow(&b, 'e'));
    assert_true(plume_buf_grow(&b, 1));
    assert_false(plume_buf_grow(&b, 2));
    assert_true(b.failed);
    b.failed = false;
    assert_true(plume_buf_append_grow(&b, "f", 1));
    assert_false(plume_buf_append_grow(&b, "g", 1));
    assert_false(plume_buf_append_byte_grow(&b, 'g'));
    assert_false(append(&b, "g", 1));
    assert_false(append_byte(&b, 'g'));
    assert_true(plume_buf_append_grow(&b, "", 0));
    assert_int_equal(b.len, 6);
    assert_memory_equal(b.data, "abcdef", 6);
    assert_true(plume_buf_has_room(&b, 0));
    assert_false(plume_buf_has_room(&b, 1));
    plume_buf_free(&b);
}

static void has_room(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 300);
    assert_true(plume_buf_has_room(&b, 0));
    assert_false(plume_buf_has_room(&b, 1)); /* nothing allocated yet */
    assert_true(plume_buf_reserve(&b, 1));
    assert_true(plume_buf_has_room(&b, 256));
    assert_false(plume_buf_has_room(&b, 257)); /* needs growing */
    assert_true(plume_buf_reserve(&b, 257));
    assert_int_equal(b.cap, 300);
    assert_true(plume_buf_has_room(&b, 300));
    assert_false(plume_buf_has_room(&b, 301)); /* past max */
    assert_false(b.failed);
    plume_buf_free(&b);
}

/* Random sequences of appends against a plain model of the rules. */
static void random_against_model(void **state)
{
    (void)state;
    uint64_t x = 99;
    for (int round = 0; round < 200; round++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        size_t max = 1 + (size_t)(x >> 33) % 2000;
        plume_buf_t b;
        plume_buf_init(&b, max);
        uint8_t model[2000];
        size_t mlen = 0;
        bool mfailed = false;
        uint8_t src[600];
        for (int op = 0; op < 60; op++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(x >> 33);
            size_t n = r % 3 == 0 ? 1 : (r >> 4) % sizeof(src);
            for (size_t i = 0; i < n; i++)
                src[i] = (uint8_t)(r + i);
            bool fits = n <= max - mlen;
            bool ok = r % 3 == 0 ? plume_buf_append_byte(&b, src[0]) : plume_buf_append(&b, src, n);
            assert_int_equal(ok, fits);
            if (fits) {
                memcpy(model + mlen, src, n);
                mlen += n;
            } else {
                mfailed = true;
            }
            assert_int_equal(b.len, mlen);
            assert_int_equal(b.failed, mfailed);
            assert_true(b.cap <= max);
        }
        if (mlen)
            assert_memory_equal(b.data, model, mlen);
        plume_buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_appends),
        cmocka_unit_test(growth_and_contents),
        cmocka_unit_test(maximum),
        cmocka_unit_test(max_below_capacity),
        cmocka_unit_test(out_of_line_definitions),
        cmocka_unit_test(has_room),
        cmocka_unit_test(random_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
