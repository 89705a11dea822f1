/* SPDX-License-Identifier: MIT */
/* The Axiom sink: the ingest URL for each path style (trailing slashes, dataset
 * escaping, small buffers), and the sink end to end with the real loop and HTTP
 * client against the test HTTP/1.1 server of tests/support/http_test_server.h
 * (threads of this test, 127.0.0.1, an ephemeral port): events in, one POST out
 * with the bearer token, NDJSON content type, the codec's Content-Encoding and
 * the org id header, a body that decompresses to one line per event; then
 * Axiom's response rules: a 200 with failed events counts them as rejected,
 * 401/403 stop the sink and keep its outbox, 429/430 hold every request until
 * the reset time, 5xx is retried, another 4xx is dead-lettered. All waits have
 * deadlines. */
#include "test_support.h"
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axiom_encode.h"
#include "axiom_sink.h"
#include "compress.h"
#include "config.h"
#include "event.h"
#include "http.h"
#include "http_test_server.h"
#include "loop.h"
#include "metrics.h"
#include "mp.h"

#define DEADLINE_MS 10000
#define T0 (1795255200ull * 1000000000ull) /* 2026-11-21T10:00:00Z */

typedef plume_test_http_server_t server_t;
typedef plume_test_http_answer_t answer_t;
typedef plume_test_http_record_t record_t;

static uint64_t clock_ms(clockid_t id) { return plume_test_http_clock_ms(id); }
static uint64_t mono_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

/* Request i as the server received it (fails the test if it has not arrived). */
static const record_t *rec(server_t *s, int i) { return plume_test_http_server_record(s, i); }
static int server_count(server_t *s) { return plume_test_http_server_requests(s); }

/* Scripts the server's answers: request i gets a[min(i, n - 1)]. */
static void script(server_t *s, const answer_t *a, size_t n)
{
    assert_true(plume_test_http_server_script(s, a, n));
}

/* ---- ingest URL ---- */

static const char *url_for(const char *base, int style, const char *dataset)
{
    static char out[2048];
    plume_axiom_config_t c = {.url = (char *)base, .path_style = style, .dataset = (char *)dataset};
    memset(out, '#', sizeof(out));
    plume_axiom_ingest_url(&c, out, sizeof(out));
    return out;
}

static void ingest_url_styles(void **state)
{
    (void)state;
    /* auto: the edge path for *.edge.axiom.co, the legacy path otherwise */
    assert_string_equal(url_for("https://api.axiom.co", PLUME_AXIOM_PATH_AUTO, "logs"),
                        "https://api.axiom.co/v1/datasets/logs/ingest");
    assert_string_equal(url_for("https://us-east-1.aws.edge.axiom.co", PLUME_AXIOM_PATH_AUTO,
                                "logs"),
                        "https://us-east-1.aws.edge.axiom.co/v1/ingest/logs");
    assert_string_equal(url_for("https://eu-central-1.aws.edge.axiom.co/", PLUME_AXIOM_PATH_AUTO,
                                "logs"),
                        "https://eu-central-1.aws.edge.axiom.co/v1/ingest/logs");
    assert_string_equal(url_for("http://127.0.0.1:8080", PLUME_AXIOM_PATH_AUTO, "logs"),
                        "http://127.0.0.1:8080/v1/datasets/logs/ingest");
    /* explicit styles win over the host name */
    assert_string_equal(url_for("http://127.0.0.1:8080", PLUME_AXIOM_PATH_EDGE, "logs"),
                        "http://127.0.0.1:8080/v1/ingest/logs");
    assert_string_equal(url_for("https://us-east-1.aws.edge.axiom.co", PLUME_AXIOM_PATH_LEGACY,
                                "logs"),
                        "https://us-east-1.aws.edge.axiom.co/v1/datasets/logs/ingest");
    /* a base path (proxy) is kept, trailing slashes are not doubled */
    assert_string_equal(url_for("https://proxy.example/axiom///", PLUME_AXIOM_PATH_LEGACY, "logs"),
                        "https://proxy.example/axiom/v1/datasets/logs/ingest");
    assert_string_equal(url_for("https://proxy.example/axiom/", PLUME_AXIOM_PATH_EDGE, "logs"),
                        "https://proxy.example/axiom/v1/ingest/logs");
}

static void ingest_url_escapes_dataset(void **state)
{
    (void)state;
    /* unreserved characters stay, everything else is %XX (upper-case hex) */
    assert_string_equal(url_for("https://api.axiom.co", PLUME_AXIOM_PATH_LEGACY, "my-logs_v2.0~x"),
                        "https://api.axiom.co/v1/datasets/my-logs_v2.0~x/ingest");
    assert_string_equal(url_for("https://api.axiom.co", PLUME_AXIOM_PATH_LEGACY, "a b/c?d#e%f"),
                        "https://api.axiom.co/v1/datasets/a%20b%2Fc%3Fd%23e%25f/ingest");
    assert_string_equal(url_for("https://x.edge.axiom.co", PLUME_AXIOM_PATH_AUTO,
                                "caf\xc3\xa9/../x"),
                        "https://x.edge.axiom.co/v1/ingest/caf%C3%A9%2F..%2Fx");
}

static void ingest_url_bounded(void **state)
{
    (void)state;
    plume_axiom_config_t c = {.url = "https://api.axiom.co", .dataset = "logs"};
    char out[24];
    memset(out, '#', sizeof(out));
    plume_axiom_ingest_url(&c, out, 16);
    assert_string_equal(out, "https://api.axi"); /* cut, terminated */
    assert_int_equal(out[16], '#');              /* nothing written past the size */
    /* a huge dataset name cannot overflow anything */
    char *big = malloc(5000);
    memset(big, '/', 4999);
    big[4999] = '\0';
    c.dataset = big;
    char url[8192];
    plume_axiom_ingest_url(&c, url, sizeof(url));
    assert_true(strncmp(url, "https://api.axiom.co/v1/datasets/%2F%2F", 39) == 0);
    assert_true(strlen(url) < sizeof(url));
    free(big);
}

/* ---- the sink end to end ---- */

typedef struct fixture {
    plume_loop_t *loop;
    plume_http_t *http;
    server_t *srv;
    char *root;
    char url[256];
    plume_axiom_config_t cfg;
    plume_metrics_t m;
    plume_sink_t *sink;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f || !(f->loop = plume_loop_new()) || !(f->http = plume_http_new(f->loop, NULL)) ||
        !(f->root = plume_test_mkdtemp()))
        return -1;
    if (!(f->srv = plume_test_http_server_start()))
        return -1;
    plume_test_http_server_url(f->srv, "/", f->url, sizeof(f->url));
    f->cfg = (plume_axiom_config_t){
        .enabled = true,
        .url = f->url,
        .path_style = PLUME_AXIOM_PATH_LEGACY,
        .dataset = "logs",
        .token = "xaat-test-token",
        .org_id = "org-123",
        .compression = PLUME_CODEC_ZSTD,
        .batch_max_events = 1000,
        .batch_max_bytes = 1u << 20,
        .batch_max_age_ms = 60000, /* only flush() seals in these tests */
        .max_in_flight = 1,
        .request_timeout_ms = DEADLINE_MS,
        .connect_timeout_ms = DEADLINE_MS,
        .retry_initial_ms = 50,
        .retry_max_ms = 100,
        .outbox_max_size = 0,
        .outbox_fsync = false,
    };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    plume_http_free(f->http); /* aborts what is in flight while the sink still exists */
    if (f->sink)
        f->sink->ops->free(f->sink);
    plume_loop_free(f->loop);
    plume_test_http_server_stop(f->srv);
    plume_test_rm_rf(f->root);
    free(f->root);
    free(f);
    return 0;
}

static void start(fixture_t *f)
{
    char err[512] = "";
    f->sink = plume_axiom_sink_new(f->loop, f->http, &f->cfg, f->root, 64u << 20, &f->m, err,
                                   sizeof(err));
    if (!f->sink)
        fail_msg("axiom sink: %s", err);
    assert_string_equal(f->sink->name, "axiom");
}

/* Builds event `seq` and submits it; appends its Axiom line to `want`. */
static void submit(fixture_t *f, const char *msg, uint64_t seq, plume_buf_t *want)
{
    plume_buf_t ev;
    plume_buf_init(&ev, 0);
    plume_event_builder_t eb;
    plume_event_begin(&eb, &ev, T0 + seq);
    plume_event_set_level(&eb, PLUME_LEVEL_WARN);
    plume_event_set_message(&eb, msg, strlen(msg));
    plume_event_set_origin(&eb, "stdin");
    plume_event_fields_begin(&eb);
    plume_mp_cstr(&ev, "seq");
    plume_mp_uint(&ev, seq);
    plume_event_field_added(&eb);
    plume_event_fields_end(&eb);
    assert_true(plume_event_end(&eb));
    if (want)
        assert_true(plume_axiom_encode_event(want, ev.data, ev.len));
    plume_event_view_t view;
    assert_true(plume_event_view(ev.data, ev.len, &view));
    f->sink->ops->submit(f->sink, &view);
    plume_buf_free(&ev);
}

static bool sink_idle(fixture_t *f) { return f->sink->ops->idle(f->sink); }
static bool sink_stopped(fixture_t *f) { return f->sink->ops->stopped(f->sink); }

static void run_until(fixture_t *f, bool (*done)(fixture_t *))
{
    uint64_t end = mono_ms() + DEADLINE_MS;
    while (!done(f)) {
        assert_true(mono_ms() < end);
        assert_true(plume_loop_run_once(f->loop, 50) >= 0);
    }
}

static bool two_batches_stored(fixture_t *f) { return f->m.batches >= 2; }

/* Runs the loop once for up to 20 ms; false if it failed. */
static bool run_loop_once(void *loop) { return plume_loop_run_once(loop, 20) >= 0; }

static void run_ready(fixture_t *f)
{
    for (int i = 0; i < 5; i++)
        assert_true(plume_loop_run_once(f->loop, 0) >= 0);
}

static void expect_header(const record_t *r, const char *name, const char *want)
{
    char v[512];
    if (!plume_test_http_record_header(r, name, v, sizeof(v)))
        fail_msg("request has no %s header:\n%s", name, r->head);
    if (strcmp(v, want) != 0)
        fail_msg("%s is '%s', want '%s'", name, v, want);
}

/* Decompresses a recorded body with `codec` and compares it with `want`. */
static void expect_body(const record_t *r, plume_codec_t codec, const plume_buf_t *want)
{
    plume_buf_t plain;
    plume_buf_init(&plain, 16u << 20);
    if (codec == PLUME_CODEC_NONE)
        assert_true(plume_buf_append(&plain, r->body, r->body_len));
    else
        assert_true(plume_decompress(codec, r->body, r->body_len, &plain));
    if (plain.len != want->len || memcmp(plain.data, want->data, want->len) != 0)
        fail_msg("body is\n%.*s\nwant\n%.*s", (int)plain.len, (const char *)plain.data,
                 (int)want->len, (const char *)want->data);
    plume_buf_free(&plain);
}

/* Number of *.batch files in <root>/<top>/axiom/. */
static int count_batches(const fixture_t *f, const char *top)
{
    char p[4200];
    snprintf(p, sizeof(p), "%s/%s/axiom", f->root, top);
    return plume_test_count_files(p, ".batch");
}

static size_t count_lines(const plume_buf_t *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->len; i++)
        n += b->data[i] == '\n';
    return n;
}

static void sink_posts_zstd_ndjson(void **state)
{
    fixture_t *f = *state;
    script(f->srv, &(answer_t){.status = 200, .text = "{\"ingested\":2,\"failed\":0}"}, 1);
    start(f);
    plume_buf_t want;
    plume_buf_init(&want, 0);
    submit(f, "first", 1, &want);
    submit(f, "second \"two\"", 2, &want);
    assert_int_equal(f->sink->ops->pending_events(f->sink), 2);
    assert_false(sink_idle(f));
    f->sink->ops->flush(f->sink);
    run_until(f, sink_idle);
    assert_int_equal(server_count(f->srv), 1);
    const record_t *r = rec(f->srv, 0);
    assert_true(strncmp(r->head, "POST /v1/datasets/logs/ingest HTTP/1.1\r\n", 40) == 0);
    expect_header(r, "Authorization", "Bearer xaat-test-token");
    expect_header(r, "Content-Type", "application/x-ndjson");
    expect_header(r, "Content-Encoding", "zstd");
    expect_header(r, "X-Axiom-Org-Id", "org-123");
    assert_int_equal(count_lines(&want), 2);
    expect_body(r, PLUME_CODEC_ZSTD, &want);
    assert_int_equal(f->sink->ops->pending_events(f->sink), 0);
    assert_int_equal(count_batches(f, "outbox"), 0);
    assert_false(sink_stopped(f));
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.batches = 1, .requests = 1, .delivered = 2});
    plume_buf_free(&want);
}

static void sink_gzip_edge_without_org(void **state)
{
    fixture_t *f = *state;
    f->cfg.compression = PLUME_CODEC_GZIP;
    f->cfg.path_style = PLUME_AXIOM_PATH_EDGE;
    f->cfg.dataset = "web logs";
    f->cfg.org_id = "";
    start(f);
    plume_buf_t want;
    plume_buf_init(&want, 0);
    for (uint64_t i = 0; i < 5; i++)
        submit(f, "gz", i, &want);
    f->sink->ops->flush(f->sink);
    run_until(f, sink_idle);
    assert_int_equal(server_count(f->srv), 1);
    const record_t *r = rec(f->srv, 0);
    assert_true(strncmp(r->head, "POST /v1/ingest/web%20logs HTTP/1.1\r\n", 37) == 0);
    expect_header(r, "Content-Encoding", "gzip");
    char v[64];
    assert_false(plume_test_http_record_header(r, "X-Axiom-Org-Id", v, sizeof(v)));
    assert_int_equal(count_lines(&want), 5);
    expect_body(r, PLUME_CODEC_GZIP, &want);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.batches = 1, .requests = 1, .delivered = 5});
    plume_buf_free(&want);
}

static void sink_uncompressed(void **state)
{
    fixture_t *f = *state;
    f->cfg.compression = PLUME_CODEC_NONE;
    start(f);
    plume_buf_t want;
    plume_buf_init(&want, 0);
    submit(f, "plain", 1, &want);
    f->sink->ops->flush(f->sink);
    run_until(f, sink_idle);
    assert_int_equal(server_count(f->srv), 1);
    char v[64];
    assert_false(plume_test_http_record_header(rec(f->srv, 0), "Content-Encoding", v, sizeof(v)));
    expect_body(rec(f->srv, 0), PLUME_CODEC_NONE, &want);
    plume_buf_free(&want);
}

static void partial_failure_counted(void **state)
{
    fixture_t *f = *state;
    script(f->srv,
           &(answer_t){.status = 200,
                       .text = "{\"ingested\":2,\"failed\":1,\"failures\":[{\"error\":\"x\"}]}"},
           1);
    start(f);
    for (uint64_t i = 0; i < 3; i++)
        submit(f, "maybe", i, NULL);
    f->sink->ops->flush(f->sink);
    run_until(f, sink_idle);
    assert_int_equal(server_count(f->srv), 1);
    assert_int_equal(count_batches(f, "outbox"), 0);
    assert_int_equal(count_batches(f, "failed"), 0);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.batches = 1, .requests = 1, .delivered = 3,
                                             .rejected_by_sink = 1});
}

static void auth_refused_stops_sink(void **state)
{
    static const int statuses[] = {401, 403};
    for (int k = 0; k < 2; k++) {
        fixture_t *f = *state;
        if (k) {
            teardown(state);
            assert_int_equal(setup(state), 0);
            f = *state;
        }
        script(f->srv,
               &(answer_t){.status = statuses[k], .text = "{\"message\":\"invalid token\"}"}, 1);
        start(f);
        submit(f, "a", 1, NULL);
        submit(f, "b", 2, NULL);
        f->sink->ops->flush(f->sink);
        run_until(f, sink_stopped);
        run_ready(f);
        /* more events after the stop are kept, never sent */
        submit(f, "c", 3, NULL);
        f->sink->ops->flush(f->sink);
        run_until(f, two_batches_stored);
        run_ready(f);
        assert_int_equal(plume_http_in_flight(f->http), 0);
        assert_int_equal(server_count(f->srv), 1);
        assert_true(sink_stopped(f));
        assert_false(sink_idle(f));
        assert_int_equal(f->sink->ops->pending_events(f->sink), 3);
        assert_int_equal(count_batches(f, "outbox"), 2);
        assert_int_equal(count_batches(f, "failed"), 0);
        plume_test_expect_metrics(&f->m, &(plume_metrics_t){.batches = 2, .requests = 1});
    }
}

/* A 429 (or 430) with a reset header in the future: no request before then. */
static void rate_limit_holds(void **state, int status, const char *header)
{
    fixture_t *f = *state;
    uint64_t reset = clock_ms(CLOCK_REALTIME) + 700;
    char limit[128];
    snprintf(limit, sizeof(limit), "%s: %" PRIu64 ".%03" PRIu64 "\r\n", header, reset / 1000,
             reset % 1000);
    script(f->srv,
           (answer_t[]){{.status = status, .headers = limit}, {.status = 200, .text = "{}"}}, 2);
    start(f);
    submit(f, "first", 1, NULL);
    f->sink->ops->flush(f->sink);
    /* a second batch waits behind the limit too */
    assert_true(
        plume_test_http_server_wait_requests(f->srv, 1, DEADLINE_MS, run_loop_once, f->loop));
    submit(f, "second", 2, NULL);
    f->sink->ops->flush(f->sink);
    run_until(f, sink_idle);
    assert_int_equal(server_count(f->srv), 3);
    for (int i = 1; i < 3; i++)
        if (rec(f->srv, i)->real_ms + 2 < reset)
            fail_msg("HTTP %d: request %d sent %" PRIu64 " ms before the reset time", status, i,
                     reset - rec(f->srv, i)->real_ms);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.batches = 2, .requests = 3, .delivered = 2,
                                             .retries = 1});
}

static void rate_limited_429(void **state) { rate_limit_holds(state, 429, "X-RateLimit-Reset"); }
static void ingest_limited_430(void **state) { rate_limit_holds(state, 430, "X-IngestLimit-Reset"); }

static void server_error_retried(void **state)
{
    fixture_t *f = *state;
    script(f->srv,
           (answer_t[]){{.status = 503, .text = "busy"}, {.status = 408, .text = ""},
                        {.status = 200, .text = "{}"}},
           3);
    start(f);
    plume_buf_t want;
    plume_buf_init(&want, 0);
    submit(f, "persistent", 1, &want);
    f->sink->ops->flush(f->sink);
    run_until(f, sink_idle);
    assert_int_equal(server_count(f->srv), 3);
    for (int i = 0; i < 3; i++)
        expect_body(rec(f->srv, i), PLUME_CODEC_ZSTD, &want);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.batches = 1, .requests = 3, .delivered = 1,
                                             .retries = 2});
    plume_buf_free(&want);
}

static void client_error_dead_lettered(void **state)
{
    fixture_t *f = *state;
    script(f->srv,
           (answer_t[]){{.status = 400, .text = "{\"message\":\"bad\nrequest\"}"},
                        {.status = 200, .text = "{}"}},
           2);
    start(f);
    submit(f, "refused", 1, NULL);
    submit(f, "refused too", 2, NULL);
    f->sink->ops->flush(f->sink);
    run_until(f, sink_idle);
    submit(f, "accepted", 3, NULL);
    f->sink->ops->flush(f->sink);
    run_until(f, sink_idle);
    assert_int_equal(server_count(f->srv), 2);
    assert_int_equal(count_batches(f, "failed"), 1);
    assert_int_equal(count_batches(f, "outbox"), 0);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.batches = 2, .requests = 2, .delivered = 1,
                                             .dropped_failed = 2});
}

/* An event whose line would exceed the largest accepted event (8 MiB) is
 * counted as dropped and leaves the batch as it was. */
static void oversized_event_counted(void **state)
{
    fixture_t *f = *state;
    start(f);
    size_t big = (8u << 20) + 1;
    char *msg = malloc(big);
    assert_non_null(msg);
    memset(msg, 'x', big);
    plume_event_view_t huge = {.time_ns = T0, .level = PLUME_LEVEL_INFO, .message = msg,
                               .message_len = big};
    f->sink->ops->submit(f->sink, &huge);
    free(msg);
    assert_int_equal(f->sink->ops->pending_events(f->sink), 0);
    plume_buf_t want;
    plume_buf_init(&want, 0);
    submit(f, "fine", 1, &want);
    f->sink->ops->flush(f->sink);
    run_until(f, sink_idle);
    expect_body(rec(f->srv, 0), PLUME_CODEC_ZSTD, &want);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.batches = 1, .requests = 1, .delivered = 1,
                                             .dropped_encode = 1});
    plume_buf_free(&want);
}

int main(void)
{
    setenv("no_proxy", "*", 1);
    setenv("NO_PROXY", "*", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ingest_url_styles),
        cmocka_unit_test(ingest_url_escapes_dataset),
        cmocka_unit_test(ingest_url_bounded),
        cmocka_unit_test_setup_teardown(sink_posts_zstd_ndjson, setup, teardown),
        cmocka_unit_test_setup_teardown(sink_gzip_edge_without_org, setup, teardown),
        cmocka_unit_test_setup_teardown(sink_uncompressed, setup, teardown),
        cmocka_unit_test_setup_teardown(partial_failure_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(auth_refused_stops_sink, setup, teardown),
        cmocka_unit_test_setup_teardown(rate_limited_429, setup, teardown),
        cmocka_unit_test_setup_teardown(ingest_limited_430, setup, teardown),
        cmocka_unit_test_setup_teardown(server_error_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(client_error_dead_lettered, setup, teardown),
        cmocka_unit_test_setup_teardown(oversized_event_counted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
