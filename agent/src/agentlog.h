/* SPDX-License-Identifier: MIT */
/* The agent's own log: leveled lines on stderr,
 *   2026-11-21T10:00:00.123Z warn axiom: HTTP 500, retrying in 0.512s
 * Nothing secret is ever passed here (tokens stay out of messages by design:
 * callers log names and statuses, never header values). */
#ifndef PLUME_AGENTLOG_H
#define PLUME_AGENTLOG_H

#include "config.h"

void plume_agentlog_set_level(int level); /* plume_log_level_t */
int plume_agentlog_level(void);
void plume_agentlog_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define PLOG_ERROR(...) plume_agentlog_write(PLUME_LOG_ERROR, __VA_ARGS__)
#define PLOG_WARN(...) plume_agentlog_write(PLUME_LOG_WARN, __VA_ARGS__)
#define PLOG_INFO(...) plume_agentlog_write(PLUME_LOG_INFO, __VA_ARGS__)
#define PLOG_DEBUG(...) plume_agentlog_write(PLUME_LOG_DEBUG, __VA_ARGS__)

#endif
