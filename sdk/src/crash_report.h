/* SPDX-License-Identifier: MIT */
/* The crash report: written by the crash handler into memory reserved at
 * init (plume_crash_report_write, async-signal-safe), stored as one file in
 * data_dir/crash/, and read back at the next start (plume_crash_report_load /
 * _parse), where crash_delivery.c turns it into a pipeline event.
 *
 * The file is one msgpack map (format version PLUME_CRASH_REPORT_VERSION):
 *
 *   "v"        uint  format version (1), always the first key
 *   "id"       str   32 lower-case hex digits, unique per crash
 *   "time"     uint  ns since the Unix epoch when the handler ran
 *   "pid"      uint
 *   "signo"    uint  signal number; "code" int: si_code; "addr" uint: si_addr
 *   "tid"      uint  crashing thread; "tname" str: its name (may be "")
 *   "regs"     map   register name (str) -> uint (x86-64, aarch64)
 *   "frames"   array uint instruction addresses, innermost first (frame 0 is
 *                    the interrupted instruction, later ones return addresses)
 *   "modules"  array maps {path str, addr uint, size uint, build_id bin,
 *                    main bool}: the published module table
 *   "crumbs"   array [ns uint, log bool, record bin]: the worker's breadcrumb
 *                    store, records copied raw (record.h), oldest added first
 *   "scope"    array [npairs uint, pairs bin]: the global scope's pairs
 *   "overlay"  array [npairs uint, pairs bin]: the crashing thread's overlay
 *   "release", "environment", "server_name"  str, as set at init
 *
 * Every key but v, id, time and signo may be missing (a part that did not
 * fit the reserved memory is left out whole; the map count says what is
 * there). Readers skip unknown keys.
 *
 * The reader treats a file as hostile: bounded file size and counts, every
 * length and type checked, the records and pairs validated, and an error
 * naming the file and what is wrong. */
#ifndef PLUME_SDK_CRASH_REPORT_H
#define PLUME_SDK_CRASH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crash_writer.h"
#include "modules.h"
#include "options.h"

#define PLUME_CRASH_REPORT_VERSION 1
#define PLUME_CRASH_MAX_FRAMES 256
#define PLUME_CRASH_MAX_FILE (16u << 20)      /* larger files are refused */
#define PLUME_CRASH_MAX_REGS 64
#define PLUME_CRASH_STR_MAX 256               /* release, environment, ... */
#define PLUME_CRASH_SCOPE_MAX (128u * 1024u)  /* scope pairs */
#define PLUME_CRASH_ID_LEN 32

/* What the handler knows about the crash (all borrowed). */
typedef struct plume_crash_context {
    const char *id;          /* PLUME_CRASH_ID_LEN hex digits */
    uint64_t time_ns;
    uint32_t pid, tid;
    const char *thread_name; /* may be "" */
    int signo, code;
    uint64_t fault_addr;
    const void *ucontext;    /* ucontext_t *, for the registers; may be NULL */
    const uintptr_t *frames;
    size_t nframes;
    const char *release, *environment, *server_name; /* NULL: left out */
    /* Breadcrumb stamps -> ns: when tsc, ns = now_ns - (now_stamp - stamp) *
     * ns_per_tick_q32 / 2^32; else stamps are ns already. */
    bool tsc;
    uint64_t now_stamp, ns_per_tick_q32;
} plume_crash_context_t;

/* Async-signal-safe (no allocation, lock or stdio): writes the report for
 * *c into w, with the module table (plume_modules_current), the published
 * breadcrumb store, the global scope and the calling thread's overlay. Parts
 * that do not fit are left out whole. Returns false when not even the
 * required keys fit (w then holds nothing usable). */
bool plume_crash_report_write(plume_cw_t *w, const plume_crash_context_t *c);

/* ---- reading back ---- */

typedef struct plume_crash_str {
    const char *s; /* NULL: absent */
    uint32_t len;
} plume_crash_str_t;

typedef struct plume_crash_module {
    plume_crash_str_t path;
    uint64_t addr, size;
    const uint8_t *build_id;
    uint32_t build_id_len;
    bool main;
} plume_crash_module_t;

typedef struct plume_crash_crumb {
    uint64_t ns;
    bool log;
    const uint8_t *record; /* validated with plume_record_read() */
    uint32_t len;
} plume_crash_crumb_t;

typedef struct plume_crash_reg {
    plume_crash_str_t name;
    uint64_t value;
} plume_crash_reg_t;

/* A parsed report: pointers into the file's bytes, which must outlive it.
 * Large (about 120 KiB): allocate it. */
typedef struct plume_crash_report {
    uint32_t version;
    char id[PLUME_CRASH_ID_LEN + 1];
    uint64_t time_ns, pid, tid;
    uint32_t signo;
    int64_t code;
    uint64_t fault_addr;
    bool has_fault_addr;
    plume_crash_str_t thread_name, release, environment, server_name;
    plume_crash_reg_t regs[PLUME_CRASH_MAX_REGS];
    size_t nregs;
    uint64_t frames[PLUME_CRASH_MAX_FRAMES];
    size_t nframes;
    plume_crash_module_t modules[PLUME_MODULES_MAX];
    size_t nmodules;
    plume_crash_crumb_t crumbs[PLUME_MAX_BREADCRUMBS_LIMIT];
    size_t ncrumbs;
    const uint8_t *scope, *overlay; /* validated pairs, or NULL */
    size_t scope_len, overlay_len;
    uint32_t scope_npairs, overlay_npairs;
} plume_crash_report_t;

/* Parses p[0..n). False with a reason in err (e.g. "frames: element 3 is not
 * an unsigned integer") when anything is malformed, out of bounds or of the
 * wrong type. */
bool plume_crash_report_parse(const uint8_t *p, size_t n, plume_crash_report_t *r, char *err,
                              size_t errlen);

/* Reads the file at path (at most PLUME_CRASH_MAX_FILE bytes) into *data
 * (malloc'd; the caller frees it, also on failure) and parses it into *r.
 * False with err naming the file and the reason. */
bool plume_crash_report_load(const char *path, uint8_t **data, size_t *len,
                             plume_crash_report_t *r, char *err, size_t errlen);

/* "SIGSEGV", ... ("SIG?" for another number), "SEGV_MAPERR", ... (NULL when
 * unknown), and a description ("Segmentation fault"). */
const char *plume_crash_signal_name(uint32_t signo);
const char *plume_crash_code_name(uint32_t signo, int64_t code);
const char *plume_crash_signal_text(uint32_t signo);

#endif
