/* SPDX-License-Identifier: MIT */
/* Sentry rate-limit state and header parsing. See sentry_ratelimit.h.
 *
 * Header values come from the network: the parser walks them once, byte by
 * byte within their NUL, with no allocation and no recursion, and every
 * number saturates instead of overflowing. */
#include "sentry_ratelimit.h"

#include <string.h>

#include "backoff.h"

static const char *const category_names[PLUME_SENTRY_CAT_COUNT] = {
    [PLUME_SENTRY_CAT_ALL] = "all",
    [PLUME_SENTRY_CAT_DEFAULT] = "default",
    [PLUME_SENTRY_CAT_ERROR] = "error",
    [PLUME_SENTRY_CAT_TRANSACTION] = "transaction",
    [PLUME_SENTRY_CAT_SESSION] = "session",
    [PLUME_SENTRY_CAT_ATTACHMENT] = "attachment",
    [PLUME_SENTRY_CAT_LOG_ITEM] = "log_item",
    [PLUME_SENTRY_CAT_LOG_BYTE] = "log_byte",
    [PLUME_SENTRY_CAT_SECURITY] = "security",
    [PLUME_SENTRY_CAT_PROFILE] = "profile",
    [PLUME_SENTRY_CAT_PROFILE_CHUNK] = "profile_chunk",
    [PLUME_SENTRY_CAT_REPLAY] = "replay",
    [PLUME_SENTRY_CAT_MONITOR] = "monitor",
    [PLUME_SENTRY_CAT_SPAN] = "span",
    [PLUME_SENTRY_CAT_FEEDBACK] = "feedback",
    [PLUME_SENTRY_CAT_INTERNAL] = "internal",
};

typedef struct span {
    const char *p;
    size_t n;
} span_t;

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static span_t trim(span_t s)
{
    while (s.n > 0 && is_blank(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && is_blank(s.p[s.n - 1]))
        s.n--;
    return s;
}

/* Splits off the part of *s before the first `sep` (all of it if none) and
 * advances *s past the separator. Sets *more to whether a separator was
 * found. */
static span_t split(span_t *s, char sep, bool *more)
{
    const char *q = s->n ? memchr(s->p, sep, s->n) : NULL;
    span_t part = {s->p, q ? (size_t)(q - s->p) : s->n};
    *more = q != NULL;
    s->p += q ? part.n + 1 : part.n;
    s->n -= q ? part.n + 1 : part.n;
    return part;
}

void plume_sentry_ratelimit_init(plume_sentry_ratelimit_t *rl)
{
    memset(rl, 0, sizeof(*rl));
}

int plume_sentry_category_from_name(const char *name, size_t n)
{
    if (!name)
        return -1;
    for (int c = PLUME_SENTRY_CAT_ALL + 1; c < PLUME_SENTRY_CAT_COUNT; c++)
        if (strlen(category_names[c]) == n && memcmp(category_names[c], name, n) == 0)
            return c;
    return -1;
}

const char *plume_sentry_category_name(plume_sentry_category_t c)
{
    return (unsigned)c < PLUME_SENTRY_CAT_COUNT ? category_names[c] : NULL;
}

/* Parses non-negative decimal seconds ("60", "2.5", ".5", "3.") into
 * milliseconds, rounding a fraction finer than 1 ms up and saturating huge
 * values at UINT64_MAX. False for anything else (signs, exponents, blanks
 * inside, no digit at all). */
static bool parse_seconds(span_t s, uint64_t *ms)
{
    const uint64_t huge_secs = 1000000000000000ull; /* 1e15 s: far past any cap */
    uint64_t secs = 0, frac_ms = 0;
    bool any = false, huge = false, round_up = false;
    size_t i = 0;
    for (; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++) {
        any = true;
        secs = secs * 10 + (uint64_t)(s.p[i] - '0');
        if (secs >= huge_secs) {
            huge = true;
            secs = huge_secs; /* keeps the multiplication above in range */
        }
    }
    unsigned d = 0;
    if (i < s.n && s.p[i] == '.') {
        for (i++; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++, d++) {
            any = true;
            unsigned v = (unsigned)(s.p[i] - '0');
            if (d < 3)
                frac_ms = frac_ms * 10 + v;
            else if (v)
                round_up = true;
        }
    }
    if (!any || i != s.n)
        return false;
    for (; d < 3; d++)
        frac_ms *= 10;
    *ms = huge ? UINT64_MAX : secs * 1000 + frac_ms + (round_up ? 1 : 0);
    return true;
}

/* Moves the deadline of category c to now + delay (capped at one day ahead)
 * unless it is already later. */
static void extend(plume_sentry_ratelimit_t *rl, int c, uint64_t now_ms, uint64_t delay_ms)
{
    if (delay_ms > PLUME_SENTRY_MAX_LIMIT_MS)
        delay_ms = PLUME_SENTRY_MAX_LIMIT_MS;
    uint64_t until = now_ms > UINT64_MAX - delay_ms ? UINT64_MAX : now_ms + delay_ms;
    if (until > rl->until_ms[c])
        rl->until_ms[c] = until;
}

/* Applies one "retry_after:categories[:scope:reason[:namespaces]]" entry.
 * Returns false (nothing applied) if it is malformed. */
static bool apply_entry(plume_sentry_ratelimit_t *rl, span_t e, uint64_t now_ms)
{
    bool more;
    span_t ra = trim(split(&e, ':', &more));
    if (!more)
        return false; /* no categories field */
    span_t cats = trim(split(&e, ':', &more));
    uint64_t delay;
    if (!parse_seconds(ra, &delay))
        return false;
    /* collect first, so a category listed twice is harmless and an entry of
     * only unknown names limits nothing */
    bool hit[PLUME_SENTRY_CAT_COUNT] = {false};
    bool any_name = false;
    do {
        span_t name = trim(split(&cats, ';', &more));
        if (name.n == 0)
            continue;
        any_name = true;
        int c = plume_sentry_category_from_name(name.p, name.n);
        if (c < 0)
            rl->unknown_categories++;
        else
            hit[c] = true;
    } while (more);
    if (!any_name)
        hit[PLUME_SENTRY_CAT_ALL] = true;
    for (int c = 0; c < PLUME_SENTRY_CAT_COUNT; c++)
        if (hit[c])
            extend(rl, c, now_ms, delay);
    return true;
}

/* Applies every entry of an X-Sentry-Rate-Limits value; returns how many were
 * well-formed. */
static unsigned apply_header(plume_sentry_ratelimit_t *rl, const char *h, uint64_t now_ms)
{
    span_t s = {h, strlen(h)};
    unsigned ok = 0;
    bool more;
    do {
        span_t e = trim(split(&s, ',', &more));
        if (e.n == 0)
            continue; /* "a,,b" or a trailing comma: nothing there */
        if (apply_entry(rl, e, now_ms))
            ok++;
        else
            rl->malformed_entries++;
    } while (more);
    return ok;
}

static bool all_blank(const char *s)
{
    for (; *s; s++)
        if (!is_blank(*s) && *s != '\r' && *s != '\n')
            return false;
    return true;
}

void plume_sentry_ratelimit_update(plume_sentry_ratelimit_t *rl, int status,
                                   const char *rate_limits_header, const char *retry_after,
                                   uint64_t now_ms)
{
    unsigned applied = 0;
    if (rate_limits_header && !all_blank(rate_limits_header))
        applied = apply_header(rl, rate_limits_header, now_ms);
    if (status != 429 || applied > 0)
        return;
    uint64_t delay = PLUME_SENTRY_DEFAULT_RETRY_MS;
    if (retry_after && !plume_parse_retry_after(retry_after, now_ms, &delay)) {
        span_t v = trim((span_t){retry_after, strlen(retry_after)});
        if (!parse_seconds(v, &delay))
            delay = PLUME_SENTRY_DEFAULT_RETRY_MS;
    }
    extend(rl, PLUME_SENTRY_CAT_ALL, now_ms, delay);
}

uint64_t plume_sentry_ratelimit_until(const plume_sentry_ratelimit_t *rl, const char *category)
{
    uint64_t all = rl->until_ms[PLUME_SENTRY_CAT_ALL];
    int c = category ? plume_sentry_category_from_name(category, strlen(category)) : -1;
    if (c < 0)
        return all;
    return rl->until_ms[c] > all ? rl->until_ms[c] : all;
}

bool plume_sentry_ratelimit_limited(const plume_sentry_ratelimit_t *rl, const char *category,
                                    uint64_t now_ms)
{
    return plume_sentry_ratelimit_until(rl, category) > now_ms;
}

const char *plume_sentry_item_category(const char *item_type)
{
    static const struct {
        const char *type, *category;
    } map[] = {
        {"event", "error"},
        {"transaction", "transaction"},
        {"session", "session"},
        {"sessions", "session"},
        {"attachment", "attachment"},
        {"log", "log_item"},
        {"profile", "profile"},
        {"profile_chunk", "profile_chunk"},
        {"replay_event", "replay"},
        {"replay_recording", "replay"},
        {"replay_video", "replay"},
        {"check_in", "monitor"},
        {"span", "span"},
        {"feedback", "feedback"},
        {"security", "security"},
        {"client_report", "internal"},
    };
    if (item_type)
        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
            if (strcmp(map[i].type, item_type) == 0)
                return map[i].category;
    return "default";
}

bool plume_sentry_ratelimit_item_limited(const plume_sentry_ratelimit_t *rl,
                                         const char *item_type, uint64_t now_ms)
{
    if (plume_sentry_ratelimit_limited(rl, plume_sentry_item_category(item_type), now_ms))
        return true;
    return item_type && strcmp(item_type, "log") == 0 &&
           plume_sentry_ratelimit_limited(rl, "log_byte", now_ms);
}
