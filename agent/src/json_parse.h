/* SPDX-License-Identifier: MIT */
/* Strict RFC 8259 JSON to msgpack, in one pass.
 *
 * This is the hot path of the stdin collector: every JSON log line goes through
 * it. The parser reads the text once and writes msgpack straight into the
 * caller's plume_buf_t (no tree, no per-value allocation):
 *   object -> map (key order and duplicate keys kept), array -> array,
 *   string -> str (escapes decoded, \u0000 gives a NUL byte, a lone surrogate
 *   escape gives U+FFFD), integer fitting int64/uint64 -> int/uint, any other
 *   number -> float64 (correctly rounded, independent of the C locale; a huge
 *   exponent gives +-inf or 0), true/false/null -> bool/nil.
 * Containers are written with the shortest header once their size is known.
 * Input is bounded only by the caller; nesting is bounded by max_depth, and on
 * any error the output buffer is restored to its length on entry.
 *
 * A second mode only validates (plume_json_validate, plume_json_object_scan):
 * it accepts exactly what the converter accepts and fails with the same
 * message at the same offset, but writes nothing, so a caller can check a
 * document once and copy its text (the stdin collector's pass-through). */
#ifndef PLUME_JSON_PARSE_H
#define PLUME_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PLUME_JSON_DEFAULT_MAX_DEPTH 128u
#define PLUME_JSON_MAX_DEPTH_LIMIT 1024u /* larger max_depth values are clamped */

typedef enum plume_json_status {
    PLUME_JSON_OK = 0,
    PLUME_JSON_ESYNTAX, /* the text is not JSON (or not UTF-8) */
    PLUME_JSON_EDEPTH,  /* nesting deeper than max_depth */
    PLUME_JSON_ETOOBIG, /* a string or container too large for msgpack */
    PLUME_JSON_EOUTPUT, /* the output buffer reached its maximum */
    PLUME_JSON_ESTOPPED, /* plume_json_object_scan: the callback asked to stop */
} plume_json_status_t;

typedef struct plume_json_error {
    plume_json_status_t status;
    size_t offset; /* byte offset in the input where the problem was found */
    char msg[128]; /* e.g. "unexpected character 'x' at offset 17" */
} plume_json_error_t;

typedef struct plume_json_opts {
    unsigned max_depth; /* containers nested deeper fail; 0 = default (128) */
    bool assume_utf8;   /* the caller validated the input: skip UTF-8 checks */
} plume_json_opts_t;

/* Converts the JSON document s[0..n) (one value, optional whitespace around it)
 * to one msgpack value appended to out. Returns true on success. On failure
 * returns false, fills *err (if err is not NULL) and leaves out->len as it was
 * (out->failed stays set when the reason is PLUME_JSON_EOUTPUT). s need not be
 * NUL-terminated. opts may be NULL for defaults. */
bool plume_json_to_mp(const char *s, size_t n, plume_buf_t *out, plume_json_error_t *err);
bool plume_json_to_mp_opts(const char *s, size_t n, plume_buf_t *out,
                           const plume_json_opts_t *opts, plume_json_error_t *err);

/* One member of the top-level object, as seen by plume_json_object_walk(). */
typedef struct plume_json_member {
    const char *key;  /* the decoded key (in out->data; valid during the callback) */
    size_t key_len;
    size_t key_off;   /* offset in out->data of the key (a msgpack str) */
    size_t value_off; /* offset in out->data of the value's msgpack */
    const char *raw;  /* the value's JSON text in the input (not terminated) */
    size_t raw_len;
} plume_json_member_t;

/* Called after each member has been written to out. `out` must not be modified
 * (pointers into out->data are valid during the call only). Return true to
 * keep the member, false to drop it (the walker removes its bytes). */
typedef bool (*plume_json_member_fn)(void *ctx, const plume_buf_t *out,
                                     const plume_json_member_t *m);

/* Parses s[0..n), which must be one JSON object (whitespace around it is
 * allowed), writing its members to out as msgpack key/value pairs WITHOUT a map
 * header: the caller writes the header (e.g. plume_event_fields_begin) and uses
 * *kept as the count. The top-level object counts as depth 1. fn may be NULL
 * (keep everything). On failure: false, *err filled, out->len restored. */
bool plume_json_object_walk(const char *s, size_t n, plume_buf_t *out,
                            const plume_json_opts_t *opts, plume_json_member_fn fn,
                            void *ctx, uint32_t *kept, plume_json_error_t *err);

/* ---- validation without conversion ---- */

/* Facts the validator notices on the way, for callers that copy JSON text
 * instead of converting it and want to know where the two may differ. */
enum {
    /* a \u escape of an unpaired surrogate: converting gives U+FFFD, other
     * JSON readers may keep or refuse it */
    PLUME_JSON_SCAN_LONE_SURROGATE = 1,
    /* a number of magnitude beyond 1e300 or below 1e-300 (or with an exponent
     * beyond +-300): converting may give +-inf (written as null) or 0 */
    PLUME_JSON_SCAN_EXTREME_NUMBER = 2,
};

/* Validates the JSON document s[0..n) exactly as plume_json_to_mp_opts()
 * would (same verdict, same err->status/offset/msg on failure; output errors
 * cannot happen) without converting it. *flags (may be NULL) receives the
 * PLUME_JSON_SCAN_* bits. Strings are scanned 16 bytes at a time, numbers are
 * checked by their grammar only. */
bool plume_json_validate(const char *s, size_t n, const plume_json_opts_t *opts, unsigned *flags,
                         plume_json_error_t *err);

/* One member of the top-level object, as seen by plume_json_object_scan(). */
typedef struct plume_json_span {
    const char *key;   /* the decoded key: into the input when key_escaped is
                          false, else a temporary copy valid during the call */
    size_t key_len;
    bool key_escaped;  /* the key's text holds escapes */
    const char *raw;   /* the value's JSON text in the input (not terminated) */
    size_t raw_len;
    bool raw_escaped;  /* the value is a string whose text holds escapes */
} plume_json_span_t;

/* Called for each member once its value has been validated. Return true to
 * go on, false to stop the scan (it then fails with PLUME_JSON_ESTOPPED). */
typedef bool (*plume_json_span_fn)(void *ctx, const plume_json_span_t *m);

/* What plume_json_object_scan() found besides the members. */
typedef struct plume_json_scan_info {
    size_t obj_off;   /* offset of the object's '{' */
    size_t obj_len;   /* its length, up to and including the '}' */
    uint32_t members; /* top-level members seen */
    unsigned flags;   /* PLUME_JSON_SCAN_* bits */
} plume_json_scan_info_t;

/* Validates s[0..n), which must be one JSON object (whitespace around it is
 * allowed), exactly as plume_json_object_walk() would (same verdict and
 * errors; the top-level object counts as depth 1), reporting each top-level
 * member to fn (may be NULL) without converting anything. info may be NULL.
 * Returns true on success. */
bool plume_json_object_scan(const char *s, size_t n, const plume_json_opts_t *opts,
                            plume_json_span_fn fn, void *ctx, plume_json_scan_info_t *info,
                            plume_json_error_t *err);

/* Tests and benchmarks only: true makes plume_json_object_scan() skip its
 * fast path and always use the exact scanner (process-wide, not thread-safe).
 * Both give the same results on every input; this lets tests compare them. */
void plume_json_scan_force_exact(bool on);

/* Decodes the text between the quotes of a JSON string that has been
 * validated (s[0..n) without the quotes) into dst, which must hold n bytes:
 * the decoded text is never longer. Decodes exactly as the converter does
 * (\u0000 gives NUL, an unpaired surrogate escape U+FFFD). Bytes that do not
 * form a valid escape are copied as they are. Returns the decoded length. */
size_t plume_json_unescape(const char *s, size_t n, char *dst);

#endif
