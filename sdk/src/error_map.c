/* SPDX-License-Identifier: MIT */
/* A captured error's `error` map, and the worker's module-table refreshes.
 * See error_map.h. */
#include "error_map.h"

#include <stdlib.h>
#include <string.h>

#include "modules.h"
#include "monotime.h"
#include "mp.h"

bool plume_error_map_init(plume_error_map_t *m, const plume_options_t *o)
{
    memset(m, 0, sizeof(*m));
    for (uint32_t i = 0; o && i < o->n_in_app_prefixes && i < PLUME_MAX_IN_APP_PREFIXES; i++) {
        if (!o->in_app_prefixes[i])
            continue;
        if (!(m->prefixes[m->nprefixes] = strdup(o->in_app_prefixes[i]))) {
            plume_error_map_free(m);
            return false;
        }
        m->nprefixes++;
    }
    if (plume_modules_current()->count > 0) {
        /* published already (the crash handler's install does it first, on
         * this same thread): count it as a refresh made now, so the next one
         * keeps the spacing */
        m->last_refresh_ms = plume_mono_ms();
    } else if (plume_modules_refresh() >= 0) {
        m->last_refresh_ms = plume_mono_ms();
        m->refreshes++;
    }
    return true;
}

void plume_error_map_free(plume_error_map_t *m)
{
    for (uint32_t i = 0; i < m->nprefixes; i++)
        free(m->prefixes[i]);
    memset(m, 0, sizeof(*m));
}

bool plume_error_map_refresh(plume_error_map_t *m, uint64_t now_ms)
{
    if (m->last_refresh_ms != 0 && now_ms - m->last_refresh_ms < PLUME_ERROR_MAP_REFRESH_MS)
        return false; /* too soon (checked first: it costs nothing) */
    if (!plume_modules_changed())
        return false;
    if (plume_modules_refresh() < 0)
        return false;
    m->last_refresh_ms = now_ms ? now_ms : 1;
    m->refreshes++;
    return true;
}

static void put_key(plume_buf_t *b, const char *k) { plume_mp_str(b, k, strlen(k)); }

/* One module entry: path, addr, size, build_id (when known), main. */
static void put_module(plume_buf_t *b, const plume_module_t *mod)
{
    plume_mp_map_header(b, mod->build_id_len ? 5 : 4);
    put_key(b, "path");
    plume_mp_str(b, mod->path, mod->path_len);
    put_key(b, "addr");
    plume_mp_uint(b, mod->image_addr);
    put_key(b, "size");
    plume_mp_uint(b, mod->image_size);
    if (mod->build_id_len) {
        put_key(b, "build_id");
        plume_mp_bin(b, mod->build_id, mod->build_id_len);
    }
    put_key(b, "main");
    plume_mp_bool(b, mod->is_main);
}

bool plume_error_map_write(const plume_error_map_t *m, plume_buf_t *out,
                           const plume_record_view_t *r, uint32_t tid, const char *name)
{
    const plume_modules_t *mods = plume_modules_current();
    /* The modules the event lists: table indexes, main executable first. */
    int32_t listed[PLUME_RECORD_MAX_FRAMES + 1];
    uint32_t nlisted = 0;
    for (size_t i = 0; i < mods->count; i++) {
        if (mods->modules[i].is_main) {
            listed[nlisted++] = (int32_t)i;
            break;
        }
    }
    int32_t frame_mod[PLUME_RECORD_MAX_FRAMES]; /* index into listed, or -1 */
    uint32_t nframes = r->nframes < PLUME_RECORD_MAX_FRAMES ? r->nframes : PLUME_RECORD_MAX_FRAMES;
    for (uint32_t f = 0; f < nframes; f++) {
        uintptr_t a = plume_record_frame(r, f);
        /* a return address: the call is just before it (a call at the very end
         * of a module must not be looked up in the next one) */
        int idx = a ? plume_modules_find(mods, a - 1) : -1;
        frame_mod[f] = -1;
        if (idx < 0)
            continue;
        uint32_t k = 0;
        while (k < nlisted && listed[k] != idx)
            k++;
        if (k == nlisted)
            listed[nlisted++] = idx;
        frame_mod[f] = (int32_t)k;
    }

    bool has_value = r->message != NULL;
    /* type, mechanism, handled, thread, frames, modules (+ value, code) */
    uint32_t keys = 6 + (has_value ? 1 : 0) + (r->has_code ? 1 : 0);
    plume_mp_map_header(out, keys);
    put_key(out, "type");
    plume_mp_str(out, r->err_type, r->err_type_len);
    if (has_value) {
        put_key(out, "value");
        plume_mp_str(out, r->message, r->message_len);
    }
    if (r->has_code) {
        put_key(out, "code");
        plume_mp_int(out, r->code);
    }
    put_key(out, "mechanism");
    plume_mp_str(out, "generic", 7);
    put_key(out, "handled");
    plume_mp_bool(out, true);
    put_key(out, "thread");
    size_t name_len = name ? strnlen(name, 16) : 0;
    plume_mp_map_header(out, name_len ? 2 : 1);
    put_key(out, "id");
    plume_mp_uint(out, tid);
    if (name_len) {
        put_key(out, "name");
        plume_mp_str(out, name, name_len);
    }
    put_key(out, "frames");
    plume_mp_array_header(out, nframes);
    for (uint32_t f = 0; f < nframes; f++) {
        int32_t k = frame_mod[f];
        plume_mp_map_header(out, k >= 0 ? 3 : 2);
        put_key(out, "addr");
        plume_mp_uint(out, plume_record_frame(r, f));
        if (k >= 0) {
            put_key(out, "module");
            plume_mp_uint(out, (uint64_t)k);
        }
        put_key(out, "in_app");
        plume_mp_bool(out, k >= 0 &&
                               plume_module_in_app(&mods->modules[listed[k]],
                                                   (const char *const *)m->prefixes,
                                                   m->nprefixes));
    }
    put_key(out, "modules");
    plume_mp_array_header(out, nlisted);
    for (uint32_t k = 0; k < nlisted; k++)
        put_module(out, &mods->modules[listed[k]]);
    return !out->failed;
}
