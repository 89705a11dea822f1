/* SPDX-License-Identifier: MIT */
/* kawanet/msgpack-test-suite (msgpack/dist/msgpack-test-suite.json under
 * $PLUME_CONFORMANCE_DIR) against the project's msgpack layer (agent/src/mp.h).
 * The suite is read with the project's own JSON parser (plume_json_to_mp) and
 * walked with plume_mp_read. The suite's driver rule: EVERY listed encoding
 * must decode to the exam's value, and the encoder's output must equal ANY
 * listed encoding. Here every encoding is decoded with plume_mp_read and
 * compared exactly (integers by value, floats bit for bit, strings and binary
 * byte for byte, arrays in order, maps as sets of pairs, ext type and data,
 * timestamps as ext -1 giving [sec, nsec]); it must be consumed exactly, be
 * skipped whole by plume_mp_skip, and no strict prefix of it may be accepted.
 * Every exam of a type the plume_mp_* writer supports (all but timestamp and
 * ext: the writer has no ext call) is encoded and must give a listed
 * encoding. Bignums beyond 64 bits would be skipped, counted and named (the
 * reader has no type for them); this suite version has none. A second test
 * corrupts every encoding and checks that the checker notices, so the first
 * cannot pass vacuously. Prints one summary line. */
#include "test_support.h"
#include <cmocka.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json_parse.h"
#include "mp.h"

#define SUITE_REL "msgpack/dist/msgpack-test-suite.json"
/* What this suite version (v1.0.0, see SOURCES.txt) holds: a broken path or a
 * truncated file must not pass. */
#define SUITE_EXAMS 85
#define SUITE_ENCODINGS 233
#define SUITE_EXAMS_ENCODED 59 /* all but 19 timestamp and 7 ext exams */

#define MAX_EXAMS 256
#define MAX_TYPES 4      /* value keys per exam ("number" and "bignum", ...) */
#define MAX_ENCODINGS 32 /* listed encodings per exam */
#define MAX_BYTES 1024   /* bytes of one encoding or one hex value */
#define MAX_DEPTH 64     /* nesting the checker follows */
#define MAX_PAIRS 64     /* map pairs the checker matches */

typedef struct slice {
    const uint8_t *p;
    size_t n;
} slice_t;

/* One exam. Value slices and hex texts point into suite_t.json_mp; the
 * decoded encodings live in suite_t.bytes (offsets: that buffer grows). */
typedef struct exam {
    char name[96];            /* "<file>#<index>" */
    unsigned ntypes;
    char type[MAX_TYPES][16]; /* "number", "bignum", ... */
    slice_t value[MAX_TYPES]; /* expected value: msgpack made from the JSON */
    unsigned nenc;
    size_t enc_off[MAX_ENCODINGS];
    size_t enc_len[MAX_ENCODINGS];
    slice_t enc_hex[MAX_ENCODINGS]; /* the hex text, for messages */
} exam_t;

typedef struct suite {
    plume_buf_t json_mp; /* the whole suite as msgpack */
    plume_buf_t bytes;   /* every encoding, decoded from hex */
    exam_t *exams;
    size_t nexams;
    size_t nencodings;
} suite_t;

/* Where a comparison stands: the start of the encoding (for byte offsets in
 * messages) and why it failed. */
typedef struct ctx {
    const uint8_t *base;
    char why[256];
} ctx_t;

typedef enum check { CHECK_OK, CHECK_FAIL, CHECK_SKIP } check_t;

static bool mismatch(ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool mismatch(ctx_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
    return false;
}

static const char *type_name(plume_mp_type_t t)
{
    static const char *const names[] = {"nil", "bool", "negative int", "non-negative int",
                                        "float", "str", "bin", "array", "map", "ext"};
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decodes the suite's hex form ("", "c4", "c4-01-01": byte pairs joined by
 * '-') into out[0..cap). False if malformed or longer than cap. */
static bool hex_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len)
{
    size_t i = 0, k = 0;
    while (i < n) {
        if (k > 0 && s[i++] != '-')
            return false;
        if (n - i < 2 || k == cap)
            return false;
        int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[k++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    *len = k;
    return true;
}

/* Writes b[0..n) as "c4-01-01" into out (truncated with "..." if long). */
static const char *hex_encode(const uint8_t *b, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (k + 8 > cap) {
            snprintf(out + k, cap - k, "...");
            break;
        }
        k += (size_t)snprintf(out + k, cap - k, i ? "-%02x" : "%02x", b[i]);
    }
    return out;
}

/* ---- numbers ---- */

/* A number as the suite means it: an integer (sign and magnitude, 0 never
 * negative) or a float (compared bit for bit). */
typedef struct num {
    bool is_float;
    bool neg;
    uint64_t mag;
    double f;
} num_t;

static bool num_from(const plume_mp_value_t *v, num_t *n)
{
    memset(n, 0, sizeof(*n));
    switch (v->type) {
    case PLUME_MP_UINT:
        n->mag = v->u;
        return true;
    case PLUME_MP_INT:
        n->neg = v->i < 0;
        n->mag = n->neg ? 0 - (uint64_t)v->i : (uint64_t)v->i;
        return true;
    case PLUME_MP_FLOAT:
        n->is_float = true;
        n->f = v->f;
        return true;
    default:
        return false;
    }
}

static num_t num_of_int64(int64_t v)
{
    num_t n = {.neg = v < 0, .mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v};
    return n;
}

/* If f is an integer of magnitude below 2^64, gives its sign and magnitude.
 * -0.0 is not taken for the integer 0. */
static bool float_to_int(double f, bool *neg, uint64_t *mag)
{
    if (!__builtin_isfinite(f))
        return false;
    *neg = __builtin_signbit(f) != 0;
    double a = *neg ? -f : f;
    if (a >= 18446744073709551616.0)
        return false;
    uint64_t m = (uint64_t)a; /* in range: no UB */
    if ((double)m != a || (m == 0 && *neg))
        return false;
    *mag = m;
    return true;
}

/* Integer against integer by value, float against float bit for bit (a
 * float32 widens to double exactly), integer against float by exact value. */
static bool num_eq(const num_t *a, const num_t *b)
{
    if (a->is_float && b->is_float)
        return memcmp(&a->f, &b->f, sizeof(double)) == 0;
    if (!a->is_float && !b->is_float)
        return a->neg == b->neg && a->mag == b->mag;
    const num_t *fl = a->is_float ? a : b, *in = a->is_float ? b : a;
    bool neg;
    uint64_t mag;
    return float_to_int(fl->f, &neg, &mag) && neg == in->neg && mag == in->mag;
}

static const char *num_str(const num_t *n, char *out, size_t cap)
{
    if (n->is_float)
        snprintf(out, cap, "%.17g (float)", n->f);
    else
        snprintf(out, cap, "%s%" PRIu64, n->neg ? "-" : "", n->mag);
    return out;
}

typedef enum big { BIG_OK, BIG_BEYOND, BIG_BAD } big_t;

/* Parses a bignum string ("-9223372036854775808"): BIG_BEYOND when it does
 * not fit uint64 (non-negative) or int64 (negative). */
static big_t parse_bignum(const char *s, size_t n, num_t *out)
{
    size_t i = 0;
    uint64_t m = 0;
    bool beyond = false;
    memset(out, 0, sizeof(*out));
    if (i < n && s[i] == '-') {
        out->neg = true;
        i++;
    }
    if (i == n)
        return BIG_BAD;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return BIG_BAD;
        unsigned d = (unsigned)(s[i] - '0');
        if (m > (UINT64_MAX - d) / 10)
            beyond = true;
        else
            m = m * 10 + d;
    }
    if (beyond || (out->neg && m > (UINT64_C(1) << 63)))
        return BIG_BEYOND;
    out->mag = m;
    out->neg = out->neg && m != 0;
    return BIG_OK;
}

/* ---- comparing a decoded value with the expected one ---- */

static bool match(plume_mp_reader_t *exp, plume_mp_reader_t *got, int depth, ctx_t *c);

/* Map pairs are matched as a set (the suite's maps are JSON objects): each
 * expected pair must find an unused decoded pair with an equal key and then
 * an equal value. Both cursors end past the map. */
static bool match_map(plume_mp_reader_t *exp, plume_mp_reader_t *got, uint32_t count, int depth,
                      ctx_t *c)
{
    const uint8_t *keys[MAX_PAIRS];
    bool used[MAX_PAIRS] = {false};
    if (count > MAX_PAIRS)
        return mismatch(c, "map of %" PRIu32 " pairs: the checker handles %d", count, MAX_PAIRS);
    for (uint32_t j = 0; j < count; j++) {
        keys[j] = got->p;
        if (!plume_mp_skip(got) || !plume_mp_skip(got))
            return mismatch(c, "byte %td: map pair %" PRIu32 " not skippable", keys[j] - c->base, j);
    }
    const uint8_t *got_end = got->p;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t j;
        for (j = 0; j < count; j++) {
            if (used[j])
                continue;
            plume_mp_reader_t ek = *exp, gk = {keys[j], got_end};
            ctx_t scratch = {.base = c->base};
            if (match(&ek, &gk, depth + 1, &scratch)) {
                used[j] = true;
                *exp = ek;
                if (!match(exp, &gk, depth + 1, c))
                    return false;
                break;
            }
        }
        if (j == count)
            return mismatch(c, "map: expected key #%" PRIu32 " not found", i);
    }
    return true;
}

/* Compares the next value of `got` (the decoded encoding) with the next value
 * of `exp` (the expected value): numbers by value, str/bin byte for byte,
 * arrays in order, maps as sets, ext by type and data. Both cursors move past
 * their value on success; on failure c->why says what and where. */
static bool match(plume_mp_reader_t *exp, plume_mp_reader_t *got, int depth, ctx_t *c)
{
    plume_mp_value_t e, g;
    if (depth > MAX_DEPTH)
        return mismatch(c, "nested deeper than %d", MAX_DEPTH);
    if (!plume_mp_read(exp, &e))
        return mismatch(c, "suite: expected value unreadable");
    ptrdiff_t at = got->p - c->base;
    if (!plume_mp_read(got, &g))
        return mismatch(c, "byte %td: plume_mp_read failed (truncated or invalid)", at);
    num_t ne, ng;
    if (num_from(&e, &ne)) {
        char a[64], b[64];
        if (!num_from(&g, &ng))
            return mismatch(c, "byte %td: expected number %s, got %s", at,
                            num_str(&ne, a, sizeof(a)), type_name(g.type));
        if (!num_eq(&ne, &ng))
            return mismatch(c, "byte %td: expected %s, got %s", at, num_str(&ne, a, sizeof(a)),
                            num_str(&ng, b, sizeof(b)));
        return true;
    }
    if (g.type != e.type)
        return mismatch(c, "byte %td: expected %s, got %s", at, type_name(e.type),
                        type_name(g.type));
    switch (e.type) {
    case PLUME_MP_NIL:
        return true;
    case PLUME_MP_BOOL:
        return e.b == g.b || mismatch(c, "byte %td: expected %s", at, e.b ? "true" : "false");
    case PLUME_MP_EXT:
        if (e.ext_type != g.ext_type)
            return mismatch(c, "byte %td: expected ext type %d, got %d", at, e.ext_type,
                            g.ext_type);
        __attribute__((fallthrough)); /* the data is compared as for str/bin */
    case PLUME_MP_STR:
    case PLUME_MP_BIN:
        if (e.len != g.len || (e.len && memcmp(e.s, g.s, e.len) != 0))
            return mismatch(c, "byte %td: %s differs (expected %" PRIu32 " bytes, got %" PRIu32 ")",
                            at, type_name(e.type), e.len, g.len);
        return true;
    case PLUME_MP_ARRAY:
        if (e.count != g.count)
            return mismatch(c, "byte %td: expected %" PRIu32 " elements, got %" PRIu32, at,
                            e.count, g.count);
        for (uint32_t i = 0; i < e.count; i++)
            if (!match(exp, got, depth + 1, c))
                return false;
        return true;
    case PLUME_MP_MAP:
        if (e.count != g.count)
            return mismatch(c, "byte %td: expected %" PRIu32 " pairs, got %" PRIu32, at, e.count,
                            g.count);
        return match_map(exp, got, e.count, depth, c);
    default:
        return mismatch(c, "suite: unexpected %s in the expected value", type_name(e.type));
    }
}

/* Reads an integer (not a float) from the expected value. */
static bool read_int(plume_mp_reader_t *r, num_t *n)
{
    plume_mp_value_t v;
    return plume_mp_read(r, &v) && num_from(&v, n) && !n->is_float;
}

/* Decodes a timestamp extension's data (32, 64 or 96-bit form). */
static bool timestamp_decode(const plume_mp_value_t *g, int64_t *sec, uint32_t *nsec)
{
    const uint8_t *d = (const uint8_t *)g->s;
    uint64_t v = 0;
    for (uint32_t i = 0; i < g->len && i < 8; i++)
        v = v << 8 | d[i];
    switch (g->len) {
    case 4:
        *sec = (int64_t)v;
        *nsec = 0;
        return true;
    case 8:
        *nsec = (uint32_t)(v >> 34);
        *sec = (int64_t)(v & ((UINT64_C(1) << 34) - 1));
        return true;
    case 12: {
        uint64_t s = 0;
        for (int i = 4; i < 12; i++)
            s = s << 8 | d[i];
        *nsec = (uint32_t)(v >> 32);
        *sec = (int64_t)s; /* two's complement, as the spec says */
        return true;
    }
    default:
        return false;
    }
}

/* For the types whose expected value match() compares as is: the msgpack
 * types the suite's JSON may give for it (a bit per plume_mp_type_t, a check
 * of the suite itself); 0 for the other exam types. */
static unsigned generic_types(const char *type)
{
    static const struct { const char *name; unsigned bits; } generic[] = {
        {"nil", 1u << PLUME_MP_NIL},
        {"bool", 1u << PLUME_MP_BOOL},
        {"number", 1u << PLUME_MP_UINT | 1u << PLUME_MP_INT | 1u << PLUME_MP_FLOAT},
        {"string", 1u << PLUME_MP_STR},
        {"array", 1u << PLUME_MP_ARRAY},
        {"map", 1u << PLUME_MP_MAP},
    };
    for (size_t i = 0; i < sizeof(generic) / sizeof(generic[0]); i++)
        if (!strcmp(type, generic[i].name))
            return generic[i].bits;
    return 0;
}

/* Checks the typed parts: binary (hex), bignum (decimal string), timestamp
 * ([sec, nsec] against ext -1), ext ([type, hex]). `got` is positioned at the
 * decoded value and moves past it. */
static check_t check_special(const char *type, plume_mp_reader_t *exp, plume_mp_reader_t *got,
                             ctx_t *c)
{
    plume_mp_value_t e, g, h;
    uint8_t want[MAX_BYTES];
    size_t want_len = 0;
    num_t n, m;
    char a[64], b[64];
    if (!plume_mp_read(exp, &e))
        return mismatch(c, "suite: expected value unreadable"), CHECK_FAIL;
    if (!plume_mp_read(got, &g))
        return mismatch(c, "byte 0: plume_mp_read failed (truncated or invalid)"), CHECK_FAIL;
    if (!strcmp(type, "bignum")) {
        if (e.type != PLUME_MP_STR)
            return mismatch(c, "suite: bignum is not a string"), CHECK_FAIL;
        big_t bg = parse_bignum(e.s, e.len, &n);
        if (bg == BIG_BEYOND)
            return mismatch(c, "bignum %.*s is beyond 64 bits: plume_mp_read has no type for it",
                            (int)e.len, e.s), CHECK_SKIP;
        if (bg == BIG_BAD)
            return mismatch(c, "suite: bad bignum '%.*s'", (int)e.len, e.s), CHECK_FAIL;
        if (!num_from(&g, &m) || !num_eq(&n, &m))
            return mismatch(c, "expected %s, got %s", num_str(&n, a, sizeof(a)),
                            num_from(&g, &m) ? num_str(&m, b, sizeof(b)) : type_name(g.type)),
                   CHECK_FAIL;
        return CHECK_OK;
    }
    if (!strcmp(type, "binary")) {
        if (e.type != PLUME_MP_STR || !hex_decode(e.s, e.len, want, sizeof(want), &want_len))
            return mismatch(c, "suite: binary value is not hex"), CHECK_FAIL;
        if (g.type != PLUME_MP_BIN)
            return mismatch(c, "expected bin, got %s", type_name(g.type)), CHECK_FAIL;
        if (g.len != want_len || (want_len && memcmp(g.s, want, want_len) != 0))
            return mismatch(c, "bin differs (%" PRIu32 " bytes, expected %zu)", g.len, want_len),
                   CHECK_FAIL;
        return CHECK_OK;
    }
    if (!strcmp(type, "timestamp")) {
        int64_t sec;
        uint32_t nsec;
        if (e.type != PLUME_MP_ARRAY || e.count != 2 || !read_int(exp, &n) || !read_int(exp, &m))
            return mismatch(c, "suite: timestamp is not [sec, nsec]"), CHECK_FAIL;
        if (g.type != PLUME_MP_EXT || g.ext_type != -1)
            return mismatch(c, "expected ext -1, got %s type %d", type_name(g.type), g.ext_type),
                   CHECK_FAIL;
        if (!timestamp_decode(&g, &sec, &nsec))
            return mismatch(c, "timestamp data of %" PRIu32 " bytes (not 4, 8 or 12)", g.len),
                   CHECK_FAIL;
        if (nsec > 999999999u)
            return mismatch(c, "timestamp nanoseconds %" PRIu32 " out of range", nsec), CHECK_FAIL;
        num_t ds = num_of_int64(sec), dn = num_of_int64(nsec);
        if (!num_eq(&ds, &n) || !num_eq(&dn, &m))
            return mismatch(c, "timestamp is [%" PRId64 ", %" PRIu32 "], expected [%s, %s]", sec,
                            nsec, num_str(&n, a, sizeof(a)), num_str(&m, b, sizeof(b))),
                   CHECK_FAIL;
        return CHECK_OK;
    }
    if (!strcmp(type, "ext")) {
        if (e.type != PLUME_MP_ARRAY || e.count != 2 || !read_int(exp, &n) ||
            n.mag > (n.neg ? 128u : 127u) || !plume_mp_read(exp, &h) || h.type != PLUME_MP_STR ||
            !hex_decode(h.s, h.len, want, sizeof(want), &want_len))
            return mismatch(c, "suite: ext is not [type, hex]"), CHECK_FAIL;
        int want_type = n.neg ? -(int)n.mag : (int)n.mag;
        if (g.type != PLUME_MP_EXT || g.ext_type != want_type)
            return mismatch(c, "expected ext %d, got %s type %d", want_type, type_name(g.type),
                            g.ext_type), CHECK_FAIL;
        if (g.len != want_len || (want_len && memcmp(g.s, want, want_len) != 0))
            return mismatch(c, "ext data differs (%" PRIu32 " bytes, expected %zu)", g.len,
                            want_len), CHECK_FAIL;
        return CHECK_OK;
    }
    return mismatch(c, "suite: unknown exam type '%s'", type), CHECK_FAIL;
}

/* Checks that enc[0..n) decodes, with plume_mp_read, to `val` read as a
 * value of the exam type `type`, and that nothing follows it. CHECK_SKIP (with
 * the reason in c->why) for bignums beyond 64 bits. */
static check_t check_decode(const char *type, slice_t val, const uint8_t *enc, size_t n, ctx_t *c)
{
    plume_mp_reader_t exp, got;
    plume_mp_reader_init(&exp, val.p, val.n);
    plume_mp_reader_init(&got, enc, n);
    c->base = enc;
    c->why[0] = '\0';
    check_t res;
    unsigned allowed = generic_types(type);
    if (allowed) {
        plume_mp_reader_t peek = exp;
        plume_mp_value_t e;
        if (!plume_mp_read(&peek, &e) || !(allowed & 1u << e.type))
            return mismatch(c, "suite: a %s exam whose value is not one", type), CHECK_FAIL;
        res = match(&exp, &got, 0, c) ? CHECK_OK : CHECK_FAIL;
    } else {
        res = check_special(type, &exp, &got, c);
    }
    if (res == CHECK_OK && got.p != got.end)
        return mismatch(c, "%td trailing byte(s) after the value", got.end - got.p), CHECK_FAIL;
    return res;
}

/* Checks what the encoding itself must satisfy whatever the value:
 * plume_mp_skip consumes all of it, and rejects every strict prefix without
 * moving its cursor. */
static bool check_framing(const uint8_t *enc, size_t n, ctx_t *c)
{
    plume_mp_reader_t r;
    plume_mp_reader_init(&r, enc, n);
    if (!plume_mp_skip(&r) || r.p != r.end)
        return mismatch(c, "plume_mp_skip did not consume exactly %zu bytes", n);
    for (size_t cut = 0; cut < n; cut++) {
        plume_mp_reader_init(&r, enc, cut);
        if (plume_mp_skip(&r) || r.p != enc)
            return mismatch(c, "plume_mp_skip accepted the %zu-byte prefix", cut);
    }
    return true;
}

/* ---- encoding with the writer ---- */

/* Re-emits one value of the expected msgpack with the plume_mp_* writer
 * (containers recursively). False on a type the JSON cannot give. */
static bool write_value(plume_mp_reader_t *r, plume_buf_t *out, int depth)
{
    plume_mp_value_t v;
    if (depth > MAX_DEPTH || !plume_mp_read(r, &v))
        return false;
    switch (v.type) {
    case PLUME_MP_NIL: plume_mp_nil(out); return true;
    case PLUME_MP_BOOL: plume_mp_bool(out, v.b); return true;
    case PLUME_MP_UINT: plume_mp_uint(out, v.u); return true;
    case PLUME_MP_INT: plume_mp_int(out, v.i); return true;
    case PLUME_MP_FLOAT: plume_mp_double(out, v.f); return true;
    case PLUME_MP_STR: plume_mp_str(out, v.s, v.len); return true;
    case PLUME_MP_ARRAY:
        plume_mp_array_header(out, v.count);
        for (uint32_t i = 0; i < v.count; i++)
            if (!write_value(r, out, depth + 1))
                return false;
        return true;
    case PLUME_MP_MAP:
        plume_mp_map_header(out, v.count);
        for (uint64_t i = 0; i < 2ull * v.count; i++)
            if (!write_value(r, out, depth + 1))
                return false;
        return true;
    default:
        return false;
    }
}

typedef enum enc_res { ENC_OK, ENC_NO_WRITER, ENC_SKIP, ENC_BAD } enc_res_t;

/* Writes the exam's value of type `type` into out with the writer. */
static enc_res_t encode(const char *type, slice_t val, plume_buf_t *out)
{
    plume_mp_reader_t r;
    plume_mp_value_t e;
    plume_mp_reader_init(&r, val.p, val.n);
    if (generic_types(type))
        return write_value(&r, out, 0) ? ENC_OK : ENC_BAD;
    if (!strcmp(type, "timestamp") || !strcmp(type, "ext"))
        return ENC_NO_WRITER; /* mp.h has no ext writer */
    if (!plume_mp_read(&r, &e) || e.type != PLUME_MP_STR)
        return ENC_BAD;
    if (!strcmp(type, "binary")) {
        uint8_t bytes[MAX_BYTES];
        size_t n = 0;
        if (!hex_decode(e.s, e.len, bytes, sizeof(bytes), &n))
            return ENC_BAD;
        plume_mp_bin(out, bytes, n);
        return ENC_OK;
    }
    if (!strcmp(type, "bignum")) {
        num_t n;
        switch (parse_bignum(e.s, e.len, &n)) {
        case BIG_OK:
            if (!n.neg)
                plume_mp_uint(out, n.mag);
            else
                plume_mp_int(out, n.mag == UINT64_C(1) << 63 ? INT64_MIN : -(int64_t)n.mag);
            return ENC_OK;
        case BIG_BEYOND:
            return ENC_SKIP;
        default:
            return ENC_BAD;
        }
    }
    return ENC_BAD;
}

/* ---- loading the suite ---- */

/* Reads the suite JSON, converts it with plume_json_to_mp and fills s. Fails
 * the test, naming the problem, if the file is missing or not shaped as the
 * suite describes: {file: [{<type>: value, ..., "msgpack": [hex, ...]}]}. */
static void load_suite(suite_t *s)
{
    const char *path = plume_test_conformance_path(SUITE_REL);
    size_t len;
    char *text = plume_test_read_file(path, &len);
    if (!text)
        fail_msg("cannot read %s (is PLUME_CONFORMANCE_DIR set?)", path);
    memset(s, 0, sizeof(*s));
    plume_buf_init(&s->json_mp, 1u << 22);
    plume_buf_init(&s->bytes, 1u << 20);
    s->exams = calloc(MAX_EXAMS, sizeof(exam_t));
    assert_non_null(s->exams);
    plume_json_error_t err;
    if (!plume_json_to_mp(text, len, &s->json_mp, &err))
        fail_msg("%s: not JSON: %s", path, err.msg);
    free(text);

    plume_mp_reader_t r;
    plume_mp_value_t v, k;
    plume_mp_reader_init(&r, s->json_mp.data, s->json_mp.len);
    if (!plume_mp_read(&r, &v) || v.type != PLUME_MP_MAP)
        fail_msg("%s: top level is not an object", path);
    for (uint32_t f = 0, nfiles = v.count; f < nfiles; f++) {
        plume_mp_value_t file, list;
        if (!plume_mp_read(&r, &file) || file.type != PLUME_MP_STR || !plume_mp_read(&r, &list) ||
            list.type != PLUME_MP_ARRAY)
            fail_msg("%s: member %" PRIu32 " is not \"file\": [exams]", path, f);
        for (uint32_t i = 0; i < list.count; i++) {
            if (s->nexams == MAX_EXAMS)
                fail_msg("%s: more than %d exams", path, MAX_EXAMS);
            exam_t *x = &s->exams[s->nexams++];
            snprintf(x->name, sizeof(x->name), "%.*s#%" PRIu32, (int)file.len, file.s, i);
            if (!plume_mp_read(&r, &v) || v.type != PLUME_MP_MAP)
                fail_msg("%s: exam is not an object", x->name);
            for (uint32_t p = 0, npairs = v.count; p < npairs; p++) {
                if (!plume_mp_read(&r, &k) || k.type != PLUME_MP_STR)
                    fail_msg("%s: bad key", x->name);
                if (!plume_mp_str_eq(&k, "msgpack")) {
                    if (x->ntypes == MAX_TYPES || k.len >= sizeof(x->type[0]))
                        fail_msg("%s: too many value keys or a long one", x->name);
                    memcpy(x->type[x->ntypes], k.s, k.len);
                    x->type[x->ntypes][k.len] = '\0';
                    const uint8_t *start = r.p;
                    if (!plume_mp_skip(&r))
                        fail_msg("%s: value unreadable", x->name);
                    x->value[x->ntypes++] = (slice_t){start, (size_t)(r.p - start)};
                    continue;
                }
                if (!plume_mp_read(&r, &v) || v.type != PLUME_MP_ARRAY)
                    fail_msg("%s: \"msgpack\" is not an array", x->name);
                for (uint32_t j = 0; j < v.count; j++) {
                    uint8_t bytes[MAX_BYTES];
                    size_t n = 0;
                    if (x->nenc == MAX_ENCODINGS)
                        fail_msg("%s: more than %d encodings", x->name, MAX_ENCODINGS);
                    if (!plume_mp_read(&r, &k) || k.type != PLUME_MP_STR ||
                        !hex_decode(k.s, k.len, bytes, sizeof(bytes), &n) || n == 0)
                        fail_msg("%s: encoding %" PRIu32 " is not hex", x->name, j);
                    x->enc_off[x->nenc] = s->bytes.len;
                    x->enc_len[x->nenc] = n;
                    x->enc_hex[x->nenc++] = (slice_t){(const uint8_t *)k.s, k.len};
                    assert_true(plume_buf_append(&s->bytes, bytes, n));
                    s->nencodings++;
                }
            }
            if (x->ntypes == 0 || x->nenc == 0)
                fail_msg("%s: no value or no encodings", x->name);
        }
    }
    if (r.p != r.end)
        fail_msg("%s: trailing data after the suite", path);
}

static void free_suite(suite_t *s)
{
    plume_buf_free(&s->json_mp);
    plume_buf_free(&s->bytes);
    free(s->exams);
}

/* ---- tests ---- */

static void msgpack_test_suite(void **state)
{
    (void)state;
    suite_t s;
    load_suite(&s);
    unsigned failures = 0, type_checks = 0, bignum_skipped = 0, encodings = 0;
    unsigned exams_encoded = 0, writes = 0, no_writer = 0;
    plume_buf_t out;
    plume_buf_init(&out, 1u << 16);
    ctx_t c;
    char hex[512];

    for (size_t i = 0; i < s.nexams; i++) {
        const exam_t *x = &s.exams[i];
        for (unsigned k = 0; k < x->nenc; k++) {
            const uint8_t *enc = s.bytes.data + x->enc_off[k];
            encodings++;
            if (!check_framing(enc, x->enc_len[k], &c)) {
                print_error("%s encoding %.*s: %s\n", x->name, (int)x->enc_hex[k].n,
                            (const char *)x->enc_hex[k].p, c.why);
                failures++;
            }
            for (unsigned t = 0; t < x->ntypes; t++) {
                type_checks++;
                switch (check_decode(x->type[t], x->value[t], enc, x->enc_len[k], &c)) {
                case CHECK_OK:
                    break;
                case CHECK_SKIP:
                    print_message("skipped %s %s encoding %.*s: %s\n", x->name, x->type[t],
                                  (int)x->enc_hex[k].n, (const char *)x->enc_hex[k].p, c.why);
                    bignum_skipped++;
                    break;
                case CHECK_FAIL:
                    print_error("%s %s: encoding %.*s: %s\n", x->name, x->type[t],
                                (int)x->enc_hex[k].n, (const char *)x->enc_hex[k].p, c.why);
                    failures++;
                    break;
                }
            }
        }
        bool encoded = false;
        for (unsigned t = 0; t < x->ntypes; t++) {
            plume_buf_reset(&out);
            enc_res_t res = encode(x->type[t], x->value[t], &out);
            if (res == ENC_NO_WRITER || res == ENC_SKIP) {
                no_writer += res == ENC_NO_WRITER;
                continue;
            }
            if (res == ENC_BAD || out.failed) {
                print_error("%s %s: cannot encode the value\n", x->name, x->type[t]);
                failures++;
                continue;
            }
            writes++;
            bool listed = false;
            for (unsigned k = 0; k < x->nenc && !listed; k++)
                listed = out.len == x->enc_len[k] &&
                         memcmp(out.data, s.bytes.data + x->enc_off[k], out.len) == 0;
            if (!listed) {
                print_error("%s %s: writer gave %s, not a listed encoding (first: %.*s)\n",
                            x->name, x->type[t], hex_encode(out.data, out.len, hex, sizeof(hex)),
                            (int)x->enc_hex[0].n, (const char *)x->enc_hex[0].p);
                failures++;
                continue;
            }
            encoded = true;
        }
        exams_encoded += encoded;
    }
    plume_buf_free(&out);
    print_message("msgpack-test-suite: %zu exams, %u encodings decoded (%u value checks, %u "
                  "skipped: bignum beyond 64 bits), %u exams encoded by the writer (%u writes; "
                  "%u timestamp/ext values not: no ext writer), %u failures\n",
                  s.nexams, encodings, type_checks, bignum_skipped, exams_encoded, writes,
                  no_writer, failures);
    size_t nexams = s.nexams, nenc = s.nencodings;
    free_suite(&s);
    assert_int_equal(nexams, SUITE_EXAMS);
    assert_int_equal(nenc, SUITE_ENCODINGS);
    assert_int_equal(encodings, SUITE_ENCODINGS);
    assert_int_equal(exams_encoded, SUITE_EXAMS_ENCODED);
    assert_int_equal(bignum_skipped, 0); /* every bignum of v1.0.0 fits 64 bits */
    assert_int_equal(failures, 0);
}

/* The checker must not be vacuous: flipping the last bit of any encoding
 * changes its value (or truncates it), and a byte appended to it is a
 * trailing byte; both must be reported as failures for every exam type. */
static void checker_catches_corruption(void **state)
{
    (void)state;
    suite_t s;
    load_suite(&s);
    unsigned tried = 0, caught = 0;
    ctx_t c;
    for (size_t i = 0; i < s.nexams; i++) {
        const exam_t *x = &s.exams[i];
        for (unsigned k = 0; k < x->nenc; k++) {
            uint8_t buf[MAX_BYTES + 1];
            size_t n = x->enc_len[k];
            memcpy(buf, s.bytes.data + x->enc_off[k], n);
            for (unsigned t = 0; t < x->ntypes; t++) {
                buf[n - 1] ^= 1;
                tried++;
                if (check_decode(x->type[t], x->value[t], buf, n, &c) == CHECK_FAIL)
                    caught++;
                else
                    print_error("%s %s: %.*s with its last bit flipped still matches\n", x->name,
                                x->type[t], (int)x->enc_hex[k].n, (const char *)x->enc_hex[k].p);
                buf[n - 1] ^= 1;
                buf[n] = 0xc0;
                tried++;
                if (check_decode(x->type[t], x->value[t], buf, n + 1, &c) == CHECK_FAIL)
                    caught++;
                else
                    print_error("%s %s: %.*s with a trailing byte still matches\n", x->name,
                                x->type[t], (int)x->enc_hex[k].n, (const char *)x->enc_hex[k].p);
            }
        }
    }
    free_suite(&s);
    assert_true(tried >= 2 * SUITE_ENCODINGS);
    assert_int_equal(caught, tried);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(msgpack_test_suite),
        cmocka_unit_test(checker_catches_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
