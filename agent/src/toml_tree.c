/* SPDX-License-Identifier: MIT */
/* The TOML value tree: allocation and freeing of values, tables that keep
 * their keys in document order with an open-addressing hash index once they
 * grow past a few keys (so that 100k-key tables stay linear to build), arrays,
 * and the public read-only accessors declared in toml.h. */
#include "toml_int.h"

#include <stdlib.h>
#include <string.h>

#define INDEX_THRESHOLD 8

plume_toml_value_t *plume_toml_value_new(plume_toml_type_t type, plume_toml_pos_t pos)
{
    plume_toml_value_t *v = calloc(1, sizeof(*v));
    if (v) {
        v->type = type;
        v->pos = pos;
    }
    return v;
}

/* Frees a value and everything below it. Recursion is bounded by the nesting
 * limit enforced while parsing. */
void plume_toml_value_free(plume_toml_value_t *v)
{
    if (!v)
        return;
    switch (v->type) {
    case PLUME_TOML_ARRAY:
        for (size_t i = 0; i < v->u.arr.count; i++)
            plume_toml_value_free(v->u.arr.items[i]);
        free(v->u.arr.items);
        break;
    case PLUME_TOML_TABLE:
        for (size_t i = 0; i < v->u.tbl.count; i++) {
            free(v->u.tbl.e[i].key);
            plume_toml_value_free(v->u.tbl.e[i].val);
        }
        free(v->u.tbl.e);
        free(v->u.tbl.index);
        break;
    case PLUME_TOML_INTEGER:
    case PLUME_TOML_FLOAT:
    case PLUME_TOML_BOOL:
        break;
    default:
        free(v->u.str.s);
        break;
    }
    free(v);
}

/* 64-bit key hash (FNV-1a with a final avalanche). The seed is the address of
 * this function, which ASLR makes differ between runs, so that crafted keys
 * cannot be chosen offline to collide. */
static uint64_t key_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)(uintptr_t)&key_hash;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

plume_toml_entry_t *plume_toml_table_find(const plume_toml_value_t *t, const char *key,
                                          size_t len)
{
    const plume_toml_entry_t *e = t->u.tbl.e;
    if (t->u.tbl.index_cap == 0) {
        for (size_t i = 0; i < t->u.tbl.count; i++)
            if (e[i].len == len && memcmp(e[i].key, key, len) == 0)
                return (plume_toml_entry_t *)&e[i];
        return NULL;
    }
    uint64_t h = key_hash(key, len);
    size_t mask = t->u.tbl.index_cap - 1;
    for (size_t slot = (size_t)h & mask;; slot = (slot + 1) & mask) {
        uint32_t ix = t->u.tbl.index[slot];
        if (ix == 0)
            return NULL;
        const plume_toml_entry_t *c = &e[ix - 1];
        if (c->hash == h && c->len == len && memcmp(c->key, key, len) == 0)
            return (plume_toml_entry_t *)c;
    }
}

/* Rebuilds the hash index with `cap` slots (a power of two). */
static bool table_reindex(plume_toml_value_t *t, size_t cap)
{
    uint32_t *ix = calloc(cap, sizeof(*ix));
    if (!ix)
        return false;
    for (size_t i = 0; i < t->u.tbl.count; i++) {
        size_t slot = (size_t)t->u.tbl.e[i].hash & (cap - 1);
        while (ix[slot])
            slot = (slot + 1) & (cap - 1);
        ix[slot] = (uint32_t)(i + 1);
    }
    free(t->u.tbl.index);
    t->u.tbl.index = ix;
    t->u.tbl.index_cap = cap;
    return true;
}

/* Appends key -> val. Takes ownership of `key` (malloc'd, NUL-terminated) and
 * `val` on success only. The caller has checked that the key is absent. */
bool plume_toml_table_add(plume_toml_value_t *t, char *key, size_t len, plume_toml_pos_t pos,
                      plume_toml_value_t *val)
{
    if (t->u.tbl.count >= UINT32_MAX - 1)
        return false;
    if (t->u.tbl.count == t->u.tbl.cap) {
        size_t cap = t->u.tbl.cap ? t->u.tbl.cap * 2 : 4;
        plume_toml_entry_t *e = realloc(t->u.tbl.e, cap * sizeof(*e));
        if (!e)
            return false;
        t->u.tbl.e = e;
        t->u.tbl.cap = cap;
    }
    size_t n = t->u.tbl.count + 1;
    if (n > INDEX_THRESHOLD && n * 2 > t->u.tbl.index_cap) {
        size_t cap = t->u.tbl.index_cap ? t->u.tbl.index_cap * 2 : 32;
        while (cap < n * 2)
            cap *= 2;
        /* Index built over the existing entries; the new one is added below. */
        if (!table_reindex(t, cap))
            return false;
    }
    plume_toml_entry_t *e = &t->u.tbl.e[t->u.tbl.count];
    e->key = key;
    e->len = len;
    e->hash = key_hash(key, len);
    e->pos = pos;
    e->val = val;
    if (t->u.tbl.index_cap) {
        size_t mask = t->u.tbl.index_cap - 1;
        size_t slot = (size_t)e->hash & mask;
        while (t->u.tbl.index[slot])
            slot = (slot + 1) & mask;
        t->u.tbl.index[slot] = (uint32_t)(t->u.tbl.count + 1);
    }
    t->u.tbl.count++;
    return true;
}

bool plume_toml_array_push(plume_toml_value_t *a, plume_toml_value_t *v)
{
    if (a->u.arr.count == a->u.arr.cap) {
        size_t cap = a->u.arr.cap ? a->u.arr.cap * 2 : 4;
        plume_toml_value_t **items = realloc(a->u.arr.items, cap * sizeof(*items));
        if (!items)
            return false;
        a->u.arr.items = items;
        a->u.arr.cap = cap;
    }
    a->u.arr.items[a->u.arr.count++] = v;
    return true;
}

/* ---------------------------------------------------------- public API ---- */

void plume_toml_free(plume_toml_value_t *root)
{
    plume_toml_value_free(root);
}

plume_toml_type_t plume_toml_type(const plume_toml_value_t *v)
{
    return v->type;
}

plume_toml_pos_t plume_toml_pos(const plume_toml_value_t *v)
{
    return v->pos;
}

const char *plume_toml_type_name(plume_toml_type_t t)
{
    switch (t) {
    case PLUME_TOML_STRING: return "string";
    case PLUME_TOML_INTEGER: return "integer";
    case PLUME_TOML_FLOAT: return "float";
    case PLUME_TOML_BOOL: return "boolean";
    case PLUME_TOML_DATETIME: return "datetime";
    case PLUME_TOML_DATETIME_LOCAL: return "datetime-local";
    case PLUME_TOML_DATE_LOCAL: return "date-local";
    case PLUME_TOML_TIME_LOCAL: return "time-local";
    case PLUME_TOML_ARRAY: return "array";
    case PLUME_TOML_TABLE: return "table";
    }
    return "unknown";
}

const char *plume_toml_string(const plume_toml_value_t *v, size_t *len)
{
    switch (v ? v->type : PLUME_TOML_TABLE) {
    case PLUME_TOML_STRING:
    case PLUME_TOML_DATETIME:
    case PLUME_TOML_DATETIME_LOCAL:
    case PLUME_TOML_DATE_LOCAL:
    case PLUME_TOML_TIME_LOCAL:
        if (len)
            *len = v->u.str.len;
        return v->u.str.s;
    default:
        if (len)
            *len = 0;
        return NULL;
    }
}

int64_t plume_toml_integer(const plume_toml_value_t *v)
{
    return v && v->type == PLUME_TOML_INTEGER ? v->u.i : 0;
}

double plume_toml_float(const plume_toml_value_t *v)
{
    return v && v->type == PLUME_TOML_FLOAT ? v->u.f : 0.0;
}

bool plume_toml_bool(const plume_toml_value_t *v)
{
    return v && v->type == PLUME_TOML_BOOL && v->u.b;
}

size_t plume_toml_count(const plume_toml_value_t *v)
{
    if (v && v->type == PLUME_TOML_ARRAY)
        return v->u.arr.count;
    if (v && v->type == PLUME_TOML_TABLE)
        return v->u.tbl.count;
    return 0;
}

const plume_toml_value_t *plume_toml_array_at(const plume_toml_value_t *arr, size_t i)
{
    if (!arr || arr->type != PLUME_TOML_ARRAY || i >= arr->u.arr.count)
        return NULL;
    return arr->u.arr.items[i];
}

const char *plume_toml_table_key_at(const plume_toml_value_t *tbl, size_t i,
                                    plume_toml_pos_t *key_pos)
{
    return plume_toml_table_key_len_at(tbl, i, NULL, key_pos);
}

const char *plume_toml_table_key_len_at(const plume_toml_value_t *tbl, size_t i, size_t *len,
                                        plume_toml_pos_t *key_pos)
{
    if (!tbl || tbl->type != PLUME_TOML_TABLE || i >= tbl->u.tbl.count)
        return NULL;
    if (len)
        *len = tbl->u.tbl.e[i].len;
    if (key_pos)
        *key_pos = tbl->u.tbl.e[i].pos;
    return tbl->u.tbl.e[i].key;
}

const plume_toml_value_t *plume_toml_table_value_at(const plume_toml_value_t *tbl, size_t i)
{
    if (!tbl || tbl->type != PLUME_TOML_TABLE || i >= tbl->u.tbl.count)
        return NULL;
    return tbl->u.tbl.e[i].val;
}

const plume_toml_value_t *plume_toml_table_get(const plume_toml_value_t *tbl, const char *key)
{
    return key ? plume_toml_table_getn(tbl, key, strlen(key)) : NULL;
}

const plume_toml_value_t *plume_toml_table_getn(const plume_toml_value_t *tbl, const char *key,
                                                size_t len)
{
    if (!tbl || tbl->type != PLUME_TOML_TABLE || (!key && len))
        return NULL;
    const plume_toml_entry_t *e = plume_toml_table_find(tbl, key ? key : "", len);
    return e ? e->val : NULL;
}
