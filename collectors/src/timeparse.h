/* SPDX-License-Identifier: MIT */
/* Time stamps found in log lines, to nanoseconds since the Unix epoch (UTC).
 *
 * Two forms: RFC 3339 / ISO 8601 date-times ("2024-05-01T12:34:56.789Z") and
 * epoch numbers whose unit is guessed from their magnitude (seconds <
 * 1e11 <= milliseconds < 1e14 <= microseconds < 1e17 <= nanoseconds). All
 * arithmetic is done here (no timegm, no locale, no time zone database), every
 * field is range-checked, and anything before 1970 or past what a uint64 of
 * nanoseconds holds (2554-07-21) is refused rather than wrapped. */
#ifndef PLUME_TIMEPARSE_H
#define PLUME_TIMEPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses `YYYY-MM-DD(T|t| )hh:mm:ss[(.|,)fraction][zone]` where zone is `Z`,
 * `z`, `+hh:mm`, `-hh:mm`, `+hhmm`, `+hh` (or `-`), or absent (read as UTC).
 * Fractions may have any number of digits; past 9 they are truncated. A leap
 * second (:60) counts as the first second of the next minute. The whole of
 * s[0..n) must match. */
bool plume_time_parse_rfc3339(const char *s, size_t n, uint64_t *ns);

/* plume_time_parse_rfc3339() for a stream of time stamps: the same result
 * for every input, in a fraction of the work when a stamp has the same
 * "YYYY-MM-DDThh:mm:ss" head and zone text as the last one this thread
 * parsed (log lines in time order differ in the fraction only), which is
 * kept per thread. */
bool plume_time_parse_rfc3339_cached(const char *s, size_t n, uint64_t *ns);

/* Epoch number to nanoseconds, unit by magnitude (see above). Negative, NaN,
 * infinite, or out-of-range values are refused. Fractions are kept down to the
 * nanosecond (the double variant is limited by double precision). */
bool plume_time_from_epoch_int(int64_t v, uint64_t *ns);
bool plume_time_from_epoch_double(double v, uint64_t *ns);
/* Epoch number written as decimal text: digits with an optional `.fraction`
 * (exact, no floating point), e.g. "1714566896.123456". No sign, exponent or
 * surrounding spaces. */
bool plume_time_from_epoch_str(const char *s, size_t n, uint64_t *ns);

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (may be
 * negative). m in 1..12, d in 1..31. */
int64_t plume_time_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
