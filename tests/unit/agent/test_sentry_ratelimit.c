/* SPDX-License-Identifier: MIT */
/* Sentry rate limits, rule by rule from PROTOCOLS.md: categories, the empty
 * list meaning all, several entries, the later deadline kept, the header on
 * a 200, a 429 with Retry-After (seconds, decimal, HTTP-date) or nothing
 * (60 s), malformed entries skipped, huge numbers capped at a day, blanks,
 * unknown categories, and the item-type to category mapping. */
#include "test_support.h"
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "sentry_ratelimit.h"

#define NOW 1795255200000ull /* 2026-11-21T10:00:00Z */
#define DAY 86400000ull

static void fresh_state_limits_nothing(void **state)
{
    (void)state;
    plume_sentry_ratelimit_t rl;
    memset(&rl, 0xff, sizeof(rl));
    plume_sentry_ratelimit_init(&rl);
    for (int c = 0; c < PLUME_SENTRY_CAT_COUNT; c++) {
        assert_false(plume_sentry_ratelimit_limited(&rl, plume_sentry_category_name(c), NOW));
        assert_int_equal(plume_sentry_ratelimit_until(&rl, plume_sentry_category_name(c)), 0);
    }
    assert_false(plume_sentry_ratelimit_limited(&rl, NULL, NOW));
    assert_int_equal(rl.unknown_categories, 0);
    assert_int_equal(rl.malformed_entries, 0);
    /* a 200 without headers changes nothing */
    plume_sentry_ratelimit_update(&rl, 200, NULL, NULL, NOW);
    plume_sentry_ratelimit_update(&rl, 200, NULL, "120", NOW);
    assert_false(plume_sentry_ratelimit_limited(&rl, "error", NOW));
    assert_int_equal(plume_sentry_ratelimit_until(&rl, NULL), 0);
}

static void one_category_on_a_200(void **state)
{
    (void)state;
    plume_sentry_ratelimit_t rl;
    plume_sentry_ratelimit_init(&rl);
    plume_sentry_ratelimit_update(&rl, 200, "60:error:organization", NULL, NOW);
    assert_true(plume_sentry_ratelimit_limited(&rl, "error", NOW));
    assert_true(plume_sentry_ratelimit_until(&rl, "error") == NOW + 60000);
    assert_false(plume_sentry_ratelimit_limited(&rl, "transaction", NOW));
    assert_false(plume_sentry_ratelimit_limited(&rl, "log_item", NOW));
    assert_false(plume_sentry_ratelimit_limited(&rl, NULL, NOW));
    /* the deadline is exclusive */
    assert_true(plume_sentry_ratelimit_limited(&rl, "error", NOW + 59999));
    assert_false(plume_sentry_ratelimit_limited(&rl, "error", NOW + 60000));
}

static void empty_category_list_is_all(void **state)
{
    (void)state;
    const char *headers[] = {"60::key", "60:", "60: :organization:quota", "60:;:key",
                             "60: ; ;:key"};
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        plume_sentry_ratelimit_t rl;
        plume_sentry_ratelimit_init(&rl);
        plume_sentry_ratelimit_update(&rl, 200, headers[i], NULL, NOW);
        assert_true(rl.until_ms[PLUME_SENTRY_CAT_ALL] == NOW + 60000);
        for (int c = 0; c < PLUME_SENTRY_CAT_COUNT; c++)
            assert_true(plume_sentry_ratelimit_limited(&rl, plume_sentry_category_name(c), NOW));
        assert_true(plume_sentry_ratelimit_limited(&rl, "no_such_category", NOW));
        assert_true(plume_sentry_ratelimit_limited(&rl, NULL, NOW));
        assert_true(plume_sentry_ratelimit_until(&rl, "error") == NOW + 60000);
        assert_int_equal(rl.malformed_entries, 0);
    }
}

static void several_entries_and_categories(void **state)
{
    (void)state;
    plume_sentry_ratelimit_t rl;
    plume_sentry_ratelimit_init(&rl);
    plume_sentry_ratelimit_update(
        &rl, 429, "60:error;transaction:key, 2700:default;attachment;log_item:organization",
        "5", NOW);
    assert_true(plume_sentry_ratelimit_until(&rl, "error") == NOW + 60000);
    assert_true(plume_sentry_ratelimit_until(&rl, "transaction") == NOW + 60000);
    assert_true(plume_sentry_ratelimit_until(&rl, "default") == NOW + 2700000);
    assert_true(plume_sentry_ratelimit_until(&rl, "attachment") == NOW + 2700000);
    assert_true(plume_sentry_ratelimit_until(&rl, "log_item") == NOW + 2700000);
    assert_false(plume_sentry_ratelimit_limited(&rl, "session", NOW));
    /* the header wins over Retry-After on a 429: "all" is untouched */
    assert_int_equal(rl.until_ms[PLUME_SENTRY_CAT_ALL], 0);
    /* category deadline vs "all": until() is the later of the two */
    plume_sentry_ratelimit_update(&rl, 200, "100::key", NULL, NOW);
    assert_true(plume_sentry_ratelimit_until(&rl, "error") == NOW + 100000);
    assert_true(plume_sentry_ratelimit_until(&rl, "default") == NOW + 2700000);
    assert_true(plume_sentry_ratelimit_until(&rl, "session") == NOW + 100000);
}

static void later_deadline_kept(void **state)
{
    (void)state;
    plume_sentry_ratelimit_t rl;
    plume_sentry_ratelimit_init(&rl);
    plume_sentry_ratelimit_update(&rl, 200, "120:error:key", NULL, NOW);
    plume_sentry_ratelimit_update(&rl, 200, "30:error:key", NULL, NOW);
    assert_true(plume_sentry_ratelimit_until(&rl, "error") == NOW + 120000);
    /* later response, later deadline: extended */
    plume_sentry_ratelimit_update(&rl, 200, "30:error:key", NULL, NOW + 100000);
    assert_true(plume_sentry_ratelimit_until(&rl, "error") == NOW + 130000);
    /* "0" never shortens */
    plume_sentry_ratelimit_update(&rl, 200, "0:error:key", NULL, NOW + 100000);
    assert_true(plume_sentry_ratelimit_until(&rl, "error") == NOW + 130000);
    /* the same category twice in one entry, and in two entries */
    plume_sentry_ratelimit_update(&rl, 200, "10:session;session:key,20:session:key", NULL, NOW);
    assert_true(plume_sentry_ratelimit_until(&rl, "session") == NOW + 20000);
    /* a 429 fallback keeps a later "all" deadline too */
    plume_sentry_ratelimit_update(&rl, 429, NULL, "300", NOW);
    plume_sentry_ratelimit_update(&rl, 429, NULL, "10", NOW);
    assert_true(rl.until_ms[PLUME_SENTRY_CAT_ALL] == NOW + 300000);
}

static void retry_after_on_429(void **state)
{
    (void)state;
    const struct {
        const char *retry_after;
        uint64_t want_ms;
    } cases[] = {
        {"30", 30000},
        {" 45 ", 45000},
        {"1.5", 1500},
        {"0.0001", 1}, /* a fraction of a millisecond rounds up */
        {"Sat, 21 Nov 2026 10:02:00 GMT", 120000},
        {"Saturday, 21-Nov-26 10:00:30 GMT", 30000},
        {"Sat Nov 21 10:01:00 2026", 60000},
        {"Sat, 21 Nov 2026 09:00:00 GMT", 0}, /* in the past: not limited */
        {NULL, 60000},
        {"", 60000},
        {"soon", 60000},
        {"-5", 60000},
        {"1e3", 60000},
        {"Sun, 32 Nov 2026 10:00:00 GMT", 60000},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        plume_sentry_ratelimit_t rl;
        plume_sentry_ratelimit_init(&rl);
        plume_sentry_ratelimit_update(&rl, 429, NULL, cases[i].retry_after, NOW);
        if (rl.until_ms[PLUME_SENTRY_CAT_ALL] != NOW + cases[i].want_ms)
            fail_msg("Retry-After \"%s\": got %llu ms, want %llu",
                     cases[i].retry_after ? cases[i].retry_after : "(none)",
                     (unsigned long long)(rl.until_ms[PLUME_SENTRY_CAT_ALL] - NOW),
                     (unsigned long long)cases[i].want_ms);
        assert_true(plume_sentry_ratelimit_limited(&rl, "error", NOW) == (cases[i].want_ms > 0));
        assert_true(plume_sentry_ratelimit_limited(&rl, "log_item", NOW) ==
                    (cases[i].want_ms > 0));
    }
    /* other statuses do not look at Retry-After */
    const int statuses[] = {200, 202, 413, 500, 503};
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        plume_sentry_ratelimit_t rl;
        plume_sentry_ratelimit_init(&rl);
        plume_sentry_ratelimit_update(&rl, statuses[i], NULL, "30", NOW);
        assert_false(plume_sentry_ratelimit_limited(&rl, NULL, NOW));
    }
}

static void blank_or_bad_header_on_429_falls_back(void **state)
{
    (void)state;
    const char *headers[] = {"", "  ", "abc:error", "60", ",,", "x:y, -1:error"};
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        plume_sentry_ratelimit_t rl;
        plume_sentry_ratelimit_init(&rl);
        plume_sentry_ratelimit_update(&rl, 429, headers[i], "7", NOW);
        assert_true(rl.until_ms[PLUME_SENTRY_CAT_ALL] == NOW + 7000);
        plume_sentry_ratelimit_init(&rl);
        plume_sentry_ratelimit_update(&rl, 429, headers[i], NULL, NOW);
        assert_true(rl.until_ms[PLUME_SENTRY_CAT_ALL] == NOW + 60000);
    }
    /* a well-formed entry naming only unknown categories is an answer: the
     * server limits something we do not send */
    plume_sentry_ratelimit_t rl;
    plume_sentry_ratelimit_init(&rl);
    plume_sentry_ratelimit_update(&rl, 429, "60:metric_bucket:organization:quota:custom", "7",
                                  NOW);
    assert_false(plume_sentry_ratelimit_limited(&rl, NULL, NOW));
    assert_false(plume_sentry_ratelimit_limited(&rl, "error", NOW));
    assert_int_equal(rl.unknown_categories, 1);
}

static void malformed_entries_skipped(void **state)
{
    (void)state;
    plume_sentry_ratelimit_t rl;
    plume_sentry_ratelimit_init(&rl);
    plume_sentry_ratelimit_update(&rl, 200,
                                  "x:error, 60:transaction:key, -5:session, 1e3:log_item, 60, "
                                  "+5:attachment, 5 5:profile, :replay, 0x10:monitor, "
                                  "1..5:security, inf:span, nan:feedback, 9:internal:k",
                                  NULL, NOW);
    assert_true(plume_sentry_ratelimit_until(&rl, "transaction") == NOW + 60000);
    assert_true(plume_sentry_ratelimit_until(&rl, "internal") == NOW + 9000);
    const char *untouched[] = {"error",   "session", "log_item", "attachment", "profile",
                               "replay",  "monitor", "security", "span",       "feedback"};
    for (size_t i = 0; i < sizeof(untouched) / sizeof(untouched[0]); i++)
        if (plume_sentry_ratelimit_limited(&rl, untouched[i], NOW))
            fail_msg("%s limited by a malformed entry", untouched[i]);
    assert_false(plume_sentry_ratelimit_limited(&rl, NULL, NOW));
    assert_int_equal(rl.malformed_entries, 11);
}

static void huge_numbers_capped(void **state)
{
    (void)state;
    plume_sentry_ratelimit_t rl;
    plume_sentry_ratelimit_init(&rl);
    plume_sentry_ratelimit_update(
        &rl, 200,
        "99999999999999999999999999999999999999:error:key, 86401:session:key, 86400:log_item",
        NULL, NOW);
    assert_true(plume_sentry_ratelimit_until(&rl, "error") == NOW + DAY);
    assert_true(plume_sentry_ratelimit_until(&rl, "session") == NOW + DAY);
    assert_true(plume_sentry_ratelimit_until(&rl, "log_item") == NOW + DAY);
    plume_sentry_ratelimit_update(&rl, 429, NULL, "18446744073709551616", NOW);
    assert_true(rl.until_ms[PLUME_SENTRY_CAT_ALL] == NOW + DAY);
    /* decimal with very many digits on both sides */
    plume_sentry_ratelimit_init(&rl);
    plume_sentry_ratelimit_update(&rl, 200, "1.000000000000000000000000000001:error", NULL, NOW);
    assert_true(plume_sentry_ratelimit_until(&rl, "error") == NOW + 1001);
    plume_sentry_ratelimit_update(&rl, 200, "2.:session, .25:log_byte", NULL, NOW);
    assert_true(plume_sentry_ratelimit_until(&rl, "session") == NOW + 2000);
    assert_true(plume_sentry_ratelimit_until(&rl, "log_byte") == NOW + 250);
    /* a "now" near the end of time saturates instead of wrapping */
    plume_sentry_ratelimit_init(&rl);
    plume_sentry_ratelimit_update(&rl, 200, "60:error", NULL, UINT64_MAX - 10);
    assert_true(plume_sentry_ratelimit_until(&rl, "error") == UINT64_MAX);
    assert_true(plume_sentry_ratelimit_limited(&rl, "error", UINT64_MAX - 1));
}

static void blanks_everywhere(void **state)
{
    (void)state;
    plume_sentry_ratelimit_t rl;
    plume_sentry_ratelimit_init(&rl);
    plume_sentry_ratelimit_update(&rl, 200,
                                  "  60 : error ; transaction : key ,\t30:session:org\t, ,", NULL,
                                  NOW);
    assert_true(plume_sentry_ratelimit_until(&rl, "error") == NOW + 60000);
    assert_true(plume_sentry_ratelimit_until(&rl, "transaction") == NOW + 60000);
    assert_true(plume_sentry_ratelimit_until(&rl, "session") == NOW + 30000);
    assert_int_equal(rl.malformed_entries, 0);
    assert_int_equal(rl.unknown_categories, 0);
}

static void unknown_categories_counted(void **state)
{
    (void)state;
    plume_sentry_ratelimit_t rl;
    plume_sentry_ratelimit_init(&rl);
    plume_sentry_ratelimit_update(&rl, 200, "60:foo;error;Error:key, 60:bar:key", NULL, NOW);
    assert_true(plume_sentry_ratelimit_limited(&rl, "error", NOW));
    assert_false(plume_sentry_ratelimit_limited(&rl, "foo", NOW));
    assert_false(plume_sentry_ratelimit_limited(&rl, NULL, NOW));
    assert_int_equal(rl.unknown_categories, 3); /* foo, Error (names are exact), bar */
    /* "all" is not a category name: it is the empty list */
    plume_sentry_ratelimit_update(&rl, 200, "60:all:key", NULL, NOW);
    assert_false(plume_sentry_ratelimit_limited(&rl, NULL, NOW));
    assert_int_equal(rl.unknown_categories, 4);
}

static void category_names(void **state)
{
    (void)state;
    const char *must[] = {"error",    "transaction", "session", "attachment",
                          "log_item", "log_byte",    "default", "security",
                          "profile",  "replay",      "monitor", "internal"};
    for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
        int c = plume_sentry_category_from_name(must[i], strlen(must[i]));
        assert_true(c > PLUME_SENTRY_CAT_ALL && c < PLUME_SENTRY_CAT_COUNT);
        assert_string_equal(plume_sentry_category_name(c), must[i]);
        /* each one can be limited on its own */
        plume_sentry_ratelimit_t rl;
        plume_sentry_ratelimit_init(&rl);
        char h[64];
        snprintf(h, sizeof(h), "10:%s:key", must[i]);
        plume_sentry_ratelimit_update(&rl, 200, h, NULL, NOW);
        for (size_t j = 0; j < sizeof(must) / sizeof(must[0]); j++)
            assert_true(plume_sentry_ratelimit_limited(&rl, must[j], NOW) == (i == j));
    }
    assert_int_equal(plume_sentry_category_from_name("err", 3), -1);
    assert_int_equal(plume_sentry_category_from_name("errors", 6), -1);
    assert_int_equal(plume_sentry_category_from_name("all", 3), -1);
    assert_int_equal(plume_sentry_category_from_name(NULL, 0), -1);
    assert_string_equal(plume_sentry_category_name(PLUME_SENTRY_CAT_ALL), "all");
    assert_null(plume_sentry_category_name(PLUME_SENTRY_CAT_COUNT));
}

static void item_types(void **state)
{
    (void)state;
    assert_string_equal(plume_sentry_item_category("event"), "error");
    assert_string_equal(plume_sentry_item_category("log"), "log_item");
    assert_string_equal(plume_sentry_item_category("session"), "session");
    assert_string_equal(plume_sentry_item_category("sessions"), "session");
    assert_string_equal(plume_sentry_item_category("attachment"), "attachment");
    assert_string_equal(plume_sentry_item_category("client_report"), "internal");
    assert_string_equal(plume_sentry_item_category("check_in"), "monitor");
    assert_string_equal(plume_sentry_item_category("replay_recording"), "replay");
    assert_string_equal(plume_sentry_item_category("something_new"), "default");
    assert_string_equal(plume_sentry_item_category(NULL), "default");

    plume_sentry_ratelimit_t rl;
    plume_sentry_ratelimit_init(&rl);
    plume_sentry_ratelimit_update(&rl, 200, "60:log_byte:org", NULL, NOW);
    assert_true(plume_sentry_ratelimit_item_limited(&rl, "log", NOW));
    assert_false(plume_sentry_ratelimit_item_limited(&rl, "event", NOW));
    plume_sentry_ratelimit_update(&rl, 200, "30:error:org", NULL, NOW);
    assert_true(plume_sentry_ratelimit_item_limited(&rl, "event", NOW));
    assert_false(plume_sentry_ratelimit_item_limited(&rl, "event", NOW + 30000));
    assert_true(plume_sentry_ratelimit_item_limited(&rl, "log", NOW + 30000));
    assert_false(plume_sentry_ratelimit_item_limited(&rl, "session", NOW));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fresh_state_limits_nothing),
        cmocka_unit_test(one_category_on_a_200),
        cmocka_unit_test(empty_category_list_is_all),
        cmocka_unit_test(several_entries_and_categories),
        cmocka_unit_test(later_deadline_kept),
        cmocka_unit_test(retry_after_on_429),
        cmocka_unit_test(blank_or_bad_header_on_429_falls_back),
        cmocka_unit_test(malformed_entries_skipped),
        cmocka_unit_test(huge_numbers_capped),
        cmocka_unit_test(blanks_everywhere),
        cmocka_unit_test(unknown_categories_counted),
        cmocka_unit_test(category_names),
        cmocka_unit_test(item_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
