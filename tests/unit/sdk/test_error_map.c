/* SPDX-License-Identifier: MIT */
/* The worker's side of a captured error (sdk/src/error_map.c) and the error
 * record it reads (record.c): the record round trip (type, code, frames, the
 * caps) and its malformed forms refused; the error map of a record with
 * frames in the main executable, in libc and in nothing: frames in order with
 * the right module indexes and in_app, the module list (main executable
 * first, then the modules the frames use, each once, with path, range and
 * build id), in_app prefixes; and the module-table refresh spacing. */
#include "test_support.h"
#include <cmocka.h>

#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "error_map.h"
#include "keep_sink.h"
#include "modules.h"
#include "monotime.h"
#include "mp.h"
#include "options.h"
#include "record.h"
#include "record_build.h"

/* A function of the test binary (global, so dladdr names it). */
__attribute__((noinline)) int test_error_map_here(int x)
{
    __asm__ volatile("" ::: "memory");
    return x * 3 + 1;
}

/* An error record with these frames, read back into *v; returns the bytes
 * (caller frees). */
static uint8_t *make_record(const char *type, bool has_code, int64_t code, const uintptr_t *frames,
                            uint32_t nframes, plume_record_view_t *v)
{
    plume_field_t f[] = {plume_str("k", "v")};
    plume_record_extra_t extra = {.error = true, .err_type = type, .has_code = has_code,
                                  .code = code, .frames = frames, .nframes = nframes};
    size_t n;
    uint8_t *rec = plume_test_record(42, PLUME_LEVEL_ERROR, "msg", f, 1, &extra, &n);
    assert_true(plume_record_read(rec, n, v));
    return rec;
}

static void record_round_trip(void **state)
{
    (void)state;
    uintptr_t frames[100];
    for (uint32_t i = 0; i < 100; i++)
        frames[i] = 0x1000 + i;
    plume_record_view_t v;
    uint8_t *rec = make_record("IOError", true, -7, frames, 3, &v);
    assert_true(v.error);
    assert_false(v.breadcrumb);
    assert_int_equal(v.stamp, 42);
    assert_int_equal(v.level, PLUME_LEVEL_ERROR);
    assert_int_equal(v.message_len, 3);
    assert_int_equal(v.nfields, 1);
    assert_int_equal(v.err_type_len, 7);
    assert_memory_equal(v.err_type, "IOError", 7);
    assert_true(v.has_code);
    assert_int_equal(v.code, -7);
    assert_int_equal(v.nframes, 3);
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(plume_record_frame(&v, i), 0x1000 + i);
    free(rec);

    /* no code, 100 frames kept at 64, a long type cut at 256 */
    char type[400];
    memset(type, 'T', sizeof(type) - 1);
    type[sizeof(type) - 1] = '\0';
    rec = make_record(type, false, 0, frames, 100, &v);
    assert_false(v.has_code);
    assert_int_equal(v.nframes, PLUME_RECORD_MAX_FRAMES);
    assert_int_equal(plume_record_frame(&v, 63), 0x1000 + 63);
    assert_int_equal(v.err_type_len, PLUME_RECORD_MAX_TYPE);
    free(rec);

    /* no frames at all */
    rec = make_record("E", false, 0, NULL, 0, &v);
    assert_int_equal(v.nframes, 0);
    free(rec);
}

static void malformed_records(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_record_view_t v;
    /* [stamp, level, msg, {}, type, code, frames] with a bad element each */
    for (int bad = 0; bad < 6; bad++) {
        plume_buf_reset(&b);
        plume_mp_array_header(&b, 7);
        plume_buf_append(&b, "\xcf\0\0\0\0\0\0\0\1", 9);
        plume_mp_uint(&b, PLUME_LEVEL_ERROR);
        plume_mp_cstr(&b, "m");
        plume_mp_map_header(&b, bad == 0 ? 1 : 0); /* 0: a map cut short */
        if (bad == 1)
            plume_mp_uint(&b, 5); /* type not a str */
        else
            plume_mp_cstr(&b, "E");
        if (bad == 2)
            plume_mp_cstr(&b, "x"); /* code not an int */
        else
            plume_mp_nil(&b);
        uint8_t fr[16] = {0};
        if (bad == 3)
            plume_mp_bin(&b, fr, 12); /* not whole addresses */
        else if (bad == 4)
            plume_mp_cstr(&b, "frames"); /* not a bin */
        else
            plume_mp_bin(&b, fr, 16);
        if (bad == 5)
            plume_mp_nil(&b); /* trailing bytes */
        assert_false(plume_record_read(b.data, b.len, &v));
        if (bad == 5) { /* the same without the trailing byte reads */
            assert_true(plume_record_read(b.data, b.len - 1, &v));
            assert_int_equal(v.nframes, 2);
        }
    }
    /* 65 frames: more than a record ever holds */
    plume_buf_reset(&b);
    plume_mp_array_header(&b, 7);
    plume_buf_append(&b, "\xcf\0\0\0\0\0\0\0\1", 9);
    plume_mp_uint(&b, PLUME_LEVEL_ERROR);
    plume_mp_nil(&b);
    plume_mp_map_header(&b, 0);
    plume_mp_cstr(&b, "E");
    plume_mp_int(&b, 1);
    uint8_t big[65 * 8] = {0};
    plume_mp_bin(&b, big, sizeof(big));
    assert_false(plume_record_read(b.data, b.len, &v));
    plume_buf_free(&b);
}

/* The module of libc (through a function only libc defines). */
static uintptr_t libc_addr(void) { return (uintptr_t)&gnu_get_libc_version + 4; }

/* The `error` map written for v by m, as a buffer (caller frees). */
static plume_buf_t write_map(const plume_error_map_t *m, const plume_record_view_t *v)
{
    plume_buf_t out;
    plume_buf_init(&out, 0);
    assert_true(plume_error_map_write(m, &out, v, 1234, "worker-7"));
    return out;
}

static plume_mp_value_t get(plume_mp_reader_t r, const char *key, bool *found)
{
    plume_mp_value_t v = {0};
    *found = plume_test_mp_find(&r, key) && plume_mp_read(&r, &v);
    return v;
}

/* Reader on element i of the array under `key` of the map at top. */
static plume_mp_reader_t elem(plume_mp_reader_t top, const char *key, uint32_t i, uint32_t *count)
{
    assert_true(plume_test_mp_find(&top, key));
    plume_mp_value_t a;
    assert_true(plume_mp_read(&top, &a));
    assert_int_equal(a.type, PLUME_MP_ARRAY);
    *count = a.count;
    assert_true(i < a.count);
    for (uint32_t k = 0; k < i; k++)
        assert_true(plume_mp_skip(&top));
    return top;
}

static void map_contents(void **state)
{
    (void)state;
    plume_options_t *o = plume_options_new();
    plume_error_map_t m;
    assert_true(plume_error_map_init(&m, o));
    assert_true(plume_modules_current()->count > 1);

    uintptr_t here = (uintptr_t)&test_error_map_here + 4;
    uintptr_t frames[] = {here, libc_addr(), 0x10, here + 1};
    plume_record_view_t v;
    uint8_t *rec = make_record("ConnErr", true, 111, frames, 4, &v);
    plume_buf_t out = write_map(&m, &v);
    plume_mp_reader_t top;
    plume_mp_reader_init(&top, out.data, out.len);
    plume_mp_reader_t whole = top;
    assert_true(plume_mp_skip(&whole));
    assert_ptr_equal(whole.p, out.data + out.len); /* one complete map */

    bool found;
    plume_mp_value_t x = get(top, "type", &found);
    assert_true(found && plume_mp_str_eq(&x, "ConnErr"));
    x = get(top, "value", &found);
    assert_true(found && plume_mp_str_eq(&x, "msg"));
    x = get(top, "code", &found);
    assert_true(found && x.u == 111);
    x = get(top, "mechanism", &found);
    assert_true(found && plume_mp_str_eq(&x, "generic"));
    x = get(top, "handled", &found);
    assert_true(found && x.type == PLUME_MP_BOOL && x.b);
    plume_mp_reader_t th = top;
    assert_true(plume_test_mp_find(&th, "thread"));
    x = get(th, "id", &found);
    assert_true(found && x.u == 1234);
    x = get(th, "name", &found);
    assert_true(found && plume_mp_str_eq(&x, "worker-7"));

    /* frames, in order: main (module 0, in_app), libc (module 1), none, main */
    uint32_t nframes, nmods;
    uint64_t want_module[] = {0, 1, UINT64_MAX, 0};
    bool want_in_app[] = {true, false, false, true};
    for (uint32_t i = 0; i < 4; i++) {
        plume_mp_reader_t f = elem(top, "frames", i, &nframes);
        assert_int_equal(nframes, 4);
        x = get(f, "addr", &found);
        assert_true(found);
        assert_int_equal(x.u, frames[i]);
        x = get(f, "module", &found);
        if (want_module[i] == UINT64_MAX) {
            assert_false(found);
        } else {
            assert_true(found);
            assert_int_equal(x.u, want_module[i]);
        }
        x = get(f, "in_app", &found);
        assert_true(found && x.type == PLUME_MP_BOOL);
        assert_int_equal(x.b, want_in_app[i]);
    }
    /* modules: the main executable, then libc, once each */
    plume_mp_reader_t mod = elem(top, "modules", 0, &nmods);
    assert_int_equal(nmods, 2);
    x = get(mod, "main", &found);
    assert_true(found && x.b);
    uint64_t base = get(mod, "addr", &found).u, size = get(mod, "size", &found).u;
    assert_true(here >= base && here < base + size);
    x = get(mod, "build_id", &found); /* gcc/ld on Debian add one */
    assert_true(found && x.type == PLUME_MP_BIN && x.len >= 16);
    mod = elem(top, "modules", 1, &nmods);
    x = get(mod, "main", &found);
    assert_true(found && !x.b);
    x = get(mod, "path", &found);
    assert_true(found && memmem(x.s, x.len, "libc", 4));
    char libc_path[4096];
    assert_true(x.len < sizeof(libc_path));
    memcpy(libc_path, x.s, x.len);
    libc_path[x.len] = '\0';
    base = get(mod, "addr", &found).u;
    size = get(mod, "size", &found).u;
    assert_true(libc_addr() >= base && libc_addr() < base + size);
    plume_buf_free(&out);
    plume_error_map_free(&m);

    /* an in_app prefix covering libc's directory */
    assert_int_equal(plume_options_add_in_app_prefix(o, dirname(libc_path)), PLUME_OK);
    assert_true(plume_error_map_init(&m, o));
    out = write_map(&m, &v);
    plume_mp_reader_init(&top, out.data, out.len);
    plume_mp_reader_t f = elem(top, "frames", 1, &nframes);
    x = get(f, "in_app", &found);
    assert_true(found && x.b);
    f = elem(top, "frames", 2, &nframes);
    x = get(f, "in_app", &found);
    assert_true(found && !x.b);
    plume_buf_free(&out);
    plume_error_map_free(&m);
    free(rec);

    /* no message, no code, no frames, no thread name: keys left out */
    rec = make_record("E", false, 0, NULL, 0, &v);
    v.message = NULL;
    assert_true(plume_error_map_init(&m, o));
    plume_buf_init(&out, 0);
    assert_true(plume_error_map_write(&m, &out, &v, 9, ""));
    plume_mp_reader_init(&top, out.data, out.len);
    get(top, "value", &found);
    assert_false(found);
    get(top, "code", &found);
    assert_false(found);
    th = top;
    assert_true(plume_test_mp_find(&th, "thread"));
    get(th, "name", &found);
    assert_false(found);
    mod = elem(top, "modules", 0, &nmods);
    assert_int_equal(nmods, 1); /* the main executable alone */
    /* a buffer too small fails */
    plume_buf_t tiny;
    plume_buf_init(&tiny, 16);
    assert_false(plume_error_map_write(&m, &tiny, &v, 9, ""));
    plume_buf_free(&tiny);
    plume_buf_free(&out);
    plume_error_map_free(&m);
    free(rec);
    plume_options_free(o);
}

/* A refresh happens only when modules changed and a second has passed since
 * the last one. */
static void refresh_spacing(void **state)
{
    (void)state;
    plume_error_map_t m;
    assert_true(plume_error_map_init(&m, NULL));
    assert_true(m.last_refresh_ms != 0);
    uint64_t now = plume_mono_ms();
    const char *libs[] = {"libBrokenLocale.so.1", "libanl.so.1", "libthread_db.so.1",
                          "libresolv.so.2"};
    void *h = NULL;
    for (size_t i = 0; i < 4 && !h; i++)
        if (plume_modules_current() && !dlopen(libs[i], RTLD_NOLOAD | RTLD_LAZY))
            h = dlopen(libs[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        plume_error_map_free(&m);
        skip(); /* no library left to load here */
    }
    assert_true(plume_modules_changed());
    size_t before = plume_modules_current()->count;
    uint64_t refreshes = m.refreshes;
    assert_false(plume_error_map_refresh(&m, m.last_refresh_ms + 10)); /* too soon */
    assert_int_equal(plume_modules_current()->count, before);
    assert_true(plume_error_map_refresh(&m, now + PLUME_ERROR_MAP_REFRESH_MS + 10));
    assert_int_equal(plume_modules_current()->count, before + 1);
    assert_false(plume_modules_changed());
    /* unchanged: no refresh, however late */
    assert_false(plume_error_map_refresh(&m, now + 10 * PLUME_ERROR_MAP_REFRESH_MS));
    assert_int_equal(m.refreshes, refreshes + 1);
    dlclose(h);
    plume_error_map_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(record_round_trip),
        cmocka_unit_test(malformed_records),
        cmocka_unit_test(map_contents),
        cmocka_unit_test(refresh_spacing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
