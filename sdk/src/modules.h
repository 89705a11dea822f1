/* SPDX-License-Identifier: MIT */
/* A snapshot of the ELF modules (executable, shared libraries, vDSO) loaded
 * in this process, for crash reports and error events: each module's path,
 * address range, load bias and GNU build id, which is what Sentry's
 * debug_meta.images needs to symbolicate raw instruction addresses later.
 *
 * The snapshot is built with dl_iterate_phdr() by plume_modules_refresh() (at
 * init, and again when plume_modules_changed() says a dlopen/dlclose
 * happened) into static, preallocated storage: at most PLUME_MODULES_MAX
 * modules, their paths copied into a fixed arena of PLUME_MODULES_ARENA
 * bytes. There are two tables: a refresh fills the one that is not
 * published, sorts it by address and publishes it with a release store, so a
 * reader (a crash signal handler included) that took the published table
 * with plume_modules_current() never sees it change under it.
 *
 * Threading and lifetime: refreshes must be serialised by the caller. A
 * table stays valid and unchanged until the second refresh after the one that
 * published it (that refresh rewrites it): a caller must not start a second
 * refresh while a reader may still be using the table the first one replaced.
 * plume_modules_current(), plume_modules_find() and plume_module_in_app() are
 * async-signal-safe; plume_modules_refresh() and plume_modules_changed() are
 * not (dl_iterate_phdr takes the loader's lock). */
#ifndef PLUME_SDK_MODULES_H
#define PLUME_SDK_MODULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLUME_MODULES_MAX 1024           /* modules kept; more are dropped and counted */
#define PLUME_MODULES_ARENA (64 * 1024)  /* bytes for all paths, NULs included */
#define PLUME_MODULE_PATH_MAX 4096       /* one path's bytes (NUL included); longer is cut */
#define PLUME_MODULE_BUILD_ID_MAX 32     /* a longer build id is not kept (len 0) */

typedef struct plume_module {
    uintptr_t image_addr;  /* load bias + lowest PT_LOAD p_vaddr */
    uintptr_t image_size;  /* span of the PT_LOAD segments, end rounded up to a page */
    uintptr_t load_bias;   /* dlpi_addr: file vaddr + bias = address in memory */
    const char *path;      /* NUL-terminated, in the table's arena; never NULL */
    uint32_t path_len;     /* strlen(path) */
    bool path_truncated;   /* path was cut (too long, or the arena ran out) */
    bool is_main;          /* the main executable (path from /proc/self/exe) */
    uint8_t build_id_len;  /* 0: no GNU build id note (or one above 32 bytes) */
    uint8_t build_id[PLUME_MODULE_BUILD_ID_MAX];
} plume_module_t;

typedef struct plume_modules {
    size_t count;               /* modules[0..count), sorted by image_addr */
    size_t dropped;             /* modules left out: table full, or no PT_LOAD */
    unsigned long long adds;    /* dl_iterate_phdr's dlpi_adds/dlpi_subs when */
    unsigned long long subs;    /*   the table was built (see plume_modules_changed) */
    plume_module_t modules[PLUME_MODULES_MAX];
    size_t arena_used;
    char arena[PLUME_MODULES_ARENA];
} plume_modules_t;

/* Not signal-safe. Builds a new snapshot into the unpublished table, sorts it
 * by image address and publishes it. Returns the module count, or -1 when
 * dl_iterate_phdr reported nothing usable (the published table is then left
 * as it was). Allocates nothing. The caller serialises refreshes, and must
 * not refresh twice while a reader may still use the table the first refresh
 * replaced (see the file comment). */
int plume_modules_refresh(void);

/* Not signal-safe (one dl_iterate_phdr call, stopped after its first module).
 * True when a module was loaded or unloaded since the published table was
 * built (glibc's dlpi_adds/dlpi_subs counters moved), or when no table was
 * published yet; then plume_modules_refresh() is due. */
bool plume_modules_changed(void);

/* Async-signal-safe: the published table (one acquire load). Never NULL:
 * before the first refresh it is an empty table. */
const plume_modules_t *plume_modules_current(void);

/* Async-signal-safe: index of the module of `mods` whose [image_addr,
 * image_addr + image_size) holds `addr` (binary search), or -1. */
int plume_modules_find(const plume_modules_t *mods, uintptr_t addr);

/* Async-signal-safe: whether `m` is application code: the main executable, or
 * a module whose path starts with one of the `n` prefixes (NULL or empty
 * prefixes match nothing). False for NULL. */
bool plume_module_in_app(const plume_module_t *m, const char *const *prefixes, size_t n);

#endif
