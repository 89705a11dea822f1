/* SPDX-License-Identifier: MIT */
/* SDK options (sdk/src/options.c) and statuses (status.c): defaults, every
 * setter's range checks (an out-of-range value leaves the option as it was),
 * string copies and clearing, DSN shape checks, NULL handling, and that every
 * status has its own message. */
#include "test_support.h"
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static void defaults(void **state)
{
    (void)state;
    plume_options_t *o = plume_options_new();
    assert_non_null(o);
    assert_null(o->axiom_dataset);
    assert_null(o->axiom_token);
    assert_null(o->sentry_dsn);
    assert_string_equal(plume_options_str(o->axiom_url, PLUME_DEFAULT_AXIOM_URL),
                        "https://api.axiom.co");
    assert_int_equal(o->ring_size, 1024 * 1024);
    assert_int_equal(o->min_level, PLUME_LEVEL_INFO);
    assert_true(o->sample_rate == 1.0);
    assert_int_equal(o->max_breadcrumbs, 100);
    plume_options_free(o);
    plume_options_free(NULL); /* allowed */
}

static void strings_are_copied_and_cleared(void **state)
{
    (void)state;
    plume_options_t *o = plume_options_new();
    char buf[32];
    strcpy(buf, "logs");
    assert_int_equal(plume_options_set_axiom_dataset(o, buf), PLUME_OK);
    strcpy(buf, "changed");
    assert_string_equal(o->axiom_dataset, "logs"); /* the caller's memory may change */
    assert_int_equal(plume_options_set_axiom_token(o, "xaat-1"), PLUME_OK);
    assert_int_equal(plume_options_set_release(o, "svc@1.2.3"), PLUME_OK);
    assert_int_equal(plume_options_set_environment(o, "staging"), PLUME_OK);
    assert_int_equal(plume_options_set_server_name(o, "node-1"), PLUME_OK);
    assert_int_equal(plume_options_set_data_dir(o, "/tmp/p"), PLUME_OK);
    assert_int_equal(plume_options_set_axiom_url(o, "http://127.0.0.1:1"), PLUME_OK);
    assert_int_equal(plume_options_set_axiom_org_id(o, "org"), PLUME_OK);
    assert_string_equal(o->release, "svc@1.2.3");
    assert_string_equal(o->environment, "staging");
    assert_string_equal(o->server_name, "node-1");
    assert_string_equal(o->data_dir, "/tmp/p");
    assert_string_equal(o->axiom_org_id, "org");
    /* NULL and "" go back to the default */
    assert_int_equal(plume_options_set_axiom_dataset(o, NULL), PLUME_OK);
    assert_null(o->axiom_dataset);
    assert_int_equal(plume_options_set_axiom_url(o, ""), PLUME_OK);
    assert_null(o->axiom_url);
    plume_options_free(o); /* ASan: every copy freed */
}

static void numbers_are_range_checked(void **state)
{
    (void)state;
    plume_options_t *o = plume_options_new();
    assert_int_equal(plume_options_set_ring_size(o, 64 * 1024), PLUME_OK);
    assert_int_equal(o->ring_size, 64 * 1024);
    size_t bad_sizes[] = {0, 2048, 3 * 4096, (32u << 20), 100000};
    for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
        assert_int_equal(plume_options_set_ring_size(o, bad_sizes[i]), PLUME_EINVAL);
        assert_int_equal(o->ring_size, 64 * 1024); /* unchanged */
    }
    assert_int_equal(plume_options_set_ring_size(o, 4096), PLUME_OK);
    assert_int_equal(plume_options_set_ring_size(o, 16u << 20), PLUME_OK);

    assert_int_equal(plume_options_set_min_level(o, PLUME_LEVEL_WARN), PLUME_OK);
    assert_int_equal(o->min_level, PLUME_LEVEL_WARN);
    assert_int_equal(plume_options_set_min_level(o, PLUME_LEVEL_NONE), PLUME_EINVAL);
    assert_int_equal(plume_options_set_min_level(o, (plume_level_t)6), PLUME_EINVAL);
    assert_int_equal(o->min_level, PLUME_LEVEL_WARN);

    assert_int_equal(plume_options_set_sample_rate(o, 0.25), PLUME_OK);
    assert_true(o->sample_rate == 0.25);
    assert_int_equal(plume_options_set_sample_rate(o, -0.1), PLUME_EINVAL);
    assert_int_equal(plume_options_set_sample_rate(o, 1.5), PLUME_EINVAL);
    assert_int_equal(plume_options_set_sample_rate(o, NAN), PLUME_EINVAL);
    assert_true(o->sample_rate == 0.25);
    assert_int_equal(plume_options_set_sample_rate(o, 0.0), PLUME_OK);
    assert_int_equal(plume_options_set_sample_rate(o, 1.0), PLUME_OK);

    assert_int_equal(plume_options_set_max_breadcrumbs(o, 0), PLUME_OK);
    assert_int_equal(plume_options_set_max_breadcrumbs(o, 1000), PLUME_OK);
    assert_int_equal(plume_options_set_max_breadcrumbs(o, 1001), PLUME_EINVAL);
    assert_int_equal(o->max_breadcrumbs, 1000);
    plume_options_free(o);
}

static void null_options_refused(void **state)
{
    (void)state;
    assert_int_equal(plume_options_set_axiom_token(NULL, "x"), PLUME_EINVAL);
    assert_int_equal(plume_options_set_sentry_dsn(NULL, "https://k@h/1"), PLUME_EINVAL);
    assert_int_equal(plume_options_set_ring_size(NULL, 4096), PLUME_EINVAL);
    assert_int_equal(plume_options_set_min_level(NULL, PLUME_LEVEL_INFO), PLUME_EINVAL);
    assert_int_equal(plume_options_set_sample_rate(NULL, 1.0), PLUME_EINVAL);
    assert_int_equal(plume_options_set_max_breadcrumbs(NULL, 1), PLUME_EINVAL);
}

static void dsn_shape(void **state)
{
    (void)state;
    const char *good[] = {"https://abc@o1.ingest.sentry.io/42", "http://k@127.0.0.1:9000/7",
                          "https://k@host/some/path/123", "https://k:secret@host/1"};
    const char *bad[] = {"abc@host/1",          "ftp://k@host/1",   "https://host/1",
                         "https://@host/1",     "https://k@/1",     "https://k@host/",
                         "https://k@host/12a",  "https://k@host",   "https://k@ho st/1",
                         "https://k@host/1\n"};
    plume_options_t *o = plume_options_new();
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_true(plume_dsn_valid(good[i]));
        assert_int_equal(plume_options_set_sentry_dsn(o, good[i]), PLUME_OK);
        assert_string_equal(o->sentry_dsn, good[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (plume_dsn_valid(bad[i]))
            fail_msg("accepted DSN '%s'", bad[i]);
        assert_int_equal(plume_options_set_sentry_dsn(o, bad[i]), PLUME_EINVAL);
    }
    assert_string_equal(o->sentry_dsn, good[3]); /* unchanged by the refusals */
    assert_int_equal(plume_options_set_sentry_dsn(o, NULL), PLUME_OK);
    assert_null(o->sentry_dsn);
    plume_options_free(o);
}

static int dummy_crash_hook(int signum, void *info, void *uc, void *user)
{
    (void)signum, (void)info, (void)uc, (void)user;
    return 0;
}

static int dummy_before_send(plume_outgoing_t *ev, void *user)
{
    (void)ev, (void)user;
    return 0;
}

static void error_and_routing_options(void **state)
{
    (void)state;
    plume_options_t *o = plume_options_new();
    assert_non_null(o);
    /* defaults */
    assert_true(o->crash_handler);
    assert_true(o->error_sample_rate == 1.0);
    assert_false(o->logs_to_sentry);
    assert_true(o->errors_to_axiom);
    assert_int_equal(o->n_in_app_prefixes, 0);
    assert_int_equal(o->n_scrub_fields, 7);
    assert_string_equal(o->scrub_fields[0], "password");
    assert_string_equal(o->scrub_fields[6], "cookie");

    assert_int_equal(plume_options_set_crash_handler(o, 0), PLUME_OK);
    assert_false(o->crash_handler);
    int user = 0;
    assert_int_equal(plume_options_set_on_crash(o, dummy_crash_hook, &user), PLUME_OK);
    assert_ptr_equal(o->on_crash, dummy_crash_hook);
    assert_ptr_equal(o->on_crash_user, &user);
    assert_int_equal(plume_options_set_before_send(o, dummy_before_send, &user), PLUME_OK);
    assert_ptr_equal(o->before_send, dummy_before_send);
    assert_int_equal(plume_options_set_logs_to_sentry(o, 1), PLUME_OK);
    assert_true(o->logs_to_sentry);
    assert_int_equal(plume_options_set_errors_to_axiom(o, 0), PLUME_OK);
    assert_false(o->errors_to_axiom);

    assert_int_equal(plume_options_set_error_sample_rate(o, 0.25), PLUME_OK);
    assert_true(o->error_sample_rate == 0.25);
    assert_int_equal(plume_options_set_error_sample_rate(o, 1.5), PLUME_EINVAL);
    assert_int_equal(plume_options_set_error_sample_rate(o, -0.1), PLUME_EINVAL);
    assert_true(o->error_sample_rate == 0.25);

    /* in_app prefixes: copied, at most 16, empty refused */
    char prefix[32];
    for (int i = 0; i < 16; i++) {
        snprintf(prefix, sizeof(prefix), "/opt/app%d/", i);
        assert_int_equal(plume_options_add_in_app_prefix(o, prefix), PLUME_OK);
    }
    assert_string_equal(o->in_app_prefixes[3], "/opt/app3/");
    assert_int_equal(plume_options_add_in_app_prefix(o, "/one/more/"), PLUME_EINVAL);
    assert_int_equal(plume_options_add_in_app_prefix(o, ""), PLUME_EINVAL);
    assert_int_equal(o->n_in_app_prefixes, 16);

    /* scrub list: replaced whole; a bad entry leaves it as it was; 0 = off */
    char name[16] = "pin";
    const char *names[] = {name, "ssn"};
    assert_int_equal(plume_options_set_scrub_fields(o, names, 2), PLUME_OK);
    name[0] = 'x'; /* copied */
    assert_int_equal(o->n_scrub_fields, 2);
    assert_string_equal(o->scrub_fields[0], "pin");
    const char *bad[] = {"ok", ""};
    assert_int_equal(plume_options_set_scrub_fields(o, bad, 2), PLUME_EINVAL);
    assert_int_equal(o->n_scrub_fields, 2);
    assert_string_equal(o->scrub_fields[1], "ssn");
    assert_int_equal(plume_options_set_scrub_fields(o, NULL, 0), PLUME_OK);
    assert_int_equal(o->n_scrub_fields, 0);
    plume_options_free(o);

    assert_int_equal(plume_options_set_crash_handler(NULL, 1), PLUME_EINVAL);
    assert_int_equal(plume_options_set_on_crash(NULL, NULL, NULL), PLUME_EINVAL);
    assert_int_equal(plume_options_add_in_app_prefix(NULL, "/x"), PLUME_EINVAL);
    assert_int_equal(plume_options_set_scrub_fields(NULL, NULL, 0), PLUME_EINVAL);
    assert_int_equal(plume_options_set_before_send(NULL, NULL, NULL), PLUME_EINVAL);
}

static void every_status_has_its_message(void **state)
{
    (void)state;
    plume_status_t all[] = {PLUME_OK,       PLUME_EINVAL,    PLUME_ENOMEM, PLUME_EALREADY,
                            PLUME_ENOTINIT, PLUME_ETIMEDOUT, PLUME_EIO};
    size_t n = sizeof(all) / sizeof(all[0]);
    for (size_t i = 0; i < n; i++) {
        const char *m = plume_strerror(all[i]);
        assert_non_null(m);
        assert_string_not_equal(m, "unknown status");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(m, plume_strerror(all[j]));
    }
    assert_string_equal(plume_strerror((plume_status_t)-99), "unknown status");
    assert_string_equal(plume_version(), PLUME_VERSION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(strings_are_copied_and_cleared),
        cmocka_unit_test(numbers_are_range_checked),
        cmocka_unit_test(null_options_refused),
        cmocka_unit_test(dsn_shape),
        cmocka_unit_test(error_and_routing_options),
        cmocka_unit_test(every_status_has_its_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
