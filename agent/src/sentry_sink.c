/* SPDX-License-Identifier: MIT */
/* The Sentry sink. See sentry_sink.h and PROTOCOLS.md "Sentry ingest". */
#include "sentry_sink.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentlog.h"
#include "compress.h"
#include "delivery.h"
#include "event.h"
#include "mp.h"
#include "sentry_dsn.h"
#include "sentry_envelope.h"
#include "sentry_event.h"
#include "sentry_ids.h"
#include "sentry_log.h"
#include "sentry_ratelimit.h"
#include "time_format.h"

/* What a stored envelope carries (plume_batch_meta_t.kind). */
enum { KIND_EVENT = 1, KIND_LOGS = 2, KIND_CLIENT_REPORT = 3 };

/* Sentry's size limits: 1 MiB per event or log item payload. */
#define MAX_ITEM_BYTES (1u << 20)
/* Room for an envelope: one item plus its header lines. */
#define MAX_ENVELOPE_BYTES (MAX_ITEM_BYTES + (64u << 10))
/* A drop is reported at the latest this long after it happened. */
#define CLIENT_REPORT_DELAY_MS 30000u
#define LOG_CONTENT_TYPE "application/vnd.sentry.items.log+json"

/* Client report reasons (Sentry's names) and the categories Plume sends. */
enum { R_RATELIMIT, R_SEND_ERROR, R_INTERNAL, R_COUNT };
static const char *const REASONS[R_COUNT] = {"ratelimit_backoff", "send_error",
                                             "internal_sdk_error"};
enum { C_ERROR, C_LOG_ITEM, C_COUNT };
static const char *const CATEGORIES[C_COUNT] = {"error", "log_item"};

typedef struct sentry_sink {
    plume_sink_t base;
    const plume_sentry_config_t *cfg;
    plume_metrics_t *metrics;
    plume_level_t error_level;
    plume_sentry_dsn_t dsn;
    char url[PLUME_SENTRY_URL_MAX];
    char auth[512];
    char trace_id[33]; /* log entries' trace_id: one per sink (per process) */
    char host[256];
    plume_sentry_event_opts_t event_opts;
    plume_sentry_ratelimit_t limits;
    plume_delivery_t *delivery;
    plume_buf_t payload;  /* one item's payload being built */
    plume_buf_t envelope; /* one envelope being built */
    plume_buf_t stamped;  /* a stored envelope with sent_at, before gzip */
    plume_buf_t logs;     /* log entries of the open log item, comma-separated */
    uint32_t nlogs;
    plume_timer_t *log_timer;
    plume_timer_t *report_timer;
    uint64_t discarded[R_COUNT][C_COUNT]; /* not yet reported */
} sentry_sink_t;

static uint64_t epoch_ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t epoch_ns_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int category_of_kind(uint8_t kind) { return kind == KIND_LOGS ? C_LOG_ITEM : C_ERROR; }

/* Counts `n` items dropped for `reason`, to be told in a client report. */
static void discard(sentry_sink_t *s, int reason, int category, uint64_t n)
{
    s->discarded[reason][category] += n;
    if (!plume_timer_active(s->report_timer))
        plume_timer_start(s->report_timer, CLIENT_REPORT_DELAY_MS);
}

/* Stores one finished envelope in the outbox. */
static void store(sentry_sink_t *s, uint8_t kind, uint32_t events)
{
    plume_batch_meta_t meta = {.created_ns = epoch_ns_now(), .event_count = events,
                               .codec = PLUME_CODEC_NONE, .kind = kind};
    int rc = plume_delivery_put(s->delivery, &meta, s->envelope.data, s->envelope.len);
    if (rc != 0) {
        PLOG_ERROR("sentry: cannot store an envelope of %" PRIu32 " events in the outbox: %s; "
                   "dropped", events, strerror(-rc));
        s->metrics->dropped_outbox_full += events;
        if (kind != KIND_CLIENT_REPORT)
            discard(s, R_INTERNAL, category_of_kind(kind), events);
        return;
    }
    s->metrics->batches++;
}

/* The event id an error map carries in "id" (a crash report's, so that a
 * report sent twice is one event in Sentry), else a fresh random one. */
static void event_id_for(const plume_event_view_t *ev, char out[33])
{
    if (ev->error) {
        plume_mp_reader_t r;
        plume_mp_value_t m, k, v;
        plume_mp_reader_init(&r, ev->error, ev->error_len);
        if (plume_mp_read(&r, &m) && m.type == PLUME_MP_MAP) {
            for (uint32_t i = 0; i < m.count && plume_mp_read(&r, &k); i++) {
                if (!plume_mp_str_eq(&k, "id")) {
                    if (!plume_mp_skip(&r))
                        break;
                    continue;
                }
                if (!plume_mp_read(&r, &v) || v.type != PLUME_MP_STR || v.len != 32)
                    break;
                bool hex = true;
                for (size_t j = 0; j < 32; j++) {
                    char c = v.s[j];
                    hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
                }
                if (!hex)
                    break;
                memcpy(out, v.s, 32);
                out[32] = '\0';
                return;
            }
        }
    }
    plume_sentry_event_id(out);
}

static void submit_event(sentry_sink_t *s, const plume_event_view_t *ev)
{
    if (plume_sentry_ratelimit_limited(&s->limits, "error", epoch_ms_now())) {
        s->metrics->dropped_rate_limited++;
        discard(s, R_RATELIMIT, C_ERROR, 1);
        return;
    }
    char id[33];
    event_id_for(ev, id);
    plume_buf_reset(&s->payload);
    plume_buf_reset(&s->envelope);
    if (!plume_sentry_event_json(&s->payload, ev, id, &s->event_opts) ||
        plume_sentry_envelope_begin(&s->envelope, id, NULL, PLUME_VERSION) != 0 ||
        plume_sentry_envelope_item(&s->envelope, "event", "application/json", -1,
                                   s->payload.data, s->payload.len) != 0) {
        PLOG_WARN("sentry: an event could not be encoded (larger than %u bytes, or malformed "
                  "fields); dropped", MAX_ITEM_BYTES);
        s->metrics->dropped_encode++;
        discard(s, R_INTERNAL, C_ERROR, 1);
        return;
    }
    store(s, KIND_EVENT, 1);
}

/* Turns the open log entries into one envelope in the outbox. */
static void seal_logs(sentry_sink_t *s)
{
    if (s->nlogs == 0)
        return;
    plume_timer_stop(s->log_timer);
    uint32_t n = s->nlogs;
    s->nlogs = 0;
    plume_buf_reset(&s->payload);
    plume_buf_append(&s->payload, "{\"items\":[", 10);
    plume_buf_append(&s->payload, s->logs.data, s->logs.len);
    plume_buf_append(&s->payload, "]}", 2);
    plume_buf_reset(&s->logs);
    plume_buf_reset(&s->envelope);
    plume_sentry_item_hdr_t hdr = {.type = "log", .content_type = LOG_CONTENT_TYPE,
                                   .item_count = (long)n};
    if (s->payload.failed ||
        plume_sentry_envelope_begin(&s->envelope, NULL, NULL, PLUME_VERSION) != 0 ||
        plume_sentry_envelope_item_ex(&s->envelope, &hdr, s->payload.data, s->payload.len) != 0) {
        s->payload.failed = false;
        s->metrics->dropped_encode += n;
        discard(s, R_INTERNAL, C_LOG_ITEM, n);
        return;
    }
    store(s, KIND_LOGS, n);
}

static void submit_log(sentry_sink_t *s, const plume_event_view_t *ev)
{
    if (plume_sentry_ratelimit_item_limited(&s->limits, "log", epoch_ms_now())) {
        s->metrics->dropped_rate_limited++;
        discard(s, R_RATELIMIT, C_LOG_ITEM, 1);
        return;
    }
    plume_buf_reset(&s->payload);
    if (!plume_sentry_log_json(&s->payload, ev, s->trace_id, &s->event_opts)) {
        s->payload.failed = false;
        s->metrics->dropped_encode++;
        discard(s, R_INTERNAL, C_LOG_ITEM, 1);
        return;
    }
    /* the item's payload stays under Sentry's 1 MiB: seal first when this
     * entry would push it over */
    if (s->nlogs && s->logs.len + 1 + s->payload.len + 16 > MAX_ITEM_BYTES)
        seal_logs(s);
    if (s->payload.len + 16 > MAX_ITEM_BYTES) {
        s->metrics->dropped_encode++;
        discard(s, R_INTERNAL, C_LOG_ITEM, 1);
        return;
    }
    if (s->nlogs)
        plume_buf_append_byte(&s->logs, ',');
    plume_buf_append(&s->logs, s->payload.data, s->payload.len);
    s->nlogs++;
    if (s->nlogs >= (uint32_t)s->cfg->log_batch_max_events)
        seal_logs(s);
    else if (!plume_timer_active(s->log_timer))
        plume_timer_start(s->log_timer, s->cfg->log_batch_max_age_ms);
}

/* Stores a client_report envelope with the drops counted so far. */
static void send_client_report(sentry_sink_t *s)
{
    plume_timer_stop(s->report_timer);
    plume_buf_reset(&s->payload);
    char ts[PLUME_TIME_FORMAT_MAX];
    size_t tn = plume_time_format_rfc3339(epoch_ns_now(), ts);
    plume_buf_append_str(&s->payload, "{\"timestamp\":\"");
    plume_buf_append(&s->payload, ts, tn);
    plume_buf_append_str(&s->payload, "\",\"discarded_events\":[");
    bool any = false;
    for (int r = 0; r < R_COUNT; r++)
        for (int c = 0; c < C_COUNT; c++) {
            if (!s->discarded[r][c])
                continue;
            plume_buf_printf(&s->payload,
                             "%s{\"reason\":\"%s\",\"category\":\"%s\",\"quantity\":%" PRIu64 "}",
                             any ? "," : "", REASONS[r], CATEGORIES[c], s->discarded[r][c]);
            any = true;
        }
    plume_buf_append_str(&s->payload, "]}");
    if (!any)
        return;
    memset(s->discarded, 0, sizeof(s->discarded));
    if (plume_sentry_ratelimit_item_limited(&s->limits, "client_report", epoch_ms_now()))
        return; /* not counted: a report about reports would never end */
    plume_buf_reset(&s->envelope);
    if (s->payload.failed ||
        plume_sentry_envelope_begin(&s->envelope, NULL, NULL, PLUME_VERSION) != 0 ||
        plume_sentry_envelope_item(&s->envelope, "client_report", "application/json", -1,
                                   s->payload.data, s->payload.len) != 0) {
        s->payload.failed = false;
        return;
    }
    store(s, KIND_CLIENT_REPORT, 0);
}

static void on_log_timer(plume_loop_t *l, plume_timer_t *t, void *arg)
{
    (void)l;
    (void)t;
    seal_logs(arg);
}

static void on_report_timer(plume_loop_t *l, plume_timer_t *t, void *arg)
{
    (void)l;
    (void)t;
    send_client_report(arg);
}

/* ---- delivery ops ---- */

static bool prepare(void *ctx, const plume_batch_meta_t *meta, plume_delivery_request_t *req)
{
    sentry_sink_t *s = ctx;
    (void)meta;
    snprintf(req->url, sizeof(req->url), "%s", s->url);
    char ua[64];
    snprintf(ua, sizeof(ua), "User-Agent: plume/%s", PLUME_VERSION);
    const char *lines[] = {s->auth, "Content-Type: application/x-sentry-envelope",
                           "Content-Encoding: gzip", ua};
    int n = (int)(sizeof(lines) / sizeof(lines[0]));
    for (int i = 0; i < n; i++)
        req->headers[i] = strdup(lines[i]);
    req->headers[n] = NULL;
    for (int i = 0; i < n; i++)
        if (!req->headers[i])
            return false;
    return true;
}

/* Right before a send: drop the envelope if its category is limited now,
 * else stamp sent_at and gzip it. */
static plume_encode_result_t encode(void *ctx, const plume_batch_meta_t *meta,
                                    const plume_buf_t *stored, plume_buf_t *wire)
{
    sentry_sink_t *s = ctx;
    const char *type = meta->kind == KIND_LOGS             ? "log"
                       : meta->kind == KIND_CLIENT_REPORT ? "client_report"
                                                          : "event";
    if (plume_sentry_ratelimit_item_limited(&s->limits, type, epoch_ms_now())) {
        if (meta->kind != KIND_CLIENT_REPORT) {
            s->metrics->dropped_rate_limited += meta->event_count;
            discard(s, R_RATELIMIT, category_of_kind(meta->kind), meta->event_count);
        }
        PLOG_DEBUG("sentry: %s envelope dropped unsent, its category is rate limited", type);
        return PLUME_ENCODE_DROP;
    }
    plume_buf_reset(&s->stamped);
    if (plume_sentry_envelope_set_sent_at(stored->data, stored->len, epoch_ns_now(),
                                          &s->stamped) != 0) {
        if (s->stamped.failed) {
            s->stamped.failed = false;
            return PLUME_ENCODE_LATER;
        }
        /* a stored envelope whose header is not JSON: not ours to send */
        PLOG_ERROR("sentry: a stored envelope has a malformed header; dropped");
        s->metrics->dropped_corrupt += meta->event_count;
        return PLUME_ENCODE_DROP;
    }
    if (!plume_compress(PLUME_CODEC_GZIP, 0, s->stamped.data, s->stamped.len, wire)) {
        wire->failed = false;
        return PLUME_ENCODE_LATER;
    }
    return PLUME_ENCODE_SEND;
}

static plume_verdict_t judge(void *ctx, const plume_batch_meta_t *meta,
                             const plume_http_response_t *resp, uint64_t *until, char *reason,
                             size_t reason_len)
{
    sentry_sink_t *s = ctx;
    (void)until;
    if (resp->curl_code != CURLE_OK) {
        snprintf(reason, reason_len, "network error: %s", resp->error ? resp->error : "unknown");
        return PLUME_VERDICT_RETRY;
    }
    long st = resp->status;
    plume_sentry_ratelimit_update(&s->limits, (int)st,
                                  plume_http_response_header(resp, "X-Sentry-Rate-Limits"),
                                  plume_http_response_header(resp, "Retry-After"), epoch_ms_now());
    if (st >= 200 && st < 300)
        return PLUME_VERDICT_DELIVERED;
    int cat = category_of_kind(meta->kind);
    bool counted = meta->kind != KIND_CLIENT_REPORT;
    if (st == 429) {
        uint64_t t = plume_sentry_ratelimit_until(&s->limits, cat == C_LOG_ITEM ? "log_item" : "error");
        uint64_t now = epoch_ms_now();
        snprintf(reason, reason_len, "HTTP 429 (rate limited for %.0fs)",
                 t > now ? (double)(t - now) / 1000.0 : 0.0);
        if (counted)
            discard(s, R_RATELIMIT, cat, meta->event_count);
        return PLUME_VERDICT_DROP;
    }
    if (st == 413)
        snprintf(reason, reason_len, "HTTP 413: the envelope is larger than Sentry accepts");
    else
        snprintf(reason, reason_len, "HTTP %ld: %.*s", st,
                 (int)(resp->body_len > 300 ? 300 : resp->body_len), (const char *)resp->body);
    for (char *p = reason; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    if (counted)
        discard(s, R_SEND_ERROR, cat, meta->event_count);
    return PLUME_VERDICT_DROP;
}

static const plume_delivery_ops_t delivery_ops = {prepare, judge, encode};

/* ---- sink ops ---- */

static void submit(plume_sink_t *base, const plume_event_view_t *ev)
{
    sentry_sink_t *s = (sentry_sink_t *)base;
    bool error = ev->error || (ev->level != PLUME_LEVEL_NONE && ev->level >= s->error_level);
    if (error)
        submit_event(s, ev);
    else
        submit_log(s, ev);
}

static void flush(plume_sink_t *base)
{
    sentry_sink_t *s = (sentry_sink_t *)base;
    seal_logs(s);
    send_client_report(s);
}

static bool idle(const plume_sink_t *base)
{
    const sentry_sink_t *s = (const sentry_sink_t *)base;
    return s->nlogs == 0 && plume_delivery_idle(s->delivery);
}

static bool stopped(const plume_sink_t *base)
{
    return plume_delivery_stopped(((const sentry_sink_t *)base)->delivery);
}

static uint64_t pending_events(const plume_sink_t *base)
{
    const sentry_sink_t *s = (const sentry_sink_t *)base;
    return s->nlogs + plume_delivery_pending_events(s->delivery);
}

static void sink_free(plume_sink_t *base)
{
    sentry_sink_t *s = (sentry_sink_t *)base;
    if (!s)
        return;
    plume_delivery_free(s->delivery);
    if (s->log_timer)
        plume_timer_free(s->log_timer);
    if (s->report_timer)
        plume_timer_free(s->report_timer);
    plume_buf_free(&s->payload);
    plume_buf_free(&s->envelope);
    plume_buf_free(&s->stamped);
    plume_buf_free(&s->logs);
    free(s);
}

static const plume_sink_ops_t sink_ops = {submit, flush, idle, stopped, pending_events, sink_free,
                                          NULL};

static const char *nonempty(const char *s) { return s && *s ? s : NULL; }

plume_sink_t *plume_sentry_sink_new(plume_loop_t *loop, plume_http_t *http,
                                    const plume_sentry_config_t *cfg, plume_level_t error_level,
                                    const char *data_dir, plume_metrics_t *metrics, char *errbuf,
                                    size_t errlen)
{
    sentry_sink_t *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(errbuf, errlen, "sentry: out of memory");
        return NULL;
    }
    s->base.name = "sentry";
    s->base.ops = &sink_ops;
    s->cfg = cfg;
    s->metrics = metrics;
    s->error_level = error_level;
    plume_buf_init(&s->payload, MAX_ITEM_BYTES);
    plume_buf_init(&s->envelope, MAX_ENVELOPE_BYTES);
    plume_buf_init(&s->stamped, MAX_ENVELOPE_BYTES + 64);
    plume_buf_init(&s->logs, MAX_ITEM_BYTES);
    plume_sentry_ratelimit_init(&s->limits);
    char why[300];
    if (plume_sentry_dsn_parse(cfg->dsn ? cfg->dsn : "", &s->dsn, why, sizeof(why)) != 0) {
        snprintf(errbuf, errlen, "sinks.sentry.dsn: %s", why);
        sink_free(&s->base);
        return NULL;
    }
    plume_sentry_envelope_url(&s->dsn, s->url, sizeof(s->url));
    if (plume_sentry_auth_header(&s->dsn, PLUME_VERSION, s->auth, sizeof(s->auth)) != 0) {
        snprintf(errbuf, errlen, "sentry: cannot build the auth header");
        sink_free(&s->base);
        return NULL;
    }
    plume_sentry_event_id(s->trace_id);
    if (gethostname(s->host, sizeof(s->host) - 1) != 0)
        snprintf(s->host, sizeof(s->host), "unknown");
    s->event_opts = (plume_sentry_event_opts_t){
        .release = nonempty(cfg->release),
        .environment = nonempty(cfg->environment),
        .server_name = nonempty(cfg->server_name) ? cfg->server_name : s->host,
        .sdk_version = PLUME_VERSION,
    };
    s->log_timer = plume_timer_new(loop, on_log_timer, s);
    s->report_timer = plume_timer_new(loop, on_report_timer, s);
    if (!s->log_timer || !s->report_timer) {
        snprintf(errbuf, errlen, "sentry: out of memory");
        sink_free(&s->base);
        return NULL;
    }
    plume_outbox_t *ob =
        plume_outbox_open(data_dir, "sentry", cfg->outbox_max_size, cfg->outbox_fsync, errbuf, errlen);
    if (!ob) {
        sink_free(&s->base);
        return NULL;
    }
    plume_delivery_options_t dopts = {
        .name = "sentry",
        .max_in_flight = (uint32_t)cfg->max_in_flight,
        .backoff = {.initial_ms = cfg->retry_initial_ms, .max_ms = cfg->retry_max_ms},
        .max_attempts = (uint32_t)cfg->retry_max_attempts,
        .request_timeout_ms = (long)cfg->request_timeout_ms,
        .connect_timeout_ms = (long)cfg->connect_timeout_ms,
        .max_body = MAX_ENVELOPE_BYTES + (1u << 16),
    };
    s->delivery = plume_delivery_new(loop, http, ob, &delivery_ops, s, &dopts, metrics);
    if (!s->delivery) {
        plume_outbox_close(ob);
        snprintf(errbuf, errlen, "sentry: out of memory");
        sink_free(&s->base);
        return NULL;
    }
    return &s->base;
}
