/* SPDX-License-Identifier: MIT */
/* RFC 3339 formatting: exact strings for known instants, agreement with
 * gmtime_r over a wide range, the per-second cache, the split variant's
 * range checks, and every digit of the 9- and 3-digit fractions. */
#include "test_support.h"
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "time_format.h"

#define NS 1000000000ull

static void known_instants(void **state)
{
    (void)state;
    char out[PLUME_TIME_FORMAT_MAX];
    assert_int_equal(plume_time_format_rfc3339(0, out), 30);
    assert_string_equal(out, "1970-01-01T00:00:00.000000000Z");
    /* 2026-11-21T10:00:00Z = 1795255200 */
    assert_int_equal(plume_time_format_rfc3339(1795255200ull * NS + 123456789, out), 30);
    assert_string_equal(out, "2026-11-21T10:00:00.123456789Z");
    plume_time_format_rfc3339(951782400ull * NS + 1, out); /* leap day of a century leap year */
    assert_string_equal(out, "2000-02-29T00:00:00.000000001Z");
    plume_time_format_rfc3339(4107542400ull * NS, out); /* 2100 is not a leap year */
    assert_string_equal(out, "2100-03-01T00:00:00.000000000Z");
    plume_time_format_rfc3339(1704067199ull * NS + 999999999, out);
    assert_string_equal(out, "2023-12-31T23:59:59.999999999Z");
    plume_time_format_rfc3339(UINT64_MAX, out);
    assert_string_equal(out, "2554-07-21T23:34:33.709551615Z");
}

static void milliseconds_truncate(void **state)
{
    (void)state;
    char out[PLUME_TIME_FORMAT_MAX];
    assert_int_equal(plume_time_format_rfc3339_ms(1795255200ull * NS + 123999999, out), 24);
    assert_string_equal(out, "2026-11-21T10:00:00.123Z");
    plume_time_format_rfc3339_ms(1795255200ull * NS + 999999999, out);
    assert_string_equal(out, "2026-11-21T10:00:00.999Z");
    plume_time_format_rfc3339_ms(5 * NS + 7000000, out);
    assert_string_equal(out, "1970-01-01T00:00:05.007Z");
}

/* Compares with gmtime_r over many seconds spread across 1970..2554, and over
 * consecutive seconds (exercising the cache on every step). */
static void matches_gmtime(void **state)
{
    (void)state;
    char out[PLUME_TIME_FORMAT_MAX], want[64];
    uint64_t sec = 0;
    for (int i = 0; i < 200000; i++) {
        sec = i < 100000 ? sec * 6364136223846793005ull + 1442695040888963407ull
                         : 1700000000ull + (uint64_t)i;
        uint64_t s = sec % (UINT64_MAX / NS);
        time_t t = (time_t)s;
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.000000042Z",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
        plume_time_format_rfc3339(s * NS + 42, out);
        assert_string_equal(out, want);
    }
}

/* The cached second must not leak into a different second or fraction. */
static void cache_does_not_stick(void **state)
{
    (void)state;
    char out[PLUME_TIME_FORMAT_MAX];
    plume_time_format_rfc3339(1795255200ull * NS + 1, out);
    assert_string_equal(out, "2026-11-21T10:00:00.000000001Z");
    plume_time_format_rfc3339(1795255200ull * NS + 2, out);
    assert_string_equal(out, "2026-11-21T10:00:00.000000002Z");
    plume_time_format_rfc3339(1795255201ull * NS, out);
    assert_string_equal(out, "2026-11-21T10:00:01.000000000Z");
    plume_time_format_rfc3339_ms(1795255201ull * NS + 5000000, out);
    assert_string_equal(out, "2026-11-21T10:00:01.005Z");
    plume_time_format_rfc3339(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000000000Z");
}

static void split_range(void **state)
{
    (void)state;
    char out[PLUME_TIME_FORMAT_MAX];
    assert_int_equal(plume_time_format_rfc3339_split(-1, 500000000, out), 30);
    assert_string_equal(out, "1969-12-31T23:59:59.500000000Z");
    assert_int_equal(plume_time_format_rfc3339_split(-62167219200LL, 0, out), 30);
    assert_string_equal(out, "0000-01-01T00:00:00.000000000Z");
    assert_int_equal(plume_time_format_rfc3339_split(253402300799LL, 999999999, out), 30);
    assert_string_equal(out, "9999-12-31T23:59:59.999999999Z");
    plume_time_format_rfc3339_split(-2208988800LL, 0, out);
    assert_string_equal(out, "1900-01-01T00:00:00.000000000Z");
    assert_int_equal(plume_time_format_rfc3339_split(-62167219201LL, 0, out), 0);
    assert_int_equal(plume_time_format_rfc3339_split(253402300800LL, 0, out), 0);
    assert_int_equal(plume_time_format_rfc3339_split(0, 1000000000u, out), 0);
    assert_int_equal(plume_time_format_rfc3339_split(INT64_MIN, 0, out), 0);
    assert_int_equal(plume_time_format_rfc3339_split(INT64_MAX, 0, out), 0);

    /* Agreement with gmtime_r across the whole accepted range, negatives too. */
    char want[64];
    uint64_t x = 1;
    const int64_t lo = -62167219200LL, span = 253402300799LL - lo + 1;
    for (int i = 0; i < 100000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int64_t sec = lo + (int64_t)((x >> 11) % (uint64_t)span);
        time_t t = (time_t)sec;
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.000000007Z",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
        assert_int_equal(plume_time_format_rfc3339_split(sec, 7, out), 30);
        assert_string_equal(out, want);
    }
}

/* The fraction digits (written in pairs from a table) agree with printf's
 * for fractions with each digit position set to each value, around powers of
 * ten, and at random; the date and 'Z' around them stay in place. */
static void fraction_digits(void **state)
{
    (void)state;
    char out[PLUME_TIME_FORMAT_MAX], want[64];
    const uint64_t base = 1795255200ull * NS; /* 2026-11-21T10:00:00Z */
    uint32_t fracs[400];
    size_t n = 0;
    uint32_t p = 1;
    for (int pos = 0; pos < 9; pos++, p *= 10) {
        for (uint32_t d = 1; d <= 9; d++)
            fracs[n++] = d * p; /* one digit set */
        fracs[n++] = p - 1;     /* all nines below it */
        fracs[n++] = p + 1;
    }
    fracs[n++] = 0;
    fracs[n++] = 999999999;
    uint64_t x = 3;
    while (n < sizeof(fracs) / sizeof(fracs[0])) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        fracs[n++] = (uint32_t)((x >> 20) % 1000000000u);
    }
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(plume_time_format_rfc3339(base + fracs[i], out), 30);
        snprintf(want, sizeof(want), "2026-11-21T10:00:00.%09uZ", fracs[i]);
        assert_string_equal(out, want);
        assert_int_equal(plume_time_format_rfc3339_split(-1, fracs[i], out), 30);
        snprintf(want, sizeof(want), "1969-12-31T23:59:59.%09uZ", fracs[i]);
        assert_string_equal(out, want);
        assert_int_equal(plume_time_format_rfc3339_ms(base + fracs[i], out), 24);
        snprintf(want, sizeof(want), "2026-11-21T10:00:00.%03uZ", fracs[i] / 1000000u);
        assert_string_equal(out, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_instants),
        cmocka_unit_test(milliseconds_truncate),
        cmocka_unit_test(matches_gmtime),
        cmocka_unit_test(cache_does_not_stick),
        cmocka_unit_test(split_range),
        cmocka_unit_test(fraction_digits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
