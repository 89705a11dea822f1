/* SPDX-License-Identifier: MIT */
/* Asynchronous HTTP client on libcurl's multi-socket API, driven by plume_loop.
 *
 * The sinks hand finished request bodies to plume_http_send() and get a
 * callback with the outcome; nothing blocks. Connections are kept alive in the
 * multi handle's connection cache and easy handles are recycled. Responses are
 * captured with hard bounds: at most 64 headers of at most 8 KiB each (others
 * are ignored) and max_response_body bytes of body (the rest is read and
 * dropped, so the connection stays reusable). The client never prints anything
 * unless the environment variable PLUME_HTTP_DEBUG is set (then libcurl's
 * verbose trace goes to stderr). All calls must come from the loop's thread,
 * and the loop must outlive the client. */
#ifndef PLUME_HTTP_H
#define PLUME_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"

/* Most requests in flight at once on one client (plume_http_send: -EAGAIN). */
#define PLUME_HTTP_MAX_IN_FLIGHT 1024

typedef struct plume_http plume_http_t;

typedef struct plume_http_options {
    long max_host_connections; /* 0 = curl default (unlimited) */
    const char *user_agent;    /* e.g. "plume-agent/0.1.0"; NULL = none; copied */
    size_t max_response_body;  /* bytes kept of a response body (0 = 64 KiB) */
} plume_http_options_t;

typedef struct plume_http_response {
    int curl_code;       /* CURLE_OK if a complete HTTP response was received */
    const char *error;   /* curl's error text when curl_code != 0, else NULL */
    long status;         /* HTTP status; 0 whenever curl_code != CURLE_OK */
    const uint8_t *body; /* bounded; never NULL (empty body: ""), not NUL-terminated */
    size_t body_len;
    bool body_truncated; /* the server sent more than max_response_body */
    double total_seconds;
} plume_http_response_t;

/* Value of a response header (name compared case-insensitively, surrounding
 * blanks of the value trimmed), or NULL. With repeated headers, the first one.
 * Only valid inside the done callback, like the whole response. */
const char *plume_http_response_header(const plume_http_response_t *r, const char *name);

/* Called exactly once per accepted request, from the loop (or from
 * plume_http_free). It may send new requests; it may also call
 * plume_http_free(). */
typedef void (*plume_http_done_cb)(const plume_http_response_t *resp, void *arg);

typedef struct plume_http_request {
    const char *method;          /* "POST", "GET", "PUT", ... (NULL = "POST") */
    const char *url;             /* http:// or https:// only */
    const char *const *headers;  /* NULL-terminated "Name: value" strings, or NULL */
    const void *body;            /* borrowed until done_cb runs */
    size_t body_len;
    long timeout_ms;             /* whole request; 0 = none */
    long connect_timeout_ms;     /* 0 = curl default (300 s) */
    plume_http_done_cb done;
    void *arg;
} plume_http_request_t;

/* Creates a client on `loop`. opts may be NULL (defaults). NULL on failure. */
plume_http_t *plume_http_new(plume_loop_t *loop, const plume_http_options_t *opts);

/* Starts a request. Strings in req are copied; the body is borrowed until the
 * done callback runs. Returns 0 (done will run later, never from inside this
 * call) or -errno without calling done: -EINVAL for a missing URL/callback, a
 * malformed method or a header containing CR/LF; -EAGAIN past
 * PLUME_HTTP_MAX_IN_FLIGHT; -ESHUTDOWN while the client is being freed;
 * -ENOMEM. */
int plume_http_send(plume_http_t *h, const plume_http_request_t *req);

/* Number of requests whose done callback has not run yet. */
size_t plume_http_in_flight(const plume_http_t *h);

/* Aborts in-flight requests (their done_cb runs with curl_code
 * CURLE_ABORTED_BY_CALLBACK) and frees everything. NULL is a no-op. Safe to
 * call from a done callback; the memory is then released when the loop
 * callback that ran it returns. */
void plume_http_free(plume_http_t *h);

#endif
