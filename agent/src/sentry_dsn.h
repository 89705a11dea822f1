/* SPDX-License-Identifier: MIT */
/* Sentry DSNs: parsing, the envelope endpoint URL and the X-Sentry-Auth header
 * (PROTOCOLS.md "Sentry ingest").
 *
 * A DSN is {scheme}://{public_key}[:{secret}]@{host}[:{port}]{path}/{project_id}.
 * The parser keeps bounded copies of the parts the sender needs and rejects
 * anything else with an error naming the part and the reason. The legacy
 * secret is accepted, never stored and never echoed in an error message; the
 * other parts are quoted in errors with control bytes escaped and long
 * values cut short. Nothing here allocates. */
#ifndef PLUME_SENTRY_DSN_H
#define PLUME_SENTRY_DSN_H

#include <stddef.h>
#include <stdint.h>

#define PLUME_SENTRY_DSN_MAX 2048        /* longest DSN accepted, in bytes */
#define PLUME_SENTRY_KEY_MAX 128         /* longest public key */
#define PLUME_SENTRY_HOST_MAX 255        /* longest host (IPv6 brackets included) */
#define PLUME_SENTRY_PATH_MAX 511        /* longest path prefix */
#define PLUME_SENTRY_PROJECT_ID_MAX 20   /* most digits of a project id */
/* Room plume_sentry_envelope_url() needs for any parsed DSN, NUL included. */
#define PLUME_SENTRY_URL_MAX                                                            \
    (5 + 3 + PLUME_SENTRY_HOST_MAX + 6 + PLUME_SENTRY_PATH_MAX + 5 +                 \
     PLUME_SENTRY_PROJECT_ID_MAX + 10 + 1)

typedef struct plume_sentry_dsn {
    char scheme[8];                                  /* "http" or "https" (lowercase) */
    char public_key[PLUME_SENTRY_KEY_MAX + 1];
    char host[PLUME_SENTRY_HOST_MAX + 1];            /* as given; IPv6 in brackets */
    uint16_t port;                                   /* 0 = the scheme's default */
    char path[PLUME_SENTRY_PATH_MAX + 1];            /* "" or "/prefix" (no trailing '/') */
    char project_id[PLUME_SENTRY_PROJECT_ID_MAX + 1]; /* decimal digits */
} plume_sentry_dsn_t;

/* Parses the NUL-terminated dsn into *out. Returns 0, or -1 with *out zeroed
 * and, when err is not NULL and errlen > 0, a message in err such as
 * `sentry dsn: port "99999" is not 1-65535`. Strict: no blanks or control
 * characters anywhere, no query or fragment; one trailing '/' after the
 * project id is tolerated. Never reads more than PLUME_SENTRY_DSN_MAX + 1
 * bytes of dsn. */
int plume_sentry_dsn_parse(const char *dsn, plume_sentry_dsn_t *out, char *err, size_t errlen);

/* Writes {scheme}://{host}[:{port}]{path}/api/{project_id}/envelope/ and a
 * NUL into out. An out of PLUME_SENTRY_URL_MAX bytes always suffices; if the
 * URL does not fit in outlen bytes, out is set to "" (never a cut URL). */
void plume_sentry_envelope_url(const plume_sentry_dsn_t *dsn, char *out, size_t outlen);

/* Writes the whole header line "X-Sentry-Auth: Sentry sentry_version=7,
 * sentry_client=plume/<client_version>, sentry_key=<public_key>" (no CR/LF)
 * and a NUL into out. Returns 0, or -1 (out set to "" when outlen > 0) if it
 * does not fit or client_version is NULL, empty or holds a blank, a comma or
 * a byte outside printable ASCII. */
int plume_sentry_auth_header(const plume_sentry_dsn_t *dsn, const char *client_version,
                             char *out, size_t outlen);

#endif
