/* SPDX-License-Identifier: MIT */
/* Learning a call site and expanding its records. See site.h. */
#include "site.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "mp_put.h"


const plume_site_desc_t plume_site_ordinary = {.message = (const char *)&plume_site_ordinary,
                                                .nfields = UINT32_MAX};

/* Every descriptor ever made (they are never freed). */
static _Atomic(plume_site_rest_t *) all_descs;

/* A literal the site can keep by pointer: its size is known at compile time
 * (strlen + 1) and it does not live on this thread's stack. A literal has
 * static storage; a constant-length array on the caller's stack would be at
 * the same address on the next call only by chance, so it is refused here
 * (the stack grows down from the caller's frame: within 8 MiB above ours). */
static bool keepable(const char *s, unsigned size)
{
    if (!s || size == 0)
        return false;
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    return (uintptr_t)s - here >= ((uintptr_t)8 << 20);
}

/* Bytes of the msgpack str (header + bytes) for a string of n bytes. */
static size_t str_size(size_t n) { return plume_str_header_size(n) + n; }

static size_t capped(unsigned size, size_t cap)
{
    return size - 1u < cap ? size - 1u : cap;
}

/* A new descriptor for the call, or NULL when it cannot be a site. One
 * allocation: the part the fast path checks (plume_hot.h), its rest
 * (site.h), then the encoded strings. */
static plume_site_desc_t *describe(bool breadcrumb, const char *category, unsigned category_size,
                                   const char *message, unsigned message_size,
                                   const plume_field_t *fields, size_t nfields)
{
    if (nfields > PLUME_HOT_SITE_FIELDS_ || (nfields && !fields))
        return NULL;
    if (message && !keepable(message, message_size))
        return NULL;
    if (breadcrumb && category && !keepable(category, category_size))
        return NULL;
    size_t msg_len = message ? capped(message_size, PLUME_RECORD_MAX_MESSAGE) : 0;
    size_t cat_len = category ? capped(category_size, PLUME_RECORD_MAX_CATEGORY) : 0;
    size_t enc = message ? str_size(msg_len) : 1;
    if (breadcrumb)
        enc += category ? str_size(cat_len) : 1;
    uint64_t types = 0;
    for (size_t i = 0; i < nfields; i++) {
        const plume_field_t *f = &fields[i];
        if (!keepable(f->key, f->key_size_) || (unsigned)f->type > PLUME_FIELD_BOOL)
            return NULL;
        enc += str_size(capped(f->key_size_, PLUME_RECORD_MAX_KEY));
        types |= (uint64_t)f->type << (4u * i);
    }
    size_t head = sizeof(plume_site_desc_t) + nfields * sizeof(const char *) +
                  sizeof(plume_site_rest_t) + nfields * sizeof(uint32_t);
    plume_site_desc_t *d = calloc(1, head + enc);
    if (!d)
        return NULL;
    d->message = message;
    d->category = breadcrumb ? category : NULL;
    d->types = types;
    d->nfields = (uint32_t)nfields;
    d->fixed_size = PLUME_SITE_HEADER + 8u * (uint32_t)nfields;
    plume_site_rest_t *rest = plume_site_rest(d);
    rest->breadcrumb = breadcrumb;
    rest->enc = (uint8_t *)d + head;
    uint8_t *p = rest->enc;
    if (message)
        p = plume_put_str(p, message, msg_len);
    else
        *p++ = 0xc0;
    rest->head_len = (uint32_t)(p - rest->enc);
    for (size_t i = 0; i < nfields; i++) {
        const plume_field_t *f = &fields[i];
        d->key[i] = f->key;
        uint8_t *start = p;
        p = plume_put_str(p, f->key, capped(f->key_size_, PLUME_RECORD_MAX_KEY));
        rest->key_len[i] = (uint32_t)(p - start);
    }
    uint8_t *tail = p;
    if (breadcrumb) {
        if (category)
            p = plume_put_str(p, category, cat_len);
        else
            *p++ = 0xc0;
    }
    rest->tail_len = (uint32_t)(p - tail);
    rest->enc_size = (uint32_t)(p - rest->enc);
    return d;
}

const plume_site_desc_t *plume_site_learn(plume_site_t *site, bool breadcrumb,
                                          const char *category, unsigned category_size,
                                          const char *message, unsigned message_size,
                                          const plume_field_t *fields, size_t nfields)
{
    plume_site_desc_t *d =
        describe(breadcrumb, category, category_size, message, message_size, fields, nfields);
    void *expect = NULL;
    if (!d) {
        __atomic_compare_exchange_n(&site->desc_, &expect, PLUME_SITE_ORDINARY, false,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
        return NULL;
    }
    /* Two threads may learn the same site at once: the first one's stays. */
    if (!__atomic_compare_exchange_n(&site->desc_, &expect, d, false, __ATOMIC_RELEASE,
                                     __ATOMIC_ACQUIRE)) {
        free(d);
        return expect == PLUME_SITE_ORDINARY ? NULL : expect;
    }
    plume_site_rest_t *rest = plume_site_rest(d);
    plume_site_rest_t *head = atomic_load_explicit(&all_descs, memory_order_relaxed);
    do {
        rest->next_all = head;
    } while (!atomic_compare_exchange_weak_explicit(&all_descs, &head, rest,
                                                    memory_order_release, memory_order_relaxed));
    return d;
}

/* The values of a site record, read back; each check keeps the reader
 * inside the record. */
typedef struct reader {
    const uint8_t *p, *end;
} reader_t;

static bool take(reader_t *r, void *dst, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return false;
    memcpy(dst, r->p, n);
    r->p += n;
    return true;
}

/* The value of field i (its 8-byte slot; strings: their bytes from *str,
 * which moves past them) at o, whose room the caller checked; NULL when the
 * record is malformed. */
static uint8_t *expand_value(const uint8_t *slot, uint8_t type, reader_t *str, uint8_t *o)
{
    switch (type) {
    case PLUME_FIELD_STR: {
        uint32_t n;
        memcpy(&n, slot, 4);
        if (n == PLUME_SITE_NULL_STR) {
            *o++ = 0xc0;
            return o;
        }
        if (n > PLUME_RECORD_MAX_VALUE || (size_t)(str->end - str->p) < n)
            return NULL;
        o = plume_put_str(o, (const char *)str->p, n);
        str->p += n;
        return o;
    }
    case PLUME_FIELD_BOOL: {
        int b;
        memcpy(&b, slot, sizeof(b));
        *o++ = b ? 0xc3 : 0xc2;
        return o;
    }
    default: {
        uint64_t v;
        memcpy(&v, slot, 8);
        return plume_put_be64(o, type == PLUME_FIELD_I64 ? 0xd3 : type == PLUME_FIELD_U64 ? 0xcf : 0xcb,
                        v);
    }
    }
}

bool plume_site_expand(const uint8_t *rec, size_t len, plume_buf_t *out)
{
    plume_buf_reset(out);
    if (len < PLUME_SITE_HEADER || rec[0] != PLUME_SITE_TAG)
        return false;
    uint8_t level = rec[1] & 0x7f;
    bool breadcrumb = (rec[1] & PLUME_SITE_BREADCRUMB) != 0;
    bool overlay = (rec[2] & PLUME_SITE_OVERLAY) != 0;
    uint64_t stamp;
    const plume_site_desc_t *d;
    memcpy(&stamp, rec + 4, 8);
    memcpy(&d, rec + 12, sizeof(d));
    if (!d || level > PLUME_LEVEL_FATAL || d->nfields > PLUME_HOT_SITE_FIELDS_)
        return false;
    const plume_site_rest_t *rest = plume_site_rest(d);
    if (breadcrumb != rest->breadcrumb)
        return false;
    reader_t r = {rec + PLUME_SITE_HEADER, rec + len};
    uint32_t pairs_len = 0, npairs = 0;
    if (overlay && (!take(&r, &pairs_len, 4) || !take(&r, &npairs, 4) ||
                    npairs > 0xffffu - d->nfields))
        return false;
    /* Every value grows by at most one byte: 8 -> 9 for numbers, and a
     * string's header (at most 5) is smaller than its slot. */
    if (!plume_buf_reserve(out, 14u + rest->enc_size + len + d->nfields))
        return false;
    uint8_t *o = out->data;
    *o++ = breadcrumb ? 0x95 : 0x94;
    o = plume_put_be64(o, 0xcf, stamp);
    *o++ = level;
    const uint8_t *enc = rest->enc;
    plume_hot_copy_(o, (const char *)enc, rest->head_len);
    o += rest->head_len;
    enc += rest->head_len;
    uint32_t n = d->nfields + npairs;
    if (n < 16) {
        *o++ = (uint8_t)(0x80 | n);
    } else {
        *o++ = 0xde;
        *o++ = (uint8_t)(n >> 8);
        *o++ = (uint8_t)n;
    }
    const uint8_t *slots = r.p;
    if ((size_t)(r.end - r.p) < 8u * d->nfields)
        return false;
    r.p += 8u * d->nfields; /* now at the strings' bytes */
    for (uint32_t i = 0; i < d->nfields; i++) {
        plume_hot_copy_(o, (const char *)enc, rest->key_len[i]);
        o += rest->key_len[i];
        enc += rest->key_len[i];
        unsigned type = (unsigned)(d->types >> (4u * i)) & 15u;
        if (!(o = expand_value(slots + 8u * i, type, &r, o)))
            return false;
    }
    if ((size_t)(r.end - r.p) != pairs_len)
        return false;
    plume_hot_copy_(o, (const char *)r.p, pairs_len);
    o += pairs_len;
    if (breadcrumb) {
        plume_hot_copy_(o, (const char *)enc, rest->tail_len);
        o += rest->tail_len;
    }
    out->len = (size_t)(o - out->data);
    return true;
}
