/* SPDX-License-Identifier: MIT */
/* record_json.c: a record's fields map written straight to JSON members must
 * be byte for byte what the generic msgpack -> JSON path gives (the Axiom
 * encoder's: "_"-prefixed keys renamed "user_...", the same escaping and
 * numbers), with the same hint bits, for random records of every field type
 * (strings with escapes, invalid UTF-8, NaN/inf doubles, 32 fields, overlay
 * pairs); scrubbed, the value of every key that contains a name (any case,
 * checked here by a plain substring search) is "[Filtered]", for name lists
 * whose shortest name is 1 or 5 bytes. Anything a record never holds, a cut
 * map, or a full buffer gives false with the output unchanged. */
#include "test_support.h"
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "json_write.h"
#include "mp.h"
#include "record.h"
#include "record_build.h"
#include "record_json.h"
#include "scrub.h"

/* The generic path, as axiom_encode.c writes a "fields" map, with the
 * scrub rule for names[0..nnames) (none: nothing scrubbed): a matching
 * key's value skipped and written as "[Filtered]". */
static void reference(plume_buf_t *out, const uint8_t *map, size_t len, unsigned *hints,
                      const char *const *names, size_t nnames)
{
    plume_mp_reader_t r;
    plume_mp_value_t m, k;
    plume_mp_reader_init(&r, map, len);
    assert_true(plume_mp_read(&r, &m) && m.type == PLUME_MP_MAP);
    for (uint32_t i = 0; i < m.count; i++) {
        assert_true(plume_mp_read(&r, &k) && k.type == PLUME_MP_STR);
        *hints |= plume_hint_for_key(k.s, k.len);
        plume_buf_append_str(out, k.len > 0 && k.s[0] == '_' ? ",\"user" : ",\"");
        plume_json_write_escaped(out, k.s, k.len);
        plume_buf_append_str(out, "\":");
        if (plume_test_names_in_key(names, nnames, k.s, k.len)) {
            assert_true(plume_mp_skip(&r));
            plume_buf_append_str(out, "\"[Filtered]\"");
        } else {
            assert_true(plume_json_write_mp(out, &r));
        }
    }
}

static uint64_t rng = 7;
static uint32_t next(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng >> 33);
}

/* A random string into buf (NUL-terminated), mostly ASCII with specials. */
static const char *random_string(char *buf, size_t cap)
{
    static const uint8_t specials[] = {'"', '\\', '\n', 0x01, 0x1f, 0x7f, 0x80, 0xc3, 0xa9,
                                       0xe2, 0x80, 0xa8, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0xc0};
    size_t n = next() % (cap - 1);
    for (size_t i = 0; i < n; i++) {
        uint32_t r = next();
        buf[i] = r % 8 == 0 ? (char)specials[(r >> 8) % sizeof(specials)] : (char)('a' + r % 26);
    }
    buf[n] = '\0';
    return buf;
}

static void same_as_generic_path(void **state)
{
    (void)state;
    static const char *const keys[] = {"path", "_secret", "level", "msg", "message", "origin",
                                       "status", "", "k\"ey", "ünï"};
    static const double specials[] = {12.5, -0.0, 1e300, 1e-300, 3.141592653589793, NAN,
                                      INFINITY, -INFINITY, 1795314304.4047532};
    char strings[PLUME_MAX_FIELDS][64];
    for (int iter = 0; iter < 5000; iter++) {
        plume_field_t f[PLUME_MAX_FIELDS + 4];
        size_t n = next() % (PLUME_MAX_FIELDS + 4);
        for (size_t i = 0; i < n; i++) {
            const char *key = next() % 4 ? keys[next() % 10] : random_string(strings[i % 32], 20);
            switch (next() % 7) {
            case 0:
                f[i] = plume_str(key, random_string(strings[i % 32], 64));
                break;
            case 1:
                f[i] = plume_str(key, NULL);
                break;
            case 2:
                f[i] = plume_i64(key, (int64_t)((uint64_t)next() << 32 | next()));
                break;
            case 3:
                f[i] = plume_u64(key, (uint64_t)next() << 32 | next());
                break;
            case 4:
                f[i] = plume_f64(key, next() % 2 ? specials[next() % 9] : (double)next() / 7.0);
                break;
            case 5:
                f[i] = plume_bool(key, (int)(next() % 2));
                break;
            default:
                f[i] = plume_str(NULL, "skipped");
                break;
            }
        }
        /* overlay pairs, as a push writes them */
        plume_field_t ov[2] = {plume_str("request_id", "r-1"), plume_i64("_n", -5)};
        plume_record_lens_t ol;
        uint8_t pairs[128];
        size_t pn = plume_record_pairs_measure(ov, 2, &ol);
        plume_record_pairs_write(pairs, ov, &ol);
        plume_record_extra_t extra = {.pairs = pairs, .pairs_len = (uint32_t)pn, .npairs = 2};
        bool with_extra = next() % 2;

        size_t size;
        uint8_t *rec =
            plume_test_record(1, PLUME_LEVEL_INFO, "m", f, n, with_extra ? &extra : NULL, &size);
        plume_record_view_t v;
        assert_true(plume_record_read(rec, size, &v));

        plume_buf_t got, want;
        plume_buf_init(&got, 0);
        plume_buf_init(&want, 0);
        plume_buf_append_str(&got, "prefix"); /* members are appended */
        plume_buf_append_str(&want, "prefix");
        unsigned hg = 0x100, hw = 0x100; /* bits are ORed in */
        assert_true(plume_record_json_members(&got, v.fields, v.fields_len, &hg));
        reference(&want, v.fields, v.fields_len, &hw, NULL, 0);
        assert_int_equal(hg, hw);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, got.len);
        plume_buf_free(&got);
        plume_buf_free(&want);
        free(rec);
    }
}

static void scrubbed_same_as_generic_path(void **state)
{
    (void)state;
    static const char *const lists[2][4] = {{"password", "Token", "api_key", "cookie"},
                                            {"pw", "SECRET", "auth", "x"}};
    static const char *const keys[] = {"password", "db_PASSWORD", "x-auth-token", "tok", "TOKEN",
                                       "toke", "user", "pw", "p", "cookies", "_secret", "ms",
                                       "cents", "my_api_key_2", "api-key", "authorization", ""};
    char strings[PLUME_MAX_FIELDS][64];
    for (int list = 0; list < 2; list++) {
        plume_scrub_t sc;
        assert_true(plume_scrub_init_names(&sc, lists[list], 4));
        assert_int_equal(sc.min_len, list == 0 ? 5 : 1);
        for (int iter = 0; iter < 3000; iter++) {
            plume_field_t f[PLUME_MAX_FIELDS];
            size_t n = 1 + next() % PLUME_MAX_FIELDS;
            for (size_t i = 0; i < n; i++) {
                const char *key = next() % 3 ? keys[next() % (sizeof(keys) / sizeof(keys[0]))]
                                             : random_string(strings[i], 12);
                switch (next() % 4) {
                case 0:
                    f[i] = plume_str(key, random_string(strings[(i + 1) % 32], 40));
                    break;
                case 1:
                    f[i] = plume_i64(key, (int64_t)next() - (1 << 30));
                    break;
                case 2:
                    f[i] = plume_f64(key, (double)next() / 8.0);
                    break;
                default:
                    f[i] = plume_bool(key, 1);
                    break;
                }
            }
            size_t size;
            uint8_t *rec = plume_test_record(1, PLUME_LEVEL_INFO, "m", f, n, NULL, &size);
            plume_record_view_t v;
            assert_true(plume_record_read(rec, size, &v));
            plume_buf_t got, want;
            plume_buf_init(&got, 0);
            plume_buf_init(&want, 0);
            unsigned hg = 0, hw = 0;
            assert_true(plume_record_json_members_scrub(&got, v.fields, v.fields_len, &hg, &sc));
            reference(&want, v.fields, v.fields_len, &hw, lists[list], 4);
            assert_int_equal(hg, hw);
            assert_int_equal(got.len, want.len);
            assert_memory_equal(got.data, want.data, got.len);
            plume_buf_free(&got);
            plume_buf_free(&want);
            free(rec);
        }
        plume_scrub_free(&sc);
    }
}

static void refuses_what_a_record_never_holds(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        uint8_t bytes[16];
        size_t len;
    } bad[] = {
        {"uint8 value", {0x81, 0xa1, 'k', 0xcc, 0x05}, 5},
        {"array value", {0x81, 0xa1, 'k', 0x90}, 4},
        {"int key", {0x81, 0x01, 0xc0}, 3},
        {"cut string", {0x81, 0xa1, 'k', 0xa5, 'a', 'b'}, 6},
        {"cut int64", {0x81, 0xa1, 'k', 0xd3, 0, 0, 0}, 7},
        {"missing value", {0x81, 0xa1, 'k'}, 3},
        {"fewer pairs than counted", {0x82, 0xa1, 'k', 0xc0}, 4},
        {"bytes after the map", {0x81, 0xa1, 'k', 0xc0, 0xc0}, 5},
        {"not a map", {0x91, 0xc0}, 2},
        {"empty", {0}, 0},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        plume_buf_t out;
        plume_buf_init(&out, 0);
        plume_buf_append_str(&out, "keep");
        unsigned hints = 0;
        if (plume_record_json_members(&out, bad[i].bytes, bad[i].len, &hints))
            fail_msg("accepted: %s", bad[i].what);
        assert_int_equal(out.len, 4);
        assert_memory_equal(out.data, "keep", 4);
        plume_buf_free(&out);
    }
    /* a buffer at its maximum */
    uint8_t ok[] = {0x81, 0xa1, 'k', 0xc3};
    plume_buf_t small;
    plume_buf_init(&small, 8);
    unsigned hints = 0;
    assert_false(plume_record_json_members(&small, ok, sizeof(ok), &hints));
    assert_int_equal(small.len, 0);
    plume_buf_free(&small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_as_generic_path),
        cmocka_unit_test(scrubbed_same_as_generic_path),
        cmocka_unit_test(refuses_what_a_record_never_holds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
