/* SPDX-License-Identifier: MIT */
/* Compression of request bodies (gzip for Sentry, zstd or gzip for Axiom) and
 * bounded decompression (gzip Forward chunks, tests).
 *
 * Batches are compressed over and over, so the zlib and zstd state is kept in
 * a plume_compressor_t and reused (allocating a zstd context costs far more
 * than compressing a small batch). A component that compresses a lot (the
 * pipeline's compression thread) owns one plume_compressor_t. The one-shot
 * plume_compress()/plume_decompress() use a compressor private to the calling
 * thread, created on first use and freed when the thread exits; they are
 * thread-safe and never share state between threads.
 *
 * Output is appended to a plume_buf_t and never grows it past its maximum: a
 * decompression bomb stops at out->max. On failure the buffer's length is
 * restored; its sticky `failed` flag is set only when the maximum (or memory)
 * was the reason, so a caller can tell "too big" from "corrupt". */
#ifndef PLUME_COMPRESS_H
#define PLUME_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

typedef enum { PLUME_CODEC_NONE, PLUME_CODEC_GZIP, PLUME_CODEC_ZSTD } plume_codec_t;

/* "none", "gzip", "zstd" ("?" for a value outside the enum). */
const char *plume_codec_name(plume_codec_t c);
/* Parses a codec name (case-insensitive). Returns false if unknown. */
bool plume_codec_parse(const char *s, plume_codec_t *out);
/* The HTTP Content-Encoding value: NULL for none, "gzip", "zstd". */
const char *plume_codec_content_encoding(plume_codec_t c);

typedef struct plume_compressor plume_compressor_t;

/* Returns a new compressor (contexts are created lazily), or NULL when out of
 * memory. Free it with plume_compressor_free(). Not thread-safe: one thread
 * at a time. */
plume_compressor_t *plume_compressor_new(void);
void plume_compressor_free(plume_compressor_t *z);

/* Compresses in[0..n) as one gzip member or zstd frame and appends it to
 * `out`. level: codec-specific, 0 = default (gzip 6, zstd 1); out-of-range
 * levels are clamped (gzip 1..9, zstd its min..max). Returns false on failure
 * or if out's max would be exceeded. */
bool plume_compressor_compress(plume_compressor_t *z, plume_codec_t c, int level,
                               const void *in, size_t n, plume_buf_t *out);
/* Decompresses all concatenated gzip members / zstd frames in in[0..n) and
 * appends the result to `out`. Returns false on corrupt, truncated or empty
 * input (for gzip and zstd), or if the output would exceed out->max. */
bool plume_compressor_decompress(plume_compressor_t *z, plume_codec_t c, const void *in,
                                 size_t n, plume_buf_t *out);

/* The same with the calling thread's private compressor. */
bool plume_compress(plume_codec_t c, int level, const void *in, size_t n, plume_buf_t *out);
bool plume_decompress(plume_codec_t c, const void *in, size_t n, plume_buf_t *out);

#endif
