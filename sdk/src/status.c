/* SPDX-License-Identifier: MIT */
/* plume_strerror(): one sentence per plume_status_t. */
#include "plume/plume.h"

PLUME_API const char *plume_strerror(plume_status_t s)
{
    switch (s) {
    case PLUME_OK: return "success";
    case PLUME_EINVAL: return "invalid argument (NULL, empty or out of range)";
    case PLUME_ENOMEM: return "out of memory";
    case PLUME_EALREADY: return "plume is already initialised";
    case PLUME_ENOTINIT: return "plume is not initialised (or was shut down)";
    case PLUME_ETIMEDOUT: return "timed out before everything was delivered";
    case PLUME_EIO: return "the data directory or its outbox cannot be used";
    }
    return "unknown status";
}
