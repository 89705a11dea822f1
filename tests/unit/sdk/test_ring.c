/* SPDX-License-Identifier: MIT */
/* The per-thread ring (sdk/src/ring.c): argument checks, reserve/commit edge
 * cases, records written through the producer block (as the macros' inline
 * fast path writes them) mixed with them, the "over half" check,
 * exact full-ring behaviour against a byte-count model, wrap-around with
 * records starting at every 8-byte offset near the end of the buffer (running
 * into the slack, each checked to be one contiguous span at the offset the
 * layout predicts, inside the allocation), and a threaded test: four producer
 * threads, one ring each, and one consumer draining them round-robin; every
 * record must arrive once, in order, intact. All waits have deadlines. */
#include "test_support.h"
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ring.h"

/* Bytes a record with an n-byte payload occupies (4-byte length, padded to 8):
 * the layout ring.h documents, restated so the test checks it. */
static uint64_t rec_size(size_t n)
{
    return ((uint64_t)n + 4 + 7) & ~(uint64_t)7;
}

/* Payload byte j of record `seq` in the single-threaded tests. */
static uint8_t pattern(uint64_t seq, size_t j)
{
    return (uint8_t)(seq * 31u + j * 7u + (seq >> 8));
}

static void fill(void *p, uint64_t seq, size_t n)
{
    uint8_t *b = p;
    for (size_t j = 0; j < n; j++)
        b[j] = pattern(seq, j);
}

static bool check_bytes(const void *p, uint64_t seq, size_t n)
{
    const uint8_t *b = p;
    for (size_t j = 0; j < n; j++)
        if (b[j] != pattern(seq, j))
            return false;
    return true;
}

static void bad_arguments(void **state)
{
    (void)state;
    assert_null(plume_ring_new(0, 1));
    assert_null(plume_ring_new(512, 64));        /* too small */
    assert_null(plume_ring_new(1000, 100));      /* not a power of two */
    assert_null(plume_ring_new(1025, 100));
    assert_null(plume_ring_new(3 << 10, 100));
    assert_null(plume_ring_new((size_t)1 << 25, 100)); /* too big */
    assert_null(plume_ring_new(SIZE_MAX, 100));
    assert_null(plume_ring_new(1024, 0));        /* no payload possible */
    assert_null(plume_ring_new(1024, 257));      /* more than capacity / 4 */
    assert_null(plume_ring_new(1024, SIZE_MAX));

    plume_ring_t *r = plume_ring_new(1024, 256);
    assert_non_null(r);
    plume_ring_free(r);
    r = plume_ring_new((size_t)1 << 24, (size_t)1 << 22);
    assert_non_null(r);
    plume_ring_free(r);
    plume_ring_free(NULL);
}

/* Empty ring, reserve(0), n > max_record, reserve(max_record). */
static void reserve_sizes(void **state)
{
    (void)state;
    plume_ring_t *r = plume_ring_new(1024, 256);
    assert_non_null(r);
    size_t len = 99;
    assert_null(plume_ring_peek(r, &len));
    assert_int_equal(len, 0);
    assert_int_equal(plume_ring_used(r), 0);

    assert_null(plume_ring_reserve(r, 257));
    assert_null(plume_ring_reserve(r, SIZE_MAX));
    plume_ring_commit(r, 0); /* no open reservation: nothing published */
    assert_null(plume_ring_peek(r, &len));

    uint8_t *p0 = plume_ring_reserve(r, 0);
    assert_non_null(p0);
    plume_ring_commit(r, 0);
    assert_int_equal(plume_ring_used(r), 8);

    uint8_t *p1 = plume_ring_reserve(r, 256);
    assert_non_null(p1);
    assert_ptr_equal(p1, p0 + 8); /* an empty record takes 8 bytes */
    fill(p1, 1, 256);
    plume_ring_commit(r, 256);
    assert_int_equal(plume_ring_used(r), 8 + 264);

    const uint8_t *q = plume_ring_peek(r, &len);
    assert_ptr_equal(q, p0);
    assert_int_equal(len, 0);
    /* peeking again without advancing returns the same record */
    assert_ptr_equal(plume_ring_peek(r, &len), p0);
    plume_ring_advance(r);
    q = plume_ring_peek(r, &len);
    assert_ptr_equal(q, p1);
    assert_int_equal(len, 256);
    assert_true(check_bytes(q, 1, 256));
    plume_ring_advance(r);
    assert_null(plume_ring_peek(r, &len));
    plume_ring_advance(r); /* nothing peeked: no effect */
    assert_null(plume_ring_peek(r, &len));
    assert_int_equal(plume_ring_used(r), 8 + 264); /* not released yet */
    plume_ring_release(r);
    assert_int_equal(plume_ring_used(r), 0);
    plume_ring_free(r);
}

/* Commit with a shorter length than reserved; a longer one is cut to the
 * reservation; an abandoned reservation is reused by the next reserve. */
static void commit_lengths(void **state)
{
    (void)state;
    plume_ring_t *r = plume_ring_new(1024, 256);
    assert_non_null(r);
    uint8_t *p = plume_ring_reserve(r, 200);
    assert_non_null(p);
    fill(p, 7, 200);
    plume_ring_commit(r, 50);
    assert_int_equal(plume_ring_used(r), 56);

    uint8_t *p2 = plume_ring_reserve(r, 100);
    assert_ptr_equal(p2, p + 56);
    /* abandoned: the next reserve returns the same space */
    uint8_t *p3 = plume_ring_reserve(r, 10);
    assert_ptr_equal(p3, p2);
    fill(p3, 8, 10);
    plume_ring_commit(r, 11); /* more than reserved: cut to 10 */
    plume_ring_commit(r, 5);  /* reservation already closed: nothing */
    assert_int_equal(plume_ring_used(r), 56 + 16);

    size_t len;
    const uint8_t *q = plume_ring_peek(r, &len);
    assert_ptr_equal(q, p);
    assert_int_equal(len, 50);
    assert_true(check_bytes(q, 7, 50));
    plume_ring_advance(r);
    q = plume_ring_peek(r, &len);
    assert_ptr_equal(q, p3);
    assert_int_equal(len, 10);
    assert_true(check_bytes(q, 8, 10));
    plume_ring_advance(r);
    assert_null(plume_ring_peek(r, &len));
    plume_ring_free(r);
}

/* Fixed-size records: exactly capacity / 64 fit; space comes back only after
 * advance AND release. */
static void full_ring_fixed(void **state)
{
    (void)state;
    plume_ring_t *r = plume_ring_new(1024, 256);
    assert_non_null(r);
    for (uint64_t i = 0; i < 16; i++) {
        void *p = plume_ring_reserve(r, 60); /* 64-byte records */
        assert_non_null(p);
        fill(p, i, 60);
        plume_ring_commit(r, 60);
    }
    assert_int_equal(plume_ring_used(r), 1024);
    assert_null(plume_ring_reserve(r, 60));
    assert_null(plume_ring_reserve(r, 0));
    plume_ring_commit(r, 0); /* the failed reserve left nothing open */

    size_t len;
    const void *q = plume_ring_peek(r, &len);
    assert_non_null(q);
    assert_int_equal(len, 60);
    assert_true(check_bytes(q, 0, 60));
    plume_ring_advance(r);
    assert_null(plume_ring_reserve(r, 60)); /* advanced, not released */
    assert_null(plume_ring_reserve(r, 0));
    plume_ring_release(r);
    assert_int_equal(plume_ring_used(r), 960);
    assert_null(plume_ring_reserve(r, 61)); /* 72 bytes > the 64 free */
    void *p = plume_ring_reserve(r, 60);
    assert_non_null(p);
    fill(p, 16, 60);
    plume_ring_commit(r, 60);
    assert_null(plume_ring_reserve(r, 0));

    for (uint64_t i = 1; i <= 16; i++) {
        q = plume_ring_peek(r, &len);
        assert_non_null(q);
        assert_int_equal(len, 60);
        assert_true(check_bytes(q, i, 60));
        plume_ring_advance(r);
    }
    assert_null(plume_ring_peek(r, &len));
    plume_ring_release(r);
    assert_int_equal(plume_ring_used(r), 0);
    plume_ring_free(r);
}

/* Writes one record the way the macros' inline fast path does
 * (plume_hot.h): through the producer block only (position, cached tail,
 * length header, then the release store of head through its pointer).
 * False, touching nothing, when the cached tail says there is no room. */
static bool block_write(plume_producer_t *p, uint64_t seq, size_t n)
{
    uint64_t end = p->wpos + plume_ring_record_size(n);
    if (n > p->max_record || end - p->tail_cache > p->cap)
        return false;
    uint8_t *rec = p->data + (p->wpos & p->mask);
    fill(rec + PLUME_RING_HDR, seq, n);
    uint32_t len32 = (uint32_t)n;
    memcpy(rec, &len32, 4);
    p->wpos = end;
    __atomic_store_n(p->head, end, __ATOMIC_RELEASE);
    return true;
}

/* The producer block describes its ring: records written through it alone
 * (as the inline fast path writes them, reloading the tail through the
 * block's pointer when its view is stale), mixed with reserve/commit over
 * several laps, read back in order and intact, also while the block is
 * moved elsewhere; a full ring stops both ways alike. */
static void producer_block(void **state)
{
    (void)state;
    plume_ring_t *r = plume_ring_new(1024, 256);
    assert_non_null(r);
    plume_producer_t *p = r->prod;
    assert_ptr_equal(p, plume_ring_own_producer(r));
    assert_int_equal(p->cap, 1024);
    assert_int_equal(p->mask, 1023);
    assert_int_equal(p->max_record, 256);
    assert_false(block_write(p, 0, 257)); /* over max_record */
    uint64_t seq = 0;
    for (int round = 0; round < 40; round++) { /* 40 x 120 bytes: several laps */
        for (int k = 0; k < 4; k++, seq++) {
            size_t n = 20 + (size_t)((seq * 37) % 17); /* 20..36 bytes */
            if (seq % 2) {
                if (!block_write(p, seq, n)) { /* stale view: reload through the block */
                    p->tail_cache = __atomic_load_n(p->tail, __ATOMIC_ACQUIRE);
                    assert_true(block_write(p, seq, n));
                }
            } else {
                void *q = plume_ring_reserve(r, n);
                assert_non_null(q);
                fill(q, seq, n);
                plume_ring_commit(r, n);
            }
        }
        for (uint64_t k = seq - 4; k < seq; k++) {
            size_t len, n = 20 + (size_t)((k * 37) % 17);
            const void *q = plume_ring_peek(r, &len);
            assert_non_null(q);
            assert_int_equal(len, n);
            assert_true(check_bytes(q, k, n));
            plume_ring_advance(r);
        }
        plume_ring_release(r);
    }
    /* the producer side moved elsewhere (as a thread moves it into its
     * TLS) and back: the ring follows it, nothing is lost */
    plume_producer_t moved;
    plume_ring_move_producer(r, &moved);
    assert_ptr_equal(r->prod, &moved);
    assert_int_equal(moved.wpos, p->wpos);
    assert_true(block_write(&moved, 1000, 40));
    void *q = plume_ring_reserve(r, 40); /* through r->prod: the moved side */
    assert_non_null(q);
    fill(q, 1001, 40);
    plume_ring_commit(r, 40);
    plume_ring_move_producer(r, plume_ring_own_producer(r));
    assert_ptr_equal(r->prod, p);
    for (uint64_t k = 1000; k < 1002; k++) {
        size_t len;
        const void *rec = plume_ring_peek(r, &len);
        assert_non_null(rec);
        assert_int_equal(len, 40);
        assert_true(check_bytes(rec, k, 40));
        plume_ring_advance(r);
    }
    plume_ring_release(r);
    assert_int_equal(plume_ring_used(r), 0);

    /* sixteen 64-byte records fill it */
    for (uint64_t i = 0; i < 16; i++)
        if (!block_write(p, i, 60)) {
            void *q = plume_ring_reserve(r, 60); /* reloads the tail: room */
            assert_non_null(q);
            fill(q, i, 60);
            plume_ring_commit(r, 60);
        }
    assert_int_equal(plume_ring_used(r), 1024);
    assert_false(block_write(p, 99, 0));
    assert_null(plume_ring_reserve(r, 0));
    plume_ring_free(r);
}

/* plume_ring_over_half(): false at or below half, true past it; while the
 * consumer does not release it says so again only every
 * PLUME_RING_FILL_RECHECK calls; after a release it is false again. */
static void over_half(void **state)
{
    (void)state;
    plume_ring_t *r = plume_ring_new(1024, 256);
    assert_non_null(r);
    for (int i = 0; i < 8; i++) { /* 8 x 64 = exactly half */
        assert_non_null(plume_ring_reserve(r, 60));
        plume_ring_commit(r, 60);
        assert_false(plume_ring_over_half(r));
    }
    assert_non_null(plume_ring_reserve(r, 60));
    plume_ring_commit(r, 60);
    assert_true(plume_ring_over_half(r));
    for (unsigned i = 1; i < PLUME_RING_FILL_RECHECK; i++)
        assert_false(plume_ring_over_half(r));
    assert_true(plume_ring_over_half(r)); /* still over half, asked again */
    size_t len;
    for (int i = 0; i < 9; i++) {
        assert_non_null(plume_ring_peek(r, &len));
        plume_ring_advance(r);
    }
    plume_ring_release(r);
    for (unsigned i = 0; i < PLUME_RING_FILL_RECHECK; i++)
        assert_false(plume_ring_over_half(r)); /* the reload sees the release */
    plume_ring_free(r);
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return rng_state >> 33;
}

/* What the test expects of the records in flight, by sequence number. */
typedef struct expect {
    uint64_t seq;
    size_t n;
    const uint8_t *ptr;
} expect_t;

#define INFLIGHT 1024 /* > capacity / 8, the most records a 1 KiB ring holds */

/* A single-threaded driver with a model of the ring: positions as the layout
 * defines them, the allocation's base (the first record's payload - 4) and
 * size (capacity + one biggest record). */
typedef struct model {
    plume_ring_t *r;
    size_t cap, max;
    const uint8_t *base;
    uint64_t head, read, tail; /* produced, advanced past, released */
    uint64_t seq_w, seq_r;
    expect_t q[INFLIGHT];
    unsigned starts_near_end[64]; /* per 8-byte slot of the last `slack` bytes */
    unsigned into_slack;          /* records that ran past the end */
} model_t;

static void model_init(model_t *m, size_t cap, size_t max)
{
    memset(m, 0, sizeof(*m));
    m->cap = cap;
    m->max = max;
    m->r = plume_ring_new(cap, max);
    assert_non_null(m->r);
}

/* Consumes one record and checks it: payload, length, same pointer as the
 * producer got, inside the allocation. Returns false when the ring is empty. */
static bool model_take(model_t *m)
{
    size_t len;
    const uint8_t *q = plume_ring_peek(m->r, &len);
    if (!q) {
        assert_int_equal(m->read, m->head);
        return false;
    }
    assert_true(m->seq_r < m->seq_w);
    expect_t *e = &m->q[m->seq_r % INFLIGHT];
    assert_int_equal(e->seq, m->seq_r);
    assert_ptr_equal(q, e->ptr);
    assert_int_equal(len, e->n);
    assert_true(check_bytes(q, e->seq, len));
    plume_ring_advance(m->r);
    m->read += rec_size(len);
    m->seq_r++;
    return true;
}

static void model_release(model_t *m)
{
    plume_ring_release(m->r);
    m->tail = m->read;
    assert_int_equal(plume_ring_used(m->r), m->head - m->tail);
}

/* Tries to write a record of n bytes. The reserve must succeed exactly when
 * the model says the unreleased bytes leave room. On success the pointer must
 * be at the predicted offset and the whole record inside the allocation. */
static bool model_put(model_t *m, size_t n)
{
    uint8_t *p = plume_ring_reserve(m->r, n);
    bool fits = m->head + rec_size(n) - m->tail <= m->cap;
    if (!fits) {
        assert_null(p);
        return false;
    }
    assert_non_null(p);
    size_t off = (size_t)(m->head & (m->cap - 1));
    if (!m->base) {
        assert_int_equal(m->head, 0);
        m->base = p - 4;
    }
    size_t slack = (size_t)rec_size(m->max);
    assert_ptr_equal(p, m->base + off + 4);
    assert_true(p + n <= m->base + m->cap + slack);
    if (off >= m->cap - slack)
        m->starts_near_end[(off - (m->cap - slack)) / 8]++;
    if (off + rec_size(n) > m->cap)
        m->into_slack++;
    fill(p, m->seq_w, n);
    plume_ring_commit(m->r, n);
    expect_t *e = &m->q[m->seq_w % INFLIGHT];
    e->seq = m->seq_w++;
    e->n = n;
    e->ptr = p;
    m->head += rec_size(n);
    assert_true(m->head - m->tail <= m->cap);
    return true;
}

/* Writes a record, draining (everything, then one release) when it is full. */
static void model_put_drain(model_t *m, size_t n)
{
    if (model_put(m, n))
        return;
    while (model_take(m)) {
    }
    /* advanced but not released: still no room for a large record */
    if (m->head + rec_size(n) - m->tail > m->cap)
        assert_null(plume_ring_reserve(m->r, n));
    model_release(m);
    assert_true(model_put(m, n));
}

/* Makes the next record start at offset `target` (a multiple of 8) with
 * filler records of 8 to 264 bytes. */
static void model_seek(model_t *m, size_t target)
{
    size_t d = (target - (size_t)(m->head & (m->cap - 1))) & (m->cap - 1);
    while (d > 0) {
        size_t chunk = d < rec_size(m->max) ? d : (size_t)rec_size(m->max);
        model_put_drain(m, chunk - 8); /* rec_size(chunk - 8) == chunk */
        d -= chunk;
    }
    assert_int_equal(m->head & (m->cap - 1), target);
}

/* Every 8-byte offset in the last `slack` bytes gets records of many sizes
 * (so some run into the slack by 1 byte, some by up to a whole record), over
 * hundreds of laps, with a lazily drained backlog. */
static void wrap_around_every_offset(void **state)
{
    (void)state;
    static model_t m;
    model_init(&m, 1024, 256);
    const size_t sizes[] = {0, 1, 3, 4, 5, 7, 8, 9, 12, 13, 60, 61, 100, 127, 128,
                            200, 251, 252, 253, 255, 256};
    size_t slack = (size_t)rec_size(m.max);
    for (size_t t = m.cap - slack; t < m.cap; t += 8) {
        for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
            model_seek(&m, t);
            model_put_drain(&m, sizes[k]);
        }
    }
    for (size_t i = 0; i < slack / 8; i++)
        assert_true(m.starts_near_end[i] >= sizeof(sizes) / sizeof(sizes[0]));
    assert_true(m.into_slack > 300);
    assert_true(m.head / m.cap > 500); /* laps */
    while (model_take(&m)) {
    }
    model_release(&m);
    assert_int_equal(m.seq_r, m.seq_w);
    plume_ring_free(m.r);
}

/* Random sizes and random consumption (partial drains, releases now and
 * then): reserve must fail exactly when the unreleased bytes leave no room. */
static void full_ring_exact(void **state)
{
    (void)state;
    static model_t m;
    model_init(&m, 1024, 256);
    rng_state = 12345;
    unsigned full = 0;
    for (int i = 0; i < 200000; i++) {
        uint64_t op = rnd() % 8;
        if (op < 5) {
            size_t n = rnd() % 8 == 0 ? 256 - rnd() % 8 : rnd() % 257;
            if (!model_put(&m, n))
                full++;
        } else if (op < 7) {
            for (uint64_t k = rnd() % 4; k > 0 && model_take(&m); k--) {
            }
        } else {
            model_release(&m);
        }
    }
    assert_true(full > 1000);
    assert_true(m.head / m.cap > 1000);
    while (model_take(&m)) {
    }
    model_release(&m);
    assert_int_equal(m.seq_r, m.seq_w);
    plume_ring_free(m.r);
}

/* ---- threads: 4 producers, 1 consumer ---- */

#define NRINGS 4
#define NRECORDS 200000
#define T_CAP ((size_t)16 << 10)
#define T_MAX ((size_t)600)
#define DEADLINE_S 60

typedef struct shared {
    plume_ring_t *rings[NRINGS];
    atomic_bool stop;     /* set on error or deadline: everyone leaves */
    struct timespec deadline;
    char error[256];      /* first error (written once, by whoever set stop) */
    atomic_flag error_set;
} shared_t;

typedef struct producer_arg {
    shared_t *sh;
    uint32_t id;
    unsigned long full_retries;
} producer_arg_t;

static bool past(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static void fail_shared(shared_t *sh, const char *what, uint32_t id, uint32_t seq)
{
    if (!atomic_flag_test_and_set(&sh->error_set))
        snprintf(sh->error, sizeof(sh->error), "ring %u, record %u: %s", id, seq, what);
    atomic_store(&sh->stop, true);
}

/* Payload size of record `seq` of producer `id`: mostly small, sometimes up
 * to the maximum, never below the 16-byte header. */
static size_t t_size(uint32_t id, uint32_t seq)
{
    uint32_t h = (seq + 1) * 2654435761u ^ (id + 1) * 40503u;
    h ^= h >> 15;
    if (h % 16 == 0)
        return 16 + h % (T_MAX - 15);
    return 16 + h % 120;
}

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Record: u32 id, u32 seq, u32 length, u32 FNV-1a of the bytes after the
 * header, then bytes derived from (id, seq). */
static void t_write(uint8_t *p, uint32_t id, uint32_t seq, size_t n)
{
    uint32_t len = (uint32_t)n;
    memcpy(p, &id, 4);
    memcpy(p + 4, &seq, 4);
    memcpy(p + 8, &len, 4);
    for (size_t j = 16; j < n; j++)
        p[j] = (uint8_t)(j * 13u + seq + id * 101u);
    uint32_t sum = fnv1a(p + 16, n - 16);
    memcpy(p + 12, &sum, 4);
}

static void *producer_main(void *arg)
{
    producer_arg_t *pa = arg;
    shared_t *sh = pa->sh;
    plume_ring_t *r = sh->rings[pa->id];
    for (uint32_t seq = 0; seq < NRECORDS; seq++) {
        size_t n = t_size(pa->id, seq);
        /* reserve more than needed now and then: commit is shorter */
        size_t want = seq % 5 == 0 && n + 40 <= T_MAX ? n + 40 : n;
        uint8_t *p;
        while (!(p = plume_ring_reserve(r, want))) {
            if (atomic_load_explicit(&sh->stop, memory_order_relaxed))
                return NULL;
            pa->full_retries++;
            if (pa->full_retries % 64 == 0 && past(&sh->deadline)) {
                fail_shared(sh, "producer deadline passed", pa->id, seq);
                return NULL;
            }
            sched_yield();
        }
        t_write(p, pa->id, seq, n);
        plume_ring_commit(r, n);
    }
    return NULL;
}

/* Checks one record of ring `id`; returns false (after recording why) if it
 * is not the expected next one, intact. */
static bool t_check(shared_t *sh, uint32_t id, uint32_t seq, const uint8_t *p, size_t len)
{
    uint32_t gid, gseq, glen, gsum;
    if (len < 16 || len != t_size(id, seq)) {
        fail_shared(sh, "wrong length", id, seq);
        return false;
    }
    memcpy(&gid, p, 4);
    memcpy(&gseq, p + 4, 4);
    memcpy(&glen, p + 8, 4);
    memcpy(&gsum, p + 12, 4);
    if (gid != id || gseq != seq || glen != len) {
        fail_shared(sh, gseq != seq ? "out of order or lost" : "wrong header", id, seq);
        return false;
    }
    if (gsum != fnv1a(p + 16, len - 16)) {
        fail_shared(sh, "checksum mismatch", id, seq);
        return false;
    }
    for (size_t j = 16; j < len; j++)
        if (p[j] != (uint8_t)(j * 13u + seq + id * 101u)) {
            fail_shared(sh, "payload bytes differ", id, seq);
            return false;
        }
    return true;
}

typedef struct consumer_arg {
    shared_t *sh;
    uint32_t got[NRINGS];
    unsigned long releases;
} consumer_arg_t;

/* Drains all rings round-robin, at most 64 records per ring per turn, one
 * release per turn; yields when a whole round found nothing. */
static void *consumer_main(void *arg)
{
    consumer_arg_t *ca = arg;
    shared_t *sh = ca->sh;
    unsigned done = 0;
    while (done < NRINGS && !atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
        bool any = false;
        done = 0;
        for (uint32_t id = 0; id < NRINGS; id++) {
            plume_ring_t *r = sh->rings[id];
            for (int k = 0; k < 64; k++) {
                size_t len;
                const uint8_t *p = plume_ring_peek(r, &len);
                if (!p)
                    break;
                if (ca->got[id] >= NRECORDS) {
                    fail_shared(sh, "extra record", id, ca->got[id]);
                    return NULL;
                }
                if (!t_check(sh, id, ca->got[id], p, len))
                    return NULL;
                plume_ring_advance(r);
                ca->got[id]++;
                any = true;
            }
            plume_ring_release(r);
            ca->releases++;
            if (ca->got[id] == NRECORDS)
                done++;
        }
        if (!any) {
            if (past(&sh->deadline)) {
                fail_shared(sh, "consumer deadline passed", 0, 0);
                return NULL;
            }
            sched_yield();
        }
    }
    return NULL;
}

static void threads_four_producers_one_consumer(void **state)
{
    (void)state;
    static shared_t sh;
    memset(&sh, 0, sizeof(sh));
    atomic_init(&sh.stop, false);
    atomic_flag_clear(&sh.error_set);
    clock_gettime(CLOCK_MONOTONIC, &sh.deadline);
    sh.deadline.tv_sec += DEADLINE_S;
    for (int i = 0; i < NRINGS; i++) {
        sh.rings[i] = plume_ring_new(T_CAP, T_MAX);
        assert_non_null(sh.rings[i]);
    }
    static producer_arg_t pa[NRINGS];
    static consumer_arg_t ca;
    memset(&ca, 0, sizeof(ca));
    ca.sh = &sh;
    pthread_t pt[NRINGS], ct;
    assert_int_equal(pthread_create(&ct, NULL, consumer_main, &ca), 0);
    for (uint32_t i = 0; i < NRINGS; i++) {
        pa[i] = (producer_arg_t){.sh = &sh, .id = i};
        assert_int_equal(pthread_create(&pt[i], NULL, producer_main, &pa[i]), 0);
    }
    for (int i = 0; i < NRINGS; i++)
        pthread_join(pt[i], NULL);
    pthread_join(ct, NULL);
    if (atomic_load(&sh.stop))
        fail_msg("%s", sh.error);
    unsigned long retries = 0;
    for (int i = 0; i < NRINGS; i++) {
        assert_int_equal(ca.got[i], NRECORDS);
        size_t len;
        assert_null(plume_ring_peek(sh.rings[i], &len));
        assert_int_equal(plume_ring_used(sh.rings[i]), 0);
        retries += pa[i].full_retries;
        plume_ring_free(sh.rings[i]);
    }
    print_message("full-ring retries %lu, consumer releases %lu\n", retries, ca.releases);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(reserve_sizes),
        cmocka_unit_test(commit_lengths),
        cmocka_unit_test(full_ring_fixed),
        cmocka_unit_test(producer_block),
        cmocka_unit_test(over_half),
        cmocka_unit_test(wrap_around_every_offset),
        cmocka_unit_test(full_ring_exact),
        cmocka_unit_test(threads_four_producers_one_consumer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
