/* SPDX-License-Identifier: MIT */
/* The outbox: sealed batches on disk, so that delivery is at-least-once.
 *
 * A batch (a request body, already compressed) is written to
 * <data_dir>/outbox/<sink>/ before it is sent and removed only once the receiver
 * acknowledged it. After a restart the pending batches are handed out again,
 * oldest first. A torn or corrupt file is detected by its checksums at load and
 * moved to <data_dir>/corrupt/<sink>/, never sent half; a batch the receiver
 * refused for good is moved to <data_dir>/failed/<sink>/ with a .reason file.
 * The total size of pending files is bounded by max_bytes: when a new batch would
 * not fit, the oldest batches that are not in flight are dropped and counted.
 *
 * Typical use by a sender:
 *     plume_outbox_put(...)                      sealed batch is safe on disk
 *     while (plume_outbox_next(ob, &id)) {       oldest pending, now in flight
 *         plume_outbox_load(ob, id, &meta, &body, ...)
 *         send; on 2xx plume_outbox_remove(), on retry later plume_outbox_release(),
 *         on a permanent refusal plume_outbox_fail()
 *     }
 *
 * All functions are thread-safe (one internal mutex; file writes and reads of
 * batch bodies happen outside it). One outbox directory belongs to one process at
 * a time: open takes an exclusive lock (flock on <dir>/.lock). The file format is
 * documented at the top of outbox_file.c. */
#ifndef PLUME_OUTBOX_H
#define PLUME_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Largest body a batch may have (put refuses more with -EFBIG; a file that
 * claims more is corrupt). Sentry allows 200 MiB per envelope. */
#define PLUME_OUTBOX_MAX_BODY (256u * 1024u * 1024u)
/* Bound on the response body kept in a failed batch's .reason file. */
#define PLUME_OUTBOX_MAX_RESPONSE (64u * 1024u)
/* Longest sink name; sink names are [A-Za-z0-9._-]+ and not "." or "..". */
#define PLUME_OUTBOX_MAX_SINK 64

typedef struct plume_outbox plume_outbox_t;

typedef struct plume_batch_meta {
    uint64_t created_ns;  /* when the batch was sealed */
    uint32_t event_count;
    uint8_t codec;        /* plume_codec_t value (0 none, 1 gzip, 2 zstd) */
    uint8_t kind;         /* sink-defined (e.g. Sentry item kind), 0 for Axiom */
} plume_batch_meta_t;

/* Monotonically increasing; order = age. Ids continue after the highest pending
 * id found at open and never go below the wall clock in ns at open, so they keep
 * increasing across restarts even when the outbox was empty. */
typedef uint64_t plume_outbox_id_t;

/* Opens <data_dir>/outbox/<sink>/, creating missing directories (mode 0700), takes
 * its lock and scans it: pending batches are indexed oldest first, leftover temp
 * files of an interrupted put are removed, anything else that is not ours is left
 * alone and counted (plume_outbox_ignored_count). max_bytes bounds the total size
 * of pending files (0 = unlimited). fsync_writes makes put fsync the file and the
 * directory before it returns. Returns NULL and a message naming the path and the
 * errno text in errbuf on failure. The caller closes the result. */
plume_outbox_t *plume_outbox_open(const char *data_dir, const char *sink,
                                  uint64_t max_bytes, bool fsync_writes,
                                  char *errbuf, size_t errlen);
/* Releases memory, fds and the lock. Files stay on disk. NULL is a no-op. */
void plume_outbox_close(plume_outbox_t *ob);

/* Writes a batch (temp file, fsync if enabled, rename), so nobody ever sees a
 * partial file under the final name. The body is borrowed. If the new file would
 * push the total past max_bytes, the oldest batches not in flight are deleted
 * first; their number and events are reported in *dropped_batches and
 * *dropped_events (both optional, set to 0 first, set even on failure).
 * Returns 0 and the new id in *id (optional), or -errno: -EINVAL bad arguments,
 * -EFBIG the batch alone is larger than max_bytes or PLUME_OUTBOX_MAX_BODY,
 * -ENOBUFS it would fit only by dropping batches in flight (nothing dropped),
 * or the disk's error (-ENOSPC, -EACCES, -EIO...). */
int plume_outbox_put(plume_outbox_t *ob, const plume_batch_meta_t *meta,
                     const void *body, size_t len, plume_outbox_id_t *id,
                     uint32_t *dropped_batches, uint64_t *dropped_events);

/* The oldest pending batch not in flight; marks it in flight. False if none. */
bool plume_outbox_next(plume_outbox_t *ob, plume_outbox_id_t *id);

/* Reads batch `id` back into *meta (optional) and `body` (reset, then filled),
 * verifying magic, version, lengths and the CRC32s of header and body.
 * Returns 0; -ENOENT if the batch is not pending (or its file vanished: it is then
 * forgotten); -EBADMSG if the file is corrupt, truncated or empty: it has been
 * moved to <data_dir>/corrupt/<sink>/ and forgotten; -EMSGSIZE if the body does
 * not fit body->max (the batch stays pending); -ENOMEM; or another -errno from
 * reading. errbuf (optional) receives the reason, naming the file. */
int plume_outbox_load(plume_outbox_t *ob, plume_outbox_id_t id, plume_batch_meta_t *meta,
                      plume_buf_t *body, char *errbuf, size_t errlen);

/* Delivered: deletes the file and forgets the batch. Returns 0, -ENOENT if not
 * pending, or -errno if the file could not be deleted (the batch is forgotten
 * anyway so it is not sent again in this run; it would be resent after a
 * restart, which at-least-once allows). */
int plume_outbox_remove(plume_outbox_t *ob, plume_outbox_id_t id);

/* Not delivered, try later: clears the in-flight mark; the batch keeps its place
 * in age order. Unknown ids are ignored. */
void plume_outbox_release(plume_outbox_t *ob, plume_outbox_id_t id);

/* Dead-letter: moves the batch to <data_dir>/failed/<sink>/<name> and writes
 * <name>.reason beside it: the reason line, then the response body (borrowed,
 * bounded to PLUME_OUTBOX_MAX_RESPONSE bytes). If the name is taken there, a
 * suffix ".1", ".2"... is added. Returns 0 (the batch is forgotten; an error
 * writing the .reason file is returned but the batch has moved all the same),
 * -ENOENT if not pending or its file vanished (forgotten), or -errno when it
 * could not be moved: it then stays pending, as it was, and the caller decides
 * (plume_outbox_remove() to delete it, or release). */
int plume_outbox_fail(plume_outbox_t *ob, plume_outbox_id_t id, const char *reason,
                      const void *response, size_t response_len);

/* Counters. Pending includes batches in flight. */
size_t plume_outbox_pending_count(const plume_outbox_t *ob);
uint64_t plume_outbox_pending_bytes(const plume_outbox_t *ob);
uint64_t plume_outbox_pending_events(const plume_outbox_t *ob);
/* Entries found at open in the outbox directory that are not ours. */
size_t plume_outbox_ignored_count(const plume_outbox_t *ob);
/* The outbox directory path (valid until close). */
const char *plume_outbox_dir(const plume_outbox_t *ob);

/* Flushes everything written to the outbox's file system so far to stable
 * storage (syncfs): the group commit for outboxes opened without
 * fsync_writes. Any thread. Returns 0 or -errno. */
int plume_outbox_sync(plume_outbox_t *ob);
/* How many plume_outbox_sync() calls succeeded. */
uint64_t plume_outbox_sync_count(const plume_outbox_t *ob);

#endif
