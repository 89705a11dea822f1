/* SPDX-License-Identifier: MIT */
/* plume_init / plume_flush / plume_shutdown, and fork(). One worker at a
 * time, under a lifecycle mutex (never taken by the log calls).
 *
 * fork(): the child starts with no rings (plume_thread_reset_after_fork) and
 * no worker (the parent's thread does not exist there, and its event loop,
 * HTTP connections and outbox lock belong to the parent): the child's log
 * calls are counted no-ops until it calls plume_init() itself. */
#include <pthread.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <string.h>

#include "clock.h"
#include "crash.h"
#include "options.h"
#include "plume/plume.h"
#include "scope.h"
#include "sdk_state.h"
#include "thread.h"
#include "worker.h"

static pthread_mutex_t lifecycle = PTHREAD_MUTEX_INITIALIZER;
static plume_worker_t *worker;
static plume_stats_t finished; /* totals of the workers already stopped (under lifecycle) */
static pthread_once_t process_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
    plume_sdk_set_running(false, 0, PLUME_LEVEL_TRACE, 1.0);
    /* the eventfd is shared with the parent: take one of our own */
    if (plume_sdk.wake_fd >= 0)
        close(plume_sdk.wake_fd);
    plume_sdk.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    plume_thread_reset_after_fork();
    plume_scope_after_fork();
    worker = NULL; /* the parent's: not ours to free */
    pthread_mutex_init(&lifecycle, NULL);
}

static void process_init(void)
{
    plume_clock_init();
    plume_sdk.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); /* kept for the process */
    pthread_atfork(NULL, NULL, on_fork_child);
}

void plume_sdk_process_init(void) { pthread_once(&process_once, process_init); }

PLUME_API plume_status_t plume_init(plume_options_t *opts)
{
    if (!opts)
        return PLUME_EINVAL;
    plume_sdk_process_init();
    pthread_mutex_lock(&lifecycle);
    plume_status_t rc = PLUME_OK;
    if (worker) {
        rc = PLUME_EALREADY;
    } else {
        char err[512];
        /* the crash handler first: a crash while starting is caught too */
        if (opts->crash_handler && !plume_crash_install(opts, err, sizeof(err)))
            fprintf(stderr, "plume: crash handler not installed: %s\n", err);
        worker = plume_worker_start(opts, err, sizeof(err));
        if (!worker) {
            fprintf(stderr, "plume: cannot start: %s\n", err);
            rc = PLUME_EIO;
        } else {
            plume_sdk_set_running(true, opts->ring_size, opts->min_level, opts->sample_rate);
        }
    }
    pthread_mutex_unlock(&lifecycle);
    plume_options_free(opts);
    return rc;
}

PLUME_API plume_status_t plume_flush(uint32_t timeout_ms)
{
    pthread_mutex_lock(&lifecycle);
    plume_status_t rc = worker ? plume_worker_flush(worker, timeout_ms) : PLUME_ENOTINIT;
    pthread_mutex_unlock(&lifecycle);
    return rc;
}

PLUME_API plume_status_t plume_shutdown(uint32_t timeout_ms)
{
    pthread_mutex_lock(&lifecycle);
    plume_status_t rc = PLUME_ENOTINIT;
    if (worker) {
        plume_sdk_set_running(false, 0, PLUME_LEVEL_TRACE, 1.0);
        rc = plume_worker_stop(worker, timeout_ms, &finished);
        worker = NULL;
        plume_crash_uninstall();
    }
    pthread_mutex_unlock(&lifecycle);
    return rc;
}

PLUME_API void plume_stats(plume_stats_t *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof(*out));
    out->calls_not_running = atomic_load(&plume_sdk.idle_calls);
    out->dropped_ring_full = atomic_load(&plume_sdk.ring_drops) + atomic_load(&plume_sdk.attach_failures);
    out->breadcrumbs_dropped = atomic_load(&plume_sdk.crumb_drops);
    pthread_mutex_lock(&lifecycle);
    out->events = finished.events;
    out->delivered = finished.delivered;
    out->dropped_other = finished.dropped_other;
    if (worker)
        plume_worker_add_stats(worker, out);
    pthread_mutex_unlock(&lifecycle);
}
