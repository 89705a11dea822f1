/* SPDX-License-Identifier: MIT */
/* Config loading: TOML document -> plume_config_t.
 *
 * The built-in default (agent.toml, embedded at build time) is loaded first and
 * the user's file on top of it, so the defaults are exactly what agent.toml says.
 * Each option is one row of `options[]` below: section, key, type and where it
 * lands in the struct. Unknown sections and keys are errors with a "did you mean"
 * suggestion. Strings go through ${VAR} expansion (envexpand.c) before they are
 * interpreted, and AXIOM_TOKEN / AXIOM_DATASET / AXIOM_URL override the files. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config_units.h"
#include "envexpand.h"
#include "plume/plume.h" /* plume_level_t: routing.sentry_min_level */
#include "sentry_dsn.h"
#include "toml.h"

typedef enum { OPT_STRING, OPT_BOOL, OPT_INT, OPT_SIZE, OPT_DURATION, OPT_ENUM, OPT_TRISTATE } opt_type_t;

typedef struct option {
    const char *section;
    const char *key;
    opt_type_t type;
    size_t offset;
    const char *const *names; /* OPT_ENUM: allowed values; the index is stored.
                               * OPT_TRISTATE: names[0] is the third state's word
                               * (NULL: "auto") */
    int64_t min, max;         /* OPT_INT bounds */
    bool secret;              /* masked by --check-config */
} option_t;

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const stdin_formats[] = {"auto", "json", "logfmt", "text", NULL};
static const char *const path_styles[] = {"auto", "edge", "legacy", NULL};
static const char *const codecs[] = {"none", "gzip", "zstd", NULL};
static const char *const console_formats[] = {"auto", "pretty", "json", NULL};
static const char *const fsync_interval[] = {"interval", NULL};
/* plume_level_t values from PLUME_LEVEL_TRACE (0) on */
static const char *const event_levels[] = {"trace", "debug", "info", "warn", "error", "fatal", NULL};

#define OFF(field) offsetof(plume_config_t, field)
static const option_t options[] = {
    {"agent", "data_dir", OPT_STRING, OFF(agent.data_dir), NULL, 0, 0, false},
    {"agent", "log_level", OPT_ENUM, OFF(agent.log_level), log_levels, 0, 0, false},
    {"agent", "shutdown_timeout", OPT_DURATION, OFF(agent.shutdown_timeout_ms), NULL, 0, 0, false},
    {"agent", "max_memory", OPT_SIZE, OFF(agent.max_memory), NULL, 0, 0, false},
    {"sources.stdin", "enabled", OPT_BOOL, OFF(stdin_source.enabled), NULL, 0, 0, false},
    {"sources.stdin", "format", OPT_ENUM, OFF(stdin_source.format), stdin_formats, 0, 0, false},
    {"sources.stdin", "max_line_bytes", OPT_SIZE, OFF(stdin_source.max_line_bytes), NULL, 0, 0, false},
    {"sinks.axiom", "enabled", OPT_BOOL, OFF(axiom.enabled), NULL, 0, 0, false},
    {"sinks.axiom", "url", OPT_STRING, OFF(axiom.url), NULL, 0, 0, false},
    {"sinks.axiom", "path_style", OPT_ENUM, OFF(axiom.path_style), path_styles, 0, 0, false},
    {"sinks.axiom", "dataset", OPT_STRING, OFF(axiom.dataset), NULL, 0, 0, false},
    {"sinks.axiom", "token", OPT_STRING, OFF(axiom.token), NULL, 0, 0, true},
    {"sinks.axiom", "org_id", OPT_STRING, OFF(axiom.org_id), NULL, 0, 0, false},
    {"sinks.axiom", "compression", OPT_ENUM, OFF(axiom.compression), codecs, 0, 0, false},
    {"sinks.axiom", "compression_level", OPT_INT, OFF(axiom.compression_level), NULL, 0, 19, false},
    {"sinks.axiom", "compression_threads", OPT_INT, OFF(axiom.compression_threads), NULL, 0, 64, false},
    {"sinks.axiom", "batch_max_events", OPT_INT, OFF(axiom.batch_max_events), NULL, 1, 10000, false},
    {"sinks.axiom", "batch_max_bytes", OPT_SIZE, OFF(axiom.batch_max_bytes), NULL, 0, 0, false},
    {"sinks.axiom", "batch_max_age", OPT_DURATION, OFF(axiom.batch_max_age_ms), NULL, 0, 0, false},
    {"sinks.axiom", "max_in_flight", OPT_INT, OFF(axiom.max_in_flight), NULL, 1, 64, false},
    {"sinks.axiom", "request_timeout", OPT_DURATION, OFF(axiom.request_timeout_ms), NULL, 0, 0, false},
    {"sinks.axiom", "connect_timeout", OPT_DURATION, OFF(axiom.connect_timeout_ms), NULL, 0, 0, false},
    {"sinks.axiom", "retry_initial", OPT_DURATION, OFF(axiom.retry_initial_ms), NULL, 0, 0, false},
    {"sinks.axiom", "retry_max", OPT_DURATION, OFF(axiom.retry_max_ms), NULL, 0, 0, false},
    {"sinks.axiom", "retry_max_attempts", OPT_INT, OFF(axiom.retry_max_attempts), NULL, 0, 1000000, false},
    {"sinks.axiom", "outbox_max_size", OPT_SIZE, OFF(axiom.outbox_max_size), NULL, 0, 0, false},
    {"sinks.axiom", "outbox_fsync", OPT_TRISTATE, OFF(axiom.outbox_fsync), fsync_interval, 0, 0, false},
    {"sinks.sentry", "enabled", OPT_BOOL, OFF(sentry.enabled), NULL, 0, 0, false},
    {"sinks.sentry", "dsn", OPT_STRING, OFF(sentry.dsn), NULL, 0, 0, true},
    {"sinks.sentry", "release", OPT_STRING, OFF(sentry.release), NULL, 0, 0, false},
    {"sinks.sentry", "environment", OPT_STRING, OFF(sentry.environment), NULL, 0, 0, false},
    {"sinks.sentry", "server_name", OPT_STRING, OFF(sentry.server_name), NULL, 0, 0, false},
    {"sinks.sentry", "max_in_flight", OPT_INT, OFF(sentry.max_in_flight), NULL, 1, 64, false},
    {"sinks.sentry", "request_timeout", OPT_DURATION, OFF(sentry.request_timeout_ms), NULL, 0, 0, false},
    {"sinks.sentry", "connect_timeout", OPT_DURATION, OFF(sentry.connect_timeout_ms), NULL, 0, 0, false},
    {"sinks.sentry", "retry_initial", OPT_DURATION, OFF(sentry.retry_initial_ms), NULL, 0, 0, false},
    {"sinks.sentry", "retry_max", OPT_DURATION, OFF(sentry.retry_max_ms), NULL, 0, 0, false},
    {"sinks.sentry", "retry_max_attempts", OPT_INT, OFF(sentry.retry_max_attempts), NULL, 0, 1000000, false},
    {"sinks.sentry", "log_batch_max_events", OPT_INT, OFF(sentry.log_batch_max_events), NULL, 1, 100, false},
    {"sinks.sentry", "log_batch_max_age", OPT_DURATION, OFF(sentry.log_batch_max_age_ms), NULL, 0, 0, false},
    {"sinks.sentry", "outbox_max_size", OPT_SIZE, OFF(sentry.outbox_max_size), NULL, 0, 0, false},
    {"sinks.sentry", "outbox_fsync", OPT_BOOL, OFF(sentry.outbox_fsync), NULL, 0, 0, false},
    {"routing", "sentry_min_level", OPT_ENUM, OFF(routing.sentry_min_level), event_levels, 0, 0, false},
    {"routing", "logs_to_sentry", OPT_BOOL, OFF(routing.logs_to_sentry), NULL, 0, 0, false},
    {"routing", "errors_to_axiom", OPT_BOOL, OFF(routing.errors_to_axiom), NULL, 0, 0, false},
    {"sinks.console", "enabled", OPT_TRISTATE, OFF(console.enabled), NULL, 0, 0, false},
    {"sinks.console", "format", OPT_ENUM, OFF(console.format), console_formats, 0, 0, false},
    {"sinks.file", "enabled", OPT_BOOL, OFF(file.enabled), NULL, 0, 0, false},
    {"sinks.file", "path", OPT_STRING, OFF(file.path), NULL, 0, 0, false},
    {"sinks.file", "max_size", OPT_SIZE, OFF(file.max_size), NULL, 0, 0, false},
    {"sinks.file", "max_files", OPT_INT, OFF(file.max_files), NULL, 1, 1000, false},
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static const char *const sections[] = {"agent",        "sources.stdin", "sinks.axiom",
                                       "sinks.sentry", "routing",       "sinks.console",
                                       "sinks.file"};
#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

typedef struct loader {
    plume_config_t *cfg;
    const char *name;
    char *err;
    size_t errlen;
} loader_t;

static bool fail(loader_t *ld, plume_toml_pos_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(loader_t *ld, plume_toml_pos_t pos, const char *fmt, ...)
{
    int n = snprintf(ld->err, ld->errlen, "%s:%d:%d: ", ld->name, pos.line, pos.col);
    if (n < 0 || (size_t)n >= ld->errlen)
        return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}

/* Edit distance, for "did you mean" suggestions. Inputs are short keys. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return (size_t)-1; /* too long to compare: never suggested */
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diag + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* Closest candidate within a small distance, or NULL. */
static const char *suggest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    size_t limit = strlen(word) / 3 + 2;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, cands[i]);
        if (d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    return best_d <= limit ? best : NULL;
}

static bool fail_unknown(loader_t *ld, plume_toml_pos_t pos, const char *what, const char *name,
                         const char *const *cands, size_t n)
{
    const char *s = suggest(name, cands, n);
    if (s)
        return fail(ld, pos, "unknown %s '%s' (did you mean '%s'?)", what, name, s);
    return fail(ld, pos, "unknown %s '%s'", what, name);
}

static bool bind_value(loader_t *ld, const option_t *opt, const plume_toml_value_t *v)
{
    void *dst = (char *)ld->cfg + opt->offset;
    plume_toml_pos_t pos = plume_toml_pos(v);
    plume_toml_type_t t = plume_toml_type(v);
    char *expanded = NULL;
    char experr[200];

    if (t == PLUME_TOML_STRING) {
        size_t len;
        const char *raw = plume_toml_string(v, &len);
        if (memchr(raw, '\0', len))
            return fail(ld, pos, "%s.%s: NUL character in string", opt->section, opt->key);
        expanded = plume_env_expand(raw, experr, sizeof(experr));
        if (!expanded)
            return fail(ld, pos, "%s.%s: %s", opt->section, opt->key, experr);
    }

    bool ok = true;
    switch (opt->type) {
    case OPT_STRING:
        if (t != PLUME_TOML_STRING)
            goto wrong_type;
        free(*(char **)dst);
        *(char **)dst = expanded;
        return true;
    case OPT_BOOL:
        if (t != PLUME_TOML_BOOL)
            goto wrong_type;
        *(bool *)dst = plume_toml_bool(v);
        break;
    case OPT_TRISTATE: {
        const char *third = opt->names ? opt->names[0] : "auto";
        if (t == PLUME_TOML_BOOL) {
            *(int *)dst = plume_toml_bool(v) ? PLUME_TRISTATE_TRUE : PLUME_TRISTATE_FALSE;
        } else if (t == PLUME_TOML_STRING && strcmp(expanded, third) == 0) {
            *(int *)dst = PLUME_TRISTATE_AUTO;
        } else {
            ok = fail(ld, pos, "%s.%s: expected true, false or \"%s\"", opt->section, opt->key,
                      third);
        }
        break;
    }
    case OPT_INT: {
        if (t != PLUME_TOML_INTEGER)
            goto wrong_type;
        int64_t n = plume_toml_integer(v);
        if (n < opt->min || n > opt->max)
            ok = fail(ld, pos, "%s.%s: %lld is out of range [%lld, %lld]", opt->section, opt->key,
                      (long long)n, (long long)opt->min, (long long)opt->max);
        else
            *(int64_t *)dst = n;
        break;
    }
    case OPT_SIZE: {
        uint64_t n;
        if (t == PLUME_TOML_INTEGER && plume_toml_integer(v) >= 0) {
            *(uint64_t *)dst = (uint64_t)plume_toml_integer(v);
        } else if (t == PLUME_TOML_STRING && plume_parse_size(expanded, &n)) {
            *(uint64_t *)dst = n;
        } else {
            ok = fail(ld, pos, "%s.%s: expected a size such as \"4MiB\", \"512KiB\" or a number of bytes",
                      opt->section, opt->key);
        }
        break;
    }
    case OPT_DURATION: {
        uint64_t ms;
        if (t == PLUME_TOML_STRING && plume_parse_duration_ms(expanded, &ms))
            *(uint64_t *)dst = ms;
        else
            ok = fail(ld, pos, "%s.%s: expected a duration such as \"500ms\", \"1s\" or \"5m\"",
                      opt->section, opt->key);
        break;
    }
    case OPT_ENUM: {
        if (t != PLUME_TOML_STRING)
            goto wrong_type;
        size_t n = 0;
        while (opt->names[n])
            n++;
        size_t i;
        for (i = 0; i < n; i++)
            if (strcmp(opt->names[i], expanded) == 0)
                break;
        if (i < n) {
            *(int *)dst = (int)i;
        } else {
            char list[200] = "";
            for (size_t j = 0; j < n; j++) {
                strncat(list, j ? ", " : "", sizeof(list) - strlen(list) - 1);
                strncat(list, opt->names[j], sizeof(list) - strlen(list) - 1);
            }
            const char *s = suggest(expanded, opt->names, n);
            if (s)
                ok = fail(ld, pos, "%s.%s: '%s' is not one of %s (did you mean '%s'?)", opt->section,
                          opt->key, expanded, list, s);
            else
                ok = fail(ld, pos, "%s.%s: '%s' is not one of %s", opt->section, opt->key,
                          expanded, list);
        }
        break;
    }
    }
    free(expanded);
    return ok;

wrong_type:
    free(expanded);
    return fail(ld, pos, "%s.%s: expected %s, found %s", opt->section, opt->key,
                opt->type == OPT_STRING || opt->type == OPT_ENUM ? "a string"
                : opt->type == OPT_BOOL                          ? "a boolean"
                                                                 : "an integer",
                plume_toml_type_name(t));
}

static bool bind_section(loader_t *ld, const char *section, const plume_toml_value_t *tbl)
{
    const char *keys[NOPTIONS];
    size_t nkeys = 0;
    for (size_t i = 0; i < NOPTIONS; i++)
        if (strcmp(options[i].section, section) == 0)
            keys[nkeys++] = options[i].key;

    for (size_t i = 0; i < plume_toml_count(tbl); i++) {
        plume_toml_pos_t kpos;
        size_t klen;
        const char *key = plume_toml_table_key_len_at(tbl, i, &klen, &kpos);
        /* "token\u0000x" must not pass for "token". */
        if (strlen(key) != klen)
            return fail(ld, kpos, "NUL character in a key in [%s]", section);
        const option_t *opt = NULL;
        for (size_t j = 0; j < NOPTIONS; j++)
            if (strcmp(options[j].section, section) == 0 && strcmp(options[j].key, key) == 0)
                opt = &options[j];
        if (!opt) {
            char what[64];
            snprintf(what, sizeof(what), "key in [%s]", section);
            return fail_unknown(ld, kpos, what, key, keys, nkeys);
        }
        if (!bind_value(ld, opt, plume_toml_table_value_at(tbl, i)))
            return false;
    }
    return true;
}

/* Walks tables: a known section is bound; a prefix of one ("sources", "sinks")
 * is descended into; anything else is an unknown section. */
static bool bind_tables(loader_t *ld, const char *prefix, const plume_toml_value_t *tbl)
{
    for (size_t i = 0; i < plume_toml_count(tbl); i++) {
        plume_toml_pos_t kpos;
        size_t klen;
        const char *key = plume_toml_table_key_len_at(tbl, i, &klen, &kpos);
        if (strlen(key) != klen)
            return fail(ld, kpos, "NUL character in a section name");
        const plume_toml_value_t *v = plume_toml_table_value_at(tbl, i);
        char path[128];
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);

        bool known = false, is_prefix = false;
        size_t plen = strlen(path);
        for (size_t j = 0; j < NSECTIONS; j++) {
            if (strcmp(sections[j], path) == 0)
                known = true;
            else if (strncmp(sections[j], path, plen) == 0 && sections[j][plen] == '.')
                is_prefix = true;
        }
        if (!known && !is_prefix)
            return fail_unknown(ld, kpos, "section", path, sections, NSECTIONS);
        if (plume_toml_type(v) != PLUME_TOML_TABLE)
            return fail(ld, plume_toml_pos(v), "'%s' must be a table ([%s]), found %s", path,
                        path, plume_toml_type_name(plume_toml_type(v)));
        if (known ? !bind_section(ld, path, v) : !bind_tables(ld, path, v))
            return false;
    }
    return true;
}

static bool load_layer(plume_config_t *cfg, const char *name, const char *text, size_t len,
                       char *err, size_t errlen)
{
    loader_t ld = {cfg, name, err, errlen};
    plume_toml_error_t terr;
    plume_toml_value_t *root = plume_toml_parse(text, len, &terr);
    if (!root)
        return fail(&ld, terr.pos, "%s", terr.message);
    bool ok = bind_tables(&ld, "", root);
    plume_toml_free(root);
    return ok;
}

static void override_from_env(char **field, const char *var)
{
    const char *v = getenv(var);
    if (v && *v) {
        char *copy = strdup(v);
        if (copy) {
            free(*field);
            *field = copy;
        }
    }
}

static bool validate(plume_config_t *cfg, char *err, size_t errlen)
{
    const plume_axiom_config_t *ax = &cfg->axiom;
    const char *name = cfg->source_name;
    if (!cfg->agent.data_dir || !*cfg->agent.data_dir) {
        snprintf(err, errlen, "%s: agent.data_dir must not be empty", name);
        return false;
    }
    if (cfg->stdin_source.max_line_bytes < 16 || cfg->stdin_source.max_line_bytes > (1u << 30)) {
        snprintf(err, errlen, "%s: sources.stdin.max_line_bytes must be between 16B and 1GiB", name);
        return false;
    }
    if (ax->batch_max_bytes < 1024 || ax->batch_max_bytes > (256u << 20)) {
        snprintf(err, errlen, "%s: sinks.axiom.batch_max_bytes must be between 1KiB and 256MiB", name);
        return false;
    }
    if (ax->batch_max_age_ms == 0) {
        snprintf(err, errlen, "%s: sinks.axiom.batch_max_age must be greater than 0", name);
        return false;
    }
    if (ax->retry_initial_ms == 0 || ax->retry_max_ms < ax->retry_initial_ms) {
        snprintf(err, errlen, "%s: sinks.axiom: need 0 < retry_initial <= retry_max", name);
        return false;
    }
    /* The Axiom sink holds its open batch, the bodies in flight and at least one
     * sealed batch waiting for compression (axiom_sink.c). */
    if (cfg->agent.max_memory < (2 + (uint64_t)ax->max_in_flight) * ax->batch_max_bytes) {
        snprintf(err, errlen,
                 "%s: agent.max_memory must be at least (2 + sinks.axiom.max_in_flight) times "
                 "sinks.axiom.batch_max_bytes",
                 name);
        return false;
    }
    if (ax->dataset && strlen(ax->dataset) > PLUME_AXIOM_MAX_DATASET) {
        snprintf(err, errlen, "%s: sinks.axiom.dataset is longer than %d bytes", name,
                 PLUME_AXIOM_MAX_DATASET);
        return false;
    }
    const plume_sentry_config_t *se = &cfg->sentry;
    if (se->log_batch_max_age_ms == 0) {
        snprintf(err, errlen, "%s: sinks.sentry.log_batch_max_age must be greater than 0", name);
        return false;
    }
    if (se->retry_initial_ms == 0 || se->retry_max_ms < se->retry_initial_ms) {
        snprintf(err, errlen, "%s: sinks.sentry: need 0 < retry_initial <= retry_max", name);
        return false;
    }
    if (cfg->routing.sentry_min_level < PLUME_LEVEL_WARN) {
        snprintf(err, errlen, "%s: routing.sentry_min_level must be warn, error or fatal", name);
        return false;
    }
    if (plume_config_sentry_active(cfg)) {
        plume_sentry_dsn_t dsn;
        char why[300];
        if (plume_sentry_dsn_parse(se->dsn, &dsn, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "%s: sinks.sentry.dsn: %s", name, why);
            return false;
        }
    }
    if (plume_config_axiom_active(cfg)) {
        if (strncmp(ax->url, "http://", 7) != 0 && strncmp(ax->url, "https://", 8) != 0) {
            snprintf(err, errlen, "%s: sinks.axiom.url must start with http:// or https:// (got '%s')",
                     name, ax->url);
            return false;
        }
        if (strncmp(ax->token, "xapt-", 5) == 0 && !*ax->org_id) {
            snprintf(err, errlen,
                     "%s: sinks.axiom: a personal token (xapt-...) needs org_id (or use an API token, xaat-...)",
                     name);
            return false;
        }
    }
    return true;
}

bool plume_config_load_text(plume_config_t *cfg, const char *name, const char *text, size_t len,
                            char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->source_name = strdup(name);
    if (!cfg->source_name) {
        snprintf(err, errlen, "%s: out of memory", name);
        return false;
    }
    if (!load_layer(cfg, "<built-in>", plume_default_config, plume_default_config_len, err, errlen))
        return false;
    if (text && !load_layer(cfg, name, text, len, err, errlen))
        return false;
    override_from_env(&cfg->axiom.token, "AXIOM_TOKEN");
    override_from_env(&cfg->axiom.dataset, "AXIOM_DATASET");
    override_from_env(&cfg->axiom.url, "AXIOM_URL");
    override_from_env(&cfg->sentry.dsn, "SENTRY_DSN");
    return validate(cfg, err, errlen);
}

bool plume_config_load(plume_config_t *cfg, const char *path, char *err, size_t errlen)
{
    if (!path)
        return plume_config_load_text(cfg, "<built-in>", NULL, 0, err, errlen);
    FILE *f = fopen(path, "rb");
    if (!f) {
        memset(cfg, 0, sizeof(*cfg));
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return false;
    }
    /* Config files are small; refuse absurd ones instead of reading them whole. */
    const size_t max = 4u << 20;
    char *text = malloc(max + 1);
    size_t n = text ? fread(text, 1, max + 1, f) : 0;
    bool read_err = ferror(f);
    fclose(f);
    if (!text || read_err || n > max) {
        free(text);
        memset(cfg, 0, sizeof(*cfg));
        snprintf(err, errlen, "%s: %s", path,
                 !text ? "out of memory" : read_err ? "read error" : "file larger than 4 MiB");
        return false;
    }
    bool ok = plume_config_load_text(cfg, path, text, n, err, errlen);
    free(text);
    return ok;
}

void plume_config_free(plume_config_t *cfg)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].type == OPT_STRING) {
            char **p = (char **)((char *)cfg + options[i].offset);
            free(*p);
            *p = NULL;
        }
    free(cfg->source_name);
    cfg->source_name = NULL;
}

bool plume_config_axiom_active(const plume_config_t *cfg)
{
    const plume_axiom_config_t *ax = &cfg->axiom;
    return ax->enabled && ax->token && *ax->token && ax->dataset && *ax->dataset;
}

bool plume_config_sentry_active(const plume_config_t *cfg)
{
    return cfg->sentry.enabled && cfg->sentry.dsn && *cfg->sentry.dsn;
}

static void print_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

void plume_config_print(const plume_config_t *cfg, FILE *out)
{
    fprintf(out, "# effective configuration (from %s)\n", cfg->source_name);
    const char *section = "";
    for (size_t i = 0; i < NOPTIONS; i++) {
        const option_t *opt = &options[i];
        const void *src = (const char *)cfg + opt->offset;
        if (strcmp(section, opt->section) != 0) {
            section = opt->section;
            fprintf(out, "\n[%s]\n", section);
        }
        fprintf(out, "%s = ", opt->key);
        switch (opt->type) {
        case OPT_STRING: {
            const char *s = *(char *const *)src;
            if (opt->secret && s && *s)
                fputs("\"********\"  # set, masked", out);
            else
                print_string(out, s ? s : "");
            break;
        }
        case OPT_BOOL:
            fputs(*(const bool *)src ? "true" : "false", out);
            break;
        case OPT_TRISTATE: {
            int t = *(const int *)src;
            if (t == PLUME_TRISTATE_AUTO)
                fprintf(out, "\"%s\"", opt->names ? opt->names[0] : "auto");
            else
                fputs(t ? "true" : "false", out);
            break;
        }
        case OPT_INT:
            fprintf(out, "%lld", (long long)*(const int64_t *)src);
            break;
        case OPT_SIZE: {
            char buf[32];
            plume_format_size(*(const uint64_t *)src, buf, sizeof(buf));
            fprintf(out, "\"%s\"", buf);
            break;
        }
        case OPT_DURATION: {
            char buf[32];
            plume_format_duration_ms(*(const uint64_t *)src, buf, sizeof(buf));
            fprintf(out, "\"%s\"", buf);
            break;
        }
        case OPT_ENUM:
            fprintf(out, "\"%s\"", opt->names[*(const int *)src]);
            break;
        }
        fputc('\n', out);
        if (strcmp(section, "sinks.axiom") == 0 && strcmp(opt->key, "enabled") == 0)
            fprintf(out, "# active: %s\n",
                    plume_config_axiom_active(cfg) ? "yes"
                                                   : "no (needs a token and a dataset)");
        if (strcmp(section, "sinks.sentry") == 0 && strcmp(opt->key, "enabled") == 0)
            fprintf(out, "# active: %s\n",
                    plume_config_sentry_active(cfg) ? "yes" : "no (needs a dsn)");
    }
}
