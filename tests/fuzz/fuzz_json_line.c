/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the JSON side of the stdin collector: arbitrary bytes
 * go to plume_json_to_mp (default and shallow depth, with and without UTF-8
 * checks), to the object walker, and to plume_line_to_event in JSON and auto
 * modes (truncated or not, roomy or tight output buffer). Checked: nothing
 * crashes; success yields exactly one msgpack value (plume_mp_skip consumes
 * the whole output); failure restores the output; events are readable. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "json_parse.h"
#include "line_event.h"
#include "mp.h"
#include "utf8.h"

#define CHECK(cond)      \
    do {                 \
        if (!(cond))     \
            abort();     \
    } while (0)

/* Walks one value with a depth bound above plume_mp_skip's 64. */
static bool one_value(plume_mp_reader_t *r, int depth)
{
    plume_mp_value_t v;
    if (depth > (int)PLUME_JSON_DEFAULT_MAX_DEPTH + 2 || !plume_mp_read(r, &v))
        return false;
    if (v.type == PLUME_MP_ARRAY || v.type == PLUME_MP_MAP) {
        uint64_t n = v.type == PLUME_MP_MAP ? 2ull * v.count : v.count;
        for (uint64_t i = 0; i < n; i++)
            if (!one_value(r, depth + 1))
                return false;
    }
    return true;
}

static void check_exactly_one(const plume_buf_t *b, size_t from, bool use_skip)
{
    plume_mp_reader_t r;
    plume_mp_reader_init(&r, b->data + from, b->len - from);
    CHECK(use_skip ? plume_mp_skip(&r) : one_value(&r, 0));
    CHECK(r.p == r.end);
}

static void json_direct(const char *s, size_t n, plume_buf_t *out)
{
    plume_json_error_t err;
    /* depth 64 output is always within plume_mp_skip's reach */
    plume_json_opts_t shallow = {.max_depth = 64};
    plume_buf_reset(out);
    plume_buf_append(out, "pre", 3);
    if (plume_json_to_mp_opts(s, n, out, &shallow, &err))
        check_exactly_one(out, 3, true);
    else
        CHECK(out->len == 3 && err.msg[0] && err.offset <= n);

    plume_buf_reset(out);
    bool ok = plume_json_to_mp(s, n, out, &err);
    if (ok)
        check_exactly_one(out, 0, false);
    else
        CHECK(out->len == 0 && err.status != PLUME_JSON_OK);

    /* without UTF-8 checks: same verdict on valid UTF-8 input */
    plume_json_opts_t lax = {.assume_utf8 = true};
    plume_buf_reset(out);
    bool ok2 = plume_json_to_mp_opts(s, n, out, &lax, &err);
    if (ok2)
        check_exactly_one(out, 0, false);
    if (plume_utf8_valid(s, n))
        CHECK(ok == ok2);

    uint32_t kept;
    plume_buf_reset(out);
    if (plume_json_object_walk(s, n, out, &shallow, NULL, NULL, &kept, &err)) {
        plume_mp_reader_t r;
        plume_mp_reader_init(&r, out->data, out->len);
        for (uint32_t i = 0; i < 2 * kept; i++)
            CHECK(plume_mp_skip(&r));
        CHECK(r.p == r.end);
    } else {
        CHECK(out->len == 0);
    }
}

static void line(const char *s, size_t n, plume_line_format_t fmt, bool truncated, size_t max)
{
    plume_buf_t out, scratch;
    plume_line_stats_t st = {0};
    plume_buf_init(&out, max);
    plume_buf_init(&scratch, 0);
    if (plume_line_to_event(s, n, truncated, fmt, 1700000000000000000ull, "stdin", &out,
                            &scratch, &st)) {
        check_exactly_one(&out, 0, true);
        plume_event_view_t ev;
        CHECK(plume_event_view(out.data, out.len, &ev));
        CHECK(ev.origin_len == 5);
        CHECK(st.json + st.logfmt + st.text == 1);
        if (ev.message)
            CHECK(plume_utf8_valid(ev.message, ev.message_len));
        if (truncated)
            CHECK(ev.truncated && !ev.parse_error && !ev.fields);
    } else {
        CHECK(max != 0 && out.failed && out.len == 0);
    }
    plume_buf_free(&out);
    plume_buf_free(&scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static plume_buf_t out;
    static bool init;
    if (!init) {
        plume_buf_init(&out, 0);
        init = true;
    }
    const char *s = (const char *)data;
    json_direct(s, size, &out);
    line(s, size, PLUME_FORMAT_JSON, false, 0);
    line(s, size, PLUME_FORMAT_AUTO, false, 0);
    line(s, size, PLUME_FORMAT_JSON, true, 0);
    line(s, size, PLUME_FORMAT_AUTO, false, size / 2 + 24); /* tight: may overflow */
    return 0;
}
