/* SPDX-License-Identifier: MIT */
/* Sentry envelopes: the builder the Sentry sink writes its requests with
 * (PROTOCOLS.md "Sentry ingest").
 *
 * An envelope is a header line (compact JSON object) followed by items, each
 * an item header line ({"type":..,"length":N,..}) then exactly N payload
 * bytes then "\n"; lines end with "\n" only. `length` is always written, so
 * payloads may hold newlines and any bytes. The header's `sent_at` is not
 * written by the builder: an envelope may wait in the outbox, so it is added
 * to a copy right before each send by plume_sentry_envelope_set_sent_at().
 * All output goes to bounded plume_buf_t buffers; a call that fails leaves
 * the buffer's length as it was (its sticky `failed` flag says why). */
#ifndef PLUME_SENTRY_ENVELOPE_H
#define PLUME_SENTRY_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* sdk.name in every envelope header. */
#define PLUME_SENTRY_SDK_NAME "plume.native"

/* Appends the envelope header line
 * {"event_id":"<32 hex>","sdk":{"name":"plume.native","version":"<v>"},"dsn":"<dsn>"}\n
 * event_id (32 hex digits, written lowercase) and dsn may be NULL to leave
 * them out. Returns 0, or -1 (buf unchanged) if event_id is not 32 hex
 * digits, sdk_version is NULL or buf reached its maximum. */
int plume_sentry_envelope_begin(plume_buf_t *buf, const char *event_id, const char *dsn,
                                const char *sdk_version);

/* The optional parts of an item header (NULL / negative = leave out). */
typedef struct plume_sentry_item_hdr {
    const char *type;            /* required: "event", "log", "attachment", ... */
    const char *content_type;    /* e.g. "application/json" */
    long item_count;             /* log items: how many entries; < 0 = omit */
    const char *filename;        /* attachments */
    const char *attachment_type; /* attachments, e.g. "event.minidump" */
} plume_sentry_item_hdr_t;

/* Appends one item: {"type":..,"length":N[,"content_type":..][,"item_count":N]}\n,
 * then payload[0..len) and "\n". payload may be NULL when len is 0. Returns
 * 0, or -1 (buf unchanged) if type is NULL or empty or buf reached its
 * maximum. */
int plume_sentry_envelope_item(plume_buf_t *buf, const char *type, const char *content_type,
                               long item_count, const void *payload, size_t len);

/* The same with every header field: members in the order type, length,
 * content_type, item_count, filename, attachment_type. */
int plume_sentry_envelope_item_ex(plume_buf_t *buf, const plume_sentry_item_hdr_t *hdr,
                                  const void *payload, size_t len);

/* Appends to out a copy of the envelope env[0..len) whose header line has
 * "sent_at":"<RFC 3339, milliseconds, Z>" (from now_ns, ns since the epoch)
 * as its last member; any sent_at already there (however its key is
 * escaped) is dropped. The other header members keep their key and value
 * text; blanks between them are not kept; everything after the header line
 * is copied byte for byte (a header-only envelope without a final "\n" stays
 * without it). env must not point into out. Returns 0, or -1 (out->len as
 * on entry) if the first line is not one JSON object or out reached its
 * maximum. */
int plume_sentry_envelope_set_sent_at(const uint8_t *env, size_t len, uint64_t now_ns,
                                      plume_buf_t *out);

#endif
