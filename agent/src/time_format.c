/* SPDX-License-Identifier: MIT */
/* RFC 3339 formatting with a per-thread cache of the last second. See
 * time_format.h. The date comes from the well-known days-to-civil arithmetic on
 * the proleptic Gregorian calendar (400-year eras of 146097 days). */
#include "time_format.h"

#include <string.h>

/* Seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define MIN_SEC (-62167219200LL)
#define MAX_SEC 253402300799LL

/* The cached "YYYY-MM-DDTHH:MM:SS" of the last second formatted by this
 * thread. `valid` guards the all-zero initial state (second 0 is real). */
static _Thread_local struct {
    bool valid;
    int64_t sec;
    char text[19];
} cache;

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* Formats `sec` (within MIN_SEC..MAX_SEC, so the year has four digits)
 * into the cache. */
static __attribute__((noinline)) void fill_cache(int64_t sec)
{
    int64_t days = sec / 86400;
    int64_t rem = sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    /* Days since 0000-03-01, split into 400-year eras. */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    unsigned day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    unsigned month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    unsigned year = (unsigned)(yoe + era * 400 + (month <= 2));

    char *p = cache.text;
    put2(p, year / 100);
    put2(p + 2, year % 100);
    p[4] = '-';
    put2(p + 5, month);
    p[7] = '-';
    put2(p + 8, day);
    p[10] = 'T';
    put2(p + 11, (unsigned)(rem / 3600));
    p[13] = ':';
    put2(p + 14, (unsigned)(rem / 60 % 60));
    p[16] = ':';
    put2(p + 17, (unsigned)(rem % 60));
    cache.sec = sec;
    cache.valid = true;
}

/* Writes the 19-character date and time of `sec`, which must lie within
 * MIN_SEC..MAX_SEC: from the cache, filled first when it holds another
 * second. */
static inline void format_seconds(int64_t sec, char out[19])
{
    if (__builtin_expect(!cache.valid || cache.sec != sec, 0))
        fill_cache(sec);
    memcpy(out, cache.text, 19);
}

/* "00" to "99": two digits per table look-up. */
static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static inline void put_pair(char *p, uint32_t v)
{
    memcpy(p, digit_pairs + 2 * v, 2);
}

/* Writes `digits` (3 or 9) decimal digits of `v` (zero-padded; v below
 * 10^digits) at `p`: a first digit, then pairs (divisions by constants,
 * which the compiler turns into multiplications). */
static void put_fraction(char *p, uint32_t v, int digits)
{
    if (digits == 9) {
        uint32_t low8 = v % 100000000u, hi4 = low8 / 10000u, lo4 = low8 % 10000u;
        p[0] = (char)('0' + v / 100000000u);
        put_pair(p + 1, hi4 / 100u);
        put_pair(p + 3, hi4 % 100u);
        put_pair(p + 5, lo4 / 100u);
        put_pair(p + 7, lo4 % 100u);
        return;
    }
    for (int i = digits - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

static size_t finish(char *out, int64_t sec, uint32_t frac, int digits)
{
    format_seconds(sec, out);
    out[19] = '.';
    put_fraction(out + 20, frac, digits);
    out[20 + digits] = 'Z';
    out[21 + digits] = '\0';
    return (size_t)(21 + digits);
}

size_t plume_time_format_rfc3339(uint64_t ns, char out[PLUME_TIME_FORMAT_MAX])
{
    return finish(out, (int64_t)(ns / 1000000000u), (uint32_t)(ns % 1000000000u), 9);
}

size_t plume_time_format_rfc3339_ms(uint64_t ns, char out[PLUME_TIME_FORMAT_MAX])
{
    return finish(out, (int64_t)(ns / 1000000000u), (uint32_t)(ns % 1000000000u / 1000000u),
                  3);
}

size_t plume_time_format_rfc3339_split(int64_t sec, uint32_t nsec,
                                       char out[PLUME_TIME_FORMAT_MAX])
{
    if (nsec >= 1000000000u || sec < MIN_SEC || sec > MAX_SEC) {
        out[0] = '\0';
        return 0;
    }
    return finish(out, sec, nsec, 9);
}
