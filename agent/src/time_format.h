/* SPDX-License-Identifier: MIT */
/* RFC 3339 time stamps (UTC) for the encoders, without gmtime_r.
 *
 * Every encoded event carries a time stamp, so this is on the encode hot path:
 * the date is computed with a days-to-civil conversion (no libc, no locks, no
 * time zone lookups) and the "YYYY-MM-DDTHH:MM:SS" part of the last second seen
 * is cached per thread, so a batch of events from the same second only formats
 * its fraction digits. */
#ifndef PLUME_TIME_FORMAT_H
#define PLUME_TIME_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest text written, including the terminating NUL, is 31 bytes. */
#define PLUME_TIME_FORMAT_MAX 32

/* Writes `ns` (nanoseconds since the Unix epoch) as
 * "2026-11-21T10:00:00.123456789Z" (always 9 fraction digits) followed by a
 * NUL. Returns the length without the NUL (always 30). Every uint64_t is valid
 * (the largest is in the year 2554). */
size_t plume_time_format_rfc3339(uint64_t ns, char out[PLUME_TIME_FORMAT_MAX]);

/* Same with milliseconds: "2026-11-21T10:00:00.123Z" (truncated, not rounded,
 * so a time never moves into the next second). Returns 24. */
size_t plume_time_format_rfc3339_ms(uint64_t ns, char out[PLUME_TIME_FORMAT_MAX]);

/* Formats seconds (may be negative) plus nanoseconds, as found in msgpack
 * timestamps. Returns the length (30), or 0 when the time cannot be written as
 * RFC 3339: nsec >= 1e9 or a year outside 0000..9999. */
size_t plume_time_format_rfc3339_split(int64_t sec, uint32_t nsec,
                                       char out[PLUME_TIME_FORMAT_MAX]);

#endif
