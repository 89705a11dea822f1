/* SPDX-License-Identifier: MIT */
/* Sizes and durations as written in agent.toml: every unit, the optional space,
 * fractions, garbage and overflow rejected (and the output left untouched), the
 * canonical printed form, and parse(format(v)) == v round trips over a spread of
 * values. */
#include "test_support.h"
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_units.h"

#define SENTINEL 0xdeadbeefcafef00dull

static uint64_t size_ok(const char *s)
{
    uint64_t v = SENTINEL;
    if (!plume_parse_size(s, &v))
        fail_msg("size \"%s\" was rejected", s);
    return v;
}

static uint64_t dur_ok(const char *s)
{
    uint64_t v = SENTINEL;
    if (!plume_parse_duration_ms(s, &v))
        fail_msg("duration \"%s\" was rejected", s);
    return v;
}

static void size_units(void **state)
{
    (void)state;
    assert_true(size_ok("0") == 0);
    assert_true(size_ok("100") == 100);
    assert_true(size_ok("100B") == 100);
    assert_true(size_ok("1KB") == 1000);
    assert_true(size_ok("1MB") == 1000000);
    assert_true(size_ok("1GB") == 1000000000);
    assert_true(size_ok("1KiB") == 1024);
    assert_true(size_ok("4MiB") == 4u << 20);
    assert_true(size_ok("2GiB") == 2ull << 30);
    assert_true(size_ok("1TiB") == 1ull << 40);
    assert_true(size_ok("512KiB") == 512u << 10);
    assert_true(size_ok("1 MiB") == 1u << 20);
    assert_true(size_ok("10 B") == 10);
    assert_true(size_ok("1.5KiB") == 1536);
    assert_true(size_ok("0.5MiB") == 512u << 10);
    assert_true(size_ok("007KiB") == 7u << 10);
}

static void size_garbage_rejected(void **state)
{
    (void)state;
    const char *bad[] = {"",       " ",       "B",      "MiB",     "1mib",   "1 mib",
                         "1MIB",   "1kib",    "1MiBx",  "1MiB ",   " 1MiB",  "1  MiB",
                         "-1",     "+1",      "-1MiB",  "1e3",     "1,000",  "1.2.3",
                         "0x10",   "abc",     ".",      "1 2",     "1\tMiB", "1MiB\n",
                         "1PiB",   "1 KiB B", "1.5.KiB", "one"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = SENTINEL;
        if (plume_parse_size(bad[i], &v))
            fail_msg("size \"%s\" was accepted as %llu", bad[i], (unsigned long long)v);
        assert_true(v == SENTINEL); /* output untouched on failure */
    }
}

static void size_overflow_rejected(void **state)
{
    (void)state;
    const char *bad[] = {
        "18446744073709551616",  /* 2^64 */
        "99999999999999999999",
        "100000000000000000000000000000",
        "17179869184GiB",        /* 2^64 bytes */
        "16777216TiB",           /* 2^64 bytes */
        "18446744073709551615KB",
        "999999999999999999TiB", /* ~1.1e30 */
        "99999999999GB",         /* 9.9e19 */
        "16777216.0TiB",
        "1.0000000000000000000", /* fraction longer than 18 digits */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = SENTINEL;
        if (plume_parse_size(bad[i], &v))
            fail_msg("size \"%s\" was accepted as %llu", bad[i], (unsigned long long)v);
        assert_true(v == SENTINEL);
    }
    /* Up to 2^64 - 1 is representable, and exact (no rounding through a double). */
    assert_true(size_ok("18446744073709551615") == UINT64_MAX);
    assert_true(size_ok("18446744073709551615B") == UINT64_MAX);
    assert_true(size_ok("17179869183GiB") == (1ull << 34) * (1ull << 30) - (1ull << 30));
    assert_true(size_ok("16777215TiB") == UINT64_MAX - ((1ull << 40) - 1));
    assert_true(size_ok("16777215.5TiB") == UINT64_MAX - ((1ull << 40) - 1) + (1ull << 39));
    assert_true(size_ok("8589934592GiB") == 1ull << 63);
    assert_true(size_ok("9007199254740993") == 9007199254740993ull); /* 2^53 + 1 */
    assert_true(size_ok("999999999999999999") == 999999999999999999ull);
    assert_true(size_ok("18446744073GB") == 18446744073000000000ull);
    uint64_t v = SENTINEL;
    assert_false(plume_parse_size("18446744074GB", &v));
    assert_true(v == SENTINEL);
}

static void duration_units(void **state)
{
    (void)state;
    assert_true(dur_ok("0ms") == 0);
    assert_true(dur_ok("0s") == 0);
    assert_true(dur_ok("250ms") == 250);
    assert_true(dur_ok("1s") == 1000);
    assert_true(dur_ok("1.5s") == 1500);
    assert_true(dur_ok("0.25s") == 250);
    assert_true(dur_ok("5m") == 300000);
    assert_true(dur_ok("1.5m") == 90000);
    assert_true(dur_ok("1h") == 3600000);
    assert_true(dur_ok("0.5h") == 1800000);
    assert_true(dur_ok("30 s") == 30000);
    assert_true(dur_ok("1.5ms") == 2); /* rounded to the nearest ms */
    assert_true(dur_ok("0.4ms") == 0);
    assert_true(dur_ok("0.001s") == 1);
    assert_true(dur_ok("100000000h") == 360000000000000ull);
}

static void duration_garbage_rejected(void **state)
{
    (void)state;
    const char *bad[] = {"",     "1",     "100",   "s",     "ms",    "1sec",  "1S",  "1MS",
                         "1 ms ", " 1s",  "1  s",  "-1s",   "+1s",   "1d",    "1w",  "1e3ms",
                         "1us",   "1ns",  "1h30m", "1,5s",  "1.2.3s", "0x10s", "abc", "1s\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = SENTINEL;
        if (plume_parse_duration_ms(bad[i], &v))
            fail_msg("duration \"%s\" was accepted as %llu", bad[i], (unsigned long long)v);
        assert_true(v == SENTINEL);
    }
}

static void duration_overflow_rejected(void **state)
{
    (void)state;
    const char *bad[] = {"1000000000000h",          /* 3.6e18 ms */
                         "999999999999999999h",     /* 3.6e24 ms */
                         "1000000000000000ms",      /* 1e15, the cap */
                         "99999999999999999999s",   /* 20 digits */
                         "9999999999999999999999h"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = SENTINEL;
        if (plume_parse_duration_ms(bad[i], &v))
            fail_msg("duration \"%s\" was accepted as %llu", bad[i], (unsigned long long)v);
        assert_true(v == SENTINEL);
    }
    assert_true(dur_ok("999999999999999ms") == 999999999999999ull);
}

static void format_size_canonical(void **state)
{
    (void)state;
    const struct {
        uint64_t v;
        const char *s;
    } cases[] = {
        {0, "0B"},
        {1, "1B"},
        {1000, "1000B"},
        {1023, "1023B"},
        {1024, "1KiB"},
        {1536, "1536B"},
        {1025, "1025B"},
        {4096, "4KiB"},
        {1u << 20, "1MiB"},
        {(1u << 20) + 1024, "1025KiB"},
        {64u << 20, "64MiB"},
        {1ull << 30, "1GiB"},
        {3ull << 30, "3GiB"},
        {1ull << 40, "1024GiB"},
        {UINT64_MAX, "18446744073709551615B"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32];
        memset(buf, 'Z', sizeof(buf));
        plume_format_size(cases[i].v, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].s);
    }
}

static void format_duration_canonical(void **state)
{
    (void)state;
    const struct {
        uint64_t v;
        const char *s;
    } cases[] = {
        {0, "0ms"},     {1, "1ms"},        {999, "999ms"},   {1000, "1s"},
        {1500, "1500ms"}, {59000, "59s"},  {60000, "1m"},    {90000, "90s"},
        {3600000, "1h"}, {5400000, "90m"}, {3601000, "3601s"}, {86400000, "24h"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32];
        plume_format_duration_ms(cases[i].v, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].s);
    }
}

static void format_small_buffer_truncates(void **state)
{
    (void)state;
    char buf[4];
    memset(buf, 'Z', sizeof(buf));
    plume_format_size(123456789, buf, sizeof(buf));
    assert_string_equal(buf, "123");
    memset(buf, 'Z', sizeof(buf));
    plume_format_duration_ms(123456789, buf, sizeof(buf));
    assert_string_equal(buf, "123");
    char one[1] = {'Z'};
    plume_format_size(5, one, 1);
    assert_int_equal(one[0], '\0');
}

/* A deterministic spread: exact unit multiples, their neighbours, and
 * pseudo-random values of every magnitude. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void size_round_trip(void **state)
{
    (void)state;
    uint64_t seed = 0x1234567887654321ull;
    for (int i = 0; i < 20000; i++) {
        uint64_t v;
        if (i < 64 * 3) {
            int shift = i / 3;
            v = (1ull << shift) + (uint64_t)(i % 3) - 1; /* 2^k - 1, 2^k, 2^k + 1 */
            if (shift == 63 && i % 3 == 2)
                v = UINT64_MAX;
        } else {
            int bits = (int)(next_rand(&seed) % 64) + 1; /* every magnitude */
            v = next_rand(&seed) & (bits == 64 ? UINT64_MAX : (1ull << bits) - 1);
            if (i % 4 == 0)
                v &= ~((1ull << (10 * (i % 3 + 1))) - 1); /* a KiB/MiB/GiB multiple */
        }
        char buf[32];
        plume_format_size(v, buf, sizeof(buf));
        uint64_t back = SENTINEL;
        if (!plume_parse_size(buf, &back) || back != v)
            fail_msg("size %llu -> \"%s\" -> %llu", (unsigned long long)v, buf,
                     (unsigned long long)back);
        /* The canonical text is a fixed point. */
        char again[32];
        plume_format_size(back, again, sizeof(again));
        assert_string_equal(buf, again);
    }
    /* Texts that are not canonical come back canonical. */
    const char *in[] = {"1024KiB", "1048576", "2048MiB", "0KiB", "1.5MiB", "1000B"};
    const char *out[] = {"1MiB", "1MiB", "2GiB", "0B", "1536KiB", "1000B"};
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        char buf[32];
        plume_format_size(size_ok(in[i]), buf, sizeof(buf));
        assert_string_equal(buf, out[i]);
    }
}

static void duration_round_trip(void **state)
{
    (void)state;
    uint64_t seed = 0xfeedfacecafebeefull;
    const uint64_t mults[] = {1, 1000, 60000, 3600000};
    for (int i = 0; i < 20000; i++) {
        uint64_t v = next_rand(&seed) % 999999999999999ull; /* below the 1e15 cap */
        if (i % 2 == 0)
            v = (v / 3600000 / 100000) * mults[i / 2 % 4]; /* unit multiples */
        if (i < 200)
            v = (uint64_t)i * 500;
        char buf[32];
        plume_format_duration_ms(v, buf, sizeof(buf));
        uint64_t back = SENTINEL;
        if (!plume_parse_duration_ms(buf, &back) || back != v)
            fail_msg("duration %llu -> \"%s\" -> %llu", (unsigned long long)v, buf,
                     (unsigned long long)back);
    }
    const char *in[] = {"60s", "120m", "0.5s", "1000ms", "1.5h"};
    const char *out[] = {"1m", "2h", "500ms", "1s", "90m"};
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        char buf[32];
        plume_format_duration_ms(dur_ok(in[i]), buf, sizeof(buf));
        assert_string_equal(buf, out[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(size_units),
        cmocka_unit_test(size_garbage_rejected),
        cmocka_unit_test(size_overflow_rejected),
        cmocka_unit_test(duration_units),
        cmocka_unit_test(duration_garbage_rejected),
        cmocka_unit_test(duration_overflow_rejected),
        cmocka_unit_test(format_size_canonical),
        cmocka_unit_test(format_duration_canonical),
        cmocka_unit_test(format_small_buffer_truncates),
        cmocka_unit_test(size_round_trip),
        cmocka_unit_test(duration_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
