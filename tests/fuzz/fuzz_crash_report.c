/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the crash report reader (sdk/src/crash_report.c),
 * which reads files a crashed process left on disk and must treat them as
 * hostile: the input is parsed as a report; when it is accepted, it is also
 * turned into an event (crash_delivery.c, without symbolication: no files
 * are opened), and the event's fields_json must be one braced JSON object
 * and its error map valid msgpack. Refusal must come with a reason. Never a
 * crash, a leak or a read past the input. The seed corpus holds real reports
 * written by plume-example-crash (segv, abrt, thread, overflow) and damaged
 * variants of them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crash_delivery.h"
#include "crash_report.h"
#include "mp.h"

static plume_crash_report_t report;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    /* a private copy: the reader must not read past `size` (ASan sees it) */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (!plume_crash_report_parse(copy, size, &report, err, sizeof(err))) {
        if (err[0] == '\0')
            abort(); /* a refusal without a reason */
        free(copy);
        return 0;
    }
    plume_crash_event_t e;
    plume_crash_event_init(&e);
    static const char *const prefixes[] = {"/usr/"};
    plume_crash_event_opts_t o = {.in_app_prefixes = prefixes, .n_in_app_prefixes = 1};
    if (plume_crash_event_build(&e, &report, &o)) {
        const plume_event_view_t *v = &e.view;
        if (v->fields_json_len < 2 || v->fields_json[0] != '{' ||
            v->fields_json[v->fields_json_len - 1] != '}')
            abort();
        plume_mp_reader_t rd;
        plume_mp_reader_init(&rd, v->error, v->error_len);
        if (!plume_mp_skip(&rd) || rd.p != rd.end)
            abort();
    }
    plume_crash_event_free(&e);
    free(copy);
    return 0;
}
