/* SPDX-License-Identifier: MIT */
/* Retry timing: exact jittered delays for fixed random values, caps and
 * overflow, reset-header and Retry-After parsing (delta seconds and the three
 * HTTP-date forms), garbage rejection, and the random source. */
#include "test_support.h"
#include <cmocka.h>
#include <string.h>

#include "backoff.h"

static void delay_exact_values(void **state)
{
    (void)state;
    plume_backoff_policy_t p = {.initial_ms = 1000, .max_ms = 30000};
    /* attempt 1: d = 1000, result = 500 + rnd % 501 */
    assert_int_equal(plume_backoff_delay_ms(&p, 1, 0), 500);
    assert_int_equal(plume_backoff_delay_ms(&p, 1, 250), 750);
    assert_int_equal(plume_backoff_delay_ms(&p, 1, 500), 1000);
    assert_int_equal(plume_backoff_delay_ms(&p, 1, 501), 500);
    assert_int_equal(plume_backoff_delay_ms(&p, 1, UINT64_MAX), 500 + 48);
    /* attempt 0 behaves like attempt 1 */
    assert_int_equal(plume_backoff_delay_ms(&p, 0, 250), 750);
    /* attempt 2: d = 2000, result = 1000 + rnd % 1001 */
    assert_int_equal(plume_backoff_delay_ms(&p, 2, 0), 1000);
    assert_int_equal(plume_backoff_delay_ms(&p, 2, 1000), 2000);
    assert_int_equal(plume_backoff_delay_ms(&p, 2, UINT64_MAX), 1000 + 15);
    /* attempt 5: d = 16000 */
    assert_int_equal(plume_backoff_delay_ms(&p, 5, 0), 8000);
    assert_int_equal(plume_backoff_delay_ms(&p, 5, 8000), 16000);
}

static void delay_caps(void **state)
{
    (void)state;
    plume_backoff_policy_t p = {.initial_ms = 1000, .max_ms = 30000};
    /* attempt 6 would be 32000: capped to 30000 -> [15000, 30000] */
    assert_int_equal(plume_backoff_delay_ms(&p, 6, 0), 15000);
    assert_int_equal(plume_backoff_delay_ms(&p, 6, 15000), 30000);
    const uint32_t huge[] = {7, 33, 63, 64, 65, 100, 1000, UINT32_MAX - 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        assert_int_equal(plume_backoff_delay_ms(&p, huge[i], 0), 15000);
        assert_int_equal(plume_backoff_delay_ms(&p, huge[i], 15000), 30000);
    }
    /* max below initial: the cap wins from the start */
    plume_backoff_policy_t low = {.initial_ms = 5000, .max_ms = 1000};
    assert_int_equal(plume_backoff_delay_ms(&low, 1, 0), 500);
    assert_int_equal(plume_backoff_delay_ms(&low, 1, 500), 1000);
    /* zero initial: no delay */
    plume_backoff_policy_t zero = {.initial_ms = 0, .max_ms = 1000};
    assert_int_equal(plume_backoff_delay_ms(&zero, 3, 12345), 0);
    assert_int_equal(plume_backoff_delay_ms(NULL, 3, 12345), 0);
}

static void delay_overflow_safe(void **state)
{
    (void)state;
    /* initial * 2 overflows 64 bits: must saturate at max, not wrap */
    plume_backoff_policy_t p = {.initial_ms = (UINT64_MAX / 2) + 1, .max_ms = UINT64_MAX};
    assert_true(plume_backoff_delay_ms(&p, 1, 0) == (uint64_t)1 << 62);
    assert_true(plume_backoff_delay_ms(&p, 2, 0) == UINT64_MAX / 2);
    assert_true(plume_backoff_delay_ms(&p, 2, (uint64_t)1 << 63) == UINT64_MAX);
    assert_true(plume_backoff_delay_ms(&p, UINT32_MAX, UINT64_MAX) >= UINT64_MAX / 2);
    /* the whole range stays within [d/2, d] for random inputs */
    plume_backoff_policy_t q = {.initial_ms = 100, .max_ms = 60000};
    for (uint32_t a = 1; a < 200; a++) {
        uint64_t d = a >= 20 ? 60000 : 100ull << (a - 1);
        if (d > 60000)
            d = 60000;
        for (int i = 0; i < 50; i++) {
            uint64_t v = plume_backoff_delay_ms(&q, a, plume_random_u64());
            assert_true(v >= d / 2 && v <= d);
        }
    }
}

static void epoch_reset_valid(void **state)
{
    (void)state;
    uint64_t ms = 0;
    assert_true(plume_parse_epoch_reset("1732190000", &ms));
    assert_true(ms == 1732190000000ull);
    assert_true(plume_parse_epoch_reset(" \t1732190000.5 ", &ms));
    assert_true(ms == 1732190000500ull);
    assert_true(plume_parse_epoch_reset("1732190000.05", &ms));
    assert_true(ms == 1732190000050ull);
    assert_true(plume_parse_epoch_reset("1732190000.123987", &ms));
    assert_true(ms == 1732190000123ull);
    assert_true(plume_parse_epoch_reset("0", &ms));
    assert_true(ms == 0);
}

static void epoch_reset_garbage(void **state)
{
    (void)state;
    const char *bad[] = {"", "   ", "abc", "-5", "+5", "12a", "1.", ".5", "1e9", "0x10",
                         "1 2", "1..2", "1.2.3", "18446744073709551615",
                         "99999999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t ms = 42;
        assert_false(plume_parse_epoch_reset(bad[i], &ms));
        assert_true(ms == 42); /* untouched on failure */
    }
    uint64_t ms;
    assert_false(plume_parse_epoch_reset(NULL, &ms));
}

static void retry_after_delta(void **state)
{
    (void)state;
    uint64_t d = 0;
    assert_true(plume_parse_retry_after("120", 1000, &d));
    assert_true(d == 120000);
    assert_true(plume_parse_retry_after(" 0 ", 1000, &d));
    assert_true(d == 0);
    assert_true(plume_parse_retry_after("99999999999999999999999", 0, &d));
    assert_true(d == UINT64_MAX); /* saturates, never wraps */
    assert_true(plume_parse_retry_after("18446744073709552", 0, &d));
    assert_true(d == UINT64_MAX);
}

static void retry_after_http_date(void **state)
{
    (void)state;
    const uint64_t at = 784111777000ull; /* Sun, 06 Nov 1994 08:49:37 GMT */
    uint64_t d = 0;
    assert_true(plume_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", at - 5000, &d));
    assert_true(d == 5000);
    /* obsolete forms: RFC 850 (two-digit year) and asctime */
    assert_true(plume_parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", at - 5000, &d));
    assert_true(d == 5000);
    assert_true(plume_parse_retry_after("Sun Nov  6 08:49:37 1994", at - 5000, &d));
    assert_true(d == 5000);
    /* in the past: no wait */
    assert_true(plume_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", at + 60000, &d));
    assert_true(d == 0);
    /* epoch anchor, leap day and the largest date */
    assert_true(plume_parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", 0, &d));
    assert_true(d == 10000);
    assert_true(plume_parse_retry_after("Thu, 29 Feb 2024 00:00:00 GMT", 0, &d));
    assert_true(d == 1709164800000ull);
    assert_true(plume_parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", 0, &d));
    assert_true(d == 253402300799000ull);
    /* RFC 850 two-digit year: 30 with now in 2025 is 2030, 94 is 1994 */
    const uint64_t now2025 = 1748736000000ull; /* 2025-06-01 */
    assert_true(plume_parse_retry_after("Tuesday, 01-Jan-30 00:00:00 GMT", now2025, &d));
    assert_true(d == 1893456000000ull - now2025);
    assert_true(plume_parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now2025, &d));
    assert_true(d == 0);
}

static void retry_after_garbage(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "  ",
        "soon",
        "-1",
        "1.5",
        "12 s",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 GMT extra",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Wed, 29 Feb 2023 00:00:00 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov  6 8:49:37 1994",
        "Sun, 06 Nov 1994 08:49:3",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t d = 42;
        if (plume_parse_retry_after(bad[i], 0, &d))
            fail_msg("accepted garbage Retry-After \"%s\"", bad[i]);
        assert_true(d == 42);
    }
    uint64_t d;
    assert_false(plume_parse_retry_after(NULL, 0, &d));
}

static void random_varies(void **state)
{
    (void)state;
    uint64_t all_or = 0, all_and = UINT64_MAX, prev = plume_random_u64();
    int same = 0;
    for (int i = 0; i < 256; i++) {
        uint64_t v = plume_random_u64();
        all_or |= v;
        all_and &= v;
        same += v == prev;
        prev = v;
    }
    assert_int_equal(same, 0);
    assert_true(all_or == UINT64_MAX); /* every bit seen set ... */
    assert_true(all_and == 0);         /* ... and clear */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delay_exact_values),    cmocka_unit_test(delay_caps),
        cmocka_unit_test(delay_overflow_safe),   cmocka_unit_test(epoch_reset_valid),
        cmocka_unit_test(epoch_reset_garbage),   cmocka_unit_test(retry_after_delta),
        cmocka_unit_test(retry_after_http_date), cmocka_unit_test(retry_after_garbage),
        cmocka_unit_test(random_varies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
