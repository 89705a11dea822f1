/* SPDX-License-Identifier: MIT */
/* Finding the GNU build id in a block of ELF notes.
 *
 * A note block is what a SHT_NOTE section or a PT_NOTE segment holds: notes one
 * after another, each a 12-byte header (namesz, descsz, type: 32-bit words in
 * the file's byte order, little-endian here) followed by the name and the
 * descriptor, each padded to the block's alignment (4, or 8 for segments whose
 * p_align is 8, such as .note.gnu.property). The build id is the note of type
 * NT_GNU_BUILD_ID (3) named "GNU\0"; its descriptor is the id (usually 20
 * bytes). The walker is pure and async-signal-safe (no libc calls, no writes),
 * so the crash path may run it on live memory, and it never reads outside
 * [notes, notes + len) whatever the sizes in the headers say. */
#ifndef PLUME_ELF_NOTE_H
#define PLUME_ELF_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* NT_GNU_BUILD_ID, the note type of a GNU build id. */
#define PLUME_ELF_NT_GNU_BUILD_ID 3u
/* Longest build id accepted: 64 bytes (real ones are 16 or 20; ld's
 * --build-id=0xHEX can make others). Longer descriptors are skipped, so a
 * caller may keep ids in fixed buffers of this size. */
#define PLUME_ELF_BUILD_ID_MAX 64u

/* Walks the notes in notes[0..len) laid out with alignment `align` (4 or 8;
 * anything else returns false) and finds the first NT_GNU_BUILD_ID note named
 * "GNU\0" whose descriptor is 1..PLUME_ELF_BUILD_ID_MAX bytes and lies wholly
 * inside the block. On success sets *id to point INTO the block (borrowed: valid
 * as long as `notes` is) and *id_len to its length, and returns true. Returns
 * false, leaving *id and *id_len unchanged, when there is no such note or the
 * walk meets a header whose sizes run past the end (the walk stops there). The
 * block needs no particular alignment in memory. Async-signal-safe. */
bool plume_elf_note_build_id(const void *notes, size_t len, size_t align, const uint8_t **id,
                             size_t *id_len);

#endif
