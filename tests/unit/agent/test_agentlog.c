/* SPDX-License-Identifier: MIT */
/* The agent's stderr log: level filtering at each level, the line format
 * `<RFC 3339 UTC with ms>Z <level> <message>\n` with a time stamp close to now,
 * printf formatting, one write per line, and long messages cut to one bounded
 * line. stderr is captured by dup2() onto a temp file. */
#include "test_support.h"
#include <cmocka.h>

#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentlog.h"

typedef struct fixture {
    char *dir;
    char path[4096];
    int saved;
    int saved_level;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f || !(f->dir = plume_test_mkdtemp()))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/stderr.txt", f->dir);
    f->saved_level = plume_agentlog_level();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    plume_agentlog_set_level(f->saved_level);
    plume_test_rm_rf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Points stderr at a fresh temp file. Nothing may assert until capture_end. */
static void capture_begin(fixture_t *f)
{
    int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    f->saved = dup(STDERR_FILENO);
    assert_true(f->saved >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    close(fd);
}

/* Restores stderr and returns what was written (caller frees). */
static char *capture_end(fixture_t *f)
{
    assert_int_equal(dup2(f->saved, STDERR_FILENO), STDERR_FILENO);
    close(f->saved);
    char *s = plume_test_read_file(f->path, NULL);
    assert_non_null(s);
    return s;
}

/* Writes one message at every level and returns the captured text. */
static char *log_all_levels(fixture_t *f, int level)
{
    plume_agentlog_set_level(level);
    capture_begin(f);
    PLOG_ERROR("e%d", 1);
    PLOG_WARN("w%d", 2);
    PLOG_INFO("i%d", 3);
    PLOG_DEBUG("d%d", 4);
    return capture_end(f);
}

/* The messages (after "<time> <level> ") of each line, joined by '|'. */
static void messages(const char *text, char *out, size_t cap)
{
    out[0] = '\0';
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        const char *sp = memchr(p, ' ', (size_t)(nl - p));
        assert_non_null(sp);
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "%s%.*s", used ? "|" : "", (int)(nl - sp - 1), sp + 1);
        p = nl + 1;
    }
}

static void level_filtering(void **state)
{
    fixture_t *f = *state;
    static const struct {
        int level;
        const char *want;
    } cases[] = {
        {PLUME_LOG_ERROR, "error e1"},
        {PLUME_LOG_WARN, "error e1|warn w2"},
        {PLUME_LOG_INFO, "error e1|warn w2|info i3"},
        {PLUME_LOG_DEBUG, "error e1|warn w2|info i3|debug d4"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = log_all_levels(f, cases[i].level);
        assert_int_equal(plume_agentlog_level(), cases[i].level);
        char got[256];
        messages(text, got, sizeof(got));
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("level %d: logged '%s', want '%s'", cases[i].level, got, cases[i].want);
        free(text);
    }
}

static void default_level_is_info(void **state)
{
    (void)state;
    /* before any set_level in this process (setup only reads it) */
    assert_int_equal(plume_agentlog_level(), PLUME_LOG_INFO);
}

static void line_format(void **state)
{
    fixture_t *f = *state;
    plume_agentlog_set_level(PLUME_LOG_DEBUG);
    /* clock_gettime, like the logger: time() reads a coarser clock that can lag
     * behind it by a tick, which made this check flaky near second boundaries. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t before = ts.tv_sec;
    capture_begin(f);
    PLOG_WARN("axiom: HTTP %d, retrying in %.3fs", 500, 0.512);
    PLOG_DEBUG("%s", "percent % kept");
    char *text = capture_end(f);
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t after = ts.tv_sec;
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
                             "\\.[0-9]{3}Z warn axiom: HTTP 500, retrying in 0\\.512s\n"
                             "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                             "debug percent % kept\n$",
                             REG_EXTENDED),
                     0);
    regmatch_t mt[7];
    if (regexec(&re, text, 7, mt, 0) != 0)
        fail_msg("unexpected log text:\n%s", text);
    regfree(&re);
    /* the time stamp is UTC and now */
    int v[6];
    for (int i = 0; i < 6; i++)
        v[i] = atoi(text + mt[i + 1].rm_so);
    struct tm tm = {.tm_year = v[0] - 1900, .tm_mon = v[1] - 1, .tm_mday = v[2],
                    .tm_hour = v[3], .tm_min = v[4], .tm_sec = v[5]};
    time_t stamp = timegm(&tm);
    assert_true(stamp >= before && stamp <= after);
    free(text);
}

static void long_message_bounded(void **state)
{
    fixture_t *f = *state;
    plume_agentlog_set_level(PLUME_LOG_INFO);
    char *big = malloc(10000);
    memset(big, 'x', 9999);
    big[9999] = '\0';
    capture_begin(f);
    PLOG_ERROR("start %s end", big);
    PLOG_ERROR("next");
    char *text = capture_end(f);
    /* the long line is cut but still a whole line, and the next one follows */
    char *nl = strchr(text, '\n');
    assert_non_null(nl);
    size_t first = (size_t)(nl - text) + 1;
    assert_true(first <= 2048);
    assert_true(first > 2000);
    assert_non_null(strstr(text, " error start xxx"));
    assert_null(strstr(text, " end\n"));
    assert_true(strncmp(nl + 1 + 24, " error next\n", 12) == 0);
    assert_int_equal(strlen(nl + 1), 24 + 12);
    free(text);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(default_level_is_info, setup, teardown),
        cmocka_unit_test_setup_teardown(level_filtering, setup, teardown),
        cmocka_unit_test_setup_teardown(line_format, setup, teardown),
        cmocka_unit_test_setup_teardown(long_message_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
