/* SPDX-License-Identifier: MIT */
/* See sentry_render.h. */
#include "test_support.h"
#include <cmocka.h>

#include <string.h>

#include "sentry_render.h"

#include "json_parse.h"

const char *plume_test_sentry_render(plume_test_sentry_encoder_t encode, const plume_buf_t *ev,
                                     const char *id, const plume_sentry_event_opts_t *opts)
{
    static char text[16384];
    plume_event_view_t v;
    assert_true(plume_event_view(ev->data, ev->len, &v));
    plume_buf_t out;
    plume_buf_init(&out, 0);
    assert_true(encode(&out, &v, id, opts));
    assert_true(out.len < sizeof(text));
    assert_true(plume_json_validate((const char *)out.data, out.len, NULL, NULL, NULL));
    memcpy(text, out.data, out.len);
    text[out.len] = '\0';
    plume_buf_free(&out);
    return text;
}
