/* SPDX-License-Identifier: MIT */
/* TOML scalars other than strings: booleans, integers (decimal with sign,
 * hexadecimal, octal, binary; underscores only between digits; no leading
 * zeros; int64 range), floats (fraction, exponent, inf and nan with signs) and
 * the four date-time kinds (offset and local date-times, local dates, local
 * times), with calendar ranges checked (month 13, day 32, Feb 29 outside leap
 * years, hour 24, ...). Date-times are stored as normalised text: 'T' between
 * date and time and an upper-case 'Z'. */
#include "toml_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NUMBER_LEN 1024

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Characters that may continue a number, boolean or date-time token: anything
 * from this set right after a scalar means the scalar was malformed. */
static bool is_token_char(char c)
{
    return plume_toml_is_bare_key_char(c) || c == '+' || c == '.' || c == ':';
}

/* Fails with "invalid <what> '<token>'<detail>", quoting the token at `s`. For
 * date-times (`what` starting with "date" or "time") the quote includes a space
 * separating a date from a time. */
static bool fail_token(plume_toml_parser_t *ps, const char *s, const char *what,
                       const char *detail)
{
    const char *e = s;
    bool dt = strncmp(what, "date", 4) == 0 || strncmp(what, "time", 4) == 0;
    while (e < ps->end && e - s < 40) {
        if (is_token_char(*e))
            e++;
        else if (dt && e - s == 10 && *e == ' ' && ps->end - e > 1 && is_digit(e[1]))
            e++;
        else
            break;
    }
    if (e == s && e < ps->end)
        e++;
    return plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, s), "invalid %s '%.*s'%s", what,
                               (int)(e - s), s, detail ? detail : "");
}

/* Parses exactly n decimal digits at p (bounded by e); -1 if not digits. */
static int fixed_digits(const char *p, const char *e, int n)
{
    if (e - p < n)
        return -1;
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

/* Parses HH:MM:SS[.frac] at *q; appends it to the scratch buffer. */
static bool lex_time(plume_toml_parser_t *ps, const char *s, const char **q)
{
    const char *p = *q, *e = ps->end;
    int h = fixed_digits(p, e, 2);
    int mi = (e - p > 2 && p[2] == ':') ? fixed_digits(p + 3, e, 2) : -1;
    int se = (mi >= 0 && e - p > 5 && p[5] == ':') ? fixed_digits(p + 6, e, 2) : -1;
    if (h < 0 || mi < 0 || se < 0)
        return fail_token(ps, s, "time", " (expected HH:MM:SS)");
    if (h > 23)
        return fail_token(ps, s, "time", " (hour out of range)");
    if (mi > 59)
        return fail_token(ps, s, "time", " (minute out of range)");
    if (se > 60)
        return fail_token(ps, s, "time", " (second out of range)");
    p += 8;
    if (p < e && *p == '.') {
        const char *f = p + 1;
        while (f < e && is_digit(*f))
            f++;
        if (f == p + 1)
            return fail_token(ps, s, "time", " (expected digits after '.')");
        p = f;
    }
    plume_buf_append(&ps->scratch, *q, (size_t)(p - *q));
    *q = p;
    return true;
}

/* Date, date-time (local or with offset) or local time starting at ps->p. */
static bool lex_datetime(plume_toml_parser_t *ps, plume_toml_value_t *v, bool is_time)
{
    const char *s = ps->p, *e = ps->end, *q = s;
    plume_buf_reset(&ps->scratch);
    if (is_time) {
        if (!lex_time(ps, s, &q))
            return false;
        v->type = PLUME_TOML_TIME_LOCAL;
    } else {
        int y = fixed_digits(q, e, 4);
        int m = (e - q > 4 && q[4] == '-') ? fixed_digits(q + 5, e, 2) : -1;
        int d = (m >= 0 && e - q > 7 && q[7] == '-') ? fixed_digits(q + 8, e, 2) : -1;
        if (y < 0 || m < 0 || d < 0)
            return fail_token(ps, s, "date", " (expected YYYY-MM-DD)");
        if (m < 1 || m > 12)
            return fail_token(ps, s, "date", " (month out of range)");
        if (d < 1 || d > days_in_month(y, m))
            return fail_token(ps, s, "date", " (day out of range)");
        plume_buf_append(&ps->scratch, q, 10);
        q += 10;
        v->type = PLUME_TOML_DATE_LOCAL;
        bool has_time = false;
        if (q < e && (*q == 'T' || *q == 't'))
            has_time = true;
        else if (e - q >= 4 && *q == ' ' && is_digit(q[1]) && is_digit(q[2]) && q[3] == ':')
            has_time = true;
        if (has_time) {
            plume_buf_append_byte(&ps->scratch, 'T');
            q++;
            if (!lex_time(ps, s, &q))
                return false;
            v->type = PLUME_TOML_DATETIME_LOCAL;
            if (q < e && (*q == 'Z' || *q == 'z')) {
                plume_buf_append_byte(&ps->scratch, 'Z');
                q++;
                v->type = PLUME_TOML_DATETIME;
            } else if (q < e && (*q == '+' || *q == '-')) {
                int oh = fixed_digits(q + 1, e, 2);
                int om = (oh >= 0 && e - q > 3 && q[3] == ':') ? fixed_digits(q + 4, e, 2) : -1;
                if (oh < 0 || om < 0)
                    return fail_token(ps, s, "date-time", " (expected offset +HH:MM)");
                if (oh > 23 || om > 59)
                    return fail_token(ps, s, "date-time", " (offset out of range)");
                plume_buf_append(&ps->scratch, q, 6);
                q += 6;
                v->type = PLUME_TOML_DATETIME;
            }
        }
    }
    if (q < e && is_token_char(*q))
        return fail_token(ps, s, plume_toml_type_name(v->type), NULL);
    if (ps->scratch.failed || !(v->u.str.s = malloc(ps->scratch.len + 1)))
        return plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, s), "out of memory");
    memcpy(v->u.str.s, ps->scratch.data, ps->scratch.len);
    v->u.str.s[ps->scratch.len] = '\0';
    v->u.str.len = ps->scratch.len;
    ps->p = q;
    return true;
}

static int digit_in_base(char c, int base)
{
    int d = plume_toml_hex_value(c);
    return d >= 0 && d < base ? d : -1;
}

/* Scans a run of digits in `base` with single underscores between digits.
 * Returns the end of the run, or NULL if an underscore is misplaced or there is
 * no digit. */
static const char *digit_run(const char *p, const char *e, int base)
{
    if (p >= e || digit_in_base(*p, base) < 0)
        return NULL;
    p++;
    while (p < e) {
        if (*p == '_') {
            if (p + 1 >= e || digit_in_base(p[1], base) < 0)
                return NULL;
            p += 2;
        } else if (digit_in_base(*p, base) >= 0)
            p++;
        else
            break;
    }
    return p;
}

/* Converts digits (underscores skipped) to a magnitude no larger than `limit`. */
static bool digits_value(const char *p, const char *e, int base, uint64_t limit, uint64_t *out)
{
    uint64_t v = 0;
    for (; p < e; p++) {
        if (*p == '_')
            continue;
        uint64_t d = (uint64_t)digit_in_base(*p, base);
        if (v > (limit - d) / (uint64_t)base)
            return false;
        v = v * (uint64_t)base + d;
    }
    *out = v;
    return true;
}

static bool lex_float_value(plume_toml_parser_t *ps, const char *s, const char *e, double *out)
{
    char buf[MAX_NUMBER_LEN + 1];
    size_t n = 0;
    for (const char *p = s; p < e; p++)
        if (*p != '_')
            buf[n++] = *p;
    buf[n] = '\0';
    if (!ps->c_locale)
        ps->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    char *end;
    errno = 0;
    double d = ps->c_locale ? strtod_l(buf, &end, ps->c_locale) : strtod(buf, &end);
    if (end != buf + n)
        return fail_token(ps, s, "float", NULL);
    if (errno == ERANGE && isinf(d))
        return fail_token(ps, s, "float", " (out of range)");
    *out = d;
    return true;
}

/* Integer or float starting at ps->p (sign, digits, inf, nan). */
static bool lex_number(plume_toml_parser_t *ps, plume_toml_value_t *v)
{
    const char *s = ps->p, *e = s;
    while (e < ps->end && is_token_char(*e) && *e != ':')
        e++;
    if (e - s > MAX_NUMBER_LEN)
        return plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, s),
                                   "number longer than %d characters", MAX_NUMBER_LEN);
    const char *q = s;
    bool neg = false, sign = false;
    if (*q == '+' || *q == '-') {
        neg = *q == '-';
        sign = true;
        q++;
    }
    size_t rest = (size_t)(e - q);
    if (rest == 3 && (memcmp(q, "inf", 3) == 0 || memcmp(q, "nan", 3) == 0)) {
        v->type = PLUME_TOML_FLOAT;
        v->u.f = q[0] == 'i' ? (neg ? -INFINITY : INFINITY) : (neg ? -NAN : NAN);
    } else if (sign && rest > 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'o' || q[1] == 'b')) {
        return fail_token(ps, s, "integer", " (hexadecimal, octal and binary take no sign)");
    } else if (rest > 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'o' || q[1] == 'b')) {
        int base = q[1] == 'x' ? 16 : q[1] == 'o' ? 8 : 2;
        const char *d = q + 2, *de = digit_run(d, e, base);
        uint64_t mag;
        if (!de || de != e)
            return fail_token(ps, s, "integer", NULL);
        if (!digits_value(d, e, base, (uint64_t)INT64_MAX, &mag))
            return fail_token(ps, s, "integer", " (out of range)");
        v->type = PLUME_TOML_INTEGER;
        v->u.i = (int64_t)mag;
    } else {
        const char *ip = q, *ie = digit_run(q, e, 10);
        bool colon = e < ps->end && *e == ':';
        if (!sign && ie && ie < e && *ie == '-')
            return fail_token(ps, s, "date", " (expected YYYY-MM-DD)");
        if (!sign && ie && ie == e && colon)
            return fail_token(ps, s, "time", " (expected HH:MM:SS)");
        if (!ie)
            return fail_token(ps, s, "number", NULL);
        if (*ip == '0' && ie - ip > 1)
            return fail_token(ps, s, "number", " (leading zeros are not allowed)");
        const char *p = ie;
        bool is_float = false;
        if (p < e && *p == '.') {
            p = digit_run(p + 1, e, 10);
            if (!p)
                return fail_token(ps, s, "float", " (expected digits after '.')");
            is_float = true;
        }
        if (p < e && (*p == 'e' || *p == 'E')) {
            p++;
            if (p < e && (*p == '+' || *p == '-'))
                p++;
            p = digit_run(p, e, 10);
            if (!p)
                return fail_token(ps, s, "float", " (bad exponent)");
            is_float = true;
        }
        if (p != e)
            return fail_token(ps, s, "number", NULL);
        if (is_float) {
            v->type = PLUME_TOML_FLOAT;
            if (!lex_float_value(ps, s, e, &v->u.f))
                return false;
        } else {
            uint64_t mag;
            uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
            if (!digits_value(ip, ie, 10, limit, &mag))
                return fail_token(ps, s, "integer", " (out of range)");
            v->type = PLUME_TOML_INTEGER;
            v->u.i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
        }
    }
    if (e < ps->end && *e == ':')
        return fail_token(ps, s, "number", NULL);
    ps->p = e;
    return true;
}

bool plume_toml_lex_scalar(plume_toml_parser_t *ps, plume_toml_value_t *v)
{
    const char *s = ps->p, *e = ps->end;
    if (*s == 't' || *s == 'f') {
        size_t n = *s == 't' ? 4 : 5;
        const char *word = *s == 't' ? "true" : "false";
        if ((size_t)(e - s) < n || memcmp(s, word, n) != 0 ||
            (s + n < e && is_token_char(s[n])))
            return fail_token(ps, s, "value", " (booleans are 'true' or 'false')");
        v->type = PLUME_TOML_BOOL;
        v->u.b = *s == 't';
        ps->p += n;
        return true;
    }
    if (is_digit(*s)) {
        if (fixed_digits(s, e, 4) >= 0 && e - s > 4 && s[4] == '-')
            return lex_datetime(ps, v, false);
        if (fixed_digits(s, e, 2) >= 0 && e - s > 2 && s[2] == ':')
            return lex_datetime(ps, v, true);
    }
    return lex_number(ps, v);
}
