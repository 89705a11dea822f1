/* SPDX-License-Identifier: MIT */
/* Environment variable expansion for config strings. See envexpand.h. */
#include "envexpand.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define MAX_EXPANDED (1u << 20)

char *plume_env_expand(const char *s, char *err, size_t errlen)
{
    plume_buf_t out;
    plume_buf_init(&out, MAX_EXPANDED);
    const char *p = s;
    while (*p) {
        const char *dollar = strchr(p, '$');
        if (!dollar) {
            plume_buf_append_str(&out, p);
            break;
        }
        plume_buf_append(&out, p, (size_t)(dollar - p));
        if (dollar[1] == '$') {
            plume_buf_append_byte(&out, '$');
            p = dollar + 2;
            continue;
        }
        if (dollar[1] != '{') {
            plume_buf_append_byte(&out, '$');
            p = dollar + 1;
            continue;
        }
        const char *name = dollar + 2;
        const char *q = name;
        if (!(isalpha((unsigned char)*q) || *q == '_')) {
            snprintf(err, errlen, "invalid variable name after '${' (at offset %zu)",
                     (size_t)(dollar - s));
            goto fail;
        }
        while (isalnum((unsigned char)*q) || *q == '_')
            q++;
        size_t name_len = (size_t)(q - name);
        const char *fallback = NULL;
        size_t fallback_len = 0;
        if (q[0] == ':' && q[1] == '-') {
            fallback = q + 2;
            const char *close = strchr(fallback, '}');
            if (!close) {
                snprintf(err, errlen, "unterminated '${' (at offset %zu)", (size_t)(dollar - s));
                goto fail;
            }
            fallback_len = (size_t)(close - fallback);
            q = close;
        }
        if (*q != '}') {
            snprintf(err, errlen, "expected '}' or ':-' after variable name (at offset %zu)",
                     (size_t)(q - s));
            goto fail;
        }
        char var[256];
        if (name_len >= sizeof(var)) {
            snprintf(err, errlen, "variable name too long (at offset %zu)", (size_t)(dollar - s));
            goto fail;
        }
        memcpy(var, name, name_len);
        var[name_len] = '\0';
        const char *value = getenv(var);
        if (value && *value) {
            plume_buf_append_str(&out, value);
        } else if (fallback) {
            plume_buf_append(&out, fallback, fallback_len);
        } else if (!value) {
            snprintf(err, errlen, "environment variable %s is not set (use ${%s:-default} for a fallback)",
                     var, var);
            goto fail;
        }
        p = q + 1;
    }
    /* `failed` is sticky: an earlier append that did not fit must not be
     * silently dropped from the middle of the value. */
    if (!plume_buf_append_byte(&out, '\0') || out.failed) {
        snprintf(err, errlen, "expanded value longer than %u bytes", MAX_EXPANDED);
        goto fail;
    }
    return (char *)plume_buf_steal(&out, NULL);
fail:
    plume_buf_free(&out);
    return NULL;
}
