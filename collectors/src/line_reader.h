/* SPDX-License-Identifier: MIT */
/* Splits a byte stream into lines of bounded size.
 *
 * Lines end at '\n'; one trailing '\r' is removed. A line longer than max_line
 * bytes is cut: its first max_line bytes (backed off to a UTF-8 character
 * boundary when the cut falls inside one) are delivered with truncated=true and
 * the rest, up to its '\n', is skipped as it arrives, so memory stays bounded
 * and a huge line never stalls the reader. NUL bytes are ordinary bytes.
 * Lines are delivered in place (no copy): `line` is valid only during the
 * callback. */
#ifndef PLUME_LINE_READER_H
#define PLUME_LINE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef void (*plume_line_cb)(void *arg, const char *line, size_t n, bool truncated);

typedef struct plume_line_reader {
    char *buf;
    size_t len;       /* bytes held: the start of an incomplete line */
    size_t cap;       /* max_line + 1 + chunk */
    size_t max_line;
    size_t chunk;     /* bytes asked for by one read */
    bool skipping;    /* inside the discarded tail of a truncated line */
    unsigned long long skipped_bytes;
} plume_line_reader_t;

/* chunk: how much one read asks for. Returns false on allocation failure. */
bool plume_line_reader_init(plume_line_reader_t *r, size_t max_line, size_t chunk);
void plume_line_reader_free(plume_line_reader_t *r);
/* One read(2) from fd, then every complete line goes to cb. Returns bytes read,
 * 0 at end of file, or -errno (-EAGAIN when a non-blocking fd has nothing). */
ssize_t plume_line_reader_read(plume_line_reader_t *r, int fd, plume_line_cb cb, void *arg);
/* Same, for bytes already in memory (tests, other sources). */
void plume_line_reader_feed(plume_line_reader_t *r, const char *data, size_t n, plume_line_cb cb,
                            void *arg);
/* End of input: delivers a final line that had no '\n'. */
void plume_line_reader_finish(plume_line_reader_t *r, plume_line_cb cb, void *arg);

#endif
