/* SPDX-License-Identifier: MIT */
/* Sentry event ids, debug ids and hex code ids. See sentry_ids.h. */
#include "sentry_ids.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static const char hex_digits[] = "0123456789abcdef";

void plume_hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_digits[p[i] >> 4];
        out[2 * i + 1] = hex_digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Fills buf with n bytes from getrandom(2) (non-blocking, retried on EINTR
 * and short reads). Returns false if the kernel could not provide them. */
static bool kernel_random(uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, GRND_NONBLOCK);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        if (r == 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

static uint64_t mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The fallback when getrandom fails: not cryptographic, but distinct across
 * calls (a process-wide counter), processes (pid) and time (two clocks).
 * Uses only async-signal-safe calls. */
static void fallback_random(uint8_t out[16])
{
    static atomic_uint_fast64_t counter;
    uint64_t c = atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
    struct timespec rt = {0}, mono = {0};
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    uint64_t seed = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
    seed ^= mix64(((uint64_t)mono.tv_sec << 32) ^ (uint64_t)mono.tv_nsec);
    seed ^= mix64((uint64_t)getpid() << 20 ^ c);
    seed ^= (uint64_t)(uintptr_t)&seed;
    uint64_t a = mix64(seed), b = mix64(a ^ c);
    memcpy(out, &a, 8);
    memcpy(out + 8, &b, 8);
}

void plume_sentry_event_id(char out[33])
{
    uint8_t r[16];
    if (!kernel_random(r, sizeof(r)))
        fallback_random(r);
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    plume_hex(r, sizeof(r), out);
}

int plume_sentry_debug_id(const uint8_t *build_id, size_t len, char out[37])
{
    if (!build_id || len == 0) {
        out[0] = '\0';
        return -1;
    }
    uint8_t g[16] = {0};
    memcpy(g, build_id, len < 16 ? len : 16);
    /* data1 (u32), data2 and data3 (u16) are little-endian in a GUID */
    const uint8_t order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        uint8_t v = g[order[i]];
        *o++ = hex_digits[v >> 4];
        *o++ = hex_digits[v & 15];
    }
    *o = '\0';
    return 0;
}
