/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the ELF reader: opens the input as an ELF image in
 * memory, reads its build id and symbolizes addresses (fixed ones, and 64-bit
 * values taken from the input itself, which is where st_value fields live), and
 * walks the input as a note block with both alignments. Any crash, over-read
 * or broken invariant (a name that is empty, an offset past the address) is a
 * bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elf_note.h"
#include "elf_symbols.h"

/* Looks up one address and checks what comes back. */
static void probe(const plume_elf_t *e, uint64_t vaddr)
{
    const char *name;
    uint64_t off;
    if (plume_elf_symbolize(e, vaddr, &name, &off)) {
        if (name[0] == '\0' || off > vaddr)
            abort();
        (void)strlen(name);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *id;
    size_t id_len;
    for (size_t align = 4; align <= 8; align += 4)
        if (plume_elf_note_build_id(data, size, align, &id, &id_len) &&
            (id < data || id_len == 0 || id_len > PLUME_ELF_BUILD_ID_MAX ||
             (size_t)(id - data) > size - id_len))
            abort();

    char err[256];
    plume_elf_t *e = plume_elf_open_mem(data, size, err, sizeof(err));
    if (e == NULL) {
        if (strncmp(err, "<memory>: ", 10) != 0)
            abort();
        return 0;
    }
    if (plume_elf_build_id(e, &id, &id_len) && (id_len == 0 || id_len > PLUME_ELF_BUILD_ID_MAX))
        abort();
    (void)plume_elf_symbol_table(e);
    (void)plume_elf_symbols_error(e);
    (void)plume_elf_symbol_count(e);
    uint64_t base = plume_elf_first_load_vaddr(e);
    const uint64_t fixed[] = {0, 1, 0x1000, 0x1040, 0x2000, 0x401000, UINT64_MAX};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        probe(e, fixed[i]);
    probe(e, base);
    probe(e, base + 0x1000);
    /* Up to 32 values read from the input, each also probed one byte on. */
    size_t step = size / 32 > 8 ? size / 32 : 8;
    for (size_t pos = 0; pos + 8 <= size; pos += step) {
        uint64_t v;
        memcpy(&v, data + pos, 8);
        probe(e, v);
        probe(e, v + 1);
    }
    plume_elf_close(e);
    return 0;
}
