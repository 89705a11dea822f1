/* SPDX-License-Identifier: MIT */
/* Stack capture with libunwind's local unwinder (see stack.h), plus the
 * crash path's fallback for a signal context libunwind cannot start from:
 * report the faulting pc, then restart the walk from the return address at
 * the top of the stack, after probing that the stack slot is readable.
 *
 * Caching: Debian's libunwind 1.6 is built without its per-thread cache, and
 * with UNW_CACHE_PER_THREAD set such a build uses the shared cache WITHOUT its
 * lock. UNW_CACHE_GLOBAL takes a mutex with every signal blocked around it,
 * so a thread holding it is never interrupted by a handler on itself, and a
 * handler on another thread only waits for a short critical section. That is
 * what libunwind documents as signal-safe for local unwinding, so it is the
 * policy set here. A cache miss during a walk calls dl_iterate_phdr (glibc's
 * loader lock is recursive, so a crash inside a dlopen on the same thread
 * does not deadlock); the warm-up fills the cache for the frames seen then.
 *
 * The readability probe: process_vm_readv() on our own pid copies memory or
 * fails with EFAULT without a signal. Where it is refused (seccomp), a
 * non-blocking pipe made at warm-up is used instead: write(2) of the bytes
 * fails with EFAULT when they are not mapped. Both are plain syscalls, usable
 * in a signal handler. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "stack.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include "modules.h"

/* Frames the warm-up walks (its own stack is short; this bounds a corrupt one). */
#define WARM_FRAMES 256

/* Probe states: set up once (warm-up, or lazily on first use). */
enum { PROBE_UNSET, PROBE_BUSY, PROBE_VM_READV, PROBE_PIPE, PROBE_NONE };
static atomic_int g_probe = PROBE_UNSET;
static int g_probe_pipe[2] = {-1, -1}; /* written before g_probe becomes PROBE_PIPE */

static pthread_once_t g_warm_once = PTHREAD_ONCE_INIT;
static int g_warm_result = -1;

/* Reads n bytes at addr with process_vm_readv on this process. */
static bool vm_read(uintptr_t addr, void *out, size_t n)
{
    struct iovec local = {.iov_base = out, .iov_len = n};
    struct iovec remote = {.iov_base = (void *)addr, .iov_len = n};
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)n;
}

/* Empties the probe pipe (bounded: it never holds more than its capacity). */
static void pipe_drain(void)
{
    char scratch[256];
    for (int i = 0; i < 512; i++)
        if (read(g_probe_pipe[0], scratch, sizeof(scratch)) <= 0)
            return;
}

/* Copies n bytes from addr once the probe said they are mapped. Not
 * instrumented: the bytes are outside anything the sanitizers track for us
 * (another frame's stack slot, code). */
__attribute__((no_sanitize("address", "thread"))) static void raw_copy(uintptr_t addr, void *out,
                                                                        size_t n)
{
    const volatile uint8_t *src = (const volatile uint8_t *)addr;
    uint8_t *dst = out;
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

/* Reads n bytes at addr with the pipe probe: write(2) them into the pipe
 * (EFAULT when unmapped), drain it, then copy them. Concurrent probes may
 * drain each other's bytes; only write's result matters. */
static bool pipe_read(uintptr_t addr, void *out, size_t n)
{
    ssize_t w = write(g_probe_pipe[1], (const void *)addr, n);
    if (w < 0 && errno == EAGAIN) { /* full of leftovers: empty it and retry once */
        pipe_drain();
        w = write(g_probe_pipe[1], (const void *)addr, n);
    }
    pipe_drain();
    if (w != (ssize_t)n)
        return false;
    raw_copy(addr, out, n);
    return true;
}

/* Async-signal-safe, idempotent: chooses the probe. process_vm_readv is
 * tried on a local variable; if it is refused, a non-blocking pipe is made.
 * A caller that finds another thread in the middle of this returns without
 * waiting (its reads then fail, which only costs frames). */
static void probe_init(void)
{
    int expect = PROBE_UNSET;
    if (!atomic_compare_exchange_strong_explicit(&g_probe, &expect, PROBE_BUSY,
                                                 memory_order_acq_rel, memory_order_acquire))
        return;
    int saved = errno;
    volatile uint64_t canary = 0x706c756d65u;
    uint64_t got = 0;
    int kind = PROBE_NONE;
    if (vm_read((uintptr_t)&canary, &got, sizeof(got)) && got == canary)
        kind = PROBE_VM_READV;
    else if (pipe2(g_probe_pipe, O_CLOEXEC | O_NONBLOCK) == 0)
        kind = PROBE_PIPE;
    errno = saved;
    atomic_store_explicit(&g_probe, kind, memory_order_release);
}

/* Async-signal-safe: copies n bytes at addr into out when they are mapped and
 * readable; false otherwise (or when no probe could be set up). */
static bool safe_read(uintptr_t addr, void *out, size_t n)
{
    if (addr == 0 || addr > UINTPTR_MAX - n)
        return false;
    int kind = atomic_load_explicit(&g_probe, memory_order_acquire);
    if (kind == PROBE_UNSET) {
        probe_init();
        kind = atomic_load_explicit(&g_probe, memory_order_acquire);
    }
    if (kind == PROBE_VM_READV)
        return vm_read(addr, out, n);
    if (kind == PROBE_PIPE)
        return pipe_read(addr, out, n);
    return false;
}

/* One walk's output and its loop detector (Brent's: the pair saved at
 * power-of-two steps is compared with every later one, which finds a cycle
 * of any length within a few times its length). */
typedef struct walk {
    uintptr_t *ips;
    size_t n, max;
    uintptr_t saved_ip, saved_sp;
    bool have_saved;
    size_t power, lam;
} walk_t;

static void walk_init(walk_t *w, uintptr_t *ips, size_t max)
{
    *w = (walk_t){.ips = ips, .max = max, .power = 1};
}

/* Notes a frame for loop detection. Returns false when (ip, sp) was seen
 * before, i.e. the stack loops and the walk must stop. */
static bool walk_fresh(walk_t *w, uintptr_t ip, uintptr_t sp)
{
    if (w->have_saved && ip == w->saved_ip && sp == w->saved_sp)
        return false;
    if (++w->lam == w->power) {
        w->saved_ip = ip;
        w->saved_sp = sp;
        w->have_saved = true;
        w->power *= 2;
        w->lam = 0;
    }
    return true;
}

/* Walks from the cursor's current frame: records each frame's IP after
 * dropping `skip` of them, until max, the end of the stack, an IP of 0 or a
 * repeated (ip, sp). Returns unw_step's result for the first step taken (1
 * when it stepped, <= 0 when it could not), or 1 when no step was needed. */
static int walk_cursor(walk_t *w, unw_cursor_t *c, size_t skip)
{
    int first_step = 1;
    bool stepped = false;
    /* Every iteration either records a frame or uses up one of `skip`; a
     * corrupt stack is cut by the loop check or, at worst, by this bound. */
    for (size_t guard = 0; guard <= skip + w->max; guard++) {
        unw_word_t ip = 0, sp = 0;
        if (unw_get_reg(c, UNW_REG_IP, &ip) < 0 || unw_get_reg(c, UNW_REG_SP, &sp) < 0 || ip == 0)
            break;
        if (!walk_fresh(w, (uintptr_t)ip, (uintptr_t)sp))
            break;
        if (skip > 0)
            skip--;
        else
            w->ips[w->n++] = (uintptr_t)ip;
        if (w->n >= w->max)
            break;
        int r = unw_step(c);
        if (!stepped) {
            first_step = r;
            stepped = true;
        }
        if (r <= 0)
            break;
    }
    return first_step;
}

size_t plume_stack_capture(uintptr_t *ips, size_t max, size_t skip)
{
    if (ips == NULL || max == 0 || skip > SIZE_MAX - 1 - max)
        return 0;
    unw_context_t ctx;
    unw_cursor_t cur;
    if (unw_getcontext(&ctx) != 0 || unw_init_local(&cur, &ctx) != 0)
        return 0;
    walk_t w;
    walk_init(&w, ips, max);
    walk_cursor(&w, &cur, skip + 1); /* + 1: this function's own frame */
    /* Keeps this frame a real one (no tail call into the walk), so the
     * count of frames to drop above holds. */
    __asm__ volatile("" ::: "memory");
    return w.n;
}

#if defined(__x86_64__)
/* Whether `addr` looks like an address in code: inside a known module when
 * a module table was published, else at least readable. */
static bool looks_like_code(uintptr_t addr)
{
    const plume_modules_t *mods = plume_modules_current();
    if (mods->count > 0)
        return plume_modules_find(mods, addr) >= 0;
    uint8_t byte;
    return safe_read(addr, &byte, 1);
}

static uintptr_t ctx_pc(const ucontext_t *uc)
{
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
}

static uintptr_t ctx_sp(const ucontext_t *uc)
{
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
}

/* The fallback walk on x86-64: frame 0 is the pc; if the word at sp is
 * readable and looks like code, it is taken as the return address a call just
 * pushed, and libunwind continues from a copy of the context with the pc set
 * to it and sp past it (treated as a return address, not a signal frame). */
static size_t fallback_walk(const ucontext_t *uc, walk_t *w)
{
    uintptr_t pc = ctx_pc(uc), sp = ctx_sp(uc);
    w->n = 0;
    w->ips[w->n++] = pc;
    walk_fresh(w, pc, sp);
    uintptr_t ret = 0;
    if (w->n >= w->max || sp > UINTPTR_MAX - 8 || !safe_read(sp, &ret, sizeof(ret)) || ret == 0 ||
        !looks_like_code(ret))
        return w->n;
    ucontext_t copy = *uc;
    copy.uc_mcontext.gregs[REG_RIP] = (greg_t)ret;
    copy.uc_mcontext.gregs[REG_RSP] = (greg_t)(sp + 8);
    unw_cursor_t c;
    if (unw_init_local2(&c, (unw_context_t *)&copy, 0) < 0) {
        w->ips[w->n++] = ret;
        return w->n;
    }
    walk_cursor(w, &c, 0);
    return w->n;
}
#endif

size_t plume_stack_capture_context_fallback(void *ucontext, uintptr_t *ips, size_t max)
{
    if (ucontext == NULL || ips == NULL || max == 0)
        return 0;
#if defined(__x86_64__)
    int saved = errno;
    walk_t w;
    walk_init(&w, ips, max);
    size_t n = fallback_walk(ucontext, &w);
    errno = saved;
    return n;
#else
    return 0; /* no register layout to work from here */
#endif
}

size_t plume_stack_capture_context(void *ucontext, uintptr_t *ips, size_t max)
{
    if (ucontext == NULL || ips == NULL || max == 0)
        return 0;
    int saved = errno;
    ucontext_t *uc = ucontext;
    walk_t w;
    walk_init(&w, ips, max);
    unw_cursor_t c;
#if defined(__x86_64__)
    uint8_t byte;
    if (!safe_read(ctx_pc(uc), &byte, 1) ||
        unw_init_local2(&c, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) < 0) {
        fallback_walk(uc, &w);
    } else if (walk_cursor(&w, &c, 0) <= 0 && w.n <= 1 && max > 1) {
        walk_init(&w, ips, max); /* libunwind failed on the first step */
        fallback_walk(uc, &w);
    }
#else
    if (unw_init_local2(&c, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) == 0)
        walk_cursor(&w, &c, 0);
#endif
    errno = saved;
    return w.n;
}

/* Once per process: the probe, the caching policy and one full walk. */
static void warm_once(void)
{
    probe_init();
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_GLOBAL);
    uintptr_t ips[WARM_FRAMES];
    g_warm_result = plume_stack_capture(ips, WARM_FRAMES, 0) > 0 ? 0 : -1;
}

int plume_stack_warmup(void)
{
    pthread_once(&g_warm_once, warm_once);
    return g_warm_result;
}
