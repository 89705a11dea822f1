/* SPDX-License-Identifier: MIT */
/* The test HTTP/1.1 server of http_test_server.h: one accept thread and one
 * thread per keep-alive connection, all woken by an eventfd on stop. A
 * connection thread reads a head (bounded), a Content-Length body (bounded),
 * records the request under the server mutex, picks its scripted answer, waits
 * for the barrier and the answer's delay, and sends it. Requests it cannot
 * frame (oversized, bad Content-Length, chunked) end the connection. */
#include "http_test_server.h"
#include "compress.h"
#include "test_support.h"
#include <cmocka.h>

#include <arpa/inet.h>
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
#include <unistd.h>

typedef struct answer {
    int status;
    char *headers; /* never NULL once scripted */
    uint8_t *body;
    size_t body_len;
    int delay_ms;
    bool hang;
} answer_t;

struct plume_test_http_server {
    int lfd, stopfd, port;
    pthread_t accept_th;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC; broadcast on each request and on stop */
    /* all below under mu */
    answer_t script[PLUME_TEST_HTTP_MAX_ANSWERS];
    size_t nscript; /* 0: the default answer */
    int barrier, barrier_ms;
    bool stopping;
    plume_test_http_stats_t stats;
    plume_test_http_record_t rec[PLUME_TEST_HTTP_MAX_RECORDS];
    /* written by the accept thread only */
    pthread_t conn_th[PLUME_TEST_HTTP_MAX_CONNS];
    int nconn;
};

typedef struct conn {
    plume_test_http_server_t *s;
    int fd, idx;
} conn_t;

uint64_t plume_test_http_clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t mono_ms(void) { return plume_test_http_clock_ms(CLOCK_MONOTONIC); }

/* Waits on the server's condition until the monotonic time `until_ms`. Called
 * with mu held. */
static void cond_wait_until(plume_test_http_server_t *s, uint64_t until_ms)
{
    struct timespec ts = {.tv_sec = (time_t)(until_ms / 1000),
                          .tv_nsec = (long)(until_ms % 1000) * 1000000L};
    pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

/* Polls fd for `events` (fd < 0: nothing but the stop) for up to timeout_ms
 * (-1: no limit). 1: ready; 0: timed out; -1: stopped or a poll error. */
static int wait_fd(plume_test_http_server_t *s, int fd, short events, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = s->stopfd, .events = POLLIN}, {.fd = fd, .events = events}};
    for (;;) {
        int n = poll(p, fd >= 0 ? 2 : 1, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (p[0].revents & POLLIN))
            return -1;
        return n > 0;
    }
}

/* Sends all n bytes unless the peer goes away or the server stops. */
static bool send_all(plume_test_http_server_t *s, int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            c += w;
            n -= (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(s, fd, POLLOUT, -1) != 1)
                return false;
        } else {
            return false;
        }
    }
    return true;
}

/* Reads what is there into buf[*len..cap) after waiting for it. False on EOF,
 * error or stop. */
static bool recv_some(plume_test_http_server_t *s, int fd, uint8_t *buf, size_t *len, size_t cap)
{
    for (;;) {
        if (wait_fd(s, fd, POLLIN, -1) != 1)
            return false;
        ssize_t r = recv(fd, buf + *len, cap - *len, MSG_DONTWAIT);
        if (r > 0) {
            *len += (size_t)r;
            return true;
        }
        if (r == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
            return false;
    }
}

/* Value of header `name` in a head (request line first, CRLF line ends). */
static bool head_header(const char *head, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) != 0 || line[nl] != ':')
            continue;
        const char *v = line + nl + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        const char *e = strstr(v, "\r\n");
        size_t len = e ? (size_t)(e - v) : strlen(v);
        if (cap == 0)
            return true;
        if (len >= cap)
            len = cap - 1;
        memcpy(out, v, len);
        out[len] = '\0';
        return true;
    }
    return false;
}

/* The body length a head announces: 0 without Content-Length, -1 if it is
 * malformed, too large, or the body is chunked (not supported here). */
static long long body_length(const char *head)
{
    char v[64];
    if (head_header(head, "Transfer-Encoding", v, sizeof(v)))
        return -1;
    if (!head_header(head, "Content-Length", v, sizeof(v)))
        return 0;
    if (v[0] < '0' || v[0] > '9' || strlen(v) > 12)
        return -1;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end != '\0' || n > PLUME_TEST_HTTP_MAX_BODY)
        return -1;
    return (long long)n;
}

/* Builds the bytes of answer a (or the default) in a new buffer. mu held. */
static char *render_answer(const answer_t *a, size_t *len)
{
    int status = a ? a->status : 200;
    const char *headers = a ? a->headers : "";
    const void *body = a ? (const void *)a->body : "{}";
    size_t body_len = a ? a->body_len : 2;
    size_t cap = 96 + strlen(headers) + body_len;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    int n = snprintf(out, cap, "HTTP/1.1 %d Test\r\n%sContent-Length: %zu\r\n\r\n", status,
                     headers, body_len);
    if (n < 0 || (size_t)n + body_len > cap) {
        free(out);
        return NULL;
    }
    if (body_len)
        memcpy(out + n, body, body_len);
    *len = (size_t)n + body_len;
    return out;
}

/* Records a complete request (taking head and body), counts it, and returns
 * its answer, rendered, after the barrier. `*hang` and `*delay_ms` come from
 * the answer. NULL if rendering failed or the server is stopping. */
static char *take_request(conn_t *c, char *head, uint8_t *body, size_t body_len,
                          size_t *resp_len, bool *hang, int *delay_ms)
{
    plume_test_http_server_t *s = c->s;
    pthread_mutex_lock(&s->mu);
    int idx = s->stats.requests++;
    if (idx < PLUME_TEST_HTTP_MAX_RECORDS) {
        s->rec[idx] = (plume_test_http_record_t){
            .head = head, .body = body, .body_len = body_len, .conn = c->idx,
            .mono_ms = mono_ms(), .real_ms = plume_test_http_clock_ms(CLOCK_REALTIME)};
    } else {
        free(head);
        free(body);
    }
    if (++s->stats.active > s->stats.max_active)
        s->stats.max_active = s->stats.active;
    pthread_cond_broadcast(&s->cv);
    const answer_t *a = NULL;
    if (s->nscript > 0)
        a = &s->script[(size_t)idx < s->nscript ? (size_t)idx : s->nscript - 1];
    *hang = a && a->hang;
    *delay_ms = a ? a->delay_ms : 0;
    char *resp = render_answer(a, resp_len);
    uint64_t until = mono_ms() + (uint64_t)s->barrier_ms;
    while (s->stats.requests < s->barrier && !s->stopping && mono_ms() < until)
        cond_wait_until(s, until);
    if (s->stopping) {
        free(resp);
        resp = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    return resp;
}

/* Reads one request from the connection into a fresh head and body. buf holds
 * *len bytes already read (the next request may have started); they are
 * consumed. False on EOF, stop, or a request that cannot be framed. */
static bool read_request(conn_t *c, uint8_t **buf, size_t *cap, size_t *len, char **head_out,
                         uint8_t **body_out, size_t *body_len_out)
{
    uint8_t *end;
    while (!(end = memmem(*buf, *len, "\r\n\r\n", 4))) {
        if (*len >= PLUME_TEST_HTTP_MAX_HEAD ||
            !recv_some(c->s, c->fd, *buf, len, PLUME_TEST_HTTP_MAX_HEAD))
            return false;
    }
    size_t head_len = (size_t)(end - *buf) + 2; /* keep the last header's CRLF */
    size_t body_off = head_len + 2;
    char *head = strndup((const char *)*buf, head_len);
    long long bl = head ? body_length(head) : -1;
    if (bl < 0) {
        free(head);
        return false;
    }
    size_t body_len = (size_t)bl, need = body_off + body_len;
    if (need > *cap) {
        uint8_t *nb = realloc(*buf, need);
        if (!nb) {
            free(head);
            return false;
        }
        *buf = nb;
        *cap = need;
    }
    while (*len < need) {
        if (!recv_some(c->s, c->fd, *buf, len, need)) {
            free(head);
            return false;
        }
    }
    uint8_t *body = malloc(body_len + 1);
    if (!body) {
        free(head);
        return false;
    }
    memcpy(body, *buf + body_off, body_len);
    body[body_len] = '\0';
    memmove(*buf, *buf + need, *len - need);
    *len -= need;
    *head_out = head;
    *body_out = body;
    *body_len_out = body_len;
    return true;
}

/* Serves one keep-alive connection until EOF, an error or stop. Owns c. */
static void *conn_main(void *arg)
{
    conn_t *c = arg;
    plume_test_http_server_t *s = c->s;
    size_t cap = PLUME_TEST_HTTP_MAX_HEAD, len = 0;
    uint8_t *buf = malloc(cap);
    bool pending = false; /* a request counted active and not answered */
    char *head;
    uint8_t *body;
    size_t body_len;
    while (buf && read_request(c, &buf, &cap, &len, &head, &body, &body_len)) {
        size_t resp_len = 0;
        bool hang;
        int delay_ms;
        char *resp = take_request(c, head, body, body_len, &resp_len, &hang, &delay_ms);
        pending = true;
        if (hang) {
            /* never answer: drain until the client goes away or the stop */
            free(resp);
            char tmp[4096];
            size_t n = 0;
            while (recv_some(s, c->fd, (uint8_t *)tmp, &n, sizeof(tmp)))
                n = 0;
            break;
        }
        if (resp && delay_ms > 0 && wait_fd(s, -1, 0, delay_ms) != 0) {
            free(resp);
            break; /* stopped while holding */
        }
        pthread_mutex_lock(&s->mu);
        s->stats.active--;
        pthread_mutex_unlock(&s->mu);
        pending = false;
        bool sent = resp && send_all(s, c->fd, resp, resp_len);
        free(resp);
        if (!sent)
            break;
    }
    if (pending) {
        pthread_mutex_lock(&s->mu);
        s->stats.active--;
        pthread_mutex_unlock(&s->mu);
    }
    free(buf);
    close(c->fd);
    free(c);
    return NULL;
}

/* Accepts connections until stop, then joins the connection threads. */
static void *accept_main(void *arg)
{
    plume_test_http_server_t *s = arg;
    while (wait_fd(s, s->lfd, POLLIN, -1) == 1) {
        int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        conn_t *c = s->nconn < PLUME_TEST_HTTP_MAX_CONNS ? malloc(sizeof(*c)) : NULL;
        if (!c) {
            fprintf(stderr, "http_test_server: connection %d refused (limit or memory)\n",
                    s->nconn);
            close(fd);
            continue;
        }
        pthread_mutex_lock(&s->mu);
        *c = (conn_t){.s = s, .fd = fd, .idx = s->stats.connections++};
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        if (pthread_create(&s->conn_th[s->nconn], NULL, conn_main, c) != 0) {
            close(fd);
            free(c);
            continue;
        }
        s->nconn++;
    }
    for (int i = 0; i < s->nconn; i++)
        pthread_join(s->conn_th[i], NULL);
    return NULL;
}

static void script_clear(plume_test_http_server_t *s)
{
    for (size_t i = 0; i < s->nscript; i++) {
        free(s->script[i].headers);
        free(s->script[i].body);
    }
    s->nscript = 0;
}

plume_test_http_server_t *plume_test_http_server_start(void)
{
    plume_test_http_server_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->mu, NULL);
    s->stopfd = eventfd(0, EFD_CLOEXEC);
    int fd;
    s->port = -1;
    s->lfd = -1;
    if (s->stopfd >= 0 && (s->port = plume_test_http_refusing_port(&fd)) > 0) {
        s->lfd = fd;
        if (listen(s->lfd, 64) == 0 && pthread_create(&s->accept_th, NULL, accept_main, s) == 0)
            return s;
    }
    fprintf(stderr, "http_test_server: cannot start: %s\n", strerror(errno));
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->stopfd >= 0)
        close(s->stopfd);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    return NULL;
}

void plume_test_http_server_stop(plume_test_http_server_t *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    uint64_t one = 1;
    while (write(s->stopfd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
    pthread_join(s->accept_th, NULL);
    int n = s->stats.requests < PLUME_TEST_HTTP_MAX_RECORDS ? s->stats.requests
                                                             : PLUME_TEST_HTTP_MAX_RECORDS;
    for (int i = 0; i < n; i++) {
        free(s->rec[i].head);
        free(s->rec[i].body);
    }
    script_clear(s);
    close(s->lfd);
    close(s->stopfd);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

int plume_test_http_server_port(const plume_test_http_server_t *s) { return s->port; }

char *plume_test_http_server_url(const plume_test_http_server_t *s, const char *path, char *out,
                                 size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", s->port, path ? path : "");
    return out;
}

bool plume_test_http_server_script(plume_test_http_server_t *s,
                                   const plume_test_http_answer_t *answers, size_t n)
{
    if (n == 0 || n > PLUME_TEST_HTTP_MAX_ANSWERS)
        return false;
    answer_t copy[PLUME_TEST_HTTP_MAX_ANSWERS] = {{0}};
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        const plume_test_http_answer_t *a = &answers[i];
        int status = a->status ? a->status : 200;
        const void *body = a->body;
        size_t body_len = a->body_len;
        if (!body && !body_len && a->text) {
            body = a->text;
            body_len = strlen(a->text);
        }
        ok = status >= 100 && status <= 999 && a->delay_ms >= 0 && (body || !body_len);
        copy[i] = (answer_t){.status = status, .delay_ms = a->delay_ms, .hang = a->hang,
                             .body_len = body_len,
                             .headers = strdup(a->headers ? a->headers : ""),
                             .body = malloc(body_len + 1)};
        ok = ok && copy[i].headers && copy[i].body;
        if (ok && body_len)
            memcpy(copy[i].body, body, body_len);
    }
    if (!ok) {
        for (size_t i = 0; i < n; i++) {
            free(copy[i].headers);
            free(copy[i].body);
        }
        return false;
    }
    pthread_mutex_lock(&s->mu);
    script_clear(s);
    memcpy(s->script, copy, n * sizeof(copy[0]));
    s->nscript = n;
    pthread_mutex_unlock(&s->mu);
    return true;
}

void plume_test_http_server_set_barrier(plume_test_http_server_t *s, int n, int timeout_ms)
{
    pthread_mutex_lock(&s->mu);
    s->barrier = n;
    s->barrier_ms = timeout_ms > 0 ? timeout_ms : 0;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

plume_test_http_stats_t plume_test_http_server_stats(plume_test_http_server_t *s)
{
    pthread_mutex_lock(&s->mu);
    plume_test_http_stats_t st = s->stats;
    pthread_mutex_unlock(&s->mu);
    return st;
}

int plume_test_http_server_requests(plume_test_http_server_t *s)
{
    return plume_test_http_server_stats(s).requests;
}

const plume_test_http_record_t *plume_test_http_server_record(plume_test_http_server_t *s, int i)
{
    /* the lock orders the record's writes before this read; after it the
     * record never changes */
    int n = plume_test_http_server_requests(s);
    if (i < 0 || i >= n || i >= PLUME_TEST_HTTP_MAX_RECORDS)
        fail_msg("the test HTTP server has no request %d: %d arrived, %d are recorded", i, n,
                 n < PLUME_TEST_HTTP_MAX_RECORDS ? n : PLUME_TEST_HTTP_MAX_RECORDS);
    return &s->rec[i];
}

bool plume_test_http_server_wait_requests(plume_test_http_server_t *s, int n, int timeout_ms,
                                          plume_test_http_pump_fn pump, void *arg)
{
    uint64_t until = mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        pthread_mutex_lock(&s->mu);
        if (!pump && s->stats.requests < n && mono_ms() < until)
            cond_wait_until(s, until);
        bool done = s->stats.requests >= n;
        pthread_mutex_unlock(&s->mu);
        if (done)
            return true;
        if (mono_ms() >= until || (pump && !pump(arg)))
            return false;
    }
}

bool plume_test_http_record_header(const plume_test_http_record_t *r, const char *name, char *out,
                                   size_t cap)
{
    return r && r->head && head_header(r->head, name, out, cap);
}

int plume_test_http_refusing_port(int *fd)
{
    int sfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sfd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    if (bind(sfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(sfd, (struct sockaddr *)&a, &al) != 0) {
        int e = errno;
        close(sfd);
        errno = e;
        return -1;
    }
    *fd = sfd;
    return ntohs(a.sin_port);
}

char *plume_test_http_server_ndjson(plume_test_http_server_t *s, int *lines)
{
    plume_buf_t all;
    plume_buf_init(&all, 0);
    for (int i = 0; i < plume_test_http_server_requests(s); i++) {
        const plume_test_http_record_t *r = plume_test_http_server_record(s, i);
        assert_true(plume_decompress(PLUME_CODEC_ZSTD, r->body, r->body_len, &all));
    }
    if (lines) {
        *lines = 0;
        for (size_t k = 0; k < all.len; k++)
            *lines += all.data[k] == '\n';
    }
    plume_buf_append_byte(&all, '\0');
    assert_false(all.failed);
    return (char *)all.data;
}

plume_test_http_server_t *plume_test_http_server_answering(int status, const char *text,
                                                           char *url, size_t cap)
{
    plume_test_http_server_t *srv = plume_test_http_server_start();
    assert_non_null(srv);
    plume_test_http_answer_t answer = {.status = status, .text = text};
    assert_true(plume_test_http_server_script(srv, &answer, 1));
    plume_test_http_server_url(srv, "", url, cap);
    return srv;
}
