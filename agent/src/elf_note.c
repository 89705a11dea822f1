/* SPDX-License-Identifier: MIT */
/* The ELF note walker behind plume_elf_note_build_id() (see elf_note.h).
 *
 * Written for hostile input and for signal handlers: every size from a header
 * is compared against what is left of the block before it is added to an
 * offset (so nothing wraps, even with a 32-bit size_t and 0xffffffff sizes),
 * words are read byte by byte (the block may be unaligned), and no library
 * function is called. */
#include "elf_note.h"

#define NOTE_HDR_SIZE 12u

/* Reads a little-endian 32-bit word at p (any alignment). */
static uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Rounds `off` up to a multiple of `align` (a power of two) without passing
 * `limit`: returns false when the rounded value would exceed it. */
static bool align_up_within(size_t off, size_t align, size_t limit, size_t *out)
{
    size_t pad = (align - (off & (align - 1))) & (align - 1);
    if (off > limit || pad > limit - off)
        return false;
    *out = off + pad;
    return true;
}

bool plume_elf_note_build_id(const void *notes, size_t len, size_t align, const uint8_t **id,
                             size_t *id_len)
{
    if (notes == NULL || (align != 4 && align != 8))
        return false;
    const uint8_t *p = (const uint8_t *)notes;
    size_t pos = 0;
    while (len - pos >= NOTE_HDR_SIZE) {
        uint32_t namesz = rd32le(p + pos);
        uint32_t descsz = rd32le(p + pos + 4);
        uint32_t type = rd32le(p + pos + 8);
        size_t name_off = pos + NOTE_HDR_SIZE;
        if (namesz > len - name_off)
            return false; /* name runs past the block */
        size_t desc_off;
        /* The descriptor starts at the name's end rounded up to the alignment;
         * a descriptor of 0 bytes may end exactly at len. */
        if (!align_up_within(name_off + namesz, align, len, &desc_off))
            return false;
        if (descsz > len - desc_off)
            return false; /* descriptor runs past the block */
        size_t desc_end = desc_off + descsz;
        if (type == PLUME_ELF_NT_GNU_BUILD_ID && namesz == 4 && p[name_off] == 'G' &&
            p[name_off + 1] == 'N' && p[name_off + 2] == 'U' && p[name_off + 3] == '\0' &&
            descsz >= 1 && descsz <= PLUME_ELF_BUILD_ID_MAX) {
            *id = p + desc_off;
            *id_len = descsz;
            return true;
        }
        /* Next note: after the descriptor's padding. A last note may lack its
         * trailing padding; then there is nothing more to read. */
        size_t next;
        if (!align_up_within(desc_end, align, len, &next))
            return false;
        pos = next;
    }
    return false;
}
