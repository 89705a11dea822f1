/* SPDX-License-Identifier: MIT */
/* JSONTestSuite (nst/JSONTestSuite test_parsing/) against plume_json_to_mp:
 * every y_ document must be accepted and give exactly one msgpack value, every
 * n_ document must be rejected, every i_ document must merely not crash.
 * The same documents are also run through the line_event JSON path, which
 * must always produce one readable event. Prints
 * "JSONTestSuite: N y passed, M n rejected, K i ran". */
#include "test_support.h"
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "json_parse.h"
#include "line_event.h"
#include "mp.h"

/* Checks that out holds exactly one msgpack value; nesting can exceed what
 * plume_mp_skip allows (64), so this walks with its own, larger bound. */
static bool one_value(plume_mp_reader_t *r, int depth)
{
    plume_mp_value_t v;
    if (depth > 200 || !plume_mp_read(r, &v))
        return false;
    if (v.type == PLUME_MP_ARRAY || v.type == PLUME_MP_MAP) {
        uint64_t n = v.type == PLUME_MP_MAP ? 2ull * v.count : v.count;
        for (uint64_t i = 0; i < n; i++)
            if (!one_value(r, depth + 1))
                return false;
    }
    return true;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void json_test_suite(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", plume_test_conformance_path("json/test_parsing"));
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s", dir);
    char *names[1024];
    size_t count = 0;
    struct dirent *de;
    while ((de = readdir(d)) && count < 1024)
        if (strstr(de->d_name, ".json"))
            names[count++] = strdup(de->d_name);
    closedir(d);
    qsort(names, count, sizeof(names[0]), cmp_names);

    unsigned y_ok = 0, n_ok = 0, i_ran = 0, bad = 0;
    plume_buf_t out, ev, scratch;
    plume_buf_init(&out, 0);
    plume_buf_init(&ev, 0);
    plume_buf_init(&scratch, 0);
    for (size_t i = 0; i < count; i++) {
        char path[4200];
        size_t len;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        char *data = plume_test_read_file(path, &len);
        assert_non_null(data);
        plume_json_error_t err;
        plume_buf_reset(&out);
        bool ok = plume_json_to_mp(data, len, &out, &err);
        if (ok) {
            plume_mp_reader_t r;
            plume_mp_reader_init(&r, out.data, out.len);
            if (!one_value(&r, 0) || r.p != r.end) {
                print_error("%s: output is not exactly one msgpack value\n", names[i]);
                bad++;
            }
        } else if (out.len != 0 || err.msg[0] == '\0') {
            print_error("%s: failure left output or no message\n", names[i]);
            bad++;
        }
        switch (names[i][0]) {
        case 'y':
            if (ok)
                y_ok++;
            else {
                print_error("%s: rejected: %s\n", names[i], err.msg);
                bad++;
            }
            break;
        case 'n':
            if (!ok)
                n_ok++;
            else {
                print_error("%s: accepted\n", names[i]);
                bad++;
            }
            break;
        default:
            i_ran++;
            break;
        }
        /* the line path: always one event, readable by plume_mp_skip */
        for (int fmt = 0; fmt < 2; fmt++) {
            plume_buf_reset(&ev);
            plume_line_format_t f = fmt ? PLUME_FORMAT_JSON : PLUME_FORMAT_AUTO;
            assert_true(plume_line_to_event(data, len, false, f, 1, "stdin", &ev, &scratch, NULL));
            plume_mp_reader_t r;
            plume_mp_reader_init(&r, ev.data, ev.len);
            plume_event_view_t view;
            if (!plume_mp_skip(&r) || r.p != r.end || !plume_event_view(ev.data, ev.len, &view)) {
                print_error("%s: bad event from line_event\n", names[i]);
                bad++;
            }
        }
        free(data);
        free(names[i]);
    }
    plume_buf_free(&out);
    plume_buf_free(&ev);
    plume_buf_free(&scratch);
    print_message("JSONTestSuite: %u y passed, %u n rejected, %u i ran\n", y_ok, n_ok, i_ran);
    assert_true(y_ok + n_ok + i_ran > 300);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_test_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
