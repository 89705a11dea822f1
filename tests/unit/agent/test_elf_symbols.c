/* SPDX-License-Identifier: MIT */
/* ELF symbolication: the symbol rule on hand-built ELF images, the real test
 * binary and libc (compared with readelf), clear errors on stripped, garbage
 * and unsupported files, and no crash on truncated or corrupted copies. */
#include "test_support.h"
#include <cmocka.h>

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_note.h"
#include "elf_symbols.h"

/* ---- a tiny ELF builder for exact rule checks ---- */

typedef struct tsym {
    const char *name; /* NULL: st_name = bad_name below */
    uint64_t value, size;
    unsigned char type, bind;
    uint16_t shndx;
} tsym_t;

#define TEXT 5 /* section index the defined test symbols point at */

static const tsym_t SYMS[] = {
    {"func_a", 0x1000, 0x100, STT_FUNC, STB_GLOBAL, TEXT},
    {"inner", 0x1040, 0x10, STT_FUNC, STB_LOCAL, TEXT},
    {"label", 0x1080, 0, STT_NOTYPE, STB_LOCAL, TEXT},
    {"obj", 0x1000, 0x1000, STT_OBJECT, STB_GLOBAL, TEXT},
    {"_IO_pf", 0x2000, 0x40, STT_FUNC, STB_GLOBAL, TEXT},
    {"pf", 0x2000, 0x40, STT_FUNC, STB_GLOBAL, TEXT},
    {"wk", 0x2100, 0x40, STT_FUNC, STB_WEAK, TEXT},
    {"gl", 0x2100, 0x40, STT_FUNC, STB_GLOBAL, TEXT},
    {"lo", 0x2100, 0x40, STT_FUNC, STB_LOCAL, TEXT},
    {"zero_big", 0x2200, 0, STT_FUNC, STB_GLOBAL, TEXT},
    {"sized", 0x2200, 0x10, STT_FUNC, STB_LOCAL, TEXT},
    {"size0", 0x3000, 0, STT_FUNC, STB_GLOBAL, TEXT},
    {"undef", 0x6000, 0x10, STT_FUNC, STB_GLOBAL, SHN_UNDEF},
    {"abs", 0x6100, 0x10, STT_FUNC, STB_GLOBAL, SHN_ABS},
    {"sect", 0x6200, 0x10, STT_SECTION, STB_LOCAL, TEXT},
    {"tls", 0x6300, 0x10, STT_TLS, STB_GLOBAL, TEXT},
    {"$x", 0x6400, 0, STT_NOTYPE, STB_LOCAL, TEXT},
    {"$d.1", 0x6500, 0, STT_NOTYPE, STB_LOCAL, TEXT},
    {"", 0x6600, 0x10, STT_FUNC, STB_GLOBAL, TEXT},
    {NULL, 0x6700, 0x10, STT_FUNC, STB_GLOBAL, TEXT},
    {"part_a", 0x7000, 0x100, STT_FUNC, STB_GLOBAL, TEXT},
    {"part_b", 0x7080, 0x180, STT_FUNC, STB_GLOBAL, TEXT},
    {"st_a", 0x8000, 0x100, STT_FUNC, STB_GLOBAL, TEXT},
    {"st_b", 0x8010, 0x2f0, STT_FUNC, STB_GLOBAL, TEXT},
    {"st_c", 0x8020, 0x10, STT_FUNC, STB_GLOBAL, TEXT},
    {"top", UINT64_MAX - 10, 100, STT_FUNC, STB_GLOBAL, TEXT},
    {"ifn", 0x9000, 0x20, STT_GNU_IFUNC, STB_GLOBAL, TEXT},
    {"unterminated", 0x5000, 0x10, STT_FUNC, STB_GLOBAL, TEXT}, /* must stay last */
};
#define NSYMS (sizeof(SYMS) / sizeof(SYMS[0]))

static const uint8_t BID[20] = {0xe1, 0x67, 0xc8, 0xd8, 0x6d, 0x04, 0x68, 0xac, 0x7b, 0xe7,
                                0x66, 0x55, 0xe7, 0xcb, 0xe8, 0xc0, 0xaa, 0x9f, 0xf0, 0xd4};

typedef struct opts {
    uint16_t machine;        /* 0: x86-64 */
    bool ext_shnum;          /* e_shnum 0, count in section 0 */
    bool no_symtab;          /* .symtab typed PROGBITS */
    bool no_dynsym;          /* .dynsym typed PROGBITS */
    bool bad_symtab_link;    /* .symtab's sh_link -> 0 */
    bool note_section;       /* also a SHT_NOTE section over the notes */
} opts_t;

typedef struct img {
    uint8_t b[8192];
    size_t len;
} img_t;

static size_t put(img_t *im, const void *p, size_t n, size_t align)
{
    while (im->len % align)
        im->b[im->len++] = 0;
    size_t off = im->len;
    assert_true(off + n <= sizeof(im->b));
    memcpy(im->b + off, p, n);
    im->len += n;
    return off;
}

/* Builds an ET_DYN image: PT_LOAD at 0x401234, an 8-aligned PT_NOTE (a
 * property note then the build id), .symtab with SYMS (the last name without
 * its NUL), .dynsym with one symbol "dyn_only" over func_a, section headers
 * last. Sections: 0 null, 1 .symtab, 2 .strtab, 3 .dynsym, 4 .dynstr,
 * 5 .text, 6 note (SHT_NOTE or PROGBITS). */
static void build(img_t *im, const opts_t *o)
{
    memset(im, 0, sizeof(*im));
    im->len = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);

    uint8_t notes[80];
    size_t nl = 0;
    uint32_t prop_hdr[3] = {4, 16, NT_GNU_PROPERTY_TYPE_0};
    memcpy(notes + nl, prop_hdr, 12), nl += 12;
    memcpy(notes + nl, "GNU", 4), nl += 4;
    memset(notes + nl, 0x11, 16), nl += 16;
    uint32_t bid_hdr[3] = {4, 20, NT_GNU_BUILD_ID};
    memcpy(notes + nl, bid_hdr, 12), nl += 12;
    memcpy(notes + nl, "GNU", 4), nl += 4;
    memcpy(notes + nl, BID, 20), nl += 20;
    memset(notes + nl, 0, 4), nl += 4;
    size_t note_off = put(im, notes, nl, 8);

    /* String table: the last name has no NUL (the table ends inside it). */
    char strtab[1024];
    size_t sl = 1;
    strtab[0] = '\0';
    uint32_t name_off[NSYMS];
    for (size_t i = 0; i < NSYMS; i++) {
        if (SYMS[i].name == NULL) {
            name_off[i] = 0xfffff; /* past the end */
            continue;
        }
        if (SYMS[i].name[0] == '\0') {
            name_off[i] = 0;
            continue;
        }
        name_off[i] = (uint32_t)sl;
        size_t n = strlen(SYMS[i].name) + (i == NSYMS - 1 ? 0 : 1);
        memcpy(strtab + sl, SYMS[i].name, n);
        sl += n;
    }
    size_t strtab_off = put(im, strtab, sl, 1);

    Elf64_Sym syms[NSYMS + 1];
    memset(syms, 0, sizeof(syms));
    for (size_t i = 0; i < NSYMS; i++) {
        syms[i + 1].st_name = name_off[i];
        syms[i + 1].st_info = ELF64_ST_INFO(SYMS[i].bind, SYMS[i].type);
        syms[i + 1].st_shndx = SYMS[i].shndx;
        syms[i + 1].st_value = SYMS[i].value;
        syms[i + 1].st_size = SYMS[i].size;
    }
    size_t symtab_off = put(im, syms, sizeof(syms), 8);

    size_t dynstr_off = put(im, "\0dyn_only", 10, 1);
    Elf64_Sym dsyms[2];
    memset(dsyms, 0, sizeof(dsyms));
    dsyms[1] = (Elf64_Sym){.st_name = 1, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
                           .st_shndx = TEXT, .st_value = 0x1000, .st_size = 0x100};
    size_t dynsym_off = put(im, dsyms, sizeof(dsyms), 8);

    Elf64_Shdr sh[7];
    memset(sh, 0, sizeof(sh));
    sh[1] = (Elf64_Shdr){.sh_type = o->no_symtab ? SHT_PROGBITS : SHT_SYMTAB,
                         .sh_offset = symtab_off, .sh_size = sizeof(syms),
                         .sh_link = o->bad_symtab_link ? 0 : 2, .sh_entsize = sizeof(Elf64_Sym)};
    sh[2] = (Elf64_Shdr){.sh_type = SHT_STRTAB, .sh_offset = strtab_off, .sh_size = sl};
    sh[3] = (Elf64_Shdr){.sh_type = o->no_dynsym ? SHT_PROGBITS : SHT_DYNSYM,
                         .sh_offset = dynsym_off, .sh_size = sizeof(dsyms), .sh_link = 4,
                         .sh_entsize = sizeof(Elf64_Sym)};
    sh[4] = (Elf64_Shdr){.sh_type = SHT_STRTAB, .sh_offset = dynstr_off, .sh_size = 10};
    sh[5] = (Elf64_Shdr){.sh_type = SHT_PROGBITS, .sh_offset = 0, .sh_size = 0};
    sh[6] = (Elf64_Shdr){.sh_type = o->note_section ? SHT_NOTE : SHT_PROGBITS,
                         .sh_offset = note_off, .sh_size = nl, .sh_addralign = 8};
    if (o->ext_shnum)
        sh[0].sh_size = 7;
    size_t shoff = put(im, sh, sizeof(sh), 8);

    Elf64_Phdr ph[2] = {
        {.p_type = PT_LOAD, .p_offset = 0, .p_vaddr = 0x401234, .p_filesz = 0x100,
         .p_memsz = 0x100, .p_align = 0x1000},
        {.p_type = PT_NOTE, .p_offset = note_off, .p_vaddr = 0x401000 + note_off,
         .p_filesz = nl, .p_memsz = nl, .p_align = 8},
    };
    memcpy(im->b + sizeof(Elf64_Ehdr), ph, sizeof(ph));

    Elf64_Ehdr eh = {.e_type = ET_DYN,
                     .e_machine = o->machine ? o->machine : EM_X86_64,
                     .e_version = EV_CURRENT,
                     .e_phoff = sizeof(Elf64_Ehdr),
                     .e_shoff = shoff,
                     .e_ehsize = sizeof(Elf64_Ehdr),
                     .e_phentsize = sizeof(Elf64_Phdr),
                     .e_phnum = 2,
                     .e_shentsize = sizeof(Elf64_Shdr),
                     .e_shnum = o->ext_shnum ? 0 : 7};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    memcpy(im->b, &eh, sizeof(eh));
}

/* Opens `im` (copied to an exact-size heap block so ASan sees over-reads);
 * the copy is returned in *keep and must outlive the handle. */
static plume_elf_t *open_img(const img_t *im, void **keep)
{
    *keep = malloc(im->len);
    assert_non_null(*keep);
    memcpy(*keep, im->b, im->len);
    char err[256] = "";
    plume_elf_t *e = plume_elf_open_mem(*keep, im->len, err, sizeof(err));
    if (e == NULL)
        fail_msg("open_mem failed: %s", err);
    return e;
}

/* Asserts that vaddr resolves to name+off (name NULL: to nothing). */
static void expect_sym(const plume_elf_t *e, uint64_t vaddr, const char *name, uint64_t off)
{
    const char *got = NULL;
    uint64_t got_off = 0;
    bool ok = plume_elf_symbolize(e, vaddr, &got, &got_off);
    if (name == NULL) {
        if (ok)
            fail_msg("0x%llx: expected no symbol, got %s+%llu", (unsigned long long)vaddr, got,
                     (unsigned long long)got_off);
        return;
    }
    if (!ok)
        fail_msg("0x%llx: expected %s+%llu, got nothing", (unsigned long long)vaddr, name,
                 (unsigned long long)off);
    if (strcmp(got, name) != 0 || got_off != off)
        fail_msg("0x%llx: expected %s+%llu, got %s+%llu", (unsigned long long)vaddr, name,
                 (unsigned long long)off, got, (unsigned long long)got_off);
}

static void symbol_rule(void **state)
{
    (void)state;
    static img_t im;
    build(&im, &(opts_t){0});
    void *keep;
    plume_elf_t *e = open_img(&im, &keep);
    assert_string_equal(plume_elf_symbol_table(e), ".symtab");
    assert_null(plume_elf_symbols_error(e));

    expect_sym(e, 0x0fff, NULL, 0);
    expect_sym(e, 0x1000, "func_a", 0);         /* FUNC beats OBJECT at the same start */
    expect_sym(e, 0x103f, "func_a", 0x3f);
    expect_sym(e, 0x1040, "inner", 0);          /* nested: the innermost */
    expect_sym(e, 0x104f, "inner", 0xf);
    expect_sym(e, 0x1050, "func_a", 0x50);      /* back to the outer one */
    expect_sym(e, 0x1080, "func_a", 0x80);      /* NOTYPE label: functions first */
    expect_sym(e, 0x10ff, "func_a", 0xff);
    expect_sym(e, 0x1100, "obj", 0x100);        /* no function: the object */
    expect_sym(e, 0x1fff, "obj", 0xfff);
    expect_sym(e, 0x2000, "pf", 0);             /* aliases: the shorter name */
    expect_sym(e, 0x203f, "pf", 0x3f);
    expect_sym(e, 0x2040, NULL, 0);
    expect_sym(e, 0x2110, "gl", 0x10);          /* GLOBAL over WEAK over LOCAL */
    expect_sym(e, 0x2200, "sized", 0);          /* sized over size 0 */
    expect_sym(e, 0x2205, "sized", 5);
    expect_sym(e, 0x3000, "size0", 0);          /* size 0: exact address only */
    expect_sym(e, 0x3001, NULL, 0);
    expect_sym(e, 0x2fff, NULL, 0);
    expect_sym(e, 0x5000, NULL, 0);             /* name not NUL-terminated */
    expect_sym(e, 0x5008, NULL, 0);
    expect_sym(e, 0x6005, NULL, 0);             /* undefined */
    expect_sym(e, 0x6105, NULL, 0);             /* absolute */
    expect_sym(e, 0x6205, NULL, 0);             /* section */
    expect_sym(e, 0x6305, NULL, 0);             /* TLS offset, not an address */
    expect_sym(e, 0x6400, NULL, 0);             /* aarch64 mapping symbols */
    expect_sym(e, 0x6500, NULL, 0);
    expect_sym(e, 0x6605, NULL, 0);             /* empty name */
    expect_sym(e, 0x6705, NULL, 0);             /* name offset past the table */
    expect_sym(e, 0x7050, "part_a", 0x50);      /* partial overlap: */
    expect_sym(e, 0x7090, "part_b", 0x10);      /* the one starting last */
    expect_sym(e, 0x7150, "part_b", 0xd0);
    expect_sym(e, 0x7200, NULL, 0);
    expect_sym(e, 0x8005, "st_a", 5);
    expect_sym(e, 0x8025, "st_c", 5);
    expect_sym(e, 0x8035, "st_b", 0x25);        /* st_a still covers, st_b started later */
    expect_sym(e, 0x80f0, "st_b", 0xe0);
    expect_sym(e, 0x8200, "st_b", 0x1f0);
    expect_sym(e, 0x8300, NULL, 0);
    expect_sym(e, 0x9010, "ifn", 0x10);         /* GNU_IFUNC counts as a function */
    expect_sym(e, UINT64_MAX - 1, "top", 9);    /* end clamped, no wrap */
    expect_sym(e, 0, NULL, 0);
    /* Kept: func_a inner label obj _IO_pf pf wk gl lo zero_big sized size0
     * part_a part_b st_a st_b st_c top ifn. */
    assert_int_equal(plume_elf_symbol_count(e), 19);

    const uint8_t *id;
    size_t n;
    assert_true(plume_elf_build_id(e, &id, &n)); /* from the 8-aligned PT_NOTE */
    assert_int_equal(n, 20);
    assert_memory_equal(id, BID, 20);
    assert_int_equal(plume_elf_first_load_vaddr(e), 0x401000);
    plume_elf_close(e);
    free(keep);
}

static void table_choice_and_variants(void **state)
{
    (void)state;
    static img_t im;
    void *keep;
    const uint8_t *id;
    size_t n;

    /* No .symtab: .dynsym, quietly. */
    build(&im, &(opts_t){.no_symtab = true});
    plume_elf_t *e = open_img(&im, &keep);
    assert_string_equal(plume_elf_symbol_table(e), ".dynsym");
    assert_null(plume_elf_symbols_error(e));
    expect_sym(e, 0x1010, "dyn_only", 0x10);
    expect_sym(e, 0x2000, NULL, 0);
    plume_elf_close(e);
    free(keep);

    /* Broken .symtab: .dynsym, with the reason. */
    build(&im, &(opts_t){.bad_symtab_link = true});
    e = open_img(&im, &keep);
    assert_string_equal(plume_elf_symbol_table(e), ".dynsym");
    assert_non_null(plume_elf_symbols_error(e));
    assert_non_null(strstr(plume_elf_symbols_error(e), ".symtab links to section 0"));
    assert_non_null(strstr(plume_elf_symbols_error(e), "using .dynsym"));
    expect_sym(e, 0x1010, "dyn_only", 0x10);
    plume_elf_close(e);
    free(keep);

    /* Neither: opens (build id still there) and says it is stripped. */
    build(&im, &(opts_t){.no_symtab = true, .no_dynsym = true});
    e = open_img(&im, &keep);
    assert_null(plume_elf_symbol_table(e));
    assert_int_equal(plume_elf_symbol_count(e), 0);
    assert_string_equal(plume_elf_symbols_error(e),
                        "<memory>: no .symtab or .dynsym section (stripped)");
    expect_sym(e, 0x1010, NULL, 0);
    assert_true(plume_elf_build_id(e, &id, &n));
    assert_memory_equal(id, BID, 20);
    plume_elf_close(e);
    free(keep);

    /* aarch64, extended section numbering, build id from a SHT_NOTE section. */
    build(&im, &(opts_t){.machine = EM_AARCH64, .ext_shnum = true, .note_section = true});
    e = open_img(&im, &keep);
    expect_sym(e, 0x1040, "inner", 0);
    assert_true(plume_elf_build_id(e, &id, &n));
    assert_memory_equal(id, BID, 20);
    plume_elf_close(e);
    free(keep);

    /* Unsupported or bad headers give a message naming the problem. */
    struct {
        size_t off;
        uint8_t val;
        const char *msg;
    } bad[] = {
        {0, 0x7e, "<memory>: not an ELF file (bad magic)"},
        {EI_CLASS, ELFCLASS32, "ELF class 1 not supported (only 64-bit ELF)"},
        {EI_DATA, ELFDATA2MSB, "only little-endian"},
        {EI_VERSION, 0, "ELF version 0"},
        {offsetof(Elf64_Ehdr, e_type), ET_REL, "ELF type 1 not supported"},
        {offsetof(Elf64_Ehdr, e_type), ET_CORE, "ELF type 4 not supported"},
        {offsetof(Elf64_Ehdr, e_machine), EM_386, "machine 3 not supported"},
        {offsetof(Elf64_Ehdr, e_ehsize), 40, "ELF header size 40 too small"},
        {offsetof(Elf64_Ehdr, e_phentsize), 32, "program header table entry size 32"},
        {offsetof(Elf64_Ehdr, e_shentsize), 40, "section header table entry size 40"},
        {offsetof(Elf64_Ehdr, e_shoff) + 3, 0x10, "section header table (offset"},
        {offsetof(Elf64_Ehdr, e_phoff) + 7, 0xff, "program header table (offset"},
        {offsetof(Elf64_Ehdr, e_shnum) + 1, 0x7f, "runs past the end"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        build(&im, &(opts_t){0});
        im.b[bad[i].off] = bad[i].val;
        char err[256] = "";
        assert_null(plume_elf_open_mem(im.b, im.len, err, sizeof(err)));
        if (strstr(err, bad[i].msg) == NULL)
            fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err, bad[i].msg);
    }
    char err[64];
    assert_null(plume_elf_open_mem(im.b, 10, err, sizeof(err)));
    assert_string_equal(err, "<memory>: too short for an ELF header (10 bytes)");
    assert_null(plume_elf_open_mem(NULL, 0, err, sizeof(err)));
    assert_null(plume_elf_open_mem(im.b, 10, NULL, 0)); /* no error buffer: fine */
    char tiny[8];
    assert_null(plume_elf_open_mem(im.b, 10, tiny, sizeof(tiny)));
    assert_int_equal(strlen(tiny), 7); /* cut, NUL-terminated */
}

/* ---- the real test binary and libc ---- */

/* The function the tests look up: not inlined, big enough for an offset. */
static __attribute__((noinline)) int elf_test_target_fn(int x)
{
    volatile int acc = x;
    for (int i = 0; i < x; i++)
        acc = acc * 31 + i;
    return acc;
}

typedef struct find_obj {
    uintptr_t addr;
    bool found;
    uintptr_t image_addr; /* dlpi_addr + lowest PT_LOAD p_vaddr (4 KiB aligned) */
    uint64_t lowest_vaddr;
    const uint8_t *live_id; /* build id read from the loaded PT_NOTE */
    size_t live_id_len;
} find_obj_t;

/* dl_iterate_phdr callback: finds the object whose PT_LOAD covers f->addr. */
static int find_obj_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    find_obj_t *f = arg;
    bool covers = false;
    uint64_t lowest = UINT64_MAX;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        if (p->p_type != PT_LOAD)
            continue;
        if (p->p_vaddr < lowest)
            lowest = p->p_vaddr;
        uintptr_t start = info->dlpi_addr + p->p_vaddr;
        if (f->addr >= start && f->addr < start + p->p_memsz)
            covers = true;
    }
    if (!covers)
        return 0;
    f->found = true;
    f->lowest_vaddr = lowest;
    f->image_addr = info->dlpi_addr + (lowest & ~(uint64_t)4095);
    for (int i = 0; i < info->dlpi_phnum && f->live_id == NULL; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        if (p->p_type == PT_NOTE)
            plume_elf_note_build_id((const void *)(info->dlpi_addr + p->p_vaddr), p->p_memsz,
                                    p->p_align == 8 ? 8 : 4, &f->live_id, &f->live_id_len);
    }
    return 1;
}

/* Runs `readelf -n path` and returns the hex of its "Build ID:" line in out
 * (empty if none). Skips the test when readelf cannot run. */
static void readelf_build_id(const char *path, char *out, size_t outlen)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "readelf -n '%s' 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[512];
    bool any = false;
    out[0] = '\0';
    while (fgets(line, sizeof(line), p) != NULL) {
        any = true;
        char *b = strstr(line, "Build ID: ");
        if (b != NULL && out[0] == '\0')
            sscanf(b + 10, "%200[0-9a-f]", out);
    }
    int rc = pclose(p);
    if (!any || rc != 0)
        skip();
    (void)outlen;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = '\0';
}

static char *self_path(void)
{
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
    assert_true(n > 0);
    path[n] = '\0';
    return path;
}

static void self_exe(void **state)
{
    (void)state;
    assert_true(elf_test_target_fn(3) != 0);
    char err[512] = "";
    plume_elf_t *e = plume_elf_open("/proc/self/exe", err, sizeof(err));
    if (e == NULL)
        fail_msg("%s", err);
    assert_string_equal(plume_elf_symbol_table(e), ".symtab");

    find_obj_t f = {.addr = (uintptr_t)&elf_test_target_fn};
    dl_iterate_phdr(find_obj_cb, &f);
    assert_true(f.found);
    assert_int_equal(plume_elf_first_load_vaddr(e), f.lowest_vaddr & ~(uint64_t)4095);
    uint64_t vaddr = f.addr - f.image_addr + plume_elf_first_load_vaddr(e);
    const char *name;
    uint64_t off;
    assert_true(plume_elf_symbolize(e, vaddr, &name, &off));
    assert_string_equal(name, "elf_test_target_fn");
    assert_int_equal(off, 0);
    assert_true(plume_elf_symbolize(e, vaddr + 5, &name, &off));
    assert_string_equal(name, "elf_test_target_fn");
    assert_int_equal(off, 5);
    /* And a function of another file linked in. */
    f = (find_obj_t){.addr = (uintptr_t)&plume_elf_symbolize};
    dl_iterate_phdr(find_obj_cb, &f);
    vaddr = f.addr - f.image_addr + plume_elf_first_load_vaddr(e);
    assert_true(plume_elf_symbolize(e, vaddr + 1, &name, &off));
    assert_string_equal(name, "plume_elf_symbolize");
    assert_int_equal(off, 1);

    /* Build id: the file's, the loaded PT_NOTE's and readelf's agree. */
    char want[256], got[2 * PLUME_ELF_BUILD_ID_MAX + 1] = "";
    const uint8_t *id;
    size_t n;
    bool has = plume_elf_build_id(e, &id, &n);
    if (has)
        hex(id, n, got);
    readelf_build_id(self_path(), want, sizeof(want));
    assert_string_equal(got, want);
    if (has) {
        assert_non_null(f.live_id);
        assert_int_equal(f.live_id_len, n);
        assert_memory_equal(f.live_id, id, n);
    }
    plume_elf_close(e);
}

static void libc_printf(void **state)
{
    (void)state;
    /* Through libc's own handle: printf in this process may be a sanitizer
     * interceptor. */
    void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    if (h == NULL)
        skip();
    void *pf = dlsym(h, "printf");
    assert_non_null(pf);
    Dl_info di;
    assert_true(dladdr(pf, &di) != 0);
    assert_non_null(di.dli_fname);
    char err[512] = "";
    plume_elf_t *e = plume_elf_open(di.dli_fname, err, sizeof(err));
    if (e == NULL)
        fail_msg("%s", err);
    find_obj_t f = {.addr = (uintptr_t)pf};
    dl_iterate_phdr(find_obj_cb, &f);
    assert_true(f.found);
    assert_int_equal(f.image_addr, (uintptr_t)di.dli_fbase);
    uint64_t vaddr = (uintptr_t)pf - (uintptr_t)di.dli_fbase + plume_elf_first_load_vaddr(e);
    const char *name;
    uint64_t off;
    assert_true(plume_elf_symbolize(e, vaddr, &name, &off));
    /* printf or an alias at the same address (_IO_printf): offset 0. */
    assert_int_equal(off, 0);
    assert_non_null(strstr(name, "printf"));
    assert_true(plume_elf_symbolize(e, vaddr + 2, &name, &off));
    assert_int_equal(off, 2);

    char want[256], got[2 * PLUME_ELF_BUILD_ID_MAX + 1] = "";
    const uint8_t *id;
    size_t n;
    if (plume_elf_build_id(e, &id, &n))
        hex(id, n, got);
    readelf_build_id(di.dli_fname, want, sizeof(want));
    assert_string_equal(got, want);
    plume_elf_close(e);
    dlclose(h);
}

/* ---- files that are not what they should be ---- */

static void write_file(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
}

static void bad_files(void **state)
{
    (void)state;
    char *dir = plume_test_mkdtemp();
    char path[4200], err[4400];

    snprintf(path, sizeof(path), "%s/missing", dir);
    assert_null(plume_elf_open(path, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "cannot open"));

    assert_null(plume_elf_open(dir, err, sizeof(err)));
    assert_non_null(strstr(err, "not a regular file"));

    snprintf(path, sizeof(path), "%s/empty", dir);
    write_file(path, "", 0);
    assert_null(plume_elf_open(path, err, sizeof(err)));
    assert_non_null(strstr(err, "too short for an ELF header (0 bytes)"));

    snprintf(path, sizeof(path), "%s/text", dir);
    static const char text[] = "#!/bin/sh\necho this is not an ELF file at all, but long enough\n";
    write_file(path, text, sizeof(text));
    assert_null(plume_elf_open(path, err, sizeof(err)));
    char want[4300];
    snprintf(want, sizeof(want), "%s: not an ELF file (bad magic)", path);
    assert_string_equal(err, want);

    /* Over 1 GiB (sparse, so cheap). */
    snprintf(path, sizeof(path), "%s/huge", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)PLUME_ELF_MAX_FILE_SIZE + 1), 0);
    close(fd);
    assert_null(plume_elf_open(path, err, sizeof(err)));
    assert_non_null(strstr(err, "file too large"));

    /* An image with neither .symtab nor .dynsym, on disk: it opens and says so. */
    static img_t im;
    build(&im, &(opts_t){.no_symtab = true, .no_dynsym = true});
    snprintf(path, sizeof(path), "%s/stripped", dir);
    write_file(path, im.b, im.len);
    plume_elf_t *e = plume_elf_open(path, err, sizeof(err));
    assert_non_null(e);
    snprintf(want, sizeof(want), "%s: no .symtab or .dynsym section (stripped)", path);
    assert_string_equal(plume_elf_symbols_error(e), want);
    plume_elf_close(e);

    plume_test_rm_rf(dir);
    free(dir);
}

/* strip(1) on a copy of this binary: .symtab gone, .dynsym used, our static
 * function no longer resolves to its name, the build id is unchanged. */
static void stripped_copy_of_self(void **state)
{
    (void)state;
    if (system("strip --version >/dev/null 2>&1") != 0)
        skip();
    char *dir = plume_test_mkdtemp();
    char out[4200], cmd[9000], err[4400];
    snprintf(out, sizeof(out), "%s/self-stripped", dir);
    snprintf(cmd, sizeof(cmd), "strip --strip-all -o '%s' '%s'", out, self_path());
    assert_int_equal(system(cmd), 0);
    plume_elf_t *e = plume_elf_open(out, err, sizeof(err));
    if (e == NULL)
        fail_msg("%s", err);
    plume_elf_t *full = plume_elf_open("/proc/self/exe", err, sizeof(err));
    assert_non_null(full);
    assert_string_equal(plume_elf_symbol_table(e), ".dynsym");
    /* An executable's .dynsym may define nothing: then that is the error. */
    if (plume_elf_symbol_count(e) == 0)
        assert_non_null(strstr(plume_elf_symbols_error(e), "(stripped)"));
    else
        assert_null(plume_elf_symbols_error(e));
    const uint8_t *a, *b;
    size_t na, nb;
    if (plume_elf_build_id(full, &a, &na)) {
        assert_true(plume_elf_build_id(e, &b, &nb));
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na);
    }
    find_obj_t f = {.addr = (uintptr_t)&elf_test_target_fn};
    dl_iterate_phdr(find_obj_cb, &f);
    uint64_t vaddr = f.addr - f.image_addr + plume_elf_first_load_vaddr(e);
    const char *name;
    uint64_t off;
    assert_true(plume_elf_symbolize(full, vaddr, &name, &off));
    if (plume_elf_symbolize(e, vaddr, &name, &off))
        assert_string_not_equal(name, "elf_test_target_fn");
    plume_elf_close(full);
    plume_elf_close(e);
    plume_test_rm_rf(dir);
    free(dir);
}

/* ---- truncation and corruption never crash ---- */

/* Opens data[0..len) from an exact-size copy and exercises every query. */
static bool poke(const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, data, len);
    char err[256];
    plume_elf_t *e = plume_elf_open_mem(copy, len, err, sizeof(err));
    if (e == NULL) {
        assert_true(strncmp(err, "<memory>: ", 10) == 0 && strlen(err) > 10);
        free(copy);
        return false;
    }
    const uint8_t *id;
    size_t n;
    if (plume_elf_build_id(e, &id, &n))
        assert_true(n >= 1 && n <= PLUME_ELF_BUILD_ID_MAX);
    const uint64_t probes[] = {0, 0x1000, 0x1040, 0x2000, 0x401000, UINT64_MAX};
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        const char *name;
        uint64_t off;
        if (plume_elf_symbolize(e, probes[i], &name, &off))
            assert_true(name[0] != '\0' && off <= probes[i]);
    }
    (void)plume_elf_first_load_vaddr(e);
    (void)plume_elf_symbols_error(e);
    plume_elf_close(e);
    free(copy);
    return true;
}

static void truncated_copies(void **state)
{
    (void)state;
    size_t len;
    uint8_t *self = (uint8_t *)plume_test_read_file("/proc/self/exe", &len);
    assert_non_null(self);
    for (size_t cut = 0; cut < len && cut < 4096; cut++)
        poke(self, cut);
    for (size_t i = 0; i < 300; i++)
        poke(self, (size_t)((double)len * i / 300.0));
    for (size_t cut = len > 2048 ? len - 2048 : 0; cut < len; cut += 7)
        assert_false(poke(self, cut)); /* the section headers are cut */
    assert_true(poke(self, len));

    static img_t im;
    build(&im, &(opts_t){.note_section = true});
    for (size_t cut = 0; cut <= im.len; cut++)
        poke(im.b, cut);
    free(self);

    /* Truncated copies on disk go through the pread path. */
    char *dir = plume_test_mkdtemp();
    char path[4200], err[4400];
    for (size_t cut = 0; cut < im.len; cut += im.len / 16) {
        snprintf(path, sizeof(path), "%s/cut", dir);
        write_file(path, im.b, cut);
        plume_elf_t *e = plume_elf_open(path, err, sizeof(err));
        if (e == NULL)
            assert_non_null(strstr(err, path));
        plume_elf_close(e);
    }
    plume_test_rm_rf(dir);
    free(dir);
}

/* Random byte changes in the headers and tables of the hand-built image and
 * of this binary's first pages (fixed seed: reproducible). */
static void corrupted_copies(void **state)
{
    (void)state;
    static img_t im;
    build(&im, &(opts_t){.note_section = true});
    uint64_t rng = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 4000; round++) {
        img_t m = im;
        int flips = 1 + round % 4;
        for (int k = 0; k < flips; k++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            size_t pos = (size_t)(rng % m.len);
            uint8_t v = (uint8_t)(rng >> 40);
            m.b[pos] = (round & 1) ? v : (uint8_t)(v & 1 ? 0xff : 0);
        }
        poke(m.b, m.len);
    }
    size_t len;
    uint8_t *self = (uint8_t *)plume_test_read_file("/proc/self/exe", &len);
    assert_non_null(self);
    Elf64_Ehdr eh;
    memcpy(&eh, self, sizeof(eh));
    for (int round = 0; round < 300; round++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        uint8_t saved[4];
        /* Hit the ELF header, program headers or section headers. */
        size_t region = rng % 3, pos;
        if (region == 0)
            pos = (rng >> 8) % 64;
        else if (region == 1)
            pos = eh.e_phoff + (rng >> 8) % ((size_t)eh.e_phnum * sizeof(Elf64_Phdr));
        else
            pos = eh.e_shoff + (rng >> 8) % ((size_t)eh.e_shnum * sizeof(Elf64_Shdr));
        if (pos + 4 > len)
            continue;
        memcpy(saved, self + pos, 4);
        uint32_t v = (uint32_t)(rng >> 32);
        memcpy(self + pos, &v, 4);
        poke(self, len);
        memcpy(self + pos, saved, 4);
    }
    free(self);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(symbol_rule),
        cmocka_unit_test(table_choice_and_variants),
        cmocka_unit_test(self_exe),
        cmocka_unit_test(libc_printf),
        cmocka_unit_test(bad_files),
        cmocka_unit_test(stripped_copy_of_self),
        cmocka_unit_test(truncated_copies),
        cmocka_unit_test(corrupted_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
