/* SPDX-License-Identifier: MIT */
/* Private definitions shared by the TOML parser's two halves: the value tree and
 * table semantics (toml.c) and the lexical scanners for strings, keys, numbers
 * and date-times (toml_lex.c). Nothing outside agent/src/toml*.c includes this.
 *
 * The parser is a single-pass recursive descent over a byte cursor. Recursion only
 * happens for arrays and inline tables, and every container carries its nesting
 * depth, which is capped at PLUME_TOML_MAX_DEPTH, so both the parser and the
 * recursive free/walk code have a bounded stack. */
#ifndef PLUME_TOML_INT_H
#define PLUME_TOML_INT_H

#include <locale.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "toml.h"

#define PLUME_TOML_MAX_DEPTH 128

/* Table flags (see toml.c for the redefinition rules they implement). */
enum {
    PLUME_TOML_F_EXPLICIT = 1, /* defined by a [header] or as an [[array]] element */
    PLUME_TOML_F_DOTTED = 2,   /* created or extended by a dotted key */
    PLUME_TOML_F_FROZEN = 4,   /* an inline table: immutable once closed */
    PLUME_TOML_F_AOT = 8,      /* array: created by [[header]] (others are static) */
};

typedef struct plume_toml_entry {
    char *key; /* NUL-terminated copy; may contain NUL bytes (see len) */
    size_t len;
    uint64_t hash;
    plume_toml_pos_t pos;
    plume_toml_value_t *val;
} plume_toml_entry_t;

struct plume_toml_value {
    plume_toml_type_t type;
    plume_toml_pos_t pos;
    uint16_t depth; /* containers: number of containers above this one */
    uint8_t flags;
    union {
        struct {
            char *s; /* strings and date-times; NUL-terminated */
            size_t len;
        } str;
        int64_t i;
        double f;
        bool b;
        struct {
            plume_toml_value_t **items;
            size_t count, cap;
        } arr;
        struct {
            plume_toml_entry_t *e; /* document order */
            size_t count, cap;
            uint32_t *index; /* open addressing: entry index + 1, 0 = empty */
            size_t index_cap; /* power of two, or 0 while the table is small */
        } tbl;
    } u;
};

/* One part of a (possibly dotted) key, decoded. */
typedef struct plume_toml_key_part {
    char *s; /* malloc'd, NUL-terminated, may contain NUL */
    size_t len;
    plume_toml_pos_t pos;
} plume_toml_key_part_t;

typedef struct plume_toml_parser {
    const char *start, *p, *end;
    const char *line_start;
    int line;
    plume_toml_error_t *err;
    bool failed;
    locale_t c_locale; /* created on the first float, for strtod_l */
    plume_buf_t scratch; /* string decoding */
} plume_toml_parser_t;

static inline int plume_toml_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static inline bool plume_toml_is_bare_key_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

/* ---- the tree (toml_tree.c) ---- */
/* A zeroed value of `type` at `pos`, or NULL when out of memory. */
plume_toml_value_t *plume_toml_value_new(plume_toml_type_t type, plume_toml_pos_t pos);
/* Frees `v` and everything below it (recursion bounded by the depth limit). */
void plume_toml_value_free(plume_toml_value_t *v);
plume_toml_entry_t *plume_toml_table_find(const plume_toml_value_t *t, const char *key,
                                          size_t len);
/* Appends key -> val to table `t`; the caller has checked that the key is
 * absent. Takes ownership of `key` (malloc'd, NUL-terminated) and `val` on
 * success only. */
bool plume_toml_table_add(plume_toml_value_t *t, char *key, size_t len, plume_toml_pos_t pos,
                          plume_toml_value_t *val);
bool plume_toml_array_push(plume_toml_value_t *a, plume_toml_value_t *v);

/* ---- errors and positions (toml_lex.c) ---- */
plume_toml_pos_t plume_toml_lex_pos(const plume_toml_parser_t *ps, const char *at);
/* Records the first error only; later calls are ignored. Always returns false. */
bool plume_toml_lex_fail(plume_toml_parser_t *ps, plume_toml_pos_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes a short printable description of the byte at `p` ("'x'", "end of file",
 * "a newline", "byte 0x1f") into buf. */
const char *plume_toml_lex_describe(const plume_toml_parser_t *ps, const char *p, char *buf,
                                    size_t n);

/* ---- whitespace, comments, newlines (toml_lex.c) ---- */
bool plume_toml_lex_utf8_check(plume_toml_parser_t *ps);
void plume_toml_lex_skip_ws(plume_toml_parser_t *ps);
/* At '#': consumes the comment up to (not including) the line end. */
bool plume_toml_lex_comment(plume_toml_parser_t *ps);
/* At LF or CRLF: consumes it and returns 1; at a bare CR fails and returns -1;
 * otherwise returns 0. */
int plume_toml_lex_newline(plume_toml_parser_t *ps);
/* Skips whitespace, comments and newlines (inside arrays). */
bool plume_toml_lex_skip_ws_nl(plume_toml_parser_t *ps);

/* ---- tokens (toml_lex.c) ---- */
/* Parses a dotted key into parts (at most PLUME_TOML_MAX_DEPTH). On success the
 * caller owns the parts and frees them with plume_toml_key_parts_free(). */
bool plume_toml_lex_key(plume_toml_parser_t *ps, plume_toml_key_part_t **parts, size_t *n);
void plume_toml_key_parts_free(plume_toml_key_part_t *parts, size_t n);
/* At a quote: decodes a string into ps->scratch (which it resets). */
bool plume_toml_lex_string(plume_toml_parser_t *ps, bool allow_multiline);
/* Scalars that are not strings (toml_scalar.c): booleans, numbers, date-times.
 * Fills `v` (type and payload; the caller sets pos). */
bool plume_toml_lex_scalar(plume_toml_parser_t *ps, plume_toml_value_t *v);

/* Formats a dotted key path (parts[0..n)) for messages into buf. */
const char *plume_toml_key_describe(const plume_toml_key_part_t *parts, size_t n, char *buf,
                                    size_t size);

#endif
