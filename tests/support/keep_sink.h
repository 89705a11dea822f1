/* SPDX-License-Identifier: MIT */
/* Test helpers for code that feeds a pipeline: a sink that keeps every event
 * it is given, and a key lookup in a msgpack map. Tests include <cmocka.h>
 * after test_support.h as usual; a keep sink fails the test when it is full. */
#ifndef PLUME_TEST_KEEP_SINK_H
#define PLUME_TEST_KEEP_SINK_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "event.h"
#include "mp.h"
#include "sink.h"

#define PLUME_KEEP_SINK_MAX 8192

/* Keeps, per submitted event, the view exactly as submitted (its pointers
 * are the submitter's, valid only during the call: compare them, do not read
 * through them later) and a msgpack copy (plume_event_write). Add
 * &k->base to a pipeline; the pipeline's free (or plume_keep_sink_clear)
 * releases the copies. */
typedef struct plume_keep_sink {
    plume_sink_t base;
    plume_event_view_t view[PLUME_KEEP_SINK_MAX];
    plume_buf_t copy[PLUME_KEEP_SINK_MAX];
    size_t n;
} plume_keep_sink_t;

/* Empty, named "keep". */
void plume_keep_sink_init(plume_keep_sink_t *k);
/* Frees the copies; n back to 0. */
void plume_keep_sink_clear(plume_keep_sink_t *k);
/* The view of copy i (fails the test when i >= n). */
void plume_keep_sink_event(const plume_keep_sink_t *k, size_t i, plume_event_view_t *v);

/* Moves r from a map to the value of `key` in it. False when r is not at a
 * map or the key is absent. */
bool plume_test_mp_find(plume_mp_reader_t *r, const char *key);

#endif
