/* SPDX-License-Identifier: MIT */
/* The `error` map of a captured error (docs/event-schema.md), built on the
 * worker from an error record (record.h): type, value (the message), code,
 * mechanism "generic", handled true, thread {id, name}, frames innermost
 * first {addr, module, in_app} and modules.
 *
 * Modules: the event lists the main executable first, then every other
 * module a frame falls in, in the order the frames meet them; a frame's
 * `module` is its index in that list (no `module` key when the address is in
 * no known module, in_app false then). sentry-native sends every loaded
 * module; we send only those a frame needs (plus the main executable, which
 * names the program and is what in_app means by default), which keeps an
 * event of a program with hundreds of libraries small, and is all Sentry
 * needs to symbolicate these frames.
 *
 * The module table (modules.h) is refreshed here, on the worker, when
 * plume_modules_changed() says a dlopen/dlclose happened, at most once per
 * second. That spacing is how the table-lifetime rule of modules.h is kept:
 * a refresh rewrites the table the previous refresh replaced, and a crash
 * handler that took that table (plume_modules_current()) finished reading it
 * well within a second (the whole report is written in a few ms), so no
 * refresh reaches a table a crash handler may still read. The first table is
 * published on the thread calling plume_init(), before the worker thread
 * exists: by the crash handler's install (crash.c), else by
 * plume_error_map_init(), which then counts as the last refresh for the
 * spacing. After that only the worker refreshes (nothing else may call
 * plume_modules_refresh() while the worker runs: refreshes must be
 * serialised). */
#ifndef PLUME_SDK_ERROR_MAP_H
#define PLUME_SDK_ERROR_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "options.h"
#include "record.h"

#define PLUME_ERROR_MAP_REFRESH_MS 1000u /* the least time between two refreshes */

typedef struct plume_error_map {
    char *prefixes[PLUME_MAX_IN_APP_PREFIXES]; /* in_app path prefixes (copies) */
    uint32_t nprefixes;
    uint64_t last_refresh_ms; /* plume_mono_ms() of the last refresh (0: none yet) */
    uint64_t refreshes;       /* refreshes made (tests and diagnostics) */
} plume_error_map_t;

/* Copies the in_app prefixes from o and publishes the first module table
 * when none was published yet. Not on the worker:
 * called from plume_convert_init(), before the worker thread starts. False
 * when out of memory. */
bool plume_error_map_init(plume_error_map_t *m, const plume_options_t *o);
void plume_error_map_free(plume_error_map_t *m);

/* Worker: refreshes the module table when modules changed and the last
 * refresh is at least PLUME_ERROR_MAP_REFRESH_MS old (now_ms: plume_mono_ms).
 * Returns true when it refreshed. */
bool plume_error_map_refresh(plume_error_map_t *m, uint64_t now_ms);

/* Worker: appends the error map of error record r (logged by thread tid /
 * name, name NUL-terminated within 16 bytes, may be "") to out as one
 * msgpack map, using the published module table. False when out failed (out
 * is then unusable for this event). */
bool plume_error_map_write(const plume_error_map_t *m, plume_buf_t *out,
                           const plume_record_view_t *r, uint32_t tid, const char *name);

#endif
