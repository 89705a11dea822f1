/* SPDX-License-Identifier: MIT */
/* The Axiom sink. See axiom_sink.h and PROTOCOLS.md "Axiom ingest". */
#include "axiom_sink.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "agentlog.h"
#include "axiom_encode.h"
#include "backoff.h"
#include "batch_worker.h"
#include "batcher.h"
#include "compress.h"
#include "delivery.h"
#include "event.h"
#include "json_parse.h"
#include "mp.h"

typedef struct axiom_sink {
    plume_sink_t base;
    const plume_axiom_config_t *cfg;
    plume_metrics_t *metrics;
    plume_batcher_t batcher;
    plume_batch_worker_t *worker;
    plume_delivery_t *delivery;
    char url[2048];
} axiom_sink_t;

/* Largest single encoded event accepted (Axiom's field limit is 1 MB; a line
 * is at most max_line_bytes, and JSON escaping can grow it up to 6x). */
#define MAX_EVENT_BYTES (8u << 20)

/* outbox_fsync = "interval": how long a stored batch may wait for its sync. */
#define OUTBOX_SYNC_INTERVAL_MS 1000u

/* True when the URL's host (case-insensitive) is an Axiom edge,
 * e.g. eu-central-1.aws.edge.axiom.co. */
static bool is_edge_host(const char *url)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    size_t n = strcspn(host, ":/?#");
    static const char suffix[] = ".edge.axiom.co";
    size_t sl = sizeof(suffix) - 1;
    return n > sl && strncasecmp(host + n - sl, suffix, sl) == 0;
}

void plume_axiom_ingest_url(const plume_axiom_config_t *cfg, char *out, size_t outlen)
{
    const char *url = cfg->url;
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    int style = cfg->path_style;
    if (style == PLUME_AXIOM_PATH_AUTO)
        style = is_edge_host(url) ? PLUME_AXIOM_PATH_EDGE : PLUME_AXIOM_PATH_LEGACY;
    /* The dataset goes into the path: escape what is not unreserved. Config
     * validation keeps it short enough (PLUME_AXIOM_MAX_DATASET) to fit. */
    char ds[3 * PLUME_AXIOM_MAX_DATASET + 1];
    size_t j = 0;
    for (const char *p = cfg->dataset; *p && j + 4 < sizeof(ds); p++) {
        unsigned char c = (unsigned char)*p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            ds[j++] = (char)c;
        else
            j += (size_t)snprintf(ds + j, sizeof(ds) - j, "%%%02X", c);
    }
    ds[j] = '\0';
    if (style == PLUME_AXIOM_PATH_EDGE)
        snprintf(out, outlen, "%.*s/v1/ingest/%s", (int)n, url, ds);
    else
        snprintf(out, outlen, "%.*s/v1/datasets/%s/ingest", (int)n, url, ds);
}

/* A sealed batch goes to the worker thread (which takes the buffer, no copy):
 * compressed and stored there. */
static void on_seal(void *arg, plume_buf_t *body, uint32_t count)
{
    axiom_sink_t *s = arg;
    if (!plume_batch_worker_submit_buf(s->worker, body, count)) {
        PLOG_ERROR("axiom: out of memory queueing a batch of %" PRIu32 " events; dropped", count);
        s->metrics->dropped_encode += count;
    }
}

/* Loop thread: a batch reached the outbox (or could not). */
static void on_stored(void *arg, plume_batch_result_t *res)
{
    axiom_sink_t *s = arg;
    if (res->dropped_batches) {
        s->metrics->dropped_outbox_full += res->dropped_events;
        PLOG_WARN("axiom: outbox full, dropped the %" PRIu32 " oldest batches (%" PRIu64 " events)",
                  res->dropped_batches, res->dropped_events);
    }
    if (res->rc == -EIO) {
        PLOG_ERROR("axiom: compressing a batch of %" PRIu32 " events failed; dropped", res->events);
        s->metrics->dropped_encode += res->events;
        return;
    }
    if (res->rc != 0) {
        PLOG_ERROR("axiom: cannot store a batch of %" PRIu32 " events in the outbox: %s; dropped",
                   res->events, strerror(-res->rc));
        s->metrics->dropped_outbox_full += res->events;
        return;
    }
    s->metrics->batches++;
    if (res->body.data)
        plume_delivery_offer(s->delivery, res->id, &res->meta, &res->body);
    else
        plume_delivery_kick(s->delivery);
}

static char *header(const char *fmt, const char *value)
{
    size_t n = strlen(fmt) + strlen(value);
    char *h = malloc(n);
    if (h)
        snprintf(h, n, fmt, value);
    return h;
}

static bool prepare(void *ctx, const plume_batch_meta_t *meta, plume_delivery_request_t *req)
{
    axiom_sink_t *s = ctx;
    snprintf(req->url, sizeof(req->url), "%s", s->url);
    int i = 0;
    req->headers[i++] = header("Authorization: Bearer %s", s->cfg->token);
    req->headers[i++] = header("Content-Type: %s", "application/x-ndjson");
    const char *enc = plume_codec_content_encoding((plume_codec_t)meta->codec);
    if (enc)
        req->headers[i++] = header("Content-Encoding: %s", enc);
    if (s->cfg->org_id && *s->cfg->org_id)
        req->headers[i++] = header("X-Axiom-Org-Id: %s", s->cfg->org_id);
    req->headers[i] = NULL;
    for (int k = 0; k < i; k++)
        if (!req->headers[k])
            return false;
    return true;
}

/* Reads "ingested" and "failed" (and the first failure's "error") from a 2xx
 * body: {"ingested":N,"failed":M,"failures":[{"error":"..."}],...}. */
static void count_ingest_result(axiom_sink_t *s, const plume_http_response_t *resp)
{
    plume_buf_t mp;
    plume_buf_init(&mp, 1u << 20);
    plume_json_error_t jerr;
    if (resp->body_truncated || !plume_json_to_mp((const char *)resp->body, resp->body_len, &mp, &jerr)) {
        if (resp->body_len)
            PLOG_DEBUG("axiom: could not read the ingest response body");
        plume_buf_free(&mp);
        return;
    }
    plume_mp_reader_t r;
    plume_mp_value_t v, k;
    plume_mp_reader_init(&r, mp.data, mp.len);
    uint64_t failed = 0;
    char first_error[200] = "";
    if (plume_mp_read(&r, &v) && v.type == PLUME_MP_MAP) {
        for (uint32_t i = 0; i < v.count; i++) {
            if (!plume_mp_read(&r, &k))
                break;
            if (plume_mp_str_eq(&k, "failed")) {
                plume_mp_value_t n;
                if (!plume_mp_read(&r, &n))
                    break;
                if (n.type == PLUME_MP_UINT)
                    failed = n.u;
            } else if (plume_mp_str_eq(&k, "failures")) {
                plume_mp_reader_t fr = r;
                plume_mp_value_t arr, obj, fk, fv;
                if (plume_mp_read(&fr, &arr) && arr.type == PLUME_MP_ARRAY && arr.count > 0 &&
                    plume_mp_read(&fr, &obj) && obj.type == PLUME_MP_MAP) {
                    for (uint32_t j = 0; j < obj.count; j++) {
                        if (!plume_mp_read(&fr, &fk))
                            break;
                        if (plume_mp_str_eq(&fk, "error")) {
                            if (plume_mp_read(&fr, &fv) && fv.type == PLUME_MP_STR)
                                snprintf(first_error, sizeof(first_error), "%.*s", (int)fv.len, fv.s);
                            break;
                        }
                        if (!plume_mp_skip(&fr))
                            break;
                    }
                }
                if (!plume_mp_skip(&r))
                    break;
            } else if (!plume_mp_skip(&r)) {
                break;
            }
        }
    }
    plume_buf_free(&mp);
    if (failed) {
        s->metrics->rejected_by_sink += failed;
        PLOG_WARN("axiom: %" PRIu64 " events of the batch were rejected by Axiom%s%s", failed,
                  *first_error ? ", first error: " : "", first_error);
    }
}

static uint64_t epoch_ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The wait for a 429/430: the vendor's reset header, else Retry-After. */
static bool rate_limit_until(const plume_http_response_t *resp, const char *reset_header,
                             uint64_t *until)
{
    const char *v = plume_http_response_header(resp, reset_header);
    if (v && plume_parse_epoch_reset(v, until))
        return true;
    uint64_t now = epoch_ms_now(), delay;
    v = plume_http_response_header(resp, "Retry-After");
    if (v && plume_parse_retry_after(v, now, &delay)) {
        *until = now + delay;
        return true;
    }
    return false;
}

static plume_verdict_t judge(void *ctx, const plume_batch_meta_t *meta,
                             const plume_http_response_t *resp, uint64_t *until, char *reason,
                             size_t reason_len)
{
    axiom_sink_t *s = ctx;
    (void)meta;
    long st = resp->status;
    if (resp->curl_code != CURLE_OK) {
        snprintf(reason, reason_len, "network error: %s", resp->error ? resp->error : "unknown");
        return PLUME_VERDICT_RETRY;
    }
    if (st >= 200 && st < 300) {
        count_ingest_result(s, resp);
        return PLUME_VERDICT_DELIVERED;
    }
    if (st == 401 || st == 403) {
        snprintf(reason, reason_len,
                 "Axiom refused the token (HTTP %ld): check AXIOM_TOKEN or sinks.axiom.token%s", st,
                 strncmp(s->cfg->token, "xapt-", 5) == 0 ? " and org_id" : "");
        return PLUME_VERDICT_STOP;
    }
    if (st == 429 || st == 430) {
        const char *hdr = st == 429 ? "X-RateLimit-Reset" : "X-IngestLimit-Reset";
        if (rate_limit_until(resp, hdr, until)) {
            snprintf(reason, reason_len, "HTTP %ld (%s)", st,
                     st == 429 ? "rate limited" : "ingest limit reached");
            return PLUME_VERDICT_WAIT_UNTIL;
        }
        snprintf(reason, reason_len, "HTTP %ld without a reset time", st);
        return PLUME_VERDICT_RETRY;
    }
    if (st == 408 || st >= 500) {
        snprintf(reason, reason_len, "HTTP %ld", st);
        return PLUME_VERDICT_RETRY;
    }
    snprintf(reason, reason_len, "HTTP %ld: %.*s", st,
             (int)(resp->body_len > 300 ? 300 : resp->body_len), (const char *)resp->body);
    for (char *p = reason; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    return PLUME_VERDICT_DEAD_LETTER;
}

static const plume_delivery_ops_t delivery_ops = {prepare, judge, NULL};

static void submit(plume_sink_t *base, const plume_event_view_t *ev)
{
    axiom_sink_t *s = (axiom_sink_t *)base;
    plume_buf_t *out = plume_batcher_begin(&s->batcher);
    bool ok = plume_axiom_encode_view(out, ev);
    if (!plume_batcher_commit(&s->batcher, ok))
        s->metrics->dropped_encode++;
}

static void flush(plume_sink_t *base)
{
    axiom_sink_t *s = (axiom_sink_t *)base;
    plume_batcher_seal(&s->batcher);
}

static bool idle(const plume_sink_t *base)
{
    const axiom_sink_t *s = (const axiom_sink_t *)base;
    return plume_batcher_count(&s->batcher) == 0 && plume_batch_worker_idle(s->worker) &&
           plume_delivery_idle(s->delivery);
}

static bool stopped(const plume_sink_t *base)
{
    return plume_delivery_stopped(((const axiom_sink_t *)base)->delivery);
}

static uint64_t pending_events(const plume_sink_t *base)
{
    const axiom_sink_t *s = (const axiom_sink_t *)base;
    return plume_batcher_count(&s->batcher) + plume_batch_worker_pending_events(s->worker) +
           plume_delivery_pending_events(s->delivery);
}

static void sink_free(plume_sink_t *base)
{
    axiom_sink_t *s = (axiom_sink_t *)base;
    if (!s)
        return;
    plume_batcher_free(&s->batcher);
    /* The worker first: it stores what is still queued and reports to the
     * delivery, which must still exist. */
    plume_batch_worker_free(s->worker);
    plume_delivery_free(s->delivery);
    free(s);
}

static bool can_accept(const plume_sink_t *base)
{
    return !plume_batch_worker_full(((const axiom_sink_t *)base)->worker);
}

/* The configured number of compression threads; 0 means one more than the
 * online CPUs (a thread waiting for its outbox write and fsync leaves its CPU
 * to another), at most 4 (past that the loop thread cannot feed them). */
static unsigned compression_threads(const plume_axiom_config_t *cfg)
{
    if (cfg->compression_threads > 0)
        return (unsigned)cfg->compression_threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 2 : n >= 4 ? 4 : (unsigned)n + 1;
}

static const plume_sink_ops_t sink_ops = {submit,         flush,     idle,      stopped,
                                          pending_events, sink_free, can_accept};

plume_sink_t *plume_axiom_sink_new(plume_loop_t *loop, plume_http_t *http,
                                   const plume_axiom_config_t *cfg, const char *data_dir,
                                   uint64_t max_memory, plume_metrics_t *metrics, char *errbuf,
                                   size_t errlen)
{
    axiom_sink_t *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(errbuf, errlen, "axiom: out of memory");
        return NULL;
    }
    s->base.name = "axiom";
    s->base.ops = &sink_ops;
    s->cfg = cfg;
    s->metrics = metrics;
    plume_axiom_ingest_url(cfg, s->url, sizeof(s->url));
    plume_batch_limits_t lim = {(uint32_t)cfg->batch_max_events, cfg->batch_max_bytes,
                                cfg->batch_max_age_ms};
    bool ok = plume_batcher_init(&s->batcher, loop, &lim, MAX_EVENT_BYTES, on_seal, s);
    if (!ok) {
        snprintf(errbuf, errlen, "axiom: out of memory");
        sink_free(&s->base);
        return NULL;
    }
    /* outbox_fsync: true = each batch before it is sent; "interval" = the
     * compression threads sync the outbox within OUTBOX_SYNC_INTERVAL_MS of a
     * write (group commit); false = never (the OS writes back). */
    plume_outbox_t *ob = plume_outbox_open(data_dir, "axiom", cfg->outbox_max_size,
                                           cfg->outbox_fsync == PLUME_TRISTATE_TRUE, errbuf, errlen);
    if (!ob) {
        sink_free(&s->base);
        return NULL;
    }
    plume_delivery_options_t dopts = {
        .name = "axiom",
        .max_in_flight = (uint32_t)cfg->max_in_flight,
        .backoff = {.initial_ms = cfg->retry_initial_ms, .max_ms = cfg->retry_max_ms},
        .max_attempts = (uint32_t)cfg->retry_max_attempts,
        .request_timeout_ms = (long)cfg->request_timeout_ms,
        .connect_timeout_ms = (long)cfg->connect_timeout_ms,
        .max_body = cfg->batch_max_bytes + MAX_EVENT_BYTES + (1u << 16),
    };
    s->delivery = plume_delivery_new(loop, http, ob, &delivery_ops, s, &dopts, metrics);
    if (!s->delivery) {
        plume_outbox_close(ob);
        snprintf(errbuf, errlen, "axiom: out of memory");
        sink_free(&s->base);
        return NULL;
    }
    /* Memory: the open batch and the bodies in flight take up to
     * (1 + max_in_flight) batches; sealed batches waiting for compression may use
     * the rest of max_memory (at least one batch). Past it, input pauses. */
    uint64_t fixed = (1 + (uint64_t)cfg->max_in_flight) * cfg->batch_max_bytes;
    uint64_t queue = max_memory > fixed + cfg->batch_max_bytes ? max_memory - fixed
                                                               : cfg->batch_max_bytes;
    uint32_t sync_ms = cfg->outbox_fsync == PLUME_TRISTATE_AUTO ? OUTBOX_SYNC_INTERVAL_MS : 0;
    s->worker = plume_batch_worker_new(loop, ob, cfg->compression, (int)cfg->compression_level,
                                       compression_threads(cfg), (size_t)queue, sync_ms, on_stored,
                                       s);
    if (!s->worker) {
        snprintf(errbuf, errlen, "axiom: cannot start the compression thread");
        sink_free(&s->base);
        return NULL;
    }
    return &s->base;
}
