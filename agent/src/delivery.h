/* SPDX-License-Identifier: MIT */
/* Outbox-backed HTTP delivery for one sink.
 *
 * A sink hands sealed (compressed) batches to plume_delivery_put(): the batch is
 * written to the outbox first, then sent. The sink supplies two callbacks:
 * `prepare` builds the request (URL, headers) for a batch, and `judge` turns a
 * response into a verdict; an optional `encode` builds the request body from
 * the stored batch at send time (or drops the batch unsent). Delivery owns everything else: at most max_in_flight
 * requests, resending pending batches oldest first (including those left by an
 * earlier run), backoff with jitter between retries, waiting out rate limits
 * (no request at all before the deadline, capped at one hour), stopping the sink for good on an
 * auth failure (its outbox is kept), and dead-lettering refused batches. */
#ifndef PLUME_DELIVERY_H
#define PLUME_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backoff.h"
#include "buf.h"
#include "http.h"
#include "loop.h"
#include "metrics.h"
#include "outbox.h"

typedef enum plume_verdict {
    PLUME_VERDICT_DELIVERED,   /* acknowledged: remove from the outbox */
    PLUME_VERDICT_RETRY,       /* transient: resend after a backoff */
    PLUME_VERDICT_WAIT_UNTIL,  /* rate limited: no request before *until_epoch_ms */
    PLUME_VERDICT_STOP,        /* the sink cannot go on (bad token): keep the outbox */
    PLUME_VERDICT_DEAD_LETTER, /* refused for good: move to failed/ */
    PLUME_VERDICT_DROP,        /* refused, not worth keeping: delete and count */
} plume_verdict_t;

/* What a sink's encode() decided for a batch about to be sent. */
typedef enum plume_encode_result {
    PLUME_ENCODE_SEND,  /* send `wire` */
    PLUME_ENCODE_DROP,  /* do not send: delete it from the outbox (the sink counted it) */
    PLUME_ENCODE_LATER, /* cannot now (out of memory): try again a second later */
} plume_encode_result_t;

/* Request headers prepared for one batch: "Name: value" strings. */
#define PLUME_DELIVERY_MAX_HEADERS 12
typedef struct plume_delivery_request {
    char url[2048];
    char *headers[PLUME_DELIVERY_MAX_HEADERS + 1]; /* NULL-terminated, malloc'd */
} plume_delivery_request_t;

typedef struct plume_delivery_ops {
    /* Fills url and headers for a batch. Returns false when it cannot (out of
     * memory): the batch stays pending and is tried again a second later. */
    bool (*prepare)(void *ctx, const plume_batch_meta_t *meta, plume_delivery_request_t *req);
    /* Judges a response. For WAIT_UNTIL sets *until_epoch_ms; writes a short
     * human reason (no secrets) for anything but DELIVERED. */
    plume_verdict_t (*judge)(void *ctx, const plume_batch_meta_t *meta,
                             const plume_http_response_t *resp, uint64_t *until_epoch_ms,
                             char *reason, size_t reason_len);
    /* Optional (NULL: the stored body is sent as it is). Called right before
     * each send, after prepare: turns the stored body into the request body
     * in `wire` (reset, bounded by max_body), e.g. stamping a send time and
     * compressing, or decides the batch is not to be sent at all. */
    plume_encode_result_t (*encode)(void *ctx, const plume_batch_meta_t *meta,
                                    const plume_buf_t *stored, plume_buf_t *wire);
} plume_delivery_ops_t;

typedef struct plume_delivery_options {
    const char *name;               /* sink name, for logs */
    uint32_t max_in_flight;
    plume_backoff_policy_t backoff;
    uint32_t max_attempts;          /* per batch; 0 = retry until delivered */
    long request_timeout_ms;
    long connect_timeout_ms;
    size_t max_body;                /* largest batch body loaded for sending */
} plume_delivery_options_t;

typedef struct plume_delivery plume_delivery_t;

/* Borrows loop, http, metrics; takes ownership of outbox. Starts sending
 * whatever the outbox already holds. */
plume_delivery_t *plume_delivery_new(plume_loop_t *loop, plume_http_t *http, plume_outbox_t *outbox,
                                     const plume_delivery_ops_t *ops, void *ctx,
                                     const plume_delivery_options_t *opts, plume_metrics_t *metrics);
void plume_delivery_free(plume_delivery_t *d);
/* Stores a sealed batch in the outbox and schedules it. Returns 0 or -errno (the
 * batch is then lost and counted by the caller). */
int plume_delivery_put(plume_delivery_t *d, const plume_batch_meta_t *meta, const void *body,
                       size_t len);
/* Tells delivery that a batch was added to its outbox by someone else (the
 * batch worker thread): sending resumes from the loop, never from here. */
void plume_delivery_kick(plume_delivery_t *d);
/* Like kick(), also handing over the body of batch `id` exactly as it was
 * just written to the outbox, so that sending it needs no read back from
 * disk. At most max_in_flight bodies wait this way (the oldest is let go
 * and read from the outbox when its turn comes). Takes body's allocation and
 * leaves body empty. */
void plume_delivery_offer(plume_delivery_t *d, plume_outbox_id_t id,
                          const plume_batch_meta_t *meta, plume_buf_t *body);
/* True when nothing is pending or in flight. */
bool plume_delivery_idle(const plume_delivery_t *d);
bool plume_delivery_stopped(const plume_delivery_t *d);
uint64_t plume_delivery_pending_events(const plume_delivery_t *d);

#endif
