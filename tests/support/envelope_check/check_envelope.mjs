// SPDX-License-Identifier: MIT
// Checks Sentry envelope files with a second, independent parser: the one in
// @sentry/core (parseEnvelope, what Sentry's JavaScript SDKs use), plus the
// framing rules parseEnvelope does not check itself: each header line is a JSON
// object ending in "\n" (no "\r\n"), each item header has a string "type", an
// item's declared "length" is exactly the bytes that follow, then "\n" or the
// end, and the payload of a JSON item type (event, log, session...) is JSON.
// Usage: node check_envelope.mjs FILE... (raw, uncompressed envelopes).
// Prints one JSON line per file, in order:
//   {"file":F,"ok":true,"items":[types],"event_id":ID|null[,"notes":[...]]}
//   {"file":F,"ok":false,"error":"..."}
// and exits 1 if any file failed, 2 on a usage error.
//
// parseEnvelope reads a payload without a length, or with length 0, as one
// line of JSON, so it throws on a valid envelope whose such payload is not JSON
// (an empty or text attachment). For such an envelope it is run on the bytes
// before the first such item, and the result carries a note saying so; any
// parseEnvelope failure or disagreement between the two parsers fails the file.

import { readFileSync } from 'node:fs';
import { parseEnvelope } from '@sentry/core';

const NL = 0x0a;
const CR = 0x0d;
const utf8 = new TextDecoder('utf-8', { fatal: true });

// Item types whose payload is one JSON document (Sentry's envelope item docs).
const JSON_TYPES = new Set(['event', 'transaction', 'session', 'sessions', 'client_report', 'log',
  'user_report', 'check_in', 'feedback']);

class EnvelopeError extends Error {}

// Parses one header line starting at `pos`; returns [object, position after
// its newline (may be one past the end)].
function headerLine(buf, pos, what) {
  let end = buf.indexOf(NL, pos);
  if (end < 0) end = buf.length;
  const line = buf.subarray(pos, end);
  if (line.length && line[line.length - 1] === CR) {
    throw new EnvelopeError(`${what} at byte ${pos} ends with \\r\\n; lines end with \\n only`);
  }
  let value;
  try {
    value = JSON.parse(utf8.decode(line));
  } catch (e) {
    throw new EnvelopeError(`${what} at byte ${pos} is not valid JSON: ${e.message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new EnvelopeError(`${what} at byte ${pos} is not a JSON object`);
  }
  return [value, end + 1];
}

// Walks the envelope by the spec. Returns {header, items: [{header, payload,
// start}]} with payload a Uint8Array view and start the offset of the item's
// header line; throws EnvelopeError on a framing error.
function walk(buf) {
  if (buf.length === 0) throw new EnvelopeError('empty envelope: no header line');
  let [header, pos] = headerLine(buf, 0, 'envelope header');
  const items = [];
  while (pos < buf.length) {
    const n = items.length;
    const itemStart = pos;
    let ih;
    [ih, pos] = headerLine(buf, pos, `item ${n} header`);
    if (typeof ih.type !== 'string' || ih.type === '') {
      throw new EnvelopeError(`item ${n} header has no string "type"`);
    }
    const where = `item ${n} (${ih.type})`;
    const start = Math.min(pos, buf.length);
    let payload;
    if (ih.length !== undefined && ih.length !== null) {
      const len = ih.length;
      if (!Number.isInteger(len) || len < 0 || len > 0xffffffff) {
        throw new EnvelopeError(`${where} length ${JSON.stringify(len)} is not an unsigned 32-bit integer`);
      }
      if (start + len > buf.length) {
        throw new EnvelopeError(`${where} declares length ${len} but only ${buf.length - start} bytes remain`);
      }
      payload = buf.subarray(start, start + len);
      pos = start + len;
      if (pos < buf.length) {
        if (buf[pos] !== NL) {
          throw new EnvelopeError(`${where} payload of declared length ${len} is followed by byte 0x${
            buf[pos].toString(16).padStart(2, '0')}, not a newline or the end`);
        }
        pos += 1;
      }
    } else {
      let end = buf.indexOf(NL, start);
      if (end < 0) end = buf.length;
      payload = buf.subarray(start, end);
      if (payload.length && payload[payload.length - 1] === CR) {
        throw new EnvelopeError(`${where} implicit-length payload ends with \\r\\n`);
      }
      pos = end + 1;
    }
    if (JSON_TYPES.has(ih.type) && !isJson(payload)) {
      throw new EnvelopeError(`${where} payload is not valid JSON`);
    }
    items.push({ header: ih, payload, start: itemStart });
  }
  return { header, items };
}

function isJson(bytes) {
  try {
    JSON.parse(utf8.decode(bytes));
    return true;
  } catch {
    return false;
  }
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// Compares parseEnvelope's result with the walk's first `count` items; returns
// a reason or null.
function disagreement(core, walked, count) {
  const [coreHeader, coreItems] = core;
  if (JSON.stringify(coreHeader) !== JSON.stringify(walked.header)) return 'envelope headers differ';
  if (coreItems.length !== count) {
    return `parseEnvelope found ${coreItems.length} items, the framing walk ${count}`;
  }
  for (let i = 0; i < count; i++) {
    const [ch, cp] = coreItems[i];
    const w = walked.items[i];
    if (JSON.stringify(ch) !== JSON.stringify(w.header)) return `item ${i} headers differ`;
    if (cp instanceof Uint8Array) {
      if (!sameBytes(cp, w.payload)) return `item ${i} (${ch.type}) payload bytes differ`;
    } else if (JSON.stringify(cp) !== JSON.stringify(JSON.parse(utf8.decode(w.payload)))) {
      return `item ${i} (${ch.type}) JSON payloads differ`;
    }
  }
  return null;
}

function check(file) {
  const buf = new Uint8Array(readFileSync(file));
  const walked = walk(buf);
  const result = {
    file,
    ok: true,
    items: walked.items.map((it) => it.header.type),
    event_id: walked.header.event_id ?? null,
  };
  // Items parseEnvelope cannot read by design: no length or length 0, and a
  // payload that is not JSON. It then checks only the items before the first.
  const first = walked.items.findIndex((it) => !it.header.length && !isJson(it.payload));
  const count = first < 0 ? walked.items.length : first;
  let core;
  try {
    core = parseEnvelope(first < 0 ? buf : buf.subarray(0, walked.items[first].start));
  } catch (e) {
    throw new EnvelopeError(`@sentry/core parseEnvelope: ${e.message}`);
  }
  const why = disagreement(core, walked, count);
  if (why) throw new EnvelopeError(`@sentry/core parseEnvelope disagrees: ${why}`);
  if (first >= 0) {
    const it = walked.items[first];
    const checked = first === 0 ? 'the envelope header only' : `the header and items 0-${first - 1} only`;
    result.notes = [`item ${first} (${it.header.type}) has ${it.header.length === 0 ? 'length 0' : 'no length'} ` +
      `and a non-JSON payload, which parseEnvelope cannot read: it checked ${checked}, ` +
      'the framing walk every item'];
  }
  return result;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node check_envelope.mjs FILE...\n');
  process.exit(2);
}
let failed = 0;
for (const file of files) {
  let line;
  try {
    line = check(file);
  } catch (e) {
    failed++;
    line = { file, ok: false, error: e instanceof EnvelopeError ? e.message : `${e.name}: ${e.message}` };
  }
  process.stdout.write(JSON.stringify(line) + '\n');
}
process.exitCode = failed ? 1 : 0;
