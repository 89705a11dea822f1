# SPDX-License-Identifier: MIT
"""Tests of the local Sentry receiver and the envelope checkers
(tests/support/sentry_receiver.py, tests/support/envelope_check).

The agent's Sentry scenarios trust these to refuse what Relay refuses and to
record exactly what was accepted. Here every public envelope in
conformance/sentry/envelopes/valid must parse, with our parser and with
@sentry/core's; hand-made broken envelopes must be refused for the right
reason; every HTTP rule is exercised with urllib, http.client or a raw socket;
scripted answers come back as scripted; and event payloads validate against
Relay's schema exactly where conformance/sentry/event-payloads/SCHEMA_CHECK.json
says they do. Runs alone with /usr/bin/python3; the node checks are skipped
when tests/support/envelope_check/node_modules is missing, unless
PLUME_REQUIRE_NODE=1 (then they fail).
"""

import glob
import gzip
import http.client
import json
import os
import socket
import sys
import threading
import time
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from http_client import post  # noqa: E402
import sentry_receiver as sr  # noqa: E402
from sentry_receiver import (EnvelopeError, EnvelopeTooLarge, SentryReceiver,  # noqa: E402
                             lint_envelope, node_check, parse_envelope, validate_event)

SENTRY_DIR = os.path.join(sr.conformance_dir(), "sentry")
VALID_DIR = os.path.join(SENTRY_DIR, "envelopes", "valid")
EID = "0123456789abcdef0123456789abcdef"
TRACE = "fedcba9876543210fedcba9876543210"
SENT_AT = "2026-11-21T10:00:00.123Z"
AUTH = "Sentry sentry_version=7, sentry_client=plume/0.1.0, sentry_key=k"


def plume_event(**kw):
    """An event shaped as PROTOCOLS.md describes a crash report."""
    ev = {
        "event_id": EID, "timestamp": "2026-11-21T10:00:00.123456Z", "platform": "native",
        "level": "fatal", "logger": "plume", "release": "svc@1.0", "environment": "test",
        "server_name": "node1", "tags": {"a": "b"}, "extra": {"n": 1}, "user": {"id": "u"},
        "contexts": {"os": {"type": "os", "name": "Linux"}, "device": {"type": "device", "arch": "x86_64"}},
        "breadcrumbs": {"values": [{"timestamp": "2026-11-21T09:59:59Z", "category": "log",
                                    "level": "info", "message": "m"}]},
        "exception": {"values": [{
            "type": "SIGSEGV", "value": "Segmentation fault",
            "mechanism": {"type": "signalhandler", "handled": False,
                          "meta": {"signal": {"number": 11, "name": "SIGSEGV"}}},
            "stacktrace": {"frames": [
                {"instruction_addr": "0x401000", "function": "main", "package": "/usr/bin/svc", "in_app": True},
                {"instruction_addr": "0x401234", "function": "crash", "in_app": True}]}}]},
        "debug_meta": {"images": [{
            "type": "elf", "code_file": "/usr/bin/svc", "image_addr": "0x400000", "image_size": 4096,
            "code_id": "e167c8d86d0468ac7be76655e7cbe8c0aa9ff0d4",
            "debug_id": "d8c867e1-046d-ac68-7be7-6655e7cbe8c0"}]},
    }
    ev.update(kw)
    return ev


def log_entry(i=0, **kw):
    e = {"timestamp": 1795255200.5 + i, "trace_id": TRACE, "level": "info", "body": "line %d" % i,
         "attributes": {"s": {"value": "x", "type": "string"}, "b": {"value": True, "type": "boolean"},
                        "i": {"value": 3, "type": "integer"}, "d": {"value": 1.5, "type": "double"}}}
    e.update(kw)
    return e


def item(type_, payload, length=True, **hdr):
    """One item: header line (with length unless length=False) and payload."""
    if not isinstance(payload, bytes):
        payload = json.dumps(payload).encode()
    h = {"type": type_}
    if length:
        h["length"] = len(payload)
    h.update(hdr)
    return json.dumps(h).encode() + b"\n" + payload + b"\n"


def event_item(ev=None):
    return item("event", plume_event() if ev is None else ev, content_type="application/json")


def log_item(entries, **hdr):
    h = {"content_type": sr.LOG_CONTENT_TYPE, "item_count": len(entries)}
    h.update(hdr)
    return item("log", {"items": entries}, **h)


def envelope(*items, header=None):
    h = {"event_id": EID, "sent_at": SENT_AT, "sdk": {"name": "plume", "version": "0.1.0"}}
    if header is not None:
        h = header
    return json.dumps(h).encode() + b"\n" + b"".join(items)


def good_headers(auth=AUTH, encoding="gzip"):
    h = {"X-Sentry-Auth": auth, "Content-Type": "application/x-sentry-envelope",
         "User-Agent": "plume/0.1.0"}
    if encoding:
        h["Content-Encoding"] = encoding
    return h


def valid_files():
    files = sorted(glob.glob(os.path.join(VALID_DIR, "*.envelope")))
    if len(files) < 15:
        raise AssertionError("expected the public envelopes in %s, found %d" % (VALID_DIR, len(files)))
    return files


def read(path):
    with open(path, "rb") as f:
        return f.read()


class ParseEnvelopeTest(unittest.TestCase):
    def assertInvalid(self, data, reason, exc=EnvelopeError):
        with self.assertRaises(exc) as cm:
            parse_envelope(data)
        self.assertRegex(str(cm.exception), reason)
        return cm.exception

    def test_every_public_valid_envelope_parses(self):
        for path in valid_files():
            with self.subTest(os.path.basename(path)):
                header, items = parse_envelope(read(path))
                with open(path[:-len(".envelope")] + ".expect.json") as f:
                    expect = json.load(f)
                self.assertIsInstance(header, dict)
                self.assertEqual([{"type": ih["type"], "payload_length": len(p)} for ih, p in items],
                                 expect["items"])

    def test_payload_bytes_and_hyphenated_header_event_id(self):
        header, items = parse_envelope(read(os.path.join(
            VALID_DIR, "sentry-cli-event-transaction-session-attachment.envelope")))
        self.assertEqual(header["event_id"], "22d00b3f-d1b1-4b5d-8d20-49d138cd8a9c")
        self.assertEqual(items[-1][1], b"some content")
        self.assertEqual(json.loads(items[0][1])["event_id"], "22d00b3fd1b14b5d8d2049d138cd8a9c")
        _, items = parse_envelope(read(os.path.join(VALID_DIR, "docs-two-items.envelope")))
        self.assertEqual(items[0][1], b"\xef\xbb\xbfHello\r\n", "a CRLF inside a sized payload is data")

    def test_plume_envelope_parses_and_lints_clean(self):
        data = envelope(event_item(), log_item([log_entry(i) for i in range(3)]),
                        item("attachment", b"\x00\x01\n\r\n", filename="core.txt"))
        header, items = parse_envelope(data)
        self.assertEqual([ih["type"] for ih, _ in items], ["event", "log", "attachment"])
        self.assertEqual(items[2][1], b"\x00\x01\n\r\n")
        self.assertEqual(lint_envelope(header, items), [])

    def test_wrong_length_too_long(self):
        self.assertInvalid(b'{}\n{"type":"attachment","length":10}\nabc\n',
                           r"item 0 \(attachment\) declares length 10 but only 4 bytes remain")

    def test_wrong_length_too_short(self):
        self.assertInvalid(b'{}\n{"type":"attachment","length":2}\nabc\n',
                           r"declared length 2 is followed by byte 0x63, not a newline")

    def test_missing_newline_after_payload(self):
        self.assertInvalid(b'{}\n{"type":"attachment","length":3}\nabc{"type":"attachment","length":0}\n',
                           r"item 0 \(attachment\) payload of declared length 3 is followed by byte 0x7b")

    def test_bad_lengths(self):
        for length in (-1, "3", True, 1.5, 1 << 32):
            with self.subTest(length=length):
                self.assertInvalid(b'{}\n{"type":"attachment","length":%s}\nabc\n' % json.dumps(length).encode(),
                                   "is not an unsigned 32-bit integer")

    def test_two_events(self):
        self.assertInvalid(envelope(event_item(), item("attachment", b"x"), event_item()),
                           r"two event items \(items 0 and 2\)")

    def test_two_logs(self):
        self.assertInvalid(envelope(log_item([log_entry()]), log_item([log_entry()])), r"two log items")

    def test_crlf(self):
        self.assertInvalid(b'{}\r\n{"type":"attachment","length":0}\n\n', r"envelope header at byte 0 ends with \\r\\n")
        self.assertInvalid(b'{}\n{"type":"attachment","length":0}\r\n\n', r"item 0 header at byte 3 ends with \\r\\n")
        self.assertInvalid(b'{}\n{"type":"attachment"}\r\nabc\r\n', r"item 0 header .* ends with \\r\\n")
        self.assertInvalid(b'{}\n{"type":"attachment"}\nabc\r\n', r"implicit-length payload ends with \\r\\n")

    def test_bad_json_headers(self):
        self.assertInvalid(b'{"event_id":}\n', r"envelope header at byte 0 is not valid JSON")
        self.assertInvalid(b'["event_id"]\n', r"envelope header at byte 0 is not a JSON object")
        self.assertInvalid(b'{}\n{"type":"event",}\n{}\n', r"item 0 header at byte 3 is not valid JSON")
        self.assertInvalid(b'{}\n{"length":2}\n{}\n', r'item 0 header has no string "type"')
        self.assertInvalid(b'{}\n\n', r"item 0 header at byte 3 is not valid JSON")
        self.assertInvalid(b'{"a":"\xff"}\n', r"envelope header at byte 0 is not valid UTF-8")
        self.assertInvalid(b"", r"empty envelope")

    def test_deep_nesting_is_refused_not_a_crash(self):
        self.assertInvalid(envelope(item("event", b"[" * 100000 + b"]" * 100000)),
                           r"item 0 \(event\) payload nests too deeply")

    def test_header_fields(self):
        self.assertInvalid(envelope(header={"event_id": "not-a-uuid"}), r"event_id 'not-a-uuid' is not a UUID")
        self.assertInvalid(envelope(header={"sent_at": "yesterday"}), r"sent_at: not an RFC 3339")
        parse_envelope(envelope(header={"sent_at": None, "event_id": None}))

    def test_event_payload_rules(self):
        self.assertInvalid(envelope(item("event", b"[1]")), r"item 0 \(event\) payload is not a JSON object")
        self.assertInvalid(envelope(item("event", b'{"a":NaN}')), r"item 0 \(event\) payload is not valid JSON")
        self.assertInvalid(envelope(event_item(plume_event(event_id="0123456789ABCDEF0123456789ABCDEF"))),
                           r"is not 32 lowercase hex digits")
        self.assertInvalid(envelope(event_item(plume_event(event_id="01234567-89ab-cdef-0123-456789abcdef"))),
                           r"is not 32 lowercase hex digits")
        self.assertInvalid(envelope(event_item(plume_event(event_id="f" * 32))),
                           r"event_id f{32} differs from the envelope header's %s" % EID)
        # No header event_id, or none in the payload: nothing to compare.
        parse_envelope(envelope(event_item(plume_event(event_id="f" * 32)), header={}))
        ev = plume_event()
        del ev["event_id"]
        parse_envelope(envelope(event_item(ev)))

    def test_log_item_rules(self):
        entries = [log_entry(i) for i in range(3)]
        self.assertInvalid(envelope(log_item(entries, item_count=2)),
                           r"item 0 \(log\) item_count 2 does not match its 3 entries")
        self.assertInvalid(envelope(item("log", {"items": entries}, content_type=sr.LOG_CONTENT_TYPE)),
                           r"item_count None does not match")
        self.assertInvalid(envelope(log_item(entries, item_count=True)), r"item_count True does not match")
        self.assertInvalid(envelope(log_item(entries, content_type="application/json")),
                           r"content_type 'application/json' is not application/vnd.sentry.items.log\+json")
        self.assertInvalid(envelope(item("log", [1], content_type=sr.LOG_CONTENT_TYPE, item_count=1)),
                           r'not an object with an "items" array')

    def test_item_size_limit(self):
        pad = sr.MAX_ITEM_BYTES - len(json.dumps(plume_event(pad="")))
        exact = plume_event(pad="a" * pad)
        self.assertEqual(len(json.dumps(exact)), sr.MAX_ITEM_BYTES)
        parse_envelope(envelope(event_item(exact)))
        self.assertInvalid(envelope(event_item(plume_event(pad="a" * (pad + 1)))),
                           r"item 0 \(event\) payload of 1048577 bytes exceeds 1048576", EnvelopeTooLarge)
        big_log = [log_entry(i, body="b" * 20000) for i in range(60)]
        self.assertInvalid(envelope(log_item(big_log)), r"item 0 \(log\) payload of \d+ bytes exceeds",
                           EnvelopeTooLarge)
        parse_envelope(envelope(item("attachment", b"a" * (sr.MAX_ITEM_BYTES + 1))))  # no per-item cap

    def test_envelope_size_limit(self):
        with mock.patch.object(sr, "MAX_ENVELOPE_BYTES", 1000):
            fixed = len(b"{}\n" + item("attachment", b"a" * 900))  # 3-digit length either way
            parse_envelope(b"{}\n" + item("attachment", b"a" * (900 + 1000 - fixed)))
            e = self.assertInvalid(b"{}\n" + item("attachment", b"a" * (900 + 1001 - fixed)),
                                   r"envelope of 1001 bytes exceeds 1000", EnvelopeTooLarge)
            self.assertEqual(e.status, 413)

    def test_errors_are_value_errors_with_status(self):
        with self.assertRaises(ValueError) as cm:
            parse_envelope(b"{")
        self.assertEqual(cm.exception.status, 400)

    def test_contract_lint(self):
        entries = [log_entry(i) for i in range(101)]
        bad = dict(log_entry(), trace_id="xyz", level="warning", body=None, timestamp="now",
                   attributes={"n": {"value": "1", "type": "integer"}, "t": {"value": 1, "type": "int"},
                               "f": {"value": True, "type": "double"}})
        data = envelope(item("event", b'{"a":1,"a":2}'), item("attachment", b"x", length=False),
                        log_item(entries[:100] + [bad]), header={"event_id": EID})
        lint = lint_envelope(*parse_envelope(data))
        text = "\n".join(lint)
        for want in ("envelope header has no sent_at", "item 1 (attachment) header has no length",
                     "item 0 (event): duplicate keys ['a']", "item 0 (event) has no event_id",
                     "item 2 (log) holds 101 logs, more than 100", "log 100 timestamp 'now'",
                     "log 100 trace_id 'xyz'", "log 100 level 'warning'", "log 100 body is not a string",
                     "attribute 'n' value '1' is not a integer", "attribute 't' is not",
                     "attribute 'f' value True is not a double"):
            self.assertIn(want, text)
        self.assertEqual(len(lint), 12, lint)


class NodeCheckTest(unittest.TestCase):
    def test_every_public_valid_envelope_passes_sentry_core(self):
        files = valid_files()
        results = node_check([read(p) for p in files])
        self.assertEqual(len(results), len(files))
        for path, r in zip(files, results):
            with self.subTest(os.path.basename(path)):
                self.assertTrue(r["ok"], r)
                header, items = parse_envelope(read(path))
                self.assertEqual(r["items"], [ih["type"] for ih, _ in items])
                self.assertEqual(r["event_id"], header.get("event_id"))
        noted = [r for r in results if r.get("notes")]
        self.assertTrue(all("parseEnvelope cannot read" in r["notes"][0] for r in noted))
        self.assertLess(len(noted), len(results), "some files are fully checked by @sentry/core")

    def test_plume_envelope_fully_checked(self):
        (r,) = node_check([envelope(event_item(), log_item([log_entry()]), item("attachment", b"\n\r\n"))])
        self.assertEqual(r, {"file": r["file"], "ok": True, "items": ["event", "log", "attachment"],
                             "event_id": EID})

    def test_refusals(self):
        cases = [
            (b'{}\n{"type":"attachment","length":10}\nabc\n', "declares length 10 but only 4 bytes remain"),
            (b'{}\n{"type":"attachment","length":2}\nabc\n', "followed by byte 0x63, not a newline"),
            (b'{}\r\n', "ends with \\r\\n"),
            (b'{"a":}\n', "envelope header at byte 0 is not valid JSON"),
            (b'{}\n{"length":0}\n\n', 'item 0 header has no string "type"'),
            (b'{}\n{"type":"event"}\n{"a":}\n', "item 0 (event) payload is not valid JSON"),
            (b'{}\n{"type":"session","length":3}\nabc\n', "item 0 (session) payload is not valid JSON"),
            (b"", "empty envelope"),
        ]
        results = node_check([c[0] for c in cases])
        for (data, reason), r in zip(cases, results):
            with self.subTest(data=data):
                self.assertFalse(r["ok"], r)
                self.assertIn(reason, r["error"])

    def test_unavailable_skips_or_fails_when_required(self):
        with mock.patch.object(sr, "NODE_CHECK_DIR", "/nonexistent/envelope_check"), \
                mock.patch.dict(os.environ, {"PLUME_REQUIRE_NODE": "0"}):
            with self.assertRaisesRegex(unittest.SkipTest, "node_modules is missing"):
                node_check([b"{}"])
            os.environ["PLUME_REQUIRE_NODE"] = "1"
            with self.assertRaisesRegex(RuntimeError, "PLUME_REQUIRE_NODE=1"):
                node_check([b"{}"])


class SchemaTest(unittest.TestCase):
    def test_payloads_validate_where_schema_check_says(self):
        with open(os.path.join(SENTRY_DIR, "event-payloads", "SCHEMA_CHECK.json")) as f:
            expect = json.load(f)
        self.assertGreater(len(expect), 30)
        valid = 0
        for rel, want in sorted(expect.items()):
            with self.subTest(rel):
                with open(os.path.join(SENTRY_DIR, rel)) as f:
                    errors = validate_event(json.load(f))
                self.assertEqual(errors == [], want["valid_against_event_schema"], errors[:3])
                valid += want["valid_against_event_schema"]
                if errors:
                    # Our first error names the same field or one that contains it.
                    want_path = want["first_error"].rsplit(" at ", 1)[1].split("/")
                    paths = [e.rsplit(" at ", 1)[1].split("/") for e in errors]
                    self.assertTrue(any(want_path[:len(p)] == p or p == [""] for p in paths),
                                    (want["first_error"], errors))
        self.assertTrue(0 < valid < len(expect))

    def test_plume_event_valid_and_broken_events_fail(self):
        self.assertEqual(validate_event(plume_event()), [])
        for key, value, reason in (("level", 5, "at level"), ("exception", "boom", "at exception"),
                                   ("nonsense", 1, "'nonsense' was unexpected"),
                                   ("breadcrumbs", [{"message": "m"}], "at breadcrumbs")):
            with self.subTest(key=key):
                errors = validate_event(plume_event(**{key: value}))
                self.assertEqual(len(errors), 1, errors)
                self.assertIn(reason, errors[0])
        ev = plume_event()
        ev["exception"]["values"][0]["stacktrace"]["frames"][0]["instruction_addr"] = []
        self.assertIn("at exception/values/0/stacktrace/frames/0/instruction_addr", validate_event(ev)[0])


class ReceiverTest(unittest.TestCase):
    def setUp(self):
        self.r = SentryReceiver().start()
        self.addCleanup(lambda: self.r.stop())  # self.r may be replaced by the test

    def send(self, body=None, headers=None, encoding="gzip", path=None, method="POST", r=None):
        r = r or self.r
        if body is None:
            body = envelope(event_item())
        if encoding == "gzip":
            body = gzip.compress(body)
        h = good_headers(encoding=encoding) if headers is None else headers
        return post(r.url + (path or r.envelope_path), body, h, method=method)

    def assertRefused(self, status, violation=True, reason=None, **kw):
        got, hdrs, body = self.send(**kw)
        self.assertEqual(got, status, body)
        self.assertEqual(hdrs["Content-Type"], "application/json")
        self.assertIsInstance(body, dict)
        self.assertIsInstance(body["detail"], str)
        if reason:
            self.assertRegex(body["detail"], reason)
        self.assertEqual(self.r.envelopes, [])
        self.assertEqual(len(self.r.violations), 1 if violation else 0, self.r.violations)
        self.assertEqual(self.r.requests[-1].status, status)
        return body

    # -- accepted -------------------------------------------------------------
    def test_accepts_gzip_and_records(self):
        data = envelope(event_item(), log_item([log_entry(0), log_entry(1)]))
        status, _, body = self.send(data)
        self.assertEqual((status, body), (200, {"id": EID}))
        (env,) = self.r.envelopes
        self.assertEqual(env.raw, data)
        header, items = env
        self.assertEqual(header["event_id"], EID)
        self.assertEqual(env.item_types(), ["event", "log"])
        self.assertEqual(self.r.events(), [plume_event()])
        self.assertEqual(self.r.logs(), [log_entry(0), log_entry(1)])
        (req,) = self.r.requests
        self.assertEqual(gzip.decompress(req.body), data)
        self.assertEqual((req.status, req.decoded, req.method), (200, data, "POST"))
        self.assertEqual(req.headers["x-sentry-auth"], AUTH)
        self.assertIs(env.request, req)
        self.assertEqual(self.r.violations, [])

    def test_accepts_uncompressed(self):
        status, _, body = self.send(envelope(event_item()), encoding=None)
        self.assertEqual((status, body), (200, {"id": EID}))
        self.assertEqual(len(self.r.envelopes), 1)

    def test_id_comes_from_the_event_without_header_id(self):
        status, _, body = self.send(envelope(event_item(), header={"sent_at": SENT_AT}))
        self.assertEqual(body, {"id": EID})
        status, _, body = self.send(envelope(log_item([log_entry()]), header={"sent_at": SENT_AT}))
        self.assertEqual((status, body), (200, {}))

    def test_dsn_and_path_prefix(self):
        self.assertEqual(self.r.dsn, "http://k@127.0.0.1:%d/42" % self.r.port)
        with SentryReceiver(public_key="pub", project_id="7", path_prefix="/sentry") as r:
            self.assertEqual(r.dsn, "http://pub@127.0.0.1:%d/sentry/7" % r.port)
            auth = AUTH.replace("sentry_key=k", "sentry_key=pub")
            self.assertEqual(self.send(r=r, headers=good_headers(auth))[0], 200)
            self.assertEqual(self.send(r=r, headers=good_headers(auth), path="/api/7/envelope/")[0], 404)
            self.assertEqual(len(r.envelopes), 1)
        with self.assertRaises(ValueError):
            SentryReceiver(path_prefix="sentry/")

    def test_auth_variants_accepted(self):
        for auth in ("Sentry sentry_key=k,sentry_version=7,sentry_client=plume/0.1.0",
                     "Sentry sentry_version=7, sentry_client=x/1, sentry_key=k, sentry_timestamp=1"):
            with self.subTest(auth=auth):
                self.assertEqual(self.send(headers=good_headers(auth))[0], 200)
        self.assertEqual(self.r.violations, [])

    def test_content_type_parameters_allowed(self):
        h = good_headers()
        h["Content-Type"] = "application/x-sentry-envelope; charset=utf-8"
        self.assertEqual(self.send(headers=h)[0], 200)

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.r.port, timeout=10)
        for _ in range(3):
            conn.request("POST", self.r.envelope_path, gzip.compress(envelope(event_item())), good_headers())
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            resp.read()
        conn.close()
        self.assertEqual(len({q.peer for q in self.r.requests}), 1)
        self.assertEqual(len(self.r.envelopes), 3)

    def test_expect_100_continue_and_chunked_body(self):
        raw = gzip.compress(envelope(event_item()))
        s = socket.create_connection(("127.0.0.1", self.r.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"POST /api/42/envelope/ HTTP/1.1\r\nHost: x\r\nX-Sentry-Auth: " + AUTH.encode() +
                  b"\r\nContent-Type: application/x-sentry-envelope\r\nContent-Encoding: gzip\r\n"
                  b"Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"HTTP/1.1 100"))
        self.assertEqual(f.readline(), b"\r\n")
        half = len(raw) // 2
        for part in (raw[:half], raw[half:]):
            s.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        self.assertTrue(f.readline().startswith(b"HTTP/1.1 200"))
        self.assertEqual(self.r.events(), [plume_event()])

    # -- refused ----------------------------------------------------------------
    def test_wrong_paths_404(self):
        for path in ("/api/43/envelope/", "/api/42/envelope", "/api/42/store/", "/42/api/42/envelope/",
                     "/api/42/envelope/?sentry_key=k"):
            with self.subTest(path=path):
                self.r.stop()
                self.r = SentryReceiver().start()
                self.assertRefused(404, path=path, reason="is not /api/42/envelope/")

    def test_methods_405(self):
        self.assertRefused(405, method="PUT", reason="method PUT")
        status, _, _ = post(self.r.envelope_url, None, method="GET")
        self.assertEqual(status, 405)

    def test_auth_refusals_401(self):
        cases = [
            (None, "0 X-Sentry-Auth headers"),
            ("Bearer k", "does not start with 'Sentry '"),
            ("Sentry sentry_version=7, sentry_client=plume/0.1.0, sentry_key", "is not key=value"),
            ("Sentry sentry_version=7, sentry_version=7, sentry_client=p, sentry_key=k", "repeats sentry_version"),
            ("Sentry sentry_version=6, sentry_client=plume/0.1.0, sentry_key=k", "sentry_version '6' is not 7"),
            ("Sentry sentry_client=plume/0.1.0, sentry_key=k", "sentry_version None is not 7"),
            ("Sentry sentry_version=7, sentry_key=k", "no sentry_client"),
            ("Sentry sentry_version=7, sentry_client=, sentry_key=k", "no sentry_client"),
            ("Sentry sentry_version=7, sentry_client=plume/0.1.0", "no sentry_key"),
        ]
        for auth, reason in cases:
            with self.subTest(auth=auth):
                self.r.stop()
                self.r = SentryReceiver().start()
                h = good_headers(auth or "")
                if auth is None:
                    del h["X-Sentry-Auth"]
                self.assertRefused(401, headers=h, reason=reason)

    def test_wrong_key_401_is_not_a_violation(self):
        self.assertRefused(401, violation=False, headers=good_headers(AUTH.replace("=k", "=other")),
                           reason="unknown public key 'other'")

    def test_content_type_415(self):
        for ct in ("application/json", "text/plain", None):
            with self.subTest(ct=ct):
                self.r.stop()
                self.r = SentryReceiver().start()
                if ct is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.r.port, timeout=10)
                    conn.putrequest("POST", self.r.envelope_path, skip_accept_encoding=True)
                    body = envelope(event_item())
                    for k, v in (("X-Sentry-Auth", AUTH), ("Content-Length", str(len(body)))):
                        conn.putheader(k, v)
                    conn.endheaders(body)
                    self.assertEqual(conn.getresponse().status, 415)
                    conn.close()
                    self.assertEqual(len(self.r.violations), 1)
                else:
                    h = good_headers()
                    h["Content-Type"] = ct
                    self.assertRefused(415, headers=h, reason="is not application/x-sentry-envelope")

    def test_content_encoding_415(self):
        for enc in ("br", "zstd", "deflate", "identity"):
            with self.subTest(enc=enc):
                self.r.stop()
                self.r = SentryReceiver().start()
                self.assertRefused(415, headers=good_headers(encoding=enc), reason="is not gzip or absent")

    def test_gzip_garbage_400(self):
        good = gzip.compress(envelope(event_item()))
        for body in (b"not gzip at all", good[:-6], good + b"junk", b""):
            with self.subTest(body=body[:10]):
                self.r.stop()
                self.r = SentryReceiver().start()
                self.assertRefused(400, body=body, encoding=None, headers=good_headers(), reason="gzip")

    def test_invalid_envelope_400_with_reason(self):
        bad = envelope(event_item(), event_item())
        self.assertRefused(400, body=bad, reason=r"invalid envelope: two event items")
        self.assertIsNone(self.r.requests[0].envelope)
        self.assertEqual(self.r.requests[0].decoded, bad)

    def test_oversize_item_413(self):
        self.assertRefused(413, body=envelope(event_item(plume_event(pad="a" * sr.MAX_ITEM_BYTES))),
                           reason="exceeds 1048576")

    def test_decompression_bomb_413(self):
        with mock.patch.object(sr, "MAX_ENVELOPE_BYTES", 1 << 20):
            self.assertRefused(413, body=envelope(item("attachment", b"a" * (2 << 20))), reason="exceeds")

    def test_oversized_body_413_without_reading_it(self):
        s = socket.create_connection(("127.0.0.1", self.r.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"POST /api/42/envelope/ HTTP/1.1\r\nHost: x\r\nX-Sentry-Auth: " + AUTH.encode() +
                  b"\r\nContent-Type: application/x-sentry-envelope\r\nContent-Length: %d\r\n\r\n"
                  % (sr.MAX_BODY_BYTES + 1))
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"HTTP/1.1 413"))
        self.assertIn(b"Connection: close", f.read())

    def test_missing_content_length_411(self):
        s = socket.create_connection(("127.0.0.1", self.r.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"POST /api/42/envelope/ HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(s.makefile("rb").readline().startswith(b"HTTP/1.1 411"))
        self.assertEqual(len(self.r.violations), 1)

    def test_contract_lint_is_a_violation_answered_200(self):
        status, _, _ = self.send(envelope(event_item(), item("attachment", b"abc", length=False)))
        self.assertEqual(status, 200)
        self.assertEqual(len(self.r.envelopes), 1)
        (v,) = self.r.violations
        self.assertIn("-> 200: item 1 (attachment) header has no length", v)
        self.r.lint_contract = False
        self.assertEqual(self.send(envelope(item("attachment", b"abc", length=False)))[0], 200)
        self.assertEqual(len(self.r.violations), 1)

    def test_public_valid_envelopes_accepted_over_http(self):
        self.r.lint_contract = False
        files = valid_files()
        for path in files:
            with self.subTest(os.path.basename(path)):
                self.assertEqual(self.send(read(path))[0], 200)
        self.assertEqual(len(self.r.envelopes), len(files))
        self.assertEqual(self.r.violations, [])

    # -- scripting ------------------------------------------------------------------
    def test_scripted_429_headers_are_returned(self):
        self.r.respond_with(429, {"X-Sentry-Rate-Limits": "60:error;log_item:organization:quota",
                                  "Retry-After": "60"}, times=2)
        self.r.respond_with(413)
        self.r.respond_with(500, body=b"")
        got = []
        for _ in range(5):
            status, hdrs, body = self.send()
            got.append((status, hdrs.get("X-Sentry-Rate-Limits"), hdrs.get("Retry-After"), body))
        rl = "60:error;log_item:organization:quota"
        self.assertEqual(got[:2], [(429, rl, "60", {"detail": "scripted answer 429"})] * 2)
        self.assertEqual(got[2], (413, None, None, {"detail": "scripted answer 413"}))
        self.assertEqual(got[3], (500, None, None, b""))
        self.assertEqual(got[4], (200, None, None, {"id": EID}))
        self.assertEqual(len(self.r.envelopes), 1, "non-2xx answers do not accept the envelope")
        self.assertEqual([q.status for q in self.r.requests], [429, 429, 413, 500, 200])
        self.assertEqual(self.r.violations, [])

    def test_rate_limit_helper_and_scripted_200_headers(self):
        self.r.rate_limit(retry_after=30)
        self.r.rate_limit("10::organization", status=200)
        status, hdrs, _ = self.send()
        self.assertEqual((status, hdrs["Retry-After"], hdrs.get("X-Sentry-Rate-Limits")), (429, "30", None))
        status, hdrs, body = self.send()
        self.assertEqual((status, hdrs["X-Sentry-Rate-Limits"], body), (200, "10::organization", {"id": EID}))
        self.assertEqual(len(self.r.envelopes), 1)

    def test_forever_and_clear(self):
        self.r.respond_with(503, body=b"down", times=None)
        for _ in range(3):
            self.assertEqual(self.send()[::2], (503, b"down"))
        self.r.clear_responses()
        self.assertEqual(self.send()[0], 200)

    def test_invalid_request_does_not_consume_canned_answer(self):
        self.r.respond_with(500)
        self.assertEqual(self.send(headers=good_headers(encoding="br"))[0], 415)
        self.assertEqual(self.send()[0], 500)

    def test_wait_for_envelopes_and_requests(self):
        t = time.monotonic()
        self.assertFalse(self.r.wait_for_envelopes(1, 0.2))
        self.assertGreaterEqual(time.monotonic() - t, 0.2)
        th = threading.Thread(target=lambda: [self.send() for _ in range(3)])
        th.start()
        self.assertTrue(self.r.wait_for_envelopes(3, 10))
        self.assertTrue(self.r.wait_for_requests(3, 10))
        th.join()
        self.assertFalse(self.r.wait_for_envelopes(4, 0.05))

    def test_validate_events(self):
        self.r.validate_events = True
        self.assertEqual(self.send()[0], 200)
        self.assertEqual(self.r.violations, [])
        status, _, _ = self.send(envelope(event_item(plume_event(level=5))))
        self.assertEqual(status, 200)
        (v,) = self.r.violations
        self.assertIn("does not match the schema", v)
        self.assertIn("at level", v)

    def test_node_check_all(self):
        self.send()
        self.send(envelope(log_item([log_entry()]), item("attachment", b"")))
        results = self.r.node_check_all()
        self.assertEqual([r["items"] for r in results], [["event"], ["log", "attachment"]])
        self.assertTrue(all(r["ok"] for r in results), results)
        self.assertEqual(self.r.violations, [])

    def test_receiver_bug_is_a_violation_and_500(self):
        with mock.patch.object(sr, "lint_envelope", side_effect=KeyError("boom")):
            self.assertEqual(self.send()[0], 500)
        (v,) = self.r.violations
        self.assertIn("receiver error KeyError('boom')", v)
        self.assertEqual(self.send()[0], 200, "the server keeps serving")
        with self.assertRaises(ValueError):
            self.r.respond_with(500, times=0)

    def test_stop_closes_keep_alive_connections(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.r.port, timeout=10)
        conn.request("POST", self.r.envelope_path, gzip.compress(envelope(event_item())), good_headers())
        conn.getresponse().read()
        self.r.stop()
        with self.assertRaises((ConnectionError, http.client.HTTPException, OSError)):
            conn.request("POST", self.r.envelope_path, gzip.compress(envelope(event_item())), good_headers())
            conn.getresponse()
        conn.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
