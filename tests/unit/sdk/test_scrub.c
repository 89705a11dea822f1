/* SPDX-License-Identifier: MIT */
/* Scrubbing (sdk/src/scrub.c): the key matcher (case-insensitive substring,
 * the default list from plume_options_new(), an empty list turning it off),
 * the msgpack -> JSON walker at any depth (maps in arrays in maps), its
 * identity with plume_json_write_mp() when off, the pairs writer the scope
 * uses, the msgpack copier, and the record fast path (record_json.c) in the
 * same pass as its rendering. The matcher (its inline length check and the
 * scan behind it) agrees with a plain substring search on random keys of
 * every length around the shortest name's. */
#include "test_support.h"
#include <cmocka.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json_parse.h"
#include "json_write.h"
#include "mp.h"
#include "options.h"
#include "plume/plume.h"
#include "record.h"
#include "record_build.h"
#include "record_json.h"
#include "scrub.h"

/* JSON text -> msgpack (the test inputs are written as JSON for reading). */
static void to_mp(const char *json, plume_buf_t *out)
{
    plume_buf_init(out, 0);
    plume_json_error_t err;
    assert_true(plume_json_to_mp(json, strlen(json), out, &err));
}

/* Renders `json` through the scrubbing writer; returns the text (caller frees). */
static char *scrubbed(const char *json, const plume_scrub_t *s)
{
    plume_buf_t mp, out;
    to_mp(json, &mp);
    plume_buf_init(&out, 0);
    plume_mp_reader_t rd;
    plume_mp_reader_init(&rd, mp.data, mp.len);
    assert_true(plume_scrub_write_mp_json(&out, &rd, s));
    assert_ptr_equal(rd.p, mp.data + mp.len);
    plume_buf_append_byte(&out, 0);
    plume_buf_free(&mp);
    return (char *)out.data;
}

static void matcher(void **state)
{
    (void)state;
    static const char *const names[] = {"password", "Token", "", "api_key"};
    plume_scrub_t s;
    assert_true(plume_scrub_init_names(&s, names, 4));
    assert_int_equal(s.n, 3); /* the empty name is skipped */
    assert_true(plume_scrub_active(&s));
    assert_true(plume_scrub_key(&s, "password", 8));
    assert_true(plume_scrub_key(&s, "DB_PASSWORD", 11));
    assert_true(plume_scrub_key(&s, "x-auth-token", 12));
    assert_true(plume_scrub_key(&s, "TOKEN", 5));
    assert_true(plume_scrub_key(&s, "my_Api_Key_2", 12));
    assert_false(plume_scrub_key(&s, "tok", 3));
    assert_false(plume_scrub_key(&s, "passwor", 7));
    assert_false(plume_scrub_key(&s, "user_id", 7));
    assert_false(plume_scrub_key(&s, "api-key", 7));
    /* the key's length is what counts, not a NUL */
    assert_false(plume_scrub_key(&s, "tokenizer", 3));
    assert_true(plume_scrub_key(&s, "a\0token", 7));
    assert_false(plume_scrub_key(NULL, "token", 5));
    plume_scrub_free(&s);

    /* off: nothing matches */
    assert_true(plume_scrub_init_names(&s, NULL, 0));
    assert_false(plume_scrub_active(&s));
    assert_false(plume_scrub_key(&s, "password", 8));
    plume_scrub_free(&s);
}

static void matcher_agrees_with_search(void **state)
{
    (void)state;
    static const char *const names[] = {"passwd", "Token", "api_key", "sEcReT", "cookie"};
    static const char alphabet[] = "tokenpasswdsecretcookieapi_key-_xTAS\0\xff";
    plume_scrub_t s;
    assert_true(plume_scrub_init_names(&s, names, 5));
    assert_int_equal(s.min_len, 5);
    uint64_t x = 3;
    char key[16];
    size_t hits = 0;
    for (int i = 0; i < 200000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        size_t n = (size_t)(x >> 60); /* 0..15: below, at and above min_len */
        for (size_t j = 0; j < n; j++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            key[j] = alphabet[(x >> 33) % (sizeof(alphabet) - 1)];
        }
        /* most keys get a name, or most of one, somewhere, in mixed case */
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const char *name = names[(x >> 33) % 5];
        size_t len = strlen(name) - (x >> 40) % 2, at = n ? (x >> 44) % n : 0;
        for (size_t j = 0; (x >> 48) % 4 && j < len && at + j < n; j++)
            key[at + j] = (char)((x >> (50 + j % 8)) & 1 ? toupper((unsigned char)name[j])
                                                          : tolower((unsigned char)name[j]));
        bool want = plume_test_names_in_key(names, 5, key, n);
        if (plume_scrub_key(&s, key, n) != want)
            fail_msg("key '%.*s' (%zu bytes): expected %d", (int)n, key, n, want);
        if (n >= s.min_len && plume_scrub_key_scan(&s, key, n) != want)
            fail_msg("scan of '%.*s': expected %d", (int)n, key, want);
        hits += want;
    }
    assert_true(hits > 1000); /* the alphabet makes matches common enough */
    plume_scrub_free(&s);
}

static void defaults_from_options(void **state)
{
    (void)state;
    plume_options_t *o = plume_options_new();
    assert_non_null(o);
    plume_scrub_t s;
    assert_true(plume_scrub_init(&s, o));
    static const char *const secret[] = {"password", "passwd", "client_secret", "refresh_token",
                                         "API_KEY", "Authorization", "Set-Cookie"};
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
        assert_true(plume_scrub_key(&s, secret[i], strlen(secret[i])));
    assert_false(plume_scrub_key(&s, "user", 4));
    assert_false(plume_scrub_key(&s, "status", 6));
    plume_scrub_free(&s);

    /* a replaced list, then an empty one */
    const char *mine[] = {"ssn"};
    assert_int_equal(plume_options_set_scrub_fields(o, mine, 1), PLUME_OK);
    assert_true(plume_scrub_init(&s, o));
    assert_true(plume_scrub_key(&s, "user_SSN", 8));
    assert_false(plume_scrub_key(&s, "password", 8));
    plume_scrub_free(&s);
    assert_int_equal(plume_options_set_scrub_fields(o, NULL, 0), PLUME_OK);
    assert_true(plume_scrub_init(&s, o));
    assert_false(plume_scrub_active(&s));
    plume_scrub_free(&s);
    plume_options_free(o);
}

static void json_at_depth(void **state)
{
    (void)state;
    static const char *const names[] = {"secret", "cookie"};
    plume_scrub_t s;
    assert_true(plume_scrub_init_names(&s, names, 2));
    char *out = scrubbed("{\"a\":1,\"Secret\":\"x\",\"list\":[{\"COOKIE\":{\"deep\":[1,2]},"
                         "\"ok\":[{\"my_secret_v\":true}]},3],\"n\":{\"m\":{\"secret\":null}}}",
                         &s);
    assert_string_equal(out, "{\"a\":1,\"Secret\":\"[Filtered]\",\"list\":[{\"COOKIE\":"
                             "\"[Filtered]\",\"ok\":[{\"my_secret_v\":\"[Filtered]\"}]},3],"
                             "\"n\":{\"m\":{\"secret\":\"[Filtered]\"}}}");
    free(out);
    /* a scalar, and an array at the top */
    out = scrubbed("\"secret\"", &s);
    assert_string_equal(out, "\"secret\"");
    free(out);
    out = scrubbed("[{\"secret\":1},{\"x\":2}]", &s);
    assert_string_equal(out, "[{\"secret\":\"[Filtered]\"},{\"x\":2}]");
    free(out);
    plume_scrub_free(&s);
}

/* Off (an empty list, or NULL): exactly what plume_json_write_mp() writes. */
static void off_is_identity(void **state)
{
    (void)state;
    plume_scrub_t off;
    assert_true(plume_scrub_init_names(&off, NULL, 0));
    static const char *const names[] = {"zzzz"};
    plume_scrub_t nomatch;
    assert_true(plume_scrub_init_names(&nomatch, names, 1));
    const char *doc = "{\"password\":\"p\",\"a\":[1,-2,3.5,{\"token\":\"t\"}],\"b\":null,"
                      "\"c\":\"\\u00e9\\n\",\"d\":{\"e\":false}}";
    plume_buf_t mp, want;
    to_mp(doc, &mp);
    plume_buf_init(&want, 0);
    plume_mp_reader_t rd;
    plume_mp_reader_init(&rd, mp.data, mp.len);
    assert_true(plume_json_write_mp(&want, &rd));
    plume_buf_append_byte(&want, 0);
    const plume_scrub_t *cases[] = {NULL, &off, &nomatch};
    for (size_t i = 0; i < 3; i++) {
        char *got = scrubbed(doc, cases[i]);
        assert_string_equal(got, (char *)want.data);
        free(got);
    }
    plume_buf_free(&mp);
    plume_buf_free(&want);
    plume_scrub_free(&off);
    plume_scrub_free(&nomatch);
}

static void members_and_copy(void **state)
{
    (void)state;
    static const char *const names[] = {"token"};
    plume_scrub_t s;
    assert_true(plume_scrub_init_names(&s, names, 1));
    /* pairs with no map header, as the scope stores them */
    plume_buf_t pairs, out;
    plume_buf_init(&pairs, 0);
    plume_buf_init(&out, 0);
    plume_mp_cstr(&pairs, "tags");
    plume_mp_map_header(&pairs, 2);
    plume_mp_cstr(&pairs, "region");
    plume_mp_cstr(&pairs, "eu");
    plume_mp_cstr(&pairs, "Token");
    plume_mp_cstr(&pairs, "abc");
    plume_mp_cstr(&pairs, "auth_token");
    plume_mp_int(&pairs, -5);
    plume_mp_reader_t rd;
    plume_mp_reader_init(&rd, pairs.data, pairs.len);
    assert_true(plume_scrub_write_mp_members(&out, &rd, 2, &s));
    plume_buf_append_byte(&out, 0);
    assert_string_equal((char *)out.data, ",\"tags\":{\"region\":\"eu\",\"Token\":\"[Filtered]\"},"
                                          "\"auth_token\":\"[Filtered]\"");

    /* the msgpack copy: same structure, filtered values as str */
    plume_buf_t mp, copy, json;
    to_mp("{\"a\":{\"token\":[1,2]},\"b\":[{\"TOKEN\":1}],\"c\":2}", &mp);
    plume_buf_init(&copy, 0);
    plume_buf_init(&json, 0);
    plume_mp_reader_init(&rd, mp.data, mp.len);
    assert_true(plume_scrub_copy_mp(&copy, &rd, &s));
    plume_mp_reader_init(&rd, copy.data, copy.len);
    assert_true(plume_json_write_mp(&json, &rd));
    assert_ptr_equal(rd.p, copy.data + copy.len);
    plume_buf_append_byte(&json, 0);
    assert_string_equal((char *)json.data,
                        "{\"a\":{\"token\":\"[Filtered]\"},\"b\":[{\"TOKEN\":\"[Filtered]\"}],\"c\":2}");

    /* malformed input is refused, never read past */
    static const uint8_t cut[] = {0x82, 0xa5, 't', 'o', 'k', 'e', 'n'};
    plume_buf_reset(&json);
    plume_mp_reader_init(&rd, cut, sizeof(cut));
    assert_false(plume_scrub_write_mp_json(&json, &rd, &s));
    plume_buf_reset(&copy);
    plume_mp_reader_init(&rd, cut, sizeof(cut));
    assert_false(plume_scrub_copy_mp(&copy, &rd, &s));
    /* too deep */
    uint8_t deep[100];
    memset(deep, 0x91, sizeof(deep));
    deep[99] = 0x01;
    plume_buf_reset(&json);
    plume_mp_reader_init(&rd, deep, sizeof(deep));
    assert_false(plume_scrub_write_mp_json(&json, &rd, &s));

    plume_buf_free(&pairs);
    plume_buf_free(&out);
    plume_buf_free(&mp);
    plume_buf_free(&copy);
    plume_buf_free(&json);
    plume_scrub_free(&s);
}

/* The record fast path: filtered in the same pass, every value type, and
 * exactly the plain text when nothing matches or scrubbing is off. */
static void record_fields(void **state)
{
    (void)state;
    plume_field_t f[] = {
        plume_str("user", "ann"),      plume_str("Password", "hunter2"),
        plume_i64("api_key_id", -1),   plume_u64("n", 7),
        plume_f64("session_token", 1.5), plume_bool("cookie_ok", 1),
        plume_str("secret", NULL),     plume_str("_private_token", "x"),
    };
    size_t nf = sizeof(f) / sizeof(f[0]);
    size_t n;
    uint8_t *rec = plume_test_record(1, PLUME_LEVEL_INFO, "m", f, nf, NULL, &n);
    plume_record_view_t v;
    assert_true(plume_record_read(rec, n, &v));

    plume_options_t *o = plume_options_new();
    plume_scrub_t s;
    assert_true(plume_scrub_init(&s, o));
    plume_buf_t out;
    plume_buf_init(&out, 0);
    unsigned hints = 0;
    assert_true(plume_record_json_members_scrub(&out, v.fields, v.fields_len, &hints, &s));
    plume_buf_append_byte(&out, 0);
    assert_string_equal((char *)out.data,
                        ",\"user\":\"ann\",\"Password\":\"[Filtered]\",\"api_key_id\":\"[Filtered]\","
                        "\"n\":7,\"session_token\":\"[Filtered]\",\"cookie_ok\":\"[Filtered]\","
                        "\"secret\":\"[Filtered]\",\"user_private_token\":\"[Filtered]\"");

    /* off: the plain writer's text */
    plume_buf_t plain;
    plume_buf_init(&plain, 0);
    assert_true(plume_record_json_members(&plain, v.fields, v.fields_len, &hints));
    plume_scrub_t off;
    assert_true(plume_scrub_init_names(&off, NULL, 0));
    plume_buf_reset(&out);
    assert_true(plume_record_json_members_scrub(&out, v.fields, v.fields_len, &hints, &off));
    assert_int_equal(out.len, plain.len);
    assert_memory_equal(out.data, plain.data, plain.len);
    plume_buf_reset(&out);
    assert_true(plume_record_json_members_scrub(&out, v.fields, v.fields_len, &hints, NULL));
    assert_memory_equal(out.data, plain.data, plain.len);

    /* a record cut inside a filtered value is refused */
    plume_buf_reset(&out);
    assert_false(plume_record_json_members_scrub(&out, v.fields, 20, &hints, &s));

    plume_buf_free(&out);
    plume_buf_free(&plain);
    plume_scrub_free(&s);
    plume_scrub_free(&off);
    plume_options_free(o);
    free(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matcher),         cmocka_unit_test(matcher_agrees_with_search),
        cmocka_unit_test(defaults_from_options),
        cmocka_unit_test(json_at_depth),   cmocka_unit_test(off_is_identity),
        cmocka_unit_test(members_and_copy), cmocka_unit_test(record_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
