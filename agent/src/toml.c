/* SPDX-License-Identifier: MIT */
/* TOML 1.0 parser entry point: the document grammar (key/value pairs,
 * [tables], [[arrays of tables]], arrays, inline tables), the nesting limit and
 * TOML's redefinition rules. Strings and keys are lexed in toml_lex.c, other
 * scalars in toml_scalar.c; the value tree and accessors are in toml_tree.c.
 * See toml.h for the public contract.
 *
 * Redefinition rules, enforced with per-table flags:
 * - [a.b] may define a table once. Tables it creates on the way (a) are implicit
 *   and may be defined later by their own header, once.
 * - A dotted key (a.b = 1) creates or extends tables flagged DOTTED; such a table
 *   can never be defined by a header, though headers may create sub-tables in
 *   it. A dotted key may not reach into a table defined by a header.
 * - Inline tables and arrays written as values are immutable: nothing may be
 *   added to them later, by header or by dotted key. [[a]] appends a table to
 *   an array created by [[a]], and [a.b] descends into its last element. */
#include "toml_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ helpers ---- */

static bool fail_oom(plume_toml_parser_t *ps)
{
    return plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, ps->p), "out of memory");
}

/* Creates a container at nesting depth `depth`, failing past the limit. */
static plume_toml_value_t *container_new(plume_toml_parser_t *ps, plume_toml_type_t type,
                                         plume_toml_pos_t pos, size_t depth)
{
    if (depth > PLUME_TOML_MAX_DEPTH) {
        plume_toml_lex_fail(ps, pos, "nesting deeper than %d levels", PLUME_TOML_MAX_DEPTH);
        return NULL;
    }
    plume_toml_value_t *v = plume_toml_value_new(type, pos);
    if (!v) {
        fail_oom(ps);
        return NULL;
    }
    v->depth = (uint16_t)depth;
    return v;
}

/* Adds a new empty table under key part `kp` of table `t` (the key is copied). */
static plume_toml_value_t *table_add_child(plume_toml_parser_t *ps, plume_toml_value_t *t,
                                           const plume_toml_key_part_t *kp,
                                           plume_toml_type_t type, uint8_t flags)
{
    plume_toml_value_t *child = container_new(ps, type, kp->pos, (size_t)t->depth + 1);
    if (!child)
        return NULL;
    child->flags = flags;
    char *key = malloc(kp->len + 1);
    if (key)
        memcpy(key, kp->s, kp->len + 1);
    if (!key || !plume_toml_table_add(t, key, kp->len, kp->pos, child)) {
        free(key);
        plume_toml_value_free(child);
        fail_oom(ps);
        return NULL;
    }
    return child;
}

/* "already defined as ..." failure for key path parts[0..=i], whose value `v`
 * cannot be extended or redefined. */
static bool fail_defined(plume_toml_parser_t *ps, const plume_toml_key_part_t *parts, size_t i,
                         const plume_toml_value_t *v)
{
    char path[128];
    plume_toml_key_describe(parts, i + 1, path, sizeof(path));
    const char *what;
    switch (v->type) {
    case PLUME_TOML_TABLE:
        what = (v->flags & PLUME_TOML_F_FROZEN) ? "an inline table, which cannot be changed"
                                                : "a table";
        break;
    case PLUME_TOML_ARRAY:
        what = (v->flags & PLUME_TOML_F_AOT) ? "an array of tables"
                                             : "an array value, which cannot be extended";
        break;
    case PLUME_TOML_INTEGER: what = "an integer"; break;
    case PLUME_TOML_STRING: what = "a string"; break;
    case PLUME_TOML_FLOAT: what = "a float"; break;
    case PLUME_TOML_BOOL: what = "a boolean"; break;
    default: what = "a date/time"; break;
    }
    return plume_toml_lex_fail(ps, parts[i].pos, "key '%s' is already defined as %s", path, what);
}

/* ------------------------------------------------------------ headers ---- */

/* Walks the non-final parts of a [header] or [[header]] key from the root,
 * creating implicit tables and descending into the last element of arrays of
 * tables. Returns the parent table of the final part. */
static plume_toml_value_t *header_walk(plume_toml_parser_t *ps, plume_toml_value_t *root,
                                       const plume_toml_key_part_t *parts, size_t n)
{
    plume_toml_value_t *t = root;
    for (size_t i = 0; i + 1 < n; i++) {
        plume_toml_entry_t *e = plume_toml_table_find(t, parts[i].s, parts[i].len);
        if (!e) {
            t = table_add_child(ps, t, &parts[i], PLUME_TOML_TABLE, 0);
            if (!t)
                return NULL;
            continue;
        }
        plume_toml_value_t *v = e->val;
        if (v->type == PLUME_TOML_TABLE && !(v->flags & PLUME_TOML_F_FROZEN))
            t = v;
        else if (v->type == PLUME_TOML_ARRAY && (v->flags & PLUME_TOML_F_AOT))
            t = v->u.arr.items[v->u.arr.count - 1];
        else {
            fail_defined(ps, parts, i, v);
            return NULL;
        }
    }
    return t;
}

/* [a.b.c]: defines table a.b.c and returns it. */
static plume_toml_value_t *define_table(plume_toml_parser_t *ps, plume_toml_value_t *root,
                                        const plume_toml_key_part_t *parts, size_t n,
                                        plume_toml_pos_t hdr)
{
    plume_toml_value_t *t = header_walk(ps, root, parts, n);
    if (!t)
        return NULL;
    const plume_toml_key_part_t *last = &parts[n - 1];
    plume_toml_entry_t *e = plume_toml_table_find(t, last->s, last->len);
    if (!e) {
        plume_toml_value_t *v =
            table_add_child(ps, t, last, PLUME_TOML_TABLE, PLUME_TOML_F_EXPLICIT);
        if (v)
            v->pos = hdr;
        return v;
    }
    plume_toml_value_t *v = e->val;
    if (v->type == PLUME_TOML_TABLE &&
        !(v->flags & (PLUME_TOML_F_EXPLICIT | PLUME_TOML_F_DOTTED | PLUME_TOML_F_FROZEN))) {
        v->flags |= PLUME_TOML_F_EXPLICIT;
        v->pos = hdr;
        return v;
    }
    if (v->type == PLUME_TOML_TABLE && !(v->flags & PLUME_TOML_F_FROZEN)) {
        char path[128];
        plume_toml_key_describe(parts, n, path, sizeof(path));
        plume_toml_lex_fail(ps, last->pos,
                            (v->flags & PLUME_TOML_F_EXPLICIT)
                                ? "table '%s' is already defined"
                                : "table '%s' is already defined by dotted keys",
                            path);
        return NULL;
    }
    fail_defined(ps, parts, n - 1, v);
    return NULL;
}

/* [[a.b.c]]: appends a new table to array a.b.c and returns it. */
static plume_toml_value_t *append_table(plume_toml_parser_t *ps, plume_toml_value_t *root,
                                        const plume_toml_key_part_t *parts, size_t n,
                                        plume_toml_pos_t hdr)
{
    plume_toml_value_t *t = header_walk(ps, root, parts, n);
    if (!t)
        return NULL;
    const plume_toml_key_part_t *last = &parts[n - 1];
    plume_toml_entry_t *e = plume_toml_table_find(t, last->s, last->len);
    plume_toml_value_t *arr;
    if (!e) {
        arr = table_add_child(ps, t, last, PLUME_TOML_ARRAY, PLUME_TOML_F_AOT);
        if (!arr)
            return NULL;
        arr->pos = hdr;
    } else if (e->val->type == PLUME_TOML_ARRAY && (e->val->flags & PLUME_TOML_F_AOT)) {
        arr = e->val;
    } else {
        fail_defined(ps, parts, n - 1, e->val);
        return NULL;
    }
    plume_toml_value_t *elem =
        container_new(ps, PLUME_TOML_TABLE, hdr, (size_t)arr->depth + 1);
    if (!elem)
        return NULL;
    elem->flags = PLUME_TOML_F_EXPLICIT;
    if (!plume_toml_array_push(arr, elem)) {
        plume_toml_value_free(elem);
        fail_oom(ps);
        return NULL;
    }
    return elem;
}

/* ------------------------------------------------------------- values ---- */

static plume_toml_value_t *parse_value(plume_toml_parser_t *ps, size_t depth);
static bool parse_keyval(plume_toml_parser_t *ps, plume_toml_value_t *t);

/* Array value at '['; `depth` is the array's own nesting depth. */
static plume_toml_value_t *parse_array(plume_toml_parser_t *ps, size_t depth)
{
    plume_toml_value_t *arr =
        container_new(ps, PLUME_TOML_ARRAY, plume_toml_lex_pos(ps, ps->p), depth);
    if (!arr)
        return NULL;
    ps->p++;
    for (;;) {
        if (!plume_toml_lex_skip_ws_nl(ps))
            goto fail;
        if (ps->p < ps->end && *ps->p == ']')
            break;
        plume_toml_value_t *v = parse_value(ps, depth + 1);
        if (!v)
            goto fail;
        if (!plume_toml_array_push(arr, v)) {
            plume_toml_value_free(v);
            fail_oom(ps);
            goto fail;
        }
        if (!plume_toml_lex_skip_ws_nl(ps))
            goto fail;
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']')
            break;
        char d[48];
        plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, ps->p),
                            "expected ',' or ']' after array element, found %s",
                            plume_toml_lex_describe(ps, ps->p, d, sizeof(d)));
        goto fail;
    }
    ps->p++; /* ']' */
    return arr;
fail:
    plume_toml_value_free(arr);
    return NULL;
}

static bool fail_inline_newline(plume_toml_parser_t *ps)
{
    return plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, ps->p),
                               "newline in inline table (inline tables must be on one line)");
}

/* Inline table at '{'; `depth` is the table's own nesting depth. */
static plume_toml_value_t *parse_inline_table(plume_toml_parser_t *ps, size_t depth)
{
    plume_toml_value_t *t =
        container_new(ps, PLUME_TOML_TABLE, plume_toml_lex_pos(ps, ps->p), depth);
    if (!t)
        return NULL;
    ps->p++;
    plume_toml_lex_skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        t->flags |= PLUME_TOML_F_FROZEN;
        return t;
    }
    for (;;) {
        plume_toml_lex_skip_ws(ps);
        if (ps->p < ps->end && (*ps->p == '\n' || *ps->p == '\r')) {
            fail_inline_newline(ps);
            goto fail;
        }
        if (!parse_keyval(ps, t))
            goto fail;
        plume_toml_lex_skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            plume_toml_lex_skip_ws(ps);
            if (ps->p < ps->end && *ps->p == '}') {
                plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, ps->p),
                                    "trailing comma not allowed in inline table");
                goto fail;
            }
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}')
            break;
        if (ps->p < ps->end && (*ps->p == '\n' || *ps->p == '\r')) {
            fail_inline_newline(ps);
            goto fail;
        }
        char d[48];
        plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, ps->p),
                            "expected ',' or '}' in inline table, found %s",
                            plume_toml_lex_describe(ps, ps->p, d, sizeof(d)));
        goto fail;
    }
    ps->p++; /* '}' */
    t->flags |= PLUME_TOML_F_FROZEN;
    return t;
fail:
    plume_toml_value_free(t);
    return NULL;
}

/* Any value at the cursor. `depth` is the nesting depth it gets if it is a
 * container. Returns NULL (error set) on failure, having freed what it built. */
static plume_toml_value_t *parse_value(plume_toml_parser_t *ps, size_t depth)
{
    plume_toml_pos_t pos = plume_toml_lex_pos(ps, ps->p);
    char c = ps->p < ps->end ? *ps->p : '\0';
    if (ps->p < ps->end && (c == '"' || c == '\'')) {
        if (!plume_toml_lex_string(ps, true))
            return NULL;
        plume_toml_value_t *v = plume_toml_value_new(PLUME_TOML_STRING, pos);
        char *s = malloc(ps->scratch.len + 1);
        if (!v || !s) {
            free(v);
            free(s);
            fail_oom(ps);
            return NULL;
        }
        if (ps->scratch.len)
            memcpy(s, ps->scratch.data, ps->scratch.len);
        s[ps->scratch.len] = '\0';
        v->u.str.s = s;
        v->u.str.len = ps->scratch.len;
        return v;
    }
    if (c == '[')
        return parse_array(ps, depth);
    if (c == '{')
        return parse_inline_table(ps, depth);
    if (ps->p < ps->end && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == 't' ||
                            c == 'f' || c == 'i' || c == 'n')) {
        plume_toml_value_t *v = plume_toml_value_new(PLUME_TOML_INTEGER, pos);
        if (!v) {
            fail_oom(ps);
            return NULL;
        }
        if (!plume_toml_lex_scalar(ps, v)) {
            free(v); /* the lexer allocates only on success */
            return NULL;
        }
        return v;
    }
    char d[48];
    plume_toml_lex_fail(ps, pos, "expected a value, found %s",
                        plume_toml_lex_describe(ps, ps->p, d, sizeof(d)));
    return NULL;
}

/* key = value, into table `t` (the current section's table or an inline table
 * under construction). Dotted keys create or extend DOTTED sub-tables. */
static bool parse_keyval(plume_toml_parser_t *ps, plume_toml_value_t *t)
{
    plume_toml_key_part_t *parts;
    size_t n;
    if (!plume_toml_lex_key(ps, &parts, &n))
        return false;
    bool ok = false;
    char path[128], d[48];
    plume_toml_lex_skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != '=') {
        plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, ps->p), "expected '=' after key, found %s",
                            plume_toml_lex_describe(ps, ps->p, d, sizeof(d)));
        goto out;
    }
    ps->p++;
    plume_toml_lex_skip_ws(ps);
    for (size_t i = 0; i + 1 < n; i++) {
        plume_toml_entry_t *e = plume_toml_table_find(t, parts[i].s, parts[i].len);
        if (!e) {
            t = table_add_child(ps, t, &parts[i], PLUME_TOML_TABLE, PLUME_TOML_F_DOTTED);
            if (!t)
                goto out;
            continue;
        }
        plume_toml_value_t *v = e->val;
        if (v->type != PLUME_TOML_TABLE || (v->flags & PLUME_TOML_F_FROZEN)) {
            fail_defined(ps, parts, i, v);
            goto out;
        }
        if (v->flags & PLUME_TOML_F_EXPLICIT) {
            plume_toml_key_describe(parts, i + 1, path, sizeof(path));
            plume_toml_lex_fail(ps, parts[i].pos,
                                "dotted key cannot add to table '%s', which has its own [header]",
                                path);
            goto out;
        }
        v->flags |= PLUME_TOML_F_DOTTED;
        t = v;
    }
    plume_toml_key_part_t *last = &parts[n - 1];
    if (plume_toml_table_find(t, last->s, last->len)) {
        plume_toml_lex_fail(ps, last->pos, "duplicate key '%s'",
                            plume_toml_key_describe(parts, n, path, sizeof(path)));
        goto out;
    }
    if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '#') {
        plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, ps->p),
                            "expected a value after '=', found %s",
                            plume_toml_lex_describe(ps, ps->p, d, sizeof(d)));
        goto out;
    }
    plume_toml_value_t *v = parse_value(ps, (size_t)t->depth + 1);
    if (!v)
        goto out;
    if (!plume_toml_table_add(t, last->s, last->len, last->pos, v)) {
        plume_toml_value_free(v);
        fail_oom(ps);
        goto out;
    }
    last->s = NULL; /* now owned by the table */
    ok = true;
out:
    plume_toml_key_parts_free(parts, n);
    return ok;
}

/* [header] or [[header]] at '['. Returns the table that following key/value
 * pairs go into. */
static plume_toml_value_t *parse_header(plume_toml_parser_t *ps, plume_toml_value_t *root)
{
    plume_toml_pos_t hdr = plume_toml_lex_pos(ps, ps->p);
    bool aot = ps->end - ps->p >= 2 && ps->p[1] == '[';
    ps->p += aot ? 2 : 1;
    plume_toml_key_part_t *parts;
    size_t n;
    if (!plume_toml_lex_key(ps, &parts, &n))
        return NULL;
    plume_toml_value_t *t = NULL;
    plume_toml_lex_skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']' &&
        (!aot || (ps->end - ps->p >= 2 && ps->p[1] == ']'))) {
        ps->p += aot ? 2 : 1;
        t = aot ? append_table(ps, root, parts, n, hdr) : define_table(ps, root, parts, n, hdr);
    } else {
        char d[48];
        plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, ps->p),
                            aot ? "expected ']]' at end of array-of-tables header, found %s"
                                : "expected ']' at end of table header, found %s",
                            plume_toml_lex_describe(ps, ps->p, d, sizeof(d)));
    }
    plume_toml_key_parts_free(parts, n);
    return t;
}

/* The document: a sequence of lines, each empty, a comment, a key/value pair
 * or a header, optionally followed by a comment. */
static bool parse_document(plume_toml_parser_t *ps, plume_toml_value_t *root)
{
    plume_toml_value_t *cur = root;
    for (;;) {
        plume_toml_lex_skip_ws(ps);
        if (ps->p >= ps->end)
            return true;
        char c = *ps->p;
        const char *after = "value";
        if (c == '#') {
            if (!plume_toml_lex_comment(ps))
                return false;
        } else if (c == '\n' || c == '\r') {
            /* handled below */
        } else if (c == '[') {
            after = "table header";
            cur = parse_header(ps, root);
            if (!cur)
                return false;
        } else if (!parse_keyval(ps, cur)) {
            return false;
        }
        plume_toml_lex_skip_ws(ps);
        if (ps->p < ps->end && *ps->p == '#' && !plume_toml_lex_comment(ps))
            return false;
        int nl = plume_toml_lex_newline(ps);
        if (nl < 0)
            return false;
        if (nl == 0 && ps->p < ps->end) {
            char d[48];
            return plume_toml_lex_fail(ps, plume_toml_lex_pos(ps, ps->p),
                                       "expected a newline after the %s, found %s", after,
                                       plume_toml_lex_describe(ps, ps->p, d, sizeof(d)));
        }
    }
}

/* ---------------------------------------------------------- public API ---- */

plume_toml_value_t *plume_toml_parse(const char *text, size_t len, plume_toml_error_t *err)
{
    plume_toml_error_t local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof(*err));
    plume_toml_parser_t ps;
    memset(&ps, 0, sizeof(ps));
    ps.err = err;
    ps.line = 1;
    if (!text && len) {
        plume_toml_lex_fail(&ps, (plume_toml_pos_t){1, 1}, "no input (NULL text)");
        return NULL;
    }
    if (len > (size_t)INT32_MAX) {
        plume_toml_lex_fail(&ps, (plume_toml_pos_t){1, 1}, "document larger than 2 GiB");
        return NULL;
    }
    if (!text)
        text = "";
    ps.start = ps.p = ps.line_start = text;
    ps.end = text + len;
    /* A UTF-8 byte order mark is allowed at the very start only; columns on the
     * first line count from after it. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        ps.p = ps.line_start = text + 3;
    plume_buf_init(&ps.scratch, 0);
    plume_toml_value_t *root = plume_toml_value_new(PLUME_TOML_TABLE, (plume_toml_pos_t){1, 1});
    if (!root)
        fail_oom(&ps);
    else if (!plume_toml_lex_utf8_check(&ps) || !parse_document(&ps, root)) {
        plume_toml_value_free(root);
        root = NULL;
    }
    plume_buf_free(&ps.scratch);
    if (ps.c_locale)
        freelocale(ps.c_locale);
    return root;
}
