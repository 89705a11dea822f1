/* SPDX-License-Identifier: MIT */
/* Sentry envelope builder and the send-time sent_at stamp. See
 * sentry_envelope.h. */
#include "sentry_envelope.h"

#include <stdbool.h>
#include <string.h>

#include "json_parse.h"
#include "json_write.h"
#include "time_format.h"

static void write_cstr(plume_buf_t *b, const char *s)
{
    plume_json_write_str(b, s, strlen(s));
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Undoes a partial write: back to `len` bytes. The failed flag stays set. */
static int roll_back(plume_buf_t *b, size_t len)
{
    b->len = len;
    return -1;
}

int plume_sentry_envelope_begin(plume_buf_t *buf, const char *event_id, const char *dsn,
                                const char *sdk_version)
{
    if (!sdk_version)
        return -1;
    char id[33];
    if (event_id) {
        for (int i = 0; i < 32; i++) {
            if (!is_hex(event_id[i]))
                return -1; /* also stops at a NUL before 32 digits */
            char c = event_id[i];
            id[i] = c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
        }
        if (event_id[32] != '\0')
            return -1;
        id[32] = '\0';
    }
    size_t start = buf->len;
    bool was_failed = buf->failed;
    buf->failed = false;
    plume_buf_append_byte(buf, '{');
    if (event_id) {
        plume_buf_append_str(buf, "\"event_id\":\"");
        plume_buf_append(buf, id, 32);
        plume_buf_append_str(buf, "\",");
    }
    plume_buf_append_str(buf, "\"sdk\":{\"name\":\"" PLUME_SENTRY_SDK_NAME "\",\"version\":");
    write_cstr(buf, sdk_version);
    plume_buf_append_byte(buf, '}');
    if (dsn) {
        plume_buf_append_str(buf, ",\"dsn\":");
        write_cstr(buf, dsn);
    }
    plume_buf_append_str(buf, "}\n");
    bool failed = buf->failed;
    buf->failed = was_failed || failed;
    return failed ? roll_back(buf, start) : 0;
}

int plume_sentry_envelope_item_ex(plume_buf_t *buf, const plume_sentry_item_hdr_t *hdr,
                                  const void *payload, size_t len)
{
    if (!hdr || !hdr->type || !*hdr->type || (len > 0 && !payload))
        return -1;
    size_t start = buf->len;
    bool was_failed = buf->failed;
    buf->failed = false;
    plume_buf_append_str(buf, "{\"type\":");
    write_cstr(buf, hdr->type);
    plume_buf_printf(buf, ",\"length\":%zu", len);
    if (hdr->content_type) {
        plume_buf_append_str(buf, ",\"content_type\":");
        write_cstr(buf, hdr->content_type);
    }
    if (hdr->item_count >= 0)
        plume_buf_printf(buf, ",\"item_count\":%ld", hdr->item_count);
    if (hdr->filename) {
        plume_buf_append_str(buf, ",\"filename\":");
        write_cstr(buf, hdr->filename);
    }
    if (hdr->attachment_type) {
        plume_buf_append_str(buf, ",\"attachment_type\":");
        write_cstr(buf, hdr->attachment_type);
    }
    plume_buf_append_str(buf, "}\n");
    plume_buf_append(buf, payload, len);
    plume_buf_append_byte(buf, '\n');
    bool failed = buf->failed;
    buf->failed = was_failed || failed;
    return failed ? roll_back(buf, start) : 0;
}

int plume_sentry_envelope_item(plume_buf_t *buf, const char *type, const char *content_type,
                               long item_count, const void *payload, size_t len)
{
    plume_sentry_item_hdr_t h = {.type = type,
                                 .content_type = content_type,
                                 .item_count = item_count < 0 ? -1 : item_count};
    return plume_sentry_envelope_item_ex(buf, &h, payload, len);
}

typedef struct copy_ctx {
    plume_buf_t *out;
    unsigned kept;
} copy_ctx_t;

/* Scan callback: copies one header member to the output unless it is
 * sent_at. An escaped key arrives decoded and is written escaped again; an
 * unescaped one is copied as it stands (it was validated). */
static bool copy_member(void *arg, const plume_json_span_t *m)
{
    copy_ctx_t *c = arg;
    if (m->key_len == 7 && memcmp(m->key, "sent_at", 7) == 0)
        return true;
    if (c->kept++)
        plume_buf_append_byte(c->out, ',');
    if (m->key_escaped) {
        plume_json_write_str(c->out, m->key, m->key_len);
    } else {
        plume_buf_append_byte(c->out, '"');
        plume_buf_append(c->out, m->key, m->key_len);
        plume_buf_append_byte(c->out, '"');
    }
    plume_buf_append_byte(c->out, ':');
    plume_buf_append(c->out, m->raw, m->raw_len);
    return true;
}

int plume_sentry_envelope_set_sent_at(const uint8_t *env, size_t len, uint64_t now_ns,
                                      plume_buf_t *out)
{
    if (!env || len == 0)
        return -1;
    const uint8_t *nl = memchr(env, '\n', len);
    size_t hlen = nl ? (size_t)(nl - env) : len;
    size_t start = out->len;
    bool was_failed = out->failed;
    out->failed = false;
    copy_ctx_t c = {out, 0};
    plume_json_error_t jerr;
    plume_buf_append_byte(out, '{');
    if (!plume_json_object_scan((const char *)env, hlen, NULL, copy_member, &c, NULL, &jerr)) {
        out->failed = was_failed;
        return roll_back(out, start);
    }
    char ts[PLUME_TIME_FORMAT_MAX];
    size_t tn = plume_time_format_rfc3339_ms(now_ns, ts);
    if (c.kept)
        plume_buf_append_byte(out, ',');
    plume_buf_append_str(out, "\"sent_at\":\"");
    plume_buf_append(out, ts, tn);
    plume_buf_append_str(out, "\"}");
    plume_buf_append(out, env + hlen, len - hlen); /* "\n" and the items, if any */
    bool failed = out->failed;
    out->failed = was_failed || failed;
    return failed ? roll_back(out, start) : 0;
}
