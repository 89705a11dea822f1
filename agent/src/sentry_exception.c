/* SPDX-License-Identifier: MIT */
/* The "error" map of an event (docs/event-schema.md) as Sentry's exception
 * and debug_meta members. See sentry_event.h.
 *
 * The map is read once into a table of parts (pointers into it), then
 * written: frames come innermost first and are written caller first, so
 * their positions are collected before writing. Anything of the wrong type
 * is ignored; a malformed map yields no exception at all. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_write.h"
#include "mp.h"
#include "sentry_event.h"
#include "sentry_ids.h"

#define MAX_FRAMES 512   /* frames kept (the innermost ones) */
#define MAX_MODULES 1024 /* modules indexed for the frames' package names */

typedef struct str_part {
    const char *s;
    uint32_t len; /* s == NULL: absent */
} str_part_t;

typedef struct module_part {
    str_part_t path;
    uint64_t addr, size;
    const uint8_t *build_id;
    uint32_t build_id_len;
} module_part_t;

typedef struct error_parts {
    str_part_t type, value, mechanism, sig_name, sig_code_name, thread_name;
    bool has_code, has_handled, handled, has_sig_number, has_sig_code, has_fault_addr, has_thread;
    int64_t code, sig_code;
    uint64_t sig_number, fault_addr, thread_id;
    plume_mp_reader_t registers; /* at the map, when has_registers */
    bool has_registers;
    const uint8_t *frame_at[MAX_FRAMES]; /* each frame map's first byte */
    size_t nframes;
    const uint8_t *frames_end;
    module_part_t *modules; /* malloc'd */
    size_t nmodules;
} error_parts_t;

/* Reads the value at r into *v and moves r past all of it (an array or map
 * is skipped whole, and its type then matches none of the scalar readers'
 * types). False when the value is malformed. */
static bool read_value(plume_mp_reader_t *r, plume_mp_value_t *v)
{
    plume_mp_reader_t peek = *r;
    if (!plume_mp_read(&peek, v))
        return false;
    if (v->type == PLUME_MP_ARRAY || v->type == PLUME_MP_MAP)
        return plume_mp_skip(r);
    *r = peek;
    return true;
}

/* The scalar readers: each takes the value when it has the wanted type and
 * leaves *out alone otherwise; false only when the value is malformed. */
static bool read_str(plume_mp_reader_t *r, str_part_t *out)
{
    plume_mp_value_t v;
    if (!read_value(r, &v))
        return false;
    if (v.type == PLUME_MP_STR) {
        out->s = v.s;
        out->len = v.len;
    }
    return true;
}

/* An integer of either sign as int64 (uint beyond INT64_MAX is refused). */
static bool read_int(plume_mp_reader_t *r, int64_t *out, bool *has)
{
    plume_mp_value_t v;
    if (!read_value(r, &v))
        return false;
    if (v.type == PLUME_MP_INT || (v.type == PLUME_MP_UINT && v.u <= INT64_MAX)) {
        *out = v.type == PLUME_MP_INT ? v.i : (int64_t)v.u;
        *has = true;
    }
    return true;
}

static bool read_uint(plume_mp_reader_t *r, uint64_t *out, bool *has)
{
    plume_mp_value_t v;
    if (!read_value(r, &v))
        return false;
    if (v.type == PLUME_MP_UINT) {
        *out = v.u;
        *has = true;
    }
    return true;
}

static bool read_bool(plume_mp_reader_t *r, bool *out, bool *has)
{
    plume_mp_value_t v;
    if (!read_value(r, &v))
        return false;
    if (v.type == PLUME_MP_BOOL) {
        *out = v.b;
        *has = true;
    }
    return true;
}

/* Reads a map header at r; false if r holds no map (then it is skipped). */
static bool enter_map(plume_mp_reader_t *r, uint32_t *count, bool *ok)
{
    plume_mp_value_t v;
    plume_mp_reader_t peek = *r;
    *ok = plume_mp_read(&peek, &v);
    if (!*ok)
        return false;
    if (v.type != PLUME_MP_MAP) {
        *ok = plume_mp_skip(r);
        return false;
    }
    *r = peek;
    *count = v.count;
    return true;
}

static bool read_key(plume_mp_reader_t *r, plume_mp_value_t *k)
{
    return plume_mp_read(r, k) && k->type == PLUME_MP_STR;
}

static bool parse_signal(plume_mp_reader_t *r, error_parts_t *e)
{
    uint32_t n;
    bool ok;
    if (!enter_map(r, &n, &ok))
        return ok;
    for (uint32_t i = 0; i < n; i++) {
        plume_mp_value_t k;
        if (!read_key(r, &k))
            return false;
        if (plume_mp_str_eq(&k, "number"))
            ok = read_uint(r, &e->sig_number, &e->has_sig_number);
        else if (plume_mp_str_eq(&k, "name"))
            ok = read_str(r, &e->sig_name);
        else if (plume_mp_str_eq(&k, "code"))
            ok = read_int(r, &e->sig_code, &e->has_sig_code);
        else if (plume_mp_str_eq(&k, "code_name"))
            ok = read_str(r, &e->sig_code_name);
        else
            ok = plume_mp_skip(r);
        if (!ok)
            return false;
    }
    return true;
}

static bool parse_thread(plume_mp_reader_t *r, error_parts_t *e)
{
    uint32_t n;
    bool ok;
    if (!enter_map(r, &n, &ok))
        return ok;
    for (uint32_t i = 0; i < n; i++) {
        plume_mp_value_t k;
        if (!read_key(r, &k))
            return false;
        if (plume_mp_str_eq(&k, "id"))
            ok = read_uint(r, &e->thread_id, &e->has_thread);
        else if (plume_mp_str_eq(&k, "name"))
            ok = read_str(r, &e->thread_name);
        else
            ok = plume_mp_skip(r);
        if (!ok)
            return false;
    }
    return true;
}

/* Records where each frame map starts (the first MAX_FRAMES). */
static bool parse_frames(plume_mp_reader_t *r, error_parts_t *e)
{
    plume_mp_value_t v;
    plume_mp_reader_t peek = *r;
    if (!plume_mp_read(&peek, &v))
        return false;
    if (v.type != PLUME_MP_ARRAY)
        return plume_mp_skip(r);
    *r = peek;
    for (uint32_t i = 0; i < v.count; i++) {
        if (e->nframes < MAX_FRAMES)
            e->frame_at[e->nframes++] = r->p;
        if (!plume_mp_skip(r))
            return false;
    }
    e->frames_end = r->p;
    return true;
}

static bool parse_module(plume_mp_reader_t *r, module_part_t *m)
{
    uint32_t n;
    bool ok, has;
    memset(m, 0, sizeof(*m));
    if (!enter_map(r, &n, &ok))
        return ok;
    for (uint32_t i = 0; i < n; i++) {
        plume_mp_value_t k, v;
        if (!read_key(r, &k))
            return false;
        if (plume_mp_str_eq(&k, "path")) {
            ok = read_str(r, &m->path);
        } else if (plume_mp_str_eq(&k, "addr")) {
            ok = read_uint(r, &m->addr, &has);
        } else if (plume_mp_str_eq(&k, "size")) {
            ok = read_uint(r, &m->size, &has);
        } else if (plume_mp_str_eq(&k, "build_id")) {
            plume_mp_reader_t peek = *r;
            ok = plume_mp_read(&peek, &v);
            if (ok && v.type == PLUME_MP_BIN) {
                m->build_id = (const uint8_t *)v.s;
                m->build_id_len = v.len;
                *r = peek;
            } else if (ok) {
                ok = plume_mp_skip(r);
            }
        } else {
            ok = plume_mp_skip(r);
        }
        if (!ok)
            return false;
    }
    return true;
}

static bool parse_modules(plume_mp_reader_t *r, error_parts_t *e)
{
    plume_mp_value_t v;
    plume_mp_reader_t peek = *r;
    if (!plume_mp_read(&peek, &v))
        return false;
    if (v.type != PLUME_MP_ARRAY || e->modules)
        return plume_mp_skip(r);
    *r = peek;
    size_t keep = v.count < MAX_MODULES ? v.count : MAX_MODULES;
    e->modules = keep ? calloc(keep, sizeof(*e->modules)) : NULL;
    if (keep && !e->modules)
        return false;
    for (uint32_t i = 0; i < v.count; i++) {
        if (i < keep) {
            if (!parse_module(r, &e->modules[i]))
                return false;
            e->nmodules = i + 1;
        } else if (!plume_mp_skip(r)) {
            return false;
        }
    }
    return true;
}

static bool parse_error_map(const uint8_t *p, size_t len, error_parts_t *e)
{
    plume_mp_reader_t r;
    uint32_t n;
    bool ok;
    plume_mp_reader_init(&r, p, len);
    if (!enter_map(&r, &n, &ok))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        plume_mp_value_t k;
        if (!read_key(&r, &k))
            return false;
        if (plume_mp_str_eq(&k, "type")) {
            ok = read_str(&r, &e->type);
        } else if (plume_mp_str_eq(&k, "value")) {
            ok = read_str(&r, &e->value);
        } else if (plume_mp_str_eq(&k, "mechanism")) {
            ok = read_str(&r, &e->mechanism);
        } else if (plume_mp_str_eq(&k, "code")) {
            ok = read_int(&r, &e->code, &e->has_code);
        } else if (plume_mp_str_eq(&k, "handled")) {
            ok = read_bool(&r, &e->handled, &e->has_handled);
        } else if (plume_mp_str_eq(&k, "signal")) {
            ok = parse_signal(&r, e);
        } else if (plume_mp_str_eq(&k, "fault_addr")) {
            ok = read_uint(&r, &e->fault_addr, &e->has_fault_addr);
        } else if (plume_mp_str_eq(&k, "thread")) {
            ok = parse_thread(&r, e);
        } else if (plume_mp_str_eq(&k, "registers")) {
            plume_mp_reader_t at = r;
            uint32_t cnt;
            if (enter_map(&r, &cnt, &ok)) {
                e->registers = at;
                e->has_registers = true;
                r = at;
                ok = plume_mp_skip(&r);
            }
        } else if (plume_mp_str_eq(&k, "frames")) {
            ok = parse_frames(&r, e);
        } else if (plume_mp_str_eq(&k, "modules")) {
            ok = parse_modules(&r, e);
        } else {
            ok = plume_mp_skip(&r);
        }
        if (!ok)
            return false;
    }
    return true;
}

static void put_lit(plume_buf_t *b, const char *s) { plume_buf_append(b, s, strlen(s)); }

static void put_hex(plume_buf_t *b, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "\"0x%" PRIx64 "\"", v);
    plume_buf_append(b, tmp, (size_t)n);
}

static void put_num(plume_buf_t *b, uint64_t v)
{
    char tmp[24];
    plume_buf_append(b, tmp, plume_json_format_u64(v, tmp));
}

static void put_inum(plume_buf_t *b, int64_t v)
{
    char tmp[24];
    plume_buf_append(b, tmp, plume_json_format_i64(v, tmp));
}

static void put_strp(plume_buf_t *b, const str_part_t *s)
{
    plume_json_write_str(b, s->s, s->len);
}

/* One frame map (its keys: addr, module, in_app, function, offset) as a
 * Sentry frame; nothing when it has no addr. */
static bool write_frame(plume_buf_t *b, const uint8_t *at, const uint8_t *end,
                        const error_parts_t *e, bool *first)
{
    plume_mp_reader_t r;
    uint32_t n;
    bool ok, has_addr = false, has_module = false, has_in_app = false, in_app = false,
             has_offset = false;
    uint64_t addr = 0, module = 0, offset = 0;
    str_part_t function = {0};
    plume_mp_reader_init(&r, at, (size_t)(end - at));
    if (!enter_map(&r, &n, &ok))
        return ok;
    for (uint32_t i = 0; i < n; i++) {
        plume_mp_value_t k;
        if (!read_key(&r, &k))
            return false;
        if (plume_mp_str_eq(&k, "addr")) {
            ok = read_uint(&r, &addr, &has_addr);
        } else if (plume_mp_str_eq(&k, "module")) {
            ok = read_uint(&r, &module, &has_module);
        } else if (plume_mp_str_eq(&k, "offset")) {
            ok = read_uint(&r, &offset, &has_offset);
        } else if (plume_mp_str_eq(&k, "function")) {
            ok = read_str(&r, &function);
        } else if (plume_mp_str_eq(&k, "in_app")) {
            ok = read_bool(&r, &in_app, &has_in_app);
        } else {
            ok = plume_mp_skip(&r);
        }
        if (!ok)
            return false;
    }
    if (!has_addr)
        return true;
    if (!*first)
        plume_buf_append_byte(b, ',');
    *first = false;
    put_lit(b, "{\"instruction_addr\":");
    put_hex(b, addr);
    if (has_module && module < e->nmodules) {
        const module_part_t *m = &e->modules[module];
        if (m->path.s) {
            put_lit(b, ",\"package\":");
            put_strp(b, &m->path);
        }
        put_lit(b, ",\"image_addr\":");
        put_hex(b, m->addr);
    }
    if (function.s) {
        put_lit(b, ",\"function\":");
        put_strp(b, &function);
        if (has_offset && offset <= addr) {
            put_lit(b, ",\"symbol_addr\":");
            put_hex(b, addr - offset);
        }
    }
    if (has_in_app)
        put_lit(b, in_app ? ",\"in_app\":true" : ",\"in_app\":false");
    plume_buf_append_byte(b, '}');
    return true;
}

/* registers: {name: uint} -> {"name":"0x.."}; other values left out. */
static bool write_registers(plume_buf_t *b, plume_mp_reader_t r)
{
    uint32_t n;
    bool ok, first = true;
    if (!enter_map(&r, &n, &ok))
        return ok;
    put_lit(b, ",\"registers\":{");
    for (uint32_t i = 0; i < n; i++) {
        plume_mp_value_t k;
        uint64_t v;
        bool has = false;
        if (!read_key(&r, &k) || !read_uint(&r, &v, &has))
            return false;
        if (!has)
            continue;
        if (!first)
            plume_buf_append_byte(b, ',');
        first = false;
        plume_json_write_str(b, k.s, k.len);
        plume_buf_append_byte(b, ':');
        put_hex(b, v);
    }
    plume_buf_append_byte(b, '}');
    return true;
}

static void write_mechanism(plume_buf_t *b, const error_parts_t *e, bool crash)
{
    put_lit(b, ",\"mechanism\":{\"type\":");
    if (e->mechanism.s)
        put_strp(b, &e->mechanism);
    else
        put_lit(b, "\"generic\"");
    if (e->has_handled)
        put_lit(b, e->handled ? ",\"handled\":true" : ",\"handled\":false");
    else if (crash)
        put_lit(b, ",\"handled\":false");
    if (e->has_sig_number || e->sig_name.s) {
        put_lit(b, ",\"meta\":{\"signal\":{");
        bool first = true;
        if (e->has_sig_number) {
            put_lit(b, "\"number\":");
            put_num(b, e->sig_number);
            first = false;
        }
        if (e->has_sig_code) {
            put_lit(b, first ? "\"code\":" : ",\"code\":");
            put_inum(b, e->sig_code);
            first = false;
        }
        if (e->sig_name.s) {
            put_lit(b, first ? "\"name\":" : ",\"name\":");
            put_strp(b, &e->sig_name);
            first = false;
        }
        if (e->sig_code_name.s) {
            put_lit(b, first ? "\"code_name\":" : ",\"code_name\":");
            put_strp(b, &e->sig_code_name);
        }
        put_lit(b, "}}");
    }
    if (e->has_code || e->has_fault_addr) {
        put_lit(b, ",\"data\":{");
        if (e->has_code) {
            put_lit(b, "\"code\":");
            put_inum(b, e->code);
        }
        if (e->has_fault_addr) {
            put_lit(b, e->has_code ? ",\"fault_addr\":" : "\"fault_addr\":");
            put_hex(b, e->fault_addr);
        }
        plume_buf_append_byte(b, '}');
    }
    plume_buf_append_byte(b, '}');
}

static void write_images(plume_buf_t *b, const error_parts_t *e)
{
    bool first = true;
    for (size_t i = 0; i < e->nmodules; i++) {
        const module_part_t *m = &e->modules[i];
        char debug_id[37];
        if (!m->path.s || m->build_id_len == 0 ||
            plume_sentry_debug_id(m->build_id, m->build_id_len, debug_id) != 0)
            continue;
        put_lit(b, first ? ",\"debug_meta\":{\"images\":[" : ",");
        first = false;
        put_lit(b, "{\"type\":\"elf\",\"code_file\":");
        put_strp(b, &m->path);
        put_lit(b, ",\"image_addr\":");
        put_hex(b, m->addr);
        put_lit(b, ",\"image_size\":");
        put_num(b, m->size);
        char *hex = malloc((size_t)m->build_id_len * 2 + 1);
        if (hex) {
            plume_hex(m->build_id, m->build_id_len, hex);
            put_lit(b, ",\"code_id\":\"");
            put_lit(b, hex);
            plume_buf_append_byte(b, '"');
            free(hex);
        }
        put_lit(b, ",\"debug_id\":\"");
        put_lit(b, debug_id);
        put_lit(b, "\"}");
    }
    if (!first)
        put_lit(b, "]}");
}

bool plume_sentry_write_exception(plume_buf_t *b, const uint8_t *error, size_t len,
                                  uint64_t *thread_id_out, bool *has_thread)
{
    error_parts_t *e = calloc(1, sizeof(*e));
    if (!e)
        return false;
    size_t start = b->len;
    bool ok = parse_error_map(error, len, e);
    bool crash = e->mechanism.s && e->mechanism.len == 13 &&
                 memcmp(e->mechanism.s, "signalhandler", 13) == 0;
    if (!ok || (!e->type.s && !e->value.s && e->nframes == 0))
        goto done; /* nothing usable: no exception member */
    put_lit(b, ",\"exception\":{\"values\":[{\"type\":");
    if (e->type.s)
        put_strp(b, &e->type);
    else if (e->sig_name.s)
        put_strp(b, &e->sig_name);
    else
        put_lit(b, "\"error\"");
    if (e->value.s) {
        put_lit(b, ",\"value\":");
        put_strp(b, &e->value);
    }
    if (e->has_thread) {
        put_lit(b, ",\"thread_id\":");
        put_num(b, e->thread_id);
        *thread_id_out = e->thread_id;
        *has_thread = true;
    }
    write_mechanism(b, e, crash);
    if (e->nframes) {
        put_lit(b, ",\"stacktrace\":{\"frames\":[");
        bool first = true;
        for (size_t i = e->nframes; i-- > 0;) {
            const uint8_t *end = i + 1 < e->nframes ? e->frame_at[i + 1] : e->frames_end;
            if (!write_frame(b, e->frame_at[i], end, e, &first)) {
                ok = false;
                goto done;
            }
        }
        plume_buf_append_byte(b, ']');
        /* a signal's first frame is the faulting instruction itself; a
         * captured stack holds only return addresses */
        put_lit(b, crash ? ",\"instruction_addr_adjustment\":\"auto\""
                         : ",\"instruction_addr_adjustment\":\"all\"");
        if (e->has_registers && !write_registers(b, e->registers)) {
            ok = false;
            goto done;
        }
        plume_buf_append_byte(b, '}');
    }
    put_lit(b, "}]}");
    write_images(b, e);
done:
    if (!ok)
        b->len = start;
    free(e->modules);
    free(e);
    return !b->failed;
}
