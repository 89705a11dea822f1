/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the TOML parser: any byte string must either parse into
 * a tree whose every node can be walked through the public accessors, or fail
 * with a message and a position. The input is passed without a terminating NUL
 * so that any read past `size` is caught by ASan. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

/* Touches every node through the public API (recursion bounded by the parser's
 * nesting limit). Returns a value derived from the contents so that nothing is
 * optimised away. */
static size_t walk(const plume_toml_value_t *v)
{
    size_t h = (size_t)plume_toml_type(v);
    plume_toml_pos_t pos = plume_toml_pos(v);
    if (pos.line < 1 || pos.col < 1)
        abort();
    h += strlen(plume_toml_type_name(plume_toml_type(v)));
    switch (plume_toml_type(v)) {
    case PLUME_TOML_TABLE:
        for (size_t i = 0; i < plume_toml_count(v); i++) {
            size_t klen;
            plume_toml_pos_t kp;
            const char *k = plume_toml_table_key_len_at(v, i, &klen, &kp);
            if (!k || k[klen] != '\0' || kp.line < 1)
                abort();
            /* Every key must be found again by lookup. */
            if (plume_toml_table_getn(v, k, klen) != plume_toml_table_value_at(v, i))
                abort();
            h += klen + walk(plume_toml_table_value_at(v, i));
        }
        break;
    case PLUME_TOML_ARRAY:
        for (size_t i = 0; i < plume_toml_count(v); i++)
            h += walk(plume_toml_array_at(v, i));
        break;
    case PLUME_TOML_INTEGER:
        h += (size_t)plume_toml_integer(v);
        break;
    case PLUME_TOML_FLOAT:
        h += plume_toml_float(v) > 0;
        break;
    case PLUME_TOML_BOOL:
        h += plume_toml_bool(v);
        break;
    default: {
        size_t len;
        const char *s = plume_toml_string(v, &len);
        if (!s || s[len] != '\0')
            abort();
        h += len;
        break;
    }
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Copy into an exactly-sized heap buffer (no NUL after it). */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    if (size)
        memcpy(text, data, size);
    plume_toml_error_t err;
    plume_toml_value_t *root = plume_toml_parse(text, size, &err);
    if (root) {
        volatile size_t h = walk(root);
        (void)h;
        plume_toml_free(root);
    } else if (err.message[0] == '\0' || err.pos.line < 1 || err.pos.col < 1 ||
               memchr(err.message, '\0', sizeof(err.message)) == NULL) {
        abort();
    }
    free(text);
    return 0;
}
