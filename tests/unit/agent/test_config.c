/* SPDX-License-Identifier: MIT */
/* Agent configuration: the built-in default is agent.toml and yields its
 * documented values; a user file changes only what it sets; every kind of
 * mistake (unknown section or key, wrong type, out-of-range number, bad enum,
 * size or duration, unset ${VAR}, inconsistent settings) is refused with a
 * `file:line:col: message` naming it; AXIOM_* variables override the file;
 * printing masks the token and reads back to the same settings. */
#include "test_support.h"
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "config.h"
#include "plume/plume.h"

static char *tmpdir;
static char err[512];

/* Variables the built-in default reads: cleared so the host cannot leak in. */
static const char *const env_vars[] = {"AXIOM_TOKEN", "AXIOM_DATASET", "AXIOM_URL", "AXIOM_ORG_ID",
                                       "PLUME_DATA_DIR", "PLUME_UT_DIR", "PLUME_UT_UNSET",
                                       "PLUME_UT_MEM", "SENTRY_DSN", "SENTRY_RELEASE",
                                       "SENTRY_ENVIRONMENT"};

static int clean_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
        unsetenv(env_vars[i]);
    err[0] = '\0';
    return 0;
}

static int group_setup(void **state)
{
    tmpdir = plume_test_mkdtemp();
    return tmpdir ? clean_env(state) : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    plume_test_rm_rf(tmpdir);
    free(tmpdir);
    return clean_env(state);
}

/* Writes `text` to <tmpdir>/<name> and returns the path (static buffer). */
static const char *write_file(const char *name, const char *text, size_t len)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static bool load(plume_config_t *cfg, const char *text)
{
    err[0] = '\0';
    return plume_config_load_text(cfg, "test.toml", text, strlen(text), err, sizeof(err));
}

/* Loads `text`, which must be refused with exactly `want`. */
static void expect_error(const char *text, const char *want)
{
    plume_config_t cfg;
    if (load(&cfg, text))
        fail_msg("accepted:\n%s", text);
    if (strcmp(err, want) != 0)
        fail_msg("for:\n%s\ngot:  %s\nwant: %s", text, err, want);
    plume_config_free(&cfg);
}

static void expect_ok(plume_config_t *cfg, const char *text)
{
    if (!load(cfg, text))
        fail_msg("refused (%s):\n%s", err, text);
}

/* The printed configuration without its first line (which names the source). */
static char *print_body(const plume_config_t *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    plume_config_print(cfg, f);
    assert_int_equal(fclose(f), 0);
    char *nl = strchr(text, '\n');
    assert_non_null(nl);
    char *body = strdup(nl + 1);
    free(text);
    return body;
}

static char *print_all(const plume_config_t *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    plume_config_print(cfg, f);
    assert_int_equal(fclose(f), 0);
    return text;
}

/* ---- defaults ---- */

static void builtin_defaults(void **state)
{
    (void)state;
    plume_config_t c;
    assert_true(plume_config_load(&c, NULL, err, sizeof(err)));
    assert_string_equal(c.source_name, "<built-in>");

    assert_string_equal(c.agent.data_dir, "/var/lib/plume");
    assert_int_equal(c.agent.log_level, PLUME_LOG_INFO);
    assert_int_equal(c.agent.shutdown_timeout_ms, 30000);
    assert_int_equal(c.agent.max_memory, 32u << 20);

    assert_false(c.stdin_source.enabled);
    assert_int_equal(c.stdin_source.format, PLUME_STDIN_AUTO);
    assert_int_equal(c.stdin_source.max_line_bytes, 1u << 20);

    const plume_axiom_config_t *ax = &c.axiom;
    assert_true(ax->enabled);
    assert_string_equal(ax->url, "https://api.axiom.co");
    assert_int_equal(ax->path_style, PLUME_AXIOM_PATH_AUTO);
    assert_string_equal(ax->dataset, "");
    assert_string_equal(ax->token, "");
    assert_string_equal(ax->org_id, "");
    assert_int_equal(ax->compression, PLUME_CODEC_ZSTD);
    assert_int_equal(ax->compression_level, 0);
    assert_int_equal(ax->compression_threads, 0);
    assert_int_equal(ax->batch_max_events, 10000);
    assert_int_equal(ax->batch_max_bytes, 4u << 20);
    assert_int_equal(ax->batch_max_age_ms, 1000);
    assert_int_equal(ax->max_in_flight, 2);
    assert_int_equal(ax->request_timeout_ms, 30000);
    assert_int_equal(ax->connect_timeout_ms, 10000);
    assert_int_equal(ax->retry_initial_ms, 500);
    assert_int_equal(ax->retry_max_ms, 30000);
    assert_int_equal(ax->retry_max_attempts, 0);
    assert_true(ax->outbox_max_size == 1ull << 30);
    assert_int_equal(ax->outbox_fsync, PLUME_TRISTATE_AUTO); /* "interval" */

    assert_int_equal(c.console.enabled, PLUME_TRISTATE_AUTO);
    assert_int_equal(c.console.format, PLUME_CONSOLE_AUTO);

    assert_false(c.file.enabled);
    assert_string_equal(c.file.path, "plume-events.ndjson");
    assert_int_equal(c.file.max_size, 100u << 20);
    assert_int_equal(c.file.max_files, 5);

    /* No token, no dataset: Axiom is off. */
    assert_false(plume_config_axiom_active(&c));
    plume_config_free(&c);
    assert_null(c.source_name);
    assert_null(c.axiom.url);
}

/* The embedded default is byte for byte the repository's agent.toml, and loading
 * that file as a user config changes nothing. */
static void builtin_is_repo_agent_toml(void **state)
{
    (void)state;
    const char *path = plume_test_source_path("agent.toml");
    size_t len;
    char *text = plume_test_read_file(path, &len);
    assert_non_null(text);
    assert_int_equal(plume_default_config_len, len);
    assert_memory_equal(plume_default_config, text, len);
    assert_int_equal(plume_default_config[len], '\0');
    free(text);

    plume_config_t a, b;
    assert_true(plume_config_load(&a, NULL, err, sizeof(err)));
    if (!plume_config_load(&b, path, err, sizeof(err)))
        fail_msg("%s", err);
    assert_string_equal(b.source_name, path);
    char *pa = print_body(&a), *pb = print_body(&b);
    assert_string_equal(pa, pb);
    free(pa);
    free(pb);
    plume_config_free(&a);
    plume_config_free(&b);
}

static void empty_user_file_is_defaults(void **state)
{
    (void)state;
    plume_config_t a, b;
    assert_true(plume_config_load(&a, NULL, err, sizeof(err)));
    expect_ok(&b, "# nothing but a comment\n\n");
    assert_string_equal(b.source_name, "test.toml");
    char *pa = print_body(&a), *pb = print_body(&b);
    assert_string_equal(pa, pb);
    free(pa);
    free(pb);
    plume_config_free(&a);
    plume_config_free(&b);
}

/* Splits on '\n' in place. */
static size_t split_lines(char *s, char **lines, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        lines[n++] = s;
        char *nl = strchr(s, '\n');
        if (!nl)
            break;
        *nl = '\0';
        s = nl + 1;
    }
    return n;
}

/* Each snippet changes exactly one printed line: the one given. */
static void user_file_overrides_only_what_it_sets(void **state)
{
    (void)state;
    const struct {
        const char *toml;
        const char *line;
    } cases[] = {
        {"[sinks.axiom]\nbatch_max_events = 500\n", "batch_max_events = 500"},
        {"[agent]\nlog_level = \"debug\"\n", "log_level = \"debug\""},
        {"[agent]\ndata_dir = \"/srv/plume\"\n", "data_dir = \"/srv/plume\""},
        {"[agent]\nmax_memory = \"1GiB\"\n", "max_memory = \"1GiB\""},
        {"[agent]\nshutdown_timeout = \"90s\"\n", "shutdown_timeout = \"90s\""},
        {"[sources.stdin]\nenabled = true\n", "enabled = true"},
        {"[sources.stdin]\nformat = \"logfmt\"\n", "format = \"logfmt\""},
        {"[sinks.axiom]\ncompression = \"gzip\"\n", "compression = \"gzip\""},
        {"[sinks.axiom]\nurl = \"http://127.0.0.1:9\"\n", "url = \"http://127.0.0.1:9\""},
        {"[sinks.axiom]\noutbox_fsync = false\n", "outbox_fsync = false"},
        {"[sinks.axiom]\noutbox_fsync = true\n", "outbox_fsync = true"},
        {"[sinks.axiom]\nbatch_max_age = \"250ms\"\n", "batch_max_age = \"250ms\""},
        {"[sinks.console]\nenabled = false\n", "enabled = false"},
        {"[sinks.console]\nformat = \"json\"\n", "format = \"json\""},
        {"[sinks.file]\nmax_files = 9\n", "max_files = 9"},
        /* Dotted keys and inline tables address the same settings. */
        {"sinks.file.path = \"/tmp/ev.ndjson\"\n", "path = \"/tmp/ev.ndjson\""},
        {"sinks = { axiom = { max_in_flight = 5 } }\n", "max_in_flight = 5"},
    };
    plume_config_t def;
    assert_true(plume_config_load(&def, NULL, err, sizeof(err)));
    char *def_text = print_body(&def);
    char *dl[128];
    size_t ndl = split_lines(def_text, dl, 128);
    assert_true(ndl > 30);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        plume_config_t c;
        expect_ok(&c, cases[i].toml);
        char *text = print_body(&c);
        char *cl[128];
        size_t ncl = split_lines(text, cl, 128);
        assert_int_equal(ncl, ndl);
        int changed = 0;
        for (size_t j = 0; j < ncl; j++) {
            if (strcmp(cl[j], dl[j]) == 0)
                continue;
            changed++;
            if (strcmp(cl[j], cases[i].line) != 0)
                fail_msg("%s: unexpected change '%s' -> '%s'", cases[i].toml, dl[j], cl[j]);
        }
        if (changed != 1)
            fail_msg("%s: %d lines changed", cases[i].toml, changed);
        free(text);
        plume_config_free(&c);
    }
    free(def_text);
    plume_config_free(&def);
}

/* A later setting of the same string replaces (and frees) the default. */
static void overridden_values(void **state)
{
    (void)state;
    plume_config_t c;
    expect_ok(&c, "[agent]\n"
                  "data_dir = \"/d\"\n"
                  "log_level = \"error\"\n"
                  "max_memory = 16777216\n"
                  "[sources.stdin]\n"
                  "max_line_bytes = \"64KiB\"\n"
                  "[sinks.axiom]\n"
                  "path_style = \"legacy\"\n"
                  "compression = \"none\"\n"
                  "compression_level = 19\n"
                  "retry_initial = \"1s\"\n"
                  "retry_max = \"1m\"\n"
                  "retry_max_attempts = 1000000\n"
                  "[sinks.console]\n"
                  "enabled = true\n"
                  "format = \"pretty\"\n");
    assert_string_equal(c.agent.data_dir, "/d");
    assert_int_equal(c.agent.log_level, PLUME_LOG_ERROR);
    assert_int_equal(c.agent.max_memory, 16u << 20);
    assert_int_equal(c.stdin_source.max_line_bytes, 64u << 10);
    assert_int_equal(c.axiom.path_style, PLUME_AXIOM_PATH_LEGACY);
    assert_int_equal(c.axiom.compression, PLUME_CODEC_NONE);
    assert_int_equal(c.axiom.compression_level, 19);
    assert_int_equal(c.axiom.retry_initial_ms, 1000);
    assert_int_equal(c.axiom.retry_max_ms, 60000);
    assert_int_equal(c.axiom.retry_max_attempts, 1000000);
    assert_int_equal(c.console.enabled, PLUME_TRISTATE_TRUE);
    assert_int_equal(c.console.format, PLUME_CONSOLE_PRETTY);
    /* Untouched neighbours keep their defaults. */
    assert_int_equal(c.axiom.batch_max_events, 10000);
    assert_string_equal(c.axiom.url, "https://api.axiom.co");
    plume_config_free(&c);
}

/* ---- unknown names ---- */

static void unknown_key_in_file(void **state)
{
    (void)state;
    const char text[] = "# my agent\n"
                        "[sinks.axiom]\n"
                        "dataset = \"logs\"\n"
                        "  tokn = \"xaat-123\"\n";
    const char *path = write_file("typo.toml", text, sizeof(text) - 1);
    plume_config_t c;
    assert_false(plume_config_load(&c, path, err, sizeof(err)));
    char want[4200];
    snprintf(want, sizeof(want),
             "%s:4:3: unknown key in [sinks.axiom] 'tokn' (did you mean 'token'?)", path);
    assert_string_equal(err, want);
    plume_config_free(&c);
}

static void unknown_keys(void **state)
{
    (void)state;
    expect_error("[agent]\nlog_levle = \"info\"\n",
                 "test.toml:2:1: unknown key in [agent] 'log_levle' (did you mean 'log_level'?)");
    expect_error("[sinks.file]\nmax_file = 3\n",
                 "test.toml:2:1: unknown key in [sinks.file] 'max_file' (did you mean 'max_files'?)");
    /* Nothing close: no suggestion. */
    expect_error("[agent]\nzzzzzzzzzz = 1\n", "test.toml:2:1: unknown key in [agent] 'zzzzzzzzzz'");
    /* A key of another section is not accepted here. */
    expect_error("[sinks.console]\ntoken = \"x\"\n",
                 "test.toml:2:1: unknown key in [sinks.console] 'token'");
    /* Dotted key: the position is that of the unknown part. */
    expect_error("sinks.axiom.tokne = \"x\"\n",
                 "test.toml:1:13: unknown key in [sinks.axiom] 'tokne' (did you mean 'token'?)");
    /* Very long keys are reported without a suggestion. */
    char text[400], want[600];
    char key[201];
    memset(key, 'k', 200);
    key[200] = '\0';
    snprintf(text, sizeof(text), "[agent]\n%s = 1\n", key);
    snprintf(want, sizeof(want), "test.toml:2:1: unknown key in [agent] '%s'", key);
    expect_error(text, want);
}

static void unknown_sections(void **state)
{
    (void)state;
    expect_error("[agnet]\nlog_level = \"info\"\n",
                 "test.toml:1:2: unknown section 'agnet' (did you mean 'agent'?)");
    expect_error("[sinks.axiomm]\n",
                 "test.toml:1:8: unknown section 'sinks.axiomm' (did you mean 'sinks.axiom'?)");
    expect_error("[sources.stdn]\n",
                 "test.toml:1:10: unknown section 'sources.stdn' (did you mean 'sources.stdin'?)");
    expect_error("\n\n[zzzzzzzzzzzzzzzz]\n", "test.toml:3:2: unknown section 'zzzzzzzzzzzzzzzz'");
    /* A top-level key is a section that does not exist. */
    expect_error("log_level = \"info\"\n", "test.toml:1:1: unknown section 'log_level'");
    /* Parents of sections must be tables. */
    expect_error("sinks = 1\n", "test.toml:1:9: 'sinks' must be a table ([sinks]), found integer");
    expect_error("[sinks]\naxiom = true\n",
                 "test.toml:2:9: 'sinks.axiom' must be a table ([sinks.axiom]), found boolean");
    expect_error("agent = [1]\n", "test.toml:1:9: 'agent' must be a table ([agent]), found array");
    /* An array of tables is not a table. */
    expect_error("[[agent]]\n", "test.toml:1:1: 'agent' must be a table ([agent]), found array");
    /* Very long section names are cut in the message, never overflow. */
    char text[600];
    memset(text, 'a', sizeof(text));
    text[0] = '[';
    memcpy(text + 500, "]\n", 3);
    plume_config_t c;
    assert_false(load(&c, text));
    assert_non_null(strstr(err, "unknown section 'aaaa"));
    plume_config_free(&c);
}

/* ---- types and values ---- */

static void wrong_types(void **state)
{
    (void)state;
    expect_error("[sinks.axiom]\nenabled = \"yes\"\n",
                 "test.toml:2:11: sinks.axiom.enabled: expected a boolean, found string");
    expect_error("[sinks.axiom]\nbatch_max_events = \"10\"\n",
                 "test.toml:2:20: sinks.axiom.batch_max_events: expected an integer, found string");
    expect_error("[sinks.axiom]\nbatch_max_events = 10.0\n",
                 "test.toml:2:20: sinks.axiom.batch_max_events: expected an integer, found float");
    expect_error("[sinks.axiom]\nurl = 5\n",
                 "test.toml:2:7: sinks.axiom.url: expected a string, found integer");
    expect_error("[sinks.axiom]\ntoken = [\"a\"]\n",
                 "test.toml:2:9: sinks.axiom.token: expected a string, found array");
    expect_error("[agent]\nlog_level = 3\n",
                 "test.toml:2:13: agent.log_level: expected a string, found integer");
    expect_error("[agent]\ndata_dir = { path = \"/x\" }\n",
                 "test.toml:2:12: agent.data_dir: expected a string, found table");
    expect_error("[sources.stdin]\nenabled = 1\n",
                 "test.toml:2:11: sources.stdin.enabled: expected a boolean, found integer");
    expect_error("[agent]\ndata_dir = 1979-05-27\n",
                 "test.toml:2:12: agent.data_dir: expected a string, found date-local");
    /* Tristate: booleans or "auto" only. */
    expect_error("[sinks.console]\nenabled = \"yes\"\n",
                 "test.toml:2:11: sinks.console.enabled: expected true, false or \"auto\"");
    expect_error("[sinks.console]\nenabled = 1\n",
                 "test.toml:2:11: sinks.console.enabled: expected true, false or \"auto\"");
    plume_config_t c;
    expect_ok(&c, "[sinks.console]\nenabled = false\n");
    assert_int_equal(c.console.enabled, PLUME_TRISTATE_FALSE);
    plume_config_free(&c);
}

static void integer_ranges(void **state)
{
    (void)state;
    expect_error("[sinks.axiom]\nbatch_max_events = 0\n",
                 "test.toml:2:20: sinks.axiom.batch_max_events: 0 is out of range [1, 10000]");
    expect_error("[sinks.axiom]\nbatch_max_events = 10001\n",
                 "test.toml:2:20: sinks.axiom.batch_max_events: 10001 is out of range [1, 10000]");
    expect_error("[sinks.axiom]\nmax_in_flight = 65\n",
                 "test.toml:2:17: sinks.axiom.max_in_flight: 65 is out of range [1, 64]");
    expect_error("[sinks.axiom]\noutbox_fsync = \"auto\"\n",
                 "test.toml:2:16: sinks.axiom.outbox_fsync: expected true, false or \"interval\"");
    expect_error("[sinks.console]\nenabled = \"interval\"\n",
                 "test.toml:2:11: sinks.console.enabled: expected true, false or \"auto\"");
    expect_error("[sinks.axiom]\ncompression_level = -1\n",
                 "test.toml:2:21: sinks.axiom.compression_level: -1 is out of range [0, 19]");
    expect_error("[sinks.axiom]\nretry_max_attempts = -1\n",
                 "test.toml:2:22: sinks.axiom.retry_max_attempts: -1 is out of range [0, 1000000]");
    expect_error("[sinks.file]\nmax_files = 9223372036854775807\n",
                 "test.toml:2:13: sinks.file.max_files: 9223372036854775807 is out of range [1, 1000]");
    expect_error("[sinks.file]\nmax_files = -9223372036854775808\n",
                 "test.toml:2:13: sinks.file.max_files: -9223372036854775808 is out of range [1, 1000]");
    /* The bounds themselves are accepted. */
    plume_config_t c;
    expect_ok(&c, "[agent]\nmax_memory = \"1GiB\"\n[sinks.axiom]\nbatch_max_events = 1\nmax_in_flight = 64\n"
                  "[sinks.file]\nmax_files = 1000\n");
    assert_int_equal(c.axiom.batch_max_events, 1);
    assert_int_equal(c.axiom.max_in_flight, 64);
    assert_int_equal(c.file.max_files, 1000);
    plume_config_free(&c);
    expect_ok(&c, "[sinks.axiom]\nbatch_max_events = 10000\nmax_in_flight = 1\n"
                  "[sinks.file]\nmax_files = 1\n");
    assert_int_equal(c.axiom.batch_max_events, 10000);
    assert_int_equal(c.axiom.max_in_flight, 1);
    assert_int_equal(c.file.max_files, 1);
    plume_config_free(&c);
}

static void enums(void **state)
{
    (void)state;
    expect_error("[agent]\nlog_level = \"warning\"\n",
                 "test.toml:2:13: agent.log_level: 'warning' is not one of error, warn, info, debug "
                 "(did you mean 'warn'?)");
    expect_error("[sinks.axiom]\ncompression = \"gzipp\"\n",
                 "test.toml:2:15: sinks.axiom.compression: 'gzipp' is not one of none, gzip, zstd "
                 "(did you mean 'gzip'?)");
    expect_error("[sinks.axiom]\npath_style = \"EDGE\"\n",
                 "test.toml:2:14: sinks.axiom.path_style: 'EDGE' is not one of auto, edge, legacy");
    expect_error("[sources.stdin]\nformat = \"yaml-ish-format\"\n",
                 "test.toml:2:10: sources.stdin.format: 'yaml-ish-format' is not one of auto, json, "
                 "logfmt, text");
    expect_error("[sinks.console]\nformat = \"\"\n",
                 "test.toml:2:10: sinks.console.format: '' is not one of auto, pretty, json");

    /* Every allowed name maps to its enum value. */
    const struct {
        const char *toml;
        size_t off;
        int want;
    } cases[] = {
        {"[agent]\nlog_level = \"error\"", offsetof(plume_config_t, agent.log_level), PLUME_LOG_ERROR},
        {"[agent]\nlog_level = \"warn\"", offsetof(plume_config_t, agent.log_level), PLUME_LOG_WARN},
        {"[agent]\nlog_level = \"debug\"", offsetof(plume_config_t, agent.log_level), PLUME_LOG_DEBUG},
        {"[sources.stdin]\nformat = \"json\"", offsetof(plume_config_t, stdin_source.format), PLUME_STDIN_JSON},
        {"[sources.stdin]\nformat = \"logfmt\"", offsetof(plume_config_t, stdin_source.format), PLUME_STDIN_LOGFMT},
        {"[sources.stdin]\nformat = \"text\"", offsetof(plume_config_t, stdin_source.format), PLUME_STDIN_TEXT},
        {"[sinks.axiom]\npath_style = \"edge\"", offsetof(plume_config_t, axiom.path_style), PLUME_AXIOM_PATH_EDGE},
        {"[sinks.axiom]\ncompression = \"gzip\"", offsetof(plume_config_t, axiom.compression), PLUME_CODEC_GZIP},
        {"[sinks.axiom]\ncompression = \"none\"", offsetof(plume_config_t, axiom.compression), PLUME_CODEC_NONE},
        {"[sinks.console]\nformat = \"json\"", offsetof(plume_config_t, console.format), PLUME_CONSOLE_JSON},
        {"[sinks.console]\nenabled = \"auto\"", offsetof(plume_config_t, console.enabled), PLUME_TRISTATE_AUTO},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        plume_config_t c;
        expect_ok(&c, cases[i].toml);
        int got;
        memcpy(&got, (char *)&c + cases[i].off, sizeof(got));
        assert_int_equal(got, cases[i].want);
        plume_config_free(&c);
    }
}

static void sizes_and_durations(void **state)
{
    (void)state;
    plume_config_t c;
    expect_ok(&c, "[agent]\n"
                  "max_memory = \"128 MiB\"\n"
                  "shutdown_timeout = \"1.5s\"\n"
                  "[sinks.axiom]\n"
                  "batch_max_bytes = 65536\n"
                  "batch_max_age = \"2m\"\n"
                  "request_timeout = \"1h\"\n"
                  "connect_timeout = \"750ms\"\n"
                  "outbox_max_size = \"10GB\"\n"
                  "[sinks.file]\n"
                  "max_size = \"512KiB\"\n");
    assert_int_equal(c.agent.max_memory, 128u << 20);
    assert_int_equal(c.agent.shutdown_timeout_ms, 1500);
    assert_int_equal(c.axiom.batch_max_bytes, 65536);
    assert_int_equal(c.axiom.batch_max_age_ms, 120000);
    assert_int_equal(c.axiom.request_timeout_ms, 3600000);
    assert_int_equal(c.axiom.connect_timeout_ms, 750);
    assert_true(c.axiom.outbox_max_size == 10000000000ull);
    assert_int_equal(c.file.max_size, 512u << 10);
    plume_config_free(&c);

    const char *size_msg = "expected a size such as \"4MiB\", \"512KiB\" or a number of bytes";
    const char *dur_msg = "expected a duration such as \"500ms\", \"1s\" or \"5m\"";
    char want[300];
    snprintf(want, sizeof(want), "test.toml:2:14: agent.max_memory: %s", size_msg);
    expect_error("[agent]\nmax_memory = \"64mib\"\n", want);
    expect_error("[agent]\nmax_memory = -1\n", want);
    expect_error("[agent]\nmax_memory = 1.5\n", want);
    expect_error("[agent]\nmax_memory = true\n", want);
    expect_error("[agent]\nmax_memory = \"99999999999999999999\"\n", want);
    snprintf(want, sizeof(want), "test.toml:2:17: sinks.axiom.batch_max_age: %s", dur_msg);
    expect_error("[sinks.axiom]\nbatch_max_age = 5\n", want);
    expect_error("[sinks.axiom]\nbatch_max_age = \"5\"\n", want);
    expect_error("[sinks.axiom]\nbatch_max_age = \"5 sec\"\n", want);
    expect_error("[sinks.axiom]\nbatch_max_age = \"-1s\"\n", want);
}

/* ---- environment ---- */

static void env_expansion(void **state)
{
    (void)state;
    plume_config_t c;
    setenv("PLUME_UT_DIR", "/tmp/plume-ut", 1);
    setenv("PLUME_UT_MEM", "256MiB", 1);
    expect_ok(&c, "[agent]\n"
                  "data_dir = \"${PLUME_UT_DIR}/data\"\n"
                  "max_memory = \"${PLUME_UT_MEM}\"\n"
                  "[sinks.file]\n"
                  "path = \"${PLUME_UT_UNSET:-/var/log/fallback.ndjson}\"\n"
                  "[sinks.axiom]\n"
                  "org_id = \"$${literal}\"\n");
    assert_string_equal(c.agent.data_dir, "/tmp/plume-ut/data");
    assert_int_equal(c.agent.max_memory, 256u << 20);
    assert_string_equal(c.file.path, "/var/log/fallback.ndjson");
    assert_string_equal(c.axiom.org_id, "${literal}");
    plume_config_free(&c);

    /* The default's own references: PLUME_DATA_DIR moves the data dir. */
    setenv("PLUME_DATA_DIR", "/srv/plume-data", 1);
    assert_true(plume_config_load(&c, NULL, err, sizeof(err)));
    assert_string_equal(c.agent.data_dir, "/srv/plume-data");
    plume_config_free(&c);
    /* Set but empty: the fallback applies. */
    setenv("PLUME_DATA_DIR", "", 1);
    assert_true(plume_config_load(&c, NULL, err, sizeof(err)));
    assert_string_equal(c.agent.data_dir, "/var/lib/plume");
    plume_config_free(&c);

    /* Enum values go through expansion too. */
    setenv("PLUME_UT_DIR", "debug", 1);
    expect_ok(&c, "[agent]\nlog_level = \"${PLUME_UT_DIR}\"\n");
    assert_int_equal(c.agent.log_level, PLUME_LOG_DEBUG);
    plume_config_free(&c);
    setenv("PLUME_UT_DIR", "loud", 1);
    expect_error("[agent]\nlog_level = \"${PLUME_UT_DIR}\"\n",
                 "test.toml:2:13: agent.log_level: 'loud' is not one of error, warn, info, debug");
}

static void env_unset_is_an_error(void **state)
{
    (void)state;
    expect_error("[agent]\n\ndata_dir = \"${PLUME_UT_UNSET}/x\"\n",
                 "test.toml:3:12: agent.data_dir: environment variable PLUME_UT_UNSET is not set "
                 "(use ${PLUME_UT_UNSET:-default} for a fallback)");
    expect_error("[sinks.axiom]\ntoken = \"${1}\"\n",
                 "test.toml:2:9: sinks.axiom.token: invalid variable name after '${' (at offset 0)");
}

static void axiom_env_overrides_file(void **state)
{
    (void)state;
    const char *text = "[sinks.axiom]\n"
                       "url = \"https://file.example\"\n"
                       "dataset = \"file-ds\"\n"
                       "token = \"xaat-file\"\n";
    plume_config_t c;
    expect_ok(&c, text);
    assert_string_equal(c.axiom.url, "https://file.example");
    assert_string_equal(c.axiom.dataset, "file-ds");
    assert_string_equal(c.axiom.token, "xaat-file");
    assert_true(plume_config_axiom_active(&c));
    plume_config_free(&c);

    setenv("AXIOM_TOKEN", "xaat-env", 1);
    setenv("AXIOM_DATASET", "env-ds", 1);
    setenv("AXIOM_URL", "http://127.0.0.1:8080", 1);
    expect_ok(&c, text);
    assert_string_equal(c.axiom.url, "http://127.0.0.1:8080");
    assert_string_equal(c.axiom.dataset, "env-ds");
    assert_string_equal(c.axiom.token, "xaat-env");
    plume_config_free(&c);

    /* Only the ones set override; an empty variable is ignored. */
    unsetenv("AXIOM_URL");
    setenv("AXIOM_DATASET", "", 1);
    expect_ok(&c, text);
    assert_string_equal(c.axiom.url, "https://file.example");
    assert_string_equal(c.axiom.dataset, "file-ds");
    assert_string_equal(c.axiom.token, "xaat-env");
    plume_config_free(&c);

    /* With the built-in default the variables make Axiom active. */
    setenv("AXIOM_DATASET", "env-ds", 1);
    assert_true(plume_config_load(&c, NULL, err, sizeof(err)));
    assert_true(plume_config_axiom_active(&c));
    assert_string_equal(c.axiom.token, "xaat-env");
    assert_string_equal(c.axiom.dataset, "env-ds");
    assert_string_equal(c.axiom.url, "https://api.axiom.co");
    plume_config_free(&c);

    /* An overriding URL is validated like one from the file. */
    setenv("AXIOM_URL", "api.axiom.co", 1);
    expect_error(text, "test.toml: sinks.axiom.url must start with http:// or https:// "
                       "(got 'api.axiom.co')");
}

static void personal_token_needs_org_id(void **state)
{
    (void)state;
    const char *want = "test.toml: sinks.axiom: a personal token (xapt-...) needs org_id (or use "
                       "an API token, xaat-...)";
    expect_error("[sinks.axiom]\ndataset = \"d\"\ntoken = \"xapt-1234\"\n", want);
    setenv("AXIOM_TOKEN", "xapt-from-env", 1);
    expect_error("[sinks.axiom]\ndataset = \"d\"\n", want);
    unsetenv("AXIOM_TOKEN");

    plume_config_t c;
    expect_ok(&c, "[sinks.axiom]\ndataset = \"d\"\ntoken = \"xapt-1234\"\norg_id = \"org-1\"\n");
    assert_string_equal(c.axiom.org_id, "org-1");
    plume_config_free(&c);
    setenv("AXIOM_ORG_ID", "org-env", 1);
    expect_ok(&c, "[sinks.axiom]\ndataset = \"d\"\ntoken = \"xapt-1234\"\n");
    assert_string_equal(c.axiom.org_id, "org-env");
    plume_config_free(&c);
    unsetenv("AXIOM_ORG_ID");
    /* An API token needs none; a disabled sink is not checked. */
    expect_ok(&c, "[sinks.axiom]\ndataset = \"d\"\ntoken = \"xaat-1234\"\n");
    plume_config_free(&c);
    expect_ok(&c, "[sinks.axiom]\nenabled = false\ndataset = \"d\"\ntoken = \"xapt-1234\"\n");
    assert_false(plume_config_axiom_active(&c));
    plume_config_free(&c);
}

/* ---- consistency checks ---- */

static void cross_field_validation(void **state)
{
    (void)state;
    expect_error("[agent]\ndata_dir = \"\"\n", "test.toml: agent.data_dir must not be empty");
    expect_error("[sources.stdin]\nmax_line_bytes = \"15B\"\n",
                 "test.toml: sources.stdin.max_line_bytes must be between 16B and 1GiB");
    expect_error("[sources.stdin]\nmax_line_bytes = \"1025MiB\"\n",
                 "test.toml: sources.stdin.max_line_bytes must be between 16B and 1GiB");
    expect_error("[sinks.axiom]\nbatch_max_bytes = 1023\n",
                 "test.toml: sinks.axiom.batch_max_bytes must be between 1KiB and 256MiB");
    expect_error("[agent]\nmax_memory = \"2GiB\"\n[sinks.axiom]\nbatch_max_bytes = \"257MiB\"\n",
                 "test.toml: sinks.axiom.batch_max_bytes must be between 1KiB and 256MiB");
    expect_error("[sinks.axiom]\nbatch_max_age = \"0s\"\n",
                 "test.toml: sinks.axiom.batch_max_age must be greater than 0");
    expect_error("[sinks.axiom]\nretry_initial = \"0ms\"\n",
                 "test.toml: sinks.axiom: need 0 < retry_initial <= retry_max");
    expect_error("[sinks.axiom]\nretry_initial = \"2s\"\nretry_max = \"1s\"\n",
                 "test.toml: sinks.axiom: need 0 < retry_initial <= retry_max");
    expect_error("[agent]\nmax_memory = \"8MiB\"\n[sinks.axiom]\nbatch_max_bytes = \"5MiB\"\n",
                 "test.toml: agent.max_memory must be at least (2 + sinks.axiom.max_in_flight) "
                 "times sinks.axiom.batch_max_bytes");
    expect_error("[agent]\nmax_memory = \"16MiB\"\n[sinks.axiom]\nmax_in_flight = 3\n",
                 "test.toml: agent.max_memory must be at least (2 + sinks.axiom.max_in_flight) "
                 "times sinks.axiom.batch_max_bytes");
    expect_error("[sinks.axiom]\ndataset = \"d\"\ntoken = \"t\"\nurl = \"ftp://x\"\n",
                 "test.toml: sinks.axiom.url must start with http:// or https:// (got 'ftp://x')");
    /* Limits themselves pass. */
    plume_config_t c;
    expect_ok(&c, "[agent]\nmax_memory = \"16MiB\"\n[sources.stdin]\nmax_line_bytes = 16\n"
                  "[sinks.axiom]\nbatch_max_bytes = \"4MiB\"\nretry_initial = \"1s\"\n"
                  "retry_max = \"1s\"\nbatch_max_age = \"1ms\"\n");
    plume_config_free(&c);
    expect_ok(&c, "[agent]\nmax_memory = \"1GiB\"\n[sources.stdin]\nmax_line_bytes = \"1GiB\"\n"
                  "[sinks.axiom]\nbatch_max_bytes = \"256MiB\"\n");
    plume_config_free(&c);
    expect_ok(&c, "[sinks.axiom]\nbatch_max_bytes = \"1KiB\"\n");
    plume_config_free(&c);
    /* The URL is only checked when the sink is active. */
    expect_ok(&c, "[sinks.axiom]\nurl = \"nonsense\"\n");
    plume_config_free(&c);
}

/* ---- hostile input ---- */

static void strings_with_nul_refused(void **state)
{
    (void)state;
    expect_error("[sinks.axiom]\ntoken = \"xaat\\u0000rest\"\n",
                 "test.toml:2:9: sinks.axiom.token: NUL character in string");
    /* A key with a NUL must not match the key before the NUL. */
    plume_config_t c;
    assert_false(load(&c, "[sinks.axiom]\n\"token\\u0000x\" = \"abc\"\n"));
    assert_string_equal(err, "test.toml:2:1: NUL character in a key in [sinks.axiom]");
    plume_config_free(&c);
    assert_false(load(&c, "[\"agent\\u0000x\"]\nlog_level = \"debug\"\n"));
    assert_string_equal(err, "test.toml:1:2: NUL character in a section name");
    plume_config_free(&c);
}

static void toml_syntax_error_has_position(void **state)
{
    (void)state;
    plume_config_t c;
    assert_false(load(&c, "[agent]\nlog_level = \"info\"\nmax_memory = \n"));
    assert_true(strncmp(err, "test.toml:3:", 12) == 0);
    plume_config_free(&c);
    assert_false(load(&c, "[agent\n"));
    assert_true(strncmp(err, "test.toml:1:", 12) == 0);
    plume_config_free(&c);
    /* Defining a key twice is a TOML error, reported at the second one. */
    assert_false(load(&c, "[agent]\nlog_level = \"info\"\nlog_level = \"debug\"\n"));
    assert_true(strncmp(err, "test.toml:3:", 12) == 0);
    plume_config_free(&c);
}

static void file_errors(void **state)
{
    (void)state;
    plume_config_t c;
    char path[4200], want[4400];
    snprintf(path, sizeof(path), "%s/does-not-exist.toml", tmpdir);
    assert_false(plume_config_load(&c, path, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
    assert_string_equal(err, want);
    plume_config_free(&c);

    /* A directory cannot be read as a file. */
    assert_false(plume_config_load(&c, tmpdir, err, sizeof(err)));
    assert_true(strncmp(err, tmpdir, strlen(tmpdir)) == 0);
    plume_config_free(&c);

    /* 4 MiB of comments is fine; one byte more is refused before parsing. */
    const size_t max = 4u << 20;
    char *big = malloc(max + 1);
    assert_non_null(big);
    memset(big, ' ', max + 1);
    big[0] = '#';
    big[max - 1] = '\n';
    const char *p = write_file("big.toml", big, max);
    snprintf(path, sizeof(path), "%s", p);
    assert_true(plume_config_load(&c, path, err, sizeof(err)));
    plume_config_free(&c);
    big[max - 1] = ' ';
    big[max] = '\n';
    p = write_file("big.toml", big, max + 1);
    assert_false(plume_config_load(&c, p, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s: file larger than 4 MiB", p);
    assert_string_equal(err, want);
    plume_config_free(&c);
    free(big);
}

static void small_error_buffer(void **state)
{
    (void)state;
    plume_config_t c;
    char small[16];
    memset(small, 'Z', sizeof(small));
    const char *text = "[agent]\nlog_levle = 1\n";
    assert_false(plume_config_load_text(&c, "a-rather-long-file-name.toml", text, strlen(text), small,
                                        sizeof(small)));
    assert_int_equal(small[15], '\0');
    assert_memory_equal(small, "a-rather-long-f", 15);
    plume_config_free(&c);
    memset(small, 'Z', sizeof(small));
    assert_false(plume_config_load_text(&c, "t", text, strlen(text), small, sizeof(small)));
    assert_string_equal(small, "t:2:1: unknown ");
    plume_config_free(&c);
}

/* ---- printing ---- */

static void print_masks_token(void **state)
{
    (void)state;
    plume_config_t c;
    expect_ok(&c, "[sinks.axiom]\ndataset = \"ds\"\ntoken = \"xaat-s3cr3t-t0k3n-value\"\n");
    char *text = print_all(&c);
    assert_null(strstr(text, "s3cr3t"));
    assert_null(strstr(text, "xaat-"));
    assert_non_null(strstr(text, "\ntoken = \"********\"  # set, masked\n"));
    assert_non_null(strstr(text, "\ndataset = \"ds\"\n"));
    assert_non_null(strstr(text, "# active: yes\n"));
    assert_true(strncmp(text, "# effective configuration (from test.toml)\n", 43) == 0);
    free(text);
    plume_config_free(&c);

    /* A token from the environment is masked too. */
    setenv("AXIOM_TOKEN", "xaat-from-the-environment", 1);
    assert_true(plume_config_load(&c, NULL, err, sizeof(err)));
    text = print_all(&c);
    assert_null(strstr(text, "from-the-environment"));
    assert_non_null(strstr(text, "\ntoken = \"********\"  # set, masked\n"));
    assert_non_null(strstr(text, "# active: no (needs a token and a dataset)\n"));
    free(text);
    plume_config_free(&c);
    unsetenv("AXIOM_TOKEN");

    /* No token: shown empty, nothing claims it is set. */
    assert_true(plume_config_load(&c, NULL, err, sizeof(err)));
    text = print_all(&c);
    assert_non_null(strstr(text, "\ntoken = \"\"\n"));
    assert_null(strstr(text, "masked"));
    free(text);
    plume_config_free(&c);
}

/* What print writes is TOML that loads back to the same settings. */
static void print_reads_back(void **state)
{
    (void)state;
    plume_config_t c;
    expect_ok(&c, "[agent]\n"
                  "data_dir = \"/tmp/quote\\\"back\\\\slash\\ttab\"\n"
                  "log_level = \"warn\"\n"
                  "max_memory = 123456789\n"
                  "shutdown_timeout = \"1.5s\"\n"
                  "[sources.stdin]\n"
                  "enabled = true\n"
                  "max_line_bytes = \"3KiB\"\n"
                  "[sinks.axiom]\n"
                  "compression = \"gzip\"\n"
                  "compression_level = 9\n"
                  "batch_max_age = \"90s\"\n"
                  "path_style = \"edge\"\n"
                  "[sinks.console]\n"
                  "enabled = true\n"
                  "[sinks.file]\n"
                  "enabled = true\n"
                  "path = \"caf\xc3\xa9.ndjson\"\n"
                  "max_size = \"10MB\"\n");
    char *first = print_all(&c);
    plume_config_t d;
    if (!plume_config_load_text(&d, "printed", first, strlen(first), err, sizeof(err)))
        fail_msg("printed config does not load: %s\n%s", err, first);
    assert_string_equal(d.agent.data_dir, "/tmp/quote\"back\\slash\ttab");
    assert_string_equal(d.file.path, "caf\xc3\xa9.ndjson");
    assert_int_equal(d.agent.max_memory, 123456789);
    assert_int_equal(d.agent.shutdown_timeout_ms, 1500);
    assert_int_equal(d.file.max_size, 10000000);
    char *a = print_body(&c), *b = print_body(&d);
    assert_string_equal(a, b);
    free(a);
    free(b);
    free(first);
    plume_config_free(&c);
    plume_config_free(&d);
}

static void axiom_active(void **state)
{
    (void)state;
    plume_config_t c;
    expect_ok(&c, "[sinks.axiom]\ndataset = \"d\"\ntoken = \"xaat-1\"\n");
    assert_true(plume_config_axiom_active(&c));
    c.axiom.enabled = false;
    assert_false(plume_config_axiom_active(&c));
    c.axiom.enabled = true;
    c.axiom.token[0] = '\0';
    assert_false(plume_config_axiom_active(&c));
    plume_config_free(&c);

    expect_ok(&c, "[sinks.axiom]\ndataset = \"d\"\n");
    assert_false(plume_config_axiom_active(&c));
    plume_config_free(&c);
    expect_ok(&c, "[sinks.axiom]\ntoken = \"xaat-1\"\n");
    assert_false(plume_config_axiom_active(&c));
    plume_config_free(&c);

    /* Freed (NULL) strings are handled. */
    plume_config_t z;
    memset(&z, 0, sizeof(z));
    z.axiom.enabled = true;
    assert_false(plume_config_axiom_active(&z));
    plume_config_free(&z);
}

/* [sinks.sentry] and [routing]: defaults, the DSN checked at load with an
 * error naming the option and the bad part (never the key), SENTRY_DSN over
 * the file, and the routing level bounds. */
static void sentry_and_routing(void **state)
{
    (void)state;
    plume_config_t c;
    expect_ok(&c, "");
    assert_false(plume_config_sentry_active(&c)); /* no DSN */
    assert_true(c.sentry.enabled);
    assert_string_equal(c.sentry.environment, "production");
    assert_int_equal(c.sentry.log_batch_max_events, 100);
    assert_int_equal(c.sentry.log_batch_max_age_ms, 1000);
    assert_true(c.sentry.outbox_fsync);
    assert_int_equal(c.routing.sentry_min_level, PLUME_LEVEL_ERROR);
    assert_false(c.routing.logs_to_sentry);
    assert_true(c.routing.errors_to_axiom);
    plume_config_free(&c);

    expect_ok(&c, "[sinks.sentry]\ndsn = \"https://abc@o1.ingest.sentry.io/42\"\n"
                  "[routing]\nsentry_min_level = \"fatal\"\nlogs_to_sentry = true\n");
    assert_true(plume_config_sentry_active(&c));
    assert_int_equal(c.routing.sentry_min_level, PLUME_LEVEL_FATAL);
    assert_true(c.routing.logs_to_sentry);
    char *printed = print_all(&c);
    assert_null(strstr(printed, "abc@")); /* the DSN is masked */
    assert_non_null(strstr(printed, "[routing]\nsentry_min_level = \"fatal\""));
    free(printed);
    plume_config_free(&c);

    plume_config_t bad;
    assert_false(load(&bad, "[sinks.sentry]\ndsn = \"https://sekrit@sentry.example.com/abc\"\n"));
    assert_non_null(strstr(err, "test.toml: sinks.sentry.dsn: "));
    assert_non_null(strstr(err, "project id"));
    assert_null(strstr(err, "sekrit"));
    plume_config_free(&bad);
    /* a disabled sink's DSN is not checked */
    expect_ok(&c, "[sinks.sentry]\nenabled = false\ndsn = \"nonsense\"\n");
    assert_false(plume_config_sentry_active(&c));
    plume_config_free(&c);

    expect_error("[routing]\nsentry_min_level = \"info\"\n",
                 "test.toml: routing.sentry_min_level must be warn, error or fatal");
    expect_error("[sinks.sentry]\nlog_batch_max_events = 101\n",
                 "test.toml:2:24: sinks.sentry.log_batch_max_events: 101 is out of range [1, 100]");

    setenv("SENTRY_DSN", "http://envkey@127.0.0.1:9/7", 1);
    expect_ok(&c, "[sinks.sentry]\ndsn = \"https://filekey@h/1\"\n");
    assert_string_equal(c.sentry.dsn, "http://envkey@127.0.0.1:9/7");
    plume_config_free(&c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, clean_env, clean_env)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(builtin_defaults),
        T(builtin_is_repo_agent_toml),
        T(empty_user_file_is_defaults),
        T(user_file_overrides_only_what_it_sets),
        T(overridden_values),
        T(unknown_key_in_file),
        T(unknown_keys),
        T(unknown_sections),
        T(wrong_types),
        T(integer_ranges),
        T(enums),
        T(sizes_and_durations),
        T(env_expansion),
        T(env_unset_is_an_error),
        T(axiom_env_overrides_file),
        T(personal_token_needs_org_id),
        T(cross_field_validation),
        T(strings_with_nul_refused),
        T(toml_syntax_error_has_position),
        T(file_errors),
        T(small_error_buffer),
        T(print_masks_token),
        T(print_reads_back),
        T(axiom_active),
        T(sentry_and_routing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
