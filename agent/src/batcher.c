/* SPDX-License-Identifier: MIT */
/* Size/count/age batching. See batcher.h. */
#include "batcher.h"

#include <string.h>

static void on_age(plume_loop_t *l, plume_timer_t *t, void *arg)
{
    (void)l;
    (void)t;
    plume_batcher_seal(arg);
}

bool plume_batcher_init(plume_batcher_t *b, plume_loop_t *loop, const plume_batch_limits_t *limits,
                        size_t max_event_bytes, plume_batch_seal_cb cb, void *arg)
{
    memset(b, 0, sizeof(*b));
    b->limits = *limits;
    b->seal_cb = cb;
    b->arg = arg;
    plume_buf_init(&b->body, limits->max_bytes + max_event_bytes);
    plume_buf_init(&b->spill, max_event_bytes);
    if (loop) {
        b->age_timer = plume_timer_new(loop, on_age, b);
        if (!b->age_timer)
            return false;
    }
    return true;
}

void plume_batcher_free(plume_batcher_t *b)
{
    if (b->age_timer)
        plume_timer_free(b->age_timer);
    plume_buf_free(&b->body);
    plume_buf_free(&b->spill);
}

void plume_batcher_seal(plume_batcher_t *b)
{
    if (b->age_timer)
        plume_timer_stop(b->age_timer);
    if (b->count == 0)
        return;
    b->seal_cb(b->arg, &b->body, b->count);
    plume_buf_reset(&b->body);
    b->count = 0;
}

bool plume_batcher_commit_slow(plume_batcher_t *b, bool ok)
{
    /* An event past max_event_bytes is refused as well: should it not fit in
     * this batch, it could not be moved to the next one (spill holds one event
     * of at most that size) and would be lost while still being counted. */
    if (!ok || b->body.failed || b->body.len - b->mark > b->spill.max) {
        b->body.len = b->mark;
        b->body.failed = false;
        return false;
    }
    size_t event_len = b->body.len - b->mark;
    if (b->count > 0 && b->body.len > b->limits.max_bytes) {
        /* The new event does not fit: seal what was there, then start a new
         * batch with it. */
        plume_buf_reset(&b->spill);
        plume_buf_append(&b->spill, b->body.data + b->mark, event_len);
        b->body.len = b->mark;
        plume_batcher_seal(b);
        plume_buf_append(&b->body, b->spill.data, b->spill.len);
    }
    b->count++;
    if (b->count == 1 && b->age_timer)
        plume_timer_start(b->age_timer, b->limits.max_age_ms);
    if (b->count >= b->limits.max_events || b->body.len >= b->limits.max_bytes)
        plume_batcher_seal(b);
    return true;
}
