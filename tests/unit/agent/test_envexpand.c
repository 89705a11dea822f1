/* SPDX-License-Identifier: MIT */
/* ${VAR} expansion in config strings: set, empty and unset variables, the
 * :- fallback (literal, used when unset or empty), $$ escapes, a lone $ kept,
 * malformed references reported with their offset, over-long names, and the
 * 1 MiB bound on the result (a value past it is an error, never silently cut). */
#include "test_support.h"
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envexpand.h"

static char err[256];

static int setup(void **state)
{
    (void)state;
    setenv("PLUME_UT_A", "alpha", 1);
    setenv("PLUME_UT_B", "beta", 1);
    setenv("PLUME_UT_EMPTY", "", 1);
    setenv("PLUME_UT_DOLLAR", "${PLUME_UT_A}$$", 1);
    unsetenv("PLUME_UT_UNSET");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unsetenv("PLUME_UT_A");
    unsetenv("PLUME_UT_B");
    unsetenv("PLUME_UT_EMPTY");
    unsetenv("PLUME_UT_DOLLAR");
    unsetenv("PLUME_UT_BIG");
    return 0;
}

/* Expands `in` and checks the result equals `want`. */
static void expect(const char *in, const char *want)
{
    err[0] = '\0';
    char *got = plume_env_expand(in, err, sizeof(err));
    if (!got)
        fail_msg("\"%s\" failed: %s", in, err);
    if (strcmp(got, want) != 0)
        fail_msg("\"%s\" -> \"%s\", want \"%s\"", in, got, want);
    free(got);
}

/* Expands `in`, expects failure with exactly the message `want`. */
static void expect_error(const char *in, const char *want)
{
    strcpy(err, "untouched");
    char *got = plume_env_expand(in, err, sizeof(err));
    if (got)
        fail_msg("\"%s\" should fail, gave \"%s\"", in, got);
    assert_string_equal(err, want);
}

static void plain_text_unchanged(void **state)
{
    (void)state;
    expect("", "");
    expect("hello", "hello");
    expect("/var/lib/plume", "/var/lib/plume");
    expect("{braces} and }", "{braces} and }");
}

static void variables(void **state)
{
    (void)state;
    expect("${PLUME_UT_A}", "alpha");
    expect("x${PLUME_UT_A}y", "xalphay");
    expect("${PLUME_UT_A}${PLUME_UT_B}", "alphabeta");
    expect("${PLUME_UT_A}/${PLUME_UT_B}/${PLUME_UT_A}", "alpha/beta/alpha");
    /* Set but empty is not an error: it expands to nothing. */
    expect("[${PLUME_UT_EMPTY}]", "[]");
    /* A value is inserted literally, never expanded again. */
    expect("${PLUME_UT_DOLLAR}", "${PLUME_UT_A}$$");
}

static void fallbacks(void **state)
{
    (void)state;
    expect("${PLUME_UT_UNSET:-fb}", "fb");
    expect("${PLUME_UT_EMPTY:-fb}", "fb");
    expect("${PLUME_UT_A:-fb}", "alpha");
    expect("${PLUME_UT_UNSET:-}", "");
    expect("a${PLUME_UT_UNSET:-/var/lib/plume}b", "a/var/lib/plumeb");
    expect("${PLUME_UT_UNSET:-has space, and :- and $}", "has space, and :- and $");
    /* The fallback is literal: no expansion inside it; it ends at the first '}'. */
    expect("${PLUME_UT_UNSET:-$$}", "$$");
    expect("${PLUME_UT_UNSET:-${PLUME_UT_A}}", "${PLUME_UT_A}");
    expect("${PLUME_UT_UNSET:-x}}", "x}");
}

static void dollar_escapes(void **state)
{
    (void)state;
    expect("$$", "$");
    expect("$$$$", "$$");
    expect("cost: $$5", "cost: $5");
    expect("$${PLUME_UT_A}", "${PLUME_UT_A}");
    expect("$$$${PLUME_UT_A}", "$${PLUME_UT_A}");
    expect("$$${PLUME_UT_A}", "$alpha");
    /* '$' not followed by '$' or '{' stays. */
    expect("$", "$");
    expect("a$", "a$");
    expect("$PLUME_UT_A", "$PLUME_UT_A");
    expect("$ {x}", "$ {x}");
    expect("a$b$c", "a$b$c");
}

static void unset_variable_is_an_error(void **state)
{
    (void)state;
    expect_error("${PLUME_UT_UNSET}",
                 "environment variable PLUME_UT_UNSET is not set (use ${PLUME_UT_UNSET:-default} "
                 "for a fallback)");
    expect_error("ok ${PLUME_UT_A} then ${PLUME_UT_UNSET}",
                 "environment variable PLUME_UT_UNSET is not set (use ${PLUME_UT_UNSET:-default} "
                 "for a fallback)");
}

static void malformed_references(void **state)
{
    (void)state;
    expect_error("${", "invalid variable name after '${' (at offset 0)");
    expect_error("${}", "invalid variable name after '${' (at offset 0)");
    expect_error("ab${1X}", "invalid variable name after '${' (at offset 2)");
    expect_error("${-x}", "invalid variable name after '${' (at offset 0)");
    expect_error("${ X}", "invalid variable name after '${' (at offset 0)");
    expect_error("${X", "expected '}' or ':-' after variable name (at offset 3)");
    expect_error("${X-default}", "expected '}' or ':-' after variable name (at offset 3)");
    expect_error("${X:default}", "expected '}' or ':-' after variable name (at offset 3)");
    expect_error("12${AB CD}", "expected '}' or ':-' after variable name (at offset 6)");
    expect_error("${X:-abc", "unterminated '${' (at offset 0)");
    expect_error("xyz ${X:-", "unterminated '${' (at offset 4)");
}

static void names(void **state)
{
    (void)state;
    setenv("_PLUME_UT_9", "u", 1);
    expect("${_PLUME_UT_9}", "u");
    unsetenv("_PLUME_UT_9");

    /* 255 characters is the longest name looked up; 256 is refused. */
    char in[320], name[300];
    memset(name, 'N', 255);
    name[255] = '\0';
    setenv(name, "long", 1);
    snprintf(in, sizeof(in), "${%s}", name);
    expect(in, "long");
    unsetenv(name);
    memset(name, 'N', 256);
    name[256] = '\0';
    snprintf(in, sizeof(in), "${%s:-fb}", name);
    expect_error(in, "variable name too long (at offset 0)");
}

static void error_buffer_bounded(void **state)
{
    (void)state;
    char small[8];
    memset(small, 'Z', sizeof(small));
    assert_null(plume_env_expand("${PLUME_UT_UNSET}", small, sizeof(small)));
    assert_int_equal(small[7], '\0');
    assert_memory_equal(small, "environ", 7);
}

static void result_bounded_at_1mib(void **state)
{
    (void)state;
    const size_t max = 1u << 20;
    char *big = malloc(max + 1);
    assert_non_null(big);

    /* max - 1 bytes plus the NUL: fits exactly. */
    memset(big, 'v', max - 1);
    big[max - 1] = '\0';
    setenv("PLUME_UT_BIG", big, 1);
    char *got = plume_env_expand("${PLUME_UT_BIG}", err, sizeof(err));
    assert_non_null(got);
    assert_int_equal(strlen(got), max - 1);
    free(got);

    /* One more byte after it does not. */
    expect_error("${PLUME_UT_BIG}x", "expanded value longer than 1048576 bytes");
    expect_error("x${PLUME_UT_BIG}", "expanded value longer than 1048576 bytes");

    /* A value past the bound followed by short text must not come back as just
     * the short text. */
    memset(big, 'v', max);
    big[max] = '\0';
    setenv("PLUME_UT_BIG", big, 1);
    expect_error("${PLUME_UT_BIG}", "expanded value longer than 1048576 bytes");
    expect_error("${PLUME_UT_BIG}tail", "expanded value longer than 1048576 bytes");
    expect_error("${PLUME_UT_UNSET:-a}${PLUME_UT_BIG}${PLUME_UT_A}",
                 "expanded value longer than 1048576 bytes");

    /* The literal text itself is bounded the same way. */
    expect_error(big, "expanded value longer than 1048576 bytes");
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_text_unchanged),
        cmocka_unit_test(variables),
        cmocka_unit_test(fallbacks),
        cmocka_unit_test(dollar_escapes),
        cmocka_unit_test(unset_variable_is_an_error),
        cmocka_unit_test(malformed_references),
        cmocka_unit_test(names),
        cmocka_unit_test(error_buffer_bounded),
        cmocka_unit_test(result_bounded_at_1mib),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
