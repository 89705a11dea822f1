/* SPDX-License-Identifier: MIT */
/* Compiled, never run: every macro and field helper of the public header,
 * the way a service writes them, built with a strict warning set and
 * -Werror, -Wpedantic and no GNU extensions (ISO C11; C++11), optimising
 * (the inline fast path, plume_hot.h, is then compiled in) and not
 * (tests/CMakeLists.txt), also as C++. A warning the header causes in a
 * user's build fails the project's build. Every macro is called with and
 * without fields. */
#include "plume/plume.h"

static const char *const USERS[2] = {"u-1", "u-20"};

void plume_header_check_consumer(unsigned long i, const char *user);
void plume_header_check_consumer(unsigned long i, const char *user)
{
    PLUME_INFO("payment processed", plume_str("user", USERS[i & 1u]),
               plume_i64("cents", (int64_t)i), plume_u64("n", i), plume_f64("ms", 0.5),
               plume_bool("ok", 1));
    PLUME_WARN("six fields", plume_str("a", user), plume_str("b", "literal"),
               plume_i64("c", -1), plume_u64("d", 2u), plume_f64("e", 1.5),
               plume_bool("f", 0));
    PLUME_ERROR("seven fields", plume_i64("a", 1), plume_i64("b", 2), plume_i64("c", 3),
                plume_i64("d", 4), plume_i64("e", 5), plume_i64("f", 6), plume_i64("g", 7));
    PLUME_DEBUG("no fields");
    PLUME_TRACE(user);
    PLUME_FATAL("fatal", plume_str("k", user));
    PLUME_LOG((plume_level_t)(i & 3u), "any level", plume_u64("i", i));
    PLUME_LOG(PLUME_LEVEL_INFO, user);
    PLUME_BREADCRUMB("http", "GET /", plume_i64("status", 200));
    PLUME_BREADCRUMB(user, user, plume_str(user, user));
    PLUME_BREADCRUMB("nav", "no fields");
    PLUME_CAPTURE_ERROR("ConnectionError", "refused", plume_str("host", user));
    PLUME_CAPTURE_ERROR(NULL, user);
    PLUME_SCOPE_PUSH(plume_str("request_id", user), plume_u64("attempt", i));
    PLUME_SCOPE_PUSH();
    plume_scope_pop();
    plume_scope_pop();
    plume_stats_t stats;
    plume_stats(&stats);
    if (stats.dropped_ring_full)
        PLUME_WARN("drops", plume_u64("n", stats.dropped_ring_full));
}
