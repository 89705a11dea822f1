/* SPDX-License-Identifier: MIT */
/* Draining every thread's ring. See drain.h. */
#include "drain.h"

#include <stdint.h>

#include "clock.h"
#include "record.h"
#include "site.h"

/* A site record turned back into a record. Kept from pass to pass (only one
 * thread drains at a time), so a steady stream does not grow a buffer anew
 * on every pass; it stays as large as the largest record expanded. */
static plume_buf_t expanded = {.max = SIZE_MAX}; /* as plume_buf_init(&b, 0) leaves it */

size_t plume_drain(plume_drain_fn fn, void *ctx, size_t max_per_thread)
{
    size_t total = 0;
    plume_thread_t *prev = NULL;
    plume_thread_t *t = plume_thread_first();
    while (t) {
        plume_thread_t *next = t->next;
        /* Read `exited` before draining: a thread marked exited writes no
         * more, so an empty ring after this pass is empty for good. */
        bool exited = atomic_load_explicit(&t->exited, memory_order_acquire);
        size_t n = 0, len;
        const void *rec;
        while ((max_per_thread == 0 || n < max_per_thread) &&
               (rec = plume_ring_peek(t->ring, &len)) != NULL) {
            if (plume_site_is_record(rec, len) && plume_site_expand(rec, len, &expanded))
                fn(ctx, t, expanded.data, expanded.len);
            else
                fn(ctx, t, rec, len); /* a site record that did not expand: refused there */
            plume_ring_advance(t->ring);
            n++;
        }
        plume_ring_release(t->ring);
        total += n;
        if (exited && !plume_ring_peek(t->ring, &len)) {
            /* Drops the thread had no later call to report: report them for it
             * (it writes nothing any more, so its counter is final). */
            if (t->ring->prod->unreported_drops) {
                uint8_t rec[PLUME_DROPS_RECORD_MAX];
                size_t n = plume_record_drops(rec, plume_clock_stamp(), t->ring->prod->unreported_drops);
                fn(ctx, t, rec, n);
                total++;
            }
            plume_thread_unlink(prev, t); /* prev stays the previous live state */
        } else {
            prev = t;
        }
        t = next;
    }
    return total;
}
