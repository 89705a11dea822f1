/* SPDX-License-Identifier: MIT */
/* logfmt record parser with go-logfmt semantics.
 *
 * One record is one line of `key=value` pairs. As in go-logfmt's Decoder
 * (the reference; see ../shared/conformance/logfmt/go-logfmt-decode.json):
 * bytes <= 0x20 outside quotes separate pairs; a key runs up to '=' or
 * whitespace and may not contain '"' or be empty; a bare key or `key=` with
 * nothing after it has no value; an unquoted value runs to the next whitespace
 * and may not contain '=' or '"'; a quoted value uses JSON-style escapes
 * (\" \\ \/ \' \b \f \n \r \t \uXXXX) and `key=""` also counts as no value.
 * Syntax errors carry go-logfmt's message and the 0-based byte offset where it
 * stops (its "pos" is offset + 1): "unexpected '='", "unexpected '\"'",
 * "unterminated quoted value", "invalid quoted value", "invalid key" (a key
 * holding U+FFFD or invalid UTF-8). Bytes are otherwise passed through as
 * they are: callers sanitize UTF-8 first if they need it valid.
 *
 * The iterator never allocates; an escaped value is unescaped into the
 * caller's scratch buffer if one is given, or left to plume_logfmt_unescape(). */
#ifndef PLUME_LOGFMT_H
#define PLUME_LOGFMT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

typedef struct plume_logfmt_pair {
    const char *key; /* points into the input; never empty */
    size_t key_len;
    const char *value; /* input bytes, or scratch bytes once unescaped */
    size_t value_len;
    bool has_value;   /* false: bare key, `key=`, or `key=""` */
    bool has_equals;  /* the key was followed by '=' */
    bool quoted;      /* the value was in double quotes */
    bool escaped;     /* value is still raw quoted text with escapes (no scratch given):
                         plume_logfmt_unescape() gives the decoded_len bytes */
    size_t decoded_len; /* length of the value once unescaped */
} plume_logfmt_pair_t;

typedef struct plume_logfmt_iter {
    const char *s;
    size_t n;
    size_t pos;
    plume_buf_t *scratch; /* optional: where escaped values are unescaped */
    const char *err;      /* NULL, or the syntax error message (static string) */
    size_t err_offset;    /* 0-based byte offset of the error */
} plume_logfmt_iter_t;

/* Starts iterating over the record s[0..n). scratch may be NULL; if given it is
 * reset and reused for each escaped value (pair.value then points into it and
 * stays valid until the next call). */
void plume_logfmt_iter_init(plume_logfmt_iter_t *it, const char *s, size_t n,
                            plume_buf_t *scratch);

/* Produces the next pair. Returns false at the end of the record or on a
 * syntax error (then it->err is set; further calls keep returning false). */
bool plume_logfmt_next(plume_logfmt_iter_t *it, plume_logfmt_pair_t *pair);

/* Writes the unescaped form of raw quoted text (without the quotes, as in
 * pair.value when pair.escaped) to dst, which must hold pair.decoded_len bytes.
 * Returns the number of bytes written. The text must have been accepted by
 * plume_logfmt_next(). */
size_t plume_logfmt_unescape(const char *raw, size_t n, char *dst);

#endif
