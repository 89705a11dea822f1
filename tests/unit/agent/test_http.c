/* SPDX-License-Identifier: MIT */
/* HTTP client against a tiny HTTP/1.1 server running in a thread of this test
 * (127.0.0.1, port 0). The server records every request (request line, header
 * block, body, which connection it came on) and answers with a configured
 * status, headers and body; it can also hold its answers until N requests have
 * arrived (proves concurrency) or never answer (timeouts, aborts). Tests cover
 * capture of status/body/headers, the request as sent (headers, body, no
 * Expect), keep-alive, refused connections, timeouts, bounded bodies and
 * headers, several requests in flight, aborting on free (also from a done
 * callback) and argument checks. All waits have deadlines. */
#include "test_support.h"
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "loop.h"

#define DEADLINE_MS 10000
#define MAX_RECORDS 32
#define MAX_CONNS 32
#define HEAD_MAX 65536
#define BODY_MAX (4u << 20)

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the test server ---- */

typedef struct record {
    char *head; /* request line + headers, NUL-terminated */
    uint8_t *body;
    size_t body_len;
    int conn; /* index of the accepted connection */
} record_t;

typedef struct server {
    int lfd, stopfd, port;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* answer */
    int status;
    const char *headers; /* extra "Name: value\r\n" lines */
    const uint8_t *body;
    size_t body_len;
    bool hang;   /* never answer */
    int barrier; /* hold answers until this many requests arrived */
    /* state (under mu) */
    int accepts;
    int nrec;
    record_t rec[MAX_RECORDS];
    pthread_t conn_th[MAX_CONNS];
    int nconn;
} server_t;

typedef struct conn {
    server_t *s;
    int fd, idx;
} conn_t;

/* Waits until fd is readable or the server stops. False on stop. */
static bool wait_readable(server_t *s, int fd)
{
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = s->stopfd, .events = POLLIN}};
    for (;;) {
        int n = poll(p, 2, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (p[1].revents & POLLIN))
            return false;
        return true;
    }
}

static bool send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

/* Value of a header in a recorded head ("Name: value"), copied into out. */
static bool head_header(const char *head, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            size_t len = e ? (size_t)(e - v) : strlen(v);
            if (len >= cap)
                len = cap - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return true;
        }
    }
    return false;
}

/* Serves one keep-alive connection until EOF or stop. */
static void *conn_main(void *arg)
{
    conn_t *c = arg;
    server_t *s = c->s;
    char *buf = malloc(HEAD_MAX + BODY_MAX);
    size_t len = 0;
    for (;;) {
        /* read the head */
        char *end;
        while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
            if (len >= HEAD_MAX || !wait_readable(s, c->fd))
                goto out;
            ssize_t r = recv(c->fd, buf + len, HEAD_MAX - len, 0);
            if (r <= 0)
                goto out;
            len += (size_t)r;
        }
        size_t head_len = (size_t)(end - buf) + 2; /* keep the last CRLF */
        size_t body_off = head_len + 2;
        char *head = strndup(buf, head_len);
        char cl[32];
        size_t body_len = head_header(head, "Content-Length", cl, sizeof(cl)) ? strtoul(cl, NULL, 10) : 0;
        if (body_len > BODY_MAX) {
            free(head);
            goto out;
        }
        while (len < body_off + body_len) {
            if (!wait_readable(s, c->fd)) {
                free(head);
                goto out;
            }
            ssize_t r = recv(c->fd, buf + len, body_off + body_len - len, 0);
            if (r <= 0) {
                free(head);
                goto out;
            }
            len += (size_t)r;
        }
        pthread_mutex_lock(&s->mu);
        if (s->nrec < MAX_RECORDS) {
            record_t *rc = &s->rec[s->nrec];
            rc->head = head;
            rc->body = malloc(body_len + 1);
            memcpy(rc->body, buf + body_off, body_len);
            rc->body_len = body_len;
            rc->conn = c->idx;
            head = NULL;
        }
        s->nrec++;
        pthread_cond_broadcast(&s->cv);
        uint64_t until = mono_ms() + DEADLINE_MS;
        while (s->nrec < s->barrier && mono_ms() < until) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 50 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        }
        bool hang = s->hang;
        pthread_mutex_unlock(&s->mu);
        free(head);
        memmove(buf, buf + body_off + body_len, len - body_off - body_len);
        len -= body_off + body_len;
        if (hang) {
            /* never answer: wait for the client to go away or the stop */
            while (wait_readable(s, c->fd)) {
                char tmp[4096];
                if (recv(c->fd, tmp, sizeof(tmp), 0) <= 0)
                    break;
            }
            goto out;
        }
        char resp[1024];
        int n = snprintf(resp, sizeof(resp), "HTTP/1.1 %d Test\r\n%sContent-Length: %zu\r\n\r\n",
                         s->status, s->headers ? s->headers : "", s->body_len);
        if (n < 0 || (size_t)n >= sizeof(resp)) {
            /* long header sets: send them separately */
            char line[64];
            snprintf(line, sizeof(line), "HTTP/1.1 %d Test\r\n", s->status);
            char tail[64];
            snprintf(tail, sizeof(tail), "Content-Length: %zu\r\n\r\n", s->body_len);
            if (!send_all(c->fd, line, strlen(line)) ||
                !send_all(c->fd, s->headers, strlen(s->headers)) ||
                !send_all(c->fd, tail, strlen(tail)))
                goto out;
        } else if (!send_all(c->fd, resp, (size_t)n)) {
            goto out;
        }
        if (s->body_len && !send_all(c->fd, s->body, s->body_len))
            goto out;
    }
out:
    free(buf);
    close(c->fd);
    free(c);
    return NULL;
}

static void *accept_main(void *arg)
{
    server_t *s = arg;
    while (wait_readable(s, s->lfd)) {
        int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&s->mu);
        if (s->nconn >= MAX_CONNS) {
            pthread_mutex_unlock(&s->mu);
            close(fd);
            continue;
        }
        conn_t *c = malloc(sizeof(*c));
        *c = (conn_t){.s = s, .fd = fd, .idx = s->accepts++};
        pthread_create(&s->conn_th[s->nconn++], NULL, conn_main, c);
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
    for (int i = 0; i < s->nconn; i++)
        pthread_join(s->conn_th[i], NULL);
    return NULL;
}

static server_t *server_start(int status, const char *headers, const void *body, size_t body_len)
{
    server_t *s = calloc(1, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->status = status;
    s->headers = headers;
    s->body = body;
    s->body_len = body_len;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->lfd, 64), 0);
    socklen_t al = sizeof(a);
    getsockname(s->lfd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    s->stopfd = eventfd(0, EFD_CLOEXEC);
    assert_int_equal(pthread_create(&s->th, NULL, accept_main, s), 0);
    return s;
}

static void server_stop(server_t *s)
{
    uint64_t one = 1;
    assert_int_equal(write(s->stopfd, &one, sizeof(one)), sizeof(one));
    pthread_join(s->th, NULL);
    for (int i = 0; i < s->nrec && i < MAX_RECORDS; i++) {
        free(s->rec[i].head);
        free(s->rec[i].body);
    }
    close(s->lfd);
    close(s->stopfd);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

static int server_count(server_t *s, bool accepts)
{
    pthread_mutex_lock(&s->mu);
    int n = accepts ? s->accepts : s->nrec;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void url_of(const server_t *s, const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", s->port, path);
}

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
                               resp_body, sizeof(resp_body) - 1);
    /* past libcurl's threshold (1 MiB) for adding "Expect: 100-continue" */
    enum { BODY = (2 << 20) + 1 };
    uint8_t *body = malloc(BODY);
    fill_pattern(body, BODY);
    char url[128];
    url_of(s, "/v1/ingest/logs", url, sizeof(url));
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
    assert_int_equal(server_count(s, false), 1);
    record_t *rc = &s->rec[0];
    assert_true(strncmp(rc->head, "POST /v1/ingest/logs HTTP/1.1\r\n", 31) == 0);
    char v[256];
    assert_true(head_header(rc->head, "Authorization", v, sizeof(v)));
    assert_string_equal(v, "Bearer xaat-123");
    assert_true(head_header(rc->head, "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "application/x-ndjson");
    assert_true(head_header(rc->head, "User-Agent", v, sizeof(v)));
    assert_string_equal(v, "plume-agent/0.1.0-test");
    assert_true(head_header(rc->head, "Content-Length", v, sizeof(v)));
    assert_string_equal(v, "2097153");
    assert_false(head_header(rc->head, "Expect", v, sizeof(v)));
    assert_false(head_header(rc->head, "Transfer-Encoding", v, sizeof(v)));
    assert_int_equal(rc->body_len, BODY);
    assert_memory_equal(rc->body, body, BODY);

    result_clear(&r);
    free(body);
    server_stop(s);
}

static void error_statuses_are_captured(void **state)
{
    fixture_t *f = *state;
    const int codes[] = {429, 503, 401, 204};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        server_t *s = server_start(codes[i], "Retry-After: 7\r\n", NULL, 0);
        char url[128];
        url_of(s, "/api/1/envelope/", url, sizeof(url));
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
        assert_true(strncmp(s->rec[0].head, "POST ", 5) == 0); /* default method */
        result_clear(&r);
        server_stop(s);
    }
}

static void keep_alive_reuses_connection(void **state)
{
    fixture_t *f = *state;
    server_t *s = server_start(200, NULL, "ok", 2);
    char url[128];
    url_of(s, "/a", url, sizeof(url));
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
    assert_int_equal(server_count(s, false), 3);
    assert_int_equal(server_count(s, true), 1); /* one TCP connection */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(s->rec[i].conn, 0);
        assert_int_equal(s->rec[i].body_len, 1);
        assert_int_equal(s->rec[i].body[0], '1' + i);
    }
    result_clear(&r1);
    result_clear(&r2);
    result_clear(&r3);
    server_stop(s);
}

static void connection_refused(void **state)
{
    fixture_t *f = *state;
    /* bound but not listening: connecting is refused, and nobody can take the port */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t al = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", ntohs(a.sin_port));
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
    server_t *s = server_start(200, NULL, NULL, 0);
    s->hang = true;
    char url[128];
    url_of(s, "/slow", url, sizeof(url));
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
    assert_int_equal(server_count(s, false), 1); /* the request did arrive */
    result_clear(&r);
    server_stop(s);
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
    server_t *s = server_start(200, NULL, big, BIG);
    char url[128];
    url_of(s, "/big", url, sizeof(url));
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
    assert_int_equal(server_count(s, true), 1);
    assert_true(strncmp(s->rec[1].head, "GET /big HTTP/1.1\r\n", 19) == 0);
    assert_int_equal(s->rec[1].body_len, 0);
    plume_http_free(h);
    server_stop(s);
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
    server_t *s = server_start(200, hdrs, "ok", 2);
    char url[128];
    url_of(s, "/h", url, sizeof(url));
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
    server_stop(s);
    free(hdrs);
}

static void several_in_flight(void **state)
{
    fixture_t *f = *state;
    enum { N = 4 };
    server_t *s = server_start(201, NULL, "done", 4);
    s->barrier = N; /* no answer until all N requests are in: serial sending would fail */
    char url[128];
    url_of(s, "/many", url, sizeof(url));
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
    assert_int_equal(server_count(s, true), N);
    for (int i = 0; i < N; i++) {
        assert_true(strncmp(s->rec[i].head, "PUT /many HTTP/1.1\r\n", 20) == 0);
        assert_memory_equal(s->rec[i].body, "abc", 3);
    }
    assert_int_equal(plume_http_in_flight(f->http), 0);
    server_stop(s);
}

static void max_host_connections_limits(void **state)
{
    fixture_t *f = *state;
    enum { N = 3 };
    plume_http_options_t o = {.max_host_connections = 1};
    plume_http_t *h = plume_http_new(f->loop, &o);
    server_t *s = server_start(200, NULL, "ok", 2);
    char url[128];
    url_of(s, "/one", url, sizeof(url));
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
    assert_int_equal(server_count(s, true), 1); /* queued behind one connection */
    plume_http_free(h);
    server_stop(s);
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

/* Runs the loop until the server has seen n requests. */
static void run_until_server_has(plume_loop_t *l, server_t *s, int n)
{
    uint64_t end = mono_ms() + DEADLINE_MS;
    while (server_count(s, false) < n) {
        assert_true(mono_ms() < end);
        assert_true(plume_loop_run_once(l, 20) >= 0);
    }
}

static void free_aborts_in_flight(void **state)
{
    fixture_t *f = *state;
    server_t *s = server_start(200, NULL, NULL, 0);
    s->hang = true;
    plume_http_t *h = plume_http_new(f->loop, NULL);
    char url[128];
    url_of(s, "/hang", url, sizeof(url));
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
    server_stop(s);
}

static void free_from_done_callback(void **state)
{
    fixture_t *f = *state;
    server_t *fast = server_start(200, NULL, "ok", 2);
    server_t *slow = server_start(200, NULL, NULL, 0);
    slow->hang = true;
    plume_http_t *h = plume_http_new(f->loop, NULL);
    char url_fast[128], url_slow[128];
    url_of(fast, "/f", url_fast, sizeof(url_fast));
    url_of(slow, "/s", url_slow, sizeof(url_slow));
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
    server_stop(fast);
    server_stop(slow);
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
