/* SPDX-License-Identifier: MIT */
/* The calling thread's side of plume_capture_error() that lives in log.c
 * (the ring, the drop counting, the overlay and the sampling state are
 * log.c's): capture.c asks whether the call is accepted, takes the stack,
 * then hands the error record to plume_capture_put(). */
#ifndef PLUME_SDK_CAPTURE_H
#define PLUME_SDK_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "plume/plume.h"
#include "record.h"

/* Sets the error sample rate (0.0 to 1.0) that plume_capture_error() and
 * error/fatal log calls apply at the call. Called at plume_init() (from
 * plume_convert_init(), before the SDK starts accepting calls). */
void plume_capture_configure(double error_sample_rate);

/* Whether an error captured now is kept: the level floor, running (a call
 * while not running is counted, like a log call) and the error sample
 * rate. */
bool plume_capture_accepts(void);

/* Writes the error record (extra->error set, with type, code and frames)
 * with the thread's scope overlay into the thread's ring, or counts the drop
 * as a log call would; wakes the worker. */
void plume_capture_put(const char *message, const plume_field_t *fields, size_t nfields,
                       plume_record_extra_t *extra);

#endif
