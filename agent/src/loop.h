/* SPDX-License-Identifier: MIT */
/* A small single-threaded event loop on epoll (Linux only).
 *
 * The agent runs its sockets, libcurl's sockets and its timers from one thread
 * through this loop. It watches file descriptors for readability/writability and
 * runs one-shot timers kept in a binary heap (O(log n) start/stop). Callbacks may
 * watch, unwatch, start, stop and free any fd or timer, their own included, while
 * the loop dispatches: events for an fd unwatched during the same iteration are
 * not delivered, and a timer armed during dispatch runs at the earliest in the
 * next iteration (so a callback that re-arms itself with delay 0 cannot starve
 * the loop). Everything except plume_loop_wake() must be called from the loop's
 * thread. */
#ifndef PLUME_LOOP_H
#define PLUME_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct plume_loop plume_loop_t;

/* Requested events (plume_loop_watch) and delivered events (callbacks).
 * PLUME_EV_ERROR is only ever delivered, OR'ed with the requested events, when
 * the kernel reports an error or hang-up on the fd. */
enum { PLUME_EV_READ = 1, PLUME_EV_WRITE = 2, PLUME_EV_ERROR = 4 };

typedef void (*plume_fd_cb)(plume_loop_t *l, int fd, unsigned events, void *arg);

typedef struct plume_timer plume_timer_t;
typedef void (*plume_timer_cb)(plume_loop_t *l, plume_timer_t *t, void *arg);

/* Creates a loop (epoll + eventfd). Returns NULL on failure (errno set). */
plume_loop_t *plume_loop_new(void);
/* Frees the loop. Watched fds are not closed (the caller owns them). The caller
 * must free its timers before the loop; timers are not owned by the loop. */
void plume_loop_free(plume_loop_t *l);

/* Adds, or changes the events/callback of, a watched fd. events 0 keeps the fd
 * registered with the loop but idle (nothing is reported, not even hang-ups).
 * The fd stays owned by the caller, who must unwatch it before closing it.
 * Returns 0 or -errno (-EBADF for a negative fd, -EINVAL for unknown bits). */
int plume_loop_watch(plume_loop_t *l, int fd, unsigned events, plume_fd_cb cb, void *arg);
/* Stops watching fd. Returns 0, or -ENOENT if it was not watched. Works even if
 * the fd has already been closed. */
int plume_loop_unwatch(plume_loop_t *l, int fd);

/* Creates an inactive timer bound to the loop. NULL on allocation failure. */
plume_timer_t *plume_timer_new(plume_loop_t *l, plume_timer_cb cb, void *arg);
/* Arms a one-shot timer to fire delay_ms from now (re-arming an active timer
 * moves its deadline). */
void plume_timer_start(plume_timer_t *t, uint64_t delay_ms);
/* Disarms the timer; no-op if inactive. */
void plume_timer_stop(plume_timer_t *t);
/* True while armed (false again once its callback starts running). */
bool plume_timer_active(const plume_timer_t *t);
/* Stops and frees the timer; NULL is a no-op. Safe inside any callback. */
void plume_timer_free(plume_timer_t *t);

/* Waits at most max_wait_ms (-1 = until something happens) and dispatches ready
 * fds, then due timers. Returns the number of callbacks run, or -errno (EINTR is
 * not an error: returns 0). A plume_loop_wake() only ends the wait; it runs no
 * callback. */
int plume_loop_run_once(plume_loop_t *l, int max_wait_ms);

/* CLOCK_MONOTONIC in milliseconds, cached per iteration of run_once. */
uint64_t plume_loop_now_ms(plume_loop_t *l);

/* Thread-safe, async-signal-safe: makes a current or the next run_once return
 * promptly. Wake-ups before that coalesce into one. */
void plume_loop_wake(plume_loop_t *l);

#endif
