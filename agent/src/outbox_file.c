/* SPDX-License-Identifier: MIT */
/* The outbox's batch files on disk: names, the binary format, writing, reading
 * back with verification, and moving files aside. The index of pending batches
 * and all locking live in outbox.c; see outbox_file.h for the interface.
 *
 * Layout: <data_dir>/outbox/<sink>/ holds one file per pending batch, named
 * "%020llu.batch" after its id so that names sort by age, and, only during a
 * put, ".tmp-%020llu". Batches found corrupt are moved to
 * <data_dir>/corrupt/<sink>/, dead-lettered ones to <data_dir>/failed/<sink>/
 * with a "<name>.reason" file; a name already taken there gets ".1", ".2"...
 * Directories are 0700, files 0600.
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
 * human) is moved aside, never sent. */
#include "outbox_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define HDR_LEN PLUME_OUTBOX_FILE_HDR_LEN
#define HDR_VERSION 1
#define NAME_DIGITS 20
#define NAME_SUFFIX ".batch"
#define TMP_PREFIX ".tmp-"
#define NAME_MAX_LEN PLUME_OUTBOX_FILE_NAME_MAX
#define MAX_REASON 4096

_Static_assert(NAME_MAX_LEN >= NAME_DIGITS + sizeof(NAME_SUFFIX) + sizeof(".999"),
               "room for a batch name with a clash suffix");

/* ---- small helpers ---- */

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

/* ---- names ---- */

void plume_outbox_file_name(char out[NAME_MAX_LEN], uint64_t id)
{
    snprintf(out, NAME_MAX_LEN, "%020" PRIu64 NAME_SUFFIX, id);
}

static void tmp_name(char out[NAME_MAX_LEN], uint64_t id)
{
    snprintf(out, NAME_MAX_LEN, TMP_PREFIX "%020" PRIu64, id);
}

bool plume_outbox_file_parse_name(const char *s, uint64_t *id)
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

bool plume_outbox_file_is_temp(const char *name)
{
    return strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0;
}

/* ---- directories ---- */

/* Creates every missing component of `path` with mode 0700 (like mkdir -p).
 * Existing components are left as they are. 0 or -errno, with a message naming
 * the component that could not be created. */
static int mkdir_p(const char *path, char *errbuf, size_t errlen)
{
    char tmp[PATH_MAX], eb[128];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(tmp)) {
        plume_outbox_set_err(errbuf, errlen, "outbox: path too long: %.200s...", path);
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
            plume_outbox_set_err(errbuf, errlen, "outbox: cannot create directory '%s': %s", tmp,
                    plume_outbox_errtext(e, eb, sizeof(eb)));
            return -e;
        }
        *p = c;
        if (c == '\0')
            return 0;
    }
}

int plume_outbox_file_open_tree(const char *data_dir, const char *top, const char *sink,
                                char **path_out, char *errbuf, size_t errlen)
{
    char path[PATH_MAX], eb[128];
    int len = snprintf(path, sizeof(path), "%s/%s/%s", data_dir, top, sink);
    if (len < 0 || (size_t)len >= sizeof(path)) {
        plume_outbox_set_err(errbuf, errlen, "outbox: data_dir path too long: %.200s...", data_dir);
        return -ENAMETOOLONG;
    }
    int rc = mkdir_p(path, errbuf, errlen);
    if (rc < 0)
        return rc;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        plume_outbox_set_err(errbuf, errlen, "outbox: cannot open directory '%s': %s", path,
                plume_outbox_errtext(e, eb, sizeof(eb)));
        return -e;
    }
    if (path_out && !(*path_out = strdup(path))) {
        close(fd);
        plume_outbox_set_err(errbuf, errlen, "outbox: out of memory");
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

uint32_t plume_outbox_file_read_events(int dirfd, const char *name)
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

/* ---- writing ---- */

int plume_outbox_file_write_temp(const plume_outbox_file_loc_t *loc, uint64_t id,
                                 const plume_batch_meta_t *meta, const void *body,
                                 size_t len)
{
    uint8_t hdr[HDR_LEN];
    hdr_encode(hdr, meta, len, crc32_of(body ? body : "", len));
    char tmp[NAME_MAX_LEN];
    tmp_name(tmp, id);
    int fd = openat(loc->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST) {
        unlinkat(loc->dirfd, tmp, 0); /* stale leftover with our id: ours to replace */
        fd = openat(loc->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                    0600);
    }
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, hdr, HDR_LEN);
    if (rc == 0 && len)
        rc = write_all(fd, body, len);
    if (rc == 0 && loc->fsync_writes && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        unlinkat(loc->dirfd, tmp, 0);
    return rc;
}

int plume_outbox_file_commit(const plume_outbox_file_loc_t *loc, uint64_t id)
{
    char tmp[NAME_MAX_LEN], fin[NAME_MAX_LEN];
    tmp_name(tmp, id);
    plume_outbox_file_name(fin, id);
    if (renameat(loc->dirfd, tmp, loc->dirfd, fin) != 0) {
        int rc = -errno;
        unlinkat(loc->dirfd, tmp, 0);
        return rc;
    }
    if (loc->fsync_writes && fsync(loc->dirfd) != 0) {
        int rc = -errno;
        unlinkat(loc->dirfd, fin, 0); /* not durable: report failure, keep nothing */
        return rc;
    }
    return 0;
}

void plume_outbox_file_discard_temp(const plume_outbox_file_loc_t *loc, uint64_t id)
{
    char tmp[NAME_MAX_LEN];
    tmp_name(tmp, id);
    unlinkat(loc->dirfd, tmp, 0);
}

int plume_outbox_file_remove(const plume_outbox_file_loc_t *loc, uint64_t id)
{
    char name[NAME_MAX_LEN];
    plume_outbox_file_name(name, id);
    return unlinkat(loc->dirfd, name, 0) != 0 ? -errno : 0;
}

/* ---- reading back ---- */

int plume_outbox_file_read(const plume_outbox_file_loc_t *loc, uint64_t id,
                           plume_batch_meta_t *meta, plume_buf_t *body, char *why,
                           size_t whylen, char *errbuf, size_t errlen)
{
    char name[NAME_MAX_LEN], eb[128], whybuf[160];
    plume_outbox_file_name(name, id);
    int fd = openat(loc->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        plume_outbox_set_err(errbuf, errlen, "outbox: cannot open %s/%s: %s", loc->dir, name,
                plume_outbox_errtext(e, eb, sizeof(eb)));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        plume_outbox_set_err(errbuf, errlen, "outbox: cannot stat %s/%s: %s", loc->dir, name,
                plume_outbox_errtext(e, eb, sizeof(eb)));
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
        snprintf(whybuf, sizeof(whybuf), "truncated: %" PRIu64 " bytes, header needs %d", size,
                 HDR_LEN);
        bad = whybuf;
    } else if ((r = read_full(fd, h, HDR_LEN)) < 0) {
        close(fd);
        plume_outbox_set_err(errbuf, errlen, "outbox: cannot read %s/%s: %s", loc->dir, name,
                plume_outbox_errtext((int)-r, eb, sizeof(eb)));
        return (int)r;
    } else if (r < HDR_LEN) {
        bad = "truncated while reading the header";
    } else if ((bad = hdr_decode(h, &m, &blen, &bcrc)) != NULL) {
        /* bad set */
    } else if (blen != size - HDR_LEN) {
        snprintf(whybuf, sizeof(whybuf),
                 "header says %" PRIu64 " body bytes, file has %" PRIu64 " (truncated?)", blen,
                 size - HDR_LEN);
        bad = whybuf;
    } else if (blen > PLUME_OUTBOX_MAX_BODY) {
        bad = "body larger than any batch we write";
    } else if (blen > body->max) {
        close(fd);
        plume_outbox_set_err(errbuf, errlen, "outbox: batch %s/%s has %" PRIu64 " body bytes, more than %zu",
                loc->dir, name, blen, body->max);
        return -EMSGSIZE;
    } else if (!plume_buf_reserve(body, (size_t)blen)) {
        close(fd);
        plume_buf_reset(body);
        plume_outbox_set_err(errbuf, errlen, "outbox: out of memory loading %s/%s", loc->dir, name);
        return -ENOMEM;
    } else if ((r = read_full(fd, body->data, (size_t)blen)) < 0) {
        close(fd);
        plume_outbox_set_err(errbuf, errlen, "outbox: cannot read %s/%s: %s", loc->dir, name,
                plume_outbox_errtext((int)-r, eb, sizeof(eb)));
        return (int)r;
    } else if ((uint64_t)r != blen) {
        bad = "file shrank while reading";
    } else if (crc32_of(body->data, (size_t)blen) != bcrc) {
        bad = "body checksum mismatch";
    }
    close(fd);
    if (bad) {
        plume_buf_reset(body);
        plume_outbox_set_err(why, whylen, "%s", bad);
        return -EBADMSG;
    }
    body->len = (size_t)blen;
    if (meta)
        *meta = m;
    return 0;
}

/* ---- moving aside ---- */

int plume_outbox_file_move_aside(const plume_outbox_file_loc_t *loc, int *cache_fd,
                                 const char *top, const char *name,
                                 char final[NAME_MAX_LEN], char *why, size_t whylen)
{
    if (*cache_fd < 0) {
        int fd = plume_outbox_file_open_tree(loc->data_dir, top, loc->sink, NULL, why, whylen);
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
        int r = renameat2(loc->dirfd, name, *cache_fd, final, RENAME_NOREPLACE);
        if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
            /* The file system cannot do RENAME_NOREPLACE: check, then rename. */
            struct stat st;
            if (fstatat(*cache_fd, final, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                errno = EEXIST;
            } else {
                r = renameat(loc->dirfd, name, *cache_fd, final);
            }
        }
        if (r == 0)
            return 0;
        if (errno != EEXIST) {
            int e = errno;
            plume_outbox_set_err(why, whylen, "cannot move %s/%s to %s/%s/%s/: %s", loc->dir, name,
                    loc->data_dir, top, loc->sink, plume_outbox_errtext(e, eb, sizeof(eb)));
            return -e;
        }
    }
    plume_outbox_set_err(why, whylen, "cannot move %s/%s to %s/%s/%s/: too many files of that name",
            loc->dir, name, loc->data_dir, top, loc->sink);
    return -EEXIST;
}

int plume_outbox_file_write_reason(const plume_outbox_file_loc_t *loc, int dfd,
                                   const char *final, const char *reason,
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
    if (rc == 0 && loc->fsync_writes && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    return rc;
}
