/* SPDX-License-Identifier: MIT */
/* The batch worker: batches submitted on the loop thread are compressed and
 * stored in the outbox by the worker threads, reported back in submit order on
 * the loop thread (also when several threads finish out of order), bounded by
 * max_queued, and flushed to disk by free(). */
#include "test_support.h"
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_worker.h"
#include "compress.h"
#include "loop.h"
#include "outbox.h"

typedef struct fixture {
    char *dir;
    plume_loop_t *loop;
    plume_outbox_t *ob;
    int stored;
    uint32_t events_seen[64];
    int rc_seen[64];
    plume_outbox_id_t id_seen[64];
    plume_buf_t body_seen[64]; /* the bodies handed over (taken from the result) */
} fixture_t;

static void on_stored(void *arg, plume_batch_result_t *res)
{
    fixture_t *fx = arg;
    if (fx->stored < 64) {
        fx->events_seen[fx->stored] = res->events;
        fx->rc_seen[fx->stored] = res->rc;
        fx->id_seen[fx->stored] = res->id;
        fx->body_seen[fx->stored] = res->body;
        plume_buf_init(&res->body, 0);
    }
    fx->stored++;
}

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof(*fx));
    char err[256];
    fx->dir = plume_test_mkdtemp();
    fx->loop = plume_loop_new();
    fx->ob = plume_outbox_open(fx->dir, "test", 0, false, err, sizeof(err));
    assert_non_null(fx->ob);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    for (int i = 0; i < 64; i++)
        plume_buf_free(&fx->body_seen[i]);
    plume_outbox_close(fx->ob);
    plume_loop_free(fx->loop);
    plume_test_rm_rf(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

/* Runs the loop until `n` batches were reported or 10 s passed. */
static void wait_stored(fixture_t *fx, int n)
{
    uint64_t deadline = plume_loop_now_ms(fx->loop) + 10000;
    while (fx->stored < n && plume_loop_now_ms(fx->loop) < deadline)
        plume_loop_run_once(fx->loop, 100);
    assert_int_equal(fx->stored, n);
}

static void stores_compressed_batches_in_order(void **state)
{
    fixture_t *fx = *state;
    plume_batch_worker_t *w =
        plume_batch_worker_new(fx->loop, fx->ob, PLUME_CODEC_ZSTD, 0, 1, 1u << 20, 0, on_stored, fx);
    assert_non_null(w);
    char body[3][64];
    for (int i = 0; i < 3; i++) {
        int n = snprintf(body[i], sizeof(body[i]), "{\"batch\":%d}\n", i);
        assert_true(plume_batch_worker_submit(w, body[i], (size_t)n, (uint32_t)(i + 1)));
    }
    assert_false(plume_batch_worker_idle(w));
    assert_int_equal(plume_batch_worker_pending_events(w), 6);
    wait_stored(fx, 3);
    assert_true(plume_batch_worker_idle(w));
    assert_int_equal(plume_batch_worker_pending_events(w), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fx->rc_seen[i], 0);
        assert_int_equal(fx->events_seen[i], i + 1);
    }
    /* The outbox holds them oldest first, zstd-compressed, with their counts. */
    assert_int_equal(plume_outbox_pending_count(fx->ob), 3);
    for (int i = 0; i < 3; i++) {
        plume_outbox_id_t id;
        plume_batch_meta_t meta;
        plume_buf_t b, plain;
        char err[256];
        plume_buf_init(&b, 0);
        plume_buf_init(&plain, 0);
        assert_true(plume_outbox_next(fx->ob, &id));
        assert_int_equal(plume_outbox_load(fx->ob, id, &meta, &b, err, sizeof(err)), 0);
        assert_int_equal(meta.codec, PLUME_CODEC_ZSTD);
        assert_int_equal(meta.event_count, i + 1);
        /* the callback got the id and exactly the compressed bytes on disk */
        assert_true(fx->id_seen[i] == id);
        assert_int_equal(fx->body_seen[i].len, b.len);
        assert_memory_equal(fx->body_seen[i].data, b.data, b.len);
        assert_true(plume_decompress(PLUME_CODEC_ZSTD, b.data, b.len, &plain));
        assert_int_equal(plain.len, strlen(body[i]));
        assert_memory_equal(plain.data, body[i], plain.len);
        plume_buf_free(&b);
        plume_buf_free(&plain);
    }
    plume_batch_worker_free(w);
}

/* submit_buf hands the allocation over (no copy): the caller's buffer comes
 * back empty with its max kept, and what was stored is exactly what was in it. */
static void submit_buf_takes_the_allocation(void **state)
{
    fixture_t *fx = *state;
    plume_batch_worker_t *w =
        plume_batch_worker_new(fx->loop, fx->ob, PLUME_CODEC_NONE, 0, 1, 1u << 20, 0, on_stored, fx);
    plume_buf_t b;
    plume_buf_init(&b, 4096);
    for (int round = 0; round < 3; round++) {
        plume_buf_reset(&b);
        char line[32];
        int n = snprintf(line, sizeof(line), "{\"round\":%d}\n", round);
        assert_true(plume_buf_append(&b, line, (size_t)n));
        uint8_t *given = b.data;
        assert_true(plume_batch_worker_submit_buf(w, &b, 1));
        assert_int_equal(b.len, 0);
        assert_int_equal(b.max, 4096);
        assert_true(b.data != given); /* never the buffer that was handed over */
        wait_stored(fx, round + 1);
    }
    for (int round = 0; round < 3; round++) {
        plume_outbox_id_t id;
        plume_buf_t body;
        char err[256], want[32];
        plume_buf_init(&body, 0);
        assert_true(plume_outbox_next(fx->ob, &id));
        assert_int_equal(plume_outbox_load(fx->ob, id, NULL, &body, err, sizeof(err)), 0);
        int n = snprintf(want, sizeof(want), "{\"round\":%d}\n", round);
        assert_int_equal(body.len, (size_t)n);
        assert_memory_equal(body.data, want, body.len);
        plume_buf_free(&body);
    }
    plume_buf_free(&b);
    plume_batch_worker_free(w);
}

static void free_stores_what_is_queued(void **state)
{
    fixture_t *fx = *state;
    plume_batch_worker_t *w =
        plume_batch_worker_new(fx->loop, fx->ob, PLUME_CODEC_GZIP, 0, 1, 1u << 20, 0, on_stored, fx);
    for (int i = 0; i < 8; i++)
        assert_true(plume_batch_worker_submit(w, "{}\n", 3, 1));
    plume_batch_worker_free(w); /* no loop turn in between */
    assert_int_equal(fx->stored, 8);
    assert_int_equal(plume_outbox_pending_count(fx->ob), 8);
    assert_int_equal(plume_outbox_pending_events(fx->ob), 8);
}

static void full_while_queued_bytes_exceed_the_bound(void **state)
{
    fixture_t *fx = *state;
    /* A big batch (8 MiB of varied text: tens of milliseconds of zstd) keeps
     * the worker busy long enough to observe the bound: queued bytes are
     * released only once the batch is stored. */
    size_t n = 8u << 20;
    char *big = malloc(n);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        big[i] = (char)('a' + (x % 16));
    }
    plume_batch_worker_t *w =
        plume_batch_worker_new(fx->loop, fx->ob, PLUME_CODEC_ZSTD, 3, 1, 1u << 20, 0, on_stored, fx);
    assert_false(plume_batch_worker_full(w));
    assert_true(plume_batch_worker_submit(w, big, n, 1));
    assert_true(plume_batch_worker_full(w));
    wait_stored(fx, 1);
    assert_false(plume_batch_worker_full(w));
    assert_int_equal(fx->rc_seen[0], 0);
    plume_batch_worker_free(w);
    free(big);
}

static void outbox_error_is_reported(void **state)
{
    fixture_t *fx = *state;
    char err[256];
    /* An outbox with a 16-byte cap refuses a batch bigger than that. */
    plume_outbox_close(fx->ob);
    fx->ob = plume_outbox_open(fx->dir, "tiny", 16, false, err, sizeof(err));
    assert_non_null(fx->ob);
    plume_batch_worker_t *w =
        plume_batch_worker_new(fx->loop, fx->ob, PLUME_CODEC_NONE, 0, 1, 1u << 20, 0, on_stored, fx);
    char body[200];
    memset(body, 'x', sizeof(body));
    assert_true(plume_batch_worker_submit(w, body, sizeof(body), 5));
    wait_stored(fx, 1);
    assert_true(fx->rc_seen[0] < 0);
    assert_int_equal(fx->events_seen[0], 5);
    assert_int_equal(plume_outbox_pending_count(fx->ob), 0);
    plume_batch_worker_free(w);
}

/* Four threads, 48 batches whose sizes vary a thousandfold, so that small
 * ones finish before big ones submitted earlier: the callbacks still come in
 * submit order, and the outbox ends up with every body exactly once. */
static void parallel_threads_report_in_submit_order(void **state)
{
    fixture_t *fx = *state;
    enum { N = 48 };
    plume_batch_worker_t *w =
        plume_batch_worker_new(fx->loop, fx->ob, PLUME_CODEC_ZSTD, 3, 4, 64u << 20, 0, on_stored, fx);
    assert_non_null(w);
    size_t sizes[N];
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < N; i++) {
        sizes[i] = i % 4 == 0 ? (1u << 20) + (size_t)i : 64 + (size_t)i;
        char *body = malloc(sizes[i]);
        for (size_t k = 0; k < sizes[i]; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            body[k] = (char)('a' + (x % 16));
        }
        memcpy(body, &i, sizeof(i)); /* the batch's number, to find it in the outbox */
        assert_true(plume_batch_worker_submit(w, body, sizes[i], (uint32_t)(i + 1)));
        free(body);
    }
    wait_stored(fx, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(fx->rc_seen[i], 0);
        assert_int_equal(fx->events_seen[i], i + 1);
    }
    bool seen[N] = {false};
    for (int i = 0; i < N; i++) {
        plume_outbox_id_t id;
        plume_batch_meta_t meta;
        plume_buf_t b, plain;
        char err[256];
        plume_buf_init(&b, 0);
        plume_buf_init(&plain, 0);
        assert_true(plume_outbox_next(fx->ob, &id));
        assert_int_equal(plume_outbox_load(fx->ob, id, &meta, &b, err, sizeof(err)), 0);
        assert_true(plume_decompress(PLUME_CODEC_ZSTD, b.data, b.len, &plain));
        int k;
        assert_true(plain.len >= sizeof(k));
        memcpy(&k, plain.data, sizeof(k));
        assert_true(k >= 0 && k < N);
        assert_false(seen[k]);
        seen[k] = true;
        assert_int_equal(plain.len, sizes[k]);
        assert_int_equal(meta.event_count, (uint32_t)(k + 1));
        plume_buf_free(&b);
        plume_buf_free(&plain);
    }
    assert_false(plume_outbox_next(fx->ob, NULL));
    plume_batch_worker_free(w);
}

/* free() with several threads: every queued batch is stored and reported. */
static void free_with_threads_stores_everything(void **state)
{
    fixture_t *fx = *state;
    plume_batch_worker_t *w =
        plume_batch_worker_new(fx->loop, fx->ob, PLUME_CODEC_ZSTD, 0, 3, 1u << 20, 0, on_stored, fx);
    for (int i = 0; i < 20; i++)
        assert_true(plume_batch_worker_submit(w, "{\"a\":1}\n", 8, 2));
    plume_batch_worker_free(w);
    assert_int_equal(fx->stored, 20);
    assert_int_equal(plume_outbox_pending_events(fx->ob), 40);
}

/* Group commit: with a sync interval, a stored batch leads to one outbox
 * sync within about that interval, even with no further batch; a burst of
 * batches inside one interval shares a sync; free() syncs what is left.
 * Without an interval nothing is synced. */
static void interval_syncs_the_outbox(void **state)
{
    fixture_t *fx = *state;
    plume_batch_worker_t *w =
        plume_batch_worker_new(fx->loop, fx->ob, PLUME_CODEC_NONE, 0, 2, 1u << 20, 100, on_stored,
                               fx);
    assert_non_null(w);
    for (int i = 0; i < 5; i++)
        assert_true(plume_batch_worker_submit(w, "{}\n", 3, 1));
    wait_stored(fx, 5);
    uint64_t deadline = plume_loop_now_ms(fx->loop) + 10000;
    while (plume_outbox_sync_count(fx->ob) == 0 && plume_loop_now_ms(fx->loop) < deadline)
        plume_loop_run_once(fx->loop, 10);
    uint64_t synced = plume_outbox_sync_count(fx->ob);
    assert_true(synced >= 1 && synced <= 2); /* one interval (two if the burst straddled it) */
    assert_true(plume_batch_worker_submit(w, "{}\n", 3, 1));
    plume_batch_worker_free(w); /* stops before the interval ends: syncs anyway */
    assert_true(plume_outbox_sync_count(fx->ob) == synced + 1);

    w = plume_batch_worker_new(fx->loop, fx->ob, PLUME_CODEC_NONE, 0, 2, 1u << 20, 0, on_stored,
                               fx);
    assert_true(plume_batch_worker_submit(w, "{}\n", 3, 1));
    wait_stored(fx, 7);
    plume_batch_worker_free(w);
    assert_true(plume_outbox_sync_count(fx->ob) == synced + 1); /* none without an interval */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(stores_compressed_batches_in_order),
        T(submit_buf_takes_the_allocation),
        T(free_stores_what_is_queued),
        T(full_while_queued_bytes_exceed_the_bound),
        T(outbox_error_is_reported),
        T(parallel_threads_report_in_submit_order),
        T(free_with_threads_stores_everything),
        T(interval_syncs_the_outbox),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
