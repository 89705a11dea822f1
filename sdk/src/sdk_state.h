/* SPDX-License-Identifier: MIT */
/* The SDK's process-wide state, shared by the log calls (read-mostly) and the
 * lifecycle (plume_init / plume_shutdown / fork). */
#ifndef PLUME_SDK_STATE_H
#define PLUME_SDK_STATE_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct plume_sdk_state {
    _Atomic bool running;        /* between plume_init() and plume_shutdown() */
    size_t ring_size;            /* bytes of each thread's ring */
    size_t max_record;           /* largest record a ring takes */
    bool sampling;               /* sample_rate < 1: logs below error are sampled */
    uint32_t sample_threshold;   /* when sampling, keep a log when rand32 < this */
    _Atomic uint64_t idle_calls; /* log calls while not running (counted no-ops) */
    _Atomic uint64_t attach_failures; /* calls dropped: the thread could not get a ring */
    _Atomic uint64_t ring_drops;      /* calls a full ring refused (all threads; slow path) */
    _Atomic uint64_t crumb_drops;     /* breadcrumbs a full ring refused */
    int wake_fd;                 /* eventfd the worker watches; -1 until the first init */
    uint32_t poll_ms;            /* the worker's drain interval when not woken (0: 10 ms) */
    /* The worker is (about to be) asleep waiting for a wake-up or its poll
     * timeout. Written by the worker twice per loop turn, so on a cache line
     * of its own: the log calls read it only when their ring is filling. */
    alignas(64) _Atomic bool worker_waiting;
    char pad_[63];
} plume_sdk_state_t;

extern plume_sdk_state_t plume_sdk;

/* Once per process (idempotent, any thread): calibrates the clock, makes the
 * wake-up eventfd, installs the fork handler. plume_init() and the scope
 * setters call it. */
void plume_sdk_process_init(void);

/* Wakes the worker (async-signal-safe: one eventfd write). */
void plume_sdk_wake(void);

/* Starts or stops accepting log calls (the lifecycle calls these). Rings keep
 * what they hold either way. */
void plume_sdk_set_running(bool on, size_t ring_size, int min_level, double sample_rate);

#endif
