/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for reading outbox batch files: the input becomes the
 * content of one batch file in a temp outbox (created once per process), the
 * outbox is opened (scanning it), and next() + load() must either return the
 * batch (then its header must agree with what the file holds) or refuse it
 * with -EBADMSG (moved to corrupt/) or -ENOENT; never anything else, never a
 * crash, never a read past the file. All files are removed after each input so
 * that runs stay independent. The seed corpus holds real batch files written
 * by plume_outbox_put and damaged variants of them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "outbox.h"

#define SINK "fuzz"
#define BATCH_NAME "00000000000000001234.batch"
#define HDR_LEN 40

static char root[4096];
static char outbox_dir[4200];
static char corrupt_dir[4200];

static void mkdir_or_die(const char *p)
{
    if (mkdir(p, 0700) != 0 && errno != EEXIST)
        abort();
}

static void empty_dir(const char *dir);

/* Removes the temp tree at exit (it holds only what init_dirs made). */
static void remove_dirs(void)
{
    char p[4300];
    empty_dir(outbox_dir);
    empty_dir(corrupt_dir);
    snprintf(p, sizeof(p), "%s/.lock", outbox_dir);
    unlink(p);
    rmdir(outbox_dir);
    rmdir(corrupt_dir);
    snprintf(p, sizeof(p), "%s/outbox", root);
    rmdir(p);
    snprintf(p, sizeof(p), "%s/corrupt", root);
    rmdir(p);
    rmdir(root);
}

/* Creates <tmp>/plume-fuzz-outbox-XXXXXX/{outbox,corrupt}/fuzz once. */
static void init_dirs(void)
{
    if (root[0])
        return;
    atexit(remove_dirs);
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof(root), "%s/plume-fuzz-outbox-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(root))
        abort();
    char p[4200];
    snprintf(p, sizeof(p), "%s/outbox", root);
    mkdir_or_die(p);
    snprintf(outbox_dir, sizeof(outbox_dir), "%s/outbox/" SINK, root);
    mkdir_or_die(outbox_dir);
    snprintf(p, sizeof(p), "%s/corrupt", root);
    mkdir_or_die(p);
    snprintf(corrupt_dir, sizeof(corrupt_dir), "%s/corrupt/" SINK, root);
    mkdir_or_die(corrupt_dir);
}

/* Removes every entry but ".lock" from dir (flat: we create no subdirs). */
static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, ".lock"))
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) != 0)
            abort(); /* a directory appeared: the outbox made something unexpected */
    }
    closedir(d);
}

static void write_batch(const uint8_t *data, size_t size)
{
    char p[4300];
    snprintf(p, sizeof(p), "%s/" BATCH_NAME, outbox_dir);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            abort();
        off += (size_t)w;
    }
    close(fd);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_dirs();
    write_batch(data, size);
    char err[512];
    plume_outbox_t *ob = plume_outbox_open(root, SINK, 0, false, err, sizeof(err));
    if (!ob)
        abort(); /* the directory is ours and fine: open must work */
    if (plume_outbox_pending_count(ob) != 1 || plume_outbox_pending_bytes(ob) != size)
        abort();
    plume_outbox_id_t id;
    if (!plume_outbox_next(ob, &id) || id != 1234)
        abort();
    plume_buf_t body;
    plume_buf_init(&body, PLUME_OUTBOX_MAX_BODY);
    plume_batch_meta_t meta;
    err[0] = '\0';
    int rc = plume_outbox_load(ob, id, &meta, &body, err, sizeof(err));
    if (rc == 0) {
        /* accepted: the file is a header and exactly the body it announces */
        if (size < HDR_LEN || body.len != size - HDR_LEN ||
            (body.len && memcmp(body.data, data + HDR_LEN, body.len) != 0) ||
            meta.event_count != le32(data + 24) || meta.codec != data[32] || meta.kind != data[33])
            abort();
        if (plume_outbox_remove(ob, id) != 0 || plume_outbox_pending_count(ob) != 0)
            abort();
    } else if (rc == -EBADMSG) {
        /* refused: a reason naming the file, and the batch is forgotten */
        if (!strstr(err, BATCH_NAME) || plume_outbox_pending_count(ob) != 0 || body.len != 0)
            abort();
    } else if (rc != -ENOENT) {
        abort();
    }
    plume_buf_free(&body);
    plume_outbox_close(ob);
    empty_dir(outbox_dir);
    empty_dir(corrupt_dir);
    return 0;
}
