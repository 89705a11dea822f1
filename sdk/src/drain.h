/* SPDX-License-Identifier: MIT */
/* The consumer side of the rings: one pass over every registered thread,
 * handing each record to a callback, then releasing the ring space, and
 * freeing the state of threads that exited once their ring is empty. Only
 * one thread may drain at a time (the worker; tests call it directly). */
#ifndef PLUME_SDK_DRAIN_H
#define PLUME_SDK_DRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "thread.h"

/* Called for each record, oldest first within a thread. The record bytes are
 * valid only during the call. */
typedef void (*plume_drain_fn)(void *ctx, const plume_thread_t *t, const uint8_t *rec,
                               size_t len);

/* One pass: at most max_per_thread records from each thread (0 = all there
 * are). Returns the number of records handed to fn. */
size_t plume_drain(plume_drain_fn fn, void *ctx, size_t max_per_thread);

#endif
