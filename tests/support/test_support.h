/* SPDX-License-Identifier: MIT */
/* Helpers shared by the cmocka tests: locating fixtures, reading files,
 * temporary directories. Tests include <cmocka.h> after this header. */
#ifndef PLUME_TEST_SUPPORT_H
#define PLUME_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* $PLUME_CONFORMANCE_DIR joined with `rel` (static buffer; copy it if kept). */
const char *plume_test_conformance_path(const char *rel);
/* $PLUME_SOURCE_DIR joined with `rel` (static buffer). */
const char *plume_test_source_path(const char *rel);
/* Reads a whole file; returns NULL if it cannot. Caller frees. Adds a NUL. */
char *plume_test_read_file(const char *path, size_t *len);
/* Creates a fresh temporary directory; caller frees the string and may call
 * plume_test_rm_rf() on it. */
char *plume_test_mkdtemp(void);
void plume_test_rm_rf(const char *path);
/* Number of entries of `dir` not starting with '.' whose name ends in `suffix`
 * ("" counts them all); 0 if dir does not exist. */
int plume_test_count_files(const char *dir, const char *suffix);

/* The scrub rule by plain search, as a reference for the scrubber's tests:
 * true when one of the names occurs in k[0..n), ignoring ASCII case. */
bool plume_test_names_in_key(const char *const *names, size_t nnames, const char *k, size_t n);

struct plume_metrics;
/* Fails the test (naming the counter) unless every counter of `got` equals
 * the one in `want`. */
void plume_test_expect_metrics(const struct plume_metrics *got, const struct plume_metrics *want);

#endif
