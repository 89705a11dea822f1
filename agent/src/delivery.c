/* SPDX-License-Identifier: MIT */
/* Outbox-backed HTTP delivery. See delivery.h.
 *
 * State: `slots` are requests in flight, each owning the batch body it sends.
 * `hold_timer` is armed while the sink waits (backoff after a failure, or a rate
 * limit); while it is armed, no new request starts. `attempt` counts consecutive
 * failures and resets on success. */
#include "delivery.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentlog.h"

/* Failed attempts of one batch, kept only while it is pending. */
typedef struct batch_attempts {
    plume_outbox_id_t id;
    uint32_t failures;
} batch_attempts_t;

/* A body handed over by plume_delivery_offer(), waiting for its turn. */
typedef struct ready_body {
    bool used;
    plume_outbox_id_t id;
    plume_batch_meta_t meta;
    plume_buf_t body;
} ready_body_t;

typedef struct slot {
    plume_delivery_t *d;
    bool busy;
    plume_outbox_id_t id;
    plume_batch_meta_t meta;
    plume_buf_t body;
    plume_buf_t wire; /* the request body when the sink has an encode op */
    plume_delivery_request_t req;
} slot_t;

struct plume_delivery {
    plume_loop_t *loop;
    plume_http_t *http;
    plume_outbox_t *outbox;
    plume_delivery_ops_t ops;
    void *ctx;
    plume_delivery_options_t opts;
    char name[64];
    plume_metrics_t *metrics;
    slot_t *slots;
    ready_body_t *ready; /* max_in_flight entries */
    uint32_t in_flight;
    plume_timer_t *hold_timer;
    plume_timer_t *kick_timer;
    uint32_t attempt;        /* consecutive failures of the sink: drives the backoff */
    batch_attempts_t *tries; /* failed attempts per batch still pending (max_attempts) */
    size_t ntries, cap_tries;
    bool stopped;
};

static void pump(plume_delivery_t *d);

/* Longest a rate limit may hold the sink, whatever the server says. */
#define MAX_WAIT_MS (3600u * 1000u)

/* Records one more failed attempt for batch `id`; returns the new total. */
static uint32_t note_failure(plume_delivery_t *d, plume_outbox_id_t id)
{
    for (size_t i = 0; i < d->ntries; i++)
        if (d->tries[i].id == id)
            return ++d->tries[i].failures;
    if (d->ntries == d->cap_tries) {
        size_t cap = d->cap_tries ? d->cap_tries * 2 : 8;
        batch_attempts_t *t = realloc(d->tries, cap * sizeof(*t));
        if (!t)
            return 1; /* out of memory: the batch just gets more attempts */
        d->tries = t;
        d->cap_tries = cap;
    }
    d->tries[d->ntries].id = id;
    d->tries[d->ntries].failures = 1;
    return d->tries[d->ntries++].failures;
}

/* The batch left the outbox: forget its attempts. */
static void forget_batch(plume_delivery_t *d, plume_outbox_id_t id)
{
    for (size_t i = 0; i < d->ntries; i++)
        if (d->tries[i].id == id) {
            d->tries[i] = d->tries[--d->ntries];
            return;
        }
}

static uint64_t epoch_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void free_request(plume_delivery_request_t *req)
{
    for (int i = 0; req->headers[i]; i++) {
        free(req->headers[i]);
        req->headers[i] = NULL;
    }
}

static void on_hold_over(plume_loop_t *l, plume_timer_t *t, void *arg)
{
    (void)l;
    (void)t;
    pump(arg);
}

static void hold_for(plume_delivery_t *d, uint64_t ms)
{
    plume_timer_start(d->hold_timer, ms);
}

static void finish_slot(slot_t *s)
{
    free_request(&s->req);
    plume_buf_reset(&s->body);
    plume_buf_reset(&s->wire);
    s->busy = false;
    s->d->in_flight--;
}

static void on_response(const plume_http_response_t *resp, void *arg)
{
    slot_t *s = arg;
    plume_delivery_t *d = s->d;
    char reason[512] = "";
    uint64_t until = 0;

    if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK) {
        /* Shutting down: the batch stays in the outbox for the next start. */
        plume_outbox_release(d->outbox, s->id);
        finish_slot(s);
        return;
    }
    d->metrics->requests++;
    plume_verdict_t v = d->ops.judge(d->ctx, &s->meta, resp, &until, reason, sizeof(reason));
    if (v == PLUME_VERDICT_RETRY && d->opts.max_attempts &&
        note_failure(d, s->id) >= d->opts.max_attempts) {
        PLOG_ERROR("%s: giving up on a batch of %" PRIu32 " events after %" PRIu32 " attempts: %s",
                   d->name, s->meta.event_count, d->opts.max_attempts, reason);
        v = PLUME_VERDICT_DEAD_LETTER;
    }
    if (v == PLUME_VERDICT_DELIVERED || v == PLUME_VERDICT_DEAD_LETTER || v == PLUME_VERDICT_DROP) {
        /* The batch leaves the outbox; the receiver answered, so the sink
         * itself is healthy again. */
        forget_batch(d, s->id);
        d->attempt = 0;
    }
    switch (v) {
    case PLUME_VERDICT_DELIVERED:
        plume_outbox_remove(d->outbox, s->id);
        d->metrics->delivered += s->meta.event_count;
        PLOG_DEBUG("%s: delivered %" PRIu32 " events (HTTP %ld, %.3fs)", d->name,
                   s->meta.event_count, resp->status, resp->total_seconds);
        break;
    case PLUME_VERDICT_RETRY: {
        plume_outbox_release(d->outbox, s->id);
        d->attempt++;
        d->metrics->retries++;
        uint64_t delay = plume_backoff_delay_ms(&d->opts.backoff, d->attempt, plume_random_u64());
        if (!plume_timer_active(d->hold_timer) || delay > 0)
            hold_for(d, delay);
        PLOG_WARN("%s: %s; retry %" PRIu32 " in %.3fs", d->name, reason, d->attempt,
                  (double)delay / 1000.0);
        break;
    }
    case PLUME_VERDICT_WAIT_UNTIL: {
        plume_outbox_release(d->outbox, s->id);
        d->metrics->retries++;
        uint64_t now = epoch_ms();
        /* +1: the loop's timers count whole milliseconds and may fire up to
         * one early; no request may leave before the reset. */
        uint64_t delay = until > now ? until - now + 1 : 0;
        if (delay > MAX_WAIT_MS)
            delay = MAX_WAIT_MS;
        hold_for(d, delay);
        PLOG_WARN("%s: %s; waiting %.3fs before the next request", d->name, reason,
                  (double)delay / 1000.0);
        break;
    }
    case PLUME_VERDICT_STOP:
        plume_outbox_release(d->outbox, s->id);
        if (!d->stopped)
            PLOG_ERROR("%s: %s; this sink is stopped, its batches stay in %s", d->name, reason,
                       plume_outbox_dir(d->outbox));
        d->stopped = true;
        break;
    case PLUME_VERDICT_DEAD_LETTER:
        d->metrics->dropped_failed += s->meta.event_count;
        if (plume_outbox_fail(d->outbox, s->id, reason, resp->body, resp->body_len) != 0)
            plume_outbox_remove(d->outbox, s->id);
        PLOG_ERROR("%s: batch of %" PRIu32 " events refused (%s); moved to failed/", d->name,
                   s->meta.event_count, reason);
        break;
    case PLUME_VERDICT_DROP:
        d->metrics->dropped_failed += s->meta.event_count;
        plume_outbox_remove(d->outbox, s->id);
        PLOG_ERROR("%s: batch of %" PRIu32 " events dropped (%s)", d->name, s->meta.event_count,
                   reason);
        break;
    }
    finish_slot(s);
    /* Never start the next request from inside curl's callback: defer to the loop. */
    if (!plume_timer_active(d->kick_timer))
        plume_timer_start(d->kick_timer, 0);
}

static slot_t *free_slot(plume_delivery_t *d)
{
    for (uint32_t i = 0; i < d->opts.max_in_flight; i++)
        if (!d->slots[i].busy)
            return &d->slots[i];
    return NULL;
}

/* Puts the body of batch `id` into slot s when it was offered; false if it
 * must be read from the outbox. */
static bool take_ready(plume_delivery_t *d, plume_outbox_id_t id, slot_t *s)
{
    for (uint32_t i = 0; i < d->opts.max_in_flight; i++) {
        ready_body_t *r = &d->ready[i];
        if (r->used && r->id == id) {
            plume_buf_t old = s->body;
            s->body = r->body;
            s->body.max = old.max;
            s->meta = r->meta;
            plume_buf_free(&old);
            plume_buf_init(&r->body, 0);
            r->used = false;
            return true;
        }
    }
    return false;
}

/* Starts requests while there is room, something pending, and no hold. */
static void pump(plume_delivery_t *d)
{
    while (!d->stopped && !plume_timer_active(d->hold_timer) &&
           d->in_flight < d->opts.max_in_flight) {
        slot_t *s = free_slot(d);
        plume_outbox_id_t id;
        if (!s || !plume_outbox_next(d->outbox, &id))
            return;
        char err[256] = "";
        int rc = take_ready(d, id, s) ? 0
                 : plume_outbox_load(d->outbox, id, &s->meta, &s->body, err, sizeof(err));
        if (rc == -EBADMSG) {
            d->metrics->dropped_corrupt++;
            PLOG_ERROR("%s: %s", d->name, err);
            continue;
        }
        if (rc != 0) {
            if (rc != -ENOENT)
                plume_outbox_release(d->outbox, id);
            PLOG_ERROR("%s: cannot read batch from the outbox: %s", d->name, err);
            if (rc != -ENOENT) {
                hold_for(d, 1000);
                return;
            }
            continue;
        }
        memset(&s->req, 0, sizeof(s->req));
        if (!d->ops.prepare(d->ctx, &s->meta, &s->req)) {
            /* Out of memory building headers: try again a little later. */
            free_request(&s->req);
            plume_outbox_release(d->outbox, id);
            hold_for(d, 1000);
            return;
        }
        const plume_buf_t *send = &s->body;
        if (d->ops.encode) {
            plume_buf_reset(&s->wire);
            plume_encode_result_t er = d->ops.encode(d->ctx, &s->meta, &s->body, &s->wire);
            if (er != PLUME_ENCODE_SEND) {
                free_request(&s->req);
                plume_buf_reset(&s->body);
                plume_buf_reset(&s->wire);
                if (er == PLUME_ENCODE_DROP) {
                    forget_batch(d, id);
                    plume_outbox_remove(d->outbox, id);
                    continue;
                }
                plume_outbox_release(d->outbox, id);
                hold_for(d, 1000);
                return;
            }
            send = &s->wire;
        }
        s->id = id;
        s->busy = true;
        s->d = d;
        d->in_flight++;
        plume_http_request_t hr = {
            .method = "POST",
            .url = s->req.url,
            .headers = (const char *const *)s->req.headers,
            .body = send->data,
            .body_len = send->len,
            .timeout_ms = d->opts.request_timeout_ms,
            .connect_timeout_ms = d->opts.connect_timeout_ms,
            .done = on_response,
            .arg = s,
        };
        rc = plume_http_send(d->http, &hr);
        if (rc != 0) {
            PLOG_ERROR("%s: cannot start a request: %s", d->name, strerror(-rc));
            plume_outbox_release(d->outbox, id);
            finish_slot(s);
            hold_for(d, 1000);
            return;
        }
    }
}

static void on_kick(plume_loop_t *l, plume_timer_t *t, void *arg)
{
    (void)l;
    (void)t;
    pump(arg);
}

plume_delivery_t *plume_delivery_new(plume_loop_t *loop, plume_http_t *http, plume_outbox_t *outbox,
                                     const plume_delivery_ops_t *ops, void *ctx,
                                     const plume_delivery_options_t *opts, plume_metrics_t *metrics)
{
    plume_delivery_t *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->loop = loop;
    d->http = http;
    d->outbox = outbox;
    d->ops = *ops;
    d->ctx = ctx;
    d->opts = *opts;
    if (d->opts.max_in_flight == 0)
        d->opts.max_in_flight = 1;
    snprintf(d->name, sizeof(d->name), "%s", opts->name);
    d->opts.name = d->name;
    d->metrics = metrics;
    d->slots = calloc(d->opts.max_in_flight, sizeof(slot_t));
    d->ready = calloc(d->opts.max_in_flight, sizeof(ready_body_t));
    d->hold_timer = plume_timer_new(loop, on_hold_over, d);
    d->kick_timer = plume_timer_new(loop, on_kick, d);
    if (!d->slots || !d->ready || !d->hold_timer || !d->kick_timer) {
        plume_delivery_free(d);
        return NULL;
    }
    for (uint32_t i = 0; i < d->opts.max_in_flight; i++) {
        plume_buf_init(&d->slots[i].body, opts->max_body);
        plume_buf_init(&d->slots[i].wire, opts->max_body);
        d->slots[i].d = d;
    }
    size_t pending = plume_outbox_pending_count(outbox);
    if (pending)
        PLOG_INFO("%s: %zu batches (%" PRIu64 " events) pending from an earlier run, resending",
                  d->name, pending, plume_outbox_pending_events(outbox));
    plume_timer_start(d->kick_timer, 0);
    return d;
}

void plume_delivery_free(plume_delivery_t *d)
{
    if (!d)
        return;
    if (d->slots) {
        for (uint32_t i = 0; i < d->opts.max_in_flight; i++) {
            free_request(&d->slots[i].req);
            plume_buf_free(&d->slots[i].body);
            plume_buf_free(&d->slots[i].wire);
        }
        free(d->slots);
    }
    for (uint32_t i = 0; d->ready && i < d->opts.max_in_flight; i++)
        plume_buf_free(&d->ready[i].body);
    free(d->ready);
    free(d->tries);
    if (d->hold_timer)
        plume_timer_free(d->hold_timer);
    if (d->kick_timer)
        plume_timer_free(d->kick_timer);
    plume_outbox_close(d->outbox);
    free(d);
}

int plume_delivery_put(plume_delivery_t *d, const plume_batch_meta_t *meta, const void *body,
                       size_t len)
{
    uint32_t dropped_batches = 0;
    uint64_t dropped_events = 0;
    int rc = plume_outbox_put(d->outbox, meta, body, len, NULL, &dropped_batches, &dropped_events);
    if (dropped_batches) {
        d->metrics->dropped_outbox_full += dropped_events;
        PLOG_WARN("%s: outbox full, dropped the %" PRIu32 " oldest batches (%" PRIu64 " events)",
                  d->name, dropped_batches, dropped_events);
    }
    if (rc == 0)
        plume_delivery_kick(d);
    return rc;
}

void plume_delivery_offer(plume_delivery_t *d, plume_outbox_id_t id,
                          const plume_batch_meta_t *meta, plume_buf_t *body)
{
    ready_body_t *slot = NULL;
    for (uint32_t i = 0; i < d->opts.max_in_flight; i++) {
        ready_body_t *r = &d->ready[i];
        if (!r->used) {
            slot = r;
            break;
        }
        if (!slot || r->id < slot->id)
            slot = r; /* all used: replace the oldest */
    }
    plume_buf_free(&slot->body);
    slot->used = true;
    slot->id = id;
    slot->meta = *meta;
    slot->body = *body;
    plume_buf_init(body, body->max);
    plume_delivery_kick(d);
}

void plume_delivery_kick(plume_delivery_t *d)
{
    if (!plume_timer_active(d->kick_timer))
        plume_timer_start(d->kick_timer, 0);
}

bool plume_delivery_idle(const plume_delivery_t *d)
{
    return d->in_flight == 0 && plume_outbox_pending_count(d->outbox) == 0;
}

bool plume_delivery_stopped(const plume_delivery_t *d) { return d->stopped; }

uint64_t plume_delivery_pending_events(const plume_delivery_t *d)
{
    return plume_outbox_pending_events(d->outbox);
}
