/* SPDX-License-Identifier: MIT */
/* Fuzzes scrubbing (sdk/src/scrub.c) and the record fast path's scrubbing
 * (record_json.c). The crash delivery renders msgpack read back from report
 * files on disk through plume_scrub_write_mp_json(), so its input is
 * untrusted. Input: one byte k (names: k % 8), then k names, each a length
 * byte (% 16) and its bytes, then msgpack. Oracles:
 *  - plume_scrub_key() agrees with a naive case-insensitive substring search;
 *  - a successful scrubbing JSON write is valid JSON and consumed exactly one
 *    msgpack value (what plume_mp_skip() consumes);
 *  - the scrubbing msgpack copy succeeds exactly when the JSON write does,
 *    and rendering the copy gives the same text (the same values filtered);
 *  - with no names, the text is plume_json_write_mp()'s;
 *  - a record's scrubbed members are valid JSON, and equal the plain
 *    writer's text when scrubbing is off. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_parse.h"
#include "json_write.h"
#include "mp.h"
#include "record.h"
#include "record_json.h"
#include "scrub.h"

static unsigned char low(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* The matcher's definition, slowly. */
static bool naive_match(char names[][16], const size_t *lens, size_t n, const uint8_t *k,
                        size_t kn)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = lens[i];
        if (len == 0 || len > kn)
            continue;
        for (size_t at = 0; at + len <= kn; at++) {
            size_t j = 0;
            while (j < len && low(k[at + j]) == low((unsigned char)names[i][j]))
                j++;
            if (j == len)
                return true;
        }
    }
    return false;
}

static bool valid_json(const plume_buf_t *b)
{
    plume_json_opts_t opts = {.max_depth = 1024};
    unsigned flags;
    return plume_json_validate((const char *)b->data, b->len, &opts, &flags, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t k = data[0] % 8, pos = 1;
    char names[8][16];
    size_t lens[8];
    const char *ptrs[8];
    size_t n = 0;
    for (size_t i = 0; i < k && pos < size; i++) {
        size_t len = data[pos++] % 16;
        if (len > size - pos)
            len = size - pos;
        memcpy(names[n], data + pos, len);
        names[n][len] = '\0';
        lens[n] = strlen(names[n]); /* a NUL inside ends the name, as for C strings */
        ptrs[n] = names[n];
        n++;
        pos += len;
    }
    const uint8_t *mp = data + pos;
    size_t mpn = size - pos;

    plume_scrub_t s, off;
    if (!plume_scrub_init_names(&s, ptrs, n) || !plume_scrub_init_names(&off, NULL, 0))
        abort();
    if (plume_scrub_key(&s, (const char *)mp, mpn < 64 ? mpn : 64) !=
        naive_match(names, lens, n, mp, mpn < 64 ? mpn : 64))
        abort();

    plume_buf_t json, copy, again, plain;
    plume_buf_init(&json, 1u << 22);
    plume_buf_init(&copy, 1u << 22);
    plume_buf_init(&again, 1u << 22);
    plume_buf_init(&plain, 1u << 22);
    plume_mp_reader_t a, b, c;
    plume_mp_reader_init(&a, mp, mpn);
    plume_mp_reader_init(&b, mp, mpn);
    plume_mp_reader_init(&c, mp, mpn);
    bool ok_json = plume_scrub_write_mp_json(&json, &a, &s);
    bool ok_copy = plume_scrub_copy_mp(&copy, &b, &s);
    bool ok_skip = plume_mp_skip(&c);
    if (ok_json) {
        if (!valid_json(&json) || !ok_skip || a.p != c.p)
            abort();
        plume_mp_reader_t r;
        plume_mp_reader_init(&r, copy.data, copy.len);
        if (ok_copy && plume_json_write_mp(&again, &r) &&
            (again.len != json.len || memcmp(again.data, json.data, json.len) != 0))
            abort();
    }
    if (ok_copy != ok_json && !json.failed && !copy.failed)
        abort(); /* same walk, same verdict (unless an output filled up) */
    if (ok_copy && (!ok_skip || b.p != c.p))
        abort();

    /* no names: the plain writer's text */
    plume_buf_reset(&json);
    plume_mp_reader_init(&a, mp, mpn);
    plume_mp_reader_init(&b, mp, mpn);
    bool ok_off = plume_scrub_write_mp_json(&json, &a, &off);
    bool ok_plain = plume_json_write_mp(&plain, &b);
    if (ok_off != ok_plain ||
        (ok_off && (json.len != plain.len || memcmp(json.data, plain.data, json.len) != 0)))
        abort();

    /* the pairs writer on the same bytes (at most 4 pairs) */
    plume_buf_reset(&json);
    plume_buf_append(&json, "{\"x\":0", 6);
    plume_mp_reader_init(&a, mp, mpn);
    if (plume_scrub_write_mp_members(&json, &a, mpn ? mp[0] % 5 : 0, &s)) {
        plume_buf_append(&json, "}", 1);
        if (!json.failed && !valid_json(&json))
            abort();
    }

    /* a record's members */
    plume_record_view_t v;
    if (plume_record_read(mp, mpn, &v)) {
        unsigned hints = 0;
        plume_buf_reset(&json);
        plume_buf_reset(&plain);
        plume_buf_append(&json, "{\"x\":0", 6);
        if (plume_record_json_members_scrub(&json, v.fields, v.fields_len, &hints, &s)) {
            plume_buf_append(&json, "}", 1);
            if (!valid_json(&json))
                abort();
        } else if (json.len != 6) {
            abort(); /* a refused map leaves nothing behind */
        }
        plume_buf_reset(&json);
        bool p1 = plume_record_json_members_scrub(&json, v.fields, v.fields_len, &hints, &off);
        bool p2 = plume_record_json_members(&plain, v.fields, v.fields_len, &hints);
        if (p1 != p2 || (p1 && (json.len != plain.len || memcmp(json.data, plain.data, json.len))))
            abort();
    }

    plume_buf_free(&json);
    plume_buf_free(&copy);
    plume_buf_free(&again);
    plume_buf_free(&plain);
    plume_scrub_free(&s);
    plume_scrub_free(&off);
    return 0;
}
