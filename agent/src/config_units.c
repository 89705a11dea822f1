/* SPDX-License-Identifier: MIT */
/* Size and duration values in config files. See config_units.h. */
#include "config_units.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Parses "<number>[ ]<unit>" where the number is digits with an optional
 * fraction. Returns the value scaled by the unit's multiplier. */
static bool parse_scaled(const char *s, const char *const *units, const double *mult,
                         size_t nunits, bool fraction_ok, double *out)
{
    const char *p = s;
    double whole = 0, frac = 0, scale = 1;
    int digits = 0;
    while (isdigit((unsigned char)*p)) {
        whole = whole * 10 + (*p++ - '0');
        digits++;
    }
    if (*p == '.' && fraction_ok) {
        p++;
        while (isdigit((unsigned char)*p)) {
            scale /= 10;
            frac += (*p++ - '0') * scale;
            digits++;
        }
    }
    if (digits == 0 || digits > 18)
        return false;
    if (*p == ' ')
        p++;
    for (size_t i = 0; i < nunits; i++) {
        if (strcmp(p, units[i]) == 0) {
            *out = (whole + frac) * mult[i];
            return true;
        }
    }
    return false;
}

bool plume_parse_size(const char *s, uint64_t *bytes)
{
    static const char *const units[] = {"", "B", "KB", "MB", "GB", "KiB", "MiB", "GiB", "TiB"};
    static const double mult[] = {1, 1, 1e3, 1e6, 1e9, 1024.0, 1048576.0, 1073741824.0,
                                  1099511627776.0};
    double v;
    if (!parse_scaled(s, units, mult, sizeof(mult) / sizeof(mult[0]), true, &v) || v >= 1.8e19)
        return false;
    *bytes = (uint64_t)v;
    return true;
}

bool plume_parse_duration_ms(const char *s, uint64_t *ms)
{
    static const char *const units[] = {"ms", "s", "m", "h"};
    static const double mult[] = {1, 1000, 60000, 3600000};
    double v;
    if (!parse_scaled(s, units, mult, 4, true, &v) || v >= 1e15)
        return false;
    *ms = (uint64_t)llround(v);
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
