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
 * the next plume_init()); only fork() starts over: the child frees them all.
 *
 * Alternate signal stacks (for the crash handler, which must run even when a
 * thread overflowed its stack): while enabled, a thread that attaches also
 * gets one (PLUME_ALTSTACK_SIZE bytes, mmap'd below a guard page) unless it
 * already runs its signals on one (the host's is never replaced). The state
 * owns it: the exit destructor disables it on its thread (so the thread,
 * which still runs a while after it, never uses it again) and the consumer
 * unmaps it with the state. */
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
    void *altstack;        /* our alternate signal stack's mapping (guard page
                            * included), or NULL */
    size_t altstack_size;

    /* Written by the producer on every call: a cache line of their own, so
     * the consumer reading the fields above does not pull the line away from
     * the logging thread (states are allocated 64-byte aligned). */
    /* (The per-call flags, busy and unreported_drops, are in the ring's
     * producer side, ring->prod, with what the producer reads on every call:
     * in the thread's TLS while it runs, back in the ring once it exits. The
     * consumer reads unreported_drops only then.) */
    alignas(64) _Atomic uint64_t drops;     /* producer stores, anyone reads: records refused so far */
    _Atomic uint64_t reentrant; /* calls refused because one was in progress */
} plume_thread_t;

/* The calling thread's state, attaching it (ring of `ring_size` bytes,
 * records of at most `max_record`) on its first call. NULL when the thread
 * cannot attach (out of memory, or it is exiting); the caller counts the call
 * as dropped. Inline (the log call's hot path); plume_thread_attach() is its
 * slow path. */
plume_thread_t *plume_thread_attach(size_t ring_size, size_t max_record);
extern __thread plume_thread_t *plume_thread_self_
    __attribute__((visibility("hidden"), tls_model("initial-exec")));
static inline plume_thread_t *plume_thread_get(size_t ring_size, size_t max_record)
{
    plume_thread_t *t = plume_thread_self_;
    if (__builtin_expect(t != NULL, 1))
        return t;
    return plume_thread_attach(ring_size, max_record);
}

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

/* Bytes of each alternate signal stack (the guard page not counted). One
 * crash report's unwind needs about 8.4 KiB; sanitizers need much more. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PLUME_ALTSTACK_SIZE (512u * 1024u)
#else
#define PLUME_ALTSTACK_SIZE (64u * 1024u)
#endif

/* Threads attaching from now on get an alternate signal stack (on) or not
 * (off, the default). The crash handler's install turns it on. */
void plume_thread_altstacks_enable(bool on);
/* The calling thread (not signal-safe): installs an alternate signal stack of
 * ours unless it runs its signals on one already (ours or the host's). True
 * when the thread has one afterwards. A thread that never attaches keeps it
 * for its lifetime (the thread calling plume_init() without ever logging). */
bool plume_thread_altstack_ensure(void);

#endif
