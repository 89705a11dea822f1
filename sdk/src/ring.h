/* SPDX-License-Identifier: MIT */
/* The SDK's per-thread ring: a bounded single-producer / single-consumer queue
 * of variable-size records, one per logging thread, drained by the worker.
 *
 * The producer (the thread that logs) reserves room for a record, encodes the
 * payload straight into the ring and commits it: plain stores, then one release
 * store of its head; no lock, no syscall, no atomic read-modify-write. The
 * consumer (the worker) peeks and advances with an acquire load of the head
 * only when its cached copy says the ring is empty, and hands space back to the
 * producer in batches (one release store of its tail per plume_ring_release()).
 * The producer likewise re-reads the consumer's tail only when its cached copy
 * says the ring is full, so in the common case each side writes only cache
 * lines the other does not read (apart from the one head store per record).
 *
 * Layout: capacity is a power of two; positions are monotonically increasing
 * 64-bit byte counters and a position's offset is pos & (capacity - 1). A
 * record is a 4-byte little-endian payload length, the payload, and padding to
 * a multiple of 8 bytes. The buffer has slack after its end as large as the
 * biggest record, so a record that starts near the end runs on into the slack
 * and is never split: both sides always see one contiguous span. (The bytes at
 * the start of the buffer that such a record "covers" logically stay unused for
 * that lap.) A full ring refuses the record; the caller counts the drop.
 *
 * Threading: at most one producer thread and one consumer thread at a time per
 * ring (hand-over between threads needs the caller's own synchronisation);
 * plume_ring_used() may be called from any thread. */
#ifndef PLUME_RING_H
#define PLUME_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "plume/plume.h" /* struct plume_producer_: the producer's block */

typedef struct plume_ring plume_ring_t;
typedef struct plume_producer_ plume_producer_t;

/* Smallest and largest accepted capacities (bytes, powers of two). The SDK uses
 * 1 MiB by default; tests go down to the minimum. */
#define PLUME_RING_MIN_CAPACITY ((size_t)1 << 10)
#define PLUME_RING_MAX_CAPACITY ((size_t)1 << 24)

/* Creates an empty ring. `capacity` must be a power of two within
 * [PLUME_RING_MIN_CAPACITY, PLUME_RING_MAX_CAPACITY]; `max_record` (the
 * largest payload accepted) must be within [1, capacity / 4]. Returns NULL on
 * bad arguments or when memory runs out. The caller frees with
 * plume_ring_free(). The buffer is not pre-touched: its pages are faulted in
 * on first use. */
plume_ring_t *plume_ring_new(size_t capacity, size_t max_record);
/* Frees the ring (NULL is fine). No side may use it any more. */
void plume_ring_free(plume_ring_t *r);

/* Producer: moves the ring's producer side to `to` (copied; the ring uses
 * it from then on), e.g. into the producing thread's TLS and back to the
 * ring's own block (plume_ring_own_producer()) before the thread ends. */
void plume_ring_move_producer(plume_ring_t *r, plume_producer_t *to);
plume_producer_t *plume_ring_own_producer(plume_ring_t *r);

/* Consumer: the oldest record not yet advanced past (payload pointer, length in
 * *len), or NULL when there is none. The bytes stay valid and unchanged until
 * plume_ring_release() after advancing past them. Peeking twice without
 * advancing returns the same record. */
const void *plume_ring_peek(plume_ring_t *r, size_t *len);
/* Consumer: moves past the record the last peek returned (consumer-local; the
 * producer cannot reuse the space yet). Without such a peek it does nothing. */
void plume_ring_advance(plume_ring_t *r);
/* Consumer: hands the space of every record advanced past back to the
 * producer, with one release store (none when nothing changed). Call it once
 * per batch, not per record. */
void plume_ring_release(plume_ring_t *r);

/* Any thread: approximate number of bytes in use (published by the producer
 * and not yet released by the consumer), at most the capacity. It reads both
 * sides' shared positions, so the producer should not call it per record
 * unless it accepts a cache miss after each consumer release. */
size_t plume_ring_used(const plume_ring_t *r);

/* ---- the producer's side, inline: it is the log call's hot path ---- */

#define PLUME_RING_BLOCK 128 /* separation between the blocks written by each side */
#define PLUME_RING_HDR PLUME_HOT_RING_HDR_ /* bytes of the little-endian length before a payload */

/* The ring's state, here only so that the producer's functions below can be
 * inlined; use the functions. */
struct plume_ring {
    /* Read-only after plume_ring_new(): shared by both sides at no cost. */
    uint8_t *data;     /* cap + slack bytes */
    uint64_t mask;     /* cap - 1 */
    size_t cap;
    size_t max_record; /* largest payload accepted */

    plume_producer_t *prod; /* the producer's side: own_prod, or where the
                             * producing thread moved it (its TLS) */

    /* Producer's private state, with its own copies of the configuration
     * (the layout is in plume_hot.h: the macros' inline fast path writes
     * records through it; the owning thread keeps its per-call flags there
     * too), while no thread has moved it elsewhere. */
    alignas(PLUME_RING_BLOCK) plume_producer_t own_prod;

    /* Written by the producer only, read by the consumer. */
    alignas(PLUME_RING_BLOCK) _Atomic uint64_t head; /* end of the last committed record */
    /* Written by the consumer only, read by the producer. */
    alignas(PLUME_RING_BLOCK) _Atomic uint64_t tail; /* everything before is free space */

    /* Consumer's private state. */
    alignas(PLUME_RING_BLOCK) uint64_t head_cache; /* last view of `head` (never ahead of it) */
    uint64_t read;     /* start of the oldest record not advanced past */
    uint64_t next;     /* end of the record the last peek returned (== read if none) */
    uint64_t released; /* == tail: the consumer's own copy */
};

/* Bytes a record with an n-byte payload occupies: header + payload, rounded up
 * to 8. n is at most max_record (<= 4 MiB), so this cannot overflow. */
static inline uint64_t plume_ring_record_size(size_t n)
{
    return ((uint64_t)n + PLUME_RING_HDR + 7) & ~(uint64_t)7;
}

/* Producer: returns room for a payload of up to `n` bytes, contiguous, valid
 * until the next plume_ring_commit() or plume_ring_reserve(); or NULL when the
 * ring has no room for it or n > max_record (the caller counts the drop).
 * reserve(0) is valid and makes room for an empty record. A reservation that
 * is never committed is simply abandoned (the next reserve reuses its space). */
static inline void *plume_ring_reserve(plume_ring_t *r, size_t n)
{
    if (__builtin_expect(n > r->prod->max_record, 0)) {
        r->prod->res_open = 0;
        return NULL;
    }
    uint64_t head = r->prod->wpos;
    uint64_t end = head + plume_ring_record_size(n);
    /* Only when the cached tail says "full" is the real one reloaded
     * (acquire: the one access to the consumer's block). */
    if (__builtin_expect(end - r->prod->tail_cache > r->prod->cap, 0)) {
        r->prod->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (end - r->prod->tail_cache > r->prod->cap) {
            r->prod->res_open = 0;
            return NULL;
        }
    }
    r->prod->res_n = n;
    r->prod->res_open = 1;
    return r->prod->data + (head & r->prod->mask) + PLUME_RING_HDR;
}
/* Producer: publishes the record reserved last with its final payload length
 * `len` (a length above the reserved size is cut to it). Without an open
 * reservation it does nothing. */
static inline void plume_ring_commit(plume_ring_t *r, size_t len)
{
    if (__builtin_expect(!r->prod->res_open, 0))
        return;
    if (__builtin_expect(len > r->prod->res_n, 0))
        len = r->prod->res_n;
    r->prod->res_open = 0;
    uint64_t head = r->prod->wpos;
    uint32_t len32 = (uint32_t)len; /* the length is little-endian: x86-64 and aarch64 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    len32 = __builtin_bswap32(len32);
#endif
    memcpy(r->prod->data + (head & r->prod->mask), &len32, 4);
    r->prod->wpos = head + plume_ring_record_size(len);
    atomic_store_explicit(&r->head, r->prod->wpos, memory_order_release);
}

/* Producer: true when more than half the ring may be in use. It judges from
 * its cached view of the consumer's tail, which is never ahead of the real
 * one, and reloads the real tail only when that view says "over half": a
 * cache miss on the consumer's line at most once per half ring of records
 * while the consumer keeps up. While the ring stays over half full it says
 * so (and reloads) once every PLUME_RING_FILL_RECHECK calls. */
#define PLUME_RING_FILL_RECHECK 64u
static inline bool plume_producer_over_half(plume_producer_t *p)
{
    if (__builtin_expect(p->wpos - p->tail_cache <= p->cap / 2, 1))
        return false;
    if (p->fill_skip) { /* still over half at the last reload: not yet again */
        p->fill_skip--;
        return false;
    }
    p->tail_cache = __atomic_load_n(p->tail, __ATOMIC_ACQUIRE);
    if (p->wpos - p->tail_cache <= p->cap / 2)
        return false;
    p->fill_skip = PLUME_RING_FILL_RECHECK - 1;
    return true;
}

static inline bool plume_ring_over_half(plume_ring_t *r) { return plume_producer_over_half(r->prod); }

#endif
