/* SPDX-License-Identifier: MIT */
/* HTTP client on libcurl's multi-socket API. See http.h.
 *
 * libcurl tells us which sockets to watch (socket callback) and when to call it
 * back (timer callback); the plume loop watches those fds and runs one loop
 * timer, and both call curl_multi_socket_action() and then collect finished
 * transfers from curl_multi_info_read(). A request owns its easy handle while
 * in flight; afterwards the handle is reset and kept in a small idle pool for
 * the next request, while the connections themselves stay in the multi
 * handle's connection cache (keep-alive).
 *
 * Re-entrancy: done callbacks run outside any libcurl callback, so they may
 * send new requests or free the client. A free requested while a loop callback
 * of this client is on the stack (depth > 0) aborts the requests at once but
 * releases the memory only when that loop callback unwinds. */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "buf.h"

#define MAX_HEADERS 64           /* response headers kept */
#define MAX_HEADER_LEN 8192      /* longer response header lines are ignored */
#define DEFAULT_MAX_BODY 65536
#define MAX_IDLE_EASY 16         /* recycled easy handles kept */
#define MAX_REQ_HEADERS 256      /* request headers accepted */
#define MAX_REQ_HEADER_LEN 65536 /* bytes per request header line */
#define MAX_METHOD_LEN 32

typedef struct header {
    char *name; /* one allocation: "name\0value\0" */
    const char *value;
} header_t;

typedef struct request {
    plume_http_t *h;
    CURL *easy;
    struct curl_slist *slist;
    plume_http_done_cb done;
    void *arg;
    plume_buf_t body;
    bool truncated;
    header_t hdrs[MAX_HEADERS];
    size_t nhdrs;
    char errbuf[CURL_ERROR_SIZE];
    plume_http_response_t resp; /* filled when done */
    struct request *prev, *next;
} request_t;

struct plume_http {
    plume_loop_t *loop;
    CURLM *multi;
    plume_timer_t *timer;
    char *user_agent;
    size_t max_body;
    bool debug;
    request_t *reqs; /* in flight */
    size_t in_flight;
    CURL *idle[MAX_IDLE_EASY];
    size_t nidle;
    int *socks; /* fds we watch for libcurl */
    size_t nsocks, capsocks;
    int depth;   /* loop callbacks of this client on the stack */
    bool closing;
    bool release_pending;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- response capture ---- */

static void headers_clear(request_t *q)
{
    for (size_t i = 0; i < q->nhdrs; i++)
        free(q->hdrs[i].name);
    q->nhdrs = 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* CURLOPT_HEADERFUNCTION: one raw header line (with its CRLF) per call. Keeps
 * the headers of the last response only (a status line starts a new set, e.g.
 * after "100 Continue"), and only within the bounds. Always consumes the line:
 * returning less would abort the transfer. */
static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    request_t *q = userdata;
    size_t n = size * nitems;
    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        headers_clear(q);
        return n;
    }
    if (n == 0 || n > MAX_HEADER_LEN || q->nhdrs >= MAX_HEADERS || buf[0] == ' ' ||
        buf[0] == '\t')
        return n; /* too long, too many, or obsolete line folding */
    const char *colon = memchr(buf, ':', n);
    if (!colon)
        return n;
    size_t nlen = (size_t)(colon - buf);
    while (nlen > 0 && is_blank(buf[nlen - 1]))
        nlen--;
    const char *v = colon + 1, *end = buf + n;
    while (v < end && is_blank(*v))
        v++;
    while (end > v && is_blank(end[-1]))
        end--;
    if (nlen == 0 || memchr(buf, '\0', n))
        return n;
    size_t vlen = (size_t)(end - v);
    char *s = malloc(nlen + vlen + 2);
    if (!s)
        return n;
    memcpy(s, buf, nlen);
    s[nlen] = '\0';
    memcpy(s + nlen + 1, v, vlen);
    s[nlen + 1 + vlen] = '\0';
    q->hdrs[q->nhdrs].name = s;
    q->hdrs[q->nhdrs].value = s + nlen + 1;
    q->nhdrs++;
    return n;
}

/* CURLOPT_WRITEFUNCTION: keeps up to max_body bytes and drops the rest while
 * still consuming it, so the connection can be reused. */
static size_t on_body(char *buf, size_t size, size_t nmemb, void *userdata)
{
    request_t *q = userdata;
    size_t n = size * nmemb;
    size_t room = q->body.max - q->body.len;
    size_t take = n < room ? n : room;
    if (take > 0 && !plume_buf_append(&q->body, buf, take))
        take = 0;
    if (take < n)
        q->truncated = true;
    return n;
}

const char *plume_http_response_header(const plume_http_response_t *r, const char *name)
{
    if (!r || !name)
        return NULL;
    const request_t *q =
        (const request_t *)(const void *)((const char *)r - offsetof(request_t, resp));
    for (size_t i = 0; i < q->nhdrs; i++)
        if (strcasecmp(q->hdrs[i].name, name) == 0)
            return q->hdrs[i].value;
    return NULL;
}

/* ---- request lifetime ---- */

static void request_free(request_t *q)
{
    headers_clear(q);
    curl_slist_free_all(q->slist);
    plume_buf_free(&q->body);
    free(q);
}

/* Returns an easy handle to the idle pool, or frees it. */
static void easy_recycle(plume_http_t *h, CURL *e)
{
    if (!e)
        return;
    if (!h->closing && h->nidle < MAX_IDLE_EASY) {
        curl_easy_reset(e);
        h->idle[h->nidle++] = e;
    } else {
        curl_easy_cleanup(e);
    }
}

/* Takes q out of the multi handle and the in-flight list, runs its done
 * callback with `code` and frees it. */
static void request_finish(plume_http_t *h, request_t *q, CURLcode code)
{
    curl_multi_remove_handle(h->multi, q->easy);
    if (q->prev)
        q->prev->next = q->next;
    else
        h->reqs = q->next;
    if (q->next)
        q->next->prev = q->prev;
    h->in_flight--;

    plume_http_response_t *r = &q->resp;
    r->curl_code = (int)code;
    r->status = 0;
    if (code == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &status);
        r->status = status;
        r->error = NULL;
    } else if (code == CURLE_ABORTED_BY_CALLBACK && h->closing) {
        r->error = "request aborted: HTTP client shut down";
    } else {
        r->error = q->errbuf[0] ? q->errbuf : curl_easy_strerror(code);
    }
    r->body = q->body.data ? q->body.data : (const uint8_t *)"";
    r->body_len = q->body.len;
    r->body_truncated = q->truncated;
    double t = 0;
    curl_easy_getinfo(q->easy, CURLINFO_TOTAL_TIME, &t);
    r->total_seconds = t;

    q->done(r, q->arg);
    easy_recycle(h, q->easy);
    request_free(q);
}

/* Runs the done callbacks of every transfer libcurl reports finished. */
static void collect_done(plume_http_t *h)
{
    CURLMsg *msg;
    int left;
    while (!h->closing && (msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURLcode code = msg->data.result; /* msg dies with remove_handle */
        char *priv = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        if (priv)
            request_finish(h, (request_t *)(void *)priv, code);
    }
}

/* Frees everything; no request may be in flight. */
static void release(plume_http_t *h)
{
    /* multi cleanup may still call the socket and timer callbacks. */
    curl_multi_cleanup(h->multi);
    for (size_t i = 0; i < h->nsocks; i++)
        plume_loop_unwatch(h->loop, h->socks[i]);
    for (size_t i = 0; i < h->nidle; i++)
        curl_easy_cleanup(h->idle[i]);
    plume_timer_free(h->timer);
    free(h->socks);
    free(h->user_agent);
    free(h);
}

static void enter(plume_http_t *h)
{
    h->depth++;
}

/* Leaves a loop callback; h may be freed on return. */
static void leave(plume_http_t *h)
{
    if (--h->depth == 0 && h->release_pending)
        release(h);
}

/* ---- libcurl <-> loop glue ---- */

static void on_fd(plume_loop_t *l, int fd, unsigned events, void *arg)
{
    (void)l;
    plume_http_t *h = arg;
    int flags = ((events & PLUME_EV_READ) ? CURL_CSELECT_IN : 0) |
                ((events & PLUME_EV_WRITE) ? CURL_CSELECT_OUT : 0) |
                ((events & PLUME_EV_ERROR) ? CURL_CSELECT_ERR : 0);
    int running;
    enter(h);
    curl_multi_socket_action(h->multi, fd, flags, &running);
    collect_done(h);
    leave(h);
}

static void on_timer(plume_loop_t *l, plume_timer_t *t, void *arg)
{
    (void)l;
    (void)t;
    plume_http_t *h = arg;
    int running;
    enter(h);
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect_done(h);
    leave(h);
}

static ssize_t sock_index(const plume_http_t *h, int fd)
{
    for (size_t i = 0; i < h->nsocks; i++)
        if (h->socks[i] == fd)
            return (ssize_t)i;
    return -1;
}

/* CURLMOPT_SOCKETFUNCTION: mirror libcurl's interest in a socket into the loop.
 * Returns -1 (libcurl then fails the transfer) if the loop cannot watch it. */
static int on_curl_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    (void)socketp;
    plume_http_t *h = userp;
    ssize_t idx = sock_index(h, s);
    if (what == CURL_POLL_REMOVE) {
        plume_loop_unwatch(h->loop, s);
        if (idx >= 0)
            h->socks[idx] = h->socks[--h->nsocks];
        return 0;
    }
    if (idx < 0) {
        if (h->nsocks == h->capsocks) {
            size_t cap = h->capsocks ? h->capsocks * 2 : 8;
            int *p = realloc(h->socks, cap * sizeof(*p));
            if (!p)
                return -1;
            h->socks = p;
            h->capsocks = cap;
        }
        h->socks[h->nsocks++] = s;
    }
    unsigned ev = ((what & CURL_POLL_IN) ? PLUME_EV_READ : 0u) |
                  ((what & CURL_POLL_OUT) ? PLUME_EV_WRITE : 0u);
    return plume_loop_watch(h->loop, s, ev, on_fd, h) == 0 ? 0 : -1;
}

/* CURLMOPT_TIMERFUNCTION: -1 deletes the timer; 0 means "as soon as possible",
 * which must not call back into libcurl from here, so it becomes a 0 ms loop
 * timer like any other delay. */
static int on_curl_timer(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    plume_http_t *h = userp;
    if (timeout_ms < 0)
        plume_timer_stop(h->timer);
    else
        plume_timer_start(h->timer, (uint64_t)timeout_ms);
    return 0;
}

/* ---- public ---- */

plume_http_t *plume_http_new(plume_loop_t *loop, const plume_http_options_t *opts)
{
    if (!loop)
        return NULL;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return NULL;
    plume_http_t *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->loop = loop;
    h->max_body = opts && opts->max_response_body ? opts->max_response_body : DEFAULT_MAX_BODY;
    const char *dbg = getenv("PLUME_HTTP_DEBUG");
    h->debug = dbg && *dbg;
    if (opts && opts->user_agent && !(h->user_agent = strdup(opts->user_agent)))
        goto fail;
    if (!(h->timer = plume_timer_new(loop, on_timer, h)))
        goto fail;
    if (!(h->multi = curl_multi_init()))
        goto fail;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    if (opts && opts->max_host_connections > 0)
        curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, opts->max_host_connections);
    return h;
fail:
    plume_timer_free(h->timer);
    free(h->user_agent);
    free(h);
    return NULL;
}

/* An HTTP method is a token (RFC 7230): visible characters except separators. */
static bool valid_method(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n > MAX_METHOD_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)m[i];
        if (c <= 32 || c >= 127 || strchr("()<>@,;:\\\"/[]?={}", c))
            return false;
    }
    return true;
}

/* Request headers go on the wire verbatim: refuse anything that could split
 * them (CR/LF) or is absurdly long. */
static int build_headers(const char *const *headers, struct curl_slist **out)
{
    struct curl_slist *list = NULL;
    bool has_expect = false;
    size_t count = 0;
    for (const char *const *p = headers; p && *p; p++) {
        if (++count > MAX_REQ_HEADERS || strpbrk(*p, "\r\n") ||
            strnlen(*p, MAX_REQ_HEADER_LEN + 1) > MAX_REQ_HEADER_LEN) {
            curl_slist_free_all(list);
            return -EINVAL;
        }
        if (strncasecmp(*p, "Expect:", 7) == 0)
            has_expect = true;
        struct curl_slist *t = curl_slist_append(list, *p);
        if (!t) {
            curl_slist_free_all(list);
            return -ENOMEM;
        }
        list = t;
    }
    if (!has_expect) {
        /* An empty "Expect:" stops libcurl from adding "100-continue". */
        struct curl_slist *t = curl_slist_append(list, "Expect:");
        if (!t) {
            curl_slist_free_all(list);
            return -ENOMEM;
        }
        list = t;
    }
    *out = list;
    return 0;
}

static int setopt_err(CURLcode c)
{
    return c == CURLE_OK ? 0 : c == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

/* Sets every option of a request on a fresh or reset easy handle. */
static int configure(plume_http_t *h, request_t *q, const plume_http_request_t *req,
                     const char *method)
{
    CURL *e = q->easy;
    int rc = setopt_err(curl_easy_setopt(e, CURLOPT_URL, req->url));
    if (!rc && h->user_agent)
        rc = setopt_err(curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent));
    if (rc)
        return rc;
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)q);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, q->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 60L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 30L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, q->slist);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, q);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, q);
    if (req->timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    if (req->connect_timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
    if (h->debug)
        curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);

    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        /* The body is borrowed: POSTFIELDS does not copy. */
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        if (strcmp(method, "POST") != 0)
            rc = setopt_err(curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method));
    }
    return rc;
}

int plume_http_send(plume_http_t *h, const plume_http_request_t *req)
{
    if (!h || !req || !req->url || !req->done)
        return -EINVAL;
    if (h->closing)
        return -ESHUTDOWN;
    const char *method = req->method ? req->method : "POST";
    if (!valid_method(method) || (req->body_len > 0 && !req->body) ||
        req->body_len > (size_t)INT64_MAX)
        return -EINVAL;
    if (h->in_flight >= PLUME_HTTP_MAX_IN_FLIGHT)
        return -EAGAIN;

    request_t *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->h = h;
    q->done = req->done;
    q->arg = req->arg;
    plume_buf_init(&q->body, h->max_body);
    int rc = build_headers(req->headers, &q->slist);
    if (rc)
        goto fail;
    q->easy = h->nidle > 0 ? h->idle[--h->nidle] : curl_easy_init();
    if (!q->easy) {
        rc = -ENOMEM;
        goto fail;
    }
    if ((rc = configure(h, q, req, method)) != 0)
        goto fail;
    CURLMcode mc = curl_multi_add_handle(h->multi, q->easy);
    if (mc != CURLM_OK) {
        rc = mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
        goto fail;
    }
    q->next = h->reqs;
    if (h->reqs)
        h->reqs->prev = q;
    h->reqs = q;
    h->in_flight++;
    return 0;
fail:
    easy_recycle(h, q->easy);
    request_free(q);
    return rc;
}

size_t plume_http_in_flight(const plume_http_t *h)
{
    return h ? h->in_flight : 0;
}

void plume_http_free(plume_http_t *h)
{
    if (!h || h->closing)
        return;
    h->closing = true;
    h->depth++; /* done callbacks below must not trigger the release */
    while (h->reqs)
        request_finish(h, h->reqs, CURLE_ABORTED_BY_CALLBACK);
    h->depth--;
    if (h->depth == 0)
        release(h);
    else
        h->release_pending = true;
}
