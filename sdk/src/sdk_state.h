/* SPDX-License-Identifier: MIT */
/* The SDK's process-wide state, shared by the log calls (read-mostly) and the
 * lifecycle (plume_init / plume_shutdown / fork). */
#ifndef PLUME_SDK_STATE_H
#define PLUME_SDK_STATE_H

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
} plume_sdk_state_t;

extern plume_sdk_state_t plume_sdk;

/* Starts or stops accepting log calls (the lifecycle calls these). Rings keep
 * what they hold either way. */
void plume_sdk_set_running(bool on, size_t ring_size, int min_level, double sample_rate);

#endif
