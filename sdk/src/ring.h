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

#include <stddef.h>

typedef struct plume_ring plume_ring_t;

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

/* Producer: returns room for a payload of up to `n` bytes, contiguous, valid
 * until the next plume_ring_commit() or plume_ring_reserve(); or NULL when the
 * ring has no room for it or n > max_record (the caller counts the drop).
 * reserve(0) is valid and makes room for an empty record. A reservation that
 * is never committed is simply abandoned (the next reserve reuses its space). */
void *plume_ring_reserve(plume_ring_t *r, size_t n);
/* Producer: publishes the record reserved last with its final payload length
 * `len` (a length above the reserved size is cut to it). Without an open
 * reservation it does nothing. */
void plume_ring_commit(plume_ring_t *r, size_t len);

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

#endif
