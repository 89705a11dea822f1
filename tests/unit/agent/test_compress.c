/* SPDX-License-Identifier: MIT */
/* Compression: codec names, round trips at several sizes and levels, context
 * reuse, streams made by the gzip(1)/zstd(1) tools, concatenated members and
 * frames, corrupt and truncated input, decompression bombs stopped at the
 * output maximum, output maximum on compression, concurrent one-shot use. */
#include "test_support.h"
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"

/* `printf 'hello\n' | gzip -n -9` and `printf 'hello\n' | zstd`. */
static const uint8_t gzip_hello[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
                                     0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xe7, 0x02, 0x00,
                                     0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00};
static const uint8_t zstd_hello[] = {0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x31, 0x00, 0x00, 0x68,
                                     0x65, 0x6c, 0x6c, 0x6f, 0x0a, 0x53, 0x88, 0xbd, 0x91};

/* Log-like text that compresses reasonably but not trivially. */
static uint8_t *make_text(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    uint64_t x = 1;
    static const char *const words[] = {"level", "info", "request", "GET", "/api/v1/items",
                                        "took", "ms", "user", "\n", "{\"k\":"};
    size_t i = 0;
    while (i < n) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const char *w = (x >> 60) < 10 ? words[x >> 60] : "7";
        for (size_t j = 0; w[j] && i < n; j++)
            p[i++] = (uint8_t)w[j];
        if (i < n)
            p[i++] = (uint8_t)('0' + (x >> 40) % 10);
    }
    return p;
}

static void codec_names(void **state)
{
    (void)state;
    plume_codec_t c;
    assert_string_equal(plume_codec_name(PLUME_CODEC_NONE), "none");
    assert_string_equal(plume_codec_name(PLUME_CODEC_GZIP), "gzip");
    assert_string_equal(plume_codec_name(PLUME_CODEC_ZSTD), "zstd");
    assert_true(plume_codec_parse("zstd", &c));
    assert_int_equal(c, PLUME_CODEC_ZSTD);
    assert_true(plume_codec_parse("GZIP", &c));
    assert_int_equal(c, PLUME_CODEC_GZIP);
    assert_true(plume_codec_parse("none", &c));
    assert_int_equal(c, PLUME_CODEC_NONE);
    assert_false(plume_codec_parse("br", &c));
    assert_false(plume_codec_parse("", &c));
    assert_false(plume_codec_parse("gzip ", &c));
    assert_false(plume_codec_parse(NULL, &c));
    assert_null(plume_codec_content_encoding(PLUME_CODEC_NONE));
    assert_string_equal(plume_codec_content_encoding(PLUME_CODEC_GZIP), "gzip");
    assert_string_equal(plume_codec_content_encoding(PLUME_CODEC_ZSTD), "zstd");
}

/* Compresses with `z` (or the one-shot API when NULL), checks the magic
 * bytes, decompresses and compares. Output is appended after a prefix to
 * check that existing content is kept. */
static void round_trip(plume_compressor_t *z, plume_codec_t c, int level, const uint8_t *in,
                       size_t n)
{
    plume_buf_t comp, plain;
    plume_buf_init(&comp, 0);
    plume_buf_init(&plain, 0);
    plume_buf_append(&comp, "pre", 3);
    bool ok = z ? plume_compressor_compress(z, c, level, in, n, &comp)
                : plume_compress(c, level, in, n, &comp);
    assert_true(ok);
    assert_memory_equal(comp.data, "pre", 3);
    if (c == PLUME_CODEC_GZIP)
        assert_memory_equal(comp.data + 3, "\x1f\x8b", 2);
    if (c == PLUME_CODEC_ZSTD)
        assert_memory_equal(comp.data + 3, "\x28\xb5\x2f\xfd", 4);
    plume_buf_append(&plain, "x", 1);
    ok = z ? plume_compressor_decompress(z, c, comp.data + 3, comp.len - 3, &plain)
           : plume_decompress(c, comp.data + 3, comp.len - 3, &plain);
    assert_true(ok);
    assert_int_equal(plain.len, n + 1);
    if (n)
        assert_memory_equal(plain.data + 1, in, n);
    plume_buf_free(&comp);
    plume_buf_free(&plain);
}

static void round_trips(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 100, 65536, 65537, 3 * 1024 * 1024};
    static const int levels[] = {0, 1, 9, 19, -5, 100, -1000000};
    uint8_t *text = make_text(3 * 1024 * 1024);
    plume_compressor_t *z = plume_compressor_new();
    assert_non_null(z);
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
            if (sizes[s] > 65537 && (levels[l] == 19 || levels[l] == 100))
                continue; /* slow and adds nothing */
            round_trip(z, PLUME_CODEC_GZIP, levels[l], text, sizes[s]);
            round_trip(z, PLUME_CODEC_ZSTD, levels[l], text, sizes[s]);
            round_trip(NULL, PLUME_CODEC_GZIP, levels[l], text, sizes[s]);
            round_trip(NULL, PLUME_CODEC_ZSTD, levels[l], text, sizes[s]);
        }
        round_trip(z, PLUME_CODEC_NONE, 0, text, sizes[s]);
    }
    plume_compressor_free(z);
    free(text);
}

/* A reused compressor gives the same bytes as a fresh one, and the level
 * actually changes the output. */
static void reuse_is_deterministic(void **state)
{
    (void)state;
    uint8_t *text = make_text(200000);
    plume_compressor_t *a = plume_compressor_new(), *b = plume_compressor_new();
    plume_buf_t x, y, fast, best;
    plume_buf_init(&x, 0);
    plume_buf_init(&y, 0);
    plume_buf_init(&fast, 0);
    plume_buf_init(&best, 0);
    for (int i = 0; i < 5; i++) {
        plume_buf_reset(&x);
        assert_true(plume_compressor_compress(a, PLUME_CODEC_GZIP, 9, text, 1000, &x));
        assert_true(plume_compressor_compress(a, PLUME_CODEC_ZSTD, 3, text, 200000, &x));
        assert_true(plume_compressor_compress(a, PLUME_CODEC_GZIP, 1, text, 200000, &x));
    }
    assert_true(plume_compressor_compress(b, PLUME_CODEC_GZIP, 9, text, 1000, &y));
    assert_true(plume_compressor_compress(b, PLUME_CODEC_ZSTD, 3, text, 200000, &y));
    assert_true(plume_compressor_compress(b, PLUME_CODEC_GZIP, 1, text, 200000, &y));
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);
    assert_true(plume_compressor_compress(a, PLUME_CODEC_GZIP, 1, text, 200000, &fast));
    assert_true(plume_compressor_compress(a, PLUME_CODEC_GZIP, 9, text, 200000, &best));
    assert_true(best.len < fast.len);
    plume_buf_free(&x);
    plume_buf_free(&y);
    plume_buf_free(&fast);
    plume_buf_free(&best);
    plume_compressor_free(a);
    plume_compressor_free(b);
    free(text);
}

static void decodes_reference_tools(void **state)
{
    (void)state;
    plume_buf_t out;
    plume_buf_init(&out, 0);
    assert_true(plume_decompress(PLUME_CODEC_GZIP, gzip_hello, sizeof(gzip_hello), &out));
    assert_int_equal(out.len, 6);
    assert_memory_equal(out.data, "hello\n", 6);
    plume_buf_reset(&out);
    assert_true(plume_decompress(PLUME_CODEC_ZSTD, zstd_hello, sizeof(zstd_hello), &out));
    assert_int_equal(out.len, 6);
    assert_memory_equal(out.data, "hello\n", 6);
    plume_buf_free(&out);
}

static void concatenated_members(void **state)
{
    (void)state;
    plume_codec_t codecs[] = {PLUME_CODEC_GZIP, PLUME_CODEC_ZSTD};
    for (int c = 0; c < 2; c++) {
        plume_buf_t comp, out;
        plume_buf_init(&comp, 0);
        plume_buf_init(&out, 0);
        assert_true(plume_compress(codecs[c], 0, "first,", 6, &comp));
        assert_true(plume_compress(codecs[c], 0, "", 0, &comp));
        assert_true(plume_compress(codecs[c], 9, "second,", 7, &comp));
        const uint8_t *ref = c == 0 ? gzip_hello : zstd_hello;
        plume_buf_append(&comp, ref, c == 0 ? sizeof(gzip_hello) : sizeof(zstd_hello));
        assert_true(plume_decompress(codecs[c], comp.data, comp.len, &out));
        assert_int_equal(out.len, 19);
        assert_memory_equal(out.data, "first,second,hello\n", 19);
        plume_buf_free(&comp);
        plume_buf_free(&out);
    }
}

/* Every corruption is refused with the output untouched and `failed` clear
 * (it is not a size problem). */
static void expect_corrupt(plume_codec_t c, const uint8_t *p, size_t n)
{
    plume_buf_t out;
    plume_buf_init(&out, 0);
    plume_buf_append(&out, "keep", 4);
    assert_false(plume_decompress(c, p, n, &out));
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, "keep", 4);
    assert_false(out.failed);
    plume_buf_free(&out);
}

static void corrupt_input_rejected(void **state)
{
    (void)state;
    plume_codec_t codecs[] = {PLUME_CODEC_GZIP, PLUME_CODEC_ZSTD};
    uint8_t *text = make_text(50000);
    for (int c = 0; c < 2; c++) {
        plume_buf_t comp;
        plume_buf_init(&comp, 0);
        assert_true(plume_compress(codecs[c], 0, text, 50000, &comp));
        expect_corrupt(codecs[c], comp.data, 0);                  /* empty */
        expect_corrupt(codecs[c], (const uint8_t *)"garbage!", 8); /* no magic */
        for (size_t cut = 1; cut < comp.len; cut += 1 + cut / 4)  /* truncated */
            expect_corrupt(codecs[c], comp.data, cut);
        uint8_t *bad = malloc(comp.len + 4);
        memcpy(bad, comp.data, comp.len);
        memcpy(bad + comp.len, "junk", 4); /* trailing garbage */
        expect_corrupt(codecs[c], bad, comp.len + 4);
        if (codecs[c] == PLUME_CODEC_GZIP) {
            memcpy(bad, comp.data, comp.len);
            bad[comp.len - 5] ^= 0x01; /* CRC-32 */
            expect_corrupt(codecs[c], bad, comp.len);
            memcpy(bad, comp.data, comp.len);
            bad[comp.len - 1] ^= 0x01; /* ISIZE */
            expect_corrupt(codecs[c], bad, comp.len);
        }
        /* A flipped bit anywhere in the body: gzip has its CRC-32, our zstd
         * frames carry a content checksum. */
        for (size_t at = 20; at + 20 < comp.len; at += comp.len / 7) {
            memcpy(bad, comp.data, comp.len);
            bad[at] ^= 0x10;
            expect_corrupt(codecs[c], bad, comp.len);
        }
        memcpy(bad, comp.data, comp.len);
        bad[0] ^= 0xff; /* magic */
        expect_corrupt(codecs[c], bad, comp.len);
        free(bad);
        plume_buf_free(&comp);
    }
    free(text);
}

/* 64 MiB of zeros compress to a few dozen KiB; decompression must stop at
 * the output maximum (quickly, without allocating past it). */
static void bomb_is_bounded(void **state)
{
    (void)state;
    const size_t big = 64u * 1024 * 1024;
    uint8_t *zeros = calloc(1, big);
    assert_non_null(zeros);
    plume_codec_t codecs[] = {PLUME_CODEC_GZIP, PLUME_CODEC_ZSTD};
    for (int c = 0; c < 2; c++) {
        plume_buf_t comp, out;
        plume_buf_init(&comp, 0);
        assert_true(plume_compress(codecs[c], 1, zeros, big, &comp));
        assert_true(comp.len < big / 100);
        plume_buf_init(&out, 1024 * 1024);
        plume_buf_append(&out, "keep", 4);
        assert_false(plume_decompress(codecs[c], comp.data, comp.len, &out));
        assert_true(out.failed);
        assert_int_equal(out.len, 4);
        assert_true(out.cap <= 1024 * 1024);
        plume_buf_free(&out);
        plume_buf_free(&comp);
    }
    free(zeros);
}

/* Output of exactly out->max fits; one byte less does not. */
static void exact_fit(void **state)
{
    (void)state;
    uint8_t *text = make_text(100000);
    plume_codec_t codecs[] = {PLUME_CODEC_GZIP, PLUME_CODEC_ZSTD, PLUME_CODEC_NONE};
    for (int c = 0; c < 3; c++) {
        plume_buf_t comp, out;
        plume_buf_init(&comp, 0);
        assert_true(plume_compress(codecs[c], 0, text, 100000, &comp));
        plume_buf_init(&out, 100000);
        assert_true(plume_decompress(codecs[c], comp.data, comp.len, &out));
        assert_int_equal(out.len, 100000);
        assert_memory_equal(out.data, text, 100000);
        assert_false(out.failed);
        plume_buf_free(&out);
        plume_buf_init(&out, 99999);
        assert_false(plume_decompress(codecs[c], comp.data, comp.len, &out));
        assert_true(out.failed);
        assert_int_equal(out.len, 0);
        plume_buf_free(&out);

        /* Compression into a buffer too small for the result. */
        size_t need = comp.len;
        plume_buf_init(&out, need - 1);
        assert_false(plume_compress(codecs[c], 0, text, 100000, &out));
        assert_true(out.failed);
        assert_int_equal(out.len, 0);
        plume_buf_free(&out);
        plume_buf_init(&out, need);
        assert_true(plume_compress(codecs[c], 0, text, 100000, &out));
        assert_int_equal(out.len, need);
        plume_buf_free(&out);
        plume_buf_free(&comp);
    }
    free(text);
}

static void *thread_main(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    uint8_t *text = make_text(20000 + id * 1000);
    bool ok = true;
    for (int i = 0; i < 50 && ok; i++) {
        plume_codec_t c = (i + id) % 2 ? PLUME_CODEC_GZIP : PLUME_CODEC_ZSTD;
        size_t n = 20000 + id * 1000;
        plume_buf_t comp, out;
        plume_buf_init(&comp, 0);
        plume_buf_init(&out, 0);
        ok = plume_compress(c, (int)(i % 4), text, n, &comp) &&
             plume_decompress(c, comp.data, comp.len, &out) && out.len == n &&
             memcmp(out.data, text, n) == 0;
        plume_buf_free(&comp);
        plume_buf_free(&out);
    }
    free(text);
    return ok ? arg : NULL;
}

/* The one-shot API keeps one compressor per thread: concurrent use is safe
 * and each thread's compressor is freed when it exits (checked by ASan). */
static void threads_use_private_contexts(void **state)
{
    (void)state;
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, thread_main, (void *)(i + 1)), 0);
    for (uintptr_t i = 0; i < 4; i++) {
        void *ret;
        assert_int_equal(pthread_join(t[i], &ret), 0);
        assert_ptr_equal(ret, (void *)(i + 1));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codec_names),
        cmocka_unit_test(round_trips),
        cmocka_unit_test(reuse_is_deterministic),
        cmocka_unit_test(decodes_reference_tools),
        cmocka_unit_test(concatenated_members),
        cmocka_unit_test(corrupt_input_rejected),
        cmocka_unit_test(bomb_is_bounded),
        cmocka_unit_test(exact_fit),
        cmocka_unit_test(threads_use_private_contexts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
