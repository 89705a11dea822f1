/* SPDX-License-Identifier: MIT */
/* UTF-8 validation and U+FFFD repair. See utf8.h.
 *
 * Both loops skip ASCII 32 then 8 bytes at a time (unaligned 64-bit loads and
 * a mask test), which is what log lines mostly are, and fall back to the per-sequence
 * check of plume_utf8_seq() only around non-ASCII bytes. */
#include "utf8.h"

#include <string.h>

#define HIGH_BITS 0x8080808080808080ull

/* Returns the index of the first non-ASCII byte at or after i, or n. */
static inline size_t skip_ascii(const uint8_t *p, size_t i, size_t n)
{
    while (i + 32 <= n) {
        uint64_t w[4];
        memcpy(w, p + i, 32);
        if ((w[0] | w[1] | w[2] | w[3]) & HIGH_BITS)
            break;
        i += 32;
    }
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w & HIGH_BITS)
            break;
        i += 8;
    }
    while (i < n && p[i] < 0x80)
        i++;
    return i;
}

size_t plume_utf8_valid_prefix(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0, bad;
    for (;;) {
        i = skip_ascii(p, i, n);
        if (i >= n)
            return n;
        size_t len = plume_utf8_seq(p + i, n - i, &bad);
        if (len == 0)
            return i;
        i += len;
    }
}

bool plume_utf8_valid(const char *s, size_t n) { return plume_utf8_valid_prefix(s, n) == n; }

/* Copies valid runs in one append each and writes EF BF BD for every maximal
 * invalid subpart reported by plume_utf8_seq(). */
size_t plume_utf8_sanitize(const char *s, size_t n, plume_buf_t *out)
{
    static const uint8_t fffd[3] = {0xef, 0xbf, 0xbd};
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0, run = 0, replaced = 0, bad;

    plume_buf_reserve(out, n);
    for (;;) {
        i = skip_ascii(p, i, n);
        if (i >= n)
            break;
        size_t len = plume_utf8_seq(p + i, n - i, &bad);
        if (len) {
            i += len;
            continue;
        }
        plume_buf_append(out, p + run, i - run);
        plume_buf_append(out, fffd, sizeof(fffd));
        replaced++;
        i += bad;
        run = i;
    }
    plume_buf_append(out, p + run, n - run);
    return replaced;
}

size_t plume_utf8_incomplete_tail(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    /* Walk back over at most 3 continuation bytes to the candidate lead. */
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        uint8_t c = p[n - k];
        if (c >= 0x80 && c < 0xc0)
            continue; /* continuation byte: keep looking for the lead */
        if (c < 0xc2 || c > 0xf4)
            return 0; /* ASCII or an invalid lead: nothing is incomplete */
        size_t bad = 0;
        if (plume_utf8_seq(p + n - k, k, &bad) == 0 && bad == k)
            return k; /* every byte so far fits; only the end was missing */
        return 0;
    }
    return 0;
}
