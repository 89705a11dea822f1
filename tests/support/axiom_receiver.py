# SPDX-License-Identifier: MIT
"""A local Axiom-compatible ingest server for integration tests and benchmarks.

It listens on 127.0.0.1 on an ephemeral port (threaded, HTTP/1.1 keep-alive) and
checks every request as strictly as the real service does: POST only, the
ingest path of the configured dataset (legacy /v1/datasets/{ds}/ingest, edge
/v1/ingest/{ds}, or either), `Authorization: Bearer <token>`, Content-Type
application/x-ndjson, Content-Encoding zstd|gzip|absent, a body that
decompresses, one JSON object per line with a valid RFC 3339 "_time", and at most
10,000 events per request. A request that breaks a rule is answered with the
service's error status and recorded in `violations`; a few client-contract
problems the service would tolerate (user keys in the reserved "_" space,
duplicate keys, lone UTF-16 surrogates, field names over 200 bytes) are recorded
as violations too but answered 200. A well-formed request with the wrong token is
answered 401 but is not a violation (tests use it on purpose).

Tests script its behaviour (canned answers, delays, partial failures) and wait on
what it received with deadlines (condition variable, no polling). Run as a
program (`axiom_receiver.py --port 0 --print-port [--count-only]`) it prints the
port on stdout and serves until killed; GET /_stats then returns its counters as
JSON for a benchmark driver.
"""

import argparse
import calendar
import json
import re
import signal
import sys
import threading
import time
import zlib

from http_receiver import BadRequest, Handler, ReceiverBase

try:
    import zstandard
except ImportError:  # reported when a zstd body arrives
    zstandard = None

MAX_EVENTS_PER_REQUEST = 10_000
MAX_FIELD_NAME_BYTES = 200
MAX_BODY_BYTES = 64 * 1024 * 1024          # compressed, as sent
MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024
_ZSTD_STEP = 4096   # input fed per decompress call, bounds output per step

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z")


def parse_rfc3339(s):
    """Returns nanoseconds since the epoch for an RFC 3339 date-time string, or
    raises ValueError naming what is wrong. Fractions beyond 9 digits are
    truncated; a leap second (60) is accepted as the grammar allows."""
    if not isinstance(s, str):
        raise ValueError("not a string: %r" % (s,))
    m = _RFC3339.match(s)
    if not m:
        raise ValueError("not an RFC 3339 date-time: %r" % (s,))
    year, month, day, hour, minute, sec = (int(m.group(i)) for i in range(1, 7))
    if not 1 <= month <= 12:
        raise ValueError("month out of range in %r" % (s,))
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise ValueError("day out of range in %r" % (s,))
    if hour > 23 or minute > 59 or sec > 60:
        raise ValueError("time of day out of range in %r" % (s,))
    frac = m.group(7)
    ns = int((frac[1:] + "000000000")[:9]) if frac else 0
    offset = 0
    tz = m.group(8)
    if tz not in ("Z", "z"):
        oh, om = int(tz[1:3]), int(tz[4:6])
        if oh > 23 or om > 59:
            raise ValueError("UTC offset out of range in %r" % (s,))
        offset = (oh * 3600 + om * 60) * (1 if tz[0] == "+" else -1)
    secs = calendar.timegm((year, month, day, hour, minute, 0, 0, 0, 0)) + sec - offset
    return secs * 1_000_000_000 + ns


def _decompress_zstd(data, limit):
    """Decompresses one or more concatenated zstd frames, refusing truncated
    frames, trailing garbage and output past `limit` bytes."""
    if zstandard is None:
        raise BadRequest(415, "zstd not available in this receiver (install python3-zstandard)")
    if not data:
        raise BadRequest(400, "empty zstd body")
    out = bytearray()
    pos, n = 0, len(data)
    dctx = zstandard.ZstdDecompressor()
    while pos < n:
        obj = dctx.decompressobj()
        while True:
            chunk = data[pos:pos + _ZSTD_STEP]
            if not chunk:
                raise BadRequest(400, "truncated zstd frame at body offset %d" % pos)
            pos += len(chunk)
            try:
                out += obj.decompress(chunk)
            except zstandard.ZstdError as e:
                raise BadRequest(400, "zstd body does not decompress: %s" % e)
            if len(out) > limit:
                raise BadRequest(413, "decompressed body exceeds %d bytes" % limit)
            if obj.eof:
                pos -= len(obj.unused_data)
                break
    return bytes(out)


def _decompress_gzip(data, limit):
    """Decompresses one or more gzip members, refusing truncation, trailing
    garbage and output past `limit` bytes."""
    if not data:
        raise BadRequest(400, "empty gzip body")
    out = bytearray()
    rest = data
    while rest:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        buf = rest
        try:
            while True:
                out += d.decompress(buf, limit + 1 - len(out))
                if len(out) > limit:
                    raise BadRequest(413, "decompressed body exceeds %d bytes" % limit)
                if d.eof:
                    break
                if not d.unconsumed_tail:
                    raise BadRequest(400, "truncated gzip member")
                buf = d.unconsumed_tail
        except zlib.error as e:
            raise BadRequest(400, "gzip body does not decompress: %s" % e)
        rest = d.unused_data
    return bytes(out)


def _reject_constant(name):
    raise ValueError("non-standard JSON constant %s" % name)


def _has_lone_surrogate(obj):
    """True if any string in the parsed JSON value holds an unpaired surrogate
    (from a \\udXXX escape), which is not valid Unicode."""
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def parse_ndjson(text_bytes, max_events=MAX_EVENTS_PER_REQUEST):
    """Parses an NDJSON body strictly. Returns (events, lint) where lint lists
    contract problems the real service tolerates; raises BadRequest for what it
    refuses. Only a final empty line (the trailing newline) is allowed."""
    try:
        text = text_bytes.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequest(400, "body is not valid UTF-8 at byte %d" % e.start)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) > max_events:
        raise BadRequest(400, "%d events in one request, the limit is %d" % (len(lines), max_events))
    events, lint = [], []
    for i, line in enumerate(lines, 1):
        if line.strip() == "":
            raise BadRequest(400, "line %d is empty" % i)
        dups = []

        def pairs_hook(pairs, dups=dups):
            d = {}
            for k, v in pairs:
                if k in d:
                    dups.append(k)
                d[k] = v
            return d
        try:
            ev = json.loads(line, object_pairs_hook=pairs_hook, parse_constant=_reject_constant)
        except ValueError as e:
            raise BadRequest(400, "line %d is not valid JSON: %s" % (i, e))
        if not isinstance(ev, dict):
            raise BadRequest(400, "line %d is not a JSON object" % i)
        if "_time" not in ev:
            raise BadRequest(400, "line %d has no _time" % i)
        try:
            parse_rfc3339(ev["_time"])
        except ValueError as e:
            raise BadRequest(400, "line %d: invalid _time: %s" % (i, e))
        if dups:
            lint.append("line %d: duplicate keys %s" % (i, sorted(set(dups))))
        for k in ev:
            if k.startswith("_") and k != "_time":
                lint.append("line %d: key %r is in Axiom's reserved '_' space" % (i, k))
            if len(k.encode("utf-8", "surrogatepass")) > MAX_FIELD_NAME_BYTES:
                lint.append("line %d: field name longer than %d bytes" % (i, MAX_FIELD_NAME_BYTES))
        if ("\\ud" in line or "\\uD" in line) and _has_lone_surrogate(ev):
            lint.append("line %d: lone UTF-16 surrogate escape (invalid Unicode)" % i)
        events.append(ev)
    return events, lint


def count_ndjson_lines(body, max_events=MAX_EVENTS_PER_REQUEST):
    """Counts events without parsing them (benchmark mode)."""
    n = body.count(b"\n") + (1 if body and not body.endswith(b"\n") else 0)
    if n > max_events:
        raise BadRequest(400, "%d events in one request, the limit is %d" % (n, max_events))
    return n


class ReceivedRequest:
    """One request as received: when (monotonic and wall clock), from where, what
    was asked, what was answered, and the events it carried (also for refused
    requests, as far as they parsed)."""

    __slots__ = ("mono", "wall", "peer", "method", "path", "headers", "body_size",
                 "decoded_size", "status", "event_count", "events", "error")

    def __init__(self, mono, wall, peer, method, path, headers):
        self.mono, self.wall, self.peer = mono, wall, peer
        self.method, self.path, self.headers = method, path, headers
        self.body_size = self.decoded_size = 0
        self.status = None
        self.event_count = 0
        self.events = []
        self.error = None

    def __repr__(self):
        return "<%s %s -> %s, %d events%s>" % (
            self.method, self.path, self.status, self.event_count,
            ", " + self.error if self.error else "")


class _Handler(Handler):
    server_version = "axiom-test-receiver"
    max_body = MAX_BODY_BYTES

    def do_GET(self):
        if self.path == "/_stats":
            try:
                self.read_body()
            except BadRequest:
                pass
            body = json.dumps(self.server.receiver.stats()).encode()
            self.answer(200, {}, body)
        else:
            self._handle()


def _error_body(status, message):
    return json.dumps({"code": status, "message": message}).encode()


class AxiomReceiver(ReceiverBase):
    """The test server. `path_style`: "legacy", "edge" or "any". `store=False`
    keeps only counters (long benchmarks); `count_only=True` also skips JSON
    parsing and counts lines. All recorded state is read through the properties,
    which return snapshots taken under the lock.

    `on_events(events)`, if given, is called with the list of parsed events each
    accepted request carried (after the same checks, store or not), under the
    lock and before the answer, so that a test can reduce a million events to
    what it needs instead of keeping them all (use with store=False). It must be
    quick and must not call back into the receiver; an exception it raises is
    recorded as a violation. Not with count_only (no events are parsed).
    Canned answers (respond_with) with body=None get the ingest status for
    2xx, {"code","message"} otherwise."""

    handler_class = _Handler
    thread_name = "axiom-receiver"

    def __init__(self, token="t", dataset="ds", path_style="legacy", store=True,
                 count_only=False, port=0, on_events=None):
        if path_style not in ("legacy", "edge", "any"):
            raise ValueError("path_style must be legacy, edge or any")
        if on_events is not None and count_only:
            raise ValueError("on_events needs parsed events, not count_only")
        super().__init__(port)
        self.token, self.dataset, self.path_style = token, dataset, path_style
        self.store, self.count_only = store, count_only
        self._on_events = on_events
        self._events = []
        self._n_requests = self._n_events = self._n_bytes = 0
        self._delay = 0.0
        self._partial = 0

    def ingest_path(self, style=None):
        style = style or ("legacy" if self.path_style == "any" else self.path_style)
        if style == "edge":
            return "/v1/ingest/%s" % self.dataset
        return "/v1/datasets/%s/ingest" % self.dataset

    # -- scripting (respond_with, clear_responses: ReceiverBase) -------------
    def rate_limit(self, reset_epoch, times=1):
        """Answers 429 with X-RateLimit-Reset = reset_epoch (integer seconds)."""
        self.respond_with(429, {"X-RateLimit-Reset": str(int(reset_epoch)),
                                "X-RateLimit-Limit": "1000",
                                "X-RateLimit-Remaining": "0"}, times=times)

    def wait_connections_closed(self, timeout):
        """Waits until no client connection is open or waiting to be accepted,
        so that every request a client sent before it went away has been read
        and answered (after a kill -9 the kernel closes the client's sockets;
        a connection made just before is still accepted, and each handler
        reads what is left before it sees the end). True if that happened in
        time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._server.no_connections():
                return True
            time.sleep(0.005)
        return False

    def set_delay(self, seconds):
        """Every answer waits this long after the body was read."""
        with self._cond:
            self._delay = float(seconds)

    def partial_failure(self, n_failed):
        """The next 200 reports its last n_failed events as failed (they are not
        recorded as accepted)."""
        with self._cond:
            self._partial = int(n_failed)

    # -- recorded state --------------------------------------------------------
    @property
    def events(self):
        with self._cond:
            return list(self._events)

    def stats(self):
        with self._cond:
            return {"requests": self._n_requests, "events": self._n_events,
                    "bytes": self._n_bytes, "violation_count": len(self._violations),
                    "violations": self._violations[:20]}

    def wait_for_events(self, n, timeout):
        """True once at least n events were accepted, False at the deadline."""
        return bool(self.wait_for(lambda s: s._n_events >= n, timeout))

    def wait_for_requests(self, n, timeout):
        """True once at least n requests were answered, False at the deadline."""
        return bool(self.wait_for(lambda s: s._n_requests >= n, timeout))

    def _violation(self, rec, status, message):
        with self._cond:
            self._violations.append("%s %s -> %d: %s" % (rec.method, rec.path, status, message))

    # -- request handling (runs on the server's threads) -----------------------
    def _check_request(self, h, rec):
        """Applies the service's rules in its order; returns the decoded body or
        raises BadRequest. `is_violation` is set on the exception unless the
        rule is one a well-behaved client may hit (a refused token)."""
        body = h.read_body()
        rec.body_size = len(body)
        if h.command != "POST":
            raise BadRequest(405, "method %s not allowed" % h.command)
        paths = {"legacy": [self.ingest_path("legacy")], "edge": [self.ingest_path("edge")],
                 "any": [self.ingest_path("legacy"), self.ingest_path("edge")]}[self.path_style]
        if h.path not in paths:
            raise BadRequest(404, "path %s is not %s" % (h.path, " or ".join(paths)))
        auth = h.headers.get_all("Authorization") or []
        if len(auth) != 1:
            raise BadRequest(401, "%d Authorization headers" % len(auth))
        m = re.fullmatch(r"Bearer ([!-~]+)", auth[0])
        if not m:
            raise BadRequest(401, "Authorization is not 'Bearer <token>'")
        if m.group(1) != self.token:
            e = BadRequest(401, "invalid token")
            e.is_violation = False
            raise e
        if self.token.startswith("xapt-"):
            if h.path.startswith("/v1/ingest/"):
                raise BadRequest(403, "personal tokens are refused by the edge endpoint")
            if not h.headers.get("X-Axiom-Org-Id"):
                raise BadRequest(403, "personal token without X-Axiom-Org-Id")
        ct = h.headers.get_all("Content-Type") or []
        media = ct[0].split(";", 1)[0].strip().lower() if len(ct) == 1 else None
        if media != "application/x-ndjson":
            raise BadRequest(415, "Content-Type %r is not application/x-ndjson" % (ct,))
        ce = h.headers.get_all("Content-Encoding") or []
        if len(ce) > 1:
            raise BadRequest(415, "several Content-Encoding headers %r" % (ce,))
        enc = ce[0].strip().lower() if ce else None
        if enc == "zstd":
            body = _decompress_zstd(body, MAX_DECOMPRESSED_BYTES)
        elif enc == "gzip":
            body = _decompress_gzip(body, MAX_DECOMPRESSED_BYTES)
        elif enc is not None:
            raise BadRequest(415, "Content-Encoding %r is not zstd or gzip" % ce[0])
        rec.decoded_size = len(body)
        return body

    def _handle(self, h):
        rec = ReceivedRequest(time.monotonic(), time.time(), h.client_address,
                              h.command, h.path,
                              {k.lower(): v for k, v in h.headers.items()})
        events, lint, n = [], [], 0
        try:
            body = self._check_request(h, rec)
            if self.count_only:
                n = count_ndjson_lines(body)
            else:
                events, lint = parse_ndjson(body)
                n = len(events)
        except BadRequest as e:
            rec.status, rec.error = e.status, e.message
            if getattr(e, "is_violation", True):
                self._violation(rec, e.status, e.message)
            self._delay_answer()
            self._record(rec)
            h.answer(e.status, {}, _error_body(e.status, e.message))
            return
        rec.event_count = n
        if self.store:
            rec.events = events
        for msg in lint:
            self._violation(rec, 200, msg)

        with self._cond:
            canned = self._take_canned()
            status = canned.status if canned else 200
            headers = dict(canned.headers) if canned else {}
            failed = 0
            if 200 <= status < 300 and self._partial:
                failed = min(self._partial, n)
                self._partial = 0
        body_out = canned.body if canned and canned.body is not None else None
        if body_out is None:
            if 200 <= status < 300:
                failures = [{"error": "simulated failure", "timestamp": ev.get("_time")}
                            for ev in events[n - failed:]] if events else \
                           [{"error": "simulated failure", "timestamp": None}] * failed
                body_out = json.dumps({"ingested": n - failed, "failed": failed,
                                       "failures": failures,
                                       "processedBytes": rec.decoded_size}).encode()
            else:
                body_out = _error_body(status, "scripted answer")
        rec.status = status
        self._delay_answer()
        accepted = (n - failed) if 200 <= status < 300 else 0
        keep = self.store or self._on_events is not None
        self._record(rec, events[:accepted] if keep else None, accepted)
        h.answer(status, headers, body_out)

    def _delay_answer(self):
        with self._cond:
            d = self._delay
        if d > 0:
            self._stopping.wait(d)

    def _record(self, rec, accepted_events=None, accepted=0):
        with self._cond:
            self._n_requests += 1
            self._n_bytes += rec.body_size
            self._n_events += accepted
            if self.store:
                self._requests.append(rec)
                if accepted_events:
                    self._events.extend(accepted_events)
            if self._on_events is not None and accepted_events:
                try:
                    self._on_events(accepted_events)
                except Exception as e:  # noqa: BLE001 - reported, the server keeps serving
                    self._violations.append("%s %s: on_events callback raised %r"
                                            % (rec.method, rec.path, e))
            self._cond.notify_all()


def main(argv=None):
    ap = argparse.ArgumentParser(description="Local Axiom-compatible ingest receiver.")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--print-port", action="store_true",
                    help="print the bound port on stdout (and nothing else)")
    ap.add_argument("--count-only", action="store_true",
                    help="decompress and count lines, skip JSON parsing")
    ap.add_argument("--token", default="t")
    ap.add_argument("--dataset", default="ds")
    ap.add_argument("--path-style", default="any", choices=("legacy", "edge", "any"))
    args = ap.parse_args(argv)
    r = AxiomReceiver(token=args.token, dataset=args.dataset, path_style=args.path_style,
                      store=False, count_only=args.count_only, port=args.port)
    r.start()
    if args.print_port:
        sys.stdout.write("%d\n" % r.port)
        sys.stdout.flush()
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    r.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
