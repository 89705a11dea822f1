/* SPDX-License-Identifier: MIT */
/* A program that crashes on demand, to try libplume's crash reporting:
 *
 *   plume-example-crash <mode>        crash one way (the report goes to
 *                                     $PLUME_DATA_DIR/crash/)
 *   plume-example-crash --deliver     start, send the reports a previous
 *                                     crash left, stop, print the counters
 *
 * Modes: segv (null pointer write), bus (read of a mapping past its file's
 * end), ill (undefined instruction), fpe (integer division by zero), abrt
 * (abort()), trap (breakpoint instruction), thread (segv on a second thread),
 * overflow (infinite recursion), two (two threads crash at once), malloc (a
 * second thread in a malloc/free loop while the main thread crashes), prev
 * (a SIGSEGV handler of the program's own, installed before plume_init,
 * writes the file $PLUME_CRASH_MARKER and re-raises: it must still run).
 *
 * Each crash happens in a function of its own (crash_segv, crash_bus, ...),
 * never inlined, so a crash report's frame can be checked against the
 * function that crashed. Configuration from the environment: PLUME_DATA_DIR,
 * AXIOM_URL / AXIOM_DATASET / AXIOM_TOKEN, SENTRY_DSN. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <plume/plume.h>

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* never inlined; and not instrumented by UBSan, which would report the
 * deliberate null write or division and exit instead of letting it fault */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define NOINLINE __attribute__((noinline, no_sanitize("undefined")))
#endif
#endif
#ifndef NOINLINE
#define NOINLINE __attribute__((noinline))
#endif

static int *volatile null_ptr;   /* volatile: the compiler cannot see it is NULL */
static volatile int zero;
static volatile int one = 1;
static volatile const char *bus_page;
static atomic_int ready;

NOINLINE void crash_segv(void)
{
    *null_ptr = 42;
    __asm__ volatile("" ::: "memory");
}

NOINLINE void crash_bus(void)
{
    volatile char c = bus_page[0];
    (void)c;
}

NOINLINE void crash_ill(void)
{
#if defined(__x86_64__)
    __asm__ volatile("ud2");
#elif defined(__aarch64__)
    __asm__ volatile(".inst 0x00000000");
#else
    __builtin_trap();
#endif
    __asm__ volatile("" ::: "memory");
}

NOINLINE int crash_fpe(void)
{
    return one / zero; /* both unknown: a real idiv */
}

NOINLINE void crash_abrt(void)
{
    abort();
}

NOINLINE void crash_trap(void)
{
#if defined(__x86_64__)
    __asm__ volatile("int3");
#elif defined(__aarch64__)
    __asm__ volatile("brk #0");
#else
    raise(SIGTRAP);
#endif
    zero = 1; /* something after the trap: its pc stays in this function */
}

static volatile int keep_going = 1;

NOINLINE int crash_overflow(int depth)
{
    volatile char pad[512];
    pad[0] = (char)depth;
    int r = keep_going ? crash_overflow(depth + 1) : 0; /* always true */
    return r + pad[0];
}

static void *thread_segv(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "crasher");
    PLUME_BREADCRUMB("thread", "about to crash");
    crash_segv();
    return NULL;
}

static pthread_barrier_t two_barrier;

static void *thread_two(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&two_barrier);
    crash_segv();
    return NULL;
}

static void *thread_malloc(void *arg)
{
    (void)arg;
    void *keep[64] = {0};
    for (unsigned long i = 0;; i++) {
        size_t k = i % 64;
        free(keep[k]);
        keep[k] = malloc(16 + (i * 37) % 4096);
        if (i == 10000)
            atomic_store(&ready, 1);
    }
    return NULL;
}

/* The program's own SIGSEGV handler (mode prev): leaves a marker, then lets
 * the signal kill the process. */
static void host_handler(int sig)
{
    const char *marker = getenv("PLUME_CRASH_MARKER");
    if (marker) {
        int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0) {
            ssize_t w = write(fd, "host handler ran\n", 17);
            (void)w;
            close(fd);
        }
    }
    signal(sig, SIG_DFL);
    raise(sig); /* pending until this handler returns; then the default */
}

static plume_status_t start(void)
{
    plume_options_t *o = plume_options_new();
    if (!o)
        return PLUME_ENOMEM;
    const char *env;
    if ((env = getenv("AXIOM_URL")) && *env)
        plume_options_set_axiom_url(o, env);
    plume_options_set_axiom_dataset(o, getenv("AXIOM_DATASET"));
    plume_options_set_axiom_token(o, getenv("AXIOM_TOKEN"));
    if ((env = getenv("SENTRY_DSN")) && *env)
        plume_options_set_sentry_dsn(o, env);
    plume_options_set_release(o, "example-crash@" PLUME_EXAMPLE_VERSION);
    plume_options_set_environment(o, "example");
    plume_options_set_crash_handler(o, 1);
    return plume_init(o);
}

static int deliver(void)
{
    plume_status_t rc = start();
    if (rc != PLUME_OK) {
        fprintf(stderr, "plume_init: %s\n", plume_strerror(rc));
        return 1;
    }
    plume_status_t f = plume_flush(20000);
    plume_status_t s = plume_shutdown(20000);
    plume_stats_t st;
    plume_stats(&st);
    printf("plume-example-crash: events=%" PRIu64 " delivered=%" PRIu64 " dropped_other=%" PRIu64
           " flush=%s shutdown=%s\n",
           st.events, st.delivered, st.dropped_other, f == PLUME_OK ? "success" : plume_strerror(f),
           s == PLUME_OK ? "success" : plume_strerror(s));
    return f == PLUME_OK && s == PLUME_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s segv|bus|ill|fpe|abrt|trap|thread|overflow|two|malloc|prev\n"
                        "       %s --deliver\n", argv[0], argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    if (strcmp(mode, "--deliver") == 0)
        return deliver();
    if (strcmp(mode, "prev") == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = host_handler;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, NULL);
    }
    if (strcmp(mode, "bus") == 0) {
        /* a one-page mapping of an empty file: reading it raises SIGBUS */
        int fd = memfd_create("plume-bus", MFD_CLOEXEC);
        void *p = fd >= 0 ? mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
        if (p == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        bus_page = p;
    }
    plume_status_t rc = start();
    if (rc != PLUME_OK) {
        fprintf(stderr, "plume_init: %s\n", plume_strerror(rc));
        return 1;
    }
    /* Some context for the report: scope, a thread overlay, breadcrumbs
     * (flushed, so the worker holds them when the crash comes). */
    plume_set_tag("mode", mode);
    plume_set_user("user-42", NULL, NULL);
    PLUME_BREADCRUMB("example", "starting", plume_str("mode", mode));
    PLUME_INFO("about to crash", plume_str("mode", mode));
    PLUME_SCOPE_PUSH(plume_str("request_id", "req-7"));
    plume_flush(5000);

    if (strcmp(mode, "segv") == 0 || strcmp(mode, "prev") == 0) {
        crash_segv();
    } else if (strcmp(mode, "bus") == 0) {
        crash_bus();
    } else if (strcmp(mode, "ill") == 0) {
        crash_ill();
    } else if (strcmp(mode, "fpe") == 0) {
        crash_fpe();
    } else if (strcmp(mode, "abrt") == 0) {
        crash_abrt();
    } else if (strcmp(mode, "trap") == 0) {
        crash_trap();
    } else if (strcmp(mode, "overflow") == 0) {
        crash_overflow(0);
    } else if (strcmp(mode, "thread") == 0) {
        pthread_t t;
        pthread_create(&t, NULL, thread_segv, NULL);
        pthread_join(t, NULL);
    } else if (strcmp(mode, "two") == 0) {
        pthread_t t[2];
        pthread_barrier_init(&two_barrier, NULL, 2);
        for (int i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, thread_two, NULL);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
    } else if (strcmp(mode, "malloc") == 0) {
        pthread_t t;
        pthread_create(&t, NULL, thread_malloc, NULL);
        while (!atomic_load(&ready))
            sched_yield();
        crash_segv();
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    fprintf(stderr, "plume-example-crash: %s did not crash\n", mode);
    return 3;
}
