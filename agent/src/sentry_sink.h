/* SPDX-License-Identifier: MIT */
/* The Sentry sink: errors (one event per envelope) and, when asked, logs (up
 * to 100 per `log` item) to Sentry's envelope endpoint, per PROTOCOLS.md
 * "Sentry ingest".
 *
 * Path of an event: submit() encodes it (sentry_event.c / sentry_log.c) into
 * an envelope, which is written to the sink's outbox (<data_dir>/outbox/sentry)
 * uncompressed and without sent_at. Right before each send, the stored
 * envelope gets its sent_at stamped and is gzip'd (delivery's encode op), so
 * an envelope that waited offline still says when it was really sent.
 *
 * Sentry's response rules:
 *   2xx               delivered
 *   413               dropped (never retried) and logged
 *   429               dropped; its rate limits are honoured
 *   other 4xx, 5xx    dropped and counted
 *   network errors    retried with backoff (the envelope waits in the outbox)
 * X-Sentry-Rate-Limits is read on every response (200 included), Retry-After
 * and the 60 s default on a 429 without it (sentry_ratelimit.h). Items of a
 * category that is limited are dropped before they are stored and again before
 * a stored one is sent, and counted (metrics dropped_rate_limited). Every
 * drop is also reported to Sentry in a `client_report` item (reason and
 * category, as Sentry's client reports define them), sent at the next flush
 * or within CLIENT_REPORT_DELAY_MS. */
#ifndef PLUME_SENTRY_SINK_H
#define PLUME_SENTRY_SINK_H

#include <stddef.h>

#include "config.h"
#include "http.h"
#include "loop.h"
#include "metrics.h"
#include "sink.h"

/* Borrows everything; cfg must outlive the sink. error_level: events at or
 * above it (or carrying an error map) become Sentry events, the others log
 * entries (the pipeline decides which the sink gets at all). NULL with a
 * message in errbuf when the DSN does not parse or the outbox cannot be
 * opened. */
plume_sink_t *plume_sentry_sink_new(plume_loop_t *loop, plume_http_t *http,
                                    const plume_sentry_config_t *cfg, plume_level_t error_level,
                                    const char *data_dir, plume_metrics_t *metrics, char *errbuf,
                                    size_t errlen);

#endif
