/* SPDX-License-Identifier: MIT */
/* The crash report's writer (in the signal handler) and reader (at the next
 * start). See crash_report.h for the format. */
#include "crash_report.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>

#include "crumbs.h"
#include "mp.h"
#include "overlay.h"
#include "record.h"
#include "scope.h"

/* ---- writing (async-signal-safe) ---- */

static void key(plume_cw_t *w, const char *k) { plume_cw_cstr(w, k, 64); }

/* The registers of the interrupted context, as a map. */
static void write_regs(plume_cw_t *w, const void *ucontext)
{
#if defined(__x86_64__)
    static const struct {
        const char *name;
        int reg;
    } regs[] = {
        {"rip", REG_RIP}, {"rsp", REG_RSP}, {"rbp", REG_RBP}, {"rax", REG_RAX},
        {"rbx", REG_RBX}, {"rcx", REG_RCX}, {"rdx", REG_RDX}, {"rsi", REG_RSI},
        {"rdi", REG_RDI}, {"r8", REG_R8},   {"r9", REG_R9},   {"r10", REG_R10},
        {"r11", REG_R11}, {"r12", REG_R12}, {"r13", REG_R13}, {"r14", REG_R14},
        {"r15", REG_R15}, {"eflags", REG_EFL},
    };
    const ucontext_t *uc = ucontext;
    plume_cw_map(w, sizeof(regs) / sizeof(regs[0]));
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        key(w, regs[i].name);
        plume_cw_uint(w, (uint64_t)uc->uc_mcontext.gregs[regs[i].reg]);
    }
#elif defined(__aarch64__)
    static const char *const names[31] = {
        "x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",  "x7",  "x8",  "x9",  "x10",
        "x11", "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21",
        "x22", "x23", "x24", "x25", "x26", "x27", "x28", "fp",  "lr"};
    const ucontext_t *uc = ucontext;
    plume_cw_map(w, 34);
    for (int i = 0; i < 31; i++) {
        key(w, names[i]);
        plume_cw_uint(w, uc->uc_mcontext.regs[i]);
    }
    key(w, "sp");
    plume_cw_uint(w, uc->uc_mcontext.sp);
    key(w, "pc");
    plume_cw_uint(w, uc->uc_mcontext.pc);
    key(w, "pstate");
    plume_cw_uint(w, uc->uc_mcontext.pstate);
#else
    (void)ucontext;
    plume_cw_map(w, 0);
#endif
}

static void write_modules(plume_cw_t *w)
{
    const plume_modules_t *mods = plume_modules_current();
    size_t at = plume_cw_array_begin(w);
    uint32_t n = 0;
    for (size_t i = 0; i < mods->count && i < PLUME_MODULES_MAX; i++) {
        const plume_module_t *m = &mods->modules[i];
        size_t mark = plume_cw_mark(w);
        plume_cw_map(w, 5);
        key(w, "path");
        plume_cw_str(w, m->path, m->path_len);
        key(w, "addr");
        plume_cw_uint(w, m->image_addr);
        key(w, "size");
        plume_cw_uint(w, m->image_size);
        key(w, "build_id");
        plume_cw_bin(w, m->build_id, m->build_id_len <= PLUME_MODULE_BUILD_ID_MAX ? m->build_id_len : 0);
        key(w, "main");
        plume_cw_bool(w, m->is_main);
        if (w->overflow) {
            plume_cw_rollback(w, mark);
            break;
        }
        n++;
    }
    plume_cw_patch(w, at, n);
}

typedef struct crumb_ctx {
    plume_cw_t *w;
    const plume_crash_context_t *c;
    uint32_t n;
    bool full;
} crumb_ctx_t;

static void write_crumb(void *arg, uint64_t stamp, bool log, const uint8_t *rec, uint32_t len)
{
    crumb_ctx_t *x = arg;
    if (x->full)
        return;
    uint64_t ns = stamp;
    if (x->c->tsc) {
        uint64_t ticks = x->c->now_stamp > stamp ? x->c->now_stamp - stamp : 0;
        unsigned __int128 back = ((unsigned __int128)ticks * x->c->ns_per_tick_q32) >> 32;
        ns = back >= x->c->time_ns ? 0 : x->c->time_ns - (uint64_t)back;
    }
    size_t mark = plume_cw_mark(x->w);
    plume_cw_array(x->w, 3);
    plume_cw_uint(x->w, ns);
    plume_cw_bool(x->w, log);
    plume_cw_bin(x->w, rec, len);
    if (x->w->overflow) {
        plume_cw_rollback(x->w, mark);
        x->full = true;
        return;
    }
    x->n++;
}

/* "scope": [npairs, pairs]: read straight into the buffer. */
static bool write_scope(plume_cw_t *w)
{
    key(w, "scope");
    plume_cw_array(w, 2);
    uint8_t *np = plume_cw_reserve(w, 5);
    uint8_t *bh = plume_cw_reserve(w, 5);
    if (!np || !bh)
        return false;
    uint32_t npairs = 0;
    long got = plume_scope_read_signal_safe(w->buf + w->len, w->cap - w->len, &npairs);
    if (got <= 0 || npairs == 0)
        return false;
    np[0] = 0xce;
    bh[0] = 0xc6;
    for (int i = 0; i < 4; i++) {
        np[1 + i] = (uint8_t)(npairs >> (24 - 8 * i));
        bh[1 + i] = (uint8_t)((uint64_t)got >> (24 - 8 * i));
    }
    w->len += (size_t)got;
    return true;
}

static bool write_overlay(plume_cw_t *w)
{
    uint64_t state = plume_hot1_thread_.overlay;
    uint32_t len = (uint32_t)(state >> 32), npairs = (uint32_t)state;
    if (!npairs || len > PLUME_OVERLAY_MAX_BYTES)
        return false;
    key(w, "overlay");
    plume_cw_array(w, 2);
    plume_cw_uint(w, npairs);
    plume_cw_bin(w, plume_overlay.bytes, len);
    return !w->overflow;
}

static void write_opt_str(plume_cw_t *w, const char *k, const char *v, uint32_t *count)
{
    if (!v)
        return;
    size_t mark = plume_cw_mark(w);
    key(w, k);
    plume_cw_cstr(w, v, PLUME_CRASH_STR_MAX);
    if (w->overflow)
        plume_cw_rollback(w, mark);
    else
        (*count)++;
}

bool plume_crash_report_write(plume_cw_t *w, const plume_crash_context_t *c)
{
    size_t top = plume_cw_map_begin(w);
    uint32_t count = 0;
    key(w, "v");
    plume_cw_uint(w, PLUME_CRASH_REPORT_VERSION);
    key(w, "id");
    plume_cw_str(w, c->id, PLUME_CRASH_ID_LEN);
    key(w, "time");
    plume_cw_uint(w, c->time_ns);
    key(w, "signo");
    plume_cw_uint(w, (uint64_t)c->signo);
    key(w, "code");
    plume_cw_int(w, c->code);
    key(w, "addr");
    plume_cw_uint(w, c->fault_addr);
    key(w, "pid");
    plume_cw_uint(w, c->pid);
    key(w, "tid");
    plume_cw_uint(w, c->tid);
    key(w, "tname");
    plume_cw_cstr(w, c->thread_name ? c->thread_name : "", 16);
    if (w->overflow)
        return false;
    count = 9;

    size_t mark = plume_cw_mark(w);
    if (c->ucontext) {
        key(w, "regs");
        write_regs(w, c->ucontext);
        if (w->overflow)
            plume_cw_rollback(w, mark);
        else
            count++;
    }
    /* frames: as many as fit */
    mark = plume_cw_mark(w);
    key(w, "frames");
    size_t at = plume_cw_array_begin(w);
    uint32_t nf = 0;
    for (size_t i = 0; i < c->nframes && i < PLUME_CRASH_MAX_FRAMES && !w->overflow; i++) {
        size_t m = plume_cw_mark(w);
        plume_cw_uint(w, c->frames[i]);
        if (w->overflow) {
            plume_cw_rollback(w, m);
            break;
        }
        nf++;
    }
    if (w->overflow) {
        plume_cw_rollback(w, mark);
    } else {
        plume_cw_patch(w, at, nf);
        count++;
    }
    write_opt_str(w, "release", c->release, &count);
    write_opt_str(w, "environment", c->environment, &count);
    write_opt_str(w, "server_name", c->server_name, &count);

    mark = plume_cw_mark(w);
    if (write_overlay(w))
        count++;
    else
        plume_cw_rollback(w, mark);

    /* the larger parts last: breadcrumbs, scope, modules */
    mark = plume_cw_mark(w);
    key(w, "crumbs");
    crumb_ctx_t x = {.w = w, .c = c};
    at = plume_cw_array_begin(w);
    if (w->overflow) {
        plume_cw_rollback(w, mark);
    } else {
        plume_crumbs_visit_published(write_crumb, &x);
        plume_cw_patch(w, at, x.n);
        count++;
    }
    mark = plume_cw_mark(w);
    if (write_scope(w))
        count++;
    else
        plume_cw_rollback(w, mark);
    mark = plume_cw_mark(w);
    key(w, "modules");
    write_modules(w);
    if (w->overflow)
        plume_cw_rollback(w, mark);
    else
        count++;
    plume_cw_patch(w, top, count);
    return true;
}

/* ---- signal names ---- */

static const struct {
    uint32_t signo;
    const char *name, *text;
} signals[] = {
    {SIGSEGV, "SIGSEGV", "Segmentation fault"}, {SIGBUS, "SIGBUS", "Bus error"},
    {SIGILL, "SIGILL", "Illegal instruction"},  {SIGFPE, "SIGFPE", "Floating-point exception"},
    {SIGABRT, "SIGABRT", "Aborted"},            {SIGTRAP, "SIGTRAP", "Trace/breakpoint trap"},
};

static const struct {
    uint32_t signo; /* 0: any signal */
    int64_t code;
    const char *name;
} codes[] = {
    {SIGSEGV, SEGV_MAPERR, "SEGV_MAPERR"}, {SIGSEGV, SEGV_ACCERR, "SEGV_ACCERR"},
    {SIGBUS, BUS_ADRALN, "BUS_ADRALN"},    {SIGBUS, BUS_ADRERR, "BUS_ADRERR"},
    {SIGBUS, BUS_OBJERR, "BUS_OBJERR"},    {SIGILL, ILL_ILLOPC, "ILL_ILLOPC"},
    {SIGILL, ILL_ILLOPN, "ILL_ILLOPN"},    {SIGILL, ILL_ILLADR, "ILL_ILLADR"},
    {SIGILL, ILL_ILLTRP, "ILL_ILLTRP"},    {SIGILL, ILL_PRVOPC, "ILL_PRVOPC"},
    {SIGILL, ILL_PRVREG, "ILL_PRVREG"},    {SIGILL, ILL_COPROC, "ILL_COPROC"},
    {SIGILL, ILL_BADSTK, "ILL_BADSTK"},    {SIGFPE, FPE_INTDIV, "FPE_INTDIV"},
    {SIGFPE, FPE_INTOVF, "FPE_INTOVF"},    {SIGFPE, FPE_FLTDIV, "FPE_FLTDIV"},
    {SIGFPE, FPE_FLTOVF, "FPE_FLTOVF"},    {SIGFPE, FPE_FLTUND, "FPE_FLTUND"},
    {SIGFPE, FPE_FLTRES, "FPE_FLTRES"},    {SIGFPE, FPE_FLTINV, "FPE_FLTINV"},
    {SIGFPE, FPE_FLTSUB, "FPE_FLTSUB"},    {SIGTRAP, TRAP_BRKPT, "TRAP_BRKPT"},
    {SIGTRAP, TRAP_TRACE, "TRAP_TRACE"},   {0, SI_USER, "SI_USER"},
    {0, SI_QUEUE, "SI_QUEUE"},             {0, SI_TKILL, "SI_TKILL"},
    {0, SI_KERNEL, "SI_KERNEL"},
};

const char *plume_crash_signal_name(uint32_t signo)
{
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
        if (signals[i].signo == signo)
            return signals[i].name;
    return "SIG?";
}

const char *plume_crash_signal_text(uint32_t signo)
{
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
        if (signals[i].signo == signo)
            return signals[i].text;
    return "Signal";
}

const char *plume_crash_code_name(uint32_t signo, int64_t code)
{
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if ((codes[i].signo == signo || codes[i].signo == 0) && codes[i].code == code)
            return codes[i].name;
    return NULL;
}

/* ---- reading ---- */

static bool fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool read_uint(plume_mp_reader_t *rd, uint64_t *out)
{
    plume_mp_value_t v;
    if (!plume_mp_read(rd, &v) || v.type != PLUME_MP_UINT)
        return false;
    *out = v.u;
    return true;
}

static bool read_str(plume_mp_reader_t *rd, plume_crash_str_t *out, uint32_t max)
{
    plume_mp_value_t v;
    if (!plume_mp_read(rd, &v) || v.type != PLUME_MP_STR || v.len > max)
        return false;
    out->s = v.s;
    out->len = v.len;
    return true;
}

/* Well-formed UTF-8 (lead bytes and continuation bytes; the JSON writer
 * repairs what else could be wrong). */
static bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p;
        size_t k;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            k = 1;
        else if ((c & 0xf0) == 0xe0)
            k = 2;
        else if (c >= 0xf0 && c <= 0xf4)
            k = 3;
        else
            return false;
        if ((size_t)(end - p) <= k)
            return false;
        for (size_t i = 1; i <= k; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        p += k + 1;
    }
    return true;
}

/* [npairs, pairs bin] where pairs are exactly npairs str-keyed pairs. */
static bool read_pairs(plume_mp_reader_t *rd, const uint8_t **pairs, size_t *len, uint32_t *np,
                       size_t max)
{
    plume_mp_value_t v;
    uint64_t n;
    if (!plume_mp_read(rd, &v) || v.type != PLUME_MP_ARRAY || v.count != 2 || !read_uint(rd, &n) ||
        !plume_mp_read(rd, &v) || v.type != PLUME_MP_BIN || v.len > max || n > 1024)
        return false;
    plume_mp_reader_t in;
    plume_mp_reader_init(&in, v.s, v.len);
    for (uint64_t i = 0; i < n; i++) {
        plume_mp_value_t k;
        if (!plume_mp_read(&in, &k) || k.type != PLUME_MP_STR || !plume_mp_skip(&in))
            return false;
    }
    if (in.p != in.end)
        return false;
    *pairs = (const uint8_t *)v.s;
    *len = v.len;
    *np = (uint32_t)n;
    return true;
}

static bool parse_regs(plume_mp_reader_t *rd, plume_crash_report_t *r, char *err, size_t errlen)
{
    plume_mp_value_t v;
    if (!plume_mp_read(rd, &v) || v.type != PLUME_MP_MAP)
        return fail(err, errlen, "regs is not a map");
    if (v.count > PLUME_CRASH_MAX_REGS)
        return fail(err, errlen, "regs: %u registers, at most %d", v.count, PLUME_CRASH_MAX_REGS);
    for (uint32_t i = 0; i < v.count; i++) {
        plume_crash_reg_t *g = &r->regs[i];
        if (!read_str(rd, &g->name, 16) || g->name.len == 0 || !utf8_valid(g->name.s, g->name.len) ||
            !read_uint(rd, &g->value))
            return fail(err, errlen, "regs: entry %u is not a register name and value", i);
    }
    r->nregs = v.count;
    return true;
}

static bool parse_frames(plume_mp_reader_t *rd, plume_crash_report_t *r, char *err, size_t errlen)
{
    plume_mp_value_t v;
    if (!plume_mp_read(rd, &v) || v.type != PLUME_MP_ARRAY)
        return fail(err, errlen, "frames is not an array");
    if (v.count > PLUME_CRASH_MAX_FRAMES)
        return fail(err, errlen, "frames: %u frames, at most %d", v.count, PLUME_CRASH_MAX_FRAMES);
    for (uint32_t i = 0; i < v.count; i++)
        if (!read_uint(rd, &r->frames[i]))
            return fail(err, errlen, "frames: element %u is not an unsigned integer", i);
    r->nframes = v.count;
    return true;
}

static bool parse_module(plume_mp_reader_t *rd, plume_crash_module_t *m)
{
    plume_mp_value_t v;
    if (!plume_mp_read(rd, &v) || v.type != PLUME_MP_MAP || v.count > 16)
        return false;
    bool has_path = false, has_addr = false, has_size = false;
    for (uint32_t i = 0; i < v.count; i++) {
        plume_mp_value_t k, x;
        if (!plume_mp_read(rd, &k) || k.type != PLUME_MP_STR)
            return false;
        if (plume_mp_str_eq(&k, "path")) {
            if (!read_str(rd, &m->path, PLUME_MODULE_PATH_MAX) || !utf8_valid(m->path.s, m->path.len))
                return false;
            has_path = true;
        } else if (plume_mp_str_eq(&k, "addr")) {
            if (!(has_addr = read_uint(rd, &m->addr)))
                return false;
        } else if (plume_mp_str_eq(&k, "size")) {
            if (!(has_size = read_uint(rd, &m->size)) || m->size > UINT64_MAX - m->addr)
                return false;
        } else if (plume_mp_str_eq(&k, "build_id")) {
            if (!plume_mp_read(rd, &x) || x.type != PLUME_MP_BIN || x.len > PLUME_MODULE_BUILD_ID_MAX)
                return false;
            m->build_id = (const uint8_t *)x.s;
            m->build_id_len = x.len;
        } else if (plume_mp_str_eq(&k, "main")) {
            if (!plume_mp_read(rd, &x) || x.type != PLUME_MP_BOOL)
                return false;
            m->main = x.b;
        } else if (!plume_mp_skip(rd)) {
            return false;
        }
    }
    return has_path && has_addr && has_size && m->addr + m->size >= m->addr;
}

static bool parse_modules(plume_mp_reader_t *rd, plume_crash_report_t *r, char *err,
                          size_t errlen)
{
    plume_mp_value_t v;
    if (!plume_mp_read(rd, &v) || v.type != PLUME_MP_ARRAY)
        return fail(err, errlen, "modules is not an array");
    if (v.count > PLUME_MODULES_MAX)
        return fail(err, errlen, "modules: %u modules, at most %d", v.count, PLUME_MODULES_MAX);
    for (uint32_t i = 0; i < v.count; i++) {
        memset(&r->modules[i], 0, sizeof(r->modules[i]));
        if (!parse_module(rd, &r->modules[i]))
            return fail(err, errlen, "modules: entry %u is malformed", i);
    }
    r->nmodules = v.count;
    return true;
}

/* A breadcrumb record as crumbs.c keeps it: a breadcrumb or log record that
 * reads back, with str keys and scalar values only. */
static bool crumb_record_valid(const uint8_t *p, size_t n)
{
    plume_record_view_t rv;
    if (!plume_record_read(p, n, &rv))
        return false;
    if ((rv.message && !utf8_valid(rv.message, rv.message_len)) ||
        (rv.category && !utf8_valid(rv.category, rv.category_len)))
        return false;
    plume_mp_reader_t rd;
    plume_mp_value_t m;
    plume_mp_reader_init(&rd, rv.fields, rv.fields_len);
    if (!plume_mp_read(&rd, &m) || m.type != PLUME_MP_MAP)
        return false;
    for (uint32_t i = 0; i < m.count; i++) {
        plume_mp_value_t k, v;
        if (!plume_mp_read(&rd, &k) || k.type != PLUME_MP_STR || !plume_mp_read(&rd, &v) ||
            v.type == PLUME_MP_ARRAY || v.type == PLUME_MP_MAP || v.type == PLUME_MP_EXT ||
            v.type == PLUME_MP_BIN)
            return false;
    }
    return true;
}

static bool parse_crumbs(plume_mp_reader_t *rd, plume_crash_report_t *r, char *err, size_t errlen)
{
    plume_mp_value_t v;
    if (!plume_mp_read(rd, &v) || v.type != PLUME_MP_ARRAY)
        return fail(err, errlen, "crumbs is not an array");
    if (v.count > PLUME_MAX_BREADCRUMBS_LIMIT)
        return fail(err, errlen, "crumbs: %u breadcrumbs, at most %u", v.count,
                    PLUME_MAX_BREADCRUMBS_LIMIT);
    r->ncrumbs = 0;
    for (uint32_t i = 0; i < v.count; i++) {
        plume_mp_value_t a, lg, rec;
        uint64_t ns;
        if (!plume_mp_read(rd, &a) || a.type != PLUME_MP_ARRAY || a.count != 3 ||
            !read_uint(rd, &ns) || !plume_mp_read(rd, &lg) || lg.type != PLUME_MP_BOOL ||
            !plume_mp_read(rd, &rec) || rec.type != PLUME_MP_BIN || rec.len > PLUME_CRUMB_SLOT)
            return fail(err, errlen, "crumbs: entry %u is malformed", i);
        /* A slot the worker was rewriting while the handler copied it may be
         * torn: such a breadcrumb is left out, the report kept. */
        if (!crumb_record_valid((const uint8_t *)rec.s, rec.len))
            continue;
        plume_crash_crumb_t *c = &r->crumbs[r->ncrumbs++];
        c->ns = ns;
        c->log = lg.b;
        c->record = (const uint8_t *)rec.s;
        c->len = rec.len;
    }
    return true;
}

bool plume_crash_report_parse(const uint8_t *p, size_t n, plume_crash_report_t *r, char *err,
                              size_t errlen)
{
    memset(r, 0, offsetof(plume_crash_report_t, regs));
    r->nregs = r->nframes = r->nmodules = r->ncrumbs = 0;
    r->scope = r->overlay = NULL;
    r->scope_len = r->overlay_len = 0;
    r->scope_npairs = r->overlay_npairs = 0;
    if (n > PLUME_CRASH_MAX_FILE)
        return fail(err, errlen, "%zu bytes, more than a report can have (%u)", n,
                    PLUME_CRASH_MAX_FILE);
    plume_mp_reader_t rd;
    plume_mp_value_t v, k;
    plume_mp_reader_init(&rd, p, n);
    if (!plume_mp_read(&rd, &v) || v.type != PLUME_MP_MAP)
        return fail(err, errlen, "not a msgpack map (empty, truncated or not a report)");
    if (v.count > 64)
        return fail(err, errlen, "%u keys, at most 64", v.count);
    uint32_t nkeys = v.count;
    uint64_t version;
    if (!nkeys || !plume_mp_read(&rd, &k) || !plume_mp_str_eq(&k, "v") || !read_uint(&rd, &version))
        return fail(err, errlen, "no format version (key \"v\") first");
    if (version != PLUME_CRASH_REPORT_VERSION)
        return fail(err, errlen, "format version %llu, this build reads %d",
                    (unsigned long long)version, PLUME_CRASH_REPORT_VERSION);
    r->version = (uint32_t)version;
    bool has_id = false, has_time = false, has_signo = false;
    for (uint32_t i = 1; i < nkeys; i++) {
        if (!plume_mp_read(&rd, &k) || k.type != PLUME_MP_STR)
            return fail(err, errlen, "key %u is not a string (truncated or corrupt)", i);
        bool ok = true;
        const char *what = NULL;
        uint64_t u = 0;
        if (plume_mp_str_eq(&k, "id")) {
            plume_crash_str_t s;
            ok = read_str(&rd, &s, PLUME_CRASH_ID_LEN) && s.len == PLUME_CRASH_ID_LEN;
            for (uint32_t j = 0; ok && j < s.len; j++)
                ok = (s.s[j] >= '0' && s.s[j] <= '9') || (s.s[j] >= 'a' && s.s[j] <= 'f');
            if (ok) {
                memcpy(r->id, s.s, PLUME_CRASH_ID_LEN);
                r->id[PLUME_CRASH_ID_LEN] = '\0';
            }
            has_id = ok;
            what = "id is not 32 lower-case hex digits";
        } else if (plume_mp_str_eq(&k, "time")) {
            ok = has_time = read_uint(&rd, &r->time_ns);
            what = "time is not an unsigned integer";
        } else if (plume_mp_str_eq(&k, "signo")) {
            ok = read_uint(&rd, &u) && u > 0 && u < 65;
            r->signo = (uint32_t)u;
            has_signo = ok;
            what = "signo is not a signal number";
        } else if (plume_mp_str_eq(&k, "code")) {
            plume_mp_reader_t peek = rd;
            ok = plume_mp_read(&peek, &v) &&
                 (v.type == PLUME_MP_INT || (v.type == PLUME_MP_UINT && v.u <= INT32_MAX));
            if (ok) {
                r->code = v.type == PLUME_MP_INT ? v.i : (int64_t)v.u;
                ok = r->code >= INT32_MIN;
                rd = peek;
            }
            what = "code is not an integer";
        } else if (plume_mp_str_eq(&k, "addr")) {
            ok = r->has_fault_addr = read_uint(&rd, &r->fault_addr);
            what = "addr is not an unsigned integer";
        } else if (plume_mp_str_eq(&k, "pid")) {
            ok = read_uint(&rd, &r->pid);
            what = "pid is not an unsigned integer";
        } else if (plume_mp_str_eq(&k, "tid")) {
            ok = read_uint(&rd, &r->tid);
            what = "tid is not an unsigned integer";
        } else if (plume_mp_str_eq(&k, "tname")) {
            ok = read_str(&rd, &r->thread_name, 16) &&
                 utf8_valid(r->thread_name.s, r->thread_name.len);
            what = "tname is not a thread name";
        } else if (plume_mp_str_eq(&k, "release") || plume_mp_str_eq(&k, "environment") ||
                   plume_mp_str_eq(&k, "server_name")) {
            plume_crash_str_t *dst = plume_mp_str_eq(&k, "release")       ? &r->release
                                     : plume_mp_str_eq(&k, "environment") ? &r->environment
                                                                          : &r->server_name;
            ok = read_str(&rd, dst, PLUME_CRASH_STR_MAX) && utf8_valid(dst->s, dst->len);
            what = "release/environment/server_name is not a string of at most 256 bytes";
        } else if (plume_mp_str_eq(&k, "regs")) {
            if (!parse_regs(&rd, r, err, errlen))
                return false;
        } else if (plume_mp_str_eq(&k, "frames")) {
            if (!parse_frames(&rd, r, err, errlen))
                return false;
        } else if (plume_mp_str_eq(&k, "modules")) {
            if (!parse_modules(&rd, r, err, errlen))
                return false;
        } else if (plume_mp_str_eq(&k, "crumbs")) {
            if (!parse_crumbs(&rd, r, err, errlen))
                return false;
        } else if (plume_mp_str_eq(&k, "scope")) {
            ok = read_pairs(&rd, &r->scope, &r->scope_len, &r->scope_npairs, PLUME_CRASH_SCOPE_MAX);
            what = "scope is not [count, pairs]";
        } else if (plume_mp_str_eq(&k, "overlay")) {
            ok = read_pairs(&rd, &r->overlay, &r->overlay_len, &r->overlay_npairs,
                            PLUME_OVERLAY_MAX_BYTES);
            what = "overlay is not [count, pairs]";
        } else {
            ok = plume_mp_skip(&rd);
            what = "a value is truncated or corrupt";
        }
        if (!ok)
            return fail(err, errlen, "%s", what);
    }
    if (rd.p != rd.end)
        return fail(err, errlen, "%zu bytes of garbage after the report", (size_t)(rd.end - rd.p));
    if (!has_id || !has_time || !has_signo)
        return fail(err, errlen, "missing %s", !has_id ? "id" : !has_time ? "time" : "signo");
    return true;
}

bool plume_crash_report_load(const char *path, uint8_t **data, size_t *len,
                             plume_crash_report_t *r, char *err, size_t errlen)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errlen, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > PLUME_CRASH_MAX_FILE) {
        close(fd);
        return fail(err, errlen, "%s: %lld bytes, more than a report can have (%u)", path,
                    (long long)st.st_size, PLUME_CRASH_MAX_FILE);
    }
    size_t cap = (size_t)st.st_size;
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf) {
        close(fd);
        return fail(err, errlen, "%s: out of memory reading it", path);
    }
    size_t got = 0;
    while (got < cap) {
        ssize_t k = read(fd, buf + got, cap - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break; /* shrank underneath: parse what there is */
        got += (size_t)k;
    }
    close(fd);
    *data = buf;
    *len = got;
    char why[200];
    if (!plume_crash_report_parse(buf, got, r, why, sizeof(why)))
        return fail(err, errlen, "%s: not a valid crash report: %s", path, why);
    return true;
}
