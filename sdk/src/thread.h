/* SPDX-License-Identifier: MIT */
/* Per-thread logging state and the registry of every thread's ring.
 *
 * A thread's first log call attaches it: it allocates its ring and pushes its
 * state onto the registry (a lock-free stack; the only compare-and-swap in
 * the SDK, once per thread). From then on the thread writes only to its own
 * ring. When the thread exits, a pthread key destructor marks its state
 * exited; the consumer (the worker, or plume_drain()) drains what is left in
 * its ring, then unlinks and frees it. Only the consumer unlinks, so the
 * registry needs no lock: producers only ever push at the head.
 *
 * States outlive plume_shutdown() (a live thread keeps its state and ring for
 * the next plume_init()); only fork() starts over: the child frees them all. */
#ifndef PLUME_SDK_THREAD_H
#define PLUME_SDK_THREAD_H

#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ring.h"

typedef struct plume_thread {
    /* Written once when the thread attaches (exited: once when it ends);
     * read by the consumer for every record. */
    struct plume_thread *next; /* registry link, written before the push */
    plume_ring_t *ring;
    uint32_t tid;
    char name[16];
    _Atomic bool exited;

    /* Written by the producer on every call: a cache line of their own, so
     * the consumer reading the fields above does not pull the line away from
     * the logging thread (states are allocated 64-byte aligned). */
    alignas(64) volatile sig_atomic_t busy; /* a log call is writing: a signal
                                             * handler's call backs off */
    uint32_t since_fill_check;  /* producer only: records since the ring's fill was checked */
    uint64_t unreported_drops;  /* producer only: drops not yet told by a "dropped" record;
                                 * the consumer reads it once the thread has exited */
    _Atomic uint64_t drops;     /* producer stores, anyone reads: records refused so far */
    _Atomic uint64_t reentrant; /* calls refused because one was in progress */
} plume_thread_t;

/* The calling thread's state, attaching it (ring of `ring_size` bytes, records
 * of at most `max_record`) on its first call. NULL when the thread cannot
 * attach (out of memory, or it is exiting); the caller counts the call as
 * dropped. */
plume_thread_t *plume_thread_get(size_t ring_size, size_t max_record);

/* Consumer side: the registry's first state (newest first), for a walk with
 * ->next. The states stay valid until the consumer itself unlinks them. */
plume_thread_t *plume_thread_first(void);
/* Consumer side: unlinks `t` (prev is the state before it, or NULL when `t`
 * may be the head) and frees it with its ring. */
void plume_thread_unlink(plume_thread_t *prev, plume_thread_t *t);
/* After fork(), in the child (only the forking thread exists): frees every
 * state and empties the registry; the calling thread attaches afresh on its
 * next call. */
void plume_thread_reset_after_fork(void);

#endif
