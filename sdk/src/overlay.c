/* SPDX-License-Identifier: MIT */
/* The thread overlay's push and pop. See overlay.h. */
#include "overlay.h"

#include <stdatomic.h>

#include "record.h"

__thread plume_overlay_t plume_overlay;

PLUME_API plume_status_t plume_scope_push(const plume_field_t *fields, size_t nfields)
{
    plume_overlay_t *o = &plume_overlay;
    if (o->depth == PLUME_OVERLAY_MAX_DEPTH) {
        o->overflow++;
        return PLUME_ENOMEM;
    }
    uint64_t state = plume_hot1_thread_.overlay;
    uint32_t len = (uint32_t)(state >> 32), pairs = (uint32_t)state;
    o->marks[o->depth++] = state;
    if (!fields && nfields)
        return PLUME_EINVAL; /* an empty push: its pop restores the same state */
    plume_record_lens_t lens;
    size_t n = plume_record_pairs_measure(fields, nfields, &lens);
    if (n > PLUME_OVERLAY_MAX_BYTES - len)
        return PLUME_ENOMEM;
    plume_record_pairs_write(o->bytes + len, fields, &lens);
    /* The bytes are in place before the state that makes them visible (to
     * this thread's log calls, including one from a signal handler). */
    atomic_signal_fence(memory_order_seq_cst);
    plume_hot1_thread_.overlay = ((uint64_t)(len + n) << 32) | (pairs + lens.nfields);
    return PLUME_OK;
}

PLUME_API void plume_scope_pop(void)
{
    plume_overlay_t *o = &plume_overlay;
    if (o->overflow) {
        o->overflow--;
    } else if (o->depth) {
        plume_hot1_thread_.overlay = o->marks[--o->depth];
    }
}
