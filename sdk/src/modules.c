/* SPDX-License-Identifier: MIT */
/* The loaded-module snapshot (see modules.h): dl_iterate_phdr() walks every
 * loaded ELF object; each one with a PT_LOAD segment becomes one entry with
 * its address range, load bias, path (copied into the table's arena) and GNU
 * build id (read from its PT_NOTE segments in memory with the bounds-checked
 * walker of elf_note.h). The two tables are static, so a refresh allocates
 * nothing and a crash handler finds them already in memory. */
#include "modules.h"

#include <elf.h>
#include <link.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "elf_note.h"

/* The double buffer. g_published points at the table readers use; a refresh
 * writes the other one. Before the first refresh the published table is the
 * empty g_tables[0]. */
static plume_modules_t g_tables[2];
static _Atomic(plume_modules_t *) g_published = &g_tables[0];
static atomic_bool g_built; /* a refresh has published a table */

/* What the dl_iterate_phdr callback of a refresh works on. */
typedef struct build_ctx {
    plume_modules_t *t;
    bool first;            /* the next callback is the first (the main program) */
    uintptr_t page;        /* page size, a power of two */
    const char *exe;       /* main executable's path, NUL-terminated */
    size_t exe_len;
    bool exe_truncated;
} build_ctx_t;

/* True when the dl_phdr_info of `size` bytes has the dlpi_adds/dlpi_subs
 * fields (glibc >= 2.4 always passes them; checked as the API asks). */
static bool has_counters(size_t size)
{
    return size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(unsigned long long);
}

/* Copies path bytes s[0..len) into the table's arena, cut to
 * PLUME_MODULE_PATH_MAX - 1 bytes and to the room left (never in the middle of
 * a UTF-8 sequence), NUL-terminated. Sets m->path, m->path_len and, when
 * anything was cut, m->path_truncated. An arena with no room left gives "". */
static void arena_copy(plume_modules_t *t, plume_module_t *m, const char *s, size_t len,
                       bool already_cut)
{
    size_t room = sizeof(t->arena) - t->arena_used; /* bytes, NUL included */
    size_t keep = len;
    if (keep > PLUME_MODULE_PATH_MAX - 1)
        keep = PLUME_MODULE_PATH_MAX - 1;
    if (room == 0) {
        m->path = "";
        m->path_len = 0;
        m->path_truncated = len > 0 || already_cut;
        return;
    }
    if (keep > room - 1)
        keep = room - 1;
    if (keep < len) /* back off to the start of a cut multi-byte sequence */
        while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
            keep--;
    char *dst = t->arena + t->arena_used;
    memcpy(dst, s, keep);
    dst[keep] = '\0';
    t->arena_used += keep + 1;
    m->path = dst;
    m->path_len = (uint32_t)keep;
    m->path_truncated = keep < len || already_cut;
}

/* Finds the GNU build id in the object's PT_NOTE segments, reading them in
 * memory at bias + p_vaddr. A note segment is read only when it lies wholly
 * inside a readable PT_LOAD segment, so a damaged header cannot send the walk
 * into unmapped memory. Ids longer than PLUME_MODULE_BUILD_ID_MAX are not
 * kept (a cut id would name another build). */
static void find_build_id(const struct dl_phdr_info *info, plume_module_t *m)
{
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *n = &info->dlpi_phdr[i];
        if (n->p_type != PT_NOTE || n->p_filesz == 0)
            continue;
        size_t len = n->p_filesz < n->p_memsz ? n->p_filesz : n->p_memsz;
        if (n->p_vaddr > UINTPTR_MAX - len)
            continue;
        bool mapped = false;
        for (size_t j = 0; j < info->dlpi_phnum && !mapped; j++) {
            const ElfW(Phdr) *l = &info->dlpi_phdr[j];
            mapped = l->p_type == PT_LOAD && (l->p_flags & PF_R) && l->p_vaddr <= n->p_vaddr &&
                     l->p_vaddr <= UINTPTR_MAX - l->p_memsz &&
                     n->p_vaddr + len <= l->p_vaddr + l->p_memsz;
        }
        if (!mapped)
            continue;
        const uint8_t *id = NULL;
        size_t id_len = 0;
        size_t align = n->p_align == 8 ? 8 : 4;
        const void *notes = (const void *)(info->dlpi_addr + n->p_vaddr);
        if (plume_elf_note_build_id(notes, len, align, &id, &id_len)) {
            if (id_len <= PLUME_MODULE_BUILD_ID_MAX) {
                memcpy(m->build_id, id, id_len);
                m->build_id_len = (uint8_t)id_len;
            }
            return;
        }
    }
}

/* dl_iterate_phdr callback of a refresh: appends one module to ctx->t, or
 * counts it as dropped when the table is full or it has no PT_LOAD segment.
 * Always returns 0 (keep iterating). */
static int add_module(struct dl_phdr_info *info, size_t size, void *data)
{
    build_ctx_t *ctx = data;
    plume_modules_t *t = ctx->t;
    bool is_main = ctx->first;
    if (ctx->first) {
        ctx->first = false;
        if (has_counters(size)) {
            t->adds = info->dlpi_adds;
            t->subs = info->dlpi_subs;
        }
    }
    if (info->dlpi_phdr == NULL || info->dlpi_phnum == 0) {
        t->dropped++;
        return 0;
    }
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        if (p->p_type != PT_LOAD || p->p_memsz == 0 || p->p_vaddr > UINTPTR_MAX - p->p_memsz)
            continue;
        if (p->p_vaddr < lo)
            lo = p->p_vaddr;
        if (p->p_vaddr + p->p_memsz > hi)
            hi = p->p_vaddr + p->p_memsz;
    }
    uintptr_t start = info->dlpi_addr + lo; /* unsigned wrap-around, as the loader does */
    uintptr_t end = info->dlpi_addr + hi;
    if (hi == 0 || end < start || end > UINTPTR_MAX - (ctx->page - 1) || t->count >= PLUME_MODULES_MAX) {
        t->dropped++;
        return 0;
    }
    end = (end + ctx->page - 1) & ~(ctx->page - 1);

    plume_module_t *m = &t->modules[t->count++];
    memset(m, 0, sizeof(*m));
    m->image_addr = start;
    m->image_size = end - start;
    m->load_bias = info->dlpi_addr;
    m->is_main = is_main;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    if (is_main && name[0] == '\0') {
        arena_copy(t, m, ctx->exe, ctx->exe_len, ctx->exe_truncated);
    } else {
        size_t len = strnlen(name, PLUME_MODULE_PATH_MAX);
        arena_copy(t, m, name, len, false);
    }
    find_build_id(info, m);
    return 0;
}

/* Sifts element i down the max-heap mods[0..n) ordered by image_addr. */
static void sift_down(plume_module_t *mods, size_t i, size_t n)
{
    for (;;) {
        size_t big = i, l = 2 * i + 1, r = l + 1;
        if (l < n && mods[l].image_addr > mods[big].image_addr)
            big = l;
        if (r < n && mods[r].image_addr > mods[big].image_addr)
            big = r;
        if (big == i)
            return;
        plume_module_t tmp = mods[i];
        mods[i] = mods[big];
        mods[big] = tmp;
        i = big;
    }
}

/* Sorts mods[0..n) by image_addr in place (heapsort: no allocation, n log n
 * whatever the order dl_iterate_phdr reported). */
static void sort_by_addr(plume_module_t *mods, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(mods, i, n);
    for (size_t end = n; end-- > 1;) {
        plume_module_t tmp = mods[0];
        mods[0] = mods[end];
        mods[end] = tmp;
        sift_down(mods, 0, end);
    }
}

/* Fills buf with the main executable's path: /proc/self/exe, else the path
 * the kernel was asked to execute (AT_EXECFN, possibly relative), else "".
 * Returns its length; *cut tells whether it did not fit. */
static size_t main_path(char *buf, size_t cap, bool *cut)
{
    *cut = false;
    ssize_t n = readlink("/proc/self/exe", buf, cap);
    if (n > 0 && (size_t)n < cap) {
        buf[n] = '\0';
        return (size_t)n;
    }
    if (n > 0) { /* filled the buffer: longer than we keep */
        *cut = true;
        buf[cap - 1] = '\0';
        return cap - 1;
    }
    const char *fn = (const char *)getauxval(AT_EXECFN);
    size_t len = fn ? strnlen(fn, cap) : 0;
    if (len == cap) {
        *cut = true;
        len = cap - 1;
    }
    if (len > 0)
        memcpy(buf, fn, len);
    buf[len] = '\0';
    return len;
}

int plume_modules_refresh(void)
{
    plume_modules_t *cur = atomic_load_explicit(&g_published, memory_order_relaxed);
    plume_modules_t *t = cur == &g_tables[0] ? &g_tables[1] : &g_tables[0];

    char exe[PLUME_MODULE_PATH_MAX];
    build_ctx_t ctx = {.t = t, .first = true, .exe = exe};
    ctx.exe_len = main_path(exe, sizeof(exe), &ctx.exe_truncated);
    long page = sysconf(_SC_PAGESIZE);
    ctx.page = page > 0 && (page & (page - 1)) == 0 ? (uintptr_t)page : 4096;

    t->count = 0;
    t->dropped = 0;
    t->adds = 0;
    t->subs = 0;
    t->arena_used = 0;
    dl_iterate_phdr(add_module, &ctx);
    if (t->count == 0)
        return -1;
    sort_by_addr(t->modules, t->count);
    atomic_store_explicit(&g_published, t, memory_order_release);
    atomic_store_explicit(&g_built, true, memory_order_release);
    return (int)t->count;
}

/* Counters of the first module dl_iterate_phdr reports. */
typedef struct counters {
    bool ok;
    unsigned long long adds, subs;
} counters_t;

/* dl_iterate_phdr callback of plume_modules_changed(): reads the counters
 * from the first module and stops the walk. */
static int read_counters(struct dl_phdr_info *info, size_t size, void *data)
{
    counters_t *c = data;
    if (has_counters(size)) {
        c->ok = true;
        c->adds = info->dlpi_adds;
        c->subs = info->dlpi_subs;
    }
    return 1;
}

bool plume_modules_changed(void)
{
    if (!atomic_load_explicit(&g_built, memory_order_acquire))
        return true;
    const plume_modules_t *t = plume_modules_current();
    counters_t c = {0};
    dl_iterate_phdr(read_counters, &c);
    if (!c.ok)
        return true; /* cannot tell: refreshing is the safe answer */
    return c.adds != t->adds || c.subs != t->subs;
}

const plume_modules_t *plume_modules_current(void)
{
    return atomic_load_explicit(&g_published, memory_order_acquire);
}

int plume_modules_find(const plume_modules_t *mods, uintptr_t addr)
{
    if (mods == NULL)
        return -1;
    size_t lo = 0, hi = mods->count < PLUME_MODULES_MAX ? mods->count : PLUME_MODULES_MAX;
    while (lo < hi) { /* first module starting above addr */
        size_t mid = lo + (hi - lo) / 2;
        if (mods->modules[mid].image_addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return -1;
    const plume_module_t *m = &mods->modules[lo - 1];
    return addr - m->image_addr < m->image_size ? (int)(lo - 1) : -1;
}

bool plume_module_in_app(const plume_module_t *m, const char *const *prefixes, size_t n)
{
    if (m == NULL)
        return false;
    if (m->is_main)
        return true;
    if (prefixes == NULL || m->path == NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        const char *p = prefixes[i];
        if (p == NULL || p[0] == '\0')
            continue;
        size_t k = 0;
        while (p[k] != '\0' && m->path[k] == p[k])
            k++;
        if (p[k] == '\0')
            return true;
    }
    return false;
}
