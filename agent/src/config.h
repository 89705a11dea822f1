/* SPDX-License-Identifier: MIT */
/* The agent's configuration: the typed settings, loaded from a TOML file (or the
 * built-in default, which is the repository's agent.toml), with ${VAR}
 * expansion and the AXIOM_* environment overrides applied.
 *
 * Every option, its type and its default live in one table in config.c; the file
 * agent.toml documents them for users. Errors are `file:line:col: message`. */
#ifndef PLUME_CONFIG_H
#define PLUME_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { PLUME_LOG_ERROR, PLUME_LOG_WARN, PLUME_LOG_INFO, PLUME_LOG_DEBUG } plume_log_level_t;
typedef enum {
    PLUME_STDIN_AUTO, PLUME_STDIN_JSON, PLUME_STDIN_LOGFMT, PLUME_STDIN_TEXT
} plume_stdin_format_t;
typedef enum { PLUME_AXIOM_PATH_AUTO, PLUME_AXIOM_PATH_EDGE, PLUME_AXIOM_PATH_LEGACY } plume_axiom_path_t;
/* true, false, or a third word (AUTO: "auto" for most options; the option's
 * own word where it has one, e.g. outbox_fsync's "interval"). */
typedef enum { PLUME_TRISTATE_FALSE, PLUME_TRISTATE_TRUE, PLUME_TRISTATE_AUTO } plume_tristate_t;
typedef enum { PLUME_CONSOLE_AUTO, PLUME_CONSOLE_PRETTY, PLUME_CONSOLE_JSON } plume_console_format_t;

/* Longest dataset name accepted (Axiom's own limit is lower). */
#define PLUME_AXIOM_MAX_DATASET 256

typedef struct plume_axiom_config {
    bool enabled;
    char *url;
    int path_style;  /* plume_axiom_path_t */
    char *dataset;
    char *token;
    char *org_id;
    int compression; /* plume_codec_t */
    int64_t compression_level;
    int64_t compression_threads; /* 0: one per online CPU, at most 4 */
    int64_t batch_max_events;
    uint64_t batch_max_bytes;
    uint64_t batch_max_age_ms;
    int64_t max_in_flight;
    uint64_t request_timeout_ms;
    uint64_t connect_timeout_ms;
    uint64_t retry_initial_ms;
    uint64_t retry_max_ms;
    int64_t retry_max_attempts;
    uint64_t outbox_max_size;
    int outbox_fsync; /* plume_tristate_t: TRUE each batch, FALSE never, AUTO "interval" */
} plume_axiom_config_t;

/* The Sentry sink ([sinks.sentry]). */
typedef struct plume_sentry_config {
    bool enabled;
    char *dsn;
    char *release;     /* for events that carry none ("" = none) */
    char *environment; /* the same */
    char *server_name; /* the same ("" = the host name) */
    int64_t max_in_flight;
    uint64_t request_timeout_ms;
    uint64_t connect_timeout_ms;
    uint64_t retry_initial_ms;
    uint64_t retry_max_ms;
    int64_t retry_max_attempts;
    int64_t log_batch_max_events; /* logs per envelope, at most 100 */
    uint64_t log_batch_max_age_ms;
    uint64_t outbox_max_size;
    bool outbox_fsync;
} plume_sentry_config_t;

/* Which events go to which sink ([routing]). An event is an "error" when its
 * level is at least sentry_min_level or it carries an error map (captured
 * errors, crashes); every other event is a "log". */
typedef struct plume_routing_config {
    int sentry_min_level; /* plume_level_t: warn, error or fatal */
    bool logs_to_sentry;  /* logs also go to Sentry, as log items */
    bool errors_to_axiom; /* errors also go to Axiom */
} plume_routing_config_t;

typedef struct plume_config {
    struct {
        char *data_dir;
        int log_level; /* plume_log_level_t */
        uint64_t shutdown_timeout_ms;
        uint64_t max_memory;
    } agent;
    struct {
        bool enabled;
        int format; /* plume_stdin_format_t */
        uint64_t max_line_bytes;
    } stdin_source;
    plume_axiom_config_t axiom;
    plume_sentry_config_t sentry;
    plume_routing_config_t routing;
    struct {
        int enabled; /* plume_tristate_t */
        int format;  /* plume_console_format_t */
    } console;
    struct {
        bool enabled;
        char *path;
        uint64_t max_size;
        int64_t max_files;
    } file;
    char *source_name; /* the file it came from, or "<built-in>" */
} plume_config_t;

/* Loads `path` (NULL: the built-in default). On error returns false and writes
 * `file:line:col: message` into err. The config is always left freeable. */
bool plume_config_load(plume_config_t *cfg, const char *path, char *err, size_t errlen);
/* Same, from text already in memory; `name` is used in messages. */
bool plume_config_load_text(plume_config_t *cfg, const char *name, const char *text, size_t len,
                            char *err, size_t errlen);
void plume_config_free(plume_config_t *cfg);
/* Writes the effective configuration as TOML, secrets masked. */
void plume_config_print(const plume_config_t *cfg, FILE *out);
/* True when the Axiom sink has what it needs to run (enabled, token, dataset). */
bool plume_config_axiom_active(const plume_config_t *cfg);
/* True when the Sentry sink has what it needs to run (enabled, a DSN). */
bool plume_config_sentry_active(const plume_config_t *cfg);

extern const char plume_default_config[];
extern const size_t plume_default_config_len;

#endif
