/* SPDX-License-Identifier: MIT */
#include "record_build.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>

#include <cmocka.h>

uint8_t *plume_test_record(uint64_t stamp, plume_level_t level, const char *message,
                           const plume_field_t *fields, size_t nfields,
                           const plume_record_extra_t *extra, size_t *size)
{
    plume_record_lens_t lens;
    *size = plume_record_measure(message, 0, fields, nfields, extra, &lens);
    uint8_t *rec = malloc(*size);
    assert_non_null(rec);
    plume_record_write(rec, stamp, level, message, fields, extra, &lens);
    return rec;
}
