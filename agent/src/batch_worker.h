/* SPDX-License-Identifier: MIT */
/* Compresses sealed batches and stores them in the outbox on a background
 * thread, so that the loop thread keeps parsing while zstd/gzip runs (the
 * two cores work in a pipeline).
 *
 * The loop thread submits a sealed batch body (copied into a queue entry, or
 * handed over with submit_buf, which swaps in a recycled buffer). The
 * worker compresses it, writes it to the outbox, and reports back on the loop
 * thread through an eventfd: `stored` runs there for each batch, in order, with
 * the outbox's result. Queued bytes are bounded by the caller: full() tells
 * when to stop feeding (the input then pauses); submit() itself never refuses,
 * so nothing is lost on the way. free() finishes the queue first, so batches
 * sealed at shutdown still reach the disk. */
#ifndef PLUME_BATCH_WORKER_H
#define PLUME_BATCH_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "loop.h"
#include "outbox.h"

typedef struct plume_batch_result {
    int rc;                   /* 0 stored, else -errno (compression failure: -EIO) */
    uint32_t events;
    uint32_t dropped_batches; /* oldest batches the outbox dropped to make room */
    uint64_t dropped_events;
    plume_outbox_id_t id;     /* when stored */
    plume_batch_meta_t meta;  /* when stored */
    /* When stored compressed: the body as written to the outbox, so that it
     * can be sent without reading it back. The callback may take it (swap in
     * an empty buffer); whatever is left is freed after the callback. */
    plume_buf_t body;
} plume_batch_result_t;

typedef void (*plume_batch_stored_cb)(void *arg, plume_batch_result_t *res);

typedef struct plume_batch_worker plume_batch_worker_t;

/* codec/level: plume_codec_t and its level. threads: how many batches are
 * compressed at once (0 counts as 1). max_queued: bytes of uncompressed bodies
 * beyond which full() is true. sync_interval_ms: when not 0, the outbox
 * (opened without fsync_writes) is synced (plume_outbox_sync) at most that
 * long after a batch was stored in it, by a worker thread, and once more at
 * free(). Borrows loop and outbox (both must outlive the worker). NULL on
 * failure. */
plume_batch_worker_t *plume_batch_worker_new(plume_loop_t *loop, plume_outbox_t *outbox, int codec,
                                             int level, unsigned threads, size_t max_queued,
                                             uint32_t sync_interval_ms,
                                             plume_batch_stored_cb stored, void *arg);
/* Queues a copy of body[0..len) holding `events` events. Returns false only when
 * out of memory (the caller counts the events as dropped). */
bool plume_batch_worker_submit(plume_batch_worker_t *w, const void *body, size_t len, uint32_t events);
/* Queues body's bytes (holding `events` events) without copying them: the
 * worker takes body's allocation and body gets an empty one in exchange (a
 * buffer of an earlier batch when one is spare, else none; max is kept). The
 * queued length counts towards max_queued as with submit(). Returns false only
 * when out of memory (body is then left as it was). */
bool plume_batch_worker_submit_buf(plume_batch_worker_t *w, plume_buf_t *body, uint32_t events);
bool plume_batch_worker_full(const plume_batch_worker_t *w);
/* No batch queued, being compressed, or waiting for its `stored` callback. */
bool plume_batch_worker_idle(const plume_batch_worker_t *w);
/* Events in batches not yet stored. */
uint64_t plume_batch_worker_pending_events(const plume_batch_worker_t *w);
/* Stores everything still queued, runs the remaining callbacks, joins the thread. */
void plume_batch_worker_free(plume_batch_worker_t *w);

#endif
