/* SPDX-License-Identifier: MIT */
/* Background compression + outbox storage. See batch_worker.h.
 *
 * Two singly linked lists under one mutex: `todo` (loop thread -> worker) and
 * `done` (worker -> loop thread). The worker signals `done` through an eventfd
 * that the loop watches. Job bodies are owned by the job until it is stored;
 * then one body allocation may be kept as `spare` (under mu) for the next
 * submit_buf to swap in, so that steady batching neither copies nor allocates
 * (and does not fault in fresh pages). The spare is kept only while queued
 * bytes plus its capacity stay within max_queued. */
#include "batch_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "buf.h"
#include "compress.h"
#include "event.h"
#include "monotime.h"

typedef struct job {
    struct job *next;
    uint8_t *body;
    size_t len;
    size_t cap; /* body's allocation (>= len) */
    bool done;  /* stored; waiting for its callback */
    plume_batch_result_t res;
} job_t;

/* What one compression thread owns. */
typedef struct compressor_thread {
    plume_batch_worker_t *w;
    pthread_t thread;
    bool started;
    plume_compressor_t *z;
    plume_buf_t out;
} compressor_thread_t;

struct plume_batch_worker {
    plume_loop_t *loop;
    plume_outbox_t *outbox;
    int codec, level;
    size_t max_queued;
    uint32_t sync_interval_ms;
    plume_batch_stored_cb stored;
    void *arg;
    int efd;
    unsigned nthreads;
    compressor_thread_t *threads;
    /* shared, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job_t *head, *tail; /* every job not yet reported, in submit order */
    job_t *next_claim;  /* the oldest job no thread has taken yet */
    size_t queued_bytes;
    bool stop;
    bool unsynced;         /* a batch was stored since the last sync started */
    uint64_t sync_due_ms;  /* CLOCK_MONOTONIC ms by which to sync (when unsynced) */
    uint8_t *spare; /* a stored job's body allocation, for submit_buf */
    size_t spare_cap;
    /* loop thread only */
    size_t outstanding;
    uint64_t pending_events;
};

/* Appends j to the queue (caller holds mu). */
static void enqueue(plume_batch_worker_t *w, job_t *j)
{
    j->next = NULL;
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    if (!w->next_claim)
        w->next_claim = j;
    w->queued_bytes += j->len;
    pthread_cond_signal(&w->cv);
}

static void store(compressor_thread_t *t, job_t *j)
{
    plume_batch_worker_t *w = t->w;
    const void *body = j->body;
    size_t len = j->len;
    if (w->codec != PLUME_CODEC_NONE) {
        plume_buf_reset(&t->out);
        if (!plume_compressor_compress(t->z, (plume_codec_t)w->codec, w->level, j->body, j->len,
                                       &t->out)) {
            j->res.rc = -EIO;
            return;
        }
        body = t->out.data;
        len = t->out.len;
    }
    plume_batch_meta_t meta = {
        .created_ns = plume_now_ns(), .event_count = j->res.events, .codec = (uint8_t)w->codec};
    j->res.meta = meta;
    j->res.rc = plume_outbox_put(w->outbox, &meta, body, len, &j->res.id,
                                 &j->res.dropped_batches, &j->res.dropped_events);
    if (j->res.rc == 0 && body == t->out.data) {
        /* hand the compressed body over; the next batch gets a new buffer */
        j->res.body = t->out;
        plume_buf_init(&t->out, PLUME_OUTBOX_MAX_BODY);
    }
}

/* After a store (caller holds mu): marks j done, wakes the loop thread when
 * j was the oldest unreported job, and frees or recycles j's body (j itself
 * may be gone once mu is released). */
static void finish_job(plume_batch_worker_t *w, job_t *j)
{
    w->queued_bytes -= j->len;
    uint8_t *drop = j->body;
    if (!w->spare && j->cap > 0 && w->queued_bytes + j->cap <= w->max_queued) {
        w->spare = j->body;
        w->spare_cap = j->cap;
        drop = NULL;
    }
    j->body = NULL;
    j->done = true;
    if (w->head == j) {
        uint64_t one = 1;
        ssize_t r = write(w->efd, &one, sizeof(one));
        (void)r; /* the counter cannot overflow in practice; the loop drains it */
    }
    if (drop) {
        pthread_mutex_unlock(&w->mu);
        free(drop);
        pthread_mutex_lock(&w->mu);
    }
}

/* Group commit (caller holds mu): notes that a batch was stored, starting
 * the interval if none was running. */
static void note_unsynced(plume_batch_worker_t *w)
{
    if (!w->sync_interval_ms || w->unsynced)
        return;
    w->unsynced = true;
    w->sync_due_ms = plume_mono_ms() + w->sync_interval_ms;
    pthread_cond_broadcast(&w->cv); /* an idle thread times the interval */
}

/* Syncs the outbox if the interval is over (or `now_anyway`); caller holds
 * mu, which is released around the sync itself. */
static void maybe_sync(plume_batch_worker_t *w, bool now_anyway)
{
    if (!w->unsynced || (!now_anyway && plume_mono_ms() < w->sync_due_ms))
        return;
    w->unsynced = false; /* batches stored from here on start a new interval */
    pthread_mutex_unlock(&w->mu);
    plume_outbox_sync(w->outbox); /* best effort: a failure leaves the next one */
    pthread_mutex_lock(&w->mu);
}

/* Waits for a job, a stop, or the end of the sync interval (caller holds mu). */
static void wait_for_work(plume_batch_worker_t *w)
{
    if (!w->unsynced) {
        pthread_cond_wait(&w->cv, &w->mu);
        return;
    }
    plume_cond_wait_until(&w->cv, &w->mu, w->sync_due_ms);
}

static void *compressor_main(void *arg)
{
    compressor_thread_t *t = arg;
    plume_batch_worker_t *w = t->w;
    pthread_setname_np(pthread_self(), "plume-compress"); /* shows in top, perf, gdb */
    pthread_mutex_lock(&w->mu);
    for (;;) {
        maybe_sync(w, false);
        if (!w->next_claim && !w->stop) {
            wait_for_work(w);
            continue;
        }
        job_t *j = w->next_claim;
        if (!j)
            break; /* stop requested and nothing left */
        w->next_claim = j->next;
        pthread_mutex_unlock(&w->mu);

        store(t, j);

        pthread_mutex_lock(&w->mu);
        if (j->res.rc == 0)
            note_unsynced(w);
        finish_job(w, j);
    }
    maybe_sync(w, true); /* stopping: nothing stored is left unsynced */
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Loop thread: runs the `stored` callbacks for the finished jobs at the head
 * of the queue, in submit order (a job finished early waits for the older
 * ones). */
static void deliver_done(plume_batch_worker_t *w)
{
    pthread_mutex_lock(&w->mu);
    job_t *first = w->head, *last = NULL;
    for (job_t *j = w->head; j && j->done; j = j->next)
        last = j;
    if (last) {
        w->head = last->next;
        if (!w->head)
            w->tail = NULL;
        last->next = NULL;
    }
    pthread_mutex_unlock(&w->mu);
    job_t *j = last ? first : NULL;
    while (j) {
        job_t *next = j->next;
        w->outstanding--;
        w->pending_events -= j->res.events;
        w->stored(w->arg, &j->res);
        plume_buf_free(&j->res.body);
        free(j);
        j = next;
    }
}

static void on_efd(plume_loop_t *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)events;
    uint64_t n;
    ssize_t r = read(fd, &n, sizeof(n));
    (void)r;
    deliver_done(arg);
}

plume_batch_worker_t *plume_batch_worker_new(plume_loop_t *loop, plume_outbox_t *outbox, int codec,
                                             int level, unsigned threads, size_t max_queued,
                                             uint32_t sync_interval_ms,
                                             plume_batch_stored_cb stored, void *arg)
{
    plume_batch_worker_t *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->loop = loop;
    w->outbox = outbox;
    w->codec = codec;
    w->level = level;
    w->max_queued = max_queued;
    w->sync_interval_ms = sync_interval_ms;
    w->stored = stored;
    w->arg = arg;
    w->nthreads = threads ? threads : 1;
    pthread_mutex_init(&w->mu, NULL);
    plume_cond_init_monotonic(&w->cv);
    w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->threads = calloc(w->nthreads, sizeof(*w->threads));
    if (w->efd < 0 || !w->threads || plume_loop_watch(loop, w->efd, PLUME_EV_READ, on_efd, w) != 0)
        goto fail;
    for (unsigned i = 0; i < w->nthreads; i++) {
        compressor_thread_t *t = &w->threads[i];
        t->w = w;
        plume_buf_init(&t->out, PLUME_OUTBOX_MAX_BODY);
        if (!(t->z = plume_compressor_new()) ||
            pthread_create(&t->thread, NULL, compressor_main, t) != 0)
            goto fail;
        t->started = true;
    }
    return w;
fail:
    plume_batch_worker_free(w);
    return NULL;
}

/* Counts a new job as outstanding (loop thread). */
static void count_job(plume_batch_worker_t *w, job_t *j, uint32_t events)
{
    j->res.events = events;
    w->outstanding++;
    w->pending_events += events;
}

bool plume_batch_worker_submit(plume_batch_worker_t *w, const void *body, size_t len, uint32_t events)
{
    job_t *j = calloc(1, sizeof(*j));
    uint8_t *copy = malloc(len ? len : 1);
    if (!j || !copy) {
        free(j);
        free(copy);
        return false;
    }
    memcpy(copy, body, len);
    j->body = copy;
    j->len = len;
    j->cap = len ? len : 1;
    count_job(w, j, events);
    pthread_mutex_lock(&w->mu);
    enqueue(w, j);
    pthread_mutex_unlock(&w->mu);
    return true;
}

bool plume_batch_worker_submit_buf(plume_batch_worker_t *w, plume_buf_t *body, uint32_t events)
{
    job_t *j = calloc(1, sizeof(*j));
    if (!j)
        return false;
    j->body = body->data;
    j->len = body->len;
    j->cap = body->cap;
    count_job(w, j, events);
    pthread_mutex_lock(&w->mu);
    enqueue(w, j);
    body->data = w->spare;
    body->cap = w->spare_cap;
    w->spare = NULL;
    w->spare_cap = 0;
    pthread_mutex_unlock(&w->mu);
    body->len = 0;
    body->failed = false;
    return true;
}

bool plume_batch_worker_full(const plume_batch_worker_t *w)
{
    pthread_mutex_t *mu = (pthread_mutex_t *)&w->mu;
    pthread_mutex_lock(mu);
    bool full = w->queued_bytes >= w->max_queued;
    pthread_mutex_unlock(mu);
    return full;
}

bool plume_batch_worker_idle(const plume_batch_worker_t *w) { return w->outstanding == 0; }

uint64_t plume_batch_worker_pending_events(const plume_batch_worker_t *w)
{
    return w->pending_events;
}

void plume_batch_worker_free(plume_batch_worker_t *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    bool any_started = false;
    for (unsigned i = 0; w->threads && i < w->nthreads; i++) {
        compressor_thread_t *t = &w->threads[i];
        if (t->started) {
            pthread_join(t->thread, NULL);
            any_started = true;
        }
        plume_compressor_free(t->z);
        plume_buf_free(&t->out);
    }
    if (any_started)
        deliver_done(w);
    if (w->efd >= 0) {
        plume_loop_unwatch(w->loop, w->efd);
        close(w->efd);
    }
    free(w->threads);
    free(w->spare);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
