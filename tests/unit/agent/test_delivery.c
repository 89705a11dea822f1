/* SPDX-License-Identifier: MIT */
/* Outbox-backed delivery driven by the real loop and HTTP client against the
 * test HTTP/1.1 server of tests/support/http_test_server.h (threads of this
 * test, 127.0.0.1, an ephemeral port). The server records each request with
 * its arrival time and counts how many it holds unanswered at once; fake
 * prepare/judge callbacks script the verdicts. Covered: every verdict and what
 * it does to the outbox (removed, retried after the backoff, held until a
 * deadline, kept when stopped, moved to failed/, deleted), no request at all
 * during a backoff or a rate-limit wait (checked with timestamps),
 * max_in_flight, batches left by an earlier run sent oldest first, corrupt
 * batches skipped and counted, max_attempts, a full outbox, an aborted request
 * on shutdown, and exact metrics. All waits have deadlines. */
#include "test_support.h"
#include <cmocka.h>

#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "delivery.h"
#include "http.h"
#include "http_test_server.h"
#include "loop.h"
#include "metrics.h"
#include "outbox.h"

#define DEADLINE_MS 10000
#define SINK "test"

typedef plume_test_http_server_t server_t;
typedef plume_test_http_answer_t answer_t;
typedef plume_test_http_record_t record_t;

static uint64_t clock_ms(clockid_t id) { return plume_test_http_clock_ms(id); }
static uint64_t mono_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

/* ---- the test server (tests/support/http_test_server.h) ---- */

static server_t *server_start(void)
{
    server_t *s = plume_test_http_server_start();
    assert_non_null(s);
    return s;
}

/* Request i as the server received it (fails the test if it has not arrived). */
static const record_t *rec(server_t *s, int i) { return plume_test_http_server_record(s, i); }
static int server_count(server_t *s) { return plume_test_http_server_requests(s); }

/* Scripts the server's answers: request i gets a[min(i, n - 1)]. */
static void script(server_t *s, const answer_t *a, size_t n)
{
    assert_true(plume_test_http_server_script(s, a, n));
}

/* Asserts the bodies the server received, in order ("A", "B", ...). */
static void expect_bodies(server_t *s, const char *const *want, int n)
{
    assert_int_equal(server_count(s), n);
    for (int i = 0; i < n; i++) {
        const record_t *r = rec(s, i);
        if (r->body_len != strlen(want[i]) || memcmp(r->body, want[i], r->body_len) != 0)
            fail_msg("request %d carried '%.*s', want '%s'", i, (int)r->body_len,
                     (const char *)r->body, want[i]);
    }
}

/* ---- fake sink callbacks ---- */

#define MAX_JUDGED 64

typedef struct fake {
    char url[256];
    int prepared;
    /* verdicts for the responses in order; past the script: DELIVERED */
    plume_verdict_t script[16];
    int nscript;
    uint64_t wait_ms; /* WAIT_UNTIL: until = now + wait_ms */
    uint64_t until[MAX_JUDGED];
    int judged;
    uint64_t judged_mono[MAX_JUDGED];
    long status[MAX_JUDGED];
    int curl_code[MAX_JUDGED];
    uint32_t events[MAX_JUDGED];
    char body[MAX_JUDGED][64];
} fake_t;

static bool fake_prepare(void *ctx, const plume_batch_meta_t *meta, plume_delivery_request_t *req)
{
    fake_t *f = ctx;
    f->prepared++;
    snprintf(req->url, sizeof(req->url), "%s", f->url);
    char h[64];
    snprintf(h, sizeof(h), "X-Events: %" PRIu32, meta->event_count);
    req->headers[0] = strdup(h);
    snprintf(h, sizeof(h), "X-Codec: %u", (unsigned)meta->codec);
    req->headers[1] = strdup(h);
    req->headers[2] = NULL;
    return req->headers[0] && req->headers[1];
}

static plume_verdict_t fake_judge(void *ctx, const plume_batch_meta_t *meta,
                                  const plume_http_response_t *resp, uint64_t *until,
                                  char *reason, size_t reason_len)
{
    fake_t *f = ctx;
    int i = f->judged++;
    assert_true(i < MAX_JUDGED);
    f->judged_mono[i] = mono_ms();
    f->status[i] = resp->status;
    f->curl_code[i] = resp->curl_code;
    f->events[i] = meta->event_count;
    snprintf(f->body[i], sizeof(f->body[i]), "%.*s", (int)resp->body_len, (const char *)resp->body);
    plume_verdict_t v = i < f->nscript ? f->script[i] : PLUME_VERDICT_DELIVERED;
    if (v == PLUME_VERDICT_WAIT_UNTIL) {
        *until = clock_ms(CLOCK_REALTIME) + f->wait_ms;
        f->until[i] = *until;
    }
    if (v != PLUME_VERDICT_DELIVERED)
        snprintf(reason, reason_len, "scripted verdict %d for response %d", (int)v, i);
    return v;
}

/* The encode op: "DROP" is dropped, "LATER" is put off once, anything else
 * is sent as "<body>". */
static plume_encode_result_t fake_encode(void *ctx, const plume_batch_meta_t *meta,
                                         const plume_buf_t *stored, plume_buf_t *wire)
{
    static int laters;
    (void)ctx;
    (void)meta;
    if (stored->len == 4 && memcmp(stored->data, "DROP", 4) == 0)
        return PLUME_ENCODE_DROP;
    if (stored->len == 5 && memcmp(stored->data, "LATER", 5) == 0 && laters++ == 0)
        return PLUME_ENCODE_LATER;
    plume_buf_append(wire, "<", 1);
    plume_buf_append(wire, stored->data, stored->len);
    plume_buf_append(wire, ">", 1);
    return PLUME_ENCODE_SEND;
}

static const plume_delivery_ops_t fake_ops = {fake_prepare, fake_judge, NULL};
static const plume_delivery_ops_t fake_ops_encoding = {fake_prepare, fake_judge, fake_encode};

/* ---- fixture ---- */

typedef struct fixture {
    plume_loop_t *loop;
    plume_http_t *http;
    server_t *srv;
    char *root;
    fake_t fake;
    plume_metrics_t m;
    plume_delivery_t *d;
    plume_delivery_options_t opts;
    plume_outbox_t *ob; /* until handed to the delivery */
    bool encoding;      /* use fake_ops_encoding */
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f || !(f->loop = plume_loop_new()) || !(f->http = plume_http_new(f->loop, NULL)) ||
        !(f->root = plume_test_mkdtemp()))
        return -1;
    f->srv = server_start();
    plume_test_http_server_url(f->srv, "/ingest", f->fake.url, sizeof(f->fake.url));
    f->opts = (plume_delivery_options_t){
        .name = SINK,
        .max_in_flight = 1,
        .backoff = {.initial_ms = 200, .max_ms = 200},
        .request_timeout_ms = DEADLINE_MS,
        .connect_timeout_ms = DEADLINE_MS,
        .max_body = 1u << 20,
    };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    /* the client first: aborting in-flight requests calls into the delivery */
    plume_http_free(f->http);
    plume_delivery_free(f->d);
    plume_outbox_close(f->ob);
    plume_loop_free(f->loop);
    plume_test_http_server_stop(f->srv);
    plume_test_rm_rf(f->root);
    free(f->root);
    free(f);
    return 0;
}

static plume_outbox_t *open_outbox(fixture_t *f, uint64_t max_bytes)
{
    char err[512] = "";
    plume_outbox_t *ob = plume_outbox_open(f->root, SINK, max_bytes, false, err, sizeof(err));
    if (!ob)
        fail_msg("outbox: %s", err);
    return ob;
}

/* Stores a batch directly in the test's outbox (before the delivery exists). */
static plume_outbox_id_t put_direct(fixture_t *f, const char *body, uint32_t events)
{
    if (!f->ob)
        f->ob = open_outbox(f, 0);
    plume_batch_meta_t m = {.created_ns = 1, .event_count = events, .codec = 2};
    plume_outbox_id_t id;
    assert_int_equal(plume_outbox_put(f->ob, &m, body, strlen(body), &id, NULL, NULL), 0);
    return id;
}

/* Creates the delivery over the test's outbox (opened if needed). */
static void start(fixture_t *f)
{
    if (!f->ob)
        f->ob = open_outbox(f, 0);
    f->d = plume_delivery_new(f->loop, f->http, f->ob, f->encoding ? &fake_ops_encoding : &fake_ops,
                              &f->fake, &f->opts, &f->m);
    assert_non_null(f->d);
    f->ob = NULL; /* owned by the delivery now */
}

static void put(fixture_t *f, const char *body, uint32_t events)
{
    plume_batch_meta_t m = {.created_ns = 1, .event_count = events, .codec = 2};
    assert_int_equal(plume_delivery_put(f->d, &m, body, strlen(body)), 0);
}

static void run_until_idle(fixture_t *f)
{
    uint64_t end = mono_ms() + DEADLINE_MS;
    while (!plume_delivery_idle(f->d)) {
        assert_true(mono_ms() < end);
        assert_true(plume_loop_run_once(f->loop, 50) >= 0);
    }
}

static void run_until_judged(fixture_t *f, int n)
{
    uint64_t end = mono_ms() + DEADLINE_MS;
    while (f->fake.judged < n) {
        assert_true(mono_ms() < end);
        assert_true(plume_loop_run_once(f->loop, 50) >= 0);
    }
}

/* Runs the loop once for up to 50 ms; false if it failed. */
static bool run_loop_once(void *loop) { return plume_loop_run_once(loop, 50) >= 0; }

/* Runs the loop's ready work (deferred kicks) without waiting. */
/* Number of regular files in <root>/<top>/<sink>/ whose name ends in suffix. */
static int count_files(const fixture_t *f, const char *top, const char *suffix)
{
    char p[4200];
    snprintf(p, sizeof(p), "%s/%s/" SINK, f->root, top);
    return plume_test_count_files(p, suffix);
}

static void run_ready(fixture_t *f)
{
    for (int i = 0; i < 5; i++)
        assert_true(plume_loop_run_once(f->loop, 0) >= 0);
}

/* ---- tests ---- */

static void delivered_removes_batches(void **state)
{
    fixture_t *f = *state;
    script(f->srv, &(answer_t){.status = 202, .text = "accepted"}, 1);
    start(f);
    assert_true(plume_delivery_idle(f->d));
    put(f, "A", 3);
    put(f, "B", 4);
    assert_false(plume_delivery_idle(f->d));
    assert_int_equal(plume_delivery_pending_events(f->d), 7);
    assert_int_equal(count_files(f, "outbox", ".batch"), 2);
    run_until_idle(f);
    expect_bodies(f->srv, (const char *[]){"A", "B"}, 2);
    char v[64];
    assert_true(strncmp(rec(f->srv, 0)->head, "POST /ingest HTTP/1.1\r\n", 23) == 0);
    assert_true(plume_test_http_record_header(rec(f->srv, 0), "X-Events", v, sizeof(v)));
    assert_string_equal(v, "3");
    assert_true(plume_test_http_record_header(rec(f->srv, 1), "X-Events", v, sizeof(v)));
    assert_string_equal(v, "4");
    assert_true(plume_test_http_record_header(rec(f->srv, 1), "X-Codec", v, sizeof(v)));
    assert_string_equal(v, "2");
    /* the judge saw the real responses */
    assert_int_equal(f->fake.judged, 2);
    assert_int_equal(f->fake.status[0], 202);
    assert_int_equal(f->fake.curl_code[0], CURLE_OK);
    assert_string_equal(f->fake.body[1], "accepted");
    assert_int_equal(f->fake.events[0], 3);
    assert_int_equal(count_files(f, "outbox", ".batch"), 0);
    assert_int_equal(plume_delivery_pending_events(f->d), 0);
    assert_false(plume_delivery_stopped(f->d));
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.requests = 2, .delivered = 7});
}

/* The encode op decides what is sent: the stored body is transformed, a
 * dropped batch leaves the outbox without a request, a put-off one is sent
 * after the one-second hold. */
static void encode_transforms_drops_and_defers(void **state)
{
    fixture_t *f = *state;
    f->encoding = true;
    start(f);
    put(f, "A", 1);
    put(f, "DROP", 2);
    put(f, "LATER", 3);
    uint64_t t0 = mono_ms();
    run_until_idle(f);
    expect_bodies(f->srv, (const char *[]){"<A>", "<LATER>"}, 2);
    assert_true(rec(f->srv, 1)->mono_ms - t0 >= 900);
    assert_int_equal(count_files(f, "outbox", ".batch"), 0);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.requests = 2, .delivered = 4});
}

static void retry_waits_backoff(void **state)
{
    fixture_t *f = *state;
    /* backoff base 200 ms: the delay is in [100, 200] ms */
    f->fake.script[0] = PLUME_VERDICT_RETRY;
    f->fake.nscript = 1;
    start(f);
    put(f, "A", 2);
    put(f, "B", 1);
    run_until_idle(f);
    /* A again after the backoff (it keeps its place, oldest first), then B */
    expect_bodies(f->srv, (const char *[]){"A", "A", "B"}, 3);
    uint64_t gap = rec(f->srv, 1)->mono_ms - f->fake.judged_mono[0];
    if (gap < 100)
        fail_msg("resent %" PRIu64 " ms after the retry verdict, backoff is at least 100 ms", gap);
    assert_true(gap < 200 + 2000);
    assert_int_equal(count_files(f, "outbox", ".batch"), 0);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.requests = 3, .delivered = 3, .retries = 1});
}

static void retry_backoff_grows_and_resets(void **state)
{
    fixture_t *f = *state;
    f->opts.backoff = (plume_backoff_policy_t){.initial_ms = 200, .max_ms = 10000};
    plume_verdict_t s[] = {PLUME_VERDICT_RETRY, PLUME_VERDICT_RETRY, PLUME_VERDICT_DELIVERED,
                           PLUME_VERDICT_RETRY};
    memcpy(f->fake.script, s, sizeof(s));
    f->fake.nscript = 4;
    start(f);
    put(f, "A", 1);
    run_until_idle(f);
    put(f, "B", 1);
    run_until_idle(f);
    expect_bodies(f->srv, (const char *[]){"A", "A", "A", "B", "B"}, 5);
    uint64_t g1 = rec(f->srv, 1)->mono_ms - f->fake.judged_mono[0];
    uint64_t g2 = rec(f->srv, 2)->mono_ms - f->fake.judged_mono[1];
    uint64_t g4 = rec(f->srv, 4)->mono_ms - f->fake.judged_mono[3];
    /* attempt 1: [100, 200] ms; attempt 2: [200, 400] ms; after a success the
     * count starts again at attempt 1 (attempt 3 would be [400, 800] ms) */
    if (g1 < 100 || g2 < 200 || g4 < 100 || g4 >= 400)
        fail_msg("gaps after the retry verdicts: %" PRIu64 ", %" PRIu64 ", %" PRIu64
                 " ms; want >= 100, >= 200, [100, 400)", g1, g2, g4);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.requests = 5, .delivered = 2, .retries = 3});
}

static void wait_until_sends_nothing_before(void **state)
{
    fixture_t *f = *state;
    f->fake.script[0] = PLUME_VERDICT_WAIT_UNTIL;
    f->fake.nscript = 1;
    f->fake.wait_ms = 400;
    start(f);
    put(f, "A", 1);
    put(f, "B", 2);
    run_until_idle(f);
    expect_bodies(f->srv, (const char *[]){"A", "A", "B"}, 3);
    /* neither A nor B went out before the deadline (wall clock, ms resolution) */
    for (int i = 1; i < 3; i++)
        if (rec(f->srv, i)->real_ms + 2 < f->fake.until[0])
            fail_msg("request %d sent %" PRIu64 " ms before the deadline", i,
                     f->fake.until[0] - rec(f->srv, i)->real_ms);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.requests = 3, .delivered = 3, .retries = 1});
}

static void stop_keeps_outbox(void **state)
{
    fixture_t *f = *state;
    f->fake.script[0] = PLUME_VERDICT_STOP;
    f->fake.nscript = 1;
    start(f);
    put(f, "A", 2);
    put(f, "B", 3);
    run_until_judged(f, 1);
    run_ready(f);
    assert_true(plume_delivery_stopped(f->d));
    assert_int_equal(plume_http_in_flight(f->http), 0);
    /* a batch handed over after the stop is stored, never sent */
    put(f, "C", 4);
    run_ready(f);
    assert_int_equal(plume_http_in_flight(f->http), 0);
    expect_bodies(f->srv, (const char *[]){"A"}, 1);
    assert_false(plume_delivery_idle(f->d));
    assert_int_equal(plume_delivery_pending_events(f->d), 9);
    assert_int_equal(count_files(f, "outbox", ".batch"), 3);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.requests = 1});
    /* and all three are there for the next start */
    plume_delivery_free(f->d);
    f->d = NULL;
    f->ob = open_outbox(f, 0);
    assert_int_equal(plume_outbox_pending_count(f->ob), 3);
    assert_int_equal(plume_outbox_pending_events(f->ob), 9);
}

static void dead_letter_moves_to_failed(void **state)
{
    fixture_t *f = *state;
    script(f->srv,
           (answer_t[]){{.status = 400, .text = "bad batch"}, {.status = 200, .text = "{}"}}, 2);
    f->fake.script[0] = PLUME_VERDICT_DEAD_LETTER;
    f->fake.nscript = 1;
    plume_outbox_id_t a = put_direct(f, "A", 5);
    start(f);
    put(f, "B", 1);
    run_until_idle(f);
    expect_bodies(f->srv, (const char *[]){"A", "B"}, 2);
    assert_int_equal(count_files(f, "outbox", ".batch"), 0);
    char p[4400];
    snprintf(p, sizeof(p), "%s/failed/" SINK "/%020" PRIu64 ".batch", f->root, a);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    strcat(p, ".reason");
    char *reason = plume_test_read_file(p, NULL);
    assert_non_null(reason);
    assert_non_null(strstr(reason, "scripted verdict 4 for response 0"));
    assert_non_null(strstr(reason, "bad batch"));
    free(reason);
    assert_int_equal(count_files(f, "failed", ".batch"), 1);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.requests = 2, .delivered = 1, .dropped_failed = 5});
}

static void drop_deletes(void **state)
{
    fixture_t *f = *state;
    f->fake.script[0] = PLUME_VERDICT_DROP;
    f->fake.nscript = 1;
    start(f);
    put(f, "A", 6);
    put(f, "B", 1);
    run_until_idle(f);
    expect_bodies(f->srv, (const char *[]){"A", "B"}, 2);
    assert_int_equal(count_files(f, "outbox", ".batch"), 0);
    assert_int_equal(count_files(f, "failed", ""), 0);
    assert_int_equal(count_files(f, "corrupt", ""), 0);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.requests = 2, .delivered = 1, .dropped_failed = 6});
}

static void max_in_flight_respected(void **state)
{
    fixture_t *f = *state;
    static const uint32_t limits[] = {1, 3};
    const char *bodies[] = {"A", "B", "C", "D", "E", "F", "G"};
    for (size_t k = 0; k < 2; k++) {
        /* a fresh server and delivery per limit */
        plume_http_free(f->http);
        f->http = plume_http_new(f->loop, NULL);
        plume_delivery_free(f->d);
        f->d = NULL;
        plume_test_http_server_stop(f->srv);
        f->srv = server_start();
        /* answers overlap only if requests do */
        script(f->srv, &(answer_t){.status = 200, .text = "{}", .delay_ms = 100}, 1);
        plume_test_http_server_url(f->srv, "/ingest", f->fake.url, sizeof(f->fake.url));
        memset(&f->m, 0, sizeof(f->m));
        f->opts.max_in_flight = limits[k];
        start(f);
        for (int i = 0; i < 7; i++)
            put(f, bodies[i], 1);
        run_until_idle(f);
        assert_int_equal(server_count(f->srv), 7);
        int max_active = plume_test_http_server_stats(f->srv).max_active;
        if ((uint32_t)max_active != limits[k])
            fail_msg("max_in_flight %" PRIu32 ": the server held %d requests at once",
                     limits[k], max_active);
        if (limits[k] == 1)
            expect_bodies(f->srv, bodies, 7);
        plume_test_expect_metrics(&f->m, &(plume_metrics_t){.requests = 7, .delivered = 7});
    }
}

static void pending_at_start_oldest_first(void **state)
{
    fixture_t *f = *state;
    /* an earlier run left three batches */
    put_direct(f, "first", 1);
    put_direct(f, "second", 2);
    put_direct(f, "third", 3);
    plume_outbox_close(f->ob);
    f->ob = open_outbox(f, 0);
    start(f);
    assert_false(plume_delivery_idle(f->d));
    assert_int_equal(plume_delivery_pending_events(f->d), 6);
    /* nothing to put: delivery starts on its own */
    run_until_idle(f);
    expect_bodies(f->srv, (const char *[]){"first", "second", "third"}, 3);
    assert_int_equal(f->fake.events[0], 1);
    assert_int_equal(f->fake.events[2], 3);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.requests = 3, .delivered = 6});
}

static void corrupt_batch_skipped(void **state)
{
    fixture_t *f = *state;
    put_direct(f, "good-1", 1);
    plume_outbox_id_t bad = put_direct(f, "bad-2", 2);
    put_direct(f, "good-3", 3);
    plume_outbox_close(f->ob);
    f->ob = NULL;
    /* flip a body byte: the body checksum no longer matches */
    char p[4400];
    snprintf(p, sizeof(p), "%s/outbox/" SINK "/%020" PRIu64 ".batch", f->root, bad);
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "X", 1, 40), 1);
    close(fd);
    start(f);
    run_until_idle(f);
    expect_bodies(f->srv, (const char *[]){"good-1", "good-3"}, 2);
    assert_int_equal(count_files(f, "corrupt", ".batch"), 1);
    assert_int_equal(count_files(f, "outbox", ".batch"), 0);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.requests = 2, .delivered = 4, .dropped_corrupt = 1});
}

/* Bodies handed over with plume_delivery_offer() are sent as given, without
 * reading the outbox files back (here every file on disk is corrupt); with
 * max_in_flight 2 only the two newest offers are kept, so the oldest batch
 * is read from disk (and, being corrupt, set aside). */
static void offered_bodies_skip_the_read_back(void **state)
{
    fixture_t *f = *state;
    f->opts.max_in_flight = 2;
    const char *bodies[] = {"one", "two", "three"};
    plume_outbox_id_t ids[3];
    for (int i = 0; i < 3; i++)
        ids[i] = put_direct(f, bodies[i], (uint32_t)(i + 1));
    plume_outbox_close(f->ob);
    f->ob = NULL;
    for (int i = 0; i < 3; i++) {
        char p[4400];
        snprintf(p, sizeof(p), "%s/outbox/" SINK "/%020" PRIu64 ".batch", f->root, ids[i]);
        int fd = open(p, O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, "X", 1, 40), 1);
        close(fd);
    }
    start(f);
    for (int i = 0; i < 3; i++) {
        plume_batch_meta_t m = {.created_ns = 1, .event_count = (uint32_t)(i + 1), .codec = 2};
        plume_buf_t b;
        plume_buf_init(&b, 0);
        assert_true(plume_buf_append(&b, bodies[i], strlen(bodies[i])));
        plume_delivery_offer(f->d, ids[i], &m, &b);
        assert_null(b.data); /* taken */
    }
    run_until_idle(f);
    /* the two requests may overlap: check them in either order */
    assert_int_equal(server_count(f->srv), 2);
    for (int i = 0; i < 2; i++) {
        const record_t *r = rec(f->srv, i);
        bool two = r->body_len == 3 && memcmp(r->body, "two", 3) == 0;
        bool three = r->body_len == 5 && memcmp(r->body, "three", 5) == 0;
        assert_true(two || three);
        char v[64];
        assert_true(plume_test_http_record_header(r, "X-Events", v, sizeof(v)));
        assert_string_equal(v, two ? "2" : "3");
    }
    assert_true(rec(f->srv, 0)->body_len != rec(f->srv, 1)->body_len);
    assert_int_equal(count_files(f, "corrupt", ".batch"), 1);
    assert_int_equal(count_files(f, "outbox", ".batch"), 0);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.requests = 2, .delivered = 5, .dropped_corrupt = 1});
}

static void max_attempts_per_batch(void **state)
{
    fixture_t *f = *state;
    f->opts.max_attempts = 2;
    f->opts.backoff = (plume_backoff_policy_t){.initial_ms = 20, .max_ms = 20};
    /* A fails twice and is given up; B fails once, then gets through: its
     * attempts are its own, A's failures must not count against it */
    plume_verdict_t s[] = {PLUME_VERDICT_RETRY, PLUME_VERDICT_RETRY, PLUME_VERDICT_RETRY,
                           PLUME_VERDICT_DELIVERED};
    memcpy(f->fake.script, s, sizeof(s));
    f->fake.nscript = 4;
    start(f);
    put(f, "A", 5);
    put(f, "B", 1);
    run_until_idle(f);
    if (count_files(f, "failed", ".batch") != 1 || server_count(f->srv) != 4)
        fail_msg("max_attempts=2: %d batches dead-lettered after %d requests; want only A, "
                 "after 4 requests (A twice, B twice): the attempt count must be per batch",
                 count_files(f, "failed", ".batch"), server_count(f->srv));
    expect_bodies(f->srv, (const char *[]){"A", "A", "B", "B"}, 4);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.requests = 4, .delivered = 1, .retries = 2,
                                             .dropped_failed = 5});
}

static void outbox_full_drops_oldest(void **state)
{
    fixture_t *f = *state;
    /* room for two 40-byte headers + 4-byte bodies */
    f->ob = open_outbox(f, 2 * 44);
    start(f);
    put(f, "AAAA", 3);
    put(f, "BBBB", 1);
    put(f, "CCCC", 2); /* nothing is in flight yet: A makes room */
    assert_int_equal(f->m.dropped_outbox_full, 3);
    run_until_idle(f);
    expect_bodies(f->srv, (const char *[]){"BBBB", "CCCC"}, 2);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.requests = 2, .delivered = 3,
                                             .dropped_outbox_full = 3});
}

static void network_error_reaches_judge(void **state)
{
    fixture_t *f = *state;
    /* a port that refuses connections, then the server */
    int fd;
    int port = plume_test_http_refusing_port(&fd);
    assert_true(port > 0);
    char good[256];
    snprintf(good, sizeof(good), "%s", f->fake.url);
    snprintf(f->fake.url, sizeof(f->fake.url), "http://127.0.0.1:%d/ingest", port);
    f->fake.script[0] = PLUME_VERDICT_RETRY;
    f->fake.nscript = 1;
    start(f);
    put(f, "A", 1);
    run_until_judged(f, 1);
    assert_int_equal(f->fake.curl_code[0], CURLE_COULDNT_CONNECT);
    assert_int_equal(f->fake.status[0], 0);
    snprintf(f->fake.url, sizeof(f->fake.url), "%s", good);
    run_until_idle(f);
    expect_bodies(f->srv, (const char *[]){"A"}, 1);
    assert_int_equal(f->fake.prepared, 2);
    plume_test_expect_metrics(&f->m, &(plume_metrics_t){.requests = 2, .delivered = 1, .retries = 1});
    close(fd);
}

static void shutdown_keeps_in_flight_batch(void **state)
{
    fixture_t *f = *state;
    script(f->srv, &(answer_t){.hang = true}, 1);
    start(f);
    put(f, "A", 2);
    assert_true(
        plume_test_http_server_wait_requests(f->srv, 1, DEADLINE_MS, run_loop_once, f->loop));
    /* the agent frees the client first: the request is aborted */
    plume_http_free(f->http);
    f->http = NULL;
    assert_int_equal(f->fake.judged, 0); /* an abort is not judged */
    assert_true(plume_delivery_idle(f->d) == false);
    plume_delivery_free(f->d);
    f->d = NULL;
    f->ob = open_outbox(f, 0);
    assert_int_equal(plume_outbox_pending_count(f->ob), 1);
    plume_outbox_id_t id;
    assert_true(plume_outbox_next(f->ob, &id));
    plume_buf_t body;
    plume_buf_init(&body, 1024);
    assert_int_equal(plume_outbox_load(f->ob, id, NULL, &body, NULL, 0), 0);
    assert_int_equal(body.len, 1);
    assert_int_equal(body.data[0], 'A');
    plume_buf_free(&body);
    assert_int_equal(f->m.delivered + f->m.retries + f->m.dropped_failed, 0);
}

int main(void)
{
    setenv("no_proxy", "*", 1);
    setenv("NO_PROXY", "*", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(delivered_removes_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(encode_transforms_drops_and_defers, setup, teardown),
        cmocka_unit_test_setup_teardown(retry_waits_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(retry_backoff_grows_and_resets, setup, teardown),
        cmocka_unit_test_setup_teardown(wait_until_sends_nothing_before, setup, teardown),
        cmocka_unit_test_setup_teardown(stop_keeps_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown(dead_letter_moves_to_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(drop_deletes, setup, teardown),
        cmocka_unit_test_setup_teardown(max_in_flight_respected, setup, teardown),
        cmocka_unit_test_setup_teardown(pending_at_start_oldest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_batch_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(offered_bodies_skip_the_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(max_attempts_per_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(outbox_full_drops_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(network_error_reaches_judge, setup, teardown),
        cmocka_unit_test_setup_teardown(shutdown_keeps_in_flight_batch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
