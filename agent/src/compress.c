/* SPDX-License-Identifier: MIT */
/* gzip (zlib) and zstd compression with reusable contexts, and decompression
 * bounded by the output buffer's maximum. See compress.h.
 *
 * All four directions follow the same loop: make room in the output buffer
 * (never past its maximum), run the codec, account for what it wrote, and
 * decide from the codec's return value and whether any progress was made if
 * the stream is done, needs more room, or is broken. */
#include "compress.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#define GROW_STEP (64u * 1024u)

struct plume_compressor {
    z_stream def;
    bool def_ready;
    int def_level;
    z_stream inf;
    bool inf_ready;
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
};

const char *plume_codec_name(plume_codec_t c)
{
    switch (c) {
    case PLUME_CODEC_NONE: return "none";
    case PLUME_CODEC_GZIP: return "gzip";
    case PLUME_CODEC_ZSTD: return "zstd";
    }
    return "?";
}

bool plume_codec_parse(const char *s, plume_codec_t *out)
{
    static const plume_codec_t all[] = {PLUME_CODEC_NONE, PLUME_CODEC_GZIP, PLUME_CODEC_ZSTD};
    if (!s)
        return false;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcasecmp(s, plume_codec_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    }
    return false;
}

const char *plume_codec_content_encoding(plume_codec_t c)
{
    switch (c) {
    case PLUME_CODEC_GZIP: return "gzip";
    case PLUME_CODEC_ZSTD: return "zstd";
    default: return NULL;
    }
}

plume_compressor_t *plume_compressor_new(void)
{
    return calloc(1, sizeof(plume_compressor_t));
}

/* Releases the codec state held by `z` but not `z` itself. */
static void compressor_clear(plume_compressor_t *z)
{
    if (z->def_ready)
        deflateEnd(&z->def);
    if (z->inf_ready)
        inflateEnd(&z->inf);
    ZSTD_freeCCtx(z->cctx);
    ZSTD_freeDCtx(z->dctx);
    memset(z, 0, sizeof(*z));
}

void plume_compressor_free(plume_compressor_t *z)
{
    if (!z)
        return;
    compressor_clear(z);
    free(z);
}

/* Makes room for up to `want` more bytes (at least 1 when possible, never
 * past out->max) and returns how many bytes may be written at data + len.
 * Returns 0 when the buffer is at its maximum or memory ran out. */
static size_t out_space(plume_buf_t *out, size_t want)
{
    size_t limit = out->max - out->len;
    if (want > limit)
        want = limit;
    if (want == 0)
        want = limit ? 1 : 0;
    if (want && out->cap - out->len < want && !plume_buf_reserve(out, want))
        return 0;
    size_t cap = out->cap < out->max ? out->cap : out->max;
    return cap - out->len;
}

/* Restores `out` after a failure; `full` marks it as a size/memory failure. */
static bool fail(plume_buf_t *out, size_t start, bool full)
{
    out->len = start;
    if (full)
        out->failed = true;
    return false;
}

static size_t next_want(size_t produced)
{
    return produced > GROW_STEP ? produced : GROW_STEP;
}

static bool gzip_compress(plume_compressor_t *z, int level, const void *in, size_t n,
                          plume_buf_t *out)
{
    if (level == 0)
        level = 6;
    level = level < 1 ? 1 : level > 9 ? 9 : level;
    if (z->def_ready && z->def_level != level) {
        deflateEnd(&z->def);
        z->def_ready = false;
    }
    if (!z->def_ready) {
        memset(&z->def, 0, sizeof(z->def));
        /* windowBits 15 + 16: gzip wrapper instead of zlib. */
        if (deflateInit2(&z->def, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return fail(out, out->len, true);
        z->def_ready = true;
        z->def_level = level;
    } else if (deflateReset(&z->def) != Z_OK) {
        return fail(out, out->len, false);
    }
    size_t start = out->len;
    const uint8_t *ip = in;
    size_t left = n;
    size_t want = deflateBound(&z->def, (uLong)n);
    z->def.avail_in = 0;
    for (;;) {
        if (z->def.avail_in == 0 && left) {
            size_t chunk = left < UINT_MAX ? left : UINT_MAX;
            z->def.next_in = (Bytef *)ip;
            z->def.avail_in = (uInt)chunk;
            ip += chunk;
            left -= chunk;
        }
        size_t space = out_space(out, want);
        if (space == 0)
            return fail(out, start, true);
        if (space > UINT_MAX)
            space = UINT_MAX;
        z->def.next_out = out->data + out->len;
        z->def.avail_out = (uInt)space;
        int ret = deflate(&z->def, left ? Z_NO_FLUSH : Z_FINISH);
        out->len += space - z->def.avail_out;
        if (ret == Z_STREAM_END)
            return true;
        if (ret != Z_OK && ret != Z_BUF_ERROR)
            return fail(out, start, false);
        want = next_want(out->len - start);
    }
}

static bool zstd_compress(plume_compressor_t *z, int level, const void *in, size_t n,
                          plume_buf_t *out)
{
    if (level == 0)
        level = 1;
    if (level < ZSTD_minCLevel())
        level = ZSTD_minCLevel();
    if (level > ZSTD_maxCLevel())
        level = ZSTD_maxCLevel();
    if (!z->cctx && !(z->cctx = ZSTD_createCCtx()))
        return fail(out, out->len, true);
    ZSTD_CCtx_reset(z->cctx, ZSTD_reset_session_only);
    /* The 4-byte content checksum lets a reader (and our outbox replay)
     * detect corruption; it costs little next to compression itself. */
    if (ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1)))
        return fail(out, out->len, false);
    size_t start = out->len;
    ZSTD_inBuffer ib = {in, n, 0};
    /* With room for the bound, zstd compresses in a single pass. */
    size_t want = ZSTD_compressBound(n);
    if (ZSTD_isError(want))
        want = GROW_STEP;
    for (;;) {
        size_t space = out_space(out, want);
        if (space == 0)
            return fail(out, start, true);
        ZSTD_outBuffer ob = {out->data + out->len, space, 0};
        size_t rem = ZSTD_compressStream2(z->cctx, &ob, &ib, ZSTD_e_end);
        out->len += ob.pos;
        if (ZSTD_isError(rem)) {
            ZSTD_CCtx_reset(z->cctx, ZSTD_reset_session_only);
            return fail(out, start, false);
        }
        if (rem == 0)
            return true;
        want = next_want(out->len - start);
    }
}

static bool gzip_decompress(plume_compressor_t *z, const void *in, size_t n, plume_buf_t *out)
{
    if (!z->inf_ready) {
        memset(&z->inf, 0, sizeof(z->inf));
        if (inflateInit2(&z->inf, 15 + 16) != Z_OK)
            return fail(out, out->len, true);
        z->inf_ready = true;
    } else if (inflateReset(&z->inf) != Z_OK) {
        return fail(out, out->len, false);
    }
    size_t start = out->len;
    if (n == 0)
        return fail(out, start, false);
    const uint8_t *ip = in;
    size_t left = n;
    size_t want = GROW_STEP;
    bool member_done = false;
    z->inf.avail_in = 0;
    for (;;) {
        if (z->inf.avail_in == 0 && left) {
            size_t chunk = left < UINT_MAX ? left : UINT_MAX;
            z->inf.next_in = (Bytef *)ip;
            z->inf.avail_in = (uInt)chunk;
            ip += chunk;
            left -= chunk;
        }
        if (member_done) {
            if (z->inf.avail_in == 0)
                return true;
            /* Another gzip member follows (RFC 1952 allows concatenation). */
            if (inflateReset(&z->inf) != Z_OK)
                return fail(out, start, false);
            member_done = false;
        }
        size_t space = out_space(out, want);
        if (space > UINT_MAX)
            space = UINT_MAX;
        uint8_t dummy; /* zlib refuses a NULL next_out even with no room */
        z->inf.next_out = space ? out->data + out->len : &dummy;
        z->inf.avail_out = (uInt)space;
        int ret = inflate(&z->inf, Z_NO_FLUSH);
        out->len += space - z->inf.avail_out;
        if (ret == Z_STREAM_END) {
            member_done = true;
        } else if (ret == Z_BUF_ERROR) {
            /* No progress possible: no room left, or the input ended early. */
            return fail(out, start, space == 0);
        } else if (ret != Z_OK) {
            return fail(out, start, ret == Z_MEM_ERROR);
        }
        want = next_want(out->len - start);
    }
}

/* Largest zstd window accepted: enough for the output allowed (a window
 * larger than the whole output is never needed), at least 8 MiB so frames
 * from ordinary encoders pass, at most zstd's default limit of 128 MiB. */
static int window_log_for(size_t room)
{
    int log = 23;
    while (log < 27 && ((size_t)1 << log) < room)
        log++;
    return log;
}

static bool zstd_decompress(plume_compressor_t *z, const void *in, size_t n, plume_buf_t *out)
{
    size_t start = out->len;
    if (n == 0)
        return fail(out, start, false);
    if (!z->dctx && !(z->dctx = ZSTD_createDCtx()))
        return fail(out, start, true);
    ZSTD_DCtx_reset(z->dctx, ZSTD_reset_session_only);
    ZSTD_DCtx_setParameter(z->dctx, ZSTD_d_windowLogMax, window_log_for(out->max - out->len));
    ZSTD_inBuffer ib = {in, n, 0};
    size_t want = GROW_STEP;
    for (;;) {
        size_t space = out_space(out, want);
        uint8_t dummy;
        ZSTD_outBuffer ob = {space ? out->data + out->len : &dummy, space, 0};
        size_t in_before = ib.pos;
        size_t ret = ZSTD_decompressStream(z->dctx, &ob, &ib);
        out->len += ob.pos;
        if (ZSTD_isError(ret)) {
            ZSTD_DCtx_reset(z->dctx, ZSTD_reset_session_only);
            return fail(out, start, ZSTD_getErrorCode(ret) == ZSTD_error_memory_allocation);
        }
        /* 0: a frame is complete and flushed; the next one may follow. */
        if (ret == 0 && ib.pos == ib.size)
            return true;
        if (ob.pos == 0 && ib.pos == in_before) {
            ZSTD_DCtx_reset(z->dctx, ZSTD_reset_session_only);
            return fail(out, start, space == 0);
        }
        want = next_want(out->len - start);
    }
}

bool plume_compressor_compress(plume_compressor_t *z, plume_codec_t c, int level,
                               const void *in, size_t n, plume_buf_t *out)
{
    switch (c) {
    case PLUME_CODEC_NONE: return plume_buf_append(out, in, n);
    case PLUME_CODEC_GZIP: return gzip_compress(z, level, in, n, out);
    case PLUME_CODEC_ZSTD: return zstd_compress(z, level, in, n, out);
    }
    return false;
}

bool plume_compressor_decompress(plume_compressor_t *z, plume_codec_t c, const void *in,
                                 size_t n, plume_buf_t *out)
{
    switch (c) {
    case PLUME_CODEC_NONE: return plume_buf_append(out, in, n);
    case PLUME_CODEC_GZIP: return gzip_decompress(z, in, n, out);
    case PLUME_CODEC_ZSTD: return zstd_decompress(z, in, n, out);
    }
    return false;
}

/* ---- the calling thread's compressor ---- */

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static bool tls_key_ok;

static void tls_destroy(void *p)
{
    plume_compressor_free(p);
}

static void tls_init(void)
{
    tls_key_ok = pthread_key_create(&tls_key, tls_destroy) == 0;
}

/* Returns this thread's compressor, creating it on first use; NULL if that
 * is impossible (then the caller uses a temporary one). */
static plume_compressor_t *thread_compressor(void)
{
    pthread_once(&tls_once, tls_init);
    if (!tls_key_ok)
        return NULL;
    plume_compressor_t *z = pthread_getspecific(tls_key);
    if (!z) {
        z = plume_compressor_new();
        if (z && pthread_setspecific(tls_key, z) != 0) {
            plume_compressor_free(z);
            z = NULL;
        }
    }
    return z;
}

bool plume_compress(plume_codec_t c, int level, const void *in, size_t n, plume_buf_t *out)
{
    plume_compressor_t *z = thread_compressor();
    if (z)
        return plume_compressor_compress(z, c, level, in, n, out);
    plume_compressor_t tmp = {0};
    bool ok = plume_compressor_compress(&tmp, c, level, in, n, out);
    compressor_clear(&tmp);
    return ok;
}

bool plume_decompress(plume_codec_t c, const void *in, size_t n, plume_buf_t *out)
{
    plume_compressor_t *z = thread_compressor();
    if (z)
        return plume_compressor_decompress(z, c, in, n, out);
    plume_compressor_t tmp = {0};
    bool ok = plume_compressor_decompress(&tmp, c, in, n, out);
    compressor_clear(&tmp);
    return ok;
}
