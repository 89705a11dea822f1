/* SPDX-License-Identifier: MIT */
/* libplume public API: the whole surface a service uses.
 *
 * Lifecycle: build options with plume_options_new() and plume_options_set_*(),
 * hand them to plume_init() (which takes ownership), log from any thread,
 * plume_flush() / plume_shutdown() with a time bound. Every function returns a
 * plume_status_t (or is void and cannot fail); none aborts the process. Logging,
 * breadcrumbs and scope never block the calling thread. */
#ifndef PLUME_PLUME_H
#define PLUME_PLUME_H

#include <stddef.h>
#include <stdint.h>

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

/* Severity of an event, lowest first. PLUME_LEVEL_NONE means "no level"
 * (e.g. a line whose level could not be read); the logging calls never take
 * it. */
typedef enum plume_level {
    PLUME_LEVEL_NONE = -1,
    PLUME_LEVEL_TRACE = 0,
    PLUME_LEVEL_DEBUG,
    PLUME_LEVEL_INFO,
    PLUME_LEVEL_WARN,
    PLUME_LEVEL_ERROR,
    PLUME_LEVEL_FATAL,
} plume_level_t;

/* What a call reports. 0 is success; every error is negative. */
typedef enum plume_status {
    PLUME_OK = 0,
    PLUME_EINVAL = -1,    /* an argument is NULL, empty or out of range */
    PLUME_ENOMEM = -2,    /* out of memory; nothing was changed */
    PLUME_EALREADY = -3,  /* plume_init() while already initialised */
    PLUME_ENOTINIT = -4,  /* not initialised, or already shut down */
    PLUME_ETIMEDOUT = -5, /* the time bound passed before everything was delivered */
    PLUME_EIO = -6,       /* data_dir or the outbox could not be used */
} plume_status_t;

/* A short English description of s (static storage; "unknown status" for a
 * value outside the enum). */
PLUME_API const char *plume_strerror(plume_status_t s);

/* ---- options ---- */

typedef struct plume_options plume_options_t;

/* New options with every default (see each setter). NULL when out of memory. */
PLUME_API plume_options_t *plume_options_new(void);
/* Frees options that were not handed to plume_init(). NULL is allowed. */
PLUME_API void plume_options_free(plume_options_t *opts);

/* Strings are copied. Passing NULL or "" clears a string option (back to its
 * default) except where noted. Each setter returns PLUME_EINVAL (option
 * unchanged) on a NULL opts or an out-of-range value, PLUME_ENOMEM when a copy
 * cannot be made. */

/* Axiom: base URL (default "https://api.axiom.co"), dataset, API token (not
 * printed anywhere), org id (for personal tokens). Logs go to Axiom when both
 * dataset and token are set. */
PLUME_API plume_status_t plume_options_set_axiom_url(plume_options_t *opts, const char *url);
PLUME_API plume_status_t plume_options_set_axiom_dataset(plume_options_t *opts, const char *dataset);
PLUME_API plume_status_t plume_options_set_axiom_token(plume_options_t *opts, const char *token);
PLUME_API plume_status_t plume_options_set_axiom_org_id(plume_options_t *opts, const char *org_id);
/* Sentry DSN ("https://<key>@<host>/<project id>"); checked here for shape.
 * Without it, the SENTRY_DSN environment variable is used when set. */
PLUME_API plume_status_t plume_options_set_sentry_dsn(plume_options_t *opts, const char *dsn);
/* Attached to every event: release (e.g. "checkout@1.4.2"), environment
 * (default "production"), server name (default: the host name). */
PLUME_API plume_status_t plume_options_set_release(plume_options_t *opts, const char *release);
PLUME_API plume_status_t plume_options_set_environment(plume_options_t *opts, const char *env);
PLUME_API plume_status_t plume_options_set_server_name(plume_options_t *opts, const char *name);
/* Directory for the outbox and crash reports (default "/var/lib/plume", or
 * $PLUME_DATA_DIR when set). */
PLUME_API plume_status_t plume_options_set_data_dir(plume_options_t *opts, const char *dir);
/* Bytes of each logging thread's ring: a power of two from 4 KiB to 16 MiB
 * (default 1 MiB: about 13,000 typical log calls, enough to ride out a
 * worker descheduled for 10 ms at 1M calls/s; lower it for services with
 * hundreds of logging threads). */
PLUME_API plume_status_t plume_options_set_ring_size(plume_options_t *opts, size_t bytes);
/* Events below this level are dropped at the call site, before any work
 * (default PLUME_LEVEL_INFO). */
PLUME_API plume_status_t plume_options_set_min_level(plume_options_t *opts, plume_level_t level);
/* Fraction of log events kept, 0.0 to 1.0 (default 1.0); errors are always
 * kept. */
PLUME_API plume_status_t plume_options_set_sample_rate(plume_options_t *opts, double rate);
/* Breadcrumbs kept for error events, 0 to 1000 (default 100). */
PLUME_API plume_status_t plume_options_set_max_breadcrumbs(plume_options_t *opts, uint32_t n);
/* When on (the default), every log event at info level or above also
 * becomes a breadcrumb (category "log"), as Sentry SDKs' logging integrations
 * do. The worker does this from the record already in the ring: it costs the
 * calling thread nothing. */
PLUME_API plume_status_t plume_options_set_logs_as_breadcrumbs(plume_options_t *opts, int on);

/* ---- options: errors, crashes, routing, privacy ---- */

/* The crash handler (default on): on SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT
 * and SIGTRAP, libplume writes a crash report to data_dir/crash/ (no malloc,
 * stdio or locks in the handler), then restores the previous handlers and
 * re-raises, so the process still dies of its signal and earlier handlers
 * still run. The report is sent by the next plume_init(). */
PLUME_API plume_status_t plume_options_set_crash_handler(plume_options_t *opts, int on);
/* Called inside the crash handler, before the report is written, on the
 * crashing thread: it must be async-signal-safe itself. Returning non-zero
 * skips writing the report. `info` is the siginfo_t and `ucontext` the
 * ucontext_t of the signal (as void * so this header needs no <signal.h>). */
typedef int (*plume_on_crash_t)(int signum, void *info, void *ucontext, void *user);
PLUME_API plume_status_t plume_options_set_on_crash(plume_options_t *opts, plume_on_crash_t hook,
                                                    void *user);
/* Modules whose path starts with `prefix` count as application code (in_app)
 * besides the main executable; up to 16 prefixes, each call adds one. */
PLUME_API plume_status_t plume_options_add_in_app_prefix(plume_options_t *opts, const char *prefix);
/* Fraction of captured errors (plume_capture_error, error and fatal events)
 * kept, 0.0 to 1.0 (default 1.0). Crashes are always kept. */
PLUME_API plume_status_t plume_options_set_error_sample_rate(plume_options_t *opts, double rate);
/* Routing, when a DSN is set: errors, fatal events and crashes go to Sentry;
 * logs go to Sentry too when logs_to_sentry is on (default off). Errors also
 * go to Axiom unless errors_to_axiom is off (default on). */
PLUME_API plume_status_t plume_options_set_logs_to_sentry(plume_options_t *opts, int on);
PLUME_API plume_status_t plume_options_set_errors_to_axiom(plume_options_t *opts, int on);
/* Field names whose values are replaced by "[Filtered]" before any sink sees
 * them, matched case-insensitively as substrings of the key, at any depth.
 * Default: password, passwd, secret, token, api_key, authorization, cookie.
 * Replaces the list; n 0 turns scrubbing off. */
PLUME_API plume_status_t plume_options_set_scrub_fields(plume_options_t *opts,
                                                        const char *const *names, size_t n);

/* ---- lifecycle ---- */

/* Starts the SDK: takes ownership of opts (freed whatever the outcome), opens
 * the outbox under data_dir and starts the background worker. PLUME_EINVAL
 * (opts NULL), PLUME_EALREADY (already running; opts still freed), PLUME_EIO
 * (the outbox or worker could not be set up; the reason is printed on
 * stderr). */
PLUME_API plume_status_t plume_init(plume_options_t *opts);
/* Delivers everything logged so far, waiting at most timeout_ms.
 * PLUME_ETIMEDOUT when the time ran out (the rest is still on its way),
 * PLUME_ENOTINIT when not running. */
PLUME_API plume_status_t plume_flush(uint32_t timeout_ms);
/* Stops accepting logs, delivers what it can within timeout_ms and stops the
 * worker; the rest stays in the outbox for the next start. PLUME_ETIMEDOUT
 * when something was left, PLUME_ENOTINIT when not running. Thread states and
 * rings stay for a later plume_init(). */
PLUME_API plume_status_t plume_shutdown(uint32_t timeout_ms);

/* Counters since the process started (snapshot; any thread). (The tag is
 * not plume_stats: in C++ the function below would hide that struct's
 * constructor, which g++ -Wshadow reports in users' builds.) */
typedef struct plume_stats_s {
    uint64_t events;            /* records the worker turned into events */
    uint64_t delivered;         /* events acknowledged by a sink */
    uint64_t dropped_ring_full; /* log calls a full ring refused */
    uint64_t dropped_other;     /* events lost later (outbox full, refused, unencodable) */
    uint64_t calls_not_running; /* log calls before plume_init() or after shutdown */
    uint64_t breadcrumbs_dropped; /* breadcrumbs a full ring refused (not events, so
                                   * not in dropped_ring_full) */
} plume_stats_t;
PLUME_API void plume_stats(plume_stats_t *out);

/* ---- typed fields ---- */

/* One structured field of a log call: a key and a typed value. Build them
 * with plume_str() and friends; keys and string values are copied by the
 * call, so they may be temporary. A NULL key is skipped; a NULL string value
 * is written as null. */
typedef enum plume_field_type {
    PLUME_FIELD_STR,
    PLUME_FIELD_I64,
    PLUME_FIELD_U64,
    PLUME_FIELD_F64,
    PLUME_FIELD_BOOL,
} plume_field_type_t;

typedef struct plume_field {
    const char *key;
    plume_field_type_t type;
    unsigned key_size_; /* strlen(key) + 1 when known at compile time, else 0;
                         * set by the helpers below (set it again when
                         * changing key by hand) */
    union {
        const char *s;
        int64_t i;
        uint64_t u;
        double f;
        int b;
    } v;
} plume_field_t;

/* At most this many fields are kept per call; the rest are left out. */
#define PLUME_MAX_FIELDS 32

/* strlen(s) + 1 when the compiler knows it (a string literal, after
 * inlining), else 0: the log call then skips measuring literal keys and
 * messages, and the call site can be learned (see plume_site_t). GCC folds
 * it in the inline helpers, clang in the macros below; otherwise it is 0
 * and the SDK measures at the call, with the same result. */
#if defined(__clang__) || (defined(__GNUC__) && defined(__OPTIMIZE__))
#define PLUME_CONST_SIZE_(s)                                                                   \
    (__builtin_constant_p(__builtin_strlen(s)) ? (unsigned)__builtin_strlen(s) + 1u : 0u)
#else
#define PLUME_CONST_SIZE_(s) 0u
#endif

static inline unsigned plume_const_size_(const char *s)
{
    return s ? PLUME_CONST_SIZE_(s) : 0u;
}

static inline plume_field_t plume_str_sized_(const char *key, unsigned key_size,
                                             const char *value)
{
    plume_field_t f;
    f.key = key;
    f.key_size_ = key_size;
    f.type = PLUME_FIELD_STR;
    f.v.s = value;
    return f;
}

static inline plume_field_t plume_str(const char *key, const char *value)
{
    return plume_str_sized_(key, plume_const_size_(key), value);
}

static inline plume_field_t plume_i64_sized_(const char *key, unsigned key_size,
                                             int64_t value)
{
    plume_field_t f;
    f.key = key;
    f.key_size_ = key_size;
    f.type = PLUME_FIELD_I64;
    f.v.i = value;
    return f;
}

static inline plume_field_t plume_i64(const char *key, int64_t value)
{
    return plume_i64_sized_(key, plume_const_size_(key), value);
}

static inline plume_field_t plume_u64_sized_(const char *key, unsigned key_size,
                                             uint64_t value)
{
    plume_field_t f;
    f.key = key;
    f.key_size_ = key_size;
    f.type = PLUME_FIELD_U64;
    f.v.u = value;
    return f;
}

static inline plume_field_t plume_u64(const char *key, uint64_t value)
{
    return plume_u64_sized_(key, plume_const_size_(key), value);
}

static inline plume_field_t plume_f64_sized_(const char *key, unsigned key_size,
                                             double value)
{
    plume_field_t f;
    f.key = key;
    f.key_size_ = key_size;
    f.type = PLUME_FIELD_F64;
    f.v.f = value;
    return f;
}

static inline plume_field_t plume_f64(const char *key, double value)
{
    return plume_f64_sized_(key, plume_const_size_(key), value);
}

static inline plume_field_t plume_bool_sized_(const char *key, unsigned key_size,
                                             int value)
{
    plume_field_t f;
    f.key = key;
    f.key_size_ = key_size;
    f.type = PLUME_FIELD_BOOL;
    f.v.b = value != 0;
    return f;
}

static inline plume_field_t plume_bool(const char *key, int value)
{
    return plume_bool_sized_(key, plume_const_size_(key), value);
}

/* clang decides __builtin_constant_p before inlining, so a literal passed
 * through an inline helper no longer counts as one: under clang the helpers
 * are also macros that take the key's size where the literal is written (the
 * key is evaluated once: its other uses are not evaluated). Either way they
 * are called the same; the functions stay, so (plume_str)(k, v) works too. */
#if defined(__clang__)
#define plume_str(key, value) plume_str_sized_((key), PLUME_CONST_SIZE_(key), (value))
#define plume_i64(key, value) plume_i64_sized_((key), PLUME_CONST_SIZE_(key), (value))
#define plume_u64(key, value) plume_u64_sized_((key), PLUME_CONST_SIZE_(key), (value))
#define plume_f64(key, value) plume_f64_sized_((key), PLUME_CONST_SIZE_(key), (value))
#define plume_bool(key, value) plume_bool_sized_((key), PLUME_CONST_SIZE_(key), (value))
/* The size of a macro's message or category s, evaluated once as var. */
#define PLUME_LIT_SIZE_(s, var) PLUME_CONST_SIZE_(s)
#else
#define PLUME_LIT_SIZE_(s, var) plume_const_size_(var)
#endif

/* ---- logging ---- */

/* Logs one event from any thread: level, message (may be NULL), fields.
 * Never blocks, never allocates after the thread's first call, never fails
 * loudly: a call below the minimum level does nothing; before plume_init() or
 * after plume_shutdown() it is counted and dropped; when the thread's ring is
 * full it is dropped and counted, and a "dropped N" event follows once there
 * is room. Prefer the PLUME_* macros, which skip even the call below the
 * level floors. */
PLUME_API void plume_log(plume_level_t level, const char *message, const plume_field_t *fields,
                         size_t nfields);
/* printf-style convenience (formats on the calling thread; cut at 1 KiB). */
PLUME_API void plume_logf(plume_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The macros' call-site cache (internal): each PLUME_LOG / PLUME_BREADCRUMB
 * expansion has a zero-initialised static one. Its first call records what
 * the site logs (literal message, category and keys, field types); later
 * calls then write only the values into the ring, the worker adding the rest
 * back. A site whose message or keys are not string literals known to the
 * compiler (GCC when optimising, clang) takes the ordinary path, with the
 * same result. */
typedef struct plume_site {
    void *desc_;
} plume_site_t;

#define PLUME_SITE_DECLARE_ static plume_site_t plume_site_
#define PLUME_SITE_ARG_ (&plume_site_)

/* The macros' entry point: plume_log() with the call site (may be NULL) and
 * the message's size (plume_const_size_(): strlen + 1, or 0 when unknown). */
PLUME_API void plume_log_site_(plume_site_t *site, plume_level_t level, const char *message,
                               unsigned message_size, const plume_field_t *fields,
                               size_t nfields);

#include "plume_hot.h"

/* The macros' calls: the inline fast path (plume_hot.h) when compiled in,
 * else (and for whatever it does not take) the library. */
#if defined(PLUME_HOT_AVAILABLE_) && defined(__OPTIMIZE__) && !defined(PLUME_NO_INLINE_FAST_PATH)
__attribute__((always_inline)) static inline void
plume_log_call_(plume_site_t *site, plume_level_t level, const char *message,
                unsigned message_size, const plume_field_t *fields, size_t nfields)
{
    if (nfields > PLUME_HOT_MAX_FIELDS_) {
        plume_log_site_(site, level, message, message_size, fields, nfields);
    } else if (!plume_hot_put_(site, (int)level, 0, NULL, message, fields, nfields, NULL)) {
        /* The library gets a copy: the macro's own array then never leaves
         * the call, so the compiler keeps it in registers and builds this
         * one only when it is needed. */
        plume_field_t copy[PLUME_HOT_MAX_FIELDS_];
        plume_hot_fields_copy_(copy, fields, nfields);
        plume_log_site_(site, level, message, message_size, copy, nfields);
    }
}
#define PLUME_HOT_CALLS_ 1
#else
#define plume_log_call_ plume_log_site_
#endif

/* Read by the macros: the runtime minimum level (set by plume_init()). */
PLUME_API extern int plume_min_level_;

/* Compile-time floor: define PLUME_COMPILE_MIN_LEVEL (e.g. to PLUME_LEVEL_INFO)
 * before including this header and calls below it compile to nothing. */
#ifndef PLUME_COMPILE_MIN_LEVEL
#define PLUME_COMPILE_MIN_LEVEL PLUME_LEVEL_TRACE
#endif

/* The field list of the macros below: the fields are built on the caller's
 * stack and passed by pointer and count. The leading placeholder element
 * keeps the array non-empty (it is skipped), and an empty list leaves only a
 * trailing comma, which an initializer may have: so no GNU `, ##__VA_ARGS__`
 * and no call with an empty `...`, and the macros stay clean under
 * -Wpedantic in C99 and up and in C++11 and up. */
#define PLUME_FIELDS_DECLARE_(...)                                                             \
    const plume_field_t plume_fields_[] = {plume_bool(0, 0), __VA_ARGS__}
#define PLUME_FIELDS_ARGS_ plume_fields_ + 1, sizeof(plume_fields_) / sizeof(plume_fields_[0]) - 1
/* The first of the macro arguments (the message), and the ones after it (the
 * fields; empty, or ending in a comma). The appended empty argument gives the
 * `...` of the inner macro at least one argument, as ISO C requires. */
#define PLUME_FIRST_(...) PLUME_FIRST_I_(__VA_ARGS__, )
#define PLUME_FIRST_I_(first, ...) first
#define PLUME_AFTER_FIRST_(...) PLUME_AFTER_FIRST_I_(__VA_ARGS__, )
#define PLUME_AFTER_FIRST_I_(first, ...) __VA_ARGS__

/* PLUME_LOG(level, "message", plume_str("k", v), ...): the level checks come
 * first, then the fields are built. (The message is the first of the `...`,
 * so that a call with no fields passes no empty `...`.) */
#define PLUME_LOG(level, ...)                                                                  \
    do {                                                                                       \
        if ((int)(level) >= (int)PLUME_COMPILE_MIN_LEVEL &&                                    \
            (int)(level) >= __atomic_load_n(&plume_min_level_, __ATOMIC_RELAXED)) {            \
            PLUME_SITE_DECLARE_;                                                               \
            const char *const plume_msg_ = (PLUME_FIRST_(__VA_ARGS__));                        \
            PLUME_FIELDS_DECLARE_(PLUME_AFTER_FIRST_(__VA_ARGS__));                            \
            plume_log_call_(PLUME_SITE_ARG_, (level), plume_msg_,                              \
                            PLUME_LIT_SIZE_(PLUME_FIRST_(__VA_ARGS__), plume_msg_),            \
                            PLUME_FIELDS_ARGS_);                                               \
        }                                                                                      \
    } while (0)
#define PLUME_TRACE(...) PLUME_LOG(PLUME_LEVEL_TRACE, __VA_ARGS__)
#define PLUME_DEBUG(...) PLUME_LOG(PLUME_LEVEL_DEBUG, __VA_ARGS__)
#define PLUME_INFO(...) PLUME_LOG(PLUME_LEVEL_INFO, __VA_ARGS__)
#define PLUME_WARN(...) PLUME_LOG(PLUME_LEVEL_WARN, __VA_ARGS__)
#define PLUME_ERROR(...) PLUME_LOG(PLUME_LEVEL_ERROR, __VA_ARGS__)
#define PLUME_FATAL(...) PLUME_LOG(PLUME_LEVEL_FATAL, __VA_ARGS__)

/* ---- breadcrumbs ---- */

/* Adds a breadcrumb (the trail of what happened before an error) from any
 * thread: a category (e.g. "http", may be NULL), a message (may be NULL) and
 * fields, copied. Lock-free, never blocks; the most recent max_breadcrumbs
 * (option) are kept process-wide and attached to error and fatal events
 * logged after them. Category and message are cut at 128 and 512 bytes, the
 * fields at 1 KiB encoded (the fields that do not fit are left out). A no-op
 * before plume_init() and after plume_shutdown(). */
PLUME_API void plume_breadcrumb(const char *category, const char *message,
                                const plume_field_t *fields, size_t nfields);

/* The macro's entry point: plume_breadcrumb() with the call site (may be
 * NULL) and the sizes of category and message (plume_const_size_(): strlen
 * + 1, or 0 when unknown). */
PLUME_API void plume_breadcrumb_site_(plume_site_t *site, const char *category,
                                      unsigned category_size, const char *message,
                                      unsigned message_size, const plume_field_t *fields,
                                      size_t nfields);

#if defined(PLUME_HOT_CALLS_)
__attribute__((always_inline)) static inline void
plume_breadcrumb_call_(plume_site_t *site, const char *category, unsigned category_size,
                       const char *message, unsigned message_size, const plume_field_t *fields,
                       size_t nfields)
{
    if (nfields > PLUME_HOT_MAX_FIELDS_) {
        plume_breadcrumb_site_(site, category, category_size, message, message_size, fields,
                               nfields);
    } else if (!plume_hot_put_(site, PLUME_LEVEL_INFO, 1, category, message, fields, nfields,
                               NULL)) {
        plume_field_t copy[PLUME_HOT_MAX_FIELDS_]; /* as in plume_log_call_() */
        plume_hot_fields_copy_(copy, fields, nfields);
        plume_breadcrumb_site_(site, category, category_size, message, message_size, copy,
                               nfields);
    }
}
#else
#define plume_breadcrumb_call_ plume_breadcrumb_site_
#endif

/* PLUME_BREADCRUMB("http", "GET /api", plume_i64("status", 200), ...) */
#define PLUME_BREADCRUMB(category, ...)                                                        \
    do {                                                                                       \
        PLUME_SITE_DECLARE_;                                                                   \
        const char *const plume_cat_ = (category);                                             \
        const char *const plume_msg_ = (PLUME_FIRST_(__VA_ARGS__));                            \
        PLUME_FIELDS_DECLARE_(PLUME_AFTER_FIRST_(__VA_ARGS__));                                \
        plume_breadcrumb_call_(PLUME_SITE_ARG_, plume_cat_, PLUME_LIT_SIZE_(category, plume_cat_), \
                               plume_msg_, PLUME_LIT_SIZE_(PLUME_FIRST_(__VA_ARGS__), plume_msg_), \
                               PLUME_FIELDS_ARGS_);                                            \
    } while (0)

/* ---- before_send ---- */

/* before_send: called on the worker thread (never on the caller's) for every
 * event before it is routed; it can read and edit the event through the
 * plume_outgoing_* functions below, which are valid only during the call.
 * Returning non-zero drops the event (counted in dropped_other). */
typedef struct plume_outgoing plume_outgoing_t;
typedef int (*plume_before_send_t)(plume_outgoing_t *event, void *user);
PLUME_API plume_status_t plume_options_set_before_send(plume_options_t *opts,
                                                       plume_before_send_t cb, void *user);
PLUME_API plume_level_t plume_outgoing_level(const plume_outgoing_t *event);
/* The message (NUL-terminated, valid during the call) or NULL. */
PLUME_API const char *plume_outgoing_message(const plume_outgoing_t *event);
/* 1 for an error captured with plume_capture_error() or a crash, else 0. */
PLUME_API int plume_outgoing_is_error(const plume_outgoing_t *event);
PLUME_API plume_status_t plume_outgoing_set_level(plume_outgoing_t *event, plume_level_t level);
PLUME_API plume_status_t plume_outgoing_set_message(plume_outgoing_t *event, const char *message);
/* Reads the top-level field `key` into *out (strings valid during the call).
 * PLUME_EINVAL when there is no such field or it is not a scalar. */
PLUME_API plume_status_t plume_outgoing_get_field(const plume_outgoing_t *event, const char *key,
                                                  plume_field_t *out);
/* Adds or replaces a top-level field; removes one (no-op when absent). */
PLUME_API plume_status_t plume_outgoing_set_field(plume_outgoing_t *event, plume_field_t field);
PLUME_API plume_status_t plume_outgoing_remove_field(plume_outgoing_t *event, const char *key);

/* ---- errors ---- */

/* Captures a handled error from any thread: `type` (e.g. "ConnectionError";
 * NULL gives "error"), a message, fields, and the calling thread's stack (up
 * to 64 frames, taken here; everything else, including the module list and
 * the encoding, happens on the worker). The event has level error, carries
 * the breadcrumbs and scope like an error log, and goes to Sentry as an
 * exception with a stack trace. Like plume_log() it never blocks and never
 * fails loudly, but unlike it, it is not async-signal-safe (the stack walk is
 * libunwind's unw_backtrace): do not call it from a signal handler. */
PLUME_API void plume_capture_error(const char *type, const char *message,
                                   const plume_field_t *fields, size_t nfields);
/* The same with an error code (e.g. errno), sent as the exception's code. */
PLUME_API void plume_capture_error_code(const char *type, const char *message, int64_t code,
                                        const plume_field_t *fields, size_t nfields);

/* PLUME_CAPTURE_ERROR("ConnectionError", "upstream refused", plume_str("host", h)) */
#define PLUME_CAPTURE_ERROR(type, ...)                                                         \
    do {                                                                                       \
        PLUME_FIELDS_DECLARE_(PLUME_AFTER_FIRST_(__VA_ARGS__));                                \
        plume_capture_error((type), (PLUME_FIRST_(__VA_ARGS__)), PLUME_FIELDS_ARGS_);          \
    } while (0)

/* ---- scope ---- */

/* The global scope: attached to every event converted after the call (events
 * already logged keep the scope they were logged under). Any thread, any time
 * (also before plume_init(); it survives plume_shutdown()). Strings are
 * copied; keys, values and names are cut at 200 bytes. At most 64 tags and 16
 * contexts; PLUME_ENOMEM past that or when out of memory, PLUME_EINVAL for a
 * NULL or empty key/name. */

/* Sets tag `key` to `value`; a NULL value removes the tag. */
PLUME_API plume_status_t plume_set_tag(const char *key, const char *value);
/* Sets the user (any of the three may be NULL; all NULL clears it). */
PLUME_API plume_status_t plume_set_user(const char *id, const char *email, const char *ip_address);
/* Sets context `name` (e.g. "app", "runtime") to the given fields; nfields 0
 * removes it. At most PLUME_MAX_FIELDS fields. */
PLUME_API plume_status_t plume_set_context(const char *name, const plume_field_t *fields,
                                           size_t nfields);

/* The calling thread's scope overlay, e.g. a request id: fields pushed here
 * are added to every event this thread logs until they are popped (a stack:
 * pop removes the last push). At most 8 pushes deep and 1 KiB of encoded
 * fields in all; a push past that returns PLUME_ENOMEM and pushes nothing
 * (its pop must still be made and is then a no-op). Never allocates. */
PLUME_API plume_status_t plume_scope_push(const plume_field_t *fields, size_t nfields);
PLUME_API void plume_scope_pop(void);

/* PLUME_SCOPE_PUSH(plume_str("request_id", id), ...) */
#define PLUME_SCOPE_PUSH(...)                                                                  \
    do {                                                                                       \
        PLUME_FIELDS_DECLARE_(__VA_ARGS__);                                                    \
        (void)plume_scope_push(PLUME_FIELDS_ARGS_);                                            \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif
