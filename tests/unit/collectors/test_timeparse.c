/* SPDX-License-Identifier: MIT */
/* RFC 3339 parsing (forms, fractions, offsets, range checks, limits), the
 * civil-date arithmetic, and epoch numbers with the unit chosen by magnitude;
 * the cached RFC 3339 parser against the plain one, hitting and missing its
 * cache. */
#include "test_support.h"
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "timeparse.h"

#define SEC 1000000000ull

static void ok3339(const char *s, uint64_t want)
{
    uint64_t ns = 0;
    if (!plume_time_parse_rfc3339(s, strlen(s), &ns))
        fail_msg("refused: %s", s);
    if (ns != want)
        fail_msg("%s: got %llu want %llu", s, (unsigned long long)ns, (unsigned long long)want);
}

static void bad3339(const char *s)
{
    uint64_t ns = 12345;
    if (plume_time_parse_rfc3339(s, strlen(s), &ns))
        fail_msg("accepted: %s", s);
    assert_true(ns == 12345); /* untouched */
}

static void rfc3339_forms(void **state)
{
    (void)state;
    const uint64_t t = 1709210096ull * SEC; /* 2024-02-29T12:34:56Z */
    ok3339("1970-01-01T00:00:00Z", 0);
    ok3339("2024-02-29T12:34:56Z", t);
    ok3339("2024-02-29t12:34:56z", t);
    ok3339("2024-02-29 12:34:56Z", t);
    ok3339("2024-02-29T12:34:56", t); /* no zone: UTC */
    ok3339("2024-02-29T12:34:56.789Z", t + 789000000);
    ok3339("2024-02-29T12:34:56,5Z", t + 500000000);
    ok3339("2024-02-29T12:34:56.000000001Z", t + 1);
    ok3339("2024-02-29T12:34:56.123456789999Z", t + 123456789); /* truncated */
    ok3339("2024-02-29T14:34:56+02:00", t);
    ok3339("2024-02-29T14:34:56+0200", t);
    ok3339("2024-02-29T14:34:56+02", t);
    ok3339("2024-02-29T07:04:56.25-05:30", t + 250000000);
    ok3339("2024-02-29T12:34:56-00:00", t);
    ok3339("2024-02-29T12:34:60Z", t + 4 * SEC); /* leap second */
    ok3339("1969-12-31T23:00:00-01:00", 0);
    ok3339("2000-03-01T00:00:00Z", 11017ull * 86400 * SEC);
    /* the last representable instant, and one past it */
    ok3339("2554-07-21T23:34:33.709551615Z", UINT64_MAX);
    bad3339("2554-07-21T23:34:33.709551616Z");
    bad3339("9999-12-31T23:59:59Z");
}

static void rfc3339_rejects(void **state)
{
    (void)state;
    bad3339("");
    bad3339("2024-02-29");
    bad3339("2024-02-29T12:34Z");
    bad3339("2024-02-29X12:34:56Z");
    bad3339("2023-02-29T00:00:00Z"); /* not a leap year */
    bad3339("1900-02-29T00:00:00Z");
    bad3339("2024-13-01T00:00:00Z");
    bad3339("2024-00-10T00:00:00Z");
    bad3339("2024-04-31T00:00:00Z");
    bad3339("2024-01-00T00:00:00Z");
    bad3339("2024-01-01T24:00:00Z");
    bad3339("2024-01-01T00:60:00Z");
    bad3339("2024-01-01T00:00:61Z");
    bad3339("2024-01-01T00:00:00+24:00");
    bad3339("2024-01-01T00:00:00+01:60");
    bad3339("2024-01-01T00:00:00+1");
    bad3339("2024-01-01T00:00:00.Z");
    bad3339("2024-01-01T00:00:00ZZ");
    bad3339("2024-01-01T00:00:00Z ");
    bad3339("2024-1-01T00:00:00Z");
    bad3339("1969-12-31T23:59:59Z"); /* before the epoch */
    bad3339("0000-01-01T00:00:00Z");
    bad3339("2024-01-01T00:00:00+01:0");
}

static void civil_days(void **state)
{
    (void)state;
    assert_int_equal(plume_time_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(plume_time_days_from_civil(1970, 1, 2), 1);
    assert_int_equal(plume_time_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(plume_time_days_from_civil(2000, 2, 29), 11016);
    assert_int_equal(plume_time_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(plume_time_days_from_civil(2024, 2, 29), 19782);
    assert_int_equal(plume_time_days_from_civil(0, 3, 1), -719468);
    /* consecutive days across many years stay consecutive */
    int64_t prev = plume_time_days_from_civil(1899, 12, 31);
    for (int64_t y = 1900; y <= 2400; y++) {
        for (unsigned m = 1; m <= 12; m++) {
            static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
            bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            unsigned last = m == 2 && leap ? 29 : dim[m - 1];
            for (unsigned d = 1; d <= last; d++) {
                int64_t cur = plume_time_days_from_civil(y, m, d);
                assert_true(cur == prev + 1);
                prev = cur;
            }
        }
    }
}

static void epoch_int(void **state)
{
    (void)state;
    uint64_t ns;
    assert_true(plume_time_from_epoch_int(0, &ns));
    assert_true(ns == 0);
    assert_true(plume_time_from_epoch_int(1700000000, &ns)); /* seconds */
    assert_true(ns == 1700000000ull * SEC);
    assert_true(plume_time_from_epoch_int(1700000000123, &ns)); /* milliseconds */
    assert_true(ns == 1700000000123000000ull);
    assert_true(plume_time_from_epoch_int(1700000000123456, &ns)); /* microseconds */
    assert_true(ns == 1700000000123456000ull);
    assert_true(plume_time_from_epoch_int(1700000000123456789, &ns)); /* nanoseconds */
    assert_true(ns == 1700000000123456789ull);
    /* boundaries */
    assert_true(plume_time_from_epoch_int(100000000000, &ns)); /* 1e11: milliseconds */
    assert_true(ns == 100000000000ull * 1000000);
    assert_true(plume_time_from_epoch_int(100000000000000, &ns)); /* 1e14: microseconds */
    assert_true(ns == 100000000000000ull * 1000);
    assert_true(plume_time_from_epoch_int(18446744073709551, &ns)); /* microseconds */
    assert_true(ns == 18446744073709551000ull);
    assert_false(plume_time_from_epoch_int(99999999999999999, &ns)); /* micros past 2554 */
    assert_false(plume_time_from_epoch_int(99999999999, &ns));    /* seconds past 2554 */
    assert_true(plume_time_from_epoch_int(100000000000000000, &ns)); /* 1e17: nanoseconds */
    assert_true(ns == 100000000000000000ull);
    assert_true(plume_time_from_epoch_int(INT64_MAX, &ns));
    assert_false(plume_time_from_epoch_int(-1, &ns));
    assert_false(plume_time_from_epoch_int(INT64_MIN, &ns));
}

static void epoch_double(void **state)
{
    (void)state;
    uint64_t ns;
    assert_true(plume_time_from_epoch_double(1700000000.5, &ns));
    assert_true(ns == 1700000000500000000ull);
    assert_true(plume_time_from_epoch_double(1700000000123.25, &ns)); /* ms */
    assert_true(ns == 1700000000123250000ull);
    assert_true(plume_time_from_epoch_double(1.5, &ns));
    assert_true(ns == 1500000000ull);
    assert_true(plume_time_from_epoch_double(0.0, &ns));
    assert_true(ns == 0);
    assert_false(plume_time_from_epoch_double(-0.5, &ns));
    assert_false(plume_time_from_epoch_double(NAN, &ns));
    assert_false(plume_time_from_epoch_double(INFINITY, &ns));
    assert_false(plume_time_from_epoch_double(1.9e19, &ns));
    assert_false(plume_time_from_epoch_double(5e10, &ns)); /* seconds past 2554 */
}

static void epoch_str(void **state)
{
    (void)state;
    uint64_t ns;
#define ES(s, ok) plume_time_from_epoch_str(s, strlen(s), &ns) == (ok)
    assert_true(ES("1700000000", true));
    assert_true(ns == 1700000000ull * SEC);
    assert_true(ES("1700000000.123456789", true)); /* exact, no float rounding */
    assert_true(ns == 1700000000123456789ull);
    assert_true(ES("1700000000.1234567899", true)); /* extra digits truncated */
    assert_true(ns == 1700000000123456789ull);
    assert_true(ES("1700000000123.456", true)); /* ms with fraction */
    assert_true(ns == 1700000000123456000ull);
    assert_true(ES("1700000000123456789", true));
    assert_true(ns == 1700000000123456789ull);
    assert_true(ES("1700000000123456789.9", true)); /* ns: fraction dropped */
    assert_true(ns == 1700000000123456789ull);
    assert_true(ES("0.5", true));
    assert_true(ns == 500000000);
    assert_true(ES("", false));
    assert_true(ES("abc", false));
    assert_true(ES("1.", false));
    assert_true(ES(".5", false));
    assert_true(ES("-1", false));
    assert_true(ES("+1", false));
    assert_true(ES("1e9", false));
    assert_true(ES(" 1", false));
    assert_true(ES("1 ", false));
    assert_true(ES("99999999999999999999", false)); /* > uint64 */
    assert_true(ES("99999999999", false));          /* seconds past 2554 */
#undef ES
}

/* The cached parser gives exactly the plain parser's verdict and time (and
 * leaves *ns alone when refusing) for s[0..n). */
static void cached_like_plain(const char *s, size_t n)
{
    uint64_t want = 7, got = 7;
    bool ok = plume_time_parse_rfc3339(s, n, &want);
    bool cached = plume_time_parse_rfc3339_cached(s, n, &got);
    if (ok != cached || got != want)
        fail_msg("%.*s: plain %d %llu, cached %d %llu", (int)n, s, ok, (unsigned long long)want,
                 cached, (unsigned long long)got);
}

/* Every fraction length (0-12 digits) with each separator and zone, digits
 * turned into other bytes at each position, texts around the 27 bytes from
 * which a fraction is read as one 8-byte word: the cached parser agrees
 * with the plain one on a miss, on a hit of the same text, on a hit after a
 * time with the same head and zone but another fraction, and after one
 * whose zone differs in its first byte only. */
static void cached_fractions(void **state)
{
    (void)state;
    static const char *const zones[] = {"Z", "z", "", "+01:00", "-0130", "+05", "Zx", "+1"};
    static const char seps[] = {'.', ','};
    static const char junk[] = {'a', '/', ':', ' ', '.', (char)0xc3, '\0', 'Z'};
    const char *digits = "123456789012";
    for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
        for (size_t sp = 0; sp < sizeof(seps); sp++) {
            for (int nd = -1; nd <= 12; nd++) {
                for (int variant = -1; variant < (int)sizeof(junk) * (nd > 0 ? nd : 0); variant++) {
                    char t[64], primer[64];
                    size_t n = (size_t)snprintf(t, sizeof(t), "2026-11-21T10:00:0%d", nd & 7);
                    memcpy(primer, t, n);
                    if (nd >= 0) {
                        t[n++] = seps[sp];
                        memcpy(t + n, digits, (size_t)nd);
                        if (variant >= 0) { /* one digit replaced by another byte */
                            size_t v = (size_t)variant;
                            t[n + v % (size_t)nd] = junk[v / (size_t)nd];
                        }
                        n += (size_t)nd;
                    }
                    n += (size_t)snprintf(t + n, sizeof(t) - n, "%s", zones[z]);
                    cached_like_plain(t, n); /* may fill the cache */
                    cached_like_plain(t, n); /* hits it */
                    /* the same head and zone with a 9-digit fraction, read
                     * digit by digit, fills the cache */
                    size_t pn = 19 + (size_t)snprintf(primer + 19, sizeof(primer) - 19,
                                                      ".987654321%s", zones[z]);
                    cached_like_plain(primer, pn);
                    cached_like_plain(t, n);
                    /* a zone differing in its first byte only */
                    char c = primer[29];
                    primer[29] = c == '+' ? '-' : c == '-' ? '+' : c == 'Z' ? 'z' : c;
                    cached_like_plain(primer, pn);
                    cached_like_plain(t, n);
                }
            }
        }
    }
    /* the last instant: a hit whose fraction would pass it is refused */
    cached_like_plain("2554-07-21T23:34:33.000000000Z", 30);
    cached_like_plain("2554-07-21T23:34:33.709551615Z", 30);
    cached_like_plain("2554-07-21T23:34:33.709551616Z", 30);
    cached_like_plain("2554-07-21T23:34:33.999999Z", 27);
    /* shorter than a head, and heads that differ in each byte */
    cached_like_plain("2026-11-21T10:00:00", 19);
    cached_like_plain("2026-11-21T10:00:0", 18);
    for (size_t at = 0; at < 19; at++) {
        char t[] = "2026-11-21T10:00:00.123456Z";
        cached_like_plain(t, 27);
        t[at] = t[at] == '0' ? '1' : '0';
        cached_like_plain(t, 27);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc3339_forms),
        cmocka_unit_test(rfc3339_rejects),
        cmocka_unit_test(civil_days),
        cmocka_unit_test(epoch_int),
        cmocka_unit_test(epoch_double),
        cmocka_unit_test(epoch_str),
        cmocka_unit_test(cached_fractions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
