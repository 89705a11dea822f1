/* SPDX-License-Identifier: MIT */
/* Size and duration values in config files. See config_units.h. */
#include "config_units.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Parses "<digits>[.<digits>][ ]<unit>". The integer part is kept exactly (a
 * double would round byte counts past 2^53), the fraction as a double in
 * [0, 1]; *unit is the index of the unit in `units`. */
static bool parse_number_unit(const char *s, const char *const *units, size_t nunits,
                              uint64_t *whole, double *frac, size_t *unit)
{
    const char *p = s;
    uint64_t w = 0;
    double f = 0, scale = 1;
    int digits = 0, frac_digits = 0;
    while (isdigit((unsigned char)*p)) {
        unsigned d = (unsigned)(*p++ - '0');
        if (w > (UINT64_MAX - d) / 10)
            return false;
        w = w * 10 + d;
        digits++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            if (++frac_digits > 18)
                return false;
            scale /= 10;
            f += (*p++ - '0') * scale;
            digits++;
        }
    }
    if (digits == 0)
        return false;
    if (*p == ' ')
        p++;
    for (size_t i = 0; i < nunits; i++) {
        if (strcmp(p, units[i]) == 0) {
            *whole = w;
            *frac = f;
            *unit = i;
            return true;
        }
    }
    return false;
}

bool plume_parse_size(const char *s, uint64_t *bytes)
{
    static const char *const units[] = {"", "B", "KB", "MB", "GB", "KiB", "MiB", "GiB", "TiB"};
    static const uint64_t mult[] = {1, 1, 1000, 1000000, 1000000000, 1ull << 10, 1ull << 20,
                                    1ull << 30, 1ull << 40};
    uint64_t w;
    double f;
    size_t u;
    if (!parse_number_unit(s, units, sizeof(mult) / sizeof(mult[0]), &w, &f, &u) ||
        w > UINT64_MAX / mult[u])
        return false;
    uint64_t v = w * mult[u];
    uint64_t fv = (uint64_t)(f * (double)mult[u]); /* <= mult[u] <= 2^40 */
    if (fv > UINT64_MAX - v)
        return false;
    *bytes = v + fv;
    return true;
}

bool plume_parse_duration_ms(const char *s, uint64_t *ms)
{
    static const char *const units[] = {"ms", "s", "m", "h"};
    static const uint64_t mult[] = {1, 1000, 60000, 3600000};
    const uint64_t cap = 1000000000000000ull; /* 1e15 ms (~31,700 years) */
    uint64_t w;
    double f;
    size_t u;
    if (!parse_number_unit(s, units, 4, &w, &f, &u) || w > cap / mult[u])
        return false;
    uint64_t v = w * mult[u] + (uint64_t)llround(f * (double)mult[u]);
    if (v >= cap)
        return false;
    *ms = v;
    return true;
}

void plume_format_size(uint64_t bytes, char *out, size_t outlen)
{
    static const char *const units[] = {"GiB", "MiB", "KiB"};
    static const uint64_t mult[] = {1ull << 30, 1ull << 20, 1ull << 10};
    for (int i = 0; i < 3; i++) {
        if (bytes >= mult[i] && bytes % mult[i] == 0) {
            snprintf(out, outlen, "%llu%s", (unsigned long long)(bytes / mult[i]), units[i]);
            return;
        }
    }
    snprintf(out, outlen, "%lluB", (unsigned long long)bytes);
}

void plume_format_duration_ms(uint64_t ms, char *out, size_t outlen)
{
    if (ms >= 3600000 && ms % 3600000 == 0)
        snprintf(out, outlen, "%lluh", (unsigned long long)(ms / 3600000));
    else if (ms >= 60000 && ms % 60000 == 0)
        snprintf(out, outlen, "%llum", (unsigned long long)(ms / 60000));
    else if (ms >= 1000 && ms % 1000 == 0)
        snprintf(out, outlen, "%llus", (unsigned long long)(ms / 1000));
    else
        snprintf(out, outlen, "%llums", (unsigned long long)ms);
}
