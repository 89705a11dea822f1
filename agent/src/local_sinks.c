/* SPDX-License-Identifier: MIT */
/* Console and file sinks. See local_sinks.h. */
#include "local_sinks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentlog.h"
#include "axiom_encode.h"
#include "buf.h"
#include "console_format.h"

#define FLUSH_BYTES (64u << 10)
#define FLUSH_MS 100

typedef struct local_sink {
    plume_sink_t base;
    plume_metrics_t *metrics;
    int fd;
    bool pretty, color;
    bool broken;
    plume_buf_t out;
    plume_timer_t *timer;
    /* file sink only */
    char *path;
    uint64_t size, max_size;
    int max_files;
} local_sink_t;

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Renames path.(k-1) -> path.k down to path -> path.1, then reopens path. */
static bool rotate(local_sink_t *s)
{
    close(s->fd);
    s->fd = -1;
    size_t n = strlen(s->path) + 16;
    char *from = malloc(n), *to = malloc(n);
    if (!from || !to) {
        free(from);
        free(to);
        return false;
    }
    for (int k = s->max_files; k >= 1; k--) {
        if (k == 1)
            snprintf(from, n, "%s", s->path);
        else
            snprintf(from, n, "%s.%d", s->path, k - 1);
        snprintf(to, n, "%s.%d", s->path, k);
        if (rename(from, to) != 0 && errno != ENOENT)
            PLOG_WARN("file: cannot rotate %s to %s: %s", from, to, strerror(errno));
    }
    free(from);
    free(to);
    s->fd = open(s->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    s->size = 0;
    return s->fd >= 0;
}

static void write_out(local_sink_t *s)
{
    if (s->out.len == 0 || s->broken)
        return;
    bool ok = write_all(s->fd, s->out.data, s->out.len);
    if (ok && s->path) {
        s->size += s->out.len;
        if (s->size >= s->max_size)
            ok = rotate(s);
    }
    if (!ok) {
        PLOG_ERROR("%s: write failed (%s); sink stopped", s->base.name, strerror(errno));
        s->broken = true;
    }
    plume_buf_reset(&s->out);
}

static void on_timer(plume_loop_t *l, plume_timer_t *t, void *arg)
{
    (void)l;
    (void)t;
    write_out(arg);
}

static void submit(plume_sink_t *base, const plume_event_view_t *ev)
{
    local_sink_t *s = (local_sink_t *)base;
    if (s->broken)
        return;
    size_t mark = s->out.len;
    bool ok = true;
    if (s->pretty)
        plume_console_format_view(&s->out, ev, s->color);
    else
        ok = plume_ndjson_encode_view(&s->out, ev);
    if (!ok || s->out.failed) {
        s->out.len = mark;
        s->out.failed = false;
        s->metrics->dropped_encode++;
        return;
    }
    if (s->out.len >= FLUSH_BYTES)
        write_out(s);
    else if (!plume_timer_active(s->timer))
        plume_timer_start(s->timer, FLUSH_MS);
}

static void flush(plume_sink_t *base) { write_out((local_sink_t *)base); }

static bool idle(const plume_sink_t *base)
{
    const local_sink_t *s = (const local_sink_t *)base;
    return s->out.len == 0 || s->broken;
}

static bool stopped(const plume_sink_t *base) { return ((const local_sink_t *)base)->broken; }

static uint64_t pending_events(const plume_sink_t *base)
{
    (void)base;
    return 0;
}

static void sink_free(plume_sink_t *base)
{
    local_sink_t *s = (local_sink_t *)base;
    if (!s)
        return;
    write_out(s);
    if (s->timer)
        plume_timer_free(s->timer);
    if (s->path && s->fd >= 0)
        close(s->fd);
    plume_buf_free(&s->out);
    free(s->path);
    free(s);
}

static const plume_sink_ops_t ops = {submit, flush, idle, stopped, pending_events, sink_free, NULL};

static local_sink_t *local_new(plume_loop_t *loop, const char *name, plume_metrics_t *m)
{
    local_sink_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->base.name = name;
    s->base.ops = &ops;
    s->metrics = m;
    s->fd = -1;
    /* One event can be large (a 1 MiB line escaped): allow a generous buffer. */
    plume_buf_init(&s->out, 64u << 20);
    s->timer = plume_timer_new(loop, on_timer, s);
    if (!s->timer) {
        free(s);
        return NULL;
    }
    return s;
}

plume_sink_t *plume_console_sink_new(plume_loop_t *loop, int fd, int format, plume_metrics_t *m,
                                     char *errbuf, size_t errlen)
{
    local_sink_t *s = local_new(loop, "console", m);
    if (!s) {
        snprintf(errbuf, errlen, "console: out of memory");
        return NULL;
    }
    s->fd = fd;
    bool tty = isatty(fd);
    s->pretty = format == PLUME_CONSOLE_PRETTY || (format == PLUME_CONSOLE_AUTO && tty);
    s->color = s->pretty && tty && !getenv("NO_COLOR");
    return &s->base;
}

plume_sink_t *plume_file_sink_new(plume_loop_t *loop, const char *path, uint64_t max_size,
                                  int max_files, plume_metrics_t *m, char *errbuf, size_t errlen)
{
    local_sink_t *s = local_new(loop, "file", m);
    if (!s || !(s->path = strdup(path))) {
        snprintf(errbuf, errlen, "file: out of memory");
        if (s)
            sink_free(&s->base);
        return NULL;
    }
    s->max_size = max_size ? max_size : UINT64_MAX;
    s->max_files = max_files;
    s->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (s->fd < 0) {
        snprintf(errbuf, errlen, "file: cannot open %s: %s", path, strerror(errno));
        sink_free(&s->base);
        return NULL;
    }
    struct stat st;
    if (fstat(s->fd, &st) == 0)
        s->size = (uint64_t)st.st_size;
    return &s->base;
}
