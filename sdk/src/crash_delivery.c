/* SPDX-License-Identifier: MIT */
/* Crash reports -> pipeline events, and removing the delivered ones. See
 * crash_delivery.h. */
#include "crash_delivery.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crash.h"
#include "crumbs.h"
#include "elf_symbols.h"
#include "json_write.h"
#include "mp.h"
#include "record.h"
#include "record_json.h"
#include "time_format.h"

#define STALE_TMP_SECONDS 600 /* a .tmp this old is a handler that died mid-write */
#define MAX_EVENT_JSON (8u << 20)
#define MAX_ERROR_MAP (8u << 20)

/* ---- the event ---- */

void plume_crash_event_init(plume_crash_event_t *e)
{
    memset(e, 0, sizeof(*e));
    plume_buf_init(&e->json, MAX_EVENT_JSON);
    plume_buf_init(&e->error, MAX_ERROR_MAP);
    plume_buf_init(&e->message, 1024);
    plume_buf_init(&e->scratch, MAX_EVENT_JSON);
}

void plume_crash_event_free(plume_crash_event_t *e)
{
    plume_buf_free(&e->json);
    plume_buf_free(&e->error);
    plume_buf_free(&e->message);
    plume_buf_free(&e->scratch);
}

static void json_key(plume_buf_t *b, const char *k)
{
    plume_buf_append(b, ",", 1);
    plume_json_write_str(b, k, strlen(k));
    plume_buf_append(b, ":", 1);
}

static void json_str(plume_buf_t *b, const plume_crash_str_t *s)
{
    plume_json_write_str(b, s->s ? s->s : "", s->s ? s->len : 0);
}

/* The scope's pairs: only "tags", "user" and "contexts" holding maps (what
 * scope.c writes); anything else in a hostile file is left out. */
static void json_scope(plume_buf_t *b, const plume_crash_report_t *r, const plume_scrub_t *scrub)
{
    plume_mp_reader_t rd;
    plume_mp_reader_init(&rd, r->scope, r->scope_len);
    for (uint32_t i = 0; i < r->scope_npairs; i++) {
        plume_mp_value_t k, v;
        if (!plume_mp_read(&rd, &k) || k.type != PLUME_MP_STR)
            return;
        plume_mp_reader_t at = rd;
        bool known = plume_mp_str_eq(&k, "tags") || plume_mp_str_eq(&k, "user") ||
                     plume_mp_str_eq(&k, "contexts");
        if (!known || !plume_mp_read(&at, &v) || v.type != PLUME_MP_MAP) {
            if (!plume_mp_skip(&rd))
                return;
            continue;
        }
        size_t mark = b->len;
        json_key(b, k.len == 4 ? (k.s[0] == 't' ? "tags" : "user") : "contexts");
        if (!plume_scrub_write_mp_json(b, &rd, scrub)) {
            b->len = mark;
            return;
        }
    }
}

/* The thread's overlay pairs, rendered like a record's fields. */
static void json_overlay(plume_crash_event_t *e, const plume_crash_report_t *r,
                         const plume_crash_event_opts_t *o, unsigned *hints)
{
    plume_buf_t *s = &e->scratch;
    plume_buf_reset(s);
    plume_mp_map_header(s, r->overlay_npairs);
    plume_buf_append(s, r->overlay, r->overlay_len);
    size_t mark = e->json.len;
    if (s->failed ||
        !plume_record_json_members_scrub(&e->json, s->data, s->len, hints, o->scrub))
        e->json.len = mark;
}

/* One breadcrumb as convert.c writes them (crumbs.c's shape). */
static bool json_crumb(plume_buf_t *b, const plume_crash_crumb_t *c, const plume_scrub_t *scrub)
{
    plume_record_view_t rv;
    if (!plume_record_read(c->record, c->len, &rv))
        return false;
    const char *category = c->log ? "log" : rv.category;
    size_t category_len = c->log ? 3 : rv.category_len;
    char when[PLUME_TIME_FORMAT_MAX];
    size_t when_len = plume_time_format_rfc3339(c->ns, when);
    plume_buf_append(b, "{\"timestamp\":", 13);
    plume_json_write_str(b, when, when_len);
    plume_buf_append(b, ",\"level\":", 9);
    const char *level = plume_level_name(rv.level);
    plume_json_write_str(b, level, strlen(level));
    if (category) {
        plume_buf_append(b, ",\"category\":", 12);
        plume_json_write_str(b, category, category_len);
    }
    if (rv.message) {
        plume_buf_append(b, ",\"message\":", 11);
        plume_json_write_str(b, rv.message,
                             rv.message_len < PLUME_CRUMB_MAX_MESSAGE ? rv.message_len
                                                                      : PLUME_CRUMB_MAX_MESSAGE);
    }
    if (rv.nfields) {
        plume_mp_reader_t rd;
        plume_mp_reader_init(&rd, rv.fields, rv.fields_len);
        plume_buf_append(b, ",\"data\":", 8);
        if (!plume_scrub_write_mp_json(b, &rd, scrub))
            return false;
    }
    plume_buf_append(b, "}", 1);
    return true;
}

/* "breadcrumbs": oldest first, only those before the crash. */
static void json_crumbs(plume_buf_t *b, const plume_crash_report_t *r, const plume_scrub_t *scrub)
{
    uint16_t order[PLUME_MAX_BREADCRUMBS_LIMIT];
    size_t n = 0;
    for (size_t i = 0; i < r->ncrumbs && i < PLUME_MAX_BREADCRUMBS_LIMIT; i++) {
        if (r->crumbs[i].ns > r->time_ns)
            continue;
        size_t j = n++;
        while (j > 0 && r->crumbs[order[j - 1]].ns > r->crumbs[i].ns) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = (uint16_t)i;
    }
    if (!n)
        return;
    size_t mark = b->len;
    plume_buf_append(b, ",\"breadcrumbs\":[", 16);
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        size_t m = b->len;
        if (!first)
            plume_buf_append(b, ",", 1);
        if (!json_crumb(b, &r->crumbs[order[i]], scrub)) {
            b->len = m; /* cannot happen after parse validated it */
            continue;
        }
        first = false;
    }
    plume_buf_append(b, "]", 1);
    if (first)
        b->len = mark;
}

/* The module index of addr in r, or -1. */
static long find_module(const plume_crash_report_t *r, uint64_t addr)
{
    for (size_t i = 0; i < r->nmodules; i++)
        if (addr >= r->modules[i].addr && addr - r->modules[i].addr < r->modules[i].size)
            return (long)i;
    return -1;
}

static bool module_in_app(const plume_crash_module_t *m, const plume_crash_event_opts_t *o)
{
    if (m->main)
        return true;
    for (size_t i = 0; i < o->n_in_app_prefixes; i++) {
        const char *p = o->in_app_prefixes[i];
        size_t n = p ? strlen(p) : 0;
        if (n && m->path.len >= n && memcmp(m->path.s, p, n) == 0)
            return true;
    }
    return false;
}

/* Symbol files opened for one event, per report module (opened lazily). */
typedef struct symcache {
    plume_elf_t *elf[PLUME_MODULES_MAX];
    bool tried[PLUME_MODULES_MAX];
} symcache_t;

static plume_elf_t *module_elf(symcache_t *sc, const plume_crash_report_t *r, size_t mi)
{
    if (sc->tried[mi])
        return sc->elf[mi];
    sc->tried[mi] = true;
    const plume_crash_module_t *m = &r->modules[mi];
    char path[PLUME_MODULE_PATH_MAX];
    if (!m->path.len || m->path.len >= sizeof(path) || m->path.s[0] != '/' ||
        memchr(m->path.s, '\0', m->path.len))
        return NULL;
    memcpy(path, m->path.s, m->path.len);
    path[m->path.len] = '\0';
    plume_elf_t *e = plume_elf_open(path, NULL, 0);
    if (!e)
        return NULL;
    /* a file rebuilt since the crash would name the wrong functions */
    const uint8_t *id;
    size_t idlen;
    if (m->build_id_len &&
        (!plume_elf_build_id(e, &id, &idlen) || idlen != m->build_id_len ||
         memcmp(id, m->build_id, idlen) != 0)) {
        plume_elf_close(e);
        return NULL;
    }
    sc->elf[mi] = e;
    return e;
}

static void write_module(plume_buf_t *b, const plume_crash_module_t *m)
{
    plume_mp_map_header(b, 5);
    plume_mp_cstr(b, "path");
    plume_mp_str(b, m->path.s, m->path.len);
    plume_mp_cstr(b, "addr");
    plume_mp_uint(b, m->addr);
    plume_mp_cstr(b, "size");
    plume_mp_uint(b, m->size);
    plume_mp_cstr(b, "build_id");
    plume_mp_bin(b, m->build_id, m->build_id_len);
    plume_mp_cstr(b, "main");
    plume_mp_bool(b, m->main);
}

/* frames (innermost first) and modules (the main executable first, then
 * those the frames need, in the order they meet them). */
static void write_frames_modules(plume_buf_t *b, const plume_crash_report_t *r,
                                 const plume_crash_event_opts_t *o)
{
    int16_t event_index[PLUME_MODULES_MAX];
    size_t used[PLUME_MODULES_MAX];
    size_t nused = 0;
    for (size_t i = 0; i < r->nmodules; i++)
        event_index[i] = -1;
    for (size_t i = 0; i < r->nmodules; i++)
        if (r->modules[i].main && nused == 0) {
            event_index[i] = 0;
            used[nused++] = i;
        }
    symcache_t *sc = o->symbolicate ? calloc(1, sizeof(*sc)) : NULL;
    plume_mp_cstr(b, "frames");
    plume_mp_array_header(b, (uint32_t)r->nframes);
    for (size_t f = 0; f < r->nframes; f++) {
        uint64_t addr = r->frames[f];
        long mi = find_module(r, addr);
        const char *fn = NULL;
        uint64_t off = 0;
        if (mi >= 0 && sc && addr > 0) {
            plume_elf_t *e = module_elf(sc, r, (size_t)mi);
            /* return addresses: look up the call instruction before them */
            uint64_t look = f == 0 ? addr : addr - 1;
            if (e) {
                uint64_t vaddr = look - r->modules[mi].addr + plume_elf_first_load_vaddr(e);
                if (plume_elf_symbolize(e, vaddr, &fn, &off))
                    off += addr - look;
            }
        }
        if (mi >= 0 && event_index[mi] < 0) {
            event_index[mi] = (int16_t)nused;
            used[nused++] = (size_t)mi;
        }
        plume_mp_map_header(b, 1 + (mi >= 0 ? 2 : 1) + (fn ? 2 : 0));
        plume_mp_cstr(b, "addr");
        plume_mp_uint(b, addr);
        if (mi >= 0) {
            plume_mp_cstr(b, "module");
            plume_mp_uint(b, (uint64_t)event_index[mi]);
        }
        plume_mp_cstr(b, "in_app");
        plume_mp_bool(b, mi >= 0 && module_in_app(&r->modules[mi], o));
        if (fn) {
            plume_mp_cstr(b, "function");
            plume_mp_cstr(b, fn);
            plume_mp_cstr(b, "offset");
            plume_mp_uint(b, off);
        }
    }
    if (sc) {
        for (size_t i = 0; i < r->nmodules; i++)
            plume_elf_close(sc->elf[i]);
        free(sc);
    }
    plume_mp_cstr(b, "modules");
    plume_mp_array_header(b, (uint32_t)nused);
    for (size_t i = 0; i < nused; i++)
        write_module(b, &r->modules[used[i]]);
}

static void write_error_map(plume_buf_t *b, const plume_crash_report_t *r,
                            const plume_crash_event_opts_t *o, const char *value, size_t value_len,
                            bool sent)
{
    const char *name = plume_crash_signal_name(r->signo);
    const char *code_name = plume_crash_code_name(r->signo, r->code);
    plume_mp_map_header(b, 8 + (!sent && r->has_fault_addr) + (r->nregs > 0) + 2);
    plume_mp_cstr(b, "type");
    plume_mp_cstr(b, name);
    plume_mp_cstr(b, "value");
    plume_mp_str(b, value, value_len);
    plume_mp_cstr(b, "id");
    plume_mp_cstr(b, r->id);
    plume_mp_cstr(b, "mechanism");
    plume_mp_cstr(b, "signalhandler");
    plume_mp_cstr(b, "handled");
    plume_mp_bool(b, false);
    plume_mp_cstr(b, "signal");
    plume_mp_map_header(b, 3 + (code_name != NULL));
    plume_mp_cstr(b, "number");
    plume_mp_uint(b, r->signo);
    plume_mp_cstr(b, "name");
    plume_mp_cstr(b, name);
    plume_mp_cstr(b, "code");
    plume_mp_int(b, r->code);
    if (code_name) {
        plume_mp_cstr(b, "code_name");
        plume_mp_cstr(b, code_name);
    }
    if (!sent && r->has_fault_addr) {
        plume_mp_cstr(b, "fault_addr");
        plume_mp_uint(b, r->fault_addr);
    }
    plume_mp_cstr(b, "thread");
    plume_mp_map_header(b, 2);
    plume_mp_cstr(b, "id");
    plume_mp_uint(b, r->tid);
    plume_mp_cstr(b, "name");
    plume_mp_str(b, r->thread_name.s ? r->thread_name.s : "", r->thread_name.len);
    if (r->nregs) {
        plume_mp_cstr(b, "registers");
        plume_mp_map_header(b, (uint32_t)r->nregs);
        for (size_t i = 0; i < r->nregs; i++) {
            plume_mp_str(b, r->regs[i].name.s, r->regs[i].name.len);
            plume_mp_uint(b, r->regs[i].value);
        }
    }
    plume_mp_cstr(b, "pid");
    plume_mp_uint(b, r->pid);
    write_frames_modules(b, r, o);
}

bool plume_crash_event_build(plume_crash_event_t *e, const plume_crash_report_t *r,
                             const plume_crash_event_opts_t *o)
{
    plume_buf_reset(&e->json);
    plume_buf_reset(&e->error);
    plume_buf_reset(&e->message);
    bool sent = r->code <= 0;
    const char *name = plume_crash_signal_name(r->signo);
    const char *code_name = plume_crash_code_name(r->signo, r->code);
    char code_buf[32];
    if (!code_name) {
        snprintf(code_buf, sizeof(code_buf), "code %" PRId64, r->code);
        code_name = code_buf;
    }
    /* message "SIGSEGV (SEGV_MAPERR) at 0x0"; value "Segmentation fault
     * (SEGV_MAPERR) at 0x0" (a sent signal has no fault address) */
    char at[40] = "";
    if (!sent && r->has_fault_addr)
        snprintf(at, sizeof(at), " at 0x%" PRIx64, r->fault_addr);
    plume_buf_printf(&e->message, "%s (%s)%s", name, code_name, at);
    char value[160];
    int vlen = snprintf(value, sizeof(value), "%s (%s)%s", plume_crash_signal_text(r->signo),
                        code_name, at);

    plume_buf_t *b = &e->json;
    unsigned hints = 0;
    if (r->overlay)
        json_overlay(e, r, o, &hints);
    char num[24];
    plume_buf_append(b, ",\"thread.id\":", 13);
    plume_buf_append(b, num, plume_json_format_u64(r->tid, num));
    if (r->thread_name.len) {
        plume_buf_append(b, ",\"thread.name\":", 15);
        json_str(b, &r->thread_name);
    }
    if (r->release.s) {
        json_key(b, "release");
        json_str(b, &r->release);
    }
    if (r->environment.s) {
        json_key(b, "environment");
        json_str(b, &r->environment);
    }
    if (r->server_name.s) {
        json_key(b, "server_name");
        json_str(b, &r->server_name);
    }
    if (r->scope)
        json_scope(b, r, o->scrub);
    json_crumbs(b, r, o->scrub);
    plume_buf_append(b, "}", 1);
    if (b->failed)
        return false;
    b->data[0] = '{'; /* the first member's comma */

    write_error_map(&e->error, r, o, value, vlen > 0 ? (size_t)vlen : 0, sent);
    if (e->error.failed || e->message.failed)
        return false;
    e->view = (plume_event_view_t){
        .time_ns = r->time_ns,
        .level = PLUME_LEVEL_FATAL,
        .message = (const char *)e->message.data,
        .message_len = e->message.len,
        .origin = "crash",
        .origin_len = 5,
        .fields_json = (const char *)b->data,
        .fields_json_len = b->len,
        .hints = hints,
        .error = e->error.data,
        .error_len = e->error.len,
    };
    return true;
}

/* ---- the files ---- */

bool plume_crash_delivery_init(plume_crash_delivery_t *d, const plume_options_t *o)
{
    memset(d, 0, sizeof(*d));
    const char *data_dir = plume_crash_data_dir(o);
    size_t n = strlen(data_dir) + sizeof(PLUME_CRASH_DIR) + 2;
    if (!(d->dir = malloc(n)))
        return false;
    snprintf(d->dir, n, "%s/%s", data_dir, PLUME_CRASH_DIR);
    for (uint32_t i = 0; i < o->n_in_app_prefixes && i < PLUME_MAX_IN_APP_PREFIXES; i++) {
        if (!o->in_app_prefixes[i])
            continue;
        if (!(d->prefixes[d->nprefixes] = strdup(o->in_app_prefixes[i]))) {
            plume_crash_delivery_free(d);
            return false;
        }
        d->nprefixes++;
    }
    d->settled = true;
    return true;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}

static uint64_t drops_of(const plume_metrics_t *m)
{
    return m->dropped_outbox_full + m->dropped_failed + m->dropped_corrupt + m->dropped_encode +
           m->rejected_by_sink + m->dropped_rate_limited;
}

/* A warning event naming a refused report (the library prints nothing). */
static void submit_refusal(plume_crash_submit_fn submit, void *ctx, const char *why)
{
    plume_buf_t b;
    plume_buf_init(&b, 4096);
    plume_buf_append_str(&b, "{\"reason\":");
    plume_json_write_str(&b, why, strlen(why));
    plume_buf_append_str(&b, "}");
    static const char msg[] = "plume: crash report refused and moved to crash/corrupt/";
    if (!b.failed) {
        plume_event_view_t ev = {
            .time_ns = plume_now_ns(),
            .level = PLUME_LEVEL_WARN,
            .message = msg,
            .message_len = sizeof(msg) - 1,
            .origin = "crash",
            .origin_len = 5,
            .fields_json = (const char *)b.data,
            .fields_json_len = b.len,
        };
        submit(ctx, &ev);
    }
    plume_buf_free(&b);
}

/* Moves a refused report to <dir>/corrupt/ (removes it when that fails). */
static void set_aside(plume_crash_delivery_t *d, const char *path, const char *name)
{
    char dst[4096];
    snprintf(dst, sizeof(dst), "%s/corrupt", d->dir);
    mkdir(dst, 0700);
    if ((size_t)snprintf(dst, sizeof(dst), "%s/corrupt/%s", d->dir, name) >= sizeof(dst) ||
        rename(path, dst) != 0)
        unlink(path);
    d->corrupt++;
}

void plume_crash_delivery_run(plume_crash_delivery_t *d, const plume_scrub_t *scrub,
                              plume_crash_submit_fn submit, void *ctx, const plume_metrics_t *m)
{
    DIR *dir = d->dir ? opendir(d->dir) : NULL;
    if (!dir)
        return;
    if (!(d->pending = calloc(PLUME_CRASH_DELIVERY_MAX, sizeof(*d->pending)))) {
        closedir(dir);
        return;
    }
    d->drops_at_submit = drops_of(m);
    plume_crash_event_t *ev = malloc(sizeof(*ev));
    plume_crash_report_t *r = malloc(sizeof(*r));
    plume_crash_event_opts_t eo = {
        .in_app_prefixes = (const char *const *)d->prefixes,
        .n_in_app_prefixes = d->nprefixes,
        .scrub = scrub,
        .symbolicate = true,
    };
    if (ev)
        plume_crash_event_init(ev);
    struct dirent *de;
    while (ev && r && d->npending < PLUME_CRASH_DELIVERY_MAX && (de = readdir(dir)) != NULL) {
        char path[4096];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", d->dir, de->d_name) >= sizeof(path))
            continue;
        if (has_suffix(de->d_name, PLUME_CRASH_TMP_SUFFIX)) {
            struct stat st;
            if (stat(path, &st) == 0 && time(NULL) - st.st_mtime > STALE_TMP_SECONDS)
                unlink(path);
            continue;
        }
        if (!has_suffix(de->d_name, PLUME_CRASH_SUFFIX))
            continue;
        uint8_t *data;
        size_t len;
        char err[512];
        if (!plume_crash_report_load(path, &data, &len, r, err, sizeof(err))) {
            free(data);
            set_aside(d, path, de->d_name);
            submit_refusal(submit, ctx, err);
            continue;
        }
        bool built = plume_crash_event_build(ev, r, &eo);
        if (!built) {
            free(data);
            d->kept++; /* out of memory now: the next start tries again */
            continue;
        }
        bool taken = submit(ctx, &ev->view);
        free(data);
        d->submitted++;
        if (!taken) {
            unlink(path); /* before_send dropped it: the user's decision */
            d->removed++;
            continue;
        }
        if ((d->pending[d->npending] = strdup(path)))
            d->npending++;
    }
    closedir(dir);
    if (ev) {
        plume_crash_event_free(ev);
        free(ev);
    }
    free(r);
    d->settled = d->npending == 0;
}

void plume_crash_delivery_poll(plume_crash_delivery_t *d, const plume_pipeline_t *p,
                               const plume_metrics_t *m)
{
    if (d->settled)
        return;
    if (drops_of(m) != d->drops_at_submit) {
        d->kept += d->npending; /* something was lost: maybe ours, keep them */
        d->settled = true;
        return;
    }
    if (p->nsinks == 0 || !plume_pipeline_idle(p))
        return;
    for (size_t i = 0; i < d->npending; i++) {
        if (unlink(d->pending[i]) == 0 || errno == ENOENT)
            d->removed++;
        free(d->pending[i]);
        d->pending[i] = NULL;
    }
    d->npending = 0;
    d->settled = true;
}

void plume_crash_delivery_free(plume_crash_delivery_t *d)
{
    for (size_t i = 0; i < d->npending; i++)
        free(d->pending[i]);
    free(d->pending);
    for (size_t i = 0; i < d->nprefixes; i++)
        free(d->prefixes[i]);
    free(d->dir);
    memset(d, 0, sizeof(*d));
}
