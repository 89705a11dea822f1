/* SPDX-License-Identifier: MIT */
/* A fast local Axiom-compatible ingest receiver for the stdin benchmark.
 *
 * tests/support/axiom_receiver.py checks requests thoroughly but costs ~30 ms
 * per 10,000-event request, which made it the benchmark's bottleneck. This
 * program keeps the checks that matter for a benchmark and is cheap: it
 * listens on 127.0.0.1 (--port N, 0 = ephemeral), prints the bound port alone
 * on one stdout line, and serves HTTP/1.1 keep-alive with one thread per
 * connection (blocking I/O, at most MAX_CONNS at once). Each request must be
 * `POST /v1/datasets/<dataset>/ingest` or `POST /v1/ingest/<dataset>` with
 * `Authorization: Bearer <token>`, Content-Type application/x-ndjson,
 * Content-Encoding zstd, gzip or none and a Content-Length body (chunked
 * bodies are refused). The body is decompressed (bounded), its lines counted
 * (at most 10,000) and each line checked cheaply: it must start with
 * `{"_time":"` and end with `}`. The answer is Axiom's 200 ingest status or a
 * 4xx/5xx with a JSON error. On SIGTERM or SIGINT it prints one line of totals,
 * `bench_receiver: requests=N events=N bytes_in=N bytes_decoded=N rejected=N`,
 * and exits 0. Every byte from the network is treated as hostile: sizes are
 * bounded and malformed requests get an error answer, never a crash. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zstd.h>

#include "buf.h"
#include "compress.h"
#include "monotime.h"

#define MAX_CONNS 64
#define MAX_HEADER_BYTES (64u * 1024u)            /* request line + headers */
#define MAX_BODY_BYTES (64u * 1024u * 1024u)      /* as sent (compressed) */
#define MAX_DECODED_BYTES (256u * 1024u * 1024u)  /* after decompression */
#define MAX_EVENTS 10000
#define KEEP_BUF_BYTES (8u * 1024u * 1024u)       /* larger buffers are freed after use */
#define IO_TIMEOUT_S 60                           /* idle keep-alive connections are dropped */
#define MAX_NAME 256                              /* --token / --dataset */

static const char LINE_PREFIX[] = "{\"_time\":\"";

/* What the receiver accepts, set once from the command line. */
static char g_token[MAX_NAME + 1];
static char g_legacy_path[MAX_NAME + 64];
static char g_edge_path[MAX_NAME + 64];

/* Totals, updated before each answer is sent so that a client that has its
 * answer can rely on the counts including its request. */
static atomic_uint_fast64_t g_requests, g_events, g_bytes_in, g_bytes_decoded, g_rejected;
static atomic_int g_active_conns;
/* Signalled whenever a connection ends, for an accept loop out of fds. */
static pthread_mutex_t g_conn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_conn_ended;

/* One connection's state, owned by its thread. `in` holds bytes received but
 * not yet consumed (headers, maybe the start of the body and of a pipelined
 * next request). */
typedef struct {
    int fd;
    char in[MAX_HEADER_BYTES + 1];
    size_t in_len;
    uint8_t *body;
    size_t body_cap;
    plume_buf_t decoded;
    plume_compressor_t *z;
    ZSTD_DCtx *dctx; /* for the one-shot path of decompress() */
} conn_t;

/* The parts of a request head the checks need; pointers into conn_t.in, valid
 * until the request is finished. */
typedef struct {
    const char *method, *target;
    bool http10;
    int n_auth, n_ctype, n_cenc, n_clen;
    const char *auth, *ctype, *cenc, *clen, *te, *expect, *connection;
    bool clen_conflict;
} head_t;

/* An answer: status and a message for the JSON error body (ignored for 200). */
typedef struct {
    int status;
    char message[256];
    bool close;  /* close the connection after answering */
} answer_t;

static void set_error(answer_t *a, int status, bool close, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void set_error(answer_t *a, int status, bool close, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof(a->message), fmt, ap);
    va_end(ap);
    a->status = status;
    a->close = a->close || close;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    }
    return "Error";
}

/* Copies `s` into out[0..cap) as the inside of a JSON string: quotes and
 * backslashes escaped, control and non-ASCII bytes replaced by '?', output
 * truncated to fit. Always NUL-terminates (cap > 0). */
static void json_escape(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (; *s && o + 3 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else {
            out[o++] = (c < 0x20 || c > 0x7e) ? '?' : (char)c;
        }
    }
    out[o] = '\0';
}

/* Writes all of p[0..n) to fd. Returns false on error or timeout. */
static bool send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

/* Counts the request in the totals, then sends the answer (no body for HEAD).
 * `events`, `decoded`: what a 200 reports. Returns false if sending failed. */
static bool answer(conn_t *c, const char *method, const answer_t *a, size_t events,
                   size_t body_len, size_t decoded)
{
    char body[512], esc[300];
    if (a->status == 200) {
        snprintf(body, sizeof(body),
                 "{\"ingested\":%zu,\"failed\":0,\"failures\":[],\"processedBytes\":%zu}",
                 events, decoded);
        atomic_fetch_add(&g_events, events);
        atomic_fetch_add(&g_bytes_decoded, decoded);
    } else {
        json_escape(esc, sizeof(esc), a->message);
        snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\"}", a->status, esc);
        atomic_fetch_add(&g_rejected, 1);
    }
    atomic_fetch_add(&g_requests, 1);
    atomic_fetch_add(&g_bytes_in, body_len);

    size_t blen = strlen(body);
    char out[1024];
    int n = snprintf(out, sizeof(out),
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n%s\r\n",
                     a->status, reason(a->status), blen, a->close ? "Connection: close\r\n" : "");
    if (n < 0 || (size_t)n + blen > sizeof(out))
        return false;
    bool head = method && strcmp(method, "HEAD") == 0;
    if (!head) {
        memcpy(out + n, body, blen);
        n += (int)blen;
    }
    return send_all(c->fd, out, (size_t)n);
}

/* Receives more bytes into c->in. Returns the count, 0 at end of stream,
 * -1 on error or timeout. */
static ssize_t fill(conn_t *c)
{
    for (;;) {
        ssize_t r = recv(c->fd, c->in + c->in_len, MAX_HEADER_BYTES - c->in_len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r > 0)
            c->in_len += (size_t)r;
        return r;
    }
}

/* Finds the end of the request head in c->in (after an empty line, CRLF or
 * bare LF). Returns the offset just past it, or 0 if it is not complete. */
static size_t head_end(const conn_t *c)
{
    const char *p = c->in, *end = c->in + c->in_len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return 0;
        const char *next = nl + 1;
        if (next < end && *next == '\n')
            return (size_t)(next + 1 - c->in);
        if (next + 1 < end && next[0] == '\r' && next[1] == '\n')
            return (size_t)(next + 2 - c->in);
        p = next;
    }
    return 0;
}

static bool is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Trims spaces and tabs on both sides of s, in place; returns the new start. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* Parses the request head in c->in[0..len) in place (lines are NUL-terminated
 * where they end). Fills h; on a malformed head sets a 400 in `a` (connection
 * to be closed) and returns false. */
static bool parse_head(conn_t *c, size_t len, head_t *h, answer_t *a)
{
    memset(h, 0, sizeof(*h));
    if (memchr(c->in, '\0', len)) {
        set_error(a, 400, true, "NUL byte in the request head");
        return false;
    }
    char *p = c->in, *end = c->in + len;
    bool first = true;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        *nl = '\0';
        if (nl > p && nl[-1] == '\r')
            nl[-1] = '\0';
        char *line = p;
        p = nl + 1;
        if (*line == '\0') {
            if (first)
                continue; /* tolerated empty lines before the request line */
            break;
        }
        if (first) {
            first = false;
            char *sp1 = strchr(line, ' ');
            char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
            if (!sp1 || !sp2 || sp1 == line || sp2 == sp1 + 1 || strchr(sp2 + 1, ' ')) {
                set_error(a, 400, true, "malformed request line");
                return false;
            }
            *sp1 = *sp2 = '\0';
            for (const char *m = line; *m; m++)
                if (!is_tchar((unsigned char)*m)) {
                    set_error(a, 400, true, "malformed method");
                    return false;
                }
            if (strcmp(sp2 + 1, "HTTP/1.1") == 0) {
                h->http10 = false;
            } else if (strcmp(sp2 + 1, "HTTP/1.0") == 0) {
                h->http10 = true;
            } else {
                set_error(a, 400, true, "unsupported protocol version");
                return false;
            }
            h->method = line;
            h->target = sp1 + 1;
            continue;
        }
        if (*line == ' ' || *line == '\t') {
            set_error(a, 400, true, "obsolete header line folding");
            return false;
        }
        char *colon = strchr(line, ':');
        if (!colon || colon == line) {
            set_error(a, 400, true, "malformed header line");
            return false;
        }
        *colon = '\0';
        for (const char *m = line; *m; m++)
            if (!is_tchar((unsigned char)*m)) {
                set_error(a, 400, true, "malformed header name");
                return false;
            }
        char *v = trim(colon + 1);
        if (strcasecmp(line, "Authorization") == 0) {
            h->n_auth++;
            h->auth = v;
        } else if (strcasecmp(line, "Content-Type") == 0) {
            h->n_ctype++;
            h->ctype = v;
        } else if (strcasecmp(line, "Content-Encoding") == 0) {
            h->n_cenc++;
            h->cenc = v;
        } else if (strcasecmp(line, "Content-Length") == 0) {
            if (h->clen && strcmp(h->clen, v) != 0)
                h->clen_conflict = true;
            h->n_clen++;
            h->clen = v;
        } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
            h->te = v;
        } else if (strcasecmp(line, "Expect") == 0) {
            h->expect = v;
        } else if (strcasecmp(line, "Connection") == 0) {
            h->connection = v;
        }
    }
    if (!h->method) {
        set_error(a, 400, true, "no request line");
        return false;
    }
    return true;
}

/* Decides the body length from the head. Returns false with an error in `a`
 * (connection to be closed: the framing cannot be trusted) if it is refused. */
static bool body_length(const head_t *h, size_t *out, answer_t *a)
{
    *out = 0;
    if (h->te) {
        if (strcasecmp(h->te, "chunked") == 0)
            set_error(a, 411, true, "chunked bodies are not supported, send Content-Length");
        else
            set_error(a, 501, true, "unsupported Transfer-Encoding");
        return false;
    }
    if (!h->clen) {
        if (strcmp(h->method, "POST") == 0) {
            set_error(a, 411, true, "Content-Length required");
            return false;
        }
        return true;
    }
    if (h->clen_conflict) {
        set_error(a, 400, true, "conflicting Content-Length headers");
        return false;
    }
    if (!*h->clen) {
        set_error(a, 400, true, "empty Content-Length");
        return false;
    }
    size_t n = 0;
    for (const char *d = h->clen; *d; d++) {
        if (*d < '0' || *d > '9') {
            set_error(a, 400, true, "malformed Content-Length");
            return false;
        }
        n = n * 10 + (size_t)(*d - '0');
        if (n > MAX_BODY_BYTES) {
            set_error(a, 413, true, "body exceeds %u bytes", MAX_BODY_BYTES);
            return false;
        }
    }
    *out = n;
    return true;
}

/* Reads the n-byte body into c->body: first what is already in c->in after
 * the head (offset `from`), then from the socket. Returns the number of bytes
 * of c->in consumed by head and body, or 0 if the body could not be read. */
static size_t read_body(conn_t *c, size_t from, size_t n)
{
    if (n > c->body_cap) {
        uint8_t *nb = realloc(c->body, n);
        if (!nb)
            return 0;
        c->body = nb;
        c->body_cap = n;
    }
    size_t have = c->in_len - from;
    if (have > n)
        have = n;
    if (have)
        memcpy(c->body, c->in + from, have);
    while (have < n) {
        ssize_t r = recv(c->fd, c->body + have, n - have, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        have += (size_t)r;
    }
    size_t used = from + n;
    return used < c->in_len ? used : c->in_len;
}

/* Counts the NDJSON lines of d[0..n) and checks each one cheaply (starts
 * with {"_time":" and ends with }). A final newline is allowed, an empty line
 * elsewhere is not. Returns the count, or -1 with a 400 in `a`. */
static long count_lines(const uint8_t *d, size_t n, answer_t *a)
{
    const size_t plen = sizeof(LINE_PREFIX) - 1;
    long count = 0;
    const uint8_t *p = d, *end = d + n;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *le = nl ? nl : end;
        size_t len = (size_t)(le - p);
        if (++count > MAX_EVENTS) {
            set_error(a, 400, false, "more than %d events in one request", MAX_EVENTS);
            return -1;
        }
        if (len == 0) {
            set_error(a, 400, false, "line %ld is empty", count);
            return -1;
        }
        if (len < plen + 1 || memcmp(p, LINE_PREFIX, plen) != 0) {
            set_error(a, 400, false, "line %ld does not start with {\"_time\":\"", count);
            return -1;
        }
        if (le[-1] != '}') {
            set_error(a, 400, false, "line %ld does not end with }", count);
            return -1;
        }
        p = nl ? nl + 1 : end;
    }
    return count;
}

/* A zstd body that is one frame stating its content size is decoded in one
 * call straight into c->decoded (the streaming decoder would copy every
 * byte through its window buffer). False, with c->decoded empty, when that
 * does not apply or fails; the streaming path then decides. */
static bool decompress_one_shot(conn_t *c, plume_codec_t codec, size_t n)
{
    if (codec != PLUME_CODEC_ZSTD)
        return false;
    unsigned long long size = ZSTD_getFrameContentSize(c->body, n);
    if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
        size > MAX_DECODED_BYTES || ZSTD_findFrameCompressedSize(c->body, n) != n)
        return false;
    if (!c->dctx && !(c->dctx = ZSTD_createDCtx()))
        return false;
    if (!plume_buf_reserve(&c->decoded, (size_t)size ? (size_t)size : 1))
        return false;
    size_t r = ZSTD_decompressDCtx(c->dctx, c->decoded.data, (size_t)size, c->body, n);
    if (ZSTD_isError(r) || r != size)
        return false;
    c->decoded.len = r;
    return true;
}

/* Applies the ingest rules to a request whose body is in c->body[0..n), in
 * the service's order. On success returns true with the event count and the
 * decoded size; otherwise fills `a`. */
static bool check_request(conn_t *c, const head_t *h, size_t n, answer_t *a, size_t *events,
                          size_t *decoded)
{
    if (strcmp(h->method, "POST") != 0) {
        set_error(a, 405, false, "method %.40s not allowed", h->method);
        return false;
    }
    if (strcmp(h->target, g_legacy_path) != 0 && strcmp(h->target, g_edge_path) != 0) {
        set_error(a, 404, false, "path %.100s is not %s or %s", h->target, g_legacy_path,
                  g_edge_path);
        return false;
    }
    if (h->n_auth != 1) {
        set_error(a, 401, false, "%d Authorization headers", h->n_auth);
        return false;
    }
    if (strncmp(h->auth, "Bearer ", 7) != 0 || !h->auth[7]) {
        set_error(a, 401, false, "Authorization is not 'Bearer <token>'");
        return false;
    }
    for (const char *t = h->auth + 7; *t; t++)
        if (*t < '!' || *t > '~') {
            set_error(a, 401, false, "Authorization is not 'Bearer <token>'");
            return false;
        }
    if (strcmp(h->auth + 7, g_token) != 0) {
        set_error(a, 401, false, "invalid token");
        return false;
    }
    size_t mlen = h->ctype ? strcspn(h->ctype, ";") : 0;
    while (mlen && (h->ctype[mlen - 1] == ' ' || h->ctype[mlen - 1] == '\t'))
        mlen--;
    if (h->n_ctype != 1 || mlen != strlen("application/x-ndjson") ||
        strncasecmp(h->ctype, "application/x-ndjson", mlen) != 0) {
        set_error(a, 415, false, "Content-Type is not application/x-ndjson");
        return false;
    }
    if (h->n_cenc > 1) {
        set_error(a, 415, false, "several Content-Encoding headers");
        return false;
    }
    plume_codec_t codec = PLUME_CODEC_NONE;
    if (h->n_cenc == 1) {
        if (strcasecmp(h->cenc, "zstd") == 0) {
            codec = PLUME_CODEC_ZSTD;
        } else if (strcasecmp(h->cenc, "gzip") == 0) {
            codec = PLUME_CODEC_GZIP;
        } else {
            set_error(a, 415, false, "Content-Encoding %.40s is not zstd or gzip", h->cenc);
            return false;
        }
    }
    const uint8_t *d = c->body;
    size_t dn = n;
    if (codec != PLUME_CODEC_NONE) {
        plume_buf_reset(&c->decoded);
        if (!c->z && !(c->z = plume_compressor_new())) {
            set_error(a, 503, false, "out of memory");
            return false;
        }
        if (!decompress_one_shot(c, codec, n) &&
            !plume_compressor_decompress(c->z, codec, c->body, n, &c->decoded)) {
            if (c->decoded.failed)
                set_error(a, 413, false, "decompressed body exceeds %u bytes", MAX_DECODED_BYTES);
            else
                set_error(a, 400, false, "%s body does not decompress", plume_codec_name(codec));
            return false;
        }
        d = c->decoded.data;
        dn = c->decoded.len;
    }
    long lines = count_lines(d, dn, a);
    if (lines < 0)
        return false;
    *events = (size_t)lines;
    *decoded = dn;
    return true;
}

/* Frees buffers that grew past KEEP_BUF_BYTES, so 64 idle connections do not
 * each keep the memory of their largest request. */
static void trim_buffers(conn_t *c)
{
    if (c->body_cap > KEEP_BUF_BYTES) {
        free(c->body);
        c->body = NULL;
        c->body_cap = 0;
    }
    if (c->decoded.cap > KEEP_BUF_BYTES) {
        plume_buf_free(&c->decoded);
        plume_buf_init(&c->decoded, MAX_DECODED_BYTES);
    }
}

/* Serves one request from the connection. Returns false when the connection
 * must be closed (end of stream, error, or an answer that closes it). */
static bool serve_one(conn_t *c)
{
    size_t hlen;
    while ((hlen = head_end(c)) == 0) {
        if (c->in_len >= MAX_HEADER_BYTES) {
            answer_t a = {0};
            set_error(&a, 431, true, "request head exceeds %u bytes", MAX_HEADER_BYTES);
            answer(c, NULL, &a, 0, 0, 0);
            return false;
        }
        if (fill(c) <= 0)
            return false; /* closed, timed out, or cut off in the head */
    }
    answer_t a = {.status = 200};
    head_t h;
    if (!parse_head(c, hlen, &h, &a)) {
        answer(c, NULL, &a, 0, 0, 0);
        return false;
    }
    if (h.connection) {
        if (strcasestr(h.connection, "close"))
            a.close = true;
        else if (h.http10 && !strcasestr(h.connection, "keep-alive"))
            a.close = true;
    } else if (h.http10) {
        a.close = true;
    }
    size_t n;
    if (!body_length(&h, &n, &a)) {
        answer(c, h.method, &a, 0, 0, 0);
        return false;
    }
    if (n && h.expect && strcasecmp(h.expect, "100-continue") == 0 &&
        c->in_len == hlen && !send_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25))
        return false;
    size_t used = read_body(c, hlen, n);
    if (used == 0)
        return false; /* the client went away mid-body, or no memory for it */
    size_t events = 0, decoded = 0;
    check_request(c, &h, n, &a, &events, &decoded);
    bool ok = answer(c, h.method, &a, events, n, decoded);
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    trim_buffers(c);
    return ok && !a.close;
}

/* A connection's thread: serves requests until the connection ends, then
 * frees everything (it owns `arg`). */
static void *conn_main(void *arg)
{
    conn_t *c = arg;
    while (serve_one(c)) {
    }
    close(c->fd);
    free(c->body);
    plume_buf_free(&c->decoded);
    plume_compressor_free(c->z);
    ZSTD_freeDCtx(c->dctx);
    free(c);
    pthread_mutex_lock(&g_conn_mu);
    atomic_fetch_sub(&g_active_conns, 1);
    pthread_cond_broadcast(&g_conn_ended);
    pthread_mutex_unlock(&g_conn_mu);
    return NULL;
}

/* Out of fds: waits until a connection ends (or 100 ms, when the shortage
 * is someone else's) before accepting again. */
static void wait_for_a_free_fd(void)
{
    uint64_t deadline = plume_mono_ms() + 100;
    pthread_mutex_lock(&g_conn_mu);
    int open_now = atomic_load(&g_active_conns);
    while (atomic_load(&g_active_conns) >= open_now &&
           plume_cond_wait_until(&g_conn_ended, &g_conn_mu, deadline)) {
    }
    pthread_mutex_unlock(&g_conn_mu);
}

/* Counts a connection refused before any request was read, answers it and
 * closes it. */
static void refuse(int fd, const char *msg, size_t n)
{
    atomic_fetch_add(&g_requests, 1);
    atomic_fetch_add(&g_rejected, 1);
    send_all(fd, msg, n);
    close(fd);
}

/* Starts a thread for an accepted connection, or refuses it (503, counted as
 * a rejected request) when MAX_CONNS are open or a thread cannot be had.
 * Takes ownership of fd. */
static void start_conn(int fd)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                               "Content-Type: application/json\r\n"
                               "Content-Length: 41\r\nConnection: close\r\n\r\n"
                               "{\"code\":503,\"message\":\"too many clients\"}";
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (atomic_fetch_add(&g_active_conns, 1) >= MAX_CONNS) {
        atomic_fetch_sub(&g_active_conns, 1);
        refuse(fd, busy, sizeof(busy) - 1);
        return;
    }
    conn_t *c = calloc(1, sizeof(*c));
    pthread_attr_t attr;
    pthread_t t;
    bool started = false;
    if (c && pthread_attr_init(&attr) == 0) {
        c->fd = fd;
        plume_buf_init(&c->decoded, MAX_DECODED_BYTES);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256u * 1024u);
        started = pthread_create(&t, &attr, conn_main, c) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!started) {
        free(c);
        atomic_fetch_sub(&g_active_conns, 1);
        refuse(fd, busy, sizeof(busy) - 1);
    }
}

/* The accept loop (its own thread, so the main thread can wait for signals). */
static void *accept_main(void *arg)
{
    int lfd = *(int *)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                wait_for_a_free_fd();
            continue;
        }
        start_conn(fd);
    }
    return NULL;
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--port N] [--token TOKEN] [--dataset NAME]\n", argv0);
}

/* Copies a --token/--dataset value, refusing empty, overlong or non-printable
 * values (they are matched against request bytes). */
static bool copy_name(char *dst, const char *src, const char *what)
{
    size_t n = strlen(src);
    if (n == 0 || n > MAX_NAME) {
        fprintf(stderr, "bench_receiver: %s must be 1..%d bytes\n", what, MAX_NAME);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if (src[i] < '!' || src[i] > '~' || (src[i] == '/' && strcmp(what, "--dataset") == 0)) {
            fprintf(stderr, "bench_receiver: %s holds a character it cannot have\n", what);
            return false;
        }
    memcpy(dst, src, n + 1);
    return true;
}

int main(int argc, char **argv)
{
    long port = 0;
    char dataset[MAX_NAME + 1] = "ds";
    strcpy(g_token, "t");
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--port") == 0 && v) {
            char *end;
            errno = 0;
            port = strtol(v, &end, 10);
            if (errno || *end || end == v || port < 0 || port > 65535) {
                fprintf(stderr, "bench_receiver: --port %s is not 0..65535\n", v);
                return 2;
            }
        } else if (strcmp(argv[i], "--token") == 0 && v) {
            if (!copy_name(g_token, v, "--token"))
                return 2;
        } else if (strcmp(argv[i], "--dataset") == 0 && v) {
            if (!copy_name(dataset, v, "--dataset"))
                return 2;
        } else {
            usage(argv[0]);
            return 2;
        }
    }
    snprintf(g_legacy_path, sizeof(g_legacy_path), "/v1/datasets/%s/ingest", dataset);
    snprintf(g_edge_path, sizeof(g_edge_path), "/v1/ingest/%s", dataset);

    /* SIGTERM/SIGINT are taken by sigwait() in this thread only. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) {
        perror("bench_receiver: socket");
        return 1;
    }
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t slen = sizeof(sa);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 128) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &slen) != 0) {
        perror("bench_receiver: bind/listen on 127.0.0.1");
        return 1;
    }
    pthread_t acceptor;
    plume_cond_init_monotonic(&g_conn_ended);
    if (pthread_create(&acceptor, NULL, accept_main, &lfd) != 0) {
        fprintf(stderr, "bench_receiver: cannot start the accept thread\n");
        return 1;
    }
    printf("%u\n", (unsigned)ntohs(sa.sin_port));
    fflush(stdout);

    int sig = 0;
    while (sigwait(&sigs, &sig) != 0) {
    }
    printf("bench_receiver: requests=%llu events=%llu bytes_in=%llu bytes_decoded=%llu "
           "rejected=%llu\n",
           (unsigned long long)atomic_load(&g_requests), (unsigned long long)atomic_load(&g_events),
           (unsigned long long)atomic_load(&g_bytes_in),
           (unsigned long long)atomic_load(&g_bytes_decoded),
           (unsigned long long)atomic_load(&g_rejected));
    fflush(stdout);
    _exit(0); /* connection threads may still be blocked in recv() */
}
