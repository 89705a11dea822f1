/* SPDX-License-Identifier: MIT */
/* Sizes ("4MiB", "512KiB", "10MB", "100") and durations ("250ms", "1.5s", "5m",
 * "1h") as written in agent.toml, and their canonical printed form. */
#ifndef PLUME_CONFIG_UNITS_H
#define PLUME_CONFIG_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Units: B, KB/MB/GB (powers of 1000), KiB/MiB/GiB (powers of 1024); case-sensitive;
 * optional space between number and unit; a bare number is bytes. */
bool plume_parse_size(const char *s, uint64_t *bytes);
/* Units: ms, s, m, h; the number may have a fraction ("1.5s"). */
bool plume_parse_duration_ms(const char *s, uint64_t *ms);
void plume_format_size(uint64_t bytes, char *out, size_t outlen);
void plume_format_duration_ms(uint64_t ms, char *out, size_t outlen);

#endif
