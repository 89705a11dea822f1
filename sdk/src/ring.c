/* SPDX-License-Identifier: MIT */
/* The per-thread single-producer / single-consumer record ring (see ring.h for
 * the contract and the record layout).
 *
 * Memory ordering: the producer writes a record's payload and length with plain
 * stores and then publishes it with a release store of `head`; the consumer's
 * acquire load of `head` makes those bytes visible. The consumer reads records
 * and then hands their space back with a release store of `tail`; the
 * producer's acquire load of `tail` orders the consumer's reads before its own
 * later writes into that space. Nothing else is shared, and no atomic
 * read-modify-write is used. Each side keeps a cached copy of the other side's
 * position and reloads it only when the cache says full (producer) or empty
 * (consumer). Five 128-byte blocks (two cache lines each, as adjacent-line
 * prefetching pairs them) keep the traffic to what the protocol needs: the
 * read-only configuration; the producer's private state; `head` alone; `tail`
 * alone; the consumer's private state. With `tail` apart from the consumer's
 * per-record fields, a producer re-reading it on every call while the ring is
 * full does not slow the consumer down (which would keep the ring full); with
 * `head` apart from the producer's fields, a consumer polling it costs the
 * producer one line transfer per commit at most. */
#include "ring.h"

#include <assert.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(_Atomic uint64_t) == sizeof(uint64_t), "the producer reaches head/tail as uint64_t");

static inline uint32_t get_le32(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
#else
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
#endif
}

/* Validates the arguments, then allocates the control block (aligned so the
 * per-side blocks really sit on separate cache lines) and the buffer with its
 * slack (one biggest record, so any record starting before `cap` ends inside
 * the allocation). Both are freed by plume_ring_free(). */
plume_ring_t *plume_ring_new(size_t capacity, size_t max_record)
{
    if (capacity < PLUME_RING_MIN_CAPACITY || capacity > PLUME_RING_MAX_CAPACITY ||
        (capacity & (capacity - 1)) != 0 || max_record == 0 || max_record > capacity / 4)
        return NULL;
    void *mem = NULL;
    if (posix_memalign(&mem, PLUME_RING_BLOCK, sizeof(struct plume_ring)) != 0)
        return NULL;
    plume_ring_t *r = mem;
    memset(r, 0, sizeof(*r));
    size_t slack = (size_t)plume_ring_record_size(max_record);
    void *data = NULL;
    if (posix_memalign(&data, 64, capacity + slack) != 0) {
        free(r);
        return NULL;
    }
    r->data = data;
    r->mask = capacity - 1;
    r->cap = capacity;
    r->max_record = max_record;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    plume_producer_t *p = &r->own_prod;
    p->data = data;
    p->mask = capacity - 1;
    p->cap = capacity;
    p->max_record = (uint32_t)max_record;
    /* the same 64-bit words: _Atomic uint64_t has uint64_t's layout here */
    p->head = (uint64_t *)&r->head;
    p->tail = (uint64_t *)&r->tail;
    r->prod = p;
    return r;
}

void plume_ring_move_producer(plume_ring_t *r, plume_producer_t *to)
{
    if (to != r->prod) {
        *to = *r->prod;
        r->prod = to;
    }
}

plume_producer_t *plume_ring_own_producer(plume_ring_t *r)
{
    return &r->own_prod;
}

void plume_ring_free(plume_ring_t *r)
{
    if (!r)
        return;
    free(r->data);
    free(r);
}

/* Consumer: returns the record at `read`, reloading the head (acquire) only
 * when the cached copy says there is nothing more. The length is the
 * producer's, from this process; it is still clamped to max_record so that a
 * corrupted ring can never make the caller read outside the allocation. */
const void *plume_ring_peek(plume_ring_t *r, size_t *len)
{
    uint64_t pos = r->read;
    if (pos == r->head_cache) {
        r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
        if (pos == r->head_cache) {
            *len = 0;
            return NULL;
        }
    }
    const uint8_t *rec = r->data + (pos & r->mask);
    size_t n = get_le32(rec);
    assert(n <= r->max_record);
    if (__builtin_expect(n > r->max_record, 0))
        n = r->max_record;
    r->next = pos + plume_ring_record_size(n);
    *len = n;
    return rec + PLUME_RING_HDR;
}

void plume_ring_advance(plume_ring_t *r)
{
    r->read = r->next;
}

/* Consumer: one release store of the tail, skipped when nothing was advanced
 * past since the last release (a store would still pull the line exclusive). */
void plume_ring_release(plume_ring_t *r)
{
    if (r->released != r->read) {
        r->released = r->read;
        atomic_store_explicit(&r->tail, r->read, memory_order_release);
    }
}

/* Loads the tail first (acquire): the consumer stored it after seeing a head at
 * least that far, so the head loaded next is never behind it. The result is
 * still clamped: both positions may move between the two loads. */
size_t plume_ring_used(const plume_ring_t *r)
{
    uint64_t tail = atomic_load_explicit(&((plume_ring_t *)r)->tail, memory_order_acquire);
    uint64_t head = atomic_load_explicit(&((plume_ring_t *)r)->head, memory_order_acquire);
    if (head <= tail)
        return 0;
    uint64_t used = head - tail;
    return used > r->cap ? r->cap : (size_t)used;
}
