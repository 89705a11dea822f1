/* SPDX-License-Identifier: MIT */
/* libplume public API. The SDK itself is built in the next milestone; for now
 * this header exposes the version so that services can already link. */
#ifndef PLUME_PLUME_H
#define PLUME_PLUME_H

#ifdef __cplusplus
extern "C" {
#endif

#define PLUME_VERSION_MAJOR 0
#define PLUME_VERSION_MINOR 1
#define PLUME_VERSION_PATCH 0

#if defined(PLUME_BUILDING_SDK)
#define PLUME_API __attribute__((visibility("default")))
#else
#define PLUME_API
#endif

/* Returns the library version as "MAJOR.MINOR.PATCH" (static storage). */
PLUME_API const char *plume_version(void);

#ifdef __cplusplus
}
#endif
#endif
