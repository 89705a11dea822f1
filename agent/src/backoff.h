/* SPDX-License-Identifier: MIT */
/* Retry timing: jittered exponential backoff and the servers' "wait until"
 * headers (X-RateLimit-Reset / X-IngestLimit-Reset epoch seconds, Retry-After).
 *
 * All functions are pure except plume_random_u64(); parsers accept only what
 * the header grammars allow (plus surrounding blanks) and never read past the
 * terminating NUL. */
#ifndef PLUME_BACKOFF_H
#define PLUME_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

typedef struct plume_backoff_policy {
    uint64_t initial_ms; /* delay base for the first retry */
    uint64_t max_ms;     /* cap on the base delay */
} plume_backoff_policy_t;

/* Delay before retry number `attempt` (1-based; 0 is treated as 1) with equal
 * jitter: d = min(max_ms, initial_ms * 2^(attempt-1)), result = d/2 + rnd mod
 * (d - d/2 + 1), i.e. in [d/2, d]. rnd is a random 64-bit value from the caller
 * (plume_random_u64(), or fixed values in tests). Overflow-safe for any input. */
uint64_t plume_backoff_delay_ms(const plume_backoff_policy_t *p, uint32_t attempt, uint64_t rnd);

/* Parses a reset header holding epoch seconds ("1732190000", a fraction such as
 * "1732190000.25" is allowed and kept to the millisecond) into absolute epoch
 * milliseconds. Returns false if value is NULL, empty, negative, garbage or too
 * large to represent. */
bool plume_parse_epoch_reset(const char *value, uint64_t *epoch_ms);

/* Parses Retry-After (RFC 7231 section 7.1.3): delta seconds, or an HTTP-date
 * (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT"; the obsolete RFC 850 and asctime
 * forms are accepted too, as the RFC asks of recipients). *delay_ms is relative
 * to now_epoch_ms; a date in the past gives 0, a huge delta saturates. Returns
 * false if value is NULL or garbage (including impossible dates). */
bool plume_parse_retry_after(const char *value, uint64_t now_epoch_ms, uint64_t *delay_ms);

/* A fast non-cryptographic random number (splitmix64 over a per-thread state
 * seeded from getrandom()). Thread-safe. */
uint64_t plume_random_u64(void);

#endif
