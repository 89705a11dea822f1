/* SPDX-License-Identifier: MIT */
/* TOML 1.0 parser (our own: Debian ships no C TOML library).
 *
 * plume_toml_parse() turns a whole document into a tree of values. Every value
 * and every table key remembers the line and column (1-based, columns in bytes)
 * where it was written, so that the config layer can report
 * `file:line:col: message`. Tables keep their keys in document order. Strings are
 * decoded (escapes resolved) and carry an explicit length (they may hold NUL).
 * Date-times are kept as their text, normalised per TOML (a space separator
 * becomes 'T'; 'z' becomes 'Z'), with their kind. */
#ifndef PLUME_TOML_H
#define PLUME_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum plume_toml_type {
    PLUME_TOML_STRING,
    PLUME_TOML_INTEGER,
    PLUME_TOML_FLOAT,
    PLUME_TOML_BOOL,
    PLUME_TOML_DATETIME,       /* offset date-time */
    PLUME_TOML_DATETIME_LOCAL, /* local date-time */
    PLUME_TOML_DATE_LOCAL,
    PLUME_TOML_TIME_LOCAL,
    PLUME_TOML_ARRAY,
    PLUME_TOML_TABLE,
} plume_toml_type_t;

typedef struct plume_toml_value plume_toml_value_t;

typedef struct plume_toml_pos {
    int line;
    int col;
} plume_toml_pos_t;

typedef struct plume_toml_error {
    plume_toml_pos_t pos;
    char message[256];
} plume_toml_error_t;

/* Parses `len` bytes of `text` (need not be NUL-terminated). Returns the root
 * table, or NULL with `err` filled in (never both). The caller frees the root
 * with plume_toml_free(). Nesting deeper than 128 levels is an error. */
plume_toml_value_t *plume_toml_parse(const char *text, size_t len, plume_toml_error_t *err);
void plume_toml_free(plume_toml_value_t *root);

plume_toml_type_t plume_toml_type(const plume_toml_value_t *v);
plume_toml_pos_t plume_toml_pos(const plume_toml_value_t *v);
/* Type name for messages: "string", "integer", "float", "boolean",
 * "datetime", "datetime-local", "date-local", "time-local", "array", "table". */
const char *plume_toml_type_name(plume_toml_type_t t);

/* Scalars. Strings: NUL-terminated copy plus length (NULs possible inside).
 * Date-times: the normalised text. */
const char *plume_toml_string(const plume_toml_value_t *v, size_t *len);
int64_t plume_toml_integer(const plume_toml_value_t *v);
double plume_toml_float(const plume_toml_value_t *v);
bool plume_toml_bool(const plume_toml_value_t *v);

/* Arrays and tables. For tables, index i walks keys in document order. */
size_t plume_toml_count(const plume_toml_value_t *v);
const plume_toml_value_t *plume_toml_array_at(const plume_toml_value_t *arr, size_t i);
const char *plume_toml_table_key_at(const plume_toml_value_t *tbl, size_t i,
                                    plume_toml_pos_t *key_pos);
const plume_toml_value_t *plume_toml_table_value_at(const plume_toml_value_t *tbl, size_t i);
/* Looks a key up in a table (NULL if absent or `tbl` is not a table). */
const plume_toml_value_t *plume_toml_table_get(const plume_toml_value_t *tbl, const char *key);

/* Keys may contain NUL bytes (quoted keys with \u0000): these variants take or
 * return an explicit length. `len` and `key_pos` may be NULL. */
const char *plume_toml_table_key_len_at(const plume_toml_value_t *tbl, size_t i, size_t *len,
                                        plume_toml_pos_t *key_pos);
const plume_toml_value_t *plume_toml_table_getn(const plume_toml_value_t *tbl, const char *key,
                                                size_t len);

#endif
