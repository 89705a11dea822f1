/* SPDX-License-Identifier: MIT */
/* Batching: sealing on the event count, on the byte limit (the event that does
 * not fit opens the next batch; nothing lost or duplicated: the sealed bodies
 * concatenated equal the committed events), an oversized event alone, events
 * past max_event_bytes refused, discarded and overflowing encodes, empty seals,
 * a seal callback that takes the body buffer,
 * and age-based sealing on the real event loop, waited for with a deadline.
 * The inline commit (its fast path for an event that leaves the batch below
 * both limits) seals exactly where the full commit does. */
#include "test_support.h"
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batcher.h"
#include "loop.h"

#define DEADLINE_MS 5000
#define MAX_BATCHES 4096

typedef struct rec {
    plume_buf_t all; /* every sealed body, concatenated */
    size_t n;        /* batches sealed */
    size_t len[MAX_BATCHES];
    uint32_t count[MAX_BATCHES];
    uint64_t when_ms[MAX_BATCHES];
} rec_t;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static size_t count_newlines(const uint8_t *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += p[i] == '\n';
    return k;
}

/* Seal callback: records the batch. Every test event ends with '\n', so a
 * body must hold exactly `count` newlines. */
static void on_seal(void *arg, plume_buf_t *buf, uint32_t count)
{
    rec_t *r = arg;
    const uint8_t *body = buf->data;
    size_t len = buf->len;
    assert_true(r->n < MAX_BATCHES);
    assert_true(count > 0);
    assert_int_equal(count_newlines(body, len), count);
    r->len[r->n] = len;
    r->count[r->n] = count;
    r->when_ms[r->n] = mono_ms();
    r->n++;
    assert_true(plume_buf_append(&r->all, body, len));
}

static rec_t *rec_new(void)
{
    rec_t *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    plume_buf_init(&r->all, 0);
    return r;
}

static void rec_free(rec_t *r)
{
    plume_buf_free(&r->all);
    free(r);
}

/* Builds event `id` of `len` bytes (>= 1): a letter repeated, then '\n'. */
static void make_event(char *out, size_t len, unsigned id)
{
    memset(out, 'a' + (int)(id % 26), len - 1);
    out[len - 1] = '\n';
}

/* Encodes one event of `len` bytes into the batcher; returns commit's result.
 * Committed events are also appended to `input` (when not NULL). */
static bool add(plume_batcher_t *b, size_t len, unsigned id, plume_buf_t *input)
{
    char *ev = malloc(len);
    assert_non_null(ev);
    make_event(ev, len, id);
    plume_buf_t *out = plume_batcher_begin(b);
    plume_buf_append(out, ev, len);
    bool ok = plume_batcher_commit(b, true);
    if (ok && input)
        assert_true(plume_buf_append(input, ev, len));
    free(ev);
    return ok;
}

static void init(plume_batcher_t *b, plume_loop_t *loop, uint32_t max_events, size_t max_bytes,
                 uint64_t max_age_ms, size_t max_event_bytes, rec_t *r)
{
    plume_batch_limits_t lim = {max_events, max_bytes, max_age_ms};
    assert_true(plume_batcher_init(b, loop, &lim, max_event_bytes, on_seal, r));
}

static void assert_same(const plume_buf_t *a, const plume_buf_t *b)
{
    assert_int_equal(a->len, b->len);
    if (a->len)
        assert_memory_equal(a->data, b->data, a->len);
}

static void count_limit(void **state)
{
    (void)state;
    rec_t *r = rec_new();
    plume_buf_t input;
    plume_buf_init(&input, 0);
    plume_batcher_t b;
    init(&b, NULL, 3, 1 << 20, 1000, 1 << 16, r);
    for (unsigned i = 0; i < 7; i++) {
        assert_true(add(&b, 10 + i, i, &input));
        assert_int_equal(r->n, (i + 1) / 3);
        assert_int_equal(plume_batcher_count(&b), (i + 1) % 3);
    }
    plume_batcher_seal(&b);
    assert_int_equal(r->n, 3);
    assert_int_equal(r->count[0], 3);
    assert_int_equal(r->count[1], 3);
    assert_int_equal(r->count[2], 1);
    assert_int_equal(r->len[0], 10 + 11 + 12);
    assert_int_equal(plume_batcher_count(&b), 0);
    assert_same(&r->all, &input);
    plume_batcher_free(&b);
    plume_buf_free(&input);
    rec_free(r);
}

static void max_events_one(void **state)
{
    (void)state;
    rec_t *r = rec_new();
    plume_batcher_t b;
    init(&b, NULL, 1, 1 << 20, 1000, 1 << 16, r);
    for (unsigned i = 0; i < 5; i++) {
        assert_true(add(&b, 3, i, NULL));
        assert_int_equal(r->n, i + 1);
        assert_int_equal(r->count[i], 1);
        assert_int_equal(plume_batcher_count(&b), 0);
    }
    plume_batcher_free(&b);
    rec_free(r);
}

/* Seal callback that takes the body's allocation (swapping in an empty one,
 * as the Axiom sink does through the batch worker) and keeps each body. */
typedef struct taker {
    uint8_t *bodies[16];
    size_t lens[16];
    size_t n;
} taker_t;

static void on_seal_take(void *arg, plume_buf_t *body, uint32_t count)
{
    taker_t *t = arg;
    assert_true(t->n < 16);
    assert_int_equal(count_newlines(body->data, body->len), count);
    t->bodies[t->n] = body->data;
    t->lens[t->n] = body->len;
    t->n++;
    body->data = NULL;
    body->cap = 0;
}

/* A callback that takes the buffer: every sealed body stays intact after later
 * batches (no reuse of a taken buffer), including the event spilled into the
 * next batch, and their concatenation equals the committed events. */
static void seal_callback_may_take_the_buffer(void **state)
{
    (void)state;
    taker_t t = {0};
    plume_buf_t input, all;
    plume_buf_init(&input, 0);
    plume_buf_init(&all, 0);
    plume_batcher_t b;
    plume_batch_limits_t lim = {1000, 100, 1000};
    assert_true(plume_batcher_init(&b, NULL, &lim, 200, on_seal_take, &t));
    for (unsigned i = 0; i < 10; i++)
        assert_true(add(&b, 30, i, &input));
    plume_batcher_seal(&b);
    assert_int_equal(t.n, 4); /* 3 + 3 + 3 + 1 events */
    for (size_t i = 0; i < t.n; i++) {
        assert_int_equal(t.lens[i], i < 3 ? 90 : 30);
        assert_true(plume_buf_append(&all, t.bodies[i], t.lens[i]));
        free(t.bodies[i]);
    }
    assert_same(&all, &input);
    plume_batcher_free(&b);
    plume_buf_free(&input);
    plume_buf_free(&all);
}

/* 30-byte events, 100-byte batches: the 4th event does not fit, so the first
 * three are sealed and the 4th opens the next batch. */
static void byte_limit_spills_to_next_batch(void **state)
{
    (void)state;
    rec_t *r = rec_new();
    plume_buf_t input;
    plume_buf_init(&input, 0);
    plume_batcher_t b;
    init(&b, NULL, 1000, 100, 1000, 200, r);
    for (unsigned i = 0; i < 3; i++)
        assert_true(add(&b, 30, i, &input));
    assert_int_equal(r->n, 0);
    assert_true(add(&b, 30, 3, &input));
    assert_int_equal(r->n, 1);
    assert_int_equal(r->count[0], 3);
    assert_int_equal(r->len[0], 90);
    assert_int_equal(plume_batcher_count(&b), 1);
    assert_int_equal(b.body.len, 30);
    assert_memory_equal(b.body.data, input.data + 90, 30); /* the 4th, intact */
    for (unsigned i = 4; i < 7; i++)
        assert_true(add(&b, 30, i, &input));
    assert_int_equal(r->n, 2);
    assert_int_equal(r->count[1], 3);
    plume_batcher_seal(&b);
    assert_int_equal(r->n, 3);
    assert_int_equal(r->count[2], 1);
    assert_same(&r->all, &input);
    plume_batcher_free(&b);
    plume_buf_free(&input);
    rec_free(r);
}

/* Reaching max_bytes exactly seals right away. */
static void byte_limit_exact_fill_seals(void **state)
{
    (void)state;
    rec_t *r = rec_new();
    plume_batcher_t b;
    init(&b, NULL, 1000, 100, 1000, 200, r);
    for (unsigned i = 0; i < 3; i++)
        assert_true(add(&b, 25, i, NULL));
    assert_int_equal(r->n, 0);
    assert_true(add(&b, 25, 3, NULL));
    assert_int_equal(r->n, 1);
    assert_int_equal(r->len[0], 100);
    assert_int_equal(r->count[0], 4);
    assert_int_equal(plume_batcher_count(&b), 0);
    plume_batcher_seal(&b);
    assert_int_equal(r->n, 1);
    plume_batcher_free(&b);
    rec_free(r);
}

/* An event bigger than max_bytes goes out alone, whether the batch was empty
 * or not. */
static void oversized_event_alone(void **state)
{
    (void)state;
    rec_t *r = rec_new();
    plume_buf_t input;
    plume_buf_init(&input, 0);
    plume_batcher_t b;
    init(&b, NULL, 1000, 100, 1000, 200, r);
    assert_true(add(&b, 150, 0, &input));
    assert_int_equal(r->n, 1);
    assert_int_equal(r->count[0], 1);
    assert_int_equal(r->len[0], 150);

    assert_true(add(&b, 10, 1, &input));
    assert_true(add(&b, 200, 2, &input)); /* max_event_bytes exactly */
    assert_int_equal(r->n, 3);
    assert_int_equal(r->count[1], 1);
    assert_int_equal(r->len[1], 10);
    assert_int_equal(r->count[2], 1);
    assert_int_equal(r->len[2], 200);
    assert_int_equal(plume_batcher_count(&b), 0);
    assert_same(&r->all, &input);
    plume_batcher_free(&b);
    plume_buf_free(&input);
    rec_free(r);
}

/* Events past max_event_bytes are refused whether or not they would fit,
 * and the open batch is left as it was. */
static void event_past_max_event_bytes_refused(void **state)
{
    (void)state;
    rec_t *r = rec_new();
    plume_buf_t input;
    plume_buf_init(&input, 0);
    plume_batcher_t b;
    init(&b, NULL, 1000, 100, 1000, 50, r);
    assert_true(add(&b, 10, 0, &input));
    assert_false(add(&b, 95, 1, &input)); /* would have needed the spill */
    assert_int_equal(plume_batcher_count(&b), 1);
    assert_int_equal(b.body.len, 10);
    assert_false(add(&b, 51, 2, &input)); /* would have fit in the batch */
    assert_int_equal(plume_batcher_count(&b), 1);
    assert_true(add(&b, 50, 3, &input));
    assert_int_equal(plume_batcher_count(&b), 2);
    assert_int_equal(r->n, 0);
    plume_batcher_seal(&b);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->count[0], 2);
    assert_same(&r->all, &input);

    /* Into an empty batch too. */
    assert_false(add(&b, 120, 4, &input));
    assert_int_equal(plume_batcher_count(&b), 0);
    assert_int_equal(b.body.len, 0);
    plume_batcher_seal(&b);
    assert_int_equal(r->n, 1);
    plume_batcher_free(&b);
    plume_buf_free(&input);
    rec_free(r);
}

static void commit_false_discards(void **state)
{
    (void)state;
    rec_t *r = rec_new();
    plume_buf_t input;
    plume_buf_init(&input, 0);
    plume_batcher_t b;
    init(&b, NULL, 2, 1000, 1000, 200, r);
    assert_true(add(&b, 10, 0, &input));
    plume_buf_t *out = plume_batcher_begin(&b);
    plume_buf_append_str(out, "half an event that failed to encode\n");
    assert_false(plume_batcher_commit(&b, false));
    assert_int_equal(plume_batcher_count(&b), 1);
    assert_int_equal(b.body.len, 10);
    assert_int_equal(r->n, 0); /* the discarded event did not count toward max_events */

    /* Discarding into an empty batch leaves nothing to seal. */
    assert_true(add(&b, 10, 1, &input));
    assert_int_equal(r->n, 1);
    out = plume_batcher_begin(&b);
    plume_buf_append_str(out, "junk\n");
    assert_false(plume_batcher_commit(&b, false));
    plume_batcher_seal(&b);
    assert_int_equal(r->n, 1);

    assert_true(add(&b, 7, 2, &input));
    plume_batcher_seal(&b);
    assert_int_equal(r->n, 2);
    assert_same(&r->all, &input);
    plume_batcher_free(&b);
    plume_buf_free(&input);
    rec_free(r);
}

/* An encoder that writes past the buffer's bound is discarded at commit even
 * if it said ok, and the failure does not stick to the next event. */
static void overflowing_encode_discarded(void **state)
{
    (void)state;
    rec_t *r = rec_new();
    plume_buf_t input;
    plume_buf_init(&input, 0);
    plume_batcher_t b;
    init(&b, NULL, 1000, 100, 1000, 50, r);
    assert_true(add(&b, 20, 0, &input));
    plume_buf_t *out = plume_batcher_begin(&b);
    char big[200];
    memset(big, 'x', sizeof(big));
    assert_false(plume_buf_append(out, big, sizeof(big))); /* past max_bytes + one event */
    assert_true(plume_buf_append(out, "small\n", 6));      /* a later piece fits... */
    assert_false(plume_batcher_commit(&b, true));          /* ...but the event is broken */
    assert_int_equal(b.body.len, 20);
    assert_int_equal(plume_batcher_count(&b), 1);
    assert_true(add(&b, 20, 1, &input));
    plume_batcher_seal(&b);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->count[0], 2);
    assert_same(&r->all, &input);
    plume_batcher_free(&b);
    plume_buf_free(&input);
    rec_free(r);
}

static void seal_empty_does_nothing(void **state)
{
    (void)state;
    rec_t *r = rec_new();
    plume_batcher_t b;
    init(&b, NULL, 10, 100, 1000, 100, r);
    plume_batcher_seal(&b);
    assert_int_equal(r->n, 0);
    assert_true(add(&b, 5, 0, NULL));
    plume_batcher_seal(&b);
    assert_int_equal(r->n, 1);
    plume_batcher_seal(&b);
    plume_batcher_seal(&b);
    assert_int_equal(r->n, 1);
    plume_batcher_free(&b);
    rec_free(r);
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random event sizes (some oversized), random discards and explicit seals.
 * Invariants: bodies concatenated == committed input; counts add up; a batch
 * of several events stays within max_bytes and max_events; a batch sealed by
 * the batcher itself was full (count, bytes, or the next event did not fit);
 * memory stays within max_bytes + max_event_bytes. */
static void random_sequences_keep_invariants(void **state)
{
    (void)state;
    const uint32_t max_events = 7;
    const size_t max_bytes = 100, max_event = 160;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 50; round++) {
        rec_t *r = rec_new();
        plume_buf_t input;
        plume_buf_init(&input, 0);
        plume_batcher_t b;
        init(&b, NULL, max_events, max_bytes, 1000, max_event, r);
        bool explicit_seal[MAX_BATCHES] = {false};
        size_t next_len[MAX_BATCHES] = {0}; /* the event committed right after the seal */
        size_t committed = 0;
        for (unsigned i = 0; i < 1000; i++) {
            size_t before = r->n;
            unsigned action = (unsigned)(next_rand(&seed) % 100);
            if (action < 3) {
                plume_batcher_seal(&b);
                if (r->n > before)
                    explicit_seal[before] = true;
                continue;
            }
            if (action < 8) {
                plume_buf_t *out = plume_batcher_begin(&b);
                plume_buf_append_str(out, "discarded\n");
                assert_false(plume_batcher_commit(&b, false));
                assert_int_equal(r->n, before);
                continue;
            }
            size_t len = (size_t)(next_rand(&seed) % 180) + 1;
            bool ok = add(&b, len, i, &input);
            assert_true(ok == (len <= max_event));
            if (!ok) {
                assert_int_equal(r->n, before);
                continue;
            }
            committed++;
            /* Batches sealed by this commit, except one holding this event,
             * were sealed because this event did not fit. */
            for (size_t k = before; k < r->n; k++)
                next_len[k] = len;
            assert_true(b.body.cap <= max_bytes + max_event);
        }
        size_t before_last = r->n;
        plume_batcher_seal(&b);
        if (r->n > before_last)
            explicit_seal[before_last] = true;

        assert_same(&r->all, &input);
        size_t total = 0;
        for (size_t k = 0; k < r->n; k++) {
            total += r->count[k];
            assert_true(r->count[k] <= max_events);
            if (r->count[k] > 1)
                assert_true(r->len[k] <= max_bytes);
            if (!explicit_seal[k])
                assert_true(r->count[k] == max_events || r->len[k] >= max_bytes ||
                            r->len[k] + next_len[k] > max_bytes);
        }
        assert_int_equal(total, committed);
        plume_batcher_free(&b);
        plume_buf_free(&input);
        rec_free(r);
    }
}

/* plume_batcher_commit() (inline fast path, else the full commit) and
 * plume_batcher_commit_slow() alone, fed the same random events, discards
 * and seals around both limits (counts and byte sizes landing exactly on
 * them, events past max_event_bytes, failed encodes), seal the same batches
 * and return the same results. */
static void inline_commit_matches_full_commit(void **state)
{
    (void)state;
    uint64_t seed = 77;
    for (int round = 0; round < 40; round++) {
        const uint32_t max_events = 1 + (uint32_t)(next_rand(&seed) % 6);
        const size_t max_bytes = 20 + (size_t)(next_rand(&seed) % 60), max_event = 90;
        rec_t *r[2] = {rec_new(), rec_new()};
        plume_batcher_t b[2];
        for (int k = 0; k < 2; k++)
            init(&b[k], NULL, max_events, max_bytes, 1000, max_event, r[k]);
        char ev[128];
        for (unsigned i = 0; i < 600; i++) {
            unsigned action = (unsigned)(next_rand(&seed) % 100);
            size_t len = (size_t)(next_rand(&seed) % 100) + 1;
            if (action < 20 && b[0].body.len < max_bytes) /* fills the batch exactly */
                len = max_bytes - b[0].body.len;
            make_event(ev, len, i);
            bool results[2];
            for (int k = 0; k < 2; k++) {
                if (action >= 97) {
                    plume_batcher_seal(&b[k]);
                    results[k] = true;
                    continue;
                }
                plume_buf_t *out = plume_batcher_begin(&b[k]);
                plume_buf_append(out, ev, len);
                if (action >= 94) /* an encode that ran out of room */
                    out->failed = true;
                bool ok = action < 90;
                results[k] = k == 0 ? plume_batcher_commit(&b[k], ok)
                                    : plume_batcher_commit_slow(&b[k], ok);
            }
            assert_int_equal(results[0], results[1]);
            assert_int_equal(plume_batcher_count(&b[0]), plume_batcher_count(&b[1]));
            assert_int_equal(b[0].body.len, b[1].body.len);
            assert_int_equal(r[0]->n, r[1]->n);
        }
        for (int k = 0; k < 2; k++)
            plume_batcher_seal(&b[k]);
        assert_int_equal(r[0]->n, r[1]->n);
        for (size_t j = 0; j < r[0]->n; j++) {
            assert_int_equal(r[0]->count[j], r[1]->count[j]);
            assert_int_equal(r[0]->len[j], r[1]->len[j]);
        }
        assert_same(&r[0]->all, &r[1]->all);
        for (int k = 0; k < 2; k++) {
            plume_batcher_free(&b[k]);
            rec_free(r[k]);
        }
    }
}

/* ---- age, on the real loop ---- */

/* Runs the loop until `n` batches are sealed or the deadline passes. */
static void run_until_sealed(plume_loop_t *l, const rec_t *r, size_t n)
{
    uint64_t end = mono_ms() + DEADLINE_MS;
    while (r->n < n) {
        assert_true(mono_ms() < end);
        assert_true(plume_loop_run_once(l, 100) >= 0);
    }
}

static void age_seals_after_max_age(void **state)
{
    (void)state;
    plume_loop_t *l = plume_loop_new();
    assert_non_null(l);
    rec_t *r = rec_new();
    plume_batcher_t b;
    init(&b, l, 1000, 1 << 20, 60, 1 << 16, r);
    assert_false(plume_timer_active(b.age_timer));
    uint64_t t0 = mono_ms();
    assert_true(add(&b, 10, 0, NULL));
    assert_true(plume_timer_active(b.age_timer));
    run_until_sealed(l, r, 1);
    assert_int_equal(r->count[0], 1);
    assert_true(r->when_ms[0] - t0 >= 60);
    assert_false(plume_timer_active(b.age_timer));
    assert_int_equal(plume_batcher_count(&b), 0);

    /* The next event starts a new age. */
    uint64_t t1 = mono_ms();
    assert_true(add(&b, 10, 1, NULL));
    assert_true(add(&b, 10, 2, NULL));
    run_until_sealed(l, r, 2);
    assert_int_equal(r->count[1], 2);
    assert_true(r->when_ms[1] - t1 >= 60);
    plume_batcher_free(&b);
    plume_loop_free(l);
    rec_free(r);
}

/* The age counts from the batch's first event: later events do not push the
 * deadline back. */
static void age_counts_from_first_event(void **state)
{
    (void)state;
    const uint64_t age = 400;
    plume_loop_t *l = plume_loop_new();
    assert_non_null(l);
    rec_t *r = rec_new();
    plume_batcher_t b;
    init(&b, l, 1000, 1 << 20, age, 1 << 16, r);
    uint64_t t0 = mono_ms();
    assert_true(add(&b, 10, 0, NULL));
    /* Let half the age pass on the loop (nothing may be sealed meanwhile). */
    uint64_t end = t0 + DEADLINE_MS;
    while (mono_ms() < t0 + age / 2) {
        assert_true(mono_ms() < end);
        assert_true(plume_loop_run_once(l, 10) >= 0);
        assert_int_equal(r->n, 0);
    }
    uint64_t t1 = mono_ms();
    assert_true(add(&b, 10, 1, NULL));
    run_until_sealed(l, r, 1);
    assert_int_equal(r->count[0], 2);
    assert_true(r->when_ms[0] - t0 >= age);
    /* Sealed on the first event's deadline, well before t1 + age. */
    assert_true(r->when_ms[0] - t1 < age - 10);
    plume_batcher_free(&b);
    plume_loop_free(l);
    rec_free(r);
}

/* Sealing on count or by hand stops the age timer; an event that spilled into
 * a new batch gets its own age and is sealed by it. */
static void age_timer_follows_the_open_batch(void **state)
{
    (void)state;
    plume_loop_t *l = plume_loop_new();
    assert_non_null(l);
    rec_t *r = rec_new();
    plume_buf_t input;
    plume_buf_init(&input, 0);
    plume_batcher_t b;
    init(&b, l, 2, 100, 50, 200, r);

    assert_true(add(&b, 10, 0, &input));
    assert_true(add(&b, 10, 1, &input)); /* count limit */
    assert_int_equal(r->n, 1);
    assert_false(plume_timer_active(b.age_timer));

    assert_true(add(&b, 10, 2, &input));
    assert_true(plume_timer_active(b.age_timer));
    plume_batcher_seal(&b);
    assert_int_equal(r->n, 2);
    assert_false(plume_timer_active(b.age_timer));

    assert_true(add(&b, 60, 3, &input));
    uint64_t t_spill = mono_ms();
    assert_true(add(&b, 60, 4, &input)); /* does not fit: spills */
    assert_int_equal(r->n, 3);
    assert_int_equal(plume_batcher_count(&b), 1);
    assert_true(plume_timer_active(b.age_timer));
    run_until_sealed(l, r, 4);
    assert_int_equal(r->count[3], 1);
    assert_int_equal(r->len[3], 60);
    assert_true(r->when_ms[3] - t_spill >= 50);
    assert_false(plume_timer_active(b.age_timer));
    assert_same(&r->all, &input);

    /* With nothing open, the loop has nothing of ours to run. */
    assert_int_equal(plume_loop_run_once(l, 0), 0);
    assert_int_equal(r->n, 4);
    plume_batcher_free(&b);
    plume_buf_free(&input);
    plume_loop_free(l);
    rec_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(count_limit),
        cmocka_unit_test(max_events_one),
        cmocka_unit_test(byte_limit_spills_to_next_batch),
        cmocka_unit_test(seal_callback_may_take_the_buffer),
        cmocka_unit_test(byte_limit_exact_fill_seals),
        cmocka_unit_test(oversized_event_alone),
        cmocka_unit_test(event_past_max_event_bytes_refused),
        cmocka_unit_test(commit_false_discards),
        cmocka_unit_test(overflowing_encode_discarded),
        cmocka_unit_test(seal_empty_does_nothing),
        cmocka_unit_test(random_sequences_keep_invariants),
        cmocka_unit_test(inline_commit_matches_full_commit),
        cmocka_unit_test(age_seals_after_max_age),
        cmocka_unit_test(age_counts_from_first_event),
        cmocka_unit_test(age_timer_follows_the_open_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
