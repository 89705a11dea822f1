/* SPDX-License-Identifier: MIT */
/* plume_options_t: defaults, setters with range checks, and free. See
 * plume/plume.h for what each option means. */
#include "options.h"

#include <stdlib.h>
#include <string.h>

const char *const plume_default_scrub_fields[] = {"password", "passwd",        "secret", "token",
                                                  "api_key",  "authorization", "cookie"};
const size_t plume_default_scrub_fields_count =
    sizeof(plume_default_scrub_fields) / sizeof(plume_default_scrub_fields[0]);

PLUME_API plume_options_t *plume_options_new(void)
{
    plume_options_t *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->ring_size = PLUME_DEFAULT_RING_SIZE;
    o->min_level = PLUME_LEVEL_INFO;
    o->sample_rate = 1.0;
    o->max_breadcrumbs = PLUME_DEFAULT_MAX_BREADCRUMBS;
    o->logs_as_breadcrumbs = true;
    o->crash_handler = true;
    o->error_sample_rate = 1.0;
    o->errors_to_axiom = true;
    if (plume_options_set_scrub_fields(o, plume_default_scrub_fields,
                                       plume_default_scrub_fields_count) != PLUME_OK) {
        plume_options_free(o);
        return NULL;
    }
    return o;
}

PLUME_API void plume_options_free(plume_options_t *o)
{
    if (!o)
        return;
    char **strs[] = {&o->axiom_url, &o->axiom_dataset, &o->axiom_token, &o->axiom_org_id,
                     &o->sentry_dsn, &o->release,      &o->environment, &o->server_name,
                     &o->data_dir};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        free(*strs[i]);
    for (uint32_t i = 0; i < o->n_in_app_prefixes; i++)
        free(o->in_app_prefixes[i]);
    for (uint32_t i = 0; i < o->n_scrub_fields; i++)
        free(o->scrub_fields[i]);
    free(o);
}

/* Replaces *slot with a copy of value (NULL or "" clears it). */
static plume_status_t set_str(plume_options_t *o, char **slot, const char *value)
{
    if (!o)
        return PLUME_EINVAL;
    char *copy = NULL;
    if (value && *value && !(copy = strdup(value)))
        return PLUME_ENOMEM;
    free(*slot);
    *slot = copy;
    return PLUME_OK;
}

#define STRING_SETTER(name, field)                                                            \
    PLUME_API plume_status_t plume_options_set_##name(plume_options_t *o, const char *value) \
    {                                                                                         \
        return set_str(o, o ? &o->field : NULL, value);                                       \
    }

STRING_SETTER(axiom_url, axiom_url)
STRING_SETTER(axiom_dataset, axiom_dataset)
STRING_SETTER(axiom_token, axiom_token)
STRING_SETTER(axiom_org_id, axiom_org_id)
STRING_SETTER(release, release)
STRING_SETTER(environment, environment)
STRING_SETTER(server_name, server_name)
STRING_SETTER(data_dir, data_dir)

#define BOOL_SETTER(field)                                                                    \
    PLUME_API plume_status_t plume_options_set_##field(plume_options_t *o, int on)           \
    {                                                                                         \
        if (!o)                                                                               \
            return PLUME_EINVAL;                                                              \
        o->field = on != 0;                                                                   \
        return PLUME_OK;                                                                      \
    }

/* A fraction from 0.0 to 1.0 (NaN refused). */
static plume_status_t set_rate(plume_options_t *o, double *slot, double rate)
{
    if (!o || !(rate >= 0.0 && rate <= 1.0))
        return PLUME_EINVAL;
    *slot = rate;
    return PLUME_OK;
}

PLUME_API plume_status_t plume_options_set_sentry_dsn(plume_options_t *o, const char *dsn)
{
    if (o && dsn && *dsn && !plume_dsn_valid(dsn))
        return PLUME_EINVAL;
    return set_str(o, o ? &o->sentry_dsn : NULL, dsn);
}

PLUME_API plume_status_t plume_options_set_ring_size(plume_options_t *o, size_t bytes)
{
    if (!o || bytes < PLUME_MIN_RING_SIZE || bytes > PLUME_MAX_RING_SIZE ||
        (bytes & (bytes - 1)) != 0)
        return PLUME_EINVAL;
    o->ring_size = bytes;
    return PLUME_OK;
}

PLUME_API plume_status_t plume_options_set_min_level(plume_options_t *o, plume_level_t level)
{
    if (!o || level < PLUME_LEVEL_TRACE || level > PLUME_LEVEL_FATAL)
        return PLUME_EINVAL;
    o->min_level = level;
    return PLUME_OK;
}

PLUME_API plume_status_t plume_options_set_sample_rate(plume_options_t *o, double rate)
{
    return set_rate(o, o ? &o->sample_rate : NULL, rate);
}

BOOL_SETTER(logs_as_breadcrumbs)

PLUME_API plume_status_t plume_options_set_max_breadcrumbs(plume_options_t *o, uint32_t n)
{
    if (!o || n > PLUME_MAX_BREADCRUMBS_LIMIT)
        return PLUME_EINVAL;
    o->max_breadcrumbs = n;
    return PLUME_OK;
}

BOOL_SETTER(crash_handler)

PLUME_API plume_status_t plume_options_set_on_crash(plume_options_t *o, plume_on_crash_t hook,
                                                    void *user)
{
    if (!o)
        return PLUME_EINVAL;
    o->on_crash = hook;
    o->on_crash_user = user;
    return PLUME_OK;
}

PLUME_API plume_status_t plume_options_add_in_app_prefix(plume_options_t *o, const char *prefix)
{
    if (!o || !prefix || !*prefix || o->n_in_app_prefixes == PLUME_MAX_IN_APP_PREFIXES)
        return PLUME_EINVAL;
    char *copy = strdup(prefix);
    if (!copy)
        return PLUME_ENOMEM;
    o->in_app_prefixes[o->n_in_app_prefixes++] = copy;
    return PLUME_OK;
}

PLUME_API plume_status_t plume_options_set_error_sample_rate(plume_options_t *o, double rate)
{
    return set_rate(o, o ? &o->error_sample_rate : NULL, rate);
}

BOOL_SETTER(logs_to_sentry)

BOOL_SETTER(errors_to_axiom)

/* The new list is built completely before the old one is let go, so a
 * failure leaves the option as it was. */
PLUME_API plume_status_t plume_options_set_scrub_fields(plume_options_t *o,
                                                        const char *const *names, size_t n)
{
    if (!o || n > PLUME_MAX_SCRUB_FIELDS || (n && !names))
        return PLUME_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!names[i] || !*names[i])
            return PLUME_EINVAL;
    char *copies[PLUME_MAX_SCRUB_FIELDS];
    for (size_t i = 0; i < n; i++) {
        if (!(copies[i] = strdup(names[i]))) {
            while (i--)
                free(copies[i]);
            return PLUME_ENOMEM;
        }
    }
    for (uint32_t i = 0; i < o->n_scrub_fields; i++)
        free(o->scrub_fields[i]);
    memcpy(o->scrub_fields, copies, n * sizeof(copies[0]));
    o->n_scrub_fields = (uint32_t)n;
    return PLUME_OK;
}

PLUME_API plume_status_t plume_options_set_before_send(plume_options_t *o, plume_before_send_t cb,
                                                       void *user)
{
    if (!o)
        return PLUME_EINVAL;
    o->before_send = cb;
    o->before_send_user = user;
    return PLUME_OK;
}

/* Skips "http://" or "https://"; NULL when s has neither. */
static const char *after_scheme(const char *s)
{
    if (strncmp(s, "https://", 8) == 0)
        return s + 8;
    if (strncmp(s, "http://", 7) == 0)
        return s + 7;
    return NULL;
}

bool plume_dsn_valid(const char *s)
{
    const char *p = after_scheme(s);
    if (!p)
        return false;
    const char *at = strchr(p, '@');
    const char *slash = strchr(p, '/');
    if (!at || !slash || at == p || at > slash || slash == at + 1)
        return false; /* key before '@', host between '@' and the first '/' */
    const char *id = strrchr(slash, '/') + 1;
    if (!*id)
        return false;
    for (const char *c = id; *c; c++)
        if (*c < '0' || *c > '9')
            return false;
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return false; /* no spaces or control characters anywhere */
    return true;
}
