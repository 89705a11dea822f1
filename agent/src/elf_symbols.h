/* SPDX-License-Identifier: MIT */
/* Reading an ELF file for symbolication: its GNU build id, where it expects
 * to be loaded, and which function contains an address.
 *
 * Used by the worker and the agent to turn the raw frame addresses of a crash
 * report into function names (never in a signal handler: it allocates and
 * reads files). Only ELF64 little-endian executables and shared objects
 * (ET_EXEC, ET_DYN) for x86-64 and aarch64 are accepted, files of at most
 * 1 GiB. Everything is read and validated at open (with pread(2), so a file
 * shrinking underneath cannot raise SIGBUS); afterwards the handle holds no
 * file descriptor and every query is a pure, O(log n) lookup in memory.
 *
 * Symbol rule. The symbols come from .symtab when the file has one that loads,
 * else from .dynsym. Kept are defined symbols (not SHN_UNDEF, SHN_ABS or
 * SHN_COMMON) with a non-empty name NUL-terminated inside their string table,
 * of type FUNC/GNU_IFUNC ("functions") or OBJECT/NOTYPE ("others"), except
 * aarch64 mapping symbols ($x, $d, $x.N...). A symbol covers
 * [st_value, st_value + st_size); one of size 0 covers st_value only.
 * plume_elf_symbolize() first looks among the functions, then among the
 * others; among the symbols covering the address it picks the one that starts
 * last (the innermost), and among those starting at the same address: a sized
 * one over a size-0 one, then GLOBAL/UNIQUE over WEAK over LOCAL, then the
 * shorter name, then the name that sorts first. So printf and its alias
 * _IO_printf resolve to "printf". */
#ifndef PLUME_ELF_SYMBOLS_H
#define PLUME_ELF_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_note.h"

/* Largest file plume_elf_open() reads, and most symbols one table may have. */
#define PLUME_ELF_MAX_FILE_SIZE ((uint64_t)1 << 30)
#define PLUME_ELF_MAX_SYMBOLS ((size_t)4 << 20)

typedef struct plume_elf plume_elf_t;

/* Opens and indexes the ELF file at `path`. Returns NULL on failure with a
 * message naming the file and what is wrong in err[0..errlen) (err may be NULL
 * when errlen is 0). A file without usable symbols still opens (its build id
 * is what a server needs to symbolicate): see plume_elf_symbols_error(). The
 * caller frees the handle with plume_elf_close(). */
plume_elf_t *plume_elf_open(const char *path, char *err, size_t errlen);
/* The same on data[0..len) (named "<memory>" in messages). Borrows `data`: it
 * must stay valid and unchanged until plume_elf_close() (symbol names point
 * into it). No size limit beyond what the symbol index needs. */
plume_elf_t *plume_elf_open_mem(const void *data, size_t len, char *err, size_t errlen);
/* Frees the handle and the names it handed out. NULL is a no-op. */
void plume_elf_close(plume_elf_t *e);

/* The GNU build id (from a SHT_NOTE section or, failing that, a PT_NOTE
 * segment). *id is owned by the handle. False if the file has none. */
bool plume_elf_build_id(const plume_elf_t *e, const uint8_t **id, size_t *len);
/* The lowest PT_LOAD p_vaddr rounded down to 4 KiB (0 without PT_LOAD). A
 * runtime address maps to a file address as
 *   vaddr = addr - image_addr + plume_elf_first_load_vaddr(e)
 * where image_addr is where that lowest segment's page was mapped
 * (dlpi_addr + the same rounded p_vaddr). */
uint64_t plume_elf_first_load_vaddr(const plume_elf_t *e);

/* Finds the symbol covering file address `vaddr` under the rule above. On
 * success sets *name (owned by the handle, NUL-terminated, valid until
 * plume_elf_close) and *offset = vaddr - st_value, and returns true; returns
 * false when no symbol covers it. */
bool plume_elf_symbolize(const plume_elf_t *e, uint64_t vaddr, const char **name,
                         uint64_t *offset);

/* Which table the symbols came from: ".symtab", ".dynsym", or NULL if none. */
const char *plume_elf_symbol_table(const plume_elf_t *e);
/* Number of symbols indexed (functions and others). */
size_t plume_elf_symbol_count(const plume_elf_t *e);
/* Why there are no symbols, or why .symtab was passed over for .dynsym, e.g.
 * "libfoo.so: no .symtab or .dynsym section (stripped)" or "prog: no .symtab,
 * and .dynsym has no defined function or object symbols (stripped)"; NULL
 * when the table used (.symtab, or .dynsym in a file without .symtab) loaded
 * and has symbols. Owned by the handle. */
const char *plume_elf_symbols_error(const plume_elf_t *e);

#endif
