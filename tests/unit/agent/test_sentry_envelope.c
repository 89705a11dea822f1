/* SPDX-License-Identifier: MIT */
/* Sentry envelope builder: every envelope built here is read back by a small
 * strict reader (header line, then per item a header line with a `length`,
 * exactly that many payload bytes and a "\n"), including payloads holding
 * newlines, NUL and non-UTF-8 bytes; overflow of the buffer's maximum leaves
 * it as it was; the send-time sent_at stamp is checked on built envelopes,
 * on hand-written headers (replacing sent_at, escaped keys, invalid first
 * lines) and on every valid envelope of the Sentry conformance set. */
#include "test_support.h"
#include <cmocka.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_parse.h"
#include "sentry_envelope.h"

#define NOW_NS 1795255200123456789ull
#define NOW_TEXT "2026-11-21T10:00:00.123Z"

/* ---- a tiny strict envelope reader ---- */

typedef struct env_item {
    char type[64];
    char content_type[96];
    char filename[64];
    long long item_count; /* -1 if absent */
    long long length;     /* -1 if absent */
    const uint8_t *payload;
} env_item_t;

typedef struct envelope {
    char event_id[64];
    char dsn[256];
    char sdk[256];     /* raw JSON text of "sdk" */
    char sent_at[64];
    int sent_at_count; /* members named sent_at */
    unsigned members;
    env_item_t items[16];
    int n_items;
} envelope_t;

/* Copies a JSON string value (raw, with quotes) decoded into dst; false if
 * the value is not a string or does not fit. */
static bool get_string(const plume_json_span_t *m, char *dst, size_t cap)
{
    if (m->raw_len < 2 || m->raw[0] != '"' || m->raw_len - 2 >= cap)
        return false;
    size_t n = plume_json_unescape(m->raw + 1, m->raw_len - 2, dst);
    dst[n] = '\0';
    return true;
}

/* A non-negative JSON integer; false for anything else. */
static bool get_uint(const plume_json_span_t *m, long long *v)
{
    if (m->raw_len == 0 || m->raw_len > 18)
        return false;
    long long x = 0;
    for (size_t i = 0; i < m->raw_len; i++) {
        if (m->raw[i] < '0' || m->raw[i] > '9')
            return false;
        x = x * 10 + (m->raw[i] - '0');
    }
    *v = x;
    return true;
}

static bool key_is(const plume_json_span_t *m, const char *k)
{
    return m->key_len == strlen(k) && memcmp(m->key, k, m->key_len) == 0;
}

static bool header_member(void *ctx, const plume_json_span_t *m)
{
    envelope_t *e = ctx;
    e->members++;
    if (key_is(m, "event_id"))
        return get_string(m, e->event_id, sizeof(e->event_id));
    if (key_is(m, "dsn"))
        return get_string(m, e->dsn, sizeof(e->dsn));
    if (key_is(m, "sent_at")) { /* may be null in other producers' envelopes */
        e->sent_at_count++;
        if (m->raw_len > 0 && m->raw[0] == '"')
            return get_string(m, e->sent_at, sizeof(e->sent_at));
    }
    if (key_is(m, "sdk")) {
        if (m->raw_len >= sizeof(e->sdk))
            return false;
        memcpy(e->sdk, m->raw, m->raw_len);
        e->sdk[m->raw_len] = '\0';
    }
    return true;
}

static bool item_member(void *ctx, const plume_json_span_t *m)
{
    env_item_t *it = ctx;
    if (key_is(m, "type"))
        return get_string(m, it->type, sizeof(it->type));
    if (key_is(m, "content_type"))
        return get_string(m, it->content_type, sizeof(it->content_type));
    if (key_is(m, "filename"))
        return get_string(m, it->filename, sizeof(it->filename));
    if (key_is(m, "length"))
        return get_uint(m, &it->length);
    if (key_is(m, "item_count"))
        return get_uint(m, &it->item_count);
    return true;
}

/* Reads p[0..n) strictly; returns 0, or fails the test naming the problem. */
static void read_envelope(const uint8_t *p, size_t n, envelope_t *e)
{
    memset(e, 0, sizeof(*e));
    const uint8_t *nl = memchr(p, '\n', n);
    if (!nl)
        fail_msg("envelope header has no newline");
    plume_json_error_t err;
    if (!plume_json_object_scan((const char *)p, (size_t)(nl - p), NULL, header_member, e, NULL,
                                &err))
        fail_msg("envelope header: %s", err.msg);
    size_t pos = (size_t)(nl - p) + 1;
    while (pos < n) {
        if (e->n_items == 16)
            fail_msg("too many items");
        env_item_t *it = &e->items[e->n_items++];
        it->item_count = it->length = -1;
        nl = memchr(p + pos, '\n', n - pos);
        if (!nl)
            fail_msg("item %d header has no newline", e->n_items);
        if (!plume_json_object_scan((const char *)p + pos, (size_t)(nl - p) - pos, NULL,
                                    item_member, it, NULL, &err))
            fail_msg("item %d header: %s", e->n_items, err.msg);
        if (!it->type[0] || it->length < 0)
            fail_msg("item %d header lacks type or length", e->n_items);
        pos = (size_t)(nl - p) + 1;
        if ((size_t)it->length >= n - pos || p[pos + (size_t)it->length] != '\n')
            fail_msg("item %d payload is not %lld bytes then a newline", e->n_items,
                     it->length);
        it->payload = p + pos;
        pos += (size_t)it->length + 1;
    }
}

/* ---- builder ---- */

static void header_exact(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    assert_int_equal(plume_sentry_envelope_begin(&b, "9ec79c33ec9942ab8353589fcb2e04dc",
                                                 "https://k@o1.ingest.sentry.io/42", "0.1.0"),
                     0);
    const char *want = "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\","
                       "\"sdk\":{\"name\":\"plume.native\",\"version\":\"0.1.0\"},"
                       "\"dsn\":\"https://k@o1.ingest.sentry.io/42\"}\n";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);

    plume_buf_reset(&b);
    assert_int_equal(plume_sentry_envelope_begin(&b, NULL, NULL, "1.2.3"), 0);
    want = "{\"sdk\":{\"name\":\"plume.native\",\"version\":\"1.2.3\"}}\n";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);

    /* upper-case hex is written lowercase; strings are escaped */
    plume_buf_reset(&b);
    assert_int_equal(plume_sentry_envelope_begin(&b, "9EC79C33EC9942AB8353589FCB2E04DC",
                                                 "a\"b\n", "v\\1"),
                     0);
    envelope_t e;
    read_envelope(b.data, b.len, &e);
    assert_string_equal(e.event_id, "9ec79c33ec9942ab8353589fcb2e04dc");
    assert_string_equal(e.dsn, "a\"b\n");
    assert_string_equal(e.sdk, "{\"name\":\"plume.native\",\"version\":\"v\\\\1\"}");
    assert_int_equal(e.n_items, 0);
    plume_buf_free(&b);
}

static void header_rejects_bad_ids(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "9ec79c33ec9942ab8353589fcb2e04d",
                         "9ec79c33ec9942ab8353589fcb2e04dc0",
                         "9ec79c33ec9942ab8353589fcb2e04dg",
                         "9ec79c33-ec99-42ab-8353-589fcb2e04dc",
                         " 9ec79c33ec9942ab8353589fcb2e04d"};
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_buf_append_str(&b, "x");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(plume_sentry_envelope_begin(&b, bad[i], NULL, "1"), -1);
        assert_int_equal(b.len, 1);
    }
    assert_int_equal(plume_sentry_envelope_begin(&b, NULL, NULL, NULL), -1);
    assert_int_equal(b.len, 1);
    assert_false(b.failed);
    plume_buf_free(&b);
}

static void items_round_trip(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    assert_int_equal(plume_sentry_envelope_begin(&b, "0123456789abcdef0123456789abcdef", NULL,
                                                 "0.1.0"),
                     0);
    const char *event = "{\"message\":\"line one\\nline two\",\"level\":\"error\"}";
    const char *logs = "{\"items\":[{\"body\":\"a\"},{\"body\":\"b\"}]}";
    const uint8_t bin[] = {'\n', 0, 0xff, 0xfe, '\n', '\n', '{', '}', '\r', '\n', 0x80};
    /* a payload that looks like more envelope */
    const char *fake = "x\n{\"type\":\"event\",\"length\":1}\ny";
    assert_int_equal(plume_sentry_envelope_item(&b, "event", "application/json", -1, event,
                                                strlen(event)),
                     0);
    assert_int_equal(plume_sentry_envelope_item(&b, "log",
                                                "application/vnd.sentry.items.log+json", 2,
                                                logs, strlen(logs)),
                     0);
    plume_sentry_item_hdr_t h = {.type = "attachment",
                                 .content_type = "application/octet-stream",
                                 .item_count = -1,
                                 .filename = "core\n.bin",
                                 .attachment_type = "event.attachment"};
    assert_int_equal(plume_sentry_envelope_item_ex(&b, &h, bin, sizeof(bin)), 0);
    assert_int_equal(plume_sentry_envelope_item(&b, "attachment", NULL, -1, NULL, 0), 0);
    assert_int_equal(plume_sentry_envelope_item(&b, "client_report", NULL, 0, fake,
                                                strlen(fake)),
                     0);

    envelope_t e;
    read_envelope(b.data, b.len, &e);
    assert_int_equal(e.n_items, 5);
    assert_string_equal(e.items[0].type, "event");
    assert_string_equal(e.items[0].content_type, "application/json");
    assert_int_equal(e.items[0].item_count, -1);
    assert_int_equal(e.items[0].length, strlen(event));
    assert_memory_equal(e.items[0].payload, event, strlen(event));
    assert_string_equal(e.items[1].type, "log");
    assert_string_equal(e.items[1].content_type, "application/vnd.sentry.items.log+json");
    assert_int_equal(e.items[1].item_count, 2);
    assert_memory_equal(e.items[1].payload, logs, strlen(logs));
    assert_string_equal(e.items[2].type, "attachment");
    assert_string_equal(e.items[2].filename, "core\n.bin");
    assert_int_equal(e.items[2].length, sizeof(bin));
    assert_memory_equal(e.items[2].payload, bin, sizeof(bin));
    assert_int_equal(e.items[3].length, 0);
    assert_string_equal(e.items[3].content_type, "");
    assert_string_equal(e.items[4].type, "client_report");
    assert_int_equal(e.items[4].item_count, 0);
    assert_memory_equal(e.items[4].payload, fake, strlen(fake));

    /* the item header text itself, member order included */
    const char *want = "{\"type\":\"log\",\"length\":37,"
                       "\"content_type\":\"application/vnd.sentry.items.log+json\","
                       "\"item_count\":2}\n";
    assert_non_null(memmem(b.data, b.len, want, strlen(want)));
    const char *want_att = "{\"type\":\"attachment\",\"length\":11,"
                           "\"content_type\":\"application/octet-stream\","
                           "\"filename\":\"core\\n.bin\","
                           "\"attachment_type\":\"event.attachment\"}\n";
    assert_non_null(memmem(b.data, b.len, want_att, strlen(want_att)));
    plume_buf_free(&b);
}

static void item_arguments_checked(void **state)
{
    (void)state;
    plume_buf_t b;
    plume_buf_init(&b, 0);
    assert_int_equal(plume_sentry_envelope_item(&b, NULL, NULL, -1, "x", 1), -1);
    assert_int_equal(plume_sentry_envelope_item(&b, "", NULL, -1, "x", 1), -1);
    assert_int_equal(plume_sentry_envelope_item(&b, "event", NULL, -1, NULL, 1), -1);
    assert_int_equal(plume_sentry_envelope_item_ex(&b, NULL, "x", 1), -1);
    assert_int_equal(b.len, 0);
    assert_false(b.failed);
    plume_buf_free(&b);
}

/* Every cut-off maximum: the call fails and the buffer is as before. */
static void overflow_leaves_buffer_unchanged(void **state)
{
    (void)state;
    plume_buf_t full;
    plume_buf_init(&full, 0);
    assert_int_equal(plume_sentry_envelope_begin(&full, NULL, "dsn", "1"), 0);
    size_t header_len = full.len;
    assert_int_equal(plume_sentry_envelope_item(&full, "event", "application/json", 3, "{}\n",
                                                3),
                     0);
    for (size_t max = 1; max < full.len; max++) {
        plume_buf_t b;
        plume_buf_init(&b, max);
        int rc = plume_sentry_envelope_begin(&b, NULL, "dsn", "1");
        if (max < header_len) {
            assert_int_equal(rc, -1);
            assert_int_equal(b.len, 0);
            assert_true(b.failed);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(plume_sentry_envelope_item(&b, "event", "application/json", 3,
                                                        "{}\n", 3),
                             -1);
            assert_int_equal(b.len, header_len);
            assert_true(b.failed);
            envelope_t e;
            read_envelope(b.data, b.len, &e); /* still a valid (empty) envelope */
            assert_int_equal(e.n_items, 0);
        }
        plume_buf_free(&b);
    }
    /* an already failed buffer stays failed after a successful call */
    plume_buf_t b;
    plume_buf_init(&b, 0);
    b.failed = true;
    assert_int_equal(plume_sentry_envelope_begin(&b, NULL, NULL, "1"), 0);
    assert_true(b.failed);
    plume_buf_free(&b);
    plume_buf_free(&full);
}

/* ---- sent_at ---- */

/* Stamps env (a C string) and compares with want (NULL: must fail, out
 * untouched). */
static void stamp_expect(const char *env, size_t len, const char *want)
{
    plume_buf_t out;
    plume_buf_init(&out, 0);
    plume_buf_append_str(&out, "prefix");
    int rc = plume_sentry_envelope_set_sent_at((const uint8_t *)env, len, NOW_NS, &out);
    if (!want) {
        if (rc != -1)
            fail_msg("accepted header %.*s", (int)len, env);
        assert_int_equal(out.len, 6);
        assert_memory_equal(out.data, "prefix", 6);
        assert_false(out.failed);
    } else {
        if (rc != 0)
            fail_msg("rejected %.*s", (int)len, env);
        if (out.len != 6 + strlen(want) || memcmp(out.data + 6, want, strlen(want)) != 0)
            fail_msg("got %.*s want %s", (int)(out.len - 6), (const char *)out.data + 6, want);
    }
    plume_buf_free(&out);
}

#define STAMP(env, want) stamp_expect(env, sizeof(env) - 1, want)

static void sent_at_inserted_and_replaced(void **state)
{
    (void)state;
    STAMP("{\"event_id\":\"x\"}\n{\"type\":\"event\",\"length\":2}\n{}\n",
          "{\"event_id\":\"x\",\"sent_at\":\"" NOW_TEXT "\"}\n{\"type\":\"event\",\"length\":2}\n{}\n");
    STAMP("{}", "{\"sent_at\":\"" NOW_TEXT "\"}");
    STAMP("{}\n", "{\"sent_at\":\"" NOW_TEXT "\"}\n");
    STAMP(" { } \n\n", "{\"sent_at\":\"" NOW_TEXT "\"}\n\n");
    /* every sent_at goes, however spelled; the new one is last */
    STAMP("{\"sent_at\":\"old\", \"event_id\":\"x\" ,\"sent\\u005fat\":null,\"z\":[1,{\"sent_at\":1}]}\nrest",
          "{\"event_id\":\"x\",\"z\":[1,{\"sent_at\":1}],\"sent_at\":\"" NOW_TEXT "\"}\nrest");
    /* other keys keep their meaning; nested values are copied as they are */
    STAMP("{\"a\\\"b\":{\"c\" : [ 1 , 2 ]},\"sdk\":{\"name\":\"plume.native\"}}\n",
          "{\"a\\\"b\":{\"c\" : [ 1 , 2 ]},\"sdk\":{\"name\":\"plume.native\"},\"sent_at\":\"" NOW_TEXT "\"}\n");
    /* bytes after the header line are copied verbatim, binary included */
    const char env[] = "{}\n{\"type\":\"attachment\",\"length\":3}\n\0\xff\n\n";
    const char want[] = "{\"sent_at\":\"" NOW_TEXT "\"}\n{\"type\":\"attachment\",\"length\":3}\n\0\xff\n\n";
    plume_buf_t out;
    plume_buf_init(&out, 0);
    assert_int_equal(plume_sentry_envelope_set_sent_at((const uint8_t *)env, sizeof(env) - 1,
                                                       NOW_NS, &out),
                     0);
    assert_int_equal(out.len, sizeof(want) - 1);
    assert_memory_equal(out.data, want, out.len);
    plume_buf_free(&out);
}

static void sent_at_on_built_envelope(void **state)
{
    (void)state;
    plume_buf_t b, out;
    plume_buf_init(&b, 0);
    plume_buf_init(&out, 0);
    assert_int_equal(plume_sentry_envelope_begin(&b, "0123456789abcdef0123456789abcdef",
                                                 "https://k@h/1", "0.1.0"),
                     0);
    assert_int_equal(plume_sentry_envelope_item(&b, "event", NULL, -1, "{\"a\":\"\n\"}", 9), 0);
    assert_int_equal(plume_sentry_envelope_set_sent_at(b.data, b.len, NOW_NS, &out), 0);
    envelope_t e;
    read_envelope(out.data, out.len, &e);
    assert_string_equal(e.sent_at, NOW_TEXT);
    assert_int_equal(e.sent_at_count, 1);
    assert_int_equal(e.members, 4);
    assert_string_equal(e.event_id, "0123456789abcdef0123456789abcdef");
    assert_string_equal(e.dsn, "https://k@h/1");
    assert_int_equal(e.n_items, 1);
    assert_memory_equal(e.items[0].payload, "{\"a\":\"\n\"}", 9);
    /* stamping again (a resend) replaces the time */
    plume_buf_t again;
    plume_buf_init(&again, 0);
    assert_int_equal(plume_sentry_envelope_set_sent_at(out.data, out.len, 1000000000ull, &again),
                     0);
    read_envelope(again.data, again.len, &e);
    assert_string_equal(e.sent_at, "1970-01-01T00:00:01.000Z");
    assert_int_equal(e.sent_at_count, 1);
    assert_int_equal(again.len, out.len);
    plume_buf_free(&again);
    plume_buf_free(&b);
    plume_buf_free(&out);
}

static void sent_at_rejects_non_objects(void **state)
{
    (void)state;
    STAMP("", NULL);
    STAMP("\n{}\n", NULL);
    STAMP("not json\n{}", NULL);
    STAMP("[1,2]\n", NULL);
    STAMP("\"s\"\n", NULL);
    STAMP("{\"a\":1\n}", NULL);
    STAMP("{\"a\":}\n", NULL);
    STAMP("{\"a\":1}}\n", NULL);
    STAMP("{\"a\":1} x\n", NULL);
    STAMP("{\"a\":1,}\n", NULL);
    STAMP("{a:1}\n", NULL);
    STAMP("{\"a\":\"\xff\"}\n", NULL);
    plume_buf_t out;
    plume_buf_init(&out, 0);
    assert_int_equal(plume_sentry_envelope_set_sent_at(NULL, 3, NOW_NS, &out), -1);
    /* out reaching its maximum: -1, length kept */
    plume_buf_t small;
    plume_buf_init(&small, 20);
    plume_buf_append_str(&small, "ab");
    assert_int_equal(plume_sentry_envelope_set_sent_at((const uint8_t *)"{\"a\":1}\n", 8, NOW_NS,
                                                       &small),
                     -1);
    assert_int_equal(small.len, 2);
    assert_true(small.failed);
    plume_buf_free(&small);
    plume_buf_free(&out);
}

/* The conformance envelopes (from Sentry's docs, Relay and sentry-cli):
 * each is stamped; its header keeps every other member, gains exactly one
 * sent_at, and the rest is byte for byte the same. */
static void sent_at_on_conformance_envelopes(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", plume_test_conformance_path("sentry/envelopes/valid"));
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s", dir);
    int seen = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (nl < 9 || strcmp(de->d_name + nl - 9, ".envelope") != 0)
            continue;
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        size_t len;
        char *env = plume_test_read_file(path, &len);
        assert_non_null(env);
        const char *hend = memchr(env, '\n', len);
        size_t hlen = hend ? (size_t)(hend - env) : len;
        envelope_t before;
        memset(&before, 0, sizeof(before));
        plume_json_error_t err;
        assert_true(plume_json_object_scan(env, hlen, NULL, header_member, &before, NULL, &err));

        plume_buf_t out;
        plume_buf_init(&out, 0);
        if (plume_sentry_envelope_set_sent_at((const uint8_t *)env, len, NOW_NS, &out) != 0)
            fail_msg("%s: rejected", de->d_name);
        const char *oend = memchr(out.data, '\n', out.len);
        size_t olen = oend ? (size_t)((const uint8_t *)oend - out.data) : out.len;
        envelope_t after;
        memset(&after, 0, sizeof(after));
        assert_true(plume_json_object_scan((const char *)out.data, olen, NULL, header_member,
                                           &after, NULL, &err));
        assert_int_equal(after.sent_at_count, 1);
        assert_string_equal(after.sent_at, NOW_TEXT);
        assert_int_equal(after.members, before.members - (unsigned)before.sent_at_count + 1);
        assert_string_equal(after.event_id, before.event_id);
        assert_string_equal(after.dsn, before.dsn);
        assert_string_equal(after.sdk, before.sdk);
        if (out.len - olen != len - hlen || memcmp(out.data + olen, env + hlen, len - hlen) != 0)
            fail_msg("%s: bytes after the header changed", de->d_name);
        plume_buf_free(&out);
        free(env);
        seen++;
    }
    closedir(d);
    assert_true(seen >= 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_exact),
        cmocka_unit_test(header_rejects_bad_ids),
        cmocka_unit_test(items_round_trip),
        cmocka_unit_test(item_arguments_checked),
        cmocka_unit_test(overflow_leaves_buffer_unchanged),
        cmocka_unit_test(sent_at_inserted_and_replaced),
        cmocka_unit_test(sent_at_on_built_envelope),
        cmocka_unit_test(sent_at_rejects_non_objects),
        cmocka_unit_test(sent_at_on_conformance_envelopes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
