/* SPDX-License-Identifier: MIT */
/* RFC 3339 and epoch time stamps to Unix nanoseconds. See timeparse.h.
 *
 * The date arithmetic is the well-known days-from-civil algorithm (eras of 400
 * years, March-based years so that the leap day is the last day of a year),
 * done in 64-bit integers. Every conversion checks for overflow explicitly. */
#include "timeparse.h"

#include <math.h>

#define NS_PER_SEC 1000000000ull

int64_t plume_time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                     /* [0, 399] */
    int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9;            /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;               /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;             /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads exactly k digits at s[*i]; false if any is not a digit. */
static bool digits(const char *s, size_t n, size_t *i, int k, unsigned *out)
{
    unsigned v = 0;
    if (n - *i < (size_t)k)
        return false;
    for (int j = 0; j < k; j++) {
        unsigned c = (unsigned char)s[*i + (size_t)j] - '0';
        if (c > 9)
            return false;
        v = v * 10 + c;
    }
    *i += (size_t)k;
    *out = v;
    return true;
}

static bool expect(const char *s, size_t n, size_t *i, char c)
{
    if (*i >= n || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

/* Seconds and nanoseconds since the epoch to a uint64 of nanoseconds. */
static bool to_ns(int64_t secs, uint64_t frac_ns, uint64_t *ns)
{
    if (secs < 0)
        return false;
    uint64_t v;
    if (__builtin_mul_overflow((uint64_t)secs, NS_PER_SEC, &v) ||
        __builtin_add_overflow(v, frac_ns, &v))
        return false;
    *ns = v;
    return true;
}

bool plume_time_parse_rfc3339(const char *s, size_t n, uint64_t *ns)
{
    size_t i = 0;
    unsigned year = 0, mon = 0, day = 0, hh = 0, mm = 0, ss = 0;
    if (!digits(s, n, &i, 4, &year) || !expect(s, n, &i, '-') || !digits(s, n, &i, 2, &mon) ||
        !expect(s, n, &i, '-') || !digits(s, n, &i, 2, &day))
        return false;
    if (i >= n || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
        return false;
    i++;
    if (!digits(s, n, &i, 2, &hh) || !expect(s, n, &i, ':') || !digits(s, n, &i, 2, &mm) ||
        !expect(s, n, &i, ':') || !digits(s, n, &i, 2, &ss))
        return false;
    if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hh > 23 || mm > 59 ||
        ss > 60)
        return false;

    uint64_t frac = 0;
    if (i < n && (s[i] == '.' || s[i] == ',')) {
        i++;
        int nd = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (nd < 9)
                frac = frac * 10 + (uint64_t)(s[i] - '0');
            nd++;
            i++;
        }
        if (nd == 0)
            return false;
        for (; nd < 9; nd++)
            frac *= 10;
    }

    int64_t offset = 0; /* seconds east of UTC */
    if (i < n) {
        char z = s[i++];
        if (z == 'Z' || z == 'z') {
            /* UTC */
        } else if (z == '+' || z == '-') {
            unsigned oh, om = 0;
            if (!digits(s, n, &i, 2, &oh))
                return false;
            if (i < n) {
                if (s[i] == ':')
                    i++;
                if (!digits(s, n, &i, 2, &om))
                    return false;
            }
            if (oh > 23 || om > 59)
                return false;
            offset = (int64_t)(oh * 3600 + om * 60);
            if (z == '-')
                offset = -offset;
        } else {
            return false;
        }
    }
    if (i != n)
        return false;

    int64_t days = plume_time_days_from_civil(year, mon, day);
    int64_t secs = days * 86400 + hh * 3600 + mm * 60 + ss - offset;
    return to_ns(secs, frac, ns);
}

/* Nanoseconds per unit for an epoch value of this magnitude. */
static uint64_t unit_for_int(uint64_t mag)
{
    if (mag < 100000000000ull)
        return NS_PER_SEC;
    if (mag < 100000000000000ull)
        return 1000000;
    if (mag < 100000000000000000ull)
        return 1000;
    return 1;
}

static uint64_t unit_for(double mag)
{
    if (mag < 1e11)
        return NS_PER_SEC;
    if (mag < 1e14)
        return 1000000;
    if (mag < 1e17)
        return 1000;
    return 1;
}

bool plume_time_from_epoch_int(int64_t v, uint64_t *ns)
{
    if (v < 0)
        return false;
    uint64_t out;
    if (__builtin_mul_overflow((uint64_t)v, unit_for_int((uint64_t)v), &out))
        return false;
    *ns = out;
    return true;
}

bool plume_time_from_epoch_double(double v, uint64_t *ns)
{
    if (!(v >= 0) || !(v < 18446744073709551616.0)) /* also refuses NaN and inf */
        return false;
    uint64_t unit = unit_for(v);
    double whole = floor(v);
    uint64_t ip = (uint64_t)whole;
    uint64_t fp = (uint64_t)llround((v - whole) * (double)unit);
    uint64_t out;
    if (__builtin_mul_overflow(ip, unit, &out) || __builtin_add_overflow(out, fp, &out))
        return false;
    *ns = out;
    return true;
}

bool plume_time_from_epoch_str(const char *s, size_t n, uint64_t *ns)
{
    size_t i = 0;
    uint64_t ip = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (__builtin_mul_overflow(ip, 10, &ip) ||
            __builtin_add_overflow(ip, (uint64_t)(s[i] - '0'), &ip))
            return false;
        i++;
    }
    if (i == 0)
        return false;
    uint64_t unit = unit_for_int(ip);
    uint64_t frac = 0, scale = unit;
    if (i < n && s[i] == '.') {
        i++;
        size_t nd = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (scale > 1) {
                scale /= 10;
                frac += (uint64_t)(s[i] - '0') * scale;
            }
            nd++;
            i++;
        }
        if (nd == 0)
            return false;
    }
    if (i != n)
        return false;
    uint64_t out;
    if (__builtin_mul_overflow(ip, unit, &out) || __builtin_add_overflow(out, frac, &out))
        return false;
    *ns = out;
    return true;
}
