/* SPDX-License-Identifier: MIT */
/* ELF note walking: plume_elf_note_build_id() on hand-built note blocks,
 * including hostile sizes, truncation at every byte and both alignments. */
#include "test_support.h"
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "elf_note.h"

/* A note block under construction (fixed capacity; tests stay small). */
typedef struct blob {
    uint8_t b[512];
    size_t len;
} blob_t;

static void put32(blob_t *bl, uint32_t v)
{
    assert_true(bl->len + 4 <= sizeof(bl->b));
    for (int i = 0; i < 4; i++)
        bl->b[bl->len++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes_padded(blob_t *bl, const void *p, size_t n, size_t align)
{
    assert_true(bl->len + n + align <= sizeof(bl->b));
    memcpy(bl->b + bl->len, p, n);
    bl->len += n;
    while (bl->len % align)
        bl->b[bl->len++] = 0;
}

/* Appends one note: header, name (namesz bytes incl. its NUL) and desc, each
 * padded to `align`, the layout of a SHT_NOTE section / PT_NOTE segment. */
static void add_note(blob_t *bl, size_t align, uint32_t type, const char *name, size_t namesz,
                     const void *desc, size_t descsz)
{
    put32(bl, (uint32_t)namesz);
    put32(bl, (uint32_t)descsz);
    put32(bl, type);
    if (align == 8)
        put_bytes_padded(bl, name, namesz, 8); /* 12 + namesz rounded up to 8 */
    else
        put_bytes_padded(bl, name, namesz, 4);
    put_bytes_padded(bl, desc, descsz, align);
}

static const uint8_t ID20[20] = {0xe1, 0x67, 0xc8, 0xd8, 0x6d, 0x04, 0x68, 0xac, 0x7b, 0xe7,
                                 0x66, 0x55, 0xe7, 0xcb, 0xe8, 0xc0, 0xaa, 0x9f, 0xf0, 0xd4};

static void build_id_after_other_notes(void **state)
{
    (void)state;
    blob_t bl = {.len = 0};
    uint8_t abi[16] = {0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0};
    add_note(&bl, 4, 1 /* NT_GNU_ABI_TAG */, "GNU", 4, abi, 16);
    add_note(&bl, 4, 3, "Go", 3, "xx", 2); /* right type, other owner */
    add_note(&bl, 4, 3, "GNU", 4, ID20, sizeof(ID20));
    const uint8_t *id = NULL;
    size_t n = 0;
    assert_true(plume_elf_note_build_id(bl.b, bl.len, 4, &id, &n));
    assert_int_equal(n, 20);
    assert_memory_equal(id, ID20, 20);
    /* The id points into the block, not into a copy. */
    assert_true(id > bl.b && id + n <= bl.b + bl.len);
}

static void wrong_name_or_type_not_found(void **state)
{
    (void)state;
    blob_t bl = {.len = 0};
    add_note(&bl, 4, 3, "GNX", 4, ID20, 20);  /* wrong name */
    add_note(&bl, 4, 3, "GNU", 3, ID20, 20);  /* "GNU" without its NUL */
    add_note(&bl, 4, 3, "GNUU", 5, ID20, 20); /* longer name */
    add_note(&bl, 4, 4, "GNU", 4, ID20, 20);  /* wrong type */
    add_note(&bl, 4, 3, "GNU", 4, ID20, 0);   /* empty descriptor */
    const uint8_t *id = (const uint8_t *)"unchanged";
    size_t n = 77;
    assert_false(plume_elf_note_build_id(bl.b, bl.len, 4, &id, &n));
    assert_string_equal((const char *)id, "unchanged");
    assert_int_equal(n, 77);
}

static void empty_and_bad_arguments(void **state)
{
    (void)state;
    const uint8_t *id = NULL;
    size_t n = 0;
    uint8_t z[16] = {0};
    assert_false(plume_elf_note_build_id(z, 0, 4, &id, &n));
    assert_false(plume_elf_note_build_id(NULL, 16, 4, &id, &n));
    /* Twelve zero bytes: one empty note, nothing else. */
    assert_false(plume_elf_note_build_id(z, 12, 4, &id, &n));
    assert_false(plume_elf_note_build_id(z, sizeof(z), 4, &id, &n));
    /* Only 4 and 8 are valid alignments. */
    blob_t bl = {.len = 0};
    add_note(&bl, 4, 3, "GNU", 4, ID20, 20);
    assert_true(plume_elf_note_build_id(bl.b, bl.len, 4, &id, &n));
    assert_false(plume_elf_note_build_id(bl.b, bl.len, 0, &id, &n));
    assert_false(plume_elf_note_build_id(bl.b, bl.len, 2, &id, &n));
    assert_false(plume_elf_note_build_id(bl.b, bl.len, 16, &id, &n));
    assert_false(plume_elf_note_build_id(bl.b, bl.len, 5, &id, &n));
}

/* Every cut of a valid block short of the whole id fails; cuts that keep the
 * whole descriptor (only trailing padding lost) still find it. Each cut is
 * copied to an exact-size heap block so ASan sees any over-read. */
static void truncated_at_every_byte(void **state)
{
    (void)state;
    blob_t bl = {.len = 0};
    add_note(&bl, 4, 1, "GNU", 4, "abcdefghijklmnop", 16);
    size_t id_start = bl.len + 12 + 4;
    add_note(&bl, 4, 3, "GNU", 4, ID20, 19); /* 19: the last note has padding */
    for (size_t cut = 0; cut <= bl.len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        assert_non_null(copy);
        memcpy(copy, bl.b, cut);
        const uint8_t *id = NULL;
        size_t n = 0;
        bool ok = plume_elf_note_build_id(copy, cut, 4, &id, &n);
        if (cut >= id_start + 19) {
            assert_true(ok);
            assert_int_equal(n, 19);
            assert_memory_equal(id, ID20, 19);
        } else {
            assert_false(ok);
        }
        free(copy);
    }
}

static void hostile_sizes(void **state)
{
    (void)state;
    const uint32_t huge[] = {0xffffffffu, 0xfffffffdu, 0x80000000u, 0x7fffffffu, 4096, 21};
    for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        /* Huge namesz: walk must stop, not wrap around. */
        blob_t bl = {.len = 0};
        put32(&bl, huge[i]);
        put32(&bl, 20);
        put32(&bl, 3);
        put_bytes_padded(&bl, "GNU", 4, 4);
        put_bytes_padded(&bl, ID20, 20, 4);
        const uint8_t *id = NULL;
        size_t n = 0;
        assert_false(plume_elf_note_build_id(bl.b, bl.len, 4, &id, &n));
        assert_false(plume_elf_note_build_id(bl.b, bl.len, 8, &id, &n));
        /* Huge descsz on an earlier note hides the id behind it. */
        blob_t b2 = {.len = 0};
        put32(&b2, 4);
        put32(&b2, huge[i]);
        put32(&b2, 1);
        put_bytes_padded(&b2, "GNU", 4, 4);
        add_note(&b2, 4, 3, "GNU", 4, ID20, 20);
        assert_false(plume_elf_note_build_id(b2.b, b2.len, 4, &id, &n));
        /* Huge descsz on the build-id note itself. */
        blob_t b3 = {.len = 0};
        put32(&b3, 4);
        put32(&b3, huge[i]);
        put32(&b3, 3);
        put_bytes_padded(&b3, "GNU", 4, 4);
        put_bytes_padded(&b3, ID20, 20, 4);
        assert_false(plume_elf_note_build_id(b3.b, b3.len, 4, &id, &n));
    }
    /* A descriptor longer than PLUME_ELF_BUILD_ID_MAX is skipped, and the walk
     * goes on to a proper id after it. */
    uint8_t big[PLUME_ELF_BUILD_ID_MAX + 4];
    memset(big, 0xab, sizeof(big));
    blob_t bl = {.len = 0};
    add_note(&bl, 4, 3, "GNU", 4, big, sizeof(big));
    const uint8_t *id = NULL;
    size_t n = 0;
    assert_false(plume_elf_note_build_id(bl.b, bl.len, 4, &id, &n));
    add_note(&bl, 4, 3, "GNU", 4, ID20, 16);
    assert_true(plume_elf_note_build_id(bl.b, bl.len, 4, &id, &n));
    assert_int_equal(n, 16);
    assert_memory_equal(id, ID20, 16);
}

/* 8-byte aligned blocks (PT_NOTE with p_align 8, e.g. .note.gnu.property
 * merged with the build id): with a 5-byte name the descriptor starts at 24
 * under align 8 but at 20 under align 4, so reading with the wrong alignment
 * must not produce the right id. */
static void align_eight(void **state)
{
    (void)state;
    blob_t bl = {.len = 0};
    uint8_t prop[16] = {2, 0, 0, 0xc0, 4, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0};
    add_note(&bl, 8, 5 /* NT_GNU_PROPERTY_TYPE_0 */, "GNU", 4, prop, sizeof(prop));
    add_note(&bl, 8, 7, "LINUX", 6, "abc", 3); /* desc at 12+6 -> 24 */
    add_note(&bl, 8, 3, "GNU", 4, ID20, 20);
    assert_int_equal(bl.len % 8, 0);
    const uint8_t *id = NULL;
    size_t n = 0;
    assert_true(plume_elf_note_build_id(bl.b, bl.len, 8, &id, &n));
    assert_int_equal(n, 20);
    assert_memory_equal(id, ID20, 20);
    assert_int_equal((size_t)(id - bl.b) % 8, 0);
    /* Same block walked with align 4 goes astray: no correct id. */
    const uint8_t *id4 = NULL;
    size_t n4 = 0;
    if (plume_elf_note_build_id(bl.b, bl.len, 4, &id4, &n4))
        assert_false(n4 == 20 && memcmp(id4, ID20, 20) == 0);

    /* A 4-aligned block where align 8 would skip the id's first bytes. */
    blob_t b4 = {.len = 0};
    add_note(&b4, 4, 3, "GNU", 4, ID20, 20);
    assert_true(plume_elf_note_build_id(b4.b, b4.len, 4, &id, &n));
    assert_memory_equal(id, ID20, 20);
    /* namesz 4 gives desc at 16 either way: both alignments agree here. */
    assert_true(plume_elf_note_build_id(b4.b, b4.len, 8, &id, &n));
    assert_memory_equal(id, ID20, 20);
}

/* The block need not be aligned in memory. */
static void unaligned_block(void **state)
{
    (void)state;
    blob_t bl = {.len = 0};
    add_note(&bl, 4, 3, "GNU", 4, ID20, 20);
    uint8_t raw[sizeof(bl.b) + 3];
    memcpy(raw + 3, bl.b, bl.len);
    const uint8_t *id = NULL;
    size_t n = 0;
    assert_true(plume_elf_note_build_id(raw + 3, bl.len, 4, &id, &n));
    assert_ptr_equal(id, raw + 3 + 16);
    assert_memory_equal(id, ID20, 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(build_id_after_other_notes),
        cmocka_unit_test(wrong_name_or_type_not_found),
        cmocka_unit_test(empty_and_bad_arguments),
        cmocka_unit_test(truncated_at_every_byte),
        cmocka_unit_test(hostile_sizes),
        cmocka_unit_test(align_eight),
        cmocka_unit_test(unaligned_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
