/* SPDX-License-Identifier: MIT */
/* The crash handler: install, uninstall and the handler itself. See crash.h.
 *
 * Everything the handler touches lives in `cs` (static, prepared at install)
 * and in the report buffer (mmap'd and pre-touched at install, never freed).
 * The handler uses only async-signal-safe calls (open, write, fsync, close,
 * rename, sigaction, clock_gettime, nanosleep, getpid, syscall(gettid/tgkill/
 * prctl)) and the signal-safe readers of the SDK's state. */
#include "crash.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "crash_report.h"
#include "crumbs.h"
#include "crash_writer.h"
#include "modules.h"
#include "stack.h"
#include "thread.h"

#define NSIGNALS 6
#define WAIT_OTHER_MS 2000 /* a second crashing thread waits this long for the first */
#define BASE_BUFFER (320u * 1024u) /* header, registers, frames, modules, overlay */
#define CRUMB_ENTRY (PLUME_CRUMB_SLOT + 32u)

static const int crash_signals[NSIGNALS] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};

static struct {
    bool installed;
    struct sigaction prev[NSIGNALS];
    uint8_t *buf;    /* the report buffer (never unmapped) */
    size_t cap;
    char path[PATH_MAX + 64]; /* "<data_dir>/crash/" then the file name */
    size_t dir_len;           /* bytes of the directory part, '/' included */
    char release[PLUME_CRASH_STR_MAX + 1], environment[PLUME_CRASH_STR_MAX + 1],
        server_name[PLUME_CRASH_STR_MAX + 1];
    bool has_release;
    uint64_t rand[2];
    bool tsc;
    uint64_t ns_per_tick_q32;
    plume_on_crash_t hook;
    void *hook_user;
    uintptr_t frames[PLUME_CRASH_MAX_FRAMES];
} cs;

static _Atomic int owner_tid; /* the thread writing the report (0: none yet) */
static _Atomic int report_done;

const char *plume_crash_data_dir(const plume_options_t *o)
{
    if (o && o->data_dir)
        return o->data_dir;
    const char *env = getenv("PLUME_DATA_DIR");
    return env && *env ? env : PLUME_DEFAULT_DATA_DIR;
}

size_t plume_crash_buffer_size(uint32_t max_breadcrumbs)
{
    return BASE_BUFFER + PLUME_CRASH_SCOPE_MAX + (size_t)max_breadcrumbs * CRUMB_ENTRY;
}

bool plume_crash_installed(void) { return cs.installed; }

/* ---- the handler ---- */

static int gettid_(void) { return (int)syscall(SYS_gettid); }

static void restore_previous(void)
{
    for (int i = 0; i < NSIGNALS; i++)
        sigaction(crash_signals[i], &cs.prev[i], NULL);
}

/* Step 6 of crash.h: let the signal do what it would have done. */
static void reraise(int sig, const siginfo_t *si)
{
    bool sent = si == NULL || si->si_code <= 0 || sig == SIGTRAP || sig == SIGABRT;
    if (sent)
        syscall(SYS_tgkill, getpid(), gettid_(), sig);
    /* a hardware fault: returning runs the faulting instruction again */
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void hex64(char *out, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = digits[v & 15];
        v >>= 4;
    }
}

static void append(char *dst, size_t *at, const char *s)
{
    while (*s)
        dst[(*at)++] = *s++;
    dst[*at] = '\0';
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* Steps 3 and 4: unwind, encode, store. */
static void write_report(int sig, siginfo_t *si, void *uc, int tid)
{
    struct timespec ts;
    uint64_t now_ns = 0;
    if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec >= 0)
        now_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    uint64_t now_stamp = plume_clock_stamp();
    size_t nframes = plume_stack_capture_context(uc, cs.frames, PLUME_CRASH_MAX_FRAMES);

    uint32_t pid = (uint32_t)getpid();
    char id[PLUME_CRASH_ID_LEN + 1];
    uint64_t a = mix64(now_ns ^ cs.rand[0]);
    uint64_t b = mix64((((uint64_t)pid << 32) | (uint32_t)tid) ^ cs.rand[1] ^ a);
    hex64(id, a);
    hex64(id + 16, b);
    id[PLUME_CRASH_ID_LEN] = '\0';

    char tname[17] = "";
    if (prctl(PR_GET_NAME, tname, 0, 0, 0) != 0)
        tname[0] = '\0';
    tname[16] = '\0';

    plume_crash_context_t c = {
        .id = id,
        .time_ns = now_ns,
        .pid = pid,
        .tid = (uint32_t)tid,
        .thread_name = tname,
        .signo = sig,
        .code = si ? si->si_code : 0,
        .fault_addr = si ? (uint64_t)(uintptr_t)si->si_addr : 0,
        .ucontext = uc,
        .frames = cs.frames,
        .nframes = nframes,
        .release = cs.has_release ? cs.release : NULL,
        .environment = cs.environment,
        .server_name = cs.server_name,
        .tsc = cs.tsc,
        .now_stamp = now_stamp,
        .ns_per_tick_q32 = cs.ns_per_tick_q32,
    };
    plume_cw_t w;
    plume_cw_init(&w, cs.buf, cs.cap);
    if (!plume_crash_report_write(&w, &c))
        return;

    /* <dir>/<id>.tmp, then renamed to <dir>/<id>.plume-crash */
    char tmp[sizeof(cs.path)], fin[sizeof(cs.path)];
    size_t t = cs.dir_len, f = cs.dir_len;
    memcpy(tmp, cs.path, cs.dir_len);
    memcpy(fin, cs.path, cs.dir_len);
    tmp[t] = fin[f] = '\0';
    append(tmp, &t, id);
    append(tmp, &t, PLUME_CRASH_TMP_SUFFIX);
    append(fin, &f, id);
    append(fin, &f, PLUME_CRASH_SUFFIX);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return;
    bool ok = write_all(fd, w.buf, w.len) && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, fin) != 0) {
        unlink(tmp);
        return;
    }
    cs.path[cs.dir_len] = '\0';
    int dfd = open(cs.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

/* Waits (bounded) for the thread writing the report to finish. */
static void wait_for_owner(void)
{
    for (int waited = 0; waited < WAIT_OTHER_MS && !atomic_load(&report_done); waited++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static void handler(int sig, siginfo_t *si, void *uc)
{
    int saved_errno = errno;
    int tid = gettid_();
    int expect = 0;
    if (!atomic_compare_exchange_strong(&owner_tid, &expect, tid)) {
        if (expect != tid)
            wait_for_owner(); /* another thread's crash is being written */
        /* else: a crash inside the handler itself: no report, out at once */
        restore_previous();
        reraise(sig, si);
        errno = saved_errno;
        return;
    }
    if (!cs.hook || cs.hook(sig, si, uc, cs.hook_user) == 0)
        write_report(sig, si, uc, tid);
    atomic_store(&report_done, 1);
    restore_previous();
    reraise(sig, si);
    errno = saved_errno;
}

/* ---- install ---- */

/* mkdir that accepts an existing directory. */
static bool make_dir(const char *path, char *err, size_t errlen)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return true;
        snprintf(err, errlen, "crash directory %s: not a directory", path);
        return false;
    }
    snprintf(err, errlen, "cannot create the crash directory %s: %s", path, strerror(errno));
    return false;
}

static void copy_opt(char *dst, const char *src)
{
    size_t n = src ? strnlen(src, PLUME_CRASH_STR_MAX) : 0;
    if (n == PLUME_CRASH_STR_MAX)
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
            n--; /* never cut inside a UTF-8 sequence */
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The options the handler copies (release, environment, server name, hook). */
static void copy_options(const plume_options_t *o)
{
    char host[256] = "";
    if (gethostname(host, sizeof(host) - 1) != 0)
        strcpy(host, "unknown");
    cs.has_release = o->release != NULL;
    copy_opt(cs.release, o->release);
    copy_opt(cs.environment, plume_options_str(o->environment, PLUME_DEFAULT_ENVIRONMENT));
    copy_opt(cs.server_name, plume_options_str(o->server_name, host));
    cs.hook = o->on_crash;
    cs.hook_user = o->on_crash_user;
}

/* ns per stamp tick (x 2^32) from the current calibration. */
static void take_clock_rate(void)
{
    cs.tsc = plume_clock_uses_tsc();
    if (!cs.tsc)
        return;
    uint64_t s = plume_clock_stamp();
    const uint64_t span = 1000000000ull;
    uint64_t n0 = plume_clock_to_ns(s), n1 = plume_clock_to_ns(s + span);
    cs.ns_per_tick_q32 = n1 > n0 ? (uint64_t)(((unsigned __int128)(n1 - n0) << 32) / span) : 0;
}

bool plume_crash_install(const plume_options_t *o, char *err, size_t errlen)
{
    if (cs.installed) {
        copy_options(o);
        take_clock_rate();
        return true;
    }
    const char *data_dir = plume_crash_data_dir(o);
    size_t dl = strlen(data_dir);
    if (dl == 0 || dl + sizeof(PLUME_CRASH_DIR) + 1 + PLUME_CRASH_ID_LEN + 16 >= PATH_MAX) {
        snprintf(err, errlen, "data_dir is empty or too long for crash reports");
        return false;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", data_dir);
    if (!make_dir(dir, err, errlen))
        return false;
    snprintf(dir, sizeof(dir), "%s/%s", data_dir, PLUME_CRASH_DIR);
    if (!make_dir(dir, err, errlen))
        return false;

    size_t cap = plume_crash_buffer_size(o->max_breadcrumbs);
    if (!cs.buf || cs.cap < cap) {
        void *m = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            snprintf(err, errlen, "cannot reserve %zu bytes for crash reports: %s", cap,
                     strerror(errno));
            return false;
        }
        memset(m, 0, cap); /* pre-touch: no page fault allocates in the handler */
        /* an older, smaller buffer stays mapped: a handler may still hold it */
        cs.buf = m;
        cs.cap = cap;
    }
    int n = snprintf(cs.path, sizeof(cs.path), "%s/", dir);
    cs.dir_len = (size_t)n;
    if (getrandom(cs.rand, sizeof(cs.rand), GRND_NONBLOCK) != (ssize_t)sizeof(cs.rand)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        cs.rand[0] = mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32));
        cs.rand[1] = mix64(cs.rand[0] ^ (uint64_t)(uintptr_t)&cs);
    }
    copy_options(o);
    take_clock_rate();

    plume_stack_warmup();
    if (plume_modules_changed())
        plume_modules_refresh();
    plume_thread_altstacks_enable(true);
    plume_thread_altstack_ensure();

    atomic_store(&owner_tid, 0);
    atomic_store(&report_done, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < NSIGNALS; i++) {
        if (sigaction(crash_signals[i], &sa, &cs.prev[i]) != 0) {
            snprintf(err, errlen, "sigaction(%d): %s", crash_signals[i], strerror(errno));
            while (--i >= 0)
                sigaction(crash_signals[i], &cs.prev[i], NULL);
            return false;
        }
    }
    cs.installed = true;
    return true;
}

void plume_crash_uninstall(void)
{
    if (!cs.installed)
        return;
    for (int i = 0; i < NSIGNALS; i++) {
        struct sigaction cur;
        if (sigaction(crash_signals[i], NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
            cur.sa_sigaction == handler)
            sigaction(crash_signals[i], &cs.prev[i], NULL);
    }
    plume_thread_altstacks_enable(false);
    cs.installed = false;
}
