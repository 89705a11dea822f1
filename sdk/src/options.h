/* SPDX-License-Identifier: MIT */
/* The contents of plume_options_t (opaque in the public header), for the
 * SDK's own files: plume_init() reads them. Strings are owned (malloc'd) or
 * NULL for "unset". */
#ifndef PLUME_SDK_OPTIONS_H
#define PLUME_SDK_OPTIONS_H

#include <stdbool.h>

#include "plume/plume.h"

#define PLUME_DEFAULT_AXIOM_URL "https://api.axiom.co"
#define PLUME_DEFAULT_ENVIRONMENT "production"
#define PLUME_DEFAULT_DATA_DIR "/var/lib/plume"
#define PLUME_DEFAULT_RING_SIZE (1024u * 1024u)
#define PLUME_MIN_RING_SIZE (4u * 1024u)
#define PLUME_MAX_RING_SIZE (16u * 1024u * 1024u)
#define PLUME_DEFAULT_MAX_BREADCRUMBS 100u
#define PLUME_MAX_BREADCRUMBS_LIMIT 1000u
#define PLUME_MAX_IN_APP_PREFIXES 16u
#define PLUME_MAX_SCRUB_FIELDS 64u

struct plume_options {
    char *axiom_url, *axiom_dataset, *axiom_token, *axiom_org_id;
    char *sentry_dsn;
    char *release, *environment, *server_name;
    char *data_dir;
    size_t ring_size;
    plume_level_t min_level;
    double sample_rate;
    uint32_t max_breadcrumbs;
    bool logs_as_breadcrumbs;
    /* errors, crashes, routing, privacy */
    bool crash_handler;
    plume_on_crash_t on_crash;
    void *on_crash_user;
    char *in_app_prefixes[PLUME_MAX_IN_APP_PREFIXES];
    uint32_t n_in_app_prefixes;
    double error_sample_rate;
    bool logs_to_sentry;
    bool errors_to_axiom;
    char *scrub_fields[PLUME_MAX_SCRUB_FIELDS]; /* the effective list (defaults set by new) */
    uint32_t n_scrub_fields;
    plume_before_send_t before_send;
    void *before_send_user;
};

/* The default scrub list (plume_options_set_scrub_fields). */
extern const char *const plume_default_scrub_fields[];
extern const size_t plume_default_scrub_fields_count;

/* The effective value of a string option: its setting, else `fallback`. */
static inline const char *plume_options_str(const char *set, const char *fallback)
{
    return set ? set : fallback;
}

/* True when s looks like a Sentry DSN: http(s)://key@host/project-id, with a
 * non-empty key and host and a numeric project id (an optional path before
 * it is allowed). */
bool plume_dsn_valid(const char *s);

#endif
