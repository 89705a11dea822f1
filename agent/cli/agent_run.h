/* SPDX-License-Identifier: MIT */
/* Runs the agent for a loaded config: builds the loop, the sinks and the
 * sources, runs until the input ends or a signal arrives, drains within
 * shutdown_timeout, prints the summary. Returns the process exit code:
 * 0 everything delivered, 1 something undelivered or a sink stopped. */
#ifndef PLUME_AGENT_RUN_H
#define PLUME_AGENT_RUN_H

#include "config.h"

int plume_agent_run(const plume_config_t *cfg);

#endif
