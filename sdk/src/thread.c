/* SPDX-License-Identifier: MIT */
/* Per-thread state, the lock-free registry, thread exit and fork. See
 * thread.h. */
#include "thread.h"

#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Atomic(plume_thread_t *) registry;
static pthread_key_t exit_key;
static bool have_key; /* exit_key was created (set once, under key_once) */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
__thread plume_thread_t *plume_thread_self_ __attribute__((tls_model("initial-exec")));
/* The fast path's per-thread state (plume_hot.h): the producer side of the
 * thread's ring lives here while the thread runs (prod.data NULL without
 * one), and the scope overlay's state (overlay.c). Aligned so that what the
 * fast path reads is one cache line. */
PLUME_API __thread struct plume_hot_thread_ plume_hot1_thread_
    __attribute__((tls_model("initial-exec"), aligned(64)));
_Static_assert(offsetof(struct plume_hot_thread_, prod.busy) + sizeof(int) <= 64,
               "the fast path's TLS fields fit one cache line");
static __thread bool exiting; /* the key destructor ran: do not attach again */
static _Atomic bool altstacks_on;
/* The alternate stack of ours this thread runs its signals on (mapping
 * base, guard page included), owned by its state once it attached. */
static __thread void *my_altstack;
static __thread size_t my_altstack_size;

void plume_thread_altstacks_enable(bool on) { atomic_store(&altstacks_on, on); }

bool plume_thread_altstack_ensure(void)
{
    if (my_altstack)
        return true;
    stack_t cur;
    if (sigaltstack(NULL, &cur) != 0)
        return false;
    if (!(cur.ss_flags & SS_DISABLE))
        return true; /* the host's (or a sanitizer's): never replaced */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = page + ((PLUME_ALTSTACK_SIZE + page - 1) & ~(page - 1));
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                   -1, 0);
    if (m == MAP_FAILED)
        return false;
    /* the guard page at the low end: an overflow of the handler faults */
    if (mprotect(m, page, PROT_NONE) != 0) {
        munmap(m, size);
        return false;
    }
    stack_t ss = {.ss_sp = (char *)m + page, .ss_size = size - page, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(m, size);
        return false;
    }
    my_altstack = m;
    my_altstack_size = size;
    return true;
}

/* The calling thread stops using its alternate stack of ours (when it is
 * not running on it) and forgets it; the owner unmaps it later. */
static void altstack_disable(void)
{
    if (!my_altstack)
        return;
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_ONSTACK) &&
        (char *)cur.ss_sp == (char *)my_altstack + (size_t)sysconf(_SC_PAGESIZE)) {
        stack_t off = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
        sigaltstack(&off, NULL);
    }
    my_altstack = NULL;
    my_altstack_size = 0;
}

/* Thread exit: the consumer frees the state once its ring is drained. */
static void on_thread_exit(void *arg)
{
    plume_thread_t *t = arg;
    plume_thread_self_ = NULL;
    /* the producer side back into the ring before this TLS goes away: the
     * consumer reads its unreported drops once it sees `exited` */
    plume_ring_move_producer(t->ring, plume_ring_own_producer(t->ring));
    memset(&plume_hot1_thread_.prod, 0, sizeof(plume_hot1_thread_.prod));
    exiting = true;
    if (t->altstack == my_altstack)
        altstack_disable(); /* the consumer unmaps it with the state */
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
    if (atomic_load(&altstacks_on) && plume_thread_altstack_ensure() && my_altstack) {
        t->altstack = my_altstack; /* the state owns it from now on */
        t->altstack_size = my_altstack_size;
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
    plume_ring_move_producer(t->ring, &plume_hot1_thread_.prod);
    plume_thread_self_ = t;
    return t;
}

plume_thread_t *plume_thread_attach(size_t ring_size, size_t max_record)
{
    if (plume_thread_self_)
        return plume_thread_self_;
    return exiting ? NULL : attach(ring_size, max_record);
}

plume_thread_t *plume_thread_first(void)
{
    return atomic_load_explicit(&registry, memory_order_acquire);
}

static void free_state(plume_thread_t *t)
{
    if (t->altstack)
        munmap(t->altstack, t->altstack_size);
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
        if (t->altstack && t->altstack == my_altstack)
            t->altstack = NULL; /* this thread still runs its signals on it: it stays
                                 * (my_altstack), for this thread's next state */
        free_state(t);
        t = next;
    }
    plume_thread_self_ = NULL;
    memset(&plume_hot1_thread_.prod, 0, sizeof(plume_hot1_thread_.prod));
    if (have_key)
        pthread_setspecific(exit_key, NULL);
}
