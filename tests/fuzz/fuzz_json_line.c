/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the JSON side of the stdin collector: arbitrary bytes
 * go to plume_json_to_mp (default and shallow depth, with and without UTF-8
 * checks), to the object walker, to the validator and object scanner, and to
 * plume_line_to_event in JSON and auto modes (truncated or not, roomy or tight
 * output buffer). Checked: nothing crashes; success yields exactly one msgpack
 * value (plume_mp_skip consumes the whole output); failure restores the
 * output; events are readable; the validator and scanner give the
 * converter's and walker's verdicts and errors; the object scanner's fast
 * path (with each of its line classifiers, AVX2 where the CPU has it and
 * SSE2) and its exact scanner alone (plume_json_scan_force_exact) agree on
 * everything (verdict, every callback call and span, info, error), also when
 * the callback stops at a member; the input read as the "time" of a JSON line
 * gives the plain RFC 3339 / epoch parsers' time, also on hits of the
 * collector's time cache after a time with another fraction; a view marked
 * as holding no LF in fields_json encodes as the unmarked one; and whenever
 * a line took the pass-through
 * path, its Axiom and plain NDJSON lines decode to the same keys and values
 * as those of the same line forced onto the msgpack path; and
 * plume_line_to_view gives the same Axiom and NDJSON lines as the event. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "axiom_encode.h"
#include "event.h"
#include "json_parse.h"
#include "json_parse_int.h"
#include "line_event.h"
#include "mp.h"
#include "timeparse.h"
#include "utf8.h"


#define CHECK(cond)      \
    do {                 \
        if (!(cond))     \
            abort();     \
    } while (0)

/* Walks one value with a depth bound above plume_mp_skip's 64. */
static bool one_value(plume_mp_reader_t *r, int depth)
{
    plume_mp_value_t v;
    if (depth > (int)PLUME_JSON_DEFAULT_MAX_DEPTH + 2 || !plume_mp_read(r, &v))
        return false;
    if (v.type == PLUME_MP_ARRAY || v.type == PLUME_MP_MAP) {
        uint64_t n = v.type == PLUME_MP_MAP ? 2ull * v.count : v.count;
        for (uint64_t i = 0; i < n; i++)
            if (!one_value(r, depth + 1))
                return false;
    }
    return true;
}

static void check_exactly_one(const plume_buf_t *b, size_t from, bool use_skip)
{
    plume_mp_reader_t r;
    plume_mp_reader_init(&r, b->data + from, b->len - from);
    CHECK(use_skip ? plume_mp_skip(&r) : one_value(&r, 0));
    CHECK(r.p == r.end);
}

static void same_error(const plume_json_error_t *a, const plume_json_error_t *b)
{
    CHECK(a->status == b->status && a->offset == b->offset && strcmp(a->msg, b->msg) == 0);
}

/* The validator and scanner agree with the converter and walker. */
static void validate_agrees(const char *s, size_t n, const plume_json_opts_t *opts,
                            plume_buf_t *out)
{
    plume_json_error_t ea, eb;
    plume_buf_reset(out);
    bool conv = plume_json_to_mp_opts(s, n, out, opts, &ea);
    bool val = plume_json_validate(s, n, opts, NULL, &eb);
    CHECK(conv == val);
    if (!conv)
        same_error(&ea, &eb);
    uint32_t kept;
    plume_json_scan_info_t info;
    plume_buf_reset(out);
    bool walk = plume_json_object_walk(s, n, out, opts, NULL, NULL, &kept, &ea);
    bool scan = plume_json_object_scan(s, n, opts, NULL, NULL, &info, &eb);
    CHECK(walk == scan);
    if (!walk)
        same_error(&ea, &eb);
    else
        CHECK(info.members == kept && s[info.obj_off] == '{' &&
              s[info.obj_off + info.obj_len - 1] == '}');
}

/* Everything one plume_json_object_scan() call shows: its verdict, info and
 * error, and its callback calls folded into a hash. */
typedef struct scan_seen {
    bool ok;
    int calls, stop_at;
    uint64_t hash;
    const char *base;
    plume_json_scan_info_t info;
    plume_json_error_t err;
} scan_seen_t;

static bool seen_span(void *arg, const plume_json_span_t *m)
{
    scan_seen_t *c = arg;
    uint64_t h = c->hash;
    for (size_t i = 0; i < m->key_len; i++)
        h = (h ^ (uint8_t)m->key[i]) * 0x100000001b3ull;
    h = (h ^ m->key_len) * 0x100000001b3ull;
    h = (h ^ (uint64_t)(m->raw - c->base)) * 0x100000001b3ull;
    h = (h ^ m->raw_len) * 0x100000001b3ull;
    h = (h ^ (uint64_t)(m->key_escaped | m->raw_escaped << 1)) * 0x100000001b3ull;
    c->hash = h;
    return ++c->calls != c->stop_at;
}

/* How scan_seen() scans. */
enum { EXACT, FAST, FAST_SSE2 };

static void scan_seen(const char *s, size_t n, const plume_json_opts_t *opts, int how,
                      bool use_fn, int stop_at, scan_seen_t *r)
{
    memset(r, 0x5a, sizeof(*r));
    r->calls = 0;
    r->stop_at = stop_at;
    r->hash = 0xcbf29ce484222325ull;
    r->base = s;
    plume_json_scan_force_exact(how == EXACT);
    plume_json_scan_fast_force_sse2(how == FAST_SSE2);
    r->ok = plume_json_object_scan(s, n, opts, use_fn ? seen_span : NULL, r, &r->info, &r->err);
    plume_json_scan_force_exact(false);
    plume_json_scan_fast_force_sse2(false);
}

/* The fast path, with either classifier, gives exactly what the exact
 * scanner gives. */
static void fast_agrees(const char *s, size_t n, const plume_json_opts_t *opts)
{
    scan_seen_t e, f;
    int stops[4] = {0, -1, 1, 0}; /* never, no callback, at the first, at the last */
    for (int k = 0; k < 4; k++) {
        bool use_fn = stops[k] >= 0;
        scan_seen(s, n, opts, EXACT, use_fn, stops[k], &e);
        for (int how = FAST; how <= FAST_SSE2; how++) {
            scan_seen(s, n, opts, how, use_fn, stops[k], &f);
            CHECK(e.ok == f.ok && e.calls == f.calls && e.hash == f.hash);
            CHECK(e.info.obj_off == f.info.obj_off && e.info.obj_len == f.info.obj_len &&
                  e.info.members == f.info.members && e.info.flags == f.info.flags);
            CHECK(e.err.status == f.err.status && e.err.offset == f.err.offset &&
                  memcmp(e.err.msg, f.err.msg, sizeof(e.err.msg)) == 0);
        }
        if (k == 0)
            stops[3] = e.calls > 1 ? e.calls : 0; /* last: stop at the last member */
    }
}

/* {"time":"<t>"} on the pass-through path has the time the plain parsers
 * give for t (RFC 3339, else epoch text), or the receive time. t is taken
 * as it is (a control byte in it makes the line text); one with a quote or
 * backslash, which would change the line's members, is skipped. */
static void time_agrees(const char *t, size_t n)
{
    /* the cached parser on its own: the plain parser's verdict and time */
    uint64_t plain = 7, cached = 7;
    CHECK(plume_time_parse_rfc3339(t, n, &plain) == plume_time_parse_rfc3339_cached(t, n, &cached));
    CHECK(plain == cached);
    char line[96];
    if (n > sizeof(line) - 11 || memchr(t, '"', n) || memchr(t, '\\', n))
        return;
    memcpy(line, "{\"time\":\"", 9);
    memcpy(line + 9, t, n);
    memcpy(line + 9 + n, "\"}", 2);
    plume_buf_t out, scratch;
    plume_buf_init(&out, 0);
    plume_buf_init(&scratch, 0);
    plume_event_view_t v;
    const uint64_t recv = 1700000000000000000ull;
    CHECK(plume_line_to_view(line, n + 11, false, PLUME_FORMAT_JSON, recv, "stdin", &out,
                             &scratch, NULL, &v));
    if (v.fields_json && plume_utf8_valid(t, n)) {
        uint64_t want;
        if (!plume_time_parse_rfc3339(t, n, &want) && !plume_time_from_epoch_str(t, n, &want))
            want = recv;
        CHECK(v.time_ns == want);
    }
    plume_buf_free(&out);
    plume_buf_free(&scratch);
}

/* time_agrees() on the input, then on a time with the same date, second and
 * zone but a 9-digit fraction (it fills the collector's time cache), then on
 * the input again (which may hit it). */
static void times_agree(const char *s, size_t n)
{
    if (n > 48)
        n = 48;
    time_agrees(s, n);
    if (n < 19)
        return;
    const char *space = memchr(s + 19, ' ', n - 19); /* a time at the start of a text */
    if (space)
        n = (size_t)(space - s);
    time_agrees(s, n);
    char primer[80];
    size_t i = 19;
    if (i < n && (s[i] == '.' || s[i] == ','))
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            ;
    memcpy(primer, s, 19);
    memcpy(primer + 19, ".987654321", 10);
    memcpy(primer + 29, s + i, n - i);
    time_agrees(primer, 29 + n - i);
    time_agrees(s, n);
}

static void json_direct(const char *s, size_t n, plume_buf_t *out)
{
    plume_json_error_t err;
    /* depth 64 output is always within plume_mp_skip's reach */
    plume_json_opts_t shallow = {.max_depth = 64};
    plume_buf_reset(out);
    plume_buf_append(out, "pre", 3);
    if (plume_json_to_mp_opts(s, n, out, &shallow, &err))
        check_exactly_one(out, 3, true);
    else
        CHECK(out->len == 3 && err.msg[0] && err.offset <= n);

    plume_buf_reset(out);
    bool ok = plume_json_to_mp(s, n, out, &err);
    if (ok)
        check_exactly_one(out, 0, false);
    else
        CHECK(out->len == 0 && err.status != PLUME_JSON_OK);

    /* without UTF-8 checks: same verdict on valid UTF-8 input */
    plume_json_opts_t lax = {.assume_utf8 = true};
    plume_buf_reset(out);
    bool ok2 = plume_json_to_mp_opts(s, n, out, &lax, &err);
    if (ok2)
        check_exactly_one(out, 0, false);
    if (plume_utf8_valid(s, n))
        CHECK(ok == ok2);

    validate_agrees(s, n, NULL, out);
    validate_agrees(s, n, &shallow, out);
    validate_agrees(s, n, &lax, out);
    plume_json_opts_t line_opts = {.max_depth = PLUME_LINE_JSON_MAX_DEPTH, .assume_utf8 = true};
    if (plume_utf8_valid(s, n))
        validate_agrees(s, n, &line_opts, out);
    fast_agrees(s, n, NULL);
    fast_agrees(s, n, &shallow);
    fast_agrees(s, n, &lax);
    fast_agrees(s, n, &(plume_json_opts_t){.max_depth = 1});

    uint32_t kept;
    plume_buf_reset(out);
    if (plume_json_object_walk(s, n, out, &shallow, NULL, NULL, &kept, &err)) {
        plume_mp_reader_t r;
        plume_mp_reader_init(&r, out->data, out->len);
        for (uint32_t i = 0; i < 2 * kept; i++)
            CHECK(plume_mp_skip(&r));
        CHECK(r.p == r.end);
    } else {
        CHECK(out->len == 0);
    }
}

static double as_double(const plume_mp_value_t *v)
{
    return v->type == PLUME_MP_FLOAT ? v->f : v->type == PLUME_MP_INT ? (double)v->i : (double)v->u;
}

/* Semantic equality of two msgpack values: numbers as numbers (a float
 * written as "100" reads back as an integer), everything else exactly. */
static bool mp_same(plume_mp_reader_t *a, plume_mp_reader_t *b, int depth)
{
    plume_mp_value_t x, y;
    if (depth > 200 || !plume_mp_read(a, &x) || !plume_mp_read(b, &y))
        return false;
    bool xn = x.type == PLUME_MP_INT || x.type == PLUME_MP_UINT || x.type == PLUME_MP_FLOAT;
    bool yn = y.type == PLUME_MP_INT || y.type == PLUME_MP_UINT || y.type == PLUME_MP_FLOAT;
    if (xn && yn) {
        if (x.type != PLUME_MP_FLOAT && y.type != PLUME_MP_FLOAT)
            return x.type == y.type && x.u == y.u;
        return as_double(&x) == as_double(&y);
    }
    if (x.type != y.type)
        return false;
    switch (x.type) {
    case PLUME_MP_STR:
        return x.len == y.len && memcmp(x.s, y.s, x.len) == 0;
    case PLUME_MP_BOOL:
        return x.b == y.b;
    case PLUME_MP_NIL:
        return true;
    case PLUME_MP_ARRAY:
    case PLUME_MP_MAP: {
        if (x.count != y.count)
            return false;
        uint64_t k = x.type == PLUME_MP_MAP ? 2ull * x.count : x.count;
        for (uint64_t i = 0; i < k; i++)
            if (!mp_same(a, b, depth + 1))
                return false;
        return true;
    }
    default:
        return false;
    }
}

/* Encodes both events with fn and checks the two lines decode alike. */
static void same_lines(bool (*fn)(plume_buf_t *, const uint8_t *, size_t), const plume_buf_t *fast,
                       const plume_buf_t *slow)
{
    plume_buf_t la, lb, da, db;
    plume_buf_init(&la, 0);
    plume_buf_init(&lb, 0);
    plume_buf_init(&da, 0);
    plume_buf_init(&db, 0);
    CHECK(fn(&la, fast->data, fast->len));
    CHECK(fn(&lb, slow->data, slow->len));
    CHECK(la.data[la.len - 1] == '\n' && !memchr(la.data, '\n', la.len - 1));
    CHECK(plume_json_to_mp((const char *)la.data, la.len - 1, &da, NULL));
    CHECK(plume_json_to_mp((const char *)lb.data, lb.len - 1, &db, NULL));
    plume_mp_reader_t ra, rb;
    plume_mp_reader_init(&ra, da.data, da.len);
    plume_mp_reader_init(&rb, db.data, db.len);
    CHECK(mp_same(&ra, &rb, 0) && ra.p == ra.end && rb.p == rb.end);
    plume_buf_free(&la);
    plume_buf_free(&lb);
    plume_buf_free(&da);
    plume_buf_free(&db);
}

/* The event in out took the pass-through path: check its text, its hints,
 * and that the msgpack path's event for the same line encodes alike. */
static void cross_check(const char *s, size_t n, plume_line_format_t fmt, const plume_buf_t *out,
                        const plume_event_view_t *ev)
{
    plume_buf_t conv, slow, scratch;
    plume_buf_init(&conv, 0);
    plume_buf_init(&slow, 0);
    plume_buf_init(&scratch, 0);
    CHECK(!ev->fields && plume_utf8_valid(ev->fields_json, ev->fields_json_len));
    CHECK(plume_json_to_mp(ev->fields_json, ev->fields_json_len, &conv, NULL));
    plume_mp_reader_t r;
    plume_mp_value_t m, k;
    plume_mp_reader_init(&r, conv.data, conv.len);
    CHECK(plume_mp_read(&r, &m) && m.type == PLUME_MP_MAP);
    unsigned hints = 0;
    for (uint32_t i = 0; i < m.count; i++) {
        CHECK(plume_mp_read(&r, &k) && k.type == PLUME_MP_STR);
        CHECK(!(k.len > 0 && k.s[0] == '_'));
        hints |= plume_hint_for_key(k.s, k.len);
        CHECK(plume_mp_skip(&r));
    }
    CHECK(hints == ev->hints);

    plume_line_event_force_slow_path(true);
    bool ok = plume_line_to_event(s, n, false, fmt, 1700000000000000000ull, "stdin", &slow,
                                  &scratch, NULL);
    plume_line_event_force_slow_path(false);
    CHECK(ok);
    plume_event_view_t sv;
    CHECK(plume_event_view(slow.data, slow.len, &sv));
    CHECK(sv.fields && !sv.fields_json && sv.time_ns == ev->time_ns && sv.level == ev->level);
    CHECK((sv.message == NULL) == (ev->message == NULL) && sv.message_len == ev->message_len);
    CHECK(!sv.message || memcmp(sv.message, ev->message, sv.message_len) == 0);
    same_lines(plume_axiom_encode_event, out, &slow);
    same_lines(plume_ndjson_encode_event, out, &slow);
    plume_buf_free(&conv);
    plume_buf_free(&slow);
    plume_buf_free(&scratch);
}

/* plume_line_to_view() on the same line describes the event in `out`: the
 * same Axiom and plain NDJSON lines. */
static void view_agrees(const char *s, size_t n, plume_line_format_t fmt, bool truncated,
                        const plume_buf_t *out)
{
    plume_buf_t vout, vscratch, a, b;
    plume_buf_init(&vout, 0);
    plume_buf_init(&vscratch, 0);
    plume_buf_init(&a, 0);
    plume_buf_init(&b, 0);
    plume_event_view_t v;
    CHECK(plume_line_to_view(s, n, truncated, fmt, 1700000000000000000ull, "stdin", &vout,
                             &vscratch, NULL, &v));
    CHECK(plume_axiom_encode_event(&a, out->data, out->len) && plume_axiom_encode_view(&b, &v));
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    plume_buf_reset(&a);
    plume_buf_reset(&b);
    CHECK(plume_ndjson_encode_event(&a, out->data, out->len) && plume_ndjson_encode_view(&b, &v));
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    /* marked as holding no LF in fields_json (when true): the same lines */
    if (v.fields_json && !memchr(v.fields_json, '\n', v.fields_json_len)) {
        v.fields_json_one_line = true;
        for (int axiom = 0; axiom < 2; axiom++) {
            plume_buf_reset(&a);
            plume_buf_reset(&b);
            v.fields_json_one_line = false;
            CHECK(axiom ? plume_axiom_encode_view(&a, &v) : plume_ndjson_encode_view(&a, &v));
            v.fields_json_one_line = true;
            CHECK(axiom ? plume_axiom_encode_view(&b, &v) : plume_ndjson_encode_view(&b, &v));
            CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
        }
    }
    plume_buf_free(&vout);
    plume_buf_free(&vscratch);
    plume_buf_free(&a);
    plume_buf_free(&b);
}

static void line(const char *s, size_t n, plume_line_format_t fmt, bool truncated, size_t max)
{
    plume_buf_t out, scratch;
    plume_line_stats_t st = {0};
    plume_buf_init(&out, max);
    plume_buf_init(&scratch, 0);
    if (plume_line_to_event(s, n, truncated, fmt, 1700000000000000000ull, "stdin", &out,
                            &scratch, &st)) {
        check_exactly_one(&out, 0, true);
        plume_event_view_t ev;
        CHECK(plume_event_view(out.data, out.len, &ev));
        CHECK(ev.origin_len == 5);
        CHECK(st.json + st.logfmt + st.text == 1);
        if (ev.message)
            CHECK(plume_utf8_valid(ev.message, ev.message_len));
        if (truncated)
            CHECK(ev.truncated && !ev.parse_error && !ev.fields && !ev.fields_json);
        if (ev.fields_json && max == 0)
            cross_check(s, n, fmt, &out, &ev);
        if (max == 0)
            view_agrees(s, n, fmt, truncated, &out);
    } else {
        CHECK(max != 0 && out.failed && out.len == 0);
    }
    plume_buf_free(&out);
    plume_buf_free(&scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static plume_buf_t out;
    static bool init;
    if (!init) {
        plume_buf_init(&out, 0);
        init = true;
    }
    const char *s = (const char *)data;
    json_direct(s, size, &out);
    line(s, size, PLUME_FORMAT_JSON, false, 0);
    line(s, size, PLUME_FORMAT_AUTO, false, 0);
    line(s, size, PLUME_FORMAT_JSON, true, 0);
    line(s, size, PLUME_FORMAT_AUTO, false, size / 2 + 24); /* tight: may overflow */
    times_agree(s, size);
    return 0;
}
