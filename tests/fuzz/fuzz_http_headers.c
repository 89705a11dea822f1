/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the wait-until header parsers of backoff.h:
 * plume_parse_epoch_reset (X-RateLimit-Reset, X-IngestLimit-Reset) and
 * plume_parse_retry_after (Retry-After) on arbitrary NUL-terminated input (an
 * exactly-sized heap copy, so a read past the NUL is caught). Besides never
 * crashing, results must be consistent: an accepted reset value prints back to
 * the same milliseconds, and a delta-seconds Retry-After does not depend on
 * the current time while a date never waits longer when "now" is later
 * (IMF-fixdate and asctime forms; the two-digit-year form depends on now). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"

static const char *skip_blanks(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    uint64_t ms = 0;
    if (plume_parse_epoch_reset(s, &ms)) {
        char back[64];
        snprintf(back, sizeof(back), "%" PRIu64 ".%03" PRIu64, ms / 1000, ms % 1000);
        uint64_t again = 0;
        if (!plume_parse_epoch_reset(back, &again) || again != ms)
            abort();
    }

    /* 2026-11-21T10:00:00Z and a day later, plus the extremes */
    static const uint64_t nows[] = {1795255200000ull, 1795341600000ull, 0, UINT64_MAX / 4};
    uint64_t d[4];
    bool ok[4];
    for (int i = 0; i < 4; i++) {
        d[i] = 0;
        ok[i] = plume_parse_retry_after(s, nows[i], &d[i]);
    }
    const char *b = skip_blanks(s);
    bool delta = *b >= '0' && *b <= '9';
    /* the long weekday names start the rfc850 form, whose century follows now */
    bool rfc850 = strchr(b, '-') != NULL;
    if (delta) {
        for (int i = 1; i < 4; i++)
            if (ok[i] != ok[0] || d[i] != d[0])
                abort();
    } else if (!rfc850) {
        if (ok[1] != ok[0] || (ok[0] && d[1] > d[0]))
            abort();
        if (ok[0] && ok[2] && d[2] < d[0])
            abort();
    }
    free(s);
    return 0;
}
