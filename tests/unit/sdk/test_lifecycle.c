/* SPDX-License-Identifier: MIT */
/* The SDK's lifecycle and worker (lifecycle.c, worker.c) end to end inside
 * the process: misuse (NULL options, flush/shutdown before init, double
 * init, logging after shutdown) gives the documented statuses and counts;
 * events logged from two threads reach a local Axiom-compatible HTTP server
 * (zstd NDJSON, one line per event, with the fields, thread id, release,
 * environment and origin "sdk") after plume_flush(); plume_shutdown() with
 * the receiver down leaves the batches in the outbox. */
#include "test_support.h"
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_test_server.h"
#include "plume/plume.h"
#include "sdk_state.h"

static plume_options_t *options_for(const char *url, const char *dir)
{
    plume_options_t *o = plume_options_new();
    assert_non_null(o);
    assert_int_equal(plume_options_set_axiom_url(o, url), PLUME_OK);
    assert_int_equal(plume_options_set_axiom_dataset(o, "sdk-test"), PLUME_OK);
    assert_int_equal(plume_options_set_axiom_token(o, "xaat-test"), PLUME_OK);
    assert_int_equal(plume_options_set_data_dir(o, dir), PLUME_OK);
    assert_int_equal(plume_options_set_release(o, "svc@1.0.0"), PLUME_OK);
    assert_int_equal(plume_options_set_environment(o, "test"), PLUME_OK);
    assert_int_equal(plume_options_set_min_level(o, PLUME_LEVEL_DEBUG), PLUME_OK);
    return o;
}

static void misuse(void **state)
{
    (void)state;
    assert_int_equal(plume_init(NULL), PLUME_EINVAL);
    assert_int_equal(plume_flush(10), PLUME_ENOTINIT);
    assert_int_equal(plume_shutdown(10), PLUME_ENOTINIT);
    plume_stats_t before, after;
    plume_stats(&before);
    PLUME_INFO("nobody listens");
    plume_stats(&after);
    assert_true(after.calls_not_running == before.calls_not_running + 1);
    plume_stats(NULL); /* allowed */
}

static void *log_some(void *arg)
{
    int id = *(int *)arg;
    for (int i = 0; i < 500; i++)
        PLUME_INFO("request done", plume_i64("worker", id), plume_i64("i", i),
                   plume_str("path", "/api/orders"));
    return NULL;
}

static void events_reach_axiom(void **state)
{
    (void)state;
    char *dir = plume_test_mkdtemp();
    char url[256];
    plume_test_http_server_t *srv = plume_test_http_server_answering(
        200, "{\"ingested\":1,\"failed\":0}", url, sizeof(url));
    assert_int_equal(plume_init(options_for(url, dir)), PLUME_OK);
    assert_int_equal(plume_init(plume_options_new()), PLUME_EALREADY);

    int ids[2] = {1, 2};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, log_some, &ids[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    PLUME_WARN("last one", plume_bool("final", 1));
    assert_int_equal(plume_flush(20000), PLUME_OK);

    int lines = 0;
    char *text = plume_test_http_server_ndjson(srv, &lines);
    assert_int_equal(lines, 1001);
    assert_non_null(strstr(text, "\"message\":\"last one\""));
    assert_non_null(strstr(text, "\"final\":true"));
    assert_non_null(strstr(text, "\"worker\":2,\"i\":499"));
    assert_non_null(strstr(text, "\"release\":\"svc@1.0.0\""));
    assert_non_null(strstr(text, "\"environment\":\"test\""));
    assert_non_null(strstr(text, "\"thread.id\":"));
    assert_non_null(strstr(text, "\"level\":\"warn\""));
    free(text);
    char auth[128];
    assert_true(plume_test_http_record_header(plume_test_http_server_record(srv, 0),
                                              "Authorization", auth, sizeof(auth)));
    assert_string_equal(auth, "Bearer xaat-test");

    plume_stats_t st;
    plume_stats(&st);
    assert_true(st.events == 1001 && st.delivered == 1001);
    assert_int_equal(plume_shutdown(5000), PLUME_OK);
    plume_stats_t later;
    plume_stats(&later);
    PLUME_INFO("after shutdown");
    plume_stats(&st);
    assert_true(st.calls_not_running == later.calls_not_running + 1);
    plume_test_http_server_stop(srv);
    plume_test_rm_rf(dir);
    free(dir);
}

/* With the receiver refusing (500), shutdown times out and the batch stays
 * in the outbox for the next start. */
static void shutdown_keeps_undelivered(void **state)
{
    (void)state;
    char *dir = plume_test_mkdtemp();
    char url[256];
    plume_test_http_server_t *srv = plume_test_http_server_answering(500, "down", url, sizeof(url));
    assert_int_equal(plume_init(options_for(url, dir)), PLUME_OK);
    PLUME_ERROR("will wait in the outbox");
    assert_int_equal(plume_flush(300), PLUME_ETIMEDOUT);
    assert_int_equal(plume_shutdown(300), PLUME_ETIMEDOUT);
    char outbox[4200];
    snprintf(outbox, sizeof(outbox), "%s/outbox/axiom", dir);
    assert_int_equal(plume_test_count_files(outbox, ".batch"), 1);
    plume_test_http_server_stop(srv);
    plume_test_rm_rf(dir);
    free(dir);
}

/* Waits up to ms for the worker to have turned `n` records into events. */
static bool events_reach(uint64_t n, int ms)
{
    uint64_t end = plume_test_http_clock_ms(CLOCK_MONOTONIC) + (uint64_t)ms;
    plume_stats_t st;
    do {
        plume_stats(&st);
        if (st.events >= n)
            return true;
        sched_yield();
    } while (plume_test_http_clock_ms(CLOCK_MONOTONIC) < end);
    return false;
}

/* 700 info calls of 56 ring bytes each (a site record: header 20, i64 8,
 * str 4 + 16, length 4, padding). */
static void *fill_past_half(void *arg)
{
    (void)arg;
    for (int i = 0; i < 700; i++)
        PLUME_INFO("filling", plume_i64("i", i), plume_str("pad", "0123456789abcdef"));
    return NULL;
}

/* With the worker's poll stretched to 10 s, an error-level call and a ring
 * past half full still get drained within a second: the log calls wake it. */
static void errors_and_full_rings_wake_the_worker(void **state)
{
    (void)state;
    char *dir = plume_test_mkdtemp();
    plume_test_http_server_t *srv = plume_test_http_server_start();
    char url[256];
    plume_test_http_server_url(srv, "", url, sizeof(url));
    plume_sdk.poll_ms = 10000;
    plume_options_t *o = options_for(url, dir);
    assert_int_equal(plume_options_set_ring_size(o, 64 * 1024), PLUME_OK);
    assert_int_equal(plume_init(o), PLUME_OK);
    plume_stats_t st;
    plume_stats(&st);
    uint64_t base = st.events;
    assert_false(events_reach(base + 1, 50)); /* nothing logged yet: nothing drained */
    PLUME_INFO("quiet"); /* an info call alone does not wake it */
    assert_false(events_reach(base + 1, 200));
    PLUME_ERROR("loud");
    assert_true(events_reach(base + 2, 1000));
    /* A new thread (this one's ring dates from an earlier test, with the
     * default size) fills its 64 KiB ring past half with info calls only. */
    pthread_t filler;
    assert_int_equal(pthread_create(&filler, NULL, fill_past_half, NULL), 0);
    assert_int_equal(pthread_join(filler, NULL), 0);
    /* 56 ring bytes each: past half at call 586, which wakes the worker;
     * it drains everything logged so far */
    assert_true(events_reach(base + 2 + 586, 1000));
    assert_true(plume_shutdown(5000) != PLUME_ENOTINIT);
    plume_sdk.poll_ms = 0;
    plume_test_http_server_stop(srv);
    plume_test_rm_rf(dir);
    free(dir);
}

int main(void)
{
    setenv("no_proxy", "*", 1);
    setenv("NO_PROXY", "*", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(misuse),
        cmocka_unit_test(events_reach_axiom),
        cmocka_unit_test(shutdown_keeps_undelivered),
        cmocka_unit_test(errors_and_full_rings_wake_the_worker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
