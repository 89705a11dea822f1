/* SPDX-License-Identifier: MIT */
/* ${VAR} references in config strings.
 *
 * `${NAME}` is replaced by the variable's value (an error if NAME is unset),
 * `${NAME:-fallback}` by the value or, when unset or empty, the fallback (which
 * is taken literally); `$$` is a literal `$`. A `$` followed by anything else is
 * kept as is. NAME is [A-Za-z_][A-Za-z0-9_]*. */
#ifndef PLUME_ENVEXPAND_H
#define PLUME_ENVEXPAND_H

#include <stddef.h>

/* Returns a malloc'd expanded copy of `s`, or NULL with a message in err. */
char *plume_env_expand(const char *s, char *err, size_t errlen);

#endif
