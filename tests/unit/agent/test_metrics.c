/* SPDX-License-Identifier: MIT */
/* The exit summary: the exact line for known counters, every key present once
 * and fed by the right field (each counter set alone), full 64-bit values, and
 * one line per call, flushed. A new counter in plume_metrics_t without a key
 * here fails the size check, so the summary and this test stay complete. */
#include "test_support.h"
#include <cmocka.h>

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"

typedef struct key {
    const char *name;
    size_t offset;
} counter_key_t;

#define K(f) {#f, offsetof(plume_metrics_t, f)}
static const counter_key_t keys[] = {
    K(received),         K(parsed),         K(parse_errors),        K(truncated),
    K(invalid_utf8),     K(batches),        K(delivered),           K(retries),
    K(requests),         K(rejected_by_sink), K(dropped_outbox_full), K(dropped_failed),
    K(dropped_corrupt),  K(dropped_encode),   K(dropped_rate_limited),
};
#undef K
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

_Static_assert(sizeof(plume_metrics_t) == NKEYS * sizeof(uint64_t),
               "a counter was added to plume_metrics_t: add its key to this test");

/* Prints the summary into memory and returns it (caller frees). */
static char *summary(const plume_metrics_t *m, uint64_t pending)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    plume_metrics_print_summary(m, pending, out);
    /* print_summary flushes: the text is there before fclose */
    assert_non_null(text);
    char *copy = strdup(text);
    fclose(out);
    free(text);
    return copy;
}

/* The value printed for `key`, or -1 if absent; fails if it appears twice. */
static int64_t value_of(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof(pat), " %s=", key);
    const char *p = strstr(line, pat);
    if (!p)
        return -1;
    if (strstr(p + 1, pat))
        fail_msg("key %s appears twice in: %s", key, line);
    return (int64_t)strtoull(p + strlen(pat), NULL, 10);
}

static void exact_line(void **state)
{
    (void)state;
    plume_metrics_t m;
    uint64_t *v = (uint64_t *)&m;
    for (size_t i = 0; i < NKEYS; i++)
        v[i] = i + 1; /* struct order: received=1 ... dropped_rate_limited=15 */
    char *s = summary(&m, 16);
    assert_string_equal(s, "plume-agent: summary received=1 parsed=2 parse_errors=3 truncated=4 "
                           "invalid_utf8=5 batches=6 delivered=8 retries=9 requests=7 "
                           "rejected_by_sink=10 dropped_outbox_full=11 dropped_failed=12 "
                           "dropped_corrupt=13 dropped_encode=14 dropped_rate_limited=15 pending=16\n");
    free(s);
    plume_metrics_t zero = {0};
    s = summary(&zero, 0);
    assert_string_equal(s, "plume-agent: summary received=0 parsed=0 parse_errors=0 truncated=0 "
                           "invalid_utf8=0 batches=0 delivered=0 retries=0 requests=0 "
                           "rejected_by_sink=0 dropped_outbox_full=0 dropped_failed=0 "
                           "dropped_corrupt=0 dropped_encode=0 dropped_rate_limited=0 pending=0\n");
    free(s);
}

static void each_key_fed_by_its_field(void **state)
{
    (void)state;
    for (size_t i = 0; i < NKEYS; i++) {
        plume_metrics_t m = {0};
        *(uint64_t *)((char *)&m + keys[i].offset) = 1000 + i;
        char *s = summary(&m, 0);
        assert_true(strncmp(s, "plume-agent: summary ", 21) == 0);
        assert_int_equal(strchr(s, '\n') - s, (ptrdiff_t)strlen(s) - 1); /* one line */
        for (size_t j = 0; j < NKEYS; j++) {
            int64_t got = value_of(s, keys[j].name);
            int64_t want = i == j ? (int64_t)(1000 + i) : 0;
            if (got != want)
                fail_msg("with only %s=%zu set, %s=%" PRId64 " (want %" PRId64 "): %s",
                         keys[i].name, 1000 + i, keys[j].name, got, want, s);
        }
        assert_int_equal(value_of(s, "pending"), 0);
        free(s);
    }
}

static void full_64_bit_values(void **state)
{
    (void)state;
    plume_metrics_t m;
    memset(&m, 0xff, sizeof(m));
    char *s = summary(&m, UINT64_MAX);
    for (size_t i = 0; i < NKEYS; i++) {
        char want[64];
        snprintf(want, sizeof(want), " %s=18446744073709551615 ", keys[i].name);
        assert_non_null(strstr(s, want));
    }
    assert_non_null(strstr(s, " pending=18446744073709551615\n"));
    free(s);
}

static void written_to_a_file_descriptor(void **state)
{
    (void)state;
    /* a real FILE on a pipe: the summary is flushed when the call returns */
    int p[2];
    assert_int_equal(pipe(p), 0);
    FILE *out = fdopen(p[1], "w");
    assert_non_null(out);
    assert_int_equal(setvbuf(out, NULL, _IOFBF, 1 << 16), 0);
    plume_metrics_t m = {.delivered = 42};
    plume_metrics_print_summary(&m, 3, out);
    char buf[1024];
    ssize_t n = read(p[0], buf, sizeof(buf) - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_int_equal(value_of(buf, "delivered"), 42);
    assert_int_equal(value_of(buf, "pending"), 3);
    assert_int_equal(buf[n - 1], '\n');
    fclose(out);
    close(p[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_line),
        cmocka_unit_test(each_key_fed_by_its_field),
        cmocka_unit_test(full_64_bit_values),
        cmocka_unit_test(written_to_a_file_descriptor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
