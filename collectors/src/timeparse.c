/* SPDX-License-Identifier: MIT */
/* RFC 3339 and epoch time stamps to Unix nanoseconds. See timeparse.h.
 *
 * The date arithmetic is the well-known days-from-civil algorithm (eras of 400
 * years, March-based years so that the leap day is the last day of a year),
 * done in 64-bit integers. Every conversion checks for overflow explicitly. */
#include "timeparse.h"

#include <math.h>
#include <string.h>

#include "unaligned.h"

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

/* ---- the cached parser ---- */

/* The last RFC 3339 time parsed by plume_time_parse_rfc3339_cached(), by its
 * "YYYY-MM-DDTHH:MM:SS" head and the zone text after the fraction: log lines
 * come in time order, so most share both with the line before and only the
 * fraction differs. Per thread. */
typedef struct time_cache {
    bool valid;
    uint8_t tail_len;
    char head[19];
    char tail[8];
    uint64_t base_ns; /* the time with a zero fraction */
} time_cache_t;

static _Thread_local time_cache_t tcache;


#define ONES8 0x0101010101010101ull
#define HIGHS8 0x8080808080808080ull

/* Bit 7 of each byte of w set when that byte is not an ASCII digit. Exact
 * for every byte: no carry or borrow crosses a byte ((b & 0x7f) + 0x46 stays
 * below 0x100, (b | 0x80) - 0x30 above 0). */
static inline uint64_t nondigit_bytes(uint64_t w)
{
    uint64_t above = (w & (ONES8 * 0x7f)) + ONES8 * (0x7f - '9'); /* b > '9' */
    uint64_t from0 = (w | HIGHS8) - ONES8 * '0';                 /* bit 7 clear: b < '0' */
    return (above | ~from0 | w) & HIGHS8;
}

/* The value of the decimal digits in the first d bytes of w (1 <= d <= 8,
 * the first byte the most significant digit; the other bytes are ignored):
 * pairs, then groups of four, by multiplication (no loop). */
static inline uint64_t digits_value(uint64_t w, unsigned d)
{
    /* Digit bytes never borrow from the next byte; what the bytes after
     * them borrow is shifted out with them, and zeros (leading zero digits)
     * come in at the low end. */
    w -= ONES8 * '0';
    if (d < 8)
        w <<= 8 * (8 - d);
    w = w * 10 + (w >> 8); /* byte 2k: the pair 2k, 2k+1 (at most 99) */
    uint64_t pairs02 = w & 0x000000ff000000ffull, pairs13 = (w >> 16) & 0x000000ff000000ffull;
    return (pairs02 * (100 + (1000000ull << 32)) + pairs13 * (1 + (10000ull << 32))) >> 32;
}

static const uint32_t pow10_u32[10] = {1,      10,      100,      1000,      10000,
                                       100000, 1000000, 10000000, 100000000, 1000000000};

/* The fraction of an RFC 3339 text s[0..n), whose byte 19 is its '.' or ','
 * (n >= 20): its first 9 digits as nanoseconds (fewer are scaled up), the
 * number of digits in *nd and the index after them as the result. Fractions
 * of up to 6 digits followed by at least one byte (the usual "...123456Z")
 * are read from one 8-byte word. */
static inline size_t read_fraction(const char *s, size_t n, uint64_t *frac, int *nd)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n >= 27) {
        /* bytes 19..26: the separator (read as a leading '0'), then digits */
        uint64_t w = (plume_load_u64(s + 19) & ~0xffull) | '0';
        uint64_t nondigit = nondigit_bytes(w);
        if (nondigit) {
            unsigned d = (unsigned)__builtin_ctzll(nondigit) >> 3; /* 1..7 */
            *nd = (int)d - 1;
            *frac = digits_value(w, d) * pow10_u32[9 - (d - 1)];
            return 19 + d;
        }
    }
#endif
    uint64_t f = 0;
    int k = 0;
    size_t i;
    for (i = 20; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++)
        if (k < 9)
            f = f * 10 + (uint64_t)(s[i] - '0');
    *nd = k;
    *frac = k < 9 ? f * pow10_u32[9 - k] : f;
    return i;
}

/* plume_time_parse_rfc3339_cached() when the cache does not answer: parses, and keeps
 * the head, zone and fraction-less time for the next lines. i: the index
 * after the fraction; frac, frac_ok: what read_fraction() found. */
static __attribute__((noinline)) bool parse_rfc3339_fill(const char *s, size_t n, size_t i,
                                                         uint64_t frac, bool frac_ok,
                                                         uint64_t *ns)
{
    if (!plume_time_parse_rfc3339(s, n, ns))
        return false;
    size_t tail_len = n - i;
    if (frac_ok && tail_len <= sizeof(tcache.tail) && *ns >= frac) {
        tcache.valid = true;
        tcache.tail_len = (uint8_t)tail_len;
        memcpy(tcache.head, s, 19);
        memcpy(tcache.tail, s + i, tail_len);
        tcache.base_ns = *ns - frac;
    }
    return true;
}

/* A string whose head and zone match the cached ones is valid exactly when
 * its fraction is (one or more digits, or none with no '.'), since the
 * parser checks each part on its own; only the final addition can differ. A
 * hit is a few loads and compares. */
bool plume_time_parse_rfc3339_cached(const char *s, size_t n, uint64_t *ns)
{
    if (n < 20)
        return plume_time_parse_rfc3339(s, n, ns);
    size_t i = 19;
    uint64_t frac = 0;
    bool frac_ok = true;
    if (s[19] == '.' || s[19] == ',') {
        int nd;
        i = read_fraction(s, n, &frac, &nd);
        frac_ok = nd > 0;
    }
    size_t tail_len = n - i;
    if (frac_ok && tcache.valid && tail_len == tcache.tail_len) {
        uint64_t diff = (plume_load_u64(s) ^ plume_load_u64(tcache.head)) | (plume_load_u64(s + 8) ^ plume_load_u64(tcache.head + 8)) |
                        (plume_load_u32(s + 15) ^ plume_load_u32(tcache.head + 15));
        for (size_t k = 0; k < tail_len; k++)
            diff |= (uint8_t)(s[i + k] ^ tcache.tail[k]);
        uint64_t t;
        if (diff == 0) {
            if (__builtin_add_overflow(tcache.base_ns, frac, &t))
                return false;
            *ns = t;
            return true;
        }
    }
    return parse_rfc3339_fill(s, n, i, frac, frac_ok, ns);
}
