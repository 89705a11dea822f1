/* SPDX-License-Identifier: MIT */
/* Time from a crash signal to its report being on disk.
 *
 *   bench_crash [runs] [data_dir]     (default 200 runs, a temp dir)
 *
 * Each run forks a child that starts libplume with the crash handler (the
 * same libplume.so a service links), logs a breadcrumb and a scope tag so
 * the report has its usual parts, flushes, then records CLOCK_MONOTONIC in a
 * MAP_SHARED page and writes through a null pointer. The parent watches
 * data_dir/crash with inotify for IN_MOVED_TO (the handler's final rename),
 * takes CLOCK_MONOTONIC when the event arrives and reaps the child (which
 * must have died of SIGSEGV). The time between the two stamps covers the
 * signal delivery, the handler (unwind, encode, write, fsync, rename) and
 * the inotify wake-up. Prints p50/p99/max in microseconds; the target is
 * p50 <= 5 ms. */
#include <plume/plume.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int *volatile null_ptr;

__attribute__((noinline)) static void crash_now(volatile uint64_t *stamp)
{
    *stamp = mono_ns();
    *null_ptr = 1;
}

static void child(const char *data_dir, volatile uint64_t *stamp)
{
    plume_options_t *o = plume_options_new();
    plume_options_set_data_dir(o, data_dir);
    plume_options_set_crash_handler(o, 1);
    plume_options_set_release(o, "bench@1");
    if (plume_init(o) != PLUME_OK)
        _exit(2);
    plume_set_tag("bench", "crash");
    PLUME_BREADCRUMB("bench", "before the crash", plume_i64("n", 1));
    plume_flush(2000);
    crash_now(stamp);
    _exit(3);
}

/* Removes the reports of earlier runs, so each child starts with none to
 * deliver. */
static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[8192];
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 200;
    char tmpl[] = "/tmp/plume-bench-crash-XXXXXX";
    const char *data_dir = argc > 2 ? argv[2] : mkdtemp(tmpl);
    if (runs < 1 || !data_dir) {
        fprintf(stderr, "usage: %s [runs] [data_dir]\n", argv[0]);
        return 2;
    }
    char crash_dir[4096];
    snprintf(crash_dir, sizeof(crash_dir), "%s/crash", data_dir);
    mkdir(data_dir, 0700);
    mkdir(crash_dir, 0700);
    volatile uint64_t *stamp = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                                    -1, 0);
    int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (stamp == MAP_FAILED || in < 0 || inotify_add_watch(in, crash_dir, IN_MOVED_TO) < 0) {
        perror("setup");
        return 1;
    }
    uint64_t *lat = calloc((size_t)runs, sizeof(*lat));
    int got = 0, failed = 0;
    for (int i = 0; i < runs; i++) {
        *stamp = 0;
        pid_t pid = fork();
        if (pid == 0)
            child(data_dir, stamp);
        struct pollfd p = {.fd = in, .events = POLLIN};
        uint64_t seen = 0;
        if (poll(&p, 1, 10000) == 1) {
            seen = mono_ns();
            char buf[4096];
            while (read(in, buf, sizeof(buf)) > 0) {
            }
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (!seen || *stamp == 0 || !WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV) {
            failed++;
            continue;
        }
        lat[got++] = seen - *stamp;
        empty_dir(crash_dir);
    }
    if (!got) {
        fprintf(stderr, "bench_crash: no run produced a report (%d failed)\n", failed);
        return 1;
    }
    qsort(lat, (size_t)got, sizeof(*lat), cmp_u64);
    printf("bench_crash: signal -> report on disk, %d runs (%d failed): p50 %.1f us, p99 %.1f us, "
           "max %.1f us\n",
           got, failed, lat[got / 2] / 1e3, lat[(size_t)got * 99 / 100] / 1e3, lat[got - 1] / 1e3);
    if (argc <= 2) {
        char cmd[4200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", data_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_crash: could not remove %s\n", data_dir);
    }
    free(lat);
    return failed ? 1 : 0;
}
