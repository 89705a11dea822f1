/* SPDX-License-Identifier: MIT */
/* go-logfmt's decoder cases (../shared/conformance/logfmt/go-logfmt-decode.json)
 * against plume_logfmt_next: every valid case must give exactly the expected
 * records of [key, value|null] pairs, every syntax-error case the same message,
 * line and position (pos = offset + 1), and every normalization input must
 * decode. The JSON file itself is read with plume_json_to_mp and walked with
 * plume_mp_read. Inputs are split into records as Go's bufio.ScanLines does. */
#include "test_support.h"
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_parse.h"
#include "logfmt.h"
#include "mp.h"

/* Moves r past the value of `key` in the map whose header was just read
 * (count pairs); returns false if absent. On success r is at the value. */
static bool find_key(plume_mp_reader_t *r, uint32_t count, const char *key)
{
    for (uint32_t i = 0; i < count; i++) {
        plume_mp_value_t k;
        assert_true(plume_mp_read(r, &k));
        if (plume_mp_str_eq(&k, key))
            return true;
        assert_true(plume_mp_skip(r));
    }
    return false;
}

/* A case object: gets the str value of `key` (NULL if absent or null). */
static bool case_str(const uint8_t *obj, size_t n, const char *key, plume_mp_value_t *out)
{
    plume_mp_reader_t r;
    plume_mp_value_t m;
    plume_mp_reader_init(&r, obj, n);
    assert_true(plume_mp_read(&r, &m));
    if (!find_key(&r, m.count, key))
        return false;
    assert_true(plume_mp_read(&r, out));
    return out->type == PLUME_MP_STR;
}

/* Positions r at the value of `key` in the case object. */
static bool case_value(const uint8_t *obj, size_t n, const char *key, plume_mp_reader_t *r)
{
    plume_mp_value_t m;
    plume_mp_reader_init(r, obj, n);
    assert_true(plume_mp_read(r, &m));
    return find_key(r, m.count, key);
}

static size_t unhex(const plume_mp_value_t *hex, char *dst)
{
    size_t n = hex->len / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned b;
        assert_int_equal(sscanf(hex->s + 2 * i, "%2x", &b), 1);
        dst[i] = (char)b;
    }
    return n;
}

/* Go's bufio.ScanLines: records end at '\n', a trailing '\r' is dropped, and
 * a last record without '\n' counts only if it is not empty. Calls fn on each;
 * stops early if fn returns false. */
typedef bool (*record_fn)(void *ctx, unsigned lineno, const char *s, size_t n);

static void scan_lines(const char *s, size_t n, record_fn fn, void *ctx)
{
    size_t start = 0;
    unsigned lineno = 0;
    while (start < n) {
        const char *nl = memchr(s + start, '\n', n - start);
        size_t end = nl ? (size_t)(nl - s) : n;
        size_t len = end - start;
        if (len && s[start + len - 1] == '\r')
            len--;
        if (!fn(ctx, ++lineno, s + start, len))
            return;
        start = nl ? end + 1 : n;
    }
}

typedef struct check_ctx {
    const char *name;
    plume_mp_reader_t *want; /* at the next expected record */
    uint32_t records_left;
    unsigned failures;
    /* for error cases */
    const char *err;
    unsigned err_line;
    size_t err_pos;
} check_ctx_t;

static bool check_record(void *arg, unsigned lineno, const char *s, size_t n)
{
    check_ctx_t *c = arg;
    plume_mp_value_t rec, pair, k, v;
    plume_logfmt_iter_t it;
    plume_logfmt_pair_t p;
    plume_buf_t scratch;
    if (c->records_left == 0) {
        print_error("%s: more records than expected\n", c->name);
        c->failures++;
        return false;
    }
    c->records_left--;
    assert_true(plume_mp_read(c->want, &rec));
    assert_int_equal(rec.type, PLUME_MP_ARRAY);
    plume_buf_init(&scratch, 0);
    plume_logfmt_iter_init(&it, s, n, &scratch);
    uint32_t got = 0;
    for (uint32_t i = 0; i < rec.count; i++) {
        assert_true(plume_mp_read(c->want, &pair));
        assert_true(plume_mp_read(c->want, &k));
        assert_true(plume_mp_read(c->want, &v));
        if (!plume_logfmt_next(&it, &p)) {
            print_error("%s line %u: pair %u missing (%s)\n", c->name, lineno, i,
                        it.err ? it.err : "end");
            c->failures++;
            continue;
        }
        got++;
        if (p.key_len != k.len || memcmp(p.key, k.s, k.len) != 0) {
            print_error("%s line %u: key %u is '%.*s'\n", c->name, lineno, i, (int)p.key_len, p.key);
            c->failures++;
        }
        if (v.type == PLUME_MP_NIL) {
            if (p.has_value) {
                print_error("%s line %u: key %.*s should have no value\n", c->name, lineno,
                            (int)k.len, k.s);
                c->failures++;
            }
        } else if (!p.has_value || p.value_len != v.len || memcmp(p.value, v.s, v.len) != 0) {
            print_error("%s line %u: value of %.*s differs\n", c->name, lineno, (int)k.len, k.s);
            c->failures++;
        }
    }
    if (got == rec.count && (plume_logfmt_next(&it, &p) || it.err)) {
        print_error("%s line %u: extra pair or error\n", c->name, lineno);
        c->failures++;
    }
    plume_buf_free(&scratch);
    return true;
}

static bool check_error_record(void *arg, unsigned lineno, const char *s, size_t n)
{
    check_ctx_t *c = arg;
    plume_logfmt_iter_t it;
    plume_logfmt_pair_t p;
    plume_logfmt_iter_init(&it, s, n, NULL);
    while (plume_logfmt_next(&it, &p))
        ;
    if (!it.err)
        return true;
    c->err = it.err;
    c->err_line = lineno;
    c->err_pos = it.err_offset + 1;
    return false;
}

static bool decode_all(void *arg, unsigned lineno, const char *s, size_t n)
{
    check_ctx_t *c = arg;
    plume_logfmt_iter_t it;
    plume_logfmt_pair_t p;
    plume_logfmt_iter_init(&it, s, n, NULL);
    while (plume_logfmt_next(&it, &p))
        ;
    if (it.err) {
        print_error("%s line %u: %s\n", c->name, lineno, it.err);
        c->failures++;
    }
    return true;
}

static void logfmt_suite(void **state)
{
    (void)state;
    size_t len;
    char *json = plume_test_read_file(
        plume_test_conformance_path("logfmt/go-logfmt-decode.json"), &len);
    assert_non_null(json);
    plume_buf_t doc;
    plume_json_error_t err;
    plume_buf_init(&doc, 0);
    if (!plume_json_to_mp(json, len, &doc, &err))
        fail_msg("cannot read go-logfmt-decode.json: %s", err.msg);

    unsigned valid = 0, invalid = 0, normalized = 0, failures = 0;
    static const char *sections[] = {"valid", "invalid", "normalize"};
    for (int sec = 0; sec < 3; sec++) {
        plume_mp_reader_t r;
        plume_mp_value_t top, arr;
        plume_mp_reader_init(&r, doc.data, doc.len);
        assert_true(plume_mp_read(&r, &top));
        assert_true(find_key(&r, top.count, sections[sec]));
        assert_true(plume_mp_read(&r, &arr));
        assert_int_equal(arr.type, PLUME_MP_ARRAY);
        for (uint32_t i = 0; i < arr.count; i++) {
            const uint8_t *obj = r.p;
            assert_true(plume_mp_skip(&r));
            size_t objlen = (size_t)(r.p - obj);
            plume_mp_value_t name, hex;
            assert_true(case_str(obj, objlen, "name", &name));
            assert_true(case_str(obj, objlen, "input_hex", &hex));
            char cname[64];
            snprintf(cname, sizeof(cname), "%.*s", (int)name.len, name.s);
            char *input = malloc(hex.len / 2 + 1);
            size_t n = unhex(&hex, input);
            check_ctx_t c = {.name = cname};

            if (sec == 0) {
                plume_mp_reader_t want;
                plume_mp_value_t recs;
                assert_true(case_value(obj, objlen, "records", &want));
                assert_true(plume_mp_read(&want, &recs));
                c.want = &want;
                c.records_left = recs.count;
                scan_lines(input, n, check_record, &c);
                if (c.records_left) {
                    print_error("%s: %u records missing\n", cname, c.records_left);
                    c.failures++;
                }
                valid++;
            } else if (sec == 1) {
                plume_mp_reader_t er;
                plume_mp_value_t em, msg, line, pos;
                assert_true(case_value(obj, objlen, "error", &er));
                assert_true(plume_mp_read(&er, &em));
                const uint8_t *eobj = er.p - 1;
                (void)eobj;
                plume_mp_reader_t e2 = er;
                assert_true(find_key(&e2, em.count, "msg"));
                assert_true(plume_mp_read(&e2, &msg));
                e2 = er;
                assert_true(find_key(&e2, em.count, "line"));
                assert_true(plume_mp_read(&e2, &line));
                e2 = er;
                assert_true(find_key(&e2, em.count, "pos"));
                assert_true(plume_mp_read(&e2, &pos));
                scan_lines(input, n, check_error_record, &c);
                if (!c.err || !plume_mp_str_eq(&msg, c.err) || c.err_line != line.u ||
                    c.err_pos != pos.u) {
                    print_error("%s: got %s at line %u pos %zu, want %.*s at line %u pos %u\n",
                                cname, c.err ? c.err : "no error", c.err_line, c.err_pos,
                                (int)msg.len, msg.s, (unsigned)line.u, (unsigned)pos.u);
                    c.failures++;
                }
                invalid++;
            } else {
                scan_lines(input, n, decode_all, &c);
                normalized++;
            }
            failures += c.failures;
            free(input);
        }
    }
    print_message("go-logfmt: %u valid, %u syntax errors, %u normalizations checked\n", valid,
                  invalid, normalized);
    assert_int_equal(valid, 15);
    assert_int_equal(invalid, 14);
    assert_int_equal(normalized, 5);
    assert_int_equal(failures, 0);
    plume_buf_free(&doc);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(logfmt_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
