/* SPDX-License-Identifier: MIT */
/* The outbox: sealed batches kept on disk until acknowledged. See outbox.h.
 * This file is the index and queue: opening and scanning the directory, the
 * lock, ids, in-flight marks, the max_bytes accounting with drop-oldest, and the
 * public functions. What a batch file looks like, and writing, reading and
 * moving one, is in outbox_file.c (the file format is documented there).
 *
 * Layout: <data_dir>/outbox/<sink>/ holds one file per pending batch, named
 * after its id so that names sort by age, plus ".lock" (flock, one owner
 * process) and, only during a put, a temp file; see outbox_file.c.
 *
 * Index: a sorted array of entries (id ascending) with tombstones, compacted when
 * half of it is tombstones. Lookup by id is a binary search; new batches are
 * appended (their ids are the largest); `scan_from` remembers where the oldest
 * batch that is neither gone nor in flight may be, so next() does not rescan the
 * in-flight prefix every time.
 *
 * Locking: ob->mu guards the index, the counters, next_id and the cached
 * corrupt/failed directory fds. Batch bodies are written (temp file) and read
 * outside it; renames, deletions and moves of batch files happen under it, so
 * the index and the directory agree. */
#include "outbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "outbox_file.h"

#define LOCK_NAME ".lock"
#define NAME_MAX_LEN PLUME_OUTBOX_FILE_NAME_MAX

enum entry_state { ST_PENDING = 0, ST_INFLIGHT, ST_GONE };

typedef struct entry {
    uint64_t id;
    uint64_t bytes;  /* file size: header + body */
    uint32_t events; /* from the header; 0 when the header was unreadable at open */
    uint8_t state;
} entry_t;

struct plume_outbox {
    pthread_mutex_t mu;
    plume_outbox_file_loc_t loc; /* dir, data_dir, sink, dirfd, fsync_writes: owned */
    int lockfd;
    int corrupt_fd;   /* <data_dir>/corrupt/<sink>: opened on first use under mu, -1 until then */
    int failed_fd;    /* <data_dir>/failed/<sink>: likewise */
    uint64_t max_bytes;
    entry_t *v;       /* sorted by id; includes tombstones (ST_GONE) */
    size_t n, cap;
    size_t gone;      /* tombstones in v */
    size_t scan_from; /* every entry before it is gone or in flight */
    size_t live;      /* pending entries, in flight included */
    uint64_t bytes, inflight_bytes, events;
    uint64_t next_id; /* 0 once ids are exhausted */
    size_t ignored;
    _Atomic uint64_t syncs; /* successful plume_outbox_sync() calls */
};

/* ---- small helpers ---- */

static bool valid_sink(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PLUME_OUTBOX_MAX_SINK || !strcmp(s, ".") || !strcmp(s, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* ---- index (caller holds ob->mu) ---- */

/* Index of the pending entry with this id, or SIZE_MAX. O(log n). */
static size_t idx_find(const plume_outbox_t *ob, uint64_t id)
{
    size_t lo = 0, hi = ob->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ob->v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ob->n && ob->v[lo].id == id && ob->v[lo].state != ST_GONE)
        return lo;
    return SIZE_MAX;
}

static int idx_reserve(plume_outbox_t *ob, size_t want)
{
    if (want <= ob->cap)
        return 0;
    size_t cap = ob->cap ? ob->cap : 64;
    while (cap < want) {
        if (cap > SIZE_MAX / 2 / sizeof(entry_t))
            return -ENOMEM;
        cap *= 2;
    }
    entry_t *v = realloc(ob->v, cap * sizeof(entry_t));
    if (!v)
        return -ENOMEM;
    ob->v = v;
    ob->cap = cap;
    return 0;
}

/* Inserts a pending entry (capacity must be reserved). Normally an append; a put
 * that finished after a younger one inserts in place. */
static void idx_insert(plume_outbox_t *ob, uint64_t id, uint64_t bytes, uint32_t events)
{
    size_t pos = ob->n;
    while (pos > 0 && ob->v[pos - 1].id > id)
        pos--;
    if (pos < ob->n)
        memmove(&ob->v[pos + 1], &ob->v[pos], (ob->n - pos) * sizeof(entry_t));
    ob->v[pos] = (entry_t){.id = id, .bytes = bytes, .events = events, .state = ST_PENDING};
    ob->n++;
    if (pos < ob->scan_from)
        ob->scan_from = pos;
    ob->live++;
    ob->bytes += bytes;
    ob->events += events;
}

/* Index of the oldest entry neither gone nor in flight, or ob->n. Advances
 * scan_from past the prefix it skipped. */
static size_t idx_first_pending(plume_outbox_t *ob)
{
    size_t i = ob->scan_from;
    while (i < ob->n && ob->v[i].state != ST_PENDING)
        i++;
    ob->scan_from = i;
    return i;
}

static void idx_forget(plume_outbox_t *ob, size_t i)
{
    entry_t *e = &ob->v[i];
    if (e->state == ST_GONE)
        return;
    if (e->state == ST_INFLIGHT)
        ob->inflight_bytes -= e->bytes;
    ob->bytes -= e->bytes;
    ob->events -= e->events;
    ob->live--;
    ob->gone++;
    e->state = ST_GONE;
}

/* Drops tombstones once they are half of the array (amortised O(1)). Call only
 * at the end of an operation: indexes into v are invalid afterwards. */
static void idx_maybe_compact(plume_outbox_t *ob)
{
    if (ob->gone == 0 || (ob->gone < ob->n && (ob->gone < 64 || ob->gone * 2 < ob->n)))
        return;
    size_t w = 0;
    for (size_t r = 0; r < ob->n; r++)
        if (ob->v[r].state != ST_GONE)
            ob->v[w++] = ob->v[r];
    ob->n = w;
    ob->gone = 0;
    ob->scan_from = 0;
}

/* ---- open / close ---- */

static int entry_cmp(const void *a, const void *b)
{
    uint64_t x = ((const entry_t *)a)->id, y = ((const entry_t *)b)->id;
    return x < y ? -1 : x > y;
}

/* Indexes the batch files in ob->loc.dir, removes leftover temp files and counts
 * the rest as ignored. 0 or -errno with a message. */
static int scan_dir(plume_outbox_t *ob, char *errbuf, size_t errlen)
{
    char eb[128];
    int dfd = dup(ob->loc.dirfd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        int e = errno;
        if (dfd >= 0)
            close(dfd);
        plume_outbox_set_err(errbuf, errlen, "outbox: cannot list '%s': %s", ob->loc.dir,
                plume_outbox_errtext(e, eb, sizeof(eb)));
        return -e;
    }
    uint64_t max_id = 0;
    bool any = false;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno) {
                rc = -errno;
                plume_outbox_set_err(errbuf, errlen, "outbox: cannot list '%s': %s", ob->loc.dir,
                        plume_outbox_errtext(errno, eb, sizeof(eb)));
            }
            break;
        }
        const char *nm = de->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, "..") || !strcmp(nm, LOCK_NAME))
            continue;
        struct stat st;
        if (fstatat(ob->loc.dirfd, nm, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* vanished meanwhile */
        uint64_t id;
        if (S_ISREG(st.st_mode) && plume_outbox_file_is_temp(nm)) {
            unlinkat(ob->loc.dirfd, nm, 0); /* interrupted put: never acknowledged */
            continue;
        }
        if (!S_ISREG(st.st_mode) || !plume_outbox_file_parse_name(nm, &id)) {
            ob->ignored++;
            continue;
        }
        if ((rc = idx_reserve(ob, ob->n + 1)) < 0) {
            plume_outbox_set_err(errbuf, errlen, "outbox: out of memory indexing '%s'", ob->loc.dir);
            break;
        }
        uint32_t ev = plume_outbox_file_read_events(ob->loc.dirfd, nm);
        ob->v[ob->n++] = (entry_t){.id = id, .bytes = (uint64_t)st.st_size, .events = ev};
        ob->live++;
        ob->bytes += (uint64_t)st.st_size;
        ob->events += ev;
        if (!any || id > max_id)
            max_id = id;
        any = true;
    }
    closedir(d);
    if (rc < 0)
        return rc;
    if (ob->n > 1)
        qsort(ob->v, ob->n, sizeof(entry_t), entry_cmp);
    /* Ids never go below the clock, so they keep increasing across restarts. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    ob->next_id = any ? max_id + 1 : 1; /* wraps to 0 = exhausted */
    if (ob->next_id != 0 && ob->next_id < now)
        ob->next_id = now;
    return 0;
}

plume_outbox_t *plume_outbox_open(const char *data_dir, const char *sink,
                                  uint64_t max_bytes, bool fsync_writes,
                                  char *errbuf, size_t errlen)
{
    char eb[128];
    if (!data_dir || !*data_dir) {
        plume_outbox_set_err(errbuf, errlen, "outbox: no data_dir given");
        return NULL;
    }
    if (!sink || !valid_sink(sink)) {
        plume_outbox_set_err(errbuf, errlen,
                "outbox: invalid sink name '%.80s' (want 1-%d of [A-Za-z0-9._-])",
                sink ? sink : "(null)", PLUME_OUTBOX_MAX_SINK);
        return NULL;
    }
    plume_outbox_t *ob = calloc(1, sizeof(*ob));
    if (!ob) {
        plume_outbox_set_err(errbuf, errlen, "outbox: out of memory");
        return NULL;
    }
    ob->loc.dirfd = ob->lockfd = ob->corrupt_fd = ob->failed_fd = -1;
    ob->max_bytes = max_bytes;
    ob->loc.fsync_writes = fsync_writes;
    if (pthread_mutex_init(&ob->mu, NULL) != 0) {
        free(ob);
        plume_outbox_set_err(errbuf, errlen, "outbox: cannot create mutex");
        return NULL;
    }
    ob->loc.data_dir = strdup(data_dir);
    ob->loc.sink = strdup(sink);
    if (!ob->loc.data_dir || !ob->loc.sink) {
        plume_outbox_set_err(errbuf, errlen, "outbox: out of memory");
        goto fail;
    }
    ob->loc.dirfd = plume_outbox_file_open_tree(data_dir, "outbox", sink, &ob->loc.dir, errbuf,
                                                errlen);
    if (ob->loc.dirfd < 0)
        goto fail;
    ob->lockfd =
        openat(ob->loc.dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (ob->lockfd < 0) {
        plume_outbox_set_err(errbuf, errlen, "outbox: cannot open lock file '%s/" LOCK_NAME "': %s",
                ob->loc.dir, plume_outbox_errtext(errno, eb, sizeof(eb)));
        goto fail;
    }
    if (flock(ob->lockfd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            plume_outbox_set_err(errbuf, errlen,
                    "outbox: '%s' is in use by another process (lock '%s/" LOCK_NAME "' held)",
                    ob->loc.dir, ob->loc.dir);
        else
            plume_outbox_set_err(errbuf, errlen, "outbox: cannot lock '%s/" LOCK_NAME "': %s", ob->loc.dir,
                    plume_outbox_errtext(errno, eb, sizeof(eb)));
        goto fail;
    }
    if (scan_dir(ob, errbuf, errlen) < 0)
        goto fail;
    if (fsync_writes)
        fsync(ob->loc.dirfd); /* make the temp file removals stick; best effort */
    return ob;
fail:
    plume_outbox_close(ob);
    return NULL;
}

void plume_outbox_close(plume_outbox_t *ob)
{
    if (!ob)
        return;
    int fds[] = {ob->loc.dirfd, ob->lockfd, ob->corrupt_fd, ob->failed_fd};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]); /* closing lockfd releases the flock */
    pthread_mutex_destroy(&ob->mu);
    free(ob->v);
    free(ob->loc.dir);
    free(ob->loc.data_dir);
    free(ob->loc.sink);
    free(ob);
}

/* ---- put ---- */

int plume_outbox_put(plume_outbox_t *ob, const plume_batch_meta_t *meta,
                     const void *body, size_t len, plume_outbox_id_t *id,
                     uint32_t *dropped_batches, uint64_t *dropped_events)
{
    uint32_t dropb = 0;
    uint64_t drope = 0;
    if (dropped_batches)
        *dropped_batches = 0;
    if (dropped_events)
        *dropped_events = 0;
    if (!ob || !meta || (!body && len))
        return -EINVAL;
    if (len > PLUME_OUTBOX_MAX_BODY)
        return -EFBIG;
    uint64_t fsize = (uint64_t)PLUME_OUTBOX_FILE_HDR_LEN + len;
    if (ob->max_bytes && fsize > ob->max_bytes)
        return -EFBIG;

    pthread_mutex_lock(&ob->mu);
    uint64_t nid = ob->next_id;
    if (nid != 0)
        ob->next_id++;
    pthread_mutex_unlock(&ob->mu);
    if (nid == 0)
        return -EOVERFLOW;

    /* The body goes to disk outside the lock; only the commit is under it. */
    int rc = plume_outbox_file_write_temp(&ob->loc, nid, meta, body, len);
    if (rc < 0)
        return rc;

    pthread_mutex_lock(&ob->mu);
    rc = idx_reserve(ob, ob->n + 1);
    if (rc == 0 && ob->max_bytes && ob->bytes + fsize > ob->max_bytes) {
        /* Room is made only from batches not in flight; check before dropping. */
        if (ob->bytes - ob->inflight_bytes + ob->max_bytes < ob->bytes + fsize)
            rc = -ENOBUFS;
        while (rc == 0 && ob->bytes + fsize > ob->max_bytes) {
            size_t i = idx_first_pending(ob);
            if (i >= ob->n)
                break; /* cannot happen given the check above */
            plume_outbox_file_remove(&ob->loc, ob->v[i].id);
            dropb++;
            drope += ob->v[i].events;
            idx_forget(ob, i);
        }
    }
    if (rc == 0)
        rc = plume_outbox_file_commit(&ob->loc, nid); /* leaves no file on failure */
    else
        plume_outbox_file_discard_temp(&ob->loc, nid);
    if (rc == 0)
        idx_insert(ob, nid, fsize, meta->event_count);
    idx_maybe_compact(ob);
    pthread_mutex_unlock(&ob->mu);

    if (dropped_batches)
        *dropped_batches = dropb;
    if (dropped_events)
        *dropped_events = drope;
    if (rc == 0 && id)
        *id = nid;
    return rc;
}

/* ---- next / release / remove ---- */

bool plume_outbox_next(plume_outbox_t *ob, plume_outbox_id_t *id)
{
    if (!ob)
        return false;
    pthread_mutex_lock(&ob->mu);
    size_t i = idx_first_pending(ob);
    bool found = i < ob->n;
    if (found) {
        ob->v[i].state = ST_INFLIGHT;
        ob->inflight_bytes += ob->v[i].bytes;
        ob->scan_from = i + 1;
        if (id)
            *id = ob->v[i].id;
    }
    pthread_mutex_unlock(&ob->mu);
    return found;
}

void plume_outbox_release(plume_outbox_t *ob, plume_outbox_id_t id)
{
    if (!ob)
        return;
    pthread_mutex_lock(&ob->mu);
    size_t i = idx_find(ob, id);
    if (i != SIZE_MAX && ob->v[i].state == ST_INFLIGHT) {
        ob->v[i].state = ST_PENDING;
        ob->inflight_bytes -= ob->v[i].bytes;
        if (i < ob->scan_from)
            ob->scan_from = i;
    }
    pthread_mutex_unlock(&ob->mu);
}

int plume_outbox_remove(plume_outbox_t *ob, plume_outbox_id_t id)
{
    if (!ob)
        return -EINVAL;
    int rc = 0;
    pthread_mutex_lock(&ob->mu);
    size_t i = idx_find(ob, id);
    if (i == SIZE_MAX) {
        rc = -ENOENT;
    } else {
        int r = plume_outbox_file_remove(&ob->loc, id);
        if (r < 0 && r != -ENOENT)
            rc = r;
        idx_forget(ob, i);
        idx_maybe_compact(ob);
    }
    pthread_mutex_unlock(&ob->mu);
    return rc;
}

/* ---- load ---- */

/* Moves a corrupt batch aside and forgets it; writes the full message. */
static int quarantine(plume_outbox_t *ob, uint64_t id, const char *name, const char *why,
                      char *errbuf, size_t errlen)
{
    char final[NAME_MAX_LEN], mv[PATH_MAX + 256] = "";
    pthread_mutex_lock(&ob->mu);
    size_t i = idx_find(ob, id);
    int mrc = -ENOENT;
    if (i != SIZE_MAX) {
        mrc = plume_outbox_file_move_aside(&ob->loc, &ob->corrupt_fd, "corrupt", name, final, mv,
                                           sizeof(mv));
        idx_forget(ob, i); /* never send it, whether or not the move worked */
        idx_maybe_compact(ob);
    }
    pthread_mutex_unlock(&ob->mu);
    if (mrc == 0)
        plume_outbox_set_err(errbuf, errlen, "outbox: batch %s/%s is corrupt (%s); moved to %s/corrupt/%s/%s",
                ob->loc.dir, name, why, ob->loc.data_dir, ob->loc.sink, final);
    else if (mrc == -ENOENT && !mv[0])
        plume_outbox_set_err(errbuf, errlen, "outbox: batch %s/%s is corrupt (%s)", ob->loc.dir, name, why);
    else
        plume_outbox_set_err(errbuf, errlen,
                "outbox: batch %s/%s is corrupt (%s); not sending it, left in place: %s",
                ob->loc.dir, name, why, mv);
    return -EBADMSG;
}

int plume_outbox_load(plume_outbox_t *ob, plume_outbox_id_t id, plume_batch_meta_t *meta,
                      plume_buf_t *body, char *errbuf, size_t errlen)
{
    char name[NAME_MAX_LEN], why[160];
    if (!ob || !body)
        return -EINVAL;
    plume_buf_reset(body);
    plume_outbox_file_name(name, id);
    pthread_mutex_lock(&ob->mu);
    bool known = idx_find(ob, id) != SIZE_MAX;
    pthread_mutex_unlock(&ob->mu);
    if (!known) {
        plume_outbox_set_err(errbuf, errlen, "outbox: batch %s/%s is not pending", ob->loc.dir, name);
        return -ENOENT;
    }
    /* Read outside the lock; a file removed meanwhile reads as -ENOENT. */
    int rc = plume_outbox_file_read(&ob->loc, id, meta, body, why, sizeof(why), errbuf, errlen);
    if (rc == -EBADMSG)
        return quarantine(ob, id, name, why, errbuf, errlen);
    if (rc == -ENOENT) { /* its file vanished: forget it */
        pthread_mutex_lock(&ob->mu);
        size_t i = idx_find(ob, id);
        if (i != SIZE_MAX)
            idx_forget(ob, i);
        idx_maybe_compact(ob);
        pthread_mutex_unlock(&ob->mu);
    }
    return rc;
}

/* ---- fail ---- */

int plume_outbox_fail(plume_outbox_t *ob, plume_outbox_id_t id, const char *reason,
                      const void *response, size_t response_len)
{
    if (!ob)
        return -EINVAL;
    char name[NAME_MAX_LEN], final[NAME_MAX_LEN], why[PATH_MAX + 256];
    plume_outbox_file_name(name, id);
    pthread_mutex_lock(&ob->mu);
    size_t i = idx_find(ob, id);
    if (i == SIZE_MAX) {
        pthread_mutex_unlock(&ob->mu);
        return -ENOENT;
    }
    int rc = plume_outbox_file_move_aside(&ob->loc, &ob->failed_fd, "failed", name, final, why,
                                          sizeof(why));
    int dfd = ob->failed_fd;
    if (rc == 0 || rc == -ENOENT) { /* moved, or its file is gone anyway */
        idx_forget(ob, i);
        idx_maybe_compact(ob);
    }
    pthread_mutex_unlock(&ob->mu);
    if (rc < 0)
        return rc;
    /* Outside the lock: failed_fd, once open, is closed only by close(). */
    return plume_outbox_file_write_reason(&ob->loc, dfd, final, reason, response, response_len);
}

/* ---- counters ---- */

#define COUNTER(ret, fname, field)                                  \
    ret fname(const plume_outbox_t *ob)                             \
    {                                                               \
        if (!ob)                                                    \
            return 0;                                               \
        plume_outbox_t *m = (plume_outbox_t *)ob; /* lock only */   \
        pthread_mutex_lock(&m->mu);                                 \
        ret v = (ret)ob->field;                                     \
        pthread_mutex_unlock(&m->mu);                               \
        return v;                                                   \
    }

COUNTER(size_t, plume_outbox_pending_count, live)
COUNTER(uint64_t, plume_outbox_pending_bytes, bytes)
COUNTER(uint64_t, plume_outbox_pending_events, events)
COUNTER(size_t, plume_outbox_ignored_count, ignored)

const char *plume_outbox_dir(const plume_outbox_t *ob)
{
    return ob ? ob->loc.dir : NULL;
}

int plume_outbox_sync(plume_outbox_t *ob)
{
    if (!ob)
        return -EINVAL;
    if (syncfs(ob->loc.dirfd) != 0)
        return -errno;
    atomic_fetch_add_explicit(&ob->syncs, 1, memory_order_relaxed);
    return 0;
}

uint64_t plume_outbox_sync_count(const plume_outbox_t *ob)
{
    return ob ? atomic_load_explicit(&ob->syncs, memory_order_relaxed) : 0;
}
