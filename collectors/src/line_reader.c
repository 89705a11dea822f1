/* SPDX-License-Identifier: MIT */
/* Bounded line splitting. See line_reader.h. */
#include "line_reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool plume_line_reader_init(plume_line_reader_t *r, size_t max_line, size_t chunk)
{
    memset(r, 0, sizeof(*r));
    r->max_line = max_line;
    /* Room for a longest line plus the '\r' of its CRLF (held until the '\n'
     * arrives) and at least one byte of new input. */
    r->chunk = chunk ? chunk : 1;
    r->cap = max_line + 1 + r->chunk;
    r->buf = malloc(r->cap);
    return r->buf != NULL;
}

void plume_line_reader_free(plume_line_reader_t *r)
{
    free(r->buf);
    r->buf = NULL;
}

static void emit(const char *p, size_t n, bool truncated, plume_line_cb cb, void *arg)
{
    if (!truncated && n > 0 && p[n - 1] == '\r')
        n--;
    cb(arg, p, n, truncated);
}

/* Length to keep of an over-long line: max_line, moved back to the start of a
 * UTF-8 character if the cut would split one (at most 3 bytes back). */
static size_t cut_length(const char *p, size_t max_line)
{
    size_t n = max_line;
    for (int back = 0; back < 3 && n > 0; back++) {
        unsigned char c = (unsigned char)p[n];
        if ((c & 0xc0) != 0x80)
            break; /* p[n] starts a character: cutting before it is clean */
        n--;
    }
    return ((unsigned char)p[n] & 0xc0) == 0x80 ? max_line : n;
}

/* Processes r->buf[0..len): emits complete lines, handles skipping and
 * truncation, and moves the incomplete tail to the front. */
static void process(plume_line_reader_t *r, plume_line_cb cb, void *arg)
{
    char *p = r->buf;
    char *end = r->buf + r->len;
    if (r->skipping) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            r->skipped_bytes += (size_t)(end - p);
            r->len = 0;
            return;
        }
        r->skipped_bytes += (size_t)(nl - p);
        r->skipping = false;
        p = nl + 1;
    }
    for (;;) {
        /* A whole line is at most max_line bytes, plus one '\r' when it ends
         * in CRLF: so its '\n' is within the first max_line + 2 bytes. */
        size_t avail = (size_t)(end - p);
        size_t look = r->max_line + 2;
        char *nl = memchr(p, '\n', avail < look ? avail : look);
        if (nl && ((size_t)(nl - p) <= r->max_line || nl[-1] == '\r')) {
            emit(p, (size_t)(nl - p), false, cb, arg);
            p = nl + 1;
            continue;
        }
        if (avail > r->max_line + 1 || (avail == r->max_line + 1 && p[r->max_line] != '\r')) {
            /* No newline within max_line bytes: cut, then skip to the newline. */
            size_t keep = cut_length(p, r->max_line);
            emit(p, keep, true, cb, arg);
            char *rest = p + keep;
            char *nl2 = memchr(rest, '\n', (size_t)(end - rest));
            if (nl2) {
                r->skipped_bytes += (size_t)(nl2 - rest);
                p = nl2 + 1;
                continue;
            }
            r->skipped_bytes += (size_t)(end - rest);
            r->skipping = true;
            r->len = 0;
            return;
        }
        break;
    }
    size_t tail = (size_t)(end - p);
    if (p != r->buf && tail)
        memmove(r->buf, p, tail);
    r->len = tail;
}

ssize_t plume_line_reader_read(plume_line_reader_t *r, int fd, plume_line_cb cb, void *arg)
{
    ssize_t n;
    do {
        /* At most one chunk per call, so that a caller on an event loop gets
         * control back often even when the input is a fast file. */
        size_t room = r->cap - r->len;
        n = read(fd, r->buf + r->len, room < r->chunk ? room : r->chunk);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        return 0;
    r->len += (size_t)n;
    process(r, cb, arg);
    return n;
}

void plume_line_reader_feed(plume_line_reader_t *r, const char *data, size_t n, plume_line_cb cb,
                            void *arg)
{
    while (n > 0) {
        size_t room = r->cap - r->len;
        size_t take = n < room ? n : room;
        memcpy(r->buf + r->len, data, take);
        r->len += take;
        data += take;
        n -= take;
        process(r, cb, arg);
    }
}

void plume_line_reader_finish(plume_line_reader_t *r, plume_line_cb cb, void *arg)
{
    if (!r->skipping && r->len > 0)
        emit(r->buf, r->len, false, cb, arg);
    r->len = 0;
    r->skipping = false;
}
