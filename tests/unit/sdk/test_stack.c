/* SPDX-License-Identifier: MIT */
/* Stack capture (sdk/src/stack.c). The frames are checked by name: this
 * binary is linked with -rdynamic, so dladdr() names its non-static
 * functions (return addresses are looked up at ip - 1, inside the call). Cases:
 * a noinline chain a -> b -> c seen as c, b, a with skip and max honoured;
 * 2000-deep recursion cut at max and walked whole; a signal handler's
 * context naming the function the thread was interrupted in; a forked child
 * that calls a NULL function pointer and reports, from its SIGSEGV handler on
 * an alternate stack, the faulting pc 0 then its caller (the fallback path);
 * a child that faults on a bad store (the libunwind path); hand-made
 * contexts for the fallback (bad pc with a return address, an unmapped sp, a
 * top-of-stack word in no module) and for frame-pointer chains that loop.
 * Waits are on pipes and flags, never on a fixed sleep. */
#include "test_support.h"
#include <cmocka.h>

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "modules.h"
#include "stack.h"

/* Frames that must stay frames: never inlined, cloned or tail-called (each
 * caller does something after the call: the empty asm). */
#if defined(__clang__)
#define TEST_NOINLINE __attribute__((noinline, used))
#else
#define TEST_NOINLINE __attribute__((noinline, noipa, used))
#endif
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

/* The symbol dladdr() gives for a return address (ip - 1: inside the call)
 * or, with exact, for the address itself; "" when it has none. */
static const char *name_of(uintptr_t ip, bool exact)
{
    Dl_info info;
    if (ip == 0 || !dladdr((void *)(exact ? ip : ip - 1), &info) || info.dli_sname == NULL)
        return "";
    return info.dli_sname;
}

/* ---- a -> b -> c ---- */

size_t plume_test_stack_c(uintptr_t *ips, size_t max, size_t skip);
size_t plume_test_stack_b(uintptr_t *ips, size_t max, size_t skip);
size_t plume_test_stack_a(uintptr_t *ips, size_t max, size_t skip);

TEST_NOINLINE size_t plume_test_stack_c(uintptr_t *ips, size_t max, size_t skip)
{
    size_t n = plume_stack_capture(ips, max, skip);
    KEEP_FRAME();
    return n;
}

TEST_NOINLINE size_t plume_test_stack_b(uintptr_t *ips, size_t max, size_t skip)
{
    size_t n = plume_test_stack_c(ips, max, skip);
    KEEP_FRAME();
    return n;
}

TEST_NOINLINE size_t plume_test_stack_a(uintptr_t *ips, size_t max, size_t skip)
{
    size_t n = plume_test_stack_b(ips, max, skip);
    KEEP_FRAME();
    return n;
}

static void warmup_succeeds(void **state)
{
    (void)state;
    assert_int_equal(plume_stack_warmup(), 0);
    assert_int_equal(plume_stack_warmup(), 0); /* idempotent */
}

static void chain_in_order(void **state)
{
    (void)state;
    uintptr_t ips[64];
    size_t n = plume_test_stack_a(ips, 64, 0);
    assert_true(n >= 4); /* c, b, a, this test, ... */
    assert_string_equal(name_of(ips[0], false), "plume_test_stack_c");
    assert_string_equal(name_of(ips[1], false), "plume_test_stack_b");
    assert_string_equal(name_of(ips[2], false), "plume_test_stack_a");
    for (size_t i = 0; i < n; i++)
        assert_true(ips[i] != 0);

    /* skip drops the caller's own innermost frames: the same return
     * addresses, shifted. */
    uintptr_t sk[64];
    size_t m = plume_test_stack_a(sk, 64, 1);
    assert_int_equal(m, n - 1);
    assert_string_equal(name_of(sk[0], false), "plume_test_stack_b");
    assert_true(sk[0] == ips[1] && sk[1] == ips[2]);
    m = plume_test_stack_a(sk, 64, 2);
    assert_int_equal(m, n - 2);
    assert_string_equal(name_of(sk[0], false), "plume_test_stack_a");
    assert_int_equal(plume_test_stack_a(sk, 64, n + 5), 0); /* skipped it all */
}

static void max_honoured(void **state)
{
    (void)state;
    uintptr_t ips[8];
    memset(ips, 0xAB, sizeof(ips));
    assert_int_equal(plume_test_stack_a(ips, 2, 0), 2);
    assert_string_equal(name_of(ips[0], false), "plume_test_stack_c");
    assert_string_equal(name_of(ips[1], false), "plume_test_stack_b");
    for (size_t i = 2; i < 8; i++)
        assert_true(ips[i] == (uintptr_t)0xABABABABABABABABull); /* untouched */
    assert_int_equal(plume_test_stack_a(ips, 1, 0), 1);
    assert_string_equal(name_of(ips[0], false), "plume_test_stack_c");
    assert_int_equal(plume_test_stack_a(ips, 0, 0), 0);
    assert_int_equal(plume_stack_capture(NULL, 8, 0), 0);
    assert_int_equal(plume_stack_capture_context(NULL, ips, 8), 0);
    ucontext_t uc;
    memset(&uc, 0, sizeof(uc));
    assert_int_equal(plume_stack_capture_context(&uc, NULL, 8), 0);
    assert_int_equal(plume_stack_capture_context(&uc, ips, 0), 0);
}

/* ---- deep recursion ---- */

size_t plume_test_stack_recurse(int depth, uintptr_t *ips, size_t max);

TEST_NOINLINE size_t plume_test_stack_recurse(int depth, uintptr_t *ips, size_t max)
{
    size_t n = depth == 0 ? plume_stack_capture(ips, max, 0)
                          : plume_test_stack_recurse(depth - 1, ips, max);
    KEEP_FRAME();
    return n;
}

static void deep_recursion(void **state)
{
    (void)state;
    enum { DEPTH = 2000, BIG = 4096 };
    uintptr_t *ips = calloc(BIG, sizeof(*ips));
    assert_non_null(ips);
    assert_int_equal(plume_test_stack_recurse(DEPTH, ips, 64), 64);
    for (size_t i = 0; i < 64; i++)
        assert_string_equal(name_of(ips[i], false), "plume_test_stack_recurse");

    /* Room for all of it: every recursion frame, then the frames below. */
    size_t n = plume_test_stack_recurse(DEPTH, ips, BIG);
    assert_true(n > DEPTH + 1 && n < BIG);
    for (size_t i = 0; i <= DEPTH; i++)
        assert_string_equal(name_of(ips[i], false), "plume_test_stack_recurse");
    assert_string_not_equal(name_of(ips[DEPTH + 1], false), "plume_test_stack_recurse");
    free(ips);
}

/* ---- a signal interrupting a known function ---- */

static volatile sig_atomic_t g_handled;
static atomic_int g_spinning;
static uintptr_t g_sig_ips[64];
static size_t g_sig_n;

static void usr1_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    g_sig_n = plume_stack_capture_context(uc, g_sig_ips, 64);
    g_handled = 1;
}

int plume_test_stack_spin(void);

/* Spins until the handler has run: the signal lands in this loop, or in
 * the mutex call it makes now and then (then this is frame 1). That call
 * also lets ThreadSanitizer, which defers asynchronous signals to the end of
 * its next interceptor, deliver the signal at all. */
TEST_NOINLINE int plume_test_stack_spin(void)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    atomic_store(&g_spinning, 1);
    unsigned long laps = 0;
    while (!g_handled)
        if ((++laps & 1023) == 0 && pthread_mutex_trylock(&mu) == 0)
            pthread_mutex_unlock(&mu);
    KEEP_FRAME();
    return (int)(laps & 1);
}

static void *send_usr1(void *arg)
{
    pthread_t target = *(pthread_t *)arg;
    while (!atomic_load(&g_spinning))
        sched_yield();
    pthread_kill(target, SIGUSR1);
    return NULL;
}

static void signal_context_names_function(void **state)
{
    (void)state;
    /* ThreadSanitizer runs an asynchronous signal's handler later, at its
     * next interceptor, with the context saved when the signal came: by then
     * the stack under that context has been reused, so it cannot be walked. */
    const char *san = getenv("PLUME_SANITIZER");
    if (san && strcmp(san, "tsan") == 0)
        skip();
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = usr1_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    g_handled = 0;
    atomic_store(&g_spinning, 0);
    pthread_t self = pthread_self(), th;
    assert_int_equal(pthread_create(&th, NULL, send_usr1, &self), 0);
    plume_test_stack_spin();
    pthread_join(th, NULL);
    sigaction(SIGUSR1, &old, NULL);

    assert_true(g_sig_n >= 2);
    /* Frame 0 is the interrupted instruction itself (exact lookup). */
    bool found = strcmp(name_of(g_sig_ips[0], true), "plume_test_stack_spin") == 0 ||
                 strcmp(name_of(g_sig_ips[1], false), "plume_test_stack_spin") == 0;
    assert_true(found);
}

/* ---- crashes in a forked child ---- */

static int g_report_fd = -1;

/* SIGSEGV handler of the children: captures from the context, writes the
 * count and the frames to the pipe, exits. */
static void segv_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    uintptr_t ips[64];
    size_t n = plume_stack_capture_context(uc, ips, 64);
    ssize_t w = write(g_report_fd, &n, sizeof(n));
    w += write(g_report_fd, ips, n * sizeof(ips[0]));
    _exit(w > 0 ? 0 : 3);
}

int plume_test_stack_call_null(void (*volatile *fp)(void));
int plume_test_stack_bad_store(volatile int *p);

TEST_NOINLINE int plume_test_stack_call_null(void (*volatile *fp)(void))
{
    (*fp)();
    KEEP_FRAME();
    return 1;
}

TEST_NOINLINE int plume_test_stack_bad_store(volatile int *p)
{
    *p = 1;
    KEEP_FRAME();
    return 1;
}

/* Runs `crash` in a child with the SIGSEGV handler on an alternate stack;
 * returns the frames it reported (count in *n). */
static void crash_child(int which, uintptr_t *ips, size_t *n)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        g_report_fd = fds[1];
        static char altstack[64 * 1024];
        stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
        sigaltstack(&ss, NULL);
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = segv_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, NULL);
        static void (*volatile null_fn)(void);
        if (which == 0)
            plume_test_stack_call_null(&null_fn);
        else
            plume_test_stack_bad_store((volatile int *)(uintptr_t)64);
        _exit(2); /* did not crash */
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t r = read(fds[0], &got, sizeof(got));
    size_t k = 0;
    if (r == (ssize_t)sizeof(got) && got <= 64) {
        size_t want = got * sizeof(ips[0]), have = 0;
        while (have < want) {
            ssize_t m = read(fds[0], (char *)ips + have, want - have);
            if (m <= 0)
                break;
            have += (size_t)m;
        }
        k = have / sizeof(ips[0]);
    }
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    *n = k;
}

static void null_call_uses_fallback(void **state)
{
    (void)state;
    plume_modules_refresh(); /* the fallback checks return addresses against it */
    uintptr_t ips[64];
    size_t n = 0;
    crash_child(0, ips, &n);
    assert_true(n >= 3);
    assert_true(ips[0] == 0); /* the faulting pc, reported as it is */
    assert_string_equal(name_of(ips[1], false), "plume_test_stack_call_null");
    for (size_t i = 1; i < n; i++) /* the walk went on below the caller */
        assert_true(ips[i] != 0);
}

static void bad_store_unwinds(void **state)
{
    (void)state;
    uintptr_t ips[64];
    size_t n = 0;
    crash_child(1, ips, &n);
    assert_true(n >= 2);
    assert_string_equal(name_of(ips[0], true), "plume_test_stack_bad_store");
}

/* ---- the fallback on its own, and a looping stack ---- */

size_t plume_test_stack_fp_frame(uintptr_t *ret);

/* Returns (in *ret) a return address inside itself, where the CFA is
 * rbp + 16 (this function keeps a frame pointer). */
TEST_NOINLINE size_t plume_test_stack_fp_frame(uintptr_t *ret)
{
    size_t n = plume_stack_capture(ret, 1, 0);
    KEEP_FRAME();
    return n;
}

static void fallback_from_return_address(void **state)
{
    (void)state;
    plume_modules_refresh();
    uintptr_t ips[16];
    assert_true(plume_test_stack_a(ips, 16, 0) >= 3);
    /* A context whose pc is a bad address and whose top of stack holds a
     * return address into plume_test_stack_b: the walk continues from it. */
    static uintptr_t fake_stack[64];
    ucontext_t uc;
    assert_int_equal(getcontext(&uc), 0);
    fake_stack[0] = ips[1]; /* return address into b */
    uc.uc_mcontext.gregs[REG_RIP] = 0x10;
    uc.uc_mcontext.gregs[REG_RSP] = (greg_t)(uintptr_t)&fake_stack[0];
    uintptr_t out[16];
    size_t n = plume_stack_capture_context_fallback(&uc, out, 16);
    assert_true(n >= 2);
    assert_true(out[0] == 0x10);
    assert_true(out[1] == ips[1]);
    assert_string_equal(name_of(out[1], false), "plume_test_stack_b");
    /* The same through the public entry: the pc is unreadable. */
    n = plume_stack_capture_context(&uc, out, 16);
    assert_true(n >= 2 && out[0] == 0x10 && out[1] == ips[1]);
    /* An unmapped stack pointer: only the pc. */
    uc.uc_mcontext.gregs[REG_RSP] = 0x20;
    assert_int_equal(plume_stack_capture_context(&uc, out, 16), 1);
    assert_true(out[0] == 0x10);
    /* A top-of-stack word that is in no module (a stack address): only the pc. */
    fake_stack[0] = (uintptr_t)&uc;
    uc.uc_mcontext.gregs[REG_RSP] = (greg_t)(uintptr_t)&fake_stack[0];
    assert_int_equal(plume_stack_capture_context(&uc, out, 16), 1);
    assert_int_equal(plume_stack_capture_context(&uc, out, 1), 1);
}

static void looping_stack_stops(void **state)
{
    (void)state;
    uintptr_t ret = 0;
    assert_int_equal(plume_test_stack_fp_frame(&ret), 1);
    assert_string_equal(name_of(ret, false), "plume_test_stack_fp_frame");
    /* Two frame records whose saved rbp point at each other, both with the
     * same return address: the walk alternates between two (ip, sp) pairs
     * forever (libunwind itself only stops a frame that repeats at once). */
    static uintptr_t fake[16];
    fake[4] = (uintptr_t)&fake[8]; /* saved rbp -> the other record */
    fake[5] = ret;                 /* return address */
    fake[8] = (uintptr_t)&fake[4];
    fake[9] = ret;
    ucontext_t uc;
    assert_int_equal(getcontext(&uc), 0);
    uc.uc_mcontext.gregs[REG_RIP] = (greg_t)ret;
    uc.uc_mcontext.gregs[REG_RSP] = (greg_t)(uintptr_t)&fake[0];
    uc.uc_mcontext.gregs[REG_RBP] = (greg_t)(uintptr_t)&fake[4];
    uintptr_t out[64];
    size_t n = plume_stack_capture_context(&uc, out, 64);
    assert_true(n >= 3 && n <= 8);
    for (size_t i = 0; i < n; i++)
        assert_true(out[i] == ret);

    /* The same record pointing at itself: stopped after a repeat too. */
    fake[4] = (uintptr_t)&fake[4];
    n = plume_stack_capture_context(&uc, out, 64);
    assert_true(n >= 1 && n <= 4);
    assert_true(out[0] == ret);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(warmup_succeeds),
        cmocka_unit_test(chain_in_order),
        cmocka_unit_test(max_honoured),
        cmocka_unit_test(deep_recursion),
        cmocka_unit_test(signal_context_names_function),
        cmocka_unit_test(null_call_uses_fallback),
        cmocka_unit_test(bad_store_unwinds),
        cmocka_unit_test(fallback_from_return_address),
        cmocka_unit_test(looping_stack_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
