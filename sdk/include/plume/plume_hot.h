/* SPDX-License-Identifier: MIT */
/* Internal, not API (included by plume.h): the PLUME_LOG / PLUME_BREADCRUMB
 * macros' inline fast path.
 *
 * Once a macro's call site is learned (see plume_site_t), its calls write
 * the compact site record (the layout is in sdk/src/site.h) straight into
 * the calling thread's ring from code inlined at the call: no call into the
 * library, and since the compiler knows the call's field count and types,
 * it keeps only the loads, compares and stores this call needs (about 150
 * instructions for a message and three fields, the caller's included,
 * where a call into the library's entry point runs about 245). The one
 * shared write is the ring head's release store.
 *
 * Anything unusual makes plume_hot_put_() return 0 without touching
 * anything, and the macro calls the library, which takes the complete path:
 * a site not learned yet, a call that does not match what its site learned,
 * error level and up, sampling, no TSC clock, the SDK not running, a thread
 * without a ring yet, a call already in progress on the thread (a signal
 * handler's), drops to report, a scope overlay pushed, a full ring, and
 * calls with more than PLUME_HOT_MAX_FIELDS_ fields.
 *
 * The library and the programs built against this header share the layouts
 * below, so the exported symbols' names carry the layout's version
 * (PLUME_HOT_ABI_ in plume_hot1_*): a program built against another layout
 * fails to start with an undefined symbol instead of misbehaving.
 *
 * The macros use it in C on x86-64 with GCC or clang when optimising;
 * elsewhere, and when PLUME_NO_INLINE_FAST_PATH is defined before plume.h,
 * every macro call goes to the library (the same result; the library runs
 * this same code with the call's count and types unknown, a few ns more per
 * call, and each call site's code stays small). */
#ifndef PLUME_PLUME_HOT_H
#define PLUME_PLUME_HOT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define PLUME_HOT_ABI_ 1

/* A ring's producer side: its write position and cached view of the
 * consumer, copies of the ring's configuration, and the owning thread's
 * per-call flags. Only the producing thread touches it. A logging thread's
 * lives in its TLS (plume_hot1_thread_.prod), so the fast path reaches it
 * with no pointer to follow; everything the fast path reads is in its first
 * 56 bytes. */
struct plume_producer_ {
    unsigned char *data;  /* the ring's bytes (cap + room for one largest record); NULL: no ring */
    uint64_t cap;         /* bytes, a power of two */
    uint64_t wpos;        /* end of the last record written (== head) */
    uint64_t tail_cache;  /* last view of the consumer's tail, never ahead of it */
    uint64_t *head;       /* the ring's shared head: release stores */
    uint64_t unreported_drops; /* the thread: drops not yet told by a "dropped N" record */
    uint32_t max_record;  /* largest payload the ring takes */
    volatile int busy;    /* the thread: a call is writing (sig_atomic_t) */
    /* the library's complete path only */
    uint64_t mask;        /* cap - 1 */
    uint64_t *tail;       /* the ring's shared tail: acquire loads */
    uint64_t res_n;       /* payload size of the open reservation */
    uint32_t res_open;    /* a reservation is open */
    uint32_t fill_skip;   /* over-half checks left before the tail is reloaded */
};

/* The calling thread's fast-path state, in its TLS (64-byte aligned: the
 * overlay and the producer's fast-path fields share one cache line). */
struct plume_hot_thread_ {
    uint64_t overlay;            /* its scope overlay: (bytes << 32) | pairs, 0 when none */
    struct plume_producer_ prod; /* its ring's producer side (data NULL until
                                  * its first call attaches it, and again once
                                  * it exits, or in a fork child) */
};

/* What a learned site keeps (allocated once, never freed): what a call is
 * checked against, in its first cache line for up to four fields. The
 * library keeps the rest (the msgpack-encoded message, keys and category)
 * after key[nfields], in the same allocation. */
struct plume_site_desc_ {
    const char *message;  /* the call's pointers, compared on every call */
    uint64_t types;       /* field i's plume_field_type_t in bits 4i..4i+3 */
    uint32_t nfields;     /* at most PLUME_HOT_SITE_FIELDS_ */
    uint32_t fixed_size;  /* record bytes apart from string contents and overlay */
    const char *category; /* breadcrumbs */
#ifndef __cplusplus
    const char *key[];    /* the call's key pointers */
#endif
};
#define PLUME_HOT_SITE_FIELDS_ 16 /* sites with more fields are not learned */

PLUME_API extern __thread struct plume_hot_thread_ plume_hot1_thread_
    __attribute__((tls_model("initial-exec")));
/* The lowest level the fast path takes: the minimum level while running
 * without sampling and with TSC stamps, else PLUME_HOT_OFF_ (it takes
 * nothing, breadcrumbs included). */
PLUME_API extern int plume_hot1_floor_;
#define PLUME_HOT_OFF_ 100
/* The calling thread's ring looked more than half full after a write: the
 * library wakes the worker if it sleeps (rate-limited, out of line). */
PLUME_API void plume_hot1_filling_(void);

/* The site record (see sdk/src/site.h). */
#define PLUME_HOT_TAG_ 0xc1u
#define PLUME_HOT_CRUMB_FLAG_ 0x80u
#define PLUME_HOT_OVERLAY_FLAG_ 0x01u
#define PLUME_HOT_HEADER_ (4u + 8u + 8u)
#define PLUME_HOT_NULL_STR_ UINT32_MAX
#define PLUME_HOT_MAX_VALUE_ (16u * 1024u) /* string values are cut there */
#define PLUME_HOT_RING_HDR_ 4u              /* the ring's length header */
/* Calls with more fields go to the library (whose fast path takes up to
 * PLUME_HOT_SITE_FIELDS_), keeping each call site's inlined code short. */
#define PLUME_HOT_MAX_FIELDS_ 6

#if !defined(__cplusplus) && defined(__GNUC__)

/* GCC cannot tie the loop that sets len[i] (and copies the fields) to the
 * ones that read them when the field count is not a constant, and warns;
 * every entry read is set. */
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(__SSE2__)
/* strnlen(s, cap) over aligned 16-byte blocks, inline: for the short values
 * of a log call a libc call costs more than the scan. An aligned block never
 * crosses a page, so reading the bytes around the string inside its first
 * and last block cannot fault; they are outside the object, which the
 * sanitizers would report, hence the attribute (the result never depends on
 * them). */
__attribute__((no_sanitize("address", "thread"))) static inline size_t
plume_hot_strlen_(const char *s, size_t cap)
{
    const __m128i zero = _mm_setzero_si128();
    uintptr_t a = (uintptr_t)s & ~(uintptr_t)15;
    unsigned skip = (unsigned)((uintptr_t)s - a);
    unsigned mask =
        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128((const __m128i *)a), zero)) >>
        skip;
    size_t n = 16 - skip;
    if (mask)
        n = (size_t)__builtin_ctz(mask);
    while (!mask && n < cap) {
        a += 16;
        mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128((const __m128i *)a), zero));
        n += mask ? (size_t)__builtin_ctz(mask) : 16;
    }
    return n < cap ? n : cap;
}
#else
static inline size_t plume_hot_strlen_(const char *s, size_t cap)
{
    const char *end = (const char *)memchr(s, '\0', cap);
    return end ? (size_t)(end - s) : cap;
}
#endif

/* memcpy, with up to 32 bytes copied inline by two overlapping loads and
 * stores of the widest size that fits. */
static inline void plume_hot_copy_(unsigned char *d, const char *s, size_t n)
{
    /* Hidden from the compiler's object-size tracking: for a short string
     * it knows, it would warn about the branches for longer ones (never
     * taken, as n is the string's length). Costs no instruction. */
    __asm__("" : "+r"(s));
    if (n > 32) {
        memcpy(d, s, n);
    } else if (n >= 16) {
        unsigned char a[16], b[16];
        memcpy(a, s, 16);
        memcpy(b, s + n - 16, 16);
        memcpy(d, a, 16);
        memcpy(d + n - 16, b, 16);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n > 0) {
        d[0] = (unsigned char)s[0];
        d[n / 2] = (unsigned char)s[n / 2];
        d[n - 1] = (unsigned char)s[n - 1];
    }
}

/* Copies a call's n fields into to[]. Inlined with n constant it unrolls,
 * so a compiler can keep the copy in registers (plume_hot_put_()) or build
 * it only on the path that needs it (the macros' calls into the library). */
__attribute__((always_inline)) static inline void
plume_hot_fields_copy_(plume_field_t *to, const plume_field_t *from, size_t n)
{
#pragma GCC unroll 8
    for (size_t i = 0; i < n; i++)
        to[i] = from[i];
}

/* Nonzero when the call is not the one site d learned: another message or
 * field count, key or type (or category, for a breadcrumb). n is at most
 * PLUME_HOT_SITE_FIELDS_. */
__attribute__((always_inline)) static inline uint64_t
plume_hot_differs_(const struct plume_site_desc_ *d, int breadcrumb, const char *category,
                   const char *message, const plume_field_t *f, size_t n)
{
    uint64_t differs = ((uintptr_t)message ^ (uintptr_t)d->message) | (n ^ d->nfields);
    if (breadcrumb)
        differs |= (uintptr_t)category ^ (uintptr_t)d->category;
    if (differs) /* d->key[] has d->nfields entries */
        return differs;
    uint64_t types = 0; /* a constant at a macro's call: one compare for all */
#pragma GCC unroll 8
    for (size_t i = 0; i < n; i++) {
        differs |= ((uintptr_t)f[i].key ^ (uintptr_t)d->key[i]) | ((unsigned)f[i].type >> 4);
        types |= (uint64_t)((unsigned)f[i].type & 15u) << (4u * i);
    }
    return differs | (types ^ d->types);
}

/* The site record's payload size for a call that matches d, with
 * overlay_len bytes of overlay pairs (0: none); the string values' lengths
 * into len[i] (PLUME_HOT_NULL_STR_ for NULL; 0 for the other fields). */
__attribute__((always_inline)) static inline uint64_t
plume_hot_measure_(const struct plume_site_desc_ *d, const plume_field_t *f, size_t n,
                   uint32_t overlay_len, uint32_t *len)
{
    uint64_t size = d->fixed_size;
#pragma GCC unroll 8
    for (size_t i = 0; i < n; i++) {
        len[i] = 0; /* unused for other types; set so that every entry is */
        if (f[i].type != PLUME_FIELD_STR)
            continue;
        const char *s = f[i].v.s;
        uint32_t l = s ? (uint32_t)plume_hot_strlen_(s, PLUME_HOT_MAX_VALUE_) : 0;
        len[i] = s ? l : PLUME_HOT_NULL_STR_;
        size += l;
    }
    if (overlay_len)
        size += 8u + overlay_len;
    return size;
}

/* Writes the record plume_hot_measure_() measured at q (the payload's
 * start). breadcrumb: d->breadcrumb (a constant at a macro's call).
 * overlay: the thread's overlay state (0: none), its pairs at
 * overlay_bytes. */
__attribute__((always_inline)) static inline void
plume_hot_write_(unsigned char *restrict q, const struct plume_site_desc_ *d, uint64_t stamp,
                 int level, int breadcrumb, const plume_field_t *restrict f, size_t n,
                 const uint32_t *restrict len, uint64_t overlay,
                 const unsigned char *overlay_bytes)
{
    uint32_t overlay_len = (uint32_t)(overlay >> 32);
    unsigned char head[4] = {PLUME_HOT_TAG_,
                             (unsigned char)((unsigned)level | (breadcrumb ? PLUME_HOT_CRUMB_FLAG_ : 0u)),
                             overlay_len ? PLUME_HOT_OVERLAY_FLAG_ : 0u, 0};
    memcpy(q, head, 4); /* one store */
    memcpy(q + 4, &stamp, 8);
    memcpy(q + 12, &d, sizeof(d));
    q += PLUME_HOT_HEADER_;
    if (overlay_len) {
        uint32_t counts[2] = {overlay_len, (uint32_t)overlay};
        memcpy(q, counts, 8);
        q += 8;
    }
    unsigned char *s = q + 8u * n; /* the strings' bytes follow the slots */
#pragma GCC unroll 8
    for (size_t i = 0; i < n; i++) {
        if (f[i].type == PLUME_FIELD_STR) {
            uint64_t slot = len[i]; /* a string's slot: its length in the first 4 bytes */
            memcpy(q + 8u * i, &slot, 8);
            if (len[i] != PLUME_HOT_NULL_STR_) {
                plume_hot_copy_(s, f[i].v.s, len[i]);
                s += len[i];
            }
        } else {
            memcpy(q + 8u * i, &f[i].v, 8);
        }
    }
    if (overlay_len && overlay_bytes) {
        __atomic_signal_fence(__ATOMIC_SEQ_CST); /* the overlay's state before its bytes */
        memcpy(s, overlay_bytes, overlay_len);
    }
}

#if defined(__x86_64__)
#define PLUME_HOT_AVAILABLE_ 1

#if defined(__SANITIZE_THREAD__)
#define PLUME_HOT_TSAN_ 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PLUME_HOT_TSAN_ 1
#endif
#endif

/* Writes the call's site record into the calling thread's ring and returns
 * 1, or returns 0 having touched nothing (the caller then calls the
 * library). `overlay_bytes` is where the thread's overlay pairs are (the
 * library passes them; inlined at a call site it is NULL, and a call under
 * an overlay returns 0). Inlined with the call's count and types constant,
 * the loops unroll and the type tests fold away. */
__attribute__((always_inline)) static inline int
plume_hot_put_(plume_site_t *site, int level, int breadcrumb, const char *category,
               const char *message, const plume_field_t *f_in, size_t n,
               const unsigned char *overlay_bytes)
{
    if (__builtin_expect(n > PLUME_HOT_SITE_FIELDS_, 0))
        return 0;
    /* The stamp first: rdtsc takes ~25 cycles, which the CPU overlaps with
     * the checks below (a call they refuse wastes it). */
    uint64_t stamp = __builtin_ia32_rdtsc();
    /* Inlined at a macro's call (n constant), the caller's fields are
     * copied first: its array may be visible elsewhere, so after the fences
     * below the compiler would read it again from memory; the copy it keeps
     * in registers, with the types known. */
    plume_field_t copy[PLUME_HOT_MAX_FIELDS_];
    const plume_field_t *f = f_in;
    if (__builtin_constant_p(n) && n <= PLUME_HOT_MAX_FIELDS_) {
        plume_hot_fields_copy_(copy, f_in, n);
        f = copy;
    }
    /* Relaxed loads: x86-64 keeps loads in order (each is an acquire in
     * hardware), the descriptor is read through the pointer loaded, and an
     * acquire would also make the compiler reload the caller's fields.
     * ThreadSanitizer models the language, not the CPU: acquire there. */
#if defined(PLUME_HOT_TSAN_)
    const struct plume_site_desc_ *d =
        (const struct plume_site_desc_ *)__atomic_load_n(&site->desc_, __ATOMIC_ACQUIRE);
#else
    const struct plume_site_desc_ *d =
        (const struct plume_site_desc_ *)__atomic_load_n(&site->desc_, __ATOMIC_RELAXED);
#endif
    struct plume_producer_ *p = &plume_hot1_thread_.prod;
    int floor = __atomic_load_n(&plume_hot1_floor_, __ATOMIC_RELAXED);
    /* breadcrumbs have no level of their own: only "off" stops them */
    int below = breadcrumb ? floor >= PLUME_HOT_OFF_ : level < floor || level >= PLUME_LEVEL_ERROR;
    if (__builtin_expect(d == NULL || p->data == NULL || below, 0))
        return 0;
    uint64_t overlay = breadcrumb ? 0 : plume_hot1_thread_.overlay;
    /* every check in one branch: the call is the site's, the thread is free */
    uint64_t differs = plume_hot_differs_(d, breadcrumb, category, message, f, n) |
                       (uint64_t)p->busy | p->unreported_drops |
                       (overlay != 0 && overlay_bytes == NULL);
    if (__builtin_expect(differs != 0, 0))
        return 0;
    uint32_t len[PLUME_HOT_SITE_FIELDS_];
    uint64_t size = plume_hot_measure_(d, f, n, (uint32_t)(overlay >> 32), len);
    /* The flag before the position is read: a signal handler's call that
     * ran before it has finished its record, one after it backs off. */
    p->busy = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    uint64_t end = p->wpos + ((size + PLUME_HOT_RING_HDR_ + 7u) & ~(uint64_t)7u);
    if (__builtin_expect(size > p->max_record || end - p->tail_cache > p->cap, 0)) {
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        p->busy = 0;
        return 0; /* the library reloads the tail, or counts the drop */
    }
    unsigned char *rec = p->data + (p->wpos & (p->cap - 1));
    plume_hot_write_(rec + PLUME_HOT_RING_HDR_, d, stamp, level, breadcrumb, f, n, len, overlay,
                     overlay_bytes);
    uint32_t len32 = (uint32_t)size; /* the ring's length header, little-endian */
    memcpy(rec, &len32, 4);
    p->wpos = end;
    __atomic_store_n(p->head, end, __ATOMIC_RELEASE);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    p->busy = 0;
    if (__builtin_expect(end - p->tail_cache > p->cap / 2, 0))
        plume_hot1_filling_();
    return 1;
}
#endif /* x86-64 */
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif /* C, GCC or clang */

#ifdef __cplusplus
}
#endif

#endif
