/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for logfmt: arbitrary bytes go to the pair iterator (with
 * and without a scratch buffer, which must agree) and to plume_line_to_event
 * in logfmt and auto modes. Checked: nothing crashes; keys are non-empty
 * slices of the input; unescaping gives exactly decoded_len bytes; an error
 * offset lies within the input; events are exactly one readable msgpack map. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "line_event.h"
#include "logfmt.h"
#include "mp.h"

#define CHECK(cond)      \
    do {                 \
        if (!(cond))     \
            abort();     \
    } while (0)

static void iterate(const char *s, size_t n)
{
    static plume_buf_t scratch;
    static bool init;
    if (!init) {
        plume_buf_init(&scratch, 0);
        init = true;
    }
    plume_logfmt_iter_t a, b;
    plume_logfmt_pair_t pa, pb;
    plume_logfmt_iter_init(&a, s, n, NULL);
    plume_logfmt_iter_init(&b, s, n, &scratch);
    for (;;) {
        bool ga = plume_logfmt_next(&a, &pa);
        bool gb = plume_logfmt_next(&b, &pb);
        CHECK(ga == gb);
        if (!ga)
            break;
        CHECK(pa.key_len > 0 && pa.key >= s && pa.key + pa.key_len <= s + n);
        CHECK(pa.key == pb.key && pa.key_len == pb.key_len);
        CHECK(pa.has_value == pb.has_value && pa.has_equals == pb.has_equals);
        CHECK(!pb.escaped);
        if (pa.escaped) {
            char *tmp = malloc(pa.decoded_len + 1);
            size_t w = plume_logfmt_unescape(pa.value, pa.value_len, tmp);
            CHECK(w == pa.decoded_len && w == pb.value_len);
            CHECK(memcmp(tmp, pb.value, w) == 0);
            free(tmp);
        } else if (pa.has_value) {
            CHECK(pa.value >= s && pa.value + pa.value_len <= s + n);
            CHECK(pa.value_len == pb.value_len && memcmp(pa.value, pb.value, pa.value_len) == 0);
        }
    }
    CHECK((a.err == NULL) == (b.err == NULL));
    if (a.err)
        CHECK(a.err_offset <= n && a.err_offset == b.err_offset);
}

static void line(const char *s, size_t n, plume_line_format_t fmt, bool truncated, size_t max)
{
    plume_buf_t out, scratch;
    plume_line_stats_t st = {0};
    plume_buf_init(&out, max);
    plume_buf_init(&scratch, 0);
    if (plume_line_to_event(s, n, truncated, fmt, 42, "stdin", &out, &scratch, &st)) {
        plume_mp_reader_t r;
        plume_mp_reader_init(&r, out.data, out.len);
        CHECK(plume_mp_skip(&r) && r.p == r.end);
        plume_event_view_t ev;
        CHECK(plume_event_view(out.data, out.len, &ev));
        CHECK(st.json + st.logfmt + st.text == 1);
        if (fmt == PLUME_FORMAT_LOGFMT && !truncated)
            CHECK(st.logfmt == 1 || st.parse_errors == 1);
    } else {
        CHECK(max != 0 && out.failed && out.len == 0);
    }
    plume_buf_free(&out);
    plume_buf_free(&scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    iterate(s, size);
    line(s, size, PLUME_FORMAT_LOGFMT, false, 0);
    line(s, size, PLUME_FORMAT_AUTO, false, 0);
    line(s, size, PLUME_FORMAT_LOGFMT, true, 0);
    line(s, size, PLUME_FORMAT_LOGFMT, false, size / 2 + 24);
    return 0;
}
