/* SPDX-License-Identifier: MIT */
/* The loaded-module snapshot (sdk/src/modules.c): the main executable is in
 * it once, with /proc/self/exe's path, dladdr's base address and the build id
 * `readelf -n` prints; libc holds libc's own printf; the vDSO is listed; the
 * table is sorted and disjoint; dlopen/dlclose of libz.so.1 (a private copy
 * where this binary has libz loaded already) flips plume_modules_changed()
 * and the next refresh adds/removes it; paths that overflow the 64 KiB arena
 * are cut and marked (18 copies of libz under a ~3600-byte directory path);
 * binary search at module edges; in_app prefixes; and a refresh loop racing
 * a reader (run under TSan too) with the hand-over modules.h asks of callers. */
#include "test_support.h"
#include <cmocka.h>

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules.h"

/* Lower-case hex of the build id, in a static buffer. */
static const char *hex_id(const plume_module_t *m)
{
    static char out[2 * PLUME_MODULE_BUILD_ID_MAX + 1];
    for (size_t i = 0; i < m->build_id_len; i++)
        snprintf(out + 2 * i, 3, "%02x", m->build_id[i]);
    out[2 * m->build_id_len] = '\0';
    return out;
}

/* The "Build ID:" readelf -n prints for `path` into out (cap bytes); false
 * when readelf is missing or prints none. */
static bool readelf_build_id(const char *path, char *out, size_t cap)
{
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof(cmd), "readelf -n '%s' 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return false;
    char line[512];
    bool found = false;
    while (fgets(line, sizeof(line), p)) {
        const char *k = strstr(line, "Build ID: ");
        if (k && !found) {
            k += strlen("Build ID: ");
            size_t n = strcspn(k, " \r\n");
            if (n > 0 && n < cap) {
                memcpy(out, k, n);
                out[n] = '\0';
                found = true;
            }
        }
    }
    pclose(p);
    return found;
}

/* Index of the module whose path contains `needle`, or -1. */
static int find_path(const plume_modules_t *t, const char *needle)
{
    for (size_t i = 0; i < t->count; i++)
        if (strstr(t->modules[i].path, needle))
            return (int)i;
    return -1;
}

static void before_refresh_is_empty(void **state)
{
    (void)state;
    const plume_modules_t *t = plume_modules_current();
    assert_non_null(t);
    assert_int_equal(t->count, 0);
    assert_int_equal(plume_modules_find(t, (uintptr_t)&before_refresh_is_empty), -1);
    assert_true(plume_modules_changed());
}

static void main_executable(void **state)
{
    (void)state;
    int n = plume_modules_refresh();
    assert_true(n >= 3); /* this program, libc, the loader at least */
    const plume_modules_t *t = plume_modules_current();
    assert_int_equal((size_t)n, t->count);
    assert_false(plume_modules_changed());

    int main_idx = -1;
    for (size_t i = 0; i < t->count; i++) {
        const plume_module_t *m = &t->modules[i];
        assert_non_null(m->path);
        assert_int_equal(strlen(m->path), m->path_len);
        assert_false(m->path_truncated);
        assert_true(m->image_size > 0);
        if (i > 0) /* sorted and disjoint */
            assert_true(t->modules[i - 1].image_addr + t->modules[i - 1].image_size <= m->image_addr);
        if (m->is_main) {
            assert_int_equal(main_idx, -1);
            main_idx = (int)i;
        }
    }
    assert_true(main_idx >= 0);
    const plume_module_t *m = &t->modules[main_idx];

    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    assert_true(len > 0);
    exe[len] = '\0';
    assert_string_equal(m->path, exe);

    /* This function is in it; dladdr's base is the image address. */
    assert_int_equal(plume_modules_find(t, (uintptr_t)&main_executable), main_idx);
    Dl_info info;
    assert_true(dladdr((void *)&main_executable, &info));
    assert_true((uintptr_t)info.dli_fbase == m->image_addr);

    char want[2 * PLUME_MODULE_BUILD_ID_MAX + 1];
    if (!readelf_build_id(exe, want, sizeof(want))) {
        fprintf(stderr, "readelf -n gave no build id for %s\n", exe);
        skip();
    }
    assert_true(m->build_id_len >= 16);
    assert_string_equal(hex_id(m), want);
}

static void libc_and_vdso(void **state)
{
    (void)state;
    assert_true(plume_modules_refresh() > 0);
    const plume_modules_t *t = plume_modules_current();
    /* libc's own printf (a sanitizer may interpose the program's printf). */
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(libc);
    void *pf = dlsym(libc, "printf");
    assert_non_null(pf);
    int i = plume_modules_find(t, (uintptr_t)pf);
    assert_true(i >= 0);
    assert_non_null(strstr(t->modules[i].path, "libc.so"));
    assert_false(t->modules[i].is_main);
    char want[2 * PLUME_MODULE_BUILD_ID_MAX + 1];
    if (readelf_build_id(t->modules[i].path, want, sizeof(want)))
        assert_string_equal(hex_id(&t->modules[i]), want);
    dlclose(libc);

    uintptr_t vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    if (vdso != 0) {
        int v = plume_modules_find(t, vdso);
        assert_true(v >= 0);
        assert_non_null(strstr(t->modules[v].path, "vdso"));
    }
}

/* Copies src to dst; false if it cannot. */
static bool copy_file(const char *src, const char *dst)
{
    size_t len = 0;
    char *data = plume_test_read_file(src, &len);
    if (data == NULL)
        return false;
    FILE *f = fopen(dst, "wb");
    bool ok = f && fwrite(data, 1, len, f) == len;
    if (f)
        ok = fclose(f) == 0 && ok;
    free(data);
    return ok;
}

/* Path of the loaded libz.so.1 (loading it for a moment if need be) into
 * out; false when the system has none. */
static bool libz_path(char *out, size_t cap)
{
    void *h = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        return false;
    Dl_info info;
    void *fn = dlsym(h, "zlibVersion");
    bool ok = fn && dladdr(fn, &info) && info.dli_fname &&
              (size_t)snprintf(out, cap, "%s", info.dli_fname) < cap;
    dlclose(h);
    return ok;
}

static void dlopen_and_dlclose(void **state)
{
    (void)state;
    /* libz.so.1 itself, unless this binary already has it loaded (the
     * sanitizer builds link it): then a private copy, which the loader
     * loads afresh since it is another file. */
    char name[PATH_MAX] = "libz.so.1";
    char *tmp = NULL;
    if (dlopen("libz.so.1", RTLD_NOW | RTLD_NOLOAD) != NULL) {
        char orig[PATH_MAX];
        assert_true(libz_path(orig, sizeof(orig)));
        tmp = plume_test_mkdtemp();
        assert_non_null(tmp);
        snprintf(name, sizeof(name), "%s/libz_fresh.so", tmp);
        assert_true(copy_file(orig, name));
    }
    assert_true(plume_modules_refresh() > 0);
    assert_false(plume_modules_changed());
    assert_int_equal(find_path(plume_modules_current(), tmp ? name : "libz.so"), -1);

    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL && tmp == NULL) {
        fprintf(stderr, "no libz.so.1 on this system\n");
        skip();
    }
    assert_non_null(h);
    assert_true(plume_modules_changed());
    assert_true(plume_modules_refresh() > 0);
    assert_false(plume_modules_changed());
    const plume_modules_t *t = plume_modules_current();
    void *fn = dlsym(h, "zlibVersion");
    assert_non_null(fn);
    int i = plume_modules_find(t, (uintptr_t)fn);
    assert_true(i >= 0);
    assert_non_null(strstr(t->modules[i].path, tmp ? "libz_fresh.so" : "libz.so"));
    assert_true(t->modules[i].build_id_len > 0);

    assert_int_equal(dlclose(h), 0);
    assert_null(dlopen(name, RTLD_NOW | RTLD_NOLOAD)); /* really gone */
    assert_true(plume_modules_changed());
    assert_true(plume_modules_refresh() > 0);
    assert_false(plume_modules_changed());
    t = plume_modules_current();
    assert_int_equal(plume_modules_find(t, (uintptr_t)fn), -1);
    if (tmp) {
        assert_int_equal(find_path(t, "libz_fresh.so"), -1);
        plume_test_rm_rf(tmp);
        free(tmp);
    } else {
        assert_int_equal(find_path(t, "libz.so"), -1);
    }
}

static void arena_overflow_cuts_paths(void **state)
{
    (void)state;
    enum { COPIES = 18 };
    void *probe = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
    if (probe == NULL)
        skip();
    Dl_info info;
    void *fn = dlsym(probe, "zlibVersion");
    assert_true(fn && dladdr(fn, &info) && info.dli_fname);
    char libz[PATH_MAX];
    snprintf(libz, sizeof(libz), "%s", info.dli_fname);
    assert_true(plume_modules_refresh() > 0);
    int zi = plume_modules_find(plume_modules_current(), (uintptr_t)fn);
    assert_true(zi >= 0);
    plume_module_t z = plume_modules_current()->modules[zi];
    assert_true(z.build_id_len > 0);
    dlclose(probe);

    /* A directory ~3800 bytes deep (components of 200 'd's), so 18 copies'
     * paths need ~69 KB: more than the arena. */
    char *root = plume_test_mkdtemp();
    assert_non_null(root);
    char dir[PATH_MAX];
    size_t dl = (size_t)snprintf(dir, sizeof(dir), "%s", root);
    while (dl < 3600) {
        dir[dl++] = '/';
        memset(dir + dl, 'd', 200);
        dl += 200;
        dir[dl] = '\0';
        assert_int_equal(mkdir(dir, 0700), 0);
    }
    void *handles[COPIES];
    char path[PATH_MAX];
    size_t full_len = 0;
    for (int i = 0; i < COPIES; i++) {
        full_len = (size_t)snprintf(path, sizeof(path), "%s/libz_copy_%02d.so", dir, i);
        assert_true(copy_file(libz, path));
        handles[i] = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        assert_non_null(handles[i]);
    }

    assert_true(plume_modules_refresh() > COPIES);
    const plume_modules_t *t = plume_modules_current();
    assert_true(t->arena_used <= PLUME_MODULES_ARENA);
    size_t copies = 0, cut = 0;
    for (size_t i = 0; i < t->count; i++) {
        const plume_module_t *m = &t->modules[i];
        assert_int_equal(strlen(m->path), m->path_len);
        /* The copies: libz's build id, a path under the temporary
         * directory or one cut (the original libz may be loaded too). */
        if (m->build_id_len != z.build_id_len ||
            memcmp(m->build_id, z.build_id, z.build_id_len) != 0 ||
            (!m->path_truncated && strncmp(m->path, root, strlen(root)) != 0))
            continue;
        copies++;
        /* Whole, or cut and marked: then a prefix of such a path. */
        if (m->path_truncated) {
            cut++;
            assert_true(m->path_len < full_len);
            assert_memory_equal(m->path, path, m->path_len);
        } else {
            assert_int_equal(m->path_len, full_len);
            assert_memory_equal(m->path, dir, dl);
        }
    }
    assert_int_equal(copies, COPIES);
    assert_true(cut >= 1);

    for (int i = 0; i < COPIES; i++)
        dlclose(handles[i]);
    plume_test_rm_rf(root);
    free(root);
    assert_true(plume_modules_refresh() > 0);
}

static void find_edges(void **state)
{
    (void)state;
    static plume_modules_t t;
    memset(&t, 0, sizeof(t));
    t.count = 3;
    t.modules[0] = (plume_module_t){.image_addr = 0x1000, .image_size = 0x1000, .path = "a"};
    t.modules[1] = (plume_module_t){.image_addr = 0x4000, .image_size = 0x2000, .path = "b"};
    t.modules[2] = (plume_module_t){.image_addr = 0x6000, .image_size = 0x1000, .path = "c"};
    assert_int_equal(plume_modules_find(&t, 0), -1);
    assert_int_equal(plume_modules_find(&t, 0xfff), -1);
    assert_int_equal(plume_modules_find(&t, 0x1000), 0);
    assert_int_equal(plume_modules_find(&t, 0x1fff), 0);
    assert_int_equal(plume_modules_find(&t, 0x2000), -1); /* gap */
    assert_int_equal(plume_modules_find(&t, 0x3fff), -1);
    assert_int_equal(plume_modules_find(&t, 0x4000), 1);
    assert_int_equal(plume_modules_find(&t, 0x5fff), 1);
    assert_int_equal(plume_modules_find(&t, 0x6000), 2); /* adjacent */
    assert_int_equal(plume_modules_find(&t, 0x6fff), 2);
    assert_int_equal(plume_modules_find(&t, 0x7000), -1);
    assert_int_equal(plume_modules_find(&t, UINTPTR_MAX), -1);
    assert_int_equal(plume_modules_find(NULL, 0x1000), -1);
    t.count = 0;
    assert_int_equal(plume_modules_find(&t, 0x1000), -1);
}

static void in_app_prefixes(void **state)
{
    (void)state;
    plume_module_t exe = {.path = "/usr/bin/thing", .is_main = true};
    plume_module_t lib = {.path = "/opt/app/lib/libx.so", .path_len = 20};
    const char *const pre[] = {"/usr/lib/", "/opt/app/"};
    const char *const other[] = {"/opt/apps/", "/opt/app/lib/libx.so.1"};
    const char *const odd[] = {NULL, ""};
    assert_true(plume_module_in_app(&exe, NULL, 0));
    assert_true(plume_module_in_app(&lib, pre, 2));
    assert_false(plume_module_in_app(&lib, pre, 1));
    assert_false(plume_module_in_app(&lib, other, 2));
    assert_false(plume_module_in_app(&lib, odd, 2));
    assert_false(plume_module_in_app(&lib, NULL, 2));
    assert_false(plume_module_in_app(NULL, pre, 2));
    const char *const exact[] = {"/opt/app/lib/libx.so"};
    assert_true(plume_module_in_app(&lib, exact, 1));
}

/* ---- a refresh loop racing a reader ---- */

enum { ROUNDS = 300 };
static atomic_int g_want;   /* refresh round the reader should catch up with */
static atomic_int g_done;   /* last round the reader finished with */
static atomic_bool g_stop;
static uintptr_t g_libc_addr;

/* The reader: takes the published table after seeing round k announced,
 * uses it (lookups, path reads) and reports k done. modules.h's rule: the
 * refresher does not start round k + 1 before the reader is done with k. */
static void *reader(void *arg)
{
    (void)arg;
    uintptr_t self_addr = (uintptr_t)&reader;
    size_t bad = 0;
    while (!atomic_load(&g_stop)) {
        int k = atomic_load(&g_want);
        const plume_modules_t *t = plume_modules_current();
        int a = plume_modules_find(t, self_addr);
        int b = plume_modules_find(t, g_libc_addr);
        if (a < 0 || b < 0 || !t->modules[a].is_main || strstr(t->modules[b].path, "libc") == NULL)
            bad++;
        for (size_t i = 0; i < t->count; i++)
            if (strlen(t->modules[i].path) != t->modules[i].path_len)
                bad++;
        atomic_store(&g_done, k);
    }
    return (void *)bad;
}

static void refresh_races_reader(void **state)
{
    (void)state;
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(libc);
    g_libc_addr = (uintptr_t)dlsym(libc, "printf");
    dlclose(libc);
    assert_true(plume_modules_refresh() > 0);
    atomic_store(&g_want, 0);
    atomic_store(&g_done, -1);
    atomic_store(&g_stop, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, reader, NULL), 0);
    for (int k = 1; k <= ROUNDS; k++) {
        while (atomic_load(&g_done) < k - 1) /* the reader left the older table */
            sched_yield();
        assert_true(plume_modules_refresh() > 0);
        atomic_store(&g_want, k);
    }
    atomic_store(&g_stop, true);
    void *bad = NULL;
    pthread_join(th, &bad);
    assert_int_equal((uintptr_t)bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(before_refresh_is_empty),
        cmocka_unit_test(main_executable),
        cmocka_unit_test(libc_and_vdso),
        cmocka_unit_test(dlopen_and_dlclose),
        cmocka_unit_test(arena_overflow_cuts_paths),
        cmocka_unit_test(find_edges),
        cmocka_unit_test(in_app_prefixes),
        cmocka_unit_test(refresh_races_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
