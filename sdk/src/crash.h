/* SPDX-License-Identifier: MIT */
/* The crash handler: on SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT and SIGTRAP
 * it writes a crash report (crash_report.h) to data_dir/crash/ and lets the
 * process die of its signal as it would have without us.
 *
 * Everything the handler needs is prepared by plume_crash_install() (at
 * plume_init): libunwind warmed up, the module table published, the report
 * buffer mmap'd and pre-touched, the crash directory created (0700) and the
 * path prefix built, the random part of report ids drawn, alternate signal
 * stacks for the calling thread and every thread that attaches. The handler
 * itself calls no malloc, stdio or lock:
 *
 *   1. the first crashing thread wins (an atomic owner); another thread that
 *      crashes meanwhile waits for it (at most 2 s, in nanosleep steps) and
 *      then goes on to step 6; a crash inside the handler on the owning
 *      thread goes straight to step 5 (restore and re-raise);
 *   2. the on_crash hook, when set (non-zero: no report);
 *   3. the unwind from the signal context (plume_stack_capture_context);
 *   4. the report into the reserved buffer, write(2) to <id>.tmp, fsync,
 *      rename to <id>.plume-crash, fsync of the directory;
 *   5. the previous handlers restored (all six signals);
 *   6. re-raise: a fault the hardware raised (si_code > 0; not SIGTRAP or
 *      SIGABRT) returns and faults again, now into the previous handler or
 *      the default action; a signal that was sent (kill, raise, abort:
 *      si_code <= 0), and SIGTRAP/SIGABRT always, is sent again to the
 *      thread with tgkill. The handler runs with SA_NODEFER, so that signal
 *      is delivered at once (abort() unblocks SIGABRT before raising it, and
 *      raises it again with SIG_DFL should a previous handler return).
 *
 * The handler is installed with SA_ONSTACK | SA_SIGINFO | SA_NODEFER. */
#ifndef PLUME_SDK_CRASH_H
#define PLUME_SDK_CRASH_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

/* The crash reports' directory name under data_dir, and the file suffixes. */
#define PLUME_CRASH_DIR "crash"
#define PLUME_CRASH_SUFFIX ".plume-crash"
#define PLUME_CRASH_TMP_SUFFIX ".tmp"

/* data_dir as plume_init() resolves it: the option, else $PLUME_DATA_DIR,
 * else PLUME_DEFAULT_DATA_DIR. */
const char *plume_crash_data_dir(const plume_options_t *o);

/* Not signal-safe; under the lifecycle lock. Prepares everything above and
 * installs the handler for the six signals (saving the previous actions).
 * Called again while installed, it only refreshes the options it copied.
 * False with a reason in err when the directory or the memory cannot be set
 * up (nothing is installed then). */
bool plume_crash_install(const plume_options_t *o, char *err, size_t errlen);

/* Not signal-safe: restores the previous actions of the signals whose
 * action is still ours. The reserved memory stays (a handler already running
 * on another thread may still use it). */
void plume_crash_uninstall(void);

/* Whether the handler is installed. */
bool plume_crash_installed(void);

/* Bytes reserved for one report with max_breadcrumbs breadcrumbs. */
size_t plume_crash_buffer_size(uint32_t max_breadcrumbs);

#endif
