/* SPDX-License-Identifier: MIT */
/* Records -> events (convert.c) end to end through the public API and a
 * local Axiom-compatible HTTP server: error events carry the most recent
 * breadcrumbs from every thread (explicit ones and, by default, logs at info
 * and above) in stamp order, and only those made before the error; every
 * event carries the global scope (tags, user, contexts) that was current
 * when it was logged, and the thread overlay pushed around it. */
#include "test_support.h"
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_test_server.h"
#include "plume/plume.h"

/* The received line whose message is `message` (a copy; NULL when none). */
static char *line_with(const char *text, const char *message)
{
    char needle[256];
    snprintf(needle, sizeof(needle), "\"message\":\"%s\"", message);
    const char *hit = strstr(text, needle);
    if (!hit)
        return NULL;
    const char *start = hit;
    while (start > text && start[-1] != '\n')
        start--;
    const char *end = strchr(hit, '\n');
    size_t n = end ? (size_t)(end - start) : strlen(start);
    char *line = malloc(n + 1);
    assert_non_null(line);
    memcpy(line, start, n);
    line[n] = '\0';
    return line;
}

/* True when the strings occur in `s` in this order (NULL-terminated list). */
static bool in_order(const char *s, const char *const *parts)
{
    for (; *parts; parts++) {
        const char *hit = strstr(s, *parts);
        if (!hit) {
            print_message("missing or out of order: %s\n", *parts);
            return false;
        }
        s = hit + strlen(*parts);
    }
    return true;
}

static void *crumb_from_other_thread(void *arg)
{
    (void)arg;
    PLUME_BREADCRUMB("http", "GET /a", plume_i64("status", 200));
    return NULL;
}

static void breadcrumbs_and_scope(void **state)
{
    (void)state;
    char *dir = plume_test_mkdtemp();
    char url[256];
    plume_test_http_server_t *srv = plume_test_http_server_answering(
        200, "{\"ingested\":1,\"failed\":0}", url, sizeof(url));
    plume_options_t *o = plume_options_new();
    assert_non_null(o);
    plume_options_set_axiom_url(o, url);
    plume_options_set_axiom_dataset(o, "sdk-test");
    plume_options_set_axiom_token(o, "xaat-test");
    plume_options_set_data_dir(o, dir);
    plume_options_set_min_level(o, PLUME_LEVEL_DEBUG);
    assert_int_equal(plume_options_set_max_breadcrumbs(o, 2), PLUME_OK);
    assert_int_equal(plume_init(o), PLUME_OK);

    assert_int_equal(plume_set_tag("region", "eu"), PLUME_OK);
    assert_int_equal(plume_set_user("u42", "a@example.com", NULL), PLUME_OK);
    plume_field_t app[] = {plume_str("build", "abc")};
    assert_int_equal(plume_set_context("app", app, 1), PLUME_OK);

    PLUME_BREADCRUMB("nav", "first"); /* evicted: only the 2 most recent are kept */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, crumb_from_other_thread, NULL), 0);
    pthread_join(th, NULL);
    PLUME_DEBUG("debug is not a breadcrumb");
    PLUME_INFO("info crumb");
    PLUME_SCOPE_PUSH(plume_str("request_id", "r-1"));
    PLUME_ERROR("boom", plume_i64("code", 7));
    plume_scope_pop();
    PLUME_ERROR("after pop");
    assert_int_equal(plume_set_tag("region", "us"), PLUME_OK);
    PLUME_INFO("later");
    assert_int_equal(plume_flush(20000), PLUME_OK);

    char *text = plume_test_http_server_ndjson(srv, NULL);
    char *boom = line_with(text, "boom");
    assert_non_null(boom);
    static const char *const boom_parts[] = {
        "\"code\":7",
        "\"request_id\":\"r-1\"",
        "\"thread.id\":",
        "\"tags\":{\"region\":\"eu\"}",
        "\"user\":{\"id\":\"u42\",\"email\":\"a@example.com\"}",
        "\"contexts\":{\"app\":{\"build\":\"abc\"}}",
        "\"breadcrumbs\":[{\"timestamp\":",
        "\"level\":\"info\",\"category\":\"http\",\"message\":\"GET /a\",\"data\":{\"status\":200}}",
        "{\"timestamp\":",
        "\"level\":\"info\",\"category\":\"log\",\"message\":\"info crumb\"}]",
        NULL};
    assert_true(in_order(boom, boom_parts));
    assert_null(strstr(boom, "first"));
    assert_null(strstr(boom, "debug is not"));
    assert_null(strstr(boom, "\"ip_address\""));

    char *after = line_with(text, "after pop");
    assert_non_null(after);
    char *after_crumbs = strstr(after, "\"breadcrumbs\"");
    assert_non_null(after_crumbs);
    *after_crumbs = '\0'; /* its own fields: the overlay was popped */
    assert_null(strstr(after, "request_id"));
    *after_crumbs = '"';
    static const char *const after_parts[] = {
        "\"message\":\"info crumb\"}", "\"level\":\"error\",\"category\":\"log\",\"message\":\"boom\"",
        NULL};
    assert_true(in_order(after, after_parts));

    char *later = line_with(text, "later");
    assert_non_null(later);
    assert_non_null(strstr(later, "\"tags\":{\"region\":\"us\"}"));
    assert_null(strstr(later, "breadcrumbs")); /* info events carry none */
    char *info = line_with(text, "info crumb");
    assert_non_null(info);
    assert_non_null(strstr(info, "\"tags\":{\"region\":\"eu\"}"));
    int lines = 0; /* breadcrumbs are not events: debug, info, boom, after pop, later */
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 5);

    free(boom);
    free(after);
    free(later);
    free(info);
    free(text);
    assert_int_equal(plume_shutdown(5000), PLUME_OK);
    plume_test_http_server_stop(srv);
    plume_test_rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(breadcrumbs_and_scope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
