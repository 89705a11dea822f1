/* SPDX-License-Identifier: MIT */
/* Private to the outbox: the on-disk side of a batch. Names of batch and temp
 * files, the binary batch file format (header, CRC32s), writing a batch file
 * (temp file, optional fsync, rename), reading one back and verifying it, moving
 * a file aside into <data_dir>/corrupt/<sink>/ or <data_dir>/failed/<sink>/, and
 * the .reason file of a dead-lettered batch. The format itself is documented at
 * the top of outbox_file.c. These functions keep no state of their own and take
 * no lock: the index and its locking stay in outbox.c. */
#ifndef PLUME_OUTBOX_FILE_H
#define PLUME_OUTBOX_FILE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "outbox.h"

/* Writes a message into errbuf (either may be absent). Shared by outbox.c and
 * outbox_file.c. */
static inline void plume_outbox_set_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void plume_outbox_set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (!errbuf || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

/* Thread-safe strerror (GNU strerror_r returns the text). */
static inline const char *plume_outbox_errtext(int e, char *buf, size_t n)
{
    return strerror_r(e, buf, n);
}

/* Size of a batch file's header; a file is this plus its body. */
#define PLUME_OUTBOX_FILE_HDR_LEN 40
/* Room for any name we make: batch names and their ".N" / ".reason" variants. */
#define PLUME_OUTBOX_FILE_NAME_MAX 64

/* Where one outbox's files are. The outbox owns the strings and the fd (it frees
 * and closes them at close); the functions below only borrow them. */
typedef struct plume_outbox_file_loc {
    char *dir;         /* <data_dir>/outbox/<sink>, used in messages */
    char *data_dir;
    char *sink;
    int dirfd;         /* open on dir */
    bool fsync_writes; /* fsync written files and the directory */
} plume_outbox_file_loc_t;

/* "%020llu.batch": the final name of batch `id`; names sort by age. */
void plume_outbox_file_name(char out[PLUME_OUTBOX_FILE_NAME_MAX], uint64_t id);
/* Parses exactly 20 digits + ".batch" into *id; false for anything else,
 * including values past UINT64_MAX. */
bool plume_outbox_file_parse_name(const char *s, uint64_t *id);
/* True if `name` is a temp file name of an interrupted put (".tmp-..."). */
bool plume_outbox_file_is_temp(const char *name);

/* Opens (creating missing components, mode 0700) <data_dir>/<top>/<sink> as a
 * directory fd, which the caller closes. `path_out` (optional) receives a
 * malloc'd copy of the path, which the caller frees. Returns the fd, or -errno
 * with a message naming the path in errbuf. */
int plume_outbox_file_open_tree(const char *data_dir, const char *top, const char *sink,
                                char **path_out, char *errbuf, size_t errlen);

/* The event count in the header of batch file `name` in dirfd, for the index at
 * open. 0 when it cannot be read or is corrupt: a load will find out. */
uint32_t plume_outbox_file_read_events(int dirfd, const char *name);

/* Encodes the header for `meta` and the borrowed body (CRC32s included) and
 * writes header + body to the temp file of `id`, fsynced if loc asks. A stale
 * temp file of the same id is replaced. 0 or -errno; on failure no temp file is
 * left. Needs no lock: the temp name is unique to the id. */
int plume_outbox_file_write_temp(const plume_outbox_file_loc_t *loc, uint64_t id,
                                 const plume_batch_meta_t *meta, const void *body,
                                 size_t len);
/* Renames the temp file of `id` to its final name and, if loc asks, fsyncs the
 * directory. 0, or -errno with neither file left (a batch that is not durable
 * is not kept). */
int plume_outbox_file_commit(const plume_outbox_file_loc_t *loc, uint64_t id);
/* Removes the temp file of `id` (a put that will not be committed). */
void plume_outbox_file_discard_temp(const plume_outbox_file_loc_t *loc, uint64_t id);
/* Deletes the batch file of `id`. 0 or -errno (-ENOENT if it was not there). */
int plume_outbox_file_remove(const plume_outbox_file_loc_t *loc, uint64_t id);

/* Reads batch file `id` back and verifies magic, version, lengths and both
 * CRC32s. `body` is filled (the caller has reset it); *meta (optional) is set
 * only on success. Returns 0; -EBADMSG if the file is corrupt, truncated, empty
 * or not a regular file: `why` receives the short reason, body is reset and the
 * caller moves the file aside; otherwise -errno with a message naming the file
 * in errbuf (optional): -ENOENT only when the file does not exist, -EMSGSIZE
 * when the body does not fit body->max, -ENOMEM, or a read error. */
int plume_outbox_file_read(const plume_outbox_file_loc_t *loc, uint64_t id,
                           plume_batch_meta_t *meta, plume_buf_t *body, char *why,
                           size_t whylen, char *errbuf, size_t errlen);

/* Moves <loc->dir>/<name> into <data_dir>/<top>/<sink>/ without replacing
 * anything there: if the name is taken, ".1", ".2"... is appended (up to 999).
 * The directory is opened on first use and its fd kept in *cache_fd (-1 until
 * then; the caller closes it), so the caller must serialise calls sharing a
 * cache_fd. The final name goes to `final`. 0 or -errno (-ENOENT if the file is
 * gone); `why` receives a message on failure. */
int plume_outbox_file_move_aside(const plume_outbox_file_loc_t *loc, int *cache_fd,
                                 const char *top, const char *name,
                                 char final[PLUME_OUTBOX_FILE_NAME_MAX], char *why,
                                 size_t whylen);

/* Writes <final>.reason in directory dfd: the reason line (bounded; a
 * placeholder if empty), then the borrowed response body bounded to
 * PLUME_OUTBOX_MAX_RESPONSE bytes with a note when it was cut. Fsynced if loc
 * asks. 0 or -errno. */
int plume_outbox_file_write_reason(const plume_outbox_file_loc_t *loc, int dfd,
                                   const char *final, const char *reason,
                                   const void *response, size_t response_len);

#endif
