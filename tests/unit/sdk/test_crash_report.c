/* SPDX-License-Identifier: MIT */
/* Crash reports (sdk/src/crash_report.c) and the event made of one
 * (sdk/src/crash_delivery.c).
 *
 * Round trip from a real signal context: a SIGUSR1 handler (on this thread)
 * unwinds its ucontext and writes the report into a static buffer, exactly
 * as the crash handler does, with a tag and a user in the global scope, a
 * pushed overlay field, two breadcrumbs in a published store and the real
 * module table; reading it back gives every field (id, time, signal, code,
 * fault address, thread, registers with rip == frame 0, frames, modules with
 * the main executable, breadcrumbs with their ns times, scope, overlay,
 * release/environment/server_name). Every proper prefix of the report is
 * refused (truncated), as are garbage after it, a wrong version, a bad id,
 * huge counts and random byte flips never crash the reader; a file too
 * large, missing or truncated is refused with its path in the message. The
 * event: level fatal, origin "crash", message "SIGSEGV (SEGV_MAPERR) at
 * 0x10", fields_json with thread.id, the overlay, tags, user and the
 * breadcrumbs in order, and the error map with id, mechanism
 * "signalhandler", handled false, the signal map, frames innermost first
 * (same addresses), module indexes pointing into the event's modules (main
 * executable first) and in_app for frames in this test program.
 *
 * The handler's side of the id and the on_crash hook (sdk/src/crash.c), in
 * forked children that install the handler and abort(): a hook returning
 * non-zero runs and no report is written; with one returning 0, each child
 * leaves exactly one report named <id>.plume-crash whose id is 32 hex digits,
 * different from child to child, with the child's pid, SIGABRT and SI_TKILL;
 * the children die of SIGABRT either way. */
#include "test_support.h"
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "clock.h"
#include "crash.h"
#include "crash_delivery.h"
#include "crash_report.h"
#include "crash_writer.h"
#include "crumbs.h"
#include "modules.h"
#include "record.h"
#include "stack.h"

#define ID "0123456789abcdef0123456789abcdef"
#define NOW_NS 1800000000000000000ull

static uint8_t report[2u << 20];
static size_t report_len;
static uintptr_t frames[PLUME_CRASH_MAX_FRAMES];
static plume_crumbs_t store;
static plume_crash_report_t parsed;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    size_t n = plume_stack_capture_context(uc, frames, PLUME_CRASH_MAX_FRAMES);
    plume_crash_context_t c = {
        .id = ID,
        .time_ns = NOW_NS,
        .pid = (uint32_t)getpid(),
        .tid = (uint32_t)syscall(SYS_gettid),
        .thread_name = "tester",
        .signo = SIGSEGV, /* as if: the context is real, the cause made up */
        .code = SEGV_MAPERR,
        .fault_addr = 0x10,
        .ucontext = uc,
        .frames = frames,
        .nframes = n,
        .release = "app@1.0",
        .environment = "test",
        .server_name = "host-1",
        .tsc = false, /* stamps are ns (fallback clock) */
    };
    plume_cw_t w;
    plume_cw_init(&w, report, sizeof(report));
    report_len = plume_crash_report_write(&w, &c) ? w.len : 0;
}

static void add_crumb(uint64_t stamp, const char *category, const char *message)
{
    plume_field_t f[1] = {plume_i64("n", (int64_t)stamp % 1000)};
    plume_record_extra_t extra = {.breadcrumb = true, .category = category};
    plume_record_lens_t lens;
    uint8_t rec[512];
    size_t len = plume_record_measure(message, 0, f, 1, &extra, &lens);
    assert_true(len <= sizeof(rec));
    plume_record_write(rec, stamp, PLUME_LEVEL_INFO, message, f, &extra, &lens);
    plume_record_view_t v;
    assert_true(plume_record_read(rec, len, &v));
    plume_crumbs_add(&store, rec, len, &v);
}

static int setup(void **state)
{
    (void)state;
    plume_clock_init_fallback();
    plume_stack_warmup();
    plume_modules_refresh();
    assert_int_equal(plume_set_tag("service", "checkout"), PLUME_OK);
    assert_int_equal(plume_set_user("u-1", NULL, NULL), PLUME_OK);
    assert_true(plume_crumbs_init(&store, 10));
    add_crumb(NOW_NS - 2000, "http", "GET /b");
    add_crumb(NOW_NS - 3000, "db", "SELECT");
    plume_crumbs_publish(&store);
    plume_field_t f[1] = {plume_str("request_id", "r-9")};
    assert_int_equal(plume_scope_push(f, 1), PLUME_OK);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    plume_scope_pop();
    plume_crumbs_publish(NULL);
    plume_crumbs_free(&store);
    assert_true(report_len > 0);
    char err[256];
    assert_true(plume_crash_report_parse(report, report_len, &parsed, err, sizeof(err)));
    return 0;
}

static bool str_is(plume_crash_str_t s, const char *want)
{
    return s.s && s.len == strlen(want) && memcmp(s.s, want, s.len) == 0;
}

static void test_round_trip_from_a_signal_context(void **state)
{
    (void)state;
    const plume_crash_report_t *r = &parsed;
    assert_int_equal(r->version, 1);
    assert_string_equal(r->id, ID);
    assert_int_equal(r->time_ns, NOW_NS);
    assert_int_equal(r->pid, getpid());
    assert_int_equal(r->tid, syscall(SYS_gettid));
    assert_true(str_is(r->thread_name, "tester"));
    assert_int_equal(r->signo, SIGSEGV);
    assert_int_equal(r->code, SEGV_MAPERR);
    assert_true(r->has_fault_addr);
    assert_int_equal(r->fault_addr, 0x10);
    assert_true(str_is(r->release, "app@1.0"));
    assert_true(str_is(r->environment, "test"));
    assert_true(str_is(r->server_name, "host-1"));
    assert_true(r->nframes >= 2);
    for (size_t i = 0; i < r->nframes; i++)
        assert_int_equal(r->frames[i], frames[i]);
#if defined(__x86_64__)
    bool rip = false, rsp = false;
    for (size_t i = 0; i < r->nregs; i++) {
        if (str_is(r->regs[i].name, "rip")) {
            rip = true;
            assert_int_equal(r->regs[i].value, r->frames[0]);
        }
        rsp |= str_is(r->regs[i].name, "rsp");
    }
    assert_true(rip && rsp);
    assert_int_equal(r->nregs, 18);
#endif
    const plume_modules_t *mods = plume_modules_current();
    assert_int_equal(r->nmodules, mods->count);
    size_t mains = 0;
    for (size_t i = 0; i < r->nmodules; i++) {
        assert_int_equal(r->modules[i].addr, mods->modules[i].image_addr);
        assert_int_equal(r->modules[i].size, mods->modules[i].image_size);
        assert_int_equal(r->modules[i].build_id_len, mods->modules[i].build_id_len);
        assert_true(str_is(r->modules[i].path, mods->modules[i].path));
        mains += r->modules[i].main;
    }
    assert_int_equal(mains, 1);
    assert_int_equal(r->ncrumbs, 2);
    assert_int_equal(r->crumbs[0].ns, NOW_NS - 2000); /* in the order added */
    assert_int_equal(r->crumbs[1].ns, NOW_NS - 3000);
    assert_false(r->crumbs[0].log);
    plume_record_view_t v;
    assert_true(plume_record_read(r->crumbs[1].record, r->crumbs[1].len, &v));
    assert_int_equal(v.message_len, 6);
    assert_memory_equal(v.message, "SELECT", 6);
    assert_int_equal(r->scope_npairs, 2); /* tags, user */
    assert_non_null(r->scope);
    assert_int_equal(r->overlay_npairs, 1);
    assert_non_null(r->overlay);
}

static void test_every_truncation_and_damage_is_refused(void **state)
{
    (void)state;
    static plume_crash_report_t r;
    char err[256];
    for (size_t n = 0; n < report_len; n++) {
        err[0] = '\0';
        assert_false(plume_crash_report_parse(report, n, &r, err, sizeof(err)));
        assert_true(err[0] != '\0');
    }
    /* garbage after the report */
    static uint8_t more[sizeof(report) + 1];
    memcpy(more, report, report_len);
    more[report_len] = 0xc0;
    assert_false(plume_crash_report_parse(more, report_len + 1, &r, err, sizeof(err)));
    assert_non_null(strstr(err, "garbage"));
    /* a wrong version: the byte after "v" (fixmap32 header 5, "v" 2) */
    memcpy(more, report, report_len);
    assert_int_equal(more[7], 1);
    more[7] = 2;
    assert_false(plume_crash_report_parse(more, report_len, &r, err, sizeof(err)));
    assert_non_null(strstr(err, "version 2"));
    /* a bad id: upper-case hex */
    memcpy(more, report, report_len);
    uint8_t *id = memmem(more, report_len, ID, 32);
    assert_non_null(id);
    id[0] = 'A';
    assert_false(plume_crash_report_parse(more, report_len, &r, err, sizeof(err)));
    assert_non_null(strstr(err, "id"));
    /* huge counts */
    static const uint8_t huge_frames[] = {0x82, 0xa1, 'v', 0x01, 0xa6, 'f', 'r', 'a', 'm',
                                          'e', 's', 0xdd, 0x7f, 0xff, 0xff, 0xff};
    assert_false(plume_crash_report_parse(huge_frames, sizeof(huge_frames), &r, err, sizeof(err)));
    assert_non_null(strstr(err, "frames"));
    static const uint8_t not_map[] = {0x93, 1, 2, 3};
    assert_false(plume_crash_report_parse(not_map, sizeof(not_map), &r, err, sizeof(err)));
    /* byte flips: refused or accepted, never a crash (ASan watches) */
    srand(7);
    for (int i = 0; i < 3000; i++) {
        memcpy(more, report, report_len);
        for (int k = 0; k < 4; k++)
            more[(size_t)rand() % report_len] ^= (uint8_t)(1u << (rand() % 8));
        (void)plume_crash_report_parse(more, report_len, &r, err, sizeof(err));
    }
}

static void test_load_names_the_file(void **state)
{
    (void)state;
    static plume_crash_report_t r;
    char *dir = plume_test_mkdtemp();
    char path[512], err[600];
    uint8_t *data;
    size_t len;
    snprintf(path, sizeof(path), "%s/missing.plume-crash", dir);
    assert_false(plume_crash_report_load(path, &data, &len, &r, err, sizeof(err)));
    free(data);
    assert_non_null(strstr(err, path));
    /* truncated */
    snprintf(path, sizeof(path), "%s/cut.plume-crash", dir);
    FILE *f = fopen(path, "wb");
    fwrite(report, 1, report_len / 2, f);
    fclose(f);
    assert_false(plume_crash_report_load(path, &data, &len, &r, err, sizeof(err)));
    free(data);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "not a valid crash report"));
    /* too large: refused before reading */
    snprintf(path, sizeof(path), "%s/huge.plume-crash", dir);
    f = fopen(path, "wb");
    assert_int_equal(fseeko(f, PLUME_CRASH_MAX_FILE, SEEK_SET), 0);
    fputc(0, f);
    fclose(f);
    assert_false(plume_crash_report_load(path, &data, &len, &r, err, sizeof(err)));
    free(data);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "more than a report can have"));
    /* the real one */
    snprintf(path, sizeof(path), "%s/ok.plume-crash", dir);
    f = fopen(path, "wb");
    fwrite(report, 1, report_len, f);
    fclose(f);
    assert_true(plume_crash_report_load(path, &data, &len, &r, err, sizeof(err)));
    assert_int_equal(len, report_len);
    free(data);
    plume_test_rm_rf(dir);
    free(dir);
}

/* The value of key `k` in map reader rd (positioned at the map); false when
 * absent. */
static bool map_find(const uint8_t *p, size_t n, const char *k, plume_mp_reader_t *at)
{
    plume_mp_reader_t rd;
    plume_mp_value_t v, key;
    plume_mp_reader_init(&rd, p, n);
    if (!plume_mp_read(&rd, &v) || v.type != PLUME_MP_MAP)
        return false;
    for (uint32_t i = 0; i < v.count; i++) {
        if (!plume_mp_read(&rd, &key))
            return false;
        if (plume_mp_str_eq(&key, k)) {
            *at = rd;
            return true;
        }
        if (!plume_mp_skip(&rd))
            return false;
    }
    return false;
}

static void test_the_event(void **state)
{
    (void)state;
    plume_crash_event_t e;
    plume_crash_event_init(&e);
    plume_crash_event_opts_t o = {.symbolicate = true};
    assert_true(plume_crash_event_build(&e, &parsed, &o));
    const plume_event_view_t *ev = &e.view;
    assert_int_equal(ev->level, PLUME_LEVEL_FATAL);
    assert_int_equal(ev->time_ns, NOW_NS);
    assert_int_equal(ev->origin_len, 5);
    assert_memory_equal(ev->origin, "crash", 5);
    const char *msg = "SIGSEGV (SEGV_MAPERR) at 0x10";
    assert_int_equal(ev->message_len, strlen(msg));
    assert_memory_equal(ev->message, msg, strlen(msg));

    char *json = strndup(ev->fields_json, ev->fields_json_len);
    char want[64];
    snprintf(want, sizeof(want), "{\"request_id\":\"r-9\",\"thread.id\":%ld,", syscall(SYS_gettid));
    assert_ptr_equal(strstr(json, want), json);
    assert_non_null(strstr(json, "\"thread.name\":\"tester\""));
    assert_non_null(strstr(json, "\"release\":\"app@1.0\",\"environment\":\"test\","
                                 "\"server_name\":\"host-1\""));
    assert_non_null(strstr(json, "\"tags\":{\"service\":\"checkout\"}"));
    assert_non_null(strstr(json, "\"user\":{\"id\":\"u-1\"}"));
    const char *db = strstr(json, "\"message\":\"SELECT\""), *http = strstr(json, "\"message\":\"GET /b\"");
    assert_non_null(db);
    assert_non_null(http);
    assert_true(db < http); /* oldest first */
    assert_non_null(strstr(json, "\"category\":\"db\""));
    free(json);

    const uint8_t *m = ev->error;
    size_t n = ev->error_len;
    plume_mp_reader_t at;
    plume_mp_value_t v;
    assert_true(map_find(m, n, "type", &at) && plume_mp_read(&at, &v) && plume_mp_str_eq(&v, "SIGSEGV"));
    assert_true(map_find(m, n, "id", &at) && plume_mp_read(&at, &v) && plume_mp_str_eq(&v, ID));
    assert_true(map_find(m, n, "mechanism", &at) && plume_mp_read(&at, &v) &&
                plume_mp_str_eq(&v, "signalhandler"));
    assert_true(map_find(m, n, "handled", &at) && plume_mp_read(&at, &v) &&
                v.type == PLUME_MP_BOOL && !v.b);
    assert_true(map_find(m, n, "value", &at) && plume_mp_read(&at, &v) &&
                plume_mp_str_eq(&v, "Segmentation fault (SEGV_MAPERR) at 0x10"));
    assert_true(map_find(m, n, "fault_addr", &at) && plume_mp_read(&at, &v) && v.u == 0x10);
    assert_true(map_find(m, n, "signal", &at));
    const uint8_t *sig = at.p;
    assert_true(map_find(sig, (size_t)(m + n - sig), "code_name", &at) && plume_mp_read(&at, &v) &&
                plume_mp_str_eq(&v, "SEGV_MAPERR"));
    assert_true(map_find(m, n, "registers", &at));

    /* modules: the main executable first */
    assert_true(map_find(m, n, "modules", &at) && plume_mp_read(&at, &v) && v.type == PLUME_MP_ARRAY);
    uint32_t nmods = v.count;
    assert_true(nmods >= 1);
    plume_mp_reader_t mod = at;
    assert_true(map_find(mod.p, (size_t)(m + n - mod.p), "main", &at) && plume_mp_read(&at, &v) &&
                v.b);
    /* frames: innermost first, same addresses, module indexes inside */
    assert_true(map_find(m, n, "frames", &at) && plume_mp_read(&at, &v) && v.type == PLUME_MP_ARRAY);
    assert_int_equal(v.count, parsed.nframes);
    bool in_app_seen = false;
    for (uint32_t i = 0; i < v.count; i++) {
        const uint8_t *fp = at.p;
        size_t rest = (size_t)(m + n - fp);
        plume_mp_reader_t f;
        plume_mp_value_t x;
        assert_true(map_find(fp, rest, "addr", &f) && plume_mp_read(&f, &x));
        assert_int_equal(x.u, parsed.frames[i]);
        if (map_find(fp, rest, "module", &f)) {
            assert_true(plume_mp_read(&f, &x) && x.type == PLUME_MP_UINT);
            assert_true(x.u < nmods);
        }
        assert_true(map_find(fp, rest, "in_app", &f) && plume_mp_read(&f, &x));
        in_app_seen |= x.b;
        assert_true(plume_mp_skip(&at));
    }
    assert_true(in_app_seen); /* the handler's caller is in this program */
    plume_crash_event_free(&e);
}

static int hook_fd = -1;
static int hook_result;

static int hook(int signum, void *info, void *uc, void *user)
{
    (void)info;
    (void)uc;
    char c = (char)signum;
    ssize_t w = write(hook_fd, &c, 1);
    (void)w;
    return *(int *)user;
}

/* Forks a child that installs the handler with data_dir `dir` and aborts;
 * returns its pid after checking it died of SIGABRT and the hook ran. */
static pid_t crash_child(const char *dir, int result)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    hook_result = result;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        hook_fd = p[1];
        plume_options_t *o = plume_options_new();
        plume_options_set_data_dir(o, dir);
        plume_options_set_on_crash(o, hook, &hook_result);
        char err[256];
        if (!plume_crash_install(o, err, sizeof(err)))
            _exit(9);
        plume_options_free(o);
        abort();
    }
    close(p[1]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    char c = 0;
    assert_int_equal(read(p[0], &c, 1), 1);
    assert_int_equal(c, SIGABRT);
    close(p[0]);
    return pid;
}

static void test_handler_ids_and_hook(void **state)
{
    (void)state;
    char *dir = plume_test_mkdtemp();
    char crash_dir[512];
    snprintf(crash_dir, sizeof(crash_dir), "%s/crash", dir);
    crash_child(dir, 1);
    assert_int_equal(plume_test_count_files(crash_dir, ""), 0);
    char ids[2][PLUME_CRASH_ID_LEN + 1];
    for (int i = 0; i < 2; i++) {
        pid_t pid = crash_child(dir, 0);
        assert_int_equal(plume_test_count_files(crash_dir, ""), 1);
        DIR *d = opendir(crash_dir);
        struct dirent *de;
        char path[1024] = "";
        while ((de = readdir(d)) != NULL)
            if (de->d_name[0] != '.')
                snprintf(path, sizeof(path), "%s/%s", crash_dir, de->d_name);
        closedir(d);
        static plume_crash_report_t r;
        uint8_t *data;
        size_t len;
        char err[600];
        assert_true(plume_crash_report_load(path, &data, &len, &r, err, sizeof(err)));
        char want[700];
        snprintf(want, sizeof(want), "%s/%s.plume-crash", crash_dir, r.id);
        assert_string_equal(path, want);
        assert_int_equal(r.pid, pid);
        assert_int_equal(r.signo, SIGABRT);
        assert_int_equal(r.code, SI_TKILL);
        assert_true(r.nframes > 0);
        memcpy(ids[i], r.id, sizeof(ids[i]));
        free(data);
        unlink(path);
    }
    assert_string_not_equal(ids[0], ids[1]);
    plume_test_rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_from_a_signal_context),
        cmocka_unit_test(test_every_truncation_and_damage_is_refused),
        cmocka_unit_test(test_load_names_the_file),
        cmocka_unit_test(test_the_event),
        cmocka_unit_test(test_handler_ids_and_hook),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
