/* SPDX-License-Identifier: MIT */
/* Baseline for the stdin benchmark: how fast raw zstd level 1 compresses the
 * same input, in the same 4 MiB pieces the Axiom sink's batches have. Prints
 * "zstd1_mb_per_s=<x> input_bytes=<n> compressed_bytes=<m> seconds=<t>". */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <zstd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *in = malloc((size_t)size);
    if (!in || fread(in, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "read failed\n");
        return 1;
    }
    fclose(f);
    const size_t piece = 4u << 20;
    size_t cap = ZSTD_compressBound(piece);
    char *out = malloc(cap);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    double best = 1e9;
    size_t total_out = 0;
    for (int rep = 0; rep < 3; rep++) { /* best of 3: the machine is shared */
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        total_out = 0;
        for (size_t off = 0; off < (size_t)size; off += piece) {
            size_t n = (size_t)size - off < piece ? (size_t)size - off : piece;
            size_t r = ZSTD_compressCCtx(cctx, out, cap, in + off, n, 1);
            if (ZSTD_isError(r)) {
                fprintf(stderr, "zstd: %s\n", ZSTD_getErrorName(r));
                return 1;
            }
            total_out += r;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (s < best)
            best = s;
    }
    printf("zstd1_mb_per_s=%.1f input_bytes=%ld compressed_bytes=%zu seconds=%.4f\n",
           (double)size / 1e6 / best, size, total_out, best);
    ZSTD_freeCCtx(cctx);
    free(in);
    free(out);
    return 0;
}
