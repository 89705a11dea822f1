/* SPDX-License-Identifier: MIT */
/* The Axiom sink: events -> NDJSON batches -> zstd/gzip -> outbox -> POST to
 * Axiom's ingest API (PROTOCOLS.md), with Axiom's response rules:
 *   2xx       delivered; the body's "failed" count is added to rejected_by_sink
 *   401, 403  token refused: the sink stops, its outbox is kept
 *   429, 430  rate/ingest limit: no request before X-RateLimit-Reset /
 *             X-IngestLimit-Reset (else Retry-After, else backoff)
 *   408, 5xx, network errors   retried with jittered exponential backoff
 *   other 4xx the batch is moved to failed/ with the response */
#ifndef PLUME_AXIOM_SINK_H
#define PLUME_AXIOM_SINK_H

#include <stddef.h>

#include "config.h"
#include "http.h"
#include "loop.h"
#include "metrics.h"
#include "sink.h"

/* Borrows everything; the config must outlive the sink. max_memory bounds the
 * batch data the sink holds in memory ([agent] max_memory): past it,
 * can_accept() is false and inputs pause. NULL + errbuf on failure (e.g. the
 * outbox directory cannot be created). Compression and outbox writes run on a
 * thread of the sink's own (batch_worker.h). */
plume_sink_t *plume_axiom_sink_new(plume_loop_t *loop, plume_http_t *http,
                                   const plume_axiom_config_t *cfg, const char *data_dir,
                                   uint64_t max_memory, plume_metrics_t *metrics, char *errbuf,
                                   size_t errlen);

/* The ingest URL for a config (exposed for tests). */
void plume_axiom_ingest_url(const plume_axiom_config_t *cfg, char *out, size_t outlen);

#endif
