/* SPDX-License-Identifier: MIT */
/* Per-thread state, the lock-free registry, thread exit and fork. See
 * thread.h. */
#include "thread.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Atomic(plume_thread_t *) registry;
static pthread_key_t exit_key;
static bool have_key; /* exit_key was created (set once, under key_once) */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static __thread plume_thread_t *self __attribute__((tls_model("initial-exec")));
static __thread bool exiting; /* the key destructor ran: do not attach again */

/* Thread exit: the consumer frees the state once its ring is drained. */
static void on_thread_exit(void *arg)
{
    plume_thread_t *t = arg;
    self = NULL;
    exiting = true;
    atomic_store_explicit(&t->exited, true, memory_order_release);
}

/* Without the key (no key left) exited threads' states simply stay. */
static void make_key(void) { have_key = pthread_key_create(&exit_key, on_thread_exit) == 0; }

static plume_thread_t *attach(size_t ring_size, size_t max_record)
{
    pthread_once(&key_once, make_key);
    plume_thread_t *t = aligned_alloc(64, (sizeof(*t) + 63) & ~(size_t)63);
    if (!t)
        return NULL;
    memset(t, 0, sizeof(*t));
    if (!(t->ring = plume_ring_new(ring_size, max_record))) {
        free(t);
        return NULL;
    }
    t->tid = (uint32_t)syscall(SYS_gettid);
    if (pthread_getname_np(pthread_self(), t->name, sizeof(t->name)) != 0)
        t->name[0] = '\0';
    if (have_key)
        pthread_setspecific(exit_key, t);
    plume_thread_t *head = atomic_load_explicit(&registry, memory_order_relaxed);
    do {
        t->next = head;
    } while (!atomic_compare_exchange_weak_explicit(&registry, &head, t, memory_order_release,
                                                    memory_order_relaxed));
    self = t;
    return t;
}

plume_thread_t *plume_thread_get(size_t ring_size, size_t max_record)
{
    plume_thread_t *t = self;
    if (__builtin_expect(t != NULL, 1))
        return t;
    return exiting ? NULL : attach(ring_size, max_record);
}

plume_thread_t *plume_thread_first(void)
{
    return atomic_load_explicit(&registry, memory_order_acquire);
}

static void free_state(plume_thread_t *t)
{
    plume_ring_free(t->ring);
    free(t);
}

void plume_thread_unlink(plume_thread_t *prev, plume_thread_t *t)
{
    if (!prev) {
        plume_thread_t *expect = t;
        if (atomic_compare_exchange_strong_explicit(&registry, &expect, t->next,
                                                    memory_order_acq_rel, memory_order_acquire)) {
            free_state(t);
            return;
        }
        /* A thread pushed itself in front meanwhile: find t behind it. */
        prev = atomic_load_explicit(&registry, memory_order_acquire);
        while (prev && prev->next != t)
            prev = prev->next;
        if (!prev)
            return; /* not in the registry: nothing to do */
    }
    prev->next = t->next;
    free_state(t);
}

void plume_thread_reset_after_fork(void)
{
    plume_thread_t *t = atomic_exchange_explicit(&registry, NULL, memory_order_acq_rel);
    while (t) {
        plume_thread_t *next = t->next;
        free_state(t);
        t = next;
    }
    self = NULL;
    if (have_key)
        pthread_setspecific(exit_key, NULL);
}
