/* SPDX-License-Identifier: MIT */
/* plume_capture_error() and plume_capture_error_code(): a handled error,
 * recorded on the calling thread.
 *
 * The caller's share is small on purpose (target p50 <= 5 us with a 20-frame
 * stack): the checks a log call makes (level floor, running, and the error
 * sample rate), the raw return addresses of its stack from libunwind's fast
 * path, and one record in the thread's ring (record.h: the error kind, with
 * type, code and frames). Modules, in_app, the error map and the encoding
 * happen on the worker (convert.c, error_map.c).
 *
 * Stack: unw_backtrace() walks with libunwind's per-thread trace cache (no
 * DWARF interpretation once a frame was seen) and costs a fraction of a
 * cursor walk (plume_stack_capture()); it is not async-signal-safe, which this
 * path does not need. Its first address is the return address inside the
 * public function itself (the body below is always inlined into it), so that
 * one is dropped: frame 0 is the caller of plume_capture_error(). */
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <stdint.h>

#include "capture.h"
#include "plume/plume.h"
#include "record.h"

/* The one body of both public functions. Always inlined, so that the frame
 * count to drop does not depend on the optimiser. */
static inline __attribute__((always_inline)) void capture(const char *type, const char *message,
                                                          bool has_code, int64_t code,
                                                          const plume_field_t *fields,
                                                          size_t nfields)
{
    if (!plume_capture_accepts())
        return;
    uintptr_t ips[PLUME_RECORD_MAX_FRAMES + 1];
    int n = unw_backtrace((void **)ips, (int)(sizeof(ips) / sizeof(ips[0])));
    plume_record_extra_t extra = {
        .error = true,
        .err_type = type ? type : "error",
        .has_code = has_code,
        .code = code,
        .frames = ips + 1, /* ips[0] is in the public function */
        .nframes = n > 1 ? (uint32_t)(n - 1) : 0,
    };
    plume_capture_put(message, fields, nfields, &extra);
}

PLUME_API __attribute__((noinline)) void plume_capture_error(const char *type, const char *message,
                                                           const plume_field_t *fields,
                                                           size_t nfields)
{
    capture(type, message, false, 0, fields, nfields);
    __asm__ volatile("" ::: "memory"); /* no tail call: this frame stays the one to drop */
}

PLUME_API __attribute__((noinline)) void plume_capture_error_code(const char *type,
                                                                const char *message, int64_t code,
                                                                const plume_field_t *fields,
                                                                size_t nfields)
{
    capture(type, message, true, code, fields, nfields);
    __asm__ volatile("" ::: "memory");
}
