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

typedef struct job {
    struct job *next;
    uint8_t *body;
    size_t len;
    size_t cap; /* body's allocation (>= len) */
    plume_batch_result_t res;
} job_t;

struct plume_batch_worker {
    plume_loop_t *loop;
    plume_outbox_t *outbox;
    int codec, level;
    size_t max_queued;
    plume_batch_stored_cb stored;
    void *arg;
    int efd;
    pthread_t thread;
    bool thread_started;
    /* shared, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job_t *todo_head, *todo_tail;
    job_t *done_head, *done_tail;
    size_t queued_bytes;
    bool stop;
    uint8_t *spare; /* a stored job's body allocation, for submit_buf */
    size_t spare_cap;
    /* loop thread only */
    size_t outstanding;
    uint64_t pending_events;
    /* worker thread only */
    plume_compressor_t *z;
    plume_buf_t out;
};

static void push(job_t **head, job_t **tail, job_t *j)
{
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

static void store(plume_batch_worker_t *w, job_t *j)
{
    const void *body = j->body;
    size_t len = j->len;
    if (w->codec != PLUME_CODEC_NONE) {
        plume_buf_reset(&w->out);
        if (!plume_compressor_compress(w->z, (plume_codec_t)w->codec, w->level, j->body, j->len,
                                       &w->out)) {
            j->res.rc = -EIO;
            return;
        }
        body = w->out.data;
        len = w->out.len;
    }
    plume_batch_meta_t meta = {
        .created_ns = plume_now_ns(), .event_count = j->res.events, .codec = (uint8_t)w->codec};
    j->res.rc = plume_outbox_put(w->outbox, &meta, body, len, NULL, &j->res.dropped_batches,
                                 &j->res.dropped_events);
}

static void *worker_main(void *arg)
{
    plume_batch_worker_t *w = arg;
    pthread_setname_np(pthread_self(), "plume-compress"); /* shows in top, perf, gdb */
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->todo_head && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        job_t *j = w->todo_head;
        if (!j)
            break; /* stop requested and nothing left */
        w->todo_head = j->next;
        if (!w->todo_head)
            w->todo_tail = NULL;
        pthread_mutex_unlock(&w->mu);

        store(w, j);

        pthread_mutex_lock(&w->mu);
        w->queued_bytes -= j->len;
        uint8_t *drop = j->body;
        if (!w->spare && j->cap > 0 && w->queued_bytes + j->cap <= w->max_queued) {
            w->spare = j->body;
            w->spare_cap = j->cap;
            drop = NULL;
        }
        j->body = NULL;
        if (drop) {
            pthread_mutex_unlock(&w->mu);
            free(drop);
            pthread_mutex_lock(&w->mu);
        }
        push(&w->done_head, &w->done_tail, j);
        uint64_t one = 1;
        ssize_t r = write(w->efd, &one, sizeof(one));
        (void)r; /* the counter cannot overflow in practice; the loop drains it */
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Loop thread: runs the `stored` callbacks for finished jobs. */
static void deliver_done(plume_batch_worker_t *w)
{
    pthread_mutex_lock(&w->mu);
    job_t *j = w->done_head;
    w->done_head = w->done_tail = NULL;
    pthread_mutex_unlock(&w->mu);
    while (j) {
        job_t *next = j->next;
        w->outstanding--;
        w->pending_events -= j->res.events;
        w->stored(w->arg, &j->res);
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
                                             int level, size_t max_queued,
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
    w->stored = stored;
    w->arg = arg;
    w->efd = -1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    plume_buf_init(&w->out, PLUME_OUTBOX_MAX_BODY);
    w->z = plume_compressor_new();
    w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!w->z || w->efd < 0 || plume_loop_watch(loop, w->efd, PLUME_EV_READ, on_efd, w) != 0 ||
        pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        plume_batch_worker_free(w);
        return NULL;
    }
    w->thread_started = true;
    return w;
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
    j->res.events = events;
    w->outstanding++;
    w->pending_events += events;
    pthread_mutex_lock(&w->mu);
    push(&w->todo_head, &w->todo_tail, j);
    w->queued_bytes += len;
    pthread_cond_signal(&w->cv);
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
    j->res.events = events;
    w->outstanding++;
    w->pending_events += events;
    pthread_mutex_lock(&w->mu);
    push(&w->todo_head, &w->todo_tail, j);
    w->queued_bytes += j->len;
    body->data = w->spare;
    body->cap = w->spare_cap;
    w->spare = NULL;
    w->spare_cap = 0;
    pthread_cond_signal(&w->cv);
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
    if (w->thread_started) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
        deliver_done(w);
    }
    if (w->efd >= 0) {
        plume_loop_unwatch(w->loop, w->efd);
        close(w->efd);
    }
    free(w->spare);
    plume_compressor_free(w->z);
    plume_buf_free(&w->out);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
