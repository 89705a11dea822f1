/* SPDX-License-Identifier: MIT */
/* Sentry ids: the debug_id test vector from PROTOCOLS.md, short and empty
 * build ids, hex code ids, and random event ids (format, UUID4 bits,
 * uniqueness) both from getrandom(2) and from the fallback used when it
 * fails. getrandom is interposed here so each path can be forced. */
#include "test_support.h"
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sentry_ids.h"

/* How the interposed getrandom behaves. */
enum { RANDOM_REAL, RANDOM_FAIL, RANDOM_SHORT_EINTR };
static int random_mode = RANDOM_REAL;
static int random_calls;

/* Interposes libc's getrandom for this test program: the real syscall,
 * a failure (ENOSYS), or an EINTR followed by 3-byte reads. */
ssize_t getrandom(void *buf, size_t n, unsigned flags)
{
    random_calls++;
    if (random_mode == RANDOM_FAIL) {
        errno = ENOSYS;
        return -1;
    }
    if (random_mode == RANDOM_SHORT_EINTR) {
        if (random_calls == 1) {
            errno = EINTR;
            return -1;
        }
        if (n > 3)
            n = 3;
    }
    return (ssize_t)syscall(SYS_getrandom, buf, n, flags);
}

static void debug_id_vector(void **state)
{
    (void)state;
    /* code_id e167c8d86d0468ac7be76655e7cbe8c0aa9ff0d4 (20 bytes) */
    const uint8_t id[20] = {0xe1, 0x67, 0xc8, 0xd8, 0x6d, 0x04, 0x68, 0xac, 0x7b, 0xe7,
                            0x66, 0x55, 0xe7, 0xcb, 0xe8, 0xc0, 0xaa, 0x9f, 0xf0, 0xd4};
    char out[37];
    assert_int_equal(plume_sentry_debug_id(id, sizeof(id), out), 0);
    assert_string_equal(out, "d8c867e1-046d-ac68-7be7-6655e7cbe8c0");
    char hex[41];
    plume_hex(id, sizeof(id), hex);
    assert_string_equal(hex, "e167c8d86d0468ac7be76655e7cbe8c0aa9ff0d4");
    /* exactly 16 bytes: the same GUID */
    assert_int_equal(plume_sentry_debug_id(id, 16, out), 0);
    assert_string_equal(out, "d8c867e1-046d-ac68-7be7-6655e7cbe8c0");
}

static void debug_id_short_and_empty(void **state)
{
    (void)state;
    const uint8_t id8[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0xab};
    char out[37];
    assert_int_equal(plume_sentry_debug_id(id8, sizeof(id8), out), 0);
    assert_string_equal(out, "04030201-0605-ab07-0000-000000000000");
    const uint8_t id3[3] = {0xaa, 0xbb, 0xcc};
    assert_int_equal(plume_sentry_debug_id(id3, sizeof(id3), out), 0);
    assert_string_equal(out, "00ccbbaa-0000-0000-0000-000000000000");

    memset(out, 'x', sizeof(out));
    assert_int_equal(plume_sentry_debug_id(id8, 0, out), -1);
    assert_string_equal(out, "");
    memset(out, 'x', sizeof(out));
    assert_int_equal(plume_sentry_debug_id(NULL, 8, out), -1);
    assert_string_equal(out, "");
}

static void hex_edges(void **state)
{
    (void)state;
    char out[8];
    memset(out, 'x', sizeof(out));
    plume_hex((const uint8_t *)"", 0, out);
    assert_string_equal(out, "");
    const uint8_t b[3] = {0x00, 0x0f, 0xf0};
    plume_hex(b, 3, out);
    assert_string_equal(out, "000ff0");
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, 33);
}

/* Makes n ids and checks each is 32 lowercase hex with the UUID4 version
 * and variant, none all zero, and all distinct. */
static void check_ids(int n)
{
    char(*ids)[33] = calloc((size_t)n, 33);
    assert_non_null(ids);
    for (int i = 0; i < n; i++) {
        plume_sentry_event_id(ids[i]);
        assert_int_equal(strlen(ids[i]), 32);
        assert_int_equal(strspn(ids[i], "0123456789abcdef"), 32);
        assert_int_equal(ids[i][12], '4');
        assert_non_null(strchr("89ab", ids[i][16]));
        assert_int_not_equal(strspn(ids[i], "0"), 32);
    }
    qsort(ids, (size_t)n, 33, cmp_id);
    for (int i = 1; i < n; i++)
        assert_int_not_equal(memcmp(ids[i - 1], ids[i], 33), 0);
    free(ids);
}

static void event_ids_from_kernel(void **state)
{
    (void)state;
    random_mode = RANDOM_REAL;
    random_calls = 0;
    check_ids(2000);
    assert_true(random_calls >= 2000); /* the kernel was asked each time */
}

static void event_ids_short_reads(void **state)
{
    (void)state;
    random_mode = RANDOM_SHORT_EINTR;
    random_calls = 0;
    char id[33];
    plume_sentry_event_id(id);
    /* 1 EINTR + ceil(16 / 3) = 6 reads */
    assert_int_equal(random_calls, 7);
    assert_int_equal(strspn(id, "0123456789abcdef"), 32);
    random_mode = RANDOM_REAL;
}

static void event_ids_fallback(void **state)
{
    (void)state;
    random_mode = RANDOM_FAIL;
    random_calls = 0;
    check_ids(5000);
    assert_true(random_calls >= 5000);
    random_mode = RANDOM_REAL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(debug_id_vector),
        cmocka_unit_test(debug_id_short_and_empty),
        cmocka_unit_test(hex_edges),
        cmocka_unit_test(event_ids_from_kernel),
        cmocka_unit_test(event_ids_short_reads),
        cmocka_unit_test(event_ids_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
