/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for plume_sentry_ratelimit_update(). The input is up to
 * three lines: the HTTP status (digits; anything else means 429), the
 * X-Sentry-Rate-Limits value and the Retry-After value; a missing line means
 * the header is absent. Each value is an exactly-sized heap copy, so a read
 * past its NUL is caught. Besides never crashing, the state must obey the
 * rules: every deadline is 0 or within [now, now + 1 day]; applying the same
 * response again changes no deadline; a response seen earlier never shortens
 * one; and a 429 differs from a 200 only in the "all" deadline, which it can
 * only make later. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sentry_ratelimit.h"

/* Reads lines of data[0..size) in turn. */
typedef struct lines {
    const uint8_t *p, *end;
    int done; /* the last line has been handed out */
} lines_t;

/* Copies the next line (NULL once the input is used up, so a missing line
 * is an absent header). */
static char *next_line(lines_t *l)
{
    if (l->done)
        return NULL;
    const uint8_t *nl = l->p < l->end ? memchr(l->p, '\n', (size_t)(l->end - l->p)) : NULL;
    const uint8_t *stop = nl ? nl : l->end;
    size_t n = (size_t)(stop - l->p);
    char *s = malloc(n + 1);
    if (!s)
        abort();
    if (n)
        memcpy(s, l->p, n);
    s[n] = '\0';
    if (nl)
        l->p = nl + 1;
    else
        l->done = 1;
    return s;
}

/* Every deadline is unset or within a day from now, and the queries agree
 * with the deadlines. */
static void check_bounds(const plume_sentry_ratelimit_t *rl, uint64_t now)
{
    for (int c = 0; c < PLUME_SENTRY_CAT_COUNT; c++) {
        uint64_t u = rl->until_ms[c];
        if (u != 0 && (u < now || u - now > PLUME_SENTRY_MAX_LIMIT_MS))
            abort();
        const char *name = plume_sentry_category_name(c);
        uint64_t until = plume_sentry_ratelimit_until(rl, name);
        if (until < u || until < rl->until_ms[PLUME_SENTRY_CAT_ALL])
            abort();
        if (plume_sentry_ratelimit_limited(rl, name, now) != (until > now))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lines_t l = {data, data + size, 0};
    char *status_s = next_line(&l);
    char *header = next_line(&l);
    char *retry = next_line(&l);
    int status = 429;
    if (status_s && status_s[0] && strlen(status_s) <= 3 &&
        strspn(status_s, "0123456789") == strlen(status_s))
        status = atoi(status_s);

    static const uint64_t nows[] = {1795255200000ull, 0, UINT64_MAX - 1000};
    for (size_t i = 0; i < sizeof(nows) / sizeof(nows[0]); i++) {
        uint64_t now = nows[i];
        plume_sentry_ratelimit_t rl, again, r200;
        plume_sentry_ratelimit_init(&rl);
        plume_sentry_ratelimit_update(&rl, status, header, retry, now);
        check_bounds(&rl, now);

        again = rl;
        plume_sentry_ratelimit_update(&again, status, header, retry, now);
        if (memcmp(again.until_ms, rl.until_ms, sizeof(rl.until_ms)) != 0)
            abort();
        if (now >= 5000) {
            plume_sentry_ratelimit_update(&again, status, header, retry, now - 5000);
            for (int c = 0; c < PLUME_SENTRY_CAT_COUNT; c++)
                if (again.until_ms[c] < rl.until_ms[c])
                    abort();
        }

        plume_sentry_ratelimit_init(&r200);
        plume_sentry_ratelimit_update(&r200, 200, header, retry, now);
        plume_sentry_ratelimit_t r429;
        plume_sentry_ratelimit_init(&r429);
        plume_sentry_ratelimit_update(&r429, 429, header, retry, now);
        for (int c = 1; c < PLUME_SENTRY_CAT_COUNT; c++)
            if (r200.until_ms[c] != r429.until_ms[c])
                abort();
        if (r200.until_ms[0] > r429.until_ms[0])
            abort();

        for (const char *t = "event\0log\0attachment\0session\0x\0"; *t; t += strlen(t) + 1)
            (void)plume_sentry_ratelimit_item_limited(&rl, t, now);
    }
    free(status_s);
    free(header);
    free(retry);
    return 0;
}
