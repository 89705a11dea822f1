/* SPDX-License-Identifier: MIT */
/* HTTP client against the test HTTP/1.1 server of tests/support/
 * http_test_server.h (threads of this test, 127.0.0.1, an ephemeral port). The
 * server records every request (request line, header block, body, which
 * connection it came on) and answers with a configured status, headers and
 * body; it can also hold its answers until N requests have arrived (proves
 * concurrency) or never answer (timeouts, aborts). Tests cover capture of
 * status/body/headers, the request as sent (headers, body, no Expect),
 * keep-alive, refused connections, timeouts, bounded bodies and headers,
 * several requests in flight, aborting on free (also from a done callback) and
 * argument checks. All waits have deadlines. */
#include "test_support.h"
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "http_test_server.h"
#include "loop.h"

#define DEADLINE_MS 10000

typedef plume_test_http_server_t server_t;
typedef plume_test_http_record_t record_t;

static uint64_t mono_ms(void) { return plume_test_http_clock_ms(CLOCK_MONOTONIC); }

/* ---- the test server (tests/support/http_test_server.h) ---- */

/* Starts a server that gives every request the same answer (or none: hang). */
static server_t *server_start(int status, const char *headers, const void *body, size_t body_len,
                              bool hang)
{
    server_t *s = plume_test_http_server_start();
    assert_non_null(s);
    plume_test_http_answer_t a = {.status = status, .headers = headers, .body = body,
                                  .body_len = body_len, .hang = hang};
    assert_true(plume_test_http_server_script(s, &a, 1));
    return s;
}

/* Request i as the server received it (fails the test if it has not arrived). */
static const record_t *rec(server_t *s, int i) { return plume_test_http_server_record(s, i); }
static int server_requests(server_t *s) { return plume_test_http_server_requests(s); }
static int server_connections(server_t *s) { return plume_test_http_server_stats(s).connections; }

/* ---- client side ---- */

typedef struct result {
    int done;
    int curl_code;
    long status;
    char error[CURL_ERROR_SIZE + 64];
    bool had_error;
    uint8_t *body;
    size_t body_len;
    bool truncated;
    double total;
    const char *want[4]; /* header names to capture */
    char *got[4];
    /* actions from the done callback */
    plume_http_t *h;
    plume_http_request_t *then_send;
    struct result *then_result;
    bool then_free;
} result_t;

static void on_done(const plume_http_response_t *r, void *arg)
{
    result_t *res = arg;
    res->done++;
    res->curl_code = r->curl_code;
    res->status = r->status;
    res->had_error = r->error != NULL;
    if (r->error)
        snprintf(res->error, sizeof(res->error), "%s", r->error);
    assert_non_null(r->body);
    free(res->body);
    res->body = malloc(r->body_len + 1);
    memcpy(res->body, r->body, r->body_len);
    res->body_len = r->body_len;
    res->truncated = r->body_truncated;
    res->total = r->total_seconds;
    for (int i = 0; i < 4 && res->want[i]; i++) {
        const char *v = plume_http_response_header(r, res->want[i]);
        free(res->got[i]);
        res->got[i] = v ? strdup(v) : NULL;
    }
    if (res->then_send) {
        res->then_send->arg = res->then_result;
        assert_int_equal(plume_http_send(res->h, res->then_send), 0);
        res->then_send = NULL;
    }
    if (res->then_free)
        plume_http_free(res->h);
}

/* assert_string_equal() that fails cleanly on NULL. */
#define assert_str(a, b)                                                                           \
    do {                                                                                           \
        assert_non_null(a);                                                                        \
        assert_string_equal(a, b);                                                                 \
    } while (0)

static void result_clear(result_t *r)
{
    free(r->body);
    for (int i = 0; i < 4; i++)
        free(r->got[i]);
}

static void run_until_done(plume_loop_t *l, result_t *const *rs, int n)
{
    uint64_t end = mono_ms() + DEADLINE_MS;
    for (;;) {
        int all = 1;
        for (int i = 0; i < n; i++)
            all &= rs[i]->done > 0;
        if (all)
            return;
        assert_true(mono_ms() < end);
        assert_true(plume_loop_run_once(l, 100) >= 0);
    }
}

typedef struct fixture {
    plume_loop_t *loop;
    plume_http_t *http;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->loop = plume_loop_new();
    plume_http_options_t o = {.user_agent = "plume-agent/0.1.0-test"};
    f->http = plume_http_new(f->loop, &o);
    if (!f->loop || !f->http)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    plume_http_free(f->http);
    plume_loop_free(f->loop);
    free(f);
    return 0;
}

static void fill_pattern(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31 + 7);
}

/* ---- tests ---- */

static void post_round_trip(void **state)
{
    fixture_t *f = *state;
    static const char resp_body[] = "{\"ingested\":1,\"failed\":0}";
    server_t *s = server_start(200,
                               "X-RateLimit-Reset: 1732190000\r\n"
                               "X-Spaced:   two  words \t\r\n",
                               resp_body, sizeof(resp_body) - 1, false);
    /* past libcurl's threshold (1 MiB) for adding "Expect: 100-continue" */
    enum { BODY = (2 << 20) + 1 };
    uint8_t *body = malloc(BODY);
    fill_pattern(body, BODY);
    char url[128];
    plume_test_http_server_url(s, "/v1/ingest/logs", url, sizeof(url));
    const char *hdrs[] = {"Authorization: Bearer xaat-123", "Content-Type: application/x-ndjson",
                          NULL};
    result_t r = {.want = {"x-ratelimit-reset", "X-SPACED", "X-Absent"}};
    plume_http_request_t req = {.method = "POST", .url = url, .headers = hdrs, .body = body,
                                .body_len = BODY, .timeout_ms = DEADLINE_MS, .done = on_done,
                                .arg = &r};
    assert_int_equal(plume_http_send(f->http, &req), 0);
    assert_int_equal(plume_http_in_flight(f->http), 1);
    assert_int_equal(r.done, 0); /* never from inside send */
    result_t *rs[] = {&r};
    run_until_done(f->loop, rs, 1);
    assert_int_equal(plume_http_in_flight(f->http), 0);

    assert_int_equal(r.done, 1);
    assert_int_equal(r.curl_code, CURLE_OK);
    assert_false(r.had_error);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, sizeof(resp_body) - 1);
    assert_memory_equal(r.body, resp_body, r.body_len);
    assert_false(r.truncated);
    assert_true(r.total >= 0.0);
    assert_str(r.got[0], "1732190000");
    assert_str(r.got[1], "two  words");
    assert_null(r.got[2]);

    /* what the server saw */
    assert_int_equal(server_requests(s), 1);
    const record_t *rc = rec(s, 0);
    assert_true(strncmp(rc->head, "POST /v1/ingest/logs HTTP/1.1\r\n", 31) == 0);
    char v[256];
    assert_true(plume_test_http_record_header(rc, "Authorization", v, sizeof(v)));
    assert_string_equal(v, "Bearer xaat-123");
    assert_true(plume_test_http_record_header(rc, "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "application/x-ndjson");
    assert_true(plume_test_http_record_header(rc, "User-Agent", v, sizeof(v)));
    assert_string_equal(v, "plume-agent/0.1.0-test");
    assert_true(plume_test_http_record_header(rc, "Content-Length", v, sizeof(v)));
    assert_string_equal(v, "2097153");
    assert_false(plume_test_http_record_header(rc, "Expect", v, sizeof(v)));
    assert_false(plume_test_http_record_header(rc, "Transfer-Encoding", v, sizeof(v)));
    assert_int_equal(rc->body_len, BODY);
    assert_memory_equal(rc->body, body, BODY);

    result_clear(&r);
    free(body);
    plume_test_http_server_stop(s);
}

static void error_statuses_are_captured(void **state)
{
    fixture_t *f = *state;
    const int codes[] = {429, 503, 401, 204};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        server_t *s = server_start(codes[i], "Retry-After: 7\r\n", NULL, 0, false);
        char url[128];
        plume_test_http_server_url(s, "/api/1/envelope/", url, sizeof(url));
        result_t r = {.want = {"Retry-After"}};
        plume_http_request_t req = {.url = url, .body = "x", .body_len = 1,
                                    .timeout_ms = DEADLINE_MS, .done = on_done, .arg = &r};
        assert_int_equal(plume_http_send(f->http, &req), 0);
        result_t *rs[] = {&r};
        run_until_done(f->loop, rs, 1);
        assert_int_equal(r.curl_code, CURLE_OK);
        assert_int_equal(r.status, codes[i]);
        assert_int_equal(r.body_len, 0);
        assert_str(r.got[0], "7");
        assert_true(strncmp(rec(s, 0)->head, "POST ", 5) == 0); /* default method */
        result_clear(&r);
        plume_test_http_server_stop(s);
    }
}

static void keep_alive_reuses_connection(void **state)
{
    fixture_t *f = *state;
    server_t *s = server_start(200, NULL, "ok", 2, false);
    char url[128];
    plume_test_http_server_url(s, "/a", url, sizeof(url));
    result_t r1 = {0}, r2 = {0}, r3 = {0};
    plume_http_request_t second = {.url = url, .body = "2", .body_len = 1,
                                   .timeout_ms = DEADLINE_MS, .done = on_done};
    r1.h = f->http;
    r1.then_send = &second; /* sent from the first's done callback */
    r1.then_result = &r2;
    plume_http_request_t req = {.url = url, .body = "1", .body_len = 1,
                                .timeout_ms = DEADLINE_MS, .done = on_done, .arg = &r1};
    assert_int_equal(plume_http_send(f->http, &req), 0);
    result_t *rs[] = {&r1, &r2};
    run_until_done(f->loop, rs, 2);
    /* and once more after the loop went idle */
    req.arg = &r3;
    req.body = "3";
    assert_int_equal(plume_http_send(f->http, &req), 0);
    result_t *rs3[] = {&r3};
    run_until_done(f->loop, rs3, 1);
    assert_int_equal(r1.status, 200);
    assert_int_equal(r2.status, 200);
    assert_int_equal(r3.status, 200);
    assert_int_equal(server_requests(s), 3);
    assert_int_equal(server_connections(s), 1); /* one TCP connection */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rec(s, i)->conn, 0);
        assert_int_equal(rec(s, i)->body_len, 1);
        assert_int_equal(rec(s, i)->body[0], '1' + i);
    }
    result_clear(&r1);
    result_clear(&r2);
    result_clear(&r3);
    plume_test_http_server_stop(s);
}

static void connection_refused(void **state)
{
    fixture_t *f = *state;
    /* bound but not listening: connecting is refused, and nobody can take the port */
    int fd;
    int port = plume_test_http_refusing_port(&fd);
    assert_true(port > 0);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", port);
    result_t r = {0};
    plume_http_request_t req = {.url = url, .body = "x", .body_len = 1,
                                .timeout_ms = DEADLINE_MS, .done = on_done, .arg = &r};
    assert_int_equal(plume_http_send(f->http, &req), 0);
    result_t *rs[] = {&r};
    run_until_done(f->loop, rs, 1);
    assert_int_equal(r.curl_code, CURLE_COULDNT_CONNECT);
    assert_int_equal(r.status, 0);
    assert_true(r.had_error);
    assert_true(strlen(r.error) > 0);
    result_clear(&r);
    close(fd);
}

static void timeout_reports_error(void **state)
{
    fixture_t *f = *state;
    server_t *s = server_start(200, NULL, NULL, 0, true);
    char url[128];
    plume_test_http_server_url(s, "/slow", url, sizeof(url));
    result_t r = {0};
    plume_http_request_t req = {.url = url, .body = "x", .body_len = 1, .timeout_ms = 300,
                                .done = on_done, .arg = &r};
    uint64_t t0 = mono_ms();
    assert_int_equal(plume_http_send(f->http, &req), 0);
    result_t *rs[] = {&r};
    run_until_done(f->loop, rs, 1);
    uint64_t took = mono_ms() - t0;
    assert_int_equal(r.curl_code, CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(r.status, 0);
    assert_true(r.had_error);
    assert_true(took >= 250 && took < DEADLINE_MS);
    assert_int_equal(server_requests(s), 1); /* the request did arrive */
    result_clear(&r);
    plume_test_http_server_stop(s);
}

static void response_body_bounded(void **state)
{
    fixture_t *f = *state;
    plume_loop_t *l = f->loop;
    plume_http_options_t o = {.max_response_body = 1000};
    plume_http_t *h = plume_http_new(l, &o);
    assert_non_null(h);
    enum { BIG = 100 * 1024 };
    uint8_t *big = malloc(BIG);
    fill_pattern(big, BIG);
    server_t *s = server_start(200, NULL, big, BIG, false);
    char url[128];
    plume_test_http_server_url(s, "/big", url, sizeof(url));
    result_t r[2] = {{0}, {0}};
    for (int i = 0; i < 2; i++) {
        plume_http_request_t req = {.method = "GET", .url = url, .timeout_ms = DEADLINE_MS,
                                    .done = on_done, .arg = &r[i]};
        assert_int_equal(plume_http_send(h, &req), 0);
        result_t *rs[] = {&r[i]};
        run_until_done(l, rs, 1);
        assert_int_equal(r[i].curl_code, CURLE_OK);
        assert_int_equal(r[i].status, 200);
        assert_int_equal(r[i].body_len, 1000);
        assert_true(r[i].truncated);
        assert_memory_equal(r[i].body, big, 1000);
        result_clear(&r[i]);
    }
    /* the rest of the body was read and dropped: the connection was reusable */
    assert_int_equal(server_connections(s), 1);
    assert_true(strncmp(rec(s, 1)->head, "GET /big HTTP/1.1\r\n", 19) == 0);
    assert_int_equal(rec(s, 1)->body_len, 0);
    plume_http_free(h);
    plume_test_http_server_stop(s);
    free(big);
}

static void response_headers_bounded(void **state)
{
    fixture_t *f = *state;
    /* one 9000-byte header (ignored), then 100 small ones: the first 64 kept */
    size_t cap = 9100 + 100 * 32;
    char *hdrs = malloc(cap), *p = hdrs;
    p += sprintf(p, "X-Big: ");
    memset(p, 'b', 9000);
    p += 9000;
    p += sprintf(p, "\r\n");
    for (int i = 0; i < 100; i++)
        p += sprintf(p, "X-H%d: v%d\r\n", i, i);
    server_t *s = server_start(200, hdrs, "ok", 2, false);
    char url[128];
    plume_test_http_server_url(s, "/h", url, sizeof(url));
    result_t r = {.want = {"X-H0", "x-h63", "X-H64", "X-Big"}};
    plume_http_request_t req = {.url = url, .timeout_ms = DEADLINE_MS, .done = on_done,
                                .arg = &r};
    assert_int_equal(plume_http_send(f->http, &req), 0);
    result_t *rs[] = {&r};
    run_until_done(f->loop, rs, 1);
    assert_int_equal(r.status, 200);
    assert_str(r.got[0], "v0");
    assert_str(r.got[1], "v63");
    assert_null(r.got[2]);
    assert_null(r.got[3]);
    result_clear(&r);
    plume_test_http_server_stop(s);
    free(hdrs);
}

static void several_in_flight(void **state)
{
    fixture_t *f = *state;
    enum { N = 4 };
    server_t *s = server_start(201, NULL, "done", 4, false);
    /* no answer until all N requests are in: serial sending would fail */
    plume_test_http_server_set_barrier(s, N, DEADLINE_MS);
    char url[128];
    plume_test_http_server_url(s, "/many", url, sizeof(url));
    result_t r[N];
    result_t *rs[N];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < N; i++) {
        rs[i] = &r[i];
        plume_http_request_t req = {.method = "PUT", .url = url, .body = "abc", .body_len = 3,
                                    .timeout_ms = DEADLINE_MS, .done = on_done, .arg = &r[i]};
        assert_int_equal(plume_http_send(f->http, &req), 0);
    }
    assert_int_equal(plume_http_in_flight(f->http), N);
    run_until_done(f->loop, rs, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].curl_code, CURLE_OK);
        assert_int_equal(r[i].status, 201);
        assert_memory_equal(r[i].body, "done", 4);
        result_clear(&r[i]);
    }
    assert_int_equal(server_connections(s), N);
    for (int i = 0; i < N; i++) {
        assert_true(strncmp(rec(s, i)->head, "PUT /many HTTP/1.1\r\n", 20) == 0);
        assert_memory_equal(rec(s, i)->body, "abc", 3);
    }
    assert_int_equal(plume_http_in_flight(f->http), 0);
    plume_test_http_server_stop(s);
}

static void max_host_connections_limits(void **state)
{
    fixture_t *f = *state;
    enum { N = 3 };
    plume_http_options_t o = {.max_host_connections = 1};
    plume_http_t *h = plume_http_new(f->loop, &o);
    server_t *s = server_start(200, NULL, "ok", 2, false);
    char url[128];
    plume_test_http_server_url(s, "/one", url, sizeof(url));
    result_t r[N];
    result_t *rs[N];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < N; i++) {
        rs[i] = &r[i];
        plume_http_request_t req = {.url = url, .body = "q", .body_len = 1,
                                    .timeout_ms = DEADLINE_MS, .done = on_done, .arg = &r[i]};
        assert_int_equal(plume_http_send(h, &req), 0);
    }
    run_until_done(f->loop, rs, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].status, 200);
        result_clear(&r[i]);
    }
    assert_int_equal(server_connections(s), 1); /* queued behind one connection */
    plume_http_free(h);
    plume_test_http_server_stop(s);
}

static void in_flight_is_bounded(void **state)
{
    fixture_t *f = *state;
    plume_http_t *h = plume_http_new(f->loop, NULL);
    result_t *r = calloc(PLUME_HTTP_MAX_IN_FLIGHT + 1, sizeof(*r));
    plume_http_request_t req = {.url = "http://127.0.0.1:1/", .done = on_done};
    for (int i = 0; i < PLUME_HTTP_MAX_IN_FLIGHT; i++) {
        req.arg = &r[i];
        assert_int_equal(plume_http_send(h, &req), 0);
    }
    req.arg = &r[PLUME_HTTP_MAX_IN_FLIGHT];
    assert_int_equal(plume_http_send(h, &req), -EAGAIN);
    assert_int_equal(plume_http_in_flight(h), PLUME_HTTP_MAX_IN_FLIGHT);
    plume_http_free(h); /* the loop never ran: all are aborted */
    for (int i = 0; i < PLUME_HTTP_MAX_IN_FLIGHT; i++) {
        assert_int_equal(r[i].done, 1);
        assert_int_equal(r[i].curl_code, CURLE_ABORTED_BY_CALLBACK);
        result_clear(&r[i]);
    }
    assert_int_equal(r[PLUME_HTTP_MAX_IN_FLIGHT].done, 0);
    free(r);
    assert_int_equal(plume_loop_run_once(f->loop, 0), 0);
}

/* Runs the loop once for up to 20 ms; false if it failed. */
static bool run_loop_once(void *loop) { return plume_loop_run_once(loop, 20) >= 0; }

/* Runs the loop until the server has seen n requests. */
static void run_until_server_has(plume_loop_t *l, server_t *s, int n)
{
    assert_true(plume_test_http_server_wait_requests(s, n, DEADLINE_MS, run_loop_once, l));
}

static void free_aborts_in_flight(void **state)
{
    fixture_t *f = *state;
    server_t *s = server_start(200, NULL, NULL, 0, true);
    plume_http_t *h = plume_http_new(f->loop, NULL);
    char url[128];
    plume_test_http_server_url(s, "/hang", url, sizeof(url));
    result_t r[2] = {{0}, {0}};
    for (int i = 0; i < 2; i++) {
        plume_http_request_t req = {.url = url, .body = "x", .body_len = 1, .done = on_done,
                                    .arg = &r[i]};
        assert_int_equal(plume_http_send(h, &req), 0);
    }
    run_until_server_has(f->loop, s, 2);
    assert_int_equal(r[0].done + r[1].done, 0);
    plume_http_free(h);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r[i].done, 1);
        assert_int_equal(r[i].curl_code, CURLE_ABORTED_BY_CALLBACK);
        assert_int_equal(r[i].status, 0);
        assert_true(r[i].had_error);
        result_clear(&r[i]);
    }
    /* the loop holds nothing of the freed client */
    assert_int_equal(plume_loop_run_once(f->loop, 0), 0);
    plume_test_http_server_stop(s);
}

static void free_from_done_callback(void **state)
{
    fixture_t *f = *state;
    server_t *fast = server_start(200, NULL, "ok", 2, false);
    server_t *slow = server_start(200, NULL, NULL, 0, true);
    plume_http_t *h = plume_http_new(f->loop, NULL);
    char url_fast[128], url_slow[128];
    plume_test_http_server_url(fast, "/f", url_fast, sizeof(url_fast));
    plume_test_http_server_url(slow, "/s", url_slow, sizeof(url_slow));
    result_t rf = {.h = h, .then_free = true}, rsl = {0};
    plume_http_request_t req_slow = {.url = url_slow, .done = on_done, .arg = &rsl};
    assert_int_equal(plume_http_send(h, &req_slow), 0);
    run_until_server_has(f->loop, slow, 1);
    plume_http_request_t req_fast = {.url = url_fast, .done = on_done, .arg = &rf};
    assert_int_equal(plume_http_send(h, &req_fast), 0);
    result_t *rs[] = {&rf};
    run_until_done(f->loop, rs, 1);
    assert_int_equal(rf.status, 200);
    assert_int_equal(rsl.done, 1);
    assert_int_equal(rsl.curl_code, CURLE_ABORTED_BY_CALLBACK);
    for (int i = 0; i < 3; i++)
        assert_true(plume_loop_run_once(f->loop, 0) >= 0);
    result_clear(&rf);
    result_clear(&rsl);
    plume_test_http_server_stop(fast);
    plume_test_http_server_stop(slow);
}

static void argument_checks(void **state)
{
    fixture_t *f = *state;
    result_t r = {0};
    const char *crlf[] = {"X-Ok: 1", "X-Bad: a\r\nInjected: yes", NULL};
    const char *lf[] = {"X-Bad: a\nb", NULL};
    plume_http_request_t req = {.url = "http://127.0.0.1:1/", .done = on_done, .arg = &r};
    plume_http_request_t bad = req;
    bad.headers = crlf;
    assert_int_equal(plume_http_send(f->http, &bad), -EINVAL);
    bad.headers = lf;
    assert_int_equal(plume_http_send(f->http, &bad), -EINVAL);
    bad = req;
    bad.url = NULL;
    assert_int_equal(plume_http_send(f->http, &bad), -EINVAL);
    bad = req;
    bad.done = NULL;
    assert_int_equal(plume_http_send(f->http, &bad), -EINVAL);
    bad = req;
    bad.method = "PO ST";
    assert_int_equal(plume_http_send(f->http, &bad), -EINVAL);
    bad.method = "";
    assert_int_equal(plume_http_send(f->http, &bad), -EINVAL);
    bad = req;
    bad.body_len = 10;
    assert_int_equal(plume_http_send(f->http, &bad), -EINVAL);
    assert_int_equal(plume_http_send(NULL, &req), -EINVAL);
    assert_int_equal(plume_http_in_flight(f->http), 0);
    assert_int_equal(plume_loop_run_once(f->loop, 0), 0);
    assert_int_equal(r.done, 0);
    assert_null(plume_http_new(NULL, NULL));
    plume_http_free(NULL);
    /* a non-HTTP scheme is refused by the transfer, with an error */
    bad = req;
    bad.url = "file:///etc/passwd";
    assert_int_equal(plume_http_send(f->http, &bad), 0);
    result_t *rs[] = {&r};
    run_until_done(f->loop, rs, 1);
    assert_int_equal(r.curl_code, CURLE_UNSUPPORTED_PROTOCOL);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.body_len, 0);
    result_clear(&r);
}

int main(void)
{
    /* the test talks to 127.0.0.1 only: never through a proxy from the env */
    setenv("no_proxy", "*", 1);
    setenv("NO_PROXY", "*", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(post_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(error_statuses_are_captured, setup, teardown),
        cmocka_unit_test_setup_teardown(keep_alive_reuses_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(connection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(timeout_reports_error, setup, teardown),
        cmocka_unit_test_setup_teardown(response_body_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(response_headers_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(several_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(max_host_connections_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(in_flight_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(free_aborts_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(free_from_done_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(argument_checks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
