/* SPDX-License-Identifier: MIT */
/* Scrubbing secret-looking fields: the key matcher and the msgpack walkers
 * that apply it while rendering JSON or copying msgpack. See scrub.h.
 *
 * The matcher keeps, for every byte value, a bit set of the names that start
 * with it (in either case), so a key is scanned once and a name is compared
 * only where its first letter occurs; keys shorter than the shortest name are
 * refused at once. */
#include "scrub.h"

#include <stdlib.h>
#include <string.h>

#include "json_write.h"

#define MAX_DEPTH 64 /* containers nested deeper are refused, as by plume_mp_skip() */

static inline unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

bool plume_scrub_init_names(plume_scrub_t *s, const char *const *names, size_t n)
{
    memset(s, 0, sizeof(*s));
    size_t total = 0;
    for (size_t i = 0; i < n && names; i++) {
        size_t len = names[i] ? strnlen(names[i], PLUME_SCRUB_MAX_NAME + 1) : 0;
        if (len > 0 && len <= PLUME_SCRUB_MAX_NAME)
            total += len + 1;
    }
    if (total == 0)
        return true; /* scrubbing off */
    s->arena = malloc(total);
    if (!s->arena)
        return false;
    uint32_t used = 0;
    for (size_t i = 0; i < n && s->n < PLUME_MAX_SCRUB_FIELDS; i++) {
        size_t len = names[i] ? strnlen(names[i], PLUME_SCRUB_MAX_NAME + 1) : 0;
        if (len == 0 || len > PLUME_SCRUB_MAX_NAME)
            continue;
        char *d = s->arena + used;
        for (size_t j = 0; j < len; j++)
            d[j] = (char)lower((unsigned char)names[i][j]);
        d[len] = '\0';
        uint32_t k = s->n++;
        s->off[k] = used;
        s->len[k] = (uint32_t)len;
        used += (uint32_t)len + 1;
        unsigned char f = (unsigned char)d[0];
        s->first[f] |= 1ull << k;
        if (f >= 'a' && f <= 'z')
            s->first[f - 32] |= 1ull << k;
        if (k == 0 || len < s->min_len)
            s->min_len = (uint32_t)len;
    }
    return true;
}

bool plume_scrub_init(plume_scrub_t *s, const plume_options_t *o)
{
    if (!o) {
        memset(s, 0, sizeof(*s));
        return true;
    }
    return plume_scrub_init_names(s, (const char *const *)o->scrub_fields, o->n_scrub_fields);
}

void plume_scrub_free(plume_scrub_t *s)
{
    free(s->arena);
    memset(s, 0, sizeof(*s));
}

extern inline bool plume_scrub_key(const plume_scrub_t *s, const char *k, size_t n);

bool plume_scrub_key_scan(const plume_scrub_t *s, const char *k, size_t n)
{
    const unsigned char *p = (const unsigned char *)k;
    for (size_t i = 0; i + s->min_len <= n; i++) {
        uint64_t cand = s->first[p[i]];
        while (cand) {
            unsigned j = (unsigned)__builtin_ctzll(cand);
            cand &= cand - 1;
            uint32_t len = s->len[j];
            if (len > n - i)
                continue;
            const unsigned char *name = (const unsigned char *)s->arena + s->off[j];
            uint32_t m = 1;
            while (m < len && lower(p[i + m]) == name[m])
                m++;
            if (m == len)
                return true;
        }
    }
    return false;
}

/* The key at rd (one msgpack value, not consumed): whether it is a string
 * the matcher refuses. */
static bool key_matches(const plume_mp_reader_t *rd, const plume_scrub_t *s)
{
    plume_mp_reader_t peek = *rd;
    plume_mp_value_t v;
    return plume_mp_read(&peek, &v) && v.type == PLUME_MP_STR && plume_scrub_key(s, v.s, v.len);
}

static bool write_json(plume_buf_t *out, plume_mp_reader_t *rd, const plume_scrub_t *s,
                       unsigned depth);

/* The value after a key: "[Filtered]" (skipping it) when the key matched. */
static bool write_json_member_value(plume_buf_t *out, plume_mp_reader_t *rd,
                                    const plume_scrub_t *s, bool filtered, unsigned depth)
{
    if (filtered) {
        plume_buf_append(out, "\"" PLUME_SCRUB_FILTERED "\"", sizeof(PLUME_SCRUB_FILTERED) + 1);
        return plume_mp_skip(rd) && !out->failed;
    }
    return write_json(out, rd, s, depth);
}

/* One value as JSON; maps and arrays are walked here (so the keys inside
 * are checked), scalars go to plume_json_write_mp(). */
static bool write_json(plume_buf_t *out, plume_mp_reader_t *rd, const plume_scrub_t *s,
                       unsigned depth)
{
    plume_mp_reader_t peek = *rd;
    plume_mp_value_t v;
    if (!plume_mp_read(&peek, &v))
        return false;
    if (v.type != PLUME_MP_MAP && v.type != PLUME_MP_ARRAY)
        return plume_json_write_mp(out, rd);
    if (depth > MAX_DEPTH)
        return false;
    *rd = peek;
    if (v.type == PLUME_MP_ARRAY) {
        plume_buf_append_byte(out, '[');
        for (uint32_t i = 0; i < v.count; i++) {
            if (i)
                plume_buf_append_byte(out, ',');
            if (!write_json(out, rd, s, depth + 1))
                return false;
        }
        plume_buf_append_byte(out, ']');
        return !out->failed;
    }
    plume_buf_append_byte(out, '{');
    for (uint32_t i = 0; i < v.count; i++) {
        if (i)
            plume_buf_append_byte(out, ',');
        bool filtered = key_matches(rd, s);
        if (!plume_json_write_mp_key(out, rd))
            return false;
        plume_buf_append_byte(out, ':');
        if (!write_json_member_value(out, rd, s, filtered, depth + 1))
            return false;
    }
    plume_buf_append_byte(out, '}');
    return !out->failed;
}

/* True when one whole value of acceptable depth starts at rd (the walkers
 * below check it first, so that what they accept is exactly what
 * plume_mp_skip() accepts, keys that are containers included). */
static bool whole_value(const plume_mp_reader_t *rd)
{
    plume_mp_reader_t probe = *rd;
    return plume_mp_skip(&probe);
}

bool plume_scrub_write_mp_json(plume_buf_t *out, plume_mp_reader_t *rd, const plume_scrub_t *s)
{
    if (!plume_scrub_active(s))
        return plume_json_write_mp(out, rd);
    return whole_value(rd) && write_json(out, rd, s, 0);
}

bool plume_scrub_write_mp_members(plume_buf_t *out, plume_mp_reader_t *rd, uint32_t npairs,
                                  const plume_scrub_t *s)
{
    bool active = plume_scrub_active(s);
    for (uint32_t i = 0; i < npairs; i++) {
        plume_buf_append_byte(out, ',');
        bool filtered = active && key_matches(rd, s);
        if (!plume_json_write_mp_key(out, rd))
            return false;
        plume_buf_append_byte(out, ':');
        bool ok = active ? write_json_member_value(out, rd, s, filtered, 1)
                         : plume_json_write_mp(out, rd);
        if (!ok)
            return false;
    }
    return !out->failed;
}

/* One value copied as msgpack, filtering inside maps. */
static bool copy_mp(plume_buf_t *out, plume_mp_reader_t *rd, const plume_scrub_t *s,
                    unsigned depth)
{
    const uint8_t *start = rd->p;
    plume_mp_value_t v;
    if (!plume_mp_read(rd, &v))
        return false;
    if (v.type != PLUME_MP_MAP && v.type != PLUME_MP_ARRAY) {
        rd->p = start;
        if (!plume_mp_skip(rd))
            return false;
        return plume_buf_append(out, start, (size_t)(rd->p - start));
    }
    if (depth > MAX_DEPTH)
        return false;
    plume_buf_append(out, start, (size_t)(rd->p - start)); /* the header as it was */
    if (v.type == PLUME_MP_ARRAY) {
        for (uint32_t i = 0; i < v.count; i++)
            if (!copy_mp(out, rd, s, depth + 1))
                return false;
        return !out->failed;
    }
    for (uint32_t i = 0; i < v.count; i++) {
        bool filtered = key_matches(rd, s);
        /* the key as it is (a key that is itself a container is not
         * walked, as the JSON writer renders it verbatim too) */
        const uint8_t *key = rd->p;
        if (!plume_mp_skip(rd) || !plume_buf_append(out, key, (size_t)(rd->p - key)))
            return false;
        if (filtered) {
            if (!plume_mp_skip(rd))
                return false;
            plume_mp_str(out, PLUME_SCRUB_FILTERED, sizeof(PLUME_SCRUB_FILTERED) - 1);
        } else if (!copy_mp(out, rd, s, depth + 1)) {
            return false;
        }
    }
    return !out->failed;
}

bool plume_scrub_copy_mp(plume_buf_t *out, plume_mp_reader_t *rd, const plume_scrub_t *s)
{
    return whole_value(rd) && copy_mp(out, rd, s, 0);
}
