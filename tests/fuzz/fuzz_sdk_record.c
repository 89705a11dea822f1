/* SPDX-License-Identifier: MIT */
/* Fuzzes the SDK worker's readers of ring records (bytes that, in a healthy
 * process, only libplume's own log calls write; a stray write into a ring
 * must still not crash the worker): plume_record_read, then the fields
 * straight to JSON (record_json.c), then the breadcrumb store. Oracles: a
 * successful JSON write is a valid JSON object once braced, and the writer
 * never leaves partial output behind on failure, and the breadcrumbs the
 * store writes are whole msgpack. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crumbs.h"
#include "json_parse.h"
#include "json_write.h"
#include "record.h"
#include "record_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    plume_record_view_t v;
    if (!plume_record_read(data, size, &v))
        return 0;
    plume_buf_t out;
    plume_buf_init(&out, 1u << 20);
    plume_buf_append(&out, "x", 1);
    unsigned hints = 0;
    if (plume_record_json_members(&out, v.fields, v.fields_len, &hints)) {
        if (out.len > 1) {
            out.data[1] = '{'; /* the first member's comma */
            plume_buf_append(&out, "}", 1);
            plume_json_opts_t opts = {.max_depth = 64};
            unsigned flags = 0;
            if (!plume_json_validate((const char *)out.data + 1, out.len - 1, &opts, &flags, NULL))
                abort(); /* the writer produced invalid JSON */
        }
    } else if (out.len != 1) {
        abort(); /* a refused map must leave the output as it was */
    }
    plume_buf_free(&out);

    plume_crumbs_t c;
    if (plume_crumbs_init(&c, 2)) {
        plume_crumbs_add(&c, data, size, &v);
        plume_crumbs_add(&c, data, size, &v);
        plume_buf_t b, json;
        plume_buf_init(&b, 1u << 20);
        plume_buf_init(&json, 8u << 20);
        if (plume_crumbs_write(&c, UINT64_MAX, &b) > 0) {
            /* what the store writes is msgpack the JSON writer takes whole */
            plume_mp_reader_t rd;
            plume_mp_reader_init(&rd, b.data, b.len);
            if (!plume_json_write_mp(&json, &rd) || rd.p != rd.end)
                abort();
        }
        plume_buf_free(&json);
        plume_buf_free(&b);
    }
    plume_crumbs_free(&c);
    return 0;
}
