/* SPDX-License-Identifier: MIT */
/* The outbox: sealed batches kept on disk until acknowledged. See outbox.h.
 *
 * Layout: <data_dir>/outbox/<sink>/ holds one file per pending batch, named
 * "%020llu.batch" after its id so that names sort by age, plus ".lock" (flock,
 * one owner process) and, only during a put, ".tmp-%020llu". Batches found
 * corrupt are moved to <data_dir>/corrupt/<sink>/, dead-lettered ones to
 * <data_dir>/failed/<sink>/ with a "<name>.reason" file. Directories are 0700,
 * files 0600.
 *
 * File format, version 1 (all integers little-endian):
 *   off  size  field
 *     0     4  magic "PLOB"
 *     4     2  version (1)
 *     6     2  header length (40)
 *     8     8  created_ns      when the batch was sealed
 *    16     8  body length     bytes after the header; must match the file size
 *    24     4  event_count
 *    28     4  CRC32 of the body (zlib crc32)
 *    32     1  codec           plume_codec_t value
 *    33     1  kind            sink-defined
 *    34     2  reserved (0)
 *    36     4  CRC32 of header bytes 0..35
 *    40     -  body
 * A file is written to its temp name, optionally fsynced, then renamed, so a
 * reader never sees a partial file under a final name; a file that fails any
 * check at load (torn by a crash without fsync, damaged on disk, edited by a
 * human) is moved aside, never sent.
 *
 * Index: a sorted array of entries (id ascending) with tombstones, compacted when
 * half of it is tombstones. Lookup by id is a binary search; new batches are
 * appended (their ids are the largest); `scan_from` remembers where the oldest
 * batch that is neither gone nor in flight may be, so next() does not rescan the
 * in-flight prefix every time. */
#include "outbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define HDR_LEN 40
#define HDR_VERSION 1
#define NAME_DIGITS 20
#define NAME_SUFFIX ".batch"
#define TMP_PREFIX ".tmp-"
#define LOCK_NAME ".lock"
#define NAME_MAX_LEN 64 /* our names and their ".N" / ".reason" variants */
#define MAX_REASON 4096

enum entry_state { ST_PENDING = 0, ST_INFLIGHT, ST_GONE };

typedef struct entry {
    uint64_t id;
    uint64_t bytes;  /* file size: header + body */
    uint32_t events; /* from the header; 0 when the header was unreadable at open */
    uint8_t state;
} entry_t;

struct plume_outbox {
    pthread_mutex_t mu;
    char *dir;        /* <data_dir>/outbox/<sink> */
    char *data_dir;
    char *sink;
    int dirfd;
    int lockfd;
    int corrupt_fd;   /* opened on first use, -1 until then */
    int failed_fd;
    uint64_t max_bytes;
    bool fsync_writes;
    entry_t *v;       /* sorted by id; includes tombstones (ST_GONE) */
    size_t n, cap;
    size_t gone;      /* tombstones in v */
    size_t scan_from; /* every entry before it is gone or in flight */
    size_t live;      /* pending entries, in flight included */
    uint64_t bytes, inflight_bytes, events;
    uint64_t next_id; /* 0 once ids are exhausted */
    size_t ignored;
};

/* ---- small helpers ---- */

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (!errbuf || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

/* Thread-safe strerror (GNU strerror_r returns the text). */
static const char *errtext(int e, char *buf, size_t n)
{
    return strerror_r(e, buf, n);
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_le32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t crc32_of(const void *p, size_t n)
{
    return (uint32_t)crc32_z(crc32_z(0L, Z_NULL, 0), (const Bytef *)p, n);
}

static void batch_name(char out[NAME_MAX_LEN], uint64_t id)
{
    snprintf(out, NAME_MAX_LEN, "%020" PRIu64 NAME_SUFFIX, id);
}

static void tmp_name(char out[NAME_MAX_LEN], uint64_t id)
{
    snprintf(out, NAME_MAX_LEN, TMP_PREFIX "%020" PRIu64, id);
}

/* Parses exactly 20 digits + ".batch" into an id; false for anything else,
 * including values past UINT64_MAX. */
static bool parse_batch_name(const char *s, uint64_t *id)
{
    if (strlen(s) != NAME_DIGITS + strlen(NAME_SUFFIX) || strcmp(s + NAME_DIGITS, NAME_SUFFIX))
        return false;
    uint64_t v = 0;
    for (int i = 0; i < NAME_DIGITS; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *id = v;
    return true;
}

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

/* Writes all n bytes, retrying on EINTR and short writes. 0 or -errno. */
static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (w == 0)
            return -EIO;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads up to n bytes, stopping early only at end of file. Returns the count
 * read or -errno. */
static ssize_t read_full(int fd, void *p, size_t n)
{
    uint8_t *c = p;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, c + got, n - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Creates every missing component of `path` with mode 0700 (like mkdir -p).
 * Existing components are left as they are. 0 or -errno, with a message naming
 * the component that could not be created. */
static int mkdir_p(const char *path, char *errbuf, size_t errlen)
{
    char tmp[PATH_MAX], eb[128];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(tmp)) {
        set_err(errbuf, errlen, "outbox: path too long: %.200s...", path);
        return -ENAMETOOLONG;
    }
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
            int e = errno;
            set_err(errbuf, errlen, "outbox: cannot create directory '%s': %s", tmp,
                    errtext(e, eb, sizeof(eb)));
            return -e;
        }
        *p = c;
        if (c == '\0')
            return 0;
    }
}

/* Opens (creating it as needed) <data_dir>/<top>/<sink> as a directory fd.
 * `path_out` (optional) receives a malloc'd copy of the path. */
static int open_tree(const char *data_dir, const char *top, const char *sink, char **path_out,
                     char *errbuf, size_t errlen)
{
    char path[PATH_MAX], eb[128];
    int len = snprintf(path, sizeof(path), "%s/%s/%s", data_dir, top, sink);
    if (len < 0 || (size_t)len >= sizeof(path)) {
        set_err(errbuf, errlen, "outbox: data_dir path too long: %.200s...", data_dir);
        return -ENAMETOOLONG;
    }
    int rc = mkdir_p(path, errbuf, errlen);
    if (rc < 0)
        return rc;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        set_err(errbuf, errlen, "outbox: cannot open directory '%s': %s", path,
                errtext(e, eb, sizeof(eb)));
        return -e;
    }
    if (path_out && !(*path_out = strdup(path))) {
        close(fd);
        set_err(errbuf, errlen, "outbox: out of memory");
        return -ENOMEM;
    }
    return fd;
}

/* ---- header ---- */

static void hdr_encode(uint8_t h[HDR_LEN], const plume_batch_meta_t *m, uint64_t body_len,
                       uint32_t body_crc)
{
    memcpy(h, "PLOB", 4);
    put_le16(h + 4, HDR_VERSION);
    put_le16(h + 6, HDR_LEN);
    put_le64(h + 8, m->created_ns);
    put_le64(h + 16, body_len);
    put_le32(h + 24, m->event_count);
    put_le32(h + 28, body_crc);
    h[32] = m->codec;
    h[33] = m->kind;
    put_le16(h + 34, 0);
    put_le32(h + 36, crc32_of(h, 36));
}

/* Checks and decodes a header. Returns NULL when valid, else why it is not. */
static const char *hdr_decode(const uint8_t h[HDR_LEN], plume_batch_meta_t *m,
                              uint64_t *body_len, uint32_t *body_crc)
{
    if (memcmp(h, "PLOB", 4) != 0)
        return "bad magic";
    if (get_le16(h + 4) != HDR_VERSION)
        return "unsupported format version";
    if (get_le16(h + 6) != HDR_LEN)
        return "bad header length";
    if (get_le32(h + 36) != crc32_of(h, 36))
        return "header checksum mismatch";
    m->created_ns = get_le64(h + 8);
    *body_len = get_le64(h + 16);
    m->event_count = get_le32(h + 24);
    *body_crc = get_le32(h + 28);
    m->codec = h[32];
    m->kind = h[33];
    return NULL;
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

/* ---- moving files aside (caller holds ob->mu) ---- */

/* Moves <dir>/<name> into <data_dir>/<top>/<sink>/ (opened on first use and kept
 * in *cache_fd) without replacing anything there: if the name is taken, ".1",
 * ".2"... is appended. The final name goes to `final`. 0 or -errno; `why`
 * receives a message on failure. */
static int move_aside(plume_outbox_t *ob, int *cache_fd, const char *top, const char *name,
                      char final[NAME_MAX_LEN], char *why, size_t whylen)
{
    if (*cache_fd < 0) {
        int fd = open_tree(ob->data_dir, top, ob->sink, NULL, why, whylen);
        if (fd < 0)
            return fd;
        *cache_fd = fd;
    }
    char eb[128];
    for (unsigned k = 0; k < 1000; k++) {
        if (k == 0)
            snprintf(final, NAME_MAX_LEN, "%s", name);
        else
            snprintf(final, NAME_MAX_LEN, "%s.%u", name, k);
        int r = renameat2(ob->dirfd, name, *cache_fd, final, RENAME_NOREPLACE);
        if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
            /* The file system cannot do RENAME_NOREPLACE: check, then rename. */
            struct stat st;
            if (fstatat(*cache_fd, final, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                errno = EEXIST;
            } else {
                r = renameat(ob->dirfd, name, *cache_fd, final);
            }
        }
        if (r == 0)
            return 0;
        if (errno != EEXIST) {
            int e = errno;
            set_err(why, whylen, "cannot move %s/%s to %s/%s/%s/: %s", ob->dir, name,
                    ob->data_dir, top, ob->sink, errtext(e, eb, sizeof(eb)));
            return -e;
        }
    }
    set_err(why, whylen, "cannot move %s/%s to %s/%s/%s/: too many files of that name",
            ob->dir, name, ob->data_dir, top, ob->sink);
    return -EEXIST;
}

/* ---- open / close ---- */

/* Reads the header of a batch file found at open, for its event count. 0 events
 * when it cannot be read or is corrupt: load will find out and move it aside. */
static uint32_t scan_events(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return 0;
    uint8_t h[HDR_LEN];
    ssize_t r = read_full(fd, h, sizeof(h));
    close(fd);
    plume_batch_meta_t m;
    uint64_t blen;
    uint32_t bcrc;
    if (r != HDR_LEN || hdr_decode(h, &m, &blen, &bcrc))
        return 0;
    return m.event_count;
}

static int entry_cmp(const void *a, const void *b)
{
    uint64_t x = ((const entry_t *)a)->id, y = ((const entry_t *)b)->id;
    return x < y ? -1 : x > y;
}

/* Indexes the batch files in ob->dir, removes leftover temp files and counts
 * the rest as ignored. 0 or -errno with a message. */
static int scan_dir(plume_outbox_t *ob, char *errbuf, size_t errlen)
{
    char eb[128];
    int dfd = dup(ob->dirfd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        int e = errno;
        if (dfd >= 0)
            close(dfd);
        set_err(errbuf, errlen, "outbox: cannot list '%s': %s", ob->dir,
                errtext(e, eb, sizeof(eb)));
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
                set_err(errbuf, errlen, "outbox: cannot list '%s': %s", ob->dir,
                        errtext(errno, eb, sizeof(eb)));
            }
            break;
        }
        const char *nm = de->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, "..") || !strcmp(nm, LOCK_NAME))
            continue;
        struct stat st;
        if (fstatat(ob->dirfd, nm, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* vanished meanwhile */
        uint64_t id;
        if (S_ISREG(st.st_mode) && !strncmp(nm, TMP_PREFIX, strlen(TMP_PREFIX))) {
            unlinkat(ob->dirfd, nm, 0); /* interrupted put: never acknowledged */
            continue;
        }
        if (!S_ISREG(st.st_mode) || !parse_batch_name(nm, &id)) {
            ob->ignored++;
            continue;
        }
        if ((rc = idx_reserve(ob, ob->n + 1)) < 0) {
            set_err(errbuf, errlen, "outbox: out of memory indexing '%s'", ob->dir);
            break;
        }
        uint32_t ev = scan_events(ob->dirfd, nm);
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
        set_err(errbuf, errlen, "outbox: no data_dir given");
        return NULL;
    }
    if (!sink || !valid_sink(sink)) {
        set_err(errbuf, errlen,
                "outbox: invalid sink name '%.80s' (want 1-%d of [A-Za-z0-9._-])",
                sink ? sink : "(null)", PLUME_OUTBOX_MAX_SINK);
        return NULL;
    }
    plume_outbox_t *ob = calloc(1, sizeof(*ob));
    if (!ob) {
        set_err(errbuf, errlen, "outbox: out of memory");
        return NULL;
    }
    ob->dirfd = ob->lockfd = ob->corrupt_fd = ob->failed_fd = -1;
    ob->max_bytes = max_bytes;
    ob->fsync_writes = fsync_writes;
    if (pthread_mutex_init(&ob->mu, NULL) != 0) {
        free(ob);
        set_err(errbuf, errlen, "outbox: cannot create mutex");
        return NULL;
    }
    ob->data_dir = strdup(data_dir);
    ob->sink = strdup(sink);
    if (!ob->data_dir || !ob->sink) {
        set_err(errbuf, errlen, "outbox: out of memory");
        goto fail;
    }
    ob->dirfd = open_tree(data_dir, "outbox", sink, &ob->dir, errbuf, errlen);
    if (ob->dirfd < 0)
        goto fail;
    ob->lockfd = openat(ob->dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (ob->lockfd < 0) {
        set_err(errbuf, errlen, "outbox: cannot open lock file '%s/" LOCK_NAME "': %s",
                ob->dir, errtext(errno, eb, sizeof(eb)));
        goto fail;
    }
    if (flock(ob->lockfd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            set_err(errbuf, errlen,
                    "outbox: '%s' is in use by another process (lock '%s/" LOCK_NAME "' held)",
                    ob->dir, ob->dir);
        else
            set_err(errbuf, errlen, "outbox: cannot lock '%s/" LOCK_NAME "': %s", ob->dir,
                    errtext(errno, eb, sizeof(eb)));
        goto fail;
    }
    if (scan_dir(ob, errbuf, errlen) < 0)
        goto fail;
    if (fsync_writes)
        fsync(ob->dirfd); /* make the temp file removals stick; best effort */
    return ob;
fail:
    plume_outbox_close(ob);
    return NULL;
}

void plume_outbox_close(plume_outbox_t *ob)
{
    if (!ob)
        return;
    int fds[] = {ob->dirfd, ob->lockfd, ob->corrupt_fd, ob->failed_fd};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]); /* closing lockfd releases the flock */
    pthread_mutex_destroy(&ob->mu);
    free(ob->v);
    free(ob->dir);
    free(ob->data_dir);
    free(ob->sink);
    free(ob);
}

/* ---- put ---- */

/* Writes header + body to a new temp file `tmp`, fsynced if asked. */
static int write_temp(plume_outbox_t *ob, const char *tmp, const uint8_t *hdr,
                      const void *body, size_t len)
{
    int fd = openat(ob->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST) {
        unlinkat(ob->dirfd, tmp, 0); /* stale leftover with our id: ours to replace */
        fd = openat(ob->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                    0600);
    }
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, hdr, HDR_LEN);
    if (rc == 0 && len)
        rc = write_all(fd, body, len);
    if (rc == 0 && ob->fsync_writes && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        unlinkat(ob->dirfd, tmp, 0);
    return rc;
}

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
    uint64_t fsize = (uint64_t)HDR_LEN + len;
    if (ob->max_bytes && fsize > ob->max_bytes)
        return -EFBIG;

    pthread_mutex_lock(&ob->mu);
    uint64_t nid = ob->next_id;
    if (nid != 0)
        ob->next_id++;
    pthread_mutex_unlock(&ob->mu);
    if (nid == 0)
        return -EOVERFLOW;

    uint8_t hdr[HDR_LEN];
    hdr_encode(hdr, meta, len, crc32_of(body ? body : "", len));
    char tmp[NAME_MAX_LEN], fin[NAME_MAX_LEN];
    tmp_name(tmp, nid);
    batch_name(fin, nid);
    int rc = write_temp(ob, tmp, hdr, body, len);
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
            char victim[NAME_MAX_LEN];
            batch_name(victim, ob->v[i].id);
            unlinkat(ob->dirfd, victim, 0);
            dropb++;
            drope += ob->v[i].events;
            idx_forget(ob, i);
        }
    }
    if (rc == 0 && renameat(ob->dirfd, tmp, ob->dirfd, fin) != 0)
        rc = -errno;
    if (rc == 0 && ob->fsync_writes && fsync(ob->dirfd) != 0) {
        rc = -errno;
        unlinkat(ob->dirfd, fin, 0); /* not durable: report failure, keep nothing */
    }
    if (rc == 0)
        idx_insert(ob, nid, fsize, meta->event_count);
    else
        unlinkat(ob->dirfd, tmp, 0);
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
        char name[NAME_MAX_LEN];
        batch_name(name, id);
        if (unlinkat(ob->dirfd, name, 0) != 0 && errno != ENOENT)
            rc = -errno;
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
        mrc = move_aside(ob, &ob->corrupt_fd, "corrupt", name, final, mv, sizeof(mv));
        idx_forget(ob, i); /* never send it, whether or not the move worked */
        idx_maybe_compact(ob);
    }
    pthread_mutex_unlock(&ob->mu);
    if (mrc == 0)
        set_err(errbuf, errlen, "outbox: batch %s/%s is corrupt (%s); moved to %s/corrupt/%s/%s",
                ob->dir, name, why, ob->data_dir, ob->sink, final);
    else if (mrc == -ENOENT && !mv[0])
        set_err(errbuf, errlen, "outbox: batch %s/%s is corrupt (%s)", ob->dir, name, why);
    else
        set_err(errbuf, errlen, "outbox: batch %s/%s is corrupt (%s); not sending it, left in place: %s", ob->dir,
                name, why, mv);
    return -EBADMSG;
}

int plume_outbox_load(plume_outbox_t *ob, plume_outbox_id_t id, plume_batch_meta_t *meta,
                      plume_buf_t *body, char *errbuf, size_t errlen)
{
    char name[NAME_MAX_LEN], eb[128], why[160];
    if (!ob || !body)
        return -EINVAL;
    plume_buf_reset(body);
    batch_name(name, id);
    pthread_mutex_lock(&ob->mu);
    bool known = idx_find(ob, id) != SIZE_MAX;
    pthread_mutex_unlock(&ob->mu);
    if (!known) {
        set_err(errbuf, errlen, "outbox: batch %s/%s is not pending", ob->dir, name);
        return -ENOENT;
    }
    int fd = openat(ob->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT) {
            pthread_mutex_lock(&ob->mu);
            size_t i = idx_find(ob, id);
            if (i != SIZE_MAX)
                idx_forget(ob, i);
            idx_maybe_compact(ob);
            pthread_mutex_unlock(&ob->mu);
        }
        set_err(errbuf, errlen, "outbox: cannot open %s/%s: %s", ob->dir, name,
                errtext(e, eb, sizeof(eb)));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        set_err(errbuf, errlen, "outbox: cannot stat %s/%s: %s", ob->dir, name,
                errtext(e, eb, sizeof(eb)));
        return -e;
    }
    uint64_t size = (uint64_t)st.st_size, blen = 0;
    uint32_t bcrc = 0;
    plume_batch_meta_t m;
    uint8_t h[HDR_LEN];
    const char *bad = NULL;
    ssize_t r;
    if (!S_ISREG(st.st_mode)) {
        bad = "not a regular file";
    } else if (size == 0) {
        bad = "empty file";
    } else if (size < HDR_LEN) {
        snprintf(why, sizeof(why), "truncated: %" PRIu64 " bytes, header needs %d", size,
                 HDR_LEN);
        bad = why;
    } else if ((r = read_full(fd, h, HDR_LEN)) < 0) {
        close(fd);
        set_err(errbuf, errlen, "outbox: cannot read %s/%s: %s", ob->dir, name,
                errtext((int)-r, eb, sizeof(eb)));
        return (int)r;
    } else if (r < HDR_LEN) {
        bad = "truncated while reading the header";
    } else if ((bad = hdr_decode(h, &m, &blen, &bcrc)) != NULL) {
        /* bad set */
    } else if (blen != size - HDR_LEN) {
        snprintf(why, sizeof(why),
                 "header says %" PRIu64 " body bytes, file has %" PRIu64 " (truncated?)", blen,
                 size - HDR_LEN);
        bad = why;
    } else if (blen > PLUME_OUTBOX_MAX_BODY) {
        bad = "body larger than any batch we write";
    } else if (blen > body->max) {
        close(fd);
        set_err(errbuf, errlen, "outbox: batch %s/%s has %" PRIu64 " body bytes, more than %zu",
                ob->dir, name, blen, body->max);
        return -EMSGSIZE;
    } else if (!plume_buf_reserve(body, (size_t)blen)) {
        close(fd);
        plume_buf_reset(body);
        set_err(errbuf, errlen, "outbox: out of memory loading %s/%s", ob->dir, name);
        return -ENOMEM;
    } else if ((r = read_full(fd, body->data, (size_t)blen)) < 0) {
        close(fd);
        set_err(errbuf, errlen, "outbox: cannot read %s/%s: %s", ob->dir, name,
                errtext((int)-r, eb, sizeof(eb)));
        return (int)r;
    } else if ((uint64_t)r != blen) {
        bad = "file shrank while reading";
    } else if (crc32_of(body->data, (size_t)blen) != bcrc) {
        bad = "body checksum mismatch";
    }
    close(fd);
    if (bad) {
        plume_buf_reset(body);
        return quarantine(ob, id, name, bad, errbuf, errlen);
    }
    body->len = (size_t)blen;
    if (meta)
        *meta = m;
    return 0;
}

/* ---- fail ---- */

/* Writes <failed>/<final>.reason: the reason line, then the bounded response. */
static int write_reason(plume_outbox_t *ob, int dfd, const char *final, const char *reason,
                        const void *response, size_t response_len)
{
    char rname[NAME_MAX_LEN + 8], head[MAX_REASON + 128];
    snprintf(rname, sizeof(rname), "%s.reason", final);
    size_t keep = response_len > PLUME_OUTBOX_MAX_RESPONSE ? PLUME_OUTBOX_MAX_RESPONSE
                                                           : response_len;
    if (!response)
        keep = response_len = 0;
    int hl = snprintf(head, sizeof(head), "%.*s\n", MAX_REASON,
                      reason && *reason ? reason : "(no reason given)");
    if (hl < 0)
        return -EINVAL;
    if ((size_t)hl >= sizeof(head))
        hl = (int)sizeof(head) - 1;
    if (keep < response_len) {
        hl += snprintf(head + hl, sizeof(head) - (size_t)hl,
                       "(response truncated to %zu of %zu bytes)\n", keep, response_len);
        if ((size_t)hl >= sizeof(head))
            hl = (int)sizeof(head) - 1;
    }
    int fd = openat(dfd, rname, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, head, (size_t)hl);
    if (rc == 0 && keep)
        rc = write_all(fd, response, keep);
    if (rc == 0 && ob->fsync_writes && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

int plume_outbox_fail(plume_outbox_t *ob, plume_outbox_id_t id, const char *reason,
                      const void *response, size_t response_len)
{
    if (!ob)
        return -EINVAL;
    char name[NAME_MAX_LEN], final[NAME_MAX_LEN], why[PATH_MAX + 256];
    batch_name(name, id);
    pthread_mutex_lock(&ob->mu);
    size_t i = idx_find(ob, id);
    if (i == SIZE_MAX) {
        pthread_mutex_unlock(&ob->mu);
        return -ENOENT;
    }
    int rc = move_aside(ob, &ob->failed_fd, "failed", name, final, why, sizeof(why));
    int dfd = ob->failed_fd;
    if (rc == 0 || rc == -ENOENT) { /* moved, or its file is gone anyway */
        idx_forget(ob, i);
        idx_maybe_compact(ob);
    }
    pthread_mutex_unlock(&ob->mu);
    if (rc < 0)
        return rc;
    return write_reason(ob, dfd, final, reason, response, response_len);
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
    return ob ? ob->dir : NULL;
}
