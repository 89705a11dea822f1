/* SPDX-License-Identifier: MIT */
/* Event loop on epoll with a timer heap and an eventfd wake-up. See loop.h.
 *
 * Watched fds live in an array indexed by fd. Each registration gets a
 * generation number that travels with the epoll event (high 32 bits of the
 * event data, fd in the low 32 bits), so an event that was already collected by
 * epoll_wait is dropped if its fd was unwatched, or unwatched and watched again,
 * by an earlier callback of the same iteration. An idle watcher (events 0) is
 * taken out of the epoll set entirely so that hang-ups cannot spin the loop.
 *
 * Timers sit in a binary min-heap ordered by (deadline, start sequence); each
 * timer knows its heap slot, so stop/re-arm are O(log n). The heap's capacity
 * always covers every timer in existence, so arming a timer never allocates and
 * cannot fail. */
#include "loop.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "monotime.h"

#define NOT_IN_HEAP SIZE_MAX
#define WAKE_TOKEN UINT64_MAX
#define MAX_EVENTS 64

typedef struct watcher {
    plume_fd_cb cb;
    void *arg;
    unsigned events; /* requested PLUME_EV_READ|WRITE */
    uint32_t gen;    /* 0 = slot unused */
    bool in_epoll;   /* currently in the kernel's epoll set */
} watcher_t;

struct plume_timer {
    plume_loop_t *loop; /* NULL once the loop was freed */
    plume_timer_cb cb;
    void *arg;
    uint64_t deadline;
    uint64_t seq;
    size_t heap_index; /* NOT_IN_HEAP when inactive */
    plume_timer_t *prev, *next; /* all timers of the loop */
};

struct plume_loop {
    int epfd;
    int wakefd;
    watcher_t *w;
    size_t nw;
    uint32_t next_gen;
    plume_timer_t **heap;
    size_t heap_len, heap_cap;
    size_t ntimers;
    plume_timer_t *timers;
    uint64_t next_seq;
    uint64_t now_ms;
};

plume_loop_t *plume_loop_new(void)
{
    plume_loop_t *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->epfd < 0 || l->wakefd < 0)
        goto fail;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_TOKEN};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) != 0)
        goto fail;
    l->next_gen = 1;
    l->now_ms = plume_mono_ms();
    return l;
fail: {
    int e = errno;
    if (l->epfd >= 0)
        close(l->epfd);
    if (l->wakefd >= 0)
        close(l->wakefd);
    free(l);
    errno = e;
    return NULL;
}
}

void plume_loop_free(plume_loop_t *l)
{
    if (!l)
        return;
    /* Timers belong to the caller; detach the survivors so that later calls
     * on them are harmless no-ops instead of touching freed memory. */
    for (plume_timer_t *t = l->timers; t; t = t->next) {
        t->loop = NULL;
        t->heap_index = NOT_IN_HEAP;
    }
    close(l->epfd);
    close(l->wakefd);
    free(l->w);
    free(l->heap);
    free(l);
}

/* ---- fd watchers ---- */

/* Grows the watcher array so that index fd exists. */
static int watchers_reserve(plume_loop_t *l, int fd)
{
    size_t need = (size_t)fd + 1;
    if (need <= l->nw)
        return 0;
    size_t n = l->nw ? l->nw : 64;
    while (n < need)
        n *= 2;
    watcher_t *w = realloc(l->w, n * sizeof(*w));
    if (!w)
        return -ENOMEM;
    memset(w + l->nw, 0, (n - l->nw) * sizeof(*w));
    l->w = w;
    l->nw = n;
    return 0;
}

/* Brings the kernel's epoll registration of fd in line with `events`.
 * *in_epoll is the current state on entry and the new one on success. */
static int epoll_sync(plume_loop_t *l, int fd, uint32_t gen, unsigned events, bool *in_epoll)
{
    if (events == 0) {
        if (*in_epoll)
            (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
        *in_epoll = false;
        return 0;
    }
    struct epoll_event ev = {0};
    ev.events = ((events & PLUME_EV_READ) ? EPOLLIN : 0u) | ((events & PLUME_EV_WRITE) ? EPOLLOUT : 0u);
    ev.data.u64 = ((uint64_t)gen << 32) | (uint32_t)fd;
    int op = *in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    int rc = epoll_ctl(l->epfd, op, fd, &ev);
    /* The fd may have been closed and its number reused behind our back (the
     * kernel then forgot the old registration), or be registered already. */
    if (rc != 0 && op == EPOLL_CTL_MOD && errno == ENOENT)
        rc = epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
    else if (rc != 0 && op == EPOLL_CTL_ADD && errno == EEXIST)
        rc = epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
    if (rc != 0)
        return -errno;
    *in_epoll = true;
    return 0;
}

int plume_loop_watch(plume_loop_t *l, int fd, unsigned events, plume_fd_cb cb, void *arg)
{
    if (fd < 0)
        return -EBADF;
    if ((events & ~(unsigned)(PLUME_EV_READ | PLUME_EV_WRITE)) || !cb)
        return -EINVAL;
    if (fd == l->epfd || fd == l->wakefd)
        return -EINVAL;
    int rc = watchers_reserve(l, fd);
    if (rc)
        return rc;
    watcher_t *w = &l->w[fd];
    uint32_t gen = w->gen;
    if (gen == 0) {
        gen = l->next_gen++;
        if (l->next_gen == 0)
            l->next_gen = 1;
    }
    bool in_epoll = w->in_epoll;
    rc = epoll_sync(l, fd, gen, events, &in_epoll);
    if (rc)
        return rc;
    w->cb = cb;
    w->arg = arg;
    w->events = events;
    w->gen = gen;
    w->in_epoll = in_epoll;
    return 0;
}

int plume_loop_unwatch(plume_loop_t *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->nw || l->w[fd].gen == 0)
        return -ENOENT;
    /* Errors are ignored: a closed fd has already left the epoll set. */
    if (l->w[fd].in_epoll)
        (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    memset(&l->w[fd], 0, sizeof(l->w[fd]));
    return 0;
}

/* ---- timer heap ---- */

static bool timer_before(const plume_timer_t *a, const plume_timer_t *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void heap_set(plume_loop_t *l, size_t i, plume_timer_t *t)
{
    l->heap[i] = t;
    t->heap_index = i;
}

static void heap_up(plume_loop_t *l, size_t i)
{
    plume_timer_t *t = l->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_before(t, l->heap[parent]))
            break;
        heap_set(l, i, l->heap[parent]);
        i = parent;
    }
    heap_set(l, i, t);
}

static void heap_down(plume_loop_t *l, size_t i)
{
    plume_timer_t *t = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->heap_len)
            break;
        if (c + 1 < l->heap_len && timer_before(l->heap[c + 1], l->heap[c]))
            c++;
        if (!timer_before(l->heap[c], t))
            break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, t);
}

/* Removes t (which must be in the heap) and restores the heap order. */
static void heap_remove(plume_loop_t *l, plume_timer_t *t)
{
    size_t i = t->heap_index;
    plume_timer_t *last = l->heap[--l->heap_len];
    t->heap_index = NOT_IN_HEAP;
    if (last == t)
        return;
    heap_set(l, i, last);
    if (i > 0 && timer_before(last, l->heap[(i - 1) / 2]))
        heap_up(l, i);
    else
        heap_down(l, i);
}

plume_timer_t *plume_timer_new(plume_loop_t *l, plume_timer_cb cb, void *arg)
{
    if (!l || !cb)
        return NULL;
    if (l->ntimers + 1 > l->heap_cap) {
        size_t cap = l->heap_cap ? l->heap_cap * 2 : 16;
        plume_timer_t **h = realloc(l->heap, cap * sizeof(*h));
        if (!h)
            return NULL;
        l->heap = h;
        l->heap_cap = cap;
    }
    plume_timer_t *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->loop = l;
    t->cb = cb;
    t->arg = arg;
    t->heap_index = NOT_IN_HEAP;
    t->next = l->timers;
    if (l->timers)
        l->timers->prev = t;
    l->timers = t;
    l->ntimers++;
    return t;
}

void plume_timer_start(plume_timer_t *t, uint64_t delay_ms)
{
    plume_loop_t *l = t->loop;
    if (!l)
        return;
    if (t->heap_index != NOT_IN_HEAP)
        heap_remove(l, t);
    /* A fresh clock, not the cached one: a timer armed long after the last
     * iteration must not fire early. */
    uint64_t now = plume_mono_ms();
    t->deadline = delay_ms > UINT64_MAX - now ? UINT64_MAX : now + delay_ms;
    t->seq = l->next_seq++;
    l->heap[l->heap_len++] = t; /* capacity covers all timers */
    heap_up(l, l->heap_len - 1);
}

void plume_timer_stop(plume_timer_t *t)
{
    if (t->loop && t->heap_index != NOT_IN_HEAP)
        heap_remove(t->loop, t);
}

bool plume_timer_active(const plume_timer_t *t)
{
    return t->heap_index != NOT_IN_HEAP;
}

void plume_timer_free(plume_timer_t *t)
{
    if (!t)
        return;
    plume_loop_t *l = t->loop;
    if (l) {
        plume_timer_stop(t);
        if (t->prev)
            t->prev->next = t->next;
        else
            l->timers = t->next;
        if (t->next)
            t->next->prev = t->prev;
        l->ntimers--;
    }
    free(t);
}

/* ---- running ---- */

/* epoll_wait timeout: the caller's limit, shortened to the next timer. */
static int wait_timeout(plume_loop_t *l, int max_wait_ms)
{
    int timeout = max_wait_ms < 0 ? -1 : max_wait_ms;
    if (l->heap_len > 0) {
        uint64_t dl = l->heap[0]->deadline;
        uint64_t d = dl <= l->now_ms ? 0 : dl - l->now_ms;
        if (d > INT_MAX)
            d = INT_MAX;
        if (timeout < 0 || (uint64_t)timeout > d)
            timeout = (int)d;
    }
    return timeout;
}

/* Delivers one epoll event to its watcher unless the registration it belongs
 * to is gone. Returns 1 if a callback ran. */
static int dispatch_fd(plume_loop_t *l, const struct epoll_event *ev)
{
    int fd = (int)(uint32_t)ev->data.u64;
    uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
    if ((size_t)fd >= l->nw || l->w[fd].gen != gen)
        return 0;
    const watcher_t *w = &l->w[fd];
    unsigned got = 0;
    if (ev->events & EPOLLIN)
        got |= PLUME_EV_READ;
    if (ev->events & EPOLLOUT)
        got |= PLUME_EV_WRITE;
    if (ev->events & (EPOLLERR | EPOLLHUP))
        got |= w->events; /* the next read/write reports what happened */
    if (ev->events & EPOLLERR)
        got |= PLUME_EV_ERROR;
    got &= w->events | PLUME_EV_ERROR; /* events may have changed meanwhile */
    if ((got & (PLUME_EV_READ | PLUME_EV_WRITE)) == 0)
        return 0;
    w->cb(l, fd, got, w->arg);
    return 1;
}

int plume_loop_run_once(plume_loop_t *l, int max_wait_ms)
{
    l->now_ms = plume_mono_ms();
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(l->epfd, evs, MAX_EVENTS, wait_timeout(l, max_wait_ms));
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    l->now_ms = plume_mono_ms();
    /* Timers armed from here on wait for the next iteration. */
    uint64_t seq_limit = l->next_seq;
    int ran = 0;
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u64 == WAKE_TOKEN) {
            uint64_t v;
            ssize_t r = read(l->wakefd, &v, sizeof(v));
            (void)r; /* EAGAIN: already drained */
            continue;
        }
        ran += dispatch_fd(l, &evs[i]);
    }
    while (l->heap_len > 0) {
        plume_timer_t *t = l->heap[0];
        if (t->deadline > l->now_ms || t->seq >= seq_limit)
            break;
        heap_remove(l, t);
        t->cb(l, t, t->arg); /* may free t */
        ran++;
    }
    return ran;
}

uint64_t plume_loop_now_ms(plume_loop_t *l)
{
    return l->now_ms;
}

void plume_loop_wake(plume_loop_t *l)
{
    uint64_t one = 1;
    ssize_t r = write(l->wakefd, &one, sizeof(one));
    (void)r; /* EAGAIN: the counter is saturated, a wake-up is pending anyway */
}
