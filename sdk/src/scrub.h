/* SPDX-License-Identifier: MIT */
/* Scrubbing: field values whose key looks secret are replaced by
 * "[Filtered]" before any sink sees the event.
 *
 * The names come from the options (plume_options_set_scrub_fields; default
 * password, passwd, secret, token, api_key, authorization, cookie). A key
 * matches when one of the names occurs in it as a substring, compared
 * case-insensitively (ASCII): "X-Auth-Token" and "db_password" match
 * "token" and "password". Only string keys of maps are checked, at any depth
 * (record fields, thread overlay, scope contexts/user/tags, breadcrumb data);
 * the whole value of a matching key is replaced, whatever its type (a map
 * too). An empty list turns scrubbing off: plume_scrub_key() then costs one
 * compare.
 *
 * A plume_scrub_t is built once (plume_scrub_init) and then only read: it may
 * be shared by threads. Nothing here is async-signal-safe (init allocates). */
#ifndef PLUME_SDK_SCRUB_H
#define PLUME_SDK_SCRUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mp.h"
#include "options.h"

#define PLUME_SCRUB_FILTERED "[Filtered]"
#define PLUME_SCRUB_MAX_NAME 256u /* longer names are refused by init (never match) */

typedef struct plume_scrub {
    uint32_t n;                           /* names kept; 0: scrubbing off */
    uint32_t min_len;                     /* the shortest name's length */
    uint64_t first[256];                  /* bit i set for byte b: names[i] starts with
                                           * b in either case */
    char *arena;                          /* the names, lower-cased, NUL-terminated */
    uint32_t off[PLUME_MAX_SCRUB_FIELDS]; /* names[i] = arena + off[i] */
    uint32_t len[PLUME_MAX_SCRUB_FIELDS];
} plume_scrub_t;

/* Builds the matcher from o->scrub_fields (copied: o may be freed after).
 * Empty names are skipped. False when out of memory (s is then a valid
 * matcher that scrubs nothing; plume_scrub_free is still allowed). */
bool plume_scrub_init(plume_scrub_t *s, const plume_options_t *o);
/* The same from a plain list (tests, and callers without options). */
bool plume_scrub_init_names(plume_scrub_t *s, const char *const *names, size_t n);
void plume_scrub_free(plume_scrub_t *s);

/* True when scrubbing is on. */
static inline bool plume_scrub_active(const plume_scrub_t *s) { return s && s->n != 0; }

/* The scan behind plume_scrub_key() for a key at least min_len long (s
 * active). */
bool plume_scrub_key_scan(const plume_scrub_t *s, const char *k, size_t n);

/* True when the key k[0..n) (not NUL-terminated, any bytes) contains one of
 * the names, ignoring ASCII case. NULL s matches nothing. Inline (C99: scrub.c
 * holds the external definition) so that a key shorter than every name, the
 * common case, costs a compare in the caller. */
inline bool plume_scrub_key(const plume_scrub_t *s, const char *k, size_t n)
{
    if (!s || n < s->min_len || s->n == 0)
        return false;
    return plume_scrub_key_scan(s, k, n);
}

/* Like plume_json_write_mp() (json_write.h): reads one complete msgpack value
 * from rd and appends it to out as JSON, except that in every map (at any
 * depth, inside arrays too) the value of a string key plume_scrub_key()
 * matches is skipped and written as "[Filtered]". s NULL or inactive gives
 * exactly plume_json_write_mp()'s text. The value is checked whole first
 * (plume_mp_skip(): bounded, 64 levels), then written. False on malformed or
 * too deep msgpack or when out failed; then rd and the bytes appended are
 * unspecified (truncate out back). */
bool plume_scrub_write_mp_json(plume_buf_t *out, plume_mp_reader_t *rd, const plume_scrub_t *s);

/* The same for `npairs` msgpack key/value pairs with no map header (the
 * scope's encoded pairs): appends each as a JSON member ",\"key\":value".
 * Same failure rules. */
bool plume_scrub_write_mp_members(plume_buf_t *out, plume_mp_reader_t *rd, uint32_t npairs,
                                  const plume_scrub_t *s);

/* Copies one msgpack value from rd to out as msgpack, replacing the values
 * of matching keys at any depth with the str "[Filtered]" (the shape the
 * before_send path re-encodes with). Same failure rules. */
bool plume_scrub_copy_mp(plume_buf_t *out, plume_mp_reader_t *rd, const plume_scrub_t *s);

#endif
