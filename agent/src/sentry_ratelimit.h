/* SPDX-License-Identifier: MIT */
/* Sentry rate limits: what the server's X-Sentry-Rate-Limits and Retry-After
 * headers say about when each data category may be sent again
 * (PROTOCOLS.md "Sentry ingest", "Rate limits").
 *
 * The state is one deadline (epoch milliseconds, 0 = none) per known data
 * category plus one for all categories. Every response updates it:
 * X-Sentry-Rate-Limits on any status (200 included), and on a 429 without
 * that header Retry-After (seconds or an HTTP-date), else 60 seconds, for all
 * categories. A deadline is never shortened and never set further than one
 * day ahead. The state is plain data (no locks): one sender owns it. */
#ifndef PLUME_SENTRY_RATELIMIT_H
#define PLUME_SENTRY_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Data categories Plume tracks; PLUME_SENTRY_CAT_ALL is the "every category"
 * deadline. Names as Sentry spells them: plume_sentry_category_name(). */
typedef enum plume_sentry_category {
    PLUME_SENTRY_CAT_ALL = 0,
    PLUME_SENTRY_CAT_DEFAULT,
    PLUME_SENTRY_CAT_ERROR,
    PLUME_SENTRY_CAT_TRANSACTION,
    PLUME_SENTRY_CAT_SESSION,
    PLUME_SENTRY_CAT_ATTACHMENT,
    PLUME_SENTRY_CAT_LOG_ITEM,
    PLUME_SENTRY_CAT_LOG_BYTE,
    PLUME_SENTRY_CAT_SECURITY,
    PLUME_SENTRY_CAT_PROFILE,
    PLUME_SENTRY_CAT_PROFILE_CHUNK,
    PLUME_SENTRY_CAT_REPLAY,
    PLUME_SENTRY_CAT_MONITOR,
    PLUME_SENTRY_CAT_SPAN,
    PLUME_SENTRY_CAT_FEEDBACK,
    PLUME_SENTRY_CAT_INTERNAL,
    PLUME_SENTRY_CAT_COUNT
} plume_sentry_category_t;

/* Delay used for a 429 that carries neither header. */
#define PLUME_SENTRY_DEFAULT_RETRY_MS 60000u
/* No deadline is set further ahead than this. */
#define PLUME_SENTRY_MAX_LIMIT_MS 86400000u

typedef struct plume_sentry_ratelimit {
    uint64_t until_ms[PLUME_SENTRY_CAT_COUNT]; /* epoch ms; [PLUME_SENTRY_CAT_ALL] = all */
    uint64_t unknown_categories; /* category names seen in headers that are not tracked */
    uint64_t malformed_entries;  /* X-Sentry-Rate-Limits entries skipped as malformed */
} plume_sentry_ratelimit_t;

/* Clears every deadline and counter. */
void plume_sentry_ratelimit_init(plume_sentry_ratelimit_t *rl);

/* Applies one response's headers (values as received, NULL when absent).
 * X-Sentry-Rate-Limits is a comma-separated list of
 * retry_after:categories:scope:reason[:namespaces] (only the first two fields
 * are used, so "60:error" is accepted too); retry_after is seconds, integer
 * or decimal (no sign, no exponent); categories are ';'-separated, empty
 * meaning all; blanks around every part are ignored. A malformed entry is
 * skipped and counted, the others still apply; unknown category names are
 * counted and ignored (an entry naming only unknown categories limits
 * nothing). A 429 falls back to Retry-After (then 60 s) when the header is
 * absent, blank or holds no well-formed entry. */
void plume_sentry_ratelimit_update(plume_sentry_ratelimit_t *rl, int status,
                                   const char *rate_limits_header, const char *retry_after,
                                   uint64_t now_ms);

/* True while `category` (a Sentry category name) or all categories are
 * limited at now_ms. NULL or an unknown name is governed by the "all"
 * deadline only. */
bool plume_sentry_ratelimit_limited(const plume_sentry_ratelimit_t *rl, const char *category,
                                    uint64_t now_ms);

/* When `category` may be sent again: the later of its deadline and the "all"
 * deadline (epoch ms; 0 if never limited). NULL or an unknown name: the
 * "all" deadline. */
uint64_t plume_sentry_ratelimit_until(const plume_sentry_ratelimit_t *rl, const char *category);

/* The category of a name of n bytes, or -1 if it is not tracked. "all" is not
 * a name (it is the empty category list). */
int plume_sentry_category_from_name(const char *name, size_t n);
/* The Sentry name of a category ("all" for PLUME_SENTRY_CAT_ALL), or NULL if
 * c is out of range. */
const char *plume_sentry_category_name(plume_sentry_category_t c);

/* The data category an envelope item type counts against: "event" ->
 * "error", "log" -> "log_item", "session"/"sessions" -> "session",
 * "client_report" -> "internal", "check_in" -> "monitor", replay items ->
 * "replay", ...; anything else (and NULL) -> "default". */
const char *plume_sentry_item_category(const char *item_type);

/* True if an item of this type must be dropped at now_ms: its category (and,
 * for "log" items, also "log_byte") or all categories are limited. */
bool plume_sentry_ratelimit_item_limited(const plume_sentry_ratelimit_t *rl,
                                         const char *item_type, uint64_t now_ms);

#endif
