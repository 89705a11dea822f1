/* SPDX-License-Identifier: MIT */
/* Line splitting with bounded memory: lines split across feeds at every split
 * point, CRLF, NUL bytes, lines of exactly max_line and max_line + 1 bytes,
 * a huge line fed in small chunks (cut once, the next line intact, the buffer
 * never grows), the UTF-8 back-off of the cut, the final line at finish, random
 * inputs against a reference model, and reading from a pipe. */
#include "test_support.h"
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "line_reader.h"

typedef struct line {
    char *data;
    size_t n;
    bool truncated;
} line_t;

typedef struct lines {
    line_t *v;
    size_t n, cap;
} lines_t;

static void lines_add(lines_t *ls, const char *p, size_t n, bool truncated)
{
    if (ls->n == ls->cap) {
        ls->cap = ls->cap ? ls->cap * 2 : 16;
        ls->v = realloc(ls->v, ls->cap * sizeof(*ls->v));
        assert_non_null(ls->v);
    }
    line_t *l = &ls->v[ls->n++];
    l->data = malloc(n + 1);
    assert_non_null(l->data);
    memcpy(l->data, p, n);
    l->data[n] = '\0';
    l->n = n;
    l->truncated = truncated;
}

static void lines_clear(lines_t *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        free(ls->v[i].data);
    free(ls->v);
    memset(ls, 0, sizeof(*ls));
}

static void on_line(void *arg, const char *line, size_t n, bool truncated)
{
    lines_add(arg, line, n, truncated);
}

static void assert_lines_equal(const lines_t *got, const lines_t *want, const char *what)
{
    if (got->n != want->n)
        fail_msg("%s: %zu lines, want %zu", what, got->n, want->n);
    for (size_t i = 0; i < got->n; i++) {
        const line_t *g = &got->v[i], *w = &want->v[i];
        if (g->n != w->n || memcmp(g->data, w->data, g->n) != 0 || g->truncated != w->truncated)
            fail_msg("%s: line %zu: got %zu bytes '%.*s'%s, want %zu bytes '%.*s'%s", what, i, g->n,
                     (int)g->n, g->data, g->truncated ? " (truncated)" : "", w->n, (int)w->n,
                     w->data, w->truncated ? " (truncated)" : "");
    }
}

/* ---- the reference model ---- */

static bool is_cont(unsigned char c) { return (c & 0xc0) == 0x80; }

/* Where an over-long line is cut: the last character start at or before
 * max_line, looking back at most 3 bytes; max_line if there is none. */
static size_t ref_cut(const char *l, size_t max_line)
{
    for (size_t k = max_line + 1; k-- > 0 && k + 3 >= max_line;)
        if (!is_cont((unsigned char)l[k]))
            return k;
    return max_line;
}

static void ref_line(lines_t *out, const char *l, size_t n, size_t max_line)
{
    size_t c = n > 0 && l[n - 1] == '\r' ? n - 1 : n;
    if (c <= max_line)
        lines_add(out, l, c, false);
    else
        lines_add(out, l, ref_cut(l, max_line), true);
}

/* What the reader must deliver for `in`, finish included. */
static void reference(lines_t *out, const char *in, size_t n, size_t max_line)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\n') {
            ref_line(out, in + start, i - start, max_line);
            start = i + 1;
        }
    }
    if (start < n)
        ref_line(out, in + start, n - start, max_line);
}

/* Feeds `in` cut at the given points, then finishes. */
static void run_split(lines_t *got, const char *in, size_t n, size_t max_line, size_t chunk,
                      const size_t *cuts, size_t ncuts)
{
    plume_line_reader_t r;
    assert_true(plume_line_reader_init(&r, max_line, chunk));
    size_t pos = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        plume_line_reader_feed(&r, in + pos, to - pos, on_line, got);
        pos = to;
    }
    plume_line_reader_finish(&r, on_line, got);
    plume_line_reader_free(&r);
}

/* ---- tests ---- */

static void basic_lines(void **state)
{
    (void)state;
    lines_t got = {0};
    const char in[] = "alpha\nbeta\n\ngamma";
    run_split(&got, in, sizeof(in) - 1, 64, 16, NULL, 0);
    assert_int_equal(got.n, 4);
    assert_string_equal(got.v[0].data, "alpha");
    assert_string_equal(got.v[1].data, "beta");
    assert_int_equal(got.v[2].n, 0);
    assert_string_equal(got.v[3].data, "gamma");
    for (size_t i = 0; i < got.n; i++)
        assert_false(got.v[i].truncated);
    lines_clear(&got);
}

/* A line is delivered as soon as its '\n' arrives, not later. */
static void delivered_on_newline(void **state)
{
    (void)state;
    lines_t got = {0};
    plume_line_reader_t r;
    assert_true(plume_line_reader_init(&r, 64, 16));
    plume_line_reader_feed(&r, "abc", 3, on_line, &got);
    assert_int_equal(got.n, 0);
    plume_line_reader_feed(&r, "d\nef", 4, on_line, &got);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.v[0].data, "abcd");
    plume_line_reader_feed(&r, "", 0, on_line, &got);
    assert_int_equal(got.n, 1);
    plume_line_reader_finish(&r, on_line, &got);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.v[1].data, "ef");
    /* finish twice, or with nothing held, delivers nothing. */
    plume_line_reader_finish(&r, on_line, &got);
    assert_int_equal(got.n, 2);
    plume_line_reader_free(&r);
    lines_clear(&got);
}

static const char split_input[] = "short\n"
                                  "crlf line\r\n"
                                  "\r\n"
                                  "nul\0inside\n"
                                  "exactly-12ch\n"
                                  "exactly-12ch\r\n"
                                  "thirteen-char\n"
                                  "caf\xc3\xa9-caf\xc3\xa9-caf\xc3\xa9\n"
                                  "\n"
                                  "lone\rcr\n"
                                  "this one is far longer than twelve bytes\n"
                                  "last";

/* Every way of cutting the input into two and three feeds gives the same
 * lines as one feed, and as the reference. */
static void every_split_point(void **state)
{
    (void)state;
    const size_t n = sizeof(split_input) - 1, max_line = 12;
    lines_t want = {0};
    reference(&want, split_input, n, max_line);
    assert_int_equal(want.n, 12);
    assert_false(want.v[4].truncated); /* exactly max_line */
    assert_false(want.v[5].truncated); /* exactly max_line, CRLF */
    assert_true(want.v[6].truncated);  /* max_line + 1 */

    lines_t got = {0};
    run_split(&got, split_input, n, max_line, 4, NULL, 0);
    assert_lines_equal(&got, &want, "whole");
    lines_clear(&got);

    for (size_t i = 0; i <= n; i++) {
        size_t cuts1[1] = {i};
        run_split(&got, split_input, n, max_line, 4, cuts1, 1);
        assert_lines_equal(&got, &want, "one cut");
        lines_clear(&got);
        for (size_t j = i; j <= n; j++) {
            size_t cuts2[2] = {i, j};
            run_split(&got, split_input, n, max_line, 1 + (i + j) % 7, cuts2, 2);
            assert_lines_equal(&got, &want, "two cuts");
            lines_clear(&got);
        }
    }
    /* One byte at a time. */
    size_t cuts[sizeof(split_input)];
    for (size_t i = 0; i < n; i++)
        cuts[i] = i;
    run_split(&got, split_input, n, max_line, 1, cuts, n);
    assert_lines_equal(&got, &want, "bytewise");
    lines_clear(&got);
    lines_clear(&want);
}

static void crlf(void **state)
{
    (void)state;
    lines_t got = {0};
    const char in[] = "a\r\n\r\nb\r\r\nc\rd\n\r\r\ne\r";
    run_split(&got, in, sizeof(in) - 1, 64, 8, NULL, 0);
    assert_int_equal(got.n, 6);
    assert_string_equal(got.v[0].data, "a");
    assert_int_equal(got.v[1].n, 0);
    assert_string_equal(got.v[2].data, "b\r"); /* only one '\r' is removed */
    assert_string_equal(got.v[3].data, "c\rd");
    assert_string_equal(got.v[4].data, "\r");
    assert_string_equal(got.v[5].data, "e"); /* final line, at finish */
    lines_clear(&got);
}

static void nul_bytes_are_ordinary(void **state)
{
    (void)state;
    lines_t got = {0};
    const char in[] = "\0a\0b\0\n\0\n";
    run_split(&got, in, sizeof(in) - 1, 64, 8, NULL, 0);
    assert_int_equal(got.n, 2);
    assert_int_equal(got.v[0].n, 5);
    assert_memory_equal(got.v[0].data, "\0a\0b\0", 5);
    assert_int_equal(got.v[1].n, 1);
    assert_int_equal(got.v[1].data[0], '\0');
    lines_clear(&got);
}

static void max_line_boundaries(void **state)
{
    (void)state;
    const size_t max_line = 8;
    lines_t got = {0};
    plume_line_reader_t r;

    /* Exactly max_line: whole, with LF or CRLF, also as the final line. */
    const char exact[] = "12345678\n12345678\r\nabcdefgh";
    run_split(&got, exact, sizeof(exact) - 1, max_line, 1, NULL, 0);
    assert_int_equal(got.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(got.v[i].n, 8);
        assert_false(got.v[i].truncated);
    }
    assert_string_equal(got.v[2].data, "abcdefgh");
    lines_clear(&got);

    /* max_line + 1: cut at max_line, the one extra byte skipped, the next line
     * intact. */
    assert_true(plume_line_reader_init(&r, max_line, 1));
    const char over[] = "123456789\nnext\n12345678\r\r\nz\n";
    plume_line_reader_feed(&r, over, sizeof(over) - 1, on_line, &got);
    assert_int_equal(got.n, 4);
    assert_string_equal(got.v[0].data, "12345678");
    assert_true(got.v[0].truncated);
    assert_string_equal(got.v[1].data, "next");
    assert_false(got.v[1].truncated);
    /* 8 bytes + "\r\r": one '\r' too many for a CRLF line. */
    assert_string_equal(got.v[2].data, "12345678");
    assert_true(got.v[2].truncated);
    assert_string_equal(got.v[3].data, "z");
    assert_int_equal(r.skipped_bytes, 1 + 2);
    plume_line_reader_finish(&r, on_line, &got);
    assert_int_equal(got.n, 4);
    plume_line_reader_free(&r);
    lines_clear(&got);

    /* A final line longer than max_line is cut when it arrives; finish adds
     * nothing more. */
    assert_true(plume_line_reader_init(&r, max_line, 4));
    plume_line_reader_feed(&r, "abcdefghijkl", 12, on_line, &got);
    assert_int_equal(got.n, 1);
    assert_true(got.v[0].truncated);
    plume_line_reader_finish(&r, on_line, &got);
    assert_int_equal(got.n, 1);
    /* and the reader starts clean afterwards */
    plume_line_reader_feed(&r, "ok\n", 3, on_line, &got);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.v[1].data, "ok");
    plume_line_reader_free(&r);
    lines_clear(&got);

    /* A final line of max_line bytes plus '\r' waits for finish, whole. */
    assert_true(plume_line_reader_init(&r, max_line, 1));
    plume_line_reader_feed(&r, "abcdefgh\r", 9, on_line, &got);
    assert_int_equal(got.n, 0);
    plume_line_reader_finish(&r, on_line, &got);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.v[0].data, "abcdefgh");
    assert_false(got.v[0].truncated);
    plume_line_reader_free(&r);
    lines_clear(&got);
}

/* 1 MiB line fed 7 bytes at a time: cut once (as soon as it is known to be
 * too long), the rest skipped without growing the buffer, the next line
 * intact. */
static void huge_line_in_small_chunks(void **state)
{
    (void)state;
    const size_t max_line = 64, huge = 1u << 20;
    lines_t got = {0};
    plume_line_reader_t r;
    assert_true(plume_line_reader_init(&r, max_line, 16));
    char *buf0 = r.buf;
    size_t cap0 = r.cap;
    assert_true(cap0 <= max_line + 1 + 16);

    plume_line_reader_feed(&r, "start\n", 6, on_line, &got);
    char chunk[7];
    memset(chunk, 'x', sizeof(chunk));
    size_t fed = 0;
    while (fed < huge) {
        size_t n = huge - fed < sizeof(chunk) ? huge - fed : sizeof(chunk);
        plume_line_reader_feed(&r, chunk, n, on_line, &got);
        fed += n;
        assert_ptr_equal(r.buf, buf0);
        assert_int_equal(r.cap, cap0);
        assert_true(r.len <= r.cap);
        if (fed == 70) /* past max_line + 1: already delivered */
            assert_int_equal(got.n, 2);
    }
    plume_line_reader_feed(&r, "\r\nafter\n", 8, on_line, &got);
    assert_int_equal(got.n, 3);
    assert_string_equal(got.v[0].data, "start");
    assert_int_equal(got.v[1].n, max_line);
    assert_true(got.v[1].truncated);
    for (size_t i = 0; i < max_line; i++)
        assert_int_equal(got.v[1].data[i], 'x');
    assert_string_equal(got.v[2].data, "after");
    assert_false(got.v[2].truncated);
    assert_true(r.skipped_bytes == huge - max_line + 1); /* the x's and the '\r' */
    plume_line_reader_finish(&r, on_line, &got);
    assert_int_equal(got.n, 3);
    plume_line_reader_free(&r);
    lines_clear(&got);

    /* Fed in one call, the same. */
    char *big = malloc(huge + 10);
    assert_non_null(big);
    memset(big, 'y', huge);
    memcpy(big + huge, "\nnext\n", 6);
    assert_true(plume_line_reader_init(&r, max_line, 4096));
    plume_line_reader_feed(&r, big, huge + 6, on_line, &got);
    assert_int_equal(got.n, 2);
    assert_true(got.v[0].truncated);
    assert_int_equal(got.v[0].n, max_line);
    assert_string_equal(got.v[1].data, "next");
    plume_line_reader_free(&r);
    lines_clear(&got);
    free(big);
}

static void utf8_backoff(void **state)
{
    (void)state;
    const struct {
        const char *in;
        const char *want; /* the truncated line */
    } cases[] = {
        /* 2-byte character split by the cut: dropped whole. */
        {"abcdefg\xc3\xa9zz\n", "abcdefg"},
        /* ends exactly at the cut: kept. */
        {"abcdef\xc3\xa9zz\n", "abcdef\xc3\xa9"},
        /* 3-byte character cut after 1 or 2 of its bytes. */
        {"abcdefg\xe2\x82\xacz\n", "abcdefg"},
        {"abcdef\xe2\x82\xacz\n", "abcdef"},
        {"abcde\xe2\x82\xacz\n", "abcde\xe2\x82\xac"},
        /* 4-byte character cut after 1, 2 or 3 of its bytes. */
        {"abcdefg\xf0\x9f\x98\x80z\n", "abcdefg"},
        {"abcdef\xf0\x9f\x98\x80z\n", "abcdef"},
        {"abcde\xf0\x9f\x98\x80z\n", "abcde"},
        {"abcd\xf0\x9f\x98\x80z\n", "abcd\xf0\x9f\x98\x80"},
        /* Not UTF-8 at all (a run of continuation bytes): cut at max_line. */
        {"abcd\x80\x80\x80\x80\x80\x80\n", "abcd\x80\x80\x80\x80"},
        /* A lead byte right at the cut: nothing to back off. */
        {"abcdefgh\xc3\xa9\n", "abcdefgh"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lines_t got = {0};
        char text[64];
        size_t n = strlen(cases[i].in);
        memcpy(text, cases[i].in, n);
        memcpy(text + n, "next\n", 5);
        run_split(&got, text, n + 5, 8, 3, NULL, 0);
        if (got.n != 2)
            fail_msg("case %zu: %zu lines", i, got.n);
        assert_true(got.v[0].truncated);
        if (strcmp(got.v[0].data, cases[i].want) != 0)
            fail_msg("case %zu: cut to '%s', want '%s'", i, got.v[0].data, cases[i].want);
        assert_string_equal(got.v[1].data, "next");
        assert_false(got.v[1].truncated);
        lines_clear(&got);
    }
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random lines around max_line in length, built from ASCII, '\r', NUL and
 * pieces of UTF-8, fed in random chunks with a random read size. */
static void random_against_reference(void **state)
{
    (void)state;
    static const unsigned char alphabet[] = {'a', 'b', '\r', '\0', 0xc3, 0xa9, 0xe2, 0x82,
                                             0xac, 0xf0, 0x9f, 0x98, 0x80, ' ', '{', '"'};
    uint64_t seed = 0x243f6a8885a308d3ull;
    char *in = malloc(8192);
    assert_non_null(in);
    for (int round = 0; round < 2000; round++) {
        size_t max_line = (size_t)(next_rand(&seed) % 20) + 4;
        size_t n = 0;
        int nlines = (int)(next_rand(&seed) % 40);
        for (int l = 0; l < nlines; l++) {
            size_t len = (size_t)(next_rand(&seed) % (3 * max_line));
            if (next_rand(&seed) % 4 == 0)
                len = max_line + (size_t)(next_rand(&seed) % 3); /* near the limit */
            for (size_t k = 0; k < len; k++)
                in[n++] = (char)alphabet[next_rand(&seed) % sizeof(alphabet)];
            if (next_rand(&seed) % 3 == 0)
                in[n++] = '\r';
            if (l < nlines - 1 || next_rand(&seed) % 2)
                in[n++] = '\n';
        }
        lines_t want = {0}, got = {0};
        reference(&want, in, n, max_line);
        size_t cuts[64], ncuts = 0;
        size_t at = 0;
        while (ncuts < 64 && n > 0) {
            at += (size_t)(next_rand(&seed) % (2 * max_line + 2));
            if (at >= n)
                break;
            cuts[ncuts++] = at;
        }
        size_t chunk = (size_t)(next_rand(&seed) % 16) + 1;
        run_split(&got, in, n, max_line, chunk, cuts, ncuts);
        char what[64];
        snprintf(what, sizeof(what), "round %d (max_line %zu, chunk %zu)", round, max_line, chunk);
        assert_lines_equal(&got, &want, what);
        /* No delivered line is ever longer than max_line. */
        for (size_t i = 0; i < got.n; i++)
            assert_true(got.v[i].n <= max_line);
        lines_clear(&want);
        lines_clear(&got);
    }
    free(in);
}

/* ---- reading from a file descriptor ---- */

typedef struct writer {
    int fd;
    const char *data;
    size_t len;
} writer_t;

static void *write_all(void *arg)
{
    writer_t *w = arg;
    size_t off = 0;
    while (off < w->len) {
        size_t n = w->len - off < 3000 ? w->len - off : 3000; /* odd-sized writes */
        ssize_t k = write(w->fd, w->data + off, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        off += (size_t)k;
    }
    close(w->fd);
    return NULL;
}

static void read_from_pipe(void **state)
{
    (void)state;
    const size_t max_line = 100;
    /* Many ordinary lines, one of 300 KB, CRLF, and a final line without '\n':
     * more than a pipe holds, so the writer runs in a thread. */
    plume_buf_t in;
    plume_buf_init(&in, 0);
    for (int i = 0; i < 3000; i++) {
        plume_buf_printf(&in, "line %d %.*s\n", i, i % 120, "0123456789012345678901234567890123456789"
                                                           "0123456789012345678901234567890123456789"
                                                           "0123456789012345678901234567890123456789");
        if (i == 1500) {
            for (int k = 0; k < 300000; k++)
                plume_buf_append_byte(&in, (uint8_t)('a' + k % 26));
            plume_buf_append_str(&in, "\r\n");
        }
        if (i % 7 == 0)
            plume_buf_append_str(&in, "crlf\r\n");
    }
    plume_buf_append_str(&in, "the end");
    assert_false(in.failed);

    lines_t want = {0}, got = {0};
    reference(&want, (const char *)in.data, in.len, max_line);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    writer_t w = {fds[1], (const char *)in.data, in.len};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, write_all, &w), 0);

    plume_line_reader_t r;
    assert_true(plume_line_reader_init(&r, max_line, 512));
    size_t total = 0;
    for (;;) {
        ssize_t n = plume_line_reader_read(&r, fds[0], on_line, &got);
        assert_true(n >= 0);
        if (n == 0)
            break;
        assert_true((size_t)n <= 512 + max_line + 1);
        total += (size_t)n;
    }
    plume_line_reader_finish(&r, on_line, &got);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(total, in.len);
    assert_lines_equal(&got, &want, "pipe");
    assert_string_equal(got.v[got.n - 1].data, "the end");

    /* At end of file, read keeps returning 0. */
    assert_int_equal(plume_line_reader_read(&r, fds[0], on_line, &got), 0);
    close(fds[0]);
    plume_line_reader_free(&r);
    lines_clear(&want);
    lines_clear(&got);
    plume_buf_free(&in);
}

static void read_errors(void **state)
{
    (void)state;
    lines_t got = {0};
    plume_line_reader_t r;
    assert_true(plume_line_reader_init(&r, 32, 8));
    int fds[2];
    assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
    /* Nothing written yet. */
    assert_int_equal(plume_line_reader_read(&r, fds[0], on_line, &got), -EAGAIN);
    /* A partial line is held across reads. */
    assert_int_equal(write(fds[1], "par", 3), 3);
    assert_int_equal(plume_line_reader_read(&r, fds[0], on_line, &got), 3);
    assert_int_equal(got.n, 0);
    assert_int_equal(write(fds[1], "tial\nx", 6), 6);
    assert_int_equal(plume_line_reader_read(&r, fds[0], on_line, &got), 6);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.v[0].data, "partial");
    close(fds[1]);
    assert_int_equal(plume_line_reader_read(&r, fds[0], on_line, &got), 0);
    plume_line_reader_finish(&r, on_line, &got);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.v[1].data, "x");
    close(fds[0]);
    /* A closed descriptor. */
    assert_int_equal(plume_line_reader_read(&r, fds[0], on_line, &got), -EBADF);
    assert_int_equal(got.n, 2);
    plume_line_reader_free(&r);
    lines_clear(&got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(basic_lines),
        cmocka_unit_test(delivered_on_newline),
        cmocka_unit_test(every_split_point),
        cmocka_unit_test(crlf),
        cmocka_unit_test(nul_bytes_are_ordinary),
        cmocka_unit_test(max_line_boundaries),
        cmocka_unit_test(huge_line_in_small_chunks),
        cmocka_unit_test(utf8_backoff),
        cmocka_unit_test(random_against_reference),
        cmocka_unit_test(read_from_pipe),
        cmocka_unit_test(read_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
