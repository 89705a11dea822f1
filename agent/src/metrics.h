/* SPDX-License-Identifier: MIT */
/* The agent's counters, printed as a summary at exit. Updated on the loop
 * thread only. */
#ifndef PLUME_METRICS_H
#define PLUME_METRICS_H

#include <stdint.h>
#include <stdio.h>

typedef struct plume_metrics {
    uint64_t received;          /* input lines / records read */
    uint64_t parsed;            /* parsed as json or logfmt */
    uint64_t parse_errors;      /* declared-format lines that did not parse */
    uint64_t truncated;         /* lines cut at max_line_bytes */
    uint64_t invalid_utf8;      /* lines with invalid UTF-8 replaced */
    uint64_t batches;           /* batches sealed into the outbox */
    uint64_t requests;          /* HTTP requests completed (any status) */
    uint64_t delivered;         /* events acknowledged by a 2xx */
    uint64_t retries;           /* requests retried */
    uint64_t rejected_by_sink;  /* events a 200 response reported as failed */
    uint64_t dropped_outbox_full;
    uint64_t dropped_failed;    /* events dead-lettered to failed/ */
    uint64_t dropped_corrupt;   /* corrupt outbox batches set aside */
    uint64_t dropped_encode;    /* events that could not be encoded */
    uint64_t dropped_rate_limited; /* Sentry items of a rate-limited category, dropped unsent */
} plume_metrics_t;

/* One line: `plume-agent: summary key=value ...`. `pending` is what is still in
 * outboxes. */
void plume_metrics_print_summary(const plume_metrics_t *m, uint64_t pending, FILE *out);

#endif
