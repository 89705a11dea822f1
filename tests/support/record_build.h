/* SPDX-License-Identifier: MIT */
/* Building the SDK's ordinary records (sdk/src/record.h) in tests. */
#ifndef PLUME_TEST_RECORD_BUILD_H
#define PLUME_TEST_RECORD_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

/* The ordinary record of a call (extra may be NULL), measured, then written
 * into a new buffer of exactly its size, returned in *size; free() it. Fails
 * the running cmocka test when out of memory. */
uint8_t *plume_test_record(uint64_t stamp, plume_level_t level, const char *message,
                           const plume_field_t *fields, size_t nfields,
                           const plume_record_extra_t *extra, size_t *size);

#endif
