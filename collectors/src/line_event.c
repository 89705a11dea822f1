/* SPDX-License-Identifier: MIT */
/* One stdin line -> one event. See line_event.h for the rules.
 *
 * A JSON object line normally takes the pass-through path: it is validated
 * once (plume_json_object_scan, nothing converted), time/level/message are
 * read from the few top-level members that can carry them, and the object's
 * text becomes the event's "fields_json" as is, with "hints" saying which
 * system names the user keys already use. Lines the pass-through cannot carry
 * faithfully (a '_' key, which Axiom reserves and `_time` handling drops or
 * renames; an unpaired surrogate escape or a number beyond float64's range,
 * which converting changes) take the msgpack path instead.
 *
 * On the msgpack path, JSON and logfmt members are written straight into the
 * event's "fields" map as they are parsed (no intermediate tree). The time,
 * level and message they carry are noted on the way, as offsets into the
 * output: the event is begun with a 9-byte placeholder time that is patched in
 * place at the end, and level and message are appended after the fields. A
 * line that turns out not to parse is rolled back and written again as
 * text. */
#include "line_event.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "event.h"
#include "json_parse.h"
#include "logfmt.h"
#include "mp.h"
#include "timeparse.h"
#include "unaligned.h"
#include "utf8.h"

#define NO_RANK 99

/* What the members of a structured line said about the event. */
typedef struct special {
    int time_rank; /* rank of the member that gave the time (NO_RANK: none yet) */
    uint64_t time_ns;
    int level_rank;
    plume_level_t level;
    int msg_rank;
    size_t msg_off; /* message bytes: out->data[msg_off .. +msg_len) */
    size_t msg_len;
} special_t;

/* The member names that carry time, level and message, by kind; a lower
 * index wins. */
enum { KIND_NONE, KIND_TIME, KIND_LEVEL, KIND_MSG };

/* Classifies a member name: returns its kind and sets *rank, and ORs the
 * name's PLUME_HINT_* bit (plume_hint_for_key) into *hint. Called for every
 * member of every line, so it dispatches once, on the length. */
static inline int classify_hint(const char *k, size_t n, int *rank, unsigned *hint)
{
#define IS(lit) (memcmp(k, lit, sizeof(lit) - 1) == 0)
    switch (n) {
    case 2:
        if (IS("ts"))
            return *rank = 3, KIND_TIME;
        break;
    case 3:
        if (IS("msg"))
            return *hint |= PLUME_HINT_MESSAGE, *rank = 0, KIND_MSG;
        if (IS("lvl"))
            return *rank = 2, KIND_LEVEL;
        break;
    case 4:
        if (IS("time"))
            return *rank = 1, KIND_TIME;
        break;
    case 5:
        if (IS("level"))
            return *hint |= PLUME_HINT_LEVEL, *rank = 0, KIND_LEVEL;
        if (IS("_time"))
            return *rank = 0, KIND_TIME;
        break;
    case 6:
        if (IS("origin"))
            *hint |= PLUME_HINT_ORIGIN;
        break;
    case 7:
        if (IS("message"))
            return *hint |= PLUME_HINT_MESSAGE, *rank = 1, KIND_MSG;
        break;
    case 8:
        if (IS("severity"))
            return *hint |= PLUME_HINT_LEVEL, *rank = 1, KIND_LEVEL;
        break;
    case 9:
        if (IS("timestamp"))
            return *rank = 2, KIND_TIME;
        if (IS("truncated"))
            *hint |= PLUME_HINT_TRUNCATED;
        break;
    case 11:
        if (IS("parse_error"))
            *hint |= PLUME_HINT_PARSE_ERROR;
        break;
    }
    return KIND_NONE;
#undef IS
}

static int classify(const char *k, size_t n, int *rank)
{
    unsigned ignored = 0;
    return classify_hint(k, n, rank, &ignored);
}


/* Time from a member value: RFC 3339 or numeric text, or an epoch number
 * (its JSON text `raw`, when known, is read exactly). */
static bool time_from_value(const plume_mp_value_t *v, const char *raw, size_t raw_len,
                            uint64_t *ns)
{
    switch (v->type) {
    case PLUME_MP_STR:
        return plume_time_parse_rfc3339_cached(v->s, v->len, ns) ||
               plume_time_from_epoch_str(v->s, v->len, ns);
    case PLUME_MP_UINT:
        return v->u <= INT64_MAX && plume_time_from_epoch_int((int64_t)v->u, ns);
    case PLUME_MP_FLOAT:
        return (raw && plume_time_from_epoch_str(raw, raw_len, ns)) ||
               plume_time_from_epoch_double(v->f, ns);
    default:
        return false;
    }
}

/* Level from text: the six canonical lower-case names by two loads and
 * compares, everything else through plume_level_parse() (which gives the
 * same answer for those six). */
static inline plume_level_t level_from_text(const char *s, size_t n)
{
    if (n == 4) {
        uint32_t w = plume_load_u32(s);
        if (w == plume_load_u32("info"))
            return PLUME_LEVEL_INFO;
        if (w == plume_load_u32("warn"))
            return PLUME_LEVEL_WARN;
    } else if (n == 5) {
        uint32_t w = plume_load_u32(s);
        char c = s[4];
        if (w == plume_load_u32("debu") && c == 'g')
            return PLUME_LEVEL_DEBUG;
        if (w == plume_load_u32("erro") && c == 'r')
            return PLUME_LEVEL_ERROR;
        if (w == plume_load_u32("trac") && c == 'e')
            return PLUME_LEVEL_TRACE;
        if (w == plume_load_u32("fata") && c == 'l')
            return PLUME_LEVEL_FATAL;
    }
    return plume_level_parse(s, n);
}

/* Level from a member value: text via level_from_text(); numbers 10..60 in
 * steps of 10 are pino/bunyan levels, other small numbers syslog severities. */
static plume_level_t level_from_value(const plume_mp_value_t *v)
{
    if (v->type == PLUME_MP_STR)
        return level_from_text(v->s, v->len);
    if (v->type != PLUME_MP_UINT)
        return PLUME_LEVEL_NONE;
    if (v->u >= 10 && v->u <= 60 && v->u % 10 == 0)
        return (plume_level_t)(PLUME_LEVEL_TRACE + (int)(v->u / 10) - 1);
    if (v->u <= 7) {
        char d = (char)('0' + v->u);
        return plume_level_parse(&d, 1);
    }
    return PLUME_LEVEL_NONE;
}

/* Looks at one member just written to out (name `key`, value at value_off)
 * and notes time/level/message. Returns false when the member must be
 * dropped from the fields (a `_time` that became the event time). */
static bool note_member(special_t *sp, const plume_buf_t *out, const char *key, size_t key_len,
                        size_t value_off, const char *raw, size_t raw_len)
{
    int rank = 0;
    int kind = classify(key, key_len, &rank);
    if (kind == KIND_NONE)
        return true;
    int *best = kind == KIND_TIME ? &sp->time_rank
                : kind == KIND_LEVEL ? &sp->level_rank : &sp->msg_rank;
    if (rank >= *best)
        return true;
    plume_mp_reader_t r;
    plume_mp_value_t v;
    plume_mp_reader_init(&r, out->data + value_off, out->len - value_off);
    if (!plume_mp_read(&r, &v))
        return true;
    if (kind == KIND_TIME) {
        uint64_t ns;
        if (!time_from_value(&v, raw, raw_len, &ns))
            return true;
        sp->time_rank = rank;
        sp->time_ns = ns;
        return rank != 0; /* `_time`: reserved name, not a field */
    }
    if (kind == KIND_LEVEL) {
        plume_level_t l = level_from_value(&v);
        if (l != PLUME_LEVEL_NONE) {
            sp->level_rank = rank;
            sp->level = l;
        }
        return true;
    }
    if (v.type == PLUME_MP_STR) {
        sp->msg_rank = rank;
        sp->msg_off = (size_t)((const uint8_t *)v.s - out->data);
        sp->msg_len = v.len;
    }
    return true;
}

static bool on_json_member(void *ctx, const plume_buf_t *out, const plume_json_member_t *m)
{
    return note_member(ctx, out, m->key, m->key_len, m->value_off, m->raw, m->raw_len);
}

/* SLOW: the pass-through path declined the line; use the msgpack path. */
typedef enum { DONE, OVERFLOW, SYNTAX, NOT_LOGFMT, SLOW } outcome_t;

/* A structured event under construction: begun with a placeholder time. */
typedef struct structured {
    plume_event_builder_t eb;
    size_t time_off; /* the 8 time bytes to patch */
    special_t sp;
} structured_t;

static void structured_begin(structured_t *st, plume_buf_t *out, const char *origin)
{
    memset(&st->sp, 0, sizeof(st->sp));
    st->sp.time_rank = st->sp.level_rank = st->sp.msg_rank = NO_RANK;
    /* UINT64_MAX is always written as 0xcf + 8 bytes: room for any time. */
    plume_event_begin(&st->eb, out, UINT64_MAX);
    st->time_off = out->len - 8;
    if (origin)
        plume_event_set_origin(&st->eb, origin);
    plume_event_fields_begin(&st->eb);
}

/* Closes the fields, patches the time, appends level and message. */
static outcome_t structured_end(structured_t *st, plume_buf_t *out, uint64_t recv_ns)
{
    plume_event_fields_end(&st->eb);
    if (out->failed)
        return OVERFLOW;
    uint64_t t = st->sp.time_rank != NO_RANK ? st->sp.time_ns : recv_ns;
    uint8_t *tp = out->data + st->time_off;
    assert(tp[-1] == 0xcf); /* the uint64 placeholder written by structured_begin */
    for (int i = 0; i < 8; i++)
        tp[i] = (uint8_t)(t >> (56 - 8 * i));
    if (st->sp.level_rank != NO_RANK)
        plume_event_set_level(&st->eb, st->sp.level);
    if (st->sp.msg_rank != NO_RANK) {
        /* The message is copied from the fields in the same buffer: make room
         * first so the source cannot move. */
        if (!plume_buf_reserve(out, st->sp.msg_len + 16))
            return OVERFLOW;
        plume_event_set_message(&st->eb, (const char *)out->data + st->sp.msg_off,
                                st->sp.msg_len);
    }
    return plume_event_end(&st->eb) ? DONE : OVERFLOW;
}

static outcome_t json_event(const char *line, size_t n, const char *origin, uint64_t recv_ns,
                            plume_buf_t *out, char *perr, size_t perr_size)
{
    structured_t st;
    structured_begin(&st, out, origin);
    plume_json_opts_t opts = {.max_depth = PLUME_LINE_JSON_MAX_DEPTH, .assume_utf8 = true};
    plume_json_error_t jerr;
    uint32_t kept;
    if (!plume_json_object_walk(line, n, out, &opts, on_json_member, &st.sp, &kept, &jerr)) {
        if (jerr.status == PLUME_JSON_EOUTPUT || out->failed)
            return OVERFLOW;
        snprintf(perr, perr_size, "%s", jerr.msg);
        return SYNTAX;
    }
    st.eb.nfields = kept;
    return structured_end(&st, out, recv_ns);
}

/* ---- JSON pass-through ---- */

static bool force_slow_path; /* tests and fuzzers only */

void plume_line_event_force_slow_path(bool on) { force_slow_path = on; }

/* What the members of a pass-through line said, noted during the scan. */
typedef struct fast {
    unsigned hints;  /* PLUME_HINT_* bits of the top-level keys */
    int time_rank, level_rank, msg_rank;
    uint64_t time_ns;
    plume_level_t level;
    const char *msg_raw; /* the message member's JSON string text, quotes included */
    size_t msg_raw_len;
    bool msg_escaped;
} fast_t;

/* Room for a member value read as msgpack (see span_value). */
typedef struct span_buf {
    uint8_t small[256];
    char *heap; /* set when a long escaped string needed more; caller frees */
} span_buf_t;

/* Reads a string or number member as the msgpack path would see it: a string
 * without escapes points into the line, one with escapes is decoded into
 * sb; a number is converted by the same code the msgpack path uses (into
 * sb->small, as a buffer whose maximum is its capacity, so it never grows).
 * False if that is impossible (out of memory). */
static bool span_value(const plume_json_span_t *m, span_buf_t *sb, plume_mp_value_t *v)
{
    sb->heap = NULL;
    if (m->raw[0] == '"') {
        size_t n = m->raw_len - 2;
        memset(v, 0, sizeof(*v));
        v->type = PLUME_MP_STR;
        if (!m->raw_escaped) {
            v->s = m->raw + 1;
            v->len = (uint32_t)n;
            return true;
        }
        char *dst = n <= sizeof(sb->small) ? (char *)sb->small : (sb->heap = malloc(n));
        if (!dst)
            return false;
        v->len = (uint32_t)plume_json_unescape(m->raw + 1, n, dst);
        v->s = dst;
        return true;
    }
    plume_buf_t b = {.data = sb->small, .cap = sizeof(sb->small), .max = sizeof(sb->small)};
    plume_json_opts_t opts = {.assume_utf8 = true};
    if (!plume_json_to_mp_opts(m->raw, m->raw_len, &b, &opts, NULL))
        return false;
    plume_mp_reader_t r;
    plume_mp_reader_init(&r, b.data, b.len);
    return plume_mp_read(&r, v);
}

/* on_special() for a time or level member whose value is not a string
 * without escapes: a number, or a string with escapes, read as the msgpack
 * path would see it (span_value). */
static __attribute__((noinline)) void special_value(fast_t *fs, const plume_json_span_t *m,
                                                    int kind, int rank)
{
    /* only strings and numbers can give a time or a level */
    char c = m->raw[0];
    if (c != '"' && c != '-' && (c < '0' || c > '9'))
        return;
    span_buf_t sb;
    plume_mp_value_t v;
    if (!span_value(m, &sb, &v))
        return;
    if (kind == KIND_TIME) {
        uint64_t ns;
        if (time_from_value(&v, m->raw, m->raw_len, &ns)) {
            fs->time_rank = rank;
            fs->time_ns = ns;
        }
    } else {
        plume_level_t l = level_from_value(&v);
        if (l != PLUME_LEVEL_NONE) {
            fs->level_rank = rank;
            fs->level = l;
        }
    }
    free(sb.heap);
}

/* on_span() for a member whose name may matter (see special_names): stops
 * at a '_' key (the line then takes the msgpack path), collects the hint
 * bits, and notes time, level and message with the same names, ranks and
 * value rules as note_member(). Out of line, so that on_span() stays a leaf
 * without a stack frame. */
static __attribute__((noinline)) bool on_special(fast_t *fs, const plume_json_span_t *m)
{
    if (m->key[0] == '_')
        return false;
    int rank = 0;
    int kind = classify_hint(m->key, m->key_len, &rank, &fs->hints);
    if (kind == KIND_NONE)
        return true;
    int *best = kind == KIND_TIME ? &fs->time_rank
                : kind == KIND_LEVEL ? &fs->level_rank : &fs->msg_rank;
    if (rank >= *best)
        return true;
    char c = m->raw[0];
    if (kind == KIND_MSG) {
        if (c == '"') {
            fs->msg_rank = rank;
            fs->msg_raw = m->raw;
            fs->msg_raw_len = m->raw_len;
            fs->msg_escaped = m->raw_escaped;
        }
        return true;
    }
    if (c == '"' && !m->raw_escaped) {
        /* the usual case, read in place: what span_value() would give */
        const char *t = m->raw + 1;
        size_t tn = m->raw_len - 2;
        if (kind == KIND_TIME) {
            uint64_t ns;
            if (plume_time_parse_rfc3339_cached(t, tn, &ns) ||
                plume_time_from_epoch_str(t, tn, &ns)) {
                fs->time_rank = rank;
                fs->time_ns = ns;
            }
        } else {
            plume_level_t l = level_from_text(t, tn);
            if (l != PLUME_LEVEL_NONE) {
                fs->level_rank = rank;
                fs->level = l;
            }
        }
        return true;
    }
    special_value(fs, m, kind, rank);
    return true;
}

/* For each name length 1..11, bit (c & 63) is set when a name of that length
 * starting with byte c may matter to on_special(): '_' (any length), and the
 * first letters of the names classify_hint() knows. Other bytes that share
 * the low six bits only cost a visit to on_special(), which decides. */
#define NAME_BIT(c) (1ull << ((c) & 63))
static const uint64_t special_names[12] = {
    [1] = NAME_BIT('_'),
    [2] = NAME_BIT('_') | NAME_BIT('t'),                 /* ts */
    [3] = NAME_BIT('_') | NAME_BIT('m') | NAME_BIT('l'), /* msg, lvl */
    [4] = NAME_BIT('_') | NAME_BIT('t'),                 /* time */
    [5] = NAME_BIT('_') | NAME_BIT('l'),                 /* level, _time */
    [6] = NAME_BIT('_') | NAME_BIT('o'),                 /* origin */
    [7] = NAME_BIT('_') | NAME_BIT('m'),                 /* message */
    [8] = NAME_BIT('_') | NAME_BIT('s'),                 /* severity */
    [9] = NAME_BIT('_') | NAME_BIT('t'),                 /* timestamp, truncated */
    [10] = NAME_BIT('_'),
    [11] = NAME_BIT('_') | NAME_BIT('p'),                /* parse_error */
};
#undef NAME_BIT

/* The scan callback, called for every top-level member of every pass-through
 * line: most names cannot matter, and are passed over after one table
 * look-up on their length and first byte; the others go to on_special(). */
static bool on_span(void *ctx, const plume_json_span_t *m)
{
    size_t n = m->key_len;
    if (n - 1 < 11) {
        if (__builtin_expect(!((special_names[n] >> ((uint8_t)m->key[0] & 63)) & 1), 1))
            return true;
    } else if (n == 0 || m->key[0] != '_') {
        return true;
    }
    return on_special(ctx, m);
}

/* The message from a JSON string member (raw: its text with quotes): the
 * text inside the quotes, or, when it has escapes, its decoding appended to
 * msgbuf. False only when msgbuf reached its maximum (msgbuf->failed set). */
static bool message_from_json(const char *raw, size_t raw_len, bool escaped, plume_buf_t *msgbuf,
                              const char **msg, size_t *msg_len)
{
    const char *s = raw + 1;
    size_t n = raw_len - 2;
    if (!escaped) {
        *msg = s;
        *msg_len = n;
        return true;
    }
    if (!plume_buf_reserve(msgbuf, n ? n : 1))
        return false;
    char *dst = (char *)msgbuf->data + msgbuf->len;
    *msg_len = plume_json_unescape(s, n, dst);
    msgbuf->len += *msg_len;
    *msg = dst;
    return true;
}

/* The pass-through path: validate, note time/level/message, view the object
 * in place (*ev points into line, and into msgbuf for a message with
 * escapes). Returns SLOW when the line must take the msgpack path, SYNTAX
 * (with the same message as the msgpack path would give) when it is not JSON
 * (or, with check_utf8, not UTF-8). Touches msgbuf only when it returns DONE
 * or OVERFLOW. */
static inline __attribute__((always_inline)) outcome_t
json_fast_view(const char *line, size_t n, bool check_utf8, const char *origin, uint64_t recv_ns,
               plume_buf_t *msgbuf, plume_event_view_t *ev, char *perr, size_t perr_size)
{
    fast_t fs = {.time_rank = NO_RANK, .level_rank = NO_RANK, .msg_rank = NO_RANK};
    plume_json_opts_t opts = {.max_depth = PLUME_LINE_JSON_MAX_DEPTH, .assume_utf8 = !check_utf8};
    plume_json_error_t jerr;
    plume_json_scan_info_t info;
    if (!plume_json_object_scan(line, n, &opts, on_span, &fs, &info, &jerr)) {
        if (jerr.status == PLUME_JSON_ESTOPPED || jerr.status == PLUME_JSON_EOUTPUT)
            return SLOW;
        snprintf(perr, perr_size, "%s", jerr.msg);
        return SYNTAX;
    }
    if (info.flags)
        return SLOW;
    *ev = (plume_event_view_t){
        .time_ns = fs.time_rank != NO_RANK ? fs.time_ns : recv_ns,
        .level = fs.level_rank != NO_RANK ? fs.level : PLUME_LEVEL_NONE,
        .origin = origin,
        .origin_len = origin ? strlen(origin) : 0,
        .hints = fs.hints,
        .fields_json = line + info.obj_off,
        .fields_json_len = info.obj_len,
    };
    if (fs.msg_rank != NO_RANK && !message_from_json(fs.msg_raw, fs.msg_raw_len, fs.msg_escaped,
                                                     msgbuf, &ev->message, &ev->message_len))
        return OVERFLOW;
    return DONE;
}

static bool is_identifier(const char *k, size_t n)
{
    if (n == 0 || !((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z') || k[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

/* Writes one logfmt pair's value as msgpack. */
static void logfmt_value(plume_buf_t *out, const plume_logfmt_pair_t *p)
{
    if (!p->has_equals) {
        plume_mp_bool(out, true);
    } else if (!p->has_value) {
        plume_mp_str(out, "", 0);
    } else if (p->escaped) {
        plume_mp_str_header(out, p->decoded_len);
        if (plume_buf_reserve(out, p->decoded_len))
            out->len += plume_logfmt_unescape(p->value, p->value_len, (char *)out->data + out->len);
    } else {
        plume_mp_str(out, p->value, p->value_len);
    }
}

/* auto_mode: give up (NOT_LOGFMT) on syntax errors, and unless the line looks
 * like logfmt: its first pair is identifier=value and at least half of its pairs
 * have a '=' (so prose that merely contains "seq=17" stays text). */
static outcome_t logfmt_event(const char *line, size_t n, const char *origin, uint64_t recv_ns,
                              bool auto_mode, plume_buf_t *out, char *perr, size_t perr_size)
{
    structured_t st;
    plume_logfmt_iter_t it;
    plume_logfmt_pair_t p;
    bool ident_pair = false, overflow = false, first = true;
    size_t npairs = 0, nvalued = 0;

    structured_begin(&st, out, origin);
    overflow = out->failed;
    plume_logfmt_iter_init(&it, line, n, NULL);
    while (plume_logfmt_next(&it, &p)) {
        if (first && p.has_value && is_identifier(p.key, p.key_len))
            ident_pair = true;
        first = false;
        npairs++;
        nvalued += p.has_equals;
        /* Out of room: keep scanning, since the line may turn out to be text
         * (which may fit) rather than logfmt. */
        if (overflow)
            continue;
        size_t key_off = out->len;
        plume_mp_str(out, p.key, p.key_len);
        size_t value_off = out->len;
        logfmt_value(out, &p);
        if (out->failed) {
            overflow = true;
            continue;
        }
        if (note_member(&st.sp, out, p.key, p.key_len, value_off, NULL, 0))
            plume_event_field_added(&st.eb);
        else
            out->len = key_off;
    }
    if (it.err) {
        if (auto_mode)
            return NOT_LOGFMT;
        snprintf(perr, perr_size, "%s at offset %zu", it.err, it.err_offset);
        return SYNTAX;
    }
    if (auto_mode && (!ident_pair || nvalued * 2 < npairs))
        return NOT_LOGFMT;
    if (overflow)
        return OVERFLOW;
    return structured_end(&st, out, recv_ns);
}

static bool text_event(const char *line, size_t n, bool truncated, uint64_t recv_ns,
                       const char *origin, const char *perr, plume_buf_t *out)
{
    plume_event_builder_t eb;
    plume_event_begin(&eb, out, recv_ns);
    plume_event_set_message(&eb, line, n);
    if (origin)
        plume_event_set_origin(&eb, origin);
    if (truncated)
        plume_event_set_truncated(&eb);
    if (perr)
        plume_event_set_parse_error(&eb, perr);
    return plume_event_end(&eb);
}

static bool starts_with_brace(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i < n && s[i] == '{';
}

/* Room for a parse error message. */
#define PERR_SIZE 160

/* How line_to() left the event. */
typedef enum { LINE_FAILED, LINE_WRITTEN, LINE_VIEWED } line_result_t;

/* Whether line_to() begins with the pass-through attempt. */
static inline bool pass_through_first(const char *line, size_t n, bool truncated,
                                      plume_line_format_t fmt)
{
    return !truncated && !force_slow_path &&
           (fmt == PLUME_FORMAT_JSON || (fmt == PLUME_FORMAT_AUTO && starts_with_brace(line, n)));
}

/* line_to() after its first step: `pre` is the pass-through attempt's
 * verdict (DONE when it was not tried; never DONE or OVERFLOW after a try),
 * with its message in perr (SYNTAX; PERR_SIZE bytes, reused for the rest). */
static line_result_t line_rest(const char *line, size_t n, bool truncated, plume_line_format_t fmt,
                               uint64_t recv_ns, const char *origin, plume_buf_t *out,
                               plume_buf_t *msgbuf, plume_buf_t *scratch, plume_line_stats_t *stats,
                               plume_event_view_t *ev, outcome_t pre, char *perr)
{
    plume_line_stats_t dummy;
    if (!stats)
        stats = &dummy;
    size_t start = out->len;

    /* A cut line may end inside a character: drop the partial character. */
    if (truncated)
        n -= plume_utf8_incomplete_tail(line, n);
    size_t valid = plume_utf8_valid_prefix(line, n);
    if (valid != n) {
        pre = DONE; /* the repaired text is tried afresh */
        stats->invalid_utf8++;
        if (scratch) {
            plume_buf_reset(scratch);
            plume_utf8_sanitize(line, n, scratch);
        }
        if (scratch && !scratch->failed) {
            line = (const char *)scratch->data;
            n = scratch->len;
        } else {
            n = valid; /* no room to repair: keep the valid start, marked cut */
            truncated = true;
        }
    }

    outcome_t oc = NOT_LOGFMT;
    if (!truncated) {
        if (fmt == PLUME_FORMAT_JSON || (fmt == PLUME_FORMAT_AUTO && starts_with_brace(line, n))) {
            if (pre != DONE)
                oc = pre;
            else if (force_slow_path)
                oc = SLOW;
            else
                oc = json_fast_view(line, n, false, origin, recv_ns, msgbuf, ev, perr, PERR_SIZE);
            if (oc == DONE) {
                stats->json++;
                return LINE_VIEWED;
            }
            if (oc == OVERFLOW)
                return LINE_FAILED;
            if (oc == SLOW) {
                out->len = start;
                out->failed = false;
                oc = json_event(line, n, origin, recv_ns, out, perr, PERR_SIZE);
            }
            if (oc == DONE)
                stats->json++;
        } else if (fmt == PLUME_FORMAT_LOGFMT || fmt == PLUME_FORMAT_AUTO) {
            oc = logfmt_event(line, n, origin, recv_ns, fmt == PLUME_FORMAT_AUTO, out, perr,
                              PERR_SIZE);
            if (oc == DONE)
                stats->logfmt++;
        }
    }
    if (oc == DONE)
        return LINE_WRITTEN;
    out->len = start;
    if (oc == OVERFLOW)
        return LINE_FAILED;
    /* A structured attempt that was abandoned for text may have run out of
     * room on the way; its bytes are gone, and out was fine on entry. */
    out->failed = false;
    if (oc == SYNTAX)
        stats->parse_errors++;
    if (!text_event(line, n, truncated, recv_ns, origin, oc == SYNTAX ? perr : NULL, out)) {
        out->len = start;
        return LINE_FAILED;
    }
    stats->text++;
    return LINE_WRITTEN;
}

/* The shared core of plume_line_to_view() and plume_line_to_event(): a
 * pass-through line is only viewed (*ev; msgbuf gets a decoded message),
 * every other line is written to out.
 *
 * A JSON line first tries the pass-through path with UTF-8 checks on: valid
 * JSON is valid UTF-8, so for the usual line this one pass is also the UTF-8
 * check. Otherwise its verdict is kept for the line as is (SYNTAX: the error
 * stands; SLOW: straight to the msgpack path) unless the line needs
 * repairing first. */
static line_result_t line_to(const char *line, size_t n, bool truncated, plume_line_format_t fmt,
                             uint64_t recv_ns, const char *origin, plume_buf_t *out,
                             plume_buf_t *msgbuf, plume_buf_t *scratch, plume_line_stats_t *stats,
                             plume_event_view_t *ev)
{
    if (out->failed)
        return LINE_FAILED;
    char perr[PERR_SIZE];
    outcome_t pre = DONE; /* DONE here means "not tried" */
    if (pass_through_first(line, n, truncated, fmt)) {
        pre = json_fast_view(line, n, true, origin, recv_ns, msgbuf, ev, perr, sizeof(perr));
        if (pre == DONE) {
            if (stats)
                stats->json++;
            return LINE_VIEWED;
        }
        if (pre == OVERFLOW)
            return LINE_FAILED;
    }
    return line_rest(line, n, truncated, fmt, recv_ns, origin, out, msgbuf, scratch, stats, ev,
                     pre, perr);
}

/* line_to() for a view, its first step inline (out was just reset). */
bool plume_line_to_view(const char *line, size_t n, bool truncated, plume_line_format_t fmt,
                        uint64_t recv_ns, const char *origin, plume_buf_t *out,
                        plume_buf_t *scratch, plume_line_stats_t *stats, plume_event_view_t *ev)
{
    plume_buf_reset(out);
    char perr[PERR_SIZE];
    outcome_t pre = DONE; /* DONE here means "not tried" */
    if (pass_through_first(line, n, truncated, fmt)) {
        pre = json_fast_view(line, n, true, origin, recv_ns, out, ev, perr, sizeof(perr));
        if (__builtin_expect(pre == DONE, 1)) {
            if (stats)
                stats->json++;
            return true;
        }
        if (pre == OVERFLOW)
            return false;
    }
    switch (line_rest(line, n, truncated, fmt, recv_ns, origin, out, out, scratch, stats, ev, pre,
                      perr)) {
    case LINE_VIEWED:
        return true;
    case LINE_WRITTEN:
        return plume_event_view(out->data, out->len, ev);
    default:
        return false;
    }
}

bool plume_line_to_event(const char *line, size_t n, bool truncated, plume_line_format_t fmt,
                         uint64_t recv_ns, const char *origin, plume_buf_t *out,
                         plume_buf_t *scratch, plume_line_stats_t *stats)
{
    plume_event_view_t ev;
    plume_buf_t msgbuf;
    plume_buf_init(&msgbuf, out->max);
    size_t start = out->len;
    line_result_t r =
        line_to(line, n, truncated, fmt, recv_ns, origin, out, &msgbuf, scratch, stats, &ev);
    if (r == LINE_VIEWED && !plume_event_write(out, &ev)) {
        out->len = start;
        r = LINE_FAILED;
    }
    if (r == LINE_FAILED)
        out->failed = true;
    plume_buf_free(&msgbuf);
    return r != LINE_FAILED;
}

static const char *const format_names[] = {"auto", "json", "logfmt", "text"};

bool plume_line_format_parse(const char *s, plume_line_format_t *fmt)
{
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, format_names[i]) == 0) {
            *fmt = (plume_line_format_t)i;
            return true;
        }
    }
    return false;
}

const char *plume_line_format_name(plume_line_format_t fmt)
{
    return (unsigned)fmt < 4 ? format_names[fmt] : "unknown";
}
