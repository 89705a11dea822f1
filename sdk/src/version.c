/* SPDX-License-Identifier: MIT */
/* The library version string. */
#include "plume/plume.h"

PLUME_API const char *plume_version(void)
{
    return PLUME_VERSION_STRING;
}
