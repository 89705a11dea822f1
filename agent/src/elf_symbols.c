/* SPDX-License-Identifier: MIT */
/* ELF reading for symbolication (see elf_symbols.h for the API and the symbol
 * rule).
 *
 * Open reads the ELF header, the program and section header tables, the note
 * sections/segments, one symbol table and its string table, validating each
 * offset and size against the file before it is used (all arithmetic is done
 * so that hostile 64-bit values cannot wrap). Fields are decoded byte by byte
 * as little-endian, so the code does not depend on the host's byte order or on
 * the alignment of the input. The symbols are then flattened, once, into
 * sorted disjoint address ranges (one array for functions, one for the
 * others), each naming the symbol that wins there, so a lookup is one binary
 * search. */
#include "elf_symbols.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOTE_MAX_SIZE ((uint64_t)1 << 20) /* larger note blocks are skipped */
#define MAX_SECTIONS ((uint64_t)1 << 18)
#define MAX_SEGMENTS ((uint64_t)1 << 16)
#define PAGE_4K ((uint64_t)4096)

enum { TIER_FUNC, TIER_OTHER, TIER_COUNT };

/* One kept symbol: the range it covers and its name (in the string table). */
typedef struct sym {
    uint64_t start;
    uint64_t end; /* exclusive; > start */
    const char *name;
    uint32_t name_len;
    uint8_t tier;
    uint8_t rank; /* higher wins a tie on start: sized, then binding */
} sym_t;

/* A range of addresses where symbol `sym` wins. */
typedef struct seg {
    uint64_t start;
    uint64_t end;
    uint32_t sym;
} seg_t;

struct plume_elf {
    char name[256]; /* for messages */
    uint8_t build_id[PLUME_ELF_BUILD_ID_MAX];
    size_t build_id_len;
    uint64_t first_load_vaddr;
    void *strtab_owned; /* the string table read from a file (names point in) */
    sym_t *syms;
    size_t nsyms;
    seg_t *segs[TIER_COUNT];
    size_t nsegs[TIER_COUNT];
    const char *sym_table; /* ".symtab", ".dynsym" or NULL */
    char sym_err[640];
};

/* Where open reads from: a borrowed buffer, or a file descriptor. */
typedef struct src {
    const char *name;
    const uint8_t *mem; /* NULL for a file */
    int fd;
    uint64_t size;
} src_t;

/* Decoded section header (only what is used). */
typedef struct shdr {
    uint32_t type;
    uint64_t offset, size, addralign, entsize;
    uint32_t link;
} shdr_t;

/* ---- little helpers ---- */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* Formats "<name>: <message>" into err[0..errlen) (nothing if errlen is 0). */
static void __attribute__((format(printf, 4, 5)))
set_err(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    int n = snprintf(err, errlen, "%s: ", name);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* True when [off, off + len) lies inside a source of `size` bytes. */
static bool in_range(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

/* Makes bytes [off, off + len) of the source available at *out. For a buffer
 * that is a pointer into it and *owned is NULL; for a file the bytes are read
 * into a fresh allocation returned in *owned too (caller frees). The range must
 * have been checked with in_range(). Fails with a message on I/O errors, on a
 * file that shrank, or on allocation failure. */
static bool src_get(const src_t *s, uint64_t off, uint64_t len, const uint8_t **out, void **owned,
                    const char *what, char *err, size_t errlen)
{
    *owned = NULL;
    if (s->mem != NULL) {
        *out = s->mem + off;
        return true;
    }
    if (len > SIZE_MAX - 1) {
        set_err(err, errlen, s->name, "%s too large to read", what);
        return false;
    }
    uint8_t *buf = malloc(len ? (size_t)len : 1);
    if (buf == NULL) {
        set_err(err, errlen, s->name, "out of memory reading %s (%llu bytes)", what,
                (unsigned long long)len);
        return false;
    }
    uint64_t done = 0;
    while (done < len) {
        size_t want = (size_t)(len - done > (1u << 30) ? (1u << 30) : len - done);
        ssize_t r = pread(s->fd, buf + done, want, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            set_err(err, errlen, s->name, "cannot read %s at offset %llu: %s", what,
                    (unsigned long long)(off + done),
                    r < 0 ? strerror(errno) : "file shrank while being read");
            free(buf);
            return false;
        }
        done += (uint64_t)r;
    }
    *out = buf;
    *owned = buf;
    return true;
}

/* ---- header validation ---- */

/* Checks the ELF identification and header fields this reader relies on. */
static bool check_ehdr(const src_t *s, const uint8_t *h, char *err, size_t errlen)
{
    if (memcmp(h, ELFMAG, SELFMAG) != 0) {
        set_err(err, errlen, s->name, "not an ELF file (bad magic)");
        return false;
    }
    if (h[EI_CLASS] != ELFCLASS64) {
        set_err(err, errlen, s->name, "ELF class %u not supported (only 64-bit ELF)",
                h[EI_CLASS]);
        return false;
    }
    if (h[EI_DATA] != ELFDATA2LSB) {
        set_err(err, errlen, s->name, "ELF data encoding %u not supported (only little-endian)",
                h[EI_DATA]);
        return false;
    }
    if (h[EI_VERSION] != EV_CURRENT) {
        set_err(err, errlen, s->name, "ELF version %u not supported", h[EI_VERSION]);
        return false;
    }
    uint16_t type = rd16(h + offsetof(Elf64_Ehdr, e_type));
    if (type != ET_EXEC && type != ET_DYN) {
        set_err(err, errlen, s->name,
                "ELF type %u not supported (only executables and shared objects)", type);
        return false;
    }
    uint16_t machine = rd16(h + offsetof(Elf64_Ehdr, e_machine));
    if (machine != EM_X86_64 && machine != EM_AARCH64) {
        set_err(err, errlen, s->name, "machine %u not supported (only x86-64 and aarch64)",
                machine);
        return false;
    }
    if (rd16(h + offsetof(Elf64_Ehdr, e_ehsize)) < sizeof(Elf64_Ehdr)) {
        set_err(err, errlen, s->name, "ELF header size %u too small",
                rd16(h + offsetof(Elf64_Ehdr, e_ehsize)));
        return false;
    }
    return true;
}

/* Reads a table of `num` entries of `entsize` bytes at `off` (checked against
 * the file, the expected entry size and `max` entries). An empty table gives
 * *out = NULL. */
static bool load_table(const src_t *s, const char *what, uint64_t off, uint64_t num,
                       uint64_t entsize, uint64_t want_entsize, uint64_t max,
                       const uint8_t **out, void **owned, char *err, size_t errlen)
{
    *out = NULL;
    *owned = NULL;
    if (num == 0)
        return true;
    if (entsize != want_entsize) {
        set_err(err, errlen, s->name, "%s entry size %llu, expected %llu", what,
                (unsigned long long)entsize, (unsigned long long)want_entsize);
        return false;
    }
    if (num > max) {
        set_err(err, errlen, s->name, "%s has %llu entries (at most %llu)", what,
                (unsigned long long)num, (unsigned long long)max);
        return false;
    }
    if (!in_range(off, num * entsize, s->size)) {
        set_err(err, errlen, s->name,
                "%s (offset %llu, %llu entries of %llu bytes) runs past the end (size %llu)",
                what, (unsigned long long)off, (unsigned long long)num,
                (unsigned long long)entsize, (unsigned long long)s->size);
        return false;
    }
    return src_get(s, off, num * entsize, out, owned, what, err, errlen);
}

static void decode_shdr(const uint8_t *p, shdr_t *sh)
{
    sh->type = rd32(p + offsetof(Elf64_Shdr, sh_type));
    sh->offset = rd64(p + offsetof(Elf64_Shdr, sh_offset));
    sh->size = rd64(p + offsetof(Elf64_Shdr, sh_size));
    sh->link = rd32(p + offsetof(Elf64_Shdr, sh_link));
    sh->addralign = rd64(p + offsetof(Elf64_Shdr, sh_addralign));
    sh->entsize = rd64(p + offsetof(Elf64_Shdr, sh_entsize));
}

/* ---- build id ---- */

/* Looks for the build id in one note block at [off, off + size) and copies it
 * into the handle. Blocks out of range or larger than NOTE_MAX_SIZE are
 * skipped; read errors just mean "not found here". */
static bool note_block(plume_elf_t *e, const src_t *s, uint64_t off, uint64_t size,
                       uint64_t align)
{
    if (size == 0 || size > NOTE_MAX_SIZE || !in_range(off, size, s->size))
        return false;
    const uint8_t *p;
    void *owned;
    if (!src_get(s, off, size, &p, &owned, "note", NULL, 0))
        return false;
    const uint8_t *id;
    size_t id_len;
    bool ok = plume_elf_note_build_id(p, (size_t)size, align == 8 ? 8 : 4, &id, &id_len);
    if (ok) {
        memcpy(e->build_id, id, id_len);
        e->build_id_len = id_len;
    }
    free(owned);
    return ok;
}

/* ---- symbol index ---- */

/* qsort order: by start, then worst first, so that when symbols start at the
 * same address the best one is pushed last (on top) by build_segments(). */
static int sym_cmp(const void *pa, const void *pb)
{
    const sym_t *a = pa, *b = pb;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    if (a->name_len != b->name_len)
        return a->name_len > b->name_len ? -1 : 1; /* shorter is better */
    int c = strcmp(a->name, b->name);
    if (c != 0)
        return c > 0 ? -1 : 1; /* sorting first is better */
    if (a->end != b->end)
        return a->end > b->end ? -1 : 1;
    return 0;
}

/* Flattens the n symbols s[] (sorted by sym_cmp, all of one tier) into
 * disjoint ranges: at each address the winner is the covering symbol that
 * started last (the sort puts the best of equal starts on top of the stack).
 * Symbols already ended are dropped lazily when they reach the top. Each step
 * pushes or pops at least one symbol, so there are at most 2n ranges. `base`
 * is s's index in the handle's array. */
static bool build_segments(const sym_t *s, size_t n, size_t base, seg_t **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (n == 0)
        return true;
    seg_t *segs = malloc(2 * n * sizeof(*segs));
    uint32_t *stack = malloc(n * sizeof(*stack));
    if (segs == NULL || stack == NULL) {
        free(segs);
        free(stack);
        return false;
    }
    size_t sp = 0, ns = 0, i = 0;
    uint64_t cur = 0;
    while (i < n || sp > 0) {
        if (sp == 0)
            cur = s[i].start; /* skip a gap no symbol covers */
        while (i < n && s[i].start <= cur)
            stack[sp++] = (uint32_t)i++;
        while (sp > 0 && s[stack[sp - 1]].end <= cur)
            sp--;
        if (sp == 0)
            continue;
        uint32_t top = stack[sp - 1];
        uint64_t next = s[top].end;
        if (i < n && s[i].start < next)
            next = s[i].start;
        uint32_t id = (uint32_t)(base + top);
        if (ns > 0 && segs[ns - 1].sym == id && segs[ns - 1].end == cur)
            segs[ns - 1].end = next;
        else
            segs[ns++] = (seg_t){.start = cur, .end = next, .sym = id};
        cur = next;
    }
    free(stack);
    *out = segs;
    *nout = ns;
    return true;
}

/* Ranks a symbol for ties on its start: sized beats size 0, then
 * GLOBAL/GNU_UNIQUE over WEAK over LOCAL (and anything else). */
static uint8_t sym_rank(uint64_t size, unsigned bind)
{
    uint8_t r = size != 0 ? 4 : 0;
    if (bind == STB_GLOBAL || bind == STB_GNU_UNIQUE)
        r += 2;
    else if (bind == STB_WEAK)
        r += 1;
    return r;
}

/* Decides whether one raw symbol is kept, and fills *out if so. `strtab` has
 * `termlen` bytes in which every name must start (so it is NUL-terminated). */
static bool sym_keep(const uint8_t *p, const char *strtab, uint64_t termlen, sym_t *out)
{
    uint32_t name = rd32(p + offsetof(Elf64_Sym, st_name));
    uint8_t info = p[offsetof(Elf64_Sym, st_info)];
    uint16_t shndx = rd16(p + offsetof(Elf64_Sym, st_shndx));
    uint64_t value = rd64(p + offsetof(Elf64_Sym, st_value));
    uint64_t size = rd64(p + offsetof(Elf64_Sym, st_size));
    unsigned type = ELF64_ST_TYPE(info), bind = ELF64_ST_BIND(info);
    if (shndx == SHN_UNDEF || shndx == SHN_ABS || shndx == SHN_COMMON)
        return false;
    if (name == 0 || name >= termlen || strtab[name] == '\0')
        return false;
    uint8_t tier;
    if (type == STT_FUNC || type == STT_GNU_IFUNC)
        tier = TIER_FUNC;
    else if (type == STT_OBJECT || type == STT_NOTYPE)
        tier = TIER_OTHER;
    else
        return false; /* SECTION, FILE, TLS (not an address), COMMON, ... */
    const char *nm = strtab + name;
    /* aarch64 mapping symbols mark code/data, they do not name anything. */
    if (nm[0] == '$' && (nm[1] == 'x' || nm[1] == 'd') && (nm[2] == '\0' || nm[2] == '.'))
        return false;
    uint64_t end;
    if (size == 0) {
        if (value == UINT64_MAX)
            return false;
        end = value + 1;
    } else {
        end = value + size < value ? UINT64_MAX : value + size;
        if (end == value)
            return false;
    }
    size_t nlen = strlen(nm);
    *out = (sym_t){.start = value,
                   .end = end,
                   .name = nm,
                   .name_len = nlen > UINT32_MAX ? UINT32_MAX : (uint32_t)nlen,
                   .tier = tier,
                   .rank = sym_rank(size, bind)};
    return true;
}

/* Loads the symbol table in section `idx` (with its linked string table) and
 * builds the index. On failure writes why into `why` and leaves the handle
 * without symbols. */
static bool load_symbols(plume_elf_t *e, const src_t *s, const shdr_t *shs, uint64_t shnum,
                         uint64_t idx, const char *what, char *why, size_t whylen)
{
    const shdr_t *sh = &shs[idx];
    if (sh->entsize != sizeof(Elf64_Sym)) {
        snprintf(why, whylen, "%s entry size %llu, expected %zu", what,
                 (unsigned long long)sh->entsize, sizeof(Elf64_Sym));
        return false;
    }
    uint64_t count = sh->size / sizeof(Elf64_Sym);
    if (count > PLUME_ELF_MAX_SYMBOLS) {
        snprintf(why, whylen, "%s has %llu symbols (at most %zu)", what,
                 (unsigned long long)count, PLUME_ELF_MAX_SYMBOLS);
        return false;
    }
    if (!in_range(sh->offset, count * sizeof(Elf64_Sym), s->size)) {
        snprintf(why, whylen, "%s (offset %llu, %llu bytes) runs past the end of the file", what,
                 (unsigned long long)sh->offset, (unsigned long long)sh->size);
        return false;
    }
    if (sh->link == 0 || sh->link >= shnum || shs[sh->link].type != SHT_STRTAB) {
        snprintf(why, whylen, "%s links to section %u, which is not a string table", what,
                 sh->link);
        return false;
    }
    const shdr_t *st = &shs[sh->link];
    if (!in_range(st->offset, st->size, s->size)) {
        snprintf(why, whylen, "string table of %s (offset %llu, %llu bytes) runs past the end",
                 what, (unsigned long long)st->offset, (unsigned long long)st->size);
        return false;
    }
    char ebuf[256];
    const uint8_t *strtab, *symtab;
    void *str_owned, *sym_owned;
    if (!src_get(s, st->offset, st->size, &strtab, &str_owned, "string table", ebuf,
                 sizeof(ebuf))) {
        snprintf(why, whylen, "%s", ebuf);
        return false;
    }
    if (!src_get(s, sh->offset, count * sizeof(Elf64_Sym), &symtab, &sym_owned, what, ebuf,
                 sizeof(ebuf))) {
        snprintf(why, whylen, "%s", ebuf);
        free(str_owned);
        return false;
    }
    /* Names must end inside the table: only offsets before its last NUL can. */
    uint64_t termlen = st->size;
    while (termlen > 0 && strtab[termlen - 1] != '\0')
        termlen--;
    sym_t *syms = malloc((count ? count : 1) * sizeof(*syms));
    size_t n[TIER_COUNT] = {0, 0};
    if (syms == NULL) {
        snprintf(why, whylen, "out of memory indexing %llu symbols", (unsigned long long)count);
        goto fail;
    }
    /* Functions first, then the others: each tier is a contiguous run. */
    for (int tier = 0; tier < TIER_COUNT; tier++) {
        for (uint64_t i = 1; i < count; i++) {
            sym_t sy;
            if (sym_keep(symtab + i * sizeof(Elf64_Sym), (const char *)strtab, termlen, &sy) &&
                sy.tier == tier) {
                syms[n[0] + n[1]] = sy;
                n[tier]++;
            }
        }
    }
    free(sym_owned);
    sym_owned = NULL;
    qsort(syms, n[TIER_FUNC], sizeof(*syms), sym_cmp);
    qsort(syms + n[TIER_FUNC], n[TIER_OTHER], sizeof(*syms), sym_cmp);
    if (!build_segments(syms, n[TIER_FUNC], 0, &e->segs[TIER_FUNC], &e->nsegs[TIER_FUNC]) ||
        !build_segments(syms + n[TIER_FUNC], n[TIER_OTHER], n[TIER_FUNC], &e->segs[TIER_OTHER],
                        &e->nsegs[TIER_OTHER])) {
        snprintf(why, whylen, "out of memory indexing %llu symbols", (unsigned long long)count);
        free(e->segs[TIER_FUNC]);
        e->segs[TIER_FUNC] = NULL;
        e->nsegs[TIER_FUNC] = 0;
        goto fail;
    }
    e->syms = syms;
    e->nsyms = n[0] + n[1];
    e->strtab_owned = str_owned;
    e->sym_table = what;
    return true;
fail:
    free(syms);
    free(sym_owned);
    free(str_owned);
    return false;
}

/* Writes e->sym_err (cut to fit: it is a message, not data). */
static void __attribute__((format(printf, 2, 3))) sym_err_set(plume_elf_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->sym_err, sizeof(e->sym_err), fmt, ap);
    va_end(ap);
}

/* Picks the symbol table (.symtab, else .dynsym) and records why none or why
 * the fallback was taken in e->sym_err. */
static void pick_symbols(plume_elf_t *e, const src_t *s, const shdr_t *shs, uint64_t shnum)
{
    char why[256] = "";
    bool had_symtab = false;
    for (uint64_t i = 1; i < shnum; i++) {
        if (shs[i].type == SHT_SYMTAB) {
            had_symtab = true;
            if (load_symbols(e, s, shs, shnum, i, ".symtab", why, sizeof(why))) {
                if (e->nsyms == 0)
                    sym_err_set(e, "%s: .symtab has no defined function or object symbols",
                                s->name);
                return;
            }
            break;
        }
    }
    char why2[256] = "";
    for (uint64_t i = 1; i < shnum; i++) {
        if (shs[i].type == SHT_DYNSYM) {
            if (load_symbols(e, s, shs, shnum, i, ".dynsym", why2, sizeof(why2))) {
                if (had_symtab)
                    sym_err_set(e, "%s: %s; using .dynsym", s->name, why);
                else if (e->nsyms == 0)
                    sym_err_set(e, "%s: no .symtab, and .dynsym has no defined function or "
                                   "object symbols (stripped)", s->name);
                return;
            }
            break;
        }
    }
    if (had_symtab)
        sym_err_set(e, "%s: %s; %s", s->name, why, why2[0] ? why2 : "no .dynsym");
    else if (why2[0])
        sym_err_set(e, "%s: no .symtab; %s", s->name, why2);
    else if (shnum == 0)
        sym_err_set(e, "%s: no section headers, so no symbols", s->name);
    else
        sym_err_set(e, "%s: no .symtab or .dynsym section (stripped)", s->name);
}

/* ---- open ---- */

/* Parses everything from the source into a new handle (see the header). */
static plume_elf_t *open_src(const src_t *s, char *err, size_t errlen)
{
    if (s->size < sizeof(Elf64_Ehdr)) {
        set_err(err, errlen, s->name, "too short for an ELF header (%llu bytes)",
                (unsigned long long)s->size);
        return NULL;
    }
    const uint8_t *h;
    void *h_owned, *ph_owned = NULL, *sh_owned = NULL;
    if (!src_get(s, 0, sizeof(Elf64_Ehdr), &h, &h_owned, "ELF header", err, errlen))
        return NULL;
    plume_elf_t *e = NULL;
    shdr_t *shs = NULL;
    if (!check_ehdr(s, h, err, errlen))
        goto out;
    uint64_t phoff = rd64(h + offsetof(Elf64_Ehdr, e_phoff));
    uint64_t shoff = rd64(h + offsetof(Elf64_Ehdr, e_shoff));
    uint64_t phnum = rd16(h + offsetof(Elf64_Ehdr, e_phnum));
    uint64_t shnum = rd16(h + offsetof(Elf64_Ehdr, e_shnum));
    uint64_t phentsize = rd16(h + offsetof(Elf64_Ehdr, e_phentsize));
    uint64_t shentsize = rd16(h + offsetof(Elf64_Ehdr, e_shentsize));
    if (shoff == 0)
        shnum = 0;
    /* Extended numbering: counts too large for the header live in section 0. */
    if (shoff != 0 && (shnum == 0 || phnum == PN_XNUM)) {
        const uint8_t *s0;
        void *s0_owned;
        if (!load_table(s, "section header table", shoff, 1, shentsize, sizeof(Elf64_Shdr),
                        1, &s0, &s0_owned, err, errlen))
            goto out;
        if (shnum == 0)
            shnum = rd64(s0 + offsetof(Elf64_Shdr, sh_size));
        if (phnum == PN_XNUM)
            phnum = rd32(s0 + offsetof(Elf64_Shdr, sh_info));
        free(s0_owned);
    }
    const uint8_t *ph, *sh;
    if (!load_table(s, "program header table", phoff, phnum, phentsize, sizeof(Elf64_Phdr),
                    MAX_SEGMENTS, &ph, &ph_owned, err, errlen) ||
        !load_table(s, "section header table", shoff, shnum, shentsize, sizeof(Elf64_Shdr),
                    MAX_SECTIONS, &sh, &sh_owned, err, errlen))
        goto out;
    e = calloc(1, sizeof(*e));
    shs = calloc(shnum ? shnum : 1, sizeof(*shs));
    if (e == NULL || shs == NULL) {
        set_err(err, errlen, s->name, "out of memory");
        free(e);
        e = NULL;
        goto out;
    }
    snprintf(e->name, sizeof(e->name), "%s", s->name);
    for (uint64_t i = 0; i < shnum; i++)
        decode_shdr(sh + i * sizeof(Elf64_Shdr), &shs[i]);

    uint64_t lowest = UINT64_MAX;
    for (uint64_t i = 0; i < phnum; i++) {
        const uint8_t *p = ph + i * sizeof(Elf64_Phdr);
        if (rd32(p + offsetof(Elf64_Phdr, p_type)) == PT_LOAD) {
            uint64_t v = rd64(p + offsetof(Elf64_Phdr, p_vaddr));
            if (v < lowest)
                lowest = v;
        }
    }
    e->first_load_vaddr = lowest == UINT64_MAX ? 0 : lowest & ~(PAGE_4K - 1);

    bool found = false;
    for (uint64_t i = 0; i < shnum && !found; i++)
        if (shs[i].type == SHT_NOTE)
            found = note_block(e, s, shs[i].offset, shs[i].size, shs[i].addralign);
    for (uint64_t i = 0; i < phnum && !found; i++) {
        const uint8_t *p = ph + i * sizeof(Elf64_Phdr);
        if (rd32(p + offsetof(Elf64_Phdr, p_type)) == PT_NOTE)
            found = note_block(e, s, rd64(p + offsetof(Elf64_Phdr, p_offset)),
                               rd64(p + offsetof(Elf64_Phdr, p_filesz)),
                               rd64(p + offsetof(Elf64_Phdr, p_align)));
    }
    pick_symbols(e, s, shs, shnum);
out:
    free(shs);
    free(sh_owned);
    free(ph_owned);
    free(h_owned);
    return e;
}

plume_elf_t *plume_elf_open(const char *path, char *err, size_t errlen)
{
    if (path == NULL) {
        set_err(err, errlen, "(null)", "no path given");
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        set_err(err, errlen, path, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    plume_elf_t *e = NULL;
    if (fstat(fd, &st) != 0) {
        set_err(err, errlen, path, "cannot stat: %s", strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        set_err(err, errlen, path, "not a regular file");
    } else if ((uint64_t)st.st_size > PLUME_ELF_MAX_FILE_SIZE) {
        set_err(err, errlen, path, "file too large (%lld bytes, at most %llu)",
                (long long)st.st_size, (unsigned long long)PLUME_ELF_MAX_FILE_SIZE);
    } else {
        src_t s = {.name = path, .mem = NULL, .fd = fd, .size = (uint64_t)st.st_size};
        e = open_src(&s, err, errlen);
    }
    close(fd);
    return e;
}

plume_elf_t *plume_elf_open_mem(const void *data, size_t len, char *err, size_t errlen)
{
    static const uint8_t empty[1];
    src_t s = {.name = "<memory>", .mem = data ? data : empty, .fd = -1, .size = data ? len : 0};
    return open_src(&s, err, errlen);
}

void plume_elf_close(plume_elf_t *e)
{
    if (e == NULL)
        return;
    free(e->segs[TIER_FUNC]);
    free(e->segs[TIER_OTHER]);
    free(e->syms);
    free(e->strtab_owned);
    free(e);
}

bool plume_elf_build_id(const plume_elf_t *e, const uint8_t **id, size_t *len)
{
    if (e == NULL || e->build_id_len == 0)
        return false;
    *id = e->build_id;
    *len = e->build_id_len;
    return true;
}

uint64_t plume_elf_first_load_vaddr(const plume_elf_t *e)
{
    return e ? e->first_load_vaddr : 0;
}

/* Binary search for the range containing vaddr in one tier. */
static const seg_t *find_seg(const seg_t *segs, size_t n, uint64_t vaddr)
{
    size_t lo = 0, hi = n; /* answer: last seg with start <= vaddr, in [lo-1, hi) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (segs[mid].start <= vaddr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || vaddr >= segs[lo - 1].end)
        return NULL;
    return &segs[lo - 1];
}

bool plume_elf_symbolize(const plume_elf_t *e, uint64_t vaddr, const char **name,
                         uint64_t *offset)
{
    if (e == NULL)
        return false;
    for (int tier = 0; tier < TIER_COUNT; tier++) {
        const seg_t *sg = find_seg(e->segs[tier], e->nsegs[tier], vaddr);
        if (sg != NULL) {
            const sym_t *sy = &e->syms[sg->sym];
            *name = sy->name;
            *offset = vaddr - sy->start;
            return true;
        }
    }
    return false;
}

const char *plume_elf_symbol_table(const plume_elf_t *e) { return e ? e->sym_table : NULL; }

size_t plume_elf_symbol_count(const plume_elf_t *e) { return e ? e->nsyms : 0; }

const char *plume_elf_symbols_error(const plume_elf_t *e)
{
    return e && e->sym_err[0] ? e->sym_err : NULL;
}
