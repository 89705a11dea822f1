/* SPDX-License-Identifier: MIT */
/* The outbox: order, restart, in-flight marks, corruption handling, the size
 * bound, dead-lettering and error messages, all against real temp directories. */
#include "test_support.h"
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outbox.h"

#define HDR 40 /* header length of format version 1 */

typedef struct fixture {
    char *root; /* the data_dir */
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f || !(f->root = plume_test_mkdtemp()))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    plume_test_rm_rf(f->root);
    free(f->root);
    free(f);
    return 0;
}

static plume_outbox_t *open_ok(const fixture_t *f, uint64_t max_bytes)
{
    char err[512] = "";
    plume_outbox_t *ob = plume_outbox_open(f->root, "axiom", max_bytes, false, err, sizeof(err));
    if (!ob)
        fail_msg("open failed: %s", err);
    return ob;
}

static plume_outbox_id_t put_ok(plume_outbox_t *ob, const char *body, uint32_t events)
{
    plume_batch_meta_t m = {.created_ns = 1000 + events, .event_count = events, .codec = 2,
                            .kind = 7};
    plume_outbox_id_t id = 0;
    uint32_t db = 99;
    uint64_t de = 99;
    assert_int_equal(plume_outbox_put(ob, &m, body, strlen(body), &id, &db, &de), 0);
    assert_int_equal(db, 0);
    assert_int_equal(de, 0);
    return id;
}

/* Path of a batch file under <root>/<top>/axiom/. Static buffer. */
static const char *batch_path(const fixture_t *f, const char *top, plume_outbox_id_t id)
{
    static char p[4096];
    snprintf(p, sizeof(p), "%s/%s/axiom/%020" PRIu64 ".batch", f->root, top, id);
    return p;
}

static bool exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static void expect_body(plume_outbox_t *ob, plume_outbox_id_t id, const char *want,
                        uint32_t events)
{
    plume_buf_t b;
    plume_buf_init(&b, 0);
    plume_batch_meta_t m;
    char err[512] = "";
    int rc = plume_outbox_load(ob, id, &m, &b, err, sizeof(err));
    if (rc != 0)
        fail_msg("load %" PRIu64 ": %d %s", id, rc, err);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    assert_int_equal(m.event_count, events);
    assert_true(m.created_ns == 1000 + events);
    assert_int_equal(m.codec, 2);
    assert_int_equal(m.kind, 7);
    plume_buf_free(&b);
}

static void put_next_load_remove_in_order(void **state)
{
    fixture_t *f = *state;
    plume_outbox_t *ob = open_ok(f, 0);
    plume_outbox_id_t a = put_ok(ob, "first", 1);
    plume_outbox_id_t b = put_ok(ob, "second!", 2);
    plume_outbox_id_t c = put_ok(ob, "", 3); /* empty body is a valid batch */
    assert_true(a < b && b < c);
    assert_int_equal(plume_outbox_pending_count(ob), 3);
    assert_true(plume_outbox_pending_events(ob) == 6);
    assert_true(plume_outbox_pending_bytes(ob) == 3 * HDR + 5 + 7);
    assert_true(exists(batch_path(f, "outbox", a)));

    plume_outbox_id_t got;
    assert_true(plume_outbox_next(ob, &got));
    assert_true(got == a);
    expect_body(ob, a, "first", 1);
    assert_int_equal(plume_outbox_remove(ob, a), 0);
    assert_false(exists(batch_path(f, "outbox", a)));
    assert_true(plume_outbox_next(ob, &got));
    assert_true(got == b);
    expect_body(ob, b, "second!", 2);
    assert_int_equal(plume_outbox_remove(ob, b), 0);
    assert_true(plume_outbox_next(ob, &got));
    assert_true(got == c);
    expect_body(ob, c, "", 3);
    assert_int_equal(plume_outbox_remove(ob, c), 0);
    assert_false(plume_outbox_next(ob, &got));
    assert_int_equal(plume_outbox_pending_count(ob), 0);
    assert_true(plume_outbox_pending_bytes(ob) == 0);
    assert_true(plume_outbox_pending_events(ob) == 0);

    /* Unknown ids are reported, not crashed on. */
    plume_buf_t buf;
    plume_buf_init(&buf, 0);
    assert_int_equal(plume_outbox_remove(ob, a), -ENOENT);
    assert_int_equal(plume_outbox_load(ob, a, NULL, &buf, NULL, 0), -ENOENT);
    assert_int_equal(plume_outbox_fail(ob, a, "x", NULL, 0), -ENOENT);
    plume_outbox_release(ob, a);
    plume_buf_free(&buf);
    plume_outbox_close(ob);
}

static void reopen_resumes_oldest_first(void **state)
{
    fixture_t *f = *state;
    plume_outbox_t *ob = open_ok(f, 0);
    plume_outbox_id_t ids[3];
    ids[0] = put_ok(ob, "one", 1);
    ids[1] = put_ok(ob, "two", 2);
    ids[2] = put_ok(ob, "three", 3);
    plume_outbox_id_t inflight;
    assert_true(plume_outbox_next(ob, &inflight)); /* in flight when we "crash" */
    plume_outbox_close(ob);

    ob = open_ok(f, 0);
    assert_int_equal(plume_outbox_pending_count(ob), 3);
    assert_true(plume_outbox_pending_events(ob) == 6);
    assert_true(plume_outbox_pending_bytes(ob) == 3 * HDR + 3 + 3 + 5);
    plume_outbox_id_t fresh = put_ok(ob, "four", 4);
    assert_true(fresh > ids[2]);
    const char *bodies[] = {"one", "two", "three"};
    for (int i = 0; i < 3; i++) {
        plume_outbox_id_t got;
        assert_true(plume_outbox_next(ob, &got));
        assert_true(got == ids[i]);
        expect_body(ob, got, bodies[i], (uint32_t)i + 1);
        assert_int_equal(plume_outbox_remove(ob, got), 0);
    }
    plume_outbox_id_t got;
    assert_true(plume_outbox_next(ob, &got));
    assert_true(got == fresh);
    assert_int_equal(plume_outbox_remove(ob, got), 0);
    plume_outbox_close(ob);

    /* Even with an empty outbox, ids keep increasing across a restart. */
    ob = open_ok(f, 0);
    assert_int_equal(plume_outbox_pending_count(ob), 0);
    plume_outbox_id_t five = put_ok(ob, "five", 5);
    assert_true(five > fresh);
    plume_outbox_close(ob);

    /* A pending id far above the clock: new ids continue after it. */
    const plume_outbox_id_t far = UINT64_C(10000000000000000000);
    char from[4096];
    snprintf(from, sizeof(from), "%s", batch_path(f, "outbox", five));
    assert_int_equal(rename(from, batch_path(f, "outbox", far)), 0);
    ob = open_ok(f, 0);
    assert_true(put_ok(ob, "six", 6) == far + 1);
    plume_outbox_id_t got2;
    assert_true(plume_outbox_next(ob, &got2));
    assert_true(got2 == far);
    expect_body(ob, far, "five", 5);
    plume_outbox_close(ob);
}

static void inflight_not_handed_twice(void **state)
{
    fixture_t *f = *state;
    plume_outbox_t *ob = open_ok(f, 0);
    plume_outbox_id_t a = put_ok(ob, "a", 1), b = put_ok(ob, "b", 1), c = put_ok(ob, "c", 1);
    plume_outbox_id_t x, y, z;
    assert_true(plume_outbox_next(ob, &x));
    assert_true(plume_outbox_next(ob, &y));
    assert_true(x == a && y == b);
    plume_outbox_release(ob, a); /* a goes back to its place: before c */
    assert_true(plume_outbox_next(ob, &z));
    assert_true(z == a);
    assert_true(plume_outbox_next(ob, &z));
    assert_true(z == c);
    assert_false(plume_outbox_next(ob, &z));
    assert_int_equal(plume_outbox_pending_count(ob), 3); /* in flight still counts */
    /* Releasing twice or releasing a pending batch changes nothing. */
    plume_outbox_release(ob, c);
    plume_outbox_release(ob, c);
    assert_true(plume_outbox_next(ob, &z));
    assert_true(z == c);
    assert_false(plume_outbox_next(ob, &z));
    plume_outbox_release(ob, b);
    plume_outbox_release(ob, a);
    assert_true(plume_outbox_next(ob, &z));
    assert_true(z == a);
    assert_true(plume_outbox_next(ob, &z));
    assert_true(z == b);
    assert_false(plume_outbox_next(ob, &z));
    plume_outbox_close(ob);
}

/* Overwrites one byte of a file at `off`. */
static void poke(const char *path, off_t off, uint8_t xor_mask)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t c;
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= xor_mask;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

/* Loads `bad`, expecting it to be found corrupt and moved to corrupt/. */
static void expect_corrupt(const fixture_t *f, plume_outbox_t *ob, plume_outbox_id_t bad,
                           const char *reason_part)
{
    plume_buf_t b;
    plume_buf_init(&b, 0);
    char err[1024] = "";
    size_t before = plume_outbox_pending_count(ob);
    assert_int_equal(plume_outbox_load(ob, bad, NULL, &b, err, sizeof(err)), -EBADMSG);
    assert_int_equal(b.len, 0);
    if (!strstr(err, reason_part) || !strstr(err, "corrupt"))
        fail_msg("unexpected message: %s", err);
    char name[64];
    snprintf(name, sizeof(name), "%020" PRIu64 ".batch", bad);
    assert_non_null(strstr(err, name));
    assert_false(exists(batch_path(f, "outbox", bad)));
    assert_true(exists(batch_path(f, "corrupt", bad)));
    assert_int_equal(plume_outbox_pending_count(ob), before - 1);
    assert_int_equal(plume_outbox_remove(ob, bad), -ENOENT);
    plume_buf_free(&b);
}

static void corrupt_body_moved_aside(void **state)
{
    fixture_t *f = *state;
    plume_outbox_t *ob = open_ok(f, 0);
    plume_outbox_id_t a = put_ok(ob, "hello body", 1);
    plume_outbox_id_t b = put_ok(ob, "good", 2);
    poke(batch_path(f, "outbox", a), HDR + 3, 0x01);
    plume_outbox_id_t got;
    assert_true(plume_outbox_next(ob, &got));
    assert_true(got == a);
    expect_corrupt(f, ob, a, "body checksum");
    assert_true(plume_outbox_pending_events(ob) == 2);
    assert_true(plume_outbox_next(ob, &got));
    assert_true(got == b);
    expect_body(ob, b, "good", 2);
    plume_outbox_close(ob);
}

static void corrupt_header_moved_aside(void **state)
{
    fixture_t *f = *state;
    plume_outbox_t *ob = open_ok(f, 0);
    plume_outbox_id_t a = put_ok(ob, "payload", 1);
    plume_outbox_id_t b = put_ok(ob, "payload", 2);
    plume_outbox_id_t c = put_ok(ob, "payload", 3);
    poke(batch_path(f, "outbox", a), 24, 0x80); /* event_count: header CRC catches it */
    poke(batch_path(f, "outbox", b), 0, 0x20);  /* magic */
    plume_outbox_close(ob);

    /* Files with a bad header are still indexed at open, found out at load. */
    ob = open_ok(f, 0);
    assert_int_equal(plume_outbox_pending_count(ob), 3);
    assert_true(plume_outbox_pending_events(ob) == 3); /* unreadable headers count 0 */
    plume_outbox_id_t got;
    assert_true(plume_outbox_next(ob, &got));
    assert_true(got == a);
    expect_corrupt(f, ob, a, "header checksum");
    assert_true(plume_outbox_next(ob, &got));
    assert_true(got == b);
    expect_corrupt(f, ob, b, "magic");
    assert_true(plume_outbox_next(ob, &got));
    assert_true(got == c);
    expect_body(ob, c, "payload", 3);
    plume_outbox_close(ob);
}

static void truncated_files_moved_aside(void **state)
{
    fixture_t *f = *state;
    plume_outbox_t *ob = open_ok(f, 0);
    plume_outbox_id_t a = put_ok(ob, "0123456789abcdef", 1);
    plume_outbox_id_t b = put_ok(ob, "0123456789abcdef", 2);
    plume_outbox_id_t c = put_ok(ob, "0123456789abcdef", 3);
    plume_outbox_id_t d = put_ok(ob, "0123456789abcdef", 4);
    assert_int_equal(truncate(batch_path(f, "outbox", a), HDR + 5), 0);  /* torn body */
    assert_int_equal(truncate(batch_path(f, "outbox", b), 12), 0);       /* torn header */
    assert_int_equal(truncate(batch_path(f, "outbox", c), 0), 0);        /* empty */
    plume_outbox_id_t got;
    assert_true(plume_outbox_next(ob, &got));
    expect_corrupt(f, ob, a, "truncated");
    assert_true(plume_outbox_next(ob, &got));
    expect_corrupt(f, ob, b, "truncated");
    assert_true(plume_outbox_next(ob, &got));
    expect_corrupt(f, ob, c, "empty");
    assert_true(plume_outbox_next(ob, &got));
    assert_true(got == d);
    expect_body(ob, d, "0123456789abcdef", 4);
    /* Trailing garbage is as bad as a missing tail. */
    plume_outbox_release(ob, d);
    FILE *fp = fopen(batch_path(f, "outbox", d), "ab");
    assert_non_null(fp);
    fputs("junk", fp);
    fclose(fp);
    expect_corrupt(f, ob, d, "body bytes");
    assert_false(plume_outbox_next(ob, &got));
    plume_outbox_close(ob);
}

static void corrupt_name_clash_gets_suffix(void **state)
{
    fixture_t *f = *state;
    plume_outbox_t *ob = open_ok(f, 0);
    plume_outbox_id_t a = put_ok(ob, "x", 1);
    /* A file of the same name is already in corrupt/ (e.g. from an older run). */
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/corrupt", f->root);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(dir, sizeof(dir), "%s/corrupt/axiom", f->root);
    assert_int_equal(mkdir(dir, 0700), 0);
    FILE *fp = fopen(batch_path(f, "corrupt", a), "w");
    assert_non_null(fp);
    fputs("older", fp);
    fclose(fp);
    assert_int_equal(truncate(batch_path(f, "outbox", a), 3), 0);
    plume_buf_t b;
    plume_buf_init(&b, 0);
    char err[1024];
    assert_int_equal(plume_outbox_load(ob, a, NULL, &b, err, sizeof(err)), -EBADMSG);
    char p[4200];
    snprintf(p, sizeof(p), "%s.1", batch_path(f, "corrupt", a));
    assert_true(exists(p));
    size_t n;
    char *old = plume_test_read_file(batch_path(f, "corrupt", a), &n);
    assert_non_null(old);
    assert_string_equal(old, "older"); /* not replaced */
    free(old);
    assert_non_null(strstr(err, ".batch.1"));
    plume_buf_free(&b);
    plume_outbox_close(ob);
}

static void leftover_temp_removed_foreign_ignored(void **state)
{
    fixture_t *f = *state;
    plume_outbox_t *ob = open_ok(f, 0);
    plume_outbox_id_t a = put_ok(ob, "kept", 1);
    plume_outbox_close(ob);
    char tmp[4096], foreign[4096], sub[4096], odd[4096];
    snprintf(tmp, sizeof(tmp), "%s/outbox/axiom/.tmp-%020" PRIu64, f->root, a + 1);
    snprintf(foreign, sizeof(foreign), "%s/outbox/axiom/notes.txt", f->root);
    snprintf(sub, sizeof(sub), "%s/outbox/axiom/00000000000000000009.batch", f->root);
    snprintf(odd, sizeof(odd), "%s/outbox/axiom/99999999999999999999.batch", f->root);
    FILE *fp = fopen(tmp, "w");
    assert_non_null(fp);
    fputs("PLOB half written", fp);
    fclose(fp);
    fp = fopen(foreign, "w");
    assert_non_null(fp);
    fclose(fp);
    fp = fopen(odd, "w"); /* id past UINT64_MAX: not ours */
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(mkdir(sub, 0700), 0); /* a directory with a batch name */

    ob = open_ok(f, 0);
    assert_false(exists(tmp));
    assert_true(exists(foreign));
    assert_true(exists(sub));
    assert_int_equal(plume_outbox_ignored_count(ob), 3);
    assert_int_equal(plume_outbox_pending_count(ob), 1);
    plume_outbox_id_t got;
    assert_true(plume_outbox_next(ob, &got));
    assert_true(got == a);
    expect_body(ob, a, "kept", 1);
    assert_false(plume_outbox_next(ob, &got));
    plume_outbox_close(ob);
}

static void max_bytes_drops_oldest_not_in_flight(void **state)
{
    fixture_t *f = *state;
    const char *body = "0123456789"; /* each file: HDR + 10 bytes */
    const uint64_t fsz = HDR + 10;
    plume_outbox_t *ob = open_ok(f, 3 * fsz);
    plume_outbox_id_t a = put_ok(ob, body, 1);
    plume_outbox_id_t b = put_ok(ob, body, 2);
    plume_outbox_id_t c = put_ok(ob, body, 3);
    plume_outbox_id_t got;
    assert_true(plume_outbox_next(ob, &got)); /* a in flight: must survive */
    assert_true(got == a);

    plume_batch_meta_t m = {.created_ns = 1, .event_count = 4};
    plume_outbox_id_t d = 0;
    uint32_t db = 0;
    uint64_t de = 0;
    assert_int_equal(plume_outbox_put(ob, &m, body, 10, &d, &db, &de), 0);
    assert_int_equal(db, 1);
    assert_true(de == 2); /* b had 2 events */
    assert_false(exists(batch_path(f, "outbox", b)));
    assert_true(exists(batch_path(f, "outbox", a)));
    assert_int_equal(plume_outbox_pending_count(ob), 3);
    assert_true(plume_outbox_pending_bytes(ob) == 3 * fsz);
    assert_true(plume_outbox_pending_events(ob) == 1 + 3 + 4);
    expect_body(ob, a, body, 1);

    /* Twice the size needs two victims: c and d (a is still in flight). */
    char big[2 * 10 + HDR + 1];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(plume_outbox_put(ob, &m, big, strlen(big), NULL, &db, &de), 0);
    assert_int_equal(db, 2);
    assert_true(de == 3 + 4);
    assert_false(exists(batch_path(f, "outbox", c)));
    assert_false(exists(batch_path(f, "outbox", d)));
    assert_true(plume_outbox_pending_bytes(ob) <= 3 * fsz);

    /* Everything in flight: nothing can be dropped, nothing is. */
    plume_outbox_id_t e;
    assert_true(plume_outbox_next(ob, &e));
    assert_false(plume_outbox_next(ob, &got));
    assert_int_equal(plume_outbox_put(ob, &m, body, 10, NULL, &db, &de), -ENOBUFS);
    assert_int_equal(db, 0);
    assert_int_equal(plume_outbox_pending_count(ob), 2);

    /* A batch larger than the whole bound can never fit. */
    char huge[4 * fsz];
    memset(huge, 'h', sizeof(huge));
    assert_int_equal(plume_outbox_put(ob, &m, huge, sizeof(huge), NULL, &db, &de), -EFBIG);
    assert_int_equal(plume_outbox_pending_count(ob), 2);
    plume_outbox_close(ob);
}

static void fail_moves_to_failed_with_reason(void **state)
{
    fixture_t *f = *state;
    plume_outbox_t *ob = open_ok(f, 0);
    plume_outbox_id_t a = put_ok(ob, "refused batch", 5);
    plume_outbox_id_t b = put_ok(ob, "huge response", 6);
    size_t orig_len;
    char *orig = plume_test_read_file(batch_path(f, "outbox", a), &orig_len);
    assert_non_null(orig);
    plume_outbox_id_t got;
    assert_true(plume_outbox_next(ob, &got));
    const char resp[] = "{\"message\":\"invalid field\"}";
    assert_int_equal(plume_outbox_fail(ob, a, "HTTP 400 Bad Request", resp, strlen(resp)), 0);
    assert_false(exists(batch_path(f, "outbox", a)));
    size_t n;
    char *moved = plume_test_read_file(batch_path(f, "failed", a), &n);
    assert_non_null(moved);
    assert_int_equal(n, orig_len);
    assert_memory_equal(moved, orig, n);
    char rp[4200];
    snprintf(rp, sizeof(rp), "%s.reason", batch_path(f, "failed", a));
    char *reason = plume_test_read_file(rp, &n);
    assert_non_null(reason);
    assert_non_null(strstr(reason, "HTTP 400 Bad Request"));
    assert_non_null(strstr(reason, resp));
    free(reason);
    free(moved);
    free(orig);
    assert_int_equal(plume_outbox_pending_count(ob), 1);
    assert_true(plume_outbox_pending_events(ob) == 6);

    /* The stored response is bounded. */
    size_t big = PLUME_OUTBOX_MAX_RESPONSE + 5000;
    char *resp2 = malloc(big);
    assert_non_null(resp2);
    memset(resp2, 'r', big);
    assert_int_equal(plume_outbox_fail(ob, b, NULL, resp2, big), 0);
    snprintf(rp, sizeof(rp), "%s.reason", batch_path(f, "failed", b));
    reason = plume_test_read_file(rp, &n);
    assert_non_null(reason);
    assert_true(n < PLUME_OUTBOX_MAX_RESPONSE + 256);
    assert_true(n > PLUME_OUTBOX_MAX_RESPONSE);
    assert_non_null(strstr(reason, "truncated"));
    free(reason);
    free(resp2);
    assert_int_equal(plume_outbox_pending_count(ob), 0);
    assert_false(plume_outbox_next(ob, &got));
    plume_outbox_close(ob);
}

static void fail_that_cannot_move_keeps_batch(void **state)
{
    fixture_t *f = *state;
    char blocker[4096];
    snprintf(blocker, sizeof(blocker), "%s/failed", f->root);
    FILE *fp = fopen(blocker, "w"); /* failed/ cannot be created */
    assert_non_null(fp);
    fclose(fp);
    plume_outbox_t *ob = open_ok(f, 0);
    plume_outbox_id_t a = put_ok(ob, "nowhere to go", 1);
    plume_outbox_id_t got;
    assert_true(plume_outbox_next(ob, &got));
    assert_int_equal(plume_outbox_fail(ob, a, "HTTP 422", "r", 1), -ENOTDIR);
    assert_true(exists(batch_path(f, "outbox", a)));
    assert_int_equal(plume_outbox_pending_count(ob), 1);
    assert_false(plume_outbox_next(ob, &got)); /* still in flight, as before */
    assert_int_equal(plume_outbox_remove(ob, a), 0);
    assert_false(exists(batch_path(f, "outbox", a)));
    assert_int_equal(plume_outbox_pending_count(ob), 0);
    plume_outbox_close(ob);
}

static void unusable_data_dir_clear_error(void **state)
{
    fixture_t *f = *state;
    char file[4096], err[1024] = "";
    snprintf(file, sizeof(file), "%s/plain-file", f->root);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_null(plume_outbox_open(file, "axiom", 0, false, err, sizeof(err)));
    if (!strstr(err, file) || !strstr(err, strerror(ENOTDIR)))
        fail_msg("unclear message: %s", err);

    /* A directory we may not write into. Root may write anywhere, so as root the
     * attempt runs in a child that has dropped to nobody. */
    char locked[4096];
    snprintf(locked, sizeof(locked), "%s/locked", f->root);
    assert_int_equal(mkdir(locked, 0555), 0);
    assert_int_equal(chmod(locked, 0555), 0);
    assert_int_equal(chmod(f->root, 0755), 0);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(2);
        char cerr[1024] = "";
        plume_outbox_t *ob = plume_outbox_open(locked, "axiom", 0, false, cerr, sizeof(cerr));
        if (write(pfd[1], cerr, strlen(cerr)) < 0)
            _exit(3);
        _exit(ob ? 1 : 0);
    }
    close(pfd[1]);
    char cerr[1024] = "";
    ssize_t got = read(pfd[0], cerr, sizeof(cerr) - 1);
    close(pfd[0]);
    cerr[got > 0 ? got : 0] = '\0';
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 2) { /* 2: could not drop root; nothing to check */
        assert_int_equal(WEXITSTATUS(status), 0);
        if (!strstr(cerr, locked) || !strstr(cerr, strerror(EACCES)))
            fail_msg("unclear message: %s", cerr);
    }
    chmod(locked, 0700);

    /* Sink names cannot escape the tree. */
    const char *bad[] = {"", "..", ".", "a/b", "../x", "with space"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_null(plume_outbox_open(f->root, bad[i], 0, false, err, sizeof(err)));
        assert_non_null(strstr(err, "sink"));
    }
    assert_null(plume_outbox_open(NULL, "axiom", 0, false, NULL, 0));
}

static void second_open_refused_while_locked(void **state)
{
    fixture_t *f = *state;
    plume_outbox_t *ob = open_ok(f, 0);
    char err[1024] = "";
    assert_null(plume_outbox_open(f->root, "axiom", 0, false, err, sizeof(err)));
    assert_non_null(strstr(err, "in use"));
    /* Another sink is another directory and lock. */
    plume_outbox_t *other = plume_outbox_open(f->root, "sentry", 0, false, err, sizeof(err));
    assert_non_null(other);
    plume_outbox_close(other);
    plume_outbox_close(ob);
    ob = open_ok(f, 0);
    plume_outbox_close(ob);
}

static void load_respects_body_max(void **state)
{
    fixture_t *f = *state;
    plume_outbox_t *ob = open_ok(f, 0);
    plume_outbox_id_t a = put_ok(ob, "a body longer than eight", 1);
    plume_buf_t b;
    plume_buf_init(&b, 8);
    char err[512];
    assert_int_equal(plume_outbox_load(ob, a, NULL, &b, err, sizeof(err)), -EMSGSIZE);
    assert_int_equal(plume_outbox_pending_count(ob), 1); /* not corrupt: kept */
    assert_true(exists(batch_path(f, "outbox", a)));
    plume_buf_free(&b);
    plume_outbox_close(ob);
}

static void fsync_mode_round_trip(void **state)
{
    fixture_t *f = *state;
    char err[512];
    plume_outbox_t *ob = plume_outbox_open(f->root, "axiom", 0, true, err, sizeof(err));
    assert_non_null(ob);
    plume_outbox_id_t a = put_ok(ob, "durable", 1);
    plume_outbox_close(ob);
    ob = plume_outbox_open(f->root, "axiom", 0, true, err, sizeof(err));
    assert_non_null(ob);
    plume_outbox_id_t got;
    assert_true(plume_outbox_next(ob, &got));
    assert_true(got == a);
    expect_body(ob, a, "durable", 1);
    plume_outbox_close(ob);
}

/* Thousands of batches, removed out of order and in order, released and taken
 * again: the index keeps age order throughout. */
static void many_batches_keep_order(void **state)
{
    fixture_t *f = *state;
    enum { N = 2000 };
    plume_outbox_t *ob = open_ok(f, 0);
    plume_outbox_id_t *ids = malloc(N * sizeof(*ids));
    assert_non_null(ids);
    char body[32];
    for (int i = 0; i < N; i++) {
        snprintf(body, sizeof(body), "b%d", i);
        ids[i] = put_ok(ob, body, 1);
    }
    /* Take the first 100 in flight, deliver the even ones, release the odd ones. */
    for (int i = 0; i < 100; i++) {
        plume_outbox_id_t got;
        assert_true(plume_outbox_next(ob, &got));
        assert_true(got == ids[i]);
    }
    for (int i = 0; i < 100; i++) {
        if (i % 2 == 0)
            assert_int_equal(plume_outbox_remove(ob, ids[i]), 0);
        else
            plume_outbox_release(ob, ids[i]);
    }
    plume_outbox_close(ob);
    ob = open_ok(f, 0);
    assert_int_equal(plume_outbox_pending_count(ob), N - 50);
    for (int i = 0; i < N; i++) {
        if (i < 100 && i % 2 == 0)
            continue;
        plume_outbox_id_t got;
        assert_true(plume_outbox_next(ob, &got));
        assert_true(got == ids[i]);
        if (i % 500 == 1) {
            snprintf(body, sizeof(body), "b%d", i);
            expect_body(ob, got, body, 1);
        }
        assert_int_equal(plume_outbox_remove(ob, got), 0);
    }
    plume_outbox_id_t got;
    assert_false(plume_outbox_next(ob, &got));
    assert_int_equal(plume_outbox_pending_count(ob), 0);
    free(ids);
    plume_outbox_close(ob);
}

typedef struct putter {
    plume_outbox_t *ob;
    plume_outbox_id_t ids[100];
    int failures;
} putter_t;

static void *put_many(void *arg)
{
    putter_t *p = arg;
    plume_batch_meta_t m = {.event_count = 1};
    for (int i = 0; i < 100; i++)
        if (plume_outbox_put(p->ob, &m, "concurrent", 10, &p->ids[i], NULL, NULL) != 0)
            p->failures++;
    return NULL;
}

static int id_cmp(const void *a, const void *b)
{
    plume_outbox_id_t x = *(const plume_outbox_id_t *)a, y = *(const plume_outbox_id_t *)b;
    return x < y ? -1 : x > y;
}

/* Puts from several threads while another takes and removes: nothing is lost,
 * handed out twice or out of order. */
static void concurrent_puts_and_takes(void **state)
{
    fixture_t *f = *state;
    plume_outbox_t *ob = open_ok(f, 0);
    enum { T = 4 };
    putter_t p[T];
    pthread_t th[T];
    for (int t = 0; t < T; t++) {
        p[t] = (putter_t){.ob = ob};
        assert_int_equal(pthread_create(&th[t], NULL, put_many, &p[t]), 0);
    }
    plume_outbox_id_t taken[T * 100];
    size_t ntaken = 0;
    bool joined[T] = {false};
    int njoined = 0;
    while (ntaken < T * 100) {
        plume_outbox_id_t id;
        if (plume_outbox_next(ob, &id)) {
            taken[ntaken++] = id;
            assert_int_equal(plume_outbox_remove(ob, id), 0);
            continue;
        }
        if (njoined == T)
            break; /* every put has returned and nothing is left */
        for (int t = 0; t < T; t++)
            if (!joined[t] && pthread_tryjoin_np(th[t], NULL) == 0) {
                joined[t] = true;
                njoined++;
            }
    }
    for (int t = 0; t < T; t++)
        if (!joined[t])
            pthread_join(th[t], NULL);
    assert_int_equal(ntaken, T * 100);
    plume_outbox_id_t all[T * 100];
    for (int t = 0; t < T; t++) {
        assert_int_equal(p[t].failures, 0);
        memcpy(&all[t * 100], p[t].ids, sizeof(p[t].ids));
    }
    qsort(all, T * 100, sizeof(all[0]), id_cmp);
    qsort(taken, T * 100, sizeof(taken[0]), id_cmp);
    for (size_t i = 0; i < T * 100; i++) {
        assert_true(all[i] == taken[i]);
        if (i)
            assert_true(all[i] > all[i - 1]);
    }
    assert_int_equal(plume_outbox_pending_count(ob), 0);
    plume_outbox_close(ob);
}

static void bad_arguments_rejected(void **state)
{
    fixture_t *f = *state;
    plume_outbox_t *ob = open_ok(f, 0);
    plume_batch_meta_t m = {0};
    assert_int_equal(plume_outbox_put(ob, NULL, "x", 1, NULL, NULL, NULL), -EINVAL);
    assert_int_equal(plume_outbox_put(ob, &m, NULL, 1, NULL, NULL, NULL), -EINVAL);
    assert_int_equal(plume_outbox_put(NULL, &m, "x", 1, NULL, NULL, NULL), -EINVAL);
    assert_int_equal(plume_outbox_put(ob, &m, "x", (size_t)PLUME_OUTBOX_MAX_BODY + 1, NULL,
                                      NULL, NULL),
                     -EFBIG);
    assert_int_equal(plume_outbox_pending_count(ob), 0);
    assert_false(plume_outbox_next(NULL, NULL));
    assert_int_equal(plume_outbox_pending_count(NULL), 0);
    plume_outbox_close(NULL);
    plume_outbox_close(ob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(put_next_load_remove_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(reopen_resumes_oldest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(inflight_not_handed_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_body_moved_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_header_moved_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(truncated_files_moved_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_name_clash_gets_suffix, setup, teardown),
        cmocka_unit_test_setup_teardown(leftover_temp_removed_foreign_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(max_bytes_drops_oldest_not_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(fail_moves_to_failed_with_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(fail_that_cannot_move_keeps_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(unusable_data_dir_clear_error, setup, teardown),
        cmocka_unit_test_setup_teardown(second_open_refused_while_locked, setup, teardown),
        cmocka_unit_test_setup_teardown(load_respects_body_max, setup, teardown),
        cmocka_unit_test_setup_teardown(fsync_mode_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(many_batches_keep_order, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_puts_and_takes, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_arguments_rejected, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
