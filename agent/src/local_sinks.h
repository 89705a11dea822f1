/* SPDX-License-Identifier: MIT */
/* Sinks that write on this machine: the console (stdout) and a file.
 *
 * Console: readable coloured lines when stdout is a terminal (format "auto" or
 * "pretty"), NDJSON otherwise. File: NDJSON appended to `path`, rotated when it
 * reaches max_size (path -> path.1 -> path.2 ..., keeping max_files rotated
 * files). Both buffer output and write it at least every 100 ms, when 64 KiB
 * have accumulated, and on flush. A write error (e.g. stdout closed) stops the
 * sink with a logged error; it never stops the agent. */
#ifndef PLUME_LOCAL_SINKS_H
#define PLUME_LOCAL_SINKS_H

#include <stddef.h>

#include "config.h"
#include "loop.h"
#include "metrics.h"
#include "sink.h"

plume_sink_t *plume_console_sink_new(plume_loop_t *loop, int fd, int format, plume_metrics_t *m,
                                     char *errbuf, size_t errlen);
plume_sink_t *plume_file_sink_new(plume_loop_t *loop, const char *path, uint64_t max_size,
                                  int max_files, plume_metrics_t *m, char *errbuf, size_t errlen);

#endif
