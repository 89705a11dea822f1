/* SPDX-License-Identifier: MIT */
/* Groups encoded events into batches for one sink.
 *
 * A batch is sealed when it reaches max_events, when adding an event would take
 * it past max_bytes, or when its first event is max_age_ms old (a loop timer).
 * Events are encoded straight into the open batch (plume_batcher_begin/commit),
 * so the hot path copies nothing. An event bigger than max_bytes on its own
 * still goes out, alone in its batch. The seal callback receives the body
 * buffer and must either consume its bytes before returning (the buffer is then
 * reset and reused) or take them by swapping the buffer's allocation for
 * another one (data/cap; len and failed are reset after the callback, max must
 * stay), which saves copying the batch. */
#ifndef PLUME_BATCHER_H
#define PLUME_BATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "loop.h"

typedef struct plume_batch_limits {
    uint32_t max_events;
    size_t max_bytes;
    uint64_t max_age_ms;
} plume_batch_limits_t;

typedef void (*plume_batch_seal_cb)(void *arg, plume_buf_t *body, uint32_t count);

typedef struct plume_batcher {
    plume_batch_limits_t limits;
    plume_buf_t body;
    plume_buf_t spill; /* the event that did not fit, while the batch is sealed */
    uint32_t count;
    size_t mark;       /* body length before the event being encoded */
    plume_timer_t *age_timer;
    plume_batch_seal_cb seal_cb;
    void *arg;
} plume_batcher_t;

/* max_event_bytes bounds one encoded event (the buffer holds max_bytes plus one
 * such event). loop may be NULL (no age-based sealing; tests). */
bool plume_batcher_init(plume_batcher_t *b, plume_loop_t *loop, const plume_batch_limits_t *limits,
                        size_t max_event_bytes, plume_batch_seal_cb cb, void *arg);
void plume_batcher_free(plume_batcher_t *b);
/* Returns the buffer to append one encoded event to. */
static inline plume_buf_t *plume_batcher_begin(plume_batcher_t *b)
{
    b->mark = b->body.len;
    b->body.failed = false;
    return &b->body;
}

/* plume_batcher_commit() in full: discards, spills, starts the age timer and
 * seals. */
bool plume_batcher_commit_slow(plume_batcher_t *b, bool ok);

/* Accepts the event appended since begin (ok=false: discard it, e.g. encoding
 * failed). May seal batches. Returns false if the event was discarded.
 * Inline for the usual event, which only adds to an open batch that it
 * leaves below both limits (no timer to start, nothing to seal); every other
 * case is plume_batcher_commit_slow(), with the same result. */
static inline bool plume_batcher_commit(plume_batcher_t *b, bool ok)
{
    size_t len = b->body.len;
    if (__builtin_expect(ok && !b->body.failed && len - b->mark <= b->spill.max && b->count > 0 &&
                             len < b->limits.max_bytes && b->count + 1 < b->limits.max_events,
                         1)) {
        b->count++;
        return true;
    }
    return plume_batcher_commit_slow(b, ok);
}
/* Seals the open batch now, if it has events. */
void plume_batcher_seal(plume_batcher_t *b);
static inline uint32_t plume_batcher_count(const plume_batcher_t *b) { return b->count; }

#endif
