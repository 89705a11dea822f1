/* SPDX-License-Identifier: MIT */
/* Test helper for the Sentry item encoders (sentry_event.c, sentry_log.c):
 * renders a msgpack event with one of them and checks the result is one
 * valid JSON document. */
#ifndef PLUME_TEST_SENTRY_RENDER_H
#define PLUME_TEST_SENTRY_RENDER_H

#include <stdbool.h>

#include "buf.h"
#include "event.h"
#include "sentry_event.h"

/* An encoder's signature: both plume_sentry_event_json() (id = event id)
 * and plume_sentry_log_json() (id = trace id). */
typedef bool (*plume_test_sentry_encoder_t)(plume_buf_t *out, const plume_event_view_t *ev,
                                            const char *id,
                                            const plume_sentry_event_opts_t *opts);

/* Renders the event in ev (msgpack) with encode and returns the JSON as a
 * static string (valid until the next call), after checking it decodes as
 * an event, encodes, fits, and is one valid JSON document. */
const char *plume_test_sentry_render(plume_test_sentry_encoder_t encode, const plume_buf_t *ev,
                                     const char *id, const plume_sentry_event_opts_t *opts);

#endif
