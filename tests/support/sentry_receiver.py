# SPDX-License-Identifier: MIT
"""A local Sentry-compatible envelope receiver for integration tests, plus the
envelope checkers the tests share.

The server listens on 127.0.0.1 on an ephemeral port (threaded, HTTP/1.1
keep-alive) and checks every request as strictly as Relay does: the envelope
path `{prefix}/api/{project_id}/envelope/` (else 404), POST only (405), an
`X-Sentry-Auth` header that parses with sentry_version=7, the right sentry_key
and a sentry_client (401, JSON error body), Content-Type
application/x-sentry-envelope and Content-Encoding gzip or none (415), a body
that decompresses (400) and an envelope that parses (`parse_envelope`: 400, or
413 past the size limits). A refused request is recorded in `violations`, except
a well-formed one with the wrong key (tests send it on purpose). A few Plume
contract rules Relay would tolerate (every item has a length, sent_at is set,
log entries are well-formed and at most 100 per envelope, an event carries its
event_id, no duplicate JSON keys) are recorded as violations too but answered
200, like the Axiom receiver's lint; `lint_contract = False` turns that off.

Tests script answers (`respond_with`, `rate_limit`) and wait on what arrived with
deadlines (condition variable, no polling). `validate_event` checks an event
against Relay's JSON schema (conformance/sentry/schema/event.schema.json, Debian
python3-jsonschema); `node_check` runs the same bytes through @sentry/core's
`parseEnvelope` (tests/support/envelope_check) as a second, independent parser.
"""

import collections
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from axiom_receiver import _decompress_gzip, parse_rfc3339
from http_receiver import BadRequest, Handler, ReceiverBase

MAX_ITEM_BYTES = 1 << 20            # event and log item payloads
MAX_ENVELOPE_BYTES = 200 << 20      # whole envelope, decompressed
MAX_BODY_BYTES = 200 << 20          # request body as sent
MAX_LOGS_PER_ENVELOPE = 100         # Plume contract (PROTOCOLS.md), lint only
LOG_CONTENT_TYPE = "application/vnd.sentry.items.log+json"
LOG_LEVELS = ("trace", "debug", "info", "warn", "error", "fatal")
ATTRIBUTE_TYPES = {"string": (str,), "boolean": (bool,), "integer": (int,), "double": (float, int)}

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_CHECK_DIR = os.path.join(HERE, "envelope_check")
NODE_CHECK_SCRIPT = os.path.join(NODE_CHECK_DIR, "check_envelope.mjs")

_HEX32 = re.compile(r"[0-9a-f]{32}\Z")
_UUID = re.compile(r"[0-9a-fA-F]{32}\Z|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


def conformance_dir():
    """The public conformance data: $PLUME_CONFORMANCE_DIR, else ../shared/conformance
    next to the repository (what tests/CMakeLists.txt passes by default)."""
    return os.environ.get("PLUME_CONFORMANCE_DIR") or os.path.normpath(
        os.path.join(HERE, "..", "..", "..", "shared", "conformance"))


# -- envelope parsing -----------------------------------------------------------

class EnvelopeError(ValueError):
    """An envelope Relay refuses (400). The message names the item and the rule."""
    status = 400


class EnvelopeTooLarge(EnvelopeError):
    """An envelope or item past Relay's size limits (413)."""
    status = 413


def _reject_constant(name):
    raise ValueError("non-standard JSON constant %s" % name)


def strict_json(data, what, dups=None):
    """Parses UTF-8 JSON bytes strictly (no NaN/Infinity, no invalid UTF-8).
    Duplicate object keys are appended to `dups` when a list is given. Raises
    EnvelopeError naming `what`."""
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as e:
        raise EnvelopeError("%s is not valid UTF-8 at byte %d" % (what, e.start))

    def pairs_hook(pairs):
        d = {}
        for k, v in pairs:
            if k in d and dups is not None:
                dups.append(k)
            d[k] = v
        return d
    try:
        return json.loads(text, object_pairs_hook=pairs_hook, parse_constant=_reject_constant)
    except ValueError as e:
        raise EnvelopeError("%s is not valid JSON: %s" % (what, e))
    except RecursionError:
        raise EnvelopeError("%s nests too deeply to parse" % what)


def normalize_event_id(value):
    """32 lowercase hex digits for a UUID in simple or hyphenated form (what
    Relay accepts in an envelope header), else None."""
    if isinstance(value, str) and _UUID.match(value):
        return value.replace("-", "").lower()
    return None


def _header_line(data, pos, what):
    """Reads the JSON object on the line starting at `pos` (up to `\\n` or EOF).
    Returns (object, position after the newline)."""
    end = data.find(b"\n", pos)
    if end < 0:
        end = len(data)
    line = data[pos:end]
    if line.endswith(b"\r"):
        raise EnvelopeError("%s at byte %d ends with \\r\\n; lines end with \\n only" % (what, pos))
    obj = strict_json(line, "%s at byte %d" % (what, pos))
    if not isinstance(obj, dict):
        raise EnvelopeError("%s at byte %d is not a JSON object" % (what, pos))
    return obj, end + 1


def _check_envelope_header(header):
    if "event_id" in header and header["event_id"] is not None \
            and normalize_event_id(header["event_id"]) is None:
        raise EnvelopeError("envelope header event_id %r is not a UUID" % (header["event_id"],))
    sent_at = header.get("sent_at")
    if sent_at is not None:
        try:
            parse_rfc3339(sent_at)
        except ValueError as e:
            raise EnvelopeError("envelope header sent_at: %s" % e)


def _check_event(payload, header, where):
    ev = strict_json(payload, "%s payload" % where)
    if not isinstance(ev, dict):
        raise EnvelopeError("%s payload is not a JSON object" % where)
    if "event_id" in ev:
        eid = ev["event_id"]
        if not isinstance(eid, str) or not _HEX32.match(eid):
            raise EnvelopeError("%s event_id %r is not 32 lowercase hex digits" % (where, eid))
        hid = normalize_event_id(header.get("event_id"))
        if hid is not None and hid != eid:
            raise EnvelopeError("%s event_id %s differs from the envelope header's %s"
                                % (where, eid, header["event_id"]))


def _check_log(item_header, payload, where):
    ct = item_header.get("content_type")
    if ct != LOG_CONTENT_TYPE:
        raise EnvelopeError("%s content_type %r is not %s" % (where, ct, LOG_CONTENT_TYPE))
    doc = strict_json(payload, "%s payload" % where)
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise EnvelopeError('%s payload is not an object with an "items" array' % where)
    count = item_header.get("item_count")
    if isinstance(count, bool) or not isinstance(count, int) or count != len(doc["items"]):
        raise EnvelopeError("%s item_count %r does not match its %d entries"
                            % (where, count, len(doc["items"])))


def parse_envelope(data):
    """Parses envelope bytes (uncompressed) with Relay's rules and Plume's
    stricter ones (no `\\r\\n`, one event and one log item at most, event_id
    consistency, log item_count and content type, size limits). Returns
    (header_dict, [(item_header_dict, payload_bytes), ...]); raises EnvelopeError
    (EnvelopeTooLarge for the size limits) with the reason and where."""
    data = bytes(data)
    if len(data) > MAX_ENVELOPE_BYTES:
        raise EnvelopeTooLarge("envelope of %d bytes exceeds %d" % (len(data), MAX_ENVELOPE_BYTES))
    if not data:
        raise EnvelopeError("empty envelope: no header line")
    header, pos = _header_line(data, 0, "envelope header")
    _check_envelope_header(header)
    items, seen = [], {}
    while pos < len(data):
        where = "item %d" % len(items)
        ih, pos = _header_line(data, pos, where + " header")
        t = ih.get("type")
        if not isinstance(t, str) or not t:
            raise EnvelopeError("%s header has no string \"type\"" % where)
        where = "item %d (%s)" % (len(items), t)
        length = ih.get("length")
        if length is not None:
            if isinstance(length, bool) or not isinstance(length, int) or not 0 <= length < 1 << 32:
                raise EnvelopeError("%s length %r is not an unsigned 32-bit integer" % (where, length))
            start = min(pos, len(data))
            if start + length > len(data):
                raise EnvelopeError("%s declares length %d but only %d bytes remain"
                                    % (where, length, len(data) - start))
            payload, pos = data[start:start + length], start + length
            if pos < len(data):
                if data[pos] != 0x0A:
                    raise EnvelopeError("%s payload of declared length %d is followed by byte 0x%02x, "
                                        "not a newline or the end" % (where, length, data[pos]))
                pos += 1
        else:
            start = min(pos, len(data))
            end = data.find(b"\n", start)
            end = len(data) if end < 0 else end
            payload, pos = data[start:end], end + 1
            if payload.endswith(b"\r"):
                raise EnvelopeError("%s implicit-length payload ends with \\r\\n; lines end with \\n only"
                                    % where)
        if t in ("event", "log"):
            if t in seen:
                raise EnvelopeError("two %s items (items %d and %d); at most one per envelope"
                                    % (t, seen[t], len(items)))
            seen[t] = len(items)
            if len(payload) > MAX_ITEM_BYTES:
                raise EnvelopeTooLarge("%s payload of %d bytes exceeds %d"
                                       % (where, len(payload), MAX_ITEM_BYTES))
            if t == "event":
                _check_event(payload, header, where)
            else:
                _check_log(ih, payload, where)
        items.append((ih, payload))
    return header, items


def _lint_log_entry(e, where):
    if not isinstance(e, dict):
        return ["%s is not an object" % where]
    out = []
    ts = e.get("timestamp")
    if isinstance(ts, bool) or not isinstance(ts, (int, float)):
        out.append("%s timestamp %r is not epoch seconds" % (where, ts))
    if not isinstance(e.get("trace_id"), str) or not _HEX32.match(e["trace_id"]):
        out.append("%s trace_id %r is not 32 lowercase hex digits" % (where, e.get("trace_id")))
    if e.get("level") not in LOG_LEVELS:
        out.append("%s level %r is not one of %s" % (where, e.get("level"), "|".join(LOG_LEVELS)))
    if not isinstance(e.get("body"), str):
        out.append("%s body is not a string" % where)
    attrs = e.get("attributes", {})
    if not isinstance(attrs, dict):
        return out + ["%s attributes is not an object" % where]
    for k, a in attrs.items():
        t = a.get("type") if isinstance(a, dict) else None
        if t not in ATTRIBUTE_TYPES or "value" not in a:
            out.append("%s attribute %r is not {\"value\", \"type\"} with a known type" % (where, k))
        elif not isinstance(a["value"], ATTRIBUTE_TYPES[t]) or (t != "boolean" and isinstance(a["value"], bool)):
            out.append("%s attribute %r value %r is not a %s" % (where, k, a["value"], t))
    return out


CLIENT_REPORT_REASONS = ("queue_overflow", "cache_overflow", "buffer_overflow", "ratelimit_backoff",
                         "network_error", "sample_rate", "before_send", "event_processor",
                         "send_error", "internal_sdk_error", "insufficient_data", "backpressure")


def _lint_client_report(payload, where):
    """A client_report item: {"timestamp": RFC 3339 or epoch, "discarded_events":
    [{"reason", "category", "quantity" > 0}, ...]} (Sentry's client reports)."""
    try:
        doc = strict_json(payload, where)
    except EnvelopeError as e:
        return [str(e)]
    if not isinstance(doc, dict):
        return ["%s is not an object" % where]
    out = []
    ts = doc.get("timestamp")
    if not isinstance(ts, (str, int, float)) or isinstance(ts, bool):
        out.append("%s timestamp %r is neither RFC 3339 nor epoch seconds" % (where, ts))
    evs = doc.get("discarded_events")
    if not isinstance(evs, list):
        return out + ["%s discarded_events is not a list" % where]
    for d in evs:
        if not isinstance(d, dict) or d.get("reason") not in CLIENT_REPORT_REASONS or \
                not isinstance(d.get("category"), str) or isinstance(d.get("quantity"), bool) or \
                not isinstance(d.get("quantity"), int) or d["quantity"] <= 0:
            out.append("%s entry %r is not {reason, category, quantity > 0}" % (where, d))
    return out


def lint_envelope(header, items):
    """Plume's contract beyond what Relay refuses (PROTOCOLS.md): every item
    has a length, sent_at is set, an event carries its event_id, log entries
    have the documented fields (at most 100 per envelope), no duplicate keys.
    Takes what parse_envelope returned; returns a list of problems."""
    out = []
    if header.get("sent_at") is None:
        out.append("envelope header has no sent_at")
    for i, (ih, payload) in enumerate(items):
        where = "item %d (%s)" % (i, ih.get("type"))
        if ih.get("length") is None:
            out.append("%s header has no length" % where)
        if ih.get("type") == "client_report":
            out += _lint_client_report(payload, where)
            continue
        if ih.get("type") not in ("event", "log"):
            continue
        dups = []
        doc = strict_json(payload, where, dups)
        if dups:
            out.append("%s: duplicate keys %s" % (where, sorted(set(dups))))
        if ih["type"] == "event" and "event_id" not in doc:
            out.append("%s has no event_id" % where)
        if ih["type"] == "log":
            entries = doc["items"]
            if len(entries) > MAX_LOGS_PER_ENVELOPE:
                out.append("%s holds %d logs, more than %d" % (where, len(entries), MAX_LOGS_PER_ENVELOPE))
            for j, e in enumerate(entries):
                out += _lint_log_entry(e, "%s log %d" % (where, j))
    return out


# -- event schema ---------------------------------------------------------------

_schema_lock = threading.Lock()
_schema_validator = None


def _event_validator():
    global _schema_validator
    with _schema_lock:
        if _schema_validator is None:
            try:
                import jsonschema
            except ImportError:
                raise RuntimeError("python3-jsonschema is not installed (run scripts/setup.sh)")
            path = os.path.join(conformance_dir(), "sentry", "schema", "event.schema.json")
            with open(path, encoding="utf-8") as f:
                schema = json.load(f)
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            _schema_validator = cls(schema)
        return _schema_validator


def validate_event(payload):
    """Validates an event (a parsed JSON value) against Relay's event schema with
    the schema's own draft. Returns a list of error strings, empty when valid:
    for each failing rule the most relevant cause (into anyOf/oneOf branches),
    as "message at path/to/field" (messages cut at 300 characters)."""
    v = _event_validator()
    from jsonschema.exceptions import best_match
    out = []
    for err in sorted(v.iter_errors(payload), key=lambda e: list(map(str, e.absolute_path))):
        e = best_match([err])
        msg = e.message if len(e.message) <= 300 else e.message[:300] + "..."
        out.append("%s at %s" % (msg, "/".join(map(str, e.absolute_path))))
    return out


# -- @sentry/core cross-check ---------------------------------------------------

class NodeCheckUnavailable(unittest.SkipTest):
    """node or the checker's node_modules are missing: a test that needs the
    check is skipped (or fails, under PLUME_REQUIRE_NODE=1)."""


def node_check_unavailable_reason():
    """Why node_check cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not os.path.isdir(os.path.join(NODE_CHECK_DIR, "node_modules", "@sentry", "core")):
        return ("%s/node_modules is missing: run scripts/setup.sh (npm ci --prefix "
                "tests/support/envelope_check)" % NODE_CHECK_DIR)
    return None


def node_check(envelopes, timeout=120):
    """Runs check_envelope.mjs once over the given envelope byte strings
    (uncompressed) and returns one result dict per envelope, in order:
    {"ok": True, "items": [types], "event_id": ...} or {"ok": False, "error": ...}.
    Raises NodeCheckUnavailable (a unittest skip) when node or its modules are
    missing, or RuntimeError instead when PLUME_REQUIRE_NODE=1."""
    reason = node_check_unavailable_reason()
    if reason:
        if os.environ.get("PLUME_REQUIRE_NODE") == "1":
            raise RuntimeError("node envelope check required (PLUME_REQUIRE_NODE=1) but " + reason)
        raise NodeCheckUnavailable("node envelope check skipped: " + reason)
    envelopes = [bytes(e) for e in envelopes]
    if not envelopes:
        return []
    with tempfile.TemporaryDirectory(prefix="plume-envcheck-") as d:
        files = []
        for i, env in enumerate(envelopes):
            p = os.path.join(d, "%04d.envelope" % i)
            with open(p, "wb") as f:
                f.write(env)
            files.append(p)
        p = subprocess.run(["node", NODE_CHECK_SCRIPT] + files, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    lines = p.stdout.decode("utf-8", "replace").splitlines()
    if p.returncode not in (0, 1) or len(lines) != len(files):
        raise RuntimeError("check_envelope.mjs exited %d with %d result lines for %d files: %s"
                           % (p.returncode, len(lines), len(files),
                              p.stderr.decode("utf-8", "replace")[-2000:]))
    results = [json.loads(line) for line in lines]
    if (p.returncode == 0) != all(r.get("ok") for r in results):
        raise RuntimeError("check_envelope.mjs exit code %d disagrees with its results" % p.returncode)
    return results


# -- the HTTP server ------------------------------------------------------------

class Envelope:
    """An accepted envelope: `header`, `items` [(item_header, payload_bytes)],
    `raw` (the decompressed bytes) and the `request` it came in. Unpacks like
    parse_envelope's result: `header, items = env`."""

    __slots__ = ("header", "items", "raw", "request")

    def __init__(self, header, items, raw, request):
        self.header, self.items, self.raw, self.request = header, items, raw, request

    def __iter__(self):
        return iter((self.header, self.items))

    def __repr__(self):
        return "<envelope %s: %s>" % (self.header.get("event_id"), self.item_types())

    def item_types(self):
        return [ih["type"] for ih, _ in self.items]

    def events(self):
        """The payload of the event item (at most one), parsed."""
        return [json.loads(p) for ih, p in self.items if ih["type"] == "event"]

    def client_reports(self):
        """The payloads of the client_report items, parsed."""
        return [json.loads(p) for ih, p in self.items if ih["type"] == "client_report"]

    def logs(self):
        """The entries of the log item (at most one), parsed."""
        return [e for ih, p in self.items if ih["type"] == "log" for e in json.loads(p)["items"]]


class ReceivedRequest:
    """One request as received: when, from where, what was asked (headers keyed
    in lower case), the raw body as sent, the decompressed envelope, the parsed
    envelope (None if refused before or while parsing), the answer's status and
    the reason for a refusal."""

    __slots__ = ("mono", "wall", "peer", "method", "path", "headers", "body", "decoded",
                 "envelope", "status", "error")

    def __init__(self, mono, wall, peer, method, path, headers):
        self.mono, self.wall, self.peer = mono, wall, peer
        self.method, self.path, self.headers = method, path, headers
        self.body = self.decoded = self.envelope = None
        self.status = self.error = None

    def __repr__(self):
        return "<%s %s -> %s%s>" % (self.method, self.path, self.status,
                                    ", " + self.error if self.error else "")


def _error_body(message):
    return json.dumps({"detail": message}).encode()


class _Handler(Handler):
    server_version = "sentry-test-receiver"
    max_body = MAX_BODY_BYTES
    bodiless_methods = ("GET", "HEAD", "DELETE", "OPTIONS")

    def _handle(self):
        try:
            self.server.receiver._handle(self)
        except Exception as e:  # noqa: BLE001 - a receiver bug: reported, the server keeps serving
            self.server.receiver._internal_error(self, e)

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle


def parse_sentry_auth(value):
    """Parses `Sentry k=v, k=v, ...` into a dict; raises ValueError naming what
    is wrong (no 'Sentry ' scheme, a part without '=', a repeated key)."""
    m = re.match(r"Sentry\s+", value or "", re.IGNORECASE)
    if not m:
        raise ValueError("X-Sentry-Auth %r does not start with 'Sentry '" % (value,))
    out = {}
    for part in value[m.end():].split(","):
        k, eq, v = part.strip().partition("=")
        if not eq or not k.strip():
            raise ValueError("X-Sentry-Auth part %r is not key=value" % part.strip())
        k = k.strip()
        if k in out:
            raise ValueError("X-Sentry-Auth repeats %s" % k)
        out[k] = v.strip()
    return out


class SentryReceiver(ReceiverBase):
    """The test server for one project: DSN `http://{public_key}@127.0.0.1:{port}
    {path_prefix}/{project_id}`. Recorded state is read through properties that
    return snapshots taken under the lock. `validate_events = True` checks every
    accepted event against the schema and records failures as violations.
    Canned answers (respond_with) with body=None get {"id": event_id} for 2xx
    and {"detail": ...} otherwise; envelopes answered with a non-2xx are not
    accepted (not in `envelopes`)."""

    handler_class = _Handler
    thread_name = "sentry-receiver"

    def __init__(self, public_key="k", project_id="42", path_prefix="", port=0):
        if path_prefix and (not path_prefix.startswith("/") or path_prefix.endswith("/")):
            raise ValueError("path_prefix must be empty or /like/this")
        self.public_key, self.project_id, self.path_prefix = public_key, str(project_id), path_prefix
        super().__init__(port)
        self.validate_events = False
        self.lint_contract = True
        self._envelopes = []

    @property
    def dsn(self):
        return "http://%s@127.0.0.1:%d%s/%s" % (self.public_key, self.port, self.path_prefix,
                                                self.project_id)

    @property
    def envelope_path(self):
        return "%s/api/%s/envelope/" % (self.path_prefix, self.project_id)

    @property
    def envelope_url(self):
        return self.url + self.envelope_path

    # -- scripting (respond_with, clear_responses: ReceiverBase) -----------------
    def rate_limit(self, limits=None, retry_after=None, status=429, times=1):
        """Answers `status` with X-Sentry-Rate-Limits = limits (e.g.
        "60:error;log_item:organization") and/or Retry-After = retry_after."""
        h = {}
        if limits is not None:
            h["X-Sentry-Rate-Limits"] = limits
        if retry_after is not None:
            h["Retry-After"] = str(retry_after)
        self.respond_with(status, h, times=times)

    # -- recorded state ------------------------------------------------------------
    @property
    def envelopes(self):
        with self._cond:
            return list(self._envelopes)

    def events(self):
        """Every accepted event payload, parsed, in arrival order."""
        return [ev for env in self.envelopes for ev in env.events()]

    def logs(self):
        """Every accepted log entry, in arrival order."""
        return [e for env in self.envelopes for e in env.logs()]

    def discarded(self):
        """Sum of the client reports' quantities per (reason, category)."""
        out = collections.Counter()
        for env in self.envelopes:
            for rep in env.client_reports():
                for d in rep.get("discarded_events", []):
                    out[(d["reason"], d["category"])] += d["quantity"]
        return out

    def wait_for_envelopes(self, n, timeout):
        """True once at least n envelopes were accepted, False at the deadline."""
        return bool(self.wait_for(lambda s: len(s._envelopes) >= n, timeout))

    def wait_for_requests(self, n, timeout):
        """True once at least n requests were answered, False at the deadline."""
        return bool(self.wait_for(lambda s: len(s._requests) >= n, timeout))

    def node_check_all(self):
        """Runs every accepted envelope through @sentry/core's parser (node_check);
        records each failure as a violation and returns the results."""
        envs = self.envelopes
        results = node_check([e.raw for e in envs])
        with self._cond:
            for env, r in zip(envs, results):
                if not r.get("ok"):
                    self._violations.append("%s %s: @sentry/core check: %s"
                                            % (env.request.method, env.request.path, r.get("error")))
        return results

    # -- request handling (runs on the server's threads) -----------------------------
    def _internal_error(self, h, exc):
        """A check raised something unexpected: record it as a violation (so the
        test fails and says why) and answer 500."""
        with self._cond:
            self._violations.append("%s %s: receiver error %r" % (h.command, h.path, exc))
            self._cond.notify_all()
        h.close_connection = True
        h.answer(500, {}, _error_body("receiver error"))

    def _check_request(self, h, rec):
        """Applies Relay's rules in order; returns the decompressed envelope or
        raises BadRequest (is_violation False for a well-formed wrong key)."""
        rec.body = body = h.read_body()
        if h.path != self.envelope_path:
            raise BadRequest(404, "path %s is not %s" % (h.path, self.envelope_path))
        if h.command != "POST":
            raise BadRequest(405, "method %s not allowed" % h.command)
        auth = h.headers.get_all("X-Sentry-Auth") or []
        if len(auth) != 1:
            raise BadRequest(401, "%d X-Sentry-Auth headers" % len(auth))
        try:
            fields = parse_sentry_auth(auth[0])
        except ValueError as e:
            raise BadRequest(401, str(e))
        if fields.get("sentry_version") != "7":
            raise BadRequest(401, "sentry_version %r is not 7" % fields.get("sentry_version"))
        if not fields.get("sentry_client"):
            raise BadRequest(401, "X-Sentry-Auth has no sentry_client")
        if not fields.get("sentry_key"):
            raise BadRequest(401, "X-Sentry-Auth has no sentry_key")
        if fields["sentry_key"] != self.public_key:
            e = BadRequest(401, "unknown public key %r" % fields["sentry_key"])
            e.is_violation = False
            raise e
        ct = h.headers.get_all("Content-Type") or []
        media = ct[0].split(";", 1)[0].strip().lower() if len(ct) == 1 else None
        if media != "application/x-sentry-envelope":
            raise BadRequest(415, "Content-Type %r is not application/x-sentry-envelope" % (ct,))
        ce = h.headers.get_all("Content-Encoding") or []
        if len(ce) > 1 or (ce and ce[0].strip().lower() != "gzip"):
            raise BadRequest(415, "Content-Encoding %r is not gzip or absent" % (ce,))
        if ce:
            body = _decompress_gzip(body, MAX_ENVELOPE_BYTES)
        rec.decoded = body
        return body

    def _handle(self, h):
        rec = ReceivedRequest(time.monotonic(), time.time(), h.client_address, h.command,
                              h.path, {k.lower(): v for k, v in h.headers.items()})
        try:
            raw = self._check_request(h, rec)
            try:
                header, items = parse_envelope(raw)
            except EnvelopeError as e:
                raise BadRequest(e.status, "invalid envelope: %s" % e)
        except BadRequest as e:
            rec.status, rec.error = e.status, e.message
            with self._cond:
                if getattr(e, "is_violation", True):
                    self._violations.append("%s %s -> %d: %s" % (rec.method, rec.path, e.status, e.message))
                self._requests.append(rec)
                self._cond.notify_all()
            h.answer(e.status, {}, _error_body(e.message))
            return
        env = rec.envelope = Envelope(header, items, raw, rec)
        lint = lint_envelope(header, items) if self.lint_contract else []
        with self._cond:
            canned = self._take_canned()
        status = canned.status if canned else 200
        headers = dict(canned.headers) if canned else {}
        body = canned.body if canned else None
        eid = normalize_event_id(header.get("event_id")) or \
            next((ev.get("event_id") for ev in env.events()), None)
        if body is None:
            body = (json.dumps({"id": eid} if eid else {}) if 200 <= status < 300 else
                    json.dumps({"detail": "scripted answer %d" % status})).encode()
        accepted = 200 <= status < 300
        if accepted and self.validate_events:
            for ev in env.events():
                lint += ["event %s does not match the schema: %s" % (eid, m) for m in validate_event(ev)]
        rec.status = status
        with self._cond:
            self._violations += ["%s %s -> %d: %s" % (rec.method, rec.path, status, m) for m in lint]
            self._requests.append(rec)
            if accepted:
                self._envelopes.append(env)
            self._cond.notify_all()
        h.answer(status, headers, body)
