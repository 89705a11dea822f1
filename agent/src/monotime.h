/* SPDX-License-Identifier: MIT */
/* The monotonic clock in milliseconds, and condition variables that wait on
 * it (so a wall-clock step neither shortens nor stretches a timed wait).
 * Shared by the event loop, the batch worker and the SDK's worker. */
#ifndef PLUME_MONOTIME_H
#define PLUME_MONOTIME_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t plume_mono_ms(void);
/* Initialises *cv to time its waits on CLOCK_MONOTONIC. */
void plume_cond_init_monotonic(pthread_cond_t *cv);
/* pthread_cond_timedwait on a plume_cond_init_monotonic() condition until
 * plume_mono_ms() reaches deadline_ms. False when the deadline passed. */
bool plume_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t deadline_ms);

#endif
