/* SPDX-License-Identifier: MIT */
/* Retry delays and the parsing of servers' wait-until headers. See backoff.h.
 *
 * Dates are parsed by hand rather than with strptime(): strptime depends on the
 * locale and accepts far more than the HTTP grammar does. Epoch conversion uses
 * the proleptic Gregorian day count (days_from_civil below), which is exact for
 * every year the grammar can express. */
#include "backoff.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

uint64_t plume_backoff_delay_ms(const plume_backoff_policy_t *p, uint32_t attempt, uint64_t rnd)
{
    if (!p)
        return 0;
    uint32_t k = attempt ? attempt - 1 : 0;
    uint64_t d;
    if (p->initial_ms == 0)
        d = 0;
    else if (k >= 64 || p->initial_ms > (UINT64_MAX >> k))
        d = p->max_ms; /* initial * 2^k exceeds any possible cap */
    else
        d = p->initial_ms << k;
    if (d > p->max_ms)
        d = p->max_ms;
    uint64_t half = d / 2;
    uint64_t span = d - half; /* <= 2^63, so span + 1 cannot overflow */
    return half + rnd % (span + 1);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Trims blanks: sets [*b, *e) to the value without surrounding SP/HT. */
static void trim(const char *v, const char **b, const char **e)
{
    while (is_blank(*v))
        v++;
    const char *end = v + strlen(v);
    while (end > v && is_blank(end[-1]))
        end--;
    *b = v;
    *e = end;
}

/* Parses 1*DIGIT from *p (up to e) into *out, saturating at UINT64_MAX.
 * Returns false if there is no digit. */
static bool parse_uint_sat(const char **p, const char *e, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    bool sat = false;
    while (s < e && is_digit(*s)) {
        unsigned dg = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - dg) / 10)
            sat = true;
        else
            v = v * 10 + dg;
        s++;
    }
    if (s == *p)
        return false;
    *p = s;
    *out = sat ? UINT64_MAX : v;
    return true;
}

bool plume_parse_epoch_reset(const char *value, uint64_t *epoch_ms)
{
    if (!value || !epoch_ms)
        return false;
    const char *p, *e;
    trim(value, &p, &e);
    uint64_t secs;
    if (!parse_uint_sat(&p, e, &secs))
        return false;
    uint64_t frac = 0;
    if (p < e && *p == '.') {
        p++;
        int n = 0;
        for (; p < e && is_digit(*p); p++, n++)
            if (n < 3)
                frac = frac * 10 + (uint64_t)(*p - '0');
        if (n == 0)
            return false;
        for (; n < 3; n++) /* ".5" is 500 ms */
            frac *= 10;
    }
    if (p != e)
        return false;
    if (secs > (UINT64_MAX - 999) / 1000)
        return false;
    *epoch_ms = secs * 1000 + frac;
    return true;
}

/* ---- HTTP-date ---- */

static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const day_names[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const day_names_long[7] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                              "Friday", "Saturday", "Sunday"};

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1-12, d 1-31). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

typedef struct cursor {
    const char *p, *e;
} cursor_t;

/* Consumes the literal s if it comes next. */
static bool lit(cursor_t *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->e - c->p) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* Consumes exactly n digits. */
static bool digits(cursor_t *c, int n, unsigned *out)
{
    if (c->e - c->p < n)
        return false;
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(c->p[i]))
            return false;
        v = v * 10 + (unsigned)(c->p[i] - '0');
    }
    c->p += n;
    *out = v;
    return true;
}

/* Consumes one name of the table (case-insensitively); longest names first is
 * not needed since callers pick the table for the format. */
static bool name(cursor_t *c, const char *const *table, int n, unsigned *idx)
{
    for (int i = 0; i < n; i++) {
        size_t len = strlen(table[i]);
        if ((size_t)(c->e - c->p) >= len && strncasecmp(c->p, table[i], len) == 0) {
            c->p += len;
            *idx = (unsigned)i;
            return true;
        }
    }
    return false;
}

/* "hh:mm:ss" */
static bool time_of_day(cursor_t *c, unsigned *h, unsigned *mi, unsigned *s)
{
    return digits(c, 2, h) && lit(c, ":") && digits(c, 2, mi) && lit(c, ":") && digits(c, 2, s);
}

/* Parses the three HTTP-date forms into epoch seconds (may be negative). */
static bool parse_http_date(const char *b, const char *e, uint64_t now_epoch_ms, int64_t *secs)
{
    unsigned wd, day, mon, h, mi, s, year;
    int64_t y;
    cursor_t c = {b, e};
    if (name(&c, day_names_long, 7, &wd)) {
        /* rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT */
        unsigned yy;
        if (!(lit(&c, ", ") && digits(&c, 2, &day) && lit(&c, "-") &&
              name(&c, month_names, 12, &mon) && lit(&c, "-") && digits(&c, 2, &yy) &&
              lit(&c, " ") && time_of_day(&c, &h, &mi, &s) && lit(&c, " GMT")))
            return false;
        /* RFC 7231: a two-digit year more than 50 years in the future means the
         * most recent past year with those digits. */
        time_t now_s = (time_t)(now_epoch_ms / 1000);
        struct tm tm;
        int64_t cur = gmtime_r(&now_s, &tm) ? (int64_t)tm.tm_year + 1900 : 1970;
        y = cur - cur % 100 + yy;
        if (y > cur + 50)
            y -= 100;
    } else {
        c.p = b;
        if (!name(&c, day_names, 7, &wd))
            return false;
        if (lit(&c, ", ")) {
            /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
            if (!(digits(&c, 2, &day) && lit(&c, " ") && name(&c, month_names, 12, &mon) &&
                  lit(&c, " ") && digits(&c, 4, &year) && lit(&c, " ") &&
                  time_of_day(&c, &h, &mi, &s) && lit(&c, " GMT")))
                return false;
        } else {
            /* asctime-date: Sun Nov  6 08:49:37 1994 */
            if (!(lit(&c, " ") && name(&c, month_names, 12, &mon) && lit(&c, " ")))
                return false;
            if (lit(&c, " ")) {
                if (!digits(&c, 1, &day))
                    return false;
            } else if (!digits(&c, 2, &day)) {
                return false;
            }
            if (!(lit(&c, " ") && time_of_day(&c, &h, &mi, &s) && lit(&c, " ") &&
                  digits(&c, 4, &year)))
                return false;
        }
        y = year;
    }
    (void)wd; /* not cross-checked against the date: senders get it wrong */
    if (c.p != c.e)
        return false;
    mon += 1;
    if (day < 1 || day > days_in_month(y, mon) || h > 23 || mi > 59 || s > 60)
        return false;
    *secs = days_from_civil(y, mon, day) * 86400 + (int64_t)h * 3600 + mi * 60 + s;
    return true;
}

bool plume_parse_retry_after(const char *value, uint64_t now_epoch_ms, uint64_t *delay_ms)
{
    if (!value || !delay_ms)
        return false;
    const char *b, *e;
    trim(value, &b, &e);
    if (b == e)
        return false;
    if (is_digit(*b)) {
        const char *p = b;
        uint64_t secs;
        if (!parse_uint_sat(&p, e, &secs) || p != e)
            return false;
        *delay_ms = secs > UINT64_MAX / 1000 ? UINT64_MAX : secs * 1000;
        return true;
    }
    int64_t secs;
    if (!parse_http_date(b, e, now_epoch_ms, &secs))
        return false;
    if (secs < 0) {
        *delay_ms = 0;
        return true;
    }
    uint64_t at_ms = (uint64_t)secs * 1000; /* year <= 9999: no overflow */
    *delay_ms = at_ms > now_epoch_ms ? at_ms - now_epoch_ms : 0;
    return true;
}

/* ---- random ---- */

static _Thread_local uint64_t rng_state;
static _Thread_local bool rng_seeded;

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t plume_random_u64(void)
{
    if (!rng_seeded) {
        uint64_t seed = 0;
        if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                   ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)&seed;
        }
        rng_state = seed;
        rng_seeded = true;
    }
    return splitmix64(&rng_state);
}
